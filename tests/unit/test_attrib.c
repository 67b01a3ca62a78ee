/* test_attrib.c: energy attributed to a process tree or a cgroup, on
 * scripted /proc trees, cgroup files and the fake NVML's process lists:
 * windows of known machine busy time, subject CPU time and energy. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "greenml/meter.h"
#include "helpers.h"
#include "meter/attrib.h"
#include "meter/source.h"

/* /proc/<pid>/stat with utime in ticks, ppid, and nothing else moving. */
static void pid_stat(const char *root, int pid, int ppid, long utime) {
  char rel[64];
  snprintf(rel, sizeof(rel), "%d/stat", pid);
  gmt_write(root, rel,
            "%d (w) S %d 1 1 0 -1 0 0 0 0 0 %ld 0 0 0 20 0 1 0 100 1000 10 "
            "0\n",
            pid, ppid, utime);
}

static void children(const char *root, int pid, const char *list) {
  char rel[64];
  snprintf(rel, sizeof(rel), "%d/task/%d/children", pid, pid);
  gmt_write(root, rel, "%s", list);
}

static double tck(void) { return (double)sysconf(_SC_CLK_TCK); }

/* Components: the CPU model and DRAM, as a meter would have them. */
static void two_components(struct gm_component_info c[2]) {
  memset(c, 0, 2 * sizeof(*c));
  snprintf(c[0].name, sizeof(c[0].name), "cpu");
  c[0].kind = GM_KIND_CPU;
  snprintf(c[1].name, sizeof(c[1].name), "dram");
  c[1].kind = GM_KIND_DRAM;
}

static struct gm__attrib *open_tree(const char *proc, int pid, size_t nc,
                                    const struct gm_component_info *c) {
  struct gm__attrib_config cfg = {.procfs = proc, .pid = pid};
  struct gm__attrib *a = NULL;
  char why[256];
  assert_int_equal(gm__attrib_open(&cfg, nc, c, &a, why, sizeof(why)), GM_OK);
  return a;
}

/* Two trees with known CPU-time shares of a machine that is also busy with
 * a third: each gets exactly its share of constant-power sources, and its
 * share of the time (for the idle baseline). */
static void two_processes_get_their_shares(void **state) {
  (void)state;
  char *proc = gmt_mkdtemp();
  struct gm_component_info comps[2];
  two_components(comps);
  long ua = 0, ua_child = 0, ub = 0;
  pid_stat(proc, 100, 1, ua);
  pid_stat(proc, 101, 100, ua_child);
  children(proc, 100, "101 ");
  children(proc, 101, "");
  pid_stat(proc, 200, 1, ub);
  children(proc, 200, "");
  struct gm__attrib *a = open_tree(proc, 100, 2, comps);
  struct gm__attrib *b = open_tree(proc, 200, 2, comps);
  double busy = 0, cum[2] = {0, 0};
  const double P_CPU = 50.0, P_DRAM = 6.0;
  for (int k = 0; k <= 10; k++) {
    int64_t t = (int64_t)k * 1000000000;
    gm__attrib_tick(a, t, true, busy, 0, cum, false, NULL, NULL);
    gm__attrib_tick(b, t, true, busy, 0, cum, false, NULL, NULL);
    /* the next second: A's tree 0.3 s (0.1 + 0.2 in its child), B 0.5 s,
     * someone else 0.2 s */
    ua += (long)(0.1 * tck());
    ua_child += (long)(0.2 * tck());
    ub += (long)(0.5 * tck());
    pid_stat(proc, 100, 1, ua);
    pid_stat(proc, 101, 100, ua_child);
    pid_stat(proc, 200, 1, ub);
    busy += 1.0;
    cum[0] += P_CPU;
    cum[1] += P_DRAM;
  }
  struct gm_attribution r;
  /* the loop's last tick closed window 10; its increments are not seen */
  gm__attrib_get(a, 0, &r);
  assert_int_equal(r.method, GM_ATTRIB_CPU_TIME);
  assert_int_equal(r.windows, 10);
  assert_double_equal(r.energy_j, 0.3 * P_CPU * 10, 1e-9);
  assert_double_equal(r.share_s, 0.3 * 10, 1e-9);
  assert_double_equal(r.share, 0.3, 1e-12);
  gm__attrib_get(a, 1, &r);
  assert_double_equal(r.energy_j, 0.3 * P_DRAM * 10, 1e-9);
  gm__attrib_get(b, 0, &r);
  assert_double_equal(r.energy_j, 0.5 * P_CPU * 10, 1e-9);
  assert_double_equal(r.share_s, 0.5 * 10, 1e-9);
  assert_double_equal(r.unknown_j, 0.0, 0.0);
  assert_string_equal(gm__attrib_subject(a), "process tree of pid 100");
  gm__attrib_close(a);
  gm__attrib_close(b);
  gmt_rmtree(proc);
  free(proc);
}

/* The CPU model draws TDP x the machine's utilisation. A neighbour that
 * keeps another CPU busy raises the machine's energy, not the command's:
 * the command gets TDP x its own utilisation either way. */
static void busy_neighbour_does_not_raise_the_command(void **state) {
  (void)state;
  const double TDP = 100.0, N_CPU = 4.0, U_CMD = 0.25;
  double got[2];
  for (int neighbour = 0; neighbour < 2; neighbour++) {
    char *proc = gmt_mkdtemp();
    struct gm_component_info comps[2];
    two_components(comps);
    long u = 0;
    pid_stat(proc, 100, 1, u);
    children(proc, 100, "");
    struct gm__attrib *a = open_tree(proc, 100, 2, comps);
    double busy = 0, cum[2] = {0, 0};
    for (int k = 0; k <= 20; k++) {
      gm__attrib_tick(a, (int64_t)k * 500000000, true, busy, 0, cum, false,
                      NULL, NULL);
      double cmd_s = U_CMD * N_CPU * 0.5;           /* CPU-seconds in 0.5 s */
      double other_s = neighbour ? 1.0 * 0.5 : 0.0; /* one CPU flat out */
      u += (long)(cmd_s * tck());
      pid_stat(proc, 100, 1, u);
      busy += cmd_s + other_s;
      double util = (cmd_s + other_s) / (N_CPU * 0.5);
      cum[0] += TDP * util * 0.5;
    }
    struct gm_attribution r;
    gm__attrib_get(a, 0, &r);
    got[neighbour] = r.energy_j;
    gm__attrib_close(a);
    gmt_rmtree(proc);
    free(proc);
  }
  assert_double_equal(got[0], TDP * U_CMD * 10.0, 1e-9);
  assert_double_equal(got[1], got[0], 1e-9);
}

/* A tree whose root is gone does no more work: 0 from then on; CPU time
 * that goes backwards (a member reaped outside the tree) is no work. */
static void root_gone_and_time_backwards(void **state) {
  (void)state;
  char *proc = gmt_mkdtemp();
  struct gm_component_info comps[2];
  two_components(comps);
  pid_stat(proc, 100, 1, 0);
  children(proc, 100, "");
  struct gm__attrib *a = open_tree(proc, 100, 2, comps);
  double cum[2] = {0, 0};
  gm__attrib_tick(a, 0, true, 0.0, 0, cum, false, NULL, NULL);
  pid_stat(proc, 100, 1, (long)(1.0 * tck()));
  cum[0] = 10;
  gm__attrib_tick(a, 1000000000, true, 2.0, 0, cum, false, NULL, NULL);
  pid_stat(proc, 100, 1, 0); /* backwards */
  cum[0] = 20;
  gm__attrib_tick(a, 2000000000, true, 4.0, 0, cum, false, NULL, NULL);
  char *p = gmt_path(proc, "100");
  gmt_rmtree(p);
  free(p);
  cum[0] = 30;
  gm__attrib_tick(a, 3000000000, true, 6.0, 0, cum, false, NULL, NULL);
  struct gm_attribution r;
  gm__attrib_get(a, 0, &r);
  assert_double_equal(r.energy_j, 0.5 * 10, 1e-9);
  assert_double_equal(r.share, 0.0, 0.0);
  gm__attrib_close(a);
  gmt_rmtree(proc);
  free(proc);
}

/* A tree that cannot be found (another procfs, a pid gone before the first
 * read) gets nothing and all of it is counted unknown, never 0 J silently;
 * so is what was drawn before the first window, and a run without one. */
static void unknown_subject_is_counted(void **state) {
  (void)state;
  char *proc = gmt_mkdtemp();
  struct gm_component_info comps[2];
  two_components(comps);
  struct gm__attrib *a = open_tree(proc, 999, 2, comps);
  double cum[2] = {5, 1};
  for (int k = 0; k <= 4; k++) {
    gm__attrib_tick(a, (int64_t)k * 1000000000, true, k * 1.0, 0, cum, false,
                    NULL, NULL);
    cum[0] += 10;
    cum[1] += 2;
  }
  gm__attrib_tick(a, 4500000000, false, 0, 0, cum, true, NULL, NULL);
  struct gm_attribution r;
  gm__attrib_get(a, 0, &r);
  assert_double_equal(r.energy_j, 0.0, 0.0);
  assert_double_equal(r.unknown_j, cum[0], 1e-12);
  assert_int_equal(r.unknown_windows, 4);
  gm__attrib_close(a);
  a = open_tree(proc, 999, 2, comps);
  gm__attrib_tick(a, 1000, false, 0, 0, cum, true, NULL, NULL);
  gm__attrib_get(a, 1, &r);
  assert_double_equal(r.unknown_j, cum[1], 1e-12);
  gm__attrib_close(a);
  gmt_rmtree(proc);
  free(proc);
}

/* The meter's own sampler inside the subject is not the subject's work. */
static void meter_self_time_is_not_the_subject(void **state) {
  (void)state;
  char *proc = gmt_mkdtemp();
  struct gm_component_info comps[2];
  two_components(comps);
  pid_stat(proc, 100, 1, 0);
  children(proc, 100, "");
  struct gm__attrib *a = open_tree(proc, 100, 2, comps);
  double cum[2] = {0, 0};
  gm__attrib_tick(a, 0, true, 0.0, 0.0, cum, false, NULL, NULL);
  pid_stat(proc, 100, 1, (long)(1.0 * tck())); /* 1 s, 0.2 s of it meter */
  cum[0] = 100;
  gm__attrib_tick(a, 1000000000, true, 2.0, 0.2, cum, false, NULL, NULL);
  struct gm_attribution r;
  gm__attrib_get(a, 0, &r);
  assert_double_equal(r.energy_j, 100 * 0.8 / 2.0, 1e-9);
  /* the run ends between two reads of /proc/stat: the latest share */
  cum[0] = 110;
  gm__attrib_tick(a, 1050000000, false, 0, 0.2, cum, true, NULL, NULL);
  gm__attrib_get(a, 0, &r);
  assert_double_equal(r.energy_j, 40 + 10 * 0.4, 1e-9);
  assert_double_equal(r.share_s, 0.4 + 0.05 * 0.4, 1e-9);
  gm__attrib_close(a);
  gmt_rmtree(proc);
  free(proc);
}

/* A cgroup: its cpu.stat usage_usec for the CPU, /proc/PID/cgroup for the
 * GPUs' processes. */
static long fixed_users(void *ctx, size_t c, struct gm__user *out, size_t cap) {
  (void)c;
  const struct gm__user *u = ctx;
  long n = 0;
  while (u[n].pid && (size_t)n < cap) {
    out[n] = u[n];
    n++;
  }
  return u[0].pid < 0 ? -1 : n;
}

static void cgroup_subject(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  char *proc = gmt_path(root, "proc"), *mount = gmt_path(root, "cgroup");
  struct gm_component_info comps[3];
  two_components(comps);
  memset(&comps[2], 0, sizeof(comps[2]));
  snprintf(comps[2].name, sizeof(comps[2].name), "gpu0");
  comps[2].kind = GM_KIND_GPU;
  gmt_write(root, "cgroup/job_7/cpu.stat",
            "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
  gmt_write(root, "proc/300/cgroup", "0::/job_7/step_0\n");
  gmt_write(root, "proc/400/cgroup", "0::/job_70\n");
  struct gm__attrib_config cfg = {
      .procfs = proc, .cgroup = "/job_7/", .cgroup_mount = mount};
  struct gm__attrib *a = NULL;
  char why[512];
  assert_int_equal(gm__attrib_open(&cfg, 3, comps, &a, why, sizeof(why)),
                   GM_OK);
  assert_string_equal(gm__attrib_subject(a), "cgroup /job_7");
  /* 300 is in job_7 (below it), 400 in job_70 (a prefix, not a child) */
  struct gm__user users[] = {{300, 30.0}, {400, 90.0}, {0, 0}};
  double cum[3] = {0, 0, 0};
  gm__attrib_tick(a, 0, true, 0.0, 0, cum, false, fixed_users, users);
  gmt_write(root, "cgroup/job_7/cpu.stat", "usage_usec 1500000\n");
  cum[0] = 40, cum[1] = 8, cum[2] = 400;
  gm__attrib_tick(a, 2000000000, true, 2.0, 0, cum, false, fixed_users, users);
  struct gm_attribution r;
  gm__attrib_get(a, 0, &r);
  assert_double_equal(r.energy_j, 40 * 0.75, 1e-9);
  gm__attrib_get(a, 2, &r);
  assert_int_equal(r.method, GM_ATTRIB_GPU_PROCESSES);
  assert_double_equal(r.energy_j, 400 * 30.0 / 120.0, 1e-9);
  assert_int_equal(r.weighted_windows, 1);
  gm__attrib_close(a);
  /* not a cgroup v2 directory: refused, named */
  cfg.cgroup = "/nope";
  assert_int_equal(gm__attrib_open(&cfg, 3, comps, &a, why, sizeof(why)),
                   GM_ERR_NOT_FOUND);
  assert_non_null(strstr(why, "/nope"));
  gmt_rmtree(root);
  free(root);
  free(proc);
  free(mount);
}

/* A cgroup whose cpu.stat turns unreadable midway (garbage, a negative or
 * fractional count, a unit glued on, the file gone at the job's end): the
 * window it ends and the next one (no reading at its start) are unknown,
 * never 0 J and never a share computed across the gap; readable windows
 * around them are exact. */
static void cgroup_cpu_stat_garbage(void **state) {
  (void)state;
  static const char *const bad[] = {"usage_usec abc\n",  "usage_usec -5\n",
                                    "usage_usec 12.5\n", "usage_usec 7ms\n",
                                    "user_usec 5\n",     NULL};
  for (int k = 0; k < 6; k++) {
    char *root = gmt_mkdtemp();
    char *proc = gmt_path(root, "proc"), *mount = gmt_path(root, "cgroup");
    struct gm_component_info comps[2];
    two_components(comps);
    gmt_write(root, "cgroup/job_7/cpu.stat", "usage_usec 0\n");
    struct gm__attrib_config cfg = {
        .procfs = proc, .cgroup = "/job_7", .cgroup_mount = mount};
    struct gm__attrib *a = NULL;
    char why[512];
    assert_int_equal(gm__attrib_open(&cfg, 2, comps, &a, why, sizeof(why)),
                     GM_OK);
    double cum[2] = {0, 0};
    /* 10 J of CPU and 1 J of DRAM a second; the machine busy 1 s/s, the
     * cgroup 0.5 s/s when it can be read */
    gm__attrib_tick(a, 0, true, 0.0, 0, cum, false, NULL, NULL);
    for (int w = 1; w <= 4; w++) {
      if (w == 2 && bad[k])
        gmt_write(root, "cgroup/job_7/cpu.stat", "%s", bad[k]);
      else if (w == 2)
        gmt_rmtree(mount);
      else
        gmt_write(root, "cgroup/job_7/cpu.stat", "usage_usec %d\n", w * 500000);
      cum[0] = 10.0 * w;
      cum[1] = 1.0 * w;
      gm__attrib_tick(a, (int64_t)w * 1000000000, true, (double)w, 0, cum,
                      w == 4, NULL, NULL);
    }
    struct gm_attribution r;
    gm__attrib_get(a, 0, &r);
    /* windows 1 and 4 at 0.5; 2 and 3 unknown */
    assert_double_equal(r.energy_j, 2 * 10 * 0.5, 1e-9);
    assert_double_equal(r.unknown_j, 2 * 10, 1e-9);
    assert_int_equal(r.unknown_windows, 2);
    assert_double_equal(r.share_s, 2 * 0.5, 1e-9);
    gm__attrib_get(a, 1, &r);
    assert_double_equal(r.energy_j, 2 * 1 * 0.5, 1e-9);
    assert_double_equal(r.unknown_j, 2 * 1, 1e-9);
    gm__attrib_close(a);
    gmt_rmtree(root);
    free(root);
    free(proc);
    free(mount);
  }
}

/* The GPU's share from the fake driver's process lists, through the NVML
 * source's own users(): sole user, weighted by SM utilisation, counted,
 * idle, and a driver that cannot list them (unknown, not guessed). */
struct nvml_ctx {
  const struct gm__source_ops *ops;
  void *self;
};

static long nvml_users(void *ctx, size_t c, struct gm__user *out, size_t cap) {
  (void)c;
  struct nvml_ctx *n = ctx;
  return n->ops->users(n->self, 0, out, cap);
}

static double gpu_share(const char *script_line, uint64_t *how,
                        double *unknown_j) {
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/100/stat",
            "100 (w) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 0\n");
  gmt_write(root, "proc/100/task/100/children", "%s", "101");
  gmt_write(root, "proc/101/stat",
            "101 (w) S 100 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 0\n");
  gmt_write(root, "proc/101/task/101/children", "%s", "");
  gmt_write(root, "nvml.script", "gpu power_mw=250000\n%s\n", script_line);
  char *script = gmt_path(root, "nvml.script");
  gmt_setenv("GREENML_FAKE_NVML_SCRIPT", script);
  char *proc = gmt_path(root, "proc");
  struct gm__env env = {.sysfs = root,
                        .procfs = proc,
                        .devfs = root,
                        .nvml_lib = GM_TEST_FAKE_NVML,
                        .gpus = "all",
                        .gpus_origin = "default"};
  struct gm_probe probe = {0};
  struct nvml_ctx n = {.ops = &gm__source_nvml};
  assert_int_equal(n.ops->open(&env, &n.self, &probe), GM_OK);
  struct gm_component_info comps[1] = {*n.ops->component(n.self, 0)};
  struct gm__attrib *a = open_tree(proc, 100, 1, comps);
  double cum[1] = {0};
  for (int k = 0; k <= 3; k++) {
    gm__attrib_tick(a, (int64_t)k * 1000000000, true, k * 1.0, 0, cum, false,
                    nvml_users, &n);
    cum[0] += 250.0;
  }
  struct gm_attribution r;
  gm__attrib_get(a, 0, &r);
  *how = r.sole_windows * 1000 + r.weighted_windows * 100 +
         r.counted_windows * 10 + r.idle_windows;
  *unknown_j = r.unknown_j;
  gm__attrib_close(a);
  n.ops->close(n.self);
  unsetenv("GREENML_FAKE_NVML_SCRIPT");
  gmt_rmtree(root);
  free(root);
  free(script);
  free(proc);
  return r.energy_j / 750.0;
}

static void gpu_shares_from_the_driver(void **state) {
  (void)state;
  uint64_t how;
  double unknown;
  /* both of the tree's processes, nobody else's: the whole device */
  assert_double_equal(gpu_share("procs 0 = 100,101", &how, &unknown), 1.0,
                      1e-12);
  assert_int_equal(how, 3000);
  /* per-process SM utilisation: 60 of 60 + 20 */
  assert_double_equal(gpu_share("procs 0 = 101:60,555:20", &how, &unknown),
                      0.75, 1e-12);
  assert_int_equal(how, 300);
  /* no utilisation samples: by count, 1 of 3 */
  assert_double_equal(gpu_share("procs 0 = 100,555,556", &how, &unknown),
                      1.0 / 3.0, 1e-12);
  assert_int_equal(how, 30);
  /* someone else's only, and nobody's */
  assert_double_equal(gpu_share("procs 0 = 555", &how, &unknown), 0.0, 0.0);
  assert_double_equal(gpu_share("", &how, &unknown), 0.0, 0.0);
  assert_int_equal(how, 3);
  /* the driver cannot list them: unknown, counted apart */
  assert_double_equal(gpu_share("not_supported 0 = procs", &how, &unknown), 0.0,
                      0.0);
  assert_double_equal(unknown, 750.0, 1e-9);
}

/* ---- through the meter, on a fake machine whose /proc/stat moves ---- */

struct driver {
  char stat[600], pid_stat[600];
  atomic_bool stop;
};

/* Same-length rewrites in place (the meter keeps /proc/stat open): the
 * machine does 4 busy ticks and pid 4242 one per 10 ms step. */
static void *drive(void *arg) {
  struct driver *d = arg;
  unsigned long long busy = 1000, idle = 1000, mine = 0;
  while (!atomic_load(&d->stop)) {
    char text[256];
    int n = snprintf(text, sizeof(text),
                     "cpu  %012llu 0 0 %012llu 0 0 0 0\n"
                     "cpu0 %012llu 0 0 %012llu 0 0 0 0\n",
                     busy, idle, busy, idle);
    int fd = open(d->stat, O_WRONLY);
    if (fd >= 0) {
      (void)!pwrite(fd, text, (size_t)n, 0);
      close(fd);
    }
    n = snprintf(text, sizeof(text),
                 "4242 (w) S 1 1 1 0 -1 0 0 0 0 0 %012llu 0 0 0 20 0 1 0 1 "
                 "1 1 0\n",
                 mine);
    fd = open(d->pid_stat, O_WRONLY);
    if (fd >= 0) {
      (void)!pwrite(fd, text, (size_t)n, 0);
      close(fd);
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    busy += 4;
    idle += 4;
    mine += 1;
  }
  return NULL;
}

static void meter_attributes_a_quarter(void **state) {
  (void)state;
  char *root = gmt_mkdtemp();
  gmt_write(root, "proc/stat",
            "cpu  %012d 0 0 %012d 0 0 0 0\ncpu0 %012d 0 0 %012d 0 0 0 0\n",
            1000, 1000, 1000, 1000);
  gmt_write(root, "proc/meminfo",
            "MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\n");
  gmt_write(root, "proc/4242/stat",
            "4242 (w) S 1 1 1 0 -1 0 0 0 0 0 %012d 0 0 0 20 0 1 0 1 1 1 0\n",
            0);
  gmt_write(root, "proc/4242/task/4242/children", "%s", "");
  gmt_write(root, "sys/fs/cgroup/job_1/cpu.stat", "usage_usec 5\n");
  gmt_mkdirs(root, "dev");
  char sys[512], proc[512], dev[512];
  gmt_roots(root, sys, proc, dev, sizeof(sys));
  struct driver d;
  snprintf(d.stat, sizeof(d.stat), "%s/stat", proc);
  snprintf(d.pid_stat, sizeof(d.pid_stat), "%s/4242/stat", proc);
  atomic_init(&d.stop, false);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, drive, &d), 0);
  struct gm_meter_config c = gm_meter_config_default();
  c.sysfs_root = sys;
  c.procfs_root = proc;
  c.devfs_root = dev;
  c.no_gpu = true;
  c.track_pid = 4242;
  struct gm_meter *m = NULL;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  assert_true(gm_meter_attributing(m));
  assert_string_equal(gm_meter_attribution_subject(m),
                      "process tree of pid 4242");
  assert_int_equal(gm_meter_start(m), GM_OK);
  struct timespec ts = {0, 500 * 1000 * 1000};
  nanosleep(&ts, NULL);
  /* the same tree and an idle cgroup as further subjects, from now on */
  int sub_tree = 0, sub_cg = 0;
  char err[512];
  assert_int_equal(
      gm_meter_subject_add(m, 4242, NULL, &sub_tree, err, sizeof(err)), GM_OK);
  assert_int_equal(
      gm_meter_subject_add(m, 0, "/job_1", &sub_cg, err, sizeof(err)), GM_OK);
  assert_int_equal(
      gm_meter_subject_add(m, 0, "/job_2", &(int){0}, err, sizeof(err)),
      GM_ERR_NOT_FOUND);
  assert_non_null(strstr(err, "/job_2"));
  double added_s = gm_meter_duration_s(m);
  assert_int_equal(gm_meter_phase_begin(m, "middle", 0), GM_OK);
  nanosleep(&ts, NULL);
  assert_int_equal(gm_meter_phase_end(m, 0), GM_OK);
  nanosleep(&ts, NULL);
  assert_int_equal(gm_meter_stop(m), GM_OK);
  atomic_store(&d.stop, true);
  pthread_join(th, NULL);
  size_t dram = SIZE_MAX;
  for (size_t i = 0; i < gm_meter_component_count(m); i++)
    if (!strcmp(gm_meter_component(m, i)->name, "dram"))
      dram = i;
  assert_true(dram != SIZE_MAX);
  struct gm_component_stats st;
  struct gm_attribution r;
  assert_int_equal(gm_meter_stats(m, dram, &st), GM_OK);
  assert_int_equal(gm_meter_attribution(m, dram, &r), GM_OK);
  assert_true(r.windows >= 5);
  /* a quarter of the machine's busy time: a quarter of its DRAM energy
   * (two reads of one window may straddle a step of the driver) */
  print_message("attributed %.6f of the DRAM energy, share-time %.6f of "
                "the run (0.25 scripted)\n",
                r.energy_j / st.energy_j, r.share_s / gm_meter_duration_s(m));
  assert_double_equal(r.energy_j / st.energy_j, 0.25, 0.02);
  assert_double_equal(r.share_s / gm_meter_duration_s(m), 0.25, 0.02);
  assert_string_equal(gm_attrib_method_name(r.method),
                      "attributed by CPU-time share");
  /* a phase has its part too, over its own window */
  assert_int_equal(gm_meter_phase_count(m), 1);
  const struct gm_phase *ph = gm_meter_phase(m, 0);
  assert_non_null(ph->attributed_j);
  assert_true(ph->energy_j[dram] > 0);
  assert_double_equal(ph->attributed_j[dram] / ph->energy_j[dram], 0.25, 0.03);
  assert_double_equal(ph->attributed_share_s[dram] / ph->duration_s, 0.25,
                      0.03);
  /* the subjects added later: the tree's share since then, the idle
   * cgroup's nothing; removed, they are gone */
  struct gm_attribution sa;
  assert_int_equal(gm_meter_subject_attribution(m, sub_tree, dram, &sa), GM_OK);
  assert_double_equal(sa.share_s / (gm_meter_duration_s(m) - added_s), 0.25,
                      0.03);
  assert_true(sa.energy_j < r.energy_j);
  assert_int_equal(gm_meter_subject_attribution(m, sub_cg, dram, &sa), GM_OK);
  assert_double_equal(sa.energy_j, 0.0, 0.0);
  assert_true(sa.windows > 0);
  assert_int_equal(gm_meter_subject_remove(m, sub_cg), GM_OK);
  assert_int_equal(gm_meter_subject_attribution(m, sub_cg, dram, &sa),
                   GM_ERR_NOT_FOUND);
  assert_int_equal(gm_meter_subject_remove(m, sub_cg), GM_ERR_NOT_FOUND);
  double snap_a[16];
  struct gm_phase_snapshot snap = {.attributed_j = snap_a};
  assert_true(gm_meter_component_count(m) <= 16);
  assert_int_equal(gm_meter_phase_snapshot(m, 0, &snap), GM_OK);
  assert_double_equal(snap_a[dram], ph->attributed_j[dram], 0);
  gm_meter_destroy(m);
  /* not attributing: said so */
  c.track_pid = 0;
  assert_int_equal(gm_meter_create(&c, &m), GM_OK);
  assert_false(gm_meter_attributing(m));
  assert_int_equal(gm_meter_attribution(m, 0, &r), GM_ERR_STATE);
  gm_meter_destroy(m);
  /* a cgroup that is not there: refused with its name */
  c.track_cgroup = "/missing.slice";
  assert_int_equal(gm_meter_create(&c, &m), GM_ERR_NOT_FOUND);
  gmt_rmtree(root);
  free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_processes_get_their_shares),
      cmocka_unit_test(busy_neighbour_does_not_raise_the_command),
      cmocka_unit_test(root_gone_and_time_backwards),
      cmocka_unit_test(meter_self_time_is_not_the_subject),
      cmocka_unit_test(unknown_subject_is_counted),
      cmocka_unit_test(cgroup_subject),
      cmocka_unit_test(cgroup_cpu_stat_garbage),
      cmocka_unit_test(gpu_shares_from_the_driver),
      cmocka_unit_test(meter_attributes_a_quarter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
