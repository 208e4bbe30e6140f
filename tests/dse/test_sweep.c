/* test_sweep.c — design-space exploration (src/dse/, docs/sweep.md): the Pareto front of a known
 * set; a sweep stopped after some batches (as if killed) and resumed loses no point and repeats
 * none; results do not depend on --jobs; grid, random and evolutionary are deterministic with a
 * seed; every feasible design meets the constraints; bad sweep files name file, line and key. */
#include <math.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dse/dse.h"

static char g_dir[64];

static const char *db_path(const char *name) {
  static char buf[4][160];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 160, "%s/%s.sqlite", g_dir, name);
  return p;
}

static const char BASE[] = "{name: t, chip: mtia-2i,\n"
                           " parameters: {cores: [32, 48, 64], clock_ghz: {min: 1.0, max: 1.6, steps: 4}, "
                           "dram_GBps: [204.8, 409.6],\n"
                           "              macs_per_cycle: [1024, 2048], tdp_w: [85, 150]},\n"
                           " constraints: {area_mm2: 450, tdp_w: 120, unit_cost_usd: 1100},\n"
                           " workloads: [{name: decode, weight: 2, scenario: {model: llama3.2-1b, task: "
                           "decode, infer: {batch: 4, prompt_len: 512}}},\n"
                           "             {name: prefill, weight: 1, scenario: {model: llama3.2-1b, task: "
                           "prefill, infer: {batch: 1, prompt_len: 512}}}],\n"
                           " objectives: [perf_per_tco, throughput],\n";

static dse_sweep *load(const char *strategy) {
  char text[4096];
  snprintf(text, sizeof text, "%s strategy: %s}\n", BASE, strategy);
  dse_sweep *sw = NULL;
  sl_error err;
  if (dse_sweep_load(NULL, text, &sw, &err)) fail_msg("%s", err.message);
  return sw;
}

static dse_run_stats run(const dse_sweep *sw, const char *db, int jobs, long batch, long stop) {
  dse_run_opts o;
  memset(&o, 0, sizeof o);
  o.db_path = db, o.jobs = jobs, o.batch_points = batch, o.stop_after_batches = stop;
  dse_run_stats st;
  sl_error err;
  if (dse_run(sw, &o, &st, &err)) fail_msg("%s", err.message);
  return st;
}

/* Every row of the points table as text, malloc'd. */
static char *dump(const char *db_file) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(db_file, &db), SQLITE_OK);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM points ORDER BY idx", -1, &q, NULL), SQLITE_OK);
  size_t cap = 1 << 16, len = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  s[0] = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(q); c++) {
      const char *t = (const char *)sqlite3_column_text(q, c);
      size_t l = strlen(t ? t : "NULL") + 2;
      if (len + l + 1 > cap) {
        cap = (len + l + 1) * 2;
        s = realloc(s, cap);
        assert_non_null(s);
      }
      len += (size_t)snprintf(s + len, cap - len, "%s%c", t ? t : "NULL",
                              c + 1 == sqlite3_column_count(q) ? '\n' : '|');
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return s;
}

static long count(const char *db_file, const char *where) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(db_file, &db), SQLITE_OK);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM points WHERE %s", where);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  long n = (long)sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

static void test_pareto_known_set(void **state) {
  (void)state;
  /* (1,5) (2,4) (3,3) are on the front with (0,6); (2,2) (3,1) (1,4) are dominated; (3,3) twice: both kept */
  const double v[] = {1, 5, 2, 4, 3, 3, 2, 2, 0, 6, 3, 1, 1, 4, 3, 3};
  size_t front[8];
  size_t m = dse_pareto(v, 8, 2, front);
  assert_int_equal(m, 5);
  const size_t want[] = {2, 7, 1, 0, 4};
  for (size_t i = 0; i < m; i++)
    assert_int_equal(front[i], want[i]);
  /* one objective: the maximum (and its ties) */
  const double w[] = {1, 7, 3, 7};
  assert_int_equal(dse_pareto(w, 4, 1, front), 2);
  assert_int_equal(front[0], 1);
  assert_int_equal(front[1], 3);
}

/* Random sets against the O(n^2) definition: coarse values (many ties and duplicates) and fine
 * ones, 1 to 4 objectives; the front as a set, in decreasing order of the first objective. */
static void test_pareto_random_brute_force(void **state) {
  (void)state;
  enum { N = 1500 };
  static double v[N * 4];
  static size_t front[N];
  static char on[N];
  uint64_t x = 12345;
  for (int trial = 0; trial < 16; trial++) {
    int k = 1 + trial % 4, coarse = trial & 4;
    size_t n = (size_t)(trial < 8 ? N : 37 + trial);
    for (size_t i = 0; i < n * (size_t)k; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      v[i] = coarse ? (double)(x % 7) : (double)(x >> 11) * 0x1p-53;
    }
    size_t m = dse_pareto(v, n, k, front), want = 0;
    for (size_t i = 0; i < n; i++) {
      on[i] = 1;
      for (size_t j = 0; j < n && on[i]; j++) {
        int ge = 1, gt = 0;
        for (int c = 0; c < k; c++) {
          if (v[j * (size_t)k + (size_t)c] < v[i * (size_t)k + (size_t)c]) ge = 0;
          if (v[j * (size_t)k + (size_t)c] > v[i * (size_t)k + (size_t)c]) gt = 1;
        }
        if (ge && gt) on[i] = 0;
      }
      want += on[i];
    }
    assert_int_equal(m, want);
    for (size_t i = 0; i < m; i++) {
      assert_true(on[front[i]]);
      if (i) assert_true(v[front[i] * (size_t)k] <= v[front[i - 1] * (size_t)k]);
    }
  }
}

static void check_resume(const char *strategy, const char *name) {
  dse_sweep *sw = load(strategy);
  char a[160], b[200];
  snprintf(a, sizeof a, "%s", db_path(name));
  snprintf(b, sizeof b, "%s-crash", a);
  dse_run_stats full = run(sw, a, 1, 7, 0);
  assert_int_equal(full.total, (long)sw->total);
  /* stop after 3 batches as if killed, then resume (with another batch size and 3 threads) */
  dse_run_stats part = run(sw, b, 1, 7, 3);
  assert_true(part.stopped);
  assert_true(part.total >= 15 && part.total <= 21); /* batches end at a generation's end too */
  dse_run_stats rest = run(sw, b, 3, 5, 0);
  assert_int_equal(rest.resumed, part.total);
  assert_int_equal(rest.evaluated, (long)sw->total - part.total);
  /* a third run finds everything done and evaluates nothing */
  dse_run_stats again = run(sw, b, 1, 0, 0);
  assert_int_equal(again.evaluated, 0);
  char *da = dump(a), *db = dump(b);
  assert_string_equal(da, db);
  free(da);
  free(db);
  dse_sweep_free(sw);
}

static void test_resume_grid(void **state) {
  (void)state;
  check_resume("grid", "grid");
}

static void test_resume_evolutionary(void **state) {
  (void)state;
  check_resume("{kind: evolutionary, seed: 3, population: 12, generations: 5}", "evo");
}

static void test_jobs_and_seeds_deterministic(void **state) {
  (void)state;
  const char *strategies[] = {"grid", "{kind: random, seed: 7, count: 60}",
                              "{kind: evolutionary, seed: 7, population: 10, generations: 4}"};
  for (size_t i = 0; i < 3; i++) {
    dse_sweep *sw = load(strategies[i]);
    char a[200], b[200];
    snprintf(a, sizeof a, "%s-%zu-1", db_path("det"), i);
    snprintf(b, sizeof b, "%s-%zu-4", db_path("det"), i);
    run(sw, a, 1, 0, 0);
    run(sw, b, 4, 0, 0);
    char *da = dump(a), *db = dump(b);
    assert_string_equal(da, db);
    free(da);
    free(db);
    dse_sweep_free(sw);
  }
  /* another seed gives other points */
  dse_sweep *s2 = load("{kind: random, seed: 8, count: 60}");
  run(s2, db_path("seed8"), 1, 0, 0);
  char a1[200];
  snprintf(a1, sizeof a1, "%s-1-1", db_path("det"));
  char *d1 = dump(a1), *d2 = dump(db_path("seed8"));
  assert_string_not_equal(d1, d2);
  free(d1);
  free(d2);
  dse_sweep_free(s2);
}

static void test_constraints_met(void **state) {
  (void)state;
  dse_sweep *sw = load("grid");
  const char *db = db_path("cons");
  run(sw, db, 2, 0, 0);
  long feasible = count(db, "feasible = 1"), infeasible = count(db, "feasible = 0");
  assert_true(feasible > 0);
  assert_true(infeasible > 0); /* the grid has points over each limit */
  assert_int_equal(count(db, "feasible = 1 AND (area_mm2 > 450 OR tdp_w > 120 OR unit_cost_usd > 1100)"), 0);
  assert_int_equal(count(db, "feasible = 0 AND (reason IS NULL OR reason = '')"), 0);
  assert_true(count(db, "feasible = 0 AND reason LIKE 'TDP%'") > 0);
  /* the report lists only feasible designs: each row of its front meets the constraints */
  char *text = NULL;
  sl_error err;
  assert_int_equal(dse_report(db, 0, &text, &err), SL_OK);
  assert_non_null(strstr(text, "Pareto front"));
  assert_non_null(strstr(text, "best perf_per_tco"));
  free(text);
  dse_sweep_free(sw);
}

static void test_bad_files(void **state) {
  (void)state;
  static const struct {
    const char *text, *key;
    int line;
  } cases[] = {
      {"chip: mtia-2i\nparameters:\n  cores: [8]\n  wheels: [4]\nworkloads: []\n", "parameters.wheels", 4},
      {"chip: mtia-2i\nparameters:\n  cores: {min: 8, max: 4, steps: 2}\n", "parameters.cores", 3},
      {"chip: mtia-2i\nparameters: {cores: [8]}\nstrategy: {kind: random, seed: 1}\n", "strategy.count", 3},
      {"chip: mtia-2i\nparameters: {cores: [8]}\nobjectives: [speed]\n", "objectives[0]", 3},
      {"chip: mtia-2i\nparameters: {cores: [8]}\nworkloads:\n  - {scenario: {model: llama3.2-1b, task: "
       "decode, "
       "infer: {batch: 1, prompt_len: 64}, colour: red}}\n",
       "workloads[0].scenario.colour", 4},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    dse_sweep *sw = NULL;
    sl_error err;
    sl_status s = dse_sweep_load(NULL, cases[i].text, &sw, &err);
    assert_int_equal(s, SL_ERR_INPUT);
    assert_null(sw);
    if (strcmp(err.key, cases[i].key) != 0 || err.line != cases[i].line)
      fail_msg("case %zu: got %s:%d: %s: %s", i, err.file, err.line, err.key, err.message);
  }
}

/* infer.batch: max is resolved per design point, for that point's memory: an H100 with 40 GiB
 * still runs Llama-3.1-8B decode at a smaller batch, and 160 GiB holds a larger batch (higher
 * throughput) than 80 GiB. */
static void test_batch_max_per_point(void **state) {
  (void)state;
  static const char text[] =
      "{name: mem, chip: h100-sxm, parameters: {dram_bytes: [42949672960, 85899345920, 171798691840]},\n"
      " workloads: [{name: decode, scenario: {model: llama3.1-8b, task: decode,"
      " infer: {batch: max, prompt_len: 4096}}}],\n"
      " objectives: [throughput], strategy: grid}\n";
  dse_sweep *sw = NULL;
  sl_error err;
  if (dse_sweep_load(NULL, text, &sw, &err)) fail_msg("%s", err.message);
  dse_worker wk;
  dse_worker_init(&wk, sw);
  dse_point p[3];
  for (int i = 0; i < 3; i++) {
    memset(&p[i], 0, sizeof p[i]);
    p[i].idx = i, p[i].vi[0] = i;
    assert_int_equal(dse_eval(&wk, &p[i]), SL_OK);
    print_message("dram %d GiB: feasible %d, %.0f tokens/s %s\n", 40 << i, p[i].feasible, p[i].wl[0][0],
                  p[i].reason);
    assert_true(p[i].feasible);
  }
  /* the scenario run alone on the base chip (80 GiB) gives the 80 GiB point, its
   * throughput within the energy tables' difference (a design's table is derived from its parameters,
   * the preset's carries fitted figures, and a kernel measured on the power-limited board takes its
   * clock there from the table: docs/energy-cost.md 2.20) */
  sl_result *r = NULL;
  assert_int_equal(sl_scenario_run(sw->w[0].sc, &r, &err), SL_OK);
  print_message("alone: %.6g tokens/s, point %.6g\n", sl_result_number(r, "tokens_per_s"), p[1].wl[0][0]);
  assert_true(fabs(sl_result_number(r, "tokens_per_s") / p[1].wl[0][0] - 1) < 5e-3);
  double b80 = r->batch;
  sl_result_free(r);
  assert_true(p[0].wl[0][0] < p[1].wl[0][0]);
  assert_true(p[2].wl[0][0] > p[1].wl[0][0] * 1.05);
  /* the batches: about 2x (less the weights) from 80 to 160 GiB */
  wk.sc[0].chip.mem[wk.sc[0].chip.n_mem - 1].capacity_bytes = 171798691840.0;
  assert_true(inference_max_batch(&wk.sc[0]) > 2 * b80);
  dse_worker_free(&wk);
  dse_sweep_free(sw);
}

/* A worker's GEMM memo, kept from point to point, changes no figure of any point. */
static void test_memo_changes_nothing(void **state) {
  (void)state;
  static const char text[] =
      "{name: memo, chip: mtia-2i,\n"
      " parameters: {cores: [32, 64], dram_GBps: [204.8, 409.6], clock_ghz: [1.0, 1.4], process_nm: [7, 5],"
      " tdp_w: [85, 150]},\n"
      " constraints: {area_mm2: 450},\n"
      " workloads: [{name: decode, weight: 2, scenario: {model: llama3.2-1b, task: decode,"
      " infer: {batch: max, prompt_len: 512}}},\n"
      "             {name: prefill, weight: 1, scenario: {model: llama3.2-1b, task: prefill,"
      " infer: {batch: 1, prompt_len: 512}}}],\n"
      " objectives: [perf_per_tco, throughput], strategy: grid}\n";
  dse_sweep *sw = NULL;
  sl_error err;
  if (dse_sweep_load(NULL, text, &sw, &err)) fail_msg("%s", err.message);
  dse_worker kept, bare;
  dse_worker_init(&kept, sw);
  dse_worker_init(&bare, sw);
  assert_non_null(kept.memo);
  free(bare.memo);
  bare.memo = NULL;
  dse_strategy *st = dse_strategy_new(sw);
  static dse_point a[512], b[512];
  long n = dse_ask(st, a, 512);
  assert_int_equal(n, (long)sw->total);
  memcpy(b, a, (size_t)n * sizeof *a);
  long feasible = 0;
  for (long i = 0; i < n; i++) {
    assert_int_equal(dse_eval(&kept, &a[i]), SL_OK);
    assert_int_equal(dse_eval(&bare, &b[i]), SL_OK);
    assert_int_equal(a[i].feasible, b[i].feasible);
    assert_string_equal(a[i].reason, b[i].reason);
    assert_memory_equal(a[i].obj, b[i].obj, sizeof a[i].obj);
    assert_memory_equal(a[i].wl, b[i].wl, sizeof a[i].wl);
    const double fa[] = {a[i].area_mm2, a[i].tdp_w, a[i].unit_cost_usd, a[i].power_w, a[i].usd_per_hour};
    const double fb[] = {b[i].area_mm2, b[i].tdp_w, b[i].unit_cost_usd, b[i].power_w, b[i].usd_per_hour};
    assert_memory_equal(fa, fb, sizeof fa);
    feasible += a[i].feasible;
  }
  assert_true(feasible > 0);
  /* the grid's last parameters (node, TDP) change nothing the GEMM search reads: most runs hit */
  print_message("memo hits %.0f + %.0f, misses %.0f + %.0f; %ld of %ld points feasible\n", kept.memo[0].hits,
                kept.memo[1].hits, kept.memo[0].misses, kept.memo[1].misses, feasible, n);
  assert_true(kept.memo[0].hits > kept.memo[0].misses && kept.memo[1].hits > kept.memo[1].misses);
  dse_strategy_free(st);
  dse_worker_free(&kept);
  dse_worker_free(&bare);
  dse_sweep_free(sw);
}

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/silica-sweep-XXXXXX");
  return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The writer's "%.6g" (dse_fmt_g6) writes what printf writes: random magnitudes 1e-24..1e24, short
 * decimals (ties of the sixth digit are frequent among them), powers of ten and specials. */
static void test_fmt_g6(void **state) {
  (void)state;
  uint64_t x = 88172645463325252ull;
  const double fixed[] = {0,       -0.0,    1,      -1,           123456.5,  1234565, 999999.5, 0.0001,
                          0.00001, 1e6,     1e-5,   9.9999949e-5, 100000,    0.1,     2.5e-300, 7e299,
                          1e300,   1e301,   1e-301, 65504,        1.0 / 3,   2.0 / 3, 999999,   9999995,
                          0.5,     123.456, NAN,    INFINITY,     -INFINITY, 4.2e21};
  for (long i = 0; i < 400000 + (long)SL_ARRAY_LEN(fixed); i++) {
    double v;
    if (i < (long)SL_ARRAY_LEN(fixed)) {
      v = fixed[i];
    } else {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      double u = (double)(x >> 11) * 0x1p-53;
      v = pow(10, -24 + 48 * u) * (x & 1 ? -1 : 1);
      if (i % 4 == 0) v = nearbyint(v * 1e3) / 1e3; /* short decimals */
      if (i % 4 == 1) v = nearbyint(v * 1e7) / 1e7;
    }
    char mine[32], ref[32];
    int l = dse_fmt_g6(v, mine);
    snprintf(ref, sizeof ref, "%.6g", v);
    assert_int_equal(l, (int)strlen(mine));
    if (strcmp(mine, ref) != 0) fail_msg("dse_fmt_g6(%.17g) = %s, printf %s", v, mine, ref);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_pareto_known_set),
                                     cmocka_unit_test(test_pareto_random_brute_force),
                                     cmocka_unit_test(test_resume_grid),
                                     cmocka_unit_test(test_resume_evolutionary),
                                     cmocka_unit_test(test_jobs_and_seeds_deterministic),
                                     cmocka_unit_test(test_constraints_met),
                                     cmocka_unit_test(test_bad_files),
                                     cmocka_unit_test(test_batch_max_per_point),
                                     cmocka_unit_test(test_memo_changes_nothing),
                                     cmocka_unit_test(test_fmt_g6)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
