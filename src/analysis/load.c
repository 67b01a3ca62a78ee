/* load.c: the phase table and a run's time series of greenml/analysis.h,
 * built from the store's tables (gm_store_load_benches,
 * gm_store_load_series): each phase joined with its model's
 * characteristics and its bench's host. No SQL; the statistics are in
 * correlate.c and estimate.c. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "base/util.h"
#include "greenml/analysis.h"

/* The Slurm job of a row's tags (gm_analysis_phase.job); "" when the tags
 * are absent, not an object, or name no job. */
static void job_of(const char *tags_json, char *out, size_t size) {
  out[0] = '\0';
  struct gm__json_value *v = NULL;
  if (!tags_json || gm__json_parse(tags_json, &v) != GM_OK)
    return;
  char array[24] = "", task[16] = "", job[24] = "";
  const struct gm__json_value *x;
  if ((x = gm__json_get(v, "slurm_array_job_id")) && x->type == GM__JSON_STRING)
    gm__strlcpy(array, x->string, sizeof(array));
  if ((x = gm__json_get(v, "slurm_array_task_id")) &&
      x->type == GM__JSON_STRING)
    gm__strlcpy(task, x->string, sizeof(task));
  if ((x = gm__json_get(v, "slurm_job_id")) && x->type == GM__JSON_STRING)
    gm__strlcpy(job, x->string, sizeof(job));
  if (array[0] && task[0])
    snprintf(out, size, "%s_%s", array, task);
  else
    gm__strlcpy(out, job, size);
  gm__json_free(v);
}

static void set_err(char *err, size_t size, struct gm_store *st) {
  if (err && size)
    gm__strlcpy(err, gm_store_last_error(st), size);
}

static char *dup_or_null(const char *s, bool *oom) {
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *oom = true;
  return d;
}

void gm_analysis_table_free(struct gm_analysis_table *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n_benches; i++) {
    free(t->benches[i].config_json);
    free(t->benches[i].host_json);
  }
  free(t->benches);
  free(t->phases);
  free(t->components_);
  free(t);
}

/* The id of the bench named bench or, when none has that name and it is a
 * decimal number, with that id. */
static enum gm_status resolve_bench(struct gm_store *st, const char *bench,
                                    int64_t *id, char *err, size_t err_size) {
  *id = 0;
  struct gm_store_bench_filter f = {.bench_id = 0, .rows = false};
  struct gm_store_bench_set *set = NULL;
  enum gm_status rc = gm_store_load_benches(st, &f, &set);
  if (rc != GM_OK) {
    set_err(err, err_size, st);
    return rc;
  }
  for (size_t i = 0; i < set->n_benches && !*id; i++)
    if (strcmp(set->benches[i].name, bench) == 0)
      *id = set->benches[i].id;
  uint64_t num;
  if (!*id && gm__parse_u64(bench, &num) && num > 0 &&
      num <= (uint64_t)INT64_MAX)
    for (size_t i = 0; i < set->n_benches && !*id; i++)
      if (set->benches[i].id == (int64_t)num)
        *id = set->benches[i].id;
  gm_store_bench_set_free(set);
  if (!*id) {
    if (err && err_size)
      gm__fmt(err, err_size, "no bench named '%s'", bench);
    return GM_ERR_NOT_FOUND;
  }
  return GM_OK;
}

static const struct gm_store_bench_model *
model_of(const struct gm_store_bench_set *set, int64_t bench_id,
         const char *model) {
  for (size_t i = 0; i < set->n_models; i++)
    if (set->models[i].bench_id == bench_id &&
        strcmp(set->models[i].model, model) == 0)
      return &set->models[i];
  return NULL;
}

/* The table of the set: benches, then phases with their components. */
static enum gm_status build(const struct gm_store_bench_set *set,
                            struct gm_analysis_table *t) {
  bool oom = false;
  if (set->n_benches &&
      !(t->benches = calloc(set->n_benches, sizeof(*t->benches))))
    return GM_ERR_NO_MEMORY;
  for (size_t i = 0; i < set->n_benches; i++) {
    const struct gm_store_bench *sb = &set->benches[i];
    struct gm_analysis_bench *b = &t->benches[t->n_benches++];
    b->id = sb->id;
    b->host_id = sb->host_id;
    gm__strlcpy(b->name, sb->name, sizeof(b->name));
    gm__strlcpy(b->status, sb->status, sizeof(b->status));
    gm__strlcpy(b->created_at, sb->created_at, sizeof(b->created_at));
    gm__strlcpy(b->hostname, sb->hostname, sizeof(b->hostname));
    gm__strlcpy(b->cpu_model, sb->cpu_model, sizeof(b->cpu_model));
    b->config_json = dup_or_null(sb->config_json, &oom);
    b->host_json = dup_or_null(sb->host_json, &oom);
  }
  if (oom)
    return GM_ERR_NO_MEMORY;
  size_t nc = 0;
  for (size_t i = 0; i < set->n_phases; i++)
    nc += set->phases[i].n_components;
  if ((set->n_phases &&
       !(t->phases = calloc(set->n_phases, sizeof(*t->phases)))) ||
      (nc && !(t->components_ = calloc(nc, sizeof(*t->components_)))))
    return GM_ERR_NO_MEMORY;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *sp = &set->phases[i];
    size_t bench = t->n_benches;
    for (size_t k = 0; k < t->n_benches && bench == t->n_benches; k++)
      if (t->benches[k].id == sp->bench_id)
        bench = k;
    if (bench == t->n_benches)
      continue; /* a row of a bench not loaded */
    struct gm_analysis_phase *p = &t->phases[t->n_phases++];
    p->bench_id = sp->bench_id;
    p->host_id = t->benches[bench].host_id;
    p->bench = bench;
    t->benches[bench].n_phases++;
    gm__strlcpy(p->model, sp->model, sizeof(p->model));
    p->batch_size = sp->batch_size;
    gm__strlcpy(p->precision, sp->precision[0] ? sp->precision : "fp32",
                sizeof(p->precision));
    gm__strlcpy(p->kind, sp->kind, sizeof(p->kind));
    p->epoch = sp->epoch;
    p->metered = sp->metered;
    p->run_id = sp->run_id;
    p->phase_idx = sp->phase_idx;
    p->start_s = sp->start_s;
    p->duration_s = sp->duration_s;
    p->steps = sp->steps;
    p->samples = sp->samples;
    p->loss = sp->loss;
    p->accuracy = sp->accuracy;
    p->lr = sp->lr;
    p->energy_j = sp->energy_j;
    p->net_energy_j = sp->net_energy_j;
    p->avg_power_w = sp->avg_power_w;
    p->peak_power_w = sp->peak_power_w;
    gm__strlcpy(p->provenance, sp->provenance, sizeof(p->provenance));
    p->cpu_util_pct = sp->cpu_util_pct;
    p->dram_used_bytes = sp->dram_used_bytes;
    p->gpu_util_pct = sp->gpu_util_pct;
    p->vram_used_bytes = sp->vram_used_bytes;
    job_of(sp->tags_json, p->job, sizeof(p->job));
    const struct gm_store_bench_model *m =
        model_of(set, sp->bench_id, sp->model);
    p->macs_per_param = NAN;
    if (m) {
      p->params = m->params;
      p->trainable_params = m->trainable_params;
      p->param_bytes = m->param_bytes;
      p->buffer_bytes = m->buffer_bytes;
      p->size_bytes = m->size_bytes;
      p->macs = m->macs;
      p->macs_per_param = m->macs_per_param;
    }
    p->n_components = sp->n_components;
    p->components = sp->n_components ? &t->components_[t->n_components_] : NULL;
    for (size_t c = 0; c < sp->n_components; c++) {
      const struct gm_store_phase_component *sc = &sp->components[c];
      struct gm_analysis_component *ac = &t->components_[t->n_components_++];
      gm__strlcpy(ac->name, sc->name, sizeof(ac->name));
      gm__strlcpy(ac->kind, sc->kind, sizeof(ac->kind));
      gm__strlcpy(ac->provenance, sc->provenance, sizeof(ac->provenance));
      ac->in_total = sc->in_total;
      ac->energy_j = sc->energy_j;
      ac->net_energy_j = sc->net_energy_j;
      ac->avg_power_w = sc->avg_power_w;
      ac->peak_power_w = sc->peak_power_w;
    }
  }
  return GM_OK;
}

enum gm_status gm_analysis_load(struct gm_store *st, const char *bench,
                                struct gm_analysis_table **out, char *err,
                                size_t err_size) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  int64_t only = 0;
  enum gm_status rc;
  if (bench && (rc = resolve_bench(st, bench, &only, err, err_size)) != GM_OK)
    return rc;
  struct gm_store_bench_filter f = {.bench_id = only, .rows = true};
  struct gm_store_bench_set *set = NULL;
  if ((rc = gm_store_load_benches(st, &f, &set)) != GM_OK) {
    set_err(err, err_size, st);
    return rc;
  }
  struct gm_analysis_table *t = calloc(1, sizeof(*t));
  rc = t ? build(set, t) : GM_ERR_NO_MEMORY;
  gm_store_bench_set_free(set);
  if (rc != GM_OK) {
    gm_analysis_table_free(t);
    return rc;
  }
  *out = t;
  return GM_OK;
}

long gm_analysis_phase_at(const struct gm_analysis_table *t, int64_t run_id,
                          double t_s) {
  if (!t || run_id <= 0 || !isfinite(t_s))
    return -1;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    if (p->run_id == run_id && isfinite(p->start_s) && t_s >= p->start_s &&
        t_s <= p->start_s + p->duration_s)
      return (long)i;
  }
  return -1;
}

/* ---- time series --------------------------------------------------------- */

void gm_analysis_series_free(struct gm_analysis_series *s) {
  if (!s)
    return;
  free(s->components);
  free(s->metrics);
  free(s->seq);
  free(s->t_s);
  free(s->energy_j);
  free(s->power_w);
  free(s->metric);
  free(s);
}

/* The store's series as the analysis's: the matrices change hands, the
 * column descriptions are copied. */
static enum gm_status load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_analysis_series **out, char *err,
                                  size_t err_size) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_store_series *s = NULL;
  enum gm_status rc = gm_store_load_series(st, run_id, columns_only, &s);
  if (rc != GM_OK) {
    set_err(err, err_size, st);
    return rc;
  }
  struct gm_analysis_series *r = calloc(1, sizeof(*r));
  size_t nc = s->n_components ? s->n_components : 1;
  size_t nm = s->n_metrics ? s->n_metrics : 1;
  if (r) {
    r->components = calloc(nc, sizeof(*r->components));
    r->metrics = calloc(nm, sizeof(*r->metrics));
  }
  if (!r || !r->components || !r->metrics) {
    gm_analysis_series_free(r);
    gm_store_series_free(s);
    return GM_ERR_NO_MEMORY;
  }
  r->run_id = s->run_id;
  r->n_rows = s->n_rows;
  r->n_components = s->n_components;
  r->n_metrics = s->n_metrics;
  for (size_t i = 0; i < s->n_components; i++) {
    struct gm_analysis_series_component *c = &r->components[i];
    gm__strlcpy(c->name, s->components[i].name, sizeof(c->name));
    gm__strlcpy(c->kind, s->components[i].kind, sizeof(c->kind));
    gm__strlcpy(c->provenance, s->components[i].provenance,
                sizeof(c->provenance));
    c->in_total = s->components[i].in_total;
  }
  for (size_t i = 0; i < s->n_metrics; i++) {
    gm__strlcpy(r->metrics[i].name, s->metrics[i].name,
                sizeof(r->metrics[i].name));
    gm__strlcpy(r->metrics[i].unit, s->metrics[i].unit,
                sizeof(r->metrics[i].unit));
  }
  r->seq = s->seq;
  r->t_s = s->t_s;
  r->energy_j = s->energy_j;
  r->power_w = s->power_w;
  r->metric = s->metric;
  s->seq = NULL;
  s->t_s = s->energy_j = s->power_w = s->metric = NULL;
  gm_store_series_free(s);
  *out = r;
  return GM_OK;
}

enum gm_status gm_analysis_load_series(struct gm_store *st, int64_t run_id,
                                       struct gm_analysis_series **out,
                                       char *err, size_t err_size) {
  return load_series(st, run_id, false, out, err, err_size);
}

enum gm_status gm_analysis_load_series_columns(struct gm_store *st,
                                               int64_t run_id,
                                               struct gm_analysis_series **out,
                                               char *err, size_t err_size) {
  return load_series(st, run_id, true, out, err, err_size);
}
