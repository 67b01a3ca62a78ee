/* googlenet.c: GoogLeNet (Inception v1) for CIFAR-10 as kuangliu defines
 * it: a 3x3 stem of 192 channels, nine inception modules (a3, b3; a4..e4;
 * a5, b5) with 3x3 stride 2 padded max pooling after b3 and e4, 8x8 average
 * pooling and a linear classifier. Every convolution has a bias and is
 * followed by batch norm and ReLU; the "5x5" branch is two 3x3 convolutions.
 * Branches are nn.Sequentials, so their parameters are numbered by position
 * ("a3.b2.3.weight"). */
#include <stdio.h>

#include "nn/models/models.h"

struct inception_cfg {
  const char *name;
  int n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_planes;
};

/* conv (with bias) -> batch norm -> relu, as Sequential entries conv, conv+1
 * (the relu is entry conv+2). */
static int conv_bn_relu(struct gm_nn_net *net, int x, int conv, int out,
                        int k) {
  char cn[16], bn[16];
  snprintf(cn, sizeof(cn), "%d", conv);
  snprintf(bn, sizeof(bn), "%d", conv + 1);
  x = gm_nn_conv2d(net, x, cn, out, k, 1, k / 2, 1, true);
  return gm_nn_relu(net, gm_nn_batchnorm(net, x, bn));
}

/* cat(b1(x), b2(x), b3(x), b4(x)) along channels. */
static int inception(struct gm_nn_net *net, int x,
                     const struct inception_cfg *c) {
  int y[4];
  gm_nn_scope_push(net, "%s", c->name);
  gm_nn_scope_push(net, "b1");
  y[0] = conv_bn_relu(net, x, 0, c->n1x1, 1);
  gm_nn_scope_pop(net);
  gm_nn_scope_push(net, "b2");
  y[1] = conv_bn_relu(net, x, 0, c->n3x3red, 1);
  y[1] = conv_bn_relu(net, y[1], 3, c->n3x3, 3);
  gm_nn_scope_pop(net);
  gm_nn_scope_push(net, "b3");
  y[2] = conv_bn_relu(net, x, 0, c->n5x5red, 1);
  y[2] = conv_bn_relu(net, y[2], 3, c->n5x5, 3);
  y[2] = conv_bn_relu(net, y[2], 6, c->n5x5, 3);
  gm_nn_scope_pop(net);
  gm_nn_scope_push(net, "b4"); /* entry 0 is the max pool */
  y[3] = gm_nn_maxpool(net, x, 3, 1, 1);
  y[3] = conv_bn_relu(net, y[3], 1, c->pool_planes, 1);
  gm_nn_scope_pop(net);
  gm_nn_scope_pop(net);
  return gm_nn_concat(net, y, 4);
}

enum gm_status gm__model_googlenet(struct gm_nn_net *net) {
  static const struct inception_cfg cfg[] = {
      {"a3", 64, 96, 128, 16, 32, 32},     {"b3", 128, 128, 192, 32, 96, 64},
      {"a4", 192, 96, 208, 16, 48, 64},    {"b4", 160, 112, 224, 24, 64, 64},
      {"c4", 128, 128, 256, 24, 64, 64},   {"d4", 112, 144, 288, 32, 64, 64},
      {"e4", 256, 160, 320, 32, 128, 128}, {"a5", 256, 160, 320, 32, 128, 128},
      {"b5", 384, 192, 384, 48, 128, 128},
  };
  gm_nn_scope_push(net, "pre_layers");
  int x = conv_bn_relu(net, gm_nn_input(net), 0, 192, 3);
  gm_nn_scope_pop(net);
  for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
    x = inception(net, x, &cfg[i]);
    if (i == 1 || i == 6) /* after b3 and e4 */
      x = gm_nn_maxpool(net, x, 3, 2, 1);
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 8, 1, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
