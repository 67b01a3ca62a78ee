/* idle_measure.c: measuring an idle baseline (idle.h): a meter left to
 * sample a quiet machine, read back through the run record (run.h). The
 * baseline as data is idle.c; storing it is the store's. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "greenml/idle.h"
#include "greenml/run.h"

/* How often the stop callback is polled while waiting. */
#define POLL_NS (10 * INT64_C(1000000))

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...) {
  if (!err || size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

/* Sleeps until deadline_ns (CLOCK_MONOTONIC) unless stop says otherwise
 * first; true when stopped. */
static bool wait_until(int64_t deadline_ns, bool (*stop)(void *ctx),
                       void *ctx) {
  for (;;) {
    if (stop && stop(ctx))
      return true;
    int64_t now = gm__now_ns();
    if (now >= deadline_ns)
      return false;
    int64_t next = deadline_ns;
    if (stop && next - now > POLL_NS)
      next = now + POLL_NS;
    struct timespec ts = {.tv_sec = (time_t)(next / GM_NS_PER_S),
                          .tv_nsec = (long)(next % GM_NS_PER_S)};
    /* EINTR (a signal, perhaps the one that sets the stop flag): loop and
     * ask stop at once. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  }
}

static void stamp_utc(char *buf, size_t size) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) ||
      strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    buf[0] = '\0';
}

enum gm_status gm_idle_measure(const struct gm_meter_config *cfg,
                               int64_t duration_ns, bool (*stop)(void *ctx),
                               void *ctx, struct gm_idle_baseline **out,
                               char *err, size_t err_size) {
  set_err(err, err_size, "%s", "");
  if (out)
    *out = NULL;
  if (!cfg || !out || duration_ns <= 0) {
    set_err(err, err_size,
            "idle measurement needs a configuration, an output and a "
            "duration > 0 (got %lld ns)",
            (long long)duration_ns);
    return GM_ERR_INVALID_ARG;
  }
  struct gm_meter_config c = *cfg;
  c.on_sample = NULL;
  c.on_flush = NULL;
  c.callback_ctx = NULL;
  c.track_pid = 0;
  struct gm_meter *m = NULL;
  struct gm_run_record *rec = NULL;
  struct gm_idle_baseline *b = NULL;
  enum gm_status rc = gm_meter_create(&c, &m);
  if (rc != GM_OK) {
    set_err(err, err_size, "cannot create the meter: %s", gm_status_str(rc));
    goto fail;
  }
  rc = gm_meter_start(m);
  if (rc != GM_OK) {
    set_err(err, err_size, "cannot start the meter: %s",
            gm_meter_last_error(m));
    goto fail;
  }
  int64_t t0 = gm__now_ns();
  bool stopped = wait_until(t0 + duration_ns, stop, ctx);
  gm_meter_stop(m);
  if (stopped) {
    rc = GM_ERR_INTERRUPTED;
    set_err(err, err_size, "interrupted after %.1f s of %.1f s: no baseline",
            gm_meter_duration_s(m), (double)duration_ns / 1e9);
    goto fail;
  }
  rc = gm_run_record_from_meter(m, NULL, &rec);
  if (rc == GM_OK)
    rc = gm_idle_baseline_from_record(rec, &b);
  if (rc != GM_OK) {
    set_err(err, err_size, "cannot build the baseline: %s", gm_status_str(rc));
    goto fail;
  }
  stamp_utc(b->measured_at, sizeof(b->measured_at));
  /* what it was measured with: the sampler's period (the meter's default
   * when none is given), the model flags, and how many intervals the means
   * rest on (the sampler keeps absolute deadlines, so duration / period) */
  int64_t period_ns =
      c.interval_ns > 0 ? c.interval_ns : gm_meter_config_default().interval_ns;
  b->interval_s = (double)period_ns / 1e9;
  b->cpu_tdp_w = c.cpu_tdp_w > 0 ? c.cpu_tdp_w : 0;
  b->dimm_capacitance_f = c.dimm_capacitance_f > 0 ? c.dimm_capacitance_f : 0;
  double n = floor(b->duration_s / b->interval_s + 0.5);
  for (size_t i = 0; i < b->n; i++)
    b->entries[i].n_intervals = n >= 1 ? (uint64_t)n : 1;
  gm_run_record_free(rec);
  gm_meter_destroy(m);
  *out = b;
  return GM_OK;
fail:
  gm_idle_baseline_free(b);
  gm_run_record_free(rec);
  gm_meter_destroy(m);
  return rc;
}
