/* report.h: `greenml report`, in three parts that only meet here:
 *   greenml/report.h  (the library) selects and computes the data: benches,
 *                     groups, cells, per-epoch curves, predictions;
 *   report_figures.c  draws Figs. 2-7 from them with gnuplot (data files,
 *                     scripts, SVG, PNG and PDF);
 *   cmd_report.c      the command: flags, exit codes, the HTML page.
 * None of them prints except cmd_report.c. */
#ifndef GM_APP_REPORT_H
#define GM_APP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/report.h"
#include "greenml/status.h"

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
                                const struct gm_report_group *g,
                                struct rep_figure figs[REP_N_FIGURES]);
void rep_figures_free(struct rep_figure figs[REP_N_FIGURES]);

/* A measured run's figures: power per component over time with the phases
 * shaded (Fig. 1), utilisation over time (Fig. 2). Errors as
 * rep_draw_figures; release with rep_run_figures_free. */
#define REP_N_RUN_FIGURES 2
enum gm_status rep_draw_run_figures(struct rep_plotter *pl,
                                    const struct gm_report_run *r,
                                    struct rep_figure figs[REP_N_RUN_FIGURES]);
void rep_run_figures_free(struct rep_figure figs[REP_N_RUN_FIGURES]);

/* Fig. 8: greenml's C engine against PyTorch on the cells both ran
 * (gm_analysis_engines): speedup and energy-per-sample ratio per cell.
 * Omitted (with the reason) when n is 0. Release f->svg with free. */
struct gm_analysis_engine_row;
enum gm_status rep_draw_engine_figure(struct rep_plotter *pl,
                                      const struct gm_analysis_engine_row *rows,
                                      size_t n, struct rep_figure *f);

/* Fig. 10: bf16 against fp32 on the cells measured in both
 * (gm_analysis_precisions): per cell the ratios of energy per sample, time
 * per sample and final accuracy. Omitted (with the reason) when n is 0.
 * Release f->svg with free. */
struct gm_analysis_precision_row;
enum gm_status
rep_draw_precision_figure(struct rep_plotter *pl,
                          const struct gm_analysis_precision_row *rows,
                          size_t n, struct rep_figure *f);

/* Fig. 9: the same models' energy per sample on each host (the paper's
 * hardware configurations side by side): n_models rows of n_hosts values
 * (jps, row-major; NAN where a host did not measure the model), one bar
 * per host, log scale. kind and batch say what the bars are. Omitted (with
 * the reason) when n_hosts < 2. Release f->svg with free. */
enum gm_status rep_draw_hosts_figure(struct rep_plotter *pl,
                                     const char (*host_labels)[96],
                                     size_t n_hosts, const char (*models)[64],
                                     size_t n_models, const double *jps,
                                     const char *kind, int batch,
                                     struct rep_figure *f);

#endif
