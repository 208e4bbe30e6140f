/* result.c — the public face of a result: running a scenario into an sl_result, reading its numbers
 * by the dotted keys of the JSON output (one table, KEYS), and writing that JSON (docs/formats.md
 * "Output of silica run --json").  The numbers themselves come from sim_run (sim.c). */
#include "cost/cost.h"
#include "sim/sim.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const recompute_names[] = {"none", "selective", "full", "block"};
static const char *const optimizer_names[] = {"adamw", "sgd", "adagrad", "lamb"};

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
  jb_str(b, "gemm", sl_dtype_names[sc->g_dtype]);
  jb_str(b, "quantized", sc->quant_ffn ? "ffn" : "all");
  if (sc->unquant_first + sc->unquant_last > 0) {
    jb_obj_begin(b, "unquantized_layers");
    jb_num(b, "first", sc->unquant_first);
    jb_num(b, "last", sc->unquant_last);
    jb_obj_end(b);
  }
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
    if (sc->train_tokens > 0) jb_num(b, "tokens", sc->train_tokens);
    jb_obj_end(b);
  } else {
    jb_obj_begin(b, "infer");
    jb_num(b, "batch", res->batch > 0 ? res->batch : sc->batch);
    if (sc->model.kind == SL_MODEL_TRANSFORMER) { /* prompt and generation lengths mean nothing for an op */
      jb_num(b, "prompt_len", sc->prompt_len);
      jb_num(b, "gen_len", sc->gen_len);
    }
    jb_obj_end(b);
  }
  if (sc->econ) econ_json(b, "econ", sc->econ); /* the prices used */
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

/* The roofs of the chip the scenario ran on (sl_roofline), kept in the result so that a report draws
 * them without the chip. */
static sl_status keep_roofline(const sl_scenario *sc, sl_result *res, sl_error *err) {
  const sl_chip *c = &sc->chip;
  sl_roofline *rl = &res->roof;
  memset(rl, 0, sizeof *rl);
  rl->shared_bw_GBps = NAN;
  if (c->n_mem < 1) return SL_OK;
  int dt = (int)cost_lowering(sc).compute_dt; /* the format the matrix products run in */
  if (chip_peak_flops(c, (sl_dtype)dt) <= 0) dt = SL_BF16;
  if (chip_peak_flops(c, (sl_dtype)dt) <= 0) { /* neither: the chip's fastest format */
    double best = 0;
    for (int f = 0; f < SL_DTYPE_COUNT; f++)
      if (chip_peak_flops(c, (sl_dtype)f) > best) best = chip_peak_flops(c, (sl_dtype)f), dt = f;
  }
  const sl_mem_level *dram = chip_dram(c), *l2 = chip_l2(c);
  rl->dtype = (sl_dtype)dt;
  rl->peak_flops_per_s = chip_peak_flops(c, rl->dtype);
  rl->dram_bw_GBps = dram->bw_GBps;
  rl->ridge_flops_per_byte = rl->dram_bw_GBps > 0 ? rl->peak_flops_per_s / (rl->dram_bw_GBps * 1e9) : NAN;
  if (!(rl->dram_level = ar_strdup(&res->a, dram->name ? dram->name : "DRAM")))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (l2 && !l2->per_core && l2->bw_GBps > 0) {
    rl->shared_bw_GBps = l2->bw_GBps;
    if (!(rl->shared_level = ar_strdup(&res->a, l2->name ? l2->name : "SRAM")))
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  return SL_OK;
}

sl_run_params sl_run_params_default(void) {
  sl_run_params p = {0};
  return p;
}

sl_status sl_scenario_run(const sl_scenario *sc, sl_result **out, sl_error *err) {
  return sl_scenario_run_ex(sc, NULL, out, err);
}

/* Runs sc into res (its arena and sc set): the step, then what the output reads besides it.  keep_json:
 * keep the resolved scenario as JSON ("scenario" in the output). */
static sl_status run_into(const sl_scenario *sc, const sl_run_params *params, int keep_json, sl_result *res,
                          sl_error *err) {
  sl_status s = sim_run_top(sc, res, params->top_plans, err);
  for (int k = 0; k < 2; k++) /* NaN: no output key unless serve_latency_interval fills them */
    for (int j = 0; j < 2; j++)
      res->serve.ttft_iv[k][j] = res->serve.tpot_iv[k][j] = NAN;
  if (!s && res->chips <= 0) res->chips = sc->chips; /* per-chip figures divide by it */
  if (!s && keep_json) s = keep_scenario_json(sc, res, err);
  if (!s) s = keep_roofline(sc, res, err);
  if (!s && res->feasible && sc->train_tokens > 0) s = campaign_run(sc, res, err);
  if (!s && res->feasible) {
    const char *metric = interval_metric(res->task, res->has_samples);
    s = interval_of(sc, metric, sl_result_number(res, metric), &res->interval, err);
    if (!s && res->power.has_energy)
      s = power_interval_of(sc, res->power.avg_power_w_per_chip, &res->power_interval, err);
    if (!s && res->power.has_energy) { /* the energy of a token, else of a sample */
      int tok = !isnan(res->power.j_per_token);
      s = energy_interval_of(sc, tok ? "energy.j_per_token" : "energy.j_per_sample",
                             tok ? res->power.j_per_token : res->power.j_per_sample, &res->energy_interval,
                             err);
    }
  }
  if (!s && params->serve_latency_interval) s = serve_latency_interval(sc, res, err);
  if (!s && params->plan_hint) s = train_fit_hint(sc, res, err);
  return s;
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
  sl_status s = run_into(sc, params, 1, res, err);
  if (s) {
    sl_result_free(res);
    return s;
  }
  *out = res;
  return SL_OK;
}

sl_status sl_scenario_run_into(const sl_scenario *sc, const sl_run_params *params, sl_result *res,
                               sl_error *err) {
  sl_run_params dflt = sl_run_params_default();
  if (!params) params = &dflt;
  if (err) memset(err, 0, sizeof *err);
  if (!sc || !res)
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_scenario_run_into: no scenario or result");
  arena a = res->a; /* keep the arena's first block: no allocation once it is large enough */
  ar_reset(&a);
  memset(res, 0, sizeof *res);
  res->a = a;
  res->sc = sc;
  memcpy(res->input_sha256, sc->input_sha256, sizeof res->input_sha256);
  return run_into(sc, params, 0, res, err);
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

/* ---- numeric output keys ----------------------------------------------------------------------- */

/* When a key has a value: otherwise sl_result_number gives NaN and the JSON leaves the key out (an
 * object whose keys all lack a value is left out whole). */
typedef enum key_when {
  W_FEASIBLE,       /* the scenario ran */
  W_TOKENS,         /* ... and is an LLM task */
  W_SAMPLES,        /* ... and counts samples (embedding bags) */
  W_TTFT,           /* ... and has a first token (prefill, decode, generate) */
  W_MFU,            /* ... and knows its model and hardware FLOP */
  W_MEMORY,         /* memory was checked, also when it does not fit */
  W_PARALLEL,       /* the plan is known: the scenario ran, or got as far as checking memory */
  W_SERVE,          /* the serving simulation ran */
  W_DISAGG,         /* the serving simulation ran disaggregated prefill/decode pools */
  W_ENERGY,         /* energy was computed */
  W_COST,           /* cost was computed */
  W_ROOF,           /* the scenario ran on a chip with a matrix peak and DRAM bandwidth */
  W_INTERVAL,       /* the scenario ran and its peers among the validation residuals give an interval */
  W_POWER_INTERVAL, /* energy was computed and its peers among the power residuals give an interval */
  W_ENERGY_INTERVAL_TOKEN,  /* ... among the energy residuals, for the energy of a token */
  W_ENERGY_INTERVAL_SAMPLE, /* ... for the energy of a sample */
  W_CAMPAIGN,               /* train.tokens was given and every stage ran */
} key_when;

/* How a key is read from an sl_result: a double; a double over the number of chips; an int that
 * the JSON writes as true or false. */
typedef enum key_read { R_DOUBLE, R_PER_CHIP, R_BOOL } key_read;

typedef struct result_key {
  const char *key;  /* dotted path in the JSON ("memory.per_chip_bytes") */
  const char *unit; /* its unit, or what it counts */
  key_when when;
  key_read read;
  size_t off; /* offsetof(sl_result, the field) */
  int state;  /* the serving engine's state (what it holds and does), not a time, rate or energy */
} result_key;

/* The offset of a field, which must have the C type that `read` reads (else the array size is -1). */
#define KEY_FIELD(field, type)                                                                               \
  (offsetof(sl_result, field) + 0 * sizeof(char[_Generic(((sl_result *)0)->field, type : 1, default : -1)]))
#define KEY_TYPE_R_DOUBLE double
#define KEY_TYPE_R_PER_CHIP double
#define KEY_TYPE_R_BOOL int
#define KEY(k, unit, when, read, field)                                                                      \
  { k, unit, when, read, KEY_FIELD(field, KEY_TYPE_##read), 0 }
#define STATE_KEY(k, unit, when, read, field)                                                                \
  { k, unit, when, read, KEY_FIELD(field, KEY_TYPE_##read), 1 }

/* Every numeric output key of `silica run --json` (docs/formats.md), in the order of the JSON; the
 * keys of one object ("memory.", "energy.", ...) are together.  This table is the one list: the
 * JSON writer, sl_result_number and result_key_known (validation cases) all read it. */
static const result_key KEYS[] = {
    KEY("step_time_s", "s", W_FEASIBLE, R_DOUBLE, step_time_s),
    KEY("tokens_per_s", "tokens/s, whole system", W_TOKENS, R_DOUBLE, tokens_per_s),
    KEY("tokens_per_s_per_chip", "tokens/s per chip", W_TOKENS, R_PER_CHIP, tokens_per_s),
    KEY("samples_per_s", "samples/s, whole system", W_SAMPLES, R_DOUBLE, samples_per_s),
    KEY("samples_per_s_per_chip", "samples/s per chip", W_SAMPLES, R_PER_CHIP, samples_per_s),
    KEY("ttft_s", "s, time to first token", W_TTFT, R_DOUBLE, ttft_s),
    KEY("tpot_s", "s, time per output token", W_TTFT, R_DOUBLE, tpot_s),
    KEY("mfu", "fraction of the matrix peak, model FLOP", W_MFU, R_DOUBLE, mfu),
    KEY("hfu", "fraction of the matrix peak, hardware FLOP", W_MFU, R_DOUBLE, hfu),
    KEY("flops_per_chip_per_s", "FLOP/s per chip, model FLOP", W_MFU, R_DOUBLE, flops_per_chip_per_s),
    KEY("memory.per_chip_bytes", "bytes, most loaded chip", W_MEMORY, R_DOUBLE, mem.per_chip_bytes),
    KEY("memory.capacity_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.capacity_bytes),
    KEY("memory.fits", "true (1) or false (0)", W_MEMORY, R_BOOL, mem.fits),
    KEY("memory.weights_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.weights_bytes),
    KEY("memory.grads_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.grads_bytes),
    KEY("memory.optimizer_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.optimizer_bytes),
    KEY("memory.activations_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.activations_bytes),
    KEY("memory.kv_cache_bytes", "bytes per chip", W_MEMORY, R_DOUBLE, mem.kv_cache_bytes),
    KEY("energy.step_j", "J, whole system, one step", W_ENERGY, R_DOUBLE, power.step_j),
    KEY("energy.avg_power_w_per_chip", "W per chip", W_ENERGY, R_DOUBLE, power.avg_power_w_per_chip),
    KEY("energy.uncapped_power_w_per_chip", "W per chip at the full clock", W_ENERGY, R_DOUBLE,
        power.uncapped_power_w_per_chip),
    KEY("energy.peak_power_w_per_chip", "W per chip, the hottest kernel (breakdown row, collectives aside)",
        W_ENERGY, R_DOUBLE, power.peak_power_w_per_chip),
    KEY("energy.avg_power_lo_w_per_chip", "W per chip, 80% interval of energy.avg_power_w_per_chip, low end",
        W_POWER_INTERVAL, R_DOUBLE, power_interval.lo),
    KEY("energy.avg_power_hi_w_per_chip", "W per chip, 80% interval of energy.avg_power_w_per_chip, high end",
        W_POWER_INTERVAL, R_DOUBLE, power_interval.hi),
    KEY("energy.power_interval_cases", "measured board-power residuals the interval comes from",
        W_POWER_INTERVAL, R_DOUBLE, power_interval.cases),
    KEY("energy.power_interval_chip_cases", "of the table's measured board powers, those of this chip",
        W_POWER_INTERVAL, R_DOUBLE, power_interval.chip_cases),
    KEY("energy.clock_ratio", "clock under the TDP / spec clock", W_ENERGY, R_DOUBLE, power.clock_ratio),
    KEY("energy.j_per_token", "J per token", W_ENERGY, R_DOUBLE, power.j_per_token),
    KEY("energy.j_per_sample", "J per sample", W_ENERGY, R_DOUBLE, power.j_per_sample),
    KEY("energy.j_per_token_lo", "J per token, 80% interval of energy.j_per_token, low end",
        W_ENERGY_INTERVAL_TOKEN, R_DOUBLE, energy_interval.lo),
    KEY("energy.j_per_token_hi", "J per token, 80% interval of energy.j_per_token, high end",
        W_ENERGY_INTERVAL_TOKEN, R_DOUBLE, energy_interval.hi),
    KEY("energy.j_per_sample_lo", "J per sample, 80% interval of energy.j_per_sample, low end",
        W_ENERGY_INTERVAL_SAMPLE, R_DOUBLE, energy_interval.lo),
    KEY("energy.j_per_sample_hi", "J per sample, 80% interval of energy.j_per_sample, high end",
        W_ENERGY_INTERVAL_SAMPLE, R_DOUBLE, energy_interval.hi),
    KEY("cost.usd_per_hour_system", "USD per hour, whole system", W_COST, R_DOUBLE,
        power.usd_per_hour_system),
    KEY("cost.usd_per_million_tokens", "USD per million tokens", W_COST, R_DOUBLE,
        power.usd_per_million_tokens),
    KEY("cost.usd_per_million_samples", "USD per million samples", W_COST, R_DOUBLE,
        power.usd_per_million_samples),
    KEY("cost.capex_usd_per_chip", "USD per chip position", W_COST, R_DOUBLE, power.capex_usd_per_chip),
    KEY("parallel.dp", "data-parallel replicas", W_PARALLEL, R_DOUBLE, par.dp),
    KEY("parallel.tp", "tensor-parallel ways", W_PARALLEL, R_DOUBLE, par.tp),
    KEY("parallel.pp", "pipeline stages", W_PARALLEL, R_DOUBLE, par.pp),
    KEY("parallel.cp", "context-parallel ways", W_PARALLEL, R_DOUBLE, par.cp),
    KEY("parallel.ep", "expert-parallel ways", W_PARALLEL, R_DOUBLE, par.ep),
    KEY("parallel.sp", "sequence parallelism on (1) or off (0)", W_PARALLEL, R_BOOL, par.sp),
    KEY("parallel.zero", "ZeRO stage", W_PARALLEL, R_DOUBLE, par.zero),
    KEY("parallel.vpp", "virtual pipeline stages per rank", W_PARALLEL, R_DOUBLE, par.vpp),
    KEY("parallel.micro_batch", "sequences per micro-batch", W_PARALLEL, R_DOUBLE, micro_batch),
    KEY("serve.ttft_p50_s", "s", W_SERVE, R_DOUBLE, serve.ttft[0]),
    KEY("serve.ttft_p90_s", "s", W_SERVE, R_DOUBLE, serve.ttft[1]),
    KEY("serve.ttft_p99_s", "s", W_SERVE, R_DOUBLE, serve.ttft[2]),
    KEY("serve.tpot_p50_s", "s", W_SERVE, R_DOUBLE, serve.tpot[0]),
    KEY("serve.tpot_p90_s", "s", W_SERVE, R_DOUBLE, serve.tpot[1]),
    KEY("serve.tpot_p99_s", "s", W_SERVE, R_DOUBLE, serve.tpot[2]),
    KEY("serve.itl_p50_s", "s, inter-token latency", W_SERVE, R_DOUBLE, serve.itl[0]),
    KEY("serve.itl_p90_s", "s, inter-token latency", W_SERVE, R_DOUBLE, serve.itl[1]),
    KEY("serve.itl_p99_s", "s, inter-token latency", W_SERVE, R_DOUBLE, serve.itl[2]),
    KEY("serve.ttft_p50_lo_s", "s, 80% interval of serve.ttft_p50_s, low end", W_SERVE, R_DOUBLE,
        serve.ttft_iv[0][0]),
    KEY("serve.ttft_p50_hi_s", "s, 80% interval of serve.ttft_p50_s, high end", W_SERVE, R_DOUBLE,
        serve.ttft_iv[1][0]),
    KEY("serve.ttft_p99_lo_s", "s, 80% interval of serve.ttft_p99_s, low end", W_SERVE, R_DOUBLE,
        serve.ttft_iv[0][1]),
    KEY("serve.ttft_p99_hi_s", "s, 80% interval of serve.ttft_p99_s, high end", W_SERVE, R_DOUBLE,
        serve.ttft_iv[1][1]),
    KEY("serve.tpot_p50_lo_s", "s, 80% interval of serve.tpot_p50_s, low end", W_SERVE, R_DOUBLE,
        serve.tpot_iv[0][0]),
    KEY("serve.tpot_p50_hi_s", "s, 80% interval of serve.tpot_p50_s, high end", W_SERVE, R_DOUBLE,
        serve.tpot_iv[1][0]),
    KEY("serve.tpot_p99_lo_s", "s, 80% interval of serve.tpot_p99_s, low end", W_SERVE, R_DOUBLE,
        serve.tpot_iv[0][1]),
    KEY("serve.tpot_p99_hi_s", "s, 80% interval of serve.tpot_p99_s, high end", W_SERVE, R_DOUBLE,
        serve.tpot_iv[1][1]),
    KEY("serve.throughput_tokens_per_s", "tokens/s", W_SERVE, R_DOUBLE, serve.throughput_tokens_per_s),
    KEY("serve.goodput_requests_per_s", "requests/s within the latency targets", W_SERVE, R_DOUBLE,
        serve.goodput_requests_per_s),
    KEY("serve.max_rate_per_s", "requests/s", W_SERVE, R_DOUBLE, serve.max_rate_per_s),
    KEY("serve.arrival_rate_per_s", "requests/s", W_SERVE, R_DOUBLE, serve.rate_per_s),
    STATE_KEY("serve.requests", "requests simulated", W_SERVE, R_DOUBLE, serve.requests),
    STATE_KEY("serve.preemptions", "requests preempted", W_SERVE, R_DOUBLE, serve.preemptions),
    STATE_KEY("serve.steps", "engine steps simulated", W_SERVE, R_DOUBLE, serve.steps),
    STATE_KEY("serve.mean_batch_tokens", "tokens per engine step", W_SERVE, R_DOUBLE,
              serve.mean_batch_tokens),
    STATE_KEY("serve.mean_running", "sequences running, time-averaged over the window", W_SERVE, R_DOUBLE,
              serve.mean_running),
    STATE_KEY("serve.kv_blocks_per_chip", "KV-cache blocks per chip", W_SERVE, R_DOUBLE, serve.kv_blocks),
    KEY("serve.window_s", "s, the steady state the throughput and power are averaged over (serve.window)",
        W_SERVE, R_DOUBLE, serve.window_s),
    /* disaggregated prefill/decode pools */
    KEY("serve.prefill_chips", "chips in the prefill pool", W_DISAGG, R_DOUBLE, serve.pool_chips[0]),
    KEY("serve.prefill_utilization", "busy fraction of the prefill engines", W_DISAGG, R_DOUBLE,
        serve.pool_util[0]),
    KEY("serve.prefill_power_w_per_chip", "W per prefill chip", W_DISAGG, R_DOUBLE, serve.pool_power_w[0]),
    KEY("serve.prefill_usd_per_hour", "USD per hour, prefill pool", W_DISAGG, R_DOUBLE,
        serve.pool_usd_per_hour[0]),
    KEY("serve.prefill_kv_blocks_per_chip", "KV-cache blocks per prefill chip", W_DISAGG, R_DOUBLE,
        serve.pool_kv_blocks[0]),
    KEY("serve.decode_chips", "chips in the decode pool", W_DISAGG, R_DOUBLE, serve.pool_chips[1]),
    KEY("serve.decode_utilization", "busy fraction of the decode engines", W_DISAGG, R_DOUBLE,
        serve.pool_util[1]),
    KEY("serve.decode_power_w_per_chip", "W per decode chip", W_DISAGG, R_DOUBLE, serve.pool_power_w[1]),
    KEY("serve.decode_usd_per_hour", "USD per hour, decode pool", W_DISAGG, R_DOUBLE,
        serve.pool_usd_per_hour[1]),
    KEY("serve.decode_kv_blocks_per_chip", "KV-cache blocks per decode chip", W_DISAGG, R_DOUBLE,
        serve.pool_kv_blocks[1]),
    KEY("serve.kv_transfer_mean_s", "s, end of prefill to KV at the decode pool, mean", W_DISAGG, R_DOUBLE,
        serve.kv_transfer_mean_s),
    KEY("serve.kv_transfer_max_s", "s, the same, longest", W_DISAGG, R_DOUBLE, serve.kv_transfer_max_s),
    /* prefix caching and speculative decoding */
    KEY("serve.prefix_hit_rate", "cached prompt tokens / prompt tokens", W_SERVE, R_DOUBLE,
        serve.prefix_hit_rate),
    KEY("serve.prefix_evictions", "cached prefixes evicted", W_SERVE, R_DOUBLE, serve.prefix_evictions),
    KEY("serve.spec_tokens_per_step", "tokens per sequence per speculative step", W_SERVE, R_DOUBLE,
        serve.spec_tokens_per_step),
    KEY("roofline.peak_flops_per_s", "FLOP/s, matrix peak of the compute format, whole chip", W_ROOF,
        R_DOUBLE, roof.peak_flops_per_s),
    KEY("roofline.dram_bw_GBps", "GB/s, DRAM spec bandwidth", W_ROOF, R_DOUBLE, roof.dram_bw_GBps),
    KEY("roofline.shared_bw_GBps", "GB/s, shared on-chip level, spec bandwidth", W_ROOF, R_DOUBLE,
        roof.shared_bw_GBps),
    KEY("roofline.ridge_flops_per_byte", "FLOP per DRAM byte at the ridge point", W_ROOF, R_DOUBLE,
        roof.ridge_flops_per_byte),
    KEY("interval.lo", "low end, in the unit of interval.metric", W_INTERVAL, R_DOUBLE, interval.lo),
    KEY("interval.hi", "high end, in the unit of interval.metric", W_INTERVAL, R_DOUBLE, interval.hi),
    KEY("interval.level", "share of measurements expected inside (0.8)", W_INTERVAL, R_DOUBLE,
        interval.level),
    KEY("interval.cases", "cross-validated residuals it comes from", W_INTERVAL, R_DOUBLE, interval.cases),
    KEY("interval.moe_cases", "of them, cases with mixture-of-experts layers (a scenario that has them)",
        W_INTERVAL, R_DOUBLE, interval.moe_cases),
    KEY("campaign.tokens", "tokens, all stages", W_CAMPAIGN, R_DOUBLE, campaign.tokens),
    KEY("campaign.steps", "optimizer steps, all stages", W_CAMPAIGN, R_DOUBLE, campaign.steps),
    KEY("campaign.chips", "chips, the largest stage", W_CAMPAIGN, R_DOUBLE, campaign.chips),
    KEY("campaign.time_to_train_s", "s, expected wall time with failures", W_CAMPAIGN, R_DOUBLE,
        campaign.time_to_train_s),
    KEY("campaign.compute_s", "s, the steps alone", W_CAMPAIGN, R_DOUBLE, campaign.compute_s),
    KEY("campaign.chip_hours", "chip-hours, wall time x chips", W_CAMPAIGN, R_DOUBLE, campaign.chip_hours),
    KEY("campaign.interruptions", "expected job interruptions", W_CAMPAIGN, R_DOUBLE, campaign.interruptions),
    KEY("campaign.lost_work_s", "s, work redone after failures", W_CAMPAIGN, R_DOUBLE, campaign.lost_work_s),
    KEY("campaign.checkpoint_s", "s, writing checkpoints", W_CAMPAIGN, R_DOUBLE, campaign.checkpoint_s),
    KEY("campaign.restart_s", "s, restarting and restoring", W_CAMPAIGN, R_DOUBLE, campaign.restart_s),
    KEY("campaign.goodput", "effective training fraction, compute_s / time_to_train_s", W_CAMPAIGN, R_DOUBLE,
        campaign.goodput),
    KEY("campaign.energy_mwh", "MWh at the facility (PUE)", W_CAMPAIGN, R_DOUBLE, campaign.energy_mwh),
    KEY("campaign.facility_power_w", "W at the facility, the largest stage", W_CAMPAIGN, R_DOUBLE,
        campaign.facility_power_w),
    KEY("campaign.cost_usd", "USD, whole campaign", W_CAMPAIGN, R_DOUBLE, campaign.cost_usd),
    KEY("campaign.mtbf_s", "s between job interruptions, the longest stage", W_CAMPAIGN, R_DOUBLE,
        campaign.mtbf_s),
    KEY("campaign.checkpoint_interval_s", "s of steps between checkpoints, the longest stage", W_CAMPAIGN,
        R_DOUBLE, campaign.interval_s),
    KEY("campaign.checkpoint_bytes", "bytes: weights and optimizer state", W_CAMPAIGN, R_DOUBLE,
        campaign.checkpoint_bytes),
    KEY("campaign.checkpoint_write_s", "s per checkpoint, the longest stage", W_CAMPAIGN, R_DOUBLE,
        campaign.checkpoint_write_s),
    KEY("campaign.trials", "Monte Carlo draws", W_CAMPAIGN, R_DOUBLE, campaign.trials),
    KEY("campaign.time_p10_s", "s, Monte Carlo 10th percentile", W_CAMPAIGN, R_DOUBLE, campaign.p10_s),
    KEY("campaign.time_p50_s", "s, Monte Carlo median", W_CAMPAIGN, R_DOUBLE, campaign.p50_s),
    KEY("campaign.time_p90_s", "s, Monte Carlo 90th percentile", W_CAMPAIGN, R_DOUBLE, campaign.p90_s),
    KEY("campaign.time_mc_mean_s", "s, Monte Carlo mean", W_CAMPAIGN, R_DOUBLE, campaign.mc_mean_s),
};

static int has_memory(const sl_result *r) {
  return r->mem.capacity_bytes > 0;
}

static int key_present(const sl_result *r, key_when w) {
  switch (w) {
  case W_MEMORY:
    return has_memory(r);
  case W_PARALLEL:
    return r->feasible || has_memory(r);
  case W_FEASIBLE:
    return r->feasible;
  case W_TOKENS:
    return r->feasible && r->has_tokens;
  case W_SAMPLES:
    return r->feasible && r->has_samples;
  case W_TTFT:
    return r->feasible && r->has_ttft;
  case W_MFU:
    return r->feasible && r->has_mfu;
  case W_SERVE:
    return r->feasible && r->has_serve;
  case W_DISAGG:
    return r->feasible && r->has_serve && r->serve.disaggregated;
  case W_ENERGY:
    return r->feasible && r->power.has_energy;
  case W_COST:
    return r->feasible && r->power.has_cost;
  case W_ROOF:
    return r->feasible && r->roof.peak_flops_per_s > 0 && r->roof.dram_bw_GBps > 0;
  case W_INTERVAL:
    return r->feasible && r->interval.metric != NULL;
  case W_POWER_INTERVAL:
    return r->feasible && r->power.has_energy && r->power_interval.metric != NULL;
  case W_ENERGY_INTERVAL_TOKEN:
  case W_ENERGY_INTERVAL_SAMPLE:
    return r->feasible && r->power.has_energy && r->energy_interval.metric != NULL &&
           strcmp(r->energy_interval.metric,
                  w == W_ENERGY_INTERVAL_TOKEN ? "energy.j_per_token" : "energy.j_per_sample") == 0;
  case W_CAMPAIGN:
    return r->feasible && r->campaign.has;
  }
  return 0;
}

/* The value of KEYS[i] in r, NaN when it has none. */
static double key_value(const sl_result *r, const result_key *k) {
  if (!key_present(r, k->when)) return NAN;
  const char *at = (const char *)r + k->off;
  switch (k->read) {
  case R_DOUBLE:
    return *(const double *)at;
  case R_PER_CHIP:
    return *(const double *)at / r->chips;
  case R_BOOL:
    return *(const int *)at;
  }
  return NAN;
}

static const result_key *key_find(const char *key) {
  for (size_t i = 0; i < SL_ARRAY_LEN(KEYS); i++)
    if (strcmp(key, KEYS[i].key) == 0) return &KEYS[i];
  return NULL;
}

double sl_result_number(const sl_result *r, const char *key) {
  if (!r || !key) return NAN;
  const result_key *k = key_find(key);
  return k ? key_value(r, k) : NAN;
}

int result_key_known(const char *key) {
  return key && key_find(key) != NULL;
}

int result_key_is_state(const char *key) {
  const result_key *k = key ? key_find(key) : NULL;
  return k && k->state;
}

const char *result_key_name(size_t i, const char **unit) {
  if (i >= SL_ARRAY_LEN(KEYS)) return NULL;
  if (unit) *unit = KEYS[i].unit;
  return KEYS[i].key;
}

/* The keys of one object: obj "" for the top level ("step_time_s"), else "memory" for "memory.*";
 * each key with a value, in the table's order.  The caller opens and closes the object. */
static void write_keys(jbuf *b, const sl_result *r, const char *obj) {
  size_t n = strlen(obj);
  for (size_t i = 0; i < SL_ARRAY_LEN(KEYS); i++) {
    const result_key *k = &KEYS[i];
    const char *dot = strchr(k->key, '.');
    if (n ? !(dot && (size_t)(dot - k->key) == n && strncmp(k->key, obj, n) == 0) : dot != NULL) continue;
    double v = key_value(r, k);
    if (isnan(v)) continue;
    const char *name = n ? k->key + n + 1 : k->key;
    if (k->read == R_BOOL)
      jb_bool(b, name, v != 0);
    else
      jb_num(b, name, v);
  }
}

/* An object of keys ("memory", "energy", ...), when its keys have values (they share their `when`). */
static int object_present(const sl_result *r, const char *obj) {
  size_t n = strlen(obj);
  for (size_t i = 0; i < SL_ARRAY_LEN(KEYS); i++)
    if (strncmp(KEYS[i].key, obj, n) == 0 && KEYS[i].key[n] == '.') return key_present(r, KEYS[i].when);
  return 0;
}

static void write_object(jbuf *b, const sl_result *r, const char *obj) {
  if (!object_present(r, obj)) return;
  jb_obj_begin(b, obj);
  write_keys(b, r, obj);
  jb_obj_end(b);
}

/* ---- JSON ------------------------------------------------------------------------------------- */

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

/* The plan of the run: its numbers from KEYS, then how it recomputes. */
static void write_parallel(jbuf *b, const sl_result *r) {
  if (!object_present(r, "parallel")) return;
  jb_obj_begin(b, "parallel");
  write_keys(b, r, "parallel");
  jb_str(b, "recompute", name_of(recompute_names, SL_ARRAY_LEN(recompute_names), (int)r->recompute));
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

/* Serving: its numbers from KEYS, then the latency-throughput curve, one point per rate. */
static void write_serve(jbuf *b, const sl_result *r) {
  if (!object_present(r, "serve")) return;
  jb_obj_begin(b, "serve");
  write_keys(b, r, "serve");
  if (r->serve.n_curve) {
    jb_arr_begin(b, "curve");
    for (size_t i = 0; i < r->serve.n_curve; i++) {
      const sl_serve_point *c = &r->serve.curve[i];
      jb_obj_begin(b, NULL);
      jb_num(b, "arrival_rate_per_s", c->rate_per_s);
      jb_num(b, "ttft_p50_s", c->ttft[0]);
      jb_num(b, "ttft_p90_s", c->ttft[1]);
      jb_num(b, "ttft_p99_s", c->ttft[2]);
      jb_num(b, "tpot_p50_s", c->tpot[0]);
      jb_num(b, "tpot_p90_s", c->tpot[1]);
      jb_num(b, "tpot_p99_s", c->tpot[2]);
      jb_num(b, "itl_p50_s", c->itl[0]);
      jb_num(b, "itl_p90_s", c->itl[1]);
      jb_num(b, "itl_p99_s", c->itl[2]);
      jb_num(b, "throughput_tokens_per_s", c->throughput_tokens_per_s);
      jb_num(b, "goodput_requests_per_s", c->goodput_requests_per_s);
      jb_num(b, "preemptions", c->preemptions);
      jb_num(b, "mean_batch_tokens", c->mean_batch_tokens);
      jb_obj_end(b);
    }
    jb_arr_end(b);
  }
  jb_obj_end(b);
}

/* The roofs: which format and levels, then their numbers from KEYS. */
static void write_roofline(jbuf *b, const sl_result *r) {
  if (!object_present(r, "roofline")) return;
  jb_obj_begin(b, "roofline");
  jb_str(b, "dtype", sl_dtype_names[r->roof.dtype]);
  jb_str(b, "dram_level", r->roof.dram_level);
  if (r->roof.shared_level) jb_str(b, "shared_level", r->roof.shared_level);
  write_keys(b, r, "roofline");
  jb_obj_end(b);
}

/* Where the measured headline value is expected: its key, then its numbers from KEYS. */
static void write_interval(jbuf *b, const sl_result *r) {
  if (!object_present(r, "interval")) return;
  jb_obj_begin(b, "interval");
  jb_str(b, "metric", r->interval.metric);
  write_keys(b, r, "interval");
  jb_obj_end(b);
}

/* The campaign: its numbers from KEYS, then each stage; or why it did not run. */
static void write_campaign(jbuf *b, const sl_result *r) {
  const sl_campaign *C = &r->campaign;
  if (r->feasible && !C->has && C->reason[0]) {
    jb_obj_begin(b, "campaign");
    jb_str(b, "reason", C->reason);
    jb_obj_end(b);
  }
  if (!object_present(r, "campaign")) return;
  jb_obj_begin(b, "campaign");
  write_keys(b, r, "campaign");
  jb_arr_begin(b, "stages");
  for (size_t i = 0; i < C->n_stage; i++) {
    const sl_campaign_stage *g = &C->stage[i];
    jb_obj_begin(b, NULL);
    jb_num(b, "tokens", g->tokens);
    jb_num(b, "seq_len", g->seq_len);
    jb_num(b, "global_batch", g->global_batch);
    jb_num(b, "chips", g->chips);
    jb_obj_begin(b, "parallel");
    jb_num(b, "tp", g->tp);
    jb_num(b, "pp", g->pp);
    jb_num(b, "cp", g->cp);
    jb_num(b, "dp", g->dp);
    jb_obj_end(b);
    jb_num(b, "step_time_s", g->step_time_s);
    jb_num(b, "steps", g->steps);
    jb_num(b, "compute_s", g->compute_s);
    jb_num(b, "time_s", g->time_s);
    if (isfinite(g->mtbf_s)) jb_num(b, "mtbf_s", g->mtbf_s);
    jb_num(b, "checkpoint_interval_s", g->interval_s);
    jb_num(b, "checkpoint_write_s", g->checkpoint_write_s);
    jb_num(b, "restore_s", g->restore_s);
    jb_num(b, "goodput", g->goodput);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_end(b);
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
  write_keys(&b, r, "");
  write_interval(&b, r);
  write_object(&b, r, "memory");
  write_object(&b, r, "energy");
  write_object(&b, r, "cost");
  write_parallel(&b, r);
  write_search(&b, r);
  write_serve(&b, r);
  write_roofline(&b, r);
  write_campaign(&b, r);
  if (r->feasible) write_breakdown(&b, r);
  jb_obj_end(&b);
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s; /* ownership passes to the caller */
}
