/* nn.h: networks as graphs of layers, and the model zoo.
 *
 * A network is built by appending layers to a graph; every builder call
 * returns the id of the new node (>= 0) or -1. Errors are sticky: after the
 * first failure every later call returns -1 and gm_nn_net_status() reports
 * the first error, so model definitions read as plain sequences of calls.
 * Shapes are inferred as layers are added (per sample: channels, height,
 * width; the batch dimension is left to the backends). Parameters carry
 * PyTorch-style names ("layer1.0.conv1.weight") built from a scope stack, so
 * weights can be exchanged with PyTorch by name.
 *
 * Counting conventions (the model characteristics of the paper):
 *   params        sum of the elements of all parameters (all trainable)
 *   param_bytes   4 bytes per parameter (float32)
 *   buffer_bytes  batch norm running mean and variance (4 bytes each per
 *                 channel) plus one int64 batch counter per batch norm
 *   size_bytes    param_bytes + buffer_bytes
 *   macs          conv: output elements x in_channels/groups x kh x kw;
 *                 linear: in_features x out_features; nothing else.
 */
#ifndef GREENML_NN_H
#define GREENML_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/status.h"

enum gm_nn_op {
  GM_NN_INPUT,
  GM_NN_CONV2D,
  GM_NN_BATCHNORM,
  GM_NN_RELU,
  GM_NN_SIGMOID,
  GM_NN_SWISH,
  GM_NN_MAXPOOL,
  GM_NN_AVGPOOL,
  GM_NN_GLOBAL_AVGPOOL,
  GM_NN_LINEAR,
  GM_NN_FLATTEN,
  GM_NN_DROPOUT,
  GM_NN_DROP_PATH,
  GM_NN_ADD,
  GM_NN_MUL_CHANNEL,
  GM_NN_CONCAT,
  GM_NN_SLICE,
  GM_NN_SHUFFLE
};

/* Per-sample shape: channels x height x width (a vector is C x 1 x 1). */
struct gm_nn_shape {
  int c, h, w;
};

struct gm_nn_stats {
  uint64_t params;
  uint64_t trainable_params;
  uint64_t param_bytes;
  uint64_t buffer_bytes;
  uint64_t size_bytes;
  uint64_t macs; /* for one sample */
  double macs_per_param;
};

struct gm_nn_net;

/* A network whose input (node 0) is c x h x w. *out is owned by the caller:
 * gm_nn_net_destroy. */
GM_API enum gm_status gm_nn_net_create(int c, int h, int w,
                                       struct gm_nn_net **out);
GM_API void gm_nn_net_destroy(struct gm_nn_net *net); /* NULL is a no-op */
/* GM_OK, or the first builder error (then gm_nn_net_error says what). */
GM_API enum gm_status gm_nn_net_status(const struct gm_nn_net *net);
GM_API const char *gm_nn_net_error(const struct gm_nn_net *net);

/* Name scopes: push "layer1", then "0", gives "layer1.0.<name>". The
 * component is printf-formatted and at most 63 bytes. */
GM_API void gm_nn_scope_push(struct gm_nn_net *net, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
GM_API void gm_nn_scope_pop(struct gm_nn_net *net);

/* ---- builders: each returns the new node id, or -1 -------------------- */

GM_API int gm_nn_input(const struct gm_nn_net *net); /* always 0 */
/* Square kernel k, stride, symmetric zero padding, groups dividing both
 * channel counts. Parameters "<name>.weight" (out, in/groups, k, k) and,
 * with bias, "<name>.bias" (out). */
GM_API int gm_nn_conv2d(struct gm_nn_net *net, int x, const char *name,
                        int out_channels, int k, int stride, int pad,
                        int groups, bool bias);
/* Batch norm over channels: "<name>.weight", "<name>.bias" (C); buffers
 * running_mean, running_var (C) and num_batches_tracked. eps 1e-5,
 * momentum 0.1. */
GM_API int gm_nn_batchnorm(struct gm_nn_net *net, int x, const char *name);
GM_API int gm_nn_relu(struct gm_nn_net *net, int x);
GM_API int gm_nn_sigmoid(struct gm_nn_net *net, int x);
GM_API int gm_nn_swish(struct gm_nn_net *net, int x); /* x * sigmoid(x) */
/* Pools with square windows; average pooling counts padding (PyTorch's
 * count_include_pad=True); output size floor((H + 2p - k) / s) + 1. */
GM_API int gm_nn_maxpool(struct gm_nn_net *net, int x, int k, int stride,
                         int pad);
GM_API int gm_nn_avgpool(struct gm_nn_net *net, int x, int k, int stride,
                         int pad);
GM_API int gm_nn_global_avgpool(struct gm_nn_net *net, int x); /* C x 1 x 1 */
/* Fully connected on a C x 1 x 1 input: "<name>.weight" (out, in) and,
 * with bias, "<name>.bias" (out). */
GM_API int gm_nn_linear(struct gm_nn_net *net, int x, const char *name,
                        int out_features, bool bias);
GM_API int gm_nn_flatten(struct gm_nn_net *net, int x); /* CHW -> (CHW)x1x1 */
/* Dropout with probability p in training, identity in evaluation. */
GM_API int gm_nn_dropout(struct gm_nn_net *net, int x, double p);
/* Stochastic depth (EfficientNet's drop connect): in training each sample
 * is zeroed with probability p and the rest scaled by 1/(1-p). */
GM_API int gm_nn_drop_path(struct gm_nn_net *net, int x, double p);
GM_API int gm_nn_add(struct gm_nn_net *net, int a, int b); /* same shape */
/* x (C x H x W) times s (C x 1 x 1), per channel (squeeze-excitation). */
GM_API int gm_nn_mul_channel(struct gm_nn_net *net, int x, int s);
/* Concatenation along channels; all inputs share H x W. */
GM_API int gm_nn_concat(struct gm_nn_net *net, const int *xs, int n);
/* Channels [c0, c1) of x. */
GM_API int gm_nn_slice(struct gm_nn_net *net, int x, int c0, int c1);
/* Channel shuffle with g groups (C divisible by g). */
GM_API int gm_nn_shuffle(struct gm_nn_net *net, int x, int groups);

/* Parameters (and buffers) of a layer that exists in the reference model
 * but never runs (EfficientNetB0's unexpanded blocks): they count in the
 * model's size and parameters, add no node and no MACs, and are never
 * updated by the optimiser (PyTorch's SGD skips parameters without a
 * gradient). Return 0, or -1 on error. */
GM_API int gm_nn_declare_conv2d(struct gm_nn_net *net, const char *name,
                                int in_channels, int out_channels, int k,
                                int groups, bool bias);
GM_API int gm_nn_declare_batchnorm(struct gm_nn_net *net, const char *name,
                                   int channels);

/* ---- inspection ---------------------------------------------------------- */

GM_API int gm_nn_node_count(const struct gm_nn_net *net);
GM_API enum gm_nn_op gm_nn_node_op(const struct gm_nn_net *net, int id);
GM_API struct gm_nn_shape gm_nn_node_shape(const struct gm_nn_net *net, int id);
/* The last node added is the output. */
GM_API int gm_nn_output(const struct gm_nn_net *net);

GM_API size_t gm_nn_param_count(const struct gm_nn_net *net);
/* Name (borrowed, valid while net lives), number of dimensions and sizes. */
GM_API const char *gm_nn_param_name(const struct gm_nn_net *net, size_t i,
                                    int *ndim, int dims[4]);
GM_API size_t gm_nn_buffer_count(const struct gm_nn_net *net);
/* Buffers: "<bn>.running_mean", "<bn>.running_var" (float32, C) and
 * "<bn>.num_batches_tracked" (int64, ndim 0). *bytes is the size in bytes. */
GM_API const char *gm_nn_buffer_name(const struct gm_nn_net *net, size_t i,
                                     size_t *bytes);

GM_API enum gm_status gm_nn_net_stats(const struct gm_nn_net *net,
                                      struct gm_nn_stats *out);

/* ---- the zoo ---------------------------------------------------------------
 */

GM_API size_t gm_nn_zoo_count(void);
GM_API const char *gm_nn_zoo_name(size_t i); /* "ResNet18" */
/* Builds the named model (case-insensitive) for 3x32x32 inputs and 10
 * classes. GM_ERR_NOT_FOUND for an unknown name. *out owned by the caller. */
GM_API enum gm_status gm_nn_zoo_build(const char *name, struct gm_nn_net **out);

#endif
