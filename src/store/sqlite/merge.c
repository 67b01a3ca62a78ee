/* merge.c: the SQLite store's merge (gm_store_merge): an input database's
 * rows copied into the output in one write transaction, read through the
 * input's own read-only connection in one read transaction (a snapshot).
 * Each table is copied with the columns both databases have (an older
 * input's missing ones take the output's defaults, as its queries read
 * them) and every id is the output's. Runs, idle baselines and benches
 * carry their origin (schema 7), by which a row already present is found
 * and skipped; hosts are matched by fingerprint. The decisions (what a row
 * is, a bench's new name) are in ARCHITECTURE.md, "Merging stores". */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/sqlite/sqlite.h"

#define MAX_COLUMNS 96
#define NAME_SIZE 64

/* Input ids to output ids, appended in ascending input order. */
struct idmap {
  int64_t (*pair)[2];
  size_t n, cap;
};

/* A row copied (not skipped): its ids, and the input's value of the
 * reference filled in later (has_later: not NULL). */
struct fresh {
  int64_t in_id, out_id, later;
  bool has_later;
};

struct fresh_list {
  struct fresh *v;
  size_t n, cap;
};

struct merge {
  struct gm_store *out, *in;
  sqlite3 *odb, *idb;
  char in_uid[40], out_uid[40];
  struct gm_store_merge_result *res;
  struct idmap hosts, baselines, runs, benches;
};

struct columns {
  int n;
  char name[MAX_COLUMNS][NAME_SIZE];
};

static bool map_put(struct idmap *mp, int64_t from, int64_t to) {
  if (mp->n == mp->cap) {
    size_t cap = mp->cap ? 2 * mp->cap : 64;
    int64_t(*p)[2] = realloc(mp->pair, cap * sizeof(*p));
    if (!p)
      return false;
    mp->pair = p;
    mp->cap = cap;
  }
  mp->pair[mp->n][0] = from;
  mp->pair[mp->n][1] = to;
  mp->n++;
  return true;
}

static bool map_get(const struct idmap *mp, int64_t from, int64_t *to) {
  size_t lo = 0, hi = mp->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (mp->pair[mid][0] < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < mp->n && mp->pair[lo][0] == from) {
    *to = mp->pair[lo][1];
    return true;
  }
  return false;
}

static bool fresh_put(struct fresh_list *l, struct fresh f) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    struct fresh *v = realloc(l->v, cap * sizeof(*v));
    if (!v)
      return false;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = f;
  return true;
}

/* ---- errors: the input's (read: GM_ERR_PARSE) or the output's ---------- */

static enum gm_status fail_in(struct merge *m, const char *what) {
  return gm__store_error(m->out, GM_ERR_PARSE,
                         "cannot read the input '%s' (%s): %s; the output "
                         "'%s' was left as it was",
                         gm__sq(m->in)->path, what, sqlite3_errmsg(m->idb),
                         gm__sq(m->out)->path);
}

static enum gm_status fail_out(struct merge *m, const char *what) {
  char w[1200];
  snprintf(w, sizeof(w), "cannot merge '%s' into '%s' (%s)",
           gm__sq(m->in)->path, gm__sq(m->out)->path, what);
  return gm__sq_fail(m->out, w);
}

static enum gm_status no_memory(struct merge *m) {
  return gm__store_error(m->out, GM_ERR_NO_MEMORY,
                         "out of memory while merging '%s'",
                         gm__sq(m->in)->path);
}

/* ---- columns -------------------------------------------------------------*/

static bool has_column(sqlite3 *db, const char *table, const char *col) {
  sqlite3_stmt *s = NULL;
  bool found = false;
  if (sqlite3_prepare_v2(db,
                         "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
  }
  sqlite3_finalize(s);
  return found;
}

static bool listed(const char *const *names, const char *name) {
  for (; names && *names; names++)
    if (strcmp(*names, name) == 0)
      return true;
  return false;
}

/* The columns of the output's table that the input's has too, in the
 * output's order, but those in skip (NULL-terminated). */
static enum gm_status common_columns(struct merge *m, const char *table,
                                     const char *const *skip,
                                     struct columns *c) {
  sqlite3_stmt *s = NULL;
  c->n = 0;
  if (sqlite3_prepare_v2(m->odb,
                         "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                         -1, &s, NULL) != SQLITE_OK)
    return fail_out(m, table);
  sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 0);
    if (!name || listed(skip, name) || !has_column(m->idb, table, name))
      continue;
    if (c->n == MAX_COLUMNS || strlen(name) >= NAME_SIZE) {
      sqlite3_finalize(s);
      return gm__store_error(m->out, GM_ERR_DATABASE,
                             "the table %s has more or longer columns than a "
                             "merge copies",
                             table);
    }
    gm__strlcpy(c->name[c->n++], name, NAME_SIZE);
  }
  sqlite3_finalize(s);
  return step == SQLITE_DONE ? GM_OK : fail_out(m, table);
}

/* Appends to buf each column, as "name" or (assign) "name=?",
 * comma-separated, after a comma when buf is not empty. */
static void append_columns(char *buf, size_t size, const struct columns *c,
                           bool assign) {
  size_t len = strlen(buf);
  for (int i = 0; i < c->n && len < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s%s%s", len ? ", " : "",
                            c->name[i], assign ? "=?" : "");
}

/* Appends n placeholders to buf (comma-separated, after a comma when buf
 * is not empty). */
static void append_params(char *buf, size_t size, int n) {
  size_t len = strlen(buf);
  for (int i = 0; i < n && len + 4 < size; i++)
    len += (size_t)snprintf(buf + len, size - len, "%s?", len ? ", " : "");
}

/* ---- child rows: keyed by their parent's id -----------------------------*/

struct child {
  const char *table;
  const char *parent;    /* the column holding the parent's id */
  const char *ref;       /* a column holding another row's id, or NULL */
  struct idmap *ref_map; /* remaps ref (an id it lacks becomes NULL) */
  uint64_t *count;       /* rows copied are counted here, or NULL */
  sqlite3_stmt *sel, *ins;
  struct columns cols;
  bool absent; /* the input (an older schema) has no such table */
};

static enum gm_status child_prepare(struct merge *m, struct child *c) {
  if (!gm__sq_has_table(m->in, c->table)) {
    c->absent = true;
    return GM_OK;
  }
  const char *skip[] = {c->parent, c->ref, NULL};
  enum gm_status rc = common_columns(m, c->table, skip, &c->cols);
  if (rc != GM_OK)
    return rc;
  char cols[4096] = "", params[1024] = "", sql[8192];
  append_columns(cols, sizeof(cols), &c->cols, false);
  append_params(params, sizeof(params), 1 + c->cols.n + (c->ref ? 1 : 0));
  bool ref_in = c->ref && has_column(m->idb, c->table, c->ref);
  snprintf(sql, sizeof(sql), "SELECT %s%s%s FROM %s WHERE %s=?",
           c->cols.n ? cols : "NULL", c->ref ? ", " : "",
           c->ref ? (ref_in ? c->ref : "NULL") : "", c->table, c->parent);
  if (sqlite3_prepare_v2(m->idb, sql, -1, &c->sel, NULL) != SQLITE_OK)
    return fail_in(m, c->table);
  snprintf(sql, sizeof(sql), "INSERT INTO %s(%s%s%s%s%s) VALUES (%s)", c->table,
           c->parent, c->cols.n ? ", " : "", cols, c->ref ? ", " : "",
           c->ref ? c->ref : "", params);
  if (sqlite3_prepare_v2(m->odb, sql, -1, &c->ins, NULL) != SQLITE_OK)
    return fail_out(m, c->table);
  return GM_OK;
}

static void child_finalize(struct child *c) {
  sqlite3_finalize(c->sel);
  sqlite3_finalize(c->ins);
  c->sel = c->ins = NULL;
}

/* Binds the input's id in column col of s into ins at i, remapped through
 * map (NULL when the input's is NULL or unknown to the map). */
static void bind_ref(sqlite3_stmt *ins, int i, sqlite3_stmt *s, int col,
                     const struct idmap *map) {
  int64_t to;
  if (sqlite3_column_type(s, col) != SQLITE_NULL &&
      map_get(map, sqlite3_column_int64(s, col), &to))
    sqlite3_bind_int64(ins, i, to);
  else
    sqlite3_bind_null(ins, i);
}

static enum gm_status child_copy(struct merge *m, struct child *c,
                                 int64_t in_parent, int64_t out_parent) {
  if (c->absent)
    return GM_OK;
  sqlite3_reset(c->sel);
  sqlite3_bind_int64(c->sel, 1, in_parent);
  int step;
  while ((step = sqlite3_step(c->sel)) == SQLITE_ROW) {
    sqlite3_reset(c->ins);
    sqlite3_bind_int64(c->ins, 1, out_parent);
    for (int i = 0; i < c->cols.n; i++)
      sqlite3_bind_value(c->ins, i + 2, sqlite3_column_value(c->sel, i));
    if (c->ref)
      bind_ref(c->ins, c->cols.n + 2, c->sel, c->cols.n, c->ref_map);
    if (sqlite3_step(c->ins) != SQLITE_DONE)
      return fail_out(m, c->table);
    if (c->count)
      (*c->count)++;
  }
  sqlite3_reset(c->ins);
  if (step != SQLITE_DONE)
    return fail_in(m, c->table);
  return GM_OK;
}

/* Copies each child table's rows of every fresh parent. */
static enum gm_status copy_children(struct merge *m, struct child *children,
                                    size_t n, const struct fresh_list *fresh) {
  enum gm_status rc = GM_OK;
  for (size_t i = 0; i < n && rc == GM_OK; i++)
    rc = child_prepare(m, &children[i]);
  for (size_t f = 0; f < fresh->n && rc == GM_OK; f++)
    for (size_t i = 0; i < n && rc == GM_OK; i++)
      rc = child_copy(m, &children[i], fresh->v[f].in_id, fresh->v[f].out_id);
  for (size_t i = 0; i < n; i++)
    child_finalize(&children[i]);
  return rc;
}

/* ---- hosts: matched by fingerprint ---------------------------------------*/

static enum gm_status merge_hosts(struct merge *m) {
  static const char *const skip[] = {"id", "fingerprint", "first_seen",
                                     "last_seen", NULL};
  struct columns c;
  enum gm_status rc = common_columns(m, "hosts", skip, &c);
  if (rc != GM_OK)
    return rc;
  char cols[4096] = "", sets[4096] = "", params[1024] = "", sql[8192];
  append_columns(cols, sizeof(cols), &c, false);
  append_columns(sets, sizeof(sets), &c, true);
  append_params(params, sizeof(params), 3 + c.n);
  sqlite3_stmt *sel = NULL, *find = NULL, *ins = NULL, *upd = NULL,
               *first = NULL;
  snprintf(sql, sizeof(sql),
           "SELECT id, fingerprint, first_seen, last_seen%s%s FROM hosts "
           "ORDER BY id",
           c.n ? ", " : "", cols);
  if (sqlite3_prepare_v2(m->idb, sql, -1, &sel, NULL) != SQLITE_OK) {
    rc = fail_in(m, "hosts");
    goto out;
  }
  snprintf(sql, sizeof(sql),
           "INSERT INTO hosts(fingerprint, first_seen, last_seen%s%s) VALUES "
           "(%s)",
           c.n ? ", " : "", cols, params);
  if (sqlite3_prepare_v2(m->odb, sql, -1, &ins, NULL) != SQLITE_OK)
    goto fail_out;
  snprintf(sql, sizeof(sql), "UPDATE hosts SET last_seen=?%s%s WHERE id=?",
           c.n ? ", " : "", sets);
  if (sqlite3_prepare_v2(m->odb, sql, -1, &upd, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(m->odb,
                         "SELECT id, last_seen FROM hosts WHERE fingerprint=?",
                         -1, &find, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(m->odb,
                         "UPDATE hosts SET first_seen=?1 WHERE id=?2 AND "
                         "first_seen > ?1",
                         -1, &first, NULL) != SQLITE_OK)
    goto fail_out;
  int step;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t in_id = sqlite3_column_int64(sel, 0), out_id = 0;
    const char *in_last = (const char *)sqlite3_column_text(sel, 3);
    sqlite3_reset(find);
    sqlite3_bind_value(find, 1, sqlite3_column_value(sel, 1));
    int found = sqlite3_step(find);
    if (found == SQLITE_ROW) {
      out_id = sqlite3_column_int64(find, 0);
      const char *out_last = (const char *)sqlite3_column_text(find, 1);
      bool newer = in_last && (!out_last || strcmp(in_last, out_last) > 0);
      sqlite3_reset(find);
      m->res->hosts_matched++;
      if (newer) { /* the newest description is kept */
        sqlite3_reset(upd);
        sqlite3_bind_value(upd, 1, sqlite3_column_value(sel, 3));
        for (int i = 0; i < c.n; i++)
          sqlite3_bind_value(upd, i + 2, sqlite3_column_value(sel, 4 + i));
        sqlite3_bind_int64(upd, c.n + 2, out_id);
        if (sqlite3_step(upd) != SQLITE_DONE)
          goto fail_out;
      }
      sqlite3_reset(first);
      sqlite3_bind_value(first, 1, sqlite3_column_value(sel, 2));
      sqlite3_bind_int64(first, 2, out_id);
      if (sqlite3_step(first) != SQLITE_DONE)
        goto fail_out;
    } else if (found == SQLITE_DONE) {
      sqlite3_reset(find);
      sqlite3_reset(ins);
      for (int i = 0; i < 3 + c.n; i++)
        sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i + 1));
      if (sqlite3_step(ins) != SQLITE_DONE)
        goto fail_out;
      out_id = sqlite3_last_insert_rowid(m->odb);
      m->res->hosts_added++;
    } else {
      goto fail_out;
    }
    if (!map_put(&m->hosts, in_id, out_id)) {
      rc = no_memory(m);
      goto out;
    }
  }
  if (step != SQLITE_DONE)
    rc = fail_in(m, "hosts");
  goto out;
fail_out:
  rc = fail_out(m, "hosts");
out:
  sqlite3_finalize(sel);
  sqlite3_finalize(find);
  sqlite3_finalize(ins);
  sqlite3_finalize(upd);
  sqlite3_finalize(first);
  return rc;
}

/* ---- runs, baselines, benches: found by their origin ---------------------*/

struct parent {
  const char *table;
  int n_refs;
  const char *refs[2];       /* columns remapped through ref_maps */
  struct idmap *ref_maps[2]; /* (an id they lack becomes NULL) */
  const char *later;         /* a reference to rows copied later: stored
                                NULL, its input value kept in the fresh
                                list; or NULL */
  bool named;                /* benches: the name may have to change */
  struct idmap *map;         /* every row: input id -> output id */
  struct fresh_list fresh;   /* the rows copied */
  size_t *copied, *skipped;
};

/* Whether a bench is named name in the output. */
static enum gm_status name_taken(struct merge *m, const char *name,
                                 bool *taken) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(m->odb, "SELECT 1 FROM benches WHERE name=?", -1, &s,
                         NULL) != SQLITE_OK)
    return fail_out(m, "benches");
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int step = sqlite3_step(s);
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return fail_out(m, "benches");
  *taken = step == SQLITE_ROW;
  return GM_OK;
}

/* The name a bench from the input takes in the output: its own, or when
 * the output has a bench of that name (of another origin) NAME@FINGERPRINT
 * with its host's fingerprint, then NAME@FINGERPRINT#ORIGIN, then with a
 * counter: the same inputs give the same names. */
static enum gm_status bench_name(struct merge *m, const char *name,
                                 int64_t in_host, const char *origin_db,
                                 int64_t origin_id, char *out, size_t size) {
  bool taken = false;
  gm__strlcpy(out, name, size);
  enum gm_status rc = name_taken(m, out, &taken);
  if (rc != GM_OK || !taken)
    return rc;
  char fp[128] = "unknown-host";
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(m->idb, "SELECT fingerprint FROM hosts WHERE id=?", -1,
                         &s, NULL) != SQLITE_OK)
    return fail_in(m, "hosts");
  sqlite3_bind_int64(s, 1, in_host);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    gm__sq_col_text(s, 0, fp, sizeof(fp));
  sqlite3_finalize(s);
  for (int k = 0; k < 1000; k++) {
    if (k == 0)
      gm__fmt(out, size, "%s@%s", name, fp);
    else if (k == 1)
      gm__fmt(out, size, "%s@%s#%.8s-%" PRId64, name, fp, origin_db, origin_id);
    else
      gm__fmt(out, size, "%s@%s#%.8s-%" PRId64 ".%d", name, fp, origin_db,
              origin_id, k);
    if ((rc = name_taken(m, out, &taken)) != GM_OK || !taken)
      return rc;
  }
  return gm__store_error(m->out, GM_ERR_DATABASE,
                         "no free name for the bench '%s'", name);
}

static enum gm_status parent_copy(struct merge *m, struct parent *p) {
  const char *skip[8] = {"id", "origin_db", "origin_id"};
  int n_skip = 3;
  for (int i = 0; i < p->n_refs; i++)
    skip[n_skip++] = p->refs[i];
  if (p->later)
    skip[n_skip++] = p->later;
  if (p->named)
    skip[n_skip++] = "name";
  struct columns c;
  enum gm_status rc = common_columns(m, p->table, skip, &c);
  if (rc != GM_OK)
    return rc;
  bool origin_in = has_column(m->idb, p->table, "origin_db");
  char cols[4096] = "", sel_sql[8192], ins_sql[8192], head[1024] = "",
       params[1024] = "";
  append_columns(cols, sizeof(cols), &c, false);
  /* the selected columns: id, origin_db, origin_id, the refs, later, name,
   * the common ones; the inserted ones the same without id */
  size_t len =
      (size_t)snprintf(head, sizeof(head), "%s",
                       origin_in ? "origin_db, origin_id" : "NULL, NULL");
  char ins_head[1024] = "origin_db, origin_id";
  const char *extra[4];
  int n_extra = 0;
  for (int i = 0; i < p->n_refs; i++)
    extra[n_extra++] = p->refs[i];
  if (p->later)
    extra[n_extra++] = p->later;
  if (p->named)
    extra[n_extra++] = "name";
  for (int i = 0; i < n_extra; i++) {
    bool in = has_column(m->idb, p->table, extra[i]);
    len += (size_t)snprintf(head + len, sizeof(head) - len, ", %s",
                            in ? extra[i] : "NULL");
    size_t il = strlen(ins_head);
    snprintf(ins_head + il, sizeof(ins_head) - il, ", %s", extra[i]);
  }
  snprintf(sel_sql, sizeof(sel_sql), "SELECT id, %s%s%s FROM %s ORDER BY id",
           head, c.n ? ", " : "", cols, p->table);
  append_params(params, sizeof(params), 2 + n_extra + c.n);
  snprintf(ins_sql, sizeof(ins_sql), "INSERT INTO %s(%s%s%s) VALUES (%s)",
           p->table, ins_head, c.n ? ", " : "", cols, params);
  sqlite3_stmt *sel = NULL, *ins = NULL, *find = NULL, *native = NULL;
  char sql[256];
  if (sqlite3_prepare_v2(m->idb, sel_sql, -1, &sel, NULL) != SQLITE_OK) {
    rc = fail_in(m, p->table);
    goto out;
  }
  if (sqlite3_prepare_v2(m->odb, ins_sql, -1, &ins, NULL) != SQLITE_OK)
    goto fail_out;
  snprintf(sql, sizeof(sql),
           "SELECT id FROM %s WHERE origin_db=? AND origin_id=?", p->table);
  if (sqlite3_prepare_v2(m->odb, sql, -1, &find, NULL) != SQLITE_OK)
    goto fail_out;
  snprintf(sql, sizeof(sql),
           "SELECT id FROM %s WHERE id=? AND origin_db IS NULL", p->table);
  if (sqlite3_prepare_v2(m->odb, sql, -1, &native, NULL) != SQLITE_OK)
    goto fail_out;
  int step;
  const int first_extra = 3, first_common = 3 + n_extra;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t in_id = sqlite3_column_int64(sel, 0), out_id = 0;
    /* the row's origin: where it was first stored, and its id there */
    char origin[64];
    const char *o = (const char *)sqlite3_column_text(sel, 1);
    gm__strlcpy(origin, o ? o : m->in_uid, sizeof(origin));
    int64_t origin_id = sqlite3_column_type(sel, 2) == SQLITE_NULL
                            ? in_id
                            : sqlite3_column_int64(sel, 2);
    /* already in the output: a copy made before, or one of its own */
    bool own = strcmp(origin, m->out_uid) == 0;
    sqlite3_stmt *f = own ? native : find;
    sqlite3_reset(f);
    if (own) {
      sqlite3_bind_int64(f, 1, origin_id);
    } else {
      sqlite3_bind_text(f, 1, origin, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(f, 2, origin_id);
    }
    int found = sqlite3_step(f);
    if (found == SQLITE_ROW) {
      out_id = sqlite3_column_int64(f, 0);
      sqlite3_reset(f);
      (*p->skipped)++;
      if (!map_put(p->map, in_id, out_id)) {
        rc = no_memory(m);
        goto out;
      }
      continue;
    }
    sqlite3_reset(f);
    if (found != SQLITE_DONE)
      goto fail_out;
    sqlite3_reset(ins);
    sqlite3_bind_text(ins, 1, origin, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, 2, origin_id);
    int k = 0;
    for (int i = 0; i < p->n_refs; i++, k++)
      bind_ref(ins, 3 + k, sel, first_extra + k, p->ref_maps[i]);
    struct fresh fr = {.in_id = in_id};
    if (p->later) {
      fr.has_later = sqlite3_column_type(sel, first_extra + k) != SQLITE_NULL;
      fr.later = sqlite3_column_int64(sel, first_extra + k);
      sqlite3_bind_null(ins, 3 + k);
      k++;
    }
    if (p->named) {
      const char *name =
          (const char *)sqlite3_column_text(sel, first_extra + k);
      char given[256];
      rc = bench_name(m, name ? name : "", sqlite3_column_int64(sel, 3), origin,
                      origin_id, given, sizeof(given));
      if (rc != GM_OK)
        goto out;
      if (strcmp(given, name ? name : "") != 0) {
        struct gm_store_merge_result *r = m->res;
        if (r->n_renames < GM_STORE_MERGE_RENAMES_MAX) {
          gm__strlcpy(r->renames[r->n_renames].from, name ? name : "",
                      sizeof(r->renames[0].from));
          gm__strlcpy(r->renames[r->n_renames].to, given,
                      sizeof(r->renames[0].to));
          r->n_renames++;
        }
        r->benches_renamed++;
      }
      sqlite3_bind_text(ins, 3 + k, given, -1, SQLITE_TRANSIENT);
      k++;
    }
    for (int i = 0; i < c.n; i++)
      sqlite3_bind_value(ins, 3 + k + i,
                         sqlite3_column_value(sel, first_common + i));
    if (sqlite3_step(ins) != SQLITE_DONE)
      goto fail_out;
    out_id = fr.out_id = sqlite3_last_insert_rowid(m->odb);
    (*p->copied)++;
    if (!map_put(p->map, in_id, out_id) || !fresh_put(&p->fresh, fr)) {
      rc = no_memory(m);
      goto out;
    }
  }
  if (step != SQLITE_DONE)
    rc = fail_in(m, p->table);
  goto out;
fail_out:
  rc = fail_out(m, p->table);
out:
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  sqlite3_finalize(find);
  sqlite3_finalize(native);
  return rc;
}

/* The fresh rows' later references, remapped now that their rows are
 * copied: UPDATE table SET column=? WHERE id=?. */
static enum gm_status fix_later(struct merge *m, const struct parent *p,
                                const struct idmap *map) {
  char sql[256];
  snprintf(sql, sizeof(sql), "UPDATE %s SET %s=? WHERE id=?", p->table,
           p->later);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(m->odb, sql, -1, &s, NULL) != SQLITE_OK)
    return fail_out(m, p->table);
  enum gm_status rc = GM_OK;
  for (size_t i = 0; i < p->fresh.n && rc == GM_OK; i++) {
    int64_t to;
    const struct fresh *f = &p->fresh.v[i];
    if (!f->has_later || !map_get(map, f->later, &to))
      continue;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, to);
    sqlite3_bind_int64(s, 2, f->out_id);
    if (sqlite3_step(s) != SQLITE_DONE)
      rc = fail_out(m, p->table);
  }
  sqlite3_finalize(s);
  return rc;
}

/* ---- the merge -----------------------------------------------------------*/

/* The database's id: store_meta's (schema 7), else the one migration 7
 * will give it (derived from its first host), else none (""). */
static enum gm_status db_uid(struct gm_store *st, char *out, size_t size,
                             bool input, struct merge *m) {
  out[0] = '\0';
  sqlite3_stmt *s = NULL;
  bool meta = gm__sq_has_table(st, "store_meta");
  const char *sql = meta ? "SELECT db_uid FROM store_meta WHERE id=1"
                         : "SELECT gm_derived_uid(fingerprint, first_seen) "
                           "FROM hosts ORDER BY id LIMIT 1";
  if (sqlite3_prepare_v2(gm__sq_db(st), sql, -1, &s, NULL) != SQLITE_OK)
    return input ? fail_in(m, "store_meta") : fail_out(m, "store_meta");
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW)
    gm__sq_col_text(s, 0, out, size);
  sqlite3_finalize(s);
  if (step != SQLITE_ROW && step != SQLITE_DONE)
    return input ? fail_in(m, "store_meta") : fail_out(m, "store_meta");
  if (meta && !out[0])
    return gm__store_error(m->out, input ? GM_ERR_PARSE : GM_ERR_DATABASE,
                           "the database '%s' has no id in store_meta",
                           gm__sq(st)->path);
  return GM_OK;
}

static enum gm_status copy_all(struct merge *m) {
  struct gm_store_merge_result *r = m->res;
  enum gm_status rc = merge_hosts(m);
  if (rc != GM_OK)
    return rc;
  /* baselines first (their idle run later), then runs (pointing at a
   * baseline), then benches (pointing at both) */
  struct parent base = {.table = "idle_baselines",
                        .n_refs = 1,
                        .refs = {"host_id", NULL},
                        .ref_maps = {&m->hosts, NULL},
                        .later = "run_id",
                        .map = &m->baselines,
                        .copied = &r->baselines_copied,
                        .skipped = &r->baselines_skipped};
  struct parent runs = {.table = "runs",
                        .n_refs = 2,
                        .refs = {"host_id", "idle_baseline_id"},
                        .ref_maps = {&m->hosts, &m->baselines},
                        .map = &m->runs,
                        .copied = &r->runs_copied,
                        .skipped = &r->runs_skipped};
  struct parent benches = {.table = "benches",
                           .n_refs = 2,
                           .refs = {"host_id", "idle_baseline_id"},
                           .ref_maps = {&m->hosts, &m->baselines},
                           .named = true,
                           .map = &m->benches,
                           .copied = &r->benches_copied,
                           .skipped = &r->benches_skipped};
  struct child idle_children[] = {
      {.table = "idle_components", .parent = "baseline_id"}};
  struct child run_children[] = {
      {.table = "components", .parent = "run_id"},
      {.table = "metrics", .parent = "run_id"},
      {.table = "samples", .parent = "run_id", .count = &r->samples_copied},
      {.table = "metric_samples",
       .parent = "run_id",
       .count = &r->metric_samples_copied},
      {.table = "phases", .parent = "run_id"},
      {.table = "phase_components", .parent = "run_id"},
      {.table = "run_missing", .parent = "run_id"}};
  struct child bench_children[] = {
      {.table = "bench_models", .parent = "bench_id"},
      {.table = "bench_phases",
       .parent = "bench_id",
       .ref = "run_id",
       .ref_map = &m->runs},
      {.table = "bench_phase_components", .parent = "bench_id"},
      {.table = "bench_predictions", .parent = "bench_id"}};
#define N(a) (sizeof(a) / sizeof((a)[0]))
  if ((rc = parent_copy(m, &base)) != GM_OK ||
      (rc = copy_children(m, idle_children, N(idle_children), &base.fresh)) !=
          GM_OK ||
      (rc = parent_copy(m, &runs)) != GM_OK ||
      (rc = copy_children(m, run_children, N(run_children), &runs.fresh)) !=
          GM_OK ||
      (rc = fix_later(m, &base, &m->runs)) != GM_OK)
    goto out;
  if (gm__sq_has_table(m->in, "benches") &&
      ((rc = parent_copy(m, &benches)) != GM_OK ||
       (rc = copy_children(m, bench_children, N(bench_children),
                           &benches.fresh)) != GM_OK))
    goto out;
#undef N
out:
  free(base.fresh.v);
  free(runs.fresh.v);
  free(benches.fresh.v);
  return rc;
}

enum gm_status gm__sq_merge(struct gm_store *out, struct gm_store *in,
                            struct gm_store_merge_result *res) {
  struct merge m = {.out = out,
                    .in = in,
                    .odb = gm__sq_db(out),
                    .idb = gm__sq_db(in),
                    .res = res};
  struct stat so, si;
  if (stat(gm__sq(out)->path, &so) == 0 && stat(gm__sq(in)->path, &si) == 0 &&
      so.st_dev == si.st_dev && so.st_ino == si.st_ino)
    return gm__store_error(out, GM_ERR_INVALID_ARG,
                           "'%s' is the output database '%s' itself: a store "
                           "cannot be merged into itself",
                           gm__sq(in)->path, gm__sq(out)->path);
  enum gm_status rc = gm__sq_commit(out); /* a bench row's open transaction */
  if (rc != GM_OK)
    return rc;
  res->input_schema = gm__sq(in)->version;
  if (sqlite3_exec(m.idb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return fail_in(&m, "begin");
  if ((rc = gm__sq_exec(out, "BEGIN IMMEDIATE", "cannot merge")) != GM_OK) {
    sqlite3_exec(m.idb, "COMMIT", NULL, NULL, NULL);
    return rc;
  }
  if ((rc = db_uid(in, m.in_uid, sizeof(m.in_uid), true, &m)) == GM_OK &&
      (rc = db_uid(out, m.out_uid, sizeof(m.out_uid), false, &m)) == GM_OK)
    rc = copy_all(&m);
  gm__strlcpy(res->input_uid, m.in_uid, sizeof(res->input_uid));
  if (rc == GM_OK &&
      sqlite3_exec(m.odb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    rc = fail_out(&m, "commit");
  if (rc != GM_OK)
    gm__sq_abort(out, NULL);
  sqlite3_exec(m.idb, "COMMIT", NULL, NULL, NULL);
  free(m.hosts.pair);
  free(m.baselines.pair);
  free(m.runs.pair);
  free(m.benches.pair);
  return rc;
}
