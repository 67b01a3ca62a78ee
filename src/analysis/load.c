/* load.c: reading the bench tables and a run's time series back from the
 * store into the structs of greenml/analysis.h. SQL only; the statistics
 * are in correlate.c and estimate.c. */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "greenml/analysis.h"

static void set_err(char *err, size_t size, const char *what, sqlite3 *db) {
  if (err && size)
    gm__fmt(err, size, "%s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

/* A REAL column, NAN when NULL. */
static double col_d(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN
                                                  : sqlite3_column_double(s, i);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size) {
  const char *v = (const char *)sqlite3_column_text(s, i);
  gm__strlcpy(dst, v ? v : "", size);
}

static char *col_dup(sqlite3_stmt *s, int i, bool *oom) {
  const char *v = (const char *)sqlite3_column_text(s, i);
  if (!v)
    return NULL;
  char *d = strdup(v);
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

/* Finds the bench id for a name or a numeric id; 0 when none. */
static enum gm_status resolve_bench(sqlite3 *db, const char *bench, int64_t *id,
                                    char *err, size_t err_size) {
  sqlite3_stmt *s = NULL;
  *id = 0;
  if (sqlite3_prepare_v2(db, "SELECT id FROM benches WHERE name=?", -1, &s,
                         NULL) != SQLITE_OK) {
    set_err(err, err_size, "cannot read the benches", db);
    return GM_ERR_DATABASE;
  }
  sqlite3_bind_text(s, 1, bench, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW)
    *id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  uint64_t num;
  if (*id == 0 && gm__parse_u64(bench, &num) && num > 0 &&
      num <= (uint64_t)INT64_MAX) {
    if (sqlite3_prepare_v2(db, "SELECT id FROM benches WHERE id=?", -1, &s,
                           NULL) != SQLITE_OK) {
      set_err(err, err_size, "cannot read the benches", db);
      return GM_ERR_DATABASE;
    }
    sqlite3_bind_int64(s, 1, (int64_t)num);
    if (sqlite3_step(s) == SQLITE_ROW)
      *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
  if (*id == 0) {
    if (err && err_size)
      gm__fmt(err, err_size, "no bench named '%s'", bench);
    return GM_ERR_NOT_FOUND;
  }
  return GM_OK;
}

static enum gm_status load_benches(sqlite3 *db, int64_t only,
                                   struct gm_analysis_table *t, char *err,
                                   size_t err_size) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          db,
          "SELECT b.id, b.host_id, b.name, b.status, b.created_at, "
          "b.config_json, b.host_json, h.hostname, h.cpu_model, "
          "(SELECT count(*) FROM benches) FROM benches b LEFT JOIN hosts h "
          "ON h.id = b.host_id WHERE ?1 = 0 OR b.id = ?1 ORDER BY b.id",
          -1, &s, NULL) != SQLITE_OK) {
    set_err(err, err_size, "cannot read the benches", db);
    return GM_ERR_DATABASE;
  }
  sqlite3_bind_int64(s, 1, only);
  size_t cap = 0;
  bool oom = false;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (t->n_benches == cap) {
      size_t nc = cap ? 2 * cap : 8;
      void *p = realloc(t->benches, nc * sizeof(*t->benches));
      if (!p) {
        oom = true;
        break;
      }
      t->benches = p;
      cap = nc;
    }
    struct gm_analysis_bench *b = &t->benches[t->n_benches++];
    memset(b, 0, sizeof(*b));
    b->id = sqlite3_column_int64(s, 0);
    b->host_id = sqlite3_column_int64(s, 1);
    col_text(s, 2, b->name, sizeof(b->name));
    col_text(s, 3, b->status, sizeof(b->status));
    col_text(s, 4, b->created_at, sizeof(b->created_at));
    b->config_json = col_dup(s, 5, &oom);
    b->host_json = col_dup(s, 6, &oom);
    col_text(s, 7, b->hostname, sizeof(b->hostname));
    col_text(s, 8, b->cpu_model, sizeof(b->cpu_model));
  }
  sqlite3_finalize(s);
  if (oom)
    return GM_ERR_NO_MEMORY;
  if (step != SQLITE_DONE && step != SQLITE_ROW) {
    set_err(err, err_size, "cannot read the benches", db);
    return GM_ERR_DATABASE;
  }
  return GM_OK;
}

static size_t bench_index(const struct gm_analysis_table *t, int64_t id) {
  for (size_t i = 0; i < t->n_benches; i++)
    if (t->benches[i].id == id)
      return i;
  return 0;
}

/* Appends the components of phase p (its key) to the table's storage;
 * records their offset in *first. */
static enum gm_status load_components(sqlite3_stmt *s,
                                      struct gm_analysis_table *t, size_t *cap,
                                      const struct gm_analysis_phase *p,
                                      size_t *first, size_t *count) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, p->bench_id);
  sqlite3_bind_text(s, 2, p->model, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, p->batch_size);
  sqlite3_bind_text(s, 4, p->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 5, p->epoch);
  sqlite3_bind_int(s, 6, p->metered);
  *first = t->n_components_;
  *count = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (t->n_components_ == *cap) {
      size_t nc = *cap ? 2 * *cap : 64;
      void *q = realloc(t->components_, nc * sizeof(*t->components_));
      if (!q)
        return GM_ERR_NO_MEMORY;
      t->components_ = q;
      *cap = nc;
    }
    struct gm_analysis_component *c = &t->components_[t->n_components_++];
    memset(c, 0, sizeof(*c));
    col_text(s, 0, c->name, sizeof(c->name));
    col_text(s, 1, c->kind, sizeof(c->kind));
    col_text(s, 2, c->provenance, sizeof(c->provenance));
    c->in_total = sqlite3_column_int(s, 3) != 0;
    c->energy_j = col_d(s, 4);
    c->net_energy_j = col_d(s, 5);
    c->avg_power_w = col_d(s, 6);
    c->peak_power_w = col_d(s, 7);
    (*count)++;
  }
  return step == SQLITE_DONE ? GM_OK : GM_ERR_DATABASE;
}

static enum gm_status load_phases(sqlite3 *db, int64_t only,
                                  struct gm_analysis_table *t, char *err,
                                  size_t err_size) {
  sqlite3_stmt *s = NULL, *c = NULL;
  size_t *first = NULL, cap = 0, ccap = 0;
  enum gm_status rc = GM_OK;
  if (sqlite3_prepare_v2(
          db,
          "SELECT p.bench_id, p.model, p.batch_size, p.kind, p.epoch, "
          "p.metered, p.run_id, p.phase_idx, p.start_s, p.duration_s, "
          "p.steps, p.samples, p.loss, p.accuracy, p.lr, p.energy_j, "
          "p.net_energy_j, p.avg_power_w, p.peak_power_w, p.provenance, "
          "p.cpu_util_pct, p.dram_used_bytes, p.gpu_util_pct, "
          "p.vram_used_bytes, m.params, m.trainable_params, m.param_bytes, "
          "m.buffer_bytes, m.size_bytes, m.macs, m.macs_per_param, b.host_id "
          "FROM bench_phases p JOIN benches b ON b.id = p.bench_id "
          "LEFT JOIN bench_models m ON m.bench_id = p.bench_id AND "
          "m.model = p.model WHERE ?1 = 0 OR p.bench_id = ?1 "
          "ORDER BY p.bench_id, p.rowid",
          -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(
          db,
          "SELECT component, component_kind, provenance, in_total, energy_j, "
          "net_energy_j, avg_power_w, peak_power_w FROM "
          "bench_phase_components WHERE bench_id=? AND model=? AND "
          "batch_size=? AND kind=? AND epoch=? AND metered=? ORDER BY rowid",
          -1, &c, NULL) != SQLITE_OK) {
    set_err(err, err_size, "cannot read the phases", db);
    rc = GM_ERR_DATABASE;
    goto out;
  }
  sqlite3_bind_int64(s, 1, only);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (t->n_phases == cap) {
      size_t nc = cap ? 2 * cap : 64;
      void *p = realloc(t->phases, nc * sizeof(*t->phases));
      void *f = realloc(first, nc * sizeof(*first));
      if (p)
        t->phases = p;
      if (f)
        first = f;
      if (!p || !f) {
        rc = GM_ERR_NO_MEMORY;
        goto out;
      }
      cap = nc;
    }
    struct gm_analysis_phase *p = &t->phases[t->n_phases];
    memset(p, 0, sizeof(*p));
    int i = 0;
    p->bench_id = sqlite3_column_int64(s, i++);
    col_text(s, i++, p->model, sizeof(p->model));
    p->batch_size = sqlite3_column_int(s, i++);
    col_text(s, i++, p->kind, sizeof(p->kind));
    p->epoch = sqlite3_column_int(s, i++);
    p->metered = sqlite3_column_int(s, i++) != 0;
    p->run_id = sqlite3_column_int64(s, i++);
    p->phase_idx = sqlite3_column_type(s, i) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int(s, i);
    i++;
    p->start_s = col_d(s, i++);
    p->duration_s = col_d(s, i++);
    p->steps = sqlite3_column_int64(s, i++);
    p->samples = sqlite3_column_int64(s, i++);
    p->loss = col_d(s, i++);
    p->accuracy = col_d(s, i++);
    p->lr = col_d(s, i++);
    p->energy_j = col_d(s, i++);
    p->net_energy_j = col_d(s, i++);
    p->avg_power_w = col_d(s, i++);
    p->peak_power_w = col_d(s, i++);
    col_text(s, i++, p->provenance, sizeof(p->provenance));
    p->cpu_util_pct = col_d(s, i++);
    p->dram_used_bytes = col_d(s, i++);
    p->gpu_util_pct = col_d(s, i++);
    p->vram_used_bytes = col_d(s, i++);
    p->params = sqlite3_column_int64(s, i++);
    p->trainable_params = sqlite3_column_int64(s, i++);
    p->param_bytes = sqlite3_column_int64(s, i++);
    p->buffer_bytes = sqlite3_column_int64(s, i++);
    p->size_bytes = sqlite3_column_int64(s, i++);
    p->macs = sqlite3_column_int64(s, i++);
    p->macs_per_param = col_d(s, i++);
    p->host_id = sqlite3_column_int64(s, i++);
    p->bench = bench_index(t, p->bench_id);
    t->benches[p->bench].n_phases++;
    size_t n = 0;
    rc = load_components(c, t, &ccap, p, &first[t->n_phases], &n);
    if (rc != GM_OK) {
      set_err(err, err_size, "cannot read the phase components", db);
      goto out;
    }
    p->n_components = n;
    t->n_phases++;
  }
  if (step != SQLITE_DONE) {
    set_err(err, err_size, "cannot read the phases", db);
    rc = GM_ERR_DATABASE;
    goto out;
  }
  /* the storage has stopped moving: point every phase into it */
  for (size_t k = 0; k < t->n_phases; k++)
    t->phases[k].components =
        t->phases[k].n_components ? &t->components_[first[k]] : NULL;
out:
  sqlite3_finalize(s);
  sqlite3_finalize(c);
  free(first);
  return rc;
}

enum gm_status gm_analysis_load(struct gm_store *st, const char *bench,
                                struct gm_analysis_table **out, char *err,
                                size_t err_size) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  sqlite3 *db = (sqlite3 *)gm_store_db(st);
  struct gm_analysis_table *t = calloc(1, sizeof(*t));
  if (!t)
    return GM_ERR_NO_MEMORY;
  int64_t only = 0;
  enum gm_status rc = GM_OK;
  if (bench && (rc = resolve_bench(db, bench, &only, err, err_size)) != GM_OK)
    goto fail;
  /* one snapshot for both queries (unless the handle is inside a write) */
  bool began = sqlite3_get_autocommit(db) &&
               sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
  rc = load_benches(db, only, t, err, err_size);
  if (rc == GM_OK)
    rc = load_phases(db, only, t, err, err_size);
  if (began)
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  if (rc != GM_OK)
    goto fail;
  *out = t;
  return GM_OK;
fail:
  gm_analysis_table_free(t);
  return rc;
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

static long find_idx(const int *idx, size_t n, int v) {
  for (size_t i = 0; i < n; i++)
    if (idx[i] == v)
      return (long)i;
  return -1;
}

/* The series, or with columns_only its components and metrics alone. */
static enum gm_status load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_analysis_series **out, char *err,
                                  size_t err_size) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  sqlite3 *db = (sqlite3 *)gm_store_db(st);
  sqlite3_stmt *s = NULL;
  int *cidx = NULL, *midx = NULL;
  enum gm_status rc = GM_OK;
  struct gm_analysis_series *r = calloc(1, sizeof(*r));
  if (!r)
    return GM_ERR_NO_MEMORY;
  r->run_id = run_id;
  bool began = sqlite3_get_autocommit(db) &&
               sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
  /* the run, its components and metrics */
  if (sqlite3_prepare_v2(
          db,
          "SELECT (SELECT count(*) FROM components WHERE run_id=?1), "
          "(SELECT count(*) FROM metrics WHERE run_id=?1), "
          "(SELECT count(DISTINCT seq) FROM samples WHERE run_id=?1) "
          "FROM runs WHERE id=?1",
          -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  int step = sqlite3_step(s);
  if (step == SQLITE_DONE) {
    if (err && err_size)
      gm__fmt(err, err_size, "no run %lld", (long long)run_id);
    rc = GM_ERR_NOT_FOUND;
    goto out;
  }
  if (step != SQLITE_ROW)
    goto dberr;
  r->n_components = (size_t)sqlite3_column_int64(s, 0);
  r->n_metrics = (size_t)sqlite3_column_int64(s, 1);
  r->n_rows = columns_only ? 0 : (size_t)sqlite3_column_int64(s, 2);
  sqlite3_finalize(s);
  s = NULL;
  size_t nc = r->n_components ? r->n_components : 1;
  size_t nm = r->n_metrics ? r->n_metrics : 1;
  size_t nr = r->n_rows ? r->n_rows : 1;
  r->components = calloc(nc, sizeof(*r->components));
  r->metrics = calloc(nm, sizeof(*r->metrics));
  cidx = calloc(nc, sizeof(int));
  midx = calloc(nm, sizeof(int));
  r->seq = calloc(nr, sizeof(*r->seq));
  r->t_s = calloc(nr, sizeof(double));
  r->energy_j = malloc(nr * nc * sizeof(double));
  r->power_w = malloc(nr * nc * sizeof(double));
  r->metric = malloc(nr * nm * sizeof(double));
  if (!r->components || !r->metrics || !cidx || !midx || !r->seq || !r->t_s ||
      !r->energy_j || !r->power_w || !r->metric) {
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (size_t i = 0; i < nr * nc; i++)
    r->energy_j[i] = r->power_w[i] = NAN;
  for (size_t i = 0; i < nr * nm; i++)
    r->metric[i] = NAN;
  if (sqlite3_prepare_v2(db,
                         "SELECT idx, name, kind, provenance, in_total FROM "
                         "components WHERE run_id=? ORDER BY idx",
                         -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  for (size_t i = 0; i < r->n_components && sqlite3_step(s) == SQLITE_ROW;
       i++) {
    cidx[i] = sqlite3_column_int(s, 0);
    col_text(s, 1, r->components[i].name, sizeof(r->components[i].name));
    col_text(s, 2, r->components[i].kind, sizeof(r->components[i].kind));
    col_text(s, 3, r->components[i].provenance,
             sizeof(r->components[i].provenance));
    r->components[i].in_total = sqlite3_column_int(s, 4) != 0;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT idx, name, unit FROM metrics WHERE run_id=? "
                         "ORDER BY idx",
                         -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  for (size_t i = 0; i < r->n_metrics && sqlite3_step(s) == SQLITE_ROW; i++) {
    midx[i] = sqlite3_column_int(s, 0);
    col_text(s, 1, r->metrics[i].name, sizeof(r->metrics[i].name));
    col_text(s, 2, r->metrics[i].unit, sizeof(r->metrics[i].unit));
  }
  sqlite3_finalize(s);
  s = NULL;
  /* samples, ordered by tick: a new seq opens the next row */
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, t_s, component_idx, energy_j, power_w "
                         "FROM samples WHERE run_id=? ORDER BY seq, "
                         "component_idx",
                         -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  long row = -1;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    int64_t seq = sqlite3_column_int64(s, 0);
    if (row < 0 || r->seq[row] != seq) {
      if ((size_t)(row + 1) >= r->n_rows)
        break; /* written meanwhile: outside this snapshot's count */
      row++;
      r->seq[row] = seq;
      r->t_s[row] = sqlite3_column_double(s, 1);
    }
    long c = find_idx(cidx, r->n_components, sqlite3_column_int(s, 2));
    if (c < 0)
      continue;
    r->energy_j[(size_t)row * nc + (size_t)c] = col_d(s, 3);
    r->power_w[(size_t)row * nc + (size_t)c] = col_d(s, 4);
  }
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    goto dberr;
  r->n_rows = (size_t)(row + 1);
  sqlite3_finalize(s);
  s = NULL;
  if (r->n_metrics && r->n_rows) {
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, metric_idx, value FROM metric_samples "
                           "WHERE run_id=? ORDER BY seq, metric_idx",
                           -1, &s, NULL) != SQLITE_OK)
      goto dberr;
    sqlite3_bind_int64(s, 1, run_id);
    size_t k = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
      int64_t seq = sqlite3_column_int64(s, 0);
      while (k < r->n_rows && r->seq[k] < seq)
        k++;
      if (k == r->n_rows)
        break;
      if (r->seq[k] != seq)
        continue; /* a tick without energy samples */
      long m = find_idx(midx, r->n_metrics, sqlite3_column_int(s, 1));
      if (m >= 0)
        r->metric[k * nm + (size_t)m] = col_d(s, 2);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
      goto dberr;
  }
  goto out;
dberr:
  set_err(err, err_size, "cannot read the time series", db);
  rc = GM_ERR_DATABASE;
out:
  sqlite3_finalize(s);
  if (began)
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  free(cidx);
  free(midx);
  if (rc != GM_OK) {
    gm_analysis_series_free(r);
    return rc;
  }
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
