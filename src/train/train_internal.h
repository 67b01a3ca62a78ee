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
};

/* Checks cfg's values; the message goes into err. */
enum gm_status gm__train_config_check(const struct gm_train_config *cfg,
                                      char *err, size_t err_size);

#endif
