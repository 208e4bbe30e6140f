/* graph.c — op graphs: transformer layers (forward, recompute, backward) sharded by a parallel
 * plan, with the tensor-, context- and expert-parallel communication they need; embedding, LM
 * head, loss; single-op workloads.  Shapes only, no data.  Identical layers are one op with
 * count = layers, so a 126-layer model costs the same to evaluate as a 1-layer one.
 * Megatron-LM sharding (Shoeybi et al. 2019; Korthikanti et al. 2022): QKV and the first MLP
 * matrix split by columns, the attention output and the second MLP matrix by rows, an
 * all-reduce (or, with sequence parallelism, all-gather + reduce-scatter) after each block.
 * Notation (comments): T tokens on the chip, h hidden, qd = heads*head_dim, kvd =
 * kv_heads*head_dim, f ffn, V vocab, t tensor-parallel size. */
#include "workload/workload.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double group_per_node(double n, double stride, double node) {
  double k = floor(node / stride);
  return k < 1 ? 1 : k > n ? n : k;
}

sl_plan plan_of_scenario(const sl_scenario *sc) {
  sl_plan p = {sc->par.dp,
               sc->par.tp,
               sc->par.pp,
               sc->par.cp,
               sc->par.ep,
               sc->par.vpp,
               sc->par.zero,
               sc->task == SL_TASK_TRAIN ? sc->micro_batch : sc->batch,
               sc->par.sp,
               sc->recompute,
               sc->global_batch,
               sc->stack.overlap_tp_comm,
               sc->stack.overlap_dp_comm};
  double *deg[] = {&p.dp, &p.tp, &p.pp, &p.cp, &p.ep, &p.vpp, &p.mb};
  for (size_t i = 0; i < sizeof deg / sizeof deg[0]; i++)
    if (*deg[i] <= 0) *deg[i] = 1;
  if (p.zero < 0) p.zero = 0;
  return p;
}

typedef struct gb {
  arena *a;
  sl_graph *g;
  const sl_scenario *sc;
  const sl_transformer *tf;
  sl_plan p;
  sl_dtype adt, wdt, cdt; /* activations, weights, matrix compute */
  double ab, wb;          /* bytes per activation / weight value */
  double gb;              /* bytes per value of a matrix product's inputs when they are cast (cast_inputs) */
  sl_dtype attn_dt;       /* attention's format: the activations' when the products take narrower inputs */
  int cast;               /* linear layers cast their inputs to cdt (lowering.cast_inputs) */
  int cast_fused;         /* the next product's operand cast is fused into the kernel that made it */
  double tp_k;            /* tensor-parallel ranks per scale-up domain */
  int fused_ew, fused_attn, train, oom;
  int attn_quant_out;   /* the fused attention writes the output projection's quantized input itself */
  int paged;            /* inference attention reads and writes a serving engine's paged KV cache */
  int fused_ce;         /* the loss is one fused kernel a pass (lowering) */
  int gelu_epi;         /* GELU in the GEMM epilogue (lowering) */
  int add_norm;         /* inference: each residual add is fused into the RMSNorm after it (lowering) */
  int dgrad_aux;        /* the next data-gradient GEMM also reads a saved pre-activation (its epilogue) */
  int fused_grad_accum; /* weight gradients accumulate inside their GEMMs (lowering) */
  double grad_shards;   /* ranks a weight gradient is accumulated over after its reduce-scatter (ZeRO 2-3) */
  sl_attn_kernel attn_family; /* fused attention's kernel family (lowering) */
  sl_phase phase;             /* phase of the ops being added */
  double count;               /* repeats applied to ops being added */
  int recompute;              /* ops being added are recomputation (HFU only) */
  const char *prefix;
  /* A linear layer's formats, plain (the activations') and quantized (the weights' and products'):
   * precision.quantized and unquantized_layers pick one per layer; by default every one is
   * quantized. */
  struct {
    double wb, gb;
    sl_dtype cdt;
    int cast;
  } lin[2];
  int quant_ffn; /* only the feed-forward products take the quantized formats */
  int layer_q;   /* the layers being added are quantized (not among unquantized_layers) */
} gb;

/* The formats of the linear layers added next: quantized (on) or plain. */
static void linear_formats(gb *b, int on) {
  on = on ? 1 : 0;
  b->wb = b->lin[on].wb, b->gb = b->lin[on].gb, b->cdt = b->lin[on].cdt, b->cast = b->lin[on].cast;
}

static const char *nm(gb *b, const char *name) {
  if (!b->prefix) return name;
  char buf[96];
  snprintf(buf, sizeof buf, "%s%s", b->prefix, name);
  const char *s = ar_strdup(b->a, buf);
  if (!s) b->oom = 1;
  return s ? s : name;
}

static sl_op *add(gb *b, const char *name, sl_phase ph, sl_category cat, sl_kernel k) {
  return graph_op(b->a, b->g, &b->oom, nm(b, name), ph, cat, k, b->count);
}

static void stream(gb *b, const char *name, sl_phase ph, sl_category cat, double bytes, double flops) {
  sl_op *op = add(b, name, ph, cat, SL_K_STREAM);
  op->u.s.bytes = bytes;
  op->u.s.flops = flops;
  op->u.s.dt = b->adt;
}

/* A cast of n activation values to the products' narrower format, as Transformer Engine's
 * cast-transpose: reads them, writes the cast copy and its transpose (for the other product of the
 * backward), and takes their absolute maximum for the next step's scale. */
static void cast(gb *b, const char *name, sl_phase ph, double n) {
  stream(b, name, ph, SL_CAT_ELEMENTWISE, n * (b->ab + 2.0 * b->gb), 2.0 * n);
}

/* out(m x n) = A(m x k) @ W(k x n). */
static sl_op *gemm(gb *b, const char *name, sl_category cat, double m, double n, double k, double batch,
                   int weight_operand) {
  if (b->cast && weight_operand && !b->cast_fused) cast(b, "cast_input", b->phase, m * k * batch);
  b->cast_fused = 0;
  double in = b->cast && weight_operand ? b->gb : b->ab, w = b->cast && weight_operand ? b->gb : b->wb;
  sl_op *op = add(b, name, b->phase, cat, SL_K_GEMM);
  op->u.g = (sl_gemm_shape){m, n, k, batch, b->cdt, in, weight_operand ? w : b->ab, b->ab};
  op->model_flops = b->recompute ? 0 : 2.0 * m * n * k * batch;
  return op;
}

static void coll(gb *b, const char *name, sl_phase ph, sl_coll type, double bytes, double n, double k,
                 int overlap) {
  if (n <= 1) return;
  sl_op *op = add(b, name, ph, SL_CAT_COLLECTIVE, SL_K_COLL);
  op->u.c.type = type;
  op->u.c.bytes = bytes;
  op->u.c.n = n;
  op->u.c.k = k;
  op->overlap = overlap;
}

static void backward_gemm(gb *b, const char *dname, const char *wname, double m, double n, double k,
                          double batch, int weight_operand) {
  /* dX(m x k) = dY(m x n) @ W^T;  dW(k x n) = X^T(k x m) @ dY, accumulated in fp32.  With cast
   * inputs the output gradient is cast first, and both products read cast operands (X^T cast in the
   * forward). */
  int c = b->cast && weight_operand;
  if (c && !b->cast_fused) cast(b, "cast_grad", SL_PH_BACKWARD, m * n * batch);
  b->cast_fused = 0;
  double in = c ? b->gb : b->ab;
  sl_op *d = add(b, dname, SL_PH_BACKWARD, SL_CAT_GEMM, SL_K_GEMM);
  double w_in = weight_operand ? (c ? b->gb : b->wb) : b->ab;
  double d_out = b->dgrad_aux ? 2.0 * b->ab : b->ab; /* an epilogue that reads a saved pre-activation */
  d->u.g = (sl_gemm_shape){m, k, n, batch, b->cdt, in, w_in, d_out};
  b->dgrad_aux = 0;
  d->model_flops = 2.0 * m * n * k * batch;
  /* The weight gradient accumulates over the micro-batches of a step in an fp32 buffer: inside the
   * GEMM (its output read and written in fp32) when the stack fuses it, else the GEMM writes the
   * gradient in the weights' format and an add kernel reads it and reads and writes the fp32 buffer
   * (Megatron-LM 2021's main_grad hook, PyTorch's AccumulateGrad), on the chip's shard of the
   * gradient where ZeRO 2-3 reduce-scatters it first. */
  int fuse = b->fused_grad_accum || !weight_operand;
  sl_op *w = add(b, wname, SL_PH_BACKWARD, SL_CAT_GEMM, SL_K_GEMM);
  w->u.g = (sl_gemm_shape){k, n, m, batch, b->cdt, in, in, weight_operand ? (fuse ? 8.0 : b->wb) : b->ab};
  w->model_flops = 2.0 * m * n * k * batch;
  if (!fuse) {
    double n_w = k * n * batch / b->grad_shards;
    sl_op *a = add(b, "grad_accum", SL_PH_BACKWARD, SL_CAT_OPTIMIZER, SL_K_STREAM);
    a->u.s.bytes = n_w * (b->wb + 8.0);
    a->u.s.flops = n_w;
    a->u.s.dt = SL_FP32;
  }
}

typedef struct pass {
  double B, q, kv; /* sequences, query tokens per sequence (on this chip), keys per sequence */
  int causal;
  double kv_balanced; /* > 0: causal queries spread evenly over the sequence, each seeing this many keys on
                         average (the kernels' work; the model FLOP still count kv) */
} pass;

/* Heads on this chip: KV heads are replicated when there are fewer than t. */
static double local_heads(const gb *b) {
  return (double)b->tf->heads / b->p.tp;
}
static double local_kv_heads(const gb *b) {
  return tf_kv_heads(b->tf, b->p.tp);
}

/* The fused kernel's shape of one pass: with balanced causal queries each sees kv_balanced keys
 * (the model FLOP still count kv); K and V come from the KV cache in its format, paged, in
 * inference, and are activations in training and in a backward pass. */
static sl_attn_shape fused_shape(const gb *b, const pass *p, int backward) {
  int bal = p->kv_balanced > 0, cache = !b->train && !backward;
  return (sl_attn_shape){p->B,
                         p->q,
                         bal ? p->kv_balanced : p->kv,
                         local_heads(b),
                         local_kv_heads(b),
                         (double)b->tf->head_dim,
                         bal ? 0 : p->causal,
                         backward,
                         b->attn_dt,
                         cache ? sl_dtype_bytes[b->sc->kv_dtype] : b->ab,
                         b->attn_family,
                         cache && b->paged};
}

static void attention_fwd(gb *b, const pass *p) {
  const sl_transformer *t = b->tf;
  double heads = local_heads(b), hd = (double)t->head_dim;
  double kvb = sl_dtype_bytes[b->sc->kv_dtype];
  if (b->fused_attn) {
    sl_op *op = add(b, "attention", b->phase, SL_CAT_ATTENTION, SL_K_ATTN_FUSED);
    op->u.at = fused_shape(b, p, 0);
    op->model_flops = b->recompute ? 0 : 4.0 * p->B * heads * p->q * p->kv * hd;
    return;
  }
  double scores = p->B * heads * p->q * p->kv;
  sl_op *s = add(b, "attn_scores", b->phase, SL_CAT_ATTENTION, SL_K_GEMM);
  s->u.g = (sl_gemm_shape){p->q, p->kv, hd, p->B * heads, b->attn_dt, b->ab, b->train ? b->ab : kvb, b->ab};
  s->model_flops = b->recompute ? 0 : 2.0 * scores * hd;
  if (!b->fused_ew)
    stream(b, "attn_scale_mask", b->phase, SL_CAT_ATTENTION, 3.0 * scores * b->ab, 2.0 * scores);
  stream(b, "attn_softmax", b->phase, SL_CAT_ATTENTION, 2.0 * scores * b->ab, 5.0 * scores);
  if (b->train && t->dropout)
    stream(b, "attn_dropout", b->phase, SL_CAT_ATTENTION, scores * (2.0 * b->ab + 1), 2.0 * scores);
  sl_op *c = add(b, "attn_context", b->phase, SL_CAT_ATTENTION, SL_K_GEMM);
  c->u.g = (sl_gemm_shape){p->q, hd, p->kv, p->B * heads, b->attn_dt, b->ab, b->train ? b->ab : kvb, b->ab};
  c->model_flops = b->recompute ? 0 : 2.0 * scores * hd;
}

static void attention_bwd(gb *b, const pass *p) {
  const sl_transformer *t = b->tf;
  double heads = local_heads(b), hd = (double)t->head_dim;
  double full = 4.0 * p->B * heads * p->q * p->kv * hd;
  if (b->fused_attn) {
    sl_op *op = add(b, "attention.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_ATTN_FUSED);
    op->u.at = fused_shape(b, p, 1);
    op->model_flops = 2.0 * full;
    return;
  }
  double scores = p->B * heads * p->q * p->kv, bh = p->B * heads;
  /* context = A @ V: dA = dO @ V^T, dV = A^T @ dO;  scores = Q @ K^T: dQ = dS @ K, dK = dS^T @ Q */
  sl_op *o;
  o = add(b, "attn_context.dgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->q, p->kv, hd, bh, b->attn_dt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  o = add(b, "attn_context.wgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->kv, hd, p->q, bh, b->attn_dt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  if (t->dropout)
    stream(b, "attn_dropout.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, scores * (2.0 * b->ab + 1), scores);
  stream(b, "attn_softmax.bwd", SL_PH_BACKWARD, SL_CAT_ATTENTION, 3.0 * scores * b->ab, 4.0 * scores);
  o = add(b, "attn_scores.dgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->q, hd, p->kv, bh, b->attn_dt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
  o = add(b, "attn_scores.wgrad", SL_PH_BACKWARD, SL_CAT_ATTENTION, SL_K_GEMM);
  o->u.g = (sl_gemm_shape){p->kv, hd, p->q, bh, b->attn_dt, b->ab, b->ab, b->ab};
  o->model_flops = 2.0 * scores * hd;
}

static double norm_flops(const gb *b) {
  return b->tf->norm == SL_NORM_LAYERNORM ? 8.0 : 5.0;
}

/* Tokens whose hidden vectors this chip holds between blocks: all T, or T/t with sequence
 * parallelism. */
static double seq_tokens(const gb *b, double T) {
  return b->p.sp ? T / b->p.tp : T;
}

/* Tensor-parallel communication around a block: all-reduce of T*h, or with sequence parallelism
 * an all-gather before and a reduce-scatter after (the same bytes on the wire). */
/* Tensor-parallel communication overlaps the products only inside one scale-up domain (Transformer
 * Engine's userbuffers map the peers' memory over NVLink); a group that spans the fabric waits for it. */
static int tp_overlap(const gb *b) {
  return b->p.overlap_tp && b->tp_k >= b->p.tp;
}

static void tp_gather(gb *b, const char *name, double T, double bytes) {
  if (b->p.tp > 1 && b->p.sp)
    coll(b, name, b->phase, SL_COLL_ALL_GATHER, T * (double)b->tf->hidden * bytes, b->p.tp, b->tp_k,
         tp_overlap(b));
}

static void tp_enter(gb *b, const char *name, double T) {
  tp_gather(b, name, T, b->ab);
}

/* The all-gather of a norm's output that feeds a product: with the cast fused into the norm
 * (Transformer Engine) it gathers the narrower cast copy. */
static void tp_enter_cast(gb *b, const char *name, double T) {
  tp_gather(b, name, T, b->cast && b->fused_ew ? b->gb : b->ab);
}

static void tp_exit(gb *b, const char *name, double T) {
  if (b->p.tp <= 1) return;
  coll(b, name, b->phase, b->p.sp ? SL_COLL_REDUCE_SCATTER : SL_COLL_ALL_REDUCE,
       T * (double)b->tf->hidden * b->ab, b->p.tp, b->tp_k, tp_overlap(b));
}

/* `kernels` launches of one element-wise op, sharing its bytes and FLOP. */
static void stream_n(gb *b, const char *name, sl_phase ph, double kernels, double bytes, double flops) {
  double c = b->count;
  b->count = c * kernels;
  stream(b, name, ph, SL_CAT_ELEMENTWISE, bytes / kernels, flops / kernels);
  b->count = c;
}

/* Rotary position embedding of the n query and key values of the tokens (x cos + rotate_half(x)
 * sin, 6 FLOP a value).  Fused, one kernel reads and writes them (Transformer Engine's and
 * Megatron-Core's fused RoPE, FlashAttention's rotary kernel); unfused, eager PyTorch runs it per
 * tensor (q, k) as x*cos (2 passes over the values), -x2 (1), cat (2), *sin (2), + (3): 10 passes
 * in 5 kernels per tensor, and its backward (grad*sin 2, neg 1, grad*cos 2, the sum of the two
 * branches 3) 8 passes in 4.  Inference engines
 * that fuse element-wise work apply it inside their attention kernels (no op of its own). */
static void rope(gb *b, double n, int backward) {
  sl_phase ph = backward ? SL_PH_BACKWARD : b->phase;
  const char *name = backward ? "rope.bwd" : "rope";
  if (!b->train) {
    if (!b->fused_ew) stream(b, name, ph, SL_CAT_ELEMENTWISE, 2.0 * n * b->ab, 6.0 * n);
  } else if (b->fused_ew) {
    stream(b, name, ph, SL_CAT_ELEMENTWISE, 2.0 * n * b->ab, 6.0 * n);
  } else {
    stream_n(b, name, ph, backward ? 8.0 : 10.0, (backward ? 8.0 : 10.0) * n * b->ab, 6.0 * n);
  }
}

/* The per-head norm of the queries and keys (qk_norm: Qwen3's q_norm and k_norm, RMSNorm over each
 * head's head_dim values) on the n query and key values of the tokens: one kernel each for the
 * queries and the keys, reading and writing them (the backward reads the gradient and the input and
 * writes the gradient, as the block norms' backward does). */
static void qk_norm(gb *b, double n, int backward) {
  if (!b->tf->qk_norm) return;
  double nf = norm_flops(b);
  if (backward)
    stream_n(b, "qk_norm.bwd", SL_PH_BACKWARD, 2, 4.0 * n * b->ab, 2.0 * nf * n);
  else
    stream_n(b, "qk_norm", b->phase, 2, 2.0 * n * b->ab, nf * n);
}

/* Element-wise chain between two matrix products: one kernel when the stack fuses, else one
 * kernel per op. */
static void residual(gb *b, const char *name, double T) {
  double h = (double)b->tf->hidden, x = seq_tokens(b, T) * h;
  int drop = b->train && b->tf->dropout;
  if (b->fused_ew) {
    stream(b, name, b->phase, SL_CAT_ELEMENTWISE, x * (3.0 * b->ab + (drop ? 1 : 0)), (drop ? 3.0 : 1.0) * x);
  } else {
    if (drop) stream(b, "dropout", b->phase, SL_CAT_ELEMENTWISE, x * (2.0 * b->ab + 1), 2.0 * x);
    stream(b, name, b->phase, SL_CAT_ELEMENTWISE, 3.0 * x * b->ab, x);
  }
}

/* MLP over T tokens with an ffn width f already divided by t; `batch` experts side by side. */
static void mlp_fwd(gb *b, double T, double f, double batch) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, tf_ = T * f * batch;
  /* Transformer Engine's fused kernels write the cast copy themselves: the norm's output (LayerNormLinear)
   * and the activation's (LayerNormMLP); the experts' inputs come through the token dispatch instead. */
  int fuse = b->fused_ew && batch == 1;
  if (t->activation == SL_ACT_SWIGLU) {
    if (b->fused_ew) {
      b->cast_fused = fuse;
      gemm(b, "mlp_gate_up", SL_CAT_GEMM, T, 2 * f, h, batch, 1);
      stream(b, "swiglu", b->phase, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, 6.0 * tf_);
    } else {
      gemm(b, "mlp_gate", SL_CAT_GEMM, T, f, h, batch, 1);
      gemm(b, "mlp_up", SL_CAT_GEMM, T, f, h, batch, 1);
      stream(b, "silu", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, 5.0 * tf_);
      stream(b, "mul", b->phase, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, tf_);
    }
  } else {
    b->cast_fused = fuse;
    sl_op *fc1 = gemm(b, "mlp_fc1", SL_CAT_GEMM, T, f, h, batch, 1);
    /* In the epilogue (cuBLASLt GELU_AUX_BIAS) the bias and GELU cost no kernel of their own; in
     * training the epilogue writes the pre-activation beside the output, for the backward. */
    if (b->gelu_epi) {
      if (b->train && fc1) fc1->u.g.c_bytes = 2.0 * b->ab;
    } else {
      if (!b->fused_ew) stream(b, "bias", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, tf_);
      stream(b, "gelu", b->phase, SL_CAT_ELEMENTWISE, 2.0 * tf_ * b->ab, 8.0 * tf_);
    }
  }
  b->cast_fused = fuse;
  gemm(b, "mlp_down", SL_CAT_GEMM, T, h, f, batch, 1);
}

static void mlp_bwd(gb *b, double T, double f, double batch) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, tf_ = T * f * batch;
  /* GELU's backward in the epilogue of mlp_down's data gradient (DGELU_BGRAD): it reads the saved
   * pre-activation there. */
  b->dgrad_aux = b->gelu_epi && t->activation != SL_ACT_SWIGLU;
  backward_gemm(b, "mlp_down.dgrad", "mlp_down.wgrad", T, h, f, batch, 1);
  if (t->activation == SL_ACT_SWIGLU) {
    stream(b, "swiglu.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 5.0 * tf_ * b->ab, 10.0 * tf_);
    b->cast_fused = b->fused_ew && batch == 1; /* the activation's backward writes the cast gradient */
    backward_gemm(b, "mlp_gate_up.dgrad", "mlp_gate_up.wgrad", T, 2 * f, h, batch, 1);
  } else {
    if (!b->gelu_epi)
      stream(b, "gelu.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 3.0 * tf_ * b->ab, 12.0 * tf_);
    b->cast_fused = b->fused_ew && batch == 1;
    backward_gemm(b, "mlp_fc1.dgrad", "mlp_fc1.wgrad", T, f, h, batch, 1);
  }
}

/* Tokens each expert sees on this chip and the experts held here: with expert parallelism the
 * ep ranks exchange tokens (all-to-all) so each holds E/ep experts. */
static void moe_shape(const gb *b, double T, double *tokens, double *experts) {
  double E = (double)b->tf->experts, k = (double)b->tf->experts_per_token, ep = b->p.ep;
  *experts = E / ep;
  *tokens = ceil(T * k * ep / E);
}

static void moe_a2a(gb *b, const char *name, sl_phase ph, double T) {
  if (b->p.ep <= 1) return;
  double bytes = T * (double)b->tf->experts_per_token * (double)b->tf->hidden * b->ab;
  double k = group_per_node(b->p.ep, b->p.tp * b->p.cp, b->sc->node_chips);
  coll(b, name, ph, SL_COLL_ALL_TO_ALL, bytes, b->p.ep, k, 0);
}

/* The routing kernels around the experts (Megatron-Core's all-to-all token dispatcher; docs/model.md
 * section 1), in two halves, each its own transpose in the backward.  Before the dispatch
 * (moe_route): the router's softmax and top-k over its E logits (fp32, one fused kernel:
 * moe_router_fusion) and the permutation that copies each token's row to its k experts' slots,
 * grouped by expert (read once, written k times).  After the combine (moe_unroute): the
 * unpermutation that sums each token's k expert outputs weighted by their probabilities (its
 * backward also reads the k outputs again for the probabilities' gradient).  With experts on
 * several ranks and more than one here, the received rows are sorted by local expert after the
 * dispatch and back before the combine (costed with the half beside them).  Inference engines
 * gather the rows inside their grouped GEMMs (vLLM's fused_moe, TensorRT-LLM's MoE plugin): only
 * the top-k and the weighted sum are kernels there. */
static int moe_sorts(const gb *b) {
  return b->train && b->p.ep > 1 && (double)b->tf->experts / b->p.ep > 1;
}

static void moe_route(gb *b, double T, int backward) {
  const sl_transformer *t = b->tf;
  double E = (double)t->experts, k = (double)t->experts_per_token, h = (double)t->hidden;
  double rows = T * k * h, ab = b->ab; /* the k copies of this chip's tokens */
  if (!backward) {
    stream(b, "moe_topk", b->phase, SL_CAT_ELEMENTWISE, T * E * 4.0 + T * k * 8.0, 5.0 * T * E);
    if (!b->train) return;
    stream(b, "moe_permute", b->phase, SL_CAT_ELEMENTWISE, T * h * ab + rows * ab, 0);
    if (moe_sorts(b)) stream(b, "moe_sort_chunks", b->phase, SL_CAT_ELEMENTWISE, 2.0 * rows * ab, 0);
    return;
  }
  if (moe_sorts(b)) stream(b, "moe_sort_chunks.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * rows * ab, 0);
  stream(b, "moe_permute.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, rows * ab + T * h * ab, rows);
  stream(b, "moe_topk.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * T * E * 4.0 + T * k * 4.0, 4.0 * T * E);
}

static void moe_unroute(gb *b, double T, int backward) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, rows = T * (double)t->experts_per_token * h, ab = b->ab;
  if (!backward) {
    if (moe_sorts(b)) stream(b, "moe_unsort_chunks", b->phase, SL_CAT_ELEMENTWISE, 2.0 * rows * ab, 0);
    stream(b, "moe_unpermute", b->phase, SL_CAT_ELEMENTWISE, rows * ab + T * h * ab, 2.0 * rows);
    return;
  }
  stream(b, "moe_unpermute.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, T * h * ab + 2.0 * rows * ab,
         2.0 * rows);
  if (moe_sorts(b))
    stream(b, "moe_unsort_chunks.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * rows * ab, 0);
}

/* Context parallelism (ring attention): the K/V chunk of this rank circulates to the cp-1
 * others while each computes attention on what it holds, so the transfer can hide behind the
 * attention kernels, and only behind them. */
static void cp_ring(gb *b, const char *name, sl_phase ph, double T, double mult) {
  if (b->p.cp <= 1) return;
  double kvd = local_kv_heads(b) * (double)b->tf->head_dim;
  double k = group_per_node(b->p.cp, b->p.tp, b->sc->node_chips);
  double c0 = b->count;
  b->count = c0 * (b->p.cp - 1);
  coll(b, name, ph, SL_COLL_SEND_RECV, mult * 2.0 * T * kvd * b->ab, 2, k >= 2 ? 2 : 1, SL_OV_ATTENTION);
  b->count = c0;
}

/* Forward of one layer over pass p (T = B*q tokens on this chip).  moe: this layer's FFN is a
 * mixture.  attention_only: selective recompute re-runs the attention core only. */
static void layer_fwd(gb *b, const pass *p, int moe, int attention_only) {
  const sl_transformer *t = b->tf;
  double T = p->B * p->q, h = (double)t->hidden, tp = b->p.tp;
  double qd = local_heads(b) * (double)t->head_dim, kvd = local_kv_heads(b) * (double)t->head_dim;
  double nf = norm_flops(b), Ts = seq_tokens(b, T);
  if (attention_only) {
    attention_fwd(b, p);
    return;
  }
  /* Fused add and RMSNorm (vLLM's fused_add_rms_norm) in inference: the norm also reads the
   * residual, adds it and writes the sum as the next residual: 4 passes, and no residual kernel
   * (the previous layer's residual_mlp here, this layer's residual_attn before norm_mlp). */
  int an = b->add_norm && !b->train;
  double norm_bytes = (an ? 4.0 : 2.0) * Ts * h * b->ab, norm_fl = (nf + (an ? 1.0 : 0.0)) * Ts * h;
  linear_formats(b, b->layer_q && !b->quant_ffn); /* the attention projections */
  stream(b, "norm_attn", b->phase, SL_CAT_NORM, norm_bytes, norm_fl);
  tp_enter_cast(b, "tp_allgather_attn", T);
  b->cast_fused = b->fused_ew; /* the norm writes the cast copy */
  gemm(b, "qkv", SL_CAT_GEMM, T, qd + 2 * kvd, h, 1, 1);
  qk_norm(b, T * (qd + kvd), 0);
  if (t->position == SL_POS_ROPE) rope(b, T * (qd + kvd), 0);
  if (!b->train && !b->fused_attn) /* KV cache append as a separate copy */
    stream(b, "kv_cache_write", b->phase, SL_CAT_ELEMENTWISE,
           2.0 * T * tf_kv_bytes_per_token(t, b->p.tp, 1, b->sc->kv_dtype), 0); /* read and write K, V */
  cp_ring(b, "cp_kv_ring", b->phase, T, 1);
  attention_fwd(b, p);
  b->cast_fused = b->attn_quant_out; /* TensorRT-LLM's out_scale: the attention's epilogue quantizes */
  gemm(b, "attn_out", SL_CAT_GEMM, T, h, qd, 1, 1);
  tp_exit(b, b->p.sp ? "tp_reducescatter_attn" : "tp_allreduce_attn", T);
  if (!an) residual(b, "residual_attn", T);
  stream(b, "norm_mlp", b->phase, SL_CAT_NORM, norm_bytes, norm_fl);
  tp_enter_cast(b, "tp_allgather_mlp", T);
  if (moe) {
    double E = (double)t->experts, tok, ex;
    gemm(b, "router", SL_CAT_GEMM, T, E, h, 1, 1);
    moe_route(b, T, 0);
    linear_formats(b, b->layer_q); /* the feed-forward products */
    moe_shape(b, T, &tok, &ex);
    moe_a2a(b, "ep_dispatch", b->phase, T);
    mlp_fwd(b, tok, (double)t->ffn / tp, ex);
    moe_a2a(b, "ep_combine", b->phase, T);
    moe_unroute(b, T, 0);
    if (t->shared_experts > 0) mlp_fwd(b, T, (double)(t->ffn * t->shared_experts) / tp, 1);
  } else {
    linear_formats(b, b->layer_q); /* the feed-forward products */
    mlp_fwd(b, T, (double)t->ffn / tp, 1);
  }
  tp_exit(b, b->p.sp ? "tp_reducescatter_mlp" : "tp_allreduce_mlp", T);
  if (!an) residual(b, "residual_mlp", T);
}

static void layer_bwd(gb *b, const pass *p, int moe) {
  const sl_transformer *t = b->tf;
  double T = p->B * p->q, h = (double)t->hidden, tp = b->p.tp;
  double qd = local_heads(b) * (double)t->head_dim, kvd = local_kv_heads(b) * (double)t->head_dim;
  double nf = norm_flops(b), Ts = seq_tokens(b, T);
  sl_phase ph = b->phase;
  b->phase = SL_PH_BACKWARD;
  if (t->dropout)
    stream(b, "dropout.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * Ts * h * (2.0 * b->ab + 0.5),
           2.0 * Ts * h);
  tp_enter(b, "tp_allgather_mlp.bwd", T);
  /* Sequence parallelism keeps only the sharded norm output: the backward gathers it again for
   * the weight gradient of the first MLP matrix (Korthikanti et al. 2022 §4.2.2). */
  tp_enter_cast(b, "tp_allgather_mlp_input.bwd", T);
  if (moe) {
    double E = (double)t->experts, tok, ex;
    moe_shape(b, T, &tok, &ex);
    if (t->shared_experts > 0) mlp_bwd(b, T, (double)(t->ffn * t->shared_experts) / tp, 1);
    moe_unroute(b, T, 1);
    moe_a2a(b, "ep_combine.bwd", SL_PH_BACKWARD, T);
    mlp_bwd(b, tok, (double)t->ffn / tp, ex);
    moe_a2a(b, "ep_dispatch.bwd", SL_PH_BACKWARD, T);
    moe_route(b, T, 1);
    backward_gemm(b, "router.dgrad", "router.wgrad", T, E, h, 1, 1);
  } else {
    mlp_bwd(b, T, (double)t->ffn / tp, 1);
  }
  tp_exit(b, b->p.sp ? "tp_reducescatter_mlp.bwd" : "tp_allreduce_mlp.bwd", T);
  stream(b, "norm_mlp.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * Ts * h * b->ab, 2.0 * nf * Ts * h);
  tp_enter(b, "tp_allgather_attn.bwd", T);
  backward_gemm(b, "attn_out.dgrad", "attn_out.wgrad", T, h, qd, 1, 1);
  tp_enter_cast(b, "tp_allgather_qkv_input.bwd", T);  /* as above, for the QKV weight gradient */
  cp_ring(b, "cp_kv_ring.bwd", SL_PH_BACKWARD, T, 2); /* K, V forward again and dK, dV back */
  attention_bwd(b, p);
  if (t->position == SL_POS_ROPE) rope(b, T * (qd + kvd), 1);
  qk_norm(b, T * (qd + kvd), 1);
  backward_gemm(b, "qkv.dgrad", "qkv.wgrad", T, qd + 2 * kvd, h, 1, 1);
  tp_exit(b, b->p.sp ? "tp_reducescatter_attn.bwd" : "tp_allreduce_attn.bwd", T);
  stream(b, "norm_attn.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * Ts * h * b->ab, 2.0 * nf * Ts * h);
  b->phase = ph;
}

/* One training layer for one micro-batch: forward, recompute, backward. */
static void train_layer(gb *b, const pass *p, int moe) {
  sl_recompute rc = b->p.rc;
  b->phase = SL_PH_FORWARD;
  layer_fwd(b, p, moe, 0);
  if (rc != SL_RECOMPUTE_NONE && !(rc == SL_RECOMPUTE_SELECTIVE && b->fused_attn)) {
    b->phase = SL_PH_BACKWARD;
    b->recompute = 1;
    b->prefix = "recompute.";
    layer_fwd(b, p, moe, rc == SL_RECOMPUTE_SELECTIVE);
    b->prefix = NULL;
    b->recompute = 0;
  }
  layer_bwd(b, p, moe);
}

/* Inference layers: every layer of the model (count = layers), dense and MoE; those of
 * precision.unquantized_layers apart, in the activations' format. */
static void inference_layers(gb *b, const pass *p) {
  const sl_transformer *t = b->tf;
  double L = (double)t->layers, n_moe = t->experts > 0 ? floor(L / (double)t->moe_every) : 0;
  double base = b->count, ed = 0, em = 0;
  if (b->sc->unquant_first + b->sc->unquant_last > 0) tf_unquantized_layers(b->sc, &ed, &em);
  const double n[2][2] = {{L - n_moe - ed, n_moe - em}, {ed, em}}; /* [plain][moe] */
  for (int plain = 0; plain < 2; plain++)
    for (int moe = 0; moe < 2; moe++)
      if (n[plain][moe] > 0) {
        b->count = base * n[plain][moe];
        b->layer_q = !plain;
        layer_fwd(b, p, moe, 0);
      }
  b->layer_q = 1;
  b->count = base;
}

/* Token embedding: a gather of T rows; vocabulary-parallel under TP (an all-reduce of T*h, or a
 * reduce-scatter with sequence parallelism). */
static void embed(gb *b, double T) {
  const sl_transformer *t = b->tf;
  if (t->vocab == 0) return;
  linear_formats(b, !b->quant_ffn);
  double h = (double)t->hidden;
  sl_op *op = add(b, "embedding", b->phase, SL_CAT_EMBEDDING, SL_K_GATHER);
  op->u.e.lookups = T / b->p.tp;
  op->u.e.row_bytes = h * b->wb;
  op->u.e.table_bytes = (double)t->vocab / b->p.tp * h * b->wb;
  tp_exit(b, b->p.sp ? "tp_reducescatter_embedding" : "tp_allreduce_embedding", T);
}

static void embed_bwd(gb *b, double T) {
  const sl_transformer *t = b->tf;
  if (t->vocab == 0) return;
  double h = (double)t->hidden;
  tp_enter(b, "tp_allgather_embedding.bwd", T);
  sl_op *op = add(b, "embedding.bwd", SL_PH_BACKWARD, SL_CAT_EMBEDDING, SL_K_STREAM);
  op->u.s.bytes = T / b->p.tp * h * (b->ab + 8.0); /* scatter-add into fp32 gradient rows */
  op->u.s.flops = T / b->p.tp * h;
  op->u.s.dt = SL_FP32;
}

/* Drawing the next token of each of T sequences from its logits, as the stack's sampler does
 * (docs/model.md "Sampling").  Under tensor parallelism the logits, split by vocabulary, are
 * all-gathered first and every rank samples the whole vocabulary (vLLM V1's LogitsProcessor all-gathers
 * on CUDA; every worker runs the sampler).  PyTorch-native (torch), the bytes a vocabulary entry moves,
 * kernel by kernel, over fp32 working copies:
 *   greedy (temperature 0): the cast to fp32 (ab + 4), argmax (4): 2 kernels, ab + 8 bytes;
 *   random: the cast (ab + 4), the division by the temperature (8), softmax (16: its max and sum
 *     passes read the row, its last pass reads it again and writes), exponential noise (4), the
 *     division by it (12), argmax (4): 6 kernels, ab + 48 bytes;
 *   top-p / top-k, before the draw: a stable sort of every row with its int64 indices (PyTorch's
 *     segmented sort by full sort: the index-and-segment pairs written (8), a radix sort of the fp32
 *     keys with their 8-byte pairs, a histogram pass (4) and four 8-bit passes (4 x 24), a one-pass
 *     radix sort of the pairs by segment (24), the gather of the sorted values and indices (24): 156 in
 *     9 kernels), softmax of the sorted row (16), its cumulative sum in place (8), the comparison with
 *     1 - p (5), the masked fill of the tail (9), the scatter back to vocabulary order (16: index and
 *     value read, value written): 15 kernels, 210 bytes. */
static void sample(gb *b, double T) {
  const sl_scenario *sc = b->sc;
  if (sc->stack.sampler == SL_SAMPLER_NONE || b->tf->vocab == 0 || T <= 0) return;
  double n = T * (double)b->tf->vocab;
  if (b->p.tp > 1)
    coll(b, "tp_allgather_logits", b->phase, SL_COLL_ALL_GATHER, n * b->ab, b->p.tp, b->tp_k, 0);
  int random = sc->temperature > 0;
  if (random && (sc->top_p < 1 || sc->top_k > 0))
    stream_n(b, "sample_filter", b->phase, 15, n * 210.0, n * 4.0);
  stream_n(b, "sample", b->phase, random ? 6 : 2, n * (b->ab + (random ? 48.0 : 8.0)),
           n * (random ? 6.0 : 1.0));
}

/* Final norm + LM head over T_lm tokens (+ loss in training); the LM head is split by vocabulary
 * under TP, after an all-gather of the sequence-parallel activations. */
static void head_ops(gb *b, double T, double T_lm) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, V = (double)t->vocab / b->p.tp, Ts = seq_tokens(b, T);
  stream(b, "norm_final", b->phase, SL_CAT_NORM, 2.0 * Ts * h * b->ab, norm_flops(b) * Ts * h);
  if (t->vocab == 0) return;
  linear_formats(b, !b->quant_ffn);
  tp_enter_cast(b, "tp_allgather_head", T_lm);
  b->cast_fused = b->fused_ew; /* the final norm writes the cast copy */
  gemm(b, "lm_head", SL_CAT_GEMM, T_lm, V, h, 1, 1);
  if (!b->train) {
    sample(b, T_lm);
    return;
  }
  /* Cross-entropy over the chip's vocabulary shard.  Fused (apex xentropy, Megatron-Core's and
   * Transformer Engine's fused cross-entropy): one pass reads the logits, keeping each row's
   * log-sum-exp.  Unfused (Megatron-LM's vocab-parallel cross-entropy over logits.float(), PyTorch's
   * own): the cast to fp32 (ab + 4 bytes a logit), max (4), subtract (8), exp (8), sum (4) and divide
   * (8), six kernels. */
  if (b->fused_ce)
    stream(b, "loss", b->phase, SL_CAT_ELEMENTWISE, T_lm * V * b->ab + T_lm * 4.0, 5.0 * T_lm * V);
  else
    stream_n(b, "loss", b->phase, 6, T_lm * V * (b->ab + 36.0), 5.0 * T_lm * V);
}

/* The head's ops, marked as the head's (op->head). */
static void head_fwd(gb *b, double T, double T_lm) {
  size_t first = b->g->n;
  head_ops(b, T, T_lm);
  for (size_t i = first; i < b->g->n; i++)
    b->g->ops[i].head = 1;
}

static void head_bwd(gb *b, double T) {
  const sl_transformer *t = b->tf;
  double h = (double)t->hidden, V = (double)t->vocab / b->p.tp, Ts = seq_tokens(b, T);
  sl_phase ph = b->phase;
  b->phase = SL_PH_BACKWARD;
  if (t->vocab > 0) {
    /* fused: read the logits, write their gradient; unfused: scale the saved fp32 softmax (8 bytes
     * a logit) and cast the gradient back (4 + ab), two kernels */
    if (b->fused_ce)
      stream(b, "loss.bwd", SL_PH_BACKWARD, SL_CAT_ELEMENTWISE, 2.0 * T * V * b->ab, 3.0 * T * V);
    else
      stream_n(b, "loss.bwd", SL_PH_BACKWARD, 2, T * V * (12.0 + b->ab), 3.0 * T * V);
    backward_gemm(b, "lm_head.dgrad", "lm_head.wgrad", T, V, h, 1, 1);
    tp_exit(b, b->p.sp ? "tp_reducescatter_head.bwd" : "tp_allreduce_head.bwd", T);
  }
  stream(b, "norm_final.bwd", SL_PH_BACKWARD, SL_CAT_NORM, 4.0 * Ts * h * b->ab,
         2.0 * norm_flops(b) * Ts * h);
  b->phase = ph;
}

static sl_status build_inference(gb *b, sl_error *err) {
  const sl_scenario *sc = b->sc;
  switch (sc->task) {
  case SL_TASK_PREFILL: {
    pass p = {sc->batch, sc->prompt_len, sc->prompt_len, 1, 0};
    b->phase = SL_PH_PREFILL;
    embed(b, p.B * p.q);
    inference_layers(b, &p);
    head_fwd(b, p.B * p.q, p.B);
    break;
  }
  case SL_TASK_DECODE: {
    pass p = {sc->batch, 1, sc->prompt_len + 1, 0, 0};
    b->phase = SL_PH_DECODE;
    embed(b, p.B);
    inference_layers(b, &p);
    head_fwd(b, p.B, p.B);
    break;
  }
  case SL_TASK_GENERATE: {
    pass p = {sc->batch, sc->prompt_len, sc->prompt_len, 1, 0};
    b->phase = SL_PH_PREFILL;
    embed(b, p.B * p.q);
    inference_layers(b, &p);
    head_fwd(b, p.B * p.q, p.B);
    /* gen_len - 1 decode steps after the first token; attention time is linear in the KV
     * length, so one step at the mean length stands for all of them. */
    if (sc->gen_len > 1) {
      pass d = {sc->batch, 1, sc->prompt_len + sc->gen_len / 2.0, 0, 0};
      b->phase = SL_PH_DECODE;
      b->count = sc->gen_len - 1;
      embed(b, d.B);
      inference_layers(b, &d);
      head_fwd(b, d.B, d.B);
      b->count = 1;
    }
    break;
  }
  default:
    return err_set(err, SL_ERR_INPUT, sc->file, 0, "task",
                   "task %s is not an inference task of a transformer", sl_task_names[sc->task]);
  }
  return SL_OK;
}

/* One micro-batch of training on one chip: the part asked for. */
static void build_train_part(gb *b, sl_part part) {
  const sl_scenario *sc = b->sc;
  double T = b->p.mb * sc->seq_len / b->p.cp;
  /* With context parallelism each rank holds s/cp queries and sees all s keys over the ring.  Causal
   * training balances the ranks (Megatron-Core / Transformer Engine split the sequence into 2cp chunks,
   * rank i holding chunks i and 2cp-1-i): each rank's queries see s/2 keys on average, the blocks
   * before the diagonal in full. */
  pass p = {b->p.mb, sc->seq_len / b->p.cp, sc->seq_len, 1, b->p.cp > 1 ? sc->seq_len / 2.0 : 0};
  b->train = 1;
  b->phase = SL_PH_FORWARD;
  switch (part) {
  case SL_PART_LAYER:
  case SL_PART_MOE_LAYER:
    train_layer(b, &p, part == SL_PART_MOE_LAYER);
    break;
  case SL_PART_FIRST:
    embed(b, T);
    embed_bwd(b, T);
    break;
  case SL_PART_LAST: {
    double lp = sc->loss_positions > 0 ? sc->loss_positions : 1; /* a scenario built in code: all */
    head_fwd(b, T, T * lp);
    head_bwd(b, T * lp);
    break;
  }
  default:
    break;
  }
}

/* One kernel over n = rows x cols values, each read from and written to memory once:
 *   gelu      y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): reads x, writes y; 8 FLOP (cube 2,
 *             scale and add 3, tanh 1, add one and the two products 2), the tanh counted as one;
 *   silu      y = x / (1 + exp(-x)): reads x, writes y; 4 FLOP (negate, exp, add, divide);
 *   softmax   per row: max, subtract, exp, sum, scale by 1/sum: 5 FLOP; reads x, writes y (a row
 *             is kept on chip between the reduction and the scaling);
 *   layernorm mean (1), variance (3: subtract, square, add), normalise (2), gain and bias (2): 8
 *             FLOP; reads x and the gain and bias (cols each), writes y and the fp32 mean and
 *             inverse deviation of every row (kept for the backward);
 *   rmsnorm   sum of squares (2), scale by the inverse root mean square (1) and the gain (1): 4
 *             FLOP; reads x and the gain, writes y and each row's fp32 inverse root mean square;
 *   add       z = x + y: reads two tensors, writes one; 1 FLOP. */
void op_stream_traffic(const sl_op_spec *o, double ab, double wb, double *bytes, double *flops) {
  double n = o->rows * o->cols, stat = 4.0; /* bytes of an fp32 row statistic */
  switch (o->type) {
  case SL_OPT_GELU:
    *bytes = 2.0 * n * ab, *flops = 8.0 * n;
    break;
  case SL_OPT_SILU:
    *bytes = 2.0 * n * ab, *flops = 4.0 * n;
    break;
  case SL_OPT_SOFTMAX:
    *bytes = 2.0 * n * ab, *flops = 5.0 * n;
    break;
  case SL_OPT_LAYERNORM:
    *bytes = 2.0 * n * ab + 2.0 * o->cols * wb + 2.0 * o->rows * stat, *flops = 8.0 * n;
    break;
  case SL_OPT_RMSNORM:
    *bytes = 2.0 * n * ab + o->cols * wb + o->rows * stat, *flops = 4.0 * n;
    break;
  case SL_OPT_ADD:
    *bytes = 3.0 * n * ab, *flops = n;
    break;
  default:
    *bytes = 0, *flops = 0;
    break;
  }
}

static sl_status build_op(gb *b, sl_error *err) {
  const sl_op_spec *o = &b->sc->model.op;
  b->phase = SL_PH_FORWARD;
  switch (o->type) {
  case SL_OPT_GEMM:
    b->cast_fused = o->quantized_inputs; /* no cast kernel: the operands come quantized */
    gemm(b, "gemm", SL_CAT_GEMM, o->m, o->n, o->k, o->batch, 1);
    return SL_OK;
  case SL_OPT_ATTENTION: {
    sl_transformer t2;
    memset(&t2, 0, sizeof t2);
    t2.heads = (long)o->heads, t2.kv_heads = (long)o->kv_heads, t2.head_dim = (long)o->head_dim;
    gb local = *b;
    local.tf = &t2;
    local.paged = o->paged;
    pass p = {o->batch, o->seq_len, o->kv_len, o->causal, 0};
    /* A backward pass is training: K and V are activations (not a KV cache) in both passes. */
    local.train = o->pass != SL_PASS_FORWARD;
    if (o->pass != SL_PASS_BACKWARD) attention_fwd(&local, &p);
    if (o->pass != SL_PASS_FORWARD) attention_bwd(&local, &p);
    b->oom |= local.oom;
    return SL_OK;
  }
  case SL_OPT_GELU:
  case SL_OPT_SILU:
  case SL_OPT_SOFTMAX:
  case SL_OPT_LAYERNORM:
  case SL_OPT_RMSNORM:
  case SL_OPT_ADD: {
    double bytes, flops;
    op_stream_traffic(o, b->ab, b->wb, &bytes, &flops);
    int norm = o->type == SL_OPT_LAYERNORM || o->type == SL_OPT_RMSNORM;
    stream(b, sl_op_type_names[o->type], b->phase, norm ? SL_CAT_NORM : SL_CAT_ELEMENTWISE, bytes, flops);
    if (norm || o->type == SL_OPT_SOFTMAX) { /* row reductions: the row stays on chip if it fits */
      sl_op *op = b->oom || b->g->n == 0 ? NULL : &b->g->ops[b->g->n - 1];
      if (op) op->u.s.row_bytes = o->cols * b->ab, op->u.s.reread_bytes = o->rows * o->cols * b->ab;
    }
    return SL_OK;
  }
  case SL_OPT_EMBEDDING_BAG: {
    sl_op *op = add(b, "embedding_bag", b->phase, SL_CAT_EMBEDDING, SL_K_GATHER);
    op->u.e.lookups = o->batch * o->pooling;
    op->u.e.row_bytes = o->dim * b->wb;
    op->u.e.table_bytes = o->rows * o->dim * b->wb;
    return SL_OK;
  }
  default: { /* a collective over every chip of the system */
    static const sl_coll map[] = {[SL_OPT_ALL_REDUCE] = SL_COLL_ALL_REDUCE,
                                  [SL_OPT_ALL_GATHER] = SL_COLL_ALL_GATHER,
                                  [SL_OPT_REDUCE_SCATTER] = SL_COLL_REDUCE_SCATTER,
                                  [SL_OPT_ALL_TO_ALL] = SL_COLL_ALL_TO_ALL,
                                  [SL_OPT_SEND_RECV] = SL_COLL_SEND_RECV};
    const sl_scenario *sc = b->sc;
    double n = o->type == SL_OPT_SEND_RECV ? 2 : sc->chips;
    /* send/recv: between two chips of one domain when the domain has two, else across. */
    double k = o->type == SL_OPT_SEND_RECV ? (sc->node_chips >= 2 ? 2 : 1) : fmin(sc->node_chips, sc->chips);
    if (n <= 1)
      return err_set(err, SL_ERR_INPUT, sc->file, 0, "system.chips", "a collective needs at least 2 chips");
    sl_op *op = add(b, sl_op_type_names[o->type], SL_PH_COMM, SL_CAT_COLLECTIVE, SL_K_COLL);
    op->u.c.type = map[o->type];
    op->u.c.bytes = o->bytes;
    op->u.c.n = n;
    op->u.c.k = k;
    return SL_OK;
  }
  }
}

/* The builder's state shared by every entry point: the scenario's formats and fusion flags. */
static void gb_init(gb *b, arena *a, const sl_scenario *sc, const sl_lowering *lw, const sl_plan *p,
                    sl_graph *g) {
  memset(b, 0, sizeof *b);
  b->a = a;
  b->g = g;
  b->sc = sc;
  b->tf = &sc->model.tf;
  b->p = *p;
  b->adt = sc->a_dtype;
  b->wdt = sc->w_dtype;
  b->cdt = lw->compute_dt;
  b->cast = lw->cast_inputs;
  b->gb = sl_dtype_bytes[lw->compute_dt];
  b->attn_dt = lw->cast_inputs ? sc->a_dtype : lw->compute_dt;
  /* No attention kernel takes 4-bit inputs: with 4-bit products (NVFP4 / MXFP4, their inputs
   * written by the kernel before them) attention runs in the KV cache's format where that is a byte
   * or wider and the chip multiplies it (FP8 FMHA over an FP8 KV cache), else in bf16. */
  /* With 8-bit products the stack's own (quantized_attention: TensorRT-LLM's FP8 context FMHA and
   * XQA) does the same over an 8-bit KV cache. */
  int q_attn = sc->stack.quantized_attention && sc->task != SL_TASK_TRAIN;
  if (sl_dtype_bytes[lw->compute_dt] < 1 ||
      (q_attn && lw->cast_inputs && sl_dtype_bytes[lw->compute_dt] <= 1)) {
    sl_dtype kv = sc->kv_dtype;
    if (sl_dtype_bytes[kv] >= 1 && sl_dtype_bytes[kv] < sl_dtype_bytes[b->attn_dt] &&
        sc->chip.mat_macs_per_cycle[kv] > 0)
      b->attn_dt = kv;
    if (sl_dtype_bytes[b->attn_dt] < 1) b->attn_dt = SL_BF16;
  }
  b->ab = sl_dtype_bytes[sc->a_dtype];
  b->wb = sl_dtype_bytes[sc->w_dtype];
  b->fused_ew = lw->fused_ew;
  b->fused_attn = lw->fused_attn;
  b->attn_quant_out = q_attn && lw->fused_attn;
  b->attn_family = lw->attn_family;
  b->fused_grad_accum = lw->fused_grad_accum;
  b->fused_ce = lw->fused_ce;
  b->gelu_epi = lw->gelu_epilogue;
  b->add_norm = lw->fused_add_norm && sc->model.tf.norm == SL_NORM_RMSNORM;
  b->grad_shards = p->zero >= 2 && p->dp * p->cp > 1 ? p->dp * p->cp : 1;
  b->lin[1].wb = b->wb, b->lin[1].gb = b->gb, b->lin[1].cdt = b->cdt, b->lin[1].cast = b->cast;
  const double *mat = sc->chip.mat_macs_per_cycle;
  b->lin[0].wb = b->lin[0].gb = b->ab;
  b->lin[0].cdt = mat[sc->a_dtype] > 0 ? sc->a_dtype : lw->compute_dt;
  b->lin[0].cast = 0;
  b->quant_ffn = sc->quant_ffn;
  b->layer_q = 1;
}

sl_status graph_build_part(arena *a, const sl_scenario *sc, const sl_lowering *lw, const sl_plan *p,
                           sl_part part, sl_graph *g, sl_error *err) {
  gb b;
  gb_init(&b, a, sc, lw, p, g);
  b.tp_k = group_per_node(p->tp, 1, sc->node_chips);
  b.count = 1;
  g->n = 0;
  sl_status s = SL_OK;
  if (sc->model.kind == SL_MODEL_TRANSFORMER) {
    b.paged = 1; /* an inference graph's attention is the serving engine's, over its KV cache */
    if (part == SL_PART_ALL)
      s = build_inference(&b, err);
    else
      build_train_part(&b, part);
  } else if (sc->model.kind == SL_MODEL_OP) {
    s = build_op(&b, err);
  } else { /* DLRM: one chip's dense part and local tables (sim/dlrm.c shards the tables itself) */
    s = dlrm_graph_build(a, sc, lw, p->mb, part != SL_PART_ALL, g, err);
  }
  if (!s && b.oom) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory building the op graph");
  return s;
}

sl_status graph_build_attention(arena *a, const sl_scenario *sc, const sl_lowering *lw, const sl_plan *p,
                                double B, double q, double kv, int causal, sl_graph *g) {
  gb b;
  gb_init(&b, a, sc, lw, p, g);
  b.count = (double)sc->model.tf.layers;
  b.phase = q > 1 ? SL_PH_PREFILL : SL_PH_DECODE;
  b.paged = 1;
  g->n = 0;
  pass ps = {B, q, kv, causal, 0};
  attention_fwd(&b, &ps);
  return b.oom ? SL_ERR_INTERNAL : SL_OK;
}

sl_status graph_build(arena *a, const sl_scenario *sc, const sl_lowering *lw, sl_graph *g, sl_error *err) {
  sl_plan p = plan_of_scenario(sc);
  return graph_build_part(a, sc, lw, &p, SL_PART_ALL, g, err);
}
