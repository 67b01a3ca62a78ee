/* rapl_msr.c: RAPL energy counters read straight from the model-specific
 * registers through the msr driver, <devfs>/cpu/<N>/msr, one CPU per
 * package (per die on Intel). The file offset is the register number; each
 * read returns 8 bytes. The counters are 32 bits wide: a reading is the raw
 * counter times the energy unit, and the meter differences it modulo
 * wrap_j = 2^32 x unit.
 *
 * Intel: units 0x606, package 0x611, cores (PP0) 0x639, uncore (PP1) 0x641,
 * dram 0x619, psys 0x64D. AMD/Hygon family 17h+: units 0xC0010299, package
 * 0xC001029B, and 0xC001029A, which is per core: it is reported as cores-<P>
 * of the lead CPU and covers that one core only. Facts: Linux msr-index.h,
 * intel_rapl_common.c.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "meter/cpu_topology.h"
#include "meter/source.h"

#define MSR_RAPL_POWER_UNIT 0x606u
#define MSR_PKG_ENERGY_STATUS 0x611u
#define MSR_DRAM_ENERGY_STATUS 0x619u
#define MSR_PP0_ENERGY_STATUS 0x639u
#define MSR_PP1_ENERGY_STATUS 0x641u
#define MSR_PLATFORM_ENERGY_STATUS 0x64Du
#define MSR_AMD_RAPL_POWER_UNIT 0xC0010299u
#define MSR_AMD_CORE_ENERGY_STATUS 0xC001029Au
#define MSR_AMD_PKG_ENERGY_STATUS 0xC001029Bu

#define ENERGY_MASK UINT64_C(0xFFFFFFFF)
#define COUNTER_RANGE 4294967296.0 /* 2^32 */

/* The fixed DRAM unit the kernel (powercap) uses on these Intel family 6
 * servers, whatever MSR 0x606 says: Haswell-EP, Broadwell-EP, Skylake-X,
 * Ice Lake-X, Ice Lake-D, Xeon Phi KNL and KNM. */
#define DRAM_FIXED_UNIT_J 15.3e-6
static const unsigned dram_quirk_models[] = {63, 79, 85, 106, 108, 87, 133};
/* Sapphire Rapids and Emerald Rapids count psys in 1 J units. */
static const unsigned psys_1j_models[] = {143, 207};

static const char msr_fix[] =
    "sudo modprobe msr; sudo groupadd -f msr; sudo usermod -aG msr \"$USER\"; "
    "echo 'SUBSYSTEM==\"msr\", GROUP=\"msr\", MODE=\"0640\"' | sudo tee "
    "/etc/udev/rules.d/60-msr.rules; sudo udevadm control --reload-rules; "
    "sudo udevadm trigger --subsystem-match=msr; sudo setcap cap_sys_rawio=ep "
    "\"$(command -v greenml)\" (see docs/sources/rapl.md)";

_Static_assert(sizeof(msr_fix) <= sizeof(((struct gm_probe *)0)->fix),
               "the fix must fit gm_probe.fix");

struct domain_def {
  uint32_t msr;
  enum gm_domain domain;
  const char *prefix; /* component name prefix */
};

static const struct domain_def intel_domains[] = {
    {MSR_PKG_ENERGY_STATUS, GM_DOMAIN_PACKAGE, "package"},
    {MSR_PP0_ENERGY_STATUS, GM_DOMAIN_CORES, "cores"},
    {MSR_PP1_ENERGY_STATUS, GM_DOMAIN_UNCORE, "uncore"},
    {MSR_DRAM_ENERGY_STATUS, GM_DOMAIN_DRAM, "dram"},
};
static const struct domain_def intel_psys = {MSR_PLATFORM_ENERGY_STATUS,
                                             GM_DOMAIN_PSYS, "psys"};
static const struct domain_def amd_domains[] = {
    {MSR_AMD_PKG_ENERGY_STATUS, GM_DOMAIN_PACKAGE, "package"},
    {MSR_AMD_CORE_ENERGY_STATUS, GM_DOMAIN_CORES, "cores"},
};

/* One counter: a register on the lead CPU of a package. */
struct counter {
  int fd; /* borrowed from rapl_msr.fds */
  uint32_t msr;
  double unit_j;
  bool present; /* open only: read non-zero */
};

struct rapl_msr {
  size_t n_fds;
  int *fds; /* one per package, -1 when not open */
  size_t n;
  struct gm_component_info *info;
  struct counter *ctr;
};

static const char *errno_text(int e, char *buf, size_t size) {
  gm__strlcpy(buf, strerror(e), size);
  if (buf[0])
    buf[0] = (char)tolower((unsigned char)buf[0]);
  return buf;
}

/* Reads one 64-bit register. On failure *err is errno, or 0 for a short
 * read. */
static bool read_msr(int fd, uint32_t msr, uint64_t *value, int *err) {
  ssize_t got;
  do
    got = pread(fd, value, sizeof(*value), (off_t)msr);
  while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof(*value))
    return true;
  *err = got < 0 ? errno : 0;
  return false;
}

static bool model_in(const struct gm__cpu_ident *id, const unsigned *models,
                     size_t n) {
  if (id->vendor != GM__CPU_VENDOR_INTEL || id->family != 6)
    return false;
  for (size_t i = 0; i < n; i++)
    if (models[i] == id->model)
      return true;
  return false;
}

static void format_unit(char *buf, size_t size, double unit_j) {
  if (unit_j < 1e-3)
    gm__fmt(buf, size, "%.4g uJ", unit_j * 1e6);
  else
    gm__fmt(buf, size, "%.4g J", unit_j);
}

static void close_(void *self) {
  struct rapl_msr *s = self;
  if (!s)
    return;
  for (size_t i = 0; i < s->n_fds; i++)
    if (s->fds[i] >= 0)
      close(s->fds[i]);
  free(s->fds);
  free(s->info);
  free(s->ctr);
  free(s);
}

/* Adds a candidate counter (kept when it reads non-zero). */
static void add_candidate(struct rapl_msr *s, const struct domain_def *def,
                          int fd, int cpu, const char *label, double unit_j,
                          const char *note) {
  struct gm_component_info *ci = &s->info[s->n];
  struct counter *c = &s->ctr[s->n];
  char unit[32];
  memset(ci, 0, sizeof(*ci));
  if (def->domain == GM_DOMAIN_PSYS)
    gm__strlcpy(ci->name, "psys", sizeof(ci->name));
  else
    gm__fmt(ci->name, sizeof(ci->name), "%s-%s", def->prefix, label);
  gm__strlcpy(ci->source, "rapl-msr", sizeof(ci->source));
  format_unit(unit, sizeof(unit), unit_j);
  gm__fmt(ci->detail, sizeof(ci->detail), "MSR 0x%X on cpu%d, unit %s%s",
          (unsigned)def->msr, cpu, unit, note);
  ci->domain = def->domain;
  ci->kind = def->domain == GM_DOMAIN_DRAM   ? GM_KIND_DRAM
             : def->domain == GM_DOMAIN_PSYS ? GM_KIND_PSYS
                                             : GM_KIND_CPU;
  ci->provenance = GM_PROV_MEASURED_COUNTER;
  ci->in_total =
      def->domain == GM_DOMAIN_PACKAGE || def->domain == GM_DOMAIN_DRAM;
  ci->wrap_j = COUNTER_RANGE * unit_j;
  ci->power_interval_mean = false;
  c->fd = fd;
  c->msr = def->msr;
  c->unit_j = unit_j;
  uint64_t v;
  int err;
  c->present = read_msr(fd, def->msr, &v, &err) && (v & ENERGY_MASK) != 0;
  s->n++;
}

/* Explains a failed open of an msr device file. */
static enum gm_status open_failed(const char *path, int cpu, int e,
                                  struct gm_probe *probe) {
  char eb[96];
  switch (e) {
  case EACCES:
  case EPERM:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "cannot open '%s': %s (reading MSRs needs read access to the "
            "device and CAP_SYS_RAWIO)",
            path, errno_text(e, eb, sizeof(eb)));
    gm__strlcpy(probe->fix, msr_fix, sizeof(probe->fix));
    return GM_ERR_PERMISSION;
  case ENOENT:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "no '%s': the msr driver is not loaded", path);
    gm__strlcpy(probe->fix, "sudo modprobe msr", sizeof(probe->fix));
    return GM_ERR_UNAVAILABLE;
  case ENXIO:
  case EIO:
    gm__fmt(probe->reason, sizeof(probe->reason),
            "cannot open '%s': %s (cpu%d is offline or has no MSRs)", path,
            errno_text(e, eb, sizeof(eb)), cpu);
    return GM_ERR_UNAVAILABLE;
  default:
    gm__fmt(probe->reason, sizeof(probe->reason), "cannot open '%s': %s", path,
            errno_text(e, eb, sizeof(eb)));
    return gm__status_from_errno(e);
  }
}

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  enum gm_status rc = GM_OK;
  struct rapl_msr *s = NULL;
  struct gm__cpu_ident id;
  struct gm__cpu_topology topo;
  char path[600], eb[96];
  const struct domain_def *domains;
  size_t n_domains;
  uint32_t unit_msr;
  double psys_unit_j = 0;
  int psys_fd = -1, psys_cpu = 0;
  memset(&topo, 0, sizeof(topo));
  *self = NULL;

  rc = gm__cpu_ident_read(env->procfs, &id, probe->reason,
                          sizeof(probe->reason));
  if (rc != GM_OK)
    goto fail;
  if (id.vendor == GM__CPU_VENDOR_INTEL) {
    unit_msr = MSR_RAPL_POWER_UNIT;
    domains = intel_domains;
    n_domains = sizeof(intel_domains) / sizeof(intel_domains[0]);
  } else if (id.vendor == GM__CPU_VENDOR_AMD ||
             id.vendor == GM__CPU_VENDOR_HYGON) {
    if (id.family < 0x17) {
      gm__fmt(probe->reason, sizeof(probe->reason),
              "%s family 0x%X has no RAPL MSRs (family 17h or newer needed)",
              id.vendor_id, id.family);
      rc = GM_ERR_UNAVAILABLE;
      goto fail;
    }
    unit_msr = MSR_AMD_RAPL_POWER_UNIT;
    domains = amd_domains;
    n_domains = sizeof(amd_domains) / sizeof(amd_domains[0]);
  } else {
    gm__fmt(probe->reason, sizeof(probe->reason),
            "unsupported CPU vendor '%s': RAPL MSRs exist on Intel and AMD "
            "family 17h+ only",
            id.vendor_id);
    rc = GM_ERR_UNAVAILABLE;
    goto fail;
  }

  rc = gm__cpu_topology_read(env->sysfs, gm__cpu_rapl_per_die(&id), &topo,
                             probe->reason, sizeof(probe->reason));
  if (rc != GM_OK)
    goto fail;

  gm__fmt(path, sizeof(path), "%s/cpu", env->devfs);
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    rc = open_failed(path, 0, e, probe);
    goto fail;
  }

  s = calloc(1, sizeof(*s));
  if (!s) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  size_t cap = topo.n_packages * n_domains + 1;
  s->fds = malloc(topo.n_packages * sizeof(*s->fds));
  s->info = calloc(cap, sizeof(*s->info));
  s->ctr = calloc(cap, sizeof(*s->ctr));
  if (!s->fds || !s->info || !s->ctr) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  s->n_fds = topo.n_packages;
  for (size_t i = 0; i < s->n_fds; i++)
    s->fds[i] = -1;

  for (size_t i = 0; i < topo.n_packages; i++) {
    int cpu = topo.packages[i].lead_cpu;
    char label[32];
    uint64_t unit_raw;
    int err;
    gm__cpu_topology_label(&topo, i, label, sizeof(label));
    gm__fmt(path, sizeof(path), "%s/cpu/%d/msr", env->devfs, cpu);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      rc = open_failed(path, cpu, e, probe);
      goto fail;
    }
    s->fds[i] = fd;
    if (!read_msr(fd, unit_msr, &unit_raw, &err)) {
      if (err == 0 || err == EIO) {
        gm__fmt(probe->reason, sizeof(probe->reason),
                "cpu%d does not implement the RAPL unit MSR 0x%X ('%s': %s)",
                cpu, (unsigned)unit_msr, path,
                err ? errno_text(err, eb, sizeof(eb)) : "short read");
        rc = GM_ERR_UNAVAILABLE;
      } else {
        gm__fmt(probe->reason, sizeof(probe->reason),
                "cannot read MSR 0x%X from '%s': %s", (unsigned)unit_msr, path,
                errno_text(err, eb, sizeof(eb)));
        rc = gm__status_from_errno(err);
      }
      goto fail;
    }
    double unit_j = ldexp(1.0, -(int)((unit_raw >> 8) & 0x1F));
    for (size_t k = 0; k < n_domains; k++) {
      const struct domain_def *def = &domains[k];
      double u = unit_j;
      const char *note = "";
      if (def->domain == GM_DOMAIN_DRAM &&
          model_in(&id, dram_quirk_models,
                   sizeof(dram_quirk_models) / sizeof(dram_quirk_models[0]))) {
        u = DRAM_FIXED_UNIT_J;
        note = " (fixed DRAM unit of this model)";
      } else if (def->msr == MSR_AMD_CORE_ENERGY_STATUS) {
        note = "; per-core register: covers this one core only";
      }
      add_candidate(s, def, fd, cpu, label, u, note);
    }
    if (i == 0 && id.vendor == GM__CPU_VENDOR_INTEL) {
      psys_fd = fd;
      psys_cpu = cpu;
      psys_unit_j = model_in(&id, psys_1j_models,
                             sizeof(psys_1j_models) / sizeof(psys_1j_models[0]))
                        ? 1.0
                        : unit_j;
    }
  }
  if (psys_fd >= 0)
    add_candidate(s, &intel_psys, psys_fd, psys_cpu, "", psys_unit_j,
                  "; platform: overlaps package and dram");

  /* A counter that read 0 may just not have ticked yet (it updates about
   * every millisecond): read it once more after a pause. */
  bool any_zero = false;
  for (size_t i = 0; i < s->n; i++)
    any_zero |= !s->ctr[i].present;
  if (any_zero) {
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (size_t i = 0; i < s->n; i++) {
      uint64_t v;
      int err;
      if (!s->ctr[i].present)
        s->ctr[i].present = read_msr(s->ctr[i].fd, s->ctr[i].msr, &v, &err) &&
                            (v & ENERGY_MASK) != 0;
    }
  }
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!s->ctr[i].present)
      continue;
    s->info[w] = s->info[i];
    s->ctr[w] = s->ctr[i];
    w++;
  }
  s->n = w;
  if (s->n == 0) {
    gm__fmt(probe->reason, sizeof(probe->reason),
            "no RAPL energy counter reads non-zero through '%s/cpu/*/msr' "
            "(virtual machine or unsupported CPU)",
            env->devfs);
    rc = GM_ERR_UNAVAILABLE;
    goto fail;
  }

  {
    char unit[32];
    size_t used;
    format_unit(unit, sizeof(unit), s->ctr[0].unit_j);
    gm__fmt(probe->found, sizeof(probe->found),
            "%zu %s via '%s/cpu/*/msr' (%s family %u model %u, unit %s):",
            topo.n_packages, topo.n_packages == 1 ? "package" : "packages",
            env->devfs, id.vendor_id, id.family, id.model, unit);
    for (size_t i = 0; i < s->n; i++) {
      used = strlen(probe->found);
      if (!gm__fmt(probe->found + used, sizeof(probe->found) - used, "%s%s",
                   i ? ", " : " ", s->info[i].name)) {
        used = strlen(probe->found);
        if (used > 3)
          memcpy(probe->found + used - 3, "...", 4);
        break;
      }
    }
  }
  probe->reason[0] = '\0';
  probe->fix[0] = '\0';
  *self = s;
  gm__cpu_topology_release(&topo);
  return GM_OK;

fail:
  close_(s);
  gm__cpu_topology_release(&topo);
  return rc;
}

static size_t component_count_(const void *self) {
  return ((const struct rapl_msr *)self)->n;
}

static const struct gm_component_info *component_(const void *self, size_t i) {
  const struct rapl_msr *s = self;
  return i < s->n ? &s->info[i] : NULL;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  struct rapl_msr *s = self;
  size_t ok = 0;
  (void)tick;
  (void)metrics;
  for (size_t i = 0; i < s->n; i++) {
    struct gm__reading *r = &out[i];
    uint64_t v;
    int err;
    memset(r, 0, sizeof(*r));
    if (read_msr(s->ctr[i].fd, s->ctr[i].msr, &v, &err)) {
      r->ok = true;
      r->has_energy = true;
      r->energy_j = (double)(v & ENERGY_MASK) * s->ctr[i].unit_j;
      ok++;
    } else {
      r->lost = err == ENXIO || err == ENODEV; /* CPU went offline */
    }
  }
  return ok > 0 || s->n == 0 ? GM_OK : GM_ERR_IO;
}

const struct gm__source_ops gm__source_rapl_msr = {
    .name = "rapl-msr",
    .roles = GM__ROLE_CPU_PACKAGE | GM__ROLE_DRAM,
    .preference = 2,
    .open = open_,
    .component_count = component_count_,
    .component = component_,
    .metric_count = NULL,
    .metric = NULL,
    .read = read_,
    .close = close_,
};
