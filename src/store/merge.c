/* merge.c: gm_store_merge's rules, for every implementation: an input
 * store's rows copied into the output, read through the input's
 * merge_source in one snapshot and written through the output's
 * merge_sink in one transaction (store_ops.h). Each table is copied with
 * the columns both stores have (an older input's missing ones take the
 * output's defaults, as its queries read them) and every id is the
 * output's. Runs, idle baselines and benches carry their origin (schema
 * 7), by which a row already present is found and skipped; hosts are
 * matched by fingerprint. The decisions (what a row is, a bench's new
 * name) are in ARCHITECTURE.md, "Merging stores". */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "store/store_ops.h"

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
  const struct gm__merge_source_ops *src;
  const struct gm__merge_sink_ops *dst;
  char in_uid[40], out_uid[40];
  struct gm_store_merge_result *res;
  struct idmap hosts, baselines, runs, benches;
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

static const char *where(struct gm_store *st) {
  return st->ops->where ? st->ops->where(st) : st->ops->name;
}

/* ---- errors: the input's (read: GM_ERR_PARSE) or the output's ---------- */

static enum gm_status fail_in(struct merge *m, const char *what) {
  char why[sizeof(m->in->err)];
  gm__strlcpy(why, m->in->err, sizeof(why));
  return gm__store_error(m->out, GM_ERR_PARSE,
                         "cannot read the input '%s' (%s): %s; the output "
                         "'%s' was left as it was",
                         where(m->in), what, why, where(m->out));
}

/* The sink's failure rc, its message prefixed with what was merged. */
static enum gm_status fail_out(struct merge *m, enum gm_status rc,
                               const char *what) {
  char why[sizeof(m->out->err)];
  gm__strlcpy(why, m->out->err, sizeof(why));
  gm__store_error(m->out, rc == GM_OK ? GM_ERR_DATABASE : rc,
                  "cannot merge '%s' into '%s' (%s): %s", where(m->in),
                  where(m->out), what, why);
  return rc == GM_OK ? GM_ERR_DATABASE : rc;
}

static enum gm_status no_memory(struct merge *m) {
  return gm__store_error(m->out, GM_ERR_NO_MEMORY,
                         "out of memory while merging '%s'", where(m->in));
}

/* ---- columns -------------------------------------------------------------*/

static bool listed(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], name) == 0)
      return true;
  return false;
}

/* The columns of the output's table that the input's has too, in the
 * output's order, but those in skip[n_skip]. */
static enum gm_status common_columns(struct merge *m, const char *table,
                                     const char *const *skip, int n_skip,
                                     struct gm__merge_columns *c) {
  struct gm__merge_columns all;
  enum gm_status rc = m->dst->columns(m->out, table, &all);
  if (rc != GM_OK)
    return fail_out(m, rc, table);
  c->n = 0;
  for (int i = 0; i < all.n; i++)
    if (!listed(skip, n_skip, all.name[i]) &&
        m->src->has_column(m->in, table, all.name[i]))
      memcpy(c->name[c->n++], all.name[i], sizeof(all.name[i]));
  return GM_OK;
}

/* The names of c as an array of pointers after the first `at` of names. */
static int names_of(const struct gm__merge_columns *c, const char **names,
                    int at) {
  for (int i = 0; i < c->n; i++)
    names[at + i] = c->name[i];
  return at + c->n;
}

/* The value v, remapped through map (NULL when v is NULL or unknown). */
static struct gm__mv remap(struct gm__mv v, const struct idmap *map) {
  int64_t to;
  if (v.type == GM__MV_INT && map_get(map, v.i, &to))
    return (struct gm__mv){.type = GM__MV_INT, .i = to};
  return (struct gm__mv){.type = GM__MV_NULL};
}

static struct gm__mv mv_int(int64_t i) {
  return (struct gm__mv){.type = GM__MV_INT, .i = i};
}

static struct gm__mv mv_text(const char *s) {
  return s ? (struct gm__mv){.type = GM__MV_TEXT, .s = s}
           : (struct gm__mv){.type = GM__MV_NULL};
}

/* ---- child rows: keyed by their parent's id -----------------------------*/

struct child {
  const char *table;
  const char *parent;    /* the column holding the parent's id */
  const char *ref;       /* a column holding another row's id, or NULL */
  struct idmap *ref_map; /* remaps ref (an id it lacks becomes NULL) */
  uint64_t *count;       /* rows copied are counted here, or NULL */
  void *sel, *ins;
  struct gm__merge_columns cols;
  int n_vals;
  struct gm__mv vals[GM__MERGE_COLUMNS_MAX + 2];
  bool absent; /* the input (an older schema) has no such table */
};

static enum gm_status child_prepare(struct merge *m, struct child *c) {
  if (!m->src->has_table(m->in, c->table)) {
    c->absent = true;
    return GM_OK;
  }
  const char *skip[] = {c->parent, c->ref};
  enum gm_status rc = common_columns(m, c->table, skip, 2, &c->cols);
  if (rc != GM_OK)
    return rc;
  /* read: the common columns, then ref; written: parent, those, ref */
  const char *sel[GM__MERGE_COLUMNS_MAX + 1], *ins[GM__MERGE_COLUMNS_MAX + 2];
  int n_sel = names_of(&c->cols, sel, 0);
  ins[0] = c->parent;
  int n_ins = names_of(&c->cols, ins, 1);
  if (c->ref) {
    sel[n_sel++] = m->src->has_column(m->in, c->table, c->ref) ? c->ref : NULL;
    ins[n_ins++] = c->ref;
  }
  c->n_vals = n_ins;
  if ((rc = m->src->rows_open(m->in, c->table, n_sel, sel, c->parent,
                              &c->sel)) != GM_OK)
    return fail_in(m, c->table);
  if ((rc = m->dst->insert_open(m->out, c->table, n_ins, ins, false,
                                &c->ins)) != GM_OK)
    return fail_out(m, rc, c->table);
  return GM_OK;
}

static void child_finalize(struct merge *m, struct child *c) {
  m->src->rows_close(c->sel);
  m->dst->insert_close(c->ins);
  c->sel = c->ins = NULL;
}

static enum gm_status child_copy(struct merge *m, struct child *c,
                                 int64_t in_parent, int64_t out_parent) {
  if (c->absent)
    return GM_OK;
  if (m->src->rows_start(c->sel, in_parent) != GM_OK)
    return fail_in(m, c->table);
  struct gm__mv row[GM__MERGE_COLUMNS_MAX + 1];
  enum gm_status rc, step;
  while ((step = m->src->rows_next(c->sel, row)) == GM_OK) {
    c->vals[0] = mv_int(out_parent);
    for (int i = 0; i < c->cols.n; i++)
      c->vals[1 + i] = row[i];
    if (c->ref)
      c->vals[1 + c->cols.n] = remap(row[c->cols.n], c->ref_map);
    if ((rc = m->dst->insert(c->ins, c->vals, NULL)) != GM_OK)
      return fail_out(m, rc, c->table);
    if (c->count)
      (*c->count)++;
  }
  return step == GM_ERR_NOT_FOUND ? GM_OK : fail_in(m, c->table);
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
  for (size_t i = 0; i < n && rc == GM_OK && m->dst->insert_flush; i++)
    if (children[i].ins &&
        (rc = m->dst->insert_flush(children[i].ins)) != GM_OK)
      rc = fail_out(m, rc, children[i].table);
  for (size_t i = 0; i < n; i++)
    child_finalize(m, &children[i]);
  return rc;
}

/* ---- hosts: matched by fingerprint ---------------------------------------*/

static enum gm_status merge_hosts(struct merge *m) {
  static const char *const skip[] = {"id", "fingerprint", "first_seen",
                                     "last_seen"};
  struct gm__merge_columns c;
  enum gm_status rc = common_columns(m, "hosts", skip, 4, &c);
  if (rc != GM_OK)
    return rc;
  /* read: id, fingerprint, first_seen, last_seen, the common ones;
   * inserted: the same without id; updated: last_seen and the common */
  const char *sel[GM__MERGE_COLUMNS_MAX + 4] = {"id", "fingerprint",
                                                "first_seen", "last_seen"};
  int n_sel = names_of(&c, sel, 4);
  void *cur = NULL, *ins = NULL;
  if (m->src->rows_open(m->in, "hosts", n_sel, sel, NULL, &cur) != GM_OK ||
      m->src->rows_start(cur, 0) != GM_OK) {
    m->src->rows_close(cur);
    return fail_in(m, "hosts");
  }
  if ((rc = m->dst->insert_open(m->out, "hosts", n_sel - 1, sel + 1, true,
                                &ins)) != GM_OK) {
    m->src->rows_close(cur);
    return fail_out(m, rc, "hosts");
  }
  static const char *const find_where[] = {"fingerprint"};
  static const char *const find_ret[] = {"first_seen", "last_seen"};
  struct gm__mv row[GM__MERGE_COLUMNS_MAX + 4];
  enum gm_status step;
  while ((step = m->src->rows_next(cur, row)) == GM_OK) {
    int64_t in_id = row[0].i, out_id = 0;
    char got[2][GM__MERGE_TEXT_SIZE];
    bool found = false;
    if ((rc = m->dst->find(m->out, "hosts", 1, find_where, &row[1], 2, find_ret,
                           got, &out_id, &found)) != GM_OK) {
      rc = fail_out(m, rc, "hosts");
      break;
    }
    if (found) {
      m->res->hosts_matched++;
      const char *in_first = row[2].type == GM__MV_TEXT ? row[2].s : NULL;
      const char *in_last = row[3].type == GM__MV_TEXT ? row[3].s : NULL;
      /* the newest description is kept, and the earliest first_seen */
      if (in_last && (!got[1][0] || strcmp(in_last, got[1]) > 0))
        rc = m->dst->update(m->out, "hosts", out_id, n_sel - 3, sel + 3,
                            row + 3);
      if (rc == GM_OK && in_first && strcmp(in_first, got[0]) < 0)
        rc = m->dst->update(m->out, "hosts", out_id, 1, sel + 2, row + 2);
      if (rc != GM_OK) {
        rc = fail_out(m, rc, "hosts");
        break;
      }
    } else {
      if ((rc = m->dst->insert(ins, row + 1, &out_id)) != GM_OK) {
        rc = fail_out(m, rc, "hosts");
        break;
      }
      m->res->hosts_added++;
    }
    if (!map_put(&m->hosts, in_id, out_id)) {
      rc = no_memory(m);
      break;
    }
  }
  if (rc == GM_OK && step != GM_ERR_NOT_FOUND)
    rc = fail_in(m, "hosts");
  m->src->rows_close(cur);
  m->dst->insert_close(ins);
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
  static const char *const w[] = {"name"};
  struct gm__mv v = mv_text(name);
  int64_t id;
  enum gm_status rc =
      m->dst->find(m->out, "benches", 1, w, &v, 0, NULL, NULL, &id, taken);
  return rc == GM_OK ? GM_OK : fail_out(m, rc, "benches");
}

/* The fingerprint of the input's host in_host into fp (kept when it has
 * none). */
static enum gm_status in_fingerprint(struct merge *m, int64_t in_host, char *fp,
                                     size_t size) {
  static const char *const cols[] = {"id", "fingerprint"};
  void *cur = NULL;
  if (m->src->rows_open(m->in, "hosts", 2, cols, "id", &cur) != GM_OK ||
      m->src->rows_start(cur, in_host) != GM_OK) {
    m->src->rows_close(cur);
    return fail_in(m, "hosts");
  }
  struct gm__mv row[2];
  enum gm_status rc = m->src->rows_next(cur, row);
  if (rc == GM_OK && row[1].type == GM__MV_TEXT)
    gm__strlcpy(fp, row[1].s, size);
  m->src->rows_close(cur);
  return rc == GM_OK || rc == GM_ERR_NOT_FOUND ? GM_OK : fail_in(m, "hosts");
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
  if ((rc = in_fingerprint(m, in_host, fp, sizeof(fp))) != GM_OK)
    return rc;
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

/* Whether the row with the origin (origin_db, origin_id) is in the output:
 * a copy made before, or (own: the origin is the output) one of its own. */
static enum gm_status find_origin(struct merge *m, const char *table,
                                  const char *origin, int64_t origin_id,
                                  int64_t *out_id, bool *found) {
  bool own = strcmp(origin, m->out_uid) == 0;
  static const char *const by_origin[] = {"origin_db", "origin_id"};
  static const char *const native[] = {"id", "origin_db"};
  struct gm__mv v[2];
  if (own) {
    v[0] = mv_int(origin_id);
    v[1] = mv_text(NULL);
  } else {
    v[0] = mv_text(origin);
    v[1] = mv_int(origin_id);
  }
  enum gm_status rc = m->dst->find(m->out, table, 2, own ? native : by_origin,
                                   v, 0, NULL, NULL, out_id, found);
  return rc == GM_OK ? GM_OK : fail_out(m, rc, table);
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
  struct gm__merge_columns c;
  enum gm_status rc = common_columns(m, p->table, skip, n_skip, &c);
  if (rc != GM_OK)
    return rc;
  /* read: id, origin_db, origin_id, the refs, later, name, the common
   * ones (a column the input lacks read as NULL); inserted: the same
   * without id */
  const char *sel[GM__MERGE_COLUMNS_MAX + 8], *ins[GM__MERGE_COLUMNS_MAX + 8];
  bool origin_in = m->src->has_column(m->in, p->table, "origin_db");
  sel[0] = "id";
  sel[1] = origin_in ? "origin_db" : NULL;
  sel[2] = origin_in ? "origin_id" : NULL;
  ins[0] = "origin_db";
  ins[1] = "origin_id";
  const char *extra[4];
  int n_extra = 0;
  for (int i = 0; i < p->n_refs; i++)
    extra[n_extra++] = p->refs[i];
  if (p->later)
    extra[n_extra++] = p->later;
  if (p->named)
    extra[n_extra++] = "name";
  for (int i = 0; i < n_extra; i++) {
    sel[3 + i] =
        m->src->has_column(m->in, p->table, extra[i]) ? extra[i] : NULL;
    ins[2 + i] = extra[i];
  }
  const int first_extra = 3, first_common = 3 + n_extra;
  int n_sel = names_of(&c, sel, first_common);
  int n_ins = names_of(&c, ins, 2 + n_extra);
  void *cur = NULL, *stmt = NULL;
  if (m->src->rows_open(m->in, p->table, n_sel, sel, NULL, &cur) != GM_OK ||
      m->src->rows_start(cur, 0) != GM_OK) {
    m->src->rows_close(cur);
    return fail_in(m, p->table);
  }
  if ((rc = m->dst->insert_open(m->out, p->table, n_ins, ins, true, &stmt)) !=
      GM_OK) {
    m->src->rows_close(cur);
    return fail_out(m, rc, p->table);
  }
  struct gm__mv row[GM__MERGE_COLUMNS_MAX + 8], vals[GM__MERGE_COLUMNS_MAX + 8];
  enum gm_status step;
  while ((step = m->src->rows_next(cur, row)) == GM_OK) {
    int64_t in_id = row[0].i, out_id = 0;
    /* the row's origin: where it was first stored, and its id there */
    char origin[64];
    gm__strlcpy(origin, row[1].type == GM__MV_TEXT ? row[1].s : m->in_uid,
                sizeof(origin));
    int64_t origin_id = row[2].type == GM__MV_INT ? row[2].i : in_id;
    bool found = false;
    if ((rc = find_origin(m, p->table, origin, origin_id, &out_id, &found)) !=
        GM_OK)
      break;
    if (found) {
      (*p->skipped)++;
      if (!map_put(p->map, in_id, out_id)) {
        rc = no_memory(m);
        break;
      }
      continue;
    }
    vals[0] = mv_text(origin);
    vals[1] = mv_int(origin_id);
    int k = 0;
    for (int i = 0; i < p->n_refs; i++, k++)
      vals[2 + k] = remap(row[first_extra + k], p->ref_maps[i]);
    struct fresh fr = {.in_id = in_id};
    if (p->later) {
      fr.has_later = row[first_extra + k].type == GM__MV_INT;
      fr.later = row[first_extra + k].i;
      vals[2 + k] = mv_text(NULL);
      k++;
    }
    char given[256];
    if (p->named) {
      struct gm__mv nv = row[first_extra + k];
      char name[256];
      gm__strlcpy(name, nv.type == GM__MV_TEXT ? nv.s : "", sizeof(name));
      rc = bench_name(m, name, row[3].type == GM__MV_INT ? row[3].i : 0, origin,
                      origin_id, given, sizeof(given));
      if (rc != GM_OK)
        break;
      if (strcmp(given, name) != 0) {
        struct gm_store_merge_result *r = m->res;
        if (r->n_renames < GM_STORE_MERGE_RENAMES_MAX) {
          gm__strlcpy(r->renames[r->n_renames].from, name,
                      sizeof(r->renames[0].from));
          gm__strlcpy(r->renames[r->n_renames].to, given,
                      sizeof(r->renames[0].to));
          r->n_renames++;
        }
        r->benches_renamed++;
      }
      vals[2 + k] = mv_text(given);
      k++;
    }
    for (int i = 0; i < c.n; i++)
      vals[2 + k + i] = row[first_common + i];
    if ((rc = m->dst->insert(stmt, vals, &out_id)) != GM_OK) {
      rc = fail_out(m, rc, p->table);
      break;
    }
    fr.out_id = out_id;
    (*p->copied)++;
    if (!map_put(p->map, in_id, out_id) || !fresh_put(&p->fresh, fr)) {
      rc = no_memory(m);
      break;
    }
  }
  if (rc == GM_OK && step != GM_ERR_NOT_FOUND)
    rc = fail_in(m, p->table);
  m->src->rows_close(cur);
  m->dst->insert_close(stmt);
  return rc;
}

/* The fresh rows' later references, remapped now that their rows are
 * copied. */
static enum gm_status fix_later(struct merge *m, const struct parent *p,
                                const struct idmap *map) {
  for (size_t i = 0; i < p->fresh.n; i++) {
    int64_t to;
    const struct fresh *f = &p->fresh.v[i];
    if (!f->has_later || !map_get(map, f->later, &to))
      continue;
    struct gm__mv v = mv_int(to);
    enum gm_status rc =
        m->dst->update(m->out, p->table, f->out_id, 1, &p->later, &v);
    if (rc != GM_OK)
      return fail_out(m, rc, p->table);
  }
  return GM_OK;
}

/* ---- the merge -----------------------------------------------------------*/

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
  if (m->src->has_table(m->in, "benches") &&
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

enum gm_status gm__store_merge(struct gm_store *out, struct gm_store *in,
                               struct gm_store_merge_result *res) {
  struct merge m = {.out = out,
                    .in = in,
                    .src = in->ops->merge_source,
                    .dst = out->ops->merge_sink,
                    .res = res};
  if (m.dst->same && in->ops == out->ops && m.dst->same(out, in))
    return gm__store_error(out, GM_ERR_INVALID_ARG,
                           "'%s' is the output database '%s' itself: a store "
                           "cannot be merged into itself",
                           where(in), where(out));
  res->input_schema = in->ops->schema_version(in);
  enum gm_status rc = m.src->begin(in);
  if (rc != GM_OK)
    return fail_in(&m, "begin");
  if ((rc = m.dst->begin(out)) != GM_OK) {
    m.src->end(in);
    return fail_out(&m, rc, "begin");
  }
  if (m.src->uid(in, m.in_uid, sizeof(m.in_uid)) != GM_OK)
    rc = fail_in(&m, "store_meta");
  else if ((rc = m.dst->uid(out, m.out_uid, sizeof(m.out_uid))) != GM_OK)
    rc = fail_out(&m, rc, "store_meta");
  else if (in->ops != out->ops && m.in_uid[0] &&
           strcmp(m.in_uid, m.out_uid) == 0)
    rc = gm__store_error(out, GM_ERR_INVALID_ARG,
                         "'%s' and '%s' are the same database (id %s)",
                         where(in), where(out), m.in_uid);
  else
    rc = copy_all(&m);
  gm__strlcpy(res->input_uid, m.in_uid, sizeof(res->input_uid));
  if (rc == GM_OK && (rc = m.dst->commit(out)) != GM_OK)
    rc = fail_out(&m, rc, "commit");
  if (rc != GM_OK)
    m.dst->rollback(out);
  m.src->end(in);
  free(m.hosts.pair);
  free(m.baselines.pair);
  free(m.runs.pair);
  free(m.benches.pair);
  return rc;
}
