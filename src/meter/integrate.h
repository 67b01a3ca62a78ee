/* integrate.h: pure energy arithmetic, no I/O. One accumulator per
 * component turns a stream of readings into energy, and checks every
 * reading against physics before it counts:
 *   - a reading that implies a power outside [0, ceiling] (the component's
 *     max_power_w, else GM__MAX_PLAUSIBLE_W; a counter's delta may exceed
 *     ceiling x dt by ceiling x GM__COUNTER_SLACK_S, the energy of one
 *     counter update period), or that is not a number, or a
 *     counter value beyond the counter's range, is a glitch: discarded,
 *     counted, and its interval filled from its neighbours (a counter's next
 *     good delta spans it; a sensor's trapezoid spans it);
 *   - energy counters: a decrease is a wrap only when the wrapped delta is
 *     non-negative and plausible. A reading that fits neither the old count
 *     nor a wrap is held: when the next reading continues the old count it
 *     was a glitch; when it continues from the held value the counter was
 *     reset (driver reload) and the gap is filled from the power sensor, or
 *     the last interval's mean power when there is none;
 *   - a counter that stops advancing for GM__STALL_S while its own power
 *     sensor shows at least GM__STALL_MIN_W is abandoned: the stalled span and
 *     everything after it are integrated from the power sensor, and flagged;
 *   - power sensors: the trapezoid rule; modelled interval means: P x dt;
 *   - when a counter and a power sensor are both present, the power is
 *     integrated alongside as a cross-check.
 * Interval power statistics (peak, mean, spread) use Welford's method. */
#ifndef GM_METER_INTEGRATE_H
#define GM_METER_INTEGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "meter/source.h"

/* No single component draws more: the ceiling of a component that declares
 * none. */
#define GM__MAX_PLAUSIBLE_W 20000.0
/* A counter that has not advanced for this long while its power sensor
 * shows load has stopped. */
#define GM__STALL_S 1.0
#define GM__STALL_MIN_W 1.0
/* Consecutive readings that fit neither the old count nor each other after
 * which the counter is re-anchored on the latest (its gap filled). */
#define GM__MAX_HELD 3
/* Energy counters update on their own clock (NVML about every 20-100 ms,
 * RAPL about every 1 ms), so one sampling interval can see up to one update
 * period's energy more than its own: a counter delta over dt is plausible
 * up to ceiling x (dt + GM__COUNTER_SLACK_S). */
#define GM__COUNTER_SLACK_S 0.25

struct gm__accum {
  bool primed; /* a first successful reading has been seen */
  bool have_counter;
  double last_counter_j;
  int64_t last_counter_t_ns;
  bool have_power;
  double last_power_w;
  bool power_clock;        /* last_power_t_ns is set */
  int64_t last_power_t_ns; /* the last good power reading (or first tick) */
  double energy_j;         /* integrated energy */
  double power_energy_j;   /* cross-check integral of the power sensor */
  bool xcheck_active;      /* counter and power both seen */
  double last_interval_w;
  double peak_w;
  uint64_t n_intervals; /* Welford over interval power */
  double mean_w;
  double m2;
  uint64_t wraps, resets, read_errors, glitches;
  bool lost;
  /* a counter reading held until the next one says glitch or reset */
  unsigned held;
  double held_counter_j;
  int64_t held_t_ns;
  double held_fill_j; /* the energy of [last_counter_t, held_t] from power */
  /* a counter that stopped while its power sensor showed load */
  int64_t advanced_t_ns;       /* when the counter last advanced */
  double stall_power_j;        /* power integral since then */
  bool counter_stopped;        /* abandoned: integrated from power since */
  double counter_stopped_at_s; /* seconds after the first reading */
  int64_t first_t_ns;
  int64_t last_ok_t_ns; /* the last reading with a usable value */
};

void gm__accum_init(struct gm__accum *a);

/* Feeds one reading taken at t_ns. Returns the energy in J added by this
 * reading (0 for the first, for a glitch and for a held reading). */
double gm__accum_update(struct gm__accum *a,
                        const struct gm_component_info *info,
                        const struct gm__reading *r, int64_t t_ns);

/* At the end of the window: a counter reading still held fills its gap from
 * power (the window's last reading is trusted as a reset would be). */
void gm__accum_finish(struct gm__accum *a);

/* Standard deviation of interval power (0 with fewer than two intervals). */
double gm__accum_power_sd_w(const struct gm__accum *a);

#endif
