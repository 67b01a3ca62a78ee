/* test_nn_bf16.c: the bf16 precision of the engine (engine.h).
 *
 * - gm_nn_bf16_round on exact cases (ties to even, subnormals, the largest
 *   values, infinities, NaN, every bfloat16 value kept as it is) and, on a
 *   million random float32 patterns, against the definition computed apart
 *   in double: the nearest of the two bfloat16 neighbours, the even one on
 *   a tie.
 * - Every backend that computes in bf16 on this processor (ref, and oneDNN
 *   on its bf16 primitives where the processor has AVX-512): a convolution
 *   (groups, stride, padding, bias) feeding another, and two linear layers,
 *   forward (training, and evaluation: oneDNN's inference graph) and
 *   backward, against float64 sums of the rounded operands, within float32
 *   accumulation error; the same layers in fp32 are further than that from
 *   those sums, so the comparison tells the precisions apart.
 * - fp32 is what it was: the ref backend's outputs, gradients, parameters
 *   after SGD steps and statistics, bit for bit, against the hashes in
 *   tests/fixtures/nn_fp32_bits.txt, recorded before precision existed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/engine.h"
#include "greenml/nn.h"
#include "helpers.h"
#include "nn/backend.h"

#ifndef GM_TEST_FIXTURES
#define GM_TEST_FIXTURES "tests/fixtures"
#endif

static uint32_t bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof(u));
  return u;
}

static float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof(x));
  return x;
}

#define assert_rounds(in_bits, out_bits)                                       \
  assert_int_equal(bits(gm_nn_bf16_round(from_bits(in_bits))), (out_bits))

static void round_exact_cases(void **state) {
  (void)state;
  /* values bfloat16 holds stay */
  assert_rounds(0x3F800000u, 0x3F800000u); /* 1 */
  assert_rounds(0x00000000u, 0x00000000u); /* +0 */
  assert_rounds(0x80000000u, 0x80000000u); /* -0 keeps its sign */
  assert_rounds(0xC0490000u, 0xC0490000u); /* -3.140625 */
  /* 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to the even, 1 */
  assert_rounds(0x3F808000u, 0x3F800000u);
  /* 1 + 3 x 2^-8: halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even) */
  assert_rounds(0x3F818000u, 0x3F820000u);
  assert_rounds(0xBF818000u, 0xBF820000u); /* the same, negative */
  /* just above and below half */
  assert_rounds(0x3F808001u, 0x3F810000u);
  assert_rounds(0x3F807FFFu, 0x3F800000u);
  /* a carry into the exponent: 2 - 2^-9 rounds to 2 */
  assert_rounds(0x3FFFC000u, 0x40000000u);
  /* subnormals round like any other value */
  assert_rounds(0x00000001u, 0x00000000u); /* 2^-149 -> 0 */
  assert_rounds(0x00008000u, 0x00000000u); /* tie, even: 0 */
  assert_rounds(0x00018000u, 0x00020000u); /* tie, odd: up */
  assert_rounds(0x00010000u, 0x00010000u); /* representable */
  assert_rounds(0x807FFFFFu, 0x80800000u); /* up into the normals */
  /* the largest: below half stays finite, a tie or more is infinity */
  assert_rounds(0x7F7F7FFFu, 0x7F7F0000u);
  assert_rounds(0x7F7F8000u, 0x7F800000u);
  assert_rounds(0x7F7FFFFFu, 0x7F800000u);
  assert_rounds(0xFF7FFFFFu, 0xFF800000u);
  /* infinities stay; NaN stays NaN, even one whose payload is in the lower
   * half only (truncation would make it infinity) */
  assert_rounds(0x7F800000u, 0x7F800000u);
  assert_rounds(0xFF800000u, 0xFF800000u);
  assert_true(isnan(gm_nn_bf16_round(from_bits(0x7F800001u))));
  assert_true(isnan(gm_nn_bf16_round(from_bits(0xFF80FFFFu))));
  assert_true(isnan(gm_nn_bf16_round(NAN)));
  assert_int_equal(bits(gm_nn_bf16_round(from_bits(0x7FC00000u))), 0x7FC00000u);
  /* every bfloat16 value is kept as it is */
  for (uint32_t h = 0; h < 0x10000u; h++) {
    float x = from_bits(h << 16);
    if (isnan(x))
      assert_true(isnan(gm_nn_bf16_round(x)));
    else
      assert_int_equal(bits(gm_nn_bf16_round(x)), h << 16);
  }
}

/* The definition, apart from the bit trick: the two bfloat16 values around
 * x (toward and away from zero) and the nearer one in double, the even one
 * on a tie; beyond the largest finite one, infinity when x is at least
 * halfway to 2^128. */
static uint32_t round_by_definition(uint32_t u) {
  const uint32_t sign = u & 0x80000000u, mag = u & 0x7FFFFFFFu;
  const uint32_t lo = mag & 0xFFFF0000u, hi = lo + 0x10000u;
  double x = fabs((double)from_bits(mag));
  double dlo = x - (double)from_bits(lo);
  double dhi =
      hi >= 0x7F800000u ? ldexp(1.0, 128) - x : (double)from_bits(hi) - x;
  uint32_t pick;
  if (dlo < dhi)
    pick = lo;
  else if (dhi < dlo)
    pick = hi;
  else
    pick = (lo >> 16) & 1u ? hi : lo;
  return sign | pick;
}

static void round_matches_definition(void **state) {
  (void)state;
  uint64_t s = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 1000000; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    uint32_t u = (uint32_t)(s >> 17);
    if ((u & 0x7F800000u) == 0x7F800000u)
      continue; /* infinities and NaN: above */
    uint32_t want = round_by_definition(u);
    uint32_t got = bits(gm_nn_bf16_round(from_bits(u)));
    if (got != want)
      fail_msg("0x%08x rounds to 0x%08x, the definition says 0x%08x", u, got,
               want);
  }
}

/* ---- the ref backend in bf16 ------------------------------------------- */

static float r16(float x) { return gm_nn_bf16_round(x); }

static void fill(float *v, size_t n, uint64_t seed, double scale) {
  uint64_t s = seed * 0x9E3779B97F4A7C15u + 1;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v[i] = (float)(((double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0) * scale);
  }
}

/* A sum of products as double, with the bound of float32 accumulation:
 * n x 2^-24 x sum |terms|, plus the final rounding. */
struct acc {
  double sum, abs;
  int n;
};

static void acc_add(struct acc *a, double t) {
  a->sum += t;
  a->abs += fabs(t);
  a->n++;
}

static double acc_tol(const struct acc *a) {
  return ((double)a->n + 2.0) * 0x1.0p-24 * a->abs + 1e-30;
}

/* Checks got against the sums; counts the elements where other (the same
 * quantity in the other precision) is beyond the tolerance. */
static size_t check(const char *what, const float *got, const struct acc *want,
                    const float *other, size_t n) {
  size_t apart = 0;
  for (size_t i = 0; i < n; i++) {
    double tol = acc_tol(&want[i]);
    if (fabs((double)got[i] - want[i].sum) > tol)
      fail_msg("%s[%zu] = %.9g, the rounded operands give %.9g (tolerance "
               "%.3g)",
               what, i, (double)got[i], want[i].sum, tol);
    if (other && fabs((double)other[i] - want[i].sum) > tol)
      apart++;
  }
  return apart;
}

/* Convolution geometry of the test: input N x CI x H x W. */
#define N 2
#define CI 4
#define H 7
#define CA 6 /* conv a: 3x3, pad 1, stride 1, groups 2, bias */
#define CB 4 /* conv b: 3x3, pad 1, stride 2, groups 1, bias */
#define HB 4

struct conv_geom {
  int cin, cout, h, oh, k, stride, pad, groups;
};

/* y = conv(x, w) + b in double on the rounded operands (bf16: true) or
 * as they are. */
static void conv_ref(const struct conv_geom *g, const float *x, const float *w,
                     const float *b, struct acc *y, bool bf16) {
  const int cin_g = g->cin / g->groups, cout_g = g->cout / g->groups;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < g->cout; o++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->oh; ox++) {
          struct acc *a = &y[((n * g->cout + o) * g->oh + oy) * g->oh + ox];
          *a = (struct acc){0};
          acc_add(a, b[o]);
          for (int c = 0; c < cin_g; c++)
            for (int ky = 0; ky < g->k; ky++)
              for (int kx = 0; kx < g->k; kx++) {
                int iy = oy * g->stride - g->pad + ky;
                int ix = ox * g->stride - g->pad + kx;
                if (iy < 0 || ix < 0 || iy >= g->h || ix >= g->h)
                  continue;
                int ci = o / cout_g * cin_g + c;
                float xv = x[((n * g->cin + ci) * g->h + iy) * g->h + ix];
                float wv = w[((o * cin_g + c) * g->k + ky) * g->k + kx];
                if (bf16) {
                  xv = r16(xv);
                  wv = r16(wv);
                }
                acc_add(a, (double)xv * (double)wv);
              }
        }
}

/* dw, db and dx of a convolution from x, w and dy, in double on the
 * rounded operands (or as they are). */
static void conv_back_ref(const struct conv_geom *g, const float *x,
                          const float *w, const float *dy, struct acc *dw,
                          struct acc *db, struct acc *dx, bool bf16) {
  const int cin_g = g->cin / g->groups, cout_g = g->cout / g->groups;
  const int nw = g->cout * cin_g * g->k * g->k;
  for (int i = 0; i < nw; i++)
    dw[i] = (struct acc){0};
  for (int o = 0; o < g->cout; o++)
    db[o] = (struct acc){0};
  for (int i = 0; dx && i < N * g->cin * g->h * g->h; i++)
    dx[i] = (struct acc){0};
  for (int n = 0; n < N; n++)
    for (int o = 0; o < g->cout; o++)
      for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->oh; ox++) {
          float d = dy[((n * g->cout + o) * g->oh + oy) * g->oh + ox];
          if (bf16)
            d = r16(d);
          acc_add(&db[o], d);
          for (int c = 0; c < cin_g; c++)
            for (int ky = 0; ky < g->k; ky++)
              for (int kx = 0; kx < g->k; kx++) {
                int iy = oy * g->stride - g->pad + ky;
                int ix = ox * g->stride - g->pad + kx;
                if (iy < 0 || ix < 0 || iy >= g->h || ix >= g->h)
                  continue;
                int ci = o / cout_g * cin_g + c;
                size_t xi = (size_t)((n * g->cin + ci) * g->h + iy) * g->h + ix;
                size_t wi = (size_t)((o * cin_g + c) * g->k + ky) * g->k + kx;
                float xv = bf16 ? r16(x[xi]) : x[xi];
                float wv = bf16 ? r16(w[wi]) : w[wi];
                acc_add(&dw[wi], (double)d * (double)xv);
                if (dx)
                  acc_add(&dx[xi], (double)d * (double)wv);
              }
        }
}

static void as_floats(const struct acc *a, float *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = (float)a[i].sum;
}

static struct gm_nn_engine *engine(const struct gm_nn_net *net,
                                   const char *backend,
                                   enum gm_nn_precision p) {
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.backend = backend;
  cfg.threads = 1;
  cfg.max_batch = N;
  cfg.precision = p;
  struct gm_nn_engine *e = NULL;
  char err[256] = "";
  if (gm_nn_engine_create(net, &cfg, &e, err, sizeof(err)) != GM_OK)
    fail_msg("engine: %s", err);
  assert_int_equal(gm_nn_engine_precision(e), p);
  return e;
}

/* Forward (training) and backward of net in precision p on backend:
 * out, grads; and an evaluation forward, which the oneDNN backend runs on
 * its inference graph: eval. */
static void run(const struct gm_nn_net *net, const char *backend,
                enum gm_nn_precision p, const float *params, size_t np,
                const float *x, const float *dout, float *out, float *eval,
                float *grads) {
  struct gm_nn_engine *e = engine(net, backend, p);
  assert_int_equal(gm_nn_engine_set_params(e, params, np), GM_OK);
  assert_int_equal(gm_nn_engine_forward(e, x, N, false, 1, eval), GM_OK);
  assert_int_equal(gm_nn_engine_forward(e, x, N, true, 1, out), GM_OK);
  assert_int_equal(gm_nn_engine_backward(e, dout), GM_OK);
  assert_int_equal(gm_nn_engine_get_grads(e, grads, np), GM_OK);
  gm_nn_engine_destroy(e);
}

static void conv_case(const char *backend) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(CI, H, H, &net), GM_OK);
  int a = gm_nn_conv2d(net, gm_nn_input(net), "a", CA, 3, 1, 1, 2, true);
  gm_nn_conv2d(net, a, "b", CB, 3, 2, 1, 1, true);
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  const struct conv_geom ga = {CI, CA, H, H, 3, 1, 1, 2};
  const struct conv_geom gb = {CA, CB, H, HB, 3, 2, 1, 1};
  /* parameters in graph order: a.weight, a.bias, b.weight, b.bias */
  const size_t nwa = CA * (CI / 2) * 9, nwb = CB * CA * 9;
  const size_t np = nwa + CA + nwb + CB;
  float *p = malloc(np * sizeof(float));
  fill(p, np, 1, 0.5);
  const float *wa = p, *ba = p + nwa, *wb = ba + CA, *bb = wb + nwb;
  const size_t nx = N * CI * H * H, nya = N * CA * H * H,
               nyb = N * CB * HB * HB;
  float *x = malloc(nx * sizeof(float)), *dout = malloc(nyb * sizeof(float));
  fill(x, nx, 2, 2.0);
  fill(dout, nyb, 3, 1.0);
  float *out16 = malloc(nyb * sizeof(float)),
        *out32 = malloc(nyb * sizeof(float));
  float *e16 = malloc(nyb * sizeof(float)), *e32 = malloc(nyb * sizeof(float));
  float *g16 = malloc(np * sizeof(float)), *g32 = malloc(np * sizeof(float));
  run(net, backend, GM_NN_BF16, p, np, x, dout, out16, e16, g16);
  run(net, backend, GM_NN_FP32, p, np, x, dout, out32, e32, g32);

  /* forward: a's output in float32 (as the engine keeps it), then b's */
  struct acc *ya = calloc(nya, sizeof(*ya)), *yb = calloc(nyb, sizeof(*yb));
  float *ya_f = malloc(nya * sizeof(float));
  conv_ref(&ga, x, wa, ba, ya, true);
  as_floats(ya, ya_f, nya);
  conv_ref(&gb, ya_f, wb, bb, yb, true);
  size_t apart = check("bf16 output", out16, yb, out32, nyb);
  assert_true(apart > nyb / 2); /* fp32 is another computation */
  check("bf16 evaluation output", e16, yb, NULL, nyb);

  /* backward: b's gradients from dout, a's from b's input gradient */
  struct acc *dwb = calloc(nwb, sizeof(*dwb)), *dbb = calloc(CB, sizeof(*dbb));
  struct acc *dya = calloc(nya, sizeof(*dya));
  struct acc *dwa = calloc(nwa, sizeof(*dwa)), *dba = calloc(CA, sizeof(*dba));
  float *dya_f = malloc(nya * sizeof(float));
  conv_back_ref(&gb, ya_f, wb, dout, dwb, dbb, dya, true);
  as_floats(dya, dya_f, nya);
  conv_back_ref(&ga, x, wa, dya_f, dwa, dba, NULL, true);
  size_t apart_g =
      check("bf16 b.weight grad", g16 + nwa + CA + 0, dwb, g32 + nwa + CA, nwb);
  check("bf16 b.bias grad", g16 + nwa + CA + nwb, dbb, NULL, CB);
  apart_g += check("bf16 a.weight grad", g16, dwa, g32, nwa);
  check("bf16 a.bias grad", g16 + nwa, dba, NULL, CA);
  assert_true(apart_g > (nwa + nwb) / 2);

  /* and fp32 is the same sums on the operands as they are */
  conv_ref(&ga, x, wa, ba, ya, false);
  as_floats(ya, ya_f, nya);
  conv_ref(&gb, ya_f, wb, bb, yb, false);
  check("fp32 output", out32, yb, NULL, nyb);
  check("fp32 evaluation output", e32, yb, NULL, nyb);
  conv_back_ref(&gb, ya_f, wb, dout, dwb, dbb, dya, false);
  as_floats(dya, dya_f, nya);
  conv_back_ref(&ga, x, wa, dya_f, dwa, dba, NULL, false);
  check("fp32 a.weight grad", g32, dwa, NULL, nwa);
  check("fp32 b.weight grad", g32 + nwa + CA, dwb, NULL, nwb);

  free(ya), free(yb), free(ya_f), free(dwb), free(dbb), free(dya);
  free(dwa), free(dba), free(dya_f), free(p), free(x), free(dout);
  free(out16), free(out32), free(e16), free(e32), free(g16), free(g32);
  gm_nn_net_destroy(net);
}

/* Two linear layers, 24 -> 10 -> 3, with biases. */
#define LI 24
#define LH 10
#define LO 3

static void linear_ref(int in, int out, const float *x, const float *w,
                       const float *b, struct acc *y, bool bf16) {
  for (int n = 0; n < N; n++)
    for (int o = 0; o < out; o++) {
      struct acc *a = &y[n * out + o];
      *a = (struct acc){0};
      acc_add(a, b[o]);
      for (int i = 0; i < in; i++) {
        float xv = x[n * in + i], wv = w[o * in + i];
        acc_add(a, bf16 ? (double)r16(xv) * (double)r16(wv)
                        : (double)xv * (double)wv);
      }
    }
}

static void linear_case(const char *backend) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(LI, 1, 1, &net), GM_OK);
  int a = gm_nn_linear(net, gm_nn_input(net), "a", LH, true);
  gm_nn_linear(net, a, "b", LO, true);
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  const size_t np = LH * LI + LH + LO * LH + LO;
  float p[LH * LI + LH + LO * LH + LO], x[N * LI], dout[N * LO];
  fill(p, np, 4, 0.5);
  fill(x, N * LI, 5, 3.0);
  fill(dout, N * LO, 6, 1.0);
  const float *wa = p, *ba = p + LH * LI, *wb = ba + LH;
  float out16[N * LO], out32[N * LO], e16[N * LO], e32[N * LO],
      g16[sizeof(p) / sizeof(float)], g32[sizeof(p) / sizeof(float)];
  run(net, backend, GM_NN_BF16, p, np, x, dout, out16, e16, g16);
  run(net, backend, GM_NN_FP32, p, np, x, dout, out32, e32, g32);

  struct acc ya[N * LH], yb[N * LO];
  float ya_f[N * LH];
  linear_ref(LI, LH, x, wa, ba, ya, true);
  as_floats(ya, ya_f, N * LH);
  linear_ref(LH, LO, ya_f, wb, ba + LH + LO * LH, yb, true);
  assert_true(check("bf16 output", out16, yb, out32, N * LO) > 0);
  check("bf16 evaluation output", e16, yb, NULL, N * LO);

  /* backward: dW_b = dy^T ya, dx_b = dy W_b, then dW_a = dx_b^T x */
  struct acc dwb[LO * LH], dya[N * LH], dwa[LH * LI], dba[LH];
  float dya_f[N * LH];
  memset(dya, 0, sizeof(dya));
  for (int o = 0; o < LO; o++)
    for (int i = 0; i < LH; i++) {
      dwb[o * LH + i] = (struct acc){0};
      for (int n = 0; n < N; n++)
        acc_add(&dwb[o * LH + i],
                (double)r16(dout[n * LO + o]) * (double)r16(ya_f[n * LH + i]));
    }
  for (int n = 0; n < N; n++)
    for (int i = 0; i < LH; i++)
      for (int o = 0; o < LO; o++)
        acc_add(&dya[n * LH + i],
                (double)r16(dout[n * LO + o]) * (double)r16(wb[o * LH + i]));
  as_floats(dya, dya_f, N * LH);
  for (int o = 0; o < LH; o++) {
    dba[o] = (struct acc){0};
    for (int n = 0; n < N; n++)
      acc_add(&dba[o], r16(dya_f[n * LH + o]));
    for (int i = 0; i < LI; i++) {
      dwa[o * LI + i] = (struct acc){0};
      for (int n = 0; n < N; n++)
        acc_add(&dwa[o * LI + i],
                (double)r16(dya_f[n * LH + o]) * (double)r16(x[n * LI + i]));
    }
  }
  size_t apart = check("bf16 b.weight grad", g16 + LH * LI + LH, dwb,
                       g32 + LH * LI + LH, LO * LH);
  apart += check("bf16 a.weight grad", g16, dwa, g32, LH * LI);
  check("bf16 a.bias grad", g16 + LH * LI, dba, NULL, LH);
  assert_true(apart > (LO * LH + LH * LI) / 2);
  gm_nn_net_destroy(net);
}

/* Runs a case on every backend that computes in bf16 here; ref always
 * does. */
static void on_bf16_backends(void (*one)(const char *)) {
  int ran = 0;
  for (size_t i = 0; i < gm__nn_backend_count; i++) {
    const struct gm__nn_backend_ops *b = gm__nn_backends[i];
    if (!gm__nn_backend_has_precision(b, GM_NN_BF16))
      continue;
    print_message("backend %s\n", b->name);
    one(b->name);
    ran++;
  }
  assert_true(ran >= 1);
}

static void conv_forward_backward(void **state) {
  (void)state;
  on_bf16_backends(conv_case);
}

static void linear_forward_backward(void **state) {
  (void)state;
  on_bf16_backends(linear_case);
}

/* ---- fp32 unchanged ---------------------------------------------------- */

/* FNV-1a over the bytes of n floats, continuing h. */
static uint64_t fnv(uint64_t h, const float *v, size_t n) {
  const unsigned char *b = (const unsigned char *)v;
  for (size_t i = 0; i < n * sizeof(float); i++) {
    h ^= b[i];
    h *= 0x100000001B3u;
  }
  return h;
}

/* The hash of what the ref backend computes in fp32 for a zoo model on a
 * batch of 2 seeded images: two training steps (forward outputs,
 * gradients, parameters after each SGD step, statistics) and an
 * evaluation forward. */
static uint64_t fp32_hash(const char *model) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build(model, &net), GM_OK);
  struct gm_nn_engine_config cfg = gm_nn_engine_config_default();
  cfg.backend = "ref";
  cfg.max_batch = 2;
  struct gm_nn_engine *e = NULL;
  assert_int_equal(gm_nn_engine_create(net, &cfg, &e, NULL, 0), GM_OK);
  assert_int_equal(gm_nn_engine_init(e, 7), GM_OK);
  const size_t np = gm_nn_engine_param_floats(e),
               ns = gm_nn_engine_stat_floats(e);
  struct gm_nn_shape in = gm_nn_node_shape(net, 0);
  const int k = gm_nn_node_shape(net, gm_nn_output(net)).c;
  const size_t nx = 2 * (size_t)in.c * (size_t)in.h * (size_t)in.w;
  float *x = malloc(nx * sizeof(float)), *out = malloc(2 * (size_t)k * 4);
  float *dl = malloc(2 * (size_t)k * 4), *p = malloc((np + 1) * 4);
  float *s = malloc((ns + 1) * 4);
  fill(x, nx, 9, 1.0);
  int32_t labels[2] = {1, 3};
  struct gm_nn_sgd opt = gm_nn_sgd_default();
  opt.lr = 0.05;
  uint64_t h = 0xCBF29CE484222325u;
  for (int step = 0; step < 2; step++) {
    double loss;
    assert_int_equal(gm_nn_engine_forward(e, x, 2, true, 11 + step, out),
                     GM_OK);
    assert_int_equal(gm_nn_softmax_xent(out, labels, 2, k, dl, &loss, NULL),
                     GM_OK);
    assert_int_equal(gm_nn_engine_backward(e, dl), GM_OK);
    h = fnv(h, out, 2 * (size_t)k);
    assert_int_equal(gm_nn_engine_get_grads(e, p, np), GM_OK);
    h = fnv(h, p, np);
    assert_int_equal(gm_nn_engine_sgd_step(e, &opt), GM_OK);
    assert_int_equal(gm_nn_engine_get_params(e, p, np), GM_OK);
    h = fnv(h, p, np);
  }
  assert_int_equal(gm_nn_engine_get_stats(e, s, ns), GM_OK);
  h = fnv(h, s, ns);
  assert_int_equal(gm_nn_engine_forward(e, x, 2, false, 0, out), GM_OK);
  h = fnv(h, out, 2 * (size_t)k);
  gm_nn_engine_destroy(e);
  gm_nn_net_destroy(net);
  free(x), free(out), free(dl), free(p), free(s);
  return h;
}

static void fp32_bit_for_bit(void **state) {
  (void)state;
  /* GREENML_WRITE_FP32_BITS=FILE records the hashes instead (how the
   * fixture was made, from the engine before precision existed). */
  const char *write = getenv("GREENML_WRITE_FP32_BITS");
  FILE *f = fopen(write ? write : GM_TEST_FIXTURES "/nn_fp32_bits.txt",
                  write ? "w" : "r");
  assert_non_null(f);
  if (write) {
    const char *models[] = {"LeNet", "MobileNet", "ShuffleNetV2",
                            "EfficientNetB0", "PNASNetB"};
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
      fprintf(f, "%s %016llx\n", models[i],
              (unsigned long long)fp32_hash(models[i]));
    fclose(f);
    return;
  }
  char line[256];
  int checked = 0;
  while (fgets(line, sizeof(line), f)) {
    char model[64];
    unsigned long long want;
    if (line[0] == '#' || sscanf(line, "%63s %llx", model, &want) != 2)
      continue;
    uint64_t got = fp32_hash(model);
    print_message("%-16s %016llx\n", model, (unsigned long long)got);
    if (got != want)
      fail_msg("%s in fp32 computes something else than before: hash "
               "%016llx, recorded %016llx",
               model, (unsigned long long)got, want);
    checked++;
  }
  fclose(f);
  assert_true(checked >= 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_exact_cases),
      cmocka_unit_test(round_matches_definition),
      cmocka_unit_test(conv_forward_backward),
      cmocka_unit_test(linear_forward_backward),
      cmocka_unit_test(fp32_bit_for_bit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
