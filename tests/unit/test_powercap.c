/* test_powercap.c: the powercap RAPL source on fake sysfs trees, and the
 * whole meter on a scripted power trace: a thread rewrites energy_uj as a
 * real RAPL counter would, wrapping several times during the run. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "helpers.h"
#include "meter/source.h"

static void zone(const char *root, const char *dir, const char *name,
                 unsigned long long range_uj, unsigned long long e_uj) {
  char rel[256];
  snprintf(rel, sizeof(rel), "class/powercap/%s/name", dir);
  gmt_write(root, rel, "%s\n", name);
  snprintf(rel, sizeof(rel), "class/powercap/%s/max_energy_range_uj", dir);
  gmt_write(root, rel, "%llu\n", range_uj);
  snprintf(rel, sizeof(rel), "class/powercap/%s/energy_uj", dir);
  gmt_write(root, rel, "%llu\n", e_uj);
}

static void fake_procfs(const char *root) {
  gmt_write(root, "stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 50 0 50 400 0 0 0 0 0 0\n"
            "cpu1 50 0 50 400 0 0 0 0 0 0\n"
            "intr 0\n");
  gmt_write(root, "meminfo",
            "MemTotal:       16384000 kB\nMemAvailable:    8192000 kB\n");
}

static struct gm__env env_for(const char *sys, const char *proc) {
  struct gm__env e = {.sysfs = sys,
                      .procfs = proc,
                      .devfs = sys,
                      .nvml_lib = "/nonexistent/libnvidia-ml.so.1",
                      .no_gpu = true};
  return e;
}

static const struct gm_component_info *find(const void *self,
                                            const char *name) {
  const struct gm__source_ops *o = &gm__source_rapl_powercap;
  for (size_t i = 0; i < o->component_count(self); i++)
    if (strcmp(o->component(self, i)->name, name) == 0)
      return o->component(self, i);
  return NULL;
}

static void zones_classified_by_name(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  /* Numbers are allocation order: psys first, as on laptops. */
  zone(root, "intel-rapl:0", "psys", 262143328850ULL, 1000);
  zone(root, "intel-rapl:1", "package-0", 262143328850ULL, 5000000);
  zone(root, "intel-rapl:1:0", "core", 262143328850ULL, 2000000);
  zone(root, "intel-rapl:1:1", "dram", 65712999613ULL, 700000);
  zone(root, "intel-rapl:2", "package-1", 262143328850ULL, 9000000);
  zone(root, "intel-rapl-mmio:0", "package-0", 262143328850ULL, 5000000);
  struct gm__env env = env_for(root, root);
  struct gm_probe probe = {0};
  void *self = NULL;
  assert_int_equal(gm__source_rapl_powercap.open(&env, &self, &probe), GM_OK);
  assert_int_equal(gm__source_rapl_powercap.component_count(self), 5);
  const struct gm_component_info *p0 = find(self, "package-0");
  const struct gm_component_info *p1 = find(self, "package-1");
  const struct gm_component_info *c0 = find(self, "cores-0");
  const struct gm_component_info *d0 = find(self, "dram-0");
  const struct gm_component_info *ps = find(self, "psys");
  assert_non_null(p0);
  assert_non_null(p1);
  assert_non_null(c0);
  assert_non_null(d0);
  assert_non_null(ps);
  assert_true(p0->in_total && p1->in_total && d0->in_total);
  assert_false(c0->in_total); /* inside the package */
  assert_false(ps->in_total); /* overlaps packages and DRAM */
  assert_int_equal(d0->kind, GM_KIND_DRAM);
  assert_int_equal(ps->domain, GM_DOMAIN_PSYS);
  assert_int_equal(p0->provenance, GM_PROV_MEASURED_COUNTER);
  assert_double_equal(p0->wrap_j, 262143.32885, 1e-6);
  assert_double_equal(d0->wrap_j, 65712.999613, 1e-6);
  assert_non_null(strstr(probe.found, "intel-rapl-mmio ignored"));

  struct gm__reading r[5];
  struct gm__tick tk = {.t_ns = 1, .cpu_util_frac = NAN};
  assert_int_equal(gm__source_rapl_powercap.read(self, &tk, r, NULL), GM_OK);
  for (size_t i = 0; i < 5; i++) {
    const struct gm_component_info *ci =
        gm__source_rapl_powercap.component(self, i);
    assert_true(r[i].ok && r[i].has_energy);
    if (strcmp(ci->name, "package-1") == 0)
      assert_double_equal(r[i].energy_j, 9.0, 1e-12);
    if (strcmp(ci->name, "dram-0") == 0)
      assert_double_equal(r[i].energy_j, 0.7, 1e-12);
  }
  gm__source_rapl_powercap.close(self);
  gmt_rmtree(root);
  free(root);
}

static void garbage_unreadable_and_vanishing(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  zone(root, "intel-rapl:0", "package-0", 262143328850ULL, 100);
  zone(root, "intel-rapl:0:0", "dram", 65712999613ULL, 100);
  zone(root, "intel-rapl:1", "package-1", 262143328850ULL, 100);
  struct gm__env env = env_for(root, root);
  struct gm_probe probe = {0};
  void *self = NULL;
  assert_int_equal(gm__source_rapl_powercap.open(&env, &self, &probe), GM_OK);
  struct gm__reading r[3];
  struct gm__tick tk = {0};
  /* garbage contents */
  gmt_write(root, "class/powercap/intel-rapl:0/energy_uj", "12a45\n");
  /* the zone vanishes mid-run */
  char *gone = gmt_path(root, "class/powercap/intel-rapl:1");
  gmt_rmtree(gone);
  free(gone);
  assert_int_equal(gm__source_rapl_powercap.read(self, &tk, r, NULL), GM_OK);
  size_t bad = 0;
  for (size_t i = 0; i < 3; i++) {
    const char *n = gm__source_rapl_powercap.component(self, i)->name;
    if (strcmp(n, "dram-0") == 0)
      assert_true(r[i].ok);
    else
      bad += !r[i].ok;
  }
  assert_int_equal(bad, 2);
  gm__source_rapl_powercap.close(self);

  /* energy_uj that cannot be read at open (here: a directory, EISDIR) */
  char *e = gmt_path(root, "class/powercap/intel-rapl:0/energy_uj");
  unlink(e);
  gmt_mkdirs(root, "class/powercap/intel-rapl:0/energy_uj");
  memset(&probe, 0, sizeof(probe));
  assert_int_equal(gm__source_rapl_powercap.open(&env, &self, &probe),
                   GM_ERR_IO);
  assert_null(self);
  assert_non_null(strstr(probe.reason, "intel-rapl:0/energy_uj"));
  assert_non_null(strstr(probe.reason, "no readable package zone"));
  free(e);
  gmt_rmtree(root);
  free(root);
}

/* Two packages, package-1's counter unreadable (a directory where the file
 * should be): the source opens with package-0 and lists package-1 as
 * missing; the meter keeps it, so a run's total is partial. Ceilings come
 * from each zone's constraints (twice the highest), the cores' from their
 * package, and a zone without any gets the absolute ceiling. */
static void unreadable_package_is_missing(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  zone(root, "intel-rapl:0", "package-0", 262143328850ULL, 100);
  gmt_write(root, "class/powercap/intel-rapl:0/constraint_0_power_limit_uw",
            "125000000\n");
  gmt_write(root, "class/powercap/intel-rapl:0/constraint_1_power_limit_uw",
            "150000000\n");
  gmt_write(root, "class/powercap/intel-rapl:0/constraint_0_max_power_uw",
            "0\n");
  zone(root, "intel-rapl:0:0", "core", 262143328850ULL, 100);
  zone(root, "intel-rapl:0:1", "dram", 65712999613ULL, 100);
  gmt_write(root, "class/powercap/intel-rapl:1/name", "package-1\n");
  gmt_write(root, "class/powercap/intel-rapl:1/max_energy_range_uj",
            "262143328850\n");
  gmt_mkdirs(root, "class/powercap/intel-rapl:1/energy_uj");
  struct gm__missing_sink sink;
  memset(&sink, 0, sizeof(sink));
  struct gm__env env = env_for(root, root);
  env.missing = &sink;
  struct gm_probe probe = {0};
  void *self = NULL;
  assert_int_equal(gm__source_rapl_powercap.open(&env, &self, &probe), GM_OK);
  assert_int_equal(gm__source_rapl_powercap.component_count(self), 3);
  assert_int_equal(sink.n, 1);
  assert_string_equal(sink.items[0].name, "package-1");
  assert_string_equal(sink.items[0].source, "rapl-powercap");
  assert_int_equal(sink.items[0].kind, GM_KIND_CPU);
  assert_true(sink.items[0].in_total);
  assert_non_null(strstr(sink.items[0].reason, "energy_uj"));
  const struct gm_component_info *p0 = find(self, "package-0");
  const struct gm_component_info *c0 = find(self, "cores-0");
  const struct gm_component_info *d0 = find(self, "dram-0");
  assert_double_equal(p0->max_power_w, 300.0, 1e-9);
  assert_non_null(strstr(p0->max_power_origin, "150.0 W"));
  assert_double_equal(c0->max_power_w, 300.0, 1e-9);
  assert_non_null(strstr(c0->max_power_origin, "its package"));
  assert_double_equal(d0->max_power_w, 0.0, 0);
  gm__source_rapl_powercap.close(self);

  /* through the meter */
  fake_procfs(root);
  struct gm_meter_config cfg = gm_meter_config_default();
  cfg.sysfs_root = root;
  cfg.procfs_root = root;
  cfg.devfs_root = root;
  cfg.no_gpu = true;
  cfg.interval_ns = 10 * 1000 * 1000;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&cfg, &m), GM_OK);
  bool found = false;
  for (size_t i = 0; i < gm_meter_missing_count(m); i++)
    found |= strcmp(gm_meter_missing(m, i)->name, "package-1") == 0;
  assert_true(found);
  for (size_t i = 0; i < gm_meter_component_count(m); i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    assert_true(ci->max_power_origin[0] != '\0');
    if (strcmp(ci->name, "dram-0") == 0)
      assert_non_null(strstr(ci->max_power_origin, "absolute ceiling"));
  }
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

static void missing_tree_and_missing_range(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  struct gm__env env = env_for(root, root);
  struct gm_probe probe = {0};
  void *self = NULL;
  assert_int_equal(gm__source_rapl_powercap.open(&env, &self, &probe),
                   GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(probe.reason, "no powercap tree"));
  assert_non_null(strstr(probe.fix, "modprobe"));
  zone(root, "intel-rapl:0", "package-0", 0, 100); /* zero range */
  memset(&probe, 0, sizeof(probe));
  assert_int_not_equal(gm__source_rapl_powercap.open(&env, &self, &probe),
                       GM_OK);
  assert_non_null(strstr(probe.reason, "zero range"));
  gmt_rmtree(root);
  free(root);
}

/* ---- the meter on a scripted trace ----------------------------------------
 * A thread plays a counter the way RAPL does: each step adds a fixed amount
 * of energy to energy_uj, modulo a small range so that it wraps every few
 * steps. It advances only after the meter has taken a sample since the last
 * step (a tick that began after it, seen through gm_meter_live: samples
 * reach the callbacks in batches), so the meter sees every wrap whatever
 * the machine's load, and the integrated energy must equal the scripted one
 * exactly (integer microjoules). */

struct trace {
  const char *root;
  struct gm_meter *m;
  unsigned long long pkg_range_uj, dram_range_uj;
  unsigned long long pkg_step_uj, dram_step_uj;
  unsigned long long pkg_uj, dram_uj; /* unwrapped totals written so far */
  int steps;
  atomic_ulong samples;
};

static void trace_write(struct trace *tr) {
  gmt_write(tr->root, "class/powercap/intel-rapl:0/energy_uj", "%llu\n",
            tr->pkg_uj % tr->pkg_range_uj);
  gmt_write(tr->root, "class/powercap/intel-rapl:0:0/energy_uj", "%llu\n",
            tr->dram_uj % tr->dram_range_uj);
}

/* The time of the meter's last complete tick. */
static double last_tick_s(struct trace *tr) {
  double t = 0;
  gm_meter_live(tr->m, NULL, NULL, &t);
  return t;
}

/* Returns once a tick that began after the call is complete: the first tick
 * to complete after the call may have read the files before it, the one
 * after that began after it. */
static void wait_for_tick_after_now(struct trace *tr) {
  for (int k = 0; k < 2; k++) {
    double t0 = last_tick_s(tr);
    while (last_tick_s(tr) <= t0) {
      struct timespec ts = {0, 200000};
      nanosleep(&ts, NULL);
    }
  }
}

static void *trace_main(void *arg) {
  struct trace *tr = arg;
  for (int k = 0; k < tr->steps; k++) {
    wait_for_tick_after_now(tr);
    tr->pkg_uj += tr->pkg_step_uj;
    tr->dram_uj += tr->dram_step_uj;
    trace_write(tr);
  }
  /* the meter has read the final value */
  wait_for_tick_after_now(tr);
  return NULL;
}

static void count_sample(void *ctx, const struct gm_sample *s) {
  (void)s;
  atomic_fetch_add(&((struct trace *)ctx)->samples, 1);
}

static void meter_on_wrapping_trace(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  fake_procfs(root);
  /* 40 steps of 0.4 J on a 1 J range: 16 wraps of the package counter. */
  struct trace tr = {.root = root,
                     .pkg_range_uj = 1000000,
                     .dram_range_uj = 700000,
                     .pkg_step_uj = 400000,
                     .dram_step_uj = 30000,
                     .pkg_uj = 123456,
                     .dram_uj = 0,
                     .steps = 40};
  atomic_init(&tr.samples, 0);
  zone(root, "intel-rapl:0", "package-0", tr.pkg_range_uj, 0);
  zone(root, "intel-rapl:0:0", "dram", tr.dram_range_uj, 0);
  trace_write(&tr);

  struct gm_meter_config cfg = gm_meter_config_default();
  cfg.sysfs_root = root;
  cfg.procfs_root = root;
  cfg.devfs_root = root;
  cfg.no_gpu = true;
  cfg.interval_ns = 2 * 1000000;
  cfg.on_sample = count_sample;
  cfg.callback_ctx = &tr;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&cfg, &m), GM_OK);
  /* powercap measures the CPU and has DRAM: no models in use */
  assert_int_equal(gm_meter_component_count(m), 2);
  assert_int_equal(gm_meter_start(m), GM_OK);
  assert_int_equal(gm_meter_start(m), GM_ERR_STATE);
  tr.m = m;
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, trace_main, &tr), 0);
  pthread_join(th, NULL);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  assert_int_equal(gm_meter_stop(m), GM_OK); /* idempotent */
  /* every tick reached the callback by the stop: two or more per step */
  assert_true(atomic_load(&tr.samples) + gm_meter_dropped_samples(m) >=
              2 * (unsigned long)tr.steps);

  for (size_t i = 0; i < 2; i++) {
    const struct gm_component_info *ci = gm_meter_component(m, i);
    struct gm_component_stats cs;
    assert_int_equal(gm_meter_stats(m, i, &cs), GM_OK);
    bool pkg = ci->domain == GM_DOMAIN_PACKAGE;
    double want = (double)tr.steps *
                  (double)(pkg ? tr.pkg_step_uj : tr.dram_step_uj) / 1e6;
    print_message("%s: %.6f J integrated vs %.6f J scripted, %llu wraps\n",
                  ci->name, cs.energy_j, want, (unsigned long long)cs.wraps);
    assert_double_equal(cs.energy_j, want, 1e-6);
    /* the unwrapped counter crossed the range this many times */
    unsigned long long range = pkg ? tr.pkg_range_uj : tr.dram_range_uj;
    unsigned long long start = pkg ? 123456 : 0;
    unsigned long long end = pkg ? tr.pkg_uj : tr.dram_uj;
    assert_int_equal(cs.wraps, end / range - start / range);
    assert_int_equal(cs.resets, 0);
    assert_int_equal(cs.read_errors, 0);
    assert_true(cs.peak_power_w > 0);
  }
  gm_meter_destroy(m);
  gmt_rmtree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(zones_classified_by_name),
      cmocka_unit_test(garbage_unreadable_and_vanishing),
      cmocka_unit_test(missing_tree_and_missing_range),
      cmocka_unit_test(unreadable_package_is_missing),
      cmocka_unit_test(meter_on_wrapping_trace),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
