/* test_serve_feat.c — serving: prefix caching (the hit rate of a hand-computed trace, LRU eviction
 * under a small KV cache, TTFT lower with caching, nothing changed without shared prefixes, a
 * preempted request's own blocks kept), the steady-state measurement window, and
 * speculative decoding (tokens per step against Leviathan et al.'s closed form, TPOT lower for a good
 * draft and higher for a poor one at low batch), and the keys' errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "sim/sim.h"
#include "test_util.h"

static double number(const char *text, const char *const *sets, size_t n, const char *key) {
  sl_scenario *sc = load_sets(text, sets, n);
  sl_result *r = run(sc);
  double v = sl_result_number(r, key);
  sl_result_free(r);
  sl_scenario_free(sc);
  return v;
}

/* The serving result of scenario text over the n requests given. */
static sl_result *run_requests(const char *text, const sl_request *q, size_t n) {
  sl_scenario *sc = load(text);
  sl_result *res = calloc(1, sizeof *res);
  assert_non_null(res);
  ar_init(&res->a);
  res->sc = sc;
  res->chips = sc->chips;
  sl_error err = {0};
  if (serve_run_requests(sc, q, n, res, &err)) fail_msg("serve_run_requests: %s", err.message);
  assert_true(res->has_serve);
  return res;
}

static void free_run(sl_result *res) {
  const sl_scenario *sc = res->sc;
  sl_result_free(res);
  sl_scenario_free((sl_scenario *)sc);
}

#define BASE "{chip: h100-sxm, stack: vllm, model: llama3.1-8b, task: serve, "

/* Requests far apart (each done before the next arrives), blocks of 16 tokens: every hit is whole
 * blocks of its prefix, at least one prompt token is computed, and a prefix is cached only once a
 * request has prefilled it. */
static void test_prefix_hit_rate(void **state) {
  (void)state;
  const sl_request q[] = {
      {0, 100, 4, 0, 64},   /* miss: computes and caches 4 blocks of prefix 0 */
      {10, 80, 4, 0, 64},   /* hit: 4 blocks, 64 tokens */
      {20, 64, 4, 0, 64},   /* hit: 3 blocks (the last prompt token is computed), 48 tokens */
      {30, 50, 4, 1, 40},   /* miss: caches 2 whole blocks of prefix 1 (40 tokens) */
      {40, 50, 4, 1, 40},   /* hit: 2 blocks, 32 tokens */
      {50, 30, 4, -1, 0},   /* no prefix */
      {60, 200, 4, 7, 15},  /* a prefix of less than a block: nothing to share */
      {70, 200, 4, 7, 15},
  };
  const double want = (64.0 + 48 + 32) / (100 + 80 + 64 + 50 + 50 + 30 + 200 + 200);
  sl_result *on = run_requests(BASE "serve: {arrival_rate_per_s: 1, prefix_caching: true}}", q, 8);
  sl_result *off = run_requests(BASE "serve: {arrival_rate_per_s: 1, prefix_caching: false}}", q, 8);
  print_message("hit rate %.6f (want %.6f), off %.3f; TTFT of request 2: with the cache p50 %.3f ms\n",
                on->serve.prefix_hit_rate, want, off->serve.prefix_hit_rate, on->serve.ttft[0] * 1e3);
  assert_rel(on->serve.prefix_hit_rate, want, 1e-12, "hit rate");
  assert_true(off->serve.prefix_hit_rate == 0);
  assert_true(on->serve.prefix_evictions == 0);
  assert_true(isnan(off->serve.prefix_evictions));
  /* two requests arriving together both miss: the prefix is not cached until one has prefilled it */
  const sl_request two[] = {{0, 100, 4, 0, 64}, {0, 100, 4, 0, 64}, {10, 100, 4, 0, 64}};
  sl_result *t = run_requests(BASE "serve: {arrival_rate_per_s: 1}}", two, 3);
  assert_rel(t->serve.prefix_hit_rate, 64.0 / 300, 1e-12, "simultaneous misses");
  free_run(on), free_run(off), free_run(t);
}

/* A KV cache of B blocks of 1024 tokens; prefixes of 2 blocks visited in turn twice.  When all of
 * them fit, the second pass hits every one; when they do not, LRU evicts each just before it is
 * needed again (the cyclic worst case): no hits at all. */
static void test_prefix_eviction(void **state) {
  (void)state;
  const char *text = BASE "serve: {arrival_rate_per_s: 1, scheduler: {kv_block_tokens: 1024}}}";
  const sl_request one = {0, 2048 + 32, 2, 0, 2048};
  sl_result *probe = run_requests(text, &one, 1);
  double blocks = probe->serve.kv_blocks;
  free_run(probe);
  print_message("KV cache %.0f blocks of 1024 tokens\n", blocks);
  assert_true(blocks > 40 && blocks < 5000);
  size_t fit = (size_t)((blocks - 4) / 2) - 1, thrash = (size_t)(blocks / 2) + 8;
  size_t groups[2] = {fit, thrash};
  for (int c = 0; c < 2; c++) {
    size_t g = groups[c], n = 2 * g;
    sl_request *q = calloc(n, sizeof *q);
    for (size_t i = 0; i < n; i++)
      q[i] = (sl_request){10.0 * (double)i, 2048 + 32, 2, (double)(i % g), 2048};
    sl_result *r = run_requests(text, q, n);
    double want = c == 0 ? (double)g * 2048 / ((double)n * 2080) : 0;
    print_message("%zu prefixes of 2 blocks: hit rate %.4f (want %.4f), %.0f evicted\n", g,
                  r->serve.prefix_hit_rate, want, r->serve.prefix_evictions);
    assert_rel(r->serve.prefix_hit_rate + 1, want + 1, 1e-12, "hit rate");
    if (c == 0)
      assert_true(r->serve.prefix_evictions == 0);
    else
      assert_true(r->serve.prefix_evictions >= (double)(2 * g - (size_t)blocks / 2));
    free_run(r);
    free(q);
  }
}

/* Shared prefixes of 1024 tokens in 16 groups: caching cuts the prefill and so the TTFT; without
 * shared prefixes it changes nothing at all. */
static void test_prefix_ttft(void **state) {
  (void)state;
  const char *text = BASE "serve: {arrival_rate_per_s: 8, requests: 1500, prompt_len: {mean: 512},"
                          " gen_len: {mean: 128}, prefix: {groups: 16, tokens: 1024}, seed: 3}}";
  const char *on[] = {"serve.prefix_caching=true"}, *off[] = {"serve.prefix_caching=false"};
  double t_on = number(text, on, 1, "serve.ttft_p50_s"), t_off = number(text, off, 1, "serve.ttft_p50_s");
  double hit = number(text, on, 1, "serve.prefix_hit_rate");
  print_message("p50 TTFT %.2f ms with the prefix cache, %.2f ms without; hit rate %.3f\n", t_on * 1e3,
                t_off * 1e3, hit);
  assert_true(t_on < 0.8 * t_off);
  assert_true(hit > 0.5 && hit < 1024.0 / (1024 + 512));
  /* no prefixes: the same result (the output past the echoed scenario), and no hit-rate key */
  const char *plain = BASE "serve: {arrival_rate_per_s: 8, requests: 500, seed: 3}}";
  sl_scenario *a = load_sets(plain, on, 1), *b = load_sets(plain, off, 1);
  sl_result *ra = run(a), *rb = run(b);
  char *ja = sl_result_json(ra), *jb = sl_result_json(rb);
  assert_non_null(ja);
  assert_non_null(jb);
  assert_non_null(strstr(ja, "\"feasible\""));
  assert_string_equal(strstr(ja, "\"feasible\""), strstr(jb, "\"feasible\""));
  assert_null(strstr(ja, "prefix_hit_rate"));
  free(ja), free(jb);
  sl_result_free(ra), sl_result_free(rb);
  sl_scenario_free(a), sl_scenario_free(b);
}

/* A serving scenario with a 1B draft proposing k tokens accepted at alpha. */
static char *spec_text(char *t, size_t n, double k, double alpha, double rate, int requests, int gen) {
  snprintf(t, n,
           BASE "serve: {arrival_rate_per_s: %g, requests: %d, prompt_len: 256, gen_len: %d, seed: 5"
                ", speculative: {draft: llama3.2-1b, tokens: %g, acceptance: %g}}}",
           rate, requests, gen, k, alpha);
  return t;
}

/* The mean of 1 + a, a accepted of k drafted with P(a = j) = alpha^j (1 - alpha) (j < k),
 * alpha^k (j = k), is (1 - alpha^(k+1)) / (1 - alpha) (Leviathan et al. 2023, eq. 1). */
static void test_spec_closed_form(void **state) {
  (void)state;
  const struct {
    double k, alpha;
  } c[] = {{4, 0.8}, {3, 0.5}, {6, 0.9}, {2, 0}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    char t[600];
    spec_text(t, sizeof t, c[i].k, c[i].alpha, 20, 600, 1000);
    double got = number(t, NULL, 0, "serve.spec_tokens_per_step");
    double want = (1 - pow(c[i].alpha, c[i].k + 1)) / (1 - c[i].alpha);
    print_message("k %g alpha %g: %.4f tokens per step, closed form %.4f\n", c[i].k, c[i].alpha, got, want);
    assert_rel(got, want, 0.01, "tokens per step");
  }
}

/* At low batch a decode step is bound by reading the weights: a 1B draft proposing 4 tokens that the
 * 8B target accepts at 0.8 emits 3.4 tokens per step for about 1.6 steps' time; accepted at 0.1 it
 * emits 1.1 for the same time. */
static void test_spec_tpot(void **state) {
  (void)state;
  char t[600];
  const char *plain = BASE "serve: {arrival_rate_per_s: 0.5, requests: 200, prompt_len: 256, gen_len: 256, seed: 5}}";
  double base = number(plain, NULL, 0, "serve.tpot_p50_s");
  spec_text(t, sizeof t, 4, 0.8, 0.5, 200, 256);
  double good = number(t, NULL, 0, "serve.tpot_p50_s");
  spec_text(t, sizeof t, 4, 0.1, 0.5, 200, 256);
  double poor = number(t, NULL, 0, "serve.tpot_p50_s");
  print_message("p50 TPOT %.3f ms without a draft, %.3f ms alpha 0.8, %.3f ms alpha 0.1\n", base * 1e3,
                good * 1e3, poor * 1e3);
  assert_true(good < 0.75 * base);
  assert_true(poor > 1.1 * base);
  /* the draft's weights and KV take memory from the target's KV cache */
  double kv0 = number(plain, NULL, 0, "serve.kv_blocks_per_chip"), kv1 = number(t, NULL, 0, "serve.kv_blocks_per_chip");
  assert_true(kv1 < kv0);
}

/* Preemption under a KV cache too small for the batch (prompts of 20K tokens): with prefix caching a
 * preempted request's computed whole blocks stay cached and, admitted again, it maps those still there
 * instead of recomputing them (vLLM's V1 engine: its blocks are freed tail first, keeping their
 * hashes).  Both runs preempt; with the cache the engine processes fewer tokens for the same work and
 * finishes sooner, and never fewer than every token's KV computed once (each request's prompt and
 * every output token but the last). */
static void test_preempt_cache(void **state) {
  (void)state;
  const char *on = BASE "precision: fp8, serve: {arrival_rate_per_s: inf, requests: 120, prompt_len: 20000,"
                        " gen_len: 2000, prefix_caching: true}}";
  const char *off = BASE "precision: fp8, serve: {arrival_rate_per_s: inf, requests: 120, prompt_len: 20000,"
                         " gen_len: 2000, prefix_caching: false}}";
  double pre[2], work[2], thr[2];
  const char *t[2] = {on, off};
  for (int i = 0; i < 2; i++) {
    pre[i] = number(t[i], NULL, 0, "serve.preemptions");
    work[i] = number(t[i], NULL, 0, "serve.steps") * number(t[i], NULL, 0, "serve.mean_batch_tokens");
    thr[i] = number(t[i], NULL, 0, "serve.throughput_tokens_per_s");
  }
  double least = 120.0 * (20000 + 2000 - 1);
  print_message("with the cache: %.0f preemptions, %.0f tokens processed, %.0f tokens/s; without: %.0f, %.0f,"
                " %.0f; at least %.0f\n",
                pre[0], work[0], thr[0], pre[1], work[1], thr[1], least);
  assert_true(pre[0] > 0 && pre[1] > 0);
  assert_true(work[0] < work[1]);
  assert_true(work[0] >= least * (1 - 1e-9));
  assert_true(thr[0] > thr[1]);
}

/* serve.mean_running: the sequences the engine runs (vLLM's num_requests_running: every scheduled
 * request, prefilling or decoding), averaged over the window's time.  By hand: one request alone runs
 * in every step of the run, from its arrival to its last token, so the average is 1; a steady window
 * of a queue far longer than the batch holds max_seqs in every step (a finished sequence's place is
 * taken in the next step); and prompts of 20K tokens whose KV cache holds a few of them at a time
 * (admitted a chunk at a time) run far fewer than max_seqs, preempting. */
static void test_mean_running(void **state) {
  (void)state;
  double one = number(BASE "serve: {arrival_rate_per_s: 1, requests: 1, prompt_len: 600, gen_len: 200}}",
                      NULL, 0, "serve.mean_running");
  const char *full =
      BASE "serve: {arrival_rate_per_s: inf, requests: 400, prompt_len: 600, gen_len: {mean: 400},"
           " scheduler: {max_seqs: 32}, window: steady}}";
  double run32 = number(full, NULL, 0, "serve.mean_running");
  const char *tight =
      BASE "precision: fp8, serve: {arrival_rate_per_s: inf, requests: 120, prompt_len: 20000,"
           " gen_len: 2000}}";
  double few = number(tight, NULL, 0, "serve.mean_running"),
         pre = number(tight, NULL, 0, "serve.preemptions");
  print_message("one request: %.4f running; a full batch of 32: %.3f; 20K-token prompts: %.2f running of 256,"
                " %.0f preemptions\n",
                one, run32, few, pre);
  assert_rel(one, 1, 1e-9, "one request runs in every step");
  assert_true(run32 <= 32 * (1 + 1e-12) && run32 > 31.5);
  assert_true(pre > 0 && few >= 1 && few < 64); /* a quarter of max_seqs */
}

/* serve.window steady: throughput and power over the ML.ENERGY harness's steady state, from the
 * moment max_seqs requests have their first token to the moment requests - max_seqs - 1 have
 * finished.  With exponential output lengths the whole run ends in a long drain at a small batch,
 * which the window leaves out: the steady throughput and power are higher and the window shorter
 * than the run.  With fixed lengths and many requests per batch the ramp and the drain are a small
 * part of the run and the two agree.  Over the window the energy figures hold together (power x chips
 * = J per token x tokens per second), and a run too short for a steady state is an input error. */
static void test_steady_window(void **state) {
  (void)state;
#define WIN(gen, n, w)                                                                                       \
  BASE "serve: {arrival_rate_per_s: inf, requests: " n ", prompt_len: 600, gen_len: " gen                    \
       ", scheduler: {max_seqs: 32}, window: " w "}}"
  const char *tail[2] = {WIN("{mean: 400}", "400", "run"), WIN("{mean: 400}", "400", "steady")};
  const char *flat[2] = {WIN("400", "1600", "run"), WIN("400", "1600", "steady")};
  double thr[2], pw[2], jt[2], win;
  for (int i = 0; i < 2; i++) {
    thr[i] = number(tail[i], NULL, 0, "serve.throughput_tokens_per_s");
    pw[i] = number(tail[i], NULL, 0, "energy.avg_power_w_per_chip");
    jt[i] = number(tail[i], NULL, 0, "energy.j_per_token");
  }
  win = number(tail[1], NULL, 0, "serve.window_s");
  double run_s = 400 * 400 / thr[0]; /* about: the mean output length times the requests over the rate */
  print_message("exponential lengths: run %.0f tokens/s %.1f W, steady %.0f tokens/s %.1f W over %.1f s of"
                " about %.1f s\n",
                thr[0], pw[0], thr[1], pw[1], win, run_s);
  assert_true(isnan(number(tail[0], NULL, 0, "serve.window_s")));
  assert_true(thr[1] > 1.05 * thr[0]);
  assert_true(pw[1] > pw[0]);
  assert_true(win > 0 && win < 0.9 * run_s);
  for (int i = 0; i < 2; i++)
    assert_rel(pw[i], jt[i] * thr[i], 1e-9, "power = J per token x tokens/s");
  double f0 = number(flat[0], NULL, 0, "serve.throughput_tokens_per_s");
  double f1 = number(flat[1], NULL, 0, "serve.throughput_tokens_per_s");
  print_message("fixed lengths, 1600 requests: run %.0f, steady %.0f tokens/s\n", f0, f1);
  assert_rel(f1, f0, 0.05, "steady vs run with a short ramp and drain");
  /* no steady state: 32 + 2 requests at least */
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load(NULL, WIN("400", "33", "steady"), NULL, 0, &sc, &err), SL_ERR_INPUT);
  char buf[900];
  sl_error_format(&err, buf, sizeof buf);
  print_message("%s\n", buf);
  assert_non_null(strstr(buf, "serve.window"));
  assert_null(sc);
  assert_int_equal(sl_scenario_load(NULL, WIN("400", "34", "steady"), NULL, 0, &sc, &err), SL_OK);
  sl_scenario_free(sc);
#undef WIN
}

/* serve.repeats: the requests sent R times over (a benchmark's num_request_repeats).  Ten requests
 * of 100 prompt tokens sent twice, 2 s apart on average and done in milliseconds: each copy finds
 * its original's prompt cached and maps its whole blocks but the one holding the last prompt token,
 * floor(99 / 16) = 6 blocks of 16 tokens, so the hit rate is 10 x 96 / (20 x 100) exactly; the run
 * counts 20 requests, and without prefix caching nothing is found. */
static void test_repeats(void **state) {
  (void)state;
  const char *on =
      BASE "serve: {arrival_rate_per_s: 0.5, requests: 10, repeats: 2, prompt_len: 100, gen_len: 4}}";
  const char *off =
      BASE "serve: {arrival_rate_per_s: 0.5, requests: 10, repeats: 2, prompt_len: 100, gen_len: 4,"
           " prefix_caching: false}}";
  double hit = number(on, NULL, 0, "serve.prefix_hit_rate"), n = number(on, NULL, 0, "serve.requests");
  print_message("repeats 2: %.0f requests, hit rate %.4f (want %.4f), without caching %.4f\n", n, hit,
                10.0 * 96 / (20 * 100), number(off, NULL, 0, "serve.prefix_hit_rate"));
  assert_true(n == 20);
  assert_rel(hit, 10.0 * 96 / (20 * 100), 1e-12, "repeats hit rate");
  assert_true(number(off, NULL, 0, "serve.prefix_hit_rate") == 0);
  /* with prompts of random lengths a copy has its original's prompt: the same hits */
  const char *var =
      BASE "serve: {arrival_rate_per_s: 0.5, requests: 10, repeats: 3, prompt_len: {min: 50, max: 400},"
           " gen_len: 4}}";
  double h3 = number(var, NULL, 0, "serve.prefix_hit_rate");
  print_message("repeats 3, prompts of 50-400 tokens: hit rate %.4f\n", h3);
  assert_true(h3 > 0.55 && h3 < 2.0 / 3);
}

/* Bad keys: one-line errors naming the key. */
static void test_feat_errors(void **state) {
  (void)state;
  const struct {
    const char *text, *key;
  } bad[] = {
      {BASE "serve: {arrival_rate_per_s: 1, prefix: {groups: 0, tokens: 10}}}", "groups"},
      {BASE "serve: {arrival_rate_per_s: 1, prefix: {groups: 2, tokens: 1.5}}}", "prefix"},
      {BASE "serve: {arrival_rate_per_s: 1, prefix: {groups: 2, tokns: 10}}}", "tokns"},
      {BASE "serve: {arrival_rate_per_s: 1, prefix_caching: maybe}}", "prefix_caching"},
      {BASE "serve: {arrival_rate_per_s: 1, window: steady_state}}", "window"},
      {BASE "serve: {arrival_rate_per_s: 1, repeats: 1.5}}", "repeats"},
      {BASE "serve: {arrival_rate_per_s: 1, repeats: 0}}", "repeats"},
      {BASE "serve: {arrival_rate_per_s: 1, repeats: 2, prefix: {groups: 2, tokens: 10}}}", "repeats"},
      {BASE "serve: {arrival_rate_per_s: 1, speculative: {tokens: 4, acceptance: 0.5}}}", "draft"},
      {BASE "serve: {arrival_rate_per_s: 1, speculative: {draft: llama3.2-1b, tokens: 4, acceptance: 1.5}}}",
       "acceptance"},
      {BASE "serve: {arrival_rate_per_s: 1, speculative: {draft: llama3.2-1b, tokens: 0, acceptance: 0.5}}}",
       "tokens"},
      {BASE
       "serve: {arrival_rate_per_s: 1, speculative: {draft: no-such-model, tokens: 4, acceptance: 0.5}}}",
       "draft"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(NULL, bad[i].text, NULL, 0, &sc, &err);
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    print_message("%s\n", buf);
    assert_int_equal(s, SL_ERR_INPUT);
    assert_non_null(strstr(buf, bad[i].key));
    assert_null(sc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prefix_hit_rate), cmocka_unit_test(test_prefix_eviction),
      cmocka_unit_test(test_prefix_ttft),     cmocka_unit_test(test_spec_closed_form),
      cmocka_unit_test(test_spec_tpot),       cmocka_unit_test(test_feat_errors),
      cmocka_unit_test(test_preempt_cache),   cmocka_unit_test(test_steady_window),
      cmocka_unit_test(test_mean_running),    cmocka_unit_test(test_repeats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
