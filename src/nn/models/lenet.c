/* lenet.c: LeNet-5 for CIFAR-10: two 5x5 convolutions (with bias) and max
 * pooling, then three fully connected layers. */
#include "nn/models/models.h"

enum gm_status gm__model_lenet(struct gm_nn_net *net) {
  int x = gm_nn_input(net);
  x = gm_nn_relu(net, gm_nn_conv2d(net, x, "conv1", 6, 5, 1, 0, 1, true));
  x = gm_nn_maxpool(net, x, 2, 2, 0);
  x = gm_nn_relu(net, gm_nn_conv2d(net, x, "conv2", 16, 5, 1, 0, 1, true));
  x = gm_nn_maxpool(net, x, 2, 2, 0);
  x = gm_nn_flatten(net, x);
  x = gm_nn_relu(net, gm_nn_linear(net, x, "fc1", 120, true));
  x = gm_nn_relu(net, gm_nn_linear(net, x, "fc2", 84, true));
  gm_nn_linear(net, x, "fc3", 10, true);
  return gm_nn_net_status(net);
}
