/* study.h: the study runner behind `greenml bench`: a grid of cells (model x
 * batch size x metered or not), each trained for N epochs with an inference
 * pass after every epoch by the protocol of train.h, every epoch and pass a
 * phase of the meter written to the store (store.h) as it ends.
 *
 * One run of gm_study_run:
 *   1. a new bench (its configuration, the versions, the host) or, to
 *      resume, the bench of that name;
 *   2. an idle baseline, measured first unless none is asked for;
 *   3. for every cell: a meter and its run (metered cells), then either the
 *      full cell (epochs with their checkpoints, inference after each) or,
 *      with a profile and no verification, the profile alone; each phase
 *      row accounted by energy.h (gross, net of idle, totals, provenance)
 *      and committed when the phase ends;
 *   4. short-profile predictions (gm_study_predict) stored with, under
 *      verification, the measured values;
 *   5. the bench's status: "complete", "interrupted" (a stop request) or
 *      "failed".
 * A resumed bench continues at the first phase without a row, from the
 * checkpoint of the epoch before it.
 *
 * The front end follows and steers the run through a struct
 * gm_study_observer (progress, rows, predictions, messages, stop requests);
 * the runner keeps no state outside the call. It never prints.
 */
#ifndef GREENML_STUDY_H
#define GREENML_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/data.h"
#include "greenml/engine.h"
#include "greenml/idle.h"
#include "greenml/meter.h"
#include "greenml/status.h"
#include "greenml/store.h"

/* Which cells run. */
enum gm_study_mode {
  GM_STUDY_METERED,   /* every cell measured */
  GM_STUDY_UNMETERED, /* the same work, timed only */
  /* every cell twice, unmeasured and measured, after an unrecorded warm-up,
   * the order alternating from cell to cell: the meter's cost in time */
  GM_STUDY_OVERHEAD
};

struct gm_study_config {
  const char *name; /* the bench's name: 1 to 100 bytes, no '/' */
  bool resume;      /* continue the bench `name` */
  /* the grid */
  size_t n_models;
  const char *const *models; /* zoo names */
  size_t n_batch_sizes;
  const int *batch_sizes;
  /* the numerical precisions (engine.h), each a cell of its own: a bench
   * compares fp32 with bf16 on the same models and batch sizes; 0: fp32
   * alone */
  size_t n_precisions;
  const enum gm_nn_precision *precisions;
  int epochs;         /* training epochs per cell */
  long infer_samples; /* samples per inference pass (test set replicated) */
  /* the protocol (train.h; momentum and weight decay: the defaults) */
  double lr;
  uint64_t seed;
  long limit_batches;  /* at most this many batches per epoch; 0: all */
  const char *backend; /* NULL: the fastest */
  int threads;         /* > 0: that many; 0: chosen once when the run
                          starts (engine.h, gm_nn_threads_choose) and used
                          by every cell */
  const char *engine;  /* train.h: "greenml" (NULL) or "torch" */
  const char *device;  /* the torch engine's; NULL: auto */
  bool cosine; /* the learning rate follows PyTorch's CosineAnnealingLR with
                  T_max = epochs (train.h); false: constant */
  /* the data, borrowed: both splits */
  const struct gm_cifar10 *train, *test;
  const char *data; /* how it was named, for the record ("data") */
  /* the measurement */
  enum gm_study_mode mode;
  int64_t idle_ns; /* idle baseline measured first; 0: none */
  int64_t gap_ns;  /* pause between phases (the meter keeps sampling) */
  struct gm_meter_config meter; /* its callbacks are the runner's own */
  /* short profiling: measure the first profile_epochs epochs (> 0, may be
   * a fraction, below epochs) and predict the rest; with verify, run the
   * full cell too and store the prediction's error */
  double profile_epochs; /* 0: none */
  bool verify;
  const char *checkpoint_dir; /* must exist */
  /* greenml and the libraries it runs on, as a JSON object, stored with the
   * bench (gm_versions_json of libgreenml-data gives them all); NULL: only
   * greenml's own version */
  const char *versions_json;
  /* the front end's flags, stored verbatim with the bench so that it can
   * rebuild this configuration to resume it */
  size_t n_flags;
  const char *const *flags;
  /* One cell of the grid only (a task of a job array): with one_cell, the
   * cell-th (0-based) of the n_models x n_batch_sizes x n_precisions cells
   * in the order the grid runs them (models outer, then batch sizes,
   * precisions inner; an overhead cell is its pair). The bench `name` is joined
   * when it exists (whatever its status; resume is ignored) and created
   * otherwise; a complete cell runs nothing (gm_study_result.cell_complete); a
   * partial one resumes at its first missing row. The bench is marked
   * "complete" once every cell of the grid has its rows, and stays "running"
   * until then. */
  bool one_cell;
  size_t cell;
  /* With one_cell: a file on the node's own disk that makes the tasks of a
   * node measure the idle baseline once. The first task to lock it
   * measures and stores the baseline and writes its id into the file; the
   * others wait for the lock and use that baseline. NULL: every task
   * measures its own (as a whole bench does). */
  const char *idle_lock;
  /* Members added to the tags of every meter run a cell writes, as the
   * inside of a JSON object ("\"k\":\"v\",..."); NULL: none. The front end
   * puts a scheduler's job ids there. */
  const char *run_tags;
};

/* Defaults of the paper: epochs 1, 50000 inference samples, lr 0.001, seed
 * 1, metered, idle 10 s, gap 2 s, the meter's defaults. No grid, data, name
 * or checkpoint directory. */
GM_API struct gm_study_config gm_study_config_default(void);

/* Checks a configuration before anything is opened or measured: the grid
 * (models of the zoo, batch sizes 1 .. 65536, epochs, samples), the profile
 * rules, the name, and that the backend exists (an engine is created and
 * destroyed). The data sets are not looked at. GM_ERR_INVALID_ARG, or
 * GM_ERR_NOT_FOUND for an unknown model or backend; err (optional) gets
 * the message, which names the `greenml bench` flag concerned. */
GM_API enum gm_status gm_study_config_check(const struct gm_study_config *cfg,
                                            char *err, size_t err_size);

/* Whether two configurations describe the same study: the same grid (models
 * in the same order, batch sizes, epochs, inference samples), protocol (lr,
 * seed, schedule, batch limit, engine, backend, device, threads, data) and
 * measurement (mode, idle, gap, interval, the models' overrides, the GPUs,
 * the profile) and the precisions in the same order. The name, the cell,
 * the data sets and everything of one
 * run (directories, locks, tags, versions, flags) are not compared. false
 * with why (optional) naming the first difference by its `greenml bench`
 * flag, a's value and then b's. */
GM_API bool gm_study_config_same(const struct gm_study_config *a,
                                 const struct gm_study_config *b, char *why,
                                 size_t why_size);

/* What will execute the steps, as gm_train_engine_name says it ("greenml
 * onednn fp32", "torch 2.1.0 cuda bf16"), found by starting the configured
 * engine once per precision (LeNet, batch 1; for the torch engine, its
 * worker, once): the names of the precisions joined by ", " ("greenml
 * onednn fp32, greenml ref bf16"). The error of an engine that cannot
 * start goes into err. */
GM_API enum gm_status gm_study_engine_name(const struct gm_study_config *cfg,
                                           char *buf, size_t size, char *err,
                                           size_t err_size);

/* ---- the observer -------------------------------------------------------- */

/* Once, after the idle baseline and before the first cell. */
struct gm_study_begin {
  const char *name;
  int64_t bench_id;
  bool resumed;
  const struct gm_idle_baseline *idle; /* in use; NULL: none (no net) */
  bool idle_measured;                  /* by this run (else stored) */
  size_t n_cells;
};

/* After every batch of every pass. */
struct gm_study_progress {
  size_t cell, n_cells; /* 1-based */
  const char *model;
  int batch_size;
  const char *precision; /* "fp32", "bf16" */
  bool metered;
  const char *kind; /* "train" or "infer" */
  int epoch;        /* the epoch trained or after which inference runs,
                       1-based; 0: none (profiles, warm-up) */
  int epochs;       /* of the grid */
  long batch, batches;
  double loss, accuracy; /* running means; loss NAN for inference */
  double power_w;  /* live power of the in-total components; NAN: unmetered */
  double energy_j; /* their energy since the phase began; NAN: unmetered */
  const char *provenance; /* of that total; NULL: unmetered */
  double eta_s;           /* of the whole grid; NAN: not known yet */
};

/* A prediction stored, or the reason none could be made. */
struct gm_study_prediction {
  bool made;
  /* made: the stored row. Otherwise model, batch_size, precision and kind
   * only. */
  struct gm_bench_prediction p;
  /* not made: the profile had `windows` windows of window_s seconds (two
   * are needed before the run ends) after profiled of target samples */
  size_t windows;
  double window_s;
  long profiled, target;
};

enum gm_study_message_kind { GM_STUDY_INFO, GM_STUDY_WARNING };

/* Every member optional; ctx is passed back. Callbacks come from the
 * calling thread; the pointers they get are borrowed for the call. */
struct gm_study_observer {
  void *ctx;
  void (*begin)(void *ctx, const struct gm_study_begin *b);
  void (*progress)(void *ctx, const struct gm_study_progress *p);
  /* The pass whose progress was reported has ended. */
  void (*pass_end)(void *ctx);
  /* A phase row, committed to the store. */
  void (*phase)(void *ctx, const struct gm_bench_phase *row);
  void (*prediction)(void *ctx, const struct gm_study_prediction *p);
  /* Information and warnings ("lowercase, no full stop") for the user. */
  void (*message)(void *ctx, enum gm_study_message_kind kind, const char *text);
  /* Polled before every batch and during every pause: true stops the run
   * after the batch in progress, abandoning the phase. */
  bool (*stop)(void *ctx);
};

struct gm_study_result {
  int64_t bench_id;   /* 0: no bench was created */
  bool interrupted;   /* a stop request ended it ("interrupted") */
  bool cell_complete; /* one_cell: the cell had every row; nothing ran */
};

/* Runs (or resumes) the study cfg describes, writing into st, which must
 * not be used elsewhere meanwhile (the meter's writer thread shares it
 * behind a lock the runner holds). obs may be NULL. GM_OK when the grid
 * completed or a stop request ended it (out->interrupted); otherwise the
 * status of what failed, its message in err, and the bench (if created)
 * marked "failed". Statuses: GM_ERR_INVALID_ARG (cfg), GM_ERR_STATE (a fresh
 * bench whose name exists, or resuming a complete one; a meter phase that
 * did not close; a diverging loss), GM_ERR_NOT_FOUND / GM_ERR_PARSE (the
 * bench to resume, or a checkpoint to resume from, is absent / unreadable),
 * GM_ERR_DATABASE (the store; also samples lost), GM_ERR_IO /
 * GM_ERR_PERMISSION (a checkpoint cannot be written), the engine's and the
 * meter's statuses. */
GM_API enum gm_status gm_study_run(const struct gm_study_config *cfg,
                                   struct gm_store *st,
                                   const struct gm_study_observer *obs,
                                   struct gm_study_result *out, char *err,
                                   size_t err_size);

/* ---- the short-profile predictor ----------------------------------------- */

/* A short profile: its first step timed apart (primitive creation, cold
 * caches), then windows of whole steps, each giving a time and an energy per
 * sample. */
struct gm_study_profile {
  long first_samples;   /* samples of the first step */
  double first_s;       /* its duration */
  double first_power_w; /* the power charged to it (the first window's) */
  size_t n_windows;
  const double *window_samples;      /* samples per window (weights) */
  const double *window_s_per_sample; /* seconds per sample per window */
  const double *window_j_per_sample; /* joules per sample per window */
};

struct gm_study_estimate {
  double duration_s, duration_lo_s, duration_hi_s;
  double energy_j, energy_lo_j, energy_hi_j;
};

/* Extrapolates a profile to target_samples. The estimate is the first step
 * plus the windows' mean rate (weighted by their samples) times the
 * remaining samples, for time and energy alike. The interval at `level`
 * (e.g. 0.95) is the Student-t confidence interval of the windows' mean
 * rate (unweighted, n - 1 degrees of freedom) scaled by the remaining
 * samples, never below what the first step took: it covers the uncertainty
 * of the rate, not a one-off event later in the run. One window gives the
 * estimate without interval (NAN bounds); identical windows give a zero-width
 * interval. GM_ERR_INVALID_ARG for no window, target_samples not above
 * first_samples, a level outside (0, 1), or a value that is negative or not
 * finite. */
GM_API enum gm_status gm_study_predict(const struct gm_study_profile *p,
                                       long target_samples, double level,
                                       struct gm_study_estimate *out);

#endif
