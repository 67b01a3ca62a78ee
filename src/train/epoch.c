/* epoch.c: the training step and the training epoch, the one copy used by
 * every front end (train.h has the protocol). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "train/train_internal.h"

static double now_s(void) { return (double)gm__now_ns() / 1e9; }

/* One step on batch images order[0..m): forward, loss, backward, SGD. */
static enum gm_status step(struct gm_train *t, const struct gm_cifar10 *ds,
                           const uint32_t *order, int m, uint64_t *aug,
                           uint32_t epoch, long s, const struct gm_nn_sgd *sgd,
                           double *loss, int *correct) {
  enum gm_status rc =
      gm_cifar10_batch(ds, order, (size_t)m, true, aug, t->x, t->labels);
  if (rc != GM_OK) {
    gm__fmt(t->err, sizeof(t->err), "step %ld of epoch %u: bad batch: %s",
            s + 1, epoch + 1, gm_status_str(rc));
    return rc;
  }
  if (t->torch) {
    /* the batch is in the worker's memory already */
    rc = gm__torch_train(t, m, sgd->lr, loss, correct);
    if (rc != GM_OK) {
      char why[4096];
      gm__strlcpy(why, t->err, sizeof(why));
      gm__fmt(t->err, sizeof(t->err), "step %ld of epoch %u failed: %s", s + 1,
              epoch + 1, why);
      return rc;
    }
    goto check;
  }
  rc = gm_nn_engine_forward(t->eng, t->x, m, true,
                            gm_train_dropout_seed(t->cfg.seed, epoch, s),
                            t->logits);
  if (rc == GM_OK)
    rc = gm_nn_softmax_xent(t->logits, t->labels, m, t->classes, t->dlogits,
                            loss, correct);
  if (rc == GM_OK)
    rc = gm_nn_engine_backward(t->eng, t->dlogits);
  if (rc == GM_OK)
    rc = gm_nn_engine_sgd_step(t->eng, sgd);
  if (rc == GM_OK)
    rc = gm_nn_engine_sync(t->eng);
  if (rc != GM_OK) {
    gm__fmt(t->err, sizeof(t->err), "step %ld of epoch %u failed: %s", s + 1,
            epoch + 1, gm_nn_engine_error(t->eng));
    return rc;
  }
check:
  if (!isfinite(*loss)) {
    gm__fmt(t->err, sizeof(t->err),
            "the loss diverged (%g) at step %ld of epoch %u; lower --lr", *loss,
            s + 1, epoch + 1);
    return GM_ERR_STATE;
  }
  return GM_OK;
}

enum gm_status gm_train_epoch(struct gm_train *t, const struct gm_cifar10 *ds,
                              uint32_t epoch, long max_steps,
                              const struct gm_train_observer *obs,
                              struct gm_train_result *out) {
  if (!t || !ds || !out)
    return GM_ERR_INVALID_ARG;
  /* the data the next checkpoint was trained on */
  gm_train_use_data(t, ds);
  memset(out, 0, sizeof(*out));
  out->loss = out->accuracy = NAN;
  out->lr = gm_train_lr(&t->cfg, epoch);
  size_t n = gm_cifar10_count(ds);
  if (n == 0) {
    gm__fmt(t->err, sizeof(t->err), "the training set is empty");
    return GM_ERR_INVALID_ARG;
  }
  if (t->order_n != n) {
    uint32_t *o = realloc(t->order, n * sizeof(uint32_t));
    if (!o) {
      gm__fmt(t->err, sizeof(t->err), "out of memory for the data order");
      return GM_ERR_NO_MEMORY;
    }
    t->order = o;
    t->order_n = n;
  }
  gm_cifar10_epoch_order(t->order, n, t->cfg.seed, epoch);
  uint64_t aug = gm_train_augment_seed(t->cfg.seed, epoch);
  struct gm_nn_sgd sgd = {.lr = out->lr,
                          .momentum = t->cfg.momentum,
                          .weight_decay = t->cfg.weight_decay};
  long steps = gm_train_epoch_steps(&t->cfg, n);
  if (max_steps > 0 && max_steps < steps)
    steps = max_steps;
  if (obs && obs->pass_begin)
    obs->pass_begin(obs->ctx, GM_TRAIN_PASS_TRAIN, epoch, steps);
  size_t b = (size_t)t->cfg.batch_size;
  double t0 = now_s(), loss_sum = 0;
  long right = 0;
  for (long s = 0; s < steps; s++) {
    double tb = now_s();
    size_t first = (size_t)s * b;
    int m = (int)(n - first < b ? n - first : b);
    double loss = 0;
    int correct = 0;
    enum gm_status rc =
        step(t, ds, t->order + first, m, &aug, epoch, s, &sgd, &loss, &correct);
    if (rc != GM_OK) {
      out->duration_s = now_s() - t0;
      return rc;
    }
    double tn = now_s();
    loss_sum += loss * m;
    right += correct;
    out->steps++;
    out->samples += m;
    if (obs && obs->batch_done) {
      struct gm_train_batch bd = {.pass = GM_TRAIN_PASS_TRAIN,
                                  .epoch = epoch,
                                  .batch = s + 1,
                                  .batches = steps,
                                  .samples = m,
                                  .batch_s = tn - tb,
                                  .pass_samples = out->samples,
                                  .pass_s = tn - t0,
                                  .loss = loss_sum / (double)out->samples,
                                  .accuracy =
                                      (double)right / (double)out->samples};
      if (!obs->batch_done(obs->ctx, &bd)) {
        out->cut = s + 1 < steps;
        break;
      }
    }
  }
  out->duration_s = now_s() - t0;
  if (out->samples) {
    out->loss = loss_sum / (double)out->samples;
    out->accuracy = (double)right / (double)out->samples;
  }
  return GM_OK;
}
