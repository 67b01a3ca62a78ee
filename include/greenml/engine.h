/* engine.h: running a network: parameters, forward, backward, SGD, on a
 * compute backend ("ref": plain C, the oracle of the tests; "onednn").
 *
 * Tensors crossing this API are host float32 arrays in NCHW order. The
 * engine owns the backend and the parameters; the net is borrowed and must
 * outlive the engine. Parameters are exchanged as one array holding every
 * parameter of the net in gm_nn_param order (the order of
 * gm_nn_param_name); batch-norm running statistics as one array holding
 * every running_mean and running_var in gm_nn_buffer order (the int64
 * batch counters are kept apart). An engine is used from one thread.
 */
#ifndef GREENML_ENGINE_H
#define GREENML_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/nn.h"
#include "greenml/status.h"

/* The arithmetic of the convolutions and linear layers. Whatever the
 * precision, the host arrays crossing this API stay float32, and so do the
 * master weights, the optimiser state, the batch-norm statistics and the
 * loss. GM_NN_BF16 is mixed precision as bf16 hardware computes it: the
 * operands of every convolution and linear layer, forward and backward
 * (activations, weights, output gradients), are rounded to bfloat16
 * (gm_nn_bf16_round) and their products summed in float32 or wider; every
 * other operator (batch norm, activations, pooling, dropout, the
 * element-wise ones) and the loss run in float32 on the float32 results. */
enum gm_nn_precision { GM_NN_FP32, GM_NN_BF16 };
#define GM_NN_PRECISION_COUNT 2

struct gm_nn_engine_config {
  const char *backend; /* "ref" or "onednn"; NULL: the fastest available
                          that implements every operator of the net and
                          the precision */
  int max_batch;       /* largest n passed to forward (> 0) */
  int threads;         /* > 0: that many; 0: chosen when the engine is
                          created (gm_nn_threads_choose) */
  enum gm_nn_precision precision; /* default GM_NN_FP32 */
};

/* An engine's thread count and where it comes from. */
struct gm_nn_threads {
  int threads;      /* the threads the backend computes with, >= 1 */
  int cpus;         /* CPUs this process may run on; 0: not looked at */
  int busy;         /* of those, kept busy by other processes; -1: unknown */
  bool chosen;      /* chosen by gm_nn_threads_choose (not configured) */
  char detail[160]; /* how, in words: "1 of 2 CPUs idle (1 kept busy by
                       other processes)", "configured", ... */
};

/* The thread count for a computation that should not fight other
 * processes for CPUs: one thread per CPU this process may run on
 * (Cpus_allowed_list of PROCFS/self/status, else sched_getaffinity) less
 * the CPUs other processes keep busy at the call (procs_running of
 * PROCFS/stat less this process's own running threads, the median of 5
 * reads 1 ms apart), at least 1. procfs_root NULL: $GREENML_PROCFS, else
 * /proc. The choice is made once, at the call: a process that starts
 * computing later is not seen (see the wait policy, README "Threads next to a
 * busy neighbour"). When /proc/stat cannot be read, out->threads is every
 * allowed CPU, out->busy -1 and out->detail says why, and GM_ERR_UNAVAILABLE is
 * returned. */
GM_API enum gm_status gm_nn_threads_choose(const char *procfs_root,
                                           struct gm_nn_threads *out);

/* SGD with momentum and L2 weight decay, PyTorch's semantics:
 *   d = grad + weight_decay * p
 *   buf = momentum * buf + d      (buf = d on the first step)
 *   p -= lr * buf
 * Declared-but-unused parameters have no gradient and are left alone. */
struct gm_nn_sgd {
  double lr;           /* default 0.001 */
  double momentum;     /* default 0.9 */
  double weight_decay; /* default 5e-4 */
};

struct gm_nn_engine;

GM_API struct gm_nn_engine_config gm_nn_engine_config_default(void);
GM_API struct gm_nn_sgd gm_nn_sgd_default(void);

/* Names of the compiled-in backends, fastest first; NULL past the end. */
GM_API const char *gm_nn_backend_name(size_t i);
/* Whether the i-th backend implements precision p. */
GM_API bool gm_nn_backend_has_precision(size_t i, enum gm_nn_precision p);

/* "fp32", "bf16"; "?" for a value outside the enum. */
GM_API const char *gm_nn_precision_name(enum gm_nn_precision p);
/* The precision named s ("fp32", "bf16", any case). GM_ERR_INVALID_ARG
 * for anything else (NULL included). */
GM_API enum gm_status gm_nn_precision_parse(const char *s,
                                            enum gm_nn_precision *out);
/* "fp32, bf16": the accepted names, for messages. */
GM_API const char *gm_nn_precision_names(void);
/* The float32 value x rounded to the nearest bfloat16 (the upper 16 bits
 * of its IEEE-754 pattern), ties to even, as a float32: infinities and
 * zeros stay, a NaN stays a (quiet) NaN, a finite value beyond the largest
 * bfloat16 rounds to infinity, subnormals round like any other value. */
GM_API float gm_nn_bf16_round(float x);

/* Creates an engine for net; parameters start at zero until
 * gm_nn_engine_init or gm_nn_engine_set_params. err (optional) receives the
 * specific message. GM_ERR_NOT_FOUND for an unknown backend name,
 * GM_ERR_NOT_SUPPORTED when the backend lacks an operator of the net or
 * the precision (the message names the backends that have it),
 * GM_ERR_INVALID_ARG for a precision outside the enum. */
GM_API enum gm_status gm_nn_engine_create(const struct gm_nn_net *net,
                                          const struct gm_nn_engine_config *cfg,
                                          struct gm_nn_engine **out, char *err,
                                          size_t err_size);
GM_API void gm_nn_engine_destroy(struct gm_nn_engine *e); /* NULL: no-op */
GM_API const char *gm_nn_engine_backend(const struct gm_nn_engine *e);
GM_API enum gm_nn_precision
gm_nn_engine_precision(const struct gm_nn_engine *e);
GM_API const char *gm_nn_engine_error(const struct gm_nn_engine *e);
/* The threads e computes with (1 for a single-threaded backend, whatever
 * was configured) and how that count came about; borrowed from e. */
GM_API const struct gm_nn_threads *
gm_nn_engine_threads(const struct gm_nn_engine *e);
/* What computes the convolutions and linear layers, as the backend reports
 * it, for a run's record: oneDNN's version, the instruction set it
 * dispatched and each implementation it picked with its count, e.g.
 * "oneDNN 2.7.3, ISA avx512_core_bf16; bf16 convolution and inner product
 * kernels: training graph jit_bf16:avx512_core_bf16 x6, ...; inference
 * graph brgconv:avx512_core_bf16 x2, ..."; "plain C (ref)" for ref.
 * Borrowed from e. */
GM_API const char *gm_nn_engine_kernels(const struct gm_nn_engine *e);

/* PyTorch's default initialisation, from a seeded generator: conv and
 * linear weights kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)); biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)); batch norm
 * weight 1, bias 0, running mean 0, running variance 1, counter 0. The same
 * seed gives the same parameters on every backend. */
GM_API enum gm_status gm_nn_engine_init(struct gm_nn_engine *e, uint64_t seed);

GM_API size_t gm_nn_engine_param_floats(const struct gm_nn_engine *e);
GM_API size_t gm_nn_engine_stat_floats(const struct gm_nn_engine *e);
GM_API enum gm_status gm_nn_engine_get_params(struct gm_nn_engine *e,
                                              float *dst, size_t n);
GM_API enum gm_status gm_nn_engine_set_params(struct gm_nn_engine *e,
                                              const float *src, size_t n);
/* Gradients of the last backward pass, same layout as the parameters. */
GM_API enum gm_status gm_nn_engine_get_grads(struct gm_nn_engine *e, float *dst,
                                             size_t n);
GM_API enum gm_status gm_nn_engine_get_stats(struct gm_nn_engine *e, float *dst,
                                             size_t n);
GM_API enum gm_status gm_nn_engine_set_stats(struct gm_nn_engine *e,
                                             const float *src, size_t n);

/* Forward pass of n samples (n <= max_batch): x is n x C x H x W of the
 * net's input, out receives n x (output size). training selects batch
 * statistics (and updates the running ones, momentum 0.1, unbiased
 * variance), dropout and drop path; seed drives their masks. */
GM_API enum gm_status gm_nn_engine_forward(struct gm_nn_engine *e,
                                           const float *x, int n, bool training,
                                           uint64_t seed, float *out);
/* Backward pass for the last training forward: dout is n x (output size),
 * the gradient of the loss with respect to the output. Parameter gradients
 * are overwritten (not accumulated). */
GM_API enum gm_status gm_nn_engine_backward(struct gm_nn_engine *e,
                                            const float *dout);
GM_API enum gm_status gm_nn_engine_sgd_step(struct gm_nn_engine *e,
                                            const struct gm_nn_sgd *opt);
/* Waits for queued device work (a no-op on the CPU backends). */
GM_API enum gm_status gm_nn_engine_sync(struct gm_nn_engine *e);

/* ---- checkpoints ------------------------------------------------------------
 */

/* What a checkpoint records besides the tensors. */
struct gm_nn_checkpoint_info {
  char model[64]; /* zoo name */
  uint32_t epoch; /* epochs completed */
  uint64_t seed;  /* the training seed */
};

/* Writes parameters, running statistics, batch counters, momentum buffers
 * and the SGD step count, under a CRC-32 of the whole file, to path
 * atomically (PATH.tmp~, created exclusively: a symlink planted there is
 * removed, never written through; renamed over path after fsync), so a
 * crash leaves the previous checkpoint intact. */
GM_API enum gm_status
gm_nn_checkpoint_save(struct gm_nn_engine *e, const char *path,
                      const struct gm_nn_checkpoint_info *info, char *err,
                      size_t err_size);
/* Loads a checkpoint written for the same model (names and sizes must
 * match), after checking its CRC-32: nothing is loaded unless every byte is
 * as written. GM_ERR_NOT_FOUND when the file is absent, GM_ERR_PARSE when it
 * is not a regular file or not a checkpoint, is truncated, fails its
 * checksum ("fails its checksum"), is of another format version (version 1
 * had no checksum) or belongs to another model. */
GM_API enum gm_status gm_nn_checkpoint_load(struct gm_nn_engine *e,
                                            const char *path,
                                            struct gm_nn_checkpoint_info *info,
                                            char *err, size_t err_size);

/* Mean softmax cross-entropy of n rows of k logits against labels.
 * dlogits (optional, n x k) receives d(mean loss)/d(logits); *correct
 * (optional) the number of rows whose arg-max is the label. */
GM_API enum gm_status gm_nn_softmax_xent(const float *logits,
                                         const int32_t *labels, int n, int k,
                                         float *dlogits, double *loss,
                                         int *correct);

#endif
