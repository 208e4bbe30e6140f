/* test_kernel_ops.c — single kernel-level ops: the element-wise and norm kernels (bytes and FLOP
 * counted by hand from what each reads, writes and computes), attention with a kernel family and a
 * pass (FLOP of forward and backward, a family a chip cannot run is infeasible), and the errors of
 * their keys (file, line, key). */
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
#include "test_util.h"

/* One op of rows x cols fp16 values on an A100 (weights fp16 too); the single breakdown row. */
static void check_stream(const char *op, double rows, double cols, double want_bytes, double want_flops,
                         sl_category cat) {
  char text[300];
  snprintf(text, sizeof text,
           "{chip: a100-sxm-80gb, stack: cuda-events, precision: fp16, task: infer,"
           " model: {op: %s, rows: %.0f, cols: %.0f}}",
           op, rows, cols);
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  if (!r->feasible) fail_msg("%s: infeasible: %s", op, r->reason);
  assert_int_equal(r->n_rows, 1);
  assert_string_equal(r->rows[0].name, op);
  assert_int_equal(r->rows[0].cat, cat);
  assert_rel(r->rows[0].bytes, want_bytes, 1e-12, op);
  assert_rel(r->rows[0].flops, want_flops, 1e-12, op);
  /* A streaming kernel on a big tensor runs at the chip's streaming bandwidth. */
  const sl_chip *c = &sc->chip;
  double bw = chip_dram(c)->bw_GBps * 1e9 * c->eff_stream;
  if (rows * cols >= 1e8) assert_rel(r->step_time_s, want_bytes / bw + c->kernel_latency_s, 0.02, op);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_stream_ops(void **state) {
  (void)state;
  double R = 8192, C = 16384, n = R * C, b = 2; /* fp16 */
  /* gelu, silu: read x, write y. */
  check_stream("gelu", R, C, 2 * n * b, 8 * n, SL_CAT_ELEMENTWISE);
  check_stream("silu", R, C, 2 * n * b, 4 * n, SL_CAT_ELEMENTWISE);
  /* softmax: read and write the tensor; max, subtract, exp, sum, scale. */
  check_stream("softmax", R, C, 2 * n * b, 5 * n, SL_CAT_ELEMENTWISE);
  /* layernorm: x and y, gain and bias (C each), fp32 mean and inverse deviation per row. */
  check_stream("layernorm", R, C, 2 * n * b + 2 * C * b + 2 * R * 4, 8 * n, SL_CAT_NORM);
  /* rmsnorm: x and y, the gain, an fp32 inverse root mean square per row. */
  check_stream("rmsnorm", R, C, 2 * n * b + C * b + R * 4, 4 * n, SL_CAT_NORM);
  /* add: two tensors in, one out. */
  check_stream("add", R, C, 3 * n * b, n, SL_CAT_ELEMENTWISE);
}

/* A small op is all launch: the stack's per-call overhead plus the kernel's own latency (its 4 KB
 * move in nanoseconds). */
static void test_stream_launch(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: a100-sxm-80gb, stack: pytorch-eager, precision: fp16, task: infer,"
                         " model: {op: gelu, rows: 1, cols: 1024}}");
  sl_result *r = run(sc);
  double launch = sc->chip.kernel_latency_s + sc->stack.kernel_overhead_s;
  assert_true(r->step_time_s > launch);
  assert_rel(r->step_time_s, launch, 1e-3, "gelu of 1024");
  assert_int_equal(r->rows[0].bound, SL_BOUND_LATENCY);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static sl_result *attention(const char *chip, const char *kernel, const char *pass, int causal) {
  char text[400];
  snprintf(text, sizeof text,
           "{chip: %s, stack: cuda-events, precision: fp16, task: infer, model: {op: attention, batch: 4,"
           " seq_len: 4096, heads: 16, head_dim: 128, causal: %s, kernel: %s, pass: %s}}",
           chip, causal ? "true" : "false", kernel, pass);
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  sl_scenario_free(sc);
  return r;
}

/* Forward: 2 matmuls of 2 B H s^2 d FLOP; the backward 5 (FlashAttention-2 §3.2: S and P
 * recomputed, dV, dP, dQ, dK), 2.5 times the forward; both: the sum.  Model FLOP count the
 * backward as twice the forward. */
static void test_attention_passes(void **state) {
  (void)state;
  double fwd = 4.0 * 4 * 16 * 4096.0 * 4096 * 128;
  sl_result *f = attention("h100-sxm", "flash3", "forward", 0);
  sl_result *b = attention("h100-sxm", "flash3", "backward", 0);
  sl_result *fb = attention("h100-sxm", "flash3", "forward_backward", 0);
  assert_rel(f->model_flops, fwd, 1e-12, "forward model FLOP");
  assert_rel(b->model_flops, 2 * fwd, 1e-12, "backward model FLOP");
  assert_rel(fb->model_flops, 3 * fwd, 1e-12, "forward_backward model FLOP");
  assert_rel(f->hw_flops, fwd, 1e-12, "forward FLOP");
  assert_rel(b->hw_flops, 2.5 * fwd, 1e-12, "backward FLOP");
  assert_rel(fb->hw_flops, 3.5 * fwd, 1e-12, "forward_backward FLOP");
  assert_int_equal(fb->n_rows, 2);
  assert_rel(fb->step_time_s, f->step_time_s + b->step_time_s, 1e-12, "forward_backward time");
  assert_true(b->step_time_s > 2 * f->step_time_s);
  /* Causal: about half the work at a long sequence. */
  sl_result *c = attention("h100-sxm", "flash3", "forward", 1);
  assert_true(c->step_time_s < 0.6 * f->step_time_s && c->step_time_s > 0.4 * f->step_time_s);
  sl_result_free(c);
  sl_result_free(f);
  sl_result_free(b);
  sl_result_free(fb);
}

/* The family: FlashAttention-2 on a Hopper chip sustains less than FlashAttention-3 (its
 * efficiency.attention.flash2); an unfused kernel materialises the scores (three ops and more
 * bytes); FlashAttention-3 on an Ampere chip is infeasible, with a reason. */
static void test_attention_families(void **state) {
  (void)state;
  sl_result *f3 = attention("h100-sxm", "flash3", "forward", 0);
  sl_result *f2 = attention("h100-sxm", "flash2", "forward", 0);
  assert_true(f2->step_time_s > 1.5 * f3->step_time_s);
  assert_int_equal(f3->n_rows, 1);
  sl_result *un = attention("h100-sxm", "unfused", "forward", 0);
  assert_true(un->n_rows >= 3);
  assert_true(un->step_time_s > f3->step_time_s);
  sl_result *a3 = attention("a100-sxm-80gb", "flash3", "forward", 0);
  assert_false(a3->feasible);
  assert_non_null(strstr(a3->reason, "flash3"));
  sl_result *a2 = attention("a100-sxm-80gb", "flash2", "forward", 0);
  assert_true(a2->feasible);
  sl_result_free(f3);
  sl_result_free(f2);
  sl_result_free(un);
  sl_result_free(a3);
  sl_result_free(a2);
}

/* Bad keys of the ops name the file, the line and the key. */
static void test_bad_keys(void **state) {
  (void)state;
  struct {
    const char *model;
    const char *key, *msg;
  } cases[] = {
      {"model: {op: gelu, rows: 4}", "model.cols", "missing key"},
      {"model: {op: softmax, rows: 4, cols: 0}", "model.cols", "out of range"},
      {"model: {op: layernorm, rows: 4.5, cols: 8}", "model", "whole numbers"},
      {"model: {op: add, rows: 4, cols: 8, dim: 3}", "model.dim", "unknown key"},
      {"model: {op: relu, rows: 4, cols: 8}", "model.op", "unknown value"},
      {"model: {op: attention, batch: 1, seq_len: 64, heads: 2, head_dim: 64, kernel: flash4}",
       "model.kernel", "unknown value"},
      {"model: {op: attention, batch: 1, seq_len: 64, heads: 2, head_dim: 64, pass: sideways}", "model.pass",
       "unknown value"},
  };
  char path[] = "/tmp/silica-test-kernel-ops-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "chip: a100-sxm-80gb\nstack: cuda-events\nprecision: fp16\ntask: infer\n%s\n", cases[i].model);
    fclose(f);
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(path, NULL, NULL, 0, &sc, &err);
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    if (s != SL_ERR_INPUT) fail_msg("%s: expected an input error, got %d: %s", cases[i].model, s, buf);
    if (strcmp(err.file, path) != 0) fail_msg("%s: file: %s", cases[i].model, buf);
    if (err.line != 5) fail_msg("%s: line 5 expected: %s", cases[i].model, buf);
    if (strcmp(err.key, cases[i].key) != 0)
      fail_msg("%s: key %s expected: %s", cases[i].model, cases[i].key, buf);
    if (!strstr(err.message, cases[i].msg)) fail_msg("%s: message: %s", cases[i].model, buf);
    assert_null(sc);
  }
  close(fd);
  remove(path);
}

/* The chip's efficiency.attention: a family name it does not know and a fraction out of range are
 * errors at the chip line, naming the key; a value in range changes the family's time. */
static void test_chip_attention_keys(void **state) {
  (void)state;
  struct {
    const char *chip, *key, *msg;
  } cases[] = {
      {"{preset: h100-sxm, efficiency: {attention: {flash5: 1}}}", "chip.efficiency.attention.flash5",
       "unknown key"},
      {"{preset: h100-sxm, efficiency: {attention: {flash2: 1.5}}}", "chip.efficiency.attention.flash2",
       "out of range"},
      {"{preset: h100-sxm, efficiency: {attention: {backward: 0}}}", "chip.efficiency.attention.backward",
       "out of range"},
      {"{preset: h100-sxm, kernels: {attention_tile_s: 1}}", "chip.kernels.attention_tile_s", "out of range"},
      {"{preset: h100-sxm, kernels: {block_sram_bytes: 10}}", "chip.kernels.block_sram_bytes",
       "out of range"},
      {"{preset: h100-sxm, links: {scale_up: {ll_efficiency: 2}}}", "chip.links.scale_up.ll_efficiency",
       "out of range"},
      {"{preset: h100-sxm, links: {scale_up: {base_latency_s: true}}}", "chip.links.scale_up.base_latency_s",
       ""},
      {"{preset: h100-sxm, links: {scale_up: {switch_reduce_efficiency: 1.5}}}",
       "chip.links.scale_up.switch_reduce_efficiency", "out of range"},
      {"{preset: h100-sxm, links: {scale_up: {switch_reduce_latency_s: 1}}}",
       "chip.links.scale_up.switch_reduce_latency_s", "out of range"},
      {"{preset: h100-sxm, links: {scale_out: {bw_GBps: 50, switch_reduce_efficiency: 0.5}}}",
       "chip.links.scale_out.switch_reduce_efficiency", "only the scale-up link"},
      {"{preset: mi300x, links: {scale_up: {mesh_links: 0}}}", "chip.links.scale_up.mesh_links",
       "out of range"},
      {"{preset: mi300x, links: {scale_up: {mesh_links: 2.5}}}", "chip.links.scale_up.mesh_links", ""},
      {"{preset: mi300x, links: {scale_up: {switch_reduce_efficiency: 0.5}}}",
       "chip.links.scale_up.switch_reduce_efficiency", "no switch"},
      {"{preset: mi300x, links: {scale_out: {bw_GBps: 50, mesh_links: 7}}}",
       "chip.links.scale_out.mesh_links", "only the scale-up link is a mesh"},
      {"{preset: b200, links: {scale_up: {p2p_peer_latency_s: 1}}}", "chip.links.scale_up.p2p_peer_latency_s",
       "out of range"},
      {"{preset: b200, links: {scale_out: {bw_GBps: 50, p2p_peer_latency_s: 1.0e-6}}}",
       "chip.links.scale_out.p2p_peer_latency_s", "peer-to-peer all-reduce kernels"},
      {"{preset: b200, links: {scale_out: {bw_GBps: 50, local_GBps: 900}}}",
       "chip.links.scale_out.local_GBps", "a ring's local step"},
  };
  char path[] = "/tmp/silica-test-kernel-chip-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *rest =
      "stack: cuda-events\nprecision: fp16\ntask: infer\n"
      "model: {op: attention, batch: 1, seq_len: 4096, heads: 16, head_dim: 128, kernel: flash2}\n";
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "chip: %s\n%s", cases[i].chip, rest);
    fclose(f);
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(path, NULL, NULL, 0, &sc, &err);
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    if (s != SL_ERR_INPUT) fail_msg("%s: expected an input error, got %d: %s", cases[i].chip, s, buf);
    if (strcmp(err.file, path) != 0 || err.line != 1) fail_msg("%s: file and line 1: %s", cases[i].chip, buf);
    if (strcmp(err.key, cases[i].key) != 0)
      fail_msg("%s: key %s expected: %s", cases[i].chip, cases[i].key, buf);
    if (!strstr(err.message, cases[i].msg)) fail_msg("%s: message: %s", cases[i].chip, buf);
    assert_null(sc);
  }
  close(fd);
  remove(path);
  /* FlashAttention-2 on H100 at 0.88 of the GEMM efficiency instead of the preset's 0.4738: the matrix
   * work twice as fast, the softmax's vector work not (it does not overlap the products). */
  sl_scenario *a =
      load("{chip: h100-sxm, stack: cuda-events, precision: fp16, task: infer, model: {op: attention,"
           " batch: 1, seq_len: 16384, heads: 16, head_dim: 128, kernel: flash2}}");
  sl_scenario *b =
      load("{chip: {preset: h100-sxm, efficiency: {attention: {flash2: 0.88}}}, stack: cuda-events,"
           " precision: fp16, task: infer, model: {op: attention, batch: 1, seq_len: 16384, heads: 16,"
           " head_dim: 128, kernel: flash2}}");
  assert_rel(a->chip.eff_attention[SL_ATTN_FLASH2], 0.4738, 1e-12, "preset flash2");
  sl_result *ra = run(a), *rb = run(b);
  double ratio = ra->step_time_s / rb->step_time_s;
  if (!(ratio > 1.7 && ratio < 2.0)) fail_msg("flash2 at twice the efficiency: %.3f times faster", ratio);
  sl_result_free(ra);
  sl_result_free(rb);
  sl_scenario_free(a);
  sl_scenario_free(b);
}

/* The kernel-level measurements (kernels.yaml, beside the repository when it is checked out with
 * the shared validation data): every case runs, none is an error. */
static void test_kernels_cases_run(void **state) {
  (void)state;
  const char *path = SILICA_SOURCE_DIR "/../shared/validation/kernels.yaml";
  FILE *f = fopen(path, "r");
  if (!f) skip();
  fclose(f);
  sl_validation v;
  val_init(&v);
  sl_error err;
  if (val_run_file(&v, path, NULL, &err)) fail_msg("%s: %s", path, err.message);
  assert_true(v.n >= 50);
  for (size_t i = 0; i < v.n; i++)
    if (v.entries[i].status == SL_VAL_ERROR || v.entries[i].status == SL_VAL_UNSUPPORTED)
      fail_msg("%s: %s", v.entries[i].name, v.entries[i].message);
  val_free(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream_ops),        cmocka_unit_test(test_stream_launch),
      cmocka_unit_test(test_attention_passes),  cmocka_unit_test(test_attention_families),
      cmocka_unit_test(test_bad_keys),          cmocka_unit_test(test_chip_attention_keys),
      cmocka_unit_test(test_kernels_cases_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
