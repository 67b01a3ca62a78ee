/* predict.c: the short-profile predictor (study.h): the first step plus
 * the windows' mean rate times the remaining samples, with the Student-t
 * interval of that rate (stats.h). Pure: no meter, no store. */
#include <math.h>
#include <string.h>

#include "greenml/stats.h"
#include "greenml/study.h"

static bool finite_nonneg(double v) { return isfinite(v) && v >= 0; }

enum gm_status gm_study_predict(const struct gm_study_profile *p,
                                long target_samples, double level,
                                struct gm_study_estimate *out) {
  if (!p || !out)
    return GM_ERR_INVALID_ARG;
  *out = (struct gm_study_estimate){NAN, NAN, NAN, NAN, NAN, NAN};
  if (p->n_windows == 0 || !p->window_samples || !p->window_s_per_sample ||
      !p->window_j_per_sample || p->first_samples < 0 ||
      target_samples <= p->first_samples || !(level > 0 && level < 1) ||
      !finite_nonneg(p->first_s) || !finite_nonneg(p->first_power_w))
    return GM_ERR_INVALID_ARG;
  double sum_n = 0, sum_t = 0, sum_e = 0;
  for (size_t i = 0; i < p->n_windows; i++) {
    double n = p->window_samples[i], t = p->window_s_per_sample[i],
           e = p->window_j_per_sample[i];
    if (!finite_nonneg(n) || !finite_nonneg(t) || !finite_nonneg(e))
      return GM_ERR_INVALID_ARG;
    sum_n += n;
    sum_t += t * n;
    sum_e += e * n;
  }
  if (!(sum_n > 0))
    return GM_ERR_INVALID_ARG;
  double rest = (double)(target_samples - p->first_samples);
  double e_first = p->first_power_w * p->first_s;
  out->duration_s = p->first_s + rest * (sum_t / sum_n);
  out->energy_j = e_first + rest * (sum_e / sum_n);
  if (p->n_windows < 2)
    return GM_OK;
  struct gm_stats_mean mt, me;
  double alpha = 1 - level;
  if (gm_stats_mean_ci(p->window_s_per_sample, p->n_windows, alpha, &mt) !=
          GM_OK ||
      gm_stats_mean_ci(p->window_j_per_sample, p->n_windows, alpha, &me) !=
          GM_OK)
    return GM_ERR_INVALID_ARG;
  double ht = (mt.hi - mt.lo) / 2, he = (me.hi - me.lo) / 2;
  /* neither time nor energy can fall below what the first step took */
  out->duration_lo_s = fmax(p->first_s, out->duration_s - rest * ht);
  out->duration_hi_s = out->duration_s + rest * ht;
  out->energy_lo_j = fmax(e_first, out->energy_j - rest * he);
  out->energy_hi_j = out->energy_j + rest * he;
  return GM_OK;
}
