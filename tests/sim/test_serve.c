/* test_serve.c — inference: the serving simulation (idle TTFT/TPOT equal the prefill and decode
 * steps, overload, determinism, the step surface against whole scenarios, maximum load, the
 * scheduler's limits and KV policy from the stack, the host's work per step and CUDA-graph replay of
 * decode steps, the latencies' 80% intervals against the time-rescaling identity), infer.batch: max,
 * tensor-parallel prefill, and where decode GEMMs turn compute-bound. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "test_util.h"

static double number(const char *text, const char *const *sets, size_t n, const char *key) {
  sl_scenario *sc = load_sets(text, sets, n);
  sl_result *r = run(sc);
  double v = sl_result_number(r, key);
  sl_result_free(r);
  sl_scenario_free(sc);
  return v;
}

#define SERVE                                                                                                \
  "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: %g, "        \
  "requests: %d,"                                                                                            \
  " prompt_len: %s, gen_len: %s, slo: {ttft_s: 1.0, tpot_s: 0.05}, seed: %d}}"

static char *serve_text(char *buf, size_t n, double rate, int requests, const char *prompt, const char *gen,
                        int seed) {
  snprintf(buf, n, SERVE, rate, requests, prompt, gen, seed);
  return buf;
}

/* One request at a time: its TTFT is the prefill, its TPOT a decode step. */
static void test_idle_latency(void **state) {
  (void)state;
  char t[600];
  double ttft = number(serve_text(t, sizeof t, 0.01, 20, "512", "65", 1), NULL, 0, "serve.ttft_p50_s");
  double tpot = number(t, NULL, 0, "serve.tpot_p50_s");
  double itl[3] = {number(t, NULL, 0, "serve.itl_p50_s"), number(t, NULL, 0, "serve.itl_p90_s"),
                   number(t, NULL, 0, "serve.itl_p99_s")};
  double prefill = number("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: prefill,"
                          " infer: {batch: 1, prompt_len: 512}}",
                          NULL, 0, "step_time_s");
  double decode = number("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: decode,"
                         " infer: {batch: 1, prompt_len: 544}}",
                         NULL, 0, "step_time_s");
  print_message("TTFT %.4f ms vs prefill %.4f ms; TPOT %.4f ms vs decode %.4f ms\n", ttft * 1e3,
                prefill * 1e3, tpot * 1e3, decode * 1e3);
  assert_true(fabs(ttft / prefill - 1) < 0.01);
  assert_true(fabs(tpot / decode - 1) < 0.01);
  /* alone, a request's every inter-token gap is a decode step of one sequence (its context growing
   * from 513 to 576 tokens) */
  print_message("ITL p50 %.4f, p90 %.4f, p99 %.4f ms\n", itl[0] * 1e3, itl[1] * 1e3, itl[2] * 1e3);
  assert_true(fabs(itl[0] / decode - 1) < 0.01);
  assert_true(itl[0] <= itl[1] && itl[1] <= itl[2] && itl[2] / itl[0] < 1.01);
}

/* Overload: the queue grows (TTFT far over the SLO) and goodput falls below the arrival rate. */
static void test_overload(void **state) {
  (void)state;
  char t[600];
  serve_text(t, sizeof t, 5, 3000, "{mean: 1024}", "{mean: 256}", 1);
  double good_ok = number(t, NULL, 0, "serve.goodput_requests_per_s");
  double ttft_ok = number(t, NULL, 0, "serve.ttft_p99_s");
  serve_text(t, sizeof t, 200, 3000, "{mean: 1024}", "{mean: 256}", 1);
  double good_over = number(t, NULL, 0, "serve.goodput_requests_per_s");
  double ttft_over = number(t, NULL, 0, "serve.ttft_p99_s");
  double thr_over = number(t, NULL, 0, "serve.throughput_tokens_per_s");
  print_message("goodput %.2f -> %.2f req/s, p99 TTFT %.3f -> %.1f s, throughput at overload %.0f tok/s\n",
                good_ok, good_over, ttft_ok, ttft_over, thr_over);
  assert_true(ttft_ok < 1.0);
  assert_true(ttft_over > 20 * ttft_ok && ttft_over > 1.0);
  assert_true(good_over < 0.5 * good_ok);
  assert_true(good_ok > 4.5);
}

/* Same seed, same JSON; another seed, another sample. */
static void test_determinism(void **state) {
  (void)state;
  char t[600];
  char *j[3];
  for (int i = 0; i < 3; i++) {
    sl_scenario *sc = load_sets(
        serve_text(t, sizeof t, 8, 500, "{min: 100, max: 2000}", "{mean: 128}", i < 2 ? 7 : 8), NULL, 0);
    sl_result *r = run(sc);
    j[i] = sl_result_json(r);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  assert_string_equal(j[0], j[1]);
  assert_string_not_equal(j[0], j[2]);
  for (int i = 0; i < 3; i++)
    free(j[i]);
}

/* The step-cost surface of the simulation against whole prefill and decode scenarios. */
static void test_surface(void **state) {
  (void)state;
  static const double prefill[] = {128, 512, 2048, 8000};
  static const double decode[][2] = {{1, 200}, {8, 1000}, {64, 2048}, {200, 700}};
  sl_scenario *sc = load_sets("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: serve,"
                              " serve: {arrival_rate_per_s: 1}}",
                              NULL, 0);
  for (size_t i = 0; i < SL_ARRAY_LEN(prefill); i++) {
    double est;
    sl_error err;
    assert_int_equal(serve_step_estimate(sc, prefill[i], 0, 0, &est, &err), SL_OK);
    char t[300];
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: prefill,"
             " infer: {batch: 1, prompt_len: %g}}",
             prefill[i]);
    double full = number(t, NULL, 0, "step_time_s");
    if (fabs(est / full - 1) > 0.01)
      fail_msg("prefill %g: surface %.5g s, model %.5g s", prefill[i], est, full);
  }
  for (size_t i = 0; i < SL_ARRAY_LEN(decode); i++) {
    double est;
    sl_error err;
    assert_int_equal(serve_step_estimate(sc, 0, decode[i][0], decode[i][1] + 1, &est, &err), SL_OK);
    char t[300];
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: decode,"
             " infer: {batch: %g, prompt_len: %g}}",
             decode[i][0], decode[i][1]);
    double full = number(t, NULL, 0, "step_time_s");
    if (fabs(est / full - 1) > 0.01)
      fail_msg("decode %g x %g: surface %.5g s, model %.5g s", decode[i][0], decode[i][1], est, full);
  }
  sl_scenario_free(sc);
}

/* arrival_rate_per_s: max finds a rate whose p99 meets the SLO, and a bit more does not. */
static void test_max_rate(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: max,"
      " requests: 2000, prompt_len: {mean: 1024}, gen_len: {mean: 128}, slo: {ttft_s: 1.0, tpot_s: 0.05},"
      " seed: 3}}";
  double rate = number(text, NULL, 0, "serve.max_rate_per_s");
  assert_true(rate > 1);
  /* at the rate found, the SLO holds (the same seed and requests, so the same simulation) ... */
  char at[64];
  snprintf(at, sizeof at, "serve.arrival_rate_per_s=%.17g", rate);
  const char *at_sets[] = {at};
  double p99_at = number(text, at_sets, 1, "serve.ttft_p99_s"),
         tpot_at = number(text, at_sets, 1, "serve.tpot_p99_s");
  print_message("at %.2f req/s: p99 TTFT %.3f s, p99 TPOT %.4f s\n", rate, p99_at, tpot_at);
  assert_true(p99_at <= 1.0 && tpot_at <= 0.05);
  /* ... and 1.3 times that rate breaks it */
  char set[64];
  snprintf(set, sizeof set, "serve.arrival_rate_per_s=%g", rate * 1.3);
  const char *sets[] = {set};
  double p99 = number(text, sets, 1, "serve.ttft_p99_s");
  double tpot = number(text, sets, 1, "serve.tpot_p99_s");
  print_message("max rate %.2f req/s; at 1.3x: p99 TTFT %.2f s, p99 TPOT %.3f s\n", rate, p99, tpot);
  assert_true(p99 > 1.0 || tpot > 0.05);
}

/* The latencies' 80% intervals (serve_latency_interval) against the time-rescaling identity they
 * rest on: an engine whose every step takes 1/s as long serves Poisson arrivals at rate L exactly as
 * the nominal engine serves them at L/s (the same draws, the clock stretched by 1/s: traffic.c), so
 * its latencies are the nominal engine's at L/s times 1/s.  Near capacity the slow end is far above
 * the point (T = a / (1 - rho)); the fast end below it. */
static void test_latency_interval(void **state) {
  (void)state;
  char t[600];
  serve_text(t, sizeof t, 23, 1500, "{mean: 1024}", "{mean: 256}",
             5); /* near the engine's capacity (about 24/s) */
  sl_scenario *sc = load(t);
  sl_result *plain = run(sc), *r = NULL;
  sl_run_params rp = sl_run_params_default();
  rp.serve_latency_interval = 1;
  sl_error err;
  if (sl_scenario_run_ex(sc, &rp, &r, &err)) fail_msg("run failed: %s", err.message);
  double thr = sl_result_number(plain, "serve.throughput_tokens_per_s");
  double speed[2] = {sl_result_number(plain, "interval.hi") / thr, sl_result_number(plain, "interval.lo") / thr};
  /* the fast end first; the interval comes from the peers' residuals, so where they lean one way it
   * need not hold the point (both ends then faster or slower than it) */
  assert_true(speed[0] > speed[1]);
  assert_true(isnan(sl_result_number(plain, "serve.ttft_p99_hi_s"))); /* not asked: no key */
  static const char *const end[2] = {"lo", "hi"}, *const lat[4] = {"ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99"};
  for (int k = 0; k < 2; k++) {
    char rate[64];
    snprintf(rate, sizeof rate, "serve.arrival_rate_per_s=%.17g", 23 / speed[k]);
    const char *sets[] = {rate};
    sl_scenario *ref_sc = load_sets(t, sets, 1);
    sl_result *ref = run(ref_sc);
    for (int j = 0; j < 4; j++) {
      char key[48], point[48];
      snprintf(key, sizeof key, "serve.%s_%s_s", lat[j], end[k]);
      snprintf(point, sizeof point, "serve.%s_s", lat[j]);
      double got = sl_result_number(r, key), want = sl_result_number(ref, point) / speed[k];
      print_message("%s %.4f s (reference %.4f s; point %.4f s)\n", key, got, want, sl_result_number(r, point));
      assert_rel(got, want, 1e-3, key);
      if (speed[k] >= 1) assert_true(got <= sl_result_number(r, point));
      else assert_true(got >= sl_result_number(r, point));
    }
    sl_result_free(ref);
    sl_scenario_free(ref_sc);
  }
  /* near capacity the queue amplifies the speed: the ends' p99 TTFT differ by more than their speeds
   * (a step 1/s as long alone would scale it by s), and where the slow end is slower than the nominal
   * engine its queue is a multiple of the point's */
  double slow = sl_result_number(r, "serve.ttft_p99_hi_s"), fast = sl_result_number(r, "serve.ttft_p99_lo_s");
  print_message("speeds %.4f and %.4f; p99 TTFT %.4f s and %.4f s\n", speed[0], speed[1], fast, slow);
  assert_true(slow / fast > speed[0] / speed[1]);
  if (speed[1] < 1) assert_true(slow > 2 * sl_result_number(r, "serve.ttft_p99_s"));
  /* the point figures are the plain run's */
  assert_rel(sl_result_number(r, "serve.ttft_p99_s"), sl_result_number(plain, "serve.ttft_p99_s"), 1e-12, "point");
  sl_result_free(plain), sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_batch_max(void **state) {
  (void)state;
  sl_scenario *sc = load_sets(
      "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: max, prompt_len: 4096}}", NULL, 0);
  sl_result *r = run(sc);
  double b = r->batch; /* resolved by the run, for this chip */
  print_message("batch max = %g, %.2f of %.2f GB\n", b, sl_result_number(r, "memory.per_chip_bytes") / 1e9,
                sl_result_number(r, "memory.capacity_bytes") / 1e9);
  assert_true(sl_result_feasible(r));
  sl_result_free(r);
  sl_scenario_free(sc);
  /* one more sequence does not fit */
  char t[300];
  snprintf(t, sizeof t,
           "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: %g, prompt_len: 4096}}", b + 1);
  sc = load(t);
  r = run(sc);
  assert_false(sl_result_feasible(r));
  sl_result_free(r);
  sl_scenario_free(sc);
  /* max is resolved by the run, never at load: a model that leaves no room for one sequence loads,
   * and its run is infeasible with the memory it would need */
  sc = load_sets("{chip: h100-sxm, model: llama3.1-70b, task: decode, infer: {batch: max, prompt_len: 4096}}",
                 NULL, 0);
  assert_true(sc->batch_max);
  r = run(sc);
  assert_false(sl_result_feasible(r));
  assert_non_null(strstr(sl_result_reason(r), "batch: max"));
  assert_true(sl_result_number(r, "memory.per_chip_bytes") > sl_result_number(r, "memory.capacity_bytes"));
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Prefill of Llama-3.1-70B on 8 H100s with TP 8: an all-reduce after attention and after the MLP
 * of every layer. */
static void test_tp_prefill(void **state) {
  (void)state;
  sl_scenario *sc = load_sets("{chip: h100-sxm, system: dgx-h100, model: llama3.1-70b, task: prefill,"
                              " infer: {batch: 1, prompt_len: 4096}, parallel: {tp: 8}}",
                              NULL, 0);
  sl_result *r = run(sc);
  assert_true(sl_result_feasible(r));
  int found = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i].name, "tp_allreduce_attn") == 0 ||
        strcmp(r->rows[i].name, "tp_allreduce_mlp") == 0) {
      assert_true(r->rows[i].count == 80);
      assert_int_equal(r->rows[i].cat, SL_CAT_COLLECTIVE);
      found++;
    }
  assert_int_equal(found, 2);
  sl_result_free(r);
  sl_scenario_free(sc);
  /* tp: auto stays undecided in the scenario; the run takes tp 8 (the node, dividing the 64
   * heads) and dp 1, the same step */
  sc = load_sets("{chip: h100-sxm, system: dgx-h100, model: llama3.1-70b, task: prefill,"
                 " infer: {batch: 1, prompt_len: 4096}, parallel: {tp: auto}}",
                 NULL, 0);
  assert_true(sc->par.tp == SL_AUTO && sc->par.dp == SL_AUTO);
  sl_result *r2 = run(sc);
  assert_true(r2->par.tp == 8 && r2->par.dp == 1 && r2->par.pp == 1);
  assert_true(sl_result_number(r2, "parallel.tp") == 8);
  sl_scenario_free(sc);
  sc = load_sets("{chip: h100-sxm, system: dgx-h100, model: llama3.1-70b, task: prefill,"
                 " infer: {batch: 1, prompt_len: 4096}, parallel: {tp: 8}}",
                 NULL, 0);
  r = run(sc);
  assert_true(r->step_time_s == r2->step_time_s);
  sl_result_free(r);
  sl_result_free(r2);
  sl_scenario_free(sc);
}

/* Decode: the weight GEMMs turn compute-bound near the ridge point; attention stays
 * memory-bound. */
static void test_decode_ridge(void **state) {
  (void)state;
  sl_scenario *probe = load("{chip: h100-sxm, model: llama3.1-8b, task: decode}");
  double ridge = chip_peak_flops(&probe->chip, SL_BF16) / (chip_dram(&probe->chip)->bw_GBps * 1e9);
  sl_scenario_free(probe);
  double turn = 0;
  for (int b = 8; b <= 1024 && turn == 0; b += 8) {
    char t[300];
    snprintf(t, sizeof t,
             "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: %d, prompt_len: 128}}", b);
    sl_scenario *sc = load(t);
    sl_result *r = run(sc);
    for (size_t i = 0; i < r->n_rows; i++) {
      if (strcmp(r->rows[i].name, "mlp_gate_up") == 0 && r->rows[i].bound == SL_BOUND_COMPUTE) turn = b;
      if (r->rows[i].cat == SL_CAT_ATTENTION) assert_int_not_equal(r->rows[i].bound, SL_BOUND_COMPUTE);
    }
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  print_message("weight GEMMs compute-bound from batch %g; ridge point %.0f FLOP/byte\n", turn, ridge);
  assert_true(turn > 0 && fabs(turn / ridge - 1) <= 0.20);
}

/* arrival_rate_per_s: inf queues every request at time 0: the engine never idles, so the makespan
 * is the sum of the steps, and throughput = generated tokens / makespan; the run is the limit of
 * ever faster Poisson arrivals, and no finite rate beats it. */
static void test_max_load(void **state) {
  (void)state;
  const char *text = "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, precision: fp8, task: serve,"
                     " serve: {arrival_rate_per_s: inf, requests: 1500, prompt_len: 300, gen_len: 100}}";
  sl_scenario *sc = load(text);
  assert_true(isinf(sc->serve.rate_per_s));
  sl_result *r = run(sc);
  assert_true(sl_result_feasible(r));
  double thr = sl_result_number(r, "serve.throughput_tokens_per_s");
  double steps = sl_result_number(r, "serve.steps"), step = sl_result_number(r, "step_time_s");
  print_message("maxload: %.0f tokens/s over %.0f steps of %.3f ms\n", thr, steps, step * 1e3);
  assert_rel(thr * steps * step, 1500 * 100, 1e-9, "generated tokens = throughput x makespan");
  /* every request is timed from 0, so the median one waits behind the first half of the queue */
  assert_true(sl_result_number(r, "serve.ttft_p50_s") > 10 * sl_result_number(r, "serve.tpot_p50_s"));
  /* a decoding sequence waits out the prefills admitted beside it: with 64 running and 400 tokens
   * each, a new 300-token prompt enters about one step in six, so ITL's median is a step of decodes
   * alone (about the decode of a full batch at the mean context) and its tail the steps with one */
  const char *itl = "{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, precision: fp8, task: serve,"
                    " serve: {arrival_rate_per_s: inf, requests: 1500, prompt_len: 300, gen_len: 400,"
                    " scheduler: {max_seqs: 64}}}";
  double i50 = number(itl, NULL, 0, "serve.itl_p50_s"), i99 = number(itl, NULL, 0, "serve.itl_p99_s");
  double full = number("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, precision: fp8, task: decode,"
                       " infer: {batch: 64, prompt_len: 500}}",
                       NULL, 0, "step_time_s");
  print_message("ITL p50 %.3f ms, p99 %.3f ms; decode step %.3f ms\n", i50 * 1e3, i99 * 1e3, full * 1e3);
  assert_true(i99 > 1.3 * i50);
  assert_true(fabs(i50 / full - 1) < 0.1);
  sl_result_free(r);
  sl_scenario_free(sc);
  const char *fast[] = {"serve.arrival_rate_per_s=1e9"}, *slow[] = {"serve.arrival_rate_per_s=20"};
  double thr_fast = number(text, fast, 1, "serve.throughput_tokens_per_s");
  double thr_slow = number(text, slow, 1, "serve.throughput_tokens_per_s");
  print_message("throughput at 1e9 req/s %.0f, at 20 req/s %.0f tokens/s\n", thr_fast, thr_slow);
  assert_rel(thr_fast, thr, 1e-3, "1e9 requests/s vs inf");
  assert_true(thr_slow < 0.9 * thr);
}

#define LIMITS                                                                                               \
  "{chip: h100-sxm, stack: %s, model: llama3.1-8b, precision: fp8, task: serve,"                             \
  " serve: {arrival_rate_per_s: inf, requests: 4000, prompt_len: 1, gen_len: 64%s}}"

/* The scheduler's limits come from the stack (its engine's defaults) and serve.scheduler
 * overrides them.  With one-token prompts every running sequence adds exactly one token to a step,
 * so the mean step is at most max_seqs tokens, and near it when the queue is long. */
static void test_stack_limits(void **state) {
  (void)state;
  char t[600];

  static const struct {
    const char *stack, *sched;
    double max_seqs, budget;
  } cases[] = {
      {"{preset: trtllm, tuned_limits: false}", "", 2048, 8192}, /* TensorRT-LLM's build defaults */
      {"vllm", "", 256, 8192},                                    /* vLLM's */
      {"megatron-2024", "", 256, 8192},                           /* none: the generic ones */
      {"{preset: trtllm, tuned_limits: false, max_seqs: 32}", "", 32, 8192}, /* a stack override */
      {"{preset: trtllm, max_seqs: 32}", ", scheduler: {max_seqs: 16}", 16, 4608}, /* the scenario wins */
      {"{preset: trtllm, tuned_limits: false, max_batch_tokens: 600}", "", 2048, 600},
      {"{preset: trtllm, max_batch_tokens: 600}", ", scheduler: {max_batch_tokens: 1000}", 4096, 1000},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    snprintf(t, sizeof t, LIMITS, cases[i].stack, cases[i].sched);
    sl_scenario *sc = load(t);
    sl_serve_spec lim;
    serve_limits(sc, &lim);
    if (lim.max_seqs != cases[i].max_seqs || lim.max_batch_tokens != cases[i].budget)
      fail_msg("%s: limits %g sequences, %g tokens; want %g, %g", t, lim.max_seqs, lim.max_batch_tokens,
               cases[i].max_seqs, cases[i].budget);
    sl_result *r = run(sc);
    double mean = sl_result_number(r, "serve.mean_batch_tokens");
    double cap = fmin(cases[i].max_seqs, cases[i].budget);
    print_message("%s%s: %.1f tokens per step (limit %g)\n", cases[i].stack, cases[i].sched, mean, cap);
    if (!(mean <= cap && mean > 0.8 * cap)) fail_msg("%s: %g tokens per step, limit %g", t, mean, cap);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  /* a limit must be a whole number; the error names the stack file's key */
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_not_equal(
      sl_scenario_load(NULL,
                       "{chip: h100-sxm, stack: {preset: trtllm, max_seqs: 2.5}, model: llama3.1-8b,"
                       " task: serve, serve: {arrival_rate_per_s: inf}}",
                       NULL, 0, &sc, &err),
      SL_OK);
  print_message("%s\n", err.message);
  assert_non_null(strstr(err.message, "max_seqs"));
  assert_null(sc);
}

/* Naive reference of trtllm-bench's engine settings (tensorrt_llm/bench/build/tuning.py), step by
 * step as the tool writes them. */
static void bench_reference(double gpu_gib, double n_gpus, double params, double wbytes, double layers,
                            double kv_heads, double head_dim, double kvbytes, double isl, double osl,
                            double *bs, double *tokens) {
  double byte_per_token = 2 * layers * kv_heads * head_dim * kvbytes / (1024.0 * 1024 * 1024);
  double engine_size = params * wbytes / (1024.0 * 1024 * 1024);
  double available = gpu_gib * n_gpus - engine_size;
  double cache = available * 0.95;
  double reqs = cache / (byte_per_token * (isl + osl));
  double raw_bs = fmin(reqs, 4096);
  double raw_token = fmin(raw_bs * (1 + isl / osl), 32768);
  if (raw_bs < 256)
    *bs = fmax(64, 32 * ceil(raw_bs / 32));
  else if (raw_bs < 1024)
    *bs = 128 * ceil(raw_bs / 128);
  else
    *bs = 256 * ceil(raw_bs / 256);
  if (raw_token < 4096)
    *tokens = fmax(2048, 256 * ceil(raw_token / 256));
  else if (raw_token < 8192)
    *tokens = 512 * ceil(raw_token / 512);
  else
    *tokens = 1024 * ceil(raw_token / 1024);
}

/* A stack with tuned_limits (trtllm) sizes the scheduler per workload as trtllm-bench does: short
 * requests get thousands of sequences, long ones fewer, and prefill-heavy ones a larger token budget;
 * the scenario's serve.scheduler still wins; tensor parallelism counts every GPU's memory and at
 * least one KV head per GPU. */
static void test_tuned_limits(void **state) {
  (void)state;
  static const struct {
    const char *chip, *model;
    double tp, isl, osl, gib;
  } cs[] = {{"h100-sxm", "llama3.1-8b", 1, 128, 128, 80},     {"h100-sxm", "llama3.1-8b", 1, 128, 2048, 80},
            {"h100-sxm", "llama3.1-8b", 1, 2048, 128, 80},    {"h100-sxm", "llama3.1-8b", 1, 20000, 2000, 80},
            {"h200-sxm", "llama3.1-70b", 1, 5000, 500, 141},  {"h100-sxm", "llama3.1-405b", 8, 128, 2048, 80},
            {"h100-sxm", "llama3.1-70b", 16, 1000, 1000, 80}};
  char t[600];
  for (size_t i = 0; i < SL_ARRAY_LEN(cs); i++) {
    snprintf(t, sizeof t,
             "{chip: %s, system: {chips: %g, node_chips: 16}, stack: trtllm, model: %s, precision: fp8,"
             " task: serve, parallel: {tp: %g}, serve: {arrival_rate_per_s: inf, requests: 10,"
             " prompt_len: %g, gen_len: %g}}",
             cs[i].chip, cs[i].tp, cs[i].model, cs[i].tp, cs[i].isl, cs[i].osl);
    sl_scenario *sc = load(t);
    sl_serve_spec lim;
    serve_limits(sc, &lim);
    const sl_transformer *m = &sc->model.tf;
    double bs, tok;
    bench_reference(cs[i].gib, cs[i].tp, model_params(&sc->model), 1, (double)m->layers,
                    fmax(cs[i].tp, (double)m->kv_heads), (double)m->head_dim, 1, cs[i].isl, cs[i].osl, &bs, &tok);
    print_message("%s %s tp%g %g/%g: max_seqs %g, max_batch_tokens %g (reference %g, %g)\n", cs[i].chip,
                  cs[i].model, cs[i].tp, cs[i].isl, cs[i].osl, lim.max_seqs, lim.max_batch_tokens, bs, tok);
    assert_true(lim.max_seqs == bs && lim.max_batch_tokens == tok);
    sl_scenario_free(sc);
  }
  /* the two ends: 128/128 on an 8B model is capped at 4096 sequences; 20000/2000 gets the minima */
  sl_scenario *sc = load("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, precision: fp8, task: serve,"
                         " serve: {arrival_rate_per_s: inf, requests: 10, prompt_len: 128, gen_len: 128}}");
  sl_serve_spec lim;
  serve_limits(sc, &lim);
  assert_true(lim.max_seqs == 4096 && lim.max_batch_tokens == 8192);
  sl_scenario_free(sc);
  sc = load("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, precision: fp8, task: serve,"
            " serve: {arrival_rate_per_s: inf, requests: 10, prompt_len: 20000, gen_len: 2000}}");
  serve_limits(sc, &lim);
  assert_true(lim.max_seqs == 64 && lim.max_batch_tokens == 2048);
  sl_scenario_free(sc);
  /* a bad value of the key names it */
  sc = NULL;
  sl_error err;
  assert_int_not_equal(sl_scenario_load(NULL,
                                        "{chip: h100-sxm, stack: {preset: trtllm, tuned_limits: 3},"
                                        " model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: inf}}",
                                        NULL, 0, &sc, &err),
                       SL_OK);
  print_message("%s (%s)\n", err.message, err.key);
  assert_non_null(strstr(err.key, "tuned_limits"));
}

/* KV admission and size.  Long requests at maximum load fill the KV cache: with blocks on demand (vLLM)
 * admissions outrun it and decodes preempt the newest sequences, whose 20,000-token prompts are
 * then prefilled again; TensorRT-LLM's reservation of each request's whole KV at admission never
 * preempts, so it generates the same tokens in less time. */
static void test_kv_policy(void **state) {
  (void)state;
  char t[600];
  const char *policy[] = {"reserve", "preempt"};
  double thr[2], pre[2];
  for (int i = 0; i < 2; i++) {
    snprintf(
        t, sizeof t,
        "{chip: h100-sxm, stack: {preset: trtllm, kv_policy: %s}, model: llama3.1-8b, precision: fp8,"
        " task: serve, serve: {arrival_rate_per_s: inf, requests: 120, prompt_len: 20000, gen_len: 2000}}",
        policy[i]);
    thr[i] = number(t, NULL, 0, "serve.throughput_tokens_per_s");
    pre[i] = number(t, NULL, 0, "serve.preemptions");
    print_message("%s: %.0f tokens/s, %.0f preemptions\n", policy[i], thr[i], pre[i]);
  }
  assert_true(pre[0] == 0 && pre[1] > 0);
  assert_true(thr[0] > thr[1]);
  /* the KV cache takes the stack's share of the memory left after weights and activations */
  double blocks[2];
  const char *share[] = {"1.0", "0.5"};
  for (int i = 0; i < 2; i++) {
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: {preset: trtllm, kv_cache_fraction: %s}, model: llama3.1-8b,"
             " task: serve, serve: {arrival_rate_per_s: inf, requests: 10, prompt_len: 100, gen_len: 10}}",
             share[i]);
    blocks[i] = number(t, NULL, 0, "serve.kv_blocks_per_chip");
  }
  print_message("KV blocks %.0f with all the free memory, %.0f with half\n", blocks[0], blocks[1]);
  assert_true(fabs(blocks[1] - 0.5 * blocks[0]) <= 1);
  /* memory_utilization (vLLM's gpu_memory_utilization) caps what the engine takes of the whole
   * memory: the KV cache gets that share of the capacity less the weights and activations, by hand
   * from the memory the run reports */
  const char *util[] = {"1.0", "0.9"};
  double kv[2], cap = 0, held = 0, per_block = 0;
  for (int i = 0; i < 2; i++) {
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: {preset: vllm, memory_utilization: %s}, model: llama3.1-8b,"
             " task: serve, serve: {arrival_rate_per_s: inf, requests: 10, prompt_len: 100, gen_len: 10}}",
             util[i]);
    kv[i] = number(t, NULL, 0, "memory.kv_cache_bytes");
    blocks[i] = number(t, NULL, 0, "serve.kv_blocks_per_chip");
    cap = number(t, NULL, 0, "memory.capacity_bytes");
    held = number(t, NULL, 0, "memory.weights_bytes") + number(t, NULL, 0, "memory.activations_bytes");
  }
  per_block = kv[0] / blocks[0];
  print_message("KV cache %.2f GiB of all the memory, %.2f GiB of 90%%\n", kv[0] / 1073741824.0,
                kv[1] / 1073741824.0);
  assert_rel(kv[0], cap - held, 1e-9, "all the memory");
  assert_rel(kv[1], 0.9 * cap - held, 1e-9, "90% of it");
  assert_true(fabs(blocks[1] - floor(kv[1] / per_block)) <= 1);
  /* the preset's policy is reserve; an unknown policy names the key */
  sl_scenario *sc = load("{chip: h100-sxm, stack: trtllm, model: llama3.1-8b, task: serve,"
                         " serve: {arrival_rate_per_s: inf}}");
  assert_int_equal(sc->stack.kv_policy, SL_KV_RESERVE);
  sl_scenario_free(sc);
  sc = NULL;
  sl_error err;
  assert_int_not_equal(
      sl_scenario_load(NULL,
                       "{chip: h100-sxm, stack: {preset: vllm, kv_policy: swap}, model: llama3.1-8b,"
                       " task: serve, serve: {arrival_rate_per_s: inf}}",
                       NULL, 0, &sc, &err),
      SL_OK);
  print_message("%s (%s)\n", err.message, err.key);
  assert_non_null(strstr(err.key, "kv_policy"));
}

/* The engine's host work per step (host_step_s + host_seq_s x sequences) and CUDA-graph replay of
 * decode-only steps (graph_kernel_overhead_s).  A prefill (the first step: nothing on the device to
 * hide behind) takes the device's time plus the host's; with host_overlap a decode step takes the
 * longer of the two, without it their sum; a decode step replayed from a graph saves the difference
 * of the launch costs on every kernel, a prefill none.  At maximum load a slow enough host bounds the
 * throughput whatever the device does. */
static void test_host_and_graphs(void **state) {
  (void)state;
  char t[600];
#define ONE "{chip: h100-sxm, stack: {preset: trtllm, %s}, model: llama3.1-8b, precision: fp8, task: %s," \
            " infer: {batch: %s, prompt_len: %s}}"
  snprintf(t, sizeof t, ONE, "host_step_s: 0, host_seq_s: 0", "prefill", "1", "128");
  double pre0 = number(t, NULL, 0, "step_time_s");
  snprintf(t, sizeof t, ONE, "host_step_s: 0.002, host_seq_s: 1.0e-4", "prefill", "1", "128");
  double pre1 = number(t, NULL, 0, "step_time_s");
  print_message("prefill %.4f ms -> %.4f ms with 2.1 ms of host work\n", pre0 * 1e3, pre1 * 1e3);
  assert_true(fabs(pre1 - pre0 - 0.0021) < 1e-9);
  /* decode: hidden under the device's time with overlap, added without it */
  double dec[4];
  const char *host[] = {"host_overlap: true, host_step_s: 0.001, host_seq_s: 0",
                        "host_overlap: false, host_step_s: 0.001, host_seq_s: 0",
                        "host_overlap: true, host_step_s: 0.05, host_seq_s: 0", "host_step_s: 0, host_seq_s: 0"};
  for (int i = 0; i < 4; i++) {
    snprintf(t, sizeof t, ONE, host[i], "decode", "64", "1000");
    dec[i] = number(t, NULL, 0, "step_time_s");
  }
  print_message("decode %.4f ms; host 1 ms overlapped %.4f ms, not %.4f ms; host 50 ms overlapped %.4f ms\n",
                dec[3] * 1e3, dec[0] * 1e3, dec[1] * 1e3, dec[2] * 1e3);
  assert_true(dec[3] > 0.001);
  assert_true(fabs(dec[0] - dec[3]) < 1e-12);
  assert_true(fabs(dec[1] - dec[3] - 0.001) < 1e-9);
  assert_true(fabs(dec[2] - 0.05) < 1e-9);
  /* graph replay: a decode step saves on every kernel, a prefill nothing */
  double g[4];
  const char *gk[] = {"launch_ahead: false, kernel_overhead_s: 1.0e-5, graph_kernel_overhead_s: 1.0e-5",
                      "launch_ahead: false, kernel_overhead_s: 1.0e-5, graph_kernel_overhead_s: 1.0e-6"};
  for (int i = 0; i < 2; i++) {
    snprintf(t, sizeof t, ONE, gk[i], "decode", "8", "500");
    g[i] = number(t, NULL, 0, "step_time_s");
    snprintf(t, sizeof t, ONE, gk[i], "prefill", "1", "500");
    g[2 + i] = number(t, NULL, 0, "step_time_s");
  }
  print_message("decode %.4f -> %.4f ms from a graph; prefill %.4f -> %.4f ms\n", g[0] * 1e3, g[1] * 1e3,
                g[2] * 1e3, g[3] * 1e3);
  assert_true(g[0] - g[1] > 32 * 5 * 9e-6); /* at least five kernels a layer, 9 us each */
  assert_true(g[2] == g[3]);
  snprintf(t, sizeof t,
           "{chip: h100-sxm, stack: {preset: trtllm, graphs: false, launch_ahead: false, kernel_overhead_s: 1.0e-5,"
           " graph_kernel_overhead_s: 1.0e-6}, model: llama3.1-8b, precision: fp8, task: decode,"
           " infer: {batch: 8, prompt_len: 500}}");
  assert_true(number(t, NULL, 0, "step_time_s") == g[0]); /* no graphs: nothing saved */
  /* launched ahead: a kernel takes the longer of its time and a launch, so a launch cost of 5 us changes a
   * prefill of 4096 tokens (kernels of hundreds of us) by well under 1%, where added to every kernel it
   * costs 5 us x kernels */
  double la[4];
  const char *lk[] = {"launch_ahead: false, kernel_overhead_s: 0", "launch_ahead: false, kernel_overhead_s: 5.0e-6",
                      "launch_ahead: true, kernel_overhead_s: 0",
                      "launch_ahead: true, kernel_overhead_s: 5.0e-6"};
  for (int i = 0; i < 4; i++) {
    snprintf(t, sizeof t, ONE, lk[i], "prefill", "1", "4096");
    la[i] = number(t, NULL, 0, "step_time_s");
  }
  print_message("prefill 4096: %.4f ms, + 5 us a launch %.4f ms; launched ahead %.4f -> %.4f ms\n", la[0] * 1e3,
                la[1] * 1e3, la[2] * 1e3, la[3] * 1e3);
  assert_true(la[2] == la[0]);
  assert_true(la[1] - la[0] > 32 * 5 * 5e-6);
  assert_true(la[3] - la[2] < 0.01 * la[2]);
  /* serving at maximum load: a host of 1 ms per sequence per step bounds the step (64 sequences
   * running: 64 ms a step, one token each) */
  double thr[2];
  const char *hs[] = {"host_step_s: 0, host_seq_s: 0", "host_overlap: true, host_step_s: 0, host_seq_s: 0.001"};
  for (int i = 0; i < 2; i++) {
    snprintf(t, sizeof t,
             "{chip: h100-sxm, stack: {preset: trtllm, max_seqs: 64, %s}, model: llama3.1-8b, precision: fp8,"
             " task: serve, serve: {arrival_rate_per_s: inf, requests: 256, prompt_len: 1, gen_len: 64}}",
             hs[i]);
    thr[i] = number(t, NULL, 0, "serve.throughput_tokens_per_s");
  }
  print_message("maximum load: %.0f tokens/s, %.0f with a host of 1 ms per sequence\n", thr[0], thr[1]);
  assert_true(thr[1] < thr[0] && fabs(thr[1] / 1000 - 1) < 0.05);
  /* a figure out of its range names the key */
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_not_equal(
      sl_scenario_load(NULL,
                       "{chip: h100-sxm, stack: {preset: trtllm, host_seq_s: -1}, model: llama3.1-8b,"
                       " task: serve, serve: {arrival_rate_per_s: inf}}",
                       NULL, 0, &sc, &err),
      SL_OK);
  print_message("%s (%s)\n", err.message, err.key);
  assert_non_null(strstr(err.key, "host_seq_s"));
  assert_null(sc);
#undef ONE
}

/* Data-parallel replicas behind a router, each simulated: four replicas at four times the rate
 * serve about four times the tokens of one; routing to the least outstanding work keeps the tail of
 * TTFT no worse than taking turns; an unknown router names the key. */
static void test_router(void **state) {
  (void)state;
  char t[600];
#define DP "{chip: h100-sxm, system: {chips: %d}, stack: trtllm, model: llama3.1-8b, precision: fp8," \
           " task: serve, parallel: {tp: 1}, serve: {arrival_rate_per_s: %g, requests: %d," \
           " prompt_len: {mean: 1024}, gen_len: {mean: 256}, seed: 3, router: %s}}"
  snprintf(t, sizeof t, DP, 1, 24.0, 1500, "least_tokens");
  double one = number(t, NULL, 0, "serve.throughput_tokens_per_s");
  snprintf(t, sizeof t, DP, 4, 96.0, 6000, "least_tokens");
  double four = number(t, NULL, 0, "serve.throughput_tokens_per_s");
  double p99_least = number(t, NULL, 0, "serve.ttft_p99_s");
  double steps4 = number(t, NULL, 0, "serve.steps");
  snprintf(t, sizeof t, DP, 4, 96.0, 6000, "round_robin");
  double p99_rr = number(t, NULL, 0, "serve.ttft_p99_s");
  double four_rr = number(t, NULL, 0, "serve.throughput_tokens_per_s");
  print_message("one replica %.0f tokens/s; four %.0f (least tokens), %.0f (round robin); p99 TTFT %.3f s vs %.3f s\n",
                one, four, four_rr, p99_least, p99_rr);
  assert_true(fabs(four / (4 * one) - 1) < 0.10);
  assert_true(fabs(four_rr / four - 1) < 0.05);
  assert_true(p99_least <= p99_rr);
  /* every replica ran: the steps are those of four engines, not one multiplied */
  snprintf(t, sizeof t, DP, 1, 24.0, 1500, "least_tokens");
  assert_true(steps4 > 3 * number(t, NULL, 0, "serve.steps"));
  sl_scenario *sc = NULL;
  sl_error err;
  snprintf(t, sizeof t, DP, 4, 48.0, 100, "fastest");
  assert_int_not_equal(sl_scenario_load(NULL, t, NULL, 0, &sc, &err), SL_OK);
  print_message("%s (%s)\n", err.message, err.key);
  assert_non_null(strstr(err.key, "router"));
  assert_null(sc);
#undef DP
}

/* The TDP cap, engine step by engine step: 70B on two B200 at 128 sequences draws about 930 W in
 * the model; on the same board limited to 800 W its steps run at the clock that holds 800 W: the
 * power is the limit, the busy-time mean clock ratio below 1, the uncapped power above the limit and
 * the throughput lower than with the limit out of the way (the same board at 5000 W, where the run
 * is uncapped: its power is its uncapped power and its clock 1; its kernels, all under that limit,
 * run at the top clock's energy per action, docs/energy-cost.md 2.5, so it draws more than the
 * capped run's uncapped figure). */
static void test_tdp_cap(void **state) {
  (void)state;
#define CAPPED(chip)                                                                                         \
  "{chip: " chip ", system: {chips: 2, node_chips: 8}, parallel: {tp: 2}, stack: vllm, model: llama3.1-70b," \
  " task: serve, serve: {arrival_rate_per_s: inf, requests: 600, prompt_len: 634, gen_len: 350,"             \
  " scheduler: {max_seqs: 128}}}"
  const char *cap = CAPPED("{preset: b200, tdp_w: 800}"), *free_ = CAPPED("{preset: b200, tdp_w: 5000}");
  double p = number(cap, NULL, 0, "energy.avg_power_w_per_chip");
  double up = number(cap, NULL, 0, "energy.uncapped_power_w_per_chip");
  double r = number(cap, NULL, 0, "energy.clock_ratio");
  double thr = number(cap, NULL, 0, "serve.throughput_tokens_per_s");
  double p5 = number(free_, NULL, 0, "energy.avg_power_w_per_chip");
  double up5 = number(free_, NULL, 0, "energy.uncapped_power_w_per_chip");
  double r5 = number(free_, NULL, 0, "energy.clock_ratio");
  double thr5 = number(free_, NULL, 0, "serve.throughput_tokens_per_s");
  print_message(
      "800 W: %.1f W (uncapped %.1f W), clock %.3f, %.0f tokens/s; 5000 W: %.1f W (%.1f), clock %.3f,"
      " %.0f tokens/s\n",
      p, up, r, thr, p5, up5, r5, thr5);
  assert_true(p <= 800 * (1 + 1e-9) && p > 760);
  assert_true(up > 800 && r < 1);
  assert_true(thr < thr5);
  assert_true(r5 == 1);
  assert_rel(p5, up5, 1e-9, "uncapped run: power = uncapped power");
#undef CAPPED
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_latency), cmocka_unit_test(test_overload),
      cmocka_unit_test(test_determinism),  cmocka_unit_test(test_surface),
      cmocka_unit_test(test_max_rate),     cmocka_unit_test(test_batch_max),
      cmocka_unit_test(test_tp_prefill),   cmocka_unit_test(test_decode_ridge),
      cmocka_unit_test(test_max_load),     cmocka_unit_test(test_stack_limits),
      cmocka_unit_test(test_kv_policy),    cmocka_unit_test(test_host_and_graphs),
      cmocka_unit_test(test_router),       cmocka_unit_test(test_latency_interval),
      cmocka_unit_test(test_tuned_limits), cmocka_unit_test(test_tdp_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
