/* test_public.c — the public calls that the silica program, the benches and the fuzzers use, through
 * silica.h alone: renderings of runs, presets, validation, comparison and calibration; the many-runs
 * calls (a reused result must give what a fresh load gives); spec and numerics checks; and the sweep's
 * batch API, driven as the MPI runner drives it and checked against a plain run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "silica.h"

static const char DECODE[] =
    "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 1024}}";
static const char TRAIN[] = "{chip: h100-sxm, model: llama3.2-1b, task: train, train: {seq_len: 2048, "
                            "global_batch: 32, micro_batch: 2}}";

static sl_scenario *load(const char *text, const char *const *sets, size_t n) {
  sl_error err;
  sl_scenario *sc = NULL;
  if (sl_scenario_load(NULL, text, sets, n, &sc, &err) != SL_OK) fail_msg("load: %s", err.message);
  return sc;
}

static size_t lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* A reused result after sl_scenario_set_number gives exactly what a fresh load with those keys gives. */
static void test_run_into(void **state) {
  (void)state;
  sl_error err;
  sl_scenario *sc = load(DECODE, NULL, 0);
  sl_result *res = NULL;
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  static const double shapes[][2] = {{1, 512}, {23, 16892}, {7, 4096}, {8, 1024}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    assert_int_equal(sl_scenario_set_number(sc, "infer.batch", shapes[i][0], &err), SL_OK);
    assert_int_equal(sl_scenario_set_number(sc, "infer.prompt_len", shapes[i][1], &err), SL_OK);
    assert_int_equal(sl_scenario_run_into(sc, NULL, res, &err), SL_OK);
    char b[64], p[64];
    snprintf(b, sizeof b, "infer.batch=%g", shapes[i][0]);
    snprintf(p, sizeof p, "infer.prompt_len=%g", shapes[i][1]);
    const char *sets[] = {b, p};
    sl_scenario *fresh = load(DECODE, sets, 2);
    sl_result *want = NULL;
    assert_int_equal(sl_scenario_run(fresh, &want, &err), SL_OK);
    assert_int_equal(sl_result_feasible(res), sl_result_feasible(want));
    assert_true(sl_result_number(res, "step_time_s") == sl_result_number(want, "step_time_s"));
    assert_true(sl_result_number(res, "memory.per_chip_bytes") ==
                sl_result_number(want, "memory.per_chip_bytes"));
    assert_true(sl_result_number(res, "roofline.ridge_flops_per_byte") ==
                sl_result_number(want, "roofline.ridge_flops_per_byte"));
    assert_true(!isnan(sl_result_number(res, "roofline.ridge_flops_per_byte")));
    assert_true(sl_scenario_number(sc, "infer.batch") == shapes[i][0]);
    sl_result_free(want);
    sl_scenario_free(fresh);
  }
  char *j = sl_result_json(res);
  assert_non_null(j);
  assert_non_null(strstr(j, "\"scenario\":null"));
  sl_free(j);
  assert_int_equal(sl_scenario_set_number(sc, "infer.batch", 0.5, &err), SL_ERR_INPUT);
  assert_int_equal(sl_scenario_set_number(sc, "chips", 2, &err), SL_ERR_INPUT);
  assert_string_equal(err.key, "chips");
  sl_result_free(res);
  sl_scenario_free(sc);

  sc = load(TRAIN, NULL, 0);
  assert_int_equal(sl_scenario_set_number(sc, "infer.batch", 2, &err), SL_ERR_INPUT);
  assert_true(sl_scenario_number(sc, "train.global_batch") == 32);
  assert_true(sl_scenario_number(sc, "train.micro_batch") == 2);
  assert_true(sl_scenario_number(sc, "plan.searched_keys") >= 0);
  assert_true(isnan(sl_scenario_number(sc, "infer.batch")));
  assert_true(isnan(sl_scenario_number(sc, "serve.requests")));
  assert_true(isnan(sl_scenario_number(sc, "no.such.key")));
  sl_scenario_free(sc);
}

static void test_run_renderings(void **state) {
  (void)state;
  sl_error err;
  sl_scenario *sc = load(DECODE, NULL, 0);
  sl_result *res = NULL;
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  char *text = sl_result_text(sc, res, 3), *csv = sl_result_csv(res, 1), *all = sl_result_csv(res, 0);
  assert_non_null(text);
  assert_non_null(strstr(text, "step time"));
  assert_non_null(strstr(text, "breakdown (3 of "));
  assert_non_null(csv);
  assert_int_equal(strncmp(csv, "name,phase,category,count,time_s,", 33), 0);
  assert_int_equal(lines(csv), 2);
  assert_true(lines(all) > 3);
  assert_null(sl_result_text(NULL, res, 0));
  sl_free(text);
  sl_free(csv);
  sl_free(all);
  sl_result_free(res);
  sl_scenario_free(sc);
}

static void test_presets_and_specs(void **state) {
  (void)state;
  sl_error err;
  char *out = NULL;
  assert_int_equal(sl_preset_list("chips", &out, &err), SL_OK);
  assert_int_equal(lines(out), sl_preset_count("chips"));
  assert_non_null(strstr(out, "h100-sxm"));
  sl_free(out);
  assert_int_equal(sl_preset_list("widgets", &out, &err), SL_ERR_INPUT);
  assert_null(out);
  assert_int_equal(sl_spec_show("chip", "h100-sxm", SL_FORMAT_JSON, &out, &err), SL_OK);
  assert_non_null(strstr(out, "\"ridge_flops_per_byte\""));
  sl_free(out);
  assert_int_equal(sl_spec_show("model", "llama3.1-8b", SL_FORMAT_TEXT, &out, &err), SL_OK);
  assert_non_null(strstr(out, "parameters: "));
  sl_free(out);
  assert_int_equal(sl_spec_show("chip", "no-such-chip", SL_FORMAT_TEXT, &out, &err), SL_ERR_INPUT);
  assert_int_equal(sl_spec_show("chip", "h100-sxm", SL_FORMAT_CSV, &out, &err), SL_ERR_INPUT);

  const char *h100 = sl_preset_text("chips", "h100-sxm");
  assert_non_null(h100);
  assert_int_equal(sl_spec_check("chip", h100, strlen(h100), "h100.yaml", &err), SL_OK);
  static const char bad[] = "name: x\ncores: -3\n";
  assert_int_equal(sl_spec_check("chips", bad, strlen(bad), "bad.yaml", &err), SL_ERR_INPUT);
  assert_string_equal(err.file, "bad.yaml");
  assert_int_equal(sl_spec_check("system", h100, strlen(h100), NULL, &err), SL_ERR_INPUT);
}

static void test_validate_compare_calibrate(void **state) {
  (void)state;
  sl_error err;
  char *out = NULL;
  sl_validate_summary sum;
  const char *cases[] = {"tests/data/report-cases.yaml"};
  assert_int_equal(sl_validate(cases, 1, NULL, SL_FORMAT_MARKDOWN, &out, &sum, &err), SL_OK);
  assert_int_equal(strncmp(out, "# silica validation report", 26), 0);
  assert_int_equal(sum.entries, 7);
  /* the LLMCompass 64-row A100 product reads 13.5% slow against the a100-sxm-80gb figures fitted to
   * aiconfigurator's 140 kernels (data/validation/gemm-a100-trtllm.yaml): a fail beside the tight one */
  assert_int_equal(sum.ok, 5);
  assert_int_equal(sum.internal_errors, 0);
  assert_true(sum.mape > 0 && sum.mape < 0.1);
  sl_free(out);
  assert_int_equal(sl_validate(cases, 1, "zzz-none", SL_FORMAT_CSV, &out, &sum, &err), SL_OK);
  assert_null(out);
  assert_int_equal(sum.entries, 0);
  assert_int_equal(sl_validate(cases, 1, "(", SL_FORMAT_TEXT, &out, &sum, &err), SL_ERR_INPUT);

  const char *chips[] = {"mtia-2i", "h100-sxm"}, *wl[] = {"examples/compare-llm-decode.yaml"};
  sl_compare_params p;
  memset(&p, 0, sizeof p);
  p.chips = chips, p.n_chips = 2, p.workloads = wl, p.n_workloads = 1, p.baseline = 1;
  p.format = SL_FORMAT_CSV;
  assert_int_equal(sl_compare(&p, &out, &err), SL_OK);
  assert_int_equal(lines(out), 3);
  assert_non_null(strstr(out, "compare-llm-decode,h100-sxm,true,"));
  sl_free(out);
  p.baseline = 2;
  assert_int_equal(sl_compare(&p, &out, &err), SL_ERR_INPUT);
  p.baseline = 0;
  chips[1] = "no-such-chip";
  assert_int_equal(sl_compare(&p, &out, &err), SL_ERR_INPUT);
  assert_null(out);

  char *frag = NULL;
  const char *cal[] = {"tests/data/llmcompass-a100-sweep.yaml"};
  assert_int_equal(sl_calibrate("a100-sxm-80gb", cal, 1, SL_FORMAT_TEXT, "f.yaml", &out, &frag, &err), SL_OK);
  assert_non_null(strstr(out, "chip-spec fragment written to f.yaml"));
  assert_non_null(strstr(frag, "efficiency"));
  sl_free(out);
  sl_free(frag);
  assert_int_equal(sl_calibrate("no-such-chip", cal, 1, SL_FORMAT_JSON, NULL, &out, &frag, &err),
                   SL_ERR_INPUT);
  assert_null(out);
  assert_null(frag);
}

static void test_numerics_check(void **state) {
  (void)state;
  sl_error err;
  static const char good[] = "model: {dim: 16, layers: 1, heads: 2, kv_heads: 1, ffn: 32, seq: 16}\n"
                             "train: {steps: 3, batch: 2}\nruns: [{format: bf16, accumulate: fp32}]\n";
  assert_int_equal(sl_numerics_check(good, "n.yaml", &err), SL_OK);
  static const char bad[] = "train: {steps: 5, eval_every: -1}\nruns: [{format: fp32}]\n";
  assert_int_equal(sl_numerics_check(bad, "n.yaml", &err), SL_ERR_INPUT);
  assert_string_equal(err.key, "train.eval_every");
}

/* ---- the sweep's batch API, as the MPI runner uses it ---- */

static const char SWEEP[] =
    "{name: t, chip: mtia-2i, parameters: {cores: [32, 64], clock_ghz: [1.0, 1.5], tdp_w: [85, 120]},\n"
    " workloads: [{name: decode, weight: 1, scenario: {model: llama3.1-8b, task: decode, infer: {batch: 8, "
    "prompt_len: 1024}}}],\n"
    " objectives: [perf_per_tco, throughput], strategy: grid}\n";

typedef struct elsewhere {
  const sl_sweep *sw;
  size_t batches, points;
  int mismatch; /* the two evaluations of a batch differed */
  char *asks;
} elsewhere;

static void begin(void *ud, void *points, size_t n) {
  elsewhere *e = ud;
  e->asks = realloc(e->asks, n * sl_sweep_ask_size());
  assert_non_null(e->asks);
  sl_sweep_asks_get(points, e->asks, n);
  e->batches++;
}

/* Evaluates the batch from its questions alone twice, with the lent worker and with a worker of its
 * own (as another process would): the two must agree byte for byte; the results go back in place.
 * (The points as asked may hold stale bytes past their fields, so they are not compared.) */
static sl_status eval(void *ud, sl_sweep_worker *wk, void *points, size_t n, sl_error *err) {
  elsewhere *e = ud;
  size_t bytes = n * sl_sweep_point_size();
  char *mine = calloc(1, bytes), *theirs = calloc(1, bytes);
  assert_non_null(mine);
  assert_non_null(theirs);
  sl_sweep_asks_put(e->asks, mine, n);
  sl_sweep_asks_put(e->asks, theirs, n);
  sl_sweep_worker *own = NULL;
  sl_status s = sl_sweep_worker_eval(wk, mine, n, err);
  if (!s) s = sl_sweep_worker_new(e->sw, &own, err);
  if (!s) s = sl_sweep_worker_eval(own, theirs, n, err);
  int same = !s && memcmp(mine, theirs, bytes) == 0;
  if (!s) memcpy(points, mine, bytes);
  sl_sweep_worker_free(own);
  free(mine);
  free(theirs);
  e->points += n;
  if (!s && !same) {
    e->mismatch = 1;
    return SL_ERR_INTERNAL;
  }
  return s;
}

static void test_sweep_batches(void **state) {
  (void)state;
  sl_error err;
  sl_sweep *sw = NULL;
  assert_int_equal(sl_sweep_load(NULL, SWEEP, &sw, &err), SL_OK);
  assert_int_equal(sl_sweep_check_points(sw, &err), SL_OK);
  char db1[] = "/tmp/test_public_XXXXXX", db2[] = "/tmp/test_public_XXXXXX";
  int f1 = mkstemp(db1), f2 = mkstemp(db2);
  assert_true(f1 >= 0 && f2 >= 0);
  close(f1), close(f2);
  unlink(db1), unlink(db2);
  char *plain = NULL, *hooked = NULL;
  sl_sweep_stats st;
  assert_int_equal(sl_sweep_run(sw, db1, NULL, &st, &plain, &err), SL_OK);
  assert_int_equal(st.evaluated, 8);
  assert_int_equal(st.total, 8);
  elsewhere e = {sw, 0, 0, 0, NULL};
  sl_sweep_params p = sl_sweep_params_default();
  p.batch_begin = begin, p.batch_eval = eval, p.batch_ud = &e;
  assert_int_equal(sl_sweep_run(sw, db2, &p, &st, &hooked, &err), SL_OK);
  assert_int_equal(e.mismatch, 0);
  assert_int_equal(e.points, 8);
  assert_true(e.batches >= 1);
  /* the same report but for the database's name */
  char *a = strstr(plain, "\n"), *b = strstr(hooked, "\n");
  assert_non_null(a);
  assert_non_null(b);
  assert_string_equal(a, b);
  char *again = NULL;
  assert_int_equal(sl_sweep_report(db2, 0, &again, &err), SL_OK);
  assert_string_equal(again, hooked);
  /* resuming a finished sweep evaluates nothing */
  assert_int_equal(sl_sweep_run(sw, db2, NULL, &st, NULL, &err), SL_OK);
  assert_int_equal(st.evaluated, 0);
  assert_int_equal(st.resumed, 8);
  sl_free(plain);
  sl_free(hooked);
  sl_free(again);
  free(e.asks);
  sl_sweep_free(sw);
  for (int i = 0; i < 2; i++) {
    const char *db = i ? db2 : db1;
    char x[64];
    unlink(db);
    snprintf(x, sizeof x, "%s-wal", db);
    unlink(x);
    snprintf(x, sizeof x, "%s-shm", db);
    unlink(x);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_into),          cmocka_unit_test(test_run_renderings),
      cmocka_unit_test(test_presets_and_specs), cmocka_unit_test(test_validate_compare_calibrate),
      cmocka_unit_test(test_numerics_check),    cmocka_unit_test(test_sweep_batches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
