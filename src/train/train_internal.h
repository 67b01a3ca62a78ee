/* train_internal.h: the training handle, shared by the files of src/train/
 * (one subject each: config.c the rules, session.c the handle, epoch.c the
 * training step and epoch, infer.c the inference pass, checkpoint.c). */
#ifndef GM_TRAIN_INTERNAL_H
#define GM_TRAIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "greenml/train.h"

struct gm_train {
  struct gm_train_config cfg; /* model and backend point into the arrays */
  char model[64];             /* the zoo's spelling */
  char backend[32];
  struct gm_nn_net *net;
  struct gm_nn_engine *eng;
  int classes;
  /* one batch: images, logits, their gradient, labels, indices */
  float *x, *logits, *dlogits;
  int32_t *labels;
  uint32_t *idx;
  uint32_t *order; /* an epoch's visiting order, order_n entries */
  size_t order_n;
  /* the training data (gm_train_use_data, gm_train_epoch): recorded with a
   * checkpoint, compared when resuming */
  bool have_data;
  struct gm_cifar10_identity data;
  char err[4096];
  struct gm__torch *torch; /* the PyTorch worker (engine "torch"); NULL */
  char engine_name[96];
  char kernels[160];            /* torch: gm_train_kernels */
  struct gm_nn_threads threads; /* what the steps compute with */
  char engine[16], device[16];
};

/* ---- the PyTorch engine (torch.c) ---- */

/* Starts the worker for t (its configuration set) and maps the batch
 * buffer: t->x and t->labels point into memory the worker reads. */
enum gm_status gm__torch_open(struct gm_train *t, char *err, size_t err_size);
void gm__torch_close(struct gm_train *t);
enum gm_status gm__torch_init(struct gm_train *t);
/* One SGD step on the m samples in t->x / t->labels at rate lr. */
enum gm_status gm__torch_train(struct gm_train *t, int m, double lr,
                               double *loss, int *correct);
enum gm_status gm__torch_infer(struct gm_train *t, int m, double *loss,
                               int *correct);
enum gm_status gm__torch_save(struct gm_train *t, const char *path,
                              uint32_t epoch);
/* Loads path; info receives its epoch, model and seed. */
enum gm_status gm__torch_load(struct gm_train *t, const char *path,
                              struct gm_nn_checkpoint_info *info);

/* Checks cfg's values; the message goes into err. */
enum gm_status gm__train_config_check(const struct gm_train_config *cfg,
                                      char *err, size_t err_size);

#endif
