/* procstat.h: utilisation and memory from procfs: /proc/stat (per CPU and
 * averaged), /proc/meminfo, and the CPU time and RSS of a process tree.
 * Owned by the meter, read on the sampler thread. /proc/stat is read at most
 * every 100 ms (its resolution is USER_HZ ticks of 10 ms, and generating it is
 * the most expensive read of a tick); the process tree at most every second,
 * walking /proc/<pid>/task/<tid>/children from the root. */
#ifndef GM_METER_PROCSTAT_H
#define GM_METER_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/meter.h"

struct gm__procstat;

/* Opens the procfs readers. track_pid > 0 adds the process-tree metrics.
 * Fills probe (source "procfs"). On failure *out is NULL. */
enum gm_status gm__procstat_open(const char *procfs, int track_pid,
                                 struct gm__procstat **out,
                                 struct gm_probe *probe);
void gm__procstat_close(struct gm__procstat *ps);

size_t gm__procstat_metric_count(const struct gm__procstat *ps);
const struct gm_metric_info *gm__procstat_metric(const struct gm__procstat *ps,
                                                 size_t i);
/* Samples at t_ns. metrics gets gm__procstat_metric_count values (the last
 * value is repeated between refreshes). *util_frac is the whole-machine
 * utilisation over the last /proc/stat window: NAN before two reads, and
 * NAN (with the utilisation metrics) when the last refresh failed:
 * /proc/stat unreadable or garbage, or its counters not advancing
 * (gm__procstat_util_state says which); never the last good value kept.
 * *mem_used_bytes NAN when unknown (also for a negative or absurd meminfo
 * value). */
void gm__procstat_sample(struct gm__procstat *ps, int64_t t_ns, double *metrics,
                         double *util_frac, double *mem_used_bytes);

/* Whether the last gm__procstat_sample read /proc/stat afresh and well; then
 * *busy_s is the machine's cumulative busy CPU time (all CPUs, user + nice +
 * system + irq + softirq) in seconds at that read. */
bool gm__procstat_window(const struct gm__procstat *ps, double *busy_s);

/* A process tree: a root and every descendant still alive. */
struct gm__proc_tree {
  double cpu_s;     /* utime + stime + cutime + cstime of every member */
  double rss_bytes; /* resident memory of every member */
  bool found_root;
  int *pids; /* the members, root first (walk) or in /proc order (scan) */
  size_t n_pids, cap_pids;
};
/* Reads the tree of root under procfs (the children files, else every
 * process's parent link). false when the root is gone or procfs cannot be
 * read; t keeps its storage across calls (gm__proc_tree_free). */
bool gm__proc_tree_read(const char *procfs, int root, struct gm__proc_tree *t);
bool gm__proc_tree_has(const struct gm__proc_tree *t, int pid);
void gm__proc_tree_free(struct gm__proc_tree *t);

/* Refreshes in a row whose counters do not advance (each >= 90 ms apart)
 * after which /proc/stat is frozen. */
#define GM__PROCSTAT_FROZEN_READS 3

/* What the last /proc/stat refresh gave. */
enum gm__util_state {
  GM__UTIL_NONE,  /* one read so far: no window yet */
  GM__UTIL_OK,    /* the utilisation is known */
  GM__UTIL_BAD,   /* unreadable or garbage: unknown */
  GM__UTIL_STILL, /* the tick counters did not advance: unknown */
  GM__UTIL_FROZEN /* not advancing for GM__PROCSTAT_FROZEN_READS refreshes
                     in a row while time passed: unknown, flagged */
};
enum gm__util_state gm__procstat_util_state(const struct gm__procstat *ps);

/* Counts of /proc/stat faults since open. */
struct gm__procstat_faults {
  uint64_t bad_reads;       /* refreshes unreadable or unparseable */
  uint64_t still_reads;     /* refreshes whose counters did not advance */
  uint64_t frozen_episodes; /* times it froze (GM__UTIL_FROZEN entered) */
  bool frozen;              /* frozen now */
};
struct gm__procstat_faults gm__procstat_faults(const struct gm__procstat *ps);

/* Parses /proc/stat text: fills up to max per-CPU (busy, total) tick counts,
 * index 0 the aggregate line, index 1+k for cpuk (by number). Returns the
 * highest cpu number + 2 seen, or 0 on a parse failure. Exposed for tests. */
size_t gm__procstat_parse_stat(const char *text, uint64_t *busy,
                               uint64_t *total, size_t max);

#endif
