/* integrate.h: pure energy arithmetic, no I/O. One accumulator per
 * component turns a stream of readings into energy:
 *   - energy counters: wrap-safe deltas (a decrease is a wrap when the
 *     component declares a range, else a counter reset, and the interval is
 *     then filled from the power reading or the previous interval's power);
 *   - power sensors: the trapezoid rule; modelled interval means: P x dt;
 *   - when a counter and a power sensor are both present, the power is
 *     integrated alongside as a cross-check.
 * Interval power statistics (peak, mean, spread) use Welford's method. */
#ifndef GM_METER_INTEGRATE_H
#define GM_METER_INTEGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "meter/source.h"

/* No single component draws more: a "wrap" that would imply more is a
 * counter reset (driver reload) instead. */
#define GM__MAX_PLAUSIBLE_W 20000.0

struct gm__accum {
  bool primed;       /* a first successful reading has been seen */
  int64_t last_t_ns; /* time of the last successful reading */
  bool have_counter;
  double last_counter_j;
  bool have_power;
  double last_power_w;
  double energy_j;       /* integrated energy */
  double power_energy_j; /* cross-check integral of the power sensor */
  bool xcheck_active;    /* counter and power both seen */
  double last_interval_w;
  double peak_w;
  uint64_t n_intervals; /* Welford over interval power */
  double mean_w;
  double m2;
  uint64_t wraps, resets, read_errors;
  bool lost;
};

void gm__accum_init(struct gm__accum *a);

/* Feeds one reading taken at t_ns. Returns the energy in J attributed to the
 * interval since the previous successful reading (0 for the first). */
double gm__accum_update(struct gm__accum *a,
                        const struct gm_component_info *info,
                        const struct gm__reading *r, int64_t t_ns);

/* Standard deviation of interval power (0 with fewer than two intervals). */
double gm__accum_power_sd_w(const struct gm__accum *a);

#endif
