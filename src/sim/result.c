/* result.c — the public face of a result: running a scenario into an sl_result, reading its numbers
 * by the dotted keys of the JSON output, and writing that JSON (FORMATS.md "Output of silica run
 * --json").  The numbers themselves come from sim_run (sim.c). */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const recompute_names[] = {"none", "selective", "full"};
static const char *const optimizer_names[] = {"adamw", "sgd", "adagrad"};

static const char *name_of(const char *const *names, size_t n, int i) {
  return i >= 0 && (size_t)i < n ? names[i] : "?";
}

/* The resolved scenario, written at run time so that the result does not need `sc` later. */
static void write_scenario(jbuf *b, const char *key, const sl_scenario *sc, const sl_result *res) {
  jb_obj_begin(b, key);
  jb_node(b, "chip", sc->chip_tree);
  jb_node(b, "stack", sc->stack_tree);
  jb_node(b, "model", sc->model_tree);
  jb_obj_begin(b, "precision");
  jb_str(b, "weights", sl_dtype_names[sc->w_dtype]);
  jb_str(b, "activations", sl_dtype_names[sc->a_dtype]);
  jb_str(b, "kv", sl_dtype_names[sc->kv_dtype]);
  jb_obj_end(b);
  jb_str(b, "task", sl_task_names[sc->task]);
  jb_obj_begin(b, "system");
  jb_num(b, "chips", sc->chips);
  jb_num(b, "node_chips", sc->node_chips);
  for (int i = 0; i < 2; i++) {
    const sl_link *l = i ? &sc->scale_out : &sc->scale_up;
    jb_obj_begin(b, i ? "scale_out" : "scale_up");
    jb_num(b, "bw_GBps", l->bw_GBps);
    jb_num(b, "latency_s", l->latency_s);
    jb_obj_end(b);
  }
  jb_obj_end(b);
  if (sc->task == SL_TASK_TRAIN) {
    jb_obj_begin(b, "train");
    if (sc->seq_len > 0) jb_num(b, "seq_len", sc->seq_len);
    jb_num(b, "global_batch", res->global_batch > 0 ? res->global_batch : sc->global_batch);
    jb_num(b, "micro_batch", res->micro_batch > 0 ? res->micro_batch : sc->micro_batch);
    jb_str(b, "optimizer", name_of(optimizer_names, SL_ARRAY_LEN(optimizer_names), (int)sc->optimizer));
    jb_str(b, "recompute", name_of(recompute_names, SL_ARRAY_LEN(recompute_names), (int)res->recompute));
    jb_obj_end(b);
  } else {
    jb_obj_begin(b, "infer");
    jb_num(b, "batch", sc->batch);
    if (sc->model.kind == SL_MODEL_TRANSFORMER) { /* prompt and generation lengths mean nothing for an op */
      jb_num(b, "prompt_len", sc->prompt_len);
      jb_num(b, "gen_len", sc->gen_len);
    }
    jb_obj_end(b);
  }
  if (sc->econ) econ_json(b, "econ", sc->econ); /* the prices used (issue 6) */
  jb_obj_end(b);
}

static sl_status keep_scenario_json(const sl_scenario *sc, sl_result *res, sl_error *err) {
  jbuf b;
  jb_init(&b);
  write_scenario(&b, NULL, sc, res);
  sl_status s = SL_OK;
  if (b.oom || !b.s || !(res->scenario_json = ar_strndup(&res->a, b.s, b.len)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  jb_free(&b);
  return s;
}

sl_run_params sl_run_params_default(void) {
  sl_run_params p = {0};
  return p;
}

sl_status sl_scenario_run(const sl_scenario *sc, sl_result **out, sl_error *err) {
  return sl_scenario_run_ex(sc, NULL, out, err);
}

sl_status sl_scenario_run_ex(const sl_scenario *sc, const sl_run_params *params, sl_result **out,
                             sl_error *err) {
  sl_run_params dflt = sl_run_params_default();
  if (!params) params = &dflt;
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_scenario_run: out is NULL");
  *out = NULL;
  if (!sc) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_scenario_run: no scenario");
  sl_result *res = calloc(1, sizeof *res);
  if (!res) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&res->a);
  res->sc = sc;
  memcpy(res->input_sha256, sc->input_sha256, sizeof res->input_sha256);
  sl_status s = sim_run_top(sc, res, params->top_plans, err);
  if (!s && res->chips <= 0) res->chips = sc->chips; /* per-chip figures divide by it */
  if (!s) s = keep_scenario_json(sc, res, err);
  if (s) {
    sl_result_free(res);
    return s;
  }
  *out = res;
  return SL_OK;
}

void sl_result_free(sl_result *res) {
  if (!res) return;
  ar_free(&res->a);
  free(res);
}

int sl_result_feasible(const sl_result *res) {
  return res && res->feasible;
}

const char *sl_result_reason(const sl_result *res) {
  return res && !res->feasible ? res->reason : "";
}

/* ---- numbers by key -------------------------------------------------------------------------- */

static int has_memory(const sl_result *r) {
  return r->mem.capacity_bytes > 0;
}
/* The plan is known when the scenario ran, or got as far as checking memory. */
static int has_parallel(const sl_result *r) {
  return r->feasible || has_memory(r);
}

static double memory_number(const sl_memory *m, const char *k) {
  static const char *const names[] = {"per_chip_bytes",  "capacity_bytes",    "weights_bytes", "grads_bytes",
                                      "optimizer_bytes", "activations_bytes", "kv_cache_bytes"};
  const double vals[] = {m->per_chip_bytes,  m->capacity_bytes,    m->weights_bytes, m->grads_bytes,
                         m->optimizer_bytes, m->activations_bytes, m->kv_cache_bytes};
  for (size_t i = 0; i < SL_ARRAY_LEN(names); i++)
    if (strcmp(k, names[i]) == 0) return vals[i];
  if (strcmp(k, "fits") == 0) return m->fits ? 1 : 0;
  return NAN;
}

static double parallel_number(const sl_result *r, const char *k) {
  const sl_parallel *p = &r->par;
  static const char *const names[] = {"dp", "tp", "pp", "cp", "ep", "sp", "zero", "vpp", "micro_batch"};
  const double vals[] = {p->dp, p->tp, p->pp, p->cp, p->ep, p->sp, p->zero, p->vpp, r->micro_batch};
  for (size_t i = 0; i < SL_ARRAY_LEN(names); i++)
    if (strcmp(k, names[i]) == 0) return vals[i];
  return NAN;
}

static const char *const serve_keys[] = {"ttft_p50_s",
                                         "ttft_p90_s",
                                         "ttft_p99_s",
                                         "tpot_p50_s",
                                         "tpot_p90_s",
                                         "tpot_p99_s",
                                         "throughput_tokens_per_s",
                                         "goodput_requests_per_s",
                                         "max_rate_per_s",
                                         "arrival_rate_per_s",
                                         "requests",
                                         "preemptions",
                                         "steps",
                                         "mean_batch_tokens",
                                         "kv_blocks_per_chip"};

static double serve_number(const sl_result *r, const char *k) {
  const double v[] = {r->serve.ttft[0],
                      r->serve.ttft[1],
                      r->serve.ttft[2],
                      r->serve.tpot[0],
                      r->serve.tpot[1],
                      r->serve.tpot[2],
                      r->serve.throughput_tokens_per_s,
                      r->serve.goodput_requests_per_s,
                      r->serve.max_rate_per_s,
                      r->serve.rate_per_s,
                      r->serve.requests,
                      r->serve.preemptions,
                      r->serve.steps,
                      r->serve.mean_batch_tokens,
                      r->serve.kv_blocks};
  _Static_assert(sizeof v / sizeof v[0] == sizeof serve_keys / sizeof serve_keys[0], "serve keys");
  for (size_t i = 0; i < SL_ARRAY_LEN(serve_keys); i++)
    if (strcmp(k, serve_keys[i]) == 0) return v[i];
  return NAN;
}

static void write_serve(jbuf *b, const sl_result *r) {
  jb_obj_begin(b, "serve");
  for (size_t i = 0; i < SL_ARRAY_LEN(serve_keys); i++) {
    double v = serve_number(r, serve_keys[i]);
    if (!isnan(v)) jb_num(b, serve_keys[i], v);
  }
  jb_obj_end(b);
}

/* energy.* and cost.* (issue 6; FORMATS.md): NaN when not computed or not applicable. */
static const char *const power_keys[] = {"energy.step_j",
                                         "energy.avg_power_w_per_chip",
                                         "energy.uncapped_power_w_per_chip",
                                         "energy.clock_ratio",
                                         "energy.j_per_token",
                                         "energy.j_per_sample",
                                         "cost.usd_per_hour_system",
                                         "cost.usd_per_million_tokens",
                                         "cost.usd_per_million_samples",
                                         "cost.capex_usd_per_chip"};

static double power_number(const sl_result *r, const char *k) {
  const sl_power_out *p = &r->power;
  const double v[] = {p->step_j,
                      p->avg_power_w_per_chip,
                      p->uncapped_power_w_per_chip,
                      p->clock_ratio,
                      p->j_per_token,
                      p->j_per_sample,
                      p->usd_per_hour_system,
                      p->usd_per_million_tokens,
                      p->usd_per_million_samples,
                      p->capex_usd_per_chip};
  _Static_assert(sizeof v / sizeof v[0] == sizeof power_keys / sizeof power_keys[0], "power keys");
  int cost = strncmp(k, "cost.", 5) == 0;
  if (!(cost ? p->has_cost : p->has_energy)) return NAN;
  for (size_t i = 0; i < SL_ARRAY_LEN(power_keys); i++)
    if (strcmp(k, power_keys[i]) == 0) return v[i];
  return NAN;
}

static void write_power(jbuf *b, const sl_result *r) {
  for (int obj = 0; obj < 2; obj++) {
    if (!(obj ? r->power.has_cost : r->power.has_energy)) continue;
    const char *prefix = obj ? "cost." : "energy.";
    jb_obj_begin(b, obj ? "cost" : "energy");
    for (size_t i = 0; i < SL_ARRAY_LEN(power_keys); i++) {
      if (strncmp(power_keys[i], prefix, strlen(prefix)) != 0) continue;
      double v = power_number(r, power_keys[i]);
      if (!isnan(v)) jb_num(b, power_keys[i] + strlen(prefix), v);
    }
    jb_obj_end(b);
  }
}

double sl_result_number(const sl_result *r, const char *key) {
  if (!r || !key) return NAN;
  if (strncmp(key, "memory.", 7) == 0) return has_memory(r) ? memory_number(&r->mem, key + 7) : NAN;
  if (strncmp(key, "parallel.", 9) == 0) return has_parallel(r) ? parallel_number(r, key + 9) : NAN;
  if (!r->feasible) return NAN;
  if (strncmp(key, "serve.", 6) == 0) return r->has_serve ? serve_number(r, key + 6) : NAN;
  if (strncmp(key, "energy.", 7) == 0 || strncmp(key, "cost.", 5) == 0) return power_number(r, key);
  struct {
    const char *k;
    double v;
    int present;
  } t[] = {
      {"step_time_s", r->step_time_s, 1},
      {"tokens_per_s", r->tokens_per_s, r->has_tokens},
      {"tokens_per_s_per_chip", r->tokens_per_s / r->chips, r->has_tokens},
      {"samples_per_s", r->samples_per_s, r->has_samples},
      {"samples_per_s_per_chip", r->samples_per_s / r->chips, r->has_samples},
      {"ttft_s", r->ttft_s, r->has_ttft},
      {"tpot_s", r->tpot_s, r->has_ttft},
      {"mfu", r->mfu, r->has_mfu},
      {"hfu", r->hfu, r->has_mfu},
      {"flops_per_chip_per_s", r->flops_per_chip_per_s, r->has_mfu},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(t); i++)
    if (strcmp(key, t[i].k) == 0) return t[i].present ? t[i].v : NAN;
  return NAN;
}

/* Numeric output keys of FORMATS.md, including those not computed by this build (energy, cost,
 * serve), so that a validation case can tell "not computed yet" from a misspelt key. */
int result_key_known(const char *key) {
  static const char known[] =
      " step_time_s tokens_per_s samples_per_s tokens_per_s_per_chip samples_per_s_per_chip ttft_s tpot_s"
      " mfu hfu flops_per_chip_per_s memory.per_chip_bytes memory.capacity_bytes memory.fits"
      " memory.weights_bytes memory.grads_bytes memory.optimizer_bytes memory.activations_bytes"
      " memory.kv_cache_bytes energy.step_j energy.avg_power_w_per_chip energy.uncapped_power_w_per_chip"
      " energy.j_per_token energy.j_per_sample energy.clock_ratio cost.capex_usd_per_chip"
      " cost.usd_per_hour_system cost.usd_per_million_tokens"
      " cost.usd_per_million_samples parallel.dp parallel.tp parallel.pp parallel.cp parallel.ep parallel.sp"
      " parallel.zero parallel.vpp parallel.micro_batch serve.ttft_p50_s serve.ttft_p90_s serve.ttft_p99_s"
      " serve.tpot_p50_s serve.tpot_p90_s serve.tpot_p99_s serve.throughput_tokens_per_s"
      " serve.goodput_requests_per_s serve.max_rate_per_s ";
  size_t n = strlen(key);
  if (n == 0 || strchr(key, ' ')) return 0;
  for (const char *p = strstr(known, key); p; p = strstr(p + 1, key))
    if (p[-1] == ' ' && p[n] == ' ') return 1;
  return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------- */

static void write_memory(jbuf *b, const sl_memory *m) {
  jb_obj_begin(b, "memory");
  jb_num(b, "per_chip_bytes", m->per_chip_bytes);
  jb_num(b, "capacity_bytes", m->capacity_bytes);
  jb_bool(b, "fits", m->fits);
  jb_num(b, "weights_bytes", m->weights_bytes);
  jb_num(b, "grads_bytes", m->grads_bytes);
  jb_num(b, "optimizer_bytes", m->optimizer_bytes);
  jb_num(b, "activations_bytes", m->activations_bytes);
  jb_num(b, "kv_cache_bytes", m->kv_cache_bytes);
  jb_obj_end(b);
}

/* A plan's parallelism, micro-batch and recompute fields (in an open object). */
static void write_plan_fields(jbuf *b, const sl_plan *p) {
  jb_num(b, "dp", p->dp);
  jb_num(b, "tp", p->tp);
  jb_num(b, "pp", p->pp);
  jb_num(b, "cp", p->cp);
  jb_num(b, "ep", p->ep);
  jb_bool(b, "sp", p->sp);
  jb_num(b, "zero", p->zero);
  jb_num(b, "vpp", p->vpp);
  jb_num(b, "micro_batch", p->mb);
  jb_str(b, "recompute", name_of(recompute_names, SL_ARRAY_LEN(recompute_names), (int)p->rc));
}

static void write_parallel(jbuf *b, const sl_result *r) {
  sl_plan p = {r->par.dp,      r->par.tp, r->par.pp,    r->par.cp, r->par.ep, r->par.vpp, r->par.zero,
               r->micro_batch, r->par.sp, r->recompute, 0,         0,         0};
  jb_obj_begin(b, "parallel");
  write_plan_fields(b, &p);
  jb_obj_end(b);
}

/* The plan search: how many plans, and the best ones (--top N). */
static void write_search(jbuf *b, const sl_result *r) {
  if (r->plans_evaluated <= 0) return;
  jb_obj_begin(b, "search");
  jb_num(b, "plans_enumerated", r->plans_enumerated);
  jb_num(b, "plans_evaluated", r->plans_evaluated);
  jb_obj_end(b);
  if (!r->n_top) return;
  jb_arr_begin(b, "plans");
  for (size_t i = 0; i < r->n_top; i++) {
    const sl_plan_row *t = &r->top[i];
    jb_obj_begin(b, NULL);
    write_plan_fields(b, &t->plan);
    jb_num(b, "global_batch", t->plan.gb);
    jb_bool(b, "overlap_tp_comm", t->plan.overlap_tp);
    jb_bool(b, "overlap_dp_comm", t->plan.overlap_dp);
    jb_num(b, "step_time_s", t->step_time_s);
    jb_num(b, "mfu", t->mfu);
    jb_num(b, "per_chip_bytes", t->per_chip_bytes);
    jb_obj_end(b);
  }
  jb_arr_end(b);
}

static void write_breakdown(jbuf *b, const sl_result *r) {
  jb_arr_begin(b, "breakdown");
  for (size_t i = 0; i < r->n_rows; i++) {
    const sl_row *w = &r->rows[i];
    jb_obj_begin(b, NULL);
    jb_str(b, "name", w->name);
    jb_str(b, "phase", name_of(sl_phase_names, SL_PH_COUNT, (int)w->phase));
    jb_str(b, "category", name_of(sl_category_names, SL_CAT_COUNT, (int)w->cat));
    jb_num(b, "count", w->count);
    jb_num(b, "time_s", w->time_s);
    jb_num(b, "flops", w->flops);
    jb_num(b, "bytes", w->bytes);
    if (w->energy_j > 0) jb_num(b, "energy_j", w->energy_j);
    jb_str(b, "bound", name_of(sl_bound_names, SL_BOUND_COUNT, (int)w->bound));
    if (w->sram_hit_rate >= 0) jb_num(b, "sram_hit_rate", w->sram_hit_rate);
    jb_obj_end(b);
  }
  jb_arr_end(b);
}

static void write_figures(jbuf *b, const sl_result *r) {
  static const char *const keys[] = {"step_time_s",
                                     "tokens_per_s",
                                     "tokens_per_s_per_chip",
                                     "samples_per_s",
                                     "samples_per_s_per_chip",
                                     "ttft_s",
                                     "tpot_s",
                                     "mfu",
                                     "hfu",
                                     "flops_per_chip_per_s"};
  for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
    double v = sl_result_number(r, keys[i]);
    if (!isnan(v)) jb_num(b, keys[i], v);
  }
}

char *sl_result_json(const sl_result *r) {
  if (!r) return NULL;
  jbuf b;
  jb_init(&b);
  jb_obj_begin(&b, NULL);
  jb_str(&b, "silica_version", SILICA_VERSION);
  jb_num(&b, "schema_version", SILICA_SCHEMA_VERSION);
  jb_str(&b, "input_sha256", r->input_sha256);
  jb_value_raw(&b, "scenario", r->scenario_json);
  jb_bool(&b, "feasible", r->feasible);
  if (!r->feasible) jb_str(&b, "reason", r->reason);
  write_figures(&b, r);
  if (has_memory(r)) write_memory(&b, &r->mem);
  if (r->feasible) write_power(&b, r); /* energy, cost (issue 6) */
  if (has_parallel(r)) write_parallel(&b, r);
  write_search(&b, r);
  if (r->feasible && r->has_serve) write_serve(&b, r);
  if (r->feasible) write_breakdown(&b, r);
  jb_obj_end(&b);
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s; /* ownership passes to the caller */
}
