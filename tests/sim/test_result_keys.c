/* test_result_keys.c — the numeric output keys of a result (src/sim/result.c): the JSON of a run,
 * sl_result_number and result_key_known all agree with the one key table, on results of every shape
 * (training, decode, serving, DLRM, infeasible), and every key is documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "test_util.h"

/* The node at a dotted path of maps, or NULL. */
static yt_node *at(yt_node *n, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *part = strtok(buf, "."); part && n; part = strtok(NULL, ".")) {
    yt_pair *p = yt_find(n, part);
    n = p ? p->value : NULL;
  }
  return n;
}

/* Objects of the output whose numeric members are all result keys. */
static const char *const OBJECTS[] = {"memory", "energy", "cost", "parallel", "serve", "roofline", "campaign"};
/* Numbers and booleans at the top level that are not result keys. */
static const char *const TOP_OTHERS[] = {"schema_version", "feasible"};

/* Checks one result: each table key against its JSON, and each numeric JSON member against the table. */
static void check_result(const sl_result *r, const char *what, int want_feasible) {
  assert_int_equal(sl_result_feasible(r), want_feasible);
  char *json = sl_result_json(r);
  assert_non_null(json);
  arena a;
  ar_init(&a);
  sl_error err;
  yt_node *root = NULL;
  assert_int_equal(yt_parse(&a, json, strlen(json), what, &root, &err), SL_OK);
  size_t n_keys = 0, n_present = 0;
  for (const char *unit = NULL, *key; (key = result_key_name(n_keys, &unit)); n_keys++) {
    assert_non_null(unit);
    assert_true(unit[0] != 0);
    assert_true(result_key_known(key));
    double v = sl_result_number(r, key);
    yt_node *node = at(root, key);
    if (isnan(v)) {
      if (node) fail_msg("%s: %s is in the JSON (%s) but sl_result_number gives NaN", what, key, node->str);
      continue;
    }
    n_present++;
    if (!node || node->type != YT_SCALAR || node->quoted)
      fail_msg("%s: sl_result_number gives %.17g for %s, which the JSON lacks", what, v, key);
    if (strcmp(node->str, "true") == 0 || strcmp(node->str, "false") == 0) {
      if (v != (strcmp(node->str, "true") == 0)) fail_msg("%s: %s is %s but %g", what, key, node->str, v);
    } else if (strtod(node->str, NULL) != v) {
      fail_msg("%s: %s is %s in the JSON but %.17g from sl_result_number", what, key, node->str, v);
    }
  }
  assert_true(n_keys > 40);
  assert_true(n_present > 0);
  /* the other way: every number or boolean of the top level and of the key objects is a table key */
  for (size_t i = 0; i < root->n; i++) {
    const yt_pair *p = &root->pairs[i];
    int other = 0;
    for (size_t k = 0; k < SL_ARRAY_LEN(TOP_OTHERS); k++)
      other |= strcmp(p->key, TOP_OTHERS[k]) == 0;
    if (!other && p->value->type == YT_SCALAR && !p->value->quoted && !result_key_known(p->key))
      fail_msg("%s: the JSON has %s, which is no result key", what, p->key);
  }
  for (size_t o = 0; o < SL_ARRAY_LEN(OBJECTS); o++) {
    yt_node *obj = at(root, OBJECTS[o]);
    for (size_t i = 0; obj && i < obj->n; i++) {
      const yt_pair *p = &obj->pairs[i];
      char key[128];
      snprintf(key, sizeof key, "%s.%s", OBJECTS[o], p->key);
      if (p->value->type == YT_SCALAR && !p->value->quoted && !result_key_known(key))
        fail_msg("%s: the JSON has %s, which is no result key", what, key);
    }
  }
  ar_free(&a);
  sl_free(json);
}

static void check_scenario(const char *path, const char *text, int want_feasible) {
  sl_scenario *sc = NULL;
  sl_error err;
  if (sl_scenario_load(path, text, NULL, 0, &sc, &err)) fail_msg("%s: %s", path ? path : text, err.message);
  sl_result *r = run(sc);
  check_result(r, path ? path : text, want_feasible);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_keys_match_json(void **state) {
  (void)state;
  check_scenario(NULL,
                 "{chip: h100-sxm, model: llama3.2-1b, task: train, train: {seq_len: 2048, global_batch: 32, "
                 "micro_batch: 2}}",
                 1);
  check_scenario(NULL,
                 "{chip: h100-sxm, system: {chips: 16}, model: llama3.2-1b, task: train, train: {seq_len: 2048,"
                 " global_batch: 32, tokens: 1.0e10, stages: [{tokens: 2.0e9, seq_len: 1024}, {tokens: 8.0e9}]}}",
                 1);
  check_scenario(
      NULL, "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 1024}}", 1);
  check_scenario(NULL, "{chip: a100-sxm-80gb, task: infer, model: {op: gemm, m: 4096, n: 4096, k: 4096}}", 1);
  check_scenario(SILICA_SOURCE_DIR "/examples/serve-llama3.1-8b.yaml", NULL, 1);
  check_scenario(SILICA_SOURCE_DIR "/examples/dlrm-dgx-h100-train.yaml", NULL, 1);
  /* does not fit: memory and the plan, nothing else */
  check_scenario(
      NULL, "{chip: h100-sxm, model: llama3.1-405b, task: decode, infer: {batch: 64, prompt_len: 4096}}", 0);
}

/* The roofline of a run is its chip's: peak of the compute format over the DRAM bandwidth. */
static void test_roofline(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: fp8, infer: {batch: "
                         "8, prompt_len: 1024}}");
  sl_result *r = run(sc);
  double peak = sl_result_number(r, "roofline.peak_flops_per_s"),
         bw = sl_result_number(r, "roofline.dram_bw_GBps");
  assert_rel(peak, chip_peak_flops(&sc->chip, SL_FP8), 1e-15, "fp8 peak");
  assert_rel(bw, chip_dram(&sc->chip)->bw_GBps, 1e-15, "DRAM bandwidth");
  assert_rel(sl_result_number(r, "roofline.ridge_flops_per_byte"), peak / (bw * 1e9), 1e-15, "ridge");
  assert_rel(sl_result_number(r, "roofline.shared_bw_GBps"), chip_l2(&sc->chip)->bw_GBps, 1e-15,
             "L2 bandwidth");
  char *json = sl_result_json(r);
  assert_non_null(
      strstr(json, "\"roofline\":{\"dtype\":\"fp8\",\"dram_level\":\"hbm3\",\"shared_level\":\"l2\","));
  sl_free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
  /* no roofline for a run that cannot run */
  sc = load("{chip: h100-sxm, model: llama3.1-405b, task: decode, infer: {batch: 64, prompt_len: 4096}}");
  r = run(sc);
  assert_true(isnan(sl_result_number(r, "roofline.peak_flops_per_s")));
  json = sl_result_json(r);
  assert_null(strstr(json, "\"roofline\""));
  sl_free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_known(void **state) {
  (void)state;
  static const char *const yes[] = {"step_time_s",
                                    "tokens_per_s_per_chip",
                                    "memory.fits",
                                    "parallel.sp",
                                    "serve.requests",
                                    "energy.clock_ratio",
                                    "cost.capex_usd_per_chip",
                                    "roofline.ridge_flops_per_byte"};
  static const char *const no[] = {
      "",        "step_time", "step_time_s ",       " step_time_s",   "memory",
      "memory.", "fits",      "parallel.recompute", "roofline.dtype", "breakdown"};
  for (size_t i = 0; i < SL_ARRAY_LEN(yes); i++)
    if (!result_key_known(yes[i])) fail_msg("%s should be a result key", yes[i]);
  for (size_t i = 0; i < SL_ARRAY_LEN(no); i++)
    if (result_key_known(no[i])) fail_msg("\"%s\" should not be a result key", no[i]);
  assert_false(result_key_known(NULL));
  assert_true(isnan(sl_result_number(NULL, "step_time_s")));
  assert_null(result_key_name((size_t)-1, NULL));
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  char *s = calloc(1, 1 << 20);
  assert_non_null(s);
  size_t n = fread(s, 1, (1 << 20) - 1, f);
  fclose(f);
  assert_true(n > 0);
  return s;
}

/* Each key's last part is named, in backquotes, in docs/formats.md or docs/serving.md. */
static void test_keys_documented(void **state) {
  (void)state;
  char *formats = slurp(SILICA_SOURCE_DIR "/docs/formats.md"),
       *serving = slurp(SILICA_SOURCE_DIR "/docs/serving.md");
  const char *key;
  for (size_t i = 0; (key = result_key_name(i, NULL)); i++) {
    const char *leaf = strrchr(key, '.') ? strrchr(key, '.') + 1 : key;
    char quoted[96];
    snprintf(quoted, sizeof quoted, "`%s`", leaf);
    if (!strstr(formats, quoted) && !strstr(serving, quoted)) fail_msg("%s is not in docs/formats.md", key);
  }
  free(formats);
  free(serving);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys_match_json),
      cmocka_unit_test(test_roofline),
      cmocka_unit_test(test_known),
      cmocka_unit_test(test_keys_documented),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
