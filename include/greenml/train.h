/* train.h: the training and inference protocol of greenml: one copy of it,
 * used by `greenml train`, `greenml infer` and the study runner (study.h).
 *
 * A training epoch visits the training set in an order drawn from (seed,
 * epoch) only (gm_cifar10_epoch_order), in batches of batch_size (the last
 * one short), each augmented with random crop and flip from a generator
 * seeded with gm_train_augment_seed(seed, epoch); a step is forward in
 * training mode (dropout masks from gm_train_dropout_seed), softmax
 * cross-entropy, backward and one SGD step at the epoch's learning rate
 * (gm_train_lr). An inference pass visits the test set replicated
 * (gm_cifar10_replicated_index) in evaluation mode. Every step waits for the
 * device (gm_nn_engine_sync), so the time of a batch is the time of its work.
 * Because an epoch depends only on the parameters at its start and on
 * (seed, epoch), a run resumed from the checkpoint of epoch k gives the same
 * losses and weights as one that never stopped (tests/unit/test_train.c).
 *
 * A checkpoint is the engine's file (engine.h: parameters, statistics,
 * momentum, under a CRC-32 checked on loading) plus a record of the
 * configuration it was made with and of the data it was trained on (their
 * gm_cifar10_identity), in PATH.config ("key value" lines). Resuming
 * compares that record (precision included) with the configuration and
 * data at hand and refuses
 * a checkpoint made under other ones, naming every difference.
 *
 * Errors: every fallible call returns enum gm_status; the message is in
 * gm_train_last_error (gm_train_create: in err). Nothing is printed. A
 * struct gm_train is used from one thread at a time.
 */
#ifndef GREENML_TRAIN_H
#define GREENML_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/nn.h"
#include "greenml/status.h"

/* The learning rate from epoch to epoch. */
enum gm_train_schedule {
  GM_TRAIN_LR_CONSTANT, /* lr throughout */
  /* PyTorch's CosineAnnealingLR(T_max = epochs, eta_min = 0), stepped per
   * epoch: lr x (1 + cos(pi x epoch / epochs)) / 2 for epoch 0, 1, ... */
  GM_TRAIN_LR_COSINE
};

struct gm_train_config {
  const char *model;   /* zoo name, any case */
  int batch_size;      /* 1 .. 65536; also the largest inference batch */
  double lr;           /* base learning rate, > 0 */
  double momentum;     /* SGD momentum, >= 0 */
  double weight_decay; /* L2 weight decay, >= 0 */
  enum gm_train_schedule schedule;
  int epochs;         /* the schedule's length (cosine's T_max), >= 1 */
  uint64_t seed;      /* initialisation, data order, augmentation */
  long limit_batches; /* at most this many batches per epoch; 0: all */
  /* The arithmetic (engine.h): GM_NN_FP32 (default) or GM_NN_BF16, mixed
   * precision with float32 master weights. The C engine picks a backend
   * that implements it; the torch engine runs forward and loss under
   * torch.autocast(dtype=torch.bfloat16). */
  enum gm_nn_precision precision;
  /* How it runs, not what it computes (not compared when resuming): */
  const char *backend; /* NULL: the fastest */
  int threads;         /* > 0: that many; 0: chosen at gm_train_create
                          for either engine (engine.h,
                          gm_nn_threads_choose) */
  /* The engine that executes the steps: "greenml" (NULL: the C engine and
   * its backends) or "torch": a PyTorch worker process (python3 with
   * torch; the script python/greenml/torch_engine.py, found through
   * $GREENML_TORCH_WORKER, the installed package, or the source tree; the
   * interpreter $GREENML_PYTHON, else /usr/bin/python3) that computes each
   * step of this same protocol on the same batches, with torch.optim.SGD.
   * Its checkpoints are its own (torch.save) with the same record. */
  const char *engine;
  const char *device; /* torch: "cpu", "cuda"; NULL or "auto": cuda when
                         PyTorch sees a CUDA device, else cpu */
};

/* The paper's protocol: batch 128, lr 0.001, momentum 0.9, weight decay
 * 5e-4, constant rate, 1 epoch, seed 1, every batch; model NULL. */
GM_API struct gm_train_config gm_train_config_default(void);

/* ---- the protocol's rules, as functions --------------------------------- */

/* The augmentation generator's state at the start of an epoch (0-based). */
GM_API uint64_t gm_train_augment_seed(uint64_t seed, uint32_t epoch);
/* The dropout and drop-path seed of a training step (0-based in its epoch). */
GM_API uint64_t gm_train_dropout_seed(uint64_t seed, uint32_t epoch, long step);
/* The learning rate of epoch (0-based) under cfg's schedule. */
GM_API double gm_train_lr(const struct gm_train_config *cfg, uint32_t epoch);
/* The steps of an epoch over n training images: ceil(n / batch_size),
 * capped by limit_batches. */
GM_API long gm_train_epoch_steps(const struct gm_train_config *cfg, size_t n);

/* ---- running it ---------------------------------------------------------- */

enum gm_train_pass { GM_TRAIN_PASS_TRAIN, GM_TRAIN_PASS_INFER };

/* What an observer sees after each batch. */
struct gm_train_batch {
  enum gm_train_pass pass;
  uint32_t epoch;      /* 0-based; 0 for inference */
  long batch, batches; /* the batch just done (1-based) of those planned */
  int samples;         /* in this batch */
  double batch_s;      /* its wall time, device work included */
  long pass_samples;   /* samples so far in the pass */
  double pass_s;       /* seconds since the pass's first batch began */
  double loss;         /* mean loss over the pass so far */
  double accuracy;     /* share of right answers so far, in [0, 1] */
};

/* Callbacks during a pass, on the calling thread; every member optional. */
struct gm_train_observer {
  void *ctx;
  /* Before the first batch of a pass (the place for a phase mark). */
  void (*pass_begin)(void *ctx, enum gm_train_pass pass, uint32_t epoch,
                     long batches);
  /* After each batch. Returning false ends the pass there: the result
   * covers the batches done and has `cut` set; it is not an error. */
  bool (*batch_done)(void *ctx, const struct gm_train_batch *b);
};

/* A pass's outcome. */
struct gm_train_result {
  long steps, samples;
  double loss;       /* mean over the samples; NAN when none */
  double accuracy;   /* in [0, 1]; NAN when none */
  double lr;         /* the rate of a training epoch; NAN for inference */
  double duration_s; /* from the first batch's start to the last's end */
  bool cut;          /* the observer ended it early */
};

struct gm_train;

/* Builds the model and an engine for it (parameters zero until
 * gm_train_init or a checkpoint). GM_ERR_NOT_FOUND for an unknown model or
 * backend, GM_ERR_INVALID_ARG for a value out of range; err (optional)
 * receives the message. *out is owned by the caller: gm_train_destroy. */
GM_API enum gm_status gm_train_create(const struct gm_train_config *cfg,
                                      struct gm_train **out, char *err,
                                      size_t err_size);
GM_API void gm_train_destroy(struct gm_train *t); /* NULL: no-op */
/* The last error message; never NULL; valid until the next call on t. */
GM_API const char *gm_train_last_error(const struct gm_train *t);
/* The configuration (model: the zoo's spelling), the net and the engine,
 * borrowed for t's lifetime. */
GM_API const struct gm_train_config *
gm_train_config_of(const struct gm_train *t);
GM_API const struct gm_nn_net *gm_train_net(const struct gm_train *t);
GM_API struct gm_nn_engine *gm_train_engine(struct gm_train *t);
/* What executes the steps, and in which precision: "greenml onednn fp32",
 * "greenml ref bf16", "torch 1.13.1 cpu fp32"; static for t's lifetime.
 * gm_train_engine is NULL for torch. */
GM_API const char *gm_train_engine_name(const struct gm_train *t);
/* The threads the steps compute with and how that count came about (the C
 * engine's gm_nn_engine_threads, or the count given to PyTorch's
 * torch.set_num_threads); borrowed for t's lifetime. */
GM_API const struct gm_nn_threads *gm_train_threads(const struct gm_train *t);
/* What computes the steps' convolutions and linear layers
 * (gm_nn_engine_kernels; for torch, PyTorch's own kernels named with its
 * version and device); static for t's lifetime. */
GM_API const char *gm_train_kernels(const struct gm_train *t);

/* PyTorch's default initialisation from the configuration's seed. */
GM_API enum gm_status gm_train_init(struct gm_train *t);

/* Trains epoch (0-based) over ds: gm_train_epoch_steps steps, or max_steps
 * when it is > 0 and fewer. obs may be NULL. GM_ERR_STATE when the loss
 * diverges (not finite); the engine's status when a step fails. */
GM_API enum gm_status gm_train_epoch(struct gm_train *t,
                                     const struct gm_cifar10 *ds,
                                     uint32_t epoch, long max_steps,
                                     const struct gm_train_observer *obs,
                                     struct gm_train_result *out);

/* Inference in evaluation mode over samples first .. first + n - 1 of ds
 * replicated, in batches of batch_size. obs may be NULL. */
GM_API enum gm_status gm_train_infer(struct gm_train *t,
                                     const struct gm_cifar10 *ds, long first,
                                     long n,
                                     const struct gm_train_observer *obs,
                                     struct gm_train_result *out);

/* ---- checkpoints --------------------------------------------------------- */

/* Records the data set t trains on (gm_train_epoch does it too, with the
 * set it is given): the record of a checkpoint written afterwards holds its
 * identity (data.h, gm_cifar10_identity), and gm_train_resume compares a
 * checkpoint's with it. ds (NULL: forget it) is not retained. */
GM_API void gm_train_use_data(struct gm_train *t, const struct gm_cifar10 *ds);

/* Checks, before any work, that a checkpoint can be written at path: its
 * directory exists and a file can be created in it (tried: the one test that
 * holds for root and read-only file systems alike), and path is not a
 * directory, FIFO or device. GM_ERR_NOT_FOUND when the directory does not
 * exist (or is not a directory), GM_ERR_PERMISSION or GM_ERR_IO when nothing
 * can be created in it, GM_ERR_INVALID_ARG for such a path; err (err_size
 * bytes, may be NULL) receives the message. Nothing is left behind. */
GM_API enum gm_status
gm_train_check_checkpoint_path(const char *path, char *err, size_t err_size);

/* Writes the checkpoint of `epochs_done` completed epochs to path and its
 * record (configuration and data) to PATH.config, each atomically: a
 * temporary file created exclusively next to it (a symlink planted at its
 * name is removed, never written through), then renamed over it. GM_ERR_IO
 * or GM_ERR_PERMISSION when a file cannot be written. */
GM_API enum gm_status gm_train_save(struct gm_train *t, const char *path,
                                    uint32_t epochs_done);

/* Loads the checkpoint at path to continue training; *epochs_done receives
 * its completed epochs. The record must match t's configuration (model,
 * batch size, learning rate, momentum, weight decay, schedule, seed, batch
 * limit; the epoch count under a cosine schedule) and, when both are known
 * (gm_train_use_data; a record written before data identities existed has
 * none), its data (synthetic or not, the synthetic seed, the image count,
 * the CRC-32 of the files; not the directory): otherwise
 * GM_ERR_INVALID_ARG, the message naming every difference, and nothing is
 * loaded. A checkpoint without a record (written before records existed)
 * is compared, once loaded, on what the engine's file holds: model and
 * seed. GM_ERR_NOT_FOUND when path does not exist; GM_ERR_PARSE when it or
 * its record is malformed, fails its checksum (a flipped byte), belongs to
 * another model, or the two disagree on the epoch (a save cut short), and
 * when path is not a regular file. After a failure other than a differing
 * record the parameters are unspecified (gm_train_init starts afresh). */
GM_API enum gm_status gm_train_resume(struct gm_train *t, const char *path,
                                      uint32_t *epochs_done);

/* Loads only what inference needs from a checkpoint of the same model,
 * whatever its configuration. Statuses as gm_train_resume. */
GM_API enum gm_status gm_train_load_weights(struct gm_train *t,
                                            const char *path);

/* Deletes a checkpoint and its record (absent files are fine). */
GM_API void gm_train_checkpoint_remove(const char *path);

#endif
