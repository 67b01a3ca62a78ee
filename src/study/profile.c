/* profile.c: collecting a short profile while steps run: the first step
 * apart, then windows of whole steps spanning at least 10 meter intervals,
 * each giving a time and an energy per sample. The arithmetic of the
 * prediction is predict.c's. */
#include <string.h>

#include "study/study_internal.h"

void gm__study_profile_start(struct gm__study_profile *p, long want) {
  memset(p, 0, sizeof(*p));
  p->on = want > 0;
  p->want = want;
}

void gm__study_profile_step(struct gm__study_profile *p, long m, double dt_s,
                            double energy_j, double elapsed_s, int64_t now_ns,
                            int64_t interval_ns) {
  if (!p->on || p->done)
    return;
  p->sum_dt += dt_s;
  if (p->first_n == 0) {
    p->first_n = m;
    p->first_s = dt_s;
    p->seen = m;
    p->w_t0 = now_ns;
    p->w_e0 = energy_j;
    p->w_live0 = elapsed_s;
    return;
  }
  p->seen += m;
  p->w_samples += m;
  double span = (double)(now_ns - p->w_t0) / 1e9;
  double min_span = 10.0 * (double)interval_ns / 1e9;
  if (span >= min_span && elapsed_s - p->w_live0 > 0 &&
      p->n < GM__STUDY_MAX_WINDOWS) {
    double power = (energy_j - p->w_e0) / (elapsed_s - p->w_live0);
    if (p->n == 0)
      p->first_w = power;
    p->t_per[p->n] = span / (double)p->w_samples;
    p->e_per[p->n] = power * span / (double)p->w_samples;
    p->w_n[p->n] = (double)p->w_samples;
    p->n++;
    p->w_t0 = now_ns;
    p->w_e0 = energy_j;
    p->w_live0 = elapsed_s;
    p->w_samples = 0;
  }
  /* at least the asked share, and two windows for power and an interval */
  if (p->seen >= p->want && p->n >= GM__STUDY_MIN_WINDOWS)
    p->done = true;
}

void gm__study_profile_break(struct gm__study_profile *p, double energy_j,
                             double elapsed_s, int64_t now_ns) {
  if (!p->on || p->done || p->first_n == 0)
    return;
  p->w_t0 = now_ns;
  p->w_e0 = energy_j;
  p->w_live0 = elapsed_s;
  p->w_samples = 0;
}

void gm__study_profile_view(const struct gm__study_profile *p,
                            struct gm_study_profile *out) {
  *out = (struct gm_study_profile){.first_samples = p->first_n,
                                   .first_s = p->first_s,
                                   .first_power_w = p->first_w,
                                   .n_windows = p->n,
                                   .window_samples = p->w_n,
                                   .window_s_per_sample = p->t_per,
                                   .window_j_per_sample = p->e_per};
}
