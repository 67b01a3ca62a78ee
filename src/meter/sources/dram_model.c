/* dram_model.c: DRAM power model, used by the meter when RAPL has no DRAM
 * domain. Constant power:
 *
 *   P = sum over populated DIMMs of 1/2 C V^2 f
 *
 * with f the I/O clock (data rate / 2), V the configured voltage and C an
 * effective switched capacitance calibrated so that a DDR4 DIMM at 1.2 V and
 * 2666 MT/s draws about 3 W (Crucial: ~3 W per 8 GB). Without any DIMM data
 * it falls back to 0.375 W/GiB (the same 3 W per 8 GB) times MemTotal.
 * docs/sources/dram-model.md states every constant and its source. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "meter/dimm.h"
#include "meter/source.h"

/* C = 2P/(V^2 f) with P = 3 W, V = 1.2 V, f = 1.333 GHz: 3.126e-9 F. */
#define DEFAULT_C_F 3.1e-9
/* 3 W per 8 GiB module (Crucial, "How much power does memory use?"). */
#define FALLBACK_W_PER_GIB 0.375

/* Plausible ranges; values outside come from broken tables and are replaced
 * by the nominal value of the type. */
#define MIN_MV 500u
#define MAX_MV 3000u
#define MIN_MTS 100u
#define MAX_MTS 20000u

/* JEDEC nominal VDD and a typical data rate per memory type. */
struct nominal {
  const char *type;
  unsigned mv;
  unsigned mts;
};

static const struct nominal nominals[] = {
    {"DDR", 2500, 400},     /* JESD79: 2.5 V; DDR-400 */
    {"DDR2", 1800, 800},    /* JESD79-2: 1.8 V; DDR2-800 */
    {"DDR3", 1500, 1600},   /* JESD79-3: 1.5 V; DDR3-1600 */
    {"DDR3L", 1350, 1600},  /* JESD79-3-1: 1.35 V */
    {"DDR4", 1200, 2666},   /* JESD79-4: 1.2 V; the calibration point */
    {"DDR5", 1100, 4800},   /* JESD79-5: 1.1 V; first DDR5 bin */
    {"LPDDR", 1800, 400},   /* JESD209: 1.8 V */
    {"LPDDR2", 1200, 1066}, /* JESD209-2: 1.2 V */
    {"LPDDR3", 1200, 1600}, /* JESD209-3: 1.2 V */
    {"LPDDR4", 1100, 3200}, /* JESD209-4: VDD2 1.1 V */
    {"LPDDR5", 1050, 6400}, /* JESD209-5: VDD2H 1.05 V */
};

/* Any other type ("RAM", "Unknown", "Other", ...) is treated as DDR4. */
static const struct nominal *nominal_for(const char *type, bool *assumed) {
  for (size_t i = 0; i < sizeof(nominals) / sizeof(nominals[0]); i++) {
    if (strcmp(type, nominals[i].type) == 0) {
      *assumed = false;
      return &nominals[i];
    }
  }
  *assumed = true;
  return &nominals[4];
}

struct dimm_eval {
  double v, f_hz, p_w;
  bool v_nominal, f_nominal, type_assumed;
};

static void eval_dimm(const struct gm__dimm *d, double c_f,
                      struct dimm_eval *e) {
  const struct nominal *nom = nominal_for(d->type, &e->type_assumed);
  unsigned mv = d->configured_voltage_mv, mts = 0;
  e->v_nominal = mv < MIN_MV || mv > MAX_MV;
  if (e->v_nominal)
    mv = nom->mv;
  if (d->configured_speed_mts >= MIN_MTS && d->configured_speed_mts <= MAX_MTS)
    mts = d->configured_speed_mts;
  else if (d->speed_mts >= MIN_MTS && d->speed_mts <= MAX_MTS)
    mts = d->speed_mts;
  e->f_nominal = mts == 0;
  if (e->f_nominal)
    mts = nom->mts;
  e->v = mv / 1000.0;
  e->f_hz = mts / 2.0 * 1e6; /* I/O clock: two transfers per cycle */
  e->p_w = 0.5 * c_f * e->v * e->v * e->f_hz;
}

static double effective_c(double c_f) {
  return (c_f > 0 && isfinite(c_f)) ? c_f : DEFAULT_C_F;
}

double gm__dram_model_power_w(const struct gm__dimm *d, size_t n, double c_f) {
  double p = 0;
  c_f = effective_c(c_f);
  for (size_t i = 0; d && i < n; i++) {
    if (d[i].size_bytes == 0)
      continue;
    struct dimm_eval e;
    eval_dimm(&d[i], c_f, &e);
    p += e.p_w;
  }
  return p;
}

struct dram_model {
  struct gm_component_info info;
  double power_w;
};

#define GIB 1073741824.0
/* The most MemTotal may say: 64 TiB, in kB. Beyond (or not a positive
 * number) the file is not believed. */
#define MAX_MEMTOTAL_KB (UINT64_C(64) << 30)

#define DMIDECODE_FIX                                                          \
  "save `sudo dmidecode -t memory > dimms.txt` and pass --dmidecode dimms.txt"

/* The fix for "no DIMM data", by what stands at the SMBIOS table's path. */
static void fallback_fix(const char *sysfs, char *fix, size_t size) {
  char path[1024];
  gm__fmt(path, sizeof(path), "%s/firmware/dmi/tables/DMI", sysfs);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    unsigned char c;
    if (read(fd, &c, 1) < 0)
      err = errno;
    close(fd);
  }
  if (err == 0) {
    gm__fmt(fix, size,
            "the SMBIOS table '%s' lists no installed memory module (typical "
            "of virtual machines); where `sudo dmidecode -t memory` lists "
            "modules, save its output to dimms.txt and pass --dmidecode "
            "dimms.txt",
            path);
  } else if (err == ENOENT || err == ENOTDIR) {
    gm__fmt(fix, size,
            "no SMBIOS table at '%s' (container, virtual machine or kernel "
            "without DMI support); for a per-DIMM model " DMIDECODE_FIX
            " (run on the host)",
            path);
  } else if (err == EACCES || err == EPERM) {
    gm__fmt(fix, size,
            "for a per-DIMM model run as root (the SMBIOS table '%s' is "
            "readable by root only) or " DMIDECODE_FIX,
            path);
  } else {
    gm__fmt(fix, size,
            "cannot read the SMBIOS table '%s' (%s); for a per-DIMM model "
            "" DMIDECODE_FIX,
            path, strerror(err));
  }
}

/* Fills detail and found from the DIMM list. */
static void describe_dimms(struct dram_model *m, const struct gm__dimm *d,
                           size_t n, double c_f, enum gm__dimm_method method,
                           const char *how, struct gm_probe *probe) {
  size_t count = 0;
  double vmin = INFINITY, vmax = -INFINITY, flo = INFINITY, fhi = -INFINITY;
  double pmin = INFINITY, pmax = -INFINITY, total_bytes = 0;
  bool v_nom = false, f_nom = false, assumed = false, same_type = true;
  size_t registered = 0;
  const char *type = NULL;
  for (size_t i = 0; i < n; i++) {
    if (d[i].size_bytes == 0)
      continue;
    struct dimm_eval e;
    eval_dimm(&d[i], c_f, &e);
    count++;
    total_bytes += (double)d[i].size_bytes;
    vmin = fmin(vmin, e.v);
    vmax = fmax(vmax, e.v);
    flo = fmin(flo, e.f_hz);
    fhi = fmax(fhi, e.f_hz);
    pmin = fmin(pmin, e.p_w);
    pmax = fmax(pmax, e.p_w);
    v_nom |= e.v_nominal;
    f_nom |= e.f_nominal;
    assumed |= e.type_assumed;
    registered += d[i].registered ? 1 : 0;
    if (!type)
      type = d[i].type;
    else if (strcmp(type, d[i].type) != 0)
      same_type = false;
  }
  const char *src = gm__dimm_method_name(method);
  char nomtag[24] = "";
  if (same_type && type)
    gm__fmt(nomtag, sizeof(nomtag), " (%s nominal)", assumed ? "DDR4" : type);
  else
    gm__fmt(nomtag, sizeof(nomtag), " (nominal)");
  if (vmin == vmax && flo == fhi) {
    gm__fmt(m->info.detail, sizeof(m->info.detail),
            "%zu DIMM%s (%s) x 1/2 C V^2 f, C=%g nF, V=%g V%s, f=%.5g GHz%s "
            "-> %zu x %.2f W",
            count, count == 1 ? "" : "s", src, c_f * 1e9, vmin,
            v_nom ? nomtag : "", flo / 1e9, f_nom ? nomtag : "", count, pmin);
  } else {
    gm__fmt(m->info.detail, sizeof(m->info.detail),
            "%zu DIMMs (%s) sum 1/2 C V^2 f, C=%g nF, V=%g-%g V%s, "
            "f=%.5g-%.5g GHz%s -> %.2f-%.2f W each, %.2f W",
            count, src, c_f * 1e9, vmin, vmax, v_nom ? " (some nominal)" : "",
            flo / 1e9, fhi / 1e9, f_nom ? " (some nominal)" : "", pmin, pmax,
            m->power_w);
  }
  gm__fmt(probe->found, sizeof(probe->found),
          "%zu DIMM%s, %.1f GiB %s%s%s: %.2f W modelled; %s", count,
          count == 1 ? "" : "s", total_bytes / GIB,
          same_type && type ? type : "mixed types",
          assumed ? " (treated as DDR4)" : "",
          registered == 0       ? ""
          : registered == count ? ", registered"
                                : ", partly registered",
          m->power_w, how);
}

static enum gm_status open_(const struct gm__env *env, void **self,
                            struct gm_probe *probe) {
  enum gm_status rc = GM_OK;
  struct dram_model *m = NULL;
  struct gm__dimm *dimms = NULL;
  size_t n = 0;
  enum gm__dimm_method method = GM_DIMM_NONE;
  char how[768];
  char *meminfo = NULL;
  *self = NULL;
  probe->found[0] = probe->reason[0] = probe->fix[0] = '\0';
  const char *sysfs = env->sysfs && *env->sysfs ? env->sysfs : "/sys";
  const char *procfs = env->procfs && *env->procfs ? env->procfs : "/proc";

  m = calloc(1, sizeof(*m));
  if (!m) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  gm__strlcpy(m->info.name, "dram", sizeof(m->info.name));
  gm__strlcpy(m->info.source, "dram-model", sizeof(m->info.source));
  m->info.kind = GM_KIND_DRAM;
  m->info.domain = GM_DOMAIN_DRAM;
  m->info.provenance = GM_PROV_MODELLED;
  m->info.in_total = true;
  m->info.wrap_j = 0;
  m->info.power_interval_mean = true;

  double c_f = effective_c(env->dimm_capacitance_f);
  rc = gm__dimms_detect_ex(env, &dimms, &n, &method, how, sizeof(how));
  if (rc == GM_OK && gm__dram_model_power_w(dimms, n, c_f) > 0) {
    m->power_w = gm__dram_model_power_w(dimms, n, c_f);
    describe_dimms(m, dimms, n, c_f, method, how, probe);
    if (method == GM_DIMM_EDAC)
      gm__fmt(probe->fix, sizeof(probe->fix),
              "EDAC gives no speed or voltage, nominal values are used; %s",
              "for exact values run as root or save `sudo dmidecode -t "
              "memory > dimms.txt` and pass --dmidecode dimms.txt");
    goto done;
  }
  if (rc == GM_ERR_NO_MEMORY)
    goto fail;

  /* No DIMM data: per-GiB fallback on MemTotal. */
  char path[1024];
  uint64_t kb = 0;
  bool have = false;
  char bad[40] = ""; /* a MemTotal value not believed */
  gm__fmt(path, sizeof(path), "%s/meminfo", procfs);
  rc = gm__read_all(path, &meminfo, NULL);
  if (rc == GM_ERR_NO_MEMORY)
    goto fail;
  if (rc == GM_OK) {
    for (const char *p = meminfo; p && *p;) {
      if (strncmp(p, "MemTotal:", 9) == 0) {
        const char *num = p + 9;
        while (*num == ' ' || *num == '\t')
          num++;
        size_t digits = strspn(num, "0123456789");
        const char *end = num + digits;
        while (*end == ' ')
          end++;
        errno = 0;
        unsigned long long v = digits ? strtoull(num, NULL, 10) : 0;
        if (digits > 0 && digits <= 20 && errno == 0 &&
            strncmp(end, "kB", 2) == 0 && v > 0 && v <= MAX_MEMTOTAL_KB) {
          kb = (uint64_t)v;
          have = true;
        } else {
          size_t len = strcspn(num, "\n");
          gm__fmt(bad, sizeof(bad), "%.*s", (int)(len < 32 ? len : 32), num);
        }
        break;
      }
      p = strchr(p, '\n');
      if (p)
        p++;
    }
  }
  if (!have) {
    rc = rc == GM_OK ? GM_ERR_PARSE : rc;
    if (bad[0])
      gm__fmt(probe->reason, sizeof(probe->reason),
              "no DIMM data and MemTotal in '%s' is '%s', not a memory size "
              "(1 kB to 64 TiB): the DRAM model refuses to guess",
              path, bad);
    else
      gm__fmt(probe->reason, sizeof(probe->reason),
              rc == GM_ERR_PARSE ? "no DIMM data and no MemTotal in '%s'"
                                 : "no DIMM data and cannot read '%s'",
              path);
    gm__fmt(probe->found, sizeof(probe->found), "%s", how);
    fallback_fix(sysfs, probe->fix, sizeof(probe->fix));
    goto fail;
  }
  rc = GM_OK;
  double gib = (double)kb * 1024.0 / GIB;
  m->power_w = FALLBACK_W_PER_GIB * gib;
  gm__fmt(m->info.detail, sizeof(m->info.detail),
          "no DIMM data: %.3f W/GiB x %.1f GiB (%s MemTotal) -> %.2f W",
          FALLBACK_W_PER_GIB, gib, path, m->power_w);
  gm__fmt(probe->found, sizeof(probe->found),
          "no DIMM data, %.1f GiB in '%s': %.2f W modelled; %s", gib, path,
          m->power_w, how);
  fallback_fix(sysfs, probe->fix, sizeof(probe->fix));

done:
  /* The model's power is constant: anything else is wrong. */
  m->info.max_power_w = m->power_w * (1.0 + 1e-9);
  gm__fmt(m->info.max_power_origin, sizeof(m->info.max_power_origin),
          "the model's constant power, %.2f W", m->power_w);
  free(dimms);
  free(meminfo);
  *self = m;
  return GM_OK;
fail:
  free(dimms);
  free(meminfo);
  free(m);
  *self = NULL;
  return rc;
}

static size_t component_count(const void *self) { return self ? 1 : 0; }

static const struct gm_component_info *component(const void *self, size_t i) {
  const struct dram_model *m = self;
  return (m && i == 0) ? &m->info : NULL;
}

static enum gm_status read_(void *self, const struct gm__tick *tick,
                            struct gm__reading *out, double *metrics) {
  const struct dram_model *m = self;
  (void)tick;
  (void)metrics;
  if (!m || !out)
    return GM_ERR_INVALID_ARG;
  memset(&out[0], 0, sizeof(out[0]));
  out[0].ok = true;
  out[0].has_power = true;
  out[0].power_w = m->power_w;
  return GM_OK;
}

static void close_(void *self) { free(self); }

const struct gm__source_ops gm__source_dram_model = {
    .name = "dram-model",
    .roles = GM__ROLE_DRAM_FALLBACK,
    .preference = 0,
    .open = open_,
    .component_count = component_count,
    .component = component,
    .metric_count = NULL,
    .metric = NULL,
    .read = read_,
    .close = close_,
};
