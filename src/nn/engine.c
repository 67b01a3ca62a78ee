/* engine.c: the public engine: picks a backend, initialises parameters the
 * way PyTorch does, computes the loss, and forwards the rest to the
 * backend. The only file that lists backends. */
#define _GNU_SOURCE
#include "greenml/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <zlib.h>

#include "base/fileio.h"
#include "base/util.h"
#include "nn/backend.h"

/* The registry: every backend, fastest first. oneDNN is compiled in when
 * the build finds it (GREENML_ONEDNN, which defines GM_HAVE_ONEDNN); ref
 * always is. */
const struct gm__nn_backend_ops *const gm__nn_backends[] = {
#ifdef GM_HAVE_ONEDNN
    &gm__nn_backend_onednn,
#endif
    &gm__nn_backend_ref,
};

const size_t gm__nn_backend_count =
    sizeof(gm__nn_backends) / sizeof(gm__nn_backends[0]);

struct gm_nn_engine {
  const struct gm_nn_net *net;
  const struct gm__nn_backend_ops *ops;
  enum gm_nn_precision precision;
  struct gm_nn_threads threads;
  void *self;
  size_t n_params, n_stats;
  char err[256];
};

struct gm_nn_engine_config gm_nn_engine_config_default(void) {
  struct gm_nn_engine_config c = {
      .backend = NULL, .max_batch = 128, .threads = 0, .precision = GM_NN_FP32};
  return c;
}

struct gm_nn_sgd gm_nn_sgd_default(void) {
  struct gm_nn_sgd o = {.lr = 0.001, .momentum = 0.9, .weight_decay = 5e-4};
  return o;
}

const char *gm_nn_backend_name(size_t i) {
  return i < gm__nn_backend_count ? gm__nn_backends[i]->name : NULL;
}

bool gm_nn_backend_has_precision(size_t i, enum gm_nn_precision p) {
  return i < gm__nn_backend_count &&
         gm__nn_backend_has_precision(gm__nn_backends[i], p);
}

const char *gm_nn_precision_name(enum gm_nn_precision p) {
  switch (p) {
  case GM_NN_FP32:
    return "fp32";
  case GM_NN_BF16:
    return "bf16";
  }
  return "?";
}

const char *gm_nn_precision_names(void) { return "fp32, bf16"; }

enum gm_status gm_nn_precision_parse(const char *s, enum gm_nn_precision *out) {
  for (int p = 0; s && p < GM_NN_PRECISION_COUNT; p++)
    if (strcasecmp(s, gm_nn_precision_name((enum gm_nn_precision)p)) == 0) {
      if (out)
        *out = (enum gm_nn_precision)p;
      return GM_OK;
    }
  return GM_ERR_INVALID_ARG;
}

/* bfloat16 is the upper half of a float32: adding 0x7FFF plus the lowest
 * kept bit to the pattern and clearing the lower half rounds to nearest,
 * ties to even (a carry into the exponent is the next binade, or infinity
 * past the largest finite value). A NaN is kept a NaN by setting its
 * quiet bit, which the rounding cannot carry away. */
float gm_nn_bf16_round(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof(u));
  if ((u & UINT32_C(0x7F800000)) == UINT32_C(0x7F800000) &&
      (u & UINT32_C(0x007FFFFF)) != 0) {
    u = (u | UINT32_C(0x00400000)) & UINT32_C(0xFFFF0000);
  } else {
    u += UINT32_C(0x7FFF) + ((u >> 16) & 1u);
    u &= UINT32_C(0xFFFF0000);
  }
  memcpy(&x, &u, sizeof(x));
  return x;
}

bool gm__nn_backend_has_precision(const struct gm__nn_backend_ops *b,
                                  enum gm_nn_precision p) {
  if ((int)p < 0 || (int)p >= GM_NN_PRECISION_COUNT)
    return false;
  uint32_t set =
      b->precisions ? b->precisions : GM__NN_PRECISION_BIT(GM_NN_FP32);
  if (b->precisions_here)
    set &= b->precisions_here();
  return (set & GM__NN_PRECISION_BIT(p)) != 0;
}

const char *gm__nn_op_name(enum gm_nn_op op) {
  static const char *const names[GM__NN_OP_COUNT] = {
      "input",     "conv2d",  "batchnorm",      "relu",   "sigmoid", "swish",
      "maxpool",   "avgpool", "global_avgpool", "linear", "flatten", "dropout",
      "drop_path", "add",     "mul_channel",    "concat", "slice",   "shuffle"};
  return (int)op >= 0 && (int)op < GM__NN_OP_COUNT ? names[op] : "?";
}

bool gm__nn_backend_supports_op(const struct gm__nn_backend_ops *b,
                                enum gm_nn_op op) {
  return (int)op >= 0 && (int)op < GM__NN_OP_COUNT &&
         (b->ops & GM__NN_OP_BIT(op)) != 0;
}

bool gm__nn_backend_supports(const struct gm__nn_backend_ops *b,
                             const struct gm_nn_net *net,
                             enum gm_nn_op *missing) {
  for (int id = 0; id < gm_nn_node_count(net); id++) {
    enum gm_nn_op op = gm_nn_node_op(net, id);
    if (!gm__nn_backend_supports_op(b, op)) {
      if (missing)
        *missing = op;
      return false;
    }
  }
  return true;
}

/* "onednn, ref" into buf: every backend of list, or (p >= 0) those that
 * implement precision p ("none" when no backend does). */
static const char *backend_list(const struct gm__nn_backend_ops *const *list,
                                size_t n, int p, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++) {
    if (p >= 0 &&
        !gm__nn_backend_has_precision(list[i], (enum gm_nn_precision)p))
      continue;
    gm__fmt(buf + used, size - used, "%s%s", used ? ", " : "", list[i]->name);
    used = strlen(buf);
  }
  if (!buf[0])
    gm__fmt(buf, size, "none");
  return buf;
}

enum gm_status gm__nn_backend_pick(const struct gm__nn_backend_ops *const *list,
                                   size_t n, const char *name,
                                   const struct gm_nn_net *net,
                                   enum gm_nn_precision p,
                                   const struct gm__nn_backend_ops **out,
                                   char *err, size_t err_size) {
  const struct gm__nn_backend_ops *b = NULL;
  enum gm_nn_op missing = GM_NN_INPUT;
  char names[128], have[128];
  *out = NULL;
  if ((int)p < 0 || (int)p >= GM_NN_PRECISION_COUNT) {
    if (err)
      gm__fmt(err, err_size, "precision %d is not one of %s", (int)p,
              gm_nn_precision_names());
    return GM_ERR_INVALID_ARG;
  }
  for (size_t i = 0; i < n && !b; i++)
    if (name ? strcasecmp(name, list[i]->name) == 0
             : gm__nn_backend_supports(list[i], net, NULL) &&
                   gm__nn_backend_has_precision(list[i], p))
      b = list[i];
  if (!b && name) {
    if (err)
      gm__fmt(err, err_size, "no backend '%s' (available: %s)", name,
              backend_list(list, n, -1, names, sizeof(names)));
    return GM_ERR_NOT_FOUND;
  }
  if (!b) {
    bool ops_somewhere = false;
    for (size_t i = 0; i < n; i++)
      ops_somewhere =
          ops_somewhere || gm__nn_backend_supports(list[i], net, NULL);
    if (err && ops_somewhere)
      gm__fmt(err, err_size,
              "no backend implements every operator of the net in %s "
              "(backends that compute in %s: %s)",
              gm_nn_precision_name(p), gm_nn_precision_name(p),
              backend_list(list, n, (int)p, have, sizeof(have)));
    else if (err)
      gm__fmt(err, err_size,
              "no backend implements every operator of the net (available: "
              "%s)",
              backend_list(list, n, -1, names, sizeof(names)));
    return GM_ERR_NOT_SUPPORTED;
  }
  if (!gm__nn_backend_supports(b, net, &missing)) {
    if (err)
      gm__fmt(err, err_size, "backend '%s' does not implement %s", b->name,
              gm__nn_op_name(missing));
    return GM_ERR_NOT_SUPPORTED;
  }
  if (!gm__nn_backend_has_precision(b, p)) {
    if (err)
      gm__fmt(err, err_size,
              "backend '%s' does not compute in %s%s (backends that do: %s)",
              b->name, gm_nn_precision_name(p),
              b->precisions & GM__NN_PRECISION_BIT(p)
                  ? " on this processor (its kernels need an instruction set "
                    "it lacks)"
                  : "",
              backend_list(list, n, (int)p, names, sizeof(names)));
    return GM_ERR_NOT_SUPPORTED;
  }
  *out = b;
  return GM_OK;
}

/* ---- shared helpers
 * ---------------------------------------------------------- */

size_t gm__nn_param_floats(const struct gm_nn_net *net) {
  size_t n = 0;
  for (size_t i = 0; i < gm_nn_param_count(net); i++)
    n += gm__nn_param(net, i)->numel;
  return n;
}

size_t gm__nn_param_offset(const struct gm_nn_net *net, size_t i) {
  size_t off = 0;
  for (size_t k = 0; k < i; k++)
    off += gm__nn_param(net, k)->numel;
  return off;
}

static bool is_counter(const struct gm__nn_tensor_desc *t) {
  return t->ndim == 0;
}

size_t gm__nn_stat_floats(const struct gm_nn_net *net) {
  size_t n = 0;
  for (size_t i = 0; i < gm_nn_buffer_count(net); i++)
    if (!is_counter(gm__nn_buffer(net, i)))
      n += gm__nn_buffer(net, i)->numel;
  return n;
}

long gm__nn_stat_offset(const struct gm_nn_net *net, size_t b) {
  if (is_counter(gm__nn_buffer(net, b)))
    return -1;
  size_t off = 0;
  for (size_t k = 0; k < b; k++)
    if (!is_counter(gm__nn_buffer(net, k)))
      off += gm__nn_buffer(net, k)->numel;
  return (long)off;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void gm__rng_seed(struct gm__rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t gm__rng_next(struct gm__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double gm__rng_uniform(struct gm__rng *r) {
  return (double)(gm__rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- the engine
 * ---------------------------------------------------------------- */

enum gm_status gm_nn_engine_create(const struct gm_nn_net *net,
                                   const struct gm_nn_engine_config *cfg,
                                   struct gm_nn_engine **out, char *err,
                                   size_t err_size) {
  if (!net || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_nn_engine_config c = cfg ? *cfg : gm_nn_engine_config_default();
  if (gm_nn_net_status(net) != GM_OK) {
    if (err)
      gm__fmt(err, err_size, "the net is invalid: %s", gm_nn_net_error(net));
    return GM_ERR_INVALID_ARG;
  }
  if (c.max_batch <= 0 || c.threads < 0) {
    if (err)
      gm__fmt(err, err_size, "max_batch %d / threads %d out of range",
              c.max_batch, c.threads);
    return GM_ERR_INVALID_ARG;
  }
  const struct gm__nn_backend_ops *ops = NULL;
  enum gm_status st =
      gm__nn_backend_pick(gm__nn_backends, gm__nn_backend_count, c.backend, net,
                          c.precision, &ops, err, err_size);
  if (st != GM_OK)
    return st;
  struct gm_nn_engine *e = calloc(1, sizeof(*e));
  if (!e)
    return GM_ERR_NO_MEMORY;
  e->net = net;
  e->ops = ops;
  e->precision = c.precision;
  e->n_params = gm__nn_param_floats(net);
  e->n_stats = gm__nn_stat_floats(net);
  /* 0 threads: as many as the CPUs other processes leave idle now (a
   * failed look leaves every allowed CPU, and says so in the detail) */
  if (!ops->threaded) {
    e->threads = (struct gm_nn_threads){.threads = 1, .busy = -1};
    gm__fmt(e->threads.detail, sizeof(e->threads.detail),
            "the %s backend computes on one thread", ops->name);
  } else if (c.threads > 0) {
    e->threads = (struct gm_nn_threads){.threads = c.threads, .busy = -1};
    gm__fmt(e->threads.detail, sizeof(e->threads.detail), "configured");
  } else {
    (void)gm_nn_threads_choose(NULL, &e->threads);
    c.threads = e->threads.threads;
  }
  enum gm_status rc = ops->create(net, &c, &e->self, err, err_size);
  if (rc != GM_OK) {
    free(e);
    return rc;
  }
  *out = e;
  return GM_OK;
}

void gm_nn_engine_destroy(struct gm_nn_engine *e) {
  if (!e)
    return;
  e->ops->destroy(e->self);
  free(e);
}

const char *gm_nn_engine_backend(const struct gm_nn_engine *e) {
  return e->ops->name;
}

enum gm_nn_precision gm_nn_engine_precision(const struct gm_nn_engine *e) {
  return e->precision;
}

const char *gm_nn_engine_kernels(const struct gm_nn_engine *e) {
  if (!e)
    return "";
  if (e->ops->kernels)
    return e->ops->kernels(e->self);
  return e->ops->name;
}

const struct gm_nn_threads *gm_nn_engine_threads(const struct gm_nn_engine *e) {
  return &e->threads;
}

const char *gm_nn_engine_error(const struct gm_nn_engine *e) {
  if (e->err[0])
    return e->err;
  const char *b = e->ops->error ? e->ops->error(e->self) : NULL;
  return b && *b ? b : "no error";
}

size_t gm_nn_engine_param_floats(const struct gm_nn_engine *e) {
  return e->n_params;
}

size_t gm_nn_engine_stat_floats(const struct gm_nn_engine *e) {
  return e->n_stats;
}

enum gm_status gm_nn_engine_init(struct gm_nn_engine *e, uint64_t seed) {
  const struct gm_nn_net *net = e->net;
  float *p = calloc(e->n_params ? e->n_params : 1, sizeof(float));
  float *s = calloc(e->n_stats ? e->n_stats : 1, sizeof(float));
  if (!p || !s) {
    free(p);
    free(s);
    return GM_ERR_NO_MEMORY;
  }
  struct gm__rng rng;
  gm__rng_seed(&rng, seed);
  size_t off = 0;
  for (size_t i = 0; i < gm_nn_param_count(net); i++) {
    const struct gm__nn_tensor_desc *t = gm__nn_param(net, i);
    if (t->kind == GM__NN_BN_GAMMA || t->kind == GM__NN_BN_BETA) {
      float v = t->kind == GM__NN_BN_GAMMA ? 1.0f : 0.0f;
      for (size_t k = 0; k < t->numel; k++)
        p[off + k] = v;
    } else {
      double bound = 1.0 / sqrt((double)t->fan_in);
      for (size_t k = 0; k < t->numel; k++)
        p[off + k] = (float)((2.0 * gm__rng_uniform(&rng) - 1.0) * bound);
    }
    off += t->numel;
  }
  for (size_t b = 0; b < gm_nn_buffer_count(net); b++) {
    const struct gm__nn_tensor_desc *t = gm__nn_buffer(net, b);
    long so = gm__nn_stat_offset(net, b);
    if (so < 0)
      continue;
    bool var = strstr(t->name, "running_var") != NULL;
    for (size_t k = 0; k < t->numel; k++)
      s[(size_t)so + k] = var ? 1.0f : 0.0f;
  }
  enum gm_status rc = e->ops->set_params(e->self, p);
  if (rc == GM_OK)
    rc = e->ops->set_stats(e->self, s);
  if (rc == GM_OK)
    rc = e->ops->reset_counters(e->self);
  free(p);
  free(s);
  return rc;
}

static enum gm_status check_n(struct gm_nn_engine *e, size_t n, size_t want,
                              const char *what) {
  if (n == want)
    return GM_OK;
  gm__fmt(e->err, sizeof(e->err), "%s: %zu floats given, the net has %zu", what,
          n, want);
  return GM_ERR_INVALID_ARG;
}

enum gm_status gm_nn_engine_get_params(struct gm_nn_engine *e, float *dst,
                                       size_t n) {
  enum gm_status rc = check_n(e, n, e->n_params, "parameters");
  return rc == GM_OK ? e->ops->get_params(e->self, dst) : rc;
}

enum gm_status gm_nn_engine_set_params(struct gm_nn_engine *e, const float *src,
                                       size_t n) {
  enum gm_status rc = check_n(e, n, e->n_params, "parameters");
  return rc == GM_OK ? e->ops->set_params(e->self, src) : rc;
}

enum gm_status gm_nn_engine_get_grads(struct gm_nn_engine *e, float *dst,
                                      size_t n) {
  enum gm_status rc = check_n(e, n, e->n_params, "gradients");
  return rc == GM_OK ? e->ops->get_grads(e->self, dst) : rc;
}

enum gm_status gm_nn_engine_get_stats(struct gm_nn_engine *e, float *dst,
                                      size_t n) {
  enum gm_status rc = check_n(e, n, e->n_stats, "statistics");
  return rc == GM_OK ? e->ops->get_stats(e->self, dst) : rc;
}

enum gm_status gm_nn_engine_set_stats(struct gm_nn_engine *e, const float *src,
                                      size_t n) {
  enum gm_status rc = check_n(e, n, e->n_stats, "statistics");
  return rc == GM_OK ? e->ops->set_stats(e->self, src) : rc;
}

enum gm_status gm_nn_engine_forward(struct gm_nn_engine *e, const float *x,
                                    int n, bool training, uint64_t seed,
                                    float *out) {
  if (!x || !out || n <= 0)
    return GM_ERR_INVALID_ARG;
  e->err[0] = '\0';
  return e->ops->forward(e->self, x, n, training, seed, out);
}

enum gm_status gm_nn_engine_backward(struct gm_nn_engine *e,
                                     const float *dout) {
  if (!dout)
    return GM_ERR_INVALID_ARG;
  return e->ops->backward(e->self, dout);
}

enum gm_status gm_nn_engine_sgd_step(struct gm_nn_engine *e,
                                     const struct gm_nn_sgd *opt) {
  if (!opt || !(opt->lr > 0) || opt->momentum < 0 || opt->weight_decay < 0)
    return GM_ERR_INVALID_ARG;
  return e->ops->sgd_step(e->self, opt);
}

enum gm_status gm_nn_engine_sync(struct gm_nn_engine *e) {
  return e->ops->sync(e->self);
}

enum gm_status gm_nn_softmax_xent(const float *logits, const int32_t *labels,
                                  int n, int k, float *dlogits, double *loss,
                                  int *correct) {
  if (!logits || !labels || n <= 0 || k <= 0)
    return GM_ERR_INVALID_ARG;
  double total = 0;
  int right = 0;
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * (size_t)k;
    int y = labels[i];
    if (y < 0 || y >= k)
      return GM_ERR_INVALID_ARG;
    int arg = 0;
    double mx = z[0];
    for (int j = 1; j < k; j++)
      if (z[j] > mx) {
        mx = z[j];
        arg = j;
      }
    right += arg == y;
    double sum = 0;
    for (int j = 0; j < k; j++)
      sum += exp((double)z[j] - mx);
    double lse = mx + log(sum);
    total += lse - (double)z[y];
    if (dlogits)
      for (int j = 0; j < k; j++)
        dlogits[(size_t)i * (size_t)k + (size_t)j] =
            (float)((exp((double)z[j] - lse) - (j == y ? 1.0 : 0.0)) /
                    (double)n);
  }
  if (loss)
    *loss = total / (double)n;
  if (correct)
    *correct = right;
  return GM_OK;
}

/* ---- checkpoints ---------------------------------------------------------
 *
 * Layout (little-endian, as written by x86-64 and aarch64):
 *   "GMLCKPT1"  magic, 8 bytes
 *   u32 version (2), u32 crc32
 *   char model[64], u32 epoch, u32 reserved, u64 seed
 *   u64 n_params, u64 n_stats, u64 n_counters, i64 sgd_steps
 *   float params[n_params], float stats[n_stats], float momentum[n_params],
 *   i64 counters[n_counters]
 * The file size must be exactly what the header implies. crc32 is zlib's
 * CRC-32 of the whole file with the crc32 field zeroed: a flipped byte
 * anywhere is detected. Version 1 had no checksum and is refused. */

#define CKPT_VERSION 2

struct ckpt_header {
  char magic[8];
  uint32_t version, crc32;
  char model[64];
  uint32_t epoch, reserved1;
  uint64_t seed;
  uint64_t n_params, n_stats, n_counters;
  int64_t steps;
};

static uint32_t crc_add(uint32_t crc, const void *p, size_t n) {
  return (uint32_t)crc32_z(crc, p, n);
}

static size_t n_counters(const struct gm_nn_net *net) {
  size_t n = 0;
  for (size_t i = 0; i < gm_nn_buffer_count(net); i++)
    n += gm__nn_buffer(net, i)->ndim == 0;
  return n;
}

static bool write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    len -= (size_t)w;
  }
  return true;
}

static bool read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    p += r;
    len -= (size_t)r;
  }
  return true;
}

enum gm_status gm_nn_checkpoint_save(struct gm_nn_engine *e, const char *path,
                                     const struct gm_nn_checkpoint_info *info,
                                     char *err, size_t err_size) {
  if (!e || !path || !info)
    return GM_ERR_INVALID_ARG;
  size_t nc = n_counters(e->net);
  float *params = malloc((e->n_params + 1) * sizeof(float));
  float *mom = malloc((e->n_params + 1) * sizeof(float));
  float *stats = malloc((e->n_stats + 1) * sizeof(float));
  int64_t *counters = malloc((nc + 1) * sizeof(int64_t));
  struct ckpt_header h;
  memset(&h, 0, sizeof(h));
  enum gm_status rc = GM_ERR_NO_MEMORY;
  char tmp[4096];
  int fd = -1;
  if (!params || !mom || !stats || !counters)
    goto out;
  rc = e->ops->get_params(e->self, params);
  if (rc == GM_OK)
    rc = e->ops->get_stats(e->self, stats);
  if (rc == GM_OK)
    rc = e->ops->get_state(e->self, mom, &h.steps, counters);
  if (rc != GM_OK) {
    if (err)
      gm__fmt(err, err_size, "cannot read the engine's state: %s",
              gm_nn_engine_error(e));
    goto out;
  }
  memcpy(h.magic, "GMLCKPT1", 8);
  h.version = CKPT_VERSION;
  gm__strlcpy(h.model, info->model, sizeof(h.model));
  h.epoch = info->epoch;
  h.seed = info->seed;
  h.n_params = e->n_params;
  h.n_stats = e->n_stats;
  h.n_counters = nc;
  h.crc32 = 0;
  uint32_t crc = crc_add((uint32_t)crc32_z(0, Z_NULL, 0), &h, sizeof(h));
  crc = crc_add(crc, params, e->n_params * sizeof(float));
  crc = crc_add(crc, stats, e->n_stats * sizeof(float));
  crc = crc_add(crc, mom, e->n_params * sizeof(float));
  crc = crc_add(crc, counters, nc * sizeof(int64_t));
  h.crc32 = crc;
  if (!gm__fmt(tmp, sizeof(tmp), "%s.tmp~", path)) {
    rc = GM_ERR_INVALID_ARG;
    if (err)
      gm__fmt(err, err_size, "checkpoint path '%s' is too long", path);
    goto out;
  }
  /* Created exclusively: a symlink planted at tmp is removed, never
   * written through; rename then replaces whatever stands at path. */
  fd = gm__file_create(tmp, 0644);
  if (fd < 0) {
    int en = errno;
    rc = gm__status_from_errno(en);
    if (err)
      gm__fmt(err, err_size, "cannot create '%s': %s", tmp, strerror(en));
    goto out;
  }
  if (!write_all(fd, &h, sizeof(h)) ||
      !write_all(fd, params, e->n_params * sizeof(float)) ||
      !write_all(fd, stats, e->n_stats * sizeof(float)) ||
      !write_all(fd, mom, e->n_params * sizeof(float)) ||
      !write_all(fd, counters, nc * sizeof(int64_t)) || fsync(fd) != 0) {
    rc = GM_ERR_IO;
    if (err)
      gm__fmt(err, err_size, "cannot write '%s': %s", tmp, strerror(errno));
    close(fd);
    fd = -1;
    unlink(tmp);
    goto out;
  }
  close(fd);
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = GM_ERR_IO;
    if (err)
      gm__fmt(err, err_size, "cannot rename '%s' to '%s': %s", tmp, path,
              strerror(errno));
    unlink(tmp);
    goto out;
  }
  rc = GM_OK;
out:
  free(params);
  free(mom);
  free(stats);
  free(counters);
  return rc;
}

enum gm_status gm_nn_checkpoint_load(struct gm_nn_engine *e, const char *path,
                                     struct gm_nn_checkpoint_info *info,
                                     char *err, size_t err_size) {
  if (!e || !path)
    return GM_ERR_INVALID_ARG;
  int fd = -1;
  char why[128];
  enum gm_status orc = gm__file_open_regular(path, &fd, NULL, why, sizeof(why));
  if (orc != GM_OK) {
    bool missing = errno == ENOENT;
    if (err && orc == GM_ERR_PARSE)
      gm__fmt(err, err_size, "checkpoint '%s' is %s", path, why);
    else if (err)
      gm__fmt(err, err_size, "cannot open checkpoint '%s': %s", path, why);
    return missing ? GM_ERR_NOT_FOUND : orc;
  }
  size_t nc = n_counters(e->net);
  struct ckpt_header h;
  float *params = NULL, *mom = NULL, *stats = NULL;
  int64_t *counters = NULL;
  enum gm_status rc = GM_ERR_PARSE;
  off_t size = lseek(fd, 0, SEEK_END);
  lseek(fd, 0, SEEK_SET);
  if (!read_all(fd, &h, sizeof(h)) || memcmp(h.magic, "GMLCKPT1", 8) != 0) {
    if (err)
      gm__fmt(err, err_size, "'%s' is not a greenml checkpoint", path);
    goto out;
  }
  if (h.version != CKPT_VERSION) {
    if (err)
      gm__fmt(err, err_size,
              "'%s' is a version %u checkpoint; this greenml reads version %d "
              "only (version 1 had no checksum and cannot be verified): train "
              "afresh",
              path, h.version, CKPT_VERSION);
    goto out;
  }
  h.model[sizeof(h.model) - 1] = '\0';
  if (h.n_params != e->n_params || h.n_stats != e->n_stats ||
      h.n_counters != nc) {
    if (err)
      gm__fmt(err, err_size,
              "'%s' holds %s (%llu parameters), not this model (%zu): "
              "pass the checkpoint of the same --model",
              path, h.model, (unsigned long long)h.n_params, e->n_params);
    goto out;
  }
  size_t want = sizeof(h) + (2 * e->n_params + e->n_stats) * sizeof(float) +
                nc * sizeof(int64_t);
  if (size < 0 || (size_t)size != want) {
    if (err)
      gm__fmt(err, err_size,
              "'%s' is %lld bytes, expected %zu (truncated or corrupt)", path,
              (long long)size, want);
    goto out;
  }
  params = malloc((e->n_params + 1) * sizeof(float));
  mom = malloc((e->n_params + 1) * sizeof(float));
  stats = malloc((e->n_stats + 1) * sizeof(float));
  counters = malloc((nc + 1) * sizeof(int64_t));
  if (!params || !mom || !stats || !counters) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  if (!read_all(fd, params, e->n_params * sizeof(float)) ||
      !read_all(fd, stats, e->n_stats * sizeof(float)) ||
      !read_all(fd, mom, e->n_params * sizeof(float)) ||
      !read_all(fd, counters, nc * sizeof(int64_t))) {
    rc = GM_ERR_IO;
    if (err)
      gm__fmt(err, err_size, "cannot read '%s'", path);
    goto out;
  }
  uint32_t want_crc = h.crc32;
  h.crc32 = 0;
  uint32_t crc = crc_add((uint32_t)crc32_z(0, Z_NULL, 0), &h, sizeof(h));
  crc = crc_add(crc, params, e->n_params * sizeof(float));
  crc = crc_add(crc, stats, e->n_stats * sizeof(float));
  crc = crc_add(crc, mom, e->n_params * sizeof(float));
  crc = crc_add(crc, counters, nc * sizeof(int64_t));
  if (crc != want_crc) {
    rc = GM_ERR_PARSE;
    if (err)
      gm__fmt(err, err_size,
              "'%s' fails its checksum (CRC-32 %08x, recorded %08x): the file "
              "is corrupt; nothing was loaded (use an intact copy or train "
              "afresh)",
              path, crc, want_crc);
    goto out;
  }
  rc = e->ops->set_params(e->self, params);
  if (rc == GM_OK)
    rc = e->ops->set_stats(e->self, stats);
  if (rc == GM_OK)
    rc = e->ops->set_state(e->self, mom, h.steps, counters);
  if (rc == GM_OK && info) {
    memset(info, 0, sizeof(*info));
    gm__strlcpy(info->model, h.model, sizeof(info->model));
    info->epoch = h.epoch;
    info->seed = h.seed;
  }
out:
  close(fd);
  free(params);
  free(mom);
  free(stats);
  free(counters);
  return rc;
}
