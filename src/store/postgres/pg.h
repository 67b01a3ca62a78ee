/* pg.h: the PostgreSQL store's state and the helpers its files share. The
 * files: schema.c (the ops table, connecting, the schema and its version),
 * writes.c (hosts, runs, samples, baselines, the bench rows), reads.c (the
 * queries of greenml/store.h and the study queries). Every statement is
 * sent with its values as parameters (text format); the sample inserts are
 * prepared once per connection. Values come back as text: a NULL number
 * reads as NAN, as the SQLite store reads it. */
#ifndef GM_STORE_POSTGRES_H
#define GM_STORE_POSTGRES_H

#include <libpq-fe.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "base/util.h"
#include "store/store_ops.h"

/* libpq is loaded at run time (dlopen "libpq.so.5", as NVML is), so that
 * libgreenml links neither libpq nor what libpq brings (OpenSSL, Kerberos,
 * LDAP) and a program that never opens a postgresql:// store never loads
 * them; the header is needed only to build. Every PQ function used here
 * goes through this table, filled once by gm__pq_load. */
struct gm__pq_fns {
  __typeof__(PQclear) *PQclear;
  __typeof__(PQconnectdb) *PQconnectdb;
  __typeof__(PQconnectdbParams) *PQconnectdbParams;
  __typeof__(PQconninfoFree) *PQconninfoFree;
  __typeof__(PQconninfoParse) *PQconninfoParse;
  __typeof__(PQerrorMessage) *PQerrorMessage;
  __typeof__(PQescapeIdentifier) *PQescapeIdentifier;
  __typeof__(PQexec) *PQexec;
  __typeof__(PQexecParams) *PQexecParams;
  __typeof__(PQexecPrepared) *PQexecPrepared;
  __typeof__(PQfinish) *PQfinish;
  __typeof__(PQfreemem) *PQfreemem;
  __typeof__(PQgetisnull) *PQgetisnull;
  __typeof__(PQgetvalue) *PQgetvalue;
  __typeof__(PQntuples) *PQntuples;
  __typeof__(PQprepare) *PQprepare;
  __typeof__(PQresultErrorField) *PQresultErrorField;
  __typeof__(PQresultErrorMessage) *PQresultErrorMessage;
  __typeof__(PQresultStatus) *PQresultStatus;
  __typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
  __typeof__(PQstatus) *PQstatus;
  __typeof__(PQtransactionStatus) *PQtransactionStatus;
};
extern struct gm__pq_fns gm__pq;

/* Loads libpq and every function above, once. GM_OK, or
 * GM_ERR_UNAVAILABLE with why (what is missing and how to install it). */
enum gm_status gm__pq_load(char *why, size_t why_size);

#define PQclear (gm__pq.PQclear)
#define PQconnectdb (gm__pq.PQconnectdb)
#define PQconnectdbParams (gm__pq.PQconnectdbParams)
#define PQconninfoFree (gm__pq.PQconninfoFree)
#define PQconninfoParse (gm__pq.PQconninfoParse)
#define PQerrorMessage (gm__pq.PQerrorMessage)
#define PQescapeIdentifier (gm__pq.PQescapeIdentifier)
#define PQexec (gm__pq.PQexec)
#define PQexecParams (gm__pq.PQexecParams)
#define PQexecPrepared (gm__pq.PQexecPrepared)
#define PQfinish (gm__pq.PQfinish)
#define PQfreemem (gm__pq.PQfreemem)
#define PQgetisnull (gm__pq.PQgetisnull)
#define PQgetvalue (gm__pq.PQgetvalue)
#define PQntuples (gm__pq.PQntuples)
#define PQprepare (gm__pq.PQprepare)
#define PQresultErrorField (gm__pq.PQresultErrorField)
#define PQresultErrorMessage (gm__pq.PQresultErrorMessage)
#define PQresultStatus (gm__pq.PQresultStatus)
#define PQsetNoticeProcessor (gm__pq.PQsetNoticeProcessor)
#define PQstatus (gm__pq.PQstatus)
#define PQtransactionStatus (gm__pq.PQtransactionStatus)

/* The key of the transaction-scoped advisory lock that serialises the
 * creation of greenml's tables ("GrML", as the SQLite store's
 * application_id). */
#define GM__PG_LOCK_KEY 0x47724d4c

/* The most parameters one statement takes here. */
#define GM__PG_PARAMS_MAX 32

struct gm__pg {
  PGconn *conn;
  int version;     /* schema version; 0: no greenml tables (read-only) */
  bool prepared;   /* the sample inserts are prepared on conn */
  char where[256]; /* the location without its password, for messages */
};

static inline struct gm__pg *gm__pg(struct gm_store *st) {
  return (struct gm__pg *)st->impl;
}

static inline PGconn *gm__pg_conn(struct gm_store *st) {
  return gm__pg(st)->conn;
}

/* The values of one statement's parameters, as text (NULL: SQL NULL). */
struct gm__pg_params {
  int n;
  const char *v[GM__PG_PARAMS_MAX];
  char buf[GM__PG_PARAMS_MAX][40];
};

static inline void gm__pg_text(struct gm__pg_params *p, const char *v) {
  if (p->n < GM__PG_PARAMS_MAX)
    p->v[p->n++] = v;
}

static inline void gm__pg_int(struct gm__pg_params *p, int64_t v) {
  if (p->n < GM__PG_PARAMS_MAX) {
    snprintf(p->buf[p->n], sizeof(p->buf[0]), "%lld", (long long)v);
    p->v[p->n] = p->buf[p->n];
    p->n++;
  }
}

/* An id, or NULL when it is not positive. */
static inline void gm__pg_id(struct gm__pg_params *p, int64_t v) {
  if (v > 0)
    gm__pg_int(p, v);
  else
    gm__pg_text(p, NULL);
}

/* Writes a double as PostgreSQL reads it back exactly. */
void gm__pg_fmt_double(char *buf, size_t size, double v);

/* A number stored as the SQLite store binds it: NULL for NAN. */
static inline void gm__pg_dbl(struct gm__pg_params *p, double v) {
  if (p->n >= GM__PG_PARAMS_MAX)
    return;
  if (isnan(v)) {
    p->v[p->n++] = NULL;
    return;
  }
  gm__pg_fmt_double(p->buf[p->n], sizeof(p->buf[0]), v);
  p->v[p->n] = p->buf[p->n];
  p->n++;
}

/* A finite number, else NULL (the SQLite store's gm__sq_bind_real). */
static inline void gm__pg_real(struct gm__pg_params *p, double v) {
  gm__pg_dbl(p, isfinite(v) ? v : NAN);
}

/* Runs sql with the parameters; the result (PQclear it) when it succeeded
 * (commands and queries), else NULL with the failure in st->err, prefixed
 * by what. */
PGresult *gm__pg_exec(struct gm_store *st, const char *sql,
                      const struct gm__pg_params *p, const char *what);
/* A statement without parameters or rows; GM_OK or GM_ERR_DATABASE. */
enum gm_status gm__pg_cmd(struct gm_store *st, const char *sql,
                          const char *what);
/* Ends a failed write's transaction, if one is open. */
void gm__pg_rollback(struct gm_store *st);
/* GM_ERR_DATABASE with "what: <why>" from r (NULL: the connection), and
 * st->last_locked set when it gave up waiting for another session's
 * lock. */
enum gm_status gm__pg_fail(struct gm_store *st, const char *what,
                           const PGresult *r);

/* Reads column c of row i. */
static inline bool gm__pg_isnull(const PGresult *r, int i, int c) {
  return PQgetisnull(r, i, c) != 0;
}
double gm__pg_get_real(const PGresult *r, int i, int c); /* NULL: NAN */
int64_t gm__pg_get_int(const PGresult *r, int i, int c); /* NULL: 0 */
/* Text into dst ("" when NULL). */
void gm__pg_get_text(const PGresult *r, int i, int c, char *dst, size_t size);
/* The text, or NULL when NULL. */
static inline const char *gm__pg_get_str(const PGresult *r, int i, int c) {
  return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

static inline void gm__pg_utc_now(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* writes.c */
enum gm_status gm__pg_prepare(struct gm_store *st);
enum gm_status gm__pg_put_host(struct gm_store *st, const struct gm_host *h,
                               int64_t *host_id);
enum gm_status
gm__pg_begin_run(struct gm_store *st, int64_t host_id,
                 const struct gm_run_meta *meta, size_t n_components,
                 const struct gm_component_info *components, size_t n_metrics,
                 const struct gm_metric_info *metrics, int64_t *run_id);
enum gm_status gm__pg_write_samples(struct gm_store *st, size_t n,
                                    struct gm__store_sample *const *samples,
                                    double wait_s, bool *locked);
enum gm_status gm__pg_finish_run(struct gm_store *st, int64_t run_id,
                                 const struct gm_run_result *res,
                                 const struct gm_run_record *rec,
                                 const struct gm__store_loss *loss);
enum gm_status gm__pg_mark_incomplete(struct gm_store *st, int64_t run_id,
                                      const struct gm__store_loss *loss);
enum gm_status gm__pg_save_idle(struct gm_store *st, int64_t host_id,
                                int64_t run_id,
                                const struct gm_idle_baseline *b,
                                int64_t *baseline_id);
enum gm_status gm__pg_bench_create(struct gm_store *st, int64_t host_id,
                                   const struct gm_bench_meta *meta,
                                   int64_t *bench_id);
enum gm_status gm__pg_bench_update(struct gm_store *st, int64_t bench_id,
                                   const char *status, int64_t baseline_id);
enum gm_status gm__pg_bench_put_model(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_model *m);
enum gm_status gm__pg_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                      const struct gm_bench_phase *p);
enum gm_status gm__pg_bench_put_prediction(struct gm_store *st,
                                           int64_t bench_id,
                                           const struct gm_bench_prediction *p);

/* merge.c: the output's side of gm_store_merge */
extern const struct gm__merge_sink_ops gm__pg_merge_sink;

/* reads.c */
enum gm_status gm__pg_load_idle(struct gm_store *st, int64_t key, bool by_id,
                                struct gm_idle_baseline **out);
enum gm_status gm__pg_bench_find(struct gm_store *st, const char *name,
                                 struct gm_bench_info *out);
enum gm_status gm__pg_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                      const char *model, int batch_size,
                                      const char *precision, const char *kind,
                                      int epoch, bool metered, bool *exists);
enum gm_status gm__pg_list_runs(struct gm_store *st, size_t limit,
                                struct gm__store_run_rows *out);
enum gm_status gm__pg_load_benches(struct gm_store *st,
                                   const struct gm_store_bench_filter *f,
                                   struct gm_store_bench_set *out);
enum gm_status gm__pg_load_series(struct gm_store *st, int64_t run_id,
                                  bool columns_only,
                                  struct gm_store_series *out);
enum gm_status gm__pg_load_run_phases(struct gm_store *st, int64_t run_id,
                                      struct gm_store_run_phases *out);
enum gm_status gm__pg_bench_flags(struct gm_store *st, int64_t bench_id,
                                  struct gm_bench_flags *out);
enum gm_status gm__pg_bench_work(struct gm_store *st, int64_t bench_id,
                                 struct gm_bench_work **rows, size_t *n);
enum gm_status gm__pg_bench_summary(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_summary_row **rows,
                                    size_t *n);
enum gm_status gm__pg_bench_overhead(struct gm_store *st, int64_t bench_id,
                                     struct gm_bench_overhead_row **rows,
                                     size_t *n);

#endif
