/* sim.h — a step as a timeline: training with its plan search, inference, serving,
 * DLRM; power under the cap; results; validation and calibration drivers. */
#ifndef SL_SIM_H
#define SL_SIM_H

#include "econ/econ.h"

/* ---- sim: results ------------------------------------------------------------------------------ */
typedef struct sl_row {
  const char *name;
  sl_phase phase;
  sl_category cat;
  sl_bound bound;
  double count;                          /* instances of the op in one step */
  double time_s, flops, bytes, energy_j; /* totals over the count; flops are useful (no padding) */
  double sram_hit_rate;                  /* < 0: not applicable */
  sl_clockpart clk; /* a memory-bound row's parts at full clock, which the cap stretches (clockpart_of) */
} sl_row;
/* A row with no energy yet (power_fill_result gives it), no SRAM hit rate and no clocked parts. */
static inline sl_row sl_row_make(const char *name, sl_phase phase, sl_category cat, sl_bound bound,
                                 double count, double time_s, double flops, double bytes) {
  sl_row r = {name, phase, cat, bound, count, time_s, flops, bytes, 0, -1, {0, 0, 0}};
  return r;
}
static inline sl_row sl_row_hit(sl_row r, double sram_hit_rate) {
  r.sram_hit_rate = sram_hit_rate;
  return r;
}
static inline sl_row sl_row_near(sl_row r, sl_clockpart clk) {
  r.clk = clk;
  return r;
}

typedef struct sl_memory {
  double per_chip_bytes, capacity_bytes, weights_bytes, grads_bytes, optimizer_bytes, activations_bytes,
      kv_cache_bytes;
  int fits;
} sl_memory;

typedef struct sl_plan_row {
  sl_plan plan;
  double step_time_s, mfu, per_chip_bytes;
} sl_plan_row;

/* Energy, power and cost of a step (FORMATS.md "energy" and "cost"; src/cost/energy.c,
 * src/econ/cost.c).  NaN marks a figure that does not apply (j_per_sample of an LLM). */
typedef struct sl_power_out {
  int has_energy, has_cost;
  double step_j;                    /* whole system, one step, static power included */
  double avg_power_w_per_chip;      /* step_j / (chips x step time) */
  double uncapped_power_w_per_chip; /* the most loaded chip at its full clock (above tdp_w when capped) */
  double peak_power_w_per_chip;     /* the most power-dense breakdown row on the chip's engines (not a
                                       collective): its energy over its time */
  double clock_ratio;          /* clock the TDP allows / the spec's clock; 1 when the cap does not bind */
  double uncapped_step_time_s; /* the step at the full clock */
  double j_per_token, j_per_sample;
  double usd_per_hour_system, usd_per_million_tokens, usd_per_million_samples;
  double capex_usd_per_chip; /* one chip position: chip, memory, board, host and network shares */
} sl_power_out;

/* Where the measured value of the headline metric (interval.metric) is expected to fall, with
 * probability `level`, from the cross-validated residuals of similar validation cases (interval.c). */
typedef struct sl_interval {
  const char *metric; /* the headline output key; NULL: no interval */
  double lo, hi, level;
  double cases;     /* residuals it came from */
  double moe_cases; /* a scenario with mixture-of-experts layers: how many of them are MoE cases (else NAN) */
  double chip_cases; /* how many of the table's rows were measured on the run's chip (its power interval
                        prints it; else NAN) */
} sl_interval;

/* The roofs of the run's chip, for a roofline of its ops (the "roofline" output object; result.c):
 * the matrix peak of the compute format and the spec bandwidths of DRAM and of the last on-chip
 * level the cores share. */
typedef struct sl_roofline {
  sl_dtype dtype;              /* the activations' format, else bf16, else the chip's fastest */
  double peak_flops_per_s;     /* matrix peak of dtype, whole chip; 0: no roofline */
  double dram_bw_GBps;         /* DRAM (the outermost level), spec bandwidth */
  double shared_bw_GBps;       /* the shared on-chip level, spec bandwidth; NaN when there is none */
  double ridge_flops_per_byte; /* peak_flops_per_s / DRAM bandwidth: where the op turns compute-bound */
  const char *dram_level, *shared_level; /* the levels' names (the result's arena); shared: NULL if none */
} sl_roofline;

/* A training campaign (campaign.c): the stages' steps, the failures of the fleet and the
 * checkpoints that bound their cost, the facility's energy and the cost. */
typedef struct sl_campaign_stage {
  double tokens, seq_len, global_batch, chips, tp, pp, cp, dp;
  double step_time_s, steps, compute_s, time_s; /* time_s: expected, failures included */
  double mtbf_s, interval_s, checkpoint_write_s, restore_s, goodput;
} sl_campaign_stage;

typedef struct sl_campaign {
  int has;                     /* train.tokens was given and every stage ran */
  char reason[256];            /* why not, when a stage did not run ("" otherwise) */
  double tokens, steps, chips; /* chips: the most any stage uses */
  double time_to_train_s, compute_s, chip_hours, interruptions, lost_work_s, checkpoint_s, restart_s;
  double goodput; /* compute_s / time_to_train_s */
  double energy_mwh, facility_power_w, cost_usd;
  double mtbf_s, interval_s, checkpoint_bytes, checkpoint_write_s; /* of the longest stage */
  double trials, p10_s, p50_s, p90_s, mc_mean_s;                   /* Monte Carlo (NaN without trials) */
  sl_campaign_stage *stage;
  size_t n_stage;
} sl_campaign;

/* One point of the latency-throughput curve (serve.curve in the JSON). */
typedef struct sl_serve_point {
  double rate_per_s, ttft[3], tpot[3], itl[3], throughput_tokens_per_s, goodput_requests_per_s;
  double preemptions, mean_batch_tokens;
} sl_serve_point;

struct sl_result {
  arena a;
  double plans_enumerated, plans_evaluated; /* training: the plan search */
  sl_plan_row *top;                         /* the best plans, fastest first */
  size_t n_top;
  const sl_scenario *sc; /* not owned; for the "scenario" key (copied into json at run time) */
  char *scenario_json;   /* resolved scenario as JSON, owned (arena) */
  char input_sha256[65];
  int feasible;
  char reason[512];
  sl_task task;
  double chips;
  double step_time_s, tokens_per_s, samples_per_s, ttft_s, tpot_s, mfu, hfu, flops_per_chip_per_s;
  double model_flops, hw_flops; /* per step, whole system */
  int has_tokens, has_samples, has_ttft, has_mfu;
  sl_memory mem;
  sl_parallel par;
  double micro_batch, global_batch;
  double batch; /* inference: the batch run over all replicas (infer.batch: max resolved); 0: none */
  sl_recompute recompute;
  sl_row *rows;
  size_t n_rows;
  int has_serve;
  struct {
    double ttft[3], tpot[3], itl[3]; /* p50, p90, p99 (itl: inter-token latency, NaN: none) */
    double throughput_tokens_per_s, goodput_requests_per_s, max_rate_per_s, rate_per_s;
    double requests, preemptions, steps, mean_batch_tokens, kv_blocks;
    double mean_running; /* sequences running, time-averaged over the window (all replicas) */
    /* disaggregated prefill/decode pools (serve.disaggregated): [0] prefill, [1] decode */
    int disaggregated, kv_link_scale_up;
    char pool_chip[2][64];
    double pool_chips[2], pool_engines[2], pool_tp[2], pool_util[2], pool_power_w[2], pool_usd_per_hour[2];
    double pool_kv_blocks[2], kv_transfer_mean_s, kv_transfer_max_s, usd_per_hour, capex_usd_per_chip;
    /* the latency-throughput curve: one point per rate of serve.arrival_rate_per_s (result's arena) */
    struct sl_serve_point *curve;
    size_t n_curve;
    /* prefix caching: cached prompt tokens / prompt tokens admitted, cached prefixes evicted;
     * speculative decoding: tokens emitted per sequence per step (NaN: not in this run) */
    double prefix_hit_rate, prefix_evictions, spec_tokens_per_step;
    /* serve.window steady: the window's length, over which throughput and power are averaged (NaN:
     * the whole run) */
    double window_s;
    /* the latencies' 80% intervals (serve_latency_interval; NaN: not computed): [0] the fast end,
     * [1] the slow end, each p50 and p99 */
    double ttft_iv[2][2], tpot_iv[2][2];
  } serve;
  sl_power_out power; /* energy, power, cost */
  sl_roofline roof;
  sl_interval interval; /* where the measured headline value is expected (interval.c) */
  sl_interval power_interval; /* where the measured energy.avg_power_w_per_chip is expected (interval.c) */
  sl_interval energy_interval; /* where the measured energy.j_per_token (or j_per_sample) is expected */
  sl_campaign campaign; /* train.tokens: the whole run (campaign.c) */
};

/* Runs the scenario (internal form of sl_scenario_run); top_plans: how many best plans to keep. */
sl_status sim_run(const sl_scenario *sc, sl_result *res, sl_error *err);
sl_status sim_run_top(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_error *err);
/* sim_run with a GEMM memo the caller keeps from run to run (a sweep worker, one per scenario and
 * thread; cost.h): the same result, without searching again the shapes already costed on the same
 * chip figures.  Inference uses it; the other tasks run as sim_run. */
sl_status sim_run_memo(const sl_scenario *sc, sl_gemm_memo *memo, sl_result *res, sl_error *err);
/* The largest inference batch (all replicas) that fits in the memory of sc's chip; 0 when none
 * does.  This is how a run resolves infer.batch: max. */
double inference_max_batch(const sl_scenario *sc);
/* Inference footprint per chip of plan p (footprint.c). */
void inference_memory(const sl_scenario *sc, const sl_plan *p, int fused_attn, sl_memory *m);
/* Inference: the smallest tensor-parallel degree (a power of two within the scale-up domain that
 * divides the heads and the chips; pp as declared, the rest data-parallel replicas sharing the
 * batch, each with a sequence at least) whose footprint fits in memory, or 0 when none does;
 * with `largest`, the largest such degree whether it fits or not. */
double inference_fit_tp(const sl_scenario *sc, int largest);
/* The parallel degrees a run of sc uses (scenario.c): those declared, with the `auto` ones of
 * inference, serving and single ops filled by silica's defaults (tp: the largest power of two
 * within a node that divides the heads and the chips; pp, cp, ep, vpp: 1; dp: the chips left), a
 * DLRM data-parallel over all chips.  Training keeps `auto` for its plan search. */
sl_parallel scenario_parallel(const sl_scenario *sc);
/* Serving traffic (traffic.c): n requests, arrival times in seconds from 0 at `rate` requests per
 * second over the whole fleet (INFINITY: all at 0), lengths in tokens. */
typedef struct sl_request {
  double arrival, prompt, gen;
  double prefix_id;     /* requests with the same id share their first prefix_tokens tokens; -1: none */
  double prefix_tokens; /* of the prompt (<= prompt) */
} sl_request;
void traffic_requests(const sl_serve_spec *sv, double rate, sl_request *r, size_t n);
/* A gamma variate of shape k, scale 1 (the gaps of serve.arrivals: gamma, divided by k and the rate). */
double traffic_gamma(double k, uint64_t *s);
/* serve.trace: reads a trace (CSV with a header, or JSON lines) into the arena; an error names the
 * file, the line and the column of the first malformed row (docs/formats.md "serve.trace"). */
sl_status traffic_read_trace(arena *a, const char *path, sl_request **out, size_t *n, sl_error *err);
/* The requests the scenario's serving simulation sees at its rate (the last of a curve), as a trace
 * (CSV with a header): `silica trace`.  Caller frees with free(). */
char *traffic_trace_csv(const sl_scenario *sc);

/* Serving: continuous batching of arriving requests (serve.c). */
sl_status serve_run(const sl_scenario *sc, sl_result *res, sl_error *err);
/* After serve_run and the result's interval: the latencies at the two ends of the engine speed that
 * the throughput interval implies (one arrival rate, colocated engines; else it leaves them as they
 * are: run_into sets them NaN). */
sl_status serve_latency_interval(const sl_scenario *sc, sl_result *res, sl_error *err);
/* After a training run whose default plan does not fit: the plan `parallel: auto` finds, in the
 * reason (train.c). */
sl_status train_fit_hint(const sl_scenario *sc, sl_result *res, sl_error *err);
/* Disaggregated serving (serve.c): the scenario of one pool (its chip, chips, plan and links), and
 * the time to move the KV cache of a prompt of prompt_tokens from a prefill engine to a decode
 * engine (prompt_tokens < 0: 1 when the move takes the scale-up link, 0 the scale-out). */
void serve_pool_scenario(const sl_scenario *sc, const sl_serve_pool *p, sl_scenario *out);
double serve_kv_transfer_s(const sl_scenario *sc, double prompt_tokens);
/* Whether chip c has the matrix or vector rates sc's number formats need. */
int serve_chip_runs(const sl_scenario *sc, const sl_chip *c);
/* KV blocks per chip of sc's serving engines (0: no room). */
double serve_kv_blocks(const sl_scenario *sc);

/* The mixed-fleet search (fleet.c, serve.fleet): the mixes of chip types, counts and roles that meet
 * the SLO (p99 TTFT and TPOT) at the offered rate, cheapest first. */
typedef struct sl_fleet_mix {
  int disaggregated;
  const sl_chip *chip[2]; /* colocated: chip[0]; disaggregated: prefill, decode */
  double chips[2], tp[2];
  double usd_per_hour, power_w, ttft_p99, tpot_p99, util[2];
  double max_rate; /* NAN until serve_fleet_headroom */
} sl_fleet_mix;
typedef struct sl_fleet_out {
  sl_fleet_mix *mix; /* malloc'd, n of them, cheapest first */
  size_t n, cap;
  double simulations;
  int colocated_pools, pairs;
} sl_fleet_out;
/* brute: every count of every pool (the reference) instead of the bisections on counts. */
sl_status serve_fleet_search(const sl_scenario *sc, int brute, sl_fleet_out *out, sl_error *err);
/* The highest rate mix m sustains within the SLO (m->max_rate). */
sl_status serve_fleet_headroom(const sl_scenario *sc, sl_fleet_mix *m, sl_error *err);
void serve_fleet_free(sl_fleet_out *out);
/* serve_run over the n requests given (arrivals in order, from 0), not the scenario's traffic. */
sl_status serve_run_requests(const sl_scenario *sc, const sl_request *req, size_t n, sl_result *res,
                             sl_error *err);
/* The scheduler limits a serving run uses: serve.scheduler's where it gives them, else, for a stack
 * with tuned_limits, those its engine builder derives from the KV memory and the mean lengths
 * (trtllm-bench), else the stack's defaults (already in sc->serve).  Writes them into *sv. */
void serve_limits(const sl_scenario *sc, sl_serve_spec *sv);
/* The step-cost surface of the serving simulation for one step: a prefill chunk of
 * prefill_tokens from position 0 and decode_seqs sequences with kv_mean tokens of context. */
sl_status serve_step_estimate(const sl_scenario *sc, double prefill_tokens, double decode_seqs,
                              double kv_mean, double *time_s, sl_error *err);

/* Training (any number of chips): plan search when keys are auto, then the step. */
sl_status train_run(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_error *err);
double train_act_bytes_layer(const sl_scenario *sc, const sl_plan *p, int moe, int fused_attn);
/* Exposed time of a data-parallel transfer of t s over v model chunks, each ready after its share of
 * one micro-batch pass, successive chunks pp passes apart (train.c). */
double dp_chunked_exposed(double t, double pass, double v, double pp, double layers);
double train_1f1b_reference(const double *f, const double *b, int p, int m);

/* Fills res->power's cost fields from its energy fields and throughput. */
void econ_fill_result(const sl_scenario *sc, sl_result *res);

/* The numeric output keys of a result (one table in result.c drives the JSON, sl_result_number and
 * these): 1 when `key` is one (docs/formats.md); the i-th key and its unit, NULL past the last. */
int result_key_known(const char *key);
/* Whether a key is the serving engine's state (the sequences it holds, its preemptions, steps and KV
 * blocks) rather than a time, rate or energy: checked against measurements, never fitted to. */
int result_key_is_state(const char *key);
const char *result_key_name(size_t i, const char **unit);

/* ---- sim: validation cases (validate.c; FORMATS.md "Validation cases") ------------------------- */
/* An inline scenario (a YAML map) as text for sl_scenario_load, with relative spec paths (chip,
 * stack, model, system, econ) prefixed by dir (the folder of the file it came from, "" or ending
 * in '/').  NULL when out of memory; free() it. */
char *scenario_text(const yt_node *sc, const char *dir);
typedef enum sl_val_status {
  SL_VAL_OK,
  SL_VAL_FAIL,
  SL_VAL_UNSUPPORTED,
  SL_VAL_ERROR,
  SL_VAL_COUNT
} sl_val_status;
extern const char *const sl_val_status_names[SL_VAL_COUNT];

/* One (case, metric) check.  predicted and rel_error are NaN when the case did not run. */
typedef struct sl_val_entry {
  const char *name, *source, *metric, *file;
  int line;
  double measured, predicted, rel_error, tolerance;
  sl_val_status status;
  const char *group;   /* the case's source group (its `group`, else its source up to a comma) */
  int calibration;     /* use: calibrate: data the chip figures may be fitted to, reported apart */
  const char *message; /* why, for unsupported and error; "" otherwise */
  int internal;        /* the case's run hit SL_ERR_INTERNAL (out of memory, or a bug) */
  const char *chip;    /* the case scenario's `chip` when it names one, else NULL */
  const char *task, *stack; /* the scenario as it ran (its task, its stack's name); NULL when it did not run */
} sl_val_entry;

typedef struct sl_val_group {
  const char *name; /* the source group, file or metric (val_by); NULL for the headline groups */
  int calibration;  /* val_by: the entries' use */
  size_t n, ran, counts[SL_VAL_COUNT];
  double mape, max_abs_rel_error; /* over entries that ran (ok or fail); NaN when none ran */
  double mean_rel_error;          /* signed: > 0 when predictions run high on average */
} sl_val_group;

typedef struct sl_validation {
  arena a; /* entries and their strings */
  sl_val_entry *entries;
  size_t n, cap;
  size_t internal_errors; /* entries whose run hit SL_ERR_INTERNAL (a bug): the CLI exits 3 */
  sl_val_group valid, calib, all;
} sl_validation;

void val_init(sl_validation *v);
void val_free(sl_validation *v);
/* Checks the cases file at `path` and runs the cases whose name matches `filter` (POSIX extended
 * regex; NULL = all), appending one entry per (case, metric).  A malformed cases file or a bad
 * regex is SL_ERR_INPUT (nothing is appended); a bad scenario is an entry with status error. */
sl_status val_run_file(sl_validation *v, const char *path, const char *filter, sl_error *err);
void val_summarise(sl_validation *v); /* fills valid, calib and all from the entries */
/* One entry as the JSON's "cases" hold it. */
void val_write_entry(jbuf *b, const sl_val_entry *e);
/* One summary per source group (by SL_BY_FILE: per cases file; SL_BY_METRIC: per measured key) and use,
 * in order of first appearance;
 * *out is malloc'd (free() it; names point into v).  Returns the count, or (size_t)-1 when out of
 * memory. */
size_t val_by(const sl_validation *v, int by, sl_val_group **out); /* by: SL_BY_SOURCE, _FILE or _METRIC */

/* A measured case loaded for fitting stack figures and for cross-validation: its scenario (owned;
 * NULL when it did not load, then message says why) and its measured metrics. */
typedef struct sl_fit_case {
  const char *name, *group, *source, *file;
  int calibration; /* use: calibrate */
  sl_scenario *sc;
  const char *message; /* "" when the scenario loaded */
  size_t n;            /* measured metrics */
  const char **metric;
  int *line;
  double *measured;
  double tolerance;
} sl_fit_case;

typedef struct sl_fit_set {
  arena a; /* strings and arrays of the cases */
  int a_init;
  sl_fit_case *cases;
  size_t n, cap;
} sl_fit_set;

/* Appends the cases of the file at `path` whose name matches `filter` (NULL = all) to *set (zeroed
 * before the first call).  A malformed file is SL_ERR_INPUT; a case whose scenario does not load is
 * kept with its message. */
sl_status val_load_fit(sl_fit_set *set, const char *path, const char *filter, sl_error *err);
void val_fit_free(sl_fit_set *set);
/* val_run_file and val_load_fit over several files (a NULL path is SL_ERR_INPUT). */
sl_status val_run_files(sl_validation *v, const char *const *paths, size_t n, const char *filter,
                        sl_error *err);
sl_status val_load_fit_files(sl_fit_set *set, const char *const *paths, size_t n, const char *filter,
                             sl_error *err);
/* Appends the entry of metric k of case c predicted as `predicted` (NaN: the build does not compute
 * it), or with status error and `message` when message is not NULL. */
sl_status val_record(sl_validation *v, const sl_fit_case *c, size_t k, double predicted, const char *message);

/* ---- error bars from cross-validated residuals (interval.c) ---- */
/* Output keys: rates (per_s, mfu, throughput, goodput) and times (ending in _s). */
int metric_is_rate(const char *metric);
int metric_is_time(const char *metric);
/* log(predicted / measured) with a time-like sign (> 0: the prediction runs slow); NaN for a metric
 * that is neither a rate nor a time, or a non-positive value. */
double residual_time_like(const char *metric, double predicted, double measured);
typedef struct sl_resid {
  const char *group, *task, *stack, *chip;
  const char *case_name, *metric; /* where it came from */
  double r;                       /* time-like residual, the case's source left out of the fit */
  double r_fit;                   /* the same with the stack figures fitted on every case (NAN: not known) */
  int moe;                        /* the case's model has mixture-of-experts layers */
} sl_resid;
typedef struct sl_resid_table {
  sl_resid *rows;
  size_t n;
  double widen; /* the percentiles' distance from the median is multiplied by this (>= 1) ... */
  double task_widen[SL_TASK_COUNT]; /* ... or by this for a task that has its own (0: none) */
} sl_resid_table;
/* Reads a residual table (data/validation/residuals.yaml) from text into a. */
sl_status resid_table_parse(arena *a, const char *text, const char *file, sl_resid_table *t, sl_error *err);
/* The 10th and 90th percentiles of the time-like residuals of the scenario's peers, from the most
 * specific tier with at least min_peers rows (for a scenario with mixture-of-experts layers, `moe`,
 * first the task's MoE cases; then task+stack+chip, task+stack, task+chip, task, all), leaving out
 * group exclude_group (NULL: none); *moe_peers (when not NULL): how many of the peers are MoE
 * cases.  Returns 1 when found, 0 when too few, -1 when out of memory. */
int resid_interval(const sl_resid_table *t, const char *task, const char *stack, const char *chip, int moe,
                   const char *exclude_group, size_t min_peers, double widen, double *q10, double *q90,
                   size_t *peers, size_t *moe_peers);
#define SL_INTERVAL_MIN_PEERS 5 /* residuals a tier needs before it gives an interval */
/* A preset's record in the table, by source: the cross-validated errors of the cases run on one
 * chip or stack, each as `silica validate` reports it (predicted / measured - 1 of the case's
 * metric, its source left out of the fit), as sums over the entries. */
typedef struct sl_resid_group {
  const char *group;                   /* the source (a case's `group`) */
  size_t n;                            /* its (case, metric) entries on the preset */
  size_t n_task[SL_TASK_COUNT];        /* of which per task kind */
  double sum_abs_err, sum_err;         /* over the n entries: |error| and signed error, fractions */
  size_t n_fit;                        /* entries whose in-sample residual is known */
  double sum_abs_err_fit, sum_err_fit; /* the same with every case in the fit (over n_fit) */
} sl_resid_group;
/* The sources whose cases ran on the stack (by_stack) or chip `name`, in the table's order, into
 * out[0 .. cap); returns how many were written (sources past cap are left out). */
size_t resid_record(const sl_resid_table *t, const char *name, int by_stack, sl_resid_group *out, size_t cap);
/* The widening of a task's intervals: its own, else the table's. */
double resid_widen(const sl_resid_table *t, const char *task);
/* The table silica ships (data/validation/residuals.yaml) into a; *out NULL when there is none. */
sl_status resid_load(arena *a, sl_resid_table **out, sl_error *err);
/* The board-power residuals silica ships (data/validation/power-residuals.yaml, written by
 * scripts/power-record): log(predicted / measured) of the measured power of use: validate cases. */
sl_status power_resid_load(arena *a, sl_resid_table **out, sl_error *err);
/* The energy residuals silica ships (data/validation/energy-residuals.yaml, scripts/power-record): of
 * the same cases, log(predicted / measured) of the energy of a token or sample (the power's residual
 * plus the time-like one of the throughput or step time measured beside it). */
sl_status energy_resid_load(arena *a, sl_resid_table **out, sl_error *err);
/* Of table t's rows of `task` (NULL: all), how many get an interval from their peers in the other
 * groups (*n), and how many of those fall inside it (*in), each widened by `widen` (0: the table's
 * own factor for its task).  -1 when out of memory. */
int resid_coverage(const sl_resid_table *t, const char *task, double widen, size_t *n, size_t *in);
/* Sets t's widening factors: for all its rows, then for every task with at least
 * SL_INTERVAL_MIN_PEERS rows that get an interval, the smallest of 1, 1.05, ... 5 at which 80% of
 * them fall inside the interval their peers in the other groups give.  *n_all, *in_plain: the rows
 * that get an interval, and how many fall inside it unwidened.  -1 when out of memory. */
int resid_fit_widen(sl_resid_table *t, size_t *n_all, size_t *in_plain);
/* The output key a task's interval is about (step time; a serving run's throughput; a ranking
 * model's samples/s). */
const char *interval_metric(sl_task task, int has_samples);
/* The interval of `value` of `metric` predicted for sc into *out, from its residual table
 * (out->metric NULL: none, when silica has no table or it has too few peers).  SL_ERR_INTERNAL when
 * out of memory. */
sl_status interval_of(const sl_scenario *sc, const char *metric, double value, sl_interval *out,
                      sl_error *err);
/* The percentiles of sc's peers in its residual tables, at each table's widening for its task (the
 * factor its coverage was judged at), so that a run takes its intervals without sorting. */
sl_status interval_prepare(sl_scenario *sc, sl_error *err);
/* The 80% interval of a run's average board power per chip, `value`, from the power residuals of its
 * peers (out->metric NULL: none). */
sl_status power_interval_of(const sl_scenario *sc, double value, sl_interval *out, sl_error *err);
/* The 80% interval of a run's energy per token or sample (`metric`: energy.j_per_token or
 * energy.j_per_sample; `value` its prediction) from the energy residuals of its peers. */
sl_status energy_interval_of(const sl_scenario *sc, const char *metric, double value, sl_interval *out,
                             sl_error *err);
/* The interval of a prediction of `metric` from those percentiles. */
void interval_bounds(const char *metric, double predicted, double q10, double q90, double *lo, double *hi);

/* ---- stack figures fitted to end-to-end data; cross-validation (stackfit.c) ---- */
#define SL_STACK_FIGS 4 /* efficiency, kernel_overhead_s, host_step_s, host_seq_s */
typedef struct sl_stack_fit {
  const char *stack;
  size_t n_cases, n_points;  /* use: validate cases of the stack that ran, and their (case, metric) points */
  int fitted[SL_STACK_FIGS]; /* the figure moves some case, so it was fitted */
  double before[SL_STACK_FIGS], after[SL_STACK_FIGS];
  double mae_before, mae_after;   /* mean |relative error| over the points */
  double bias_before, bias_after; /* mean relative error (> 0: predictions high) */
} sl_stack_fit;
const char *stack_fig_key(int i); /* the stack-spec key of figure i */
/* Fits the figures of stack `stack` (by name) to the use: validate cases of `set` that use it,
 * leaving out those of group `exclude` (NULL: none), and sets the fitted figures on every case of
 * that stack. */
sl_status stack_fit(sl_fit_set *set, const char *stack, const char *exclude, sl_stack_fit *out,
                    sl_error *err);
/* The same for the figures of mask (bit i: figure i) only: cross-validation refits what the stack's
 * spec lists as fitted (sl_stack.fitted), stack_fit all figures unless the spec lists some. */
sl_status stack_fit_mask(sl_fit_set *set, const char *stack, const char *exclude, unsigned mask,
                         sl_stack_fit *out, sl_error *err);
/* Leave-one-source-out cross-validation over `set`: `fitted` (initialised by val_init) gets every
 * case predicted with each stack fitted on all its cases; `cv` every use: validate case predicted
 * with the stacks its group uses refitted without that group (use: calibrate cases as in fitted).
 * *fits (malloc'd, *n_fits of them) are the all-data fits; *x the cross-validated residuals and the
 * coverage of their 80% intervals.  The cases' figures are restored. */
typedef struct sl_cv_extra {
  sl_resid_table resid;   /* the cross-validated residuals (rows malloc'd, strings in cv's arena); its
                             widen: the smallest factor (steps of 0.05) covering 80%, at most 5 */
  size_t covered_n;       /* residuals with an interval from their peers in the other groups */
  size_t covered_plain;   /* inside it without widening (widen 1) */
  size_t covered_widened; /* inside it at resid.widen */
  double prior_eff;       /* the stack prior over all groups: geometric mean of the fitted efficiencies */
  size_t prior_stacks;    /* of this many fit groups (0: none, the prior is 1) */
} sl_cv_extra;
sl_status val_cross_validate(sl_fit_set *set, sl_validation *fitted, sl_validation *cv, sl_stack_fit **fits,
                             size_t *n_fits, sl_cv_extra *x, sl_error *err);

/* A measured case loaded for calibration: its scenario (owned; sl_scenario_free), the measured
 * value and which metric it is: the step time (efficiency figures are fitted to these) or the
 * chip's average power (energy.avg_power_w_per_chip; the energy figure is fitted to these). */
typedef enum { SL_CAL_TIME = 0, SL_CAL_POWER = 1 } sl_cal_metric;
typedef struct sl_cal_case {
  const char *name;
  sl_scenario *sc;
  double measured_s; /* the measured value: seconds, or watts for SL_CAL_POWER */
  sl_cal_metric metric;
  double measured_time_s; /* SL_CAL_POWER: the case's measured step_time_s when it gives one (the
                             power is then compared at that time), else 0 */
} sl_cal_case;
/* Loads the cases of `path` that measure step_time_s or energy.avg_power_w_per_chip (a case
 * measuring both gives two entries); chip (a preset or path) replaces each case's chip when not
 * NULL. */
sl_status val_load_cases(const char *path, const char *chip, arena *a, sl_cal_case **out, size_t *n_out,
                         sl_error *err);

/* ---- calibration -------------------------------------------------------------------------------- */
typedef struct sl_cal_param {
  const char *key; /* chip-spec key path, e.g. efficiency.gemm.fp16 */
  double before, after, lo, hi;
  size_t n_cases; /* cases whose prediction it moves */
} sl_cal_param;

typedef struct sl_calibration {
  sl_cal_param params[16];
  size_t n_params;
  size_t n_train, n_test;
  double mape_train_before, mape_train_after, mape_test_before, mape_test_after;
  double mape_all_before, mape_all_after;
  int escale_capped; /* energy.dynamic_scale lowered so that the TDP cap slows no timed case */
  char held[256];    /* the figures kept as the chip gives them (--hold), comma-separated; "" none */
} sl_calibration;

/* Fits the chip's efficiency figures to the cases (training half: even positions; held out: odd).
 * cases[i].sc are modified (their chip figures set to the fit).  hold (NULL: none): figure keys,
 * comma-separated (efficiency.gemm.bf16,kernels.latency_s), that are not fitted but kept as the
 * chip gives them; an unknown key is SL_ERR_INPUT naming --hold. */
sl_status calibrate_fit(sl_cal_case *cases, size_t n, const char *hold, sl_calibration *cal, sl_error *err);
/* Whether `key` names a figure silica calibrate fits (a chip-spec key path as its report prints). */
int calibrate_is_figure(const char *key);
/* The fitted figures as a chip-spec fragment (YAML) naming the data; malloc'd. */
char *calibrate_fragment(const sl_calibration *cal, const char *chip, const char *const *files,
                         size_t n_files);
/* {"cases": [...], "mape", "max_abs_rel_error", "calibration_mape", "counts": {...}}; malloc'd, NULL on OOM.
 */
char *val_json(const sl_validation *v);

/* ---- sim: energy of a step (src/sim/power.c) ---- */
/* Sums of one chip's ops: dynamic energy on and off the clock domain and the time that scales
 * with the clock. */
typedef struct sl_esum {
  double e_core, e_off, t_clock, t_total;
  sl_near near; /* memory-bound kernels near their ridge (their stalls are in t_clock) */
} sl_esum;
void esum_add(sl_esum *s, const sl_cost *c, double count, double time_s);
/* Fills res->power (energy, power, the cap) for a step of res->step_time_s (at full clock) whose
 * most loaded chip did `busy`, with system-wide dynamic energy sys_e_core + sys_e_off (at full
 * clock), over res->chips chips.  Sets res->step_time_s to the capped step, slows the compute-bound
 * rows and gives every row its energy (row_*_j[i]: the row's dynamic energy at full clock; NULL:
 * none).  tokens, samples: per step (0 when not applicable). */
void power_fill_result(const sl_chip *c, const sl_esum *busy, double sys_e_core, double sys_e_off,
                       double tokens, double samples, const double *row_core_j, const double *row_off_j,
                       sl_result *res);

/* ---- sim: training campaigns (src/sim/campaign.c; the keys and site power: campaign_spec.c) ---- */
/* The defaults of `reliability:` (the Llama 3 report's interruption table) and of the network's power. */
void campaign_default_reliability(sl_reliability *r, double *network_w_per_chip);
/* Reads a `reliability:` map over *out. */
sl_status campaign_read_reliability(reader *r, yt_node *map, sl_reliability *out);
/* system.power_budget_w: sets sc->chips to the whole nodes whose facility power fits the budget. */
sl_status campaign_size_to_power(sl_scenario *sc, yt_node *root, sl_error *err);
/* The chips (whole nodes) a power budget feeds, for sc's chip: what campaign_size_to_power sets and
 * a sweep sets again for every design point's TDP. */
double campaign_fleet_chips(const sl_scenario *sc);
/* The facility power of one chip position at full load: PUE x (TDP + host share + network). */
double campaign_chip_facility_w(const sl_scenario *sc);
/* Fills res->campaign for sc's train.tokens (res holds the scenario's own step). */
sl_status campaign_run(const sl_scenario *sc, sl_result *res, sl_error *err);
/* Job failure rate per second of a fleet of `chips` in nodes of node_chips. */
double campaign_failure_rate(const sl_reliability *r, double chips, double node_chips);
/* Young's checkpoint interval sqrt(2 delta M) and Daly's higher-order one (Daly 2006, eq. 37). */
double campaign_young(double ckpt_s, double mtbf_s);
double campaign_daly(double ckpt_s, double mtbf_s);
/* Expected wall time of n segments of w seconds of work each followed by a checkpoint of ckpt_s, a
 * failure (exponential, mean mtbf_s) losing the segment and costing restart_s (which may itself
 * fail): n M e^(R/M) (e^((w + ckpt)/M) - 1) (Daly 2006, eq. 13). */
double campaign_expected_s(double n, double w, double ckpt_s, double restart_s, double mtbf_s);
/* One draw of the same process (seeded splitmix64 state *seed). */
double campaign_draw_s(double n, double w, double ckpt_s, double restart_s, double mtbf_s, uint64_t *seed);

/* sim/dlrm.c */
sl_status dlrm_run(const sl_scenario *sc, sl_result *res, sl_error *err);
/* Scenario checks of a DLRM (called by the scenario loader instead of the LLM parallel rules). */
sl_status dlrm_check_scenario(const sl_scenario *sc, const yt_node *root, sl_error *err);
/* The embedding exchange (sim/dlrm.c): an all-to-all in which chip c sends send[c] bytes in all
 * (flat or hierarchical, the faster), and a reduce-scatter (or all-gather) of S bytes per chip
 * (one ring or hierarchical, the faster), over n chips, k per scale-up domain. */
double dlrm_a2a_time(const sl_net *net, const double *send, int n, int k);
/* Ops the host issues for one DLRM step of `passes` passes (src/sim/dlrm.c): dense_ops kernels of
 * the dense graph a pass, emb_shards table shards in emb_kinds sharding kinds on the chip,
 * `collectives` exchanges a pass. */
double dlrm_host_ops(const sl_stack *st, const sl_dlrm *d, int train, double passes, double dense_ops,
                     double emb_shards, double emb_kinds, double collectives);
double dlrm_rs_time(const sl_net *net, double S, int n, int k);

#endif /* SL_SIM_H */
