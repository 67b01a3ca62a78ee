/* regnetx_200mf.c: RegNetX-200MF for CIFAR-10 (kuangliu/pytorch-cifar
 * RegNetX_200MF()): a 3x3 stem of 64 channels, four stages of 1/1/4/7
 * bottleneck blocks of widths 24/56/152/368 (first strides 1/1/2/2),
 * global average pooling and a linear classifier. Blocks: bottleneck ratio
 * 1 (the 3x3 runs at the output width), group width 8 (width / 8 groups),
 * no squeeze-excitation (se_ratio 0), a 1x1 conv + batch norm shortcut
 * where the shape changes, relu after the addition. */
#include "nn/models/models.h"

#define GROUP_WIDTH 8

static int block(struct gm_nn_net *net, int x, int out, int stride) {
  int in = gm_nn_node_shape(net, x).c;
  int groups = out / GROUP_WIDTH;
  int y = gm__conv_bn(net, x, "conv1", "bn1", out, 1, 1, 0, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", out, 3, stride, 1, groups, true);
  y = gm__conv_bn(net, y, "conv3", "bn3", out, 1, 1, 0, 1, false);
  int s = x;
  if (stride != 1 || in != out)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", out, 1, stride, 0, 1,
                    false);
  return gm_nn_relu(net, gm_nn_add(net, y, s));
}

enum gm_status gm__model_regnetx_200mf(struct gm_nn_net *net) {
  static const int depths[4] = {1, 1, 4, 7};
  static const int widths[4] = {24, 56, 152, 368};
  static const int strides[4] = {1, 1, 2, 2};
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 64, 3, 1, 1, 1, true);
  for (int stage = 0; stage < 4; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    for (int b = 0; b < depths[stage]; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = block(net, x, widths[stage], b == 0 ? strides[stage] : 1);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
  }
  x = gm_nn_flatten(net, gm_nn_global_avgpool(net, x));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
