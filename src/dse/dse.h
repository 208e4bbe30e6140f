/* dse.h — design-space exploration (docs/sweep.md): a sweep file, search strategies
 * behind one ask/tell interface, the evaluation of a design point over a weighted workload mix,
 * the Pareto front and the SQLite result store with resume.  Prefix dse_ maps to src/dse/.
 *
 * A design point is one value index per parameter (ranges are cut into their steps), so every
 * strategy searches the same finite lattice and a point is named by its index in the sweep's
 * deterministic point order: that index is the primary key of the results table, which is what
 * makes an interrupted sweep resume without repeating or losing a point. */
#ifndef SL_DSE_H
#define SL_DSE_H

#include "sim/sim.h"

#define DSE_MAX_PARAMS 16
#define DSE_MAX_VALUES 256
#define DSE_MAX_WORKLOADS 16
#define DSE_MAX_REFS 8

/* Parameters a sweep may vary: chip fields of every workload's scenario (docs/sweep.md). */
typedef enum dse_param_kind {
  DSE_P_CORES,
  DSE_P_MACS, /* matrix-engine MACs per cycle per core at the chip's main format; the others in proportion */
  DSE_P_CORE_SRAM,   /* bytes of the per-core SRAM level */
  DSE_P_SHARED_SRAM, /* bytes of the shared on-chip level */
  DSE_P_SHARED_BW,   /* GB/s of the shared on-chip level */
  DSE_P_DRAM_TYPE,   /* hbm3e | hbm3 | hbm2e | lpddr5x | lpddr5 | gddr6 | ddr5 ... (a name) */
  DSE_P_DRAM_BW,
  DSE_P_DRAM_BYTES,
  DSE_P_CLOCK,
  DSE_P_NODE,
  DSE_P_SCALE_UP_BW,
  DSE_P_SCALE_OUT_BW,
  DSE_P_TDP,
  DSE_P_COUNT
} dse_param_kind;
extern const char *const dse_param_names[DSE_P_COUNT];

typedef enum dse_obj { DSE_O_THROUGHPUT, DSE_O_PERF_W, DSE_O_PERF_TCO, DSE_O_SCORE, DSE_O_COUNT } dse_obj;
extern const char *const dse_obj_names[DSE_O_COUNT]; /* throughput, perf_per_w, perf_per_tco, score */

typedef enum dse_strategy_kind {
  DSE_GRID,
  DSE_RANDOM,
  DSE_EVOLUTIONARY,
  DSE_STRATEGY_COUNT
} dse_strategy_kind;
extern const char *const dse_strategy_names[DSE_STRATEGY_COUNT + 1];

typedef struct dse_param {
  dse_param_kind kind;
  int n;                         /* values */
  double v[DSE_MAX_VALUES];      /* numeric values (dram_type: unused) */
  const char *s[DSE_MAX_VALUES]; /* dram_type names */
} dse_param;

typedef struct dse_workload {
  const char *name;
  double weight;   /* normalised: the weights sum to 1 */
  sl_scenario *sc; /* loaded once with the base chip; owned */
  double base[3];  /* the base chip's throughput, perf/W, perf/TCO on it */
} dse_workload;

/* Figures of one chip on the mix (the base chip's are 1 for the three objectives). */
typedef struct dse_ref {
  const char *chip;
  int feasible;
  char reason[200];
  double obj[DSE_O_COUNT];
  double area_mm2, tdp_w, unit_cost_usd;
} dse_ref;

typedef struct dse_sweep {
  arena a;
  const char *file, *name, *chip; /* chip: the base chip as written (a preset or a path) */
  char sha256[65];                /* of the sweep as parsed: the database checks it on resume */
  dse_param params[DSE_MAX_PARAMS];
  int n_params;
  double max_area_mm2, max_tdp_w, max_unit_cost_usd; /* 0: no constraint */
  dse_workload w[DSE_MAX_WORKLOADS];
  int n_w;
  int obj[DSE_O_COUNT]; /* the objectives listed, in order */
  int n_obj;
  double score_w[3]; /* weights of throughput, perf_per_w, perf_per_tco in the score (sum 1) */
  dse_strategy_kind strategy;
  unsigned long long seed;
  long count;                   /* random: points */
  long population, generations; /* evolutionary */
  double total;                 /* points the strategy will propose */
  sl_chip base_chip;            /* the first workload's chip, figures re-derived as for every point */
  double base_area_est, base_area_published;
  dse_ref base; /* the base chip on the mix (objectives 1) */
  dse_ref refs[DSE_MAX_REFS];
  int n_refs;
} dse_sweep;

/* Loads and checks a sweep file (path) or text (path NULL; `name` names it in errors), loads every
 * workload scenario once with the base chip and evaluates the base chip and the reference chips.
 * Errors are SL_ERR_INPUT with "file:line: key: message".  *out is freed with dse_sweep_free. */
sl_status dse_sweep_load(const char *path, const char *text, dse_sweep **out, sl_error *err);
void dse_sweep_free(dse_sweep *s);

/* One design point and what it evaluated to. */
typedef struct dse_point {
  long idx;
  int vi[DSE_MAX_PARAMS]; /* value index of each parameter */
  int feasible;
  char reason[200];
  double obj[DSE_O_COUNT]; /* relative to the base chip on the mix (weighted geometric means) */
  double area_mm2, tdp_w, unit_cost_usd, power_w, usd_per_hour;
  double wl[DSE_MAX_WORKLOADS][3]; /* per workload: throughput, average power per chip, $/hour (system) */
} dse_point;

/* ---- evaluation (eval.c) ---- */
typedef struct dse_worker {
  const dse_sweep *sw;
  sl_scenario sc[DSE_MAX_WORKLOADS]; /* shallow copies of the loaded scenarios, chip fields set per point */
  sl_result res;                     /* reused: its arena is reset per evaluation */
  sl_error err;
  sl_gemm_memo *memo; /* one per workload, kept from point to point (malloc'd; NULL: none) */
} dse_worker;
void dse_worker_init(dse_worker *wk, const dse_sweep *sw);
void dse_worker_free(dse_worker *wk);
/* Sets the chip of the design point p->vi (derived figures re-derived) into *c. */
void dse_apply(const dse_sweep *sw, const int *vi, sl_chip *c, double *scale_up, double *scale_out);
/* Evaluates p (its vi set) into p's other fields.  An internal error of the model is returned;
 * a point that does not fit or breaks a constraint is infeasible with its reason. */
sl_status dse_eval(dse_worker *wk, dse_point *p);
/* Evaluates the chip of the loaded scenarios `scs` as a reference (no parameter applied; its
 * derived figures re-derived when rederive).  raw: per workload, throughput, perf/W, perf/TCO. */
sl_status dse_eval_chip(const dse_sweep *sw, sl_scenario **scs, int rederive, dse_ref *out, double raw[][3],
                        sl_error *err);

/* ---- strategies (strategy.c): ask/tell ----
 * ask returns up to max new points (idx and vi set, in increasing idx) that can be evaluated
 * now; 0 when the strategy waits for tells (the caller must tell every asked point, in idx order)
 * or is done.  The proposals depend only on the sweep and the told results, never on how many
 * points are asked at a time, so the point order is deterministic. */
typedef struct dse_strategy dse_strategy;
dse_strategy *dse_strategy_new(const dse_sweep *sw);
long dse_ask(dse_strategy *st, dse_point *out, long max);
void dse_tell(dse_strategy *st, const dse_point *p);
int dse_done(const dse_strategy *st);
void dse_strategy_free(dse_strategy *st);
/* The fitness a guided search maximises: the first objective, -inf when infeasible. */
double dse_fitness(const dse_sweep *sw, const dse_point *p);

/* ---- Pareto front (pareto.c) ----
 * Indices (into the n rows of k objectives, all maximised, row-major in v) of the points no other
 * point dominates (>= in every objective and > in one), in decreasing order of the first objective
 * (then of row index).  front needs room for n.  Returns the front's size; 0 on out of memory. */
size_t dse_pareto(const double *v, size_t n, int k, size_t *front);

/* ---- the sweep driver and the database (store.c) ---- */
typedef struct dse_progress {
  long done, total, feasible;
  double rate_per_s, eta_s, best; /* best: the first objective so far */
} dse_progress;

typedef struct dse_run_opts {
  const char *db_path;
  int jobs;                /* threads; <= 1: one */
  long batch_points;       /* > 0: fixed batch size (tests); 0: adaptive, ~0.25 s of work per batch */
  long stop_after_batches; /* test hook: > 0 stops (as if killed) after committing this many batches */
  void (*progress)(void *ud, const dse_progress *p);
  void *ud;
  /* Evaluates a batch elsewhere (MPI ranks): when set, it replaces the local threads; wk is this
   * process's worker.  Returns the first error.  eval_begin (optional) is called with the same
   * batch first, before the previous batch is told and written: it hands the batch out, so that
   * the other ranks work while this one does that bookkeeping. */
  void (*eval_begin)(void *ud, dse_point *pts, long n);
  sl_status (*eval_batch)(void *ud, dse_worker *wk, dse_point *pts, long n);
  void *eval_ud;
  int keep_results; /* return every point's brief in dse_run_stats.results (for dse_report_with) */
} dse_run_opts;

/* A point as the report needs it: index, feasibility, objectives. */
typedef struct dse_brief {
  long idx;
  int feasible;
  double obj[DSE_O_COUNT];
} dse_brief;

typedef struct dse_run_stats {
  dse_brief *results; /* with dse_run_opts.keep_results: every point of the database, in idx order
                         (malloc'd; the caller frees it); NULL otherwise or when out of memory */
  long resumed;       /* points found in the database */
  long evaluated;     /* points evaluated by this run */
  long total;         /* points in the database at the end */
  long batches;
  int stopped; /* the test hook stopped it */
  double seconds;
} dse_run_stats;

/* Runs (or resumes) the sweep into the database.  A database of another sweep is SL_ERR_INPUT. */
sl_status dse_run(const dse_sweep *sw, const dse_run_opts *o, dse_run_stats *st, sl_error *err);

/* v as "%.6g" (see store.c): out needs 16 bytes; returns the length. */
int dse_fmt_g6(double v, char *out);

/* The report of a sweep database (text): the Pareto front, the best design per objective, the
 * references.  malloc'd into *out. */
sl_status dse_report(const char *db_path, int json, char **out, sl_error *err);
/* The same, given the briefs of all n points of the database (from dse_run): the database is then
 * read only for the rows printed, not scanned.  pts NULL: as dse_report. */
sl_status dse_report_with(const char *db_path, const dse_brief *pts, long n, int json, char **out,
                          sl_error *err);

#endif /* SL_DSE_H */
