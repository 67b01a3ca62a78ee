/* study_internal.h: the study runner's state, shared by the files of
 * src/study/ (one subject each): run.c the bench and its grid, cell.c a
 * cell and its meter, pass.c the training and inference passes as phases,
 * phase.c a finished phase's row, profile.c collecting a short profile,
 * predict.c its prediction, idle.c the idle baseline, config.c the
 * configuration and the documents stored with a bench. Everything lives in
 * one struct gm__study per call of gm_study_run. */
#ifndef GM_STUDY_INTERNAL_H
#define GM_STUDY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "greenml/energy.h"
#include "greenml/study.h"
#include "greenml/train.h"

#define GM__STUDY_MAX_WINDOWS 4096
#define GM__STUDY_MIN_WINDOWS 2
#define GM__STUDY_LEVEL 0.95 /* of the prediction intervals */

/* ---- profile.c ---- */

struct gm__study_profile {
  bool on;        /* collecting */
  long want;      /* samples to profile */
  long seen;      /* samples profiled so far */
  double first_s; /* the first step (warm-up), timed alone */
  long first_n;   /* its samples */
  double first_w; /* power over the first window, for the first step */
  int64_t w_t0;   /* window start (CLOCK_MONOTONIC ns) */
  double w_e0;    /* live energy at the window start */
  double w_live0; /* live elapsed time at the window start */
  long w_samples; /* samples in the open window */
  double sum_dt;  /* seconds of all profiled steps */
  size_t n;       /* closed windows */
  double t_per[GM__STUDY_MAX_WINDOWS], e_per[GM__STUDY_MAX_WINDOWS];
  double w_n[GM__STUDY_MAX_WINDOWS]; /* samples per window */
  bool done;
};

void gm__study_profile_start(struct gm__study_profile *p, long want);
/* After a step of m samples that took dt_s, with the meter's live in-total
 * energy and elapsed time read after it. Windows span at least 10 sampling
 * intervals; the first step is kept apart. */
void gm__study_profile_step(struct gm__study_profile *p, long m, double dt_s,
                            double energy_j, double elapsed_s, int64_t now_ns,
                            int64_t interval_ns);
/* A window cut short by the end of a phase is dropped; the next phase opens
 * a fresh one. */
void gm__study_profile_break(struct gm__study_profile *p, double energy_j,
                             double elapsed_s, int64_t now_ns);
void gm__study_profile_view(const struct gm__study_profile *p,
                            struct gm_study_profile *out);

/* ---- the run (run.c) ---- */

struct gm__study {
  const struct gm_study_config *cfg;
  const struct gm_study_observer *obs;
  struct gm_store *st;
  pthread_mutex_t st_mu; /* st is shared with the meter's writer thread */
  int64_t host_id, bench_id;
  struct gm_idle_baseline *idle; /* NULL: none */
  bool missing_warned;   /* the cells' missing components were reported */
  bool idle_warned;      /* a component it does not apply to was reported */
  bool stopped;          /* a stop request was seen */
  bool joined;           /* one_cell: the bench existed */
  int64_t bench_idle_id; /* the bench's baseline when found; 0: none */
  /* every cell's thread count: configured, or chosen once at the start
   * (gm_nn_threads_choose), so that the cells compare */
  struct gm_nn_threads threads;
  /* ETA: seconds per (sample x MAC) of training and inference */
  double rate_train, rate_infer;
  double left_train, left_infer; /* sample x MACs still to run */
  size_t n_cells, cell_no;
  char err[1024];
};

/* Sets the run's error message (printf-style) and returns rc. */
enum gm_status gm__study_fail(struct gm__study *s, enum gm_status rc,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Passes a message to the observer (printf-style). */
void gm__study_say(struct gm__study *s, enum gm_study_message_kind kind,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Polls the observer's stop request; true (and sticky) once asked. */
bool gm__study_stopping(struct gm__study *s);
/* Sleeps dur_ns unless a stop is requested. */
void gm__study_gap(struct gm__study *s, int64_t dur_ns);
/* The grid's ETA in seconds; NAN when unknown. */
double gm__study_eta_s(const struct gm__study *s);

/* ---- a cell (cell.c) ---- */

struct gm__study_cell {
  const char *model; /* the zoo's spelling */
  int batch;
  enum gm_nn_precision prec;
  const char *precision; /* its name */
  bool metered;
  struct gm_train *tr;
  struct gm_nn_stats stats;
  long steps_per_epoch, epoch_samples;
  /* the meter of a metered cell */
  struct gm_meter *m;
  int64_t run_id;
  size_t nc, nm, n_meter_phases;
  struct gm_energy_part *parts; /* per component: provenance, in_total, idle */
  double *live_e, *live_p;      /* per component */
  size_t i_cpu, i_mem;          /* metric indices, SIZE_MAX: none */
  size_t gpu_util[16], gpu_vram[16];
  size_t n_gpu_util, n_gpu_vram;
  struct {
    struct gm__study *s;
    int64_t run_id;
  } sink;       /* the writer thread's context */
  double ph_e0; /* live in-total energy when the phase began */
  struct gm__study_profile *ptrain, *pinfer;
  double sum_train_s, sum_train_j, sum_infer_s, sum_infer_j;
};

/* Runs one cell of the grid (a metered one with its own meter and run). */
enum gm_status gm__study_run_cell(struct gm__study *s, const char *model,
                                  int batch, enum gm_nn_precision prec,
                                  bool metered);
/* Before an overhead pair: two training steps and one inference batch,
 * unrecorded. */
enum gm_status gm__study_warm_up(struct gm__study *s, const char *model,
                                 int batch, enum gm_nn_precision prec);
/* The grid's precisions: n_precisions of them, or fp32 alone. */
size_t gm__study_n_precisions(const struct gm_study_config *cfg);
enum gm_nn_precision gm__study_precision(const struct gm_study_config *cfg,
                                         size_t i);
/* The sum over in-total components of per-component values v, and the
 * provenance of that total (energy.h's rules). */
double gm__study_in_total(const struct gm__study_cell *c, const double *v,
                          const char **provenance);

/* ---- passes (pass.c) ---- */

/* A finished pass, as a phase. */
struct gm__study_pass {
  int64_t t0_ns, t1_ns;
  long steps, samples;
  double loss, accuracy, lr;
};

/* Training epoch `epoch` (1-based) of the cell, as one phase. */
enum gm_status gm__study_train_phase(struct gm__study *s,
                                     struct gm__study_cell *c, int epoch,
                                     struct gm__study_pass *out);
/* The profile-only training phase: epochs from the first until the profile
 * is done or target samples are trained. */
enum gm_status gm__study_profile_train_phase(struct gm__study *s,
                                             struct gm__study_cell *c,
                                             long target,
                                             struct gm__study_pass *out);
/* Inference over the first `samples` samples of the replicated test set;
 * with a profile that is not done at their end, on up to cap samples.
 * shown_epoch: the epoch displayed (0: none). */
enum gm_status gm__study_infer_phase(struct gm__study *s,
                                     struct gm__study_cell *c, const char *name,
                                     long samples, long cap,
                                     struct gm__study_profile *prof,
                                     int shown_epoch,
                                     struct gm__study_pass *out);
/* Training steps outside any phase (the warm-up). */
enum gm_status gm__study_train_steps(struct gm__study *s,
                                     struct gm__study_cell *c, long steps);

/* ---- phases (phase.c) ---- */

/* Opens a meter phase at t_ns (metered cells). */
void gm__study_phase_begin(struct gm__study *s, struct gm__study_cell *c,
                           const char *name, int64_t t_ns);
/* Ends the cell's open phase at the pass's end and writes its row (energy
 * per component from the meter, net of idle, totals). *energy_j (optional)
 * receives the total gross energy (NAN when unmetered). */
enum gm_status gm__study_phase_record(struct gm__study *s,
                                      struct gm__study_cell *c,
                                      const char *kind, int epoch,
                                      const struct gm__study_pass *p,
                                      double *energy_j);
/* Whether the bench has that row of the cell. */
bool gm__study_has_phase(struct gm__study *s, const struct gm__study_cell *c,
                         const char *kind, int epoch);

/* ---- idle.c ---- */

/* ---- config.c ---- */

/* The documents stored with a bench: its configuration (with the front
 * end's flags) and the host with the meter's components. Owned: free. */
char *gm__study_config_json(const struct gm_study_config *cfg);
char *gm__study_host_json(const struct gm_meter *m,
                          const struct gm_nn_threads *threads);

#endif
