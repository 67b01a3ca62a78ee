/* phase.c: a finished phase's row: the meter's snapshot of the phase,
 * accounted by energy.h (gross and net per component, totals over the
 * in-total components, provenance), metric means, then the store and the
 * observer. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/util.h"
#include "greenml/json.h"
#include "study/study_internal.h"

void gm__study_phase_begin(struct gm__study *s, struct gm__study_cell *c,
                           const char *name, int64_t t_ns) {
  (void)s;
  if (!c->m)
    return;
  gm_meter_phase_begin(c->m, name, t_ns);
  c->n_meter_phases++;
  double el;
  gm_meter_live(c->m, c->live_e, NULL, &el);
  c->ph_e0 = gm__study_in_total(c, c->live_e, NULL);
}

bool gm__study_has_phase(struct gm__study *s, const struct gm__study_cell *c,
                         const char *kind, int epoch) {
  bool have = false;
  pthread_mutex_lock(&s->st_mu);
  gm_store_bench_has_phase(s->st, s->bench_id, c->model, c->batch, c->precision,
                           kind, epoch, c->metered, &have);
  pthread_mutex_unlock(&s->st_mu);
  return have;
}

/* Waits for the sampler to apply the phase's end (its next tick). */
static enum gm_status snapshot(struct gm__study *s, struct gm__study_cell *c,
                               struct gm_phase_snapshot *ps) {
  int64_t deadline =
      gm__now_ns() + 2 * s->cfg->meter.interval_ns + 5 * GM_NS_PER_S;
  enum gm_status rc;
  while ((rc = gm_meter_phase_snapshot(c->m, c->n_meter_phases - 1, ps)) !=
             GM_OK &&
         gm__now_ns() < deadline) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  if (rc != GM_OK)
    return gm__study_fail(s, GM_ERR_STATE,
                          "the meter did not close phase %zu: %s",
                          c->n_meter_phases, gm_status_str(rc));
  return GM_OK;
}

/* The metered part of a row: energies, powers, metrics. comps has c->nc
 * entries; the arrays of ps are filled. */
static void account(struct gm__study_cell *c,
                    const struct gm_phase_snapshot *ps,
                    struct gm_bench_component *comps,
                    struct gm_bench_phase *row) {
  double dur = ps->duration_s;
  struct gm_energy_total total;
  for (size_t i = 0; i < c->nc; i++) {
    const struct gm_component_info *ci = gm_meter_component(c->m, i);
    struct gm_bench_component *bc = &comps[i];
    c->parts[i].gross_j = ps->energy_j[i];
    bc->name = ci->name;
    bc->kind = gm_kind_name(ci->kind);
    bc->provenance = gm_provenance_name(ci->provenance);
    bc->in_total = ci->in_total;
    bc->energy_j = ps->energy_j[i];
    bc->net_energy_j = gm_energy_net(ps->energy_j[i], c->parts[i].idle_w, dur);
    bc->avg_power_w = dur > 0 ? ps->energy_j[i] / dur : NAN;
    bc->peak_power_w =
        isnan(ps->peak_power_w[i]) ? bc->avg_power_w : ps->peak_power_w[i];
  }
  gm_energy_account(c->parts, c->nc, dur, &total);
  row->energy_j = total.gross_j;
  row->net_energy_j = total.net_j;
  row->avg_power_w = dur > 0 ? total.gross_j / dur : NAN;
  row->provenance = total.provenance;
  /* the sum of the in-total peaks: an upper bound of the total's peak */
  double *peaks = ps->peak_power_w;
  for (size_t i = 0; i < c->nc; i++)
    peaks[i] = isnan(comps[i].peak_power_w) ? 0 : comps[i].peak_power_w;
  row->peak_power_w = gm__study_in_total(c, peaks, NULL);
  const double *mm = ps->metric_mean;
  if (c->i_cpu != SIZE_MAX)
    row->cpu_util_pct = mm[c->i_cpu];
  if (c->i_mem != SIZE_MAX)
    row->dram_used_bytes = mm[c->i_mem];
  if (c->n_gpu_util) {
    double sum = 0;
    for (size_t k = 0; k < c->n_gpu_util; k++)
      sum += mm[c->gpu_util[k]];
    row->gpu_util_pct = sum / (double)c->n_gpu_util;
  }
  if (c->n_gpu_vram) {
    double sum = 0;
    for (size_t k = 0; k < c->n_gpu_vram; k++)
      sum += mm[c->gpu_vram[k]];
    row->vram_used_bytes = sum;
  }
  row->n_components = c->nc;
  row->components = comps;
}

enum gm_status gm__study_phase_record(struct gm__study *s,
                                      struct gm__study_cell *c,
                                      const char *kind, int epoch,
                                      const struct gm__study_pass *p,
                                      double *energy_j) {
  struct gm_bench_phase row = {.model = c->model,
                               .batch_size = c->batch,
                               .precision = c->precision,
                               .kind = kind,
                               .epoch = epoch,
                               .metered = c->m != NULL,
                               .start_s = NAN,
                               .duration_s =
                                   (double)(p->t1_ns - p->t0_ns) / 1e9,
                               .steps = p->steps,
                               .samples = p->samples,
                               .loss = p->loss,
                               .accuracy = p->accuracy,
                               .lr = p->lr,
                               .energy_j = NAN,
                               .net_energy_j = NAN,
                               .avg_power_w = NAN,
                               .peak_power_w = NAN,
                               .cpu_util_pct = NAN,
                               .dram_used_bytes = NAN,
                               .gpu_util_pct = NAN,
                               .vram_used_bytes = NAN};
  struct gm_bench_component *comps = NULL;
  double *e = NULL, *peak = NULL, *mmean = NULL, *mmax = NULL;
  enum gm_status rc = GM_OK;
  if (c->m) {
    gm_meter_phase_end(c->m, p->t1_ns);
    size_t nc = c->nc ? c->nc : 1, nm = c->nm ? c->nm : 1;
    e = calloc(nc, sizeof(double));
    peak = calloc(nc, sizeof(double));
    mmean = calloc(nm, sizeof(double));
    mmax = calloc(nm, sizeof(double));
    comps = calloc(nc, sizeof(*comps));
    if (!e || !peak || !mmean || !mmax || !comps) {
      rc = gm__study_fail(s, GM_ERR_NO_MEMORY, "out of memory for a phase");
      goto out;
    }
    struct gm_phase_snapshot ps = {.energy_j = e,
                                   .peak_power_w = peak,
                                   .metric_mean = mmean,
                                   .metric_max = mmax};
    if ((rc = snapshot(s, c, &ps)) != GM_OK)
      goto out;
    row.run_id = c->run_id;
    row.phase_idx = (int)(c->n_meter_phases - 1);
    row.start_s = ps.start_s;
    row.duration_s = ps.duration_s;
    account(c, &ps, comps, &row);
  }
  /* what computed the cell (gm_train_kernels) and where it ran (a
   * scheduler's job ids), metered or not */
  char tags[2048], kernels[1024];
  const char *extra = s->cfg->run_tags;
  const bool more = extra && *extra;
  gm_json_escape_into(kernels, sizeof(kernels), gm_train_kernels(c->tr));
  if (snprintf(tags, sizeof(tags), "{\"kernels\":%s%s%s}", kernels,
               more ? "," : "", more ? extra : "") < (int)sizeof(tags))
    row.tags_json = tags;
  pthread_mutex_lock(&s->st_mu);
  rc = gm_store_bench_add_phase(s->st, s->bench_id, &row);
  if (rc != GM_OK)
    gm__study_fail(s, rc, "cannot record the phase: %s",
                   gm_store_last_error(s->st));
  pthread_mutex_unlock(&s->st_mu);
  if (rc != GM_OK)
    goto out;
  if (energy_j)
    *energy_j = row.energy_j;
  if (s->obs && s->obs->phase)
    s->obs->phase(s->obs->ctx, &row);
out:
  free(e);
  free(peak);
  free(mmean);
  free(mmax);
  free(comps);
  return rc;
}
