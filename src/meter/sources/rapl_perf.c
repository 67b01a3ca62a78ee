/* rapl_perf.c: RAPL energy through the perf_event "power" PMU. The kernel
 * reads the 32-bit RAPL registers often enough to accumulate them in 64 bits,
 * so readings never wrap (wrap_j 0). Reading needs CPU-wide perf events:
 * kernel.perf_event_paranoid <= 0, or CAP_PERFMON.
 *
 * Discovery is plain sysfs parsing (gm__rapl_pmu_read in cpu_topology.c):
 * <sysfs>/bus/event_source/devices/power/{type,cpumask,events/energy-*}. One
 * counter is opened per event and per CPU of the cpumask (one CPU per package
 * or die), with attr.type, attr.config and attr.size set and nothing else.
 * On AMD the separate "power_core" PMU has energy-core, a per-core event: it
 * is reported as cores-<P> on the package's CPU and covers that core only.
 * Facts: Linux arch/x86/events/rapl.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"
#include "meter/cpu_topology.h"
#include "meter/source.h"

static const char perf_fix[] =
    "sudo sysctl -w kernel.perf_event_paranoid=0 (persist: echo "
    "'kernel.perf_event_paranoid = 0' | sudo tee "
    "/etc/sysctl.d/60-greenml-perf.conf), or sudo setcap cap_perfmon=ep "
    "\"$(command -v greenml)\" (Linux 5.8+; see docs/sources/rapl.md)";

_Static_assert(sizeof(perf_fix) <= sizeof(((struct gm_probe *)0)->fix),
               "the fix must fit gm_probe.fix");

struct counter {
  int fd;
  double scale_j;
};

struct rapl_perf {
  size_t n, cap;
  struct gm_component_info *info;
  struct counter *ctr;
};

static const char *errno_text(int e, char *buf, size_t size) {
  gm__strlcpy(buf, strerror(e), size);
  if (buf[0])
    buf[0] = (char)tolower((unsigned char)buf[0]);
  return buf;
}

static const char *domain_prefix(enum gm_domain d) {
  switch (d) {
  case GM_DOMAIN_PACKAGE:
    return "package";
  case GM_DOMAIN_CORES:
    return "cores";
  case GM_DOMAIN_UNCORE:
    return "uncore";
  case GM_DOMAIN_DRAM:
    return "dram";
  case GM_DOMAIN_PSYS:
    return "psys";
  case GM_DOMAIN_GPU:
  default:
    return "gpu";
  }
}

static void close_(void *self) {
  struct rapl_perf *s = self;
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++)
    if (s->ctr[i].fd >= 0)
      close(s->ctr[i].fd);
  free(s->info);
  free(s->ctr);
  free(s);
}

static void append(char *buf, size_t size, const char *sep, const char *text) {
  size_t used = strlen(buf);
  if (!gm__fmt(buf + used, size - used, "%s%s", used ? sep : "", text) &&
      size > 4)
    memcpy(buf + size - 4, "...", 4);
}

/* Opens one counting event on one CPU: pid -1 (all tasks), group -1. */
static int perf_open(uint32_t type, uint64_t config, int cpu) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.type = type;
  attr.config = config;
  attr.size = sizeof(attr);
  /* PERF_FLAG_FD_CLOEXEC: the meter runs child commands; they must not
   * inherit the counters. */
  return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1,
                      PERF_FLAG_FD_CLOEXEC);
}

/* Explains a failed perf_event_open in probe->reason (and fix). */
static enum gm_status open_failed(const struct gm__env *env,
                                  const struct gm__rapl_pmu *pmu,
                                  const struct gm__rapl_pmu_event *ev, int cpu,
                                  int e, struct gm_probe *probe) {
  char eb[96], paranoid[32], now[48] = "", path[600];
  gm__fmt(path, sizeof(path), "%s/sys/kernel/perf_event_paranoid", env->procfs);
  if (gm__read_text(path, paranoid, sizeof(paranoid)) == GM_OK)
    gm__fmt(now, sizeof(now), "; it is %s", paranoid);
  switch (e) {
  case EACCES:
  case EPERM:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "perf_event_open(%s/%s, cpu %d) failed: %s (CPU-wide events need "
            "kernel.perf_event_paranoid <= 0 or CAP_PERFMON%s)",
            pmu->name, ev->name, cpu, errno_text(e, eb, sizeof(eb)), now);
    gm__strlcpy(probe->fix, perf_fix, sizeof(probe->fix));
    return GM_ERR_PERMISSION;
  case ENOENT:
  case EINVAL:
  case ENODEV:
  case EOPNOTSUPP:
  case ENOSYS:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "perf_event_open(%s/%s: type %u, config 0x%llx, cpu %d) failed: "
            "%s (the kernel does not accept this event)",
            pmu->name, ev->name, (unsigned)pmu->type,
            (unsigned long long)ev->config, cpu, errno_text(e, eb, sizeof(eb)));
    return GM_ERR_UNAVAILABLE;
  default:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "perf_event_open(%s/%s, cpu %d) failed: %s", pmu->name, ev->name,
            cpu, errno_text(e, eb, sizeof(eb)));
    return gm__status_from_errno(e);
  }
}

/* Opens ev on cpu as component "<prefix>-<label>" (or "psys"). A failure
 * of a package event, or a permission failure, fails the source; other
 * events are skipped with a note. */
static enum gm_status add_counter(struct rapl_perf *s,
                                  const struct gm__env *env,
                                  const struct gm__rapl_pmu *pmu,
                                  const struct gm__rapl_pmu_event *ev, int cpu,
                                  const char *label, struct gm_probe *probe,
                                  char *skipped, size_t skipped_size) {
  int fd = perf_open(pmu->type, ev->config, cpu);
  if (fd < 0) {
    int e = errno;
    if (ev->domain == GM_DOMAIN_PACKAGE || e == EACCES || e == EPERM)
      return open_failed(env, pmu, ev, cpu, e, probe);
    char eb[96], note[128];
    gm__fmt(note, sizeof(note), "%s/%s on cpu%d (%s)", pmu->name, ev->name, cpu,
            errno_text(e, eb, sizeof(eb)));
    append(skipped, skipped_size, ", ", note);
    return GM_OK;
  }
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 8;
    struct gm_component_info *ni = realloc(s->info, ncap * sizeof(*ni));
    if (ni)
      s->info = ni;
    struct counter *nc = ni ? realloc(s->ctr, ncap * sizeof(*nc)) : NULL;
    if (!nc) {
      close(fd);
      return GM_ERR_NO_MEMORY;
    }
    s->ctr = nc;
    s->cap = ncap;
  }
  struct gm_component_info *ci = &s->info[s->n];
  memset(ci, 0, sizeof(*ci));
  if (ev->domain == GM_DOMAIN_PSYS)
    gm__strlcpy(ci->name, "psys", sizeof(ci->name));
  else
    gm__fmt(ci->name, sizeof(ci->name), "%s-%s", domain_prefix(ev->domain),
            label);
  gm__strlcpy(ci->source, "rapl-perf", sizeof(ci->source));
  gm__fmt(ci->detail, sizeof(ci->detail), "perf %s/%s on cpu%d, scale %.3g J%s",
          pmu->name, ev->name, cpu, ev->scale_j,
          strcmp(pmu->name, "power_core") == 0
              ? "; per-core event: covers this one core only"
          : ev->domain == GM_DOMAIN_PSYS
              ? "; platform: overlaps package and dram"
              : "");
  ci->domain = ev->domain;
  ci->kind = ev->domain == GM_DOMAIN_DRAM   ? GM_KIND_DRAM
             : ev->domain == GM_DOMAIN_PSYS ? GM_KIND_PSYS
                                            : GM_KIND_CPU;
  ci->provenance = GM_PROV_MEASURED_COUNTER;
  ci->in_total =
      ev->domain == GM_DOMAIN_PACKAGE || ev->domain == GM_DOMAIN_DRAM;
  ci->wrap_j = 0; /* the kernel accumulates 64 bits */
  s->ctr[s->n].fd = fd;
  s->ctr[s->n].scale_j = ev->scale_j;
  s->n++;
  return GM_OK;
}

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  enum gm_status rc = GM_OK;
  struct rapl_perf *s = NULL;
  struct gm__rapl_pmu pmu, core_pmu;
  struct gm__cpu_topology topo;
  struct gm__cpu_ident id;
  char path[600], err[256], skipped[256] = "";
  int *cpus = NULL;
  char(*labels)[32] = NULL;
  size_t n_cpus = 0;
  bool have_core_pmu = false;
  memset(&pmu, 0, sizeof(pmu));
  memset(&core_pmu, 0, sizeof(core_pmu));
  memset(&topo, 0, sizeof(topo));
  *self = NULL;

  gm__fmt(path, sizeof(path), "%s/bus/event_source/devices/power", env->sysfs);
  struct stat st;
  if (stat(path, &st) != 0) {
    gm__fmt(probe->reason, sizeof(probe->reason),
            "no RAPL PMU (virtual machine or unsupported CPU): no '%s'", path);
    rc = GM_ERR_UNAVAILABLE;
    goto fail;
  }
  rc = gm__rapl_pmu_read(env->sysfs, "power", &pmu, probe->reason,
                         sizeof(probe->reason));
  if (rc != GM_OK)
    goto fail;

  /* The vendor decides the RAPL scope (die on Intel, package on AMD); when
   * cpuinfo is unreadable, package scope is assumed. */
  bool per_die = false;
  if (gm__cpu_ident_read(env->procfs, &id, NULL, 0) == GM_OK)
    per_die = gm__cpu_rapl_per_die(&id);
  else
    memset(&id, 0, sizeof(id));
  rc = gm__cpu_topology_read(env->sysfs, per_die, &topo, probe->reason,
                             sizeof(probe->reason));
  if (rc != GM_OK)
    goto fail;

  /* One CPU per package: the PMU's cpumask, else each package's lead CPU. */
  n_cpus = pmu.n_cpus ? pmu.n_cpus : topo.n_packages;
  cpus = malloc(n_cpus * sizeof(*cpus));
  labels = malloc(n_cpus * sizeof(*labels));
  s = calloc(1, sizeof(*s));
  if (!cpus || !labels || !s) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  bool labels_unique = true;
  for (size_t j = 0; j < n_cpus; j++) {
    cpus[j] = pmu.n_cpus ? pmu.cpus[j] : topo.packages[j].lead_cpu;
    int p = gm__cpu_topology_package_of(&topo, cpus[j]);
    if (p < 0) {
      labels_unique = false;
      break;
    }
    gm__cpu_topology_label(&topo, (size_t)p, labels[j], sizeof(labels[j]));
    for (size_t k = 0; k < j; k++)
      if (strcmp(labels[k], labels[j]) == 0)
        labels_unique = false;
  }
  if (!labels_unique) /* cpumask and topology disagree: number in order */
    for (size_t j = 0; j < n_cpus; j++)
      gm__fmt(labels[j], sizeof(labels[j]), "%zu", j);

  /* AMD: per-core energy from the separate power_core PMU, when the power
   * PMU has no cores event of its own. */
  bool pmu_has_cores = false;
  for (size_t e = 0; e < pmu.n_events; e++)
    pmu_has_cores |= pmu.events[e].domain == GM_DOMAIN_CORES;
  if (!pmu_has_cores &&
      (id.vendor == GM__CPU_VENDOR_AMD || id.vendor == GM__CPU_VENDOR_HYGON)) {
    have_core_pmu = gm__rapl_pmu_read(env->sysfs, "power_core", &core_pmu, err,
                                      sizeof(err)) == GM_OK;
  }

  static const enum gm_domain order[] = {GM_DOMAIN_PACKAGE, GM_DOMAIN_CORES,
                                         GM_DOMAIN_UNCORE, GM_DOMAIN_DRAM};
  for (size_t j = 0; j < n_cpus; j++) {
    for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
      for (size_t e = 0; e < pmu.n_events; e++) {
        if (pmu.events[e].domain != order[o])
          continue;
        rc = add_counter(s, env, &pmu, &pmu.events[e], cpus[j], labels[j],
                         probe, skipped, sizeof(skipped));
        if (rc != GM_OK)
          goto fail;
      }
      if (order[o] != GM_DOMAIN_CORES || !have_core_pmu)
        continue;
      bool listed = core_pmu.n_cpus == 0;
      for (size_t k = 0; k < core_pmu.n_cpus; k++)
        listed |= core_pmu.cpus[k] == cpus[j];
      for (size_t e = 0; listed && e < core_pmu.n_events; e++) {
        if (core_pmu.events[e].domain != GM_DOMAIN_CORES)
          continue;
        rc = add_counter(s, env, &core_pmu, &core_pmu.events[e], cpus[j],
                         labels[j], probe, skipped, sizeof(skipped));
        if (rc != GM_OK)
          goto fail;
      }
    }
  }
  for (size_t e = 0; e < pmu.n_events && n_cpus > 0; e++) {
    if (pmu.events[e].domain != GM_DOMAIN_PSYS)
      continue;
    rc = add_counter(s, env, &pmu, &pmu.events[e], cpus[0], labels[0], probe,
                     skipped, sizeof(skipped));
    if (rc != GM_OK)
      goto fail;
    break; /* one platform counter */
  }
  if (s->n == 0) {
    gm__fmt(probe->reason, sizeof(probe->reason),
            "no perf RAPL event could be opened: %s", skipped);
    rc = GM_ERR_UNAVAILABLE;
    goto fail;
  }

  gm__fmt(probe->found, sizeof(probe->found),
          "%zu %s via perf PMU 'power' (type %u):", n_cpus,
          n_cpus == 1 ? "package" : "packages", (unsigned)pmu.type);
  for (size_t i = 0; i < s->n; i++)
    append(probe->found, sizeof(probe->found), i ? ", " : " ", s->info[i].name);
  if (skipped[0]) {
    append(probe->found, sizeof(probe->found), "; ", "not opened: ");
    append(probe->found, sizeof(probe->found), "", skipped);
  }
  if (pmu.notes[0]) {
    append(probe->found, sizeof(probe->found), "; ", "ignored: ");
    append(probe->found, sizeof(probe->found), "", pmu.notes);
  }
  probe->reason[0] = '\0';
  probe->fix[0] = '\0';
  *self = s;
  s = NULL;

fail:
  close_(s);
  free(cpus);
  free(labels);
  gm__rapl_pmu_release(&pmu);
  gm__rapl_pmu_release(&core_pmu);
  gm__cpu_topology_release(&topo);
  return rc;
}

static size_t component_count_(const void *self) {
  return ((const struct rapl_perf *)self)->n;
}

static const struct gm_component_info *component_(const void *self, size_t i) {
  const struct rapl_perf *s = self;
  return i < s->n ? &s->info[i] : NULL;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  struct rapl_perf *s = self;
  size_t ok = 0;
  (void)tick;
  (void)metrics;
  for (size_t i = 0; i < s->n; i++) {
    struct gm__reading *r = &out[i];
    uint64_t count;
    ssize_t got;
    memset(r, 0, sizeof(*r));
    do
      got = read(s->ctr[i].fd, &count, sizeof(count));
    while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof(count)) {
      r->ok = true;
      r->has_energy = true;
      r->energy_j = (double)count * s->ctr[i].scale_j;
      ok++;
    } else {
      r->lost = got < 0 && errno == ENODEV;
    }
  }
  return ok > 0 || s->n == 0 ? GM_OK : GM_ERR_IO;
}

const struct gm__source_ops gm__source_rapl_perf = {
    .name = "rapl-perf",
    .roles = GM__ROLE_CPU_PACKAGE | GM__ROLE_DRAM,
    .preference = 1,
    .open = open_,
    .component_count = component_count_,
    .component = component_,
    .metric_count = NULL,
    .metric = NULL,
    .read = read_,
    .close = close_,
};
