/* bench-roofline.c: what this machine's CPU can do, measured with the
 * library greenml's engine computes with (a benchmark probe, not a test).
 *
 * For each thread count asked (1, and --threads T when T > 1):
 *   - compute: a large matmul (M = N = K = 2048) and a large 3x3
 *     convolution (N 128, 128 -> 128 channels, 16 x 16, stride 1, padding
 *     1, direct algorithm, layouts of oneDNN's choosing), in f32 and, when
 *     the effective ISA oneDNN reports has bf16 arithmetic (avx512_core_bf16
 *     or AMX), in bf16 (bf16 sources and weights, f32 destination);
 *     FLOPs = 2 x multiply-accumulates;
 *   - memory: STREAM-style copy (c = a, 16 bytes an element) and triad
 *     (a = b + s c, 24 bytes an element) over arrays of 2^24 doubles (128 MiB
 *     each, far beyond the caches), OpenMP over the elements.
 * Each kernel runs once untimed, then repeatedly for at least --seconds;
 * the best repetition is the peak (the figure the roofline uses) and the
 * median is given beside it. The roofline of a thread count is
 * min(peak, bandwidth x arithmetic intensity): its ridge point is
 * peak / triad bandwidth, in FLOP per byte.
 *
 * Prints one JSON document on stdout; diagnostics go to stderr.
 * usage: bench-roofline [--threads T] [--seconds S] [--quick]
 *   --quick: small shapes and arrays (checks that it runs; the figures are
 *   not peaks). Built by CMake from scripts/ with oneDNN (GREENML_ONEDNN). */
#define _GNU_SOURCE
#include <dnnl.h>
#include <dnnl_debug.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REPS 4096

struct timing {
  double best_s, median_s;
  int reps;
};

static dnnl_engine_t eng;
static dnnl_stream_t strm;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void die(const char *what, dnnl_status_t st) {
  fprintf(stderr, "bench-roofline: %s: %s\n", what, dnnl_status2str(st));
  exit(1);
}

#define CHECK(call)                                                            \
  do {                                                                         \
    dnnl_status_t st_ = (call);                                                \
    if (st_ != dnnl_success)                                                   \
      die(#call, st_);                                                         \
  } while (0)

/* Runs fn(ctx) once untimed, then at least 3 times and for at least
 * seconds in all. */
static struct timing time_it(void (*fn)(void *), void *ctx, double seconds) {
  static double t[MAX_REPS];
  struct timing r = {0};
  fn(ctx);
  double start = now_s();
  int n = 0;
  while (n < MAX_REPS && (n < 3 || now_s() - start < seconds)) {
    double t0 = now_s();
    fn(ctx);
    t[n++] = now_s() - t0;
  }
  qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
  r.best_s = t[0];
  r.median_s = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  r.reps = n;
  return r;
}

/* ---- oneDNN kernels ---------------------------------------------------- */

struct prim {
  dnnl_primitive_t p;
  dnnl_exec_arg_t args[4];
  int nargs;
  dnnl_memory_t mem[4];
  char impl[96];
};

static void prim_run(void *ctx) {
  struct prim *k = ctx;
  CHECK(dnnl_primitive_execute(k->p, strm, k->nargs, k->args));
  CHECK(dnnl_stream_wait(strm));
}

/* A memory of the layout pd chose for what, filled with a small value of
 * its data type (no denormals). */
static dnnl_memory_t filled(const_dnnl_primitive_desc_t pd, dnnl_query_t what,
                            dnnl_data_type_t dt) {
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, 0);
  dnnl_memory_t m;
  void *h;
  CHECK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  CHECK(dnnl_memory_get_data_handle(m, &h));
  size_t bytes = dnnl_memory_desc_get_size(md);
  if (dt == dnnl_bf16) {
    uint16_t *p = h;
    for (size_t i = 0; i < bytes / 2; i++)
      p[i] = 0x3c00; /* 2^-7 */
  } else {
    float *p = h;
    for (size_t i = 0; i < bytes / 4; i++)
      p[i] = 0.0078125f;
  }
  return m;
}

static void prim_finish(struct prim *k, dnnl_primitive_desc_t pd) {
  const char *impl = NULL;
  CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
  snprintf(k->impl, sizeof(k->impl), "%s", impl ? impl : "?");
  CHECK(dnnl_primitive_create(&k->p, pd));
  CHECK(dnnl_primitive_desc_destroy(pd));
}

static void prim_free(struct prim *k) {
  dnnl_primitive_destroy(k->p);
  for (int i = 0; i < k->nargs; i++)
    dnnl_memory_destroy(k->mem[i]);
}

/* C[M,N] = A[M,K] B[K,N]; MACs M N K. */
static void matmul_make(struct prim *k, dnnl_data_type_t dt, dnnl_dim_t m,
                        dnnl_dim_t n, dnnl_dim_t kk) {
  dnnl_memory_desc_t a, b, c;
  dnnl_dims_t da = {m, kk}, db = {kk, n}, dc = {m, n};
  CHECK(dnnl_memory_desc_init_by_tag(&a, 2, da, dt, dnnl_ab));
  CHECK(dnnl_memory_desc_init_by_tag(&b, 2, db, dt, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&c, 2, dc, dnnl_f32, dnnl_ab));
  dnnl_matmul_desc_t d;
  CHECK(dnnl_matmul_desc_init(&d, &a, &b, NULL, &c));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &d, NULL, eng, NULL));
  k->mem[0] = filled(pd, dnnl_query_src_md, dt);
  k->mem[1] = filled(pd, dnnl_query_weights_md, dt);
  k->mem[2] = filled(pd, dnnl_query_dst_md, dnnl_f32);
  k->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, k->mem[0]};
  k->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, k->mem[1]};
  k->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, k->mem[2]};
  k->nargs = 3;
  prim_finish(k, pd);
}

/* 3x3, stride 1, padding 1; MACs N OC H W IC 9. */
static void conv_make(struct prim *k, dnnl_data_type_t dt, dnnl_dim_t n,
                      dnnl_dim_t c, dnnl_dim_t hw) {
  dnnl_memory_desc_t s, w, d;
  dnnl_dims_t ds = {n, c, hw, hw}, dw = {c, c, 3, 3};
  CHECK(dnnl_memory_desc_init_by_tag(&s, 4, ds, dt, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&w, 4, dw, dt, dnnl_format_tag_any));
  CHECK(dnnl_memory_desc_init_by_tag(&d, 4, ds, dnnl_f32, dnnl_format_tag_any));
  dnnl_dims_t strides = {1, 1}, pad = {1, 1};
  dnnl_convolution_desc_t cd;
  CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                           dnnl_convolution_direct, &s, &w,
                                           NULL, &d, strides, pad, pad));
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL));
  k->mem[0] = filled(pd, dnnl_query_src_md, dt);
  k->mem[1] = filled(pd, dnnl_query_weights_md, dt);
  k->mem[2] = filled(pd, dnnl_query_dst_md, dnnl_f32);
  k->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, k->mem[0]};
  k->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, k->mem[1]};
  k->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, k->mem[2]};
  k->nargs = 3;
  prim_finish(k, pd);
}

/* ---- memory bandwidth ---------------------------------------------------- */

struct stream {
  double *a, *b, *c;
  long n;
};

static void stream_copy(void *ctx) {
  struct stream *s = ctx;
  double *restrict a = s->a, *restrict c = s->c;
  long n = s->n;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++)
    c[i] = a[i];
}

static void stream_triad(void *ctx) {
  struct stream *s = ctx;
  double *restrict a = s->a, *restrict b = s->b, *restrict c = s->c;
  long n = s->n;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; i++)
    a[i] = b[i] + 3.0 * c[i];
}

/* ---- output ------------------------------------------------------------ */

static int first_row = 1;

static void row_compute(int threads, const char *kernel, const char *prec,
                        const char *shape, double flop, struct timing t,
                        const char *impl) {
  printf("%s\n    {\"threads\": %d, \"kernel\": \"%s\", \"precision\": \"%s\", "
         "\"shape\": \"%s\", \"gflop\": %.4f, \"gflops\": %.2f, "
         "\"gflops_median\": %.2f, \"reps\": %d, \"impl\": \"%s\"}",
         first_row ? "" : ",", threads, kernel, prec, shape, flop * 1e-9,
         flop / t.best_s * 1e-9, flop / t.median_s * 1e-9, t.reps, impl);
  first_row = 0;
}

static void row_memory(int threads, const char *kernel, double bytes,
                       struct timing t) {
  printf("%s\n    {\"threads\": %d, \"kernel\": \"%s\", \"bytes\": %.0f, "
         "\"gb_per_s\": %.2f, \"gb_per_s_median\": %.2f, \"reps\": %d}",
         first_row ? "" : ",", threads, kernel, bytes, bytes / t.best_s * 1e-9,
         bytes / t.median_s * 1e-9, t.reps);
  first_row = 0;
}

struct peaks {
  double f32, bf16, triad;
};

static struct peaks run_threads(int threads, int bf16, double seconds,
                                int quick, struct stream *s) {
  struct peaks pk = {0};
  omp_set_num_threads(threads);
  dnnl_dim_t mm = quick ? 256 : 2048;
  dnnl_dim_t cn = quick ? 8 : 128, cc = quick ? 32 : 128, chw = 16;
  char mshape[64], cshape[96];
  snprintf(mshape, sizeof(mshape), "M=N=K=%ld", (long)mm);
  snprintf(cshape, sizeof(cshape), "N=%ld C=K=%ld %ldx%ld 3x3 s1 p1", (long)cn,
           (long)cc, (long)chw, (long)chw);
  double mflop = 2.0 * (double)mm * (double)mm * (double)mm;
  double cflop = 2.0 * (double)cn * (double)cc * (double)cc * (double)chw *
                 (double)chw * 9.0;
  const dnnl_data_type_t dts[2] = {dnnl_f32, dnnl_bf16};
  const char *names[2] = {"f32", "bf16"};
  for (int p = 0; p < (bf16 ? 2 : 1); p++) {
    struct prim k = {0};
    matmul_make(&k, dts[p], mm, mm, mm);
    struct timing t = time_it(prim_run, &k, seconds);
    row_compute(threads, "matmul", names[p], mshape, mflop, t, k.impl);
    double g1 = mflop / t.best_s * 1e-9;
    prim_free(&k);
    memset(&k, 0, sizeof(k));
    conv_make(&k, dts[p], cn, cc, chw);
    t = time_it(prim_run, &k, seconds);
    row_compute(threads, "conv3x3", names[p], cshape, cflop, t, k.impl);
    double g2 = cflop / t.best_s * 1e-9;
    prim_free(&k);
    double g = g1 > g2 ? g1 : g2;
    if (p == 0)
      pk.f32 = g;
    else
      pk.bf16 = g;
  }
  struct timing t = time_it(stream_copy, s, seconds);
  row_memory(threads, "copy", 16.0 * (double)s->n, t);
  t = time_it(stream_triad, s, seconds);
  row_memory(threads, "triad", 24.0 * (double)s->n, t);
  pk.triad = 24.0 * (double)s->n / t.best_s * 1e-9;
  return pk;
}

int main(int argc, char **argv) {
  int threads = 1, quick = 0;
  double seconds = 1.0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else {
      fprintf(stderr,
              "usage: bench-roofline [--threads T] [--seconds S] [--quick]\n");
      return 64;
    }
  }
  if (threads < 1 || threads > 4096 || !(seconds >= 0)) {
    fprintf(stderr, "bench-roofline: --threads must be 1 to 4096 and "
                    "--seconds >= 0\n");
    return 64;
  }
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  /* the ISA values are sets of bits: avx512_core_bf16 is a subset of amx */
  int bf16 = ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) ==
             (unsigned)dnnl_cpu_isa_avx512_core_bf16;
  int amx = ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_amx) ==
            (unsigned)dnnl_cpu_isa_avx512_core_amx;
  CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));

  struct stream s = {.n = quick ? (1L << 18) : (1L << 24)};
  s.a = malloc((size_t)s.n * sizeof(double));
  s.b = malloc((size_t)s.n * sizeof(double));
  s.c = malloc((size_t)s.n * sizeof(double));
  if (!s.a || !s.b || !s.c) {
    fprintf(stderr, "bench-roofline: out of memory for 3 x %ld doubles\n", s.n);
    return 71;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (long i = 0; i < s.n; i++) {
    s.a[i] = 1.0;
    s.b[i] = 2.0;
    s.c[i] = 0.5;
  }

  const dnnl_version_t *v = dnnl_version();
  printf("{\n  \"onednn\": \"%d.%d.%d\",\n  \"isa\": \"%s\",\n"
         "  \"bf16\": %s,\n  \"amx\": %s,\n  \"quick\": %s,\n"
         "  \"flop_convention\": \"2 FLOPs per multiply-accumulate\",\n"
         "  \"rows\": [",
         v->major, v->minor, v->patch, dnnl_cpu_isa2str(isa),
         bf16 ? "true" : "false", amx ? "true" : "false",
         quick ? "true" : "false");
  int counts[2] = {1, threads};
  struct peaks pk[2];
  int n_counts = threads > 1 ? 2 : 1;
  for (int i = 0; i < n_counts; i++)
    pk[i] = run_threads(counts[i], bf16, seconds, quick, &s);
  printf("\n  ],\n  \"roofline\": [");
  for (int i = 0; i < n_counts; i++) {
    char b16[32] = "null", r16[32] = "null";
    if (bf16) {
      snprintf(b16, sizeof(b16), "%.2f", pk[i].bf16);
      snprintf(r16, sizeof(r16), "%.2f", pk[i].bf16 / pk[i].triad);
    }
    printf("%s\n    {\"threads\": %d, \"peak_f32_gflops\": %.2f, "
           "\"peak_bf16_gflops\": %s, \"triad_gb_per_s\": %.2f, "
           "\"ridge_f32_flop_per_byte\": %.2f, "
           "\"ridge_bf16_flop_per_byte\": %s}",
           i ? "," : "", counts[i], pk[i].f32, b16, pk[i].triad,
           pk[i].f32 / pk[i].triad, r16);
  }
  printf("\n  ]\n}\n");
  free(s.a);
  free(s.b);
  free(s.c);
  dnnl_stream_destroy(strm);
  dnnl_engine_destroy(eng);
  return 0;
}
