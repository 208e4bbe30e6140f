/* out_run.c — the result of one run as text (summary, memory, plans, serving, per-op breakdown)
 * and its breakdown as CSV: what `silica run` prints without --json (include/silica.h). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text and CSV ----------------------------------------------------------------------------- */

/* A row's time_s, flops and bytes are totals over its `count` repeats in one step (sim.c), so the
 * rows add up to the step time when nothing overlaps. */
static double row_total(const sl_row *r) {
  return r->time_s;
}

/* A row's sort key beside its index, so that qsort needs no context (writers may run on several
 * threads at once). */
typedef struct row_key {
  double total;
  size_t i;
} row_key;

static int by_total_desc(const void *pa, const void *pb) {
  const row_key *a = pa, *b = pb;
  if (a->total != b->total) return a->total < b->total ? 1 : -1;
  return a->i < b->i ? -1 : a->i > b->i; /* stable: keep the graph's order among equals */
}

/* Row indices, most expensive first; NULL when there are no rows or no memory. */
static size_t *sorted_rows(const sl_result *res) {
  if (res->n_rows == 0) return NULL;
  row_key *k = malloc(res->n_rows * sizeof *k);
  size_t *idx = malloc(res->n_rows * sizeof *idx);
  if (!k || !idx) {
    free(k);
    free(idx);
    return NULL;
  }
  for (size_t i = 0; i < res->n_rows; i++)
    k[i].total = row_total(&res->rows[i]), k[i].i = i;
  qsort(k, res->n_rows, sizeof *k, by_total_desc);
  for (size_t i = 0; i < res->n_rows; i++)
    idx[i] = k[i].i;
  free(k);
  return idx;
}

static double rows_sum(const sl_result *res) {
  double s = 0;
  for (size_t i = 0; i < res->n_rows; i++)
    s += row_total(&res->rows[i]);
  return s;
}

static const char *safe_name(const char *const *names, int n, int i) {
  return i >= 0 && i < n ? names[i] : "?";
}

static void precision_label(const sl_scenario *sc, char *buf, size_t size) {
  if (sc->w_dtype == sc->a_dtype && sc->a_dtype == sc->kv_dtype && sc->g_dtype == sc->a_dtype)
    snprintf(buf, size, "%s", sl_dtype_names[sc->a_dtype]);
  else if (sc->w_dtype == sc->a_dtype && sc->a_dtype == sc->kv_dtype)
    snprintf(buf, size, "%s matrix products, %s otherwise", sl_dtype_names[sc->g_dtype],
             sl_dtype_names[sc->a_dtype]);
  else
    snprintf(buf, size, "weights %s, activations %s, kv %s", sl_dtype_names[sc->w_dtype],
             sl_dtype_names[sc->a_dtype], sl_dtype_names[sc->kv_dtype]);
  /* which linear layers take the narrow formats, when not all of them */
  size_t n = strlen(buf);
  double first = sc->unquant_first, last = sc->unquant_last, L = (double)sc->model.tf.layers;
  if (n < size && (sc->quant_ffn || first + last > 0))
    snprintf(buf + n, size - n, " (%s%s of layers %.0f-%.0f; the rest %s)",
             sc->quant_ffn ? "feed-forward" : "every", sc->quant_ffn ? " products" : " linear layer",
             first + 1, L - last, sl_dtype_names[sc->a_dtype]);
}

static void model_label(const sl_model *m, char *buf, size_t size) {
  const sl_op_spec *op = &m->op;
  if (m->kind != SL_MODEL_OP)
    snprintf(buf, size, "%s", m->name);
  else if (op->type == SL_OPT_GEMM)
    snprintf(buf, size, "gemm m=%.0f n=%.0f k=%.0f%s", op->m, op->n, op->k,
             op->batch > 1 ? " (batched)" : "");
  else if (op->type == SL_OPT_ATTENTION) {
    char kv[48];
    snprintf(kv, sizeof kv, " kv_len=%.0f", op->kv_len);
    snprintf(buf, size, "attention batch=%.0f seq_len=%.0f%s heads=%.0f head_dim=%.0f", op->batch,
             op->seq_len, op->kv_len != op->seq_len ? kv : "", op->heads, op->head_dim);
  } else
    snprintf(buf, size, "%s", safe_name(sl_op_type_names, SL_OPT_COUNT, (int)op->type));
}

/* Energy, power and cost. */
static void text_power(jbuf *b, const sl_result *res) {
  const sl_power_out *p = &res->power;
  if (!p->has_energy) return;
  char n1[48];
  unit_num(p->step_j, n1, sizeof n1);
  rep_printf(b, "  %-14s %s J per step", "energy", n1);
  if (!isnan(p->j_per_token)) rep_printf(b, ", %.4g J per token", p->j_per_token);
  if (!isnan(p->j_per_sample)) rep_printf(b, ", %.4g J per sample", p->j_per_sample);
  const sl_interval *ei = &res->energy_interval;
  if (ei->metric) rep_printf(b, " (%.0f%% interval %.4g to %.4g)", 100 * ei->level, ei->lo, ei->hi);
  rep_printf(b, "\n  %-14s %.0f W per chip (uncapped %.0f W", "power", p->avg_power_w_per_chip,
             p->uncapped_power_w_per_chip);
  if (p->clock_ratio < 1)
    rep_printf(b, "; over TDP: clock at %.0f%%, step %.1f%% longer", 100 * p->clock_ratio,
               100 * (res->step_time_s / p->uncapped_step_time_s - 1));
  if (p->peak_power_w_per_chip > 0) rep_printf(b, "; hottest kernel %.0f W", p->peak_power_w_per_chip);
  rep_printf(b, ")");
  const sl_interval *pi = &res->power_interval;
  if (pi->metric)
    rep_printf(b, ", %.0f%% interval %.0f to %.0f W (from %.0f measured board powers%s)", 100 * pi->level,
               pi->lo, pi->hi, pi->cases, pi->chip_cases == 0 ? ", none of this chip" : "");
  rep_printf(b, "\n");
  if (p->has_cost) {
    char u[48];
    unit_usd(p->usd_per_hour_system, u, sizeof u);
    rep_printf(b, "  %-14s %s per hour for the system", "cost", u);
    if (!isnan(p->usd_per_million_tokens)) {
      unit_usd(p->usd_per_million_tokens, u, sizeof u);
      rep_printf(b, ", %s per million tokens", u);
    }
    if (!isnan(p->usd_per_million_samples)) {
      unit_usd(p->usd_per_million_samples, u, sizeof u);
      rep_printf(b, ", %s per million samples", u);
    }
    rep_printf(b, "\n");
  }
}

/* The 80% interval beside the figure it is about (FORMATS.md "interval"): times in time units,
 * rates as plain numbers. */
static void text_interval(jbuf *b, const sl_result *res, int is_time) {
  const sl_interval *in = &res->interval;
  char n1[48], n2[48];
  if (is_time) {
    unit_time(in->lo, n1, sizeof n1);
    unit_time(in->hi, n2, sizeof n2);
  } else {
    unit_num(in->lo, n1, sizeof n1);
    unit_num(in->hi, n2, sizeof n2);
  }
  rep_printf(b, ", %.0f%% interval %s to %s (from %.0f cross-validated cases%s)", 100 * in->level, n1, n2,
             in->cases, in->moe_cases == 0 ? ", none with mixture-of-experts layers" : "");
}

static int interval_is(const sl_result *res, const char *metric) {
  return res->interval.metric && strcmp(res->interval.metric, metric) == 0;
}

static void text_figures(jbuf *b, const sl_result *res) {
  char t1[48], t2[48], n1[48], n2[48];
  unit_time(sl_result_number(res, "step_time_s"), t1, sizeof t1);
  rep_printf(b, "  %-14s %s", "step time", t1);
  if (interval_is(res, "step_time_s")) text_interval(b, res, 1);
  rep_printf(b, "\n");
  if (res->has_tokens) {
    unit_num(sl_result_number(res, "tokens_per_s"), n1, sizeof n1);
    unit_num(sl_result_number(res, "tokens_per_s_per_chip"), n2, sizeof n2);
    rep_printf(b, "  %-14s %s (%s per chip)", "tokens/s", n1, n2);
    /* A serving run's interval is on its token throughput, the figure of this line. */
    if (interval_is(res, "serve.throughput_tokens_per_s") || interval_is(res, "tokens_per_s"))
      text_interval(b, res, 0);
    rep_printf(b, "\n");
  }
  if (res->has_samples) {
    unit_num(sl_result_number(res, "samples_per_s"), n1, sizeof n1);
    unit_num(sl_result_number(res, "samples_per_s_per_chip"), n2, sizeof n2);
    rep_printf(b, "  %-14s %s (%s per chip)", "samples/s", n1, n2);
    if (interval_is(res, "samples_per_s")) text_interval(b, res, 0);
    rep_printf(b, "\n");
  }
  if (res->has_ttft) {
    unit_time(sl_result_number(res, "ttft_s"), t1, sizeof t1);
    unit_time(sl_result_number(res, "tpot_s"), t2, sizeof t2);
    rep_printf(b, "  %-14s %s / %s\n", "TTFT / TPOT", t1, t2);
  }
  if (res->has_mfu) {
    rep_printf(b, "  %-14s %.1f%% / %.1f%% (%.1f TFLOP/s per chip)\n", "MFU / HFU", 100 * res->mfu,
               100 * res->hfu, res->flops_per_chip_per_s / 1e12);
  }
  text_power(b, res);
}

static void text_memory(jbuf *b, const sl_result *res) {
  const sl_memory *m = &res->mem;
  if (m->capacity_bytes <= 0) return;
  char u[32], c[32], w[32], g[32], o[32], a[32], kv[32];
  unit_bytes(m->per_chip_bytes, u, sizeof u);
  unit_bytes(m->capacity_bytes, c, sizeof c);
  unit_bytes(m->weights_bytes, w, sizeof w);
  unit_bytes(m->grads_bytes, g, sizeof g);
  unit_bytes(m->optimizer_bytes, o, sizeof o);
  unit_bytes(m->activations_bytes, a, sizeof a);
  unit_bytes(m->kv_cache_bytes, kv, sizeof kv);
  rep_printf(b, "  %-14s %s of %s per chip (%s)\n", "memory", u, c, m->fits ? "fits" : "does not fit");
  rep_printf(b, "  %-14s weights %s, grads %s, optimizer %s, activations %s, KV cache %s\n", "", w, g, o, a,
             kv);
}

static void text_parallel(jbuf *b, const sl_result *res) {
  if (!res->feasible && res->mem.capacity_bytes <= 0) return;
  const sl_parallel *p = &res->par;
  rep_printf(b, "  %-14s dp %g, tp %g, pp %g, cp %g, ep %g, sp %s, zero %g, vpp %g", "parallel", p->dp, p->tp,
             p->pp, p->cp, p->ep, p->sp ? "on" : "off", p->zero, p->vpp);
  if (res->task == SL_TASK_TRAIN) rep_printf(b, ", micro_batch %g", res->micro_batch);
  rep_printf(b, "\n");
}

static void text_breakdown(jbuf *b, const sl_result *res, long top) {
  size_t *idx = sorted_rows(res);
  if (!idx) {
    if (res->n_rows) b->oom = 1;
    return;
  }
  size_t shown = top > 0 && (size_t)top < res->n_rows ? (size_t)top : res->n_rows;
  int w = 4;
  for (size_t i = 0; i < shown; i++) {
    int l = (int)strlen(res->rows[idx[i]].name);
    if (l > w) w = l < 48 ? l : 48;
  }
  double sum = rows_sum(res);
  rep_printf(b, "\nbreakdown (%zu of %zu ops, most time first; --top N shows N)\n", shown, res->n_rows);
  rep_printf(b, "  %-*s  %-13s  %-11s  %8s  %11s  %6s  %9s  %s\n", w, "name", "phase", "category", "count",
             "time", "share", "TFLOP/s", "bound");
  for (size_t i = 0; i < shown; i++) {
    const sl_row *r = &res->rows[idx[i]];
    char t[48], cnt[32], tf[32];
    unit_time(r->time_s, t, sizeof t);
    unit_num(r->count, cnt, sizeof cnt);
    if (r->time_s > 0) /* achieved: the row's FLOP over its time */
      snprintf(tf, sizeof tf, "%.1f", r->flops / r->time_s / 1e12);
    else
      snprintf(tf, sizeof tf, "-");
    rep_printf(b, "  %-*.*s  %-13s  %-11s  %8s  %11s  %5.1f%%  %9s  %s\n", w, w, r->name,
               safe_name(sl_phase_names, SL_PH_COUNT, (int)r->phase),
               safe_name(sl_category_names, SL_CAT_COUNT, (int)r->cat), cnt, t,
               sum > 0 ? 100 * row_total(r) / sum : 0.0, tf,
               safe_name(sl_bound_names, SL_BOUND_COUNT, (int)r->bound));
  }
  free(idx);
}

/* A latency's 80% interval under its percentiles: [0] the fast engine's p50 and p99, [1] the slow one's. */
static void text_latency_interval(jbuf *b, const double iv[2][2]) {
  if (!(iv[0][0] == iv[0][0]) || !(iv[1][0] == iv[1][0])) return;
  char l50[32], h50[32], l99[32], h99[32];
  unit_time(iv[0][0], l50, sizeof l50), unit_time(iv[1][0], h50, sizeof h50);
  unit_time(iv[0][1], l99, sizeof l99), unit_time(iv[1][1], h99, sizeof h99);
  rep_printf(b, "  %-14s 80%% interval p50 %s to %s, p99 %s to %s\n", "", l50, h50, l99, h99);
}

/* Serving: latency percentiles, throughput, goodput under the SLO. */
static void text_serve(jbuf *b, const sl_result *res) {
  if (!res->has_serve) return;
  char a[32], c[32], d[32], e[32], f[32], g[32];
  unit_time(res->serve.ttft[0], a, sizeof a), unit_time(res->serve.ttft[1], c, sizeof c);
  unit_time(res->serve.ttft[2], d, sizeof d), unit_time(res->serve.tpot[0], e, sizeof e);
  unit_time(res->serve.tpot[1], f, sizeof f), unit_time(res->serve.tpot[2], g, sizeof g);
  char rate[48];
  if (isinf(res->serve.rate_per_s))
    snprintf(rate, sizeof rate, "all queued at time 0");
  else
    snprintf(rate, sizeof rate, "at %.4g per second", res->serve.rate_per_s);
  rep_printf(b, "\nserving (%.0f requests %s, %.0f engine steps of %.0f tokens on average)\n",
             res->serve.requests, rate, res->serve.steps, res->serve.mean_batch_tokens);
  rep_printf(b, "  %-14s p50 %s, p90 %s, p99 %s\n", "TTFT", a, c, d);
  text_latency_interval(b, res->serve.ttft_iv);
  rep_printf(b, "  %-14s p50 %s, p90 %s, p99 %s\n", "TPOT", e, f, g);
  text_latency_interval(b, res->serve.tpot_iv);
  if (res->serve.itl[0] == res->serve.itl[0]) {
    char i0[32], i1[32], i2[32];
    unit_time(res->serve.itl[0], i0, sizeof i0), unit_time(res->serve.itl[1], i1, sizeof i1);
    unit_time(res->serve.itl[2], i2, sizeof i2);
    rep_printf(b, "  %-14s p50 %s, p90 %s, p99 %s (inter-token latency)\n", "ITL", i0, i1, i2);
  }
  rep_printf(b, "  %-14s %.4g tokens/s, goodput %.4g requests/s within the SLO\n", "throughput",
             res->serve.throughput_tokens_per_s, res->serve.goodput_requests_per_s);
  if (res->serve.window_s == res->serve.window_s) {
    char w[32];
    unit_time(res->serve.window_s, w, sizeof w);
    rep_printf(b, "  %-14s the steady state, %s: throughput and power over it\n", "window", w);
  }
  if (res->serve.max_rate_per_s == res->serve.max_rate_per_s)
    rep_printf(b, "  %-14s %.4g requests/s with p99 TTFT and TPOT within the SLO\n", "max rate",
               res->serve.max_rate_per_s);
  rep_printf(b, "  %-14s %.0f blocks per chip, %.0f preemptions, %.1f sequences running on average\n",
             "KV cache", res->serve.kv_blocks, res->serve.preemptions, res->serve.mean_running);
  if (res->serve.disaggregated) { /* the pools of a disaggregated fleet */
    for (int k = 0; k < 2; k++) {
      char usd[48] = "";
      if (res->serve.pool_usd_per_hour[k] == res->serve.pool_usd_per_hour[k])
        snprintf(usd, sizeof usd, ", $%.2f/h", res->serve.pool_usd_per_hour[k]);
      rep_printf(b, "  %-14s %.0f x %s (%.0f engines of tp %.0f), busy %.1f%%, %.0f W per chip%s, %.0f KV blocks per chip\n",
                 k ? "decode pool" : "prefill pool", res->serve.pool_chips[k], res->serve.pool_chip[k],
                 res->serve.pool_engines[k], res->serve.pool_tp[k], 100 * res->serve.pool_util[k],
                 res->serve.pool_power_w[k], usd, res->serve.pool_kv_blocks[k]);
    }
    char m[32], x[32];
    unit_time(res->serve.kv_transfer_mean_s, m, sizeof m), unit_time(res->serve.kv_transfer_max_s, x, sizeof x);
    rep_printf(b, "  %-14s mean %s, longest %s (over the %s link)\n", "KV transfer", m, x,
               res->serve.kv_link_scale_up ? "scale-up" : "scale-out");
  }
  /* prefix caching and speculative decoding */
  if (res->serve.prefix_hit_rate == res->serve.prefix_hit_rate) {
    rep_printf(b, "  %-14s %.1f%% of prompt tokens cached", "prefix cache", 100 * res->serve.prefix_hit_rate);
    if (res->serve.prefix_evictions == res->serve.prefix_evictions)
      rep_printf(b, ", %.0f prefixes evicted\n", res->serve.prefix_evictions);
    else
      rep_printf(b, " (prefix caching off)\n");
  }
  if (res->serve.spec_tokens_per_step == res->serve.spec_tokens_per_step)
    rep_printf(b, "  %-14s %.3g tokens per sequence per step\n", "speculative", res->serve.spec_tokens_per_step);
  if (!res->serve.n_curve) return;
  rep_printf(b, "\nlatency-throughput curve (a full simulation per rate; the figures above are the last rate's)\n");
  rep_printf(b, "  %10s  %9s %9s %9s  %9s %9s %9s  %10s  %9s  %7s\n", "requests/s", "TTFT p50", "p90", "p99",
             "TPOT p50", "p90", "p99", "tokens/s", "goodput", "preempt");
  for (size_t i = 0; i < res->serve.n_curve; i++) {
    const sl_serve_point *q = &res->serve.curve[i];
    char t[6][32];
    for (int k = 0; k < 3; k++)
      unit_time(q->ttft[k], t[k], sizeof t[k]), unit_time(q->tpot[k], t[3 + k], sizeof t[3 + k]);
    rep_printf(b, "  %10.4g  %9s %9s %9s  %9s %9s %9s  %10.4g  %9.4g  %7.0f\n", q->rate_per_s, t[0], t[1], t[2],
               t[3], t[4], t[5], q->throughput_tokens_per_s, q->goodput_requests_per_s, q->preemptions);
  }
}

/* The plan search: counts, and with --top N the N best plans: every column that differs between
 * them (the overlap options only then), and plans equal in every printed figure and in all
 * columns but one as one row, that column's values joined by "/". */
enum {
  PC_DP,
  PC_TP,
  PC_PP,
  PC_CP,
  PC_EP,
  PC_SP,
  PC_ZERO,
  PC_VPP,
  PC_MB,
  PC_RC,
  PC_OTP,
  PC_ODP,
  PC_GBS,
  PC_N
};
enum { PF_TIME, PF_MFU, PF_MEM, PF_N, PLAN_CELL = 40 };

static void plan_cells(const sl_plan_row *t, char c[PC_N + PF_N][PLAN_CELL]) {
  static const char *const rc[] = {"none", "selective", "full", "block"};
  const sl_plan *p = &t->plan;
  double num[] = {p->dp, p->tp, p->pp, p->cp, p->ep};
  for (int k = 0; k < 5; k++)
    snprintf(c[k], PLAN_CELL, "%g", num[k]);
  snprintf(c[PC_SP], PLAN_CELL, "%s", p->sp ? "on" : "off");
  snprintf(c[PC_ZERO], PLAN_CELL, "%g", p->zero);
  snprintf(c[PC_VPP], PLAN_CELL, "%g", p->vpp);
  snprintf(c[PC_MB], PLAN_CELL, "%g", p->mb);
  snprintf(c[PC_RC], PLAN_CELL, "%s", rc[p->rc]);
  snprintf(c[PC_OTP], PLAN_CELL, "%s", p->overlap_tp ? "on" : "off");
  snprintf(c[PC_ODP], PLAN_CELL, "%s", p->overlap_dp ? "on" : "off");
  snprintf(c[PC_GBS], PLAN_CELL, "%g", p->gb);
  unit_time(t->step_time_s, c[PC_N + PF_TIME], PLAN_CELL);
  snprintf(c[PC_N + PF_MFU], PLAN_CELL, "%.1f%%", t->mfu * 100);
  snprintf(c[PC_N + PF_MEM], PLAN_CELL, "%.2f", t->per_chip_bytes / 1073741824.0);
}

static void text_plans(jbuf *b, const sl_result *res) {
  if (res->plans_evaluated <= 0) return;
  rep_printf(b, "  %-14s %.0f plans enumerated, %.0f evaluated\n", "search", res->plans_enumerated,
             res->plans_evaluated);
  if (!res->n_top) return;
  static const char *const head[PC_N + PF_N] = {
      "dp", "tp",        "pp",         "cp",         "ep",  "sp",        "zero", "vpp",
      "mb", "recompute", "tp overlap", "dp overlap", "gbs", "step time", "MFU",  "GiB/chip"};
  size_t n = res->n_top;
  char(*cell)[PC_N + PF_N][PLAN_CELL] = calloc(n, sizeof *cell);
  size_t *first = calloc(n, sizeof *first);        /* the first plan of each printed row */
  int *merged_col = calloc(n, sizeof *merged_col); /* the column a row merges plans on, or -1 */
  if (!cell || !first || !merged_col) {
    b->oom = 1;
    free(cell), free(first), free(merged_col);
    return;
  }
  for (size_t i = 0; i < n; i++)
    plan_cells(&res->top[i], cell[i]);
  /* merge a plan into the row above when only one column (the same for the whole row) differs */
  size_t rows = 0;
  for (size_t i = 0; i < n; i++) {
    int diff = -1, ndiff = 0;
    if (rows) {
      size_t f = first[rows - 1];
      for (int k = 0; k < PC_N + PF_N; k++)
        if (strcmp(cell[i][k], cell[f][k]) != 0) diff = k, ndiff++;
    }
    if (rows && ndiff == 1 && diff < PC_N && (merged_col[rows - 1] < 0 || merged_col[rows - 1] == diff)) {
      size_t f = first[rows - 1];
      merged_col[rows - 1] = diff;
      size_t l = strlen(cell[f][diff]);
      if (!strstr(cell[f][diff], cell[i][diff])) {
        char add[PLAN_CELL + 1]; /* a copy: row i's cell and row f's are apart, but the compiler cannot tell */
        snprintf(add, sizeof add, "/%s", cell[i][diff]);
        snprintf(cell[f][diff] + l, PLAN_CELL - l, "%s", add);
      }
      continue;
    }
    first[rows] = i, merged_col[rows] = -1;
    rows++;
  }
  /* the columns shown: the plan's own degrees always, the overlap options when they differ */
  int show[PC_N + PF_N], width[PC_N + PF_N];
  for (int k = 0; k < PC_N + PF_N; k++) {
    show[k] = 1;
    if (k == PC_OTP || k == PC_ODP) {
      show[k] = 0;
      for (size_t r = 1; r < rows; r++)
        if (strcmp(cell[first[r]][k], cell[first[0]][k]) != 0) show[k] = 1;
      for (size_t r = 0; r < rows; r++)
        if (merged_col[r] == k) show[k] = 1;
    }
    width[k] = (int)strlen(head[k]);
    for (size_t r = 0; r < rows; r++)
      if ((int)strlen(cell[first[r]][k]) > width[k]) width[k] = (int)strlen(cell[first[r]][k]);
  }
  rep_printf(b, "\nbest plans (fastest first)\n ");
  for (int k = 0; k < PC_N + PF_N; k++)
    if (show[k]) rep_printf(b, k == PC_RC ? " %-*s" : " %*s", width[k], head[k]);
  rep_printf(b, "\n");
  for (size_t r = 0; r < rows; r++) {
    rep_printf(b, " ");
    for (int k = 0; k < PC_N + PF_N; k++)
      if (show[k]) rep_printf(b, k == PC_RC ? " %-*s" : " %*s", width[k], cell[first[r]][k]);
    rep_printf(b, "\n");
  }
  free(cell), free(first), free(merged_col);
}

/* A duration in the unit people plan campaigns in: days past two days, else hours, else seconds. */
static void campaign_time(double s, char *buf, size_t size) {
  if (isnan(s))
    snprintf(buf, size, "-");
  else if (s >= 2 * 86400)
    snprintf(buf, size, "%.1f days", s / 86400);
  else if (s >= 3600)
    snprintf(buf, size, "%.1f h", s / 3600);
  else
    unit_time(s, buf, size);
}

/* The campaign (train.tokens): time to train with failures, its split, energy and cost; the stages. */
static void text_campaign(jbuf *b, const sl_result *res) {
  const sl_campaign *C = &res->campaign;
  if (!C->has) {
    if (C->reason[0]) rep_printf(b, "\ncampaign: not run: %s\n", C->reason);
    return;
  }
  char t[48], c[48], p10[48], p50[48], p90[48], lost[48], ck[48], rs[48], mtbf[48], iv[48], gp[32];
  campaign_time(C->time_to_train_s, t, sizeof t);
  campaign_time(C->compute_s, c, sizeof c);
  campaign_time(C->p10_s, p10, sizeof p10);
  campaign_time(C->p50_s, p50, sizeof p50);
  campaign_time(C->p90_s, p90, sizeof p90);
  campaign_time(C->lost_work_s, lost, sizeof lost);
  campaign_time(C->checkpoint_s, ck, sizeof ck);
  campaign_time(C->restart_s, rs, sizeof rs);
  campaign_time(C->mtbf_s, mtbf, sizeof mtbf);
  campaign_time(C->interval_s, iv, sizeof iv);
  unit_pct(C->goodput, gp, sizeof gp);
  rep_printf(b, "\ncampaign (%.4g tokens, %.0f steps, %zu stage%s)\n", C->tokens, C->steps, C->n_stage,
             C->n_stage == 1 ? "" : "s");
  rep_printf(b, "  %-14s %s expected (steps alone %s); Monte Carlo P10 %s, P50 %s, P90 %s\n", "time to train", t,
             c, p10, p50, p90);
  rep_printf(b, "  %-14s %.4g chip-hours on up to %.0f chips\n", "chip-hours", C->chip_hours, C->chips);
  rep_printf(b, "  %-14s %.1f expected (MTBF %s), lost work %s, checkpoints %s, restarts %s\n", "interruptions",
             C->interruptions, mtbf, lost, ck, rs);
  rep_printf(b, "  %-14s %s (checkpoint every %s, %.3g GB each)\n", "goodput", gp, iv, C->checkpoint_bytes / 1e9);
  rep_printf(b, "  %-14s %.4g MWh at the facility (peak %.3g MW)\n", "energy", C->energy_mwh,
             C->facility_power_w / 1e6);
  if (!isnan(C->cost_usd)) rep_printf(b, "  %-14s $%.4g\n", "cost", C->cost_usd);
  if (C->n_stage > 1) {
    rep_printf(b, "  %5s %10s %8s %9s %6s %-16s %11s %9s %11s %8s\n", "stage", "tokens", "seq_len", "batch",
               "chips", "tp/pp/cp/dp", "step time", "steps", "time", "goodput");
    for (size_t i = 0; i < C->n_stage; i++) {
      const sl_campaign_stage *g = &C->stage[i];
      char plan[96], st[32], tm[48], gq[32];
      snprintf(plan, sizeof plan, "%g/%g/%g/%g", g->tp, g->pp, g->cp, g->dp);
      unit_time(g->step_time_s, st, sizeof st);
      campaign_time(g->time_s, tm, sizeof tm);
      unit_pct(g->goodput, gq, sizeof gq);
      rep_printf(b, "  %5zu %10.4g %8g %9g %6g %-16s %11s %9.0f %11s %8s\n", i + 1, g->tokens, g->seq_len,
                 g->global_batch, g->chips, plan, st, g->steps, tm, gq);
    }
  }
}

static void write_text(jbuf *b, const sl_scenario *sc, const sl_result *res, long top) {
  char prec[128], model[256];
  precision_label(sc, prec, sizeof prec);
  model_label(&sc->model, model, sizeof model);
  rep_printf(b, "silica %s\n", SILICA_VERSION);
  rep_printf(b, "  %-14s %s\n", "chip", sc->chip.name);
  rep_printf(b, "  %-14s %s\n", "model", model);
  rep_printf(b, "  %-14s %s\n", "task", sl_task_names[sc->task]);
  rep_printf(b, "  %-14s %s\n", "precision", prec);
  rep_printf(b, "  %-14s %g\n", "chips", sc->chips);
  rep_printf(b, "  %-14s %s\n", "stack", sc->stack.name);
  if (res->feasible)
    rep_printf(b, "  %-14s yes\n\n", "feasible");
  else
    rep_printf(b, "  %-14s no: %s\n\n", "feasible", res->reason);
  if (res->feasible) text_figures(b, res);
  text_memory(b, res);
  text_parallel(b, res);
  text_plans(b, res);
  if (res->feasible) text_serve(b, res);
  if (res->feasible) text_campaign(b, res);
  if (res->feasible && res->n_rows) text_breakdown(b, res, top);
}

static void csv_field_num(jbuf *b, double v, int last) {
  rep_csv_num(b, v, last ? "\n" : ",");
}

static void csv_field_str(jbuf *b, const char *s) {
  rep_csv_str(b, s, ",");
}

/* The latency-throughput curve: one row per rate. */
static void write_curve_csv(jbuf *b, const sl_result *res) {
  jb_raw(b, "arrival_rate_per_s,ttft_p50_s,ttft_p90_s,ttft_p99_s,tpot_p50_s,tpot_p90_s,tpot_p99_s,"
            "throughput_tokens_per_s,goodput_requests_per_s,preemptions,mean_batch_tokens\n");
  for (size_t i = 0; i < res->serve.n_curve; i++) {
    const sl_serve_point *c = &res->serve.curve[i];
    const double v[] = {c->rate_per_s, c->ttft[0], c->ttft[1], c->ttft[2], c->tpot[0], c->tpot[1], c->tpot[2],
                        c->throughput_tokens_per_s, c->goodput_requests_per_s, c->preemptions,
                        c->mean_batch_tokens};
    for (size_t k = 0; k < SL_ARRAY_LEN(v); k++)
      csv_field_num(b, v[k], k + 1 == SL_ARRAY_LEN(v));
  }
}

static void write_csv(jbuf *b, const sl_result *res, long top) {
  if (res->feasible && res->has_serve && res->serve.n_curve) {
    write_curve_csv(b, res);
    return;
  }
  jb_raw(b, "name,phase,category,count,time_s,time_per_op_s,share,flops,bytes,tflops_per_s,bound,energy_j,"
            "sram_hit_rate\n");
  size_t *idx = sorted_rows(res);
  if (!idx) {
    if (res->n_rows) b->oom = 1;
    return;
  }
  size_t shown = top > 0 && (size_t)top < res->n_rows ? (size_t)top : res->n_rows;
  double sum = rows_sum(res);
  for (size_t i = 0; i < shown; i++) {
    const sl_row *r = &res->rows[idx[i]];
    csv_field_str(b, r->name);
    csv_field_str(b, safe_name(sl_phase_names, SL_PH_COUNT, (int)r->phase));
    csv_field_str(b, safe_name(sl_category_names, SL_CAT_COUNT, (int)r->cat));
    csv_field_num(b, r->count, 0);
    csv_field_num(b, r->time_s, 0);
    csv_field_num(b, r->count > 0 ? r->time_s / r->count : NAN, 0);
    csv_field_num(b, sum > 0 ? row_total(r) / sum : NAN, 0);
    csv_field_num(b, r->flops, 0);
    csv_field_num(b, r->bytes, 0);
    csv_field_num(b, r->time_s > 0 ? r->flops / r->time_s / 1e12 : NAN, 0);
    csv_field_str(b, safe_name(sl_bound_names, SL_BOUND_COUNT, (int)r->bound));
    csv_field_num(b, r->energy_j > 0 ? r->energy_j : NAN, 0);
    csv_field_num(b, r->sram_hit_rate >= 0 ? r->sram_hit_rate : NAN, 1);
  }
  free(idx);
}

static char *finish(jbuf *b) {
  char *out = NULL;
  sl_error err;
  return rep_take(b, &out, &err) ? NULL : out;
}

char *sl_result_text(const sl_scenario *sc, const sl_result *res, size_t top) {
  if (!sc || !res) return NULL;
  jbuf b;
  jb_init(&b);
  write_text(&b, sc, res, top > 1000000000 ? 0 : (long)top);
  return finish(&b);
}

char *sl_result_csv(const sl_result *res, size_t top) {
  if (!res) return NULL;
  jbuf b;
  jb_init(&b);
  write_csv(&b, res, top > 1000000000 ? 0 : (long)top);
  return finish(&b);
}
