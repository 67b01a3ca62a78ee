/* run.h: a finished measurement as plain data, independent of the meter
 * that took it: per-component gross and net energy with provenance, metric
 * means, phases and totals, accounted by the rules of energy.h. The store
 * writes it, the front ends print it, bindings copy it. */
#ifndef GREENML_RUN_H
#define GREENML_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/energy.h"
#include "greenml/idle.h"
#include "greenml/meter.h"
#include "greenml/status.h"

struct gm_run_component {
  struct gm_component_info info;
  struct gm_component_stats stats; /* gross energy, powers, counter events */
  double idle_w;                   /* baseline idle power; NAN: none applies */
  double idle_sd_w;                /* its spread (interval power); NAN: none */
  uint64_t idle_n;     /* the baseline's intervals behind it; 0: unknown */
  double net_energy_j; /* NAN when idle_w is NAN */
  double net_noise_j;  /* gm_energy_net_noise_j over the run; NAN: unknown */
  enum gm_net_check net_check;
  enum gm_idle_match idle_match; /* whether the baseline applies */
  /* Why the baseline given does not apply (gm_energy_idle_match), so that
   * net_energy_j is NAN; "" when it applies or no baseline was given. */
  char net_reason[512];
  /* The part of it attributed to the tracked processes (gm_run_record
   * .attributed): gross, and net of the baseline's share
   * (attr.energy_j - idle_w x attr.share_s; NAN without idle_w). */
  struct gm_attribution attr;
  double attr_net_j;
};

/* What the tracked processes were charged, over the in-total components. */
struct gm_run_attribution {
  char subject[300];   /* "process tree of pid 1234", "cgroup /job_7" */
  double energy_j;     /* sum of the parts' attributed gross energy */
  double net_j;        /* sum of their nets; NAN unless every part has one */
  double unknown_j;    /* energy of windows whose share was unknown */
  double share_pct;    /* energy_j over the machine's gross total, % */
  char provenance[96]; /* "attributed by CPU-time share", "attributed by
                          GPU processes", or both joined by " and " */
  bool partial;        /* unknown_j > 0, or the machine's total is partial */
};

struct gm_run_metric {
  struct gm_metric_info info;
  double mean, max; /* NAN: never available */
};

struct gm_run_phase {
  char name[64];
  double start_s, duration_s; /* since the meter's start */
  bool ended_by_stop;         /* still open when the meter stopped */
  double *energy_j;           /* per component, n_components entries */
  double *net_energy_j;       /* per component; NAN without a baseline */
  struct gm_energy_total total;
  /* when the run attributes (gm_run_record.attributed), per component the
   * part of energy_j attributed to the tracked processes and its net
   * (attributed - idle_w x the phase's share-time); NULL otherwise */
  double *attributed_j, *attributed_net_j;
  double attributed_total_j, attributed_total_net_j; /* in-total sums */
};

struct gm_run_record {
  double duration_s;
  int64_t idle_baseline_id; /* the baseline's id; 0: none */
  double idle_duration_s;   /* the baseline's duration; NAN: none */
  size_t n_components;
  struct gm_run_component *components;
  size_t n_metrics;
  struct gm_run_metric *metrics;
  size_t n_phases;
  struct gm_run_phase *phases;
  struct gm_energy_total total; /* over the in-total components */
  double meter_cpu_s;           /* CPU time of the meter's own threads */
  uint64_t dropped_samples;     /* samples the writer could not store */
  uint64_t missed_ticks;        /* ticks that missed their deadline */
  size_t n_missing;             /* components found but not measurable */
  struct gm_missing *missing;   /* (gm_meter_missing), n_missing entries */
  /* Why total.partial (and a phase's) is set: the in-total components
   * missing, and those lost during the run with the time; "" otherwise. */
  char partial_why[384];
  /* Components the baseline was measured with that this run does not
   * meter (gm_energy_idle_unmatched): the sources differ. */
  size_t n_idle_unmatched;
  char idle_unmatched[256];
  bool attributed; /* the meter attributed energy: attribution is set */
  struct gm_run_attribution attribution;
};

/* The record of a stopped meter with baseline idle (NULL: none) applied to
 * each component it matches (gm_energy_idle_match; the others get a NAN net
 * and their net_reason). GM_ERR_STATE when the meter has not been stopped.
 * *out is owned by the caller: gm_run_record_free. */
GM_API enum gm_status
gm_run_record_from_meter(struct gm_meter *m,
                         const struct gm_idle_baseline *idle,
                         struct gm_run_record **out);
GM_API void gm_run_record_free(struct gm_run_record *r); /* NULL: no-op */

/* The idle baseline a stopped meter's record describes: each component's
 * mean power, its spread and its detail, and the mean CPU utilisation with
 * the busy flag (from the record's cpu.util metric). The configuration
 * (interval, model flags) and the number of intervals are unknown here
 * (NAN, 0): gm_idle_measure fills them. *out is owned by the caller
 * (gm_idle_baseline_free); its id is 0 until a store saves it. */
GM_API enum gm_status
gm_idle_baseline_from_record(const struct gm_run_record *r,
                             struct gm_idle_baseline **out);

#endif
