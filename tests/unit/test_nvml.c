/* test_nvml.c: the NVML source against the scripted fake libnvidia-ml.so.1
 * (tests/fakes/fake_nvml.c; its header comment documents the script).
 *
 * Most cases drive gm__source_nvml directly for exact per-tick values; the
 * last ones go through the public meter API. The fake's traces are indexed
 * by call: open reads the energy counter and the power sensor once each to
 * probe them (OPEN_PROBE_READS), so tick k of read() sees trace entry
 * k + OPEN_PROBE_READS. */
#define _GNU_SOURCE
#include "helpers.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "greenml/meter.h"
#include "greenml/run.h"
#include "meter/source.h"

#define OPEN_PROBE_READS 1
#define METRICS_PER_GPU 7

/* Metric order within one GPU (see nvml.c). */
enum {
  M_UTIL,
  M_MEM_UTIL,
  M_VRAM_USED,
  M_VRAM_TOTAL,
  M_TEMP,
  M_SM_CLOCK,
  M_POWER_LIMIT
};

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)
#define assert_contains(haystack, needle)                                      \
  do {                                                                         \
    if (!strstr((haystack), (needle)))                                         \
      fail_msg("'%s' does not contain '%s'", (haystack), (needle));            \
  } while (0)

struct fx {
  char *dir;
  void *self;
  struct gm_probe probe;
};

static int setup(void **state) {
  struct fx *fx = calloc(1, sizeof(*fx));
  assert_non_null(fx);
  fx->dir = gmt_mkdtemp();
  unsetenv("GREENML_FAKE_NVML_INIT");
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  struct fx *fx = *state;
  gm__source_nvml.close(fx->self);
  unsetenv("GREENML_FAKE_NVML_SCRIPT");
  unsetenv("GREENML_FAKE_NVML_INIT");
  gmt_rmtree(fx->dir);
  free(fx->dir);
  free(fx);
  return 0;
}

static struct gm__env env_for(const struct fx *fx, const char *lib) {
  struct gm__env env = {
      .sysfs = fx->dir, .procfs = fx->dir, .devfs = fx->dir, .nvml_lib = lib};
  return env;
}

/* Writes the fake's script and points the fake at it. */
static void use_script(struct fx *fx, const char *script) {
  gmt_write(fx->dir, "nvml.script", "%s", script);
  char *path = gmt_path(fx->dir, "nvml.script");
  gmt_setenv("GREENML_FAKE_NVML_SCRIPT", path);
  free(path);
}

/* Opens the source on the fake with the given script into fx->self. */
static enum gm_status open_script(struct fx *fx, const char *script) {
  use_script(fx, script);
  struct gm__env env = env_for(fx, GM_TEST_FAKE_NVML);
  memset(&fx->probe, 0, sizeof(fx->probe));
  return gm__source_nvml.open(&env, &fx->self, &fx->probe);
}

static enum gm_status read_tick(struct fx *fx, struct gm__reading *out,
                                double *metrics) {
  struct gm__tick tick = {
      .t_ns = gm__now_ns(), .cpu_util_frac = NAN, .mem_used_bytes = NAN};
  return gm__source_nvml.read(fx->self, &tick, out, metrics);
}

static const char h100_script[] =
    "# one Hopper GPU with an energy counter\n"
    "driver 550.54.15\n"
    "nvml 12.550.54.15\n"
    "gpu name=\"NVIDIA H100 80GB HBM3\" "
    "uuid=GPU-11111111-2222-3333-4444-555555555555 arch=9 util=75 "
    "mem_util=40 vram_total=85899345920 vram_used=1073741824 temp=61 "
    "sm_clock=1755 power_limit_mw=700000\n"
    "energy_trace 0 = 5000000,5010000,5030000,5060000\n"
    "power_trace 0 = 300000,310000,320000,330000\n";

static void test_volta_counter(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, h100_script), GM_OK);
  assert_non_null(fx->self);

  assert_int_equal(gm__source_nvml.component_count(fx->self), 1);
  const struct gm_component_info *c = gm__source_nvml.component(fx->self, 0);
  assert_string_equal(c->name, "gpu0");
  assert_string_equal(c->source, "nvml");
  assert_int_equal(c->kind, GM_KIND_GPU);
  assert_int_equal(c->domain, GM_DOMAIN_GPU);
  assert_int_equal(c->provenance, GM_PROV_MEASURED_COUNTER);
  assert_true(c->in_total);
  assert_near(c->wrap_j, 0);
  assert_false(c->power_interval_mean);
  assert_contains(c->detail, "NVIDIA H100 80GB HBM3");
  assert_contains(c->detail, "arch hopper");
  assert_contains(c->detail, "UUID GPU-11111111-2222-3333-4444-555555555555");
  assert_contains(c->detail, "driver 550.54.15");

  assert_contains(fx->probe.found, "1 GPU:");
  assert_contains(fx->probe.found, "gpu0 NVIDIA H100 80GB HBM3");
  assert_contains(fx->probe.found, "(energy counter)");
  assert_contains(fx->probe.found, "driver 550.54.15, NVML 12.550.54.15");
  assert_string_equal(fx->probe.reason, "");
  assert_string_equal(fx->probe.fix, "");

  static const char *const names[] = {
      "gpu0.util", "gpu0.mem_util", "gpu0.vram_used",  "gpu0.vram_total",
      "gpu0.temp", "gpu0.sm_clock", "gpu0.power_limit"};
  static const char *const units[] = {"%", "%", "B", "B", "C", "MHz", "W"};
  assert_int_equal(gm__source_nvml.metric_count(fx->self), METRICS_PER_GPU);
  for (size_t k = 0; k < METRICS_PER_GPU; k++) {
    const struct gm_metric_info *m = gm__source_nvml.metric(fx->self, k);
    assert_string_equal(m->name, names[k]);
    assert_string_equal(m->unit, units[k]);
    assert_string_equal(m->source, "nvml");
  }

  /* Counter in mJ reported as J; power sampled alongside in W. The last
   * trace value repeats. */
  static const double energy_mj[] = {5000000, 5010000, 5030000, 5060000,
                                     5060000};
  static const double power_mw[] = {300000, 310000, 320000, 330000, 330000};
  for (size_t k = 0; k + OPEN_PROBE_READS < 5; k++) {
    struct gm__reading rd;
    double m[METRICS_PER_GPU];
    assert_int_equal(read_tick(fx, &rd, m), GM_OK);
    assert_true(rd.ok);
    assert_false(rd.lost);
    assert_true(rd.has_energy);
    assert_near(rd.energy_j, energy_mj[k + OPEN_PROBE_READS] / 1000.0);
    assert_true(rd.has_power);
    assert_near(rd.power_w, power_mw[k + OPEN_PROBE_READS] / 1000.0);
    assert_near(m[M_UTIL], 75);
    assert_near(m[M_MEM_UTIL], 40);
    assert_near(m[M_VRAM_USED], 1073741824.0);
    assert_near(m[M_VRAM_TOTAL], 85899345920.0);
    assert_near(m[M_TEMP], 61);
    assert_near(m[M_SM_CLOCK], 1755);
    assert_near(m[M_POWER_LIMIT], 700);
  }
}

/* Pascal has no energy counter (the fake would answer, but architecture < 5
 * must not be trusted): power integrated. */
static void test_pre_volta_power(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu name=\"Tesla P100-PCIE-16GB\" arch=4\n"
                                   "power_trace 0 = 40000,45500,47250\n"),
                   GM_OK);
  const struct gm_component_info *c = gm__source_nvml.component(fx->self, 0);
  assert_int_equal(c->provenance, GM_PROV_MEASURED_POWER);
  assert_contains(c->detail, "arch pascal");
  assert_contains(fx->probe.found, "gpu0 Tesla P100-PCIE-16GB (power sensor)");

  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_false(rd.has_energy);
  assert_true(rd.has_power);
  assert_near(rd.power_w, 45.5);
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_near(rd.power_w, 47.25);
}

/* Volta+ whose driver refuses the counter: power integrated. */
static void test_counter_refused(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=7 power_mw=123000\n"
                                   "not_supported 0 = energy\n"),
                   GM_OK);
  const struct gm_component_info *c = gm__source_nvml.component(fx->self, 0);
  assert_int_equal(c->provenance, GM_PROV_MEASURED_POWER);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_false(rd.has_energy);
  assert_near(rd.power_w, 123);
}

/* Without the instant-power field, nvmlDeviceGetPowerUsage is used. */
static void test_power_usage_fallback(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=6\n"
                                   "not_supported 0 = field\n"
                                   "power_trace 0 = 70000,71000\n"),
                   GM_OK);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.has_power);
  assert_near(rd.power_w, 71);
}

/* The field's value type is honoured (double here, not uiVal). */
static void test_field_value_type(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9 field_type=0\n"
                                   "power_trace 0 = 1,250125\n"),
                   GM_OK);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_near(rd.power_w, 250.125);
}

/* A counter without any power reading still measures (no cross-check). */
static void test_counter_without_power(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=8\n"
                                   "not_supported 0 = field,power\n"
                                   "energy_trace 0 = 1000,3000\n"),
                   GM_OK);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_true(rd.has_energy);
  assert_near(rd.energy_j, 3);
  assert_false(rd.has_power);
}

/* Neither a counter nor a power sensor (e.g. Jetson): not measurable. */
static void test_nothing_readable(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=7\n"
                                   "not_supported 0 = energy,field,power\n"),
                   GM_ERR_NOT_SUPPORTED);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "gpu0 skipped");
  assert_contains(fx->probe.reason, "Not Supported");
  assert_contains(fx->probe.fix, "neither energy nor power");
}

static void test_not_supported_metrics(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9 vram_total=1000 vram_used=250\n"
                                   "not_supported 0 = util,temp,clock,"
                                   "power_limit\n"),
                   GM_OK);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_true(isnan(m[M_UTIL]));
  assert_true(isnan(m[M_MEM_UTIL]));
  assert_true(isnan(m[M_TEMP]));
  assert_true(isnan(m[M_SM_CLOCK]));
  assert_true(isnan(m[M_POWER_LIMIT]));
  assert_near(m[M_VRAM_USED], 250);
  assert_near(m[M_VRAM_TOTAL], 1000);
}

/* A driver without the versioned temperature struct: the old call. */
static void test_temperature_fallback(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9 temp=55 temp_v=0\n"), GM_OK);
  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_near(m[M_TEMP], 55);
}

static void test_handle_permission_one_gpu(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9 handle_error=4\n"
                                   "gpu name=\"NVIDIA A100-SXM4-40GB\" arch=7\n"
                                   "energy_trace 1 = 7000,8000\n"),
                   GM_OK);
  assert_int_equal(gm__source_nvml.component_count(fx->self), 1);
  const struct gm_component_info *c = gm__source_nvml.component(fx->self, 0);
  assert_string_equal(c->name, "gpu1"); /* NVML's index, as nvidia-smi */
  assert_contains(c->detail, "NVIDIA A100-SXM4-40GB");
  assert_int_equal(gm__source_nvml.metric_count(fx->self), METRICS_PER_GPU);
  assert_string_equal(gm__source_nvml.metric(fx->self, 0)->name, "gpu1.util");
  assert_contains(fx->probe.reason, "gpu0 skipped");
  assert_contains(fx->probe.reason, "Insufficient Permissions");
  assert_contains(fx->probe.fix, "/dev/nvidia");
  assert_contains(fx->probe.found, "1 of 2 GPUs: gpu1 NVIDIA A100-SXM4-40GB");

  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_near(rd.energy_j, 8);
}

static void test_handle_permission_all_gpus(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu handle_error=4\ngpu handle_error=4\n"),
                   GM_ERR_PERMISSION);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "gpu0 skipped");
  assert_contains(fx->probe.reason, "gpu1 skipped");
  assert_true(fx->probe.fix[0] != '\0');
}

static void test_init_no_permission(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "init 4\ngpu arch=9\n"), GM_ERR_PERMISSION);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "nvmlInit_v2 failed");
  assert_contains(fx->probe.reason, "Insufficient Permissions");
  assert_contains(fx->probe.fix, "/dev/nvidiactl");
}

static void test_init_driver_not_loaded(void **state) {
  struct fx *fx = *state;
  gmt_setenv("GREENML_FAKE_NVML_INIT", "9");
  assert_int_equal(open_script(fx, "gpu arch=9\n"), GM_ERR_UNAVAILABLE);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "Driver Not Loaded");
  assert_contains(fx->probe.fix, "modprobe nvidia");
}

static void test_no_gpus(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "driver 535.104.05\n"), GM_ERR_UNAVAILABLE);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "no GPU");
  assert_contains(fx->probe.found, "driver 535.104.05");
}

/* Ticks before the loss read normally; from the loss on, every tick says
 * lost (and the source stops calling the GPU). */
static void test_gpu_lost_mid_run(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9\nlost_after 0 = 8\n"), GM_OK);
  int first_lost = -1;
  for (int k = 0; k < 10; k++) {
    struct gm__reading rd;
    double m[METRICS_PER_GPU];
    enum gm_status st = read_tick(fx, &rd, m);
    if (first_lost < 0 && !rd.lost) {
      assert_int_equal(st, GM_OK);
      assert_true(rd.ok);
      assert_true(rd.has_energy);
      continue;
    }
    if (first_lost < 0)
      first_lost = k;
    assert_int_equal(st, GM_ERR_DEVICE_LOST);
    assert_true(rd.lost);
    assert_false(rd.ok);
    assert_false(rd.has_energy);
    assert_false(rd.has_power);
    for (size_t i = 0; i < METRICS_PER_GPU; i++)
      assert_true(isnan(m[i]));
  }
  /* 8 readings: 2 at open, then 2 per tick. */
  assert_int_equal(first_lost, 3);
}

/* One GPU lost, the other still measured: the tick is not a failure. */
static void test_one_of_two_lost(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9\ngpu arch=9\n"
                                   "lost_after 0 = 2\n"),
                   GM_OK);
  struct gm__reading rd[2];
  double m[2 * METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, rd, m), GM_OK);
  assert_true(rd[0].lost);
  assert_false(rd[0].ok);
  assert_false(rd[1].lost);
  assert_true(rd[1].ok);
  assert_true(rd[1].has_energy);
  assert_near(m[METRICS_PER_GPU + M_UTIL], 50);
}

/* The source reports the raw counter; deciding it was a reset is the
 * meter's job (wrap_j is 0, so a decrease is a reset). */
static void test_counter_reset_raw(void **state) {
  struct fx *fx = *state;
  assert_int_equal(
      open_script(fx, "gpu arch=9\n"
                      "energy_trace 0 = 1000000,1005000,1010000,2000,7000\n"),
      GM_OK);
  static const double want_j[] = {1005, 1010, 2, 7};
  for (size_t k = 0; k < 4; k++) {
    struct gm__reading rd;
    double m[METRICS_PER_GPU];
    assert_int_equal(read_tick(fx, &rd, m), GM_OK);
    assert_true(rd.ok);
    assert_true(rd.has_energy);
    assert_near(rd.energy_j, want_j[k]);
  }
}

static void test_missing_library(void **state) {
  struct fx *fx = *state;
  struct gm__env env = env_for(fx, "/nonexistent/greenml/libnvidia-ml.so.1");
  assert_int_equal(gm__source_nvml.open(&env, &fx->self, &fx->probe),
                   GM_ERR_UNAVAILABLE);
  assert_null(fx->self);
  /* dlerror's own words. */
  assert_contains(fx->probe.reason, "/nonexistent/greenml/libnvidia-ml.so.1");
  assert_contains(fx->probe.reason, "cannot open shared object file");
  assert_contains(fx->probe.fix, "NVIDIA driver");
  assert_contains(fx->probe.fix, "GREENML_NVML_LIB");
}

/* A library that loads but is not NVML. */
static void test_not_nvml(void **state) {
  struct fx *fx = *state;
  struct gm__env env = env_for(fx, "libm.so.6");
  assert_int_equal(gm__source_nvml.open(&env, &fx->self, &fx->probe),
                   GM_ERR_UNAVAILABLE);
  assert_null(fx->self);
  assert_contains(fx->probe.reason, "no symbol 'nvmlInit_v2'");
  assert_contains(fx->probe.fix, "GREENML_NVML_LIB");
}

static void test_no_gpu_flag(void **state) {
  struct fx *fx = *state;
  struct gm__env env = env_for(fx, GM_TEST_FAKE_NVML);
  env.no_gpu = true;
  assert_int_equal(gm__source_nvml.open(&env, &fx->self, &fx->probe),
                   GM_ERR_UNAVAILABLE);
  assert_null(fx->self);
  assert_string_equal(fx->probe.reason, "disabled by --no-gpu");
}

static void test_two_gpus(void **state) {
  struct fx *fx = *state;
  assert_int_equal(
      open_script(fx, "gpu name=\"NVIDIA H100 80GB HBM3\" arch=9 util=90\n"
                      "gpu name=\"Tesla V100-SXM2-16GB\" arch=5 util=10\n"
                      "energy_trace 0 = 100000,200000\n"
                      "energy_trace 1 = 50000,60000\n"
                      "power_trace 0 = 500000,600000\n"
                      "power_trace 1 = 150000,160000\n"),
      GM_OK);
  assert_int_equal(gm__source_nvml.component_count(fx->self), 2);
  assert_int_equal(gm__source_nvml.metric_count(fx->self), 2 * METRICS_PER_GPU);
  const struct gm_component_info *c0 = gm__source_nvml.component(fx->self, 0);
  const struct gm_component_info *c1 = gm__source_nvml.component(fx->self, 1);
  assert_string_equal(c0->name, "gpu0");
  assert_string_equal(c1->name, "gpu1");
  assert_contains(c1->detail, "arch volta");
  assert_int_equal(c0->provenance, GM_PROV_MEASURED_COUNTER);
  assert_int_equal(c1->provenance, GM_PROV_MEASURED_COUNTER);
  assert_null(gm__source_nvml.component(fx->self, 2));
  assert_string_equal(gm__source_nvml.metric(fx->self, METRICS_PER_GPU)->name,
                      "gpu1.util");
  assert_string_equal(
      gm__source_nvml.metric(fx->self, 2 * METRICS_PER_GPU - 1)->name,
      "gpu1.power_limit");
  assert_contains(fx->probe.found, "2 GPUs: gpu0 NVIDIA H100 80GB HBM3 "
                                   "(energy counter), gpu1 Tesla "
                                   "V100-SXM2-16GB (energy counter)");

  struct gm__reading rd[2];
  double m[2 * METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, rd, m), GM_OK);
  assert_near(rd[0].energy_j, 200);
  assert_near(rd[1].energy_j, 60);
  assert_near(rd[0].power_w, 600);
  assert_near(rd[1].power_w, 160);
  assert_near(m[M_UTIL], 90);
  assert_near(m[METRICS_PER_GPU + M_UTIL], 10);
}

/* Two instances at once (NVML init is reference counted): closing one
 * leaves the other working. */
static void test_two_instances(void **state) {
  struct fx *fx = *state;
  assert_int_equal(open_script(fx, "gpu arch=9 power_mw=90000\n"), GM_OK);
  struct gm__env env = env_for(fx, GM_TEST_FAKE_NVML);
  struct gm_probe probe2;
  memset(&probe2, 0, sizeof(probe2));
  void *other = NULL;
  assert_int_equal(gm__source_nvml.open(&env, &other, &probe2), GM_OK);
  assert_non_null(other);
  assert_ptr_not_equal(other, fx->self);
  gm__source_nvml.close(other);

  struct gm__reading rd;
  double m[METRICS_PER_GPU];
  assert_int_equal(read_tick(fx, &rd, m), GM_OK);
  assert_true(rd.ok);
  assert_near(rd.power_w, 90);
}

/* ---- Through the public meter API ---- */

/* A meter on the fake library with empty sysfs/procfs roots, so that no
 * other hardware is found. */
static struct gm_meter *meter_on_fake(struct fx *fx, const char *lib,
                                      bool no_gpu) {
  struct gm_meter_config cfg = gm_meter_config_default();
  cfg.sysfs_root = fx->dir;
  cfg.procfs_root = fx->dir;
  cfg.devfs_root = fx->dir;
  cfg.nvml_lib = lib;
  cfg.no_gpu = no_gpu;
  cfg.interval_ns = 10 * 1000 * 1000;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&cfg, &m), GM_OK);
  assert_non_null(m);
  return m;
}

static struct gm_meter *meter_with_gpus(struct fx *fx, const char *gpus) {
  struct gm_meter_config cfg = gm_meter_config_default();
  cfg.sysfs_root = fx->dir;
  cfg.procfs_root = fx->dir;
  cfg.devfs_root = fx->dir;
  cfg.nvml_lib = GM_TEST_FAKE_NVML;
  cfg.gpus = gpus;
  cfg.interval_ns = 10 * 1000 * 1000;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&cfg, &m), GM_OK);
  return m;
}

static const struct gm_probe *nvml_probe(const struct gm_meter *m) {
  for (size_t i = 0; i < gm_meter_probe_count(m); i++)
    if (!strcmp(gm_meter_probe(m, i)->source, "nvml"))
      return gm_meter_probe(m, i);
  fail_msg("no probe for nvml");
  return NULL;
}

/* Index of the named component, or SIZE_MAX. */
static size_t find_component(const struct gm_meter *m, const char *name) {
  for (size_t i = 0; i < gm_meter_component_count(m); i++)
    if (!strcmp(gm_meter_component(m, i)->name, name))
      return i;
  return SIZE_MAX;
}

static size_t find_metric(const struct gm_meter *m, const char *name) {
  for (size_t i = 0; i < gm_meter_metric_count(m); i++)
    if (!strcmp(gm_meter_metric(m, i)->name, name))
      return i;
  return SIZE_MAX;
}

/* The counter reads 1000 J at open and at start, 1050 J from then on: the
 * meter must report exactly 50 J for the GPU, whatever the tick count. The
 * window lasts 0.2 s, so that 50 J is a plausible 250 W. */
static void test_meter_counter(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu name=\"NVIDIA H100 80GB HBM3\" arch=9 temp=64\n"
                 "energy_trace 0 = 1000000,1000000,1050000\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);

  const struct gm_probe *p = nvml_probe(m);
  assert_int_equal(p->status, GM_OK);
  assert_true(p->used);
  assert_contains(p->found, "gpu0 NVIDIA H100 80GB HBM3 (energy counter)");
  assert_string_equal(p->fix, "");

  size_t gpu = find_component(m, "gpu0");
  assert_true(gpu != SIZE_MAX);
  const struct gm_component_info *c = gm_meter_component(m, gpu);
  assert_string_equal(c->source, "nvml");
  assert_int_equal(c->kind, GM_KIND_GPU);
  assert_int_equal(c->provenance, GM_PROV_MEASURED_COUNTER);
  size_t temp = find_metric(m, "gpu0.temp");
  assert_true(temp != SIZE_MAX);
  assert_string_equal(gm_meter_metric(m, temp)->unit, "C");

  assert_int_equal(gm_meter_start(m), GM_OK);
  nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  struct gm_component_stats st;
  assert_int_equal(gm_meter_stats(m, gpu, &st), GM_OK);
  assert_near(st.energy_j, 50);
  assert_int_equal(st.glitches, 0);
  assert_int_equal(st.resets, 0);
  assert_int_equal(st.read_errors, 0);
  assert_near(gm_meter_metric_mean(m, temp), 64);
  gm_meter_destroy(m);
}

/* Pre-Volta through the meter: a power-sensor component. */
static void test_meter_power_sensor(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu name=\"Tesla P100-PCIE-16GB\" arch=4\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);
  size_t gpu = find_component(m, "gpu0");
  assert_true(gpu != SIZE_MAX);
  assert_int_equal(gm_meter_component(m, gpu)->provenance,
                   GM_PROV_MEASURED_POWER);
  assert_contains(nvml_probe(m)->found, "(power sensor)");
  gm_meter_destroy(m);
}

/* No library: the meter still works, and `greenml sources` can say why. */
static void test_meter_missing_library(void **state) {
  struct fx *fx = *state;
  struct gm_meter *m =
      meter_on_fake(fx, "/nonexistent/greenml/libnvidia-ml.so.1", false);
  const struct gm_probe *p = nvml_probe(m);
  assert_int_equal(p->status, GM_ERR_UNAVAILABLE);
  assert_false(p->used);
  assert_contains(p->reason, "cannot open shared object file");
  assert_true(p->fix[0] != '\0');
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  gm_meter_destroy(m);
}

static void test_meter_no_gpu(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu arch=9\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, true);
  const struct gm_probe *p = nvml_probe(m);
  assert_int_equal(p->status, GM_ERR_UNAVAILABLE);
  assert_string_equal(p->reason, "disabled by --no-gpu");
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  gm_meter_destroy(m);
}

/* The missing entry named name, or NULL. */
static const struct gm_missing *find_missing(const struct gm_meter *m,
                                             const char *name) {
  for (size_t i = 0; i < gm_meter_missing_count(m); i++)
    if (!strcmp(gm_meter_missing(m, i)->name, name))
      return gm_meter_missing(m, i);
  return NULL;
}

static void run_briefly(struct gm_meter *m, long ms) {
  assert_int_equal(gm_meter_start(m), GM_OK);
  nanosleep(
      &(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000},
      NULL);
  assert_int_equal(gm_meter_stop(m), GM_OK);
}

/* A driver that does not initialise: the GPUs are missing, and so is DRAM
 * (the empty procfs has no MemTotal for the model); the total of a run is
 * partial and says why. Without the library, or with --no-gpu, no GPU is
 * missing. */
static void test_meter_missing_components(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu arch=9\n");
  gmt_setenv("GREENML_FAKE_NVML_INIT", "9");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);
  const struct gm_missing *g = find_missing(m, "gpus");
  assert_non_null(g);
  assert_string_equal(g->source, "nvml");
  assert_int_equal(g->kind, GM_KIND_GPU);
  assert_true(g->in_total);
  assert_contains(g->reason, "Driver Not Loaded");
  assert_contains(g->reason, "--no-gpu");
  const struct gm_missing *d = find_missing(m, "dram");
  assert_non_null(d);
  assert_int_equal(d->kind, GM_KIND_DRAM);
  assert_true(d->in_total);
  assert_contains(d->reason, "dram-model");
  run_briefly(m, 50);
  struct gm_run_record *r = NULL;
  assert_int_equal(gm_run_record_from_meter(m, NULL, &r), GM_OK);
  assert_true(r->total.partial);
  assert_int_equal(r->n_missing, gm_meter_missing_count(m));
  assert_contains(r->partial_why, "gpus missing");
  assert_contains(r->partial_why, "dram missing");
  gm_run_record_free(r);
  gm_meter_destroy(m);
  unsetenv("GREENML_FAKE_NVML_INIT");

  m = meter_on_fake(fx, "/nonexistent/greenml/libnvidia-ml.so.1", false);
  assert_null(find_missing(m, "gpus"));
  gm_meter_destroy(m);
  m = meter_on_fake(fx, GM_TEST_FAKE_NVML, true);
  assert_null(find_missing(m, "gpus"));
  gm_meter_destroy(m);
}

/* Which GPUs: a list of indices and UUID prefixes, none, the environment
 * (CUDA_VISIBLE_DEVICES before NVIDIA_VISIBLE_DEVICES, --gpus before
 * both); a GPU asked for that is not there is missing, the others are
 * neither metered nor missing. */
static void test_meter_gpu_selection(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu arch=9 uuid=GPU-aaaa0000-0000-0000-0000-000000000000\n"
                 "gpu arch=9 uuid=GPU-bbbb0000-0000-0000-0000-000000000000\n"
                 "gpu arch=9 uuid=GPU-cccc0000-0000-0000-0000-000000000000\n");
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("NVIDIA_VISIBLE_DEVICES");
  struct gm_meter *m = meter_with_gpus(fx, NULL);
  assert_true(find_component(m, "gpu0") != SIZE_MAX);
  assert_true(find_component(m, "gpu2") != SIZE_MAX);
  assert_contains(nvml_probe(m)->found, "3 GPUs:");
  gm_meter_destroy(m);

  m = meter_with_gpus(fx, "0, GPU-cccc");
  assert_true(find_component(m, "gpu0") != SIZE_MAX);
  assert_true(find_component(m, "gpu1") == SIZE_MAX);
  assert_true(find_component(m, "gpu2") != SIZE_MAX);
  assert_contains(nvml_probe(m)->found, "2 of 3 GPUs:");
  assert_contains(nvml_probe(m)->found, "selected by --gpus='0, GPU-cccc'");
  for (size_t i = 0; i < gm_meter_missing_count(m); i++)
    assert_int_not_equal(gm_meter_missing(m, i)->kind, GM_KIND_GPU);
  gm_meter_destroy(m);

  m = meter_with_gpus(fx, "1,7");
  assert_true(find_component(m, "gpu1") != SIZE_MAX);
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  const struct gm_missing *g = find_missing(m, "gpu 7");
  assert_non_null(g);
  assert_true(g->in_total);
  assert_contains(g->reason, "--gpus='1,7' names GPU '7'");
  assert_contains(g->reason, "indices 0 .. 2");
  gm_meter_destroy(m);

  m = meter_with_gpus(fx, "none");
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  assert_int_equal(nvml_probe(m)->status, GM_ERR_UNAVAILABLE);
  assert_contains(nvml_probe(m)->reason, "no GPU selected (--gpus='none')");
  assert_null(find_missing(m, "gpus"));
  gm_meter_destroy(m);

  gmt_setenv("NVIDIA_VISIBLE_DEVICES", "2");
  m = meter_with_gpus(fx, NULL);
  assert_true(find_component(m, "gpu2") != SIZE_MAX);
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  assert_contains(nvml_probe(m)->found, "NVIDIA_VISIBLE_DEVICES='2'");
  gm_meter_destroy(m);
  gmt_setenv("CUDA_VISIBLE_DEVICES", "GPU-bbbb");
  m = meter_with_gpus(fx, NULL);
  assert_true(find_component(m, "gpu1") != SIZE_MAX);
  assert_true(find_component(m, "gpu2") == SIZE_MAX);
  assert_contains(nvml_probe(m)->found, "CUDA_VISIBLE_DEVICES='GPU-bbbb'");
  gm_meter_destroy(m);
  m = meter_with_gpus(fx, "all"); /* --gpus before the environment */
  assert_true(find_component(m, "gpu0") != SIZE_MAX);
  assert_true(find_component(m, "gpu2") != SIZE_MAX);
  gm_meter_destroy(m);
  gmt_setenv("CUDA_VISIBLE_DEVICES", ""); /* CUDA: no device */
  m = meter_with_gpus(fx, NULL);
  assert_true(find_component(m, "gpu0") == SIZE_MAX);
  assert_contains(nvml_probe(m)->reason, "CUDA_VISIBLE_DEVICES=''");
  gm_meter_destroy(m);
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("NVIDIA_VISIBLE_DEVICES");
}

/* One GPU of two cannot be opened: it is missing by its index, the other is
 * measured, and the total is partial. */
static void test_meter_missing_one_gpu(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu arch=9 handle_error=4\ngpu arch=9\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);
  assert_true(find_component(m, "gpu1") != SIZE_MAX);
  const struct gm_missing *g = find_missing(m, "gpu0");
  assert_non_null(g);
  assert_true(g->in_total);
  assert_contains(g->reason, "Insufficient Permissions");
  assert_null(find_missing(m, "gpus"));
  run_briefly(m, 50);
  struct gm_run_record *r = NULL;
  assert_int_equal(gm_run_record_from_meter(m, NULL, &r), GM_OK);
  assert_true(r->total.partial);
  assert_contains(r->partial_why, "gpu0 missing");
  gm_run_record_free(r);
  gm_meter_destroy(m);
}

/* The ceiling comes from the board's power limits: 2 x 700 W. A power
 * sensor reading of 2000 W on it is a glitch, discarded and counted; the
 * energy is that of the true 300 W. */
static void test_meter_ceiling_from_power_limit(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu name=\"Tesla V100\" arch=4 power_limit_mw=700000\n"
                 "power_trace 0 = 300000,300000,300000,2000000,300000\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);
  size_t gpu = find_component(m, "gpu0");
  assert_true(gpu != SIZE_MAX);
  const struct gm_component_info *c = gm_meter_component(m, gpu);
  assert_near(c->max_power_w, 1400);
  assert_contains(c->max_power_origin, "700 W");
  run_briefly(m, 200);
  struct gm_component_stats st;
  assert_int_equal(gm_meter_stats(m, gpu, &st), GM_OK);
  assert_int_equal(st.glitches, 1);
  assert_true(fabs(st.peak_power_w - 300) < 1e-6);
  assert_true(fabs(st.avg_power_w - 300) < 300 * 0.15);
  gm_meter_destroy(m);
}

/* A GPU lost during the run: its stats say when, the run's total is
 * partial from then on and says so. */
static void test_meter_lost_gpu_partial(void **state) {
  struct fx *fx = *state;
  use_script(fx, "gpu arch=9\nlost_after 0 = 8\n");
  struct gm_meter *m = meter_on_fake(fx, GM_TEST_FAKE_NVML, false);
  size_t gpu = find_component(m, "gpu0");
  assert_true(gpu != SIZE_MAX);
  run_briefly(m, 200);
  struct gm_component_stats st;
  assert_int_equal(gm_meter_stats(m, gpu, &st), GM_OK);
  assert_true(st.lost);
  assert_true(st.lost_at_s >= 0 && st.lost_at_s < gm_meter_duration_s(m));
  struct gm_run_record *r = NULL;
  assert_int_equal(gm_run_record_from_meter(m, NULL, &r), GM_OK);
  assert_true(r->total.partial);
  assert_contains(r->partial_why, "gpu0 lost at");
  gm_run_record_free(r);
  gm_meter_destroy(m);
}

static void test_close_null(void **state) {
  (void)state;
  gm__source_nvml.close(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_volta_counter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pre_volta_power, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_power_usage_fallback, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_field_value_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_without_power, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_nothing_readable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_supported_metrics, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_temperature_fallback, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_handle_permission_one_gpu, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_handle_permission_all_gpus, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_init_no_permission, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_driver_not_loaded, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_no_gpus, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gpu_lost_mid_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_of_two_lost, setup, teardown),
      cmocka_unit_test_setup_teardown(test_counter_reset_raw, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_library, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_nvml, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_gpu_flag, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_gpus, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_instances, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meter_counter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meter_power_sensor, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meter_missing_library, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_meter_no_gpu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_meter_missing_components, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_meter_missing_one_gpu, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_meter_gpu_selection, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_meter_ceiling_from_power_limit,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_meter_lost_gpu_partial, setup,
                                      teardown),
      cmocka_unit_test(test_close_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
