/* exporter.h: a running meter's readings served to Prometheus.
 *
 * Three pieces, usable alone: a snapshot (gm_exporter_snapshot_take) copies
 * what a started meter already has through its thread-safe live view (it
 * never takes a reading of its own); the rendering (gm_exporter_render) is
 * a pure function from a snapshot to the text exposition format 0.0.4 or
 * OpenMetrics 1.0.0; the server (gm_exporter_start) answers GET /metrics
 * with a snapshot rendered at each request, on an internal thread
 * (libmicrohttpd, epoll). The library behind this header is
 * libgreenml-exporter (pkg-config greenml-exporter, CMake
 * greenml::exporter); it links libgreenml and libmicrohttpd.
 *
 * Units are in every name, as in meter.h. Strings returned are borrowed and
 * valid as long as their handle. */
#ifndef GREENML_EXPORTER_H
#define GREENML_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/idle.h"
#include "greenml/meter.h"
#include "greenml/status.h"

/* The address served when none is given: loopback only; serving other
 * machines is the caller's explicit choice. */
#define GM_EXPORTER_DEFAULT_LISTEN "127.0.0.1:9464"
#define GM_EXPORTER_DEFAULT_CONNECTIONS 256u /* served at once; more wait */
#define GM_EXPORTER_DEFAULT_TIMEOUT_S 10u    /* an idle connection's life */

/* The two formats served. */
enum gm_exporter_format {
  GM_EXPORTER_TEXT,       /* text/plain; version=0.0.4 */
  GM_EXPORTER_OPENMETRICS /* application/openmetrics-text; version=1.0.0 */
};

/* One component as a scrape shows it. */
struct gm_exporter_component {
  struct gm_component_info info;
  double energy_j; /* cumulative since the meter started (gross) */
  double power_w;  /* mean over the latest sampling interval */
  struct gm_component_stats stats; /* health, up to the latest tick */
  /* The idle baseline's mean power for this component when an entry of
   * the baseline applies to it (gm_energy_idle_match), else NAN. */
  double idle_w;
  /* Why a baseline in use does not apply to it ("" when it applies or
   * there is no baseline). */
  char idle_why[320];
};

/* One of the meter's metrics (utilisation, memory, ...) at the latest
 * tick. */
struct gm_exporter_metric {
  struct gm_metric_info info;
  double value; /* in info.unit; NAN: unavailable at the latest tick */
};

/* A thread of this process and the CPU time it used. */
struct gm_exporter_thread {
  char name[16]; /* "gm-sampler", "gm-writer" */
  double cpu_s;
};

#define GM_EXPORTER_MAX_THREADS 8

/* What the exporter attributes energy to, besides the machine. */
enum gm_exporter_subject_kind {
  GM_EXPORTER_RUN = 1, /* a `greenml measure` running on the host: its
                          process tree (the command and greenml) */
  GM_EXPORTER_JOB = 2  /* a Slurm job: its cgroup v2 directory job_ID */
};

/* A subject found on the host (gm_exporter_find_subjects). */
struct gm_exporter_found {
  enum gm_exporter_subject_kind kind;
  int pid;           /* RUN: the greenml process */
  char cgroup[256];  /* JOB: the path in the hierarchy, "/.../job_42" */
  char id[32];       /* RUN: the pid; JOB: the job id */
  char command[256]; /* RUN: the measured command ("" for a job) */
  char tags[256];    /* RUN: its --tag K=V, comma-separated ("" if none) */
};

/* One subject as a scrape shows it: what it was charged of each component
 * (n_components entries, in the snapshot's component order). */
struct gm_exporter_subject {
  struct gm_exporter_found found;
  struct gm_attribution *attr;
};

/* Everything one scrape shows. gm_exporter_snapshot_take fills it and owns
 * its arrays (gm_exporter_snapshot_release); a caller may also fill one
 * itself (arrays of its own, never released by the library) and render it. */
struct gm_exporter_snapshot {
  double elapsed_s; /* since gm_meter_start, at the latest tick */
  /* When the latest tick was taken, in seconds since the Unix epoch (NAN:
   * unknown). The energy, power and attributed samples carry it as their
   * timestamp: they are readings of that instant, not of the scrape's, so a
   * rate() over them is exact however late the scrape or the sampler. */
  double tick_time_s;
  double interval_s; /* the meter's sampling interval; <= 0: not shown */
  size_t n_components;
  struct gm_exporter_component *components;
  size_t n_missing;
  struct gm_missing *missing;
  size_t n_metrics;
  struct gm_exporter_metric *metrics;
  /* The idle baseline in use (has_baseline false: none). */
  bool has_baseline;
  int64_t baseline_id;
  double baseline_time_s; /* when it was measured, s since the Unix epoch;
                             NAN: unknown */
  double baseline_duration_s;
  uint64_t missed_ticks;    /* gm_meter_missed_ticks */
  uint64_t dropped_samples; /* gm_meter_dropped_samples */
  size_t n_threads;         /* the meter's threads (named gm-*) */
  struct gm_exporter_thread threads[GM_EXPORTER_MAX_THREADS];
  double process_cpu_s;  /* user + system CPU of the whole process; NAN: n/a */
  double exporter_cpu_s; /* CPU of the thread that serves HTTP; NAN: n/a */
  size_t n_subjects;     /* runs and jobs attributed (exporter's watcher) */
  struct gm_exporter_subject *subjects;
  uint64_t scrapes;         /* /metrics answered before this one */
  uint64_t scrape_failures; /* /metrics that could not be answered */
  const char *version;      /* greenml's; NULL: GM_VERSION_STRING */
};

/* Fills *out from a started meter m (borrowed) through gm_meter_live,
 * gm_meter_live_stats, gm_meter_live_metrics, gm_meter_missing and the
 * meter's counters, matches every component against baseline b (borrowed,
 * may be NULL) with gm_energy_idle_match, and reads the CPU time of this
 * process and of the meter's threads (/proc/self/task). Thread-safe as the
 * meter's live view is. The scrape counters, exporter_cpu_s and interval_s
 * are left 0 / NAN for the caller. GM_ERR_INVALID_ARG, GM_ERR_NO_MEMORY
 * (then *out holds nothing to release). */
GM_API enum gm_status
gm_exporter_snapshot_take(struct gm_meter *m, const struct gm_idle_baseline *b,
                          struct gm_exporter_snapshot *out);
/* Frees what gm_exporter_snapshot_take allocated and zeroes *s. NULL: no-op. */
GM_API void gm_exporter_snapshot_release(struct gm_exporter_snapshot *s);

/* Renders s in format f into *text (malloc'ed, NUL-terminated, *len bytes
 * without the NUL; the caller frees it with free()). A pure function of s:
 * metric and label names follow Prometheus's rules (base units, _total
 * for counters, HELP and TYPE for every family; OpenMetrics adds UNIT and
 * ends with "# EOF"); label values are escaped (backslash, double quote,
 * line feed), other control characters and bytes that are not UTF-8
 * become U+FFFD. Metrics whose value is NAN are left out.
 * GM_ERR_INVALID_ARG, GM_ERR_NO_MEMORY. */
GM_API enum gm_status gm_exporter_render(const struct gm_exporter_snapshot *s,
                                         enum gm_exporter_format f, char **text,
                                         size_t *len);

/* The format to answer a request whose Accept header is accept (NULL or
 * "": none): OpenMetrics 1.0.0 when the header accepts
 * application/openmetrics-text (version 1.0.0 or unspecified) at least as
 * much as text/plain, else the text format. */
GM_API enum gm_exporter_format gm_exporter_negotiate(const char *accept);
/* The Content-Type of a format: static. */
GM_API const char *gm_exporter_content_type(enum gm_exporter_format f);

/* ---- the server ---------------------------------------------------------- */

struct gm_exporter_config {
  /* "HOST:PORT": an IPv4 address, a bracketed IPv6 address ("[::1]:9464")
   * or a host name, and a port (0: any free one, gm_exporter_port says
   * which). An empty host (":9464") is every IPv4 address. NULL:
   * GM_EXPORTER_DEFAULT_LISTEN. */
  const char *listen;
  unsigned max_connections; /* served at once (more wait in the listen
                               queue); 0: GM_EXPORTER_DEFAULT_CONNECTIONS */
  unsigned timeout_s;       /* an idle or unfinished connection is closed
                               after this; 0: GM_EXPORTER_DEFAULT_TIMEOUT_S */
  /* The idle baseline to show per component (borrowed: it must outlive
   * the exporter); NULL: none. */
  const struct gm_idle_baseline *baseline;
  double interval_s; /* the meter's sampling interval, shown as a gauge;
                        <= 0: not shown */
  /* What to attribute energy to (enum gm_exporter_subject_kind bits; 0:
   * nothing): the host is searched every rescan_s seconds (0: 5) for
   * `greenml measure` processes in procfs_root and Slurm job cgroups
   * (directories job_ID) under sysfs_root/fs/cgroup; each found is added to
   * the meter (gm_meter_subject_add) until it is gone. The roots: NULL for
   * $GREENML_PROCFS / $GREENML_SYSFS, else /proc and /sys. */
  unsigned attribute;
  double rescan_s;
  const char *procfs_root, *sysfs_root;
};

struct gm_exporter;

/* Defaults: GM_EXPORTER_DEFAULT_LISTEN, the default limits, no baseline. */
GM_API struct gm_exporter_config gm_exporter_config_default(void);

/* Checks a listen address's form ("HOST:PORT", see gm_exporter_config)
 * without resolving or binding it. GM_OK or GM_ERR_INVALID_ARG with err
 * (err_size bytes, may be NULL) saying what is wrong. */
GM_API enum gm_status gm_exporter_listen_check(const char *listen, char *err,
                                               size_t err_size);

/* Binds the listen address and starts serving the meter m (borrowed,
 * started by the caller, and stopped only after gm_exporter_stop):
 *   GET or HEAD /metrics   200, a snapshot rendered in the negotiated format
 *   GET or HEAD /          200, a short text page
 *   another method on them 405 (Allow: GET, HEAD); any other path 404.
 * Requests are answered by one internal thread (epoll); a malformed request
 * is answered 400 (or closed) by the HTTP library, one that never finishes
 * is closed after timeout_s, and connections beyond max_connections wait in
 * the listen queue. Errors (*out NULL, err says which address and why):
 * GM_ERR_INVALID_ARG (a malformed address, a host that does not resolve),
 * GM_ERR_UNAVAILABLE (the address is in use, or not this machine's),
 * GM_ERR_PERMISSION (a privileged port), GM_ERR_SYSTEM (the server cannot
 * start). *out is owned by the caller: gm_exporter_stop. */
GM_API enum gm_status gm_exporter_start(struct gm_meter *m,
                                        const struct gm_exporter_config *cfg,
                                        struct gm_exporter **out, char *err,
                                        size_t err_size);
/* Stops serving (closes every connection, joins the thread) and frees e.
 * The meter is left running. NULL is a no-op. */
GM_API void gm_exporter_stop(struct gm_exporter *e);

/* The address bound, "127.0.0.1:9464" or "[::1]:9464" (the port chosen
 * when 0 was asked for). */
GM_API const char *gm_exporter_address(const struct gm_exporter *e);
GM_API unsigned gm_exporter_port(const struct gm_exporter *e);
/* Thread-safe: /metrics answered, and those that could not be. */
GM_API uint64_t gm_exporter_scrapes(const struct gm_exporter *e);
GM_API uint64_t gm_exporter_scrape_failures(const struct gm_exporter *e);

/* The subjects on the host now: `greenml measure` processes in procfs
 * (other than this process), Slurm job cgroups (job_ID directories, at
 * most 6 levels under cgroup_root, e.g. /sys/fs/cgroup). what: enum
 * gm_exporter_subject_kind bits. *out (free()) holds *n entries, at most
 * max. GM_ERR_NO_MEMORY; roots that cannot be read give none. */
GM_API enum gm_status gm_exporter_find_subjects(const char *procfs,
                                                const char *cgroup_root,
                                                unsigned what, size_t max,
                                                struct gm_exporter_found **out,
                                                size_t *n);

/* ---- the idle baseline -------------------------------------------------- */

/* The baseline that `greenml measure --idle auto` would subtract on this
 * host: the newest stored in the store at location for the host that
 * meter m describes (gm_host_detect). The store must exist (nothing is
 * created; the host's row is refreshed as measure refreshes it). Which
 * components it applies to is decided per component at each snapshot
 * (gm_energy_idle_match). GM_OK and *out (gm_idle_baseline_free);
 * GM_ERR_NOT_FOUND when there is no store at location or no baseline for
 * the host (note says which and how to measure one); otherwise the store's
 * status (GM_ERR_SCHEMA_NEWER, GM_ERR_PARSE, GM_ERR_DATABASE, ...) with
 * its message in note. */
GM_API enum gm_status gm_exporter_load_baseline(const struct gm_meter *m,
                                                const char *location,
                                                struct gm_idle_baseline **out,
                                                char *note, size_t note_size);

#endif
