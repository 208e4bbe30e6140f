/* out_run.c — the result of one run as text (summary, memory, plans, serving, per-op breakdown)
 * and its breakdown as CSV: what `silica run` prints without --json (include/silica.h). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
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
}

static void model_label(const sl_model *m, char *buf, size_t size) {
  const sl_op_spec *op = &m->op;
  if (m->kind != SL_MODEL_OP)
    snprintf(buf, size, "%s", m->name);
  else if (op->type == SL_OPT_GEMM)
    snprintf(buf, size, "gemm m=%.0f n=%.0f k=%.0f%s", op->m, op->n, op->k,
             op->batch > 1 ? " (batched)" : "");
  else if (op->type == SL_OPT_ATTENTION)
    snprintf(buf, size, "attention batch=%.0f seq_len=%.0f heads=%.0f head_dim=%.0f", op->batch, op->seq_len,
             op->heads, op->head_dim);
  else
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
  rep_printf(b, "\n  %-14s %.0f W per chip (uncapped %.0f W", "power", p->avg_power_w_per_chip,
             p->uncapped_power_w_per_chip);
  if (p->clock_ratio < 1)
    rep_printf(b, "; over TDP: clock at %.0f%%, step %.1f%% longer", 100 * p->clock_ratio,
               100 * (res->step_time_s / p->uncapped_step_time_s - 1));
  rep_printf(b, ")\n");
  if (p->has_cost) {
    rep_printf(b, "  %-14s $%.4g per hour for the system", "cost", p->usd_per_hour_system);
    if (!isnan(p->usd_per_million_tokens))
      rep_printf(b, ", $%.4g per million tokens", p->usd_per_million_tokens);
    if (!isnan(p->usd_per_million_samples))
      rep_printf(b, ", $%.4g per million samples", p->usd_per_million_samples);
    rep_printf(b, "\n");
  }
}

static void text_figures(jbuf *b, const sl_result *res) {
  char t1[48], t2[48], n1[48], n2[48];
  unit_time(sl_result_number(res, "step_time_s"), t1, sizeof t1);
  rep_printf(b, "  %-14s %s", "step time", t1);
  const sl_interval *in = &res->interval;
  if (in->metric && strcmp(in->metric, "step_time_s") == 0) {
    unit_time(in->lo, n1, sizeof n1);
    unit_time(in->hi, n2, sizeof n2);
    rep_printf(b, ", %.0f%% interval %s to %s (from %.0f cross-validated cases)", 100 * in->level, n1, n2,
               in->cases);
  }
  rep_printf(b, "\n");
  if (res->has_tokens) {
    unit_num(sl_result_number(res, "tokens_per_s"), n1, sizeof n1);
    unit_num(sl_result_number(res, "tokens_per_s_per_chip"), n2, sizeof n2);
    rep_printf(b, "  %-14s %s (%s per chip)\n", "tokens/s", n1, n2);
  }
  if (res->has_samples) {
    unit_num(sl_result_number(res, "samples_per_s"), n1, sizeof n1);
    unit_num(sl_result_number(res, "samples_per_s_per_chip"), n2, sizeof n2);
    rep_printf(b, "  %-14s %s (%s per chip)\n", "samples/s", n1, n2);
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
  rep_printf(b, "  %-14s p50 %s, p90 %s, p99 %s\n", "TPOT", e, f, g);
  rep_printf(b, "  %-14s %.4g tokens/s, goodput %.4g requests/s within the SLO\n", "throughput",
             res->serve.throughput_tokens_per_s, res->serve.goodput_requests_per_s);
  if (res->serve.max_rate_per_s == res->serve.max_rate_per_s)
    rep_printf(b, "  %-14s %.4g requests/s with p99 TTFT and TPOT within the SLO\n", "max rate",
               res->serve.max_rate_per_s);
  rep_printf(b, "  %-14s %.0f blocks per chip, %.0f preemptions\n", "KV cache", res->serve.kv_blocks,
             res->serve.preemptions);
}

/* The plan search: counts, and with --top N the N best plans. */
static void text_plans(jbuf *b, const sl_result *res) {
  if (res->plans_evaluated <= 0) return;
  rep_printf(b, "  %-14s %.0f plans enumerated, %.0f evaluated\n", "search", res->plans_enumerated,
             res->plans_evaluated);
  if (!res->n_top) return;
  rep_printf(
      b, "\nbest plans (fastest first)\n  %4s %4s %4s %4s %4s %3s %4s %4s %4s %-9s %6s %11s %7s %10s\n", "dp",
      "tp", "pp", "cp", "ep", "sp", "zero", "vpp", "mb", "recompute", "gbs", "step time", "MFU", "GiB/chip");
  static const char *const rc[] = {"none", "selective", "full", "block"};
  for (size_t i = 0; i < res->n_top; i++) {
    const sl_plan_row *t = &res->top[i];
    char st[32];
    unit_time(t->step_time_s, st, sizeof st);
    rep_printf(b, "  %4g %4g %4g %4g %4g %3s %4g %4g %4g %-9s %6g %11s %6.1f%% %10.2f\n", t->plan.dp,
               t->plan.tp, t->plan.pp, t->plan.cp, t->plan.ep, t->plan.sp ? "on" : "off", t->plan.zero,
               t->plan.vpp, t->plan.mb, rc[t->plan.rc], t->plan.gb, st, t->mfu * 100,
               t->per_chip_bytes / 1073741824.0);
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
  if (res->feasible && res->n_rows) text_breakdown(b, res, top);
}

static void csv_field_num(jbuf *b, double v, int last) {
  rep_csv_num(b, v, last ? "\n" : ",");
}

static void csv_field_str(jbuf *b, const char *s) {
  rep_csv_str(b, s, ",");
}

static void write_csv(jbuf *b, const sl_result *res, long top) {
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
