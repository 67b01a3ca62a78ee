/* store.c: see greenml/store.h. The schema is a list of migrations; the
 * database's PRAGMA user_version counts how many have been applied. */
#define _GNU_SOURCE
#include "greenml/store.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "store/store_internal.h"

static const char *const migrations[] = {
    /* 1: the meter's tables. */
    "CREATE TABLE hosts ("
    "  id INTEGER PRIMARY KEY,"
    "  fingerprint TEXT NOT NULL UNIQUE,"
    "  hostname TEXT, cpu_model TEXT, logical_cpus INTEGER, sockets INTEGER,"
    "  mem_total_bytes REAL, dimms_json TEXT, gpus_json TEXT, kernel TEXT,"
    "  virtualised INTEGER, virt_detail TEXT,"
    "  first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id),"
    "  kind TEXT NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  command TEXT, tags_json TEXT,"
    "  interval_s REAL NOT NULL,"
    "  greenml_version TEXT NOT NULL,"
    "  complete INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER, duration_s REAL,"
    "  total_energy_j REAL, total_net_energy_j REAL,"
    "  carbon_g REAL, carbon_g_per_kwh REAL, carbon_source TEXT, pue REAL,"
    "  sampler_cpu_s REAL, dropped_samples INTEGER,"
    "  idle_baseline_id INTEGER REFERENCES idle_baselines(id));"
    "CREATE TABLE components ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  idx INTEGER NOT NULL,"
    "  name TEXT NOT NULL, kind TEXT NOT NULL, domain TEXT NOT NULL,"
    "  source TEXT NOT NULL, detail TEXT,"
    "  provenance TEXT NOT NULL, signal TEXT NOT NULL,"
    "  in_total INTEGER NOT NULL,"
    "  energy_j REAL, net_energy_j REAL, avg_power_w REAL, peak_power_w REAL,"
    "  idle_power_w REAL, power_energy_j REAL, xcheck_rel REAL,"
    "  wraps INTEGER, resets INTEGER, read_errors INTEGER,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE metrics ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  idx INTEGER NOT NULL,"
    "  name TEXT NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL,"
    "  mean REAL, max REAL,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE samples ("
    "  run_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  component_idx INTEGER NOT NULL,"
    "  t_s REAL NOT NULL, energy_j REAL NOT NULL, power_w REAL,"
    "  PRIMARY KEY (run_id, seq, component_idx)) WITHOUT ROWID;"
    "CREATE TABLE metric_samples ("
    "  run_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  metric_idx INTEGER NOT NULL, value REAL,"
    "  PRIMARY KEY (run_id, seq, metric_idx)) WITHOUT ROWID;"
    "CREATE TABLE phases ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  idx INTEGER NOT NULL, name TEXT NOT NULL,"
    "  start_s REAL NOT NULL, duration_s REAL NOT NULL,"
    "  energy_j REAL, net_energy_j REAL, ended_by_stop INTEGER,"
    "  PRIMARY KEY (run_id, idx));"
    "CREATE TABLE phase_components ("
    "  run_id INTEGER NOT NULL, phase_idx INTEGER NOT NULL,"
    "  component_idx INTEGER NOT NULL,"
    "  energy_j REAL, net_energy_j REAL,"
    "  PRIMARY KEY (run_id, phase_idx, component_idx));"
    "CREATE TABLE idle_baselines ("
    "  id INTEGER PRIMARY KEY,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id),"
    "  run_id INTEGER REFERENCES runs(id),"
    "  measured_at TEXT NOT NULL, duration_s REAL NOT NULL);"
    "CREATE TABLE idle_components ("
    "  baseline_id INTEGER NOT NULL REFERENCES idle_baselines(id),"
    "  name TEXT NOT NULL, source TEXT NOT NULL,"
    "  mean_power_w REAL NOT NULL, sd_power_w REAL, n_intervals INTEGER,"
    "  PRIMARY KEY (baseline_id, name, source));"
    "CREATE INDEX runs_host ON runs(host_id);"
    "CREATE INDEX idle_host ON idle_baselines(host_id, id);",
    /* 2: the study runner (greenml bench). */
    GM__STORE_BENCH_SCHEMA,
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int user_version(sqlite3 *db) {
  sqlite3_stmt *s = NULL;
  int v = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) ==
          SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return v;
}

int gm_store_schema_version(struct gm_store *st) {
  return user_version(st->db);
}

enum gm_status gm_store_open(const char *path, struct gm_store **out, char *err,
                             size_t err_size) {
  *out = NULL;
  struct gm_store *st = calloc(1, sizeof(*st));
  if (!st)
    return GM_ERR_NO_MEMORY;
  enum gm_status rc = GM_OK;
  if (sqlite3_open_v2(path, &st->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_FULLMUTEX,
                      NULL) != SQLITE_OK) {
    gm__fmt(st->err, sizeof(st->err), "cannot open database '%s': %s", path,
            st->db ? sqlite3_errmsg(st->db) : "out of memory");
    rc = GM_ERR_DATABASE;
    goto fail;
  }
  sqlite3_busy_timeout(st->db, 5000);
  int v = user_version(st->db);
  if (v < 0) {
    gm__fmt(st->err, sizeof(st->err),
            "'%s' is not a greenml database (or is corrupt): %s", path,
            sqlite3_errmsg(st->db));
    rc = GM_ERR_DATABASE;
    goto fail;
  }
  if (v > N_MIGRATIONS) {
    gm__fmt(st->err, sizeof(st->err),
            "database '%s' has schema version %d but this greenml knows up "
            "to %d; it was left untouched: use a newer greenml, or --db with "
            "another file",
            path, v, N_MIGRATIONS);
    rc = GM_ERR_SCHEMA_NEWER;
    goto fail;
  }
  char *msg = NULL;
  if (sqlite3_exec(st->db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON;",
                   NULL, NULL, &msg) != SQLITE_OK) {
    gm__fmt(st->err, sizeof(st->err), "cannot configure '%s': %s", path,
            msg ? msg : "?");
    sqlite3_free(msg);
    rc = GM_ERR_DATABASE;
    goto fail;
  }
  for (int i = v; i < N_MIGRATIONS; i++) {
    char sql[64];
    gm__fmt(sql, sizeof(sql), "PRAGMA user_version=%d;", i + 1);
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(st->db, migrations[i], NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
      gm__fmt(st->err, sizeof(st->err),
              "cannot migrate '%s' to schema version %d: %s", path, i + 1,
              msg ? msg : sqlite3_errmsg(st->db));
      sqlite3_free(msg);
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      rc = GM_ERR_DATABASE;
      goto fail;
    }
  }
  if (sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO samples(run_id, seq, "
                         "component_idx, t_s, energy_j, power_w) "
                         "VALUES (?,?,?,?,?,?)",
                         -1, &st->ins_sample, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO metric_samples(run_id, seq, "
                         "metric_idx, value) VALUES (?,?,?,?)",
                         -1, &st->ins_metric, NULL) != SQLITE_OK) {
    rc = fail(st, "cannot prepare statements");
    goto fail;
  }
  *out = st;
  return GM_OK;
fail:
  if (err)
    gm__strlcpy(err, st->err, err_size);
  gm_store_close(st);
  return rc;
}

void gm_store_close(struct gm_store *st) {
  if (!st)
    return;
  if (st->in_tx)
    gm_store_commit(st);
  sqlite3_finalize(st->ins_sample);
  sqlite3_finalize(st->ins_metric);
  sqlite3_close(st->db);
  free(st);
}

const char *gm_store_last_error(const struct gm_store *st) {
  return st && st->err[0] ? st->err : "no error";
}

struct sqlite3 *gm_store_db(struct gm_store *st) {
  return st->db;
}

enum gm_status gm_store_put_host(struct gm_store *st, const struct gm_host *h,
                                 int64_t *host_id) {
  char now[32];
  utc_now(now, sizeof(now));
  sqlite3_stmt *s = NULL;
  const char *sql =
      "INSERT INTO hosts(fingerprint, hostname, cpu_model, logical_cpus, "
      "sockets, mem_total_bytes, dimms_json, gpus_json, kernel, virtualised, "
      "virt_detail, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(fingerprint) DO UPDATE SET dimms_json=excluded.dimms_json, "
      "gpus_json=excluded.gpus_json, kernel=excluded.kernel, "
      "virtualised=excluded.virtualised, virt_detail=excluded.virt_detail, "
      "last_seen=excluded.last_seen";
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot store the host");
  bind_text(s, 1, h->fingerprint);
  bind_text(s, 2, h->hostname);
  bind_text(s, 3, h->cpu_model);
  sqlite3_bind_int(s, 4, h->logical_cpus);
  sqlite3_bind_int(s, 5, h->sockets);
  bind_real(s, 6, h->mem_total_bytes);
  bind_text(s, 7, h->dimms_json);
  bind_text(s, 8, h->gpus_json);
  bind_text(s, 9, h->kernel);
  sqlite3_bind_int(s, 10, h->virtualised);
  bind_text(s, 11, h->virt_detail);
  bind_text(s, 12, now);
  bind_text(s, 13, now);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return fail(st, "cannot store the host");
  if (sqlite3_prepare_v2(st->db, "SELECT id FROM hosts WHERE fingerprint=?", -1,
                         &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the host");
  bind_text(s, 1, h->fingerprint);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *host_id = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? GM_OK : fail(st, "cannot read the host");
}

enum gm_status
gm_store_begin_run(struct gm_store *st, int64_t host_id,
                   const struct gm_run_meta *meta, size_t n_components,
                   const struct gm_component_info *components, size_t n_metrics,
                   const struct gm_metric_info *metrics, int64_t *run_id) {
  char now[32];
  utc_now(now, sizeof(now));
  enum gm_status rc = exec(st, "BEGIN IMMEDIATE", "cannot record the run");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          st->db,
          "INSERT INTO runs(host_id, kind, started_at, command, tags_json, "
          "interval_s, greenml_version, carbon_g_per_kwh, carbon_source, pue, "
          "idle_baseline_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int64(s, 1, host_id);
  bind_text(s, 2, meta->kind ? meta->kind : "measure");
  bind_text(s, 3, now);
  bind_text(s, 4, meta->command);
  bind_text(s, 5, meta->tags_json);
  sqlite3_bind_double(s, 6, meta->interval_s);
  bind_text(s, 7, GM_VERSION_STRING);
  bind_real(s, 8, meta->carbon_g_per_kwh);
  bind_text(s, 9, meta->carbon_source);
  bind_real(s, 10, meta->pue);
  if (meta->idle_baseline_id > 0)
    sqlite3_bind_int64(s, 11, meta->idle_baseline_id);
  else
    sqlite3_bind_null(s, 11);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  *run_id = sqlite3_last_insert_rowid(st->db);

  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO components(run_id, idx, name, kind, "
                         "domain, source, detail, provenance, signal, "
                         "in_total) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < n_components; i++) {
    const struct gm_component_info *ci = &components[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *run_id);
    sqlite3_bind_int64(s, 2, (int64_t)i);
    bind_text(s, 3, ci->name);
    bind_text(s, 4, gm_kind_name(ci->kind));
    bind_text(s, 5, gm_domain_name(ci->domain));
    bind_text(s, 6, ci->source);
    bind_text(s, 7, ci->detail);
    bind_text(s, 8, gm_provenance_name(ci->provenance));
    bind_text(s, 9, gm_provenance_detail(ci->provenance));
    sqlite3_bind_int(s, 10, ci->in_total);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO metrics(run_id, idx, name, unit, "
                         "source) VALUES (?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < n_metrics; i++) {
    const struct gm_metric_info *mi = &metrics[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *run_id);
    sqlite3_bind_int64(s, 2, (int64_t)i);
    bind_text(s, 3, mi->name);
    bind_text(s, 4, mi->unit);
    bind_text(s, 5, mi->source);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  return exec(st, "COMMIT", "cannot record the run");
fail:
  rc = fail(st, "cannot record the run");
  sqlite3_finalize(s);
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

enum gm_status gm_store_add_sample(struct gm_store *st, int64_t run_id,
                                   const struct gm_sample *smp) {
  if (!st->in_tx) {
    enum gm_status rc = exec(st, "BEGIN", "cannot store samples");
    if (rc != GM_OK)
      return rc;
    st->in_tx = true;
  }
  double t_s = (double)smp->t_ns / 1e9;
  for (size_t c = 0; c < smp->n_components; c++) {
    sqlite3_stmt *s = st->ins_sample;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, (int64_t)smp->seq);
    sqlite3_bind_int64(s, 3, (int64_t)c);
    sqlite3_bind_double(s, 4, t_s);
    sqlite3_bind_double(s, 5, smp->energy_j[c]);
    bind_real(s, 6, smp->seq == 0 ? NAN : smp->power_w[c]);
    if (sqlite3_step(s) != SQLITE_DONE)
      return fail(st, "cannot store a sample");
  }
  for (size_t k = 0; k < smp->n_metrics; k++) {
    if (isnan(smp->metrics[k]))
      continue;
    sqlite3_stmt *s = st->ins_metric;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, (int64_t)smp->seq);
    sqlite3_bind_int64(s, 3, (int64_t)k);
    sqlite3_bind_double(s, 4, smp->metrics[k]);
    if (sqlite3_step(s) != SQLITE_DONE)
      return fail(st, "cannot store a sample");
  }
  return GM_OK;
}

enum gm_status gm_store_commit(struct gm_store *st) {
  if (!st->in_tx)
    return GM_OK;
  st->in_tx = false;
  return exec(st, "COMMIT", "cannot commit samples");
}

enum gm_status gm_store_finish_run(struct gm_store *st, int64_t run_id,
                                   const struct gm_run_result *res,
                                   const struct gm_run_record *rec) {
  enum gm_status rc = gm_store_commit(st);
  if (rc != GM_OK)
    return rc;
  rc = exec(st, "BEGIN IMMEDIATE", "cannot finish the run");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  size_t nc = rec->n_components;
  if (sqlite3_prepare_v2(
          st->db,
          "UPDATE components SET energy_j=?, net_energy_j=?, avg_power_w=?, "
          "peak_power_w=?, idle_power_w=?, power_energy_j=?, xcheck_rel=?, "
          "wraps=?, resets=?, read_errors=? WHERE run_id=? AND idx=?",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < nc; i++) {
    const struct gm_component_stats cs = rec->components[i].stats;
    double idle = rec->components[i].idle_w;
    sqlite3_reset(s);
    sqlite3_bind_double(s, 1, cs.energy_j);
    bind_real(s, 2, rec->components[i].net_energy_j);
    sqlite3_bind_double(s, 3, cs.avg_power_w);
    sqlite3_bind_double(s, 4, cs.peak_power_w);
    bind_real(s, 5, idle);
    bind_real(s, 6, cs.power_energy_j >= 0 ? cs.power_energy_j : NAN);
    bind_real(s, 7, cs.xcheck_rel >= 0 ? cs.xcheck_rel : NAN);
    sqlite3_bind_int64(s, 8, (int64_t)cs.wraps);
    sqlite3_bind_int64(s, 9, (int64_t)cs.resets);
    sqlite3_bind_int64(s, 10, (int64_t)cs.read_errors);
    sqlite3_bind_int64(s, 11, run_id);
    sqlite3_bind_int64(s, 12, (int64_t)i);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "UPDATE metrics SET mean=?, max=? WHERE run_id=? AND "
                         "idx=?",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t k = 0; k < rec->n_metrics; k++) {
    sqlite3_reset(s);
    bind_real(s, 1, rec->metrics[k].mean);
    bind_real(s, 2, rec->metrics[k].max);
    sqlite3_bind_int64(s, 3, run_id);
    sqlite3_bind_int64(s, 4, (int64_t)k);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  s = NULL;

  sqlite3_stmt *pc = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO phases(run_id, idx, name, "
                         "start_s, duration_s, energy_j, net_energy_j, "
                         "ended_by_stop) VALUES (?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "INSERT OR REPLACE INTO phase_components(run_id, "
                         "phase_idx, component_idx, energy_j, net_energy_j) "
                         "VALUES (?,?,?,?,?)",
                         -1, &pc, NULL) != SQLITE_OK) {
    sqlite3_finalize(pc);
    goto fail;
  }
  for (size_t p = 0; p < rec->n_phases; p++) {
    const struct gm_run_phase *ph = &rec->phases[p];
    for (size_t c = 0; c < nc; c++) {
      sqlite3_reset(pc);
      sqlite3_bind_int64(pc, 1, run_id);
      sqlite3_bind_int64(pc, 2, (int64_t)p);
      sqlite3_bind_int64(pc, 3, (int64_t)c);
      sqlite3_bind_double(pc, 4, ph->energy_j[c]);
      bind_real(pc, 5, ph->net_energy_j[c]);
      if (sqlite3_step(pc) != SQLITE_DONE) {
        sqlite3_finalize(pc);
        goto fail;
      }
    }
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, (int64_t)p);
    bind_text(s, 3, ph->name);
    sqlite3_bind_double(s, 4, ph->start_s);
    sqlite3_bind_double(s, 5, ph->duration_s);
    sqlite3_bind_double(s, 6, ph->total.gross_j);
    bind_real(s, 7, ph->total.net_j);
    sqlite3_bind_int(s, 8, ph->ended_by_stop);
    if (sqlite3_step(s) != SQLITE_DONE) {
      sqlite3_finalize(pc);
      goto fail;
    }
  }
  sqlite3_finalize(pc);
  sqlite3_finalize(s);
  s = NULL;

  if (sqlite3_prepare_v2(
          st->db,
          "UPDATE runs SET complete=1, exit_code=?, duration_s=?, "
          "total_energy_j=?, total_net_energy_j=?, carbon_g=?, "
          "sampler_cpu_s=?, dropped_samples=? WHERE id=?",
          -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int(s, 1, res->exit_code);
  sqlite3_bind_double(s, 2, rec->duration_s);
  sqlite3_bind_double(s, 3, rec->total.gross_j);
  bind_real(s, 4, rec->total.net_j);
  bind_real(s, 5, res->carbon_g);
  sqlite3_bind_double(s, 6, rec->meter_cpu_s);
  sqlite3_bind_int64(s, 7, (int64_t)rec->dropped_samples);
  sqlite3_bind_int64(s, 8, run_id);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  return exec(st, "COMMIT", "cannot finish the run");
fail:
  rc = fail(st, "cannot finish the run");
  sqlite3_finalize(s);
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

enum gm_status gm_store_save_idle(struct gm_store *st, int64_t host_id,
                                  int64_t run_id,
                                  const struct gm_idle_baseline *b,
                                  int64_t *baseline_id) {
  char now[32];
  utc_now(now, sizeof(now));
  enum gm_status rc = exec(st, "BEGIN IMMEDIATE", "cannot store the baseline");
  if (rc != GM_OK)
    return rc;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO idle_baselines(host_id, run_id, "
                         "measured_at, duration_s) VALUES (?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_bind_int64(s, 1, host_id);
  if (run_id > 0)
    sqlite3_bind_int64(s, 2, run_id);
  else
    sqlite3_bind_null(s, 2);
  bind_text(s, 3, now);
  sqlite3_bind_double(s, 4, b->duration_s);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto fail;
  sqlite3_finalize(s);
  s = NULL;
  *baseline_id = sqlite3_last_insert_rowid(st->db);
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO idle_components(baseline_id, name, "
                         "source, mean_power_w, sd_power_w, n_intervals) "
                         "VALUES (?,?,?,?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < b->n; i++) {
    const struct gm_idle_entry *e = &b->entries[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, *baseline_id);
    bind_text(s, 2, e->name);
    bind_text(s, 3, e->source);
    sqlite3_bind_double(s, 4, e->mean_power_w);
    sqlite3_bind_double(s, 5, e->sd_power_w);
    sqlite3_bind_int64(s, 6, (int64_t)e->n_intervals);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto fail;
  }
  sqlite3_finalize(s);
  return exec(st, "COMMIT", "cannot store the baseline");
fail:
  rc = fail(st, "cannot store the baseline");
  sqlite3_finalize(s);
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

/* The baseline that sql (one ? bound to key) selects, with its entries. */
static enum gm_status load_idle(struct gm_store *st, const char *sql,
                                int64_t key, const char *none,
                                struct gm_idle_baseline **out) {
  *out = NULL;
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return fail(st, "cannot read the idle baseline");
  sqlite3_bind_int64(s, 1, key);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) {
      gm__fmt(st->err, sizeof(st->err), "%s", none);
      return GM_ERR_NOT_FOUND;
    }
    return fail(st, "cannot read the idle baseline");
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
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(st->db,
                         "SELECT name, source, mean_power_w, sd_power_w, "
                         "n_intervals FROM idle_components WHERE "
                         "baseline_id=? ORDER BY name",
                         -1, &s, NULL) != SQLITE_OK) {
    gm_idle_baseline_free(b);
    return fail(st, "cannot read the idle baseline");
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
  }
  sqlite3_finalize(s);
  *out = b;
  return GM_OK;
}

enum gm_status gm_store_load_idle(struct gm_store *st, int64_t host_id,
                                  struct gm_idle_baseline **out) {
  return load_idle(st,
                   "SELECT id, measured_at, duration_s FROM idle_baselines "
                   "WHERE host_id=? ORDER BY id DESC LIMIT 1",
                   host_id, "no idle baseline stored for this host", out);
}

enum gm_status gm_store_load_idle_id(struct gm_store *st, int64_t baseline_id,
                                     struct gm_idle_baseline **out) {
  return load_idle(st,
                   "SELECT id, measured_at, duration_s FROM idle_baselines "
                   "WHERE id=?",
                   baseline_id, "no idle baseline with that id", out);
}
