/* infer.c: the inference pass, in evaluation mode over the test set
 * replicated (train.h). */
#include <math.h>
#include <string.h>

#include "base/util.h"
#include "train/train_internal.h"

static double now_s(void) { return (double)gm__now_ns() / 1e9; }

enum gm_status gm_train_infer(struct gm_train *t, const struct gm_cifar10 *ds,
                              long first, long n,
                              const struct gm_train_observer *obs,
                              struct gm_train_result *out) {
  if (!t || !ds || !out || first < 0 || n < 0)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  out->loss = out->accuracy = out->lr = NAN;
  if (gm_cifar10_count(ds) == 0) {
    gm__fmt(t->err, sizeof(t->err), "the test set is empty");
    return GM_ERR_INVALID_ARG;
  }
  long b = t->cfg.batch_size;
  long batches = (n + b - 1) / b;
  if (obs && obs->pass_begin)
    obs->pass_begin(obs->ctx, GM_TRAIN_PASS_INFER, 0, batches);
  double t0 = now_s(), loss_sum = 0;
  long right = 0;
  for (long k = 0; k < batches; k++) {
    double tb = now_s();
    long at = k * b;
    int m = (int)(n - at < b ? n - at : b);
    for (int i = 0; i < m; i++)
      t->idx[i] = gm_cifar10_replicated_index(ds, (size_t)(first + at + i));
    int correct = 0;
    double loss = 0;
    enum gm_status rc =
        gm_cifar10_batch(ds, t->idx, (size_t)m, false, NULL, t->x, t->labels);
    if (rc == GM_OK && t->torch) {
      rc = gm__torch_infer(t, m, &loss, &correct);
    } else {
      if (rc == GM_OK)
        rc = gm_nn_engine_forward(t->eng, t->x, m, false, 0, t->logits);
      if (rc == GM_OK)
        rc = gm_nn_softmax_xent(t->logits, t->labels, m, t->classes, NULL,
                                &loss, &correct);
      if (rc == GM_OK)
        rc = gm_nn_engine_sync(t->eng);
    }
    if (rc != GM_OK) {
      char why[4096];
      gm__strlcpy(why, t->torch ? t->err : gm_nn_engine_error(t->eng),
                  sizeof(why));
      gm__fmt(t->err, sizeof(t->err), "inference batch %ld failed: %s", k + 1,
              why);
      out->duration_s = now_s() - t0;
      return rc;
    }
    double tn = now_s();
    loss_sum += loss * m;
    right += correct;
    out->steps++;
    out->samples += m;
    if (obs && obs->batch_done) {
      struct gm_train_batch bd = {.pass = GM_TRAIN_PASS_INFER,
                                  .batch = k + 1,
                                  .batches = batches,
                                  .samples = m,
                                  .batch_s = tn - tb,
                                  .pass_samples = out->samples,
                                  .pass_s = tn - t0,
                                  .loss = loss_sum / (double)out->samples,
                                  .accuracy =
                                      (double)right / (double)out->samples};
      if (!obs->batch_done(obs->ctx, &bd)) {
        out->cut = k + 1 < batches;
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
