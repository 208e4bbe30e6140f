/* graph.c — op graphs of one step: transformer layers (forward, backward, recompute), embedding,
 * LM head, loss, optimizer; single-op workloads.  Shapes only, no data.  Identical layers are one
 * op with count = layers.
 * Notation (comments): T tokens in the pass, h hidden, qd = heads*head_dim, kvd = kv_heads*head_dim,
 * f ffn, V vocab. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

sl_op *graph_add(arena *a, sl_graph *g) {
  if (g->n == g->cap) {
    size_t nc = g->cap ? g->cap * 2 : 64;
    sl_op *ops = ar_alloc(a, nc * sizeof *ops);
    if (!ops) return NULL;
    if (g->n) memcpy(ops, g->ops, g->n * sizeof *ops);
    g->ops = ops;
    g->cap = nc;
  }
  sl_op *op = &g->ops[g->n++];
  memset(op, 0, sizeof *op);
  return op;
}

typedef struct gb {
  arena *a;
  sl_graph *g;
  const sl_scenario *sc;
  const sl_transformer *tf;
  sl_dtype adt, wdt, cdt; /* activations, weights, matrix compute */
  double ab, wb;          /* bytes per activation / weight value */
  int fused_ew, fused_attn, train, oom;
  sl_phase phase;   /* phase of forward ops (forward, prefill, decode) */
  double count;     /* repeats applied to ops being added */
  int recompute;    /* ops being added are recomputation (HFU only) */
  const char *prefix;
} gb;

static const char *nm(gb *b, const char *name) {
  if (!b->prefix) return name;
  char buf[96];
  snprintf(buf, sizeof buf, "%s%s", b->prefix, name);
  const char *s = ar_strdup(b->a, buf);
  if (!s) b->oom = 1;
  return s ? s : name;
}

static sl_op *add(gb *b, const char *name, sl_phase ph, sl_category cat, sl_kernel k) {
  sl_op *op = graph_add(b->a, b->g);
  if (!op) {
    b->oom = 1;
    static sl_op sink;
    memset(&sink, 0, sizeof sink);
    return &sink;
  }
  op->name = nm(b, name);
  op->phase = ph;
  op->cat = cat;
  op->kernel = k;
  op->count = b->count;
  return op;
}

/* out(m x n) = A(m x k) @ W(k x n).  In training, the backward adds dgrad and wgrad. */
static void gemm(gb *b, const char *name, sl_category cat, double m, double n, double k, double batch,
                 int weight_operand) {
  sl_op *op = add(b, name, b->phase, cat, SL_K_GEMM);
  op->u.g = (sl_gemm_shape){m, n, k, batch, b->cdt, b->ab, weight_operand ? b->wb : b->ab, b->ab};
  op->model_flops = b->recompute ? 0 : 2.0 * m * n * k * batch;
}

static void stream(gb *b, const char *name, sl_phase ph, sl_category cat, double bytes, double flops) {
  sl_op *op = add(b, name, ph, cat, SL_K_STREAM);
  op->u.s.bytes = bytes;
  op->u.s.flops = flops;
  op->u.s.dt = b->adt;
}

static void backward_gemm(gb *b, const char *dname, const char *wname, double m, double n, double k, double batch,
                          int weight_operand) {
  /* dX(m x k) = dY(m x n) @ W^T;  dW(k x n) = X^T(k x m) @ dY, accumulated in fp32. */
  sl_op *d = add(b, dname, SL_PH_BACKWARD, SL_CAT_GEMM, SL_K_GEMM);
  d->u.g = (sl_gemm_shape){m, k, n, batch, b->cdt, b->ab, weight_operand ? b->wb : b->ab, b->ab};
  d->model_flops = 2.0 * m * n * k * batch;
  sl_op *w = add(b, wname, SL_PH_BACKWARD, SL_CAT_GEMM, SL_K_GEMM);
  w->u.g = (sl_gemm_shape){k, n, m, batch, b->cdt, b->ab, b->ab, weight_operand ? 8.0 : b->ab};
  w->model_flops = 2.0 * m * n * k * batch;
}

typedef struct pass {
  double B, q, kv; /* sequences, query tokens per sequence, keys per sequence */
  int causal;
} pass;

static void attention_fwd(gb *b, const pass *p) {
  const sl_transformer *t = b->tf;
  double heads = (double)t->heads, kvh = (double)t->kv_heads, hd = (double)t->head_dim;
  double kvb = sl_dtype_bytes[b->sc->kv_dtype];
  if (b->fused_attn) {
    sl_op *op = add(b, "attention", b->phase, SL_CAT_ATTENTION, SL_K_ATTN_FUSED);
    op->u.at = (sl_attn_shape){p->B, p->q, p->kv, heads, kvh, hd, p->causal, 0, b->cdt, b->train ? b->ab : kvb};
    op->model_flops = b->recompute ? 0 : 4.0 * p->B * heads * p->q * p->kv * hd;
    return;
  }
  double scores = p->B * heads * p->q * p->kv;
  sl_op *s = add(b, "attn_scores", b->phase, SL_CAT_ATTENTION, SL_K_GEMM);
  s->u.g = (sl_gemm_shape){p->q, p->kv, hd, p->B * heads, b->cdt, b->ab, b->train ? b->ab : kvb, b->ab};
  s->model_flops = b->recompute ? 0 : 2.0 * scores * hd;
  if (!b->fused_ew) stream(b, "attn_scale_mask", b->phase, SL_CAT_ATTENTION, 3.0 * scores * b->ab, 2.0 * scores);
  stream(b, "attn_softmax", b->phase, SL_CAT_ATTENTION, 2.0 * scores * b->ab, 5.0 * scores);
  if (b->train && t->dropout) stream(b, "attn_dropout", b->phase, SL_CAT_ATTENTION, scores * (2.0 * b->ab + 1), 2.0 * scores);
  sl_op *c = add(b, "attn_context", b->phase, SL_CAT_ATTENTION, SL_K_GEMM);
  c->u.g = (sl_gemm_shape){p->q, hd, p->kv, p->B * heads, b->cdt, b->ab, b->train ? b->ab : kvb, b->ab};
  c->model_flops = b->recompute ? 0 : 2.0 * scores * hd;
}

static void attention_bwd(gb *b, const pass *p) {
  const sl_transformer *t = b->tf;
  double heads = (double)t->heads, kvh = (double)t->kv_heads, hd = (double)t->head_dim;
  double full = 4.0 * p->B * heads * p->q * p->kv * hd;
  if (b->fused_attn) {
    sl_op *op = add(b, "attention.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_ATTN_FUSED);
    op->u.at = (sl_attn_shape){p->B, p->q, p->kv, heads, kvh, hd, p->causal, 1, b->cdt, b->ab};
    op->model_flops = 2.0 * full;
    return;
  }
  double scores = p->B * heads * p->q * p->kv, bh = p->B * heads;
  /* context = A @ V: dA = dO @ V^T, dV = A^T @ dO;  scores = Q @ K^T: dQ = dS @ K, dK = dS^T @ Q */
  sl_op *o;
  o = add(b, "attn_context.dgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->q, p->kv, hd, bh, b->cdt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  o = add(b, "attn_context.wgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->kv, hd, p->q, bh, b->cdt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  if (t->dropout) stream(b, "attn_dropout.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, scores * (2.0 * b->ab + 1), scores);
  stream(b, "attn_softmax.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, 3.0 * scores * b->ab, 4.0 * scores);
  o = add(b, "attn_scores.dgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->q, hd, p->kv, bh, b->cdt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  o = add(b, "attn_scores.wgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->kv, hd, p->q, bh, b->cdt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
}

static double norm_flops(const gb *b) { return b->tf->norm == SL_NORM_LAYERNORM ? 8.0 : 5.0; }

/* Element-wise chain between two matrix products: one kernel when the stack fuses, else one
 * kernel per op. */
static void residual(gb *b, const char *name, double T) {
  double h = (double)b->tf->hidden, x = T * h;
  int drop = b->train && b->tf->dropout;
  if (b->fused_ew) {
    stream(b, name, b->phase, SL_CAT_ELEMENTWISE, x * (3.0 * b->ab + (drop ? 1 : 0)), (drop ? 3.0 : 1.0) * x);
  } else {
    if (drop) stream(b, "dropout", b->phase, SL_CAT_ELEMENTWISE, x * (2.0 * b->ab + 1), 2.0 * x);
    stream(b, name, b->phase, SL_CAT_ELEMENTWISE, 3.0 * x * b->ab, x);
  }
}

static void mlp_fwd(gb *b, double T, double f, double batch) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, tf_ = T * f * batch;
  if (t->activation == SL_ACT_SWIGLU) {
    if (b->fused_ew) {
      gemm(b, "mlp_gate_up", SL_CAT_GEMM, T, 2 * f, h, batch, 1);
      stream(b, "swiglu", b->phase, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, 6.0 * tf_);
    } else {
      gemm(b, "mlp_gate", SL_CAT_GEMM, T, f, h, batch, 1);
      gemm(b, "mlp_up", SL_CAT_GEMM, T, f, h, batch, 1);
      stream(b, "silu", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, 5.0 * tf_);
      stream(b, "mul", b->phase, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, tf_);
    }
  } else {
    gemm(b, "mlp_fc1", SL_CAT_GEMM, T, f, h, batch, 1);
    if (!b->fused_ew) stream(b, "bias", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, tf_);
    stream(b, "gelu", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, 8.0 * tf_);
  }
  gemm(b, "mlp_down", SL_CAT_GEMM, T, h, f, batch, 1);
}

static void mlp_bwd(gb *b, double T, double f, double batch) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, tf_ = T * f * batch;
  backward_gemm(b, "mlp_down.dgrad", "mlp_down.wgrad", T, h, f, batch, 1);
  if (t->activation == SL_ACT_SWIGLU) {
    stream(b, "swiglu.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 5.0 * tf_ * b->ab, 10.0 * tf_);
    backward_gemm(b, "mlp_gate_up.dgrad", "mlp_gate_up.wgrad", T, 2 * f, h, batch, 1);
  } else {
    stream(b, "gelu.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, 12.0 * tf_);
    backward_gemm(b, "mlp_fc1.dgrad", "mlp_fc1.wgrad", T, f, h, batch, 1);
  }
}

/* Forward of one layer over pass p (T = B*q tokens).  moe: this layer's FFN is a mixture. */
static void layer_fwd(gb *b, const pass *p, int moe, int attention_only_recompute) {
  const sl_transformer *t = b->tf;
  double T = p->B * p->q, h = (double)t->hidden;
  double qd = (double)(t->heads * t->head_dim), kvd = (double)(t->kv_heads * t->head_dim);
  double nf = norm_flops(b);
  if (attention_only_recompute) { /* selective recompute: the attention core only */
    attention_fwd(b, p);
    return;
  }
  stream(b, "norm_attn", b->phase, SL_CAT_NORM, 2.0 * T * h * b->ab, nf * T * h);
  gemm(b, "qkv", SL_CAT_GEMM, T, qd + 2 * kvd, h, 1, 1);
  if (t->position == SL_POS_ROPE && !b->fused_ew)
    stream(b, "rope", b->phase, SL_CAT_ELEMENTWISE, 2.0 * T * (qd + kvd) * b->ab, 6.0 * T * (qd + kvd));
  if (!b->train && !b->fused_attn) /* KV cache append as a separate copy */
    stream(b, "kv_cache_write", b->phase, SL_CAT_ELEMENTWISE, 4.0 * T * kvd * sl_dtype_bytes[b->sc->kv_dtype], 0);
  attention_fwd(b, p);
  gemm(b, "attn_out", SL_CAT_GEMM, T, h, qd, 1, 1);
  residual(b, "residual_attn", T);
  stream(b, "norm_mlp", b->phase, SL_CAT_NORM, 2.0 * T * h * b->ab, nf * T * h);
  if (moe) {
    double E = (double)t->experts, k = (double)t->experts_per_token;
    gemm(b, "router", SL_CAT_GEMM, T, E, h, 1, 1);
    double per_expert = ceil(T * k / E);
    mlp_fwd(b, per_expert, (double)t->ffn, E);
    if (t->shared_experts > 0) mlp_fwd(b, T, (double)(t->ffn * t->shared_experts), 1);
  } else {
    mlp_fwd(b, T, (double)t->ffn, 1);
  }
  residual(b, "residual_mlp", T);
}

static void layer_bwd(gb *b, const pass *p, int moe) {
  const sl_transformer *t = b->tf;
  double T = p->B * p->q, h = (double)t->hidden;
  double qd = (double)(t->heads * t->head_dim), kvd = (double)(t->kv_heads * t->head_dim);
  double nf = norm_flops(b);
  if (t->dropout) stream(b, "dropout.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * T * h * (2.0 * b->ab + 0.5), 2.0 * T * h);
  if (moe) {
    double E = (double)t->experts, k = (double)t->experts_per_token;
    if (t->shared_experts > 0) mlp_bwd(b, T, (double)(t->ffn * t->shared_experts), 1);
    mlp_bwd(b, ceil(T * k / E), (double)t->ffn, E);
    backward_gemm(b, "router.dgrad", "router.wgrad", T, E, h, 1, 1);
  } else {
    mlp_bwd(b, T, (double)t->ffn, 1);
  }
  stream(b, "norm_mlp.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * T * h * b->ab, 2.0 * nf * T * h);
  backward_gemm(b, "attn_out.dgrad", "attn_out.wgrad", T, h, qd, 1, 1);
  attention_bwd(b, p);
  if (t->position == SL_POS_ROPE && !b->fused_ew)
    stream(b, "rope.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * T * (qd + kvd) * b->ab, 6.0 * T * (qd + kvd));
  backward_gemm(b, "qkv.dgrad", "qkv.wgrad", T, qd + 2 * kvd, h, 1, 1);
  stream(b, "norm_attn.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * T * h * b->ab, 2.0 * nf * T * h);
}

static void layers(gb *b, const pass *p, int backward) {
  const sl_transformer *t = b->tf;
  double L = (double)t->layers;
  double n_moe = t->experts > 0 ? floor(L / (double)t->moe_every) : 0;
  double base = b->count;
  struct {
    double n;
    int moe;
  } kinds[2] = {{L - n_moe, 0}, {n_moe, 1}};
  for (int i = 0; i < 2; i++) {
    if (kinds[i].n <= 0) continue;
    b->count = base * kinds[i].n;
    if (!backward) {
      layer_fwd(b, p, kinds[i].moe, 0);
      continue;
    }
    sl_recompute rc = b->sc->recompute;
    if (rc != SL_RECOMPUTE_NONE && !(rc == SL_RECOMPUTE_SELECTIVE && b->fused_attn)) {
      sl_phase ph = b->phase;
      b->phase = SL_PH_BACKWARD;
      b->recompute = 1;
      b->prefix = "recompute.";
      layer_fwd(b, p, kinds[i].moe, rc == SL_RECOMPUTE_SELECTIVE);
      b->prefix = NULL;
      b->recompute = 0;
      b->phase = ph;
    }
    layer_bwd(b, p, kinds[i].moe);
  }
  b->count = base;
}

static void embed(gb *b, double T) {
  const sl_transformer *t = b->tf;
  if (t->vocab == 0) return;
  double h = (double)t->hidden;
  sl_op *op = add(b, "embedding", b->phase, SL_CAT_EMBEDDING, SL_K_GATHER);
  op->u.e.lookups = T;
  op->u.e.row_bytes = h * b->wb;
  op->u.e.table_bytes = (double)t->vocab * h * b->wb;
}

/* Final norm + LM head over T_lm tokens (+ loss in training). */
static void head_fwd(gb *b, double T, double T_lm) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, V = (double)t->vocab;
  stream(b, "norm_final", b->phase, SL_CAT_NORM, 2.0 * T * h * b->ab, norm_flops(b) * T * h);
  if (t->vocab == 0) return;
  gemm(b, "lm_head", SL_CAT_GEMM, T_lm, V, h, 1, 1);
  if (b->train) /* cross-entropy: softmax over the vocabulary in fp32 */
    stream(b, "loss", b->phase, SL_CAT_ELEMENTWISE, T_lm * V * (b->ab + 4.0), 5.0 * T_lm * V);
}

static void head_bwd(gb *b, double T) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, V = (double)t->vocab;
  if (t->vocab > 0) {
    stream(b, "loss.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, T * V * (4.0 + b->ab), 3.0 * T * V);
    backward_gemm(b, "lm_head.dgrad", "lm_head.wgrad", T, V, h, 1, 1);
  }
  stream(b, "norm_final.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * T * h * b->ab, 2.0 * norm_flops(b) * T * h);
  if (t->vocab > 0) {
    sl_op *op = add(b, "embedding.bwd", SL_PH_BACKWARD, SL_CAT_EMBEDDING, SL_K_STREAM);
    op->u.s.bytes = T * h * (b->ab + 8.0); /* scatter-add into fp32 gradient rows */
    op->u.s.flops = T * h;
    op->u.s.dt = SL_FP32;
  }
}

/* Bytes per parameter touched by the optimizer step (read + write). */
static double optimizer_bytes_per_param(sl_optimizer o, double wb) {
  switch (o) {
  case SL_OPTIM_SGD: return 4.0 + 4.0 + 4.0 + wb;               /* fp32 master r/w, grad, new weights */
  case SL_OPTIM_ADAGRAD: return 4.0 * 2 + 4.0 * 2 + 4.0 + wb;   /* master, accumulator r/w, grad */
  case SL_OPTIM_ADAMW:
  default: return 4.0 * 2 * 3 + 4.0 + wb;                       /* master, m, v r/w, grad, weights */
  }
}

static sl_status build_transformer(gb *b, sl_error *err) {
  const sl_scenario *sc = b->sc;
  const sl_transformer *t = b->tf;
  switch (sc->task) {
  case SL_TASK_PREFILL: {
    pass p = {sc->batch, sc->prompt_len, sc->prompt_len, 1};
    b->phase = SL_PH_PREFILL;
    embed(b, p.B * p.q);
    layers(b, &p, 0);
    head_fwd(b, p.B * p.q, p.B);
    break;
  }
  case SL_TASK_DECODE: {
    pass p = {sc->batch, 1, sc->prompt_len + 1, 0};
    b->phase = SL_PH_DECODE;
    embed(b, p.B);
    layers(b, &p, 0);
    head_fwd(b, p.B, p.B);
    break;
  }
  case SL_TASK_GENERATE: {
    pass p = {sc->batch, sc->prompt_len, sc->prompt_len, 1};
    b->phase = SL_PH_PREFILL;
    embed(b, p.B * p.q);
    layers(b, &p, 0);
    head_fwd(b, p.B * p.q, p.B);
    /* gen_len - 1 decode steps after the first token; attention time is linear in the KV
     * length, so one step at the mean length stands for all of them. */
    if (sc->gen_len > 1) {
      pass d = {sc->batch, 1, sc->prompt_len + sc->gen_len / 2.0, 0};
      b->phase = SL_PH_DECODE;
      b->count = sc->gen_len - 1;
      embed(b, d.B);
      layers(b, &d, 0);
      head_fwd(b, d.B, d.B);
      b->count = 1;
    }
    break;
  }
  case SL_TASK_TRAIN: {
    double mb = sc->micro_batch, n_micro = ceil(sc->global_batch / mb);
    pass p = {mb, sc->seq_len, sc->seq_len, 1};
    double T = mb * sc->seq_len;
    b->train = 1;
    b->phase = SL_PH_FORWARD;
    b->count = n_micro;
    embed(b, T);
    layers(b, &p, 0);
    head_fwd(b, T, T);
    head_bwd(b, T);
    layers(b, &p, 1);
    b->count = 1;
    double params = model_params(&sc->model);
    sl_op *op = add(b, "optimizer", SL_PH_OPTIMIZER, SL_CAT_OPTIMIZER, SL_K_STREAM);
    op->u.s.bytes = params * optimizer_bytes_per_param(sc->optimizer, b->wb);
    op->u.s.flops = params * (sc->optimizer == SL_OPTIM_ADAMW ? 12.0 : 4.0);
    op->u.s.dt = SL_FP32;
    break;
  }
  default:
    return err_set(err, SL_ERR_INPUT, sc->file, 0, "task", "task %s does not apply to a transformer",
                   sl_task_names[sc->task]);
  }
  (void)t;
  return SL_OK;
}

static sl_status build_op(gb *b, sl_error *err) {
  const sl_op_spec *o = &b->sc->model.op;
  b->phase = SL_PH_FORWARD;
  switch (o->type) {
  case SL_OPT_GEMM:
    gemm(b, "gemm", SL_CAT_GEMM, o->m, o->n, o->k, o->batch, 1);
    return SL_OK;
  case SL_OPT_ATTENTION: {
    sl_transformer t2;
    memset(&t2, 0, sizeof t2);
    t2.heads = (long)o->heads, t2.kv_heads = (long)o->kv_heads, t2.head_dim = (long)o->head_dim;
    gb local = *b;
    local.tf = &t2;
    pass p = {o->batch, o->seq_len, o->seq_len, o->causal};
    attention_fwd(&local, &p);
    b->oom |= local.oom;
    return SL_OK;
  }
  case SL_OPT_EMBEDDING_BAG: {
    sl_op *op = add(b, "embedding_bag", b->phase, SL_CAT_EMBEDDING, SL_K_GATHER);
    op->u.e.lookups = o->batch * o->pooling;
    op->u.e.row_bytes = o->dim * b->wb;
    op->u.e.table_bytes = o->rows * o->dim * b->wb;
    return SL_OK;
  }
  default:
    return err_set(err, SL_ERR_UNSUPPORTED, b->sc->file, 0, "model.op", "op %s is not built yet",
                   sl_op_type_names[o->type]);
  }
}

sl_status graph_build(arena *a, const sl_scenario *sc, sl_graph *g, sl_error *err) {
  gb b = {0};
  b.a = a;
  b.g = g;
  b.sc = sc;
  b.tf = &sc->model.tf;
  b.adt = sc->a_dtype;
  b.wdt = sc->w_dtype;
  /* Weight-only quantisation (int4/fp4 weights, wider activations) computes in the activation
   * format; otherwise the narrower of the two formats the chip's matrix engine supports. */
  b.cdt = sc->a_dtype;
  if (sc->chip.mat_macs_per_cycle[b.cdt] <= 0) b.cdt = sc->w_dtype;
  b.ab = sl_dtype_bytes[sc->a_dtype];
  b.wb = sl_dtype_bytes[sc->w_dtype];
  b.fused_ew = sc->stack.fused_elementwise;
  b.count = 1;
  g->n = 0;
  sl_status s;
  if (sc->model.kind == SL_MODEL_TRANSFORMER) {
    double hd = (double)sc->model.tf.head_dim;
    b.fused_attn = sc->stack.attention_fused && attention_fits(&sc->chip, hd, b.ab);
    s = build_transformer(&b, err);
  } else if (sc->model.kind == SL_MODEL_OP) {
    b.fused_attn = sc->stack.attention_fused && attention_fits(&sc->chip, sc->model.op.head_dim, b.ab);
    s = build_op(&b, err);
  } else {
    s = err_set(err, SL_ERR_UNSUPPORTED, sc->file, 0, "model", "the DLRM model is not built yet");
  }
  if (!s && b.oom) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory building the op graph");
  return s;
}
