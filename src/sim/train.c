/* train.c — one training step of a transformer under a parallel plan: per-micro-batch cost of the
 * distinct pipeline stages (first: embedding; middle; last: final norm, LM head, loss), the
 * pipeline schedule, data-parallel gradient synchronisation, ZeRO gathers and the optimizer step;
 * memory per chip; and costing the plans that plan/search.c enumerates.
 *
 * Timeline (closed form of the 1F1B schedule over distinct stages; Narayanan et al. SC21 §2.2):
 * with per-micro-batch stage times t_s (forward + backward + point-to-point), m micro-batches and
 * v virtual stages per rank, the pipeline takes  m * max_s t_s + (sum_s t_s - max_s t_s) / v,
 * which is (m + p - 1) * t for equal stages and (p - 1) * t / v of bubble when interleaved.
 * tests/sim/test_train.c checks it against an event-by-event simulation of the schedule.  Gradient
 * synchronisation overlaps the last micro-batch's backward where the stack allows; the optimizer
 * runs after it.  Cost does not grow with the chip count: only distinct stages are costed. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Time of one part for one micro-batch, split by phase, with overlapped communication hidden
 * behind the compute of its phase.  Overlapped transfers still read and write their buffers in
 * DRAM, which the compute of the phase then lacks (equations.md: "communication that overlaps
 * compute slows the compute"). */
typedef struct part_eval {
  double f, b; /* forward, backward (recompute included) */
  double model_flops, recompute_flops;
  double comm_exposed;  /* communication on the critical path */
  double scale_ov[2];   /* for rows: share of each overlapped transfer that counts */
  double scale_ova[2];  /* the same for transfers that hide behind attention only */
  double e_core, e_off; /* dynamic energy, on and off the clock domain */
  double t_clock;       /* compute-bound time (and memory-bound kernels' stalls): what a lower clock slows */
  double cb;            /* the compute-bound time's share of the compute */
  sl_near near;         /* memory-bound kernels near their ridge (power_cap_near) */
} part_eval;

static double coll_dram_bytes(const sl_op *op) {
  return 2.0 * op->u.c.bytes;
}

/* Exposed time of a transfer of t seconds of which `hidden` overlaps compute: the hidden part still
 * reads and writes its buffers in DRAM (dram_bytes over the whole transfer), which the compute it
 * hides behind lacks; and its kernels hold the stack's comm_cores cores, which that compute lacks
 * too: the compute-bound share cb of it runs on C - s of the C cores for the hidden time, h s / (C - s)
 * longer (a memory-bound kernel keeps its bandwidth on fewer cores). */
static double overlap_exposed(const sl_costctx *ctx, double t, double hidden, double dram_bytes, double cb) {
  double C = ctx->chip->cores, sms = ctx->stack ? fmin(ctx->stack->comm_cores, C - 1) : 0;
  double held = C > 1 && sms > 0 ? hidden * cb * sms / (C - sms) : 0;
  return t - hidden + (t > 0 ? hidden / t * dram_bytes / ctx->mem_bw : 0) + held;
}

static part_eval eval_part(const sl_costctx *ctx, const sl_graph *g, sl_cost *costs) {
  part_eval e;
  memset(&e, 0, sizeof e);
  double compute[2] = {0, 0}, comm[2] = {0, 0}, ov[2] = {0, 0}, ov_dram[2] = {0, 0};
  double attn[2] = {0, 0}, ova[2] = {0, 0}, ova_dram[2] = {0, 0}, stall = 0;
  for (size_t i = 0; i < g->n; i++) {
    const sl_op *op = &g->ops[i];
    sl_cost c = cost_op(ctx, op);
    if (costs) costs[i] = c;
    int ph = op->phase == SL_PH_BACKWARD;
    double t = c.time_s * op->count;
    e.e_core += c.e_core_j * op->count;
    e.e_off += c.e_off_j * op->count;
    if (op->kernel != SL_K_COLL && c.bound == SL_BOUND_COMPUTE) e.t_clock += t;
    if (op->kernel != SL_K_COLL) near_add_part(&e.near, &stall, clockpart_of(&c, op->count));
    if (op->kernel != SL_K_COLL) {
      compute[ph] += t;
      if (op->cat == SL_CAT_ATTENTION) attn[ph] += t;
    } else if (op->overlap == SL_OV_ATTENTION) {
      ova[ph] += t, ova_dram[ph] += coll_dram_bytes(op) * op->count;
    } else if (op->overlap) {
      ov[ph] += t, ov_dram[ph] += coll_dram_bytes(op) * op->count;
    } else {
      comm[ph] += t;
    }
    if (strncmp(op->name, "recompute.", 10) == 0) {
      if (op->kernel == SL_K_GEMM)
        e.recompute_flops += 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch * op->count;
      else if (op->kernel == SL_K_ATTN_FUSED)
        e.recompute_flops += 4.0 * op->u.at.batch * op->u.at.heads * op->u.at.q_len * op->u.at.kv_len *
                             op->u.at.head_dim * op->count;
    }
    e.model_flops += op->model_flops * op->count;
  }
  double t[2];
  e.cb = compute[0] + compute[1] > 0 ? e.t_clock / (compute[0] + compute[1]) : 1;
  e.t_clock += stall;
  for (int ph = 0; ph < 2; ph++) {
    /* the ring hides behind the attention kernels; what it leaves, and the rest, behind the phase */
    double hid_a = fmin(ova[ph], attn[ph]);
    double exp_a = overlap_exposed(ctx, ova[ph], hid_a, ova_dram[ph], 1);
    double hidden = fmin(ov[ph], compute[ph] - hid_a);
    double exposed = overlap_exposed(ctx, ov[ph], hidden, ov_dram[ph], e.cb);
    t[ph] = compute[ph] + comm[ph] + exposed + exp_a;
    e.scale_ov[ph] = ov[ph] > 0 ? exposed / ov[ph] : 0;
    e.scale_ova[ph] = ova[ph] > 0 ? exp_a / ova[ph] : 0;
    e.comm_exposed += comm[ph] + exposed + exp_a;
  }
  e.f = t[0];
  e.b = t[1];
  return e;
}

/* Activation bytes saved per layer per micro-batch on one chip (Korthikanti et al. 2022 §4,
 * generalised to GQA, SwiGLU and fused attention).  Replicated across the tensor-parallel group
 * unless sequence-parallel: norm inputs, the inputs of QKV and of the MLP, dropout masks;
 * split: Q, K, V, the attention output, the MLP intermediates, the attention scores. */
double train_act_bytes_layer(const sl_scenario *sc, const sl_plan *p, int moe, int fused_attn) {
  const sl_transformer *t = &sc->model.tf;
  double ab = sl_dtype_bytes[sc->a_dtype], h = (double)t->hidden, s = sc->seq_len / p->cp;
  double tp = p->tp, rep = p->sp ? tp : 1, hd = (double)t->head_dim;
  double T = p->mb * s;
  int drop = t->dropout;
  if (p->rc == SL_RECOMPUTE_FULL) return T * h * ab / rep; /* the layer input only */
  /* With inputs cast to a narrower format (Transformer Engine fp8), a linear layer saves the cast
   * copy of its input for the weight gradient instead of the bf16 tensor: the QKV and MLP inputs and
   * the second MLP product's input (the activation's output) are kept at `gb` bytes; the attention
   * output is kept twice, in bf16 for the attention backward and cast for the output projection. */
  sl_lowering lw = cost_lowering(sc);
  double gb = lw.cast_inputs ? sl_dtype_bytes[lw.compute_dt] : ab;
  double replicated =
      2.0 * h * ab /* norm inputs */ + 2.0 * h * gb /* QKV and MLP inputs */ + (drop ? 2.0 * h : 0);
  /* Per chip: its query heads, its K/V heads (replicated when fewer than tp), the attention
   * output, the MLP intermediates. */
  double q = (double)t->heads / tp * hd, kv = tf_kv_dim(t, tp);
  double f = (double)t->ffn / tp;
  if (moe) f *= (double)t->experts_per_token + (double)t->shared_experts;
  double mlp = (t->activation == SL_ACT_SWIGLU ? 2.0 : 1.0) * f * ab + f * gb;
  double split = (2.0 * q + 2.0 * kv) * ab + (gb < ab ? q * gb : 0) + mlp;
  double a = (double)t->heads / tp, core = 0;
  if (!fused_attn && p->rc != SL_RECOMPUTE_SELECTIVE)
    core = a * sc->seq_len * (ab + (drop ? 1.0 + ab : 0)); /* scores over the full key length */
  else if (fused_attn)
    core = a * 4.0; /* log-sum-exp per row, fp32 */
  return T * (replicated / rep + split + core);
}

typedef struct tparts {
  part_eval layer, moe, first, last;
  part_eval layer_rc; /* block recompute: a dense layer fully recomputed (layer: not recomputed) */
  double n_dense, n_moe;
  double act_dense, act_moe; /* saved activations per layer per micro-batch */
  double act_dense_rc, ws;   /* block: a recomputed layer's saved input, one layer's working set */
  int fused_attn, block;
} tparts;

/* The plan a part is built with: block recompute builds plain layers (and the recomputed ones,
 * the MoE layers, with full recompute). */
static sl_plan plan_rc(const sl_plan *p, sl_recompute rc) {
  sl_plan q = *p;
  q.rc = rc;
  return q;
}

/* Costs the parts that depend on (tp, cp, ep, sp, micro-batch, recompute). */
static sl_status parts_of(const sl_scenario *sc, const sl_plan *p, const sl_costctx *ctx, arena *scratch,
                          tparts *tp, sl_error *err) {
  const sl_transformer *t = &sc->model.tf;
  memset(tp, 0, sizeof *tp);
  double L = (double)t->layers;
  tp->n_moe = t->experts > 0 ? floor(L / (double)t->moe_every) : 0;
  tp->n_dense = L - tp->n_moe;
  tp->fused_attn = cost_lowering(sc).fused_attn;
  tp->block = p->rc == SL_RECOMPUTE_BLOCK;
  sl_plan pn = tp->block ? plan_rc(p, SL_RECOMPUTE_NONE) : *p, pf = plan_rc(p, SL_RECOMPUTE_FULL);
  sl_graph g = {0};
  const sl_part parts[] = {SL_PART_LAYER, SL_PART_MOE_LAYER, SL_PART_FIRST, SL_PART_LAST, SL_PART_LAYER};
  part_eval *out[] = {&tp->layer, &tp->moe, &tp->first, &tp->last, &tp->layer_rc};
  const sl_plan *with[] = {&pn, tp->block ? &pf : p, &pn, &pn, &pf};
  for (int i = 0; i < 5; i++) {
    if (parts[i] == SL_PART_LAYER && tp->n_dense <= 0) continue;
    if (parts[i] == SL_PART_MOE_LAYER && tp->n_moe <= 0) continue;
    if (i == 4 && !tp->block) continue;
    ar_reset(scratch);
    g = (sl_graph){0}; /* its ops were in the scratch arena just reset */
    sl_lowering lw = cost_lowering(sc);
    sl_status s = graph_build_part(scratch, sc, &lw, with[i], parts[i], &g, err);
    if (s) return s;
    *out[i] = eval_part(ctx, &g, NULL);
  }
  tp->act_dense = train_act_bytes_layer(sc, &pn, 0, tp->fused_attn);
  tp->act_moe = tp->n_moe > 0 ? train_act_bytes_layer(sc, tp->block ? &pf : p, 1, tp->fused_attn) : 0;
  tp->act_dense_rc = train_act_bytes_layer(sc, &pf, 0, tp->fused_attn);
  tp->ws = train_act_bytes_layer(sc, &pn, tp->n_moe > 0, tp->fused_attn);
  return SL_OK;
}

/* Parameters per chip of a stage holding `dense` + `moe` layers (and the extras). */
static double stage_params(const sl_scenario *sc, const sl_plan *p, double dense, double moe, int first,
                           int last) {
  const sl_transformer *t = &sc->model.tf;
  double tp = p->tp;
  double expert = moe > 0 ? (tf_layer_params(t, 1) - tf_layer_params(t, 0)) : 0; /* the extra experts */
  double params = (dense + moe) * tf_layer_params(t, 0) / tp + moe * expert / (tp * p->ep);
  if (first) params += tf_embed_params(t) / tp;
  if (last) {
    params += tf_head_params(t) / tp;
    if (t->tied_embeddings && p->pp > 1) params += (double)t->vocab * (double)t->hidden / tp; /* a copy */
  }
  return params;
}

/* Device work launched by the framework outside the layer graphs (the optimizer) costs as every
 * kernel does: cost_launched; its collectives (pipeline sends, gradient synchronisation) as every
 * collective does: cost_collective_call. */
static double launched(const sl_costctx *ctx, double t) {
  return cost_launched(ctx->stack, t);
}

/* The outcome of one plan. */
typedef struct teval {
  int feasible;
  double step, pipe, bubble, p2p, dp_exposed, ag_exposed, opt;
  double t_stage[3]; /* first, middle, last: one micro-batch */
  double layers_stage[3], moe_stage[3];
  double rcl[3]; /* block recompute: dense layers of each stage fully recomputed */
  int crit;      /* index into t_stage of the slowest stage */
  double m;      /* micro-batches per step */
  double model_flops, hw_flops;
  sl_memory mem;
  /* energy and the TDP cap : the most loaded chip's dynamic energy and compute-bound
   * time over the step, the system's dynamic energy, all at the full clock */
  double busy_core, busy_off, busy_tclock, sys_core, sys_off;
  sl_near busy_near; /* its memory-bound kernels near their ridge, over the step */
  double clock_ratio, uncapped_step;
  double row_p2p_j, row_dp_j, row_ag_j; /* link energy of the rows add_row writes */
  sl_cost opt_cost;
  double opt_bytes, opt_flops; /* the optimizer's DRAM traffic and arithmetic (its row) */
} teval;

/* Stage s of the three kinds (0 first, 1 middle, 2 last); with pp == 1 the single stage is both
 * first and last, and with pp == 2 there is no middle. */
static void stage_layers(const sl_scenario *sc, const sl_plan *p, const tparts *P, double dense[3],
                         double moe[3]) {
  double L = (double)sc->model.tf.layers, pp = p->pp;
  double base = floor(L / pp), extra = L - base * pp;
  double n[3] = {base + (extra > 0 ? 1 : 0), base + (extra > 1 ? 1 : 0), base};
  if (pp == 1) n[0] = n[1] = n[2] = L;
  double moe_frac = L > 0 ? P->n_moe / L : 0;
  for (int i = 0; i < 3; i++)
    moe[i] = round(n[i] * moe_frac), dense[i] = n[i] - moe[i];
}

/* Per-chip memory of a stage with `dense` + `moe` layers, `rcl` of the dense ones fully recomputed
 * (block recompute). */
static void stage_memory(const sl_scenario *sc, const sl_plan *p, const tparts *P, double dense, double moe,
                         double rcl, int first, int last, double m, sl_memory *out) {
  const sl_transformer *t = &sc->model.tf;
  double wb = sl_dtype_bytes[sc->w_dtype], dp = p->dp * p->cp;
  double params = stage_params(sc, p, dense, moe, first, last);
  sl_memory mm;
  memset(&mm, 0, sizeof mm);
  mm.capacity_bytes = chip_dram_bytes(&sc->chip);
  mm.weights_bytes = params * wb / (p->zero >= 3 ? dp : 1);
  mm.grads_bytes = params * 4.0 / (p->zero >= 2 ? dp : 1); /* fp32 accumulation (Megatron main_grad) */
  mm.optimizer_bytes = params * optim_state_bytes(sc->optimizer) / (p->zero >= 1 ? dp : 1);
  /* Micro-batches in flight on the first stage of 1F1B: p, interleaved p*(1 + (p-1)/(p*v))
   * (Korthikanti et al. 2022 §4.2.3); later stages hold fewer. */
  double flight = p->pp > 1 ? fmin(m, p->vpp > 1 ? p->pp * (1 + (p->pp - 1) / (p->pp * p->vpp)) : p->pp) : 1;
  if (!first) flight = fmax(1, flight - (p->pp - 1));
  double act = ((dense - rcl) * P->act_dense + rcl * P->act_dense_rc + moe * P->act_moe) * flight;
  if (p->rc == SL_RECOMPUTE_FULL) { /* one layer's full activations while it is recomputed */
    sl_plan q = *p;
    q.rc = SL_RECOMPUTE_NONE;
    act += train_act_bytes_layer(sc, &q, moe > 0, P->fused_attn);
  } else if (P->block && (rcl > 0 || moe > 0)) {
    act += P->ws;
  }
  double T = p->mb * sc->seq_len / p->cp;
  if (last && t->vocab > 0) /* fp32 logits for the loss, at the positions it is taken over */
    act += T * (sc->loss_positions > 0 ? sc->loss_positions : 1) * (double)t->vocab / p->tp * 4.0;
  mm.activations_bytes = act;
  mm.per_chip_bytes = mm.weights_bytes + mm.grads_bytes + mm.optimizer_bytes + mm.activations_bytes;
  mm.fits = mm.per_chip_bytes <= mm.capacity_bytes;
  *out = mm;
}

static void memory_of_stage(const sl_scenario *sc, const sl_plan *p, const tparts *P, double dense,
                            double moe, double rcl, int first, int last, double m, sl_memory *out) {
  sl_memory mm;
  stage_memory(sc, p, P, dense, moe, rcl, first, last, m, &mm);
  if (mm.per_chip_bytes > out->per_chip_bytes) *out = mm;
}

/* Block recompute: the fewest dense layers per stage, in whole layers of every one of the v model
 * chunks (Megatron's --recompute-num-layers counts per chunk), whose full recompute lets the first
 * and the last stage fit; every stage recomputes as many (at most its own layers). */
static void block_layers(const sl_scenario *sc, const sl_plan *p, const tparts *P, const double dense[3],
                         const double moe[3], double m, double rcl[3]) {
  double v = p->vpp, need = 0;
  for (int s = 0; s < 3; s += 2) {
    if (s == 2 && p->pp == 1) break;
    int first = s == 0, last = s == 2 || p->pp == 1;
    sl_memory m0, m1;
    stage_memory(sc, p, P, dense[s], moe[s], 0, first, last, m, &m0);
    if (m0.fits || dense[s] <= 0) continue;
    stage_memory(sc, p, P, dense[s], moe[s], dense[s], first, last, m, &m1);
    double per = (m0.per_chip_bytes - (m1.per_chip_bytes - (moe[s] > 0 ? 0 : P->ws))) / dense[s];
    double r =
        per > 0 ? ceil((m0.per_chip_bytes + (moe[s] > 0 ? 0 : P->ws) - m0.capacity_bytes) / per) : dense[s];
    need = fmax(need, fmin(dense[s], ceil(r / v) * v));
  }
  for (int s = 0; s < 3; s++)
    rcl[s] = fmin(need, dense[s]);
}

/* Exposed time of a data-parallel transfer of t seconds split over v model chunks that each become
 * ready after one micro-batch's pass through them (c = pass / v), successive chunks pp passes apart,
 * the chunk's transfer starting layer by layer during its pass:
 *   max(t / layers, t/v - c, t - (v - 1) * pp * c - c). */
double dp_chunked_exposed(double t, double pass, double v, double pp, double layers) {
  if (t <= 0) return 0;
  double c = pass / v, gap = pp * c;
  double e = fmax(t / v - c, t - (v - 1) * gap - c);
  return fmax(e, t / fmax(1, layers));
}

static void plan_eval(const sl_scenario *sc, const sl_plan *p, const tparts *P, const sl_costctx *ctx,
                      teval *r) {
  memset(r, 0, sizeof *r);
  double pp = p->pp, v = p->vpp;
  double m = p->gb / (p->dp * p->mb);
  r->m = m;
  double dense[3], moe[3];
  stage_layers(sc, p, P, dense, moe);
  double *rcl = r->rcl;
  if (P->block) block_layers(sc, p, P, dense, moe, m, rcl);
  /* one micro-batch's forward and backward of a stage's dense layers */
  double lf[3], lb[3];
  for (int s = 0; s < 3; s++) {
    lf[s] = (dense[s] - rcl[s]) * P->layer.f + rcl[s] * P->layer_rc.f;
    lb[s] = (dense[s] - rcl[s]) * P->layer.b + rcl[s] * P->layer_rc.b;
  }
  double T = p->mb * sc->seq_len / p->cp, h = (double)sc->model.tf.hidden, ab = sl_dtype_bytes[sc->a_dtype];
  /* Point-to-point between stages: the activations of one micro-batch, split over the tensor-
   * parallel group (Megatron's scatter/gather), over the fabric when stages are in other nodes. */
  double p2p = 0;
  if (pp > 1) {
    /* Every stage sends to the next (and, interleaved, the last back to the first): unless all
     * stages share one scale-up domain some boundary crosses the fabric, and the stage behind it
     * paces the pipeline. */
    double stride = p->tp * p->cp * p->dp;
    double k = stride * pp <= sc->node_chips ? 2 : 1;
    sl_cost c = cost_collective_call(ctx, SL_COLL_SEND_RECV, T * h * ab / p->tp, 2, k);
    p2p = c.time_s;
    /* Without sequence parallelism each tensor-parallel rank sends 1/tp of the activations and
     * the receivers all-gather them over the scale-up links (Narayanan et al. SC21 §4.1). */
    if (p->tp > 1 && !p->sp)
      p2p += cost_collective_call(ctx, SL_COLL_ALL_GATHER, T * h * ab, p->tp,
                                  group_per_node(p->tp, 1, sc->node_chips))
                 .time_s;
  }
  /* With the interleaved schedule a stack may overlap these transfers with the compute of the
   * rank's other model chunks (Megatron-Core's overlap_p2p_comm): each hides behind one chunk's
   * forward or backward, and the hidden part still takes its DRAM traffic from that compute. */
  int ov_pp = sc->stack.overlap_pp_comm && v > 1 && pp > 1;
  double p2p_dram = 2.0 * T * h * ab / p->tp / ctx->mem_bw;
  double p2p_x[3];
  for (int s = 0; s < 3; s++) {
    int first = s == 0 || pp == 1, last = s == 2 || pp == 1;
    double t = lf[s] + lb[s] + moe[s] * (P->moe.f + P->moe.b);
    if (first) t += P->first.f + P->first.b;
    if (last) t += P->last.f + P->last.b;
    p2p_x[s] = p2p;
    if (ov_pp && p2p > 0) {
      double chunk = t / (2.0 * v), hid = fmin(p2p, chunk);
      p2p_x[s] = p2p - hid + hid / p2p * fmin(p2p_dram, p2p);
    }
    if (pp > 1) t += 2.0 * v * p2p_x[s];
    r->t_stage[s] = t;
    r->layers_stage[s] = dense[s];
    r->moe_stage[s] = moe[s];
  }
  double sum = pp == 1 ? r->t_stage[0] : r->t_stage[0] + r->t_stage[2] + (pp - 2) * r->t_stage[1];
  int crit = 0;
  for (int s = 1; s < 3; s++)
    if ((pp > 2 || s != 1) && r->t_stage[s] > r->t_stage[crit]) crit = s;
  if (pp == 1) crit = 0;
  r->crit = crit;
  r->p2p = p2p_x[crit];
  double tmax = r->t_stage[crit];
  r->bubble = (sum - tmax) / v;
  r->pipe = m * tmax + r->bubble;

  /* Gradient synchronisation of the first stage (it finishes its backward last). */
  double params0 = stage_params(sc, p, dense[0], moe[0], 1, pp == 1);
  double wb = sl_dtype_bytes[sc->w_dtype], dpn = p->dp * p->cp;
  double k = group_per_node(dpn, p->tp, sc->node_chips);
  double t_dp = 0, t_ag = 0;
  if (dpn > 1) {
    if (p->zero >= 1) {
      t_dp = cost_collective_call(ctx, SL_COLL_REDUCE_SCATTER, params0 * 4.0, dpn, k).time_s;
      if (p->zero < 3) t_ag = cost_collective_call(ctx, SL_COLL_ALL_GATHER, params0 * wb, dpn, k).time_s;
    } else {
      t_dp = cost_collective_call(ctx, SL_COLL_ALL_REDUCE, params0 * 4.0, dpn, k).time_s;
    }
  }
  double b_last = lb[0] + moe[0] * P->moe.b + P->first.b + (pp == 1 ? P->last.b : 0);
  double f_first = lf[0] + moe[0] * P->moe.f + P->first.f + (pp == 1 ? P->last.f : 0);
  double layers0 = fmax(1, dense[0] + moe[0]);
  if (p->overlap_dp) {
    /* Each of the v model chunks reduces its gradients as soon as its last micro-batch's backward
     * is done (Megatron-Core's interleaved schedule launches one chunk's synchronisation at a time):
     * in the cool-down the chunks finish pp backward slots apart, so the reductions of the earlier
     * chunks queue behind each other while the later chunks still compute, and what is left after
     * the last chunk's backward is exposed.  The parameter gather of the next step mirrors it over
     * the warm-up's forwards.  With v = 1: t - b, at least one layer's share. */
    double e_dp = dp_chunked_exposed(t_dp, b_last, v, pp, layers0);
    double e_ag = dp_chunked_exposed(t_ag, f_first, v, pp, layers0);
    r->dp_exposed = overlap_exposed(ctx, t_dp, t_dp - e_dp, 2.0 * params0 * 4.0, P->layer.cb);
    r->ag_exposed = overlap_exposed(ctx, t_ag, t_ag - e_ag, 2.0 * params0 * wb, P->layer.cb);
  } else {
    r->dp_exposed = t_dp;
    r->ag_exposed = t_ag;
  }
  /* Sharded gradients (ZeRO >= 2) cannot accumulate over the micro-batches: every micro-batch's
   * backward reduce-scatters the stage's gradients (the last one's is t_dp above).  ZeRO-3 gathers
   * every layer's weights for its forward and again for its backward.  Overlapped, these transfers
   * hide behind the compute of their phase over the step (forward gathers behind the forwards,
   * backward gathers and reductions behind the backwards); what does not fit is exposed, and the
   * hidden part still reads and writes its buffers in DRAM, which the compute lacks (as in
   * eval_part). */
  if (p->zero >= 2 && dpn > 1) {
    double layer_w = tf_layer_params(&sc->model.tf, 0) / p->tp * wb;
    double t_layer_ag =
        p->zero >= 3 ? cost_collective_call(ctx, SL_COLL_ALL_GATHER, layer_w, dpn, k).time_s : 0;
    double nag = p->zero >= 3 ? m * layers0 : 0; /* gathers per phase over the step */
    double rs = (m - 1) * t_dp, ag_f = nag * t_layer_ag, ag_b = nag * t_layer_ag;
    double dram_f = nag * 2.0 * layer_w, dram_b = nag * 2.0 * layer_w + (m - 1) * 2.0 * params0 * 4.0;
    double exp_f = ag_f, exp_b = ag_b + rs;
    if (p->overlap_dp) {
      double hid_f = fmin(ag_f, m * f_first), hid_b = fmin(ag_b + rs, m * b_last);
      exp_f = overlap_exposed(ctx, ag_f, hid_f, dram_f, P->layer.cb);
      exp_b = overlap_exposed(ctx, ag_b + rs, hid_b, dram_b, P->layer.cb);
    }
    /* the backward's share that is the reductions goes to the gradient row */
    double share_rs = ag_b + rs > 0 ? rs / (ag_b + rs) : 0;
    r->ag_exposed += exp_f + exp_b * (1 - share_rs);
    r->dp_exposed += exp_b * share_rs;
  }
  double params_opt = params0 / (p->zero >= 1 ? dpn : 1);
  sl_cost oc = cost_stream(ctx, params_opt * optim_step_bytes(sc->optimizer, wb, sc->a_dtype == SL_FP16),
                           params_opt * optim_step_flops(sc->optimizer), SL_FP32);
  r->opt = launched(ctx, oc.time_s);
  r->opt_bytes = oc.dram_bytes, r->opt_flops = oc.flops;
  sl_lowering lw = cost_lowering(sc);
  if (lw.cast_inputs) { /* each chip casts its weights to the products' format once a step (with transposes)
                         */
    double gbytes = sl_dtype_bytes[lw.compute_dt];
    sl_cost cc = cost_stream(ctx, params0 * (wb + 2.0 * gbytes), 2.0 * params0, SL_FP32);
    r->opt += launched(ctx, cc.time_s);
    r->opt_bytes += cc.dram_bytes, r->opt_flops += cc.flops;
  }
  r->step = r->pipe + r->dp_exposed + r->ag_exposed + r->opt;

  /* Energy and the TDP cap, on a chip of the critical stage: its micro-batches, its
   * pipeline transfers, the gradient synchronisation and the optimizer.  A plan the cap slows is
   * ranked by its capped step. */
  {
    const sl_energy_spec *E = &sc->chip.energy;
    int f0 = crit == 0 || pp == 1, l0 = crit == 2 || pp == 1;
    double dn = dense[crit] - rcl[crit], dr = rcl[crit];
    double ec = dn * P->layer.e_core + dr * P->layer_rc.e_core + moe[crit] * P->moe.e_core +
                (f0 ? P->first.e_core : 0) + (l0 ? P->last.e_core : 0);
    double eo = dn * P->layer.e_off + dr * P->layer_rc.e_off + moe[crit] * P->moe.e_off +
                (f0 ? P->first.e_off : 0) + (l0 ? P->last.e_off : 0);
    double tc = dn * P->layer.t_clock + dr * P->layer_rc.t_clock + moe[crit] * P->moe.t_clock +
                (f0 ? P->first.t_clock : 0) + (l0 ? P->last.t_clock : 0);
    double msg = T * h * ab / p->tp, p2p_bytes = 0;
    if (pp > 1)
      p2p_bytes = 2.0 * v *
                  (msg + (p->tp > 1 && !p->sp ? coll_link_bytes(SL_COLL_ALL_GATHER, T * h * ab, p->tp) : 0));
    double dp_bytes = 0, ag_bytes = 0, dp_dram = 0;
    if (dpn > 1) {
      if (p->zero >= 1) {
        dp_bytes = coll_link_bytes(SL_COLL_REDUCE_SCATTER, params0 * 4.0, dpn);
        if (p->zero < 3) ag_bytes = coll_link_bytes(SL_COLL_ALL_GATHER, params0 * wb, dpn);
        dp_dram = 2.0 * (params0 * 4.0 + (p->zero < 3 ? params0 * wb : 0));
      } else {
        dp_bytes = coll_link_bytes(SL_COLL_ALL_REDUCE, params0 * 4.0, dpn);
        dp_dram = 2.0 * params0 * 4.0;
      }
      if (p->zero >= 2) { /* every micro-batch's reduction (t_dp's included above) */
        dp_bytes *= m;
        dp_dram += (m - 1) * 2.0 * params0 * 4.0;
      }
      if (p->zero >= 3) {
        double layer_w = tf_layer_params(&sc->model.tf, 0) / p->tp * wb;
        ag_bytes += 2.0 * m * layers0 * coll_link_bytes(SL_COLL_ALL_GATHER, layer_w, dpn);
        dp_dram += 2.0 * 2.0 * m * layers0 * layer_w;
      }
    }
    energy_of_cost(&sc->chip, SL_FP32, ctx->resident, &oc);
    oc.e_core_j = cost_stack_core_j(ctx->stack, oc.e_core_j); /* launched as r->opt is */
    r->opt_cost = oc;
    r->row_p2p_j = m * p2p_bytes * E->link_j_per_byte;
    r->row_dp_j = dp_bytes * E->link_j_per_byte + dp_dram * E->dram_j_per_byte;
    r->row_ag_j = ag_bytes * E->link_j_per_byte;
    r->busy_core = m * ec + oc.e_core_j;
    r->busy_off = m * eo + r->row_p2p_j + r->row_dp_j + r->row_ag_j + oc.e_off_j;
    double over = r->t_stage[crit] > 0 ? r->pipe / r->t_stage[crit] : 0; /* a micro-batch's to the step's */
    r->busy_tclock = tc * over;
    r->uncapped_step = r->step;
    r->busy_near.used = 0;
    sl_capped cap = power_cap(&sc->chip, r->busy_core, r->busy_off, r->busy_tclock, r->step - r->busy_tclock);
    if (cap.clock_ratio < 1) { /* over the TDP: its memory-bound kernels near their ridge too */
      near_axpy(&r->busy_near, dn * over, &P->layer.near);
      near_axpy(&r->busy_near, dr * over, &P->layer_rc.near);
      near_axpy(&r->busy_near, moe[crit] * over, &P->moe.near);
      if (f0) near_axpy(&r->busy_near, over, &P->first.near);
      if (l0) near_axpy(&r->busy_near, over, &P->last.near);
      cap = power_cap_near(&sc->chip, r->busy_core, r->busy_off, r->busy_tclock, r->step - r->busy_tclock,
                           &r->busy_near);
    }
    r->clock_ratio = cap.clock_ratio;
    r->step = cap.time_s;
    double columns = sc->chips / pp; /* dp x tp x cp chips, each running its share of every layer */
    double R = pp == 1 ? rcl[0] : rcl[0] + rcl[2] + (pp - 2) * rcl[1], N = P->n_dense - R;
    r->sys_core = columns * m *
                      (N * P->layer.e_core + R * P->layer_rc.e_core + P->n_moe * P->moe.e_core +
                       P->first.e_core + P->last.e_core) +
                  sc->chips * oc.e_core_j;
    r->sys_off = columns * m *
                     (N * P->layer.e_off + R * P->layer_rc.e_off + P->n_moe * P->moe.e_off + P->first.e_off +
                      P->last.e_off + (pp - 1) * p2p_bytes * E->link_j_per_byte) +
                 sc->chips * (r->row_dp_j + r->row_ag_j + oc.e_off_j);
  }

  /* Model FLOP of the whole step: the parts are one chip's share of a micro-batch. */
  const sl_transformer *t = &sc->model.tf;
  (void)t;
  double per_mb = (P->n_dense * P->layer.model_flops + P->n_moe * P->moe.model_flops + P->first.model_flops +
                   P->last.model_flops) *
                  p->tp * p->cp;
  double R = pp == 1 ? rcl[0] : rcl[0] + rcl[2] + (pp - 2) * rcl[1];
  double rec = ((P->n_dense - R) * P->layer.recompute_flops + R * P->layer_rc.recompute_flops +
                P->n_moe * P->moe.recompute_flops) *
               p->tp * p->cp;
  r->model_flops = per_mb * p->gb / p->mb;
  r->hw_flops = (per_mb + rec) * p->gb / p->mb;

  memset(&r->mem, 0, sizeof r->mem);
  memory_of_stage(sc, p, P, dense[0], moe[0], rcl[0], 1, pp == 1, m, &r->mem);
  if (pp > 1) memory_of_stage(sc, p, P, dense[2], moe[2], rcl[2], 0, 1, m, &r->mem);
  r->feasible = r->mem.fits;
}

/* ---- the result of a chosen plan: rows that add up to the step time -------------------------- */

/* Each row's dynamic energy at the full clock, on and off the clock domain, kept beside
 * the rows until the cap is applied. */
typedef struct rowe {
  double *core, *off;
} rowe;

static int rowe_grow(sl_result *res, rowe *re, size_t n_new) {
  double *core = ar_alloc(&res->a, 2 * (res->n_rows + n_new + 1) * sizeof *core);
  if (!core) return -1;
  double *off = core + res->n_rows + n_new + 1;
  if (res->n_rows) {
    memcpy(core, re->core, res->n_rows * sizeof *core);
    memcpy(off, re->off, res->n_rows * sizeof *off);
  }
  re->core = core, re->off = off;
  return 0;
}

static sl_status add_rows(sl_result *res, const sl_scenario *sc, const sl_plan *p, const sl_costctx *ctx,
                          sl_part part, double mult, rowe *re, sl_error *err) {
  if (mult <= 0) return SL_OK;
  sl_graph g = {0};
  sl_lowering lw = cost_lowering(sc);
  sl_status s = graph_build_part(&res->a, sc, &lw, p, part, &g, err);
  if (s) return s;
  sl_cost *costs = ar_alloc(&res->a, (g.n ? g.n : 1) * sizeof *costs);
  sl_row *rows = ar_alloc(&res->a, (res->n_rows + g.n + 8) * sizeof *rows);
  if (!costs || !rows || rowe_grow(res, re, g.n + 8))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  part_eval e = eval_part(ctx, &g, costs);
  if (res->n_rows) memcpy(rows, res->rows, res->n_rows * sizeof *rows);
  for (size_t i = 0; i < g.n; i++) {
    const sl_op *op = &g.ops[i];
    re->core[res->n_rows] = costs[i].e_core_j * op->count * mult;
    re->off[res->n_rows] = costs[i].e_off_j * op->count * mult;
    sl_row *r = &rows[res->n_rows++];
    double t = costs[i].time_s * op->count;
    if (op->kernel == SL_K_COLL && op->overlap)
      t *= (op->overlap == SL_OV_ATTENTION ? e.scale_ova : e.scale_ov)[op->phase == SL_PH_BACKWARD];
    double useful =
        op->kernel == SL_K_GEMM ? 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch : costs[i].flops;
    *r = sl_row_near(sl_row_make(op->name, op->phase, op->cat, costs[i].bound, op->count * mult, t * mult,
                                 useful * op->count * mult, costs[i].dram_bytes * op->count * mult),
                     op->kernel == SL_K_COLL ? (sl_clockpart){0, 0, 0}
                                             : clockpart_of(&costs[i], op->count * mult));
    if (op->kernel == SL_K_COLL) r->bytes = op->u.c.bytes * op->count * mult;
  }
  res->rows = rows;
  return SL_OK;
}

static sl_status add_row(sl_result *res, const char *name, sl_phase ph, sl_category cat, sl_bound bound,
                         double count, double time_s, double flops, double bytes, double e_core_j,
                         double e_off_j, rowe *re, sl_error *err) {
  if (time_s <= 0) return SL_OK;
  sl_row *rows = ar_alloc(&res->a, (res->n_rows + 1) * sizeof *rows);
  if (!rows || rowe_grow(res, re, 1)) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (res->n_rows) memcpy(rows, res->rows, res->n_rows * sizeof *rows);
  re->core[res->n_rows] = e_core_j;
  re->off[res->n_rows] = e_off_j;
  rows[res->n_rows++] = sl_row_make(name, ph, cat, bound, count, time_s, flops, bytes);
  res->rows = rows;
  return SL_OK;
}

static sl_status fill_result(sl_result *res, const sl_scenario *sc, const sl_plan *p, const tparts *P,
                             const teval *r, const sl_costctx *ctx, sl_error *err) {
  res->par = sc->par;
  res->par.dp = p->dp, res->par.tp = p->tp, res->par.pp = p->pp, res->par.cp = p->cp, res->par.ep = p->ep;
  res->par.vpp = p->vpp, res->par.zero = p->zero, res->par.sp = p->sp;
  res->micro_batch = p->mb;
  res->recompute = p->rc;
  res->mem = r->mem;
  if (!r->feasible) {
    res->feasible = 0;
    snprintf(
        res->reason, sizeof res->reason,
        "does not fit in memory: needs %.2f GiB per chip (weights %.2f GiB, grads %.2f GiB, optimizer %.2f "
        "GiB, activations %.2f GiB) but %s has %.2f GiB",
        r->mem.per_chip_bytes / 1073741824.0, r->mem.weights_bytes / 1073741824.0,
        r->mem.grads_bytes / 1073741824.0, r->mem.optimizer_bytes / 1073741824.0,
        r->mem.activations_bytes / 1073741824.0, sc->chip.name, r->mem.capacity_bytes / 1073741824.0);
    return SL_OK;
  }
  /* The slowest stage's ops, for every micro-batch, then the pipeline bubble, the exposed
   * gradient synchronisation and the optimizer. */
  int c = r->crit;
  double m = r->m;
  sl_status s = SL_OK;
  int first = c == 0 || p->pp == 1, last = c == 2 || p->pp == 1;
  rowe re = {NULL, NULL};
  int blk = p->rc == SL_RECOMPUTE_BLOCK;
  sl_plan pn = blk ? plan_rc(p, SL_RECOMPUTE_NONE) : *p, pf = blk ? plan_rc(p, SL_RECOMPUTE_FULL) : *p;
  s = add_rows(res, sc, &pn, ctx, SL_PART_LAYER, (r->layers_stage[c] - r->rcl[c]) * m, &re, err);
  if (!s && blk) s = add_rows(res, sc, &pf, ctx, SL_PART_LAYER, r->rcl[c] * m, &re, err);
  if (!s) s = add_rows(res, sc, &pf, ctx, SL_PART_MOE_LAYER, r->moe_stage[c] * m, &re, err);
  if (!s && first) s = add_rows(res, sc, &pn, ctx, SL_PART_FIRST, m, &re, err);
  if (!s && last) s = add_rows(res, sc, &pn, ctx, SL_PART_LAST, m, &re, err);
  if (!s && p->pp > 1)
    s = add_row(res, "pp_send_recv", SL_PH_COMM, SL_CAT_COLLECTIVE, SL_BOUND_NETWORK, 2 * p->vpp * m,
                2 * p->vpp * m * r->p2p, 0, 0, 0, r->row_p2p_j, &re, err);
  if (!s)
    s = add_row(res, "pipeline_bubble", SL_PH_COMM, SL_CAT_OTHER, SL_BOUND_LATENCY, 1, r->bubble, 0, 0, 0, 0,
                &re, err);
  if (!s)
    s = add_row(res, "dp_grad_sync", SL_PH_COMM, SL_CAT_COLLECTIVE, SL_BOUND_NETWORK, 1, r->dp_exposed, 0, 0,
                0, r->row_dp_j, &re, err);
  if (!s)
    s = add_row(res, "dp_param_gather", SL_PH_COMM, SL_CAT_COLLECTIVE, SL_BOUND_NETWORK, 1, r->ag_exposed, 0,
                0, 0, r->row_ag_j, &re, err);
  if (!s)
    s = add_row(res, "optimizer", SL_PH_OPTIMIZER, SL_CAT_OPTIMIZER, SL_BOUND_MEMORY, 1, r->opt, r->opt_flops,
                r->opt_bytes, r->opt_cost.e_core_j, r->opt_cost.e_off_j, &re, err);
  if (s) return s;
  (void)P;
  res->feasible = 1;
  /* Energy, power and the cap : the plan search already ranked this plan by its capped
   * step; this repeats the cap on the rows. */
  res->step_time_s = r->uncapped_step;
  res->chips = sc->chips;
  sl_esum busy = {r->busy_core, r->busy_off, r->busy_tclock, r->uncapped_step, r->busy_near};
  power_fill_result(&sc->chip, &busy, r->sys_core, r->sys_off, p->gb * sc->seq_len, 0, re.core, re.off, res);
  res->step_time_s = r->step;
  res->model_flops = r->model_flops;
  res->hw_flops = r->hw_flops;
  double peak = 0;
  sl_dtype cdt = cost_lowering(sc).compute_dt; /* the format the matrix products run in */
  peak = chip_peak_flops(&sc->chip, cdt) * sc->chips;
  res->has_tokens = 1;
  res->tokens_per_s = p->gb * sc->seq_len / r->step;
  res->global_batch = p->gb;
  if (peak > 0) {
    res->has_mfu = 1;
    res->mfu = r->model_flops / (r->step * peak);
    res->hfu = r->hw_flops / (r->step * peak);
    res->flops_per_chip_per_s = r->model_flops / r->step / sc->chips;
  }
  return SL_OK;
}

/* ---- plan search: plan/search.c enumerates, the timeline costs -------------------------------- */

/* What the search keeps beside each plan: the costed layers of its group and its evaluation. */
typedef struct costed {
  tparts P;
  teval e;
} costed;

enum { ASK_BATCH = 64 };

sl_status train_run(const sl_scenario *sc, sl_result *res, size_t top_n, sl_error *err) {
  sl_costctx ctx;
  cost_ctx_init(&ctx, &sc->chip, &sc->stack, 0);
  net_init(&ctx.net, &sc->scale_up, &sc->scale_out, sc->node_chips);
  plan_space space = plan_space_of(sc);
  plan_search S;
  sl_status s = plan_search_init(&S, &res->a, &space, top_n, sizeof(costed), err);
  if (s) return s;
  arena scratch;
  ar_init(&scratch);
  /* Ask a batch of plans of one group, cost the group's layers once when it is new, then each
   * plan's (pp, vpp, dp, ZeRO, DP overlap) is a few hundred floating-point operations. */
  sl_plan batch[ASK_BATCH];
  costed c;
  memset(&c, 0, sizeof c);
  for (;;) {
    size_t n;
    int new_group;
    s = plan_search_ask(&S, batch, ASK_BATCH, &n, &new_group, err);
    if (s || n == 0) break;
    if (new_group) {
      s = parts_of(sc, &batch[0], &ctx, &scratch, &c.P, err);
      if (s) break;
    }
    for (size_t i = 0; i < n; i++) {
      plan_eval(sc, &batch[i], &c.P, &ctx, &c.e);
      plan_score score = {c.e.feasible, c.e.step, c.e.mem.per_chip_bytes};
      plan_search_tell(&S, &batch[i], &score, &c);
    }
  }
  ar_free(&scratch);
  if (s) return s;
  res->plans_enumerated = S.enumerated;
  res->plans_evaluated = S.evaluated;
  if (S.evaluated == 0) {
    res->feasible = 0;
    snprintf(
        res->reason, sizeof res->reason,
        "no parallel plan: tp*pp*cp*dp must equal %g chips, tp divide %ld heads, pp divide %ld layers, and "
        "dp*micro_batch divide the global batch %g",
        sc->chips, sc->model.tf.heads, sc->model.tf.layers, sc->global_batch);
    return SL_OK;
  }
  if (S.n_top) {
    res->top = ar_alloc(&res->a, S.n_top * sizeof *res->top);
    if (!res->top) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    double peak = chip_peak_flops(&sc->chip, cost_lowering(sc).compute_dt) * sc->chips;
    for (size_t i = 0; i < S.n_top; i++) {
      const sl_plan *p = &S.top[i];
      const teval *e = &((const costed *)plan_search_top_payload(&S, i))->e;
      res->top[i] =
          (sl_plan_row){*p, e->step, peak > 0 ? e->model_flops / (e->step * peak) : 0, e->mem.per_chip_bytes};
    }
    res->n_top = S.n_top;
  }
  const costed *best = S.best_payload;
  return fill_result(res, sc, &S.best, &best->P, &best->e, &ctx, err);
}

/* After a training run whose default plan (no `parallel` key: every chip data-parallel) does not fit:
 * the plan that `parallel: auto` finds, named in the reason, so that the answer says what to write
 * (or that no plan fits these chips at all).  Only `silica run` asks for it (sl_run_params.plan_hint):
 * one more plan search, off the path of sweeps and validation. */
sl_status train_fit_hint(const sl_scenario *sc, sl_result *res, sl_error *err) {
  /* memory was checked and is short (a plan that could not be formed leaves res->mem unset) */
  int short_of_memory = res->mem.capacity_bytes > 0 && !res->mem.fits;
  if (res->feasible || !short_of_memory || !sc->parallel_default || sc->task != SL_TASK_TRAIN ||
      sc->model.kind != SL_MODEL_TRANSFORMER)
    return SL_OK;
  sl_scenario c = *sc;
  c.a = (arena){0};
  c.parallel_default = 0, c.parallel_auto = 1;
  c.par = (sl_parallel){SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, 0, 0};
  sl_result t;
  memset(&t, 0, sizeof t);
  ar_init(&t.a);
  sl_status s = train_run(&c, &t, 0, err);
  size_t len = strlen(res->reason);
  char *at = res->reason + len;
  size_t room = sizeof res->reason - len;
  if (!s && t.feasible) {
    const sl_parallel *q = &t.par;
    char cp[24] = "", vpp[24] = "";
    if (q->cp > 1) snprintf(cp, sizeof cp, ", cp %g", q->cp);
    if (q->vpp > 1) snprintf(vpp, sizeof vpp, ", vpp %g", q->vpp);
    snprintf(at, room,
             "; `parallel: auto` finds a plan that fits: tp %g, pp %g%s, dp %g%s, zero %g%s (%.3g s a step)",
             q->tp, q->pp, cp, q->dp, vpp, q->zero, q->sp ? ", sequence parallel" : "", t.step_time_s);
  } else if (!s) {
    snprintf(
        at, room,
        "; no plan of `parallel: auto` fits these %g chips either (at this micro-batch and recompute): give "
        "more chips",
        sc->chips);
  }
  ar_free(&t.a);
  return s;
}

/* ---- for tests: the schedule, event by event -------------------------------------------------- */

/* 1F1B (non-interleaved) over p stages with forward f[s] and backward b[s] per micro-batch: each
 * stage runs min(m, p - s) warm-up forwards, then alternates one backward and one forward, then
 * drains.  Returns the makespan.  O(p*m); tests only. */
double train_1f1b_reference(const double *f, const double *b, int p, int m) {
  enum { MAXP = 64, MAXM = 512 };
  if (p > MAXP || m > MAXM) return NAN;
  static _Thread_local double fend[MAXP][MAXM], bend[MAXP][MAXM];
  double free_at[MAXP] = {0};
  int nf[MAXP] = {0}, nb[MAXP] = {0};
  /* Each stage's order of work: warm-up forwards, then (backward, forward) pairs, then backwards. */
  int order[MAXP][2 * MAXM];
  int len[MAXP];
  for (int s = 0; s < p; s++) {
    int warm = p - s < m ? p - s : m, k = 0;
    for (int i = 0; i < warm; i++)
      order[s][k++] = 0;
    for (int i = 0; i < m - warm; i++)
      order[s][k++] = 1, order[s][k++] = 0;
    for (int i = 0; i < warm; i++)
      order[s][k++] = 1;
    len[s] = k;
  }
  int pos[MAXP] = {0}, done = 0, total = 0;
  for (int s = 0; s < p; s++)
    total += len[s];
  while (done < total) {
    int progressed = 0;
    for (int s = 0; s < p; s++) {
      if (pos[s] >= len[s]) continue;
      int kind = order[s][pos[s]];
      double ready;
      if (kind == 0) {
        int i = nf[s];
        if (s > 0 && nf[s - 1] <= i) continue;
        ready = s > 0 ? fend[s - 1][i] : 0;
        double start = ready > free_at[s] ? ready : free_at[s];
        fend[s][i] = start + f[s];
        free_at[s] = fend[s][i];
        nf[s]++;
      } else {
        int i = nb[s];
        if (nf[s] <= i) continue;
        if (s < p - 1 && nb[s + 1] <= i) continue;
        ready = s < p - 1 ? bend[s + 1][i] : fend[s][i];
        double start = ready > free_at[s] ? ready : free_at[s];
        bend[s][i] = start + b[s];
        free_at[s] = bend[s][i];
        nb[s]++;
      }
      pos[s]++;
      done++;
      progressed = 1;
    }
    if (!progressed) return NAN; /* deadlock: a bug */
  }
  return bend[0][m - 1];
}
