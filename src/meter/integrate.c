/* integrate.c: see integrate.h. */
#include "meter/integrate.h"

#include <math.h>
#include <string.h>

void gm__accum_init(struct gm__accum *a) { memset(a, 0, sizeof(*a)); }

static void interval_stats(struct gm__accum *a, double p_w) {
  a->last_interval_w = p_w;
  if (a->n_intervals == 0 || p_w > a->peak_w)
    a->peak_w = p_w;
  a->n_intervals++;
  double d = p_w - a->mean_w;
  a->mean_w += d / (double)a->n_intervals;
  a->m2 += d * (p_w - a->mean_w);
}

/* Energy of the interval [last, t] from the power reading alone. */
static double power_energy(const struct gm__accum *a,
                           const struct gm_component_info *info, double p_w,
                           double dt_s) {
  if (info->power_interval_mean)
    return p_w * dt_s;
  if (!a->have_power)
    return p_w * dt_s;
  return 0.5 * (a->last_power_w + p_w) * dt_s;
}

double gm__accum_update(struct gm__accum *a,
                        const struct gm_component_info *info,
                        const struct gm__reading *r, int64_t t_ns) {
  if (!r->ok) {
    a->read_errors++;
    if (r->lost)
      a->lost = true;
    return 0.0;
  }
  bool first = !a->primed;
  double dt_s = first ? 0.0 : (double)(t_ns - a->last_t_ns) / 1e9;
  if (!first && dt_s <= 0.0)
    return 0.0; /* duplicate timestamp: nothing elapsed */

  double delta_j = 0.0;
  bool have_delta = false;

  if (r->has_energy) {
    if (a->have_counter) {
      double d = r->energy_j - a->last_counter_j;
      if (d < 0.0) {
        if (info->wrap_j > 0.0 &&
            (d + info->wrap_j) / dt_s <= GM__MAX_PLAUSIBLE_W) {
          /* 32-bit RAPL counters: the range is added once per wrap. At the
           * sampling periods used (<= 60 s) at most one wrap can occur
           * between two readings. */
          d += info->wrap_j;
          a->wraps++;
          have_delta = true;
        } else {
          /* A counter without a range went backwards, or one with a range
           * would need an impossible power to have wrapped: the driver
           * reloaded and the counter restarted.
           * The interval is filled from power, or the last interval's mean
           * power when no sensor exists. */
          a->resets++;
          if (r->has_power)
            d = power_energy(a, info, r->power_w, dt_s);
          else
            d = a->last_interval_w * dt_s;
          have_delta = true;
        }
      } else {
        have_delta = true;
      }
      delta_j = d;
    } else if (!first) {
      /* The counter appears only now (e.g. it failed before): start it here
       * and fill this interval from power when possible. */
      if (r->has_power) {
        delta_j = power_energy(a, info, r->power_w, dt_s);
        have_delta = true;
      }
    }
    a->have_counter = true;
    a->last_counter_j = r->energy_j;
    if (r->has_power && !first && a->have_power) {
      a->power_energy_j += power_energy(a, info, r->power_w, dt_s);
      a->xcheck_active = true;
    }
  } else if (r->has_power) {
    if (!first) {
      delta_j = power_energy(a, info, r->power_w, dt_s);
      have_delta = true;
    }
    if (a->have_counter && a->have_power && !first) {
      /* The counter failed this tick: keep the cross-check integral aligned
       * with the energy it replaces. */
      a->power_energy_j += delta_j;
    }
  }

  if (r->has_power) {
    a->have_power = true;
    a->last_power_w = r->power_w;
  }
  if (have_delta) {
    a->energy_j += delta_j;
    interval_stats(a, delta_j / dt_s);
  }
  a->primed = true;
  a->last_t_ns = t_ns;
  return have_delta ? delta_j : 0.0;
}

double gm__accum_power_sd_w(const struct gm__accum *a) {
  if (a->n_intervals < 2)
    return 0.0;
  return sqrt(a->m2 / (double)(a->n_intervals - 1));
}
