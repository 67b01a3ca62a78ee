/* merge.c: the SQLite store's sides of gm_store_merge (the rules are
 * src/store/merge.c's): as an input, its rows read through its own
 * read-only connection in one read transaction (a snapshot), each table in
 * rowid order; as the output, prepared statements in one write transaction
 * (BEGIN IMMEDIATE, so that two merges into one file take turns). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite/sqlite.h"

#define SQL_SIZE 8192

/* Appends to buf "a, b, c" (names; NULL as "NULL"), or with assign
 * "a=?, b=?", after a comma when buf is not empty. */
static void append_names(char *buf, size_t size, int n,
                         const char *const *names, bool assign) {
  size_t len = strlen(buf);
  for (int i = 0; i < n && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%s%s", len ? ", " : "",
                            names[i] ? names[i] : "NULL", assign ? "=?" : "");
}

static void append_params(char *buf, size_t size, int n) {
  size_t len = strlen(buf);
  for (int i = 0; i < n && len + 4 < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s?", len ? ", " : "");
}

static void bind_mv(sqlite3_stmt *s, int i, const struct gm__mv *v) {
  switch (v->type) {
  case GM__MV_INT:
    sqlite3_bind_int64(s, i, v->i);
    break;
  case GM__MV_REAL:
    sqlite3_bind_double(s, i, v->d);
    break;
  case GM__MV_TEXT:
    sqlite3_bind_text(s, i, v->s, -1, SQLITE_TRANSIENT);
    break;
  default:
    sqlite3_bind_null(s, i);
  }
}

static struct gm__mv column_mv(sqlite3_stmt *s, int i) {
  switch (sqlite3_column_type(s, i)) {
  case SQLITE_INTEGER:
    return (struct gm__mv){.type = GM__MV_INT, .i = sqlite3_column_int64(s, i)};
  case SQLITE_FLOAT:
    return (struct gm__mv){.type = GM__MV_REAL,
                           .d = sqlite3_column_double(s, i)};
  case SQLITE_NULL:
    return (struct gm__mv){.type = GM__MV_NULL};
  default: /* text (a blob read as its bytes) */
    return (struct gm__mv){.type = GM__MV_TEXT,
                           .s = (const char *)sqlite3_column_text(s, i)};
  }
}

/* The input's failure: SQLite's message on the input's handle. */
static enum gm_status in_fail(struct gm_store *st) {
  return gm__store_error(st, GM_ERR_PARSE, "%s", sqlite3_errmsg(gm__sq_db(st)));
}

/* ---- the input's side -----------------------------------------------------*/

static enum gm_status src_begin(struct gm_store *in) {
  return sqlite3_exec(gm__sq_db(in), "BEGIN", NULL, NULL, NULL) == SQLITE_OK
             ? GM_OK
             : in_fail(in);
}

static void src_end(struct gm_store *in) {
  sqlite3_exec(gm__sq_db(in), "COMMIT", NULL, NULL, NULL);
}

/* The database's id: store_meta's (schema 7), else the one migration 7
 * will give it (derived from its first host), else none (""). */
static enum gm_status uid_of(struct gm_store *st, char *out, size_t size,
                             enum gm_status fail) {
  out[0] = '\0';
  sqlite3_stmt *s = NULL;
  bool meta = gm__sq_has_table(st, "store_meta");
  const char *sql = meta ? "SELECT db_uid FROM store_meta WHERE id=1"
                         : "SELECT gm_derived_uid(fingerprint, first_seen) "
                           "FROM hosts ORDER BY id LIMIT 1";
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return fail == GM_ERR_PARSE ? in_fail(st) : gm__sq_fail(st, "store_meta");
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW)
    gm__sq_col_text(s, 0, out, size);
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return fail == GM_ERR_PARSE ? in_fail(st) : gm__sq_fail(st, "store_meta");
  if (meta && !out[0])
    return gm__store_error(st, fail,
                           "the database '%s' has no id in store_meta",
                           gm__sq(st)->path);
  return GM_OK;
}

static enum gm_status src_uid(struct gm_store *in, char *out, size_t size) {
  return uid_of(in, out, size, GM_ERR_PARSE);
}

static bool has_table(struct gm_store *st, const char *table) {
  return gm__sq_has_table(st, table);
}

static bool has_column(struct gm_store *st, const char *table,
                       const char *col) {
  sqlite3_stmt *s = NULL;
  bool found = false;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
  }
  sqlite3_finalize(s);
  return found;
}

static bool without_rowid(struct gm_store *st, const char *table) {
  sqlite3_stmt *s = NULL;
  bool wr = false;
  if (sqlite3_prepare_v2(gm__sq_db(st),
                         "SELECT wr FROM pragma_table_list WHERE name=?", -1,
                         &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    wr = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  }
  sqlite3_finalize(s);
  return wr;
}

struct cursor {
  struct gm_store *st;
  sqlite3_stmt *s;
  int n;
  bool keyed;
};

static enum gm_status rows_open(struct gm_store *in, const char *table, int n,
                                const char *const *cols, const char *key,
                                void **out) {
  *out = NULL;
  struct cursor *c = calloc(1, sizeof(*c));
  if (!c)
    return gm__store_error(in, GM_ERR_NO_MEMORY, "out of memory");
  char names[4096] = "", sql[SQL_SIZE];
  append_names(names, sizeof(names), n, cols, false);
  /* the stored order: the id's, the rowid's, or for a table WITHOUT
   * ROWID its primary key's (its order without ORDER BY) */
  const char *order = has_column(in, table, "id") ? " ORDER BY id"
                      : without_rowid(in, table)  ? ""
                                                  : " ORDER BY rowid";
  snprintf(sql, sizeof(sql), "SELECT %s FROM %s%s%s%s%s", n ? names : "NULL",
           table, key ? " WHERE " : "", key ? key : "", key ? "=?" : "", order);
  c->st = in;
  c->n = n;
  c->keyed = key != NULL;
  if (sqlite3_prepare_v2(gm__sq_db(in), sql, -1, &c->s, NULL) != SQLITE_OK) {
    free(c);
    return in_fail(in);
  }
  *out = c;
  return GM_OK;
}

static enum gm_status rows_start(void *cur, int64_t key) {
  struct cursor *c = cur;
  sqlite3_reset(c->s);
  if (c->keyed)
    sqlite3_bind_int64(c->s, 1, key);
  return GM_OK;
}

static enum gm_status rows_next(void *cur, struct gm__mv *row) {
  struct cursor *c = cur;
  int step = sqlite3_step(c->s);
  if (step == SQLITE_DONE)
    return GM_ERR_NOT_FOUND;
  if (step != SQLITE_ROW)
    return in_fail(c->st);
  for (int i = 0; i < c->n; i++)
    row[i] = column_mv(c->s, i);
  return GM_OK;
}

static void rows_close(void *cur) {
  struct cursor *c = cur;
  if (!c)
    return;
  sqlite3_finalize(c->s);
  free(c);
}

/* ---- the output's side ----------------------------------------------------*/

static enum gm_status dst_begin(struct gm_store *out) {
  enum gm_status rc = gm__sq_commit(out); /* a bench row's open transaction */
  return rc != GM_OK ? rc : gm__sq_exec(out, "BEGIN IMMEDIATE", "begin");
}

static enum gm_status dst_commit(struct gm_store *out) {
  return gm__sq_exec(out, "COMMIT", "commit");
}

static void dst_rollback(struct gm_store *out) { gm__sq_abort(out, NULL); }

static enum gm_status dst_uid(struct gm_store *out, char *buf, size_t size) {
  return uid_of(out, buf, size, GM_ERR_DATABASE);
}

static enum gm_status dst_columns(struct gm_store *out, const char *table,
                                  struct gm__merge_columns *c) {
  sqlite3_stmt *s = NULL;
  c->n = 0;
  if (sqlite3_prepare_v2(gm__sq_db(out),
                         "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                         -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(out, "columns");
  sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if (!name)
      continue;
    if (c->n == GM__MERGE_COLUMNS_MAX || strlen(name) >= GM__MERGE_NAME_SIZE) {
      sqlite3_finalize(s);
      return gm__store_error(out, GM_ERR_DATABASE,
                             "the table %s has more or longer columns than a "
                             "merge copies",
                             table);
    }
    gm__strlcpy(c->name[c->n++], name, GM__MERGE_NAME_SIZE);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK : gm__sq_fail(out, "columns");
}

struct insert {
  struct gm_store *st;
  sqlite3_stmt *s;
  int n;
};

static enum gm_status dst_insert_open(struct gm_store *out, const char *table,
                                      int n, const char *const *cols,
                                      bool with_id, void **stmt) {
  (void)with_id; /* the rowid is the id */
  *stmt = NULL;
  struct insert *ins = calloc(1, sizeof(*ins));
  if (!ins)
    return gm__store_error(out, GM_ERR_NO_MEMORY, "out of memory");
  char names[4096] = "", params[1024] = "", sql[SQL_SIZE];
  append_names(names, sizeof(names), n, cols, false);
  append_params(params, sizeof(params), n);
  snprintf(sql, sizeof(sql), "INSERT INTO %s(%s) VALUES (%s)", table, names,
           params);
  ins->st = out;
  ins->n = n;
  if (sqlite3_prepare_v2(gm__sq_db(out), sql, -1, &ins->s, NULL) != SQLITE_OK) {
    free(ins);
    return gm__sq_fail(out, table);
  }
  *stmt = ins;
  return GM_OK;
}

static enum gm_status dst_insert(void *stmt, const struct gm__mv *vals,
                                 int64_t *id) {
  struct insert *ins = stmt;
  sqlite3_reset(ins->s);
  for (int i = 0; i < ins->n; i++)
    bind_mv(ins->s, i + 1, &vals[i]);
  if (sqlite3_step(ins->s) != SQLITE_DONE)
    return gm__sq_fail(ins->st, "insert");
  if (id)
    *id = sqlite3_last_insert_rowid(gm__sq_db(ins->st));
  return GM_OK;
}

static void dst_insert_close(void *stmt) {
  struct insert *ins = stmt;
  if (!ins)
    return;
  sqlite3_finalize(ins->s);
  free(ins);
}

static enum gm_status dst_find(struct gm_store *out, const char *table, int n,
                               const char *const *where,
                               const struct gm__mv *vals, int n_ret,
                               const char *const *ret,
                               char (*got)[GM__MERGE_TEXT_SIZE], int64_t *id,
                               bool *found) {
  char sql[SQL_SIZE], cols[1024] = "id";
  append_names(cols, sizeof(cols), n_ret, ret, false);
  size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE ",
                                cols, table);
  for (int i = 0; i < n && len < sizeof(sql); i++)
    len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s%s%s",
                            i ? " AND " : "", where[i],
                            vals[i].type == GM__MV_NULL ? " IS NULL" : "=?");
  if (len < sizeof(sql))
    snprintf(sql + len, sizeof(sql) - len, " LIMIT 1");
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(out), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(out, table);
  for (int i = 0, p = 1; i < n; i++)
    if (vals[i].type != GM__MV_NULL)
      bind_mv(s, p++, &vals[i]);
  int step = sqlite3_step(s);
  *found = step == SQLITE_ROW;
  if (*found) {
    *id = sqlite3_column_int64(s, 0);
    for (int i = 0; i < n_ret; i++)
      gm__sq_col_text(s, i + 1, got[i], GM__MERGE_TEXT_SIZE);
  }
  sqlite3_finalize(s);
  return step == SQLITE_ROW || step == SQLITE_DONE ? GM_OK
                                                   : gm__sq_fail(out, table);
}

static enum gm_status dst_update(struct gm_store *out, const char *table,
                                 int64_t id, int n, const char *const *cols,
                                 const struct gm__mv *vals) {
  char sets[4096] = "", sql[SQL_SIZE];
  append_names(sets, sizeof(sets), n, cols, true);
  snprintf(sql, sizeof(sql), "UPDATE %s SET %s WHERE id=?", table, sets);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(gm__sq_db(out), sql, -1, &s, NULL) != SQLITE_OK)
    return gm__sq_fail(out, table);
  for (int i = 0; i < n; i++)
    bind_mv(s, i + 1, &vals[i]);
  sqlite3_bind_int64(s, n + 1, id);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK : gm__sq_fail(out, table);
}

/* The same file, whatever the names: the device and inode. */
static bool dst_same(struct gm_store *out, struct gm_store *in) {
  struct stat so, si;
  return stat(gm__sq(out)->path, &so) == 0 &&
         stat(gm__sq(in)->path, &si) == 0 && so.st_dev == si.st_dev &&
         so.st_ino == si.st_ino;
}

const struct gm__merge_source_ops gm__sq_merge_source = {
    .begin = src_begin,
    .end = src_end,
    .uid = src_uid,
    .has_table = has_table,
    .has_column = has_column,
    .rows_open = rows_open,
    .rows_start = rows_start,
    .rows_next = rows_next,
    .rows_close = rows_close,
};

const struct gm__merge_sink_ops gm__sq_merge_sink = {
    .begin = dst_begin,
    .commit = dst_commit,
    .rollback = dst_rollback,
    .uid = dst_uid,
    .columns = dst_columns,
    .insert_open = dst_insert_open,
    .insert = dst_insert,
    .insert_close = dst_insert_close,
    .find = dst_find,
    .update = dst_update,
    .same = dst_same,
};
