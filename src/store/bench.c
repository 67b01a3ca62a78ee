/* bench.c: the study runner's calls of greenml/store.h: argument checks,
 * the rules every implementation shares (a bench name and a phase row are
 * written once), and dispatch through the handle's ops. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_ops.h"

enum gm_status gm_store_bench_create(struct gm_store *st, int64_t host_id,
                                     const struct gm_bench_meta *meta,
                                     int64_t *bench_id) {
  if (!st || !meta || !meta->name || !meta->config_json || !bench_id)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  struct gm_bench_info old;
  rc = gm_store_bench_find(st, meta->name, &old);
  if (rc == GM_OK) {
    gm__store_error(st, GM_ERR_STATE, "a bench named '%s' exists (%s)",
                    meta->name, old.status);
    gm_bench_info_clear(&old);
    return GM_ERR_STATE;
  }
  if (rc != GM_ERR_NOT_FOUND)
    return rc;
  return st->ops->bench_create(st, host_id, meta, bench_id);
}

enum gm_status gm_store_bench_find(struct gm_store *st, const char *name,
                                   struct gm_bench_info *out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  return st->ops->bench_find(st, name, out);
}

void gm_bench_info_clear(struct gm_bench_info *b) {
  if (!b)
    return;
  free(b->config_json);
  b->config_json = NULL;
}

enum gm_status gm_store_bench_set_status(struct gm_store *st, int64_t bench_id,
                                         const char *status) {
  if (!st || !status)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  return rc != GM_OK ? rc : st->ops->bench_update(st, bench_id, status, 0);
}

enum gm_status gm_store_bench_set_idle(struct gm_store *st, int64_t bench_id,
                                       int64_t baseline_id) {
  if (!st)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  return rc != GM_OK ? rc
                     : st->ops->bench_update(st, bench_id, NULL, baseline_id);
}

enum gm_status gm_store_bench_put_model(struct gm_store *st, int64_t bench_id,
                                        const struct gm_bench_model *m) {
  if (!st || !m || !m->model)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  return rc != GM_OK ? rc : st->ops->bench_put_model(st, bench_id, m);
}

enum gm_status gm_store_bench_has_phase(struct gm_store *st, int64_t bench_id,
                                        const char *model, int batch_size,
                                        const char *precision, const char *kind,
                                        int epoch, bool metered, bool *exists) {
  if (!st || !model || !kind || !exists)
    return GM_ERR_INVALID_ARG;
  return st->ops->bench_has_phase(st, bench_id, model, batch_size,
                                  precision ? precision : "fp32", kind, epoch,
                                  metered, exists);
}

enum gm_status gm_store_bench_add_phase(struct gm_store *st, int64_t bench_id,
                                        const struct gm_bench_phase *p) {
  if (!st || !p || !p->model || !p->kind || (p->n_components && !p->components))
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  if (rc != GM_OK)
    return rc;
  bool exists = false;
  const char *prec = p->precision ? p->precision : "fp32";
  rc = gm_store_bench_has_phase(st, bench_id, p->model, p->batch_size, prec,
                                p->kind, p->epoch, p->metered, &exists);
  if (rc != GM_OK)
    return rc;
  if (exists)
    return gm__store_error(
        st, GM_ERR_STATE,
        "phase %s %s epoch %d (batch %d, %s) is already recorded", p->model,
        p->kind, p->epoch, p->batch_size, prec);
  /* the samples of the phase first; those the store cannot take yet stay
   * buffered for the next commit */
  gm_store_commit(st);
  return st->ops->bench_add_phase(st, bench_id, p);
}

enum gm_status
gm_store_bench_put_prediction(struct gm_store *st, int64_t bench_id,
                              const struct gm_bench_prediction *p) {
  if (!st || !p || !p->model || !p->kind)
    return GM_ERR_INVALID_ARG;
  enum gm_status rc = gm__store_writable(st);
  return rc != GM_OK ? rc : st->ops->bench_put_prediction(st, bench_id, p);
}

/* ---- study queries ------------------------------------------------------ */

void gm_bench_flags_clear(struct gm_bench_flags *f) {
  if (!f)
    return;
  for (size_t i = 0; i < f->n; i++)
    free(f->flags[i]);
  free(f->flags);
  f->flags = NULL;
  f->n = 0;
}

enum gm_status gm_store_bench_flags(struct gm_store *st, int64_t bench_id,
                                    struct gm_bench_flags *out) {
  if (!st || !out)
    return GM_ERR_INVALID_ARG;
  memset(out, 0, sizeof(*out));
  enum gm_status rc = st->ops->bench_flags(st, bench_id, out);
  if (rc != GM_OK)
    gm_bench_flags_clear(out);
  return rc;
}

enum gm_status gm_store_bench_work(struct gm_store *st, int64_t bench_id,
                                   struct gm_bench_work **rows, size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  return st->ops->bench_work(st, bench_id, rows, n);
}

enum gm_status gm_store_bench_summary(struct gm_store *st, int64_t bench_id,
                                      struct gm_bench_summary_row **rows,
                                      size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  enum gm_status rc = st->ops->bench_summary(st, bench_id, rows, n);
  if (rc != GM_OK)
    return rc;
  /* The store lists the distinct labels of each row's phases; their
   * total's label is energy.h's rule. */
  for (size_t i = 0; i < *n; i++) {
    struct gm_bench_summary_row *r = &(*rows)[i];
    const char *label = "none";
    char *save = NULL;
    for (char *t = strtok_r(r->provenance, ",", &save); t;
         t = strtok_r(NULL, ",", &save))
      label = gm_energy_provenance_join(label, t);
    /* label may point into r->provenance: copied out before the write */
    char joined[sizeof(r->provenance)];
    snprintf(joined, sizeof(joined), "%s", label);
    memcpy(r->provenance, joined, sizeof(joined));
  }
  return GM_OK;
}

enum gm_status gm_store_bench_overhead(struct gm_store *st, int64_t bench_id,
                                       struct gm_bench_overhead_row **rows,
                                       size_t *n) {
  if (!st || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  return st->ops->bench_overhead(st, bench_id, rows, n);
}
