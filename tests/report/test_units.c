/* test_units.c — figures as people read them: money without exponents, memory in one unit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

static void test_usd(void **state) {
  (void)state;
  char b[48];
  static const struct {
    double v;
    const char *want;
  } cases[] = {{14510.4, "$14,510"}, {1451000, "$1,451,000"}, {999.4, "$999.4"},       {7.0894, "$7.089"},
               {0.88806, "$0.8881"}, {0.0123456, "$0.01235"}, {1.2e-5, "$0.00001200"}, {0, "$0"},
               {-2500, "-$2,500"},   {1234.6, "$1,235"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unit_usd(cases[i].v, b, sizeof b);
    assert_string_equal(b, cases[i].want);
    assert_null(strchr(b, 'e'));
  }
  unit_usd(NAN, b, sizeof b);
  assert_string_equal(b, "-");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_usd)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
