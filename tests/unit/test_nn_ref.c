/* test_nn_ref.c: the reference backend, the oracle of the other backends.
 *
 * - Every operator's gradients against central finite differences: a tiny
 *   net (2 x 3 x 5 x 5 input) whose first layer is a 3x3 "probe"
 *   convolution with bias, so that the gradient flowing into the operator's
 *   input shows up in the probe's parameter gradients; the loss is
 *   sum(out * R) for a fixed random R.
 * - Exact forward values computed by hand (convolutions, pools, shuffle
 *   order, concat and slice, linear, batch norm in evaluation), and exact
 *   input gradients through an "image source": a 1x1x1 input of value 1
 *   and a K x K convolution with padding K-1 turn each weight into one
 *   pixel, so d(image) is read off the weight gradient.
 * - Batch-norm running statistics and counters, SGD against PyTorch's
 *   update rule, the state errors.
 * - Zoo models end to end, a finite-difference check of LeNet through the
 *   public engine and softmax cross-entropy, and LeNet learning a small
 *   synthetic task.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "greenml/engine.h"
#include "greenml/nn.h"
#include "nn/backend.h"
#include "helpers.h"

/* Test hook of ref.c: num_batches_tracked of buffer b (-1: not a counter). */
/* The batch counter of buffer b (-1: b is not a counter), read through the
 * backend's state. */
static int64_t batches_tracked(void *self, const struct gm_nn_net *net,
                               size_t b) {
  if (gm__nn_stat_offset(net, b) >= 0)
    return -1;
  size_t nc = 0, k = 0;
  for (size_t i = 0; i < gm_nn_buffer_count(net); i++)
    if (gm__nn_stat_offset(net, i) < 0) {
      if (i == b)
        k = nc;
      nc++;
    }
  float *mom = calloc(gm__nn_param_floats(net) + 1, sizeof(float));
  int64_t *c = calloc(nc + 1, sizeof(int64_t));
  int64_t steps;
  assert_int_equal(gm__nn_backend_ref.get_state(self, mom, &steps, c), GM_OK);
  int64_t v = c[k];
  free(mom);
  free(c);
  return v;
}

#define MASK_SEED 42u
/* Finite differences: central, in double from float forwards, at
 * decreasing steps until one agrees (|a - fd| <= FD_RTOL max(|a|, |fd|) +
 * atol). A large step is immune to float rounding; smaller ones cross
 * fewer kinks of relu and max pooling, where a step that straddles a kink
 * gives a wrong difference. A wrong gradient disagrees at every step. */
static const double OP_STEPS[2] = {1e-2, 1e-3};
/* LeNet: a conv1 weight moves 1568 relu inputs at once, so kinks are
 * crossed unless the step is small. */
static const double LENET_STEPS[3] = {1e-2, 1e-3, 1e-4};
#define FD_RTOL 1e-2
#define FD_ATOL_OPS 2e-3   /* operator nets: gradients of order 1 to 30 */
#define FD_ATOL_LENET 2e-5 /* LeNet's mean cross-entropy: 1e-4 to 0.5 */

static double now_s(void) { return 1e-9 * (double)gm__now_ns(); }

static void fill_uniform(float *v, size_t n, double lo, double hi,
                         uint64_t seed) {
  struct gm__rng r;
  gm__rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++)
    v[i] = (float)(lo + (hi - lo) * gm__rng_uniform(&r));
}

static float *alloc_floats(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  assert_non_null(p);
  return p;
}

static size_t shape_numel(struct gm_nn_shape s) {
  return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

static struct gm_nn_engine *make_engine(const struct gm_nn_net *net,
                                        int max_batch) {
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.backend = "ref";
  cfg.max_batch = max_batch;
  char err[256] = "";
  struct gm_nn_engine *e = NULL;
  enum gm_status rc = gm_nn_engine_create(net, &cfg, &e, err, sizeof(err));
  if (rc != GM_OK)
    print_error("engine: %s\n", err);
  assert_int_equal(rc, GM_OK);
  assert_string_equal(gm_nn_engine_backend(e), "ref");
  assert_int_equal(gm_nn_engine_init(e, 7), GM_OK);
  return e;
}

/* ---- finite differences ------------------------------------------------ */

/* A loss of the parameters: one training forward with a fixed mask seed,
 * then sum(out * R), or the mean softmax cross-entropy against labels. */
struct problem {
  struct gm_nn_engine *e;
  const float *x;
  int n;
  size_t out_len; /* n x output floats per sample */
  const float *r; /* weights of sum(out * R), or NULL */
  const int32_t *labels;
  int classes;
  float *out, *dout;
};

static double problem_loss(struct problem *pb, bool backward) {
  assert_int_equal(
      gm_nn_engine_forward(pb->e, pb->x, pb->n, true, MASK_SEED, pb->out),
      GM_OK);
  double loss = 0;
  if (pb->r) {
    for (size_t i = 0; i < pb->out_len; i++) {
      loss += (double)pb->out[i] * (double)pb->r[i];
      pb->dout[i] = pb->r[i];
    }
  } else {
    assert_int_equal(gm_nn_softmax_xent(pb->out, pb->labels, pb->n, pb->classes,
                                        pb->dout, &loss, NULL),
                     GM_OK);
  }
  if (backward)
    assert_int_equal(gm_nn_engine_backward(pb->e, pb->dout), GM_OK);
  return loss;
}

struct fd_report {
  size_t checked, failed, small_step_only, nonzero;
  double max_rel; /* at the better step, over gradients above 0.05 */
  double max_abs_grad, min_abs_grad; /* min: over the nonzero ones */
};

/* Central difference of the loss in parameter i, with the step actually
 * representable in float. */
static double central_diff(struct problem *pb, float *p, size_t np, size_t i,
                           double eps) {
  const float orig = p[i];
  const float up = (float)(orig + eps), down = (float)(orig - eps);
  p[i] = up;
  assert_int_equal(gm_nn_engine_set_params(pb->e, p, np), GM_OK);
  double lp = problem_loss(pb, false);
  p[i] = down;
  assert_int_equal(gm_nn_engine_set_params(pb->e, p, np), GM_OK);
  double lm = problem_loss(pb, false);
  p[i] = orig;
  return (lp - lm) / ((double)up - (double)down);
}

static bool close_enough(double a, double b, double atol) {
  double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
  return fabs(a - b) <= FD_RTOL * scale + atol;
}

/* Checks the analytic gradient of the parameters listed in idx (all when
 * idx is NULL) against finite differences at the given steps. */
static struct fd_report fd_check(struct problem *pb, const size_t *idx,
                                 size_t n_idx, const double *steps, int n_steps,
                                 double atol, const char *what) {
  struct gm_nn_engine *e = pb->e;
  const size_t np = gm_nn_engine_param_floats(e);
  float *p = alloc_floats(np), *g = alloc_floats(np);
  assert_int_equal(gm_nn_engine_get_params(e, p, np), GM_OK);
  problem_loss(pb, true);
  assert_int_equal(gm_nn_engine_get_grads(e, g, np), GM_OK);
  struct fd_report rep = {0};
  const size_t count = idx ? n_idx : np;
  for (size_t k = 0; k < count; k++) {
    const size_t i = idx ? idx[k] : k;
    const double a = g[i];
    double fd[4];
    int agree = -1;
    for (int j = 0; j < n_steps && agree < 0; j++) {
      fd[j] = central_diff(pb, p, np, i, steps[j]);
      if (close_enough(a, fd[j], atol))
        agree = j;
    }
    rep.checked++;
    if (fabs(a) > 1e-6) {
      rep.nonzero++;
      if (rep.min_abs_grad == 0 || fabs(a) < rep.min_abs_grad)
        rep.min_abs_grad = fabs(a);
    }
    if (fabs(a) > rep.max_abs_grad)
      rep.max_abs_grad = fabs(a);
    if (agree < 0) {
      rep.failed++;
      print_error("%s: parameter %zu: analytic %.7g, finite differences", what,
                  i, a);
      for (int j = 0; j < n_steps; j++)
        print_error(" %.7g (step %g)", fd[j], steps[j]);
      print_error("\n");
      continue;
    }
    if (agree > 0)
      rep.small_step_only++;
    if (fabs(a) > 0.05) {
      double rel = fabs(a - fd[agree]) / fabs(a);
      if (rel > rep.max_rel)
        rep.max_rel = rel;
    }
  }
  assert_int_equal(gm_nn_engine_set_params(e, p, np), GM_OK);
  free(p);
  free(g);
  return rep;
}

/* ---- operator gradients through the probe ------------------------------ */

typedef int (*op_builder)(struct gm_nn_net *net, int a);

/* input 3x5x5 -> probe conv (3x3, pad 1, bias) to probe_c channels -> the
 * operator(s); every parameter checked. */
static void op_grad_check(const char *what, op_builder build, int probe_c,
                          int n) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 5, 5, &net), GM_OK);
  int a =
      gm_nn_conv2d(net, gm_nn_input(net), "probe", probe_c, 3, 1, 1, 1, true);
  int out = build(net, a);
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  assert_int_equal(gm_nn_output(net), out);
  struct gm_nn_engine *e = make_engine(net, n);
  const size_t in_len = (size_t)n * 3 * 5 * 5;
  const size_t out_len = (size_t)n * shape_numel(gm_nn_node_shape(net, out));
  float *x = alloc_floats(in_len), *r = alloc_floats(out_len);
  float *o = alloc_floats(out_len), *d = alloc_floats(out_len);
  fill_uniform(x, in_len, -2.0, 2.0, 11);
  fill_uniform(r, out_len, -1.0, 1.0, 12);
  struct problem pb = {
      .e = e, .x = x, .n = n, .out_len = out_len, .r = r, .out = o, .dout = d};
  struct fd_report rep = fd_check(&pb, NULL, 0, OP_STEPS, 2, FD_ATOL_OPS, what);
  print_message("%-28s %3zu params, %3zu nonzero, max |g| %6.3f, max rel "
                "err %.1e, %zu only at a smaller step\n",
                what, rep.checked, rep.nonzero, rep.max_abs_grad, rep.max_rel,
                rep.small_step_only);
  assert_int_equal(rep.failed, 0);
  /* not vacuous: most gradients are alive */
  assert_true(rep.nonzero * 2 > rep.checked);
  assert_true(rep.max_abs_grad > 0.1);
  free(x);
  free(r);
  free(o);
  free(d);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

static int b_conv(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "conv", 6, 3, 1, 1, 1, true);
}
static int b_conv_depthwise(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "dw", 4, 3, 1, 1, 4, false);
}
static int b_conv_grouped_s2(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "grouped", 6, 3, 2, 1, 2, true);
}
static int b_conv_k2_s2_nopad(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "k2", 5, 2, 2, 0, 1, true);
}
static int b_conv_k5_pad2(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "k5", 3, 5, 1, 2, 1, false);
}
static int b_conv_1x1_s2(struct gm_nn_net *net, int a) {
  return gm_nn_conv2d(net, a, "pw", 3, 1, 2, 0, 1, true);
}
static int b_bn(struct gm_nn_net *net, int a) {
  return gm_nn_batchnorm(net, a, "bn");
}
/* Swish rather than ReLU: batch norm couples every value of a channel, so
 * a step in any parameter moves all of them and some ReLU would cross its
 * kink; the smooth activation keeps the check exact. */
static int b_conv_bn_swish(struct gm_nn_net *net, int a) {
  int y = gm_nn_conv2d(net, a, "conv", 5, 3, 1, 1, 1, false);
  return gm_nn_swish(net, gm_nn_batchnorm(net, y, "bn"));
}
static int b_relu(struct gm_nn_net *net, int a) { return gm_nn_relu(net, a); }
static int b_sigmoid(struct gm_nn_net *net, int a) {
  return gm_nn_sigmoid(net, a);
}
static int b_swish(struct gm_nn_net *net, int a) { return gm_nn_swish(net, a); }
static int b_maxpool_pad(struct gm_nn_net *net, int a) {
  return gm_nn_maxpool(net, a, 3, 2, 1);
}
static int b_maxpool_2x2(struct gm_nn_net *net, int a) {
  return gm_nn_maxpool(net, a, 2, 2, 0);
}
static int b_avgpool_pad(struct gm_nn_net *net, int a) {
  return gm_nn_avgpool(net, a, 3, 2, 1);
}
static int b_avgpool_2x2_s1(struct gm_nn_net *net, int a) {
  return gm_nn_avgpool(net, a, 2, 1, 0);
}
static int b_global_linear(struct gm_nn_net *net, int a) {
  int y = gm_nn_flatten(net, gm_nn_global_avgpool(net, a));
  return gm_nn_linear(net, y, "fc", 7, true);
}
/* flatten -> linear with bias -> relu -> linear without; a declared layer
 * whose parameters must get gradient 0 */
static int b_flatten_linear(struct gm_nn_net *net, int a) {
  gm_nn_declare_conv2d(net, "unused", 4, 4, 1, 1, true);
  int y = gm_nn_flatten(net, a);
  y = gm_nn_relu(net, gm_nn_linear(net, y, "fc1", 7, true));
  return gm_nn_linear(net, y, "fc2", 5, false);
}
/* a feeds both the 1x1 convolution and the sum; then x + x */
static int b_add_fanout(struct gm_nn_net *net, int a) {
  int b = gm_nn_conv2d(net, a, "side", 4, 1, 1, 0, 1, true);
  int s = gm_nn_add(net, a, b);
  return gm_nn_add(net, s, s);
}
/* squeeze-excitation: a * sigmoid(conv1x1(gap(a))) */
static int b_mul_channel(struct gm_nn_net *net, int a) {
  int s = gm_nn_global_avgpool(net, a);
  s = gm_nn_sigmoid(net, gm_nn_conv2d(net, s, "se", 4, 1, 1, 0, 1, true));
  return gm_nn_mul_channel(net, a, s);
}
static int b_concat(struct gm_nn_net *net, int a) {
  int b = gm_nn_relu(net, gm_nn_conv2d(net, a, "side", 3, 1, 1, 0, 1, true));
  int parts[3] = {a, b, a};
  return gm_nn_concat(net, parts, 3);
}
static int b_slice(struct gm_nn_net *net, int a) {
  int parts[2] = {gm_nn_slice(net, a, 1, 3), gm_nn_slice(net, a, 0, 2)};
  return gm_nn_concat(net, parts, 2);
}
static int b_shuffle(struct gm_nn_net *net, int a) {
  return gm_nn_shuffle(net, a, 3);
}
static int b_dropout(struct gm_nn_net *net, int a) {
  return gm_nn_dropout(net, a, 0.5);
}
static int b_drop_path(struct gm_nn_net *net, int a) {
  return gm_nn_drop_path(net, a, 0.5);
}

static void grad_conv(void **state) {
  (void)state;
  op_grad_check("conv 3x3 s1 p1 bias", b_conv, 4, 2);
  op_grad_check("conv depthwise", b_conv_depthwise, 4, 2);
  op_grad_check("conv grouped(2) s2 p1 bias", b_conv_grouped_s2, 4, 2);
  op_grad_check("conv 2x2 s2 p0 bias", b_conv_k2_s2_nopad, 4, 2);
  op_grad_check("conv 5x5 s1 p2", b_conv_k5_pad2, 4, 2);
  op_grad_check("conv 1x1 s2 bias", b_conv_1x1_s2, 4, 2);
}

static void grad_batchnorm(void **state) {
  (void)state;
  op_grad_check("batch norm (training)", b_bn, 4, 2);
  op_grad_check("conv-bn-swish, batch 3", b_conv_bn_swish, 4, 3);
}

static void grad_activations(void **state) {
  (void)state;
  op_grad_check("relu", b_relu, 4, 2);
  op_grad_check("sigmoid", b_sigmoid, 4, 2);
  op_grad_check("swish", b_swish, 4, 2);
}

static void grad_pools(void **state) {
  (void)state;
  op_grad_check("maxpool 3 s2 p1", b_maxpool_pad, 4, 2);
  op_grad_check("maxpool 2 s2", b_maxpool_2x2, 4, 2);
  op_grad_check("avgpool 3 s2 p1", b_avgpool_pad, 4, 2);
  op_grad_check("avgpool 2 s1", b_avgpool_2x2_s1, 4, 2);
  op_grad_check("global avgpool-linear", b_global_linear, 4, 2);
}

static void grad_linear_flatten(void **state) {
  (void)state;
  op_grad_check("flatten-linear-relu-linear", b_flatten_linear, 4, 2);
}

static void grad_structure(void **state) {
  (void)state;
  op_grad_check("add with fan-out", b_add_fanout, 4, 2);
  op_grad_check("mul_channel (SE)", b_mul_channel, 4, 2);
  op_grad_check("concat", b_concat, 4, 2);
  op_grad_check("slice", b_slice, 4, 2);
  op_grad_check("shuffle 6 in 3", b_shuffle, 6, 2);
}

static void grad_dropout(void **state) {
  (void)state;
  op_grad_check("dropout 0.5", b_dropout, 4, 2);
  op_grad_check("drop path 0.5", b_drop_path, 4, 4);
}

/* The declared layer of b_flatten_linear: gradient exactly 0. */
static void declared_params_get_zero_gradient(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 5, 5, &net), GM_OK);
  int a = gm_nn_conv2d(net, gm_nn_input(net), "probe", 4, 3, 1, 1, 1, true);
  b_flatten_linear(net, a);
  struct gm_nn_engine *e = make_engine(net, 2);
  const size_t np = gm_nn_engine_param_floats(e);
  float x[2 * 75], out[2 * 5], dout[2 * 5], *g = alloc_floats(np);
  fill_uniform(x, 150, -1, 1, 3);
  fill_uniform(dout, 10, -1, 1, 4);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 0, out), GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  assert_int_equal(gm_nn_engine_get_grads(e, g, np), GM_OK);
  /* parameters: probe.weight, probe.bias, unused.weight, unused.bias, ... */
  assert_string_equal(gm_nn_param_name(net, 2, NULL, NULL), "unused.weight");
  const size_t first = 4 * 3 * 9 + 4, count = 4 * 4 + 4;
  for (size_t i = first; i < first + count; i++)
    assert_true(g[i] == 0.0f);
  assert_true(g[0] != 0.0f);
  free(g);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

/* ---- exact forward values ---------------------------------------------- */

/* One forward of net with the given parameters (and statistics). */
static void run_forward(const struct gm_nn_net *net, const float *params,
                        const float *stats, const float *x, int n,
                        bool training, float *out) {
  struct gm_nn_engine *e = make_engine(net, n);
  if (params)
    assert_int_equal(
        gm_nn_engine_set_params(e, params, gm_nn_engine_param_floats(e)),
        GM_OK);
  if (stats)
    assert_int_equal(
        gm_nn_engine_set_stats(e, stats, gm_nn_engine_stat_floats(e)), GM_OK);
  assert_int_equal(gm_nn_engine_forward(e, x, n, training, MASK_SEED, out),
                   GM_OK);
  gm_nn_engine_destroy(e);
}

static void assert_floats(const float *got, const float *want, size_t n,
                          double tol) {
  for (size_t i = 0; i < n; i++)
    assert_double_equal(got[i], want[i], tol);
}

static void conv_values(void **state) {
  (void)state;
  const float img[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}; /* 3x3, row-major */
  struct gm_nn_net *net = NULL;
  float out[4];

  /* 2x2 kernel [1 2; 3 4], stride 1, no padding, bias 0.5 */
  assert_int_equal(gm_nn_net_create(1, 3, 3, &net), GM_OK);
  gm_nn_conv2d(net, 0, "c", 1, 2, 1, 0, 1, true);
  const float p1[5] = {1, 2, 3, 4, 0.5f};
  run_forward(net, p1, NULL, img, 1, false, out);
  const float want1[4] = {37.5f, 47.5f, 67.5f, 77.5f};
  assert_floats(out, want1, 4, 0);
  gm_nn_net_destroy(net);

  /* 3x3 ones, stride 2, padding 1: sums of the windows' real pixels */
  assert_int_equal(gm_nn_net_create(1, 3, 3, &net), GM_OK);
  gm_nn_conv2d(net, 0, "c", 1, 3, 2, 1, 1, false);
  const float p2[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  run_forward(net, p2, NULL, img, 1, false, out);
  const float want2[4] = {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8,
                          5 + 6 + 8 + 9};
  assert_floats(out, want2, 4, 0);
  gm_nn_net_destroy(net);

  /* 4 -> 2 channels in 2 groups, 1x1: out0 = 10 x0 + 20 x1,
   * out1 = 30 x2 + 40 x3 */
  assert_int_equal(gm_nn_net_create(4, 1, 1, &net), GM_OK);
  gm_nn_conv2d(net, 0, "g", 2, 1, 1, 0, 2, false);
  const float x3[4] = {1, 2, 3, 4}, p3[4] = {10, 20, 30, 40};
  run_forward(net, p3, NULL, x3, 1, false, out);
  assert_double_equal(out[0], 50, 0);
  assert_double_equal(out[1], 250, 0);
  gm_nn_net_destroy(net);

  /* depthwise multiplier 2: 2 -> 4 channels in 2 groups; outputs 0, 1 read
   * channel 0 and outputs 2, 3 channel 1 */
  assert_int_equal(gm_nn_net_create(2, 1, 1, &net), GM_OK);
  gm_nn_conv2d(net, 0, "dw", 4, 1, 1, 0, 2, false);
  const float x4[2] = {1, 2}, p4[4] = {1, 2, 3, 4};
  run_forward(net, p4, NULL, x4, 1, false, out);
  const float want4[4] = {1, 2, 6, 8};
  assert_floats(out, want4, 4, 0);
  gm_nn_net_destroy(net);

  /* batch of 2: the second sample is computed on its own data */
  assert_int_equal(gm_nn_net_create(1, 3, 3, &net), GM_OK);
  gm_nn_conv2d(net, 0, "c", 1, 2, 1, 0, 1, true);
  float two[18];
  for (int i = 0; i < 9; i++) {
    two[i] = img[i];
    two[9 + i] = 2 * img[i];
  }
  float out2[8];
  run_forward(net, p1, NULL, two, 2, false, out2);
  for (int i = 0; i < 4; i++)
    assert_double_equal(out2[4 + i], 2 * (want1[i] - 0.5f) + 0.5f, 0);
  gm_nn_net_destroy(net);
}

static void linear_values(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 1, 1, &net), GM_OK);
  gm_nn_linear(net, 0, "fc", 2, true);
  /* W = [1 0 -1; 2 1 0] (out x in), b = [0.5 -0.5] */
  const float p[8] = {1, 0, -1, 2, 1, 0, 0.5f, -0.5f}, x[3] = {1, 2, 3};
  float out[2];
  run_forward(net, p, NULL, x, 1, false, out);
  assert_double_equal(out[0], -1.5, 0);
  assert_double_equal(out[1], 3.5, 0);
  gm_nn_net_destroy(net);
}

/* ---- the image source: exact input gradients ---------------------------
 * net input 1x1x1 (x = 1) -> conv "src" (c channels, k x k kernel, padding
 * k-1): pixel (ch, r, s) of its output is weight (ch, 0, k-1-r, k-1-s). */

static struct gm_nn_net *image_net(int c, int k) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(1, 1, 1, &net), GM_OK);
  int src = gm_nn_conv2d(net, 0, "src", c, k, 1, k - 1, 1, false);
  assert_int_equal(src, 1);
  return net;
}

/* img (c x k x k) -> the source's weights */
static void image_to_weights(const float *img, int c, int k, float *w) {
  for (int ch = 0; ch < c; ch++)
    for (int r = 0; r < k; r++)
      for (int s = 0; s < k; s++)
        w[(ch * k + (k - 1 - r)) * k + (k - 1 - s)] = img[(ch * k + r) * k + s];
}

/* Runs forward (training) and backward with dout on an image net whose
 * source weights come first in the parameters; returns the output and
 * d(image). */
static void image_run(const struct gm_nn_net *net, const float *img, int c,
                      int k, const float *dout, float *out, float *dimg) {
  struct gm_nn_engine *e = make_engine(net, 1);
  const size_t np = gm_nn_engine_param_floats(e);
  float *p = alloc_floats(np), *g = alloc_floats(np);
  assert_int_equal(gm_nn_engine_get_params(e, p, np), GM_OK);
  image_to_weights(img, c, k, p);
  assert_int_equal(gm_nn_engine_set_params(e, p, np), GM_OK);
  const float one = 1.0f;
  assert_int_equal(gm_nn_engine_forward(e, &one, 1, true, MASK_SEED, out),
                   GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  assert_int_equal(gm_nn_engine_get_grads(e, g, np), GM_OK);
  for (int ch = 0; ch < c; ch++)
    for (int r = 0; r < k; r++)
      for (int s = 0; s < k; s++)
        dimg[(ch * k + r) * k + s] =
            g[(ch * k + (k - 1 - r)) * k + (k - 1 - s)];
  free(p);
  free(g);
  gm_nn_engine_destroy(e);
}

static void maxpool_values_and_ties(void **state) {
  (void)state;
  /* 2x2 windows, stride 2; the top-right window holds a tie (8, 8): the
   * gradient goes to the first in window order */
  const float img[16] = {1,  5,  2,  0,  3,  4,  8,  8,
                         -1, -2, -3, -4, -5, -6, -7, -9};
  struct gm_nn_net *net = image_net(1, 4);
  gm_nn_maxpool(net, 1, 2, 2, 0);
  const float dout[4] = {1, 10, 100, 1000};
  float out[4], dimg[16];
  image_run(net, img, 1, 4, dout, out, dimg);
  const float want[4] = {5, 8, -1, -3};
  assert_floats(out, want, 4, 0);
  const float want_d[16] = {0,   1, 0,    0, 0, 0, 10, 0,
                            100, 0, 1000, 0, 0, 0, 0,  0};
  assert_floats(dimg, want_d, 16, 0);
  gm_nn_net_destroy(net);

  /* 3x3 windows, stride 2, padding 1 on 4x4: padding never wins even when
   * every real value is negative */
  const float neg[16] = {-9, -8,  -7,  -6,  -5,  -4,  -3,  -2,
                         -1, -10, -11, -12, -13, -14, -15, -16};
  net = image_net(1, 4);
  gm_nn_maxpool(net, 1, 3, 2, 1);
  image_run(net, neg, 1, 4, dout, out, dimg);
  /* windows: rows {0,1} x cols {0,1}; rows {0,1} x cols {1,2,3};
   * rows {1,2,3} x cols {0,1}; rows {1,2,3} x cols {1,2,3} */
  const float want2[4] = {-4, -2, -1, -2};
  assert_floats(out, want2, 4, 0);
  /* -2 (row 1, col 3) is the maximum of two windows: gradients add */
  const float want_d2[16] = {0,   0, 0, 0, 0, 1, 0, 10 + 1000,
                             100, 0, 0, 0, 0, 0, 0, 0};
  assert_floats(dimg, want_d2, 16, 0);
  gm_nn_net_destroy(net);
}

static void avgpool_values(void **state) {
  (void)state;
  /* 3x3 image 1..9 (as a 3x3 source), 3x3 windows, stride 2, padding 1:
   * padding counts, every window is divided by 9 */
  const float img[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  struct gm_nn_net *net = image_net(1, 3);
  gm_nn_avgpool(net, 1, 3, 2, 1);
  const float dout[4] = {9, 18, 27, 36};
  float out[4], dimg[9];
  image_run(net, img, 1, 3, dout, out, dimg);
  const float want[4] = {12.0f / 9, 16.0f / 9, 24.0f / 9, 28.0f / 9};
  assert_floats(out, want, 4, 1e-6);
  /* each pixel gets dout/9 from every window that holds it */
  const float want_d[9] = {1,     1 + 2, 2,     1 + 3, 1 + 2 + 3 + 4,
                           2 + 4, 3,     3 + 4, 4};
  assert_floats(dimg, want_d, 9, 1e-6);
  gm_nn_net_destroy(net);

  /* global average pooling: the mean, and 1/(H W) of the gradient each */
  net = image_net(2, 3);
  gm_nn_global_avgpool(net, 1);
  float img2[18];
  for (int i = 0; i < 18; i++)
    img2[i] = (float)i;
  const float dout2[2] = {9, 18};
  float out2[2], dimg2[18];
  image_run(net, img2, 2, 3, dout2, out2, dimg2);
  assert_double_equal(out2[0], 4, 1e-6);
  assert_double_equal(out2[1], 13, 1e-6);
  for (int i = 0; i < 18; i++)
    assert_double_equal(dimg2[i], i < 9 ? 1 : 2, 1e-6);
  gm_nn_net_destroy(net);
}

/* Channel c of the image holds the value c at every pixel. */
static void channel_image(float *img, int c, int k) {
  for (int ch = 0; ch < c; ch++)
    for (int i = 0; i < k * k; i++)
      img[ch * k * k + i] = (float)ch;
}

static void shuffle_order(void **state) {
  (void)state;
  /* PyTorch: x.view(1, g, C/g, H, W).transpose(1, 2).reshape(1, C, H, W);
   * torch.arange(6) gives [0 3 1 4 2 5] for g = 2, [0 2 4 1 3 5] for 3 */
  const int groups[2] = {2, 3};
  const float want[2][6] = {{0, 3, 1, 4, 2, 5}, {0, 2, 4, 1, 3, 5}};
  for (int t = 0; t < 2; t++) {
    struct gm_nn_net *net = image_net(6, 2);
    gm_nn_shuffle(net, 1, groups[t]);
    float img[24], out[24], dout[24], dimg[24];
    channel_image(img, 6, 2);
    /* the gradient of output channel j is 100 j + pixel */
    for (int i = 0; i < 24; i++)
      dout[i] = (float)(100 * (i / 4) + i % 4);
    image_run(net, img, 6, 2, dout, out, dimg);
    for (int j = 0; j < 6; j++)
      for (int i = 0; i < 4; i++) {
        assert_double_equal(out[j * 4 + i], want[t][j], 0);
        /* input channel want[j] receives output channel j's gradient */
        assert_double_equal(dimg[(int)want[t][j] * 4 + i], 100 * j + i, 0);
      }
    gm_nn_net_destroy(net);
  }
}

static void concat_slice_values(void **state) {
  (void)state;
  /* concat(x, slice(x, 1, 3), x[2:3]) over 4 channels of 2x2 */
  struct gm_nn_net *net = image_net(4, 2);
  int parts[3] = {1, gm_nn_slice(net, 1, 1, 3), gm_nn_slice(net, 1, 2, 3)};
  gm_nn_concat(net, parts, 3);
  float img[16], out[28], dout[28], dimg[16];
  channel_image(img, 4, 2);
  for (int i = 0; i < 28; i++)
    dout[i] = (float)(i / 4 + 1); /* output channel + 1 */
  image_run(net, img, 4, 2, dout, out, dimg);
  const float want[7] = {0, 1, 2, 3, 1, 2, 2};
  for (int j = 0; j < 7; j++)
    for (int i = 0; i < 4; i++)
      assert_double_equal(out[j * 4 + i], want[j], 0);
  /* channel 0: out 0 (1); 1: out 1 and 4 (2 + 5); 2: out 2, 5, 6
   * (3 + 6 + 7); 3: out 3 (4) */
  const float want_d[4] = {1, 7, 16, 4};
  for (int ch = 0; ch < 4; ch++)
    for (int i = 0; i < 4; i++)
      assert_double_equal(dimg[ch * 4 + i], want_d[ch], 0);
  gm_nn_net_destroy(net);
}

static void batchnorm_eval_values(void **state) {
  (void)state;
  /* 2 channels of 1x2; gamma (2, 1), beta (0.5, -1), running mean (1, -1),
   * running variance with var + eps = 4 and 0.25 */
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(2, 1, 2, &net), GM_OK);
  gm_nn_batchnorm(net, 0, "bn");
  const float params[4] = {2, 1, 0.5f, -1};
  const float stats[4] = {1, -1, (float)(4 - 1e-5), (float)(0.25 - 1e-5)};
  const float x[4] = {5, 1, 0, -2};
  float out[4];
  run_forward(net, params, stats, x, 1, false, out);
  /* (5-1)/2*2+0.5, (1-1)/2*2+0.5, (0+1)/0.5-1, (-2+1)/0.5-1 */
  const float want[4] = {4.5f, 0.5f, 1.0f, -3.0f};
  assert_floats(out, want, 4, 1e-5);
  gm_nn_net_destroy(net);
}

static void activation_values(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(4, 1, 1, &net), GM_OK);
  int r = gm_nn_relu(net, 0), s = gm_nn_sigmoid(net, 0),
      w = gm_nn_swish(net, 0);
  int parts[3] = {r, s, w};
  gm_nn_concat(net, parts, 3);
  const float x[4] = {-2, -0.5f, 0, 3};
  float out[12];
  run_forward(net, NULL, NULL, x, 1, false, out);
  for (int i = 0; i < 4; i++) {
    double sg = 1.0 / (1.0 + exp(-(double)x[i]));
    assert_double_equal(out[i], x[i] > 0 ? x[i] : 0, 0);
    assert_double_equal(out[4 + i], sg, 1e-7);
    assert_double_equal(out[8 + i], x[i] * sg, 1e-6);
  }
  gm_nn_net_destroy(net);
}

static void dropout_masks(void **state) {
  (void)state;
  /* dropout 0.5 on 1x8x8 ones: every output 0 or 2, about half kept, the
   * same for the same seed, another mask for another; identity in eval */
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(1, 8, 8, &net), GM_OK);
  gm_nn_dropout(net, 0, 0.5);
  struct gm_nn_engine *e = make_engine(net, 2);
  float x[128], a[128], b[128], c[128];
  for (int i = 0; i < 128; i++)
    x[i] = 1.0f;
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 5, a), GM_OK);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 5, b), GM_OK);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 6, c), GM_OK);
  int kept = 0, differ = 0;
  for (int i = 0; i < 128; i++) {
    assert_true(a[i] == 0.0f || a[i] == 2.0f);
    assert_true(a[i] == b[i]);
    kept += a[i] != 0.0f;
    differ += a[i] != c[i];
  }
  assert_in_range(kept, 40, 88);
  assert_true(differ > 0);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, false, 5, a), GM_OK);
  for (int i = 0; i < 128; i++)
    assert_true(a[i] == 1.0f);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);

  /* drop path 0.25 on 16 samples of 1x2x2 threes: a sample is all 0 or all
   * 3 / 0.75 = 4 */
  assert_int_equal(gm_nn_net_create(1, 2, 2, &net), GM_OK);
  gm_nn_drop_path(net, 0, 0.25);
  e = make_engine(net, 16);
  float xs[64], ys[64];
  for (int i = 0; i < 64; i++)
    xs[i] = 3.0f;
  assert_int_equal(gm_nn_engine_forward(e, xs, 16, true, 9, ys), GM_OK);
  int samples_kept = 0;
  for (int s = 0; s < 16; s++) {
    assert_true(ys[4 * s] == 0.0f || ys[4 * s] == 4.0f);
    for (int i = 1; i < 4; i++)
      assert_true(ys[4 * s + i] == ys[4 * s]);
    samples_kept += ys[4 * s] != 0.0f;
  }
  assert_in_range(samples_kept, 1, 15);
  assert_int_equal(gm_nn_engine_forward(e, xs, 16, false, 9, ys), GM_OK);
  for (int i = 0; i < 64; i++)
    assert_true(ys[i] == 3.0f);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

/* ---- batch-norm statistics, through the backend interface ------------- */

static void batchnorm_running_stats(void **state) {
  (void)state;
  const struct gm__nn_backend_ops *ops = &gm__nn_backend_ref;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 2, 2, &net), GM_OK);
  gm_nn_batchnorm(net, 0, "bn");
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.max_batch = 2;
  void *self = NULL;
  char err[256] = "";
  assert_int_equal(ops->create(net, &cfg, &self, err, sizeof(err)), GM_OK);
  /* buffers: running_mean, running_var, num_batches_tracked */
  assert_int_equal(gm_nn_buffer_count(net), 3);
  assert_int_equal(batches_tracked(self, net, 0), -1);
  assert_int_equal(batches_tracked(self, net, 2), 0);
  const float params[6] = {1, 1, 1, 0, 0, 0};
  const float stats0[6] = {0, 0, 0, 1, 1, 1};
  assert_int_equal(ops->set_params(self, params), GM_OK);
  assert_int_equal(ops->set_stats(self, stats0), GM_OK);
  assert_int_equal(ops->reset_counters(self), GM_OK);

  float x[24], y[24], stats[6];
  fill_uniform(x, 24, -3, 5, 21);
  assert_int_equal(ops->forward(self, x, 2, true, 0, y), GM_OK);
  assert_int_equal(ops->get_stats(self, stats), GM_OK);
  for (int c = 0; c < 3; c++) {
    double sum = 0, sq = 0, ysum = 0, ysq = 0;
    for (int b = 0; b < 2; b++)
      for (int i = 0; i < 4; i++)
        sum += x[b * 12 + c * 4 + i];
    const double mean = sum / 8;
    for (int b = 0; b < 2; b++)
      for (int i = 0; i < 4; i++) {
        const double d = x[b * 12 + c * 4 + i] - mean;
        sq += d * d;
        ysum += y[b * 12 + c * 4 + i];
        ysq += (double)y[b * 12 + c * 4 + i] * y[b * 12 + c * 4 + i];
      }
    /* running = 0.9 running + 0.1 batch; the variance unbiased (m - 1) */
    assert_double_equal(stats[c], 0.1 * mean, 1e-6);
    assert_double_equal(stats[3 + c], 0.9 + 0.1 * sq / 7, 1e-6);
    /* normalised with the biased variance: mean 0, mean square
     * var / (var + eps) */
    assert_double_equal(ysum / 8, 0, 1e-6);
    assert_double_equal(ysq / 8, (sq / 8) / (sq / 8 + 1e-5), 1e-5);
  }
  assert_int_equal(batches_tracked(self, net, 2), 1);
  assert_int_equal(ops->forward(self, x, 2, true, 0, y), GM_OK);
  assert_int_equal(batches_tracked(self, net, 2), 2);
  /* evaluation neither counts nor moves the statistics */
  float before[6];
  assert_int_equal(ops->get_stats(self, before), GM_OK);
  assert_int_equal(ops->forward(self, x, 2, false, 0, y), GM_OK);
  assert_int_equal(ops->get_stats(self, stats), GM_OK);
  assert_memory_equal(before, stats, sizeof(stats));
  assert_int_equal(batches_tracked(self, net, 2), 2);
  /* one value per channel cannot be normalised in training: refused
   * before anything changes */
  struct gm_nn_net *one = NULL;
  assert_int_equal(gm_nn_net_create(3, 1, 1, &one), GM_OK);
  gm_nn_batchnorm(one, 0, "bn1x1");
  void *s1 = NULL;
  assert_int_equal(ops->create(one, &cfg, &s1, err, sizeof(err)), GM_OK);
  assert_int_equal(ops->set_stats(s1, stats0), GM_OK);
  assert_int_equal(ops->forward(s1, x, 1, true, 0, y), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(ops->error(s1), "bn1x1.weight"));
  assert_int_equal(ops->get_stats(s1, stats), GM_OK);
  assert_memory_equal(stats, stats0, sizeof(stats));
  assert_int_equal(batches_tracked(s1, net, 2), 0);
  assert_int_equal(ops->forward(s1, x, 2, true, 0, y), GM_OK);
  assert_int_equal(ops->forward(s1, x, 1, false, 0, y), GM_OK);
  assert_int_equal(ops->reset_counters(self), GM_OK);
  assert_int_equal(batches_tracked(self, net, 2), 0);
  ops->destroy(s1);
  ops->destroy(self);
  ops->destroy(NULL);
  gm_nn_net_destroy(one);
  gm_nn_net_destroy(net);
}

/* ---- SGD -------------------------------------------------------------- */

static void sgd_matches_pytorch(void **state) {
  (void)state;
  /* input 3x1x1 -> linear 2 (bias); a declared conv after it */
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 1, 1, &net), GM_OK);
  gm_nn_linear(net, 0, "fc", 2, true);
  gm_nn_declare_conv2d(net, "unused", 1, 1, 1, 1, true);
  struct gm_nn_engine *e = make_engine(net, 2);
  assert_int_equal(gm_nn_engine_param_floats(e), 10);
  float p0[10] = {0.5f, -1, 2, 0.25f, 0, -0.75f, 0.1f, -0.2f, 3, -4};
  assert_int_equal(gm_nn_engine_set_params(e, p0, 10), GM_OK);

  struct gm_nn_sgd opt = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01};
  assert_int_equal(gm_nn_engine_sgd_step(e, &opt), GM_ERR_STATE);
  assert_non_null(strstr(gm_nn_engine_error(e), "backward"));

  const float x[6] = {1, 2, 3, -1, 0.5f, 2}, dout[4] = {1, -2, 0.5f, 3};
  float out[4], g[10];
  assert_int_equal(gm_nn_engine_forward(e, x, 2, false, 0, out), GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_ERR_STATE);
  assert_non_null(strstr(gm_nn_engine_error(e), "evaluation"));
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 0, out), GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  assert_int_equal(gm_nn_engine_get_grads(e, g, 10), GM_OK);
  /* dW[o][i] = sum_b dout[b][o] x[b][i], db[o] = sum_b dout[b][o] */
  for (int o = 0; o < 2; o++) {
    for (int i = 0; i < 3; i++)
      assert_double_equal(g[o * 3 + i], dout[o] * x[i] + dout[2 + o] * x[3 + i],
                          0);
    assert_double_equal(g[6 + o], dout[o] + dout[2 + o], 0);
  }
  assert_true(g[8] == 0.0f && g[9] == 0.0f);

  /* PyTorch, in float32: d = g + wd p; buf = d (first step), then
   * buf = momentum buf + d; p = p - lr buf. Two steps on the same
   * gradient. */
  float want[10], buf[10] = {0};
  memcpy(want, p0, sizeof(want));
  const float lr = 0.1f, mom = 0.9f, wd = 0.01f;
  for (int step = 0; step < 2; step++) {
    assert_int_equal(gm_nn_engine_sgd_step(e, &opt), GM_OK);
    for (int i = 0; i < 8; i++) {
      float d = g[i] + wd * want[i];
      if (step == 0) {
        buf[i] = d;
      } else {
        buf[i] = mom * buf[i];
        buf[i] = buf[i] + d;
      }
      want[i] = want[i] - lr * buf[i];
    }
    float got[10];
    assert_int_equal(gm_nn_engine_get_params(e, got, 10), GM_OK);
    for (int i = 0; i < 8; i++)
      assert_double_equal(got[i], want[i], 1e-7 * fabs(want[i]));
    /* declared parameters: no gradient, never updated (not even decayed) */
    assert_true(got[8] == p0[8] && got[9] == p0[9]);
  }
  /* the second step by hand for W[0][0]: g = 1*1 + 0.5*(-1) = 0.5,
   * d1 = 0.5 + 0.01*0.5 = 0.505, p1 = 0.5 - 0.0505 = 0.4495,
   * d2 = 0.5 + 0.01*0.4495 = 0.504495, buf = 0.9*0.505 + 0.504495 =
   * 0.958995, p2 = 0.4495 - 0.0958995 = 0.3536005 */
  float got[10];
  assert_int_equal(gm_nn_engine_get_params(e, got, 10), GM_OK);
  assert_double_equal(got[0], 0.3536005, 1e-6);

  /* without momentum: p -= lr (g + wd p) */
  struct gm_nn_sgd plain = {.lr = 0.5, .momentum = 0, .weight_decay = 0};
  assert_int_equal(gm_nn_engine_sgd_step(e, &plain), GM_OK);
  float got2[10];
  assert_int_equal(gm_nn_engine_get_params(e, got2, 10), GM_OK);
  for (int i = 0; i < 8; i++)
    assert_double_equal(got2[i], got[i] - 0.5f * g[i], 1e-6);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

static void errors(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(1, 2, 2, &net), GM_OK);
  gm_nn_relu(net, 0);
  struct gm_nn_engine *e = make_engine(net, 2);
  float x[12] = {0}, out[12];
  float dout[12] = {0};
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_ERR_STATE);
  assert_non_null(strstr(gm_nn_engine_error(e), "not run"));
  assert_int_equal(gm_nn_engine_forward(e, x, 3, true, 0, out),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_nn_engine_error(e), "3 samples"));
  /* a failed forward leaves nothing to differentiate */
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_ERR_STATE);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 0, out), GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  assert_string_equal(gm_nn_engine_error(e), "no error");
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

/* ---- zoo models ------------------------------------------------------- */

static bool all_finite(const float *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return false;
  return true;
}

/* Forward in training and evaluation, backward, one SGD step; parameters
 * of declared layers untouched, the others all moved. */
static void model_run(const char *name) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build(name, &net), GM_OK);
  const int out_id = gm_nn_output(net);
  assert_int_equal(gm_nn_node_shape(net, out_id).c, 10);
  assert_int_equal(shape_numel(gm_nn_node_shape(net, out_id)), 10);
  const int n = 2;
  struct gm_nn_engine *e = make_engine(net, n);
  const size_t np = gm_nn_engine_param_floats(e);
  float x[2 * 3 * 32 * 32], train[20], eval[20], dout[20];
  fill_uniform(x, sizeof(x) / sizeof(x[0]), -1, 1, 31);
  const int32_t labels[2] = {3, 7};
  double t0 = now_s();
  assert_int_equal(gm_nn_engine_forward(e, x, n, true, 1, train), GM_OK);
  double t1 = now_s();
  double loss = 0;
  assert_int_equal(gm_nn_softmax_xent(train, labels, n, 10, dout, &loss, NULL),
                   GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  double t2 = now_s();
  assert_int_equal(gm_nn_engine_forward(e, x, n, false, 1, eval), GM_OK);
  assert_true(all_finite(train, 20));
  assert_true(all_finite(eval, 20));
  assert_true(isfinite(loss));
  float *p0 = alloc_floats(np), *g = alloc_floats(np), *p1 = alloc_floats(np);
  assert_int_equal(gm_nn_engine_get_params(e, p0, np), GM_OK);
  assert_int_equal(gm_nn_engine_get_grads(e, g, np), GM_OK);
  assert_true(all_finite(g, np));
  struct gm_nn_sgd opt = gm_nn_sgd_default();
  assert_int_equal(gm_nn_engine_sgd_step(e, &opt), GM_OK);
  assert_int_equal(gm_nn_engine_get_params(e, p1, np), GM_OK);
  size_t declared = 0, moved = 0, used = 0;
  for (size_t t = 0, off = 0; t < gm_nn_param_count(net); t++) {
    const struct gm__nn_tensor_desc *d = gm__nn_param(net, t);
    if (d->node < 0) {
      declared += d->numel;
      assert_memory_equal(p0 + off, p1 + off, d->numel * sizeof(float));
      for (size_t i = 0; i < d->numel; i++)
        assert_true(g[off + i] == 0.0f);
    } else {
      used += d->numel;
      for (size_t i = 0; i < d->numel; i++)
        moved += p0[off + i] != p1[off + i];
    }
    off += d->numel;
  }
  /* weight decay moves every nonzero parameter (biases of BN start at 0
   * and may stay there only with a zero gradient) */
  assert_true(moved > used * 9 / 10);
  print_message("%-15s forward %.3f s, backward %.3f s (batch %d, -O0 or "
                "sanitized builds are slower), loss %.4f, %zu declared "
                "parameters untouched\n",
                name, t1 - t0, t2 - t1, n, loss, declared);
  free(p0);
  free(g);
  free(p1);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

static void zoo_lenet(void **state) {
  (void)state;
  model_run("LeNet");
}

static void zoo_mobilenet(void **state) {
  (void)state;
  model_run("MobileNet");
}

static void zoo_shufflenetv2(void **state) {
  (void)state;
  model_run("ShuffleNetV2");
}

static void zoo_efficientnetb0(void **state) {
  (void)state;
  model_run("EfficientNetB0");
}

/* Finite differences of LeNet's softmax cross-entropy in 24 parameters
 * spread over all its tensors, through the public engine. */
static void lenet_gradient_check(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build("LeNet", &net), GM_OK);
  struct gm_nn_engine *e = make_engine(net, 2);
  float x[2 * 3 * 32 * 32], out[20], dout[20];
  fill_uniform(x, sizeof(x) / sizeof(x[0]), -2, 2, 41);
  const int32_t labels[2] = {1, 8};
  struct problem pb = {.e = e,
                       .x = x,
                       .n = 2,
                       .out_len = 20,
                       .labels = labels,
                       .classes = 10,
                       .out = out,
                       .dout = dout};
  /* three parameters of each of the 10 tensors (weights and biases of
   * conv1, conv2, fc1, fc2, fc3), chosen by a fixed generator */
  size_t idx[30], n_idx = 0;
  struct gm__rng r;
  gm__rng_seed(&r, 5);
  for (size_t t = 0, off = 0; t < gm_nn_param_count(net); t++) {
    const size_t numel = gm__nn_param(net, t)->numel;
    for (int k = 0; k < 3; k++)
      idx[n_idx++] = off + (size_t)(gm__rng_uniform(&r) * (double)numel);
    off += numel;
  }
  assert_int_equal(n_idx, 30);
  struct fd_report rep =
      fd_check(&pb, idx, n_idx, LENET_STEPS, 3, FD_ATOL_LENET, "LeNet");
  print_message("LeNet softmax xent: %zu params, %zu nonzero, |g| %.2g to "
                "%.2g, max rel err %.1e, %zu only at a smaller step\n",
                rep.checked, rep.nonzero, rep.min_abs_grad, rep.max_abs_grad,
                rep.max_rel, rep.small_step_only);
  assert_int_equal(rep.failed, 0);
  assert_true(rep.nonzero >= 15);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

/* LeNet learns 10 classes of noisy patterns: 64 images (class k: a fixed
 * random 8x8 pattern of +-1 upsampled to 32x32, in one colour channel
 * chosen by k, plus uniform noise), SGD lr 0.05, momentum 0.9, 30 steps of
 * 16 images. */
static void lenet_learns(void **state) {
  (void)state;
  enum { N = 64, BATCH = 16, STEPS = 30, PIX = 3 * 32 * 32 };
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build("LeNet", &net), GM_OK);
  struct gm_nn_engine *e = make_engine(net, N);
  float *x = alloc_floats((size_t)N * PIX), out[N * 10], dout[N * 10];
  int32_t labels[N];
  float patterns[10][64];
  for (int k = 0; k < 10; k++) {
    fill_uniform(patterns[k], 64, -1, 1, 100 + (uint64_t)k);
    for (int i = 0; i < 64; i++)
      patterns[k][i] = patterns[k][i] > 0 ? 1.0f : -1.0f;
  }
  struct gm__rng r;
  gm__rng_seed(&r, 77);
  for (int s = 0; s < N; s++) {
    const int k = s % 10;
    labels[s] = k;
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++) {
          double v = c == k % 3 ? patterns[k][(i / 4) * 8 + j / 4] : 0.0;
          x[(size_t)s * PIX + (size_t)(c * 1024 + i * 32 + j)] =
              (float)(v + 0.5 * (2 * gm__rng_uniform(&r) - 1));
        }
  }
  double loss0 = 0, loss1 = 0;
  int right0 = 0, right1 = 0;
  assert_int_equal(gm_nn_engine_forward(e, x, N, false, 0, out), GM_OK);
  assert_int_equal(
      gm_nn_softmax_xent(out, labels, N, 10, NULL, &loss0, &right0), GM_OK);
  struct gm_nn_sgd opt = {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4};
  double t0 = now_s();
  for (int step = 0; step < STEPS; step++) {
    const int first = (step * BATCH) % N;
    const float *xb = x + (size_t)first * PIX;
    assert_int_equal(
        gm_nn_engine_forward(e, xb, BATCH, true, (uint64_t)step, out), GM_OK);
    assert_int_equal(
        gm_nn_softmax_xent(out, labels + first, BATCH, 10, dout, NULL, NULL),
        GM_OK);
    assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
    assert_int_equal(gm_nn_engine_sgd_step(e, &opt), GM_OK);
  }
  double t1 = now_s();
  assert_int_equal(gm_nn_engine_forward(e, x, N, false, 0, out), GM_OK);
  assert_int_equal(
      gm_nn_softmax_xent(out, labels, N, 10, NULL, &loss1, &right1), GM_OK);
  print_message("LeNet on %d synthetic images: loss %.4f -> %.4f (x%.1f), "
                "training accuracy %d%% -> %d%%, %d steps in %.2f s\n",
                N, loss0, loss1, loss0 / loss1, 100 * right0 / N,
                100 * right1 / N, STEPS, t1 - t0);
  /* stated thresholds: the loss at least halves, accuracy >= 50 % (chance
   * is 10 %) */
  assert_true(loss1 < 0.5 * loss0);
  assert_true(right1 * 2 >= N);
  free(x);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grad_conv),
      cmocka_unit_test(grad_batchnorm),
      cmocka_unit_test(grad_activations),
      cmocka_unit_test(grad_pools),
      cmocka_unit_test(grad_linear_flatten),
      cmocka_unit_test(grad_structure),
      cmocka_unit_test(grad_dropout),
      cmocka_unit_test(declared_params_get_zero_gradient),
      cmocka_unit_test(conv_values),
      cmocka_unit_test(linear_values),
      cmocka_unit_test(maxpool_values_and_ties),
      cmocka_unit_test(avgpool_values),
      cmocka_unit_test(shuffle_order),
      cmocka_unit_test(concat_slice_values),
      cmocka_unit_test(batchnorm_eval_values),
      cmocka_unit_test(activation_values),
      cmocka_unit_test(dropout_masks),
      cmocka_unit_test(batchnorm_running_stats),
      cmocka_unit_test(sgd_matches_pytorch),
      cmocka_unit_test(errors),
      cmocka_unit_test(zoo_lenet),
      cmocka_unit_test(zoo_mobilenet),
      cmocka_unit_test(zoo_shufflenetv2),
      cmocka_unit_test(zoo_efficientnetb0),
      cmocka_unit_test(lenet_gradient_check),
      cmocka_unit_test(lenet_learns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
