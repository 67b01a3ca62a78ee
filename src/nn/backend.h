/* backend.h: THE compute interface. One implementation per file in
 * src/nn/backends/, listed only in src/nn/engine.c. A backend owns the
 * memory, layouts and synchronisation of everything it computes: the
 * parameters and their gradients, the optimiser state, the batch-norm
 * statistics and the activations. Host arrays cross the interface in the
 * layouts documented in greenml/engine.h; model code never sees a backend.
 */
#ifndef GM_NN_BACKEND_H
#define GM_NN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/engine.h"
#include "nn/graph.h"

/* The memory a backend planned for the activations, their gradients and
 * its working copies, for a batch of max_batch (see memory below). */
struct gm__nn_memory_plan {
  size_t training;   /* bytes used by a training forward and backward pass */
  size_t evaluation; /* bytes used by an evaluation forward pass */
  size_t naive;      /* bytes if every tensor had a buffer of its own */
};

/* The operators a backend implements, forward and backward, declared as a
 * set of GM__NN_OP_BIT(op) over enum gm_nn_op (greenml/nn.h). The engine
 * gives a net to the first backend, fastest first, that implements every op
 * of it (gm__nn_backend_supports), and refuses a named backend that does
 * not; tests/unit/test_nn_backends.c checks each declared op against ref. */
#define GM__NN_OP_COUNT ((int)GM_NN_SHUFFLE + 1) /* the last op, plus one */
#define GM__NN_OP_BIT(op) (UINT32_C(1) << (unsigned)(op))
#define GM__NN_OPS_ALL (GM__NN_OP_BIT(GM__NN_OP_COUNT) - 1u)

/* The precisions a backend implements, as a set of
 * GM__NN_PRECISION_BIT(p) over enum gm_nn_precision (greenml/engine.h).
 * 0, a table that says nothing, means float32 alone. The engine gives a
 * net to the first backend that implements its operators and the
 * requested precision, and refuses a named backend that lacks it. A
 * backend receives the precision in its create's configuration. */
#define GM__NN_PRECISION_BIT(p) (UINT32_C(1) << (unsigned)(p))
#define GM__NN_PRECISIONS_ALL (GM__NN_PRECISION_BIT(GM_NN_PRECISION_COUNT) - 1u)

struct gm__nn_backend_ops {
  const char *name;
  uint32_t ops;        /* GM__NN_OP_BIT of every op implemented */
  uint32_t precisions; /* GM__NN_PRECISION_BIT of each; 0: fp32 only */
  /* Of those, the ones this processor runs at speed (a backend whose
   * kernels need an instruction set); NULL: all of them. */
  uint32_t (*precisions_here)(void);
  /* Computes with cfg->threads threads (the engine resolves 0 first,
   * gm_nn_threads_choose); false: one thread, whatever it is given. */
  bool threaded;
  /* Builds everything needed to run net for up to cfg->max_batch samples.
   * Parameters and statistics start at zero. err receives the reason on
   * failure. */
  enum gm_status (*create)(const struct gm_nn_net *net,
                           const struct gm_nn_engine_config *cfg, void **self,
                           char *err, size_t err_size);
  void (*destroy)(void *self); /* accepts NULL */
  /* Host copies, layouts of greenml/engine.h. n is checked by the engine. */
  enum gm_status (*set_params)(void *self, const float *src);
  enum gm_status (*get_params)(void *self, float *dst);
  enum gm_status (*get_grads)(void *self, float *dst);
  enum gm_status (*set_stats)(void *self, const float *src);
  enum gm_status (*get_stats)(void *self, float *dst);
  /* Resets every batch counter to 0 (with set_stats at init). */
  enum gm_status (*reset_counters)(void *self);
  /* Optimiser and counter state, for checkpoints: momentum buffers in the
   * parameter layout, the number of SGD steps taken (0: no momentum yet),
   * and one int64 batch counter per batch norm in gm_nn_buffer order. */
  enum gm_status (*get_state)(void *self, float *momentum, int64_t *steps,
                              int64_t *counters);
  enum gm_status (*set_state)(void *self, const float *momentum, int64_t steps,
                              const int64_t *counters);
  enum gm_status (*forward)(void *self, const float *x, int n, bool training,
                            uint64_t seed, float *out);
  enum gm_status (*backward)(void *self, const float *dout);
  enum gm_status (*sgd_step)(void *self, const struct gm_nn_sgd *opt);
  enum gm_status (*sync)(void *self);
  /* Optional (NULL: not reported): what the backend planned. */
  enum gm_status (*memory)(const void *self, struct gm__nn_memory_plan *out);
  const char *(*error)(const void *self); /* the last specific message */
  /* What computes: the library, the instruction set and kernels it
   * dispatched, in words, for the run's record (optional; static for
   * self's lifetime). */
  const char *(*kernels)(const void *self);
};

extern const struct gm__nn_backend_ops gm__nn_backend_ref;
extern const struct gm__nn_backend_ops gm__nn_backend_onednn;

/* The registry (src/nn/engine.c): every compiled-in backend, fastest
 * first. */
extern const struct gm__nn_backend_ops *const gm__nn_backends[];
extern const size_t gm__nn_backend_count;

/* Whether b implements op / every op of net; *missing (optional) receives
 * the first op of net it lacks. */
bool gm__nn_backend_supports_op(const struct gm__nn_backend_ops *b,
                                enum gm_nn_op op);
bool gm__nn_backend_supports(const struct gm__nn_backend_ops *b,
                             const struct gm_nn_net *net,
                             enum gm_nn_op *missing);
/* Whether b implements precision p (a 0 set: fp32 alone). */
bool gm__nn_backend_has_precision(const struct gm__nn_backend_ops *b,
                                  enum gm_nn_precision p);
/* The engine's choice from list[n] (fastest first): the backend called name
 * (case-insensitive), or with name NULL the first that implements every op
 * of net and precision p. GM_ERR_NOT_FOUND: no backend has that name;
 * GM_ERR_NOT_SUPPORTED: the named one, or every one, lacks an op of net or
 * the precision (the message names the precision and the backends that
 * implement it). err (optional) receives the message. */
enum gm_status gm__nn_backend_pick(const struct gm__nn_backend_ops *const *list,
                                   size_t n, const char *name,
                                   const struct gm_nn_net *net,
                                   enum gm_nn_precision p,
                                   const struct gm__nn_backend_ops **out,
                                   char *err, size_t err_size);
/* "conv2d", "batchnorm", ...; "?" for a value outside the enum. */
const char *gm__nn_op_name(enum gm_nn_op op);

/* Helpers shared by backends. */
/* Number of float elements of all parameters / of all running statistics,
 * and the offset of parameter i / float buffer i in those arrays (-1 for
 * the int64 counters). */
size_t gm__nn_param_floats(const struct gm_nn_net *net);
size_t gm__nn_stat_floats(const struct gm_nn_net *net);
size_t gm__nn_param_offset(const struct gm_nn_net *net, size_t i);
long gm__nn_stat_offset(const struct gm_nn_net *net, size_t buffer_index);

/* The deterministic generator used for initialisation and masks
 * (xoshiro256** seeded through splitmix64). */
struct gm__rng {
  uint64_t s[4];
};
void gm__rng_seed(struct gm__rng *r, uint64_t seed);
uint64_t gm__rng_next(struct gm__rng *r);
/* Uniform in [0, 1), 53 random bits. */
double gm__rng_uniform(struct gm__rng *r);

#endif
