/* test_study_predict.c: the short-profile predictor (gm_study_predict) on
 * profiles whose answer is worked out by hand, its Student-t quantiles
 * taken from a table (not from the library that computes them), and its
 * degenerate cases: one profile step, one window, zero variance. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "greenml/study.h"
#include "helpers.h"

/* Two-sided Student-t quantiles t(1 - alpha/2, dof), from the standard
 * table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2). */
#define T_975_DOF1 12.706204736174698
#define T_975_DOF4 2.7764451051977987
#define T_950_DOF4 2.1318467863266504

/* Five windows of 100 samples; 1.0, 1.2, 0.8, 1.1 and 0.9 ms per sample
 * (mean 1 ms, sample sd sqrt(0.025) ms); a constant 2 J per sample; a first
 * step of 10 samples in 0.5 s at 10 W. */
static const double w_n[] = {100, 100, 100, 100, 100};
static const double w_t[] = {1.0e-3, 1.2e-3, 0.8e-3, 1.1e-3, 0.9e-3};
static const double w_e[] = {2, 2, 2, 2, 2};

static struct gm_study_profile five(void) {
  return (struct gm_study_profile){.first_samples = 10,
                                   .first_s = 0.5,
                                   .first_power_w = 10,
                                   .n_windows = 5,
                                   .window_samples = w_n,
                                   .window_s_per_sample = w_t,
                                   .window_j_per_sample = w_e};
}

static void known_intervals(void **state) {
  (void)state;
  struct gm_study_profile p = five();
  struct gm_study_estimate e;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_OK);
  /* 1000 samples after the first step */
  assert_double_equal(e.duration_s, 0.5 + 1000 * 1.0e-3, 1e-12);
  double se = sqrt(0.025e-6) / sqrt(5.0);
  double h = T_975_DOF4 * se * 1000;
  assert_double_equal(e.duration_lo_s, 1.5 - h, 1e-9);
  assert_double_equal(e.duration_hi_s, 1.5 + h, 1e-9);
  assert_double_equal(e.duration_hi_s - e.duration_s, 0.1963243, 1e-6);
  /* energy: the first step at 10 W, then 2 J per sample; identical windows
   * give a zero-width interval */
  assert_double_equal(e.energy_j, 10 * 0.5 + 1000 * 2.0, 1e-9);
  assert_double_equal(e.energy_lo_j, e.energy_j, 1e-9);
  assert_double_equal(e.energy_hi_j, e.energy_j, 1e-9);

  /* another level, another quantile */
  assert_int_equal(gm_study_predict(&p, 1010, 0.90, &e), GM_OK);
  assert_double_equal(e.duration_hi_s, 1.5 + T_950_DOF4 * se * 1000, 1e-9);
}

static void weights_and_floor(void **state) {
  (void)state;
  /* the estimate weights windows by their samples, the interval does not:
   * rates 1 and 2 s per sample over 100 and 300 samples give 1.75 s per
   * sample; the interval of the mean of {1, 2} is 1.5 +- t(1) x 0.5 */
  const double n[] = {100, 300}, t[] = {1, 2}, j[] = {3, 3};
  struct gm_study_profile p = {.first_samples = 1,
                               .first_s = 2,
                               .first_power_w = 4,
                               .n_windows = 2,
                               .window_samples = n,
                               .window_s_per_sample = t,
                               .window_j_per_sample = j};
  struct gm_study_estimate e;
  assert_int_equal(gm_study_predict(&p, 11, 0.95, &e), GM_OK);
  assert_double_equal(e.duration_s, 2 + 10 * 1.75, 1e-12);
  double h = T_975_DOF1 * 0.5 * 10;
  assert_double_equal(e.duration_hi_s, e.duration_s + h, 1e-9);
  /* the lower bound never falls below what the first step took */
  assert_true(e.duration_s - h < 2);
  assert_double_equal(e.duration_lo_s, 2, 0);
  assert_double_equal(e.energy_j, 4 * 2 + 10 * 3, 1e-12);
}

static void degenerate_profiles(void **state) {
  (void)state;
  struct gm_study_estimate e;
  /* one window: an estimate, no interval */
  struct gm_study_profile p = five();
  p.n_windows = 1;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_OK);
  assert_double_equal(e.duration_s, 0.5 + 1000 * 1.0e-3, 1e-12);
  assert_double_equal(e.energy_j, 5 + 2000, 1e-9);
  assert_true(isnan(e.duration_lo_s) && isnan(e.duration_hi_s));
  assert_true(isnan(e.energy_lo_j) && isnan(e.energy_hi_j));
  /* one profile step and no window: nothing to extrapolate */
  p.n_windows = 0;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_ERR_INVALID_ARG);
  assert_true(isnan(e.duration_s) && isnan(e.energy_j));
  /* windows without samples */
  const double zero[] = {0, 0};
  p = five();
  p.n_windows = 2;
  p.window_samples = zero;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_ERR_INVALID_ARG);
  /* a target the profile has already covered, bad levels, bad values */
  p = five();
  assert_int_equal(gm_study_predict(&p, 10, 0.95, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_study_predict(&p, 1010, 1.0, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_study_predict(&p, 1010, 0.0, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_study_predict(&p, 1010, NAN, &e), GM_ERR_INVALID_ARG);
  const double bad_t[] = {1e-3, NAN, 1e-3, 1e-3, 1e-3};
  p.window_s_per_sample = bad_t;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_ERR_INVALID_ARG);
  p = five();
  p.first_s = -1;
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_study_predict(NULL, 1010, 0.95, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_study_predict(&p, 1010, 0.95, NULL), GM_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(known_intervals),
      cmocka_unit_test(weights_and_floor),
      cmocka_unit_test(degenerate_profiles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
