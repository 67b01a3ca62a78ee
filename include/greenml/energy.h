/* energy.h: the energy-accounting rules, written once and used by every
 * front end (measure, bench, runs, report, analyze, estimate, export).
 *
 * Gross energy is what a component drew over a window. Net energy is the
 * gross minus what the idle machine would have drawn over the same window:
 *
 *     net = gross - P_idle x T
 *
 * with P_idle the component's mean power in a matching idle baseline (same
 * component name and source). THE rule for a component without a baseline:
 * its net is unknown (NAN, written as JSON null and SQL NULL), never its
 * gross in disguise; and a total's net is known only when every in-total
 * component has a baseline. A total sums the components flagged in_total
 * (cores, uncore and psys overlap a package and are never summed). Its
 * provenance is "measured" when every in-total part is measured (counter or
 * sensor), "modelled" when every part is modelled, "mixed" otherwise, and
 * "none" when there is no in-total part. */
#ifndef GREENML_ENERGY_H
#define GREENML_ENERGY_H

#include <stdbool.h>
#include <stddef.h>

#include "greenml/api.h"
#include "greenml/idle.h"
#include "greenml/meter.h"

/* One component's part of an account. */
struct gm_energy_part {
  enum gm_provenance provenance;
  bool in_total;
  double gross_j; /* energy over the window */
  double idle_w;  /* its idle power; NAN: no baseline for it */
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

/* The idle power of the component (name, source) in baseline b (NULL:
 * none): the mean power of the entry with the same name and source, NAN when
 * b has no such entry. */
GM_API double gm_energy_idle_of(const struct gm_idle_baseline *b,
                                const char *name, const char *source);

#endif
