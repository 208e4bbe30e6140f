/* test_campaign.c — training campaigns (src/sim/campaign.c): the expected time of checkpointed work
 * under failures against a naive renewal-equation reference, Young's and Daly's intervals against
 * the optimum of that time, the seeded Monte Carlo against the closed form, a campaign without
 * failures against its stages' steps, and the new keys' bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sim.h"

/* One segment of w seconds (checkpoint included) under exponential failures of mean M, each
 * followed by a restart of R that a failure may cut short.  Renewal: the segment either runs
 * clean (probability e^(-w/M)), or fails at t < w and costs t, the restart (expected M(e^(R/M)-1)
 * with its own failures) and a fresh segment.  The integral by the trapezoid rule. */
static double naive_segment(double w, double R, double M) {
  const int N = 200000;
  double h = w / N, integ = 0;
  for (int i = 0; i <= N; i++) {
    double t = i * h, f = t * exp(-t / M) / M;
    integ += (i == 0 || i == N) ? f / 2 : f;
  }
  integ *= h;
  double pclean = exp(-w / M), pfail = 1 - pclean;
  double restart = M * (exp(R / M) - 1);
  /* E = w pclean + integ + pfail (restart + E) */
  return (w * pclean + integ + pfail * restart) / pclean;
}

static void test_expected_time_closed_form(void **state) {
  (void)state;
  static const double cases[][4] = {/* w, ckpt, R, M */
                                    {600, 30, 300, 3600},
                                    {5000, 100, 900, 2000},
                                    {10, 1, 0, 1e6}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double w = cases[i][0], d = cases[i][1], R = cases[i][2], M = cases[i][3];
    double got = campaign_expected_s(7, w, d, R, M), want = 7 * naive_segment(w + d, R, M);
    if (fabs(got / want - 1) > 1e-6) fail_msg("case %zu: %.9g vs naive %.9g", i, got, want);
  }
  /* no failures: the work and the checkpoints */
  assert_true(campaign_expected_s(3, 100, 5, 60, INFINITY) == 3 * 105);
}

/* Overhead per unit of work with checkpoints every tau seconds of work. */
static double waste(double tau, double d, double R, double M) {
  return campaign_expected_s(1, tau, d, R, M) / tau;
}

static void test_young_daly(void **state) {
  (void)state;
  assert_true(fabs(campaign_young(50, 3600) - sqrt(2 * 50 * 3600.0)) < 1e-9);
  /* Daly's interval: within 1% of the optimum of the exact expected time, found by golden section;
   * Young's first-order interval close to it when the checkpoint is short against the MTBF. */
  static const double cases[][3] = {{10, 600, 36000}, {60, 600, 11000}, {300, 300, 7200}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double d = cases[i][0], R = cases[i][1], M = cases[i][2];
    double a = d / 10, b = 4 * M, g = (sqrt(5) - 1) / 2;
    for (int it = 0; it < 200; it++) {
      double x1 = b - g * (b - a), x2 = a + g * (b - a);
      if (waste(x1, d, R, M) < waste(x2, d, R, M))
        b = x2;
      else
        a = x1;
    }
    double best = (a + b) / 2, daly = campaign_daly(d, M), young = campaign_young(d, M);
    if (fabs(daly / best - 1) > 0.01) fail_msg("case %zu: Daly %g vs optimum %g", i, daly, best);
    /* the waste, flat near the optimum, barely differs */
    assert_true(waste(daly, d, R, M) / waste(best, d, R, M) - 1 < 1e-4);
    if (d / M < 0.002 && fabs(young / best - 1) > 0.05)
      fail_msg("case %zu: Young %g vs optimum %g", i, young, best);
  }
}

static void test_monte_carlo_mean(void **state) {
  (void)state;
  const double n = 2000, w = 600, d = 30, R = 300, M = 3600;
  double closed = campaign_expected_s(n, w, d, R, M);
  uint64_t seed = 7, seed2 = 7;
  double sum = 0;
  const int T = 400;
  for (int i = 0; i < T; i++)
    sum += campaign_draw_s(n, w, d, R, M, &seed);
  double mean = sum / T;
  if (fabs(mean / closed - 1) > 0.02) fail_msg("Monte Carlo mean %g vs closed form %g", mean, closed);
  /* seeded: the same draws again */
  double first = campaign_draw_s(n, w, d, R, M, &seed2);
  seed2 = 7;
  assert_true(campaign_draw_s(n, w, d, R, M, &seed2) == first);
  /* and in a scenario, where both are reported */
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  const char *text = "{chip: h100-sxm, system: {preset: dgx-h100, chips: 4096}, model: llama3.1-8b,"
                     " task: train, train: {seq_len: 8192, global_batch: 4096, tokens: 2.0e13},"
                     " parallel: {tp: 2, pp: 1, dp: 2048}}";
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  assert_int_equal(sl_scenario_run(sc, &r, &err), SL_OK);
  double cf = sl_result_number(r, "campaign.time_to_train_s"),
         mc = sl_result_number(r, "campaign.time_mc_mean_s");
  assert_true(sl_result_number(r, "campaign.interruptions") > 5);
  if (!(fabs(mc / cf - 1) < 0.02)) fail_msg("scenario: Monte Carlo mean %g vs closed form %g", mc, cf);
  assert_true(sl_result_number(r, "campaign.time_p10_s") <= sl_result_number(r, "campaign.time_p50_s"));
  assert_true(sl_result_number(r, "campaign.time_p50_s") <= sl_result_number(r, "campaign.time_p90_s"));
  double g = sl_result_number(r, "campaign.goodput");
  assert_true(g > 0 && g < 1);
  sl_result_free(r);
  sl_scenario_free(sc);
}

static double run_number(const char *text, const char *key) {
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err)) fail_msg("%s: %s", err.key, err.message);
  if (sl_scenario_run(sc, &r, &err)) fail_msg("%s", err.message);
  double v = sl_result_number(r, key);
  sl_result_free(r);
  sl_scenario_free(sc);
  return v;
}

/* Without failures a campaign is its stages' steps: each stage's step time (its own run, without a
 * campaign) times its steps, summed. */
static void test_zero_failures(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {preset: dgx-h100, chips: 64, reliability: {chip_failures_per_hour: 0,"
      " node_failures_per_hour: 0, link_failures_per_hour: 0}}, model: llama3.2-1b, task: train,"
      " parallel: {tp: 2, pp: 1},"
      " train: {seq_len: 4096, global_batch: 256, stages: [{tokens: 1.0e9, seq_len: 2048, "
      "global_batch_tokens:"
      " 524288}, {tokens: 3.0e9}, {tokens: 5.0e8, seq_len: 8192, global_batch: 64, chips: 32}]}}";
  double got = run_number(text, "campaign.time_to_train_s");
  double s1 = run_number("{chip: h100-sxm, system: {preset: dgx-h100, chips: 64}, model: llama3.2-1b,"
                         " task: train, parallel: {tp: 2, pp: 1}, train: {seq_len: 2048, global_batch: 256}}",
                         "step_time_s");
  double s2 = run_number("{chip: h100-sxm, system: {preset: dgx-h100, chips: 64}, model: llama3.2-1b,"
                         " task: train, parallel: {tp: 2, pp: 1}, train: {seq_len: 4096, global_batch: 256}}",
                         "step_time_s");
  double s3 = run_number("{chip: h100-sxm, system: {preset: dgx-h100, chips: 32}, model: llama3.2-1b,"
                         " task: train, parallel: {tp: 2, pp: 1}, train: {seq_len: 8192, global_batch: 64}}",
                         "step_time_s");
  double want =
      ceil(1e9 / (256 * 2048.0)) * s1 + ceil(3e9 / (256 * 4096.0)) * s2 + ceil(5e8 / (64 * 8192.0)) * s3;
  if (fabs(got / want - 1) > 1e-12) fail_msg("campaign %.12g s vs stages' steps %.12g s", got, want);
  assert_true(run_number(text, "campaign.tokens") == 4.5e9);
  assert_true(run_number(text, "campaign.goodput") == 1);
  assert_true(run_number(text, "campaign.interruptions") == 0);
}

/* The defaults against the Llama 3 report: its interruption rate (419 unexpected in 54 days on
 * 16,384 GPUs), and an effective training time above 90% for a 405B model (5.7 TB checkpoints). */
static void test_llama3_defaults(void **state) {
  (void)state;
  sl_reliability r;
  double net_w;
  campaign_default_reliability(&r, &net_w);
  double lambda = campaign_failure_rate(&r, 16384, 8);
  if (fabs(lambda * 3600 * 54 * 24 / 419 - 1) > 1e-9)
    fail_msg("%g interruptions in 54 days", lambda * 3600 * 54 * 24);
  double M = 1 / lambda, bytes = 405e9 * 14, delta = bytes / (r.write_GBps * 1e9);
  double R = r.restart_s + bytes / (r.read_GBps * 1e9), tau = campaign_daly(delta, M);
  double n = 1000, goodput = n * tau / campaign_expected_s(n, tau, delta, R, M);
  if (!(goodput > 0.9 && goodput < 0.97)) fail_msg("goodput %g", goodput);
}

/* Limits: a run that never finishes (restarts outlasting the failures) says so; a run of very many
 * failures draws fewer Monte Carlo trials instead of hanging. */
static void test_limits(void **state) {
  (void)state;
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  assert_int_equal(
      sl_scenario_load(
          NULL,
          "{chip: h100-sxm, system: {preset: dgx-h100, chips: 64, reliability: {chip_failures_per_hour:"
          " 1, restart_s: 1.0e6}}, model: llama3.2-1b, task: train, parallel: {tp: 1, pp: 1},"
          " train: {seq_len: 2048, global_batch: 64, tokens: 1.0e12}}",
          NULL, 0, &sc, &err),
      SL_OK);
  assert_int_equal(sl_scenario_run(sc, &r, &err), SL_OK);
  assert_true(sl_result_feasible(r));
  assert_true(isnan(sl_result_number(r, "campaign.time_to_train_s")));
  char *json = sl_result_json(r);
  assert_non_null(strstr(json, "never finishes"));
  sl_free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
  assert_int_equal(
      sl_scenario_load(
          NULL,
          "{chip: h100-sxm, system: {preset: dgx-h100, chips: 64, reliability: {chip_failures_per_hour:"
          " 0.5, trials: 1000000}}, model: llama3.2-1b, task: train, parallel: {tp: 1, pp: 1},"
          " train: {seq_len: 2048, global_batch: 64, tokens: 1.0e15}}",
          NULL, 0, &sc, &err),
      SL_OK);
  assert_int_equal(sl_scenario_run(sc, &r, &err), SL_OK);
  double trials = sl_result_number(r, "campaign.trials"),
         fails = sl_result_number(r, "campaign.interruptions");
  assert_true(fails > 1e5);
  assert_true(trials < 1e6 && trials * (2 * fails + 1) <= 2e7);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Bad input of each new key: an input error naming the key. */
static void test_bad_keys(void **state) {
  (void)state;
  static const struct {
    const char *over, *key;
  } cases[] = {
      {"train: {seq_len: 2048, global_batch: 64, tokens: -5}", "train.tokens"},
      {"train: {seq_len: 2048, global_batch: 64, tokens: lots}", "train.tokens"},
      {"train: {seq_len: 2048, global_batch: 64, stages: 3}", "train.stages"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{seq_len: 4096}]}", "train.stages[0].tokens"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{tokens: 1e9, colour: red}]}",
       "train.stages[0].colour"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{tokens: 1e9, seq_len: -1}]}",
       "train.stages[0].seq_len"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{tokens: 1e9, global_batch: 64, "
       "global_batch_tokens: 1e6}]}",
       "train.stages[0]"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{tokens: 1e9, chips: 0.5}]}",
       "train.stages[0].chips"},
      {"train: {seq_len: 2048, global_batch: 64, tokens: 5e9, stages: [{tokens: 1e9}]}", "train.tokens"},
      {"train: {seq_len: 2048, global_batch: 64, stages: [{tokens: 1e9, parallel: {tp: 3}}]}",
       "train.stages[0].parallel"},
      {"system: {chips: 8, reliability: {chip_failures_per_hour: -1}}",
       "system.reliability.chip_failures_per_hour"},
      {"system: {chips: 8, reliability: {node_failures_per_hour: x}}",
       "system.reliability.node_failures_per_hour"},
      {"system: {chips: 8, reliability: {link_failures_per_hour: 2}}",
       "system.reliability.link_failures_per_hour"},
      {"system: {chips: 8, reliability: {checkpoint_write_GBps: 0}}",
       "system.reliability.checkpoint_write_GBps"},
      {"system: {chips: 8, reliability: {checkpoint_read_GBps: -3}}",
       "system.reliability.checkpoint_read_GBps"},
      {"system: {chips: 8, reliability: {node_write_GBps: 0}}", "system.reliability.node_write_GBps"},
      {"system: {chips: 8, reliability: {node_read_GBps: .nan}}", "system.reliability.node_read_GBps"},
      {"system: {chips: 8, reliability: {restart_s: -1}}", "system.reliability.restart_s"},
      {"system: {chips: 8, reliability: {checkpoint_interval_s: 0}}",
       "system.reliability.checkpoint_interval_s"},
      {"system: {chips: 8, reliability: {trials: 2.5}}", "system.reliability"},
      {"system: {chips: 8, reliability: {seed: -1}}", "system.reliability.seed"},
      {"system: {chips: 8, reliability: {mtbf: 5}}", "system.reliability.mtbf"},
      {"system: {chips: 8, reliability: 3}", "system.reliability"},
      {"system: {chips: 8, power_budget_w: 0}", "system.power_budget_w"},
      {"system: {chips: 8, power_budget_w: 100}", "system.power_budget_w"},
      {"system: {chips: 8, network_w_per_chip: -5}", "system.network_w_per_chip"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    int has_train = strncmp(cases[i].over, "train", 5) == 0;
    snprintf(text, sizeof text, "{chip: h100-sxm, model: llama3.2-1b, task: train, %s%s%s}", cases[i].over,
             has_train ? ", system: {chips: 8}" : "",
             has_train ? "" : ", train: {seq_len: 2048, global_batch: 64}");
    sl_scenario *sc = NULL;
    sl_error err;
    sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &err);
    if (s != SL_ERR_INPUT) fail_msg("case %zu: status %d (%s)", i, (int)s, err.message);
    if (strncmp(err.key, cases[i].key, strlen(cases[i].key)) != 0)
      fail_msg("case %zu: key \"%s\" (%s), expected %s", i, err.key, err.message, cases[i].key);
    assert_null(strchr(err.message, '\n'));
  }
}

/* A power budget sizes the fleet: whole nodes whose facility power fits. */
static void test_power_budget(void **state) {
  (void)state;
  const char *text = "{chip: h100-sxm, system: {preset: dgx-h100, power_budget_w: 2.0e7}, model: llama3.1-8b,"
                     " task: train, parallel: auto, train: {seq_len: 8192, global_batch: 4096,"
                     " tokens: 1.0e12}}";
  sl_scenario *sc = NULL;
  sl_error err;
  assert_int_equal(sl_scenario_load(NULL, text, NULL, 0, &sc, &err), SL_OK);
  double per = campaign_chip_facility_w(sc);
  assert_true(per > sc->chip.tdp_w);
  assert_true(fmod(sc->chips, 8) == 0);
  /* whole nodes, d 2^a of them with d dividing the 32 layers of the model: here a power of two, the
   * largest within the budget */
  double nodes = sc->chips / 8;
  assert_true(nodes == pow(2, floor(log2(2.0e7 / (8 * per)))));
  assert_true(sc->chips * per <= 2.0e7 && 2 * sc->chips * per > 2.0e7);
  sl_scenario_free(sc);
  /* a model of 126 layers (2 x 3^2 x 7) lets a factor of the layers in: 3 x 512 of 1,623 nodes */
  sc = NULL;
  assert_int_equal(
      sl_scenario_load(NULL,
                       "{chip: b200, system: {preset: hgx-b200, power_budget_w: 2.0e7}, model: llama3.1-405b,"
                       " task: train, parallel: auto, train: {seq_len: 8192, global_batch: 2048}}",
                       NULL, 0, &sc, &err),
      SL_OK);
  per = campaign_chip_facility_w(sc);
  double most = floor(2.0e7 / (8 * per));
  assert_true(most > 1536 && most < 2048);
  assert_true(sc->chips == 1536 * 8);
  sl_scenario_free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expected_time_closed_form),
      cmocka_unit_test(test_young_daly),
      cmocka_unit_test(test_monte_carlo_mean),
      cmocka_unit_test(test_zero_failures),
      cmocka_unit_test(test_bad_keys),
      cmocka_unit_test(test_power_budget),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_llama3_defaults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
