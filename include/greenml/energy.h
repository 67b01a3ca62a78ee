/* energy.h: the energy-accounting rules, written once and used by every
 * front end (measure, bench, runs, report, analyze, estimate, export).
 *
 * Gross energy is what a component drew over a window. Net energy is the
 * gross minus what the idle machine would have drawn over the same window:
 *
 *     net = gross - P_idle x T
 *
 * with P_idle the component's mean power in a matching idle baseline
 * (gm_energy_idle_match: same name, source and detail, i.e. the same device
 * or the same model with the same constants). THE rule for a component
 * without a (matching) baseline:
 * its net is unknown (NAN, written as JSON null and SQL NULL), never its
 * gross in disguise; and a total's net is known only when every in-total
 * component has a baseline. A total sums the components flagged in_total
 * (cores, uncore and psys overlap a package and are never summed). Its
 * provenance is "measured" when every in-total part is measured (counter or
 * sensor), "modelled" when every part is modelled, "mixed" otherwise, and
 * "none" when there is no in-total part.
 *
 * A net energy is only as good as the baseline's noise: the idle mean is
 * known to sd/sqrt(n), and the run's own idle draw fluctuates as the idle
 * window's did. gm_energy_net_noise_j bounds what a run that did nothing but
 * idle could show, and gm_energy_net_check says whether a net stands above
 * that bound, within it (indistinguishable from zero) or below it (negative
 * beyond noise: the baseline does not describe this run). */
#ifndef GREENML_ENERGY_H
#define GREENML_ENERGY_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/api.h"
#include "greenml/idle.h"
#include "greenml/meter.h"

/* Where a net energy stands against the baseline's noise. */
enum gm_net_check {
  GM_NET_UNKNOWN,      /* no net energy */
  GM_NET_ABOVE_NOISE,  /* net > noise: measurably above idle */
  GM_NET_WITHIN_NOISE, /* |net| <= noise: indistinguishable from zero */
  GM_NET_NEGATIVE,     /* net < -noise: below idle beyond the noise */
};

/* One component's part of an account. */
struct gm_energy_part {
  enum gm_provenance provenance;
  bool in_total;
  double gross_j; /* energy over the window */
  double idle_w;  /* its idle power; NAN: no baseline for it */
  /* The baseline's spread behind idle_w, for the noise (0 / NAN: unknown,
   * the total's noise is then unknown too): the standard deviation of its
   * interval power, its number of intervals and its duration. */
  double idle_sd_w;
  double idle_n;
  double idle_duration_s;
};

/* A window's account over its in-total components. */
struct gm_energy_total {
  double gross_j;            /* sum of in-total gross energies */
  double net_j;              /* NAN unless every in-total part has idle_w */
  double idle_w;             /* sum of in-total idle powers; NAN likewise */
  size_t n_in_total;         /* in-total parts */
  size_t n_without_baseline; /* in-total parts whose idle_w is NAN */
  size_t first_without;      /* index of the first of those; n when none */
  const char *provenance;    /* "measured", "modelled", "mixed" or "none" */
  double net_noise_j; /* the parts' noises in quadrature (independent); NAN:
                         unknown (no net, or a part's spread unknown) */
  enum gm_net_check net_check; /* of net_j against net_noise_j */
  bool partial; /* a component that belongs in it is missing (found but not
                   measurable) or was lost during the window: the figures
                   are a lower bound. gm_energy_account sets false; the run
                   record sets it (gm_run_record.partial_why says why) */
};

/* gross - idle_w x duration_s; NAN when idle_w or gross is NAN. */
GM_API double gm_energy_net(double gross_j, double idle_w, double duration_s);

/* The account of n parts over a window of duration_s seconds. */
GM_API void gm_energy_account(const struct gm_energy_part *parts, size_t n,
                              double duration_s, struct gm_energy_total *out);

/* The provenance of a total made of parts with these provenances
 * (in_total[i] false: not part of it). in_total may be NULL: all are. */
GM_API const char *gm_energy_total_provenance(const enum gm_provenance *prov,
                                              const bool *in_total, size_t n);

/* Combines provenance labels already reduced ("measured", "modelled",
 * "mixed", "none"): the label of a total made of both. */
GM_API const char *gm_energy_provenance_join(const char *a, const char *b);

/* Whether an idle baseline applies to a component (gm_energy_idle_match). */
enum gm_idle_match {
  GM_IDLE_MATCH,        /* it applies */
  GM_IDLE_NO_BASELINE,  /* there is no baseline */
  GM_IDLE_NO_ENTRY,     /* no entry with the component's name and source */
  GM_IDLE_UNRECORDED,   /* the entry was stored without its detail */
  GM_IDLE_OTHER_CONFIG, /* the entry's detail differs: another device, or
                           another model or constants */
};

/* The entries of baseline b (NULL: none) that no component of comps[n]
 * has (by name and source): components the baseline was measured with that
 * this run does not meter, so that the run's sources differ from the
 * baseline's. Their names go into why ("gpu0 (nvml), ..."; "" when none).
 * Returns how many. */
GM_API size_t gm_energy_idle_unmatched(const struct gm_idle_baseline *b,
                                       const struct gm_component_info *comps,
                                       size_t n, char *why, size_t why_size);

/* Whether baseline b (NULL: none) applies to component c, and with which
 * entry. It applies (GM_IDLE_MATCH) when b has an entry with c's name and
 * source whose detail equals c's: the same device (a measured component's
 * detail names it) or the same model with the same formula and constants
 * (TDP, DIMM count, capacitance, voltage, frequency, and where each came
 * from). Then *entry (optional) is set; otherwise it is NULL and why
 * (optional, why_size bytes; "" on a match) says why in the words of a
 * note: "the baseline #3 was measured with --cpu-tdp 65 ('TDP 65 W
 * (--cpu-tdp) x CPU utilisation'), this run uses 'TDP 15 W (--cpu-tdp) x CPU
 * utilisation'". An entry stored without its detail (before greenml
 * recorded it) never applies: nothing says what it measured. */
GM_API enum gm_idle_match gm_energy_idle_match(
    const struct gm_idle_baseline *b, const struct gm_component_info *c,
    const struct gm_idle_entry **entry, char *why, size_t why_size);

/* The noise of a net energy over duration_s seconds, in J: twice the
 * standard deviation of the net of a window that drew exactly idle power,
 *
 *     2 x sd x sqrt(T^2 / n + T x dt),   dt = idle_duration_s / n
 *
 * where T^2 sd^2 / n is the variance of P_idle x T (the idle mean's
 * standard error, scaled by T) and T dt sd^2 that of the window's own
 * energy (T / dt intervals of spread sd, each dt long), taken as
 * independent. About 95 % two-sided for Gaussian interval noise; correlated
 * intervals make it a lower bound. NAN when n < 1, idle_duration_s <= 0 or
 * sd is not a number; 0 when sd is 0 (a constant model). */
GM_API double gm_energy_net_noise_j(double idle_sd_w, double idle_n,
                                    double idle_duration_s, double duration_s);

/* Where net_j stands against noise_j (NAN: unknown, taken as 0). Rounding
 * always counts as noise: a millionth of the gross plus 1 uJ (the finest
 * unit any source reports, powercap's energy_uj), so a model that drew
 * exactly its idle power is within noise, never negative. */
GM_API enum gm_net_check gm_energy_net_check(double gross_j, double net_j,
                                             double noise_j);
/* "unknown", "above noise", "within noise", "negative": static. */
GM_API const char *gm_net_check_name(enum gm_net_check c);

#endif
