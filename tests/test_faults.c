/* test_faults.c — fault injection: every allocation of loading and running a scenario (and of
 * validation and calibration) is made to fail in turn; each must end in an error status, never a
 * crash, and leak nothing (the sanitizer build runs LeakSanitizer over this test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

/* Loads and runs text once with the n-th allocation failing; returns 1 when it completed
 * without meeting the failure. */
static int once(const char *text, long n, long *failures) {
  sl_alloc_fail_after(n);
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &err);
  if (!s) s = sl_scenario_run(sc, &r, &err);
  char *j = NULL;
  if (!s) {
    j = sl_result_json(r);
    if (!j) s = SL_ERR_INTERNAL;
  }
  long used = sl_alloc_count();
  sl_alloc_fail_after(0);
  free(j);
  sl_result_free(r);
  sl_scenario_free(sc);
  if (s == SL_OK) return used < n; /* the failure point was never reached */
  if (s != SL_ERR_INTERNAL && s != SL_ERR_INPUT)
    fail_msg("allocation %ld: status %d (%s)", n, s, err.message);
  (*failures)++;
  return 0;
}

static void sweep(const char *text) {
  long failures = 0, n = 1;
  while (!once(text, n, &failures)) {
    n++;
    if (n > 200000) fail_msg("did not complete after %ld allocations", n);
  }
  print_message("%ld allocations, each failed in turn: %ld errors, 0 crashes\n", n - 1, failures);
  assert_true(failures > 0);
}

static void test_decode(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, model: llama3.2-1b, task: decode, infer: {batch: 2, prompt_len: 64}}");
}

static void test_train_search(void **state) {
  (void)state;
  sweep("{chip: a100-sxm-80gb, system: {chips: 16, node_chips: 8}, model: llama3.2-1b, task: train,"
        " train: {seq_len: 512, global_batch: 32, micro_batch: auto}, parallel: {tp: auto, pp: auto}}");
}

static void test_serve(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, model: llama3.2-1b, task: serve, serve: {arrival_rate_per_s: 10, requests: 20,"
        " prompt_len: 64, gen_len: 4}}");
}

static void test_collective_and_op(void **state) {
  (void)state;
  sweep("{chip: h100-sxm, system: dgx-h100, task: infer, model: {op: all_reduce, bytes: 1048576}}");
  sweep("{chip: mi300x, stack: pytorch-eager, task: infer, model: {op: attention, batch: 1, seq_len: 128,"
        " heads: 4, head_dim: 64}}");
}

static void test_validation(void **state) {
  (void)state;
  long n = 1, failures = 0;
  for (;; n++) {
    sl_validation v;
    val_init(&v);
    sl_error err;
    sl_alloc_fail_after(n);
    sl_status s = val_run_file(&v, SILICA_SOURCE_DIR "/fuzz/corpus/cases/small.yaml", NULL, &err);
    if (!s) val_summarise(&v);
    char *j = s ? NULL : val_json(&v);
    long used = sl_alloc_count();
    sl_alloc_fail_after(0);
    if (!s && !j) s = SL_ERR_INTERNAL;
    free(j);
    val_free(&v);
    if (!s && used < n && v.internal_errors == 0) break;
    if (s || v.internal_errors) failures++;
    if (n > 200000) fail_msg("validation did not complete");
  }
  print_message("validation: %ld allocations failed in turn, %ld errors\n", n - 1, failures);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_decode), cmocka_unit_test(test_train_search),
                                     cmocka_unit_test(test_serve), cmocka_unit_test(test_collective_and_op),
                                     cmocka_unit_test(test_validation)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
