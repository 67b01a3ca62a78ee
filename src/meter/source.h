/* source.h: THE power-source interface. One implementation per file in
 * src/meter/sources/, each exporting one `const struct gm__source_ops`;
 * registry.c is the only file that lists them.
 *
 * A source is opened once (probing the machine), reports a fixed list of
 * components (things with energy) and metrics (utilisation, memory, ...), and
 * is read once per sampler tick. It never prints, never exits, and explains
 * itself through the struct gm_probe it fills at open.
 */
#ifndef GM_METER_SOURCE_H
#define GM_METER_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/meter.h"

/* Where a source lists, while it opens, what it found but cannot measure
 * (a package zone it cannot read, a GPU whose handle fails, a driver that
 * does not initialise). The meter keeps the entries of the sources it uses,
 * and of GPU sources even when they fail to open. */
#define GM__MISSING_PER_SOURCE 16
struct gm__missing_sink {
  size_t n;
  struct gm_missing items[GM__MISSING_PER_SOURCE];
};

/* Everything a source may look at when it opens. Roots are resolved. */
struct gm__env {
  const char *sysfs;  /* "/sys" or the test root */
  const char *procfs; /* "/proc" or the test root */
  const char *devfs;  /* "/dev" or the test root */
  const char *nvml_lib;
  double cpu_tdp_w;          /* user override, 0 = none */
  double dimm_capacitance_f; /* user override, 0 = none */
  const char *dmidecode_file;
  bool no_gpu;
  /* the GPU selection (gm_meter_config.gpus, resolved): "all", "none" or a
   * list; and where it came from ("--gpus", "CUDA_VISIBLE_DEVICES", ...) */
  const char *gpus;
  const char *gpus_origin;
  struct gm__missing_sink *missing; /* set by the meter for each open */
};

/* Adds an entry to env->missing (ignored when full or NULL). */
void gm__missing_add(const struct gm__env *env, const char *name,
                     const char *source, enum gm_kind kind, bool in_total,
                     const char *reason);

/* What the meter knows at each tick before reading sources. */
struct gm__tick {
  int64_t t_ns;          /* CLOCK_MONOTONIC of this tick */
  double cpu_util_frac;  /* whole-machine CPU utilisation over the last
                            interval in [0,1]; NAN on the first tick */
  bool cpu_util_failed;  /* NAN because /proc/stat failed (unreadable,
                            garbage, counters not advancing), not because
                            no interval exists yet */
  double mem_used_bytes; /* NAN when unknown */
};

/* One component's reading at one tick. */
struct gm__reading {
  bool ok;         /* false: unreadable this tick (error counted) */
  bool has_energy; /* energy_j is a counter value (J, wraps at wrap_j) */
  double energy_j;
  bool has_power; /* power_w is a sensor or model value (W) */
  double power_w;
  bool lost; /* the device is gone for good: stop reading it */
};

/* What a source is for, declared in its ops (a set of these bits). The
 * meter selects sources by role and preference, never by name
 * (build_sources in meter.c):
 *   CPU_PACKAGE    measures CPU packages (and may have cores, uncore and
 *                  psys components); of the sources that open with a
 *                  package component, the most preferred is used, the
 *                  others are "not needed";
 *   DRAM           measures DRAM alongside (a DRAM component when the
 *                  hardware has one);
 *   GPU            measures GPUs; used whenever it opens;
 *   DRAM_FALLBACK  models DRAM; the most preferred one is used when no used
 *                  source has a DRAM component;
 *   CPU_FALLBACK   models the CPU; the most preferred one is used when no
 *                  CPU_PACKAGE source is.
 * A source without CPU_PACKAGE or a fallback role is used whenever it opens.
 * Every component a source declares belongs to one of its roles
 * (gm__source_component_role), which tests/unit/test_source_contract.c
 * checks for every registry entry. */
enum gm__source_role {
  GM__ROLE_CPU_PACKAGE = 1u << 0,
  GM__ROLE_DRAM = 1u << 1,
  GM__ROLE_GPU = 1u << 2,
  GM__ROLE_DRAM_FALLBACK = 1u << 3,
  GM__ROLE_CPU_FALLBACK = 1u << 4,
};

/* The role a component belongs to: measured package, cores, uncore and psys
 * components are CPU_PACKAGE, a modelled package CPU_FALLBACK, measured DRAM
 * DRAM, modelled DRAM DRAM_FALLBACK, a GPU GPU. */
static inline unsigned
gm__source_component_role(const struct gm_component_info *ci) {
  bool modelled = ci->provenance == GM_PROV_MODELLED;
  switch (ci->domain) {
  case GM_DOMAIN_PACKAGE:
    return modelled ? GM__ROLE_CPU_FALLBACK : GM__ROLE_CPU_PACKAGE;
  case GM_DOMAIN_CORES:
  case GM_DOMAIN_UNCORE:
  case GM_DOMAIN_PSYS:
    return modelled ? 0u : GM__ROLE_CPU_PACKAGE;
  case GM_DOMAIN_DRAM:
    return modelled ? GM__ROLE_DRAM_FALLBACK : GM__ROLE_DRAM;
  case GM_DOMAIN_GPU:
    return modelled ? 0u : GM__ROLE_GPU;
  }
  return 0u;
}

/* A process using a device. */
struct gm__user {
  int pid;
  double weight; /* its share of the device's work since the last call (SM
                    utilisation, %), NAN when the driver does not say */
};

struct gm__source_ops {
  const char *name; /* as in gm_component_info.source; never compared */
  unsigned roles;   /* enum gm__source_role bits */
  /* Among the sources competing for one role (CPU_PACKAGE, DRAM_FALLBACK,
   * CPU_FALLBACK), lower is chosen first; ties go to registry order. */
  unsigned preference;

  /* Probes the machine. On GM_OK *self is owned by the meter and released
   * with close; otherwise *self is NULL. Either way probe->found/reason/fix
   * say what happened. probe->source is filled by the meter. */
  enum gm_status (*open)(const struct gm__env *env, void **self,
                         struct gm_probe *probe);
  size_t (*component_count)(const void *self);
  const struct gm_component_info *(*component)(const void *self, size_t i);
  /* Optional (NULL: no metrics). */
  size_t (*metric_count)(const void *self);
  const struct gm_metric_info *(*metric)(const void *self, size_t i);
  /* Fills out[component_count] and metrics[metric_count] (NAN when
   * unavailable). Called from the sampler thread only. A non-OK status means
   * every component failed this tick. */
  enum gm_status (*read)(void *self, const struct gm__tick *tick,
                         struct gm__reading *out, double *metrics);
  /* Optional (NULL: the source cannot say): the processes using component
   * i (a GPU's compute processes), for attribution. Fills up to cap entries
   * and returns how many there are, or -1 when the device cannot list them
   * now (unsupported, an error, lost). Called from the sampler thread, about
   * once a second. */
  long (*users)(void *self, size_t i, struct gm__user *out, size_t cap);
  void (*close)(void *self); /* accepts NULL */
};

/* The registry: every source in probing order. */
extern const struct gm__source_ops *const gm__sources[];
extern const size_t gm__source_count;

/* The sources (one per file). */
extern const struct gm__source_ops gm__source_rapl_powercap;
extern const struct gm__source_ops gm__source_rapl_perf;
extern const struct gm__source_ops gm__source_rapl_msr;
extern const struct gm__source_ops gm__source_nvml;
extern const struct gm__source_ops gm__source_dram_model;
extern const struct gm__source_ops gm__source_cpu_model;

#endif
