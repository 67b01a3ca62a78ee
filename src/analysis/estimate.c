/* estimate.c: a workload's energy and time from what was measured
 * (greenml/analysis.h): (a) the model's own phases extrapolated through the
 * origin, (b) a log-log regression across the measured models on MACs per
 * parameter, each with a prediction interval and a leave-one-out check. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_internal.h"
#include "base/util.h"
#include "greenml/nn.h"

void gm_estimate_clear(struct gm_estimate *e) {
  if (!e)
    return;
  free(e->profile.loo_energy.points);
  free(e->profile.loo_time.points);
  free(e->regression.loo_energy.points);
  free(e->regression.loo_time.points);
  memset(e, 0, sizeof(*e));
}

static void no_value(struct gm_estimate_value *v) {
  v->value = v->lo = v->hi = NAN;
}

/* The zoo's spelling of name and its MACs per parameter. */
static enum gm_status zoo_model(const char *name, char *canon, size_t size,
                                double *mpp) {
  const char *found = NULL;
  for (size_t i = 0; i < gm_nn_zoo_count(); i++)
    if (strcasecmp(name, gm_nn_zoo_name(i)) == 0)
      found = gm_nn_zoo_name(i);
  if (!found)
    return GM_ERR_NOT_FOUND;
  gm__strlcpy(canon, found, size);
  struct gm_nn_net *net = NULL;
  struct gm_nn_stats st;
  enum gm_status rc = gm_nn_zoo_build(found, &net);
  if (rc == GM_OK)
    rc = gm_nn_net_stats(net, &st);
  gm_nn_net_destroy(net);
  if (rc != GM_OK)
    return rc;
  *mpp = st.macs_per_param;
  return GM_OK;
}

/* Leave-one-out of model on (x, y) into out, the points labelled. With log,
 * the fit is made on (ln x, ln y) and every prediction and bound is taken
 * back with exp; errors are relative to y itself. */
static enum gm_status loo(enum gm_stats_model model, const double *x,
                          const double *y, char (*labels)[64], size_t n,
                          double alpha, bool logspace, const char *what,
                          struct gm_estimate_loo *out) {
  memset(out, 0, sizeof(*out));
  out->n = n;
  size_t need = model == GM_STATS_LINEAR ? 4 : 3;
  if (n < need) {
    gm__fmt(out->why, sizeof(out->why),
            "%zu %.*s; leaving one out needs %zu, so that the rest keep a "
            "residual degree of freedom",
            n, (int)(strlen(what) - (n == 1)), what, need);
    return GM_OK;
  }
  double *fx = malloc(n * sizeof(double)), *fy = malloc(n * sizeof(double));
  struct gm_stats_loo_point *pts = malloc(n * sizeof(*pts));
  out->points = calloc(n, sizeof(*out->points));
  if (!fx || !fy || !pts || !out->points) {
    free(fx);
    free(fy);
    free(pts);
    return GM_ERR_NO_MEMORY;
  }
  /* In log space a value of exactly 1 has logarithm 0, for which the
   * relative errors of gm_stats_loo are undefined; a constant shift of
   * ln y moves every fitted value and bound by the same constant, so the
   * shift is taken off again and changes nothing else. */
  double shift = 0;
  for (size_t i = 0; i < n; i++) {
    fx[i] = logspace ? log(x[i]) : x[i];
    fy[i] = logspace ? log(y[i]) : y[i];
  }
  if (logspace) {
    double lo = fy[0];
    for (size_t i = 1; i < n; i++)
      lo = fmin(lo, fy[i]);
    shift = 1 - lo;
    for (size_t i = 0; i < n; i++)
      fy[i] += shift;
  }
  struct gm_stats_loo s;
  enum gm_status rc = gm_stats_loo(model, fx, fy, n, alpha, pts, &s);
  if (rc == GM_ERR_NO_MEMORY)
    goto out;
  if (rc != GM_OK) {
    gm__fmt(out->why, sizeof(out->why), "leaving one out is not possible: %s",
            model == GM_STATS_LINEAR
                ? "without one of them the rest share one x"
                : "a value is 0, so relative errors are undefined");
    rc = GM_OK;
    goto out;
  }
  double sum = 0, worst = -1;
  size_t inside = 0;
  for (size_t i = 0; i < n; i++) {
    struct gm_estimate_loo_point *p = &out->points[i];
    gm__strlcpy(p->label, labels[i], sizeof(p->label));
    p->x = x[i];
    p->actual = y[i];
    p->pred = logspace ? exp(pts[i].pred - shift) : pts[i].pred;
    p->lo = logspace ? exp(pts[i].lo - shift) : pts[i].lo;
    p->hi = logspace ? exp(pts[i].hi - shift) : pts[i].hi;
    p->rel_err = (p->pred - p->actual) / p->actual;
    p->inside = pts[i].inside;
    sum += fabs(p->rel_err);
    inside += p->inside;
    if (fabs(p->rel_err) > worst) {
      worst = fabs(p->rel_err);
      out->worst = i;
    }
  }
  out->ok = true;
  out->mape_pct = 100 * sum / (double)n;
  out->coverage = (double)inside / (double)n;
out:
  if (!out->ok) {
    free(out->points);
    out->points = NULL;
  }
  free(fx);
  free(fy);
  free(pts);
  return rc;
}

/* The value at x0 of a fit, with its interval; lo never below floor. */
static void predict(const struct gm_stats_fit *f, double x0, double alpha,
                    double floor_, struct gm_estimate_value *v) {
  struct gm_stats_pred p;
  v->no_interval[0] = 0;
  if (gm_stats_predict(f, x0, alpha, &p) != GM_OK) {
    v->value = f->a + f->b * x0;
    v->lo = v->hi = NAN;
    gm__fmt(v->no_interval, sizeof(v->no_interval),
            "the fit has no residual degree of freedom");
    return;
  }
  v->value = p.y;
  v->lo = fmax(p.lo, floor_);
  v->hi = p.hi;
}

/* Withholds v's interval when the data cannot support it (analysis.h):
 * too few degrees of freedom, or bounds beyond GM_ESTIMATE_MAX_SPREAD. The
 * values are in the estimate's own units (after any back-transform). */
static void support(const struct gm_stats_fit *f, struct gm_estimate_value *v) {
  if (isnan(v->lo))
    return;
  if (f->dof < GM_ESTIMATE_MIN_DOF)
    gm__fmt(v->no_interval, sizeof(v->no_interval),
            "%zu residual degree(s) of freedom: an interval needs %d (one "
            "more point)",
            f->dof, GM_ESTIMATE_MIN_DOF);
  else if (!(v->hi <= v->value * GM_ESTIMATE_MAX_SPREAD &&
             v->lo * GM_ESTIMATE_MAX_SPREAD >= v->value))
    gm__fmt(v->no_interval, sizeof(v->no_interval),
            "the prediction interval spans more than %gx either side of the "
            "value: the points scatter too much to bound it",
            GM_ESTIMATE_MAX_SPREAD);
  else
    return;
  v->lo = v->hi = NAN;
}

enum gm_status gm_analysis_fit_loglog(const double *x, const double *y,
                                      size_t n, struct gm_stats_fit *out) {
  if (!x || !y || !out)
    return GM_ERR_INVALID_ARG;
  for (size_t i = 0; i < n; i++)
    if (!(x[i] > 0) || !(y[i] > 0))
      return GM_ERR_INVALID_ARG;
  double *lx = malloc((n ? n : 1) * sizeof(double));
  double *ly = malloc((n ? n : 1) * sizeof(double));
  enum gm_status rc = GM_ERR_NO_MEMORY;
  if (lx && ly) {
    for (size_t i = 0; i < n; i++) {
      lx[i] = log(x[i]);
      ly[i] = log(y[i]);
    }
    rc = gm_stats_fit(GM_STATS_LINEAR, lx, ly, n, out);
  }
  free(lx);
  free(ly);
  return rc;
}

enum gm_status gm_analysis_predict_loglog(const struct gm_stats_fit *fit,
                                          double x0, double alpha,
                                          struct gm_estimate_value *out) {
  if (!fit || !out || !(x0 > 0) || !isfinite(x0))
    return GM_ERR_INVALID_ARG;
  struct gm_estimate_value v;
  predict(fit, log(x0), alpha, -INFINITY, &v);
  out->value = exp(v.value);
  out->lo = exp(v.lo);
  out->hi = exp(v.hi);
  memcpy(out->no_interval, v.no_interval, sizeof(v.no_interval));
  support(fit, out);
  return GM_OK;
}

/* "32 (4 models), 16 (3 models)" or "32 (5 phases)": what was measured
 * per batch size among the phases of sel. */
static void batches_measured(const struct gm_analysis_table *t,
                             const struct gm_analysis_select *sel,
                             bool count_phases, char *buf, size_t size) {
  buf[0] = '\0';
  struct gm_analysis_cell *cells;
  size_t n;
  if (gm_analysis_cells(t, sel, &cells, &n) != GM_OK)
    return;
  size_t len = 0;
  for (size_t i = 0; i < n && len + 1 < size; i++) {
    bool seen = false;
    for (size_t k = 0; k < i; k++)
      if (cells[k].batch_size == cells[i].batch_size)
        seen = true;
    if (seen)
      continue;
    size_t cnt = 0;
    for (size_t k = i; k < n; k++)
      if (cells[k].batch_size == cells[i].batch_size)
        cnt += count_phases ? cells[k].n_phases : 1;
    int w = snprintf(buf + len, size - len, "%s%d (%zu %s%s)", len ? ", " : "",
                     cells[i].batch_size, cnt, count_phases ? "phase" : "model",
                     cnt == 1 ? "" : "s");
    if (w < 0)
      break;
    len += (size_t)w < size - len ? (size_t)w : size - len - 1;
  }
  free(cells);
}

/* ---- (a) the short profile ----------------------------------------------- */

static enum gm_status by_profile(const struct gm_analysis_table *t,
                                 const struct gm_analysis_select *base,
                                 struct gm_estimate *e) {
  struct gm_estimate_profile *r = &e->profile;
  no_value(&r->energy_j);
  no_value(&r->duration_s);
  struct gm_analysis_select sel = *base;
  sel.model = e->model;
  sel.batch_size = e->batch_size;
  size_t n = 0;
  for (size_t i = 0; i < t->n_phases; i++)
    n += gm__an_selected(&t->phases[i], &sel, NULL);
  if (n == 0) {
    char have[256];
    struct gm_analysis_select any = sel;
    any.batch_size = 0;
    batches_measured(t, &any, true, have, sizeof(have));
    if (have[0])
      gm__fmt(r->why, sizeof(r->why),
              "%s has no measured %s phase at batch %d; it was measured at "
              "batch %s: pass --batch-size",
              e->model, e->kind, e->batch_size, have);
    else
      gm__fmt(r->why, sizeof(r->why),
              "%s has no measured %s phase here: measure it with 'greenml "
              "bench --models %s --batch-sizes %d' (method (b) does not need "
              "it)",
              e->model, e->kind, e->model, e->batch_size);
    return GM_OK;
  }
  double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
  double *d = malloc(n * sizeof(double));
  char(*labels)[64] = malloc(n * sizeof(*labels));
  enum gm_status rc = GM_OK;
  if (!x || !y || !d || !labels) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  size_t k = 0;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    if (!gm__an_selected(p, &sel, NULL))
      continue;
    x[k] = (double)p->samples;
    y[k] = gm__an_phase_value(p, &sel, GM_AVAR_ENERGY_J);
    d[k] = p->duration_s;
    r->samples_measured += x[k];
    r->energy_measured_j += y[k];
    r->duration_measured_s += d[k];
    const char *bench = t->n_benches > 1 ? t->benches[p->bench].name : "";
    if (strncmp(p->kind, "profile-", 8) == 0)
      gm__fmt(labels[k], sizeof(labels[k]), "%s%sprofile", bench,
              *bench ? " " : "");
    else
      gm__fmt(labels[k], sizeof(labels[k]), "%s%sepoch %d", bench,
              *bench ? " " : "", p->epoch);
    k++;
  }
  r->n_phases = n;
  gm_analysis_provenance(t, &sel, r->provenance, sizeof(r->provenance),
                         r->provenance_detail, sizeof(r->provenance_detail));
  r->ok = true;
  if (n == 1) {
    r->energy_j.value = y[0] / x[0] * e->samples;
    r->duration_s.value = d[0] / x[0] * e->samples;
    gm__fmt(r->why, sizeof(r->why),
            "one phase: proportional extrapolation without an interval (an "
            "interval needs 2 phases)");
  } else if (gm_stats_fit(GM_STATS_ORIGIN, x, y, n, &r->fit_energy) != GM_OK ||
             gm_stats_fit(GM_STATS_ORIGIN, x, d, n, &r->fit_time) != GM_OK) {
    r->ok = false;
    gm__fmt(r->why, sizeof(r->why), "the phases cannot be fitted");
  } else {
    predict(&r->fit_energy, e->samples, e->alpha, 0, &r->energy_j);
    predict(&r->fit_time, e->samples, e->alpha, 0, &r->duration_s);
    support(&r->fit_energy, &r->energy_j);
    support(&r->fit_time, &r->duration_s);
  }
  if ((rc = loo(GM_STATS_ORIGIN, x, y, labels, n, e->alpha, false, "phases",
                &r->loo_energy)) != GM_OK ||
      (rc = loo(GM_STATS_ORIGIN, x, d, labels, n, e->alpha, false, "phases",
                &r->loo_time)) != GM_OK)
    goto out;
out:
  free(x);
  free(y);
  free(d);
  free(labels);
  return rc;
}

/* ---- (b) the regression across models ------------------------------------ */

static enum gm_status by_regression(const struct gm_analysis_table *t,
                                    const struct gm_analysis_select *base,
                                    double mpp, struct gm_estimate *e) {
  struct gm_estimate_regression *r = &e->regression;
  no_value(&r->j_per_sample);
  no_value(&r->energy_j);
  no_value(&r->s_per_sample);
  no_value(&r->duration_s);
  r->loo_linear_mape_pct = NAN;
  r->loo_macs_mape_pct = NAN;
  r->batch_size = e->batch_size;
  r->macs_per_param = mpp;
  struct gm_analysis_select sel = *base;
  sel.batch_size = e->batch_size;
  struct gm_analysis_cell *cells;
  size_t nc;
  enum gm_status rc = gm_analysis_cells(t, &sel, &cells, &nc);
  if (rc != GM_OK)
    return rc;
  double *x = malloc((nc ? nc : 1) * sizeof(double));
  double *y = malloc((nc ? nc : 1) * sizeof(double));
  double *z = malloc((nc ? nc : 1) * sizeof(double));
  double *macs = malloc((nc ? nc : 1) * sizeof(double));
  char(*labels)[64] = malloc((nc ? nc : 1) * sizeof(*labels));
  if (!x || !y || !z || !macs || !labels) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  size_t n = 0;
  char names[256] = "";
  for (size_t i = 0; i < nc; i++) {
    const struct gm_analysis_cell *c = &cells[i];
    if (!(c->macs_per_param > 0) || !(c->j_per_sample > 0) ||
        !(c->s_per_sample > 0) || !isfinite(c->j_per_sample))
      continue;
    x[n] = c->macs_per_param;
    macs[n] = (double)c->macs;
    y[n] = c->j_per_sample;
    z[n] = c->s_per_sample;
    gm__strlcpy(labels[n], c->model, sizeof(labels[n]));
    if (strcasecmp(c->model, e->model) == 0)
      r->model_measured = true;
    size_t len = strlen(names);
    if (len + 1 < sizeof(names))
      snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
               c->model);
    n++;
  }
  r->n_models = n;
  gm_analysis_provenance(t, &sel, r->provenance, sizeof(r->provenance),
                         r->provenance_detail, sizeof(r->provenance_detail));
  if (n < 3) {
    char have[256];
    struct gm_analysis_select any = sel;
    any.batch_size = 0;
    batches_measured(t, &any, false, have, sizeof(have));
    gm__fmt(r->why, sizeof(r->why),
            "needs %s phases of at least 3 models at batch %d; %zu%s%s%s. "
            "Measured: %s",
            e->kind, e->batch_size, n, n ? " (" : "", names, n ? ")" : "",
            have[0] ? have : "nothing");
    goto out;
  }
  if ((rc = gm_analysis_fit_loglog(x, y, n, &r->fit_energy)) != GM_OK ||
      (rc = gm_analysis_fit_loglog(x, z, n, &r->fit_time)) != GM_OK) {
    if (rc == GM_ERR_NO_MEMORY)
      goto out;
    rc = GM_OK;
    gm__fmt(r->why, sizeof(r->why),
            "the %zu models (%s) share one MACs/param value: no slope can be "
            "fitted",
            n, names);
    goto out;
  }
  double lo = x[0], hi = x[0];
  for (size_t i = 1; i < n; i++) {
    lo = fmin(lo, x[i]);
    hi = fmax(hi, x[i]);
  }
  r->extrapolated = mpp < lo || mpp > hi;
  gm_analysis_predict_loglog(&r->fit_energy, mpp, e->alpha, &r->j_per_sample);
  gm_analysis_predict_loglog(&r->fit_time, mpp, e->alpha, &r->s_per_sample);
  r->energy_j = r->j_per_sample; /* the interval's note with it */
  r->energy_j.value *= e->samples;
  r->energy_j.lo *= e->samples;
  r->energy_j.hi *= e->samples;
  r->duration_s = r->s_per_sample;
  r->duration_s.value *= e->samples;
  r->duration_s.lo *= e->samples;
  r->duration_s.hi *= e->samples;
  r->ok = true;
  if ((rc = loo(GM_STATS_LINEAR, x, y, labels, n, e->alpha, true, "models",
                &r->loo_energy)) != GM_OK ||
      (rc = loo(GM_STATS_LINEAR, x, z, labels, n, e->alpha, true, "models",
                &r->loo_time)) != GM_OK)
    goto out;
  struct gm_estimate_loo lin;
  if ((rc = loo(GM_STATS_LINEAR, x, y, labels, n, e->alpha, false, "models",
                &lin)) != GM_OK)
    goto out;
  if (lin.ok)
    r->loo_linear_mape_pct = lin.mape_pct;
  free(lin.points);
  struct gm_estimate_loo by_macs;
  if ((rc = loo(GM_STATS_LINEAR, macs, y, labels, n, e->alpha, true, "models",
                &by_macs)) != GM_OK)
    goto out;
  if (by_macs.ok)
    r->loo_macs_mape_pct = by_macs.mape_pct;
  free(by_macs.points);
out:
  free(cells);
  free(x);
  free(y);
  free(z);
  free(macs);
  free(labels);
  return rc;
}

enum gm_status gm_estimate(const struct gm_analysis_table *t,
                           const struct gm_estimate_request *req,
                           struct gm_estimate *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  if (!t || !req || !req->model || !req->kind ||
      (strcmp(req->kind, "train") != 0 && strcmp(req->kind, "infer") != 0) ||
      !(req->samples > 0) || !isfinite(req->samples) || !(req->alpha > 0) ||
      !(req->alpha < 1) || req->batch_size < 0)
    return GM_ERR_INVALID_ARG;
  double mpp;
  enum gm_status rc =
      zoo_model(req->model, out->model, sizeof(out->model), &mpp);
  if (rc != GM_OK)
    return rc;
  gm__strlcpy(out->kind, req->kind, sizeof(out->kind));
  out->samples = req->samples;
  out->alpha = req->alpha;
  struct gm_analysis_select sel = {.bench_id = req->bench_id,
                                   .host_id = req->host_id,
                                   .kind = out->kind,
                                   .with_profile = true};
  out->batch_size = req->batch_size;
  if (!out->batch_size) {
    out->batch_chosen = true;
    if ((rc = gm__an_best_batch(t, &sel, out->model, &out->batch_size)) !=
        GM_OK)
      return rc;
    if (!out->batch_size &&
        (rc = gm__an_best_batch(t, &sel, NULL, &out->batch_size)) != GM_OK)
      return rc;
  }
  if (!out->batch_size) {
    no_value(&out->profile.energy_j);
    no_value(&out->profile.duration_s);
    no_value(&out->regression.energy_j);
    no_value(&out->regression.duration_s);
    no_value(&out->regression.j_per_sample);
    no_value(&out->regression.s_per_sample);
    out->regression.loo_linear_mape_pct = NAN;
    out->regression.loo_macs_mape_pct = NAN;
    gm__fmt(out->profile.why, sizeof(out->profile.why),
            "no metered %s phase with an energy to estimate from (an "
            "unmetered bench records time only)",
            out->kind);
    gm__strlcpy(out->regression.why, out->profile.why,
                sizeof(out->regression.why));
    return GM_OK;
  }
  if ((rc = by_profile(t, &sel, out)) != GM_OK ||
      (rc = by_regression(t, &sel, mpp, out)) != GM_OK)
    return rc;
  return GM_OK;
}
