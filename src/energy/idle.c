/* idle.c: idle baselines as data (idle.h, run.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/run.h"

void gm_idle_baseline_free(struct gm_idle_baseline *b) {
  if (!b)
    return;
  free(b->entries);
  free(b);
}

enum gm_status gm_idle_baseline_from_record(const struct gm_run_record *r,
                                            struct gm_idle_baseline **out) {
  *out = NULL;
  struct gm_idle_baseline *b = calloc(1, sizeof(*b));
  if (!b)
    return GM_ERR_NO_MEMORY;
  b->entries =
      calloc(r->n_components ? r->n_components : 1, sizeof(*b->entries));
  if (!b->entries) {
    free(b);
    return GM_ERR_NO_MEMORY;
  }
  b->duration_s = r->duration_s;
  b->n = r->n_components;
  b->interval_s = b->cpu_tdp_w = b->dimm_capacitance_f = NAN;
  b->cpu_util_pct = NAN;
  for (size_t k = 0; k < r->n_metrics; k++)
    if (strcmp(r->metrics[k].info.name, "cpu.util") == 0)
      b->cpu_util_pct = r->metrics[k].mean;
  b->busy = b->cpu_util_pct >= GM_IDLE_BUSY_PCT;
  for (size_t i = 0; i < r->n_components; i++) {
    const struct gm_run_component *c = &r->components[i];
    struct gm_idle_entry *e = &b->entries[i];
    snprintf(e->name, sizeof(e->name), "%s", c->info.name);
    snprintf(e->source, sizeof(e->source), "%s", c->info.source);
    snprintf(e->detail, sizeof(e->detail), "%s", c->info.detail);
    e->mean_power_w = c->stats.avg_power_w;
    e->sd_power_w = c->stats.power_sd_w;
  }
  *out = b;
  return GM_OK;
}
