/* energy.c — energy from actions and the TDP cap (docs/energy-cost.md).
 *
 * Energy = sum over actions of count x energy per action + static power x time (Accelergy; Wu et
 * al., ICCAD 2019).  The actions of an op (filled by the cost model): MACs of the matrix engine by
 * number format, with the operand traffic between the engine and its operand store (register
 * file / operand buffer) that the engine's shape implies; vector FLOP; bytes through the per-core
 * SRAM, the shared on-chip level (array access plus the wires from it to the cores), DRAM; bytes
 * over off-chip links.  Per-action energies come from 45 nm figures (Horowitz, ISSCC 2014) scaled
 * to the chip's node with the Accelergy/Stillmaker-Baas factors, except wires, whose energy per
 * millimetre does not scale with the node, and DRAM and links, which are per-bit interface figures
 * (chips.md §3).  A chip spec's optional `energy:` map replaces any of them.
 *
 * Not here: the step roll-up (src/sim/power.c) and prices (src/econ/cost.c). */
#include "cost/cost.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* ---- node scaling -------------------------------------------------------------------------------
 * Accelergy hwcomponents scaling/techscaling.py (basis: Stillmaker & Baas, Integration 58, 2017):
 * energy per action relative to 45 nm at equal Vdd 0.8 V (chips.md §3.3, derived column); below
 * 7 nm energy scales as sqrt(node) (IRDS), and stops at 1 nm.  Between listed nodes: log-log. */
static const double NODE_NM[] = {45, 32, 20, 16, 14, 10, 7};
static const double NODE_E[] = {1.0, 0.659, 0.221, 0.174, 0.139, 0.118, 0.094};

double energy_node_factor(double nm) {
  if (!(nm > 0)) return 1;
  if (nm >= 45) return pow(nm / 45.0, 2.0); /* older nodes: squared (the CACTI wrapper's rule above 90 nm) */
  if (nm <= 7) return 0.094 * sqrt(fmax(nm, 1.0) / 7.0);
  for (size_t i = 1; i < SL_ARRAY_LEN(NODE_NM); i++)
    if (nm >= NODE_NM[i]) {
      double t = log(nm / NODE_NM[i]) / log(NODE_NM[i - 1] / NODE_NM[i]);
      return exp(log(NODE_E[i]) + t * (log(NODE_E[i - 1]) - log(NODE_E[i])));
    }
  return 0.094;
}

/* ---- 45 nm action energies (Horowitz, ISSCC 2014; chips.md §3.1) ---------------------------------- */

/* One multiply-accumulate: multiply + add of the format (the accumulation of low-precision
 * products is wider; Horowitz's pairs are used as given). */
static const double MAC_PJ_45[SL_DTYPE_COUNT] = {
    [SL_FP32] = 4.6,  /* 3.7 + 0.9 */
    [SL_TF32] = 2.0,  /* assumed: an fp16-sized multiplier (1.1) and an fp32 add (0.9) */
    [SL_BF16] = 1.5,  /* assumed equal to fp16 (Horowitz has no bf16): shorter mantissa, wider add */
    [SL_FP16] = 1.5,  /* 1.1 + 0.4 (Dally restates the HFMA as 1.5 pJ) */
    [SL_FP8] = 0.75,  /* assumed: half the fp16 MAC (the multiplier shrinks, the accumulation does not) */
    [SL_INT8] = 0.23, /* 0.2 + 0.03 */
    [SL_INT4] = 0.1,  /* assumed */
    [SL_FP4] = 0.4,   /* assumed: half the fp8 MAC plus block scaling */
};

/* SRAM access energy per byte at 45 nm, by array capacity: Horowitz's 64-bit reads of 8 KB, 32 KB
 * and 1 MB arrays (10, 20, 100 pJ) interpolated log-log; beyond 1 MB an SRAM is banked, so an access
 * costs one 1 MB bank (the wires to a far bank are counted apart, per millimetre). */
double energy_sram_pj_per_byte_45(double cap) {
  const double k8 = 8192, k32 = 32768, m1 = 1048576;
  if (!(cap > 0)) return 0;
  if (cap >= m1) return 12.5;
  if (cap >= k32) return 2.5 * pow(cap / k32, log(5.0) / log(32.0));
  return 1.25 * pow(cap / k8, 0.5); /* 8 KB -> 32 KB doubles; the same slope below 8 KB */
}

/* The operand store the matrix and vector engines read and write every cycle: a 256 KiB SRAM (the
 * register file of an NVIDIA SM; an MTIA PE's operand buffers are of the same order).  6.6 pJ/B
 * at 45 nm from the interpolation above. */
static const double OPERAND_STORE_BYTES = 262144;
/* A vector lane's FMA reads its three operands from, and writes its result to, one bank of the
 * register file of its SM sub-partition: 64 KiB per sub-partition (Volta to Hopper) in two 64-bit-wide
 * banks (Jia et al. 2018, "Dissecting the NVIDIA Volta GPU Architecture via Microbenchmarking"; their
 * Turing report of 2019 finds the same; assumed for later SMs), 32 KiB, 2.5 pJ/B at 45 nm.  With it
 * an fp32 vector FLOP costs 2.6 pJ on an A100 and an fp64 one (twice the bytes, the 45 nm fp64
 * multiplier about 4x the fp32 one) about 5.7 pJ, against the 5.3 pJ per fp64 FLOP measured by an FMA
 * loop over every SM of an A100 (docs/energy-cost.md section 2.2); the whole 256 KiB store per
 * byte gave 6.4 pJ for the fp32 FLOP, more than the measured fp64 one. */
static const double REGISTER_BANK_BYTES = 32768;

/* On-chip wires: 0.14 pJ/bit/mm, a full-swing repeated wire (310 fJ/bit/mm at 130 nm and 1.2 V,
 * ISRN Electronics 2012 "A Survey Addressing On-Chip Interconnect", Table 1) scaled by V^2 to
 * 0.8 V; wire capacitance per mm barely changes with the node, so it is not node-scaled.  A byte
 * between the shared level and a core travels half the die edge on average. */
static const double WIRE_PJ_PER_BIT_MM = 0.14;
#define SL_RETICLE_MM2 858.0 /* 26 x 33 mm lithography field */

/* Off-chip links: 6.5 pJ/bit.  NVIDIA gives NVLink-C2C as 1.3 pJ/bit and ">5x more energy-efficient
 * than PCIe Gen 5" (Grace Hopper blog; chips.md §3.2), so a board-level SerDes link (PCIe, NVLink,
 * ICI) is taken as 5 x 1.3. */
static const double LINK_PJ_PER_BIT = 6.5;

/* Static power (leakage, clock trees, DRAM refresh and PHYs at idle) as a fraction of TDP:
 * assumed 0.12 (public nvidia-smi readings of idle H100/H200 SXM boards are 60-90 W of 700 W [S]). */
static const double STATIC_FRAC = 0.12;

/* DRAM energy per bit, device and interface (chips.md §3.2). */
double energy_dram_pj_per_bit(const char *name) {
  if (!name) return 3.97;
  if (strncmp(name, "hbm", 3) == 0)
    return 3.97;                                    /* HBM2, O'Connor et al. MICRO'17; HBM3/3e: no vendor
                                                       figure, taken the same */
  if (strncmp(name, "lpddr5x", 7) == 0) return 7.5; /* [S] derivation from Micron data */
  if (strncmp(name, "lpddr5", 6) == 0) return 9.0;  /* LPDDR5-6400 full system [S] */
  if (strncmp(name, "lpddr", 5) == 0) return 8.0;   /* LPDDR4, Accelergy default */
  if (strncmp(name, "gddr", 4) == 0) return 14.0;   /* GDDR5, O'Connor et al. Fig. 1a */
  if (strncmp(name, "ddr", 3) == 0) return 70.0;    /* DDR3, Accelergy default */
  return 3.97;
}

/* Operand-store bytes per MAC of an engine that does m x n x k MACs per operation: it reads m x k
 * and k x n inputs and reads and writes m x n accumulators (4 bytes).  The engine's shape is given
 * for 2-byte inputs; its K is a fixed width in bits, so a 1-byte format runs twice the K per
 * operation and a 4-byte one half (PTX ISA: Hopper wgmma k8 tf32, k16 bf16, k32 fp8; Ampere
 * mma.sync k8, k16, k32; CDNA3 MFMA 16x16x16 bf16, 16x16x32 fp8): the accumulators are read and
 * written once per K, so a narrow format moves fewer of their bytes per MAC. */
static double operand_bytes_per_mac(const sl_chip *c, sl_dtype dt) {
  double m = c->mat_shape_m > 0 ? c->mat_shape_m : 1, n = c->mat_shape_n > 0 ? c->mat_shape_n : 1;
  double b = sl_dtype_bytes[dt], k = (c->mat_shape_k > 0 ? c->mat_shape_k : 1) * 2.0 / b;
  return (m * k * b + k * n * b + 2.0 * m * n * 4.0) / (m * n * k);
}

/* ---- the chip's table ------------------------------------------------------------------------------ */

void energy_derive(sl_chip *c, int use_overrides) {
  sl_energy_spec *E = &c->energy;
  memset(E, 0, sizeof *E);
  E->source = "";
  double f = energy_node_factor(c->process_nm);
  const sl_mem_level *core = chip_core_sram(c), *l2 = chip_l2(c), *dram = chip_dram(c);
  double op45 = energy_sram_pj_per_byte_45(OPERAND_STORE_BYTES);
  double bank45 = energy_sram_pj_per_byte_45(REGISTER_BANK_BYTES);
  /* A package larger than a reticle is made of chiplets (the area model's estimate of B200, MI300X):
   * the wires run within one of them. */
  double area = chip_area_mm2(c), edge_mm = sqrt(area / fmax(1.0, ceil(area / SL_RETICLE_MM2 - 1e-9)));
  double wire = WIRE_PJ_PER_BIT_MM * 8.0 * 0.5 * edge_mm; /* pJ per byte, not node-scaled */
  /* Derived figures, pJ. */
  double mac[SL_DTYPE_COUNT], vec[SL_DTYPE_COUNT];
  for (int i = 0; i < SL_DTYPE_COUNT; i++) {
    mac[i] = MAC_PJ_45[i] * f;
    vec[i] =
        (MAC_PJ_45[i] / 2.0 + 2.0 * sl_dtype_bytes[i] * bank45) * f; /* FMA = 2 FLOP, 4 operand accesses */
    E->operand_bytes_per_mac[i] = operand_bytes_per_mac(c, (sl_dtype)i);
  }
  double operand = op45 * f;
  double core_sram = core ? energy_sram_pj_per_byte_45(core->capacity_bytes) * f : 0;
  double shared = (l2 ? energy_sram_pj_per_byte_45(l2->capacity_bytes) * f : 0) + wire;
  double dram_bit = energy_dram_pj_per_bit(dram->name), link_bit = LINK_PJ_PER_BIT;
  double static_w = STATIC_FRAC * c->tdp_w;
  /* The chip's dynamic scale (a `silica calibrate` figure, fitted to measured board power): the
   * per-action figures above are at the 0.8 V of the node factors and leave out the clock tree,
   * instruction issue and pipeline registers that every on-chip action also switches; a chip
   * running at a higher voltage at its spec clock (V^2) or with more of that overhead spends
   * more per action.  Applied to the derived on-chip figures only: DRAM and link energies are
   * interface figures per bit, and a figure the spec gives itself is taken as given. */
  double ds = c->energy_dynamic_scale > 0 ? c->energy_dynamic_scale : 1.0;
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    mac[i] *= ds, vec[i] *= ds;
  operand *= ds, core_sram *= ds, shared *= ds;
  if (use_overrides) {
    const sl_energy_over *o = &c->energy_over;
#define OVER(v, x) ((v) = isnan(x) ? (v) : (x))
    for (int i = 0; i < SL_DTYPE_COUNT; i++) {
      OVER(mac[i], o->mac_pj[i]);
      OVER(vec[i], o->vec_pj_per_flop[i]);
    }
    OVER(operand, o->operand_pj_per_byte);
    OVER(core_sram, o->core_sram_pj_per_byte);
    OVER(shared, o->shared_pj_per_byte);
    OVER(dram_bit, o->dram_pj_per_bit);
    OVER(link_bit, o->link_pj_per_bit);
    OVER(static_w, o->static_w);
#undef OVER
    E->source = o->source ? o->source : "";
  }
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    E->mac_j[i] = mac[i] * 1e-12, E->vec_flop_j[i] = vec[i] * 1e-12;
  E->operand_j_per_byte = operand * 1e-12;
  E->core_sram_j_per_byte = core_sram * 1e-12;
  E->shared_j_per_byte = shared * 1e-12;
  E->dram_j_per_byte = dram_bit * 8e-12;
  E->link_j_per_byte = link_bit * 8e-12;
  E->static_w = static_w;
  /* Busy power: a chip figure of its own (energy.busy_w), not derived from the node, so it is
   * taken whether or not the other figures of the spec are. */
  E->busy_w = c->energy_over.busy_w > 0 ? c->energy_over.busy_w : 0;
  /* The dynamic scale is fitted to a GEMM held at the TDP, at a clock and voltage below the top ones
   * (energy.limit_clock_ratio, measured as He's GEMM on zero inputs against random ones); an action
   * below the limit runs at the top clock and voltage and costs (1 / ratio)^2 as much, V tracking
   * the clock as in the cap below (docs/energy-cost.md §2.5). */
  double lc = c->energy_limit_clock > 0 && c->energy_limit_clock < 1 ? c->energy_limit_clock : 1.0;
  E->top_scale = 1.0 / (lc * lc);
  E->derived = 1;
}

/* ---- one op ----------------------------------------------------------------------------------------- */

/* The fraction of the cores a kernel keeps busy over its run: a tiled kernel's tiles over the core
 * slots of its waves (its last wave part-filled); every other kernel is launched over the whole
 * chip.  A collective's few thread blocks are not counted: they run beside compute kernels, whose
 * occupancy already holds the cores, or on a chip that waits. */
double energy_busy_fraction(const sl_chip *c, const sl_cost *k) {
  if (k->collective) return 0;
  if (k->tiles > 0 && c->cores > 0) {
    double slots = ceil(k->tiles / c->cores - 1e-9) * c->cores;
    return slots > 0 ? fmin(1.0, k->tiles / slots) : 1.0;
  }
  return 1.0;
}

/* The kernel's on-chip energy at the table's figures (the clock of a GEMM held at the TDP). */
static double core_table_j(const sl_chip *c, sl_dtype dt, const sl_cost *k) {
  const sl_energy_spec *E = &c->energy;
  sl_dtype v = c->vec_flops_per_cycle[dt] > 0 ? dt : SL_FP32;
  double core = k->macs * (E->mac_j[dt] + E->operand_bytes_per_mac[dt] * E->operand_j_per_byte) +
                k->vec_flops * E->vec_flop_j[v] + k->core_bytes * E->core_sram_j_per_byte;
  /* Shared level: the tiles' panels, and every DRAM byte on its way in or out. */
  core += (k->l2_bytes + k->dram_bytes) * E->shared_j_per_byte;
  /* Busy power: what the occupied cores and the uncore draw for the kernel's duration whatever
   * they complete (clock tree at the load clock and voltage, instruction issue, register files of
   * warps stalled on memory); in the clock domain, so it scales with the clock under the cap. */
  if (E->busy_w > 0 && k->time_s > 0) core += E->busy_w * energy_busy_fraction(c, k) * k->time_s;
  return core;
}

void energy_of_cost(const sl_chip *c, sl_dtype dt, int resident, sl_cost *k) {
  const sl_energy_spec *E = &c->energy;
  assert(E->derived);
  double core = core_table_j(c, dt, k);
  double off = (resident ? 0 : k->dram_bytes * E->dram_j_per_byte) + k->link_bytes * E->link_j_per_byte;
  /* The operating point (§2.5) and one limiter per step (§2.20): the per-action figures are those of
   * a kernel at the TDP; every kernel runs at the top clock and voltage, spending top_scale times as
   * much on the chip, and the cap of the step it runs in (power_cap) lowers the clock when the step's
   * average passes the TDP.  A kernel whose time comes from efficiencies measured on the
   * power-limited board has the clock that held it there in its time: the clock that holds it at
   * the TDP over that time, down to the table's (one over the TDP even there kept the table's
   * figures, and the cap lowered its clock further); its clocked parts are moved to the top clock. */
  if (E->top_scale > 1 && k->time_s > 0 && c->tdp_w > E->static_w) {
    double at_tdp = (c->tdp_w - E->static_w) * k->time_s - off;
    double rl = 1 / sqrt(E->top_scale);
    double rk = core * E->top_scale <= at_tdp ? 1 : core < at_tdp ? rl * sqrt(at_tdp / core) : rl;
    if (rk < 1 && k->clocked_s > 0) { /* the parts the step's cap scales (power_fill_result) */
      if (k->bound == SL_BOUND_COMPUTE) {
        k->time_s *= rk;
      } else {
        sl_clockpart p = clockpart_body(k, 1);
        k->time_s += p.stall * rk + fmax(p.c * rk, p.d) - (p.stall + fmax(p.c, p.d));
      }
      k->clocked_s *= rk, k->stall_s *= rk;
    }
    core *= E->top_scale;
  }
  k->e_core_j = core;
  k->e_off_j = off;
}

double coll_link_bytes(sl_coll type, double S, double n) {
  if (n <= 1 || S <= 0) return 0;
  switch (type) {
  case SL_COLL_ALL_REDUCE:
    return 2.0 * (n - 1) / n * S;
  case SL_COLL_ALL_GATHER:
  case SL_COLL_REDUCE_SCATTER:
  case SL_COLL_ALL_TO_ALL:
    return (n - 1) / n * S;
  case SL_COLL_SEND_RECV:
  default:
    return S;
  }
}

/* ---- the TDP cap --------------------------------------------------------------------------------------
 * A chip whose power would exceed its TDP lowers its clock (DVFS).  With the voltage tracking the
 * clock, energy per on-chip action scales as r^2 for a clock ratio r, down to a voltage floor at
 * SL_VMIN of nominal; compute-bound time scales as 1/r; DRAM, links, latency and idle time do not.
 * Power is then increasing in r, and the cap is the r at which it meets TDP (bisection). */
#define SL_VMIN 0.6

double power_energy_scale(double r) {
  double v = r > SL_VMIN ? r : SL_VMIN;
  return v * v;
}

/* ---- kernels near their ridge ---- */

sl_clockpart clockpart_of(const sl_cost *k, double times) {
  sl_clockpart none = {0, 0, 0};
  if (k->bound != SL_BOUND_MEMORY || !(k->dram_s > 0)) return none;
  return clockpart_body(k, times);
}

sl_clockpart clockpart_body(const sl_cost *k, double times) {
  sl_clockpart p = {0, 0, 0};
  if (!(k->clocked_s > 0) || !(times > 0)) return p;
  /* a body its clocked work bounds (a kernel the roofline calls memory-bound because of its L2
   * time, which is clocked, or a compute-bound one): all of it scales with the clock */
  if (k->clocked_s >= k->dram_s) {
    p.stall = k->clocked_s * times;
    return p;
  }
  double stall = fmin(k->stall_s, k->clocked_s);
  p.stall = stall * times;
  p.c = (k->clocked_s - stall) * times;
  p.d = (k->dram_s - stall) * times;
  return p;
}

/* One bin's (or kernel's) extra time at clock ratio r: its clocked work past its DRAM stream. */
static inline double bin_extra(double c, double d, double r) {
  return c > d * r ? c / r - d : 0;
}

static int near_bin(double c_s, double d_s) {
  double b = c_s / d_s;
  return b >= 1 ? SL_NEAR_BINS - 1 : (int)(b * SL_NEAR_BINS);
}

void near_add(sl_near *n, double c_s, double d_s) {
  if (!(c_s > 0) || !(d_s > 0)) return;
  int k = near_bin(c_s, d_s);
  if (!(n->used >> k & 1)) n->b[k].c = n->b[k].d = 0, n->used |= 1u << k;
  n->b[k].c += c_s, n->b[k].d += d_s;
}

double near_share(const sl_near *n, sl_clockpart p, double r) {
  double x = p.stall * (1 / r - 1);
  if (!(p.c > 0) || !(p.d > 0)) return x;
  int k = near_bin(p.c, p.d);
  if (n && (n->used >> k & 1)) x += bin_extra(n->b[k].c, n->b[k].d, r) * (p.c / n->b[k].c);
  return x;
}

void near_add_part(sl_near *n, double *t_clock_s, sl_clockpart p) {
  *t_clock_s += p.stall;
  near_add(n, p.c, p.d);
}

void near_axpy(sl_near *a, double w, const sl_near *b) {
  for (int k = 0; b->used >> k; k++)
    if (b->used >> k & 1) {
      if (!(a->used >> k & 1)) a->b[k].c = a->b[k].d = 0;
      a->b[k].c += w * b->b[k].c, a->b[k].d += w * b->b[k].d;
    }
  a->used |= b->used;
}

/* The first m bins' extra time at clock ratio r. */
static double near_extra_m(const sl_near *n, int m, double r) {
  double x = 0;
  for (int k = 0; k < m; k++)
    x += bin_extra(n->b[k].c, n->b[k].d, r);
  return x;
}

double near_extra(const sl_near *n, double r) {
  double x = 0;
  if (n)
    for (int k = 0; n->used >> k; k++)
      if (n->used >> k & 1) x += bin_extra(n->b[k].c, n->b[k].d, r);
  return x;
}

sl_capped power_cap_near(const sl_chip *c, double e_core, double e_off, double t_clock, double t_other,
                         const sl_near *bins) {
  double t = t_clock + t_other + near_extra(bins, 1);
  sl_capped out = {1, t, e_core + e_off, 0, 0};
  double ps = c->energy.static_w, tdp = c->tdp_w;
  if (!(t > 0)) return out;
  out.uncapped_w = out.power_w = ps + (e_core + e_off) / t;
  if (out.uncapped_w <= tdp || tdp <= ps) return out;
  /* over the TDP: the bins that hold kernels, packed for the bisection, and the clock ratio above
   * which none of them is slowed */
  sl_near n;
  int m = 0;
  double b_max = 0;
  for (int k = 0; bins && bins->used >> k; k++)
    if ((bins->used >> k & 1) && bins->b[k].c > 0) {
      n.b[m].c = bins->b[k].c, n.b[m].d = bins->b[k].d;
      b_max = n.b[m].d > 0 ? fmax(b_max, n.b[m].c / n.b[m].d) : INFINITY;
      m++;
    }
  double lo = 0.02, hi = 1.0;
  for (int i = 0; i < 60; i++) {
    double r = 0.5 * (lo + hi);
    double x = r < b_max ? near_extra_m(&n, m, r) : 0;
    double p = ps + (e_core * power_energy_scale(r) + e_off) / (t_clock / r + t_other + x);
    if (p > tdp)
      hi = r;
    else
      lo = r;
  }
  double r = lo;
  out.clock_ratio = r;
  out.dyn_j = e_core * power_energy_scale(r) + e_off;
  out.time_s = t_clock / r + t_other + near_extra_m(&n, m, r);
  /* Even the lowest clock is over TDP (a memory-bound op with nothing to slow): the memory
   * system is throttled too. */
  if (ps + out.dyn_j / out.time_s > tdp * (1 + 1e-9)) out.time_s = out.dyn_j / (tdp - ps);
  out.power_w = ps + out.dyn_j / out.time_s;
  return out;
}

/* One kernel: its clocked work and its memory time as one near-ridge pair (exact in any bin). */
sl_capped power_cap_overlap(const sl_chip *c, double e_core, double e_off, double t_clock, double t_overlap,
                            double t_other) {
  if (!(t_overlap > 0)) return power_cap_near(c, e_core, e_off, t_clock, t_other, NULL);
  sl_near n;
  n.used = 0;
  near_add(&n, t_clock, t_overlap);
  return power_cap_near(c, e_core, e_off, 0, t_overlap + t_other, &n);
}

sl_capped power_cap(const sl_chip *c, double e_core, double e_off, double t_clock, double t_other) {
  return power_cap_near(c, e_core, e_off, t_clock, t_other, NULL);
}
