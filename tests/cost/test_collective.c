/* test_collective.c — the alpha-beta collective model (src/cost/collective.c) against the closed
 * forms of equations.md "Collectives" (Thakur, Rabenseifner & Gropp 2005; NCCL docs), written out
 * here rather than taken from the library, and collectives run through the public API on the DGX
 * presets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"

static void assert_rel(double got, double want, double tol, const char *what) {
  double rel = fabs(got - want) / fmax(fabs(want), 1e-300);
  if (rel > tol) fail_msg("%s: got %.9g, want %.9g (rel %.3g > %.3g)", what, got, want, rel, tol);
}

/* ---- the network under test -------------------------------------------------------------------- */

/* Two link levels as a system spec gives them: GB/s per chip per direction, s per step, the
 * fraction of bandwidth collectives reach, and the fabric's oversubscription. */
typedef struct links {
  double up_GBps, up_lat, up_eff;
  double out_GBps, out_lat, out_eff, over;
} links;

/* DGX H100: NVLink4 450 GB/s per direction, one 400 Gb/s NIC per GPU (data/systems/dgx-h100.yaml);
 * efficiencies 0.80 / 0.90 (equations.md: collectives reach 75-90% of link bandwidth). */
static const links H100 = {450, 2e-6, 0.80, 50, 5e-6, 0.90, 1};
/* A fast scale-up domain behind a 2:1 oversubscribed fabric: the hierarchical all-reduce wins. */
static const links B200_OVER = {900, 2e-6, 0.80, 50, 5e-6, 0.90, 2};
/* Cheap steps inside the domain: across 8 domains the hierarchical all-reduce with a tree across
 * wins for small messages. */
static const links FAST_STEPS = {450, 0.5e-6, 0.80, 50, 5e-6, 0.90, 1};

static double bw_up(const links *L) {
  return L->up_GBps * 1e9 * L->up_eff;
}
static double bw_out(const links *L) {
  return L->out_GBps * 1e9 * L->out_eff / L->over;
}

static sl_net make_net(const links *L, double node) {
  sl_link up = {.bw_GBps = L->up_GBps,
                .latency_s = L->up_lat,
                .efficiency = L->up_eff,
                .oversubscription = 1},
          out = {.bw_GBps = L->out_GBps,
                 .latency_s = L->out_lat,
                 .efficiency = L->out_eff,
                 .oversubscription = L->over};
  sl_net net;
  net_init(&net, &up, &out, node);
  return net;
}

/* ---- closed forms ------------------------------------------------------------------------------ */

/* An expected time split into its bandwidth and latency terms. */
typedef struct split {
  double bw, lat;
} split;

static double total(split s) {
  return s.bw + s.lat;
}
static split faster(split a, split b) {
  return total(b) < total(a) ? b : a;
}

/* equations.md: ring all-reduce 2(n-1)/n S/BW + 2(n-1) a; tree (pipelined) 2 S/BW + 2 log2(n) a,
 * log2 rounded up to whole tree levels. */
static split ring_all_reduce(double S, double n, double B, double a) {
  return (split){2.0 * (n - 1) / n * S / B, 2.0 * (n - 1) * a};
}
static split tree_all_reduce(double S, double n, double B, double a) {
  return (split){2.0 * S / B, 2.0 * ceil(log2(n)) * a};
}
/* Reduce-scatter and all-gather: (n-1)/n S/BW + (n-1) a. */
static split ring_half(double S, double n, double B, double a) {
  return (split){(n - 1) / n * S / B, (n - 1) * a};
}

/* n ranks, k per scale-up domain.  One domain: the scale-up link.  Several: a flat ring leaves each
 * domain through the k ranks' NICs in parallel, so it runs at min(scale-up, k x scale-out) with the
 * fabric's step latency. */
static int several(double n, double k) {
  return k < n;
}
static double flat_bw(const links *L, double n, double k) {
  return several(n, k) ? fmin(bw_up(L), k * bw_out(L)) : bw_up(L);
}
static double flat_lat(const links *L, double n, double k) {
  return several(n, k) ? L->out_lat : L->up_lat;
}

static split hierarchical_all_reduce(const links *L, double S, double n, double k) {
  /* reduce-scatter of S in the domain, all-reduce of S/k across the m domains, all-gather. */
  double m = n / k;
  split in = ring_half(S, k, bw_up(L), L->up_lat);
  split across = faster(ring_all_reduce(S / k, m, bw_out(L), L->out_lat),
                        tree_all_reduce(S / k, m, bw_out(L), L->out_lat));
  return (split){2 * in.bw + across.bw, 2 * in.lat + across.lat};
}

static split expect_all_reduce(const links *L, double S, double n, double k) {
  double B = flat_bw(L, n, k), a = flat_lat(L, n, k);
  split best = faster(ring_all_reduce(S, n, B, a), tree_all_reduce(S, n, B, a));
  if (several(n, k) && k > 1) best = faster(best, hierarchical_all_reduce(L, S, n, k));
  return best;
}

static split expect(const links *L, sl_coll type, double S, double n, double k) {
  switch (type) {
  case SL_COLL_ALL_REDUCE:
    return expect_all_reduce(L, S, n, k);
  case SL_COLL_ALL_GATHER:
  case SL_COLL_REDUCE_SCATTER:
    return ring_half(S, n, flat_bw(L, n, k), flat_lat(L, n, k));
  case SL_COLL_ALL_TO_ALL:
    /* Each rank sends (k-1)/n of S inside its domain and (n-k)/n across, both at once; one domain
     * (k = n) is equations.md's (n-1)/n S/BW + (n-1) a. */
    return (split){fmax((k - 1) / n * S / bw_up(L), several(n, k) ? (n - k) / n * S / bw_out(L) : 0),
                   (n - 1) * flat_lat(L, n, k)};
  case SL_COLL_SEND_RECV:
  default:
    /* S/BW + a, over the scale-up link when both ends share a domain. */
    return k >= 2 ? (split){S / bw_up(L), L->up_lat} : (split){S / bw_out(L), L->out_lat};
  }
}

/* Checks time and bound of one collective against the closed form. */
static void check(const links *L, sl_coll type, double S, double n, double k) {
  sl_net net = make_net(L, k);
  sl_cost c = cost_collective(&net, type, S, n, k);
  split e = expect(L, type, S, n, k);
  char what[160];
  snprintf(what, sizeof what, "%s S=%g n=%g k=%g", sl_coll_names[type], S, n, k);
  assert_rel(c.time_s, total(e), 1e-12, what);
  /* The bound names the larger term; skip near-ties, where rounding decides. */
  if (fabs(e.lat - e.bw) > 1e-9 * total(e)) {
    sl_bound want = e.lat > e.bw ? SL_BOUND_LATENCY : SL_BOUND_NETWORK;
    if (c.bound != want)
      fail_msg("%s: bound %s, want %s (bandwidth %.4g s, latency %.4g s)", what, sl_bound_names[c.bound],
               sl_bound_names[want], e.bw, e.lat);
  }
}

static const double sizes[] = {1, 1e3, 8192, 65536, 1e6, 4e6, 16e6, 1e8, 1073741824.0};

/* ---- unit tests -------------------------------------------------------------------------------- */

/* Efficiency defaults (equations.md: 75-90% of link bandwidth), filled when a chip is loaded whose
 * links give none, and oversubscription. */
static void test_net_init(void **state) {
  (void)state;
  assert_true(SL_LINK_EFF_UP == 0.80 && SL_LINK_EFF_OUT == 0.90);
  arena a;
  ar_init(&a);
  sl_chip chip;
  sl_error err;
  assert_int_equal(chip_load(&a, "gb200", NULL, &chip, &err), SL_OK); /* links without efficiency */
  assert_true(chip.scale_up.efficiency == SL_LINK_EFF_UP && chip.scale_out.efficiency == SL_LINK_EFF_OUT &&
              chip.host.efficiency == SL_LINK_EFF_OUT);
  sl_link up = chip.scale_up, out = chip.scale_out;
  ar_free(&a);
  assert_true(up.bw_GBps == 900 && out.bw_GBps == 50 && up.latency_s == 2e-6 && out.latency_s == 5e-6);
  sl_net net;
  net_init(&net, &up, &out, 8);
  assert_rel(net.up_bw, 900e9 * 0.80, 1e-15, "scale-up default efficiency");
  assert_rel(net.out_bw, 50e9 * 0.90, 1e-15, "scale-out default efficiency");
  assert_rel(net.up_lat, 2e-6, 1e-15, "scale-up latency");
  assert_rel(net.out_lat, 5e-6, 1e-15, "scale-out latency");
  up.efficiency = 0.5, out.efficiency = 0.7, out.oversubscription = 4;
  net_init(&net, &up, &out, 8);
  assert_rel(net.up_bw, 900e9 * 0.5, 1e-15, "scale-up efficiency from the spec");
  assert_rel(net.out_bw, 50e9 * 0.7 / 4, 1e-15, "oversubscription divides the scale-out bandwidth");
}

/* One scale-up domain (k = n): every collective against its closed form. */
static void test_single_domain(void **state) {
  (void)state;
  static const double ns[] = {2, 3, 4, 5, 8, 16, 72};
  for (size_t i = 0; i < SL_ARRAY_LEN(ns); i++)
    for (size_t j = 0; j < SL_ARRAY_LEN(sizes); j++)
      for (int t = 0; t < SL_COLL_COUNT; t++)
        check(&H100, (sl_coll)t, sizes[j], ns[i], ns[i]);

  /* Large messages: the ring (2(n-1)/n S/BW beats 2 S/BW once bandwidth dominates). */
  double B = 450e9 * 0.80, a = 2e-6, S = 1073741824.0;
  sl_net net = make_net(&H100, 8);
  assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, S, 8, 8).time_s, 2.0 * 7 / 8 * S / B + 2 * 7 * a,
             1e-12, "ring all-reduce, 1 GiB over 8");
  assert_rel(cost_collective(&net, SL_COLL_ALL_GATHER, S, 8, 8).time_s, 7.0 / 8 * S / B + 7 * a, 1e-12,
             "all-gather, 1 GiB over 8");
  assert_rel(cost_collective(&net, SL_COLL_REDUCE_SCATTER, S, 8, 8).time_s, 7.0 / 8 * S / B + 7 * a, 1e-12,
             "reduce-scatter, 1 GiB over 8");
  assert_rel(cost_collective(&net, SL_COLL_ALL_TO_ALL, S, 8, 8).time_s, 7.0 / 8 * S / B + 7 * a, 1e-12,
             "all-to-all, 1 GiB over 8");
  assert_rel(cost_collective(&net, SL_COLL_SEND_RECV, S, 2, 2).time_s, S / B + a, 1e-12, "send/recv, 1 GiB");
  /* Small messages over many ranks: the tree (2 ceil(log2 72) = 14 steps against 142). */
  double s = 1e3, t = cost_collective(&net, SL_COLL_ALL_REDUCE, s, 72, 72).time_s;
  assert_rel(t, 2 * s / B + 2 * 7 * a, 1e-12, "tree all-reduce, 1 kB over 72");
  assert_true(t < 2.0 * 71 / 72 * s / B + 2 * 71 * a);
}

/* Small messages are latency-bound, large ones network-bound, on one level and two. */
static void test_bound(void **state) {
  (void)state;
  static const double nk[][2] = {{8, 8}, {2, 2}, {16, 8}, {64, 8}, {8, 1}};
  for (size_t i = 0; i < SL_ARRAY_LEN(nk); i++) {
    double n = nk[i][0], k = nk[i][1];
    sl_net net = make_net(&H100, k);
    for (int t = 0; t < SL_COLL_COUNT; t++) {
      double nn = t == SL_COLL_SEND_RECV ? 2 : n, kk = t == SL_COLL_SEND_RECV ? fmin(k, 2) : k;
      sl_cost small = cost_collective(&net, (sl_coll)t, 1024, nn, kk);
      sl_cost large = cost_collective(&net, (sl_coll)t, 1073741824.0, nn, kk);
      if (small.bound != SL_BOUND_LATENCY)
        fail_msg("%s 1 KiB n=%g k=%g not latency-bound", sl_coll_names[t], nn, kk);
      if (large.bound != SL_BOUND_NETWORK)
        fail_msg("%s 1 GiB n=%g k=%g not network-bound", sl_coll_names[t], nn, kk);
    }
  }
}

/* Two levels (k < n): every collective against the closed forms; all-reduce is the fastest of the
 * flat ring at min(up, k x out), the flat tree and the hierarchical algorithm. */
static void test_two_levels(void **state) {
  (void)state;
  static const double nk[][2] = {{16, 8}, {64, 8}, {1024, 8}, {32, 4}, {16, 2}, {8, 1}, {144, 72}, {48, 24}};
  const links *nets[] = {&H100, &B200_OVER, &FAST_STEPS};
  for (size_t l = 0; l < SL_ARRAY_LEN(nets); l++)
    for (size_t i = 0; i < SL_ARRAY_LEN(nk); i++)
      for (size_t j = 0; j < SL_ARRAY_LEN(sizes); j++)
        for (int t = 0; t < SL_COLL_COUNT; t++) {
          double n = t == SL_COLL_SEND_RECV ? 2 : nk[i][0],
                 k = t == SL_COLL_SEND_RECV ? fmin(nk[i][1], 2) : nk[i][1];
          check(nets[l], (sl_coll)t, sizes[j], n, k);
        }

  double S = 1073741824.0;
  /* DGX H100, 2 nodes: 8 x 45 GB/s = the 360 GB/s of NVLink; the flat ring wins. */
  sl_net h = make_net(&H100, 8);
  double B = fmin(450e9 * 0.8, 8 * 50e9 * 0.9);
  assert_rel(cost_collective(&h, SL_COLL_ALL_REDUCE, S, 16, 8).time_s, 2.0 * 15 / 16 * S / B + 2 * 15 * 5e-6,
             1e-12, "flat ring over 2 DGX H100");

  /* Scale-up bandwidth above n x scale-out: the hierarchical all-reduce wins at large sizes. */
  sl_net b = make_net(&B200_OVER, 8);
  double up = 900e9 * 0.8, out = 50e9 * 0.9 / 2;
  double hier = 2 * (7.0 / 8 * S / up + 7 * 2e-6) + 2.0 * 1 / 2 * (S / 8) / out + 2 * 1 * 5e-6;
  double ring = 2.0 * 15 / 16 * S / fmin(up, 8 * out) + 2 * 15 * 5e-6;
  assert_true(hier < ring);
  assert_rel(cost_collective(&b, SL_COLL_ALL_REDUCE, S, 16, 8).time_s, hier, 1e-12,
             "hierarchical all-reduce");
  assert_int_equal(cost_collective(&b, SL_COLL_ALL_REDUCE, S, 16, 8).bound, SL_BOUND_NETWORK);

  /* Small messages across 8 domains with cheap steps inside: hierarchical, with a tree across. */
  sl_net f = make_net(&FAST_STEPS, 8);
  double s = 4096, fu = 450e9 * 0.8, fo = 50e9 * 0.9;
  double h_tree = 2 * (7.0 / 8 * s / fu + 7 * 0.5e-6) + 2 * (s / 8) / fo + 2 * 3 * 5e-6;
  assert_true(h_tree < 2 * s / fmin(fu, 8 * fo) + 2 * 6 * 5e-6); /* the flat tree */
  sl_cost c = cost_collective(&f, SL_COLL_ALL_REDUCE, s, 64, 8);
  assert_rel(c.time_s, h_tree, 1e-12, "hierarchical all-reduce with a tree across");
  assert_int_equal(c.bound, SL_BOUND_LATENCY);

  /* k = 1: one rank per domain, the group runs on the scale-out link alone. */
  sl_net one = make_net(&H100, 1);
  double o = 50e9 * 0.9;
  assert_rel(cost_collective(&one, SL_COLL_ALL_REDUCE, S, 8, 1).time_s, 2.0 * 7 / 8 * S / o + 2 * 7 * 5e-6,
             1e-12, "all-reduce, k = 1");
  assert_rel(cost_collective(&one, SL_COLL_ALL_GATHER, S, 8, 1).time_s, 7.0 / 8 * S / o + 7 * 5e-6, 1e-12,
             "all-gather, k = 1");
  assert_rel(cost_collective(&one, SL_COLL_ALL_TO_ALL, S, 8, 1).time_s, 7.0 / 8 * S / o + 7 * 5e-6, 1e-12,
             "all-to-all, k = 1");
  assert_rel(cost_collective(&one, SL_COLL_SEND_RECV, S, 2, 1).time_s, S / o + 5e-6, 1e-12,
             "send/recv, k = 1");

  /* Oversubscription divides the scale-out bandwidth: 4:1 takes 4x the bandwidth term at k = 1. */
  links over = H100;
  over.over = 4;
  sl_net o4 = make_net(&over, 1);
  assert_rel(cost_collective(&o4, SL_COLL_ALL_GATHER, S, 8, 1).time_s, 7.0 / 8 * S / (o / 4) + 7 * 5e-6,
             1e-12, "all-gather, 4:1 oversubscribed");
  sl_net o48 = make_net(&over, 8);
  assert_true(cost_collective(&o48, SL_COLL_ALL_REDUCE, S, 64, 8).time_s >
              cost_collective(&h, SL_COLL_ALL_REDUCE, S, 64, 8).time_s);
  /* ... and leaves a single domain alone. */
  assert_rel(cost_collective(&o48, SL_COLL_ALL_REDUCE, S, 8, 8).time_s,
             cost_collective(&h, SL_COLL_ALL_REDUCE, S, 8, 8).time_s, 1e-15,
             "one domain, oversubscribed fabric");
}

/* Time grows with the size, and with the number of ranks at a fixed size per rank (8 per domain). */
static void test_monotonic(void **state) {
  (void)state;
  const links *nets[] = {&H100, &B200_OVER, &FAST_STEPS};
  static const double ns[] = {2, 4, 8, 16, 24, 32, 64, 128, 256, 1024};
  for (size_t l = 0; l < SL_ARRAY_LEN(nets); l++) {
    sl_net net = make_net(nets[l], 8);
    for (int t = 0; t < SL_COLL_COUNT; t++) {
      for (size_t i = 0; i < SL_ARRAY_LEN(ns); i++) {
        double n = t == SL_COLL_SEND_RECV ? 2 : ns[i], k = fmin(8, n);
        double prev = 0;
        for (double S = 1; S <= 4e9; S *= 2) {
          double tm = cost_collective(&net, (sl_coll)t, S, n, k).time_s;
          if (!(tm > prev)) fail_msg("%s n=%g: %g s at %g B after %g s", sl_coll_names[t], n, tm, S, prev);
          prev = tm;
        }
      }
      if (t == SL_COLL_SEND_RECV) continue;
      for (double S = 1; S <= 4e9; S *= 16) {
        double prev = 0;
        for (size_t i = 0; i < SL_ARRAY_LEN(ns); i++) {
          double tm = cost_collective(&net, (sl_coll)t, S, ns[i], fmin(8, ns[i])).time_s;
          if (tm < prev * (1 - 1e-12))
            fail_msg("%s S=%g: %g s over %g ranks after %g s", sl_coll_names[t], S, tm, ns[i], prev);
          prev = tm;
        }
      }
    }
  }
}

/* Nothing to do: one rank, or no bytes. */
static void test_degenerate(void **state) {
  (void)state;
  sl_net net = make_net(&H100, 8);
  for (int t = 0; t < SL_COLL_COUNT; t++) {
    assert_true(cost_collective(&net, (sl_coll)t, 1e9, 1, 1).time_s == 0);
    assert_true(cost_collective(&net, (sl_coll)t, 1e9, 1, 8).time_s == 0);
    assert_true(cost_collective(&net, (sl_coll)t, 0, 8, 8).time_s == 0);
    assert_true(cost_collective(&net, (sl_coll)t, 0, 64, 8).time_s == 0);
  }
}

/* ---- through the public API -------------------------------------------------------------------- */

typedef struct run_out {
  double step, kernel_latency, overhead, efficiency;
  sl_bound bound;
  int launch_ahead;
} run_out;

static run_out run_text(const char *text) {
  sl_scenario *sc = NULL;
  sl_result *r = NULL;
  sl_error err;
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &err) != SL_OK) fail_msg("%s: %s", text, err.message);
  if (sl_scenario_run(sc, &r, &err) != SL_OK) fail_msg("%s: %s", text, err.message);
  assert_true(sl_result_feasible(r));
  run_out o = {sl_result_number(r, "step_time_s"),
               sc->chip.kernel_latency_s,
               sc->stack.kernel_overhead_s,
               sc->stack.efficiency,
               r->n_rows ? r->rows[0].bound : SL_BOUND_COUNT,
               sc->stack.launch_ahead};
  assert_true(isfinite(o.step) && o.step > 0);
  sl_result_free(r);
  sl_scenario_free(sc);
  return o;
}

/* A collective op costs the network time plus the chip's kernel latency, over the stack's
 * efficiency, plus the stack's per-kernel overhead (trtllm, the inference default: 1 us). */
/* A collective op: the network time at the stack's efficiency; the communication library's own
 * launch is the link's base latency (0 in these presets), not the framework's kernel overhead. */
static double with_kernel(const run_out *o, double network_s) {
  return network_s / o->efficiency;
}

/* 1 GiB all-reduce on a DGX H100 with the preset's link (data/chips/h100-sxm.yaml: 450 GB/s, ring
 * at 0.822, 2 us per step, 17.22 us per call; the switch reduces at 0.6876 with 55.78 us per call):
 * the switch's reduction, S(1 + 1/8) per GPU each way, beats the ring's 2 x 7/8 S. */
static void test_scenario_dgx_h100(void **state) {
  (void)state;
  const double S = 1073741824.0, B = 450e9 * 0.7565, a = 3.165e-6, base = 7.506e-6;
  const double Bsw = 450e9 * 0.6556, Lsw = 5.042e-5;
  const double L = 745e9; /* a ring's local step (links.scale_up.local_GBps): 2 S/n in an all-reduce */
  run_out o =
      run_text("{chip: h100-sxm, system: dgx-h100, task: infer, model: {op: all_reduce, bytes: 1073741824}}");
  assert_true(o.overhead >= 0 && o.overhead < 1e-4);     /* trtllm's fitted launch cost */
  assert_true(o.efficiency >= 0.5 && o.efficiency <= 1); /* and its fitted efficiency (stackfit.c bounds) */
  assert_true(o.kernel_latency > 0);
  double ring1 = 2.0 * 7 / 8 * S / B + 2 * S / 8 / L + 2 * 7 * a, sw1 = 9.0 / 8 * S / Bsw + Lsw;
  assert_true(sw1 < ring1);
  assert_rel(o.step, with_kernel(&o, sw1 + base), 1e-9, "DGX H100 all-reduce 1 GiB");
  assert_int_equal(o.bound, SL_BOUND_NETWORK);

  /* Two nodes: 16 GPUs, 8 per NVLink domain, 50 GB/s x 0.90 per GPU across, 5 us per step; the
   * switch reduces inside each domain and the 1/8 slices are all-reduced across (NVLS-tree). */
  run_out o2 = run_text("{chip: h100-sxm, system: {preset: dgx-h100, chips: 16}, task: infer,"
                        " model: {op: all_reduce, bytes: 1073741824}}");
  double up = B, out = 50e9 * 0.90, Bf = fmin(up, 8 * out), ao = 5e-6;
  double ring = 2.0 * 15 / 16 * S / Bf + 2 * S / 16 / L + 2 * 15 * ao,
         tree = 2 * S / Bf + 2 * S / 16 / L + 2 * 4 * ao;
  double across = fmin(2.0 * 1 / 2 * (S / 8) / out, 2 * (S / 8) / out) + 2 * (S / 16) / L + 2 * 1 * ao;
  double hier = 2 * (7.0 / 8 * S / up + S / 8 / L + 7 * a) + across;
  double swtree = sw1 + across;
  assert_rel(o2.step, with_kernel(&o2, fmin(swtree, fmin(ring, fmin(tree, hier)))), 1e-9,
             "2 x DGX H100 all-reduce 1 GiB");
  assert_true(o2.step > o.step);
}

/* Every collective op runs on a DGX A100 (8 GPUs, 300 GB/s x 0.80, 2 us per step). */
static void test_scenario_ops_dgx_a100(void **state) {
  (void)state;
  /* the preset's link: 300 GB/s at 0.7791, 2 us per step, 10.22 us per call (data/chips) */
  const double S = 268435456.0, B = 300e9 * 0.7791, a = 2e-6, base = 1.022e-5;
  run_out o[SL_COLL_COUNT];
  for (int t = 0; t < SL_COLL_COUNT; t++) {
    char text[256];
    snprintf(text, sizeof text,
             "{chip: a100-sxm-80gb, system: dgx-a100, task: infer, model: {op: %s, bytes: %.0f}}",
             sl_coll_names[t], S);
    o[t] = run_text(text);
  }
  assert_rel(o[SL_COLL_ALL_REDUCE].step, with_kernel(&o[0], 2.0 * 7 / 8 * S / B + 2 * 7 * a + base), 1e-9,
             "all_reduce");
  assert_rel(o[SL_COLL_ALL_GATHER].step, with_kernel(&o[0], 7.0 / 8 * S / B + 7 * a + base), 1e-9,
             "all_gather");
  assert_rel(o[SL_COLL_REDUCE_SCATTER].step, with_kernel(&o[0], 7.0 / 8 * S / B + 7 * a + base), 1e-9,
             "reduce_scatter");
  assert_rel(o[SL_COLL_ALL_TO_ALL].step, with_kernel(&o[0], 7.0 / 8 * S / B + 7 * a + base), 1e-9,
             "all_to_all");
  assert_rel(o[SL_COLL_SEND_RECV].step, with_kernel(&o[0], S / B + a + base), 1e-9, "send_recv");
}

/* A preset's all-reduce on one domain of n chips against measured (bytes, seconds) pairs, each
 * within tol; returns the chip, whose links the caller varies. */
static sl_chip allreduce_against(const char *preset, double n, const double (*meas)[2], size_t count,
                                 double tol) {
  arena a;
  ar_init(&a);
  sl_chip chip;
  sl_error err;
  assert_int_equal(chip_load(&a, preset, NULL, &chip, &err), SL_OK);
  ar_free(&a);
  sl_net net;
  net_init(&net, &chip.scale_up, &chip.scale_out, n);
  for (size_t i = 0; i < count; i++) {
    char what[96];
    snprintf(what, sizeof what, "%s x %.0f all-reduce of %.0f B", preset, n, meas[i][0]);
    assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, meas[i][0], n, n).time_s, meas[i][1], tol, what);
  }
  return chip;
}

/* Against measurement: all-reduce on 4 A100 over NVLink (LLMCompass artifact ae/figure5/h,
 * test_allreduce.py, NCCL times in us; the use: calibrate cases of validation/kernels.yaml) with
 * the a100-sxm-80gb preset's fitted link figures.  Tolerance 20%: the 64 KiB point is held out of
 * the fit and lies between the low-latency and the bandwidth protocol (-18%). */
static void test_allreduce_measured_a100(void **state) {
  (void)state;
  static const double meas[][2] = {
      {8, 12.52e-6}, {1024, 13.02e-6}, {65536, 22.93e-6}, {17179869184.0, 110277e-6}};
  sl_chip chip = allreduce_against("a100-sxm-80gb", 4, meas, SL_ARRAY_LEN(meas), 0.20);
  sl_net net;
  /* Without the start-up and the low-latency protocol the small messages miss by far. */
  sl_link up = chip.scale_up;
  up.base_latency_s = 0, up.ll_efficiency = 0;
  net_init(&net, &up, &chip.scale_out, 4);
  assert_true(fabs(cost_collective(&net, SL_COLL_ALL_REDUCE, 8, 4, 4).time_s / meas[0][1] - 1) > 0.2);
}

/* In-switch reduction against its closed form, written out here: on one domain an all-reduce moves
 * S(1 + 1/k) per rank at the switch's rate plus its fixed cost, taken where it beats the ring; no
 * other collective uses it, and a link without it keeps the ring. */
static void test_switch_reduce(void **state) {
  (void)state;
  const double bw = 450e9, e = 0.80, esw = 0.65, a = 2e-6, Lsw = 40e-6;
  sl_link up = {.bw_GBps = 450,
                .latency_s = a,
                .efficiency = e,
                .oversubscription = 1,
                .switch_reduce_efficiency = esw,
                .switch_reduce_latency_s = Lsw},
          out = {.bw_GBps = 50, .latency_s = 5e-6, .efficiency = 0.90, .oversubscription = 1};
  sl_net net;
  net_init(&net, &up, &out, 8);
  sl_link up0 = up;
  up0.switch_reduce_efficiency = 0;
  sl_net net0;
  net_init(&net0, &up0, &out, 8);
  for (size_t i = 0; i < SL_ARRAY_LEN(sizes); i++) {
    double S = sizes[i];
    double ring = fmin(2.0 * 7 / 8 * S / (bw * e) + 2 * 7 * a, 2 * S / (bw * e) + 2 * 3 * a);
    double sw = 9.0 / 8 * S / (bw * esw) + Lsw;
    assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, S, 8, 8).time_s, fmin(ring, sw), 1e-9,
               "switch all-reduce");
    assert_rel(cost_collective(&net0, SL_COLL_ALL_REDUCE, S, 8, 8).time_s, ring, 1e-9, "no switch reduction");
    assert_rel(cost_collective(&net, SL_COLL_REDUCE_SCATTER, S, 8, 8).time_s,
               cost_collective(&net0, SL_COLL_REDUCE_SCATTER, S, 8, 8).time_s, 1e-12, "reduce-scatter");
  }
  /* Small messages keep the ring (the switch's fixed cost), large ones take the switch. */
  assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, 1e3, 8, 8).time_s,
             cost_collective(&net0, SL_COLL_ALL_REDUCE, 1e3, 8, 8).time_s, 1e-12, "small: ring");
  assert_true(cost_collective(&net, SL_COLL_ALL_REDUCE, 1e9, 8, 8).time_s <
              0.9 * cost_collective(&net0, SL_COLL_ALL_REDUCE, 1e9, 8, 8).time_s);
  /* Four domains of 8: the switch inside each, the 1/8 slices as a ring or tree across. */
  double S = 1e9, k = 8, m = 4, Bo = 50e9 * 0.90, ao = 5e-6;
  double across = fmin(2 * (m - 1) / m * S / k / Bo + 2 * (m - 1) * ao, 2 * S / k / Bo + 2 * 2 * ao);
  double swtree = 9.0 / 8 * S / (bw * esw) + Lsw + across;
  double t = cost_collective(&net, SL_COLL_ALL_REDUCE, S, 32, 8).time_s;
  assert_rel(t, fmin(swtree, cost_collective(&net0, SL_COLL_ALL_REDUCE, S, 32, 8).time_s), 1e-9, "NVLS-tree");
  /* With 200 GB/s per chip across (the flat ring then bound by NVLink) the switch's tree wins. */
  sl_link fat = {.bw_GBps = 200, .latency_s = 5e-6, .efficiency = 0.90, .oversubscription = 1};
  net_init(&net, &up, &fat, 8);
  net_init(&net0, &up0, &fat, 8);
  Bo = 200e9 * 0.90;
  across = fmin(2 * (m - 1) / m * S / k / Bo + 2 * (m - 1) * ao, 2 * S / k / Bo + 2 * 2 * ao);
  swtree = 9.0 / 8 * S / (bw * esw) + Lsw + across;
  assert_true(swtree < cost_collective(&net0, SL_COLL_ALL_REDUCE, S, 32, 8).time_s);
  assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, S, 32, 8).time_s, swtree, 1e-9, "NVLS-tree wins");
}

/* Against measurement: all-reduce on 8 Hopper SXM GPUs over NVLink 4 and NVSwitch, from two sources
 * (NCCL through vLLM's PyNccl, vLLM PR #42324, the use: calibrate cases of
 * data/validation/collectives.yaml; NCCL 2.29 through nccl-tests, aiconfigurator's HGX H100 table,
 * data/validation/collectives-h100-nccl.yaml), with the h100-sxm preset's link figures, fitted to
 * both and to 2- and 4-GPU calls.  From 1 MiB within 17%; at 512 KiB the fit is fast on both (its
 * start-up is the 2- and 4-GPU calls' 7-13 us, which an 8-GPU call exceeds) but within 32%.
 * Without the switch's reduction the large messages miss. */
static void test_allreduce_measured_h100(void **state) {
  (void)state;
  static const double pr[][2] = {{1048576, 25e-6},   {2097152, 37e-6},   {4194304, 50e-6},
                                 {8388608, 76e-6},   {16777216, 121e-6}, {33554432, 195e-6},
                                 {67108864, 316e-6}, {134217728, 561e-6}};
  static const double aic[][2] = {{1048576, 25.40e-6},  {2097152, 38.18e-6},   {4194304, 50.49e-6},
                                  {8388608, 78.91e-6},  {16777216, 121.9e-6},  {33554432, 199.8e-6},
                                  {67108864, 324.5e-6}, {134217728, 578.7e-6}, {268435456, 1092e-6},
                                  {536870912, 2111e-6}};
  allreduce_against("h100-sxm", 8, pr, SL_ARRAY_LEN(pr), 0.17);
  sl_chip chip = allreduce_against("h100-sxm", 8, aic, SL_ARRAY_LEN(aic), 0.17);
  sl_net net;
  net_init(&net, &chip.scale_up, &chip.scale_out, 8);
  double t512 = cost_collective(&net, SL_COLL_ALL_REDUCE, 524288, 8, 8).time_s;
  assert_true(t512 < 20.13e-6); /* fast on both sources (20.1 us here, 24 us in the PR) */
  assert_rel(t512, 20.13e-6, 0.32, "8-GPU all-reduce of 512 KiB");
  sl_link up = chip.scale_up;
  up.switch_reduce_efficiency = 0;
  net_init(&net, &up, &chip.scale_out, 8);
  assert_true(cost_collective(&net, SL_COLL_ALL_REDUCE, 134217728, 8, 8).time_s / 561e-6 - 1 > 0.15);
}

/* A chip preset and its network as an 8-GPU domain sees it. */
static sl_chip preset_net(const char *name, sl_net *net) {
  arena a;
  ar_init(&a);
  sl_chip chip;
  sl_error err;
  assert_int_equal(chip_load(&a, name, NULL, &chip, &err), SL_OK);
  ar_free(&a);
  net_init(net, &chip.scale_up, &chip.scale_out, 8);
  return chip;
}

/* A ring's local step (links.scale_up.local_GBps): an all-gather or reduce-scatter of S over n ranks
 * moves (n-1)/n S over the link and copies or reduces the rank's own S/n locally, a step the link
 * steps do not hide, so its bus bandwidth rises with the ranks as measured: NCCL 2.29 on 2, 4 and 8
 * H100 (aiconfigurator's table, the use: calibrate cases of data/validation/collectives-h100-nccl.yaml)
 * at 128 to 512 MiB within 12% with the preset's figures; with the same link efficiency and no local
 * step the 2-GPU calls would be more than 20% fast.  And the term by hand. */
static void test_ring_local_step(void **state) {
  (void)state;
  sl_net net;
  sl_chip chip = preset_net("h100-sxm", &net);
  const sl_link *up = &chip.scale_up;
  assert_true(up->local_GBps > 0);
  static const struct {
    sl_coll type;
    double ranks, bytes, s;
  } meas[] = {
      {SL_COLL_ALL_GATHER, 2, 134217728, 292.5e-6},     {SL_COLL_ALL_GATHER, 2, 536870912, 1039e-6},
      {SL_COLL_ALL_GATHER, 4, 536870912, 1267e-6},      {SL_COLL_ALL_GATHER, 8, 536870912, 1401e-6},
      {SL_COLL_REDUCE_SCATTER, 2, 536870912, 1078e-6},  {SL_COLL_REDUCE_SCATTER, 4, 536870912, 1300e-6},
      {SL_COLL_REDUCE_SCATTER, 8, 268435456, 721.7e-6}, {SL_COLL_REDUCE_SCATTER, 8, 536870912, 1399e-6}};
  sl_link bare = *up;
  bare.local_GBps = 0;
  sl_net none;
  net_init(&none, &bare, &chip.scale_out, 8);
  for (size_t i = 0; i < SL_ARRAY_LEN(meas); i++) {
    double n = meas[i].ranks, S = meas[i].bytes;
    double t = cost_collective(&net, meas[i].type, S, n, n).time_s;
    assert_rel(t, meas[i].s, 0.12, "NCCL all-gather / reduce-scatter on H100");
    /* by hand: start-up, n-1 ring steps, the link's bytes and the local step */
    double hand = up->base_latency_s + (n - 1) * up->latency_s +
                  (n - 1) / n * S / (up->bw_GBps * 1e9 * up->efficiency) + S / n / (up->local_GBps * 1e9);
    assert_rel(t, hand, 1e-9, "ring with its local step, by hand");
    double t0 = cost_collective(&none, meas[i].type, S, n, n).time_s;
    assert_true(t0 < t);
    if (n == 2 && S > 5e8) assert_true(t0 < 0.8 * meas[i].s);
  }
  /* all-to-all: the own slice too; all-reduce: a local step in each of its two halves */
  double S = 67108864, n = 8, B = up->bw_GBps * 1e9 * up->efficiency, L = up->local_GBps * 1e9;
  assert_rel(cost_collective(&net, SL_COLL_ALL_TO_ALL, S, n, n).time_s,
             up->base_latency_s + (n - 1) * up->latency_s + (n - 1) / n * S / B + S / n / L, 1e-9,
             "all-to-all");
  sl_link ring_only = *up;
  ring_only.switch_reduce_efficiency = 0; /* no NVLS: the ring */
  sl_net rn;
  net_init(&rn, &ring_only, &chip.scale_out, 8);
  assert_rel(cost_collective(&rn, SL_COLL_ALL_REDUCE, S, n, n).time_s,
             up->base_latency_s + 2 * (n - 1) * up->latency_s + 2 * (n - 1) / n * S / B + 2 * S / n / L, 1e-9,
             "ring all-reduce");
}

/* Against measurement: vLLM's own all-reduce kernel on 4 H100 (two-stage, the kernel vLLM runs on
 * 4 ranks from 512 KiB, and the one-stage variant forced at the same sizes), from two sources that
 * disagree: vLLM PR #24111's benchmark (the use: calibrate cases of data/validation/collectives.yaml)
 * and aiconfigurator's vLLM 0.19 table (collectives-h100-vllm.yaml), 11-30 us where the PR reads
 * 17-43 us.  The h100-sxm figures, fitted to both, lie between them at every size both give, and
 * within 20% of the PR's two-stage and 10% of its one-stage timings.  The kernel's rules written
 * out: 2 ranks or a small buffer on up to 4 take one stage ((n-1) S read from the peers at the
 * one-shot figures), larger ones two (2 (n-1)/n S and two barriers at the two-shot figures); a
 * stack's p2p_allreduce forces either; an odd rank count, more than 8 ranks or more than 8 MiB are
 * NCCL's (time 0 from this function). */
static void test_custom_allreduce_measured_h100(void **state) {
  (void)state;
  static const double meas[][2] = {{524288, 17e-6},  {1048576, 18e-6}, {1572864, 27e-6},
                                   {2097152, 27e-6}, {3145728, 35e-6}, {4194304, 43e-6}};
  static const double meas1[][2] = {{524288, 10e-6},  {1048576, 15e-6}, {1572864, 19e-6},
                                    {2097152, 22e-6}, {3145728, 30e-6}, {4194304, 38e-6}};
  /* aiconfigurator, the same sizes where it has them (bytes, seconds; the PR's in meas) */
  static const double aic[][3] = {{524288, 11.18e-6, 17e-6},
                                  {1048576, 12.62e-6, 18e-6},
                                  {2097152, 18.46e-6, 27e-6},
                                  {4194304, 30.36e-6, 43e-6}};
  sl_net net;
  sl_chip chip = preset_net("h100-sxm", &net);
  for (size_t i = 0; i < SL_ARRAY_LEN(meas); i++) {
    assert_rel(cost_allreduce_p2p(&net, meas[i][0], 4, SL_P2P_AUTO).time_s, meas[i][1], 0.20,
               "custom all-reduce on 4 H100");
    assert_rel(cost_allreduce_p2p(&net, meas[i][0], 4, SL_P2P_TWO_SHOT).time_s, meas[i][1], 0.20,
               "two-stage kernel forced");
    assert_rel(cost_allreduce_p2p(&net, meas1[i][0], 4, SL_P2P_ONE_SHOT).time_s, meas1[i][1], 0.10,
               "one-stage kernel forced");
  }
  for (size_t i = 0; i < SL_ARRAY_LEN(aic); i++) {
    double t = cost_allreduce_p2p(&net, aic[i][0], 4, SL_P2P_AUTO).time_s;
    assert_true(t >= aic[i][1] && t <= aic[i][2] * 1.001);
  }
  double B = chip.scale_up.bw_GBps * 1e9 * chip.scale_up.p2p_efficiency, L = chip.scale_up.p2p_latency_s;
  double B1 = chip.scale_up.bw_GBps * 1e9 * chip.scale_up.p2p_one_shot_efficiency,
         L1 = chip.scale_up.p2p_one_shot_latency_s;
  assert_true(B > 0 && L > 0 && B1 > B && L1 > 0);
  assert_rel(cost_allreduce_p2p(&net, 1048576, 2, SL_P2P_AUTO).time_s, 1048576 / B1 + L1, 1e-9,
             "one stage on 2 ranks");
  assert_rel(cost_allreduce_p2p(&net, 262144, 4, SL_P2P_AUTO).time_s, 3 * 262144 / B1 + L1, 1e-9,
             "one stage below 512 KiB on 4");
  assert_rel(cost_allreduce_p2p(&net, 262144, 8, SL_P2P_AUTO).time_s, 2 * 7.0 / 8 * 262144 / B + 2 * L, 1e-9,
             "two stages from 256 KiB on 8");
  assert_rel(cost_allreduce_p2p(&net, 131072, 8, SL_P2P_AUTO).time_s, 7 * 131072 / B1 + L1, 1e-9,
             "one stage below 256 KiB on 8");
  assert_rel(cost_allreduce_p2p(&net, 262144, 4, SL_P2P_TWO_SHOT).time_s, 1.5 * 262144 / B + 2 * L, 1e-9,
             "two stages forced below 512 KiB on 4");
  /* Without its own figures the one-shot kernel takes the two-shot kernel's. */
  {
    sl_link up0 = chip.scale_up;
    up0.p2p_one_shot_efficiency = up0.p2p_one_shot_latency_s = 0;
    sl_net net0;
    net_init(&net0, &up0, &chip.scale_out, 8);
    assert_rel(cost_allreduce_p2p(&net0, 262144, 4, SL_P2P_AUTO).time_s, 3 * 262144 / B + L, 1e-9,
               "one stage at the two-shot figures");
  }
  assert_true(cost_allreduce_p2p(&net, 1048576, 3, SL_P2P_AUTO).time_s == 0);
  assert_true(cost_allreduce_p2p(&net, 1048576, 16, SL_P2P_AUTO).time_s == 0);
  assert_true(cost_allreduce_p2p(&net, 16777216, 4, SL_P2P_AUTO).time_s == 0);
  /* Faster than NCCL on these sizes, as the benchmark shows (pynccl 19-37 us there). */
  assert_true(cost_allreduce_p2p(&net, 1048576, 4, SL_P2P_AUTO).time_s <
              cost_collective(&net, SL_COLL_ALL_REDUCE, 1048576, 4, 4).time_s);
  /* A stack with custom_allreduce routes an all-reduce inside one domain to it, at the kernel's own
   * time whatever the stack's efficiency (its figures are the engine's kernel as the engine runs
   * it), and p2p_allreduce picks the kernel; the same stack without it, and one across two domains,
   * to NCCL, which the stack's efficiency stretches. */
#define AR_SCENARIO                                                                                          \
  "{chip: h100-sxm, system: {chips: %d, node_chips: %d}, task: infer, model: {op: all_reduce,"               \
  " bytes: 1048576}, stack: {name: s, attention: fused, fused_elementwise: true,"                            \
  " kernel_overhead_s: 0, efficiency: %s, custom_allreduce: %s, p2p_allreduce: %s}}"
  char text[400];
  snprintf(text, sizeof text, AR_SCENARIO, 4, 8, "0.5", "true", "auto");
  assert_rel(run_text(text).step, cost_allreduce_p2p(&net, 1048576, 4, SL_P2P_AUTO).time_s, 1e-9,
             "custom_allreduce: true");
  snprintf(text, sizeof text, AR_SCENARIO, 4, 8, "0.5", "true", "one_shot");
  assert_rel(run_text(text).step, cost_allreduce_p2p(&net, 1048576, 4, SL_P2P_ONE_SHOT).time_s, 1e-9,
             "p2p_allreduce: one_shot");
  snprintf(text, sizeof text, AR_SCENARIO, 4, 8, "0.5", "false", "auto");
  assert_rel(run_text(text).step, cost_collective(&net, SL_COLL_ALL_REDUCE, 1048576, 4, 4).time_s / 0.5, 1e-9,
             "custom_allreduce: false");
  snprintf(text, sizeof text, AR_SCENARIO, 8, 4, "1.0", "true", "auto");
  double two_domains = run_text(text).step;
  assert_true(two_domains > cost_collective(&net, SL_COLL_ALL_REDUCE, 1048576, 4, 4).time_s);
#undef AR_SCENARIO
  /* A chip without the figures has no such kernel. */
  sl_link up = chip.scale_up;
  up.p2p_efficiency = 0;
  net_init(&net, &up, &chip.scale_out, 8);
  assert_true(cost_allreduce_p2p(&net, 1048576, 4, SL_P2P_AUTO).time_s == 0);
}

/* Against measurement: PyTorch symmetric memory's multimem all-reduce on 8 Hopper GPUs (vLLM PR
 * #42324's symm_mem_multimem column, the use: calibrate cases of data/validation/collectives.yaml)
 * with the h100-sxm preset's fitted figures, within 10%; its form (S(1+1/n) each way at the link's
 * multimem_efficiency, plus multimem_latency_s); and vLLM 0.11's routing for a stack with
 * symm_mem_allreduce: the custom kernel up to 256 KiB on 8 ranks (512 KiB on 6, 8 MiB on 4), the
 * multimem kernel above up to 64 MiB (32 MiB on 4), NCCL beyond; without the stack key, the custom
 * kernel up to 8 MiB as before. */
static void test_multimem_allreduce_measured_h100(void **state) {
  (void)state;
  static const double meas[][2] = {{524288, 11e-6},    {1048576, 14e-6},  {2097152, 18e-6},
                                   {4194304, 27e-6},   {8388608, 46e-6},  {16777216, 87e-6},
                                   {33554432, 165e-6}, {67108864, 320e-6}};
  sl_net net;
  sl_chip chip = preset_net("h100-sxm", &net);
  for (size_t i = 0; i < SL_ARRAY_LEN(meas); i++)
    assert_rel(cost_allreduce_multimem(&net, meas[i][0], 8).time_s, meas[i][1], 0.10,
               "multimem all-reduce on 8 H100");
  double B = chip.scale_up.bw_GBps * 1e9 * chip.scale_up.multimem_efficiency,
         L = chip.scale_up.multimem_latency_s;
  assert_true(B > 0 && L > 0);
  assert_rel(cost_allreduce_multimem(&net, 4194304, 8).time_s, 4194304 * 9.0 / 8 / B + L, 1e-9, "form");
  /* faster than NCCL (pynccl 50 us at 4 MiB) and than the custom kernel's two stages there */
  assert_true(cost_allreduce_multimem(&net, 4194304, 8).time_s <
              cost_allreduce_p2p(&net, 4194304, 8, SL_P2P_AUTO).time_s);
  assert_true(cost_allreduce_multimem(&net, 4194304, 8).time_s <
              cost_collective(&net, SL_COLL_ALL_REDUCE, 4194304, 8, 8).time_s);
#define MM_SCENARIO                                                                                          \
  "{chip: %s, system: {chips: %d, node_chips: 8}, task: infer, model: {op: all_reduce,"                      \
  " bytes: %.0f}, stack: {preset: vllm, name: s, kernel_overhead_s: 0, efficiency: 1.0, "                    \
  "symm_mem_allreduce: %s%s}}"
  /* vLLM's routing (cuda_communicator.py; the stack's allreduce_limits, both comparisons strict): its
   * P2P kernel below min(8 MiB, the architecture's limit), symmetric memory below its own (multimem on
   * the ranks the table names, two-shot on the others), NCCL above.  Hopper: P2P below 8 MiB on 2 and
   * 4 ranks, 512 KiB on 6, 256 KiB on 8; symmetric memory below 64 / 32 / 64 / 64 MiB, multimem on
   * 4, 6 and 8 (on 2 ranks its two-shot kernel).
   * Blackwell: P2P below 2 / 2 / 1 / 1 MiB; symmetric memory below 8 / 32 / 128 / 128 MiB, multimem on
   * 6 and 8, two-shot on 2 and 4. */
  static const struct {
    const char *chip;
    int ranks;
    double bytes;
    int route; /* 0 custom, 1 multimem, 2 NCCL, 3 symmetric memory's two-shot */
  } cases[] = {{"h100-sxm", 8, 131072, 0},   {"h100-sxm", 8, 262144, 1},
               {"h100-sxm", 8, 524288, 1},   {"h100-sxm", 8, 67108863, 1},
               {"h100-sxm", 8, 67108864, 2}, {"h100-sxm", 6, 524287, 0},
               {"h100-sxm", 6, 1048576, 1},  {"h100-sxm", 4, 8388607, 0},
               {"h100-sxm", 4, 8388608, 1},  {"h100-sxm", 4, 16777216, 1},
               {"h100-sxm", 4, 67108864, 2}, {"h100-sxm", 2, 16777216, 3},
               {"h100-sxm", 2, 67108863, 3}, {"h100-sxm", 2, 67108864, 2},
               {"h100-sxm", 7, 1048576, 2},  {"b200", 2, 1048576, 0},
               {"b200", 2, 2097152, 3},      {"b200", 2, 4194304, 3},
               {"b200", 2, 8388608, 2},      {"b200", 4, 1048576, 0},
               {"b200", 4, 2097152, 3},      {"b200", 4, 16777216, 3},
               {"b200", 4, 33554432, 2},     {"b200", 8, 524288, 0},
               {"b200", 8, 1048576, 1},      {"b200", 8, 67108864, 1},
               {"b200", 8, 134217728, 2}}; /* 7 ranks: neither kernel */
  char text[600];
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    double S = cases[i].bytes, n = cases[i].ranks;
    sl_net cn;
    preset_net(cases[i].chip, &cn);
    snprintf(text, sizeof text, MM_SCENARIO, cases[i].chip, cases[i].ranks, S, "true", "");
    double want = cases[i].route == 0   ? cost_allreduce_p2p(&cn, S, n, SL_P2P_AUTO).time_s
                  : cases[i].route == 1 ? cost_allreduce_multimem(&cn, S, n).time_s
                  : cases[i].route == 3 ? cost_allreduce_symm_two_shot(&cn, S, n).time_s
                                        : cost_collective(&cn, SL_COLL_ALL_REDUCE, S, n, n).time_s;
    assert_true(want > 0);
    assert_rel(run_text(text).step, want, 1e-9, "vLLM 0.11 routing");
  }
  snprintf(text, sizeof text, MM_SCENARIO, "h100-sxm", 8, 4194304.0, "false", "");
  assert_rel(run_text(text).step, cost_allreduce_p2p(&net, 4194304, 8, SL_P2P_AUTO).time_s, 1e-9,
             "no symmetric memory");
  /* A chip whose architecture the stack lists no limits for: no symmetric memory, the P2P kernel below
   * its 8 MiB buffer, NCCL above. */
  static const char *const only_b200 =
      ", allreduce_limits: [{arch: sm100, custom_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1},"
      " symm_mem_max_bytes: {2: 1e12, 4: 1e12, 6: 1e12, 8: 1e12}, multimem_ranks: [8]}]";
  snprintf(text, sizeof text, MM_SCENARIO, "h100-sxm", 8, 4194304.0, "true", only_b200);
  assert_rel(run_text(text).step, cost_allreduce_p2p(&net, 4194304, 8, SL_P2P_AUTO).time_s, 1e-9,
             "no limits for the chip's architecture");
  snprintf(text, sizeof text, MM_SCENARIO, "h100-sxm", 8, 16777216.0, "true", only_b200);
  assert_rel(run_text(text).step, cost_collective(&net, SL_COLL_ALL_REDUCE, 16777216, 8, 8).time_s, 1e-9,
             "NCCL above the P2P kernel's buffer");
#undef MM_SCENARIO
  /* A chip without the figures has no such kernel. */
  sl_link up = chip.scale_up;
  up.multimem_efficiency = 0;
  net_init(&net, &up, &chip.scale_out, 8);
  assert_true(cost_allreduce_multimem(&net, 4194304, 8).time_s == 0);
}

/* Against measurement on B200 (aiconfigurator's HGX B200 tables, the use: calibrate cases of
 * data/validation/collectives-b200-nccl.yaml and collectives-b200-vllm.yaml): NCCL 2.29's all-reduce on
 * 8 GPUs from 2 MiB to 512 MiB within 14% (its latency-bound sizes below are 20-45% fast: NCCL's
 * small-message protocols are one low-latency figure here; 32 and 64 MiB 12-13% fast since the fit
 * with the ring's local step, which took all-gather and reduce-scatter on 2, 4 and 8 GPUs from 12.7 /
 * 10.5 / 13.2% and 14.5 / 7.3 / 12.9% to 4.9 / 8.0 / 8.0% and 5.3 / 5.0 / 7.8%), and vLLM's dispatch
 * on 8 GPUs (its P2P kernel below 1 MiB, symmetric memory's multimem kernel from 1 MiB to 64 MiB)
 * within 12%. */
static void test_allreduce_measured_b200(void **state) {
  (void)state;
  sl_net net;
  preset_net("b200", &net);
  static const double nccl[][2] = {{2097152, 32.08e-6},   {4194304, 53.37e-6},   {8388608, 71.58e-6},
                                   {16777216, 99.07e-6},  {33554432, 167.8e-6},  {67108864, 278.3e-6},
                                   {134217728, 398.4e-6}, {268435456, 715.4e-6}, {536870912, 1335e-6}};
  for (size_t i = 0; i < SL_ARRAY_LEN(nccl); i++)
    assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, nccl[i][0], 8, 8).time_s, nccl[i][1], 0.14,
               "NCCL all-reduce on 8 B200");
  static const double vllm[][2] = {{131072, 9.441e-6},   {1048576, 16.72e-6}, {2097152, 20.72e-6},
                                   {4194304, 26.62e-6},  {8388608, 38.87e-6}, {16777216, 62.36e-6},
                                   {33554432, 110.7e-6}, {67108864, 222.5e-6}};
  char text[400];
  for (size_t i = 0; i < SL_ARRAY_LEN(vllm); i++) {
    snprintf(
        text, sizeof text,
        "{chip: b200, system: {chips: 8, node_chips: 8}, task: infer, model: {op: all_reduce, bytes: %.0f},"
        " stack: {preset: vllm, name: s, kernel_overhead_s: 0, efficiency: 1.0}}",
        vllm[i][0]);
    assert_rel(run_text(text).step, vllm[i][1], 0.12, "vLLM's all-reduce on 8 B200");
  }
  /* vLLM's two-shot kernel (collectives-b200-vllm.yaml): its stage takes 8.6 us on 4 ranks and 12.7 us
   * on 8, which one figure a stage cannot give (it put the 4-rank calls 43-46% slow); with the time
   * per peer (p2p_peer_latency_s) each stage costs p2p_latency_s + (n - 1) p2p_peer_latency_s */
  static const struct {
    double ranks, bytes, s;
  } two[] = {{4, 524288, 18.07e-6}, {4, 1048576, 18.96e-6}, {8, 262144, 25.95e-6}, {8, 524288, 26.05e-6}};
  sl_chip chip = preset_net("b200", &net);
  for (size_t i = 0; i < SL_ARRAY_LEN(two); i++)
    assert_rel(cost_allreduce_p2p(&net, two[i].bytes, two[i].ranks, SL_P2P_AUTO).time_s, two[i].s, 0.05,
               "vLLM's two-shot all-reduce on B200");
  const sl_link *up = &chip.scale_up;
  double B = up->bw_GBps * 1e9 * up->p2p_efficiency, L = up->p2p_latency_s, P = up->p2p_peer_latency_s;
  assert_true(P > 0 && L > 0);
  assert_rel(cost_allreduce_p2p(&net, 1048576, 4, SL_P2P_AUTO).time_s, 1.5 * 1048576 / B + 2 * (L + 3 * P),
             1e-9, "two stages, each with 3 peers");
  assert_rel(cost_allreduce_p2p(&net, 524288, 8, SL_P2P_AUTO).time_s, 1.75 * 524288 / B + 2 * (L + 7 * P),
             1e-9, "two stages, each with 7 peers");
}

/* A full mesh of point-to-point links (MI300X: 7 Infinity Fabric links per GPU, one to each other GPU
 * of the platform): a collective among k chips of the domain uses the k-1 links between them, so its
 * bandwidth is (k-1)/7 of the chip's.  Against measurement: RCCL's all-reduce on 2, 4 and 8 MI300X
 * (the QuickReduce README's RCCL column, the use: calibrate cases of data/validation/collectives.yaml)
 * with the preset's fitted figures, within 12% at 1 to 64 MiB (a switch at the full bandwidth put the
 * 64 MiB one on 2 GPUs at 191 us against the measured 1,464); and the share written out. */
static void test_mesh_allreduce_measured_mi300x(void **state) {
  (void)state;
  sl_net net;
  sl_chip chip = preset_net("mi300x", &net);
  assert_true(chip.scale_up.mesh_links == 7);
  static const struct {
    double ranks, bytes, us;
  } meas[] = {{2, 1048576, 37.22},  {2, 8388608, 195.2}, {2, 67108864, 1464.3}, {4, 8388608, 115.7},
              {4, 67108864, 761.2}, {8, 4194304, 52.13}, {8, 8388608, 83.12},   {8, 67108864, 426.0}};
  for (size_t i = 0; i < SL_ARRAY_LEN(meas); i++)
    assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, meas[i].bytes, meas[i].ranks, meas[i].ranks).time_s,
               meas[i].us * 1e-6, 0.12, "RCCL all-reduce on MI300X");
  /* The share: 1/7, 3/7, 1 of the chip's bandwidth for 2, 4, 8 chips; a switch gives every k all of it. */
  assert_rel(net_up_share(&net, 2), 1.0 / 7, 1e-12, "one link");
  assert_rel(net_up_share(&net, 4), 3.0 / 7, 1e-12, "three links");
  assert_rel(net_up_share(&net, 8), 1.0, 1e-12, "seven links");
  assert_rel(net_up_share(&net, 16), 1.0, 1e-12, "never more than the chip's links");
  /* Two chips, a large buffer: the ring's 2 (n-1)/n S = S over the one link, two steps, the start-up. */
  double B = chip.scale_up.bw_GBps * 1e9 * chip.scale_up.efficiency, S = 67108864;
  double ring2 = S / (B / 7) + 2 * chip.scale_up.latency_s + chip.scale_up.base_latency_s;
  assert_rel(cost_collective(&net, SL_COLL_ALL_REDUCE, S, 2, 2).time_s, ring2, 1e-9, "2 chips: one link");
  /* A message to one peer crosses one link. */
  assert_rel(cost_collective(&net, SL_COLL_SEND_RECV, S, 2, 2).time_s,
             S / (B / 7) + chip.scale_up.latency_s + chip.scale_up.base_latency_s, 1e-9,
             "send over one link");
  /* The same link as a switch: every k at the full bandwidth, 2 chips 7 times faster on the bytes. */
  sl_link sw = chip.scale_up;
  sw.mesh_links = 0;
  sl_net net_sw;
  net_init(&net_sw, &sw, &chip.scale_out, 8);
  assert_rel(cost_collective(&net_sw, SL_COLL_ALL_REDUCE, S, 2, 2).time_s,
             S / B + 2 * chip.scale_up.latency_s + chip.scale_up.base_latency_s, 1e-9,
             "2 chips behind a switch");
  assert_rel(cost_collective(&net_sw, SL_COLL_ALL_REDUCE, S, 8, 8).time_s,
             cost_collective(&net, SL_COLL_ALL_REDUCE, S, 8, 8).time_s, 1e-12, "8 chips: all seven links");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_net_init),
      cmocka_unit_test(test_single_domain),
      cmocka_unit_test(test_bound),
      cmocka_unit_test(test_two_levels),
      cmocka_unit_test(test_monotonic),
      cmocka_unit_test(test_degenerate),
      cmocka_unit_test(test_scenario_dgx_h100),
      cmocka_unit_test(test_scenario_ops_dgx_a100),
      cmocka_unit_test(test_allreduce_measured_a100),
      cmocka_unit_test(test_switch_reduce),
      cmocka_unit_test(test_allreduce_measured_h100),
      cmocka_unit_test(test_custom_allreduce_measured_h100),
      cmocka_unit_test(test_multimem_allreduce_measured_h100),
      cmocka_unit_test(test_allreduce_measured_b200),
      cmocka_unit_test(test_ring_local_step),
      cmocka_unit_test(test_mesh_allreduce_measured_mi300x),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
