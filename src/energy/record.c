/* record.c: a stopped meter as plain data, with the idle baseline applied
 * by the rules of account.c (run.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "greenml/run.h"

void gm_run_record_free(struct gm_run_record *r) {
  if (!r)
    return;
  for (size_t p = 0; p < r->n_phases; p++) {
    free(r->phases[p].energy_j);
    free(r->phases[p].net_energy_j);
    free(r->phases[p].attributed_j);
    free(r->phases[p].attributed_net_j);
  }
  free(r->phases);
  free(r->missing);
  free(r->components);
  free(r->metrics);
  free(r);
}

/* The account of per-component energies e over a window of dur seconds;
 * parts is scratch for n_components entries. */
static void account(const struct gm_run_record *r, const double *e, double dur,
                    struct gm_energy_part *parts, struct gm_energy_total *out) {
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    parts[i] = (struct gm_energy_part){.provenance = c->info.provenance,
                                       .in_total = c->info.in_total,
                                       .gross_j = e[i],
                                       .idle_w = c->idle_w,
                                       .idle_sd_w = c->idle_sd_w,
                                       .idle_n = (double)c->idle_n,
                                       .idle_duration_s = r->idle_duration_s};
  }
  gm_energy_account(parts, r->n_components, dur, out);
}

static void append(char *buf, size_t size, const char *text) {
  size_t len = strlen(buf);
  if (len + 3 < size)
    snprintf(buf + len, size - len, "%s%s", len ? "; " : "", text);
}

/* Whether a window ending at end_s lacks an in-total component: one is
 * missing, or was lost before end_s. Fills why when given. */
static bool lacks(const struct gm_run_record *r, double end_s, char *why,
                  size_t why_size) {
  bool partial = false;
  for (size_t i = 0; i < r->n_missing; i++) {
    if (!r->missing[i].in_total)
      continue;
    partial = true;
    char t[96];
    snprintf(t, sizeof(t), "%s missing", r->missing[i].name);
    if (why)
      append(why, why_size, t);
  }
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    if (!c->info.in_total || !c->stats.lost || !(c->stats.lost_at_s < end_s))
      continue;
    partial = true;
    char t[96];
    snprintf(t, sizeof(t), "%s lost at %.3f s", c->info.name,
             c->stats.lost_at_s);
    if (why)
      append(why, why_size, t);
  }
  return partial;
}

static enum gm_status add_phases(struct gm_run_record *r,
                                 const struct gm_meter *m,
                                 struct gm_energy_part *parts) {
  size_t np = gm_meter_phase_count(m), nc = r->n_components;
  if (np == 0)
    return GM_OK;
  r->phases = calloc(np, sizeof(*r->phases));
  if (!r->phases)
    return GM_ERR_NO_MEMORY;
  r->n_phases = np;
  for (size_t p = 0; p < np; p++) {
    const struct gm_phase *ph = gm_meter_phase(m, p);
    struct gm_run_phase *rp = &r->phases[p];
    memcpy(rp->name, ph->name, sizeof(rp->name));
    rp->start_s = ph->start_s;
    rp->duration_s = ph->duration_s;
    rp->ended_by_stop = ph->open;
    rp->energy_j = calloc(nc ? nc : 1, sizeof(double));
    rp->net_energy_j = calloc(nc ? nc : 1, sizeof(double));
    if (!rp->energy_j || !rp->net_energy_j)
      return GM_ERR_NO_MEMORY;
    for (size_t c = 0; c < nc; c++) {
      rp->energy_j[c] = ph->energy_j[c];
      rp->net_energy_j[c] = gm_energy_net(
          ph->energy_j[c], r->components[c].idle_w, ph->duration_s);
    }
    account(r, rp->energy_j, rp->duration_s, parts, &rp->total);
    rp->total.partial = lacks(r, rp->start_s + rp->duration_s, NULL, 0);
    if (ph->attributed_j) {
      rp->attributed_j = calloc(nc ? nc : 1, sizeof(double));
      rp->attributed_net_j = calloc(nc ? nc : 1, sizeof(double));
      if (!rp->attributed_j || !rp->attributed_net_j)
        return GM_ERR_NO_MEMORY;
      for (size_t c = 0; c < nc; c++) {
        const struct gm_run_component *rc = &r->components[c];
        rp->attributed_j[c] = ph->attributed_j[c];
        rp->attributed_net_j[c] =
            isnan(rc->idle_w)
                ? NAN
                : ph->attributed_j[c] - rc->idle_w * ph->attributed_share_s[c];
        if (rc->info.in_total) {
          rp->attributed_total_j += rp->attributed_j[c];
          rp->attributed_total_net_j += rp->attributed_net_j[c];
        }
      }
    }
  }
  return GM_OK;
}

/* The attributed part of each component and their total. */
static void attribute(struct gm_run_record *r, struct gm_meter *m) {
  struct gm_run_attribution *t = &r->attribution;
  r->attributed = true;
  gm__strlcpy(t->subject, gm_meter_attribution_subject(m), sizeof(t->subject));
  bool by_cpu = false, by_gpu = false, all_net = true;
  for (size_t i = 0; i < r->n_components; i++) {
    struct gm_run_component *c = &r->components[i];
    gm_meter_attribution(m, i, &c->attr);
    c->attr_net_j =
        isnan(c->idle_w) ? NAN : c->attr.energy_j - c->idle_w * c->attr.share_s;
    if (!c->info.in_total)
      continue;
    t->energy_j += c->attr.energy_j;
    t->net_j += c->attr_net_j;
    all_net = all_net && !isnan(c->attr_net_j);
    t->unknown_j += c->attr.unknown_j;
    if (c->attr.method == GM_ATTRIB_GPU_PROCESSES)
      by_gpu = true;
    else
      by_cpu = true;
  }
  if (!all_net)
    t->net_j = NAN;
  t->share_pct =
      r->total.gross_j > 0 ? 100.0 * t->energy_j / r->total.gross_j : NAN;
  if (by_cpu && by_gpu)
    gm__fmt(t->provenance, sizeof(t->provenance), "%s and GPU processes",
            gm_attrib_method_name(GM_ATTRIB_CPU_TIME));
  else
    gm__strlcpy(t->provenance,
                gm_attrib_method_name(by_gpu ? GM_ATTRIB_GPU_PROCESSES
                                             : GM_ATTRIB_CPU_TIME),
                sizeof(t->provenance));
  t->partial = t->unknown_j > 0 || r->total.partial;
}

enum gm_status gm_run_record_from_meter(struct gm_meter *m,
                                        const struct gm_idle_baseline *idle,
                                        struct gm_run_record **out) {
  *out = NULL;
  size_t nc = gm_meter_component_count(m), nm = gm_meter_metric_count(m);
  struct gm_component_stats probe;
  if (nc > 0 && gm_meter_stats(m, 0, &probe) != GM_OK)
    return GM_ERR_STATE;
  struct gm_run_record *r = calloc(1, sizeof(*r));
  if (!r)
    return GM_ERR_NO_MEMORY;
  r->duration_s = gm_meter_duration_s(m);
  r->idle_baseline_id = idle ? idle->id : 0;
  r->idle_duration_s = idle ? idle->duration_s : NAN;
  r->components = calloc(nc ? nc : 1, sizeof(*r->components));
  r->metrics = calloc(nm ? nm : 1, sizeof(*r->metrics));
  double *gross = calloc(nc ? nc : 1, sizeof(double));
  struct gm_energy_part *parts = calloc(nc ? nc : 1, sizeof(*parts));
  enum gm_status rc = GM_ERR_NO_MEMORY;
  if (!r->components || !r->metrics || !gross || !parts)
    goto fail;
  r->n_components = nc;
  r->n_metrics = nm;
  for (size_t i = 0; i < nc; i++) {
    struct gm_run_component *c = &r->components[i];
    c->info = *gm_meter_component(m, i);
    gm_meter_stats(m, i, &c->stats);
    const struct gm_idle_entry *e = NULL;
    c->idle_w = c->idle_sd_w = NAN;
    c->idle_match = gm_energy_idle_match(idle, &c->info, &e, c->net_reason,
                                         sizeof(c->net_reason));
    if (c->idle_match == GM_IDLE_MATCH) {
      c->idle_w = e->mean_power_w;
      c->idle_sd_w = e->sd_power_w;
      c->idle_n = e->n_intervals;
    } else if (!idle) {
      c->net_reason[0] = '\0'; /* no baseline at all: nothing to explain */
    }
    c->net_energy_j =
        gm_energy_net(c->stats.energy_j, c->idle_w, r->duration_s);
    c->net_noise_j =
        isnan(c->idle_w)
            ? NAN
            : gm_energy_net_noise_j(c->idle_sd_w, (double)c->idle_n,
                                    r->idle_duration_s, r->duration_s);
    c->net_check =
        gm_energy_net_check(c->stats.energy_j, c->net_energy_j, c->net_noise_j);
    gross[i] = c->stats.energy_j;
  }
  for (size_t k = 0; k < nm; k++) {
    r->metrics[k].info = *gm_meter_metric(m, k);
    r->metrics[k].mean = gm_meter_metric_mean(m, k);
    r->metrics[k].max = gm_meter_metric_max(m, k);
  }
  r->n_missing = gm_meter_missing_count(m);
  r->missing = calloc(r->n_missing ? r->n_missing : 1, sizeof(*r->missing));
  if (!r->missing) {
    rc = GM_ERR_NO_MEMORY;
    goto fail;
  }
  for (size_t i = 0; i < r->n_missing; i++)
    r->missing[i] = *gm_meter_missing(m, i);
  r->n_idle_unmatched =
      gm_energy_idle_unmatched(idle, gm_meter_components(m), nc,
                               r->idle_unmatched, sizeof(r->idle_unmatched));
  account(r, gross, r->duration_s, parts, &r->total);
  r->total.partial = lacks(r, INFINITY, r->partial_why, sizeof(r->partial_why));
  if (gm_meter_attributing(m))
    attribute(r, m);
  r->meter_cpu_s = gm_meter_self_cpu_s(m);
  r->dropped_samples = gm_meter_dropped_samples(m);
  r->missed_ticks = gm_meter_missed_ticks(m);
  rc = add_phases(r, m, parts);
  if (rc != GM_OK)
    goto fail;
  free(gross);
  free(parts);
  *out = r;
  return GM_OK;
fail:
  free(gross);
  free(parts);
  gm_run_record_free(r);
  return rc;
}
