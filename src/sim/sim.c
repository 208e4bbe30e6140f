/* sim.c — one step of a scenario: inference tasks and single ops here (tensor-, pipeline- and
 * data-parallel over a system), training in train.c.  Memory footprint, per-op cost, roll-up
 * into the result (step time, throughput, latency, MFU, breakdown). */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double GIB = 1073741824.0; /* text figures of memory are in GiB, as the reports */

double inference_max_batch(const sl_scenario *sc) {
  /* Memory is linear in the batch: the largest batch whose footprint fits (0 when none does). */
  sl_scenario c = *sc;
  c.par = scenario_parallel(sc);
  sl_plan p = plan_of_scenario(&c);
  int fused = cost_lowering(sc).fused_attn;
  sl_memory m1, m2;
  c.batch = p.mb = 1;
  inference_memory(&c, &p, fused, &m1);
  c.batch = p.mb = 2;
  inference_memory(&c, &p, fused, &m2);
  double per = m2.per_chip_bytes - m1.per_chip_bytes;
  if (m1.per_chip_bytes > m1.capacity_bytes || per <= 0) return 0;
  double b = floor((m1.capacity_bytes - m1.per_chip_bytes) / per) + 1;
  /* confirm against rounding in the footprint */
  for (; b > 1; b--) {
    c.batch = p.mb = b;
    inference_memory(&c, &p, fused, &m2);
    if (m2.fits) break;
  }
  return b * p.dp;
}

/* Evaluates the graph: sums time, fills rows; with es, also the energy sums and each
 * row's dynamic energy on and off the clock domain (row_core[i], row_off[i]). */
static double evaluate(const sl_costctx *ctx, const sl_costctx *gctx, const sl_graph *g, sl_row *rows,
                       double *hw_flops, sl_esum *es, double *row_core, double *row_off) {
  double total = 0, flops = 0;
  for (size_t i = 0; i < g->n; i++) {
    const sl_op *op = &g->ops[i];
    /* decode steps replay a captured graph (gctx: the stack as it runs one), the rest launch eagerly */
    sl_cost c = cost_op(gctx && op->phase == SL_PH_DECODE ? gctx : ctx, op);
    double t = c.time_s * op->count;
    total += t;
    flops += c.flops * op->count;
    if (rows) {
      sl_row *r = &rows[i];
      /* Useful FLOP (padding excluded), so FLOP / time reads as achieved throughput. */
      double useful =
          op->kernel == SL_K_GEMM ? 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch : c.flops;
      *r = sl_row_make(op->name, op->phase, op->cat, c.bound, op->count, t, useful * op->count,
                       (op->kernel == SL_K_COLL ? op->u.c.bytes : c.dram_bytes) * op->count);
      if (op->kernel != SL_K_COLL && cost_launch_bound(ctx->stack, c.time_s)) r->bound = SL_BOUND_LATENCY;
      c.bound = r->bound; /* the rows' bound decides what the clock slows, so they add up */
      r->clk = clockpart_of(&c, op->count);
      if (es) {
        esum_add(es, &c, op->count, t);
        row_core[i] = c.e_core_j * op->count;
        row_off[i] = c.e_off_j * op->count;
      }
    }
  }
  if (hw_flops) *hw_flops = flops;
  return total;
}

static double model_flops_of(const sl_graph *g) {
  double f = 0;
  for (size_t i = 0; i < g->n; i++)
    f += g->ops[i].model_flops * g->ops[i].count;
  return f;
}

static void not_fit_reason(sl_result *res, const sl_scenario *sc, const char *what) {
  const sl_memory *m = &res->mem;
  res->feasible = 0;
  snprintf(res->reason, sizeof res->reason,
           "%s: needs %.2f GiB per chip (weights %.2f GiB, activations %.2f GiB, KV cache "
           "%.2f GiB) "
           "but %s has %.2f GiB",
           what, m->per_chip_bytes / GIB, m->weights_bytes / GIB, m->activations_bytes / GIB,
           m->kv_cache_bytes / GIB, sc->chip.name, m->capacity_bytes / GIB);
}

/* After "does not fit": the plan that would, or why none within the system does. */
static void fit_hint(sl_result *res, const sl_scenario *sc) {
  if (sc->model.kind != SL_MODEL_TRANSFORMER) return;
  size_t len = strlen(res->reason);
  char *at = res->reason + len;
  size_t room = sizeof res->reason - len;
  double pp = sc->par.pp > 0 ? sc->par.pp : 1;
  double t = inference_fit_tp(sc, 0);
  char pps[32] = "";
  if (pp > 1) snprintf(pps, sizeof pps, ", pp: %g", pp);
  if (t > 0 && !sc->parallel_default)
    snprintf(at, room, "; parallel: {tp: %g%s} fits (%g replicas)", t, pps, sc->chips / (t * pp));
  else if (sc->chips <= 1)
    snprintf(at, room,
             "; one chip is not enough: give a system of more chips, a smaller batch or a narrower "
             "format");
  else
    snprintf(at, room,
             "; no tp within the %g-chip scale-up domain fits on these %g chips: give more chips "
             "(and pp), a smaller batch or a narrower format",
             fmin(sc->node_chips, sc->chips), sc->chips);
}

static sl_status inference_run(const sl_scenario *sc_in, sl_result *res, sl_gemm_memo *memo, sl_error *err) {
  /* Data-parallel replicas share the batch; each replica is tp x pp chips. */
  sl_scenario sc = *sc_in;
  sc.a = (arena){0};
  sc.par = scenario_parallel(sc_in);
  sl_plan p = plan_of_scenario(&sc);
  double replicas = p.dp;
  /* infer.batch: max is resolved here, for the memory of the chip being run (a sweep over memory
   * sizes gets a batch per design point).  When not even one sequence per replica fits, that batch
   * is run so that the result says by how much. */
  double B = sc_in->batch;
  if (sc_in->batch_max) {
    B = inference_max_batch(sc_in);
    if (B < 1) B = replicas;
  }
  res->batch = B;
  if (sc.model.kind == SL_MODEL_TRANSFORMER) {
    sc.batch = ceil(B / replicas);
    p.mb = sc.batch;
  }
  res->par = sc.par;
  if (cost_lowering(&sc).attn_unavailable) {
    res->feasible = 0;
    snprintf(res->reason, sizeof res->reason,
             "%s cannot run the %s attention kernel (its efficiency.attention.%s is 0)", sc.chip.name,
             sl_attn_kernel_names[sc.model.op.kernel], sl_attn_kernel_names[sc.model.op.kernel]);
    return SL_OK;
  }
  int fused = cost_lowering(&sc).fused_attn;
  inference_memory(&sc, &p, fused, &res->mem);
  double l2cap = chip_l2(&sc.chip) ? chip_l2(&sc.chip)->capacity_bytes : 0;
  int resident = !sc.stack.cold_cache && res->mem.per_chip_bytes <= 0.5 * l2cap;
  sl_costctx ctx;
  cost_ctx_init(&ctx, &sc.chip, &sc.stack, resident);
  ctx.gemm_memo = memo;
  net_init(&ctx.net, &sc.scale_up, &sc.scale_out, sc.node_chips);
  if (!res->mem.fits) {
    not_fit_reason(res, &sc,
                   sc_in->batch_max ? "batch: max, but not even one sequence fits in memory"
                                    : "does not fit in memory");
    fit_hint(res, sc_in);
    return SL_OK;
  }
  sl_graph g = {0};
  sl_lowering lw = cost_lowering(&sc);
  sl_status s = graph_build_part(&res->a, &sc, &lw, &p, SL_PART_ALL, &g, err);
  if (s) return s;
  res->rows = ar_alloc(&res->a, (g.n + 3) * sizeof *res->rows); /* + pp_send_recv, host rows */
  if (!res->rows) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  res->n_rows = g.n;
  sl_esum es = {0};
  double *row_core = ar_alloc(&res->a, 2 * (g.n + 3) * sizeof *row_core);
  if (!row_core) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  double *row_off = row_core + g.n + 3;
  sl_stack gstack;
  sl_costctx gctx;
  int graphs = stack_graph_variant(&sc.stack, &gstack);
  if (graphs) {
    cost_ctx_init(&gctx, &sc.chip, &gstack, resident);
    gctx.gemm_memo = memo;
    gctx.net = ctx.net;
  }
  double hw = 0, step = evaluate(&ctx, graphs ? &gctx : NULL, &g, res->rows, &hw, &es, row_core, row_off);
  /* Energy : the graph is one tensor-parallel rank's share of every layer, so the system
   * does it tp x replicas times, and each of the pp chips of a rank does 1/pp of it. */
  double sys_core = es.e_core * p.tp * replicas, sys_off = es.e_off * p.tp * replicas;
  sl_esum busy = es;
  busy.e_core /= p.pp, busy.e_off /= p.pp;
  if (p.pp > 1 && sc.model.kind == SL_MODEL_TRANSFORMER) {
    /* The batch crosses pp - 1 stage boundaries per pass: its activations, split over tp. */
    double T = sc.batch * (sc.task == SL_TASK_DECODE ? 1 : sc.prompt_len);
    double passes = sc.task == SL_TASK_GENERATE ? sc.gen_len : 1;
    double k = p.tp * p.dp * 2 <= sc.node_chips ? 2 : 1;
    double msg = T * (double)sc.model.tf.hidden * sl_dtype_bytes[sc.a_dtype] / p.tp;
    sl_cost c = cost_collective_call(&ctx, SL_COLL_SEND_RECV, msg, 2, k);
    double t = c.time_s * (p.pp - 1) * passes;
    res->rows[res->n_rows++] =
        sl_row_make("pp_send_recv", SL_PH_COMM, SL_CAT_COLLECTIVE, c.bound, (p.pp - 1) * passes, t, 0,
                    T * (double)sc.model.tf.hidden * sl_dtype_bytes[sc.a_dtype] / p.tp);
    row_core[g.n] = 0;
    row_off[g.n] = msg * sc.chip.energy.link_j_per_byte * (p.pp - 1) * passes;
    busy.e_off += msg * sc.chip.energy.link_j_per_byte * passes;
    sys_off += row_off[g.n] * p.tp * replicas;
    step += t;
  }
  if (sc.model.kind == SL_MODEL_TRANSFORMER && (sc.stack.host_step_s > 0 || sc.stack.host_seq_s > 0)) {
    /* The engine's host work per step (the batch's sequences each step): the prefill is the first
     * step, nothing before it to hide behind; each decode step's is hidden up to its device time when
     * the stack overlaps them. */
    double pre = 0, dec = 0;
    for (size_t i = 0; i < res->n_rows; i++)
      if (res->rows[i].phase == SL_PH_PREFILL)
        pre += res->rows[i].time_s;
      else
        dec += res->rows[i].time_s;
    double n_pre = sc.task == SL_TASK_DECODE ? 0 : 1;
    double n_dec = sc.task == SL_TASK_DECODE ? 1 : sc.task == SL_TASK_GENERATE ? fmax(0, sc.gen_len - 1) : 0;
    double host[2] = {n_pre * (step_with_host(&sc.stack, pre, sc.batch, 1) - pre),
                      n_dec > 0 ? n_dec * (step_with_host(&sc.stack, dec / n_dec, sc.batch, 0) - dec / n_dec)
                                : 0};
    for (int k = 0; k < 2; k++) {
      if (!(host[k] > 0)) continue;
      sl_phase ph = k ? SL_PH_DECODE : SL_PH_PREFILL;
      res->rows[res->n_rows] =
          sl_row_make("host", ph, SL_CAT_OTHER, SL_BOUND_LATENCY, k ? n_dec : n_pre, host[k], 0, 0);
      row_core[res->n_rows] = row_off[res->n_rows] = 0;
      res->n_rows++;
      step += host[k];
    }
  }
  res->feasible = 1;
  res->step_time_s = step;
  {
    double tokens = 0, samples = 0;
    if (sc.task == SL_TASK_PREFILL) tokens = B * sc.prompt_len;
    if (sc.task == SL_TASK_DECODE) tokens = B;
    if (sc.task == SL_TASK_GENERATE) tokens = B * sc.gen_len;
    if (sc.task == SL_TASK_INFER && sc.model.kind == SL_MODEL_OP && sc.model.op.type == SL_OPT_EMBEDDING_BAG)
      samples = sc.model.op.batch;
    res->chips = sc.chips;
    power_fill_result(&sc.chip, &busy, sys_core, sys_off, tokens, samples, row_core, row_off, res);
    step = res->step_time_s; /* at the clock the TDP allows */
  }
  res->hw_flops = hw * sc.chips;
  double model_f = model_flops_of(&g) * p.tp * replicas; /* one chip's share x chips in a replica */
  res->model_flops = model_f;
  sl_dtype cdt = lw.compute_dt; /* the format the matrix products run in */
  double peak = chip_peak_flops(&sc.chip, cdt) * sc.chips;
  if (peak > 0 && model_f > 0) {
    res->has_mfu = 1;
    res->mfu = model_f / (step * peak);
    res->hfu = res->mfu;
    res->flops_per_chip_per_s = model_f / step / sc.chips;
  }
  switch (sc.task) {
  case SL_TASK_PREFILL:
    res->has_tokens = res->has_ttft = 1;
    res->tokens_per_s = B * sc.prompt_len / step;
    res->ttft_s = step;
    res->tpot_s = NAN;
    break;
  case SL_TASK_DECODE:
    res->has_tokens = res->has_ttft = 1;
    res->tokens_per_s = B / step;
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
    res->tokens_per_s = B * sc.gen_len / step;
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

static sl_status run(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_gemm_memo *memo,
                     sl_error *err) {
  res->task = sc->task;
  res->chips = sc->chips;
  res->micro_batch = 0;
  res->recompute = sc->recompute;
  sl_status s;
  if (sc->model.kind == SL_MODEL_DLRM) /* dlrm.c: train and infer of a ranking model */
    s = dlrm_run(sc, res, err);
  else if (sc->task == SL_TASK_TRAIN && sc->model.kind == SL_MODEL_TRANSFORMER)
    s = train_run(sc, res, top_plans, err);
  else if (sc->task == SL_TASK_SERVE)
    s = serve_run(sc, res, err);
  else
    s = inference_run(sc, res, memo, err);
  if (!s && res->feasible) econ_fill_result(sc, res); /* cost per hour and per token */
  return s;
}

sl_status sim_run_top(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_error *err) {
  return run(sc, res, top_plans, NULL, err);
}

sl_status sim_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  return run(sc, res, 0, NULL, err);
}

sl_status sim_run_memo(const sl_scenario *sc, sl_gemm_memo *memo, sl_result *res, sl_error *err) {
  return run(sc, res, 0, memo, err);
}
