/* test_procstat.c: utilisation, memory and process-tree metrics from /proc
 * snapshots written into a fake procfs, rewritten in place between samples
 * as the kernel's files change. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "meter/procstat.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_counts_busy_and_total),
      cmocka_unit_test(utilisation_from_two_snapshots),
      cmocka_unit_test(process_tree_cpu_time_and_rss),
      cmocka_unit_test(missing_procfs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
