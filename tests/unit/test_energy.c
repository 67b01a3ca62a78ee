/* test_energy.c: the accounting rules of energy.h: net, totals over in-total
 * components, the rule for a component without a baseline, provenance.
 * Which baseline applies, and the noise of a net: test_baseline.c. */
#include "helpers.h"

#include <math.h>
#include <string.h>

#include "greenml/energy.h"

static void test_net(void **state) {
  (void)state;
  assert_true(gm_energy_net(100.0, 2.0, 10.0) == 80.0);
  assert_true(isnan(gm_energy_net(100.0, NAN, 10.0)));
  assert_true(isnan(gm_energy_net(NAN, 2.0, 10.0)));
  /* Below idle stays negative here: flagging it is the caller's business. */
  assert_true(gm_energy_net(10.0, 2.0, 10.0) == -10.0);
}

static void test_total_all_baselines(void **state) {
  (void)state;
  const struct gm_energy_part p[] = {
      {.provenance = GM_PROV_MEASURED_COUNTER,
       .in_total = true,
       .gross_j = 500.0,
       .idle_w = 20.0},
      {.provenance = GM_PROV_MEASURED_COUNTER,
       .in_total = false, /* cores: not summed */
       .gross_j = 300.0,
       .idle_w = 10.0},
      {.provenance = GM_PROV_MEASURED_POWER,
       .in_total = true,
       .gross_j = 200.0,
       .idle_w = 5.0},
  };
  struct gm_energy_total t;
  gm_energy_account(p, 3, 10.0, &t);
  assert_true(t.gross_j == 700.0);
  assert_true(t.idle_w == 25.0);
  assert_true(t.net_j == 450.0);
  assert_int_equal(t.n_in_total, 2);
  assert_int_equal(t.n_without_baseline, 0);
  assert_int_equal(t.first_without, 3);
  assert_string_equal(t.provenance, "measured");
}

static void test_total_missing_baseline_is_unknown(void **state) {
  (void)state;
  const struct gm_energy_part p[] = {
      {.provenance = GM_PROV_MODELLED,
       .in_total = true,
       .gross_j = 500.0,
       .idle_w = 20.0},
      {.provenance = GM_PROV_MODELLED,
       .in_total = false, /* not in total: irrelevant */
       .gross_j = 1.0,
       .idle_w = NAN},
      {.provenance = GM_PROV_MEASURED_POWER,
       .in_total = true,
       .gross_j = 200.0,
       .idle_w = NAN},
  };
  struct gm_energy_total t;
  gm_energy_account(p, 3, 10.0, &t);
  assert_true(t.gross_j == 700.0);
  assert_true(isnan(t.net_j));
  assert_true(isnan(t.idle_w));
  assert_int_equal(t.n_without_baseline, 1);
  assert_int_equal(t.first_without, 2);
  assert_string_equal(t.provenance, "mixed");
}

static void test_total_empty(void **state) {
  (void)state;
  struct gm_energy_total t;
  gm_energy_account(NULL, 0, 1.0, &t);
  assert_true(t.gross_j == 0.0);
  assert_true(isnan(t.net_j));
  assert_string_equal(t.provenance, "none");
}

static void test_provenance(void **state) {
  (void)state;
  const enum gm_provenance pr[] = {GM_PROV_MODELLED, GM_PROV_MEASURED_COUNTER,
                                   GM_PROV_MODELLED};
  const bool in[] = {true, false, true};
  assert_string_equal(gm_energy_total_provenance(pr, in, 3), "modelled");
  assert_string_equal(gm_energy_total_provenance(pr, NULL, 3), "mixed");
  assert_string_equal(gm_energy_total_provenance(pr, NULL, 0), "none");
  assert_string_equal(gm_energy_provenance_join("none", "modelled"),
                      "modelled");
  assert_string_equal(gm_energy_provenance_join("measured", "measured"),
                      "measured");
  assert_string_equal(gm_energy_provenance_join("measured", "modelled"),
                      "mixed");
  assert_string_equal(gm_energy_provenance_join("mixed", "none"), "mixed");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_net),
      cmocka_unit_test(test_total_all_baselines),
      cmocka_unit_test(test_total_missing_baseline_is_unknown),
      cmocka_unit_test(test_total_empty),
      cmocka_unit_test(test_provenance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
