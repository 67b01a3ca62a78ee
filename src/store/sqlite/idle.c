/* idle.c: the SQLite store's idle baselines (idle_baselines and their
 * idle_components). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

enum gm_status gm__sq_save_idle(struct gm_store *st, int64_t host_id,
                                int64_t run_id,
                                const struct gm_idle_baseline *b,
                                int64_t *baseline_id) {
  char now[32];
  gm__sq_utc_now(now, sizeof(now));
  enum gm_status rc =
      gm__sq_exec(st, "BEGIN IMMEDIATE", "cannot store the baseline");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT INTO idle_baselines(host_id, run_id, "
                         "measured_at, duration_s, interval_s, cpu_tdp_w, "
                         "dimm_capacitance_f, cpu_util_pct, busy) "
                         "VALUES (?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int64(s, 1, host_id);
  if (run_id > 0)
    sqlite3_bind_int64(s, 2, run_id);
  else
    sqlite3_bind_null(s, 2);
  gm__sq_bind_text(s, 3, now);
  sqlite3_bind_double(s, 4, b->duration_s);
  gm__sq_bind_real(s, 5, b->interval_s);
  gm__sq_bind_real(s, 6, b->cpu_tdp_w);
  gm__sq_bind_real(s, 7, b->dimm_capacitance_f);
  gm__sq_bind_real(s, 8, b->cpu_util_pct);
  sqlite3_bind_int(s, 9, b->busy ? 1 : 0);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  *baseline_id = sqlite3_last_insert_rowid(gm__sq_db(st));
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "INSERT INTO idle_components(baseline_id, name, "
                         "source, mean_power_w, sd_power_w, n_intervals, "
                         "detail) VALUES (?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < b->n; i++) {
    const struct gm_idle_entry *e = &b->entries[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *baseline_id);
    gm__sq_bind_text(s, 2, e->name);
    gm__sq_bind_text(s, 3, e->source);
    sqlite3_bind_double(s, 4, e->mean_power_w);
    sqlite3_bind_double(s, 5, e->sd_power_w);
    sqlite3_bind_int64(s, 6, (int64_t)e->n_intervals);
    gm__sq_bind_text(s, 7, e->detail[0] ? e->detail : NULL);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  return gm__sq_exec(st, "COMMIT", "cannot store the baseline");
fail:
  rc = gm__sq_fail(st, "cannot store the baseline");
  sqlite3_finalize(s);
  sqlite3_exec(gm__sq_db(st), "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* The baseline that sql (one ? bound to key) selects, with its entries.
 * sql selects id, measured_at, duration_s and, from schema 3 on (with_config),
 * interval_s, cpu_tdp_w, dimm_capacitance_f, cpu_util_pct and busy. */
static enum gm_status load_idle(struct gm_store *st, const char *sql,
                                int64_t key, const char *none, bool with_config,
                                struct gm_idle_baseline **out) {
  *out = NULL;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the idle baseline");
  sqlite3_bind_int64(s, 1, key);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
      return gm__store_error(st, GM_ERR_NOT_FOUND, "%s", none);
    }
    return gm__sq_fail(st, "cannot read the idle baseline");
  }
  struct gm_idle_baseline *b = calloc(1, sizeof(*b));
  if (!b) {
    sqlite3_finalize(s);
    return GM_ERR_NO_MEMORY;
  }
  b->id = sqlite3_column_int64(s, 0);
  const unsigned char *at = sqlite3_column_text(s, 1);
  gm__strlcpy(b->measured_at, at ? (const char *)at : "",
              sizeof(b->measured_at));
  b->duration_s = sqlite3_column_double(s, 2);
  b->interval_s = b->cpu_tdp_w = b->dimm_capacitance_f = NAN;
  b->cpu_util_pct = NAN;
  if (with_config) {
    b->interval_s = gm__sq_col_real(s, 3);
    b->cpu_tdp_w = gm__sq_col_real(s, 4);
    b->dimm_capacitance_f = gm__sq_col_real(s, 5);
    b->cpu_util_pct = gm__sq_col_real(s, 6);
    b->busy = sqlite3_column_int(s, 7) != 0;
  }
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         with_config
                             ? "SELECT name, source, mean_power_w, sd_power_w, "
                               "n_intervals, detail FROM idle_components "
                               "WHERE baseline_id=? ORDER BY name"
                             : "SELECT name, source, mean_power_w, sd_power_w, "
                               "n_intervals FROM idle_components WHERE "
                               "baseline_id=? ORDER BY name",
                         -1, &s, NULL) != SQLITE_OK) {
    gm_idle_baseline_free(b);
    return gm__sq_fail(st, "cannot read the idle baseline");
  }
  sqlite3_bind_int64(s, 1, b->id);
  while (sqlite3_step(s) == SQLITE_ROW) {
    struct gm_idle_entry *ne =
        realloc(b->entries, (b->n + 1) * sizeof(*b->entries));
    if (!ne) {
      sqlite3_finalize(s);
      gm_idle_baseline_free(b);
      return GM_ERR_NO_MEMORY;
    }
    b->entries = ne;
    struct gm_idle_entry *e = &b->entries[b->n++];
    memset(e, 0, sizeof(*e));
    gm__strlcpy(e->name, (const char *)sqlite3_column_text(s, 0),
                sizeof(e->name));
    gm__strlcpy(e->source, (const char *)sqlite3_column_text(s, 1),
                sizeof(e->source));
    e->mean_power_w = sqlite3_column_double(s, 2);
    e->sd_power_w = sqlite3_column_double(s, 3);
    e->n_intervals = (uint64_t)sqlite3_column_int64(s, 4);
    if (with_config)
      gm__sq_col_text(s, 5, e->detail, sizeof(e->detail));
  }
  sqlite3_finalize(s);
  *out = b;
  return GM_OK;
}

enum gm_status gm__sq_load_idle(struct gm_store *st, int64_t key, bool by_id,
                                struct gm_idle_baseline **out) {
  if (!gm__sq_has_table(st, "idle_baselines"))
    return gm__store_error(st, GM_ERR_NOT_FOUND, "%s",
                           by_id ? "no idle baseline with that id"
                                 : "no idle baseline stored for this host");
  /* a read-only store keeps its schema: before 3, no configuration */
  bool with_config = gm__sq(st)->version >= 3;
  const char *cols = with_config
                         ? "SELECT id, measured_at, duration_s, interval_s, "
                           "cpu_tdp_w, dimm_capacitance_f, cpu_util_pct, busy "
                           "FROM idle_baselines "
                         : "SELECT id, measured_at, duration_s "
                           "FROM idle_baselines ";
  char sql[320];
  gm__fmt(sql, sizeof(sql), "%s%s", cols,
          by_id ? "WHERE id=?" : "WHERE host_id=? ORDER BY id DESC LIMIT 1");
  return load_idle(st, sql, key,
                   by_id ? "no idle baseline with that id"
                         : "no idle baseline stored for this host",
                   with_config, out);
}
