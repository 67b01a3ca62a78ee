/* ref.c: the reference backend: plain C11, single-threaded, written to be
 * read. It is the oracle of every other backend's tests, so each operator is
 * a direct transcription of its definition (PyTorch's semantics, NCHW,
 * float32 storage); sums are accumulated in double.
 *
 * Memory: everything (parameters, gradients, momentum buffers, running
 * statistics, batch counters, the activations and gradients of every node
 * for max_batch samples, and the caches of the backward pass) lives in one
 * block allocated at create; forward, backward and sgd_step allocate
 * nothing.
 *
 * Random masks, so that other backends can reproduce them: for node id the
 * generator is gm__rng_seed(seed + id * 0x9E3779B97F4A7C15) (wrapping);
 * dropout draws one gm__rng_uniform per element of the n samples in NCHW
 * order, drop path one per sample; an element (sample) is kept when the
 * draw is below 1 - p (PyTorch's bernoulli_(1 - p)). Kept elements are
 * scaled by 1 / (1 - p): dropout multiplies by (float)(1 / (1 - p)),
 * drop path divides by (float)(1 - p) (kuangliu's drop_connect).
 *
 * Precision (engine.h): in bf16 the operands of every convolution and
 * linear layer are rounded to bfloat16 (gm_nn_bf16_round) into scratch
 * copies before the unchanged float32 kernels read them: forward the input
 * activations and the weights; backward the output gradient, the input
 * activations (for the weight gradient) and the weights (for the input
 * gradient). A product of two bfloat16 values is exact in float32 and
 * they are summed in double here, where bf16 hardware sums in float32: the
 * result is the float32-accumulated one up to the accumulation's own
 * rounding. Biases, outputs and gradients written stay float32, as do the
 * parameters (the master weights), the momentum, the statistics and every
 * other operator. In fp32 no copy is made and nothing is rounded. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "nn/backend.h"

#define BN_EPS 1e-5
#define BN_MOMENTUM 0.1
#define ALIGN 64

/* What the ref backend keeps for one node. */
struct node_mem {
  float *y;  /* output activations: max_batch x numel */
  float *dy; /* gradient of the loss with respect to y, same size */
  /* batch norm: the batch mean and 1/sqrt(var + eps) per channel of the
   * last training forward */
  double *mean, *invstd;
  int32_t *arg; /* max pool: offset in the input plane of each maximum */
  float *mask;  /* dropout: per element; drop path: per sample (0 or 1) */
};

enum last_forward { NO_FORWARD, TRAINING_FORWARD, EVAL_FORWARD };

struct ref {
  const struct gm_nn_net *net;
  int n_nodes, max_batch;
  size_t n_tensors, n_buffers; /* parameter tensors, buffers */
  size_t n_pf, n_sf;           /* floats of parameters, of statistics */
  size_t *poff;                /* offset of each parameter tensor */
  long *soff;                  /* offset of each buffer (-1: counter) */
  float *p, *g, *mom;          /* parameters, gradients, momentum */
  bool *has_mom;               /* per tensor: momentum buffer set */
  float *stats;                /* running means and variances */
  int64_t *batches;            /* per buffer: num_batches_tracked */
  struct node_mem *mem;        /* per node */
  double *acc;                 /* convolution sums: the largest plane */
  int *taps;                   /* convolution tap ranges: 4 x largest k */
  /* bf16 only (else NULL): rounded copies of a convolution's or linear
   * layer's input activations, weights and output gradient */
  bool bf16;
  float *rx, *rw, *rdy;
  int n; /* batch size of the last forward */
  enum last_forward last;
  bool have_grads;
  void *block;
  char err[256];
};

/* ---- small helpers --------------------------------------------------- */

static size_t numel(struct gm_nn_shape s) {
  return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

static const struct gm__nn_node *node(const struct ref *r, int id) {
  return gm__nn_node(r->net, id);
}

static struct gm_nn_shape shape_of(const struct ref *r, int id) {
  return node(r, id)->shape;
}

static float *param(struct ref *r, int tensor) {
  return r->p + r->poff[tensor];
}

static float *grad(struct ref *r, int tensor) { return r->g + r->poff[tensor]; }

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---- memory: one block, carved twice (measure, then assign) ---------- */

struct carver {
  char *base; /* NULL while measuring */
  size_t used;
  bool overflow;
};

static void *carve(struct carver *cv, size_t count, size_t size) {
  size_t off = (cv->used + ALIGN - 1) / ALIGN * ALIGN;
  if (off < cv->used || (size && count > (SIZE_MAX - off) / size)) {
    cv->overflow = true;
    return NULL;
  }
  cv->used = off + count * size;
  return cv->base && !cv->overflow ? cv->base + off : NULL;
}

static void layout(struct ref *r, struct carver *cv) {
  const size_t mb = (size_t)r->max_batch;
  r->poff = carve(cv, r->n_tensors, sizeof(size_t));
  r->soff = carve(cv, r->n_buffers, sizeof(long));
  r->p = carve(cv, r->n_pf, sizeof(float));
  r->g = carve(cv, r->n_pf, sizeof(float));
  r->mom = carve(cv, r->n_pf, sizeof(float));
  r->has_mom = carve(cv, r->n_tensors, sizeof(bool));
  r->stats = carve(cv, r->n_sf, sizeof(float));
  r->batches = carve(cv, r->n_buffers, sizeof(int64_t));
  r->mem = carve(cv, (size_t)r->n_nodes, sizeof(struct node_mem));
  size_t plane = 1;
  for (int id = 0; id < r->n_nodes; id++) {
    struct gm_nn_shape s = node(r, id)->shape;
    if ((size_t)s.h * (size_t)s.w > plane)
      plane = (size_t)s.h * (size_t)s.w;
  }
  r->acc = carve(cv, plane, sizeof(double));
  int max_k = 1;
  for (int id = 0; id < r->n_nodes; id++)
    if (node(r, id)->op == GM_NN_CONV2D)
      max_k = imax(max_k, node(r, id)->k);
  r->taps = carve(cv, 4 * (size_t)max_k, sizeof(int));
  if (r->bf16) {
    size_t in_max = 0, w_max = 0, out_max = 0;
    for (int id = 1; id < r->n_nodes; id++) {
      const struct gm__nn_node *nd = node(r, id);
      if (nd->op != GM_NN_CONV2D && nd->op != GM_NN_LINEAR)
        continue;
      size_t in = numel(node(r, nd->in[0])->shape), out = numel(nd->shape);
      size_t w = gm__nn_param(r->net, (size_t)nd->weight)->numel;
      in_max = in > in_max ? in : in_max;
      out_max = out > out_max ? out : out_max;
      w_max = w > w_max ? w : w_max;
    }
    if ((in_max && mb > SIZE_MAX / in_max) ||
        (out_max && mb > SIZE_MAX / out_max)) {
      cv->overflow = true;
      return;
    }
    r->rx = carve(cv, mb * in_max, sizeof(float));
    r->rw = carve(cv, w_max, sizeof(float));
    r->rdy = carve(cv, mb * out_max, sizeof(float));
  }
  for (int id = 0; id < r->n_nodes; id++) {
    const struct gm__nn_node *nd = node(r, id);
    size_t ne = numel(nd->shape);
    if (ne && mb > SIZE_MAX / ne) {
      cv->overflow = true;
      return;
    }
    struct node_mem m = {0};
    m.y = carve(cv, mb * ne, sizeof(float));
    m.dy = carve(cv, mb * ne, sizeof(float));
    if (nd->op == GM_NN_BATCHNORM) {
      m.mean = carve(cv, (size_t)nd->shape.c, sizeof(double));
      m.invstd = carve(cv, (size_t)nd->shape.c, sizeof(double));
    } else if (nd->op == GM_NN_MAXPOOL) {
      m.arg = carve(cv, mb * ne, sizeof(int32_t));
    } else if (nd->op == GM_NN_DROPOUT) {
      m.mask = carve(cv, mb * ne, sizeof(float));
    } else if (nd->op == GM_NN_DROP_PATH) {
      m.mask = carve(cv, mb, sizeof(float));
    }
    if (r->mem)
      r->mem[id] = m;
  }
}

/* ---- lifetime -------------------------------------------------------- */

static void ref_destroy(void *self) {
  struct ref *r = self;
  if (!r)
    return;
  free(r->block);
  free(r);
}

static enum gm_status ref_create(const struct gm_nn_net *net,
                                 const struct gm_nn_engine_config *cfg,
                                 void **self, char *err, size_t err_size) {
  enum gm_status rc = GM_OK;
  struct ref *r = calloc(1, sizeof(*r));
  if (!r) {
    rc = GM_ERR_NO_MEMORY;
    if (err)
      gm__fmt(err, err_size, "ref backend: out of memory");
    goto fail;
  }
  r->net = net;
  r->n_nodes = gm_nn_node_count(net);
  r->max_batch = cfg->max_batch;
  r->bf16 = cfg->precision == GM_NN_BF16;
  r->n_tensors = gm_nn_param_count(net);
  r->n_buffers = gm_nn_buffer_count(net);
  r->n_pf = gm__nn_param_floats(net);
  r->n_sf = gm__nn_stat_floats(net);
  for (int id = 1; id < r->n_nodes; id++) {
    /* max-pool arg-max offsets are int32 */
    struct gm_nn_shape is = shape_of(r, node(r, id)->in[0]);
    if ((size_t)is.h * (size_t)is.w > INT32_MAX) {
      rc = GM_ERR_INVALID_ARG;
      if (err)
        gm__fmt(err, err_size, "ref backend: node %d: %dx%d planes too large",
                id, is.h, is.w);
      goto fail;
    }
  }
  struct carver cv = {0};
  layout(r, &cv);
  if (cv.overflow) {
    rc = GM_ERR_NO_MEMORY;
    if (err)
      gm__fmt(err, err_size,
              "ref backend: the memory for max_batch %d overflows size_t",
              r->max_batch);
    goto fail;
  }
  r->block = calloc(1, cv.used ? cv.used : 1);
  if (!r->block) {
    rc = GM_ERR_NO_MEMORY;
    if (err)
      gm__fmt(err, err_size,
              "ref backend: cannot allocate %zu bytes for max_batch %d",
              cv.used, r->max_batch);
    goto fail;
  }
  cv = (struct carver){.base = r->block};
  layout(r, &cv);
  for (size_t t = 0; t < r->n_tensors; t++)
    r->poff[t] = gm__nn_param_offset(net, t);
  for (size_t b = 0; b < r->n_buffers; b++)
    r->soff[b] = gm__nn_stat_offset(net, b);
  *self = r;
  return GM_OK;
fail:
  ref_destroy(r);
  return rc;
}

/* ---- host copies ----------------------------------------------------- */

static enum gm_status ref_set_params(void *self, const float *src) {
  struct ref *r = self;
  if (r->n_pf)
    memcpy(r->p, src, r->n_pf * sizeof(float));
  return GM_OK;
}

static enum gm_status ref_get_params(void *self, float *dst) {
  struct ref *r = self;
  if (r->n_pf)
    memcpy(dst, r->p, r->n_pf * sizeof(float));
  return GM_OK;
}

static enum gm_status ref_get_grads(void *self, float *dst) {
  struct ref *r = self;
  if (r->n_pf)
    memcpy(dst, r->g, r->n_pf * sizeof(float));
  return GM_OK;
}

static enum gm_status ref_set_stats(void *self, const float *src) {
  struct ref *r = self;
  if (r->n_sf)
    memcpy(r->stats, src, r->n_sf * sizeof(float));
  return GM_OK;
}

static enum gm_status ref_get_stats(void *self, float *dst) {
  struct ref *r = self;
  if (r->n_sf)
    memcpy(dst, r->stats, r->n_sf * sizeof(float));
  return GM_OK;
}

static enum gm_status ref_reset_counters(void *self) {
  struct ref *r = self;
  for (size_t b = 0; b < r->n_buffers; b++)
    r->batches[b] = 0;
  return GM_OK;
}

/* Momentum buffers, whether they are set (steps: 1 when any tensor has
 * one, as after the first SGD step with momentum), and the batch counters
 * in buffer order. */
static enum gm_status ref_get_state(void *self, float *momentum, int64_t *steps,
                                    int64_t *counters) {
  struct ref *r = self;
  if (r->n_pf)
    memcpy(momentum, r->mom, r->n_pf * sizeof(float));
  *steps = 0;
  for (size_t t = 0; t < r->n_tensors; t++)
    if (r->has_mom[t])
      *steps = 1;
  size_t k = 0;
  for (size_t b = 0; b < r->n_buffers; b++)
    if (r->soff[b] < 0)
      counters[k++] = r->batches[b];
  return GM_OK;
}

static enum gm_status ref_set_state(void *self, const float *momentum,
                                    int64_t steps, const int64_t *counters) {
  struct ref *r = self;
  if (r->n_pf)
    memcpy(r->mom, momentum, r->n_pf * sizeof(float));
  for (size_t t = 0; t < r->n_tensors; t++)
    r->has_mom[t] = steps > 0 && gm__nn_param(r->net, t)->node >= 0;
  size_t k = 0;
  for (size_t b = 0; b < r->n_buffers; b++)
    if (r->soff[b] < 0)
      r->batches[b] = counters[k++];
  return GM_OK;
}

/* ---- forward, one function per operator --------------------------------
 * x: the input activations (n samples), y: the output. Shapes per sample:
 * is (input), os (output, nd->shape). */

/* The output positions o in [*lo, *hi) whose input position
 * o * stride + off lies inside [0, in): the part of a kernel row or column
 * that does not fall on padding. */
static void valid_outputs(int off, int stride, int in, int out, int *lo,
                          int *hi) {
  *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  *hi = in - 1 - off < 0 ? 0 : imin(out, (in - 1 - off) / stride + 1);
  if (*hi < *lo)
    *hi = *lo;
}

/* The valid outputs of every kernel tap of a convolution, computed once
 * per call: for kernel row ky the output rows [rows[2ky], rows[2ky+1]),
 * for kernel column kx the output columns [cols[2kx], cols[2kx+1]). */
struct conv_taps {
  int *rows, *cols;
};

static struct conv_taps conv_taps(struct ref *r, const struct gm__nn_node *nd,
                                  struct gm_nn_shape is) {
  struct conv_taps t = {r->taps, r->taps + 2 * nd->k};
  for (int kk = 0; kk < nd->k; kk++) {
    valid_outputs(kk - nd->pad, nd->stride, is.h, nd->shape.h, &t.rows[2 * kk],
                  &t.rows[2 * kk + 1]);
    valid_outputs(kk - nd->pad, nd->stride, is.w, nd->shape.w, &t.cols[2 * kk],
                  &t.cols[2 * kk + 1]);
  }
  return t;
}

/* y[b,o,oy,ox] = bias[o] + sum over the input channels c of o's group and
 * the kernel (ky, kx) of w[o,c,ky,kx] * x[b, c, oy*s - pad + ky,
 * ox*s - pad + kx], out-of-range inputs being zero. Each output plane is
 * summed in double (r->acc), one kernel tap at a time. */
static void conv_forward(struct ref *r, const struct gm__nn_node *nd,
                         const float *x, const float *w, struct gm_nn_shape is,
                         float *y, int n) {
  const struct gm_nn_shape os = nd->shape;
  const int k = nd->k, st = nd->stride, pad = nd->pad;
  const int cin_g = is.c / nd->groups, cout_g = os.c / nd->groups;
  const size_t ihw = (size_t)is.h * (size_t)is.w;
  const size_t ohw = (size_t)os.h * (size_t)os.w;
  const float *bias = nd->bias_param >= 0 ? param(r, nd->bias_param) : NULL;
  const struct conv_taps t = conv_taps(r, nd, is);
  double *acc = r->acc;
  for (int b = 0; b < n; b++)
    for (int o = 0; o < os.c; o++) {
      const int first_c = o / cout_g * cin_g; /* of o's group */
      for (size_t i = 0; i < ohw; i++)
        acc[i] = bias ? (double)bias[o] : 0.0;
      for (int c = 0; c < cin_g; c++) {
        const float *xp =
            x + ((size_t)b * (size_t)is.c + (size_t)(first_c + c)) * ihw;
        const float *wk =
            w + ((size_t)o * (size_t)cin_g + (size_t)c) * (size_t)(k * k);
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            const double wv = wk[ky * k + kx];
            const int oy0 = t.rows[2 * ky], oy1 = t.rows[2 * ky + 1];
            const int ox0 = t.cols[2 * kx], ox1 = t.cols[2 * kx + 1];
            for (int oy = oy0; oy < oy1; oy++) {
              const float *xrow = xp + (size_t)(oy * st + ky - pad) * is.w;
              double *arow = acc + (size_t)oy * (size_t)os.w;
              for (int ox = ox0; ox < ox1; ox++)
                arow[ox] += wv * (double)xrow[ox * st + kx - pad];
            }
          }
      }
      float *yp = y + ((size_t)b * (size_t)os.c + (size_t)o) * ohw;
      for (size_t i = 0; i < ohw; i++)
        yp[i] = (float)acc[i];
    }
}

/* Training: per channel, the mean and biased variance over n x H x W;
 * y = (x - mean) / sqrt(var + eps) * gamma + beta; the running statistics
 * move 0.1 of the way to the batch mean and the unbiased variance, and the
 * batch counter is incremented. Evaluation: the running statistics. */
static void bn_forward(struct ref *r, int id, const float *x, float *y, int n,
                       bool training) {
  const struct gm__nn_node *nd = node(r, id);
  const struct gm_nn_shape s = nd->shape;
  const size_t hw = (size_t)s.h * (size_t)s.w;
  const size_t m = (size_t)n * hw;
  const float *gamma = param(r, nd->weight), *beta = param(r, nd->bias_param);
  float *rm = r->stats + r->soff[nd->running_mean];
  float *rv = r->stats + r->soff[nd->running_var];
  struct node_mem *mem = &r->mem[id];
  for (int c = 0; c < s.c; c++) {
    double mean, invstd;
    if (training) {
      double sum = 0, sq = 0;
      for (int b = 0; b < n; b++) {
        const float *xp = x + ((size_t)b * (size_t)s.c + (size_t)c) * hw;
        for (size_t i = 0; i < hw; i++)
          sum += xp[i];
      }
      mean = sum / (double)m;
      for (int b = 0; b < n; b++) {
        const float *xp = x + ((size_t)b * (size_t)s.c + (size_t)c) * hw;
        for (size_t i = 0; i < hw; i++)
          sq += ((double)xp[i] - mean) * ((double)xp[i] - mean);
      }
      double var = sq / (double)m;
      invstd = 1.0 / sqrt(var + BN_EPS);
      mem->mean[c] = mean;
      mem->invstd[c] = invstd;
      rm[c] = (float)((1.0 - BN_MOMENTUM) * rm[c] + BN_MOMENTUM * mean);
      rv[c] = (float)((1.0 - BN_MOMENTUM) * rv[c] +
                      BN_MOMENTUM * (sq / (double)(m - 1)));
    } else {
      mean = rm[c];
      invstd = 1.0 / sqrt((double)rv[c] + BN_EPS);
    }
    for (int b = 0; b < n; b++) {
      const size_t off = ((size_t)b * (size_t)s.c + (size_t)c) * hw;
      for (size_t i = 0; i < hw; i++)
        y[off + i] =
            (float)(((double)x[off + i] - mean) * invstd * gamma[c] + beta[c]);
    }
  }
  if (training)
    r->batches[nd->batches]++;
}

/* Max over each window; padding counts as -inf (a window always holds a
 * real element, pad <= k/2). The first maximum in window order wins (a
 * NaN wins over numbers, the last NaN over earlier ones), as in PyTorch's
 * CPU kernel. */
static void maxpool_forward(const struct gm__nn_node *nd, const float *x,
                            struct gm_nn_shape is, float *y, int32_t *arg,
                            int n) {
  const struct gm_nn_shape os = nd->shape;
  const int k = nd->k, st = nd->stride, pad = nd->pad;
  for (int b = 0; b < n; b++)
    for (int c = 0; c < os.c; c++) {
      const size_t plane = (size_t)b * (size_t)os.c + (size_t)c;
      const float *xp = x + plane * (size_t)is.h * (size_t)is.w;
      float *yp = y + plane * (size_t)os.h * (size_t)os.w;
      int32_t *ap = arg + plane * (size_t)os.h * (size_t)os.w;
      for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++) {
          const int iy0 = oy * st - pad, ix0 = ox * st - pad;
          const int y0 = imax(iy0, 0), y1 = imin(iy0 + k, is.h);
          const int x0 = imax(ix0, 0), x1 = imin(ix0 + k, is.w);
          int32_t best_at = y0 * is.w + x0;
          float best = -INFINITY;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
              const float v = xp[iy * is.w + ix];
              if (v > best || isnan(v)) {
                best = v;
                best_at = iy * is.w + ix;
              }
            }
          yp[oy * os.w + ox] = best;
          ap[oy * os.w + ox] = best_at;
        }
    }
}

/* Mean over each window, padding included: always divided by k*k (the
 * windows never reach beyond the padded input with floor-mode sizes). */
static void avgpool_forward(const struct gm__nn_node *nd, const float *x,
                            struct gm_nn_shape is, float *y, int n) {
  const struct gm_nn_shape os = nd->shape;
  const int k = nd->k, st = nd->stride, pad = nd->pad;
  for (int b = 0; b < n; b++)
    for (int c = 0; c < os.c; c++) {
      const size_t plane = (size_t)b * (size_t)os.c + (size_t)c;
      const float *xp = x + plane * (size_t)is.h * (size_t)is.w;
      float *yp = y + plane * (size_t)os.h * (size_t)os.w;
      for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++) {
          const int iy0 = oy * st - pad, ix0 = ox * st - pad;
          double sum = 0;
          for (int iy = imax(iy0, 0); iy < imin(iy0 + k, is.h); iy++)
            for (int ix = imax(ix0, 0); ix < imin(ix0 + k, is.w); ix++)
              sum += xp[iy * is.w + ix];
          yp[oy * os.w + ox] = (float)(sum / (double)(k * k));
        }
    }
}

static void global_avgpool_forward(const float *x, struct gm_nn_shape is,
                                   float *y, int n) {
  const size_t hw = (size_t)is.h * (size_t)is.w;
  for (size_t plane = 0; plane < (size_t)n * (size_t)is.c; plane++) {
    double sum = 0;
    for (size_t i = 0; i < hw; i++)
      sum += x[plane * hw + i];
    y[plane] = (float)(sum / (double)hw);
  }
}

/* y[b,o] = bias[o] + sum_i w[o,i] x[b,i] (w is out x in). */
static void linear_forward(struct ref *r, const struct gm__nn_node *nd,
                           const float *x, const float *w,
                           struct gm_nn_shape is, float *y, int n) {
  const int in = is.c, out = nd->shape.c;
  const float *bias = nd->bias_param >= 0 ? param(r, nd->bias_param) : NULL;
  for (int b = 0; b < n; b++)
    for (int o = 0; o < out; o++) {
      const float *wo = w + (size_t)o * (size_t)in;
      const float *xb = x + (size_t)b * (size_t)in;
      double acc = bias ? (double)bias[o] : 0.0;
      for (int i = 0; i < in; i++)
        acc += (double)wo[i] * (double)xb[i];
      y[(size_t)b * (size_t)out + (size_t)o] = (float)acc;
    }
}

static uint64_t node_seed(uint64_t seed, int id) {
  return seed + (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
}

static void dropout_forward(const struct gm__nn_node *nd, int id,
                            const float *x, float *y, float *mask, size_t len,
                            bool training, uint64_t seed) {
  if (!training) {
    memcpy(y, x, len * sizeof(float));
    return;
  }
  struct gm__rng rng;
  gm__rng_seed(&rng, node_seed(seed, id));
  const double keep = 1.0 - nd->p;
  const float scale = (float)(1.0 / keep);
  for (size_t i = 0; i < len; i++) {
    mask[i] = gm__rng_uniform(&rng) < keep ? scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

static void drop_path_forward(const struct gm__nn_node *nd, int id,
                              const float *x, float *y, float *mask, int n,
                              bool training, uint64_t seed) {
  const size_t per = numel(nd->shape);
  if (!training) {
    memcpy(y, x, (size_t)n * per * sizeof(float));
    return;
  }
  struct gm__rng rng;
  gm__rng_seed(&rng, node_seed(seed, id));
  const float keep = (float)(1.0 - nd->p);
  for (int b = 0; b < n; b++) {
    mask[b] = gm__rng_uniform(&rng) < 1.0 - nd->p ? 1.0f : 0.0f;
    for (size_t i = 0; i < per; i++)
      y[(size_t)b * per + i] = x[(size_t)b * per + i] / keep * mask[b];
  }
}

/* Output channel j*g + i is input channel i*(C/g) + j (PyTorch's
 * view(n, g, C/g, h, w).transpose(1, 2)). */
static int shuffle_source(int out_channel, int channels, int groups) {
  const int per_group = channels / groups;
  const int j = out_channel / groups, i = out_channel % groups;
  return i * per_group + j;
}

/* src[0 .. len) as the kernels read it: itself in fp32, else rounded to
 * bfloat16 into dst. */
static const float *operand(const struct ref *r, float *dst, const float *src,
                            size_t len) {
  if (!r->bf16)
    return src;
  for (size_t i = 0; i < len; i++)
    dst[i] = gm_nn_bf16_round(src[i]);
  return dst;
}

/* The weights of node nd as its kernels read them. */
static const float *weights(struct ref *r, const struct gm__nn_node *nd) {
  return operand(r, r->rw, param(r, nd->weight),
                 gm__nn_param(r->net, (size_t)nd->weight)->numel);
}

static enum gm_status forward_node(struct ref *r, int id, const float *x0,
                                   int n, bool training, uint64_t seed) {
  const struct gm__nn_node *nd = node(r, id);
  struct node_mem *mem = &r->mem[id];
  float *y = mem->y;
  const struct gm_nn_shape os = nd->shape;
  const size_t per = numel(os), len = (size_t)n * per;
  if (nd->op == GM_NN_INPUT) {
    memcpy(y, x0, len * sizeof(float));
    return GM_OK;
  }
  const float *x = r->mem[nd->in[0]].y;
  const struct gm_nn_shape is = shape_of(r, nd->in[0]);
  const size_t hw = (size_t)os.h * (size_t)os.w;
  switch (nd->op) {
  case GM_NN_INPUT:
    break;
  case GM_NN_CONV2D:
    conv_forward(r, nd, operand(r, r->rx, x, (size_t)n * numel(is)),
                 weights(r, nd), is, y, n);
    break;
  case GM_NN_BATCHNORM:
    bn_forward(r, id, x, y, n, training);
    break;
  case GM_NN_RELU:
    for (size_t i = 0; i < len; i++)
      y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case GM_NN_SIGMOID:
    for (size_t i = 0; i < len; i++)
      y[i] = (float)sigmoid(x[i]);
    break;
  case GM_NN_SWISH:
    for (size_t i = 0; i < len; i++)
      y[i] = (float)(x[i] * sigmoid(x[i]));
    break;
  case GM_NN_MAXPOOL:
    maxpool_forward(nd, x, is, y, mem->arg, n);
    break;
  case GM_NN_AVGPOOL:
    avgpool_forward(nd, x, is, y, n);
    break;
  case GM_NN_GLOBAL_AVGPOOL:
    global_avgpool_forward(x, is, y, n);
    break;
  case GM_NN_LINEAR:
    linear_forward(r, nd, operand(r, r->rx, x, (size_t)n * numel(is)),
                   weights(r, nd), is, y, n);
    break;
  case GM_NN_FLATTEN: /* the same memory, read as a vector */
    memcpy(y, x, len * sizeof(float));
    break;
  case GM_NN_DROPOUT:
    dropout_forward(nd, id, x, y, mem->mask, len, training, seed);
    break;
  case GM_NN_DROP_PATH:
    drop_path_forward(nd, id, x, y, mem->mask, n, training, seed);
    break;
  case GM_NN_ADD: {
    const float *x2 = r->mem[nd->in[1]].y;
    for (size_t i = 0; i < len; i++)
      y[i] = x[i] + x2[i];
    break;
  }
  case GM_NN_MUL_CHANNEL: {
    const float *scale = r->mem[nd->in[1]].y; /* n x C */
    for (size_t plane = 0; plane < (size_t)n * (size_t)os.c; plane++)
      for (size_t i = 0; i < hw; i++)
        y[plane * hw + i] = x[plane * hw + i] * scale[plane];
    break;
  }
  case GM_NN_CONCAT: {
    float *dst = y;
    for (int b = 0; b < n; b++)
      for (int j = 0; j < nd->n_in; j++) {
        const size_t part = numel(shape_of(r, nd->in[j]));
        memcpy(dst, r->mem[nd->in[j]].y + (size_t)b * part,
               part * sizeof(float));
        dst += part;
      }
    break;
  }
  case GM_NN_SLICE:
    for (int b = 0; b < n; b++)
      memcpy(y + (size_t)b * per,
             x + ((size_t)b * (size_t)is.c + (size_t)nd->c0) * hw,
             per * sizeof(float));
    break;
  case GM_NN_SHUFFLE:
    for (int b = 0; b < n; b++)
      for (int c = 0; c < os.c; c++)
        memcpy(y + ((size_t)b * (size_t)os.c + (size_t)c) * hw,
               x + ((size_t)b * (size_t)os.c +
                    (size_t)shuffle_source(c, os.c, nd->groups)) *
                       hw,
               hw * sizeof(float));
    break;
  default:
    gm__fmt(r->err, sizeof(r->err), "ref backend: node %d: unknown op %d", id,
            (int)nd->op);
    return GM_ERR_NOT_SUPPORTED;
  }
  return GM_OK;
}

static enum gm_status ref_forward(void *self, const float *x, int n,
                                  bool training, uint64_t seed, float *out) {
  struct ref *r = self;
  enum gm_status rc = GM_OK;
  r->err[0] = '\0';
  r->last = NO_FORWARD;
  if (n <= 0 || n > r->max_batch) {
    gm__fmt(r->err, sizeof(r->err),
            "forward of %d samples: the engine was made for 1 to %d", n,
            r->max_batch);
    rc = GM_ERR_INVALID_ARG;
    goto fail;
  }
  /* Refuse before anything (running statistics) changes. */
  for (int id = 1; training && id < r->n_nodes; id++) {
    const struct gm__nn_node *nd = node(r, id);
    if (nd->op == GM_NN_BATCHNORM &&
        (size_t)n * (size_t)nd->shape.h * (size_t)nd->shape.w == 1) {
      gm__fmt(r->err, sizeof(r->err),
              "batch norm '%s': training needs more than one value per "
              "channel (%d sample(s) of %dx%d)",
              gm__nn_param(r->net, (size_t)nd->weight)->name, n, nd->shape.h,
              nd->shape.w);
      rc = GM_ERR_INVALID_ARG;
      goto fail;
    }
  }
  for (int id = 0; id < r->n_nodes; id++) {
    rc = forward_node(r, id, x, n, training, seed);
    if (rc != GM_OK)
      goto fail;
  }
  const int out_id = gm_nn_output(r->net);
  memcpy(out, r->mem[out_id].y,
         (size_t)n * numel(shape_of(r, out_id)) * sizeof(float));
  r->n = n;
  r->last = training ? TRAINING_FORWARD : EVAL_FORWARD;
  return GM_OK;
fail:
  return rc;
}

/* ---- backward, one function per operator -------------------------------
 * dy: the gradient of the node's output (complete: every consumer has a
 * larger id and ran before); dx: the gradient of an input, accumulated
 * into (+=) because an activation can feed several nodes. Parameter
 * gradients are written (=). */

static void conv_backward(struct ref *r, const struct gm__nn_node *nd,
                          const float *x, const float *w, float *dx,
                          struct gm_nn_shape is, const float *dy, int n) {
  const struct gm_nn_shape os = nd->shape;
  const int k = nd->k, st = nd->stride, pad = nd->pad;
  const int cin_g = is.c / nd->groups, cout_g = os.c / nd->groups;
  const size_t ihw = (size_t)is.h * (size_t)is.w;
  const size_t ohw = (size_t)os.h * (size_t)os.w;
  float *dw = grad(r, nd->weight);
  const struct conv_taps t = conv_taps(r, nd, is);

  /* dbias[o] = sum over b, oy, ox of dy[b,o,oy,ox] */
  if (nd->bias_param >= 0) {
    float *db = grad(r, nd->bias_param);
    for (int o = 0; o < os.c; o++) {
      double acc = 0;
      for (int b = 0; b < n; b++)
        for (size_t i = 0; i < ohw; i++)
          acc += dy[((size_t)b * (size_t)os.c + (size_t)o) * ohw + i];
      db[o] = (float)acc;
    }
  }

  /* dw[o,c,ky,kx] = sum over b, oy, ox of dy[b,o,oy,ox] *
   * x[b, first_c + c, oy*s - pad + ky, ox*s - pad + kx] */
  for (int o = 0; o < os.c; o++) {
    const int first_c = o / cout_g * cin_g;
    for (int c = 0; c < cin_g; c++)
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
          const int oy0 = t.rows[2 * ky], oy1 = t.rows[2 * ky + 1];
          const int ox0 = t.cols[2 * kx], ox1 = t.cols[2 * kx + 1];
          double acc = 0;
          for (int b = 0; b < n; b++) {
            const float *xp =
                x + ((size_t)b * (size_t)is.c + (size_t)(first_c + c)) * ihw;
            const float *dyp =
                dy + ((size_t)b * (size_t)os.c + (size_t)o) * ohw;
            for (int oy = oy0; oy < oy1; oy++) {
              const float *xrow = xp + (size_t)(oy * st + ky - pad) * is.w;
              const float *dyrow = dyp + (size_t)oy * (size_t)os.w;
              for (int ox = ox0; ox < ox1; ox++)
                acc += (double)dyrow[ox] * (double)xrow[ox * st + kx - pad];
            }
          }
          dw[(((size_t)o * (size_t)cin_g + (size_t)c) * (size_t)k +
              (size_t)ky) *
                 (size_t)k +
             (size_t)kx] = (float)acc;
        }
  }

  if (!dx)
    return;
  /* dx[b,ci,iy,ix] += sum over the outputs o of ci's group and the taps
   * (ky, kx) that read (iy, ix) of w[o,c,ky,kx] * dy[b,o,oy,ox]: the
   * forward's sums scattered back, each input plane summed in double. */
  double *acc = r->acc;
  for (int b = 0; b < n; b++)
    for (int ci = 0; ci < is.c; ci++) {
      const int group = ci / cin_g, c = ci % cin_g;
      for (size_t i = 0; i < ihw; i++)
        acc[i] = 0.0;
      for (int o = group * cout_g; o < (group + 1) * cout_g; o++) {
        const float *wk =
            w + ((size_t)o * (size_t)cin_g + (size_t)c) * (size_t)(k * k);
        const float *dyp = dy + ((size_t)b * (size_t)os.c + (size_t)o) * ohw;
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            const double wv = wk[ky * k + kx];
            const int oy0 = t.rows[2 * ky], oy1 = t.rows[2 * ky + 1];
            const int ox0 = t.cols[2 * kx], ox1 = t.cols[2 * kx + 1];
            for (int oy = oy0; oy < oy1; oy++) {
              double *arow = acc + (size_t)(oy * st + ky - pad) * is.w;
              const float *dyrow = dyp + (size_t)oy * (size_t)os.w;
              for (int ox = ox0; ox < ox1; ox++)
                arow[ox * st + kx - pad] += wv * (double)dyrow[ox];
            }
          }
      }
      float *dxp = dx + ((size_t)b * (size_t)is.c + (size_t)ci) * ihw;
      for (size_t i = 0; i < ihw; i++)
        dxp[i] += (float)acc[i];
    }
}

/* With xhat = (x - mean) * invstd over the m = n*H*W values of a channel:
 * dbeta = sum dy, dgamma = sum dy * xhat,
 * dx = gamma * invstd / m * (m * dy - dbeta - xhat * dgamma). */
static void bn_backward(struct ref *r, int id, const float *x, float *dx,
                        const float *dy, int n) {
  const struct gm__nn_node *nd = node(r, id);
  const struct gm_nn_shape s = nd->shape;
  const size_t hw = (size_t)s.h * (size_t)s.w;
  const double m = (double)((size_t)n * hw);
  const float *gamma = param(r, nd->weight);
  float *dgamma = grad(r, nd->weight), *dbeta = grad(r, nd->bias_param);
  const struct node_mem *mem = &r->mem[id];
  for (int c = 0; c < s.c; c++) {
    const double mean = mem->mean[c], invstd = mem->invstd[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int b = 0; b < n; b++) {
      const size_t off = ((size_t)b * (size_t)s.c + (size_t)c) * hw;
      for (size_t i = 0; i < hw; i++) {
        sum_dy += dy[off + i];
        sum_dy_xhat += dy[off + i] * ((x[off + i] - mean) * invstd);
      }
    }
    dgamma[c] = (float)sum_dy_xhat;
    dbeta[c] = (float)sum_dy;
    if (!dx)
      continue;
    const double scale = gamma[c] * invstd / m;
    for (int b = 0; b < n; b++) {
      const size_t off = ((size_t)b * (size_t)s.c + (size_t)c) * hw;
      for (size_t i = 0; i < hw; i++) {
        const double xhat = (x[off + i] - mean) * invstd;
        dx[off + i] +=
            (float)(scale * (m * dy[off + i] - sum_dy - xhat * sum_dy_xhat));
      }
    }
  }
}

static void linear_backward(struct ref *r, const struct gm__nn_node *nd,
                            const float *x, const float *w, float *dx,
                            struct gm_nn_shape is, const float *dy, int n) {
  const int in = is.c, out = nd->shape.c;
  float *dw = grad(r, nd->weight);
  if (nd->bias_param >= 0) {
    float *db = grad(r, nd->bias_param);
    for (int o = 0; o < out; o++) {
      double acc = 0;
      for (int b = 0; b < n; b++)
        acc += dy[(size_t)b * (size_t)out + (size_t)o];
      db[o] = (float)acc;
    }
  }
  /* dw[o,i] = sum_b dy[b,o] x[b,i] */
  for (int o = 0; o < out; o++)
    for (int i = 0; i < in; i++) {
      double acc = 0;
      for (int b = 0; b < n; b++)
        acc += (double)dy[(size_t)b * (size_t)out + (size_t)o] *
               (double)x[(size_t)b * (size_t)in + (size_t)i];
      dw[(size_t)o * (size_t)in + (size_t)i] = (float)acc;
    }
  if (!dx)
    return;
  /* dx[b,i] += sum_o dy[b,o] w[o,i] */
  for (int b = 0; b < n; b++)
    for (int i = 0; i < in; i++) {
      double acc = 0;
      for (int o = 0; o < out; o++)
        acc += (double)dy[(size_t)b * (size_t)out + (size_t)o] *
               (double)w[(size_t)o * (size_t)in + (size_t)i];
      dx[(size_t)b * (size_t)in + (size_t)i] += (float)acc;
    }
}

static void pool_backward(const struct gm__nn_node *nd, const int32_t *arg,
                          float *dx, struct gm_nn_shape is, const float *dy,
                          int n) {
  const struct gm_nn_shape os = nd->shape;
  const int k = nd->k, st = nd->stride, pad = nd->pad;
  for (int b = 0; b < n; b++)
    for (int c = 0; c < os.c; c++) {
      const size_t plane = (size_t)b * (size_t)os.c + (size_t)c;
      float *dxp = dx + plane * (size_t)is.h * (size_t)is.w;
      const float *dyp = dy + plane * (size_t)os.h * (size_t)os.w;
      for (int oy = 0; oy < os.h; oy++)
        for (int ox = 0; ox < os.w; ox++) {
          const float d = dyp[oy * os.w + ox];
          if (nd->op == GM_NN_MAXPOOL) {
            dxp[arg[plane * (size_t)os.h * (size_t)os.w +
                    (size_t)(oy * os.w + ox)]] += d;
            continue;
          }
          /* average: every real input of the window gets d / (k*k) */
          const int iy0 = oy * st - pad, ix0 = ox * st - pad;
          const float share = (float)((double)d / (double)(k * k));
          for (int iy = imax(iy0, 0); iy < imin(iy0 + k, is.h); iy++)
            for (int ix = imax(ix0, 0); ix < imin(ix0 + k, is.w); ix++)
              dxp[iy * is.w + ix] += share;
        }
    }
}

static void backward_node(struct ref *r, int id) {
  const struct gm__nn_node *nd = node(r, id);
  const int n = r->n;
  const struct node_mem *mem = &r->mem[id];
  const float *dy = mem->dy, *y = mem->y;
  const struct gm_nn_shape os = nd->shape;
  const size_t per = numel(os), len = (size_t)n * per;
  const size_t hw = (size_t)os.h * (size_t)os.w;
  if (nd->op == GM_NN_INPUT)
    return;
  const int in0 = nd->in[0];
  const float *x = r->mem[in0].y;
  /* Nobody needs the gradient of the net's input. */
  float *dx = in0 == 0 ? NULL : r->mem[in0].dy;
  const struct gm_nn_shape is = shape_of(r, in0);
  switch (nd->op) {
  case GM_NN_INPUT:
    break;
  case GM_NN_CONV2D:
    conv_backward(r, nd, operand(r, r->rx, x, (size_t)n * numel(is)),
                  weights(r, nd), dx, is, operand(r, r->rdy, dy, len), n);
    break;
  case GM_NN_BATCHNORM:
    bn_backward(r, id, x, dx, dy, n);
    break;
  case GM_NN_LINEAR:
    linear_backward(r, nd, operand(r, r->rx, x, (size_t)n * numel(is)),
                    weights(r, nd), dx, is, operand(r, r->rdy, dy, len), n);
    break;
  case GM_NN_RELU:
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    break;
  case GM_NN_SIGMOID:
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += (float)(dy[i] * ((double)y[i] * (1.0 - (double)y[i])));
    break;
  case GM_NN_SWISH:
    for (size_t i = 0; dx && i < len; i++) {
      const double s = sigmoid(x[i]);
      dx[i] += (float)(dy[i] * (s + x[i] * s * (1.0 - s)));
    }
    break;
  case GM_NN_MAXPOOL:
  case GM_NN_AVGPOOL:
    if (dx)
      pool_backward(nd, mem->arg, dx, is, dy, n);
    break;
  case GM_NN_GLOBAL_AVGPOOL: {
    const size_t ihw = (size_t)is.h * (size_t)is.w;
    for (size_t plane = 0; dx && plane < (size_t)n * (size_t)is.c; plane++)
      for (size_t i = 0; i < ihw; i++)
        dx[plane * ihw + i] += (float)((double)dy[plane] / (double)ihw);
    break;
  }
  case GM_NN_FLATTEN:
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += dy[i];
    break;
  case GM_NN_DROPOUT:
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += dy[i] * mem->mask[i];
    break;
  case GM_NN_DROP_PATH: {
    const float keep = (float)(1.0 - nd->p);
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += dy[i] * mem->mask[i / per] / keep;
    break;
  }
  case GM_NN_ADD: {
    float *dx2 = nd->in[1] == 0 ? NULL : r->mem[nd->in[1]].dy;
    for (size_t i = 0; dx && i < len; i++)
      dx[i] += dy[i];
    for (size_t i = 0; dx2 && i < len; i++)
      dx2[i] += dy[i];
    break;
  }
  case GM_NN_MUL_CHANNEL: {
    const float *scale = r->mem[nd->in[1]].y;
    float *dscale = nd->in[1] == 0 ? NULL : r->mem[nd->in[1]].dy;
    for (size_t plane = 0; plane < (size_t)n * (size_t)os.c; plane++) {
      double acc = 0;
      for (size_t i = 0; i < hw; i++) {
        acc += (double)dy[plane * hw + i] * (double)x[plane * hw + i];
        if (dx)
          dx[plane * hw + i] += dy[plane * hw + i] * scale[plane];
      }
      if (dscale)
        dscale[plane] += (float)acc;
    }
    break;
  }
  case GM_NN_CONCAT: {
    const float *src = dy;
    for (int b = 0; b < n; b++)
      for (int j = 0; j < nd->n_in; j++) {
        const size_t part = numel(shape_of(r, nd->in[j]));
        float *dst = nd->in[j] == 0 ? NULL : r->mem[nd->in[j]].dy;
        for (size_t i = 0; dst && i < part; i++)
          dst[(size_t)b * part + i] += src[i];
        src += part;
      }
    break;
  }
  case GM_NN_SLICE:
    for (int b = 0; dx && b < n; b++)
      for (size_t i = 0; i < per; i++)
        dx[((size_t)b * (size_t)is.c + (size_t)nd->c0) * hw + i] +=
            dy[(size_t)b * per + i];
    break;
  case GM_NN_SHUFFLE:
    for (int b = 0; dx && b < n; b++)
      for (int c = 0; c < os.c; c++) {
        float *dst = dx + ((size_t)b * (size_t)os.c +
                           (size_t)shuffle_source(c, os.c, nd->groups)) *
                              hw;
        const float *src = dy + ((size_t)b * (size_t)os.c + (size_t)c) * hw;
        for (size_t i = 0; i < hw; i++)
          dst[i] += src[i];
      }
    break;
  }
}

static enum gm_status ref_backward(void *self, const float *dout) {
  struct ref *r = self;
  r->err[0] = '\0';
  if (r->last != TRAINING_FORWARD) {
    gm__fmt(r->err, sizeof(r->err),
            "backward needs a training forward first "
            "(the last forward was %s)",
            r->last == EVAL_FORWARD ? "in evaluation mode" : "not run");
    return GM_ERR_STATE;
  }
  const int n = r->n;
  for (int id = 0; id < r->n_nodes; id++)
    memset(r->mem[id].dy, 0,
           (size_t)n * numel(shape_of(r, id)) * sizeof(float));
  if (r->n_pf)
    memset(r->g, 0, r->n_pf * sizeof(float)); /* declared: stay 0 */
  const int out_id = gm_nn_output(r->net);
  memcpy(r->mem[out_id].dy, dout,
         (size_t)n * numel(shape_of(r, out_id)) * sizeof(float));
  for (int id = out_id; id > 0; id--)
    backward_node(r, id);
  r->have_grads = true;
  return GM_OK;
}

/* ---- the optimiser ----------------------------------------------------
 * PyTorch's SGD (no dampening, no Nesterov), in float32 as its tensor ops
 * round: d = g + wd * p; buf = d on a tensor's first step, else
 * buf = momentum * buf + d; p = p - lr * buf (or d without momentum).
 * Declared-but-unused parameters have no gradient and are skipped. */
static enum gm_status ref_sgd_step(void *self, const struct gm_nn_sgd *opt) {
  struct ref *r = self;
  r->err[0] = '\0';
  if (!r->have_grads) {
    gm__fmt(r->err, sizeof(r->err), "sgd step before any backward pass");
    return GM_ERR_STATE;
  }
  const float lr = (float)opt->lr, momentum = (float)opt->momentum;
  const float wd = (float)opt->weight_decay;
  for (size_t t = 0; t < r->n_tensors; t++) {
    const struct gm__nn_tensor_desc *desc = gm__nn_param(r->net, t);
    if (desc->node < 0)
      continue;
    float *p = r->p + r->poff[t], *g = r->g + r->poff[t];
    float *buf = r->mom + r->poff[t];
    for (size_t i = 0; i < desc->numel; i++) {
      float d = g[i];
      if (opt->weight_decay != 0)
        d = d + wd * p[i];
      if (opt->momentum != 0) {
        if (r->has_mom[t]) {
          buf[i] = momentum * buf[i];
          buf[i] = buf[i] + d;
        } else {
          buf[i] = d;
        }
        d = buf[i];
      }
      p[i] = p[i] - lr * d;
    }
    if (opt->momentum != 0)
      r->has_mom[t] = true;
  }
  return GM_OK;
}

static enum gm_status ref_sync(void *self) {
  (void)self;
  return GM_OK;
}

static const char *ref_kernels(const void *self) {
  const struct ref *r = self;
  return r->bf16 ? "plain C, one thread (ref; bf16 rounding emulated, sums in "
                   "double)"
                 : "plain C, one thread (ref; sums in double)";
}

static const char *ref_error(const void *self) {
  const struct ref *r = self;
  return r->err;
}

const struct gm__nn_backend_ops gm__nn_backend_ref = {
    .name = "ref",
    .ops = GM__NN_OPS_ALL,
    .precisions = GM__NN_PRECISIONS_ALL,
    .create = ref_create,
    .destroy = ref_destroy,
    .set_params = ref_set_params,
    .get_params = ref_get_params,
    .get_grads = ref_get_grads,
    .set_stats = ref_set_stats,
    .get_stats = ref_get_stats,
    .reset_counters = ref_reset_counters,
    .get_state = ref_get_state,
    .set_state = ref_set_state,
    .forward = ref_forward,
    .backward = ref_backward,
    .sgd_step = ref_sgd_step,
    .sync = ref_sync,
    .error = ref_error,
    .kernels = ref_kernels,
};
