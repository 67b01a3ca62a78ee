/* test_cpu_model.c: the CPU TDP table, its matching, and the
 * "cpu-tdp-model" source on fake sysfs/procfs trees. */
#include "helpers.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meter/cpu_tdp.h"
#include "meter/source.h"

extern const char gm__data_cpu_tdp_csv[];
extern const size_t gm__data_cpu_tdp_csv_len;

/* ---- normalisation and lookup ----------------------------------------- */

static void check_norm(const char *in, const char *want) {
  char out[128];
  gm__cpu_tdp_normalise(in, out, sizeof(out));
  assert_string_equal(out, want);
}

static void test_normalise(void **state) {
  (void)state;
  check_norm("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
             "intel xeon gold 6248");
  check_norm("Intel(R) Xeon(R) CPU E5-2698 v4 @ 2.20GHz",
             "intel xeon e5-2698 v4");
  check_norm("12th Gen Intel(R) Core(TM) i7-12700H",
             "12th gen intel core i7-12700h");
  check_norm("AMD EPYC 7763 64-Core Processor", "amd epyc 7763 64-core");
  check_norm("  Intel(r)   Core(tm)  i7-8700K  CPU @ 3.70GHz ",
             "intel core i7-8700k");
  check_norm("Intel\xc2\xae Core\xe2\x84\xa2 i9-13900K",
             "intel core i9-13900k");
  check_norm("Intel(R) Xeon(R) CPU @ 2.20GHz", "intel xeon");
  check_norm("", "");
  char small[8];
  gm__cpu_tdp_normalise("AMD EPYC 7763", small, sizeof(small));
  assert_string_equal(small, "amd"); /* whole tokens only, never cut */
}

static void check_lookup(const char *brand, double want_w,
                         const char *want_model, const char *want_source) {
  double w = 0;
  const char *matched = NULL, *source = NULL;
  assert_int_equal(gm__cpu_tdp_lookup(brand, &w, &matched, &source), GM_OK);
  assert_true(w == want_w);
  assert_string_equal(matched, want_model);
  assert_string_equal(source, want_source);
}

static void test_lookup_real_strings(void **state) {
  (void)state;
  check_lookup("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 150,
               "Intel Xeon Gold 6248", "Intel ARK");
  check_lookup("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", 205,
               "Intel Xeon Gold 6248R", "Intel ARK");
  check_lookup("Intel(R) Xeon(R) CPU E5-2698 v4 @ 2.20GHz", 135,
               "Intel Xeon E5-2698 v4", "Intel ARK");
  check_lookup("Intel(R) Xeon(R) Platinum 8480+", 350,
               "Intel Xeon Platinum 8480+", "Intel ARK");
  check_lookup("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 95,
               "Intel Core i7-8700K", "Intel ARK");
  check_lookup("intel(r) core(tm) i7-8700k cpu @ 3.70ghz", 95,
               "Intel Core i7-8700K", "Intel ARK");
  check_lookup("12th Gen Intel(R) Core(TM) i7-12700H", 45,
               "Intel Core i7-12700H", "Intel ARK (Processor Base Power)");
  check_lookup("AMD EPYC 7763 64-Core Processor", 280, "AMD EPYC 7763",
               "AMD product page");
  /* whole tokens: 7502P is not 7502, 7950X3D is not 7950X */
  check_lookup("AMD EPYC 7502P 32-Core Processor", 180, "AMD EPYC 7502P",
               "AMD product page");
  check_lookup("AMD Ryzen 9 7950X3D 16-Core Processor", 120,
               "AMD Ryzen 9 7950X3D", "AMD product page");
  check_lookup("AMD Ryzen 9 7950X 16-Core Processor", 170, "AMD Ryzen 9 7950X",
               "AMD product page");
  check_lookup("AMD Ryzen Threadripper PRO 5995WX 64-Cores", 280,
               "AMD Ryzen Threadripper PRO 5995WX", "AMD product page");
  /* matched and source are optional */
  double w = 0;
  assert_int_equal(
      gm__cpu_tdp_lookup("AMD EPYC 9654 96-Core Processor", &w, NULL, NULL),
      GM_OK);
  assert_true(w == 360);
}

static void test_lookup_not_found(void **state) {
  (void)state;
  const char *none[] = {
      "Intel(R) Xeon(R) CPU @ 2.20GHz", /* cloud VM: no model number */
      "Intel(R) Xeon(R) CPU @ 2.80GHz",
      "AMD EPYC 7B13",           /* cloud-only SKU, not in the table */
      "AMD EPYC 7R13 Processor", /* ditto */
      "AMD EPYC 64-Core Processor",
      "Genuine Intel(R) CPU 0000%@",
      "ARMv8 Processor rev 1 (v8l)",
      "QEMU Virtual CPU version 2.5+",
      "Intel(R) Core(TM) i7-1270",
      "",
  };
  for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
    double w = -1;
    const char *matched = "untouched";
    assert_int_equal(gm__cpu_tdp_lookup(none[i], &w, &matched, NULL),
                     GM_ERR_NOT_FOUND);
    assert_true(w == -1);
    assert_string_equal(matched, "untouched");
  }
  double w;
  assert_int_equal(gm__cpu_tdp_lookup(NULL, &w, NULL, NULL),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm__cpu_tdp_lookup("AMD EPYC 7763", NULL, NULL, NULL),
                   GM_ERR_INVALID_ARG);
}

/* Data lines of the embedded CSV: not blank, not a comment, not the header. */
static size_t csv_data_lines(const char *text, size_t len) {
  size_t n = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
      p++;
    if (p < e && *p != '#')
      n++;
    p = nl ? nl + 1 : end;
  }
  return n > 0 ? n - 1 : 0;
}

static void test_table_rows(void **state) {
  (void)state;
  size_t n = gm__cpu_tdp_count();
  assert_true(n >= 60);
  /* every data line parsed: nothing silently skipped */
  assert_int_equal(
      n, csv_data_lines(gm__data_cpu_tdp_csv, gm__data_cpu_tdp_csv_len));
  for (size_t i = 0; i < n; i++) {
    const char *model = NULL, *source = NULL;
    double w = 0;
    assert_int_equal(gm__cpu_tdp_at(i, &model, &w, &source), GM_OK);
    assert_true(w > 0 && w <= 500);
    assert_true(strncmp(source, "Intel ARK", 9) == 0 ||
                strcmp(source, "AMD product page") == 0);
    /* each row finds itself: no duplicate and no row shadowing another */
    double w2 = 0;
    const char *m2 = NULL;
    assert_int_equal(gm__cpu_tdp_lookup(model, &w2, &m2, NULL), GM_OK);
    assert_string_equal(m2, model);
    assert_true(w2 == w);
  }
  assert_int_equal(gm__cpu_tdp_at(n, NULL, NULL, NULL), GM_ERR_INVALID_ARG);
}

/* ---- the source on fake trees ----------------------------------------- */

struct fixture {
  char *root;
  char *sysfs;
  char *procfs;
  struct gm__env env;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  f->root = gmt_mkdtemp();
  gmt_mkdirs(f->root, "sys");
  gmt_mkdirs(f->root, "proc");
  f->sysfs = gmt_path(f->root, "sys");
  f->procfs = gmt_path(f->root, "proc");
  f->env.sysfs = f->sysfs;
  f->env.procfs = f->procfs;
  f->env.devfs = "/nonexistent";
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  gmt_rmtree(f->root);
  free(f->root);
  free(f->sysfs);
  free(f->procfs);
  free(f);
  return 0;
}

/* A /proc/cpuinfo with n_cpus logical CPUs spread over `sockets` sockets. */
static void write_cpuinfo(struct fixture *f, const char *model, int n_cpus,
                          int sockets) {
  char *text = calloc(1, 16384);
  assert_non_null(text);
  size_t used = 0;
  for (int c = 0; c < n_cpus; c++) {
    used += (size_t)snprintf(text + used, 16384 - used,
                             "processor\t: %d\nvendor_id\t: GenuineIntel\n"
                             "model name\t: %s\nphysical id\t: %d\n"
                             "core id\t\t: %d\n\n",
                             c, model, c * sockets / n_cpus, c);
  }
  gmt_write(f->root, "proc/cpuinfo", "%s", text);
  free(text);
}

static void write_zone(struct fixture *f, const char *zone, const char *name) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/name", zone);
  gmt_write(f->root, rel, "%s\n", name);
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/energy_uj", zone);
  gmt_write(f->root, rel, "123456\n");
}

static void write_constraint(struct fixture *f, const char *zone, int j,
                             const char *name, unsigned long long max_uw,
                             unsigned long long limit_uw) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/constraint_%d_name", zone,
           j);
  gmt_write(f->root, rel, "%s\n", name);
  snprintf(rel, sizeof(rel), "sys/class/powercap/%s/constraint_%d_max_power_uw",
           zone, j);
  gmt_write(f->root, rel, "%llu\n", max_uw);
  snprintf(rel, sizeof(rel),
           "sys/class/powercap/%s/constraint_%d_power_limit_uw", zone, j);
  gmt_write(f->root, rel, "%llu\n", limit_uw);
}

/* Two packages: package-0 long_term max 150 W (limit 120 W, ignored),
 * package-1 long_term max 0 so its 125 W limit counts; plus zones that must
 * be ignored: a dram subzone, psys, and the MMIO duplicate. */
static void write_two_packages(struct fixture *f) {
  write_zone(f, "intel-rapl:0", "package-0");
  write_constraint(f, "intel-rapl:0", 0, "long_term", 150000000, 120000000);
  write_constraint(f, "intel-rapl:0", 1, "short_term", 180000000, 180000000);
  write_zone(f, "intel-rapl:1", "package-1");
  write_constraint(f, "intel-rapl:1", 0, "short_term", 200000000, 200000000);
  write_constraint(f, "intel-rapl:1", 1, "long_term", 0, 125000000);
  write_zone(f, "intel-rapl:0:0", "dram");
  write_constraint(f, "intel-rapl:0:0", 0, "long_term", 40000000, 40000000);
  write_zone(f, "intel-rapl:2", "psys");
  write_constraint(f, "intel-rapl:2", 0, "long_term", 500000000, 500000000);
  write_zone(f, "intel-rapl-mmio:0", "package-0");
  write_constraint(f, "intel-rapl-mmio:0", 0, "long_term", 99000000, 99000000);
}

struct opened {
  void *self;
  struct gm_probe probe;
  const struct gm_component_info *info;
};

static void open_source(struct fixture *f, struct opened *o) {
  memset(o, 0, sizeof(*o));
  assert_string_equal(gm__source_cpu_model.name, "cpu-tdp-model");
  assert_int_equal(gm__source_cpu_model.open(&f->env, &o->self, &o->probe),
                   GM_OK);
  assert_non_null(o->self);
  assert_int_equal(gm__source_cpu_model.component_count(o->self), 1);
  o->info = gm__source_cpu_model.component(o->self, 0);
  assert_non_null(o->info);
  assert_string_equal(o->info->name, "cpu");
  assert_string_equal(o->info->source, "cpu-tdp-model");
  assert_int_equal(o->info->kind, GM_KIND_CPU);
  assert_int_equal(o->info->domain, GM_DOMAIN_PACKAGE);
  assert_int_equal(o->info->provenance, GM_PROV_MODELLED);
  assert_true(o->info->in_total);
  assert_true(o->info->power_interval_mean);
  assert_string_equal(o->probe.reason, "");
}

/* Reads once at utilisation u and returns the power. */
static double power_at(struct opened *o, double u) {
  struct gm__tick tick = {.t_ns = 1, .cpu_util_frac = u, .mem_used_bytes = NAN};
  struct gm__reading r;
  memset(&r, 0xA5, sizeof(r));
  assert_int_equal(gm__source_cpu_model.read(o->self, &tick, &r, NULL), GM_OK);
  assert_true(r.ok);
  assert_false(r.has_energy);
  assert_false(r.lost);
  assert_true(r.has_power);
  return r.power_w;
}

static void close_source(struct opened *o) {
  gm__source_cpu_model.close(o->self);
}

static void test_powercap_two_packages(void **state) {
  struct fixture *f = *state;
  write_two_packages(f);
  /* a table match would give 300 W: the constraints come first */
  write_cpuinfo(f, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 4, 2);
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 275.0);
  assert_true(power_at(&o, 0.25) == 0.25 * 275.0);
  assert_non_null(strstr(o.info->detail, "TDP 275 W (RAPL long_term"));
  assert_non_null(strstr(o.info->detail, "x CPU utilisation"));
  assert_non_null(strstr(o.probe.found, "package-0 150 W"));
  assert_non_null(strstr(o.probe.found, "package-1 125 W"));
  assert_null(strstr(o.probe.found, "psys"));
  assert_non_null(strstr(o.probe.fix, "grant RAPL access"));
  close_source(&o);
}

static void test_powercap_incomplete_falls_to_table(void **state) {
  struct fixture *f = *state;
  write_zone(f, "intel-rapl:0", "package-0");
  write_constraint(f, "intel-rapl:0", 0, "long_term", 150000000, 150000000);
  write_zone(f, "intel-rapl:1", "package-1"); /* AMD-like: no constraints */
  write_cpuinfo(f, "AMD EPYC 7763 64-Core Processor", 8, 1);
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 280.0);
  assert_non_null(strstr(o.info->detail, "table: AMD EPYC 7763"));
  close_source(&o);
}

static void test_table_two_sockets(void **state) {
  struct fixture *f = *state;
  write_cpuinfo(f, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 8, 2);
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 300.0);
  assert_true(power_at(&o, 0.25) == 75.0);
  assert_string_equal(o.info->detail,
                      "TDP 300 W (table: Intel Xeon Gold 6248 x 2 sockets, "
                      "source Intel ARK) x CPU utilisation");
  assert_non_null(strstr(o.probe.found, "'Intel Xeon Gold 6248' (150 W"));
  assert_non_null(strstr(o.probe.fix, "pass --cpu-tdp W"));
  assert_non_null(strstr(o.probe.fix, "grant RAPL access"));
  close_source(&o);
}

static void test_override_wins(void **state) {
  struct fixture *f = *state;
  write_two_packages(f);
  write_cpuinfo(f, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 4, 2);
  f->env.cpu_tdp_w = 200;
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 200.0);
  assert_true(power_at(&o, 0.25) == 50.0);
  assert_string_equal(o.info->detail,
                      "TDP 200 W (--cpu-tdp) x CPU utilisation");
  assert_string_equal(o.probe.found, "TDP 200 W from --cpu-tdp");
  assert_string_equal(o.probe.fix, "");
  close_source(&o);
}

static void test_default_unknown_model(void **state) {
  struct fixture *f = *state;
  write_cpuinfo(f, "Intel(R) Xeon(R) CPU @ 2.20GHz", 4, 2);
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 170.0);
  assert_non_null(strstr(o.info->detail, "default 85 W per socket x 2"));
  assert_non_null(strstr(o.info->detail, "CodeCarbon"));
  assert_non_null(strstr(o.probe.found, "Intel(R) Xeon(R) CPU @ 2.20GHz"));
  assert_non_null(strstr(o.probe.fix, "pass --cpu-tdp W"));
  assert_non_null(strstr(o.probe.fix, "grant RAPL access"));
  close_source(&o);
}

static void test_default_no_cpuinfo(void **state) {
  struct fixture *f = *state;
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 1.0) == 85.0);
  assert_non_null(strstr(o.probe.found, "no model name"));
  close_source(&o);
}

static void test_read_utilisation(void **state) {
  struct fixture *f = *state;
  write_cpuinfo(f, "AMD EPYC 7763 64-Core Processor", 2, 1);
  struct opened o;
  open_source(f, &o);
  assert_true(power_at(&o, 0.25) == 0.25 * 280.0);
  assert_true(power_at(&o, 0.0) == 0.0);
  assert_true(power_at(&o, 1.0) == 280.0);
  /* first tick: no interval yet, so no power, but not an error */
  struct gm__tick tick = {
      .t_ns = 1, .cpu_util_frac = NAN, .mem_used_bytes = NAN};
  struct gm__reading r;
  memset(&r, 0xA5, sizeof(r));
  assert_int_equal(gm__source_cpu_model.read(o.self, &tick, &r, NULL), GM_OK);
  assert_true(r.ok);
  assert_false(r.has_power);
  assert_false(r.has_energy);
  assert_false(r.lost);
  close_source(&o);
  gm__source_cpu_model.close(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalise),
      cmocka_unit_test(test_lookup_real_strings),
      cmocka_unit_test(test_lookup_not_found),
      cmocka_unit_test(test_table_rows),
      cmocka_unit_test_setup_teardown(test_powercap_two_packages, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_powercap_incomplete_falls_to_table,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_table_two_sockets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_override_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_default_unknown_model, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_default_no_cpuinfo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_utilisation, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
