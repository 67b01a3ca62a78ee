/* account.c: gross, net and totals with their provenance (energy.h). */
#include <math.h>
#include <string.h>

#include "greenml/energy.h"

double gm_energy_net(double gross_j, double idle_w, double duration_s) {
  if (isnan(gross_j) || isnan(idle_w) || isnan(duration_s))
    return NAN;
  return gross_j - idle_w * duration_s;
}

void gm_energy_account(const struct gm_energy_part *parts, size_t n,
                       double duration_s, struct gm_energy_total *out) {
  memset(out, 0, sizeof(*out));
  out->first_without = n;
  bool measured = false, modelled = false;
  for (size_t i = 0; i < n; i++) {
    const struct gm_energy_part *p = &parts[i];
    if (!p->in_total)
      continue;
    out->n_in_total++;
    out->gross_j += p->gross_j;
    if (isnan(p->idle_w)) {
      if (out->n_without_baseline++ == 0)
        out->first_without = i;
    } else {
      out->idle_w += p->idle_w;
    }
    if (p->provenance == GM_PROV_MODELLED)
      modelled = true;
    else
      measured = true;
  }
  if (out->n_without_baseline > 0 || out->n_in_total == 0) {
    out->idle_w = NAN;
    out->net_j = NAN;
  } else {
    out->net_j = gm_energy_net(out->gross_j, out->idle_w, duration_s);
  }
  out->provenance = measured && modelled ? "mixed"
                    : modelled           ? "modelled"
                    : measured           ? "measured"
                                         : "none";
}

const char *gm_energy_total_provenance(const enum gm_provenance *prov,
                                       const bool *in_total, size_t n) {
  const char *label = "none";
  for (size_t i = 0; i < n; i++)
    if (!in_total || in_total[i])
      label = gm_energy_provenance_join(
          label, prov[i] == GM_PROV_MODELLED ? "modelled" : "measured");
  return label;
}

const char *gm_energy_provenance_join(const char *a, const char *b) {
  if (!a || strcmp(a, "none") == 0)
    return b ? b : "none";
  if (!b || strcmp(b, "none") == 0)
    return a;
  if (strcmp(a, b) == 0 && strcmp(a, "modelled") == 0)
    return "modelled";
  if (strcmp(a, b) == 0 && strcmp(a, "measured") == 0)
    return "measured";
  return "mixed";
}

double gm_energy_idle_of(const struct gm_idle_baseline *b, const char *name,
                         const char *source) {
  for (size_t k = 0; b && k < b->n; k++)
    if (strcmp(b->entries[k].name, name) == 0 &&
        strcmp(b->entries[k].source, source) == 0)
      return b->entries[k].mean_power_w;
  return NAN;
}
