/* correlate.c: selections of the phase table, cells, correlations and the
 * paper's claims (greenml/analysis.h). The statistics themselves are
 * greenml/stats.h; this file decides what the points are and what a
 * result means. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_internal.h"
#include "base/util.h"

/* ---- selections ---------------------------------------------------------- */

bool gm__an_selected(const struct gm_analysis_phase *p,
                     const struct gm_analysis_select *sel, const char **kind) {
  double e = sel->net ? p->net_energy_j : p->energy_j;
  if (!p->metered || !isfinite(e) || !(p->samples > 0) || !(p->duration_s > 0))
    return false;
  if (sel->net && !(e > 0)) /* at or below idle: never used as it is */
    return false;
  if (sel->bench_id && p->bench_id != sel->bench_id)
    return false;
  if (sel->host_id && p->host_id != sel->host_id)
    return false;
  if (sel->model && strcasecmp(sel->model, p->model) != 0)
    return false;
  if (sel->precision && strcmp(p->precision, sel->precision) != 0)
    return false;
  if (sel->batch_size && p->batch_size != sel->batch_size)
    return false;
  const char *k = p->kind;
  if (sel->with_profile && strncmp(k, "profile-", 8) == 0)
    k += 8;
  if (sel->kind) {
    if (strcmp(k, sel->kind) != 0)
      return false;
  } else if (strcmp(k, "train") != 0 && strcmp(k, "infer") != 0) {
    return false;
  }
  if (kind)
    *kind = k;
  return true;
}

enum gm_status gm_analysis_net_excluded(const struct gm_analysis_table *t,
                                        const struct gm_analysis_select *sel,
                                        struct gm_analysis_net_excluded *out) {
  if (!t || !sel || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  struct gm_analysis_select gross = *sel, net = *sel;
  gross.net = false;
  net.net = true;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    if (!gm__an_selected(p, &gross, NULL) || gm__an_selected(p, &net, NULL))
      continue;
    if (isfinite(p->net_energy_j))
      out->not_positive++;
    else
      out->no_net++;
  }
  return GM_OK;
}

static double positive(double v) { return v > 0 && isfinite(v) ? v : NAN; }

double gm__an_phase_value(const struct gm_analysis_phase *p,
                          const struct gm_analysis_select *sel,
                          enum gm_analysis_var v) {
  double e = sel->net ? p->net_energy_j : p->energy_j;
  double n = (double)p->samples;
  switch (v) {
  case GM_AVAR_ENERGY_J:
    return e;
  case GM_AVAR_J_PER_SAMPLE:
    return e / n;
  case GM_AVAR_DURATION_S:
    return p->duration_s;
  case GM_AVAR_S_PER_SAMPLE:
    return p->duration_s / n;
  case GM_AVAR_AVG_POWER_W:
    return e / p->duration_s;
  case GM_AVAR_SAMPLES:
    return n;
  case GM_AVAR_MACS:
    return positive((double)p->macs);
  case GM_AVAR_PARAMS:
    return positive((double)p->params);
  case GM_AVAR_MACS_PER_PARAM:
    return positive(p->macs_per_param);
  case GM_AVAR_BATCH_SIZE:
    return positive((double)p->batch_size);
  case GM_AVAR_CPU_UTIL_PCT:
    return p->cpu_util_pct;
  case GM_AVAR_GPU_UTIL_PCT:
    return p->gpu_util_pct;
  default:
    return NAN;
  }
}

double gm__an_cell_value(const struct gm_analysis_cell *c,
                         enum gm_analysis_var v) {
  switch (v) {
  case GM_AVAR_ENERGY_J:
    return c->energy_j;
  case GM_AVAR_J_PER_SAMPLE:
    return c->j_per_sample;
  case GM_AVAR_DURATION_S:
    return c->duration_s;
  case GM_AVAR_S_PER_SAMPLE:
    return c->s_per_sample;
  case GM_AVAR_AVG_POWER_W:
    return c->avg_power_w;
  case GM_AVAR_SAMPLES:
    return c->samples;
  case GM_AVAR_MACS:
    return positive((double)c->macs);
  case GM_AVAR_PARAMS:
    return positive((double)c->params);
  case GM_AVAR_MACS_PER_PARAM:
    return positive(c->macs_per_param);
  case GM_AVAR_BATCH_SIZE:
    return positive((double)c->batch_size);
  case GM_AVAR_CPU_UTIL_PCT:
    return c->cpu_util_pct;
  case GM_AVAR_GPU_UTIL_PCT:
    return c->gpu_util_pct;
  default:
    return NAN;
  }
}

static const struct {
  const char *name, *label;
} vars[GM_AVAR_COUNT_] = {
    [GM_AVAR_ENERGY_J] = {"energy_j", "energy (J)"},
    [GM_AVAR_J_PER_SAMPLE] = {"j_per_sample", "energy per sample (J)"},
    [GM_AVAR_DURATION_S] = {"duration_s", "time (s)"},
    [GM_AVAR_S_PER_SAMPLE] = {"s_per_sample", "time per sample (s)"},
    [GM_AVAR_AVG_POWER_W] = {"avg_power_w", "mean power (W)"},
    [GM_AVAR_SAMPLES] = {"samples", "samples"},
    [GM_AVAR_MACS] = {"macs", "MACs"},
    [GM_AVAR_PARAMS] = {"params", "parameters"},
    [GM_AVAR_MACS_PER_PARAM] = {"macs_per_param", "MACs/param"},
    [GM_AVAR_BATCH_SIZE] = {"batch_size", "batch size"},
    [GM_AVAR_CPU_UTIL_PCT] = {"cpu_util_pct", "CPU utilisation (%)"},
    [GM_AVAR_GPU_UTIL_PCT] = {"gpu_util_pct", "GPU utilisation (%)"},
};

const char *gm_analysis_var_name(enum gm_analysis_var v) {
  return (unsigned)v < GM_AVAR_COUNT_ ? vars[v].name : NULL;
}

const char *gm_analysis_var_label(enum gm_analysis_var v) {
  return (unsigned)v < GM_AVAR_COUNT_ ? vars[v].label : NULL;
}

/* ---- cells --------------------------------------------------------------- */

static void merge_provenance(char *dst, size_t size, const char *p) {
  if (!*p)
    return;
  if (!*dst)
    gm__strlcpy(dst, p, size);
  else if (strcmp(dst, p) != 0)
    gm__strlcpy(dst, "mixed", size);
}

/* Appends job to the comma-separated list when it is not in it; a list
 * that would not fit ends with "...". */
static void add_job(char *list, size_t size, const char *job) {
  if (!job[0])
    return;
  size_t len = strlen(list), jl = strlen(job);
  if (len >= 3 && strcmp(list + len - 3, "...") == 0)
    return;
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ",");
    if (n == jl && strncmp(p, job, n) == 0)
      return;
    p += n + (p[n] == ',');
  }
  if (len + (len ? 1 : 0) + jl + 4 <= size)
    snprintf(list + len, size - len, "%s%s", len ? "," : "", job);
  else if (len + 4 <= size)
    snprintf(list + len, size - len, "%s...", len ? "," : "");
}

enum gm_status gm_analysis_cells(const struct gm_analysis_table *t,
                                 const struct gm_analysis_select *sel,
                                 struct gm_analysis_cell **out, size_t *n) {
  if (!t || !sel || !out || !n)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  *n = 0;
  struct gm_analysis_cell *cells = NULL;
  double *wc = NULL, *wg = NULL; /* seconds behind each utilisation mean */
  size_t nc = 0, cap = 0;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    const char *kind;
    if (!gm__an_selected(p, sel, &kind))
      continue;
    size_t k = 0;
    while (k < nc && !(cells[k].host_id == p->host_id &&
                       cells[k].batch_size == p->batch_size &&
                       strcmp(cells[k].precision, p->precision) == 0 &&
                       strcmp(cells[k].model, p->model) == 0 &&
                       strcmp(cells[k].kind, kind) == 0))
      k++;
    if (k == nc) {
      if (nc == cap) {
        size_t ncap = cap ? 2 * cap : 16;
        void *a = realloc(cells, ncap * sizeof(*cells));
        if (a)
          cells = a;
        void *b = realloc(wc, ncap * sizeof(double));
        if (b)
          wc = b;
        void *c = realloc(wg, ncap * sizeof(double));
        if (c)
          wg = c;
        if (!a || !b || !c) {
          free(cells);
          free(wc);
          free(wg);
          return GM_ERR_NO_MEMORY;
        }
        cap = ncap;
      }
      struct gm_analysis_cell *c = &cells[nc++];
      memset(c, 0, sizeof(*c));
      c->host_id = p->host_id;
      gm__strlcpy(c->model, p->model, sizeof(c->model));
      c->batch_size = p->batch_size;
      gm__strlcpy(c->precision, p->precision, sizeof(c->precision));
      gm__strlcpy(c->kind, kind, sizeof(c->kind));
      c->params = p->params;
      c->macs = p->macs;
      c->macs_per_param = p->macs_per_param;
      c->first_phase = i;
      wc[k] = wg[k] = 0;
    }
    struct gm_analysis_cell *c = &cells[k];
    c->n_phases++;
    c->samples += (double)p->samples;
    c->duration_s += p->duration_s;
    c->energy_j += sel->net ? p->net_energy_j : p->energy_j;
    if (isfinite(p->cpu_util_pct)) {
      c->cpu_util_pct += p->cpu_util_pct * p->duration_s;
      wc[k] += p->duration_s;
    }
    if (isfinite(p->gpu_util_pct)) {
      c->gpu_util_pct += p->gpu_util_pct * p->duration_s;
      wg[k] += p->duration_s;
    }
    merge_provenance(c->provenance, sizeof(c->provenance), p->provenance);
    add_job(c->jobs, sizeof(c->jobs), p->job);
  }
  for (size_t k = 0; k < nc; k++) {
    struct gm_analysis_cell *c = &cells[k];
    c->j_per_sample = c->energy_j / c->samples;
    c->s_per_sample = c->duration_s / c->samples;
    c->avg_power_w = c->energy_j / c->duration_s;
    c->cpu_util_pct = wc[k] > 0 ? c->cpu_util_pct / wc[k] : NAN;
    c->gpu_util_pct = wg[k] > 0 ? c->gpu_util_pct / wg[k] : NAN;
  }
  free(wc);
  free(wg);
  *out = cells;
  *n = nc;
  return GM_OK;
}

/* ---- provenance ---------------------------------------------------------- */

#define MAX_NAMES 24

struct names {
  char name[MAX_NAMES][48];
  char prov[MAX_NAMES][16];
  size_t n;
};

static void names_add(struct names *ns, const char *name, const char *prov) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcmp(ns->name[i], name) == 0) {
      merge_provenance(ns->prov[i], sizeof(ns->prov[i]), prov);
      return;
    }
  if (ns->n == MAX_NAMES)
    return;
  gm__strlcpy(ns->name[ns->n], name, sizeof(ns->name[0]));
  gm__strlcpy(ns->prov[ns->n], prov, sizeof(ns->prov[0]));
  ns->n++;
}

/* Appends "a, b PROV" for the names with provenance prov. */
static void detail_group(const struct names *ns, const char *prov, char *buf,
                         size_t size) {
  size_t len = strlen(buf);
  bool any = false;
  for (size_t i = 0; i < ns->n && len + 1 < size; i++) {
    if (strcmp(ns->prov[i], prov) != 0)
      continue;
    int w = snprintf(buf + len, size - len, "%s%s",
                     any ? ", " : (len ? "; " : ""), ns->name[i]);
    if (w < 0)
      return;
    len += (size_t)w < size - len ? (size_t)w : size - len - 1;
    any = true;
  }
  if (any && len + 1 < size)
    snprintf(buf + len, size - len, " %s", prov);
}

void gm_analysis_provenance(const struct gm_analysis_table *t,
                            const struct gm_analysis_select *sel, char *prov,
                            size_t prov_size, char *detail,
                            size_t detail_size) {
  if (prov && prov_size)
    prov[0] = '\0';
  if (detail && detail_size)
    detail[0] = '\0';
  if (!t || !sel)
    return;
  char p[16] = "";
  struct names ns;
  ns.n = 0;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *ph = &t->phases[i];
    if (!gm__an_selected(ph, sel, NULL))
      continue;
    merge_provenance(p, sizeof(p), ph->provenance);
    for (size_t c = 0; c < ph->n_components; c++)
      if (ph->components[c].in_total)
        names_add(&ns, ph->components[c].name, ph->components[c].provenance);
  }
  if (prov && prov_size)
    gm__strlcpy(prov, p, prov_size);
  if (detail && detail_size) {
    detail_group(&ns, "measured", detail, detail_size);
    detail_group(&ns, "modelled", detail, detail_size);
    detail_group(&ns, "mixed", detail, detail_size);
  }
}

/* ---- correlations -------------------------------------------------------- */

/* The (x, y) values of the selected points into malloc'ed arrays (NULL when
 * there are none); *n_all counts every point, *n_x and *n_y those with a
 * value of x and of y. */
static enum gm_status points(const struct gm_analysis_table *t,
                             const struct gm_analysis_select *sel,
                             enum gm_analysis_unit unit, enum gm_analysis_var x,
                             enum gm_analysis_var y, double **xs, double **ys,
                             size_t *n, size_t *n_all, size_t *n_x,
                             size_t *n_y) {
  *xs = *ys = NULL;
  *n = *n_all = *n_x = *n_y = 0;
  struct gm_analysis_cell *cells = NULL;
  size_t total = 0;
  if (unit == GM_AUNIT_CELL) {
    enum gm_status rc = gm_analysis_cells(t, sel, &cells, &total);
    if (rc != GM_OK)
      return rc;
  } else {
    total = t->n_phases;
  }
  if (total == 0)
    return GM_OK;
  double *a = malloc(total * sizeof(double));
  double *b = malloc(total * sizeof(double));
  if (!a || !b) {
    free(a);
    free(b);
    free(cells);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < total; i++) {
    double vx, vy;
    if (unit == GM_AUNIT_CELL) {
      vx = gm__an_cell_value(&cells[i], x);
      vy = gm__an_cell_value(&cells[i], y);
    } else {
      if (!gm__an_selected(&t->phases[i], sel, NULL))
        continue;
      vx = gm__an_phase_value(&t->phases[i], sel, x);
      vy = gm__an_phase_value(&t->phases[i], sel, y);
    }
    (*n_all)++;
    if (isfinite(vx))
      (*n_x)++;
    if (isfinite(vy))
      (*n_y)++;
    if (isfinite(vx) && isfinite(vy)) {
      a[*n] = vx;
      b[*n] = vy;
      (*n)++;
    }
  }
  free(cells);
  *xs = a;
  *ys = b;
  return GM_OK;
}

/* All values equal up to rounding: a mean of equal values weighted by
 * durations may differ from them in the last bits, and a coefficient of
 * that noise would mean nothing. */
static bool constant(const double *v, size_t n) {
  double lo = v[0], hi = v[0];
  for (size_t i = 1; i < n; i++) {
    lo = fmin(lo, v[i]);
    hi = fmax(hi, v[i]);
  }
  return hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi));
}

static const char *unit_name(enum gm_analysis_unit u, size_t n) {
  if (u == GM_AUNIT_CELL)
    return n == 1 ? "model x batch cell" : "model x batch cells";
  return n == 1 ? "phase" : "phases";
}

/* Fills out->untestable and why for n points of x and y, or returns false
 * when the test can run. need: the fewest points it needs. */
static bool untestable(const double *x, const double *y, size_t n, size_t n_all,
                       size_t n_x, size_t n_y, enum gm_analysis_var vx,
                       enum gm_analysis_var vy, const char *what, size_t need,
                       const char *pts, const char *kind,
                       enum gm_analysis_untestable *u, char *why,
                       size_t why_size) {
  if (n_all == 0) {
    *u = GM_AUNTESTABLE_TOO_FEW;
    gm__fmt(why, why_size,
            "no metered %s phase with an energy (unmetered and profile "
            "phases are not used here)",
            kind ? kind : "train or infer");
    return true;
  }
  if (n_x == 0 || n_y == 0) {
    *u = GM_AUNTESTABLE_MISSING;
    gm__fmt(why, why_size, "%s was not recorded for any of the %zu %s",
            gm_analysis_var_label(n_x == 0 ? vx : vy), n_all, pts);
    return true;
  }
  if (n < need) {
    *u = GM_AUNTESTABLE_TOO_FEW;
    gm__fmt(why, why_size, "%zu %s with both values; %s needs %zu", n, pts,
            what, need);
    return true;
  }
  if (constant(x, n) || constant(y, n)) {
    bool cx = constant(x, n);
    *u = GM_AUNTESTABLE_CONSTANT;
    gm__fmt(why, why_size, "%s is the same (%g) for all %zu %s",
            gm_analysis_var_label(cx ? vx : vy), cx ? x[0] : y[0], n, pts);
    return true;
  }
  return false;
}

/* Pearson and Spearman of the n pairs into out, or why they cannot be
 * computed (out->untestable, out->why); out->x and out->y are set. */
static enum gm_status coefficients(const double *xs, const double *ys, size_t n,
                                   size_t n_all, size_t n_x, size_t n_y,
                                   enum gm_analysis_unit unit, const char *kind,
                                   struct gm_analysis_corr *out) {
  if (untestable(xs, ys, n, n_all, n_x, n_y, out->x, out->y, "a correlation", 3,
                 unit_name(unit, n_all), kind, &out->untestable, out->why,
                 sizeof(out->why)))
    return GM_OK;
  enum gm_status a = gm_stats_pearson(xs, ys, n, &out->pearson);
  enum gm_status b =
      a == GM_OK ? gm_stats_spearman(xs, ys, n, &out->spearman) : a;
  if (b == GM_ERR_NO_MEMORY)
    return b;
  if (b != GM_OK) {
    out->untestable = GM_AUNTESTABLE_CONSTANT;
    gm__fmt(out->why, sizeof(out->why),
            "the values are too close to constant for a coefficient");
  }
  return GM_OK;
}

enum gm_status gm_analysis_correlate(const struct gm_analysis_table *t,
                                     const struct gm_analysis_select *sel,
                                     enum gm_analysis_unit unit,
                                     enum gm_analysis_var x,
                                     enum gm_analysis_var y,
                                     struct gm_analysis_corr *out) {
  if (!t || !sel || !out || (unsigned)x >= GM_AVAR_COUNT_ ||
      (unsigned)y >= GM_AVAR_COUNT_ ||
      (unit != GM_AUNIT_PHASE && unit != GM_AUNIT_CELL))
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  out->x = x;
  out->y = y;
  out->unit = unit;
  double *xs, *ys;
  size_t n, n_all, n_x, n_y;
  enum gm_status rc =
      points(t, sel, unit, x, y, &xs, &ys, &n, &n_all, &n_x, &n_y);
  if (rc != GM_OK)
    return rc;
  out->n = n;
  out->n_missing = n_all - n;
  gm_analysis_provenance(t, sel, out->provenance, sizeof(out->provenance), NULL,
                         0);
  rc = coefficients(xs, ys, n, n_all, n_x, n_y, unit, sel->kind, out);
  free(xs);
  free(ys);
  return rc;
}

enum gm_status gm_analysis_correlate_points(const double *x, const double *y,
                                            size_t n, enum gm_analysis_var vx,
                                            enum gm_analysis_var vy,
                                            struct gm_analysis_corr *out) {
  if (!out || (n && (!x || !y)) || (unsigned)vx >= GM_AVAR_COUNT_ ||
      (unsigned)vy >= GM_AVAR_COUNT_)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  out->x = vx;
  out->y = vy;
  out->unit = GM_AUNIT_PHASE;
  double *xs = malloc((n ? n : 1) * sizeof(double));
  double *ys = malloc((n ? n : 1) * sizeof(double));
  if (!xs || !ys) {
    free(xs);
    free(ys);
    return GM_ERR_NO_MEMORY;
  }
  size_t m = 0, n_x = 0, n_y = 0;
  for (size_t i = 0; i < n; i++) {
    n_x += isfinite(x[i]);
    n_y += isfinite(y[i]);
    if (isfinite(x[i]) && isfinite(y[i])) {
      xs[m] = x[i];
      ys[m++] = y[i];
    }
  }
  out->n = m;
  out->n_missing = n - m;
  enum gm_status rc =
      coefficients(xs, ys, m, n, n_x, n_y, GM_AUNIT_PHASE, NULL, out);
  free(xs);
  free(ys);
  return rc;
}

/* ---- claims -------------------------------------------------------------- */

const char *gm_analysis_verdict_name(enum gm_analysis_verdict v) {
  switch (v) {
  case GM_VERDICT_AGREES:
    return "agrees";
  case GM_VERDICT_DISAGREES:
    return "does not agree";
  case GM_VERDICT_INCONCLUSIVE:
    return "inconclusive";
  case GM_VERDICT_UNTESTABLE:
    return "cannot test";
  }
  return "?";
}

#define P_SIGNIFICANT 0.05

static const struct {
  const char *key, *statement, *paper, *threshold, *statistic;
  double pass; /* the coefficient's threshold */
} claims[GM_CLAIM_COUNT_] = {
    [GM_CLAIM_LINEAR_TIME] = {"linear_time", "energy is linear in time",
                              "r ~ 0.99", "agrees when r >= 0.95 and p < 0.05",
                              "r", 0.95},
    [GM_CLAIM_TRAIN_3X] = {"train_3x_infer",
                           "training takes ~3x the time of inference per "
                           "sample",
                           "~3x",
                           "agrees when the median ratio over model x batch "
                           "cells is within 2x .. 4x",
                           "median ratio", 0},
    [GM_CLAIM_MACS] = {"macs", "energy per sample rises with MACs", "rho ~ 0.8",
                       "agrees when Spearman rho >= 0.6 and p < 0.05", "rho",
                       0.6},
    [GM_CLAIM_MACS_PER_PARAM] = {"macs_per_param",
                                 "energy per sample rises with MACs per "
                                 "parameter",
                                 "rho ~ 0.9",
                                 "agrees when Spearman rho >= 0.7 and p < "
                                 "0.05",
                                 "rho", 0.7},
    [GM_CLAIM_BATCH] = {"batch_size",
                        "smaller batches cost more energy per sample",
                        "energy falls as the batch grows, to a floor",
                        "agrees when, for >= 75 % of the models measured at "
                        "2+ batch sizes (at least 2 models), energy per "
                        "sample at the smallest batch exceeds that at the "
                        "largest",
                        "share of models", 0.75},
    [GM_CLAIM_GPU_UTIL] = {"gpu_util_power", "power rises with GPU utilisation",
                           "rho ~ 0.55 .. 0.81",
                           "agrees when Spearman rho >= 0.5 and p < 0.05",
                           "rho", 0.5},
};

static void claim_init(struct gm_analysis_claim *c,
                       enum gm_analysis_claim_id id,
                       const struct gm_analysis_table *t,
                       const struct gm_analysis_select *sel) {
  memset(c, 0, sizeof(*c));
  c->id = id;
  c->key = claims[id].key;
  c->statement = claims[id].statement;
  c->paper = claims[id].paper;
  c->threshold = claims[id].threshold;
  c->statistic = claims[id].statistic;
  c->value = c->p = c->min = c->max = c->median = NAN;
  c->points = "phases";
  c->verdict = GM_VERDICT_UNTESTABLE;
  gm_analysis_provenance(t, sel, c->provenance, sizeof(c->provenance),
                         c->provenance_detail, sizeof(c->provenance_detail));
}

/* A correlation claim: value and verdict from one coefficient. */
static void corr_verdict(struct gm_analysis_claim *c,
                         const struct gm_analysis_corr *r, bool spearman) {
  c->n = r->n;
  if (r->untestable != GM_AUNTESTABLE_NONE) {
    c->verdict = GM_VERDICT_UNTESTABLE;
    gm__strlcpy(c->why, r->why, sizeof(c->why));
    return;
  }
  const struct gm_stats_corr *k = spearman ? &r->spearman : &r->pearson;
  c->value = k->r;
  c->p = k->p;
  if (r->n < GM_ANALYSIS_MIN_N_VERDICT) {
    /* Too few points for any p below 0.05: the coefficient is reported,
     * no verdict is given. */
    c->verdict = GM_VERDICT_UNTESTABLE;
    gm__fmt(c->why, sizeof(c->why),
            "%zu points: no verdict below %d (with n ranks the smallest "
            "two-sided p is 2/n!, %.3g here)",
            r->n, GM_ANALYSIS_MIN_N_VERDICT, 2.0 / tgamma((double)r->n + 1));
    return;
  }
  if (k->r < claims[c->id].pass)
    c->verdict = GM_VERDICT_DISAGREES;
  else if (k->p < P_SIGNIFICANT)
    c->verdict = GM_VERDICT_AGREES;
  else
    c->verdict = GM_VERDICT_INCONCLUSIVE;
}

/* The batch size at which the most models were measured; on a tie the one
 * nearest the paper's 128, then the larger. 0 when nothing is selected. */
static enum gm_status best_batch(const struct gm_analysis_table *t,
                                 const struct gm_analysis_select *sel,
                                 const char *model, int *out) {
  struct gm_analysis_cell *cells;
  size_t n;
  enum gm_status rc = gm_analysis_cells(t, sel, &cells, &n);
  if (rc != GM_OK)
    return rc;
  int best = 0;
  size_t best_n = 0;
  for (size_t i = 0; i < n; i++) {
    int b = cells[i].batch_size;
    size_t cnt = 0;
    for (size_t k = 0; k < n; k++)
      if (cells[k].batch_size == b &&
          (!model || strcasecmp(cells[k].model, model) == 0))
        cnt += model ? cells[k].n_phases : 1;
    if (cnt > best_n || (cnt == best_n && cnt > 0 &&
                         (abs(b - 128) < abs(best - 128) ||
                          (abs(b - 128) == abs(best - 128) && b > best)))) {
      best = b;
      best_n = cnt;
    }
  }
  free(cells);
  *out = best;
  return GM_OK;
}

enum gm_status gm__an_best_batch(const struct gm_analysis_table *t,
                                 const struct gm_analysis_select *sel,
                                 const char *model, int *out) {
  return best_batch(t, sel, model, out);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static enum gm_status claim_train_3x(const struct gm_analysis_table *t,
                                     const struct gm_analysis_select *sel,
                                     struct gm_analysis_claim *c) {
  struct gm_analysis_select s = *sel;
  s.kind = NULL;
  struct gm_analysis_cell *cells;
  size_t n;
  enum gm_status rc = gm_analysis_cells(t, &s, &cells, &n);
  if (rc != GM_OK)
    return rc;
  double *r = malloc((n ? n : 1) * sizeof(double));
  if (!r) {
    free(cells);
    return GM_ERR_NO_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(cells[i].kind, "train") != 0)
      continue;
    for (size_t k = 0; k < n; k++)
      if (strcmp(cells[k].kind, "infer") == 0 &&
          cells[k].host_id == cells[i].host_id &&
          cells[k].batch_size == cells[i].batch_size &&
          strcmp(cells[k].model, cells[i].model) == 0 &&
          cells[k].s_per_sample > 0)
        r[m++] = cells[i].s_per_sample / cells[k].s_per_sample;
  }
  free(cells);
  c->points = m == 1 ? "model x batch cell" : "model x batch cells";
  c->n = m;
  gm__strlcpy(c->provenance, "measured", sizeof(c->provenance));
  gm__strlcpy(c->provenance_detail, "time, by the monotonic clock",
              sizeof(c->provenance_detail));
  if (m == 0) {
    gm__fmt(c->why, sizeof(c->why),
            "no model x batch cell has both training and inference phases");
  } else {
    c->min = c->max = r[0];
    for (size_t i = 0; i < m; i++) {
      c->min = fmin(c->min, r[i]);
      c->max = fmax(c->max, r[i]);
      if (r[i] >= 2 && r[i] <= 4)
        c->n_pass++;
    }
    c->value = c->median = median(r, m);
    c->verdict = c->value >= 2 && c->value <= 4 ? GM_VERDICT_AGREES
                                                : GM_VERDICT_DISAGREES;
  }
  free(r);
  return GM_OK;
}

static enum gm_status claim_batch(const struct gm_analysis_table *t,
                                  const struct gm_analysis_select *sel,
                                  struct gm_analysis_claim *c) {
  struct gm_analysis_cell *cells;
  size_t n;
  enum gm_status rc = gm_analysis_cells(t, sel, &cells, &n);
  if (rc != GM_OK)
    return rc;
  double *ratios = malloc((n ? n : 1) * sizeof(double));
  if (!ratios) {
    free(cells);
    return GM_ERR_NO_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    /* the first cell of each (host, model, kind) does the work */
    bool first = true;
    for (size_t k = 0; k < i && first; k++)
      if (cells[k].host_id == cells[i].host_id &&
          strcmp(cells[k].model, cells[i].model) == 0 &&
          strcmp(cells[k].kind, cells[i].kind) == 0)
        first = false;
    if (!first)
      continue;
    const struct gm_analysis_cell *lo = &cells[i], *hi = &cells[i];
    for (size_t k = i + 1; k < n; k++) {
      if (cells[k].host_id != cells[i].host_id ||
          strcmp(cells[k].model, cells[i].model) != 0 ||
          strcmp(cells[k].kind, cells[i].kind) != 0)
        continue;
      if (cells[k].batch_size < lo->batch_size)
        lo = &cells[k];
      if (cells[k].batch_size > hi->batch_size)
        hi = &cells[k];
    }
    if (lo == hi || !(hi->j_per_sample > 0))
      continue;
    ratios[m++] = lo->j_per_sample / hi->j_per_sample;
  }
  free(cells);
  c->points = m == 1 ? "model" : "models";
  c->n = m;
  if (m < 2) {
    gm__fmt(c->why, sizeof(c->why),
            "%zu model(s) measured at two or more batch sizes; the test "
            "needs 2 (bench --batch-sizes 128,32 or 'paper')",
            m);
  } else {
    c->min = c->max = ratios[0];
    for (size_t i = 0; i < m; i++) {
      c->min = fmin(c->min, ratios[i]);
      c->max = fmax(c->max, ratios[i]);
      if (ratios[i] > 1)
        c->n_pass++;
    }
    c->value = (double)c->n_pass / (double)m;
    c->median = median(ratios, m);
    c->verdict = c->value >= claims[GM_CLAIM_BATCH].pass ? GM_VERDICT_AGREES
                                                         : GM_VERDICT_DISAGREES;
  }
  free(ratios);
  return GM_OK;
}

enum gm_status gm_analysis_check_claim(const struct gm_analysis_table *t,
                                       const struct gm_analysis_select *sel,
                                       enum gm_analysis_claim_id id,
                                       struct gm_analysis_claim *out) {
  if (!t || !sel || !out || (unsigned)id >= GM_CLAIM_COUNT_)
    return GM_ERR_INVALID_ARG;
  claim_init(out, id, t, sel);
  struct gm_analysis_corr r;
  enum gm_status rc = GM_OK;
  switch (id) {
  case GM_CLAIM_LINEAR_TIME:
    rc = gm_analysis_correlate(t, sel, GM_AUNIT_PHASE, GM_AVAR_DURATION_S,
                               GM_AVAR_ENERGY_J, &r);
    if (rc == GM_OK)
      corr_verdict(out, &r, false);
    break;
  case GM_CLAIM_TRAIN_3X:
    rc = claim_train_3x(t, sel, out);
    break;
  case GM_CLAIM_MACS:
  case GM_CLAIM_MACS_PER_PARAM: {
    struct gm_analysis_select s = *sel;
    if (!s.batch_size && (rc = best_batch(t, sel, NULL, &s.batch_size)))
      break;
    out->batch_size = s.batch_size;
    out->points = "models";
    if (!s.batch_size) {
      gm__fmt(out->why, sizeof(out->why),
              "no metered %s phase with an energy (unmetered and profile "
              "phases are not used here)",
              sel->kind ? sel->kind : "train or infer");
      break;
    }
    gm_analysis_provenance(t, &s, out->provenance, sizeof(out->provenance),
                           out->provenance_detail,
                           sizeof(out->provenance_detail));
    rc = gm_analysis_correlate(t, &s, GM_AUNIT_CELL,
                               id == GM_CLAIM_MACS ? GM_AVAR_MACS
                                                   : GM_AVAR_MACS_PER_PARAM,
                               GM_AVAR_J_PER_SAMPLE, &r);
    if (rc == GM_OK) {
      corr_verdict(out, &r, true);
      if (r.untestable == GM_AUNTESTABLE_TOO_FEW)
        gm__fmt(out->why, sizeof(out->why),
                "%zu model(s) measured at batch %d; a correlation needs 3", r.n,
                s.batch_size);
    }
    break;
  }
  case GM_CLAIM_BATCH:
    out->points = "models";
    rc = claim_batch(t, sel, out);
    break;
  case GM_CLAIM_GPU_UTIL:
    rc = gm_analysis_correlate(t, sel, GM_AUNIT_PHASE, GM_AVAR_GPU_UTIL_PCT,
                               GM_AVAR_AVG_POWER_W, &r);
    if (rc == GM_OK) {
      corr_verdict(out, &r, true);
      if (r.untestable == GM_AUNTESTABLE_MISSING)
        gm__fmt(out->why, sizeof(out->why),
                "no GPU utilisation was recorded (no GPU measured through "
                "NVML)");
    }
    break;
  default:
    return GM_ERR_INVALID_ARG;
  }
  return rc;
}

enum gm_status gm_analysis_claim_linear_time(const double *duration_s,
                                             const double *energy_j, size_t n,
                                             const char *provenance,
                                             struct gm_analysis_claim *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  struct gm_analysis_corr r;
  enum gm_status rc = gm_analysis_correlate_points(
      duration_s, energy_j, n, GM_AVAR_DURATION_S, GM_AVAR_ENERGY_J, &r);
  if (rc != GM_OK)
    return rc;
  memset(out, 0, sizeof(*out));
  enum gm_analysis_claim_id id = GM_CLAIM_LINEAR_TIME;
  out->id = id;
  out->key = claims[id].key;
  out->statement = claims[id].statement;
  out->paper = claims[id].paper;
  out->threshold = claims[id].threshold;
  out->statistic = claims[id].statistic;
  out->value = out->p = out->min = out->max = out->median = NAN;
  out->points = "phases";
  out->verdict = GM_VERDICT_UNTESTABLE;
  gm__strlcpy(out->provenance, provenance ? provenance : "",
              sizeof(out->provenance));
  corr_verdict(out, &r, false);
  return GM_OK;
}
