/* dpn26.c: DPN-26 for CIFAR-10 (kuangliu/pytorch-cifar DPN26()): a 3x3 stem
 * of 64 channels, four stages of two dual path blocks (bottleneck widths
 * 96/192/384/768 with 32-group 3x3 convolutions, residual widths
 * 256/512/1024/2048, dense increments 16/32/24/128; stride 2 from the second
 * stage), 4x4 average pooling and a linear classifier on 2048 + 3 x 128
 * channels.
 *
 * A block's output has res + dense channels: the first res are added to the
 * first res channels of the shortcut (the residual path), the rest of the
 * shortcut and then the new dense channels are concatenated behind them
 * (the densely connected path), so the width grows by dense per block. */
#include "nn/models/models.h"

/* relu(cat(s[:res] + y[:res], s[res:], y[res:])), y the bottleneck output and
 * s the shortcut: a 1x1 conv + batch norm in the first block of a stage,
 * the input itself otherwise. */
static int block(struct gm_nn_net *net, int x, int width, int res, int dense,
                 int stride, bool first) {
  int y = gm__conv_bn(net, x, "conv1", "bn1", width, 1, 1, 0, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", width, 3, stride, 1, 32, true);
  y = gm__conv_bn(net, y, "conv3", "bn3", res + dense, 1, 1, 0, 1, false);
  int s = x;
  if (first)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", res + dense, 1, stride,
                    0, 1, false);
  int sc = gm_nn_node_shape(net, s).c;
  int parts[3];
  parts[0] =
      gm_nn_add(net, gm_nn_slice(net, s, 0, res), gm_nn_slice(net, y, 0, res));
  parts[1] = gm_nn_slice(net, s, res, sc);
  parts[2] = gm_nn_slice(net, y, res, res + dense);
  return gm_nn_relu(net, gm_nn_concat(net, parts, 3));
}

enum gm_status gm__model_dpn26(struct gm_nn_net *net) {
  static const int width[4] = {96, 192, 384, 768};
  static const int res[4] = {256, 512, 1024, 2048};
  static const int dense[4] = {16, 32, 24, 128};
  int x =
      gm__conv_bn(net, gm_nn_input(net), "conv1", "bn1", 64, 3, 1, 1, 1, true);
  for (int stage = 0; stage < 4; stage++) {
    gm_nn_scope_push(net, "layer%d", stage + 1);
    for (int b = 0; b < 2; b++) {
      gm_nn_scope_push(net, "%d", b);
      x = block(net, x, width[stage], res[stage], dense[stage],
                stage > 0 && b == 0 ? 2 : 1, b == 0);
      gm_nn_scope_pop(net);
    }
    gm_nn_scope_pop(net);
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
