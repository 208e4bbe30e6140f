/* test_energy.c — energy from actions and the TDP cap : a GEMM's energy against the
 * per-action table worked out by hand, the H100 bf16 GEMM power band, idle power, the cap (closed
 * form and its effect on throughput, in inference and training), rows that add up, overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "test_util.h"

static const char GEMM_H100[] = "{chip: h100-sxm, stack: cuda-events, task: infer, precision: bf16, model: "
                                "{op: gemm, m: 8192, n: 8192, k: 8192}}";

/* A chip preset and a cost context over it with a stack of the given efficiency and nothing else. */
typedef struct {
  arena a;
  sl_chip c;
  sl_stack st;
  sl_costctx ctx;
} kernel_fixture;

static void kernel_fixture_init(kernel_fixture *f, const char *chip, double efficiency) {
  sl_error err;
  ar_init(&f->a);
  assert_int_equal(chip_load(&f->a, chip, NULL, &f->c, &err), SL_OK);
  energy_derive(&f->c, 1);
  memset(&f->st, 0, sizeof f->st);
  f->st.efficiency = efficiency;
  cost_ctx_init(&f->ctx, &f->c, &f->st, 0);
}

/* The counting tests take the table at one operating point (energy.limit_clock_ratio 1): the
 * operating point has its own test (test_operating_point). */
static void one_operating_point(sl_chip *c) {
  c->energy_limit_clock = 1;
  energy_derive(c, 1);
}

/* ---- per-action table ---------------------------------------------------------------------------- */

static void test_node_factor(void **state) {
  (void)state;
  assert_rel(energy_node_factor(45), 1.0, 1e-12, "45 nm");
  assert_rel(energy_node_factor(32), 0.659, 1e-12, "32 nm");
  assert_rel(energy_node_factor(7), 0.094, 1e-12, "7 nm");
  assert_rel(energy_node_factor(5), 0.094 * sqrt(5.0 / 7.0), 1e-12, "5 nm (sqrt below 7)");
  assert_rel(energy_node_factor(5), 0.080, 0.01, "5 nm as chips.md derives it");
  assert_rel(energy_node_factor(4), 0.071, 0.01, "4 nm as chips.md derives it");
  /* Horowitz's SRAM points (pJ per 64-bit read / 8) */
  assert_rel(energy_sram_pj_per_byte_45(8192), 10.0 / 8, 1e-12, "8 KB");
  assert_rel(energy_sram_pj_per_byte_45(32768), 20.0 / 8, 1e-12, "32 KB");
  assert_rel(energy_sram_pj_per_byte_45(1048576), 100.0 / 8, 1e-12, "1 MB");
}

/* The H100's table from its spec: 4 nm, wgmma m64n8k16, 228 KB shared memory, 50 MB L2, HBM3,
 * 814 mm2 — every figure worked out here from the constants of docs/energy-cost.md. */
static void test_h100_table_by_hand(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(chip_load(&a, "h100-sxm", NULL, &c, &err), SL_OK);
  energy_derive(&c, 1);
  const sl_energy_spec *E = &c.energy;
  /* on-chip figures carry the spec's fitted dynamic scale; DRAM, links and static power do not */
  assert_rel(c.energy_dynamic_scale, 1.460, 0, "h100 energy.dynamic_scale");
  /* the table is at the clock of a GEMM held at the TDP; below the limit an action costs (1 / 0.871)^2 */
  assert_rel(E->top_scale, 1 / (0.871 * 0.871), 1e-12, "top clock over the limit's");
  double f = 0.094 * sqrt(4.0 / 7.0) * c.energy_dynamic_scale;
  assert_rel(E->mac_j[SL_BF16], 1.5e-12 * f, 1e-12, "bf16 MAC");
  assert_rel(E->mac_j[SL_FP8], 0.75e-12 * f, 1e-12, "fp8 MAC");
  assert_rel(E->mac_j[SL_INT8], 0.23e-12 * f, 1e-12, "int8 MAC");
  /* operand store: 256 KiB SRAM = 2.5 pJ/B x (256/32)^(ln 5 / ln 32) */
  double op45 = 2.5 * pow(8.0, log(5.0) / log(32.0));
  assert_rel(E->operand_j_per_byte, op45 * f * 1e-12, 1e-12, "operand store");
  /* m64 n8 k16, bf16 inputs, fp32 accumulators read and written */
  assert_rel(E->operand_bytes_per_mac[SL_BF16], (64 * 16 * 2 + 16 * 8 * 2 + 2 * 64 * 8 * 4) / (64.0 * 8 * 16),
             1e-12, "operand bytes per MAC");
  /* fp8: wgmma m64nNk32, twice the K, so half the accumulator bytes per MAC */
  assert_rel(E->operand_bytes_per_mac[SL_FP8], (64 * 32 * 1 + 32 * 8 * 1 + 2 * 64 * 8 * 4) / (64.0 * 8 * 32),
             1e-12, "fp8 operand bytes per MAC");
  double smem45 = 2.5 * pow(233472.0 / 32768, log(5.0) / log(32.0));
  assert_rel(E->core_sram_j_per_byte, smem45 * f * 1e-12, 1e-12, "shared memory");
  double wire = 0.14 * 8 * 0.5 * sqrt(814.0); /* pJ per byte over half the die edge */
  assert_rel(E->shared_j_per_byte, (12.5 * f + wire * c.energy_dynamic_scale) * 1e-12, 1e-12,
             "L2 bank + wires");
  /* the spec's DRAM figure, fitted to a measured streaming kernel's power, is taken as given (not scaled) */
  assert_rel(E->dram_j_per_byte, 12.25 * 8e-12, 1e-12, "HBM and its path, fitted");
  assert_rel(E->link_j_per_byte, 6.5 * 8e-12, 1e-12, "links");
  assert_rel(E->static_w, 70.0, 1e-12, "static: the measured idle boards' 70 W, not 12% of the TDP");
  ar_free(&a);
}

/* A GEMM's energy = MACs x (energy per MAC + operand bytes per MAC x energy per byte) + bytes at
 * each level x energy per byte there, with the counts of the tile model worked out by hand. */
static void test_gemm_energy_by_hand(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "h100-sxm", 1);
  one_operating_point(&f.c);
  const sl_chip c = f.c;
  const sl_costctx ctx = f.ctx;
  double M = 4096, N = 4096, K = 4096;
  sl_op op;
  memset(&op, 0, sizeof op);
  op.kernel = SL_K_GEMM;
  op.count = 1;
  op.u.g = (sl_gemm_shape){M, N, K, 1, SL_BF16, 2, 2, 2};
  sl_cost k = cost_op(&ctx, &op);
  /* counts: 4096 divides every tile, so no padding */
  assert_rel(k.macs, M * N * K, 1e-12, "MACs");
  double tm = ceil(M / k.tile.m), tn = ceil(N / k.tile.n);
  double panels = tn * M * K * 2 + tm * K * N * 2;
  assert_rel(k.l2_bytes, panels + M * N * 2, 1e-12, "L2 bytes: panels and C");
  assert_rel(k.core_bytes, 2 * panels, 1e-12, "shared-memory bytes: panels in and out");
  const sl_energy_spec *E = &c.energy;
  double mac = k.macs * (E->mac_j[SL_BF16] + E->operand_bytes_per_mac[SL_BF16] * E->operand_j_per_byte);
  double sram = k.core_bytes * E->core_sram_j_per_byte;
  double shared = (k.l2_bytes + k.dram_bytes) * E->shared_j_per_byte;
  double dram = k.dram_bytes * E->dram_j_per_byte;
  assert_rel(k.e_core_j, mac + sram + shared, 1e-12, "on-chip energy");
  assert_rel(k.e_off_j, dram, 1e-12, "DRAM energy");
  assert_true(k.dram_bytes >= 3 * M * N * 2 * (1 - 1e-12)); /* A, B read and C written at least once */
  /* through a scenario: one op on one chip, the row's energy is the op's plus static power.  A
   * stack at efficiency 0.8 stretches the kernel's time by 1 / 0.8 and its on-chip energy with it
   * (the kernel's on-chip power held over its stretched time); the DRAM bytes are the same bytes. */
  sl_scenario *sc = load(
      "{chip: h100-sxm, task: infer, precision: bf16, stack: {attention: fused, "
      "fused_elementwise: true, kernel_overhead_s: 0, efficiency: 0.8}, model: {op: gemm, m: 4096, n: 4096, "
      "k: 4096}}");
  one_operating_point(&sc->chip);
  sl_result *r = run(sc);
  assert_int_equal(r->n_rows, 1);
  double t = sl_result_number(r, "step_time_s");
  assert_rel(t, k.time_s / 0.8, 1e-9, "step time at the stack's efficiency");
  assert_rel(r->rows[0].energy_j, k.e_core_j / 0.8 + k.e_off_j + E->static_w * t, 1e-9, "row energy");
  assert_rel(sl_result_number(r, "energy.avg_power_w_per_chip"),
             (k.e_core_j + k.e_off_j * 0.8) / k.time_s + E->static_w, 1e-9,
             "on-chip power held at the kernel's, DRAM power diluted");
  assert_rel(sl_result_number(r, "energy.step_j"), r->rows[0].energy_j, 1e-9, "step energy");
  sl_result_free(r);
  sl_scenario_free(sc);
  ar_free(&f.a);
}

/* A format the matrix engine does not take runs as FMAs on the vector lanes: an fp32 GEMM on an A100
 * (tensor cores take TF32, not fp32) costs vector FLOPs (three register reads and a write per FMA),
 * no engine MACs; the same GEMM in TF32 runs on the engine and costs MACs.  Per FLOP the vector path
 * costs more than the engine path did when it was (wrongly) charged as engine MACs, and the A100's
 * measured fp64 FMA (5.3 pJ per FLOP, docs/energy-cost.md section 2.2) bounds it from above: an fp32
 * FMA moves half the operand bytes. */
static void test_vector_gemm_energy(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "a100-sxm-40gb", 1);
  one_operating_point(&f.c);
  assert_true(!(f.c.mat_macs_per_cycle[SL_FP32] > 0));
  assert_true(f.c.mat_macs_per_cycle[SL_TF32] > 0);
  sl_op op;
  memset(&op, 0, sizeof op);
  op.kernel = SL_K_GEMM;
  op.count = 1;
  op.u.g = (sl_gemm_shape){4096, 4096, 4096, 1, SL_FP32, 4, 4, 4};
  sl_cost k = cost_op(&f.ctx, &op);
  assert_true(k.macs == 0);
  assert_rel(k.vec_flops, k.flops, 1e-12, "every FLOP a vector FLOP");
  const sl_energy_spec *E = &f.c.energy;
  double vec = k.vec_flops * E->vec_flop_j[SL_FP32];
  double rest = k.core_bytes * E->core_sram_j_per_byte + (k.l2_bytes + k.dram_bytes) * E->shared_j_per_byte;
  assert_rel(k.e_core_j, vec + rest, 1e-12, "on-chip energy: vector FLOPs and the tiles' bytes");
  double engine =
      k.flops / 2 * (E->mac_j[SL_FP32] + E->operand_bytes_per_mac[SL_FP32] * E->operand_j_per_byte);
  assert_true(vec > engine);
  assert_true(E->vec_flop_j[SL_FP32] < 5.3e-12);
  op.u.g.dt = SL_TF32;
  sl_cost t = cost_op(&f.ctx, &op);
  assert_rel(t.macs, t.flops / 2, 1e-12, "TF32 on the engine");
  assert_true(t.vec_flops == 0);
  ar_free(&f.a);
}

/* ---- power ------------------------------------------------------------------------------------------ */

/* Done means: an H100 running a large bf16 GEMM draws 60-100% of its 700 W; uncapped shown. */
static void test_h100_gemm_power(void **state) {
  (void)state;
  sl_scenario *sc = load(GEMM_H100);
  sl_result *r = run(sc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip");
  double u = sl_result_number(r, "energy.uncapped_power_w_per_chip");
  printf("h100 8192^3 bf16 GEMM: %.0f W (uncapped %.0f W) of 700 W\n", p, u);
  assert_true(p >= 0.6 * 700 && p <= 700);
  assert_false(isnan(u));
  assert_true(u >= p * (1 - 1e-12));
  char *json = sl_result_json(r);
  assert_non_null(strstr(json, "\"uncapped_power_w_per_chip\""));
  assert_non_null(strstr(json, "\"energy\":"));
  free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Done means: idle power below 20% of TDP, on every chip. */
static void test_idle_power(void **state) {
  (void)state;
  size_t n = sl_preset_count("chips");
  assert_true(n > 5);
  for (size_t i = 0; i < n; i++) {
    arena a;
    ar_init(&a);
    sl_chip c;
    sl_error err;
    assert_int_equal(chip_load(&a, sl_preset_name("chips", i), NULL, &c, &err), SL_OK);
    energy_derive(&c, 1);
    if (!(c.energy.static_w < 0.2 * c.tdp_w))
      fail_msg("%s: idle %g W of %g W", c.name, c.energy.static_w, c.tdp_w);
    ar_free(&a);
  }
}

/* The cap's closed form: a compute-bound op (no off-chip energy, no clock-independent time) has
 * P(r) = Ps + (E/T) r^3, so r = ((TDP - Ps) / (E/T))^(1/3) above the voltage floor. */
static void test_cap_closed_form(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(chip_load(&a, "h100-sxm", NULL, &c, &err), SL_OK);
  energy_derive(&c, 1);
  double ps = c.energy.static_w, T = 1.0, E = 800.0; /* 800 W dynamic at full clock */
  sl_capped k = power_cap(&c, E, 0, T, 0);
  double r = cbrt((700 - ps) / (E / T));
  assert_rel(k.clock_ratio, r, 1e-9, "clock ratio");
  assert_rel(k.time_s, T / r, 1e-9, "time");
  assert_rel(k.power_w, 700, 1e-9, "power at the cap");
  assert_rel(k.uncapped_w, ps + E / T, 1e-12, "uncapped");
  /* under the cap: nothing changes */
  k = power_cap(&c, 300, 100, 0.5, 0.5);
  assert_rel(k.clock_ratio, 1, 0, "no cap");
  assert_rel(k.time_s, 1, 1e-12, "no cap: time");
  /* the same energy with half the time memory-bound (not slowed by the clock): a smaller slowdown */
  sl_capped all = power_cap(&c, E, 0, T, 0), half = power_cap(&c, E, 0, T * 0.5, T * 0.5);
  assert_true(half.time_s < all.time_s);
  assert_true(half.time_s > T);
  assert_rel(half.power_w, 700, 1e-9, "mixed: at the cap");
  ar_free(&a);
}

/* One kernel whose clocked work (MACs, SRAM, L2) overlaps its DRAM time (power_cap_overlap), by
 * hand on the h100-sxm's static power: 800 J of on-chip energy, clocked 1 s inside 1.2 s of DRAM.
 * The clock may fall to 1/1.2 before the clocked work outlasts the DRAM time, and the cap binds
 * above that: r^2 = (700 - ps) x 1.2 / 800, time unchanged.  With 2000 J it binds below: the
 * clocked work sets the time, 1/r, and p = ps + 2000 r^2 / (1/r) gives r = cbrt((700 - ps)/2000). */
static void test_cap_overlap_by_hand(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "h100-sxm", 1);
  const sl_chip c = f.c;
  double ps = c.energy.static_w;
  sl_capped k = power_cap_overlap(&c, 800, 0, 1.0, 1.2, 0);
  assert_rel(k.clock_ratio, sqrt((700 - ps) * 1.2 / 800), 1e-9, "clock, memory side");
  assert_rel(k.time_s, 1.2, 1e-12, "time, memory side");
  assert_rel(k.power_w, 700, 1e-9, "power, memory side");
  k = power_cap_overlap(&c, 2000, 0, 1.0, 1.2, 0);
  double r = cbrt((700 - ps) / 2000);
  assert_true(r > 0.6 && r < 1 / 1.2);
  assert_rel(k.clock_ratio, r, 1e-9, "clock, past the balance");
  assert_rel(k.time_s, 1 / r, 1e-9, "time, past the balance");
  /* power_cap is the overlap-free case */
  sl_capped p = power_cap(&c, 2000, 50, 0.7, 0.3), q = power_cap_overlap(&c, 2000, 50, 0.7, 0, 0.3);
  assert_rel(p.time_s, q.time_s, 0, "no overlap");
  ar_free(&f.a);
}

/* A step's near-ridge kernels under the cap (power_cap_near) against a naive reference: each kernel
 * kept apart and its time max(c / r, d) summed at every clock the bisection tries.  The bins take a
 * bin's kernels as one; their error is bounded by the bin's width, and one kernel is exact. */
static double naive_near_time(const double *c, const double *d, int n, double t_clock, double t_other,
                              double r) {
  double t = t_clock / r + t_other;
  for (int i = 0; i < n; i++)
    t += fmax(c[i] / r, d[i]) - d[i];
  return t;
}

static double naive_near_cap(const sl_chip *ch, double e_core, double e_off, const double *c, const double *d,
                             int n, double t_clock, double t_other, double *time_s) {
  double ps = ch->energy.static_w, lo = 0.02, hi = 1.0;
  if (ps + (e_core + e_off) / naive_near_time(c, d, n, t_clock, t_other, 1) <= ch->tdp_w) {
    *time_s = naive_near_time(c, d, n, t_clock, t_other, 1);
    return 1;
  }
  for (int i = 0; i < 200; i++) {
    double r = 0.5 * (lo + hi);
    double v = r > 0.6 ? r : 0.6; /* the voltage floor, SL_VMIN */
    if (ps + (e_core * v * v + e_off) / naive_near_time(c, d, n, t_clock, t_other, r) > ch->tdp_w)
      hi = r;
    else
      lo = r;
  }
  *time_s = naive_near_time(c, d, n, t_clock, t_other, lo);
  return lo;
}

static void test_cap_near_vs_naive(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "b200", 1);
  const sl_chip c = f.c;
  /* one kernel: exact, and the same as power_cap_overlap */
  sl_near one;
  memset(&one, 0, sizeof one);
  near_add(&one, 0.9e-3, 1.0e-3);
  double kc[64] = {0.9e-3}, kd[64] = {1.0e-3}, want_t;
  double want_r = naive_near_cap(&c, 1.6, 0.3, kc, kd, 1, 0, 1.0e-3, &want_t);
  sl_capped k = power_cap_near(&c, 1.6, 0.3, 0, 1.0e-3, &one);
  assert_true(want_r < 0.9); /* past its balance point: the kernel is slowed */
  assert_rel(k.clock_ratio, want_r, 1e-9, "one kernel: clock");
  assert_rel(k.time_s, want_t, 1e-9, "one kernel: time");
  assert_rel(power_cap_overlap(&c, 1.6, 0.3, 0.9e-3, 1.0e-3, 0).time_s, want_t, 1e-9, "overlap");
  /* a step of 64 kernels of ratios spread over (0, 1) beside compute-bound work: the bins' time
   * within 1% of the reference, over loads from under the cap to far past it */
  unsigned x = 12345;
  sl_near bins;
  memset(&bins, 0, sizeof bins);
  double d_sum = 0;
  for (int i = 0; i < 64; i++) {
    x = x * 1103515245u + 12345u;
    double b = 0.05 + 0.95 * (double)(x >> 8) / (double)(1u << 24);
    kd[i] = 1e-4 * (1 + i % 7), kc[i] = b * kd[i];
    near_add(&bins, kc[i], kd[i]);
    d_sum += kd[i];
  }
  double t_clock = 2e-3, t_other = 1e-3 + d_sum, worst = 0;
  int capped = 0;
  for (double e = 4; e <= 200; e *= 1.5) {
    sl_capped b = power_cap_near(&c, e, 0.4, t_clock, t_other, &bins);
    double tn;
    double rn = naive_near_cap(&c, e, 0.4, kc, kd, 64, t_clock, t_other, &tn);
    worst = fmax(worst, fabs(b.time_s / tn - 1));
    if (fabs(b.time_s / tn - 1) > 0.01)
      fail_msg("%g J: binned %g s, reference %g s (clock %g, %g)", e, b.time_s, tn, b.clock_ratio, rn);
    assert_true(b.power_w <= c.tdp_w * (1 + 1e-9));
    capped += b.clock_ratio < 1;
  }
  assert_true(capped >= 5);
  printf("near-ridge bins against the reference: worst time %.3f%%\n", worst * 100);
  /* kernels on the memory side lengthen the capped step against the compute-only model, which left
   * them at their time */
  sl_capped none = power_cap(&c, 60, 0.4, t_clock, t_other),
            with = power_cap_near(&c, 60, 0.4, t_clock, t_other, &bins);
  assert_true(with.time_s > none.time_s);
  ar_free(&f.a);
}

/* A step of one memory-bound GEMM over the TDP (a B200 decode product of 256 rows, bf16 weights of
 * 1 GiB streamed, on a board held at 700 W): the step's cap slows it as the kernel's own cap does
 * (gemm_config_capped_time) and its row carries the time; the step's cap used to lower the clock of
 * such a kernel for nothing. */
static void test_step_cap_memory_bound_gemm(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: b200, stack: cuda-events-cold, task: infer, precision: bf16, model: "
                         "{op: gemm, m: 256, n: 16384, k: 32768}}");
  sc->chip.tdp_w = 700;
  sl_result *r = run(sc);
  double t = sl_result_number(r, "step_time_s"), t0 = r->power.uncapped_step_time_s;
  printf("b200 256x16384x32768: %.1f us at full clock, %.1f us capped (clock %.2f)\n", t0 * 1e6, t * 1e6,
         sl_result_number(r, "energy.clock_ratio"));
  assert_int_equal(r->rows[0].bound, SL_BOUND_MEMORY);
  assert_true(sl_result_number(r, "energy.clock_ratio") < 1);
  assert_true(t > t0 * 1.02);
  assert_rel(sl_result_number(r, "energy.avg_power_w_per_chip"), sc->chip.tdp_w, 1e-6, "at the cap");
  assert_rel(r->rows[0].time_s, t, 1e-9, "the row");
  /* the kernel alone under its own cap: the same time, less the stack's fixed time per kernel */
  arena a;
  ar_init(&a);
  sl_costctx ctx;
  cost_ctx_init(&ctx, &sc->chip, &sc->stack, 0);
  sl_gemm_shape g = {256, 16384, 32768, 1, SL_BF16, 2, 2, 2};
  sl_cost k = cost_gemm(&ctx, &g), top = k;
  energy_of_cost(&sc->chip, g.dt, 0, &top); /* the kernel at the top clock, as the step adds it up */
  double over = t0 - top.time_s / sc->stack.efficiency;
  assert_rel(t - over, gemm_config_capped_time(&ctx, &g, k) / sc->stack.efficiency, 1e-3, "kernel's own cap");
  ar_free(&a);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* A kernel library's choice under the cap is monotone in the bytes it moves: B200 fp4 decode GEMMs
 * of 64 to 512 tokens whose weights carry more bytes per value never run faster.  (Before the
 * overlap was modelled, a configuration just on the memory side of its roofline lowered its clock
 * for nothing while its compute-side neighbour slowed, and the larger operands ran 12% faster.) */
static void test_capped_choice_monotone_in_bytes(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "b200", 0.76); /* as the trtllm stack's */
  const sl_costctx ctx = f.ctx;
  for (double m = 64; m <= 512; m += 16) {
    double prev = 0;
    for (double b = 0.5; b <= 1.0; b += 0.0625) {
      sl_gemm_shape g = {m, 57344, 8192, 1, SL_FP4, b, b, 2};
      sl_cost r = cost_gemm(&ctx, &g);
      double t = r.time_s; /* the chosen configuration's time, as a step adds it up */
      if (t < prev * (1 - 1e-9)) fail_msg("m %g: %g B a value runs in %g s, less than %g", m, b, t, prev);
      sl_cost top = r;
      energy_of_cost(ctx.chip, g.dt, 0, &top);
      assert_true(gemm_config_capped_time(&ctx, &g, r) >= top.time_s * (1 - 1e-12));
      prev = t;
    }
  }
  ar_free(&f.a);
}

/* Done means: the TDP cap lowers throughput when it binds. */
static void test_cap_lowers_throughput(void **state) {
  (void)state;
  sl_scenario *sc = load(GEMM_H100);
  one_operating_point(&sc->chip); /* the cap's physics apart from the operating point's */
  sl_result *r0 = run(sc);
  double t0 = sl_result_number(r0, "step_time_s"),
         u0 = sl_result_number(r0, "energy.uncapped_power_w_per_chip");
  assert_rel(sl_result_number(r0, "energy.clock_ratio"), 1, 0, "700 W: no cap");
  sc->chip.tdp_w = 400; /* same chip under a 400 W limit (static power unchanged) */
  sl_result *r1 = run(sc);
  double t1 = sl_result_number(r1, "step_time_s");
  printf("h100 GEMM at 400 W: %.3f ms -> %.3f ms, clock %.2f\n", t0 * 1e3, t1 * 1e3,
         sl_result_number(r1, "energy.clock_ratio"));
  assert_true(t1 > t0 * 1.05);
  assert_rel(sl_result_number(r1, "energy.avg_power_w_per_chip"), 400, 1e-6, "capped power");
  /* under the lower limit the kernel is the one that runs fastest there (gemm_config_capped_time) */
  double u1 = sl_result_number(r1, "energy.uncapped_power_w_per_chip");
  assert_true(u1 > 400 && u1 < 2 * u0);
  assert_true(sl_result_number(r1, "energy.clock_ratio") < 1);
  /* rows still add up to the step */
  double sum = 0;
  for (size_t i = 0; i < r1->n_rows; i++)
    sum += r1->rows[i].time_s;
  assert_rel(sum, t1, 1e-9, "rows");
  sl_result_free(r0);
  sl_result_free(r1);
  sl_scenario_free(sc);

  /* A DRAM-bound kernel lowers its clock for free down to its balance point
   * (test_cap_overlap_by_hand); a whole decode step at a limit below its power is not compared here:
   * since decode GEMMs take their least-padded tile (gemm.c, better) most of its power is DRAM bytes,
   * which no clock lowers, and such a limit throttles the memory too. */
}

/* Training: the plan is ranked by its capped step; the step's energy adds up over the rows of a
 * one-chip plan; a lower TDP gives a longer step. */
static void test_training_energy_and_cap(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, model: llama3.2-1b, task: train, train: {seq_len: 2048, global_batch: 8, "
           "micro_batch: 2}}");
  sl_result *r0 = run(sc);
  double t0 = sl_result_number(r0, "step_time_s"), e0 = sl_result_number(r0, "energy.step_j");
  double sum = 0, tsum = 0;
  for (size_t i = 0; i < r0->n_rows; i++)
    sum += r0->rows[i].energy_j, tsum += r0->rows[i].time_s;
  assert_rel(tsum, t0, 1e-9, "rows: time");
  assert_rel(sum, e0, 1e-9, "rows: energy (one chip)");
  assert_rel(sl_result_number(r0, "energy.j_per_token"), e0 / (8 * 2048), 1e-12, "J per token");
  double p0 = sl_result_number(r0, "energy.avg_power_w_per_chip");
  assert_true(p0 > 0.3 * 700 && p0 <= 700);
  sc->chip.tdp_w = 0.8 * p0;
  sl_result *r1 = run(sc);
  double t1 = sl_result_number(r1, "step_time_s");
  assert_true(t1 > t0);
  assert_true(sl_result_number(r1, "tokens_per_s") < sl_result_number(r0, "tokens_per_s"));
  assert_true(sl_result_number(r1, "energy.avg_power_w_per_chip") <= 0.8 * p0 * (1 + 1e-6));
  tsum = 0;
  for (size_t i = 0; i < r1->n_rows; i++)
    tsum += r1->rows[i].time_s;
  assert_rel(tsum, t1, 1e-6, "capped rows: time");
  sl_result_free(r0);
  sl_result_free(r1);
  sl_scenario_free(sc);
}

/* ---- overrides ------------------------------------------------------------------------------------- */

static sl_status chip_with(const char *extra, arena *a, sl_chip *c, sl_error *err) {
  const char *base = sl_preset_text("chips", "h100-sxm");
  /* the preset's own `energy:` map (its last key) gives way to the test's */
  const char *own = strstr(base, "\nenergy:");
  int keep = own ? (int)(own - base) : (int)strlen(base);
  size_t n = strlen(base) + strlen(extra) + 2;
  char *text = ar_alloc(a, n);
  snprintf(text, n, "%.*s\n%s", keep, base, extra);
  yt_node *tree = NULL;
  sl_status s = yt_parse(a, text, strlen(text), "test.yaml", &tree, err);
  reader r = {err, a, ""};
  if (!s) s = chip_from_node(&r, tree, c);
  if (!s) energy_derive(c, 1);
  return s;
}

static void test_overrides(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(
      chip_with("energy: {mac_pj: {bf16: 1.0}, dram_pj_per_bit: 5, static_w: 50, source: \"test\"}", &a, &c,
                &err),
      SL_OK);
  assert_rel(c.energy.mac_j[SL_BF16], 1e-12, 1e-12, "mac override");
  assert_rel(c.energy.dram_j_per_byte, 40e-12, 1e-12, "dram override");
  assert_rel(c.energy.static_w, 50, 0, "static override");
  assert_string_equal(c.energy.source, "test");
  assert_int_equal(chip_with("energy: {static_w: 800}", &a, &c, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "static_w"));
  assert_int_equal(chip_with("energy: {busy_w: 120}", &a, &c, &err), SL_OK);
  assert_rel(c.energy.busy_w, 120, 0, "busy power from the spec");
  assert_int_equal(chip_with("energy: {busy_w: 700}", &a, &c, &err), SL_ERR_INPUT); /* not below TDP */
  assert_non_null(strstr(err.message, "busy_w"));
  assert_int_equal(chip_with("energy: {busy_w: -5}", &a, &c, &err), SL_ERR_INPUT);
  assert_int_equal(chip_with("energy: {busy_w: lots}", &a, &c, &err), SL_ERR_INPUT);
  assert_int_equal(chip_with("energy: {mac_pj: {bf17: 1}}", &a, &c, &err), SL_ERR_INPUT);
  assert_int_equal(chip_with("energy: {frobnicate: 1}", &a, &c, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.message, "unknown"));
  ar_free(&a);
}

/* The GEMM kernel is the configuration that runs fastest on the power-limited chip: on an A100
 * at an energy scale that puts the full-clock choice for 4096 x 12288 x 12288 (128 x 128 tiles:
 * fewer idle SMs in the last wave than 256 x 128, a third more L2 bytes per MAC) over its 400 W,
 * the search takes
 * the configuration whose time under the cap is least (checked against every configuration), and
 * that one moves fewer L2 bytes.  With no energy table the choice is the full-clock one; the memo
 * does not answer from a search done with other energy figures. */
static void test_gemm_kernel_under_cap(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_stack st;
  sl_error err;
  assert_int_equal(chip_load(&a, "a100-sxm-80gb", NULL, &c, &err), SL_OK);
  memset(&st, 0, sizeof st);
  st.efficiency = 1;
  sl_costctx ctx;
  cost_ctx_init(&ctx, &c, &st, 0);
  sl_gemm_shape g = {4096, 12288, 12288, 1, SL_FP16, 2, 2, 2};
  c.energy.derived = 0; /* no energy table: ranked by full-clock time */
  sl_cost free_run = cost_gemm(&ctx, &g);
  assert_rel(gemm_config_capped_time(&ctx, &g, free_run), free_run.time_s, 0, "no table: own time");
  c.energy_dynamic_scale = 2.0;
  energy_derive(&c, 1);
  sl_cost r0 = free_run;
  energy_of_cost(&c, g.dt, 0, &r0);
  double p0 = c.energy.static_w + (r0.e_core_j + r0.e_off_j) / r0.time_s;
  printf("a100 4096x12288x12288 full-clock choice %dx%d: %.0f W uncapped\n", r0.tile.m, r0.tile.n, p0);
  assert_true(p0 > c.tdp_w); /* the full-clock choice would be throttled */
  assert_true(gemm_config_capped_time(&ctx, &g, free_run) > free_run.time_s * (1 + 1e-3));
  sl_cost best = cost_gemm(&ctx, &g);
  double tb = gemm_config_capped_time(&ctx, &g, best);
  for (int i = 0; i < c.n_tiles; i++) /* naive reference: every tile, every split searched */
    for (int s = 1; s <= c.max_split_k; s *= 2) {
      double out = ceil(g.m / c.tiles[i].m) * ceil(g.n / c.tiles[i].n);
      if (s > 1 && (c.stream_k || out * s > 2.0 * c.cores || g.k / s < 2.0 * c.tiles[i].k)) break;
      sl_cost r = cost_gemm_config(&ctx, &g, c.tiles[i], s);
      assert_true(tb <= gemm_config_capped_time(&ctx, &g, r) * (1 + 1e-12));
    }
  assert_true(tb < gemm_config_capped_time(&ctx, &g, free_run));
  assert_true(best.l2_bytes / best.macs < free_run.l2_bytes / free_run.macs);
  /* under the cap the ranking is by time alone: a configuration's capped time is its own */
  sl_gemm_shape small = {1024, 1024, 1024, 1, SL_FP16, 2, 2, 2};
  sl_cost rs = cost_gemm(&ctx, &small);
  energy_of_cost(&c, small.dt, 0, &rs);
  if (c.energy.static_w + (rs.e_core_j + rs.e_off_j) / rs.time_s <= c.tdp_w)
    assert_rel(gemm_config_capped_time(&ctx, &small, rs), rs.time_s, 0, "under the cap");
  /* the memo keys on the energy figures */
  sl_gemm_memo *mo = calloc(1, sizeof *mo);
  ctx.gemm_memo = mo;
  sl_cost m2 = cost_gemm(&ctx, &g);
  c.energy.derived = 0;
  sl_cost m1 = cost_gemm(&ctx, &g);
  assert_true(m2.tile.m == best.tile.m && m2.tile.n == best.tile.n && m2.split_k == best.split_k);
  assert_true(m1.tile.m == free_run.tile.m && m1.tile.n == free_run.tile.n);
  free(mo);
  ar_free(&a);
}

/* energy.dynamic_scale multiplies the derived on-chip figures only; bad values are rejected. */
static void test_dynamic_scale(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c1, c2, c3;
  sl_error err;
  assert_int_equal(chip_with("energy: {dynamic_scale: 1.0}", &a, &c1, &err), SL_OK);
  assert_int_equal(chip_with("energy: {dynamic_scale: 2.5}", &a, &c2, &err), SL_OK);
  for (int i = 0; i < SL_DTYPE_COUNT; i++) {
    assert_rel(c2.energy.mac_j[i], 2.5 * c1.energy.mac_j[i], 1e-12, "MAC scaled");
    assert_rel(c2.energy.vec_flop_j[i], 2.5 * c1.energy.vec_flop_j[i], 1e-12, "vector FLOP scaled");
  }
  assert_rel(c2.energy.operand_j_per_byte, 2.5 * c1.energy.operand_j_per_byte, 1e-12, "operand scaled");
  assert_rel(c2.energy.core_sram_j_per_byte, 2.5 * c1.energy.core_sram_j_per_byte, 1e-12, "smem scaled");
  assert_rel(c2.energy.shared_j_per_byte, 2.5 * c1.energy.shared_j_per_byte, 1e-12, "L2 scaled");
  assert_rel(c2.energy.dram_j_per_byte, c1.energy.dram_j_per_byte, 0, "DRAM not scaled");
  assert_rel(c2.energy.link_j_per_byte, c1.energy.link_j_per_byte, 0, "links not scaled");
  assert_rel(c2.energy.static_w, c1.energy.static_w, 0, "static not scaled");
  /* a figure the spec gives itself is taken as given */
  assert_int_equal(chip_with("energy: {dynamic_scale: 2.5, mac_pj: {bf16: 0.1}}", &a, &c3, &err), SL_OK);
  assert_rel(c3.energy.mac_j[SL_BF16], 0.1e-12, 1e-12, "override not scaled");
  assert_int_equal(chip_with("energy: {dynamic_scale: 0}", &a, &c3, &err), SL_ERR_INPUT);
  assert_non_null(strstr(err.key, "dynamic_scale"));
  assert_int_equal(chip_with("energy: {dynamic_scale: 50}", &a, &c3, &err), SL_ERR_INPUT);
  assert_int_equal(chip_with("energy: {dynamic_scale: fast}", &a, &c3, &err), SL_ERR_INPUT);
  ar_free(&a);
}

/* With the fitted energy scale, a dense bf16 GEMM on an H100 run back to back draws its 700 W limit
 * at its measured time (the measurement it was fitted to) and a dense H100 training step most of it;
 * under a lower limit the step runs at the cap, its clock lowered. */
static void test_h100_training_near_tdp(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, stack: cuda-events, model: {op: gemm, m: 8192, n: 8192, k: 8192},"
                         " precision: bf16, task: infer}");
  sl_result *r = run(sc);
  /* the GEMM alone is a step of one kernel: over the TDP at the top clock, the step's cap holds it at
   * the limit, at the time measured on the power-limited board (the efficiency's; not slowed twice) */
  assert_rel(sl_result_number(r, "energy.avg_power_w_per_chip"), 700, 1e-6, "GEMM at the limit");
  assert_true(sl_result_number(r, "energy.uncapped_power_w_per_chip") > 700 * 1.2);
  assert_true(sl_result_number(r, "energy.clock_ratio") < 0.95);
  {
    sl_costctx ctx;
    cost_ctx_init(&ctx, &sc->chip, &sc->stack, 0);
    sl_gemm_shape g = {8192, 8192, 8192, 1, SL_BF16, 2, 2, 2};
    sl_cost k = cost_gemm(&ctx, &g);
    double kt = k.time_s / sc->stack.efficiency + sc->stack.kernel_overhead_s;
    assert_rel(sl_result_number(r, "step_time_s"), kt, 2e-3, "the measured time");
  }
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load("{chip: h100-sxm, system: {chips: 8}, stack: megatron-2024, model: llama3-8b, precision: bf16,"
            " task: train, train: {seq_len: 4096, global_batch: 32, micro_batch: 1, recompute: selective},"
            " parallel: {tp: 2, pp: 1, dp: 4, sp: true, zero: 1}}");
  r = run(sc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip"), t0 = sl_result_number(r, "step_time_s");
  double peak = sl_result_number(r, "energy.peak_power_w_per_chip");
  print_message("llama3-8b training on 8 h100: %.0f W per chip, hottest kernel %.0f W\n", p, peak);
  /* most of the limit on average (memory-bound kernels, collectives and launch gaps draw less than
   * its GEMMs) ... */
  assert_true(p > 0.6 * 700 && p <= 700 * (1 + 1e-9));
  /* ... its GEMMs run near the limit or over it (the cap acts on the step's average,
   * docs/energy-cost.md §2.20), its memory-bound kernels and collectives far below */
  assert_true(peak > p && peak > 0.75 * 700 && peak < 1.5 * 700);
  sl_result_free(r);
  sc->chip.tdp_w = 0.9 * p; /* a power limit below what the step draws */
  r = run(sc);
  assert_rel(sl_result_number(r, "energy.avg_power_w_per_chip"), 0.9 * p, 1e-6, "at the cap");
  assert_true(sl_result_number(r, "energy.clock_ratio") < 1);
  assert_true(sl_result_number(r, "step_time_s") > t0);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* A streaming kernel's power is its DRAM bytes per second times the energy of a byte's whole path
 * (docs/energy-cost.md §2.2): the H200's fitted energy.dram_pj_per_bit with the derived shared-level
 * figure, worked by hand from the kernel's bytes and time; at the read stream's measured bandwidth
 * (Ernst, gpu-benches gpu-roofline: 3,759 GB/s) that is the measured 572 W, where the HBM2 device
 * figure alone (3.97 pJ/bit) gives 41% less. */
static void test_stream_power_by_hand(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h200-sxm, stack: cuda-events, model: {op: add, rows: 32768, cols: 32768},"
                         " precision: fp32, task: infer}");
  sl_result *r = run(sc);
  const sl_energy_spec *E = &sc->chip.energy;
  double bytes = 3.0 * 32768.0 * 32768.0 * 4, t = sl_result_number(r, "step_time_s");
  double flops = 32768.0 * 32768.0;
  /* under the limit: its on-chip actions at the top clock, top_scale times the table's (§2.5) */
  double e = bytes * E->dram_j_per_byte +
             E->top_scale * (bytes * E->shared_j_per_byte + flops * E->vec_flop_j[SL_FP32]);
  assert_rel(sl_result_number(r, "energy.avg_power_w_per_chip"), E->static_w + e / t, 1e-6, "stream by hand");
  double bw = 3.759e12,
         p_meas = E->static_w + bw * (E->dram_j_per_byte + E->top_scale * E->shared_j_per_byte);
  print_message("h200 read stream at 3,759 GB/s: %.0f W (measured 572 W); model bandwidth %.0f GB/s\n",
                p_meas, bytes / t * 1e-9);
  assert_rel(p_meas, 572, 0.02, "at the measured bandwidth");
  double p_dev = E->static_w + bw * (3.97 * 8e-12 + E->shared_j_per_byte);
  assert_true(p_dev < 0.65 * 572);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* The operating point (docs/energy-cost.md §2.5): the per-action table is at the clock of a GEMM held
 * at the TDP (energy.limit_clock_ratio r, 0.871 for the H100); a kernel under the limit runs at the
 * top clock and voltage and spends 1 / r^2 as much on the chip.  Every kernel is costed at the top clock
 * (§2.20, one limiter: the step's cap): one whose measured time had the clock that held it at the TDP
 * in it has its clocked parts moved to the top clock, down from the table's clock for one over the
 * TDP even at the table's figures.  DRAM energy does not move. */
static void test_operating_point(void **state) {
  (void)state;
  kernel_fixture f;
  kernel_fixture_init(&f, "h100-sxm", 1);
  sl_chip one = f.c;
  one_operating_point(&one);
  sl_costctx c1;
  cost_ctx_init(&c1, &one, &f.st, 0);
  double top = f.c.energy.top_scale;
  assert_rel(top, 1 / (0.871 * 0.871), 1e-12, "1 / r^2");
  assert_rel(one.energy.top_scale, 1, 0, "one operating point");
  sl_op op;
  memset(&op, 0, sizeof op);
  op.count = 1;
  /* a 512 MiB element-wise add: DRAM-bound, far under the limit */
  op.kernel = SL_K_STREAM;
  op.u.s.bytes = 3.0 * 64 * 1024 * 1024 * 2, op.u.s.flops = 64.0 * 1024 * 1024, op.u.s.dt = SL_BF16;
  sl_cost a = cost_op(&f.ctx, &op), b = cost_op(&c1, &op);
  assert_rel(a.time_s, b.time_s, 0, "time");
  assert_rel(a.e_off_j, b.e_off_j, 0, "DRAM energy");
  assert_rel(a.e_core_j, top * b.e_core_j, 1e-12, "on-chip energy at the top clock");
  double ps = f.c.energy.static_w;
  assert_true(ps + (a.e_core_j + a.e_off_j) / a.time_s < 700);
  /* the 8192^3 bf16 GEMM: at the TDP with the table's figures (they were fitted so), over it at the
   * top clock's: it draws the TDP */
  op.kernel = SL_K_GEMM;
  op.u.g = (sl_gemm_shape){8192, 8192, 8192, 1, SL_BF16, 2, 2, 2};
  a = cost_op(&f.ctx, &op), b = cost_op(&c1, &op);
  double p_limit = ps + (b.e_core_j + b.e_off_j) / b.time_s;
  print_message("h100 8192^3 bf16 GEMM: %.0f W at the limit's figures, %.0f W at the top clock's\n", p_limit,
                ps + (a.e_core_j + a.e_off_j) / a.time_s);
  assert_true(p_limit <= 700 * (1 + 1e-9) && p_limit > 0.95 * 700);
  assert_rel(a.e_core_j, top * b.e_core_j, 1e-12, "on-chip energy at the top clock");
  assert_rel(a.e_off_j, b.e_off_j, 0, "DRAM energy");
  /* its time measured at the clock that holds it at the TDP, r = rl sqrt(at_tdp / table's), moved to
   * the top clock: a compute-bound kernel, whose whole time the step's cap scales, times r */
  double at_tdp = (700 - ps) * b.time_s - b.e_off_j, rk = 0.871 * sqrt(at_tdp / b.e_core_j);
  assert_true(rk > 0.871 && rk < 1);
  assert_int_equal(b.bound, SL_BOUND_COMPUTE);
  assert_rel(a.time_s, b.time_s * rk, 1e-9, "GEMM time at the top clock");
  assert_true(ps + (a.e_core_j + a.e_off_j) / a.time_s > 700 / (rk * rk) * 0.99);
  /* under a 400 W limit the GEMM is over it at the table's figures: it keeps them */
  f.c.tdp_w = one.tdp_w = 400;
  energy_derive(&f.c, 1);
  energy_derive(&one, 1);
  a = cost_op(&f.ctx, &op), b = cost_op(&c1, &op);
  assert_rel(a.e_core_j, top * b.e_core_j, 1e-12, "over the limit: the top clock's figures");
  assert_rel(a.clocked_s, 0.871 * b.clocked_s, 1e-9, "its clocked time from the table's clock");
  ar_free(&f.a);
}

/* energy.busy_w (docs/energy-cost.md §1): busy_w x the occupied fraction of the cores x the op's
 * time, added to the clock-domain energy; a tiled kernel's last wave part-filled, a collective not
 * counted, every other kernel over the whole chip.  Worked here by hand from an op's counts. */
static void test_busy_power_by_hand(void **state) {
  (void)state;
  arena a;
  ar_init(&a);
  sl_chip c;
  sl_error err;
  assert_int_equal(chip_load(&a, "h100-sxm", NULL, &c, &err), SL_OK);
  energy_derive(&c, 1);
  assert_rel(c.energy.busy_w, 0, 0, "no busy power unless the spec gives it");
  sl_cost k = {0};
  k.time_s = 1e-3, k.macs = 1e12, k.dram_bytes = 1e9, k.tiles = 200; /* 2 waves on 132 SMs */
  energy_of_cost(&c, SL_BF16, 0, &k);
  double e0 = k.e_core_j, o0 = k.e_off_j;
  c.energy_over.busy_w = 250;
  energy_derive(&c, 1);
  assert_rel(c.energy.busy_w, 250, 0, "spec figure taken");
  energy_of_cost(&c, SL_BF16, 0, &k);
  assert_rel(energy_busy_fraction(&c, &k), 200.0 / (2 * 132), 1e-12, "tiles over the slots of 2 waves");
  /* at the top clock, as every on-chip action (§2.5) */
  assert_rel(k.e_core_j - e0, c.energy.top_scale * 250 * 200.0 / 264 * 1e-3, 1e-9,
             "busy energy in the clock domain");
  assert_rel(k.e_off_j, o0, 0, "DRAM energy unchanged");
  sl_cost s = {0};
  s.time_s = 2e-3, s.dram_bytes = 1e9; /* a stream: over the whole chip */
  assert_rel(energy_busy_fraction(&c, &s), 1, 0, "stream occupies every core");
  sl_cost coll = {0};
  coll.time_s = 1e-3, coll.link_bytes = 1e9, coll.collective = 1;
  energy_of_cost(&c, SL_BF16, 0, &coll);
  assert_rel(energy_busy_fraction(&c, &coll), 0, 0, "collective");
  double coll_core = coll.e_core_j;
  c.energy_over.busy_w = 0;
  energy_derive(&c, 1);
  energy_of_cost(&c, SL_BF16, 0, &coll);
  assert_rel(coll.e_core_j, coll_core, 1e-12, "no busy energy in a collective");
  ar_free(&a);
}

/* With a busy floor, a memory-bound decode step draws more (its stalled SMs are busy), and a dense
 * bf16 Llama-3.1-8B training step on 8 H100 (tp 1, dp 8, ZeRO-3, 8K sequences) meets the 700 W
 * limit: its average power is the TDP and its clock below 1.  Without it (energy per action only)
 * the step draws about 590 W (with the grouped-raster DRAM counts and the dynamic scale refitted on them),
 * below the limit. */
static void test_busy_power_training_at_cap(void **state) {
  (void)state;
  const char *train =
      "{chip: h100-sxm, system: {chips: 8}, stack: megatron-2024, model: llama3.1-8b, precision: bf16,"
      " task: train, train: {seq_len: 8192, global_batch: 64, micro_batch: 1},"
      " parallel: {tp: 1, pp: 1, dp: 8, zero: 3}}";
  sl_scenario *sc = load(train);
  one_operating_point(&sc->chip); /* busy power apart from the operating point's */
  sl_result *r = run(sc);
  double p0 = sl_result_number(r, "energy.avg_power_w_per_chip"), t0 = sl_result_number(r, "step_time_s");
  print_message("llama3.1-8b dense training, 8 h100, no busy floor: %.0f W\n", p0);
  assert_true(p0 < 0.9 * 700);
  sl_result_free(r);
  sc->chip.energy_over.busy_w = 300;
  energy_derive(&sc->chip, 1);
  r = run(sc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip");
  print_message("llama3.1-8b dense training, 8 h100, busy 300 W: %.0f W (uncapped %.0f W), clock %.3f\n", p,
                sl_result_number(r, "energy.uncapped_power_w_per_chip"),
                sl_result_number(r, "energy.clock_ratio"));
  assert_rel(p, 700, 1e-6, "at the cap");
  assert_true(sl_result_number(r, "energy.uncapped_power_w_per_chip") > 700);
  assert_true(sl_result_number(r, "energy.clock_ratio") < 1);
  assert_true(sl_result_number(r, "step_time_s") > t0);
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load("{chip: h100-sxm, stack: vllm, model: llama3.1-8b, precision: bf16, task: decode,"
            " infer: {batch: 64, prompt_len: 1024}}");
  one_operating_point(&sc->chip);
  r = run(sc);
  double d0 = sl_result_number(r, "energy.avg_power_w_per_chip"), dt0 = sl_result_number(r, "step_time_s");
  sl_result_free(r);
  sc->chip.energy_over.busy_w = 200;
  energy_derive(&sc->chip, 1);
  r = run(sc);
  /* at least half of it: its weight GEMMs occupy part of the SMs (at 200 W more, the configurations
   * that keep every SM busy would pass the TDP, and ones with fewer tiles run as fast), its small
   * kernels are launch gaps */
  double d = sl_result_number(r, "energy.avg_power_w_per_chip");
  assert_true(d > d0 + 0.5 * 200 && d <= d0 + 200 * (1 + 1e-9));
  assert_rel(sl_result_number(r, "step_time_s"), dt0, 1e-12, "memory-bound step not slowed");
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* One energy scale for both A100 measurements (docs/energy-cost.md 2.1): the 8192^3 fp16 GEMM
 * that He (2024) shows at the 400 W limit draws it, back to back, at the time its efficiency gives
 * (measured on the throttled board); the GEMMs of the timed LLMCompass sweep, each an eager call that
 * idles between kernels, run between the top clock and the clock they would hold back to back
 * (one limiter, the step's: §2.20). */
static void test_a100_power_consistent(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: a100-sxm-80gb, stack: cuda-events, model: {op: gemm, m: 8192, n: 8192, k: 8192},"
           " precision: fp16, task: infer}");
  sl_result *r = run(sc);
  double p = sl_result_number(r, "energy.avg_power_w_per_chip");
  print_message("a100 8192^3 fp16 GEMM: %.0f W of 400 W\n", p);
  assert_rel(p, 400, 0.15, "He 2024 GEMM at the limit");
  /* back to back, the step's cap gives the kernel the time measured on the power-limited board */
  {
    sl_costctx ctx;
    cost_ctx_init(&ctx, &sc->chip, &sc->stack, 0);
    sl_gemm_shape g = {8192, 8192, 8192, 1, SL_FP16, 2, 2, 2};
    sl_cost k = cost_gemm(&ctx, &g);
    assert_rel(sl_result_number(r, "step_time_s"), k.time_s / sc->stack.efficiency + sc->stack.kernel_overhead_s,
               5e-3, "the measured time");
  }
  sl_result_free(r);
  sl_scenario_free(sc);
  static const double sweep[][3] = {{1024, 12288, 12288}, {4096, 12288, 12288}, {16384, 12288, 12288},
                                    {8192, 4096, 4096},   {8192, 8192, 8192},   {256, 12288, 12288}};
  for (size_t i = 0; i < sizeof sweep / sizeof sweep[0]; i++) {
    char text[256];
    snprintf(text, sizeof text,
             "{chip: a100-sxm-80gb, stack: pytorch-eager, precision: fp16, task: infer,"
             " model: {op: gemm, m: %g, n: %g, k: %g}}",
             sweep[i][0], sweep[i][1], sweep[i][2]);
    sc = load(text);
    r = run(sc);
    /* an eager call idles between kernels: the limiter's average lets the kernel run at least as
     * fast as back to back under the cap, and no faster than the top clock */
    sl_costctx ctx;
    cost_ctx_init(&ctx, &sc->chip, &sc->stack, 0);
    sl_gemm_shape g = {sweep[i][0], sweep[i][1], sweep[i][2], 1, SL_FP16, 2, 2, 2};
    sl_cost k = cost_gemm(&ctx, &g), top = k;
    energy_of_cost(&sc->chip, g.dt, 0, &top);
    double t = sl_result_number(r, "step_time_s"), over = sc->stack.kernel_overhead_s;
    double alone = gemm_config_capped_time(&ctx, &g, k); /* back to back under the cap */
    if (t > (alone + over) * (1 + 1e-9) || t < (top.time_s + over) * (1 - 1e-9))
      fail_msg("%s: %.2f us, outside %.2f to %.2f us", text, t * 1e6, (top.time_s + over) * 1e6,
               (alone + over) * 1e6);
    assert_true(sl_result_number(r, "energy.avg_power_w_per_chip") <= 400 * (1 + 1e-9));
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_node_factor),
      cmocka_unit_test(test_h100_table_by_hand),
      cmocka_unit_test(test_gemm_energy_by_hand),
      cmocka_unit_test(test_vector_gemm_energy),
      cmocka_unit_test(test_h100_gemm_power),
      cmocka_unit_test(test_idle_power),
      cmocka_unit_test(test_cap_closed_form),
      cmocka_unit_test(test_cap_overlap_by_hand),
      cmocka_unit_test(test_capped_choice_monotone_in_bytes),
      cmocka_unit_test(test_cap_lowers_throughput),
      cmocka_unit_test(test_training_energy_and_cap),
      cmocka_unit_test(test_overrides),
      cmocka_unit_test(test_gemm_kernel_under_cap),
      cmocka_unit_test(test_dynamic_scale),
      cmocka_unit_test(test_h100_training_near_tdp),
      cmocka_unit_test(test_a100_power_consistent),
      cmocka_unit_test(test_stream_power_by_hand),
      cmocka_unit_test(test_busy_power_by_hand),
      cmocka_unit_test(test_operating_point),
      cmocka_unit_test(test_busy_power_training_at_cap),
      cmocka_unit_test(test_cap_near_vs_naive),
      cmocka_unit_test(test_step_cap_memory_bound_gemm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
