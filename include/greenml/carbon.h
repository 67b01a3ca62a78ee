/* carbon.h: grid carbon intensity per country and the conversion of energy
 * into emissions.
 *
 * The table is compiled in from tables/carbon_intensity.csv: annual averages
 * (year 2023) of the lifecycle carbon intensity of electricity generation,
 * gCO2e/kWh, from Ember's yearly electricity data as republished by Our World
 * in Data; the file's header says exactly what the numbers mean and which
 * countries were left out. They are a default: users with better data (their
 * supplier, their cloud region, a real-time feed) should pass their own
 * intensity (--carbon-intensity).
 *
 * All functions are thread-safe.
 */
#ifndef GREENML_CARBON_H
#define GREENML_CARBON_H

#include <stddef.h>

#include "greenml/api.h"
#include "greenml/status.h"

/* One row of the table. */
struct gm_carbon_entry {
  char code[8];     /* ISO 3166-1 alpha-2 ("DE"), or "WORLD" */
  char country[48]; /* "Germany" */
  double g_per_kwh; /* gCO2e per kWh generated, annual average */
  int year;         /* the year the average covers */
  char source[96];  /* where the number comes from */
};

/* Looks a code up, case-insensitively ("de", "DE", "world"). GM_OK fills
 * *out; GM_ERR_NOT_FOUND for an unknown code; GM_ERR_INVALID_ARG for NULL. */
GM_API enum gm_status gm_carbon_lookup(const char *code,
                                       struct gm_carbon_entry *out);

/* Number of rows, and row i in file order (GM_ERR_INVALID_ARG when i is out
 * of range or out is NULL). */
GM_API size_t gm_carbon_count(void);
GM_API enum gm_status gm_carbon_at(size_t i, struct gm_carbon_entry *out);

/* Emissions in grams CO2e of energy_j joules drawn by the machine, in a
 * facility with power usage effectiveness pue (1.0 = no overhead), at
 * g_per_kwh: energy_j / 3.6e6 x pue x g_per_kwh. No validation: the caller
 * checks its inputs (pue >= 1, g_per_kwh >= 0). */
GM_API double gm_carbon_grams(double energy_j, double g_per_kwh, double pue);

#endif
