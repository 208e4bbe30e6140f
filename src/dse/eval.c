/* eval.c — one design point: the base chip with the point's parameter values set, its derived
 * figures re-derived (die area by the area model, energy per action and static power by the
 * energy model), the constraints checked, then every workload of the mix run with sim_run on a
 * shallow copy of its loaded scenario and a reused result arena (no parsing, no malloc per point
 * once the arena has grown). */
#include "dse/dse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Throughput, perf/W, perf/TCO of one result (as silica compare). */
static int workload_metrics(const sl_result *res, double m[3], double *power_w, double *usd_h) {
  if (!res->feasible) return 0;
  double thr = res->has_tokens    ? res->tokens_per_s
               : res->has_samples ? res->samples_per_s
                                  : (res->step_time_s > 0 ? 1.0 / res->step_time_s : 0);
  double pw = res->power.has_energy ? res->power.avg_power_w_per_chip : NAN;
  double usd = res->power.has_cost ? res->power.usd_per_hour_system : NAN;
  m[0] = thr;
  m[1] = thr / (pw * res->chips);
  m[2] = thr * 3600.0 / usd;
  *power_w = pw, *usd_h = usd;
  return thr > 0 && isfinite(m[1]) && isfinite(m[2]);
}

/* The format whose MAC rate macs_per_cycle names: bf16, else fp16, else int8, else the first. */
static int main_format(const sl_chip *c) {
  static const sl_dtype pref[] = {SL_BF16, SL_FP16, SL_INT8};
  for (size_t i = 0; i < SL_ARRAY_LEN(pref); i++)
    if (c->mat_macs_per_cycle[pref[i]] > 0) return pref[i];
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0) return f;
  return -1;
}

static sl_mem_level *core_level(sl_chip *c) {
  for (int i = 0; i < c->n_mem - 1; i++)
    if (c->mem[i].per_core) return &c->mem[i];
  return NULL;
}

static sl_mem_level *shared_level(sl_chip *c) {
  for (int i = c->n_mem - 2; i >= 0; i--)
    if (!c->mem[i].per_core) return &c->mem[i];
  return NULL;
}

/* Area by the area model, anchored to the published die when there is one (the design's area is
 * the published area times estimate(design) / estimate(base)); then the energy table, whose wire
 * energy, static power (a share of the TDP) and per-action energies follow the node, the memories
 * and the area. */
static void rederive(const dse_sweep *sw, sl_chip *c) {
  sl_area a;
  c->area_mm2 = 0;
  area_estimate(c, &a);
  c->area_mm2 =
      sw->base_area_published > 0 ? sw->base_area_published * a.total_mm2 / sw->base_area_est : a.total_mm2;
  energy_derive(c, 0);
}

void dse_apply(const dse_sweep *sw, const int *vi, sl_chip *c, double *up, double *out) {
  *c = sw->base_chip;
  *up = *out = NAN;
  for (int i = 0; i < sw->n_params; i++) {
    const dse_param *p = &sw->params[i];
    double v = p->v[vi[i]];
    sl_mem_level *m;
    switch (p->kind) {
    case DSE_P_CORES:
      c->cores = (int)v;
      break;
    case DSE_P_MACS: {
      int f = main_format(c);
      if (f < 0) break;
      double ratio = v / c->mat_macs_per_cycle[f];
      for (int k = 0; k < SL_DTYPE_COUNT; k++)
        c->mat_macs_per_cycle[k] *= ratio;
      break;
    }
    case DSE_P_CORE_SRAM:
      if ((m = core_level(c))) m->capacity_bytes = v;
      break;
    case DSE_P_SHARED_SRAM:
      if ((m = shared_level(c))) m->capacity_bytes = v;
      break;
    case DSE_P_SHARED_BW:
      if ((m = shared_level(c))) m->bw_GBps = v;
      break;
    case DSE_P_DRAM_TYPE:
      c->mem[c->n_mem - 1].name = p->s[vi[i]];
      break;
    case DSE_P_DRAM_BW:
      c->mem[c->n_mem - 1].bw_GBps = v;
      break;
    case DSE_P_DRAM_BYTES:
      c->mem[c->n_mem - 1].capacity_bytes = v;
      break;
    case DSE_P_CLOCK:
      c->clock_ghz = v;
      break;
    case DSE_P_NODE:
      c->process_nm = v;
      break;
    case DSE_P_SCALE_UP_BW:
      c->scale_up.bw_GBps = *up = v;
      break;
    case DSE_P_SCALE_OUT_BW:
      c->scale_out.bw_GBps = *out = v;
      break;
    case DSE_P_TDP:
      c->tdp_w = v;
      break;
    case DSE_P_COUNT:
      break;
    }
  }
  rederive(sw, c);
}

void dse_worker_init(dse_worker *wk, const dse_sweep *sw) {
  memset(wk, 0, sizeof *wk);
  wk->sw = sw;
  for (int i = 0; i < sw->n_w; i++)
    wk->sc[i] = *sw->w[i].sc; /* shallow: shares the loaded arena, never freed here */
  ar_init(&wk->res.a);
  /* Without memory for the memos the points are evaluated all the same, only slower. */
  wk->memo = sw->n_w > 0 ? calloc((size_t)sw->n_w, sizeof *wk->memo) : NULL;
}

void dse_worker_free(dse_worker *wk) {
  if (!wk) return;
  ar_free(&wk->res.a);
  free(wk->memo);
  wk->memo = NULL;
}

static sl_status run_one(sl_result *res, const sl_scenario *sc, sl_gemm_memo *memo, sl_error *err) {
  ar_reset(&res->a);
  arena keep = res->a;
  memset(res, 0, sizeof *res);
  res->a = keep;
  return sim_run_memo(sc, memo, res, err);
}

/* Weighted geometric means of the per-workload figures relative to the base chip's; the score. */
static void combine(const dse_sweep *sw, double raw[][3], double obj[DSE_O_COUNT]) {
  for (int k = 0; k < 3; k++) {
    double l = 0;
    for (int i = 0; i < sw->n_w; i++)
      l += sw->w[i].weight * log(raw[i][k] / sw->w[i].base[k]);
    obj[k] = exp(l);
  }
  double l = 0;
  for (int k = 0; k < 3; k++)
    l += sw->score_w[k] * log(obj[k]);
  obj[DSE_O_SCORE] = exp(l);
}

static double unit_cost(const sl_scenario *sc, const sl_chip *c, double up, double out) {
  sl_chip_cost cc;
  econ_chip_cost(sc->econ, c, isnan(up) ? sc->scale_up.bw_GBps : up, isnan(out) ? sc->scale_out.bw_GBps : out,
                 &cc);
  return cc.chip_usd;
}

sl_status dse_eval(dse_worker *wk, dse_point *p) {
  const dse_sweep *sw = wk->sw;
  sl_chip c;
  double up, out;
  dse_apply(sw, p->vi, &c, &up, &out);
  p->feasible = 0;
  p->reason[0] = 0;
  for (int k = 0; k < DSE_O_COUNT; k++)
    p->obj[k] = NAN;
  p->power_w = p->usd_per_hour = NAN;
  p->area_mm2 = c.area_mm2;
  p->tdp_w = c.tdp_w;
  p->unit_cost_usd = unit_cost(sw->w[0].sc, &c, up, out);
  /* Constraints that need no run first: a sweep is mostly bad points. */
  if (sw->max_area_mm2 > 0 && p->area_mm2 > sw->max_area_mm2) {
    snprintf(p->reason, sizeof p->reason, "area %.0f mm2 > %g mm2", p->area_mm2, sw->max_area_mm2);
    return SL_OK;
  }
  if (sw->max_tdp_w > 0 && p->tdp_w > sw->max_tdp_w) {
    snprintf(p->reason, sizeof p->reason, "TDP %g W > %g W", p->tdp_w, sw->max_tdp_w);
    return SL_OK;
  }
  if (sw->max_unit_cost_usd > 0 && p->unit_cost_usd > sw->max_unit_cost_usd) {
    snprintf(p->reason, sizeof p->reason, "unit cost $%.0f > $%g", p->unit_cost_usd, sw->max_unit_cost_usd);
    return SL_OK;
  }
  double raw[DSE_MAX_WORKLOADS][3];
  double pw = 0, usd = 0;
  for (int i = 0; i < sw->n_w; i++) {
    sl_scenario *sc = &wk->sc[i];
    sc->chip = c;
    if (!isnan(up)) sc->scale_up.bw_GBps = up;
    if (!isnan(out)) sc->scale_out.bw_GBps = out;
    if (sc->power_budget_w > 0) sc->chips = fmax(sc->node_chips, campaign_fleet_chips(sc)); /* same site power */
    sl_status s = run_one(&wk->res, sc, wk->memo ? &wk->memo[i] : NULL, &wk->err);
    if (s) return s;
    double w_pw = 0, w_usd = 0;
    if (!workload_metrics(&wk->res, raw[i], &w_pw, &w_usd)) {
      snprintf(p->reason, sizeof p->reason, "%.40s: %.150s", sw->w[i].name,
               wk->res.feasible ? "no throughput, power or cost figure" : wk->res.reason);
      return SL_OK;
    }
    p->wl[i][0] = raw[i][0], p->wl[i][1] = w_pw, p->wl[i][2] = w_usd;
    pw += sw->w[i].weight * w_pw;
    usd += sw->w[i].weight * w_usd;
  }
  combine(sw, raw, p->obj);
  p->power_w = pw, p->usd_per_hour = usd;
  p->feasible = 1;
  return SL_OK;
}

sl_status dse_eval_chip(const dse_sweep *sw, sl_scenario **scs, int rederive_chip, dse_ref *out,
                        double raw[][3], sl_error *err) {
  memset(out, 0, sizeof *out);
  sl_result res;
  memset(&res, 0, sizeof res);
  ar_init(&res.a);
  sl_status s = SL_OK;
  out->feasible = 1;
  for (int i = 0; i < sw->n_w && !s && out->feasible; i++) {
    sl_scenario sc = *scs[i];
    if (rederive_chip) rederive(sw, &sc.chip);
    if (sc.power_budget_w > 0) sc.chips = fmax(sc.node_chips, campaign_fleet_chips(&sc)); /* same site power */
    if (i == 0) {
      out->area_mm2 = chip_area_mm2(&sc.chip);
      out->tdp_w = sc.chip.tdp_w;
      out->unit_cost_usd = unit_cost(&sc, &sc.chip, NAN, NAN);
    }
    s = run_one(&res, &sc, NULL, err);
    double pw, usd;
    if (!s && !workload_metrics(&res, raw[i], &pw, &usd)) {
      out->feasible = 0;
      snprintf(out->reason, sizeof out->reason, "%.40s: %.150s", sw->w[i].name,
               res.feasible ? "no throughput, power or cost figure" : res.reason);
    }
  }
  ar_free(&res.a);
  if (s || !out->feasible) return s;
  if (rederive_chip) {
    for (int k = 0; k < DSE_O_COUNT; k++)
      out->obj[k] = 1;
  } else {
    combine(sw, raw, out->obj);
  }
  return SL_OK;
}
