/* test_workload.c — model front ends and op graphs against closed forms (equations.md): parameter
 * counts, training FLOP, KV-cache bytes; single-chip task physics (decode at the memory roofline,
 * prefill compute-bound, identical layers costed once, infeasible is a result). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "test_util.h"

static void test_param_counts(void **state) {
  (void)state;
  size_t n = sl_preset_count("models");
  int checked = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = sl_preset_name("models", i);
    char text[200];
    snprintf(text, sizeof text, "{chip: h100-sxm, model: %s, task: decode}", name);
    sl_scenario *sc = NULL;
    sl_error err;
    if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err)) continue; /* DLRM: not a transformer */
    double p = model_params(&sc->model), pub = sc->model.params_published;
    if (pub > 0) {
      if (fabs(p / pub - 1) > 0.015) fail_msg("%s: %.4g parameters, published %.4g", name, p, pub);
      checked++;
    }
    sl_scenario_free(sc);
  }
  assert_true(checked >= 10);
}

/* Megatron's count (Narayanan et al. SC21 eq. 3) with the LM head counted as 3 x 2BshV:
 * 72 B s l h^2 (1 + s/6h) + 6 B s h V. */
static void test_training_flops(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: a100-sxm-80gb, stack: megatron-2022, precision: fp16, task: train,"
                         " model: {transformer: {hidden: 1024, layers: 4, heads: 16, ffn: 4096, vocab: 51200,"
                         " activation: gelu, norm: layernorm, position: learned, tied_embeddings: true}},"
                         " train: {seq_len: 2048, global_batch: 8, micro_batch: 2, recompute: none}}");
  sl_result *r = run(sc);
  double f = r->model_flops;
  double B = 8, s = 2048, l = 4, h = 1024, V = 51200;
  double want = 72 * B * s * l * h * h * (1 + s / (6 * h)) + 6 * B * s * h * V;
  if (fabs(f / want - 1) > 1e-9) fail_msg("model FLOP %.6g, want %.6g", f, want);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_kv_cache_bytes(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 4, prompt_len: 1000}}");
  sl_result *r = run(sc);
  /* 2 (K and V) x layers x kv_heads x head_dim x bytes, per token of context. */
  double want = 4 * 1001 * 2.0 * 32 * 8 * 128 * 2;
  assert_true(fabs(sl_result_number(r, "memory.kv_cache_bytes") - want) < 1);
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load("{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: {weights: bf16, kv: fp8},"
            " infer: {batch: 4, prompt_len: 1000}}");
  r = run(sc);
  assert_true(fabs(sl_result_number(r, "memory.kv_cache_bytes") - want / 2) < 1);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Decode at batch 1 reads every weight once: time per token between 1.0x and 1.4x of
 * (weights + KV) / HBM bandwidth on the device (the kernel-level stack: an engine's fitted figures
 * come on top). */
static void test_decode_roofline(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, stack: cuda-events, model: llama3.1-8b, task: decode,"
                         " infer: {batch: 1, prompt_len: 1024}}");
  sl_result *r = run(sc);
  double bytes = sl_result_number(r, "memory.weights_bytes") + sl_result_number(r, "memory.kv_cache_bytes");
  double ideal = bytes / (chip_dram(&sc->chip)->bw_GBps * 1e9);
  double ratio = sl_result_number(r, "step_time_s") / ideal;
  print_message("decode / roofline = %.3f\n", ratio);
  assert_true(ratio >= 1.0 && ratio <= 1.4);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_prefill_compute_bound(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, model: llama3.1-8b, task: prefill, infer: {batch: 1, prompt_len: 2048}}");
  sl_result *r = run(sc);
  double compute = 0, total = 0;
  for (size_t i = 0; i < r->n_rows; i++) {
    total += r->rows[i].time_s;
    if (r->rows[i].bound == SL_BOUND_COMPUTE) compute += r->rows[i].time_s;
    /* Every layer GEMM is compute-bound (the LM head sees only the last token: a GEMV). */
    if (r->rows[i].cat == SL_CAT_GEMM && strcmp(r->rows[i].name, "lm_head") != 0 &&
        r->rows[i].bound != SL_BOUND_COMPUTE)
      fail_msg("%s is %s-bound", r->rows[i].name, sl_bound_names[r->rows[i].bound]);
  }
  assert_true(compute / total > 0.8);
  assert_true(fabs(total - sl_result_number(r, "step_time_s")) < 1e-12 * total);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* A 126-layer model has as many ops as a 2-layer one: identical layers are costed once.  On the
 * cuda-events stack (kernels back to back): an engine's host time could set the pace of the short
 * model's step alone and add its row. */
static void test_layers_costed_once(void **state) {
  (void)state;
#define LAYERS_FMT                                                                                           \
  "{chip: b200, stack: cuda-events, task: decode, model: {transformer: {hidden: 1024, layers: %d,"           \
  " heads: 8, ffn: 4096, vocab: 1000, activation: swiglu, norm: rmsnorm, position: rope}}}"
  char t1[400], t2[400];
  snprintf(t1, sizeof t1, LAYERS_FMT, 2);
  snprintf(t2, sizeof t2, LAYERS_FMT, 126);
  sl_scenario *a = load(t1), *b = load(t2);
  sl_result *ra = run(a), *rb = run(b);
  assert_int_equal(ra->n_rows, rb->n_rows);
  double layer_a = 0, layer_b = 0;
  for (size_t i = 0; i < ra->n_rows; i++)
    if (ra->rows[i].count == 2) layer_a += ra->rows[i].time_s, layer_b += rb->rows[i].time_s;
  assert_true(fabs(layer_b / layer_a - 63) < 1e-9);
  sl_result_free(ra);
  sl_result_free(rb);
  sl_scenario_free(a);
  sl_scenario_free(b);
}

static int has_row(const sl_result *r, const char *name) {
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i].name, name) == 0) return 1;
  return 0;
}

/* Fused attention only where the working set fits the per-core SRAM; unfused stacks never fuse. */
static void test_attention_fusion(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, stack: trtllm, task: infer, model: {op: attention, batch: 1, seq_len: 4096,"
           " heads: 16, head_dim: 128, causal: true}}");
  sl_result *r = run(sc);
  assert_true(has_row(r, "attention") && !has_row(r, "attn_scores"));
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load(
      "{chip: h100-sxm, stack: pytorch-eager, task: infer, model: {op: attention, batch: 1, seq_len: 4096,"
      " heads: 16, head_dim: 128, causal: true}}");
  r = run(sc);
  assert_true(has_row(r, "attn_scores") && has_row(r, "attn_softmax") && has_row(r, "attn_context"));
  sl_result_free(r);
  sl_scenario_free(sc);
  /* MTIA 1: 128 KB per PE cannot hold a 128-row tile with head_dim 512. */
  sc = load("{chip: mtia-1, stack: trtllm, precision: fp16, task: infer, model: {op: attention, batch: 1,"
            " seq_len: 1024, heads: 4, head_dim: 512}}");
  r = run(sc);
  assert_true(has_row(r, "attn_scores"));
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Inference in a 4-bit format (NVFP4 on B200): the products take 4-bit inputs, the activations
 * between kernels stay bf16, and attention, which no kernel runs on 4-bit inputs, takes the KV
 * cache's fp8 (or bf16 when the KV cache is 4-bit too). */
/* The op graph of a scenario, in arena a (ar_free it after). */
static sl_graph built_graph(const sl_scenario *sc, arena *a) {
  ar_init(a);
  sl_graph g = {0};
  sl_lowering lw = cost_lowering(sc);
  sl_error err;
  assert_int_equal(graph_build(a, sc, &lw, &g, &err), SL_OK);
  return g;
}

static void test_fp4_inference(void **state) {
  (void)state;
  static const struct {
    const char *precision;
    sl_dtype attn;
  } cs[] = {{"{weights: fp4, activations: fp4, kv: fp8}", SL_FP8}, {"fp4", SL_BF16}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cs); i++) {
    char t[400];
    snprintf(t, sizeof t,
             "{chip: b200, stack: trtllm, model: llama3.1-8b, task: prefill, precision: %s,"
             " infer: {batch: 1, prompt_len: 1024}}",
             cs[i].precision);
    sl_scenario *sc = load(t);
    assert_int_equal(sc->a_dtype, SL_BF16);
    assert_int_equal(sc->g_dtype, SL_FP4);
    assert_int_equal(sc->w_dtype, SL_FP4);
    arena a;
    sl_graph g = built_graph(sc, &a);
    int seen_attn = 0, seen_gemm = 0;
    for (size_t k = 0; k < g.n; k++) {
      const sl_op *op = &g.ops[k];
      if (op->kernel == SL_K_ATTN_FUSED) assert_int_equal(op->u.at.dt, cs[i].attn), seen_attn = 1;
      if (op->kernel == SL_K_GEMM && strcmp(op->name, "qkv") == 0) {
        assert_int_equal(op->u.g.dt, SL_FP4);
        assert_true(op->u.g.a_bytes == 0.5625 &&
                    op->u.g.c_bytes == 2); /* NVFP4: 4 bits + an E4M3 scale per 16 */
        seen_gemm = 1;
      }
    }
    assert_true(seen_attn && seen_gemm);
    ar_free(&a);
    sl_scenario_free(sc);
  }
  /* training keeps its own rule (products in the narrow format, the rest bf16) */
  sl_scenario *sc = load("{chip: b200, model: llama3.1-8b, task: train, precision: fp8,"
                         " train: {seq_len: 1024, global_batch: 8}}");
  assert_int_equal(sc->a_dtype, SL_BF16);
  sl_scenario_free(sc);
}

/* 8-bit inference (docs/model.md "Inference in 8-bit formats"): the products take fp8 and write bf16,
 * the residual stream, norms and all-reduces stay 2 bytes a value.  By hand on Llama 3.1 8B over tp
 * 2, batch 4 decoding: each all-reduce carries 4 x 4096 x 2 bytes.  With the stack's
 * quantized_attention (trtllm) the attention runs on the fp8 KV cache and writes the output
 * projection's fp8 input itself; without it (vllm) it runs in bf16 and a cast kernel of 4 x 2048
 * values (read 2 B, write the copy and its transpose at 1 B) precedes the output projection. */
static void test_fp8_inference(void **state) {
  (void)state;
  static const struct {
    const char *stack, *precision;
    sl_dtype attn;
    int cast_before_out;
  } cs[] = {{"trtllm", "fp8", SL_FP8, 0},
            {"trtllm", "{weights: fp8, activations: fp8, kv: fp8}", SL_FP8, 0},
            {"vllm", "fp8", SL_BF16, 1},
            {"trtllm", "{weights: fp8, activations: fp8}", SL_FP8, 0}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cs); i++) {
    char t[400];
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: %s, model: llama3.1-8b, task: decode, precision: %s,"
             " system: {chips: 2}, parallel: {tp: 2}, infer: {batch: 4, prompt_len: 1024}}",
             cs[i].stack, cs[i].precision);
    sl_scenario *sc = load(t);
    assert_int_equal(sc->a_dtype, SL_BF16);
    assert_int_equal(sc->g_dtype, SL_FP8);
    assert_int_equal(sc->w_dtype, SL_FP8);
    assert_int_equal(sc->kv_dtype, SL_FP8);
    arena a;
    sl_graph g = built_graph(sc, &a);
    int seen_attn = 0, seen_ar = 0, seen_out = 0, seen_norm = 0;
    const sl_op *prev = NULL;
    for (size_t k = 0; k < g.n; k++) {
      const sl_op *op = &g.ops[k];
      if (op->kernel == SL_K_ATTN_FUSED) assert_int_equal(op->u.at.dt, cs[i].attn), seen_attn = 1;
      if (op->kernel == SL_K_COLL && strcmp(op->name, "tp_allreduce_mlp") == 0)
        assert_true(op->u.c.bytes == 4 * 4096 * 2.0), seen_ar = 1;
      if (op->kernel == SL_K_STREAM && strcmp(op->name, "norm_mlp") == 0)
        assert_true(op->u.s.bytes >= 2.0 * 4 * 4096 * 2), seen_norm = 1;
      if (op->kernel == SL_K_GEMM && strcmp(op->name, "attn_out") == 0) {
        assert_int_equal(op->u.g.dt, SL_FP8);
        assert_true(op->u.g.a_bytes == 1 && op->u.g.b_bytes == 1 && op->u.g.c_bytes == 2);
        int cast = prev && strcmp(prev->name, "cast_input") == 0;
        assert_int_equal(cast, cs[i].cast_before_out);
        if (cast) assert_true(prev->u.s.bytes == 4 * 2048 * (2.0 + 2.0 * 1)); /* 4096 / tp values a token */
        seen_out = 1;
      }
      prev = op;
    }
    assert_true(seen_attn && seen_ar && seen_out && seen_norm);
    ar_free(&a);
    sl_scenario_free(sc);
  }
  /* an op keeps its operands' format: an fp8 product is fp8 in and out */
  sl_scenario *sc =
      load("{chip: h100-sxm, task: infer, precision: fp8, model: {op: gemm, m: 64, n: 4096, k: 4096}}");
  assert_int_equal(sc->a_dtype, SL_FP8);
  sl_scenario_free(sc);
}

/* The routing kernels of a mixture-of-experts layer (graph.c moe_route), by hand: T tokens on the
 * chip, E experts, top k, hidden h, 2-byte activations.  Training: the top-k reads E fp32 logits a
 * token and writes k probabilities and indices; the permutation reads each row once and writes k
 * copies; with experts on two ranks and several here, the received rows are sorted by expert and back
 * (each a read and a write of the k copies); the unpermutation reads the k copies and writes one
 * row.  Inference has the top-k and the weighted sum only. */
static void moe_ops(const char *text, double *topk, double *permute, double *sort, double *unpermute) {
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  const char *names[] = {"moe_topk", "moe_permute", "moe_sort_chunks", "moe_unpermute"};
  double *out[] = {topk, permute, sort, unpermute};
  for (int j = 0; j < 4; j++) {
    *out[j] = -1; /* absent */
    for (size_t i = 0; i < r->n_rows; i++)
      if (strcmp(r->rows[i].name, names[j]) == 0) *out[j] = r->rows[i].bytes / r->rows[i].count;
  }
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_moe_routing_kernels(void **state) {
  (void)state;
  const double T = 2 * 128, E = 8, k = 2, h = 256;
  const char *model = "{transformer: {hidden: 256, layers: 2, heads: 4, kv_heads: 4, ffn: 512, vocab: 1000,"
                      " activation: swiglu, norm: rmsnorm, position: rope, tied_embeddings: false,"
                      " experts: 8, experts_per_token: 2}}";
  char t[800];
  double topk, permute, sort, unpermute;
  snprintf(t, sizeof t,
           "{chip: h100-sxm, system: {chips: 2, node_chips: 8}, model: %s, task: train, precision: bf16,"
           " train: {seq_len: 128, global_batch: 4, micro_batch: 2}, parallel: {dp: 2, ep: 2}}",
           model);
  moe_ops(t, &topk, &permute, &sort, &unpermute);
  assert_rel(topk, T * E * 4 + T * k * 8, 1e-12, "top-k");
  assert_rel(permute, T * h * 2 + T * k * h * 2, 1e-12, "permute");
  assert_rel(sort, 2 * T * k * h * 2, 1e-12, "sort by local expert");
  assert_rel(unpermute, T * k * h * 2 + T * h * 2, 1e-12, "unpermute");
  snprintf(t, sizeof t,
           "{chip: h100-sxm, model: %s, task: train, precision: bf16,"
           " train: {seq_len: 128, global_batch: 2, micro_batch: 2}}",
           model);
  moe_ops(t, &topk, &permute, &sort, &unpermute);
  assert_true(permute > 0 && sort < 0); /* one rank: the permutation groups by expert already */
  snprintf(t, sizeof t, "{chip: h100-sxm, model: %s, task: prefill, infer: {batch: 2, prompt_len: 128}}",
           model);
  moe_ops(t, &topk, &permute, &sort, &unpermute);
  assert_rel(topk, T * E * 4 + T * k * 8, 1e-12, "top-k (inference)");
  assert_true(permute < 0 && sort < 0); /* gathered inside the grouped GEMM */
  assert_rel(unpermute, T * k * h * 2 + T * h * 2, 1e-12, "weighted sum (inference)");
}

/* generate = prefill + (gen_len - 1) decode steps; TTFT is the prefill.  The TDP cap acts on the
 * whole run's average (one limiter, docs/energy-cost.md 2.20): the prefill alone passes the TDP at
 * the top clock, within the generation it is averaged with the decodes, which stay under it. */
static void test_generate(void **state) {
  (void)state;
  sl_scenario *g =
      load("{chip: h100-sxm, model: llama3.1-8b, task: generate, infer: {batch: 2, prompt_len: 512,"
           " gen_len: 129}}");
  sl_scenario *p =
      load("{chip: h100-sxm, model: llama3.1-8b, task: prefill, infer: {batch: 2, prompt_len: 512}}");
  sl_scenario *d =
      load("{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 2, prompt_len: 575}}");
  sl_result *rg = run(g), *rp = run(p), *rd = run(d);
  assert_true(sl_result_number(rp, "energy.clock_ratio") < 1);
  assert_true(sl_result_number(rg, "energy.clock_ratio") == 1); /* the generation under the cap */
  /* its prefill: the prefill step at the top clock */
  assert_true(fabs(sl_result_number(rg, "ttft_s") / rp->power.uncapped_step_time_s - 1) < 1e-9);
  assert_true(fabs(sl_result_number(rg, "tpot_s") / sl_result_number(rd, "step_time_s") - 1) < 0.01);
  double total = sl_result_number(rg, "step_time_s");
  assert_true(fabs(sl_result_number(rg, "tokens_per_s") - 2 * 129 / total) < 1e-6);
  sl_result_free(rg);
  sl_result_free(rp);
  sl_result_free(rd);
  sl_scenario_free(g);
  sl_scenario_free(p);
  sl_scenario_free(d);
}

static void test_infeasible(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, model: llama3.1-405b, task: decode}");
  sl_result *r = run(sc);
  assert_false(sl_result_feasible(r));
  assert_non_null(strstr(sl_result_reason(r), "does not fit"));
  assert_true(isnan(sl_result_number(r, "step_time_s")));
  assert_true(sl_result_number(r, "memory.per_chip_bytes") > 8e11);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Training on one chip: MFU in a plausible band, recompute raises HFU over MFU, memory split. */
static void test_train_single_chip(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, model: llama3.2-1b, task: train, train: {seq_len: 2048, global_batch: 8,"
           " micro_batch: 2, recompute: full}}");
  sl_result *r = run(sc);
  double mfu = sl_result_number(r, "mfu"), hfu = sl_result_number(r, "hfu");
  assert_true(mfu > 0.2 && mfu < 0.8);
  assert_true(hfu > mfu * 1.2);
  double params = model_params(&sc->model);
  assert_true(fabs(sl_result_number(r, "memory.optimizer_bytes") - 12 * params) < 1);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* MFU divides by the dense peak of the format the matrix products run in (formats.md): an fp8
 * training run (products in fp8, the rest bf16) and an fp4 decode (products in fp4, activations
 * bf16 between kernels) against their own peaks, so MFU x peak is the achieved FLOP rate. */
static void test_mfu_peak_of_product_format(void **state) {
  (void)state;
  const char *src[] = {
      "{chip: h100-sxm, model: llama3.2-1b, precision: fp8, task: train, train: {seq_len: 2048,"
      " global_batch: 8, micro_batch: 2, recompute: none}}",
      "{chip: b200, model: llama3.1-8b, precision: {weights: fp4, activations: fp4, kv: fp8},"
      " task: decode, infer: {batch: 512, prompt_len: 1024}}"};
  const sl_dtype fmt[] = {SL_FP8, SL_FP4};
  for (int i = 0; i < 2; i++) {
    sl_scenario *sc = load(src[i]);
    sl_result *r = run(sc);
    double mfu = sl_result_number(r, "mfu"), rate = sl_result_number(r, "flops_per_chip_per_s");
    double peak = chip_peak_flops(&sc->chip, fmt[i]);
    assert_true(mfu > 0 && mfu < 1);
    assert_true(fabs(mfu * peak - rate) < 1e-9 * rate);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

/* Weight gradients accumulate over the micro-batches in fp32: inside the weight-gradient GEMM when
 * the stack fuses it, else by an add kernel per weight and micro-batch that reads the gradient (in
 * the weights' format) and reads and writes the fp32 buffer; under ZeRO 2-3 on the chip's shard. */
#define ACCUM_FMT                                                                                            \
  "{chip: a100-sxm-80gb, precision: bf16, system: {chips: %d, node_chips: 8},"                               \
  " stack: {attention: flash2, fused_elementwise: true, kernel_overhead_s: 0, grad_accum_fusion: %s},"       \
  " model: {transformer: {hidden: 1024, layers: 4, heads: 8, ffn: 4096, vocab: 8000, activation: swiglu,"    \
  " norm: rmsnorm, position: rope, tied_embeddings: false}}, task: train,"                                   \
  " train: {seq_len: 1024, global_batch: 16, micro_batch: 2, recompute: none}, parallel: {dp: %d, zero: "    \
  "%d}}"
static double accum_bytes(const sl_result *r) {
  double b = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i].name, "grad_accum") == 0) b += r->rows[i].bytes;
  return b;
}
static void test_grad_accum(void **state) {
  (void)state;
  char text[800];
  snprintf(text, sizeof text, ACCUM_FMT, 1, "false", 1, 0);
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  const sl_transformer *t = &sc->model.tf;
  double weights = (double)t->layers * tf_layer_matmul_params(t, 0) + (double)t->vocab * (double)t->hidden;
  double m = 16 / 2; /* micro-batches per step on one chip */
  assert_true(fabs(accum_bytes(r) / (m * weights * (2.0 + 8.0)) - 1) < 1e-9);
  double unfused = sl_result_number(r, "step_time_s");
  sl_result_free(r);
  sl_scenario_free(sc);
  snprintf(text, sizeof text, ACCUM_FMT, 1, "true", 1, 0);
  sc = load(text);
  r = run(sc);
  assert_true(accum_bytes(r) == 0);
  assert_true(sl_result_number(r, "step_time_s") < unfused);
  sl_result_free(r);
  sl_scenario_free(sc);
  /* ZeRO-2 over 2 ranks: each accumulates its half, over its 4 micro-batches */
  snprintf(text, sizeof text, ACCUM_FMT, 2, "false", 2, 2);
  sc = load(text);
  r = run(sc);
  assert_true(fabs(accum_bytes(r) / (4 * weights / 2 * (2.0 + 8.0)) - 1) < 1e-9);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* RoPE in training: one kernel over the query and key values when the stack fuses element-wise
 * work (2 passes), else eager PyTorch's rotate_half form, 5 kernels per tensor and 10 passes (the
 * backward 4 kernels and 8 passes). */
#define ROPE_FMT                                                                                             \
  "{chip: a100-sxm-80gb, precision: bf16, stack: {attention: flash2, fused_elementwise: %s,"                 \
  " kernel_overhead_s: 0}, model: {transformer: {hidden: 1024, layers: 4, heads: 8, kv_heads: 2,"            \
  " ffn: 4096, vocab: 8000, activation: swiglu, norm: rmsnorm, position: rope}}, task: train,"               \
  " train: {seq_len: 1024, global_batch: 4, micro_batch: 2, recompute: none}}"
static void rope_rows(const sl_result *r, const char *name, double *bytes, double *count) {
  *bytes = *count = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i].name, name) == 0) *bytes += r->rows[i].bytes, *count += r->rows[i].count;
}
static void test_rope_kernels(void **state) {
  (void)state;
  const char *fused[] = {"true", "false"};
  double passes[2][2] = {{2, 2}, {10, 8}}, kernels[2][2] = {{1, 1}, {10, 8}};
  for (int f = 0; f < 2; f++) {
    char text[800];
    snprintf(text, sizeof text, ROPE_FMT, fused[f]);
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    const sl_transformer *t = &sc->model.tf;
    double n = 2.0 * 1024 * (double)(t->heads + t->kv_heads) * (double)t->head_dim; /* per micro-batch */
    double steps = (double)t->layers * 2; /* layers x micro-batches */
    double b, c;
    rope_rows(r, "rope", &b, &c);
    assert_true(fabs(b / (steps * passes[f][0] * n * 2.0) - 1) < 1e-9);
    assert_true(fabs(c / (steps * kernels[f][0]) - 1) < 1e-9);
    rope_rows(r, "rope.bwd", &b, &c);
    assert_true(fabs(b / (steps * passes[f][1] * n * 2.0) - 1) < 1e-9);
    assert_true(fabs(c / (steps * kernels[f][1]) - 1) < 1e-9);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

/* The cross-entropy over the vocabulary: fused, the forward reads the logits once (and writes a
 * log-sum-exp per token) and the backward reads them and writes their gradient; unfused (PyTorch
 * ops over fp32 logits), 6 kernels and ab + 36 bytes a logit forward, 2 kernels and ab + 12 back. */
static void test_cross_entropy(void **state) {
  (void)state;
  for (int f = 0; f < 2; f++) {
    char text[800];
    snprintf(text, sizeof text, ROPE_FMT, f ? "false" : "true");
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    double T = 2.0 * 1024, V = (double)sc->model.tf.vocab, m = 2;
    double b, c;
    rope_rows(r, "loss", &b, &c);
    double want = f ? T * V * (2.0 + 36.0) : T * V * 2.0 + T * 4.0;
    assert_true(fabs(b / (m * want) - 1) < 1e-9);
    assert_true(fabs(c / (m * (f ? 6 : 1)) - 1) < 1e-9);
    rope_rows(r, "loss.bwd", &b, &c);
    want = f ? T * V * (12.0 + 2.0) : 2.0 * T * V * 2.0;
    assert_true(fabs(b / (m * want) - 1) < 1e-9);
    assert_true(fabs(c / (m * (f ? 2 : 1)) - 1) < 1e-9);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  /* the default follows fused_elementwise; the key overrides it */
  sl_scenario *sc =
      load("{chip: a100-sxm-80gb, stack: {attention: flash2, fused_elementwise: true,"
           " kernel_overhead_s: 0, fused_cross_entropy: false}, model: llama3.2-1b, task: train,"
           " train: {seq_len: 1024, global_batch: 2, micro_batch: 1}}");
  assert_false(sc->stack.fused_cross_entropy);
  sl_scenario_free(sc);
}

/* GELU in the GEMM epilogue (stack gelu_epilogue: cuBLASLt GELU_AUX_BIAS forward, DGELU_BGRAD in the
 * data gradient of mlp_down): no gelu kernels; in training mlp_fc1 writes the pre-activation beside
 * its output and mlp_down.dgrad reads it, T f bytes each; products of a byte keep the kernels.  And
 * train.loss_positions: the LM head and the loss over that share of the positions. */
#define GELU_FMT                                                                                             \
  "{chip: h100-sxm, precision: %s, stack: {attention: flash2, fused_elementwise: true,"                      \
  " kernel_overhead_s: 0, gelu_epilogue: %s}, model: {transformer: {hidden: 1024, layers: 4, heads: 8,"      \
  " kv_heads: 8, ffn: 4096, vocab: 8000, activation: gelu, norm: layernorm, position: learned}},"            \
  " task: train,"                                                                                            \
  " train: {seq_len: 1024, global_batch: 4, micro_batch: 2, recompute: none%s}}"
static void test_gelu_epilogue_and_loss_positions(void **state) {
  (void)state;
  char text[900];
  double b[2][4], c[2][4];
  for (int e = 0; e < 2; e++) {
    snprintf(text, sizeof text, GELU_FMT, "bf16", e ? "true" : "false", "");
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    rope_rows(r, "gelu", &b[e][0], &c[e][0]);
    rope_rows(r, "gelu.bwd", &b[e][1], &c[e][1]);
    rope_rows(r, "mlp_fc1", &b[e][2], &c[e][2]);
    rope_rows(r, "mlp_down.dgrad", &b[e][3], &c[e][3]);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  assert_true(c[0][0] > 0 && c[0][1] > 0);
  assert_true(c[1][0] == 0 && c[1][1] == 0);
  double Tf = 2.0 * 1024 * 4096 * 2.0; /* a micro-batch's pre-activation, bf16 */
  assert_true(fabs((b[1][2] - b[0][2]) / (c[1][2] * Tf) - 1) < 1e-9);
  assert_true(fabs((b[1][3] - b[0][3]) / (c[1][3] * Tf) - 1) < 1e-9);
  /* fp8 products: Transformer Engine's GELU is a kernel of its own (it writes the fp8 copy) */
  snprintf(text, sizeof text, GELU_FMT, "fp8", "true", "");
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  double gb, gc;
  rope_rows(r, "gelu", &gb, &gc);
  assert_true(gc > 0);
  sl_result_free(r);
  sl_scenario_free(sc);
  /* loss_positions 0.15: the head's products and the loss over 15% of the positions */
  double fl[2], lb[2], mem[2];
  for (int l = 0; l < 2; l++) {
    snprintf(text, sizeof text, GELU_FMT, "bf16", "false", l ? ", loss_positions: 0.15" : "");
    sc = load(text);
    r = run(sc);
    double x;
    fl[l] = 0;
    for (size_t i = 0; i < r->n_rows; i++)
      if (strncmp(r->rows[i].name, "lm_head", 7) == 0) fl[l] += r->rows[i].flops;
    rope_rows(r, "loss", &lb[l], &x);
    mem[l] = sl_result_number(r, "memory.activations_bytes");
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  assert_true(fabs(fl[1] / fl[0] - 0.15) < 1e-9);
  assert_true(fabs(lb[1] / lb[0] - 0.15) < 1e-9);
  assert_true(mem[1] < mem[0]);
  sl_scenario *bad = NULL;
  sl_error err;
  snprintf(text, sizeof text, GELU_FMT, "bf16", "false", ", loss_positions: 0");
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &bad, &err), SL_ERR_INPUT);
  assert_string_equal(err.key, "train.loss_positions");
}
#undef GELU_FMT

/* fused_add_norm (vLLM's fused_add_rms_norm) in inference: no residual kernels, each RMSNorm reads
 * the residual too and writes the sum (4 passes over T x h instead of 2); a LayerNorm model and
 * training keep the residual kernels. */
#define ADDNORM_FMT                                                                                          \
  "{chip: h100-sxm, precision: bf16, stack: {attention: fused, fused_elementwise: true,"                     \
  " kernel_overhead_s: 0, fused_add_norm: %s}, model: {transformer: {hidden: 1024, layers: 4, heads: 8,"     \
  " kv_heads: 8, ffn: 4096, vocab: 8000, activation: swiglu, norm: %s, position: rope}}, task: decode,"      \
  " infer: {batch: 8, prompt_len: 512}}"
static void test_fused_add_norm(void **state) {
  (void)state;
  char text[900];
  double rb[2][2], rc[2][2], nb[2][2], ncount[2][2];
  const char *norms[] = {"rmsnorm", "layernorm"};
  for (int k = 0; k < 2; k++)
    for (int f = 0; f < 2; f++) {
      snprintf(text, sizeof text, ADDNORM_FMT, f ? "true" : "false", norms[k]);
      sl_scenario *sc = load(text);
      sl_result *r = run(sc);
      rope_rows(r, "residual_attn", &rb[k][f], &rc[k][f]);
      rope_rows(r, "norm_mlp", &nb[k][f], &ncount[k][f]);
      sl_result_free(r);
      sl_scenario_free(sc);
    }
  assert_true(rc[0][0] > 0 && rc[0][1] == 0);          /* RMSNorm: the residual kernel is gone */
  assert_true(fabs(nb[0][1] / nb[0][0] - 2.0) < 1e-9); /* and the norm moves twice the bytes */
  assert_true(rc[1][1] > 0 && fabs(nb[1][1] / nb[1][0] - 1) < 1e-9); /* LayerNorm: unchanged */
}
#undef ADDNORM_FMT

/* qk_norm (Qwen3's per-head RMSNorm of the queries and keys): two kernels a layer reading and writing
 * T·(qd + kvd) values, four passes in the backward; none without the key. */
#define QKNORM_FMT                                                                                           \
  "{chip: h100-sxm, precision: bf16, stack: {attention: fused, fused_elementwise: true,"                     \
  " kernel_overhead_s: 0}, model: {transformer: {hidden: 1024, layers: 3, heads: 16, kv_heads: 4,"           \
  " head_dim: 128, ffn: 4096, vocab: 8000, activation: swiglu, norm: rmsnorm, position: rope%s}},"           \
  " task: train, train: {seq_len: 512, global_batch: 2, micro_batch: 1}}"
static void test_qk_norm(void **state) {
  (void)state;
  char text[900];
  double fb[2], fc[2], bb[2], bc[2];
  for (int q = 0; q < 2; q++) {
    snprintf(text, sizeof text, QKNORM_FMT, q ? ", qk_norm: true" : "");
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    rope_rows(r, "qk_norm", &fb[q], &fc[q]);
    rope_rows(r, "qk_norm.bwd", &bb[q], &bc[q]);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  assert_true(fc[0] == 0 && bc[0] == 0);
  double steps = 3.0 * 2, n = 512.0 * (16 + 4) * 128; /* layers x micro-batches; values a pass */
  assert_rel(fc[1], 2 * steps, 1e-12, "two forward kernels a layer");
  assert_rel(bc[1], 2 * steps, 1e-12, "two backward kernels a layer");
  assert_rel(fb[1], steps * 2.0 * n * 2, 1e-12, "forward: read and write q and k");
  assert_rel(bb[1], steps * 4.0 * n * 2, 1e-12, "backward: four passes");
}
#undef QKNORM_FMT

/* The sampler (stack sampler: torch, docs/model.md "Sampling"): the ops a decode step of B sequences
 * adds, their bytes by hand from the kernel-by-kernel counts (greedy: cast and argmax; random: six
 * kernels over fp32 copies; top-p: the full sort's fifteen kernels before them), the logits'
 * all-gather under tensor parallelism, and none with the default sampler or in training. */
#define SAMPLE_FMT                                                                                           \
  "{chip: h100-sxm, system: {chips: %d, node_chips: 8}, parallel: {tp: %d}, precision: bf16,"                \
  " stack: {attention: fused, fused_elementwise: true, kernel_overhead_s: 0, sampler: %s},"                  \
  " model: {transformer: {hidden: 1024, layers: 2, heads: 8, kv_heads: 8, ffn: 4096, vocab: 32000,"          \
  " activation: swiglu, norm: rmsnorm, position: rope}}, task: decode, infer: {batch: 64, prompt_len: "      \
  "512}%s}"
static void sample_ops(const char *sampler, int tp, const char *sampling, double *filter, double *draw,
                       double *kernels, double *gather) {
  char text[900];
  snprintf(text, sizeof text, SAMPLE_FMT, tp, tp, sampler, sampling);
  sl_scenario *sc = load(text);
  arena a;
  sl_graph g = built_graph(sc, &a);
  *filter = *draw = *kernels = *gather = 0;
  for (size_t k = 0; k < g.n; k++) {
    const sl_op *op = &g.ops[k];
    if (strcmp(op->name, "sample_filter") == 0) *filter += op->u.s.bytes * op->count, *kernels += op->count;
    if (strcmp(op->name, "sample") == 0) *draw += op->u.s.bytes * op->count, *kernels += op->count;
    if (strcmp(op->name, "tp_allgather_logits") == 0) *gather += op->u.c.bytes * op->count;
  }
  ar_free(&a);
  sl_scenario_free(sc);
}
static void test_sampler(void **state) {
  (void)state;
  double n = 64.0 * 32000, f, d, k, gth;
  sample_ops("torch", 1, "", &f, &d, &k, &gth); /* default: greedy */
  assert_true(f == 0 && gth == 0 && k == 2);
  assert_rel(d, n * (2 + 4 + 4), 1e-12, "greedy: cast to fp32, argmax");
  sample_ops("torch", 1, ", sampling: {temperature: 0.8}", &f, &d, &k, &gth);
  assert_true(f == 0 && k == 6);
  assert_rel(d, n * (2 + 4 + 8 + 16 + 4 + 12 + 4), 1e-12,
             "random: cast, temperature, softmax, noise, div, argmax");
  sample_ops("torch", 1, ", sampling: {temperature: 0.8, top_p: 0.95}", &f, &d, &k, &gth);
  assert_true(k == 21);
  assert_rel(f, n * ((8 + 4 + 4 * 24 + 24 + 24) + 16 + 8 + 5 + 9 + 16), 1e-12,
             "top-p: sort, softmax, cumsum, mask, scatter");
  sample_ops("torch", 1, ", sampling: {temperature: 0, top_p: 0.95}", &f, &d, &k, &gth);
  assert_true(f == 0 && k == 2); /* greedy ignores top_p, as vLLM does */
  sample_ops("torch", 4, ", sampling: {temperature: 1, top_k: 50}", &f, &d, &k, &gth);
  assert_true(f > 0);
  assert_rel(gth, n * 2, 1e-12, "the whole bf16 logits gathered on every rank");
  sample_ops("none", 4, ", sampling: {temperature: 1, top_p: 0.9}", &f, &d, &k, &gth);
  assert_true(f == 0 && d == 0 && k == 0 && gth == 0);
  sl_scenario *bad = NULL;
  sl_error err;
  char text[900];
  snprintf(text, sizeof text, SAMPLE_FMT, 1, 1, "torch", ", sampling: {top_p: 0}");
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &bad, &err), SL_ERR_INPUT);
  assert_string_equal(err.key, "sampling.top_p");
  snprintf(text, sizeof text, SAMPLE_FMT, 1, 1, "torch", ", sampling: {top_k: 2.5}");
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &bad, &err), SL_ERR_INPUT);
  snprintf(text, sizeof text, SAMPLE_FMT, 1, 1, "flashinfer", "");
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &bad, &err), SL_ERR_INPUT);
  assert_string_equal(err.key, "stack.sampler");
}
#undef SAMPLE_FMT

/* precision.quantized: ffn and unquantized_layers (Meta's FP8 Llama 3.1 checkpoints): the
 * feed-forward products of the middle layers in the weights' and products' formats, everything
 * else (attention projections, embedding, LM head, the first and last layers whole) in the
 * activations'.  Weight bytes by hand from the parameter counts; the graph's GEMM formats by name
 * and count; the errors a scenario gets when the keys cannot apply. */
static void test_partial_quantization(void **state) {
  (void)state;
#define QBASE                                                                                                \
  "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, parallel: {tp: 8}, stack: vllm,"                      \
  " model: llama3.1-405b, task: decode, infer: {batch: 16, prompt_len: 1000, gen_len: 1},"                   \
  " precision: {weights: fp8, gemm: fp8, activations: bf16%s}}"
  char t[512];
  snprintf(t, sizeof t, QBASE, ", quantized: ffn, unquantized_layers: {first: 1, last: 1}");
  sl_scenario *sc = load(t);
  const sl_transformer *tf = &sc->model.tf;
  double L = (double)tf->layers, h = (double)tf->hidden, f = (double)tf->ffn;
  double ffn = 3.0 * h * f, all = model_params(&sc->model);
  assert_true(sc->quant_ffn && sc->unquant_first == 1 && sc->unquant_last == 1);
  /* 124 layers' FFN at 1 byte, the rest at 2 */
  assert_rel(model_weight_bytes(sc), (L - 2) * ffn * 1.0 + (all - (L - 2) * ffn) * 2.0, 1e-12,
             "weight bytes");
  double ed = -1, em = -1;
  tf_unquantized_layers(sc, &ed, &em);
  assert_true(ed == 2 && em == 0);
  arena a;
  sl_graph g = built_graph(sc, &a);
  int seen[4] = {0};
  for (size_t k = 0; k < g.n; k++) {
    const sl_op *op = &g.ops[k];
    if (op->kernel != SL_K_GEMM) continue;
    int ffn_op = strncmp(op->name, "mlp_", 4) == 0, middle = op->count == L - 2;
    sl_dtype want = ffn_op && middle ? SL_FP8 : SL_BF16;
    assert_int_equal(op->u.g.dt, want);
    assert_true(op->u.g.b_bytes == (want == SL_FP8 ? 1 : 2));
    seen[2 * ffn_op + middle] = 1;
    if (strcmp(op->name, "lm_head") == 0) assert_true(op->u.g.dt == SL_BF16);
  }
  assert_true(seen[0] && seen[1] && seen[2] && seen[3]); /* attention and FFN, edge and middle layers */
  ar_free(&a);
  sl_result *r = run(sc);
  snprintf(t, sizeof t, QBASE, "");
#undef QBASE
  sl_scenario *whole = load(t);
  sl_result *rw = run(whole);
  /* the bf16 attention projections stream twice the bytes: a slower decode step, more memory */
  assert_true(r->step_time_s > rw->step_time_s && r->mem.weights_bytes > rw->mem.weights_bytes);
  assert_rel(r->mem.weights_bytes, model_weight_bytes(sc) / 8, 1e-12, "weights per chip");
  assert_rel(rw->mem.weights_bytes, model_params(&whole->model) / 8, 1e-12, "all at 1 byte");
  sl_result_free(r);
  sl_result_free(rw);
  sl_scenario_free(whole);
  sl_scenario_free(sc);
  /* Where the keys cannot apply: a one-line error naming the key. */
  static const struct {
    const char *text, *key;
  } bad[] = {
      {"{chip: h100-sxm, model: llama3.1-8b, task: train, precision: {weights: fp8, quantized: ffn},"
       " train: {seq_len: 1024, global_batch: 8}}",
       "precision.quantized"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: {weights: fp8, unquantized_layers:"
       " {first: 20, last: 20}}}",
       "precision.unquantized_layers"},
      {"{chip: h100-sxm, model: {op: gemm, m: 64, n: 64, k: 64}, task: infer, precision: {weights: fp8,"
       " quantized: ffn}}",
       "precision.quantized"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: {weights: fp8, quantized: attention}}",
       "precision.quantized"},
      {"{chip: h100-sxm, model: llama3.1-8b, task: decode, precision: {weights: fp8, unquantized_layers:"
       " {first: 1, middle: 2}}}",
       "precision.unquantized_layers.middle"},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
    sl_scenario *b = NULL;
    sl_error e;
    assert_int_equal(sl_scenario_load(NULL, bad[i].text, NULL, 0, &b, &e), SL_ERR_INPUT);
    if (strcmp(e.key, bad[i].key) != 0)
      fail_msg("%s: key %s, want %s (%s)", bad[i].text, e.key, bad[i].key, e.message);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_param_counts),
      cmocka_unit_test(test_training_flops),
      cmocka_unit_test(test_kv_cache_bytes),
      cmocka_unit_test(test_decode_roofline),
      cmocka_unit_test(test_prefill_compute_bound),
      cmocka_unit_test(test_layers_costed_once),
      cmocka_unit_test(test_attention_fusion),
      cmocka_unit_test(test_generate),
      cmocka_unit_test(test_fp4_inference),
      cmocka_unit_test(test_fp8_inference),
      cmocka_unit_test(test_infeasible),
      cmocka_unit_test(test_train_single_chip),
      cmocka_unit_test(test_mfu_peak_of_product_format),
      cmocka_unit_test(test_grad_accum),
      cmocka_unit_test(test_rope_kernels),
      cmocka_unit_test(test_cross_entropy),
      cmocka_unit_test(test_gelu_epilogue_and_loss_positions),
      cmocka_unit_test(test_fused_add_norm),
      cmocka_unit_test(test_sampler),
      cmocka_unit_test(test_qk_norm),
      cmocka_unit_test(test_partial_quantization),
      cmocka_unit_test(test_moe_routing_kernels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
