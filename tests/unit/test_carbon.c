/* test_carbon.c: the compiled-in carbon intensity table and the emissions
 * arithmetic. */
#include "helpers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "greenml/carbon.h"

extern const char gm__data_carbon_csv[];
extern const size_t gm__data_carbon_csv_len;

/* Runs first: several threads race to trigger the lazy parse. */
static void *lookup_thread(void *arg) {
  struct gm_carbon_entry *e = arg;
  if (gm_carbon_lookup("DE", e) != GM_OK)
    e->year = -1;
  return NULL;
}

static void test_concurrent_first_use(void **state) {
  (void)state;
  enum { N = 8 };
  pthread_t th[N];
  struct gm_carbon_entry e[N];
  memset(e, 0, sizeof(e));
  for (int i = 0; i < N; i++)
    assert_int_equal(pthread_create(&th[i], NULL, lookup_thread, &e[i]), 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  for (int i = 0; i < N; i++) {
    assert_string_equal(e[i].code, "DE");
    assert_int_equal(e[i].year, 2023);
  }
}

static void test_lookup(void **state) {
  (void)state;
  struct gm_carbon_entry e;
  assert_int_equal(gm_carbon_lookup("DE", &e), GM_OK);
  assert_string_equal(e.code, "DE");
  assert_string_equal(e.country, "Germany");
  assert_true(e.g_per_kwh == 363);
  assert_int_equal(e.year, 2023);
  assert_non_null(strstr(e.source, "Ember"));

  assert_int_equal(gm_carbon_lookup("US", &e), GM_OK);
  assert_string_equal(e.country, "United States");
  assert_true(e.g_per_kwh == 393);

  assert_int_equal(gm_carbon_lookup("FR", &e), GM_OK);
  assert_true(e.g_per_kwh == 53);

  assert_int_equal(gm_carbon_lookup("WORLD", &e), GM_OK);
  assert_string_equal(e.country, "World");
  assert_true(e.g_per_kwh == 483);
}

static void test_lookup_case_insensitive(void **state) {
  (void)state;
  const char *spellings[] = {"gb", "Gb", "gB", "GB"};
  for (size_t i = 0; i < 4; i++) {
    struct gm_carbon_entry e;
    assert_int_equal(gm_carbon_lookup(spellings[i], &e), GM_OK);
    assert_string_equal(e.code, "GB");
    assert_string_equal(e.country, "United Kingdom");
  }
  struct gm_carbon_entry w;
  assert_int_equal(gm_carbon_lookup("world", &w), GM_OK);
  assert_string_equal(w.code, "WORLD");
}

static void test_lookup_unknown(void **state) {
  (void)state;
  struct gm_carbon_entry e;
  memset(&e, 0, sizeof(e));
  assert_int_equal(gm_carbon_lookup("XX", &e), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_carbon_lookup("DEU", &e), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_carbon_lookup("D", &e), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_carbon_lookup("", &e), GM_ERR_NOT_FOUND);
  assert_int_equal(gm_carbon_lookup("CA", &e), GM_ERR_NOT_FOUND); /* dropped */
  assert_string_equal(e.code, "");
  assert_int_equal(gm_carbon_lookup(NULL, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_carbon_lookup("DE", NULL), GM_ERR_INVALID_ARG);
}

static void test_grams(void **state) {
  (void)state;
  /* 1 kWh at 400 g/kWh in a PUE 1.5 facility */
  assert_true(gm_carbon_grams(3.6e6, 400, 1.5) == 600.0);
  assert_true(gm_carbon_grams(7.2e6, 50, 1.0) == 100.0);
  assert_true(gm_carbon_grams(0, 400, 1.5) == 0.0);
  assert_true(gm_carbon_grams(1.8e6, 0, 1.2) == 0.0);
}

/* Data lines of the embedded CSV: not blank, not a comment, not the header. */
static size_t csv_data_lines(const char *text, size_t len) {
  size_t n = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
      p++;
    if (p < e && *p != '#')
      n++;
    p = nl ? nl + 1 : end;
  }
  return n > 0 ? n - 1 : 0;
}

static void test_every_row(void **state) {
  (void)state;
  size_t n = gm_carbon_count();
  assert_true(n >= 50);
  /* every data line parsed: nothing silently skipped */
  assert_int_equal(
      n, csv_data_lines(gm__data_carbon_csv, gm__data_carbon_csv_len));
  bool world = false;
  for (size_t i = 0; i < n; i++) {
    struct gm_carbon_entry e;
    assert_int_equal(gm_carbon_at(i, &e), GM_OK);
    if (strcmp(e.code, "WORLD") == 0) {
      world = true;
    } else {
      assert_int_equal(strlen(e.code), 2);
      assert_true(e.code[0] >= 'A' && e.code[0] <= 'Z');
      assert_true(e.code[1] >= 'A' && e.code[1] <= 'Z');
    }
    assert_true(e.country[0] != '\0');
    assert_true(e.g_per_kwh > 0 && e.g_per_kwh < 1500);
    assert_int_equal(e.year, 2023);
    assert_true(strlen(e.source) > 0);
    /* codes are unique: a lookup finds this very row */
    struct gm_carbon_entry again;
    assert_int_equal(gm_carbon_lookup(e.code, &again), GM_OK);
    assert_string_equal(again.country, e.country);
    assert_true(again.g_per_kwh == e.g_per_kwh);
  }
  assert_true(world);
  struct gm_carbon_entry e;
  assert_int_equal(gm_carbon_at(n, &e), GM_ERR_INVALID_ARG);
  assert_int_equal(gm_carbon_at(0, NULL), GM_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_first_use),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_lookup_case_insensitive),
      cmocka_unit_test(test_lookup_unknown),
      cmocka_unit_test(test_grams),
      cmocka_unit_test(test_every_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
