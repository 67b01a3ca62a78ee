/* sqlite.h: the SQLite store's state and the helpers its files share. The
 * files: schema.c (the ops table, open, schema and migrations), check.c
 * (what a file is, read before SQLite opens it), runs.c (hosts, runs,
 * samples), idle.c (baselines), bench.c (the study runner's rows), query.c
 * (the reads of greenml/store.h's queries), study.c (the study queries).
 * The only SQL of greenml is in this folder. */
#ifndef GM_STORE_SQLITE_H
#define GM_STORE_SQLITE_H

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/util.h"
#include "store/store_ops.h"

/* PRAGMA application_id of greenml's databases ("GrML"), set by every
 * migration: a database with another one is another program's. */
#define GM__SQ_APPLICATION_ID 0x47724d4c

/* The most rows one statement inserts into samples or metric_samples: a
 * batch's rows go in statements of this many (runs.c), which costs about
 * a third less than a statement a row. */
#define GM__SQ_ROWS_MAX 32

struct gm__sqlite {
  sqlite3 *db;
  bool in_tx; /* a write transaction is open */
  /* [n] inserts n rows into samples, metric_samples; [1] is prepared when
   * the store opens, the others when first needed; all NULL when
   * read-only */
  sqlite3_stmt *ins_samples[GM__SQ_ROWS_MAX + 1];
  sqlite3_stmt *ins_metrics[GM__SQ_ROWS_MAX + 1];
  int version;   /* schema version (user_version) */
  double wait_s; /* the busy timeout set on db: how long a statement waits
                    for another process's lock */
  char *path;    /* the file, for messages */
};

static inline struct gm__sqlite *gm__sq(struct gm_store *st) {
  return (struct gm__sqlite *)st->impl;
}

static inline sqlite3 *gm__sq_db(struct gm_store *st) { return gm__sq(st)->db; }

/* Sets how long statements wait for another process's lock. */
static inline void gm__sq_set_wait(struct gm_store *st, double wait_s) {
  gm__sq(st)->wait_s = wait_s;
  sqlite3_busy_timeout(gm__sq_db(st), (int)(wait_s * 1000 + 0.5));
}

/* Whether the last error was another process's lock. */
static inline bool gm__sq_locked(struct gm_store *st) {
  int e = sqlite3_errcode(gm__sq_db(st));
  return e == SQLITE_BUSY || e == SQLITE_LOCKED;
}

/* GM_ERR_DATABASE with "what: <why>": SQLite's message (with what a failed
 * write means), or the lock and how long it was waited for. msg: SQLite's
 * message when it came from sqlite3_exec, else NULL. */
static inline enum gm_status
gm__sq_fail_msg(struct gm_store *st, const char *what, const char *msg) {
  sqlite3 *db = gm__sq_db(st);
  st->last_locked = gm__sq_locked(st);
  if (st->last_locked)
    return gm__store_error(st, GM_ERR_DATABASE,
                           "%s: the database '%s' is locked by another "
                           "process (waited %g s)",
                           what, gm__sq(st)->path ? gm__sq(st)->path : "",
                           gm__sq(st)->wait_s);
  int e = sqlite3_extended_errcode(db);
  if (e == SQLITE_IOERR_WRITE || e == SQLITE_IOERR_FSYNC)
    return gm__store_error(st, GM_ERR_DATABASE,
                           "%s: %s (a write to the file failed: a full disk, "
                           "or a file-size limit)",
                           what, msg ? msg : sqlite3_errmsg(db));
  return gm__store_error(st, GM_ERR_DATABASE, "%s: %s", what,
                         msg ? msg : sqlite3_errmsg(db));
}

static inline enum gm_status gm__sq_fail(struct gm_store *st,
                                         const char *what) {
  return gm__sq_fail_msg(st, what, NULL);
}

static inline void gm__sq_utc_now(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Binds text or NULL. */
static inline void gm__sq_bind_text(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

/* Binds a finite number, else NULL. */
static inline void gm__sq_bind_real(sqlite3_stmt *s, int i, double v) {
  if (isfinite(v))
    sqlite3_bind_double(s, i, v);
  else
    sqlite3_bind_null(s, i);
}

/* A REAL column, NAN when NULL. */
static inline double gm__sq_col_real(sqlite3_stmt *s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN
                                                  : sqlite3_column_double(s, i);
}

/* A TEXT column into dst, "" when NULL. */
static inline void gm__sq_col_text(sqlite3_stmt *s, int i, char *dst,
                                   size_t size) {
  const char *v = (const char *)sqlite3_column_text(s, i);
  gm__strlcpy(dst, v ? v : "", size);
}

static inline enum gm_status gm__sq_exec(struct gm_store *st, const char *sql,
                                         const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(gm__sq_db(st), sql, NULL, NULL, &msg) != SQLITE_OK) {
    gm__sq_fail_msg(st, what, msg ? msg : "?");
    sqlite3_free(msg);
    return GM_ERR_DATABASE;
  }
  return GM_OK;
}

/* Ends a failed write: the statement reset, the transaction rolled back. */
static inline void gm__sq_abort(struct gm_store *st, sqlite3_stmt *s) {
  if (s)
    sqlite3_reset(s);
  if (!sqlite3_get_autocommit(gm__sq_db(st)))
    sqlite3_exec(gm__sq_db(st), "ROLLBACK", NULL, NULL, NULL);
}

/* study.c */
enum gm_status gm__sq_bench_flags(struct gm_store *st, int64_t bench_id,
                                  struct gm_bench_flags *out);
enum gm_status gm__sq_bench_work(struct gm_store *st, int64_t bench_id,
                                 struct gm_bench_work **rows, size_t *n);
enum gm_status gm__sq_bench_summary(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_summary_row **rows,
                                    size_t *n);
enum gm_status gm__sq_bench_overhead(struct gm_store *st, int64_t bench_id,
                                     struct gm_bench_overhead_row **rows,
                                     size_t *n);

/* schema.c: the id migration 7 gives a database that already holds a host
 * (and a merge gives an input of an older schema): 32 hex digits from its
 * first host's fingerprint and first_seen. */
void gm__sq_derived_uid(const char *fingerprint, const char *first_seen,
                        char out[33]);

/* merge.c: the two sides of gm_store_merge */
extern const struct gm__merge_source_ops gm__sq_merge_source;
extern const struct gm__merge_sink_ops gm__sq_merge_sink;

/* Whether the open database has the table (an older schema may not). */
bool gm__sq_has_table(struct gm_store *st, const char *table);

/* check.c: what the file at path is, read with plain reads before SQLite
 * opens it (SQLite would recover a WAL, build a -shm index and checkpoint
 * on close). GM_OK when greenml may open it: absent or empty (read_only:
 * GM_ERR_NOT_FOUND when absent), a greenml database of a schema it knows,
 * or an SQLite file without schema. GM_ERR_SCHEMA_NEWER for a newer schema,
 * GM_ERR_PARSE for another program's SQLite database or a file that is not
 * SQLite, GM_ERR_IO when it cannot be read; the message says it was left
 * untouched. known: the schema versions this greenml knows. */
enum gm_status gm__sq_check_file(struct gm_store *st, const char *path,
                                 int known);

/* runs.c */
enum gm_status gm__sq_put_host(struct gm_store *st, const struct gm_host *h,
                               int64_t *host_id);
enum gm_status
gm__sq_begin_run(struct gm_store *st, int64_t host_id,
                 const struct gm_run_meta *meta, size_t n_components,
                 const struct gm_component_info *components, size_t n_metrics,
                 const struct gm_metric_info *metrics, int64_t *run_id);
enum gm_status gm__sq_write_samples(struct gm_store *st, size_t n,
                                    struct gm__store_sample *const *samples,
                                    double wait_s, bool *locked);
/* Commits the open transaction (bench.c's rows), if any. */
enum gm_status gm__sq_commit(struct gm_store *st);
/* Prepares the sample inserts of a store opened read-write (at open);
 * finalizes all of them. */
enum gm_status gm__sq_prepare_inserts(struct gm_store *st);
void gm__sq_finalize_inserts(struct gm_store *st);
enum gm_status gm__sq_finish_run(struct gm_store *st, int64_t run_id,
                                 const struct gm_run_result *res,
                                 const struct gm_run_record *rec,
                                 const struct gm__store_loss *loss);
enum gm_status gm__sq_mark_incomplete(struct gm_store *st, int64_t run_id,
                                      const struct gm__store_loss *loss);

/* idle.c */
enum gm_status gm__sq_save_idle(struct gm_store *st, int64_t host_id,
                                int64_t run_id,
                                const struct gm_idle_baseline *b,
                                int64_t *baseline_id);
enum gm_status gm__sq_load_idle(struct gm_store *st, int64_t key, bool by_id,
                                struct gm_idle_baseline **out);

/* bench.c */
enum gm_status gm__sq_bench_create(struct gm_store *st, int64_t host_id,
                                   const struct gm_bench_meta *meta,
                                   int64_t *bench_id);
enum gm_status gm__sq_bench_update(struct gm_store *st, int64_t bench_id,
                                   const char *status, int64_t baseline_id);
enum gm_status gm__sq_bench_put_model(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_model *m);
enum gm_status gm__sq_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_phase *p);
enum gm_status gm__sq_bench_put_prediction(struct gm_store *st,
                                           int64_t bench_id,
                                           const struct gm_bench_prediction *p);
enum gm_status gm__sq_bench_find(struct gm_store *st, const char *name,
                                 struct gm_bench_info *out);
enum gm_status gm__sq_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                      const char *model, int batch_size,
                                      const char *precision, const char *kind,
                                      int epoch, bool metered, bool *exists);

/* query.c */
enum gm_status gm__sq_load_run_phases(struct gm_store *st, int64_t run_id,
                                      struct gm_store_run_phases *out);
enum gm_status gm__sq_list_runs(struct gm_store *st, size_t limit,
                                struct gm__store_run_rows *out);
enum gm_status gm__sq_load_benches(struct gm_store *st,
                                   const struct gm_store_bench_filter *f,
                                   struct gm_store_bench_set *out);
enum gm_status gm__sq_load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_store_series *out);

#endif
