/* study.c: what the study runner and `greenml bench` read back (the study
 * queries of greenml/store.h): a bench's stored flags, the work done, the
 * summary and the overhead tables. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

static void copy_text(char *dst, size_t size, sqlite3_stmt *s, int col) {
  const char *v = (const char *)sqlite3_column_text(s, col);
  gm__strlcpy(dst, v ? v : "", size);
}

static double column_real(sqlite3_stmt *s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL
             ? NAN
             : sqlite3_column_double(s, col);
}

/* Room for row n of `size` bytes in rows (cap rows allocated): the array,
 * moved if it had to grow, or NULL when out of memory (rows untouched). */
static void *grow(void *rows, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return rows;
  size_t c = *cap ? 2 * *cap : 16;
  void *p = realloc(rows, c * size);
  if (p)
    *cap = c;
  return p;
}

enum gm_status gm__sq_bench_flags(struct gm_store *st, int64_t bench_id,
                                  struct gm_bench_flags *out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT json_valid(config_json) FROM benches WHERE "
                         "id=?",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the bench's flags");
  sqlite3_bind_int64(s, 1, bench_id);
  int step = sqlite3_step(s);
  int valid = step == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
  sqlite3_finalize(s);
  if (step == SQLITE_DONE) {
    return gm__store_error(st, GM_ERR_NOT_FOUND, "no bench with id %lld",
                           (long long)bench_id);
  }
  if (step != SQLITE_ROW)
    return gm__sq_fail(st, "cannot read the bench's flags");
  if (!valid) {
    return gm__store_error(st, GM_ERR_PARSE,
                           "the configuration of bench %lld is not JSON",
                           (long long)bench_id);
  }
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT j.value FROM benches b, "
                         "json_each(b.config_json, '$.argv') j WHERE b.id=? "
                         "ORDER BY j.key",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the bench's flags");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    char **flags = grow(out->flags, &cap, out->n, sizeof(char *));
    if (flags)
      out->flags = flags;
    const char *v = (const char *)sqlite3_column_text(s, 0);
    char *dup = flags ? strdup(v ? v : "") : NULL;
    if (!dup) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    out->flags[out->n++] = dup;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the bench's flags");
  sqlite3_finalize(s);
  return rc;
}

enum gm_status gm__sq_bench_work(struct gm_store *st, int64_t bench_id,
                                 struct gm_bench_work **rows, size_t *n) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT p.kind, sum(p.samples * m.macs) FROM "
                         "bench_phases p JOIN bench_models m ON "
                         "m.bench_id = p.bench_id AND m.model = p.model "
                         "WHERE p.bench_id=? GROUP BY p.kind ORDER BY p.kind",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the work done");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_work *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_work *w = &grown[*n];
    memset(w, 0, sizeof(*w));
    copy_text(w->kind, sizeof(w->kind), s, 0);
    w->sample_macs = sqlite3_column_double(s, 1);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the work done");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}

enum gm_status gm__sq_bench_summary(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_summary_row **rows,
                                    size_t *n) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "SELECT model, batch_size, kind, count(*), avg(duration_s), "
          "avg(energy_j), avg(net_energy_j), avg(j_per_sample), "
          "avg(samples_per_s), group_concat(DISTINCT provenance), precision "
          "FROM bench_phases WHERE bench_id=? AND metered=1 GROUP BY model, "
          "batch_size, precision, kind ORDER BY min(rowid)",
          -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the summary");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_summary_row *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_summary_row *r = &grown[*n];
    memset(r, 0, sizeof(*r));
    copy_text(r->model, sizeof(r->model), s, 0);
    r->batch_size = sqlite3_column_int(s, 1);
    copy_text(r->kind, sizeof(r->kind), s, 2);
    r->phases = sqlite3_column_int(s, 3);
    r->duration_s = column_real(s, 4);
    r->energy_j = column_real(s, 5);
    r->net_energy_j = column_real(s, 6);
    r->j_per_sample = column_real(s, 7);
    r->samples_per_s = column_real(s, 8);
    copy_text(r->provenance, sizeof(r->provenance), s, 9);
    copy_text(r->precision, sizeof(r->precision), s, 10);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the summary");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}

enum gm_status gm__sq_bench_overhead(struct gm_store *st, int64_t bench_id,
                                     struct gm_bench_overhead_row **rows,
                                     size_t *n) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          gm__sq_db(st),
          "SELECT u.kind, sum(u.duration_s), sum(m.duration_s), count(*) "
          "FROM bench_phases u JOIN bench_phases m ON u.bench_id=m.bench_id "
          "AND u.model=m.model AND u.batch_size=m.batch_size AND "
          "u.precision=m.precision AND u.kind=m.kind AND u.epoch=m.epoch AND "
          "u.metered=0 AND m.metered=1 "
          "WHERE u.bench_id=? GROUP BY u.kind ORDER BY u.kind DESC",
          -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(st, "cannot read the overhead");
  sqlite3_bind_int64(s, 1, bench_id);
  size_t cap = 0;
  int step;
  enum gm_status rc = GM_OK;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct gm_bench_overhead_row *grown = grow(*rows, &cap, *n, sizeof(**rows));
    if (!grown) {
      rc = GM_ERR_NO_MEMORY;
      break;
    }
    *rows = grown;
    struct gm_bench_overhead_row *r = &grown[*n];
    memset(r, 0, sizeof(*r));
    copy_text(r->kind, sizeof(r->kind), s, 0);
    r->unmetered_s = sqlite3_column_double(s, 1);
    r->metered_s = sqlite3_column_double(s, 2);
    r->phases = sqlite3_column_int(s, 3);
    (*n)++;
  }
  if (rc == GM_OK && step != SQLITE_DONE)
    rc = gm__sq_fail(st, "cannot read the overhead");
  sqlite3_finalize(s);
  if (rc != GM_OK) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}
