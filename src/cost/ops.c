/* ops.c — cost of the non-GEMM kernels on one chip (fused attention, streaming element-wise /
 * norm / softmax / optimizer kernels, random gathers) and the per-op dispatch. */
#include "cost/cost.h"

#include <math.h>

/* Vector FLOP per attention score in the online softmax (scale, running max, subtract, exp,
 * running sum, rescale): FlashAttention-2 (Dao 2023) §3.1 counts these as the non-matmul work. */
enum { SOFTMAX_FLOPS_PER_SCORE = 6 };
/* Query rows per tile and key/value rows per block of a flash-style kernel: FlashAttention-2
 * uses 128 x 64 where the SRAM allows, smaller blocks on chips with less (e.g. 64 KB LDS). */
static const double ATTN_BLOCKS[][2] = {{128, 64}, {64, 64}, {64, 32}};

/* The largest block pair whose working set (Q tile, K and V blocks, fp32 scores) fits the
 * per-core SRAM; 0 when none does. */
static int attention_blocks(const sl_chip *c, double head_dim, double bytes, double *bq, double *bkv) {
  const sl_mem_level *sram = chip_core_sram(c);
  for (size_t i = 0; i < sizeof ATTN_BLOCKS / sizeof ATTN_BLOCKS[0]; i++) {
    double q = ATTN_BLOCKS[i][0], kv = ATTN_BLOCKS[i][1];
    double need = (q * head_dim + 2.0 * kv * head_dim) * bytes + q * kv * 4.0;
    if (!sram || need <= sram->capacity_bytes) {
      *bq = q, *bkv = kv;
      return 1;
    }
  }
  return 0;
}

int attention_fits(const sl_chip *c, double head_dim, double bytes) {
  double q, kv;
  return attention_blocks(c, head_dim, bytes, &q, &kv);
}

sl_lowering cost_lowering(const sl_scenario *sc) {
  sl_lowering lw;
  const double *mat = sc->chip.mat_macs_per_cycle;
  lw.compute_dt = mat[sc->g_dtype] > 0 ? sc->g_dtype : mat[sc->a_dtype] > 0 ? sc->a_dtype : sc->w_dtype;
  lw.cast_inputs = sl_dtype_bytes[lw.compute_dt] < sl_dtype_bytes[sc->a_dtype];
  lw.fused_ew = sc->stack.fused_elementwise;
  lw.fused_grad_accum = sc->stack.grad_accum_fusion;
  lw.fused_ce = sc->stack.fused_cross_entropy;
  lw.gelu_epilogue = sc->stack.gelu_epilogue && sl_dtype_bytes[lw.compute_dt] >= 2;
  lw.fused_add_norm = sc->stack.fused_add_norm;
  double hd = sc->model.kind == SL_MODEL_TRANSFORMER ? (double)sc->model.tf.head_dim
              : sc->model.kind == SL_MODEL_OP        ? sc->model.op.head_dim
                                                     : 0;
  /* The family: a single attention op's own `kernel`, else the stack's.  A stack whose family the
   * chip cannot run gets the chip's generic fused kernel (frameworks pick the backend the device
   * has); an op that asks for one explicitly is infeasible on this chip. */
  const sl_op_spec *op = &sc->model.op;
  int explicit = sc->model.kind == SL_MODEL_OP && op->type == SL_OPT_ATTENTION && op->kernel_given;
  sl_attn_kernel fam = explicit ? op->kernel : sc->stack.attention_kernel;
  lw.attn_unavailable = 0;
  if (fam != SL_ATTN_UNFUSED && !(sc->chip.eff_attention[fam] > 0)) {
    if (explicit) lw.attn_unavailable = 1;
    fam = SL_ATTN_FUSED;
  }
  lw.attn_family = fam;
  lw.fused_attn =
      fam != SL_ATTN_UNFUSED && hd > 0 && attention_fits(&sc->chip, hd, sl_dtype_bytes[sc->a_dtype]);
  return lw;
}

sl_cost cost_attention(const sl_costctx *ctx, const sl_attn_shape *a) {
  const sl_chip *c = ctx->chip;
  sl_cost r = {0};
  double C = c->cores, group = a->heads / a->kv_heads, bq = 128, bkv = 64;
  attention_blocks(c, a->head_dim, sl_dtype_bytes[a->dt], &bq, &bkv);
  /* Queries that share a K/V head are processed together (GQA grouping, as in flash-decoding). */
  double q_rows = a->q_len * group;
  double items = a->batch * a->kv_heads * ceil(q_rows / bq);
  double splits = 1; /* split the KV length over more cores when there are few items */
  if (items < C) splits = fmax(1, fmin(floor(C / items), ceil(a->kv_len / (4.0 * bkv))));
  double rows = fmin(q_rows, bq);
  double kv_item = a->kv_len / splits;
  double mm = a->backward ? 2.5 : 1.0; /* backward: 5 matmuls against 2 (FlashAttention-2 §3.2) */
  double vec = a->backward ? 2.0 : 1.0;
  double rows_pad = ceil(rows / c->mat_shape_m) * c->mat_shape_m;
  /* The family's matrix throughput: its fraction of the GEMM efficiency on this chip (e.g.
   * FlashAttention-2 issues Ampere's synchronous mma on Hopper and cannot reach the wgmma rate);
   * a backward pass sustains the chip's backward fraction of that. */
  double fam =
      a->family > SL_ATTN_UNFUSED && c->eff_attention[a->family] > 0 ? c->eff_attention[a->family] : 1;
  if (a->backward && c->eff_attention_bwd > 0) fam *= c->eff_attention_bwd;
  double peak_core = gemm_core_flops(c, a->dt) * fam;
  double vec_core = c->vec_flops_per_cycle[SL_FP32] * c->clock_ghz * 1e9 * c->eff_vector;
  /* One key/value block of one tile: its matrix products and its online-softmax work. */
  double t_block = mm * 4.0 * rows_pad * bkv * a->head_dim / peak_core +
                   vec * SOFTMAX_FLOPS_PER_SCORE * rows * bkv / vec_core;
  /* A tile costs a fixed part (its Q tile loaded, its output and statistics written, the pipeline
   * filled and drained; the backward's dK/dV or dQ too: twice) plus its blocks.  The chip's figure
   * is that of a full tile of bq query rows; a shorter tile (a decode step's one query per sequence,
   * its GQA group at most: flash-decoding, TensorRT-LLM's XQA / masked MHA, vLLM's paged attention)
   * loads and writes that many rows, keeps its few accumulators in a fraction of the registers and
   * SRAM, so that many such tiles share a core and overlap their pipeline fill: its fixed part is
   * the full tile's scaled by its rows. */
  double t_tile = c->attn_tile_s * (a->backward ? 2.0 : 1.0) * rows / bq;
  double t_compute, t_fixed, causal_frac = 1;
  if (!a->causal || a->q_len > a->kv_len || splits > 1) {
    /* Every tile sees the same keys (a causal mask over more queries than keys, or a split
     * decode, is rare: taken as full).  Equal tiles finish in whole waves over the cores. */
    if (a->causal) causal_frac = fmin(1.0, (a->kv_len - a->q_len / 2.0 + bq / 2.0) / a->kv_len);
    double w = t_tile + kv_item * causal_frac / bkv * t_block;
    t_compute = ceil(items * splits / C) * w;
    t_fixed = ceil(items * splits / C) * t_tile;
  } else {
    /* Causal: query tile i (of nq per head) sees the keys before its last query, off + (i+1) r
     * with r = bq / group queries per tile and off = kv_len - q_len, in whole blocks (the
     * diagonal block computed in full: half a block on average unless the counts are whole blocks).  Tiles of
     * unequal length are dispatched in order, so the longest ones end the kernel: the cores drain unevenly
     * over the last tile, on average half of the longest tile after the mean load W / C. */
    double nq = ceil(q_rows / bq), r_q = bq / group, off = a->kv_len - a->q_len;
    double keys_sum = nq * off + r_q * nq * (nq + 1) / 2.0 - fmax(0, nq * r_q - a->q_len);
    /* Key counts that are whole blocks (off and r multiples of bkv) need no rounding. */
    double partial = fmod(off, bkv) == 0 && fmod(r_q, bkv) == 0 ? 0 : 0.5;
    double blocks_sum = keys_sum / bkv + partial * nq;
    double w_max = t_tile + (ceil(a->kv_len / bkv - 1e-9)) * t_block;
    double W = a->batch * a->kv_heads * (nq * t_tile + blocks_sum * t_block);
    t_compute = fmax(w_max, W / C + 0.5 * w_max);
    t_fixed = fmin(t_compute, a->batch * a->kv_heads * nq * t_tile / C);
    causal_frac = fmin(1.0, keys_sum / (nq * a->kv_len));
  }
  double waves = ceil(items * splits / C);
  double act = sl_dtype_bytes[a->dt];
  double q_bytes = a->batch * a->q_len * a->heads * a->head_dim * act;
  double kv_bytes = 2.0 * a->batch * a->kv_len * a->kv_heads * a->head_dim * a->kv_bytes;
  double dram = 2.0 * q_bytes + kv_bytes;                 /* read Q, K, V; write O */
  if (a->backward) dram = 4.0 * q_bytes + 2.0 * kv_bytes; /* read Q, O, dO, K, V; write dQ, dK, dV */
  if (splits > 1) dram += 2.0 * splits * a->batch * q_rows * a->kv_heads * (a->head_dim + 2) * 4.0;
  double t_dram = dram / ctx->mem_bw;
  double body = fmax(t_compute, t_dram);
  r.time_s = body + c->kernel_latency_s * (splits > 1 ? 2 : 1);
  /* Over a serving engine's paged KV cache the call is more than the attention kernel: the new
   * tokens' K and V are written into their blocks and the engine's backend runs its own kernels
   * around the attention (a fixed part, kernels.paged_attention_call_s), and each sequence's keys
   * start with dependent reads, its block table and then its first page, that its stream cannot
   * hide (kernels.paged_attention_seq_s a sequence; docs/model.md 3). */
  if (a->paged && !a->backward) r.time_s += c->attn_paged_call_s + a->batch * c->attn_paged_seq_s;
  /* The tiles' fixed part is latency (loads, writes, pipeline fill), not matrix work. */
  r.bound = t_compute - t_fixed >= t_dram ? SL_BOUND_COMPUTE : SL_BOUND_MEMORY;
  if (r.bound == SL_BOUND_MEMORY && t_fixed > t_dram) r.bound = SL_BOUND_LATENCY;
  if (r.time_s - body > body) r.bound = SL_BOUND_LATENCY;
  r.flops = mm * 4.0 * a->batch * a->heads * a->q_len * a->kv_len * causal_frac * a->head_dim;
  r.dram_bytes = dram;
  r.clocked_s = t_compute, r.dram_s = t_dram;
  /* Energy counts (src/cost/energy.c): K and V stream from the shared level through the per-core
   * SRAM once per query tile (twice in the backward), Q in and O out once.  The matrix engine
   * executes whole tiles (energy-cost.md §1: MACs with padded tiles included, as for GEMMs): a
   * tile of fewer query rows than the engine's m (a decode step's GQA group of 4 in a 64-row
   * wgmma) issues the padded products, and its softmax runs over the padded rows too (their
   * scores are zero, not masked, so P·V multiplies real values). */
  double pad = rows > 0 ? rows_pad / rows : 1;
  r.macs = r.flops / 2.0 * pad;
  r.vec_flops = vec * SOFTMAX_FLOPS_PER_SCORE * a->batch * a->heads * a->q_len * a->kv_len * causal_frac * pad;
  r.l2_bytes = a->batch * a->kv_heads * ceil(q_rows / bq) * a->kv_len * causal_frac * 2.0 * a->head_dim *
                   a->kv_bytes * (a->backward ? 2.0 : 1.0) +
               2.0 * q_bytes;
  if (chip_core_sram(c)) r.core_bytes = 2.0 * r.l2_bytes;
  r.waves = waves;
  r.tiles = items * splits;
  return r;
}

sl_cost cost_stream(const sl_costctx *ctx, double bytes, double flops, sl_dtype dt) {
  const sl_chip *c = ctx->chip;
  sl_cost r = {0};
  double t_mem = bytes / ctx->stream_bw;
  double t_vec = flops / (chip_vec_flops(c, dt) * c->eff_vector);
  double body = fmax(t_mem, t_vec);
  r.time_s = body + c->kernel_latency_s;
  r.bound = t_vec > t_mem ? SL_BOUND_COMPUTE : SL_BOUND_MEMORY;
  if (c->kernel_latency_s > body) r.bound = SL_BOUND_LATENCY;
  r.flops = flops;
  r.vec_flops = flops;
  r.dram_bytes = bytes;
  r.clocked_s = t_vec, r.dram_s = t_mem;
  return r;
}

sl_cost cost_gather(const sl_costctx *ctx, double lookups, double row_bytes) {
  /* Rows move in whole DRAM access units; 64 B is the access granularity of HBM and LPDDR5
   * bursts (equations.md, "Embedding bags"). */
  const double access = 64;
  double moved = lookups * ceil(row_bytes / access) * access;
  sl_cost r = cost_stream(ctx, moved + lookups * row_bytes, 0, SL_FP32);
  r.dram_bytes = moved + lookups * row_bytes;
  return r;
}

/* A kernel as the stack launches it: the launch rule over a device time. */
static double launched(const sl_stack *st, double t) {
  /* launched ahead (launch_ahead): the device waits on the host only when a kernel is shorter than
   * a launch; otherwise every launch adds its time */
  return st->launch_ahead ? fmax(t, st->kernel_overhead_s) : t + st->kernel_overhead_s;
}

double cost_launched(const sl_stack *st, double time_s) {
  return launched(st, time_s / st->efficiency);
}

double cost_stack_core_j(const sl_stack *st, double e_core_j) {
  return e_core_j / st->efficiency;
}

/* The stack's efficiency stands for its kernels' losses against the kernel-level model: the GEMM
 * configurations its libraries pick for each shape, its element-wise code, stalls inside its
 * kernels (the gaps between kernels are kernel_overhead_s); the kernel draws its on-chip power for
 * the stretched time (cost_stack_core_j).  A fused attention kernel bound by its K/V reads (a decode step:
 * flash-decoding, TensorRT-LLM's XQA, vLLM's paged attention) is one stream of the KV cache over thousands of
 * independent (sequence, head, split) items: its rate is the memory system's, the chip's DRAM figure, which
 * the stack's code does not lower. */
static int kv_stream(const sl_op *op, const sl_cost *r) {
  return op->kernel == SL_K_ATTN_FUSED && r->bound == SL_BOUND_MEMORY;
}

/* The engine's own all-reduce kernels inside one scale-up domain, where it has them (collective.c).
 * vLLM (distributed/device_communicators/cuda_communicator.py) tries its P2P kernel first, for
 * buffers below its limit, then PyTorch symmetric memory's kernel below that one's, then NCCL.  Both
 * limits depend on the ranks and, with symmetric memory, on the chip's architecture
 * (all_reduce_utils.py): the stack's allreduce_limits give them for the chip's `arch`, with
 * symmetric memory's kernel either the switch's multimem one or its two-shot one.  Without symmetric
 * memory, or on a chip whose arch the stack lists no limits for (symmetric memory needs the
 * architecture's table), the P2P kernel takes buffers below its 8 MiB buffer and NCCL the rest.
 * Each kernel runs where the link has its figures; otherwise the call falls through. */
sl_cost cost_collective_call(const sl_costctx *ctx, sl_coll type, double S, double n, double k) {
  sl_cost r = {0};
  const sl_stack *st = ctx->stack;
  if (type == SL_COLL_ALL_REDUCE && k >= n && (st->custom_allreduce || st->symm_mem_allreduce)) {
    const double MIB = 1048576.0;
    int ranks = (int)lround(n);
    int slot = fabs(n - ranks) < 1e-9 && ranks >= 2 && ranks <= 8 && ranks % 2 == 0 ? ranks / 2 - 1 : -1;
    const sl_ar_limits *lim = slot >= 0 ? ctx->ar_limits : NULL;
    double ca_max = lim ? fmin(8 * MIB, lim->custom_max[slot]) : 8 * MIB;
    if (st->custom_allreduce && S < ca_max) r = cost_allreduce_p2p(&ctx->net, S, n, st->p2p_allreduce);
    if (!(r.time_s > 0) && lim && (S >= ca_max || !st->custom_allreduce) && S < lim->symm_max[slot])
      r = lim->multimem[slot] ? cost_allreduce_multimem(&ctx->net, S, n)
                              : cost_allreduce_symm_two_shot(&ctx->net, S, n);
    /* the engine's own kernel: its figures are fitted to that kernel's timings as the engine runs it
     * (vLLM's benchmark_device_communicators.py, CUDA-graph timed), so the stack's losses are in them */
    if (r.time_s > 0) return r;
  }
  r = cost_collective(&ctx->net, type, S, n, k);
  r.time_s /= ctx->stack->efficiency;
  return r;
}

int cost_launch_bound(const sl_stack *st, double time_s) {
  if (st->launch_ahead) return st->kernel_overhead_s >= time_s;
  return st->kernel_overhead_s > time_s - st->kernel_overhead_s;
}

/* A row reduction (softmax, layer or RMS norm) keeps each row on chip between its reduction and
 * its output pass when the row fits the shared memory of one thread block; a longer row is read
 * from memory again for the second pass (online softmax: one pass for the running maximum and sum,
 * one to normalise and write; Milakov & Gimelshein 2018).  The extra bytes. */
double stream_reread(const sl_chip *c, const sl_op *op) {
  if (op->kernel != SL_K_STREAM || !(op->u.s.row_bytes > 0)) return 0;
  const sl_mem_level *sram = chip_core_sram(c);
  double fit = c->block_sram_bytes > 0 ? c->block_sram_bytes : sram ? sram->capacity_bytes : 0;
  return fit > 0 && op->u.s.row_bytes > fit ? op->u.s.reread_bytes : 0;
}

sl_cost cost_op(const sl_costctx *ctx, const sl_op *op) {
  sl_cost r;
  switch (op->kernel) {
  case SL_K_GEMM:
    r = cost_gemm(ctx, &op->u.g);
    break;
  case SL_K_ATTN_FUSED:
    r = cost_attention(ctx, &op->u.at);
    break;
  case SL_K_GATHER:
    r = cost_gather(ctx, op->u.e.lookups, op->u.e.row_bytes);
    break;
  case SL_K_COLL:
    r = cost_collective_call(ctx, op->u.c.type, op->u.c.bytes, op->u.c.n, op->u.c.k);
    break;
  case SL_K_STREAM:
  default:
    r = cost_stream(ctx, op->u.s.bytes + stream_reread(ctx->chip, op), op->u.s.flops, op->u.s.dt);
    break;
  }
  sl_dtype dt = op->kernel == SL_K_GEMM         ? op->u.g.dt
                : op->kernel == SL_K_ATTN_FUSED ? op->u.at.dt
                : op->kernel == SL_K_STREAM     ? op->u.s.dt
                                                : SL_FP32;
  if (op->kernel == SL_K_COLL) {
    /* A collective sends its share over the links and reads and writes its buffers in DRAM. */
    r.link_bytes = coll_link_bytes(op->u.c.type, op->u.c.bytes, op->u.c.n);
    r.dram_bytes = 2.0 * op->u.c.bytes;
    r.collective = 1;
    energy_of_cost(ctx->chip, dt, ctx->resident, &r);
    r.dram_bytes =
        0; /* the DRAM traffic of collectives is not part of the op's bytes (rows use the message) */
  } else {
    energy_of_cost(ctx->chip, dt, ctx->resident, &r); /* over the kernel-level time, moved to the top clock */
    if (kv_stream(op, &r)) {
      r.time_s = launched(ctx->stack, r.time_s);
    } else {
      /* the stack's losses stretch the kernel's parts alike (its clocked work and its stream) */
      double eff = ctx->stack->efficiency;
      r.e_core_j = cost_stack_core_j(ctx->stack, r.e_core_j);
      r.time_s = cost_launched(ctx->stack, r.time_s);
      r.clocked_s /= eff, r.dram_s /= eff, r.stall_s /= eff;
    }
  }
  return r;
}
