/* resnext29_2x64d.c: ResNeXt-29 (2x64d) for CIFAR-10 as kuangliu defines
 * it: a 1x1 stem of 64 channels with batch norm and ReLU, three stages of
 * three bottleneck blocks with cardinality 2 (group widths 128, 256, 512,
 * doubling per stage; outputs twice the group width; stride 2 from the
 * second stage), 8x8 average pooling and a linear classifier. */
#include "nn/models/models.h"

#define CARDINALITY 2

/* relu(bn3(conv3(relu(bn2(gconv2(relu(bn1(conv1(x)))))))) + shortcut(x)),
 * the shortcut a 1x1 convolution + batch norm where the shape changes. */
static int block(struct gm_nn_net *net, int x, int group_width, int stride) {
  int in = gm_nn_node_shape(net, x).c, out = 2 * group_width;
  int y = gm__conv_bn(net, x, "conv1", "bn1", group_width, 1, 1, 0, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", group_width, 3, stride, 1,
                  CARDINALITY, true);
  y = gm__conv_bn(net, y, "conv3", "bn3", out, 1, 1, 0, 1, false);
  int s = x;
  if (stride != 1 || in != out)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", out, 1, stride, 0, 1,
                    false);
  return gm_nn_relu(net, gm_nn_add(net, y, s));
}

enum gm_status gm__model_resnext29_2x64d(struct gm_nn_net *net) {
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 64, 1, 1, 0, 1, true);
  int width = 64; /* bottleneck width, doubled after each stage */
  for (int stage = 0; stage < 3; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    for (int b = 0; b < 3; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = block(net, x, CARDINALITY * width, stage > 0 && b == 0 ? 2 : 1);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
    width *= 2;
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 8, 8, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
