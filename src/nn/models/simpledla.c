/* simpledla.c: SimpleDLA for CIFAR-10 (kuangliu/pytorch-cifar SimpleDLA(),
 * the simplified deep layer aggregation): three 3x3 conv-bn-relu stems
 * ("base", "layer1", "layer2": 16, 16, 32 channels), four aggregation trees
 * (64, 128, 256, 512 channels; levels 1, 2, 2, 1; strides 1, 2, 2, 2), 4x4
 * average pooling and a linear classifier.
 *
 * A tree of level 1 runs two residual basic blocks in sequence; one of level
 * n runs two trees of level n-1 in sequence. Its root concatenates the two
 * outputs (first, then second) and applies a 1x1 conv, batch norm and relu.
 * The reference registers the root before the subtrees; here its parameters
 * follow them, as it runs last. */
#include "nn/models/models.h"

/* relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) */
static int basic_block(struct gm_nn_net *net, int x, int out, int stride) {
  int in = gm_nn_node_shape(net, x).c;
  int y = gm__conv_bn(net, x, "conv1", "bn1", out, 3, stride, 1, 1, true);
  y = gm__conv_bn(net, y, "conv2", "bn2", out, 3, 1, 1, 1, false);
  int s = x;
  if (stride != 1 || in != out)
    s = gm__conv_bn(net, x, "shortcut.0", "shortcut.1", out, 1, stride, 0, 1,
                    false);
  return gm_nn_relu(net, gm_nn_add(net, y, s));
}

static int tree(struct gm_nn_net *net, int x, int out, int level, int stride) {
  int parts[2];
  gm_nn_scope_push(net, "left_tree");
  parts[0] = level == 1 ? basic_block(net, x, out, stride)
                        : tree(net, x, out, level - 1, stride);
  gm_nn_scope_pop(net);
  gm_nn_scope_push(net, "right_tree");
  parts[1] = level == 1 ? basic_block(net, parts[0], out, 1)
                        : tree(net, parts[0], out, level - 1, 1);
  gm_nn_scope_pop(net);
  int y = gm_nn_concat(net, parts, 2);
  return gm__conv_bn(net, y, "root.conv", "root.bn", out, 1, 1, 0, 1, true);
}

enum gm_status gm__model_simpledla(struct gm_nn_net *net) {
  int x = gm_nn_input(net);
  x = gm__conv_bn(net, x, "base.0", "base.1", 16, 3, 1, 1, 1, true);
  x = gm__conv_bn(net, x, "layer1.0", "layer1.1", 16, 3, 1, 1, 1, true);
  x = gm__conv_bn(net, x, "layer2.0", "layer2.1", 32, 3, 1, 1, 1, true);
  static const int out[4] = {64, 128, 256, 512};
  static const int level[4] = {1, 2, 2, 1};
  static const int stride[4] = {1, 2, 2, 2};
  for (int t = 0; t < 4; t++) {
    gm_nn_scope_push(net, "layer%d", t + 3);
    x = tree(net, x, out[t], level[t], stride[t]);
    gm_nn_scope_pop(net);
  }
  x = gm_nn_flatten(net, gm_nn_avgpool(net, x, 4, 4, 0));
  gm_nn_linear(net, x, "linear", 10, true);
  return gm_nn_net_status(net);
}
