/* cmd_estimate.c: `greenml estimate`: the energy, time, carbon and cost of a
 * training run or an inference workload on a measured host, by the two
 * methods of greenml/analysis.h (the model's own short profile
 * extrapolated; a regression across the measured models on MACs per
 * parameter), each with its 95 % prediction interval and its leave-one-out
 * error. This file parses and prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "greenml/json.h"
#include "cli.h"
#include "greenml/nn.h"

static const char usage_text[] =
    "usage: greenml estimate --model M (--epochs N | --samples S)\n"
    "       greenml estimate --from-run ID --total N [--phases GLOB]\n"
    "                        [--profile K] [--db PATH] [--json] [options]\n"
    "                        [--batch-size B] [--epoch-samples N] [--db "
    "PATH]\n"
    "                        [--run ID] [--json] [options]\n"
    "\n"
    "Estimates the energy and time of training M for N epochs (--epochs) or\n"
    "of inference over S samples (--samples) on the host measured by the\n"
    "benches in the database, with carbon and cost, by two methods:\n"
    "  (a) short profile: M's measured phases at this batch size, energy and\n"
    "      time fitted through the origin against samples and extrapolated;\n"
    "      checked by leaving one phase out at a time;\n"
    "  (b) across models: ln(energy per sample) regressed on ln(MACs per\n"
    "      parameter) over the models measured at this batch size, at M's\n"
    "      MACs/param from the zoo (M need not be measured); checked by\n"
    "      leaving one model out at a time.\n"
    "Each value comes with its 95 % prediction interval and the provenance\n"
    "of the energy it rests on.\n"
    "\n"
    "  --model M            a model of the zoo ('greenml models')\n"
    "  --epochs N           a training run of N epochs\n"
    "  --samples S          an inference workload of S samples\n"
    "  --batch-size B       default: the measured batch size with the most\n"
    "                       data for M (else for all models)\n"
    "  --epoch-samples N    samples per training epoch (default 50000,\n"
    "                       CIFAR-10's training set)\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --run ID             use one bench (name or id); default: every bench\n"
    "                       on the host of the newest bench\n"
    "  --json               the estimate as JSON on stdout\n"
    "\n"
    "With --from-run, a measured run's whole length is predicted from its\n"
    "first phases (CarbonTracker's prediction, with an interval): the phases\n"
    "whose names match GLOB (default '*', e.g. 'epoch-*'), in order, the\n"
    "first K of them (--profile, default 2, at least 2) taken as draws of one\n"
    "phase, projected to N phases (--total) with a 95 %% prediction\n"
    "interval. When the run has more matching phases than K, the same\n"
    "projection for them is checked against what they measured: the\n"
    "prediction's measured error.\n" GM_CLI_COST_HELP;

#define LEVEL 0.95

struct opts {
  const char *db, *bench, *model;
  int64_t from_run;
  const char *phases;
  long profile, total;
  long epochs, epoch_samples, batch;
  double samples;
  bool json;
  struct gm_cli_cost cost;
};

static bool parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

/* ---- text ---------------------------------------------------------------- */

static void print_value(const char *name, const struct gm_estimate_value *v,
                        void (*fmt)(char *, size_t, double)) {
  char a[32], lo[32], hi[32];
  fmt(a, sizeof(a), v->value);
  printf("    %-7s %-14s", name, a);
  if (isfinite(v->lo)) {
    fmt(lo, sizeof(lo), v->lo);
    fmt(hi, sizeof(hi), v->hi);
    printf(" [95 %% prediction interval %s .. %s]", lo, hi);
  } else if (v->no_interval[0]) {
    printf(" [no interval: %s]", v->no_interval);
  } else {
    printf(" [no interval]");
  }
}

static const struct gm_cli_cost *cost_ctx;

static void fmt_energy(char *b, size_t n, double j) {
  gm_cli_fmt_energy(b, n, j);
}
static void fmt_carbon(char *b, size_t n, double j) {
  gm_cli_fmt_carbon(b, n, gm_cli_cost_carbon_g(cost_ctx, j));
}
static void fmt_money(char *b, size_t n, double j) {
  gm_cli_fmt_money(b, n, cost_ctx, gm_cli_cost_money(cost_ctx, j));
}

static void print_energy_lines(const struct gm_estimate_value *e,
                               const struct gm_estimate_value *d,
                               double samples) {
  print_value("energy", e, fmt_energy);
  printf(" = %.4g J/sample\n", e->value / samples);
  print_value("time", d, gm_cli_fmt_seconds);
  printf(" = %.4g s/sample\n", d->value / samples);
  print_value("carbon", e, fmt_carbon);
  putchar('\n');
  if (!isnan(cost_ctx->price_per_kwh)) {
    print_value("cost", e, fmt_money);
    putchar('\n');
  } else {
    printf("    %-7s n/a (no --price)\n", "cost");
  }
}

static void print_loo(const char *what, const struct gm_estimate_loo *l) {
  if (!l->ok) {
    printf("%s: n/a (%s)", what, l->why);
    return;
  }
  const struct gm_estimate_loo_point *w = &l->points[l->worst];
  printf("%s: MAPE %.1f %%, %zu of %zu inside their interval (coverage %.0f "
         "%%), worst %s %+.1f %%",
         what, l->mape_pct, (size_t)lround(l->coverage * (double)l->n), l->n,
         100 * l->coverage, w->label, 100 * w->rel_err);
}

static void print_text(const struct opts *o, const struct gm_estimate *e,
                       const char *scope) {
  char cost[512];
  gm_cli_describe_cost(cost, sizeof(cost), &o->cost);
  char batch[128];
  if (e->batch_size == 0)
    snprintf(batch, sizeof(batch), "(no measured batch size)");
  else
    snprintf(batch, sizeof(batch), "at batch %d%s", e->batch_size,
             e->batch_chosen ? " (the measured batch size with the most "
                               "data; --batch-size B chooses)"
                             : "");
  if (strcmp(e->kind, "train") == 0)
    printf("estimate for %s, training: %ld epochs x %ld samples = %.0f "
           "samples %s\n",
           e->model, o->epochs, o->epoch_samples, e->samples, batch);
  else
    printf("estimate for %s, inference over %.0f samples %s\n", e->model,
           e->samples, batch);
  printf("from %s; %s\n", scope, cost);
  const struct gm_estimate_profile *a = &e->profile;
  printf("\n(a) short profile extrapolated: ");
  if (!a->ok) {
    printf("not possible: %s\n", a->why);
  } else {
    char eb[32], tb[32];
    gm_cli_fmt_energy(eb, sizeof(eb), a->energy_measured_j);
    gm_cli_fmt_seconds(tb, sizeof(tb), a->duration_measured_s);
    printf("%s's %zu measured %s phase%s at batch %d (%.0f samples, %s, %s), "
           "energy and time fitted through the origin against samples%s%s\n",
           e->model, a->n_phases, e->kind, a->n_phases == 1 ? "" : "s",
           e->batch_size, a->samples_measured, tb, eb, a->why[0] ? "; " : "",
           a->why);
    print_energy_lines(&a->energy_j, &a->duration_s, e->samples);
    printf("    ");
    print_loo("leave-one-phase-out, energy", &a->loo_energy);
    printf("\n    ");
    print_loo("leave-one-phase-out, time", &a->loo_time);
    printf("\n    energy %s: %s\n", a->provenance, a->provenance_detail);
  }
  const struct gm_estimate_regression *b = &e->regression;
  printf("\n(b) regression across models: ");
  if (!b->ok) {
    printf("not possible: %s\n", b->why);
    return;
  }
  printf("ln(J/sample) = %.3f + %.3f ln(MACs/param) over %zu models at batch "
         "%d (R^2 %.2f in log space); %s has %.2f MACs/param (zoo)%s%s\n",
         b->fit_energy.a, b->fit_energy.b, b->n_models, b->batch_size,
         b->fit_energy.r2, e->model, b->macs_per_param,
         b->model_measured ? ", and is one of the models fitted" : "",
         b->extrapolated ? "; outside the fitted models' range: extrapolated"
                         : "");
  print_energy_lines(&b->energy_j, &b->duration_s, e->samples);
  printf("    ");
  print_loo("leave-one-model-out, energy per sample", &b->loo_energy);
  printf("\n    ");
  print_loo("leave-one-model-out, time per sample", &b->loo_time);
  if (isfinite(b->loo_linear_mape_pct))
    printf("\n    a linear fit of J/sample on MACs/param, for comparison: "
           "leave-one-model-out MAPE %.1f %%",
           b->loo_linear_mape_pct);
  if (isfinite(b->loo_macs_mape_pct))
    printf("\n    the same log-log fit on MACs instead of MACs/param, for "
           "comparison: leave-one-model-out MAPE %.1f %%",
           b->loo_macs_mape_pct);
  printf("\n    energy %s: %s\n", b->provenance, b->provenance_detail);
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_value(struct gm_json *j, const char *key,
                       const struct gm_estimate_value *v, double scale) {
  gm_json_key(j, key);
  gm_json_begin_object(j);
  gm_json_key(j, "value");
  gm_json_number(j, v->value * scale);
  gm_json_key(j, "lo");
  gm_json_number(j, v->lo * scale);
  gm_json_key(j, "hi");
  gm_json_number(j, v->hi * scale);
  gm_json_key(j, "no_interval");
  if (v->no_interval[0])
    gm_json_string(j, v->no_interval);
  else
    gm_json_null(j);
  gm_json_end_object(j);
}

static void json_costs(struct gm_json *j, const struct gm_cli_cost *c,
                       const struct gm_estimate_value *e) {
  struct gm_estimate_value g = *e, m = *e;
  g.value = gm_cli_cost_carbon_g(c, e->value);
  g.lo = gm_cli_cost_carbon_g(c, e->lo);
  g.hi = gm_cli_cost_carbon_g(c, e->hi);
  m.value = gm_cli_cost_money(c, e->value);
  m.lo = gm_cli_cost_money(c, e->lo);
  m.hi = gm_cli_cost_money(c, e->hi);
  json_value(j, "carbon_g", &g, 1);
  json_value(j, "cost", &m, 1);
}

static void json_loo(struct gm_json *j, const char *key,
                     const struct gm_estimate_loo *l) {
  gm_json_key(j, key);
  gm_json_begin_object(j);
  gm_json_key(j, "ok");
  gm_json_bool(j, l->ok);
  gm_json_key(j, "why");
  if (l->ok)
    gm_json_null(j);
  else
    gm_json_string(j, l->why);
  gm_json_key(j, "n");
  gm_json_int(j, (int64_t)l->n);
  gm_json_key(j, "mape_pct");
  gm_json_number(j, l->ok ? l->mape_pct : NAN);
  gm_json_key(j, "coverage");
  gm_json_number(j, l->ok ? l->coverage : NAN);
  gm_json_key(j, "worst");
  if (l->ok)
    gm_json_string(j, l->points[l->worst].label);
  else
    gm_json_null(j);
  gm_json_key(j, "points");
  gm_json_begin_array(j);
  for (size_t i = 0; l->ok && i < l->n; i++) {
    const struct gm_estimate_loo_point *p = &l->points[i];
    gm_json_begin_object(j);
    gm_json_key(j, "label");
    gm_json_string(j, p->label);
    gm_json_key(j, "x");
    gm_json_number(j, p->x);
    gm_json_key(j, "actual");
    gm_json_number(j, p->actual);
    gm_json_key(j, "predicted");
    gm_json_number(j, p->pred);
    gm_json_key(j, "lo");
    gm_json_number(j, p->lo);
    gm_json_key(j, "hi");
    gm_json_number(j, p->hi);
    gm_json_key(j, "rel_err");
    gm_json_number(j, p->rel_err);
    gm_json_key(j, "inside");
    gm_json_bool(j, p->inside);
    gm_json_end_object(j);
  }
  gm_json_end_array(j);
  gm_json_end_object(j);
}

static void json_fit(struct gm_json *j, const char *key,
                     const struct gm_stats_fit *f) {
  gm_json_key(j, key);
  gm_json_begin_object(j);
  gm_json_key(j, "a");
  gm_json_number(j, f->a);
  gm_json_key(j, "b");
  gm_json_number(j, f->b);
  gm_json_key(j, "se_b");
  gm_json_number(j, f->se_b);
  gm_json_key(j, "r2");
  gm_json_number(j, f->r2);
  gm_json_key(j, "n");
  gm_json_int(j, (int64_t)f->n);
  gm_json_end_object(j);
}

static int print_json(const struct opts *o, const struct gm_estimate *e,
                      const struct gm_analysis_table *t, int64_t host) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "model");
  gm_json_string(&j, e->model);
  gm_json_key(&j, "kind");
  gm_json_string(&j, e->kind);
  gm_json_key(&j, "epochs");
  if (o->epochs)
    gm_json_int(&j, o->epochs);
  else
    gm_json_null(&j);
  gm_json_key(&j, "epoch_samples");
  if (o->epochs)
    gm_json_int(&j, o->epoch_samples);
  else
    gm_json_null(&j);
  gm_json_key(&j, "samples");
  gm_json_number(&j, e->samples);
  gm_json_key(&j, "batch_size");
  gm_json_int(&j, e->batch_size);
  gm_json_key(&j, "batch_size_chosen");
  gm_json_bool(&j, e->batch_chosen);
  gm_json_key(&j, "level");
  gm_json_number(&j, 1 - e->alpha);
  gm_json_key(&j, "host_id");
  gm_json_int(&j, host);
  gm_json_key(&j, "benches");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < t->n_benches; i++)
    if (t->benches[i].host_id == host)
      gm_json_string(&j, t->benches[i].name);
  gm_json_end_array(&j);
  gm_json_key(&j, "cost_factors");
  gm_cli_json_cost(&j, &o->cost);

  const struct gm_estimate_profile *a = &e->profile;
  gm_json_key(&j, "profile");
  gm_json_begin_object(&j);
  gm_json_key(&j, "method");
  gm_json_string(&j, "energy and time through the origin against samples, "
                     "over the model's measured phases");
  gm_json_key(&j, "ok");
  gm_json_bool(&j, a->ok);
  gm_json_key(&j, "why");
  if (a->why[0])
    gm_json_string(&j, a->why);
  else
    gm_json_null(&j);
  gm_json_key(&j, "phases");
  gm_json_int(&j, (int64_t)a->n_phases);
  gm_json_key(&j, "samples_measured");
  gm_json_number(&j, a->samples_measured);
  gm_json_key(&j, "energy_measured_j");
  gm_json_number(&j, a->energy_measured_j);
  gm_json_key(&j, "duration_measured_s");
  gm_json_number(&j, a->duration_measured_s);
  json_value(&j, "energy_j", &a->energy_j, 1);
  json_value(&j, "duration_s", &a->duration_s, 1);
  json_value(&j, "j_per_sample", &a->energy_j, 1 / e->samples);
  json_costs(&j, &o->cost, &a->energy_j);
  json_loo(&j, "loo_energy", &a->loo_energy);
  json_loo(&j, "loo_time", &a->loo_time);
  gm_json_key(&j, "provenance");
  gm_json_string(&j, a->provenance);
  gm_json_key(&j, "provenance_detail");
  gm_json_string(&j, a->provenance_detail);
  gm_json_end_object(&j);

  const struct gm_estimate_regression *b = &e->regression;
  gm_json_key(&j, "regression");
  gm_json_begin_object(&j);
  gm_json_key(&j, "method");
  gm_json_string(&j, "log-log: ln(J/sample) = a + b ln(MACs/param) across "
                     "the measured models");
  gm_json_key(&j, "ok");
  gm_json_bool(&j, b->ok);
  gm_json_key(&j, "why");
  if (b->why[0])
    gm_json_string(&j, b->why);
  else
    gm_json_null(&j);
  gm_json_key(&j, "models");
  gm_json_int(&j, (int64_t)b->n_models);
  gm_json_key(&j, "macs_per_param");
  gm_json_number(&j, b->macs_per_param);
  gm_json_key(&j, "model_measured");
  gm_json_bool(&j, b->model_measured);
  gm_json_key(&j, "extrapolated");
  gm_json_bool(&j, b->extrapolated);
  if (b->ok) {
    json_fit(&j, "fit_energy", &b->fit_energy);
    json_fit(&j, "fit_time", &b->fit_time);
  }
  json_value(&j, "j_per_sample", &b->j_per_sample, 1);
  json_value(&j, "s_per_sample", &b->s_per_sample, 1);
  json_value(&j, "energy_j", &b->energy_j, 1);
  json_value(&j, "duration_s", &b->duration_s, 1);
  json_costs(&j, &o->cost, &b->energy_j);
  json_loo(&j, "loo_energy", &b->loo_energy);
  json_loo(&j, "loo_time", &b->loo_time);
  gm_json_key(&j, "loo_linear_mape_pct");
  gm_json_number(&j, b->loo_linear_mape_pct);
  gm_json_key(&j, "loo_macs_mape_pct");
  gm_json_number(&j, b->loo_macs_mape_pct);
  gm_json_key(&j, "provenance");
  gm_json_string(&j, b->provenance);
  gm_json_key(&j, "provenance_detail");
  gm_json_string(&j, b->provenance_detail);
  gm_json_end_object(&j);
  gm_json_end_object(&j);
  int ec = 0;
  if (j.oom)
    ec = GM_EXIT_SOFTWARE;
  else
    printf("%s\n", j.buf);
  gm_json_release(&j);
  return ec;
}

/* ---- --from-run: a measured run projected from its first phases --------- */

static void json_checked(struct gm_json *j, const char *key,
                         const struct gm_estimate_value *v, double actual,
                         double rel, bool inside) {
  gm_json_key(j, key);
  gm_json_begin_object(j);
  gm_json_key(j, "predicted");
  gm_json_number(j, v->value);
  gm_json_key(j, "lo");
  gm_json_number(j, v->lo);
  gm_json_key(j, "hi");
  gm_json_number(j, v->hi);
  gm_json_key(j, "actual");
  gm_json_number(j, actual);
  gm_json_key(j, "error_rel");
  gm_json_number(j, rel);
  gm_json_key(j, "inside");
  gm_json_bool(j, inside);
  gm_json_end_object(j);
}

static int print_projection_json(const struct opts *o,
                                 const struct gm_store_run *run,
                                 const struct gm_phase_projection *p,
                                 char **names, size_t n_names) {
  struct gm_json j;
  gm_json_init(&j);
  gm_json_begin_object(&j);
  gm_json_key(&j, "run_id");
  gm_json_int(&j, run->id);
  gm_json_key(&j, "command");
  if (run->command)
    gm_json_string(&j, run->command);
  else
    gm_json_null(&j);
  gm_json_key(&j, "phases_glob");
  gm_json_string(&j, o->phases);
  gm_json_key(&j, "phases_matched");
  gm_json_begin_array(&j);
  for (size_t i = 0; i < n_names; i++)
    gm_json_string(&j, names[i]);
  gm_json_end_array(&j);
  gm_json_key(&j, "profile");
  gm_json_int(&j, (int64_t)p->n_profile);
  gm_json_key(&j, "total");
  gm_json_int(&j, (int64_t)p->n_total);
  gm_json_key(&j, "level");
  gm_json_number(&j, 1 - p->alpha);
  gm_json_key(&j, "provenance");
  gm_json_string(&j, run->provenance);
  gm_json_key(&j, "cost_factors");
  gm_cli_json_cost(&j, &o->cost);
  json_value(&j, "energy_j", &p->energy_j, 1);
  json_value(&j, "duration_s", &p->duration_s, 1);
  json_costs(&j, &o->cost, &p->energy_j);
  gm_json_key(&j, "check");
  if (p->n_checked) {
    gm_json_begin_object(&j);
    gm_json_key(&j, "phases");
    gm_json_int(&j, (int64_t)p->n_checked);
    json_checked(&j, "energy_j", &p->checked_energy_j, p->actual_energy_j,
                 p->energy_error_rel, p->energy_inside);
    json_checked(&j, "duration_s", &p->checked_duration_s, p->actual_duration_s,
                 p->duration_error_rel, p->duration_inside);
    gm_json_end_object(&j);
  } else {
    gm_json_null(&j);
  }
  gm_json_end_object(&j);
  int ec = 0;
  if (j.oom)
    ec = GM_EXIT_SOFTWARE;
  else
    printf("%s\n", j.buf);
  gm_json_release(&j);
  return ec;
}

static void print_projection_text(const struct opts *o,
                                  const struct gm_store_run *run,
                                  const struct gm_phase_projection *p,
                                  char **names) {
  char cost[512];
  gm_cli_describe_cost(cost, sizeof(cost), &o->cost);
  printf("estimate for run %lld (%s): %zu phases matching '%s', from the "
         "first %zu (%s .. %s) of the %zu measured\n",
         (long long)run->id, run->command ? run->command : "no command",
         p->n_total, o->phases, p->n_profile, names[0], names[p->n_profile - 1],
         p->n_measured);
  printf("%s; the phases are taken as independent draws of one phase\n\n",
         cost);
  print_value("energy", &p->energy_j, fmt_energy);
  printf(" = %.4g J/phase\n", p->energy_j.value / (double)p->n_total);
  print_value("time", &p->duration_s, gm_cli_fmt_seconds);
  putchar('\n');
  print_value("carbon", &p->energy_j, fmt_carbon);
  putchar('\n');
  if (!isnan(cost_ctx->price_per_kwh)) {
    print_value("cost", &p->energy_j, fmt_money);
    putchar('\n');
  } else {
    printf("    %-7s n/a (no --price)\n", "cost");
  }
  printf("    energy %s (the run's total)\n", run->provenance);
  if (!p->n_checked) {
    printf("\ncheck: none (the run has no matching phase beyond the "
           "profile)\n");
    return;
  }
  char pe[32], ae[32], pd[32], ad[32];
  gm_cli_fmt_energy(pe, sizeof(pe), p->checked_energy_j.value);
  gm_cli_fmt_energy(ae, sizeof(ae), p->actual_energy_j);
  gm_cli_fmt_seconds(pd, sizeof(pd), p->checked_duration_s.value);
  gm_cli_fmt_seconds(ad, sizeof(ad), p->actual_duration_s);
  printf("\ncheck on the %zu measured phases: predicted %s, measured %s: "
         "error %+.1f %% (%s the interval); time predicted %s, measured %s: "
         "error %+.1f %% (%s)\n",
         p->n_checked, pe, ae, 100 * p->energy_error_rel,
         p->energy_inside ? "inside" : "OUTSIDE", pd, ad,
         100 * p->duration_error_rel,
         p->duration_inside ? "inside" : "OUTSIDE");
}

static int estimate_from_run(const struct opts *o) {
  char db[1024];
  struct gm_store *st = NULL;
  int ec = gm_cli_open_run_store("estimate", o->db, db, sizeof(db), &st);
  if (ec)
    return ec;
  struct gm_store_run_list *runs = NULL;
  struct gm_store_run_phases *ph = NULL;
  double *e = NULL, *d = NULL;
  char **names = NULL;
  const struct gm_store_run *run = NULL;
  if ((ec = gm_cli_find_run("estimate", st, db, o->from_run, &runs, &run)))
    goto out;
  if (gm_store_load_run_phases(st, o->from_run, &ph) != GM_OK) {
    gm_cli_error("estimate", "%s", gm_store_last_error(st));
    ec = GM_EXIT_IOERR;
    goto out;
  }
  e = calloc(ph->n ? ph->n : 1, sizeof(double));
  d = calloc(ph->n ? ph->n : 1, sizeof(double));
  names = calloc(ph->n ? ph->n : 1, sizeof(char *));
  if (!e || !d || !names) {
    gm_cli_error("estimate", "out of memory");
    ec = GM_EXIT_SOFTWARE;
    goto out;
  }
  size_t n = 0;
  for (size_t i = 0; i < ph->n; i++) {
    if (fnmatch(o->phases, ph->phases[i].name, 0) != 0)
      continue;
    /* a phase cut by the end of the run is not a whole phase */
    if (ph->phases[i].ended_by_stop && i + 1 == ph->n)
      continue;
    e[n] = ph->phases[i].energy_j;
    d[n] = ph->phases[i].duration_s;
    names[n] = ph->phases[i].name;
    n++;
  }
  if (n < (size_t)o->profile) {
    gm_cli_error("estimate",
                 "run %lld has %zu whole phase%s matching '%s' (of %zu "
                 "phases); --profile %ld needs at least %ld: mark more "
                 "phases, or match others with --phases",
                 (long long)o->from_run, n, n == 1 ? "" : "s", o->phases, ph->n,
                 o->profile, o->profile);
    ec = GM_EXIT_DATAERR;
    goto out;
  }
  struct gm_phase_projection p;
  enum gm_status rc = gm_analysis_project_phases(
      e, d, n, (size_t)o->profile, (size_t)o->total, 1 - LEVEL, &p);
  if (rc != GM_OK) {
    gm_cli_error("estimate",
                 "run %lld: a profile phase has no energy (an incomplete run, "
                 "or one stored without its summary): %s",
                 (long long)o->from_run, gm_status_str(rc));
    ec = GM_EXIT_DATAERR;
    goto out;
  }
  if (o->json)
    ec = print_projection_json(o, run, &p, names, n);
  else
    print_projection_text(o, run, &p, names);
out:
  free(e);
  free(d);
  free(names);
  gm_store_run_phases_free(ph);
  gm_store_run_list_free(runs);
  gm_store_close(st);
  return ec;
}

/* ---- the command --------------------------------------------------------- */

enum {
  O_MODEL = GM_OPT_FIRST_FREE,
  O_EPOCHS,
  O_SAMPLES,
  O_BATCH,
  O_EPOCH_SAMPLES,
  O_JSON,
  O_FROM_RUN,
  O_PHASES,
  O_PROFILE,
  O_TOTAL
};

static int parse(int argc, char **argv, struct opts *o) {
  struct gm_cli_results_opts ro;
  gm_cli_results_opts_init(&ro);
  static const struct option longopts[] = {
      {"model", 1, 0, O_MODEL},
      {"epochs", 1, 0, O_EPOCHS},
      {"samples", 1, 0, O_SAMPLES},
      {"batch-size", 1, 0, O_BATCH},
      {"epoch-samples", 1, 0, O_EPOCH_SAMPLES},
      {"json", 0, 0, O_JSON},
      {"from-run", 1, 0, O_FROM_RUN},
      {"phases", 1, 0, O_PHASES},
      {"profile", 1, 0, O_PROFILE},
      {"total", 1, 0, O_TOTAL},
      {"help", 0, 0, 'h'},
      GM_CLI_RESULTS_LONGOPTS,
      {0}};
  int opt;
  long v;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_results_opt(&ro, opt, optarg, "estimate");
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_MODEL:
      o->model = optarg;
      break;
    case O_EPOCHS:
      if (!parse_long(optarg, 1, 1000000, &o->epochs)) {
        gm_cli_error("estimate", "--epochs '%s' is not a number from 1",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_SAMPLES:
      if (!parse_long(optarg, 1, 1L << 50, &v)) {
        gm_cli_error("estimate", "--samples '%s' is not a number from 1",
                     optarg);
        return GM_EXIT_USAGE;
      }
      o->samples = (double)v;
      break;
    case O_BATCH:
      if (!parse_long(optarg, 1, 65536, &o->batch)) {
        gm_cli_error("estimate",
                     "--batch-size '%s' is not a batch size from 1 to 65536",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_EPOCH_SAMPLES:
      if (!parse_long(optarg, 1, 1L << 40, &o->epoch_samples)) {
        gm_cli_error("estimate", "--epoch-samples '%s' is not a number from 1",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_JSON:
      o->json = true;
      break;
    case O_FROM_RUN:
      if (gm_cli_parse_run_id("estimate", optarg, &o->from_run))
        return GM_EXIT_USAGE;
      break;
    case O_PHASES:
      if (!*optarg) {
        gm_cli_error("estimate", "--phases '' matches no phase; pass a "
                                 "pattern such as 'epoch-*'");
        return GM_EXIT_USAGE;
      }
      o->phases = optarg;
      break;
    case O_PROFILE:
      if (!parse_long(optarg, 2, 1000000, &o->profile)) {
        gm_cli_error("estimate",
                     "--profile '%s' is not a number of phases from 2 (one "
                     "phase has no spread, so no interval)",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_TOTAL:
      if (!parse_long(optarg, 1, 100000000, &o->total)) {
        gm_cli_error("estimate",
                     "--total '%s' is not a number of phases "
                     "from 1",
                     optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case 'h':
      fputs(usage_text, stdout);
      return -1;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  o->db = ro.db;
  o->bench = ro.run;
  if (optind < argc) {
    gm_cli_error("estimate", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  if (o->from_run) {
    if (o->model || o->epochs || o->samples > 0 || o->batch || o->bench) {
      gm_cli_error("estimate", "--from-run predicts a measured run from its "
                               "own phases: --model, --epochs, --samples, "
                               "--batch-size and --run do not apply");
      return GM_EXIT_USAGE;
    }
    if (!o->total) {
      gm_cli_error("estimate", "--from-run needs --total N, the number of "
                               "phases of the whole run (e.g. its epochs)");
      return GM_EXIT_USAGE;
    }
    if (!o->phases)
      o->phases = "*";
    if (!o->profile)
      o->profile = 2;
    if (o->total < o->profile) {
      gm_cli_error("estimate",
                   "--total %ld is less than --profile %ld: the whole run "
                   "has at least the profile's phases",
                   o->total, o->profile);
      return GM_EXIT_USAGE;
    }
    return gm_cli_cost_resolve("estimate", &ro.cost, &o->cost);
  }
  if (o->phases || o->profile || o->total) {
    gm_cli_error("estimate", "--phases, --profile and --total go with "
                             "--from-run ID");
    return GM_EXIT_USAGE;
  }
  if (!o->model) {
    gm_cli_error("estimate", "--model M is required ('greenml models' lists "
                             "the zoo), or --from-run ID");
    return GM_EXIT_USAGE;
  }
  bool known = false;
  for (size_t i = 0; i < gm_nn_zoo_count(); i++)
    if (strcasecmp(o->model, gm_nn_zoo_name(i)) == 0)
      known = true;
  if (!known) {
    gm_cli_error("estimate",
                 "--model: no model '%s' in the zoo; 'greenml models' lists "
                 "them",
                 o->model);
    return GM_EXIT_USAGE;
  }
  if ((o->epochs > 0) == (o->samples > 0)) {
    gm_cli_error("estimate",
                 "give either --epochs N (a training run) or --samples S (an "
                 "inference workload)");
    return GM_EXIT_USAGE;
  }
  return gm_cli_cost_resolve("estimate", &ro.cost, &o->cost);
}

int cmd_estimate(int argc, char **argv) {
  struct opts o;
  memset(&o, 0, sizeof(o));
  o.epoch_samples = 50000;
  int ec = parse(argc, argv, &o);
  if (ec)
    return ec < 0 ? 0 : ec;
  cost_ctx = &o.cost;
  if (o.from_run)
    return estimate_from_run(&o);
  char path[1024];
  struct gm_store *st = NULL;
  struct gm_analysis_table *t = NULL;
  if ((ec = gm_cli_load_results("estimate", o.db, o.bench, path, sizeof(path),
                                &st, &t)))
    return ec;
  /* the host: of the bench asked for, else of the newest bench */
  const struct gm_analysis_bench *newest = &t->benches[t->n_benches - 1];
  int64_t host = newest->host_id;
  size_t on_host = 0;
  for (size_t i = 0; i < t->n_benches; i++)
    on_host += t->benches[i].host_id == host;
  char scope[1024];
  int n = snprintf(scope, sizeof(scope), "host %lld (%s%s%s): bench%s ",
                   (long long)host,
                   newest->hostname[0] ? newest->hostname : "unnamed",
                   newest->cpu_model[0] ? ", " : "", newest->cpu_model,
                   on_host == 1 ? "" : "es");
  for (size_t i = 0; i < t->n_benches && n > 0 && (size_t)n < sizeof(scope);
       i++)
    if (t->benches[i].host_id == host)
      n += snprintf(scope + n, sizeof(scope) - (size_t)n, "%s'%s'",
                    scope[n - 1] == ' ' ? "" : ", ", t->benches[i].name);
  struct gm_estimate_request req = {
      .model = o.model,
      .kind = o.epochs ? "train" : "infer",
      .batch_size = (int)o.batch,
      .samples =
          o.epochs ? (double)o.epochs * (double)o.epoch_samples : o.samples,
      .alpha = 1 - LEVEL,
      .host_id = host};
  struct gm_estimate e;
  enum gm_status rc = gm_estimate(t, &req, &e);
  if (rc != GM_OK) {
    gm_cli_error("estimate", "%s", gm_status_str(rc));
    ec = rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE : GM_EXIT_USAGE;
  } else if (o.json) {
    ec = print_json(&o, &e, t, host);
  } else {
    print_text(&o, &e, scope);
  }
  if (!ec && !e.profile.ok && !e.regression.ok) {
    if (e.batch_size)
      gm_cli_error("estimate",
                   "neither method could estimate: the database has too "
                   "little on %s at batch %d (see above)",
                   e.model, e.batch_size);
    else
      gm_cli_error("estimate",
                   "nothing measured to estimate from: run 'greenml bench' "
                   "with the meter on (see above)");
    ec = GM_EXIT_DATAERR;
  }
  gm_estimate_clear(&e);
  gm_analysis_table_free(t);
  gm_store_close(st);
  return ec;
}
