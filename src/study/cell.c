/* cell.c: one cell of the grid (model x batch size x metered): its
 * training handle, its meter and meter run (samples go to the store from
 * the meter's writer thread), then the full cell (epochs, checkpoints,
 * inference after each, resumable) or the profile alone, and the
 * predictions of a profile. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "greenml/json.h"
#include "greenml/run.h"
#include "study/study_internal.h"

double gm__study_in_total(const struct gm__study_cell *c, const double *v,
                          const char **provenance) {
  for (size_t i = 0; i < c->nc; i++)
    c->parts[i].gross_j = v[i]; /* scratch: the values being summed */
  struct gm_energy_total t;
  gm_energy_account(c->parts, c->nc, NAN, &t);
  if (provenance)
    *provenance = t.provenance;
  return t.gross_j;
}

/* ---- the meter's writer thread ---- */

/* The store keeps what it cannot write yet and counts what it loses; the
 * run's finish says whether every sample was stored. */
static void on_sample(void *arg, const struct gm_sample *smp) {
  struct gm__study_cell *c = arg;
  struct gm__study *s = c->sink.s;
  pthread_mutex_lock(&s->st_mu);
  gm_store_add_sample(s->st, c->sink.run_id, smp);
  pthread_mutex_unlock(&s->st_mu);
}

static void on_flush(void *arg) {
  struct gm__study_cell *c = arg;
  struct gm__study *s = c->sink.s;
  pthread_mutex_lock(&s->st_mu);
  gm_store_commit(s->st);
  pthread_mutex_unlock(&s->st_mu);
}

/* ---- set-up ---- */

static void cell_free(struct gm__study_cell *c) {
  gm_train_destroy(c->tr);
  gm_meter_destroy(c->m);
  free(c->parts);
  free(c->live_e);
  free(c->live_p);
  free(c->ptrain);
  free(c->pinfer);
  memset(c, 0, sizeof(*c));
}

static enum gm_status cell_setup(struct gm__study *s, struct gm__study_cell *c,
                                 const char *model, int batch,
                                 enum gm_nn_precision prec, bool metered) {
  const struct gm_study_config *cfg = s->cfg;
  memset(c, 0, sizeof(*c));
  c->batch = batch;
  c->prec = prec;
  c->precision = gm_nn_precision_name(prec);
  c->metered = metered;
  c->i_cpu = c->i_mem = SIZE_MAX;
  struct gm_train_config tc = gm_train_config_default();
  tc.model = model;
  tc.batch_size = batch;
  tc.lr = cfg->lr;
  tc.epochs = cfg->epochs;
  tc.seed = cfg->seed;
  tc.limit_batches = cfg->limit_batches;
  tc.backend = cfg->backend;
  tc.threads = s->threads.threads;
  tc.engine = cfg->engine;
  tc.device = cfg->device;
  tc.schedule = cfg->cosine ? GM_TRAIN_LR_COSINE : GM_TRAIN_LR_CONSTANT;
  tc.precision = prec;
  char err[512] = "";
  enum gm_status rc = gm_train_create(&tc, &c->tr, err, sizeof(err));
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", err);
  c->model = gm_train_config_of(c->tr)->model;
  rc = gm_nn_net_stats(gm_train_net(c->tr), &c->stats);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "cannot count %s", c->model);
  size_t n = gm_cifar10_count(cfg->train);
  c->steps_per_epoch = gm_train_epoch_steps(gm_train_config_of(c->tr), n);
  c->epoch_samples = c->steps_per_epoch * batch;
  if ((size_t)c->epoch_samples > n)
    c->epoch_samples = (long)n;
  c->ptrain = calloc(1, sizeof(*c->ptrain));
  c->pinfer = calloc(1, sizeof(*c->pinfer));
  if (!c->ptrain || !c->pinfer)
    return gm__study_fail(s, GM_ERR_NO_MEMORY, "out of memory for a cell");
  return GM_OK;
}

/* Finds the metrics a row reports: CPU utilisation, memory in use, GPUs. */
static void find_metrics(struct gm__study_cell *c) {
  for (size_t k = 0; k < c->nm; k++) {
    const char *nm = gm_meter_metric(c->m, k)->name;
    size_t len = strlen(nm);
    if (strcmp(nm, "cpu.util") == 0)
      c->i_cpu = k;
    else if (strcmp(nm, "mem.used") == 0)
      c->i_mem = k;
    else if (strncmp(nm, "gpu", 3) == 0 && len > 5 &&
             strcmp(nm + len - 5, ".util") == 0 && c->n_gpu_util < 16)
      c->gpu_util[c->n_gpu_util++] = k;
    else if (strncmp(nm, "gpu", 3) == 0 && len > 10 &&
             strcmp(nm + len - 10, ".vram_used") == 0 && c->n_gpu_vram < 16)
      c->gpu_vram[c->n_gpu_vram++] = k;
  }
}

/* Creates and starts the cell's meter and its run row. */
static enum gm_status cell_meter(struct gm__study *s,
                                 struct gm__study_cell *c) {
  const struct gm_study_config *cfg = s->cfg;
  struct gm_meter_config mc = cfg->meter;
  c->sink.s = s;
  mc.on_sample = on_sample;
  mc.on_flush = on_flush;
  mc.callback_ctx = c;
  enum gm_status rc = gm_meter_create(&mc, &c->m);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "cannot create the meter");
  c->nc = gm_meter_component_count(c->m);
  c->nm = gm_meter_metric_count(c->m);
  size_t nc = c->nc ? c->nc : 1;
  bool warned = false;
  c->parts = calloc(nc, sizeof(*c->parts));
  c->live_e = calloc(nc, sizeof(double));
  c->live_p = calloc(nc, sizeof(double));
  if (!c->parts || !c->live_e || !c->live_p)
    return gm__study_fail(s, GM_ERR_NO_MEMORY, "out of memory for a meter");
  for (size_t i = 0; i < c->nc; i++) {
    const struct gm_component_info *ci = gm_meter_component(c->m, i);
    const struct gm_idle_entry *e = NULL;
    char why[512];
    c->parts[i] = (struct gm_energy_part){
        .provenance = ci->provenance, .in_total = ci->in_total, .idle_w = NAN};
    if (gm_energy_idle_match(s->idle, ci, &e, why, sizeof(why)) ==
        GM_IDLE_MATCH) {
      c->parts[i].idle_w = e->mean_power_w;
      c->parts[i].idle_sd_w = e->sd_power_w;
      c->parts[i].idle_n = (double)e->n_intervals;
      c->parts[i].idle_duration_s = s->idle->duration_s;
    } else if (s->idle && !s->idle_warned) {
      /* said once per bench: every cell meters the same components */
      gm__study_say(s, GM_STUDY_WARNING,
                    "net energy not computed for %s: %s; its phases and the "
                    "totals keep a gross energy only",
                    ci->name, why);
      warned = true;
    }
  }
  /* said once per bench too: what the cells cannot meter, and what the
   * baseline has that they do not */
  char unmatched[256];
  if (!s->idle_warned &&
      gm_energy_idle_unmatched(s->idle, gm_meter_components(c->m), c->nc,
                               unmatched, sizeof(unmatched)) > 0) {
    gm__study_say(s, GM_STUDY_WARNING,
                  "the idle baseline was measured with %s, which the bench "
                  "does not meter: its sources differ from the baseline's",
                  unmatched);
    warned = true;
  }
  for (size_t i = 0; i < gm_meter_missing_count(c->m) && !s->missing_warned;
       i++) {
    const struct gm_missing *x = gm_meter_missing(c->m, i);
    gm__study_say(s, GM_STUDY_WARNING, "%s (%s) is missing%s: %s", x->name,
                  gm_kind_name(x->kind),
                  x->in_total ? ", so every total of the bench is partial" : "",
                  x->reason);
  }
  s->missing_warned = true;
  if (warned)
    s->idle_warned = true;
  find_metrics(c);
  char cmd[256], tags[2560], nm_json[160], model_json[96], kernels[1024];
  snprintf(cmd, sizeof(cmd), "greenml bench %s: %s batch %d %s", cfg->name,
           c->model, c->batch, c->precision);
  gm_json_escape_into(nm_json, sizeof(nm_json), cfg->name);
  gm_json_escape_into(model_json, sizeof(model_json), c->model);
  gm_json_escape_into(kernels, sizeof(kernels), gm_train_kernels(c->tr));
  bool extra = cfg->run_tags && *cfg->run_tags;
  snprintf(tags, sizeof(tags),
           "{\"bench\":%s,\"model\":%s,\"batch_size\":%d,\"precision\":"
           "\"%s\",\"kernels\":%s%s%s}",
           nm_json, model_json, c->batch, c->precision, kernels,
           extra ? "," : "", extra ? cfg->run_tags : "");
  struct gm_run_meta meta = {.kind = "bench",
                             .interval_s = (double)mc.interval_ns / 1e9,
                             .command = cmd,
                             .tags_json = tags,
                             .carbon_g_per_kwh = NAN,
                             .pue = NAN,
                             .idle_baseline_id = s->idle ? s->idle->id : 0};
  pthread_mutex_lock(&s->st_mu);
  rc = gm_store_begin_run(s->st, s->host_id, &meta, c->nc,
                          gm_meter_components(c->m), c->nm,
                          gm_meter_metrics(c->m), &c->run_id);
  if (rc != GM_OK)
    gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  pthread_mutex_unlock(&s->st_mu);
  if (rc != GM_OK)
    return rc;
  c->sink.run_id = c->run_id;
  rc = gm_meter_start(c->m);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "cannot start the meter: %s",
                          gm_meter_last_error(c->m));
  return GM_OK;
}

/* Stops the cell's meter and closes its run row with exit_code. */
static enum gm_status cell_meter_finish(struct gm__study *s,
                                        struct gm__study_cell *c,
                                        int exit_code) {
  if (!c->m)
    return GM_OK;
  gm_meter_stop(c->m);
  struct gm_run_record *rec = NULL;
  enum gm_status rc = gm_run_record_from_meter(c->m, s->idle, &rec);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "cannot summarise the meter's run");
  struct gm_run_result res = {.exit_code = exit_code, .carbon_g = NAN};
  pthread_mutex_lock(&s->st_mu);
  rc = gm_store_finish_run(s->st, c->run_id, &res, rec);
  if (rc != GM_OK)
    gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  pthread_mutex_unlock(&s->st_mu);
  gm_run_record_free(rec);
  return rc; /* an error also when samples were lost (the message says) */
}

/* ---- checkpoints ---- */

static void ckpt_path(const struct gm__study *s, const struct gm__study_cell *c,
                      int epoch, char *buf, size_t size) {
  /* fp32 keeps the names it had before precisions existed */
  snprintf(buf, size, "%s/%s-b%d%s%s-%s-e%d.ckpt", s->cfg->checkpoint_dir,
           c->model, c->batch, c->prec == GM_NN_FP32 ? "" : "-",
           c->prec == GM_NN_FP32 ? "" : c->precision, c->metered ? "m" : "u",
           epoch);
}

static enum gm_status save_ckpt(struct gm__study *s, struct gm__study_cell *c,
                                int epoch) {
  char path[4096];
  ckpt_path(s, c, epoch, path, sizeof(path));
  enum gm_status rc = gm_train_save(c->tr, path, (uint32_t)epoch);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", gm_train_last_error(c->tr));
  /* keep this epoch's and the one before (its row may not be committed) */
  if (epoch > 2) {
    ckpt_path(s, c, epoch - 2, path, sizeof(path));
    gm_train_checkpoint_remove(path);
  }
  return GM_OK;
}

/* ---- predictions ---- */

/* Extrapolates profile p of the cell to target samples. */
static void predict(struct gm__study *s, struct gm__study_cell *c,
                    const struct gm__study_profile *p, const char *kind,
                    long target, struct gm_bench_prediction *out) {
  memset(out, 0, sizeof(*out));
  out->model = c->model;
  out->batch_size = c->batch;
  out->precision = c->precision;
  out->kind = kind;
  out->profile_epochs = s->cfg->profile_epochs;
  out->profile_steps = (p->seen + c->batch - 1) / c->batch;
  out->target_samples = target;
  out->target_steps = (target + c->batch - 1) / c->batch;
  out->level = GM__STUDY_LEVEL;
  out->actual_duration_s = out->actual_energy_j = NAN;
  gm__study_in_total(c, c->live_e, &out->provenance);
  struct gm_study_profile view;
  gm__study_profile_view(p, &view);
  struct gm_study_estimate est;
  if (!p->done ||
      gm_study_predict(&view, target, GM__STUDY_LEVEL, &est) != GM_OK)
    est = (struct gm_study_estimate){NAN, NAN, NAN, NAN, NAN, NAN};
  out->duration_s = est.duration_s;
  out->duration_lo_s = est.duration_lo_s;
  out->duration_hi_s = est.duration_hi_s;
  out->energy_j = est.energy_j;
  out->energy_lo_j = est.energy_lo_j;
  out->energy_hi_j = est.energy_hi_j;
  /* the idle power of the in-total components: NAN unless each has one */
  struct gm_energy_total t;
  for (size_t i = 0; i < c->nc; i++)
    c->parts[i].gross_j = 0;
  gm_energy_account(c->parts, c->nc, 0, &t);
  out->net_energy_j = gm_energy_net(out->energy_j, t.idle_w, out->duration_s);
}

/* Whether a profile can predict target samples; tells the observer why not
 * when it cannot: too short a run to hold two power windows before its
 * end. */
static bool usable(struct gm__study *s, const struct gm__study_cell *c,
                   const struct gm__study_profile *p, const char *kind,
                   long target) {
  if (p->done && p->seen < target)
    return true;
  struct gm_study_prediction np = {
      .made = false,
      .p = {.model = c->model,
            .batch_size = c->batch,
            .precision = c->precision,
            .kind = kind},
      .windows = p->n,
      .window_s = 10.0 * (double)s->cfg->meter.interval_ns / 1e9,
      .profiled = p->seen,
      .target = target};
  if (s->obs && s->obs->prediction)
    s->obs->prediction(s->obs->ctx, &np);
  return false;
}

static enum gm_status put_prediction(struct gm__study *s,
                                     const struct gm_bench_prediction *p) {
  pthread_mutex_lock(&s->st_mu);
  enum gm_status rc = gm_store_bench_put_prediction(s->st, s->bench_id, p);
  if (rc != GM_OK)
    gm__study_fail(s, rc, "%s", gm_store_last_error(s->st));
  pthread_mutex_unlock(&s->st_mu);
  if (rc != GM_OK)
    return rc;
  struct gm_study_prediction sp = {.made = true, .p = *p};
  if (s->obs && s->obs->prediction)
    s->obs->prediction(s->obs->ctx, &sp);
  return GM_OK;
}

/* Samples the profile of training measures, and of inference. */
static long train_want(const struct gm__study *s,
                       const struct gm__study_cell *c, long target) {
  long want = (long)ceil(s->cfg->profile_epochs * (double)c->epoch_samples);
  if (want < 5L * c->batch)
    want = 5L * c->batch;
  return want < target ? want : target;
}

static long infer_want(const struct gm__study *s,
                       const struct gm__study_cell *c) {
  long n = s->cfg->infer_samples;
  long want = (long)ceil(fmin(1.0, s->cfg->profile_epochs) * (double)n);
  if (want < 6L * c->batch)
    want = 6L * c->batch;
  return want < n ? want : n;
}

/* ---- the two kinds of cell ---- */

/* Profile only: the first K epochs of training and the same share of one
 * inference pass, then the predictions. */
static enum gm_status run_profile(struct gm__study *s,
                                  struct gm__study_cell *c) {
  bool have_t = gm__study_has_phase(s, c, "profile-train", 0);
  bool have_i = gm__study_has_phase(s, c, "profile-infer", 0);
  if (have_t && have_i)
    return GM_OK;
  const struct gm_study_config *cfg = s->cfg;
  long train_target = (long)cfg->epochs * c->epoch_samples;
  long infer_target = (long)cfg->epochs * cfg->infer_samples;
  gm__study_profile_start(c->ptrain, train_want(s, c, train_target));
  enum gm_status rc = gm_train_init(c->tr);
  if (rc != GM_OK)
    return gm__study_fail(s, rc, "%s", gm_train_last_error(c->tr));
  struct gm__study_pass p;
  if ((rc = gm__study_profile_train_phase(s, c, train_target, &p)) != GM_OK ||
      s->stopped)
    return rc;
  if (!have_t && (rc = gm__study_phase_record(s, c, "profile-train", 0, &p,
                                              NULL)) != GM_OK)
    return rc;
  gm__study_gap(s, cfg->gap_ns);
  if (s->stopped)
    return GM_OK;
  long iwant = infer_want(s, c);
  gm__study_profile_start(c->pinfer, iwant);
  char name[64];
  snprintf(name, sizeof(name), "%s b%d profile infer", c->model, c->batch);
  if ((rc = gm__study_infer_phase(s, c, name, iwant, infer_target, c->pinfer, 0,
                                  &p)) != GM_OK ||
      s->stopped)
    return rc;
  if (!have_i && (rc = gm__study_phase_record(s, c, "profile-infer", 0, &p,
                                              NULL)) != GM_OK)
    return rc;
  gm__study_gap(s, cfg->gap_ns);
  if (s->stopped)
    return GM_OK;
  struct gm_bench_prediction pr;
  if (usable(s, c, c->ptrain, "train", train_target)) {
    predict(s, c, c->ptrain, "train", train_target, &pr);
    if ((rc = put_prediction(s, &pr)) != GM_OK)
      return rc;
  }
  if (usable(s, c, c->pinfer, "infer", infer_target)) {
    predict(s, c, c->pinfer, "infer", infer_target, &pr);
    if ((rc = put_prediction(s, &pr)) != GM_OK)
      return rc;
  }
  return GM_OK;
}

/* Where a full cell starts: *start epochs have both rows; *infer_missing
 * when epoch *start has its training row only. */
static void resume_point(struct gm__study *s, const struct gm__study_cell *c,
                         int *start, bool *infer_missing) {
  *start = 0;
  *infer_missing = false;
  for (int e = 1; e <= s->cfg->epochs; e++) {
    if (!gm__study_has_phase(s, c, "train", e))
      break;
    *start = e;
    if (!gm__study_has_phase(s, c, "infer", e)) {
      *infer_missing = true;
      break;
    }
  }
}

/* Loads the checkpoint of epoch `start` to resume the cell. */
static enum gm_status resume_from(struct gm__study *s, struct gm__study_cell *c,
                                  int start) {
  char path[4096], why[4400];
  ckpt_path(s, c, start, path, sizeof(path));
  uint32_t done = 0;
  /* the checkpoint must have been trained on this data (train.h) */
  gm_train_use_data(c->tr, s->cfg->train);
  enum gm_status rc = gm_train_resume(c->tr, path, &done);
  gm__fmt(why, sizeof(why), "%s", gm_train_last_error(c->tr));
  if (rc == GM_OK && done != (uint32_t)start) {
    rc = GM_ERR_PARSE;
    gm__fmt(why, sizeof(why), "'%s' holds epoch %u", path, done);
  }
  if (rc == GM_OK)
    return GM_OK;
  /* a checkpoint made under another configuration is not this bench's */
  if (rc == GM_ERR_INVALID_ARG)
    rc = GM_ERR_PARSE;
  return gm__study_fail(
      s, rc,
      "cannot resume: %s; the rows of %s batch %d %s up to epoch %d exist "
      "but "
      "their checkpoint cannot be used. Restore it, or start a new bench "
      "with another --run-id",
      why, c->model, c->batch, c->precision, start);
}

/* The full cell: N epochs, inference after each; resumes at the first phase
 * without a row. */
static enum gm_status run_full(struct gm__study *s, struct gm__study_cell *c) {
  const struct gm_study_config *cfg = s->cfg;
  int start;
  bool infer_missing;
  resume_point(s, c, &start, &infer_missing);
  if (start == cfg->epochs && !infer_missing)
    return GM_OK;
  enum gm_status rc;
  if (start > 0) {
    if ((rc = resume_from(s, c, start)) != GM_OK)
      return rc;
    gm__study_say(s, GM_STUDY_INFO, "%s batch %d %s resumes after epoch %d%s",
                  c->model, c->batch, c->precision, start,
                  infer_missing ? " (its inference pass first)" : "");
  } else if ((rc = gm_train_init(c->tr)) != GM_OK) {
    return gm__study_fail(s, rc, "%s", gm_train_last_error(c->tr));
  }
  /* verification: the prediction is made from the start of this very run */
  bool predicting = cfg->profile_epochs > 0 && start == 0 && c->m;
  long train_target = (long)cfg->epochs * c->epoch_samples;
  long infer_target = (long)cfg->epochs * cfg->infer_samples;
  if (predicting) {
    gm__study_profile_start(c->ptrain, train_want(s, c, train_target));
    gm__study_profile_start(c->pinfer, infer_want(s, c));
  } else if (cfg->profile_epochs > 0) {
    gm__study_say(s, GM_STUDY_WARNING,
                  "%s batch %d %s resumed mid-run: no prediction is made for "
                  "it",
                  c->model, c->batch, c->precision);
  }
  struct gm_bench_prediction pt = {0}, pi = {0};
  bool made_t = false, made_i = false;
  for (int e = infer_missing ? start : start + 1; e <= cfg->epochs; e++) {
    struct gm__study_pass p;
    double ej = NAN;
    if (!(infer_missing && e == start)) {
      if ((rc = gm__study_train_phase(s, c, e, &p)) != GM_OK || s->stopped)
        return rc;
      if ((rc = save_ckpt(s, c, e)) != GM_OK ||
          (rc = gm__study_phase_record(s, c, "train", e, &p, &ej)) != GM_OK)
        return rc;
      c->sum_train_s += (double)(p.t1_ns - p.t0_ns) / 1e9;
      c->sum_train_j += ej;
      if (predicting && c->ptrain->done && !made_t &&
          c->ptrain->seen < train_target) {
        predict(s, c, c->ptrain, "train", train_target, &pt);
        made_t = true;
      }
      gm__study_gap(s, cfg->gap_ns);
      if (s->stopped)
        return GM_OK;
    }
    char name[64];
    snprintf(name, sizeof(name), "%s b%d infer after epoch %d", c->model,
             c->batch, e);
    if ((rc = gm__study_infer_phase(s, c, name, cfg->infer_samples, 0,
                                    predicting ? c->pinfer : NULL, e, &p)) !=
            GM_OK ||
        s->stopped)
      return rc;
    if ((rc = gm__study_phase_record(s, c, "infer", e, &p, &ej)) != GM_OK)
      return rc;
    c->sum_infer_s += (double)(p.t1_ns - p.t0_ns) / 1e9;
    c->sum_infer_j += ej;
    if (predicting && c->pinfer->done && !made_i &&
        c->pinfer->seen < infer_target) {
      predict(s, c, c->pinfer, "infer", infer_target, &pi);
      made_i = true;
    }
    gm__study_gap(s, cfg->gap_ns);
    if (s->stopped)
      return GM_OK;
  }
  if (predicting && !made_t)
    usable(s, c, c->ptrain, "train", train_target);
  if (predicting && !made_i)
    usable(s, c, c->pinfer, "infer", infer_target);
  if (made_t) {
    pt.actual_duration_s = c->sum_train_s;
    pt.actual_energy_j = c->sum_train_j;
    if ((rc = put_prediction(s, &pt)) != GM_OK)
      return rc;
  }
  if (made_i) {
    pi.actual_duration_s = c->sum_infer_s;
    pi.actual_energy_j = c->sum_infer_j;
    if ((rc = put_prediction(s, &pi)) != GM_OK)
      return rc;
  }
  return GM_OK;
}

enum gm_status gm__study_run_cell(struct gm__study *s, const char *model,
                                  int batch, enum gm_nn_precision prec,
                                  bool metered) {
  struct gm__study_cell c;
  enum gm_status rc = cell_setup(s, &c, model, batch, prec, metered);
  if (rc == GM_OK && metered)
    rc = cell_meter(s, &c);
  if (rc == GM_OK) {
    bool profile_only = s->cfg->profile_epochs > 0 && !s->cfg->verify;
    rc = profile_only ? run_profile(s, &c) : run_full(s, &c);
    /* the meter run's exit code: 0, 130 when stopped (as a shell reports
     * an interrupted command), 1 when the cell failed */
    int code = rc != GM_OK ? 1 : s->stopped ? 130 : 0;
    enum gm_status rc2 = cell_meter_finish(s, &c, code);
    if (rc == GM_OK)
      rc = rc2;
  }
  cell_free(&c);
  return rc;
}

enum gm_status gm__study_warm_up(struct gm__study *s, const char *model,
                                 int batch, enum gm_nn_precision prec) {
  struct gm__study_cell c;
  enum gm_status rc = cell_setup(s, &c, model, batch, prec, false);
  if (rc == GM_OK && (rc = gm_train_init(c.tr)) != GM_OK)
    gm__study_fail(s, rc, "%s", gm_train_last_error(c.tr));
  double left_t = s->left_train, left_i = s->left_infer;
  if (rc == GM_OK)
    rc = gm__study_train_steps(s, &c, 2);
  if (rc == GM_OK && !s->stopped) {
    char name[64];
    struct gm__study_pass p;
    snprintf(name, sizeof(name), "%s b%d warm-up", c.model, batch);
    rc = gm__study_infer_phase(s, &c, name, batch, 0, NULL, 0, &p);
  }
  s->left_train = left_t; /* the ETA counts measured work only */
  s->left_infer = left_i;
  cell_free(&c);
  return rc;
}
