/* carbon.c: see greenml/carbon.h. The compiled-in tables/carbon_intensity.csv
 * is parsed once (pthread_once) into static storage. Malformed rows are
 * skipped (the unit test checks that none are). */
#include "greenml/carbon.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/csv.h"
#include "base/util.h"

extern const char gm__data_carbon_csv[];
extern const size_t gm__data_carbon_csv_len;

enum { CARBON_MAX_ROWS = 512, CARBON_FIELDS = 5 };

static struct gm_carbon_entry rows[CARBON_MAX_ROWS];
static size_t n_rows;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static char upper(char c) {
  return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static void parse_row(const char *b, const char *e) {
  const char *fb[CARBON_FIELDS], *fe[CARBON_FIELDS]; /* field k: [fb, fe) */
  size_t nf = 0;
  fb[0] = b;
  for (const char *p = b; p < e; p++) {
    if (*p != ',')
      continue;
    if (nf + 1 >= CARBON_FIELDS)
      return; /* too many fields */
    fe[nf++] = p;
    fb[nf] = p + 1;
  }
  fe[nf++] = e;
  if (nf != CARBON_FIELDS || n_rows >= CARBON_MAX_ROWS)
    return;
  struct gm_carbon_entry r;
  memset(&r, 0, sizeof(r));
  char g[32], year[16];
  if (!gm__csv_field(fb[0], fe[0], r.code, sizeof(r.code)) ||
      !gm__csv_field(fb[1], fe[1], r.country, sizeof(r.country)) ||
      !gm__csv_field(fb[2], fe[2], g, sizeof(g)) ||
      !gm__csv_field(fb[3], fe[3], year, sizeof(year)) ||
      !gm__csv_field(fb[4], fe[4], r.source, sizeof(r.source)))
    return;
  uint64_t y;
  if (!gm__parse_double(g, &r.g_per_kwh) || r.g_per_kwh < 0 ||
      !gm__parse_u64(year, &y) || y < 1900 || y > 2100)
    return;
  r.year = (int)y;
  for (char *c = r.code; *c; c++)
    *c = upper(*c);
  rows[n_rows++] = r;
}

static void row_cb(void *ctx, const char *b, const char *e) {
  (void)ctx;
  parse_row(b, e);
}

static void parse_table(void) {
  gm__csv_each_row(gm__data_carbon_csv, gm__data_carbon_csv_len,
                   "code,country,g_per_kwh,year,source", row_cb, NULL);
}

static void load(void) { pthread_once(&once, parse_table); }

size_t gm_carbon_count(void) {
  load();
  return n_rows;
}

enum gm_status gm_carbon_at(size_t i, struct gm_carbon_entry *out) {
  if (!out)
    return GM_ERR_INVALID_ARG;
  load();
  if (i >= n_rows)
    return GM_ERR_INVALID_ARG;
  *out = rows[i];
  return GM_OK;
}

static bool code_equal(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (upper(*a) != upper(*b))
      return false;
  return *a == *b;
}

enum gm_status gm_carbon_lookup(const char *code, struct gm_carbon_entry *out) {
  if (!code || !out)
    return GM_ERR_INVALID_ARG;
  load();
  for (size_t i = 0; i < n_rows; i++) {
    if (code_equal(rows[i].code, code)) {
      *out = rows[i];
      return GM_OK;
    }
  }
  return GM_ERR_NOT_FOUND;
}

double gm_carbon_grams(double energy_j, double g_per_kwh, double pue) {
  return energy_j / 3.6e6 * pue * g_per_kwh;
}
