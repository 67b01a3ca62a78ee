/* cpu_model.c: the "cpu-tdp-model" source. Models whole-CPU power as
 *
 *   P = TDP x u
 *
 * where u is the whole-machine CPU utilisation over the interval that just
 * ended (tick->cpu_util_frac, from /proc/stat; the meter computes it). This
 * is the linear "TDP x utilisation" model of Mavromatis et al. (2024). The
 * meter uses it only when no RAPL method measures the CPU.
 *
 * TDP, first that applies (recorded in the component detail and the probe):
 *   1. env->cpu_tdp_w > 0 (--cpu-tdp);
 *   2. RAPL powercap constraints: for every top-level package zone
 *      <sysfs>/class/powercap/intel-rapl:N whose name is "package-*", the
 *      constraint named "long_term" (PL1): its max_power_uw, else its
 *      power_limit_uw when max_power_uw is 0 or unreadable; summed over the
 *      packages. These files are often readable when energy_uj is root-only.
 *      Every package must yield a value in (0, 1000] W, else this step is
 *      skipped;
 *   3. the built-in table (tables/cpu_tdp.csv, see meter/cpu_tdp.h) matched
 *      against the first "model name" of <procfs>/cpuinfo, times the number
 *      of sockets (distinct "physical id" values, at least 1);
 *   4. 85 W per socket: CodeCarbon's generic constant for unknown CPUs.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "meter/cpu_tdp.h"
#include "meter/source.h"

#define DEFAULT_TDP_PER_SOCKET_W 85.0
#define MAX_PACKAGE_W 1000.0 /* above this a PL1 value means "unlimited" */

enum { MAX_PACKAGES = 64, MAX_SOCKETS = 256 };

struct cpu_model {
  struct gm_component_info info;
  double tdp_w;
};

/* Watts as "150" or "150.5". */
static const char *fmt_w(char *buf, size_t size, double w) {
  if (w == floor(w) && fabs(w) < 1e15)
    gm__fmt(buf, size, "%.0f", w);
  else
    gm__fmt(buf, size, "%.1f", w);
  return buf;
}

/* ---- step 2: powercap constraints ------------------------------------- */

struct package_limit {
  unsigned zone; /* N of intel-rapl:N */
  char name[32]; /* "package-0" */
  double w;      /* long_term limit, W */
};

/* "intel-rapl:<digits>" and nothing more (no subzone, no -mmio). */
static bool top_level_zone(const char *d, unsigned *zone) {
  static const char prefix[] = "intel-rapl:";
  if (strncmp(d, prefix, sizeof(prefix) - 1) != 0)
    return false;
  uint64_t v;
  if (!gm__parse_u64(d + sizeof(prefix) - 1, &v) || v > 1000000)
    return false;
  *zone = (unsigned)v;
  return true;
}

/* The long_term constraint of one zone in W; false when none is usable. */
static bool zone_long_term_w(const char *zone_dir, double *w) {
  char path[512], text[64];
  for (unsigned j = 0; j < 16; j++) {
    if (!gm__fmt(path, sizeof(path), "%s/constraint_%u_name", zone_dir, j))
      return false;
    if (gm__read_text(path, text, sizeof(text)) != GM_OK)
      return false; /* constraints are numbered densely from 0 */
    if (strcmp(text, "long_term") != 0)
      continue;
    uint64_t uw = 0;
    if (gm__fmt(path, sizeof(path), "%s/constraint_%u_max_power_uw", zone_dir,
                j) &&
        gm__read_u64(path, &uw) == GM_OK && uw > 0) {
      *w = (double)uw / 1e6;
    } else if (gm__fmt(path, sizeof(path), "%s/constraint_%u_power_limit_uw",
                       zone_dir, j) &&
               gm__read_u64(path, &uw) == GM_OK && uw > 0) {
      *w = (double)uw / 1e6;
    } else {
      return false;
    }
    return *w > 0 && *w <= MAX_PACKAGE_W;
  }
  return false;
}

static int cmp_package(const void *a, const void *b) {
  const struct package_limit *x = a, *y = b;
  return (x->zone > y->zone) - (x->zone < y->zone);
}

/* Sums the long_term limits of all package zones. Fills found with a
 * description. False when there is no package zone or one lacks a value. */
static bool tdp_from_powercap(const char *sysfs, double *tdp_w, char *found,
                              size_t found_size) {
  char base[512];
  if (!gm__fmt(base, sizeof(base), "%s/class/powercap", sysfs))
    return false;
  DIR *dir = opendir(base);
  if (!dir)
    return false;
  struct package_limit pk[MAX_PACKAGES];
  size_t n = 0;
  bool ok = true;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    unsigned zone;
    if (!top_level_zone(de->d_name, &zone))
      continue;
    char zdir[768], path[800], name[32];
    if (!gm__fmt(zdir, sizeof(zdir), "%s/%s", base, de->d_name) ||
        !gm__fmt(path, sizeof(path), "%s/name", zdir) ||
        gm__read_text(path, name, sizeof(name)) != GM_OK ||
        strncmp(name, "package-", 8) != 0)
      continue;
    if (n >= MAX_PACKAGES) {
      ok = false;
      break;
    }
    double w;
    if (!zone_long_term_w(zdir, &w)) {
      ok = false;
      break;
    }
    pk[n].zone = zone;
    gm__strlcpy(pk[n].name, name, sizeof(pk[n].name));
    pk[n].w = w;
    n++;
  }
  closedir(dir);
  if (!ok || n == 0)
    return false;
  qsort(pk, n, sizeof(pk[0]), cmp_package);
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += pk[i].w;
  char wb[32];
  size_t used = 0;
  found[0] = '\0';
  gm__fmt(found, found_size, "TDP %s W from RAPL long_term constraints:",
          fmt_w(wb, sizeof(wb), sum));
  used = strlen(found);
  for (size_t i = 0; i < n && used < found_size; i++) {
    gm__fmt(found + used, found_size - used, "%s %s %s W", i ? "," : "",
            pk[i].name, fmt_w(wb, sizeof(wb), pk[i].w));
    used = strlen(found);
  }
  *tdp_w = sum;
  return true;
}

/* ---- step 3: /proc/cpuinfo -------------------------------------------- */

/* Reads the first "model name" and the number of distinct "physical id"
 * values (at least 1). model is empty when cpuinfo has none. */
static void read_cpuinfo(const char *procfs, char *model, size_t model_size,
                         unsigned *sockets) {
  model[0] = '\0';
  *sockets = 1;
  char path[512];
  char *text = NULL;
  if (!gm__fmt(path, sizeof(path), "%s/cpuinfo", procfs) ||
      gm__read_all(path, &text, NULL) != GM_OK)
    return;
  uint64_t ids[MAX_SOCKETS];
  unsigned n_ids = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    char *key_end = colon;
    while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t'))
      key_end--;
    size_t key_len = (size_t)(key_end - line);
    char *val = colon + 1;
    while (*val == ' ' || *val == '\t')
      val++;
    if (key_len == 10 && memcmp(line, "model name", 10) == 0) {
      if (model[0] == '\0')
        gm__strlcpy(model, val, model_size);
    } else if (key_len == 11 && memcmp(line, "physical id", 11) == 0) {
      uint64_t id;
      if (!gm__parse_u64(val, &id))
        continue;
      bool seen = false;
      for (unsigned i = 0; i < n_ids && !seen; i++)
        seen = ids[i] == id;
      if (!seen && n_ids < MAX_SOCKETS)
        ids[n_ids++] = id;
    }
  }
  free(text);
  if (n_ids > 0)
    *sockets = n_ids;
}

/* ---- the source ------------------------------------------------------- */

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  *self = NULL;
  probe->found[0] = probe->reason[0] = probe->fix[0] = '\0';
  struct cpu_model *m = calloc(1, sizeof(*m));
  if (!m) {
    gm__strlcpy(probe->reason, "out of memory", sizeof(probe->reason));
    return GM_ERR_NO_MEMORY;
  }
  gm__strlcpy(m->info.name, "cpu", sizeof(m->info.name));
  gm__strlcpy(m->info.source, "cpu-tdp-model", sizeof(m->info.source));
  m->info.kind = GM_KIND_CPU;
  m->info.domain = GM_DOMAIN_PACKAGE;
  m->info.provenance = GM_PROV_MODELLED;
  m->info.in_total = true;
  m->info.wrap_j = 0;
  m->info.power_interval_mean = true;

  const char *sysfs = env->sysfs ? env->sysfs : "/sys";
  const char *procfs = env->procfs ? env->procfs : "/proc";
  char rapl_fix[384];
  gm__fmt(rapl_fix, sizeof(rapl_fix),
          "grant RAPL access (read permission on "
          "%s/class/powercap/intel-rapl:*/energy_uj) to measure the CPU "
          "instead of modelling it",
          sysfs);
  char wb[32], wb2[32];

  if (env->cpu_tdp_w > 0 && isfinite(env->cpu_tdp_w)) {
    m->tdp_w = env->cpu_tdp_w;
    fmt_w(wb, sizeof(wb), m->tdp_w);
    gm__fmt(m->info.detail, sizeof(m->info.detail),
            "TDP %s W (--cpu-tdp) x CPU utilisation", wb);
    gm__fmt(probe->found, sizeof(probe->found), "TDP %s W from --cpu-tdp", wb);
  } else if (tdp_from_powercap(sysfs, &m->tdp_w, probe->found,
                               sizeof(probe->found))) {
    fmt_w(wb, sizeof(wb), m->tdp_w);
    gm__fmt(m->info.detail, sizeof(m->info.detail),
            "TDP %s W (RAPL long_term power limit) x CPU utilisation", wb);
    gm__strlcpy(probe->fix, rapl_fix, sizeof(probe->fix));
  } else {
    char brand[256];
    unsigned sockets;
    read_cpuinfo(procfs, brand, sizeof(brand), &sockets);
    double per_socket = 0;
    const char *matched = NULL, *source = NULL;
    char sock_txt[48] = "";
    if (sockets > 1)
      gm__fmt(sock_txt, sizeof(sock_txt), " x %u sockets", sockets);
    if (brand[0] &&
        gm__cpu_tdp_lookup(brand, &per_socket, &matched, &source) == GM_OK) {
      m->tdp_w = per_socket * sockets;
      fmt_w(wb, sizeof(wb), m->tdp_w);
      fmt_w(wb2, sizeof(wb2), per_socket);
      gm__fmt(m->info.detail, sizeof(m->info.detail),
              "TDP %s W (table: %s%s, source %s) x CPU utilisation", wb,
              matched, sock_txt, source);
      gm__fmt(probe->found, sizeof(probe->found),
              "TDP %s W from the built-in table: '%s' matched '%s' (%s W, "
              "%s)%s",
              wb, brand, matched, wb2, source, sock_txt);
      gm__fmt(probe->fix, sizeof(probe->fix),
              "pass --cpu-tdp W to use the CPU's rated TDP instead of the "
              "table value, or %s",
              rapl_fix);
    } else {
      m->tdp_w = DEFAULT_TDP_PER_SOCKET_W * sockets;
      fmt_w(wb, sizeof(wb), m->tdp_w);
      gm__fmt(m->info.detail, sizeof(m->info.detail),
              "TDP %s W (default 85 W per socket%s, CodeCarbon's generic "
              "constant) x CPU utilisation",
              wb, sock_txt);
      if (brand[0])
        gm__fmt(probe->found, sizeof(probe->found),
                "TDP %s W: '%s' is not in the built-in table, so the default "
                "of 85 W per socket%s (CodeCarbon's generic constant)",
                wb, brand, sock_txt);
      else
        gm__fmt(probe->found, sizeof(probe->found),
                "TDP %s W: no model name in '%s/cpuinfo', so the default of "
                "85 W per socket%s (CodeCarbon's generic constant)",
                wb, procfs, sock_txt);
      gm__fmt(probe->fix, sizeof(probe->fix),
              "pass --cpu-tdp W with the CPU's rated TDP (85 W per socket is "
              "a generic guess), or %s",
              rapl_fix);
    }
  }
  /* The model never gives more than TDP x 100 %: anything above is wrong. */
  m->info.max_power_w = m->tdp_w * (1.0 + 1e-9);
  gm__fmt(m->info.max_power_origin, sizeof(m->info.max_power_origin),
          "the model's maximum, TDP x 100 %% = %.1f W", m->tdp_w);
  *self = m;
  return GM_OK;
}

static size_t component_count_(const void *self) {
  (void)self;
  return 1;
}

static const struct gm_component_info *component_(const void *self, size_t i) {
  const struct cpu_model *m = self;
  return i == 0 ? &m->info : NULL;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  (void)metrics;
  const struct cpu_model *m = self;
  double u = tick->cpu_util_frac;
  memset(&out[0], 0, sizeof(out[0]));
  /* /proc/stat failed (garbage, frozen): the power is unknown, not 0 W; a
   * failed reading is counted and its interval filled from the next one */
  out[0].ok = !tick->cpu_util_failed;
  if (isnan(u))
    return GM_OK; /* first tick: no interval yet */
  if (u < 0)
    u = 0;
  if (u > 1)
    u = 1;
  out[0].has_power = true;
  out[0].power_w = m->tdp_w * u;
  return GM_OK;
}

static void close_(void *self) { free(self); }

const struct gm__source_ops gm__source_cpu_model = {
    .name = "cpu-tdp-model",
    .roles = GM__ROLE_CPU_FALLBACK,
    .preference = 0,
    .open = open_,
    .component_count = component_count_,
    .component = component_,
    .metric_count = NULL,
    .metric = NULL,
    .read = read_,
    .close = close_,
};
