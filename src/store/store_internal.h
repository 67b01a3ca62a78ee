/* store_internal.h: the store's handle and helpers shared by its files. */
#ifndef GM_STORE_INTERNAL_H
#define GM_STORE_INTERNAL_H

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/util.h"
#include "greenml/store.h"

struct gm_store {
  sqlite3 *db;
  bool in_tx;
  sqlite3_stmt *ins_sample, *ins_metric;
  int64_t pending_run;
  char err[512];
};

static inline enum gm_status fail(struct gm_store *st, const char *what) {
  gm__fmt(st->err, sizeof(st->err), "%s: %s", what, sqlite3_errmsg(st->db));
  return GM_ERR_DATABASE;
}

static inline void utc_now(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Binds text or NULL. */
static inline void bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

static inline void bind_real(sqlite3_stmt *s, int i, double v) {
  if (isfinite(v))
    sqlite3_bind_double(s, i, v);
  else
    sqlite3_bind_null(s, i);
}

static inline enum gm_status exec(struct gm_store *st, const char *sql,
                                  const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    gm__fmt(st->err, sizeof(st->err), "%s: %s", what, msg ? msg : "?");
    sqlite3_free(msg);
    return GM_ERR_DATABASE;
  }
  return GM_OK;
}

/* Schema 2: the study runner's tables (store/bench.c). */
#define GM__STORE_BENCH_SCHEMA                                                 \
  "CREATE TABLE benches ("                                                     \
  "  id INTEGER PRIMARY KEY,"                                                  \
  "  name TEXT NOT NULL UNIQUE,"                                               \
  "  host_id INTEGER NOT NULL REFERENCES hosts(id),"                           \
  "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"                      \
  "  status TEXT NOT NULL,"                                                    \
  "  config_json TEXT NOT NULL, versions_json TEXT, host_json TEXT,"           \
  "  idle_baseline_id INTEGER REFERENCES idle_baselines(id));"                 \
  "CREATE TABLE bench_models ("                                                \
  "  bench_id INTEGER NOT NULL REFERENCES benches(id),"                        \
  "  model TEXT NOT NULL,"                                                     \
  "  params INTEGER, trainable_params INTEGER, param_bytes INTEGER,"           \
  "  buffer_bytes INTEGER, size_bytes INTEGER, macs INTEGER,"                  \
  "  macs_per_param REAL,"                                                     \
  "  PRIMARY KEY (bench_id, model));"                                          \
  "CREATE TABLE bench_phases ("                                                \
  "  bench_id INTEGER NOT NULL REFERENCES benches(id),"                        \
  "  model TEXT NOT NULL, batch_size INTEGER NOT NULL,"                        \
  "  kind TEXT NOT NULL, epoch INTEGER NOT NULL, metered INTEGER NOT NULL,"    \
  "  run_id INTEGER REFERENCES runs(id), phase_idx INTEGER,"                   \
  "  ended_at TEXT NOT NULL, start_s REAL, duration_s REAL NOT NULL,"          \
  "  steps INTEGER, samples INTEGER, step_time_s REAL, samples_per_s REAL,"    \
  "  loss REAL, accuracy REAL, lr REAL,"                                       \
  "  energy_j REAL, net_energy_j REAL, j_per_sample REAL,"                     \
  "  net_j_per_sample REAL, avg_power_w REAL, peak_power_w REAL,"              \
  "  provenance TEXT,"                                                         \
  "  cpu_util_pct REAL, dram_used_bytes REAL, gpu_util_pct REAL,"              \
  "  vram_used_bytes REAL,"                                                    \
  "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered));"        \
  "CREATE TABLE bench_phase_components ("                                      \
  "  bench_id INTEGER NOT NULL, model TEXT NOT NULL,"                          \
  "  batch_size INTEGER NOT NULL, kind TEXT NOT NULL, epoch INTEGER NOT NULL," \
  "  metered INTEGER NOT NULL, component TEXT NOT NULL,"                       \
  "  component_kind TEXT NOT NULL, provenance TEXT NOT NULL,"                  \
  "  in_total INTEGER NOT NULL,"                                               \
  "  energy_j REAL, net_energy_j REAL, avg_power_w REAL, peak_power_w REAL,"   \
  "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered,"          \
  "               component));"                                                \
  "CREATE TABLE bench_predictions ("                                           \
  "  bench_id INTEGER NOT NULL REFERENCES benches(id),"                        \
  "  model TEXT NOT NULL, batch_size INTEGER NOT NULL, kind TEXT NOT NULL,"    \
  "  made_at TEXT NOT NULL, profile_epochs REAL, profile_steps INTEGER,"       \
  "  target_steps INTEGER, target_samples INTEGER, level REAL,"                \
  "  duration_s REAL, duration_lo_s REAL, duration_hi_s REAL,"                 \
  "  energy_j REAL, energy_lo_j REAL, energy_hi_j REAL,"                       \
  "  net_energy_j REAL, provenance TEXT,"                                      \
  "  actual_duration_s REAL, actual_energy_j REAL,"                            \
  "  duration_error_rel REAL, energy_error_rel REAL,"                          \
  "  PRIMARY KEY (bench_id, model, batch_size, kind));"

#endif
