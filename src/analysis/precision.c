/* precision.c: the same cells in fp32 and in bf16, side by side
 * (analysis.h: gm_analysis_precisions). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "greenml/analysis.h"

static const char *const precisions[GM_ANALYSIS_N_PRECISIONS] = {"fp32",
                                                                 "bf16"};

static int precision_index(const char *p) {
  for (int i = 0; i < GM_ANALYSIS_N_PRECISIONS; i++)
    if (strcmp(p, precisions[i]) == 0)
      return i;
  return -1;
}

/* The final accuracy of a cell in precision q: the phase of that host,
 * model, batch size and kind with the largest epoch (the latest on a
 * tie); NAN when none has one. */
static double final_accuracy(const struct gm_analysis_table *t,
                             const struct gm_analysis_precision_row *r,
                             const char *q, int *epoch) {
  double acc = NAN;
  int best = -1;
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    if (p->host_id != r->host_id || p->batch_size != r->batch_size ||
        strcmp(p->model, r->model) != 0 || strcmp(p->kind, r->kind) != 0 ||
        strcmp(p->precision, q) != 0 || !isfinite(p->accuracy) ||
        p->epoch < best)
      continue;
    best = p->epoch;
    acc = p->accuracy;
  }
  if (epoch && best > *epoch)
    *epoch = best;
  return acc;
}

static double ratio(double a, double b) {
  return isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
}

enum gm_status gm_analysis_precisions(const struct gm_analysis_table *t,
                                      bool net,
                                      struct gm_analysis_precision_row **rows,
                                      size_t *n) {
  if (!t || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  static const char *const kinds[] = {"train", "infer"};
  struct gm_analysis_precision_row *a = NULL;
  size_t na = 0, cap = 0;
  for (size_t k = 0; k < 2; k++) {
    struct gm_analysis_select sel = {.kind = kinds[k], .net = net};
    struct gm_analysis_cell *cells = NULL;
    size_t nc = 0;
    enum gm_status rc = gm_analysis_cells(t, &sel, &cells, &nc);
    if (rc != GM_OK) {
      free(a);
      return rc;
    }
    for (size_t c = 0; c < nc; c++) {
      const struct gm_analysis_cell *cl = &cells[c];
      int q = precision_index(cl->precision);
      if (q < 0)
        continue;
      size_t i = 0;
      while (i < na && !(a[i].host_id == cl->host_id &&
                         a[i].batch_size == cl->batch_size &&
                         strcmp(a[i].model, cl->model) == 0 &&
                         strcmp(a[i].kind, cl->kind) == 0))
        i++;
      if (i == na) {
        if (na == cap) {
          size_t ncap = cap ? 2 * cap : 16;
          struct gm_analysis_precision_row *g = realloc(a, ncap * sizeof(*a));
          if (!g) {
            free(cells);
            free(a);
            return GM_ERR_NO_MEMORY;
          }
          a = g;
          cap = ncap;
        }
        struct gm_analysis_precision_row *r = &a[na++];
        memset(r, 0, sizeof(*r));
        r->host_id = cl->host_id;
        r->batch_size = cl->batch_size;
        gm__strlcpy(r->model, cl->model, sizeof(r->model));
        gm__strlcpy(r->kind, cl->kind, sizeof(r->kind));
        for (int e = 0; e < GM_ANALYSIS_N_PRECISIONS; e++)
          r->j_per_sample[e] = r->s_per_sample[e] = r->accuracy[e] = NAN;
      }
      struct gm_analysis_precision_row *r = &a[i];
      r->n_phases[q] = cl->n_phases;
      r->j_per_sample[q] = cl->j_per_sample;
      r->s_per_sample[q] = cl->s_per_sample;
      if (!r->provenance[0])
        gm__strlcpy(r->provenance, cl->provenance, sizeof(r->provenance));
      else if (strcmp(r->provenance, cl->provenance) != 0)
        gm__strlcpy(r->provenance, "mixed", sizeof(r->provenance));
    }
    free(cells);
  }
  /* only the cells measured in both */
  size_t m = 0;
  for (size_t i = 0; i < na; i++) {
    struct gm_analysis_precision_row r = a[i];
    if (!r.n_phases[0] || !r.n_phases[1])
      continue;
    r.final_epoch = 0;
    for (int q = 0; q < GM_ANALYSIS_N_PRECISIONS; q++)
      r.accuracy[q] = final_accuracy(t, &r, precisions[q], &r.final_epoch);
    r.energy_ratio = ratio(r.j_per_sample[1], r.j_per_sample[0]);
    r.time_ratio = ratio(r.s_per_sample[1], r.s_per_sample[0]);
    r.accuracy_ratio = ratio(r.accuracy[1], r.accuracy[0]);
    a[m++] = r;
  }
  if (m == 0) {
    free(a);
    return GM_OK;
  }
  *rows = a;
  *n = m;
  return GM_OK;
}
