/* cmd_export.c: `greenml export`: the bench phase table (one row per phase,
 * joined with its model, a column per component, carbon and cost) and the
 * time series (one row per tick, a column per component and metric) as CSV
 * (a header row, RFC 4180 quoting) or JSON (an array of objects), for pandas
 * or R. Units are in the column names. Rows are streamed, so a long time
 * series is never held as text. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/json.h"
#include "cli.h"
#include "output.h"

static const char usage_text[] =
    "usage: greenml export [--db PATH] [--run ID] [--format csv|json]\n"
    "                      [--what phases|samples|all] [--out DIR|-] "
    "[options]\n"
    "\n"
    "Writes the benches in the database as tables for pandas or R:\n"
    "  phases   one row per bench phase (bench_phases joined with\n"
    "           bench_models): time, samples, energy, power, utilisation,\n"
    "           the model's characteristics, energy_<component>_j and the\n"
    "           other per-component columns, carbon_g and cost_<currency>\n"
    "  samples  the time series of every bench run: t_s, the phase, the\n"
    "           cumulative energy_<component>_j and power_<component>_w of\n"
    "           each component, and every metric (cpu_util_pct, ...)\n"
    "Units are in the names (_j, _w, _s, _pct, _bytes); a value not recorded\n"
    "is an empty field (CSV) or null (JSON).\n"
    "\n"
    "  --db PATH            database (default "
    "$XDG_DATA_HOME/greenml/greenml.db)\n"
    "  --run ID             one bench (name or id); default every bench\n"
    "  --format csv|json    CSV with a header row (default), or a JSON array\n"
    "                       of objects\n"
    "  --what phases|samples|all  which table (default phases)\n"
    "  --out DIR|-          directory for phases.csv / samples.csv (.json);\n"
    "                       '-' (default) writes one table to "
    "stdout\n"
    "  --from-run ID        one measured run instead of the benches\n"
    "                       ('greenml runs' lists them): phases, one row per\n"
    "                       phase (name, start, duration, energy, net, power,\n"
    "                       energy_<component>_j, carbon, cost); samples, its\n"
    "                       time series with the phase of each "
    "tick\n" GM_CLI_COST_HELP;

/* ---- a table writer: CSV or JSON rows ------------------------------------ */

struct sink {
  FILE *f;
  bool json;
  size_t ncols;
  char (*cols)[80];
  size_t col; /* the next column of the open row */
  size_t rows;
  struct gm_json j;
  bool failed;
};

/* An RFC 4180 field: quoted when it holds a comma, a quote, CR or LF, with
 * quotes doubled. */
static void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void sink_begin(struct sink *s, FILE *f, bool json, char (*cols)[80],
                       size_t ncols) {
  memset(s, 0, sizeof(*s));
  s->f = f;
  s->json = json;
  s->cols = cols;
  s->ncols = ncols;
  if (json) {
    fputs("[", f);
    return;
  }
  for (size_t i = 0; i < ncols; i++) {
    if (i)
      fputc(',', f);
    csv_field(f, cols[i]);
  }
  fputs("\r\n", f);
}

static void sink_row(struct sink *s) {
  s->col = 0;
  if (s->json) {
    gm_json_init(&s->j);
    gm_json_begin_object(&s->j);
  }
}

/* Before a value: the separator (CSV) or the key (JSON). */
static void sink_next(struct sink *s) {
  if (s->json)
    gm_json_key(&s->j, s->cols[s->col]);
  else if (s->col)
    fputc(',', s->f);
  s->col++;
}

static void sink_num(struct sink *s, double v) {
  sink_next(s);
  if (s->json)
    gm_json_number(&s->j, v);
  else if (isfinite(v))
    fprintf(s->f, "%.17g", v);
}

static void sink_int(struct sink *s, int64_t v) {
  sink_next(s);
  if (s->json)
    gm_json_int(&s->j, v);
  else
    fprintf(s->f, "%lld", (long long)v);
}

static void sink_null(struct sink *s) {
  sink_next(s);
  if (s->json)
    gm_json_null(&s->j);
}

static void sink_str(struct sink *s, const char *v) {
  if (!v) {
    sink_null(s);
    return;
  }
  sink_next(s);
  if (s->json)
    gm_json_string(&s->j, v);
  else
    csv_field(s->f, v);
}

static void sink_row_end(struct sink *s) {
  while (s->col < s->ncols)
    sink_null(s);
  if (s->json) {
    gm_json_end_object(&s->j);
    if (s->j.oom)
      s->failed = true;
    else
      fprintf(s->f, "%s\n%s", s->rows ? "," : "", s->j.buf);
    gm_json_release(&s->j);
  } else {
    fputs("\r\n", s->f);
  }
  s->rows++;
}

static void sink_end(struct sink *s) {
  if (s->json)
    fputs(s->rows ? "\n]\n" : "]\n", s->f);
}

/* ---- column names -------------------------------------------------------- */

/* Lower case, every character outside [a-z0-9] as '_': "package-0" ->
 * "package_0". */
static void ident(char *dst, size_t size, const char *src) {
  size_t n = 0;
  for (; *src && n + 1 < size; src++)
    dst[n++] =
        isalnum((unsigned char)*src) ? (char)tolower((unsigned char)*src) : '_';
  dst[n] = '\0';
}

static const char *unit_suffix(const char *unit) {
  if (strcmp(unit, "%") == 0)
    return "pct";
  if (strcmp(unit, "B") == 0)
    return "bytes";
  return NULL;
}

struct cols {
  char (*name)[80];
  size_t n, cap;
};

/* Appends the column a b c (concatenated). */
static bool col_add(struct cols *c, const char *a, const char *b,
                    const char *d) {
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 64;
    void *p = realloc(c->name, nc * sizeof(*c->name));
    if (!p)
      return false;
    c->name = p;
    c->cap = nc;
  }
  snprintf(c->name[c->n++], sizeof(c->name[0]), "%s%s%s", a, b, d);
  return true;
}

/* Distinct strings in first-appearance order. */
struct names {
  char (*v)[64];
  char (*unit)[16];
  size_t n, cap;
};

static long names_find(const struct names *ns, const char *v) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcmp(ns->v[i], v) == 0)
      return (long)i;
  return -1;
}

static bool names_add(struct names *ns, const char *v, const char *unit) {
  if (names_find(ns, v) >= 0)
    return true;
  if (ns->n == ns->cap) {
    size_t nc = ns->cap ? 2 * ns->cap : 16;
    void *p = realloc(ns->v, nc * sizeof(*ns->v));
    if (!p)
      return false;
    ns->v = p;
    p = realloc(ns->unit, nc * sizeof(*ns->unit));
    if (!p)
      return false;
    ns->unit = p;
    ns->cap = nc;
  }
  snprintf(ns->v[ns->n], sizeof(ns->v[0]), "%s", v);
  snprintf(ns->unit[ns->n], sizeof(ns->unit[0]), "%s", unit ? unit : "");
  ns->n++;
  return true;
}

static void names_free(struct names *ns) {
  free(ns->v);
  free(ns->unit);
}

/* ---- the phase table ----------------------------------------------------- */

static const char *const phase_cols[] = {"bench",
                                         "bench_id",
                                         "host_id",
                                         "model",
                                         "batch_size",
                                         "kind",
                                         "epoch",
                                         "metered",
                                         "run_id",
                                         "phase_idx",
                                         "start_s",
                                         "duration_s",
                                         "steps",
                                         "samples",
                                         "loss",
                                         "accuracy",
                                         "lr",
                                         "energy_j",
                                         "net_energy_j",
                                         "j_per_sample",
                                         "net_j_per_sample",
                                         "avg_power_w",
                                         "peak_power_w",
                                         "provenance",
                                         "cpu_util_pct",
                                         "dram_used_bytes",
                                         "gpu_util_pct",
                                         "vram_used_bytes",
                                         "params",
                                         "trainable_params",
                                         "param_bytes",
                                         "buffer_bytes",
                                         "size_bytes",
                                         "macs",
                                         "macs_per_param"};
#define N_PHASE_COLS (sizeof(phase_cols) / sizeof(*phase_cols))

static double per(double a, double b) { return b > 0 ? a / b : NAN; }

static int write_phases(FILE *f, bool json, const struct gm_analysis_table *t,
                        const struct gm_cli_cost *cost, size_t *rows) {
  struct names comps = {0};
  struct cols cols = {0};
  int ec = GM_EXIT_SOFTWARE;
  for (size_t i = 0; i < t->n_phases; i++)
    for (size_t c = 0; c < t->phases[i].n_components; c++)
      if (!names_add(&comps, t->phases[i].components[c].name, NULL))
        goto out;
  for (size_t i = 0; i < N_PHASE_COLS; i++)
    if (!col_add(&cols, phase_cols[i], "", ""))
      goto out;
  for (size_t c = 0; c < comps.n; c++) {
    char id[64];
    ident(id, sizeof(id), comps.v[c]);
    if (!col_add(&cols, "energy_", id, "_j") ||
        !col_add(&cols, "net_energy_", id, "_j") ||
        !col_add(&cols, "avg_power_", id, "_w") ||
        !col_add(&cols, "peak_power_", id, "_w") ||
        !col_add(&cols, "provenance_", id, ""))
      goto out;
  }
  char cur[32];
  ident(cur, sizeof(cur), cost->currency);
  if (!col_add(&cols, "carbon_intensity_g_per_kwh", "", "") ||
      !col_add(&cols, "pue", "", "") || !col_add(&cols, "carbon_g", "", "") ||
      !col_add(&cols, "carbon_net_g", "", "") ||
      (!isnan(cost->price_per_kwh) &&
       (!col_add(&cols, "price_per_kwh", "", "") ||
        !col_add(&cols, "cost_", cur, "") ||
        !col_add(&cols, "cost_net_", cur, ""))))
    goto out;
  struct sink s;
  sink_begin(&s, f, json, cols.name, cols.n);
  for (size_t i = 0; i < t->n_phases && !s.failed; i++) {
    const struct gm_analysis_phase *p = &t->phases[i];
    sink_row(&s);
    sink_str(&s, t->benches[p->bench].name);
    sink_int(&s, p->bench_id);
    sink_int(&s, p->host_id);
    sink_str(&s, p->model);
    sink_int(&s, p->batch_size);
    sink_str(&s, p->kind);
    sink_int(&s, p->epoch);
    sink_int(&s, p->metered);
    if (p->run_id > 0)
      sink_int(&s, p->run_id);
    else
      sink_null(&s);
    if (p->phase_idx >= 0)
      sink_int(&s, p->phase_idx);
    else
      sink_null(&s);
    sink_num(&s, p->start_s);
    sink_num(&s, p->duration_s);
    sink_int(&s, p->steps);
    sink_int(&s, p->samples);
    sink_num(&s, p->loss);
    sink_num(&s, p->accuracy);
    sink_num(&s, p->lr);
    sink_num(&s, p->energy_j);
    sink_num(&s, p->net_energy_j);
    sink_num(&s, per(p->energy_j, (double)p->samples));
    sink_num(&s, per(p->net_energy_j, (double)p->samples));
    sink_num(&s, p->avg_power_w);
    sink_num(&s, p->peak_power_w);
    sink_str(&s, p->provenance[0] ? p->provenance : NULL);
    sink_num(&s, p->cpu_util_pct);
    sink_num(&s, p->dram_used_bytes);
    sink_num(&s, p->gpu_util_pct);
    sink_num(&s, p->vram_used_bytes);
    /* the model's characteristics, when bench_models has its row */
    bool known = p->params > 0;
    sink_num(&s, known ? (double)p->params : NAN);
    sink_num(&s, known ? (double)p->trainable_params : NAN);
    sink_num(&s, known ? (double)p->param_bytes : NAN);
    sink_num(&s, known ? (double)p->buffer_bytes : NAN);
    sink_num(&s, known ? (double)p->size_bytes : NAN);
    sink_num(&s, known ? (double)p->macs : NAN);
    sink_num(&s, p->macs_per_param);
    for (size_t c = 0; c < comps.n; c++) {
      const struct gm_analysis_component *pc = NULL;
      for (size_t k = 0; k < p->n_components; k++)
        if (strcmp(p->components[k].name, comps.v[c]) == 0)
          pc = &p->components[k];
      if (!pc) {
        for (int k = 0; k < 5; k++)
          sink_null(&s);
        continue;
      }
      sink_num(&s, pc->energy_j);
      sink_num(&s, pc->net_energy_j);
      sink_num(&s, pc->avg_power_w);
      sink_num(&s, pc->peak_power_w);
      sink_str(&s, pc->provenance);
    }
    sink_num(&s, cost->g_per_kwh);
    sink_num(&s, cost->pue);
    sink_num(&s, gm_cli_cost_carbon_g(cost, p->energy_j));
    sink_num(&s, gm_cli_cost_carbon_g(cost, p->net_energy_j));
    if (!isnan(cost->price_per_kwh)) {
      sink_num(&s, cost->price_per_kwh);
      sink_num(&s, gm_cli_cost_money(cost, p->energy_j));
      sink_num(&s, gm_cli_cost_money(cost, p->net_energy_j));
    }
    sink_row_end(&s);
  }
  sink_end(&s);
  *rows = s.rows;
  ec = s.failed ? GM_EXIT_SOFTWARE : 0;
out:
  names_free(&comps);
  free(cols.name);
  return ec;
}

/* ---- the time series ----------------------------------------------------- */

/* Loads run's series (or its columns only); 0 or an exit code after
 * printing. */
static int load_run(struct gm_store *st, int64_t run, bool columns_only,
                    struct gm_analysis_series **out) {
  char err[512] = "";
  enum gm_status rc =
      columns_only
          ? gm_analysis_load_series_columns(st, run, out, err, sizeof(err))
          : gm_analysis_load_series(st, run, out, err, sizeof(err));
  if (rc == GM_OK)
    return 0;
  gm_cli_error("export", "%s", err[0] ? err : gm_status_str(rc));
  return rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE : GM_EXIT_IOERR;
}

static int write_samples(FILE *f, bool json, struct gm_store *st,
                         const struct gm_analysis_table *t, size_t *rows) {
  /* the runs of the benches, in order, and the union of their columns */
  int64_t *runs = malloc((t->n_phases ? t->n_phases : 1) * sizeof(int64_t));
  size_t *first = malloc((t->n_phases ? t->n_phases : 1) * sizeof(size_t));
  struct names comps = {0}, metrics = {0};
  struct cols cols = {0};
  struct gm_analysis_series *r = NULL;
  size_t nr = 0;
  int ec = GM_EXIT_SOFTWARE;
  if (!runs || !first)
    goto out;
  for (size_t i = 0; i < t->n_phases; i++) {
    int64_t id = t->phases[i].run_id;
    bool seen = id <= 0;
    for (size_t k = 0; k < nr && !seen; k++)
      seen = runs[k] == id;
    if (!seen) {
      first[nr] = i;
      runs[nr++] = id;
    }
  }
  /* the columns of every run first; then one run's rows at a time */
  for (size_t k = 0; k < nr; k++) {
    if ((ec = load_run(st, runs[k], true, &r)))
      goto out;
    ec = GM_EXIT_SOFTWARE;
    for (size_t c = 0; c < r->n_components; c++)
      if (!names_add(&comps, r->components[c].name, NULL))
        goto out;
    for (size_t m = 0; m < r->n_metrics; m++)
      if (!names_add(&metrics, r->metrics[m].name, r->metrics[m].unit))
        goto out;
    gm_analysis_series_free(r);
    r = NULL;
  }
  static const char *const fixed[] = {"bench",      "run_id",     "model",
                                      "batch_size", "seq",        "t_s",
                                      "phase_kind", "phase_epoch"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
    if (!col_add(&cols, fixed[i], "", ""))
      goto out;
  for (size_t c = 0; c < comps.n; c++) {
    char id[64];
    ident(id, sizeof(id), comps.v[c]);
    if (!col_add(&cols, "energy_", id, "_j") ||
        !col_add(&cols, "power_", id, "_w"))
      goto out;
  }
  for (size_t m = 0; m < metrics.n; m++) {
    char id[64], u[16];
    ident(id, sizeof(id), metrics.v[m]);
    const char *suffix = unit_suffix(metrics.unit[m]);
    ident(u, sizeof(u), metrics.unit[m]);
    if (!col_add(&cols, id, "_", suffix ? suffix : u))
      goto out;
  }
  long *cmap = malloc((comps.n ? comps.n : 1) * sizeof(long));
  long *mmap = malloc((metrics.n ? metrics.n : 1) * sizeof(long));
  if (!cmap || !mmap) {
    free(cmap);
    free(mmap);
    goto out;
  }
  struct sink s;
  sink_begin(&s, f, json, cols.name, cols.n);
  for (size_t k = 0; k < nr && !s.failed; k++) {
    if ((ec = load_run(st, runs[k], false, &r))) {
      free(cmap);
      free(mmap);
      goto out;
    }
    const struct gm_analysis_phase *p0 = &t->phases[first[k]];
    for (size_t c = 0; c < comps.n; c++) {
      cmap[c] = -1;
      for (size_t i = 0; i < r->n_components; i++)
        if (strcmp(r->components[i].name, comps.v[c]) == 0)
          cmap[c] = (long)i;
    }
    for (size_t m = 0; m < metrics.n; m++) {
      mmap[m] = -1;
      for (size_t i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].name, metrics.v[m]) == 0)
          mmap[m] = (long)i;
    }
    for (size_t row = 0; row < r->n_rows && !s.failed; row++) {
      sink_row(&s);
      sink_str(&s, t->benches[p0->bench].name);
      sink_int(&s, r->run_id);
      sink_str(&s, p0->model);
      sink_int(&s, p0->batch_size);
      sink_int(&s, r->seq[row]);
      sink_num(&s, r->t_s[row]);
      long ph = gm_analysis_phase_at(t, r->run_id, r->t_s[row]);
      if (ph >= 0) {
        sink_str(&s, t->phases[ph].kind);
        sink_int(&s, t->phases[ph].epoch);
      } else {
        sink_null(&s);
        sink_null(&s);
      }
      for (size_t c = 0; c < comps.n; c++) {
        if (cmap[c] < 0) {
          sink_null(&s);
          sink_null(&s);
          continue;
        }
        size_t at = row * r->n_components + (size_t)cmap[c];
        sink_num(&s, r->energy_j[at]);
        sink_num(&s, r->power_w[at]);
      }
      for (size_t m = 0; m < metrics.n; m++)
        sink_num(&s, mmap[m] < 0
                         ? NAN
                         : r->metric[row * r->n_metrics + (size_t)mmap[m]]);
      sink_row_end(&s);
    }
    gm_analysis_series_free(r);
    r = NULL;
  }
  sink_end(&s);
  free(cmap);
  free(mmap);
  *rows = s.rows;
  ec = s.failed ? GM_EXIT_SOFTWARE : 0;
out:
  gm_analysis_series_free(r);
  free(runs);
  free(first);
  names_free(&comps);
  names_free(&metrics);
  free(cols.name);
  return ec;
}

/* ---- a measured run ------------------------------------------------------ */

static int run_phases_load(struct gm_store *st, int64_t run,
                           struct gm_store_run_phases **out) {
  enum gm_status rc = gm_store_load_run_phases(st, run, out);
  if (rc == GM_OK)
    return 0;
  gm_cli_error("export", "%s", gm_store_last_error(st));
  return rc == GM_ERR_NOT_FOUND   ? GM_EXIT_NOINPUT
         : rc == GM_ERR_NO_MEMORY ? GM_EXIT_SOFTWARE
                                  : GM_EXIT_IOERR;
}

static int write_run_phases(FILE *f, bool json, struct gm_store *st,
                            int64_t run, const struct gm_cli_cost *cost,
                            size_t *rows) {
  struct gm_store_run_phases *ph = NULL;
  int ec = run_phases_load(st, run, &ph);
  if (ec)
    return ec;
  struct cols cols = {0};
  ec = GM_EXIT_SOFTWARE;
  static const char *const fixed[] = {
      "run_id",   "phase_idx",    "phase",       "start_s", "duration_s",
      "energy_j", "net_energy_j", "avg_power_w", "partial", "ended_by_stop"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
    if (!col_add(&cols, fixed[i], "", ""))
      goto out;
  for (size_t c = 0; c < ph->n_components; c++) {
    char id[64];
    ident(id, sizeof(id), ph->component[c]);
    if (!col_add(&cols, "energy_", id, "_j") ||
        !col_add(&cols, "net_energy_", id, "_j"))
      goto out;
  }
  if (!col_add(&cols, "carbon_g_per_kwh", "", "") ||
      !col_add(&cols, "pue", "", "") || !col_add(&cols, "carbon_g", "", "") ||
      !col_add(&cols, "carbon_net_g", "", ""))
    goto out;
  if (!isnan(cost->price_per_kwh)) {
    char cur[16];
    ident(cur, sizeof(cur), cost->currency);
    if (!col_add(&cols, "price_per_kwh", "", "") ||
        !col_add(&cols, "cost_", cur, "") ||
        !col_add(&cols, "cost_net_", cur, ""))
      goto out;
  }
  struct sink s;
  sink_begin(&s, f, json, cols.name, cols.n);
  for (size_t i = 0; i < ph->n && !s.failed; i++) {
    const struct gm_store_run_phase *p = &ph->phases[i];
    sink_row(&s);
    sink_int(&s, run);
    sink_int(&s, p->idx);
    sink_str(&s, p->name);
    sink_num(&s, p->start_s);
    sink_num(&s, p->duration_s);
    sink_num(&s, p->energy_j);
    sink_num(&s, p->net_energy_j);
    sink_num(&s, per(p->energy_j, p->duration_s));
    sink_int(&s, p->partial);
    sink_int(&s, p->ended_by_stop);
    for (size_t c = 0; c < ph->n_components; c++) {
      sink_num(&s, ph->component_energy_j[i * ph->n_components + c]);
      sink_num(&s, ph->component_net_energy_j[i * ph->n_components + c]);
    }
    sink_num(&s, cost->g_per_kwh);
    sink_num(&s, cost->pue);
    sink_num(&s, gm_cli_cost_carbon_g(cost, p->energy_j));
    sink_num(&s, gm_cli_cost_carbon_g(cost, p->net_energy_j));
    if (!isnan(cost->price_per_kwh)) {
      sink_num(&s, cost->price_per_kwh);
      sink_num(&s, gm_cli_cost_money(cost, p->energy_j));
      sink_num(&s, gm_cli_cost_money(cost, p->net_energy_j));
    }
    sink_row_end(&s);
  }
  sink_end(&s);
  *rows = s.rows;
  ec = s.failed ? GM_EXIT_SOFTWARE : 0;
out:
  free(cols.name);
  gm_store_run_phases_free(ph);
  return ec;
}

static int write_run_samples(FILE *f, bool json, struct gm_store *st,
                             int64_t run, size_t *rows) {
  struct gm_store_run_phases *ph = NULL;
  int ec = run_phases_load(st, run, &ph);
  if (ec)
    return ec;
  struct gm_analysis_series *r = NULL;
  struct cols cols = {0};
  if ((ec = load_run(st, run, false, &r)))
    goto out;
  ec = GM_EXIT_SOFTWARE;
  static const char *const fixed[] = {"run_id", "seq", "t_s", "phase"};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
    if (!col_add(&cols, fixed[i], "", ""))
      goto out;
  for (size_t c = 0; c < r->n_components; c++) {
    char id[64];
    ident(id, sizeof(id), r->components[c].name);
    if (!col_add(&cols, "energy_", id, "_j") ||
        !col_add(&cols, "power_", id, "_w"))
      goto out;
  }
  for (size_t m = 0; m < r->n_metrics; m++) {
    char id[64], u[16];
    ident(id, sizeof(id), r->metrics[m].name);
    const char *suffix = unit_suffix(r->metrics[m].unit);
    ident(u, sizeof(u), r->metrics[m].unit);
    if (!col_add(&cols, id, "_", suffix ? suffix : u))
      goto out;
  }
  struct sink s;
  sink_begin(&s, f, json, cols.name, cols.n);
  for (size_t row = 0; row < r->n_rows && !s.failed; row++) {
    sink_row(&s);
    sink_int(&s, run);
    sink_int(&s, r->seq[row]);
    sink_num(&s, r->t_s[row]);
    /* the phase open at the tick: begun at or before it, not ended */
    const char *name = NULL;
    for (size_t i = 0; i < ph->n; i++) {
      const struct gm_store_run_phase *p = &ph->phases[i];
      if (r->t_s[row] >= p->start_s && r->t_s[row] < p->start_s + p->duration_s)
        name = p->name;
    }
    if (name)
      sink_str(&s, name);
    else
      sink_null(&s);
    for (size_t c = 0; c < r->n_components; c++) {
      sink_num(&s, r->energy_j[row * r->n_components + c]);
      sink_num(&s, r->power_w[row * r->n_components + c]);
    }
    for (size_t m = 0; m < r->n_metrics; m++)
      sink_num(&s, r->metric[row * r->n_metrics + m]);
    sink_row_end(&s);
  }
  sink_end(&s);
  *rows = s.rows;
  ec = s.failed ? GM_EXIT_SOFTWARE : 0;
out:
  free(cols.name);
  gm_analysis_series_free(r);
  gm_store_run_phases_free(ph);
  return ec;
}

/* ---- the command --------------------------------------------------------- */

enum { O_FORMAT = GM_OPT_FIRST_FREE, O_OUT, O_WHAT, O_FROM_RUN };

/* One table to stdout or, written whole or not at all (output.h), to
 * OUT/WHAT.csv|json. */
static int write_one(const char *what, const char *out_dir, bool json,
                     struct gm_store *st, const struct gm_analysis_table *t,
                     int64_t run, const struct gm_cli_cost *cost) {
  char path[1200];
  FILE *f = stdout;
  struct gm_cli_file file;
  memset(&file, 0, sizeof(file));
  if (strcmp(out_dir, "-") != 0) {
    snprintf(path, sizeof(path), "%s/%s.%s", out_dir, what,
             json ? "json" : "csv");
    int e = gm_cli_file_open(&file, path);
    if (e) {
      gm_cli_error("export", "cannot create '%s': %s", path, strerror(e));
      return GM_EXIT_CANTCREAT;
    }
    f = file.f;
  }
  size_t rows = 0;
  bool phases = strcmp(what, "phases") == 0;
  int ec = run > 0  ? (phases ? write_run_phases(f, json, st, run, cost, &rows)
                              : write_run_samples(f, json, st, run, &rows))
           : phases ? write_phases(f, json, t, cost, &rows)
                    : write_samples(f, json, st, t, &rows);
  if (ec == GM_EXIT_SOFTWARE)
    gm_cli_error("export", "out of memory");
  if (ec && ec != GM_EXIT_SOFTWARE && f != stdout)
    gm_cli_file_abort(&file);
  if (ec && ec != GM_EXIT_SOFTWARE)
    return ec; /* named when it was loaded */
  int err = 0;
  if (f == stdout) {
    if (fflush(f) != 0)
      err = errno;
    else if (ferror(f))
      err = EIO;
  } else if (ec) {
    gm_cli_file_abort(&file);
  } else {
    err = gm_cli_file_commit(&file);
  }
  if (!ec && err) {
    gm_cli_error("export", "cannot write %s: %s",
                 f == stdout ? "to stdout" : path, strerror(err));
    ec = GM_EXIT_IOERR;
  }
  if (!ec && f != stdout)
    fprintf(stderr, "greenml export: %zu %s rows -> %s\n", rows, what, path);
  return ec;
}

int cmd_export(int argc, char **argv) {
  const char *db = NULL, *bench = NULL, *out = "-", *what = "phases";
  bool json = false;
  struct gm_cli_results_opts ro;
  gm_cli_results_opts_init(&ro);
  static const struct option longopts[] = {{"format", 1, 0, O_FORMAT},
                                           {"out", 1, 0, O_OUT},
                                           {"what", 1, 0, O_WHAT},
                                           {"from-run", 1, 0, O_FROM_RUN},
                                           {"help", 0, 0, 'h'},
                                           GM_CLI_RESULTS_LONGOPTS,
                                           {0}};
  int64_t from_run = 0;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    int r = gm_cli_results_opt(&ro, opt, optarg, "export");
    if (r < 0)
      return GM_EXIT_USAGE;
    if (r > 0)
      continue;
    switch (opt) {
    case O_FORMAT:
      if (strcmp(optarg, "csv") == 0)
        json = false;
      else if (strcmp(optarg, "json") == 0)
        json = true;
      else {
        gm_cli_error("export", "--format '%s' must be csv or json", optarg);
        return GM_EXIT_USAGE;
      }
      break;
    case O_OUT:
      if (!*optarg) {
        gm_cli_error("export", "--out needs a directory, or '-' for stdout");
        return GM_EXIT_USAGE;
      }
      out = optarg;
      break;
    case O_WHAT:
      if (strcmp(optarg, "phases") != 0 && strcmp(optarg, "samples") != 0 &&
          strcmp(optarg, "all") != 0) {
        gm_cli_error("export", "--what '%s' must be phases, samples or all",
                     optarg);
        return GM_EXIT_USAGE;
      }
      what = optarg;
      break;
    case O_FROM_RUN:
      if (gm_cli_parse_run_id("export", optarg, &from_run))
        return GM_EXIT_USAGE;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  db = ro.db;
  bench = ro.run;
  if (from_run && bench) {
    gm_cli_error("export", "--from-run exports one measured run: --run (a "
                           "bench) does not apply");
    return GM_EXIT_USAGE;
  }
  if (optind < argc) {
    gm_cli_error("export", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  bool all = strcmp(what, "all") == 0;
  if (all && strcmp(out, "-") == 0) {
    gm_cli_error("export", "--what all writes two tables: give --out DIR (or "
                           "--what phases / samples for stdout)");
    return GM_EXIT_USAGE;
  }
  struct gm_cli_cost cost;
  int ec = gm_cli_cost_resolve("export", &ro.cost, &cost);
  if (ec)
    return ec;
  char path[1024];
  struct gm_store *st = NULL;
  struct gm_analysis_table *t = NULL;
  if (from_run) {
    if ((ec = gm_cli_open_run_store("export", db, path, sizeof(path), &st)))
      return ec;
  } else if ((ec = gm_cli_load_results("export", db, bench, path, sizeof(path),
                                       &st, &t))) {
    return ec;
  }
  if (strcmp(out, "-") != 0 && !gm_cli_mkdirs(out)) {
    gm_cli_error("export", "cannot create the directory '%s': %s", out,
                 strerror(errno));
    ec = GM_EXIT_CANTCREAT;
  }
  if (!ec && (all || strcmp(what, "phases") == 0))
    ec = write_one("phases", out, json, st, t, from_run, &cost);
  if (!ec && (all || strcmp(what, "samples") == 0))
    ec = write_one("samples", out, json, st, t, from_run, &cost);
  gm_analysis_table_free(t);
  gm_store_close(st);
  return ec;
}
