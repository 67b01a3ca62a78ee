/* query.c: the queries of greenml/store.h. The implementation reads the
 * rows (store_ops.h); what is derived from them is derived here, once: a
 * run's total and its provenance by the accounting rules of energy.h, an
 * incomplete run's time and energy from its last samples. Also the memory
 * of the tables the queries return. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/energy.h"
#include "store/store_ops.h"

/* ---- runs ---------------------------------------------------------------- */

static void free_rows(struct gm__store_run_rows *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->rows[i].command);
    free(r->rows[i].incomplete_cause);
    free(r->rows[i].attributed_to);
    free(r->rows[i].attributed_provenance);
    free(r->rows[i].parts);
  }
  free(r->rows);
}

/* A run list and the strings it points at. */
struct run_list {
  struct gm_store_run_list pub; /* first: the list is this */
  char **commands;              /* [pub.n], owned */
  char **causes;                /* [pub.n], owned */
  char **attrib;                /* [2 pub.n]: to, provenance; owned */
};

enum gm_status gm_store_list_runs(struct gm_store *st,
                                  const struct gm_store_run_filter *filter,
                                  struct gm_store_run_list **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm__store_run_rows rows = {0};
  enum gm_status rc = st->ops->list_runs(st, filter ? filter->limit : 0, &rows);
  if (rc != GM_OK) {
    free_rows(&rows);
    return rc;
  }
  struct run_list *rl = calloc(1, sizeof(*rl));
  struct gm_store_run_list *l = rl ? &rl->pub : NULL;
  if (l && rows.n) {
    l->runs = calloc(rows.n, sizeof(*l->runs));
    rl->commands = calloc(rows.n, sizeof(*rl->commands));
    rl->causes = calloc(rows.n, sizeof(*rl->causes));
    rl->attrib = calloc(2 * rows.n, sizeof(*rl->attrib));
  }
  if (!l ||
      (rows.n && (!l->runs || !rl->commands || !rl->causes || !rl->attrib))) {
    gm_store_run_list_free(l);
    free_rows(&rows);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < rows.n; i++) {
    struct gm__store_run_row *row = &rows.rows[i];
    struct gm_store_run *r = &l->runs[l->n++];
    *r = row->run;
    /* the list owns the command from now on */
    rl->commands[i] = row->command;
    r->command = row->command;
    row->command = NULL;
    rl->causes[i] = row->incomplete_cause;
    r->incomplete_cause = row->incomplete_cause;
    row->incomplete_cause = NULL;
    rl->attrib[2 * i] = row->attributed_to;
    rl->attrib[2 * i + 1] = row->attributed_provenance;
    row->attributed_to = row->attributed_provenance = NULL;
    struct gm_energy_total total;
    gm_energy_account(row->parts, row->n_parts, NAN, &total);
    r->provenance = total.provenance;
    if (isnan(r->duration_s))
      r->duration_s = isnan(row->last_sample_s) ? 0 : row->last_sample_s;
    if (isnan(r->energy_j))
      r->energy_j = total.gross_j;
  }
  free_rows(&rows);
  *out = l;
  return GM_OK;
}

void gm_store_run_list_free(struct gm_store_run_list *l) {
  if (!l)
    return;
  struct run_list *rl = (struct run_list *)l;
  for (size_t i = 0; rl->commands && i < l->n; i++)
    free(rl->commands[i]);
  for (size_t i = 0; rl->causes && i < l->n; i++)
    free(rl->causes[i]);
  for (size_t i = 0; rl->attrib && i < 2 * l->n; i++)
    free(rl->attrib[i]);
  free(rl->commands);
  free(rl->causes);
  free(rl->attrib);
  free(l->runs);
  free(rl);
}

/* ---- benches ------------------------------------------------------------- */

/* A bench set and the blocks (strings, component arrays) it points into. */
struct bench_set {
  struct gm_store_bench_set pub; /* first: the set is this */
  void **blocks;
  size_t n_blocks, cap;
};

static void *keep(struct gm_store_bench_set *set, void *block) {
  struct bench_set *s = (struct bench_set *)set;
  if (!block)
    return NULL;
  if (s->n_blocks == s->cap) {
    size_t nc = s->cap ? 2 * s->cap : 64;
    void **nb = realloc(s->blocks, nc * sizeof(*nb));
    if (!nb) {
      free(block);
      return NULL;
    }
    s->blocks = nb;
    s->cap = nc;
  }
  s->blocks[s->n_blocks++] = block;
  return block;
}

const char *gm__store_strdup(struct gm_store_bench_set *set, const char *s,
                             bool *oom) {
  if (!s)
    return NULL;
  const char *d = keep(set, strdup(s));
  if (!d)
    *oom = true;
  return d;
}

struct gm_store_phase_component *
gm__store_components(struct gm_store_bench_set *set, size_t n) {
  return keep(set, calloc(n ? n : 1, sizeof(struct gm_store_phase_component)));
}

enum gm_status gm_store_load_benches(struct gm_store *st,
                                     const struct gm_store_bench_filter *filter,
                                     struct gm_store_bench_set **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_store_bench_filter all = {.bench_id = 0, .rows = true};
  struct bench_set *s = calloc(1, sizeof(*s));
  if (!s)
    return GM_ERR_NO_MEMORY;
  enum gm_status rc =
      st->ops->load_benches(st, filter ? filter : &all, &s->pub);
  if (rc != GM_OK) {
    gm_store_bench_set_free(&s->pub);
    return rc;
  }
  *out = &s->pub;
  return GM_OK;
}

void gm_store_bench_set_free(struct gm_store_bench_set *set) {
  if (!set)
    return;
  struct bench_set *s = (struct bench_set *)set;
  for (size_t i = 0; i < s->n_blocks; i++)
    free(s->blocks[i]);
  free(s->blocks);
  free(set->benches);
  free(set->models);
  free(set->phases);
  free(set->predictions);
  free(s);
}

/* ---- series -------------------------------------------------------------- */

enum gm_status gm_store_load_series(struct gm_store *st, int64_t run_id,
                                    bool columns_only,
                                    struct gm_store_series **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_store_series *s = calloc(1, sizeof(*s));
  if (!s)
    return GM_ERR_NO_MEMORY;
  s->run_id = run_id;
  enum gm_status rc = st->ops->load_series(st, run_id, columns_only, s);
  if (rc != GM_OK) {
    gm_store_series_free(s);
    return rc;
  }
  *out = s;
  return GM_OK;
}

void gm_store_series_free(struct gm_store_series *s) {
  if (!s)
    return;
  free(s->components);
  free(s->metrics);
  free(s->seq);
  free(s->t_s);
  free(s->energy_j);
  free(s->power_w);
  free(s->metric);
  free(s);
}

/* ---- a measured run's phases -------------------------------------------- */

enum gm_status gm_store_load_run_phases(struct gm_store *st, int64_t run_id,
                                        struct gm_store_run_phases **out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  struct gm_store_run_phases *p = calloc(1, sizeof(*p));
  if (!p)
    return GM_ERR_NO_MEMORY;
  p->run_id = run_id;
  enum gm_status rc = st->ops->load_run_phases(st, run_id, p);
  if (rc != GM_OK) {
    gm_store_run_phases_free(p);
    return rc;
  }
  *out = p;
  return GM_OK;
}

void gm_store_run_phases_free(struct gm_store_run_phases *p) {
  if (!p)
    return;
  free(p->phases);
  free(p->component);
  free(p->component_energy_j);
  free(p->component_net_energy_j);
  free(p);
}
