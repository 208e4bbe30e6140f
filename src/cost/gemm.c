/* gemm.c — tile-level GEMM model: the best configuration from the chip's kernel catalogue.
 *
 * For a configuration (tile Mt x Nt x Kt, split-K s) on a chip with C cores:
 *   output tiles  O = batch * ceil(M/Mt) * ceil(N/Nt); work tiles T = O * s; waves W = ceil(T/C)
 *   compute       W * max(2*Mt*Nt*Kp / (core peak * eff), operand bytes / core SRAM bandwidth)
 *                 (every tile pays its full padded shape: tile quantisation; W: wave quantisation)
 *   shared level  every work tile streams its A and B panels from L2:  batch*(tn*M*K*a + tm*K*N*b)
 *   DRAM          the tiles running together in one wave share their panels (row- or column-major
 *                 raster over the tm x tn grid, or a grouped one of 8 tile-rows or -columns,
 *                 whichever moves least); an operand that fits in half the L2 is read once
 *   time          max(compute, L2, DRAM) + kernel latency (+ split-K reduction)
 * This is the NVIDIA "Matrix Multiplication Background" picture (tile and wave quantisation) with
 * a roofline per memory level (Williams et al. 2009).  gemm_ref.c walks the same model tile by
 * tile; tests keep the two in step. */
#include "cost/cost.h"

#include <math.h>
#include <string.h>

static double gcd_d(double a, double b) {
  if (a >= 0 && b >= 0 && a < 0x1p53 && b < 0x1p53 && a == floor(a) && b == floor(b)) {
    uint64_t x = (uint64_t)a,
             y = (uint64_t)b; /* tile counts: integers, and integer division is cheaper than fmod */
    while (y) {
      uint64_t t = x % y;
      x = y;
      y = t;
    }
    return (double)x;
  }
  while (b > 0.5) {
    double t = fmod(a, b);
    a = b;
    b = t;
  }
  return a;
}

/* Distinct row-tiles summed over waves of `cw` output tiles in row-major order over a grid of
 * `rows` x `tn` (rows = batch*tm).  Exact: the per-wave count floor((b-1)/tn) - floor(a/tn) + 1
 * telescopes. */
static double rows_over_waves(double rows, double tn, double cw) {
  double out = rows * tn, nw = ceil(out / cw);
  double g = gcd_d(cw, tn);
  return rows - floor((nw - 1) * g / tn) - 1 + nw;
}

/* Distinct (batch, column) tiles summed over waves.  Exact for batch == 1; for batched GEMMs a
 * wave that spans several matrices touches each one's columns (estimate). */
static double cols_over_waves(double batch, double tm, double tn, double cw) {
  double out = batch * tm * tn, nw = ceil(out / cw), full = floor(out / cw), rem = out - full * cw;
  double per_mat = tm * tn;
  double mats = cw >= per_mat ? ceil(cw / per_mat) : 1;
  double per_wave = fmin(cw, tn * mats);
  double last = rem > 0 ? fmin(rem, tn * (rem >= per_mat ? ceil(rem / per_mat) : 1)) : 0;
  (void)nw;
  return full * per_wave + last;
}

/* sum_{i < n} floor((a i + b) / m) for n, m >= 1 and a, b >= 0, in O(log m) (the Euclid-like
 * reduction of the AtCoder Library's floor_sum). */
static double floor_sum(double n, double m, double a, double b) {
  uint64_t N = (uint64_t)n, M = (uint64_t)m, A = (uint64_t)a, B = (uint64_t)b, ans = 0;
  if (N == 0) return 0;
  for (;;) {
    if (A >= M) ans += N * (N - 1) / 2 * (A / M), A %= M;
    if (B >= M) ans += N * (B / M), B %= M;
    uint64_t y = A * N + B;
    if (y < M) break;
    N = y / M, B = y % M;
    uint64_t t = M;
    M = A, A = t;
  }
  return (double)ans;
}

/* One band's part of grouped_panels: band b of a grouped raster (bands of S tile-rows over a
 * tm x tn grid, each walked column by column) cut by waves of cw tiles into pieces.  A piece of
 * n tiles holds min(s, n) rows, and columns floor(j1 / s) - floor(j0 / s) + 1, which telescope
 * over the band to its pieces plus tn - 1, less the piece boundaries that fall on a column's
 * first tile (w x cw = band start, mod s).  The wave that crosses into the next band reads a
 * column the two pieces share once: their overlap is taken off here. */
static void grouped_band(double b, double tm, double tn, double cw, double S, double *rows, double *cols) {
  double band = S * tn, nb = ceil(tm / S);
  double s = fmin(S, tm - b * S), start = b * band, end = start + s * tn - 1;
  double wa = floor(start / cw), wz = floor(end / cw), pieces = wz - wa + 1;
  double first = fmin((wa + 1) * cw, end + 1) - start;
  *rows += fmin(s, first);
  if (wz > wa) *rows += fmin(s, end + 1 - wz * cw) + (wz - wa - 1) * fmin(s, cw);
  double on_column = 0, m = s / gcd_d(cw, s); /* solutions of w x cw = start mod s repeat every m */
  for (double r = 0; r < m; r++)
    if (fmod(r * cw - start, s) == 0) {
      on_column = floor((wz - r) / m) - floor((wa - r) / m);
      break;
    }
  *cols += pieces + (tn - 1) - on_column;
  double next = end + 1;
  if (b + 1 < nb && fmod(next, cw) != 0) {
    double w = floor(next / cw), s1 = fmin(S, tm - (b + 1) * S);
    double c0 = floor((w * cw - start) / s), c1 = floor((fmin((w + 1) * cw, next + s1 * tn) - 1 - next) / s1);
    *cols -= fmax(0.0, c1 - c0 + 1);
  }
}

/* Distinct row-tiles and column-tiles summed over waves of `cw` output tiles in a grouped raster
 * over a tm x tn grid: bands of `S` tile-rows (the last one part-filled), each walked column by
 * column (Triton's GROUP_SIZE_M ordering; CUTLASS's threadblock swizzle).  S = 1 is the row-major
 * raster, S >= tm the column-major one; a wave as long as a band or longer covers whole rows of
 * tiles, the row-major raster, and the grouped one is not counted (infinite).
 *
 * The sum over waves is a sum over rows and columns of the waves each one meets.  When S <= cw,
 * a row of a full band (its tiles S apart) meets the waves from its first tile's to its last's,
 * a column (S tiles in a row) one or two, and two bands share a column in one wave only when a
 * wave is almost a band long (cw > band - S + 1).  So the full bands before the last sum as floor
 * sums in O(log cw) (grouped_band's counts, summed); the last full band, the part-filled one and
 * the near-band-long waves band by band (grouped_band).  A large GEMM has hundreds of waves. */
static void grouped_panels(double tm, double tn, double cw, double S, double *rows, double *cols) {
  double band = S * tn, nb = ceil(tm / S), nf = floor(tm / S);
  *rows = *cols = 0;
  if (cw >= band) {
    *rows = *cols = INFINITY;
    return;
  }
  double b0 = 0;
  if (S <= cw && cw <= band - S + 1 && nf >= 2) {
    double n = nf - 1; /* full bands whose crossing wave enters another full band */
    for (double r = 0; r < S; r++)
      *rows += floor_sum(n, cw, band, (tn - 1) * S + r) - floor_sum(n, cw, band, r);
    *rows += n * S;
    *cols += n * tn + floor_sum(n * tn, cw, S, S - 1) - floor_sum(n * tn, cw, S, 0);
    b0 = n;
  }
  for (double b = b0; b < nb; b++)
    grouped_band(b, tm, tn, cw, S, rows, cols);
}

void cost_ctx_init(sl_costctx *ctx, const sl_chip *chip, const sl_stack *stack, int resident_on_chip) {
  ctx->chip = chip;
  ctx->stack = stack;
  ctx->gemm_memo = NULL;
  ctx->ar_limits = stack->symm_mem_allreduce ? stack_ar_limits(stack, chip->arch) : NULL;
  const sl_mem_level *d = chip_dram(chip), *l2 = chip_l2(chip);
  ctx->resident = resident_on_chip && l2;
  if (resident_on_chip && l2) {
    ctx->mem_bw = l2->bw_GBps * 1e9 * chip->eff_sram;
    ctx->stream_bw = ctx->mem_bw;
    ctx->mem_latency_s = l2->latency_s;
  } else {
    ctx->mem_bw = d->bw_GBps * 1e9 * chip->eff_dram;
    ctx->stream_bw = d->bw_GBps * 1e9 * chip->eff_stream;
    ctx->mem_latency_s = d->latency_s;
  }
}

/* Bytes of operand fragments each MAC reads from the per-core SRAM: every warp reads its
 * warp_m x K slice of A and K x warp_n slice of B on each K step, so a tile's warps read
 * m*n*K*(a/warp_n + b/warp_m) bytes (0 without a warp tile). */
double gemm_fragment_bytes_per_mac(const sl_gemm_shape *g, sl_tile t) {
  if (t.warp_m <= 0 || t.warp_n <= 0) return 0;
  return g->a_bytes / t.warp_n + g->b_bytes / t.warp_m;
}

/* Per-core SRAM traffic of one work tile over kp of K: its A and B panels written in (cp.async),
 * and, with a warp tile, every warp's fragment reads (ldmatrix), which share the same port. */
double gemm_tile_sram_bytes(const sl_gemm_shape *g, sl_tile t, double kp) {
  double panels = (t.m * g->a_bytes + t.n * g->b_bytes) * kp;
  return panels + (double)t.m * t.n * kp * gemm_fragment_bytes_per_mac(g, t);
}

/* The share of the per-core SRAM's peak a tile's traffic sustains: the chip's SRAM efficiency
 * when the fragment reads are counted (the port serves the writes and the reads together);
 * 1 for the panel writes alone, the model's older bound. */
double gemm_sram_eff(const sl_chip *c, sl_tile t) {
  return t.warp_m > 0 ? c->eff_sram : 1.0;
}

/* Whether a grouped raster can move fewer DRAM bytes than the row- and column-major ones: one
 * matrix whose operands both pass half the L2 (an operand that fits is read once either way). */
static int grouped_raster_applies(const sl_chip *c, const sl_gemm_shape *g) {
  const sl_mem_level *l2 = chip_l2(c);
  double half_l2 = l2 ? 0.5 * l2->capacity_bytes : 0;
  return g->batch == 1 && g->m * g->k * g->a_bytes > half_l2 && g->k * g->n * g->b_bytes > half_l2;
}

/* One configuration; `grouped`: count the grouped rasters too (0: the row- and column-major ones
 * only, a DRAM figure at least the full one's, for gemm_search's screening). */
static sl_cost gemm_config(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k,
                           int grouped) {
  const sl_chip *c = ctx->chip;
  sl_cost r = {0};
  double C = c->cores, s = split_k;
  double tm = ceil(g->m / t.m), tn = ceil(g->n / t.n);
  double ks = ceil(g->k / s);
  double kp = ceil(ks / t.k) * t.k; /* K per split, padded to the tile */
  double out_tiles = g->batch * tm * tn, T = out_tiles * s;
  double cw = fmax(1.0, floor(C / s)); /* output tiles per wave, each with its s splits */
  double W = ceil(out_tiles / cw) * ceil(cw * s / C);
  /* Stream-K: the MAC loop iterations of all tiles are shared evenly by the cores, so there are
   * no idle cores in a last wave (Osama et al. 2023); partial tiles are fixed up through L2. */
  if (c->stream_k && split_k == 1) W = out_tiles / C;
  double peak_core = gemm_core_flops(c, g->dt);
  double t_mma = 2.0 * t.m * t.n * kp / peak_core;
  const sl_mem_level *sram = chip_core_sram(c), *l2 = chip_l2(c);
  double t_core = 0;
  if (sram) t_core = gemm_tile_sram_bytes(g, t, kp) / (sram->bw_GBps * 1e9 * gemm_sram_eff(c, t));
  double t_compute = W * fmax(t_mma, t_core);

  /* Shared level: each work tile streams its (unpadded) panels. */
  double l2_bytes = g->batch * (tn * g->m * g->k * g->a_bytes + tm * g->k * g->n * g->b_bytes);
  double c_bytes = g->batch * g->m * g->n * g->c_bytes;
  double t_l2 = l2 ? (l2_bytes + c_bytes) / (l2->bw_GBps * 1e9 * c->eff_sram) : 0;

  /* DRAM: operands shared within a wave are read once per wave. */
  double a_total = g->batch * g->m * g->k * g->a_bytes, b_total = g->batch * g->k * g->n * g->b_bytes;
  /* Row-major raster shares A panels within a wave, column-major shares B panels; kernels pick
   * the raster (swizzle) that moves fewer bytes. */
  double a_row = rows_over_waves(g->batch * tm, tn, cw) * (g->m / tm) * g->k * g->a_bytes;
  double b_row = cols_over_waves(g->batch, tm, tn, cw) * (g->n / tn) * g->k * g->b_bytes;
  double b_col = rows_over_waves(g->batch * tn, tm, cw) * (g->n / tn) * g->k * g->b_bytes;
  double a_col = cols_over_waves(g->batch, tn, tm, cw) * (g->m / tm) * g->k * g->a_bytes;
  double half_l2 = l2 ? 0.5 * l2->capacity_bytes : 0;
  if (a_total <= half_l2) a_row = a_col = a_total;
  if (b_total <= half_l2) b_row = b_col = b_total;
  a_row = fmin(fmax(a_row, a_total), a_total * tn), a_col = fmin(fmax(a_col, a_total), a_total * tn);
  b_row = fmin(fmax(b_row, b_total), b_total * tm), b_col = fmin(fmax(b_col, b_total), b_total * tm);
  double a_bytes = a_row, b_bytes = b_row;
  if (a_col + b_col < a_row + b_row) a_bytes = a_col, b_bytes = b_col;
  /* Grouped rasters: when neither operand fits, a wave that covers a block of S tile-rows by
   * cw / S tile-columns shares both operands' panels (S = SL_GEMM_GROUP, bands along M or along N);
   * one matrix only. */
  if (grouped && grouped_raster_applies(c, g))
    for (int along_n = 0; along_n < 2; along_n++) {
      double rows, cols;
      if (along_n)
        grouped_panels(tn, tm, cw, SL_GEMM_GROUP, &cols, &rows);
      else
        grouped_panels(tm, tn, cw, SL_GEMM_GROUP, &rows, &cols);
      if (!isfinite(rows)) continue;
      double a = fmin(fmax(rows * (g->m / tm) * g->k * g->a_bytes, a_total), a_total * tn);
      double b = fmin(fmax(cols * (g->n / tn) * g->k * g->b_bytes, b_total), b_total * tm);
      if (a + b < a_bytes + b_bytes) a_bytes = a, b_bytes = b;
    }
  double dram = a_bytes + b_bytes + c_bytes;
  double t_reduce = 0;
  if (split_k > 1) { /* fp32 partials written and read back, then reduced */
    double partial = 2.0 * s * g->batch * g->m * g->n * 4.0;
    dram += partial;
    t_reduce = c->kernel_latency_s;
  }
  double t_dram = dram / ctx->mem_bw;
  /* The DRAM stream of a kernel whose operands come from DRAM stalls for a fraction of its MAC time
   * (kernels.gemm_stream_stall, fitted to kernel-level timings): each core keeps a few K-stages of
   * panels in flight, and a stage its MACs still hold is not one of them, so on the memory side of
   * the roofline the loads wait about MAC time / stages (model.md §2, "Loads and MACs"). */
  double t_stall = ctx->resident ? 0 : c->gemm_stream_stall * t_compute;
  t_dram += t_stall;

  double body = fmax(t_compute, fmax(t_l2, t_dram));
  double lat = gemm_latency(c, g->dt);
  r.time_s = body + lat + t_reduce;
  r.clocked_s = fmax(t_compute, t_l2);
  r.dram_s = t_dram;
  r.stall_s = t_stall;
  r.bound = t_compute >= fmax(t_l2, t_dram) ? SL_BOUND_COMPUTE : SL_BOUND_MEMORY;
  if (lat + t_reduce > body) r.bound = SL_BOUND_LATENCY;
  r.flops = 2.0 * T * t.m * t.n * kp;
  r.macs = r.flops / 2.0;
  /* Every work tile's A and B panels are written into the per-core SRAM and read from it by the
   * engine (energy; src/cost/energy.c). */
  if (sram)
    r.core_bytes = t.warp_m > 0 ? l2_bytes + r.macs * gemm_fragment_bytes_per_mac(g, t) : 2.0 * l2_bytes;
  /* A format the matrix engine does not take (fp32 on a GPU without TF32) runs as FMAs on the vector
   * lanes: each one reads its three operands from the register file and writes one, the energy of a
   * vector FLOP (src/cost/energy.c), not that of a systolic MAC fed from the engine's operand store. */
  if (!(c->mat_macs_per_cycle[g->dt] > 0)) r.vec_flops = r.flops, r.macs = 0;
  r.dram_bytes = dram;
  r.l2_bytes = l2_bytes + c_bytes;
  r.tile = t;
  r.split_k = split_k;
  r.waves = W;
  r.tiles = T;
  return r;
}

/* The time under the single-kernel cap of a configuration as cost_gemm times it (own_s), from its
 * cost at the top clock (energy_of_cost moves its clocked parts there and gives its energy there),
 * the cap then setting the clock, as a step of that one kernel would (power_fill_result); see
 * gemm_config_capped_time below. */
static double cap_top(const sl_chip *c, const sl_cost *top, double own_s) {
  if (!c->energy.derived || !(c->tdp_w > 0)) return own_s;
  /* at clock ratio r the body takes stall / r + max(c / r, d) (clockpart_body: the stall is MAC
   * time, in the clock domain with the MACs; the rest of the DRAM term is not) */
  sl_clockpart p = clockpart_body(top, 1);
  sl_near n;
  n.used = 0;
  near_add(&n, p.c, p.d);
  sl_capped k = power_cap_near(c, top->e_core_j, top->e_off_j, p.stall, top->time_s - p.stall, &n);
  return k.clock_ratio < 1 ? k.time_s : own_s; /* under the cap: its own time, to the last bit */
}

static double capped_time_of(const sl_chip *c, sl_dtype dt, int resident, const sl_cost *r) {
  if (!c->energy.derived || !(c->tdp_w > 0)) return r->time_s;
  sl_cost top = *r;
  energy_of_cost(c, dt, resident, &top);
  return cap_top(c, &top, r->time_s);
}

/* The time a configuration runs in on the power-limited chip: a kernel library's choice is the
 * kernel that runs fastest on the real board, where a tile that moves more bytes per MAC draws
 * more power and, over the TDP, runs at a lower clock (power_cap, docs/energy-cost.md §2).  The
 * lower clock stretches the roofline's clocked term (MACs, per-core SRAM, L2) until it passes the
 * DRAM time it overlapped, which no clock changes: a kernel just on the memory side of its roofline
 * slows as soon as the clock drops below the balance point.  At full clock (under the cap, or no
 * energy table) it is the configuration's time. */
double gemm_config_capped_time(const sl_costctx *ctx, const sl_gemm_shape *g, sl_cost r) {
  return capped_time_of(ctx->chip, g->dt, ctx->resident, &r);
}

/* A configuration's cost with its energy at the top clock filled in when the chip has an energy
 * table (the ranking reads it), its time as it is. */
static sl_cost with_energy(const sl_costctx *ctx, const sl_gemm_shape *g, sl_cost r) {
  if (ctx->chip->energy.derived) {
    sl_cost top = r;
    energy_of_cost(ctx->chip, g->dt, ctx->resident, &top);
    r.e_core_j = top.e_core_j, r.e_off_j = top.e_off_j;
  }
  return r;
}

/* cost_gemm's answer carries no energy: cost_op fills it per call, at the op's own figures. */
static sl_cost without_energy(sl_cost r) {
  r.e_core_j = r.e_off_j = 0;
  return r;
}

sl_cost cost_gemm_config(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k) {
  return gemm_config(ctx, g, t, split_k, 1);
}

/* Among configurations equally fast, the one that spends least: on a chip with an energy table,
 * its energy (a tile padded to more rows than the product has multiplies the padding, a narrower
 * one reads the other operand's panels more often: vLLM's Hopper fp8 kernels take a 16-row tile
 * with the operands swapped for up to 16 rows and a 64-row one above, the choice this makes), else
 * its DRAM bytes, MACs and L2 bytes in turn. */
static int better(const sl_chip *c, const sl_cost *r, double t, const sl_cost *best, double best_t) {
  if (t < best_t * (1 - 1e-12)) return 1;
  if (!(t <= best_t * (1 + 1e-12))) return 0;
  if (c->energy.derived) { /* both filled in by with_energy */
    double ea = r->e_core_j + r->e_off_j, eb = best->e_core_j + best->e_off_j;
    if (ea < eb * (1 - 1e-12)) return 1;
    if (!(ea <= eb * (1 + 1e-12))) return 0;
  }
  if (r->dram_bytes != best->dram_bytes) return r->dram_bytes < best->dram_bytes;
  if (r->macs != best->macs) return r->macs < best->macs;
  return r->l2_bytes < best->l2_bytes;
}

typedef struct gemm_ties {
  int n; /* configurations as fast as the fastest at full clock; > SL_GEMM_TIED: too many to keep */
  sl_cost c[SL_GEMM_TIED];
} gemm_ties;

/* The configuration with the least time under the cap; *is_free: it is also the one with the
 * least time at full clock and no other is as fast (the choice no energy figure changes while it
 * stays under the cap: every other configuration's capped time is at least its full-clock time,
 * and no tie is left for the energy to break). */
static sl_cost gemm_search(const sl_costctx *ctx, const sl_gemm_shape *g, int *is_free, gemm_ties *ties) {
  const sl_chip *c = ctx->chip;
  sl_cost best = {0}, fast = {0};
  best.time_s = fast.time_s = INFINITY;
  double best_t = INFINITY;
  gemm_ties local, *tied = ties ? ties : &local; /* no zeroing: only the first n are read */
  tied->n = 0;
  int grouped = grouped_raster_applies(c, g); /* otherwise the screening count is the whole one */
  for (int i = 0; i < c->n_tiles; i++) {
    sl_tile t = c->tiles[i];
    /* a library's dispatch runs some tiles only for products of a few rows (the swapped few-row
     * kernels of vLLM's Hopper fp8 GEMMs: up to 16 rows; above, their 64-row tile) */
    if (t.max_rows > 0 && g->m > t.max_rows) continue;
    double out_tiles = g->batch * ceil(g->m / t.m) * ceil(g->n / t.n);
    for (int s = 1; s <= c->max_split_k; s *= 2) {
      if (s > 1 && (c->stream_k || out_tiles * s > 2.0 * c->cores || g->k / s < 2.0 * t.k)) break;
      /* Screened first without the grouped rasters, which lower only the DRAM bytes: a
       * configuration slower than both choices so far even with no DRAM time is not counted again
       * (its time under the cap is at least that). */
      sl_cost r = gemm_config(ctx, g, t, s, 0);
      if (grouped) {
        if (r.time_s - fmax(0.0, r.dram_s - r.clocked_s) > fmax(best_t, fast.time_s) * (1 + 1e-12)) continue;
        r = gemm_config(ctx, g, t, s, 1);
      }
      sl_cost top = r; /* at the top clock: its energy for the ranking, its capped time */
      if (c->energy.derived) {
        energy_of_cost(c, g->dt, ctx->resident, &top);
        r.e_core_j = top.e_core_j, r.e_off_j = top.e_off_j;
      }
      double rt = cap_top(c, &top, r.time_s);
      if (better(c, &r, rt, &best, best_t)) best = r, best_t = rt;
      /* the configurations as fast as the fastest at full clock (energy figures choose among them) */
      if (r.time_s < fast.time_s * (1 - 1e-12)) tied->n = 0;
      if (r.time_s <= fast.time_s * (1 + 1e-12)) {
        if (tied->n < SL_GEMM_TIED) tied->c[tied->n] = without_energy(r);
        tied->n++;
      }
      if (better(c, &r, r.time_s, &fast, fast.time_s)) fast = r;
    }
  }
  if (is_free)
    *is_free = tied->n <= SL_GEMM_TIED && best.tile.m == fast.tile.m && best.tile.n == fast.tile.n &&
               best.tile.k == fast.tile.k && best.split_k == fast.split_k;
  return without_energy(best);
}

double gemm_latency(const sl_chip *c, sl_dtype dt) {
  return c->gemm_latency_s[dt] > 0 ? c->gemm_latency_s[dt] : c->kernel_latency_s;
}

double gemm_core_flops(const sl_chip *c, sl_dtype dt) {
  if (c->mat_macs_per_cycle[dt] > 0)
    return 2.0 * c->mat_macs_per_cycle[dt] * c->clock_ghz * 1e9 * c->eff_gemm[dt];
  return c->vec_flops_per_cycle[dt] * c->clock_ghz * 1e9 * c->eff_vector;
}

/* Every figure gemm_search reads besides the shape.  The key is zeroed first, so that equal
 * figures give equal bytes (memcmp). */
static void gemm_chip_key(const sl_costctx *ctx, sl_gemm_chip_key *k) {
  const sl_chip *c = ctx->chip;
  const sl_mem_level *sram = chip_core_sram(c), *l2 = chip_l2(c);
  memset(k, 0, sizeof *k);
  k->cores = c->cores, k->clock_ghz = c->clock_ghz, k->stream_k = c->stream_k,
  k->max_split_k = c->max_split_k;
  k->n_tiles = c->n_tiles, k->kernel_latency_s = c->kernel_latency_s, k->eff_sram = c->eff_sram;
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    k->gemm_latency_s[i] = c->gemm_latency_s[i];
  if (sram) k->has_sram = 1, k->sram_bw = sram->bw_GBps;
  if (l2) k->has_l2 = 1, k->l2_bw = l2->bw_GBps, k->l2_capacity = l2->capacity_bytes;
  k->mem_bw = ctx->mem_bw;
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    k->macs[i] = c->mat_macs_per_cycle[i], k->eff_gemm[i] = c->eff_gemm[i],
    k->vec[i] = c->vec_flops_per_cycle[i];
  k->eff_vector = c->eff_vector;
  for (int i = 0; i < c->n_tiles && i < SL_MAX_TILES; i++)
    k->tiles[i] = c->tiles[i];
}

static void gemm_energy_key(const sl_chip *c, sl_gemm_energy_key *k) {
  const sl_energy_spec *E = &c->energy;
  memset(k, 0, sizeof *k);
  k->tdp_w = c->tdp_w, k->derived = E->derived, k->static_w = E->static_w, k->top = E->top_scale;
  k->operand = E->operand_j_per_byte, k->core_sram = E->core_sram_j_per_byte;
  k->shared = E->shared_j_per_byte, k->dram = E->dram_j_per_byte;
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    k->mac[i] = E->mac_j[i], k->operand_per_mac[i] = E->operand_bytes_per_mac[i];
}

sl_cost cost_gemm(const sl_costctx *ctx, const sl_gemm_shape *g) {
  sl_gemm_memo *mo = ctx->gemm_memo;
  if (!mo) return gemm_search(ctx, g, NULL, NULL);
  sl_gemm_chip_key k;
  gemm_chip_key(ctx, &k);
  if (memcmp(&k, &mo->chip, sizeof k) != 0) { /* other figures: nothing remembered applies */
    mo->chip = k;
    mo->n = mo->next = 0;
  }
  sl_gemm_energy_key ek;
  gemm_energy_key(ctx->chip, &ek);
  if (memcmp(&ek, &mo->energy, sizeof ek) != 0) mo->energy = ek, mo->energy_gen++;
  const double shape[8] = {g->m, g->n, g->k, g->batch, (double)g->dt, g->a_bytes, g->b_bytes, g->c_bytes};
  int i = -1;
  for (int j = 0; j < mo->n; j++)
    if (memcmp(shape, mo->e[j].shape, sizeof shape) == 0) {
      i = j;
      break;
    }
  if (i >= 0 && mo->e[i].energy_gen == mo->energy_gen) {
    mo->hits++;
    return mo->e[i].cost;
  }
  /* An answer searched with other energy figures stands if it was the fastest at full clock and is
   * still under the cap; tied with others as fast, the answer is the one of them these figures make
   * cheapest, if it is under the cap (none is faster at full clock, and a capped time is never less). */
  if (i >= 0 && mo->e[i].free) {
    sl_cost pick = with_energy(ctx, g, mo->e[i].cost);
    for (int j = 0; j < mo->e[i].n_tied && mo->e[i].n_tied > 1; j++) {
      sl_cost r = with_energy(ctx, g, mo->e[i].tied[j]);
      if (j == 0 || better(ctx->chip, &r, r.time_s, &pick, pick.time_s)) pick = r;
    }
    if (capped_time_of(ctx->chip, g->dt, ctx->resident, &pick) <= pick.time_s) {
      pick = without_energy(pick);
      mo->hits++;
      mo->e[i].cost = pick;
      mo->e[i].energy_gen = mo->energy_gen;
      return pick;
    }
  }
  mo->misses++;
  int is_free = 0;
  gemm_ties ties;
  ties.n = 0;
  sl_cost r = gemm_search(ctx, g, &is_free, &ties);
  if (i < 0) {
    i = mo->n;
    if (mo->n < SL_GEMM_MEMO_SIZE) /* else the oldest entry goes */
      mo->n++;
    else
      i = mo->next, mo->next = (mo->next + 1) % SL_GEMM_MEMO_SIZE;
  }
  memcpy(mo->e[i].shape, shape, sizeof shape);
  mo->e[i].cost = r;
  mo->e[i].energy_gen = mo->energy_gen;
  mo->e[i].free = is_free;
  mo->e[i].n_tied = ties.n <= SL_GEMM_TIED ? ties.n : 0;
  if (ties.n > 1 && ties.n <= SL_GEMM_TIED) memcpy(mo->e[i].tied, ties.c, (size_t)ties.n * sizeof *ties.c);
  return r;
}
