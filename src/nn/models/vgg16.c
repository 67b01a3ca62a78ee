/* vgg16.c: VGG-16 for CIFAR-10 (kuangliu/pytorch-cifar VGG('VGG16')): 13
 * 3x3 convolutions (with bias), each followed by batch norm and ReLU, in five
 * groups closed by 2x2 max pooling, a 1x1 stride 1 average pool (an
 * identity, kept as in the reference) and one linear classifier. The feature
 * extractor is one nn.Sequential, so its parameters are numbered by position
 * ("features.0.weight", "features.1.weight", ...). */
#include <stdio.h>

#include "nn/models/models.h"

#define POOL 0 /* a 2x2 max pool in the configuration */

enum gm_status gm__model_vgg16(struct gm_nn_net *net) {
  static const int cfg[] = {64,   64,  POOL, 128, 128,  POOL, 256, 256, 256,
                            POOL, 512, 512,  512, POOL, 512,  512, 512, POOL};
  int x = gm_nn_input(net);
  int idx = 0; /* position in the Sequential */
  char conv[32], bn[32];
  gm_nn_scope_push(net, "features");
  for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
    if (cfg[i] == POOL) {
      x = gm_nn_maxpool(net, x, 2, 2, 0);
      idx++;
      continue;
    }
    snprintf(conv, sizeof(conv), "%d", idx);
    snprintf(bn, sizeof(bn), "%d", idx + 1);
    x = gm_nn_conv2d(net, x, conv, cfg[i], 3, 1, 1, 1, true);
    x = gm_nn_relu(net, gm_nn_batchnorm(net, x, bn));
    idx += 3; /* conv, batch norm, relu */
  }
  x = gm_nn_avgpool(net, x, 1, 1, 0);
  gm_nn_scope_pop(net);
  x = gm_nn_flatten(net, x);
  gm_nn_linear(net, x, "classifier", 10, true);
  return gm_nn_net_status(net);
}
