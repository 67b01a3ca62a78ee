/* test_meter.c: the meter's lifecycle, phases, callbacks and live view, on
 * a fake machine whose only power component is the DRAM model (constant
 * power, so every energy is known exactly: P x duration). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "greenml/meter.h"
#include "helpers.h"

/* 16 GiB and no DIMM data: 0.375 W/GiB x 16 GiB = 6 W. */
#define DRAM_W 6.0

static char *fake_machine(void) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n");
  gmt_write(root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
  gmt_write(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\n");
  gmt_mkdirs(root, "sys");
  gmt_mkdirs(root, "dev");
  return root;
}

static struct gm_meter_config config(const char *root, char *sys, char *proc,
                                     char *dev) {
  gmt_roots(root, sys, proc, dev, 512);
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = sys;
  c.procfs_root = proc;
  c.devfs_root = dev;
  c.no_gpu = true;
  c.interval_ns = 5 * 1000000;
  return c;
}

static size_t component(struct gm_meter *m, const char *name) {
  for (size_t i = 0; i < gm_meter_component_count(m); i++)
    if (strcmp(gm_meter_component(m, i)->name, name) == 0)
      return i;
  fail_msg("no component '%s'", name);
  return 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void models_stand_in_and_integrate_exactly(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  size_t d = component(m, "dram"), cpu = component(m, "cpu");
  assert_int_equal(gm_meter_component(m, d)->provenance, GM_PROV_MODELLED);
  assert_int_equal(gm_meter_component(m, cpu)->provenance, GM_PROV_MODELLED);
  /* every source was tried and explained */
  size_t unusable = 0;
  for (size_t i = 0; i < gm_meter_probe_count(m); i++) {
    const struct gm_probe *p = gm_meter_probe(m, i);
    if (p->status != GM_OK) {
      unusable++;
      assert_true(p->reason[0] != '\0');
    }
  }
  assert_true(unusable >= 4); /* powercap, perf, msr, nvml */
  assert_int_equal(gm_meter_stats(m, d, &(struct gm_component_stats){0}),
                   GM_ERR_STATE);
  assert_int_equal(gm_meter_start(m), GM_OK);
  sleep_ms(120);
  double e[8], p[8], t;
  assert_int_equal(gm_meter_live(m, e, p, &t), GM_OK);
  assert_true(t > 0.0);
  assert_double_equal(p[d], DRAM_W, 1e-9);
  /* the statistics and metrics of the latest tick, while it runs */
  struct gm_component_stats ls;
  assert_int_equal(gm_meter_live_stats(m, d, &ls), GM_OK);
  assert_true(ls.energy_j > 0.0);
  assert_double_equal(ls.avg_power_w, DRAM_W, 1e-9);
  assert_int_equal(ls.read_errors, 0);
  assert_int_equal(gm_meter_live_stats(m, 99, &ls), GM_ERR_INVALID_ARG);
  double mv[64];
  assert_true(gm_meter_metric_count(m) <= 64);
  assert_int_equal(gm_meter_live_metrics(m, mv), GM_OK);
  size_t seen = 0;
  for (size_t k = 0; k < gm_meter_metric_count(m); k++)
    if (strcmp(gm_meter_metric(m, k)->name, "mem.total") == 0 && ++seen)
      assert_double_equal(mv[k], 16777216.0 * 1024, 0);
  assert_int_equal(seen, 1);
  /* the meter's own CPU time is known while it runs, and only grows */
  double self_live = gm_meter_self_cpu_s(m);
  assert_true(self_live > 0.0);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  assert_true(gm_meter_self_cpu_s(m) >= self_live);
  struct gm_component_stats cs;
  assert_int_equal(gm_meter_stats(m, d, &cs), GM_OK);
  double dur = gm_meter_duration_s(m);
  assert_double_equal(cs.energy_j, DRAM_W * dur, 1e-9);
  assert_double_equal(cs.peak_power_w, DRAM_W, 1e-9);
  /* /proc/stat never changes here: utilisation 0/0 is unknown, so the CPU
   * model has no power and adds nothing rather than guessing */
  assert_int_equal(gm_meter_stats(m, cpu, &cs), GM_OK);
  assert_double_equal(cs.energy_j, 0.0, 0.0);
  assert_true(gm_meter_self_cpu_s(m) >= 0.0);
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

static void phases_partition_the_series(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "early", 0), GM_ERR_STATE);
  assert_int_equal(gm_meter_start(m), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "", 0), GM_ERR_INVALID_ARG);
  int64_t t_a = gm__now_ns();
  assert_int_equal(gm_meter_phase_begin(m, "load", t_a), GM_OK);
  sleep_ms(60);
  int64_t t_b = gm__now_ns();
  assert_int_equal(gm_meter_phase_begin(m, "train", t_b), GM_OK);
  sleep_ms(40);
  int64_t t_c = gm__now_ns() - 3 * 1000000; /* a marker that arrives late */
  assert_int_equal(gm_meter_phase_end(m, t_c), GM_OK);
  sleep_ms(20);
  assert_int_equal(gm_meter_phase_begin(m, "tail", 0), GM_OK);
  sleep_ms(20);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  assert_int_equal(gm_meter_phase_end(m, 0), GM_ERR_STATE);

  size_t d = component(m, "dram");
  assert_int_equal(gm_meter_phase_count(m), 3);
  const struct gm_phase *load = gm_meter_phase(m, 0);
  const struct gm_phase *train = gm_meter_phase(m, 1);
  const struct gm_phase *tail = gm_meter_phase(m, 2);
  assert_string_equal(load->name, "load");
  assert_string_equal(train->name, "train");
  assert_string_equal(tail->name, "tail");
  assert_double_equal(load->duration_s, (double)(t_b - t_a) / 1e9, 1e-9);
  assert_double_equal(train->duration_s, (double)(t_c - t_b) / 1e9, 1e-9);
  assert_false(load->open);
  assert_false(train->open);
  assert_true(tail->open); /* ended by stop */
  assert_double_equal(tail->start_s + tail->duration_s, gm_meter_duration_s(m),
                      1e-9);
  for (size_t i = 0; i < 3; i++) {
    const struct gm_phase *ph = gm_meter_phase(m, i);
    assert_double_equal(ph->energy_j[d], DRAM_W * ph->duration_s, 1e-9);
  }
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

/* Phases are readable while the meter runs, as soon as their end is
 * applied: energy, peak power and metric means. */
static void phase_snapshots_while_running(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  size_t d = component(m, "dram"), nc = gm_meter_component_count(m);
  size_t nm = gm_meter_metric_count(m), used = nm;
  for (size_t k = 0; k < nm; k++)
    if (strcmp(gm_meter_metric(m, k)->name, "mem.used") == 0)
      used = k;
  assert_true(used < nm);
  double e[8], peak[8], mean[64], mx[64];
  assert_true(nc <= 8 && nm <= 64);
  struct gm_phase_snapshot ps = {.energy_j = e,
                                 .peak_power_w = peak,
                                 .metric_mean = mean,
                                 .metric_max = mx};
  assert_int_equal(gm_meter_start(m), GM_OK);
  assert_int_equal(gm_meter_phase_snapshot(m, 0, &ps), GM_ERR_NOT_FOUND);
  int64_t t_a = gm__now_ns();
  assert_int_equal(gm_meter_phase_begin(m, "epoch 1", t_a), GM_OK);
  sleep_ms(50);
  int64_t t_b = gm__now_ns();
  assert_int_equal(gm_meter_phase_end(m, t_b), GM_OK);
  enum gm_status rc;
  int tries = 0;
  while ((rc = gm_meter_phase_snapshot(m, 0, &ps)) != GM_OK && tries++ < 200)
    sleep_ms(2);
  assert_int_equal(rc, GM_OK);
  assert_string_equal(ps.name, "epoch 1");
  assert_double_equal(ps.duration_s, (double)(t_b - t_a) / 1e9, 1e-9);
  assert_double_equal(e[d], DRAM_W * ps.duration_s, 1e-9);
  assert_true(ps.ticks >= 5); /* 50 ms at 5 ms */
  assert_double_equal(peak[d], DRAM_W, 1e-9);
  /* 16 GiB total, 8 GiB available: 8 GiB used */
  assert_double_equal(mean[used], 8.0 * 1024 * 1024 * 1024, 1.0);
  assert_double_equal(mx[used], 8.0 * 1024 * 1024 * 1024, 1.0);
  assert_int_equal(gm_meter_phase_begin(m, "open", 0), GM_OK);
  tries = 0;
  while (gm_meter_phase_snapshot(m, 1, &ps) == GM_ERR_NOT_FOUND &&
         tries++ < 200)
    sleep_ms(2);
  assert_int_equal(gm_meter_phase_snapshot(m, 1, &ps), GM_ERR_STATE);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  assert_int_equal(gm_meter_phase_snapshot(m, 1, &ps), GM_OK);
  assert_double_equal(e[d], DRAM_W * ps.duration_s, 1e-9);
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

struct seen {
  uint64_t samples, flushes, last_seq;
  int64_t last_t;
  bool ordered;
  double last_e;
  size_t nc;
};

static void on_sample(void *ctx, const struct gm_sample *s) {
  struct seen *sn = ctx;
  if (sn->samples > 0 && (s->seq <= sn->last_seq || s->t_ns <= sn->last_t))
    sn->ordered = false;
  sn->samples++;
  sn->last_seq = s->seq;
  sn->last_t = s->t_ns;
  sn->nc = s->n_components;
  sn->last_e = s->energy_j[0];
}

static void on_flush(void *ctx) { ((struct seen *)ctx)->flushes++; }

static void callbacks_see_every_sample_in_order(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct seen sn = {.ordered = true};
  c.on_sample = on_sample;
  c.on_flush = on_flush;
  c.callback_ctx = &sn;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  assert_int_equal(gm_meter_start(m), GM_OK);
  sleep_ms(100);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  assert_true(sn.ordered);
  assert_true(sn.samples >= 5);
  assert_int_equal(sn.samples + gm_meter_dropped_samples(m), sn.last_seq + 1);
  assert_true(sn.flushes >= 1);
  assert_int_equal(sn.nc, gm_meter_component_count(m));
  struct gm_component_stats cs;
  gm_meter_stats(m, 0, &cs);
  assert_double_equal(sn.last_e, cs.energy_j, 1e-12); /* the final sample */
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

static void bad_configuration(void **state) {
  (void)state;
  struct gm_meter_config c = gm_meter_config_default();
  struct gm_meter *m = NULL;
  c.interval_ns = 999999; /* below 1 ms */
  assert_int_equal(gm_meter_create(&c, &m), GM_ERR_INVALID_ARG);
  assert_null(m);
  c.interval_ns = 61LL * 1000000000;
  assert_int_equal(gm_meter_create(&c, &m), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_meter_create(&c, NULL), GM_ERR_INVALID_ARG);
  gm_meter_destroy(NULL);
  assert_string_equal(gm_status_name(GM_ERR_PERMISSION), "GM_ERR_PERMISSION");
  assert_string_equal(gm_status_str(GM_ERR_SCHEMA_NEWER),
                      "database written by a newer greenml");
  assert_string_equal(gm_status_name((enum gm_status)999), "GM_ERR_UNKNOWN");
}

/* Markers take effect in the order of their stamps; one stamped before the
 * run, too far ahead, or before the boundary applied last (an end before
 * its phase's begin) is refused and changes nothing: no phase is ever
 * negative. */
static void markers_are_ordered_and_checked(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  int64_t before = gm__now_ns();
  assert_int_equal(gm_meter_start(m), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "before", before),
                   GM_ERR_INVALID_ARG);
  sleep_ms(30);
  int64_t now = gm__now_ns();
  assert_int_equal(gm_meter_phase_begin(
                       m, "ahead", now + GM_METER_MARK_FUTURE_NS + 50000000),
                   GM_ERR_INVALID_ARG);
  /* called in reverse order, applied in time order (stamped a little
   * ahead, so that none is due before all are in) */
  int64_t t_a = now + 40000000, t_b = now + 60000000, t_c = now + 80000000;
  assert_int_equal(gm_meter_phase_end(m, t_c), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "b", t_b), GM_OK);
  assert_int_equal(gm_meter_phase_begin(m, "a", t_a), GM_OK);
  sleep_ms(120); /* applied */
  /* an end stamped before the begin applied last */
  assert_int_equal(gm_meter_phase_end(m, t_b - 1000000), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_meter_phase_begin(m, "late", t_a), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  size_t d = component(m, "dram");
  assert_int_equal(gm_meter_phase_count(m), 2);
  const struct gm_phase *a = gm_meter_phase(m, 0), *b = gm_meter_phase(m, 1);
  assert_string_equal(a->name, "a");
  assert_string_equal(b->name, "b");
  assert_double_equal(a->duration_s, (double)(t_b - t_a) / 1e9, 1e-9);
  assert_double_equal(b->duration_s, (double)(t_c - t_b) / 1e9, 1e-9);
  assert_double_equal(a->start_s + a->duration_s, b->start_s, 1e-9);
  assert_false(b->open);
  for (size_t i = 0; i < 2; i++)
    assert_double_equal(gm_meter_phase(m, i)->energy_j[d],
                        DRAM_W * gm_meter_phase(m, i)->duration_s, 1e-9);
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(models_stand_in_and_integrate_exactly),
      cmocka_unit_test(phases_partition_the_series),
      cmocka_unit_test(markers_are_ordered_and_checked),
      cmocka_unit_test(phase_snapshots_while_running),
      cmocka_unit_test(callbacks_see_every_sample_in_order),
      cmocka_unit_test(bad_configuration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
