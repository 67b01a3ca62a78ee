/* project.c: a whole run projected from its first phases, with a
 * prediction interval and, when more phases were measured, the
 * projection's measured error (analysis.h: gm_analysis_project_phases).
 * The t quantile comes from the upper tail (gsl_cdf_tdist_Qinv), which
 * returns NaN rather than raising (see src/stats/stats.c). */
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "greenml/analysis.h"

/* The sum of n_target phases from the n_profile first: value and interval. */
static void project(const double *x, size_t n_profile, size_t n_target,
                    double alpha, struct gm_estimate_value *out) {
  double sum = 0;
  for (size_t i = 0; i < n_profile; i++)
    sum += x[i];
  double mean = sum / (double)n_profile;
  double ss = 0;
  for (size_t i = 0; i < n_profile; i++)
    ss += (x[i] - mean) * (x[i] - mean);
  double sd = sqrt(ss / (double)(n_profile - 1));
  double m = (double)(n_target - n_profile);
  out->value = sum + m * mean;
  out->no_interval[0] = '\0';
  double t = gsl_cdf_tdist_Qinv(alpha / 2, (double)(n_profile - 1));
  double half = t * sd * sqrt(m + m * m / (double)n_profile);
  if (!isfinite(half)) {
    out->lo = out->hi = NAN;
    snprintf(out->no_interval, sizeof(out->no_interval),
             "the t quantile for %zu phases is not finite", n_profile);
    return;
  }
  /* an energy or a duration is never negative */
  out->lo = fmax(sum, out->value - half);
  out->hi = out->value + half;
}

enum gm_status gm_analysis_project_phases(const double *energy_j,
                                          const double *duration_s,
                                          size_t n_measured, size_t n_profile,
                                          size_t n_total, double alpha,
                                          struct gm_phase_projection *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  if (!energy_j || !duration_s || n_profile < 2 || n_profile > n_measured ||
      n_total < n_profile || !(alpha > 0 && alpha < 1))
    return GM_ERR_INVALID_ARG;
  for (size_t i = 0; i < n_profile; i++)
    if (!(isfinite(energy_j[i]) && energy_j[i] >= 0 &&
          isfinite(duration_s[i]) && duration_s[i] >= 0))
      return GM_ERR_INVALID_ARG;
  out->n_profile = n_profile;
  out->n_total = n_total;
  out->n_measured = n_measured;
  out->alpha = alpha;
  project(energy_j, n_profile, n_total, alpha, &out->energy_j);
  project(duration_s, n_profile, n_total, alpha, &out->duration_s);
  size_t n_checked = n_measured < n_total ? n_measured : n_total;
  out->actual_energy_j = out->actual_duration_s = NAN;
  out->energy_error_rel = out->duration_error_rel = NAN;
  out->checked_energy_j.value = out->checked_energy_j.lo =
      out->checked_energy_j.hi = NAN;
  out->checked_duration_s = out->checked_energy_j;
  if (n_checked <= n_profile)
    return GM_OK;
  double ae = 0, ad = 0;
  for (size_t i = 0; i < n_checked; i++) {
    ae += energy_j[i];
    ad += duration_s[i];
  }
  if (!isfinite(ae) || !isfinite(ad))
    return GM_OK; /* a later phase without energy: nothing to check */
  out->n_checked = n_checked;
  project(energy_j, n_profile, n_checked, alpha, &out->checked_energy_j);
  project(duration_s, n_profile, n_checked, alpha, &out->checked_duration_s);
  out->actual_energy_j = ae;
  out->actual_duration_s = ad;
  out->energy_error_rel =
      ae > 0 ? (out->checked_energy_j.value - ae) / ae : NAN;
  out->duration_error_rel =
      ad > 0 ? (out->checked_duration_s.value - ad) / ad : NAN;
  out->energy_inside =
      ae >= out->checked_energy_j.lo && ae <= out->checked_energy_j.hi;
  out->duration_inside =
      ad >= out->checked_duration_s.lo && ad <= out->checked_duration_s.hi;
  return GM_OK;
}
