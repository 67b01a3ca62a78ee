/* account.c: gross, net and totals with their provenance (energy.h). */
#include <math.h>
#include <stdio.h>
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
  double noise2 = 0;
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
    double noise = gm_energy_net_noise_j(p->idle_sd_w, p->idle_n,
                                         p->idle_duration_s, duration_s);
    noise2 += noise * noise; /* NAN sticks */
    if (p->provenance == GM_PROV_MODELLED)
      modelled = true;
    else
      measured = true;
  }
  if (out->n_without_baseline > 0 || out->n_in_total == 0) {
    out->idle_w = NAN;
    out->net_j = NAN;
    out->net_noise_j = NAN;
  } else {
    out->net_j = gm_energy_net(out->gross_j, out->idle_w, duration_s);
    out->net_noise_j = sqrt(noise2);
  }
  out->net_check =
      gm_energy_net_check(out->gross_j, out->net_j, out->net_noise_j);
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

double gm_energy_net_noise_j(double idle_sd_w, double idle_n,
                             double idle_duration_s, double duration_s) {
  if (!(idle_n >= 1) || !(idle_duration_s > 0) || !isfinite(idle_sd_w) ||
      !isfinite(duration_s) || duration_s < 0)
    return NAN;
  double dt = idle_duration_s / idle_n, t = duration_s;
  return 2 * fabs(idle_sd_w) * sqrt(t * t / idle_n + t * dt);
}

enum gm_net_check gm_energy_net_check(double gross_j, double net_j,
                                      double noise_j) {
  if (isnan(net_j))
    return GM_NET_UNKNOWN;
  /* below a microjoule (the finest unit a source reports: powercap's
   * energy_uj) or a millionth of the gross, a difference is rounding */
  double bound = (isfinite(noise_j) ? noise_j : 0) +
                 (isfinite(gross_j) ? 1e-6 * fabs(gross_j) : 0) + 1e-6;
  if (net_j < -bound)
    return GM_NET_NEGATIVE;
  return net_j > bound ? GM_NET_ABOVE_NOISE : GM_NET_WITHIN_NOISE;
}

const char *gm_net_check_name(enum gm_net_check c) {
  switch (c) {
  case GM_NET_ABOVE_NOISE:
    return "above noise";
  case GM_NET_WITHIN_NOISE:
    return "within noise";
  case GM_NET_NEGATIVE:
    return "negative";
  default:
    return "unknown";
  }
}

/* The explicit flag behind a model's constants, when the baseline was
 * measured with one: " with --cpu-tdp 65". Chosen by what the component is
 * (a modelled CPU or DRAM), never by its name. */
static void flag_of(const struct gm_idle_baseline *b,
                    const struct gm_component_info *c, char *buf, size_t size) {
  buf[0] = '\0';
  if (c->provenance != GM_PROV_MODELLED)
    return;
  if (c->kind == GM_KIND_CPU && b->cpu_tdp_w > 0)
    snprintf(buf, size, " --cpu-tdp %g", b->cpu_tdp_w);
  else if (c->kind == GM_KIND_DRAM && b->dimm_capacitance_f > 0)
    snprintf(buf, size, " --dimm-capacitance %g", b->dimm_capacitance_f);
}

enum gm_idle_match gm_energy_idle_match(const struct gm_idle_baseline *b,
                                        const struct gm_component_info *c,
                                        const struct gm_idle_entry **entry,
                                        char *why, size_t why_size) {
  char none[1];
  if (!why || why_size == 0) {
    why = none;
    why_size = sizeof(none);
  }
  why[0] = '\0';
  if (entry)
    *entry = NULL;
  if (!b || !c) {
    snprintf(why, why_size, "no idle baseline");
    return GM_IDLE_NO_BASELINE;
  }
  const struct gm_idle_entry *e = NULL, *other = NULL;
  for (size_t k = 0; k < b->n && !e; k++) {
    if (strcmp(b->entries[k].name, c->name) != 0)
      continue;
    if (strcmp(b->entries[k].source, c->source) == 0)
      e = &b->entries[k];
    else
      other = &b->entries[k];
  }
  char id[40] = "the baseline";
  if (b->id > 0)
    snprintf(id, sizeof(id), "the baseline #%lld", (long long)b->id);
  if (!e && other) {
    snprintf(why, why_size, "%s measured %s with %s, this run uses %s", id,
             c->name, other->source, c->source);
    return GM_IDLE_NO_ENTRY;
  }
  if (!e) {
    snprintf(why, why_size, "%s has no entry for %s (%s)", id, c->name,
             c->source);
    return GM_IDLE_NO_ENTRY;
  }
  if (!e->detail[0]) {
    snprintf(why, why_size,
             "%s was stored without the configuration it was "
             "measured with, so it cannot be checked against this run",
             id);
    return GM_IDLE_UNRECORDED;
  }
  if (strcmp(e->detail, c->detail) != 0) {
    char flag[64];
    flag_of(b, c, flag, sizeof(flag));
    if (flag[0])
      snprintf(why, why_size,
               "%s was measured with%s ('%s'), this run uses "
               "'%s'",
               id, flag, e->detail, c->detail);
    else
      snprintf(why, why_size, "%s was measured with '%s', this run uses '%s'",
               id, e->detail, c->detail);
    return GM_IDLE_OTHER_CONFIG;
  }
  if (entry)
    *entry = e;
  return GM_IDLE_MATCH;
}

size_t gm_energy_idle_unmatched(const struct gm_idle_baseline *b,
                                const struct gm_component_info *comps, size_t n,
                                char *why, size_t why_size) {
  if (why && why_size)
    why[0] = '\0';
  if (!b)
    return 0;
  size_t count = 0;
  for (size_t k = 0; k < b->n; k++) {
    const struct gm_idle_entry *e = &b->entries[k];
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
      found = strcmp(comps[i].name, e->name) == 0 &&
              strcmp(comps[i].source, e->source) == 0;
    if (found)
      continue;
    count++;
    if (why && why_size) {
      size_t len = strlen(why);
      if (len + 4 < why_size)
        snprintf(why + len, why_size - len, "%s%s (%s)", len ? ", " : "",
                 e->name, e->source);
    }
  }
  return count;
}
