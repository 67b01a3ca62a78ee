/* test_stats.c: the statistics module against published figures (Anscombe's
 * quartet, R's `cars` data, Wikipedia's Spearman example), against small sets
 * worked by hand below, and on its error cases.
 *
 * Reference values not taken from a publication were computed from the
 * textbook formulas in 30-digit arithmetic (mpmath), independently of GSL. */
#include <math.h>
#include <stddef.h>

#include "greenml/stats.h"
#include "helpers.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Anscombe (1973): four sets with the same summary statistics. */
static const double ans_x[11] = {10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5};
static const double ans_x4[11] = {8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8};
static const double ans_y[4][11] = {
    {8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68},
    {9.14, 8.14, 8.74, 8.77, 9.26, 8.10, 6.13, 3.10, 9.13, 7.26, 4.74},
    {7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73},
    {6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.50, 5.56, 7.91, 6.89}};

/* R's `cars` (Ezekiel 1930): speed (mph) and stopping distance (ft). */
static const double cars_speed[50] = {
    4,  4,  7,  7,  8,  9,  10, 10, 10, 11, 11, 12, 12, 12, 12, 13, 13,
    13, 13, 14, 14, 14, 14, 15, 15, 15, 16, 16, 17, 17, 17, 18, 18, 18,
    18, 19, 19, 19, 20, 20, 20, 20, 20, 22, 23, 24, 24, 24, 24, 25};
static const double cars_dist[50] = {
    2,  10, 4,  22, 16, 10, 18, 26, 34, 17, 28, 14, 20, 24, 28,  26, 34,
    34, 46, 26, 36, 60, 80, 20, 26, 54, 32, 40, 32, 40, 50, 42,  56, 76,
    84, 36, 46, 68, 32, 48, 52, 56, 64, 66, 54, 70, 92, 93, 120, 85};

static void anscombe_quartet(void **state) {
  (void)state;
  /* Published: r = 0.816, y = 3.00 + 0.500 x, R^2 = 0.67 for all four; the
   * p-value of r (= that of the slope) 0.00217 for each. The published r
   * is truncated, not rounded: set IV's is 0.81652. */
  static const double r_ref[4] = {0.81642052, 0.81623651, 0.81628674,
                                  0.81652144};
  static const double p_ref[4] = {0.0021696289, 0.0021788162, 0.0021763053,
                                  0.0021646023};
  for (int k = 0; k < 4; k++) {
    const double *x = k == 3 ? ans_x4 : ans_x;
    struct gm_stats_corr c;
    assert_int_equal(gm_stats_pearson(x, ans_y[k], 11, &c), GM_OK);
    assert_double_equal(floor(c.r * 1000) / 1000, 0.816, 1e-12);
    assert_double_equal(c.r, r_ref[k], 1e-8);
    assert_int_equal(c.n, 11);
    assert_int_equal(c.p_method, GM_STATS_P_STUDENT_T);
    assert_double_equal(c.p, 0.00217, 1e-5);
    assert_double_equal(c.p, p_ref[k], 1e-9);

    struct gm_stats_fit f;
    assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, ans_y[k], 11, &f), GM_OK);
    assert_double_equal(f.a, 3.00, 5e-3);
    assert_double_equal(f.b, 0.500, 5e-4);
    assert_double_equal(f.r2, 0.67, 5e-3);
    assert_int_equal(f.dof, 9);
    assert_int_equal(f.model, GM_STATS_LINEAR);
    /* R^2 of a simple regression is r^2. */
    assert_double_equal(f.r2, c.r * c.r, 1e-12);
  }
  /* Set I in full, as R's summary(lm(y1 ~ x1)) prints it: 3.0001 (1.1247),
   * 0.5001 (0.1179), residual standard error 1.237 on 9 df, R^2 0.6665. */
  struct gm_stats_fit f;
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, ans_x, ans_y[0], 11, &f),
                   GM_OK);
  assert_double_equal(f.a, 3.0000909, 1e-6);
  assert_double_equal(f.b, 0.50009091, 1e-7);
  assert_double_equal(f.se_a, 1.1247468, 1e-6);
  assert_double_equal(f.se_b, 0.1179055, 1e-6);
  assert_double_equal(f.s, 1.2366033, 1e-6);
  assert_double_equal(f.r2, 0.66654246, 1e-7);
  assert_double_equal(f.var_a, f.se_a * f.se_a, 1e-12);
  /* cov(a, b) = -xbar var_b, xbar = 9. */
  assert_double_equal(f.cov_ab, -9 * f.var_b, 1e-12);
}

static void spearman_wikipedia_iq_tv(void **state) {
  (void)state;
  /* Wikipedia, "Spearman's rank correlation coefficient": IQ against hours
   * of TV per week; no ties, sum d^2 = 194, rho = 1 - 6 * 194 / 990 =
   * -29/165; p = 0.627 by the t approximation with 8 df. */
  const double iq[] = {106, 100, 86, 101, 99, 103, 97, 113, 112, 110};
  const double tv[] = {7, 27, 2, 50, 28, 29, 20, 12, 6, 17};
  struct gm_stats_corr c;
  assert_int_equal(gm_stats_spearman(iq, tv, 10, &c), GM_OK);
  assert_double_equal(c.r, -29.0 / 165.0, 1e-12);
  assert_double_equal(c.r, -0.175757575, 1e-9);
  assert_double_equal(c.p, 0.627, 1e-3);
  assert_double_equal(c.p, 0.6271883448, 1e-9);
  assert_double_equal(c.t, -0.5049782492, 1e-9);
  assert_int_equal(c.p_method, GM_STATS_P_STUDENT_T_APPROX);
  assert_int_equal(c.n, 10);
}

static void spearman_ties_by_hand(void **state) {
  (void)state;
  /* x = 10 20 20 30 40 50  -> ranks 1 2.5 2.5 4 5 6
   * y =  1  3  2  2  5  4  -> ranks 1 4 2.5 2.5 6 5
   * Both rank vectors have mean 3.5; deviations
   *   dx = -2.5 -1 -1 0.5 1.5 2.5,  dy = -2.5 0.5 -1 -1 2.5 1.5
   *   Sxy = 6.25 - 0.5 + 1 - 0.5 + 3.75 + 3.75 = 13.75
   *   Sxx = Syy = 6.25 + 1 + 1 + 0.25 + 2.25 + 6.25 = 17
   * rho = 13.75 / 17 = 55/68 = 0.80882... (the no-ties shortcut would give
   * 1 - 6 * 6.5 / 210 = 0.81428..., which is wrong here).
   * t = rho sqrt(4 / (1 - rho^2)) = 110 / sqrt(1599) = 2.750859...
   * With 6 pairs the p-value is exact: of the 720 pairings of the y ranks
   * with the x ranks, 46 give |rho| >= 55/68 (counted by
   * enumeration), p = 46/720. (The t approximation would give
   * 1 - (3/2) rho + (1/2) rho^3 = 0.0513.) */
  const double x[] = {10, 20, 20, 30, 40, 50};
  const double y[] = {1, 3, 2, 2, 5, 4};
  const double rho = 55.0 / 68.0;
  struct gm_stats_corr c;
  assert_int_equal(gm_stats_spearman(x, y, 6, &c), GM_OK);
  assert_double_equal(c.r, rho, 1e-12);
  assert_double_equal(c.t, 110.0 / sqrt(1599.0), 1e-10);
  assert_double_equal(c.p, 46.0 / 720.0, 1e-12);
  assert_int_equal(c.p_method, GM_STATS_P_PERMUTATION_EXACT);
  /* Symmetric in its arguments. */
  struct gm_stats_corr c2;
  assert_int_equal(gm_stats_spearman(y, x, 6, &c2), GM_OK);
  assert_double_equal(c2.r, c.r, 1e-15);
}

static void spearman_and_pearson_on_cars(void **state) {
  (void)state;
  /* Published (R, cor.test on cars): Pearson r = 0.8068949, t = 9.464 on
   * 48 df, p = 1.49e-12; Spearman (many ties, so the t approximation) rho =
   * 0.8303568, p = 8.825e-14. */
  struct gm_stats_corr c;
  assert_int_equal(gm_stats_pearson(cars_speed, cars_dist, 50, &c), GM_OK);
  assert_double_equal(c.r, 0.8068949, 1e-7);
  assert_double_equal(c.t, 9.46398999, 1e-7);
  assert_double_equal(c.p / 1.489836496e-12, 1, 1e-6);
  assert_double_equal(c.p, 1.49e-12, 1e-14);
  assert_int_equal(gm_stats_spearman(cars_speed, cars_dist, 50, &c), GM_OK);
  assert_double_equal(c.r, 0.8303568388, 1e-9);
  assert_double_equal(c.t, 10.32403158, 1e-7);
  assert_double_equal(c.p / 8.82456e-14, 1, 1e-5);
  assert_int_equal(c.p_method, GM_STATS_P_STUDENT_T_APPROX);
}

static void perfect_correlation(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4, 5};
  const double up[] = {3, 5, 7, 9, 11};
  const double down[] = {10, 8, 6, 4, 2};
  const double mono[] = {1, 4, 9, 16, 25};
  struct gm_stats_corr c;
  assert_int_equal(gm_stats_pearson(x, up, 5, &c), GM_OK);
  assert_double_equal(c.r, 1, 1e-15);
  assert_true(c.p < 1e-12);
  assert_true(c.t > 1e6);
  assert_int_equal(gm_stats_pearson(x, down, 5, &c), GM_OK);
  assert_double_equal(c.r, -1, 1e-15);
  assert_true(c.p < 1e-12);
  assert_true(c.t < -1e6);
  /* Ranks of a monotonic relation are identical; with 5 pairs only the
   * identity and the reversal are as extreme: p = 2/120 exactly, not the
   * 0 of the t approximation. */
  assert_int_equal(gm_stats_spearman(x, mono, 5, &c), GM_OK);
  assert_double_equal(c.r, 1, 1e-15);
  assert_double_equal(c.p, 2.0 / 120.0, 1e-15);
  assert_true(c.t > 1e6);
}

static void spearman_exact_small_samples(void **state) {
  (void)state;
  /* n = 3, perfectly monotonic: the smallest p three ranks allow is 1/3. */
  const double a[] = {1, 2, 3}, b[] = {10, 20, 30};
  struct gm_stats_corr c;
  assert_int_equal(gm_stats_spearman(a, b, 3, &c), GM_OK);
  assert_double_equal(c.r, 1, 1e-15);
  assert_double_equal(c.p, 1.0 / 3.0, 1e-15);
  assert_int_equal(c.p_method, GM_STATS_P_PERMUTATION_EXACT);
  /* Published (R 4.x, cor.test(1:6, c(2,1,4,3,6,5), method = "spearman")):
   * rho = 0.8285714, S = 6, exact p-value = 0.05833. */
  const double x[] = {1, 2, 3, 4, 5, 6}, y[] = {2, 1, 4, 3, 6, 5};
  assert_int_equal(gm_stats_spearman(x, y, 6, &c), GM_OK);
  assert_double_equal(c.r, 0.8285714, 1e-7);
  assert_double_equal(c.p, 0.05833, 1e-5);
  assert_double_equal(c.p, 42.0 / 720.0, 1e-15);
  /* Nine pairs: 9! pairings, still exact; anti-monotonic. */
  const double u[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const double v[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  assert_int_equal(gm_stats_spearman(u, v, 9, &c), GM_OK);
  assert_double_equal(c.r, -1, 1e-15);
  assert_double_equal(c.p, 2.0 / 362880.0, 1e-18);
  assert_string_equal(gm_stats_p_method_name(c.p_method), "exact permutation");
}

static void prediction_interval_by_hand(void **state) {
  (void)state;
  /* x = 1 2 3 4, y = 2 4 5 8: xbar = 2.5, ybar = 4.75, Sxx = 5,
   * Sxy = 4.125 + 0.375 + 0.125 + 4.875 = 9.5, b = 1.9, a = 0.
   * Residuals 0.1 0.2 -0.7 0.4: SSE = 0.7, s^2 = 0.7 / 2 = 0.35.
   * At x0 = 5: y = 9.5, se_pred = s sqrt(1 + 1/4 + 2.5^2 / 5) = sqrt(0.875)
   * = 0.935414347. With 2 df the quantile has a closed form,
   * t_{0.975} = (2p - 1) / sqrt(2 p (1 - p)) at p = 0.975 = 4.302652730, so
   * the 95 % interval is 9.5 -+ 4.024763092 = [5.475236908, 13.524763092].
   * se_mean = s sqrt(1/4 + 1.25) = sqrt(0.525). */
  const double x[] = {1, 2, 3, 4};
  const double y[] = {2, 4, 5, 8};
  struct gm_stats_fit f;
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, y, 4, &f), GM_OK);
  assert_double_equal(f.a, 0, 1e-12);
  assert_double_equal(f.b, 1.9, 1e-12);
  assert_double_equal(f.sse, 0.7, 1e-12);
  assert_double_equal(f.s, sqrt(0.35), 1e-12);
  assert_int_equal(f.n, 4);
  struct gm_stats_pred p;
  assert_int_equal(gm_stats_predict(&f, 5, 0.05, &p), GM_OK);
  assert_double_equal(p.x0, 5, 0);
  assert_double_equal(p.y, 9.5, 1e-12);
  assert_double_equal(p.se_mean, sqrt(0.525), 1e-12);
  assert_double_equal(p.se_pred, sqrt(0.875), 1e-12);
  assert_double_equal(p.t, 0.95 / sqrt(2 * 0.975 * 0.025), 1e-9);
  assert_double_equal(p.lo, 5.475236908, 1e-8);
  assert_double_equal(p.hi, 13.524763092, 1e-8);
  assert_double_equal(p.alpha, 0.05, 0);
  /* At the mean of x the interval is narrowest: s sqrt(1 + 1/4). */
  assert_int_equal(gm_stats_predict(&f, 2.5, 0.05, &p), GM_OK);
  assert_double_equal(p.se_pred, sqrt(0.35 * 1.25), 1e-12);
}

static void prediction_interval_cars(void **state) {
  (void)state;
  /* lm(dist ~ speed, cars): -17.5791 (6.7584) + 3.9324 (0.4155) speed,
   * residual standard error 15.38 on 48 df, R^2 0.6511 (R's published
   * summary). Prediction intervals at speed 21 (95 %) and 30 (90 %), with
   * t_{0.975,48} = 2.010634758 and t_{0.95,48} = 1.677224196. */
  struct gm_stats_fit f;
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, cars_speed, cars_dist, 50, &f),
                   GM_OK);
  assert_double_equal(f.a, -17.57909489, 1e-7);
  assert_double_equal(f.b, 3.932408759, 1e-8);
  assert_double_equal(f.se_a, 6.758440169, 1e-8);
  assert_double_equal(f.se_b, 0.4155127767, 1e-9);
  assert_double_equal(f.s, 15.37958675, 1e-7);
  assert_double_equal(f.r2, 0.6510793808, 1e-9);
  struct gm_stats_pred p;
  assert_int_equal(gm_stats_predict(&f, 21, 0.05, &p), GM_OK);
  assert_double_equal(p.y, 65.0014890511, 1e-8);
  assert_double_equal(p.se_pred, 15.7059432554, 1e-8);
  assert_double_equal(p.t, 2.01063475762, 1e-8);
  assert_double_equal(p.lo, 33.4225736405, 1e-6);
  assert_double_equal(p.hi, 96.5804044617, 1e-6);
  assert_int_equal(gm_stats_predict(&f, 30, 0.10, &p), GM_OK);
  assert_double_equal(p.y, 100.393167883, 1e-8);
  assert_double_equal(p.lo, 72.4250039917, 1e-6);
  assert_double_equal(p.hi, 128.361331775, 1e-6);
}

static void origin_by_hand_and_cars(void **state) {
  (void)state;
  /* y = b x on x = 10 20 30 (s), y = 1500 3100 4400 (J):
   * sum x y = 209000, sum x^2 = 1400, b = 1045/7 = 149.2857143 W.
   * Residuals 50/7 800/7 -550/7: SSE = 945000/49, s^2 = SSE / 2 =
   * 472500/49 = 9642.857143, var_b = s^2 / 1400.
   * At x0 = 100: y = 104500/7 = 14928.57143,
   * se_pred = s sqrt(1 + 100^2 / 1400) = sqrt(9642.857143 * 57/7) =
   * 280.2149321; t_{0.975,2} = 4.302652730 (closed form, as above):
   * [13722.90389, 16134.23897]. Uncentred R^2 = 1 - SSE / (1500^2 + 3100^2 +
   * 4400^2) = 0.9993822641. */
  const double x[] = {10, 20, 30};
  const double y[] = {1500, 3100, 4400};
  struct gm_stats_fit f;
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, x, y, 3, &f), GM_OK);
  assert_int_equal(f.model, GM_STATS_ORIGIN);
  assert_double_equal(f.a, 0, 0);
  assert_double_equal(f.se_a, 0, 0);
  assert_double_equal(f.cov_ab, 0, 0);
  assert_double_equal(f.b, 1045.0 / 7.0, 1e-10);
  assert_double_equal(f.sse, 945000.0 / 49.0, 1e-8);
  assert_double_equal(f.s * f.s, 472500.0 / 49.0, 1e-8);
  assert_double_equal(f.var_b, 472500.0 / 49.0 / 1400.0, 1e-10);
  assert_double_equal(f.r2, 0.999382264116, 1e-11);
  assert_int_equal(f.dof, 2);
  struct gm_stats_pred p;
  assert_int_equal(gm_stats_predict(&f, 100, 0.05, &p), GM_OK);
  assert_double_equal(p.y, 104500.0 / 7.0, 1e-8);
  assert_double_equal(p.se_pred, 280.214932085, 1e-8);
  assert_double_equal(p.lo, 13722.9038861, 1e-6);
  assert_double_equal(p.hi, 16134.238971, 1e-6);

  /* lm(dist ~ 0 + speed, cars): 2.9091 (0.1414), residual standard error
   * 16.26 on 49 df, R^2 0.8963 (R's published summary). */
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, cars_speed, cars_dist, 50, &f),
                   GM_OK);
  assert_double_equal(f.b, 2.909132144, 1e-8);
  assert_double_equal(f.se_b, 0.1413686375, 1e-9);
  assert_double_equal(f.s, 16.25923715, 1e-7);
  assert_double_equal(f.r2, 0.8962893058, 1e-9);
  assert_int_equal(f.dof, 49);
  assert_int_equal(gm_stats_predict(&f, 21, 0.05, &p), GM_OK);
  assert_double_equal(p.y, 61.0917750227, 1e-8);
  assert_double_equal(p.lo, 27.8774283252, 1e-6);
  assert_double_equal(p.hi, 94.3061217202, 1e-6);

  /* A constant non-zero x is fine through the origin. */
  const double xc[] = {2, 2, 2};
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, xc, y, 3, &f), GM_OK);
  assert_double_equal(f.b, 9000.0 / 6.0, 1e-9);
}

static void loo_perfect_line_is_exact(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4, 5, 6};
  double y[6], yo[6];
  for (int i = 0; i < 6; i++) {
    y[i] = 2 + 3 * x[i];
    yo[i] = 7.5 * x[i];
  }
  struct gm_stats_loo_point pts[6];
  struct gm_stats_loo s;
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 6, 0.05, pts, &s),
                   GM_OK);
  assert_int_equal(s.n, 6);
  assert_int_equal(s.model, GM_STATS_LINEAR);
  assert_double_equal(s.mape_pct, 0, 1e-10);
  assert_double_equal(s.max_abs_rel, 0, 1e-12);
  for (int i = 0; i < 6; i++) {
    assert_double_equal(pts[i].x, x[i], 0);
    assert_double_equal(pts[i].y, y[i], 0);
    assert_double_equal(pts[i].pred, y[i], 1e-10);
    assert_double_equal(pts[i].rel_err, 0, 1e-12);
    assert_double_equal(pts[i].hi - pts[i].lo, 0, 1e-6);
  }
  assert_int_equal(gm_stats_loo(GM_STATS_ORIGIN, x, yo, 6, 0.05, pts, &s),
                   GM_OK);
  assert_double_equal(s.mape_pct, 0, 1e-10);
  for (int i = 0; i < 6; i++)
    assert_double_equal(pts[i].pred, yo[i], 1e-10);
  /* The summary alone. */
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 6, 0.05, NULL, &s),
                   GM_OK);
  assert_double_equal(s.mape_pct, 0, 1e-10);
}

static void loo_outlier_has_the_largest_error(void **state) {
  (void)state;
  /* About y = 1 + 2x, except point 5 (13 expected, 23 observed). The fit
   * without point 5 passes through (6, 13) exactly. */
  const double x[] = {1, 2, 3, 4, 5, 6, 7, 8};
  const double y[] = {3.1, 4.9, 7.2, 8.8, 11.1, 23.0, 15.1, 16.9};
  static const double pred_ref[8] = {3.0,       5.5754098, 7.8565217,
                                     10.282192, 12.638356, 13.0,
                                     17.901639, 21.328571};
  struct gm_stats_loo_point pts[8];
  struct gm_stats_loo s;
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 8, 0.05, pts, &s),
                   GM_OK);
  assert_int_equal(s.worst, 5);
  for (int i = 0; i < 8; i++) {
    assert_double_equal(pts[i].pred, pred_ref[i], 1e-6);
    assert_double_equal(pts[i].rel_err, (pts[i].pred - y[i]) / y[i], 1e-15);
    if (i != 5)
      assert_true(fabs(pts[i].rel_err) < fabs(pts[5].rel_err));
  }
  assert_double_equal(pts[5].rel_err, 13.0 / 23.0 - 1, 1e-12);
  assert_double_equal(s.max_abs_rel, 10.0 / 23.0, 1e-12);
  assert_false(pts[5].inside);
  assert_true(pts[5].y > pts[5].hi);
  assert_double_equal(s.mape_pct, 18.1333649481, 1e-8);
  assert_double_equal(s.coverage, 7.0 / 8.0, 1e-15);
}

static void loo_origin_proportional_energy(void **state) {
  (void)state;
  /* About 150 W: energy (J) against time (s). */
  const double t[] = {10, 20, 30, 40, 50};
  const double e[] = {1510, 2980, 4530, 6020, 7440};
  struct gm_stats_loo_point pts[5];
  struct gm_stats_loo s;
  assert_int_equal(gm_stats_loo(GM_STATS_ORIGIN, t, e, 5, 0.05, pts, &s),
                   GM_OK);
  assert_double_equal(pts[0].pred, 1496.851852, 1e-6);
  assert_double_equal(pts[4].pred, 7523.333333, 1e-6);
  assert_double_equal(s.mape_pct, 0.85346515528, 1e-9);
  assert_double_equal(s.coverage, 1, 0);
  assert_double_equal(s.alpha, 0.05, 0);
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, t, e, 5, 0.05, pts, &s),
                   GM_OK);
  assert_double_equal(s.mape_pct, 1.03889674241, 1e-9);
}

static void mean_ci_and_sd(void **state) {
  (void)state;
  /* mean 12.16, sd = sqrt(0.372 / 4) = 0.3049590136, t_{0.975,4} =
   * 2.776445105: [11.78134337, 12.53865663]. */
  const double x[] = {12.1, 11.8, 12.6, 12.0, 12.3};
  struct gm_stats_mean m;
  assert_int_equal(gm_stats_mean_ci(x, 5, 0.05, &m), GM_OK);
  assert_double_equal(m.mean, 12.16, 1e-12);
  assert_double_equal(m.sd, 0.3049590136, 1e-9);
  assert_double_equal(m.se, 0.3049590136 / sqrt(5.0), 1e-9);
  assert_double_equal(m.t, 2.776445105, 1e-9);
  assert_double_equal(m.lo, 11.78134337, 1e-8);
  assert_double_equal(m.hi, 12.53865663, 1e-8);
  assert_int_equal(m.n, 5);
  double sd;
  assert_int_equal(gm_stats_sd(x, 5, &sd), GM_OK);
  assert_double_equal(sd, 0.3049590136, 1e-9);
  /* Two values 1 and 3: sd = sqrt(2), se = 1, t_{0.975,1} = tan(0.475 pi)
   * = 12.70620474, so the interval is 2 -+ 12.70620474. */
  const double two[] = {1, 3};
  assert_int_equal(gm_stats_mean_ci(two, 2, 0.05, &m), GM_OK);
  assert_double_equal(m.t, 12.70620474, 1e-7);
  assert_double_equal(m.hi, 2 + 12.70620474, 1e-7);
  /* A constant sample: sd 0, a zero-width interval. */
  const double c[] = {4.25, 4.25, 4.25, 4.25};
  assert_int_equal(gm_stats_mean_ci(c, 4, 0.05, &m), GM_OK);
  assert_double_equal(m.sd, 0, 0);
  assert_double_equal(m.lo, 4.25, 0);
  assert_double_equal(m.hi, 4.25, 0);
}

static void error_cases(void **state) {
  (void)state;
  const double x[] = {1, 2, 3, 4, 5};
  const double y[] = {2, 1, 4, 3, 6};
  const double k[] = {7, 7, 7, 7, 7};
  const double z[] = {0, 0, 0, 0, 0};
  const double xn[] = {1, 2, NAN, 4, 5};
  const double yi[] = {2, 1, 4, INFINITY, 6};
  struct gm_stats_corr c;
  struct gm_stats_fit f;
  struct gm_stats_pred p;
  struct gm_stats_loo s;
  struct gm_stats_mean m;
  double sd;

  /* Too few points. */
  assert_int_equal(gm_stats_pearson(x, y, 2, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(x, y, 2, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_pearson(x, y, 0, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, y, 2, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, x, y, 1, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, x, y, 2, &f), GM_OK);
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 3, 0.05, NULL, &s),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_loo(GM_STATS_ORIGIN, x, y, 2, 0.05, NULL, &s),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_mean_ci(x, 1, 0.05, &m), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_sd(x, 1, &sd), GM_ERR_INVALID_ARG);

  /* Zero variance. */
  assert_int_equal(gm_stats_pearson(k, y, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_pearson(x, k, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(k, y, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(x, k, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, k, y, 5, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, z, y, 5, &f),
                   GM_ERR_INVALID_ARG);
  /* A constant y is a valid (exact) fit. */
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, k, 5, &f), GM_OK);
  assert_double_equal(f.b, 0, 1e-15);
  assert_double_equal(f.r2, 1, 0);
  /* Anscombe IV: leaving out the one x that differs leaves x constant. */
  assert_int_equal(
      gm_stats_loo(GM_STATS_LINEAR, ans_x4, ans_y[3], 11, 0.05, NULL, &s),
      GM_ERR_INVALID_ARG);

  /* Non-finite values. */
  assert_int_equal(gm_stats_pearson(xn, y, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_pearson(x, yi, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(xn, y, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(x, yi, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, xn, y, 5, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_ORIGIN, x, yi, 5, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, xn, y, 5, 0.05, NULL, &s),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_mean_ci(xn, 5, 0.05, &m), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_sd(yi, 5, &sd), GM_ERR_INVALID_ARG);

  /* NULL pointers and unknown models. */
  assert_int_equal(gm_stats_pearson(NULL, y, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_spearman(x, NULL, 5, &c), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_pearson(x, y, 5, NULL), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, y, 5, NULL),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_fit((enum gm_stats_model)7, x, y, 5, &f),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(
      gm_stats_loo((enum gm_stats_model)7, x, y, 5, 0.05, NULL, &s),
      GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 5, 0.05, NULL, NULL),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_predict(NULL, 1, 0.05, &p), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_mean_ci(NULL, 5, 0.05, &m), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_sd(x, 5, NULL), GM_ERR_INVALID_ARG);

  /* alpha outside (0, 1); x0 not finite; a malformed fit. */
  assert_int_equal(gm_stats_fit(GM_STATS_LINEAR, x, y, 5, &f), GM_OK);
  assert_int_equal(gm_stats_predict(&f, 1, 0.0, &p), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_predict(&f, 1, 1.0, &p), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_predict(&f, 1, NAN, &p), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_predict(&f, NAN, 0.05, &p), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_predict(&f, INFINITY, 0.05, &p),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_loo(GM_STATS_LINEAR, x, y, 5, -0.1, NULL, &s),
                   GM_ERR_INVALID_ARG);
  assert_int_equal(gm_stats_mean_ci(x, 5, 1.5, &m), GM_ERR_INVALID_ARG);
  struct gm_stats_fit bad = f;
  bad.dof = 0;
  assert_int_equal(gm_stats_predict(&bad, 1, 0.05, &p), GM_ERR_INVALID_ARG);
  bad = f;
  bad.model = (enum gm_stats_model)7;
  assert_int_equal(gm_stats_predict(&bad, 1, 0.05, &p), GM_ERR_INVALID_ARG);

  /* A zero y makes relative errors undefined. */
  const double y0[] = {2, 1, 0, 3, 6};
  assert_int_equal(gm_stats_loo(GM_STATS_ORIGIN, x, y0, 5, 0.05, NULL, &s),
                   GM_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(anscombe_quartet),
      cmocka_unit_test(spearman_wikipedia_iq_tv),
      cmocka_unit_test(spearman_ties_by_hand),
      cmocka_unit_test(spearman_exact_small_samples),
      cmocka_unit_test(spearman_and_pearson_on_cars),
      cmocka_unit_test(perfect_correlation),
      cmocka_unit_test(prediction_interval_by_hand),
      cmocka_unit_test(prediction_interval_cars),
      cmocka_unit_test(origin_by_hand_and_cars),
      cmocka_unit_test(loo_perfect_line_is_exact),
      cmocka_unit_test(loo_outlier_has_the_largest_error),
      cmocka_unit_test(loo_origin_proportional_energy),
      cmocka_unit_test(mean_ci_and_sd),
      cmocka_unit_test(error_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
