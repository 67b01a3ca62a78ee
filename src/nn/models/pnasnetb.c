/* pnasnetb.c: PNASNet-B for CIFAR-10 (kuangliu/pytorch-cifar PNASNetB()): a
 * 3x3 stem of 32 channels, six B cells of 32 channels, a stride 2 cell to
 * 64, six cells of 64, a stride 2 cell to 128, six cells of 128, 8x8
 * average pooling and a linear classifier. The down-sampling cells
 * ("layer2", "layer4") are single modules, not sequences.
 *
 * What the reference calls a separable convolution is only a grouped KxK
 * convolution (groups = input channels, padding (K-1)/2, no bias) and batch
 * norm, without pointwise convolution or activation. A B cell adds two of
 * them (7x7, 3x3) on the left; on the right it adds a 3x3 max pool (padding
 * 1; at stride 2 followed by a 1x1 conv + batch norm to the new width) and a
 * 5x5 one; relu on both sums, concatenate (left first), 1x1 conv, batch
 * norm, relu. */
#include "nn/models/models.h"

static int sep_conv(struct gm_nn_net *net, int x, const char *name, int out,
                    int k, int stride) {
  int in = gm_nn_node_shape(net, x).c;
  gm_nn_scope_push(net, "%s", name);
  int y = gm__conv_bn(net, x, "conv1", "bn1", out, k, stride, (k - 1) / 2, in,
                      false);
  gm_nn_scope_pop(net);
  return y;
}

static int cell_b(struct gm_nn_net *net, int x, int out, int stride) {
  int y1 = sep_conv(net, x, "sep_conv1", out, 7, stride);
  int y2 = sep_conv(net, x, "sep_conv2", out, 3, stride);
  int y3 = gm_nn_maxpool(net, x, 3, stride, 1);
  if (stride == 2)
    y3 = gm__conv_bn(net, y3, "conv1", "bn1", out, 1, 1, 0, 1, false);
  int y4 = sep_conv(net, x, "sep_conv3", out, 5, stride);
  int parts[2];
  parts[0] = gm_nn_relu(net, gm_nn_add(net, y1, y2));
  parts[1] = gm_nn_relu(net, gm_nn_add(net, y3, y4));
  int y = gm_nn_concat(net, parts, 2);
  return gm__conv_bn(net, y, "conv2", "bn2", out, 1, 1, 0, 1, true);
}

static int cells(struct gm_nn_net *net, int x, const char *layer, int out) {
  gm_nn_scope_push(net, "%s", layer);
  for (int i = 0; i < 6; i++) {
    gm_nn_scope_push(net, "%d", i);
    x = cell_b(net, x, out, 1);
    gm_nn_scope_pop(net);
  }
  gm_nn_scope_pop(net);
  return x;
}

static int downsample(struct gm_nn_net *net, int x, const char *layer,
                      int out) {
  gm_nn_scope_push(net, "%s", layer);
  x = cell_b(net, x, out, 2);
  gm_nn_scope_pop(net);
  return x;
}

enum gm_status gm__model_pnasnetb(struct gm_nn_net *net) {
  const int planes = 32;
  int x = gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", planes, 3, 1, 1, 1,
                      true);
  x = cells(net, x, "layer1", planes);
  x = downsample(net, x, "layer2", 2 * planes);
  x = cells(net, x, "layer3", 2 * planes);
  x = downsample(net, x, "layer4", 4 * planes);
  x = cells(net, x, "layer5", 4 * planes);
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 8, 8, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
