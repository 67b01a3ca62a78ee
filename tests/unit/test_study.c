/* test_study.c: the study runner through gm_study_run and its observer, on
 * a fake machine whose only power is the DRAM model's constant 6 W (so
 * every phase's energy is known: 6 W x its duration, and its net of idle is
 * 0), LeNet on the ref backend and a small generated data set: a 1 x 1 grid
 * row by row, in the store and as the observer saw it; the rule for net
 * energy without a baseline; a stop request, then the resumed bench giving
 * the losses of one that never stopped; a short profile and its
 * prediction. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/study.h"
#include "helpers.h"

#define DRAM_W 6.0 /* 16 GiB, no DIMM data: 0.375 W/GiB */
#define LENET_MACS 651720

struct fixture {
  char *root;
  char sys[512], proc[512], dev[512];
  struct gm_cifar10 *train, *test;
  struct gm_store *st;
  char *ckpt;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  f->root = gmt_mkdtemp();
  gmt_write(f->root, "proc/stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n");
  gmt_write(f->root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
  gmt_write(f->root, "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: Test CPU\n");
  gmt_mkdirs(f->root, "sys");
  gmt_mkdirs(f->root, "dev");
  gmt_mkdirs(f->root, "ckpt");
  gmt_roots(f->root, f->sys, f->proc, f->dev, sizeof(f->sys));
  f->ckpt = gmt_path(f->root, "ckpt");
  char *data = gmt_path(f->root, "data"), *db = gmt_path(f->root, "s.db");
  char err[512] = "";
  int rc = gm_cifar10_synth(data, 4, 16, 16, err, sizeof(err)) != GM_OK ||
           gm_cifar10_open(data, GM_CIFAR10_TRAIN, &f->train, err,
                           sizeof(err)) != GM_OK ||
           gm_cifar10_open(data, GM_CIFAR10_TEST, &f->test, err, sizeof(err)) !=
               GM_OK ||
           gm_store_open(db, &f->st, err, sizeof(err)) != GM_OK;
  if (rc)
    fprintf(stderr, "fixture: %s\n", err);
  free(data);
  free(db);
  *state = f;
  return rc ? -1 : 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gm_store_close(f->st);
  gm_cifar10_close(f->train);
  gm_cifar10_close(f->test);
  gmt_rmtree(f->root);
  free(f->root);
  free(f->ckpt);
  free(f);
  return 0;
}

static const char *const lenet[] = {"lenet"};
static const int batch8[] = {8};
static const char *const flags[] = {"--models", "lenet", "--quick"};

/* LeNet at batch 8, 2 epochs of 2 batches, passes of 16 samples. */
static struct gm_study_config config(struct fixture *f, const char *name) {
  struct gm_study_config c = gm_study_config_default();
  c.name = name;
  c.n_models = 1;
  c.models = lenet;
  c.n_batch_sizes = 1;
  c.batch_sizes = batch8;
  c.epochs = 2;
  c.infer_samples = 16;
  c.limit_batches = 2;
  c.lr = 0.01;
  c.backend = "ref";
  c.threads = 1;
  c.train = f->train;
  c.test = f->test;
  c.data = "generated";
  c.idle_ns = 50 * 1000000;
  c.gap_ns = 0;
  c.meter.sysfs_root = f->sys;
  c.meter.procfs_root = f->proc;
  c.meter.devfs_root = f->dev;
  c.meter.no_gpu = true;
  c.meter.interval_ns = 5 * 1000000;
  c.checkpoint_dir = f->ckpt;
  c.n_flags = 3;
  c.flags = flags;
  return c;
}

/* ---- what the observer sees -----------------------------------------------
 */

struct row {
  char kind[24];
  int epoch;
  bool metered;
  long steps, samples;
  double duration_s, loss, energy_j, net_energy_j, dram_j, dram_net_j;
  char provenance[16];
};

struct seen {
  int begins;
  struct gm_study_begin begin;
  size_t n_rows;
  struct row rows[16];
  int progress, metered_progress;
  double max_power_error;
  int predictions, made;
  struct gm_study_prediction pred[4];
  char messages[1024];
  size_t stop_after_rows; /* 0: never */
  int pass_ends;
};

static void on_begin(void *ctx, const struct gm_study_begin *b) {
  struct seen *s = ctx;
  s->begins++;
  s->begin = *b;
  s->begin.idle = NULL; /* not kept past the call */
}

static void on_progress(void *ctx, const struct gm_study_progress *p) {
  struct seen *s = ctx;
  s->progress++;
  assert_string_equal(p->model, "LeNet");
  assert_int_equal(p->batch_size, 8);
  assert_true(p->batch >= 1 && p->cell >= 1 && p->cell <= p->n_cells);
  if (p->metered) {
    s->metered_progress++;
    double e = fabs(p->power_w - DRAM_W);
    if (e > s->max_power_error)
      s->max_power_error = e;
    assert_string_equal(p->provenance, "modelled");
    assert_true(p->energy_j >= 0);
  } else {
    assert_true(isnan(p->power_w) && p->provenance == NULL);
  }
}

static void on_pass_end(void *ctx) { ((struct seen *)ctx)->pass_ends++; }

static void on_phase(void *ctx, const struct gm_bench_phase *p) {
  struct seen *s = ctx;
  assert_true(s->n_rows < 16);
  struct row *r = &s->rows[s->n_rows++];
  snprintf(r->kind, sizeof(r->kind), "%s", p->kind);
  r->epoch = p->epoch;
  r->metered = p->metered;
  r->steps = p->steps;
  r->samples = p->samples;
  r->duration_s = p->duration_s;
  r->loss = p->loss;
  r->energy_j = p->energy_j;
  r->net_energy_j = p->net_energy_j;
  r->dram_j = r->dram_net_j = NAN;
  snprintf(r->provenance, sizeof(r->provenance), "%s",
           p->provenance ? p->provenance : "");
  for (size_t i = 0; i < p->n_components; i++)
    if (strcmp(p->components[i].name, "dram") == 0) {
      r->dram_j = p->components[i].energy_j;
      r->dram_net_j = p->components[i].net_energy_j;
    }
}

static void on_prediction(void *ctx, const struct gm_study_prediction *p) {
  struct seen *s = ctx;
  assert_true(s->predictions < 4);
  s->pred[s->predictions++] = *p;
  s->made += p->made;
}

static void on_message(void *ctx, enum gm_study_message_kind kind,
                       const char *text) {
  struct seen *s = ctx;
  (void)kind;
  size_t len = strlen(s->messages);
  snprintf(s->messages + len, sizeof(s->messages) - len, "%s\n", text);
}

static bool on_stop(void *ctx) {
  struct seen *s = ctx;
  return s->stop_after_rows && s->n_rows >= s->stop_after_rows;
}

static struct gm_study_observer observer(struct seen *s) {
  return (struct gm_study_observer){.ctx = s,
                                    .begin = on_begin,
                                    .progress = on_progress,
                                    .pass_end = on_pass_end,
                                    .phase = on_phase,
                                    .prediction = on_prediction,
                                    .message = on_message,
                                    .stop = on_stop};
}

static struct gm_bench_info find(struct fixture *f, const char *name) {
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(f->st, name, &bi), GM_OK);
  return bi;
}

/* ---- the grid --------------------------------------------------------------
 */

static void grid_row_by_row(void **state) {
  struct fixture *f = *state;
  struct gm_study_config c = config(f, "grid");
  struct seen s = {0};
  struct gm_study_observer obs = observer(&s);
  struct gm_study_result res;
  char err[1024] = "";
  enum gm_status rc = gm_study_run(&c, f->st, &obs, &res, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_study_run: %s: %s", gm_status_name(rc), err);
  assert_false(res.interrupted);
  assert_true(res.bench_id > 0);
  /* the idle baseline first, then one cell */
  assert_int_equal(s.begins, 1);
  assert_true(s.begin.idle_measured && !s.begin.resumed);
  assert_int_equal(s.begin.n_cells, 1);
  assert_non_null(strstr(s.messages, "measuring idle power"));
  /* the rows, in order */
  const char *kinds[] = {"train", "infer", "train", "infer"};
  const int epochs[] = {1, 1, 2, 2};
  assert_int_equal(s.n_rows, 4);
  for (size_t i = 0; i < 4; i++) {
    const struct row *r = &s.rows[i];
    assert_string_equal(r->kind, kinds[i]);
    assert_int_equal(r->epoch, epochs[i]);
    assert_true(r->metered);
    assert_int_equal(r->steps, 2);
    assert_int_equal(r->samples, 16);
    assert_true(isfinite(r->loss) && r->loss > 0);
    assert_string_equal(r->provenance, "modelled");
    /* constant power: energy is 6 W x duration, and all of it is idle */
    assert_true(r->duration_s > 0);
    assert_double_equal(r->energy_j, DRAM_W * r->duration_s,
                        1e-6 * r->energy_j);
    assert_double_equal(r->dram_j, DRAM_W * r->duration_s, 1e-6 * r->dram_j);
    assert_double_equal(r->net_energy_j, 0, 1e-6 * r->energy_j);
    assert_double_equal(r->dram_net_j, 0, 1e-6 * r->energy_j);
  }
  assert_true(s.metered_progress >= 8); /* 2 batches per pass */
  assert_true(s.max_power_error < 1e-9);
  assert_int_equal(s.predictions, 0);
  /* the store holds the same */
  struct gm_bench_info bi = find(f, "grid");
  assert_string_equal(bi.status, "complete");
  assert_int_equal(bi.id, res.bench_id);
  assert_true(bi.idle_baseline_id > 0);
  assert_non_null(strstr(bi.config_json, "\"models\":[\"lenet\"]"));
  gm_bench_info_clear(&bi);
  for (size_t i = 0; i < 4; i++) {
    bool have = false;
    assert_int_equal(gm_store_bench_has_phase(f->st, res.bench_id, "LeNet", 8,
                                              "fp32", kinds[i], epochs[i], true,
                                              &have),
                     GM_OK);
    assert_true(have);
  }
  struct gm_bench_summary_row *sum = NULL;
  size_t n = 0;
  assert_int_equal(gm_store_bench_summary(f->st, res.bench_id, &sum, &n),
                   GM_OK);
  assert_int_equal(n, 2);
  assert_string_equal(sum[0].kind, "train");
  assert_string_equal(sum[1].kind, "infer");
  assert_int_equal(sum[0].phases, 2);
  assert_string_equal(sum[0].model, "LeNet");
  assert_double_equal(sum[0].energy_j,
                      (s.rows[0].energy_j + s.rows[2].energy_j) / 2, 1e-9);
  free(sum);
  struct gm_bench_work *w = NULL;
  assert_int_equal(gm_store_bench_work(f->st, res.bench_id, &w, &n), GM_OK);
  assert_int_equal(n, 2); /* "infer", "train" */
  assert_string_equal(w[1].kind, "train");
  assert_double_equal(w[1].sample_macs, 2 * 16.0 * LENET_MACS, 0);
  free(w);
  struct gm_bench_flags fl;
  assert_int_equal(gm_store_bench_flags(f->st, res.bench_id, &fl), GM_OK);
  assert_int_equal(fl.n, 3);
  assert_string_equal(fl.flags[2], "--quick");
  gm_bench_flags_clear(&fl);
  struct gm_bench_overhead_row *ov = NULL;
  assert_int_equal(gm_store_bench_overhead(f->st, res.bench_id, &ov, &n),
                   GM_OK);
  assert_int_equal(n, 0);
  free(ov);
  /* a fresh bench of the same name is refused; the first is untouched */
  s = (struct seen){0};
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_ERR_STATE);
  assert_non_null(strstr(err, "exists"));
  assert_int_equal(res.bench_id, 0);
  assert_int_equal(s.n_rows, 0);
  bi = find(f, "grid");
  assert_string_equal(bi.status, "complete");
  gm_bench_info_clear(&bi);
}

/* ---- one cell at a time (a task of a job array) ----------------------------
 */

/* Cells run one by one join the bench the first created; the front end's
 * flags may be spelled otherwise (argv is not compared), but a task with
 * another study (another mode, another epoch count) is refused naming the
 * difference, and adds no row. Each row carries its task's tags. */
static void cells_join_the_same_study(void **state) {
  struct fixture *f = *state;
  static const int two[] = {8, 4};
  char err[1024] = "";
  struct gm_study_result res;
  struct seen s = {0};
  struct gm_study_observer obs = observer(&s);
  obs.progress = NULL; /* on_progress knows batch 8 only */
  struct gm_study_config c = config(f, "cells");
  c.idle_ns = 0;
  c.epochs = 1;
  c.n_batch_sizes = 2;
  c.batch_sizes = two;
  c.one_cell = true;
  c.cell = 0;
  c.run_tags = "\"slurm_job_id\":\"5\"";
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_OK);
  int64_t bench = res.bench_id;
  /* the same study, its flags given otherwise, unmetered: joins */
  static const char *const other_flags[] = {"--quick", "--models", "lenet"};
  c.flags = other_flags;
  c.cell = 1;
  c.mode = GM_STUDY_UNMETERED;
  c.run_tags = "\"slurm_job_id\":\"6\"";
  s = (struct seen){0};
  enum gm_status rc = gm_study_run(&c, f->st, &obs, &res, err, sizeof(err));
  /* the mode is part of the study: refused */
  assert_int_equal(rc, GM_ERR_INVALID_ARG);
  if (!strstr(err, "another study"))
    fail_msg("%s", err);
  if (!strstr(err, "mode: metered, not unmetered"))
    fail_msg("%s", err);
  assert_int_equal(s.n_rows, 0);
  c.mode = GM_STUDY_METERED;
  c.epochs = 2;
  s = (struct seen){0};
  rc = gm_study_run(&c, f->st, &obs, &res, err, sizeof(err));
  assert_int_equal(rc, GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "epochs: 1, not 2"));
  c.epochs = 1;
  s = (struct seen){0};
  rc = gm_study_run(&c, f->st, &obs, &res, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("joining: %s: %s", gm_status_name(rc), err);
  assert_int_equal(res.bench_id, bench);
  struct gm_store_bench_filter flt = {.bench_id = bench, .rows = true};
  struct gm_store_bench_set *set = NULL;
  assert_int_equal(gm_store_load_benches(f->st, &flt, &set), GM_OK);
  assert_int_equal(set->n_phases, 4);
  /* what computed each row, then where it ran */
  for (size_t i = 0; i < set->n_phases; i++) {
    const char *tags = set->phases[i].tags_json;
    const char *job = set->phases[i].batch_size == 8
                          ? ",\"slurm_job_id\":\"5\"}"
                          : ",\"slurm_job_id\":\"6\"}";
    assert_non_null(tags);
    assert_true(strncmp(tags, "{\"kernels\":\"", 12) == 0);
    assert_true(strlen(tags) > strlen(job) &&
                strcmp(tags + strlen(tags) - strlen(job), job) == 0);
  }
  assert_string_equal(set->benches[0].status, "complete");
  gm_store_bench_set_free(set);
}

/* ---- stop, resume, and net energy without a baseline ------------------------
 */

static void stop_then_resume_gives_the_same_losses(void **state) {
  struct fixture *f = *state;
  char err[1024] = "";
  struct gm_study_result res;
  /* the reference, without an idle baseline */
  struct gm_study_config c = config(f, "ref");
  c.idle_ns = 0;
  struct seen ref = {0};
  struct gm_study_observer obs = observer(&ref);
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_OK);
  assert_false(ref.begin.idle_measured);
  assert_int_equal(ref.n_rows, 4);
  for (size_t i = 0; i < 4; i++) {
    /* the rule: no baseline, no net energy (never the gross in disguise) */
    assert_true(isnan(ref.rows[i].net_energy_j));
    assert_true(isnan(ref.rows[i].dram_net_j));
    assert_true(ref.rows[i].energy_j > 0);
  }

  /* stopped after its first row */
  c = config(f, "stopped");
  c.idle_ns = 0;
  struct seen a = {.stop_after_rows = 1};
  obs = observer(&a);
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_OK);
  assert_true(res.interrupted);
  assert_int_equal(a.n_rows, 1);
  struct gm_bench_info bi = find(f, "stopped");
  assert_string_equal(bi.status, "interrupted");
  gm_bench_info_clear(&bi);

  /* resumed: its inference pass first, from the checkpoint of epoch 1 */
  c.resume = true;
  struct seen b = {0};
  obs = observer(&b);
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_OK);
  assert_false(res.interrupted);
  assert_true(b.begin.resumed);
  assert_non_null(strstr(b.messages, "resumes after epoch 1"));
  assert_int_equal(b.n_rows, 3);
  bi = find(f, "stopped");
  assert_string_equal(bi.status, "complete");
  gm_bench_info_clear(&bi);
  /* the same losses as the run that never stopped, bit for bit */
  assert_true(a.rows[0].loss == ref.rows[0].loss);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(b.rows[i].kind, ref.rows[i + 1].kind);
    assert_int_equal(b.rows[i].epoch, ref.rows[i + 1].epoch);
    assert_true(b.rows[i].loss == ref.rows[i + 1].loss);
  }
  /* a complete bench is not resumed */
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_ERR_STATE);
  assert_non_null(strstr(err, "complete"));
  /* nor one that does not exist */
  c.name = "nosuch";
  assert_int_equal(gm_study_run(&c, f->st, &obs, &res, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
}

/* ---- checks
 * ------------------------------------------------------------------ */

static void bad_configurations(void **state) {
  struct fixture *f = *state;
  char err[512];
  struct gm_study_config c = config(f, "bad");
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)), GM_OK);
  c.verify = true;
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "--verify needs --profile-epochs"));
  c = config(f, "bad");
  c.profile_epochs = 2;
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_non_null(strstr(err, "must be below --epochs"));
  c.profile_epochs = 0.5;
  c.mode = GM_STUDY_OVERHEAD;
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  c = config(f, "bad");
  static const char *const nope[] = {"Nope"};
  c.models = nope;
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  c = config(f, "bad");
  c.backend = "nosuch";
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "nosuch"));
  c = config(f, "a/b");
  assert_int_equal(gm_study_config_check(&c, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  /* and nothing is written for a bad one */
  struct gm_study_result res;
  c = config(f, "bad");
  c.epochs = 0;
  assert_int_equal(gm_study_run(&c, f->st, NULL, &res, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  struct gm_bench_info bi;
  assert_int_equal(gm_store_bench_find(f->st, "bad", &bi), GM_ERR_NOT_FOUND);
}

/* ---- a short profile
 * ----------------------------------------------------------- */

static void profile_predicts_the_run(void **state) {
  struct fixture *f = *state;
  struct gm_study_config c = config(f, "profile");
  c.epochs = 4;
  c.limit_batches = 0; /* 80 images: 10 steps per epoch */
  c.profile_epochs = 1;
  c.idle_ns = 20 * 1000000;
  c.meter.interval_ns = 2 * 1000000;
  struct seen s = {0};
  struct gm_study_observer obs = observer(&s);
  struct gm_study_result res;
  char err[1024] = "";
  enum gm_status rc = gm_study_run(&c, f->st, &obs, &res, err, sizeof(err));
  if (rc != GM_OK)
    fail_msg("gm_study_run: %s", err);
  /* the profile alone: its two phases, then a word on each prediction */
  assert_int_equal(s.n_rows, 2);
  assert_string_equal(s.rows[0].kind, "profile-train");
  assert_string_equal(s.rows[1].kind, "profile-infer");
  assert_true(s.rows[0].samples >= 80 && s.rows[0].samples < 4 * 80);
  assert_int_equal(s.predictions, 2);
  const struct gm_study_prediction *t = &s.pred[0];
  assert_string_equal(t->p.kind, "train");
  if (!t->made)
    fail_msg("no training prediction: %zu windows after %ld samples",
             t->windows, t->profiled);
  assert_int_equal(t->p.target_samples, 4 * 80);
  assert_double_equal(t->p.level, 0.95, 0);
  assert_true(isnan(t->p.actual_energy_j));
  /* constant power: predicted energy is 6 W x predicted time */
  assert_double_equal(t->p.energy_j, DRAM_W * t->p.duration_s,
                      1e-6 * t->p.energy_j);
  assert_true(t->p.energy_lo_j <= t->p.energy_j &&
              t->p.energy_j <= t->p.energy_hi_j);
  assert_true(t->p.duration_lo_s <= t->p.duration_s &&
              t->p.duration_s <= t->p.duration_hi_s);
  assert_double_equal(t->p.net_energy_j, 0, 1e-6 * t->p.energy_j);
  assert_string_equal(t->p.kind, "train");
  assert_string_equal(s.pred[1].p.kind, "infer");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grid_row_by_row),
      cmocka_unit_test(cells_join_the_same_study),
      cmocka_unit_test(stop_then_resume_gives_the_same_losses),
      cmocka_unit_test(bad_configurations),
      cmocka_unit_test(profile_predicts_the_run),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
