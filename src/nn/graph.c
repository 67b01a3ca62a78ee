/* graph.c: network graphs: builders with shape inference, parameter and
 * buffer registries with PyTorch-style names, and the model
 * characteristics. See greenml/nn.h. */
#define _GNU_SOURCE
#include "nn/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define MAX_SCOPES 16

struct gm_nn_net {
  struct gm__nn_node *nodes;
  int n_nodes, cap_nodes;
  struct gm__nn_tensor_desc *params, *buffers;
  size_t n_params, cap_params, n_buffers, cap_buffers;
  char scopes[MAX_SCOPES][64];
  int n_scopes;
  enum gm_status status;
  char err[256];
};

static int failf(struct gm_nn_net *net, enum gm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(struct gm_nn_net *net, enum gm_status st, const char *fmt,
                 ...) {
  if (net->status == GM_OK) {
    net->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(net->err, sizeof(net->err), fmt, ap);
    va_end(ap);
  }
  return -1;
}

enum gm_status gm_nn_net_create(int c, int h, int w, struct gm_nn_net **out) {
  if (!out || c <= 0 || h <= 0 || w <= 0)
    return GM_ERR_INVALID_ARG;
  struct gm_nn_net *net = calloc(1, sizeof(*net));
  if (!net)
    return GM_ERR_NO_MEMORY;
  net->cap_nodes = 64;
  net->nodes = calloc((size_t)net->cap_nodes, sizeof(*net->nodes));
  if (!net->nodes) {
    free(net);
    return GM_ERR_NO_MEMORY;
  }
  struct gm__nn_node *in = &net->nodes[0];
  in->op = GM_NN_INPUT;
  in->shape = (struct gm_nn_shape){c, h, w};
  in->weight = in->bias_param = in->running_mean = in->running_var =
      in->batches = -1;
  net->n_nodes = 1;
  *out = net;
  return GM_OK;
}

void gm_nn_net_destroy(struct gm_nn_net *net) {
  if (!net)
    return;
  free(net->nodes);
  free(net->params);
  free(net->buffers);
  free(net);
}

enum gm_status gm_nn_net_status(const struct gm_nn_net *net) {
  return net->status;
}

const char *gm_nn_net_error(const struct gm_nn_net *net) {
  return net->err[0] ? net->err : "no error";
}

void gm_nn_scope_push(struct gm_nn_net *net, const char *fmt, ...) {
  if (net->n_scopes == MAX_SCOPES) {
    failf(net, GM_ERR_INVALID_ARG, "name scopes nested deeper than %d",
          MAX_SCOPES);
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(net->scopes[net->n_scopes], sizeof(net->scopes[0]), fmt, ap);
  va_end(ap);
  net->n_scopes++;
}

void gm_nn_scope_pop(struct gm_nn_net *net) {
  if (net->n_scopes == 0) {
    failf(net, GM_ERR_STATE, "name scope popped more than pushed");
    return;
  }
  net->n_scopes--;
}

/* "<scope>.<scope>.<name>.<suffix>" */
static void full_name(const struct gm_nn_net *net, const char *name,
                      const char *suffix, char *out, size_t size) {
  size_t len = 0;
  out[0] = '\0';
  for (int i = 0; i < net->n_scopes; i++)
    len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s.",
                            net->scopes[i]);
  if (len < size)
    snprintf(out + len, size - len, "%s%s%s", name, suffix[0] ? "." : "",
             suffix);
}

static int add_tensor(struct gm_nn_net *net, struct gm__nn_tensor_desc **arr,
                      size_t *n, size_t *cap, const char *name,
                      const char *suffix, int ndim, const int *dims,
                      size_t elem_bytes) {
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    struct gm__nn_tensor_desc *na = realloc(*arr, nc * sizeof(**arr));
    if (!na)
      return failf(net, GM_ERR_NO_MEMORY, "out of memory");
    *arr = na;
    *cap = nc;
  }
  struct gm__nn_tensor_desc *t = &(*arr)[*n];
  memset(t, 0, sizeof(*t));
  full_name(net, name, suffix, t->name, sizeof(t->name));
  t->ndim = ndim;
  t->numel = 1;
  for (int i = 0; i < ndim; i++) {
    t->dims[i] = dims[i];
    t->numel *= (size_t)dims[i];
  }
  t->bytes = t->numel * elem_bytes;
  t->node = net->n_nodes;
  return (int)(*n)++;
}

static int param(struct gm_nn_net *net, const char *name, const char *suffix,
                 int ndim, const int *dims, enum gm__nn_param_kind kind,
                 size_t fan_in) {
  int i = add_tensor(net, &net->params, &net->n_params, &net->cap_params, name,
                     suffix, ndim, dims, sizeof(float));
  if (i >= 0) {
    net->params[i].kind = kind;
    net->params[i].fan_in = fan_in;
  }
  return i;
}

static int buffer(struct gm_nn_net *net, const char *name, const char *suffix,
                  int ndim, const int *dims, size_t elem_bytes) {
  int i = add_tensor(net, &net->buffers, &net->n_buffers, &net->cap_buffers,
                     name, suffix, ndim, dims, elem_bytes);
  if (i >= 0)
    net->buffers[i].kind = GM__NN_STAT;
  return i;
}

/* Validates input ids and returns a fresh node (not yet counted), or NULL. */
static struct gm__nn_node *new_node(struct gm_nn_net *net, enum gm_nn_op op,
                                    const int *in, int n_in) {
  if (net->status != GM_OK)
    return NULL;
  if (n_in > GM_NN_MAX_INPUTS) {
    failf(net, GM_ERR_INVALID_ARG, "a layer takes at most %d inputs",
          GM_NN_MAX_INPUTS);
    return NULL;
  }
  for (int i = 0; i < n_in; i++)
    if (in[i] < 0 || in[i] >= net->n_nodes) {
      failf(net, GM_ERR_INVALID_ARG, "layer %d: input %d is not a node",
            net->n_nodes, in[i]);
      return NULL;
    }
  if (net->n_nodes == net->cap_nodes) {
    int nc = 2 * net->cap_nodes;
    struct gm__nn_node *nn = realloc(net->nodes, (size_t)nc * sizeof(*nn));
    if (!nn) {
      failf(net, GM_ERR_NO_MEMORY, "out of memory");
      return NULL;
    }
    net->nodes = nn;
    net->cap_nodes = nc;
  }
  struct gm__nn_node *n = &net->nodes[net->n_nodes];
  memset(n, 0, sizeof(*n));
  n->op = op;
  n->n_in = n_in;
  for (int i = 0; i < n_in; i++)
    n->in[i] = in[i];
  n->weight = n->bias_param = n->running_mean = n->running_var = n->batches =
      -1;
  n->shape = net->nodes[in[0]].shape;
  return n;
}

static int commit(struct gm_nn_net *net) {
  if (net->status != GM_OK)
    return -1;
  return net->n_nodes++;
}

int gm_nn_input(const struct gm_nn_net *net) {
  (void)net;
  return 0;
}

/* Output extent, or 0 when the window does not fit (C division truncates
 * toward zero, so the check cannot be left to the formula). */
static int out_size(int in, int k, int stride, int pad) {
  if (in + 2 * pad < k)
    return 0;
  return (in + 2 * pad - k) / stride + 1;
}

int gm_nn_conv2d(struct gm_nn_net *net, int x, const char *name,
                 int out_channels, int k, int stride, int pad, int groups,
                 bool bias) {
  struct gm__nn_node *n = new_node(net, GM_NN_CONV2D, &x, 1);
  if (!n)
    return -1;
  int in_c = n->shape.c;
  if (out_channels <= 0 || k <= 0 || stride <= 0 || pad < 0 || groups <= 0 ||
      in_c % groups || out_channels % groups)
    return failf(net, GM_ERR_INVALID_ARG,
                 "conv '%s': %d -> %d channels, k %d, stride %d, pad %d, "
                 "groups %d is not a valid convolution",
                 name, in_c, out_channels, k, stride, pad, groups);
  int oh = out_size(n->shape.h, k, stride, pad);
  int ow = out_size(n->shape.w, k, stride, pad);
  if (oh <= 0 || ow <= 0)
    return failf(net, GM_ERR_INVALID_ARG,
                 "conv '%s': a %dx%d input is smaller than its %dx%d kernel",
                 name, n->shape.h, n->shape.w, k, k);
  n->k = k;
  n->stride = stride;
  n->pad = pad;
  n->groups = groups;
  n->bias = bias;
  n->shape = (struct gm_nn_shape){out_channels, oh, ow};
  int wd[4] = {out_channels, in_c / groups, k, k};
  size_t fan = (size_t)(in_c / groups) * (size_t)k * (size_t)k;
  n->weight = param(net, name, "weight", 4, wd, GM__NN_WEIGHT, fan);
  if (bias)
    n->bias_param =
        param(net, name, "bias", 1, &out_channels, GM__NN_BIAS, fan);
  return commit(net);
}

int gm_nn_batchnorm(struct gm_nn_net *net, int x, const char *name) {
  struct gm__nn_node *n = new_node(net, GM_NN_BATCHNORM, &x, 1);
  if (!n)
    return -1;
  int c = n->shape.c;
  n->weight = param(net, name, "weight", 1, &c, GM__NN_BN_GAMMA, 0);
  n->bias_param = param(net, name, "bias", 1, &c, GM__NN_BN_BETA, 0);
  n->running_mean = buffer(net, name, "running_mean", 1, &c, sizeof(float));
  n->running_var = buffer(net, name, "running_var", 1, &c, sizeof(float));
  n->batches =
      buffer(net, name, "num_batches_tracked", 0, NULL, sizeof(int64_t));
  return commit(net);
}

int gm_nn_declare_conv2d(struct gm_nn_net *net, const char *name,
                         int in_channels, int out_channels, int k, int groups,
                         bool bias) {
  if (net->status != GM_OK)
    return -1;
  if (in_channels <= 0 || out_channels <= 0 || k <= 0 || groups <= 0 ||
      in_channels % groups || out_channels % groups)
    return failf(net, GM_ERR_INVALID_ARG,
                 "declared conv '%s': %d -> %d channels, k %d, groups %d", name,
                 in_channels, out_channels, k, groups);
  int wd[4] = {out_channels, in_channels / groups, k, k};
  size_t fan = (size_t)(in_channels / groups) * (size_t)k * (size_t)k;
  int w = param(net, name, "weight", 4, wd, GM__NN_WEIGHT, fan);
  if (w >= 0)
    net->params[w].node = -1;
  if (bias) {
    int b = param(net, name, "bias", 1, &out_channels, GM__NN_BIAS, fan);
    if (b >= 0)
      net->params[b].node = -1;
  }
  return net->status == GM_OK ? 0 : -1;
}

int gm_nn_declare_batchnorm(struct gm_nn_net *net, const char *name,
                            int channels) {
  if (net->status != GM_OK)
    return -1;
  if (channels <= 0)
    return failf(net, GM_ERR_INVALID_ARG, "declared batch norm '%s': %d", name,
                 channels);
  int ids[2] = {param(net, name, "weight", 1, &channels, GM__NN_BN_GAMMA, 0),
                param(net, name, "bias", 1, &channels, GM__NN_BN_BETA, 0)};
  int bufs[3] = {
      buffer(net, name, "running_mean", 1, &channels, sizeof(float)),
      buffer(net, name, "running_var", 1, &channels, sizeof(float)),
      buffer(net, name, "num_batches_tracked", 0, NULL, sizeof(int64_t))};
  for (int i = 0; i < 2; i++)
    if (ids[i] >= 0)
      net->params[ids[i]].node = -1;
  for (int i = 0; i < 3; i++)
    if (bufs[i] >= 0)
      net->buffers[bufs[i]].node = -1;
  return net->status == GM_OK ? 0 : -1;
}

static int unary(struct gm_nn_net *net, enum gm_nn_op op, int x) {
  if (!new_node(net, op, &x, 1))
    return -1;
  return commit(net);
}

int gm_nn_relu(struct gm_nn_net *net, int x) {
  return unary(net, GM_NN_RELU, x);
}

int gm_nn_sigmoid(struct gm_nn_net *net, int x) {
  return unary(net, GM_NN_SIGMOID, x);
}

int gm_nn_swish(struct gm_nn_net *net, int x) {
  return unary(net, GM_NN_SWISH, x);
}

static int pool(struct gm_nn_net *net, enum gm_nn_op op, int x, int k,
                int stride, int pad) {
  struct gm__nn_node *n = new_node(net, op, &x, 1);
  if (!n)
    return -1;
  if (k <= 0 || stride <= 0 || pad < 0 || 2 * pad > k)
    return failf(net, GM_ERR_INVALID_ARG,
                 "pool: k %d, stride %d, pad %d is not valid (pad <= k/2)", k,
                 stride, pad);
  int oh = out_size(n->shape.h, k, stride, pad);
  int ow = out_size(n->shape.w, k, stride, pad);
  if (oh <= 0 || ow <= 0)
    return failf(net, GM_ERR_INVALID_ARG,
                 "pool: a %dx%d input is smaller than the %dx%d window",
                 n->shape.h, n->shape.w, k, k);
  n->k = k;
  n->stride = stride;
  n->pad = pad;
  n->shape.h = oh;
  n->shape.w = ow;
  return commit(net);
}

int gm_nn_maxpool(struct gm_nn_net *net, int x, int k, int stride, int pad) {
  return pool(net, GM_NN_MAXPOOL, x, k, stride, pad);
}

int gm_nn_avgpool(struct gm_nn_net *net, int x, int k, int stride, int pad) {
  return pool(net, GM_NN_AVGPOOL, x, k, stride, pad);
}

int gm_nn_global_avgpool(struct gm_nn_net *net, int x) {
  struct gm__nn_node *n = new_node(net, GM_NN_GLOBAL_AVGPOOL, &x, 1);
  if (!n)
    return -1;
  n->shape.h = n->shape.w = 1;
  return commit(net);
}

int gm_nn_flatten(struct gm_nn_net *net, int x) {
  struct gm__nn_node *n = new_node(net, GM_NN_FLATTEN, &x, 1);
  if (!n)
    return -1;
  n->shape = (struct gm_nn_shape){n->shape.c * n->shape.h * n->shape.w, 1, 1};
  return commit(net);
}

int gm_nn_linear(struct gm_nn_net *net, int x, const char *name,
                 int out_features, bool bias) {
  struct gm__nn_node *n = new_node(net, GM_NN_LINEAR, &x, 1);
  if (!n)
    return -1;
  if (n->shape.h != 1 || n->shape.w != 1)
    return failf(net, GM_ERR_INVALID_ARG,
                 "linear '%s': input is %dx%dx%d; flatten it first", name,
                 n->shape.c, n->shape.h, n->shape.w);
  if (out_features <= 0)
    return failf(net, GM_ERR_INVALID_ARG, "linear '%s': %d outputs", name,
                 out_features);
  int wd[2] = {out_features, n->shape.c};
  size_t fan = (size_t)n->shape.c;
  n->bias = bias;
  n->shape.c = out_features;
  n->weight = param(net, name, "weight", 2, wd, GM__NN_WEIGHT, fan);
  if (bias)
    n->bias_param =
        param(net, name, "bias", 1, &out_features, GM__NN_BIAS, fan);
  return commit(net);
}

static int with_p(struct gm_nn_net *net, enum gm_nn_op op, int x, double p) {
  struct gm__nn_node *n = new_node(net, op, &x, 1);
  if (!n)
    return -1;
  if (!(p >= 0.0 && p < 1.0))
    return failf(net, GM_ERR_INVALID_ARG, "drop probability %g not in [0, 1)",
                 p);
  n->p = p;
  return commit(net);
}

int gm_nn_dropout(struct gm_nn_net *net, int x, double p) {
  return with_p(net, GM_NN_DROPOUT, x, p);
}

int gm_nn_drop_path(struct gm_nn_net *net, int x, double p) {
  return with_p(net, GM_NN_DROP_PATH, x, p);
}

static bool same_shape(struct gm_nn_shape a, struct gm_nn_shape b) {
  return a.c == b.c && a.h == b.h && a.w == b.w;
}

int gm_nn_add(struct gm_nn_net *net, int a, int b) {
  int in[2] = {a, b};
  struct gm__nn_node *n = new_node(net, GM_NN_ADD, in, 2);
  if (!n)
    return -1;
  struct gm_nn_shape sa = net->nodes[a].shape, sb = net->nodes[b].shape;
  if (!same_shape(sa, sb))
    return failf(net, GM_ERR_INVALID_ARG,
                 "add: shapes %dx%dx%d and %dx%dx%d differ", sa.c, sa.h, sa.w,
                 sb.c, sb.h, sb.w);
  return commit(net);
}

int gm_nn_mul_channel(struct gm_nn_net *net, int x, int s) {
  int in[2] = {x, s};
  struct gm__nn_node *n = new_node(net, GM_NN_MUL_CHANNEL, in, 2);
  if (!n)
    return -1;
  struct gm_nn_shape sx = net->nodes[x].shape, ss = net->nodes[s].shape;
  if (ss.c != sx.c || ss.h != 1 || ss.w != 1)
    return failf(net, GM_ERR_INVALID_ARG,
                 "channel multiply: scale is %dx%dx%d, expected %dx1x1", ss.c,
                 ss.h, ss.w, sx.c);
  return commit(net);
}

int gm_nn_concat(struct gm_nn_net *net, const int *xs, int n_in) {
  if (n_in < 1)
    return failf(net, GM_ERR_INVALID_ARG, "concat of nothing");
  struct gm__nn_node *n = new_node(net, GM_NN_CONCAT, xs, n_in);
  if (!n)
    return -1;
  int c = 0;
  for (int i = 0; i < n_in; i++) {
    struct gm_nn_shape s = net->nodes[xs[i]].shape;
    if (s.h != n->shape.h || s.w != n->shape.w)
      return failf(net, GM_ERR_INVALID_ARG,
                   "concat: input %d is %dx%d, the first is %dx%d", i, s.h, s.w,
                   n->shape.h, n->shape.w);
    c += s.c;
  }
  n->shape.c = c;
  return commit(net);
}

int gm_nn_slice(struct gm_nn_net *net, int x, int c0, int c1) {
  struct gm__nn_node *n = new_node(net, GM_NN_SLICE, &x, 1);
  if (!n)
    return -1;
  if (c0 < 0 || c1 <= c0 || c1 > n->shape.c)
    return failf(net, GM_ERR_INVALID_ARG,
                 "slice: channels [%d, %d) of %d is not a range", c0, c1,
                 n->shape.c);
  n->c0 = c0;
  n->c1 = c1;
  n->shape.c = c1 - c0;
  return commit(net);
}

int gm_nn_shuffle(struct gm_nn_net *net, int x, int groups) {
  struct gm__nn_node *n = new_node(net, GM_NN_SHUFFLE, &x, 1);
  if (!n)
    return -1;
  if (groups <= 0 || n->shape.c % groups)
    return failf(net, GM_ERR_INVALID_ARG, "shuffle: %d channels in %d groups",
                 n->shape.c, groups);
  n->groups = groups;
  return commit(net);
}

/* ---- inspection ------------------------------------------------------------
 */

int gm_nn_node_count(const struct gm_nn_net *net) { return net->n_nodes; }

enum gm_nn_op gm_nn_node_op(const struct gm_nn_net *net, int id) {
  return net->nodes[id].op;
}

struct gm_nn_shape gm_nn_node_shape(const struct gm_nn_net *net, int id) {
  return net->nodes[id].shape;
}

int gm_nn_output(const struct gm_nn_net *net) { return net->n_nodes - 1; }

const struct gm__nn_node *gm__nn_node(const struct gm_nn_net *net, int id) {
  return id >= 0 && id < net->n_nodes ? &net->nodes[id] : NULL;
}

const struct gm__nn_tensor_desc *gm__nn_param(const struct gm_nn_net *net,
                                              size_t i) {
  return i < net->n_params ? &net->params[i] : NULL;
}

const struct gm__nn_tensor_desc *gm__nn_buffer(const struct gm_nn_net *net,
                                               size_t i) {
  return i < net->n_buffers ? &net->buffers[i] : NULL;
}

size_t gm_nn_param_count(const struct gm_nn_net *net) { return net->n_params; }

const char *gm_nn_param_name(const struct gm_nn_net *net, size_t i, int *ndim,
                             int dims[4]) {
  if (i >= net->n_params)
    return NULL;
  const struct gm__nn_tensor_desc *t = &net->params[i];
  if (ndim)
    *ndim = t->ndim;
  if (dims)
    for (int d = 0; d < 4; d++)
      dims[d] = d < t->ndim ? t->dims[d] : 0;
  return t->name;
}

size_t gm_nn_buffer_count(const struct gm_nn_net *net) {
  return net->n_buffers;
}

const char *gm_nn_buffer_name(const struct gm_nn_net *net, size_t i,
                              size_t *bytes) {
  if (i >= net->n_buffers)
    return NULL;
  if (bytes)
    *bytes = net->buffers[i].bytes;
  return net->buffers[i].name;
}

enum gm_status gm_nn_net_stats(const struct gm_nn_net *net,
                               struct gm_nn_stats *out) {
  if (!net || !out)
    return GM_ERR_INVALID_ARG;
  if (net->status != GM_OK)
    return net->status;
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < net->n_params; i++) {
    out->params += net->params[i].numel;
    out->param_bytes += net->params[i].bytes;
  }
  out->trainable_params = out->params;
  for (size_t i = 0; i < net->n_buffers; i++)
    out->buffer_bytes += net->buffers[i].bytes;
  out->size_bytes = out->param_bytes + out->buffer_bytes;
  for (int id = 1; id < net->n_nodes; id++) {
    const struct gm__nn_node *n = &net->nodes[id];
    const struct gm_nn_shape in = net->nodes[n->in[0]].shape;
    if (n->op == GM_NN_CONV2D)
      out->macs += (uint64_t)n->shape.c * (uint64_t)n->shape.h *
                   (uint64_t)n->shape.w * (uint64_t)(in.c / n->groups) *
                   (uint64_t)n->k * (uint64_t)n->k;
    else if (n->op == GM_NN_LINEAR)
      out->macs += (uint64_t)in.c * (uint64_t)n->shape.c;
  }
  out->macs_per_param =
      out->params ? (double)out->macs / (double)out->params : 0.0;
  return GM_OK;
}
