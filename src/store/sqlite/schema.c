/* schema.c: the SQLite store's ops table, opening (read-write: create,
 * configure, migrate; read-only: none of that; both only after check.c has
 * found the file to be greenml's, of a schema it knows) and the schema, a
 * list of migrations whose count the database's PRAGMA user_version
 * records; each one also sets greenml's PRAGMA application_id. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite/sqlite.h"

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
    "CREATE TABLE benches ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id),"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  config_json TEXT NOT NULL, versions_json TEXT, host_json TEXT,"
    "  idle_baseline_id INTEGER REFERENCES idle_baselines(id));"
    "CREATE TABLE bench_models ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL,"
    "  params INTEGER, trainable_params INTEGER, param_bytes INTEGER,"
    "  buffer_bytes INTEGER, size_bytes INTEGER, macs INTEGER,"
    "  macs_per_param REAL,"
    "  PRIMARY KEY (bench_id, model));"
    "CREATE TABLE bench_phases ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, epoch INTEGER NOT NULL, metered INTEGER NOT NULL,"
    "  run_id INTEGER REFERENCES runs(id), phase_idx INTEGER,"
    "  ended_at TEXT NOT NULL, start_s REAL, duration_s REAL NOT NULL,"
    "  steps INTEGER, samples INTEGER, step_time_s REAL, samples_per_s REAL,"
    "  loss REAL, accuracy REAL, lr REAL,"
    "  energy_j REAL, net_energy_j REAL, j_per_sample REAL,"
    "  net_j_per_sample REAL, avg_power_w REAL, peak_power_w REAL,"
    "  provenance TEXT,"
    "  cpu_util_pct REAL, dram_used_bytes REAL, gpu_util_pct REAL,"
    "  vram_used_bytes REAL,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered));"
    "CREATE TABLE bench_phase_components ("
    "  bench_id INTEGER NOT NULL, model TEXT NOT NULL,"
    "  batch_size INTEGER NOT NULL, kind TEXT NOT NULL, epoch INTEGER NOT NULL,"
    "  metered INTEGER NOT NULL, component TEXT NOT NULL,"
    "  component_kind TEXT NOT NULL, provenance TEXT NOT NULL,"
    "  in_total INTEGER NOT NULL,"
    "  energy_j REAL, net_energy_j REAL, avg_power_w REAL, peak_power_w REAL,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind, epoch, metered,"
    "               component));"
    "CREATE TABLE bench_predictions ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  made_at TEXT NOT NULL, profile_epochs REAL, profile_steps INTEGER,"
    "  target_steps INTEGER, target_samples INTEGER, level REAL,"
    "  duration_s REAL, duration_lo_s REAL, duration_hi_s REAL,"
    "  energy_j REAL, energy_lo_j REAL, energy_hi_j REAL,"
    "  net_energy_j REAL, provenance TEXT,"
    "  actual_duration_s REAL, actual_energy_j REAL,"
    "  duration_error_rel REAL, energy_error_rel REAL,"
    "  PRIMARY KEY (bench_id, model, batch_size, kind));",
    /* 3: a run whose samples are not all stored says why, how many are
     * lost and up to when every sample is stored. */
    "ALTER TABLE runs ADD COLUMN incomplete_cause TEXT;"
    "ALTER TABLE runs ADD COLUMN stored_until_s REAL;"
    "ALTER TABLE runs ADD COLUMN lost_samples INTEGER;",
    /* 4: what an idle baseline was measured with, so that it applies only
     * to runs measured the same way: each component's detail (the device,
     * or the model with its constants), the sampling interval and the
     * model flags; and how busy the CPU was (busy: stored although at or
     * above the threshold). Older baselines keep NULL details and apply to
     * nothing. */
    "ALTER TABLE idle_components ADD COLUMN detail TEXT;"
    "ALTER TABLE idle_baselines ADD COLUMN interval_s REAL;"
    "ALTER TABLE idle_baselines ADD COLUMN cpu_tdp_w REAL;"
    "ALTER TABLE idle_baselines ADD COLUMN dimm_capacitance_f REAL;"
    "ALTER TABLE idle_baselines ADD COLUMN cpu_util_pct REAL;"
    "ALTER TABLE idle_baselines ADD COLUMN busy INTEGER NOT NULL DEFAULT 0;",
    /* 5: what a run lacks and what its readings went through: components
     * found but not measurable, a total marked partial (with why), and per
     * component the glitches discarded, the plausible ceiling with its
     * origin, and the times a counter stopped or a device was lost. */
    "CREATE TABLE run_missing ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  idx INTEGER NOT NULL,"
    "  name TEXT NOT NULL, source TEXT, kind TEXT NOT NULL,"
    "  in_total INTEGER NOT NULL, reason TEXT,"
    "  PRIMARY KEY (run_id, idx));"
    "ALTER TABLE runs ADD COLUMN total_partial INTEGER;"
    "ALTER TABLE runs ADD COLUMN partial_why TEXT;"
    "ALTER TABLE phases ADD COLUMN total_partial INTEGER;"
    "ALTER TABLE components ADD COLUMN glitches INTEGER;"
    "ALTER TABLE components ADD COLUMN max_power_w REAL;"
    "ALTER TABLE components ADD COLUMN max_power_origin TEXT;"
    "ALTER TABLE components ADD COLUMN counter_stopped_at_s REAL;"
    "ALTER TABLE components ADD COLUMN lost_at_s REAL;",
    /* 6: the energy attributed to the measured command (its process tree or
     * cgroup): per component gross, net, share-seconds, the energy of
     * windows whose share was unknown and the method; per run the subject,
     * the totals, their provenance and whether they are partial; per phase
     * the totals. */
    "ALTER TABLE components ADD COLUMN attributed_j REAL;"
    "ALTER TABLE components ADD COLUMN attributed_net_j REAL;"
    "ALTER TABLE components ADD COLUMN attributed_share_s REAL;"
    "ALTER TABLE components ADD COLUMN attributed_unknown_j REAL;"
    "ALTER TABLE components ADD COLUMN attributed_method TEXT;"
    "ALTER TABLE runs ADD COLUMN attributed_to TEXT;"
    "ALTER TABLE runs ADD COLUMN attributed_j REAL;"
    "ALTER TABLE runs ADD COLUMN attributed_net_j REAL;"
    "ALTER TABLE runs ADD COLUMN attributed_provenance TEXT;"
    "ALTER TABLE runs ADD COLUMN attributed_partial INTEGER;"
    "ALTER TABLE phases ADD COLUMN attributed_j REAL;"
    "ALTER TABLE phases ADD COLUMN attributed_net_j REAL;",
    /* 7: identity that survives copies (greenml merge): the database's own
     * id, and for every run, idle baseline and bench where it was first
     * stored: origin_db, that database's id (NULL: this one), and
     * origin_id, its id there (NULL: its own). A database that already
     * holds a host takes an id derived from its first host
     * (gm_derived_uid), the one a merge reads it with before it is
     * migrated; a new one a random 128-bit id. */
    "CREATE TABLE store_meta ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  db_uid TEXT NOT NULL);"
    "INSERT INTO store_meta(id, db_uid) SELECT 1, COALESCE("
    "  (SELECT gm_derived_uid(fingerprint, first_seen) FROM hosts"
    "   ORDER BY id LIMIT 1), lower(hex(randomblob(16))));"
    "ALTER TABLE runs ADD COLUMN origin_db TEXT;"
    "ALTER TABLE runs ADD COLUMN origin_id INTEGER;"
    "ALTER TABLE idle_baselines ADD COLUMN origin_db TEXT;"
    "ALTER TABLE idle_baselines ADD COLUMN origin_id INTEGER;"
    "ALTER TABLE benches ADD COLUMN origin_db TEXT;"
    "ALTER TABLE benches ADD COLUMN origin_id INTEGER;"
    "CREATE UNIQUE INDEX runs_origin ON runs(origin_db, origin_id)"
    "  WHERE origin_db IS NOT NULL;"
    "CREATE UNIQUE INDEX idle_origin ON idle_baselines(origin_db, origin_id)"
    "  WHERE origin_db IS NOT NULL;"
    "CREATE UNIQUE INDEX benches_origin ON benches(origin_db, origin_id)"
    "  WHERE origin_db IS NOT NULL;",
    /* 8: where each bench row ran (a scheduler's job ids), metered or not:
     * a JSON object, or NULL. */
    "ALTER TABLE bench_phases ADD COLUMN tags_json TEXT;",
    /* 9: the numerical precision of every bench row and prediction ("fp32",
     * "bf16"), part of their keys: a bench may measure the same model,
     * batch size, kind and epoch in two precisions. A primary key cannot be
     * altered in SQLite: each table is rebuilt (created anew with the
     * column, the rows copied as "fp32", the old one dropped, the new one
     * renamed), the column last so that the others keep their places. */
    "CREATE TABLE bench_phases_9 ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, epoch INTEGER NOT NULL, metered INTEGER NOT NULL,"
    "  run_id INTEGER REFERENCES runs(id), phase_idx INTEGER,"
    "  ended_at TEXT NOT NULL, start_s REAL, duration_s REAL NOT NULL,"
    "  steps INTEGER, samples INTEGER, step_time_s REAL, samples_per_s REAL,"
    "  loss REAL, accuracy REAL, lr REAL,"
    "  energy_j REAL, net_energy_j REAL, j_per_sample REAL,"
    "  net_j_per_sample REAL, avg_power_w REAL, peak_power_w REAL,"
    "  provenance TEXT,"
    "  cpu_util_pct REAL, dram_used_bytes REAL, gpu_util_pct REAL,"
    "  vram_used_bytes REAL, tags_json TEXT,"
    "  precision TEXT NOT NULL DEFAULT 'fp32',"
    "  PRIMARY KEY (bench_id, model, batch_size, precision, kind, epoch,"
    "               metered));"
    "INSERT INTO bench_phases_9 SELECT *, 'fp32' FROM bench_phases;"
    "DROP TABLE bench_phases;"
    "ALTER TABLE bench_phases_9 RENAME TO bench_phases;"
    "CREATE TABLE bench_phase_components_9 ("
    "  bench_id INTEGER NOT NULL, model TEXT NOT NULL,"
    "  batch_size INTEGER NOT NULL, kind TEXT NOT NULL, epoch INTEGER NOT NULL,"
    "  metered INTEGER NOT NULL, component TEXT NOT NULL,"
    "  component_kind TEXT NOT NULL, provenance TEXT NOT NULL,"
    "  in_total INTEGER NOT NULL,"
    "  energy_j REAL, net_energy_j REAL, avg_power_w REAL, peak_power_w REAL,"
    "  precision TEXT NOT NULL DEFAULT 'fp32',"
    "  PRIMARY KEY (bench_id, model, batch_size, precision, kind, epoch,"
    "               metered, component));"
    "INSERT INTO bench_phase_components_9 SELECT *, 'fp32'"
    "  FROM bench_phase_components;"
    "DROP TABLE bench_phase_components;"
    "ALTER TABLE bench_phase_components_9 RENAME TO bench_phase_components;"
    "CREATE TABLE bench_predictions_9 ("
    "  bench_id INTEGER NOT NULL REFERENCES benches(id),"
    "  model TEXT NOT NULL, batch_size INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  made_at TEXT NOT NULL, profile_epochs REAL, profile_steps INTEGER,"
    "  target_steps INTEGER, target_samples INTEGER, level REAL,"
    "  duration_s REAL, duration_lo_s REAL, duration_hi_s REAL,"
    "  energy_j REAL, energy_lo_j REAL, energy_hi_j REAL,"
    "  net_energy_j REAL, provenance TEXT,"
    "  actual_duration_s REAL, actual_energy_j REAL,"
    "  duration_error_rel REAL, energy_error_rel REAL,"
    "  precision TEXT NOT NULL DEFAULT 'fp32',"
    "  PRIMARY KEY (bench_id, model, batch_size, precision, kind));"
    "INSERT INTO bench_predictions_9 SELECT *, 'fp32' FROM bench_predictions;"
    "DROP TABLE bench_predictions;"
    "ALTER TABLE bench_predictions_9 RENAME TO bench_predictions;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(N_MIGRATIONS == GM_STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* FNV-1a, 64 bit, over s from h. */
static uint64_t fnv1a(const char *s, uint64_t h) {
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= UINT64_C(1099511628211);
  }
  return h;
}

void gm__sq_derived_uid(const char *fingerprint, const char *first_seen,
                        char out[33]) {
  /* two 64-bit hashes of the same text from different offsets: an
   * identity, not a security property */
  uint64_t a = UINT64_C(14695981039346656037), b = UINT64_C(0x6c62272e07bb0142);
  a = fnv1a(first_seen, fnv1a("\n", fnv1a(fingerprint, a)));
  b = fnv1a(first_seen, fnv1a("\n", fnv1a(fingerprint, b)));
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)a,
           (unsigned long long)b);
}

/* gm_derived_uid(fingerprint, first_seen): SQL's view of
 * gm__sq_derived_uid, for migration 7 and for reading an older input. */
static void derived_uid_fn(sqlite3_context *ctx, int argc, sqlite3_value **v) {
  (void)argc;
  char uid[33];
  gm__sq_derived_uid((const char *)sqlite3_value_text(v[0]),
                     (const char *)sqlite3_value_text(v[1]), uid);
  sqlite3_result_text(ctx, uid, -1, SQLITE_TRANSIENT);
}

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

bool gm__sq_has_table(struct gm_store *st, const char *table) {
  sqlite3_stmt *s = NULL;
  bool found = false;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT 1 FROM sqlite_master WHERE type='table' AND "
                         "name=?",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
  }
  sqlite3_finalize(s);
  return found;
}

static int schema_version(struct gm_store *st) {
  return user_version(gm__sq_db(st));
}

static void close_db(struct gm_store *st) {
  struct gm__sqlite *q = gm__sq(st);
  if (!q)
    return;
  if (q->in_tx)
    gm__sq_commit(st);
  gm__sq_finalize_inserts(st);
  sqlite3_close(q->db);
  free(q->path);
  free(q);
  st->impl = NULL;
}

/* A read-only open refuses what is not there before SQLite sees it (which
 * would create it) and what is not a file. */
static enum gm_status check_file(struct gm_store *st, const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0)
    return errno == ENOENT
               ? gm__store_error(st, GM_ERR_NOT_FOUND, "no database at '%s'",
                                 path)
               : gm__store_error(st, GM_ERR_IO,
                                 "cannot read the database '%s': %s", path,
                                 strerror(errno));
  if (!S_ISREG(sb.st_mode))
    return gm__store_error(st, GM_ERR_INVALID_ARG,
                           "'%s' is not a database file", path);
  return GM_OK;
}

/* A refused database is closed without the checkpoint that the last
 * connection to a WAL database makes: nothing of it may change. */
static enum gm_status refuse(struct gm_store *st, enum gm_status rc) {
  sqlite3_db_config(gm__sq_db(st), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  return rc;
}

static enum gm_status refuse_newer(struct gm_store *st, const char *path,
                                   int v) {
  gm__store_error(st, GM_ERR_SCHEMA_NEWER,
                  "database '%s' has schema version %d but this greenml "
                  "knows up to %d; it was left untouched: use a newer "
                  "greenml, or --db with another file",
                  path, v, N_MIGRATIONS);
  return refuse(st, GM_ERR_SCHEMA_NEWER);
}

/* Configures a read-write database and applies the migrations it lacks,
 * each in a transaction that holds the write lock and reads the version
 * again: another greenml may be migrating the same file. */
static enum gm_status migrate(struct gm_store *st, const char *path) {
  sqlite3 *db = gm__sq_db(st);
  char *msg = NULL;
  if (sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   " PRAGMA foreign_keys=ON;",
                   NULL, NULL, &msg) != SQLITE_OK) {
    char what[1200];
    snprintf(what, sizeof(what), "cannot configure '%s'", path);
    gm__sq_fail_msg(st, what, msg ? msg : "?");
    sqlite3_free(msg);
    return GM_ERR_DATABASE;
  }
  while (user_version(db) != N_MIGRATIONS) {
    char what[1200], sql[96];
    snprintf(what, sizeof(what), "cannot migrate '%s'", path);
    if (gm__sq_exec(st, "BEGIN IMMEDIATE", what) != GM_OK)
      return GM_ERR_DATABASE;
    int v = user_version(db);
    if (v > N_MIGRATIONS) {
      gm__sq_abort(st, NULL);
      return refuse_newer(st, path, v);
    }
    if (v < 0 || v == N_MIGRATIONS) {
      gm__sq_abort(st, NULL);
      if (v < 0)
        return gm__sq_fail(st, what);
      break;
    }
    gm__fmt(sql, sizeof(sql),
            "PRAGMA user_version=%d; PRAGMA application_id=%d;", v + 1,
            GM__SQ_APPLICATION_ID);
    snprintf(what, sizeof(what), "cannot migrate '%s' to schema version %d",
             path, v + 1);
    if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
      gm__sq_fail_msg(st, what, msg);
      sqlite3_free(msg);
      gm__sq_abort(st, NULL);
      return GM_ERR_DATABASE;
    }
  }
  return GM_OK;
}

static void set_lock_wait(struct gm_store *st) {
  gm__sq_set_wait(st, st->lock_wait_s);
}

static enum gm_status open_db(struct gm_store *st, const char *path,
                              bool read_only) {
  enum gm_status rc;
  if (!*path) /* SQLite would open a private temporary database */
    return gm__store_error(st, GM_ERR_INVALID_ARG,
                           "no file in the store location: give "
                           "sqlite:PATH");
  if (read_only && (rc = check_file(st, path)) != GM_OK)
    return rc;
  /* Newer, foreign and non-SQLite files are refused before SQLite opens
   * them, and so are left as they are. */
  if ((rc = gm__sq_check_file(st, path, N_MIGRATIONS)) != GM_OK)
    return rc;
  char wal[4200];
  struct stat wal_sb;
  bool had_wal =
      read_only &&
      (size_t)snprintf(wal, sizeof(wal), "%s-wal", path) < sizeof(wal) &&
      stat(wal, &wal_sb) == 0;
  struct gm__sqlite *q = calloc(1, sizeof(*q));
  if (!q)
    return GM_ERR_NO_MEMORY;
  st->impl = q;
  if (!(q->path = strdup(path)))
    return GM_ERR_NO_MEMORY;
  /* Read-only opens without SQLITE_OPEN_CREATE (a file that vanished is not
   * made again) and with query_only, so nothing can be written. It is not
   * SQLITE_OPEN_READONLY: such a reader of a WAL database leaves the -wal
   * and -shm files behind, where the last connection to close removes
   * them; an unwritable file is still opened read-only by SQLite. A
   * handle is used by one thread at a time (greenml/store.h), so the
   * connection goes without SQLite's mutex, which cost time on every call. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (read_only ? 0 : SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
    gm__store_error(st, GM_ERR_DATABASE, "cannot open database '%s': %s", path,
                    q->db ? sqlite3_errmsg(q->db) : "out of memory");
    return GM_ERR_DATABASE;
  }
  gm__sq_set_wait(st, st->lock_wait_s);
  sqlite3_create_function(q->db, "gm_derived_uid", 2,
                          SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                          derived_uid_fn, NULL, NULL);
  /* A -wal file there before this open belongs to another connection (or
   * to one that ended without its checkpoint): a reader never checkpoints
   * it into the database, which would write the file. */
  if (read_only && had_wal)
    sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  if (read_only && sqlite3_exec(q->db, "PRAGMA query_only=ON", NULL, NULL,
                                NULL) != SQLITE_OK)
    return refuse(st, gm__sq_fail(st, "cannot open the database read-only"));
  int v = user_version(q->db);
  if (v < 0) {
    char what[1200];
    snprintf(what, sizeof(what), "cannot read the database '%s'", path);
    return refuse(st, gm__sq_fail(st, what));
  }
  if (v > N_MIGRATIONS) /* made newer since check.c read it */
    return refuse_newer(st, path, v);
  q->version = v;
  if (read_only)
    return GM_OK;
  if ((rc = migrate(st, path)) != GM_OK)
    return rc;
  q->version = N_MIGRATIONS;
  return gm__sq_prepare_inserts(st);
}

static const char *where(struct gm_store *st) { return gm__sq(st)->path; }

const struct gm__store_ops gm__store_sqlite = {
    .api_version = GM__STORE_API_VERSION,
    .name = "sqlite",
    .scheme = "sqlite",
    .locations = "a file path, or sqlite:PATH",
    .paths = true,
    .open = open_db,
    .close = close_db,
    .schema_version = schema_version,
    .set_lock_wait = set_lock_wait,
    .put_host = gm__sq_put_host,
    .begin_run = gm__sq_begin_run,
    .write_samples = gm__sq_write_samples,
    .finish_run = gm__sq_finish_run,
    .mark_incomplete = gm__sq_mark_incomplete,
    .save_idle = gm__sq_save_idle,
    .bench_create = gm__sq_bench_create,
    .bench_update = gm__sq_bench_update,
    .bench_put_model = gm__sq_bench_put_model,
    .bench_add_phase = gm__sq_bench_add_phase,
    .bench_put_prediction = gm__sq_bench_put_prediction,
    .load_idle = gm__sq_load_idle,
    .bench_find = gm__sq_bench_find,
    .bench_has_phase = gm__sq_bench_has_phase,
    .list_runs = gm__sq_list_runs,
    .load_benches = gm__sq_load_benches,
    .load_series = gm__sq_load_series,
    .load_run_phases = gm__sq_load_run_phases,
    .bench_flags = gm__sq_bench_flags,
    .bench_work = gm__sq_bench_work,
    .bench_summary = gm__sq_bench_summary,
    .bench_overhead = gm__sq_bench_overhead,
    .merge_source = &gm__sq_merge_source,
    .merge_sink = &gm__sq_merge_sink,
    .where = where,
};
