/* test_report.c: the report's data (greenml/report.h) on small stores
 * written through the store's API with numbers known in advance: which
 * benches are selected and why nothing is, a cell summed over the metered
 * rows of its phases (an unmetered twin of --overhead ignored), a cell of an
 * older bench superseded by a newer one, per-part power, per-epoch curves,
 * the main batch size, net or gross, the host and component descriptions
 * read from the JSON the bench stored, and the predictions. Also the JSON
 * reader those descriptions go through. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "greenml/report.h"
#include "greenml/store.h"
#include "helpers.h"

static const char host_json[] =
    "{\"hostname\": \"box\", \"cpu_model\": \"Test CPU 9000\", "
    "\"logical_cpus\": 8, \"mem_total_bytes\": 17179869184, "
    "\"gpus\": [{\"detail\": \"Tesla P100-PCIE-16GB, driver 550\"}], "
    "\"components\": ["
    "{\"name\": \"cpu\", \"kind\": \"cpu\", \"source\": \"cpu-tdp-model\", "
    "\"provenance\": \"modelled\", \"signal\": \"model\", "
    "\"detail\": \"TDP 125 W x utilisation\", \"in_total\": true},"
    "{\"name\": \"gpu0\", \"kind\": \"gpu\", \"source\": \"nvml\", "
    "\"provenance\": \"measured\", \"signal\": \"power sensor\", "
    "\"detail\": \"Tesla P100\", \"in_total\": true}]}";

struct fx {
  char *dir, *path;
  struct gm_store *st;
  int64_t host;
};

static void fx_open(struct fx *f) {
  memset(f, 0, sizeof(*f));
  f->dir = gmt_mkdtemp();
  f->path = gmt_path(f->dir, "r.db");
  assert_int_equal(gm_store_open(f->path, &f->st, NULL, 0), GM_OK);
  struct gm_host h;
  memset(&h, 0, sizeof(h));
  snprintf(h.fingerprint, sizeof(h.fingerprint), "fp");
  snprintf(h.dimms_json, sizeof(h.dimms_json), "[]");
  snprintf(h.gpus_json, sizeof(h.gpus_json), "[]");
  assert_int_equal(gm_store_put_host(f->st, &h, &f->host), GM_OK);
}

static void fx_close(struct fx *f) {
  gm_store_close(f->st);
  gmt_rmtree(f->dir);
  free(f->dir);
  free(f->path);
}

static int64_t bench(struct fx *f, const char *name, const char *status) {
  struct gm_bench_meta meta = {
      .name = name,
      .config_json = "{\"models\": [\"LeNet\", \"VGG16\"], \"batch_sizes\": "
                     "[ 8, 16 ], \"epochs\": 2, \"infer_samples\": 64}",
      .host_json = host_json};
  int64_t id = 0;
  assert_int_equal(gm_store_bench_create(f->st, f->host, &meta, &id), GM_OK);
  assert_int_equal(gm_store_bench_set_status(f->st, id, status), GM_OK);
  const char *models[2] = {"LeNet", "VGG16"};
  double mpp[2] = {10.5, 20.0};
  for (int i = 0; i < 2; i++) {
    struct gm_bench_model m = {.model = models[i],
                               .params = 1000 * (i + 1),
                               .size_bytes = 4000 * (i + 1),
                               .macs = (int64_t)(mpp[i] * 1000 * (i + 1)),
                               .macs_per_param = mpp[i]};
    assert_int_equal(gm_store_bench_put_model(f->st, id, &m), GM_OK);
  }
  return id;
}

/* A phase of duration d s: the CPU at 10 W and the GPU at 40 W (net: 4 W
 * and 24 W idle, or net_w in total), metered; unmetered: time only. */
static void phase_net(struct fx *f, int64_t b, const char *model, int batch,
                      const char *kind, int epoch, bool metered, double d,
                      double net_w) {
  struct gm_bench_component c[2] = {
      {"cpu", "cpu", "modelled", true, 10 * d, 6 * d, 10, 10},
      {"gpu0", "gpu", "measured", true, 40 * d, 16 * d, 40, 45}};
  struct gm_bench_phase p = {.model = model,
                             .batch_size = batch,
                             .kind = kind,
                             .epoch = epoch,
                             .metered = metered,
                             .duration_s = d,
                             .steps = 4,
                             .samples = 4 * batch,
                             .loss = 2.0 - 0.1 * epoch,
                             .accuracy = 0.1 * epoch,
                             .lr = NAN,
                             .energy_j = metered ? 50 * d : NAN,
                             .net_energy_j = metered ? net_w * d : NAN,
                             .avg_power_w = metered ? 50 : NAN,
                             .peak_power_w = metered ? 55 : NAN,
                             .provenance = metered ? "mixed" : NULL,
                             .cpu_util_pct = metered ? 50 : 99,
                             .dram_used_bytes = NAN,
                             .gpu_util_pct = NAN,
                             .vram_used_bytes = NAN,
                             .n_components = metered ? 2 : 0,
                             .components = metered ? c : NULL};
  assert_int_equal(gm_store_bench_add_phase(f->st, b, &p), GM_OK);
}

static void phase(struct fx *f, int64_t b, const char *model, int batch,
                  const char *kind, int epoch, bool metered, double d) {
  phase_net(f, b, model, batch, kind, epoch, metered, d, 22);
}

static void load(struct fx *f, const char *run, struct gm_report *r,
                 enum gm_status want) {
  char err[512] = "";
  struct gm_store *ro = NULL;
  assert_int_equal(gm_store_open_readonly(f->path, &ro, NULL, 0), GM_OK);
  enum gm_status rc = gm_report_load(ro, run, r, err, sizeof(err));
  if (rc != want)
    fail_msg("gm_report_load: %s (%s)", gm_status_name(rc), err);
  gm_store_close(ro);
}

static void selects_and_sums(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f);
  int64_t old = bench(&f, "old", "complete");
  /* the old bench measured LeNet b8 and VGG16 b8 */
  phase(&f, old, "LeNet", 8, "train", 1, true, 1.0);
  phase(&f, old, "VGG16", 8, "train", 1, true, 3.0);
  int64_t neu = bench(&f, "new", "complete");
  /* the newer one measures LeNet b8 again (it supersedes the old cell),
   * with an unmetered twin per phase (--overhead), two epochs and an
   * inference pass, and LeNet b16 */
  for (int e = 1; e <= 2; e++) {
    phase(&f, neu, "LeNet", 8, "train", e, false, 9.0);
    phase(&f, neu, "LeNet", 8, "train", e, true, 2.0 * e);
    phase(&f, neu, "LeNet", 8, "infer", e, true, 0.5);
  }
  phase(&f, neu, "LeNet", 16, "train", 1, true, 1.5);
  (void)bench(&f, "running", "running");
  struct gm_bench_prediction pr = {.model = "LeNet",
                                   .batch_size = 8,
                                   .kind = "train",
                                   .profile_epochs = 0.5,
                                   .duration_s = 6.5,
                                   .energy_j = 330,
                                   .energy_lo_j = 300,
                                   .energy_hi_j = 360,
                                   .net_energy_j = NAN,
                                   .provenance = "mixed",
                                   .actual_duration_s = 6,
                                   .actual_energy_j = 300};
  assert_int_equal(gm_store_bench_put_prediction(f.st, neu, &pr), GM_OK);

  struct gm_report r;
  load(&f, NULL, &r, GM_OK);
  /* every complete bench, oldest first; one host */
  assert_int_equal(r.n_benches, 2);
  assert_string_equal(r.benches[0].name, "old");
  assert_string_equal(r.benches[1].name, "new");
  assert_string_equal(r.benches[1].grid, "2 models, batch sizes [8,16], 2 "
                                         "epochs, 64 inference samples per "
                                         "pass");
  assert_int_equal(r.n_groups, 1);
  const struct gm_report_group *g = &r.groups[0];
  assert_string_equal(g->prefix, "");
  assert_string_equal(g->bench_names, "old, new");
  assert_string_equal(g->host, "box: Test CPU 9000, 8 logical CPUs, 16.0 GiB "
                               "memory, GPU Tesla P100-PCIE-16GB");
  /* components from the host description, provenance with its signal */
  assert_int_equal(g->n_components, 2);
  assert_string_equal(g->components[1].name, "gpu0");
  assert_string_equal(g->components[1].prov, "measured power");
  assert_string_equal(g->components[0].prov, "modelled");
  assert_true(g->components[0].in_total);
  assert_true(g->part[GM_REPORT_GPU].present);
  assert_string_equal(g->part[GM_REPORT_GPU].prov, "measured power");
  assert_string_equal(g->part[GM_REPORT_GPU].names, "gpu0");
  assert_false(g->part[GM_REPORT_DRAM].present);
  assert_string_equal(g->energy_prov, "CPU modelled, GPU measured power");
  /* cells: the newer bench's LeNet b8 and b16, the old VGG16 b8 */
  assert_int_equal(g->n_cells, 3);
  assert_int_equal(g->n_superseded, 1);
  assert_int_equal(g->main_batch, 8); /* two models at 8, one at 16 */
  assert_true(g->metered);
  assert_true(g->net);
  const struct gm_report_cell *c = gm_report_cell_find(g, "LeNet", 8);
  assert_non_null(c);
  assert_int_equal(c->bench_id, neu);
  const struct gm_report_phases *tr = &c->ph[GM_REPORT_TRAIN];
  assert_int_equal(tr->n, 2);                            /* not the twins */
  assert_double_equal(tr->duration_s, 2.0 + 4.0, 1e-12); /* metered only */
  assert_double_equal(tr->samples, 64, 0);
  assert_double_equal(tr->energy_j, 50 * 6.0, 1e-9);
  assert_double_equal(tr->net_energy_j, 22 * 6.0, 1e-9);
  assert_double_equal(tr->cpu_util_pct, 50, 1e-12); /* not the twins' 99 */
  assert_true(isnan(tr->gpu_util_pct));
  assert_double_equal(tr->power_w[GM_REPORT_CPU], 10, 1e-9);
  assert_double_equal(tr->power_w[GM_REPORT_GPU], 40, 1e-9);
  assert_true(isnan(tr->power_w[GM_REPORT_DRAM]));
  assert_double_equal(gm_report_energy(g, tr), 22 * 6.0, 1e-9); /* net */
  assert_int_equal(c->ph[GM_REPORT_INFER].n, 2);
  assert_double_equal(c->ph[GM_REPORT_INFER].duration_s, 1.0, 1e-12);
  assert_int_equal(c->n_epochs, 2);
  assert_double_equal(c->epochs[1].train_energy_j, 50 * 4.0, 1e-9);
  assert_double_equal(c->epochs[1].train_loss, 1.8, 1e-12);
  assert_double_equal(c->epochs[0].test_acc, 0.1, 1e-12);
  c = gm_report_cell_find(g, "VGG16", 8);
  assert_non_null(c);
  assert_int_equal(c->bench_id, old);
  assert_double_equal(c->ph[GM_REPORT_TRAIN].energy_j, 150, 1e-9);
  assert_int_equal(c->ph[GM_REPORT_INFER].n, 0);
  assert_null(gm_report_cell_find(g, "VGG16", 16));
  /* the models, newest bench first, each once */
  assert_int_equal(g->n_models, 2);
  const struct gm_report_model *m = gm_report_model_find(g, "VGG16");
  assert_non_null(m);
  assert_double_equal(m->macs_per_param, 20.0, 0);
  assert_int_equal(m->params, 2000);
  /* predictions of the selected benches */
  assert_int_equal(r.n_predictions, 1);
  assert_string_equal(r.predictions[0].bench, "new");
  assert_double_equal(r.predictions[0].actual_energy_j, 300, 0);
  assert_string_equal(gm_report_part_label(GM_REPORT_DRAM), "DRAM");
  gm_report_clear(&r);

  /* --run by name and by id, a running bench included */
  load(&f, "running", &r, GM_ERR_NOT_FOUND);
  assert_int_equal(r.missing, GM_REPORT_MISSING_PHASES);
  gm_report_clear(&r);
  char id[16];
  snprintf(id, sizeof(id), "%lld", (long long)old);
  load(&f, id, &r, GM_OK);
  assert_int_equal(r.n_benches, 1);
  assert_string_equal(r.benches[0].name, "old");
  assert_int_equal(r.groups[0].n_superseded, 0);
  assert_int_equal(r.groups[0].n_cells, 2);
  assert_int_equal(r.n_predictions, 0);
  gm_report_clear(&r);
  char err[512] = "";
  struct gm_store *ro = NULL;
  assert_int_equal(gm_store_open_readonly(f.path, &ro, NULL, 0), GM_OK);
  assert_int_equal(gm_report_load(ro, "nope", &r, err, sizeof(err)),
                   GM_ERR_NOT_FOUND);
  assert_int_equal(r.missing, GM_REPORT_MISSING_NAMED);
  assert_non_null(
      strstr(err, "old (complete), new (complete), running (running)"));
  gm_report_clear(&r);
  gm_store_close(ro);
  fx_close(&f);
}

/* A net energy at or below 0 is left out of the net figures and counted,
 * never drawn; --gross draws everything on gross energy. */
static void a_net_at_or_below_zero_is_left_out(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f);
  int64_t b = bench(&f, "b", "complete");
  phase(&f, b, "LeNet", 8, "train", 1, true, 1.0);
  phase(&f, b, "LeNet", 8, "infer", 1, true, 1.0);
  phase_net(&f, b, "VGG16", 8, "train", 1, true, 2.0, -3); /* below idle */
  phase_net(&f, b, "VGG16", 8, "train", 2, true, 2.0, 5);
  phase_net(&f, b, "VGG16", 8, "infer", 1, true, 1.0, 0);
  struct gm_report r;
  load(&f, NULL, &r, GM_OK);
  const struct gm_report_group *g = &r.groups[0];
  assert_true(g->net);
  assert_false(g->gross_asked);
  assert_int_equal(g->n_net_not_positive, 1); /* VGG16's inference: 0 J */
  const struct gm_report_cell *vgg = gm_report_cell_find(g, "VGG16", 8);
  const struct gm_report_cell *lenet = gm_report_cell_find(g, "LeNet", 8);
  /* the training sum is above 0 (-6 + 10 J), but its first epoch is not */
  assert_double_equal(vgg->ph[GM_REPORT_TRAIN].net_energy_j, 4, 1e-9);
  assert_false(gm_report_net_excluded(g, &vgg->ph[GM_REPORT_TRAIN]));
  assert_true(isnan(gm_report_epoch_energy(g, &vgg->epochs[0])));
  assert_double_equal(gm_report_epoch_energy(g, &vgg->epochs[1]), 10, 1e-9);
  assert_true(gm_report_net_excluded(g, &vgg->ph[GM_REPORT_INFER]));
  assert_true(isnan(gm_report_energy(g, &vgg->ph[GM_REPORT_INFER])));
  assert_false(gm_report_net_excluded(g, &lenet->ph[GM_REPORT_INFER]));
  assert_double_equal(gm_report_energy(g, &lenet->ph[GM_REPORT_INFER]), 22,
                      1e-9);
  gm_report_use_gross(&r);
  assert_false(g->net);
  assert_true(g->gross_asked);
  assert_false(gm_report_net_excluded(g, &vgg->ph[GM_REPORT_INFER]));
  assert_double_equal(gm_report_energy(g, &vgg->ph[GM_REPORT_INFER]), 50, 1e-9);
  assert_double_equal(gm_report_epoch_energy(g, &vgg->epochs[0]), 100, 1e-9);
  gm_report_clear(&r);
  fx_close(&f);
}

static void says_what_is_missing(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f);
  struct gm_report r;
  load(&f, NULL, &r, GM_ERR_NOT_FOUND);
  assert_int_equal(r.missing, GM_REPORT_MISSING_BENCHES);
  gm_report_clear(&r);
  int64_t b = bench(&f, "half", "interrupted");
  load(&f, NULL, &r, GM_ERR_NOT_FOUND);
  assert_int_equal(r.missing, GM_REPORT_MISSING_COMPLETE);
  gm_report_clear(&r);
  /* unmetered only: durations, no energy, gross */
  phase(&f, b, "LeNet", 8, "train", 1, false, 1.0);
  load(&f, "half", &r, GM_OK);
  assert_false(r.groups[0].metered);
  assert_false(r.groups[0].net);
  assert_true(isnan(r.groups[0].cells[0].ph[GM_REPORT_TRAIN].energy_j));
  assert_double_equal(r.groups[0].cells[0].ph[GM_REPORT_TRAIN].cpu_util_pct, 99,
                      0);
  gm_report_clear(&r);
  gm_report_clear(NULL);
  fx_close(&f);
}

static void json_reader(void **state) {
  (void)state;
  struct gm__json_value *v = NULL;
  assert_int_equal(
      gm__json_parse(" {\"a\": [1, -2.5e1, true, null, \"x\\u00e9\\n\\ud83d"
                     "\\ude00\"], \"b\": {\"c\": false}, \"d\": \"q\\\"\"} ",
                     &v),
      GM_OK);
  const struct gm__json_value *a = gm__json_get(v, "a");
  assert_non_null(a);
  assert_int_equal(a->type, GM__JSON_ARRAY);
  assert_int_equal(a->n, 5);
  assert_double_equal(gm__json_number(&a->items[1]), -25, 0);
  assert_double_equal(gm__json_number(&a->items[2]), 1, 0);
  assert_string_equal(a->items[4].string, "x\xc3\xa9\n\xf0\x9f\x98\x80");
  char buf[64];
  gm__json_text(a, buf, sizeof(buf));
  assert_string_equal(buf,
                      "[1,-2.5e1,true,null,\"x\\u00e9\\n\\ud83d\\ude00\"]");
  gm__json_text(&a->items[1], buf, sizeof(buf));
  assert_string_equal(buf, "-2.5e1");
  gm__json_text(gm__json_get(gm__json_get(v, "b"), "c"), buf, sizeof(buf));
  assert_string_equal(buf, "0");
  gm__json_text(gm__json_get(v, "d"), buf, sizeof(buf));
  assert_string_equal(buf, "q\"");
  gm__json_text(gm__json_get(v, "missing"), buf, sizeof(buf));
  assert_string_equal(buf, "");
  assert_null(gm__json_get(a, "a")); /* not an object */
  assert_true(isnan(gm__json_number(gm__json_get(v, "d"))));
  gm__json_free(v);
  static const char *const bad[] = {
      "",        "{",   "[1,]", "{\"a\" 1}", "[1 2]",       "01",         "1.",
      "\"\\x\"", "tru", "{} x", "\"a\nb\"",  "[\"\\u12\"]", "{\"a\":1,}", "-"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = NULL;
    if (gm__json_parse(bad[i], &v) != GM_ERR_PARSE)
      fail_msg("'%s' parsed", bad[i]);
    assert_null(v);
  }
  char deep[300];
  memset(deep, '[', 200);
  deep[200] = '\0';
  assert_int_equal(gm__json_parse(deep, &v), GM_ERR_PARSE);
  gm__json_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(selects_and_sums),
      cmocka_unit_test(a_net_at_or_below_zero_is_left_out),
      cmocka_unit_test(says_what_is_missing),
      cmocka_unit_test(json_reader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
