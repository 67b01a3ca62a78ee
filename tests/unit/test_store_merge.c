/* test_store_merge.c: gm_store_merge on real SQLite files. Two stores
 * written through the public API as two hosts (a baseline, an idle run
 * that measured it, a measured run with samples and a phase, a bench whose
 * phase points at that run), merged into a third: every row once, ids the
 * output's, links intact, energies summing as in the inputs; merging again
 * and through another store copies nothing twice; two benches of one name;
 * an input of an older schema (before and after its migration); newer,
 * foreign, missing and self inputs refused with the files left byte for
 * byte; a damaged input leaving the output as it was; and the time a
 * merge of many samples takes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "greenml/store.h"
#include "helpers.h"

/* ---- building a host's store --------------------------------------------- */

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
  return id;
}

static void components(struct gm_component_info c[2]) {
  memset(c, 0, 2 * sizeof(*c));
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
}

/* A run of n ticks at 0.1 s, cpu at watts and gpu0 at 2 x watts, with one
 * phase over its middle; finished. Its id. */
static int64_t make_run(struct gm_store *st, int64_t host, const char *kind,
                        int64_t baseline, double watts, uint64_t n) {
  struct gm_component_info c[2];
  components(c);
  struct gm_metric_info mi[1];
  memset(mi, 0, sizeof(mi));
  snprintf(mi[0].name, sizeof(mi[0].name), "cpu.util");
  snprintf(mi[0].unit, sizeof(mi[0].unit), "%%");
  snprintf(mi[0].source, sizeof(mi[0].source), "procfs");
  struct gm_run_meta meta = {.kind = kind,
                             .interval_s = 0.1,
                             .command = "train --fast",
                             .carbon_g_per_kwh = 400,
                             .carbon_source = "test",
                             .pue = 1.0,
                             .idle_baseline_id = baseline};
  int64_t run = 0;
  assert_int_equal(gm_store_begin_run(st, host, &meta, 2, c, 1, mi, &run),
                   GM_OK);
  double w[2] = {watts, 2 * watts};
  for (uint64_t seq = 0; seq < n; seq++) {
    double t = 0.1 * (double)seq, e[2] = {w[0] * t, w[1] * t};
    double util = 40;
    struct gm_sample s = {.seq = seq,
                          .t_ns = (int64_t)llround(t * 1e9),
                          .n_components = 2,
                          .energy_j = e,
                          .power_w = w,
                          .n_metrics = 1,
                          .metrics = &util};
    assert_int_equal(gm_store_add_sample(st, run, &s), GM_OK);
  }
  assert_int_equal(gm_store_commit(st), GM_OK);
  double dur = 0.1 * (double)(n ? n - 1 : 0);
  struct gm_run_component rc[2];
  memset(rc, 0, sizeof(rc));
  double ph_e[2], ph_net[2];
  for (int i = 0; i < 2; i++) {
    rc[i].info = c[i];
    rc[i].stats.energy_j = w[i] * dur;
    rc[i].stats.avg_power_w = w[i];
    rc[i].stats.peak_power_w = w[i];
    rc[i].stats.power_energy_j = -1;
    rc[i].stats.xcheck_rel = -1;
    rc[i].idle_w = NAN;
    rc[i].net_energy_j = NAN;
    ph_e[i] = w[i] * dur / 2;
    ph_net[i] = NAN;
  }
  struct gm_run_metric rm[1];
  memset(rm, 0, sizeof(rm));
  rm[0].info = mi[0];
  rm[0].mean = 40;
  rm[0].max = 40;
  struct gm_run_phase ph[1];
  memset(ph, 0, sizeof(ph));
  snprintf(ph[0].name, sizeof(ph[0].name), "train");
  ph[0].start_s = dur / 4;
  ph[0].duration_s = dur / 2;
  ph[0].energy_j = ph_e;
  ph[0].net_energy_j = ph_net;
  struct gm_run_record rec;
  memset(&rec, 0, sizeof(rec));
  rec.duration_s = dur;
  rec.n_components = 2;
  rec.components = rc;
  rec.n_metrics = 1;
  rec.metrics = rm;
  rec.n_phases = 1;
  rec.phases = ph;
  struct gm_energy_part parts[2];
  for (int i = 0; i < 2; i++)
    parts[i] = (struct gm_energy_part){.provenance = c[i].provenance,
                                       .in_total = true,
                                       .gross_j = rc[i].stats.energy_j,
                                       .idle_w = NAN};
  gm_energy_account(parts, 2, dur, &rec.total);
  gm_energy_account(parts, 2, dur / 2, &ph[0].total);
  struct gm_run_result res = {.exit_code = 0, .carbon_g = 1};
  assert_int_equal(gm_store_finish_run(st, run, &res, &rec), GM_OK);
  return run;
}

/* A bench named name whose metered phase points at run's phase 0. */
static int64_t make_bench(struct gm_store *st, int64_t host, const char *name,
                          int64_t baseline, int64_t run, double energy_j) {
  struct gm_bench_meta meta = {.name = name,
                               .config_json = "{\"argv\":[]}",
                               .versions_json = "{\"greenml\":\"0\"}",
                               .host_json = "{}",
                               .idle_baseline_id = baseline};
  int64_t id = 0;
  assert_int_equal(gm_store_bench_create(st, host, &meta, &id), GM_OK);
  struct gm_bench_model bm = {.model = "LeNet",
                              .params = 62006,
                              .trainable_params = 62006,
                              .param_bytes = 248024,
                              .size_bytes = 248024,
                              .macs = 651720,
                              .macs_per_param = 651720.0 / 62006};
  assert_int_equal(gm_store_bench_put_model(st, id, &bm), GM_OK);
  struct gm_bench_component comps[1] = {
      {"cpu", "cpu", "modelled", true, energy_j, NAN, 30, 35}};
  struct gm_bench_phase ph = {.model = "LeNet",
                              .batch_size = 128,
                              .kind = "train",
                              .epoch = 1,
                              .metered = true,
                              .run_id = run,
                              .phase_idx = 0,
                              .start_s = 0.1,
                              .duration_s = 10,
                              .steps = 40,
                              .samples = 5000,
                              .loss = 2.1,
                              .accuracy = 0.3,
                              .lr = 0.001,
                              .energy_j = energy_j,
                              .net_energy_j = NAN,
                              .avg_power_w = 32,
                              .peak_power_w = 37,
                              .provenance = "modelled",
                              .cpu_util_pct = 97,
                              .dram_used_bytes = NAN,
                              .gpu_util_pct = NAN,
                              .vram_used_bytes = NAN,
                              .n_components = 1,
                              .components = comps};
  assert_int_equal(gm_store_bench_add_phase(st, id, &ph), GM_OK);
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 128,
                                   .kind = "train",
                                   .profile_epochs = 0.2,
                                   .level = 0.95,
                                   .duration_s = 11,
                                   .energy_j = energy_j * 1.1,
                                   .net_energy_j = NAN,
                                   .provenance = "modelled",
                                   .actual_duration_s = 10,
                                   .actual_energy_j = energy_j};
  assert_int_equal(gm_store_bench_put_prediction(st, id, &pr), GM_OK);
  assert_int_equal(gm_store_bench_set_status(st, id, "complete"), GM_OK);
  return id;
}

/* A host's store at path: a baseline measured by an idle run, a measured
 * run of n ticks, and a bench named bench on it. */
static void make_store(const char *path, const char *fingerprint,
                       const char *bench, double watts, uint64_t n) {
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  int64_t host = put_host(st, fingerprint);
  int64_t idle_run = make_run(st, host, "idle", 0, watts / 4, 5);
  struct gm_idle_entry e[2];
  memset(e, 0, sizeof(e));
  snprintf(e[0].name, sizeof(e[0].name), "cpu");
  snprintf(e[0].source, sizeof(e[0].source), "cpu-tdp-model");
  e[0].mean_power_w = watts / 4;
  snprintf(e[1].name, sizeof(e[1].name), "gpu0");
  snprintf(e[1].source, sizeof(e[1].source), "nvml");
  e[1].mean_power_w = watts / 2;
  struct gm_idle_baseline b = {.duration_s = 0.4,
                               .n = 2,
                               .entries = e,
                               .interval_s = 0.1,
                               .cpu_tdp_w = NAN,
                               .dimm_capacitance_f = NAN,
                               .cpu_util_pct = 1};
  int64_t base = 0;
  assert_int_equal(gm_store_save_idle(st, host, idle_run, &b, &base), GM_OK);
  int64_t run = make_run(st, host, "measure", base, watts, n);
  make_bench(st, host, bench, base, run, 10 * watts);
  gm_store_close(st);
}

/* ---- reading the files from outside -------------------------------------- */

static sqlite3 *open_file(const char *path) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  return db;
}

static long long scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  long long v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static double scalar_d(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  double v = sqlite3_column_double(s, 0);
  sqlite3_finalize(s);
  return v;
}

static long long count_in(const char *path, const char *sql) {
  sqlite3 *db = open_file(path);
  long long v = scalar(db, sql);
  sqlite3_close(db);
  return v;
}

static double sum_in(const char *path, const char *sql) {
  sqlite3 *db = open_file(path);
  double v = scalar_d(db, sql);
  sqlite3_close(db);
  return v;
}

/* A file's bytes with those of its -wal, and which of -wal and -shm
 * exist: what must not change. */
struct bytes {
  char *data;
  size_t len;
  bool wal, shm;
};

static void read_into(const char *path, struct bytes *b) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    b->data = realloc(b->data, b->len + n);
    assert_non_null(b->data);
    memcpy(b->data + b->len, buf, n);
    b->len += n;
  }
  fclose(f);
}

static struct bytes snapshot(const char *path) {
  struct bytes b = {0};
  char other[1024];
  struct stat sb;
  read_into(path, &b);
  snprintf(other, sizeof(other), "%s-wal", path);
  b.wal = stat(other, &sb) == 0;
  read_into(other, &b);
  snprintf(other, sizeof(other), "%s-shm", path);
  b.shm = stat(other, &sb) == 0;
  return b;
}

static void assert_unchanged(const struct bytes *before, const char *path) {
  struct bytes now = snapshot(path);
  assert_int_equal(now.len, before->len);
  assert_true(now.len == 0 || memcmp(now.data, before->data, now.len) == 0);
  assert_int_equal(now.wal, before->wal);
  assert_int_equal(now.shm, before->shm);
  free(now.data);
}

static enum gm_status merge_into(const char *out, const char *in,
                                 struct gm_store_merge_result *res) {
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(out, &st, NULL, 0), GM_OK);
  enum gm_status rc = gm_store_merge(st, in, res);
  if (rc != GM_OK)
    print_message("merge '%s': %s\n", in, gm_store_last_error(st));
  gm_store_close(st);
  return rc;
}

/* Every reference in out resolves, and to the same host. */
static void assert_links(const char *out) {
  sqlite3 *db = open_file(out);
  /* a bench phase's run exists, is its bench's host's, and has samples */
  assert_int_equal(scalar(db, "SELECT count(*) FROM bench_phases bp LEFT "
                              "JOIN runs r ON r.id=bp.run_id JOIN benches b "
                              "ON b.id=bp.bench_id WHERE r.id IS NULL OR "
                              "r.host_id<>b.host_id OR NOT EXISTS (SELECT 1 "
                              "FROM samples s WHERE s.run_id=r.id)"),
                   0);
  /* runs and benches point at a baseline of their host */
  assert_int_equal(scalar(db, "SELECT count(*) FROM runs r LEFT JOIN "
                              "idle_baselines i ON i.id=r.idle_baseline_id "
                              "WHERE r.kind='measure' AND (i.id IS NULL OR "
                              "i.host_id<>r.host_id)"),
                   0);
  assert_int_equal(scalar(db, "SELECT count(*) FROM benches b LEFT JOIN "
                              "idle_baselines i ON i.id=b.idle_baseline_id "
                              "WHERE i.id IS NULL OR i.host_id<>b.host_id"),
                   0);
  /* a baseline points at its idle run, of its host */
  assert_int_equal(scalar(db, "SELECT count(*) FROM idle_baselines i LEFT "
                              "JOIN runs r ON r.id=i.run_id WHERE r.id IS "
                              "NULL OR r.kind<>'idle' OR r.host_id<>i.host_id"),
                   0);
  /* no child row without its parent */
  assert_int_equal(
      scalar(db, "SELECT (SELECT count(*) FROM samples WHERE run_id NOT IN "
                 "(SELECT id FROM runs)) + (SELECT count(*) FROM components "
                 "WHERE run_id NOT IN (SELECT id FROM runs)) + (SELECT "
                 "count(*) FROM phases WHERE run_id NOT IN (SELECT id FROM "
                 "runs)) + (SELECT count(*) FROM metric_samples WHERE run_id "
                 "NOT IN (SELECT id FROM runs)) + (SELECT count(*) FROM "
                 "idle_components WHERE baseline_id NOT IN (SELECT id FROM "
                 "idle_baselines)) + (SELECT count(*) FROM bench_models WHERE "
                 "bench_id NOT IN (SELECT id FROM benches))"),
      0);
  sqlite3_close(db);
}

struct pair {
  char *dir, *a, *b, *out;
};

static struct pair two_hosts(uint64_t n) {
  struct pair p;
  p.dir = gmt_mkdtemp();
  p.a = gmt_path(p.dir, "a.db");
  p.b = gmt_path(p.dir, "b.db");
  p.out = gmt_path(p.dir, "out.db");
  make_store(p.a, "alpha", "default", 10, n);
  make_store(p.b, "beta", "default", 20, n);
  return p;
}

static void pair_free(struct pair *p) {
  gmt_rmtree(p->dir);
  free(p->dir);
  free(p->a);
  free(p->b);
  free(p->out);
}

/* ---- the tests ----------------------------------------------------------- */

static void two_hosts_merge_into_one(void **state) {
  (void)state;
  struct pair p = two_hosts(50);
  struct bytes a0 = snapshot(p.a), b0 = snapshot(p.b);
  assert_false(a0.wal || a0.shm);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(r.input_schema, GM_STORE_SCHEMA_VERSION);
  assert_int_equal(strlen(r.input_uid), 32);
  assert_int_equal(r.hosts_added, 1);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(r.baselines_copied, 1);
  assert_int_equal(r.benches_copied, 1);
  assert_int_equal(r.benches_renamed, 0);
  assert_int_equal(r.samples_copied, (50 + 5) * 2);
  assert_int_equal(r.metric_samples_copied, 50 + 5);
  assert_int_equal(merge_into(p.out, p.b, &r), GM_OK);
  assert_int_equal(r.hosts_added, 1);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(r.benches_copied, 1);
  /* both used the default name: the second is renamed after its host */
  assert_int_equal(r.benches_renamed, 1);
  assert_int_equal(r.n_renames, 1);
  assert_string_equal(r.renames[0].from, "default");
  assert_string_equal(r.renames[0].to, "default@beta");
  /* the inputs are as they were, without -wal or -shm */
  assert_unchanged(&a0, p.a);
  assert_unchanged(&b0, p.b);
  free(a0.data);
  free(b0.data);

  /* every row once, energies as in the inputs */
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM hosts"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs"), 4);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM idle_baselines"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM idle_components"), 4);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM benches"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM bench_phases"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM "
                                   "bench_phase_components"),
                   2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM bench_predictions"),
                   2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM phases"), 4);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM phase_components"), 8);
  const char *const sums[] = {"SELECT sum(energy_j) FROM samples",
                              "SELECT sum(total_energy_j) FROM runs",
                              "SELECT sum(energy_j) FROM phase_components",
                              "SELECT sum(energy_j) FROM bench_phases",
                              "SELECT sum(mean_power_w) FROM idle_components"};
  for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++)
    assert_double_equal(sum_in(p.out, sums[i]),
                        sum_in(p.a, sums[i]) + sum_in(p.b, sums[i]), 1e-6);
  /* each host's runs carry the energy of its own store */
  assert_double_equal(
      sum_in(p.out, "SELECT sum(s.energy_j) FROM samples s JOIN runs r ON "
                    "r.id=s.run_id JOIN hosts h ON h.id=r.host_id WHERE "
                    "h.fingerprint='beta'"),
      sum_in(p.b, "SELECT sum(energy_j) FROM samples"), 1e-6);
  /* copied rows carry their origin: the input's id and the row's there */
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs WHERE "
                                   "origin_db IS NULL OR origin_id IS NULL"),
                   0);
  assert_links(p.out);

  /* the queries see both hosts */
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open_readonly(p.out, &st, NULL, 0), GM_OK);
  struct gm_store_run_list *l = NULL;
  assert_int_equal(gm_store_list_runs(st, NULL, &l), GM_OK);
  assert_int_equal(l->n, 4);
  int alpha = 0, beta = 0;
  for (size_t i = 0; i < l->n; i++) {
    alpha += strcmp(l->runs[i].hostname, "box-alpha") == 0;
    beta += strcmp(l->runs[i].fingerprint, "beta") == 0;
    assert_true(l->runs[i].complete);
  }
  assert_int_equal(alpha, 2);
  assert_int_equal(beta, 2);
  gm_store_run_list_free(l);
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(st, NULL, &set), GM_OK);
  assert_int_equal(set->n_benches, 2);
  assert_string_equal(set->benches[0].name, "default");
  assert_string_equal(set->benches[1].name, "default@beta");
  assert_string_equal(set->benches[1].hostname, "box-beta");
  assert_int_equal(set->n_phases, 2);
  struct gm_store_series *ser = NULL;
  assert_int_equal(gm_store_load_series(st, set->phases[1].run_id, false, &ser),
                   GM_OK);
  assert_int_equal(ser->n_rows, 50);
  assert_double_equal(ser->power_w[2 * 10 + 1], 40, 1e-9); /* beta: 2 x 20 W */
  gm_store_series_free(ser);
  gm_store_bench_set_free(set);
  gm_store_close(st);
  pair_free(&p);
}

static void merging_again_copies_nothing(void **state) {
  (void)state;
  struct pair p = two_hosts(20);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(r.hosts_matched, 1);
  assert_int_equal(r.hosts_added, 0);
  assert_int_equal(r.runs_copied + r.baselines_copied + r.benches_copied, 0);
  assert_int_equal(r.runs_skipped, 2);
  assert_int_equal(r.baselines_skipped, 1);
  assert_int_equal(r.benches_skipped, 1);
  assert_int_equal(r.samples_copied, 0);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM samples"),
                   count_in(p.a, "SELECT count(*) FROM samples"));

  /* A into B, then A and B into another: A's rows come once */
  char *out2 = gmt_path(p.dir, "out2.db");
  assert_int_equal(merge_into(p.b, p.a, &r), GM_OK);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(merge_into(out2, p.a, &r), GM_OK);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(merge_into(out2, p.b, &r), GM_OK);
  assert_int_equal(r.runs_copied, 2); /* B's own; A's are there */
  assert_int_equal(r.runs_skipped, 2);
  assert_int_equal(r.benches_skipped, 1);
  assert_int_equal(r.benches_copied, 1);
  assert_int_equal(count_in(out2, "SELECT count(*) FROM runs"), 4);
  assert_int_equal(count_in(out2, "SELECT count(*) FROM benches"), 2);
  assert_int_equal(count_in(out2, "SELECT count(*) FROM idle_baselines"), 2);
  assert_int_equal(count_in(out2, "SELECT count(*) FROM samples"),
                   count_in(p.b, "SELECT count(*) FROM samples"));
  /* and back: out2 into A brings B's rows alone; A's own are found */
  assert_int_equal(merge_into(p.a, out2, &r), GM_OK);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(r.runs_skipped, 2);
  assert_int_equal(count_in(p.a, "SELECT count(*) FROM runs"), 4);
  assert_int_equal(count_in(p.a, "SELECT count(*) FROM benches"), 2);
  assert_links(out2);
  assert_links(p.a);
  free(out2);
  pair_free(&p);
}

/* Benches named alike from three stores, two of them on one host: the
 * names are those of the first, then after the host, then after the
 * origin; merged again, none is copied or renamed twice. */
static void benches_of_one_name(void **state) {
  (void)state;
  struct pair p = two_hosts(5);
  char *c = gmt_path(p.dir, "c.db");
  make_store(c, "beta", "default", 30, 5);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(merge_into(p.out, p.b, &r), GM_OK);
  assert_int_equal(merge_into(p.out, c, &r), GM_OK);
  assert_int_equal(r.hosts_matched, 1);
  assert_int_equal(r.benches_renamed, 1);
  char want[256];
  snprintf(want, sizeof(want), "default@beta#%.8s-1", r.input_uid);
  assert_string_equal(r.renames[0].to, want);
  assert_int_equal(merge_into(p.out, c, &r), GM_OK);
  assert_int_equal(r.benches_renamed, 0);
  assert_int_equal(r.benches_skipped, 1);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM benches"), 3);
  assert_int_equal(count_in(p.out, "SELECT count(DISTINCT name) FROM benches"),
                   3);
  assert_links(p.out);
  free(c);
  pair_free(&p);
}

static void exec_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("%s: %s", sql, msg ? msg : "?");
  sqlite3_close(db);
}

/* A store of schema 4 merges as it is (the later columns NULL), left as it
 * was; merged again, before and after its own migration, nothing twice. */
static void an_older_input(void **state) {
  (void)state;
  struct pair p = two_hosts(10);
  exec_sql(p.a, gmt_sql_undo_schemas_5_9());
  exec_sql(p.a, "PRAGMA user_version=4");
  struct bytes a0 = snapshot(p.a);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(r.input_schema, 4);
  assert_int_equal(r.runs_copied, 2);
  assert_int_equal(r.benches_copied, 1);
  assert_int_equal(r.samples_copied, (10 + 5) * 2);
  assert_unchanged(&a0, p.a);
  free(a0.data);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs WHERE "
                                   "total_partial IS NULL AND attributed_j "
                                   "IS NULL"),
                   2);
  /* rows from before precisions are fp32 in the output */
  assert_true(count_in(p.out, "SELECT count(*) FROM bench_phases") > 0);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM bench_phases WHERE "
                                   "precision <> 'fp32'"),
                   0);
  assert_links(p.out);
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(r.runs_copied, 0);
  assert_int_equal(r.runs_skipped, 2);
  /* migrated, A keeps the id its rows were merged with */
  char uid[40];
  snprintf(uid, sizeof(uid), "%s", r.input_uid);
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(p.a, &st, NULL, 0), GM_OK);
  gm_store_close(st);
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_string_equal(r.input_uid, uid);
  assert_int_equal(r.runs_copied + r.benches_copied + r.baselines_copied, 0);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs"), 2);
  pair_free(&p);
}

/* Inputs refused before anything is written: a newer schema, another
 * program's database, a file that is not SQLite, a missing file, the
 * output itself under three names. The files stay byte for byte. */
static void refused_inputs(void **state) {
  (void)state;
  struct pair p = two_hosts(5);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  char *newer = gmt_path(p.dir, "newer.db"), *foreign = gmt_path(p.dir, "f.db");
  char *junk = gmt_path(p.dir, "junk.db");
  make_store(newer, "gamma", "x", 5, 3);
  exec_sql(newer, "PRAGMA user_version=99");
  exec_sql(foreign, "CREATE TABLE photos(x); INSERT INTO photos VALUES (1);");
  gmt_write(p.dir, "junk.db",
            "not a database at all, but long enough to "
            "look at its first hundred bytes......."
            "...................................");
  struct bytes n0 = snapshot(newer), f0 = snapshot(foreign),
               j0 = snapshot(junk), o0 = snapshot(p.out);
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(p.out, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_merge(st, newer, &r), GM_ERR_SCHEMA_NEWER);
  assert_non_null(strstr(gm_store_last_error(st), "schema version 99"));
  assert_int_equal(r.runs_copied, 0);
  assert_int_equal(gm_store_merge(st, foreign, &r), GM_ERR_PARSE);
  assert_int_equal(gm_store_merge(st, junk, &r), GM_ERR_PARSE);
  char *missing = gmt_path(p.dir, "missing.db");
  assert_int_equal(gm_store_merge(st, missing, &r), GM_ERR_NOT_FOUND);
  assert_false(access(missing, F_OK) == 0);
  /* the output under its own name, another path and a link */
  char *other = gmt_path(p.dir, "./out.db"), *link = gmt_path(p.dir, "l.db");
  assert_int_equal(symlink(p.out, link), 0);
  assert_int_equal(gm_store_merge(st, p.out, &r), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_store_last_error(st), "itself"));
  assert_int_equal(gm_store_merge(st, other, &r), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_store_merge(st, link, &r), GM_ERR_INVALID_ARG);
  gm_store_close(st);
  /* read-only handles do not merge */
  assert_int_equal(gm_store_open_readonly(p.out, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_merge(st, p.b, &r), GM_ERR_STATE);
  gm_store_close(st);
  assert_unchanged(&n0, newer);
  assert_unchanged(&f0, foreign);
  assert_unchanged(&j0, junk);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs"), 2);
  (void)o0;
  free(n0.data);
  free(f0.data);
  free(j0.data);
  free(o0.data);
  free(newer);
  free(foreign);
  free(junk);
  free(missing);
  free(other);
  free(link);
  pair_free(&p);
}

/* An input whose samples cannot be read (the root page of the table
 * overwritten) fails the merge midway: the output is left as it was. */
static void a_damaged_input_changes_nothing(void **state) {
  (void)state;
  struct pair p = two_hosts(400);
  struct gm_store_merge_result r;
  assert_int_equal(merge_into(p.out, p.b, &r), GM_OK);
  long long root = count_in(p.a, "SELECT rootpage FROM sqlite_master WHERE "
                                 "name='samples'");
  long long page = count_in(p.a, "PRAGMA page_size");
  int fd = open(p.a, O_WRONLY);
  assert_true(fd >= 0);
  char junk[512];
  memset(junk, 0x5a, sizeof(junk));
  assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)((root - 1) * page)),
                   (ssize_t)sizeof(junk));
  close(fd);
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(p.out, &st, NULL, 0), GM_OK);
  enum gm_status rc = gm_store_merge(st, p.a, &r);
  assert_int_equal(rc, GM_ERR_PARSE);
  assert_non_null(strstr(gm_store_last_error(st), "samples"));
  assert_int_equal(r.runs_copied, 0);
  gm_store_close(st);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM hosts"), 1);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM runs"), 2);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM idle_baselines"), 1);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM benches"), 1);
  assert_int_equal(count_in(p.out, "SELECT count(*) FROM samples"),
                   count_in(p.b, "SELECT count(*) FROM samples"));
  pair_free(&p);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The time a merge takes: a store of 20 000 ticks (40 000 samples, 20 000
 * metric samples) into an empty one. */
static void merge_time(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *a = gmt_path(dir, "a.db"), *out = gmt_path(dir, "out.db");
  make_store(a, "alpha", "default", 10, 20000);
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(out, &st, NULL, 0), GM_OK);
  struct gm_store_merge_result r;
  double t0 = now_s();
  assert_int_equal(gm_store_merge(st, a, &r), GM_OK);
  double dt = now_s() - t0;
  gm_store_close(st);
  uint64_t rows = r.samples_copied + r.metric_samples_copied;
  print_message("merge: %llu samples and %llu metric samples in %.3f s (%.0f "
                "rows/s)\n",
                (unsigned long long)r.samples_copied,
                (unsigned long long)r.metric_samples_copied, dt,
                (double)rows / dt);
  assert_int_equal(r.samples_copied, (20000 + 5) * 2);
  free(a);
  free(out);
  gmt_rmtree(dir);
  free(dir);
}

#ifdef GM_TEST_HAVE_POSTGRES
/* The same two files merged into a PostgreSQL database and into a SQLite
 * one hold the same rows: counts and sums of every table, the samples in
 * batches (3,000 ticks: several batches and a partial one), every id and
 * link the same; merging again copies nothing. */
static void into_postgres(void **state) {
  (void)state;
  struct pair p = two_hosts(3000);
  char *db = gmt_pg_new_db("merge");
  char *uri = gmt_pg_uri(db);
  struct gm_store_merge_result r;
  struct gm_store *pg = NULL;
  assert_int_equal(gm_store_open(uri, &pg, NULL, 0), GM_OK);
  assert_int_equal(gm_store_merge(pg, p.a, &r), GM_OK);
  assert_int_equal(r.samples_copied, (3000 + 5) * 2);
  assert_int_equal(gm_store_merge(pg, p.b, &r), GM_OK);
  assert_int_equal(r.n_renames, 1);
  assert_string_equal(r.renames[0].to, "default@beta");
  assert_int_equal(gm_store_merge(pg, p.b, &r), GM_OK);
  assert_int_equal(r.runs_copied + r.benches_copied + r.baselines_copied, 0);
  assert_int_equal(r.runs_skipped, 2);
  gm_store_close(pg);
  assert_int_equal(merge_into(p.out, p.a, &r), GM_OK);
  assert_int_equal(merge_into(p.out, p.b, &r), GM_OK);
  static const char *const sums[] = {
      "SELECT count(*) FROM hosts",
      "SELECT count(*) FROM runs",
      "SELECT sum(id * 7 + host_id * 3 + coalesce(idle_baseline_id, 0)) FROM "
      "runs",
      "SELECT count(*) FROM samples",
      "SELECT sum(run_id * 100000 + seq * 10 + component_idx) FROM samples",
      "SELECT round(sum(energy_j) * 1000) FROM samples",
      "SELECT count(*) FROM metric_samples",
      "SELECT count(*) FROM idle_baselines",
      "SELECT sum(run_id) FROM idle_baselines",
      "SELECT count(*) FROM benches",
      "SELECT count(*) FROM bench_phases",
      "SELECT sum(run_id) FROM bench_phases",
      "SELECT count(*) FROM components",
      "SELECT count(*) FROM phases"};
  for (size_t i = 0; i < sizeof(sums) / sizeof(*sums); i++) {
    long long want = count_in(p.out, sums[i]), got = gmt_pg_value(uri, sums[i]);
    if (want != got)
      fail_msg("%s: %lld in SQLite, %lld in PostgreSQL", sums[i], want, got);
  }
  assert_true(count_in(p.out, "SELECT count(*) FROM samples") > 12000);
  free(uri);
  free(db);
  pair_free(&p);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_hosts_merge_into_one),
      cmocka_unit_test(merging_again_copies_nothing),
      cmocka_unit_test(benches_of_one_name),
      cmocka_unit_test(an_older_input),
      cmocka_unit_test(refused_inputs),
      cmocka_unit_test(a_damaged_input_changes_nothing),
      cmocka_unit_test(merge_time),
#ifdef GM_TEST_HAVE_POSTGRES
      cmocka_unit_test(into_postgres),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
