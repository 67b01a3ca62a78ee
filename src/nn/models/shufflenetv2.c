/* shufflenetv2.c: ShuffleNetV2 (net_size 1) for CIFAR-10
 * (kuangliu/pytorch-cifar ShuffleNetV2(net_size=1)): a 3x3 stem of 24
 * channels (no max pool), three stages of one down-sampling block and 3/7/3
 * basic blocks (116, 232, 464 channels), a 1x1 convolution to 1024
 * channels, 4x4 average pooling and a linear classifier. Every block ends
 * with a channel shuffle in 2 groups. */
#include "nn/models/models.h"

/* Split the channels in halves; the first passes through, the second goes
 * 1x1-bn-relu, depthwise 3x3-bn, 1x1-bn-relu; concatenate (untouched half
 * first) and shuffle. */
static int basic_block(struct gm_nn_net *net, int x) {
  int c = gm_nn_node_shape(net, x).c;
  int half = c / 2; /* split ratio 0.5 */
  int x1 = gm_nn_slice(net, x, 0, half);
  int x2 = gm_nn_slice(net, x, half, c);
  int y = gm__conv_bn(net, x2, "conv1", "bn1", c - half, 1, 1, 0, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", c - half, 3, 1, 1, c - half, false);
  y = gm__conv_bn(net, y, "conv3", "bn3", c - half, 1, 1, 0, 1, true);
  int parts[2] = {x1, y};
  return gm_nn_shuffle(net, gm_nn_concat(net, parts, 2), 2);
}

/* Both branches read the whole input and halve the resolution; each gives
 * out/2 channels. Left: depthwise 3x3 s2-bn, 1x1-bn-relu. Right: 1x1-bn-relu,
 * depthwise 3x3 s2-bn, 1x1-bn-relu. Concatenate (left first) and shuffle. */
static int down_block(struct gm_nn_net *net, int x, int out) {
  int in = gm_nn_node_shape(net, x).c;
  int mid = out / 2;
  int l = gm__conv_bn(net, x, "conv1", "bn1", in, 3, 2, 1, in, false);
  l = gm__conv_bn(net, l, "conv2", "bn2", mid, 1, 1, 0, 1, true);
  int r = gm__conv_bn(net, x, "conv3", "bn3", mid, 1, 1, 0, 1, true);
  r = gm__conv_bn(net, r, "conv4", "bn4", mid, 3, 2, 1, mid, false);
  r = gm__conv_bn(net, r, "conv5", "bn5", mid, 1, 1, 0, 1, true);
  int parts[2] = {l, r};
  return gm_nn_shuffle(net, gm_nn_concat(net, parts, 2), 2);
}

enum gm_status gm__model_shufflenetv2(struct gm_nn_net *net) {
  static const int out[3] = {116, 232, 464};
  static const int blocks[3] = {3, 7, 3};
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 24, 3, 1, 1, 1, true);
  for (int stage = 0; stage < 3; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    gm_nn_scope_push(net, "0");
    x = down_block(net, x, out[stage]);
    gm_nn_scope_pop(net);
    for (int b = 1; b <= blocks[stage]; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = basic_block(net, x);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
  }
  x = gm__conv_bn(net, x, "conv2", "bn2", 1024, 1, 1, 0, 1, true);
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
