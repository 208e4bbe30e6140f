/* bench_eval.c — whole-scenario evaluations per second on one core: Llama-3.1-70B prefill and
 * decode on one chip, with batch and lengths changed every iteration so nothing is reused.
 * (batch cycles over 1..7 for prefill and 1..23 for decode, prompt_len over 512..16892).
 * Each evaluation reuses one result (sl_scenario_run_into), so none allocates once warm.
 * Prints one JSON line per case.  Usage: bench_eval [seconds per case, default 1]. */
#include "silica.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_case(const char *name, const char *text, long batches, double seconds) {
  sl_error err;
  sl_scenario *sc = NULL;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err)) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_eval: %s\n", buf);
    return 1;
  }
  sl_result *res = NULL; /* one run to get a result whose memory the loop reuses */
  if (sl_scenario_run(sc, &res, &err)) return 1;
  double base_batch = sl_scenario_number(sc, "infer.batch"),
         base_prompt = sl_scenario_number(sc, "infer.prompt_len");
  double checksum = 0;
  long n = 0, feasible = 0;
  double t0 = now_s(), t1 = t0;
  while (t1 - t0 < seconds) {
    for (int i = 0; i < 256; i++, n++) {
      if (sl_scenario_set_number(sc, "infer.batch", base_batch + (double)(n % batches), &err) ||
          sl_scenario_set_number(sc, "infer.prompt_len", base_prompt + (double)((n * 37) % 16381), &err) ||
          sl_scenario_run_into(sc, NULL, res, &err))
        return 1;
      int ok = sl_result_feasible(res);
      feasible += ok;
      checksum += ok ? sl_result_number(res, "step_time_s") : 0;
    }
    t1 = now_s();
  }
  double dt = t1 - t0;
  printf("{\"bench\": \"eval\", \"case\": \"%s\", \"evaluations\": %ld, \"distinct_inputs\": %ld, "
         "\"feasible\": %ld, \"seconds\": %.3f, \"evals_per_s\": %.0f, \"ns_per_eval\": %.0f, \"checksum\": "
         "%.6g}\n",
         name, n, n < batches * 16381 ? n : batches * 16381, feasible, dt, (double)n / dt,
         dt / (double)n * 1e9, checksum);
  sl_result_free(res);
  sl_scenario_free(sc);
  return 0;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (!(seconds > 0)) seconds = 1.0;
  int rc = 0;
  rc |= run_case("llama3.1-70b-prefill-b200",
                 "{chip: b200, model: llama3.1-70b, task: prefill, infer: {batch: 1, prompt_len: 512}}", 7,
                 seconds);
  rc |= run_case("llama3.1-70b-decode-b200",
                 "{chip: b200, model: llama3.1-70b, task: decode, infer: {batch: 1, prompt_len: 512}}", 23,
                 seconds);
  rc |= run_case(
      "llama3.1-70b-decode-mi300x-fp8",
      "{chip: mi300x, model: llama3.1-70b, precision: fp8, task: decode, infer: {batch: 1, prompt_len: 512}}",
      23, seconds);
  return rc;
}
