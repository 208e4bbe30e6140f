/* test_api_extra.c — the report writer (src/report/) and the binding helpers (src/report/api.c)
 * in C, so that they run under ASan+UBSan too: input kinds, the charts each kind makes and their row
 * counts, escaping of hostile strings, errors, the JSON of chips and validation, and fault
 * injection (every allocation of a report made to fail in turn: an error, never a crash or a leak).
 * The browser side (the charts really drawn) is tests/report_browser.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "report/report.h"

extern const int sl_web_complete;

static char *run_json(const char *scenario) {
  sl_error err;
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  if (sl_scenario_load(NULL, scenario, NULL, 0, &sc, &err) != SL_OK) fail_msg("load: %s", err.message);
  if (sl_scenario_run(sc, &r, &err) != SL_OK) fail_msg("run: %s", err.message);
  char *j = sl_result_json(r);
  assert_non_null(j);
  sl_result_free(r);
  sl_scenario_free(sc);
  return j;
}

static const char DECODE[] =
    "{chip: h100-sxm, model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 1024}}";
static const char TRAIN[] = "{chip: h100-sxm, model: llama3.2-1b, task: train, train: {seq_len: 2048, "
                            "global_batch: 32, micro_batch: 2}}";

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* "rows": N of the chart titled `title` in the page's chart list; -1 when absent. */
static long chart_rows(const char *html, const char *title) {
  char key[256];
  snprintf(key, sizeof key, "\"title\":\"%s\"", title);
  const char *p = strstr(html, key);
  if (!p) return -1;
  const char *r = strstr(p, "\"rows\":");
  return r ? strtol(r + 7, NULL, 10) : -1;
}

static char *report_n(const char *json, size_t len, sl_status want) {
  sl_error err;
  char *html = NULL;
  sl_status s = sl_report_html(json, len, "test", &html, &err);
  if (s != want) fail_msg("sl_report_html: status %d, wanted %d: %s", s, want, err.message);
  if (s == SL_OK) {
    assert_non_null(html);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "</html>\n"));
  } else {
    assert_null(html);
    assert_true(err.message[0] != 0);
  }
  return html;
}

static char *report(const char *json, sl_status want) {
  return report_n(json, strlen(json), want);
}

static void test_kinds(void **state) {
  (void)state;
  char *run = run_json(DECODE);
  assert_string_equal(sl_report_kind(run, strlen(run)), "run");
  size_t n = strlen(run);
  char *two = malloc(2 * n + 8), *arr = malloc(2 * n + 8);
  assert_non_null(two);
  assert_non_null(arr);
  snprintf(two, 2 * n + 8, "%s\n%s\n", run, run); /* JSON lines */
  snprintf(arr, 2 * n + 8, "[%s,%s]", run, run);  /* an array */
  assert_string_equal(sl_report_kind(two, strlen(two)), "scaling");
  assert_string_equal(sl_report_kind(arr, strlen(arr)), "scaling");
  assert_null(sl_report_kind("{\"a\": 1}", 8));
  assert_null(sl_report_kind("not json", 8));
  assert_null(sl_report_kind("[1, 2]", 6));
  assert_null(sl_report_kind("", 0));
  assert_string_equal(sl_report_kind("SQLite format 3\0\0\0\0", 20), "sweep-db");
  assert_string_equal(sl_report_kind("{\"cases\": [], \"mape\": null}", 27), "validation");
  const char *cmp = "{\"baseline\": \"a\", \"chips\": [\"a\"], \"workloads\": []}";
  assert_string_equal(sl_report_kind(cmp, strlen(cmp)), "compare");
  free(two);
  free(arr);
  sl_free(run);
}

static void test_run_report(void **state) {
  (void)state;
  if (!sl_web_complete) skip();
  char *json = run_json(TRAIN);
  char *html = report(json, SL_OK);
  assert_non_null(strstr(html, "<body data-kind=\"run\">"));
  assert_non_null(strstr(html, "vegaEmbed")); /* the libraries are inside */
  assert_null(strstr(html, "sourceMappingURL"));
  assert_null(strstr(html, "src=\"http")); /* nothing fetched */
  /* the breakdown's rows are the time-per-op chart's rows */
  yt_node *root = NULL;
  arena a;
  ar_init(&a);
  sl_error err;
  assert_int_equal(yt_parse(&a, json, strlen(json), "json", &root, &err), SL_OK);
  yt_node *bd = yt_get(root, "breakdown");
  assert_non_null(bd);
  assert_int_equal(chart_rows(html, "Time per op"), (long)bd->n);
  assert_true(chart_rows(html, "Roofline") > 0 && chart_rows(html, "Roofline") <= (long)bd->n);
  assert_int_equal(chart_rows(html, "Memory per chip"), 4); /* weights, grads, optimizer, activations */
  assert_true(chart_rows(html, "Time per phase") >= 3);
  assert_non_null(strstr(html, "\"roofs\":[{")); /* the chip's roofs were read back from the result */
  ar_free(&a);
  sl_free(html);
  sl_free(json);
}

/* Replaces the first `from` in s by `to` (the same length), so that a key of a JSON text disappears. */
static void rename_key(char *s, const char *from, const char *to) {
  char *p = strstr(s, from);
  assert_non_null(p);
  assert_int_equal(strlen(from), strlen(to));
  memcpy(p, to, strlen(to));
}

/* The roofline is drawn from the result's "roofline" object, never from the chip spec; without the
 * object (an older result) the ops are placed without roofs. */
static void test_roofline_from_result(void **state) {
  (void)state;
  if (!sl_web_complete) skip();
  char *json = run_json(DECODE);
  rename_key(json, "\"scenario\":{\"chip\":", "\"scenario\":{\"chiq\":"); /* no chip spec */
  char *html = report(json, SL_OK);
  assert_true(chart_rows(html, "Roofline") > 0);
  assert_non_null(strstr(html, "\"roof\":\"hbm3 3350 GB/s\""));
  assert_non_null(strstr(html, "\"roof\":\"l2 12000 GB/s\""));
  assert_non_null(
      strstr(html, "the bf16 matrix peak (989.4 TFLOP/s) and the hbm3 bandwidth roof (3350 GB/s; ridge at"));
  sl_free(html);
  rename_key(json, "\"roofline\":", "\"roofliNe\":"); /* as from an older silica */
  html = report(json, SL_OK);
  assert_true(chart_rows(html, "Roofline") > 0);
  assert_non_null(strstr(html, "\"roofs\":[]"));
  assert_non_null(strstr(html, "the result has no roofline figures"));
  sl_free(html);
  sl_free(json);
}

static void test_scaling_report(void **state) {
  (void)state;
  if (!sl_web_complete) skip();
  jbuf b;
  jb_init(&b);
  jb_raw(&b, "[");
  for (int i = 0; i < 4; i++) {
    char sc[256];
    snprintf(sc, sizeof sc,
             "{chip: h100-sxm, model: llama3.2-1b, task: train, system: {chips: %d, node_chips: 8},"
             " parallel: {tp: 1, pp: 1}, train: {seq_len: 2048, global_batch: 64}}",
             8 << i);
    char *j = run_json(sc);
    if (i) jb_raw(&b, ",");
    jb_raw(&b, j);
    sl_free(j);
  }
  jb_raw(&b, "]");
  char *html = report(b.s, SL_OK);
  assert_non_null(strstr(html, "data-kind=\"scaling\""));
  assert_int_equal(chart_rows(html, "Step time against chips"), 4);
  assert_int_equal(chart_rows(html, "Throughput against chips"), 4);
  assert_int_equal(chart_rows(html, "Scaling efficiency"), 4);
  assert_non_null(strstr(html, "\"values\": [8, 16, 32, 64]")); /* a tick at each number of chips */
  sl_free(html);
  jb_free(&b);
}

static void test_validation_and_chip_json(void **state) {
  (void)state;
  const char *files[] = {SILICA_SOURCE_DIR "/tests/data/report-cases.yaml"};
  char *v = NULL;
  sl_error err;
  assert_int_equal(sl_validate_json(files, 1, NULL, &v, &err), SL_OK);
  assert_int_equal((long)count(v, "\"status\":"), 7);
  assert_non_null(strstr(v, "\"fail\":2")); /* the tight case and the 64-row A100 product */
  if (sl_web_complete) {
    char *html = report(v, SL_OK);
    assert_int_equal(chart_rows(html, "Predicted against measured"), 7);
    assert_int_equal(chart_rows(html, "Error per check"), 7);
    sl_free(html);
  }
  sl_free(v);
  v = NULL;
  assert_int_equal(sl_validate_json(files, 1, "^nothing$", &v, &err), SL_ERR_INPUT);
  assert_null(v);
  assert_int_equal(sl_validate_json(files, 1, "([", &v, &err), SL_ERR_INPUT);
  const char *missing[] = {"/no/such/cases.yaml"};
  assert_int_equal(sl_validate_json(missing, 1, NULL, &v, &err), SL_ERR_INPUT);
  assert_int_equal(sl_validate_json(NULL, 0, NULL, &v, &err), SL_ERR_INPUT);

  char *c = NULL;
  assert_int_equal(sl_chip_json("h100-sxm", &c, &err), SL_OK);
  assert_non_null(strstr(c, "\"name\":\"h100-sxm\""));
  assert_non_null(strstr(c, "\"peak_tflops\":{"));
  assert_non_null(strstr(c, "\"validation\":\"calibrated\""));
  sl_free(c);
  c = NULL;
  assert_int_equal(sl_chip_json("no-such-chip", &c, &err), SL_ERR_INPUT);
  assert_null(c);
  assert_int_equal(sl_chip_json("", &c, &err), SL_ERR_INPUT);
  assert_string_equal(sl_version(), SILICA_VERSION);
  sl_free(NULL);
}

static void test_errors_and_escaping(void **state) {
  (void)state;
  char *h = report_n("SQLite format 3\0 the rest of a database", 40, SL_ERR_UNSUPPORTED);
  h = report("{\"hello\": 1}", SL_ERR_INPUT);
  h = report("{\"scenario\": {}, \"feasible\": tru", SL_ERR_INPUT);
  h = report("   ", SL_ERR_INPUT);
  h = report("<html>", SL_ERR_INPUT);
  h = report("{\"scenario\": {}, \"feasible\": true} trailing", SL_ERR_INPUT);
  (void)h;
  if (!sl_web_complete) return;
  /* A minimal run result with hostile names: nothing may end the page's script elements or inject
   * markup; a result with no breakdown, memory or energy still makes a page. */
  const char *evil =
      "{\"scenario\": {\"chip\": {\"name\": \"</script><script>alert(1)</script>\"}, \"task\": \"decode\","
      " \"model\": {\"name\": \"<b>m</b>\"}}, \"feasible\": true, \"step_time_s\": 0.001,"
      " \"breakdown\": [{\"name\": \"</script><!--x\", \"phase\": \"decode\", \"category\": \"gemm\", "
      "\"count\": 1,"
      " \"time_s\": 0.001, \"flops\": 1e9, \"bytes\": 1e6, \"bound\": \"memory\"}]}";
  h = report(evil, SL_OK);
  assert_null(strstr(h, "<script>alert"));
  assert_null(strstr(h, "<b>m</b>"));
  assert_null(strstr(h, "</script><!--x"));
  assert_int_equal(chart_rows(h, "Time per op"), 1);
  assert_int_equal(chart_rows(h, "Roofline"), 1);
  assert_int_equal(chart_rows(h, "Memory per chip"), -1);
  assert_non_null(strstr(h, "no energy figures"));
  sl_free(h);
  /* infeasible: the reason, no op charts */
  h = report("{\"scenario\": {}, \"feasible\": false, \"reason\": \"does not fit\"}", SL_OK);
  assert_non_null(strstr(h, "does not fit"));
  assert_int_equal(chart_rows(h, "Time per op"), -1);
  sl_free(h);
  char *out = (char *)1;
  sl_error err;
  assert_int_equal(sl_report_html(NULL, 0, NULL, &out, &err), SL_ERR_INTERNAL);
  assert_null(out);
}

/* Every allocation of a run report made to fail in turn. */
static void test_report_faults(void **state) {
  (void)state;
  if (!sl_web_complete) skip();
  char *json = run_json(TRAIN);
  long n = 1, failures = 0;
  for (;; n++) {
    sl_alloc_fail_after(n);
    char *html = NULL;
    sl_error err;
    sl_status s = sl_report_html(json, strlen(json), "faults", &html, &err);
    long used = sl_alloc_count();
    sl_alloc_fail_after(0);
    if (s == SL_OK) {
      sl_free(html);
      if (used < n) break; /* ran to the end without meeting the failure */
      fail_msg("allocation %ld failed but the report succeeded", n);
    }
    assert_null(html);
    /* libyaml reports its own allocation failures as a parse error (yaml_tree.c) */
    if (s != SL_ERR_INTERNAL && s != SL_ERR_INPUT)
      fail_msg("allocation %ld: status %d (%s)", n, s, err.message);
    failures++;
  }
  assert_true(failures > 10);
  sl_free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),
      cmocka_unit_test(test_run_report),
      cmocka_unit_test(test_roofline_from_result),
      cmocka_unit_test(test_scaling_report),
      cmocka_unit_test(test_validation_and_chip_json),
      cmocka_unit_test(test_errors_and_escaping),
      cmocka_unit_test(test_report_faults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
