/* report.h: what `greenml report` shows, selected and computed from the
 * store: the benches chosen, grouped by host; per group the (model, batch
 * size) cells summed per kind of phase, per-epoch curves, per-part power,
 * the models' characteristics, how every component was measured; and the
 * short-profile predictions. Drawing and HTML are the front end's; this is
 * data only, with the rules that decide it (which rows count, which batch
 * size the figures use, whether energies are net or gross, which net
 * energies the figures leave out).
 *
 * Energies are J, powers W, durations s. A value that was not recorded is
 * NAN. Nothing here prints or exits.
 */
#ifndef GREENML_REPORT_H
#define GREENML_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/status.h"
#include "greenml/store.h"

enum gm_report_kind { GM_REPORT_TRAIN, GM_REPORT_INFER };
#define GM_REPORT_N_KINDS 2
/* The parts of the machine the figures split energy into (component kinds;
 * psys and the components inside a package are never summed). */
enum gm_report_part { GM_REPORT_CPU, GM_REPORT_DRAM, GM_REPORT_GPU };
#define GM_REPORT_N_PARTS 3

/* One kind of phase (training epochs or inference passes) of one cell,
 * over all its epochs. Of two rows of one phase (a bench with --overhead
 * has an unmetered and a metered one) the metered one counts. Energies are
 * NAN when some phase was not metered; net energies are NAN when some phase
 * has no idle baseline. */
struct gm_report_phases {
  int n;                             /* phases */
  double duration_s;                 /* sum over the phases */
  double samples;                    /* sum over the phases */
  double energy_j;                   /* sum, gross */
  double net_energy_j;               /* sum, idle power x duration taken off */
  double power_w[GM_REPORT_N_PARTS]; /* mean power of each part; NAN: none */
  double cpu_util_pct;               /* duration-weighted mean; NAN: none */
  double gpu_util_pct;               /* mean over the GPUs; NAN: none */
  double vram_bytes;                 /* duration-weighted mean, all GPUs */
};

/* One epoch of a cell; NAN where missing. */
struct gm_report_epoch {
  double train_loss, train_acc; /* acc in [0, 1] */
  double test_loss, test_acc;   /* the inference pass after the epoch */
  double train_energy_j, train_net_energy_j;
};

/* A (model, batch size) cell, from one bench. */
struct gm_report_cell {
  char model[64];
  int batch;
  int64_t bench_id;
  struct gm_report_phases ph[GM_REPORT_N_KINDS];
  int n_epochs;                   /* the highest epoch with a row */
  struct gm_report_epoch *epochs; /* [n_epochs], epochs[e - 1]; owned */
};

struct gm_report_model {
  char name[64];
  int64_t params, size_bytes, macs;
  double macs_per_param;
};

/* How one part was measured, over the group's components of that kind. */
struct gm_report_part_info {
  bool present;    /* some in-total component of this kind */
  char prov[24];   /* "measured counter", "measured power", "modelled",
                      "mixed" */
  char names[128]; /* "cpu", "gpu0, gpu1" */
};

/* One component as the bench's host description states it. */
struct gm_report_component {
  char name[48], kind[8], source[24], prov[24], detail[192];
  bool in_total;
};

struct gm_report_bench {
  int64_t id, host_id;
  char name[128], status[16], created[32];
  char grid[256]; /* "16 models, batch sizes [128], 2 epochs, ..." */
};

/* The benches of one host, pooled: when two benches measured the same
 * (model, batch size), the newer one's rows are used. */
struct gm_report_group {
  int64_t host_id;
  char prefix[8]; /* "" for a single host, else "hc1", "hc2", ...: figure
                     ids and the figures' subdirectory */
  char host[384]; /* CPU, memory, GPUs */
  char bench_names[512];
  struct gm_report_part_info part[GM_REPORT_N_PARTS];
  char energy_prov[160]; /* of the totals: "CPU modelled, DRAM ..." */
  struct gm_report_component *components;
  size_t n_components;
  struct gm_report_model *models;
  size_t n_models;
  struct gm_report_cell *cells;
  size_t n_cells;
  size_t n_superseded; /* cells of older benches not used */
  int main_batch;      /* the batch size measured for the most models */
  bool metered;        /* some phase has energy */
  bool net;            /* every metered phase has net energy: figures use it
                          (unless gm_report_use_gross) */
  bool gross_asked;    /* gm_report_use_gross: gross although net is known */
  /* (cell, kind) pairs whose net energy is not above 0: at or below the idle
   * baseline, which no work is, so the baseline does not describe them. The
   * figures leave them out when they use net energy, and say so. */
  size_t n_net_not_positive;
};

/* Why nothing was selected. */
enum gm_report_missing {
  GM_REPORT_MISSING_NOTHING,  /* something was selected */
  GM_REPORT_MISSING_BENCHES,  /* the store has no bench */
  GM_REPORT_MISSING_NAMED,    /* the run names no bench */
  GM_REPORT_MISSING_COMPLETE, /* no complete bench (run NULL) */
  GM_REPORT_MISSING_PHASES,   /* the selected benches have no train/infer
                                 row */
};

/* A short-profile prediction (greenml bench --profile-epochs) and, with
 * --verify, what was measured. */
struct gm_report_prediction {
  char bench[128], model[64], kind[16], prov[16];
  int batch;
  double profile_epochs;
  double energy_j, energy_lo_j, energy_hi_j;
  double duration_s, duration_lo_s, duration_hi_s;
  double actual_energy_j, actual_duration_s; /* NAN: not measured */
};

struct gm_report {
  struct gm_report_bench *benches; /* oldest first */
  size_t n_benches;
  struct gm_report_prediction *predictions; /* by bench, as recorded */
  size_t n_predictions;
  struct gm_report_group *groups; /* by host, in order of first bench */
  size_t n_groups;
  enum gm_report_missing missing;
};

/* Reads the benches selected by run (a name or an id; NULL: every complete
 * bench) from st into *out (clear with gm_report_clear, also on error).
 * GM_ERR_NOT_FOUND with out->missing saying why and err the message when
 * nothing is selected; GM_ERR_DATABASE or GM_ERR_NO_MEMORY otherwise. */
GM_API enum gm_status gm_report_load(struct gm_store *st, const char *run,
                                     struct gm_report *out, char *err,
                                     size_t err_size);
GM_API void gm_report_clear(struct gm_report *r);

/* The cell of g for (model, batch size), or NULL. */
GM_API const struct gm_report_cell *
gm_report_cell_find(const struct gm_report_group *g, const char *model,
                    int batch);
GM_API const struct gm_report_model *
gm_report_model_find(const struct gm_report_group *g, const char *model);
/* Energy of the phases for the figures: net when g->net, else gross. A net
 * energy that is not above 0 is NAN (left out; gm_report_net_excluded),
 * never drawn or clipped as it is. */
GM_API double gm_report_energy(const struct gm_report_group *g,
                               const struct gm_report_phases *p);
/* Whether the figures leave p out: they use net energy and p's net is not
 * above 0. */
GM_API bool gm_report_net_excluded(const struct gm_report_group *g,
                                   const struct gm_report_phases *p);
/* One epoch's training energy for the figures, by the same rule. */
GM_API double gm_report_epoch_energy(const struct gm_report_group *g,
                                     const struct gm_report_epoch *e);
/* Makes every group's figures use gross energy (greenml report --gross). */
GM_API void gm_report_use_gross(struct gm_report *r);
/* "CPU", "DRAM", "GPU"; static storage. */
GM_API const char *gm_report_part_label(enum gm_report_part p);

/* ---- a measured run ------------------------------------------------------
 * One run of `greenml measure` or of the Python package, read back: its
 * row, its time series and its phases, and per component the energy and
 * powers its stored series gives (the last cumulative energy; the mean
 * power over the run; the highest interval power). */
struct gm_report_run_component {
  char name[48], kind[16], provenance[16];
  bool in_total;
  double energy_j, avg_power_w, peak_power_w;
};

struct gm_report_run {
  const struct gm_store_run *run; /* the row (gm_store_list_runs) */
  const struct gm_store_series *series;
  const struct gm_store_run_phases *phases;
  size_t n_components; /* = series->n_components */
  struct gm_report_run_component *components;
  double *metric_mean, *metric_max; /* per series metric; NAN: none */
  double duration_s; /* of the stored series (the run's, when complete) */
  /* owned storage */
  struct gm_store_run_list *list_;
  struct gm_store_series *series_;
  struct gm_store_run_phases *phases_;
};

/* Reads run_id. GM_ERR_NOT_FOUND (err says so) when there is no such run;
 * GM_ERR_STATE when it has no stored samples (err: why); the store's
 * status otherwise. *out is owned by the caller: gm_report_run_free. */
GM_API enum gm_status gm_report_run_load(struct gm_store *st, int64_t run_id,
                                         struct gm_report_run **out, char *err,
                                         size_t err_size);
GM_API void gm_report_run_free(struct gm_report_run *r); /* NULL: no-op */

#endif
