/* idle.h: an idle baseline: the mean power of every component while the
 * machine does nothing else, measured once and subtracted from later runs
 * (see energy.h for the rule that applies it). */
#ifndef GREENML_IDLE_H
#define GREENML_IDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/meter.h"
#include "greenml/status.h"

/* One component's idle power. */
struct gm_idle_entry {
  char name[48];
  char source[24];
  double mean_power_w;
  double sd_power_w;
  uint64_t n_intervals;
};

struct gm_idle_baseline {
  int64_t id;
  char measured_at[32]; /* UTC, ISO 8601 */
  double duration_s;
  size_t n;
  struct gm_idle_entry *entries; /* owned by the baseline */
};

GM_API void gm_idle_baseline_free(struct gm_idle_baseline *b); /* NULL: no-op */

/* Measures a baseline: creates a meter from cfg (its sample callbacks are
 * ignored, and it follows no process), samples for duration_ns (> 0), stops
 * it and returns each component's mean and spread of interval power in *out,
 * with duration_s the meter's and measured_at the UTC time at the end. id is
 * 0: storing it is the caller's (gm_store_save_idle).
 *
 * stop (optional) is polled every few milliseconds from the calling thread,
 * and at once when a signal interrupts the wait; when it returns true the
 * measurement ends early, nothing is returned and the status is
 * GM_ERR_INTERRUPTED. Other errors: GM_ERR_INVALID_ARG (bad duration or
 * configuration), GM_ERR_NO_MEMORY, GM_ERR_SYSTEM (the sampler cannot start).
 * On any error *out is NULL and err (err_size bytes, may be NULL) holds a
 * specific message. *out is owned by the caller: gm_idle_baseline_free.
 * Blocks for duration_ns; call it from one thread at a time per cfg. */
GM_API enum gm_status gm_idle_measure(const struct gm_meter_config *cfg,
                                      int64_t duration_ns,
                                      bool (*stop)(void *ctx), void *ctx,
                                      struct gm_idle_baseline **out, char *err,
                                      size_t err_size);

#endif
