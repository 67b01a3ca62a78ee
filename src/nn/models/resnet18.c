/* resnet18.c: ResNet-18 for CIFAR-10: a 3x3 stem (no max pool), four stages
 * of two basic blocks (64, 128, 256, 512 channels; stride 2 from the second
 * stage), a 1x1 convolution + batch norm shortcut where the shape changes,
 * 4x4 average pooling and a linear classifier. */
#include "nn/models/models.h"

/* relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) */
static int basic_block(struct gm_nn_net *net, int x, int out, int stride) {
  int in = gm_nn_node_shape(net, x).c;
  int y = gm__conv_bn(net, x, "conv1", "bn1", out, 3, stride, 1, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", out, 3, 1, 1, 1, false);
  int s = x;
  if (stride != 1 || in != out)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", out, 1, stride, 0, 1,
                    false);
  return gm_nn_relu(net, gm_nn_add(net, y, s));
}

enum gm_status gm__model_resnet18(struct gm_nn_net *net) {
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 64, 3, 1, 1, 1, true);
  const int planes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    for (int b = 0; b < 2; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = basic_block(net, x, planes[stage], stage > 0 && b == 0 ? 2 : 1);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
