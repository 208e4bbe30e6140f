/* test_robust.c — determinism (the same input gives byte-identical JSON), absurd values and
 * limits (one input error naming the key, never a crash or a hang). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

static char *json_of(const char *text) {
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err) || sl_scenario_run(sc, &r, &err))
    fail_msg("%s", err.message);
  char *j = sl_result_json(r);
  sl_result_free(r);
  sl_scenario_free(sc);
  return j;
}

static void test_determinism(void **state) {
  (void)state;
  static const char *const texts[] = {
      "{chip: h100-sxm, model: llama3.1-8b, task: generate, infer: {batch: 4, prompt_len: 300, gen_len: 20}}",
      "{chip: h100-sxm, system: {chips: 32}, model: llama3.2-1b, task: train, train: {seq_len: 1024,"
      " global_batch: 64, micro_batch: auto, recompute: auto}, parallel: auto}",
      "{chip: h100-sxm, model: llama3.2-1b, task: serve, serve: {arrival_rate_per_s: 20, requests: 300,"
      " prompt_len: {mean: 200}, gen_len: {min: 1, max: 50}, seed: 5}}",
      "{chip: mi300x, system: {chips: 16, node_chips: 8}, task: infer, model: {op: all_to_all, bytes: "
      "1.0e8}}",
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(texts); i++) {
    char *a = json_of(texts[i]), *b = json_of(texts[i]);
    assert_string_equal(a, b);
    free(a), free(b);
  }
}

/* Absurd values: an input error that names the key. */
static void test_absurd_values(void **state) {
  (void)state;
  static const struct {
    const char *text, *key;
  } cases[] = {
      {"{chip: h100-sxm, system: {chips: 1.0e30}, model: llama3.1-8b, task: decode}", "system.chips"},
      {"{chip: h100-sxm, system: {chips: 8, scale_up: {bw_GBps: 0}}, model: llama3.1-8b, task: decode}",
       "system.scale_up.bw_GBps"},
      {"{chip: h100-sxm, system: {chips: 8, scale_up: {latency_s: -1}}, model: llama3.1-8b, task: decode}",
       "system.scale_up.latency_s"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: .nan}}", "infer.batch"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: .inf}}", "infer.batch"},
      {"{chip: h100-sxm, model: {op: gemm, m: 1.0e300, n: 1, k: 1}, task: infer}", "model.m"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: 1, requests: 1.0e12}}",
       "serve.requests"},
      {"{chip: h100-sxm, model: {transformer: {hidden: 1.0e9, layers: 2, heads: 2, ffn: 4, vocab: 4,"
       " activation: gelu, norm: layernorm, position: learned}}, task: decode}",
       "model.transformer.hidden"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, parallel: {tp: 3}}", "parallel"},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(NULL, cases[i].text, NULL, 0, &sc, &err);
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    if (s != SL_ERR_INPUT) fail_msg("%s: status %d (%s)", cases[i].text, s, buf);
    if (strncmp(err.key, cases[i].key, strlen(cases[i].key)) != 0)
      fail_msg("%s: key: %s", cases[i].text, buf);
    assert_null(sc);
  }
}

/* A plan space too large to search is an error, found quickly. */
/* A million-chip cluster with every parallel key searched: the search stays within its limit (the
 * limit itself is tested on the enumerator in test_train.c), finishes, and finds a feasible plan. */
static void test_huge_cluster(void **state) {
  (void)state;
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  const char *text =
      "{chip: h100-sxm, system: {chips: 1048576, node_chips: 8}, model: llama3.1-405b, task: train,"
      " train: {seq_len: 8192, global_batch: 1048576, micro_batch: auto, recompute: auto},"
      " parallel: auto}";
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  assert_int_equal(sl_scenario_run(sc, &r, &err), SL_OK);
  assert_true(sl_result_feasible(r));
  double n = r->plans_enumerated;
  if (!(n > 1e5 && n < 5e7)) fail_msg("plans enumerated: %g", n);
  double chips = sl_result_number(r, "parallel.tp") * sl_result_number(r, "parallel.pp") *
                 sl_result_number(r, "parallel.dp") * sl_result_number(r, "parallel.cp");
  assert_true(chips == 1048576);
  sl_result_free(r);
  sl_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_determinism), cmocka_unit_test(test_absurd_values),
                                     cmocka_unit_test(test_huge_cluster)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
