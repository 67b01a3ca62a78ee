/* mobilenetv2.c: MobileNetV2 for CIFAR-10 (kuangliu/pytorch-cifar
 * MobileNetV2()): a 3x3 stem of 32 channels at stride 1, 17 inverted
 * residual blocks (1x1 expansion, 3x3 depthwise, linear 1x1 projection; the
 * first two strides of the ImageNet network set to 1 for 32x32 inputs), a
 * 1x1 convolution to 1280 channels, 4x4 average pooling and a linear
 * classifier. The blocks are one nn.Sequential, "layers.0" to "layers.16". */
#include "nn/models/models.h"

/* Stride 1: bn3(conv3(...)) + shortcut(x), the shortcut an identity when the
 * width is kept and a 1x1 conv + batch norm otherwise. Stride 2: no
 * residual at all. */
static int block(struct gm_nn_net *net, int x, int out, int expansion,
                 int stride) {
  int in = gm_nn_node_shape(net, x).c;
  int planes = expansion * in;
  int y = gm__conv_bn(net, x, "conv1", "bn1", planes, 1, 1, 0, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", planes, 3, stride, 1, planes, true);
  y = gm__conv_bn(net, y, "conv3", "bn3", out, 1, 1, 0, 1, false);
  if (stride != 1)
    return y;
  int s = x;
  if (in != out)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", out, 1, 1, 0, 1, false);
  return gm_nn_add(net, y, s);
}

enum gm_status gm__model_mobilenetv2(struct gm_nn_net *net) {
  /* expansion, output channels, blocks, stride of the first block */
  static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 1}, {6, 32, 3, 2},
                                {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
                                {6, 320, 1, 1}};
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 32, 3, 1, 1, 1, true);
  int idx = 0;
  gm_nn_scope_push(net, "layers");
  for (int s = 0; s < 7; s++)
    for (int b = 0; b < cfg[s][2]; b++) {
      gm_nn_scope_push(net, "%d", idx++);
      x = block(net, x, cfg[s][1], cfg[s][0], b == 0 ? cfg[s][3] : 1);
      gm_nn_scope_pop(net);
    }
  gm_nn_scope_pop(net);
  x = gm__conv_bn(net, x, "conv2", "bn2", 1280, 1, 1, 0, 1, true);
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
