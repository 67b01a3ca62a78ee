/* test_store_postgres.c: what the PostgreSQL store does beyond the store
 * contract (test_store_contract.c runs that against it too), on a real
 * server started for the test (helpers.c, tests/pg/cluster.sh): both URI
 * schemes; a read-only open of a missing database creates nothing; another
 * program's database refused and left as it was; the read-only session
 * refusing a write even below the store layer; a schema-7 database read as
 * it is and migrated by its first writer; NAN stored as NULL and read
 * back as NAN; eight processes writing samples to one database at once
 * losing none. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenml/store.h"
#include "helpers.h"
#include "store/store_ops.h"

static struct gm_store *open_ok(const char *loc) {
  struct gm_store *st = NULL;
  char err[512] = "";
  enum gm_status rc = gm_store_open(loc, &st, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_store_open('%s'): %s: %s", loc, gm_status_name(rc), err);
  return st;
}

static int64_t put_host(struct gm_store *st, const char *fp) {
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "%s", fp);
  snprintf(h.hostname, sizeof(h.hostname), "box");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_OK);
  return id;
}

/* A run of n components named c0, c1, ... */
static enum gm_status begin_run(struct gm_store *st, int64_t host, size_t n,
                                int64_t *run) {
  struct gm_component_info c[8];
  memset(c, 0, sizeof(c));
  for (size_t i = 0; i < n; i++) {
    snprintf(c[i].name, sizeof(c[i].name), "c%zu", i);
    snprintf(c[i].source, sizeof(c[i].source), "test");
    c[i].kind = GM_KIND_CPU;
    c[i].domain = GM_DOMAIN_PACKAGE;
    c[i].provenance = GM_PROV_MEASURED_COUNTER;
    c[i].in_total = true;
  }
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.01};
  return gm_store_begin_run(st, host, &meta, n, c, 0, NULL, run);
}

static enum gm_status add(struct gm_store *st, int64_t run, uint64_t seq,
                          size_t n) {
  double e[8], w[8];
  for (size_t i = 0; i < n; i++) {
    e[i] = (double)seq * (double)(i + 1);
    w[i] = (double)(i + 1) * 100;
  }
  struct gm_sample s = {.seq = seq,
                        .t_ns = (int64_t)seq * 10000000,
                        .n_components = n,
                        .energy_j = e,
                        .power_w = w};
  return gm_store_add_sample(st, run, &s);
}

static void both_schemes(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("schemes");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = open_ok(uri);
  assert_string_equal(gm_store_kind(st), "postgres");
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  put_host(st, "fp");
  gm_store_close(st);
  /* postgres://... is the same store */
  char *alias = NULL;
  assert_true(asprintf(&alias, "postgres:%s", strchr(uri, ':') + 1) > 0);
  st = open_ok(alias);
  assert_string_equal(gm_store_kind(st), "postgres");
  assert_int_equal(put_host(st, "fp"), 1);
  gm_store_close(st);
  /* no file behind it */
  char path[256];
  assert_false(gm_store_location_file(uri, path, sizeof(path)));
  free(alias);
  free(uri);
  free(db);
}

static void missing_database_read_only(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("absent");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open_readonly(uri, &st, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_null(st);
  assert_non_null(strstr(err, "no database at"));
  assert_false(gmt_pg_db_exists(db));
  free(uri);
  free(db);
}

static void foreign_database_refused_untouched(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("foreign");
  char *uri = gmt_pg_uri(db), *admin = gmt_pg_uri("postgres"), sql[256];
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
  gmt_pg_exec(admin, sql);
  gmt_pg_exec(uri, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total "
                   "NUMERIC); INSERT INTO invoices VALUES (1, 9.5)");
  size_t n0, n1;
  char *before = gmt_pg_dump(uri, &n0);
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open(uri, &st, err, sizeof(err)), GM_ERR_PARSE);
  assert_null(st);
  assert_non_null(strstr(err, "not greenml's"));
  assert_non_null(strstr(err, "left untouched"));
  assert_int_equal(gm_store_open_readonly(uri, &st, err, sizeof(err)),
                   GM_ERR_PARSE);
  char *after = gmt_pg_dump(uri, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
  free(admin);
  free(uri);
  free(db);
}

static void read_only_session(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("ro");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = open_ok(uri);
  put_host(st, "fp");
  gm_store_close(st);
  assert_int_equal(gm_store_open_readonly(uri, &st, NULL, 0), GM_OK);
  assert_true(gm_store_is_readonly(st));
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "other");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_ERR_STATE);
  /* the session itself is read-only: a write that reached the server
   * would fail there too */
  assert_int_equal(st->ops->put_host(st, &h, &id), GM_ERR_DATABASE);
  assert_non_null(strstr(gm_store_last_error(st), "read-only"));
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 0);
  gm_store_run_list_free(l);
  gm_store_close(st);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM hosts"), 1);
  free(uri);
  free(db);
}

/* A bench phase row with where it ran. */
/* Takes a current database back to schema 8: the precision columns
 * dropped (and with them the keys they were part of), the keys of schema 8
 * restored. */
static const char undo_schema_9[] =
    "ALTER TABLE bench_phases DROP COLUMN precision, ADD PRIMARY KEY "
    "(bench_id, model, batch_size, kind, epoch, metered); "
    "ALTER TABLE bench_phase_components DROP COLUMN precision, ADD PRIMARY "
    "KEY (bench_id, model, batch_size, kind, epoch, metered, component); "
    "ALTER TABLE bench_predictions DROP COLUMN precision, ADD PRIMARY KEY "
    "(bench_id, model, batch_size, kind); "
    "UPDATE greenml_schema SET version = 8";

static void add_row_in(struct gm_store *st, int64_t bench, const char *tags,
                       const char *precision, enum gm_status want) {
  struct gm_bench_component comp = {.name = "cpu",
                                    .kind = "cpu",
                                    .provenance = "modelled",
                                    .in_total = true,
                                    .energy_j = 3,
                                    .net_energy_j = NAN,
                                    .avg_power_w = 3,
                                    .peak_power_w = 4};
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 16,
                              .precision = precision,
                              .n_components = 1,
                              .components = &comp,
                              .kind = "train",
                              .epoch = 1,
                              .metered = false,
                              .start_s = NAN,
                              .duration_s = 1,
                              .steps = 1,
                              .samples = 16,
                              .loss = NAN,
                              .accuracy = NAN,
                              .lr = NAN,
                              .energy_j = NAN,
                              .net_energy_j = NAN,
                              .avg_power_w = NAN,
                              .peak_power_w = NAN,
                              .cpu_util_pct = NAN,
                              .dram_used_bytes = NAN,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .tags_json = tags};
  assert_int_equal(gm_store_bench_add_phase(st, bench, &ph), want);
}

static void add_row(struct gm_store *st, int64_t bench, const char *tags) {
  add_row_in(st, bench, tags, NULL, GM_OK);
}

/* A database of schema 7 (before the rows' tags) is read as it is by a
 * read-only session, its rows without tags, and migrated by the first
 * writer: the column added, the version 8, the old rows kept. */
static void schema_7_migrated(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("mig");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = open_ok(uri);
  int64_t host = put_host(st, "fp");
  struct gm_bench_meta meta = {.name = "old", .config_json = "{}"};
  int64_t bench = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &bench), GM_OK);
  add_row(st, bench, NULL);
  gm_store_close(st);
  gmt_pg_exec(uri, undo_schema_9);
  gmt_pg_exec(uri, "ALTER TABLE bench_phases DROP COLUMN tags_json; UPDATE "
                   "greenml_schema SET version = 7");
  assert_int_equal(gm_store_open_readonly(uri, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), 7);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 1);
  assert_null(set->phases[0].tags_json);
  gm_store_bench_set_free(set);
  gm_store_close(st);
  assert_int_equal(gmt_pg_value(uri, "SELECT max(version) FROM greenml_schema"),
                   7);
  st = open_ok(uri);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  meta.name = "new";
  int64_t b2 = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &b2), GM_OK);
  add_row(st, b2, "{\"slurm_job_id\":\"9\"}");
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 2);
  assert_null(set->phases[0].tags_json);
  assert_string_equal(set->phases[1].tags_json, "{\"slurm_job_id\":\"9\"}");
  gm_store_bench_set_free(set);
  gm_store_close(st);
  assert_int_equal(gmt_pg_value(uri, "SELECT max(version) FROM greenml_schema"),
                   GM_STORE_SCHEMA_VERSION);
  free(uri);
  free(db);
}

/* A database of schema 8 (before precisions) is read as it is by a
 * read-only session, its rows fp32, and migrated by the first writer: the
 * column added to each bench table's key, the old rows fp32, and the same
 * row in bf16 beside the fp32 one (twice in one precision still refused). */
static void schema_8_migrated(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("mig8");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = open_ok(uri);
  int64_t host = put_host(st, "fp");
  struct gm_bench_meta meta = {.name = "old", .config_json = "{}"};
  int64_t bench = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &bench), GM_OK);
  add_row(st, bench, NULL);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 16,
                                   .kind = "train",
                                   .duration_s = 1,
                                   .energy_j = 2,
                                   .actual_duration_s = NAN,
                                   .actual_energy_j = NAN};
  assert_int_equal(gm_store_bench_put_prediction(st, bench, &pr), GM_OK);
  gm_store_close(st);
  gmt_pg_exec(uri, undo_schema_9);
  assert_int_equal(gm_store_open_readonly(uri, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), 8);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 1);
  assert_string_equal(set->phases[0].precision, "fp32");
  assert_int_equal(set->phases[0].n_components, 1);
  assert_int_equal(set->n_predictions, 1);
  assert_string_equal(set->predictions[0].precision, "fp32");
  gm_store_bench_set_free(set);
  gm_store_close(st);
  assert_int_equal(gmt_pg_value(uri, "SELECT max(version) FROM greenml_schema"),
                   8);
  st = open_ok(uri);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  add_row_in(st, bench, NULL, "bf16", GM_OK);
  add_row_in(st, bench, NULL, "bf16", GM_ERR_STATE);
  add_row_in(st, bench, NULL, "fp32", GM_ERR_STATE);
  pr.precision = "bf16";
  assert_int_equal(gm_store_bench_put_prediction(st, bench, &pr), GM_OK);
  bool have = false;
  assert_int_equal(gm_store_bench_has_phase(st, bench, "LeNet", 16, "bf16",
                                            "train", 1, false, &have),
                   GM_OK);
  assert_true(have);
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 2);
  assert_string_equal(set->phases[0].precision, "fp32");
  assert_string_equal(set->phases[1].precision, "bf16");
  assert_int_equal(set->phases[1].n_components, 1);
  assert_int_equal(set->phases[0].n_components, 1);
  assert_int_equal(set->n_predictions, 2);
  assert_string_equal(set->predictions[1].precision, "bf16");
  gm_store_bench_set_free(set);
  gm_store_close(st);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM "
                                     "bench_phase_components WHERE "
                                     "precision = 'fp32'"),
                   1);
  free(uri);
  free(db);
}

static void nan_round_trips(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("nan");
  char *uri = gmt_pg_uri(db);
  struct gm_store *st = open_ok(uri);
  int64_t host = put_host(st, "fp");
  int64_t run = 0;
  assert_int_equal(begin_run(st, host, 2, &run), GM_OK);
  for (uint64_t s = 0; s < 3; s++)
    assert_int_equal(add(st, run, s, 2), GM_OK);
  assert_int_equal(gm_store_commit(st), GM_OK);
  struct gm_bench_meta meta = {.name = "b", .config_json = "{}"};
  int64_t bench = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &bench), GM_OK);
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 8,
                              .kind = "train",
                              .epoch = 1,
                              .metered = true,
                              .duration_s = 2,
                              .steps = 4,
                              .samples = 32,
                              .loss = NAN,
                              .accuracy = 0.25,
                              .lr = NAN,
                              .energy_j = 7.125,
                              .net_energy_j = NAN,
                              .avg_power_w = NAN,
                              .peak_power_w = 1e-300,
                              .cpu_util_pct = NAN,
                              .dram_used_bytes = NAN,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN};
  assert_int_equal(gm_store_bench_add_phase(st, bench, &ph), GM_OK);
  gm_store_close(st);
  /* stored as NULL */
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM bench_phases "
                                     "WHERE loss IS NULL AND lr IS NULL AND "
                                     "net_energy_j IS NULL AND "
                                     "net_j_per_sample IS NULL"),
                   1);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM samples WHERE "
                                     "power_w IS NULL"),
                   2); /* seq 0 has no interval power */
  /* read back as NAN, and the numbers exactly */
  assert_int_equal(gm_store_open_readonly(uri, &st, NULL, 0), GM_OK);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_phases, 1);
  const struct gm_store_bench_phase *p = &set->phases[0];
  assert_true(isnan(p->loss) && isnan(p->lr) && isnan(p->net_energy_j));
  assert_true(isnan(p->avg_power_w) && isnan(p->gpu_util_pct));
  assert_true(p->energy_j == 7.125 && p->accuracy == 0.25);
  assert_true(p->peak_power_w == 1e-300);
  assert_true(p->j_per_sample == 7.125 / 32);
  gm_store_bench_set_free(set);
  struct gm_store_series *s = NULL;
  assert_int_equal(gm_store_load_series(st, run, false, &s), GM_OK);
  assert_int_equal(s->n_rows, 3);
  assert_true(isnan(s->power_w[0]) && isnan(s->power_w[1]));
  assert_true(s->power_w[2] == 100 && s->power_w[3] == 200);
  assert_true(s->energy_j[5] == 4);
  gm_store_series_free(s);
  gm_store_close(st);
  free(uri);
  free(db);
}

#define WRITERS 8
#define PER_WRITER 1500
#define COMPONENTS 4

/* One writer process: a run of PER_WRITER samples committed in small
 * batches, then finished; its exit status says what failed. */
static int writer(const char *uri, int k) {
  struct gm_store *st = NULL;
  char err[512] = "";
  if (gm_store_open(uri, &st, err, sizeof(err)) != GM_OK) {
    fprintf(stderr, "writer %d: %s\n", k, err);
    return 1;
  }
  char fp[32];
  snprintf(fp, sizeof(fp), "host-%d", k % 2);
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "%s", fp);
  int64_t host = 0, run = 0;
  if (gm_store_put_host(st, &h, &host) != GM_OK ||
      begin_run(st, host, COMPONENTS, &run) != GM_OK) {
    fprintf(stderr, "writer %d: %s\n", k, gm_store_last_error(st));
    return 2;
  }
  for (uint64_t s = 0; s < PER_WRITER; s++) {
    if (add(st, run, s, COMPONENTS) != GM_OK)
      return 3;
    if (s % 100 == 99 && gm_store_commit(st) != GM_OK)
      return 4;
  }
  if (gm_store_commit(st) != GM_OK)
    return 5;
  struct gm_store_sample_tally t;
  if (gm_store_sample_tally(st, run, &t) != GM_OK || t.stored != PER_WRITER ||
      t.lost != 0 || t.pending != 0)
    return 6;
  gm_store_close(st);
  return 0;
}

static void concurrent_writers(void **state) {
  (void)state;
  char *db = gmt_pg_new_db("writers");
  char *uri = gmt_pg_uri(db);
  pid_t pids[WRITERS];
  /* the first opens all race to create the tables, too */
  for (int k = 0; k < WRITERS; k++) {
    pids[k] = fork();
    assert_true(pids[k] >= 0);
    if (pids[k] == 0)
      _exit(writer(uri, k));
  }
  for (int k = 0; k < WRITERS; k++) {
    int status = 0;
    assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM runs"), WRITERS);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM hosts"), 2);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM samples"),
                   WRITERS * PER_WRITER * COMPONENTS);
  /* every run's seq continuous from 0, every tick with all components */
  assert_int_equal(
      gmt_pg_value(uri, "SELECT count(*) FROM (SELECT run_id FROM samples "
                        "GROUP BY run_id HAVING min(seq) = 0 AND max(seq) = "
                        "count(DISTINCT seq) - 1 AND count(*) = 4 * "
                        "count(DISTINCT seq)) AS ok"),
      WRITERS);
  assert_int_equal(gmt_pg_value(uri, "SELECT count(*) FROM greenml_schema"), 1);
  free(uri);
  free(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(both_schemes),
      cmocka_unit_test(missing_database_read_only),
      cmocka_unit_test(foreign_database_refused_untouched),
      cmocka_unit_test(read_only_session),
      cmocka_unit_test(schema_7_migrated),
      cmocka_unit_test(schema_8_migrated),
      cmocka_unit_test(nan_round_trips),
      cmocka_unit_test(concurrent_writers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
