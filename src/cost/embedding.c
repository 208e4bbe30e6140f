/* embedding.c — embedding bags on one chip: random row gathers from DRAM (or host memory behind
 * links.host), the share of lookups the shared on-chip SRAM serves, pooling on the vector unit,
 * and the fused backward (scatter-add of the pooled gradient with a row-wise Adagrad update of the
 * touched rows, as FBGEMM's table-batched embedding kernels do).
 *
 * Bandwidth of random gathers (equations.md "Embedding bags"): a row of b bytes moves
 * ceil(b / 64) access units of 64 B, at the DRAM's peak times the controller's random-access
 * efficiency (chip efficiency.random, default efficiency.stream).
 *
 * SRAM share: accesses to table t follow Zipf(s_t) over its R_t rows, so the k hottest rows take
 * H(k, s_t) / H(R_t, s_t) of them, H(n, s) = sum_{i<=n} i^-s.  A cache of C bytes that holds the
 * rows with the most accesses per byte (the best a static, frequency-based allocation can do) is
 * found by water-filling: every row whose rate_t i^-s_t / (H(R_t) bytes_t) is above a threshold is
 * in, the threshold set so that the rows fill C.  This is an upper bound for an LRU-managed cache.
 * A table may also have lookups spread uniformly over its rows (synthetic multi-hot data: the
 * extra indices of a bag are the first plus a uniformly random offset): they add the same
 * density to every row, and the k hottest rows serve k/R of them. */
#include "cost/cost.h"

#include <math.h>
#include <stdlib.h>

enum { ZIPF_EXACT = 32 }; /* terms summed directly before Euler-Maclaurin takes over */

/* integral of x^-s from a to b, stable near s = 1 */
static double power_integral(double a, double b, double s) {
  double L = log(b / a), t = (1.0 - s) * L;
  double f = fabs(t) < 1e-8 ? 1.0 + t / 2.0 : expm1(t) / t;
  return pow(a, 1.0 - s) * L * f;
}

double zipf_H(double n, double s) {
  if (n <= 0) return 0;
  double m = floor(n), frac = n - m, h = 0;
  if (m <= ZIPF_EXACT) {
    for (double i = 1; i <= m; i++)
      h += pow(i, -s);
  } else {
    /* sum_{i<a} directly; sum_{a..m} by Euler-Maclaurin to the sixth derivative term */
    const double a = ZIPF_EXACT;
    for (double i = 1; i < a; i++)
      h += pow(i, -s);
    double d1 = -s, d3 = -s * (s + 1) * (s + 2), d5 = d3 * (s + 3) * (s + 4);
    h += power_integral(a, m, s) + (pow(a, -s) + pow(m, -s)) / 2.0 +
         d1 * (pow(m, -s - 1) - pow(a, -s - 1)) / 12.0 - d3 * (pow(m, -s - 3) - pow(a, -s - 3)) / 720.0 +
         d5 * (pow(m, -s - 5) - pow(a, -s - 5)) / 30240.0;
  }
  return h + frac * pow(m + 1, -s);
}

/* Rows of a table whose density (accesses per byte) is at least exp(lam): row j has density
 * exp(lrate) j^-s (the skewed lookups) + u (the uniform ones, the same on every row), decreasing in j. */
static double rows_above(double lrate, double u, double R, double s, double lam) {
  double th = exp(lam);
  if (u >= th) return R;                       /* every row is at least u */
  if (!(lrate > -INFINITY)) return 0;           /* uniform only, below the threshold */
  if (s <= 0) return exp(lrate) + u >= th ? R : 0; /* uniform: every row has the density of the first */
  double lx = (lrate - log(th - u)) / s;
  if (lx < 0) return 0;
  if (lx > log(R)) return R;
  return fmin(R, floor(exp(lx) * (1 + 1e-15)));
}

double emb_cache_fill(size_t n, const double *rows, const double *row_bytes, const double *rate,
                      const double *urate, const double *zipf, double cap_bytes, double *hit, double *scratch) {
  double total_rate = 0, all = 0;
  for (size_t i = 0; i < n; i++) {
    double r = rate[i] + (urate ? urate[i] : 0);
    if (hit) hit[i] = 0;
    if (r > 0) total_rate += r, all += rows[i] * row_bytes[i];
  }
  if (total_rate <= 0 || cap_bytes <= 0) return 0;
  if (all <= cap_bytes) {
    if (hit)
      for (size_t i = 0; i < n; i++)
        hit[i] = rate[i] + (urate ? urate[i] : 0) > 0 ? 1 : 0;
    return 1;
  }
  /* per table: log of the first row's skewed accesses per byte (lr), uniform accesses per byte (u) */
  double *lr = scratch, *u = scratch + n;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double ur = urate ? urate[i] : 0;
    u[i] = ur > 0 ? ur / (rows[i] * row_bytes[i]) : 0;
    if (rate[i] + ur <= 0) {
      lr[i] = -INFINITY;
      continue;
    }
    lr[i] = rate[i] > 0 ? log(rate[i]) - log(row_bytes[i] * zipf_H(rows[i], zipf[i])) : -INFINITY;
    double first = (rate[i] > 0 ? exp(lr[i]) : 0) + u[i];
    double last = (rate[i] > 0 ? exp(lr[i] - zipf[i] * log(rows[i])) : 0) + u[i];
    hi = fmax(hi, log(first));
    lo = fmin(lo, log(last));
  }
  lo -= 1, hi += 1; /* bytes(lo) = all > cap >= bytes(hi) = 0 */
  for (int it = 0; it < 200 && hi - lo > 1e-12 * fmax(1, fabs(hi)); it++) {
    double mid = 0.5 * (lo + hi), b = 0;
    for (size_t i = 0; i < n; i++)
      if (lr[i] > -INFINITY || u[i] > 0) b += rows_above(lr[i], u[i], rows[i], zipf[i], mid) * row_bytes[i];
    if (b > cap_bytes)
      lo = mid;
    else
      hi = mid;
  }
  /* The rows between the two thresholds have (nearly) equal density: take a share of them. */
  double b_lo = 0, b_hi = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(lr[i] > -INFINITY || u[i] > 0)) continue;
    b_lo += rows_above(lr[i], u[i], rows[i], zipf[i], lo) * row_bytes[i];
    b_hi += rows_above(lr[i], u[i], rows[i], zipf[i], hi) * row_bytes[i];
  }
  double theta = b_lo > b_hi ? (cap_bytes - b_hi) / (b_lo - b_hi) : 0, served = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(lr[i] > -INFINITY || u[i] > 0)) continue;
    double khi = rows_above(lr[i], u[i], rows[i], zipf[i], hi), klo = rows_above(lr[i], u[i], rows[i], zipf[i], lo);
    double k = khi + theta * (klo - khi), ur = urate ? urate[i] : 0;
    double sv = (rate[i] > 0 ? rate[i] * zipf_H(k, zipf[i]) / zipf_H(rows[i], zipf[i]) : 0) + ur * k / rows[i];
    if (hit) hit[i] = sv / (rate[i] + ur);
    served += sv;
  }
  return served / total_rate;
}

static double units(double bytes) {
  return ceil(bytes / SL_DRAM_ACCESS_BYTES) * SL_DRAM_ACCESS_BYTES;
}

double dram_random_bw(const sl_costctx *ctx) {
  const sl_chip *c = ctx->chip;
  return chip_dram(c)->bw_GBps * 1e9 * (c->eff_random > 0 ? c->eff_random : c->eff_stream);
}

/* Bytes per index read (int64 indices, TorchRec's KeyedJaggedTensor) and per index sorted in the
 * backward (keys and positions through a radix sort, read and written). */
enum { INDEX_BYTES = 8, SORT_BYTES_PER_INDEX = 32 };
/* Vector FLOP per looked-up value: pooling adds 1; the backward accumulates the gradient (1) and
 * applies row-wise Adagrad (square, sum, scale and update: 4). */
enum { POOL_FLOPS = 1, BWD_FLOPS = 5 };

void emb_time_add(const sl_costctx *ctx, const sl_emb_access *e, sl_emb_time *t) {
  const sl_chip *c = ctx->chip;
  const sl_mem_level *l2 = chip_l2(c);
  double seq_bw = chip_dram(c)->bw_GBps * 1e9 * c->eff_stream, rnd_bw = dram_random_bw(ctx);
  double sram_bw = l2 ? l2->bw_GBps * 1e9 * c->eff_sram : 0;
  double host_bw = link_bw(&c->host);
  double L = e->lookups, h = sram_bw > 0 ? e->hit : 0, miss = L * (1 - h), hits = L * h;
  double per_miss, per_hit, seq, flops;
  if (!e->backward) {
    per_miss = units(e->row_bytes);
    per_hit = e->row_bytes;
    seq = e->out_bytes + L * INDEX_BYTES;
    flops = POOL_FLOPS * L * e->dim;
  } else { /* read and write the row and its optimizer state */
    per_miss = 2.0 * units(e->row_bytes) + (e->state_bytes > 0 ? 2.0 * units(e->state_bytes) : 0);
    per_hit = 2.0 * (e->row_bytes + e->state_bytes);
    seq = e->out_bytes + L * SORT_BYTES_PER_INDEX;
    flops = BWD_FLOPS * L * e->dim;
  }
  if (e->host && host_bw > 0) {
    t->host_bytes += miss * per_miss;
    t->host_s += miss * per_miss / host_bw;
  } else {
    t->dram_bytes += miss * per_miss;
    t->dram_s += miss * per_miss / rnd_bw;
  }
  t->dram_bytes += seq;
  t->dram_s += seq / seq_bw;
  if (hits > 0) {
    t->sram_bytes += hits * per_hit;
    t->sram_s += hits * per_hit / sram_bw;
  }
  t->flops += flops;
  t->vec_s += flops / (chip_vec_flops(c, SL_FP32) * c->eff_vector);
}

double emb_time_body(const sl_emb_time *t) {
  return fmax(fmax(t->dram_s, t->sram_s), fmax(t->host_s, t->vec_s));
}

sl_bound emb_time_bound(const sl_emb_time *t) {
  double b = emb_time_body(t);
  if (b == t->vec_s && b > 0) return SL_BOUND_COMPUTE;
  if (b == t->host_s && b > 0) return SL_BOUND_NETWORK;
  return SL_BOUND_MEMORY;
}

sl_cost cost_embedding(const sl_costctx *ctx, const sl_emb_access *e) {
  sl_emb_time t = {0};
  emb_time_add(ctx, e, &t);
  sl_cost r = {0};
  double body = emb_time_body(&t);
  r.time_s = body + ctx->chip->kernel_latency_s;
  r.bound = ctx->chip->kernel_latency_s > body ? SL_BOUND_LATENCY : emb_time_bound(&t);
  r.flops = t.flops;
  r.dram_bytes = t.dram_bytes + t.host_bytes;
  r.l2_bytes = t.sram_bytes;
  return r;
}
