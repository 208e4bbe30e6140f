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
} sl_run_params;
sl_run_params sl_run_params_default(void);
/* sl_scenario_run with options; params NULL means the defaults. */
sl_status sl_scenario_run_ex(const sl_scenario *sc, const sl_run_params *params, sl_result **out,
                             sl_error *err);

/* Reads a numeric output key ("step_time_s", "memory.per_chip_bytes", ...) as in the JSON
 * output; returns NaN when the key is absent (e.g. not computed for an infeasible scenario). */
double sl_result_number(const sl_result *res, const char *key);
int sl_result_feasible(const sl_result *res);
const char *sl_result_reason(const sl_result *res); /* "" when feasible; owned by res */

/* The result as one JSON object (FORMATS.md "Output of silica run --json").  Returns a string
 * from malloc that the caller frees, or NULL when out of memory. */
char *sl_result_json(const sl_result *res);

/* ---- Presets -------------------------------------------------------------------------------- */

/* Number of presets of a kind ("chips", "stacks", "models", "systems") and the name of the i-th;
 * names are static strings. */
size_t sl_preset_count(const char *kind);
const char *sl_preset_name(const char *kind, size_t i);

/* The text of a preset file, or NULL when there is no such preset.  Static storage. */
const char *sl_preset_text(const char *kind, const char *name);

/* ---- Reports, validation and chips as JSON (src/io/report.c, src/io/api_extra.c) ----------------
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

/* Runs validation cases files (FORMATS.md "Validation cases") and gives the result as the JSON of
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

#ifdef __cplusplus
}
#endif
#endif /* SILICA_H */
