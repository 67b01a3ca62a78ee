/* test_idle_baseline.c: which idle baseline applies where (gm_energy_idle_match
 * and the run record), how busy the CPU was while a baseline was measured,
 * the noise of a net energy, and baselines stored before their
 * configuration was recorded. The meters run on a fake machine: the CPU
 * modelled as TDP x utilisation from a /proc/stat whose busy share a thread
 * sets, the DRAM modelled from the DIMM listing of the fixtures. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "greenml/energy.h"
#include "greenml/idle.h"
#include "greenml/run.h"
#include "greenml/store.h"
#include "helpers.h"

/* ---- matching, on baselines made by hand ----------------------------------
 */

#define CPU65 "TDP 65 W (--cpu-tdp) x CPU utilisation"
#define CPU15 "TDP 15 W (--cpu-tdp) x CPU utilisation"
#define DRAM31                                                                 \
  "4 DIMMs (dmidecode) x 1/2 C V^2 f, C=3.1 nF, V=1.2 V, f=1.6 GHz -> 4 x "    \
  "2.98 W"
#define DRAM20                                                                 \
  "4 DIMMs (dmidecode) x 1/2 C V^2 f, C=2 nF, V=1.2 V, f=1.6 GHz -> 4 x 1.92 " \
  "W"
#define GPU_A "NVIDIA A100-SXM4-40GB, arch Ampere, UUID GPU-aaaa, driver 535.1"
#define GPU_B "NVIDIA A100-SXM4-40GB, arch Ampere, UUID GPU-bbbb, driver 535.1"

static struct gm_component_info comp(const char *name, const char *source,
                                     enum gm_kind kind, enum gm_provenance prov,
                                     const char *detail) {
  struct gm_component_info c;
  memset(&c, 0, sizeof(c));
  snprintf(c.name, sizeof(c.name), "%s", name);
  snprintf(c.source, sizeof(c.source), "%s", source);
  snprintf(c.detail, sizeof(c.detail), "%s", detail);
  c.kind = kind;
  c.provenance = prov;
  c.in_total = true;
  return c;
}

/* A baseline #7 measured with --cpu-tdp 65 and the default capacitance. */
static struct gm_idle_entry entries[3] = {
    {"cpu", "cpu-tdp-model", 1.3, 0.2, 100, CPU65},
    {"dram", "dram-model", 11.9, 0.0, 100, DRAM31},
    {"gpu0", "nvml", 52.0, 1.5, 100, GPU_A}};
static const struct gm_idle_baseline base = {.id = 7,
                                             .duration_s = 10,
                                             .n = 3,
                                             .entries = entries,
                                             .interval_s = 0.1,
                                             .cpu_tdp_w = 65,
                                             .dimm_capacitance_f = 0,
                                             .cpu_util_pct = 2};

static void same_configuration_applies(void **state) {
  (void)state;
  struct gm_component_info c =
      comp("cpu", "cpu-tdp-model", GM_KIND_CPU, GM_PROV_MODELLED, CPU65);
  const struct gm_idle_entry *e = NULL;
  char why[512] = "x";
  assert_int_equal(gm_energy_idle_match(&base, &c, &e, why, sizeof(why)),
                   GM_IDLE_MATCH);
  assert_ptr_equal(e, &entries[0]);
  assert_string_equal(why, "");
  struct gm_component_info g =
      comp("gpu0", "nvml", GM_KIND_GPU, GM_PROV_MEASURED_COUNTER, GPU_A);
  assert_int_equal(gm_energy_idle_match(&base, &g, &e, NULL, 0), GM_IDLE_MATCH);
  assert_double_equal(e->mean_power_w, 52.0, 0);
}

/* The case: a baseline at one TDP, a run at another. */
static void another_tdp_does_not_apply(void **state) {
  (void)state;
  struct gm_component_info c =
      comp("cpu", "cpu-tdp-model", GM_KIND_CPU, GM_PROV_MODELLED, CPU15);
  const struct gm_idle_entry *e = &entries[0];
  char why[512];
  assert_int_equal(gm_energy_idle_match(&base, &c, &e, why, sizeof(why)),
                   GM_IDLE_OTHER_CONFIG);
  assert_null(e);
  assert_string_equal(why, "the baseline #7 was measured with --cpu-tdp 65 "
                           "('" CPU65 "'), this run uses '" CPU15 "'");
}

static void another_dimm_capacitance_does_not_apply(void **state) {
  (void)state;
  struct gm_component_info c =
      comp("dram", "dram-model", GM_KIND_DRAM, GM_PROV_MODELLED, DRAM20);
  char why[512];
  assert_int_equal(gm_energy_idle_match(&base, &c, NULL, why, sizeof(why)),
                   GM_IDLE_OTHER_CONFIG);
  /* measured with the default C: no flag to name */
  assert_string_equal(why, "the baseline #7 was measured with '" DRAM31
                           "', this run uses '" DRAM20 "'");
  struct gm_idle_baseline b = base;
  b.dimm_capacitance_f = 3.1e-9;
  assert_int_equal(gm_energy_idle_match(&b, &c, NULL, why, sizeof(why)),
                   GM_IDLE_OTHER_CONFIG);
  assert_non_null(strstr(why, "with --dimm-capacitance 3.1e-09 ('"));
}

/* A measured component's detail names its device: another GPU in the same
 * slot is another component. */
static void another_device_does_not_apply(void **state) {
  (void)state;
  struct gm_component_info g =
      comp("gpu0", "nvml", GM_KIND_GPU, GM_PROV_MEASURED_COUNTER, GPU_B);
  char why[512];
  assert_int_equal(gm_energy_idle_match(&base, &g, NULL, why, sizeof(why)),
                   GM_IDLE_OTHER_CONFIG);
  assert_non_null(strstr(why, "UUID GPU-aaaa"));
  assert_non_null(strstr(why, "this run uses '" GPU_B "'"));
}

static void absent_components_do_not_apply(void **state) {
  (void)state;
  char why[512];
  struct gm_component_info p =
      comp("package-0", "rapl-powercap", GM_KIND_CPU, GM_PROV_MEASURED_COUNTER,
           "powercap zone 'intel-rapl:0' (package-0), counter range 262143 J");
  assert_int_equal(gm_energy_idle_match(&base, &p, NULL, why, sizeof(why)),
                   GM_IDLE_NO_ENTRY);
  assert_string_equal(
      why, "the baseline #7 has no entry for package-0 (rapl-powercap)");
  /* the same name from another source is another component */
  struct gm_component_info c =
      comp("cpu", "rapl-msr", GM_KIND_CPU, GM_PROV_MEASURED_COUNTER, "MSR");
  assert_int_equal(gm_energy_idle_match(&base, &c, NULL, why, sizeof(why)),
                   GM_IDLE_NO_ENTRY);
  assert_string_equal(why, "the baseline #7 measured cpu with cpu-tdp-model, "
                           "this run uses rapl-msr");
  assert_int_equal(gm_energy_idle_match(NULL, &c, NULL, why, sizeof(why)),
                   GM_IDLE_NO_BASELINE);
}

static void unrecorded_entries_do_not_apply(void **state) {
  (void)state;
  struct gm_idle_entry old = {"cpu", "cpu-tdp-model", 1.3, 0.2, 0, ""};
  struct gm_idle_baseline b = {.n = 1, .entries = &old, .interval_s = NAN};
  struct gm_component_info c =
      comp("cpu", "cpu-tdp-model", GM_KIND_CPU, GM_PROV_MODELLED, CPU65);
  char why[512];
  assert_int_equal(gm_energy_idle_match(&b, &c, NULL, why, sizeof(why)),
                   GM_IDLE_UNRECORDED);
  /* not stored: no id to name */
  assert_string_equal(why, "the baseline was stored without the configuration "
                           "it was measured with, so it cannot be checked "
                           "against this run");
}

/* ---- the noise of a net energy --------------------------------------------
 */

static void noise_bound(void **state) {
  (void)state;
  /* sd 2 W over 100 intervals of 0.1 s; a 10 s window: 2 x 2 x sqrt(100 /
   * 100 + 10 x 0.1) = 4 sqrt 2 */
  assert_double_equal(gm_energy_net_noise_j(2.0, 100, 10.0, 10.0),
                      4 * sqrt(2.0), 1e-12);
  /* a 1000 s window: the idle mean's error dominates (2 x 2 x 1000 / 10) */
  assert_double_equal(gm_energy_net_noise_j(2.0, 100, 10.0, 1000.0),
                      4 * sqrt(1e6 / 100 + 100), 1e-9);
  assert_double_equal(gm_energy_net_noise_j(0.0, 100, 10.0, 10.0), 0, 0);
  assert_true(isnan(gm_energy_net_noise_j(2.0, 0, 10.0, 10.0)));
  assert_true(isnan(gm_energy_net_noise_j(NAN, 100, 10.0, 10.0)));
  assert_true(isnan(gm_energy_net_noise_j(2.0, 100, 0.0, 10.0)));

  double noise = 4 * sqrt(2.0); /* 5.66 J */
  assert_int_equal(gm_energy_net_check(100, 10, noise), GM_NET_ABOVE_NOISE);
  assert_int_equal(gm_energy_net_check(100, 3, noise), GM_NET_WITHIN_NOISE);
  assert_int_equal(gm_energy_net_check(100, -3, noise), GM_NET_WITHIN_NOISE);
  assert_int_equal(gm_energy_net_check(100, -10, noise), GM_NET_NEGATIVE);
  assert_int_equal(gm_energy_net_check(100, NAN, noise), GM_NET_UNKNOWN);
  /* unknown noise: only rounding is noise */
  assert_int_equal(gm_energy_net_check(100, -0.001, NAN), GM_NET_NEGATIVE);
  assert_int_equal(gm_energy_net_check(100, 0.001, NAN), GM_NET_ABOVE_NOISE);
  /* a constant model's net is 0 up to rounding: within noise, never below */
  assert_int_equal(gm_energy_net_check(2.8, -4.4e-16, 0), GM_NET_WITHIN_NOISE);
  assert_string_equal(gm_net_check_name(GM_NET_NEGATIVE), "negative");
  assert_string_equal(gm_net_check_name(GM_NET_WITHIN_NOISE), "within noise");

  /* a total: the parts' noises in quadrature (3 J and 4 J give 5 J) */
  struct gm_energy_part p[3] = {
      {.provenance = GM_PROV_MODELLED,
       .in_total = true,
       .gross_j = 100,
       .idle_w = 9,
       .idle_sd_w = 1.5 / sqrt(2.0), /* 2 x sd x sqrt(1 + 1) = 3 */
       .idle_n = 100,
       .idle_duration_s = 10},
      {.provenance = GM_PROV_MODELLED,
       .in_total = true,
       .gross_j = 50,
       .idle_w = 4,
       .idle_sd_w = 2 / sqrt(2.0), /* 4 */
       .idle_n = 100,
       .idle_duration_s = 10},
      {.provenance = GM_PROV_MODELLED, /* inside another: not summed */
       .in_total = false,
       .gross_j = 50,
       .idle_w = 4,
       .idle_sd_w = 100,
       .idle_n = 100,
       .idle_duration_s = 10}};
  struct gm_energy_total t;
  gm_energy_account(p, 3, 10.0, &t); /* net 150 - 130 = 20 J */
  assert_double_equal(t.net_j, 20, 1e-12);
  assert_double_equal(t.net_noise_j, 5, 1e-12);
  assert_int_equal(t.net_check, GM_NET_ABOVE_NOISE);
  p[0].gross_j = 70; /* net -10 J */
  gm_energy_account(p, 3, 10.0, &t);
  assert_int_equal(t.net_check, GM_NET_NEGATIVE);
  p[1].idle_n = 0; /* a part's spread unknown: so is the total's */
  gm_energy_account(p, 3, 10.0, &t);
  assert_true(isnan(t.net_noise_j));
  assert_int_equal(t.net_check, GM_NET_NEGATIVE);
}

/* ---- on a fake machine ----------------------------------------------------
 */

/* A /proc/stat whose busy and idle times grow by busy_pct and 100 - busy_pct
 * ticks every millisecond, rewritten in place (the meter keeps the file
 * open; every write has the same length). */
struct stat_writer {
  char path[600];
  unsigned busy_pct;
  pthread_t thread;
  atomic_bool stop;
};

static bool write_stat(int fd, unsigned long long busy,
                       unsigned long long idle) {
  char buf[160];
  int n = snprintf(buf, sizeof(buf),
                   "cpu  %012llu 0 0 %012llu 0 0 0 0 0 0\n"
                   "cpu0 %012llu 0 0 %012llu 0 0 0 0 0 0\nintr 1 2 3\n",
                   busy, idle, busy, idle);
  return n > 0 && (size_t)n < sizeof(buf) && pwrite(fd, buf, (size_t)n, 0) == n;
}

static void *stat_main(void *arg) {
  struct stat_writer *w = arg;
  int fd = open(w->path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  unsigned long long busy = 1, idle = 1;
  while (!atomic_load(&w->stop)) {
    busy += w->busy_pct;
    idle += 100 - w->busy_pct;
    if (!write_stat(fd, busy, idle))
      break;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  close(fd);
  return NULL;
}

struct machine {
  char *root;
  char sys[512], proc[512], dev[512];
  struct stat_writer w;
};

static void machine_up(struct machine *m, unsigned busy_pct) {
  m->root = gmt_mkdtemp();
  gmt_write(m->root, "proc/stat",
            "cpu  %012llu 0 0 %012llu 0 0 0 0 0 0\n"
            "cpu0 %012llu 0 0 %012llu 0 0 0 0 0 0\nintr 1 2 3\n",
            1ULL, 1ULL, 1ULL, 1ULL);
  gmt_write(m->root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
  gmt_write(m->root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test\n");
  gmt_mkdirs(m->root, "sys");
  gmt_mkdirs(m->root, "dev");
  gmt_roots(m->root, m->sys, m->proc, m->dev, sizeof(m->sys));
  snprintf(m->w.path, sizeof(m->w.path), "%s/stat", m->proc);
  m->w.busy_pct = busy_pct;
  atomic_init(&m->w.stop, false);
  assert_int_equal(pthread_create(&m->w.thread, NULL, stat_main, &m->w), 0);
}

static void machine_down(struct machine *m) {
  atomic_store(&m->w.stop, true);
  pthread_join(m->w.thread, NULL);
  gmt_rmtree(m->root);
  free(m->root);
}

static struct gm_meter_config config(struct machine *m, double tdp_w) {
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = m->sys;
  c.procfs_root = m->proc;
  c.devfs_root = m->dev;
  c.no_gpu = true;
  c.cpu_tdp_w = tdp_w;
  c.dmidecode_file = GM_TEST_FIXTURES "/dmidecode-ddr4.txt";
  c.interval_ns = 20 * INT64_C(1000000);
  return c;
}

static struct gm_idle_baseline *measure_idle(struct gm_meter_config *c) {
  struct gm_idle_baseline *b = NULL;
  char err[256] = "";
  assert_int_equal(gm_idle_measure(c, 400 * INT64_C(1000000), NULL, NULL, &b,
                                   err, sizeof(err)),
                   GM_OK);
  b->id = 7;
  return b;
}

/* A run of about 0.4 s on a meter made from c, with b applied. */
static struct gm_run_record *run(struct gm_meter_config *c,
                                 const struct gm_idle_baseline *b) {
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(c, &m), GM_OK);
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct timespec ts = {0, 400 * 1000000};
  nanosleep(&ts, NULL);
  gm_meter_stop(m);
  struct gm_run_record *r = NULL;
  assert_int_equal(gm_run_record_from_meter(m, b, &r), GM_OK);
  gm_meter_destroy(m);
  return r;
}

static const struct gm_idle_entry *entry(const struct gm_idle_baseline *b,
                                         const char *name) {
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0)
      return &b->entries[i];
  fail_msg("no entry '%s'", name);
  return NULL;
}

static const struct gm_run_component *component(const struct gm_run_record *r,
                                                const char *name) {
  for (size_t i = 0; i < r->n_components; i++)
    if (strcmp(r->components[i].info.name, name) == 0)
      return &r->components[i];
  fail_msg("no component '%s'", name);
  return NULL;
}

/* The fault, through the record: a baseline at one TDP, a run at
 * another. Before: the CPU's net was gross - P_idle(65 W model) x T, far
 * below zero; now it is unknown with the reason, and the DRAM, measured the
 * same way, keeps its net. */
static void record_applies_only_matching_entries(void **state) {
  (void)state;
  struct machine mc;
  machine_up(&mc, 5);
  struct gm_meter_config c65 = config(&mc, 65), c15 = config(&mc, 15);
  struct gm_idle_baseline *b = measure_idle(&c65);
  assert_double_equal(b->cpu_tdp_w, 65, 0);
  assert_double_equal(b->interval_s, 0.02, 1e-12);
  assert_double_equal(entry(b, "cpu")->n_intervals,
                      floor(b->duration_s / 0.02 + 0.5), 0);
  assert_double_equal(b->cpu_util_pct, 5, 1e-6);
  assert_false(b->busy);

  struct gm_run_record *r = run(&c15, b);
  const struct gm_run_component *cpu = component(r, "cpu"),
                                *dram = component(r, "dram");
  assert_true(cpu->stats.energy_j > 0);
  assert_int_equal(cpu->idle_match, GM_IDLE_OTHER_CONFIG);
  assert_true(isnan(cpu->idle_w));
  assert_true(isnan(cpu->net_energy_j));
  assert_int_equal(cpu->net_check, GM_NET_UNKNOWN);
  assert_non_null(strstr(cpu->net_reason, "the baseline #7 was measured with "
                                          "--cpu-tdp 65 ('TDP 65 W"));
  assert_non_null(strstr(cpu->net_reason, "this run uses 'TDP 15 W"));
  assert_int_equal(dram->idle_match, GM_IDLE_MATCH);
  assert_string_equal(dram->net_reason, "");
  assert_double_equal(dram->net_energy_j,
                      dram->stats.energy_j - dram->idle_w * r->duration_s,
                      1e-9);
  /* a constant model drew exactly its idle power: net 0, within noise */
  assert_int_equal(dram->net_check, GM_NET_WITHIN_NOISE);
  assert_true(isnan(r->total.net_j));
  gm_run_record_free(r);

  /* the same TDP: it applies, and 5 % of 65 W idle against 5 % of 65 W
   * running is no more than noise */
  r = run(&c65, b);
  cpu = component(r, "cpu");
  assert_int_equal(cpu->idle_match, GM_IDLE_MATCH);
  assert_double_equal(cpu->idle_w, 3.25, 1e-6);
  assert_false(isnan(r->total.net_j));
  assert_true(fabs(cpu->net_energy_j) < 0.2);
  gm_run_record_free(r);

  /* another DIMM capacitance: the DRAM model's constants differ */
  struct gm_meter_config cdimm = c65;
  cdimm.dimm_capacitance_f = 2e-9;
  r = run(&cdimm, b);
  dram = component(r, "dram");
  assert_int_equal(dram->idle_match, GM_IDLE_OTHER_CONFIG);
  assert_non_null(strstr(dram->net_reason, "C=3.1 nF"));
  assert_non_null(strstr(dram->net_reason, "C=2 nF"));
  assert_int_equal(component(r, "cpu")->idle_match, GM_IDLE_MATCH);
  gm_run_record_free(r);
  gm_idle_baseline_free(b);
  machine_down(&mc);
}

/* The busy check: the idle window's mean CPU utilisation, and the flag. */
static void busy_window_is_flagged(void **state) {
  (void)state;
  struct machine mc;
  machine_up(&mc, 95);
  struct gm_meter_config c = config(&mc, 20);
  struct gm_idle_baseline *b = measure_idle(&c);
  assert_double_equal(b->cpu_util_pct, 95, 1e-6);
  assert_true(b->busy);
  /* the model took 95 % of its TDP as idle power */
  assert_double_equal(entry(b, "cpu")->mean_power_w, 19, 1e-6);
  machine_down(&mc);

  /* the same baseline applied on a quiet machine (the stored flag says it
   * cannot be trusted): the CPU's net falls below zero beyond the noise */
  machine_up(&mc, 2);
  c = config(&mc, 20);
  struct gm_run_record *r = run(&c, b);
  const struct gm_run_component *cpu = component(r, "cpu");
  assert_int_equal(cpu->idle_match, GM_IDLE_MATCH);
  assert_true(cpu->net_energy_j < -5);
  assert_int_equal(cpu->net_check, GM_NET_NEGATIVE);
  assert_int_equal(r->total.net_check, GM_NET_NEGATIVE);
  gm_run_record_free(r);
  gm_idle_baseline_free(b);

  b = measure_idle(&c);
  assert_double_equal(b->cpu_util_pct, 2, 1e-6);
  assert_false(b->busy);
  gm_idle_baseline_free(b);
  machine_down(&mc);
  assert_true(GM_IDLE_BUSY_PCT == 10.0);
}

/* ---- baselines from before schema 3 ---------------------------------------
 */

static void exec_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("%s: %s", sql, msg ? msg : "?");
  sqlite3_close(db);
}

/* A schema-2 database's baseline survives the migration, with its
 * configuration unknown, and applies to nothing. */
static void old_baselines_migrate_and_apply_to_nothing(void **state) {
  (void)state;
  char *dir = gmt_mkdtemp();
  char *path = gmt_path(dir, "old.db");
  struct gm_store *st = NULL;
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  gm_store_close(st);
  exec_sql(path, gmt_sql_undo_schemas_5_9());
  exec_sql(path, "ALTER TABLE runs DROP COLUMN incomplete_cause;"
                 "ALTER TABLE runs DROP COLUMN stored_until_s;"
                 "ALTER TABLE runs DROP COLUMN lost_samples;"
                 "ALTER TABLE idle_components DROP COLUMN detail;"
                 "ALTER TABLE idle_baselines DROP COLUMN interval_s;"
                 "ALTER TABLE idle_baselines DROP COLUMN cpu_tdp_w;"
                 "ALTER TABLE idle_baselines DROP COLUMN dimm_capacitance_f;"
                 "ALTER TABLE idle_baselines DROP COLUMN cpu_util_pct;"
                 "ALTER TABLE idle_baselines DROP COLUMN busy;"
                 "INSERT INTO hosts(id, fingerprint, first_seen, last_seen) "
                 "VALUES (1, 'h', 'x', 'x');"
                 "INSERT INTO idle_baselines(id, host_id, measured_at, "
                 "duration_s) VALUES (3, 1, '2024-01-01T00:00:00Z', 30);"
                 "INSERT INTO idle_components VALUES "
                 "(3, 'cpu', 'cpu-tdp-model', 85.0, 0.0, 0);"
                 "PRAGMA user_version=2;");
  /* read-only: schema 2 as it is */
  assert_int_equal(gm_store_open_readonly(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), 2);
  struct gm_idle_baseline *b = NULL;
  assert_int_equal(gm_store_load_idle_id(st, 3, &b), GM_OK);
  assert_string_equal(b->entries[0].detail, "");
  assert_true(isnan(b->interval_s));
  gm_idle_baseline_free(b);
  gm_store_close(st);
  /* read-write: migrated to the current schema, the old row kept */
  assert_int_equal(gm_store_open(path, &st, NULL, 0), GM_OK);
  assert_int_equal(gm_store_schema_version(st), GM_STORE_SCHEMA_VERSION);
  assert_int_equal(gm_store_load_idle(st, 1, &b), GM_OK);
  assert_int_equal(b->id, 3);
  assert_int_equal(b->n, 1);
  assert_double_equal(b->entries[0].mean_power_w, 85.0, 0);
  assert_string_equal(b->entries[0].detail, "");
  assert_true(isnan(b->interval_s));
  assert_true(isnan(b->cpu_util_pct));
  assert_false(b->busy);
  struct gm_component_info c = comp(
      "cpu", "cpu-tdp-model", GM_KIND_CPU, GM_PROV_MODELLED,
      "TDP 85 W (default 85 W per socket, CodeCarbon's generic constant) x "
      "CPU utilisation");
  char why[512];
  assert_int_equal(gm_energy_idle_match(b, &c, NULL, why, sizeof(why)),
                   GM_IDLE_UNRECORDED);
  assert_non_null(strstr(why, "the baseline #3 was stored without"));
  gm_idle_baseline_free(b);
  gm_store_close(st);
  free(path);
  gmt_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_configuration_applies),
      cmocka_unit_test(another_tdp_does_not_apply),
      cmocka_unit_test(another_dimm_capacitance_does_not_apply),
      cmocka_unit_test(another_device_does_not_apply),
      cmocka_unit_test(absent_components_do_not_apply),
      cmocka_unit_test(unrecorded_entries_do_not_apply),
      cmocka_unit_test(noise_bound),
      cmocka_unit_test(record_applies_only_matching_entries),
      cmocka_unit_test(busy_window_is_flagged),
      cmocka_unit_test(old_baselines_migrate_and_apply_to_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
