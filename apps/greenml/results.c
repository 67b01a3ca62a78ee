/* results.c: what the commands that read stored results share: opening the
 * database read-only, the --db, --run and cost flags, and numbers with units
 * (seconds, carbon, money). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/json.h"
#include "cli.h"

int gm_cli_open_store_readonly(const char *cmd, const char *path,
                               const char *fix, struct gm_store **out) {
  if (!gm_cli_db_given(cmd, path))
    return GM_EXIT_USAGE;
  char err[512] = "";
  enum gm_status rc = gm_store_open_readonly(path, out, err, sizeof(err));
  switch (rc) {
  case GM_OK:
    return 0;
  case GM_ERR_NOT_FOUND:
    gm_cli_error(cmd, "%s: %s", err, fix);
    return GM_EXIT_NOINPUT;
  case GM_ERR_IO:
    gm_cli_error(cmd, "%s", err);
    return GM_EXIT_NOINPUT;
  case GM_ERR_INVALID_ARG:
    gm_cli_error(cmd, "%s; pass --db PATH", err);
    return GM_EXIT_NOINPUT;
  case GM_ERR_SCHEMA_NEWER:
  case GM_ERR_PARSE: /* not greenml's */
    gm_cli_error(cmd, "%s", err);
    return GM_EXIT_DATAERR;
  case GM_ERR_UNSUPPORTED:
    gm_cli_error(cmd, "%s", err);
    return GM_EXIT_USAGE;
  default:
    gm_cli_error(cmd, "%s", err[0] ? err : gm_status_str(rc));
    return GM_EXIT_IOERR;
  }
}

void gm_cli_fmt_seconds(char *buf, size_t size, double s) {
  if (!isfinite(s))
    snprintf(buf, size, "n/a");
  else if (fabs(s) < 120)
    snprintf(buf, size, "%.3g s", s);
  else if (fabs(s) < 7200)
    snprintf(buf, size, "%.3g min", s / 60);
  else if (fabs(s) < 3 * 86400)
    snprintf(buf, size, "%.3g h", s / 3600);
  else
    snprintf(buf, size, "%.3g days", s / 86400);
}

void gm_cli_fmt_carbon(char *buf, size_t size, double g) {
  if (!isfinite(g))
    snprintf(buf, size, "n/a");
  else if (fabs(g) >= 1e6)
    snprintf(buf, size, "%.3g t CO2e", g / 1e6);
  else if (fabs(g) >= 1e3)
    snprintf(buf, size, "%.3g kg CO2e", g / 1e3);
  else
    snprintf(buf, size, "%.3g g CO2e", g);
}

void gm_cli_fmt_money(char *buf, size_t size, const struct gm_cli_cost *c,
                      double amount) {
  if (!isfinite(amount))
    snprintf(buf, size, "n/a");
  else
    snprintf(buf, size, "%.3g %s", amount, c->currency);
}

void gm_cli_describe_cost(char *buf, size_t size, const struct gm_cli_cost *c) {
  int n = snprintf(buf, size, "carbon %g gCO2e/kWh (%s), PUE %g; ",
                   c->g_per_kwh, c->source, c->pue);
  if (n < 0 || (size_t)n >= size)
    return;
  if (isnan(c->price_per_kwh))
    snprintf(buf + n, size - (size_t)n, "cost: no --price given");
  else
    snprintf(buf + n, size - (size_t)n, "price %g %s/kWh", c->price_per_kwh,
             c->currency);
}

void gm_cli_json_cost(struct gm_json *j, const struct gm_cli_cost *c) {
  gm_json_begin_object(j);
  gm_json_key(j, "carbon_g_per_kwh");
  gm_json_number(j, c->g_per_kwh);
  gm_json_key(j, "carbon_source");
  gm_json_string(j, c->source);
  gm_json_key(j, "pue");
  gm_json_number(j, c->pue);
  gm_json_key(j, "price_per_kwh");
  gm_json_number(j, c->price_per_kwh);
  gm_json_key(j, "currency");
  gm_json_string(j, c->currency);
  gm_json_end_object(j);
}

void gm_cli_results_opts_init(struct gm_cli_results_opts *o) {
  o->db = NULL;
  o->run = NULL;
  gm_cli_cost_opts_init(&o->cost);
}

int gm_cli_results_opt(struct gm_cli_results_opts *o, int opt, const char *arg,
                       const char *cmd) {
  switch (opt) {
  case GM_OPT_DB:
    o->db = arg;
    return 1;
  case GM_OPT_RUN:
    o->run = arg;
    return 1;
  default:
    return gm_cli_cost_opt(&o->cost, opt, arg, cmd);
  }
}

int gm_cli_parse_run_id(const char *cmd, const char *arg, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(arg, &end, 10);
  if (errno || end == arg || *end || v < 1) {
    gm_cli_error(cmd,
                 "--from-run '%s' is not a run id ('greenml runs' lists "
                 "them)",
                 arg);
    return GM_EXIT_USAGE;
  }
  *out = v;
  return 0;
}

int gm_cli_open_run_store(const char *cmd, const char *db, char *path,
                          size_t size, struct gm_store **st) {
  if (db)
    snprintf(path, size, "%s", db);
  else if (!gm_cli_default_db(path, size)) {
    gm_cli_error(cmd, "database path too long; pass --db PATH");
    return GM_EXIT_USAGE;
  }
  return gm_cli_open_store_readonly(
      cmd, path, "measure into it first (greenml measure) or pass --db PATH",
      st);
}

int gm_cli_find_run(const char *cmd, struct gm_store *st, const char *db,
                    int64_t id, struct gm_store_run_list **list,
                    const struct gm_store_run **run) {
  *run = NULL;
  if (gm_store_list_runs(st, NULL, list) != GM_OK) {
    gm_cli_error(cmd, "%s", gm_store_last_error(st));
    return GM_EXIT_IOERR;
  }
  for (size_t i = 0; i < (*list)->n; i++)
    if ((*list)->runs[i].id == id)
      *run = &(*list)->runs[i];
  if (*run)
    return 0;
  gm_cli_error(cmd, "no run %lld in '%s' ('greenml runs --db %s' lists them)",
               (long long)id, db, db);
  return GM_EXIT_NOINPUT;
}
