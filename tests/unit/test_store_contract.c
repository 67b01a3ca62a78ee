/* test_store_contract.c: the contract of greenml/store.h, run against every
 * implementation in the store registry (src/store/registry.c): opening,
 * creating and migrating; a store of a newer schema refused and left byte
 * for byte as it was; hosts; a run begun, sampled, committed and finished;
 * idle baselines; the bench rows; the queries; the read-only mode. Only the
 * public API is used on the store; what the test must do to a store from
 * outside (make one of a newer schema, take a snapshot of its bytes) is the
 * implementation's fixture below, which a new implementation must add. */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "greenml/store.h"
#include "helpers.h"
#include "store/store_ops.h"

/* ---- fixtures: what the test does to a store from outside ---------------- */

struct fixture {
  const char *name; /* the implementation's ops->name */
  /* A fresh location for a store called stem (malloc'ed); NULL when the
   * implementation cannot be tested here (no server): its tests skip. */
  char *(*location)(const char *dir, const char *stem);
  /* Makes the (new) store at location one of schema version 99. */
  void (*make_newer)(const char *location);
  /* The stored bytes, to compare before and after (malloc'ed). */
  char *(*snapshot)(const char *location, size_t *len);
  /* Whether anything exists at location. */
  bool (*exists)(const char *location);
};

static const char *sqlite_file(const char *location) {
  return strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
}

static char *sqlite_location(const char *dir, const char *stem) {
  /* through the scheme, so that it is exercised too */
  char *loc = NULL;
  assert_true(asprintf(&loc, "sqlite:%s/%s.db", dir, stem) > 0);
  return loc;
}

static void sqlite_make_newer(const char *location) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(sqlite_file(location), &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE future(x); INSERT INTO future "
                                "VALUES (1); PRAGMA user_version=99;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
}

static char *sqlite_snapshot(const char *location, size_t *len) {
  FILE *f = fopen(sqlite_file(location), "rb");
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

static bool sqlite_exists(const char *location) {
  struct stat sb;
  char other[1024];
  const char *file = sqlite_file(location);
  bool any = stat(file, &sb) == 0;
  snprintf(other, sizeof(other), "%s-wal", file);
  any = any || stat(other, &sb) == 0;
  snprintf(other, sizeof(other), "%s-shm", file);
  return any || stat(other, &sb) == 0;
}

/* PostgreSQL: a database of its own per location on the tests' server
 * (helpers.c), which the store creates on its first read-write open; the
 * bytes compared are pg_dump's text of it (schema and rows). Without the
 * server or libpq the tests fail, naming what to install. */
static char *pg_location(const char *dir, const char *stem) {
  (void)dir;
  char *db = gmt_pg_new_db(stem);
  char *uri = gmt_pg_uri(db);
  free(db);
  return uri;
}

/* The database name of a location made by pg_location (malloc'ed). */
static char *pg_db(const char *location) {
  const char *start = strstr(location, ":///");
  assert_non_null(start);
  start += 4;
  return strndup(start, strcspn(start, "?"));
}

static void pg_make_newer(const char *location) {
  char *db = pg_db(location), *admin = gmt_pg_uri("postgres"), sql[256];
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
  gmt_pg_exec(admin, sql);
  gmt_pg_exec(location, "CREATE TABLE greenml_schema (version BIGINT NOT "
                        "NULL); INSERT INTO greenml_schema VALUES (99); "
                        "CREATE TABLE future (x INTEGER); INSERT INTO future "
                        "VALUES (1)");
  free(db);
  free(admin);
}

static char *pg_snapshot(const char *location, size_t *len) {
  return gmt_pg_dump(location, len);
}

static bool pg_exists(const char *location) {
  char *db = pg_db(location);
  bool found = gmt_pg_db_exists(db);
  free(db);
  return found;
}

static const struct fixture fixtures[] = {
    {"sqlite", sqlite_location, sqlite_make_newer, sqlite_snapshot,
     sqlite_exists},
    {"postgres", pg_location, pg_make_newer, pg_snapshot, pg_exists},
};

/* One implementation under test. */
struct impl {
  const struct gm__store_ops *ops;
  const struct fixture *fx;
};

#define MAX_IMPLS 8
static struct impl impls[MAX_IMPLS];

/* A test's store location in a directory of its own. */
struct place {
  char *dir, *loc;
};

static bool place_make(const struct impl *im, struct place *p,
                       const char *stem) {
  p->dir = gmt_mkdtemp();
  p->loc = im->fx->location(p->dir, stem);
  return p->loc != NULL;
}

static void place_free(struct place *p) {
  gmt_rmtree(p->dir);
  free(p->dir);
  free(p->loc);
}

static struct gm_store *open_ok(const char *loc) {
  struct gm_store *st = NULL;
  char err[512] = "";
  enum gm_status rc = gm_store_open(loc, &st, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_store_open('%s'): %s: %s", loc, gm_status_name(rc), err);
  return st;
}

static struct gm_store *open_ro_ok(const char *loc) {
  struct gm_store *st = NULL;
  char err[512] = "";
  enum gm_status rc = gm_store_open_readonly(loc, &st, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_store_open_readonly('%s'): %s: %s", loc, gm_status_name(rc),
             err);
  return st;
}

#define PLACE_OR_SKIP(im, p, stem)                                             \
  do {                                                                         \
    if (!place_make((im), (p), (stem))) {                                      \
      place_free(p);                                                           \
      skip();                                                                  \
    }                                                                          \
  } while (0)

/* ---- shared data --------------------------------------------------------- */

static int64_t put_host(struct gm_store *st, const char *fingerprint) {
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "%s", fingerprint);
  snprintf(h.hostname, sizeof(h.hostname), "box-%s", fingerprint);
  snprintf(h.cpu_model, sizeof(h.cpu_model), "Test CPU 9000");
  h.logical_cpus = 8;
  h.sockets = 1;
  h.mem_total_bytes = 16e9;
  snprintf(h.dimms_json, sizeof(h.dimms_json), "[]");
  snprintf(h.gpus_json, sizeof(h.gpus_json), "[]");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_OK);
  assert_true(id > 0);
  return id;
}

/* Three components: a modelled CPU and a measured GPU in the total, and
 * cores inside the CPU package (never summed). */
static void components(struct gm_component_info c[3]) {
  memset(c, 0, 3 * sizeof(*c));
  snprintf(c[0].name, sizeof(c[0].name), "cpu");
  snprintf(c[0].source, sizeof(c[0].source), "cpu-tdp-model");
  c[0].kind = GM_KIND_CPU;
  c[0].domain = GM_DOMAIN_PACKAGE;
  c[0].provenance = GM_PROV_MODELLED;
  c[0].in_total = true;
  snprintf(c[1].name, sizeof(c[1].name), "gpu0");
  snprintf(c[1].source, sizeof(c[1].source), "nvml");
  c[1].kind = GM_KIND_GPU;
  c[1].domain = GM_DOMAIN_GPU;
  c[1].provenance = GM_PROV_MEASURED_COUNTER;
  c[1].in_total = true;
  snprintf(c[2].name, sizeof(c[2].name), "cores");
  snprintf(c[2].source, sizeof(c[2].source), "rapl-powercap");
  c[2].kind = GM_KIND_CPU;
  c[2].domain = GM_DOMAIN_CORES;
  c[2].provenance = GM_PROV_MEASURED_COUNTER;
  c[2].in_total = false;
}

static int64_t begin_run(struct gm_store *st, int64_t host, const char *cmd) {
  struct gm_component_info c[3];
  components(c);
  struct gm_metric_info m[1];
  memset(m, 0, sizeof(m));
  snprintf(m[0].name, sizeof(m[0].name), "cpu.util");
  snprintf(m[0].unit, sizeof(m[0].unit), "%%");
  snprintf(m[0].source, sizeof(m[0].source), "procfs");
  struct gm_run_meta meta = {.kind = "measure",
                             .interval_s = 0.1,
                             .command = cmd,
                             .carbon_g_per_kwh = 400,
                             .carbon_source = "test",
                             .pue = 1.0};
  int64_t run = 0;
  assert_int_equal(gm_store_begin_run(st, host, &meta, 3, c, 1, m, &run),
                   GM_OK);
  assert_true(run > 0);
  return run;
}

/* Tick seq at 0.1 s intervals: cpu 10 W, gpu0 50 W, cores 6 W. */
static void add_sample(struct gm_store *st, int64_t run, uint64_t seq) {
  double t = 0.1 * (double)seq;
  double e[3] = {10 * t, 50 * t, 6 * t}, w[3] = {10, 50, 6};
  double util = 40 + (double)seq;
  struct gm_sample s = {.seq = seq,
                        .t_ns = (int64_t)llround(t * 1e9),
                        .n_components = 3,
                        .energy_j = e,
                        .power_w = w,
                        .n_metrics = 1,
                        .metrics = &util};
  assert_int_equal(gm_store_add_sample(st, run, &s), GM_OK);
}

/* The record of a 0.4 s run of the three components with a baseline. */
struct record {
  struct gm_run_record rec;
  struct gm_run_component c[3];
  struct gm_run_metric m[1];
  struct gm_run_phase ph[1];
  double ph_e[3], ph_net[3];
};

static void make_record(struct record *r) {
  memset(r, 0, sizeof(*r));
  struct gm_component_info info[3];
  components(info);
  double watts[3] = {10, 50, 6}, idle[3] = {5, 20, NAN};
  for (int i = 0; i < 3; i++) {
    r->c[i].info = info[i];
    r->c[i].stats.energy_j = watts[i] * 0.4;
    r->c[i].stats.avg_power_w = watts[i];
    r->c[i].stats.peak_power_w = watts[i];
    r->c[i].stats.power_energy_j = -1;
    r->c[i].stats.xcheck_rel = -1;
    r->c[i].idle_w = idle[i];
    r->c[i].net_energy_j = gm_energy_net(watts[i] * 0.4, idle[i], 0.4);
    r->ph_e[i] = watts[i] * 0.2;
    r->ph_net[i] = gm_energy_net(watts[i] * 0.2, idle[i], 0.2);
  }
  snprintf(r->m[0].info.name, sizeof(r->m[0].info.name), "cpu.util");
  r->m[0].mean = 41.5;
  r->m[0].max = 44;
  snprintf(r->ph[0].name, sizeof(r->ph[0].name), "p1");
  r->ph[0].start_s = 0.1;
  r->ph[0].duration_s = 0.2;
  r->ph[0].energy_j = r->ph_e;
  r->ph[0].net_energy_j = r->ph_net;
  r->rec.duration_s = 0.4;
  r->rec.n_components = 3;
  r->rec.components = r->c;
  r->rec.n_metrics = 1;
  r->rec.metrics = r->m;
  r->rec.n_phases = 1;
  r->rec.phases = r->ph;
  struct gm_energy_part parts[3];
  for (int i = 0; i < 3; i++)
    parts[i] = (struct gm_energy_part){.provenance = info[i].provenance,
                                       .in_total = info[i].in_total,
                                       .gross_j = r->c[i].stats.energy_j,
                                       .idle_w = idle[i]};
  gm_energy_account(parts, 3, 0.4, &r->rec.total);
  gm_energy_account(parts, 3, 0.2, &r->ph[0].total);
}

/* A bench with one model, a metered and an unmetered training phase and a
 * prediction; its id. */
static int64_t make_bench(struct gm_store *st, int64_t host, const char *name) {
  struct gm_bench_meta meta = {.name = name,
                               .config_json = "{\"models\":[\"LeNet\"]}",
                               .versions_json = "{\"greenml\":\"0\"}",
                               .host_json = "{\"hostname\":\"box\"}"};
  int64_t id = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &id), GM_OK);
  struct gm_bench_model bm = {.model = "LeNet",
                              .params = 62006,
                              .trainable_params = 62006,
                              .param_bytes = 248024,
                              .buffer_bytes = 0,
                              .size_bytes = 248024,
                              .macs = 651720,
                              .macs_per_param = 651720.0 / 62006};
  assert_int_equal(gm_store_bench_put_model(st, id, &bm), GM_OK);
  struct gm_bench_component comps[2] = {
      {"cpu", "cpu", "modelled", true, 300, 100, 30, 35},
      {"gpu0", "gpu", "measured", true, 20, NAN, 2, 2}};
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
                              .net_energy_j = NAN,
                              .avg_power_w = 32,
                              .peak_power_w = 37,
                              .provenance = "mixed",
                              .cpu_util_pct = 97,
                              .dram_used_bytes = 1e9,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .n_components = 2,
                              .components = comps};
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  ph.metered = false; /* the overhead baseline is another row */
  ph.energy_j = ph.avg_power_w = ph.peak_power_w = NAN;
  ph.provenance = NULL;
  ph.n_components = 0;
  ph.components = NULL;
  /* where it ran, stored with an unmetered row as with a metered one */
  ph.tags_json = "{\"slurm_job_id\":\"43\",\"slurm_array_job_id\":\"40\","
                 "\"slurm_array_task_id\":\"3\"}";
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 128,
                                   .kind = "train",
                                   .profile_epochs = 0.2,
                                   .profile_steps = 8,
                                   .target_steps = 80,
                                   .level = 0.95,
                                   .duration_s = 22,
                                   .energy_j = 660,
                                   .net_energy_j = NAN,
                                   .provenance = "mixed",
                                   .actual_duration_s = 20,
                                   .actual_energy_j = 600};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  return id;
}

/* ---- the contract -------------------------------------------------------- */

static void open_create_migrate(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "g");
  struct gm_store *st = open_ok(p.loc);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  assert_string_equal(gm_store_kind(st), im->ops->name);
  assert_false(gm_store_is_readonly(st));
  assert_string_equal(gm_store_last_error(st), "no error");
  gm_store_close(st);
  assert_true(im->fx->exists(p.loc));
  /* opening again migrates nothing and keeps the version */
  st = open_ok(p.loc);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  gm_store_close(st);
  gm_store_close(NULL);
  place_free(&p);
}

static void newer_schema_refused_untouched(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "new");
  im->fx->make_newer(p.loc);
  size_t n0, n1;
  char *before = im->fx->snapshot(p.loc, &n0);
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open(p.loc, &st, err, sizeof(err)),
                   GM_ERR_SCHEMA_NEWER);
  assert_null(st);
  assert_non_null(strstr(err, "schema version 99"));
  assert_non_null(strstr(err, "left untouched"));
  err[0] = '\0';
  assert_int_equal(gm_store_open_readonly(p.loc, &st, err, sizeof(err)),
                   GM_ERR_SCHEMA_NEWER);
  assert_null(st);
  assert_non_null(strstr(err, "schema version 99"));
  char *after = im->fx->snapshot(p.loc, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
  place_free(&p);
}

static void hosts(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "h");
  struct gm_store *st = open_ok(p.loc);
  int64_t a = put_host(st, "fp-a");
  assert_int_equal(put_host(st, "fp-a"), a); /* same fingerprint, same row */
  int64_t b = put_host(st, "fp-b");
  assert_true(b != a);
  gm_store_close(st);
  place_free(&p);
}

static void a_run(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "r");
  struct gm_store *st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  int64_t run = begin_run(st, host, "train --epochs 1");
  for (uint64_t seq = 0; seq <= 4; seq++)
    add_sample(st, run, seq);
  assert_int_equal(gm_store_commit(st), GM_OK);
  assert_int_equal(gm_store_commit(st), GM_OK); /* nothing pending: a no-op */

  /* before the summary: what the samples account for */
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 1);
  const struct gm_store_run *r = &l->runs[0];
  assert_int_equal(r->id, run);
  assert_false(r->complete);
  assert_string_equal(r->kind, "measure");
  assert_string_equal(r->command, "train --epochs 1");
  assert_true(r->started_at[0] != '\0');
  assert_double_equal(r->duration_s, 0.4, 1e-9);
  assert_double_equal(r->energy_j, 10 * 0.4 + 50 * 0.4, 1e-9); /* not cores */
  assert_true(isnan(r->net_energy_j));
  assert_false(r->has_exit_code);
  assert_string_equal(r->provenance, "mixed"); /* energy.h's rule */
  gm_store_run_list_free(l);

  /* the series, tick by tick */
  struct gm_store_series *s = NULL;
  assert_int_equal(gm_store_load_series(st, run, false, &s), GM_OK);
  assert_int_equal(s->run_id, run);
  assert_int_equal(s->n_rows, 5);
  assert_int_equal(s->n_components, 3);
  assert_int_equal(s->n_metrics, 1);
  assert_string_equal(s->components[1].name, "gpu0");
  assert_string_equal(s->components[1].kind, "gpu");
  assert_string_equal(s->components[0].provenance, "modelled");
  assert_false(s->components[2].in_total);
  assert_string_equal(s->metrics[0].name, "cpu.util");
  assert_string_equal(s->metrics[0].unit, "%");
  for (size_t row = 0; row < 5; row++) {
    assert_int_equal(s->seq[row], (int64_t)row);
    assert_double_equal(s->t_s[row], 0.1 * (double)row, 1e-9);
    assert_double_equal(s->energy_j[row * 3 + 1], 5.0 * (double)row, 1e-9);
    assert_double_equal(s->metric[row], 40 + (double)row, 1e-9);
  }
  assert_true(isnan(s->power_w[0])); /* no interval before the first tick */
  assert_double_equal(s->power_w[2 * 3 + 1], 50, 1e-9);
  gm_store_series_free(s);
  assert_int_equal(gm_store_load_series(st, run, true, &s), GM_OK);
  assert_int_equal(s->n_rows, 0);
  assert_int_equal(s->n_components, 3);
  gm_store_series_free(s);
  assert_int_equal(gm_store_load_series(st, run + 100, false, &s),
                   GM_ERR_NOT_FOUND);
  assert_null(s);

  /* the summary marks it complete with the record's totals */
  struct record rec;
  make_record(&rec);
  struct gm_run_result res = {.exit_code = 3, .carbon_g = 0.1};
  assert_int_equal(gm_store_finish_run(st, run, &res, &rec.rec), GM_OK);
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 1);
  r = &l->runs[0];
  assert_true(r->complete);
  assert_true(r->has_exit_code);
  assert_int_equal(r->exit_code, 3);
  assert_double_equal(r->duration_s, 0.4, 1e-12);
  assert_double_equal(r->energy_j, rec.rec.total.gross_j, 1e-12);
  assert_double_equal(r->net_energy_j, rec.rec.total.net_j, 1e-12);
  assert_double_equal(r->net_energy_j, 24 - (5 + 20) * 0.4, 1e-12);
  assert_string_equal(r->provenance, "mixed");
  gm_store_run_list_free(l);

  /* newest first, and a limit */
  int64_t run2 = begin_run(st, host, NULL);
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 2);
  assert_int_equal(l->runs[0].id, run2);
  assert_null(l->runs[0].command);
  assert_double_equal(l->runs[0].duration_s, 0, 0); /* no sample yet */
  assert_double_equal(l->runs[0].energy_j, 0, 0);
  assert_int_equal(l->runs[1].id, run);
  gm_store_run_list_free(l);
  struct gm_store_run_filter one = {.limit = 1};
  assert_int_equal(gm_store_list_runs(st, &one, &l), GM_OK);
  assert_int_equal(l->n, 1);
  assert_int_equal(l->runs[0].id, run2);
  gm_store_run_list_free(l);
  gm_store_run_list_free(NULL);
  gm_store_close(st);
  place_free(&p);
}

/* A run whose samples are not all stored (two never arrived: a gap in seq
 * and the record's count) keeps its summary but stays incomplete, with the
 * cause, the count lost and the time up to which every sample is stored;
 * the samples buffered when the store closes are written. */
static void a_run_with_lost_samples(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "l");
  struct gm_store *st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  int64_t run = begin_run(st, host, "lossy");
  for (uint64_t seq = 0; seq <= 4; seq++)
    if (seq != 3)
      add_sample(st, run, seq);
  struct gm_store_sample_tally t;
  assert_int_equal(gm_store_sample_tally(st, run, &t), GM_OK);
  assert_int_equal(t.added, 4);
  assert_int_equal(t.pending, 4);
  assert_int_equal(t.lost, 1);
  assert_true(isnan(t.stored_until_s));
  struct record rec;
  make_record(&rec);
  rec.rec.dropped_samples = 2; /* the gap and one more at the end */
  struct gm_run_result res = {.exit_code = 0, .carbon_g = 0.1};
  assert_int_equal(gm_store_finish_run(st, run, &res, &rec.rec),
                   GM_ERR_DATABASE);
  assert_non_null(
      strstr(gm_store_last_error(st), "2 of 6 samples could not be stored"));
  assert_int_equal(gm_store_sample_tally(st, run, &t), GM_OK);
  assert_int_equal(t.stored, 4);
  assert_int_equal(t.lost, 2);
  assert_int_equal(t.pending, 0);
  assert_double_equal(t.stored_until_s, 0.2, 1e-9);
  int64_t run2 = begin_run(st, host, NULL);
  add_sample(st, run2, 0);
  gm_store_close(st); /* writes run2's sample */

  st = open_ro_ok(p.loc);
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 2);
  const struct gm_store_run *r = &l->runs[1];
  assert_int_equal(r->id, run);
  assert_false(r->complete);
  assert_non_null(r->incomplete_cause);
  assert_non_null(strstr(r->incomplete_cause, "never reached the store"));
  assert_int_equal(r->lost_samples, 2);
  assert_double_equal(r->stored_until_s, 0.2, 1e-9);
  /* the summary is there: the meter's totals, not the samples' */
  assert_true(r->has_exit_code);
  assert_double_equal(r->energy_j, rec.rec.total.gross_j, 1e-12);
  r = &l->runs[0];
  assert_false(r->complete);
  assert_null(r->incomplete_cause); /* never finished: nothing recorded */
  gm_store_run_list_free(l);
  struct gm_store_series *s = NULL;
  assert_int_equal(gm_store_load_series(st, run2, false, &s), GM_OK);
  assert_int_equal(s->n_rows, 1);
  gm_store_series_free(s);
  gm_store_close(st);
  place_free(&p);
}

static const struct gm_idle_entry *idle_entry(const struct gm_idle_baseline *b,
                                              const char *name) {
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0)
      return &b->entries[i];
  fail_msg("no idle entry '%s'", name);
  return NULL;
}

/* The stored mean power of (name, source); NAN when absent. */
static double idle_w(const struct gm_idle_baseline *b, const char *name,
                     const char *source) {
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0 &&
        strcmp(b->entries[i].source, source) == 0)
      return b->entries[i].mean_power_w;
  return NAN;
}

static void idle_baselines(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "i");
  struct gm_store *st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  struct gm_idle_baseline *b = NULL;
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_ERR_NOT_FOUND);
  assert_null(b);
  struct gm_idle_entry e[2] = {
      {"cpu", "cpu-tdp-model", 11.0, 0.5, 100, "TDP 20 W x CPU utilisation"},
      {"dram", "dram-model", 3.0, 0.0, 100, ""}};
  struct gm_idle_baseline in = {.duration_s = 10,
                                .n = 2,
                                .entries = e,
                                .interval_s = 0.1,
                                .cpu_tdp_w = 20,
                                .dimm_capacitance_f = NAN,
                                .cpu_util_pct = 12.5,
                                .busy = true};
  int64_t id1 = 0, id2 = 0;
  assert_int_equal(gm_store_save_idle(st, host, 0, &in, &id1), GM_OK);
  e[0].mean_power_w = 12.0;
  assert_int_equal(gm_store_save_idle(st, host, 0, &in, &id2), GM_OK);
  assert_true(id2 > id1);
  /* the newest is the host's; the first stays loadable by id */
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_OK);
  assert_int_equal(b->id, id2);
  assert_int_equal(b->n, 2);
  assert_double_equal(b->duration_s, 10, 0);
  assert_double_equal(idle_w(b, "cpu", "cpu-tdp-model"), 12.0, 0);
  assert_true(b->measured_at[0] != '\0');
  /* what it was measured with, and how busy the CPU was */
  assert_string_equal(idle_entry(b, "cpu")->detail,
                      "TDP 20 W x CPU utilisation");
  assert_string_equal(idle_entry(b, "dram")->detail, ""); /* not recorded */
  assert_double_equal(b->interval_s, 0.1, 0);
  assert_double_equal(b->cpu_tdp_w, 20, 0);
  assert_true(isnan(b->dimm_capacitance_f));
  assert_double_equal(b->cpu_util_pct, 12.5, 0);
  assert_true(b->busy);
  gm_idle_baseline_free(b);
  assert_int_equal(gm_store_load_idle_id(st, id1, &b), GM_OK);
  assert_double_equal(idle_w(b, "cpu", "cpu-tdp-model"), 11.0, 0);
  assert_double_equal(idle_w(b, "dram", "dram-model"), 3.0, 0);
  assert_int_equal(b->entries[0].n_intervals, 100);
  gm_idle_baseline_free(b);
  assert_int_equal(gm_store_load_idle_id(st, id2 + 100, &b), GM_ERR_NOT_FOUND);
  assert_null(b);
  gm_store_close(st);
  place_free(&p);
}

/* The precision is part of a row's key: the same model, batch size, kind,
 * epoch and metering in bf16 beside fp32, each once, with its components;
 * a row without one is fp32; predictions, the summary and the overhead
 * pairs keep the precisions apart. */
static void bench_rows_per_precision(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "bp");
  struct gm_store *st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  int64_t id = make_bench(st, host, "grid-p"); /* LeNet 128 train 1, fp32 */
  bool have = true;
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "bf16",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_false(have);
  struct gm_bench_component comp = {"cpu", "cpu", "modelled", true,
                                    150,   50,    15,         17};
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 128,
                              .precision = "bf16",
                              .kind = "train",
                              .epoch = 1,
                              .metered = true,
                              .duration_s = 5,
                              .steps = 40,
                              .samples = 5000,
                              .loss = 2.2,
                              .accuracy = 0.25,
                              .lr = 0.001,
                              .energy_j = 150,
                              .net_energy_j = 50,
                              .avg_power_w = 30,
                              .peak_power_w = 33,
                              .provenance = "modelled",
                              .cpu_util_pct = NAN,
                              .dram_used_bytes = NAN,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .n_components = 1,
                              .components = &comp};
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_ERR_STATE);
  assert_non_null(strstr(gm_store_last_error(st), "bf16"));
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "bf16",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_true(have);
  /* NULL is fp32: that row exists */
  ph.precision = NULL;
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_ERR_STATE);
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, NULL, "train",
                                            1, true, &have),
                   GM_OK);
  assert_true(have);
  /* an unmetered bf16 twin: an overhead pair of its own precision */
  ph.precision = "bf16";
  ph.metered = false;
  ph.duration_s = 4;
  ph.n_components = 0;
  ph.energy_j = ph.net_energy_j = ph.avg_power_w = ph.peak_power_w = NAN;
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 128,
                                   .kind = "train",
                                   .duration_s = 22,
                                   .energy_j = 630,
                                   .net_energy_j = NAN,
                                   .actual_duration_s = NAN,
                                   .actual_energy_j = NAN};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  pr.precision = "bf16";
  pr.duration_s = 11;
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  pr.duration_s = 12; /* replaced in its precision */
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);

  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  size_t fp32 = 0, bf16 = 0;
  for (size_t i = 0; i < set->n_phases; i++) {
    const struct gm_store_bench_phase *r = &set->phases[i];
    if (strcmp(r->precision, "fp32") == 0) {
      fp32++;
    } else {
      assert_string_equal(r->precision, "bf16");
      bf16++;
      if (r->metered) {
        assert_int_equal(r->n_components, 1);
        assert_double_equal(r->components[0].energy_j, 150, 0);
      }
    }
  }
  assert_int_equal(bf16, 2);
  assert_true(fp32 >= 1);
  assert_int_equal(set->n_predictions, 2);
  assert_string_equal(set->predictions[0].precision, "fp32");
  assert_string_equal(set->predictions[1].precision, "bf16");
  assert_double_equal(set->predictions[1].duration_s, 12, 0);
  gm_store_bench_set_free(set);
  struct gm_bench_summary_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(gm_store_bench_summary(st, id, &rows, &n), GM_OK);
  bool seen_bf16 = false;
  for (size_t i = 0; i < n; i++)
    if (strcmp(rows[i].precision, "bf16") == 0) {
      seen_bf16 = true;
      assert_string_equal(rows[i].kind, "train");
      assert_int_equal(rows[i].phases, 1);
      assert_double_equal(rows[i].energy_j, 150, 1e-9);
    }
  assert_true(seen_bf16);
  free(rows);
  struct gm_bench_overhead_row *oh = NULL;
  assert_int_equal(gm_store_bench_overhead(st, id, &oh, &n), GM_OK);
  int pairs = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(oh[i].kind, "train") == 0)
      pairs += oh[i].phases;
  /* make_bench's fp32 pair and the bf16 one, never fp32 with bf16 */
  assert_int_equal(pairs, 2);
  free(oh);
  gm_store_close(st);
  place_free(&p);
}

static void bench_rows(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "b");
  struct gm_store *st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_ERR_NOT_FOUND);
  int64_t id = make_bench(st, host, "grid-a"), dup = 0;
  struct gm_bench_meta again = {.name = "grid-a", .config_json = "{}"};
  assert_int_equal(gm_store_bench_create(st, host, &again, &dup), GM_ERR_STATE);
  assert_non_null(strstr(gm_store_last_error(st), "grid-a"));
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_OK);
  assert_int_equal(bi.id, id);
  assert_int_equal(bi.host_id, host);
  assert_string_equal(bi.name, "grid-a");
  assert_string_equal(bi.status, "running");
  assert_string_equal(bi.config_json, "{\"models\":[\"LeNet\"]}");
  gm_bench_info_clear(&bi);
  bool have = false;
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "fp32",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_true(have);
  assert_int_equal(gm_store_bench_has_phase(st, id, "LeNet", 128, "fp32",
                                            "train", 2, true, &have),
                   GM_OK);
  assert_false(have);
  struct gm_bench_phase twice = {.model = "LeNet",
                                 .batch_size = 128,
                                 .kind = "train",
                                 .epoch = 1,
                                 .metered = true,
                                 .duration_s = 1};
  assert_int_equal(gm_store_bench_add_phase(st, id, &twice), GM_ERR_STATE);
  /* a prediction is replaced, not added */
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 128,
                                   .kind = "train",
                                   .duration_s = 22,
                                   .energy_j = 630,
                                   .net_energy_j = NAN,
                                   .actual_duration_s = 20,
                                   .actual_energy_j = 600};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  struct gm_idle_entry e = {"cpu", "cpu-tdp-model", 11.0, 0.5, 100, "x"};
  struct gm_idle_baseline in = {.duration_s = 10, .n = 1, .entries = &e};
  int64_t base = 0;
  assert_int_equal(gm_store_save_idle(st, host, 0, &in, &base), GM_OK);
  assert_int_equal(gm_store_bench_set_idle(st, id, base), GM_OK);
  assert_int_equal(gm_store_bench_set_status(st, id, "complete"), GM_OK);
  assert_int_equal(gm_store_bench_find(st, NULL, &bi), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_store_bench_find(st, "grid-a", &bi), GM_OK);
  assert_string_equal(bi.status, "complete");
  assert_int_equal(bi.idle_baseline_id, base);
  gm_bench_info_clear(&bi);
  assert_int_equal(gm_store_bench_find(st, "nope", &bi), GM_ERR_NOT_FOUND);

  /* everything read back */
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_benches, 1);
  const struct gm_store_bench *b = &set->benches[0];
  assert_int_equal(b->id, id);
  assert_int_equal(b->host_id, host);
  assert_int_equal(b->idle_baseline_id, base);
  assert_string_equal(b->name, "grid-a");
  assert_string_equal(b->status, "complete");
  assert_string_equal(b->hostname, "box-fp");
  assert_string_equal(b->cpu_model, "Test CPU 9000");
  assert_string_equal(b->config_json, "{\"models\":[\"LeNet\"]}");
  assert_string_equal(b->versions_json, "{\"greenml\":\"0\"}");
  assert_string_equal(b->host_json, "{\"hostname\":\"box\"}");
  assert_true(b->created_at[0] && b->updated_at[0]);
  assert_int_equal(set->n_models, 1);
  assert_string_equal(set->models[0].model, "LeNet");
  assert_int_equal(set->models[0].params, 62006);
  assert_int_equal(set->models[0].macs, 651720);
  assert_double_equal(set->models[0].macs_per_param, 651720.0 / 62006, 1e-12);
  assert_int_equal(set->n_phases, 2);
  const struct gm_store_bench_phase *m = &set->phases[0], *u = &set->phases[1];
  assert_true(m->metered);
  assert_false(u->metered);
  assert_int_equal(m->bench_id, id);
  assert_string_equal(m->model, "LeNet");
  assert_string_equal(m->kind, "train");
  assert_int_equal(m->batch_size, 128);
  assert_int_equal(m->epoch, 1);
  assert_int_equal(m->run_id, 0);
  assert_int_equal(m->phase_idx, -1);
  assert_int_equal(m->steps, 40);
  assert_int_equal(m->samples, 5000);
  assert_double_equal(m->step_time_s, 0.25, 1e-12);
  assert_double_equal(m->samples_per_s, 500, 1e-9);
  assert_double_equal(m->j_per_sample, 0.064, 1e-12);
  assert_true(isnan(m->net_energy_j));
  assert_true(isnan(m->net_j_per_sample));
  assert_double_equal(m->loss, 2.1, 1e-12);
  assert_true(isnan(m->gpu_util_pct));
  assert_string_equal(m->provenance, "mixed");
  assert_int_equal(m->n_components, 2);
  assert_string_equal(m->components[0].name, "cpu");
  assert_string_equal(m->components[1].kind, "gpu");
  assert_string_equal(m->components[1].provenance, "measured");
  assert_true(m->components[1].in_total);
  assert_double_equal(m->components[0].net_energy_j, 100, 1e-12);
  assert_true(isnan(m->components[1].net_energy_j));
  assert_true(isnan(u->energy_j));
  assert_string_equal(u->provenance, "");
  assert_int_equal(u->n_components, 0);
  assert_null(m->tags_json);
  assert_non_null(u->tags_json);
  assert_string_equal(u->tags_json,
                      "{\"slurm_job_id\":\"43\",\"slurm_array_job_id\":\"40\","
                      "\"slurm_array_task_id\":\"3\"}");
  assert_int_equal(set->n_predictions, 1);
  const struct gm_store_bench_prediction *sp = &set->predictions[0];
  assert_double_equal(sp->energy_j, 630, 1e-12);
  assert_double_equal(sp->energy_error_rel, 0.05, 1e-12);
  assert_double_equal(sp->duration_error_rel, 0.1, 1e-12);
  assert_true(isnan(sp->net_energy_j));
  gm_store_bench_set_free(set);

  /* a second bench; the filter picks one, with or without its rows */
  int64_t id2 = make_bench(st, host, "grid-b");
  struct gm_store_bench_filter f = {.bench_id = id2, .rows = true};
  assert_int_equal(gm_store_load_benches(st, &f, &set), GM_OK);
  assert_int_equal(set->n_benches, 1);
  assert_string_equal(set->benches[0].name, "grid-b");
  assert_int_equal(set->n_phases, 2);
  assert_int_equal(set->phases[0].bench_id, id2);
  gm_store_bench_set_free(set);
  f = (struct gm_store_bench_filter){.bench_id = 0, .rows = false};
  assert_int_equal(gm_store_load_benches(st, &f, &set), GM_OK);
  assert_int_equal(set->n_benches, 2);
  assert_string_equal(set->benches[0].name, "grid-a"); /* oldest first */
  assert_int_equal(set->n_phases, 0);
  assert_int_equal(set->n_models, 0);
  gm_store_bench_set_free(set);
  f = (struct gm_store_bench_filter){.bench_id = id2 + 100, .rows = true};
  assert_int_equal(gm_store_load_benches(st, &f, &set), GM_OK);
  assert_int_equal(set->n_benches, 0);
  assert_int_equal(set->n_phases, 0);
  gm_store_bench_set_free(set);
  gm_store_bench_set_free(NULL);
  gm_store_close(st);
  place_free(&p);
}

static void read_only(void **state) {
  const struct impl *im = *state;
  struct place p;
  PLACE_OR_SKIP(im, &p, "ro");
  /* nothing there: refused, and nothing made */
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(gm_store_open_readonly(p.loc, &st, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_null(st);
  assert_non_null(strstr(err, "no database at"));
  assert_false(im->fx->exists(p.loc));

  st = open_ok(p.loc);
  int64_t host = put_host(st, "fp");
  int64_t run = begin_run(st, host, "true");
  add_sample(st, run, 0);
  add_sample(st, run, 1);
  int64_t bench = make_bench(st, host, "grid");
  struct gm_idle_entry e = {"cpu", "cpu-tdp-model", 11.0, 0.5, 100, "x"};
  struct gm_idle_baseline in = {.duration_s = 10, .n = 1, .entries = &e};
  int64_t base = 0;
  assert_int_equal(gm_store_save_idle(st, host, run, &in, &base), GM_OK);
  gm_store_close(st);
  size_t n0, n1;
  char *before = im->fx->snapshot(p.loc, &n0);

  st = open_ro_ok(p.loc);
  assert_true(gm_store_is_readonly(st));
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  /* every read works */
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 1);
  assert_double_equal(l->runs[0].energy_j, 10 * 0.1 + 50 * 0.1, 1e-9);
  gm_store_run_list_free(l);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_benches, 1);
  assert_int_equal(set->n_phases, 2);
  gm_store_bench_set_free(set);
  struct gm_store_series *s = NULL;
  assert_int_equal(gm_store_load_series(st, run, false, &s), GM_OK);
  assert_int_equal(s->n_rows, 2);
  gm_store_series_free(s);
  struct gm_idle_baseline *b = NULL;
  assert_int_equal(gm_store_load_idle(st, host, &b), GM_OK);
  assert_int_equal(b->id, base);
  gm_idle_baseline_free(b);
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(st, "grid", &bi), GM_OK);
  gm_bench_info_clear(&bi);
  bool have = false;
  assert_int_equal(gm_store_bench_has_phase(st, bench, "LeNet", 128, "fp32",
                                            "train", 1, true, &have),
                   GM_OK);
  assert_true(have);

  /* every write is refused */
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "other");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_ERR_STATE);
  assert_non_null(strstr(gm_store_last_error(st), "read-only"));
  struct gm_component_info c[3];
  components(c);
  struct gm_run_meta meta = {.kind = "measure", .interval_s = 0.1};
  assert_int_equal(gm_store_begin_run(st, host, &meta, 3, c, 0, NULL, &id),
                   GM_ERR_STATE);
  double ej[3] = {1, 2, 3};
  struct gm_sample smp = {
      .seq = 9, .n_components = 3, .energy_j = ej, .power_w = ej};
  assert_int_equal(gm_store_add_sample(st, run, &smp), GM_ERR_STATE);
  assert_int_equal(gm_store_commit(st), GM_OK);
  struct record rec;
  make_record(&rec);
  struct gm_run_result res = {.exit_code = 0};
  assert_int_equal(gm_store_finish_run(st, run, &res, &rec.rec), GM_ERR_STATE);
  assert_int_equal(gm_store_save_idle(st, host, 0, &in, &id), GM_ERR_STATE);
  struct gm_bench_meta bm = {.name = "other", .config_json = "{}"};
  assert_int_equal(gm_store_bench_create(st, host, &bm, &id), GM_ERR_STATE);
  assert_int_equal(gm_store_bench_set_status(st, bench, "failed"),
                   GM_ERR_STATE);
  assert_int_equal(gm_store_bench_set_idle(st, bench, 0), GM_ERR_STATE);
  struct gm_bench_model model = {.model = "VGG16"};
  assert_int_equal(gm_store_bench_put_model(st, bench, &model), GM_ERR_STATE);
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 128,
                              .kind = "train",
                              .epoch = 2,
                              .metered = true,
                              .duration_s = 1};
  assert_int_equal(gm_store_bench_add_phase(st, bench, &ph), GM_ERR_STATE);
  struct gm_bench_prediction pr = {.model = "LeNet", .kind = "infer"};
  assert_int_equal(gm_store_bench_put_prediction(st, bench, &pr), GM_ERR_STATE);
  gm_store_close(st);

  /* and the store is as it was, byte for byte */
  char *after = im->fx->snapshot(p.loc, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  free(before);
  free(after);
  place_free(&p);
}

/* Locations the registry serves, and those it does not. */
static void locations(void **state) {
  const struct impl *im = *state;
  struct gm_store *st = NULL;
  char err[512] = "";
  assert_int_equal(
      gm_store_open("nosuchstore://host/db", &st, err, sizeof(err)),
      GM_ERR_UNSUPPORTED);
  assert_null(st);
  assert_non_null(strstr(err, "nosuchstore://host/db"));
  /* the message names every implementation the registry has */
  for (size_t i = 0; i < gm__store_count; i++)
    assert_non_null(strstr(err, gm__stores[i]->name));
  assert_int_equal(
      gm_store_open_readonly("nosuchstore://host/db", &st, err, sizeof(err)),
      GM_ERR_UNSUPPORTED);
  assert_int_equal(gm_store_open("", &st, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_store_open(NULL, &st, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  /* the implementation's location reaches it */
  struct place p;
  PLACE_OR_SKIP(im, &p, "loc");
  st = open_ok(p.loc);
  assert_string_equal(gm_store_kind(st), im->ops->name);
  gm_store_close(st);
  if (im->ops->paths) {
    /* a file store names its file; the first such in the registry also
     * serves the bare path */
    char path[1024];
    assert_true(gm_store_location_file(p.loc, path, sizeof(path)));
    const struct gm__store_ops *first = NULL;
    for (size_t i = 0; i < gm__store_count && !first; i++)
      if (gm__stores[i]->paths)
        first = gm__stores[i];
    if (first == im->ops) {
      st = open_ok(path);
      assert_string_equal(gm_store_kind(st), im->ops->name);
      gm_store_close(st);
    }
  }
  assert_false(gm_store_location_file("nosuchstore://h/db", err, sizeof(err)));
  place_free(&p);
}

/* ---- every implementation ------------------------------------------------ */

static const struct {
  const char *name;
  CMUnitTestFunction fn;
} contract[] = {
    {"open_create_migrate", open_create_migrate},
    {"newer_schema_refused_untouched", newer_schema_refused_untouched},
    {"hosts", hosts},
    {"a_run", a_run},
    {"a_run_with_lost_samples", a_run_with_lost_samples},
    {"idle_baselines", idle_baselines},
    {"bench_rows", bench_rows},
    {"bench_rows_per_precision", bench_rows_per_precision},
    {"read_only", read_only},
    {"locations", locations},
};

#define N_CONTRACT (sizeof(contract) / sizeof(contract[0]))

int main(void) {
  static struct CMUnitTest tests[MAX_IMPLS * N_CONTRACT];
  static char names[MAX_IMPLS * N_CONTRACT][96];
  size_t n = 0;
  int missing = 0;
  for (size_t i = 0; i < gm__store_count && i < MAX_IMPLS; i++) {
    impls[i].ops = gm__stores[i];
    for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++)
      if (strcmp(fixtures[f].name, gm__stores[i]->name) == 0)
        impls[i].fx = &fixtures[f];
    if (!impls[i].fx) {
      fprintf(stderr,
              "test_store_contract: the store '%s' has no fixture here: add "
              "one to fixtures[]\n",
              gm__stores[i]->name);
      missing++;
      continue;
    }
    for (size_t t = 0; t < N_CONTRACT; t++, n++) {
      snprintf(names[n], sizeof(names[n]), "%s: %s", gm__stores[i]->name,
               contract[t].name);
      tests[n] = (struct CMUnitTest){.name = names[n],
                                     .test_func = contract[t].fn,
                                     .initial_state = &impls[i]};
    }
  }
  int failed = _cmocka_run_group_tests("store contract", tests, n, NULL, NULL);
  return failed + missing;
}
