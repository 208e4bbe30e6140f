/* test_public_faults.c — the renderings and runs of the public API behind the silica program
 * (show, list, validate, run as text, compare, calibrate, sweep) with each of their allocations made
 * to fail in turn (core's fault injection): every attempt must end in an error status or succeed,
 * never crash, and free what it took (the sanitizer build checks the leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

enum { SHOW, LIST, VALIDATE, RUN_TEXT, COMPARE, CALIBRATE, SWEEP, N_CALLS };
static const char *const NAMES[N_CALLS] = {"show",    "list",      "validate", "run text",
                                           "compare", "calibrate", "sweep"};

static const char SWEEP_TEXT[] =
    "{name: t, chip: mtia-2i, parameters: {cores: [32, 64]}, workloads: [{name: d, weight: 1, scenario: "
    "{model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 1024}}}], objectives: [perf_per_tco], "
    "strategy: grid}";

static void remove_db(const char *db) {
  char p[128];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
}

/* One attempt of call `what`; returns its status. */
static sl_status attempt(int what, const char *db) {
  sl_error err;
  char *out = NULL, *frag = NULL;
  sl_status s = SL_OK;
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_sweep *sw = NULL;
  const char *cases[] = {"tests/data/report-cases.yaml"}, *cal[] = {"tests/data/llmcompass-a100-sweep.yaml"};
  const char *chips[] = {"mtia-2i"}, *wl[] = {"examples/compare-llm-decode.yaml"};
  sl_compare_params p = {chips, 1, wl, 1, NULL, 0, 0, SL_FORMAT_TEXT, NULL};
  switch (what) {
  case SHOW:
    s = sl_spec_show("chip", "h100-sxm", SL_FORMAT_TEXT, &out, &err);
    break;
  case LIST:
    s = sl_preset_list("models", &out, &err);
    break;
  case VALIDATE:
    s = sl_validate(cases, 1, NULL, SL_FORMAT_MARKDOWN, &out, NULL, &err);
    break;
  case RUN_TEXT:
    s = sl_scenario_load(NULL, "{chip: h100-sxm, model: llama3.1-8b, task: decode}", NULL, 0, &sc, &err);
    if (!s) s = sl_scenario_run(sc, &r, &err);
    if (!s && !(out = sl_result_text(sc, r, 0))) s = SL_ERR_INTERNAL;
    break;
  case COMPARE:
    s = sl_compare(&p, &out, &err);
    break;
  case CALIBRATE:
    s = sl_calibrate("a100-sxm-80gb", cal, 1, SL_FORMAT_JSON, NULL, &out, &frag, &err);
    break;
  case SWEEP:
    remove_db(db);
    s = sl_sweep_load(NULL, SWEEP_TEXT, &sw, &err);
    if (!s) s = sl_sweep_run(sw, db, NULL, NULL, &out, &err);
    break;
  }
  sl_free(out);
  sl_free(frag);
  sl_result_free(r);
  sl_scenario_free(sc);
  sl_sweep_free(sw);
  return s;
}

static void test_each_allocation_fails(void **state) {
  (void)state;
  char db[] = "/tmp/test_public_faults_XXXXXX";
  int fd = mkstemp(db);
  assert_true(fd >= 0);
  close(fd);
  for (int what = 0; what < N_CALLS; what++) {
    long n = 1;
    for (; n < 5000; n++) {
      sl_alloc_fail_after(n);
      sl_status s = attempt(what, db);
      sl_alloc_fail_after(0);
      if (s == SL_OK) break;
      if (s != SL_ERR_INTERNAL && s != SL_ERR_INPUT)
        fail_msg("%s: allocation %ld failed: status %d", NAMES[what], n, s);
    }
    if (n == 5000) fail_msg("%s: never succeeded", NAMES[what]);
    if (n == 1) fail_msg("%s: succeeded with no allocation at all", NAMES[what]);
    assert_int_equal(attempt(what, db), SL_OK); /* and nothing was left broken */
  }
  remove_db(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_each_allocation_fails)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
