/* test_integrate.c: the integrator on analytic traces, where the exact
 * answer is known: constant and linear power (trapezoid exact), quadratic
 * power (known trapezoid error), counters that wrap several times, counter
 * resets, read errors, interval-mean models and the cross-check; and
 * hostile readings, each against the true energy: a garbage counter value,
 * a counter jump, a value beyond the counter's range, a power reading of
 * 0xFFFFFFFF mW, a negative or NaN power, a counter that stops while its
 * sensor shows load. */
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "meter/integrate.h"

#define NS 1000000000LL

static struct gm_component_info gauge(void) {
  struct gm_component_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.provenance = GM_PROV_MEASURED_POWER;
  return ci;
}

static struct gm__reading power(double w) {
  struct gm__reading r = {.ok = true, .has_power = true, .power_w = w};
  return r;
}

static struct gm__reading counter(double j) {
  struct gm__reading r = {.ok = true, .has_energy = true, .energy_j = j};
  return r;
}

static void constant_power_irregular_steps(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  struct gm__accum a;
  gm__accum_init(&a);
  const int64_t t[] = {0,         100000000,  250000000,
                       260000000, 1000000000, 3000000000};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    gm__accum_update(
        &a, &ci,
        &(struct gm__reading){.ok = true, .has_power = true, .power_w = 42.5},
        t[i]);
  assert_double_equal(a.energy_j, 42.5 * 3.0, 1e-9);
  assert_double_equal(a.peak_w, 42.5, 1e-12);
  assert_double_equal(gm__accum_power_sd_w(&a), 0.0, 1e-9);
}

static void linear_ramp_is_exact(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  struct gm__accum a;
  gm__accum_init(&a);
  /* P(t) = 10 + 20 t over [0, 2] s, uneven steps: E = 20 + 40 = 60 J. */
  double ts[] = {0, 0.013, 0.2, 0.7, 0.71, 1.5, 2.0};
  for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
    gm__accum_update(&a, &ci,
                     &(struct gm__reading){.ok = true,
                                           .has_power = true,
                                           .power_w = 10 + 20 * ts[i]},
                     (int64_t)llround(ts[i] * NS));
  assert_double_equal(a.energy_j, 60.0, 1e-9);
}

static void quadratic_has_the_known_trapezoid_error(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  struct gm__accum a;
  gm__accum_init(&a);
  /* P(t) = 300 t^2 on [0, 1] s with step h = 0.1 s: exact energy 100 J; the
   * trapezoid rule overestimates by 300 * h^2 * T / 6 = 0.5 J. */
  for (int k = 0; k <= 10; k++) {
    double t = k * 0.1;
    struct gm__reading r = power(300 * t * t);
    gm__accum_update(&a, &ci, &r, (int64_t)k * 100000000);
  }
  assert_double_equal(a.energy_j, 100.5, 1e-9);
}

static void counter_wrapping_several_times(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.wrap_j = 65532.610987; /* ESU 16: 0xFFFFFFFF x 15.26 uJ */
  struct gm__accum a;
  gm__accum_init(&a);
  /* 15 kW for 2 s per step so the 65.5 kJ range wraps four times in 10
   * readings; the true energy is 9 x 30 kJ. */
  double truth = 0;
  for (int k = 0; k < 10; k++) {
    struct gm__reading r = counter(fmod(5000.0 + truth, ci.wrap_j));
    gm__accum_update(&a, &ci, &r, (int64_t)k * 2 * NS);
    truth += 30000.0;
  }
  assert_double_equal(a.energy_j, 9 * 30000.0, 1e-6);
  assert_int_equal(a.wraps, 4);
  assert_int_equal(a.resets, 0);
}

static void counter_reset_is_filled_from_power(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER; /* NVML: no range */
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading r[] = {
      {.ok = true,
       .has_energy = true,
       .energy_j = 1000,
       .has_power = true,
       .power_w = 100},
      {.ok = true,
       .has_energy = true,
       .energy_j = 1010,
       .has_power = true,
       .power_w = 100},
      /* driver reload: the counter restarts near zero */
      {.ok = true,
       .has_energy = true,
       .energy_j = 3,
       .has_power = true,
       .power_w = 120},
      {.ok = true,
       .has_energy = true,
       .energy_j = 15,
       .has_power = true,
       .power_w = 120},
  };
  for (int k = 0; k < 4; k++)
    gm__accum_update(&a, &ci, &r[k], (int64_t)k * NS / 10);
  /* 10 J + trapezoid(100, 120) x 0.1 s = 11 J + 12 J */
  assert_double_equal(a.energy_j, 10 + 11 + 12, 1e-9);
  assert_int_equal(a.resets, 1);
  assert_int_equal(a.wraps, 0);
}

static void reload_to_random_value_is_a_reset_not_a_wrap(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.wrap_j = 262143.328850;
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading r0 = counter(200000), r1 = counter(200005),
                     r2 = counter(1000), r3 = counter(1006);
  gm__accum_update(&a, &ci, &r0, 0);
  gm__accum_update(&a, &ci, &r1, NS / 10);
  gm__accum_update(&a, &ci, &r2, 2 * NS / 10); /* would be 63 kJ in 0.1 s */
  gm__accum_update(&a, &ci, &r3, 3 * NS / 10);
  /* 5 J, then the reset interval at the previous 50 W (5 J), then 6 J. */
  assert_double_equal(a.energy_j, 16, 1e-9);
  assert_int_equal(a.resets, 1);
  assert_int_equal(a.wraps, 0);
}

static void read_errors_lose_no_counter_energy(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.wrap_j = 1000;
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading bad = {.ok = false};
  struct gm__reading r0 = counter(100), r1 = counter(130), r2 = counter(190);
  gm__accum_update(&a, &ci, &r0, 0);
  gm__accum_update(&a, &ci, &bad, NS);
  gm__accum_update(&a, &ci, &bad, 2 * NS);
  gm__accum_update(&a, &ci, &r1, 3 * NS);
  gm__accum_update(&a, &ci, &r2, 4 * NS);
  assert_double_equal(a.energy_j, 90, 1e-9);
  assert_int_equal(a.read_errors, 2);
  assert_double_equal(a.peak_w, 60, 1e-9);
}

static void interval_mean_models_use_p_dt(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MODELLED;
  ci.power_interval_mean = true;
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading none = {.ok = true};
  gm__accum_update(&a, &ci, &none, 0); /* first tick: no utilisation yet */
  struct gm__reading r1 = power(10), r2 = power(30);
  gm__accum_update(&a, &ci, &r1, NS / 2);
  gm__accum_update(&a, &ci, &r2, NS);
  assert_double_equal(a.energy_j, 10 * 0.5 + 30 * 0.5, 1e-12);
  assert_double_equal(a.mean_w, 20, 1e-12);
  assert_double_equal(gm__accum_power_sd_w(&a), sqrt(200.0), 1e-9);
}

/* A constant modelled power over uneven nanosecond intervals: P x dt / dt
 * differs from P by an ulp now and then, which is rounding, not spread; the
 * standard deviation (and the baseline noise built on it) is exactly 0. */
static void constant_power_rounding_is_no_spread(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MODELLED;
  ci.power_interval_mean = true;
  struct gm__accum a;
  gm__accum_init(&a);
  const double p = 8.827524670845348;
  int64_t t = 0;
  uint64_t seed = 1;
  gm__accum_update(&a, &ci, &(struct gm__reading){.ok = true}, t);
  for (int i = 0; i < 500; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    t += 1000000 + (int64_t)((seed >> 33) % 200000000);
    gm__accum_update(
        &a, &ci,
        &(struct gm__reading){.ok = true, .has_power = true, .power_w = p}, t);
  }
  assert_true(a.m2 > 0); /* the rounding is there */
  assert_true(gm__accum_power_sd_w(&a) == 0.0);
  assert_double_equal(a.mean_w, p, 1e-12);
}

static void cross_check_agrees_and_disagrees(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  struct gm__accum ok, off;
  gm__accum_init(&ok);
  gm__accum_init(&off);
  for (int k = 0; k <= 10; k++) {
    struct gm__reading r = {.ok = true,
                            .has_energy = true,
                            .energy_j = 50.0 * k * 0.1,
                            .has_power = true,
                            .power_w = 50};
    gm__accum_update(&ok, &ci, &r, (int64_t)k * NS / 10);
    r.power_w = 85; /* the sensor reads 70 % high */
    gm__accum_update(&off, &ci, &r, (int64_t)k * NS / 10);
  }
  assert_true(ok.xcheck_active);
  assert_double_equal(ok.energy_j, 50, 1e-9);
  assert_double_equal(ok.power_energy_j, 50, 1e-9);
  assert_double_equal(off.energy_j, 50, 1e-9);
  assert_double_equal(off.power_energy_j, 85, 1e-9);
}

static void duplicate_timestamps_add_nothing(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading r = power(100);
  gm__accum_update(&a, &ci, &r, NS);
  assert_double_equal(gm__accum_update(&a, &ci, &r, NS), 0.0, 0);
  gm__accum_update(&a, &ci, &r, 2 * NS);
  assert_double_equal(a.energy_j, 100, 1e-9);
}

/* A RAPL-like counter (range 262 kJ) at a true 50 W sampled every 50 ms;
 * reading 5 is replaced by `bad`. The truth is 50 W x 0.5 s = 25 J. */
static void one_bad_counter_reading(double bad, uint64_t want_glitches) {
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.wrap_j = 262143.328850;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 10; k++) {
    double v = 1000.0 + 2.5 * k;
    struct gm__reading r = counter(k == 5 ? bad : v);
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 20);
  }
  gm__accum_finish(&a);
  assert_double_equal(a.energy_j, 25.0, 1e-6);
  assert_int_equal(a.glitches, want_glitches);
  assert_int_equal(a.resets, 0);
  assert_int_equal(a.wraps, 0);
  assert_double_equal(a.peak_w, 50.0, 1e-6);
}

static void garbage_counter_values_are_glitches(void **state) {
  (void)state;
  one_bad_counter_reading(18446744073709551615.0, 1); /* 2^64 - 1 */
  one_bad_counter_reading(1012.5 + 200000.0, 1);      /* +200 kJ in 50 ms */
  one_bad_counter_reading(300000.0, 1); /* beyond max_energy_range */
  one_bad_counter_reading(-1.0, 1);
  one_bad_counter_reading(NAN, 1);
  one_bad_counter_reading(5.0, 1); /* a drop that no wrap explains */
}

/* A value beyond the counter's range, then the count resumes: no wrap (the
 * old test `(d + wrap) / dt <= 20 kW` accepted the negative d + wrap). */
static void out_of_range_value_is_not_a_wrap(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.wrap_j = 1000.0;
  struct gm__accum a;
  gm__accum_init(&a);
  const double vals[] = {500, 510, 2600, 530, 540}; /* 10 W */
  for (int k = 0; k < 5; k++) {
    struct gm__reading r = counter(vals[k]);
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS);
  }
  assert_double_equal(a.energy_j, 40.0, 1e-9);
  assert_int_equal(a.wraps, 0);
  assert_int_equal(a.resets, 0);
  assert_int_equal(a.glitches, 1);
}

/* A GPU without an energy counter: one power reading of 0xFFFFFFFF mW. */
static void absurd_power_reading_is_a_glitch(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.max_power_w = 700.0;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 10; k++) {
    struct gm__reading r = power(k == 4 ? 4294967.295 : 300.0);
    if (k == 6)
      r.power_w = -5.0;
    if (k == 7)
      r.power_w = NAN;
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 10);
  }
  assert_double_equal(a.energy_j, 300.0, 1e-9); /* 300 W x 1 s */
  assert_int_equal(a.glitches, 3);
  assert_double_equal(a.peak_w, 300.0, 1e-9);
}

/* An NVML-like counter that updates every 100 ms, sampled every 10 ms, on a
 * GPU drawing 700 W under a 1400 W ceiling: each update is 70 J in one 10 ms
 * interval (7 kW for that interval), which is the counter's clock, not a
 * glitch. The true energy over 1 s is 700 J. */
static void lumpy_counter_updates_are_not_glitches(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.max_power_w = 1400.0;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 100; k++) {
    struct gm__reading r = counter(5000.0 + 70.0 * (k / 10));
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 100);
  }
  gm__accum_finish(&a);
  assert_double_equal(a.energy_j, 700.0, 1e-9);
  assert_int_equal(a.glitches, 0);
  assert_int_equal(a.resets, 0);
  /* a lump beyond one update period's energy at the ceiling still is one */
  struct gm__reading r = counter(5700.0 + 1400.0 * 0.27);
  gm__accum_update(&a, &ci, &r, 101 * NS / 100);
  r = counter(5700.0);
  gm__accum_update(&a, &ci, &r, 102 * NS / 100);
  assert_int_equal(a.glitches, 1);
  assert_double_equal(a.energy_j, 700.0, 1e-9);
}

/* Without a declared limit the absolute ceiling applies. */
static void absolute_ceiling_without_a_limit(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading r0 = power(100), r1 = power(25000), r2 = power(100);
  gm__accum_update(&a, &ci, &r0, 0);
  gm__accum_update(&a, &ci, &r1, NS);
  gm__accum_update(&a, &ci, &r2, 2 * NS);
  assert_double_equal(a.energy_j, 200.0, 1e-9);
  assert_int_equal(a.glitches, 1);
}

/* An NVML counter that jumps once by 50 kJ in 100 ms: the jump is not the
 * total; the sensor and the next deltas are. */
static void counter_jump_is_not_the_total(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.max_power_w = 1400.0;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 20; k++) {
    double e = 1000.0 + 20.0 * k; /* 200 W */
    struct gm__reading r = {.ok = true,
                            .has_energy = true,
                            .energy_j = k == 7 ? e + 50000.0 : e,
                            .has_power = true,
                            .power_w = 200.0};
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 10);
  }
  gm__accum_finish(&a);
  assert_double_equal(a.energy_j, 400.0, 1e-9);
  assert_double_equal(a.power_energy_j, 400.0, 1e-9);
  assert_int_equal(a.glitches, 1);
}

/* The counter stops at 2 s while the sensor reads 700 W until 5 s: the
 * energy is the sensor's, flagged. */
static void stopped_counter_switches_to_power(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  ci.max_power_w = 1000.0;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 50; k++) {
    double t = k * 0.1;
    struct gm__reading r = {.ok = true,
                            .has_energy = true,
                            .energy_j = 700.0 * fmin(t, 2.0),
                            .has_power = true,
                            .power_w = 700.0};
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 10);
  }
  assert_true(a.counter_stopped);
  assert_double_equal(a.counter_stopped_at_s, 2.0, 1e-9);
  assert_double_equal(a.energy_j, 3500.0, 1e-6);
}

/* An NVML counter that updates every 100 ms, sampled every 10 ms, is not a
 * stopped counter. */
static void slow_counter_updates_are_not_a_stop(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  struct gm__accum a;
  gm__accum_init(&a);
  for (int k = 0; k <= 300; k++) {
    struct gm__reading r = {.ok = true,
                            .has_energy = true,
                            .energy_j = 30.0 * (k / 10), /* 300 W */
                            .has_power = true,
                            .power_w = 300.0};
    gm__accum_update(&a, &ci, &r, (int64_t)k * NS / 100);
  }
  assert_false(a.counter_stopped);
  assert_double_equal(a.energy_j, 900.0, 1e-9);
  assert_int_equal(a.glitches, 0);
}

/* A reset held until the window ends is filled from power at stop. */
static void reset_at_the_last_reading(void **state) {
  (void)state;
  struct gm_component_info ci = gauge();
  ci.provenance = GM_PROV_MEASURED_COUNTER;
  struct gm__accum a;
  gm__accum_init(&a);
  struct gm__reading r[] = {
      {.ok = true,
       .has_energy = true,
       .energy_j = 500,
       .has_power = true,
       .power_w = 100},
      {.ok = true,
       .has_energy = true,
       .energy_j = 510,
       .has_power = true,
       .power_w = 100},
      {.ok = true,
       .has_energy = true,
       .energy_j = 2,
       .has_power = true,
       .power_w = 100},
  };
  for (int k = 0; k < 3; k++)
    gm__accum_update(&a, &ci, &r[k], (int64_t)k * NS / 10);
  gm__accum_finish(&a);
  assert_double_equal(a.energy_j, 20.0, 1e-9);
  assert_int_equal(a.resets, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(constant_power_irregular_steps),
      cmocka_unit_test(linear_ramp_is_exact),
      cmocka_unit_test(quadratic_has_the_known_trapezoid_error),
      cmocka_unit_test(counter_wrapping_several_times),
      cmocka_unit_test(counter_reset_is_filled_from_power),
      cmocka_unit_test(reload_to_random_value_is_a_reset_not_a_wrap),
      cmocka_unit_test(read_errors_lose_no_counter_energy),
      cmocka_unit_test(interval_mean_models_use_p_dt),
      cmocka_unit_test(constant_power_rounding_is_no_spread),
      cmocka_unit_test(cross_check_agrees_and_disagrees),
      cmocka_unit_test(duplicate_timestamps_add_nothing),
      cmocka_unit_test(garbage_counter_values_are_glitches),
      cmocka_unit_test(out_of_range_value_is_not_a_wrap),
      cmocka_unit_test(absurd_power_reading_is_a_glitch),
      cmocka_unit_test(absolute_ceiling_without_a_limit),
      cmocka_unit_test(lumpy_counter_updates_are_not_glitches),
      cmocka_unit_test(counter_jump_is_not_the_total),
      cmocka_unit_test(stopped_counter_switches_to_power),
      cmocka_unit_test(slow_counter_updates_are_not_a_stop),
      cmocka_unit_test(reset_at_the_last_reading),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
