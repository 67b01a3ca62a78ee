/* efficientnetb0.c: EfficientNet-B0 for CIFAR-10 (kuangliu/pytorch-cifar
 * EfficientNetB0()): a 3x3 stem of 32 channels at stride 1 with swish, 16
 * MBConv blocks (1x1 expansion, depthwise 3x3 or 5x5, squeeze-excitation,
 * linear 1x1 projection), global average pooling, dropout 0.2 (training
 * only) and a linear classifier. The blocks are one nn.Sequential,
 * "layers.0" to "layers.15".
 *
 * Squeeze-excitation squeezes to int(0.25 x the block's input channels), not
 * of the expanded ones: avgpool, 1x1 conv (bias), swish, 1x1 conv (bias),
 * sigmoid, channel scale. A block has a residual (identity) connection only
 * when its stride is 1 and its width is kept; there is no projection
 * shortcut. The reference sets a drop-connect rate 0.2 x b / 16 for block b
 * but never advances b, so every block gets rate 0 and the residual branch
 * is never dropped; the schedule is kept below as the reference has it. */
#include "nn/models/models.h"

#define DROP_CONNECT_RATE 0.2
#define DROPOUT_RATE 0.2
#define N_BLOCKS 16

static int squeeze_excite(struct gm_nn_net *net, int x, int squeezed) {
  int c = gm_nn_node_shape(net, x).c;
  gm_nn_scope_push(net, "se");
  int w = gm_nn_global_avgpool(net, x);
  w = gm_nn_swish(net, gm_nn_conv2d(net, w, "se1", squeezed, 1, 1, 0, 1, true));
  w = gm_nn_sigmoid(net, gm_nn_conv2d(net, w, "se2", c, 1, 1, 0, 1, true));
  gm_nn_scope_pop(net);
  return gm_nn_mul_channel(net, x, w);
}

static int block(struct gm_nn_net *net, int x, int out, int k, int stride,
                 int expansion, double drop_rate) {
  int in = gm_nn_node_shape(net, x).c;
  int planes = expansion * in;
  int y = x;
  if (expansion != 1) {
    y = gm_nn_conv2d(net, x, "conv1", planes, 1, 1, 0, 1, false);
    y = gm_nn_swish(net, gm_nn_batchnorm(net, y, "bn1"));
  } else {
    /* The reference creates conv1 and bn1 in every block but runs them
     * only when expanding: declared, they count as parameters and buffers
     * but add no computation. */
    gm_nn_declare_conv2d(net, "conv1", in, planes, 1, 1, false);
    gm_nn_declare_batchnorm(net, "bn1", planes);
  }
  y = gm_nn_conv2d(net, y, "conv2", planes, k, stride, (k - 1) / 2, planes,
                   false);
  y = gm_nn_swish(net, gm_nn_batchnorm(net, y, "bn2"));
  y = squeeze_excite(net, y, (int)(in * 0.25));
  y = gm__conv_bn(net, y, "conv3", "bn3", out, 1, 1, 0, 1, false);
  if (stride != 1 || in != out)
    return y;
  if (drop_rate > 0.0)
    y = gm_nn_drop_path(net, y, drop_rate);
  return gm_nn_add(net, y, x);
}

enum gm_status gm__model_efficientnetb0(struct gm_nn_net *net) {
  /* expansion, output channels, blocks, kernel, stride of the first block */
  static const int cfg[7][5] = {
      {1, 16, 1, 3, 1},  {6, 24, 2, 3, 2},  {6, 40, 2, 5, 2}, {6, 80, 3, 3, 2},
      {6, 112, 3, 5, 1}, {6, 192, 4, 5, 2}, {6, 320, 1, 3, 1}};
  int x = gm_nn_conv2d(net, gm_nn_input(net), "conv1", 32, 3, 1, 1, 1, false);
  x = gm_nn_swish(net, gm_nn_batchnorm(net, x, "bn1"));
  const int b = 0; /* the reference's block counter, never incremented */
  int idx = 0;
  gm_nn_scope_push(net, "layers");
  for (int s = 0; s < 7; s++)
    for (int i = 0; i < cfg[s][2]; i++) {
      gm_nn_scope_push(net, "%d", idx++);
      x = block(net, x, cfg[s][1], cfg[s][3], i == 0 ? cfg[s][4] : 1, cfg[s][0],
                DROP_CONNECT_RATE * b / N_BLOCKS);
      gm_nn_scope_pop(net);
    }
  gm_nn_scope_pop(net);
  x = gm_nn_flatten(net, gm_nn_global_avgpool(net, x));
  x = gm_nn_dropout(net, x, DROPOUT_RATE);
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
