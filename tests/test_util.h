/* test_util.h — helpers shared by the cmocka tests that load and run scenarios from text
 * (include after cmocka.h and the stage headers it uses).  Each fails the test with the error, naming the
 * text. */
#ifndef SL_TEST_UTIL_H
#define SL_TEST_UTIL_H

/* got within relative tolerance tol of want. */
static inline void assert_rel(double got, double want, double tol, const char *what) {
  double rel = fabs(got - want) / fmax(fabs(want), 1e-300);
  if (!(rel <= tol)) fail_msg("%s: got %.9g, want %.9g (rel %.3g > %.3g)", what, got, want, rel, tol);
}

/* The scenario of text with n "key=value" overrides (sets may be NULL when n is 0). */
static inline sl_scenario *load_sets(const char *text, const char *const *sets, size_t n) {
  sl_scenario *sc = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, sets, n, &sc, &err)) {
    char buf[900];
    sl_error_format(&err, buf, sizeof buf);
    fail_msg("%s: %s", text, buf);
  }
  return sc;
}

static inline sl_scenario *load(const char *text) {
  return load_sets(text, NULL, 0);
}

static inline sl_result *run(const sl_scenario *sc) {
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_run(sc, &r, &err)) fail_msg("run failed: %s", err.message);
  return r;
}

#endif
