/* cost.c: carbon and cost flags shared by measure, report, analyze,
 * estimate and export: grid intensity from a region or a number, PUE, and a
 * price per kWh. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "greenml/carbon.h"

void gm_cli_cost_opts_init(struct gm_cli_cost_opts *o) {
  memset(o, 0, sizeof(*o));
  o->intensity = -1;
  o->pue = 1.0;
  o->price_per_kwh = -1;
  o->currency = "EUR";
}

static bool number(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s || !(v >= lo) || v > hi)
    return false;
  *out = v;
  return true;
}

int gm_cli_cost_opt(struct gm_cli_cost_opts *o, int opt, const char *arg,
                    const char *cmd) {
  switch (opt) {
  case GM_OPT_REGION:
    if (o->intensity >= 0) {
      gm_cli_error(cmd, "--region and --carbon-intensity cannot be used "
                        "together");
      return -1;
    }
    o->region = arg;
    return 1;
  case GM_OPT_INTENSITY:
    if (o->region) {
      gm_cli_error(cmd, "--region and --carbon-intensity cannot be used "
                        "together");
      return -1;
    }
    if (!number(arg, 0, 5000, &o->intensity)) {
      gm_cli_error(cmd,
                   "--carbon-intensity '%s' is not a value in gCO2e/kWh "
                   "(0 .. 5000, e.g. 350)",
                   arg);
      return -1;
    }
    return 1;
  case GM_OPT_PUE:
    if (!number(arg, 1.0, 5.0, &o->pue)) {
      gm_cli_error(
          cmd, "--pue '%s' must be a number from 1.0 to 5.0 (e.g. 1.1)", arg);
      return -1;
    }
    return 1;
  case GM_OPT_PRICE:
    if (!number(arg, 0, 1000, &o->price_per_kwh)) {
      gm_cli_error(cmd,
                   "--price '%s' is not a price per kWh (0 .. 1000, e.g. "
                   "0.25)",
                   arg);
      return -1;
    }
    return 1;
  case GM_OPT_CURRENCY:
    if (!*arg || strlen(arg) > 8) {
      gm_cli_error(cmd, "--currency '%s' must be 1 to 8 characters (e.g. EUR)",
                   arg);
      return -1;
    }
    o->currency = arg;
    return 1;
  default:
    return 0;
  }
}

int gm_cli_cost_resolve(const char *cmd, const struct gm_cli_cost_opts *o,
                        struct gm_cli_cost *out) {
  memset(out, 0, sizeof(*out));
  out->pue = o->pue;
  out->price_per_kwh = o->price_per_kwh >= 0 ? o->price_per_kwh : NAN;
  snprintf(out->currency, sizeof(out->currency), "%s", o->currency);
  if (o->intensity >= 0) {
    out->g_per_kwh = o->intensity;
    snprintf(out->source, sizeof(out->source), "--carbon-intensity");
    return 0;
  }
  struct gm_carbon_entry e;
  const char *code = o->region ? o->region : "WORLD";
  if (gm_carbon_lookup(code, &e) != GM_OK) {
    /* the countries are the rows with a 2-letter code (not WORLD) */
    size_t countries = 0;
    for (size_t i = 0; i < gm_carbon_count(); i++)
      countries += gm_carbon_at(i, &e) == GM_OK && strlen(e.code) == 2;
    gm_cli_error(cmd,
                 "--region '%s' is not in the carbon table (%zu countries by "
                 "ISO 3166-1 alpha-2 code, and WORLD; "
                 "tables/carbon_intensity.csv); pass --carbon-intensity "
                 "G_PER_KWH instead",
                 code, countries);
    return GM_EXIT_USAGE;
  }
  out->g_per_kwh = e.g_per_kwh;
  snprintf(out->source, sizeof(out->source), "%s%s %s, %.96s %d",
           o->region ? "region " : "no --region: ", e.code, e.country, e.source,
           e.year);
  return 0;
}

double gm_cli_cost_carbon_g(const struct gm_cli_cost *c, double energy_j) {
  return gm_carbon_grams(energy_j, c->g_per_kwh, c->pue);
}

double gm_cli_cost_money(const struct gm_cli_cost *c, double energy_j) {
  return energy_j / 3.6e6 * c->pue * c->price_per_kwh;
}
