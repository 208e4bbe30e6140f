/* test_usability.c — what a new user meets first, through the public API: a mistyped key is named
 * with the key it was meant to be; a prompt past the model's context is an error naming both
 * numbers; presets take overrides; inference spreads a model that does not fit one chip over the
 * scale-up domain; each chip of a comparison runs on its own system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silica.h"

/* The one-line error of loading `text` with n overrides (fails the test when it loads). */
static void load_error(const char *text, const char *const *sets, size_t n, char *msg, size_t size) {
  sl_scenario *sc = NULL;
  sl_error err;
  sl_status s = sl_scenario_load(NULL, text, sets, n, &sc, &err);
  if (s == SL_OK) {
    sl_scenario_free(sc);
    fail_msg("%s: loaded, expected an error", text);
  }
  assert_int_equal(s, SL_ERR_INPUT);
  sl_error_format(&err, msg, size);
}

static sl_scenario *load_ok(const char *text, const char *const *sets, size_t n) {
  sl_scenario *sc = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, sets, n, &sc, &err)) {
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    fail_msg("%s: %s", text, buf);
  }
  return sc;
}

static void expect_in(const char *msg, const char *want) {
  if (!strstr(msg, want)) fail_msg("\"%s\" does not contain \"%s\"", msg, want);
}

/* A typo of a required key is reported as the unknown key, with the key it was meant to be; so is
 * a typo of an optional key, with the closest key the reader asked for. */
static void test_did_you_mean(void **state) {
  (void)state;
  char msg[600];
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: train, system: {chips: 8},"
             " train: {seq_len: 2048, global_bacth: 64}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "train.global_bacth: unknown key (did you mean \"global_batch\"?)");
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: train, system: {chips: 8},"
             " train: {seq_len: 2048, global_batch: 64, micro_bach: 1}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "train.micro_bach: unknown key (did you mean \"micro_batch\"?)");
  load_error("{chip: h100-sxm, model: llama3.1-8b, tsk: decode}", NULL, 0, msg, sizeof msg);
  expect_in(msg, "tsk: unknown key (did you mean \"task\"?)");
  load_error("{chip: h100-sxm, modle: llama3.1-8b, task: decode}", NULL, 0, msg, sizeof msg);
  expect_in(msg, "modle: unknown key (did you mean \"model\"?)");
  const char *set[] = {"infer.bacth=3"};
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: decode}", set, 1, msg, sizeof msg);
  expect_in(msg, "infer.bacth: unknown key (did you mean \"batch\"?)");
  /* preset names and enumerated values too */
  load_error("{chip: h100-sx, model: llama3.1-8b, task: decode}", NULL, 0, msg, sizeof msg);
  expect_in(msg, "unknown chips preset \"h100-sx\" (did you mean \"h100-sxm\"?)");
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: decod}", NULL, 0, msg, sizeof msg);
  expect_in(msg, "unknown value \"decod\" (did you mean \"decode\"?");
  /* a key far from every known one gets no guess */
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: decode, frobnicate: 1}", NULL, 0, msg, sizeof msg);
  expect_in(msg, "frobnicate: unknown key");
  assert_null(strstr(msg, "did you mean"));
}

/* A sequence past the model's context (max_context, from Hugging Face max_position_embeddings) is an
 * input error naming both numbers; one within it loads. */
static void test_context_limit(void **state) {
  (void)state;
  char msg[600];
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: prefill, infer: {prompt_len: 500000}}", NULL, 0, msg,
             sizeof msg);
  expect_in(msg, "500000");
  expect_in(msg, "131072");
  load_error("{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {prompt_len: 131000, gen_len: 100}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "131100 tokens exceed the 131072-token context");
  load_error("{chip: h100-sxm, model: llama2-7b, task: train, system: {chips: 8},"
             " train: {seq_len: 8192, global_batch: 64}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "seq_len 8192 exceeds the 4096-token context of model llama2-7b");
  load_error("{chip: h100-sxm, model: llama2-7b, task: serve, serve: {arrival_rate_per_s: 1,"
             " prompt_len: {min: 1000, max: 4000}, gen_len: 200}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "4200 tokens exceed the 4096-token context");
  sl_scenario *sc = load_ok("{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {prompt_len: 130000,"
                            " gen_len: 1072}}",
                            NULL, 0);
  sl_scenario_free(sc);
}

/* The JSON of running `text` with n overrides (sl_free it). */
static char *run_json(const char *text, const char *const *sets, size_t n) {
  sl_scenario *sc = load_ok(text, sets, n);
  sl_result *res = NULL;
  sl_error err;
  if (sl_scenario_run(sc, &res, &err)) fail_msg("%s: %s", text, err.message);
  char *j = sl_result_json(res);
  assert_non_null(j);
  sl_result_free(res);
  sl_scenario_free(sc);
  return j;
}

/* A preset takes overrides: {preset: NAME, keys...} for chip, stack and system, and --set
 * chip.KEY=... on a chip named by its preset, in either order of the flags; keys set on a stack the
 * scenario leaves to its default apply over that default. */
static void test_preset_overrides(void **state) {
  (void)state;
  const char *base = "{model: llama3.1-8b, task: decode, chip: h100-sxm}";
  const char *tdp_first[] = {"chip.tdp_w=500", "chip=h100-sxm"};
  const char *tdp_last[] = {"chip=h100-sxm", "chip.tdp_w=500"};
  char *a = run_json(base, tdp_first + 1, 1), *b = run_json(base, tdp_last, 2),
       *c = run_json(base, tdp_first, 2);
  assert_non_null(strstr(a, "\"tdp_w\":700"));
  assert_non_null(strstr(b, "\"tdp_w\":500"));
  assert_non_null(strstr(c, "\"tdp_w\":500"));
  sl_free(a), sl_free(b), sl_free(c);
  a = run_json("{model: llama3.1-8b, task: decode, chip: {preset: a100-sxm-80gb, tdp_w: 300}}", NULL, 0);
  assert_non_null(strstr(a, "\"tdp_w\":300"));
  assert_non_null(strstr(a, "A100"));
  sl_free(a);
  a = run_json(
      "{model: llama3.1-8b, task: decode, chip: h100-sxm, stack: {preset: trtllm, kernel_overhead_s: 7e-6}}",
      NULL, 0);
  assert_non_null(strstr(a, "\"kernel_overhead_s\":7e-06"));
  sl_free(a);
  const char *ko[] = {"stack.kernel_overhead_s=7e-6"};
  a = run_json(base, ko, 1);
  assert_non_null(strstr(a, "\"kernel_overhead_s\":7e-06"));
  assert_non_null(strstr(a, "TensorRT-LLM"));
  sl_free(a);
  sl_scenario *sc = load_ok("{model: llama3.1-8b, task: decode, chip: h100-sxm, infer: {batch: 16},"
                            " system: {preset: dgx-h100, chips: 16}}",
                            NULL, 0);
  assert_true(sl_scenario_number(sc, "chips") == 16);
  sl_scenario_free(sc);
}

/* Inference with no plan given: the smallest tp within the scale-up domain that fits, the rest
 * replicas (never a replica without a sequence); a fixed plan that does not fit says which would. */
static void test_inference_default_plan(void **state) {
  (void)state;
  sl_scenario *sc = load_ok("{chip: h100-sxm, system: dgx-h100, model: llama3.1-70b, task: decode,"
                            " infer: {batch: 64}}",
                            NULL, 0);
  sl_result *res = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  assert_true(sl_result_feasible(res));
  assert_true(sl_result_number(res, "parallel.tp") == 2); /* 141 GB of weights: tp 1 does not fit */
  assert_true(sl_result_number(res, "parallel.dp") == 4);
  sl_result_free(res);
  sl_scenario_free(sc);
  /* a small model and batch 1 on 8 chips: one replica over the whole domain, not 8 idle ones */
  sc = load_ok("{chip: h100-sxm, system: dgx-h100, model: llama3.1-8b, task: decode}", NULL, 0);
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  assert_true(sl_result_feasible(res));
  assert_true(sl_result_number(res, "parallel.tp") == 8);
  sl_result_free(res);
  sl_scenario_free(sc);
  /* and with a batch of 8, 8 replicas of tp 1 */
  sc = load_ok("{chip: h100-sxm, system: dgx-h100, model: llama3.1-8b, task: decode, infer: {batch: 8}}",
               NULL, 0);
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  assert_true(sl_result_number(res, "parallel.tp") == 1);
  assert_true(sl_result_number(res, "parallel.dp") == 8);
  sl_result_free(res);
  sl_scenario_free(sc);
  sc = load_ok("{chip: h100-sxm, system: dgx-h100, model: llama3.1-70b, task: decode, infer: {batch: 64},"
               " parallel: {tp: 1}}",
               NULL, 0);
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  assert_false(sl_result_feasible(res));
  expect_in(sl_result_reason(res), "parallel: {tp: 2} fits");
  assert_null(strstr(sl_result_reason(res), " GB ")); /* memory in GiB, as the rest of the text */
  sl_result_free(res);
  sl_scenario_free(sc);
}

/* compare runs each chip on its own system of the workload's chip count, and each result names it. */
static void test_compare_systems(void **state) {
  (void)state;
  const char *chips[] = {"h100-sxm", "mtia-2i", "a100-sxm-40gb"},
             *wl[] = {"examples/dlrm-dgx-h100-train.yaml"};
  sl_compare_params p;
  memset(&p, 0, sizeof p);
  p.chips = chips, p.n_chips = 3, p.workloads = wl, p.n_workloads = 1, p.format = SL_FORMAT_JSON;
  char *out = NULL;
  sl_error err;
  assert_int_equal(sl_compare(&p, &out, &err), SL_OK);
  /* the workload's own chip on its system; MTIA 2i on its PCIe server, 8 of its chips; a chip with
   * no system preset on the links of its spec */
  expect_in(out, "\"chip\":\"h100-sxm\",\"system\":{\"name\":\"dgx-h100\",\"chips\":8,\"node_chips\":8,"
                 "\"scale_up\":{\"bw_GBps\":450");
  expect_in(out, "\"chip\":\"mtia-2i\",\"system\":{\"name\":\"mtia-2i-server\",\"chips\":8,\"node_chips\":8,"
                 "\"scale_up\":{\"bw_GBps\":32");
  expect_in(out, "\"chip\":\"a100-sxm-40gb\",\"system\":{\"name\":null,\"chips\":8,\"node_chips\":8,"
                 "\"scale_up\":{\"bw_GBps\":300");
  sl_free(out);
  /* --systems pairs them explicitly */
  const char *systems[] = {"dgx-h100", "dgx-h100", NULL};
  p.systems = systems;
  assert_int_equal(sl_compare(&p, &out, &err), SL_OK);
  expect_in(out, "\"chip\":\"mtia-2i\",\"system\":{\"name\":\"dgx-h100\",\"chips\":8");
  sl_free(out);
  p.format = SL_FORMAT_TEXT, p.systems = NULL;
  assert_int_equal(sl_compare(&p, &out, &err), SL_OK);
  expect_in(out, "mtia-2i-server: 8 chips, scale-up domains of 8 at 32 GB/s per chip");
  sl_free(out);
}

/* A torus is refused, not costed as a switch. */
static void test_torus_refused(void **state) {
  (void)state;
  char msg[600];
  load_error("{chip: tpu-v5p, model: llama3.1-8b, task: decode, infer: {batch: 4},"
             " system: {chips: 4, topology: torus}}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "system.topology: a torus is not modelled");
  sl_scenario_free(load_ok("{chip: tpu-v5p, model: llama3.1-8b, task: decode, infer: {batch: 4},"
                           " system: {chips: 4, topology: switched}}",
                           NULL, 0));
}

/* The stack a scenario gets when it names none: its chip's default_stack (the software the chip's
 * family runs), else silica's; a default_stack naming no preset is an input error. */
static void test_default_stack(void **state) {
  (void)state;
  static const struct {
    const char *text, *stack;
  } cases[] = {
      {"{chip: mtia-2i, model: llama3.1-8b, task: decode}", "\"name\":\"mtia-pytorch\""},
      {"{chip: tpu-v5p, model: llama3.1-8b, task: decode}", "\"name\":\"maxtext\""},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode}", "\"name\":\"trtllm\""},
      {"{chip: tpu-v5p, model: llama3.1-8b, task: decode, stack: vllm}", "\"name\":\"vllm\""},
      {"{chip: {preset: h100-sxm, default_stack: {infer: vllm}}, model: llama3.1-8b, task: decode}",
       "\"name\":\"vllm\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *j = run_json(cases[i].text, NULL, 0);
    const char *st = strstr(j, "\"stack\":{");
    if (!st || strncmp(st + 9, cases[i].stack, strlen(cases[i].stack)) != 0)
      fail_msg("%s: stack is not %s", cases[i].text, cases[i].stack);
    sl_free(j);
  }
  char msg[600];
  load_error("{chip: {preset: h100-sxm, default_stack: tensorrt}, model: llama3.1-8b, task: decode}", NULL, 0,
             msg, sizeof msg);
  expect_in(msg, "default_stack: unknown stack preset \"tensorrt\"");
  load_error("{chip: {preset: h100-sxm, default_stack: {infer: vllm, serve: vllm}}, model: llama3.1-8b, "
             "task: decode}",
             NULL, 0, msg, sizeof msg);
  expect_in(msg, "default_stack.serve: unknown key");
}

/* The best-plans table shows every column that differs between its plans (the data-parallel overlap
 * here), and no two of its rows read the same: plans equal but for one column share a row. */
static void test_plans_table(void **state) {
  (void)state;
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load("examples/train-llama3.1-70b-plan.yaml", NULL, NULL, 0, &sc, &err),
                   SL_OK);
  sl_run_params rp = sl_run_params_default();
  rp.top_plans = 60;
  sl_result *res = NULL;
  assert_int_equal(sl_scenario_run_ex(sc, &rp, &res, &err), SL_OK);
  char *text = sl_result_text(sc, res, 60);
  assert_non_null(text);
  const char *t = strstr(text, "best plans");
  assert_non_null(t);
  const char *end = strstr(t, "\n\n");
  assert_non_null(end);
  expect_in(t, "recompute");
  expect_in(t, "none/selective");
  /* no two rows alike */
  char prev[256] = "";
  size_t rows = 0;
  for (const char *l = strchr(t, '\n') + 1; l && l < end; l = strchr(l, '\n') + 1) {
    const char *nl = strchr(l, '\n');
    size_t len = (size_t)(nl - l) < sizeof prev - 1 ? (size_t)(nl - l) : sizeof prev - 1;
    if (strlen(prev) == len && strncmp(prev, l, len) == 0) fail_msg("two rows alike: %s", prev);
    memcpy(prev, l, len), prev[len] = 0;
    rows++;
    if (nl >= end) break;
  }
  assert_true(rows > 10);
  sl_free(text);
  sl_result_free(res);
  sl_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_did_you_mean),     cmocka_unit_test(test_context_limit),
      cmocka_unit_test(test_preset_overrides), cmocka_unit_test(test_inference_default_plan),
      cmocka_unit_test(test_compare_systems),  cmocka_unit_test(test_torus_refused),
      cmocka_unit_test(test_default_stack),    cmocka_unit_test(test_plans_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
