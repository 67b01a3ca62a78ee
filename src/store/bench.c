/* bench.c: the study runner's tables; see greenml/store.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

/* Runs one statement inside the open sample transaction when there is one,
 * otherwise in its own; the caller commits with gm_store_commit. */
static enum gm_status begin(struct gm_store *st, const char *what) {
  if (st->in_tx)
    return GM_OK;
  enum gm_status rc = exec(st, "BEGIN IMMEDIATE", what);
  if (rc == GM_OK)
    st->in_tx = true;
  return rc;
}

static void rollback(struct gm_store *st) {
  if (st->in_tx) {
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_tx = false;
  }
}

enum gm_status gm_store_bench_create(struct gm_store *st, int64_t host_id,
                                     const struct gm_bench_meta *meta,
                                     int64_t *bench_id) {
  if (!st || !meta || !meta->name || !meta->config_json || !bench_id)
    return GM_ERR_INVALID_ARG;
  struct gm_bench_info old;
  enum gm_status rc = gm_store_bench_find(st, meta->name, &old);
  if (rc == GM_OK) {
    gm__fmt(st->err, sizeof(st->err), "a bench named '%s' exists (%s)",
            meta->name, old.status);
    gm_bench_info_clear(&old);
    return GM_ERR_STATE;
  }
  if (rc != GM_ERR_NOT_FOUND)
    return rc;
  rc = gm_store_commit(st);
  if (rc != GM_OK)
    return rc;
  char now[32];
  utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "INSERT INTO benches(name, host_id, created_at, updated_at, status, "
          "config_json, versions_json, host_json, idle_baseline_id) "
          "VALUES (?,?,?,?,'running',?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot record the bench");
  bind_text(s, 1, meta->name);
  sqlite3_bind_int64(s, 2, host_id);
  bind_text(s, 3, now);
  bind_text(s, 4, now);
  bind_text(s, 5, meta->config_json);
  bind_text(s, 6, meta->versions_json);
  bind_text(s, 7, meta->host_json);
  if (meta->idle_baseline_id > 0)
    sqlite3_bind_int64(s, 8, meta->idle_baseline_id);
  else
    sqlite3_bind_null(s, 8);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE)
    return fail(st, "cannot record the bench");
  *bench_id = sqlite3_last_insert_rowid(st->db);
  return GM_OK;
}

enum gm_status gm_store_bench_find(struct gm_store *st, const char *name,
                                   struct gm_bench_info *out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  sqlite3_stmt *s = NULL;
  const char *sql =
      name ? "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE name=?"
           : "SELECT id, host_id, idle_baseline_id, name, status, config_json "
             "FROM benches WHERE status<>'complete' ORDER BY id DESC LIMIT 1";
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the benches");
  if (name)
    bind_text(s, 1, name);
  int step = sqlite3_step(s);
  enum gm_status rc = GM_OK;
  if (step == SQLITE_ROW) {
    out->id = sqlite3_column_int64(s, 0);
    out->host_id = sqlite3_column_int64(s, 1);
    out->idle_baseline_id = sqlite3_column_int64(s, 2);
    const char *n = (const char *)sqlite3_column_text(s, 3);
    const char *status = (const char *)sqlite3_column_text(s, 4);
    const char *cfg = (const char *)sqlite3_column_text(s, 5);
    gm__strlcpy(out->name, n ? n : "", sizeof(out->name));
    gm__strlcpy(out->status, status ? status : "", sizeof(out->status));
    out->config_json = strdup(cfg ? cfg : "{}");
    if (!out->config_json)
      rc = GM_ERR_NO_MEMORY;
  } else if (step == SQLITE_DONE) {
    gm__fmt(st->err, sizeof(st->err), "%s",
            name ? "no bench of that name" : "no unfinished bench");
    rc = GM_ERR_NOT_FOUND;
  } else {
    rc = fail(st, "cannot read the benches");
  }
  sqlite3_finalize(s);
  return rc;
}

void gm_bench_info_clear(struct gm_bench_info *b) {
  if (!b)
    return;
  free(b->config_json);
  b->config_json = NULL;
}

static enum gm_status update_bench(struct gm_store *st, int64_t bench_id,
                                   const char *sql, const char *text,
                                   int64_t value) {
  enum gm_status rc = gm_store_commit(st);
  if (rc != GM_OK)
    return rc;
  char now[32];
  utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot update the bench");
  if (text)
    bind_text(s, 1, text);
  else if (value > 0)
    sqlite3_bind_int64(s, 1, value);
  else
    sqlite3_bind_null(s, 1);
  bind_text(s, 2, now);
  sqlite3_bind_int64(s, 3, bench_id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK : fail(st, "cannot update the bench");
}

enum gm_status gm_store_bench_set_status(struct gm_store *st, int64_t bench_id,
                                         const char *status) {
  if (!st || !status)
    return GM_ERR_INVALID_ARG;
  return update_bench(st, bench_id,
                      "UPDATE benches SET status=?, updated_at=? WHERE id=?",
                      status, 0);
}

enum gm_status gm_store_bench_set_idle(struct gm_store *st, int64_t bench_id,
                                       int64_t baseline_id) {
  if (!st)
    return GM_ERR_INVALID_ARG;
  return update_bench(
      st, bench_id,
      "UPDATE benches SET idle_baseline_id=?, updated_at=? WHERE id=?", NULL,
      baseline_id);
}

enum gm_status gm_store_bench_put_model(struct gm_store *st, int64_t bench_id,
                                        const struct gm_bench_model *m) {
  if (!st || !m || !m->model)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = begin(st, "cannot record the model");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "INSERT OR REPLACE INTO bench_models(bench_id, model, params, "
          "trainable_params, param_bytes, buffer_bytes, size_bytes, macs, "
          "macs_per_param) VALUES (?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK) {
    rc = fail(st, "cannot record the model");
    rollback(st);
    return rc;
  }
  sqlite3_bind_int64(s, 1, bench_id);
  bind_text(s, 2, m->model);
  sqlite3_bind_int64(s, 3, m->params);
  sqlite3_bind_int64(s, 4, m->trainable_params);
  sqlite3_bind_int64(s, 5, m->param_bytes);
  sqlite3_bind_int64(s, 6, m->buffer_bytes);
  sqlite3_bind_int64(s, 7, m->size_bytes);
  sqlite3_bind_int64(s, 8, m->macs);
  bind_real(s, 9, m->macs_per_param);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    rc = fail(st, "cannot record the model");
    rollback(st);
    return rc;
  }
  return gm_store_commit(st);
}

enum gm_status gm_store_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                        const char *model, int batch_size,
                                        const char *kind, int epoch,
                                        bool metered, bool *exists) {
  if (!st || !model || !kind || !exists)
    return GM_ERR_INVALID_ARG;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT 1 FROM bench_phases WHERE bench_id=? AND "
                         "model=? AND batch_size=? AND kind=? AND epoch=? "
                         "AND metered=?",
                         -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the phases");
  sqlite3_bind_int64(s, 1, bench_id);
  bind_text(s, 2, model);
  sqlite3_bind_int(s, 3, batch_size);
  bind_text(s, 4, kind);
  sqlite3_bind_int(s, 5, epoch);
  sqlite3_bind_int(s, 6, metered);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return fail(st, "cannot read the phases");
  *exists = step == SQLITE_ROW;
  return GM_OK;
}

static double per(double a, double b) { return b > 0 ? a / b : NAN; }

enum gm_status gm_store_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                        const struct gm_bench_phase *p) {
  if (!st || !p || !p->model || !p->kind || (p->n_components && !p->components))
    return GM_ERR_INVALID_ARG;
  bool exists = false;
  enum gm_status rc =
      gm_store_bench_has_phase(st, bench_id, p->model, p->batch_size, p->kind,
                               p->epoch, p->metered, &exists);
  if (rc != GM_OK)
    return rc;
  if (exists) {
    gm__fmt(st->err, sizeof(st->err),
            "phase %s %s epoch %d (batch %d) is already recorded", p->model,
            p->kind, p->epoch, p->batch_size);
    return GM_ERR_STATE;
  }
  rc = begin(st, "cannot record the phase");
  if (rc != GM_OK)
    return rc;
  char now[32];
  utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "INSERT INTO bench_phases(bench_id, model, batch_size, kind, epoch, "
          "metered, run_id, phase_idx, ended_at, start_s, duration_s, steps, "
          "samples, step_time_s, samples_per_s, loss, accuracy, lr, energy_j, "
          "net_energy_j, j_per_sample, net_j_per_sample, avg_power_w, "
          "peak_power_w, provenance, cpu_util_pct, dram_used_bytes, "
          "gpu_util_pct, vram_used_bytes) VALUES "
          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  int i = 1;
  sqlite3_bind_int64(s, i++, bench_id);
  bind_text(s, i++, p->model);
  sqlite3_bind_int(s, i++, p->batch_size);
  bind_text(s, i++, p->kind);
  sqlite3_bind_int(s, i++, p->epoch);
  sqlite3_bind_int(s, i++, p->metered);
  if (p->run_id > 0) {
    sqlite3_bind_int64(s, i++, p->run_id);
    sqlite3_bind_int(s, i++, p->phase_idx);
  } else {
    sqlite3_bind_null(s, i++);
    sqlite3_bind_null(s, i++);
  }
  bind_text(s, i++, now);
  bind_real(s, i++, p->start_s);
  sqlite3_bind_double(s, i++, p->duration_s);
  sqlite3_bind_int64(s, i++, p->steps);
  sqlite3_bind_int64(s, i++, p->samples);
  bind_real(s, i++, per(p->duration_s, (double)p->steps));
  bind_real(s, i++, per((double)p->samples, p->duration_s));
  bind_real(s, i++, p->loss);
  bind_real(s, i++, p->accuracy);
  bind_real(s, i++, p->lr);
  bind_real(s, i++, p->energy_j);
  bind_real(s, i++, p->net_energy_j);
  bind_real(s, i++, per(p->energy_j, (double)p->samples));
  bind_real(s, i++, per(p->net_energy_j, (double)p->samples));
  bind_real(s, i++, p->avg_power_w);
  bind_real(s, i++, p->peak_power_w);
  bind_text(s, i++, p->provenance);
  bind_real(s, i++, p->cpu_util_pct);
  bind_real(s, i++, p->dram_used_bytes);
  bind_real(s, i++, p->gpu_util_pct);
  bind_real(s, i++, p->vram_used_bytes);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  if (p->n_components &&
      sqlite3_prepare_v2(
          st->db,
          "INSERT INTO bench_phase_components(bench_id, model, batch_size, "
          "kind, epoch, metered, component, component_kind, provenance, "
          "in_total, energy_j, net_energy_j, avg_power_w, peak_power_w) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t c = 0; c < p->n_components; c++) {
    const struct gm_bench_component *bc = &p->components[c];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, bench_id);
    bind_text(s, 2, p->model);
    sqlite3_bind_int(s, 3, p->batch_size);
    bind_text(s, 4, p->kind);
    sqlite3_bind_int(s, 5, p->epoch);
    sqlite3_bind_int(s, 6, p->metered);
    bind_text(s, 7, bc->name);
    bind_text(s, 8, bc->kind);
    bind_text(s, 9, bc->provenance);
    sqlite3_bind_int(s, 10, bc->in_total);
    bind_real(s, 11, bc->energy_j);
    bind_real(s, 12, bc->net_energy_j);
    bind_real(s, 13, bc->avg_power_w);
    bind_real(s, 14, bc->peak_power_w);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  return gm_store_commit(st);
fail:
  rc = fail(st, "cannot record the phase");
  sqlite3_finalize(s);
  rollback(st);
  return rc;
}

enum gm_status
gm_store_bench_put_prediction(struct gm_store *st, int64_t bench_id,
                              const struct gm_bench_prediction *p) {
  if (!st || !p || !p->model || !p->kind)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = begin(st, "cannot record the prediction");
  if (rc != GM_OK)
    return rc;
  char now[32];
  utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "INSERT OR REPLACE INTO bench_predictions(bench_id, model, "
          "batch_size, kind, made_at, profile_epochs, profile_steps, "
          "target_steps, target_samples, level, duration_s, duration_lo_s, "
          "duration_hi_s, energy_j, energy_lo_j, energy_hi_j, net_energy_j, "
          "provenance, actual_duration_s, actual_energy_j, "
          "duration_error_rel, energy_error_rel) VALUES "
          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK) {
    rc = fail(st, "cannot record the prediction");
    rollback(st);
    return rc;
  }
  int i = 1;
  sqlite3_bind_int64(s, i++, bench_id);
  bind_text(s, i++, p->model);
  sqlite3_bind_int(s, i++, p->batch_size);
  bind_text(s, i++, p->kind);
  bind_text(s, i++, now);
  bind_real(s, i++, p->profile_epochs);
  sqlite3_bind_int64(s, i++, p->profile_steps);
  sqlite3_bind_int64(s, i++, p->target_steps);
  sqlite3_bind_int64(s, i++, p->target_samples);
  bind_real(s, i++, p->level);
  bind_real(s, i++, p->duration_s);
  bind_real(s, i++, p->duration_lo_s);
  bind_real(s, i++, p->duration_hi_s);
  bind_real(s, i++, p->energy_j);
  bind_real(s, i++, p->energy_lo_j);
  bind_real(s, i++, p->energy_hi_j);
  bind_real(s, i++, p->net_energy_j);
  bind_text(s, i++, p->provenance);
  bind_real(s, i++, p->actual_duration_s);
  bind_real(s, i++, p->actual_energy_j);
  bind_real(s, i++,
            per(p->duration_s - p->actual_duration_s, p->actual_duration_s));
  bind_real(s, i++, per(p->energy_j - p->actual_energy_j, p->actual_energy_j));
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_DONE) {
    rc = fail(st, "cannot record the prediction");
    rollback(st);
    return rc;
  }
  return gm_store_commit(st);
}

/* ---- study queries ------------------------------------------------------ */

static void copy_text(char *dst, size_t size, sqlite3_stmt *s, int col) {
  const char *v = (const char *)sqlite3_column_text(s, col);
  gm__strlcpy(dst, v ? v : "", size);
}

static double column_real(sqlite3_stmt *s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL
             ? NAN
             : sqlite3_column_double(s, col);
}

/* Room for row n of `size` bytes in rows (cap rows allocated): the array,
 * moved if it had to grow, or NULL when out of memory (rows untouched). */
static void *grow(void *rows, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return rows;
  size_t c = *cap ? 2 * *cap : 16;
  void *p = realloc(rows, c * size);
  if (p)
    *cap = c;
  return p;
}

void gm_bench_flags_clear(struct gm_bench_flags *f) {
  if (!f)
    return;
  for (size_t i = 0; i < f->n; i++)
    free(f->flags[i]);
  free(f->flags);
  f->flags = NULL;
  f->n = 0;
}

enum gm_status gm_store_bench_flags(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_flags *out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT json_valid(config_json) FROM benches WHERE "
                         "id=?",
                         -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the bench's flags");
  sqlite3_bind_int64(s, 1, bench_id);
  int step = sqlite3_step(s);
  int valid = step == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
  sqlite3_finalize(s);
  if (step == SQLITE_DONE) {
    gm__fmt(st->err, sizeof(st->err), "no bench with id %lld",
            (long long)bench_id);
    return GM_ERR_NOT_FOUND;
  }
  if (step != SQLITE_ROW)
    return fail(st, "cannot read the bench's flags");
  if (!valid) {
    gm__fmt(st->err, sizeof(st->err),
            "the configuration of bench %lld is not JSON", (long long)bench_id);
    return GM_ERR_PARSE;
  }
  if (sqlite3_prepare_v2(st->db,
                         "SELECT j.value FROM benches b, "
                         "json_each(b.config_json, '$.argv') j WHERE b.id=? "
                         "ORDER BY j.key",
                         -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the bench's flags");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    char **flags = grow(out->flags, &cap, out->n, sizeof(char *));
    if (flags)
      out->flags = flags;
    const char *v = (const char *)sqlite3_column_text(s, 0);
    char *dup = flags ? strdup(v ? v : "") : NULL;
    if (!dup) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    out->flags[out->n++] = dup;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = fail(st, "cannot read the bench's flags");
  sqlite3_finalize(s);
  if (rc != GM_OK)
    gm_bench_flags_clear(out);
  return rc;
}

enum gm_status gm_store_bench_work(struct gm_store *st, int64_t bench_id,
                                   struct gm_bench_work **rows, size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT p.kind, sum(p.samples * m.macs) FROM "
                         "bench_phases p JOIN bench_models m ON "
                         "m.bench_id = p.bench_id AND m.model = p.model "
                         "WHERE p.bench_id=? GROUP BY p.kind ORDER BY p.kind",
                         -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the work done");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_work *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_work *w = &grown[*n];
    memset(w, 0, sizeof(*w));
    copy_text(w->kind, sizeof(w->kind), s, 0);
    w->sample_macs = sqlite3_column_double(s, 1);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = fail(st, "cannot read the work done");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}

enum gm_status gm_store_bench_summary(struct gm_store *st, int64_t bench_id,
                                      struct gm_bench_summary_row **rows,
                                      size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "SELECT model, batch_size, kind, count(*), avg(duration_s), "
          "avg(energy_j), avg(net_energy_j), avg(j_per_sample), "
          "avg(samples_per_s), max(provenance) FROM bench_phases WHERE "
          "bench_id=? AND metered=1 GROUP BY model, batch_size, kind "
          "ORDER BY min(rowid)",
          -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the summary");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_summary_row *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_summary_row *r = &grown[*n];
    memset(r, 0, sizeof(*r));
    copy_text(r->model, sizeof(r->model), s, 0);
    r->batch_size = sqlite3_column_int(s, 1);
    copy_text(r->kind, sizeof(r->kind), s, 2);
    r->phases = sqlite3_column_int(s, 3);
    r->duration_s = column_real(s, 4);
    r->energy_j = column_real(s, 5);
    r->net_energy_j = column_real(s, 6);
    r->j_per_sample = column_real(s, 7);
    r->samples_per_s = column_real(s, 8);
    copy_text(r->provenance, sizeof(r->provenance), s, 9);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = fail(st, "cannot read the summary");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}

enum gm_status gm_store_bench_overhead(struct gm_store *st, int64_t bench_id,
                                       struct gm_bench_overhead_row **rows,
                                       size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "SELECT u.kind, sum(u.duration_s), sum(m.duration_s), count(*) "
          "FROM bench_phases u JOIN bench_phases m ON u.bench_id=m.bench_id "
          "AND u.model=m.model AND u.batch_size=m.batch_size AND "
          "u.kind=m.kind AND u.epoch=m.epoch AND u.metered=0 AND m.metered=1 "
          "WHERE u.bench_id=? GROUP BY u.kind ORDER BY u.kind DESC",
          -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the overhead");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_overhead_row *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_overhead_row *r = &grown[*n];
    memset(r, 0, sizeof(*r));
    copy_text(r->kind, sizeof(r->kind), s, 0);
    r->unmetered_s = sqlite3_column_double(s, 1);
    r->metered_s = sqlite3_column_double(s, 2);
    r->phases = sqlite3_column_int(s, 3);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = fail(st, "cannot read the overhead");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}
