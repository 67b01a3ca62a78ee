/* hosts.c: the same models on two hosts (analysis.h: gm_analysis_hosts):
 * whether they rank the same by energy per sample, and how well one host's
 * energy per sample predicts the other's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "greenml/analysis.h"
#include "greenml/stats.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof(*v), cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The distinct host ids of the cells, in order of first appearance. */
static size_t hosts_of(const struct gm_analysis_cell *c, size_t n,
                       int64_t *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < k && out[j] != c[i].host_id)
      j++;
    if (j == k)
      out[k++] = c[i].host_id;
  }
  return k;
}

static bool usable(const struct gm_analysis_cell *c) {
  return isfinite(c->j_per_sample) && c->j_per_sample > 0;
}

/* The cell of host h, model, batch size; NULL when none is usable. */
static const struct gm_analysis_cell *find(const struct gm_analysis_cell *c,
                                           size_t n, int64_t h,
                                           const char *model, int batch) {
  for (size_t i = 0; i < n; i++)
    if (c[i].host_id == h && c[i].batch_size == batch &&
        strcmp(c[i].model, model) == 0)
      return usable(&c[i]) ? &c[i] : NULL;
  return NULL;
}

/* How many models hosts a and b both measured at batch size bs. */
static size_t common(const struct gm_analysis_cell *c, size_t n, int64_t a,
                     int64_t b, int bs) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (c[i].host_id == a && c[i].batch_size == bs && usable(&c[i]) &&
        find(c, n, b, c[i].model, bs))
      k++;
  return k;
}

static void join_prov(char *p, size_t size, const char *q) {
  if (!p[0])
    gm__strlcpy(p, q, size);
  else if (strcmp(p, q) != 0)
    gm__strlcpy(p, "mixed", size);
}

/* Fills the statistics of pair r from the n common models' J/sample on a
 * (x) and b (y), names the models. x and y are scratch of the caller. */
static enum gm_status compare(struct gm_analysis_host_pair *r, const double *x,
                              const double *y, const char (*names)[64],
                              size_t n) {
  r->rho = r->rho_p = r->loo_mape_pct = r->loo_max_abs_pct = NAN;
  r->slope = r->ratio_median = NAN;
  r->rank_verdict = r->predict_verdict = GM_VERDICT_UNTESTABLE;
  double *lx = malloc((n ? n : 1) * sizeof(double));
  double *ly = malloc((n ? n : 1) * sizeof(double));
  double *fx = malloc((n ? n : 1) * sizeof(double));
  double *fy = malloc((n ? n : 1) * sizeof(double));
  if (!lx || !ly || !fx || !fy) {
    free(lx), free(ly), free(fx), free(fy);
    return GM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < n; i++) {
    lx[i] = log(x[i]);
    ly[i] = log(y[i]);
    fx[i] = y[i] / x[i];
  }
  if (n)
    r->ratio_median = median(fx, n);
  struct gm_stats_corr sp;
  if (n >= 3 && gm_stats_spearman(x, y, n, &sp) == GM_OK) {
    r->rho = sp.r;
    r->rho_p = sp.p;
  }
  struct gm_stats_fit fit;
  if (n >= 3 && gm_stats_fit(GM_STATS_LINEAR, lx, ly, n, &fit) == GM_OK)
    r->slope = fit.b;
  /* each model left out, predicted by the law of the others */
  if (n >= 4) {
    double sum = 0, worst = -1;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
      size_t m = 0;
      for (size_t j = 0; j < n; j++)
        if (j != i) {
          fx[m] = lx[j];
          fy[m] = ly[j];
          m++;
        }
      if (gm_stats_fit(GM_STATS_LINEAR, fx, fy, m, &fit) != GM_OK)
        continue;
      double pred = exp(fit.a + fit.b * lx[i]);
      double err = fabs(pred / y[i] - 1.0) * 100.0;
      sum += err;
      used++;
      if (err > worst) {
        worst = err;
        gm__strlcpy(r->worst_model, names[i], sizeof(r->worst_model));
      }
    }
    if (used == n) {
      r->loo_mape_pct = sum / (double)n;
      r->loo_max_abs_pct = worst;
    }
  }
  free(lx), free(ly), free(fx), free(fy);
  if (n < GM_ANALYSIS_MIN_N_VERDICT) {
    gm__fmt(r->why, sizeof(r->why),
            "%zu model%s measured on both hosts at batch size %d: a verdict "
            "needs %d",
            n, n == 1 ? "" : "s", r->batch_size, GM_ANALYSIS_MIN_N_VERDICT);
    return GM_OK;
  }
  if (isnan(r->rho))
    gm__fmt(r->why, sizeof(r->why),
            "energy per sample is the same for every model on one host: "
            "there is no ranking to compare");
  else if (r->rho >= GM_ANALYSIS_HOSTS_RHO)
    r->rank_verdict =
        r->rho_p < 0.05 ? GM_VERDICT_AGREES : GM_VERDICT_INCONCLUSIVE;
  else
    r->rank_verdict = GM_VERDICT_DISAGREES;
  if (!isnan(r->loo_mape_pct))
    r->predict_verdict = r->loo_mape_pct <= GM_ANALYSIS_HOSTS_MAPE_PCT
                             ? GM_VERDICT_AGREES
                             : GM_VERDICT_DISAGREES;
  else if (!r->why[0])
    gm__fmt(r->why, sizeof(r->why),
            "the power law cannot be fitted without one of the models "
            "(equal energies per sample on the first host)");
  return GM_OK;
}

enum gm_status gm_analysis_hosts(const struct gm_analysis_table *t, bool net,
                                 struct gm_analysis_host_pair **out,
                                 size_t *n) {
  if (!t || !out || !n)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  *n = 0;
  static const char *const kinds[] = {"train", "infer"};
  struct gm_analysis_host_pair *pairs = NULL;
  size_t np = 0, cap = 0;
  enum gm_status rc = GM_OK;
  for (size_t k = 0; k < 2 && rc == GM_OK; k++) {
    struct gm_analysis_select sel = {.kind = kinds[k], .net = net};
    struct gm_analysis_cell *c = NULL;
    size_t nc = 0;
    if ((rc = gm_analysis_cells(t, &sel, &c, &nc)) != GM_OK)
      break;
    int64_t *hosts = malloc((nc ? nc : 1) * sizeof(int64_t));
    double *x = malloc((nc ? nc : 1) * sizeof(double));
    double *y = malloc((nc ? nc : 1) * sizeof(double));
    char(*names)[64] = malloc((nc ? nc : 1) * sizeof(*names));
    if (!hosts || !x || !y || !names) {
      rc = GM_ERR_NO_MEMORY;
    } else {
      size_t nh = hosts_of(c, nc, hosts);
      for (size_t i = 0; i < nh && rc == GM_OK; i++)
        for (size_t j = 0; j < nh && rc == GM_OK; j++) {
          int64_t a = hosts[i], b = hosts[j];
          if (a >= b)
            continue;
          /* the batch size with the most common models; 128 on a tie */
          int bs = 0;
          size_t best = 0;
          for (size_t q = 0; q < nc; q++) {
            if (c[q].host_id != a)
              continue;
            size_t m = common(c, nc, a, b, c[q].batch_size);
            if (m > best || (m == best && m > 0 && c[q].batch_size == 128)) {
              best = m;
              bs = c[q].batch_size;
            }
          }
          if (best == 0)
            continue;
          if (np == cap) {
            size_t nc2 = cap ? 2 * cap : 4;
            struct gm_analysis_host_pair *q =
                realloc(pairs, nc2 * sizeof(*pairs));
            if (!q) {
              rc = GM_ERR_NO_MEMORY;
              break;
            }
            pairs = q;
            cap = nc2;
          }
          struct gm_analysis_host_pair *r = &pairs[np++];
          memset(r, 0, sizeof(*r));
          r->host_a = a;
          r->host_b = b;
          r->batch_size = bs;
          gm__strlcpy(r->kind, kinds[k], sizeof(r->kind));
          size_t m = 0;
          for (size_t q = 0; q < nc; q++) {
            if (c[q].host_id != a || c[q].batch_size != bs || !usable(&c[q]))
              continue;
            const struct gm_analysis_cell *cb = find(c, nc, b, c[q].model, bs);
            if (!cb)
              continue;
            x[m] = c[q].j_per_sample;
            y[m] = cb->j_per_sample;
            gm__strlcpy(names[m], c[q].model, sizeof(names[m]));
            join_prov(r->provenance, sizeof(r->provenance), c[q].provenance);
            join_prov(r->provenance, sizeof(r->provenance), cb->provenance);
            m++;
          }
          r->n = m;
          rc = compare(r, x, y, (const char(*)[64])names, m);
        }
    }
    free(hosts);
    free(x);
    free(y);
    free(names);
    free(c);
  }
  if (rc != GM_OK) {
    free(pairs);
    return rc;
  }
  *out = pairs;
  *n = np;
  return GM_OK;
}
