/* test_analysis.c: the analysis library (greenml/analysis.h) on small
 * databases built here through the store's bench API, with answers known
 * in advance: energy exactly proportional to time (r = 1, the claim
 * agrees), rank correlations worked by hand (with ties), a batch-size and a
 * train/infer ratio set, estimates on data that follow an exact law (the
 * law comes back, with no leave-one-out error), an outlier model that is
 * the worst left out, tests that cannot run and say why, and a time series
 * read back row by row. */
#define _GNU_SOURCE
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/analysis.h"
#include "greenml/nn.h"
#include "greenml/stats.h"
#include "greenml/store.h"
#include "helpers.h"

/* ---- building databases -------------------------------------------------- */

struct db {
  char *dir, *path;
  struct gm_store *st;
  int64_t host, bench;
};

static int64_t add_host(struct gm_store *st, const char *fp) {
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "%s", fp);
  snprintf(h.hostname, sizeof(h.hostname), "box-%s", fp);
  snprintf(h.cpu_model, sizeof(h.cpu_model), "Test CPU");
  snprintf(h.dimms_json, sizeof(h.dimms_json), "[]");
  snprintf(h.gpus_json, sizeof(h.gpus_json), "[]");
  int64_t id = 0;
  assert_int_equal(gm_store_put_host(st, &h, &id), GM_OK);
  return id;
}

/* Runs sql on the database file with a connection of its own (rows the
 * store's API does not write). */
static void exec_on_file(const char *path, const char *sql) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);
}

static int64_t add_bench(struct db *d, const char *name, int64_t host) {
  struct gm_bench_meta meta = {.name = name, .config_json = "{}"};
  int64_t id = 0;
  assert_int_equal(gm_store_bench_create(d->st, host, &meta, &id), GM_OK);
  return id;
}

static void db_open(struct db *d) {
  memset(d, 0, sizeof(*d));
  d->dir = gmt_mkdtemp();
  d->path = gmt_path(d->dir, "a.db");
  assert_int_equal(gm_store_open(d->path, &d->st, NULL, 0), GM_OK);
  d->host = add_host(d->st, "h1");
  d->bench = add_bench(d, "grid", d->host);
}

static void db_close(struct db *d) {
  gm_store_close(d->st);
  gmt_rmtree(d->dir);
  free(d->dir);
  free(d->path);
}

static struct gm_analysis_table *load(struct db *d, const char *bench) {
  struct gm_analysis_table *t = NULL;
  char err[256];
  assert_int_equal(gm_analysis_load(d->st, bench, &t, err, sizeof(err)), GM_OK);
  return t;
}

/* A model with params parameters and macs_per_param x params MACs. */
static void add_model(struct db *d, int64_t bench, const char *model,
                      double macs_per_param) {
  struct gm_bench_model m = {.model = model,
                             .params = 1000,
                             .trainable_params = 1000,
                             .param_bytes = 4000,
                             .size_bytes = 4000,
                             .macs = (int64_t)llround(macs_per_param * 1000),
                             .macs_per_param = macs_per_param};
  assert_int_equal(gm_store_bench_put_model(d->st, bench, &m), GM_OK);
}

struct phase {
  const char *model, *kind;
  int batch, epoch;
  double samples, duration_s, energy_j;
  double gpu_util, cpu_util; /* NAN: not recorded */
  double net_energy_j;       /* NAN: no baseline */
};

/* A metered phase whose energy is 60 % gpu0 (measured) and 40 % cpu
 * (modelled). */
static void add_phase(struct db *d, int64_t bench, const struct phase *p) {
  struct gm_bench_component comps[2] = {
      {"gpu0", "gpu", "measured", true, 0.6 * p->energy_j, NAN,
       0.6 * p->energy_j / p->duration_s, NAN},
      {"cpu", "cpu", "modelled", true, 0.4 * p->energy_j, NAN,
       0.4 * p->energy_j / p->duration_s, NAN}};
  struct gm_bench_phase row = {.model = p->model,
                               .batch_size = p->batch,
                               .kind = p->kind,
                               .epoch = p->epoch,
                               .metered = true,
                               .start_s = NAN,
                               .duration_s = p->duration_s,
                               .steps = 1,
                               .samples = (int64_t)p->samples,
                               .loss = NAN,
                               .accuracy = NAN,
                               .lr = NAN,
                               .energy_j = p->energy_j,
                               .net_energy_j = p->net_energy_j,
                               .avg_power_w = p->energy_j / p->duration_s,
                               .peak_power_w = NAN,
                               .provenance = "mixed",
                               .cpu_util_pct = p->cpu_util,
                               .dram_used_bytes = NAN,
                               .gpu_util_pct = p->gpu_util,
                               .vram_used_bytes = NAN,
                               .n_components = 2,
                               .components = comps};
  assert_int_equal(gm_store_bench_add_phase(d->st, bench, &row), GM_OK);
}

static void phase(struct db *d, const char *model, const char *kind, int batch,
                  int epoch, double samples, double duration_s,
                  double energy_j) {
  struct phase p = {model,      kind,     batch, epoch, samples,
                    duration_s, energy_j, NAN,   NAN,   NAN};
  add_phase(d, d->bench, &p);
}

/* ---- loading ------------------------------------------------------------- */

static void loads_benches_phases_and_components(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  struct gm_analysis_table *t = load(&d, NULL);
  assert_int_equal(t->n_benches, 1); /* a bench without phases */
  assert_int_equal(t->n_phases, 0);
  gm_analysis_table_free(t);

  add_model(&d, d.bench, "LeNet", 10.5);
  phase(&d, "LeNet", "train", 32, 1, 320, 2, 100);
  phase(&d, "LeNet", "infer", 32, 1, 640, 1, 50);
  phase(&d, "Other", "train", 16, 1, 160, 1, 30); /* no bench_models row */
  int64_t b2 = add_bench(&d, "second", d.host);
  struct phase p = {"LeNet", "train", 64, 1, 640, 3, 90, NAN, NAN, NAN};
  add_phase(&d, b2, &p);

  t = load(&d, NULL);
  assert_int_equal(t->n_benches, 2);
  assert_string_equal(t->benches[0].name, "grid");
  assert_string_equal(t->benches[0].hostname, "box-h1");
  assert_string_equal(t->benches[0].status, "running");
  assert_int_equal(t->benches[0].n_phases, 3);
  assert_int_equal(t->benches[1].n_phases, 1);
  assert_int_equal(t->n_phases, 4);
  const struct gm_analysis_phase *a = &t->phases[0];
  assert_string_equal(a->model, "LeNet");
  assert_string_equal(a->kind, "train");
  assert_int_equal(a->samples, 320);
  assert_double_equal(a->energy_j, 100, 1e-12);
  assert_double_equal(a->macs_per_param, 10.5, 1e-12);
  assert_int_equal(a->macs, 10500);
  assert_int_equal(a->host_id, d.host);
  assert_int_equal(a->run_id, 0);
  assert_int_equal(a->phase_idx, -1);
  assert_true(isnan(a->loss));
  assert_int_equal(a->n_components, 2);
  assert_string_equal(a->components[0].name, "gpu0");
  assert_string_equal(a->components[0].provenance, "measured");
  assert_double_equal(a->components[1].energy_j, 40, 1e-12);
  assert_int_equal(t->phases[2].params, 0);
  assert_true(isnan(t->phases[2].macs_per_param));
  assert_int_equal(t->phases[3].bench, 1);
  assert_int_equal(t->phases[3].bench_id, b2);
  gm_analysis_table_free(t);

  /* one bench, by name or by id */
  t = load(&d, "second");
  assert_int_equal(t->n_benches, 1);
  assert_int_equal(t->n_phases, 1);
  assert_int_equal(t->phases[0].bench, 0);
  gm_analysis_table_free(t);
  char id[32];
  snprintf(id, sizeof(id), "%lld", (long long)d.bench);
  t = load(&d, id);
  assert_int_equal(t->n_phases, 3);
  gm_analysis_table_free(t);
  char err[256] = "";
  assert_int_equal(gm_analysis_load(d.st, "nope", &t, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_null(t);
  assert_non_null(strstr(err, "nope"));
  db_close(&d);
}

static void reads_a_time_series_back(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  char sql[2048];
  snprintf(sql, sizeof(sql),
           "INSERT INTO runs(id, host_id, kind, started_at, interval_s, "
           "greenml_version) VALUES (7, %lld, 'bench', 'x', 0.1, '0');"
           "INSERT INTO components(run_id, idx, name, kind, domain, source, "
           "provenance, signal, in_total) VALUES "
           "(7, 0, 'gpu0', 'gpu', 'gpu', 'nvml', 'measured', 'power sensor', "
           "1), (7, 1, 'cpu', 'cpu', 'package', 'cpu-tdp-model', 'modelled', "
           "'model', 1);"
           "INSERT INTO metrics(run_id, idx, name, unit, source) VALUES "
           "(7, 0, 'cpu.util', '%%', 'procfs'), (7, 1, 'mem.used', 'B', "
           "'procfs');"
           "INSERT INTO samples VALUES (7, 0, 0, 0.0, 0, NULL), "
           "(7, 0, 1, 0.0, 0, NULL), (7, 1, 0, 0.1, 5, 50), "
           "(7, 1, 1, 0.1, 2, 20), (7, 2, 0, 0.2, 10, 50);"
           "INSERT INTO metric_samples VALUES (7, 1, 0, 40), (7, 1, 1, 1e9), "
           "(7, 2, 1, 2e9), (7, 3, 0, 99);",
           (long long)d.host);
  exec_on_file(d.path, sql);
  struct gm_analysis_series *s = NULL;
  assert_int_equal(gm_analysis_load_series(d.st, 7, &s, NULL, 0), GM_OK);
  assert_int_equal(s->n_rows, 3);
  assert_int_equal(s->n_components, 2);
  assert_int_equal(s->n_metrics, 2);
  assert_string_equal(s->components[1].name, "cpu");
  assert_string_equal(s->components[1].provenance, "modelled");
  assert_string_equal(s->metrics[0].unit, "%");
  assert_double_equal(s->t_s[2], 0.2, 1e-12);
  assert_double_equal(s->energy_j[1 * 2 + 0], 5, 1e-12);
  assert_double_equal(s->power_w[1 * 2 + 1], 20, 1e-12);
  assert_true(isnan(s->power_w[0]));
  assert_true(isnan(s->energy_j[2 * 2 + 1])); /* cpu missing at seq 2 */
  assert_double_equal(s->metric[1 * 2 + 0], 40, 1e-12);
  assert_double_equal(s->metric[2 * 2 + 1], 2e9, 1e-3);
  assert_true(isnan(s->metric[0]));
  gm_analysis_series_free(s);
  s = NULL;
  assert_int_equal(gm_analysis_load_series_columns(d.st, 7, &s, NULL, 0),
                   GM_OK);
  assert_int_equal(s->n_rows, 0);
  assert_int_equal(s->n_components, 2);
  assert_string_equal(s->metrics[1].name, "mem.used");
  gm_analysis_series_free(s);
  s = NULL;
  assert_int_equal(gm_analysis_load_series(d.st, 8, &s, NULL, 0),
                   GM_ERR_NOT_FOUND);
  assert_null(s);

  /* a phase of run 7 from 0.05 s for 0.1 s */
  struct gm_bench_phase row = {.model = "LeNet",
                               .batch_size = 8,
                               .kind = "train",
                               .epoch = 1,
                               .metered = true,
                               .run_id = 7,
                               .phase_idx = 0,
                               .start_s = 0.05,
                               .duration_s = 0.1,
                               .samples = 8,
                               .energy_j = 1,
                               .net_energy_j = NAN,
                               .loss = NAN,
                               .accuracy = NAN,
                               .lr = NAN,
                               .avg_power_w = NAN,
                               .peak_power_w = NAN,
                               .cpu_util_pct = NAN,
                               .dram_used_bytes = NAN,
                               .gpu_util_pct = NAN,
                               .vram_used_bytes = NAN};
  assert_int_equal(gm_store_bench_add_phase(d.st, d.bench, &row), GM_OK);
  struct gm_analysis_table *t = load(&d, NULL);
  assert_int_equal(gm_analysis_phase_at(t, 7, 0.1), 0);
  assert_int_equal(gm_analysis_phase_at(t, 7, 0.0), -1);
  assert_int_equal(gm_analysis_phase_at(t, 7, 0.2), -1);
  assert_int_equal(gm_analysis_phase_at(t, 6, 0.1), -1);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* ---- correlations and claims --------------------------------------------- */

static void energy_proportional_to_time_agrees(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const double dur[] = {0.5, 1, 2, 3.5, 7};
  for (int i = 0; i < 5; i++) {
    phase(&d, "LeNet", "train", 32, i + 1, 100, dur[i], 50 * dur[i]);
    phase(&d, "LeNet", "infer", 32, i + 1, 100, dur[i] / 3, 40 * dur[i] / 3);
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.host_id = d.host, .kind = "train"};
  struct gm_analysis_corr c;
  assert_int_equal(gm_analysis_correlate(t, &sel, GM_AUNIT_PHASE,
                                         GM_AVAR_DURATION_S, GM_AVAR_ENERGY_J,
                                         &c),
                   GM_OK);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_NONE);
  assert_int_equal(c.n, 5);
  assert_double_equal(c.pearson.r, 1, 1e-12);
  assert_double_equal(c.pearson.p, 0, 1e-12);
  assert_double_equal(c.spearman.r, 1, 1e-12);
  assert_string_equal(c.provenance, "mixed");

  struct gm_analysis_claim cl;
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_LINEAR_TIME, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_AGREES);
  assert_string_equal(gm_analysis_verdict_name(cl.verdict), "agrees");
  assert_double_equal(cl.value, 1, 1e-12);
  assert_int_equal(cl.n, 5);
  assert_string_equal(cl.provenance, "mixed");
  assert_string_equal(cl.provenance_detail, "gpu0 measured; cpu modelled");
  assert_non_null(strstr(cl.threshold, "0.95"));

  /* training 3x the time of inference per sample, in every cell */
  struct gm_analysis_select both = {.host_id = d.host};
  assert_int_equal(gm_analysis_check_claim(t, &both, GM_CLAIM_TRAIN_3X, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_AGREES);
  assert_int_equal(cl.n, 1);
  assert_double_equal(cl.value, 3, 1e-12);
  assert_double_equal(cl.median, 3, 1e-12);
  assert_int_equal(cl.n_pass, 1);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* Spearman with ties, worked by hand: MACs/param 1, 2, 2, 3, 4 ranks
 * 1, 2.5, 2.5, 4, 5; energy per sample ranks 1, 3, 2, 5, 4; rho is the
 * Pearson r of the ranks, 8.5 / sqrt(9.5 x 10) = 0.872082 (the formula
 * without ties would give 0.875). t = 3.0866 on 3 degrees of freedom,
 * p = 0.0539: past the 0.7 threshold but not significant. */
static void spearman_with_ties_and_an_inconclusive_claim(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const char *models[] = {"A", "B", "C", "D", "E"};
  static const double mpp[] = {1, 2, 2, 3, 4};
  static const double jps[] = {0.1, 0.3, 0.2, 0.5, 0.4};
  for (int i = 0; i < 5; i++) {
    add_model(&d, d.bench, models[i], mpp[i]);
    for (int e = 1; e <= 2; e++) /* two epochs: still one point per model */
      phase(&d, models[i], "train", 32, e, 100, 1, 100 * jps[i]);
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.host_id = d.host, .kind = "train"};
  struct gm_analysis_corr c;
  assert_int_equal(gm_analysis_correlate(t, &sel, GM_AUNIT_CELL,
                                         GM_AVAR_MACS_PER_PARAM,
                                         GM_AVAR_J_PER_SAMPLE, &c),
                   GM_OK);
  assert_int_equal(c.n, 5);
  assert_double_equal(c.spearman.r, 8.5 / sqrt(95), 1e-12);
  /* Five models: the exact permutation p, 8 of the 120 pairings. */
  assert_int_equal(c.spearman.p_method, GM_STATS_P_PERMUTATION_EXACT);
  assert_double_equal(c.spearman.p, 8.0 / 120.0, 1e-12);
  struct gm_analysis_claim cl;
  assert_int_equal(
      gm_analysis_check_claim(t, &sel, GM_CLAIM_MACS_PER_PARAM, &cl), GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_INCONCLUSIVE);
  assert_int_equal(cl.batch_size, 32);
  assert_int_equal(cl.n, 5);
  assert_string_equal(cl.points, "models");
  assert_string_equal(cl.why, "");
  /* MACs are MACs/param x 1000 here: the same ranks */
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_MACS, &cl), GM_OK);
  assert_double_equal(cl.value, 8.5 / sqrt(95), 1e-12);
  gm_analysis_table_free(t);
  db_close(&d);
}

static void claims_that_agree_disagree_or_cannot_run(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  /* 6 models: energy per sample strictly rising with MACs/param at batch
   * 32, and 10 % more per sample at batch 8 for all but one */
  for (int i = 0; i < 6; i++) {
    char m[8];
    snprintf(m, sizeof(m), "M%d", i);
    add_model(&d, d.bench, m, 2.0 + i);
    struct phase p = {m,  "train",      32,   1,   1000,
                      10, 10 * (i + 1), 20.0, NAN, NAN};
    add_phase(&d, d.bench, &p);
    p.batch = 8;
    p.energy_j *= i == 0 ? 0.9 : 1.1;
    add_phase(&d, d.bench, &p);
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.host_id = d.host, .kind = "train"};
  struct gm_analysis_claim cl;
  assert_int_equal(
      gm_analysis_check_claim(t, &sel, GM_CLAIM_MACS_PER_PARAM, &cl), GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_AGREES);
  assert_int_equal(cl.batch_size, 32); /* a tie: the one nearer 128 */
  assert_double_equal(cl.value, 1, 1e-12);

  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_BATCH, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_AGREES);
  assert_int_equal(cl.n, 6);
  assert_int_equal(cl.n_pass, 5);
  assert_double_equal(cl.value, 5.0 / 6, 1e-12);
  assert_double_equal(cl.min, 0.9, 1e-12);
  assert_double_equal(cl.max, 1.1, 1e-12);
  assert_double_equal(cl.median, 1.1, 1e-12);

  /* GPU utilisation the same everywhere: cannot test, and says so */
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_GPU_UTIL, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_true(isnan(cl.value));
  assert_non_null(strstr(cl.why, "the same (20)"));

  /* no inference at all: the ratio cannot be formed */
  struct gm_analysis_select both = {.host_id = d.host};
  assert_int_equal(gm_analysis_check_claim(t, &both, GM_CLAIM_TRAIN_3X, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_non_null(strstr(cl.why, "both training and inference"));

  /* the inference kind selects nothing */
  struct gm_analysis_select inf = {.host_id = d.host, .kind = "infer"};
  assert_int_equal(gm_analysis_check_claim(t, &inf, GM_CLAIM_LINEAR_TIME, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  gm_analysis_table_free(t);

  /* energy not linear in time: a constant energy over varied durations
   * is untestable; a falling one does not agree */
  struct db e;
  db_open(&e);
  static const double dur[] = {1, 2, 3, 4, 5};
  static const double en[] = {40, 30, 35, 10, 5};
  for (int i = 0; i < 4; i++)
    phase(&e, "LeNet", "train", 32, i + 1, 100, dur[i], en[i]);
  t = load(&e, NULL);
  /* four points: the coefficient, but no verdict */
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_LINEAR_TIME, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_int_equal(cl.n, 4);
  assert_true(cl.value < 0);
  assert_non_null(strstr(cl.why, "no verdict below 5"));
  gm_analysis_table_free(t);
  phase(&e, "LeNet", "train", 32, 5, 100, dur[4], en[4]);
  t = load(&e, NULL);
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_LINEAR_TIME, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_DISAGREES);
  assert_true(cl.value < 0);
  /* MACs/param was never recorded (no bench_models row) */
  assert_int_equal(
      gm_analysis_check_claim(t, &sel, GM_CLAIM_MACS_PER_PARAM, &cl), GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_non_null(strstr(cl.why, "not recorded"));
  /* GPU utilisation was never recorded either */
  assert_int_equal(gm_analysis_check_claim(t, &sel, GM_CLAIM_GPU_UTIL, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_non_null(strstr(cl.why, "no GPU utilisation"));
  gm_analysis_table_free(t);
  db_close(&e);

  /* two phases: too few for a correlation */
  struct db f;
  db_open(&f);
  phase(&f, "LeNet", "train", 32, 1, 100, 1, 10);
  phase(&f, "LeNet", "train", 32, 2, 100, 2, 20);
  t = load(&f, NULL);
  struct gm_analysis_corr c;
  assert_int_equal(gm_analysis_correlate(t, &sel, GM_AUNIT_PHASE,
                                         GM_AVAR_DURATION_S, GM_AVAR_ENERGY_J,
                                         &c),
                   GM_OK);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_TOO_FEW);
  assert_non_null(strstr(c.why, "needs 3"));
  gm_analysis_table_free(t);
  db_close(&f);
  db_close(&d);
}

static void cells_net_energy_and_profile_phases(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  struct phase p = {"LeNet", "train", 32, 1, 100, 2, 20, 50, 30, 8};
  add_phase(&d, d.bench, &p);
  p.epoch = 2;
  p.duration_s = 6;
  p.energy_j = 60;
  p.gpu_util = NAN;
  p.cpu_util = 70;
  p.net_energy_j = NAN;
  add_phase(&d, d.bench, &p);
  p.kind = "profile-train";
  p.epoch = 0;
  p.samples = 50;
  add_phase(&d, d.bench, &p);
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.kind = "train"};
  struct gm_analysis_cell *cells;
  size_t n;
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(n, 1);
  assert_int_equal(cells[0].n_phases, 2);
  assert_double_equal(cells[0].samples, 200, 1e-12);
  assert_double_equal(cells[0].energy_j, 80, 1e-12);
  assert_double_equal(cells[0].j_per_sample, 0.4, 1e-12);
  assert_double_equal(cells[0].avg_power_w, 10, 1e-12);
  /* time-weighted: 2 s at 50 %; the 6 s phase has no GPU value */
  assert_double_equal(cells[0].gpu_util_pct, 50, 1e-12);
  assert_double_equal(cells[0].cpu_util_pct, (2 * 30 + 6 * 70) / 8.0, 1e-12);
  free(cells);
  sel.with_profile = true; /* the profile counts as training */
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(cells[0].n_phases, 3);
  assert_string_equal(cells[0].kind, "train");
  free(cells);
  sel.with_profile = false;
  sel.net = true; /* only the phase with a net energy */
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(n, 1);
  assert_int_equal(cells[0].n_phases, 1);
  assert_double_equal(cells[0].energy_j, 8, 1e-12);
  free(cells);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* With net energy, a phase whose net is not above 0 (it drew no more than
 * the idle baseline says) is left out and counted, like one without a net:
 * never averaged into a cell as a negative energy or a negative power. */
static void net_at_or_below_zero_is_left_out(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  /* epochs 1-3: net 8 J, net -4 J (below idle), no net; an inference pass
   * with net 0 */
  struct phase p = {"LeNet", "train", 32, 1, 100, 2, 20, NAN, NAN, 8};
  add_phase(&d, d.bench, &p);
  p.epoch = 2;
  p.net_energy_j = -4;
  add_phase(&d, d.bench, &p);
  p.epoch = 3;
  p.net_energy_j = NAN;
  add_phase(&d, d.bench, &p);
  p.kind = "infer";
  p.epoch = 1;
  p.net_energy_j = 0;
  add_phase(&d, d.bench, &p);
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.kind = "train", .net = true};
  struct gm_analysis_cell *cells;
  size_t n;
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(n, 1);
  assert_int_equal(cells[0].n_phases, 1); /* epoch 1 only */
  assert_double_equal(cells[0].energy_j, 8, 1e-12);
  assert_double_equal(cells[0].avg_power_w, 4, 1e-12);
  free(cells);
  struct gm_analysis_net_excluded x;
  assert_int_equal(gm_analysis_net_excluded(t, &sel, &x), GM_OK);
  assert_int_equal(x.not_positive, 1);
  assert_int_equal(x.no_net, 1);
  sel.kind = "infer";
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(n, 0); /* a net of 0 is not above 0 */
  free(cells);
  sel.kind = NULL; /* train and infer */
  assert_int_equal(gm_analysis_net_excluded(t, &sel, &x), GM_OK);
  assert_int_equal(x.not_positive, 2);
  assert_int_equal(x.no_net, 1);
  /* gross uses every phase */
  sel.net = false;
  sel.kind = "train";
  assert_int_equal(gm_analysis_cells(t, &sel, &cells, &n), GM_OK);
  assert_int_equal(cells[0].n_phases, 3);
  assert_double_equal(cells[0].energy_j, 60, 1e-12);
  free(cells);
  assert_int_equal(gm_analysis_net_excluded(NULL, &sel, &x),
                   GM_ERR_INVALID_ARG);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* A time-weighted mean of equal values can differ from them in the last
 * bits: (10 x 0.3 + 10 x 0.7 + 10 x 0.11) / 1.11 = 9.999999999999998, where
 * durations of 0.1, 0.7 and 1.3 s give 10 exactly. It is still a constant,
 * not a variable to correlate. */
static void a_mean_of_equal_values_is_constant(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const double durs[2][3] = {{0.3, 0.7, 0.11}, {0.1, 0.7, 1.3}};
  for (int m = 0; m < 4; m++) {
    const double *dur = durs[m % 2];
    char name[8];
    snprintf(name, sizeof(name), "M%d", m);
    for (int e = 0; e < 3; e++) {
      struct phase p = {
          name, "infer", 32, e + 1, 100, dur[e], (m + 1) * dur[e] * 7.0,
          10,   NAN,     NAN};
      add_phase(&d, d.bench, &p);
    }
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_select sel = {.kind = "infer"};
  struct gm_analysis_corr c;
  assert_int_equal(gm_analysis_correlate(t, &sel, GM_AUNIT_CELL,
                                         GM_AVAR_GPU_UTIL_PCT,
                                         GM_AVAR_J_PER_SAMPLE, &c),
                   GM_OK);
  assert_int_equal(c.n, 4);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_CONSTANT);
  assert_non_null(strstr(c.why, "the same (10) for all 4 model x batch"));
  gm_analysis_table_free(t);
  db_close(&d);
}

/* ---- estimates ----------------------------------------------------------- */

static double zoo_mpp(const char *model) {
  struct gm_nn_net *net = NULL;
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_zoo_build(model, &net), GM_OK);
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  gm_nn_net_destroy(net);
  return st.macs_per_param;
}

/* Every phase obeys energy = 0.02 J x samples and time = 1 ms x samples;
 * the models obey energy per sample = 0.01 x (MACs/param)^0.5 and time per
 * sample = 1e-3 x (MACs/param)^0.8. */
static void estimates_return_an_exact_law(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const double lenet_samples[] = {640, 1280, 3200};
  for (int i = 0; i < 3; i++)
    phase(&d, "LeNet", "train", 32, i + 1, lenet_samples[i],
          1e-3 * lenet_samples[i], 0.02 * lenet_samples[i]);
  static const char *models[] = {"A", "B", "C", "D", "E"};
  static const double mpp[] = {2, 5, 10, 20, 40};
  for (int i = 0; i < 5; i++) {
    add_model(&d, d.bench, models[i], mpp[i]);
    double jps = 0.01 * sqrt(mpp[i]), sps = 1e-3 * pow(mpp[i], 0.8);
    phase(&d, models[i], "infer", 64, 1, 500, sps * 500, jps * 500);
    phase(&d, models[i], "infer", 64, 2, 1000, sps * 1000, jps * 1000);
  }
  struct gm_analysis_table *t = load(&d, NULL);

  /* (a): LeNet, 10 epochs of 50000 */
  struct gm_estimate_request rq = {.model = "lenet",
                                   .kind = "train",
                                   .batch_size = 32,
                                   .samples = 500000,
                                   .alpha = 0.05};
  struct gm_estimate e;
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_string_equal(e.model, "LeNet");
  assert_true(e.profile.ok);
  assert_int_equal(e.profile.n_phases, 3);
  assert_double_equal(e.profile.energy_j.value, 10000, 1e-6);
  assert_double_equal(e.profile.duration_s.value, 500, 1e-9);
  assert_double_equal(e.profile.fit_energy.b, 0.02, 1e-12);
  assert_true(e.profile.energy_j.lo <= e.profile.energy_j.value &&
              e.profile.energy_j.value <= e.profile.energy_j.hi);
  assert_double_equal(e.profile.energy_j.hi - e.profile.energy_j.lo, 0, 1e-6);
  assert_true(e.profile.loo_energy.ok);
  assert_int_equal(e.profile.loo_energy.n, 3);
  assert_double_equal(e.profile.loo_energy.mape_pct, 0, 1e-9);
  assert_double_equal(e.profile.loo_time.mape_pct, 0, 1e-9);
  assert_string_equal(e.profile.loo_energy.points[1].label, "epoch 2");
  assert_string_equal(e.profile.provenance, "mixed");
  /* (b) needs inference at batch 32 of three models: there is none */
  assert_false(e.regression.ok);
  assert_non_null(strstr(e.regression.why, "at least 3 models at batch 32"));
  gm_estimate_clear(&e);

  /* (b): ResNet18 inference, not measured, at its MACs/param */
  double x0 = zoo_mpp("ResNet18");
  rq = (struct gm_estimate_request){
      .model = "ResNet18", .kind = "infer", .samples = 1e6, .alpha = 0.05};
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_int_equal(e.batch_size, 64); /* chosen: where the models are */
  assert_true(e.batch_chosen);
  assert_false(e.profile.ok);
  assert_non_null(strstr(e.profile.why, "ResNet18 has no measured infer"));
  assert_true(e.regression.ok);
  assert_int_equal(e.regression.n_models, 5);
  assert_false(e.regression.model_measured);
  assert_true(e.regression.extrapolated == (x0 > 40 || x0 < 2));
  assert_double_equal(e.regression.macs_per_param, x0, 1e-12);
  assert_double_equal(e.regression.fit_energy.b, 0.5, 1e-9);
  assert_double_equal(e.regression.fit_time.b, 0.8, 1e-9);
  double want = 0.01 * sqrt(x0) * 1e6;
  assert_double_equal(e.regression.energy_j.value / want, 1, 1e-9);
  assert_double_equal(e.regression.duration_s.value / (1e-3 * pow(x0, 0.8)),
                      1e6, 1e-3);
  assert_true(e.regression.energy_j.lo <= e.regression.energy_j.value &&
              e.regression.energy_j.value <= e.regression.energy_j.hi);
  assert_true(e.regression.loo_energy.ok);
  assert_int_equal(e.regression.loo_energy.n, 5);
  assert_double_equal(e.regression.loo_energy.mape_pct, 0, 1e-6);
  assert_double_equal(e.regression.loo_time.mape_pct, 0, 1e-6);
  /* a straight line on the raw values misses a square root */
  assert_true(e.regression.loo_linear_mape_pct > 1);
  gm_estimate_clear(&e);

  /* an unknown model; a bad request */
  rq.model = "NoSuchNet";
  assert_int_equal(gm_estimate(t, &rq, &e), GM_ERR_NOT_FOUND);
  gm_estimate_clear(&e);
  rq.model = "LeNet";
  rq.kind = "eval";
  assert_int_equal(gm_estimate(t, &rq, &e), GM_ERR_INVALID_ARG);
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  db_close(&d);
}

static void an_outlier_model_is_the_worst_left_out(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const char *models[] = {"A", "B", "Odd", "D", "E", "F"};
  static const double mpp[] = {2, 4, 8, 16, 32, 64};
  for (int i = 0; i < 6; i++) {
    add_model(&d, d.bench, models[i], mpp[i]);
    /* a power law with +-2 % scatter, and one model at a fifth of it */
    double jps = 0.05 * pow(mpp[i], 0.7) * (i % 2 ? 1.02 : 0.98);
    if (i == 2)
      jps /= 5;
    phase(&d, models[i], "train", 128, 1, 1000, 1e-3 * jps * 1000, jps * 1000);
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_estimate_request rq = {.model = "MobileNet",
                                   .kind = "train",
                                   .batch_size = 128,
                                   .samples = 5e4,
                                   .alpha = 0.05};
  struct gm_estimate e;
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_true(e.regression.ok);
  const struct gm_estimate_loo *l = &e.regression.loo_energy;
  assert_true(l->ok);
  assert_int_equal(l->n, 6);
  assert_string_equal(l->points[l->worst].label, "Odd");
  assert_true(l->points[l->worst].rel_err > 2); /* predicted far above */
  assert_true(l->mape_pct > 10);
  for (size_t i = 0; i < l->n; i++)
    assert_true(l->points[i].lo <= l->points[i].pred &&
                l->points[i].pred <= l->points[i].hi);
  assert_true(l->coverage >= 0 && l->coverage <= 1);
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* Three models with scatter: one residual degree of freedom, so the
 * regression gives its value but withholds the interval (a t of 12.7 would
 * stretch it over decades); and with six the interval comes back. */
static void estimates_withhold_unsupported_intervals(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  static const char *models[] = {"A", "B", "C", "D", "E", "F"};
  static const double mpp[] = {2, 8, 32, 4, 16, 64};
  static const double scatter[] = {1.3, 0.7, 1.4, 0.95, 1.05, 1.0};
  for (int i = 0; i < 3; i++) {
    add_model(&d, d.bench, models[i], mpp[i]);
    double jps = 0.05 * pow(mpp[i], 0.7) * scatter[i];
    phase(&d, models[i], "train", 128, 1, 1000, 1e-3 * jps * 1000, jps * 1000);
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_estimate_request rq = {.model = "MobileNet",
                                   .kind = "train",
                                   .batch_size = 128,
                                   .samples = 5e4,
                                   .alpha = 0.05};
  struct gm_estimate e;
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_true(e.regression.ok);
  assert_int_equal(e.regression.fit_energy.dof, 1);
  assert_true(isfinite(e.regression.energy_j.value));
  assert_true(isnan(e.regression.energy_j.lo));
  assert_true(isnan(e.regression.energy_j.hi));
  assert_non_null(strstr(e.regression.energy_j.no_interval,
                         "1 residual degree(s) of freedom"));
  assert_non_null(strstr(e.regression.j_per_sample.no_interval, "freedom"));
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  for (int i = 3; i < 6; i++) {
    add_model(&d, d.bench, models[i], mpp[i]);
    double jps = 0.05 * pow(mpp[i], 0.7) * scatter[i];
    phase(&d, models[i], "train", 128, 1, 1000, 1e-3 * jps * 1000, jps * 1000);
  }
  t = load(&d, NULL);
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_int_equal(e.regression.n_models, 6);
  assert_string_equal(e.regression.energy_j.no_interval, "");
  assert_true(e.regression.energy_j.lo < e.regression.energy_j.value &&
              e.regression.energy_j.value < e.regression.energy_j.hi);
  assert_true(e.regression.energy_j.hi <
              GM_ESTIMATE_MAX_SPREAD * e.regression.energy_j.value);
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  db_close(&d);
}

static void estimates_say_what_is_missing(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  phase(&d, "LeNet", "train", 32, 1, 640, 0.64, 12.8);
  phase(&d, "LeNet", "train", 32, 2, 640, 0.64, 12.8);
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_estimate_request rq = {.model = "LeNet",
                                   .kind = "train",
                                   .batch_size = 16,
                                   .samples = 1e5,
                                   .alpha = 0.05};
  struct gm_estimate e;
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_false(e.profile.ok);
  assert_non_null(strstr(e.profile.why, "measured at batch 32 (2 phases)"));
  gm_estimate_clear(&e);
  rq.batch_size = 32; /* two phases: a fit and an interval, no LOO */
  assert_int_equal(gm_estimate(t, &rq, &e), GM_OK);
  assert_true(e.profile.ok);
  assert_double_equal(e.profile.energy_j.value, 2000, 1e-9);
  assert_false(e.profile.loo_energy.ok);
  assert_non_null(strstr(e.profile.loo_energy.why, "needs 3"));
  assert_false(e.regression.ok);
  assert_non_null(strstr(e.regression.why, "32 (1 model)"));
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* A run projected from its first phases: the sum, the interval
 * t(k-1) x s x sqrt(m + m^2/k) by hand (t(0.975, 1) = 12.706204736174698),
 * the check against the phases measured beyond the profile, and the
 * inputs refused. */
static void projects_a_run_from_its_first_phases(void **state) {
  (void)state;
  const double e[] = {10, 12, 11, 13, NAN}, d[] = {1.0, 1.2, 1.1, 1.3, 1.0};
  struct gm_phase_projection p;
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 2, 5, 0.05, &p), GM_OK);
  const double t = 12.706204736174698, sd = sqrt(2.0);
  assert_double_equal(p.energy_j.value, 55.0, 1e-12);
  double half = t * sd * sqrt(3.0 + 9.0 / 2.0);
  assert_double_equal(p.energy_j.hi, 55.0 + half, 1e-6);
  /* never below what the profile measured */
  assert_double_equal(p.energy_j.lo, 22.0, 1e-12);
  assert_double_equal(p.duration_s.value, 2.2 + 3 * 1.1, 1e-12);
  /* the check: 4 measured, predicted 44, measured 46 */
  assert_int_equal(p.n_checked, 4);
  assert_double_equal(p.checked_energy_j.value, 44.0, 1e-12);
  assert_double_equal(p.checked_energy_j.hi, 44.0 + t * sd * 2.0, 1e-6);
  assert_double_equal(p.actual_energy_j, 46.0, 1e-12);
  assert_double_equal(p.energy_error_rel, -2.0 / 46.0, 1e-12);
  assert_true(p.energy_inside);
  assert_double_equal(p.actual_duration_s, 4.6, 1e-12);

  /* a larger profile narrows the interval: k = 4, s = sd(10..13) */
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 4, 10, 0.05, &p), GM_OK);
  double s4 = sqrt(5.0 / 3.0), t3 = 3.182446305284263;
  assert_double_equal(p.energy_j.value, 115.0, 1e-12);
  assert_double_equal(p.energy_j.hi - p.energy_j.value,
                      t3 * s4 * sqrt(6.0 + 36.0 / 4.0), 1e-6);
  assert_int_equal(p.n_checked, 0); /* nothing beyond the profile */
  assert_true(isnan(p.energy_error_rel));
  /* the whole run measured: no extrapolation, a zero-width interval */
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 4, 4, 0.05, &p), GM_OK);
  assert_double_equal(p.energy_j.lo, 46.0, 1e-12);
  assert_double_equal(p.energy_j.hi, 46.0, 1e-12);
  /* a later phase without energy: projected, not checked */
  assert_int_equal(gm_analysis_project_phases(e, d, 5, 2, 5, 0.05, &p), GM_OK);
  assert_int_equal(p.n_checked, 0);

  /* refused */
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 1, 5, 0.05, &p),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 5, 5, 0.05, &p),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 3, 2, 0.05, &p),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_analysis_project_phases(e, d, 4, 2, 5, 1.0, &p),
                   GM_ERR_INVALID_ARG);
  const double neg[] = {10, -1};
  assert_int_equal(gm_analysis_project_phases(neg, d, 2, 2, 5, 0.05, &p),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_analysis_project_phases(e + 3, d, 2, 2, 5, 0.05, &p),
                   GM_ERR_INVALID_ARG); /* NAN in the profile */
}

/* Energy against time over given points (a measured run's phases): the
 * coefficients, the pairs left out, the claim's verdict and its minimum
 * n, a constant variable. */
static void correlates_given_phases(void **state) {
  (void)state;
  const double d[] = {1.0, 2.0, NAN, 3.0, 4.0, 5.5, 6.0};
  const double e[] = {10.0, 20.5, 7.0, 29.0, 41.0, 55.0, 60.5};
  struct gm_analysis_corr c;
  assert_int_equal(gm_analysis_correlate_points(d, e, 7, GM_AVAR_DURATION_S,
                                                GM_AVAR_ENERGY_J, &c),
                   GM_OK);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_NONE);
  assert_int_equal(c.n, 6);
  assert_int_equal(c.n_missing, 1);
  struct gm_stats_corr want;
  const double d6[] = {1.0, 2.0, 3.0, 4.0, 5.5, 6.0};
  const double e6[] = {10.0, 20.5, 29.0, 41.0, 55.0, 60.5};
  assert_int_equal(gm_stats_pearson(d6, e6, 6, &want), GM_OK);
  assert_double_equal(c.pearson.r, want.r, 1e-15);
  assert_double_equal(c.spearman.r, 1.0, 1e-15);
  struct gm_analysis_claim cl;
  assert_int_equal(gm_analysis_claim_linear_time(d, e, 7, "mixed", &cl), GM_OK);
  assert_int_equal(cl.id, GM_CLAIM_LINEAR_TIME);
  assert_int_equal(cl.verdict, GM_VERDICT_AGREES);
  assert_double_equal(cl.value, want.r, 1e-15);
  assert_string_equal(cl.provenance, "mixed");
  /* four points: the coefficient, no verdict */
  assert_int_equal(gm_analysis_claim_linear_time(d6, e6, 4, NULL, &cl), GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_UNTESTABLE);
  assert_true(isfinite(cl.value));
  assert_non_null(strstr(cl.why, "no verdict below 5"));
  /* energy falling with time: does not agree */
  const double down[] = {60.0, 50.0, 40.0, 30.0, 20.0, 10.0};
  assert_int_equal(gm_analysis_claim_linear_time(d6, down, 6, NULL, &cl),
                   GM_OK);
  assert_int_equal(cl.verdict, GM_VERDICT_DISAGREES);
  /* every phase as long as the others: nothing to correlate */
  const double same[] = {2.0, 2.0, 2.0, 2.0, 2.0};
  assert_int_equal(gm_analysis_correlate_points(same, e6, 5, GM_AVAR_DURATION_S,
                                                GM_AVAR_ENERGY_J, &c),
                   GM_OK);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_CONSTANT);
  assert_int_equal(gm_analysis_correlate_points(d6, e6, 2, GM_AVAR_DURATION_S,
                                                GM_AVAR_ENERGY_J, &c),
                   GM_OK);
  assert_int_equal(c.untestable, GM_AUNTESTABLE_TOO_FEW);
}

/* Two hosts on the same six models: the second draws 2 x the first's
 * energy per sample to the power 0.9 (times a few per cent of scatter):
 * they rank the same and one predicts the other; a third host whose
 * ranking is reversed does not agree on either. */
static void hosts_compared_rank_and_predict(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  int64_t h2 = add_host(d.st, "h2"), h3 = add_host(d.st, "h3");
  int64_t b2 = add_bench(&d, "grid-h2", h2), b3 = add_bench(&d, "grid-h3", h3);
  static const char *const models[] = {"LeNet",       "MobileNet", "ResNet18",
                                       "DenseNet121", "VGG16",     "GoogLeNet"};
  static const double ja[] = {0.01, 0.05, 0.2, 0.4, 0.8, 1.6};
  static const double wiggle[] = {1.02, 0.98, 1.03, 0.97, 1.01, 0.99};
  for (int m = 0; m < 6; m++) {
    for (int k = 0; k < 3; k++) {
      int64_t bench = k == 0 ? d.bench : k == 1 ? b2 : b3;
      add_model(&d, bench, models[m], 10);
      double j = k == 0   ? ja[m]
                 : k == 1 ? 2.0 * pow(ja[m], 0.9) * wiggle[m]
                          : ja[5 - m];
      struct phase p = {models[m], "train",  128, 1,   1000,
                        10.0,      1000 * j, NAN, NAN, NAN};
      add_phase(&d, bench, &p);
    }
  }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_host_pair *p = NULL;
  size_t n = 0;
  assert_int_equal(gm_analysis_hosts(t, false, &p, &n), GM_OK);
  assert_int_equal(n, 3); /* h1-h2, h1-h3, h2-h3; train only */
  const struct gm_analysis_host_pair *r12 = NULL, *r13 = NULL;
  for (size_t i = 0; i < n; i++) {
    if (p[i].host_a == d.host && p[i].host_b == h2)
      r12 = &p[i];
    if (p[i].host_a == d.host && p[i].host_b == h3)
      r13 = &p[i];
  }
  assert_non_null(r12);
  assert_non_null(r13);
  assert_string_equal(r12->kind, "train");
  assert_int_equal(r12->batch_size, 128);
  assert_int_equal(r12->n, 6);
  assert_double_equal(r12->rho, 1.0, 1e-12);
  assert_int_equal(r12->rank_verdict, GM_VERDICT_AGREES);
  assert_double_equal(r12->slope, 0.9, 0.02);
  assert_true(r12->loo_mape_pct < 5.0);
  assert_int_equal(r12->predict_verdict, GM_VERDICT_AGREES);
  assert_string_equal(r12->provenance, "mixed");
  assert_double_equal(r13->rho, -1.0, 1e-12);
  assert_int_equal(r13->rank_verdict, GM_VERDICT_DISAGREES);
  assert_int_equal(r13->predict_verdict, GM_VERDICT_DISAGREES);
  assert_true(r13->loo_mape_pct > 25.0);
  free(p);
  gm_analysis_table_free(t);
  db_close(&d);
}

/* Too few models in common: the statistics where they exist, no verdict,
 * and why. */
static void hosts_compared_needs_five_models(void **state) {
  (void)state;
  struct db d;
  db_open(&d);
  int64_t h2 = add_host(d.st, "h2");
  int64_t b2 = add_bench(&d, "grid-h2", h2);
  static const char *const models[] = {"LeNet", "MobileNet", "ResNet18",
                                       "VGG16"};
  for (int m = 0; m < 4; m++)
    for (int k = 0; k < 2; k++) {
      int64_t bench = k ? b2 : d.bench;
      add_model(&d, bench, models[m], 10);
      struct phase q = {
          models[m], "infer", 64, 1, 1000, 10.0, 100.0 * (m + 1) * (k + 1),
          NAN,       NAN,     NAN};
      add_phase(&d, bench, &q);
    }
  struct gm_analysis_table *t = load(&d, NULL);
  struct gm_analysis_host_pair *p = NULL;
  size_t n = 0;
  assert_int_equal(gm_analysis_hosts(t, false, &p, &n), GM_OK);
  assert_int_equal(n, 1);
  assert_int_equal(p[0].n, 4);
  assert_double_equal(p[0].rho, 1.0, 1e-12);
  assert_int_equal(p[0].rank_verdict, GM_VERDICT_UNTESTABLE);
  assert_int_equal(p[0].predict_verdict, GM_VERDICT_UNTESTABLE);
  assert_non_null(strstr(p[0].why, "4 models"));
  assert_double_equal(p[0].ratio_median, 2.0, 1e-12);
  free(p);
  gm_analysis_table_free(t);
  db_close(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loads_benches_phases_and_components),
      cmocka_unit_test(reads_a_time_series_back),
      cmocka_unit_test(energy_proportional_to_time_agrees),
      cmocka_unit_test(spearman_with_ties_and_an_inconclusive_claim),
      cmocka_unit_test(claims_that_agree_disagree_or_cannot_run),
      cmocka_unit_test(cells_net_energy_and_profile_phases),
      cmocka_unit_test(net_at_or_below_zero_is_left_out),
      cmocka_unit_test(a_mean_of_equal_values_is_constant),
      cmocka_unit_test(estimates_return_an_exact_law),
      cmocka_unit_test(an_outlier_model_is_the_worst_left_out),
      cmocka_unit_test(estimates_withhold_unsupported_intervals),
      cmocka_unit_test(estimates_say_what_is_missing),
      cmocka_unit_test(projects_a_run_from_its_first_phases),
      cmocka_unit_test(correlates_given_phases),
      cmocka_unit_test(hosts_compared_rank_and_predict),
      cmocka_unit_test(hosts_compared_needs_five_models),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
