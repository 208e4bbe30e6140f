/* test_stackfit.c — stack figures fitted to end-to-end cases (stackfit.c): a stack made slower by
 * known figures (efficiency 0.8, 9 us per kernel) is recovered from cases the model itself produced;
 * leave-one-source-out cross-validation of cases that all follow the same truth predicts every left-out
 * group as well as the in-sample fit; the figures of the cases are restored afterwards. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/sim.h"
#include "test_util.h"

/* The scenarios below are formats with one %s (the stack). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* Training steps and inference of small Llama models on one node: different shares of launch time
 * and kernel time, so the two figures are told apart. */
static const char *const SCEN[] = {
    "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: %s, model: llama3.2-1b, precision: bf16, "
    "task: "
    "train, train: {seq_len: 2048, global_batch: 64, micro_batch: 1}, parallel: {tp: 1, pp: 1, dp: 8}}",
    "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: %s, model: llama3.1-8b, precision: bf16, "
    "task: "
    "train, train: {seq_len: 4096, global_batch: 32, micro_batch: 1}, parallel: {tp: 2, pp: 1, dp: 4}}",
    "{chip: h100-sxm, stack: %s, model: llama3.2-1b, precision: bf16, task: decode, infer: {batch: 1, "
    "prompt_len: 512}}",
    "{chip: h100-sxm, stack: %s, model: llama3.1-8b, precision: bf16, task: prefill, infer: {batch: 4, "
    "prompt_len: 2048}}",
    "{chip: a100-sxm-80gb, stack: %s, model: llama3.2-3b, precision: bf16, task: decode, infer: {batch: 8, "
    "prompt_len: 1024}}",
    "{chip: a100-sxm-80gb, system: {chips: 8, node_chips: 8}, stack: %s, model: llama3.2-3b, precision: "
    "bf16, "
    "task: train, train: {seq_len: 2048, global_batch: 32, micro_batch: 2}, parallel: {tp: 1, pp: 1, dp: 8}}",
};

static const char TRUTH[] = "{preset: megatron-2024, efficiency: 0.8, kernel_overhead_s: 9.0e-6}";

/* The output `key` of the scenario fmt with the stack put in. */
static double predict_key(const char *fmt, const char *stack, const char *key) {
  char text[1024];
  snprintf(text, sizeof text, fmt, stack);
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err) || sl_scenario_run(sc, &r, &err))
    fail_msg("%s: %s", text, err.message);
  double t = sl_result_number(r, key);
  sl_result_free(r);
  sl_scenario_free(sc);
  return t;
}

static double predict(const char *fmt, const char *stack) {
  return predict_key(fmt, stack, "step_time_s");
}

/* Writes the cases (measured under TRUTH, run with the plain preset) into dir/cases.yaml, in three
 * groups of two. */
static void write_cases(const char *path) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("cases:\n", f);
  for (size_t i = 0; i < SL_ARRAY_LEN(SCEN); i++) {
    char text[1024];
    snprintf(text, sizeof text, SCEN[i], "megatron-2024");
    fprintf(f, "  - {name: c%zu, group: g%zu, scenario: %s, measured: {step_time_s: %.17g}}\n", i, i / 2,
            text, predict(SCEN[i], TRUTH));
  }
  fclose(f);
}

/* A case file in a fresh directory under /tmp (dir: a mkdtemp template), opened with its "cases:"
 * line written; cases_done removes both. */
static FILE *cases_file(char *dir, char *path, size_t n) {
  assert_non_null(mkdtemp(dir));
  snprintf(path, n, "%s/cases.yaml", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("cases:\n", f);
  return f;
}

static void cases_done(const char *dir, const char *path) {
  unlink(path);
  rmdir(dir);
}

/* One leave-one-source-out run over a loaded set: both validations, the stacks' fits, the extras. */
typedef struct cvout {
  sl_validation fitted, cv;
  sl_stack_fit *fs;
  size_t nf;
  sl_cv_extra x;
} cvout;

static void load_set(const char *path, sl_fit_set *set) {
  memset(set, 0, sizeof *set);
  sl_error err;
  assert_int_equal(val_load_fit(set, path, NULL, &err), SL_OK);
}

static void cv_run(sl_fit_set *set, cvout *o) {
  sl_error err;
  val_init(&o->fitted);
  val_init(&o->cv);
  o->fs = NULL, o->nf = 0;
  assert_int_equal(val_cross_validate(set, &o->fitted, &o->cv, &o->fs, &o->nf, &o->x, &err), SL_OK);
}

static void cv_free(cvout *o) {
  free(o->x.resid.rows);
  free(o->fs);
  val_free(&o->fitted);
  val_free(&o->cv);
}

static void test_recovers_known_figures(void **state) {
  const char *path = *state;
  sl_fit_set set;
  load_set(path, &set);
  assert_int_equal(set.n, SL_ARRAY_LEN(SCEN));
  sl_error err;
  sl_stack_fit fit;
  assert_int_equal(stack_fit(&set, "megatron-2024", NULL, &fit, &err), SL_OK);
  assert_int_equal(fit.n_cases, SL_ARRAY_LEN(SCEN));
  assert_true(fit.fitted[0] && fit.fitted[1]);
  assert_true(fit.mae_before > 0.05); /* the preset is off ... */
  assert_true(fit.mae_after < 1e-3);  /* ... the fit is not */
  if (fabs(fit.after[0] - 0.8) > 2e-3 || fabs(fit.after[1] - 9e-6) > 2e-7)
    fail_msg("fitted efficiency %.5f (0.8), kernel overhead %.3g s (9e-6)", fit.after[0], fit.after[1]);
  /* the fitted figures are set on the cases */
  for (size_t i = 0; i < set.n; i++)
    assert_true(fabs(set.cases[i].sc->stack.efficiency - fit.after[0]) < 1e-12);
  val_fit_free(&set);
}

static void test_cross_validation(void **state) {
  const char *path = *state;
  sl_fit_set set;
  load_set(path, &set);
  double eff0 = set.cases[0].sc->stack.efficiency;
  cvout o;
  cv_run(&set, &o);
  assert_int_equal(o.x.resid.n, SL_ARRAY_LEN(SCEN));
  assert_int_equal(o.nf, 1);
  assert_int_equal(o.fitted.valid.ran, SL_ARRAY_LEN(SCEN));
  assert_int_equal(o.cv.valid.ran, SL_ARRAY_LEN(SCEN));
  /* one truth behind every group: each left-out group is predicted from the others' fit */
  if (!(o.fitted.valid.mape < 1e-3 && o.cv.valid.mape < 5e-3))
    fail_msg("fitted %.4f, cross-validated %.4f", o.fitted.valid.mape, o.cv.valid.mape);
  sl_val_group *g = NULL;
  size_t ng = val_by(&o.cv, 0, &g);
  assert_int_equal(ng, 3);
  assert_string_equal(g[1].name, "g1");
  free(g);
  /* the cases are left with their own figures */
  assert_true(set.cases[0].sc->stack.efficiency == eff0);
  cv_free(&o);
  val_fit_free(&set);
}

/* Stacks of one fit group share their fitted figures.  Stack sa runs only group g0's cases, sb the
 * others: apart, leaving g0 out leaves sa nothing to fit on, so it takes the stack prior (sb's
 * fitted efficiency, the geometric mean of the stacks left) and the prior launch overhead, which
 * predict g0 worse; in one group, sb's cases give the figures g0 is predicted with. */
static void write_group_cases(const char *path, int grouped) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("cases:\n", f);
  for (size_t i = 0; i < SL_ARRAY_LEN(SCEN); i++) {
    char stack[200], text[1024];
    snprintf(stack, sizeof stack, "{preset: megatron-2024, name: %s%s}", i < 2 ? "sa" : "sb",
             grouped ? ", fit_group: fam" : "");
    snprintf(text, sizeof text, SCEN[i], stack);
    fprintf(f, "  - {name: c%zu, group: g%zu, scenario: %s, measured: {step_time_s: %.17g}}\n", i, i / 2,
            text, predict(SCEN[i], TRUTH));
  }
  fclose(f);
}

static void test_fit_group(void **state) {
  (void)state;
  char gdir[] = "/tmp/silica-fitgroup-XXXXXX", path[300];
  assert_non_null(mkdtemp(gdir));
  snprintf(path, sizeof path, "%s/cases.yaml", gdir);
  double cv_mape[2];
  for (int grouped = 0; grouped < 2; grouped++) {
    write_group_cases(path, grouped);
    sl_fit_set set;
    load_set(path, &set);
    if (grouped) { /* naming one stack fits the group on all its cases and sets both */
      sl_error err;
      sl_stack_fit fit;
      assert_int_equal(stack_fit(&set, "sa", NULL, &fit, &err), SL_OK);
      assert_int_equal(fit.n_cases, SL_ARRAY_LEN(SCEN));
      assert_string_equal(fit.stack, "fam");
      assert_true(fabs(fit.after[0] - 0.8) < 2e-3);
      for (size_t i = 0; i < set.n; i++)
        assert_true(fabs(set.cases[i].sc->stack.efficiency - fit.after[0]) < 1e-12);
    }
    cvout o;
    cv_run(&set, &o);
    assert_int_equal(o.nf, grouped ? 1 : 2);
    /* the stack prior: the geometric mean of the fitted efficiencies, one per fit group */
    print_message("stack prior %.4f of %zu\n", o.x.prior_eff, o.x.prior_stacks);
    assert_int_equal(o.x.prior_stacks, grouped ? 1 : 2);
    assert_true(fabs(o.x.prior_eff - 0.8) < 5e-3);
    cv_mape[grouped] = o.cv.valid.mape;
    cv_free(&o);
    val_fit_free(&set);
  }
  unlink(path);
  rmdir(gdir);
  /* apart: the prior efficiency is right (0.8, from sb) but the launch overhead is the prior's: a
   * small error, far below the 18% of an efficiency prior of 1; grouped: none */
  if (!(cv_mape[0] > 0.005 && cv_mape[0] < 0.05 && cv_mape[1] < 5e-3 && cv_mape[0] > 2 * cv_mape[1]))
    fail_msg("cross-validated error apart %.4f, as one group %.4f", cv_mape[0], cv_mape[1]);
}

/* A set whose stacks fit no efficiency (a vllm-based engine with the host figures of an overlapping
 * scheduler, fitting only those, with no efficiency of its own):
 * the prior its cases take stays the built-in one, not 1 (no stack to draw it from), so a set that
 * follows the preset is predicted in sample as the preset predicts it. */
static void test_prior_without_fitted_efficiency(void **state) {
  (void)state;
#define HOST_STACK                                                                                           \
  "{preset: vllm, name: vllm-host, host_overlap: true, fitted: [host_step_s, host_seq_s], host_step_s: "     \
  "4.6e-3, host_seq_s: 6.6e-5}"
  static const char *const DEC[] = {
      "{chip: h100-sxm, stack: " HOST_STACK ", model: llama3.2-1b, precision: bf16, task: decode, infer: "
      "{batch: 1, prompt_len: 512}}",
      "{chip: h100-sxm, stack: " HOST_STACK ", model: llama3.1-8b, precision: bf16, task: decode, infer: "
      "{batch: 64, prompt_len: 1024}}",
      "{chip: a100-sxm-80gb, stack: " HOST_STACK
      ", model: llama3.2-3b, precision: bf16, task: decode, infer: "
      "{batch: 8, prompt_len: 1024}}",
      "{chip: a100-sxm-80gb, stack: " HOST_STACK
      ", model: llama3.1-8b, precision: bf16, task: decode, infer: "
      "{batch: 128, prompt_len: 2048}}",
  };
  char pdir[] = "/tmp/silica-prior-XXXXXX", path[300];
  FILE *f = cases_file(pdir, path, sizeof path);
  for (size_t i = 0; i < SL_ARRAY_LEN(DEC); i++)
    fprintf(f, "  - {name: d%zu, group: g%zu, scenario: %s, measured: {step_time_s: %.17g}}\n", i, i / 2,
            DEC[i], predict("%s", DEC[i]));
  fclose(f);
  sl_fit_set set;
  load_set(path, &set);
  cvout o;
  cv_run(&set, &o);
  assert_int_equal(o.x.prior_stacks, 0);
  assert_true(o.x.prior_eff == stack_prior_efficiency());
  for (size_t i = 0; i < set.n; i++)
    assert_true(set.cases[i].sc->stack.efficiency == stack_prior_efficiency());
  /* in sample the preset's own figures fit; left out, the host figures refitted on the other group
   * move (which a batch-1 decode's host-bound step shows), the efficiency does not */
  if (!(o.fitted.valid.mape < 5e-3)) fail_msg("fitted %.4f (a prior of 1 is ~18%% off)", o.fitted.valid.mape);
  assert_int_equal(o.cv.valid.ran, SL_ARRAY_LEN(DEC));
  cv_free(&o);
  val_fit_free(&set);
  cases_done(pdir, path);
}

/* The stack prior and the stacks that take it are one fixed point: stack sa fits its efficiency
 * (measured under 0.7), a host-figure stack sh fits only its host figures, over kernels at the prior
 * (measured under an efficiency of 0.7 too).  The prior drawn from sa's fit is 0.7, and sh's host
 * figures are fitted at it, in sample and with each group left out, so both are predicted as
 * measured; fitted at the built-in prior (the previous refit's, not 0.7), sh's GPU-bound steps would
 * carry the difference, which no host figure takes away. */
static void test_prior_fixed_point(void **state) {
  (void)state;
#define SH_STACK                                                                                             \
  "{preset: vllm, name: sh, host_overlap: true, fitted: [host_step_s, host_seq_s], host_step_s: 4.6e-3, "    \
  "host_seq_s: 6.6e-5%s}"
  static const char *const DEC[] = {
      "{chip: h100-sxm, stack: " SH_STACK ", model: llama3.1-8b, precision: bf16, task: decode, infer: "
      "{batch: 256, prompt_len: 2048}}",
      "{chip: h100-sxm, stack: " SH_STACK ", model: llama3.1-70b, system: {chips: 4, node_chips: 8}, "
      "parallel: {tp: 4}, precision: bf16, task: decode, infer: {batch: 128, prompt_len: 2048}}",
      "{chip: a100-sxm-80gb, stack: " SH_STACK ", model: llama3.1-8b, precision: bf16, task: decode, infer: "
      "{batch: 128, prompt_len: 2048}}",
      "{chip: a100-sxm-80gb, stack: " SH_STACK ", model: llama3.1-8b, precision: bf16, task: prefill, infer: "
      "{batch: 4, prompt_len: 2048}}",
  };
  char pdir[] = "/tmp/silica-fixed-XXXXXX", path[300];
  FILE *f = cases_file(pdir, path, sizeof path);
  for (size_t i = 0; i < SL_ARRAY_LEN(SCEN); i++) {
    char text[1024];
    snprintf(text, sizeof text, SCEN[i], "{preset: megatron-2024, name: sa}");
    fprintf(f, "  - {name: c%zu, group: g%zu, scenario: %s, measured: {step_time_s: %.17g}}\n", i, i / 2,
            text, predict(SCEN[i], "{preset: megatron-2024, efficiency: 0.7, kernel_overhead_s: 9.0e-6}"));
  }
  for (size_t i = 0; i < SL_ARRAY_LEN(DEC); i++) {
    char text[1024], truth[1024];
    snprintf(text, sizeof text, DEC[i], "");
    snprintf(truth, sizeof truth, DEC[i], ", efficiency: 0.7");
    fprintf(f, "  - {name: d%zu, group: h%zu, scenario: %s, measured: {step_time_s: %.17g}}\n", i, i / 2,
            text, predict("%s", truth));
  }
  fclose(f);
#undef SH_STACK
  sl_fit_set set;
  load_set(path, &set);
  cvout o;
  cv_run(&set, &o);
  print_message("prior %.4f of %zu; fitted %.5f, cross-validated %.5f\n", o.x.prior_eff, o.x.prior_stacks,
                o.fitted.valid.mape, o.cv.valid.mape);
  assert_int_equal(o.x.prior_stacks, 1);
  assert_true(fabs(o.x.prior_eff - 0.7) < 5e-3);
  assert_true(fabs(stack_prior_efficiency() - 0.7) > 0.01); /* the built-in prior is another */
  if (!(o.fitted.valid.mape < 2e-3 && o.cv.valid.mape < 5e-3))
    fail_msg("fitted %.4f, cross-validated %.4f", o.fitted.valid.mape, o.cv.valid.mape);
  /* the prior as residuals.yaml prints it (4 decimals), and the host figures the report fitted at it
   * are the ones `silica calibrate --stack` gives at that printed figure */
  char printed[32];
  snprintf(printed, sizeof printed, "%.4f", o.x.prior_eff);
  assert_true(o.x.prior_eff == strtod(printed, NULL));
  const sl_stack_fit *cvfit = NULL;
  for (size_t j = 0; j < o.nf; j++)
    if (o.fs[j].stack && strcmp(o.fs[j].stack, "sh") == 0) cvfit = &o.fs[j];
  assert_non_null(cvfit);
  sl_fit_set again;
  load_set(path, &again);
  for (size_t i = 0; i < again.n; i++)
    if (again.cases[i].sc && strcmp(again.cases[i].sc->stack.name, "sh") == 0)
      again.cases[i].sc->stack.efficiency = strtod(printed, NULL);
  sl_stack_fit alone;
  sl_error err;
  assert_int_equal(stack_fit(&again, "sh", NULL, &alone, &err), SL_OK);
  for (int k = 2; k < SL_STACK_FIGS; k++)
    if (cvfit->after[k] != alone.after[k])
      fail_msg("%s: %.9g in the report, %.9g fitted alone", stack_fig_key(k), cvfit->after[k],
               alone.after[k]);
  val_fit_free(&again);
  cv_free(&o);
  val_fit_free(&set);
  cases_done(pdir, path);
}

/* A flat objective: one case measured twice, 15% under and 15% over what efficiency 0.8 gives.  The
 * mean |log| is the same for every efficiency whose prediction lies between the two, so the search
 * alone could stop anywhere in that valley; the squared term (FLAT_TIE) puts the fit where the two
 * residuals balance, the geometric mean of the measurements: efficiency 0.8. */
static void test_flat_valley(void **state) {
  (void)state;
  const char *st = "{preset: megatron-2024, name: sv, fitted: [efficiency]}";
  double t = predict(SCEN[1], "{preset: megatron-2024, efficiency: 0.8}");
  char dir[] = "/tmp/silica-flat-XXXXXX", path[300], text[1024];
  FILE *f = cases_file(dir, path, sizeof path);
  snprintf(text, sizeof text, SCEN[1], st);
  fprintf(f, "  - {name: lo, group: g0, scenario: %s, measured: {step_time_s: %.17g}}\n", text, t * 0.85);
  fprintf(f, "  - {name: hi, group: g1, scenario: %s, measured: {step_time_s: %.17g}}\n", text, t / 0.85);
  fclose(f);
  sl_fit_set set;
  load_set(path, &set);
  sl_stack_fit fit;
  sl_error err;
  assert_int_equal(stack_fit(&set, "sv", NULL, &fit, &err), SL_OK);
  print_message("efficiency %.5f, mean |error| %.4f\n", fit.after[0], fit.mae_after);
  if (!(fabs(fit.after[0] - 0.8) < 2e-3)) fail_msg("efficiency %.5f, not 0.8", fit.after[0]);
  val_fit_free(&set);
  cases_done(dir, path);
}

/* A serving engine's state is checked, not fitted (stackfit.c fit_target): two serving cases measure
 * their throughput under a stack made slower by a known efficiency (0.8) and, the second time, a
 * running batch far from what any figure gives (1 sequence where the batch is 16).  Fitted on either
 * set, the efficiency is the same: the state key does not bend the figure; the fit's error is over
 * the throughput alone (0 here), and validation still reports the state key's miss. */
static void test_state_not_fitted(void **state) {
  (void)state;
#define SRV(st)                                                                                              \
  "{chip: h100-sxm, stack: " st                                                                              \
  ", model: llama3.2-1b, precision: bf16, task: serve, serve: {arrival_rate_per_s: "                         \
  "inf, requests: 40, prompt_len: 256, gen_len: 64, scheduler: {max_seqs: 16}}}"
#define FIT_STACK "{preset: vllm, name: vllm-fit, fitted: [efficiency]}"
  double thr = predict_key("%s", SRV("{preset: vllm, name: vllm-fit, efficiency: 0.8}"),
                           "serve.throughput_tokens_per_s");
  sl_error err;
  char sdir[] = "/tmp/silica-state-XXXXXX", path[300];
  assert_non_null(mkdtemp(sdir));
  snprintf(path, sizeof path, "%s/cases.yaml", sdir);
  double eff[2], mae[2];
  for (int bogus = 0; bogus < 2; bogus++) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "cases:\n  - {name: s0, group: g0, scenario: %s, measured: {serve.throughput_tokens_per_s: "
            "%.17g%s}}\n",
            SRV(FIT_STACK), thr, bogus ? ", serve.mean_running: 1" : "");
    fclose(f);
    sl_fit_set set;
    load_set(path, &set);
    sl_stack_fit fit;
    assert_int_equal(stack_fit(&set, "vllm-fit", NULL, &fit, &err), SL_OK);
    eff[bogus] = fit.after[0], mae[bogus] = fit.mae_after;
    val_fit_free(&set);
  }
  print_message("fitted efficiency %.4f, %.4f with the bogus running batch (truth 0.8); error %.2e, %.2e\n",
                eff[0], eff[1], mae[0], mae[1]);
  assert_true(fabs(eff[0] - 0.8) < 5e-3);
  assert_true(eff[1] == eff[0]);
  assert_true(mae[1] < 1e-3);
  sl_validation v;
  val_init(&v);
  const char *paths[1] = {path};
  assert_int_equal(val_run_files(&v, paths, 1, NULL, &err), SL_OK);
  size_t fails = 0;
  for (size_t i = 0; i < v.n; i++)
    fails += strcmp(v.entries[i].metric, "serve.mean_running") == 0 && v.entries[i].status == SL_VAL_FAIL;
  assert_int_equal(fails, 1);
  val_free(&v);
  unlink(path);
  rmdir(sdir);
#undef SRV
#undef FIT_STACK
}

/* The cases are written once, into a temporary folder, for both tests. */
static char dir[] = "/tmp/silica-stackfit-XXXXXX", cases[300];

static int setup(void **state) {
  if (!mkdtemp(dir)) return -1;
  snprintf(cases, sizeof cases, "%s/cases.yaml", dir);
  write_cases(cases);
  *state = cases;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  unlink(cases);
  rmdir(dir);
  return 0;
}

/* The interval's peers for a scenario with mixture-of-experts layers (interval.c): the task's MoE
 * cases first when there are enough of them, else the usual tiers, with the number of MoE cases
 * among the peers; rows say `moe: true`, and a non-boolean is an error naming the key. */
static void test_interval_moe_peers(void **state) {
  (void)state;
  char text[2048] = "{residuals: [";
  for (int i = 0; i < 10; i++) {
    char row[200];
    snprintf(
        row, sizeof row,
        "%s{case: c%d, group: g%d, task: train, stack: megatron-2024, chip: h100-sxm, metric: step_time_s,"
        " r: %g%s}",
        i ? ", " : "", i, i, i < 5 ? 0.01 * i : 0.5 + 0.1 * (i - 5), i < 5 ? "" : ", moe: true");
    strcat(text, row);
  }
  strcat(text, "]}");
  arena a;
  ar_init(&a);
  sl_resid_table t;
  sl_error err;
  assert_int_equal(resid_table_parse(&a, text, "<residuals>", &t, &err), SL_OK);
  assert_int_equal(t.rows[4].moe, 0);
  assert_int_equal(t.rows[5].moe, 1);
  double q10, q90;
  size_t peers, moe;
  /* an MoE scenario: the five MoE cases (r 0.5 .. 0.9) */
  assert_int_equal(
      resid_interval(&t, "train", "megatron-2024", "h100-sxm", 1, NULL, 5, 1, &q10, &q90, &peers, &moe), 1);
  assert_true(peers == 5 && moe == 5);
  assert_true(fabs(q10 - 0.54) < 1e-12 && fabs(q90 - 0.86) < 1e-12);
  /* a dense one: all ten of the task, stack and chip, five of them MoE */
  assert_int_equal(
      resid_interval(&t, "train", "megatron-2024", "h100-sxm", 0, NULL, 5, 1, &q10, &q90, &peers, &moe), 1);
  assert_true(peers == 10 && moe == 5);
  /* too few MoE cases without group g9 and g8: the usual tier, with the MoE ones counted */
  assert_int_equal(
      resid_interval(&t, "train", "megatron-2024", "h100-sxm", 1, "g9", 5, 1, &q10, &q90, &peers, &moe), 1);
  assert_true(peers == 9 && moe == 4);
  ar_free(&a);
  ar_init(&a);
  const char *bad =
      "{residuals: [{case: c, group: g, task: train, stack: s, chip: c, metric: step_time_s, r: 0,"
      " moe: 3}]}";
  assert_int_not_equal(resid_table_parse(&a, bad, "<residuals>", &t, &err), SL_OK);
  assert_non_null(strstr(err.key, "moe"));
  ar_free(&a);
}

/* The board-power residuals silica ships (data/validation/power-residuals.yaml, written by
 * scripts/power-record): every row a power residual, and the widening the script wrote is the one
 * resid_fit_widen finds on its rows, so that 80% of them fall inside the interval their peers in the
 * other sources give. */
static void test_power_residuals_shipped(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_resid_table *t = NULL;
  sl_error err;
  assert_int_equal(power_resid_load(&a, &t, &err), SL_OK);
  assert_non_null(t);
  assert_true(t->n >= 100);
  for (size_t i = 0; i < t->n; i++)
    assert_string_equal(t->rows[i].metric, "energy.avg_power_w_per_chip");
  sl_resid_table u = *t; /* the same rows, its factors refitted */
  size_t n = 0, plain = 0, in = 0;
  assert_int_equal(resid_fit_widen(&u, &n, &plain), 0);
  assert_true(fabs(u.widen - t->widen) < 1e-9);
  for (int k = 0; k < SL_TASK_COUNT; k++)
    assert_true(fabs(u.task_widen[k] - t->task_widen[k]) < 1e-9);
  /* the overall factor covers 80% of every row (each task's own factor, 80% of the task's rows) */
  assert_int_equal(resid_coverage(t, NULL, t->widen, &n, &in), 0);
  assert_true(n >= 100 && (double)in >= 0.8 * (double)n);
  /* the energy residuals' (scripts/power-record too) and the time residuals' (validate
   * --cross-validate) come back the same way */
  assert_int_equal(energy_resid_load(&a, &t, &err), SL_OK);
  assert_non_null(t);
  assert_true(t->n >= 100);
  u = *t;
  assert_int_equal(resid_fit_widen(&u, &n, &plain), 0);
  assert_true(fabs(u.widen - t->widen) < 1e-9);
  for (int k = 0; k < SL_TASK_COUNT; k++)
    assert_true(fabs(u.task_widen[k] - t->task_widen[k]) < 1e-9);
  assert_int_equal(resid_coverage(t, NULL, t->widen, &n, &in), 0);
  assert_true((double)in >= 0.8 * (double)n);
  assert_int_equal(resid_load(&a, &t, &err), SL_OK);
  assert_non_null(t);
  u = *t;
  assert_int_equal(resid_fit_widen(&u, &n, &plain), 0);
  assert_true(fabs(u.widen - t->widen) < 1e-9);
  for (int k = 0; k < SL_TASK_COUNT; k++)
    assert_true(fabs(u.task_widen[k] - t->task_widen[k]) < 1e-9);
  ar_free(&a);
}

/* A run's power interval is its peers' percentiles around its own power (interval.c), clipped to the
 * chip's idle power and TDP: a decode step on one H100 (no decode rows: every row is a peer), and a
 * dense 70B training step held at the TDP, whose interval would reach past it. */
static void test_power_interval(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, stack: vllm-async, model: llama3.1-8b, precision: bf16, task: decode, "
                         "infer: {batch: 64, prompt_len: 1024}}");
  sl_result *r = run(sc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip");
  double lo = sl_result_number(r, "energy.avg_power_lo_w_per_chip"),
         hi = sl_result_number(r, "energy.avg_power_hi_w_per_chip");
  double q10, q90;
  size_t peers;
  const sl_resid_table *t = sc->power_resid;
  assert_non_null(t);
  assert_int_equal(resid_interval(t, "decode", "vllm-async", "h100-sxm", 0, NULL, SL_INTERVAL_MIN_PEERS,
                                  resid_widen(t, "decode"), &q10, &q90, &peers, NULL),
                   1);
  assert_int_equal(peers, t->n);
  assert_rel(lo, fmax(p * exp(-q90), sc->chip.energy.static_w), 1e-12, "low end");
  assert_rel(hi, fmin(p * exp(-q10), sc->chip.tdp_w), 1e-12, "high end");
  assert_rel(sl_result_number(r, "energy.power_interval_cases"), (double)t->n, 0, "cases");
  size_t own = 0;
  for (size_t i = 0; i < t->n; i++)
    own += strcmp(t->rows[i].chip, "h100-sxm") == 0;
  assert_true(own > 0);
  assert_rel(sl_result_number(r, "energy.power_interval_chip_cases"), (double)own, 0, "cases of the chip");
  assert_true(lo < p && p < hi);
  /* the energy of a token: its peers in the energy residuals, not clipped */
  double j = sl_result_number(r, "energy.j_per_token");
  const sl_resid_table *et = sc->energy_resid;
  assert_non_null(et);
  assert_int_equal(resid_interval(et, "decode", "vllm-async", "h100-sxm", 0, NULL, SL_INTERVAL_MIN_PEERS,
                                  resid_widen(et, "decode"), &q10, &q90, &peers, NULL),
                   1);
  assert_rel(sl_result_number(r, "energy.j_per_token_lo"), j * exp(-q90), 1e-12, "J per token, low end");
  assert_rel(sl_result_number(r, "energy.j_per_token_hi"), j * exp(-q10), 1e-12, "J per token, high end");
  assert_true(isnan(sl_result_number(r, "energy.j_per_sample_lo")));
  sl_result_free(r);
  sl_scenario_free(sc);

  sc = load("{chip: h100-sxm, system: {chips: 64, node_chips: 8}, model: llama3.1-70b, precision: bf16, task: train, "
            "train: {seq_len: 8192, global_batch: 128, micro_batch: 1}, parallel: {dp: 2, tp: 4, pp: 4, cp: 2, sp: "
            "true, zero: 1, vpp: 20}}");
  r = run(sc);
  p = sl_result_number(r, "energy.avg_power_w_per_chip");
  assert_true(sl_result_number(r, "energy.clock_ratio") < 1); /* the cap binds */
  assert_int_equal(resid_interval(sc->power_resid, "train", sc->stack.name, "h100-sxm", 0, NULL,
                                  SL_INTERVAL_MIN_PEERS, resid_widen(sc->power_resid, "train"), &q10, &q90, &peers,
                                  NULL),
                   1);
  assert_true(p * exp(-q10) > sc->chip.tdp_w); /* the unclipped end is past the limit */
  assert_rel(sl_result_number(r, "energy.avg_power_hi_w_per_chip"), sc->chip.tdp_w, 0, "clipped at the TDP");
  /* The step time's interval is widened by the training factor, the one its coverage was judged at
   * (residuals.yaml widen_by_task), not the table's overall one. */
  const sl_resid_table *rt = sc->resid;
  assert_non_null(rt);
  double w = resid_widen(rt, "train");
  assert_true(fabs(w - rt->widen) > 0.01);
  assert_int_equal(resid_interval(rt, "train", sc->stack.name, "h100-sxm", 0, NULL, SL_INTERVAL_MIN_PEERS, w, &q10,
                                  &q90, &peers, NULL),
                   1);
  double st = sl_result_number(r, "step_time_s");
  assert_rel(sl_result_number(r, "interval.lo"), st * exp(-q90), 1e-12, "step time interval, low end");
  assert_rel(sl_result_number(r, "interval.hi"), st * exp(-q10), 1e-12, "step time interval, high end");
  sl_result_free(r);
  sl_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recovers_known_figures),
      cmocka_unit_test(test_cross_validation),
      cmocka_unit_test(test_fit_group),
      cmocka_unit_test(test_prior_without_fitted_efficiency),
      cmocka_unit_test(test_prior_fixed_point),
      cmocka_unit_test(test_flat_valley),
      cmocka_unit_test(test_interval_moe_peers),
      cmocka_unit_test(test_state_not_fitted),
      cmocka_unit_test(test_power_residuals_shipped),
      cmocka_unit_test(test_power_interval),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
