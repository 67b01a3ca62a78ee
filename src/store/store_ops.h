/* store_ops.h: THE store interface. One implementation per folder under
 * src/store/ (src/store/sqlite/), each exporting one
 * `const struct gm__store_ops`; registry.c is the only file that lists
 * them. The public functions of greenml/store.h (store.c, bench.c,
 * query.c) check their arguments and the read-only mode, then dispatch
 * through the handle's ops; what is computed from stored values (totals,
 * provenance: energy.h) is computed there, once, for every implementation.
 *
 * Every op takes the handle: its state is st->impl and its messages go
 * into st->err (gm__store_error). Ops never print and never exit.
 */
#ifndef GM_STORE_OPS_H
#define GM_STORE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greenml/energy.h"
#include "greenml/store.h"

#define GM__STORE_API_VERSION 4

/* One sample waiting to be written (store.c's buffer); the arrays of s
 * point into the same allocation. */
struct gm__store_sample {
  int64_t run_id;
  bool prefix;  /* no sample of its run is missing before it */
  size_t bytes; /* what it takes from GM_STORE_PENDING_MAX_BYTES */
  struct gm_sample s;
};

/* A run's samples on one handle (store.c). */
struct gm__store_tally {
  int64_t run_id;
  uint64_t next_seq;   /* the seq expected next */
  bool gap;            /* a sample of the run is missing: the samples
                          added from now on are not in the stored prefix */
  uint64_t meter_gaps; /* of pub.lost: missing seqs */
  struct gm_store_sample_tally pub;
};

/* What finish_run records about a run whose samples are not all stored. */
struct gm__store_loss {
  uint64_t lost;
  double stored_until_s; /* NAN: none is stored */
  const char *cause;
};

struct gm_store {
  const struct gm__store_ops *ops;
  void *impl; /* the implementation's state */
  bool read_only;
  double lock_wait_s; /* gm_store_set_lock_wait */
  /* The samples gm_store_add_sample buffered, oldest first, and the runs
   * they belong to (store.c). */
  struct gm__store_sample **pending;
  size_t n_pending, cap_pending, pending_bytes;
  struct gm__store_tally *tallies;
  size_t n_tallies, cap_tallies;
  int64_t locked_since_ns; /* when commits began to find the store locked by
                              another process; 0: they do not */
  char write_err[256];     /* why the last commit could not write; "" */
  bool last_locked;        /* the implementation's last failed write gave up on
                              another process's lock */
  char err[512];
};

/* One stored run before gm_store_list_runs accounts for it. */
struct gm__store_run_row {
  struct gm_store_run run; /* duration_s, energy_j: NAN when not stored */
  char *command;           /* owned; run.command points at it */
  char *incomplete_cause;  /* owned; run.incomplete_cause points at it */
  char *attributed_to, *attributed_provenance; /* owned; run.* point at them */
  double last_sample_s; /* time of the last sample; NAN: none */
  size_t n_parts;
  /* its components: provenance, in_total, and as gross_j the last stored
   * cumulative energy (0 without samples; not read for a complete run) */
  struct gm_energy_part *parts; /* owned */
};

struct gm__store_run_rows {
  size_t n;
  struct gm__store_run_row *rows; /* newest first */
};

struct gm__merge_source_ops;
struct gm__merge_sink_ops;

/* A row's precision as stored: NULL or "" is "fp32" (schema 9). */
static inline const char *gm__store_precision(const char *p) {
  return p && *p ? p : "fp32";
}

struct gm__store_ops {
  int api_version;       /* GM__STORE_API_VERSION */
  const char *name;      /* "sqlite": gm_store_kind */
  const char *scheme;    /* a location "SCHEME:REST" is this one's */
  const char *alias;     /* another scheme that is this one's, or NULL */
  const char *locations; /* for messages: "a file path, or sqlite:PATH" */
  bool paths;            /* a location without a scheme (a file path) is
                            this one's; the first such in the registry */

  /* Opens location (its scheme removed) into st->impl. read_only: nothing
   * is created, migrated or configured, and a missing store is
   * GM_ERR_NOT_FOUND. On error st->impl is left NULL. */
  enum gm_status (*open)(struct gm_store *st, const char *location,
                         bool read_only);
  void (*close)(struct gm_store *st); /* commits an open transaction */
  int (*schema_version)(struct gm_store *st);
  /* st->lock_wait_s changed (gm_store_set_lock_wait); optional. */
  void (*set_lock_wait)(struct gm_store *st);

  /* ---- writes: never called on a read-only handle ---- */
  enum gm_status (*put_host)(struct gm_store *st, const struct gm_host *h,
                             int64_t *host_id);
  enum gm_status (*begin_run)(
      struct gm_store *st, int64_t host_id, const struct gm_run_meta *meta,
      size_t n_components, const struct gm_component_info *components,
      size_t n_metrics, const struct gm_metric_info *metrics, int64_t *run_id);
  /* Every write waits up to st->lock_wait_s for another process's write
   * lock, then fails with GM_ERR_DATABASE and a message that says so;
   * write_samples waits wait_s instead. */
  /* Writes n samples (of any runs) in one transaction, all or none; sets
   * *locked when it gave up waiting for another process's lock. */
  enum gm_status (*write_samples)(struct gm_store *st, size_t n,
                                  struct gm__store_sample *const *samples,
                                  double wait_s, bool *locked);
  /* The record, and the run complete (loss NULL) or incomplete with the
   * loss. */
  enum gm_status (*finish_run)(struct gm_store *st, int64_t run_id,
                               const struct gm_run_result *res,
                               const struct gm_run_record *rec,
                               const struct gm__store_loss *loss);
  /* The loss alone, when finish_run could not write the record. */
  enum gm_status (*mark_incomplete)(struct gm_store *st, int64_t run_id,
                                    const struct gm__store_loss *loss);
  enum gm_status (*save_idle)(struct gm_store *st, int64_t host_id,
                              int64_t run_id, const struct gm_idle_baseline *b,
                              int64_t *baseline_id);
  /* The bench writes; bench.c has checked that the name or phase row is
   * new (and written the buffered samples first). */
  enum gm_status (*bench_create)(struct gm_store *st, int64_t host_id,
                                 const struct gm_bench_meta *meta,
                                 int64_t *bench_id);
  /* status NULL: only the baseline (0: none) changes; else the status. */
  enum gm_status (*bench_update)(struct gm_store *st, int64_t bench_id,
                                 const char *status, int64_t baseline_id);
  enum gm_status (*bench_put_model)(struct gm_store *st, int64_t bench_id,
                                    const struct gm_bench_model *m);
  enum gm_status (*bench_add_phase)(struct gm_store *st, int64_t bench_id,
                                    const struct gm_bench_phase *p);
  enum gm_status (*bench_put_prediction)(struct gm_store *st, int64_t bench_id,
                                         const struct gm_bench_prediction *p);

  /* ---- reads ---- */
  /* by_id: the baseline with id key; else the newest of host key.
   * GM_ERR_NOT_FOUND (message set) when there is none. */
  enum gm_status (*load_idle)(struct gm_store *st, int64_t key, bool by_id,
                              struct gm_idle_baseline **out);
  /* name NULL: the newest bench that is not complete. */
  enum gm_status (*bench_find)(struct gm_store *st, const char *name,
                               struct gm_bench_info *out);
  enum gm_status (*bench_has_phase)(struct gm_store *st, int64_t bench_id,
                                    const char *model, int batch_size,
                                    const char *precision, const char *kind,
                                    int epoch, bool metered, bool *exists);
  /* limit 0: every run. */
  enum gm_status (*list_runs)(struct gm_store *st, size_t limit,
                              struct gm__store_run_rows *out);
  /* Fills the zeroed *out; freed by gm_store_bench_set_free, also on error,
   * so every string it points at must come from gm__store_strdup. */
  enum gm_status (*load_benches)(struct gm_store *st,
                                 const struct gm_store_bench_filter *f,
                                 struct gm_store_bench_set *out);
  /* Fills the zeroed *out; freed by gm_store_series_free, also on error. */
  enum gm_status (*load_series)(struct gm_store *st, int64_t run_id,
                                bool columns_only, struct gm_store_series *out);
  /* Fills the zeroed *out; freed by gm_store_run_phases_free, also on
   * error. */
  enum gm_status (*load_run_phases)(struct gm_store *st, int64_t run_id,
                                    struct gm_store_run_phases *out);
  /* The study queries: each fills the zeroed outputs; the caller frees them
   * also on error. bench_summary's provenance lists the distinct labels of
   * the row's phases, comma-separated (bench.c reduces them). */
  enum gm_status (*bench_flags)(struct gm_store *st, int64_t bench_id,
                                struct gm_bench_flags *out);
  enum gm_status (*bench_work)(struct gm_store *st, int64_t bench_id,
                               struct gm_bench_work **rows, size_t *n);
  enum gm_status (*bench_summary)(struct gm_store *st, int64_t bench_id,
                                  struct gm_bench_summary_row **rows,
                                  size_t *n);
  enum gm_status (*bench_overhead)(struct gm_store *st, int64_t bench_id,
                                   struct gm_bench_overhead_row **rows,
                                   size_t *n);

  /* ---- merging (src/store/merge.c; both optional) ----
   * gm_store_merge reads an input through its merge_source and writes the
   * output through its merge_sink: an implementation with a source can be
   * merged from, one with a sink into. */
  const struct gm__merge_source_ops *merge_source;
  const struct gm__merge_sink_ops *merge_sink;
  /* The location for messages (a password removed). */
  const char *(*where)(struct gm_store *st);
};

/* ---- merging --------------------------------------------------------------
 * gm_store_merge (src/store/merge.c) copies an input store's rows into the
 * output: hosts matched by fingerprint, runs, baselines and benches found by
 * their origin, every id the output's. It reads the input through the
 * input's merge_source, in one snapshot, and writes through the output's
 * merge_sink, in one transaction; the rules are merge.c's alone. A table's
 * columns are those of the output the input has too. Values cross as
 * struct gm__mv; a source's text stays valid until its cursor's next row. */
enum gm__mv_type { GM__MV_NULL, GM__MV_INT, GM__MV_REAL, GM__MV_TEXT };

struct gm__mv {
  enum gm__mv_type type;
  int64_t i;
  double d;
  const char *s;
};

#define GM__MERGE_COLUMNS_MAX 96
#define GM__MERGE_NAME_SIZE 64
#define GM__MERGE_TEXT_SIZE 128

struct gm__merge_columns {
  int n;
  char name[GM__MERGE_COLUMNS_MAX][GM__MERGE_NAME_SIZE];
};

/* The input's side. Failures set the input's message (st->err). */
struct gm__merge_source_ops {
  /* Starts / ends the snapshot every read of one merge is taken in. */
  enum gm_status (*begin)(struct gm_store *in);
  void (*end)(struct gm_store *in);
  /* The store's id (store_meta.db_uid), or for an older schema the one
   * its migration will give it, or "" when it will get a new one. */
  enum gm_status (*uid)(struct gm_store *in, char *out, size_t size);
  bool (*has_table)(struct gm_store *in, const char *table);
  bool (*has_column)(struct gm_store *in, const char *table, const char *col);
  /* A cursor over the columns cols[n] (a NULL name: SQL NULL) of the
   * table's rows in the order they were stored; key (or NULL: every row):
   * only those whose column key equals rows_start's value. */
  enum gm_status (*rows_open)(struct gm_store *in, const char *table, int n,
                              const char *const *cols, const char *key,
                              void **cur);
  enum gm_status (*rows_start)(void *cur, int64_t key);
  /* GM_OK with row[n] filled; GM_ERR_NOT_FOUND after the last row. */
  enum gm_status (*rows_next)(void *cur, struct gm__mv *row);
  void (*rows_close)(void *cur); /* accepts NULL */
};

/* The output's side: every call within begin .. commit or rollback.
 * Failures set the output's message (st->err). */
struct gm__merge_sink_ops {
  enum gm_status (*begin)(struct gm_store *out); /* the write transaction */
  enum gm_status (*commit)(struct gm_store *out);
  void (*rollback)(struct gm_store *out);
  enum gm_status (*uid)(struct gm_store *out, char *buf, size_t size);
  /* The table's columns, in the output's order. */
  enum gm_status (*columns)(struct gm_store *out, const char *table,
                            struct gm__merge_columns *c);
  /* A prepared INSERT INTO table(cols[n]); insert gives the new row's id
   * when the table has one (with_id). */
  enum gm_status (*insert_open)(struct gm_store *out, const char *table, int n,
                                const char *const *cols, bool with_id,
                                void **stmt);
  /* A statement without with_id may keep the rows and write them in
   * batches: every row is written once insert_flush has returned GM_OK
   * (optional: NULL when insert writes at once). */
  enum gm_status (*insert)(void *stmt, const struct gm__mv *vals, int64_t *id);
  enum gm_status (*insert_flush)(void *stmt);
  void (*insert_close)(void *stmt); /* accepts NULL; drops unwritten rows */
  /* The first row of table whose columns where[n] equal vals (a NULL
   * value: IS NULL): *found, its id, and the text of ret[n_ret] into
   * got[i] ("" when NULL). */
  enum gm_status (*find)(struct gm_store *out, const char *table, int n,
                         const char *const *where, const struct gm__mv *vals,
                         int n_ret, const char *const *ret,
                         char (*got)[GM__MERGE_TEXT_SIZE], int64_t *id,
                         bool *found);
  /* UPDATE table SET cols[n]=vals WHERE id=id. */
  enum gm_status (*update)(struct gm_store *out, const char *table, int64_t id,
                           int n, const char *const *cols,
                           const struct gm__mv *vals);
  /* Optional: whether in (of this implementation) is out itself. */
  bool (*same)(struct gm_store *out, struct gm_store *in);
};

/* merge.c: in into out, *res zeroed by the caller. */
enum gm_status gm__store_merge(struct gm_store *out, struct gm_store *in,
                               struct gm_store_merge_result *res);

/* The registry: every implementation, the default for paths first. */
extern const struct gm__store_ops *const gm__stores[];
extern const size_t gm__store_count;

/* The implementations (one per folder). */
extern const struct gm__store_ops gm__store_sqlite;
extern const struct gm__store_ops gm__store_postgres;

/* Formats st->err; returns rc. */
enum gm_status gm__store_error(struct gm_store *st, enum gm_status rc,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* GM_OK when st may write; GM_ERR_STATE (message set) when it was opened
 * read-only; GM_ERR_INVALID_ARG for NULL. */
enum gm_status gm__store_writable(struct gm_store *st);

/* "sqlite (a file path, or sqlite:PATH)": what the registry serves, for
 * messages. */
void gm__store_supported(char *buf, size_t size);

/* The bench set's components and JSON texts live in its private storage;
 * these helpers keep them there (bench set only). NULL for NULL, and on
 * out-of-memory (*oom set). */
const char *gm__store_strdup(struct gm_store_bench_set *set, const char *s,
                             bool *oom);
/* Appends n components to the set's storage; returns the first, or NULL
 * when out of memory. Earlier pointers stay valid. */
struct gm_store_phase_component *
gm__store_components(struct gm_store_bench_set *set, size_t n);

#endif
