/* sim.c — one step of a scenario on one chip: memory footprint, per-op cost, roll-up into the
 * result (step time, throughput, latency, MFU, breakdown). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Activation bytes saved for the backward pass, per token per layer (Korthikanti et al. 2022 §4,
 * generalised to GQA, SwiGLU and fused attention; reduces to (34h + 5as) * ... for GPT in fp16). */
static double act_bytes_per_token_layer(const sl_scenario *sc, sl_recompute rc, int fused_attn) {
  const sl_transformer *t = &sc->model.tf;
  double ab = sl_dtype_bytes[sc->a_dtype], h = (double)t->hidden, s = sc->seq_len;
  double qd = (double)(t->heads * t->head_dim), kvd = (double)(t->kv_heads * t->head_dim);
  double a = (double)t->heads, f = (double)t->ffn;
  int drop = t->dropout;
  if (rc == SL_RECOMPUTE_FULL) return h * ab; /* the layer input only */
  double attn = h * ab + (qd + 2 * kvd) * ab + qd * ab + (drop ? h : 0);
  double core = 0;
  if (!fused_attn) core = a * s * (ab + (drop ? 1.0 + ab : 0));
  else core = a * 4.0; /* log-sum-exp per row, fp32 */
  if (rc == SL_RECOMPUTE_SELECTIVE && !fused_attn) core = 0;
  double mlp;
  double fk = f;
  if (t->experts > 0) fk = f * ((double)t->experts_per_token + (double)t->shared_experts);
  if (t->activation == SL_ACT_SWIGLU)
    mlp = h * ab + 3.0 * fk * ab;
  else
    mlp = h * ab + 2.0 * fk * ab + (drop ? h : 0);
  double norms = 2.0 * h * ab;
  return attn + core + mlp + norms;
}

static void memory_of(const sl_scenario *sc, int fused_attn, sl_memory *m) {
  memset(m, 0, sizeof *m);
  m->capacity_bytes = chip_dram_bytes(&sc->chip);
  double wb = sl_dtype_bytes[sc->w_dtype], ab = sl_dtype_bytes[sc->a_dtype];
  if (sc->model.kind == SL_MODEL_OP) {
    const sl_op_spec *o = &sc->model.op;
    if (o->type == SL_OPT_GEMM)
      m->activations_bytes = o->batch * (o->m * o->k + o->m * o->n) * ab, m->weights_bytes = o->batch * o->k * o->n * wb;
    else if (o->type == SL_OPT_ATTENTION)
      m->activations_bytes = o->batch * o->seq_len * o->head_dim * (2 * o->heads + 2 * o->kv_heads) * ab +
                             (fused_attn ? 0 : o->batch * o->heads * o->seq_len * o->seq_len * ab);
    else if (o->type == SL_OPT_EMBEDDING_BAG)
      m->weights_bytes = o->rows * o->dim * wb, m->activations_bytes = o->batch * o->dim * ab;
  } else {
    const sl_transformer *t = &sc->model.tf;
    double params = model_params(&sc->model), L = (double)t->layers, h = (double)t->hidden;
    double kvd = (double)(t->kv_heads * t->head_dim), V = (double)t->vocab;
    m->weights_bytes = params * wb;
    if (sc->task == SL_TASK_TRAIN) {
      double mb = sc->micro_batch > 0 ? sc->micro_batch : 1, T = mb * sc->seq_len;
      m->grads_bytes = params * 4.0; /* fp32 gradient accumulation (Megatron main_grad) */
      m->optimizer_bytes = params * (sc->optimizer == SL_OPTIM_ADAMW ? 12.0 : sc->optimizer == SL_OPTIM_ADAGRAD ? 8.0 : 4.0);
      double per_layer = act_bytes_per_token_layer(sc, sc->recompute, fused_attn) * T;
      m->activations_bytes = per_layer * L + T * V * 4.0; /* + fp32 logits for the loss */
      if (sc->recompute == SL_RECOMPUTE_FULL) /* one layer recomputed at a time */
        m->activations_bytes += act_bytes_per_token_layer(sc, SL_RECOMPUTE_NONE, fused_attn) * T;
    } else {
      double ctx = sc->prompt_len + (sc->task == SL_TASK_GENERATE ? sc->gen_len : sc->task == SL_TASK_DECODE ? 1 : 0);
      m->kv_cache_bytes = sc->batch * ctx * 2.0 * L * kvd * sl_dtype_bytes[sc->kv_dtype];
      double T = sc->batch * (sc->task == SL_TASK_DECODE ? 1 : sc->prompt_len);
      double widest = fmax((double)(t->heads * t->head_dim) + 2 * kvd, 2.0 * (double)t->ffn);
      m->activations_bytes = T * (2.0 * h + widest) * ab + sc->batch * V * 4.0;
      if (!fused_attn && sc->task != SL_TASK_DECODE)
        m->activations_bytes += sc->batch * (double)t->heads * sc->prompt_len * sc->prompt_len * ab;
    }
  }
  m->per_chip_bytes = m->weights_bytes + m->grads_bytes + m->optimizer_bytes + m->activations_bytes + m->kv_cache_bytes;
  m->fits = m->per_chip_bytes <= m->capacity_bytes;
}

static void gb_str(char *buf, size_t n, double bytes) { snprintf(buf, n, "%.2f GB", bytes / 1e9); }

/* Evaluates the graph: sums time, fills rows when `rows` is not NULL. */
static double evaluate(const sl_costctx *ctx, const sl_graph *g, sl_row *rows, double *hw_flops) {
  double total = 0, flops = 0;
  for (size_t i = 0; i < g->n; i++) {
    const sl_op *op = &g->ops[i];
    sl_cost c = cost_op(ctx, op);
    double t = c.time_s * op->count;
    total += t;
    flops += c.flops * op->count;
    if (rows) {
      sl_row *r = &rows[i];
      r->name = op->name;
      r->phase = op->phase;
      r->cat = op->cat;
      r->bound = c.bound;
      r->count = op->count;
      r->time_s = t;
      /* Useful FLOP (padding excluded), so FLOP / time reads as achieved throughput. */
      double useful = op->kernel == SL_K_GEMM ? 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch : c.flops;
      r->flops = useful * op->count;
      r->bytes = c.dram_bytes * op->count;
      r->sram_hit_rate = -1;
      if (ctx->stack->kernel_overhead_s > c.time_s - ctx->stack->kernel_overhead_s) r->bound = SL_BOUND_LATENCY;
    }
  }
  if (hw_flops) *hw_flops = flops;
  return total;
}

static double model_flops_of(const sl_graph *g, int forward_only) {
  double f = 0;
  for (size_t i = 0; i < g->n; i++)
    if (!forward_only || g->ops[i].phase != SL_PH_BACKWARD) f += g->ops[i].model_flops * g->ops[i].count;
  return f;
}

static double recompute_flops_of(const sl_graph *g) {
  double f = 0;
  for (size_t i = 0; i < g->n; i++)
    if (strncmp(g->ops[i].name, "recompute.", 10) == 0) {
      const sl_op *op = &g->ops[i];
      if (op->kernel == SL_K_GEMM) f += 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch * op->count;
      if (op->kernel == SL_K_ATTN_FUSED)
        f += 4.0 * op->u.at.batch * op->u.at.heads * op->u.at.q_len * op->u.at.kv_len * op->u.at.head_dim * op->count;
    }
  return f;
}

static int fused_attention(const sl_scenario *sc) {
  double hd = sc->model.kind == SL_MODEL_TRANSFORMER ? (double)sc->model.tf.head_dim : sc->model.op.head_dim;
  return sc->stack.attention_fused && attention_fits(&sc->chip, hd, sl_dtype_bytes[sc->a_dtype]);
}

/* One candidate (micro-batch, recompute) of a training scenario: time, or INFINITY if it does not fit. */
static double train_candidate(sl_scenario *sc, arena *scratch, sl_costctx *ctx, sl_error *err) {
  sl_memory m;
  memory_of(sc, fused_attention(sc), &m);
  if (!m.fits) return INFINITY;
  sl_graph g = {0};
  ar_reset(scratch);
  if (graph_build(scratch, sc, &g, err)) return NAN;
  return evaluate(ctx, &g, NULL, NULL);
}

sl_status sim_run(const sl_scenario *sc_in, sl_result *res, sl_error *err) {
  sl_scenario sc = *sc_in; /* a private copy: micro_batch/recompute may be searched */
  sc.a = (arena){0};
  res->task = sc.task;
  res->chips = sc.chips;
  res->par = sc.par;
  sl_costctx ctx;
  int fused = fused_attention(&sc);

  if (sc.task == SL_TASK_TRAIN && (sc.micro_batch == SL_AUTO || sc.recompute_auto)) {
    arena scratch;
    ar_init(&scratch);
    cost_ctx_init(&ctx, &sc.chip, &sc.stack, 0);
    double best = INFINITY, best_mb = 1;
    sl_recompute best_rc = sc.recompute;
    int mb_auto = sc.micro_batch == SL_AUTO, rc_auto = sc.recompute_auto;
    for (int rc = 0; rc < 3; rc++) {
      if (!rc_auto && rc != (int)sc_in->recompute) continue;
      for (double mb = 1; mb <= sc.global_batch; mb *= 2) {
        if (!mb_auto && mb != 1) break;
        sc.micro_batch = mb_auto ? mb : sc_in->micro_batch;
        sc.recompute = (sl_recompute)rc;
        double t = train_candidate(&sc, &scratch, &ctx, err);
        if (isnan(t)) {
          ar_free(&scratch);
          return err ? err->code : SL_ERR_INTERNAL;
        }
        if (t < best) best = t, best_mb = sc.micro_batch, best_rc = sc.recompute;
      }
    }
    ar_free(&scratch);
    sc.micro_batch = best_mb;
    sc.recompute = best_rc;
  }
  res->micro_batch = sc.task == SL_TASK_TRAIN ? sc.micro_batch : 0;
  res->recompute = sc.recompute;

  memory_of(&sc, fused, &res->mem);
  double l2cap = chip_l2(&sc.chip) ? chip_l2(&sc.chip)->capacity_bytes : 0;
  int resident = res->mem.per_chip_bytes <= 0.5 * l2cap;
  cost_ctx_init(&ctx, &sc.chip, &sc.stack, resident);
  if (!res->mem.fits) {
    char need[32], cap[32], w[32], o[32], act[32], kv[32];
    gb_str(need, sizeof need, res->mem.per_chip_bytes);
    gb_str(cap, sizeof cap, res->mem.capacity_bytes);
    gb_str(w, sizeof w, res->mem.weights_bytes);
    gb_str(o, sizeof o, res->mem.grads_bytes + res->mem.optimizer_bytes);
    gb_str(act, sizeof act, res->mem.activations_bytes);
    gb_str(kv, sizeof kv, res->mem.kv_cache_bytes);
    res->feasible = 0;
    snprintf(res->reason, sizeof res->reason,
             "does not fit in memory: needs %s per chip (weights %s, grads+optimizer %s, activations %s, KV cache %s) "
             "but %s has %s",
             need, w, o, act, kv, sc.chip.name, cap);
    return SL_OK;
  }

  sl_graph g = {0};
  sl_status s = graph_build(&res->a, &sc, &g, err);
  if (s) return s;
  res->rows = ar_alloc(&res->a, (g.n ? g.n : 1) * sizeof *res->rows);
  if (!res->rows) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  res->n_rows = g.n;
  double hw = 0;
  double step = evaluate(&ctx, &g, res->rows, &hw);
  res->feasible = 1;
  res->step_time_s = step;
  res->hw_flops = hw;

  double model_f = model_flops_of(&g, 0);
  res->model_flops = model_f;
  sl_dtype cdt = g.n && g.ops[0].kernel == SL_K_GEMM ? g.ops[0].u.g.dt : sc.a_dtype;
  for (size_t i = 0; i < g.n; i++)
    if (g.ops[i].kernel == SL_K_GEMM) {
      cdt = g.ops[i].u.g.dt;
      break;
    }
  double peak = chip_peak_flops(&sc.chip, cdt) * sc.chips;
  if (peak > 0 && model_f > 0) {
    res->has_mfu = 1;
    res->mfu = model_f / (step * peak);
    res->hfu = (model_f + recompute_flops_of(&g)) / (step * peak);
    res->flops_per_chip_per_s = model_f / step / sc.chips;
  }
  switch (sc.task) {
  case SL_TASK_TRAIN:
    res->has_tokens = 1;
    res->tokens_per_s = sc.global_batch * sc.seq_len / step;
    break;
  case SL_TASK_PREFILL:
    res->has_tokens = res->has_ttft = 1;
    res->tokens_per_s = sc.batch * sc.prompt_len / step;
    res->ttft_s = step;
    res->tpot_s = NAN;
    break;
  case SL_TASK_DECODE:
    res->has_tokens = res->has_ttft = 1;
    res->tokens_per_s = sc.batch / step;
    res->ttft_s = NAN;
    res->tpot_s = step;
    break;
  case SL_TASK_GENERATE: {
    double pre = 0, dec = 0;
    for (size_t i = 0; i < res->n_rows; i++) {
      if (res->rows[i].phase == SL_PH_PREFILL)
        pre += res->rows[i].time_s;
      else
        dec += res->rows[i].time_s;
    }
    res->has_tokens = res->has_ttft = 1;
    res->ttft_s = pre;
    res->tpot_s = sc.gen_len > 1 ? dec / (sc.gen_len - 1) : NAN;
    res->tokens_per_s = sc.batch * sc.gen_len / step;
    break;
  }
  case SL_TASK_INFER:
    if (sc.model.kind == SL_MODEL_OP && sc.model.op.type == SL_OPT_EMBEDDING_BAG) {
      res->has_samples = 1;
      res->samples_per_s = sc.model.op.batch / step;
    }
    break;
  default:
    break;
  }
  return SL_OK;
}
