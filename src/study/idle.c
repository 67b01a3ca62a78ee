/* idle.c: the idle baseline the study measures before its cells: a meter
 * sampling the quiet machine, its record reduced to mean power per
 * component (run.h). Kept apart so that a library-wide idle measurement can
 * replace it with one call. */
#define _GNU_SOURCE
#include <time.h>

#include "base/util.h"
#include "greenml/run.h"
#include "study/study_internal.h"

enum gm_status gm__study_measure_idle(const struct gm_meter_config *cfg,
                                      int64_t dur_ns, bool (*stop)(void *),
                                      void *ctx, struct gm_idle_baseline **out,
                                      bool *stopped, char *err,
                                      size_t err_size) {
  *out = NULL;
  *stopped = false;
  struct gm_meter_config mc = *cfg;
  mc.on_sample = NULL;
  mc.on_flush = NULL;
  mc.callback_ctx = NULL;
  struct gm_meter *m = NULL;
  enum gm_status rc = gm_meter_create(&mc, &m);
  if (rc != GM_OK) {
    gm__fmt(err, err_size, "cannot create the meter: %s", gm_status_str(rc));
    return rc;
  }
  rc = gm_meter_start(m);
  if (rc != GM_OK) {
    gm__fmt(err, err_size, "cannot start the meter: %s",
            gm_meter_last_error(m));
    gm_meter_destroy(m);
    return rc;
  }
  int64_t end = gm__now_ns() + dur_ns;
  for (;;) {
    if (stop && stop(ctx)) {
      *stopped = true;
      break;
    }
    int64_t left = end - gm__now_ns();
    if (left <= 0)
      break;
    if (left > 100 * INT64_C(1000000))
      left = 100 * INT64_C(1000000);
    struct timespec ts = {left / GM_NS_PER_S, left % GM_NS_PER_S};
    nanosleep(&ts, NULL);
  }
  gm_meter_stop(m);
  struct gm_run_record *rec = NULL;
  struct gm_idle_baseline *b = NULL;
  if (!*stopped) {
    rc = gm_run_record_from_meter(m, NULL, &rec);
    if (rc == GM_OK)
      rc = gm_idle_baseline_from_record(rec, &b);
    if (rc != GM_OK)
      gm__fmt(err, err_size, "cannot summarise the idle measurement: %s",
              gm_status_str(rc));
  }
  gm_run_record_free(rec);
  gm_meter_destroy(m);
  if (b) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(b->measured_at, sizeof(b->measured_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  *out = b;
  return rc;
}
