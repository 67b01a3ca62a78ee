/* merge.c: the PostgreSQL store as the output of gm_store_merge (the rules
 * are src/store/merge.c's): one transaction that first takes an advisory
 * lock, so that merges into one database from several hosts take turns
 * (two merges of the same input would otherwise both find its rows absent
 * and both copy them); the rows of a table with an id inserted one by one
 * (a prepared statement, for the id it returns), the others in batches;
 * every value sent as text, a number as the store writes it
 * (gm__pg_fmt_double: read back exactly). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/pg.h"

#define SQL_SIZE 8192
#define VALUE_SIZE 32

/* The advisory lock of merges: the schema's key, plus one. */
#define MERGE_LOCK_KEY (GM__PG_LOCK_KEY + 1)

/* Appends to buf "a, b" (or with assign from $first: "a=$1, b=$2"),
 * after a comma when buf is not empty. */
static void append_names(char *buf, size_t size, int n,
                         const char *const *names, int assign_from) {
  size_t len = strlen(buf);
  for (int i = 0; i < n && len < size; i++) {
    if (assign_from)
      len += (size_t)snprintf(buf + len, size - len, "%s%s=$%d",
                              len ? ", " : "", names[i], assign_from + i);
    else
      len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                              names[i]);
  }
}

/* The values as libpq's text parameters: v[i] points into buf[i], at the
 * source's text, or is NULL. */
struct texts {
  int n;
  const char **v;
  char (*buf)[VALUE_SIZE];
};

static bool texts_init(struct texts *t, int n) {
  t->n = n;
  t->v = calloc((size_t)(n ? n : 1), sizeof(*t->v));
  t->buf = calloc((size_t)(n ? n : 1), sizeof(*t->buf));
  return t->v && t->buf;
}

static void texts_free(struct texts *t) {
  free(t->v);
  free(t->buf);
}

static void texts_set(struct texts *t, int i, const struct gm__mv *v) {
  switch (v->type) {
  case GM__MV_INT:
    snprintf(t->buf[i], VALUE_SIZE, "%lld", (long long)v->i);
    t->v[i] = t->buf[i];
    break;
  case GM__MV_REAL:
    gm__pg_fmt_double(t->buf[i], VALUE_SIZE, v->d);
    t->v[i] = t->buf[i];
    break;
  case GM__MV_TEXT:
    t->v[i] = v->s;
    break;
  default:
    t->v[i] = NULL;
  }
}

/* Another merge into the database is waited for as long as any write
 * waits for a lock (gm_store_set_lock_wait). */
static enum gm_status begin(struct gm_store *out) {
  char sql[160];
  long ms = (long)(out->lock_wait_s * 1000 + 0.5);
  snprintf(sql, sizeof(sql),
           "BEGIN; SET LOCAL lock_timeout = %ld; SELECT "
           "pg_advisory_xact_lock(%d)",
           ms > 0 ? ms : 1, MERGE_LOCK_KEY);
  return gm__pg_cmd(out, sql, "begin");
}

static enum gm_status commit(struct gm_store *out) {
  return gm__pg_cmd(out, "COMMIT", "commit");
}

/* The transaction rolled back, and the statements insert_close could not
 * deallocate in it (an aborted transaction takes no command) after it. */
static void rollback(struct gm_store *out) {
  gm__pg_rollback(out);
  PGresult *r = PQexec(gm__pg_conn(out),
                       "SELECT name FROM pg_prepared_statements WHERE name "
                       "LIKE 'gm\\_merge\\_%'");
  for (int i = 0; r && PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r);
       i++) {
    char sql[96];
    snprintf(sql, sizeof(sql), "DEALLOCATE %.60s", PQgetvalue(r, i, 0));
    PQclear(PQexec(gm__pg_conn(out), sql));
  }
  PQclear(r);
}

static enum gm_status uid(struct gm_store *out, char *buf, size_t size) {
  PGresult *r = gm__pg_exec(out, "SELECT db_uid FROM store_meta WHERE id=1",
                            NULL, "store_meta");
  if (!r)
    return GM_ERR_DATABASE;
  buf[0] = '\0';
  if (PQntuples(r) == 1)
    gm__pg_get_text(r, 0, 0, buf, size);
  PQclear(r);
  if (!buf[0])
    return gm__store_error(out, GM_ERR_DATABASE,
                           "the database '%s' has no id in store_meta",
                           gm__pg(out)->where);
  return GM_OK;
}

static enum gm_status columns(struct gm_store *out, const char *table,
                              struct gm__merge_columns *c) {
  struct gm__pg_params p = {0};
  gm__pg_text(&p, table);
  PGresult *r = gm__pg_exec(out,
                            "SELECT column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND "
                            "table_name = $1 ORDER BY ordinal_position",
                            &p, "columns");
  if (!r)
    return GM_ERR_DATABASE;
  c->n = 0;
  enum gm_status rc = GM_OK;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *name = PQgetvalue(r, i, 0);
    if (c->n == GM__MERGE_COLUMNS_MAX || strlen(name) >= GM__MERGE_NAME_SIZE) {
      rc = gm__store_error(out, GM_ERR_DATABASE,
                           "the table %s has more or longer columns than a "
                           "merge copies",
                           table);
      break;
    }
    gm__strlcpy(c->name[c->n++], name, GM__MERGE_NAME_SIZE);
  }
  PQclear(r);
  return rc;
}

/* Rows of a table without an id are kept and written in batches of
 * multi-row INSERTs (a statement per row would cost a round trip each:
 * about 8,000 rows a second here, against some 100,000 batched). */
#define BATCH_ROWS 1000
#define BATCH_PARAMS 60000 /* below the protocol's 65,535 parameters */

struct insert {
  struct gm_store *st;
  char name[32]; /* the prepared statement's */
  bool with_id;
  struct texts t;
  /* batches (not with_id): the statement's head "INSERT INTO t(cols) ", the
   * rows kept (their values' text in arena, NULL as offset -1) */
  char *head;
  int max_rows, rows;
  char *arena;
  size_t arena_len, arena_cap;
  long *off; /* rows x n offsets into arena */
};

static enum gm_status insert_open(struct gm_store *out, const char *table,
                                  int n, const char *const *cols, bool with_id,
                                  void **stmt) {
  static unsigned serial;
  *stmt = NULL;
  struct insert *ins = calloc(1, sizeof(*ins));
  if (!ins || !texts_init(&ins->t, n)) {
    if (ins)
      texts_free(&ins->t);
    free(ins);
    return gm__store_error(out, GM_ERR_NO_MEMORY, "out of memory");
  }
  ins->st = out;
  ins->with_id = with_id;
  char names[4096] = "", sql[SQL_SIZE];
  append_names(names, sizeof(names), n, cols, 0);
  if (!with_id) {
    ins->max_rows = n ? BATCH_PARAMS / n : BATCH_ROWS;
    if (ins->max_rows > BATCH_ROWS)
      ins->max_rows = BATCH_ROWS;
    ins->off =
        calloc((size_t)ins->max_rows * (size_t)(n ? n : 1), sizeof(*ins->off));
    if (!ins->off ||
        asprintf(&ins->head, "INSERT INTO %s(%s) VALUES ", table, names) < 0) {
      free(ins->off);
      texts_free(&ins->t);
      free(ins);
      return gm__store_error(out, GM_ERR_NO_MEMORY, "out of memory");
    }
    *stmt = ins;
    return GM_OK;
  }
  snprintf(ins->name, sizeof(ins->name), "gm_merge_%u",
           __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
  size_t len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES (",
                                table, names);
  for (int i = 0; i < n && len < sizeof(sql); i++)
    len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s$%d",
                            i ? ", " : "", i + 1);
  if (len < sizeof(sql))
    snprintf(sql + len, sizeof(sql) - len, ") RETURNING id");
  PGresult *r = PQprepare(gm__pg_conn(out), ins->name, sql, n, NULL);
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
    enum gm_status rc = gm__pg_fail(out, table, r);
    PQclear(r);
    texts_free(&ins->t);
    free(ins);
    return rc;
  }
  PQclear(r);
  *stmt = ins;
  return GM_OK;
}

/* Writes the rows kept. */
static enum gm_status insert_flush(void *stmt) {
  struct insert *ins = stmt;
  if (ins->with_id || ins->rows == 0)
    return GM_OK;
  int n = ins->t.n, total = ins->rows * n;
  size_t size =
      strlen(ins->head) + (size_t)total * 9 + (size_t)ins->rows * 4 + 16;
  char *sql = malloc(size);
  const char **v = calloc((size_t)(total ? total : 1), sizeof(*v));
  if (!sql || !v) {
    free(sql);
    free(v);
    return gm__store_error(ins->st, GM_ERR_NO_MEMORY, "out of memory");
  }
  size_t len = (size_t)snprintf(sql, size, "%s", ins->head);
  for (int r = 0, k = 0; r < ins->rows; r++) {
    len += (size_t)snprintf(sql + len, size - len, "%s(", r ? ", " : "");
    for (int i = 0; i < n; i++, k++) {
      len +=
          (size_t)snprintf(sql + len, size - len, "%s$%d", i ? "," : "", k + 1);
      v[k] = ins->off[k] < 0 ? NULL : ins->arena + ins->off[k];
    }
    len += (size_t)snprintf(sql + len, size - len, ")");
  }
  PGresult *res =
      PQexecParams(gm__pg_conn(ins->st), sql, total, NULL, v, NULL, NULL, 0);
  free(sql);
  free(v);
  enum gm_status rc = GM_OK;
  if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
    rc = gm__pg_fail(ins->st, "insert", res);
  PQclear(res);
  ins->rows = 0;
  ins->arena_len = 0;
  return rc;
}

/* Keeps a row's values (their text) for the next batch. */
static enum gm_status keep_row(struct insert *ins, const struct gm__mv *vals) {
  int n = ins->t.n;
  for (int i = 0; i < n; i++) {
    texts_set(&ins->t, i, &vals[i]);
    long *off = &ins->off[(size_t)ins->rows * (size_t)n + (size_t)i];
    const char *s = ins->t.v[i];
    if (!s) {
      *off = -1;
      continue;
    }
    size_t need = strlen(s) + 1;
    if (ins->arena_len + need > ins->arena_cap) {
      size_t cap = ins->arena_cap ? ins->arena_cap : 65536;
      while (cap < ins->arena_len + need)
        cap *= 2;
      char *a = realloc(ins->arena, cap);
      if (!a)
        return gm__store_error(ins->st, GM_ERR_NO_MEMORY, "out of memory");
      ins->arena = a;
      ins->arena_cap = cap;
    }
    memcpy(ins->arena + ins->arena_len, s, need);
    *off = (long)ins->arena_len;
    ins->arena_len += need;
  }
  ins->rows++;
  return ins->rows == ins->max_rows ? insert_flush(ins) : GM_OK;
}

static enum gm_status insert(void *stmt, const struct gm__mv *vals,
                             int64_t *id) {
  struct insert *ins = stmt;
  if (!ins->with_id)
    return keep_row(ins, vals);
  for (int i = 0; i < ins->t.n; i++)
    texts_set(&ins->t, i, &vals[i]);
  PGresult *r = PQexecPrepared(gm__pg_conn(ins->st), ins->name, ins->t.n,
                               ins->t.v, NULL, NULL, 0);
  ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  enum gm_status rc = GM_OK;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    rc = gm__pg_fail(ins->st, "insert", r);
  else if (id)
    *id = PQntuples(r) == 1 ? gm__pg_get_int(r, 0, 0) : 0;
  PQclear(r);
  return rc;
}

static void insert_close(void *stmt) {
  struct insert *ins = stmt;
  if (!ins)
    return;
  /* in a transaction a failed statement aborted, rollback does it */
  if (ins->with_id &&
      PQtransactionStatus(gm__pg_conn(ins->st)) != PQTRANS_INERROR) {
    char sql[64];
    snprintf(sql, sizeof(sql), "DEALLOCATE %s", ins->name);
    PQclear(PQexec(gm__pg_conn(ins->st), sql));
  }
  texts_free(&ins->t);
  free(ins->head);
  free(ins->arena);
  free(ins->off);
  free(ins);
}

static enum gm_status find(struct gm_store *out, const char *table, int n,
                           const char *const *where, const struct gm__mv *vals,
                           int n_ret, const char *const *ret,
                           char (*got)[GM__MERGE_TEXT_SIZE], int64_t *id,
                           bool *found) {
  char sql[SQL_SIZE], cols[1024] = "id";
  append_names(cols, sizeof(cols), n_ret, ret, 0);
  size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE ",
                                cols, table);
  struct texts t;
  if (!texts_init(&t, n)) {
    texts_free(&t);
    return gm__store_error(out, GM_ERR_NO_MEMORY, "out of memory");
  }
  int k = 0;
  for (int i = 0; i < n && len < sizeof(sql); i++) {
    if (vals[i].type == GM__MV_NULL) {
      len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s IS NULL",
                              i ? " AND " : "", where[i]);
      continue;
    }
    texts_set(&t, k, &vals[i]);
    len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s=$%d",
                            i ? " AND " : "", where[i], ++k);
  }
  if (len < sizeof(sql))
    snprintf(sql + len, sizeof(sql) - len, " LIMIT 1");
  PGresult *r =
      PQexecParams(gm__pg_conn(out), sql, k, NULL, t.v, NULL, NULL, 0);
  texts_free(&t);
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
    enum gm_status rc = gm__pg_fail(out, table, r);
    PQclear(r);
    return rc;
  }
  *found = PQntuples(r) == 1;
  if (*found) {
    *id = gm__pg_get_int(r, 0, 0);
    for (int i = 0; i < n_ret; i++)
      gm__pg_get_text(r, 0, i + 1, got[i], GM__MERGE_TEXT_SIZE);
  }
  PQclear(r);
  return GM_OK;
}

static enum gm_status update(struct gm_store *out, const char *table,
                             int64_t id, int n, const char *const *cols,
                             const struct gm__mv *vals) {
  char sets[4096] = "", sql[SQL_SIZE];
  append_names(sets, sizeof(sets), n, cols, 1);
  snprintf(sql, sizeof(sql), "UPDATE %s SET %s WHERE id=$%d", table, sets,
           n + 1);
  struct texts t;
  if (!texts_init(&t, n + 1)) {
    texts_free(&t);
    return gm__store_error(out, GM_ERR_NO_MEMORY, "out of memory");
  }
  for (int i = 0; i < n; i++)
    texts_set(&t, i, &vals[i]);
  struct gm__mv idv = {.type = GM__MV_INT, .i = id};
  texts_set(&t, n, &idv);
  PGresult *r =
      PQexecParams(gm__pg_conn(out), sql, n + 1, NULL, t.v, NULL, NULL, 0);
  texts_free(&t);
  enum gm_status rc = GM_OK;
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
    rc = gm__pg_fail(out, table, r);
  PQclear(r);
  return rc;
}

const struct gm__merge_sink_ops gm__pg_merge_sink = {
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .uid = uid,
    .columns = columns,
    .insert_open = insert_open,
    .insert = insert,
    .insert_flush = insert_flush,
    .insert_close = insert_close,
    .find = find,
    .update = update,
};
