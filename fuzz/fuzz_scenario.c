/* fuzz_scenario.c — the scenario reader (with presets, systems, plans, serving) and, for inputs
 * that load and are cheap to run, one evaluation and its JSON. */
#include "fuzz_common.h"

#include <math.h>

/* Keeps each input to milliseconds: no large serving simulations or plan searches. */
static int cheap(const sl_scenario *sc) {
  double requests = sl_scenario_number(sc, "serve.requests");
  if (!isnan(requests)) return requests <= 200 && !isnan(sl_scenario_number(sc, "serve.arrival_rate_per_s"));
  double searched = sl_scenario_number(sc, "plan.searched_keys");
  if (!isnan(searched))
    return sl_scenario_number(sc, "chips") <= 64 && searched <= 2 &&
           sl_scenario_number(sc, "train.global_batch") <= 4096;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  sl_scenario *sc = NULL;
  sl_error err;
  sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &err);
  fuzz_check(s);
  if (!s && cheap(sc)) {
    sl_result *r = NULL;
    s = sl_scenario_run(sc, &r, &err);
    fuzz_check(s);
    if (!s) {
      char *j = sl_result_json(r);
      if (!j) abort();
      sl_free(j);
      (void)sl_result_number(r, "step_time_s");
    }
    sl_result_free(r);
  }
  sl_scenario_free(sc);
  free(text);
  return 0;
}
