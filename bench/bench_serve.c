/* bench_serve.c — the serving simulation's speed, on one core: 1,000,000 requests of Llama-3.1-8B
 * under continuous batching, on one H100 (target: under 10 s) and on 16 H100s as 16 replicas behind
 * the least-outstanding-tokens router at 16 times the rate (target: under 30 s).  Prints one JSON
 * line per case: requests, engine steps, wall and CPU seconds, the target, requests per CPU second.
 * Usage: bench_serve [requests].  Exit 1 when a case's CPU time (one thread: the time on one core,
 * whatever else the machine runs) misses its target. */
#include "silica.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const struct {
  const char *name, *scenario;
  double target_s; /* for 1,000,000 requests; scaled to the requests asked for */
} CASES[] = {
    {"llama3.1-8b-h100-vllm-10rps",
     "{chip: h100-sxm, stack: vllm, model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: 10,"
     " prompt_len: {mean: 1024}, gen_len: {mean: 256}, slo: {ttft_s: 2.0, tpot_s: 0.1}, seed: 1}}",
     10},
    {"llama3.1-8b-16xh100-dp16-router-160rps",
     "{chip: h100-sxm, stack: vllm, model: llama3.1-8b, task: serve, system: {chips: 16, node_chips: 8},"
     " parallel: {tp: 1, dp: 16}, serve: {arrival_rate_per_s: 160, router: least_tokens,"
     " prompt_len: {mean: 1024}, gen_len: {mean: 256}, slo: {ttft_s: 2.0, tpot_s: 0.1}, seed: 1}}",
     30},
};

int main(int argc, char **argv) {
  double n = argc > 1 ? atof(argv[1]) : 1e6;
  if (!(n >= 1)) n = 1e6;
  char set[64];
  snprintf(set, sizeof set, "serve.requests=%.0f", n);
  const char *sets[] = {set};
  int missed = 0;
  for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
    sl_error err;
    sl_scenario *sc = NULL;
    if (sl_scenario_load(NULL, CASES[c].scenario, sets, 1, &sc, &err)) {
      char buf[600];
      sl_error_format(&err, buf, sizeof buf);
      fprintf(stderr, "bench_serve: %s\n", buf);
      return 1;
    }
    sl_result *r = NULL;
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    if (sl_scenario_run(sc, &r, &err)) return 1;
    double dt = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    double target = CASES[c].target_s * n / 1e6;
    missed |= cpu > target;
    printf("{\"bench\": \"serve\", \"case\": \"%s\", \"requests\": %.0f, \"steps\": %.0f, \"seconds\": %.3f, "
           "\"cpu_seconds\": %.3f, \"target_s\": %.3g, \"requests_per_s\": %.0f, \"ttft_p99_s\": %.4g, "
           "\"tpot_p99_s\": %.4g}\n",
           CASES[c].name, n, sl_result_number(r, "serve.steps"), dt, cpu, target, n / cpu,
           sl_result_number(r, "serve.ttft_p99_s"), sl_result_number(r, "serve.tpot_p99_s"));
    fflush(stdout);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  return missed;
}
