/* test_procstat.c: utilisation, memory and process-tree metrics from /proc
 * snapshots written into a fake procfs, rewritten in place between samples
 * as the kernel's files change; garbage and a frozen /proc/stat make the
 * utilisation unknown (and the CPU model's readings fail), never the last
 * value kept or 0. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "meter/procstat.h"
#include "meter/source.h"

/* Rewrites a file in place (same inode), as procfs content changes under an
 * open descriptor. */
static void rewrite(const char *root, const char *rel, const char *text) {
  char *p = gmt_path(root, rel);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  free(p);
}

static size_t metric(const struct gm__procstat *ps, const char *name) {
  for (size_t i = 0; i < gm__procstat_metric_count(ps); i++)
    if (strcmp(gm__procstat_metric(ps, i)->name, name) == 0)
      return i;
  fail_msg("no metric '%s'", name);
  return 0;
}

static void parse_counts_busy_and_total(void **state) {
  (void)state;
  uint64_t busy[4] = {0}, total[4] = {0};
  /* user nice system idle iowait irq softirq steal guest guest_nice */
  const char *text = "cpu  10 20 30 400 50 6 7 8 9 10\n"
                     "cpu0 1 2 3 40 5 6 7 8 9 10\n"
                     "cpu2 100 0 0 100 0 0 0 0 0 0\n"
                     "intr 1 2 3\nctxt 99\n";
  assert_int_equal(gm__procstat_parse_stat(text, busy, total, 4), 4);
  /* busy = user + nice + system + irq + softirq; guest already in user;
   * steal is neither busy nor idle time of this machine's work */
  assert_int_equal(busy[0], 10 + 20 + 30 + 6 + 7);
  assert_int_equal(total[0], 10 + 20 + 30 + 6 + 7 + 400 + 50 + 8);
  assert_int_equal(busy[1], 1 + 2 + 3 + 6 + 7);
  assert_int_equal(busy[3], 100); /* cpu2 (cpu1 offline) */
  assert_int_equal(total[2], 0);
  assert_int_equal(gm__procstat_parse_stat("garbage\n", busy, total, 4), 0);
  assert_int_equal(gm__procstat_parse_stat("cpu  1 2\n", busy, total, 4), 0);
  /* old kernels print only four fields */
  assert_int_equal(gm__procstat_parse_stat("cpu  1 2 3 4\n", busy, total, 4),
                   1);
  assert_int_equal(total[0], 10);
}

static void utilisation_from_two_snapshots(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  gmt_write(root, "stat",
            "cpu  100 0 100 800 0 0 0 0 0 0\n"
            "cpu0 50 0 50 400 0 0 0 0 0 0\n"
            "cpu1 50 0 50 400 0 0 0 0 0 0\nintr 5\n");
  gmt_write(root, "meminfo",
            "MemTotal:       1048576 kB\nMemFree:  1 kB\n"
            "MemAvailable:    262144 kB\n");
  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_OK);
  assert_non_null(strstr(probe.found, "2 CPUs"));
  size_t n = gm__procstat_metric_count(ps);
  assert_int_equal(n, 5); /* cpu.util, cpu0.util, cpu1.util, mem.used/total */
  double v[8], u, mem;
  gm__procstat_sample(ps, 1000000000, v, &u, &mem);
  assert_true(isnan(u)); /* one snapshot: no interval yet */
  assert_double_equal(mem, 768.0 * 1024 * 1024, 0);
  assert_double_equal(v[metric(ps, "mem.total")], 1024.0 * 1024 * 1024, 0);
  /* 100 ms later: cpu0 fully busy, cpu1 idle, 10 ticks each */
  rewrite(root, "stat",
          "cpu  110 0 100 810 0 0 0 0 0 0\n"
          "cpu0 60 0 50 400 0 0 0 0 0 0\n"
          "cpu1 50 0 50 410 0 0 0 0 0 0\nintr 6\n");
  gm__procstat_sample(ps, 1100000000, v, &u, &mem);
  assert_double_equal(u, 0.5, 1e-12);
  assert_double_equal(v[metric(ps, "cpu.util")], 50.0, 1e-12);
  assert_double_equal(v[metric(ps, "cpu0.util")], 100.0, 1e-12);
  assert_double_equal(v[metric(ps, "cpu1.util")], 0.0, 1e-12);
  /* a tick 10 ms later does not reread (resolution is 10 ms ticks) */
  rewrite(root, "stat",
          "cpu  999 0 100 810 0 0 0 0 0 0\n"
          "cpu0 999 0 50 400 0 0 0 0 0 0\n"
          "cpu1 50 0 50 410 0 0 0 0 0 0\n");
  gm__procstat_sample(ps, 1110000000, v, &u, &mem);
  assert_double_equal(u, 0.5, 1e-12);
  /* counters that step back (iowait may) never give negative use */
  rewrite(root, "stat",
          "cpu  999 0 100 830 0 0 0 0 0 0\n"
          "cpu0 10 0 50 500 0 0 0 0 0 0\n"
          "cpu1 50 0 50 420 0 0 0 0 0 0\n");
  gm__procstat_sample(ps, 1300000000, v, &u, &mem);
  assert_double_equal(v[metric(ps, "cpu0.util")], 0.0, 1e-12);
  gm__procstat_close(ps);
  gmt_rmtree(root);
  free(root);
}

static void process_tree_cpu_time_and_rss(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  gmt_write(root, "stat", "cpu  1 0 1 8 0 0 0 0\ncpu0 1 0 1 8 0 0 0 0\n");
  gmt_write(root, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  /* 100 -> 101 -> 102 (comm with spaces and a ')'), and 200 outside.
   * Fields after comm: state ppid ... utime(14) stime(15) cutime(16)
   * cstime(17) ... rss(24). */
#define PID_STAT(pid, comm, ppid, ut, st, cut, cst, rss)                       \
  "%d (%s) S %d 1 1 0 -1 0 0 0 0 0 %d %d %d %d 20 0 1 0 100 1000 %d 0\n", pid, \
      comm, ppid, ut, st, cut, cst, rss
  gmt_write(root, "100/stat", PID_STAT(100, "sh", 1, 100, 50, 30, 20, 10));
  gmt_write(root, "101/stat",
            PID_STAT(101, "python3", 100, 1000, 0, 0, 0, 100));
  gmt_write(root, "102/stat", PID_STAT(102, "a) b (c", 101, 7, 3, 0, 0, 5));
  gmt_write(root, "200/stat", PID_STAT(200, "other", 1, 5000, 5000, 0, 0, 999));
  gmt_write(root, "100/task/100/children", "%s", "101 ");
  gmt_write(root, "101/task/101/children", "%s", "");
  gmt_write(root, "101/task/105/children", "%s", "102");
  gmt_write(root, "102/task/102/children", "%s", "");
  gmt_write(root, "200/task/200/children", "%s", "");

  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  assert_int_equal(gm__procstat_open(root, 100, &ps, &probe), GM_OK);
  double v[16], u, mem;
  gm__procstat_sample(ps, 1000000000, v, &u, &mem);
  double tck = (double)sysconf(_SC_CLK_TCK);
  assert_double_equal(v[metric(ps, "proc.cpu_time")],
                      (100 + 50 + 30 + 20 + 1000 + 7 + 3) / tck, 1e-9);
  assert_double_equal(v[metric(ps, "proc.rss")],
                      (10 + 100 + 5) * (double)sysconf(_SC_PAGESIZE), 0);

  /* Without children files (CONFIG_PROC_CHILDREN off) the whole of /proc is
   * scanned and the tree found through parent links: same answer. */
  char *t = gmt_path(root, "100/task/100/children");
  assert_int_equal(unlink(t), 0);
  free(t);
  gm__procstat_sample(ps, 3000000000, v, &u, &mem);
  assert_double_equal(v[metric(ps, "proc.cpu_time")],
                      (100 + 50 + 30 + 20 + 1000 + 7 + 3) / tck, 1e-9);
  gm__procstat_close(ps);
  gmt_rmtree(root);
  free(root);
}

static void missing_procfs(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_ERR_UNAVAILABLE);
  assert_null(ps);
  assert_non_null(strstr(probe.reason, "stat"));
  assert_non_null(strstr(probe.fix, "GREENML_PROCFS"));
  gmt_write(root, "stat", "nothing useful\n");
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_ERR_PARSE);
  gmt_rmtree(root);
  free(root);
}

#define MS INT64_C(1000000)

/* What the CPU model reads at the tick the meter builds from ps. */
static struct gm__reading cpu_model_reading(void *model, double u,
                                            enum gm__util_state st) {
  struct gm__tick tk = {.t_ns = 1,
                        .cpu_util_frac = u,
                        .mem_used_bytes = NAN,
                        .cpu_util_failed =
                            st != GM__UTIL_NONE && st != GM__UTIL_OK};
  struct gm__reading r;
  memset(&r, 0xA5, sizeof(r));
  assert_int_equal(gm__source_cpu_model.read(model, &tk, &r, NULL), GM_OK);
  return r;
}

static void garbage_and_frozen_stat(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  const char *s0 = "cpu  100 0 100 800 0 0 0 0 0 0\n"
                   "cpu0 100 0 100 800 0 0 0 0 0 0\n";
  const char *s1 = "cpu  150 0 100 850 0 0 0 0 0 0\n"
                   "cpu0 150 0 100 850 0 0 0 0 0 0\n";
  gmt_write(root, "stat", "%s", s0);
  gmt_write(root, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_OK);
  /* the CPU model at 100 W, as the meter would use it */
  struct gm__env env = {.sysfs = root, .procfs = root, .cpu_tdp_w = 100};
  void *model = NULL;
  struct gm_probe mprobe = {0};
  assert_int_equal(gm__source_cpu_model.open(&env, &model, &mprobe), GM_OK);

  double v[8], u, mem;
  int64_t t = 1000 * MS;
  gm__procstat_sample(ps, t, v, &u, &mem);
  assert_true(isnan(u));
  assert_int_equal(gm__procstat_util_state(ps), GM__UTIL_NONE);
  struct gm__reading r = cpu_model_reading(model, u, GM__UTIL_NONE);
  assert_true(r.ok); /* no interval yet: not a failure */
  assert_false(r.has_power);
  rewrite(root, "stat", s1);
  gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
  assert_double_equal(u, 0.5, 1e-12);
  assert_int_equal(gm__procstat_util_state(ps), GM__UTIL_OK);
  r = cpu_model_reading(model, u, GM__UTIL_OK);
  assert_true(r.ok && r.has_power);
  assert_double_equal(r.power_w, 50.0, 1e-12);

  /* garbage: unknown for this window, counted; not 0.5 kept */
  rewrite(root, "stat", "\x01\x02garbage\xff\n");
  gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
  assert_true(isnan(u));
  assert_true(isnan(v[metric(ps, "cpu.util")]));
  assert_true(isnan(v[metric(ps, "cpu0.util")]));
  assert_int_equal(gm__procstat_util_state(ps), GM__UTIL_BAD);
  assert_int_equal(gm__procstat_faults(ps).bad_reads, 1);
  r = cpu_model_reading(model, u, GM__UTIL_BAD);
  assert_false(r.ok); /* counted as a failed reading by the integrator */
  assert_false(r.has_power);
  /* a tick before the next refresh repeats "unknown", not a number */
  gm__procstat_sample(ps, t + 10 * MS, v, &u, &mem);
  assert_true(isnan(u));
  /* a cpu line with a count no kernel has is garbage too */
  rewrite(root, "stat", "cpu  99999999999999999999999 0 0 0\n");
  gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
  assert_true(isnan(u));
  assert_int_equal(gm__procstat_faults(ps).bad_reads, 2);
  /* good again: the window spans the gap, from the last good counters */
  rewrite(root, "stat",
          "cpu  250 0 100 950 0 0 0 0 0 0\n"
          "cpu0 250 0 100 950 0 0 0 0 0 0\n");
  gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
  assert_double_equal(u, 0.5, 1e-12);
  assert_int_equal(gm__procstat_util_state(ps), GM__UTIL_OK);

  /* frozen: the same counters while time passes */
  enum gm__util_state want[] = {GM__UTIL_STILL, GM__UTIL_STILL, GM__UTIL_FROZEN,
                                GM__UTIL_FROZEN};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
    assert_true(isnan(u));
    assert_true(isnan(v[metric(ps, "cpu.util")]));
    assert_int_equal(gm__procstat_util_state(ps), want[i]);
    r = cpu_model_reading(model, u, want[i]);
    assert_false(r.ok); /* unknown, not 0 W */
  }
  struct gm__procstat_faults fl = gm__procstat_faults(ps);
  assert_true(fl.frozen);
  assert_int_equal(fl.still_reads, 4);
  assert_int_equal(fl.frozen_episodes, 1);
  /* it moves again */
  rewrite(root, "stat",
          "cpu  260 0 100 1040 0 0 0 0 0 0\n"
          "cpu0 260 0 100 1040 0 0 0 0 0 0\n");
  gm__procstat_sample(ps, t += 100 * MS, v, &u, &mem);
  assert_double_equal(u, 0.1, 1e-12);
  fl = gm__procstat_faults(ps);
  assert_false(fl.frozen);
  assert_int_equal(fl.frozen_episodes, 1);

  gm__source_cpu_model.close(model);
  gm__procstat_close(ps);
  gmt_rmtree(root);
  free(root);
}

static void meminfo_out_of_range(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  gmt_write(root, "stat", "cpu  1 0 1 8 0 0 0 0\ncpu0 1 0 1 8 0 0 0 0\n");
  gmt_write(root, "meminfo", "MemTotal: -16000000 kB\nMemAvailable: 500 kB\n");
  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_OK);
  double v[8], u, mem;
  gm__procstat_sample(ps, 1000 * MS, v, &u, &mem);
  assert_true(isnan(mem));
  assert_true(isnan(v[metric(ps, "mem.total")]));
  rewrite(root, "meminfo",
          "MemTotal: 99999999999999999 kB\nMemAvailable: 500 kB\n");
  gm__procstat_sample(ps, 3000 * MS, v, &u, &mem);
  assert_true(isnan(v[metric(ps, "mem.total")]));
  rewrite(root, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n");
  gm__procstat_sample(ps, 5000 * MS, v, &u, &mem);
  assert_double_equal(mem, 500.0 * 1024, 0);
  gm__procstat_close(ps);
  gmt_rmtree(root);
  free(root);
}

static void stat_that_is_not_a_file(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  char *stat_path = gmt_path(root, "stat");
  struct gm__procstat *ps = NULL;
  struct gm_probe probe = {0};
  /* a FIFO: refused at once, not a blocked open */
  assert_int_equal(mkfifo(stat_path, 0600), 0);
  alarm(10);
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_ERR_PARSE);
  alarm(0);
  assert_null(ps);
  char want[1024];
  snprintf(want, sizeof(want), "cannot read '%s': a FIFO, not a regular file",
           stat_path);
  assert_string_equal(probe.reason, want);
  /* a device that never ends */
  unlink(stat_path);
  assert_int_equal(symlink("/dev/zero", stat_path), 0);
  assert_int_equal(gm__procstat_open(root, 0, &ps, &probe), GM_ERR_PARSE);
  snprintf(want, sizeof(want),
           "cannot read '%s': a character device, not a regular file",
           stat_path);
  assert_string_equal(probe.reason, want);
  free(stat_path);
  gmt_rmtree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_counts_busy_and_total),
      cmocka_unit_test(utilisation_from_two_snapshots),
      cmocka_unit_test(process_tree_cpu_time_and_rss),
      cmocka_unit_test(missing_procfs),
      cmocka_unit_test(garbage_and_frozen_stat),
      cmocka_unit_test(meminfo_out_of_range),
      cmocka_unit_test(stat_that_is_not_a_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
