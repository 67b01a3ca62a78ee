/* query.c: the SQLite store's reads behind greenml/store.h's queries: the
 * runs with what their components and last samples say, the benches with
 * every row of theirs, a run's time series. Rows only; what is derived
 * from them is derived in src/store/query.c. A database of an older schema
 * reads as empty where it lacks a table. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

/* Reads inside one snapshot: a transaction when none is open (a handle
 * inside a write reads its own). */
static bool begin_read(struct gm_store *st) {
  sqlite3 *db = gm__sq_db(st);
  return sqlite3_get_autocommit(db) &&
         sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

static void end_read(struct gm_store *st, bool began) {
  if (began)
    sqlite3_exec(gm__sq_db(st), "COMMIT", NULL, NULL, NULL);
}

/* Makes room for one more element of *arr (n in use, *cap allocated). */
static bool grow(void **arr, size_t n, size_t *cap, size_t elem) {
  if (n < *cap)
    return true;
  size_t nc = *cap ? 2 * *cap : 16;
  void *p = realloc(*arr, nc * elem);
  if (!p)
    return false;
  *arr = p;
  *cap = nc;
  return true;
}

/* ---- runs ---------------------------------------------------------------- */

/* The provenance a components row records, as the meter's enum. */
static enum gm_provenance provenance_of(const char *prov, const char *signal) {
  if (prov && strcmp(prov, "modelled") == 0)
    return GM_PROV_MODELLED;
  if (signal && strcmp(signal, "power sensor") == 0)
    return GM_PROV_MEASURED_POWER;
  return GM_PROV_MEASURED_COUNTER;
}

/* The components of row's run; with samples, each one's last cumulative
 * energy and the time of the last sample. */
static enum gm_status run_parts(struct gm_store *st, sqlite3_stmt *comp,
                                sqlite3_stmt *last, sqlite3_stmt *t_last,
                                struct gm__store_run_row *row, bool samples) {
  size_t cap = 0;
  int step;
  sqlite3_reset(comp);
  sqlite3_bind_int64(comp, 1, row->run.id);
  while ((step = sqlite3_step(comp)) == SQLITE_ROW) {
    if (!grow((void **)&row->parts, row->n_parts, &cap, sizeof(*row->parts)))
      return GM_ERR_NO_MEMORY;
    struct gm_energy_part *p = &row->parts[row->n_parts++];
    p->provenance = provenance_of((const char *)sqlite3_column_text(comp, 1),
                                  (const char *)sqlite3_column_text(comp, 2));
    p->in_total = sqlite3_column_int(comp, 3) != 0;
    p->gross_j = 0;
    p->idle_w = NAN;
  }
  if (step != SQLITE_DONE)
    return gm__sq_fail(st, "cannot read the runs");
  if (!samples)
    return GM_OK;
  sqlite3_reset(last);
  sqlite3_bind_int64(last, 1, row->run.id);
  while ((step = sqlite3_step(last)) == SQLITE_ROW) {
    int64_t idx = sqlite3_column_int64(last, 0);
    if (idx >= 0 && (size_t)idx < row->n_parts)
      row->parts[idx].gross_j = sqlite3_column_double(last, 1);
  }
  if (step != SQLITE_DONE)
    return gm__sq_fail(st, "cannot read the runs");
  sqlite3_reset(t_last);
  sqlite3_bind_int64(t_last, 1, row->run.id);
  if (sqlite3_step(t_last) != SQLITE_ROW)
    return gm__sq_fail(st, "cannot read the runs");
  row->last_sample_s = gm__sq_col_real(t_last, 0);
  return GM_OK;
}

enum gm_status gm__sq_list_runs(struct gm_store *st, size_t limit,
                                struct gm__store_run_rows *out) {
  if (!gm__sq_has_table(st, "runs"))
    return GM_OK;
  sqlite3 *db = gm__sq_db(st);
  sqlite3_stmt *s = NULL, *comp = NULL, *last = NULL, *t_last = NULL,
               *host = NULL;
  enum gm_status rc = GM_OK;
  bool began = begin_read(st);
  /* schema 3 records why an incomplete run's samples are not all stored */
  /* schema 5 records a partial total */
  int version = gm__sq(st)->version;
  /* schema 6 records what the command was charged */
  const char *sql =
      version >= 6
          ? "SELECT id, started_at, kind, complete, duration_s, "
            "total_energy_j, total_net_energy_j, exit_code, command, "
            "incomplete_cause, lost_samples, stored_until_s, total_partial, "
            "attributed_to, attributed_j, attributed_net_j, "
            "attributed_provenance, attributed_partial "
            "FROM runs ORDER BY id DESC LIMIT ?"
      : version >= 5
          ? "SELECT id, started_at, kind, complete, duration_s, "
            "total_energy_j, total_net_energy_j, exit_code, command, "
            "incomplete_cause, lost_samples, stored_until_s, total_partial, "
            "NULL, NULL, NULL, NULL, 0 FROM runs ORDER BY id DESC LIMIT ?"
      : version >= 3
          ? "SELECT id, started_at, kind, complete, duration_s, "
            "total_energy_j, total_net_energy_j, exit_code, command, "
            "incomplete_cause, lost_samples, stored_until_s, 0, NULL, NULL, "
            "NULL, NULL, 0 FROM runs ORDER BY id DESC LIMIT ?"
          : "SELECT id, started_at, kind, complete, duration_s, "
            "total_energy_j, total_net_energy_j, exit_code, command, NULL, "
            "NULL, NULL, 0 FROM runs ORDER BY id DESC LIMIT ?";
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT idx, provenance, signal, in_total FROM "
                         "components WHERE run_id=? ORDER BY idx",
                         -1, &comp, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT component_idx, MAX(energy_j) FROM samples "
                         "WHERE run_id=? GROUP BY component_idx",
                         -1, &last, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT MAX(t_s) FROM samples WHERE run_id=?", -1,
                         &t_last, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT h.id, h.hostname, h.fingerprint FROM runs r "
                         "JOIN hosts h ON h.id=r.host_id WHERE r.id=?",
                         -1, &host, NULL) != SQLITE_OK) {
    rc = gm__sq_fail(st, "cannot read the runs");
    goto out;
  }
  sqlite3_bind_int64(s, 1, limit ? (int64_t)limit : -1);
  size_t cap = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&out->rows, out->n, &cap, sizeof(*out->rows))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    struct gm__store_run_row *row = &out->rows[out->n++];
    memset(row, 0, sizeof(*row));
    struct gm_store_run *r = &row->run;
    r->id = sqlite3_column_int64(s, 0);
    gm__sq_col_text(s, 1, r->started_at, sizeof(r->started_at));
    gm__sq_col_text(s, 2, r->kind, sizeof(r->kind));
    r->complete = sqlite3_column_int(s, 3) != 0;
    r->duration_s = gm__sq_col_real(s, 4);
    r->energy_j = gm__sq_col_real(s, 5);
    r->net_energy_j = gm__sq_col_real(s, 6);
    r->has_exit_code = sqlite3_column_type(s, 7) != SQLITE_NULL;
    r->exit_code = sqlite3_column_int(s, 7);
    const char *cmd = (const char *)sqlite3_column_text(s, 8);
    if (cmd && !(row->command = strdup(cmd))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    r->command = row->command;
    const char *cause = (const char *)sqlite3_column_text(s, 9);
    if (cause && !(row->incomplete_cause = strdup(cause))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    r->incomplete_cause = row->incomplete_cause;
    r->lost_samples = sqlite3_column_type(s, 10) == SQLITE_NULL
                          ? -1
                          : sqlite3_column_int64(s, 10);
    r->stored_until_s = gm__sq_col_real(s, 11);
    r->partial = sqlite3_column_int(s, 12) != 0;
    const char *to = (const char *)sqlite3_column_text(s, 13);
    const char *prov = (const char *)sqlite3_column_text(s, 16);
    if ((to && !(row->attributed_to = strdup(to))) ||
        (prov && !(row->attributed_provenance = strdup(prov)))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    r->attributed_to = row->attributed_to;
    r->attributed_provenance = row->attributed_provenance;
    r->attributed_j = gm__sq_col_real(s, 14);
    r->attributed_net_j = gm__sq_col_real(s, 15);
    r->attributed_partial = sqlite3_column_int(s, 17) != 0;
    sqlite3_reset(host);
    sqlite3_bind_int64(host, 1, r->id);
    if (sqlite3_step(host) == SQLITE_ROW) {
      r->host_id = sqlite3_column_int64(host, 0);
      gm__sq_col_text(host, 1, r->hostname, sizeof(r->hostname));
      gm__sq_col_text(host, 2, r->fingerprint, sizeof(r->fingerprint));
    }
    row->last_sample_s = NAN;
    rc = run_parts(st, comp, last, t_last, row,
                   isnan(r->duration_s) || isnan(r->energy_j));
    if (rc != GM_OK)
      goto out;
  }
  if (step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the runs");
out:
  sqlite3_finalize(s);
  sqlite3_finalize(comp);
  sqlite3_finalize(last);
  sqlite3_finalize(t_last);
  sqlite3_finalize(host);
  end_read(st, began);
  return rc;
}

/* ---- benches ------------------------------------------------------------- */

static enum gm_status read_benches(struct gm_store *st, int64_t only,
                                   struct gm_store_bench_set *set) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "SELECT b.id, b.host_id, b.idle_baseline_id, b.name, b.status, "
          "b.created_at, b.updated_at, b.config_json, b.versions_json, "
          "b.host_json, h.hostname, h.cpu_model FROM benches b LEFT JOIN "
          "hosts h ON h.id = b.host_id WHERE ?1 = 0 OR b.id = ?1 ORDER BY b.id",
          -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the benches");
  sqlite3_bind_int64(s, 1, only);
  size_t cap = 0;
  bool oom = false;
  int step;
  while (!oom && (step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&set->benches, set->n_benches, &cap,
              sizeof(*set->benches))) {
      oom = true;
      break;
    }
    struct gm_store_bench *b = &set->benches[set->n_benches++];
    memset(b, 0, sizeof(*b));
    b->id = sqlite3_column_int64(s, 0);
    b->host_id = sqlite3_column_int64(s, 1);
    b->idle_baseline_id = sqlite3_column_int64(s, 2);
    gm__sq_col_text(s, 3, b->name, sizeof(b->name));
    gm__sq_col_text(s, 4, b->status, sizeof(b->status));
    gm__sq_col_text(s, 5, b->created_at, sizeof(b->created_at));
    gm__sq_col_text(s, 6, b->updated_at, sizeof(b->updated_at));
    b->config_json =
        gm__store_strdup(set, (const char *)sqlite3_column_text(s, 7), &oom);
    b->versions_json =
        gm__store_strdup(set, (const char *)sqlite3_column_text(s, 8), &oom);
    b->host_json =
        gm__store_strdup(set, (const char *)sqlite3_column_text(s, 9), &oom);
    gm__sq_col_text(s, 10, b->hostname, sizeof(b->hostname));
    gm__sq_col_text(s, 11, b->cpu_model, sizeof(b->cpu_model));
  }
  sqlite3_finalize(s);
  if (oom)
    return GM_ERR_NO_MEMORY;
  return step == SQLITE_DONE ? GM_OK
                             : gm__sq_fail(st, "cannot read the benches");
}

static enum gm_status read_models(struct gm_store *st, int64_t only,
                                  struct gm_store_bench_set *set) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT bench_id, model, params, trainable_params, "
                         "param_bytes, buffer_bytes, size_bytes, macs, "
                         "macs_per_param FROM bench_models WHERE ?1 = 0 OR "
                         "bench_id = ?1 ORDER BY bench_id, rowid",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the models");
  sqlite3_bind_int64(s, 1, only);
  size_t cap = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&set->models, set->n_models, &cap,
              sizeof(*set->models))) {
      sqlite3_finalize(s);
      return GM_ERR_NO_MEMORY;
    }
    struct gm_store_bench_model *m = &set->models[set->n_models++];
    memset(m, 0, sizeof(*m));
    m->bench_id = sqlite3_column_int64(s, 0);
    gm__sq_col_text(s, 1, m->model, sizeof(m->model));
    m->params = sqlite3_column_int64(s, 2);
    m->trainable_params = sqlite3_column_int64(s, 3);
    m->param_bytes = sqlite3_column_int64(s, 4);
    m->buffer_bytes = sqlite3_column_int64(s, 5);
    m->size_bytes = sqlite3_column_int64(s, 6);
    m->macs = sqlite3_column_int64(s, 7);
    m->macs_per_param = gm__sq_col_real(s, 8);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK
                             : gm__sq_fail(st, "cannot read the models");
}

/* The components of phase p, in recorded order, into the set's storage. */
static enum gm_status read_components(struct gm_store *st, sqlite3_stmt *s,
                                      struct gm_store_bench_set *set,
                                      struct gm_store_bench_phase *p) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, p->bench_id);
  sqlite3_bind_text(s, 2, p->model, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, p->batch_size);
  sqlite3_bind_text(s, 4, p->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 5, p->epoch);
  sqlite3_bind_int(s, 6, p->metered);
  sqlite3_bind_text(s, 7, p->precision, -1, SQLITE_STATIC);
  size_t n = 0, cap = 0;
  struct gm_store_phase_component *tmp = NULL;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&tmp, n, &cap, sizeof(*tmp))) {
      free(tmp);
      return GM_ERR_NO_MEMORY;
    }
    struct gm_store_phase_component *c = &tmp[n++];
    memset(c, 0, sizeof(*c));
    gm__sq_col_text(s, 0, c->name, sizeof(c->name));
    gm__sq_col_text(s, 1, c->kind, sizeof(c->kind));
    gm__sq_col_text(s, 2, c->provenance, sizeof(c->provenance));
    c->in_total = sqlite3_column_int(s, 3) != 0;
    c->energy_j = gm__sq_col_real(s, 4);
    c->net_energy_j = gm__sq_col_real(s, 5);
    c->avg_power_w = gm__sq_col_real(s, 6);
    c->peak_power_w = gm__sq_col_real(s, 7);
  }
  if (step != SQLITE_DONE) {
    free(tmp);
    return gm__sq_fail(st, "cannot read the phase components");
  }
  if (n) {
    struct gm_store_phase_component *dst = gm__store_components(set, n);
    if (!dst) {
      free(tmp);
      return GM_ERR_NO_MEMORY;
    }
    memcpy(dst, tmp, n * sizeof(*dst));
    p->components = dst;
  }
  p->n_components = n;
  free(tmp);
  return GM_OK;
}

static enum gm_status read_phases(struct gm_store *st, int64_t only,
                                  struct gm_store_bench_set *set) {
  sqlite3_stmt *s = NULL, *c = NULL;
  enum gm_status rc = GM_OK;
  char sql[1024], csql[512];
  /* a database opened read-only may be older: schema 8 added tags_json,
   * 9 the precision (every earlier row is fp32) */
  const bool v9 = gm__sq(st)->version >= 9;
  snprintf(sql, sizeof(sql),
           "SELECT bench_id, model, batch_size, kind, epoch, metered, run_id, "
           "phase_idx, ended_at, start_s, duration_s, steps, samples, "
           "step_time_s, samples_per_s, loss, accuracy, lr, energy_j, "
           "net_energy_j, j_per_sample, net_j_per_sample, avg_power_w, "
           "peak_power_w, provenance, cpu_util_pct, dram_used_bytes, "
           "gpu_util_pct, vram_used_bytes, %s, %s FROM bench_phases WHERE "
           "?1 = 0 OR bench_id = ?1 ORDER BY bench_id, rowid",
           gm__sq(st)->version >= 8 ? "tags_json" : "NULL",
           v9 ? "precision" : "'fp32'");
  snprintf(csql, sizeof(csql),
           "SELECT component, component_kind, provenance, in_total, energy_j, "
           "net_energy_j, avg_power_w, peak_power_w FROM "
           "bench_phase_components WHERE bench_id=?1 AND model=?2 AND "
           "batch_size=?3 AND kind=?4 AND epoch=?5 AND metered=?6 AND %s "
           "ORDER BY rowid",
           v9 ? "precision=?7" : "?7 = 'fp32'");
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(gm__sq_db(st), csql, -1, &c, NULL) != SQLITE_OK) {
    rc = gm__sq_fail(st, "cannot read the phases");
    goto out;
  }
  sqlite3_bind_int64(s, 1, only);
  size_t cap = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&set->phases, set->n_phases, &cap,
              sizeof(*set->phases))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    struct gm_store_bench_phase *p = &set->phases[set->n_phases++];
    memset(p, 0, sizeof(*p));
    int i = 0;
    p->bench_id = sqlite3_column_int64(s, i++);
    gm__sq_col_text(s, i++, p->model, sizeof(p->model));
    p->batch_size = sqlite3_column_int(s, i++);
    gm__sq_col_text(s, i++, p->kind, sizeof(p->kind));
    p->epoch = sqlite3_column_int(s, i++);
    p->metered = sqlite3_column_int(s, i++) != 0;
    p->run_id = sqlite3_column_int64(s, i++);
    p->phase_idx = sqlite3_column_type(s, i) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int(s, i);
    i++;
    gm__sq_col_text(s, i++, p->ended_at, sizeof(p->ended_at));
    p->start_s = gm__sq_col_real(s, i++);
    p->duration_s = gm__sq_col_real(s, i++);
    p->steps = sqlite3_column_int64(s, i++);
    p->samples = sqlite3_column_int64(s, i++);
    p->step_time_s = gm__sq_col_real(s, i++);
    p->samples_per_s = gm__sq_col_real(s, i++);
    p->loss = gm__sq_col_real(s, i++);
    p->accuracy = gm__sq_col_real(s, i++);
    p->lr = gm__sq_col_real(s, i++);
    p->energy_j = gm__sq_col_real(s, i++);
    p->net_energy_j = gm__sq_col_real(s, i++);
    p->j_per_sample = gm__sq_col_real(s, i++);
    p->net_j_per_sample = gm__sq_col_real(s, i++);
    p->avg_power_w = gm__sq_col_real(s, i++);
    p->peak_power_w = gm__sq_col_real(s, i++);
    gm__sq_col_text(s, i++, p->provenance, sizeof(p->provenance));
    p->cpu_util_pct = gm__sq_col_real(s, i++);
    p->dram_used_bytes = gm__sq_col_real(s, i++);
    p->gpu_util_pct = gm__sq_col_real(s, i++);
    p->vram_used_bytes = gm__sq_col_real(s, i++);
    bool oom = false;
    p->tags_json =
        gm__store_strdup(set, (const char *)sqlite3_column_text(s, i++), &oom);
    gm__sq_col_text(s, i++, p->precision, sizeof(p->precision));
    if (oom) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    if ((rc = read_components(st, c, set, p)) != GM_OK)
      goto out;
  }
  if (step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the phases");
out:
  sqlite3_finalize(s);
  sqlite3_finalize(c);
  return rc;
}

static enum gm_status read_predictions(struct gm_store *st, int64_t only,
                                       struct gm_store_bench_set *set) {
  sqlite3_stmt *s = NULL;
  char sql[1024];
  snprintf(sql, sizeof(sql),
           "SELECT bench_id, model, batch_size, kind, made_at, profile_epochs, "
           "profile_steps, target_steps, target_samples, level, duration_s, "
           "duration_lo_s, duration_hi_s, energy_j, energy_lo_j, energy_hi_j, "
           "net_energy_j, provenance, actual_duration_s, actual_energy_j, "
           "duration_error_rel, energy_error_rel, %s FROM bench_predictions "
           "WHERE ?1 = 0 OR bench_id = ?1 ORDER BY bench_id, rowid",
           gm__sq(st)->version >= 9 ? "precision" : "'fp32'");
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the predictions");
  sqlite3_bind_int64(s, 1, only);
  size_t cap = 0;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&set->predictions, set->n_predictions, &cap,
              sizeof(*set->predictions))) {
      sqlite3_finalize(s);
      return GM_ERR_NO_MEMORY;
    }
    struct gm_store_bench_prediction *p =
        &set->predictions[set->n_predictions++];
    memset(p, 0, sizeof(*p));
    int i = 0;
    p->bench_id = sqlite3_column_int64(s, i++);
    gm__sq_col_text(s, i++, p->model, sizeof(p->model));
    p->batch_size = sqlite3_column_int(s, i++);
    gm__sq_col_text(s, i++, p->kind, sizeof(p->kind));
    gm__sq_col_text(s, i++, p->made_at, sizeof(p->made_at));
    p->profile_epochs = gm__sq_col_real(s, i++);
    p->profile_steps = sqlite3_column_int64(s, i++);
    p->target_steps = sqlite3_column_int64(s, i++);
    p->target_samples = sqlite3_column_int64(s, i++);
    p->level = gm__sq_col_real(s, i++);
    p->duration_s = gm__sq_col_real(s, i++);
    p->duration_lo_s = gm__sq_col_real(s, i++);
    p->duration_hi_s = gm__sq_col_real(s, i++);
    p->energy_j = gm__sq_col_real(s, i++);
    p->energy_lo_j = gm__sq_col_real(s, i++);
    p->energy_hi_j = gm__sq_col_real(s, i++);
    p->net_energy_j = gm__sq_col_real(s, i++);
    gm__sq_col_text(s, i++, p->provenance, sizeof(p->provenance));
    p->actual_duration_s = gm__sq_col_real(s, i++);
    p->actual_energy_j = gm__sq_col_real(s, i++);
    p->duration_error_rel = gm__sq_col_real(s, i++);
    p->energy_error_rel = gm__sq_col_real(s, i++);
    gm__sq_col_text(s, i++, p->precision, sizeof(p->precision));
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK
                             : gm__sq_fail(st, "cannot read the predictions");
}

enum gm_status gm__sq_load_benches(struct gm_store *st,
                                   const struct gm_store_bench_filter *f,
                                   struct gm_store_bench_set *out) {
  if (!gm__sq_has_table(st, "benches"))
    return GM_OK; /* schema 1: no bench yet */
  bool began = begin_read(st);
  enum gm_status rc = read_benches(st, f->bench_id, out);
  if (rc == GM_OK && f->rows && out->n_benches)
    if ((rc = read_models(st, f->bench_id, out)) == GM_OK &&
        (rc = read_phases(st, f->bench_id, out)) == GM_OK)
      rc = read_predictions(st, f->bench_id, out);
  end_read(st, began);
  return rc;
}

/* ---- time series --------------------------------------------------------- */

static long find_idx(const int *idx, size_t n, int v) {
  for (size_t i = 0; i < n; i++)
    if (idx[i] == v)
      return (long)i;
  return -1;
}

enum gm_status gm__sq_load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_store_series *r) {
  if (!gm__sq_has_table(st, "runs"))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld",
                           (long long)run_id);
  sqlite3 *db = gm__sq_db(st);
  sqlite3_stmt *s = NULL;
  int *cidx = NULL, *midx = NULL;
  enum gm_status rc = GM_OK;
  bool began = begin_read(st);
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
    rc =
        gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld", (long long)run_id);
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
    gm__sq_col_text(s, 1, r->components[i].name, sizeof(r->components[i].name));
    gm__sq_col_text(s, 2, r->components[i].kind, sizeof(r->components[i].kind));
    gm__sq_col_text(s, 3, r->components[i].provenance,
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
    gm__sq_col_text(s, 1, r->metrics[i].name, sizeof(r->metrics[i].name));
    gm__sq_col_text(s, 2, r->metrics[i].unit, sizeof(r->metrics[i].unit));
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
    r->energy_j[(size_t)row * nc + (size_t)c] = gm__sq_col_real(s, 3);
    r->power_w[(size_t)row * nc + (size_t)c] = gm__sq_col_real(s, 4);
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
        r->metric[k * nm + (size_t)m] = gm__sq_col_real(s, 2);
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE)
      goto dberr;
  }
  goto out;
dberr:
  rc = gm__sq_fail(st, "cannot read the time series");
out:
  sqlite3_finalize(s);
  end_read(st, began);
  free(cidx);
  free(midx);
  return rc;
}

/* ---- a measured run's phases --------------------------------------------- */

enum gm_status gm__sq_load_run_phases(struct gm_store *st, int64_t run_id,
                                      struct gm_store_run_phases *out) {
  if (!gm__sq_has_table(st, "runs"))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld",
                           (long long)run_id);
  sqlite3 *db = gm__sq_db(st);
  sqlite3_stmt *s = NULL;
  enum gm_status rc = GM_OK;
  bool began = begin_read(st);
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE id=?", -1, &s, NULL) !=
      SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  int step = sqlite3_step(s);
  if (step == SQLITE_DONE) {
    rc =
        gm__store_error(st, GM_ERR_NOT_FOUND, "no run %lld", (long long)run_id);
    goto out;
  }
  if (step != SQLITE_ROW)
    goto dberr;
  sqlite3_finalize(s);
  s = NULL;
  /* phases.total_partial came with schema 5, attributed_* with 6 */
  int version = gm__sq(st)->version;
  if (sqlite3_prepare_v2(
          db,
          version >= 6 ? "SELECT idx, name, start_s, duration_s, energy_j, "
                         "net_energy_j, ended_by_stop, total_partial, "
                         "attributed_j, attributed_net_j FROM phases WHERE "
                         "run_id=? ORDER BY idx"
          : version >= 5
              ? "SELECT idx, name, start_s, duration_s, energy_j, "
                "net_energy_j, ended_by_stop, total_partial, NULL, NULL "
                "FROM phases WHERE run_id=? ORDER BY idx"
              : "SELECT idx, name, start_s, duration_s, energy_j, "
                "net_energy_j, ended_by_stop, 0, NULL, NULL FROM phases "
                "WHERE run_id=? ORDER BY idx",
          -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  size_t cap = 0;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    if (!grow((void **)&out->phases, out->n, &cap, sizeof(*out->phases))) {
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    struct gm_store_run_phase *ph = &out->phases[out->n++];
    memset(ph, 0, sizeof(*ph));
    ph->idx = sqlite3_column_int(s, 0);
    gm__sq_col_text(s, 1, ph->name, sizeof(ph->name));
    ph->start_s = gm__sq_col_real(s, 2);
    ph->duration_s = gm__sq_col_real(s, 3);
    ph->energy_j = gm__sq_col_real(s, 4);
    ph->net_energy_j = gm__sq_col_real(s, 5);
    ph->ended_by_stop = sqlite3_column_int(s, 6) != 0;
    ph->partial = sqlite3_column_int(s, 7) != 0;
    ph->attributed_j = gm__sq_col_real(s, 8);
    ph->attributed_net_j = gm__sq_col_real(s, 9);
  }
  if (step != SQLITE_DONE)
    goto dberr;
  sqlite3_finalize(s);
  s = NULL;
  /* the components, and each phase's share of them */
  if (sqlite3_prepare_v2(db,
                         "SELECT idx, name FROM components WHERE run_id=? "
                         "ORDER BY idx",
                         -1, &s, NULL) != SQLITE_OK)
    goto dberr;
  sqlite3_bind_int64(s, 1, run_id);
  size_t ccap = 0;
  int *cidx = NULL;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    size_t before = ccap;
    if (!grow((void **)&out->component, out->n_components, &ccap,
              sizeof(*out->component))) {
      free(cidx);
      rc = GM_ERR_NO_MEMORY;
      goto out;
    }
    if (ccap != before) {
      int *q = realloc(cidx, ccap * sizeof(int));
      if (!q) {
        free(cidx);
        rc = GM_ERR_NO_MEMORY;
        goto out;
      }
      cidx = q;
    }
    cidx[out->n_components] = sqlite3_column_int(s, 0);
    gm__sq_col_text(s, 1, out->component[out->n_components],
                    sizeof(out->component[0]));
    out->n_components++;
  }
  if (step != SQLITE_DONE) {
    free(cidx);
    goto dberr;
  }
  sqlite3_finalize(s);
  s = NULL;
  size_t cells =
      (out->n ? out->n : 1) * (out->n_components ? out->n_components : 1);
  out->component_energy_j = malloc(cells * sizeof(double));
  out->component_net_energy_j = malloc(cells * sizeof(double));
  if (!out->component_energy_j || !out->component_net_energy_j) {
    free(cidx);
    rc = GM_ERR_NO_MEMORY;
    goto out;
  }
  for (size_t i = 0; i < cells; i++)
    out->component_energy_j[i] = out->component_net_energy_j[i] = NAN;
  if (sqlite3_prepare_v2(db,
                         "SELECT phase_idx, component_idx, energy_j, "
                         "net_energy_j FROM phase_components WHERE run_id=?",
                         -1, &s, NULL) != SQLITE_OK) {
    free(cidx);
    goto dberr;
  }
  sqlite3_bind_int64(s, 1, run_id);
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    int pi = sqlite3_column_int(s, 0), ci = sqlite3_column_int(s, 1);
    long row = -1, col = find_idx(cidx, out->n_components, ci);
    for (size_t i = 0; i < out->n && row < 0; i++)
      if (out->phases[i].idx == pi)
        row = (long)i;
    if (row < 0 || col < 0)
      continue;
    size_t at = (size_t)row * out->n_components + (size_t)col;
    out->component_energy_j[at] = gm__sq_col_real(s, 2);
    out->component_net_energy_j[at] = gm__sq_col_real(s, 3);
  }
  free(cidx);
  if (step != SQLITE_DONE)
    goto dberr;
  goto out;
dberr:
  rc = gm__sq_fail(st, "cannot read the run's phases");
out:
  sqlite3_finalize(s);
  end_read(st, began);
  return rc;
}
