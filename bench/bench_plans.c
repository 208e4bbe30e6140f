/* bench_plans.c — plan search speed: every parallel plan of a training scenario enumerated and
 * evaluated (step time, memory) on one core.  Prints one JSON line per case:
 * plans enumerated, evaluated, seconds, plans per second.  Usage: bench_plans [repeats, default 3]. */
#include "silica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The number after the first "key": in json; 0 when there is none. */
static double json_number(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = json ? strstr(json, pat) : NULL;
  return p ? strtod(p + strlen(pat), NULL) : 0;
}

/* Calculon's llm-optimal-execution question: a 530B GPT (hidden 20480, 105 layers, 128 heads,
 * sequence 2048) on A100s with global_batch {max: 2520}. */
#define GPT530B(chips)                                                                                       \
  "{chip: a100-sxm-80gb, system: {preset: dgx-a100, chips: " chips                                           \
  "}, stack: megatron-2022, precision: fp16,"                                                                \
  " model: {transformer: {hidden: 20480, layers: 105, heads: 128, ffn: 81920, vocab: 51200, activation: "    \
  "gelu,"                                                                                                    \
  " norm: layernorm, position: learned, tied_embeddings: true}}, task: train,"                               \
  " train: {seq_len: 2048, global_batch: {max: 2520}, micro_batch: auto, recompute: auto}, parallel: auto}"

static int run_case(const char *name, const char *text, int repeats) {
  sl_error err;
  sl_scenario *sc = NULL;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err)) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_plans: %s\n", buf);
    return 1;
  }
  double best = 1e30, enumerated = 0, evaluated = 0, step = 0;
  for (int i = 0; i < repeats; i++) {
    sl_result *r = NULL;
    double t0 = now_s();
    if (sl_scenario_run(sc, &r, &err)) return 1;
    double dt = now_s() - t0;
    if (dt < best) best = dt;
    char *json = sl_result_json(r); /* "search": {"plans_enumerated", "plans_evaluated"} */
    enumerated = json_number(json, "plans_enumerated");
    evaluated = json_number(json, "plans_evaluated");
    sl_free(json);
    step = sl_result_feasible(r) ? sl_result_number(r, "step_time_s") : 0;
    sl_result_free(r);
  }
  printf("{\"bench\": \"plans\", \"case\": \"%s\", \"plans_enumerated\": %.0f, \"plans_evaluated\": %.0f, "
         "\"seconds\": %.4f, \"plans_per_s\": %.0f, \"best_step_time_s\": %.4g}\n",
         name, enumerated, evaluated, best, evaluated / best, step);
  sl_scenario_free(sc);
  return 0;
}

int main(int argc, char **argv) {
  int repeats = argc > 1 ? atoi(argv[1]) : 3;
  if (repeats < 1) repeats = 1;
  int rc = 0;
  rc |= run_case("gpt-530b-5128xa100-gbs-max-2520", GPT530B("5128"), repeats);
  rc |= run_case("gpt-530b-5120xa100-gbs-max-2520", GPT530B("5120"), repeats);
  rc |= run_case(
      "llama3.1-405b-16384xh100",
      "{chip: h100-sxm, system: {preset: dgx-h100, chips: 16384}, model: llama3.1-405b, task: train,"
      " train: {seq_len: 8192, global_batch: 2048, micro_batch: auto, recompute: auto}, parallel: auto}",
      repeats);
  return rc;
}
