/* stats.c: correlation, regression, leave-one-out validation and means
 * (include/greenml/stats.h), on top of GSL's statistics, fit and cdf modules.
 *
 * GSL reports some failures through a process-wide error handler that aborts
 * by default. The library leaves that handler alone and calls only routines
 * that cannot reach it once the inputs are validated: gsl_stats_*, gsl_fit_*
 * and gsl_cdf_tdist_Q / gsl_cdf_tdist_Qinv, which return NaN rather than
 * raise. (gsl_cdf_tdist_Pinv raises when its iteration does not converge, so
 * quantiles are taken from the upper tail with Qinv, which also avoids
 * rounding 1 - alpha/2.)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>

#include "greenml/stats.h"

static bool all_finite(const double *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return false;
  return true;
}

/* Exact equality: a sample is degenerate only when every value is the same;
 * near-constant samples are left to the finiteness checks on the results. */
static bool is_constant(const double *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (v[i] != v[0])
      return false;
  return true;
}

/* False for NaN as well. */
static bool alpha_ok(double alpha) { return alpha > 0 && alpha < 1; }

/* The t quantile 1 - alpha/2 with dof degrees of freedom. */
static enum gm_status t_quantile(double alpha, size_t dof, double *t) {
  double q = gsl_cdf_tdist_Qinv(alpha / 2, (double)dof);
  if (!isfinite(q) || q <= 0)
    return GM_ERR_INVALID_ARG;
  *t = q;
  return GM_OK;
}

static enum gm_status check_pairs(const double *x, const double *y, size_t n,
                                  const void *out) {
  if (!x || !y || !out || n < 3)
    return GM_ERR_INVALID_ARG;
  if (!all_finite(x, n) || !all_finite(y, n))
    return GM_ERR_INVALID_ARG;
  if (is_constant(x, n) || is_constant(y, n))
    return GM_ERR_INVALID_ARG;
  return GM_OK;
}

/* t = r sqrt((n-2)/(1-r^2)) with n - 2 degrees of freedom, two-sided. The
 * coefficient is clamped to [-1, 1] against rounding; |r| = 1 gives an
 * infinite t and p = 0. */
static enum gm_status corr_finish(double r, size_t n,
                                  enum gm_stats_p_method method,
                                  struct gm_stats_corr *out) {
  if (!isfinite(r))
    return GM_ERR_INVALID_ARG; /* overflow in the sums of squares */
  if (r > 1)
    r = 1;
  if (r < -1)
    r = -1;
  struct gm_stats_corr c = {.r = r, .n = n, .p_method = method};
  double dof = (double)(n - 2);
  double one_minus_r2 = (1 - r) * (1 + r);
  if (one_minus_r2 <= 0) {
    c.t = copysign(INFINITY, r);
    c.p = 0;
  } else {
    c.t = r * sqrt(dof / one_minus_r2);
    c.p = 2 * gsl_cdf_tdist_Q(fabs(c.t), dof);
    if (!isfinite(c.p))
      return GM_ERR_INVALID_ARG;
    if (c.p > 1)
      c.p = 1;
  }
  *out = c;
  return GM_OK;
}

enum gm_status gm_stats_pearson(const double *x, const double *y, size_t n,
                                struct gm_stats_corr *out) {
  enum gm_status st = check_pairs(x, y, n, out);
  if (st != GM_OK)
    return st;
  double r = gsl_stats_correlation(x, 1, y, 1, n);
  return corr_finish(r, n, GM_STATS_P_STUDENT_T, out);
}

const char *gm_stats_p_method_name(enum gm_stats_p_method m) {
  switch (m) {
  case GM_STATS_P_STUDENT_T:
    return "student-t";
  case GM_STATS_P_STUDENT_T_APPROX:
    return "student-t approximation on ranks";
  case GM_STATS_P_PERMUTATION_EXACT:
    return "exact permutation";
  }
  return "unknown";
}

/* Average ranks (1-based) of v into rank; idx is scratch for n indices. */
static void avg_ranks(const double *v, size_t n, size_t *idx, double *rank) {
  gsl_sort_index(idx, v, 1, n);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && v[idx[j]] == v[idx[i]])
      j++;
    double r = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
    for (size_t k = i; k < j; k++)
      rank[idx[k]] = r;
    i = j;
  }
}

/* The exact two-sided permutation p-value of the rank correlation: the share
 * of the n! pairings of the y ranks with the x ranks whose sum of products
 * lies at least as far from its mean as the observed one (ties kept as
 * average ranks). Heap's algorithm changes two positions per step, so each
 * pairing costs O(1); ranks are multiples of 1/2, so every sum is exact. */
static double spearman_exact_p(const double *rx, double *ry, size_t n) {
  double mean = 0.5 * (double)(n + 1);
  double centre = (double)n * mean * mean, s = 0;
  for (size_t i = 0; i < n; i++)
    s += rx[i] * ry[i];
  double obs = fabs(s - centre) - 1e-9;
  unsigned c[GM_STATS_EXACT_MAX_N] = {0};
  uint64_t hits = fabs(s - centre) >= obs, total = 1;
  for (size_t i = 1; i < n;) {
    if (c[i] < i) {
      size_t j = i % 2 == 0 ? 0 : c[i];
      s += (rx[j] - rx[i]) * (ry[i] - ry[j]);
      double t = ry[i];
      ry[i] = ry[j];
      ry[j] = t;
      hits += fabs(s - centre) >= obs;
      total++;
      c[i]++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return (double)hits / (double)total;
}

/* Ranks with ties given their average rank, and the Pearson correlation of
 * the ranks; the p-value is exact (permutation) up to
 * GM_STATS_EXACT_MAX_N pairs, the t approximation above. */
enum gm_status gm_stats_spearman(const double *x, const double *y, size_t n,
                                 struct gm_stats_corr *out) {
  enum gm_status st = check_pairs(x, y, n, out);
  if (st != GM_OK)
    return st;
  if (n > SIZE_MAX / (2 * sizeof(double) + sizeof(size_t)))
    return GM_ERR_NO_MEMORY;
  double *rank = malloc(2 * n * sizeof(double));
  size_t *idx = malloc(n * sizeof(size_t));
  if (!rank || !idx) {
    free(rank);
    free(idx);
    return GM_ERR_NO_MEMORY;
  }
  double *rx = rank, *ry = rank + n;
  avg_ranks(x, n, idx, rx);
  avg_ranks(y, n, idx, ry);
  free(idx);
  double r = gsl_stats_correlation(rx, 1, ry, 1, n);
  bool exact = n <= GM_STATS_EXACT_MAX_N;
  st = corr_finish(
      r, n, exact ? GM_STATS_P_PERMUTATION_EXACT : GM_STATS_P_STUDENT_T_APPROX,
      out);
  if (st == GM_OK && exact)
    out->p = spearman_exact_p(rx, ry, n);
  free(rank);
  return st;
}

enum gm_status gm_stats_fit(enum gm_stats_model model, const double *x,
                            const double *y, size_t n,
                            struct gm_stats_fit *out) {
  if (!x || !y || !out)
    return GM_ERR_INVALID_ARG;
  if (model == GM_STATS_LINEAR) {
    if (n < 3)
      return GM_ERR_INVALID_ARG;
  } else if (model == GM_STATS_ORIGIN) {
    if (n < 2)
      return GM_ERR_INVALID_ARG;
  } else {
    return GM_ERR_INVALID_ARG;
  }
  if (!all_finite(x, n) || !all_finite(y, n))
    return GM_ERR_INVALID_ARG;

  struct gm_stats_fit f = {.model = model, .n = n};
  double ss_total;
  if (model == GM_STATS_LINEAR) {
    /* Sxx = 0: the slope is undefined. */
    if (is_constant(x, n))
      return GM_ERR_INVALID_ARG;
    f.dof = n - 2;
    /* GSL's covariances are already scaled by s^2 = SSE / (n - 2). */
    gsl_fit_linear(x, 1, y, 1, n, &f.a, &f.b, &f.var_a, &f.cov_ab, &f.var_b,
                   &f.sse);
    ss_total = gsl_stats_tss(y, 1, n);
  } else {
    /* sum x^2 = 0: the slope is undefined. */
    if (is_constant(x, n) && x[0] == 0)
      return GM_ERR_INVALID_ARG;
    f.dof = n - 1;
    /* var_b = s^2 / sum x^2 with s^2 = SSE / (n - 1). */
    gsl_fit_mul(x, 1, y, 1, n, &f.b, &f.var_b, &f.sse);
    /* Uncentred: the total sum of squares about 0, not about the mean. */
    ss_total = gsl_stats_tss_m(y, 1, n, 0.0);
  }
  f.se_a = sqrt(f.var_a);
  f.se_b = sqrt(f.var_b);
  f.s = sqrt(f.sse / (double)f.dof);
  f.r2 = ss_total > 0 ? 1 - f.sse / ss_total : 1;
  if (!isfinite(f.a) || !isfinite(f.b) || !isfinite(f.se_a) ||
      !isfinite(f.se_b) || !isfinite(f.cov_ab) || !isfinite(f.s) ||
      !isfinite(f.r2))
    return GM_ERR_INVALID_ARG; /* overflow on extreme magnitudes */
  *out = f;
  return GM_OK;
}

enum gm_status gm_stats_predict(const struct gm_stats_fit *fit, double x0,
                                double alpha, struct gm_stats_pred *out) {
  if (!fit || !out || !isfinite(x0) || !alpha_ok(alpha))
    return GM_ERR_INVALID_ARG;
  if (fit->dof == 0 || !(fit->s >= 0) || !isfinite(fit->s))
    return GM_ERR_INVALID_ARG;

  struct gm_stats_pred p = {.x0 = x0, .alpha = alpha};
  if (fit->model == GM_STATS_LINEAR)
    /* se_mean^2 = var_a + 2 x0 cov_ab + x0^2 var_b
     *           = s^2 (1/n + (x0 - xbar)^2 / Sxx). */
    gsl_fit_linear_est(x0, fit->a, fit->b, fit->var_a, fit->cov_ab, fit->var_b,
                       &p.y, &p.se_mean);
  else if (fit->model == GM_STATS_ORIGIN)
    /* se_mean = |x0| se_b = s |x0| / sqrt(sum x^2). */
    gsl_fit_mul_est(x0, fit->b, fit->var_b, &p.y, &p.se_mean);
  else
    return GM_ERR_INVALID_ARG;
  /* When the residuals vanish the quadratic form above can round to a tiny
   * negative number, whose square root is NaN; its true value is 0. */
  if (!(p.se_mean >= 0))
    p.se_mean = 0;

  /* A new observation adds its own residual variance s^2 to the variance of
   * the fitted mean. */
  p.se_pred = hypot(fit->s, p.se_mean);
  enum gm_status st = t_quantile(alpha, fit->dof, &p.t);
  if (st != GM_OK)
    return st;
  p.lo = p.y - p.t * p.se_pred;
  p.hi = p.y + p.t * p.se_pred;
  if (!isfinite(p.y) || !isfinite(p.lo) || !isfinite(p.hi))
    return GM_ERR_INVALID_ARG;
  *out = p;
  return GM_OK;
}

enum gm_status gm_stats_loo(enum gm_stats_model model, const double *x,
                            const double *y, size_t n, double alpha,
                            struct gm_stats_loo_point *points,
                            struct gm_stats_loo *out) {
  if (!x || !y || !out || !alpha_ok(alpha))
    return GM_ERR_INVALID_ARG;
  /* Every subset of n - 1 points must leave at least one residual degree of
   * freedom. */
  if (model == GM_STATS_LINEAR) {
    if (n < 4)
      return GM_ERR_INVALID_ARG;
  } else if (model == GM_STATS_ORIGIN) {
    if (n < 3)
      return GM_ERR_INVALID_ARG;
  } else {
    return GM_ERR_INVALID_ARG;
  }
  if (!all_finite(x, n) || !all_finite(y, n))
    return GM_ERR_INVALID_ARG;
  for (size_t i = 0; i < n; i++)
    if (y[i] == 0)
      return GM_ERR_INVALID_ARG;
  size_t m = n - 1;
  if (m < 2 || m > (size_t)PTRDIFF_MAX / (2 * sizeof(double)))
    return GM_ERR_NO_MEMORY;
  double *xs = malloc(2 * m * sizeof(double));
  if (!xs)
    return GM_ERR_NO_MEMORY;
  double *ys = xs + m;
  /* Subset without point 0: the points 1..n-1. Moving from "without i" to
   * "without i + 1" only puts point i back at slot i, the slot that held
   * point i + 1; the other slots already hold the right points. */
  for (size_t j = 0; j < m; j++) {
    xs[j] = x[j + 1];
    ys[j] = y[j + 1];
  }

  struct gm_stats_loo s = {.n = n, .alpha = alpha, .model = model};
  double sum_abs = 0;
  size_t inside = 0;
  enum gm_status st = GM_OK;
  for (size_t i = 0; i < n; i++) {
    if (i > 0) {
      xs[i - 1] = x[i - 1];
      ys[i - 1] = y[i - 1];
    }
    struct gm_stats_fit f;
    st = gm_stats_fit(model, xs, ys, m, &f);
    if (st != GM_OK)
      break;
    struct gm_stats_pred p;
    st = gm_stats_predict(&f, x[i], alpha, &p);
    if (st != GM_OK)
      break;
    double rel = (p.y - y[i]) / y[i];
    bool in = p.lo <= y[i] && y[i] <= p.hi;
    sum_abs += fabs(rel);
    inside += in;
    if (i == 0 || fabs(rel) > s.max_abs_rel) {
      s.max_abs_rel = fabs(rel);
      s.worst = i;
    }
    if (points)
      points[i] = (struct gm_stats_loo_point){.x = x[i],
                                              .y = y[i],
                                              .pred = p.y,
                                              .lo = p.lo,
                                              .hi = p.hi,
                                              .rel_err = rel,
                                              .inside = in};
  }
  free(xs);
  if (st != GM_OK)
    return st;
  s.mape_pct = 100 * sum_abs / (double)n;
  s.coverage = (double)inside / (double)n;
  if (!isfinite(s.mape_pct))
    return GM_ERR_INVALID_ARG;
  *out = s;
  return GM_OK;
}

enum gm_status gm_stats_mean_ci(const double *x, size_t n, double alpha,
                                struct gm_stats_mean *out) {
  if (!x || !out || n < 2 || !alpha_ok(alpha) || !all_finite(x, n))
    return GM_ERR_INVALID_ARG;
  struct gm_stats_mean m = {.n = n, .alpha = alpha};
  m.mean = gsl_stats_mean(x, 1, n);
  m.sd = gsl_stats_sd_m(x, 1, n, m.mean);
  m.se = m.sd / sqrt((double)n);
  enum gm_status st = t_quantile(alpha, n - 1, &m.t);
  if (st != GM_OK)
    return st;
  m.lo = m.mean - m.t * m.se;
  m.hi = m.mean + m.t * m.se;
  if (!isfinite(m.mean) || !isfinite(m.lo) || !isfinite(m.hi))
    return GM_ERR_INVALID_ARG;
  *out = m;
  return GM_OK;
}

enum gm_status gm_stats_sd(const double *x, size_t n, double *out) {
  if (!x || !out || n < 2 || !all_finite(x, n))
    return GM_ERR_INVALID_ARG;
  double sd = gsl_stats_sd(x, 1, n);
  if (!isfinite(sd))
    return GM_ERR_INVALID_ARG;
  *out = sd;
  return GM_OK;
}
