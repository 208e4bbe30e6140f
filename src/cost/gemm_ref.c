/* gemm_ref.c — naive reference for the GEMM model: enumerates every work tile in raster order,
 * forms the waves, and counts distinct panels and exact edge-tile bytes one by one.  Slow by
 * design; only tests call it. */
#include "cost/cost.h"

#include <math.h>
#include <stdlib.h>

sl_status cost_gemm_config_ref(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k,
                               sl_cost *out) {
  const sl_chip *c = ctx->chip;
  sl_cost r = {0};
  long M = (long)g->m, N = (long)g->n, K = (long)g->k, B = (long)g->batch, s = split_k;
  long tm = (M + t.m - 1) / t.m, tn = (N + t.n - 1) / t.n;
  long ks = (K + s - 1) / s, kp = (ks + t.k - 1) / t.k * t.k;
  long C = c->cores, cw = C / s > 0 ? C / s : 1;
  long out_tiles = B * tm * tn;
  double peak_core = gemm_core_flops(c, g->dt);
  const sl_mem_level *sram = chip_core_sram(c), *l2 = chip_l2(c);
  /* Orders: 0 row-major, 1 column-major, then the grouped rasters, bands of SL_GEMM_GROUP
   * tile-rows (2) or tile-columns (3), taken for one matrix whose operands both pass half the L2. */
  double compute = 0, l2_bytes = 0, flops = 0, a_ord[4] = {0}, b_ord[4] = {0};
  double a_total = g->batch * g->m * g->k * g->a_bytes, b_total = g->batch * g->k * g->n * g->b_bytes;
  double half_l2 = l2 ? 0.5 * l2->capacity_bytes : 0;
  int n_ord = B == 1 && a_total > half_l2 && b_total > half_l2 ? 4 : 2;
  /* A band as short as a wave is whole rows (columns) of tiles: the row-major (column-major) raster;
   * not walked. */
  int skip2 = SL_GEMM_GROUP * tn <= cw, skip3 = SL_GEMM_GROUP * tm <= cw;
  long waves = 0;
  char *row_seen = calloc((size_t)(B * tm), 1), *col_seen = calloc((size_t)(B * tn), 1);
  long *rows_list = malloc(sizeof(long) * (size_t)cw), *cols_list = malloc(sizeof(long) * (size_t)cw);
  sl_status st = SL_OK;
  if (!row_seen || !col_seen || !rows_list || !cols_list) {
    st = SL_ERR_INTERNAL;
    goto out;
  }
  /* Work tiles in waves of C: a wave holds cw output tiles with all their s splits, in each order
   * above; compute and L2 do not depend on it. */
  for (int ord = 0; ord < n_ord; ord++)
    for (long first = 0; first < out_tiles && !(ord == 2 && skip2) && !(ord == 3 && skip3); first += cw) {
      long last = first + cw < out_tiles ? first + cw : out_tiles;
      long nr = 0, nc = 0;
      double wave_time = 0;
      if (ord == 0) waves++;
      for (long o = first; o < last; o++) {
        long b = o / (tm * tn), i = (o / tn) % tm, j = o % tn;
        if (ord == 1) i = o % tm, j = (o / tm) % tn; /* column-major inside each matrix */
        if (ord >= 2) { /* grouped: band of S tile-rows (or -columns) walked across, one matrix */
          long S = SL_GEMM_GROUP, lines = ord == 3 ? tn : tm, across = ord == 3 ? tm : tn;
          long band = o / (S * across), in = o - band * S * across;
          long sb = lines - band * S < S ? lines - band * S : S;
          long line = band * S + in % sb, pos = in / sb;
          i = ord == 3 ? pos : line, j = ord == 3 ? line : pos;
        }
        long rows = (i + 1) * t.m <= M ? t.m : M - i * t.m;
        long cols = (j + 1) * t.n <= N ? t.n : N - j * t.n;
        for (long sp = 0; sp < s; sp++) {
          long k0 = sp * ks, k1 = k0 + ks < K ? k0 + ks : K;
          long kk = k1 > k0 ? k1 - k0 : 0;
          double t_mma = 2.0 * t.m * t.n * (double)kp / peak_core;
          double t_core = 0;
          if (sram) { /* every warp reads its fragments: one tile's warps, one by one */
            double bytes = (t.m * g->a_bytes + t.n * g->b_bytes) * (double)kp;
            if (t.warp_m > 0)
              for (long wi = 0; wi < t.m / t.warp_m; wi++)
                for (long wj = 0; wj < t.n / t.warp_n; wj++)
                  bytes += ((double)t.warp_m * g->a_bytes + (double)t.warp_n * g->b_bytes) * (double)kp;
            t_core = bytes / (sram->bw_GBps * 1e9 * (t.warp_m > 0 ? c->eff_sram : 1.0));
          }
          double tt = t_mma > t_core ? t_mma : t_core;
          if (tt > wave_time) wave_time = tt;
          if (ord != 0) continue;
          flops += 2.0 * t.m * t.n * (double)kp;
          l2_bytes += (double)rows * (double)kk * g->a_bytes + (double)kk * (double)cols * g->b_bytes;
        }
        if (!row_seen[b * tm + i]) {
          row_seen[b * tm + i] = 1;
          rows_list[nr++] = b * tm + i;
          a_ord[ord] += (double)rows * (double)K * g->a_bytes;
        }
        if (!col_seen[b * tn + j]) {
          col_seen[b * tn + j] = 1;
          cols_list[nc++] = b * tn + j;
          b_ord[ord] += (double)K * (double)cols * g->b_bytes;
        }
      }
      /* A wave of cw output tiles may need more than one pass over the cores when s > C; with
       * stream-K the cores share the wave's work evenly. */
      if (ord == 0 && c->stream_k && s == 1)
        compute += wave_time * (double)(last - first) / (double)C;
      else if (ord == 0)
        compute += wave_time * ceil((double)((last - first) * s) / (double)C);
      for (long x = 0; x < nr; x++)
        row_seen[rows_list[x]] = 0; /* panels are not kept across waves */
      for (long x = 0; x < nc; x++)
        col_seen[cols_list[x]] = 0;
    }
  {
    int o = 0;
    for (int ord = 0; ord < n_ord; ord++) {
      if ((ord == 2 && skip2) || (ord == 3 && skip3)) continue;
      if (a_total <= half_l2) a_ord[ord] = a_total;
      if (b_total <= half_l2) b_ord[ord] = b_total;
      if (a_ord[ord] + b_ord[ord] < a_ord[o] + b_ord[o]) o = ord;
    }
    double a_dram = a_ord[o], b_dram = b_ord[o];
    double c_bytes = g->batch * g->m * g->n * g->c_bytes;
    double dram = a_dram + b_dram + c_bytes, t_reduce = 0;
    if (split_k > 1) {
      dram += 2.0 * (double)s * g->batch * g->m * g->n * 4.0;
      t_reduce = c->kernel_latency_s;
    }
    double t_l2 = l2 ? (l2_bytes + c_bytes) / (l2->bw_GBps * 1e9 * c->eff_sram) : 0;
    double t_dram = dram / ctx->mem_bw;
    if (!ctx->resident) t_dram += c->gemm_stream_stall * compute; /* the stream stalls under the MACs */
    double body = compute > t_l2 ? compute : t_l2;
    body = body > t_dram ? body : t_dram;
    r.time_s =
        body + (c->gemm_latency_s[g->dt] > 0 ? c->gemm_latency_s[g->dt] : c->kernel_latency_s) + t_reduce;
    r.flops = flops;
    r.dram_bytes = dram;
    r.l2_bytes = l2_bytes + c_bytes;
    r.waves = c->stream_k && split_k == 1 ? (double)out_tiles / (double)C : (double)waves;
    r.tiles = (double)(out_tiles * s);
    r.tile = t;
    r.split_k = split_k;
    r.bound = compute >= (t_l2 > t_dram ? t_l2 : t_dram) ? SL_BOUND_COMPUTE : SL_BOUND_MEMORY;
  }
out:
  free(row_seen);
  free(col_seen);
  free(rows_list);
  free(cols_list);
  *out = r;
  return st;
}
