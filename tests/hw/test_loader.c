/* test_loader.c — every kind of bad input gives SL_ERR_INPUT with file, line and key path; the
 * presets all load. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report/report.h"

static const char *CHIP =
    "name: test-chip\n"                                                                   /* 1 */
    "process_nm: 5\n"                                                                     /* 2 */
    "clock_ghz: 1.5\n"                                                                    /* 3 */
    "cores: 4\n"                                                                          /* 4 */
    "tdp_w: 100\n"                                                                        /* 5 */
    "matrix:\n"                                                                           /* 6 */
    "  shape: {m: 16, n: 16, k: 16}\n"                                                    /* 7 */
    "  macs_per_cycle: {bf16: 1024}\n"                                                    /* 8 */
    "memory:\n"                                                                           /* 9 */
    "  - {name: sram, per_core: true, capacity_bytes: 262144, bw_GBps: 500}\n"            /* 10 */
    "  - {name: dram, capacity_bytes: 1.0e10, bw_GBps: 100}\n"                            /* 11 */
    "kernels:\n"                                                                          /* 12 */
    "  latency_s: 1.0e-6\n"                                                               /* 13 */
    "  tiles: [{m: 64, n: 64, k: 64}]\n"                                                  /* 14 */
    "efficiency: {gemm: {bf16: 0.9}, gemm_source: test, dram: 0.9, dram_source: test}\n"; /* 15 */

static char tmpdir[256];

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/silica-test-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to a file, loads it as a chip; returns the status and fills err. */
static sl_status load_chip_text(const char *text, sl_error *err, char *path, size_t n) {
  snprintf(path, n, "%s/chip.yaml", tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  arena a;
  ar_init(&a);
  sl_chip c;
  memset(err, 0, sizeof *err);
  sl_status s = chip_load(&a, path, NULL, &c, err);
  ar_free(&a);
  return s;
}

/* Replaces the first occurrence of `from` in CHIP by `to`. */
static char *edit(const char *from, const char *to) {
  static char buf[4096];
  const char *p = strstr(CHIP, from);
  assert_non_null(p);
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - CHIP), CHIP, to, p + strlen(from));
  return buf;
}

static void expect(const char *text, int line, const char *key, const char *msg_part) {
  sl_error err;
  char path[300];
  sl_status s = load_chip_text(text, &err, path, sizeof path);
  char buf[900];
  sl_error_format(&err, buf, sizeof buf);
  if (s != SL_ERR_INPUT) fail_msg("expected an input error, got %d (%s)", s, buf);
  if (strcmp(err.file, path) != 0) fail_msg("file: %s", buf);
  if (line && err.line != line) fail_msg("line %d expected: %s", line, buf);
  if (strcmp(err.key, key) != 0) fail_msg("key %s expected: %s", key, buf);
  if (!strstr(err.message, msg_part)) fail_msg("message should contain \"%s\": %s", msg_part, buf);
}

static void test_valid(void **state) {
  (void)state;
  sl_error err;
  char path[300];
  assert_int_equal(load_chip_text(CHIP, &err, path, sizeof path), SL_OK);
  assert_int_equal(
      load_chip_text(edit("{m: 64, n: 64, k: 64}", "{m: 64, n: 64, k: 64, warp_m: 32, warp_n: 32}"), &err, path,
                     sizeof path),
      SL_OK);
}

static void test_unknown_key(void **state) {
  (void)state;
  expect(edit("tdp_w: 100\n", "tdp_w: 100\ntdp_watts: 3\n"), 6, "tdp_watts", "unknown key");
  expect(edit("{name: dram,", "{name: dram, speed: 3,"), 11, "memory[1].speed", "unknown key");
}

static void test_duplicate_key(void **state) {
  (void)state;
  expect(edit("cores: 4\n", "cores: 4\ncores: 8\n"), 5, "cores", "duplicate key");
}

static void test_missing_key(void **state) {
  (void)state;
  expect(edit("clock_ghz: 1.5\n", ""), 1, "clock_ghz", "missing key");
  expect(edit(", bw_GBps: 100}", "}"), 11, "memory[1].bw_GBps", "missing key");
}

static void test_wrong_type(void **state) {
  (void)state;
  expect(edit("cores: 4", "cores: four"), 4, "cores", "expected a number");
  expect(edit("cores: 4", "cores: \"4\""), 4, "cores", "expected a number");
  expect(edit("memory:\n", "memory: {a: 1}\nx:\n"), 9, "memory", "expected a list");
  expect(edit("per_core: true", "per_core: maybe"), 10, "memory[0].per_core", "expected true or false");
}

static void test_bad_values(void **state) {
  (void)state;
  expect(edit("cores: 4", "cores: 0"), 4, "cores", "out of range");
  expect(edit("clock_ghz: 1.5", "clock_ghz: -1"), 3, "clock_ghz", "out of range");
  expect(edit("clock_ghz: 1.5", "clock_ghz: 1e30"), 3, "clock_ghz", "out of range");
  expect(edit("cores: 4", "cores: 2.5"), 4, "cores", "whole number");
  expect(edit("tdp_w: 100", "tdp_w: .nan"), 5, "tdp_w", "expected a number");
  expect(edit("bw_GBps: 100", "bw_GBps: 0"), 11, "memory[1].bw_GBps", "out of range");
  expect(edit("{bf16: 0.9}", "{bf16: 1.5}"), 15, "efficiency.gemm.bf16", "out of range");
  expect(edit("{bf16: 1024}", "{bf17: 1024}"), 8, "matrix.macs_per_cycle.bf17", "unknown number format");
  expect(edit("{m: 64, n: 64, k: 64}", "{m: 4096, n: 4096, k: 64}"), 0, "kernels.tiles", "more than sram");
  expect(edit("{m: 64, n: 64, k: 64}", "{m: 64, n: 64, k: 64, warp_m: 32}"), 14, "kernels.tiles[0]", "go together");
  expect(edit("{m: 64, n: 64, k: 64}", "{m: 64, n: 64, k: 64, warp_m: 48, warp_n: 32}"), 14, "kernels.tiles[0]",
         "does not divide");
  expect(edit("{m: 64, n: 64, k: 64}", "{m: 64, n: 64, k: 64, warp_m: 0, warp_n: 32}"), 14,
         "kernels.tiles[0].warp_m", "out of range");
  expect(edit("{m: 64, n: 64, k: 64}", "{m: 64, n: 64, k: 64, warp_k: 32}"), 14, "kernels.tiles[0].warp_k",
         "unknown key");
}

static void test_malformed(void **state) {
  (void)state;
  expect(edit("cores: 4\n", "cores: [4\n"), 0, "", "malformed YAML");
  expect("", 1, "", "empty document");
  expect("- a\n- b\n", 1, "", "expected a map");
}

static void test_missing_file(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(chip_load(&a, "/nonexistent/chip.yaml", NULL, &c, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "cannot open"));
  assert_int_equal(chip_load(&a, "no-such-chip", NULL, &c, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "unknown chips preset"));
  ar_free(&a);
}

/* An alias inside the node its anchor names would make the tree a cycle (every walk of it endless):
 * refused with the line; an alias after the node has closed is an ordinary reuse. */
static void test_alias_cycle(void **state) {
  (void)state;
  const char *bad[] = {"a: &x {b: *x}\n", "a: &x [1, *x]\n", "- {name: &p {h: *p, e: *p}}\n",
                       "top:\n  a: &x\n    b:\n      c: *x\n"};
  for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
    arena a;
    ar_init(&a);
    yt_node *n;
    sl_error err;
    assert_int_equal(yt_parse(&a, bad[i], strlen(bad[i]), "cycle.yaml", &n, &err), SL_ERR_INPUT);
    assert_non_null(strstr(err.message, "a cycle"));
    assert_true(err.line >= 1);
    ar_free(&a);
  }
  const char *ok = "a: &x {b: 1}\nc: {d: *x, e: *x}\n";
  arena a;
  ar_init(&a);
  yt_node *n;
  sl_error err;
  assert_int_equal(yt_parse(&a, ok, strlen(ok), "reuse.yaml", &n, &err), SL_OK);
  ar_free(&a);
}

static void test_alias_bomb(void **state) {
  (void)state;
  /* Nine levels of nine aliases: 9^9 nodes if expanded naively. */
  char text[4096] = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; i++) {
    size_t l = strlen(text);
    snprintf(text + l, sizeof text - l, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
             i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  }
  arena a;
  ar_init(&a);
  yt_node *n;
  sl_error err;
  assert_int_equal(yt_parse(&a, text, strlen(text), "bomb.yaml", &n, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "too large"));
  ar_free(&a);
}

static void test_deep_nesting(void **state) {
  (void)state;
  char text[1024];
  size_t n = 0;
  for (int i = 0; i < 200; i++)
    text[n++] = '[';
  for (int i = 0; i < 200; i++)
    text[n++] = ']';
  text[n] = 0;
  arena a;
  ar_init(&a);
  yt_node *node;
  sl_error err;
  assert_int_equal(yt_parse(&a, text, n, "deep.yaml", &node, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "nesting"));
  ar_free(&a);
}

static void test_all_presets_load(void **state) {
  (void)state;
  const char *kinds[] = {"chips", "stacks", "models"};
  for (int k = 0; k < 3; k++) {
    size_t n = sl_preset_count(kinds[k]);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
      arena a;
      ar_init(&a);
      sl_error err;
      yt_node *t;
      const char *name = sl_preset_name(kinds[k], i);
      const char *text = sl_preset_text(kinds[k], name);
      assert_int_equal(yt_parse(&a, text, strlen(text), name, &t, &err), SL_OK);
      reader r = {&err, &a, ""};
      sl_status s = spec_resolve(&r, kinds[k], t, &t); /* a preset may derive from another */
      assert_int_equal(s, SL_OK);
      if (k == 0) {
        sl_chip c;
        s = chip_from_node(&r, t, &c);
        if (!s && strcmp(c.name, name) != 0) fail_msg("chip %s names itself %s", name, c.name);
      } else if (k == 1) {
        sl_stack st;
        s = stack_from_node(&r, t, &st);
        if (!s && strcmp(st.name, name) != 0) fail_msg("stack %s names itself %s", name, st.name);
      } else {
        sl_model m;
        s = model_from_node(&r, t, &m);
      }
      if (s) {
        char buf[900];
        sl_error_format(&err, buf, sizeof buf);
        fail_msg("preset %s/%s: %s", kinds[k], name, buf);
      }
      ar_free(&a);
    }
  }
}

/* Scenario errors name the key path inside the scenario. */
static void test_scenario_errors(void **state) {
  (void)state;
  struct {
    const char *text, *key, *msg;
  } cases[] = {
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: -1}}", "infer.batch",
       "out of range"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: fly}", "task", "unknown value"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {bach: 1}}", "infer.bach", "unknown key"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, colour: red}", "colour", "unknown key"},
      {"{chip: h100-sxm, task: decode}", "model", "missing key"},
      {"{chip: h100-sxm, model: {transformer: {hidden: 64, layers: 2, heads: 4, kv_heads: 3, ffn: 128, "
       "vocab: 10,"
       " activation: swiglu, norm: rmsnorm, position: rope}}, task: decode}",
       "model.transformer.kv_heads", "must divide"},
      {"{chip: h100-sxm, model: {op: gemm, m: 0, n: 1, k: 1}, task: infer}", "model.m", "out of range"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: fp7}", "precision", "unknown value"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: megatron-2022, grad_accum_fusion: "
       "2}}",
       "stack.grad_accum_fusion", "expected true or false"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: trtllm, fused_cross_entropy: "
       "maybe}}",
       "stack.fused_cross_entropy", "expected true or false"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: trtllm, fit_group: ''}}",
       "stack.fit_group", "non-empty"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: torchrec, host_sync: 1}}",
       "stack.host_sync", "expected true or false"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: torchrec, embedding_fused: no_}}",
       "stack.embedding_fused", "expected true or false"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: torchrec, optimizer_foreach: 3}}",
       "stack.optimizer_foreach", "expected true or false"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: torchrec, host_ops_per_feature: "
       "-1}}",
       "stack.host_ops_per_feature", "out of range"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: {preset: torchrec, host_ops_per_feature: "
       "1e6}}",
       "stack.host_ops_per_feature", "out of range"},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(NULL, cases[i].text, NULL, 0, &sc, &err);
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    if (s != SL_ERR_INPUT) fail_msg("%s: expected input error, got %d: %s", cases[i].text, s, buf);
    if (strcmp(err.key, cases[i].key) != 0)
      fail_msg("%s: key %s expected: %s", cases[i].text, cases[i].key, buf);
    if (!strstr(err.message, cases[i].msg)) fail_msg("%s: message: %s", cases[i].text, buf);
    assert_null(sc);
  }
}

/* Overrides: --set replaces values and creates maps. */
static void test_overrides(void **state) {
  (void)state;
  const char *sets[] = {"task=decode", "infer.batch=4", "infer.prompt_len=100"};
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(
      sl_scenario_load(NULL, "{chip: h100-sxm, model: llama3.1-8b, task: prefill}", sets, 3, &sc, &err),
      SL_OK);
  assert_int_equal(sc->task, SL_TASK_DECODE);
  assert_true(sc->batch == 4 && sc->prompt_len == 100);
  sl_scenario_free(sc);
  const char *bad[] = {"infer.batch"};
  assert_int_equal(
      sl_scenario_load(NULL, "{chip: h100-sxm, model: llama3.1-8b, task: decode}", bad, 1, &sc, &err),
      SL_ERR_INPUT);
}

/* {preset: NAME, keys...}: the preset with the keys over it, nested maps merged key by key; an
 * unknown key among them is named where it was written. */
static void test_preset_with_overrides(void **state) {
  (void)state;
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load(NULL,
                                    "{chip: {preset: h100-sxm, tdp_w: 500, efficiency: {dram: 0.5}},\n"
                                    " stack: {preset: megatron-2024, efficiency: 0.8}, model: llama3.1-8b,\n"
                                    " task: decode}",
                                    NULL, 0, &sc, &err),
                   SL_OK);
  assert_true(sc->chip.tdp_w == 500 && sc->chip.eff_dram == 0.5);
  assert_true(sc->chip.cores == 132 && sc->chip.eff_stream > 0); /* the rest is the preset's */
  assert_true(sc->stack.efficiency == 0.8 && sc->stack.attention_fused);
  sl_scenario_free(sc);
  assert_int_equal(
      sl_scenario_load(
          NULL, "{chip: h100-sxm, model: llama3.1-8b, task: decode,\n stack: {preset: vllm, colour: 1}}",
          NULL, 0, &sc, &err),
      SL_ERR_INPUT);
  assert_int_equal(err.line, 2);
  assert_string_equal(err.key, "stack.colour");
  assert_int_equal(sl_scenario_load(NULL, "{chip: {preset: no-such-chip}, model: llama3.1-8b, task: decode}",
                                    NULL, 0, &sc, &err),
                   SL_ERR_INPUT);
  assert_string_equal(err.key, "chip.preset");
}

/* A spec file may derive from a preset or another file (its own `preset` key): the built-in
 * vllm-async is vllm with keys over it; a file over it over vllm; presets that name each other fail
 * with a one-line error naming the file and key, not a loop. */
static void test_derived_presets(void **state) {
  (void)state;
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load(NULL,
                                    "{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: vllm-async}",
                                    NULL, 0, &sc, &err),
                   SL_OK);
  assert_string_equal(sc->stack.name, "vllm-async");
  assert_true(sc->stack.host_overlap && sc->stack.host_step_s > 0 && (sc->stack.fitted & 12u) == 12u);
  assert_true(sc->stack.custom_allreduce && sc->stack.fused_add_norm); /* vllm's */
  sl_scenario_free(sc);
  char a[320], b[320], text[800];
  snprintf(a, sizeof a, "%s/derived.yaml", tmpdir);
  FILE *f = fopen(a, "w");
  assert_non_null(f);
  fputs("preset: vllm-async\nname: mine\nhost_step_s: 0.001\n", f);
  fclose(f);
  snprintf(text, sizeof text, "{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: %s}", a);
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  assert_string_equal(sc->stack.name, "mine");
  assert_true(sc->stack.host_overlap && sc->stack.host_step_s == 0.001 && sc->stack.fused_add_norm);
  sl_scenario_free(sc);
  snprintf(a, sizeof a, "%s/loop-a.yaml", tmpdir);
  snprintf(b, sizeof b, "%s/loop-b.yaml", tmpdir);
  f = fopen(a, "w");
  assert_non_null(f);
  fputs("preset: loop-b.yaml\nname: a\n", f);
  fclose(f);
  f = fopen(b, "w");
  assert_non_null(f);
  fputs("preset: loop-a.yaml\nname: b\n", f);
  fclose(f);
  snprintf(text, sizeof text, "{chip: h100-sxm, model: llama3.1-8b, task: decode, stack: %s}", a);
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_ERR_INPUT);
  if (!strstr(err.message, "more than 8 deep") || !strstr(err.key, "stack"))
    fail_msg("%s: %s: %s", err.file, err.key, err.message);
}

/* A Hugging Face config.json of the Llama family reads as a SwiGLU/RMSNorm/RoPE transformer. */
static void test_hf_config(void **state) {
  (void)state;
  char path[300];
  snprintf(path, sizeof path, "%s/config.json", tmpdir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096, \"intermediate_size\": 14336,\n"
        " \"num_hidden_layers\": 32, \"num_attention_heads\": 32, \"num_key_value_heads\": 8,\n"
        " \"vocab_size\": 128256, \"tie_word_embeddings\": false, \"rope_theta\": 500000.0,\n"
        " \"max_position_embeddings\": 131072, \"torch_dtype\": \"bfloat16\", \"head_dim\": 128}\n",
        f);
  fclose(f);
  char text[600];
  snprintf(text, sizeof text, "{chip: h100-sxm, model: %s, task: decode}", path);
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  assert_int_equal(sc->model.kind, SL_MODEL_TRANSFORMER);
  assert_int_equal(sc->model.tf.activation, SL_ACT_SWIGLU);
  assert_int_equal(sc->model.tf.kv_heads, 8);
  /* Same parameter count as the llama3.1-8b preset: 8.03 B. */
  assert_true(fabs(model_params(&sc->model) / 8.03e9 - 1) < 0.005);
  sl_scenario_free(sc);
}

/* Every prefix of every preset either loads or fails with an input error: never a crash. */
static void test_truncated_presets(void **state) {
  (void)state;
  const char *kinds[] = {"chips", "stacks", "models"};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < sl_preset_count(kinds[k]); i++) {
      const char *text = sl_preset_text(kinds[k], sl_preset_name(kinds[k], i));
      size_t len = strlen(text), step = len / 97 + 1;
      for (size_t cut = 0; cut < len; cut += step) {
        arena a;
        ar_init(&a);
        sl_error err;
        yt_node *t = NULL;
        sl_status s = yt_parse(&a, text, cut, "cut.yaml", &t, &err);
        if (!s) {
          reader r = {&err, &a, ""};
          sl_chip c;
          sl_stack st;
          sl_model m;
          s = k == 0   ? chip_from_node(&r, t, &c)
              : k == 1 ? stack_from_node(&r, t, &st)
                       : model_from_node(&r, t, &m);
        }
        assert_true(s == SL_OK || s == SL_ERR_INPUT);
        ar_free(&a);
      }
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_duplicate_key),
      cmocka_unit_test(test_missing_key),
      cmocka_unit_test(test_wrong_type),
      cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_alias_bomb),
      cmocka_unit_test(test_alias_cycle),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_all_presets_load),
      cmocka_unit_test(test_scenario_errors),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_preset_with_overrides),
      cmocka_unit_test(test_derived_presets),
      cmocka_unit_test(test_hf_config),
      cmocka_unit_test(test_truncated_presets),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
