/* snapshot.c: what one scrape shows, copied from a running meter's live
 * view (exporter.h). It never reads a power source: the meter's sampler
 * does, once per interval, whatever the number of scrapes. The only reads
 * of its own are this process's CPU times (getrusage, /proc/self/task),
 * as every Prometheus client library reports them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "greenml/energy.h"
#include "greenml/exporter.h"

/* "2024-05-01T12:00:00Z" as seconds since the epoch; NAN when it is not
 * that form. */
static double iso_utc(const char *s) {
  struct tm tm = {0};
  char z = 0;
  int n = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 ||
      z != 'Z' || s[n] != '\0')
    return NAN;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  return t == (time_t)-1 ? NAN : (double)t;
}

/* The CPU time of this process's threads whose name starts with "gm-" (the
 * meter names its threads so), summed by name. */
static void meter_threads(struct gm_exporter_snapshot *s) {
  DIR *d = opendir("/proc/self/task");
  if (!d)
    return;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0)
    hz = 100;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    char path[320], comm[32], stat[1024];
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
    if (gm__read_text(path, comm, sizeof(comm)) != GM_OK ||
        strncmp(comm, "gm-", 3) != 0)
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
    if (gm__read_text(path, stat, sizeof(stat)) != GM_OK)
      continue;
    /* after "pid (comm)": state is field 3, utime 14, stime 15 */
    const char *p = strrchr(stat, ')');
    unsigned long long ut, st;
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st) != 2)
      continue;
    double cpu = (double)(ut + st) / (double)hz;
    size_t i = 0;
    while (i < s->n_threads && strcmp(s->threads[i].name, comm) != 0)
      i++;
    if (i == s->n_threads) {
      if (i == GM_EXPORTER_MAX_THREADS)
        continue;
      gm__strlcpy(s->threads[i].name, comm, sizeof(s->threads[i].name));
      s->n_threads++;
    }
    s->threads[i].cpu_s += cpu;
  }
  closedir(d);
}

static double process_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return NAN;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

enum gm_status gm_exporter_snapshot_take(struct gm_meter *m,
                                         const struct gm_idle_baseline *b,
                                         struct gm_exporter_snapshot *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  out->exporter_cpu_s = NAN;
  out->process_cpu_s = NAN;
  out->baseline_time_s = NAN;
  out->tick_time_s = NAN;
  if (!m)
    return GM_ERR_INVALID_ARG;
  size_t nc = gm_meter_component_count(m), nm = gm_meter_metric_count(m);
  size_t nx = gm_meter_missing_count(m);
  struct gm_exporter_component *c = calloc(nc ? nc : 1, sizeof(*c));
  struct gm_exporter_metric *mt = calloc(nm ? nm : 1, sizeof(*mt));
  struct gm_missing *x = calloc(nx ? nx : 1, sizeof(*x));
  double *e = calloc(nc ? nc : 1, sizeof(double));
  double *p = calloc(nc ? nc : 1, sizeof(double));
  double *mv = calloc(nm ? nm : 1, sizeof(double));
  enum gm_status rc = GM_ERR_NO_MEMORY;
  if (!c || !mt || !x || !e || !p || !mv)
    goto fail;
  if ((rc = gm_meter_live(m, e, p, &out->elapsed_s)) != GM_OK)
    goto fail;
  /* the tick's wall-clock time: now, less how long ago it was taken */
  struct timespec wall;
  double age = gm_meter_duration_s(m) - out->elapsed_s;
  if (out->elapsed_s > 0 && age >= 0 &&
      clock_gettime(CLOCK_REALTIME, &wall) == 0)
    out->tick_time_s = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9 - age;
  for (size_t i = 0; i < nc; i++) {
    c[i].info = *gm_meter_component(m, i);
    c[i].energy_j = e[i];
    c[i].power_w = p[i];
    if ((rc = gm_meter_live_stats(m, i, &c[i].stats)) != GM_OK)
      goto fail;
    const struct gm_idle_entry *entry = NULL;
    enum gm_idle_match k = gm_energy_idle_match(
        b, &c[i].info, &entry, c[i].idle_why, sizeof(c[i].idle_why));
    c[i].idle_w = k == GM_IDLE_MATCH && entry ? entry->mean_power_w : NAN;
    if (k == GM_IDLE_NO_BASELINE)
      c[i].idle_why[0] = '\0';
  }
  if ((rc = gm_meter_live_metrics(m, mv)) != GM_OK)
    goto fail;
  const struct gm_metric_info *mi = gm_meter_metrics(m);
  for (size_t i = 0; i < nm; i++) {
    mt[i].info = mi[i];
    mt[i].value = mv[i];
  }
  for (size_t i = 0; i < nx; i++)
    x[i] = *gm_meter_missing(m, i);
  free(e);
  free(p);
  free(mv);
  out->n_components = nc;
  out->components = c;
  out->n_metrics = nm;
  out->metrics = mt;
  out->n_missing = nx;
  out->missing = x;
  if (b) {
    out->has_baseline = true;
    out->baseline_id = b->id;
    out->baseline_time_s = iso_utc(b->measured_at);
    out->baseline_duration_s = b->duration_s;
  }
  out->missed_ticks = gm_meter_missed_ticks(m);
  out->dropped_samples = gm_meter_dropped_samples(m);
  meter_threads(out);
  out->process_cpu_s = process_cpu_s();
  return GM_OK;
fail:
  free(c);
  free(mt);
  free(x);
  free(e);
  free(p);
  free(mv);
  return rc;
}

void gm_exporter_snapshot_release(struct gm_exporter_snapshot *s) {
  if (!s)
    return;
  free(s->components);
  free(s->metrics);
  free(s->missing);
  for (size_t i = 0; i < s->n_subjects; i++)
    free(s->subjects[i].attr);
  free(s->subjects);
  memset(s, 0, sizeof(*s));
}
