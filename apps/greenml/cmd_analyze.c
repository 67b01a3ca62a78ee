/* cmd_analyze.c: `greenml analyze`: a summary of the benches in the
 * database with carbon and cost, the correlations of energy with time,
 * model characteristics, batch size and utilisation per host and phase
 * kind, and the claims of Mavromatis et al. (2024) checked one by one. The
 * numbers come from greenml/analysis.h; this file prints them. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/engine.h"
#include "greenml/json.h"
#include "cli.h"

static const char usage_text[] =
    "usage: greenml analyze [--db PATH] [--run ID] [--json] [--net|--gross] "
    "[options]\n"
    "\n"
    "Analyses the benches in the database (written by 'greenml bench'):\n"
    "  - a summary per bench, model, batch size and phase kind: phases,\n"
    "    samples, time, energy, energy per sample, carbon and cost;\n"
    "  - Pearson r and Spearman rho (ties averaged) with two-sided p-values\n"
    "    and n, per host and phase kind: energy against time (points:\n"
    "    phases), energy per sample against MACs, parameters, MACs per\n"
    "    parameter, batch size and CPU/GPU utilisation (points: model x\n"
    "    batch cells), mean power against utilisation (points: phases);\n"
    "  - the paper's claims, each with its threshold, n, the provenance of\n"
    "    the energy and a verdict: agrees, does not agree, inconclusive\n"
    "    (past the threshold but p >= 0.05) or cannot test (and why).\n"
    "\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --run ID             one bench: its name (bench --run-id) or id\n"
    "                       (default: every bench, grouped by host)\n"
    "  --json               the same as one JSON document on stdout\n"
    "  --net                net energy (idle power subtracted) instead of "
    "gross;\n"
    "                       phases without a net energy, or whose net is not\n"
    "                       above 0 (at or below idle), are left out and\n"
    "                       counted, never averaged\n"
    "  --gross              gross energy (the default)\n"
    "  --from-run ID        one measured run instead of the benches\n"
    "                       ('greenml runs' lists them): its phases grouped\n"
    "                       by name without the trailing number (epoch-1,\n"
    "                       epoch-2: epoch), each group's time, energy, mean\n"
    "                       and spread per phase; energy against time over\n"
    "                       the phases, and the paper's claim that energy is\n"
    "                       linear in time\n" GM_CLI_COST_HELP;

/* The correlations reported for every host and kind. */
static const struct {
  enum gm_analysis_unit unit;
  enum gm_analysis_var x, y;
} specs[] = {
    {GM_AUNIT_PHASE, GM_AVAR_DURATION_S, GM_AVAR_ENERGY_J},
    {GM_AUNIT_CELL, GM_AVAR_MACS, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_CELL, GM_AVAR_PARAMS, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_CELL, GM_AVAR_MACS_PER_PARAM, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_CELL, GM_AVAR_BATCH_SIZE, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_CELL, GM_AVAR_CPU_UTIL_PCT, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_CELL, GM_AVAR_GPU_UTIL_PCT, GM_AVAR_J_PER_SAMPLE},
    {GM_AUNIT_PHASE, GM_AVAR_CPU_UTIL_PCT, GM_AVAR_AVG_POWER_W},
    {GM_AUNIT_PHASE, GM_AVAR_GPU_UTIL_PCT, GM_AVAR_AVG_POWER_W},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static const char *const kinds[] = {"train", "infer"};
static const char *const summary_kinds[] = {"train", "infer", "profile-train",
                                            "profile-infer"};

struct ctx {
  const struct gm_analysis_table *t;
  struct gm_cli_cost cost;
  bool json, net, attributed;
  const char *db;
  struct gm_json j;
};

static const char *unit_points(enum gm_analysis_unit u) {
  return u == GM_AUNIT_CELL ? "cells" : "phases";
}

/* The distinct host ids of the benches, in order of first appearance. */
static size_t hosts_of(const struct gm_analysis_table *t, int64_t *ids,
                       size_t **first) {
  size_t n = 0;
  for (size_t i = 0; i < t->n_benches; i++) {
    bool seen = false;
    for (size_t k = 0; k < n; k++)
      if (ids[k] == t->benches[i].host_id)
        seen = true;
    if (!seen) {
      (*first)[n] = i;
      ids[n++] = t->benches[i].host_id;
    }
  }
  return n;
}

static void host_label(const struct gm_analysis_table *t, size_t bench,
                       char *buf, size_t size) {
  const struct gm_analysis_bench *b = &t->benches[bench];
  snprintf(buf, size, "host %lld (%s%s%s)", (long long)b->host_id,
           b->hostname[0] ? b->hostname : "unnamed",
           b->cpu_model[0] ? ", " : "", b->cpu_model);
}

/* ---- net energy: what it leaves out ---------------------------------------
 */

/* The phases of sel that net energy leaves out; zero for gross. */
static int excluded(struct ctx *c, struct gm_analysis_select sel,
                    struct gm_analysis_net_excluded *x) {
  memset(x, 0, sizeof(*x));
  if (!c->net)
    return 0;
  return gm_analysis_net_excluded(c->t, &sel, x) == GM_OK ? 0
                                                          : GM_EXIT_SOFTWARE;
}

static void json_excluded(struct ctx *c,
                          const struct gm_analysis_net_excluded *x) {
  struct gm_json *j = &c->j;
  gm_json_key(j, "net_excluded");
  if (!c->net) {
    gm_json_null(j);
    return;
  }
  gm_json_begin_object(j);
  gm_json_key(j, "no_net");
  gm_json_int(j, (int64_t)x->no_net);
  gm_json_key(j, "not_positive");
  gm_json_int(j, (int64_t)x->not_positive);
  gm_json_end_object(j);
}

/* "left out (net energy): 2 phases whose net is not above 0 (...), 1 phase
 * without a net energy (...)"; nothing when none is. */
static void print_excluded(const char *what,
                           const struct gm_analysis_net_excluded *x) {
  if (!x->no_net && !x->not_positive)
    return;
  printf("%s leave%s out", what, strcmp(what, "this summary") == 0 ? "s" : "");
  if (x->not_positive)
    printf(" %zu phase%s whose net energy is not above 0 (at or below the "
           "idle baseline, which no work is: the baseline does not describe "
           "them)",
           x->not_positive, x->not_positive == 1 ? "" : "s");
  if (x->no_net)
    printf("%s %zu phase%s without a net energy (no idle baseline applied)",
           x->not_positive ? " and" : "", x->no_net, x->no_net == 1 ? "" : "s");
  printf("; --gross uses every phase\n");
}

/* ---- summary ------------------------------------------------------------- */

static int cmp_cell(const void *a, const void *b) {
  const struct gm_analysis_cell *x = a, *y = b;
  return x->first_phase < y->first_phase ? -1 : x->first_phase > y->first_phase;
}

/* The cells of one bench, every kind, in recorded order (caller frees). */
static int bench_cells(struct ctx *c, const struct gm_analysis_bench *b,
                       struct gm_analysis_cell **out, size_t *n) {
  *out = NULL;
  *n = 0;
  for (size_t k = 0; k < sizeof(summary_kinds) / sizeof(*summary_kinds); k++) {
    struct gm_analysis_select sel = {
        .bench_id = b->id, .kind = summary_kinds[k], .net = c->net};
    struct gm_analysis_cell *cells;
    size_t m;
    if (gm_analysis_cells(c->t, &sel, &cells, &m) != GM_OK) {
      free(*out);
      return GM_EXIT_SOFTWARE;
    }
    if (m) {
      void *p = realloc(*out, (*n + m) * sizeof(**out));
      if (!p) {
        free(cells);
        free(*out);
        return GM_EXIT_SOFTWARE;
      }
      *out = p;
      memcpy(*out + *n, cells, m * sizeof(*cells));
      *n += m;
    }
    free(cells);
  }
  if (*n)
    qsort(*out, *n, sizeof(**out), cmp_cell);
  return 0;
}

static int summary(struct ctx *c, const struct gm_analysis_bench *b) {
  struct gm_analysis_cell *cells;
  size_t n;
  int ec = bench_cells(c, b, &cells, &n);
  if (ec)
    return ec;
  struct gm_analysis_net_excluded ex = {0, 0};
  for (size_t k = 0; k < sizeof(summary_kinds) / sizeof(*summary_kinds); k++) {
    struct gm_analysis_net_excluded xk;
    struct gm_analysis_select sel = {.bench_id = b->id,
                                     .kind = summary_kinds[k]};
    if ((ec = excluded(c, sel, &xk)) != 0) {
      free(cells);
      return ec;
    }
    ex.no_net += xk.no_net;
    ex.not_positive += xk.not_positive;
  }
  double te = 0, tt = 0, ts = 0;
  size_t tp = 0;
  bool jobs = false; /* a Slurm job column: some row ran in one */
  for (size_t i = 0; i < n; i++)
    jobs = jobs || cells[i].jobs[0];
  if (c->json) {
    gm_json_begin_object(&c->j);
    gm_json_key(&c->j, "bench");
    gm_json_string(&c->j, b->name);
    gm_json_key(&c->j, "bench_id");
    gm_json_int(&c->j, b->id);
    gm_json_key(&c->j, "rows");
    gm_json_begin_array(&c->j);
  } else {
    printf("\nsummary of bench '%s' (sums over its metered phases; %s "
           "energy)\n",
           b->name, c->net ? "net" : "gross");
    printf("%-16s %5s %-9s %-13s %6s %9s %10s %12s %12s %14s %12s  %s%s\n",
           "model", "batch", "precision", "kind", "phases", "samples", "time",
           "energy", "J/sample", "carbon", "cost",
           jobs ? "provenance  " : "provenance", jobs ? "Slurm job" : "");
  }
  for (size_t i = 0; i < n; i++) {
    const struct gm_analysis_cell *x = &cells[i];
    double g = gm_cli_cost_carbon_g(&c->cost, x->energy_j);
    double money = gm_cli_cost_money(&c->cost, x->energy_j);
    te += x->energy_j;
    tt += x->duration_s;
    ts += x->samples;
    tp += x->n_phases;
    if (c->json) {
      struct gm_json *j = &c->j;
      gm_json_begin_object(j);
      gm_json_key(j, "model");
      gm_json_string(j, x->model);
      gm_json_key(j, "batch_size");
      gm_json_int(j, x->batch_size);
      gm_json_key(j, "precision");
      gm_json_string(j, x->precision);
      gm_json_key(j, "kind");
      gm_json_string(j, x->kind);
      gm_json_key(j, "phases");
      gm_json_int(j, (int64_t)x->n_phases);
      gm_json_key(j, "samples");
      gm_json_number(j, x->samples);
      gm_json_key(j, "duration_s");
      gm_json_number(j, x->duration_s);
      gm_json_key(j, "energy_j");
      gm_json_number(j, x->energy_j);
      gm_json_key(j, "j_per_sample");
      gm_json_number(j, x->j_per_sample);
      gm_json_key(j, "avg_power_w");
      gm_json_number(j, x->avg_power_w);
      gm_json_key(j, "carbon_g");
      gm_json_number(j, g);
      gm_json_key(j, "cost");
      gm_json_number(j, money);
      gm_json_key(j, "provenance");
      gm_json_string(j, x->provenance);
      gm_json_key(j, "slurm_jobs");
      if (x->jobs[0])
        gm_json_string(j, x->jobs);
      else
        gm_json_null(j);
      gm_json_end_object(j);
    } else {
      char tb[32], eb[32], cb[32], mb[32];
      gm_cli_fmt_seconds(tb, sizeof(tb), x->duration_s);
      gm_cli_fmt_energy(eb, sizeof(eb), x->energy_j);
      gm_cli_fmt_carbon(cb, sizeof(cb), g);
      gm_cli_fmt_money(mb, sizeof(mb), &c->cost, money);
      printf("%-16s %5d %-9s %-13s %6zu %9.0f %10s %12s %12.4g %14s %12s  "
             "%-*s%s\n",
             x->model, x->batch_size, x->precision, x->kind, x->n_phases,
             x->samples, tb, eb, x->j_per_sample, cb, mb, jobs ? 12 : 0,
             x->provenance, x->jobs);
    }
  }
  free(cells);
  double g = gm_cli_cost_carbon_g(&c->cost, te);
  double money = gm_cli_cost_money(&c->cost, te);
  if (c->json) {
    struct gm_json *j = &c->j;
    gm_json_end_array(j);
    gm_json_key(j, "total");
    gm_json_begin_object(j);
    gm_json_key(j, "phases");
    gm_json_int(j, (int64_t)tp);
    gm_json_key(j, "samples");
    gm_json_number(j, ts);
    gm_json_key(j, "duration_s");
    gm_json_number(j, tt);
    gm_json_key(j, "energy_j");
    gm_json_number(j, te);
    gm_json_key(j, "carbon_g");
    gm_json_number(j, g);
    gm_json_key(j, "cost");
    gm_json_number(j, money);
    gm_json_end_object(j);
    json_excluded(c, &ex);
    gm_json_end_object(j);
  } else if (n == 0) {
    printf("(no metered phase with an energy)\n");
    print_excluded("this summary", &ex);
  } else {
    char tb[32], eb[32], cb[32], mb[32];
    gm_cli_fmt_seconds(tb, sizeof(tb), tt);
    gm_cli_fmt_energy(eb, sizeof(eb), te);
    gm_cli_fmt_carbon(cb, sizeof(cb), g);
    gm_cli_fmt_money(mb, sizeof(mb), &c->cost, money);
    printf("%-16s %5s %-9s %-13s %6zu %9.0f %10s %12s %12s %14s %12s\n",
           "total", "", "", "", tp, ts, tb, eb, "", cb, mb);
    print_excluded("this summary", &ex);
  }
  return 0;
}

/* ---- correlations -------------------------------------------------------- */

static void json_corr(struct gm_json *j, const char *name,
                      const struct gm_stats_corr *k) {
  gm_json_key(j, name);
  gm_json_begin_object(j);
  gm_json_key(j, "coefficient");
  gm_json_number(j, k->r);
  gm_json_key(j, "p");
  gm_json_number(j, k->p);
  gm_json_key(j, "t");
  gm_json_number(j, k->t);
  gm_json_key(j, "n");
  gm_json_int(j, (int64_t)k->n);
  gm_json_key(j, "p_method");
  gm_json_string(j, gm_stats_p_method_name(k->p_method));
  gm_json_end_object(j);
}

/* Precision q's name when host has phases in it, else NULL; label receives
 * the host's label, with the precision when the host has phases in more
 * than one. */
static const char *host_precision(const struct gm_analysis_table *t,
                                  int64_t host, int q, size_t first,
                                  char *label, size_t size) {
  const char *name = gm_nn_precision_name((enum gm_nn_precision)q);
  bool has[GM_NN_PRECISION_COUNT] = {false};
  for (size_t i = 0; i < t->n_phases; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    if (p->host_id != host)
      continue;
    for (int k = 0; k < GM_NN_PRECISION_COUNT; k++)
      if (strcmp(p->precision, gm_nn_precision_name((enum gm_nn_precision)k)) ==
          0)
        has[k] = true;
  }
  if (!has[q])
    return NULL;
  int n = 0;
  for (int k = 0; k < GM_NN_PRECISION_COUNT; k++)
    n += has[k];
  char hl[320];
  host_label(t, first, hl, sizeof(hl));
  if (n > 1)
    snprintf(label, size, "%s, %s cells", hl, name);
  else
    snprintf(label, size, "%s", hl);
  return name;
}

static int correlations(struct ctx *c, int64_t host, const char *prec,
                        const char *label) {
  if (!c->json)
    printf("\ncorrelations on %s: Pearson r and Spearman rho, two-sided p, "
           "n points\n%-6s %-22s %-20s %-6s %3s %7s %9s %7s %9s  %s\n",
           label, "kind", "y", "x", "points", "n", "r", "p", "rho", "p",
           "energy");
  for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++)
    for (size_t i = 0; i < N_SPECS; i++) {
      struct gm_analysis_select sel = {
          .host_id = host, .kind = kinds[k], .precision = prec, .net = c->net};
      struct gm_analysis_corr r;
      if (gm_analysis_correlate(c->t, &sel, specs[i].unit, specs[i].x,
                                specs[i].y, &r) != GM_OK)
        return GM_EXIT_SOFTWARE;
      bool ok = r.untestable == GM_AUNTESTABLE_NONE;
      if (c->json) {
        struct gm_json *j = &c->j;
        gm_json_begin_object(j);
        gm_json_key(j, "host_id");
        gm_json_int(j, host);
        gm_json_key(j, "kind");
        gm_json_string(j, kinds[k]);
        gm_json_key(j, "precision");
        gm_json_string(j, prec);
        gm_json_key(j, "x");
        gm_json_string(j, gm_analysis_var_name(r.x));
        gm_json_key(j, "y");
        gm_json_string(j, gm_analysis_var_name(r.y));
        gm_json_key(j, "points");
        gm_json_string(j, unit_points(r.unit));
        gm_json_key(j, "n");
        gm_json_int(j, (int64_t)r.n);
        gm_json_key(j, "n_missing");
        gm_json_int(j, (int64_t)r.n_missing);
        gm_json_key(j, "testable");
        gm_json_bool(j, ok);
        gm_json_key(j, "why");
        if (ok)
          gm_json_null(j);
        else
          gm_json_string(j, r.why);
        if (ok) {
          json_corr(j, "pearson", &r.pearson);
          json_corr(j, "spearman", &r.spearman);
        } else {
          gm_json_key(j, "pearson");
          gm_json_null(j);
          gm_json_key(j, "spearman");
          gm_json_null(j);
        }
        gm_json_key(j, "provenance");
        gm_json_string(j, r.provenance);
        gm_json_end_object(j);
        continue;
      }
      printf("%-6s %-22s %-20s %-6s %3zu", kinds[k], gm_analysis_var_label(r.y),
             gm_analysis_var_label(r.x), unit_points(r.unit), r.n);
      if (ok && r.n_missing)
        printf(" %7.3f %9.2g %7.3f %9.2g  %s (%zu %s without a value)\n",
               r.pearson.r, r.pearson.p, r.spearman.r, r.spearman.p,
               r.provenance, r.n_missing, unit_points(r.unit));
      else if (ok)
        printf(" %7.3f %9.2g %7.3f %9.2g  %s\n", r.pearson.r, r.pearson.p,
               r.spearman.r, r.spearman.p, r.provenance);
      else
        printf("  cannot test: %s\n", r.why);
    }
  return 0;
}

/* ---- claims -------------------------------------------------------------- */

static void print_claim(const struct gm_analysis_claim *cl, const char *kind) {
  printf("    %s: ", kind);
  if (cl->verdict == GM_VERDICT_UNTESTABLE) {
    printf("cannot test: %s", cl->why);
  } else if (cl->id == GM_CLAIM_TRAIN_3X) {
    printf("measured %.2fx (median over %zu %s; range %.2fx .. %.2fx; %zu "
           "within 2x .. 4x)",
           cl->value, cl->n, cl->points, cl->min, cl->max, cl->n_pass);
  } else if (cl->id == GM_CLAIM_BATCH) {
    printf("higher at the smallest batch for %zu of %zu models (%.0f %%; "
           "smallest over largest: median %.2fx, range %.2fx .. %.2fx)",
           cl->n_pass, cl->n, 100 * cl->value, cl->median, cl->min, cl->max);
  } else {
    printf("%s = %.3f, p = %.2g, n = %zu %s", cl->statistic, cl->value, cl->p,
           cl->n, cl->points);
    if (cl->batch_size)
      printf(" at batch %d", cl->batch_size);
  }
  if (cl->verdict != GM_VERDICT_UNTESTABLE)
    printf(" (paper %s): %s", cl->paper, gm_analysis_verdict_name(cl->verdict));
  if (cl->id == GM_CLAIM_TRAIN_3X)
    printf(" [%s]", cl->provenance_detail);
  else
    printf(" [energy %s%s%s]", cl->provenance[0] ? cl->provenance : "n/a",
           cl->provenance_detail[0] ? ": " : "", cl->provenance_detail);
  if (cl->verdict != GM_VERDICT_UNTESTABLE && cl->why[0])
    printf("; note: %s", cl->why);
  putchar('\n');
}

static void json_claim(struct gm_json *j, const struct gm_analysis_claim *cl,
                       int64_t host, const char *kind, const char *prec) {
  gm_json_begin_object(j);
  if (prec) { /* a bench's cells; a meter run's phases have none */
    gm_json_key(j, "precision");
    gm_json_string(j, prec);
  }
  gm_json_key(j, "claim");
  gm_json_string(j, cl->key);
  gm_json_key(j, "statement");
  gm_json_string(j, cl->statement);
  gm_json_key(j, "host_id");
  gm_json_int(j, host);
  gm_json_key(j, "kind");
  gm_json_string(j, kind);
  gm_json_key(j, "paper");
  gm_json_string(j, cl->paper);
  gm_json_key(j, "threshold");
  gm_json_string(j, cl->threshold);
  gm_json_key(j, "statistic");
  gm_json_string(j, cl->statistic);
  gm_json_key(j, "value");
  gm_json_number(j, cl->value);
  gm_json_key(j, "p");
  gm_json_number(j, cl->p);
  gm_json_key(j, "n");
  gm_json_int(j, (int64_t)cl->n);
  gm_json_key(j, "points");
  gm_json_string(j, cl->points);
  gm_json_key(j, "batch_size");
  if (cl->batch_size)
    gm_json_int(j, cl->batch_size);
  else
    gm_json_null(j);
  gm_json_key(j, "min");
  gm_json_number(j, cl->min);
  gm_json_key(j, "max");
  gm_json_number(j, cl->max);
  gm_json_key(j, "median");
  gm_json_number(j, cl->median);
  gm_json_key(j, "n_pass");
  gm_json_int(j, (int64_t)cl->n_pass);
  gm_json_key(j, "verdict");
  gm_json_string(j, gm_analysis_verdict_name(cl->verdict));
  gm_json_key(j, "provenance");
  gm_json_string(j, cl->provenance);
  gm_json_key(j, "provenance_detail");
  gm_json_string(j, cl->provenance_detail);
  gm_json_key(j, "note");
  if (cl->why[0])
    gm_json_string(j, cl->why);
  else
    gm_json_null(j);
  gm_json_end_object(j);
}

static int claims(struct ctx *c, int64_t host, const char *prec,
                  const char *label) {
  if (!c->json)
    printf("\nthe paper's claims on %s\n", label);
  for (int id = 0; id < GM_CLAIM_COUNT_; id++) {
    bool both = id == GM_CLAIM_TRAIN_3X;
    for (size_t k = 0; k < (both ? 1 : sizeof(kinds) / sizeof(*kinds)); k++) {
      struct gm_analysis_select sel = {.host_id = host,
                                       .kind = both ? NULL : kinds[k],
                                       .precision = prec,
                                       .net = c->net};
      struct gm_analysis_claim cl;
      if (gm_analysis_check_claim(c->t, &sel, (enum gm_analysis_claim_id)id,
                                  &cl) != GM_OK)
        return GM_EXIT_SOFTWARE;
      const char *kind = both ? "train/infer" : kinds[k];
      if (c->json) {
        json_claim(&c->j, &cl, host, kind, prec);
        continue;
      }
      if (k == 0)
        printf("  %s (paper: %s; %s)\n", cl.statement, cl.paper, cl.threshold);
      print_claim(&cl, kind);
    }
  }
  return 0;
}

/* ---- the command --------------------------------------------------------- */

static void json_benches(struct ctx *c) {
  struct gm_json *j = &c->j;
  gm_json_key(j, "benches");
  gm_json_begin_array(j);
  for (size_t i = 0; i < c->t->n_benches; i++) {
    const struct gm_analysis_bench *b = &c->t->benches[i];
    gm_json_begin_object(j);
    gm_json_key(j, "id");
    gm_json_int(j, b->id);
    gm_json_key(j, "name");
    gm_json_string(j, b->name);
    gm_json_key(j, "status");
    gm_json_string(j, b->status);
    gm_json_key(j, "created_at");
    gm_json_string(j, b->created_at);
    gm_json_key(j, "host_id");
    gm_json_int(j, b->host_id);
    gm_json_key(j, "hostname");
    gm_json_string(j, b->hostname);
    gm_json_key(j, "cpu_model");
    gm_json_string(j, b->cpu_model);
    gm_json_key(j, "phases");
    gm_json_int(j, (int64_t)b->n_phases);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
}

/* The cells both engines ran: greenml's C engine against PyTorch. */
static int engines(struct ctx *c) {
  struct gm_analysis_engine_row *rows = NULL;
  size_t n = 0;
  if (gm_analysis_engines(c->t, c->net, &rows, &n) != GM_OK)
    return GM_EXIT_SOFTWARE;
  if (c->json) {
    struct gm_json *j = &c->j;
    gm_json_key(j, "engines");
    gm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
      const struct gm_analysis_engine_row *r = &rows[i];
      gm_json_begin_object(j);
      gm_json_key(j, "host_id");
      gm_json_int(j, r->host_id);
      gm_json_key(j, "model");
      gm_json_string(j, r->model);
      gm_json_key(j, "batch_size");
      gm_json_int(j, r->batch_size);
      gm_json_key(j, "precision");
      gm_json_string(j, r->precision);
      gm_json_key(j, "kind");
      gm_json_string(j, r->kind);
      static const char *const names[] = {"greenml", "torch"};
      for (int e = 0; e < GM_ANALYSIS_N_ENGINES; e++) {
        gm_json_key(j, names[e]);
        gm_json_begin_object(j);
        gm_json_key(j, "phases");
        gm_json_int(j, (int64_t)r->n_phases[e]);
        gm_json_key(j, "samples_per_s");
        gm_json_number(j, r->samples_per_s[e]);
        gm_json_key(j, "j_per_sample");
        gm_json_number(j, r->j_per_sample[e]);
        gm_json_end_object(j);
      }
      gm_json_key(j, "speedup");
      gm_json_number(j, r->samples_per_s[0] / r->samples_per_s[1]);
      gm_json_key(j, "energy_ratio");
      gm_json_number(j, r->j_per_sample[0] / r->j_per_sample[1]);
      gm_json_key(j, "provenance");
      gm_json_string(j, r->provenance);
      gm_json_end_object(j);
    }
    gm_json_end_array(j);
    free(rows);
    return 0;
  }
  if (n) {
    printf("\nengines compared: greenml's C engine against PyTorch (bench "
           "--engine torch) on the same host, model, batch size and phase "
           "kind; %s energy\n",
           c->net ? "net" : "gross");
    printf("  %-16s %5s %-5s %12s %12s %8s %13s %13s %8s  %s\n", "model",
           "batch", "kind", "greenml /s", "torch /s", "speedup",
           "greenml J/smp", "torch J/smp", "J ratio", "provenance");
    for (size_t i = 0; i < n; i++) {
      const struct gm_analysis_engine_row *r = &rows[i];
      printf("  %-16s %5d %-5s %12.1f %12.1f %7.2fx %13.4g %13.4g %8.2f  %s\n",
             r->model, r->batch_size, r->kind, r->samples_per_s[0],
             r->samples_per_s[1], r->samples_per_s[0] / r->samples_per_s[1],
             r->j_per_sample[0], r->j_per_sample[1],
             r->j_per_sample[0] / r->j_per_sample[1], r->provenance);
    }
    printf("  (speedup: greenml's samples/s over PyTorch's; J ratio: greenml's "
           "energy per sample over PyTorch's, below 1 when greenml uses less)"
           "\n");
  }
  free(rows);
  return 0;
}

/* The cells measured in fp32 and in bf16: the ratios of energy and time
 * per sample and of the final accuracy. */
static int precisions_compared(struct ctx *c) {
  struct gm_analysis_precision_row *rows = NULL;
  size_t n = 0;
  if (gm_analysis_precisions(c->t, c->net, &rows, &n) != GM_OK)
    return GM_EXIT_SOFTWARE;
  static const char *const names[] = {"fp32", "bf16"};
  if (c->json) {
    struct gm_json *j = &c->j;
    gm_json_key(j, "precisions");
    gm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
      const struct gm_analysis_precision_row *r = &rows[i];
      gm_json_begin_object(j);
      gm_json_key(j, "host_id");
      gm_json_int(j, r->host_id);
      gm_json_key(j, "model");
      gm_json_string(j, r->model);
      gm_json_key(j, "batch_size");
      gm_json_int(j, r->batch_size);
      gm_json_key(j, "kind");
      gm_json_string(j, r->kind);
      for (int q = 0; q < GM_ANALYSIS_N_PRECISIONS; q++) {
        gm_json_key(j, names[q]);
        gm_json_begin_object(j);
        gm_json_key(j, "phases");
        gm_json_int(j, (int64_t)r->n_phases[q]);
        gm_json_key(j, "j_per_sample");
        gm_json_number(j, r->j_per_sample[q]);
        gm_json_key(j, "s_per_sample");
        gm_json_number(j, r->s_per_sample[q]);
        gm_json_key(j, "accuracy");
        gm_json_number(j, r->accuracy[q]);
        gm_json_end_object(j);
      }
      gm_json_key(j, "final_epoch");
      gm_json_int(j, r->final_epoch);
      gm_json_key(j, "energy_ratio");
      gm_json_number(j, r->energy_ratio);
      gm_json_key(j, "time_ratio");
      gm_json_number(j, r->time_ratio);
      gm_json_key(j, "accuracy_ratio");
      gm_json_number(j, r->accuracy_ratio);
      gm_json_key(j, "provenance");
      gm_json_string(j, r->provenance);
      gm_json_end_object(j);
    }
    gm_json_end_array(j);
    free(rows);
    return 0;
  }
  if (n) {
    printf("\nprecision compared: bf16 against fp32 on the same host, "
           "model, batch size and phase kind; %s energy, measured per "
           "phase\n",
           c->net ? "net" : "gross");
    printf("  %-16s %5s %-5s %12s %12s %8s %10s %10s %8s %8s %8s %8s  %s\n",
           "model", "batch", "kind", "fp32 J/smp", "bf16 J/smp", "J ratio",
           "fp32 s/smp", "bf16 s/smp", "t ratio", "fp32 acc", "bf16 acc",
           "acc rat", "provenance");
    for (size_t i = 0; i < n; i++) {
      const struct gm_analysis_precision_row *r = &rows[i];
      printf("  %-16s %5d %-5s %12.4g %12.4g %8.3f %10.4g %10.4g %8.3f "
             "%7.2f%% %7.2f%% %8.3f  %s\n",
             r->model, r->batch_size, r->kind, r->j_per_sample[0],
             r->j_per_sample[1], r->energy_ratio, r->s_per_sample[0],
             r->s_per_sample[1], r->time_ratio, 100 * r->accuracy[0],
             100 * r->accuracy[1], r->accuracy_ratio, r->provenance);
    }
    printf("  (ratios: bf16 over fp32, below 1 when bf16 uses less energy or "
           "time, or reaches a lower accuracy; accuracy of the last epoch "
           "measured, J and s per sample measured over the cell's phases)\n");
  }
  free(rows);
  return 0;
}

/* The host label of host id h (its first bench's). */
static void host_label_id(const struct gm_analysis_table *t, int64_t h,
                          char *buf, size_t size) {
  for (size_t i = 0; i < t->n_benches; i++)
    if (t->benches[i].host_id == h) {
      host_label(t, i, buf, size);
      return;
    }
  snprintf(buf, size, "host %lld", (long long)h);
}

/* Two hosts on the same models: rankings and predictions, with verdicts. */
static int hosts_compared(struct ctx *c) {
  struct gm_analysis_host_pair *p = NULL;
  size_t n = 0;
  if (gm_analysis_hosts(c->t, c->net, &p, &n) != GM_OK)
    return GM_EXIT_SOFTWARE;
  if (c->json) {
    struct gm_json *j = &c->j;
    gm_json_key(j, "hosts_compared");
    gm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
      const struct gm_analysis_host_pair *r = &p[i];
      gm_json_begin_object(j);
      gm_json_key(j, "host_a");
      gm_json_int(j, r->host_a);
      gm_json_key(j, "host_b");
      gm_json_int(j, r->host_b);
      gm_json_key(j, "kind");
      gm_json_string(j, r->kind);
      gm_json_key(j, "batch_size");
      gm_json_int(j, r->batch_size);
      gm_json_key(j, "models");
      gm_json_int(j, (int64_t)r->n);
      gm_json_key(j, "rho");
      gm_json_number(j, r->rho);
      gm_json_key(j, "rho_p");
      gm_json_number(j, r->rho_p);
      gm_json_key(j, "rank_verdict");
      gm_json_string(j, gm_analysis_verdict_name(r->rank_verdict));
      gm_json_key(j, "loo_mape_pct");
      gm_json_number(j, r->loo_mape_pct);
      gm_json_key(j, "loo_max_abs_pct");
      gm_json_number(j, r->loo_max_abs_pct);
      gm_json_key(j, "worst_model");
      gm_json_string(j, r->worst_model);
      gm_json_key(j, "predict_verdict");
      gm_json_string(j, gm_analysis_verdict_name(r->predict_verdict));
      gm_json_key(j, "slope");
      gm_json_number(j, r->slope);
      gm_json_key(j, "ratio_median");
      gm_json_number(j, r->ratio_median);
      gm_json_key(j, "provenance");
      gm_json_string(j, r->provenance);
      gm_json_key(j, "why");
      if (r->why[0])
        gm_json_string(j, r->why);
      else
        gm_json_null(j);
      gm_json_end_object(j);
    }
    gm_json_end_array(j);
    free(p);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    const struct gm_analysis_host_pair *r = &p[i];
    char ha[320], hb[320];
    host_label_id(c->t, r->host_a, ha, sizeof(ha));
    host_label_id(c->t, r->host_b, hb, sizeof(hb));
    printf("\nhosts compared (%s, batch size %d, %s energy per sample, %s): "
           "%s against %s, %zu models on both\n",
           r->kind, r->batch_size, c->net ? "net" : "gross", r->provenance, ha,
           hb, r->n);
    printf("  the models rank the same: Spearman rho = %.3f (p = %.2g); "
           "agrees when rho >= %.1f and p < 0.05: %s\n",
           r->rho, r->rho_p, GM_ANALYSIS_HOSTS_RHO,
           gm_analysis_verdict_name(r->rank_verdict));
    printf("  one host predicts the other: a power law fitted without each "
           "model misses it by %.1f %% on average (worst %.1f %%, %s); "
           "agrees at or below %.0f %%: %s\n",
           r->loo_mape_pct, r->loo_max_abs_pct,
           r->worst_model[0] ? r->worst_model : "-", GM_ANALYSIS_HOSTS_MAPE_PCT,
           gm_analysis_verdict_name(r->predict_verdict));
    printf("  the second host's energy per sample is %.3g x the first's "
           "(median over models; power-law exponent %.3f)\n",
           r->ratio_median, r->slope);
    if (r->why[0])
      printf("  cannot test: %s\n", r->why);
  }
  free(p);
  return 0;
}

static int run(struct ctx *c) {
  const struct gm_analysis_table *t = c->t;
  int64_t *hosts = malloc(t->n_benches * sizeof(int64_t));
  size_t *first = malloc(t->n_benches * sizeof(size_t));
  if (!hosts || !first) {
    free(hosts);
    free(first);
    return GM_EXIT_SOFTWARE;
  }
  size_t nh = hosts_of(t, hosts, &first);
  char cost[512];
  gm_cli_describe_cost(cost, sizeof(cost), &c->cost);
  /* what the correlations and claims leave out: train and infer phases */
  struct gm_analysis_net_excluded x;
  int ec = excluded(c, (struct gm_analysis_select){0}, &x);
  if (ec) {
    free(hosts);
    free(first);
    return ec;
  }
  if (c->json) {
    gm_json_begin_object(&c->j);
    gm_json_key(&c->j, "database");
    gm_json_string(&c->j, c->db);
    gm_json_key(&c->j, "energy");
    gm_json_string(&c->j, c->net ? "net" : "gross");
    json_excluded(c, &x);
    gm_json_key(&c->j, "cost");
    gm_cli_json_cost(&c->j, &c->cost);
    json_benches(c);
    gm_json_key(&c->j, "summary");
    gm_json_begin_array(&c->j);
  } else {
    printf("database '%s': %zu bench%s\n", c->db, t->n_benches,
           t->n_benches == 1 ? "" : "es");
    for (size_t i = 0; i < t->n_benches; i++) {
      char hl[320];
      host_label(t, i, hl, sizeof(hl));
      printf("  '%s' (id %lld, %s, %zu phases) on %s\n", t->benches[i].name,
             (long long)t->benches[i].id, t->benches[i].status,
             t->benches[i].n_phases, hl);
    }
    printf("energy: %s, over the components in each phase's total; %s\n",
           c->net ? "net (idle power x time subtracted)" : "gross", cost);
    print_excluded("the correlations and claims", &x);
  }
  for (size_t i = 0; i < t->n_benches && !ec; i++)
    ec = summary(c, &t->benches[i]);
  if (c->json)
    gm_json_end_array(&c->j);
  if (!ec)
    ec = engines(c);
  if (!ec)
    ec = precisions_compared(c);
  if (!ec)
    ec = hosts_compared(c);
  if (c->json) {
    gm_json_key(&c->j, "correlations");
    gm_json_begin_array(&c->j);
  }
  /* one precision at a time: fp32 and bf16 cells are two populations,
   * never correlated or tested together */
  for (size_t h = 0; h < nh && !ec; h++)
    for (int q = 0; q < GM_NN_PRECISION_COUNT && !ec; q++) {
      char hl[360];
      const char *prec =
          host_precision(t, hosts[h], q, first[h], hl, sizeof(hl));
      if (prec)
        ec = correlations(c, hosts[h], prec, hl);
    }
  if (c->json) {
    gm_json_end_array(&c->j);
    gm_json_key(&c->j, "claims");
    gm_json_begin_array(&c->j);
  }
  for (size_t h = 0; h < nh && !ec; h++)
    for (int q = 0; q < GM_NN_PRECISION_COUNT && !ec; q++) {
      char hl[360];
      const char *prec =
          host_precision(t, hosts[h], q, first[h], hl, sizeof(hl));
      if (prec)
        ec = claims(c, hosts[h], prec, hl);
    }
  if (c->json) {
    gm_json_end_array(&c->j);
    gm_json_end_object(&c->j);
    if (!ec && c->j.oom)
      ec = GM_EXIT_SOFTWARE;
    if (!ec)
      printf("%s\n", c->j.buf);
  }
  free(hosts);
  free(first);
  return ec;
}

enum { O_JSON = GM_OPT_FIRST_FREE, O_NET, O_GROSS, O_FROM_RUN, O_ATTRIBUTED };

/* ---- a measured run ------------------------------------------------------ */

/* A phase name without its trailing number: "epoch-12" -> "epoch". */
static void stem(char *dst, size_t size, const char *name) {
  size_t n = strlen(name);
  while (n > 0 && name[n - 1] >= '0' && name[n - 1] <= '9')
    n--;
  if (n < strlen(name))
    while (n > 0 && (name[n - 1] == '-' || name[n - 1] == '_' ||
                     name[n - 1] == ' ' || name[n - 1] == '.'))
      n--;
  if (n == 0)
    n = strlen(name);
  snprintf(dst, size, "%.*s", (int)n, name);
}

struct run_group {
  char name[64];
  size_t n;
  double duration_s, energy_j, sum_sq; /* sums; sum of energy squares */
  bool energy_missing;
};

static int analyze_run(struct ctx *c, const char *db_given, int64_t run_id) {
  char db[1024];
  struct gm_store *st = NULL;
  int ec = gm_cli_open_run_store("analyze", db_given, db, sizeof(db), &st);
  if (ec)
    return ec;
  struct gm_store_run_list *runs = NULL;
  struct gm_store_run_phases *ph = NULL;
  struct run_group *g = NULL;
  double *d = NULL, *e = NULL;
  const struct gm_store_run *run = NULL;
  if ((ec = gm_cli_find_run("analyze", st, db, run_id, &runs, &run)))
    goto out;
  if (gm_store_load_run_phases(st, run_id, &ph) != GM_OK) {
    gm_cli_error("analyze", "%s", gm_store_last_error(st));
    ec = GM_EXIT_IOERR;
    goto out;
  }
  if (ph->n == 0) {
    gm_cli_error("analyze",
                 "run %lld has no phases: mark them (greenml mark NAME, "
                 "Meter.phase() in Python) to analyse a run",
                 (long long)run_id);
    ec = GM_EXIT_DATAERR;
    goto out;
  }
  if (c->attributed && !run->attributed_to) {
    gm_cli_error("analyze",
                 "run %lld has no attributed energy (measured before "
                 "attribution was recorded, or without a process to "
                 "attribute to): leave out --attributed",
                 (long long)run_id);
    ec = GM_EXIT_DATAERR;
    goto out;
  }
  /* what the figures are: the machine's, or the command's share */
  const char *prov =
      c->attributed ? run->attributed_provenance : run->provenance;
  g = calloc(ph->n, sizeof(*g));
  d = calloc(ph->n, sizeof(double));
  e = calloc(ph->n, sizeof(double));
  if (!g || !d || !e) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  size_t ng = 0, np = 0;
  for (size_t i = 0; i < ph->n; i++) {
    const struct gm_store_run_phase *p = &ph->phases[i];
    double energy = c->attributed
                        ? (c->net ? p->attributed_net_j : p->attributed_j)
                        : (c->net ? p->net_energy_j : p->energy_j);
    /* a net at or below idle is not an energy of the phase: left out */
    if (c->net && !(energy > 0))
      energy = NAN;
    char name[64];
    stem(name, sizeof(name), p->name);
    size_t k = 0;
    while (k < ng && strcmp(g[k].name, name) != 0)
      k++;
    if (k == ng)
      snprintf(g[ng++].name, sizeof(g[0].name), "%s", name);
    g[k].n++;
    g[k].duration_s += p->duration_s;
    if (isfinite(energy)) {
      g[k].energy_j += energy;
      g[k].sum_sq += energy * energy;
    } else {
      g[k].energy_missing = true;
    }
    d[np] = p->duration_s;
    e[np++] = energy;
  }
  struct gm_analysis_corr corr;
  struct gm_analysis_claim claim;
  if (gm_analysis_correlate_points(d, e, np, GM_AVAR_DURATION_S,
                                   GM_AVAR_ENERGY_J, &corr) != GM_OK ||
      gm_analysis_claim_linear_time(d, e, np, prov, &claim) != GM_OK) {
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  const char *which = c->net ? "net" : "gross";
  if (c->json) {
    struct gm_json *j = &c->j;
    gm_json_begin_object(j);
    gm_json_key(j, "run_id");
    gm_json_int(j, run_id);
    gm_json_key(j, "command");
    if (run->command)
      gm_json_string(j, run->command);
    else
      gm_json_null(j);
    gm_json_key(j, "energy");
    gm_json_string(j, which);
    gm_json_key(j, "of");
    gm_json_string(j, c->attributed ? "command" : "machine");
    if (c->attributed) {
      gm_json_key(j, "attributed_to");
      gm_json_string(j, run->attributed_to);
    }
    gm_json_key(j, "provenance");
    gm_json_string(j, prov);
    gm_json_key(j, "groups");
    gm_json_begin_array(j);
    for (size_t k = 0; k < ng; k++) {
      double mean = g[k].energy_j / (double)g[k].n;
      double var = g[k].n > 1 ? (g[k].sum_sq - g[k].n * mean * mean) /
                                    (double)(g[k].n - 1)
                              : NAN;
      double sd = g[k].energy_missing ? NAN : sqrt(fmax(var, 0));
      gm_json_begin_object(j);
      gm_json_key(j, "name");
      gm_json_string(j, g[k].name);
      gm_json_key(j, "phases");
      gm_json_int(j, (int64_t)g[k].n);
      gm_json_key(j, "duration_s");
      gm_json_number(j, g[k].duration_s);
      gm_json_key(j, "energy_j");
      gm_json_number(j, g[k].energy_missing ? NAN : g[k].energy_j);
      gm_json_key(j, "j_per_phase");
      gm_json_number(j, g[k].energy_missing ? NAN : mean);
      gm_json_key(j, "sd_j_per_phase");
      gm_json_number(j, sd);
      gm_json_key(j, "avg_power_w");
      gm_json_number(j, g[k].energy_missing ? NAN
                                            : g[k].energy_j / g[k].duration_s);
      gm_json_key(j, "carbon_g");
      gm_json_number(j, g[k].energy_missing
                            ? NAN
                            : gm_cli_cost_carbon_g(&c->cost, g[k].energy_j));
      gm_json_end_object(j);
    }
    gm_json_end_array(j);
    gm_json_key(j, "energy_vs_time");
    gm_json_begin_object(j);
    gm_json_key(j, "n");
    gm_json_int(j, (int64_t)corr.n);
    gm_json_key(j, "n_missing");
    gm_json_int(j, (int64_t)corr.n_missing);
    if (corr.untestable == GM_AUNTESTABLE_NONE) {
      json_corr(j, "pearson", &corr.pearson);
      json_corr(j, "spearman", &corr.spearman);
    }
    gm_json_key(j, "untestable");
    if (corr.untestable == GM_AUNTESTABLE_NONE)
      gm_json_null(j);
    else
      gm_json_string(j, corr.why);
    gm_json_end_object(j);
    gm_json_key(j, "claims");
    gm_json_begin_array(j);
    json_claim(j, &claim, 0, "phases", NULL);
    gm_json_end_array(j);
    gm_json_end_object(j);
    if (j->oom) {
      ec = GM_EXIT_SOFTWARE;
      goto out;
    }
    printf("%s\n", j->buf);
    goto out;
  }
  printf("run %lld (%s): %zu phases, %s energy %s (%s)\n", (long long)run_id,
         run->command ? run->command : "no command", ph->n, which,
         c->attributed ? "of the command" : "of the machine", prov);
  printf("\n  %-20s %6s %12s %14s %14s %9s %12s\n", "phases", "n", "time",
         "energy", "J/phase", "spread", "mean power");
  for (size_t k = 0; k < ng; k++) {
    char tb[32], eb[32], mb[32];
    gm_cli_fmt_seconds(tb, sizeof(tb), g[k].duration_s);
    double mean = g[k].energy_j / (double)g[k].n;
    if (g[k].energy_missing) {
      printf("  %-20s %6zu %12s %14s %14s %9s %12s\n", g[k].name, g[k].n, tb,
             "n/a", "n/a", "n/a", "n/a");
      continue;
    }
    gm_cli_fmt_energy(eb, sizeof(eb), g[k].energy_j);
    gm_cli_fmt_energy(mb, sizeof(mb), mean);
    char spread[16] = "n/a";
    if (g[k].n > 1 && mean > 0) {
      double var = (g[k].sum_sq - g[k].n * mean * mean) / (double)(g[k].n - 1);
      snprintf(spread, sizeof(spread), "%.1f %%",
               100 * sqrt(fmax(var, 0)) / mean);
    }
    printf("  %-20s %6zu %12s %14s %14s %9s %10.3f W\n", g[k].name, g[k].n, tb,
           eb, mb, spread, g[k].energy_j / g[k].duration_s);
  }
  printf("  (spread: the standard deviation of a phase's energy over its "
         "mean)\n\nenergy against time over the %zu phases: ",
         np);
  if (corr.untestable != GM_AUNTESTABLE_NONE)
    printf("cannot test: %s\n", corr.why);
  else
    printf("Pearson r = %.3f (p = %.2g), Spearman rho = %.3f (p = %.2g), n = "
           "%zu\n",
           corr.pearson.r, corr.pearson.p, corr.spearman.r, corr.spearman.p,
           corr.n);
  printf("\nclaims of the paper:\n  %s (paper %s; %s)\n", claim.statement,
         claim.paper, claim.threshold);
  print_claim(&claim, "phases");
out:
  free(g);
  free(d);
  free(e);
  gm_store_run_phases_free(ph);
  gm_store_run_list_free(runs);
  gm_store_close(st);
  return ec;
}

int cmd_analyze(int argc, char **argv) {
  const char *db = NULL, *bench = NULL;
  bool gross = false;
  struct ctx c;
  memset(&c, 0, sizeof(c));
  struct gm_cli_results_opts ro;
  gm_cli_results_opts_init(&ro);
  static const struct option longopts[] = {{"json", 0, 0, O_JSON},
                                           {"net", 0, 0, O_NET},
                                           {"gross", 0, 0, O_GROSS},
                                           {"from-run", 1, 0, O_FROM_RUN},
                                           {"attributed", 0, 0, O_ATTRIBUTED},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_RESULTS_LONGOPTS,
                                           {0}};
  int64_t from_run = 0;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_results_opt(&ro, opt, optarg, "analyze");
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_JSON:
      c.json = true;
      break;
    case O_NET:
      c.net = true;
      break;
    case O_GROSS:
      gross = true;
      break;
    case O_FROM_RUN:
      if (gm_cli_parse_run_id("analyze", optarg, &from_run))
        return GM_EXIT_USAGE;
      break;
    case O_ATTRIBUTED:
      c.attributed = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (c.net && gross) {
    gm_cli_error("analyze", "--net and --gross cannot be used together");
    return GM_EXIT_USAGE;
  }
  db = ro.db;
  bench = ro.run;
  if (optind < argc) {
    gm_cli_error("analyze", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  int ec = gm_cli_cost_resolve("analyze", &ro.cost, &c.cost);
  if (ec)
    return ec;
  char path[1024];
  if (c.attributed && !from_run) {
    gm_cli_error("analyze", "--attributed applies to one measured run: give "
                            "--from-run ID");
    return GM_EXIT_USAGE;
  }
  if (from_run) {
    if (bench) {
      gm_cli_error("analyze", "--from-run analyses one measured run: --run (a "
                              "bench) does not apply");
      return GM_EXIT_USAGE;
    }
    gm_json_init(&c.j);
    ec = analyze_run(&c, db, from_run);
    if (ec == GM_EXIT_SOFTWARE)
      gm_cli_error("analyze", "out of memory");
    gm_json_release(&c.j);
    return ec;
  }
  struct gm_store *st = NULL;
  struct gm_analysis_table *t = NULL;
  if ((ec = gm_cli_load_results("analyze", db, bench, path, sizeof(path), &st,
                                &t)))
    return ec;
  c.t = t;
  c.db = path;
  gm_json_init(&c.j);
  ec = run(&c);
  if (ec == GM_EXIT_SOFTWARE)
    gm_cli_error("analyze", "out of memory");
  gm_json_release(&c.j);
  gm_analysis_table_free(t);
  gm_store_close(st);
  return ec;
}
