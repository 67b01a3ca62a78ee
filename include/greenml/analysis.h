/* analysis.h: what `greenml bench` stored, read back and analysed: the phase
 * table (one struct per bench_phases row with its model's characteristics
 * and its components), a run's time series pivoted into columns, the
 * correlations of energy with time, MACs, parameters, batch size and
 * utilisation, the claims of Mavromatis et al. (2024) checked against the
 * data, and two estimates of a workload's energy: a short profile
 * extrapolated, and a regression across models on MACs per parameter.
 *
 * The statistics are those of greenml/stats.h. Nothing here prints or exits;
 * every fallible call returns enum gm_status, and the loaders put a specific
 * message into a caller's buffer. Tables, series and estimates are owned by
 * the caller and freed with their *_free / *_clear function; strings and
 * arrays inside them are borrowed from them. Functions that take a table
 * only read it, so one table may be analysed from several threads.
 */
#ifndef GREENML_ANALYSIS_H
#define GREENML_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/stats.h"
#include "greenml/status.h"
#include "greenml/store.h"

/* ---- the phase table ----------------------------------------------------- */

/* One component's share of a phase (bench_phase_components). */
struct gm_analysis_component {
  char name[48];       /* "cpu", "dram", "gpu0", "package-0" */
  char kind[16];       /* "cpu", "dram", "gpu", "psys" */
  char provenance[16]; /* "measured" or "modelled" */
  bool in_total;       /* counted in the phase's energy_j */
  double energy_j;     /* gross; NAN when not stored */
  double net_energy_j; /* idle power x duration subtracted; NAN: no baseline */
  double avg_power_w, peak_power_w;
};

/* One bench_phases row joined with bench_models. Numbers that were not
 * recorded are NAN (energies of an unmetered phase, loss of a profile, GPU
 * utilisation without a GPU); missing model characteristics are 0/NAN. */
struct gm_analysis_phase {
  int64_t bench_id, host_id;
  size_t bench; /* index into the table's benches */
  char model[64];
  int batch_size;
  char precision[8]; /* "fp32", "bf16" (engine.h) */
  char kind[16];     /* "train", "infer", "profile-train", "profile-infer" */
  int epoch;         /* the epoch trained, or after which inference ran */
  bool metered;   /* false: time only (--no-meter, the --overhead baseline) */
  int64_t run_id; /* the meter run holding the time series; 0: none */
  int phase_idx;  /* the phase's index in that run; -1: none */
  double start_s, duration_s; /* seconds from the run's start; length */
  int64_t steps, samples;
  double loss, accuracy, lr;
  double energy_j, net_energy_j; /* sums over in-total components, J */
  double avg_power_w, peak_power_w;
  char provenance[16]; /* "measured", "modelled", "mixed"; "" unmetered */
  double cpu_util_pct, dram_used_bytes, gpu_util_pct, vram_used_bytes;
  /* the model (bench_models) */
  int64_t params, trainable_params, param_bytes, buffer_bytes, size_bytes;
  int64_t macs;          /* per 3x32x32 sample */
  double macs_per_param; /* macs / params */
  size_t n_components;
  const struct gm_analysis_component *components; /* borrowed, table-owned */
  /* The Slurm job that ran it (the row's tags): "ARRAYJOB_TASK" for a task
   * of a job array, else the job id; "" outside Slurm. */
  char job[48];
};

struct gm_analysis_bench {
  int64_t id, host_id;
  char name[128];
  char status[16]; /* "running", "interrupted", "failed", "complete" */
  char created_at[32];
  char hostname[128], cpu_model[128]; /* from the hosts table; "" unknown */
  char *config_json, *host_json;      /* owned by the table; may be NULL */
  size_t n_phases;                    /* its rows in the table */
};

struct gm_analysis_table {
  size_t n_benches;
  struct gm_analysis_bench *benches; /* oldest first */
  size_t n_phases;
  struct gm_analysis_phase *phases; /* by bench, then in recorded order */
  /* storage of every phase's components */
  size_t n_components_;
  struct gm_analysis_component *components_;
};

/* Loads the benches of the store st (gm_store_load_benches), and every
 * phase of them, into *out (owned by the caller: gm_analysis_table_free). bench
 * NULL loads all benches; otherwise the one with that name or, when none has it
 * and bench is a decimal number, that id. A database without benches gives an
 * empty table (n_benches 0), not an error. GM_ERR_NOT_FOUND when the named
 * bench does not exist, GM_ERR_DATABASE when a query fails; err (optional)
 * receives the specific message. */
GM_API enum gm_status gm_analysis_load(struct gm_store *st, const char *bench,
                                       struct gm_analysis_table **out,
                                       char *err, size_t err_size);
GM_API void gm_analysis_table_free(struct gm_analysis_table *t); /* NULL ok */

/* The index of the phase of run run_id whose window [start_s, start_s +
 * duration_s] holds t_s, or -1 when none does. */
GM_API long gm_analysis_phase_at(const struct gm_analysis_table *t,
                                 int64_t run_id, double t_s);

/* ---- a run's time series ------------------------------------------------- */

struct gm_analysis_series_component {
  char name[48], kind[16], provenance[16];
  bool in_total;
};

struct gm_analysis_series_metric {
  char name[64]; /* "cpu.util", "mem.used", "gpu0.util" */
  char unit[16]; /* "%", "B", "C", "MHz", "W", "s" */
};

/* The samples and metric_samples of one run, one row per tick. Matrices are
 * row-major: energy_j[row * n_components + c]. A value the run did not
 * store is NAN. */
struct gm_analysis_series {
  int64_t run_id;
  size_t n_rows, n_components, n_metrics;
  struct gm_analysis_series_component *components;
  struct gm_analysis_series_metric *metrics;
  int64_t *seq;
  double *t_s;      /* seconds since the run's start */
  double *energy_j; /* cumulative energy, J */
  double *power_w;  /* mean power over the interval ending at the tick, W */
  double *metric;   /* the metric's value, in its unit */
};

/* Loads run run_id's time series into *out (owned by the caller:
 * gm_analysis_series_free). GM_ERR_NOT_FOUND when there is no such run. */
GM_API enum gm_status gm_analysis_load_series(struct gm_store *st,
                                              int64_t run_id,
                                              struct gm_analysis_series **out,
                                              char *err, size_t err_size);
/* The same without the rows (n_rows 0): which components and metrics the
 * run has, to lay out the columns of several runs before reading them one
 * at a time. */
GM_API enum gm_status
gm_analysis_load_series_columns(struct gm_store *st, int64_t run_id,
                                struct gm_analysis_series **out, char *err,
                                size_t err_size);
GM_API void gm_analysis_series_free(struct gm_analysis_series *s);

/* ---- selections, cells and variables ------------------------------------- */

/* Which phases an analysis uses: metered phases with an energy, of the
 * given bench, host, kind, model and batch size (0 / NULL: any). kind NULL
 * means "train" and "infer" (never the partial profile-* phases) unless
 * with_profile is set, which also counts "profile-train" as "train" and
 * "profile-infer" as "infer". net uses net instead of gross energy: phases
 * without a net energy (no idle baseline applied), and phases whose net
 * energy is not above 0 (they drew no more than the idle baseline says,
 * which no work does: the baseline does not describe them), are then left
 * out, never averaged or correlated as they are; gm_analysis_net_excluded
 * counts them. */
struct gm_analysis_select {
  int64_t bench_id;
  int64_t host_id;
  const char *kind;
  const char *model;
  int batch_size;
  const char *precision; /* "fp32", "bf16"; NULL: every precision */
  bool with_profile;
  bool net;
};

/* The phases a net selection leaves out that the same selection on gross
 * energy would use. */
struct gm_analysis_net_excluded {
  size_t no_net;       /* no net energy: no idle baseline applied */
  size_t not_positive; /* a net energy at or below 0 */
};

/* Counts them for sel (its net flag is ignored: the count is of what net
 * leaves out). GM_ERR_INVALID_ARG for a NULL argument. */
GM_API enum gm_status
gm_analysis_net_excluded(const struct gm_analysis_table *t,
                         const struct gm_analysis_select *sel,
                         struct gm_analysis_net_excluded *out);

/* A cell: the selected phases of one (host, model, batch size, kind), summed
 * (time, samples, energy) or time-weighted (power, utilisation). */
struct gm_analysis_cell {
  int64_t host_id;
  char model[64];
  int batch_size;
  char precision[8]; /* a cell is one precision: never two mixed */
  char kind[16]; /* "train" or "infer" (profile phases count as their kind) */
  size_t n_phases;
  double samples, duration_s, energy_j; /* sums; energy gross or net */
  double j_per_sample, s_per_sample;
  double avg_power_w;                /* energy / time */
  double cpu_util_pct, gpu_util_pct; /* time-weighted means; NAN: none */
  int64_t params, macs;
  double macs_per_param;
  char provenance[16]; /* of its phases: measured, modelled or mixed */
  size_t first_phase;  /* index in the table of its first phase */
  /* The distinct jobs of its phases (gm_analysis_phase.job), in order,
   * comma-separated ("..." ends a list too long); "" outside Slurm. */
  char jobs[128];
};

/* The cells of the selected phases, in order of first appearance, into
 * *out (malloc'ed, caller frees; NULL when *n is 0). */
GM_API enum gm_status gm_analysis_cells(const struct gm_analysis_table *t,
                                        const struct gm_analysis_select *sel,
                                        struct gm_analysis_cell **out,
                                        size_t *n);

/* The quantities an analysis can relate. */
enum gm_analysis_var {
  GM_AVAR_ENERGY_J,       /* energy (gross, or net with sel->net), J */
  GM_AVAR_J_PER_SAMPLE,   /* energy per sample, J */
  GM_AVAR_DURATION_S,     /* time, s */
  GM_AVAR_S_PER_SAMPLE,   /* time per sample, s */
  GM_AVAR_AVG_POWER_W,    /* mean power, W */
  GM_AVAR_SAMPLES,        /* samples processed */
  GM_AVAR_MACS,           /* MACs per sample */
  GM_AVAR_PARAMS,         /* parameters */
  GM_AVAR_MACS_PER_PARAM, /* MACs per parameter */
  GM_AVAR_BATCH_SIZE,     /* samples per step */
  GM_AVAR_CPU_UTIL_PCT,   /* mean CPU utilisation, % */
  GM_AVAR_GPU_UTIL_PCT,   /* mean GPU utilisation, % */
  GM_AVAR_COUNT_
};
/* "energy_j", "macs_per_param": static storage; NULL out of range. */
GM_API const char *gm_analysis_var_name(enum gm_analysis_var v);
/* "energy (J)", "MACs/param": static storage; NULL out of range. */
GM_API const char *gm_analysis_var_label(enum gm_analysis_var v);

/* What the points of a correlation are. */
enum gm_analysis_unit {
  GM_AUNIT_PHASE, /* every selected phase is a point */
  GM_AUNIT_CELL,  /* every (host, model, batch, kind) cell is a point, so
                     repeated epochs of one model do not count as
                     independent evidence about that model */
};

/* Why a test could not run. */
enum gm_analysis_untestable {
  GM_AUNTESTABLE_NONE,     /* it ran */
  GM_AUNTESTABLE_TOO_FEW,  /* fewer points than it needs */
  GM_AUNTESTABLE_CONSTANT, /* a variable takes a single value */
  GM_AUNTESTABLE_MISSING,  /* a variable was not recorded at all */
};

struct gm_analysis_corr {
  enum gm_analysis_var x, y;
  enum gm_analysis_unit unit;
  size_t n;         /* points with both values */
  size_t n_missing; /* selected points left out: a value not recorded */
  enum gm_analysis_untestable untestable;
  char why[192]; /* when untestable: "2 points; a correlation needs 3" */
  struct gm_stats_corr pearson, spearman; /* valid when untestable is NONE */
  char provenance[16]; /* of the points' energy: measured, modelled, mixed */
};

/* Pearson and Spearman (ties averaged) of y against x over the selected
 * phases or cells. A test that cannot run is not an error: out->untestable
 * says why. GM_ERR_INVALID_ARG for a NULL or out-of-range argument. */
GM_API enum gm_status
gm_analysis_correlate(const struct gm_analysis_table *t,
                      const struct gm_analysis_select *sel,
                      enum gm_analysis_unit unit, enum gm_analysis_var x,
                      enum gm_analysis_var y, struct gm_analysis_corr *out);

/* The same over n given points (the phases of a measured run, say): pairs
 * with a value that is not finite are left out (n_missing), and a test that
 * cannot run says why, by the rules of gm_analysis_correlate. vx and vy
 * name the variables in the messages; out->provenance is left empty. */
GM_API enum gm_status
gm_analysis_correlate_points(const double *x, const double *y, size_t n,
                             enum gm_analysis_var vx, enum gm_analysis_var vy,
                             struct gm_analysis_corr *out);

/* "measured" / "modelled" / "mixed" for the selected phases and, in detail,
 * which in-total components were which: "gpu0 measured; cpu, dram
 * modelled". "" when nothing is selected. */
GM_API void gm_analysis_provenance(const struct gm_analysis_table *t,
                                   const struct gm_analysis_select *sel,
                                   char *prov, size_t prov_size, char *detail,
                                   size_t detail_size);

/* ---- the paper's claims -------------------------------------------------- */

enum gm_analysis_claim_id {
  /* energy is linear in time, r ~ 0.99: Pearson r of energy on duration
   * over phases; agrees when r >= 0.95 and p < 0.05 */
  GM_CLAIM_LINEAR_TIME,
  /* training takes ~3x the time of inference per sample: per (model,
   * batch) cell, train s/sample over infer s/sample; agrees when the median
   * over cells lies in [2, 4] */
  GM_CLAIM_TRAIN_3X,
  /* energy rises with MACs, rho ~ 0.8: Spearman rho of energy per sample on
   * MACs over models at one batch size; agrees when rho >= 0.6, p < 0.05 */
  GM_CLAIM_MACS,
  /* energy rises with MACs per parameter, rho ~ 0.9: as above on
   * MACs/param; agrees when rho >= 0.7 and p < 0.05 */
  GM_CLAIM_MACS_PER_PARAM,
  /* smaller batches cost more energy: per model, energy per sample at its
   * smallest batch size over that at its largest; agrees when above 1 for
   * at least 75 % of the models (and at least 2 models) */
  GM_CLAIM_BATCH,
  /* power rises with GPU utilisation, rho ~ 0.55-0.81: Spearman rho of mean
   * power on mean GPU utilisation over phases; agrees when rho >= 0.5 and
   * p < 0.05 */
  GM_CLAIM_GPU_UTIL,
  GM_CLAIM_COUNT_
};

/* Correlation claims give no verdict from fewer points than this: with
 * n ranks the smallest two-sided p is 2/n! (1/3 for 3, 1/12 for 4), so
 * below 5 no sample could reach p < 0.05. The coefficient is still
 * reported. */
#define GM_ANALYSIS_MIN_N_VERDICT 5

enum gm_analysis_verdict {
  GM_VERDICT_AGREES,
  GM_VERDICT_DISAGREES,
  /* the measured value passes the threshold but p >= 0.05: too few points
   * to tell it from chance */
  GM_VERDICT_INCONCLUSIVE,
  GM_VERDICT_UNTESTABLE, /* why says why */
};
/* "agrees", "does not agree", "inconclusive", "cannot test": static. */
GM_API const char *gm_analysis_verdict_name(enum gm_analysis_verdict v);

struct gm_analysis_claim {
  enum gm_analysis_claim_id id;
  const char *key;       /* "linear_time": static storage */
  const char *statement; /* "energy is linear in time": static */
  const char *paper;     /* "r ~ 0.99": static */
  const char *threshold; /* "agrees when r >= 0.95 and p < 0.05": static */
  const char *statistic; /* "r", "rho", "median ratio", "share": static */
  double value;          /* the measured statistic; NAN when untestable */
  double p;              /* its p-value; NAN for the ratio claims */
  size_t n;              /* points behind it */
  const char *points;    /* "phases", "models", "model x batch cells" */
  int batch_size;        /* MACs claims: the batch size used; 0 otherwise */
  double min, max;       /* ratio claims: range over the points; else NAN */
  double median;         /* ratio claims: the median ratio; else NAN */
  size_t n_pass;         /* ratio claims: points that pass on their own */
  enum gm_analysis_verdict verdict;
  char provenance[16];         /* of the energy (or "time only") */
  char provenance_detail[128]; /* per component */
  char why[256];               /* untestable: the reason; else a note */
};

/* Checks one claim on the phases of sel (a host and a kind, "train" or
 * "infer"; GM_CLAIM_TRAIN_3X and sel->kind NULL use both kinds). The MACs
 * claims use the batch size with the most models measured, preferring the
 * paper's 128 on a tie, unless sel->batch_size is given. */
GM_API enum gm_status gm_analysis_check_claim(
    const struct gm_analysis_table *t, const struct gm_analysis_select *sel,
    enum gm_analysis_claim_id id, struct gm_analysis_claim *out);

/* GM_CLAIM_LINEAR_TIME over n given phases (a measured run's): the same
 * statistic, threshold and verdict rules; provenance (may be NULL) is that
 * of the energies. */
GM_API enum gm_status
gm_analysis_claim_linear_time(const double *duration_s, const double *energy_j,
                              size_t n, const char *provenance,
                              struct gm_analysis_claim *out);

/* ---- estimates ----------------------------------------------------------- */

struct gm_estimate_request {
  const char *model; /* a zoo name, any case */
  const char *kind;  /* "train" or "infer" */
  int batch_size;    /* 0: the measured batch size with the most data */
  double samples;    /* the workload: epochs x epoch size, or inference
                        samples; > 0 */
  double alpha;      /* of the prediction intervals: 0.05 for 95 % */
  int64_t bench_id;  /* phases of this bench only; 0: any */
  int64_t host_id;   /* phases of this host only; 0: any */
};

/* A prediction with its (1 - alpha) prediction interval. */
/* An interval the data cannot support is withheld rather than printed:
 * from a fit with fewer than GM_ESTIMATE_MIN_DOF residual degrees of freedom
 * (three models give one, and a t quantile of 12.7 at 95 %), or one whose
 * bounds lie more than GM_ESTIMATE_MAX_SPREAD times above or below the
 * value. */
#define GM_ESTIMATE_MIN_DOF 2
#define GM_ESTIMATE_MAX_SPREAD 10.0

struct gm_estimate_value {
  double value, lo, hi;  /* lo, hi NAN when no interval is given */
  char no_interval[128]; /* why lo and hi are NAN ("" when given) */
};

/* One left-out point of a leave-one-out check, in the estimate's units. */
struct gm_estimate_loo_point {
  char label[64]; /* the model, or "epoch 2" / "profile" for a phase */
  double x;       /* samples (profile) or MACs/param (regression) */
  double actual;  /* energy (profile) or energy per sample (regression) */
  double pred, lo, hi;
  double rel_err; /* (pred - actual) / actual */
  bool inside;    /* lo <= actual <= hi */
};

struct gm_estimate_loo {
  bool ok;
  char why[160];   /* when not ok */
  size_t n;        /* points, each left out once */
  double mape_pct; /* mean |rel_err| x 100 */
  double coverage; /* share of points inside their interval, [0, 1] */
  size_t worst;    /* index into points of the largest |rel_err| */
  struct gm_estimate_loo_point *points; /* n, owned by the estimate */
};

/* (a) The short profile: the measured phases of this model, batch size and
 * kind, energy ~ samples and time ~ samples fitted through the origin
 * (energy proportional to work), extrapolated to the request's samples;
 * checked by leaving out one phase at a time. */
struct gm_estimate_profile {
  bool ok;
  char why[256]; /* when not ok: what is missing and how to get it */
  size_t n_phases;
  double samples_measured, energy_measured_j, duration_measured_s;
  struct gm_stats_fit fit_energy, fit_time; /* slope: J and s per sample */
  struct gm_estimate_value energy_j, duration_s;
  struct gm_estimate_loo loo_energy, loo_time;
  char provenance[16], provenance_detail[128];
};

/* (b) The regression across models: ln(energy per sample) = a + b
 * ln(MACs/param) over the models measured at this batch size and kind (one
 * point per model), predicted at the model's MACs/param from the zoo and
 * multiplied by the samples; time per sample likewise. Log-log because both
 * quantities are positive and span orders of magnitude across the zoo and
 * their scatter is relative: the back-transformed interval stays positive
 * and widens with the value, where a linear fit's would go negative. The
 * back-transformed value is the median prediction. Checked by leaving out
 * one model at a time; the linear fit's error on the same points is given
 * for comparison. */
struct gm_estimate_regression {
  bool ok;
  char why[256];
  int batch_size;
  size_t n_models;
  double macs_per_param; /* of the requested model, from the zoo */
  bool model_measured;   /* the model itself is one of the points */
  bool extrapolated;     /* its MACs/param lies outside the points' range */
  struct gm_stats_fit fit_energy, fit_time; /* in log-log space */
  struct gm_estimate_value j_per_sample, energy_j, s_per_sample, duration_s;
  struct gm_estimate_loo loo_energy, loo_time;
  double loo_linear_mape_pct; /* linear J/sample on MACs/param; NAN: n/a */
  double loo_macs_mape_pct;   /* the same log-log fit on MACs instead of
                                 MACs/param, for comparison; NAN: n/a */
  char provenance[16], provenance_detail[128];
};

struct gm_estimate {
  char model[64]; /* the zoo's spelling */
  char kind[16];
  int batch_size;    /* the one used (requested or chosen) */
  bool batch_chosen; /* the request left it to the data */
  double samples, alpha;
  struct gm_estimate_profile profile;
  struct gm_estimate_regression regression;
};

/* THE fit of a per-model quantity (energy, energy per sample, time per
 * sample) against MACs per parameter, shared by gm_estimate's regression
 * and the report's Fig. 6: ln y = a + b ln x by least squares
 * (gm_stats_fit, GM_STATS_LINEAR, on the logarithms), that is y = e^a x^b.
 * *out is that log-space fit (its r2 too). GM_ERR_INVALID_ARG when a value
 * is not > 0 or as gm_stats_fit (fewer than 3 points, one x value);
 * GM_ERR_NO_MEMORY (2n doubles of scratch). */
GM_API enum gm_status gm_analysis_fit_loglog(const double *x, const double *y,
                                             size_t n,
                                             struct gm_stats_fit *out);
/* The value of such a fit at x0 > 0 with its (1 - alpha) prediction
 * interval, taken back from log space: value = e^(a + b ln x0) (the median
 * prediction), lo and hi the exponentials of the log-space bounds, so they
 * stay positive; NAN when no interval can be made. GM_ERR_INVALID_ARG for
 * x0 not > 0. */
GM_API enum gm_status gm_analysis_predict_loglog(const struct gm_stats_fit *fit,
                                                 double x0, double alpha,
                                                 struct gm_estimate_value *out);

/* Both estimates for req from the table's phases into *out (clear with
 * gm_estimate_clear, also after an error). Either method may fail on its
 * own (its ok false, why set) without making the call fail.
 * GM_ERR_NOT_FOUND when the model is not in the zoo; GM_ERR_INVALID_ARG for
 * a bad kind, samples or alpha. */
GM_API enum gm_status gm_estimate(const struct gm_analysis_table *t,
                                  const struct gm_estimate_request *req,
                                  struct gm_estimate *out);
GM_API void gm_estimate_clear(struct gm_estimate *e);

/* ---- a whole run projected from its first phases ----------------------
 * CarbonTracker's prediction, with an interval and a check: a run of
 * n_total similar phases (training epochs) predicted from its first
 * n_profile measured ones, taken as independent draws of one phase's
 * energy and duration. The total is the profile's sum plus (n_total -
 * n_profile) x the profile's mean; its (1 - alpha) prediction interval is
 * +/- t(n_profile - 1) x s x sqrt(m + m^2 / n_profile), m = n_total -
 * n_profile (the spread of m new phases plus the error of the mean), s the
 * profile's standard deviation. When more phases were measured than the
 * profile, the same projection for the measured ones is checked against
 * their measured sum: the prediction's measured error. */
struct gm_phase_projection {
  size_t n_profile, n_total, n_measured;
  double alpha;
  struct gm_estimate_value energy_j, duration_s;
  /* the check: the first n_checked = min(n_measured, n_total) phases,
   * predicted from the profile, against their measured sums; 0 and NAN
   * when n_checked == n_profile (nothing to check) */
  size_t n_checked;
  struct gm_estimate_value checked_energy_j, checked_duration_s;
  double actual_energy_j, actual_duration_s;
  double energy_error_rel, duration_error_rel; /* (pred - actual) / actual */
  bool energy_inside, duration_inside;         /* actual within the interval */
};

/* Projects n_total phases from the first n_profile of the n_measured
 * phases given (energy_j[i] and duration_s[i], in order). GM_ERR_INVALID_ARG
 * when n_profile < 2 (no spread: no interval), n_profile > n_measured,
 * n_total < n_profile, alpha outside (0, 1), or a profile phase's energy
 * or duration is not finite and >= 0. */
GM_API enum gm_status
gm_analysis_project_phases(const double *energy_j, const double *duration_s,
                           size_t n_measured, size_t n_profile, size_t n_total,
                           double alpha, struct gm_phase_projection *out);

/* ---- engines compared ------------------------------------------------------
 * The same cell (host, model, batch size, phase kind) run by greenml's C
 * engine and by PyTorch (bench --engine torch), side by side. A bench's
 * engine is its configuration's "engine" ("greenml" when it has none: a
 * bench recorded before engines could be chosen). */
#define GM_ANALYSIS_N_ENGINES 2 /* [0] "greenml", [1] "torch" */

struct gm_analysis_engine_row {
  int64_t host_id;
  char model[64];
  int batch_size;
  char precision[8]; /* each engine in this precision */
  char kind[16];     /* "train", "infer" */
  size_t n_phases[GM_ANALYSIS_N_ENGINES];
  double samples_per_s[GM_ANALYSIS_N_ENGINES];
  double j_per_sample[GM_ANALYSIS_N_ENGINES]; /* NAN: not metered */
  char provenance[16];                        /* of both engines' energy */
};

/* "greenml" or "torch" for bench i of t; static storage. */
GM_API const char *gm_analysis_bench_engine(const struct gm_analysis_table *t,
                                            size_t i);
/* The cells measured on both engines, in order of first appearance; energy
 * gross, or net with net (phases without a net above 0 left out, as
 * gm_analysis_cells does). *rows is malloc'ed (caller frees; NULL when *n
 * is 0). */
GM_API enum gm_status gm_analysis_engines(const struct gm_analysis_table *t,
                                          bool net,
                                          struct gm_analysis_engine_row **rows,
                                          size_t *n);

/* ---- precisions compared ----------------------------------------------------
 * The same cells (host, model, batch size, kind) measured in fp32 and in
 * bf16 (engine.h): energy and time per sample of each, and the final
 * accuracy (of the cell's last training epoch, or of the inference pass
 * after it; the latest row on a tie). The ratios are bf16 / fp32; the
 * energy carries the provenance of both precisions' phases. */
#define GM_ANALYSIS_N_PRECISIONS 2 /* [0] "fp32", [1] "bf16" */

struct gm_analysis_precision_row {
  int64_t host_id;
  char model[64];
  int batch_size;
  char kind[16]; /* "train", "infer" */
  size_t n_phases[GM_ANALYSIS_N_PRECISIONS];
  double j_per_sample[GM_ANALYSIS_N_PRECISIONS]; /* NAN: not metered */
  double s_per_sample[GM_ANALYSIS_N_PRECISIONS];
  double accuracy[GM_ANALYSIS_N_PRECISIONS]; /* final, in [0, 1]; NAN */
  int final_epoch;                           /* of that accuracy */
  /* bf16 / fp32; NAN when either is not known */
  double energy_ratio, time_ratio, accuracy_ratio;
  char provenance[16]; /* of both precisions' energy */
};

/* The cells measured in both precisions, in order of first appearance;
 * energy gross, or net with net (as gm_analysis_cells). *rows is malloc'ed
 * (caller frees; NULL when *n is 0). */
GM_API enum gm_status
gm_analysis_precisions(const struct gm_analysis_table *t, bool net,
                       struct gm_analysis_precision_row **rows, size_t *n);

/* ---- hosts compared ---------------------------------------------------------
 * The paper compares hardware configurations (HC-1/2/3) on the same grid.
 * For two hosts and a phase kind, at the batch size with the most models
 * measured on both (the paper's 128 on a tie): do the models rank the same
 * by energy per sample, and how well does one host's energy per sample
 * predict the other's? These thresholds are greenml's (the paper reports
 * consistency across its configurations without a number):
 *   rank: Spearman rho >= GM_ANALYSIS_HOSTS_RHO and p < 0.05 agrees; rho past
 *     the threshold with p >= 0.05 is inconclusive; fewer than
 *     GM_ANALYSIS_MIN_N_VERDICT models cannot be tested;
 *   predict: a power law ln(b) = a0 + a1 ln(a) fitted on the other models
 *     predicts each model left out; the mean absolute error of those
 *     predictions, in percent of the measured value, at or below
 *     GM_ANALYSIS_HOSTS_MAPE_PCT agrees, above it does not; fewer than
 *     GM_ANALYSIS_MIN_N_VERDICT models cannot be tested. */
#define GM_ANALYSIS_HOSTS_RHO 0.8
#define GM_ANALYSIS_HOSTS_MAPE_PCT 25.0

struct gm_analysis_host_pair {
  int64_t host_a, host_b; /* host_a < host_b */
  char kind[16];          /* "train", "infer" */
  int batch_size;
  size_t n; /* models measured on both at that batch size, with energy */
  double rho, rho_p; /* Spearman of J/sample across the models; NAN: n < 3
                        or a constant */
  enum gm_analysis_verdict rank_verdict;
  double loo_mape_pct;    /* leave-one-out mean |error| in %; NAN: n < 4 */
  double loo_max_abs_pct; /* the worst model's |error| in % */
  char worst_model[64];
  enum gm_analysis_verdict predict_verdict;
  double slope;        /* a1 of the power law on every model; NAN: n < 3 */
  double ratio_median; /* median over the models of J/sample b / a */
  char provenance[16]; /* of both hosts' energy */
  char why[192];       /* an untestable verdict's reason; else "" */
};

/* Every pair of hosts with cells of one kind in common, per kind; energy
 * gross, or net with net (cells without a net above 0 left out, as
 * gm_analysis_cells does). *out is malloc'ed (caller frees; NULL when *n
 * is 0). */
GM_API enum gm_status gm_analysis_hosts(const struct gm_analysis_table *t,
                                        bool net,
                                        struct gm_analysis_host_pair **out,
                                        size_t *n);

#endif
