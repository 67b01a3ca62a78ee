/* meter.h: the energy meter. Opaque handle, one sampler thread, one writer
 * thread, per-component energy with provenance.
 *
 * Units are in every name: _j joules, _w watts, _s seconds, _ns nanoseconds of
 * CLOCK_MONOTONIC. Pointers passed in are borrowed unless a comment says
 * otherwise. Strings returned are borrowed and valid until the meter is
 * destroyed. All functions are safe to call from one controlling thread; the
 * ones marked "thread-safe" may be called from any thread while sampling.
 */
#ifndef GREENML_METER_H
#define GREENML_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/status.h"

/* The coarse class a component belongs to (the JSON "kind"). */
enum gm_kind { GM_KIND_CPU, GM_KIND_DRAM, GM_KIND_GPU, GM_KIND_PSYS };

/* The hardware domain a component covers. */
enum gm_domain {
  GM_DOMAIN_PACKAGE, /* a CPU package (socket or die): cores + uncore */
  GM_DOMAIN_CORES,   /* RAPL PP0, inside a package */
  GM_DOMAIN_UNCORE,  /* RAPL PP1 (client iGPU), inside a package */
  GM_DOMAIN_DRAM,    /* memory DIMMs */
  GM_DOMAIN_GPU,     /* a whole GPU board */
  GM_DOMAIN_PSYS     /* the platform (RAPL psys); overlaps package + dram */
};

/* Where a number comes from. Every printed number carries one. */
enum gm_provenance {
  GM_PROV_MEASURED_COUNTER, /* hardware energy counter, differenced */
  GM_PROV_MEASURED_POWER,   /* hardware power sensor, integrated (trapezoid) */
  GM_PROV_MODELLED          /* a model: no hardware measurement involved */
};

/* Static description of one component. */
struct gm_component_info {
  char name[48];    /* "package-0", "dram-0", "gpu0", "cpu" */
  char source[24];  /* "rapl-powercap", "rapl-msr", "rapl-perf", "nvml", ... */
  char detail[160]; /* device or model description, e.g. the formula used */
  enum gm_kind kind;
  enum gm_domain domain;
  enum gm_provenance provenance;
  bool in_total; /* false when already contained in another component */
  double wrap_j; /* counter range in J (0: 64-bit or no counter) */
  bool power_interval_mean; /* power_w is the mean over the interval that
                               ended at the reading (models): integrated as
                               P x dt, not by the trapezoid rule */
  double max_power_w; /* the most this component can plausibly draw (from its
                         power limits, TDP or model); a reading implying more
                         is a glitch. 0: the absolute ceiling of 20 kW */
  char max_power_origin[96]; /* where max_power_w comes from, e.g. "2 x NVML
                                max power limit 700 W"; never empty once the
                                meter is created */
};

/* A component that should be measured but is not: a source found the
 * hardware (an NVIDIA driver, a RAPL package zone, memory) and could not
 * read it when the meter was created. A component lost during the run is
 * not listed here: its gm_component_stats.lost says so. */
struct gm_missing {
  char name[48];   /* "package-1", "gpu1", "gpus" (how many is unknown),
                      "dram", "cpu" */
  char source[24]; /* the source that found it, or "" for a whole kind */
  enum gm_kind kind;
  bool in_total;    /* it would be part of the total energy */
  char reason[256]; /* why it cannot be measured, and the fix when known */
};

/* Static description of one non-energy metric (utilisation, memory, ...). */
struct gm_metric_info {
  char name[48];   /* "cpu.util", "cpu3.util", "gpu0.vram_used", ... */
  char unit[12];   /* "%", "B", "MHz", "C", "W", "s" */
  char source[24]; /* "procfs", "nvml", ... */
};

/* Result of trying one source, for `greenml sources`. */
struct gm_probe {
  char source[24];
  enum gm_status status; /* GM_OK when usable */
  bool used;             /* selected for measurement */
  char found[256];       /* what was found, e.g. "2 zones: package-0, dram-0" */
  char reason[256];      /* why it is unusable (empty when usable) */
  char fix[384];         /* the exact fix (empty when none is needed) */
};

/* Accumulated statistics of one component over the measured window. */
struct gm_component_stats {
  double energy_j;       /* gross energy */
  double avg_power_w;    /* energy_j / duration */
  double peak_power_w;   /* highest interval power */
  double power_sd_w;     /* standard deviation of interval power */
  double power_energy_j; /* integral of the power sensor alongside the counter
                            (cross-check); negative when not available */
  double xcheck_rel;     /* |counter - power| / counter; negative when n/a */
  bool xcheck_failed;    /* xcheck_rel above the configured threshold */
  uint64_t wraps;        /* counter wraparounds handled */
  uint64_t resets;       /* counter resets (value went backwards) handled */
  uint64_t read_errors;  /* ticks in which the component could not be read */
  uint64_t glitches;     /* readings discarded as physically implausible
                            (power outside [0, max_power_w], a counter jump
                            or value beyond its range); their intervals are
                            filled from the neighbouring readings */
  bool counter_stopped;  /* the energy counter stopped while the power sensor
                            showed load: integrated from power since */
  double counter_stopped_at_s; /* when it last advanced (since the start) */
  bool lost;        /* the device disappeared during the run (e.g. GPU lost):
                       its energy covers the window up to lost_at_s only */
  double lost_at_s; /* its last good reading (since the start); NAN unless
                       lost */
};

/* How a component's energy is attributed to the tracked processes. */
enum gm_attrib_method {
  /* CPU and DRAM: the subject's share of the machine's busy CPU time in each
   * window (its utime + stime, children included, over the busy time of
   * /proc/stat), applied to the energy of that window */
  GM_ATTRIB_CPU_TIME,
  /* a GPU: the subject's share of the device's compute processes (NVML):
   * all of it when they are all the subject's, none when none is, else by
   * their SM utilisation when the driver samples it per process, else by
   * their number */
  GM_ATTRIB_GPU_PROCESSES
};

/* The energy of one component attributed to the tracked processes
 * (gm_meter_config.track_pid / track_cgroup). Windows close at each fresh
 * read of /proc/stat (every tick at intervals of 90 ms or more, else about
 * 10 Hz); the GPUs' process lists are read about once a second and their
 * share applies until the next read. */
struct gm_attribution {
  enum gm_attrib_method method;
  double energy_j;  /* sum over windows of share x the window's gross energy */
  double share_s;   /* sum over windows of share x the window's duration: the
                       subject's part of an idle baseline is idle_w x share_s,
                       so its active energy is energy_j - idle_w x share_s */
  double unknown_j; /* gross energy of windows whose share was unknown (the
                       driver listed no processes, the cgroup could not be
                       read): left out of energy_j */
  double share;     /* the latest window's share, 0..1; NAN before one */
  uint64_t windows, unknown_windows;
  /* GPU windows by how the share was found */
  uint64_t sole_windows, weighted_windows, counted_windows, idle_windows;
};

/* One sample as handed to the sample callback (on the writer thread). The
 * arrays are borrowed for the duration of the callback. */
struct gm_sample {
  uint64_t seq;
  int64_t t_ns; /* since gm_meter_start */
  size_t n_components;
  const double *energy_j; /* cumulative integrated energy per component */
  const double *power_w;  /* mean power over the last interval per component */
  size_t n_metrics;
  const double *metrics; /* NAN when unavailable this tick */
  /* cumulative energy attributed to the tracked processes per component
   * (gm_attribution.energy_j at this tick); NULL when not attributing */
  const double *attributed_j;
};

struct gm_meter_config {
  int64_t interval_ns;     /* sampling period; default 100 ms, minimum 1 ms */
  const char *sysfs_root;  /* NULL: $GREENML_SYSFS or "/sys" */
  const char *procfs_root; /* NULL: $GREENML_PROCFS or "/proc" */
  const char *devfs_root;  /* NULL: $GREENML_DEVFS or "/dev" */
  const char *nvml_lib;    /* NULL: $GREENML_NVML_LIB or "libnvidia-ml.so.1" */
  double cpu_tdp_w;        /* > 0 overrides the TDP of the CPU model */
  double dimm_capacitance_f;  /* > 0 overrides the DRAM model's C */
  const char *dmidecode_file; /* saved `dmidecode -t memory` output, or NULL */
  double xcheck_threshold;    /* counter vs power disagreement; default 0.10 */
  int track_pid; /* > 0: report this process tree's CPU time and memory, and
                    attribute energy to it (gm_meter_attribution) */
  /* A cgroup v2 directory, as a path in the hierarchy ("/system.slice/x"),
   * whose processes (cpu.stat usage_usec; cgroup membership for GPUs) the
   * energy is attributed to instead of track_pid's tree. NULL: none. */
  const char *track_cgroup;
  bool no_gpu; /* do not load NVML */
  /* Which GPUs NVML meters: "all", "none", or a comma-separated list of
   * NVML indices (PCI bus order, as nvidia-smi numbers them) and GPU UUIDs
   * or UUID prefixes ("GPU-8a1f"). NULL: $CUDA_VISIBLE_DEVICES when set,
   * else $NVIDIA_VISIBLE_DEVICES when set ("void" is none), else all. A
   * listed GPU that NVML does not have is missing (gm_meter_missing); the
   * GPUs not listed are not metered and not missing. The choice and where
   * it came from are in the NVML probe's `found`. */
  const char *gpus;
  /* Called on the writer thread for each sample, in order, then on_flush
   * about once a second and at stop. Both optional. The writer wakes about
   * once a second (sooner when thousands of samples are queued) and at
   * stop, and then hands over every sample queued: a sample reaches
   * on_sample up to about a second after it was taken (gm_meter_live has
   * the latest tick at once). */
  void (*on_sample)(void *ctx, const struct gm_sample *s);
  void (*on_flush)(void *ctx);
  void *callback_ctx;
};

/* One named phase: a window of the run. Energies are per component. */
struct gm_phase {
  char name[64];
  double start_s; /* since gm_meter_start */
  double duration_s;
  bool open;              /* not ended yet */
  const double *energy_j; /* n_components entries; borrowed */
  /* when the meter attributes: the part of energy_j attributed to the
   * tracked processes and its share-time (gm_attribution), n_components
   * entries each; NULL otherwise */
  const double *attributed_j, *attributed_share_s;
};

struct gm_meter;

/* Defaults: 100 ms, roots from the environment, threshold 10 %. */
GM_API struct gm_meter_config gm_meter_config_default(void);

/* Probes every source and builds the component list. Returns GM_OK (at least
 * the CPU model is always usable) or GM_ERR_INVALID_ARG / GM_ERR_NO_MEMORY.
 * *out is owned by the caller: free with gm_meter_destroy. */
GM_API enum gm_status gm_meter_create(const struct gm_meter_config *cfg,
                                      struct gm_meter **out);
/* As gm_meter_create, with why it failed in err (size err_size; may be
 * NULL): e.g. GM_ERR_NOT_FOUND for a track_cgroup that is not a cgroup v2
 * directory, naming it. */
GM_API enum gm_status gm_meter_create_err(const struct gm_meter_config *cfg,
                                          struct gm_meter **out, char *err,
                                          size_t err_size);
GM_API void gm_meter_destroy(struct gm_meter *m); /* NULL is a no-op */

GM_API size_t gm_meter_probe_count(const struct gm_meter *m);
GM_API const struct gm_probe *gm_meter_probe(const struct gm_meter *m,
                                             size_t i);

GM_API size_t gm_meter_component_count(const struct gm_meter *m);
GM_API const struct gm_component_info *
gm_meter_component(const struct gm_meter *m, size_t i);
/* All components as one borrowed array of gm_meter_component_count. */
GM_API const struct gm_component_info *
gm_meter_components(const struct gm_meter *m);
/* Components found but not measurable (struct gm_missing), in source
 * order. A total that lacks an in-total one of them is partial. */
GM_API size_t gm_meter_missing_count(const struct gm_meter *m);
GM_API const struct gm_missing *gm_meter_missing(const struct gm_meter *m,
                                                 size_t i);

GM_API size_t gm_meter_metric_count(const struct gm_meter *m);
/* All metrics as one borrowed array of gm_meter_metric_count. */
GM_API const struct gm_metric_info *gm_meter_metrics(const struct gm_meter *m);
GM_API const struct gm_metric_info *gm_meter_metric(const struct gm_meter *m,
                                                    size_t i);

/* Takes the first reading and starts the sampler and writer threads.
 * GM_ERR_STATE when already started. */
GM_API enum gm_status gm_meter_start(struct gm_meter *m);
/* Takes a last reading at the moment of the call, joins both threads, flushes
 * the callbacks. Idempotent. */
GM_API enum gm_status gm_meter_stop(struct gm_meter *m);

/* How far ahead of the moment it is received a marker may be stamped. */
#define GM_METER_MARK_FUTURE_NS (INT64_C(100000000)) /* 100 ms */

/* Thread-safe. Begins a phase at t_ns (CLOCK_MONOTONIC, absolute; 0 = now),
 * ending the open one if any. name is copied (truncated to 63 bytes).
 *
 * Markers (begins and ends) take effect in the order of their timestamps,
 * not of the calls: the sampler applies, at each tick, those stamped at or
 * before it, so one that arrives after a later-stamped marker that is still
 * pending is placed before it. A marker is refused with GM_ERR_INVALID_ARG,
 * and changes nothing, when it is stamped before gm_meter_start, more than
 * GM_METER_MARK_FUTURE_NS after the call, or before the last boundary
 * already applied (the open phase's begin, or the last end): it would make
 * a phase of negative duration. No phase has a negative duration or
 * energy. GM_ERR_INVALID_ARG also for an empty name; GM_ERR_STATE when the
 * meter is not running. */
GM_API enum gm_status gm_meter_phase_begin(struct gm_meter *m, const char *name,
                                           int64_t t_ns);
/* Thread-safe. Ends the open phase at t_ns (0 = now), under the rules of
 * gm_meter_phase_begin. An end with no phase open when it is applied
 * changes nothing. */
GM_API enum gm_status gm_meter_phase_end(struct gm_meter *m, int64_t t_ns);

/* After stop: statistics and phases. */
GM_API double gm_meter_duration_s(const struct gm_meter *m);
GM_API enum gm_status gm_meter_stats(const struct gm_meter *m, size_t i,
                                     struct gm_component_stats *out);
GM_API size_t gm_meter_phase_count(const struct gm_meter *m);
GM_API const struct gm_phase *gm_meter_phase(const struct gm_meter *m,
                                             size_t i);
/* A phase as soon as the sampler has applied its end, while the meter runs
 * (and after stop). The caller provides the arrays (each optional):
 * n_components entries for energy_j and peak_power_w, n_metrics for
 * metric_mean and metric_max. Peak power and metrics cover the sampling
 * intervals that ended while the phase was open; a phase that falls between
 * two ticks gets those of the interval that contains its end. */
struct gm_phase_snapshot {
  char name[64];
  double start_s, duration_s;
  uint64_t ticks; /* sampling intervals attributed to the phase */
  double *energy_j, *peak_power_w, *metric_mean, *metric_max;
  double *attributed_j; /* n_components: the attributed part of energy_j
                           (NAN when the meter does not attribute) */
};

/* Thread-safe. Phase i, in the order of their begins' timestamps.
 * GM_ERR_NOT_FOUND: the sampler has not opened it yet; GM_ERR_STATE: it is
 * still open (its end is applied at the first tick after it). */
GM_API enum gm_status gm_meter_phase_snapshot(struct gm_meter *m, size_t i,
                                              struct gm_phase_snapshot *out);

/* Mean over the window of each metric (NAN when never available). */
GM_API double gm_meter_metric_mean(const struct gm_meter *m, size_t i);
GM_API double gm_meter_metric_max(const struct gm_meter *m, size_t i);

/* Thread-safe live view: latest interval power and cumulative energy per
 * component (arrays of gm_meter_component_count entries, caller-owned) and
 * the elapsed time. */
GM_API enum gm_status gm_meter_live(struct gm_meter *m, double *energy_j,
                                    double *power_w, double *elapsed_s);

/* Thread-safe: the statistics of component i up to the latest tick, as
 * gm_meter_stats gives them after stop (all zero before the first tick). */
GM_API enum gm_status gm_meter_live_stats(struct gm_meter *m, size_t i,
                                          struct gm_component_stats *out);
/* Thread-safe: each metric's value at the latest tick (NAN when unavailable
 * then) into values[gm_meter_metric_count]. */
GM_API enum gm_status gm_meter_live_metrics(struct gm_meter *m, double *values);

/* Whether the meter attributes energy (track_pid or track_cgroup), and to
 * what: "process tree of pid 1234", "cgroup /system.slice/job_7". */
GM_API bool gm_meter_attributing(const struct gm_meter *m);
GM_API const char *gm_meter_attribution_subject(const struct gm_meter *m);
/* Thread-safe: component i's attribution up to the latest tick (and after
 * stop, the whole run). GM_ERR_STATE when the meter does not attribute. */
GM_API enum gm_status gm_meter_attribution(struct gm_meter *m, size_t i,
                                           struct gm_attribution *out);
/* Thread-safe, while the meter runs: further subjects whose share the meter
 * attributes by the same rules from the next window on (an exporter's
 * measured runs and Slurm jobs): pid > 0, the process tree of pid; else
 * cgroup, a cgroup v2 path ("/system.slice/x/job_42"). *id receives a
 * handle. GM_ERR_NOT_FOUND (err says why) for a cgroup without cpu.stat. A
 * tree whose root is gone stays at its last figures until removed. */
GM_API enum gm_status gm_meter_subject_add(struct gm_meter *m, int pid,
                                           const char *cgroup, int *id,
                                           char *err, size_t err_size);
GM_API enum gm_status gm_meter_subject_remove(struct gm_meter *m, int id);
/* Thread-safe: component i's attribution to subject id since it was
 * added, up to the latest tick. GM_ERR_NOT_FOUND: no such subject. */
GM_API enum gm_status gm_meter_subject_attribution(struct gm_meter *m, int id,
                                                   size_t i,
                                                   struct gm_attribution *out);
/* "attributed by CPU-time share", "attributed by GPU processes" */
GM_API const char *gm_attrib_method_name(enum gm_attrib_method method);

/* CPU time the meter's own threads used, in seconds (sampler + writer; while
 * they run, as of the sampler's latest tick and the writer's latest
 * hand-over). Thread-safe. */
GM_API double gm_meter_self_cpu_s(struct gm_meter *m);
/* Samples dropped from the callback queue because the writer fell behind
 * (energy integration is never affected), and ticks that missed their
 * deadline. */
GM_API uint64_t gm_meter_dropped_samples(struct gm_meter *m);
GM_API uint64_t gm_meter_missed_ticks(struct gm_meter *m);

/* The last specific error message; never NULL. */
GM_API const char *gm_meter_last_error(const struct gm_meter *m);

GM_API const char *gm_kind_name(enum gm_kind k);             /* "cpu" */
GM_API const char *gm_domain_name(enum gm_domain d);         /* "package" */
GM_API const char *gm_provenance_name(enum gm_provenance p); /* "measured" */
GM_API const char *gm_provenance_detail(enum gm_provenance p);
/* "energy counter", "power sensor", "model" */

#endif
