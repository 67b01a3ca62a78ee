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
};

/* What the meter knows at each tick before reading sources. */
struct gm__tick {
  int64_t t_ns;          /* CLOCK_MONOTONIC of this tick */
  double cpu_util_frac;  /* whole-machine CPU utilisation over the last
                            interval in [0,1]; NAN on the first tick */
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

struct gm__source_ops {
  const char *name; /* as in gm_component_info.source */

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
