/* bench.c: the SQLite store's rows of the study runner: benches,
 * bench_models, bench_phases with bench_phase_components, and
 * bench_predictions. A row is written inside the open sample transaction
 * when there is one (the meter's writer thread shares the handle), else in
 * its own, and committed at once. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

/* Opens a write transaction unless one is open; the caller commits. */
static enum gm_status begin(struct gm_store *st, const char *what) {
  if (gm__sq(st)->in_tx)
    return GM_OK;
  enum gm_status rc = gm__sq_exec(st, "BEGIN IMMEDIATE", what);
  if (rc == GM_OK)
    gm__sq(st)->in_tx = true;
  return rc;
}

static void rollback(struct gm_store *st) {
  if (gm__sq(st)->in_tx) {
    sqlite3_exec(gm__sq_db(st), "ROLLBACK", NULL, NULL, NULL);
    gm__sq(st)->in_tx = false;
  }
}

static double per(double a, double b) { return b > 0 ? a / b : NAN; }

enum gm_status gm__sq_bench_create(struct gm_store *st, int64_t host_id,
                                   const struct gm_bench_meta *meta,
                                   int64_t *bench_id) {
  enum gm_status rc = gm__sq_commit(st);
  if (rc != GM_OK)
    return rc;
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT INTO benches(name, host_id, created_at, updated_at, status, "
          "config_json, versions_json, host_json, idle_baseline_id) "
          "VALUES (?,?,?,?,'running',?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot record the bench");
  gm__sq_bind_text(s, 1, meta->name);
  sqlite3_bind_int64(s, 2, host_id);
  gm__sq_bind_text(s, 3, now);
  gm__sq_bind_text(s, 4, now);
  gm__sq_bind_text(s, 5, meta->config_json);
  gm__sq_bind_text(s, 6, meta->versions_json);
  gm__sq_bind_text(s, 7, meta->host_json);
  if (meta->idle_baseline_id > 0)
    sqlite3_bind_int64(s, 8, meta->idle_baseline_id);
  else
    sqlite3_bind_null(s, 8);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE)
    return gm__sq_fail(st, "cannot record the bench");
  *bench_id = sqlite3_last_insert_rowid(gm__sq_db(st));
  return GM_OK;
}

enum gm_status gm__sq_bench_find(struct gm_store *st, const char *name,
                                 struct gm_bench_info *out) {
  const char *none = name ? "no bench of that name" : "no unfinished bench";
  if (!gm__sq_has_table(st, "benches"))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
  sqlite3_stmt *s = NULL;
  const char *sql =
      name ? "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE name=?"
           : "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE status<>'complete' ORDER BY id DESC LIMIT 1";
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the benches");
  if (name)
    gm__sq_bind_text(s, 1, name);
  int step = sqlite3_step(s);
  enum gm_status rc = GM_OK;
  if (step == SQLITE_ROW) {
    out->id = sqlite3_column_int64(s, 0);
    out->host_id = sqlite3_column_int64(s, 1);
    out->idle_baseline_id = sqlite3_column_int64(s, 2);
    gm__sq_col_text(s, 3, out->name, sizeof(out->name));
    gm__sq_col_text(s, 4, out->status, sizeof(out->status));
    const char *cfg = (const char *)sqlite3_column_text(s, 5);
    out->config_json = strdup(cfg ? cfg : "{}");
    if (!out->config_json)
      rc = GM_ERR_NO_MEMORY;
  } else if (step == SQLITE_DONE) {
    rc = gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
  } else {
    rc = gm__sq_fail(st, "cannot read the benches");
  }
  sqlite3_finalize(s);
  return rc;
}

enum gm_status gm__sq_bench_update(struct gm_store *st, int64_t bench_id,
                                   const char *status, int64_t baseline_id) {
  enum gm_status rc = gm__sq_commit(st);
  if (rc != GM_OK)
    return rc;
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  const char *sql =
      status ? "UPDATE benches SET status=?, updated_at=? WHERE id=?"
             : "UPDATE benches SET idle_baseline_id=?, updated_at=? WHERE id=?";
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot update the bench");
  if (status)
    gm__sq_bind_text(s, 1, status);
  else if (baseline_id > 0)
    sqlite3_bind_int64(s, 1, baseline_id);
  else
    sqlite3_bind_null(s, 1);
  gm__sq_bind_text(s, 2, now);
  sqlite3_bind_int64(s, 3, bench_id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK
                             : gm__sq_fail(st, "cannot update the bench");
}

enum gm_status gm__sq_bench_put_model(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_model *m) {
  enum gm_status rc = begin(st, "cannot record the model");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT OR REPLACE INTO bench_models(bench_id, model, params, "
          "trainable_params, param_bytes, buffer_bytes, size_bytes, macs, "
          "macs_per_param) VALUES (?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK) {
    rc = gm__sq_fail(st, "cannot record the model");
    rollback(st);
    return rc;
  }
  sqlite3_bind_int64(s, 1, bench_id);
  gm__sq_bind_text(s, 2, m->model);
  sqlite3_bind_int64(s, 3, m->params);
  sqlite3_bind_int64(s, 4, m->trainable_params);
  sqlite3_bind_int64(s, 5, m->param_bytes);
  sqlite3_bind_int64(s, 6, m->buffer_bytes);
  sqlite3_bind_int64(s, 7, m->size_bytes);
  sqlite3_bind_int64(s, 8, m->macs);
  gm__sq_bind_real(s, 9, m->macs_per_param);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    rc = gm__sq_fail(st, "cannot record the model");
    rollback(st);
    return rc;
  }
  return gm__sq_commit(st);
}

enum gm_status gm__sq_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                      const char *model, int batch_size,
                                      const char *precision, const char *kind,
                                      int epoch, bool metered, bool *exists) {
  *exists = false;
  if (!gm__sq_has_table(st, "bench_phases"))
    return GM_OK;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT 1 FROM bench_phases WHERE bench_id=? AND "
                         "model=? AND batch_size=? AND kind=? AND epoch=? "
                         "AND metered=? AND precision=?",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the phases");
  sqlite3_bind_int64(s, 1, bench_id);
  gm__sq_bind_text(s, 2, model);
  sqlite3_bind_int(s, 3, batch_size);
  gm__sq_bind_text(s, 4, kind);
  sqlite3_bind_int(s, 5, epoch);
  sqlite3_bind_int(s, 6, metered);
  gm__sq_bind_text(s, 7, gm__store_precision(precision));
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return gm__sq_fail(st, "cannot read the phases");
  *exists = step == SQLITE_ROW;
  return GM_OK;
}

enum gm_status gm__sq_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_phase *p) {
  enum gm_status rc = begin(st, "cannot record the phase");
  if (rc != GM_OK)
    return rc;
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT INTO bench_phases(bench_id, model, batch_size, kind, epoch, "
          "metered, run_id, phase_idx, ended_at, start_s, duration_s, steps, "
          "samples, step_time_s, samples_per_s, loss, accuracy, lr, energy_j, "
          "net_energy_j, j_per_sample, net_j_per_sample, avg_power_w, "
          "peak_power_w, provenance, cpu_util_pct, dram_used_bytes, "
          "gpu_util_pct, vram_used_bytes, tags_json, precision) VALUES "
          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  int i = 1;
  sqlite3_bind_int64(s, i++, bench_id);
  gm__sq_bind_text(s, i++, p->model);
  sqlite3_bind_int(s, i++, p->batch_size);
  gm__sq_bind_text(s, i++, p->kind);
  sqlite3_bind_int(s, i++, p->epoch);
  sqlite3_bind_int(s, i++, p->metered);
  if (p->run_id > 0) {
    sqlite3_bind_int64(s, i++, p->run_id);
    sqlite3_bind_int(s, i++, p->phase_idx);
  } else {
    sqlite3_bind_null(s, i++);
    sqlite3_bind_null(s, i++);
  }
  gm__sq_bind_text(s, i++, now);
  gm__sq_bind_real(s, i++, p->start_s);
  sqlite3_bind_double(s, i++, p->duration_s);
  sqlite3_bind_int64(s, i++, p->steps);
  sqlite3_bind_int64(s, i++, p->samples);
  gm__sq_bind_real(s, i++, per(p->duration_s, (double)p->steps));
  gm__sq_bind_real(s, i++, per((double)p->samples, p->duration_s));
  gm__sq_bind_real(s, i++, p->loss);
  gm__sq_bind_real(s, i++, p->accuracy);
  gm__sq_bind_real(s, i++, p->lr);
  gm__sq_bind_real(s, i++, p->energy_j);
  gm__sq_bind_real(s, i++, p->net_energy_j);
  gm__sq_bind_real(s, i++, per(p->energy_j, (double)p->samples));
  gm__sq_bind_real(s, i++, per(p->net_energy_j, (double)p->samples));
  gm__sq_bind_real(s, i++, p->avg_power_w);
  gm__sq_bind_real(s, i++, p->peak_power_w);
  gm__sq_bind_text(s, i++, p->provenance);
  gm__sq_bind_real(s, i++, p->cpu_util_pct);
  gm__sq_bind_real(s, i++, p->dram_used_bytes);
  gm__sq_bind_real(s, i++, p->gpu_util_pct);
  gm__sq_bind_real(s, i++, p->vram_used_bytes);
  gm__sq_bind_text(s, i++, p->tags_json);
  gm__sq_bind_text(s, i++, gm__store_precision(p->precision));
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  if (p->n_components &&
      sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT INTO bench_phase_components(bench_id, model, batch_size, "
          "kind, epoch, metered, component, component_kind, provenance, "
          "in_total, energy_j, net_energy_j, avg_power_w, peak_power_w, "
          "precision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t c = 0; c < p->n_components; c++) {
    const struct gm_bench_component *bc = &p->components[c];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, bench_id);
    gm__sq_bind_text(s, 2, p->model);
    sqlite3_bind_int(s, 3, p->batch_size);
    gm__sq_bind_text(s, 4, p->kind);
    sqlite3_bind_int(s, 5, p->epoch);
    sqlite3_bind_int(s, 6, p->metered);
    gm__sq_bind_text(s, 7, bc->name);
    gm__sq_bind_text(s, 8, bc->kind);
    gm__sq_bind_text(s, 9, bc->provenance);
    sqlite3_bind_int(s, 10, bc->in_total);
    gm__sq_bind_real(s, 11, bc->energy_j);
    gm__sq_bind_real(s, 12, bc->net_energy_j);
    gm__sq_bind_real(s, 13, bc->avg_power_w);
    gm__sq_bind_real(s, 14, bc->peak_power_w);
    gm__sq_bind_text(s, 15, gm__store_precision(p->precision));
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  return gm__sq_commit(st);
fail:
  rc = gm__sq_fail(st, "cannot record the phase");
  sqlite3_finalize(s);
  rollback(st);
  return rc;
}

enum gm_status
gm__sq_bench_put_prediction(struct gm_store *st, int64_t bench_id,
                            const struct gm_bench_prediction *p) {
  enum gm_status rc = begin(st, "cannot record the prediction");
  if (rc != GM_OK)
    return rc;
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "INSERT OR REPLACE INTO bench_predictions(bench_id, model, "
          "batch_size, kind, made_at, profile_epochs, profile_steps, "
          "target_steps, target_samples, level, duration_s, duration_lo_s, "
          "duration_hi_s, energy_j, energy_lo_j, energy_hi_j, net_energy_j, "
          "provenance, actual_duration_s, actual_energy_j, "
          "duration_error_rel, energy_error_rel, precision) VALUES "
          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK) {
    rc = gm__sq_fail(st, "cannot record the prediction");
    rollback(st);
    return rc;
  }
  int i = 1;
  sqlite3_bind_int64(s, i++, bench_id);
  gm__sq_bind_text(s, i++, p->model);
  sqlite3_bind_int(s, i++, p->batch_size);
  gm__sq_bind_text(s, i++, p->kind);
  gm__sq_bind_text(s, i++, now);
  gm__sq_bind_real(s, i++, p->profile_epochs);
  sqlite3_bind_int64(s, i++, p->profile_steps);
  sqlite3_bind_int64(s, i++, p->target_steps);
  sqlite3_bind_int64(s, i++, p->target_samples);
  gm__sq_bind_real(s, i++, p->level);
  gm__sq_bind_real(s, i++, p->duration_s);
  gm__sq_bind_real(s, i++, p->duration_lo_s);
  gm__sq_bind_real(s, i++, p->duration_hi_s);
  gm__sq_bind_real(s, i++, p->energy_j);
  gm__sq_bind_real(s, i++, p->energy_lo_j);
  gm__sq_bind_real(s, i++, p->energy_hi_j);
  gm__sq_bind_real(s, i++, p->net_energy_j);
  gm__sq_bind_text(s, i++, p->provenance);
  gm__sq_bind_real(s, i++, p->actual_duration_s);
  gm__sq_bind_real(s, i++, p->actual_energy_j);
  gm__sq_bind_real(
      s, i++, per(p->duration_s - p->actual_duration_s, p->actual_duration_s));
  gm__sq_bind_real(s, i++,
                   per(p->energy_j - p->actual_energy_j, p->actual_energy_j));
  gm__sq_bind_text(s, i++, gm__store_precision(p->precision));
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    rc = gm__sq_fail(st, "cannot record the prediction");
    rollback(st);
    return rc;
  }
  return gm__sq_commit(st);
}
