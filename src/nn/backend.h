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

struct gm__nn_backend_ops {
  const char *name;
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
};

extern const struct gm__nn_backend_ops gm__nn_backend_ref;
extern const struct gm__nn_backend_ops gm__nn_backend_onednn;

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
