/* report.h: `greenml report`, in three parts that only meet here:
 *   report_data.c     reads the benches from the database (SQL only) into
 *                     the structs below;
 *   report_figures.c  draws Figs. 2-7 from them with gnuplot (data files,
 *                     scripts, SVG, PNG and PDF);
 *   cmd_report.c      the command: flags, exit codes, the HTML page.
 * None of the three prints except cmd_report.c. */
#ifndef GM_APP_REPORT_H
#define GM_APP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/status.h"

struct sqlite3;

enum rep_kind { REP_TRAIN, REP_INFER };
#define REP_N_KINDS 2
/* The parts of the machine the figures split energy into (component kinds;
 * psys and the components inside a package are never summed). */
enum rep_part { REP_CPU, REP_DRAM, REP_GPU };
#define REP_N_PARTS 3

/* One kind of phase (training epochs or inference passes) of one cell,
 * over all its epochs. Energies are NAN when no phase was metered; net
 * energies are NAN when some phase has no idle baseline. */
struct rep_phases {
  int n;                       /* phases */
  double duration_s;           /* sum over the phases */
  double samples;              /* sum over the phases */
  double energy_j;             /* sum, gross */
  double net_energy_j;         /* sum, idle power x duration subtracted */
  double power_w[REP_N_PARTS]; /* mean power of each part; NAN: none */
  double cpu_util_pct;         /* duration-weighted mean; NAN: none */
  double gpu_util_pct;         /* mean over the GPUs; NAN: none */
  double vram_bytes;           /* duration-weighted mean, all GPUs; NAN */
};

/* One epoch of a cell; NAN where missing. */
struct rep_epoch {
  double train_loss, train_acc; /* acc in [0, 1] */
  double test_loss, test_acc;   /* the inference pass after the epoch */
  double train_energy_j, train_net_energy_j;
};

/* A (model, batch size) cell, from one bench. */
struct rep_cell {
  char model[64];
  int batch;
  int64_t bench_id;
  struct rep_phases ph[REP_N_KINDS];
  int n_epochs;             /* the highest epoch with a row */
  struct rep_epoch *epochs; /* [n_epochs], epochs[e - 1]; owned */
};

struct rep_model {
  char name[64];
  int64_t params, size_bytes, macs;
  double macs_per_param;
};

/* How one part was measured, over the group's components of that kind. */
struct rep_part_info {
  bool present;    /* some in-total component of this kind */
  char prov[24];   /* "measured counter", "measured power", "modelled",
                      "mixed" */
  char names[128]; /* "cpu", "gpu0, gpu1" */
};

/* One component as the bench's host description states it. */
struct rep_component {
  char name[48], kind[8], source[24], prov[24], detail[192];
  bool in_total;
};

struct rep_bench {
  int64_t id, host_id;
  char name[128], status[16], created[32];
  char grid[256]; /* "16 models x batch 128, 2 epochs, 50000 ..." */
};

/* The benches of one host, pooled: when two benches measured the same
 * (model, batch size), the newer one's rows are used. */
struct rep_group {
  int64_t host_id;
  char prefix[8]; /* "" for a single host, else "hc1", "hc2", ...: figure
                     ids and the figures' subdirectory */
  char host[384]; /* CPU, memory, GPUs */
  char bench_names[512];
  struct rep_part_info part[REP_N_PARTS];
  char energy_prov[160]; /* of the totals: "CPU modelled, DRAM ..." */
  struct rep_component *components;
  size_t n_components;
  struct rep_model *models;
  size_t n_models;
  struct rep_cell *cells;
  size_t n_cells;
  size_t n_superseded; /* cells of older benches not used */
  int main_batch;      /* of Figs. 2-6 and the tables */
  bool metered;        /* some phase has energy */
  bool net;            /* every metered phase has net energy: figures use it */
};

/* Why nothing was selected. */
enum rep_missing {
  REP_MISSING_NOTHING,  /* something was selected */
  REP_MISSING_BENCHES,  /* the database has no bench */
  REP_MISSING_NAMED,    /* --run names no bench */
  REP_MISSING_COMPLETE, /* no complete bench (without --run) */
  REP_MISSING_PHASES,   /* the selected benches have no train/infer row */
};

/* A short-profile prediction (greenml bench --profile-epochs) and, with
 * --verify, what was measured. */
struct rep_prediction {
  char bench[128], model[64], kind[16], prov[16];
  int batch;
  double profile_epochs;
  double energy_j, energy_lo_j, energy_hi_j;
  double duration_s, duration_lo_s, duration_hi_s;
  double actual_energy_j, actual_duration_s; /* NAN: not measured */
};

struct rep_data {
  struct rep_bench *benches;
  size_t n_benches;
  struct rep_prediction *predictions;
  size_t n_predictions;
  struct rep_group *groups;
  size_t n_groups;
  enum rep_missing missing;
};

/* Reads the benches selected by run (a name or an id; NULL: every complete
 * bench) into *out (free with rep_data_free, also on error). GM_ERR_NOT_FOUND
 * with out->missing saying why and err the message when nothing is selected;
 * GM_ERR_DATABASE or GM_ERR_NO_MEMORY otherwise. */
enum gm_status rep_data_load(struct sqlite3 *db, const char *run,
                             struct rep_data *out, char *err, size_t err_size);
void rep_data_free(struct rep_data *d);

/* Cells of g at batch size b: the model's cell, or NULL. */
const struct rep_cell *rep_cell_find(const struct rep_group *g,
                                     const char *model, int batch);
const struct rep_model *rep_model_find(const struct rep_group *g,
                                       const char *model);
/* Energy of the phases for the figures: net when g->net, else gross. */
double rep_energy(const struct rep_group *g, const struct rep_phases *p);
const char *rep_part_label(enum rep_part p); /* "CPU", "DRAM", "GPU" */

/* ---- figures ------------------------------------------------------------ */

#define REP_N_FIGURES 6 /* Figs. 2 to 7 */

struct rep_figure {
  int number;      /* 2 .. 7 */
  char id[24];     /* "fig2", "hc1-fig2": the HTML id and file stem */
  char title[160]; /* plain text (UTF-8) */
  char caption[1536];
  char omitted[512]; /* why the figure is left out; "" when drawn */
  char partial[512]; /* what is left out of a drawn figure, or "" */
  char *svg;         /* owned: inline-ready SVG, NULL when omitted */
  char files[512];   /* the files written, space-separated */
};

struct rep_plotter {
  const char *gnuplot; /* path of the gnuplot executable */
  const char *dir;     /* where the figures' files go (exists) */
  char err[1024];      /* the message of a failure */
};

/* Finds gnuplot in PATH; false when it is not there. */
bool rep_find_gnuplot(char *path, size_t size);

/* Draws Figs. 2-7 of g into figs[0..5] (release with rep_figures_free,
 * also on error). GM_ERR_IO when a file cannot be written,
 * GM_ERR_UNAVAILABLE when gnuplot cannot be started, GM_ERR_SYSTEM when it
 * fails; pl->err says which and why. */
enum gm_status rep_draw_figures(struct rep_plotter *pl,
                                const struct rep_group *g,
                                struct rep_figure figs[REP_N_FIGURES]);
void rep_figures_free(struct rep_figure figs[REP_N_FIGURES]);

#endif
