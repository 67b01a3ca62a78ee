/* stats.h: the statistics behind the analysis commands: correlation with
 * p-values, simple linear regression (with and without intercept) with
 * prediction intervals, leave-one-out cross-validation of those fits, and the
 * mean with a confidence interval.
 *
 * Pure functions on double arrays: nothing is kept between calls and every
 * function is thread-safe. Inputs are borrowed and never modified. Where a
 * function needs scratch memory it allocates and frees it itself and says so
 * (GM_ERR_NO_MEMORY); results go into caller-owned structs.
 *
 * Common contract: GM_ERR_INVALID_ARG for a NULL pointer, too few points, a
 * non-finite value (NaN, infinity) anywhere in the input, or a degenerate
 * sample as stated per function. alpha, where taken, is the two-sided error
 * rate of an interval (0.05 for 95 %) and must lie in (0, 1). On any error
 * *out is left unspecified.
 */
#ifndef GREENML_STATS_H
#define GREENML_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/api.h"
#include "greenml/status.h"

/* Up to this many pairs Spearman's p-value is exact (all n! pairings). */
#define GM_STATS_EXACT_MAX_N 9

/* How a correlation's p-value was obtained, two-sided. The t methods use
 * t = r sqrt((n - 2) / (1 - r^2)) against Student's t with n - 2 degrees of
 * freedom. */
enum gm_stats_p_method {
  /* Exact when (x, y) is bivariate normal (Pearson). */
  GM_STATS_P_STUDENT_T,
  /* An approximation applied to ranks (Spearman, more than
   * GM_STATS_EXACT_MAX_N pairs): reasonable from n of about 10. */
  GM_STATS_P_STUDENT_T_APPROX,
  /* Exact: the share of all n! pairings of the ranks at least as extreme
   * (Spearman, up to GM_STATS_EXACT_MAX_N pairs; ties keep their average
   * ranks). With n = 3 the smallest possible p is 1/3, with n = 4 1/12. */
  GM_STATS_P_PERMUTATION_EXACT,
};

/* The name of a p method: "student-t", "student-t approximation on ranks",
 * "exact permutation". */
GM_API const char *gm_stats_p_method_name(enum gm_stats_p_method m);

struct gm_stats_corr {
  double r; /* coefficient, in [-1, 1] */
  double t; /* r sqrt((n-2)/(1-r^2)); +-INFINITY when |r| = 1 */
  double p; /* two-sided p-value of r = 0; 0 when |r| = 1 */
  size_t n; /* number of pairs */
  enum gm_stats_p_method p_method;
};

/* Pearson's product-moment correlation of x[0..n) and y[0..n).
 * GM_ERR_INVALID_ARG when n < 3 or when x or y is constant (zero variance:
 * r is undefined). */
GM_API enum gm_status gm_stats_pearson(const double *x, const double *y,
                                       size_t n, struct gm_stats_corr *out);

/* Spearman's rank correlation: Pearson's r of the ranks, tied values taking
 * the average of the ranks they span (so the shortcut
 * 1 - 6 sum d^2 / (n (n^2 - 1)) is not used; it is wrong with ties).
 * p_method is GM_STATS_P_PERMUTATION_EXACT up to GM_STATS_EXACT_MAX_N pairs
 * (t and p as for the other methods except that p is the exact one), else
 * GM_STATS_P_STUDENT_T_APPROX. Allocates scratch (GM_ERR_NO_MEMORY).
 * GM_ERR_INVALID_ARG when n < 3 or when x or y is constant (all ranks tied). */
GM_API enum gm_status gm_stats_spearman(const double *x, const double *y,
                                        size_t n, struct gm_stats_corr *out);

/* The two regression models. */
enum gm_stats_model {
  GM_STATS_LINEAR, /* y = a + b x, ordinary least squares */
  /* y = b x, least squares through the origin: for quantities that are
   * proportional (energy to time, energy to samples), so that a short
   * profile is extrapolated proportionally. */
  GM_STATS_ORIGIN,
};

struct gm_stats_fit {
  enum gm_stats_model model;
  double a;      /* intercept; exactly 0 for GM_STATS_ORIGIN */
  double b;      /* slope */
  double se_a;   /* standard error of a; 0 for GM_STATS_ORIGIN */
  double se_b;   /* standard error of b */
  double var_a;  /* covariance matrix of (a, b): se_a^2 ... */
  double cov_ab; /* ... cov(a, b) (0 for GM_STATS_ORIGIN) ... */
  double var_b;  /* ... and se_b^2 */
  /* Coefficient of determination. LINEAR: 1 - SSE / sum (y - ybar)^2.
   * ORIGIN: the uncentred 1 - SSE / sum y^2, as R's summary.lm reports for a
   * model without intercept; the two are not comparable. 1 when the
   * denominator is 0 (the fit is then exact). */
  double r2;
  double sse; /* sum of squared residuals */
  double s;   /* residual standard deviation sqrt(SSE / dof) */
  size_t n;   /* number of points */
  size_t dof; /* residual degrees of freedom: n - 2 (LINEAR), n - 1 (ORIGIN) */
};

/* Least-squares fit of y[0..n) on x[0..n) with the given model.
 * GM_ERR_INVALID_ARG for an unknown model, and: LINEAR needs n >= 3 and x not
 * constant; ORIGIN needs n >= 2 and some x != 0 (a constant x is fine). */
GM_API enum gm_status gm_stats_fit(enum gm_stats_model model, const double *x,
                                   const double *y, size_t n,
                                   struct gm_stats_fit *out);

struct gm_stats_pred {
  double x0;      /* where the prediction is made */
  double y;       /* fitted value a + b x0 */
  double se_mean; /* standard error of the fitted mean at x0 */
  /* Standard error of a new observation at x0: sqrt(s^2 + se_mean^2), that
   * is s sqrt(1 + 1/n + (x0 - xbar)^2 / Sxx) for LINEAR and
   * s sqrt(1 + x0^2 / sum x^2) for ORIGIN. */
  double se_pred;
  double t;     /* t quantile 1 - alpha/2 with fit->dof degrees of freedom */
  double lo;    /* y - t se_pred: the (1 - alpha) prediction interval */
  double hi;    /* y + t se_pred */
  double alpha; /* as passed */
};

/* Prediction at x0 from a fit made by gm_stats_fit, with its (1 - alpha)
 * prediction interval for one new observation (not the narrower confidence
 * interval of the mean). GM_ERR_INVALID_ARG when x0 is not finite, alpha is
 * outside (0, 1) or so small that the quantile cannot be computed, or the
 * fit is malformed (dof 0, unknown model). */
GM_API enum gm_status gm_stats_predict(const struct gm_stats_fit *fit,
                                       double x0, double alpha,
                                       struct gm_stats_pred *out);

/* One left-out point of gm_stats_loo. */
struct gm_stats_loo_point {
  double x;       /* the point left out */
  double y;       /* its observed value */
  double pred;    /* predicted by the fit on the other n - 1 points */
  double lo, hi;  /* that fit's (1 - alpha) prediction interval at x */
  double rel_err; /* (pred - y) / y: signed, 0.1 = 10 % too high */
  bool inside;    /* lo <= y <= hi */
};

struct gm_stats_loo {
  size_t n;           /* number of points, each left out once */
  double mape_pct;    /* mean |rel_err| x 100: percent */
  double max_abs_rel; /* largest |rel_err| */
  size_t worst;       /* index of the point with the largest |rel_err| */
  double coverage;    /* share of points inside their interval, in [0, 1] */
  double alpha;       /* as passed */
  enum gm_stats_model model;
};

/* Leave-one-out cross-validation of the model: for each i, fits the other
 * n - 1 points, predicts at x[i] with a (1 - alpha) prediction interval and
 * compares with y[i]. points, when not NULL, receives n entries in input
 * order (caller-owned, at least n long); NULL computes the summary only.
 * Allocates 2(n - 1) doubles of scratch (GM_ERR_NO_MEMORY).
 * GM_ERR_INVALID_ARG when alpha is outside (0, 1), when some y is 0
 * (relative errors undefined), when n is too small for every subset to keep
 * a residual degree of freedom (LINEAR needs n >= 4, ORIGIN n >= 3), or when
 * some subset cannot be fitted (LINEAR: leaving a point out makes the other
 * x constant; ORIGIN: the other x are all 0). */
GM_API enum gm_status gm_stats_loo(enum gm_stats_model model, const double *x,
                                   const double *y, size_t n, double alpha,
                                   struct gm_stats_loo_point *points,
                                   struct gm_stats_loo *out);

struct gm_stats_mean {
  double mean;
  double sd; /* sample standard deviation (n - 1 denominator) */
  double se; /* sd / sqrt(n) */
  double t;  /* t quantile 1 - alpha/2 with n - 1 degrees of freedom */
  double lo; /* mean - t se: the (1 - alpha) confidence interval */
  double hi; /* mean + t se */
  size_t n;
  double alpha; /* as passed */
};

/* Mean of x[0..n) with a Student-t confidence interval (assumes independent,
 * roughly normal values, or n large enough). A constant sample gives sd 0
 * and lo = hi = mean. GM_ERR_INVALID_ARG when n < 2 or alpha is outside
 * (0, 1). */
GM_API enum gm_status gm_stats_mean_ci(const double *x, size_t n, double alpha,
                                       struct gm_stats_mean *out);

/* Sample standard deviation of x[0..n) (n - 1 denominator) into *out.
 * GM_ERR_INVALID_ARG when n < 2. */
GM_API enum gm_status gm_stats_sd(const double *x, size_t n, double *out);

#endif
