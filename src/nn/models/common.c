/* common.c: pieces shared by several zoo models. */
#include "nn/models/models.h"

int gm__conv_bn(struct gm_nn_net *net, int x, const char *conv, const char *bn,
                int out, int k, int stride, int pad, int groups, bool relu) {
  int y = gm_nn_conv2d(net, x, conv, out, k, stride, pad, groups, false);
  y = gm_nn_batchnorm(net, y, bn);
  return relu ? gm_nn_relu(net, y) : y;
}
