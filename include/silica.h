/* silica.h — public API of libsilica, a performance, energy and cost model of AI accelerators.
 *
 * silica answers "how fast, how much energy, how much money" for a workload (a Llama-family
 * transformer, a DLRM ranking model, or a single op) on a chip (a preset such as h100-sxm or
 * mtia-2i, or a YAML spec of your own design).  It is analytical: nothing is executed.
 *
 * Worked example (error handling elided):
 *
 *     sl_error err;
 *     sl_scenario *sc = NULL;
 *     const char *set[] = {"task=decode", "infer.batch=1", "infer.prompt_len=1024"};
 *     sl_scenario_load(NULL, "{chip: h100-sxm, model: llama3.1-8b}", set, 3, &sc, &err);
 *     sl_result *res = NULL;
 *     sl_scenario_run(sc, &res, &err);
 *     printf("%g s per token\n", sl_result_number(res, "step_time_s"));
 *     char *json = sl_result_json(res);   // caller frees with free()
 *     sl_result_free(res);
 *     sl_scenario_free(sc);
 *
 * Conventions: every function returns an sl_status; details go to the optional caller-owned
 * sl_error (NULL is allowed).  Units are SI in double: seconds, bytes, FLOP, joules, watts.
 * The library never prints and never exits.  Objects returned through an `out` pointer are owned
 * by the caller and freed with the matching _free function; _free(NULL) is a no-op.
 * Loaded objects are immutable and may be shared between threads; a scenario may be run from
 * several threads at once.
 */
#ifndef SILICA_H
#define SILICA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SILICA_VERSION "0.1.0"
#define SILICA_SCHEMA_VERSION 1

typedef enum sl_status {
  SL_OK = 0,
  SL_ERR_INPUT = 2,       /* bad input: a spec, scenario or flag is wrong (CLI exit 2) */
  SL_ERR_INTERNAL = 3,    /* a bug or an allocation failure (CLI exit 3) */
  SL_ERR_UNSUPPORTED = 4, /* valid input that this build cannot evaluate yet */
} sl_status;

/* Error detail.  `file` and `line` locate the offending input (line 0 = unknown); `key` is the
 * dotted key path inside that file, e.g. "memory[2].bw_GBps". */
typedef struct sl_error {
  sl_status code;
  int line;
  char file[256];
  char key[128];
  char message[512];
} sl_error;

/* Formats `err` as one line "file:line: key: message" into buf (always NUL-terminated). */
void sl_error_format(const sl_error *err, char *buf, size_t size);

/* ---- Scenarios ------------------------------------------------------------------------------ */

typedef struct sl_scenario sl_scenario;
typedef struct sl_result sl_result;

/* Loads a scenario.  `path` is a YAML/JSON file, or NULL when `text` holds the scenario inline
 * (relative paths inside inline text resolve from the working directory).  `sets` are overrides
 * "dotted.key=value" (value is YAML) applied before anything is resolved; n_sets may be 0.
 * On success *out owns everything it needs (presets and referenced files are copied in). */
sl_status sl_scenario_load(const char *path, const char *text, const char *const *sets, size_t n_sets,
                           sl_scenario **out, sl_error *err);
void sl_scenario_free(sl_scenario *sc);

/* Evaluates a scenario.  An infeasible scenario (does not fit in memory, ...) is a success with
 * feasible = 0 and a reason.  *out is owned by the caller. */
sl_status sl_scenario_run(const sl_scenario *sc, sl_result **out, sl_error *err);
void sl_result_free(sl_result *res);

/* Options of a run.  top_plans: when a parallel plan is searched, keep the N fastest plans for
 * the output ("plans" in the JSON); 0 keeps none. */
typedef struct sl_run_params {
  size_t top_plans;
  /* serve at one arrival rate: also the latencies' 80% intervals (serve.*_lo_s / *_hi_s), by two
   * more simulations of the requests at the engine speeds the throughput interval gives */
  int serve_latency_interval;
  /* training with no `parallel` key whose default plan does not fit: the reason also names the plan
   * `parallel: auto` finds (one more plan search) */
  int plan_hint;
} sl_run_params;
sl_run_params sl_run_params_default(void);
/* sl_scenario_run with options; params NULL means the defaults. */
sl_status sl_scenario_run_ex(const sl_scenario *sc, const sl_run_params *params, sl_result **out,
                             sl_error *err);

/* ---- Many evaluations of one scenario (benchmarks, searches, fuzzers) ------------------------ */

/* A number of the loaded scenario as resolved: "chips"; for inference tasks "infer.batch" (NaN
 * when {max: N}), "infer.prompt_len", "infer.gen_len"; for serving "serve.requests",
 * "serve.arrival_rate_per_s" (NaN when auto); for training "train.global_batch" (N for {max: N}),
 * "train.micro_batch" (NaN when auto) and "plan.searched_keys" (how many of tp, pp, cp, vpp, zero,
 * micro_batch, recompute and the plan as a whole are left to the plan search: a run's cost grows
 * with it).  NaN for an unknown key or one that does not apply to the task. */
double sl_scenario_number(const sl_scenario *sc, const char *key);

/* Changes the inference shape of a loaded scenario in place: key "infer.batch", "infer.prompt_len"
 * or "infer.gen_len", value a whole number from 1 to 1e12.  Not while another thread runs sc.  The
 * result's input_sha256 still names the text as loaded.  Errors: SL_ERR_INPUT (another key, a task
 * that is not inference, a bad value). */
sl_status sl_scenario_set_number(sl_scenario *sc, const char *key, double value, sl_error *err);

/* Evaluates sc into res, a result from an earlier sl_scenario_run (of any scenario), reusing its
 * memory: once warm, an evaluation allocates nothing.  res keeps no copy of the resolved scenario
 * (sl_result_json writes "scenario": null) and must not outlive sc.  params NULL: the defaults.
 * On an error res holds no result but may still be reused or freed. */
sl_status sl_scenario_run_into(const sl_scenario *sc, const sl_run_params *params, sl_result *res,
                               sl_error *err);

/* Reads a numeric output key ("step_time_s", "memory.per_chip_bytes", ...) as in the JSON
 * output; returns NaN when the key is absent (e.g. not computed for an infeasible scenario). */
double sl_result_number(const sl_result *res, const char *key);
int sl_result_feasible(const sl_result *res);
const char *sl_result_reason(const sl_result *res); /* "" when feasible; owned by res */

/* The result as one JSON object (docs/formats.md "Output of silica run --json").  Returns a string
 * from malloc that the caller frees, or NULL when out of memory. */
char *sl_result_json(const sl_result *res);

/* ---- Presets -------------------------------------------------------------------------------- */

/* Number of presets of a kind ("chips", "stacks", "models", "systems") and the name of the i-th;
 * names are static strings. */
size_t sl_preset_count(const char *kind);
const char *sl_preset_name(const char *kind, size_t i);

/* The text of a preset file, or NULL when there is no such preset.  Static storage. */
const char *sl_preset_text(const char *kind, const char *name);

/* ---- Reports, validation and chips as JSON (src/report/) ------------------------------------------
 * For programs and language bindings (python/silica uses these through ctypes).  Every string
 * returned through `out` is allocated with malloc: free it with sl_free (or free()). */

/* Frees a string returned by this library (sl_result_json, sl_report_html, ...).  NULL is a no-op. */
void sl_free(void *p);

/* "0.1.0": the library's version (SILICA_VERSION of the build).  Static string. */
const char *sl_version(void);

/* The kind of silica output `text` (len bytes) holds (docs/reports.md "Inputs"): "run" (silica run
 * --json), "scaling" (several run results: a JSON array of them, or one JSON object per line),
 * "validation" (silica validate --json), "compare" (silica compare --json), "sweep" (silica sweep
 * --report DB --json), "sweep-db" (a SQLite sweep database: sl_report_html takes its JSON report;
 * the silica program reads the database for it), or NULL when it is none of these or not JSON.
 * Static. */
const char *sl_report_kind(const char *text, size_t len);

/* Writes one self-contained HTML page (charts drawn by Vega-Lite, whose libraries are inside the
 * page: it opens offline) from `text`, a JSON output of silica of one of the kinds above.  `name`
 * (NULL allowed) names the input in errors and on the page.  *out: the page, NUL-terminated, owned by
 * the caller.  Errors: SL_ERR_INPUT (not JSON, not a silica output), SL_ERR_UNSUPPORTED (a sweep
 * database; a build made without web/node_modules), SL_ERR_INTERNAL (out of memory). */
sl_status sl_report_html(const char *text, size_t len, const char *name, char **out, sl_error *err);

/* Runs validation cases files (docs/formats.md "Validation cases") and gives the result as the JSON of
 * `silica validate --json` ({"cases": [...], "mape", "max_abs_rel_error", "counts", ...}).
 * `filter` (NULL = all) keeps the cases whose name matches the POSIX extended regex.  A case over its
 * tolerance, unsupported, or with a bad scenario is a status in the JSON, not an error: the call
 * succeeds.  Errors: SL_ERR_INPUT (a malformed cases file, a bad regex, no case matched),
 * SL_ERR_INTERNAL (out of memory, also inside one case's run).  *out owned by the caller. */
sl_status sl_validate_json(const char *const *paths, size_t n_paths, const char *filter, char **out,
                           sl_error *err);

/* A chip (a preset name or a chip spec file) and what silica derives from it, as one JSON object:
 * {"name", "description", "clock_ghz", "cores", "process_nm", "tdp_w" (W), "area_mm2" (published; null
 * when unknown), "peak_tflops" {format: 10^12 FLOP/s, dense matrix peak}, "vector_peak_tflops",
 * "memory" [{"name", "capacity_bytes", "bw_GBps" (10^9 B/s), "per_core"}] (innermost first; per-core
 * levels give one core's capacity and bandwidth), "dram_bytes", "dram_bw_GBps",
 * "ridge_flops_per_byte" {format: peak / DRAM bandwidth}, "validated" (bool: kernel-level
 * measurements behind its efficiency figures), "validation" ("calibrated" or "unvalidated"),
 * "validation_note"}.  *out owned by the caller.  Errors: SL_ERR_INPUT (no such chip, bad spec). */
sl_status sl_chip_json(const char *name_or_path, char **out, sl_error *err);

/* ---- Outputs of the silica program as text ---------------------------------------------------
 * What the commands of the silica program print, for programs that want the same text.  Every
 * string returned is allocated with malloc and NUL-terminated: free it with sl_free. */

/* The renderings a function offers; each function says which it takes (others are SL_ERR_INPUT). */
typedef enum sl_format {
  SL_FORMAT_TEXT = 0,     /* tables for people, as the program prints by default */
  SL_FORMAT_JSON = 1,     /* one JSON object and a newline */
  SL_FORMAT_CSV = 2,      /* a header line, then one line per row */
  SL_FORMAT_MARKDOWN = 3, /* a Markdown report */
} sl_format;

/* `silica run` without --json: the scenario and result as text (summary, memory, parallel plan,
 * searched plans, serving, and the per-op breakdown, most time first).  `res` must come from
 * running `sc`.  top: show only the `top` most expensive breakdown rows (0 = all).  Returns the
 * text, or NULL when out of memory (or sc or res is NULL). */
char *sl_result_text(const sl_scenario *sc, const sl_result *res, size_t top);
/* `silica run --csv`: for a latency-throughput curve (serve.arrival_rate_per_s a list or range), one
 * row per rate (arrival_rate_per_s, ttft_p50_s, ttft_p90_s, ttft_p99_s, tpot_p50_s, tpot_p90_s,
 * tpot_p99_s, throughput_tokens_per_s, goodput_requests_per_s, preemptions, mean_batch_tokens);
 * otherwise the per-op breakdown as CSV (name, phase, category, count, time_s,
 * time_per_op_s, share, flops, bytes, tflops_per_s, bound, energy_j, sram_hit_rate), most time
 * first; top as above.  NULL when out of memory. */
char *sl_result_csv(const sl_result *res, size_t top);

/* `silica trace FILE`: the requests a serving scenario (task: serve) simulates, as a trace file
 * (CSV with the header arrival_s,prompt_tokens,output_tokens; times to 17 digits, so that replaying
 * it with serve.trace gives the same run): its own generator's at its rate (a curve's last), or its
 * trace's, sped up by trace_speed.  Errors: SL_ERR_INPUT (not a serving scenario), SL_ERR_INTERNAL
 * (out of memory).  *out owned by the caller (sl_free). */
sl_status sl_scenario_trace(const sl_scenario *sc, char **out, sl_error *err);

/* `silica list KIND`: one line per preset of `kind` ("chips", "stacks", "models", "systems"), its
 * name and a short description of what silica derives from it.  Errors: SL_ERR_INPUT (unknown
 * kind), SL_ERR_INTERNAL (a shipped preset that does not load: a bug; out of memory). */
sl_status sl_preset_list(const char *kind, char **out, sl_error *err);

/* `silica show`: a spec of `kind` ("chips", "stacks", "models", "systems") and what silica derives
 * from it (a chip's peaks per format, ridge points, area, energy per action, cost at default
 * prices, memory levels, efficiencies and their sources; a model's parameter counts).  `name` is a
 * preset name, a spec file (a path) or inline YAML ("{...}"), as a scenario's value would be.
 * format: SL_FORMAT_TEXT or SL_FORMAT_JSON.  Errors: SL_ERR_INPUT (no such preset, a bad spec with
 * file:line:key). */
sl_status sl_spec_show(const char *kind, const char *name, sl_format format, char **out, sl_error *err);

/* Reads and checks a chip, stack or model spec given as YAML text (len bytes; kind "chip", "stack"
 * or "model", singular or plural), as the spec readers see it after presets are resolved: SL_OK
 * when it loads.  `name` (NULL allowed) names it in errors.  For fuzzers and editors.  Errors:
 * SL_ERR_INPUT with file:line:key. */
sl_status sl_spec_check(const char *kind, const char *text, size_t len, const char *name, sl_error *err);

/* What a validation run found, for a program's exit code. */
typedef struct sl_validate_summary {
  size_t entries;          /* (case, metric) checks that ran or failed to run; 0: no case matched */
  size_t ok;               /* checks within their tolerance */
  size_t internal_errors;  /* checks whose run hit an internal error (a bug in silica) */
  double mape;             /* mean |relative error| of the validation checks that ran; NaN when none */
  double calibration_mape; /* the same over the use: calibrate cases; NaN when none */
} sl_validate_summary;

/* `silica validate`: runs the cases files as sl_validate_json does and renders them in `format`:
 * SL_FORMAT_TEXT (a table), SL_FORMAT_JSON (as sl_validate_json, with a newline), SL_FORMAT_CSV (one
 * line per case and metric) or SL_FORMAT_MARKDOWN (a report naming the files and the filter).  When
 * no case matches, the call succeeds with summary->entries = 0 and *out = NULL.  summary may be NULL.
 * Errors: SL_ERR_INPUT (a malformed cases file, a bad regex), SL_ERR_INTERNAL. */
sl_status sl_validate(const char *const *paths, size_t n_paths, const char *filter, sl_format format,
                      char **out, sl_validate_summary *summary, sl_error *err);

/* sl_validate with more to say: errors per source or per file, and leave-one-source-out
 * cross-validation of the stacks' fitted figures (docs/validation.md). */
typedef struct sl_validate_params {
  const char *filter; /* POSIX extended regex on case names; NULL = all */
  sl_format format;   /* as sl_validate */
  int by;             /* SL_BY_NONE, SL_BY_SOURCE (each case's group), SL_BY_FILE or SL_BY_METRIC (each
                         measured key): a summary per one */
  /* Refits each stack's figures (efficiency, kernel_overhead_s) on the use: validate cases of every
   * other source and predicts the left-out source with them, one source at a time; the entries (and
   * the headline error) are those predictions, reported beside the fitted (in-sample) ones, with the
   * stacks' figures fitted on all cases and the coverage of the 80% intervals. */
  int cross_validate;
} sl_validate_params;
enum { SL_BY_NONE = 0, SL_BY_SOURCE = 1, SL_BY_FILE = 2, SL_BY_METRIC = 3 };
sl_validate_params sl_validate_params_default(void);
/* As sl_validate.  With cross_validate and residuals not NULL, *residuals gets the cross-validated
 * residual table (YAML, the format of data/validation/residuals.yaml, from which results take their
 * interval); caller-owned, sl_free. */
sl_status sl_validate_ex(const char *const *paths, size_t n_paths, const sl_validate_params *params,
                         char **out, char **residuals, sl_validate_summary *summary, sl_error *err);

/* `silica calibrate --stack NAME`: fits the stack's figures (efficiency, kernel_overhead_s, within
 * their physical bounds, only those that move some case) to the use: validate cases of the files
 * that run on that stack (by name).  *fragment: a stack-spec fragment (YAML) whose *_source keys
 * name the data and the errors before and after; *report: as sl_calibrate's (TEXT or JSON).  Both
 * caller-owned.  Errors: SL_ERR_INPUT (a malformed file, no case of that stack). */
sl_status sl_calibrate_stack(const char *stack, const char *const *paths, size_t n_paths, sl_format format,
                             char **report, char **fragment, sl_error *err);

/* `silica compare`: each workload (a scenario file) run with its chip replaced by each chip (a
 * preset or a chip spec file); throughput, performance per watt and per dollar of cost of
 * ownership, each relative to the baseline chip, the best chip of each workload, geometric means. */
typedef struct sl_compare_params {
  const char *const *chips; /* at most 64 */
  size_t n_chips;
  const char *const *workloads; /* scenario files, at most 64 */
  size_t n_workloads;
  const char *const *sets; /* "key=value" for every workload (as sl_scenario_load's), at most 64 */
  size_t n_sets;
  size_t baseline;  /* index into chips of the chip the ratios are relative to */
  sl_format format; /* SL_FORMAT_TEXT, SL_FORMAT_JSON or SL_FORMAT_CSV */
  /* The system each chip runs on, paired with chips (n_chips entries; NULL entries, or NULL:
   * the default): a preset or a system file, given the workload's chip count.  By default a chip
   * other than the workload's runs on the first system preset built from it (its `chip:`), else on
   * the links of its chip spec, with the workload's chip count and scale-up domain. */
  const char *const *systems;
} sl_compare_params;
/* Errors: the first workload that does not load or run (its error), SL_ERR_INPUT (bad params). */
sl_status sl_compare(const sl_compare_params *params, char **out, sl_error *err);

/* `silica fleet`: the mixed-fleet search of a serving scenario file (task: serve with a serve.fleet
 * section: the chip types, at most max_chips per pool): the cheapest colocated pools and
 * disaggregated prefill x decode pairs whose p99 TTFT and TPOT meet the SLO at the offered rate,
 * with cost per hour, power and headroom (the highest rate each sustains).  brute: simulate every
 * count of every pool instead of bisecting on counts (slow; the reference).  format: TEXT or JSON. */
typedef struct sl_fleet_params {
  const char *file;
  const char *const *sets; /* "key=value", as sl_scenario_load's */
  size_t n_sets;
  sl_format format;
  int brute;
} sl_fleet_params;
sl_status sl_fleet(const sl_fleet_params *params, char **out, sl_error *err);

/* `silica calibrate`: fits `chip`'s efficiency figures (a preset or a chip spec file) to the
 * kernel-level cases of the files that measure step_time_s (the chip replaces each case's), every
 * other case held out.  *fragment: the fitted figures as a chip-spec fragment (YAML) naming its
 * data.  *report: the figures before and after and the errors, as SL_FORMAT_TEXT or SL_FORMAT_JSON
 * (which holds the fragment too); the text ends with the fragment unless fragment_path (where the
 * caller writes it; NULL allowed) is given, then it names that file.  Both owned by the caller. */
sl_status sl_calibrate(const char *chip, const char *const *paths, size_t n_paths, sl_format format,
                       const char *fragment_path, char **report, char **fragment, sl_error *err);
/* As sl_calibrate, with `hold` (NULL or "": none) naming figures, comma-separated chip-spec keys as
 * the report lists them (efficiency.gemm.bf16,kernels.latency_s), that are kept as the chip gives
 * them rather than fitted (`silica calibrate --hold`); an unknown key is SL_ERR_INPUT. */
sl_status sl_calibrate_held(const char *chip, const char *const *paths, size_t n_paths, const char *hold,
                            sl_format format, const char *fragment_path, char **report, char **fragment,
                            sl_error *err);

/* ---- Numerics: training small models in the chip's number formats ---------------------------- */

/* `silica numerics FILE`: trains the file's small model once per number-format run (docs/numerics.md;
 * seconds to minutes) and renders the losses, their gaps to the reference run and the chip's time
 * and energy for the run: SL_FORMAT_TEXT, SL_FORMAT_JSON, or SL_FORMAT_CSV (the loss curves).
 * *note (NULL allowed): a line for the user when the built-in corpus stood in for a missing one,
 * else NULL.  Errors: SL_ERR_INPUT (a bad file, with file:line:key), SL_ERR_INTERNAL. */
sl_status sl_numerics_run(const char *path, sl_format format, char **out, char **note, sl_error *err);
/* Reads and checks a numerics file given as text (nothing is trained): SL_OK when it would run.
 * `name` (NULL allowed) names it in errors.  For fuzzers and editors: SL_ERR_INTERNAL means the
 * reader accepted a file the executor cannot train (at most 2M parameters, 512 tokens a step, 1 to
 * 12 runs in formats it handles), a bug. */
sl_status sl_numerics_check(const char *text, const char *name, sl_error *err);

/* 1 when the numerics executor's exact fp32 matrix products go through OpenBLAS (loaded at run time
 * when it is installed), 0 when they use the executor's own loops. */
int sl_numerics_blas(void);

/* ---- Sweeps: design-space exploration into a SQLite database (docs/sweep.md) ------------------- */

typedef struct sl_sweep sl_sweep;

/* Loads and checks a sweep: a file (path), or text (path NULL; relative paths resolve from the
 * working directory).  Loads every workload once and evaluates the base and reference chips.
 * Errors: SL_ERR_INPUT with file:line:key.  *out freed with sl_sweep_free. */
sl_status sl_sweep_load(const char *path, const char *text, sl_sweep **out, sl_error *err);
void sl_sweep_free(sl_sweep *sw);
/* Applies the sweep's first and last design points to its base chip and re-derives their figures,
 * nothing evaluated or written: for fuzzers, which look for crashes in the point code.  SL_OK, or
 * SL_ERR_INTERNAL when sw is NULL. */
sl_status sl_sweep_check_points(const sl_sweep *sw, sl_error *err);

/* Progress of long work on the calling thread (a serving simulation's requests, a numerics run's
 * training steps): fn(ud, what, done, total) every so often while it runs; NULL: none (the
 * default).  Sweeps report through sl_sweep_params instead. */
typedef void (*sl_progress_fn)(void *ud, const char *what, double done, double total);
void sl_progress_set(sl_progress_fn fn, void *ud);

/* Where a running sweep is, for a progress line. */
typedef struct sl_sweep_progress {
  long done, total, feasible;
  double rate_per_s; /* points per second so far */
  double eta_s;      /* seconds left; infinite when unknown */
  double best;       /* the first objective's best value so far */
} sl_sweep_progress;

/* ---- Batches of design points, for running a sweep's evaluations elsewhere (MPI ranks) ---------
 * A point is a plain block of sl_sweep_point_size() bytes with no pointers: a process running the
 * same build of the library may copy it as bytes.  Its question (what to evaluate, a tenth of its
 * size) is sl_sweep_ask_size() bytes.  A batch of n points is one array of n such blocks. */
typedef struct sl_sweep_worker sl_sweep_worker;
size_t sl_sweep_point_size(void);
size_t sl_sweep_ask_size(void);
/* Copies the question of point i of `points` into ask i of `asks` (n points). */
void sl_sweep_asks_get(const void *points, void *asks, size_t n);
/* Makes point i of `points` the unevaluated point asked by ask i (n points). */
void sl_sweep_asks_put(const void *asks, void *points, size_t n);
/* A worker evaluates points of one sweep; one per thread.  *out freed with sl_sweep_worker_free;
 * `sw` must outlive it.  Errors: SL_ERR_INTERNAL (out of memory). */
sl_status sl_sweep_worker_new(const sl_sweep *sw, sl_sweep_worker **out, sl_error *err);
void sl_sweep_worker_free(sl_sweep_worker *wk);
/* Evaluates the n points (their questions set) in place.  A point that does not fit is a result
 * (infeasible, with a reason); an internal error of the model stops and is returned. */
sl_status sl_sweep_worker_eval(sl_sweep_worker *wk, void *points, size_t n, sl_error *err);

/* Options of sl_sweep_run; sl_sweep_params_default() gives one thread, no progress, no hooks. */
typedef struct sl_sweep_params {
  int jobs; /* threads evaluating points; <= 1: one */
  /* Called now and then from the thread that runs the sweep; NULL: none. */
  void (*progress)(void *ud, const sl_sweep_progress *p);
  void *progress_ud;
  /* Evaluates each batch elsewhere (e.g. on MPI ranks) instead of on `jobs` threads: batch_eval
   * evaluates the n points (with `wk`, this process's worker, for its own share) and returns the
   * first error; batch_begin (optional) is called with the same batch first, before the previous
   * batch is written to the database, so that the others can start while this process does that.
   * Points are in the layout above.  NULL: local threads. */
  void (*batch_begin)(void *ud, void *points, size_t n);
  sl_status (*batch_eval)(void *ud, sl_sweep_worker *wk, void *points, size_t n, sl_error *err);
  void *batch_ud;
  int report_json; /* the report as JSON (1) or text (0) */
} sl_sweep_params;
sl_sweep_params sl_sweep_params_default(void);

/* Runs (or resumes: the database remembers every point done) the sweep into the SQLite database
 * db_path.  *report (NULL allowed: none): the report of the database at the end, as
 * sl_sweep_report gives it.  params NULL: the defaults; stats NULL allowed.  Errors: SL_ERR_INPUT (a database
 * of another sweep, a database that cannot be opened), SL_ERR_INTERNAL. */
typedef struct sl_sweep_stats {
  long resumed;   /* points found in the database */
  long evaluated; /* points evaluated by this run */
  long total;     /* points in the database at the end */
  long batches;
  double seconds;
} sl_sweep_stats;
sl_status sl_sweep_run(const sl_sweep *sw, const char *db_path, const sl_sweep_params *params,
                       sl_sweep_stats *stats, char **report, sl_error *err);

/* The report of a sweep database: the Pareto front, the best design per objective and the
 * reference chips; text, or JSON when json is nonzero (the whole front, every infeasible reason).
 * Errors: SL_ERR_INPUT (not a sweep database). */
sl_status sl_sweep_report(const char *db_path, int json, char **out, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SILICA_H */
