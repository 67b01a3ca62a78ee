/* densenet121.c: DenseNet-121 for CIFAR-10 as kuangliu defines it (growth
 * rate 32, blocks of 6, 12, 24 and 16 bottleneck layers, compression 0.5): a
 * 3x3 stem of 64 channels, dense blocks whose layers each append 32 new
 * channels in front of their input, transitions (batch norm, ReLU, 1x1
 * convolution, 2x2 average pooling) between blocks, then batch norm, ReLU,
 * 4x4 average pooling and a linear classifier. No convolution has a bias. */
#include "nn/models/models.h"

#define GROWTH 32

/* cat(conv2(relu(bn2(conv1(relu(bn1(x)))))), x): new channels first. */
static int bottleneck(struct gm_nn_net *net, int x) {
  int y = gm_nn_relu(net, gm_nn_batchnorm(net, x, "bn1"));
  y = gm_nn_conv2d(net, y, "conv1", 4 * GROWTH, 1, 1, 0, 1, false);
  y = gm_nn_relu(net, gm_nn_batchnorm(net, y, "bn2"));
  y = gm_nn_conv2d(net, y, "conv2", GROWTH, 3, 1, 1, 1, false);
  int parts[2] = {y, x};
  return gm_nn_concat(net, parts, 2);
}

static int dense(struct gm_nn_net *net, int x, int stage, int layers) {
  gm_nn_scope_push(net, "dense%d", stage);
  for (int i = 0; i < layers; i++) {
    gm_nn_scope_push(net, "%d", i);
    x = bottleneck(net, x);
    gm_nn_scope_pop(net);
  }
  gm_nn_scope_pop(net);
  return x;
}

/* avg_pool2d(conv(relu(bn(x))), 2) to floor(C * 0.5) channels. */
static int transition(struct gm_nn_net *net, int x, int stage) {
  int out = gm_nn_node_shape(net, x).c / 2;
  gm_nn_scope_push(net, "trans%d", stage);
  x = gm_nn_relu(net, gm_nn_batchnorm(net, x, "bn"));
  x = gm_nn_conv2d(net, x, "conv", out, 1, 1, 0, 1, false);
  gm_nn_scope_pop(net);
  return gm_nn_avgpool(net, x, 2, 2, 0);
}

enum gm_status gm__model_densenet121(struct gm_nn_net *net) {
  const int layers[4] = {6, 12, 24, 16};
  int x = gm_nn_conv2d(net, gm_nn_input(net), "conv1", 2 * GROWTH, 3, 1, 1, 1,
                       false);
  for (int stage = 1; stage <= 4; stage++) {
    x = dense(net, x, stage, layers[stage - 1]);
    if (stage < 4)
      x = transition(net, x, stage);
  }
  x = gm_nn_relu(net, gm_nn_batchnorm(net, x, "bn"));
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
