/* test_suggest.c — edit distance and the closest known word ("did you mean"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "io/io.h"

static void test_edit_distance(void **state) {
  (void)state;
  assert_int_equal(io_edit_distance("", ""), 0);
  assert_int_equal(io_edit_distance("abc", "abc"), 0);
  assert_int_equal(io_edit_distance("kitten", "sitting"), 3);
  assert_int_equal(io_edit_distance("global_bacth", "global_batch"), 1); /* a swap is one edit */
  assert_int_equal(io_edit_distance("", "abcd"), 4);
  assert_int_equal(io_edit_distance("batch", "bath"), 1);
}

static void test_closest(void **state) {
  (void)state;
  const char *keys[] = {"seq_len", "global_batch", "micro_batch", NULL, "recompute"};
  assert_string_equal(io_closest("global_bacth", keys, 5), "global_batch");
  assert_string_equal(io_closest("micro_bach", keys, 5), "micro_batch");
  assert_string_equal(io_closest("recompte", keys, 5), "recompute");
  assert_null(io_closest("optimizer", keys, 5));
  assert_null(io_closest("seq_len", keys, 5)); /* itself is not a suggestion */
  /* short words allow one edit */
  const char *k2[] = {"tp", "dp", "pp"};
  assert_non_null(io_closest("tq", k2, 3));
  assert_null(io_closest("xyz", k2, 3));
}

static void test_asked(void **state) {
  (void)state;
  yt_node a = {.type = YT_MAP}, b = {.type = YT_MAP};
  yt_get(&a, "arrival_rate_per_s");
  yt_get(&a, "requests");
  yt_get(&b, "requested");
  assert_string_equal(yt_asked_closest(&a, "arival_rate_per_s"), "arrival_rate_per_s");
  assert_string_equal(yt_asked_closest(&a, "request"), "requests");
  assert_string_equal(yt_asked_closest(&b, "requestd"), "requested");
  assert_null(yt_asked_closest(&b, "arival_rate_per_s"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_closest),
      cmocka_unit_test(test_asked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
