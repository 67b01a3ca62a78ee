/* cpu_topology.h: what the RAPL sources need to know about the CPUs: vendor,
 * family and model (from <procfs>/cpuinfo), the packages (or dies) and one
 * online CPU in each (from <sysfs>/devices/system/cpu/cpu<N>/topology), and
 * the description of a perf "power" PMU (from
 * <sysfs>/bus/event_source/devices/<pmu>/). Plain file parsing, no hardware
 * access, so every function here is tested on fake trees.
 */
#ifndef GM_METER_CPU_TOPOLOGY_H
#define GM_METER_CPU_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/meter.h"
#include "greenml/status.h"

/* ---- CPU identification ------------------------------------------------ */

enum gm__cpu_vendor {
  GM__CPU_VENDOR_UNKNOWN,
  GM__CPU_VENDOR_INTEL, /* GenuineIntel */
  GM__CPU_VENDOR_AMD,   /* AuthenticAMD */
  GM__CPU_VENDOR_HYGON  /* HygonGenuine */
};

struct gm__cpu_ident {
  enum gm__cpu_vendor vendor;
  char vendor_id[16];  /* as in cpuinfo, "" when absent */
  unsigned family;     /* "cpu family" (decimal in cpuinfo) */
  unsigned model;      /* "model" (decimal in cpuinfo) */
  char model_name[96]; /* "model name", "" when absent */
};

/* Reads the first processor block of <procfs>/cpuinfo. GM_ERR_PARSE when
 * vendor_id, cpu family or model is missing or malformed. err (may be NULL)
 * receives a message on failure. */
enum gm_status gm__cpu_ident_read(const char *procfs, struct gm__cpu_ident *out,
                                  char *err, size_t err_size);

/* True when RAPL registers are per die rather than per package (Intel; AMD
 * and Hygon RAPL is package scope). */
bool gm__cpu_rapl_per_die(const struct gm__cpu_ident *id);

/* ---- Packages ----------------------------------------------------------- */

/* One RAPL unit: a package, or a die of a package when split by die. */
struct gm__cpu_package {
  unsigned package_id; /* physical_package_id */
  unsigned die_id;     /* die_id; 0 when not split by die */
  int lead_cpu;        /* lowest-numbered online CPU in it */
  unsigned n_cpus;     /* online CPUs in it */
};

struct gm__cpu_topology {
  size_t n_packages;
  struct gm__cpu_package *packages; /* sorted by (package_id, die_id) */
  bool multi_die; /* some package has more than one die (per_die only) */
  bool assumed;   /* no topology readable: one package with cpu 0 assumed */
  size_t n_cpu_slots;
  int *cpu_package; /* CPU number -> index into packages, -1 unknown */
};

/* Enumerates <sysfs>/devices/system/cpu/cpu<N>/topology/physical_package_id
 * (and die_id when per_die). CPUs without a topology directory (offline) are
 * skipped. When the cpu directory cannot be read at all, one package with
 * cpu 0 is assumed (out->assumed). *out is released with
 * gm__cpu_topology_release, also after a failure. */
enum gm_status gm__cpu_topology_read(const char *sysfs, bool per_die,
                                     struct gm__cpu_topology *out, char *err,
                                     size_t err_size);
void gm__cpu_topology_release(struct gm__cpu_topology *t); /* NULL ok */

/* Index of the package holding cpu, or -1 when unknown. */
int gm__cpu_topology_package_of(const struct gm__cpu_topology *t, int cpu);

/* The label of package i as used in component names: "0", or "0-die-1"
 * when the topology has several dies per package ("package-0-die-1", the
 * powercap convention). */
void gm__cpu_topology_label(const struct gm__cpu_topology *t, size_t i,
                            char *buf, size_t size);

/* ---- perf "power" PMU --------------------------------------------------- */

#define GM__RAPL_PMU_EVENTS_MAX 8

struct gm__rapl_pmu_event {
  char name[32];         /* "energy-pkg" */
  enum gm_domain domain; /* what the event measures */
  uint64_t config;       /* perf_event_attr.config, from "event=0x02" */
  double scale_j;        /* J per count, from <name>.scale */
  bool unit_missing;     /* no <name>.unit file: Joules assumed */
};

struct gm__rapl_pmu {
  char name[24]; /* "power" or "power_core" */
  uint32_t type; /* perf_event_attr.type, from the type file */
  size_t n_events;
  struct gm__rapl_pmu_event events[GM__RAPL_PMU_EVENTS_MAX]; /* by domain */
  size_t n_cpus;   /* CPUs listed in the cpumask file; 0 when it is absent */
  int *cpus;       /* ascending */
  char notes[256]; /* events skipped and why ("" when none) */
};

/* Parses <sysfs>/bus/event_source/devices/<pmu>/: type (decimal), events/
 * energy-{pkg,cores,ram,gpu,psys,core} ("event=0x02"), their .scale and
 * .unit ("Joules"), and cpumask (a CPU list such as "0,18" or "0-3").
 * An event without a usable .scale, with a unit other than Joules or with
 * an unsupported encoding is skipped and explained in notes.
 * GM_ERR_UNAVAILABLE when the PMU directory does not exist or lists no
 * energy event; GM_ERR_PARSE when type or cpumask is malformed.
 * *out is released with gm__rapl_pmu_release, also after a failure. */
enum gm_status gm__rapl_pmu_read(const char *sysfs, const char *pmu,
                                 struct gm__rapl_pmu *out, char *err,
                                 size_t err_size);
void gm__rapl_pmu_release(struct gm__rapl_pmu *p); /* NULL ok */

/* Parses a kernel CPU list ("0,18", "0-3,8-11", "" for none) into a malloc'ed
 * ascending array (*out NULL when empty). false when malformed. */
bool gm__parse_cpu_list(const char *s, int **out, size_t *n);

#endif
