/* integrate.c: see integrate.h. */
#include "meter/integrate.h"

#include <math.h>
#include <string.h>

void gm__accum_init(struct gm__accum *a) { memset(a, 0, sizeof(*a)); }

static double ceiling_w(const struct gm_component_info *info) {
  return info->max_power_w > 0 ? info->max_power_w : GM__MAX_PLAUSIBLE_W;
}

static double secs(int64_t from_ns, int64_t to_ns) {
  return (double)(to_ns - from_ns) / 1e9;
}

/* Adds e joules over an interval of dt seconds. */
static double add(struct gm__accum *a, double e, double dt_s) {
  a->energy_j += e;
  if (dt_s > 0) {
    double p_w = e / dt_s;
    a->last_interval_w = p_w;
    if (a->n_intervals == 0 || p_w > a->peak_w)
      a->peak_w = p_w;
    a->n_intervals++;
    double d = p_w - a->mean_w;
    a->mean_w += d / (double)a->n_intervals;
    a->m2 += d * (p_w - a->mean_w);
  }
  return e;
}

/* Energy from the power sensor over [last power reading, t] ending at p_w. */
static double power_span_j(const struct gm__accum *a,
                           const struct gm_component_info *info, double p_w,
                           double dt_s) {
  if (info->power_interval_mean || !a->have_power)
    return p_w * dt_s;
  return 0.5 * (a->last_power_w + p_w) * dt_s;
}

/* The energy of dt seconds without a usable counter delta: from the power
 * sensor when it read now (p_ok), else the last interval's mean power. */
static double fill_j(const struct gm__accum *a,
                     const struct gm_component_info *info, bool p_ok,
                     double p_w, double dt_s) {
  if (p_ok)
    return power_span_j(a, info, p_w, dt_s);
  if (a->have_power)
    return a->last_power_w * dt_s;
  return a->last_interval_w * dt_s;
}

/* The counter's delta from `from` to `to` over dt seconds, wrap-aware:
 * false when no non-negative delta within the ceiling explains it. */
static bool plausible_delta(const struct gm_component_info *info, double from,
                            double to, double dt_s, double *d_out,
                            bool *wrapped) {
  double d = to - from;
  *wrapped = false;
  if (d < 0 && info->wrap_j > 0) {
    d += info->wrap_j;
    *wrapped = true;
  }
  if (!(d >= 0) || dt_s <= 0 ||
      d > ceiling_w(info) * (dt_s + GM__COUNTER_SLACK_S))
    return false;
  *d_out = d;
  return true;
}

static void stall_check(struct gm__accum *a, double d, bool p_ok, double p_j,
                        int64_t t_ns) {
  if (d > 0 || !p_ok) {
    a->advanced_t_ns = t_ns;
    a->stall_power_j = 0;
    return;
  }
  a->stall_power_j += p_j;
  double span = secs(a->advanced_t_ns, t_ns);
  if (span >= GM__STALL_S && a->stall_power_j >= GM__STALL_MIN_W * span) {
    /* The sensor shows load the counter never counted: the stalled span is
     * the power integral, and so is everything after it. */
    a->counter_stopped = true;
    a->counter_stopped_at_s = secs(a->first_t_ns, a->advanced_t_ns);
    add(a, a->stall_power_j, span);
    a->stall_power_j = 0;
  }
}

/* A counter reading c at t_ns (already checked for range). */
static double counter_update(struct gm__accum *a,
                             const struct gm_component_info *info, double c,
                             bool p_ok, double p_w, bool p_span, double p_j,
                             int64_t t_ns) {
  if (!a->have_counter) {
    double e = 0;
    /* The counter appears only now (e.g. it failed before): start it here
     * and fill this interval from power when possible. */
    if (p_span)
      e = add(a, p_j, secs(a->last_power_t_ns, t_ns));
    a->have_counter = true;
    a->last_counter_j = c;
    a->last_counter_t_ns = t_ns;
    a->advanced_t_ns = t_ns;
    return e;
  }
  double dt_s = secs(a->last_counter_t_ns, t_ns);
  if (dt_s <= 0)
    return 0.0; /* duplicate timestamp: nothing elapsed */
  double d;
  bool wrapped;
  if (plausible_delta(info, a->last_counter_j, c, dt_s, &d, &wrapped)) {
    if (a->held)
      a->glitches += a->held; /* the held readings were glitches */
    a->held = 0;
    a->wraps += wrapped;
    a->last_counter_j = c;
    a->last_counter_t_ns = t_ns;
    double e = add(a, d, dt_s);
    stall_check(a, d, p_span, p_j, t_ns);
    return e;
  }
  if (a->held) {
    double dh;
    double dt_h = secs(a->held_t_ns, t_ns);
    if (plausible_delta(info, a->held_counter_j, c, dt_h, &dh, &wrapped)) {
      /* The count goes on from the held value: a reset (driver reload). */
      a->glitches += a->held - 1;
      a->held = 0;
      a->resets++;
      a->wraps += wrapped;
      double e =
          add(a, a->held_fill_j, secs(a->last_counter_t_ns, a->held_t_ns));
      e += add(a, dh, dt_h);
      a->last_counter_j = c;
      a->last_counter_t_ns = t_ns;
      a->advanced_t_ns = t_ns;
      a->stall_power_j = 0;
      return e;
    }
  }
  /* Fits nothing yet: hold it, with the energy of its gap from power. */
  if (a->held >= GM__MAX_HELD) {
    /* The counter will not settle: re-anchor on this reading. */
    a->glitches += a->held;
    a->held = 0;
    a->resets++;
    double e = add(a, fill_j(a, info, p_ok, p_w, dt_s), dt_s);
    a->last_counter_j = c;
    a->last_counter_t_ns = t_ns;
    a->advanced_t_ns = t_ns;
    return e;
  }
  a->held++;
  a->held_counter_j = c;
  a->held_t_ns = t_ns;
  a->held_fill_j = fill_j(a, info, p_ok, p_w, dt_s);
  return 0.0;
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
  double cap = ceiling_w(info);
  bool p_ok = r->has_power;
  if (p_ok && !(isfinite(r->power_w) && r->power_w >= 0 && r->power_w <= cap)) {
    a->glitches++;
    p_ok = false;
  }
  bool c_ok = r->has_energy;
  if (c_ok && !(isfinite(r->energy_j) && r->energy_j >= 0 &&
                (info->wrap_j <= 0 || r->energy_j <= info->wrap_j))) {
    a->glitches++;
    c_ok = false;
  }
  if ((r->has_power || r->has_energy) && !p_ok && !c_ok)
    return 0.0; /* nothing usable: the next good reading spans the gap */
  if (!a->primed) {
    a->primed = true;
    a->first_t_ns = t_ns;
  }
  a->last_ok_t_ns = t_ns;

  /* The power sensor's energy since its last good reading (or, for the
   * first power reading, since the first reading of any kind). */
  double p_j = 0.0;
  bool p_span = false;
  if (p_ok && a->power_clock && t_ns > a->last_power_t_ns) {
    p_j = power_span_j(a, info, r->power_w, secs(a->last_power_t_ns, t_ns));
    p_span = true;
  }

  double e = 0.0;
  bool use_counter = c_ok && !a->counter_stopped;
  if (use_counter) {
    e = counter_update(a, info, r->energy_j, p_ok, r->power_w, p_span, p_j,
                       t_ns);
    if (p_span) {
      a->power_energy_j += p_j;
      a->xcheck_active = true;
    }
  } else if (r->has_energy && !a->counter_stopped && a->have_counter) {
    /* The counter glitched this tick while the sensor read: its next good
     * delta spans the gap; the sensor's integral goes on. */
    if (p_span)
      a->power_energy_j += p_j;
  } else if (p_span) {
    e = add(a, p_j, secs(a->last_power_t_ns, t_ns));
    if (a->xcheck_active)
      a->power_energy_j += p_j;
  }

  if (p_ok) {
    a->have_power = true;
    a->last_power_w = r->power_w;
  }
  if (p_ok || !a->power_clock) {
    a->power_clock = true;
    a->last_power_t_ns = t_ns;
  }
  return e;
}

void gm__accum_finish(struct gm__accum *a) {
  if (!a->held)
    return;
  /* The last readings fit nothing before them: count them as a reset whose
   * gap is filled from power, as the next reading would have confirmed. */
  a->glitches += a->held - 1;
  a->held = 0;
  a->resets++;
  add(a, a->held_fill_j, secs(a->last_counter_t_ns, a->held_t_ns));
  a->last_counter_t_ns = a->held_t_ns;
  a->last_counter_j = a->held_counter_j;
}

double gm__accum_power_sd_w(const struct gm__accum *a) {
  if (a->n_intervals < 2)
    return 0.0;
  double sd = sqrt(a->m2 / (double)(a->n_intervals - 1));
  /* A constant power still spreads by a few ulps once it is turned into
   * joules over nanosecond intervals and back: that is rounding, not noise. */
  return sd <= 1e-12 * fabs(a->mean_w) ? 0.0 : sd;
}
