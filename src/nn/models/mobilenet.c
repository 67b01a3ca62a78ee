/* mobilenet.c: MobileNet (v1) for CIFAR-10 as kuangliu defines it: a 3x3
 * stem of 32 channels, 13 depthwise separable blocks (3x3 depthwise
 * convolution, then 1x1 pointwise convolution, each with batch norm and
 * ReLU; stride 2 at 128, 256, 512 and 1024 channels), 2x2 average pooling
 * and a linear classifier. No convolution has a bias. */
#include "nn/models/models.h"

enum gm_status gm__model_mobilenet(struct gm_nn_net *net) {
  static const struct {
    int out, stride;
  } cfg[] = {{64, 1},  {128, 2},  {128, 1}, {256, 2}, {256, 1},
             {512, 2}, {512, 1},  {512, 1}, {512, 1}, {512, 1},
             {512, 1}, {1024, 2}, {1024, 1}};
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 32, 3, 1, 1, 1, true);
  gm_nn_scope_push(net, "layers");
  for (int i = 0; i < (int)(sizeof(cfg) / sizeof(cfg[0])); i++) {
    int in = gm_nn_node_shape(net, x).c;
    gm_nn_scope_push(net, "%d", i);
    x = gm__conv_bn(net, x, "conv1", "bn1", in, 3, cfg[i].stride, 1, in, true);
    x = gm__conv_bn(net, x, "conv2", "bn2", cfg[i].out, 1, 1, 0, 1, true);
    gm_nn_scope_pop(net);
  }
  gm_nn_scope_pop(net);
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 2, 2, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
