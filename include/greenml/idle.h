/* idle.h: an idle baseline: the mean power of every component while the
 * machine does nothing else, measured once and subtracted from later runs
 * (see energy.h for the rule that applies it). */
#ifndef GREENML_IDLE_H
#define GREENML_IDLE_H

#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"

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

#endif
