/* test_idle.c: gm_idle_measure (idle.h) on a fake machine whose CPU and
 * DRAM models draw known power: the DRAM model 6 W (16 GiB, no DIMM data:
 * 0.375 W/GiB), the CPU model TDP 20 W (--cpu-tdp) x 50 % utilisation, with
 * /proc/stat advancing busy and idle time equally while the meter samples. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/idle.h"
#include "helpers.h"

#define DRAM_W 6.0
#define CPU_TDP_W 20.0
#define CPU_W (CPU_TDP_W * 0.5)

/* A /proc/stat whose busy and idle times both grow by one tick every
 * millisecond, rewritten in place (the meter keeps the file open). */
struct stat_writer {
  char path[600];
  pthread_t thread;
  atomic_bool stop;
};

/* Same length every time: the reader never sees a shorter file. */
static bool write_stat(int fd, unsigned long long k) {
  char buf[160];
  int n = snprintf(buf, sizeof(buf),
                   "cpu  %012llu 0 0 %012llu 0 0 0 0 0 0\n"
                   "cpu0 %012llu 0 0 %012llu 0 0 0 0 0 0\nintr 1 2 3\n",
                   k, k, k, k);
  return n > 0 && (size_t)n < sizeof(buf) && pwrite(fd, buf, (size_t)n, 0) == n;
}

static void *stat_main(void *arg) {
  struct stat_writer *w = arg;
  int fd = open(w->path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  for (unsigned long long k = 2; !atomic_load(&w->stop); k++) {
    if (!write_stat(fd, k))
      break; /* the baseline then shows it */
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  close(fd);
  return NULL;
}

static char *fake_machine(void) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/stat",
            "cpu  %012llu 0 0 %012llu 0 0 0 0 0 0\n"
            "cpu0 %012llu 0 0 %012llu 0 0 0 0 0 0\nintr 1 2 3\n",
            1ULL, 1ULL, 1ULL, 1ULL);
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
  c.cpu_tdp_w = CPU_TDP_W;
  /* /proc/stat is read at most every 100 ms: at this interval every
   * interval but the first tick's has a utilisation. */
  c.interval_ns = 100 * INT64_C(1000000);
  return c;
}

static const struct gm_idle_entry *entry(const struct gm_idle_baseline *b,
                                         const char *name) {
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->entries[i].name, name) == 0)
      return &b->entries[i];
  fail_msg("no baseline entry '%s'", name);
  return NULL;
}

static void baseline_is_the_models_power(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct stat_writer w;
  snprintf(w.path, sizeof(w.path), "%s/stat", proc);
  atomic_init(&w.stop, false);
  assert_int_equal(pthread_create(&w.thread, NULL, stat_main, &w), 0);

  struct gm_idle_baseline *b = NULL;
  char err[256] = "x";
  int64_t t0 = gm__now_ns();
  enum gm_status rc = gm_idle_measure(&c, 500 * INT64_C(1000000), NULL, NULL,
                                      &b, err, sizeof(err));
  int64_t t1 = gm__now_ns();
  atomic_store(&w.stop, true);
  pthread_join(w.thread, NULL);
  assert_int_equal(rc, GM_OK);
  assert_string_equal(err, "");
  assert_non_null(b);
  assert_int_equal(b->id, 0); /* not stored */
  assert_true(b->duration_s >= 0.5);
  assert_true(b->duration_s <= (double)(t1 - t0) / 1e9);
  /* UTC, ISO 8601: 2024-05-01T12:00:00Z */
  assert_int_equal(strlen(b->measured_at), 20);
  assert_int_equal(b->measured_at[10], 'T');
  assert_int_equal(b->measured_at[19], 'Z');
  assert_int_equal(b->n, 2);
  const struct gm_idle_entry *cpu = entry(b, "cpu"), *dram = entry(b, "dram");
  assert_string_equal(cpu->source, "cpu-tdp-model");
  assert_string_equal(dram->source, "dram-model");
  assert_double_equal(dram->mean_power_w, DRAM_W, 1e-9);
  assert_double_equal(cpu->mean_power_w, CPU_W, 1e-9);
  assert_double_equal(dram->sd_power_w, 0.0, 1e-9);
  assert_double_equal(cpu->sd_power_w, 0.0, 1e-9);
  gm_idle_baseline_free(b);
  gmt_rmtree(root);
  free(root);
}

struct stopper {
  int calls;
  int stop_at; /* returns true from this call on */
};

static bool stop_after(void *ctx) {
  struct stopper *s = ctx;
  return ++s->calls >= s->stop_at;
}

static void stop_callback_interrupts(void **state) {
  (void)state;
  char *root = fake_machine();
  char sys[512], proc[512], dev[512];
  struct gm_meter_config c = config(root, sys, proc, dev);
  struct stopper s = {.stop_at = 5};
  struct gm_idle_baseline dummy = {0};
  struct gm_idle_baseline *b = &dummy; /* must be overwritten */
  char err[256] = "";
  int64_t t0 = gm__now_ns();
  enum gm_status rc = gm_idle_measure(&c, 60 * INT64_C(1000000000), stop_after,
                                      &s, &b, err, sizeof(err));
  double took_s = (double)(gm__now_ns() - t0) / 1e9;
  assert_int_equal(rc, GM_ERR_INTERRUPTED);
  assert_null(b);
  assert_int_equal(s.calls, 5); /* polled until it said stop, then no more */
  assert_true(took_s < 10.0);   /* not the 60 s asked for */
  assert_non_null(strstr(err, "interrupted"));
  assert_string_equal(gm_status_name(rc), "GM_ERR_INTERRUPTED");

  /* a stop already requested: nothing is measured */
  s = (struct stopper){.stop_at = 1};
  assert_int_equal(
      gm_idle_measure(&c, INT64_C(1000000000), stop_after, &s, &b, NULL, 0),
      GM_ERR_INTERRUPTED);
  assert_null(b);
  assert_int_equal(s.calls, 1);
  gmt_rmtree(root);
  free(root);
}

static void bad_arguments(void **state) {
  (void)state;
  struct gm_meter_config c = gm_meter_config_default();
  struct gm_idle_baseline *b = NULL;
  char err[256] = "";
  assert_int_equal(gm_idle_measure(&c, 0, NULL, NULL, &b, err, sizeof(err)),
                   GM_ERR_INVALID_ARG);
  assert_null(b);
  assert_true(err[0] != '\0');
  assert_int_equal(gm_idle_measure(NULL, 1000000, NULL, NULL, &b, NULL, 0),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_idle_measure(&c, 1000000, NULL, NULL, NULL, NULL, 0),
                   GM_ERR_INVALID_ARG);
  c.interval_ns = 1; /* below 1 ms: the meter refuses it */
  err[0] = '\0';
  assert_int_equal(
      gm_idle_measure(&c, 1000000, NULL, NULL, &b, err, sizeof(err)),
      GM_ERR_INVALID_ARG);
  assert_null(b);
  assert_non_null(strstr(err, "cannot create the meter"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(baseline_is_the_models_power),
      cmocka_unit_test(stop_callback_interrupts),
      cmocka_unit_test(bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
