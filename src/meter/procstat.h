/* procstat.h: utilisation and memory from procfs: /proc/stat (per CPU and
 * averaged), /proc/meminfo, and the CPU time and RSS of a process tree.
 * Owned by the meter, read on the sampler thread. /proc/stat is read at most
 * every 100 ms (its resolution is USER_HZ ticks of 10 ms, and generating it is
 * the most expensive read of a tick); the process tree at most every second,
 * walking /proc/<pid>/task/<tid>/children from the root. */
#ifndef GM_METER_PROCSTAT_H
#define GM_METER_PROCSTAT_H

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
 * utilisation over the last /proc/stat window (NAN before two reads);
 * *mem_used_bytes NAN when unknown. */
void gm__procstat_sample(struct gm__procstat *ps, int64_t t_ns, double *metrics,
                         double *util_frac, double *mem_used_bytes);

/* Parses /proc/stat text: fills up to max per-CPU (busy, total) tick counts,
 * index 0 the aggregate line, index 1+k for cpuk (by number). Returns the
 * highest cpu number + 2 seen, or 0 on a parse failure. Exposed for tests. */
size_t gm__procstat_parse_stat(const char *text, uint64_t *busy,
                               uint64_t *total, size_t max);

#endif
