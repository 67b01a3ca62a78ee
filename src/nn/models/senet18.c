/* senet18.c: SENet-18 for CIFAR-10 as kuangliu defines it (SENet18() builds
 * SENet(PreActBlock, [2, 2, 2, 2])): a 3x3 stem with batch norm and ReLU,
 * four stages of two pre-activation blocks with squeeze-and-excitation (64,
 * 128, 256, 512 channels; stride 2 from the second stage), 4x4 average
 * pooling and a linear classifier. There is no batch norm after the last
 * block. */
#include "nn/models/models.h"

/* a = relu(bn1(x)); y = conv2(relu(bn2(conv1(a)))); the excitation
 * w = sigmoid(fc2(relu(fc1(avgpool(y))))), fc1 and fc2 1x1 convolutions with
 * bias squeezing to C/16 channels; out = y * w + shortcut, where the shortcut
 * is a 1x1 convolution of a (no batch norm) when the shape changes and x
 * itself otherwise. The shortcut convolution is added after conv2, where
 * PyTorch registers it; it depends only on a, so the function is the
 * same. */
static int se_preact_block(struct gm_nn_net *net, int x, int out, int stride) {
  int in = gm_nn_node_shape(net, x).c;
  int a = gm_nn_relu(net, gm_nn_batchnorm(net, x, "bn1"));
  int y = gm_nn_conv2d(net, a, "conv1", out, 3, stride, 1, 1, false);
  y = gm_nn_relu(net, gm_nn_batchnorm(net, y, "bn2"));
  y = gm_nn_conv2d(net, y, "conv2", out, 3, 1, 1, 1, false);
  int s = x;
  if (stride != 1 || in != out)
    s = gm_nn_conv2d(net, a, "shortcut.0", out, 1, stride, 0, 1, false);
  int w = gm_nn_global_avgpool(net, y);
  w = gm_nn_relu(net, gm_nn_conv2d(net, w, "fc1", out / 16, 1, 1, 0, 1, true));
  w = gm_nn_sigmoid(net, gm_nn_conv2d(net, w, "fc2", out, 1, 1, 0, 1, true));
  return gm_nn_add(net, gm_nn_mul_channel(net, y, w), s);
}

enum gm_status gm__model_senet18(struct gm_nn_net *net) {
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 64, 3, 1, 1, 1, true);
  const int planes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    for (int b = 0; b < 2; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = se_preact_block(net, x, planes[stage], stage > 0 && b == 0 ? 2 : 1);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
