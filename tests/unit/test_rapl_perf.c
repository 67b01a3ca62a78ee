/* test_rapl_perf.c: the perf "power" PMU parsing (gm__rapl_pmu_read), the
 * CPU topology helpers it shares with rapl-msr, and the rapl-perf source on
 * fake sysfs trees. This machine has no power PMU, so a fake PMU of a bogus
 * type must fail cleanly in perf_event_open; a fake PMU that names the
 * software PMU (type 1, cpu-clock) lets the source open and read real
 * counters through its production path where perf events are permitted. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "meter/cpu_topology.h"
#include "meter/source.h"

#define PMU "sys/bus/event_source/devices/power"
#define SCALE "2.3283064365386962890625e-10"

struct fixture {
  char *root;
  char sysfs[512], procfs[512], devfs[512];
  struct gm__env env;
  struct gm_probe probe;
  void *self;
  struct gm__rapl_pmu pmu;
  struct gm__cpu_topology topo;
  char err[256];
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  f->root = gmt_mkdtemp();
  gmt_roots(f->root, f->sysfs, f->procfs, f->devfs, sizeof(f->sysfs));
  f->env.sysfs = f->sysfs;
  f->env.procfs = f->procfs;
  f->env.devfs = f->devfs;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gm__source_rapl_perf.close(f->self);
  gm__rapl_pmu_release(&f->pmu);
  gm__cpu_topology_release(&f->topo);
  gmt_rmtree(f->root);
  free(f->root);
  free(f);
  return 0;
}

/* events/<name> = "event=<code>", with .scale and .unit when given. */
static void event(struct fixture *f, const char *pmu, const char *name,
                  const char *code, const char *scale, const char *unit) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/bus/event_source/devices/%s/events/%s", pmu,
           name);
  gmt_write(f->root, rel, "%s\n", code);
  if (scale) {
    snprintf(rel, sizeof(rel),
             "sys/bus/event_source/devices/%s/events/%s.scale", pmu, name);
    gmt_write(f->root, rel, "%s\n", scale);
  }
  if (unit) {
    snprintf(rel, sizeof(rel), "sys/bus/event_source/devices/%s/events/%s.unit",
             pmu, name);
    gmt_write(f->root, rel, "%s\n", unit);
  }
}

/* The power PMU of a 2-socket Intel server, as the kernel lists it. */
static void intel_pmu(struct fixture *f, const char *type) {
  gmt_write(f->root, PMU "/type", "%s\n", type);
  gmt_write(f->root, PMU "/cpumask", "0,18\n");
  gmt_write(f->root, PMU "/format/event", "config:0-7\n");
  event(f, "power", "energy-cores", "event=0x01", SCALE, "Joules");
  event(f, "power", "energy-pkg", "event=0x02", SCALE, "Joules");
  event(f, "power", "energy-ram", "event=0x03", SCALE, "Joules");
  event(f, "power", "energy-gpu", "event=0x04", SCALE, "Joules");
  event(f, "power", "energy-psys", "event=0x05", SCALE, "Joules");
}

static void cpuinfo(struct fixture *f, const char *vendor, unsigned family,
                    unsigned model) {
  gmt_write(f->root, "proc/cpuinfo",
            "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\n"
            "model\t\t: %u\nmodel name\t: Test CPU\n\n",
            vendor, family, model);
}

static void cpu(struct fixture *f, int n, const char *pkg, const char *die) {
  char rel[128];
  snprintf(rel, sizeof(rel),
           "sys/devices/system/cpu/cpu%d/topology/physical_package_id", n);
  gmt_write(f->root, rel, "%s\n", pkg);
  if (die) {
    snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu%d/topology/die_id",
             n);
    gmt_write(f->root, rel, "%s\n", die);
  }
}

static enum gm_status parse(struct fixture *f, const char *pmu) {
  gm__rapl_pmu_release(&f->pmu);
  f->err[0] = '\0';
  return gm__rapl_pmu_read(f->sysfs, pmu, &f->pmu, f->err, sizeof(f->err));
}

static enum gm_status open_src(struct fixture *f) {
  memset(&f->probe, 0, sizeof(f->probe));
  gm__source_rapl_perf.close(f->self);
  f->self = NULL;
  enum gm_status rc = gm__source_rapl_perf.open(&f->env, &f->self, &f->probe);
  if (rc != GM_OK)
    assert_null(f->self);
  return rc;
}

/* ---- PMU parsing -------------------------------------------------------- */

static void test_parse_intel_pmu(void **state) {
  struct fixture *f = *state;
  intel_pmu(f, "31");
  assert_int_equal(parse(f, "power"), GM_OK);
  assert_string_equal(f->pmu.name, "power");
  assert_int_equal(f->pmu.type, 31);
  assert_int_equal(f->pmu.n_events, 5);
  /* domain order, whatever the directory order */
  const char *names[] = {"energy-pkg", "energy-cores", "energy-gpu",
                         "energy-ram", "energy-psys"};
  const enum gm_domain domains[] = {GM_DOMAIN_PACKAGE, GM_DOMAIN_CORES,
                                    GM_DOMAIN_UNCORE, GM_DOMAIN_DRAM,
                                    GM_DOMAIN_PSYS};
  const uint64_t configs[] = {2, 1, 4, 3, 5};
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(f->pmu.events[i].name, names[i]);
    assert_int_equal(f->pmu.events[i].domain, domains[i]);
    assert_int_equal(f->pmu.events[i].config, configs[i]);
    assert_true(f->pmu.events[i].scale_j == ldexp(1.0, -32));
    assert_false(f->pmu.events[i].unit_missing);
  }
  assert_int_equal(f->pmu.n_cpus, 2);
  assert_int_equal(f->pmu.cpus[0], 0);
  assert_int_equal(f->pmu.cpus[1], 18);
  assert_string_equal(f->pmu.notes, "");
}

static void test_parse_events_subset(void **state) {
  struct fixture *f = *state;
  gmt_write(f->root, PMU "/type", "9\n");
  event(f, "power", "energy-ram", "event=0x03", SCALE, "Joules");
  event(f, "power", "energy-pkg", "event=0x02", "0.5", "Joules");
  assert_int_equal(parse(f, "power"), GM_OK);
  assert_int_equal(f->pmu.n_events, 2);
  assert_string_equal(f->pmu.events[0].name, "energy-pkg");
  assert_true(f->pmu.events[0].scale_j == 0.5);
  assert_string_equal(f->pmu.events[1].name, "energy-ram");
  assert_int_equal(f->pmu.n_cpus, 0); /* no cpumask file */
  assert_null(f->pmu.cpus);
}

static void test_parse_scale_and_unit(void **state) {
  struct fixture *f = *state;
  gmt_write(f->root, PMU "/type", "9\n");
  event(f, "power", "energy-pkg", "event=0x02", "1e-6", NULL);   /* no unit */
  event(f, "power", "energy-ram", "event=0x03", NULL, "Joules"); /* no scale */
  event(f, "power", "energy-cores", "event=0x01", "abc", "Joules");
  event(f, "power", "energy-gpu", "event=0x04", "0", "Joules");
  event(f, "power", "energy-psys", "event=0x05", SCALE, "Watts");
  assert_int_equal(parse(f, "power"), GM_OK);
  assert_int_equal(f->pmu.n_events, 1);
  assert_string_equal(f->pmu.events[0].name, "energy-pkg");
  assert_true(f->pmu.events[0].scale_j == 1e-6);
  assert_true(f->pmu.events[0].unit_missing);
  assert_non_null(strstr(f->pmu.notes, "energy-ram: no .scale"));
  assert_non_null(strstr(f->pmu.notes, "energy-cores: malformed .scale 'abc'"));
  assert_non_null(strstr(f->pmu.notes, "energy-gpu: malformed .scale '0'"));
  assert_non_null(
      strstr(f->pmu.notes, "energy-psys: unit 'Watts' is not Joules"));
}

static void test_parse_event_encodings(void **state) {
  struct fixture *f = *state;
  gmt_write(f->root, PMU "/type", "9\n");
  event(f, "power", "energy-pkg", "event=2", SCALE, "Joules"); /* decimal */
  event(f, "power", "energy-cores", "event=0x01,umask=0x1", SCALE, "Joules");
  event(f, "power", "energy-ram", "config=0x03", SCALE, "Joules");
  event(f, "power", "energy-gpu", "event=0x100", SCALE, "Joules");
  event(f, "power", "energy-psys", "event=", SCALE, "Joules");
  event(f, "power", "energy-l3", "event=0x06", SCALE, "Joules"); /* unknown */
  gmt_write(f->root, PMU "/events/cycles", "event=0x3c\n"); /* not energy */
  assert_int_equal(parse(f, "power"), GM_OK);
  assert_int_equal(f->pmu.n_events, 1);
  assert_int_equal(f->pmu.events[0].config, 2);
  assert_non_null(strstr(f->pmu.notes, "energy-cores: unsupported encoding"));
  assert_non_null(strstr(f->pmu.notes, "energy-ram: unsupported encoding"));
  assert_non_null(strstr(f->pmu.notes, "energy-gpu: unsupported encoding"));
  assert_non_null(strstr(f->pmu.notes, "energy-psys: unsupported encoding"));
  assert_non_null(strstr(f->pmu.notes, "energy-l3: unknown event ignored"));
  assert_null(strstr(f->pmu.notes, "cycles"));
}

static void test_parse_garbage_type(void **state) {
  struct fixture *f = *state;
  intel_pmu(f, "power");
  assert_int_equal(parse(f, "power"), GM_ERR_PARSE);
  assert_non_null(strstr(f->err, "/bus/event_source/devices/power/type'"));
  assert_non_null(strstr(f->err, "'power' is not a PMU type"));

  gmt_write(f->root, PMU "/type", "4294967296\n"); /* > UINT32_MAX */
  assert_int_equal(parse(f, "power"), GM_ERR_PARSE);
  gmt_write(f->root, PMU "/type", "-1\n");
  assert_int_equal(parse(f, "power"), GM_ERR_PARSE);
  gmt_write(f->root, PMU "/type", "\n");
  assert_int_equal(parse(f, "power"), GM_ERR_PARSE);

  char *p = gmt_path(f->root, PMU "/type");
  assert_int_equal(unlink(p), 0);
  free(p);
  assert_int_equal(parse(f, "power"), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->err, "cannot read"));
}

static void test_parse_missing_pmu_and_events(void **state) {
  struct fixture *f = *state;
  assert_int_equal(parse(f, "power"), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->err, "no '"));

  gmt_write(f->root, PMU "/type", "9\n");
  assert_int_equal(parse(f, "power"), GM_ERR_UNAVAILABLE); /* no events/ */
  assert_non_null(strstr(f->err, "/events'"));

  event(f, "power", "energy-pkg", "event=0x02", NULL, NULL);
  assert_int_equal(parse(f, "power"), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->err, "no usable energy event"));
  assert_non_null(strstr(f->err, "energy-pkg: no .scale"));
}

static void test_parse_cpumask(void **state) {
  struct fixture *f = *state;
  intel_pmu(f, "31");
  gmt_write(f->root, PMU "/cpumask", "0-3,8\n");
  assert_int_equal(parse(f, "power"), GM_OK);
  assert_int_equal(f->pmu.n_cpus, 5);
  assert_int_equal(f->pmu.cpus[3], 3);
  assert_int_equal(f->pmu.cpus[4], 8);
  gmt_write(f->root, PMU "/cpumask", "0-\n");
  assert_int_equal(parse(f, "power"), GM_ERR_PARSE);
  assert_non_null(strstr(f->err, "is not a CPU list"));
}

static void test_parse_amd_power_core(void **state) {
  struct fixture *f = *state;
  gmt_write(f->root, "sys/bus/event_source/devices/power_core/type", "12\n");
  gmt_write(f->root, "sys/bus/event_source/devices/power_core/cpumask",
            "0-7\n");
  event(f, "power_core", "energy-core", "event=0x01", SCALE, "Joules");
  assert_int_equal(parse(f, "power_core"), GM_OK);
  assert_string_equal(f->pmu.name, "power_core");
  assert_int_equal(f->pmu.type, 12);
  assert_int_equal(f->pmu.n_events, 1);
  assert_string_equal(f->pmu.events[0].name, "energy-core");
  assert_int_equal(f->pmu.events[0].domain, GM_DOMAIN_CORES);
  assert_int_equal(f->pmu.events[0].config, 1);
  assert_int_equal(f->pmu.n_cpus, 8);
}

static void test_cpu_list(void **state) {
  (void)state;
  int *c = NULL;
  size_t n = 99;
  assert_true(gm__parse_cpu_list("", &c, &n));
  assert_int_equal(n, 0);
  assert_null(c);
  assert_true(gm__parse_cpu_list("7\n", &c, &n));
  assert_int_equal(n, 1);
  assert_int_equal(c[0], 7);
  free(c);
  assert_true(gm__parse_cpu_list("18,0,2-3,3", &c, &n)); /* sorted, unique */
  assert_int_equal(n, 4);
  assert_int_equal(c[0], 0);
  assert_int_equal(c[1], 2);
  assert_int_equal(c[2], 3);
  assert_int_equal(c[3], 18);
  free(c);
  const char *bad[] = {"a", "3-1", "0,,1", "0,", "-1", "1-", "0 1", "0x1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_false(gm__parse_cpu_list(bad[i], &c, &n));
    assert_null(c);
  }
}

/* ---- Topology and identification ---------------------------------------- */

static void test_cpu_ident(void **state) {
  struct fixture *f = *state;
  struct gm__cpu_ident id;
  cpuinfo(f, "GenuineIntel", 6, 85);
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, f->err, sizeof(f->err)),
                   GM_OK);
  assert_int_equal(id.vendor, GM__CPU_VENDOR_INTEL);
  assert_int_equal(id.family, 6);
  assert_int_equal(id.model, 85);
  assert_string_equal(id.model_name, "Test CPU");
  assert_true(gm__cpu_rapl_per_die(&id));

  cpuinfo(f, "AuthenticAMD", 25, 1);
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, NULL, 0), GM_OK);
  assert_int_equal(id.vendor, GM__CPU_VENDOR_AMD);
  assert_int_equal(id.family, 25);
  assert_false(gm__cpu_rapl_per_die(&id));

  cpuinfo(f, "HygonGenuine", 24, 0);
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, NULL, 0), GM_OK);
  assert_int_equal(id.vendor, GM__CPU_VENDOR_HYGON);

  cpuinfo(f, "VIA VIA VIA ", 6, 15); /* trailing blanks are trimmed */
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, NULL, 0), GM_OK);
  assert_int_equal(id.vendor, GM__CPU_VENDOR_UNKNOWN);
  assert_string_equal(id.vendor_id, "VIA VIA VIA");

  /* ARM cpuinfo: no vendor_id / cpu family */
  gmt_write(f->root, "proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\n");
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, f->err, sizeof(f->err)),
                   GM_ERR_PARSE);
  assert_non_null(strstr(f->err, "cannot identify the CPU"));

  gmt_write(f->root, "proc/cpuinfo",
            "vendor_id\t: GenuineIntel\ncpu family\t: six\nmodel\t: 1\n");
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, NULL, 0), GM_ERR_PARSE);

  char *p = gmt_path(f->root, "proc/cpuinfo");
  unlink(p);
  free(p);
  assert_int_equal(gm__cpu_ident_read(f->procfs, &id, f->err, sizeof(f->err)),
                   GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->err, "/proc/cpuinfo': no such file"));
}

static void test_topology(void **state) {
  struct fixture *f = *state;
  cpu(f, 0, "0", "0");
  cpu(f, 1, "1", "0");
  cpu(f, 2, "0", "1");
  cpu(f, 3, "1", "0");
  cpu(f, 11, "0", "1");
  gmt_mkdirs(f->root, "sys/devices/system/cpu/cpu5"); /* offline */
  gmt_mkdirs(f->root, "sys/devices/system/cpu/cpuidle");
  gmt_write(f->root, "sys/devices/system/cpu/online", "0-3,11\n");

  /* package scope */
  assert_int_equal(
      gm__cpu_topology_read(f->sysfs, false, &f->topo, f->err, sizeof(f->err)),
      GM_OK);
  assert_false(f->topo.assumed);
  assert_false(f->topo.multi_die);
  assert_int_equal(f->topo.n_packages, 2);
  assert_int_equal(f->topo.packages[0].package_id, 0);
  assert_int_equal(f->topo.packages[0].lead_cpu, 0);
  assert_int_equal(f->topo.packages[0].n_cpus, 3);
  assert_int_equal(f->topo.packages[1].package_id, 1);
  assert_int_equal(f->topo.packages[1].lead_cpu, 1);
  assert_int_equal(gm__cpu_topology_package_of(&f->topo, 11), 0);
  assert_int_equal(gm__cpu_topology_package_of(&f->topo, 3), 1);
  assert_int_equal(gm__cpu_topology_package_of(&f->topo, 5), -1);
  assert_int_equal(gm__cpu_topology_package_of(&f->topo, 1000), -1);
  char label[32];
  gm__cpu_topology_label(&f->topo, 1, label, sizeof(label));
  assert_string_equal(label, "1");
  gm__cpu_topology_release(&f->topo);

  /* die scope */
  assert_int_equal(
      gm__cpu_topology_read(f->sysfs, true, &f->topo, f->err, sizeof(f->err)),
      GM_OK);
  assert_true(f->topo.multi_die);
  assert_int_equal(f->topo.n_packages, 3);
  assert_int_equal(f->topo.packages[1].package_id, 0);
  assert_int_equal(f->topo.packages[1].die_id, 1);
  assert_int_equal(f->topo.packages[1].lead_cpu, 2);
  assert_int_equal(f->topo.packages[1].n_cpus, 2);
  gm__cpu_topology_label(&f->topo, 1, label, sizeof(label));
  assert_string_equal(label, "0-die-1");
  gm__cpu_topology_release(&f->topo);

  /* malformed id */
  cpu(f, 4, "zero", NULL);
  assert_int_equal(
      gm__cpu_topology_read(f->sysfs, false, &f->topo, f->err, sizeof(f->err)),
      GM_ERR_PARSE);
  assert_non_null(strstr(f->err, "cpu4/topology/physical_package_id': 'zero'"));
}

static void test_topology_assumed(void **state) {
  struct fixture *f = *state;
  assert_int_equal(
      gm__cpu_topology_read(f->sysfs, true, &f->topo, f->err, sizeof(f->err)),
      GM_OK);
  assert_true(f->topo.assumed);
  assert_int_equal(f->topo.n_packages, 1);
  assert_int_equal(f->topo.packages[0].lead_cpu, 0);
  assert_int_equal(gm__cpu_topology_package_of(&f->topo, 0), 0);
}

/* ---- The source --------------------------------------------------------- */

static void test_source_no_pmu(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 85);
  cpu(f, 0, "0", "0");
  assert_int_equal(open_src(f), GM_ERR_UNAVAILABLE);
  assert_non_null(strstr(f->probe.reason,
                         "no RAPL PMU (virtual machine or unsupported CPU)"));
  assert_string_equal(f->probe.fix, "");
}

static void test_source_garbage_type(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 85);
  cpu(f, 0, "0", "0");
  intel_pmu(f, "garbage");
  assert_int_equal(open_src(f), GM_ERR_PARSE);
  assert_non_null(strstr(f->probe.reason, "power/type'"));
}

static void test_source_bogus_type_fails_cleanly(void **state) {
  struct fixture *f = *state;
  cpuinfo(f, "GenuineIntel", 6, 85);
  cpu(f, 0, "0", "0");
  cpu(f, 18, "1", "0");
  intel_pmu(f, "4242"); /* no PMU has this type */
  enum gm_status rc = open_src(f);
  /* ENOENT (unknown type) for a privileged caller, EACCES otherwise */
  assert_true(rc == GM_ERR_UNAVAILABLE || rc == GM_ERR_PERMISSION);
  assert_non_null(strstr(f->probe.reason, "perf_event_open(power/energy-pkg"));
  assert_non_null(strstr(f->probe.reason, "cpu 0"));
  if (rc == GM_ERR_UNAVAILABLE)
    assert_non_null(strstr(f->probe.reason, "type 4242, config 0x2"));
  else
    assert_non_null(strstr(f->probe.fix, "perf_event_paranoid"));
}

static bool perf_permitted(void) {
  if (geteuid() == 0)
    return true;
  FILE *p = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
  int v = 2;
  if (p) {
    if (fscanf(p, "%d", &v) != 1)
      v = 2;
    fclose(p);
  }
  return v <= 0;
}

/* The whole open + read path against a real PMU: the software PMU (type 1)
 * with cpu-clock (config 0) stands in for energy-pkg. */
static void test_source_reads_through_software_pmu(void **state) {
  struct fixture *f = *state;
  if (!perf_permitted())
    skip();
  cpuinfo(f, "GenuineIntel", 6, 85);
  cpu(f, 0, "0", "0");
  gmt_write(f->root, PMU "/type", "1\n");
  gmt_write(f->root, PMU "/cpumask", "0\n");
  event(f, "power", "energy-pkg", "event=0x00", "0.5", "Joules");
  event(f, "power", "energy-psys", "event=0x00", SCALE, "Joules");
  event(f, "power", "energy-ram", "event=0x99", SCALE, "Joules");
  enum gm_status rc = open_src(f);
  if (rc == GM_ERR_PERMISSION ||
      (rc == GM_ERR_UNAVAILABLE && strstr(f->probe.reason, "not accept")))
    skip(); /* perf events blocked (seccomp, lockdown) */
  assert_int_equal(rc, GM_OK);
  /* energy-ram (software config 0x99) is refused by the kernel: skipped */
  size_t n = gm__source_rapl_perf.component_count(f->self);
  assert_int_equal(n, 2);
  assert_non_null(strstr(f->probe.found, "not opened: power/energy-ram"));
  const struct gm_component_info *pkg =
      gm__source_rapl_perf.component(f->self, 0);
  assert_string_equal(pkg->name, "package-0");
  assert_string_equal(pkg->source, "rapl-perf");
  assert_string_equal(pkg->detail,
                      "perf power/energy-pkg on cpu0, scale 0.5 J");
  assert_int_equal(pkg->domain, GM_DOMAIN_PACKAGE);
  assert_int_equal(pkg->provenance, GM_PROV_MEASURED_COUNTER);
  assert_true(pkg->in_total);
  assert_true(pkg->wrap_j == 0);
  const struct gm_component_info *psys =
      gm__source_rapl_perf.component(f->self, n - 1);
  assert_string_equal(psys->name, "psys");
  assert_false(psys->in_total);
  assert_non_null(strstr(f->probe.found, "via perf PMU 'power' (type 1)"));

  struct gm__reading r[3];
  struct gm__tick tick = {.cpu_util_frac = NAN, .mem_used_bytes = NAN};
  assert_int_equal(gm__source_rapl_perf.read(f->self, &tick, r, NULL), GM_OK);
  assert_true(r[0].ok);
  assert_true(r[0].has_energy);
  assert_true(r[0].energy_j >= 0);
  /* count x scale: an integer count times 0.5 */
  assert_true(fmod(r[0].energy_j * 2.0, 1.0) == 0.0);
  double first = r[0].energy_j;
  assert_int_equal(gm__source_rapl_perf.read(f->self, &tick, r, NULL), GM_OK);
  assert_true(r[0].energy_j >= first); /* 64-bit count: never goes back */
}

static void test_source_amd_power_core(void **state) {
  struct fixture *f = *state;
  if (!perf_permitted())
    skip();
  cpuinfo(f, "AuthenticAMD", 25, 33);
  cpu(f, 0, "0", "0");
  gmt_write(f->root, PMU "/type", "1\n");
  event(f, "power", "energy-pkg", "event=0x00", SCALE, "Joules");
  gmt_write(f->root, "sys/bus/event_source/devices/power_core/type", "1\n");
  gmt_write(f->root, "sys/bus/event_source/devices/power_core/cpumask", "0\n");
  event(f, "power_core", "energy-core", "event=0x00", SCALE, "Joules");
  enum gm_status rc = open_src(f);
  if (rc == GM_ERR_PERMISSION)
    skip();
  assert_int_equal(rc, GM_OK);
  assert_int_equal(gm__source_rapl_perf.component_count(f->self), 2);
  const struct gm_component_info *core =
      gm__source_rapl_perf.component(f->self, 1);
  assert_string_equal(core->name, "cores-0");
  assert_false(core->in_total);
  assert_non_null(strstr(core->detail, "perf power_core/energy-core on cpu0"));
  assert_non_null(strstr(core->detail, "one core"));
}

/* An unprivileged caller gets PERMISSION with the fix. */
static void test_source_permission(void **state) {
  struct fixture *f = *state;
  FILE *p = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
  int paranoid = 2;
  if (p) {
    if (fscanf(p, "%d", &paranoid) != 1)
      paranoid = 2;
    fclose(p);
  }
  if (paranoid <= 0)
    skip();
  cpuinfo(f, "GenuineIntel", 6, 85);
  cpu(f, 0, "0", "0");
  gmt_write(f->root, "proc/sys/kernel/perf_event_paranoid", "2\n");
  gmt_write(f->root, PMU "/type", "1\n");
  event(f, "power", "energy-pkg", "event=0x00", SCALE, "Joules");
  assert_int_equal(chmod(f->root, 0755), 0);
  int rc = -1;
  if (geteuid() != 0) {
    rc = (int)open_src(f);
  } else {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fds[0]);
      int crc = -1;
      if (setgid(65534) == 0 && setuid(65534) == 0)
        crc = (int)gm__source_rapl_perf.open(&f->env, &f->self, &f->probe);
      if (write(fds[1], &crc, sizeof(crc)) != sizeof(crc) ||
          write(fds[1], &f->probe, sizeof(f->probe)) != sizeof(f->probe))
        _exit(2);
      _exit(0);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &rc, sizeof(rc)), sizeof(rc));
    assert_int_equal(read(fds[0], &f->probe, sizeof(f->probe)),
                     sizeof(f->probe));
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (rc == -1)
      skip();
  }
  assert_int_equal(rc, GM_ERR_PERMISSION);
  assert_non_null(strstr(f->probe.reason, "perf_event_open(power/energy-pkg"));
  assert_non_null(strstr(f->probe.reason, "it is 2"));
  assert_non_null(strstr(f->probe.fix, "kernel.perf_event_paranoid=0"));
  assert_non_null(strstr(f->probe.fix, "setcap cap_perfmon=ep"));
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_parse_intel_pmu),
      T(test_parse_events_subset),
      T(test_parse_scale_and_unit),
      T(test_parse_event_encodings),
      T(test_parse_garbage_type),
      T(test_parse_missing_pmu_and_events),
      T(test_parse_cpumask),
      T(test_parse_amd_power_core),
      T(test_cpu_list),
      T(test_cpu_ident),
      T(test_topology),
      T(test_topology_assumed),
      T(test_source_no_pmu),
      T(test_source_garbage_type),
      T(test_source_bogus_type_fails_cleanly),
      T(test_source_reads_through_software_pmu),
      T(test_source_amd_power_core),
      T(test_source_permission),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
