/* store.h: the results store. Runs, their samples, idle baselines and the
 * study runner's benches are written and read through one interface; where
 * they live is the store's business. A location names the store:
 *
 *   a path, or sqlite:PATH   an SQLite file (WAL journal, versioned schema
 *                            with forward migrations)
 *
 * and any other scheme ("postgresql://...") is refused with
 * GM_ERR_UNSUPPORTED and a message naming the supported ones. Samples are
 * buffered in memory by gm_store_add_sample and written in batched
 * transactions by gm_store_commit (which the meter's flush callback calls
 * about once a second), so a run killed with SIGKILL keeps everything up to
 * its last second and stays marked incomplete.
 *
 * Faults (see gm_store_add_sample, gm_store_commit, gm_store_finish_run):
 * another process holding the write lock is waited out, its samples kept in
 * bounded memory meanwhile; a write error (a full disk) is retried; and a
 * run is recorded complete only when every one of its samples is stored,
 * else incomplete with the cause and the time up to which its samples are
 * stored. A store written by a newer greenml (GM_ERR_SCHEMA_NEWER) or one
 * that is not greenml's (GM_ERR_PARSE) is refused before anything is
 * written and left byte for byte as it was.
 *
 * Reads return tables of plain structs owned by the caller (each with its
 * *_free), never statements or cursors. Commands that only read open with
 * gm_store_open_readonly.
 *
 * A store handle may be used from one thread at a time; the sample calls
 * normally come from the meter's writer thread while the main thread waits.
 */
#ifndef GREENML_STORE_H
#define GREENML_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/api.h"
#include "greenml/host.h"
#include "greenml/idle.h"
#include "greenml/meter.h"
#include "greenml/run.h"
#include "greenml/status.h"

/* The schema version this greenml writes. */
#define GM_STORE_SCHEMA_VERSION 9

/* The most memory the samples waiting to be written may take on one handle
 * (gm_store_add_sample): 64 MiB, some 400 000 samples of two components and
 * ten metrics (nearly 7 minutes at 1 ms, 11 hours at 100 ms). */
#define GM_STORE_PENDING_MAX_BYTES ((size_t)64 << 20)

/* How long a write waits for another process's write lock by default
 * (gm_store_set_lock_wait), in seconds. */
#define GM_STORE_LOCK_WAIT_S 10.0

struct gm_store;

/* Opens (creating when absent) the store at location and migrates it to the
 * current schema. For a file, the parent directory must exist. *out is
 * owned by the caller: gm_store_close. On error *out is NULL; err
 * (optional) receives the specific message. GM_ERR_SCHEMA_NEWER: written by
 * a newer greenml; GM_ERR_PARSE: not a greenml store (another program's
 * SQLite database, or not SQLite at all); in both cases nothing was
 * written, not even a journal-mode switch or a checkpoint, and no file was
 * created. GM_ERR_UNSUPPORTED when no implementation serves the location's
 * scheme; GM_ERR_INVALID_ARG for an empty location; GM_ERR_DATABASE when
 * another process kept the store locked longer than GM_STORE_LOCK_WAIT_S
 * (the message says so) or the store cannot be written. */
GM_API enum gm_status gm_store_open(const char *location, struct gm_store **out,
                                    char *err, size_t err_size);
/* Opens an existing store for reading: it never creates anything, never
 * migrates, never changes the store's settings (an SQLite file keeps its
 * journal mode), and every call that writes returns GM_ERR_STATE.
 * GM_ERR_NOT_FOUND when there is no store at location (err: "no database at
 * 'PATH'"), GM_ERR_INVALID_ARG when the location is not a database file,
 * GM_ERR_SCHEMA_NEWER and GM_ERR_PARSE as gm_store_open (refused
 * untouched). A store of an older schema is read as it is: what it lacks
 * reads as empty. */
GM_API enum gm_status gm_store_open_readonly(const char *location,
                                             struct gm_store **out, char *err,
                                             size_t err_size);
/* Writes the samples still buffered (waiting for another process's lock as
 * gm_store_finish_run does; what cannot be written is lost), then closes.
 * NULL is a no-op. */
GM_API void gm_store_close(struct gm_store *st);
GM_API const char *gm_store_last_error(const struct gm_store *st);
/* The schema version of the open store. */
GM_API int gm_store_schema_version(struct gm_store *st);
/* Which implementation serves the handle: "sqlite". Static storage. */
GM_API const char *gm_store_kind(const struct gm_store *st);
GM_API bool gm_store_is_readonly(const struct gm_store *st);
/* How long the writes other than gm_store_commit (opening aside: it uses
 * GM_STORE_LOCK_WAIT_S) wait for another process's write lock before
 * failing with GM_ERR_DATABASE ("... is locked by another process (waited
 * N s)"); 0 fails at once. GM_ERR_INVALID_ARG for a negative or non-finite
 * seconds. */
GM_API enum gm_status gm_store_set_lock_wait(struct gm_store *st,
                                             double seconds);
/* The file a location names ("PATH" for "PATH" and "sqlite:PATH") into
 * path, so that a front end can create its directory first; false when the
 * location is not a file of a supported store. */
GM_API bool gm_store_location_file(const char *location, char *path,
                                   size_t size);

/* Inserts or refreshes the host (keyed by its fingerprint). */
GM_API enum gm_status gm_store_put_host(struct gm_store *st,
                                        const struct gm_host *h,
                                        int64_t *host_id);

struct gm_run_meta {
  const char *kind;      /* "measure" or "idle" */
  double interval_s;     /* sampling period */
  const char *command;   /* the measured command line, or NULL */
  const char *tags_json; /* JSON object of --tag K=V, or NULL */
  double carbon_g_per_kwh;
  const char
      *carbon_source; /* "region FR (Ember 2023)", "--carbon-intensity" */
  double pue;
  int64_t idle_baseline_id; /* 0: none */
};

/* Records a new run (complete = 0) with its components and metrics (for a
 * meter: gm_meter_components and gm_meter_metrics), and commits. Waits up
 * to the lock wait (gm_store_set_lock_wait) for another process's write
 * lock, then fails with GM_ERR_DATABASE: a caller about to start a command
 * learns before it starts that its samples could not be stored. */
GM_API enum gm_status
gm_store_begin_run(struct gm_store *st, int64_t host_id,
                   const struct gm_run_meta *meta, size_t n_components,
                   const struct gm_component_info *components, size_t n_metrics,
                   const struct gm_metric_info *metrics, int64_t *run_id);
/* Buffers a copy of one sample for the next gm_store_commit; never waits
 * for the store. The buffer of a handle holds at most
 * GM_STORE_PENDING_MAX_BYTES of samples; a sample beyond that is dropped
 * (GM_ERR_DATABASE, message set), counted against its run, and the run
 * will be recorded incomplete (gm_store_finish_run). A gap in a run's seq
 * (samples the meter dropped) is counted the same way. */
GM_API enum gm_status gm_store_add_sample(struct gm_store *st, int64_t run_id,
                                          const struct gm_sample *s);
/* Writes the buffered samples, oldest first, in transactions of at most a
 * few thousand samples, for about half a second at most (a backlog is
 * written over the next calls). When another process holds the write lock
 * it waits a quarter of a second, then keeps them for the next call:
 * GM_OK, nothing is lost. A write that fails otherwise (a full disk, an I/O
 * error) keeps them too, for the next call, and returns GM_ERR_DATABASE
 * with the message. GM_OK when nothing is buffered. */
GM_API enum gm_status gm_store_commit(struct gm_store *st);

struct gm_run_result {
  int exit_code;   /* the measured command's */
  double carbon_g; /* of the total gross energy, PUE applied */
};

/* Writes the buffered samples (waiting up to the lock wait for another
 * process's lock; those that still cannot be written are lost), then the
 * record's per-component statistics, metrics, phases and totals. The run
 * is marked complete only when every sample of it is stored: none dropped
 * by the meter (rec->dropped_samples, gaps in seq) nor by the store. Else
 * it stays incomplete with the cause, the number of samples lost and the
 * time up to which every sample is stored (gm_store_run), and the call
 * returns GM_ERR_DATABASE with a message that says so; if the record
 * itself cannot be written, the cause is still recorded when the store
 * takes it. gm_store_sample_tally tells what was stored either way. */
GM_API enum gm_status gm_store_finish_run(struct gm_store *st, int64_t run_id,
                                          const struct gm_run_result *res,
                                          const struct gm_run_record *rec);

/* What became of the samples given to this handle for one run. */
struct gm_store_sample_tally {
  uint64_t added;   /* handed to gm_store_add_sample */
  uint64_t stored;  /* written and committed */
  uint64_t pending; /* buffered, not yet written */
  uint64_t lost;    /* never to be stored: dropped by the meter (a gap in seq,
                       or counted in the record at gm_store_finish_run) or by
                       the store (its buffer full, or still unwritten when the
                       run was finished) */
  double stored_until_s; /* every sample of the run up to this time (since
                            the meter's start) is stored; NAN: none is */
  char cause[256];       /* why samples were lost, or are still pending; "" */
};

/* The tally of run_id on this handle (zero and NAN when it saw none of the
 * run's samples). Valid after gm_store_finish_run too. */
GM_API enum gm_status gm_store_sample_tally(struct gm_store *st, int64_t run_id,
                                            struct gm_store_sample_tally *out);

/* Stores a baseline (run_id: the idle run that measured it, 0: none). */
GM_API enum gm_status gm_store_save_idle(struct gm_store *st, int64_t host_id,
                                         int64_t run_id,
                                         const struct gm_idle_baseline *b,
                                         int64_t *baseline_id);
/* Loads the newest baseline of the host. GM_ERR_NOT_FOUND when none.
 * Free with gm_idle_baseline_free. */
GM_API enum gm_status gm_store_load_idle(struct gm_store *st, int64_t host_id,
                                         struct gm_idle_baseline **out);
/* Loads the baseline with that id. GM_ERR_NOT_FOUND when there is none. */
GM_API enum gm_status gm_store_load_idle_id(struct gm_store *st,
                                            int64_t baseline_id,
                                            struct gm_idle_baseline **out);

/* ---- the study runner (greenml bench) -------------------------------------
 * A bench is a named grid (models x batch sizes x precisions x epochs). Each
 * of its phases (a training epoch, an inference pass) is one bench_phases
 * row, written and committed when the phase ends, keyed by (bench, model,
 * batch size, precision, kind, epoch, metered) so a resumed bench never
 * duplicates a row (schema 9 added the precision; older rows are "fp32").
 * Energy columns are not stored for unmetered phases (--no-meter, the overhead
 * baseline): NAN when read back. */

struct gm_bench_meta {
  const char *name;          /* unique: --run-id */
  const char *config_json;   /* the grid and hyperparameters */
  const char *versions_json; /* greenml and its libraries */
  const char *host_json;     /* CPU and TDP, DIMMs, GPUs, driver, kernel */
  int64_t idle_baseline_id;  /* 0: none */
};

struct gm_bench_info {
  int64_t id, host_id, idle_baseline_id;
  char name[128];
  char status[16];   /* "running", "interrupted", "failed", "complete" */
  char *config_json; /* owned: gm_bench_info_clear */
};

/* Creates the bench (status "running"). GM_ERR_STATE when the name exists. */
GM_API enum gm_status gm_store_bench_create(struct gm_store *st,
                                            int64_t host_id,
                                            const struct gm_bench_meta *meta,
                                            int64_t *bench_id);
/* Finds a bench by name, or (name NULL) the newest that is not complete.
 * GM_ERR_NOT_FOUND when none. */
GM_API enum gm_status gm_store_bench_find(struct gm_store *st, const char *name,
                                          struct gm_bench_info *out);
GM_API void gm_bench_info_clear(struct gm_bench_info *b);
GM_API enum gm_status gm_store_bench_set_status(struct gm_store *st,
                                                int64_t bench_id,
                                                const char *status);
GM_API enum gm_status gm_store_bench_set_idle(struct gm_store *st,
                                              int64_t bench_id,
                                              int64_t baseline_id);

struct gm_bench_model {
  const char *model;
  int64_t params, trainable_params, param_bytes, buffer_bytes, size_bytes;
  int64_t macs;
  double macs_per_param;
};
GM_API enum gm_status gm_store_bench_put_model(struct gm_store *st,
                                               int64_t bench_id,
                                               const struct gm_bench_model *m);

/* One component's share of a phase. */
struct gm_bench_component {
  const char *name, *kind, *provenance; /* "cpu", "cpu", "modelled" */
  bool in_total;
  double energy_j, net_energy_j, avg_power_w, peak_power_w;
};

struct gm_bench_phase {
  const char *model;
  int batch_size;
  const char *precision; /* "fp32", "bf16" (gm_nn_precision_name); NULL:
                            "fp32" */
  const char *kind;      /* "train", "infer" */
  int epoch;             /* the epoch trained, or after which inference ran */
  bool metered;
  int64_t run_id; /* the meter's run holding the time series; 0: none */
  int phase_idx;
  double start_s, duration_s;
  int64_t steps, samples;
  double loss, accuracy, lr; /* NAN: not applicable */
  /* totals over in_total components (NAN when unmetered) */
  double energy_j, net_energy_j, avg_power_w, peak_power_w;
  const char *provenance; /* "measured", "modelled" or "mixed" */
  double cpu_util_pct, dram_used_bytes, gpu_util_pct, vram_used_bytes;
  size_t n_components;
  const struct gm_bench_component *components;
  /* Where the cell ran, as a JSON object ("{\"slurm_job_id\":\"42\"}":
   * gm_study_config.run_tags), stored with every row, metered or not;
   * NULL: nothing. */
  const char *tags_json;
};

/* Writes the phase and its components and commits (together with any
 * samples pending on this handle). GM_ERR_STATE when the row exists. */
GM_API enum gm_status gm_store_bench_add_phase(struct gm_store *st,
                                               int64_t bench_id,
                                               const struct gm_bench_phase *p);
/* Whether the phase row exists. */
GM_API enum gm_status
gm_store_bench_has_phase(struct gm_store *st, int64_t bench_id,
                         const char *model, int batch_size,
                         const char *precision, const char *kind, int epoch,
                         bool metered, bool *exists);

/* A prediction from a short profile, and its error once the full run is
 * measured (actual_* NAN until then). */
struct gm_bench_prediction {
  const char *model;
  int batch_size;
  const char *precision; /* NULL: "fp32" */
  const char *kind;      /* "train" (all epochs) or "infer" (all passes) */
  double profile_epochs;
  int64_t profile_steps, target_steps, target_samples;
  double level; /* of the intervals, e.g. 0.95 */
  double duration_s, duration_lo_s, duration_hi_s;
  double energy_j, energy_lo_j, energy_hi_j, net_energy_j;
  const char *provenance;
  double actual_duration_s, actual_energy_j;
};
/* Inserts or replaces; the errors are computed from the actual values. */
GM_API enum gm_status
gm_store_bench_put_prediction(struct gm_store *st, int64_t bench_id,
                              const struct gm_bench_prediction *p);

/* ---- merging -------------------------------------------------------------
 * Several hosts measure into separate stores; gm_store_merge copies one
 * store into another so that the queries see every host. Every store has
 * an id of its own (schema 7: a random 128-bit id, kept by copies of the
 * file) and every run, idle baseline and bench the id of the store it was
 * first written to and its id there, which travel with each copy: a row
 * already present, however it came (merged twice, or through another
 * store), is never copied again. Hosts are matched by fingerprint. */

/* The renamed benches gm_store_merge_result lists. */
#define GM_STORE_MERGE_RENAMES_MAX 8

struct gm_store_merge_rename {
  char from[128]; /* the name in the input */
  char to[256];   /* the name in the output: "NAME@FINGERPRINT" */
};

/* What one gm_store_merge did. */
struct gm_store_merge_result {
  char input_uid[40];               /* the input store's id */
  int input_schema;                 /* the input's schema version */
  size_t hosts_added;               /* fingerprints the output did not know */
  size_t hosts_matched;             /* fingerprints it knew */
  size_t runs_copied, runs_skipped; /* skipped: already present */
  size_t baselines_copied, baselines_skipped;
  size_t benches_copied, benches_skipped;
  /* A bench whose name the output holds with another origin (two hosts
   * that both kept the default --run-id) is copied as NAME@FINGERPRINT,
   * FINGERPRINT its host's (and "#ORIGIN" after that when this is taken
   * too); the first GM_STORE_MERGE_RENAMES_MAX are listed. */
  size_t benches_renamed;
  size_t n_renames;
  struct gm_store_merge_rename renames[GM_STORE_MERGE_RENAMES_MAX];
  uint64_t samples_copied;        /* rows of samples: a tick of a component */
  uint64_t metric_samples_copied; /* rows of metric samples */
};

/* Copies into out everything the store at in_location holds that out does
 * not hold yet: hosts, runs with their components, metrics, samples, phases
 * and missing components, idle baselines, benches with their rows; every
 * id is the output's (a bench phase points at the copied run). One
 * transaction: on error out is left as it was. The input is opened as
 * gm_store_open_readonly opens a store (nothing of it is written; an older
 * schema is read as it is). *res (required) is filled, zeroed on error.
 * GM_ERR_STATE: out is read-only; GM_ERR_NOT_FOUND: no store at
 * in_location; GM_ERR_INVALID_ARG: in_location is out's file (also by
 * another path or a link) or not a database file; GM_ERR_SCHEMA_NEWER,
 * GM_ERR_PARSE: the input is refused as gm_store_open refuses it, before
 * anything is written, and left untouched; GM_ERR_PARSE too when the input
 * cannot be read midway (a damaged file); GM_ERR_UNSUPPORTED: out's kind
 * cannot be merged into, or the input's merged from
 * (gm_store_merge_kinds); GM_ERR_DATABASE: out cannot be written (or
 * stayed locked longer than the lock wait, which also bounds the wait for
 * another merge into the same PostgreSQL database). The message is out's.
 * The inputs are SQLite stores; the output SQLite or PostgreSQL: the
 * same rows give the same queries in both. */
GM_API enum gm_status gm_store_merge(struct gm_store *out,
                                     const char *in_location,
                                     struct gm_store_merge_result *res);

/* Whether st's kind of store can be an input of gm_store_merge (from) and
 * its output (into); either may be NULL. */
GM_API void gm_store_merge_kinds(const struct gm_store *st, bool *from,
                                 bool *into);

/* ---- queries -------------------------------------------------------------
 * Tables of plain structs, owned by the caller and freed with their *_free
 * (NULL is a no-op); strings inside are owned by the table. A value the
 * store does not hold is NAN (numbers) or "" (text). */

/* One run as `greenml runs` lists it. */
struct gm_store_run {
  int64_t id;
  int64_t host_id;
  char hostname[128];   /* the host's, "" when unknown */
  char fingerprint[72]; /* the host's key (gm_host.fingerprint) */
  char started_at[32];  /* UTC, ISO 8601 */
  char kind[16];        /* "measure", "idle" */
  bool complete; /* false: greenml died before the summary, or samples were
                    lost (incomplete_cause) */
  /* An incomplete run has what its stored samples account for: the time of
   * its last sample and, per in-total component, the last cumulative energy
   * (0 when it has none). */
  double duration_s;
  double energy_j;     /* gross total over the in-total components */
  double net_energy_j; /* NAN: no baseline, or incomplete */
  bool has_exit_code;
  int exit_code;          /* the measured command's */
  const char *command;    /* NULL: none */
  const char *provenance; /* of the total, by energy.h's rule: "measured",
                             "modelled", "mixed" or "none"; static */
  /* Why an incomplete run's samples are not all stored (NULL: none recorded,
   * as when greenml was killed), how many were lost (-1: not recorded), and
   * the time up to which every sample is stored (NAN: not recorded). */
  const char *incomplete_cause;
  int64_t lost_samples;
  double stored_until_s;
  /* The total lacks a component that belongs in it (one missing, or lost
   * during the run: gm_energy_total.partial); false in schemas before 5. */
  bool partial;
  /* What the measured command was charged (schema 6): to whom ("process
   * tree of pid N"; NULL: not attributed), gross and net energy (NAN: not
   * attributed / no net), its provenance ("attributed by CPU-time share",
   * ...; NULL: not attributed) and whether it is a lower bound. */
  const char *attributed_to;
  double attributed_j, attributed_net_j;
  const char *attributed_provenance;
  bool attributed_partial;
};

struct gm_store_run_filter {
  size_t limit; /* the newest runs only; 0: every run */
};

struct gm_store_run_list {
  size_t n;
  struct gm_store_run *runs; /* newest first */
};

/* The runs of the store, newest first (filter NULL: every run). */
GM_API enum gm_status
gm_store_list_runs(struct gm_store *st,
                   const struct gm_store_run_filter *filter,
                   struct gm_store_run_list **out);
GM_API void gm_store_run_list_free(struct gm_store_run_list *l);

/* A bench as stored, with its host's name and CPU. */
struct gm_store_bench {
  int64_t id, host_id;
  int64_t idle_baseline_id; /* 0: none */
  char name[128];
  char status[16]; /* "running", "interrupted", "failed", "complete" */
  char created_at[32], updated_at[32];
  char hostname[128], cpu_model[128]; /* from the hosts table */
  /* as gm_bench_meta gave them; NULL: none */
  const char *config_json, *versions_json, *host_json;
};

/* A model's characteristics in a bench (gm_bench_model). */
struct gm_store_bench_model {
  int64_t bench_id;
  char model[64];
  int64_t params, trainable_params, param_bytes, buffer_bytes, size_bytes;
  int64_t macs;
  double macs_per_param;
};

/* One component's share of a phase (gm_bench_component). */
struct gm_store_phase_component {
  char name[48], kind[16], provenance[16];
  bool in_total;
  double energy_j, net_energy_j, avg_power_w, peak_power_w;
};

/* A phase row (gm_bench_phase) with what the store derived from it. */
struct gm_store_bench_phase {
  int64_t bench_id;
  char model[64];
  int batch_size;
  char precision[8]; /* "fp32", "bf16" */
  char kind[16];
  int epoch;
  bool metered;
  int64_t run_id; /* 0: none */
  int phase_idx;  /* -1: none */
  char ended_at[32];
  double start_s, duration_s;
  int64_t steps, samples;
  double step_time_s, samples_per_s;
  double loss, accuracy, lr;
  double energy_j, net_energy_j, j_per_sample, net_j_per_sample;
  double avg_power_w, peak_power_w;
  char provenance[16]; /* "" unmetered */
  double cpu_util_pct, dram_used_bytes, gpu_util_pct, vram_used_bytes;
  size_t n_components;
  const struct gm_store_phase_component *components; /* owned by the set */
  const char *tags_json; /* gm_bench_phase's; NULL: none (owned by the set) */
};

/* A prediction (gm_bench_prediction) with its stored errors. */
struct gm_store_bench_prediction {
  int64_t bench_id;
  char model[64];
  int batch_size;
  char precision[8];
  char kind[16];
  char made_at[32];
  double profile_epochs;
  int64_t profile_steps, target_steps, target_samples;
  double level;
  double duration_s, duration_lo_s, duration_hi_s;
  double energy_j, energy_lo_j, energy_hi_j, net_energy_j;
  char provenance[16];
  double actual_duration_s, actual_energy_j;
  double duration_error_rel, energy_error_rel;
};

struct gm_store_bench_filter {
  int64_t bench_id; /* 0: every bench */
  bool rows;        /* false: the benches alone, without their rows */
};

/* Benches and their rows, each array in recorded order (benches oldest
 * first; models, phases and predictions by bench, then as written). */
struct gm_store_bench_set {
  size_t n_benches;
  struct gm_store_bench *benches;
  size_t n_models;
  struct gm_store_bench_model *models;
  size_t n_phases;
  struct gm_store_bench_phase *phases;
  size_t n_predictions;
  struct gm_store_bench_prediction *predictions;
};

/* The benches selected by filter (NULL: every bench with its rows). A
 * bench_id that does not exist gives an empty set, not an error. */
GM_API enum gm_status
gm_store_load_benches(struct gm_store *st,
                      const struct gm_store_bench_filter *filter,
                      struct gm_store_bench_set **out);
GM_API void gm_store_bench_set_free(struct gm_store_bench_set *s);

/* A run's time series: its samples and metric samples, one row per tick.
 * Matrices are row-major: energy_j[row * n_components + c]. */
struct gm_store_series_component {
  char name[48], kind[16], provenance[16];
  bool in_total;
};

struct gm_store_series_metric {
  char name[64]; /* "cpu.util", "mem.used", "gpu0.util" */
  char unit[16]; /* "%", "B", "C", "MHz", "W", "s" */
};

struct gm_store_series {
  int64_t run_id;
  size_t n_rows, n_components, n_metrics;
  struct gm_store_series_component *components;
  struct gm_store_series_metric *metrics;
  int64_t *seq;
  double *t_s;      /* seconds since the run's start */
  double *energy_j; /* cumulative energy, J */
  double *power_w;  /* mean power over the interval ending at the tick, W */
  double *metric;   /* the metric's value, in its unit */
};

/* Run run_id's series; with columns_only its components and metrics alone
 * (n_rows 0). GM_ERR_NOT_FOUND when there is no such run. */
GM_API enum gm_status gm_store_load_series(struct gm_store *st, int64_t run_id,
                                           bool columns_only,
                                           struct gm_store_series **out);
GM_API void gm_store_series_free(struct gm_store_series *s);

/* A measured run's phases as stored by gm_store_finish_run, in order:
 * totals over the in-total components. */
struct gm_store_run_phase {
  int idx;
  char name[64];
  double start_s, duration_s;  /* since the run's start */
  double energy_j;             /* NAN: not recorded */
  double net_energy_j;         /* NAN: no baseline applied */
  bool ended_by_stop, partial; /* still open at the end; the total lacks a
                                  component (missing or lost) */
  /* the measured command's part of energy_j and its net (schema 6; NAN:
   * not attributed, or no baseline) */
  double attributed_j, attributed_net_j;
};

struct gm_store_run_phases {
  int64_t run_id;
  size_t n;
  struct gm_store_run_phase *phases;
  /* each component's share: the run's components in order, and the
   * matrices n x n_components, row-major (NAN: not recorded) */
  size_t n_components;
  char (*component)[48];
  double *component_energy_j, *component_net_energy_j;
};

/* Run run_id's phases (none for a run that had none, or one never
 * finished). GM_ERR_NOT_FOUND when there is no such run. *out is owned by
 * the caller: gm_store_run_phases_free. */
GM_API enum gm_status
gm_store_load_run_phases(struct gm_store *st, int64_t run_id,
                         struct gm_store_run_phases **out);
GM_API void gm_store_run_phases_free(struct gm_store_run_phases *p);

/* ---- study queries ----
 * What the study runner and `greenml bench` read back. Results are plain
 * arrays owned by the caller. */

/* The flags a bench was started with (its configuration's "argv"), in
 * order. Free with gm_bench_flags_clear. GM_ERR_NOT_FOUND: no such bench;
 * GM_ERR_PARSE: its configuration is not JSON. */
struct gm_bench_flags {
  size_t n;
  char **flags; /* n strings, owned */
};
GM_API enum gm_status gm_store_bench_flags(struct gm_store *st,
                                           int64_t bench_id,
                                           struct gm_bench_flags *out);
GM_API void gm_bench_flags_clear(struct gm_bench_flags *f);

/* The work recorded per phase kind: the sum of samples x the model's MACs
 * per sample. *rows (n of them) is owned by the caller: free(). */
struct gm_bench_work {
  char kind[24]; /* "train", "infer", "profile-train", "profile-infer" */
  double sample_macs;
};
GM_API enum gm_status gm_store_bench_work(struct gm_store *st, int64_t bench_id,
                                          struct gm_bench_work **rows,
                                          size_t *n);

/* The metered phases per (model, batch size, precision, kind), in the order
 * they were first recorded: means per phase. *rows is owned by the caller:
 * free(). */
struct gm_bench_summary_row {
  char model[64];
  int batch_size;
  char precision[8];
  char kind[24];
  int phases;
  double duration_s, energy_j, net_energy_j; /* NAN: no value recorded */
  double j_per_sample, samples_per_s;
  char provenance[16]; /* the largest label ("mixed" > "modelled" > ...) */
};
GM_API enum gm_status gm_store_bench_summary(struct gm_store *st,
                                             int64_t bench_id,
                                             struct gm_bench_summary_row **rows,
                                             size_t *n);

/* Phases run both unmetered and metered (--overhead), per kind ("train"
 * first): their count and summed durations. *rows: free(). */
struct gm_bench_overhead_row {
  char kind[24];
  int phases;
  double unmetered_s, metered_s;
};
GM_API enum gm_status
gm_store_bench_overhead(struct gm_store *st, int64_t bench_id,
                        struct gm_bench_overhead_row **rows, size_t *n);

#endif
