/* run.c: a measured run read back for its report (report.h:
 * gm_report_run_load). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/report.h"

void gm_report_run_free(struct gm_report_run *r) {
  if (!r)
    return;
  free(r->components);
  free(r->metric_mean);
  free(r->metric_max);
  gm_store_run_list_free(r->list_);
  gm_store_series_free(r->series_);
  gm_store_run_phases_free(r->phases_);
  free(r);
}

static enum gm_status fail(struct gm_report_run *r, enum gm_status rc,
                           char *err, size_t err_size, const char *msg) {
  if (err && err_size)
    snprintf(err, err_size, "%s", msg);
  gm_report_run_free(r);
  return rc;
}

enum gm_status gm_report_run_load(struct gm_store *st, int64_t run_id,
                                  struct gm_report_run **out, char *err,
                                  size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_report_run *r = calloc(1, sizeof(*r));
  if (!r)
    return GM_ERR_NO_MEMORY;
  enum gm_status rc = gm_store_list_runs(st, NULL, &r->list_);
  if (rc != GM_OK)
    return fail(r, rc, err, err_size, gm_store_last_error(st));
  for (size_t i = 0; i < r->list_->n; i++)
    if (r->list_->runs[i].id == run_id)
      r->run = &r->list_->runs[i];
  if (!r->run) {
    char msg[128];
    snprintf(msg, sizeof(msg), "no run %lld", (long long)run_id);
    return fail(r, GM_ERR_NOT_FOUND, err, err_size, msg);
  }
  rc = gm_store_load_series(st, run_id, false, &r->series_);
  if (rc == GM_OK)
    rc = gm_store_load_run_phases(st, run_id, &r->phases_);
  if (rc != GM_OK)
    return fail(r, rc, err, err_size, gm_store_last_error(st));
  r->series = r->series_;
  r->phases = r->phases_;
  const struct gm_store_series *s = r->series;
  if (s->n_rows < 2) {
    char msg[160];
    snprintf(msg, sizeof(msg),
             "run %lld has %zu stored sample%s: nothing to show over time",
             (long long)run_id, s->n_rows, s->n_rows == 1 ? "" : "s");
    return fail(r, GM_ERR_STATE, err, err_size, msg);
  }
  size_t nc = s->n_components, nm = s->n_metrics;
  r->n_components = nc;
  r->components = calloc(nc ? nc : 1, sizeof(*r->components));
  r->metric_mean = calloc(nm ? nm : 1, sizeof(double));
  r->metric_max = calloc(nm ? nm : 1, sizeof(double));
  if (!r->components || !r->metric_mean || !r->metric_max)
    return fail(r, GM_ERR_NO_MEMORY, err, err_size, "out of memory");
  size_t last = s->n_rows - 1;
  r->duration_s = s->t_s[last] - s->t_s[0];
  for (size_t c = 0; c < nc; c++) {
    struct gm_report_run_component *rc_ = &r->components[c];
    snprintf(rc_->name, sizeof(rc_->name), "%s", s->components[c].name);
    snprintf(rc_->kind, sizeof(rc_->kind), "%s", s->components[c].kind);
    snprintf(rc_->provenance, sizeof(rc_->provenance), "%s",
             s->components[c].provenance);
    rc_->in_total = s->components[c].in_total;
    /* the last cumulative energy the series holds */
    rc_->energy_j = NAN;
    for (size_t k = s->n_rows; k-- > 0;) {
      double e = s->energy_j[k * nc + c];
      if (isfinite(e)) {
        rc_->energy_j = e - (isfinite(s->energy_j[c]) ? s->energy_j[c] : 0);
        break;
      }
    }
    rc_->avg_power_w = r->duration_s > 0 ? rc_->energy_j / r->duration_s : NAN;
    double peak = NAN;
    for (size_t k = 1; k < s->n_rows; k++) {
      double p = s->power_w[k * nc + c];
      if (isfinite(p) && !(p <= peak))
        peak = p;
    }
    rc_->peak_power_w = peak;
  }
  for (size_t m = 0; m < nm; m++) {
    double sum = 0, mx = NAN;
    size_t n = 0;
    for (size_t k = 0; k < s->n_rows; k++) {
      double v = s->metric[k * nm + m];
      if (!isfinite(v))
        continue;
      sum += v;
      n++;
      if (!(v <= mx))
        mx = v;
    }
    r->metric_mean[m] = n ? sum / (double)n : NAN;
    r->metric_max[m] = mx;
  }
  *out = r;
  return GM_OK;
}
