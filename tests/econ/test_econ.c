/* test_econ.c — die area, yield, die cost and cost of ownership : the area model against
 * the published dies with one set of constants, the closed forms of dies per wafer and yield, the
 * die cost and the cost per hour and per token worked out by hand, the econ: scenario key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "test_util.h"

/* Done means: A100, H100 and MTIA 2i within 20% of 826, 814 and ~420 mm2, one set of constants. */
static void test_area_published(void **state) {
  (void)state;
  static const struct {
    const char *chip;
    double published;
  } dies[] = {{"a100-sxm-80gb", 826}, {"h100-sxm", 814}, {"mtia-2i", 420}, {"mtia-1", 369}};
  for (size_t i = 0; i < SL_ARRAY_LEN(dies); i++) {
    arena a;
    ar_init(&a);
    sl_chip c;
    sl_error err;
    assert_int_equal(chip_load(&a, dies[i].chip, NULL, &c, &err), SL_OK);
    energy_derive(&c, 1);
    sl_area ar;
    area_estimate(&c, &ar);
    printf("%-14s estimate %6.1f mm2, published %g (%+.1f%%)\n", dies[i].chip, ar.total_mm2,
           dies[i].published, 100 * (ar.total_mm2 / dies[i].published - 1));
    if (fabs(ar.total_mm2 / dies[i].published - 1) > 0.20)
      fail_msg("%s: %.0f mm2 vs %g published", dies[i].chip, ar.total_mm2, dies[i].published);
    double sum = ar.matrix_mm2 + ar.vector_mm2 + ar.control_mm2 + ar.core_sram_mm2 + ar.shared_sram_mm2 +
                 ar.noc_mm2 + ar.dram_io_mm2 + ar.link_io_mm2 + ar.other_mm2;
    assert_rel(sum, ar.total_mm2, 1e-12, "breakdown adds up");
    assert_rel(chip_area_mm2(&c), dies[i].published, 0, "published area wins");
    ar_free(&a);
  }
}

/* More SRAM, more area; the same chip at an older node is bigger. */
static void test_area_monotone(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(chip_load(&a, "mtia-2i", NULL, &c, &err), SL_OK);
  energy_derive(&c, 1);
  sl_area a0, a1, a2;
  area_estimate(&c, &a0);
  c.mem[1].capacity_bytes *= 2;
  area_estimate(&c, &a1);
  assert_true(a1.shared_sram_mm2 > a0.shared_sram_mm2 && a1.total_mm2 > a0.total_mm2);
  c.mem[1].capacity_bytes /= 2;
  c.process_nm = 7;
  area_estimate(&c, &a2);
  assert_true(a2.total_mm2 > a0.total_mm2);
  ar_free(&a);
}

/* Closed forms (equations.md, LLMCompass): dies per wafer pi r^2/A - pi d/sqrt(2A), yield
 * (1 + A D0/alpha)^-alpha. */
static void test_wafer_closed_forms(void **state) {
  (void)state;
  double pi = 3.14159265358979323846;
  assert_rel(econ_dies_per_wafer(100, 300), pi * 150 * 150 / 100 - pi * 300 / sqrt(200), 1e-12,
             "dies per wafer");
  assert_rel(econ_dies_per_wafer(100, 300), 640.23, 1e-4, "640 dies of 100 mm2");
  assert_rel(econ_yield(100, 0.002, 3), pow(1 + 100 * 0.002 / 3, -3), 1e-12, "yield");
  assert_rel(econ_yield(814, 0.002, 3), 0.2723, 1e-3, "an 814 mm2 die at 5 nm defect density");
  assert_rel(econ_yield(0, 0.002, 3), 1, 0, "no area");
  assert_true(econ_dies_per_wafer(1e6, 300) == 0);
}

static void test_die_cost_by_hand(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, econ: build-cost, task: infer, model: {op: gemm, m: 4096, n: 4096, k: 4096}}");
  const sl_econ *e = sc->econ;
  assert_rel(econ_lookup_node(&e->wafer_usd, 5), 16988, 0, "5 nm wafer");
  assert_rel(econ_lookup_node(&e->wafer_usd, 4), 16988, 0, "4 nm clamped to 5 nm");
  double t6 = log(6.0 / 5) / log(7.0 / 5);
  assert_rel(econ_lookup_node(&e->wafer_usd, 6), exp(log(16988.0) + t6 * (log(9346.0) - log(16988.0))), 1e-9,
             "6 nm: log-log between 5 and 7 nm");
  assert_rel(econ_lookup_node(&e->defect_density_per_mm2, 7), 0.0015, 0, "7 nm D0");
  sl_chip_cost cc;
  econ_chip_cost(e, &sc->chip, 450, 50, &cc);
  double dpw = econ_dies_per_wafer(814, 300), y = econ_yield(814, 0.002, 3);
  assert_rel(cc.die_usd, 16988 / (dpw * y), 1e-12, "die cost");
  assert_rel(cc.memory_usd, 80 * 7.0, 1e-12, "80 GiB HBM at $7/GB");
  assert_rel(cc.package_usd, 1000, 0, "interposer package");
  assert_rel(cc.board_usd, 300 + 1.0 * 700, 1e-12, "board");
  assert_rel(cc.host_usd, 30000.0 / 8, 1e-12, "host share");
  assert_rel(cc.network_usd, 450 * 2.5 + 50 * 70, 1e-12, "network share");
  assert_rel(cc.position_usd, cc.die_usd + 1000 + 560 + 1000 + 3750 + 4625, 1e-12, "position");
  /* an MTIA 2i shares its host with 23 others */
  arena a;
  ar_init(&a);
  sl_chip m;
  sl_error err;
  assert_int_equal(chip_load(&a, "mtia-2i", NULL, &m, &err), SL_OK);
  energy_derive(&m, 1);
  econ_chip_cost(e, &m, 32, 4.17, &cc);
  assert_rel(cc.host_usd, 30000.0 / 24, 1e-12, "MTIA host share");
  assert_rel(cc.package_usd, 60, 0, "organic package");
  assert_rel(cc.memory_usd, 128 * 2.4, 1e-12, "LPDDR5");
  ar_free(&a);
  sl_scenario_free(sc);
}

/* Cost per hour = chips x (position / service life + facility per W x provisioned W / facility
 * life + (power + host share) x PUE x price); per million tokens = per hour / tokens per hour. */
static void test_tco_by_hand(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, model: llama3.1-8b, task: decode, system: {chips: 2, node_chips: 2}, "
           "parallel: {dp: 2}, infer: {batch: 16, prompt_len: 1024}}");
  sl_result *r = run(sc);
  sl_chip_cost cc;
  econ_chip_cost(sc->econ, &sc->chip, sc->scale_up.bw_GBps, sc->scale_out.bw_GBps, &cc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip"), h = 5 * 8766.0;
  double want = 2 * (cc.position_usd / h + 10 * (700 + 1500.0 / 8) / (15 * 8766.0) +
                     (p + 1500.0 / 8) * 1.2 / 1000 * 0.08);
  assert_rel(sl_result_number(r, "cost.usd_per_hour_system"), want, 1e-12, "usd per hour");
  double tok = sl_result_number(r, "tokens_per_s");
  assert_rel(sl_result_number(r, "cost.usd_per_million_tokens"), want / (tok * 3600) * 1e6, 1e-12,
             "per million tokens");
  assert_rel(sl_result_number(r, "cost.capex_usd_per_chip"), cc.position_usd, 1e-12, "capex");
  assert_true(isnan(sl_result_number(r, "cost.usd_per_million_samples")));
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* The econ: key: inline overrides of prices and of named maps, a purchase price, and errors that
 * name the key. */
static void test_econ_key(void **state) {
  (void)state;
  static const char base[] =
      "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 512}";
  char text[512];
  snprintf(text, sizeof text, "%s}", base);
  sl_scenario *s0 = load(text);
  snprintf(text, sizeof text, "%s, econ: {electricity_usd_per_kwh: 0.16, chip_price_usd: {h100-sxm: 25000}}}",
           base);
  sl_scenario *s1 = load(text);
  assert_rel(s1->econ->electricity_usd_per_kwh, 0.16, 0, "override");
  assert_rel(s1->econ->pue, s0->econ->pue, 0, "the rest from the defaults");
  assert_int_equal(s1->econ->chips_per_server.n, s0->econ->chips_per_server.n);
  sl_result *r0 = run(s0), *r1 = run(s1);
  sl_chip_cost c0, c1;
  econ_chip_cost(s0->econ, &s0->chip, s0->scale_up.bw_GBps, s0->scale_out.bw_GBps, &c0);
  econ_chip_cost(s1->econ, &s1->chip, s1->scale_up.bw_GBps, s1->scale_out.bw_GBps, &c1);
  assert_true(c1.bought);
  assert_rel(c1.chip_usd, 25000, 0, "purchase price");
  double p = sl_result_number(r0, "energy.avg_power_w_per_chip"), h = 5 * 8766.0;
  double delta = (c1.position_usd - c0.position_usd) / h + (p + 1500.0 / 8) * 1.2 / 1000 * 0.08;
  assert_rel(sl_result_number(r1, "cost.usd_per_hour_system") -
                 sl_result_number(r0, "cost.usd_per_hour_system"),
             delta, 1e-9, "the difference the overrides make");
  char *json = sl_result_json(r1);
  assert_non_null(strstr(json, "\"econ\":"));
  assert_non_null(strstr(json, "\"usd_per_million_tokens\""));
  free(json);
  sl_result_free(r0);
  sl_result_free(r1);
  sl_scenario_free(s0);
  sl_scenario_free(s1);
  /* preset name */
  snprintf(text, sizeof text, "%s, econ: default}", base);
  sl_scenario_free(load(text));
  /* errors name the key */
  const char *bad[] = {"econ: {pue: 0.5}", "econ: {frobnicate: 1}", "econ: {wafer_usd: {seven: 1}}",
                       "econ: nope"};
  for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
    snprintf(text, sizeof text, "%s, %s}", base, bad[i]);
    sl_scenario *sc = NULL;
    sl_error err;
    assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_ERR_INPUT);
    assert_non_null(strstr(err.key, "econ"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_area_published),     cmocka_unit_test(test_area_monotone),
      cmocka_unit_test(test_wafer_closed_forms), cmocka_unit_test(test_die_cost_by_hand),
      cmocka_unit_test(test_tco_by_hand),        cmocka_unit_test(test_econ_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
