/* test_source_contract.c: the contract every power source meets, checked for
 * every entry of the registry (gm__sources[]) through its real open, read
 * and close.
 *
 * Each source has one case below: a builder that lays out the device on a
 * fake root (sysfs, procfs, devfs in a temporary directory; the scripted
 * libnvidia-ml.so.1 of tests/fakes for NVML) and the status the source gives
 * on a bare machine (a CPU and nothing else), where its device is absent. The
 * table must cover the registry: a source added to registry.c without a case
 * fails every_source_has_a_case. The per-source tests (test_powercap.c, ...)
 * check each source's own numbers; this file checks what the meter relies on
 * from all of them:
 *
 *   open:       GM_OK with an instance and a non-empty found, or a status
 *               with no instance, a reason and (where something can be done)
 *               a fix; an absent device is GM_ERR_UNAVAILABLE;
 *   components: at least one; unique non-empty names; source = the ops name;
 *               a detail; valid kind, domain and provenance, the kind that
 *               goes with the domain; in_total exactly for package, DRAM and
 *               GPU domains; each in one of the source's declared roles, and
 *               each declared role realised on the full fake device;
 *   metrics:    name, unit, source = the ops name; values finite or NAN;
 *   read:       GM_OK; every ok reading has finite, non-negative energy and
 *               power, and once utilisation is known a counter or a power;
 *               nothing lost;
 *   close:      frees everything (the ASan tree checks) and accepts NULL.
 *
 * The last test drives the selection by role through the public meter.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/meter.h"
#include "helpers.h"
#include "meter/source.h"

/* One fake machine. */
struct fake {
  char *root;
  char sysfs[512], procfs[512], devfs[512], nvml_script[512];
  struct gm__env env;
};

static void fake_new(struct fake *f) {
  memset(f, 0, sizeof(*f));
  f->root = gmt_mkdtemp();
  gmt_roots(f->root, f->sysfs, f->procfs, f->devfs, sizeof(f->sysfs));
  gmt_mkdirs(f->root, "sys");
  gmt_mkdirs(f->root, "proc");
  gmt_mkdirs(f->root, "dev");
  f->env.sysfs = f->sysfs;
  f->env.procfs = f->procfs;
  f->env.devfs = f->devfs;
  f->env.nvml_lib = "/nonexistent/greenml/libnvidia-ml.so.1";
  f->env.no_gpu = false;
}

static void fake_free(struct fake *f) {
  unsetenv("GREENML_FAKE_NVML_SCRIPT");
  gmt_rmtree(f->root);
  free(f->root);
}

/* ---- the devices ---------------------------------------------------------
 */

static void cpuinfo(struct fake *f, const char *vendor, unsigned model) {
  gmt_write(f->root, "proc/cpuinfo",
            "processor\t: 0\nvendor_id\t: %s\ncpu family\t: 6\n"
            "model\t\t: %u\nmodel name\t: Intel(R) Xeon(R) Gold 6148 CPU @ "
            "2.40GHz\nphysical id\t: 0\n\n",
            vendor, model);
  gmt_write(f->root, "sys/devices/system/cpu/cpu0/topology/physical_package_id",
            "0\n");
  gmt_write(f->root, "sys/devices/system/cpu/cpu0/topology/die_id", "0\n");
}

static void zone(struct fake *f, const char *dir, const char *name,
                 unsigned long long e_uj) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/name", dir);
  gmt_write(f->root, rel, "%s\n", name);
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/max_energy_range_uj", dir);
  gmt_write(f->root, rel, "262143328850\n");
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/energy_uj", dir);
  gmt_write(f->root, rel, "%llu\n", e_uj);
}

/* One package with cores, DRAM and psys zones. */
static void powercap_device(struct fake *f) {
  zone(f, "intel-rapl:0", "package-0", 5000000);
  zone(f, "intel-rapl:0:0", "core", 2000000);
  zone(f, "intel-rapl:0:1", "dram", 700000);
  zone(f, "intel-rapl:1", "psys", 9000000);
}

static void powercap_package_only(struct fake *f) {
  zone(f, "intel-rapl:0", "package-0", 5000000);
}

static void perf_event(struct fake *f, const char *name) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/bus/event_source/devices/power/events/%s",
           name);
  gmt_write(f->root, rel, "event=0x00\n");
  snprintf(rel, sizeof(rel),
           "sys/bus/event_source/devices/power/events/%s.scale", name);
  gmt_write(f->root, rel, "0.5\n");
  snprintf(rel, sizeof(rel),
           "sys/bus/event_source/devices/power/events/%s.unit", name);
  gmt_write(f->root, rel, "Joules\n");
}

/* The power PMU on the kernel's software PMU (type 1, cpu-clock): a real
 * perf_event_open path where perf events are permitted. */
static void perf_device(struct fake *f) {
  cpuinfo(f, "GenuineIntel", 85);
  gmt_write(f->root, "sys/bus/event_source/devices/power/type", "1\n");
  gmt_write(f->root, "sys/bus/event_source/devices/power/cpumask", "0\n");
  perf_event(f, "energy-pkg");
  perf_event(f, "energy-ram");
}

static void msr_set(struct fake *f, uint32_t msr, uint64_t value) {
  char *p = gmt_path(f->root, "dev/cpu/0/msr");
  int fd = open(p, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, &value, sizeof(value), (off_t)msr),
                   sizeof(value));
  close(fd);
  free(p);
}

/* A Kaby Lake client: package, PP0, DRAM and psys registers. */
static void msr_registers(struct fake *f, bool dram) {
  cpuinfo(f, "GenuineIntel", 142);
  gmt_write_bin(f->root, "dev/cpu/0/msr", "", 0);
  msr_set(f, 0x606, 0xA0E03);
  msr_set(f, 0x611, 0x10000);
  msr_set(f, 0x639, 0x8000);
  msr_set(f, 0x641, 0);
  msr_set(f, 0x619, dram ? 0x4000 : 0);
  msr_set(f, 0x64D, 0x20000);
  msr_set(f, 0x700, 0);
}

static void msr_device(struct fake *f) { msr_registers(f, true); }

/* One Hopper GPU with an energy counter and a power sensor. */
static void nvml_device(struct fake *f) {
  assert_true(GM_TEST_FAKE_NVML[0] != '\0');
  gmt_write(f->root, "nvml.script",
            "driver 550.54.15\nnvml 12.550.54.15\n"
            "gpu name=\"NVIDIA H100 80GB HBM3\" "
            "uuid=GPU-11111111-2222-3333-4444-555555555555 arch=9 util=75 "
            "mem_util=40 vram_total=85899345920 vram_used=1073741824 temp=61 "
            "sm_clock=1755 power_limit_mw=700000\n"
            "energy_trace 0 = 5000000,5010000,5030000\n"
            "power_trace 0 = 300000,310000,320000\n");
  char *path = gmt_path(f->root, "nvml.script");
  gm__strlcpy(f->nvml_script, path, sizeof(f->nvml_script));
  free(path);
  gmt_setenv("GREENML_FAKE_NVML_SCRIPT", f->nvml_script);
  f->env.nvml_lib = GM_TEST_FAKE_NVML;
}

static void meminfo(struct fake *f) {
  gmt_write(f->root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
}

/* DIMMs from a saved `dmidecode -t memory`. */
static void dram_model_device(struct fake *f) {
  meminfo(f);
  f->env.dmidecode_file = GM_TEST_FIXTURES "/dmidecode-ddr4.txt";
}

static void cpu_model_device(struct fake *f) { cpuinfo(f, "GenuineIntel", 85); }

/* ---- the table -----------------------------------------------------------
 */

struct source_case {
  const struct gm__source_ops *ops;
  void (*device)(struct fake *f); /* the full device, every role realised */
  enum gm_status absent;          /* open on bare_machine */
  /* Why an absent device has no fix (NULL: it must have one). */
  const char *absent_without_fix;
  /* Whether open may fail on the full device where the host forbids it
   * (perf events behind perf_event_paranoid, seccomp or lockdown). */
  bool host_may_refuse;
};

static const struct source_case cases[] = {
    {&gm__source_rapl_powercap, powercap_device, GM_ERR_UNAVAILABLE, NULL,
     false},
    {&gm__source_rapl_perf, perf_device, GM_ERR_UNAVAILABLE,
     "no power PMU: a virtual machine or an unsupported CPU, nothing to "
     "grant (test_rapl_perf.c pins the empty fix)",
     true},
    {&gm__source_rapl_msr, msr_device, GM_ERR_UNAVAILABLE, NULL, false},
    {&gm__source_nvml, nvml_device, GM_ERR_UNAVAILABLE, NULL, false},
    {&gm__source_dram_model, dram_model_device, GM_ERR_UNAVAILABLE, NULL,
     false},
    /* the last resort: a model from the default TDP on any machine */
    {&gm__source_cpu_model, cpu_model_device, GM_OK, NULL, false},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static const struct source_case *case_of(const struct gm__source_ops *ops) {
  for (size_t k = 0; k < N_CASES; k++)
    if (cases[k].ops == ops)
      return &cases[k];
  return NULL;
}

/* ---- the checks ----------------------------------------------------------
 */

static bool valid_status(enum gm_status s) {
  return (int)s >= 0 && (int)s < (int)GM_STATUS_COUNT_;
}

static enum gm_kind kind_of_domain(enum gm_domain d) {
  switch (d) {
  case GM_DOMAIN_PACKAGE:
  case GM_DOMAIN_CORES:
  case GM_DOMAIN_UNCORE:
    return GM_KIND_CPU;
  case GM_DOMAIN_DRAM:
    return GM_KIND_DRAM;
  case GM_DOMAIN_GPU:
    return GM_KIND_GPU;
  case GM_DOMAIN_PSYS:
    return GM_KIND_PSYS;
  }
  fail_msg("unknown domain %d", (int)d);
  return GM_KIND_CPU;
}

/* Components of an open instance; returns the roles they realise. */
static unsigned check_components(const struct gm__source_ops *o,
                                 const void *self) {
  size_t n = o->component_count(self);
  if (n == 0)
    fail_msg("%s: open succeeded with no component", o->name);
  unsigned realised = 0;
  for (size_t i = 0; i < n; i++) {
    const struct gm_component_info *ci = o->component(self, i);
    assert_non_null(ci);
    if (!ci->name[0] || !ci->detail[0])
      fail_msg("%s: component %zu lacks a name or a detail ('%s')", o->name, i,
               ci->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(o->component(self, j)->name, ci->name) == 0)
        fail_msg("%s: two components named '%s'", o->name, ci->name);
    if (strcmp(ci->source, o->name) != 0)
      fail_msg("%s: component '%s' says source '%s'", o->name, ci->name,
               ci->source);
    assert_true(ci->provenance == GM_PROV_MEASURED_COUNTER ||
                ci->provenance == GM_PROV_MEASURED_POWER ||
                ci->provenance == GM_PROV_MODELLED);
    if (ci->kind != kind_of_domain(ci->domain))
      fail_msg("%s: '%s' is of kind %s in domain %s", o->name, ci->name,
               gm_kind_name(ci->kind), gm_domain_name(ci->domain));
    bool whole = ci->domain == GM_DOMAIN_PACKAGE ||
                 ci->domain == GM_DOMAIN_DRAM || ci->domain == GM_DOMAIN_GPU;
    if (ci->in_total != whole)
      fail_msg("%s: '%s' (domain %s) has in_total %d", o->name, ci->name,
               gm_domain_name(ci->domain), (int)ci->in_total);
    assert_true(isfinite(ci->wrap_j) && ci->wrap_j >= 0);
    unsigned role = gm__source_component_role(ci);
    if (!(role & o->roles))
      fail_msg("%s: '%s' (%s, %s) is in none of the declared roles 0x%x",
               o->name, ci->name, gm_domain_name(ci->domain),
               gm_provenance_name(ci->provenance), o->roles);
    realised |= role;
  }
  if (o->component(self, n) != NULL)
    fail_msg("%s: component %zu of %zu exists", o->name, n, n);
  return realised;
}

static size_t check_metrics(const struct gm__source_ops *o, const void *self) {
  size_t n = o->metric_count ? o->metric_count(self) : 0;
  assert_true((o->metric_count == NULL) == (o->metric == NULL));
  for (size_t k = 0; k < n; k++) {
    const struct gm_metric_info *mi = o->metric(self, k);
    assert_non_null(mi);
    if (!mi->name[0] || !mi->unit[0] || strcmp(mi->source, o->name) != 0)
      fail_msg("%s: metric %zu: name '%s', unit '%s', source '%s'", o->name, k,
               mi->name, mi->unit, mi->source);
  }
  return n;
}

/* One tick; util_known: whether the tick carries a utilisation. */
static void check_read(const struct gm__source_ops *o, void *self, size_t n,
                       size_t nm, bool util_known) {
  struct gm__reading *r = calloc(n, sizeof(*r));
  double *metrics = calloc(nm ? nm : 1, sizeof(double));
  assert_non_null(r);
  assert_non_null(metrics);
  struct gm__tick tick = {.t_ns = gm__now_ns(),
                          .cpu_util_frac = util_known ? 0.5 : NAN,
                          .mem_used_bytes = util_known ? 8e9 : NAN};
  enum gm_status rc = o->read(self, &tick, r, nm ? metrics : NULL);
  if (rc != GM_OK)
    fail_msg("%s: read gave %s on a working device", o->name,
             gm_status_name(rc));
  for (size_t i = 0; i < n; i++) {
    const char *name = o->component(self, i)->name;
    if (r[i].lost)
      fail_msg("%s: '%s' lost on a working device", o->name, name);
    if (!r[i].ok)
      fail_msg("%s: '%s' not ok on a working device", o->name, name);
    if (r[i].has_power && !(isfinite(r[i].power_w) && r[i].power_w >= 0))
      fail_msg("%s: '%s' power %g W", o->name, name, r[i].power_w);
    if (r[i].has_energy && !(isfinite(r[i].energy_j) && r[i].energy_j >= 0))
      fail_msg("%s: '%s' counter %g J", o->name, name, r[i].energy_j);
    if (util_known && !r[i].has_power && !r[i].has_energy)
      fail_msg("%s: '%s' ok with neither counter nor power", o->name, name);
  }
  for (size_t k = 0; k < nm; k++)
    if (!isnan(metrics[k]) && !isfinite(metrics[k]))
      fail_msg("%s: metric %zu is %g", o->name, k, metrics[k]);
  free(r);
  free(metrics);
}

/* ---- the tests -----------------------------------------------------------
 */

static void every_source_has_a_case(void **state) {
  (void)state;
  assert_true(gm__source_count > 0);
  for (size_t i = 0; i < gm__source_count; i++) {
    const struct gm__source_ops *o = gm__sources[i];
    if (!case_of(o))
      fail_msg("source '%s' is in the registry without a case in "
               "test_source_contract.c: add a fake device for it",
               o->name);
    assert_non_null(o->name);
    assert_true(o->name[0] != '\0');
    assert_true(strlen(o->name) < sizeof(((struct gm_probe *)0)->source));
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(gm__sources[j]->name, o->name);
    assert_non_null(o->open);
    assert_non_null(o->component_count);
    assert_non_null(o->component);
    assert_non_null(o->read);
    assert_non_null(o->close);
    const unsigned known = GM__ROLE_CPU_PACKAGE | GM__ROLE_DRAM | GM__ROLE_GPU |
                           GM__ROLE_DRAM_FALLBACK | GM__ROLE_CPU_FALLBACK;
    if (o->roles == 0 || (o->roles & ~known))
      fail_msg("%s: roles 0x%x", o->name, o->roles);
  }
  for (size_t k = 0; k < N_CASES; k++) {
    bool listed = false;
    for (size_t i = 0; i < gm__source_count; i++)
      listed = listed || gm__sources[i] == cases[k].ops;
    if (!listed)
      fail_msg("case %zu (%s) is not in the registry", k, cases[k].ops->name);
  }
}

static void full_device_meets_the_contract(void **state) {
  (void)state;
  for (size_t i = 0; i < gm__source_count; i++) {
    const struct gm__source_ops *o = gm__sources[i];
    const struct source_case *c = case_of(o);
    assert_non_null(c);
    struct fake f;
    fake_new(&f);
    c->device(&f);
    struct gm_probe probe;
    memset(&probe, 0, sizeof(probe));
    void *self = (void *)&probe; /* must be overwritten */
    enum gm_status rc = o->open(&f.env, &self, &probe);
    assert_true(valid_status(rc));
    if (rc != GM_OK) {
      assert_null(self);
      if (!c->host_may_refuse)
        fail_msg("%s: open gave %s on the full device: %s", o->name,
                 gm_status_name(rc), probe.reason);
      /* refused by this host: the refusal itself is explained */
      assert_true(probe.reason[0] != '\0');
      if (rc == GM_ERR_PERMISSION)
        assert_true(probe.fix[0] != '\0');
      print_message("%-14s refused here (%s): %s\n", o->name,
                    gm_status_name(rc), probe.reason);
      fake_free(&f);
      continue;
    }
    assert_non_null(self);
    assert_true(probe.found[0] != '\0');
    assert_string_equal(probe.reason, "");
    unsigned realised = check_components(o, self);
    if ((realised & o->roles) != o->roles)
      fail_msg("%s: declares roles 0x%x, the full device realises 0x%x",
               o->name, o->roles, realised);
    size_t n = o->component_count(self), nm = check_metrics(o, self);
    check_read(o, self, n, nm, false);
    check_read(o, self, n, nm, true);
    check_read(o, self, n, nm, true);
    print_message("%-14s %zu component%s, %zu metric%s, roles 0x%x: %s\n",
                  o->name, n, n == 1 ? "" : "s", nm, nm == 1 ? "" : "s",
                  o->roles, probe.found);
    o->close(self);
    o->close(NULL);
    fake_free(&f);
  }
}

/* A machine with a CPU and nothing else: no powercap zones, no power PMU,
 * no MSR device, no NVML library, no DIMM data and no MemTotal. */
static void bare_machine(struct fake *f) { cpuinfo(f, "GenuineIntel", 85); }

static void absent_device_is_explained(void **state) {
  (void)state;
  for (size_t i = 0; i < gm__source_count; i++) {
    const struct gm__source_ops *o = gm__sources[i];
    const struct source_case *c = case_of(o);
    assert_non_null(c);
    struct fake f;
    fake_new(&f);
    bare_machine(&f);
    struct gm_probe probe;
    memset(&probe, 0, sizeof(probe));
    void *self = (void *)&probe;
    enum gm_status rc = o->open(&f.env, &self, &probe);
    if (rc != c->absent)
      fail_msg("%s: open on a bare machine gave %s, not %s (%s)", o->name,
               gm_status_name(rc), gm_status_name(c->absent), probe.reason);
    if (rc == GM_OK) {
      /* a model that stands in anywhere says from what */
      assert_non_null(self);
      assert_true(probe.found[0] != '\0');
      assert_true(probe.fix[0] != '\0');
      check_components(o, self);
      o->close(self);
    } else {
      assert_null(self);
      if (!probe.reason[0])
        fail_msg("%s: %s without a reason", o->name, gm_status_name(rc));
      if (!c->absent_without_fix && !probe.fix[0])
        fail_msg("%s: %s without a fix (%s)", o->name, gm_status_name(rc),
                 probe.reason);
    }
    print_message("%-14s absent: %s; fix: %s\n", o->name, gm_status_name(rc),
                  probe.fix[0] ? probe.fix : c->absent_without_fix);
    fake_free(&f);
  }
}

/* ---- selection by role, through the meter -------------------------------
 */

struct selection_case {
  const char *what;
  void (*machine)(struct fake *f);
  const char *used;          /* space-separated sources in use */
  const char *not_needed[3]; /* "source: reason" for sources set aside */
};

static void base_machine(struct fake *f) {
  gmt_write(f->root, "proc/stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 100 0 100 800 0 0 0 0 0 0\nintr 1 2 3\n");
  meminfo(f);
  cpuinfo(f, "GenuineIntel", 142);
}

static void m_nothing(struct fake *f) { base_machine(f); }
static void m_powercap_and_msr(struct fake *f) {
  base_machine(f);
  powercap_device(f);
  msr_registers(f, true);
}
static void m_msr_without_dram(struct fake *f) {
  base_machine(f);
  msr_registers(f, false);
}
static void m_powercap_package_only(struct fake *f) {
  base_machine(f);
  powercap_package_only(f);
}

static const struct selection_case selections[] = {
    {"no RAPL: both models", m_nothing, "dram-model cpu-tdp-model", {NULL}},
    {"powercap preferred to msr, its DRAM domain measures DRAM",
     m_powercap_and_msr,
     "rapl-powercap",
     {"rapl-msr: not needed: rapl-powercap measures the CPU",
      "dram-model: not needed: rapl-powercap has a DRAM domain",
      "cpu-tdp-model: not needed: rapl-powercap measures the CPU"}},
    {"msr without DRAM: the DRAM model stands in",
     m_msr_without_dram,
     "rapl-msr dram-model",
     {"cpu-tdp-model: not needed: rapl-msr measures the CPU", NULL}},
    {"powercap package only: the DRAM model stands in",
     m_powercap_package_only,
     "rapl-powercap dram-model",
     {"cpu-tdp-model: not needed: rapl-powercap measures the CPU", NULL}},
};

static void selection_by_role(void **state) {
  (void)state;
  for (size_t k = 0; k < sizeof(selections) / sizeof(selections[0]); k++) {
    const struct selection_case *sc = &selections[k];
    struct fake f;
    fake_new(&f);
    sc->machine(&f);
    struct gm_meter_config cfg = gm_meter_config_default();
    cfg.sysfs_root = f.sysfs;
    cfg.procfs_root = f.procfs;
    cfg.devfs_root = f.devfs;
    cfg.no_gpu = true;
    struct gm_meter *m = NULL;
    assert_int_equal(gm_meter_create(&cfg, &m), GM_OK);
    char used[256] = "";
    for (size_t i = 0; i < gm_meter_probe_count(m); i++) {
      const struct gm_probe *p = gm_meter_probe(m, i);
      if (p->used && strcmp(p->source, "procfs") != 0) {
        size_t len = strlen(used);
        snprintf(used + len, sizeof(used) - len, "%s%s", len ? " " : "",
                 p->source);
      }
    }
    if (strcmp(used, sc->used) != 0)
      fail_msg("%s: used '%s', want '%s'", sc->what, used, sc->used);
    for (size_t j = 0; j < 3 && sc->not_needed[j]; j++) {
      const char *want = sc->not_needed[j];
      const char *colon = strchr(want, ':');
      bool seen = false;
      for (size_t i = 0; i < gm_meter_probe_count(m); i++) {
        const struct gm_probe *p = gm_meter_probe(m, i);
        if (strlen(p->source) != (size_t)(colon - want) ||
            strncmp(p->source, want, (size_t)(colon - want)) != 0)
          continue;
        seen = true;
        assert_false(p->used);
        assert_int_equal(p->status, GM_OK);
        if (strcmp(p->reason, colon + 2) != 0)
          fail_msg("%s: %s: reason '%s', want '%s'", sc->what, p->source,
                   p->reason, colon + 2);
      }
      assert_true(seen);
    }
    print_message("%-58s used: %s\n", sc->what, used);
    gm_meter_destroy(m);
    fake_free(&f);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_source_has_a_case),
      cmocka_unit_test(full_device_meets_the_contract),
      cmocka_unit_test(absent_device_is_explained),
      cmocka_unit_test(selection_by_role),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
