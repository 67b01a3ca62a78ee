/* test_store.c: what is particular to the SQLite store (the contract all
 * stores share is test_store_contract.c): the tables and the WAL journal, a
 * refusal to touch databases from a newer schema (not even the WAL switch),
 * a whole run written through the meter's callbacks and checked row by row,
 * the migration from schema 1, and a read-only open that leaves the file
 * alone. Real SQLite files in a temp dir, checked with a connection of the
 * test's own. */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greenml/host.h"
#include "greenml/meter.h"
#include "greenml/store.h"
#include "helpers.h"

static char *fake_machine(void) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/stat", "cpu  1 0 1 8 0 0 0 0 0 0\ncpu0 1 0 1 8\n");
  gmt_write(root, "proc/meminfo", "MemTotal: 8388608 kB\nMemAvailable: 1 kB\n");
  gmt_write(root, "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Test CPU 9000\n"
            "physical id\t: 0\nflags\t\t: fpu hypervisor\n");
  gmt_mkdirs(root, "sys");
  gmt_mkdirs(root, "dev");
  return root;
}

struct sink {
  struct gm_store *st;
  int64_t run_id;
  int errors;
};

static void sink_sample(void *ctx, const struct gm_sample *s) {
  struct sink *k = ctx;
  k->errors += gm_store_add_sample(k->st, k->run_id, s) != GM_OK;
}

static void sink_flush(void *ctx) {
  struct sink *k = ctx;
  k->errors += gm_store_commit(k->st) != GM_OK;
}

static struct gm_meter *meter_on(const char *root, char bufs[3][512],
                                 struct sink *k) {
  gmt_roots(root, bufs[0], bufs[1], bufs[2], 512);
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = bufs[0];
  c.procfs_root = bufs[1];
  c.devfs_root = bufs[2];
  c.no_gpu = true;
  c.interval_ns = 10 * 1000000;
  if (k) {
    c.on_sample = sink_sample;
    c.on_flush = sink_flush;
    c.callback_ctx = k;
  }
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  return m;
}

/* A connection of the test's own to the database file, to check rows. */
static sqlite3 *open_file(const char *path) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL),
                   SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static long long scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  long long v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static double scalar_d(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  double v = sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void creates_and_reopens(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "g.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  assert_string_equal(gm_store_kind(st), "sqlite");
  sqlite3 *db = open_file(path);
  assert_int_equal(
      scalar(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                 "name IN ('hosts','runs','components','samples','phases',"
                 "'idle_baselines','metrics','metric_samples')"),
      8);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
  gm_store_close(st);
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  gm_store_close(st);
  gm_store_close(NULL);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void newer_schema_is_refused_and_untouched(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "new.db");
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version=99;", NULL,
                   NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  size_t n0, n1;
  char *before = slurp(path, &n0);
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open(path, &st, err, sizeof(err)),
                   GM_ERR_SCHEMA_NEWER);
  assert_null(st);
  assert_non_null(strstr(err, "schema version 99"));
  assert_non_null(strstr(err, "left untouched"));
  char *after = slurp(path, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  char *wal = gmt_path(dir, "new.db-wal");
  FILE *f = fopen(wal, "rb");
  assert_null(f); /* WAL mode was never switched on */
  free(wal);
  free(before);
  free(after);

  gmt_write(dir, "junk.db", "this is not sqlite, just text %d", 42);
  char *junk = gmt_path(dir, "junk.db");
  assert_int_equal(gm_store_open(junk, &st, err, sizeof(err)), GM_ERR_PARSE);
  assert_non_null(strstr(err, "junk.db"));
  assert_non_null(strstr(err, "not an SQLite database"));
  free(junk);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

static void a_run_and_an_idle_baseline(void **state) {
  (void)state;
  char *root = fake_machine();
  char *path = gmt_path(root, "g.db");
  char bufs[3][512];
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  struct gm_meter *m = meter_on(root, bufs, NULL);
  struct gm_host h;
  assert_int_equal(gm_host_detect(m, &h), GM_OK);
  assert_string_equal(h.cpu_model, "Test CPU 9000");
  assert_true(h.virtualised);
  assert_int_equal(h.logical_cpus, 1);
  assert_int_equal(h.sockets, 1);
  int64_t host = 0, host2 = 0;
  assert_int_equal(gm_store_put_host(st, &h, &host), GM_OK);
  assert_int_equal(gm_store_put_host(st, &h, &host2), GM_OK);
  assert_int_equal(host, host2); /* same fingerprint, same row */

  struct gm_idle_baseline *b = NULL;
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_meter_start(m), GM_OK);
  sleep_ms(50);
  gm_meter_stop(m);
  int64_t bid = 0;
  struct gm_run_record *rec = NULL;
  struct gm_idle_baseline *ib = NULL;
  assert_int_equal(gm_run_record_from_meter(m, NULL, &rec), GM_OK);
  assert_int_equal(gm_idle_baseline_from_record(rec, &ib), GM_OK);
  gm_run_record_free(rec);
  assert_int_equal(gm_store_save_idle(st, host, 0, ib, &bid), GM_OK);
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_OK);
  assert_int_equal(b->id, bid);
  assert_int_equal(b->n, gm_meter_component_count(m));
  bool dram = false;
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, "dram") == 0) {
      dram = true;
      assert_double_equal(b->entries[i].mean_power_w, 0.375 * 8.0, 1e-9);
    }
  assert_true(dram);
  gm_idle_baseline_free(b);
  /* a newer baseline becomes the host's; the first stays loadable by id */
  int64_t bid2 = 0;
  assert_int_equal(gm_store_save_idle(st, host, 0, ib, &bid2), GM_OK);
  assert_true(bid2 > bid);
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_OK);
  assert_int_equal(b->id, bid2);
  gm_idle_baseline_free(b);
  assert_int_equal(gm_store_load_idle_id(st, bid, &b), GM_OK);
  assert_int_equal(b->id, bid);
  assert_int_equal(b->n, gm_meter_component_count(m));
  gm_idle_baseline_free(b);
  assert_int_equal(gm_store_load_idle_id(st, bid2 + 100, &b), GM_ERR_NOT_FOUND);
  assert_null(b);
  gm_meter_destroy(m);

  struct sink k = {.st = st};
  m = meter_on(root, bufs, &k);
  struct gm_run_meta meta = {.kind = "measure",
                             .interval_s = 0.01,
                             .command = "unit test",
                             .tags_json = "{\"k\":\"v\"}",
                             .carbon_g_per_kwh = 400,
                             .carbon_source = "test",
                             .pue = 1.2,
                             .idle_baseline_id = bid};
  assert_int_equal(
      gm_store_begin_run(st, host, &meta, gm_meter_component_count(m),
                         gm_meter_components(m), gm_meter_metric_count(m),
                         gm_meter_metrics(m), &k.run_id),
      GM_OK);
  sqlite3 *db = open_file(path);
  char q[512];
  snprintf(q, sizeof(q), "SELECT complete FROM runs WHERE id=%lld",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), 0);
  assert_int_equal(gm_meter_start(m), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "p1", 0), GM_OK);
  sleep_ms(80);
  gm_meter_stop(m);
  assert_int_equal(k.errors, 0);
  size_t nc = gm_meter_component_count(m);
  /* The stored baseline applies: every component has an idle power. */
  assert_int_equal(gm_run_record_from_meter(m, ib, &rec), GM_OK);
  assert_false(isnan(rec->total.net_j));
  assert_double_equal(rec->total.net_j,
                      rec->total.gross_j - rec->total.idle_w * rec->duration_s,
                      1e-9);
  struct gm_run_result res = {.exit_code = 3, .carbon_g = 0.1};
  assert_int_equal(gm_store_finish_run(st, k.run_id, &res, rec), GM_OK);
  snprintf(q, sizeof(q),
           "SELECT complete*100+exit_code FROM runs WHERE id=%lld",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), 103);
  snprintf(q, sizeof(q),
           "SELECT count(DISTINCT seq) FROM samples WHERE run_id=%lld",
           (long long)k.run_id);
  long long seqs = scalar(db, q);
  assert_true(seqs >= 5);
  snprintf(q, sizeof(q), "SELECT count(*) FROM samples WHERE run_id=%lld",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), seqs * (long long)nc);
  /* the last stored cumulative energy is the component's total */
  snprintf(q, sizeof(q),
           "SELECT max(s.energy_j) - c.energy_j FROM samples s JOIN "
           "components c ON c.run_id=s.run_id AND c.idx=s.component_idx "
           "WHERE s.run_id=%lld AND c.name='dram'",
           (long long)k.run_id);
  assert_double_equal(scalar_d(db, q), 0.0, 1e-9);
  snprintf(q, sizeof(q),
           "SELECT count(*) FROM phases WHERE run_id=%lld AND name='p1'",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), 1);
  snprintf(q, sizeof(q),
           "SELECT count(*) FROM components WHERE run_id=%lld AND "
           "provenance='modelled'",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), (long long)nc);
  snprintf(q, sizeof(q),
           "SELECT tags_json = '{\"k\":\"v\"}' FROM runs "
           "WHERE id=%lld",
           (long long)k.run_id);
  assert_int_equal(scalar(db, q), 1);
  /* Totals and net come from the record. */
  snprintf(q, sizeof(q),
           "SELECT total_energy_j - %.17g, total_net_energy_j - %.17g FROM "
           "runs WHERE id=%lld",
           rec->total.gross_j, rec->total.net_j, (long long)k.run_id);
  assert_double_equal(scalar_d(db, q), 0.0, 1e-9);
  sqlite3_close(db);
  gm_run_record_free(rec);
  gm_idle_baseline_free(ib);
  gm_meter_destroy(m);
  gm_store_close(st);
  free(path);
  gmt_rmtree(root);
  free(root);
}

/* A schema-1 database (the meter's tables only, no application_id: as an
 * older greenml made it) gains the bench tables and the runs' columns of
 * schema 3, the baselines' of schema 4, schema 5's missing components and
 * partial totals, and greenml's application_id, and keeps
 * its rows. */
static void schema_1_migrates_to_current(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "old.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  gm_store_close(st);
  sqlite3 *db = open_file(path);
  assert_int_equal(scalar(db, "PRAGMA application_id"), 0x47724d4c);
  assert_int_equal(
      sqlite3_exec(db, gmt_sql_undo_schemas_5_9(), NULL, NULL, NULL),
      SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "DROP TABLE bench_predictions; DROP TABLE "
                   "bench_phase_components; DROP TABLE bench_phases; DROP "
                   "TABLE bench_models; DROP TABLE benches;"
                   "ALTER TABLE runs DROP COLUMN incomplete_cause;"
                   "ALTER TABLE runs DROP COLUMN stored_until_s;"
                   "ALTER TABLE runs DROP COLUMN lost_samples;"
                   /* schema 4's columns */
                   "ALTER TABLE idle_components DROP COLUMN detail;"
                   "ALTER TABLE idle_baselines DROP COLUMN interval_s;"
                   "ALTER TABLE idle_baselines DROP COLUMN cpu_tdp_w;"
                   "ALTER TABLE idle_baselines DROP COLUMN dimm_capacitance_f;"
                   "ALTER TABLE idle_baselines DROP COLUMN cpu_util_pct;"
                   "ALTER TABLE idle_baselines DROP COLUMN busy;"
                   "INSERT INTO hosts(fingerprint, first_seen, last_seen) "
                   "VALUES ('h', 'x', 'x'); PRAGMA user_version=1;"
                   "PRAGMA application_id=0;",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  db = open_file(path);
  assert_int_equal(scalar(db, "SELECT count(*) FROM hosts"), 1);
  assert_int_equal(scalar(db, "SELECT count(*) FROM benches"), 0);
  assert_int_equal(scalar(db, "SELECT count(*) FROM run_missing"), 0);
  assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_table_info("
                              "'components') WHERE name IN ('glitches', "
                              "'max_power_w', 'max_power_origin', "
                              "'counter_stopped_at_s', 'lost_at_s')"),
                   5);
  assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE "
                              "incomplete_cause IS NULL AND lost_samples IS "
                              "NULL AND stored_until_s IS NULL"),
                   0);
  assert_int_equal(scalar(db, "PRAGMA application_id"), 0x47724d4c);
  sqlite3_close(db);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

static bool exists(const char *dir, const char *name) {
  char *p = gmt_path(dir, name);
  FILE *f = fopen(p, "rb");
  free(p);
  if (f)
    fclose(f);
  return f != NULL;
}

/* Read-only opening reads an older schema as it is (never migrated), keeps
 * the journal mode, and leaves no -wal or -shm file behind. */
static void read_only_leaves_the_file_alone(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "old.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  gm_store_close(st);
  assert_false(exists(dir, "old.db-wal"));
  /* a WAL database: read, closed, nothing left over */
  assert_int_equal(gm_store_open_readonly(path, &st, NULL, 0), GM_OK);
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 0);
  gm_store_run_list_free(l);
  gm_store_close(st);
  assert_false(exists(dir, "old.db-wal"));
  assert_false(exists(dir, "old.db-shm"));
  /* schema 1 in rollback-journal mode */
  sqlite3 *db = open_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "DROP TABLE bench_predictions; DROP TABLE "
                                "bench_phase_components; DROP TABLE "
                                "bench_phases; DROP TABLE bench_models; DROP "
                                "TABLE benches; PRAGMA user_version=1; "
                                "PRAGMA journal_mode=DELETE;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  char err[256] = "";
  assert_int_equal(gm_store_open_readonly(path, &st, err, sizeof(err)), GM_OK);
  assert_int_equal(gm_store_schema_version(st), 1);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_benches, 0);
  gm_store_bench_set_free(set);
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_ERR_NOT_FOUND);
  bool have = true;
  assert_int_equal(gm_store_bench_has_phase(st, 1, "LeNet", 8, "fp32", "train",
                                            1, true, &have),
                   GM_OK);
  assert_false(have);
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  gm_store_run_list_free(l);
  gm_store_close(st);
  db = open_file(path);
  assert_int_equal(scalar(db, "PRAGMA user_version"), 1);
  assert_int_equal(
      scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='benches'"), 0);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "delete");
  sqlite3_finalize(s);
  sqlite3_close(db);
  /* no file, not a file, not a database */
  assert_int_equal(gm_store_open("sqlite:", &st, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_null(st);
  assert_int_equal(gm_store_open_readonly(dir, &st, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "is not a database file"));
  gmt_write(dir, "junk.db", "this is not sqlite, just text %d", 42);
  char *junk = gmt_path(dir, "junk.db");
  assert_int_equal(gm_store_open_readonly(junk, &st, err, sizeof(err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(err, "junk.db"));
  free(junk);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

/* A schema-8 database (before precisions) is read as it is by a read-only
 * handle, its rows fp32, and migrated by the first writer: the bench
 * tables rebuilt with the precision in their keys, the rows kept (fp32,
 * in their order, with their components), the same row in bf16 beside the
 * fp32 one, once. */
static void schema_8_migrates_to_9(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "old8.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  sqlite3 *db = open_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "INSERT INTO hosts(fingerprint, first_seen, "
                                "last_seen) VALUES ('h', 'x', 'x')",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  int64_t host = sqlite3_last_insert_rowid(db), id = 0;
  struct gm_bench_meta meta = {.name = "g", .config_json = "{}"};
  assert_int_equal(gm_store_bench_create(st, host, &meta, &id), GM_OK);
  struct gm_bench_component comp = {"cpu", "cpu", "modelled", true,
                                    3,     NAN,   3,          4};
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 8,
                              .kind = "train",
                              .epoch = 1,
                              .metered = true,
                              .duration_s = 1,
                              .steps = 1,
                              .samples = 8,
                              .loss = 2,
                              .accuracy = 0.1,
                              .lr = 0.001,
                              .energy_j = 3,
                              .net_energy_j = NAN,
                              .avg_power_w = 3,
                              .peak_power_w = 4,
                              .provenance = "modelled",
                              .cpu_util_pct = NAN,
                              .dram_used_bytes = NAN,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .n_components = 1,
                              .components = &comp};
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  ph.kind = "infer";
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 8,
                                   .kind = "train",
                                   .duration_s = 1,
                                   .energy_j = 2,
                                   .actual_duration_s = NAN,
                                   .actual_energy_j = NAN};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  gm_store_close(st);
  char *msg = NULL;
  if (sqlite3_exec(db, gmt_sql_undo_schema_9(), NULL, NULL, &msg) !=
          SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA user_version=8", NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("undo schema 9: %s", msg ? msg : "?");
  assert_int_equal(
      scalar(db, "SELECT count(*) FROM pragma_table_info('bench_phases') "
                 "WHERE name='precision'"),
      0);
  /* read-only: as it is */
  assert_int_equal(gm_store_open_readonly(path, &st, NULL, 0), GM_OK);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 2);
  assert_string_equal(set->phases[0].precision, "fp32");
  assert_int_equal(set->phases[0].n_components, 1);
  assert_string_equal(set->predictions[0].precision, "fp32");
  gm_store_bench_set_free(set);
  gm_store_close(st);
  assert_int_equal(scalar(db, "PRAGMA user_version"), 8);
  /* a writer migrates */
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(scalar(db, "PRAGMA user_version"), GM_STORE_SCHEMA_VERSION);
  assert_int_equal(
      scalar(db, "SELECT count(*) FROM bench_phases WHERE precision='fp32'"),
      2);
  assert_int_equal(scalar(db, "SELECT count(*) FROM bench_phase_components "
                              "WHERE precision='fp32'"),
                   2);
  assert_int_equal(scalar(db, "SELECT count(*) FROM bench_predictions WHERE "
                              "precision='fp32'"),
                   1);
  ph.kind = "train";
  ph.precision = "bf16";
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_ERR_STATE);
  pr.precision = "bf16";
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 3);
  assert_string_equal(set->phases[0].kind, "train"); /* order kept */
  assert_string_equal(set->phases[1].kind, "infer");
  assert_string_equal(set->phases[2].precision, "bf16");
  assert_int_equal(set->phases[2].n_components, 1);
  assert_int_equal(set->n_predictions, 2);
  gm_store_bench_set_free(set);
  struct gm_bench_summary_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(gm_store_bench_summary(st, id, &rows, &n), GM_OK);
  assert_int_equal(n, 3); /* train fp32, infer fp32, train bf16 */
  assert_string_equal(rows[2].precision, "bf16");
  free(rows);
  gm_store_close(st);
  sqlite3_close(db);
  gmt_rmtree(dir);
  free(path);
  free(dir);
}

static void bench_rows(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "b.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  sqlite3 *db = open_file(path);
  assert_int_equal(sqlite3_exec(db,
                                "INSERT INTO hosts(fingerprint, first_seen, "
                                "last_seen) VALUES ('h', 'x', 'x')",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  int64_t host = sqlite3_last_insert_rowid(db), id = 0, id2 = 0;
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_ERR_NOT_FOUND);
  struct gm_bench_meta meta = {
      .name = "grid-a", .config_json = "{\"epochs\":2}", .versions_json = "{}"};
  assert_int_equal(gm_store_bench_create(st, host, &meta, &id), GM_OK);
  assert_int_equal(gm_store_bench_create(st, host, &meta, &id2), GM_ERR_STATE);
  assert_non_null(strstr(gm_store_last_error(st), "grid-a"));
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_OK);
  assert_int_equal(bi.id, id);
  assert_string_equal(bi.status, "running");
  assert_string_equal(bi.config_json, "{\"epochs\":2}");
  gm_bench_info_clear(&bi);

  struct gm_bench_model bm = {.model = "LeNet",
                              .params = 62006,
                              .trainable_params = 62006,
                              .param_bytes = 248024,
                              .size_bytes = 248024,
                              .macs = 651720,
                              .macs_per_param = 651720.0 / 62006};
  assert_int_equal(gm_store_bench_put_model(st, id, &bm), GM_OK);
  struct gm_bench_component comps[2] = {
      {"cpu", "cpu", "modelled", true, 300, 100, 30, 35},
      {"dram", "dram", "modelled", true, 20, 0, 2, 2}};
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 128,
                              .kind = "train",
                              .epoch = 1,
                              .metered = true,
                              .duration_s = 10,
                              .steps = 40,
                              .samples = 5000,
                              .loss = 2.1,
                              .accuracy = 0.3,
                              .lr = 0.001,
                              .energy_j = 320,
                              .net_energy_j = 100,
                              .avg_power_w = 32,
                              .peak_power_w = 37,
                              .provenance = "modelled",
                              .cpu_util_pct = 97,
                              .dram_used_bytes = 1e9,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .n_components = 2,
                              .components = comps};
  bool have = true;
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "fp32",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_false(have);
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_ERR_STATE);
  ph.metered = false; /* the overhead baseline is another row */
  ph.energy_j = ph.net_energy_j = ph.avg_power_w = ph.peak_power_w = NAN;
  ph.n_components = 0;
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "fp32",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_true(have);
  assert_int_equal(scalar(db, "SELECT count(*) FROM bench_phases"), 2);
  assert_double_equal(
      scalar_d(db, "SELECT step_time_s FROM bench_phases WHERE metered=1"),
      0.25, 1e-12);
  assert_double_equal(
      scalar_d(db, "SELECT samples_per_s FROM bench_phases WHERE metered=1"),
      500, 1e-9);
  assert_double_equal(
      scalar_d(db, "SELECT j_per_sample FROM bench_phases WHERE metered=1"),
      0.064, 1e-12);
  assert_int_equal(
      scalar(db, "SELECT energy_j IS NULL FROM bench_phases WHERE metered=0"),
      1);
  assert_int_equal(scalar(db,
                          "SELECT count(*) FROM bench_phase_components WHERE "
                          "component='cpu' AND net_energy_j=100"),
                   1);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 128,
                                   .kind = "train",
                                   .profile_epochs = 0.2,
                                   .profile_steps = 8,
                                   .target_steps = 80,
                                   .level = 0.95,
                                   .duration_s = 22,
                                   .energy_j = 660,
                                   .provenance = "modelled",
                                   .actual_duration_s = NAN,
                                   .actual_energy_j = NAN};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  assert_int_equal(scalar(db, "SELECT energy_error_rel IS NULL FROM "
                              "bench_predictions"),
                   1);
  pr.actual_duration_s = 20;
  pr.actual_energy_j = 600;
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  assert_int_equal(scalar(db, "SELECT count(*) FROM bench_predictions"), 1);
  assert_double_equal(
      scalar_d(db, "SELECT energy_error_rel FROM bench_predictions"), 0.1,
      1e-12);
  assert_double_equal(
      scalar_d(db, "SELECT duration_error_rel FROM bench_predictions"), 0.1,
      1e-12);
  assert_int_equal(gm_store_bench_set_status(st, id, "complete"), GM_OK);
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_store_bench_find(st, "grid-a", &bi), GM_OK);
  assert_string_equal(bi.status, "complete");
  gm_bench_info_clear(&bi);
  sqlite3_close(db);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(creates_and_reopens),
      cmocka_unit_test(newer_schema_is_refused_and_untouched),
      cmocka_unit_test(a_run_and_an_idle_baseline),
      cmocka_unit_test(schema_1_migrates_to_current),
      cmocka_unit_test(schema_8_migrates_to_9),
      cmocka_unit_test(bench_rows),
      cmocka_unit_test(read_only_leaves_the_file_alone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
