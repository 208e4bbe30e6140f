/* test_faults.c — fault injection.  Persistent: every allocation of loading and running a
 * scenario (and of validation) is made to fail in turn, with all later ones failing too; each run
 * must end in an error status, never a crash, and leak nothing (the sanitizer build runs
 * LeakSanitizer over this test).  One-shot: only the n-th allocation fails, for every n up to the
 * allocations of the fault-free run; each run must return an out-of-memory error or succeed with
 * output byte-identical to the fault-free run's, so no failure is swallowed. */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dse/dse.h"
#include "numerics/numerics.h"
#include "report/report.h"

/* Loads and runs text once with the n-th allocation failing; returns 1 when it completed
 * without meeting the failure. */
static int once(const char *text, long n, long *failures) {
  sl_alloc_fail_after(n);
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &err);
  if (!s) s = sl_scenario_run(sc, &r, &err);
  char *j = NULL;
  if (!s) {
    j = sl_result_json(r);
    if (!j) s = SL_ERR_INTERNAL;
  }
  long used = sl_alloc_count();
  sl_alloc_fail_after(0);
  free(j);
  sl_result_free(r);
  sl_scenario_free(sc);
  if (s == SL_OK) return used < n; /* the failure point was never reached */
  if (s != SL_ERR_INTERNAL && s != SL_ERR_INPUT)
    fail_msg("allocation %ld: status %d (%s)", n, s, err.message);
  (*failures)++;
  return 0;
}

static void sweep(const char *text) {
  long failures = 0, n = 1;
  while (!once(text, n, &failures)) {
    n++;
    if (n > 200000) fail_msg("did not complete after %ld allocations", n);
  }
  print_message("%ld allocations, each failed in turn: %ld errors, 0 crashes\n", n - 1, failures);
  assert_true(failures > 0);
}

static void test_decode(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, model: llama3.2-1b, task: decode, infer: {batch: 2, prompt_len: 64}}");
}

static void test_train_search(void **state) {
  (void)state;
  sweep("{chip: a100-sxm-80gb, system: {chips: 16, node_chips: 8}, model: llama3.2-1b, task: train,"
        " train: {seq_len: 512, global_batch: 32, micro_batch: auto}, parallel: {tp: auto, pp: auto}}");
}

static void test_serve(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, model: llama3.2-1b, task: serve, serve: {arrival_rate_per_s: 10, requests: 20,"
        " prompt_len: 64, gen_len: 4}}");
}

static void test_collective_and_op(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, system: dgx-h100, task: infer, model: {op: all_reduce, bytes: 1048576}}");
  sweep("{chip: mi300x, stack: pytorch-eager, task: infer, model: {op: attention, batch: 1, seq_len: 128,"
        " heads: 4, head_dim: 64}}");
}

static void test_validation(void **state) {
  (void)state;
  long n = 1, failures = 0;
  for (;; n++) {
    sl_validation v;
    val_init(&v);
    sl_error err;
    sl_alloc_fail_after(n);
    sl_status s = val_run_file(&v, SILICA_SOURCE_DIR "/fuzz/corpus/cases/small.yaml", NULL, &err);
    if (!s) val_summarise(&v);
    char *j = s ? NULL : val_json(&v);
    long used = sl_alloc_count();
    sl_alloc_fail_after(0);
    if (!s && !j) s = SL_ERR_INTERNAL;
    free(j);
    val_free(&v);
    if (!s && used < n && v.internal_errors == 0) break;
    if (s || v.internal_errors) failures++;
    if (n > 200000) fail_msg("validation did not complete");
  }
  print_message("validation: %ld allocations failed in turn, %ld errors\n", n - 1, failures);
}

/* ---- one-shot injection ---- */

/* A job loads and runs something and writes its output into *out (malloc'd); a status other than
 * SL_OK leaves *out NULL. */
typedef sl_status (*job_fn)(const void *arg, char **out, sl_error *err);

static sl_status scenario_job(const void *arg, char **out, sl_error *err) {
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  *out = NULL;
  sl_status s = sl_scenario_load(NULL, (const char *)arg, NULL, 0, &sc, err);
  if (!s) s = sl_scenario_run(sc, &r, err);
  if (!s && !(*out = sl_result_json(r)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (result JSON)");
  sl_result_free(r);
  sl_scenario_free(sc);
  return s;
}

static void put_ref(char *buf, size_t n, size_t *l, const dse_ref *r) {
  *l += (size_t)snprintf(buf + *l, n - *l, "%s %d %s %.17g %.17g %.17g", r->chip ? r->chip : "-", r->feasible,
                         r->reason, r->area_mm2, r->tdp_w, r->unit_cost_usd);
  for (int k = 0; k < DSE_O_COUNT; k++)
    *l += (size_t)snprintf(buf + *l, n - *l, " %.17g", r->obj[k]);
  *l += (size_t)snprintf(buf + *l, n - *l, "\n");
}

/* Loads the sweep file, evaluates its last design point; the output is the sweep's hash (what a
 * resumed sweep checks), the base and reference chips' figures and every field of the point's row. */
static sl_status sweep_point_job(const void *arg, char **out, sl_error *err) {
  dse_sweep *sw = NULL;
  *out = NULL;
  sl_status s = dse_sweep_load((const char *)arg, NULL, &sw, err);
  if (s) return s;
  dse_worker wk;
  dse_worker_init(&wk, sw);
  dse_point p;
  memset(&p, 0, sizeof p);
  p.idx = 3;
  for (int i = 0; i < sw->n_params; i++)
    p.vi[i] = sw->params[i].n - 1;
  s = dse_eval(&wk, &p);
  if (s) *err = wk.err;
  dse_worker_free(&wk);
  char buf[8192];
  size_t l = (size_t)snprintf(buf, sizeof buf, "sha256 %s\n", sw->sha256);
  put_ref(buf, sizeof buf, &l, &sw->base);
  for (int i = 0; i < sw->n_refs; i++)
    put_ref(buf, sizeof buf, &l, &sw->refs[i]);
  for (int i = 0; i < sw->n_w; i++)
    l += (size_t)snprintf(buf + l, sizeof buf - l, "w%d %.17g %.17g %.17g\n", i, sw->w[i].base[0],
                          sw->w[i].base[1], sw->w[i].base[2]);
  l +=
      (size_t)snprintf(buf + l, sizeof buf - l, "point %ld %d %s %.17g %.17g %.17g %.17g %.17g", p.idx,
                       p.feasible, p.reason, p.area_mm2, p.tdp_w, p.unit_cost_usd, p.power_w, p.usd_per_hour);
  for (int k = 0; k < DSE_O_COUNT; k++)
    l += (size_t)snprintf(buf + l, sizeof buf - l, " %.17g", p.obj[k]);
  for (int i = 0; i < sw->n_w; i++)
    l +=
        (size_t)snprintf(buf + l, sizeof buf - l, " [%.17g %.17g %.17g]", p.wl[i][0], p.wl[i][1], p.wl[i][2]);
  dse_sweep_free(sw);
  assert_true(l < sizeof buf - 1);
  if (!s && !(*out = strdup(buf))) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (row)");
  return s;
}

/* Runs a validation file through the public call; the output is its JSON. */
static sl_status validation_job(const void *arg, char **out, sl_error *err) {
  const char *path = arg;
  return sl_validate_json(&path, 1, NULL, out, err);
}

extern const int sl_web_complete;

/* The HTML report of a run's JSON (arg). */
static sl_status report_job(const void *arg, char **out, sl_error *err) {
  const char *json = arg;
  return sl_report_html(json, strlen(json), "faults", out, err);
}

static void put_doubles(char *buf, size_t n, size_t *l, const char *name, const double *v, size_t k) {
  *l += (size_t)snprintf(buf + *l, n - *l, "%s", name);
  for (size_t i = 0; i < k && *l < n; i++)
    *l += (size_t)snprintf(buf + *l, n - *l, " %.17g", v[i]);
  if (*l < n) *l += (size_t)snprintf(buf + *l, n - *l, "\n");
}

/* Loads and runs a numerics experiment (text); the output is every figure of its outcome but the
 * host time. */
static sl_status numerics_job(const void *arg, char **out, sl_error *err) {
  arena a;
  ar_init(&a);
  nm_experiment ex;
  nm_outcome o;
  *out = NULL;
  sl_status s = nm_experiment_load_text(&a, NULL, (const char *)arg, &ex, err);
  if (!s) s = nm_experiment_run(&a, &ex, &o, err);
  if (!s) {
    char buf[16384];
    size_t l = (size_t)snprintf(buf, sizeof buf, "corpus %s %d %zu params %zu chip %d %.17g %.17g %s\n",
                                o.corpus_used, o.corpus_builtin, o.corpus_bytes, o.params, o.have_chip,
                                o.chip_step_s, o.chip_energy_j, o.chip_note);
    put_doubles(buf, sizeof buf, &l, "loss", o.loss, (size_t)ex.n_runs * (size_t)ex.steps);
    put_doubles(buf, sizeof buf, &l, "final", o.final_loss, (size_t)ex.n_runs);
    put_doubles(buf, sizeof buf, &l, "eval", o.eval_loss, (size_t)ex.n_runs * (size_t)o.n_eval);
    put_doubles(buf, sizeof buf, &l, "fixed", o.fixed_loss_fmt, (size_t)ex.n_runs);
    put_doubles(buf, sizeof buf, &l, "fixed32", o.fixed_loss_fp32, (size_t)ex.n_runs);
    put_doubles(buf, sizeof buf, &l, "graderr", o.fixed_grad_err, (size_t)ex.n_runs);
    put_doubles(buf, sizeof buf, &l, "noise", o.noise_eval, (size_t)o.n_noise);
    assert_true(l < sizeof buf - 1);
    if (!(*out = strdup(buf))) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (outcome)");
  }
  ar_free(&a);
  return s;
}

/* Loads a validation file's cases onto one chip and fits that chip's figures to them; the output is
 * the chip-spec fragment that silica calibrate writes (it holds every fitted figure and the MAPEs). */
static sl_status calibration_job(const void *arg, char **out, sl_error *err) {
  const char *path = arg;
  arena a;
  ar_init(&a);
  sl_cal_case *cs = NULL;
  size_t n = 0;
  *out = NULL;
  sl_status s = val_load_cases(path, "a100-sxm-80gb", &a, &cs, &n, err);
  sl_calibration cal;
  if (!s) s = calibrate_fit(cs, n, NULL, &cal, err);
  if (!s && !(*out = calibrate_fragment(&cal, "a100-sxm-80gb", &path, 1)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (fragment)");
  for (size_t i = 0; cs && i < n; i++)
    sl_scenario_free(cs[i].sc);
  ar_free(&a);
  return s;
}

/* Runs the whole sweep file into a new database (one thread, batches of 2 points) and reads its
 * report; the output is every row of the points table and the report's text. */
static sl_status sweep_run_job(const void *arg, char **out, sl_error *err) {
  char dir[] = "/tmp/silica-faults-XXXXXX", db_path[64];
  *out = NULL;
  if (!mkdtemp(dir)) return err_set(err, SL_ERR_INPUT, "", 0, "", "mkdtemp failed");
  snprintf(db_path, sizeof db_path, "%s/sweep.sqlite", dir);
  dse_sweep *sw = NULL;
  sl_status s = dse_sweep_load((const char *)arg, NULL, &sw, err);
  dse_run_opts o;
  memset(&o, 0, sizeof o);
  o.db_path = db_path, o.jobs = 1, o.batch_points = 2, o.keep_results = 1;
  dse_run_stats st;
  memset(&st, 0, sizeof st);
  if (!s) s = dse_run(sw, &o, &st, err);
  char *report = NULL;
  if (!s) s = dse_report_with(db_path, st.results, st.total, 0, &report, err);
  free(st.results);
  dse_sweep_free(sw);
  if (!s) {
    char buf[16384];
    size_t l = (size_t)snprintf(buf, sizeof buf, "%s", report);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM points ORDER BY idx", -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW && l < sizeof buf)
      for (int c = 0; c < sqlite3_column_count(q) && l < sizeof buf; c++) {
        const char *t = (const char *)sqlite3_column_text(q, c);
        l += (size_t)snprintf(buf + l, sizeof buf - l, "%s%c", t ? t : "NULL",
                              c + 1 == sqlite3_column_count(q) ? '\n' : '|');
      }
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_true(l < sizeof buf - 1);
    if (!(*out = strdup(buf))) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (rows)");
  }
  free(report);
  unlink(db_path);
  rmdir(dir);
  return s;
}

/* A residual table of five decode cases on h100-sxm with trtllm, enough peers for an interval. */
static const char RESIDUALS[] =
    "{residuals: ["
    "{case: a, group: g1, task: decode, stack: trtllm, chip: h100-sxm, metric: step_time_s, r: 0.1},"
    "{case: b, group: g1, task: decode, stack: trtllm, chip: h100-sxm, metric: step_time_s, r: -0.2},"
    "{case: c, group: g2, task: decode, stack: trtllm, chip: h100-sxm, metric: step_time_s, r: 0.05},"
    "{case: d, group: g2, task: decode, stack: trtllm, chip: h100-sxm, metric: step_time_s, r: 0.3},"
    "{case: e, group: g3, task: decode, stack: trtllm, chip: h100-sxm, metric: step_time_s, r: -0.1}]}";

/* Loads a decode scenario, gives it the residual table above and runs it: the result JSON carries
 * the interval. */
static sl_status interval_job(const void *arg, char **out, sl_error *err) {
  (void)arg;
  arena a;
  ar_init(&a);
  sl_resid_table t;
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  *out = NULL;
  sl_status s = resid_table_parse(&a, RESIDUALS, "<residuals>", &t, err);
  if (!s)
    s = sl_scenario_load(
        NULL, "{chip: h100-sxm, model: llama3.2-1b, task: decode, infer: {batch: 2, prompt_len: 64}}", NULL,
        0, &sc, err);
  if (!s) {
    sc->resid = &t;
    s = sl_scenario_run(sc, &r, err);
  }
  if (!s && !(*out = sl_result_json(r)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (result JSON)");
  sl_result_free(r);
  sl_scenario_free(sc);
  ar_free(&a);
  return s;
}

/* Runs job once fault-free, then once per allocation n of that run with only the n-th failing
 * (past the first `all` allocations only `tail` of them, evenly spread, and the last: for runs of
 * thousands of allocations that repeat one pattern).  Each faulty run must end in SL_ERR_INTERNAL
 * "out of memory ..." or succeed with the fault-free output; prints how many allocations there
 * were and how each failure ended. */
static void one_shot_pass(const char *name, job_fn job, const void *arg, long all, long tail) {
  sl_error err;
  char *ref = NULL;
  sl_alloc_fail_once(0);
  sl_status s = job(arg, &ref, &err);
  long total = sl_alloc_count();
  if (s) fail_msg("%s: the fault-free run failed: %s", name, err.message);
  long errors = 0, absorbed = 0, tried = 0;
  long stride = total > all && tail > 0 ? (total - all + tail - 1) / tail : 1;
  for (long n = 1; n <= total; n = n < all ? n + 1 : n < total && n + stride > total ? total : n + stride) {
    char *out = NULL;
    memset(&err, 0, sizeof err);
    sl_alloc_fail_once(n);
    s = job(arg, &out, &err);
    long used = sl_alloc_count();
    sl_alloc_fail_once(0);
    tried++;
    if (used < n)
      fail_msg("%s: allocation %ld of %ld never happened (the run made %ld)", name, n, total, used);
    if (s == SL_OK) {
      if (strcmp(out, ref) != 0)
        fail_msg("%s: allocation %ld of %ld failed, the run succeeded with different output", name, n, total);
      absorbed++;
    } else {
      if (out) fail_msg("%s: allocation %ld: an error with output", name, n);
      if (s != SL_ERR_INTERNAL || !strstr(err.message, "out of memory"))
        fail_msg("%s: allocation %ld of %ld: status %d \"%s\", not an out-of-memory error", name, n, total, s,
                 err.message);
      errors++;
    }
    free(out);
  }
  free(ref);
  print_message(
      "one-shot %s: %ld allocations, %ld of them failed in turn: %ld surfaced as errors, %ld absorbed "
      "with identical output\n",
      name, total, tried, errors, absorbed);
  assert_int_equal(errors + absorbed, tried);
}

/* Twice: counting the heap allocations (sl_malloc and friends), every n (or as `all` and `tail`
 * say); then every ar_alloc as well, which turns tens of allocations into hundreds or thousands:
 * each of the first 500 is failed, then 300 more (kept short for the sanitizer tier). */
static void one_shot_every(const char *name, job_fn job, const void *arg, long all, long tail) {
  one_shot_pass(name, job, arg, all, tail);
  char with[128];
  snprintf(with, sizeof with, "%s, arena allocations too", name);
  sl_alloc_hook_arenas(1);
  one_shot_pass(with, job, arg, all < 500 ? all : 500, tail > 0 && tail < 300 ? tail : 300);
  sl_alloc_hook_arenas(0);
}

static void one_shot(const char *name, job_fn job, const void *arg) {
  one_shot_every(name, job, arg, LONG_MAX, 0);
}

static void test_one_shot_decode(void **state) {
  (void)state;
  one_shot("decode", scenario_job,
           "{chip: h100-sxm, model: llama3.2-1b, task: decode, infer: {batch: 2, prompt_len: 64}}");
}

static void test_one_shot_train_search(void **state) {
  (void)state;
  one_shot("train plan search", scenario_job,
           "{chip: a100-sxm-80gb, system: {chips: 16, node_chips: 8}, model: llama3.2-1b, task: train,"
           " train: {seq_len: 512, global_batch: 32, micro_batch: auto}, parallel: {tp: auto, pp: auto}}");
}

static void test_one_shot_dlrm(void **state) {
  (void)state;
  one_shot("dlrm train", scenario_job,
           "{chip: h100-sxm, system: dgx-h100, model: dlrm-mlperf-dcnv2, task: train,"
           " train: {global_batch: 55296, optimizer: adagrad}}");
}

static void test_one_shot_serve(void **state) {
  (void)state;
  one_shot("serve", scenario_job,
           "{chip: h100-sxm, model: llama3.2-1b, task: serve, serve: {arrival_rate_per_s: 10, requests: 20,"
           " prompt_len: 64, gen_len: 4}}");
}

static void test_one_shot_sweep_point(void **state) {
  (void)state;
  one_shot("sweep point", sweep_point_job, SILICA_SOURCE_DIR "/tests/data/faults-sweep.yaml");
}

static void test_one_shot_sweep_run(void **state) {
  (void)state;
  one_shot("sweep run and report", sweep_run_job, SILICA_SOURCE_DIR "/tests/data/faults-sweep.yaml");
}

static void test_one_shot_interval(void **state) {
  (void)state;
  char *json = NULL;
  sl_error err;
  assert_int_equal(interval_job(NULL, &json, &err), SL_OK);
  assert_non_null(strstr(json, "\"interval\""));
  free(json);
  one_shot("decode with an interval", interval_job, NULL);
}

static void test_one_shot_validation(void **state) {
  (void)state;
  one_shot("validation", validation_job, SILICA_SOURCE_DIR "/fuzz/corpus/cases/small.yaml");
}

static void test_one_shot_calibration(void **state) {
  (void)state;
  one_shot("calibration", calibration_job, SILICA_SOURCE_DIR "/tests/data/calibrate-small.yaml");
}

static void test_one_shot_report(void **state) {
  (void)state;
  if (!sl_web_complete) skip();
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_load(NULL,
                       "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, model: llama3.2-1b, task: train,"
                       " train: {seq_len: 512, global_batch: 16}, parallel: {tp: 2}}",
                       NULL, 0, &sc, &err) ||
      sl_scenario_run(sc, &r, &err))
    fail_msg("%s", err.message);
  char *json = sl_result_json(r);
  assert_non_null(json);
  one_shot("report", report_job, json);
  free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_one_shot_numerics(void **state) {
  (void)state;
  /* training repeats one pattern of allocations every step: every allocation of the first 400
   * (loading, the first step, the first evaluation), then 400 more, and the last */
  one_shot_every(
      "numerics transformer", numerics_job,
      "{chip: h100-sxm, model: {dim: 16, layers: 1, heads: 2, kv_heads: 1, ffn: 32, seq: 16, tied: true},"
      " train: {steps: 3, batch: 2, seed: 1, lr: 3.0e-3, warmup_steps: 1, eval_every: 2,"
      " eval_sequences: 4, noise_seeds: 2},"
      " runs: [{name: fp32, format: fp32, accumulate: fp32}, {name: bf16, format: bf16, accumulate: fp32}]}",
      400, 400);
  one_shot_every(
      "numerics dlrm", numerics_job,
      "{chip: mtia-2i, model: {dlrm: {dense: 4, tables: 2, rows: 50, dim: 4, pooling: 2, bottom: 8, top: 8,"
      " zipf: 1.05}}, train: {steps: 3, batch: 8, seed: 1, lr: 3.0e-3, adagrad_lr: 0.05, warmup_steps: 1,"
      " eval_every: 2, eval_samples: 16, noise_seeds: 2},"
      " runs: [{name: fp32, format: fp32, accumulate: fp32}, {name: fp8, format: e4m3, accumulate: fp32}]}",
      400, 400);
}

/* The hook is per thread: a failure armed on this thread does not reach another thread's
 * allocations, and that thread's allocations do not move this thread's count. */
static void *alloc_on_thread(void *arg) {
  void *p = malloc(16);
  *(int *)arg = p != NULL && sl_alloc_count() == 1;
  free(p);
  return NULL;
}

static void test_hook_per_thread(void **state) {
  (void)state;
  sl_alloc_fail_after(1);
  int ok = 0;
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, alloc_on_thread, &ok), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(sl_alloc_count(), 0);
  void *p = malloc(16);
  sl_alloc_fail_after(0);
  assert_null(p);
  assert_true(ok);
  /* one-shot: the second allocation fails, the first and third do not */
  sl_alloc_fail_once(2);
  void *a = malloc(8), *b = malloc(8), *c = malloc(8);
  long used = sl_alloc_count();
  sl_alloc_fail_once(0);
  assert_non_null(a);
  assert_null(b);
  assert_non_null(c);
  assert_int_equal(used, 3);
  free(a);
  free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_decode),
                                     cmocka_unit_test(test_train_search),
                                     cmocka_unit_test(test_serve),
                                     cmocka_unit_test(test_collective_and_op),
                                     cmocka_unit_test(test_validation),
                                     cmocka_unit_test(test_hook_per_thread),
                                     cmocka_unit_test(test_one_shot_decode),
                                     cmocka_unit_test(test_one_shot_train_search),
                                     cmocka_unit_test(test_one_shot_dlrm),
                                     cmocka_unit_test(test_one_shot_serve),
                                     cmocka_unit_test(test_one_shot_sweep_point),
                                     cmocka_unit_test(test_one_shot_sweep_run),
                                     cmocka_unit_test(test_one_shot_interval),
                                     cmocka_unit_test(test_one_shot_validation),
                                     cmocka_unit_test(test_one_shot_calibration),
                                     cmocka_unit_test(test_one_shot_report),
                                     cmocka_unit_test(test_one_shot_numerics)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
