/* test_json.c — the JSON writer (numbers, escapes, YAML trees), SHA-256 against FIPS 180-4 vectors,
 * and the result's JSON and numbers for a small scenario. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

static void test_sha256_vectors(void **state) {
  (void)state;
  char h[65];
  sha256_hex("abc", 3, h);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha256_hex("", 0, h);
  assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  /* 56 bytes: the length no longer fits the first padding block. */
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256_hex(two, strlen(two), h);
  assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  char *a = malloc(1000000);
  assert_non_null(a);
  memset(a, 'a', 1000000);
  sha256_hex(a, 1000000, h);
  assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(a);
}

static void test_numbers(void **state) {
  (void)state;
  static const struct {
    double v;
    const char *want;
  } cases[] = {{0.1, "0.1"},        {1e15, "1000000000000000"},
               {-0.0, "0"},         {1e300, "1e+300"},
               {2.5e-7, "2.5e-07"}, {1.0 / 3, "0.3333333333333333"},
               {-42, "-42"},        {9007199254740992.0, "9007199254740992"},
               {1e17, "1e+17"}};
  char s[32];
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    jb_format_number(cases[i].v, s);
    assert_string_equal(s, cases[i].want);
  }
  jb_format_number(NAN, s);
  assert_string_equal(s, "null");
  jb_format_number(INFINITY, s);
  assert_string_equal(s, "null");
}

static void test_structure_and_escapes(void **state) {
  (void)state;
  jbuf b;
  jb_init(&b);
  jb_obj_begin(&b, NULL);
  jb_str(&b, "s", "q\"b\\n\n\x01");
  jb_arr_begin(&b, "a");
  jb_bool(&b, NULL, 1);
  jb_null(&b, NULL);
  jb_obj_begin(&b, NULL);
  jb_obj_end(&b);
  jb_arr_end(&b);
  jb_value_raw(&b, "raw", "[1,2]");
  jb_str(&b, "nul", NULL);
  jb_obj_end(&b);
  assert_false(b.oom);
  assert_string_equal(b.s,
                      "{\"s\":\"q\\\"b\\\\n\\n\\u0001\",\"a\":[true,null,{}],\"raw\":[1,2],\"nul\":null}");
  jb_free(&b);
}

static void test_yaml_tree(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  yt_node *n = NULL;
  sl_error err;
  const char *y = "x: 1_000\ny: '5'\nz: [true, no, ~, abc, -2.5e3, .inf]\nw: {}\nv:\n";
  assert_int_equal(yt_parse(&a, y, strlen(y), "t.yaml", &n, &err), SL_OK);
  jbuf b;
  jb_init(&b);
  jb_node(&b, NULL, n);
  assert_string_equal(b.s, "{\"x\":1000,\"y\":\"5\",\"z\":[true,false,null,\"abc\",-2500,\".inf\"],"
                           "\"w\":{},\"v\":null}");
  jb_free(&b);
  ar_free(&a);
}

/* A single GEMM: whatever the model predicts, the result's keys must agree with each other. */
static void test_result_json(void **state) {
  (void)state;
  sl_error err;
  sl_scenario *sc = NULL;
  const char *text = "{chip: h100-sxm, model: {op: gemm, m: 1024, n: 1024, k: 1024}, task: infer}";
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  sl_result *res = NULL;
  assert_int_equal(sl_scenario_run(sc, &res, &err), SL_OK);
  sl_scenario_free(sc); /* the result must not need the scenario any more */
  assert_true(sl_result_feasible(res));
  assert_string_equal(sl_result_reason(res), "");
  double t = sl_result_number(res, "step_time_s");
  assert_true(t > 0 && isfinite(t));
  assert_true(isnan(sl_result_number(res, "no_such_key")));
  assert_true(isnan(sl_result_number(res, "ttft_s"))); /* not an LLM */
  assert_true(sl_result_number(res, "memory.fits") == 1);
  assert_true(sl_result_number(res, "parallel.tp") == 1);
  char *j = sl_result_json(res);
  assert_non_null(j);
  assert_non_null(strstr(j, "\"silica_version\":\"" SILICA_VERSION "\""));
  assert_non_null(strstr(j, "\"scenario\":{\"chip\":{\"name\":\"h100-sxm\""));
  assert_non_null(strstr(j, "\"feasible\":true"));
  assert_null(strstr(j, "\"reason\""));
  assert_non_null(strstr(j, "\"breakdown\":[{\"name\":"));
  assert_null(strstr(j, "\"ttft_s\""));
  free(j);
  sl_result_free(res);
  sl_result_free(NULL);
}

static void test_result_keys_known(void **state) {
  (void)state;
  assert_true(result_key_known("step_time_s"));
  assert_true(result_key_known("memory.per_chip_bytes"));
  assert_true(result_key_known("energy.step_j"));
  assert_false(result_key_known("step_time"));
  assert_false(result_key_known("time_s"));
  assert_false(result_key_known(""));
  assert_false(result_key_known("step_time_s tokens_per_s"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256_vectors),        cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_structure_and_escapes), cmocka_unit_test(test_yaml_tree),
      cmocka_unit_test(test_result_json),           cmocka_unit_test(test_result_keys_known),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
