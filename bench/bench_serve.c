/* bench_serve.c — the serving simulation's speed: 1,000,000 requests of Llama-3.1-8B on one H100
 * under continuous batching, on one core.  Prints one JSON line: requests, engine steps,
 * seconds, requests per second of simulation time.  Usage: bench_serve [requests]. */
#include "silica.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  double n = argc > 1 ? atof(argv[1]) : 1e6;
  if (!(n >= 1)) n = 1e6;
  char set[64];
  snprintf(set, sizeof set, "serve.requests=%.0f", n);
  const char *sets[] = {set};
  sl_error err;
  sl_scenario *sc = NULL;
  if (sl_scenario_load(
          NULL,
          "{chip: h100-sxm, stack: vllm, model: llama3.1-8b, task: serve, serve: {arrival_rate_per_s: 10,"
          " prompt_len: {mean: 1024}, gen_len: {mean: 256}, slo: {ttft_s: 2.0, tpot_s: 0.1}, seed: 1}}",
          sets, 1, &sc, &err)) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_serve: %s\n", buf);
    return 1;
  }
  sl_result *r = NULL;
  double t0 = now_s();
  if (sl_scenario_run(sc, &r, &err)) return 1;
  double dt = now_s() - t0;
  printf("{\"bench\": \"serve\", \"case\": \"llama3.1-8b-h100-vllm-10rps\", \"requests\": %.0f, \"steps\": "
         "%.0f, "
         "\"seconds\": %.3f, \"requests_per_s\": %.0f, \"ttft_p99_s\": %.4g, \"tpot_p99_s\": %.4g}\n",
         n, sl_result_number(r, "serve.steps"), dt, n / dt, sl_result_number(r, "serve.ttft_p99_s"),
         sl_result_number(r, "serve.tpot_p99_s"));
  sl_result_free(r);
  sl_scenario_free(sc);
  return 0;
}
