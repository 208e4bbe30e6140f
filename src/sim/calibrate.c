/* calibrate.c — fitting a chip's efficiency figures to kernel-level measurements (`silica
 * calibrate`): GEMM efficiency per number format, DRAM efficiency of tiled kernels, element-wise
 * (stream) efficiency, the fixed latency of a kernel, the collective efficiency of the scale-up
 * and scale-out links, and the fraction of the GEMM efficiency each fused attention family
 * sustains, and the chip's dynamic energy scale (energy.dynamic_scale) from cases that measure
 * the chip's power.  Only figures that move some case's prediction are fitted; efficiency figures
 * are fitted to the step times, the energy scale to the powers.
 *
 * Method: the cases of each metric alternate into a training half (even positions) and a
 * held-out half (odd);
 * coordinate descent with golden-section search on each figure minimises the mean |log(predicted /
 * measured)| over the training half (symmetric in over- and under-prediction); the held-out half
 * shows whether the fit generalises.  Each prediction is the full model (sim_run), so what is fitted
 * is exactly what the model uses. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  P_DRAM = SL_DTYPE_COUNT,
  P_STREAM,
  P_LATENCY,
  P_LINK_UP,
  P_LINK_OUT,
  P_ESCALE,     /* energy.dynamic_scale, fitted to measured power */
  P_DRAMPJ,     /* energy.dram_pj_per_bit, fitted to the measured power of streaming kernels */
  P_UP_LAT,     /* links.scale_up.latency_s: per step of a collective */
  P_UP_BASE,    /* links.scale_up.base_latency_s: start-up of a collective call */
  P_UP_LL,      /* links.scale_up.ll_efficiency: the low-latency protocol's bandwidth */
  P_UP_SW,      /* links.scale_up.switch_reduce_efficiency: the in-switch all-reduce's bandwidth */
  P_UP_SWLAT,   /* links.scale_up.switch_reduce_latency_s: its fixed time per call */
  P_UP_P2P,     /* links.scale_up.p2p_efficiency: a custom P2P all-reduce kernel's bandwidth */
  P_UP_P2PLAT,  /* links.scale_up.p2p_latency_s: its fixed time per stage */
  P_UP_P2PPEER, /* links.scale_up.p2p_peer_latency_s: its two-shot stage's time per peer */
  P_UP_P2P1,    /* links.scale_up.p2p_one_shot_efficiency: the one-shot kernel's own bandwidth */
  P_UP_P2P1LAT, /* links.scale_up.p2p_one_shot_latency_s: its fixed time */
  P_UP_MM,      /* links.scale_up.multimem_efficiency: a multimem all-reduce kernel's bandwidth */
  P_UP_MMLAT,   /* links.scale_up.multimem_latency_s: its fixed time per call */
  P_UP_S2,      /* links.scale_up.symm_two_shot_efficiency: symmetric memory's two-shot kernel's bandwidth */
  P_UP_S2LAT,   /* links.scale_up.symm_two_shot_latency_s: its fixed time per call */
  P_UP_LOCAL,   /* links.scale_up.local_GBps: a ring's local step (the rank's own slice), GB/s */
  P_GSTALL,     /* kernels.gemm_stream_stall: a weight-streaming GEMM's DRAM stream stalled under its MACs */
  P_TILE,       /* kernels.attention_tile_s */
  P_PCALL,      /* kernels.paged_attention_call_s: an attention call over a paged KV cache, fixed part */
  P_PSEQ,       /* kernels.paged_attention_seq_s: its part per sequence */
  P_ATTN_BWD,   /* efficiency.attention.backward */
  P_ATTN,       /* efficiency.attention.<family>, one per family from SL_ATTN_FUSED on */
  P_GLAT =
      P_ATTN + SL_ATTN_KERNEL_COUNT - SL_ATTN_FUSED, /* kernels.gemm_latency_s.<format>, one per format */
  P_COUNT = P_GLAT + SL_DTYPE_COUNT
};

/* Figures that are times (searched from 0) rather than fractions. */
static int is_time(int p) {
  return p == P_LATENCY || p == P_UP_LAT || p == P_UP_BASE || p == P_UP_SWLAT || p == P_UP_P2PLAT ||
         p == P_UP_P2PPEER || p == P_UP_P2P1LAT || p == P_UP_MMLAT || p == P_UP_S2LAT || p == P_TILE ||
         p == P_PCALL || p == P_PSEQ || p >= P_GLAT;
}

static double *slot(sl_scenario *sc, int p) {
  if (p < SL_DTYPE_COUNT) return &sc->chip.eff_gemm[p];
  if (p >= P_GLAT) return &sc->chip.gemm_latency_s[p - P_GLAT];
  if (p >= P_ATTN) return &sc->chip.eff_attention[SL_ATTN_FUSED + p - P_ATTN];
  switch (p) {
  case P_DRAM:
    return &sc->chip.eff_dram;
  case P_STREAM:
    return &sc->chip.eff_stream;
  case P_LATENCY:
    return &sc->chip.kernel_latency_s;
  case P_LINK_UP:
    return &sc->scale_up.efficiency;
  case P_ESCALE:
    return &sc->chip.energy_dynamic_scale;
  case P_DRAMPJ:
    return &sc->chip.energy_over.dram_pj_per_bit;
  case P_UP_LAT:
    return &sc->scale_up.latency_s;
  case P_UP_BASE:
    return &sc->scale_up.base_latency_s;
  case P_UP_LL:
    return &sc->scale_up.ll_efficiency;
  case P_UP_SW:
    return &sc->scale_up.switch_reduce_efficiency;
  case P_UP_SWLAT:
    return &sc->scale_up.switch_reduce_latency_s;
  case P_UP_P2P:
    return &sc->scale_up.p2p_efficiency;
  case P_UP_P2PLAT:
    return &sc->scale_up.p2p_latency_s;
  case P_UP_P2PPEER:
    return &sc->scale_up.p2p_peer_latency_s;
  case P_UP_P2P1:
    return &sc->scale_up.p2p_one_shot_efficiency;
  case P_UP_P2P1LAT:
    return &sc->scale_up.p2p_one_shot_latency_s;
  case P_UP_MM:
    return &sc->scale_up.multimem_efficiency;
  case P_UP_MMLAT:
    return &sc->scale_up.multimem_latency_s;
  case P_UP_S2:
    return &sc->scale_up.symm_two_shot_efficiency;
  case P_UP_S2LAT:
    return &sc->scale_up.symm_two_shot_latency_s;
  case P_UP_LOCAL:
    return &sc->scale_up.local_GBps;
  case P_GSTALL:
    return &sc->chip.gemm_stream_stall;
  case P_TILE:
    return &sc->chip.attn_tile_s;
  case P_PCALL:
    return &sc->chip.attn_paged_call_s;
  case P_PSEQ:
    return &sc->chip.attn_paged_seq_s;
  case P_ATTN_BWD:
    return &sc->chip.eff_attention_bwd;
  case P_LINK_OUT:
  default:
    return &sc->scale_out.efficiency;
  }
}

static void key_of(int p, char *buf, size_t n) {
  if (p < SL_DTYPE_COUNT)
    snprintf(buf, n, "efficiency.gemm.%s", sl_dtype_names[p]);
  else if (p == P_DRAM)
    snprintf(buf, n, "efficiency.dram");
  else if (p == P_STREAM)
    snprintf(buf, n, "efficiency.stream");
  else if (p == P_LATENCY)
    snprintf(buf, n, "kernels.latency_s");
  else if (p >= P_GLAT)
    snprintf(buf, n, "kernels.gemm_latency_s.%s", sl_dtype_names[p - P_GLAT]);
  else if (p >= P_ATTN)
    snprintf(buf, n, "efficiency.attention.%s", sl_attn_kernel_names[SL_ATTN_FUSED + p - P_ATTN]);
  else if (p == P_LINK_UP)
    snprintf(buf, n, "links.scale_up.efficiency");
  else if (p == P_ESCALE)
    snprintf(buf, n, "energy.dynamic_scale");
  else if (p == P_DRAMPJ)
    snprintf(buf, n, "energy.dram_pj_per_bit");
  else if (p == P_UP_LAT)
    snprintf(buf, n, "links.scale_up.latency_s");
  else if (p == P_UP_BASE)
    snprintf(buf, n, "links.scale_up.base_latency_s");
  else if (p == P_UP_LL)
    snprintf(buf, n, "links.scale_up.ll_efficiency");
  else if (p == P_UP_SW)
    snprintf(buf, n, "links.scale_up.switch_reduce_efficiency");
  else if (p == P_UP_SWLAT)
    snprintf(buf, n, "links.scale_up.switch_reduce_latency_s");
  else if (p == P_UP_P2P)
    snprintf(buf, n, "links.scale_up.p2p_efficiency");
  else if (p == P_UP_P2PLAT)
    snprintf(buf, n, "links.scale_up.p2p_latency_s");
  else if (p == P_UP_P2PPEER)
    snprintf(buf, n, "links.scale_up.p2p_peer_latency_s");
  else if (p == P_UP_P2P1)
    snprintf(buf, n, "links.scale_up.p2p_one_shot_efficiency");
  else if (p == P_UP_P2P1LAT)
    snprintf(buf, n, "links.scale_up.p2p_one_shot_latency_s");
  else if (p == P_UP_MM)
    snprintf(buf, n, "links.scale_up.multimem_efficiency");
  else if (p == P_UP_MMLAT)
    snprintf(buf, n, "links.scale_up.multimem_latency_s");
  else if (p == P_UP_S2)
    snprintf(buf, n, "links.scale_up.symm_two_shot_efficiency");
  else if (p == P_UP_S2LAT)
    snprintf(buf, n, "links.scale_up.symm_two_shot_latency_s");
  else if (p == P_UP_LOCAL)
    snprintf(buf, n, "links.scale_up.local_GBps");
  else if (p == P_GSTALL)
    snprintf(buf, n, "kernels.gemm_stream_stall");
  else if (p == P_TILE)
    snprintf(buf, n, "kernels.attention_tile_s");
  else if (p == P_PCALL)
    snprintf(buf, n, "kernels.paged_attention_call_s");
  else if (p == P_PSEQ)
    snprintf(buf, n, "kernels.paged_attention_seq_s");
  else if (p == P_ATTN_BWD)
    snprintf(buf, n, "efficiency.attention.backward");
  else
    snprintf(buf, n, "links.scale_out.efficiency");
}

typedef struct fitctx {
  sl_cal_case *cases;
  size_t n;
  sl_result res; /* reused: its arena is reset for every prediction */
  sl_error *err;
  int failed;
  unsigned char *skip; /* cases infeasible on this chip at any figures (e.g. a kernel family it
                          cannot run): left out of the objective */
  double *t_free; /* each timed case's step time at an energy scale low enough that no kernel is
                     near the cap (escale_fits), NULL until the energy scale is fitted */
  unsigned char *half; /* 0 training, 1 held out: alternating among the cases of one metric */
  unsigned char *mem_gemm; /* a GEMM on the memory side of its roofline at the figures as given: its
                              MAC rate shows only through the stream's stall (kernels.gemm_stream_stall) */
  double hold_ranks;       /* > 1: the two-shot kernel's time per peer moves with its stage's time on this
                              many ranks held (p2p_latency_s takes the difference), 0: alone */
  double hold_stage;       /* that stage's time, taken when the search of the time per peer starts */
} fitctx;

/* The metric a figure is fitted to. */
static sl_cal_metric metric_of(int p) {
  return p == P_ESCALE || p == P_DRAMPJ ? SL_CAL_POWER : SL_CAL_TIME;
}

/* Whether a figure is an energy figure (the chip's per-action table is derived again when it moves). */
static int is_energy(int p) {
  return p == P_ESCALE || p == P_DRAMPJ;
}

static int is_attention(const sl_scenario *sc) {
  return sc->model.kind == SL_MODEL_OP && sc->model.op.type == SL_OPT_ATTENTION;
}

/* An attention call over a serving engine's paged KV cache: what it adds to the kernel (its own
 * two figures) is fitted to it, and nothing else is (its stream and tiles are the figures of the
 * kernels they come from). */
static int is_paged(const sl_scenario *sc) {
  return is_attention(sc) && sc->model.op.paged;
}

/* A streaming kernel: one element-wise or row-wise pass over tensors in DRAM, whose power is the
 * DRAM traffic and its path through the chip, with next to no arithmetic. */
static int is_stream(const sl_scenario *sc) {
  /* the element-wise and norm ops are the run GELU..ADD of sl_op_type (workload.h) */
  return sc->model.kind == SL_MODEL_OP && sc->model.op.type >= SL_OPT_GELU && sc->model.op.type <= SL_OPT_ADD;
}

static double predict(fitctx *f, size_t i) {
  ar_reset(&f->res.a);
  arena keep = f->res.a;
  memset(&f->res, 0, sizeof f->res);
  f->res.a = keep;
  if (sim_run(f->cases[i].sc, &f->res, f->err)) {
    f->failed = 1;
    return NAN;
  }
  if (!f->res.feasible) return NAN;
  /* Power at the measured clock: the measurement's time is the model's time at full clock (the
   * efficiencies were measured on the throttled chip), so the energy per action must give the
   * measured power there; the cap is not applied to the figure that sets it. */
  if (f->cases[i].metric == SL_CAL_POWER) {
    if (!f->res.power.has_energy) return NAN;
    double p = f->res.power.uncapped_power_w_per_chip, tm = f->cases[i].measured_time_s;
    /* A case that also gives its measured time is compared at that time: the energy of its
     * actions over the time it took on the measured chip, with the static power beside it (a
     * streaming kernel's power is its bytes per second: at the model's own bandwidth the fitted
     * energy per byte would carry the model's error in bandwidth). */
    if (tm > 0 && f->res.step_time_s > 0) {
      double ps = f->cases[i].sc->chip.energy.static_w;
      p = ps + (p - ps) * f->res.step_time_s / tm;
    }
    return p;
  }
  return f->res.step_time_s;
}

static void set_all(fitctx *f, int p, double v) {
  for (size_t i = 0; i < f->n; i++) {
    if (p == P_UP_P2PPEER && f->hold_ranks > 1) { /* the largest group's stage kept (see hold_ranks) */
      *slot(f->cases[i].sc, P_UP_P2PLAT) = fmax(0.0, f->hold_stage - (f->hold_ranks - 1) * v);
    }
    *slot(f->cases[i].sc, p) = v;
    if (is_energy(p)) energy_derive(&f->cases[i].sc->chip, 1);
  }
}

/* Whether figure p is fitted to case i: a case that shows a figure only through something else
 * is left out of that figure's search.  An attention kernel's matrix rate is the GEMM efficiency
 * times its family's fraction, so GEMM figures are fitted to GEMMs and the fraction to attention;
 * a kernel's device latency shows only in device-timed cases (a host-timed one adds the
 * framework's dispatch, which the stack's kernel_overhead_s owns), and not in attention kernels,
 * whose fixed cost per tile is their own figure.  Each figure is fitted to its metric's cases. */
static int informs(const fitctx *f, size_t i, int p) {
  const sl_cal_case *c = &f->cases[i];
  const sl_scenario *sc = c->sc;
  if (c->metric != metric_of(p)) return 0;
  if (p == P_PCALL || p == P_PSEQ || is_paged(sc))
    return (p == P_PCALL || p == P_PSEQ || p == P_DRAM) && is_paged(sc);
  if (p < SL_DTYPE_COUNT) return !is_attention(sc) && !(f->mem_gemm && f->mem_gemm[i]);
  if (p == P_GSTALL) return !is_attention(sc);
  if (p == P_LATENCY) return !(sc->stack.kernel_overhead_s > 0) && !is_attention(sc);
  /* Power: a streaming kernel's is its DRAM traffic (the DRAM figure), a kernel of the matrix
   * engine's its on-chip actions (the dynamic scale). */
  if (p == P_DRAMPJ) return is_stream(sc);
  if (p == P_ESCALE) return !is_stream(sc);
  return 1;
}

/* Mean |log(pred/meas)| over the cases of one half (0 train, 1 held out, -1 all), only those that
 * inform figure p (p < 0: every case). */
static double objective_of(fitctx *f, int half, int fig, double *mape) {
  double sum = 0, ape = 0;
  size_t k = 0;
  for (size_t i = 0; i < f->n; i++) {
    if ((half >= 0 && (int)f->half[i] != half) || (f->skip && f->skip[i])) continue;
    if (fig >= 0 && !informs(f, i, fig)) continue;
    double p = predict(f, i);
    if (!(p > 0)) return INFINITY;
    sum += fabs(log(p / f->cases[i].measured_s));
    ape += fabs(p / f->cases[i].measured_s - 1);
    k++;
  }
  if (mape) *mape = k ? ape / (double)k : NAN;
  return k ? sum / (double)k : 0;
}

static double objective(fitctx *f, int half, double *mape) {
  return objective_of(f, half, -1, mape);
}

/* Whether no timed case runs slower at energy scale v than with no power limit in sight (t_free).
 * Its time was measured on the power-limited board: a kernel that passes the TDP there has the clock
 * that held it at the limit in its efficiency, and the step's cap gives that time back (docs/
 * energy-cost.md 2.20) as long as the table's figures hold it at the TDP at the limit's clock; a
 * larger scale would slow it a second time, as would one that makes a GEMM take another
 * configuration.  A case that idles between kernels may run faster (its limiter's average is lower). */
static int escale_fits(fitctx *f, double v) {
  set_all(f, P_ESCALE, v);
  for (size_t i = 0; i < f->n; i++) {
    if (f->cases[i].metric != SL_CAL_TIME || (f->skip && f->skip[i])) continue;
    double t = predict(f, i);
    if (!(t > 0)) continue;
    if (f->t_free && f->t_free[i] > 0 && t > f->t_free[i] * (1 + 1e-9)) return 0;
  }
  return 1;
}

/* Golden-section search of figure p in [lo, hi] on the training half.  The objective need not be
 * unimodal in one figure (a collective changes algorithm or protocol as a figure moves), so the
 * search keeps the figure's current value when it finds nothing better: coordinate descent never
 * makes the fit worse. */
static double golden(fitctx *f, int p, double lo, double hi) {
  const double g = 0.6180339887498949;
  double v0 = *slot(f->cases[0].sc, p), f0 = objective_of(f, 0, p, NULL);
  if (p == P_UP_P2PPEER && f->hold_ranks > 1)
    f->hold_stage = *slot(f->cases[0].sc, P_UP_P2PLAT) + (f->hold_ranks - 1) * v0;
  double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
  set_all(f, p, c);
  double fc = objective_of(f, 0, p, NULL);
  set_all(f, p, d);
  double fd = objective_of(f, 0, p, NULL);
  for (int it = 0; it < 40 && b - a > 1e-5 * (hi - lo); it++) {
    if (fc <= fd) {
      b = d, d = c, fd = fc, c = b - g * (b - a);
      set_all(f, p, c);
      fc = objective_of(f, 0, p, NULL);
    } else {
      a = c, c = d, fc = fd, d = a + g * (b - a);
      set_all(f, p, d);
      fd = objective_of(f, 0, p, NULL);
    }
  }
  double best = fc <= fd ? c : d;
  if (fmin(fc, fd) > f0 && v0 >= lo && v0 <= hi) best = v0;
  set_all(f, p, best);
  return best;
}

/* The figure whose chip-spec key (as the report prints it) is `key`; -1: none. */
static int figure_of(const char *key) {
  char k[64];
  for (int p = 0; p < P_COUNT; p++) {
    key_of(p, k, sizeof k);
    if (strcmp(k, key) == 0) return p;
  }
  return -1;
}

int calibrate_is_figure(const char *key) {
  return figure_of(key) >= 0;
}

/* Parses --hold's comma-separated keys into held[p]; checks each names a figure. */
static sl_status parse_hold(const char *hold, int held[P_COUNT], sl_calibration *cal, sl_error *err) {
  if (!hold) return SL_OK;
  if (strlen(hold) >= sizeof cal->held)
    return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--hold", "too long (at most %zu characters)",
                   sizeof cal->held - 1);
  const char *s = hold;
  while (*s) {
    const char *e = strchr(s, ',');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    char key[64];
    if (len == 0 || len >= sizeof key)
      return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--hold",
                     "\"%s\": an empty or too long figure key", hold);
    memcpy(key, s, len), key[len] = 0;
    int p = figure_of(key);
    if (p < 0)
      return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--hold",
                     "\"%s\" is not a figure silica calibrate fits (efficiency.dram, kernels.latency_s, "
                     "efficiency.gemm.bf16, ...: the keys its report lists)",
                     key);
    held[p] = 1;
    s += len;
    if (*s == ',') s++;
  }
  snprintf(cal->held, sizeof cal->held, "%s", hold);
  return SL_OK;
}

/* The pattern move after a round of coordinate descent: from the figures x1 the round ended at, the
 * round's change x1 - x0 taken again (and again while it helps, up to 64 times the change), each
 * figure within its range; kept only where the fitted half's error falls.  The energy figures, fitted
 * apart, do not move. */
static void pattern_move(fitctx *f, const int fit[P_COUNT], const sl_calibration *cal,
                         const double x0[P_COUNT]) {
  double x1[P_COUNT], best[P_COUNT];
  int any = 0;
  for (int p = 0; p < P_COUNT; p++) {
    x1[p] = best[p] = *slot(f->cases[0].sc, p);
    any |= fit[p] && !is_energy(p) && x1[p] != x0[p];
  }
  if (!any || f->failed) return;
  double f_best = objective(f, 0, NULL);
  for (double step = 1; step <= 64 && !f->failed; step *= 2) {
    size_t k = 0;
    for (int p = 0; p < P_COUNT; p++) {
      if (!fit[p]) continue;
      const sl_cal_param *cp = &cal->params[k++];
      if (is_energy(p) || x1[p] == x0[p]) continue;
      set_all(f, p, fmin(cp->hi, fmax(cp->lo, x1[p] + step * (x1[p] - x0[p]))));
    }
    double fv = objective(f, 0, NULL);
    if (!(fv < f_best * (1 - 1e-9))) break;
    f_best = fv;
    for (int p = 0; p < P_COUNT; p++)
      best[p] = *slot(f->cases[0].sc, p);
  }
  for (int p = 0; p < P_COUNT; p++)
    if (fit[p] && !is_energy(p) && *slot(f->cases[0].sc, p) != best[p]) set_all(f, p, best[p]);
}

/* The fitted half's error with figure p at x and the `inner` figures searched again for it. */
static double profile_at(fitctx *f, int p, double x, const int *inner, const double *ilo, const double *ihi,
                         int n_inner) {
  set_all(f, p, x);
  for (int j = 0; j < n_inner; j++)
    golden(f, inner[j], ilo[j], ihi[j]);
  return objective_of(f, 0, p, NULL);
}

/* The DRAM figure where a paged attention call's fixed parts are fitted too: every call's time is
 * its KV stream over the DRAM figure plus those parts, so a search of the DRAM figure alone, with the
 * parts as they are (none, at the start), moves it to stand for them and stops there (each part
 * alone then only makes the fit worse).  Each DRAM figure the search tries is scored with the parts
 * searched again for it (the figure profiled over them). */
static double golden_profiled(fitctx *f, int p, double lo, double hi, const int *inner, const double *ilo,
                              const double *ihi, int n_inner) {
  const double g = 0.6180339887498949;
  double v0 = *slot(f->cases[0].sc, p), keep[2];
  for (int j = 0; j < n_inner; j++)
    keep[j] = *slot(f->cases[0].sc, inner[j]);
  double f0 = objective_of(f, 0, p, NULL);
  double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
  double fc = profile_at(f, p, c, inner, ilo, ihi, n_inner),
         fd = profile_at(f, p, d, inner, ilo, ihi, n_inner);
  for (int it = 0; it < 30 && b - a > 1e-4 * (hi - lo); it++) {
    if (fc <= fd) {
      b = d, d = c, fd = fc, c = b - g * (b - a);
      fc = profile_at(f, p, c, inner, ilo, ihi, n_inner);
    } else {
      a = c, c = d, fc = fd, d = a + g * (b - a);
      fd = profile_at(f, p, d, inner, ilo, ihi, n_inner);
    }
  }
  if (fmin(fc, fd) > f0 && v0 >= lo && v0 <= hi) { /* nothing better: the figures as they were */
    set_all(f, p, v0);
    for (int j = 0; j < n_inner; j++)
      set_all(f, inner[j], keep[j]);
    return v0;
  }
  double best = fc <= fd ? c : d;
  profile_at(f, p, best, inner, ilo, ihi, n_inner);
  return best;
}

sl_status calibrate_fit(sl_cal_case *cases, size_t n, const char *hold, sl_calibration *cal, sl_error *err) {
  memset(cal, 0, sizeof *cal);
  int held[P_COUNT] = {0};
  sl_status hs = parse_hold(hold, held, cal, err);
  if (hs) return hs;
  if (n < 1)
    return err_set(err, SL_ERR_INPUT, "", 0, "",
                   "calibration needs a case with step_time_s or energy.avg_power_w_per_chip");
  fitctx f;
  memset(&f, 0, sizeof f);
  f.cases = cases, f.n = n, f.err = err;
  f.half = calloc(n, 1);
  if (!f.half) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&f.res.a);
  {
    /* Times alternate among themselves; powers among the streaming kernels and among the rest
     * apart, since each group is what one energy figure is fitted to. */
    size_t seen[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
      int m = cases[i].metric == SL_CAL_POWER ? 1 + is_stream(cases[i].sc) : 0;
      /* A kernel of the matrix engine measured for its power is one held at the TDP: its actions
       * are at the clock that defines the dynamic scale (energy.limit_clock_ratio), not at the top
       * clock a kernel under the limit runs at (docs/energy-cost.md §2.5). */
      if (m == 1 && cases[i].sc->chip.energy_limit_clock != 1) {
        cases[i].sc->chip.energy_limit_clock = 1;
        energy_derive(&cases[i].sc->chip, 1);
      }
      f.half[i] = (unsigned char)(seen[m]++ % 2);
      if (f.half[i])
        cal->n_test++;
      else
        cal->n_train++;
    }
  }
  /* Which figures move which cases: perturb each and watch the training half. */
  double *base = malloc(n * sizeof *base);
  if (!base) {
    free(f.half);
    ar_free(&f.res.a);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  f.skip = calloc(n, 1);
  if (!f.skip) {
    free(base);
    free(f.half);
    ar_free(&f.res.a);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  f.mem_gemm = calloc(n, 1);
  if (!f.mem_gemm) {
    free(f.skip);
    free(base);
    free(f.half);
    ar_free(&f.res.a);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  /* Efficiency figures do not change what is feasible: a case infeasible now stays so.  A GEMM on the
   * memory side of its roofline, where the chip's stream stalls under the MACs, moves with the GEMM
   * efficiency through that stall only: the efficiency is fitted to compute-bound GEMMs, the stall
   * to the others (docs/calibration.md). */
  for (size_t i = 0; i < n; i++) {
    f.skip[i] = !((base[i] = predict(&f, i)) > 0) && !f.failed;
    const sl_scenario *sc = cases[i].sc;
    if (!f.skip[i] && sc->chip.gemm_stream_stall > 0 && sc->model.kind == SL_MODEL_OP &&
        sc->model.op.type == SL_OPT_GEMM)
      for (size_t r = 0; r < f.res.n_rows; r++)
        if (f.res.rows[r].cat == SL_CAT_GEMM) f.mem_gemm[i] = f.res.rows[r].bound != SL_BOUND_COMPUTE;
  }
  int fit[P_COUNT] = {0};
  /* Collectives over more than one group size tell the per-step latency (it grows with the ranks)
   * from the call's start-up (which does not). */
  int several_ranks = 0;
  for (size_t i = 1; i < n && !several_ranks; i++)
    several_ranks = cases[i].sc->chips != cases[0].sc->chips;
  /* The one-shot P2P kernel's own figures, not given: start from the two-shot kernel's, which it
   * takes until it has its own (the same predictions), so that each pair moves only its cases. */
  if (!(*slot(cases[0].sc, P_UP_P2P1) > 0) && *slot(cases[0].sc, P_UP_P2P) > 0) {
    set_all(&f, P_UP_P2P1LAT, *slot(cases[0].sc, P_UP_P2PLAT));
    set_all(&f, P_UP_P2P1, *slot(cases[0].sc, P_UP_P2P));
  }
  for (int p = 0; p < P_COUNT && !f.failed; p++) {
    if (held[p]) continue; /* --hold: kept as the chip gives it */
    double v = *slot(cases[0].sc, p);
    if (p == P_DRAMPJ && !(v > 0)) { /* not given: start from the DRAM type's derived figure */
      v = cases[0].sc->chip.energy.dram_j_per_byte * 1e12 / 8;
      if (v > 0) set_all(&f, p, v);
    }
    if (p == P_UP_LAT && !several_ranks)
      continue; /* per-step latency: with one group size it is one with the start-up */
    if ((p >= P_GLAT || p == P_GSTALL) && !(v > 0)) continue; /* fitted where the chip gives one */
    /* a figure the chip does not give is fitted only where it is a step the model may add (the
     * low-latency protocol, a ring's local step), from a start that shows which cases it moves */
    if (!(v > 0) && !is_time(p) && p != P_UP_LL && p != P_UP_LOCAL) continue;
    set_all(&f, p,
            is_time(p)                    ? (v > 0 ? v * 1.5 : 1e-6)
            : p == P_UP_LL && !(v > 0)    ? 0.05
            : p == P_UP_LOCAL && !(v > 0) ? 1000
                                          : v * 0.9);
    size_t moved = 0, moved_train = 0;
    double ranks_lo = INFINITY, ranks_hi = 0; /* the group sizes of the cases it moves */
    for (size_t i = 0; i < n; i++) {
      if (!informs(&f, i, p)) continue;
      if (fabs(predict(&f, i) / base[i] - 1) > 1e-4) {
        moved++, moved_train += f.half[i] == 0;
        ranks_lo = fmin(ranks_lo, cases[i].sc->chips), ranks_hi = fmax(ranks_hi, cases[i].sc->chips);
      }
    }
    set_all(&f, p, v);
    /* The two-shot kernel's time per peer is told from its time per stage only by calls on more than
     * one group size (else the two are one figure).  It is searched with the stage's time on the
     * largest group held, so that it moves the smaller groups' calls alone: the two figures' own
     * directions run along the valley between groups, where a search of one figure at a time
     * stops. */
    if (p == P_UP_P2PPEER) {
      if (!(ranks_hi > ranks_lo)) moved_train = 0;
      f.hold_ranks = moved_train > 0 ? ranks_hi : 0;
    }
    if (moved_train > 0 && cal->n_params < SL_ARRAY_LEN(cal->params)) {
      fit[p] = 1;
      sl_cal_param *cp = &cal->params[cal->n_params++];
      char key[64];
      key_of(p, key, sizeof key);
      cp->key = p < SL_DTYPE_COUNT ? sl_dtype_names[p] : NULL;
      cp->before = v;
      cp->lo = is_time(p)        ? 0
               : p == P_UP_LL    ? 0.005
               : p == P_ESCALE   ? 0.25
               : p == P_DRAMPJ   ? 0.5
               : p == P_UP_LOCAL ? 50
                                 : 0.02;
      cp->hi = p == P_PSEQ       ? 1e-6
               : p == P_UP_LOCAL ? 20000
               : is_time(p)      ? (p == P_LATENCY || p == P_UP_SWLAT || p >= P_GLAT ? 1e-4 : 5e-5)
               : p == P_UP_LL    ? 0.5
               : p == P_ESCALE   ? 4.0
               : p == P_DRAMPJ   ? 100.0
                                 : 1.0;
      cp->n_cases = moved;
      (void)key;
    }
  }
  free(base);
  objective(&f, 0, &cal->mape_train_before);
  objective(&f, 1, &cal->mape_test_before);
  objective(&f, -1, &cal->mape_all_before);
  /* The energy scale first, at the chip's efficiency figures as given.  The step times were
   * measured on chips that throttle at their power limit, so none of them may be slowed by the cap
   * in the model beyond the time it was measured in (escale_fits): the energy scale is at most the
   * largest at which every timed case runs as with no limit in sight. */
  /* The DRAM figure and the energy scale each move the other's cases a little (a GEMM's DRAM
   * traffic; a streaming kernel's bytes through the shared level): alternated until both hold. */
  for (int pass = 0; pass < (fit[P_DRAMPJ] ? 4 : 1) && !f.failed; pass++) {
  if (fit[P_DRAMPJ]) {
    size_t k = 0;
    for (int p = 0; p < P_DRAMPJ; p++)
      k += (size_t)fit[p];
    sl_cal_param *cp = &cal->params[k];
    cp->after = golden(&f, P_DRAMPJ, cp->lo, cp->hi);
  }
  if (fit[P_ESCALE] && !f.failed) {
    size_t k = 0;
    for (int p = 0; p < P_ESCALE; p++)
      k += (size_t)fit[p];
    sl_cal_param *cp = &cal->params[k];
    f.t_free = calloc(f.n, sizeof *f.t_free);
    if (f.t_free) {
      set_all(&f, P_ESCALE, cp->lo);
      for (size_t i = 0; i < f.n; i++)
        if (f.cases[i].metric == SL_CAL_TIME && !(f.skip && f.skip[i])) f.t_free[i] = predict(&f, i);
    }
    cp->after = golden(&f, P_ESCALE, cp->lo, cp->hi);
    if (!escale_fits(&f, cp->after)) {
      double lo = cp->lo, hi = cp->after;
      for (int it = 0; it < 40 && hi - lo > 1e-4 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        if (escale_fits(&f, mid))
          lo = mid;
        else
          hi = mid;
      }
      cp->after = lo;
      cal->escale_capped = 1;
    }
    set_all(&f, P_ESCALE, cp->after);
    free(f.t_free);
    f.t_free = NULL;
  }
  }
  /* Coordinate descent, each round followed by a pattern move (Hooke and Jeeves 1961): two figures
   * that trade off along a valley (the DRAM figure against a paged call's fixed time, both in every
   * call's time) each move only a little in a round, in the same direction round after round; the
   * move steps along the round's whole change again, kept where it lowers the fitted half's error. */
  for (int round = 0; round < 8 && !f.failed; round++) {
    double x0[P_COUNT];
    for (int p = 0; p < P_COUNT; p++)
      x0[p] = *slot(cases[0].sc, p);
    size_t k = 0;
    for (int p = 0; p < P_COUNT; p++) {
      if (!fit[p]) continue;
      sl_cal_param *cp = &cal->params[k++];
      if (is_energy(p)) continue;
      if (p == P_DRAM && (fit[P_PCALL] || fit[P_PSEQ])) { /* profiled over the paged calls' parts */
        int inner[2], ni = 0;
        double ilo[2], ihi[2];
        size_t j = 0;
        for (int q = 0; q < P_COUNT; q++) {
          if (!fit[q]) continue;
          if (q == P_PCALL || q == P_PSEQ)
            inner[ni] = q, ilo[ni] = cal->params[j].lo, ihi[ni++] = cal->params[j].hi;
          j++;
        }
        cp->after = golden_profiled(&f, p, cp->lo, cp->hi, inner, ilo, ihi, ni);
      } else
        cp->after = golden(&f, p, cp->lo, cp->hi);
    }
    pattern_move(&f, fit, cal, x0);
  }
  { /* the figures as they are now (a search may move another figure with its own: hold_ranks) */
    size_t k = 0;
    for (int p = 0; p < P_COUNT; p++)
      if (fit[p]) cal->params[k++].after = *slot(cases[0].sc, p);
  }
  objective(&f, 0, &cal->mape_train_after);
  objective(&f, 1, &cal->mape_test_after);
  objective(&f, -1, &cal->mape_all_after);
  /* keys for the fragment, in parameter order */
  size_t k = 0;
  for (int p = 0; p < P_COUNT; p++)
    if (fit[p]) {
      static char keys[P_COUNT][64];
      key_of(p, keys[p], sizeof keys[p]);
      cal->params[k++].key = keys[p];
    }
  ar_free(&f.res.a);
  free(f.skip);
  free(f.mem_gemm);
  free(f.half);
  return f.failed ? (err && err->code ? err->code : SL_ERR_INTERNAL) : SL_OK;
}

static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  if (!*buf) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (*len + (size_t)n + 1 > *cap) {
    size_t nc = (*len + (size_t)n + 1) * 2;
    char *p = realloc(*buf, nc);
    if (!p) {
      free(*buf);
      *buf = NULL;
      return;
    }
    *buf = p, *cap = nc;
  }
  va_start(ap, fmt);
  vsnprintf(*buf + *len, *cap - *len, fmt, ap);
  va_end(ap);
  *len += (size_t)n;
}

char *calibrate_fragment(const sl_calibration *cal, const char *chip, const char *const *files,
                         size_t n_files) {
  size_t len = 0, cap = 4096;
  char *b = malloc(cap);
  if (!b) return NULL;
  b[0] = 0;
  char data[512] = "";
  for (size_t i = 0; i < n_files; i++) {
    size_t l = strlen(data);
    snprintf(data + l, sizeof data - l, "%s%s", i ? ", " : "", files[i]);
  }
  char stats[1024];
  snprintf(stats, sizeof stats,
           "silica calibrate on %zu cases of %s (fitted on %zu, %zu held out): MAPE %.2f%% -> %.2f%%, held "
           "out %.2f%% "
           "-> %.2f%%",
           cal->n_train + cal->n_test, data, cal->n_train, cal->n_test, 100 * cal->mape_train_before,
           100 * cal->mape_train_after, 100 * cal->mape_test_before, 100 * cal->mape_test_after);
  if (cal->held[0]) {
    size_t l = strlen(stats);
    snprintf(stats + l, sizeof stats - l, " (--hold %s: kept as given)", cal->held);
  }
  appendf(&b, &len, &cap, "# Chip-spec fragment for %s written by silica calibrate.\n# %s\n", chip, stats);
  appendf(&b, &len, &cap, "# Merge these keys into the chip spec (docs/chip-spec.md).\n");
  /* efficiency.* first, then kernels and links, each as nested YAML */
  int any_eff = 0, any_gemm = 0;
  for (size_t i = 0; i < cal->n_params; i++) {
    const char *k = cal->params[i].key;
    if (strncmp(k, "efficiency.", 11) == 0) any_eff = 1;
    if (strncmp(k, "efficiency.gemm.", 16) == 0) any_gemm = 1;
  }
  if (any_eff) appendf(&b, &len, &cap, "efficiency:\n");
  if (any_gemm) {
    appendf(&b, &len, &cap, "  gemm: {");
    int first = 1;
    for (size_t i = 0; i < cal->n_params; i++)
      if (strncmp(cal->params[i].key, "efficiency.gemm.", 16) == 0) {
        appendf(&b, &len, &cap, "%s%s: %.4f", first ? "" : ", ", cal->params[i].key + 16,
                cal->params[i].after);
        first = 0;
      }
    appendf(&b, &len, &cap, "}\n  gemm_source: \"%s\"\n", stats);
  }
  for (size_t i = 0; i < cal->n_params; i++) {
    const char *k = cal->params[i].key;
    if (strcmp(k, "efficiency.dram") == 0)
      appendf(&b, &len, &cap, "  dram: %.4f\n  dram_source: \"%s\"\n", cal->params[i].after, stats);
    if (strcmp(k, "efficiency.stream") == 0)
      appendf(&b, &len, &cap, "  stream: %.4f\n  stream_source: \"%s\"\n", cal->params[i].after, stats);
  }
  int any_attn = 0;
  for (size_t i = 0; i < cal->n_params; i++)
    if (strncmp(cal->params[i].key, "efficiency.attention.", 21) == 0) {
      appendf(&b, &len, &cap, "%s%s: %.4f", any_attn ? ", " : "  attention: {", cal->params[i].key + 21,
              cal->params[i].after);
      any_attn = 1;
    }
  if (any_attn) appendf(&b, &len, &cap, ", source: \"%s\"}\n", stats);
  int any_kernel = 0, any_glat = 0;
  for (size_t i = 0; i < cal->n_params; i++)
    if (strncmp(cal->params[i].key, "kernels.", 8) == 0) {
      if (!any_kernel) appendf(&b, &len, &cap, "kernels:   # %s\n", stats);
      any_kernel = 1;
      if (strncmp(cal->params[i].key, "kernels.gemm_latency_s.", 23) == 0) /* a map, after the loop */
        any_glat = 1;
      else
        appendf(&b, &len, &cap, "  %s: %.4g\n", cal->params[i].key + 8, cal->params[i].after);
    }
  for (size_t i = 0; i < cal->n_params && any_glat; i++)
    if (strncmp(cal->params[i].key, "kernels.gemm_latency_s.", 23) == 0) {
      appendf(&b, &len, &cap, "%s%s: %.4g", any_glat == 1 ? "  gemm_latency_s: {" : ", ",
              cal->params[i].key + 23, cal->params[i].after);
      any_glat = 2;
    }
  if (any_glat) appendf(&b, &len, &cap, "}\n");
  int any_energy = 0;
  for (size_t i = 0; i < cal->n_params; i++) {
    const char *k = cal->params[i].key;
    if (strncmp(k, "energy.", 7) != 0) continue;
    if (!any_energy) appendf(&b, &len, &cap, "energy:\n");
    any_energy = 1;
    if (strcmp(k, "energy.dynamic_scale") == 0)
      appendf(&b, &len, &cap, "  dynamic_scale: %.4f   # %s%s\n", cal->params[i].after, stats,
              cal->escale_capped ? "; lowered so that the TDP cap slows no timed case" : "");
    else
      appendf(&b, &len, &cap, "  %s: %.4g   # %s\n", k + 7, cal->params[i].after, stats);
  }
  /* links: one line per link with every fitted figure of it */
  static const char *const link_names[] = {"scale_up", "scale_out"};
  int any_link = 0;
  for (size_t l = 0; l < 2; l++) {
    int first = 1;
    for (size_t i = 0; i < cal->n_params; i++) {
      const char *k = cal->params[i].key;
      size_t ln = strlen(link_names[l]);
      if (strncmp(k, "links.", 6) != 0 || strncmp(k + 6, link_names[l], ln) != 0 || k[6 + ln] != '.')
        continue;
      if (!any_link) appendf(&b, &len, &cap, "links:   # collectives over the link; %s\n", stats);
      any_link = 1;
      if (first) appendf(&b, &len, &cap, "  %s: {", link_names[l]);
      appendf(&b, &len, &cap, "%s%s: %.4g", first ? "" : ", ", k + 7 + ln, cal->params[i].after);
      first = 0;
    }
    if (!first) appendf(&b, &len, &cap, "}\n");
  }
  return b;
}
