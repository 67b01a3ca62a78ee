/* rapl_powercap.c: RAPL through the powercap sysfs tree
 * (<sysfs>/class/powercap/intel-rapl:N[:M], Intel and AMD alike).
 *
 * Zones are identified by their `name` file, never by their number. Packages
 * are in the total; their core/uncore subzones are reported but kept out of
 * the total (a package already contains them); psys overlaps package and
 * DRAM and is kept out too. energy_uj is a 32-bit counter scaled to uJ that
 * wraps at max_energy_range_uj; the meter differences it with that range.
 * Each read opens the file relative to the zone directory, so a zone that
 * vanishes (driver unload) is seen as such instead of reading a stale inode.
 * intel-rapl-mmio duplicates the package domain and is ignored. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "meter/source.h"

#define MAX_ZONES 64

struct zone {
  int dirfd;
  char path[384];
  struct gm_component_info info;
};

struct powercap {
  size_t n;
  struct zone zones[MAX_ZONES];
};

/* "intel-rapl:0" -> top level (pkg 0); "intel-rapl:0:1" -> subzone. */
static bool parse_zone_dirname(const char *d, int *top, int *sub) {
  const char *prefix = "intel-rapl:";
  size_t pl = strlen(prefix);
  if (strncmp(d, prefix, pl) != 0)
    return false;
  char *end;
  long a = strtol(d + pl, &end, 10);
  if (end == d + pl || a < 0)
    return false;
  *top = (int)a;
  *sub = -1;
  if (*end == ':') {
    const char *s = end + 1;
    long b = strtol(s, &end, 10);
    if (end == s || b < 0)
      return false;
    *sub = (int)b;
  }
  return *end == '\0';
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Classifies a zone by its name and the name of its package. */
static bool classify(const char *name, const char *pkg_label,
                     struct gm_component_info *ci) {
  if (strncmp(name, "package-", 8) == 0) {
    gm__fmt(ci->name, sizeof(ci->name), "%s", name);
    ci->kind = GM_KIND_CPU;
    ci->domain = GM_DOMAIN_PACKAGE;
    ci->in_total = true;
  } else if (strcmp(name, "core") == 0) {
    gm__fmt(ci->name, sizeof(ci->name), "cores-%s", pkg_label);
    ci->kind = GM_KIND_CPU;
    ci->domain = GM_DOMAIN_CORES;
    ci->in_total = false;
  } else if (strcmp(name, "uncore") == 0) {
    gm__fmt(ci->name, sizeof(ci->name), "uncore-%s", pkg_label);
    ci->kind = GM_KIND_CPU;
    ci->domain = GM_DOMAIN_UNCORE;
    ci->in_total = false;
  } else if (strcmp(name, "dram") == 0) {
    gm__fmt(ci->name, sizeof(ci->name), "dram-%s", pkg_label);
    ci->kind = GM_KIND_DRAM;
    ci->domain = GM_DOMAIN_DRAM;
    ci->in_total = true;
  } else if (strncmp(name, "psys", 4) == 0) {
    gm__fmt(ci->name, sizeof(ci->name), "%s", name);
    ci->kind = GM_KIND_PSYS;
    ci->domain = GM_DOMAIN_PSYS;
    ci->in_total = false;
  } else {
    return false;
  }
  return true;
}

static enum gm_status read_energy_uj(int dirfd, uint64_t *out) {
  int fd = openat(dirfd, "energy_uj", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return gm__status_from_errno(errno);
  char buf[32];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof(buf) - 1);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0)
    return gm__status_from_errno(err);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return gm__parse_u64(buf, out) ? GM_OK : GM_ERR_PARSE;
}

/* The highest power a zone's constraints name (power limits and the
 * hardware's max power), in W; 0 when it has none readable. */
static double zone_limit_w(const char *zone_path) {
  double best = 0;
  for (int c = 0; c < 8; c++) {
    static const char *const files[] = {"power_limit_uw", "max_power_uw"};
    for (size_t f = 0; f < 2; f++) {
      char file[512];
      uint64_t uw;
      gm__fmt(file, sizeof(file), "%s/constraint_%d_%s", zone_path, c,
              files[f]);
      /* 100 kW per zone at most: a larger value is not a limit */
      if (gm__read_u64(file, &uw) == GM_OK && uw > 0 && uw <= 100000000000ull &&
          (double)uw / 1e6 > best)
        best = (double)uw / 1e6;
    }
  }
  return best;
}

static void close_(void *self) {
  struct powercap *pc = self;
  if (!pc)
    return;
  for (size_t i = 0; i < pc->n; i++)
    if (pc->zones[i].dirfd >= 0)
      close(pc->zones[i].dirfd);
  free(pc);
}

static void append(char *buf, size_t size, const char *text) {
  size_t len = strlen(buf);
  if (len + 1 < size)
    gm__fmt(buf + len, size - len, "%s%s", len ? "; " : "", text);
}

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  *self = NULL;
  char base[512];
  gm__fmt(base, sizeof(base), "%s/class/powercap", env->sysfs);
  DIR *d = opendir(base);
  if (!d) {
    enum gm_status rc = gm__status_from_errno(errno);
    gm__fmt(probe->reason, sizeof(probe->reason),
            "no powercap tree at '%s' (%s): virtual machine, non-x86 CPU or "
            "the intel_rapl driver not loaded",
            base, gm_status_str(rc));
    gm__fmt(probe->fix, sizeof(probe->fix),
            "on bare metal: sudo modprobe intel_rapl_msr (Intel and AMD "
            "Zen, Linux >= 5.11 for AMD)");
    return rc == GM_ERR_PERMISSION ? rc : GM_ERR_UNAVAILABLE;
  }
  char *names[MAX_ZONES * 2];
  size_t nn = 0;
  bool saw_mmio = false;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && nn < MAX_ZONES * 2) {
    int top, sub;
    if (strncmp(de->d_name, "intel-rapl-mmio", 15) == 0)
      saw_mmio = true;
    if (parse_zone_dirname(de->d_name, &top, &sub))
      names[nn++] = strdup(de->d_name);
  }
  closedir(d);
  qsort(names, nn, sizeof(names[0]), cmp_str);

  struct powercap *pc = calloc(1, sizeof(*pc));
  if (!pc) {
    for (size_t i = 0; i < nn; i++)
      free(names[i]);
    return GM_ERR_NO_MEMORY;
  }
  enum gm_status worst = GM_OK;
  double package_limit_w[MAX_ZONES] = {0}; /* by top-level zone number */
  char bad[512] = "";
  char path_denied[400] = "";
  for (size_t i = 0; i < nn && pc->n < MAX_ZONES; i++) {
    if (!names[i])
      continue;
    int top, sub;
    parse_zone_dirname(names[i], &top, &sub);
    struct zone *z = &pc->zones[pc->n];
    z->dirfd = -1;
    gm__fmt(z->path, sizeof(z->path), "%s/%s", base, names[i]);
    char file[512], name[64], pkg_name[64] = "";
    gm__fmt(file, sizeof(file), "%s/name", z->path);
    if (gm__read_text(file, name, sizeof(name)) != GM_OK) {
      char msg[600];
      gm__fmt(msg, sizeof(msg), "'%s' unreadable", file);
      append(bad, sizeof(bad), msg);
      continue;
    }
    const char *pkg_label = "0";
    if (sub >= 0) {
      char pfile[512];
      gm__fmt(pfile, sizeof(pfile), "%s/intel-rapl:%d/name", base, top);
      if (gm__read_text(pfile, pkg_name, sizeof(pkg_name)) == GM_OK &&
          strncmp(pkg_name, "package-", 8) == 0)
        pkg_label = pkg_name + 8;
    } else if (strncmp(name, "package-", 8) == 0) {
      pkg_label = name + 8;
    }
    memset(&z->info, 0, sizeof(z->info));
    if (!classify(name, pkg_label, &z->info)) {
      char msg[200];
      gm__fmt(msg, sizeof(msg), "zone '%s' of unknown kind ignored", name);
      append(bad, sizeof(bad), msg);
      continue;
    }
    gm__strlcpy(z->info.source, "rapl-powercap", sizeof(z->info.source));
    z->info.provenance = GM_PROV_MEASURED_COUNTER;
    uint64_t range_uj = 0;
    gm__fmt(file, sizeof(file), "%s/max_energy_range_uj", z->path);
    enum gm_status rrc = gm__read_u64(file, &range_uj);
    if (rrc != GM_OK || range_uj == 0) {
      /* Without the range a wrap cannot be told from a reset; the kernel's
       * value for a 61 uJ unit is the usual one, but guessing would risk a
       * 262 kJ error, so the zone is refused. */
      char msg[600];
      gm__fmt(msg, sizeof(msg), "'%s': %s", file,
              rrc == GM_OK ? "zero range" : gm_status_str(rrc));
      append(bad, sizeof(bad), msg);
      gm__missing_add(env, z->info.name, "rapl-powercap", z->info.kind,
                      z->info.in_total, msg);
      if (worst == GM_OK)
        worst = rrc == GM_OK ? GM_ERR_PARSE : rrc;
      continue;
    }
    z->info.wrap_j = (double)range_uj / 1e6;
    z->dirfd = open(z->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t e_uj;
    enum gm_status erc =
        z->dirfd >= 0 ? read_energy_uj(z->dirfd, &e_uj) : GM_ERR_IO;
    if (erc != GM_OK) {
      char msg[600];
      gm__fmt(msg, sizeof(msg), "'%s/energy_uj': %s", z->path,
              gm_status_str(erc));
      append(bad, sizeof(bad), msg);
      gm__missing_add(env, z->info.name, "rapl-powercap", z->info.kind,
                      z->info.in_total, msg);
      if (erc == GM_ERR_PERMISSION && !path_denied[0])
        gm__fmt(path_denied, sizeof(path_denied), "%s/energy_uj", z->path);
      if (worst == GM_OK || erc == GM_ERR_PERMISSION)
        worst = erc;
      if (z->dirfd >= 0)
        close(z->dirfd);
      z->dirfd = -1;
      continue;
    }
    gm__fmt(z->info.detail, sizeof(z->info.detail),
            "powercap zone '%s' (%s), counter range %.0f J", names[i], name,
            z->info.wrap_j);
    /* Twice the highest limit: RAPL holds the average under its limits,
     * not every interval. Cores and uncore inside a package are bounded by
     * the package's when they have none of their own. */
    double limit_w = zone_limit_w(z->path);
    if (sub < 0 && top < MAX_ZONES)
      package_limit_w[top] = limit_w;
    bool inherited = false;
    if (limit_w <= 0 && sub >= 0 && top < MAX_ZONES &&
        z->info.domain != GM_DOMAIN_DRAM) {
      limit_w = package_limit_w[top];
      inherited = limit_w > 0;
    }
    if (limit_w > 0) {
      z->info.max_power_w = 2.0 * limit_w;
      gm__fmt(z->info.max_power_origin, sizeof(z->info.max_power_origin),
              "2 x the highest RAPL constraint of %s, %.1f W",
              inherited ? "its package" : "the zone", limit_w);
    }
    pc->n++;
  }
  for (size_t i = 0; i < nn; i++)
    free(names[i]);

  for (size_t i = 0; i < pc->n; i++) {
    char item[96];
    gm__fmt(item, sizeof(item), "%s", pc->zones[i].info.name);
    append(probe->found, sizeof(probe->found), item);
  }
  if (saw_mmio)
    append(probe->found, sizeof(probe->found),
           "intel-rapl-mmio ignored (duplicates the package)");
  if (bad[0])
    gm__strlcpy(probe->reason, bad, sizeof(probe->reason));
  if (path_denied[0])
    gm__fmt(probe->fix, sizeof(probe->fix),
            "energy_uj is root-only since CVE-2020-8694; either run: sudo "
            "chmod o+r %s/intel-rapl:*/energy_uj %s/intel-rapl:*:*/energy_uj "
            "(until reboot), or install the udev rule from README "
            "'Granting RAPL access', or: sudo setcap cap_dac_read_search=ep "
            "$(command -v greenml)",
            base, base);
  if (pc->n == 0) {
    close_(pc);
    if (nn == 0) {
      gm__fmt(probe->reason, sizeof(probe->reason),
              "'%s' holds no intel-rapl zones", base);
      gm__fmt(probe->fix, sizeof(probe->fix),
              "sudo modprobe intel_rapl_msr (needs a CPU with RAPL)");
      return GM_ERR_UNAVAILABLE;
    }
    return worst == GM_OK ? GM_ERR_UNAVAILABLE : worst;
  }
  bool has_pkg = false;
  for (size_t i = 0; i < pc->n; i++)
    has_pkg |= pc->zones[i].info.domain == GM_DOMAIN_PACKAGE;
  if (!has_pkg) {
    /* Subzones without their package cannot stand in for the CPU. */
    append(probe->reason, sizeof(probe->reason), "no readable package zone");
    close_(pc);
    return worst == GM_OK ? GM_ERR_UNAVAILABLE : worst;
  }
  *self = pc;
  return GM_OK;
}

static size_t component_count(const void *self) {
  return ((const struct powercap *)self)->n;
}

static const struct gm_component_info *component(const void *self, size_t i) {
  const struct powercap *pc = self;
  return i < pc->n ? &pc->zones[i].info : NULL;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  (void)tick;
  (void)metrics;
  struct powercap *pc = self;
  size_t ok = 0;
  for (size_t i = 0; i < pc->n; i++) {
    struct gm__reading *r = &out[i];
    memset(r, 0, sizeof(*r));
    uint64_t e_uj;
    if (read_energy_uj(pc->zones[i].dirfd, &e_uj) == GM_OK) {
      r->ok = true;
      r->has_energy = true;
      r->energy_j = (double)e_uj / 1e6;
      ok++;
    }
  }
  return ok ? GM_OK : GM_ERR_IO;
}

const struct gm__source_ops gm__source_rapl_powercap = {
    .name = "rapl-powercap",
    .roles = GM__ROLE_CPU_PACKAGE | GM__ROLE_DRAM,
    .preference = 0,
    .open = open_,
    .component_count = component_count,
    .component = component,
    .read = read_,
    .close = close_,
};
