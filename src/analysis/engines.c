/* engines.c: the same cells on greenml's C engine and on PyTorch, side by
 * side (analysis.h: gm_analysis_engines). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_read.h"
#include "base/util.h"
#include "greenml/analysis.h"

static const char *const engines[GM_ANALYSIS_N_ENGINES] = {"greenml", "torch"};

static int engine_index(const char *config_json) {
  struct gm__json_value *v = NULL;
  int k = 0;
  if (config_json && gm__json_parse(config_json, &v) == GM_OK) {
    const struct gm__json_value *e = gm__json_get(v, "engine");
    if (e && e->type == GM__JSON_STRING && strcmp(e->string, "torch") == 0)
      k = 1;
  }
  gm__json_free(v);
  return k;
}

const char *gm_analysis_bench_engine(const struct gm_analysis_table *t,
                                     size_t i) {
  if (!t || i >= t->n_benches)
    return engines[0];
  return engines[engine_index(t->benches[i].config_json)];
}

/* Sums per (host, model, batch, kind) and engine. */
struct acc {
  struct gm_analysis_engine_row row;
  double samples[GM_ANALYSIS_N_ENGINES], duration[GM_ANALYSIS_N_ENGINES],
      energy[GM_ANALYSIS_N_ENGINES];
};

enum gm_status gm_analysis_engines(const struct gm_analysis_table *t, bool net,
                                   struct gm_analysis_engine_row **rows,
                                   size_t *n) {
  if (!t || !rows || !n)
    return GM_ERR_INVALID_ARG;
  *rows = NULL;
  *n = 0;
  struct acc *a = NULL;
  size_t na = 0, cap = 0;
  static const char *const kinds[] = {"train", "infer"};
  for (size_t b = 0; b < t->n_benches; b++) {
    int e = engine_index(t->benches[b].config_json);
    for (size_t k = 0; k < 2; k++) {
      struct gm_analysis_select sel = {
          .bench_id = t->benches[b].id, .kind = kinds[k], .net = net};
      struct gm_analysis_cell *cells = NULL;
      size_t nc = 0;
      enum gm_status rc = gm_analysis_cells(t, &sel, &cells, &nc);
      if (rc != GM_OK) {
        free(a);
        return rc;
      }
      for (size_t c = 0; c < nc; c++) {
        const struct gm_analysis_cell *cl = &cells[c];
        size_t i = 0;
        while (i < na && !(a[i].row.host_id == cl->host_id &&
                           a[i].row.batch_size == cl->batch_size &&
                           strcmp(a[i].row.precision, cl->precision) == 0 &&
                           strcmp(a[i].row.model, cl->model) == 0 &&
                           strcmp(a[i].row.kind, cl->kind) == 0))
          i++;
        if (i == na) {
          if (na == cap) {
            size_t nc2 = cap ? 2 * cap : 16;
            struct acc *q = realloc(a, nc2 * sizeof(*a));
            if (!q) {
              free(cells);
              free(a);
              return GM_ERR_NO_MEMORY;
            }
            a = q;
            cap = nc2;
          }
          memset(&a[na], 0, sizeof(a[na]));
          a[na].row.host_id = cl->host_id;
          a[na].row.batch_size = cl->batch_size;
          gm__strlcpy(a[na].row.precision, cl->precision,
                      sizeof(a[na].row.precision));
          gm__strlcpy(a[na].row.model, cl->model, sizeof(a[na].row.model));
          gm__strlcpy(a[na].row.kind, cl->kind, sizeof(a[na].row.kind));
          na++;
        }
        struct acc *x = &a[i];
        x->row.n_phases[e] += cl->n_phases;
        x->samples[e] += cl->samples;
        x->duration[e] += cl->duration_s;
        x->energy[e] += cl->energy_j; /* NAN when a phase was not metered */
        const char *p = x->row.provenance;
        if (!p[0])
          gm__strlcpy(x->row.provenance, cl->provenance,
                      sizeof(x->row.provenance));
        else if (strcmp(p, cl->provenance) != 0)
          gm__strlcpy(x->row.provenance, "mixed", sizeof(x->row.provenance));
      }
      free(cells);
    }
  }
  /* only the cells both engines ran */
  size_t m = 0;
  for (size_t i = 0; i < na; i++) {
    if (!a[i].row.n_phases[0] || !a[i].row.n_phases[1])
      continue;
    struct gm_analysis_engine_row r = a[i].row;
    for (int e = 0; e < GM_ANALYSIS_N_ENGINES; e++) {
      r.samples_per_s[e] =
          a[i].duration[e] > 0 ? a[i].samples[e] / a[i].duration[e] : NAN;
      r.j_per_sample[e] =
          a[i].samples[e] > 0 ? a[i].energy[e] / a[i].samples[e] : NAN;
    }
    a[m].row = r;
    m++;
  }
  if (m == 0) {
    free(a);
    return GM_OK;
  }
  struct gm_analysis_engine_row *out = malloc(m * sizeof(*out));
  if (!out) {
    free(a);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < m; i++)
    out[i] = a[i].row;
  free(a);
  *rows = out;
  *n = m;
  return GM_OK;
}
