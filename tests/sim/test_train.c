/* test_train.c — training at scale: the pipeline closed form against an event-by-event 1F1B
 * simulation, the Megatron stack efficiency against its Korthikanti Table 4 fit, per-chip memory
 * against Korthikanti Figure 1, the plan search against brute force, the plan enumerator alone against
 * a naive reference of the rules, symmetry in the chip count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "test_util.h"

/* test_fp8_training fills a scenario format with one %s. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* ---- pipeline schedule ------------------------------------------------------------------------ */

static double closed_form(const double *f, const double *b, int p, int m) {
  double sum = 0, mx = 0;
  for (int s = 0; s < p; s++) {
    double t = f[s] + b[s];
    sum += t;
    if (t > mx) mx = t;
  }
  return m * mx + (sum - mx);
}

static void test_1f1b_uniform(void **state) {
  (void)state;
  double f[16], b[16];
  for (int p = 1; p <= 16; p *= 2)
    for (int m = p; m <= 8 * p; m *= 2) {
      for (int s = 0; s < p; s++)
        f[s] = 1.0, b[s] = 2.0;
      double ref = train_1f1b_reference(f, b, p, m);
      /* (m + p - 1) (f + b): Narayanan et al. SC21 §2.2. */
      assert_true(fabs(ref - (m + p - 1) * 3.0) < 1e-9);
      assert_true(fabs(closed_form(f, b, p, m) - ref) < 1e-9);
    }
}

/* Distinct stages: first and last heavier (embedding, LM head), middles equal. */
static void test_1f1b_distinct_stages(void **state) {
  (void)state;
  double f[16], b[16];
  for (int p = 2; p <= 16; p *= 2)
    for (int m = p; m <= 8 * p; m *= 2)
      for (int k = 0; k < 3; k++) {
        for (int s = 0; s < p; s++)
          f[s] = 1.0, b[s] = 2.1;
        f[0] += 0.1 * k, b[0] += 0.15 * k;        /* embedding */
        f[p - 1] += 0.3 * k, b[p - 1] += 0.5 * k; /* LM head and loss */
        double ref = train_1f1b_reference(f, b, p, m), cf = closed_form(f, b, p, m);
        if (fabs(cf / ref - 1) > 0.03)
          fail_msg("p %d m %d k %d: closed form %.4f, schedule %.4f", p, m, k, cf, ref);
      }
}

/* ---- Korthikanti et al. 2022 --------------------------------------------------------------- */

static const char *KMODEL[] = {
    /* name, hidden, layers, heads */
    "{transformer: {hidden: 6144, layers: 48, heads: 64, ffn: 24576, vocab: 51200, activation: gelu,"
    " norm: layernorm, position: learned, tied_embeddings: true}}",
    "{transformer: {hidden: 12288, layers: 96, heads: 96, ffn: 49152, vocab: 51200, activation: gelu,"
    " norm: layernorm, position: learned, tied_embeddings: true}}",
    "{transformer: {hidden: 20480, layers: 105, heads: 128, ffn: 81920, vocab: 51200, activation: gelu,"
    " norm: layernorm, position: learned, tied_embeddings: true}}",
    "{transformer: {hidden: 25600, layers: 128, heads: 160, ffn: 102400, vocab: 51200, activation: gelu,"
    " norm: layernorm, position: learned, tied_embeddings: true}}"};
static const double KPP[] = {1, 8, 35, 64}, KVPP[] = {1, 3, 3, 1}, KMB[] = {4, 1, 1, 1},
                    KGBS[] = {4, 64, 280, 512};

static sl_scenario *korthikanti(int i, const char *stack, const char *recompute, int sp, const char *chip) {
  char text[1600];
  snprintf(
      text, sizeof text,
      "{chip: %s, system: {chips: %g, node_chips: 8, scale_up: {bw_GBps: 300}, scale_out: {bw_GBps: 25}},"
      " stack: %s, model: %s, precision: fp16, task: train,"
      " train: {seq_len: 2048, global_batch: %g, micro_batch: %g, recompute: %s},"
      " parallel: {tp: 8, pp: %g, dp: 1, vpp: %g, sp: %s}}",
      chip, 8 * KPP[i], stack, KMODEL[i], KGBS[i], KMB[i], recompute, KPP[i], KVPP[i], sp ? "true" : "false");
  return load(text);
}

/* Figure 1: weights+grads+optimizer and activations per GPU (GiB) of the first stage. */
static void test_korthikanti_memory(void **state) {
  (void)state;
  static const double states[] = {45.5625, 45.5625, 31.640625, 32.958984375};
  static const double act_none[] = {59.25, 66.84375, 114.0234375, 131.25};
  static const double act_sel[] = {9.5625, 12.3515625, 23.076171875, 26.5625};
  for (int i = 0; i < 4; i++)
    for (int k = 0; k < 2; k++) {
      sl_scenario *sc = korthikanti(i, "megatron-2022", k ? "selective" : "none", k, "a100-sxm-80gb");
      sl_result *r = run(sc);
      double gib = 1073741824.0;
      double st = (sl_result_number(r, "memory.weights_bytes") + sl_result_number(r, "memory.grads_bytes") +
                   sl_result_number(r, "memory.optimizer_bytes")) /
                  gib;
      double act = sl_result_number(r, "memory.activations_bytes") / gib;
      double want = k ? act_sel[i] : act_none[i];
      double total = sl_result_number(r, "memory.per_chip_bytes") / gib;
      print_message(
          "model %d %s: per chip %.2f GiB (paper %.2f): states %.2f (%.2f), activations %.2f (%.2f)\n", i,
          k ? "SP+selective" : "none", total, states[i] + want, st, states[i], act, want);
      /* The paper's weight+gradient+optimizer figure leaves out the embedding that the first
       * stage also holds (2-8% more here); the per-chip total and the activations are compared. */
      if (fabs(total / (states[i] + want) - 1) > 0.05)
        fail_msg("model %d k %d: %.3f GiB per chip", i, k, total);
      if (fabs(act / want - 1) > 0.05)
        fail_msg("model %d k %d: activations %.3f GiB vs %.3f", i, k, act, want);
      assert_true(st >= states[i]);
      sl_result_free(r);
      sl_scenario_free(sc);
    }
}

/* Table 4 of Korthikanti et al.: one 22B layer, forward / backward in ms: an independent check of the
 * stack efficiency fitted end to end. */
static void test_megatron_efficiency_fit(void **state) {
  (void)state;
  static const struct {
    const char *rc;
    int sp;
    double fwd, bwd;
  } t4[] = {{"none", 0, 7.7, 11.9},
            {"none", 1, 7.2, 11.8},
            {"full", 0, 7.7, 19.5},
            {"selective", 0, 7.7, 13.2},
            {"selective", 1, 7.2, 13.1}};
  /* The same chip with room for every configuration, and the stack with efficiency 1. */
  char stack[400];
  sl_scenario *ref = korthikanti(0, "megatron-2022", "none", 0, "a100-sxm-80gb");
  double eff = ref->stack.efficiency;
  sl_scenario_free(ref);
  snprintf(stack, sizeof stack,
           "{attention: unfused, fused_elementwise: true, kernel_overhead_s: 4.0e-6, efficiency: 1.0,"
           " context_parallel: false, grad_accum_fusion: true, fused_cross_entropy: false}");
  double sum = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(t4); i++) {
    sl_scenario *sc = korthikanti(0, stack, t4[i].rc, t4[i].sp, "a100-sxm-80gb");
    sc->chip.mem[sc->chip.n_mem - 1].capacity_bytes *= 10; /* room for the no-recompute baseline */
    sl_result *r = run(sc);
    double f = 0, b = 0;
    for (size_t j = 0; j < r->n_rows; j++)
      if (r->rows[j].count == 48) {
        if (r->rows[j].phase == SL_PH_FORWARD)
          f += r->rows[j].time_s / 48;
        else
          b += r->rows[j].time_s / 48;
      }
    double ratio = (f + b) / ((t4[i].fwd + t4[i].bwd) * 1e-3);
    print_message("%s sp=%d: %.2f + %.2f ms (paper %.1f + %.1f), ratio %.3f\n", t4[i].rc, t4[i].sp, f * 1e3,
                  b * 1e3, t4[i].fwd, t4[i].bwd, ratio);
    sum += ratio;
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  double fit = sum / (double)SL_ARRAY_LEN(t4);
  /* The preset's efficiency is fitted end to end (silica calibrate --stack megatron-2022 on the
   * validation cases); this layer-level measurement, which that fit never sees, must agree within
   * 0.05 (the end-to-end fit also absorbs what the layer times do not show: pipeline and
   * data-parallel communication, the optimizer; and it trades efficiency against
   * kernel_overhead_s, which it now puts at its lower bound, so the efficiency also carries the
   * per-kernel host cost that this test's stack gives as 4 us). */
  print_message("layer-level fit %.3f, megatron-2022 efficiency (fitted end to end) %.3f\n", fit, eff);
  assert_true(fabs(fit - eff) <= 0.05);
}

/* ---- plan search ------------------------------------------------------------------------------ */

static const char *SMALL =
    "{chip: h100-sxm, system: {chips: 16, node_chips: 8}, stack: megatron-2022, precision: bf16, task: train,"
    " model: {transformer: {hidden: 2048, layers: 8, heads: 16, ffn: 8192, vocab: 32000, activation: swiglu,"
    " norm: rmsnorm, position: rope}}, train: {seq_len: 2048, global_batch: 32, micro_batch: auto,"
    " recompute: auto}, parallel: {tp: auto, pp: auto, dp: auto, vpp: auto, zero: auto}}";

static void test_search_matches_brute_force(void **state) {
  (void)state;
  sl_scenario *sc = load(SMALL);
  sl_result *r = run(sc);
  assert_true(sl_result_feasible(r));
  double best_rate = sl_result_number(r, "tokens_per_s");
  assert_true(r->plans_evaluated > 100);
  /* Brute force: every plan of the same space, one fixed scenario at a time. */
  double brute = 0, n = 0;
  const char *rcs[] = {"none", "selective", "full", "block"};
  for (int tp = 1; tp <= 16; tp *= 2)
    for (int pp = 1; pp <= 8; pp++)
      for (int mb = 1; mb <= 32; mb *= 2)
        for (int rc = 0; rc < (sc->stack.recompute_block ? 4 : 3); rc++)
          for (int v = 1; v <= 8; v++)
            for (int z = 0; z <= (int)sc->stack.zero_max; z++) { /* the stack's ZeRO stages */
              if (16 % (tp * pp) || 8 % pp || (8 / pp) % v || (pp == 1 && v > 1)) continue;
              int dp = 16 / (tp * pp);
              if (32 % (dp * mb)) continue;
              if (v > 1 && (32 / (dp * mb)) % pp) continue;
              if (dp == 1 && z > 0) continue;
              char sets[6][64];
              snprintf(sets[0], 64, "parallel.tp=%d", tp);
              snprintf(sets[1], 64, "parallel.pp=%d", pp);
              snprintf(sets[2], 64, "parallel.vpp=%d", v);
              snprintf(sets[3], 64, "parallel.zero=%d", z);
              snprintf(sets[4], 64, "train.micro_batch=%d", mb);
              snprintf(sets[5], 64, "train.recompute=%s", rcs[rc]);
              const char *sp[] = {sets[0], sets[1], sets[2], sets[3], sets[4], sets[5]};
              sl_scenario *one = load_sets(SMALL, sp, 6);
              sl_result *o = run(one);
              n++;
              if (sl_result_feasible(o) && sl_result_number(o, "tokens_per_s") > brute)
                brute = sl_result_number(o, "tokens_per_s");
              sl_result_free(o);
              sl_scenario_free(one);
            }
  print_message("search: %.0f plans, %.1f tokens/s; brute force: %.0f plans, %.1f tokens/s\n",
                r->plans_evaluated, best_rate, n, brute);
  assert_true(n == r->plans_evaluated);
  assert_true(fabs(brute / best_rate - 1) < 1e-9);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* ---- the enumerator alone (plan/search.c) ----------------------------------------------------- */

static plan_space small_space(void) {
  plan_space sp;
  memset(&sp, 0, sizeof sp);
  sp.file = "small";
  sp.zero_max = 3;
  sp.chips = 16, sp.layers = 8, sp.heads = 16, sp.experts = 0, sp.seq_len = 2048;
  sp.global_batch = 32, sp.micro_batch = SL_AUTO;
  sp.par = (sl_parallel){SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, 0, 0};
  sp.recompute_auto = 1, sp.parallel_auto = 1;
  sp.sequence_parallel = 1, sp.overlap_tp = 1, sp.overlap_dp = 1; /* no context parallelism */
  sp.recompute_block = 1;
  sp.max_plans = 1e6;
  return sp;
}

static int same_plan(const sl_plan *a, const sl_plan *b) {
  return a->dp == b->dp && a->tp == b->tp && a->pp == b->pp && a->cp == b->cp && a->ep == b->ep &&
         a->vpp == b->vpp && a->zero == b->zero && a->mb == b->mb && a->sp == b->sp && a->rc == b->rc &&
         a->gb == b->gb && a->overlap_tp == b->overlap_tp && a->overlap_dp == b->overlap_dp;
}

static int same_group(const sl_plan *a, const sl_plan *b) {
  return a->tp == b->tp && a->cp == b->cp && a->ep == b->ep && a->sp == b->sp && a->mb == b->mb &&
         a->rc == b->rc && a->overlap_tp == b->overlap_tp;
}

enum { SMALL_MAX = 20000 };

/* Every plan of the enumerator, asked max at a time; checks that one ask never mixes groups and
 * that new_group marks each change of group. */
static size_t enumerate_all(const plan_space *sp, size_t max, sl_plan *all) {
  arena a;
  ar_init(&a);
  plan_search S;
  sl_error err;
  assert_int_equal(plan_search_init(&S, &a, sp, 0, 0, &err), SL_OK);
  size_t total = 0;
  sl_plan buf[64];
  for (;;) {
    size_t n;
    int new_group;
    assert_int_equal(plan_search_ask(&S, buf, max, &n, &new_group, &err), SL_OK);
    if (n == 0) break;
    assert_true(total + n <= SMALL_MAX);
    assert_int_equal(new_group, total == 0 || !same_group(&all[total - 1], &buf[0]));
    for (size_t i = 0; i < n; i++) {
      assert_true(same_group(&buf[0], &buf[i]));
      all[total++] = buf[i];
    }
  }
  assert_true(S.enumerated == (double)total);
  ar_free(&a);
  return total;
}

/* The enumerator yields exactly the plans that break none of the rules, each once: a naive
 * reference over every combination of degrees, with the rules written out. */
static void test_enumerator_yields_consistent_plans(void **state) {
  (void)state;
  plan_space sp = small_space();
  static sl_plan got[SMALL_MAX], got1[SMALL_MAX];
  size_t n = enumerate_all(&sp, 64, got);
  /* asked one at a time: the same plans in the same order */
  assert_int_equal(enumerate_all(&sp, 1, got1), n);
  for (size_t i = 0; i < n; i++)
    assert_true(same_plan(&got[i], &got1[i]));
  size_t want = 0;
  for (int tp = 1; tp <= 16; tp++)
    for (int pp = 1; pp <= 16; pp++)
      for (int dp = 1; dp <= 16; dp++)
        for (int mb = 1; mb <= 32; mb++)
          for (int v = 1; v <= 8; v++)
            for (int z = 0; z <= 3; z++)
              for (int spar = 0; spar <= 1; spar++)
                for (int rc = 0; rc <= 3; rc++)
                  for (int otp = 0; otp <= 1; otp++)
                    for (int odp = 0; odp <= 1; odp++) {
                      if (tp * pp * dp != 16 || (tp & (tp - 1)) || 16 % tp) continue; /* tp: power of 2 */
                      if (pp > 8) continue; /* at most one layer per stage */
                      if ((8 / pp) % v || (v > 1 && (pp == 1 || 8 % (pp * v))))
                        continue; /* whole virtual stages */
                      if (32 % mb || 32 % (dp * mb * (v > 1 ? pp : 1))) continue;
                      if (tp == 1 && (spar || otp)) continue; /* nothing to split or overlap */
                      if (dp == 1 && (z || odp)) continue;
                      sl_plan p = {dp, tp, pp, 1, 1, v, z, mb, spar, (sl_recompute)rc, 32, otp, odp};
                      size_t hits = 0;
                      for (size_t i = 0; i < n; i++)
                        hits += same_plan(&got[i], &p);
                      if (hits != 1)
                        fail_msg("tp %d pp %d dp %d mb %d v %d z %d: yielded %zu times", tp, pp, dp, mb, v, z,
                                 hits);
                      want++;
                    }
  print_message("enumerator: %zu plans, reference %zu\n", n, want);
  assert_int_equal(n, want);
}

/* Tell keeps the fastest feasible plan (the first of equals) and the top N in order; while none
 * fits, the one closest to fitting. */
static void test_enumerator_keeps_the_best(void **state) {
  (void)state;
  plan_space sp = small_space();
  static sl_plan all[SMALL_MAX];
  size_t n = enumerate_all(&sp, 64, all);
  arena a;
  ar_init(&a);
  plan_search S;
  sl_error err;
  enum { TOP = 7 };
  assert_int_equal(plan_search_init(&S, &a, &sp, TOP, sizeof(size_t), &err), SL_OK);
  static plan_score score[SMALL_MAX];
  for (size_t i = 0; i < n; i++) {
    /* a step time with ties, every third plan too big: the first one the smallest of those */
    score[i] = (plan_score){i % 3 != 0, 1.0 + (double)((i * 7919) % 101), 1e9 * (double)(1 + (i * 31) % 17)};
    if (i < 30) score[i].feasible = 0;
  }
  for (size_t i = 0; i < 30; i++) {
    plan_search_tell(&S, &all[i], &score[i], &i);
    size_t closest = 0;
    for (size_t j = 1; j <= i; j++)
      if (score[j].per_chip_bytes < score[closest].per_chip_bytes) closest = j;
    assert_false(S.have);
    assert_int_equal(*(const size_t *)S.best_payload, closest);
  }
  for (size_t i = 30; i < n; i++)
    plan_search_tell(&S, &all[i], &score[i], &i);
  assert_true(S.evaluated == (double)n && S.have);
  /* reference: a stable selection of the TOP fastest (by sequences per second) */
  size_t ref[TOP], nref = 0;
  for (size_t i = 0; i < n; i++) {
    if (!score[i].feasible) continue;
    double r = plan_rate(&all[i], &score[i]);
    size_t k = nref < TOP ? nref++ : TOP;
    if (k == TOP && r <= plan_rate(&all[ref[TOP - 1]], &score[ref[TOP - 1]])) continue;
    if (k == TOP) k--;
    while (k > 0 && plan_rate(&all[ref[k - 1]], &score[ref[k - 1]]) < r) {
      ref[k] = ref[k - 1];
      k--;
    }
    ref[k] = i;
  }
  assert_int_equal(S.n_top, nref);
  for (size_t k = 0; k < nref; k++) {
    assert_int_equal(*(const size_t *)plan_search_top_payload(&S, k), ref[k]);
    assert_true(same_plan(&S.top[k], &all[ref[k]]));
  }
  assert_int_equal(*(const size_t *)S.best_payload, ref[0]);
  /* the best is the first plan of the fastest rate */
  for (size_t i = 0; i < ref[0]; i++)
    if (score[i].feasible)
      assert_true(plan_rate(&all[i], &score[i]) < plan_rate(&all[ref[0]], &score[ref[0]]));
  ar_free(&a);
}

/* Degrees with many divisors (120 layers, a global batch of 720): the plans in the enumerator's
 * order, micro-batch outermost (a group), then pp and vpp ascending, against naive loops. */
static void test_enumerator_many_divisors(void **state) {
  (void)state;
  plan_space sp = small_space();
  sp.chips = 120, sp.layers = 120, sp.heads = 8, sp.global_batch = 720;
  sp.par.tp = 1, sp.par.zero = 0, sp.recompute_auto = 0, sp.parallel_auto = 0;
  sp.sequence_parallel = sp.overlap_tp = sp.overlap_dp = 0;
  static sl_plan all[SMALL_MAX];
  size_t n = enumerate_all(&sp, 64, all), k = 0;
  for (int mb = 1; mb <= 720; mb++)
    for (int pp = 1; pp <= 120; pp++)
      for (int v = 1; v <= 120; v++) {
        int dp = 120 / pp;
        if (720 % mb || 120 % pp || (120 / pp) % v || (v > 1 && (pp == 1 || 120 % (pp * v)))) continue;
        if (720 % (dp * mb * (v > 1 ? pp : 1))) continue;
        sl_plan p = {dp, 1, pp, 1, 1, v, 0, mb, 0, SL_RECOMPUTE_NONE, 720, 0, 0};
        assert_true(k < n);
        if (!same_plan(&all[k], &p))
          fail_msg("plan %zu: mb %g pp %g vpp %g, want mb %d pp %d vpp %d", k, all[k].mb, all[k].pp,
                   all[k].vpp, mb, pp, v);
        k++;
      }
  assert_int_equal(k, n);
}

/* A space past max_plans: the plans up to the limit are handed out, then ask fails naming the
 * file and the key; the scenario's limit is the one documented (docs/robustness.md). */
static void test_enumerator_limit(void **state) {
  (void)state;
  plan_space sp = small_space();
  sp.max_plans = 100;
  arena a;
  ar_init(&a);
  plan_search S;
  sl_error err;
  assert_int_equal(plan_search_init(&S, &a, &sp, 0, 0, &err), SL_OK);
  sl_plan buf[64];
  size_t n, total = 0;
  int new_group;
  sl_status s;
  while ((s = plan_search_ask(&S, buf, 64, &n, &new_group, &err)) == SL_OK && n > 0)
    total += n;
  assert_int_equal(s, SL_ERR_INPUT);
  assert_int_equal(total, 100);
  assert_string_equal(err.file, "small");
  assert_string_equal(err.key, "parallel");
  assert_non_null(strstr(err.message, "passed 100 plans"));
  ar_free(&a);
  sl_scenario *sc = load(SMALL);
  assert_true(plan_space_of(sc).max_plans == 5e7);
  sl_scenario_free(sc);
}

/* Fixed degrees narrow the space to the plans that have them. */
static void test_enumerator_fixed_degrees(void **state) {
  (void)state;
  plan_space sp = small_space();
  sp.par.tp = 4, sp.par.pp = 2, sp.micro_batch = 2, sp.recompute_auto = 0, sp.recompute = SL_RECOMPUTE_FULL;
  sp.parallel_auto = 0, sp.par.sp = 1;
  static sl_plan all[SMALL_MAX];
  size_t n = enumerate_all(&sp, 64, all);
  assert_true(n > 0);
  for (size_t i = 0; i < n; i++) {
    assert_true(all[i].tp == 4 && all[i].pp == 2 && all[i].dp == 2 && all[i].mb == 2);
    assert_true(all[i].rc == SL_RECOMPUTE_FULL && all[i].sp == 1 && all[i].overlap_tp == 1 &&
                all[i].overlap_dp == 1);
  }
  /* vpp in {1, 2, 4} (whole layers per virtual stage) x ZeRO 0..3 */
  assert_int_equal(n, 12);
}

/* Only distinct stages are costed: rows and evaluation do not grow with the chip count. */
static void test_symmetry(void **state) {
  (void)state;
  const char *sets64[] = {"system.chips=64"}, *sets4k[] = {"system.chips=4096"};
  const char *base = "{chip: h100-sxm, system: {chips: 64, node_chips: 8}, model: llama3.1-70b, task: train,"
                     " train: {seq_len: 4096, global_batch: 1024, micro_batch: 1, recompute: selective},"
                     " parallel: {tp: 8, pp: 4, vpp: 5, sp: true}}";
  sl_scenario *a = load_sets(base, sets64, 1), *b = load_sets(base, sets4k, 1);
  sl_result *ra = run(a), *rb = run(b);
  assert_true(sl_result_feasible(ra) && sl_result_feasible(rb));
  assert_int_equal(ra->n_rows, rb->n_rows);
  /* 64x the replicas at 1/64 of the micro-batches each: the step is shorter. */
  assert_true(sl_result_number(rb, "step_time_s") < sl_result_number(ra, "step_time_s"));
  sl_result_free(ra);
  sl_result_free(rb);
  sl_scenario_free(a);
  sl_scenario_free(b);
}

/* Rows add up to the step; infeasible plans say why. */
static void test_rows_and_reasons(void **state) {
  (void)state;
  sl_scenario *sc = korthikanti(1, "megatron-2022", "full", 0, "a100-sxm-80gb");
  sl_result *r = run(sc);
  double sum = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    sum += r->rows[i].time_s;
  assert_true(fabs(sum / sl_result_number(r, "step_time_s") - 1) < 1e-9);
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = korthikanti(0, "megatron-2022", "none", 0, "a100-sxm-80gb"); /* 105 GiB per GPU */
  r = run(sc);
  assert_false(sl_result_feasible(r));
  assert_non_null(strstr(sl_result_reason(r), "does not fit"));
  assert_true(sl_result_number(r, "memory.per_chip_bytes") > 100e9);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* The time of the breakdown rows whose name contains `part` (all phases). */
static double rows_time(const sl_result *r, const char *part, double *count) {
  double t = 0;
  *count = 0;
  for (size_t i = 0; i < r->n_rows; i++)
    if (strstr(r->rows[i].name, part)) t += r->rows[i].time_s, *count += r->rows[i].count;
  return t;
}

/* fp8 training as Transformer Engine runs it: the matrix products of the linear layers take fp8
 * (at the fp8 GEMM efficiency), each casts its input in the forward and its output gradient in the
 * backward with a kernel of its own, and attention, norms and element-wise work stay bf16. */
static void test_fp8_training(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.1-8b,"
      " precision: %s, task: train, train: {seq_len: 4096, global_batch: 64, micro_batch: 1},"
      " parallel: {tp: 1, pp: 1, dp: 8, zero: 1}}";
  char t16[512], t8[512];
  snprintf(t16, sizeof t16, text, "bf16");
  snprintf(t8, sizeof t8, text, "fp8");
  sl_scenario *s16 = load(t16), *s8 = load(t8);
  /* both at the top clock: the bf16 step passes the TDP there and its cap would slow its
   * compute-bound kernels, attention among them (docs/energy-cost.md 2.20) */
  s16->chip.tdp_w = s8->chip.tdp_w = 1e4;
  assert_int_equal(s8->g_dtype, SL_FP8);
  assert_int_equal(s8->a_dtype, SL_BF16); /* weights and activations stay bf16 */
  assert_int_equal(s8->w_dtype, SL_BF16);
  sl_result *r16 = run(s16), *r8 = run(s8);
  double n16, n8, nin, ngrad;
  double attn16 = rows_time(r16, "attention", &n16), attn8 = rows_time(r8, "attention", &n8);
  assert_true(attn16 > 0 && fabs(attn8 / attn16 - 1) < 1e-9); /* attention in bf16 either way */
  double cin = rows_time(r8, "cast_input", &nin), cgrad = rows_time(r8, "cast_grad", &ngrad);
  double none;
  assert_true(rows_time(r16, "cast_", &none) == 0 && none == 0);
  /* Of the four linear layers (QKV, output, FC1, FC2) and the LM head, the norms and the activation
   * write the cast inputs of QKV, FC1, FC2 and the head themselves (Transformer Engine's fused
   * LayerNormLinear / LayerNormMLP): one cast kernel per layer and micro-batch in the forward (the
   * attention output); in the backward the activation's writes FC1's cast gradient, leaving three
   * per layer and the head's. 32 layers, 8 micro-batches per chip. */
  print_message("cast kernels: forward %g, backward %g\n", nin, ngrad);
  assert_true(cin > 0 && cgrad > 0);
  assert_true(nin == 32 * 8 && ngrad == 3 * 32 * 8 + 8);
  double g16 = 0, g8 = 0;
  for (size_t i = 0; i < r16->n_rows; i++)
    if (r16->rows[i].cat == SL_CAT_GEMM) g16 += r16->rows[i].time_s;
  for (size_t i = 0; i < r8->n_rows; i++)
    if (r8->rows[i].cat == SL_CAT_GEMM) g8 += r8->rows[i].time_s;
  double step16 = sl_result_number(r16, "step_time_s"), step8 = sl_result_number(r8, "step_time_s");
  print_message("bf16 step %.3f s (GEMM %.3f), fp8 %.3f s (GEMM %.3f, casts %.3f)\n", step16, g16, step8, g8,
                cin + cgrad);
  /* the products run at about 2 x 0.71 / 0.80 of their bf16 speed; the step gains less */
  assert_true(g8 / g16 > 0.5 && g8 / g16 < 0.75);
  assert_true(step8 < step16 && step8 / step16 > g8 / g16);
  sl_result_free(r16);
  sl_result_free(r8);
  sl_scenario_free(s16);
  sl_scenario_free(s8);
}

/* With fp8 inputs a linear layer saves the cast copy of its input for the weight gradient: per token
 * the QKV and MLP inputs (2h) and the activation's output (ffn) take 1 B instead of 2, and the
 * attention output is kept a second time, cast (+heads x head_dim).  Naive per-token count on
 * Llama-3.1-8B without tensor parallelism or recompute. */
static void test_fp8_saved_activations(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.1-8b,"
      " precision: %s, task: train, train: {seq_len: 4096, global_batch: 64, micro_batch: 1, recompute: "
      "none},"
      " parallel: {tp: 1, pp: 1, dp: 8, zero: 1}}";
  char t16[512], t8[512];
  snprintf(t16, sizeof t16, text, "bf16");
  snprintf(t8, sizeof t8, text, "fp8");
  sl_scenario *s16 = load(t16), *s8 = load(t8);
  sl_result *r16 = run(s16), *r8 = run(s8);
  double a16 = sl_result_number(r16, "memory.activations_bytes");
  double a8 = sl_result_number(r8, "memory.activations_bytes");
  double h = 4096, ffn = 14336, q = 32 * 128, layers = 32, tokens = 4096;
  double want = layers * tokens * (2.0 * h + ffn - q);
  print_message("activations bf16 %.3f GiB, fp8 %.3f GiB (saved %.3f GiB, want %.3f)\n", a16 / 1073741824.0,
                a8 / 1073741824.0, (a16 - a8) / 1073741824.0, want / 1073741824.0);
  assert_true(fabs((a16 - a8) / want - 1) < 1e-9);
  sl_result_free(r16);
  sl_result_free(r8);
  sl_scenario_free(s16);
  sl_scenario_free(s8);
}

/* Per-chunk data-parallel overlap against an event-by-event queue: chunk j (of v) finishes its last
 * micro-batch's pass j * pp chunk-passes before the last one, its layers' gradients become ready one
 * by one during that pass, and the transfers run one at a time in that order.  The closed form
 * treats a chunk's transfer as starting with its pass, so it may be short by one layer's pass. */
static double chunked_reference(double t, double pass, int v, int pp, int layers) {
  double c = pass / v, gap = pp * c;
  int lc = layers / v;
  double d = t / (v * lc), fin = -1e30;
  for (int j = v - 1; j >= 0; j--)
    for (int i = 0; i < lc; i++) {
      double ready = -j * gap - c + (i + 1) * c / lc;
      fin = fmax(fin, ready) + d;
    }
  return fin;
}

static void test_dp_chunked_overlap(void **state) {
  (void)state;
  static const int V[] = {1, 2, 4, 8}, PP[] = {2, 4, 8};
  static const double T[] = {0.01, 0.1, 0.5, 1.0, 3.0};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t k = 0; k < 5; k++) {
        int v = V[a], pp = PP[b], layers = 16;
        double pass = 0.2, t = T[k];
        double ref = chunked_reference(t, pass, v, pp, layers);
        double got = dp_chunked_exposed(t, pass, v, pp, layers);
        if (got < ref - pass / layers - 1e-12 || got > ref + 1e-12)
          fail_msg("v %d pp %d t %g: closed form %g, queue %g", v, pp, t, got, ref);
      }
  /* one chunk: the last micro-batch's backward hides t - pass, at least one layer's share */
  assert_true(fabs(dp_chunked_exposed(0.5, 0.2, 1, 8, 16) - 0.3) < 1e-12);
  assert_true(fabs(dp_chunked_exposed(0.1, 0.2, 1, 8, 16) - 0.1 / 16) < 1e-12);
  /* interleaving hides the earlier chunks behind the later ones' cool-down */
  assert_true(dp_chunked_exposed(0.5, 0.2, 4, 8, 16) < dp_chunked_exposed(0.5, 0.2, 1, 8, 16));
}

/* Sharded gradients (ZeRO-2) cannot accumulate over micro-batches: each of the m micro-batches
 * reduce-scatters them.  Without overlap the gradient row is m times ZeRO-1's single reduction; with
 * overlap it hides behind the backwards but still costs the DRAM traffic of the transfers. */
static void test_zero2_reduces_every_micro_batch(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 16, node_chips: 8}, stack: {name: t, attention: fused,"
      " fused_elementwise: true, graphs: false, overlap_tp_comm: false, overlap_dp_comm: %s, zero_max: 3,"
      " kernel_overhead_s: 0}, model: llama3.1-8b, precision: bf16, task: train,"
      " train: {seq_len: 4096, global_batch: 64, micro_batch: 1, recompute: none},"
      " parallel: {tp: 1, pp: 1, dp: 16, zero: %d}}";
  double dp[2][2]; /* [overlap][zero 1, 2] */
  for (int ov = 0; ov < 2; ov++)
    for (int z = 0; z < 2; z++) {
      char t[1024];
      snprintf(t, sizeof t, text, ov ? "true" : "false", z + 1);
      sl_scenario *sc = load(t);
      sl_result *r = run(sc);
      double n;
      dp[ov][z] = rows_time(r, "dp_grad_sync", &n);
      sl_result_free(r);
      sl_scenario_free(sc);
    }
  print_message("dp_grad_sync: no overlap %.4f / %.4f s, overlap %.4f / %.4f s (zero 1 / 2)\n", dp[0][0],
                dp[0][1], dp[1][0], dp[1][1]);
  assert_true(fabs(dp[0][1] / dp[0][0] - 4.0) < 1e-6); /* 64 / 16 = 4 micro-batches */
  assert_true(dp[1][1] > dp[1][0] && dp[1][1] < dp[0][1]);
}

/* A data-parallel reduction hidden behind the backward still reads and writes its buffers in DRAM,
 * which the backward it hides behind lacks: with the transfer all but hidden (one micro-batch's
 * backward of an 8K sequence, recomputed to fit, against a reduce-scatter over NVLink), the exposed rows hold at least
 * the DRAM time of the fp32 gradients' and the bf16 weights' traffic (2 x bytes at the chip's
 * sustained DRAM rate), where the transfer alone leaves one layer's share. */
static void test_dp_hidden_dram(void **state) {
  (void)state;
  const char *no_cores[] = {"stack.comm_cores=0"}; /* the DRAM alone (the cores held: test_comm_cores) */
  sl_scenario *sc = load_sets(
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.1-8b,"
      " precision: bf16, task: train, train: {seq_len: 8192, global_batch: 64, micro_batch: 1,"
      " recompute: full}, parallel: {tp: 1, pp: 1, dp: 8, zero: 1}}",
      no_cores, 1);
  sl_result *r = run(sc);
  double n, rs = rows_time(r, "dp_grad_sync", &n), ag = rows_time(r, "dp_param_gather", &n);
  double grads = sl_result_number(r, "memory.grads_bytes"); /* fp32: 4 bytes a parameter */
  double bw = 3350e9 * 0.90;                                /* h100-sxm HBM3 x efficiency.dram */
  double want_rs = 2.0 * grads / bw, want_ag = 2.0 * grads / 2.0 / bw;
  print_message("dp_grad_sync %.2f ms (DRAM %.2f ms), dp_param_gather %.2f ms (DRAM %.2f ms)\n", rs * 1e3,
                want_rs * 1e3, ag * 1e3, want_ag * 1e3);
  assert_true(rs > 0.9 * want_rs && rs < 1.5 * want_rs);
  assert_true(ag > 0.9 * want_ag && ag < 1.5 * want_ag);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Collectives that overlap compute hold cores (stack comm_cores): the compute-bound share cb of what
 * they hide behind runs on C - s of the C cores for the hidden time h, h cb s / (C - s) longer.  Against
 * that form: with s = 16 and 32 of the H100's 132 SMs the gradient row grows by h cb 16/116 and
 * h cb 32/100, whose ratio is fixed whatever h and cb are; the growth is under the whole transfer's
 * 16/116 (h <= t, cb <= 1); and with the overlap off the figure changes nothing. */
static void test_comm_cores(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.1-8b,"
      " precision: bf16, task: train, train: {seq_len: 8192, global_batch: 64, micro_batch: 1,"
      " recompute: full}, parallel: {tp: 1, pp: 1, dp: 8, zero: 1}}";
  double rs[3], step[3], n;
  const char *cores[] = {"stack.comm_cores=0", "stack.comm_cores=16", "stack.comm_cores=32"};
  for (int i = 0; i < 3; i++) {
    sl_scenario *sc = load_sets(text, &cores[i], 1);
    sl_result *r = run(sc);
    rs[i] = rows_time(r, "dp_grad_sync", &n), step[i] = r->step_time_s;
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  const char *off[] = {"stack.overlap_dp_comm=false", "stack.comm_cores=16"};
  sl_scenario *sc = load_sets(text, off, 2);
  sl_result *r = run(sc);
  double t_dp = rows_time(r, "dp_grad_sync", &n), step_off16 = r->step_time_s;
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load_sets(text, off, 1);
  r = run(sc);
  double step_off0 = r->step_time_s;
  sl_result_free(r);
  sl_scenario_free(sc);
  double d16 = rs[1] - rs[0], d32 = rs[2] - rs[0];
  print_message("dp_grad_sync %.3f / %.3f / %.3f ms with 0 / 16 / 32 cores held; whole transfer %.3f ms\n",
                rs[0] * 1e3, rs[1] * 1e3, rs[2] * 1e3, t_dp * 1e3);
  assert_true(d16 > 0 && step[1] > step[0] && step[2] > step[1]);
  assert_rel(d32 / d16, (32.0 / 100.0) / (16.0 / 116.0), 1e-9, "ratio of the slowdowns");
  assert_true(d16 <= t_dp * 16.0 / 116.0);
  assert_true(step_off16 == step_off0);
}

/* LAMB (You et al. 2020) keeps Adam's state and adds a second pass over the update: the
 * optimizer row moves 12 more bytes a parameter on the chip (read the update and the weight,
 * write the weight), does more arithmetic, and the state in memory is the same. */
static void test_lamb_traffic(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.2-1b,"
      " precision: bf16, task: train, train: {seq_len: 2048, global_batch: 16, micro_batch: 1,"
      " recompute: none, optimizer: %s}, parallel: {tp: 1, pp: 1, dp: 8, zero: 1}}";
  double bytes[2], flops[2], time[2], state_b[2];
  const char *opt[] = {"adamw", "lamb"};
  for (int i = 0; i < 2; i++) {
    char t[512];
    snprintf(t, sizeof t, text, opt[i]);
    sl_scenario *sc = load(t);
    sl_result *r = run(sc);
    bytes[i] = flops[i] = time[i] = 0;
    for (size_t j = 0; j < r->n_rows; j++)
      if (strcmp(r->rows[j].name, "optimizer") == 0)
        bytes[i] += r->rows[j].bytes, flops[i] += r->rows[j].flops, time[i] += r->rows[j].time_s;
    state_b[i] = sl_result_number(r, "memory.optimizer_bytes");
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  double params = state_b[0] / 12.0; /* master weight, m, v in fp32: the chip's share (ZeRO-1) */
  print_message("optimizer: adamw %.3f ms %.3g B, lamb %.3f ms %.3g B; %.4g parameters on the chip\n",
                time[0] * 1e3, bytes[0], time[1] * 1e3, bytes[1], params);
  assert_true(state_b[1] == state_b[0] && params > 0);
  assert_true(fabs((bytes[1] - bytes[0]) / (12.0 * params) - 1) < 1e-9);
  assert_true(flops[1] > flops[0] && time[1] > time[0]);
}

/* Block recompute: the fewest layers per model chunk fully recomputed that let the stage fit.  Llama-3-70B
 * on 16 H100s (TP 8, PP 2 x 2 chunks, 40 layers a stage, 64 micro-batches): without recompute it does
 * not fit, with every layer recomputed it is slowest; block recomputes a multiple of the 2 chunks, fits,
 * and two layers fewer would not (the per-layer saving taken from the full-recompute run). */
static void test_block_recompute(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 16, node_chips: 8}, stack: megatron-2024, model: llama3-70b,"
      " precision: bf16, task: train, train: {seq_len: 8192, global_batch: 64, micro_batch: 1, recompute: "
      "%s},"
      " parallel: {tp: 8, pp: 2, dp: 1, vpp: 2, zero: 1, sp: true}}";
  const char *rc[] = {"none", "full", "block"};
  double step[3], mem[3], nrc[3];
  int fit[3];
  for (int i = 0; i < 3; i++) {
    char t[512];
    snprintf(t, sizeof t, text, rc[i]);
    sl_scenario *sc = load(t);
    sl_result *r = run(sc);
    fit[i] = sl_result_feasible(r);
    step[i] = fit[i] ? sl_result_number(r, "step_time_s") : 0;
    mem[i] = sl_result_number(r, "memory.per_chip_bytes");
    rows_time(r, "recompute.qkv", &nrc[i]);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  double layers = 40, m = 64, cap = 80.0 * 1073741824.0, blk = nrc[2] / m;
  print_message("none fits %d; full %.2f s %.1f GiB; block %.2f s %.1f GiB, %g of %g layers recomputed\n",
                fit[0], step[1], mem[1] / 1073741824.0, step[2], mem[2] / 1073741824.0, blk, layers);
  assert_false(fit[0]);
  assert_true(fit[1] && fit[2]);
  assert_true(nrc[1] == layers * m);
  assert_true(blk > 0 && blk < layers && fmod(blk, 2.0) == 0);
  assert_true(step[2] < step[1] && mem[2] <= cap);
  double per_layer = (mem[2] - mem[1]) / (layers - blk);
  assert_true(mem[2] + 2.0 * per_layer > cap);
}

/* Pipeline transfers: with 4 stages of 2 chips (TP 2) on nodes of 8, two stages share a node but the
 * pipeline crosses the fabric, and that boundary paces it: each send costs what the fabric gives.
 * With overlap_pp_comm the interleaved schedule hides them behind the other chunks' compute; without
 * interleaving (vpp 1) the flag changes nothing. */
static void test_pipeline_transfers(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: %d, scale_up: {bw_GBps: 450}, scale_out: {bw_GBps: "
      "50}},"
      " stack: {name: t, attention: fused, fused_elementwise: true, graphs: false, overlap_tp_comm: false,"
      " overlap_dp_comm: false, overlap_pp_comm: %s, kernel_overhead_s: 0}, model: llama3.1-8b, precision: "
      "bf16,"
      " task: train, train: {seq_len: 4096, global_batch: 16, micro_batch: 1, recompute: none},"
      " parallel: {tp: 2, pp: 4, dp: 1, vpp: %d, sp: true}}";
  double t[2][2][2]; /* [node 4 or 8][overlap][vpp 1 or 2]: pp_send_recv seconds per transfer */
  for (int nd = 0; nd < 2; nd++)
    for (int ov = 0; ov < 2; ov++)
      for (int v = 0; v < 2; v++) {
        char buf[1024];
        snprintf(buf, sizeof buf, text, nd ? 8 : 4, ov ? "true" : "false", v + 1);
        sl_scenario *sc = load(buf);
        sl_result *r = run(sc);
        double n, tt = rows_time(r, "pp_send_recv", &n);
        t[nd][ov][v] = tt / n;
        sl_result_free(r);
        sl_scenario_free(sc);
      }
  print_message("p2p per transfer: nodes of 4 %.1f us, nodes of 8 %.1f us; overlapped (vpp 2) %.1f us\n",
                t[0][0][0] * 1e6, t[1][0][0] * 1e6, t[0][1][1] * 1e6);
  /* 4096 x 4096 x 2 B / 2 = 16.8 MB over the 50 GB/s fabric at the link's efficiency (the send is
   * costed as a collective call: start-up, protocol), not the 450 GB/s scale-up links */
  assert_true(t[0][0][0] > 16.7e6 / 50e9 && t[0][0][0] < 16.8e6 / (0.6 * 50e9) + 60e-6);
  assert_true(t[1][0][0] < 16.8e6 / 450e9 + 60e-6);   /* all four stages in one node */
  assert_true(fabs(t[0][1][0] - t[0][0][0]) < 1e-12); /* vpp 1: not overlapped */
  assert_true(t[0][1][1] < 0.2 * t[0][0][1]);         /* interleaved: hidden but for its DRAM traffic */
}

/* Context parallelism of causal training is load-balanced (each rank holds chunks i and 2cp-1-i of the
 * sequence): a rank's attention kernels do 1/cp of the causal work, not that of the last s/cp
 * queries (which would be 0.75 of the cp 1 time at cp 2, 0.44 at cp 4). */
static void test_cp_causal_balance(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 8, node_chips: 8}, stack: megatron-2024, model: llama3.1-8b,"
      " precision: bf16, task: train, train: {seq_len: 16384, global_batch: 8, micro_batch: 1, recompute: "
      "full},"
      " parallel: {tp: 2, pp: 1, cp: %d, dp: %d, zero: 1, sp: true}}";
  double t[3];
  for (int i = 0; i < 3; i++) {
    char buf[512];
    int cp = 1 << i;
    snprintf(buf, sizeof buf, text, cp, 4 / cp);
    sl_scenario *sc = load(buf);
    sl_result *r = run(sc);
    double n = 0;
    t[i] = 0;
    for (size_t k = 0; k < r->n_rows; k++)
      if (strcmp(r->rows[k].name, "attention") == 0) t[i] += r->rows[k].time_s, n += r->rows[k].count;
    t[i] /= n;
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  print_message("attention per micro-batch: cp 1 %.3f ms, cp 2 %.3f, cp 4 %.3f\n", t[0] * 1e3, t[1] * 1e3,
                t[2] * 1e3);
  assert_true(t[1] / t[0] > 0.45 && t[1] / t[0] < 0.55);
  assert_true(t[2] / t[0] > 0.22 && t[2] / t[0] < 0.28);
}

/* Tensor-parallel communication overlaps the products only inside one scale-up domain: TP 16 over two
 * nodes of 8 leaves its collectives exposed (over the fabric), in one domain of 16 it hides them. */
static void test_tp_overlap_needs_one_domain(void **state) {
  (void)state;
  const char *text =
      "{chip: h100-sxm, system: {chips: 16, node_chips: %d}, stack: megatron-2024, model: llama3.1-70b,"
      " precision: bf16, task: train, train: {seq_len: 4096, global_batch: 16, micro_batch: 1, recompute: "
      "full},"
      " parallel: {tp: 16, pp: 1, dp: 1, sp: true}}";
  double tp[2], step[2];
  for (int i = 0; i < 2; i++) {
    char buf[512];
    snprintf(buf, sizeof buf, text, i ? 16 : 8);
    sl_scenario *sc = load(buf);
    sl_result *r = run(sc);
    double n;
    tp[i] = rows_time(r, "tp_", &n);
    step[i] = sl_result_number(r, "step_time_s");
    sl_result_free(r);
    sl_scenario_free(sc);
  }
  print_message("TP rows: across nodes %.3f s of %.3f, one domain %.3f s of %.3f\n", tp[0], step[0], tp[1],
                step[1]);
  assert_true(tp[0] > 0.4 * step[0]); /* 4096 x 8192 x 2 B per collective over 50 GB/s, exposed */
  assert_true(tp[1] < 0.35 * tp[0]);  /* hidden but for the DRAM traffic and what outlasts the products */
  assert_true(step[1] < 0.7 * step[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_1f1b_uniform),
      cmocka_unit_test(test_1f1b_distinct_stages),
      cmocka_unit_test(test_korthikanti_memory),
      cmocka_unit_test(test_megatron_efficiency_fit),
      cmocka_unit_test(test_search_matches_brute_force),
      cmocka_unit_test(test_enumerator_yields_consistent_plans),
      cmocka_unit_test(test_enumerator_keeps_the_best),
      cmocka_unit_test(test_enumerator_many_divisors),
      cmocka_unit_test(test_enumerator_limit),
      cmocka_unit_test(test_enumerator_fixed_degrees),
      cmocka_unit_test(test_symmetry),
      cmocka_unit_test(test_rows_and_reasons),
      cmocka_unit_test(test_fp8_training),
      cmocka_unit_test(test_fp8_saved_activations),
      cmocka_unit_test(test_dp_chunked_overlap),
      cmocka_unit_test(test_dp_hidden_dram),
      cmocka_unit_test(test_lamb_traffic),
      cmocka_unit_test(test_comm_cores),
      cmocka_unit_test(test_zero2_reduces_every_micro_batch),
      cmocka_unit_test(test_block_recompute),
      cmocka_unit_test(test_pipeline_transfers),
      cmocka_unit_test(test_cp_causal_balance),
      cmocka_unit_test(test_tp_overlap_needs_one_domain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
