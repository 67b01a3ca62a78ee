/* pass.c: the training and inference passes of a cell, each a phase of the
 * meter, run by the protocol of train.h: this file only watches them
 * (progress, the ETA, the profile, stop requests) through the observer of
 * train.h. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "study/study_internal.h"

/* What the protocol's observer needs to watch one pass. */
struct watch {
  struct gm__study *s;
  struct gm__study_cell *c;
  const char *kind;               /* "train", "infer" */
  int shown_epoch;                /* displayed; 0: none */
  struct gm__study_profile *prof; /* fed by metered passes; NULL: none */
  bool until_profiled;            /* end the pass once the profile is done */
  long batch_offset, batches;     /* for the display of a continued pass */
};

static bool on_batch(void *ctx, const struct gm_train_batch *b) {
  struct watch *w = ctx;
  struct gm__study *s = w->s;
  struct gm__study_cell *c = w->c;
  double units = (double)b->samples * (double)c->stats.macs;
  double per = units > 0 ? b->batch_s / units : 0;
  if (b->pass == GM_TRAIN_PASS_TRAIN) {
    s->left_train = fmax(0, s->left_train - units);
    s->rate_train = s->rate_train > 0 ? 0.9 * s->rate_train + 0.1 * per : per;
  } else {
    s->left_infer = fmax(0, s->left_infer - units);
    s->rate_infer = s->rate_infer > 0 ? 0.9 * s->rate_infer + 0.1 * per : per;
  }
  struct gm_study_progress pr = {
      .cell = s->cell_no,
      .n_cells = s->n_cells,
      .model = c->model,
      .batch_size = c->batch,
      .precision = c->precision,
      .metered = c->m != NULL,
      .kind = w->kind,
      .epoch = w->shown_epoch,
      .epochs = s->cfg->epochs,
      .batch = w->batch_offset + b->batch,
      .batches = w->batches ? w->batches : b->batches,
      .loss = b->pass == GM_TRAIN_PASS_TRAIN ? b->loss : NAN,
      .accuracy = b->accuracy,
      .power_w = NAN,
      .energy_j = NAN};
  if (c->m) {
    double el;
    gm_meter_live(c->m, c->live_e, c->live_p, &el);
    double e = gm__study_in_total(c, c->live_e, NULL);
    if (w->prof)
      gm__study_profile_step(w->prof, b->samples, b->batch_s, e, el,
                             gm__now_ns(), s->cfg->meter.interval_ns);
    pr.energy_j = e - c->ph_e0;
    pr.power_w = gm__study_in_total(c, c->live_p, &pr.provenance);
  }
  pr.eta_s = gm__study_eta_s(s);
  if (s->obs && s->obs->progress)
    s->obs->progress(s->obs->ctx, &pr);
  if (gm__study_stopping(s))
    return false;
  return !(w->until_profiled && w->prof && w->prof->done);
}

static void pass_end(struct gm__study *s) {
  if (s->obs && s->obs->pass_end)
    s->obs->pass_end(s->obs->ctx);
}

/* A fresh profile window at the start of a phase. */
static void profile_break(struct gm__study_cell *c,
                          struct gm__study_profile *prof) {
  if (!c->m || !prof)
    return;
  double el;
  gm_meter_live(c->m, c->live_e, NULL, &el);
  gm__study_profile_break(prof, gm__study_in_total(c, c->live_e, NULL), el,
                          gm__now_ns());
}

static enum gm_status
train_failed(struct gm__study *s, struct gm__study_cell *c, enum gm_status rc) {
  pass_end(s);
  return gm__study_fail(s, rc, "%s: %s", c->model, gm_train_last_error(c->tr));
}

/* Adds a part of a pass to its total. */
static void add(struct gm__study_pass *p, const struct gm_train_result *r,
                double *loss_sum, double *acc_sum) {
  p->steps += r->steps;
  p->samples += r->samples;
  if (r->samples) {
    *loss_sum += r->loss * (double)r->samples;
    *acc_sum += r->accuracy * (double)r->samples;
  }
}

static void finish(struct gm__study_pass *p, double loss_sum, double acc_sum) {
  p->t1_ns = gm__now_ns();
  p->loss = p->samples ? loss_sum / (double)p->samples : NAN;
  p->accuracy = p->samples ? acc_sum / (double)p->samples : NAN;
}

enum gm_status gm__study_train_phase(struct gm__study *s,
                                     struct gm__study_cell *c, int epoch,
                                     struct gm__study_pass *out) {
  char name[64];
  snprintf(name, sizeof(name), "%s b%d train epoch %d", c->model, c->batch,
           epoch);
  memset(out, 0, sizeof(*out));
  out->t0_ns = gm__now_ns();
  gm__study_phase_begin(s, c, name, out->t0_ns);
  profile_break(c, c->ptrain);
  struct watch w = {.s = s,
                    .c = c,
                    .kind = "train",
                    .shown_epoch = epoch,
                    .prof = c->m ? c->ptrain : NULL};
  struct gm_train_observer obs = {.ctx = &w, .batch_done = on_batch};
  struct gm_train_result r;
  enum gm_status rc =
      gm_train_epoch(c->tr, s->cfg->train, (uint32_t)(epoch - 1), 0, &obs, &r);
  if (rc != GM_OK)
    return train_failed(s, c, rc);
  double loss_sum = 0, acc_sum = 0;
  add(out, &r, &loss_sum, &acc_sum);
  finish(out, loss_sum, acc_sum);
  out->lr = r.lr;
  pass_end(s);
  return GM_OK;
}

enum gm_status gm__study_profile_train_phase(struct gm__study *s,
                                             struct gm__study_cell *c,
                                             long target,
                                             struct gm__study_pass *out) {
  char name[64];
  snprintf(name, sizeof(name), "%s b%d profile train", c->model, c->batch);
  memset(out, 0, sizeof(*out));
  out->lr = gm_train_lr(gm_train_config_of(c->tr), 0);
  out->t0_ns = gm__now_ns();
  gm__study_phase_begin(s, c, name, out->t0_ns);
  profile_break(c, c->ptrain);
  struct watch w = {.s = s,
                    .c = c,
                    .kind = "train",
                    .prof = c->m ? c->ptrain : NULL,
                    .until_profiled = true};
  struct gm_train_observer obs = {.ctx = &w, .batch_done = on_batch};
  double loss_sum = 0, acc_sum = 0;
  for (uint32_t ep = 0; !c->ptrain->done && out->samples < target; ep++) {
    long left_steps = (target - out->samples + c->batch - 1) / c->batch;
    struct gm_train_result r;
    enum gm_status rc =
        gm_train_epoch(c->tr, s->cfg->train, ep, left_steps, &obs, &r);
    if (rc != GM_OK)
      return train_failed(s, c, rc);
    add(out, &r, &loss_sum, &acc_sum);
    if (s->stopped)
      break;
  }
  finish(out, loss_sum, acc_sum);
  pass_end(s);
  return GM_OK;
}

enum gm_status gm__study_infer_phase(struct gm__study *s,
                                     struct gm__study_cell *c, const char *name,
                                     long samples, long cap,
                                     struct gm__study_profile *prof,
                                     int shown_epoch,
                                     struct gm__study_pass *out) {
  memset(out, 0, sizeof(*out));
  out->lr = NAN;
  out->t0_ns = gm__now_ns();
  gm__study_phase_begin(s, c, name, out->t0_ns);
  profile_break(c, prof);
  struct watch w = {.s = s,
                    .c = c,
                    .kind = "infer",
                    .shown_epoch = shown_epoch,
                    .prof = c->m ? prof : NULL};
  struct gm_train_observer obs = {.ctx = &w, .batch_done = on_batch};
  double loss_sum = 0, acc_sum = 0;
  struct gm_train_result r;
  enum gm_status rc = gm_train_infer(c->tr, s->cfg->test, 0, samples, &obs, &r);
  if (rc != GM_OK)
    return train_failed(s, c, rc);
  add(out, &r, &loss_sum, &acc_sum);
  /* a profile that is not done yet goes on, up to cap samples */
  if (prof && w.prof && cap > samples && !prof->done && !s->stopped) {
    w.until_profiled = true;
    w.batch_offset = r.steps;
    w.batches = r.steps;
    rc = gm_train_infer(c->tr, s->cfg->test, samples, cap - samples, &obs, &r);
    if (rc != GM_OK)
      return train_failed(s, c, rc);
    add(out, &r, &loss_sum, &acc_sum);
  }
  finish(out, loss_sum, acc_sum);
  pass_end(s);
  return GM_OK;
}

enum gm_status gm__study_train_steps(struct gm__study *s,
                                     struct gm__study_cell *c, long steps) {
  struct watch w = {.s = s, .c = c, .kind = "train"};
  struct gm_train_observer obs = {.ctx = &w, .batch_done = on_batch};
  struct gm_train_result r;
  enum gm_status rc = gm_train_epoch(c->tr, s->cfg->train, 0, steps, &obs, &r);
  if (rc != GM_OK)
    return train_failed(s, c, rc);
  return GM_OK;
}
