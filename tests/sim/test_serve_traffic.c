/* test_serve_traffic.c — serving traffic: gamma and on/off arrivals against their closed forms
 * (mean gap, coefficient of variation, the rate in on periods), burstiness raising the tail
 * latency, trace replay (deterministic, and equal to the run whose generator wrote the trace, in
 * CSV and in JSON lines), malformed traces (file, line and column named), and the
 * latency-throughput curve against separate single-rate runs. */
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

#define BASE                                                                                                 \
  "{chip: h100-sxm, stack: vllm, model: llama3.1-8b, task: serve, serve: {%s slo: {ttft_s: 2.0, tpot_s: "    \
  "0.1}, seed: 7}}"

static sl_scenario *scenario(const char *serve_keys) {
  char t[1200];
  snprintf(t, sizeof t, BASE, serve_keys);
  return load(t);
}

/* Mean and coefficient of variation of the gaps of n arrivals. */
static void gaps(const sl_serve_spec *sv, double rate, size_t n, double *mean, double *cv) {
  sl_request *r = calloc(n, sizeof *r);
  assert_non_null(r);
  traffic_requests(sv, rate, r, n);
  double s = 0, s2 = 0, prev = 0;
  for (size_t i = 0; i < n; i++) {
    double g = r[i].arrival - prev;
    prev = r[i].arrival;
    s += g, s2 += g * g;
  }
  *mean = s / (double)n;
  *cv = sqrt(fmax(0, s2 / (double)n - *mean * *mean)) / *mean;
  free(r);
}

/* Gamma gaps have mean 1/rate and the coefficient of variation asked for; cv 1 is the Poisson
 * process itself (the same arrivals and lengths). */
static void test_gamma_gaps(void **state) {
  (void)state;
  const double cvs[] = {0.5, 1, 3};
  for (size_t k = 0; k < 3; k++) {
    char keys[200];
    snprintf(keys, sizeof keys, "arrival_rate_per_s: 4, arrivals: {process: gamma, cv: %g},", cvs[k]);
    sl_scenario *sc = scenario(keys);
    double mean, cv;
    gaps(&sc->serve, 4, 400000, &mean, &cv);
    print_message("gamma cv %g: mean gap %.5f s (want 0.25), cv %.4f\n", cvs[k], mean, cv);
    assert_rel(mean, 0.25, 0.02, "mean gap");
    assert_rel(cv, cvs[k], 0.05, "coefficient of variation");
    sl_scenario_free(sc);
  }
  sl_scenario *g = scenario("arrival_rate_per_s: 4, arrivals: {process: gamma, cv: 1},");
  sl_scenario *p = scenario("arrival_rate_per_s: 4,");
  sl_request a[500], b[500];
  traffic_requests(&g->serve, 4, a, 500);
  traffic_requests(&p->serve, 4, b, 500);
  assert_memory_equal(a, b, sizeof a);
  sl_scenario *g3 = scenario("arrival_rate_per_s: 4, arrivals: {process: gamma, cv: 3},");
  traffic_requests(&g3->serve, 4, a, 500); /* another process, the same lengths */
  for (size_t i = 0; i < 500; i++)
    assert_true(a[i].prompt == b[i].prompt && a[i].gen == b[i].gen);
  sl_scenario_free(g), sl_scenario_free(p), sl_scenario_free(g3);
}

/* On/off: nothing arrives in off periods, the mean rate over whole periods is the rate given, and
 * within on periods the rate is rate (on + off) / on. */
static void test_on_off(void **state) {
  (void)state;
  sl_scenario *sc = scenario("arrival_rate_per_s: 5, arrivals: {process: on_off, on_s: 2, off_s: 6},");
  size_t n = 200000;
  sl_request *r = calloc(n, sizeof *r);
  assert_non_null(r);
  traffic_requests(&sc->serve, 5, r, n);
  double periods = floor(r[n - 1].arrival / 8);
  size_t in_whole = 0;
  for (size_t i = 0; i < n; i++) {
    assert_true(fmod(r[i].arrival, 8) < 2); /* only in on periods */
    if (r[i].arrival < periods * 8) in_whole++;
  }
  double rate = (double)in_whole / (periods * 8), on_rate = (double)in_whole / (periods * 2);
  print_message("on/off: mean rate %.4f (want 5), in on periods %.3f (want 20)\n", rate, on_rate);
  assert_rel(rate, 5, 0.02, "mean rate");
  assert_rel(on_rate, 20, 0.02, "rate in on periods");
  free(r);
  sl_scenario_free(sc);
}

static double serve_number(const char *keys, const char *key) {
  sl_scenario *sc = scenario(keys);
  sl_result *r = run(sc);
  double v = sl_result_number(r, key);
  sl_result_free(r);
  sl_scenario_free(sc);
  return v;
}

/* Bursty arrivals at the same mean rate queue longer: a larger p99 TTFT with cv 3 than with cv 1. */
static void test_burst_tail(void **state) {
  (void)state;
  const char *common =
      "requests: 4000, prompt_len: {mean: 1024}, gen_len: {mean: 256}, arrival_rate_per_s: 10,";
  char k1[300], k3[300];
  snprintf(k1, sizeof k1, "%s arrivals: {process: gamma, cv: 1},", common);
  snprintf(k3, sizeof k3, "%s arrivals: {process: gamma, cv: 3},", common);
  double p1 = serve_number(k1, "serve.ttft_p99_s"), p3 = serve_number(k3, "serve.ttft_p99_s");
  print_message("p99 TTFT: cv 1 %.3f s, cv 3 %.3f s\n", p1, p3);
  assert_true(p3 > 1.5 * p1);
}

static const char *const SAME[] = {"serve.ttft_p50_s",
                                   "serve.ttft_p90_s",
                                   "serve.ttft_p99_s",
                                   "serve.tpot_p50_s",
                                   "serve.tpot_p90_s",
                                   "serve.tpot_p99_s",
                                   "serve.throughput_tokens_per_s",
                                   "serve.goodput_requests_per_s",
                                   "serve.steps",
                                   "serve.preemptions",
                                   "serve.requests",
                                   "energy.j_per_token"};

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A CSV trace as JSON lines. */
static char *csv_to_jsonl(const char *csv) {
  size_t n = strlen(csv);
  char *out = malloc(4 * n + 64), *o = out;
  const char *p = strchr(csv, '\n') + 1;
  while (*p) {
    double a, b, c;
    int used = 0;
    assert_int_equal(sscanf(p, "%lf,%lf,%lf%n", &a, &b, &c, &used), 3);
    o += sprintf(o, "{\"arrival_s\": %.17g, \"prompt_tokens\": %.0f, \"output_tokens\": %.0f}\n", a, b, c);
    p = strchr(p, '\n') + 1;
  }
  *o = 0;
  return out;
}

/* The trace written from a Poisson scenario replays to the same run; twice the same. */
static void test_trace_replay(void **state) {
  (void)state;
  const char *keys =
      "requests: 3000, prompt_len: {mean: 900}, gen_len: {min: 16, max: 400}, arrival_rate_per_s: 12,";
  sl_scenario *sc = scenario(keys);
  char *csv = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_trace(sc, &csv, &err), SL_OK);
  sl_result *want = run(sc);
  char path[2][64];
  snprintf(path[0], sizeof path[0], "/tmp/silica-trace-%d.csv", (int)getpid());
  snprintf(path[1], sizeof path[1], "/tmp/silica-trace-%d.jsonl", (int)getpid());
  write_file(path[0], csv);
  char *jl = csv_to_jsonl(csv);
  write_file(path[1], jl);
  free(jl);
  for (int f = 0; f < 2; f++) {
    char k[200];
    snprintf(k, sizeof k, "trace: %s,", path[f]);
    sl_scenario *tr = scenario(k);
    assert_int_equal(tr->serve.n_trace, 3000);
    sl_result *got = run(tr), *again = run(tr);
    for (size_t i = 0; i < SL_ARRAY_LEN(SAME); i++) {
      double a = sl_result_number(want, SAME[i]), b = sl_result_number(got, SAME[i]);
      if (a != b) fail_msg("%s: %s %.17g from the trace, %.17g from the generator", path[f], SAME[i], b, a);
      assert_true(sl_result_number(again, SAME[i]) == b);
    }
    sl_result_free(got), sl_result_free(again);
    sl_scenario_free(tr);
    unlink(path[f]);
  }
  sl_free(csv);
  sl_result_free(want);
  sl_scenario_free(sc);
}

/* Each malformed trace is an input error naming the file, the line and the column. */
static void test_bad_traces(void **state) {
  (void)state;
  static const struct {
    const char *text, *word;
    int line;
  } bad[] = {
      {"arrival_s,prompt_tokens\n0,10\n", "output_tokens", 1}, /* missing column */
      {"# c\narrival_s,prompt_tokens,output_tokens\n0,10,5\n1,-3,5\n", "prompt_tokens",
       4}, /* negative length */
      {"arrival_s,prompt_tokens,output_tokens\n0,10,5\n2,10,5\n1.5,10,5\n", "arrival_s", 4}, /* decreasing */
      {"arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,ten,5\n", "prompt_tokens", 3}, /* not a number */
      {"arrival_s,prompt_tokens,output_tokens\n0,10\n", "output_tokens", 2},            /* short row */
      {"arrival_s,prompt_tokens,output_tokens,prefx_id\n0,10,5,1\n", "prefix_id", 1},   /* unknown column */
      {"{\"arrival_s\": 0, \"prompt_tokens\": 3, \"output_tokens\": 4}\n{\"arrival_s\": 1, "
       "\"prompt_tokens\": "
       "2.5, \"output_tokens\": 4}\n",
       "prompt_tokens", 2},
      {"{\"arrival_s\": 0, \"prompt_tokens\": 3}\n", "output_tokens", 1},
  };
  char path[64];
  snprintf(path, sizeof path, "/tmp/silica-badtrace-%d.csv", (int)getpid());
  for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
    write_file(path, bad[i].text);
    char t[1200];
    snprintf(t, sizeof t, BASE, "trace: /tmp/silica-badtrace-0.csv,");
    char k[200];
    snprintf(k, sizeof k, "trace: %s,", path);
    snprintf(t, sizeof t, BASE, k);
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(NULL, t, NULL, 0, &sc, &err);
    char msg[900];
    sl_error_format(&err, msg, sizeof msg);
    print_message("%s\n", msg);
    assert_int_equal(s, SL_ERR_INPUT);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, bad[i].line);
    assert_non_null(strstr(err.message, bad[i].word));
    sl_scenario_free(sc);
  }
  unlink(path);
}

/* The result's input hash covers the trace's requests, not only the scenario's text. */
static void test_trace_hash(void **state) {
  (void)state;
  char path[64], k[200];
  snprintf(path, sizeof path, "/tmp/silica-hashtrace-%d.csv", (int)getpid());
  snprintf(k, sizeof k, "trace: %s,", path);
  char h[2][65];
  for (int i = 0; i < 2; i++) {
    write_file(path, i ? "arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,10,6\n"
                       : "arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,10,5\n");
    sl_scenario *sc = scenario(k);
    sl_result *r = run(sc);
    memcpy(h[i], r->input_sha256, 65);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  unlink(path);
  assert_string_not_equal(h[0], h[1]);
}

/* Each point of a curve is the run at that rate alone. */
static void test_curve_points(void **state) {
  (void)state;
  const char *common = "requests: 1500, prompt_len: {mean: 1024}, gen_len: {mean: 256},";
  char k[300];
  snprintf(k, sizeof k, "%s arrival_rate_per_s: [3, 9, 20],", common);
  sl_scenario *sc = scenario(k);
  sl_result *c = run(sc);
  assert_int_equal(c->serve.n_curve, 3);
  const double rates[] = {3, 9, 20};
  for (size_t i = 0; i < 3; i++) {
    snprintf(k, sizeof k, "%s arrival_rate_per_s: %g,", common, rates[i]);
    sl_scenario *one = scenario(k);
    sl_result *r = run(one);
    const sl_serve_point *q = &c->serve.curve[i];
    assert_true(q->rate_per_s == rates[i]);
    for (int j = 0; j < 3; j++)
      assert_true(q->ttft[j] == r->serve.ttft[j] && q->tpot[j] == r->serve.tpot[j]);
    assert_true(q->throughput_tokens_per_s == r->serve.throughput_tokens_per_s);
    assert_true(q->goodput_requests_per_s == r->serve.goodput_requests_per_s);
    if (i == 2) /* the scalar outputs are the last point's */
      for (size_t j = 0; j < SL_ARRAY_LEN(SAME); j++)
        assert_true(sl_result_number(c, SAME[j]) == sl_result_number(r, SAME[j]));
    sl_result_free(r);
    sl_scenario_free(one);
  }
  sl_result_free(c);
  sl_scenario_free(sc);
  /* a range: geometric by default, linear on request, both ends included */
  sc = scenario("arrival_rate_per_s: {from: 2, to: 32, steps: 5},");
  assert_int_equal(sc->serve.n_curve, 5);
  assert_rel(sc->serve.curve[1], 4, 1e-12, "geometric step");
  assert_true(sc->serve.curve[4] == 32);
  sl_scenario_free(sc);
  sc = scenario("arrival_rate_per_s: {from: 2, to: 32, steps: 5, scale: linear},");
  assert_rel(sc->serve.curve[1], 9.5, 1e-12, "linear step");
  sl_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gamma_gaps), cmocka_unit_test(test_on_off),
      cmocka_unit_test(test_burst_tail), cmocka_unit_test(test_trace_replay),
      cmocka_unit_test(test_bad_traces), cmocka_unit_test(test_curve_points),
      cmocka_unit_test(test_trace_hash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
