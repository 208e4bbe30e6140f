/* shard.c — where a DLRM's embedding tables live: an automatic sharding planner in the manner of
 * TorchRec's (greedy proposer over table-wise, row-wise, column-wise and data-parallel options,
 * with a cost estimate per option and a memory limit per chip).
 *
 * Options for a table of R rows, dim d, looked up L times over the pass's samples (n chips):
 *   table-wise   the whole table on one chip; it serves all L lookups and sends the pooled rows of
 *                every sample to their chips (all-to-all)
 *   column-wise  p column slices (d/p >= 32) on p chips, each a table-wise shard of width d/p
 *   row-wise     R/n rows on every chip; each serves L/n lookups and reduce-scatters partial sums
 *                for every sample (huge tables that fit on no single chip end up here)
 *   data         a replica on every chip, which serves its own samples; training all-reduces the
 *                table's whole gradient (small tables only: at most dp_max_bytes)
 *   table-row    R/k rows on each of the k chips of one scale-up domain (only with more than one
 *                domain); each serves L/k lookups, the domain reduce-scatters the partial sums over
 *                its own links and each chip sends 1/k of the pooled rows to their chips (TorchRec's
 *                table-row-wise sharding; HugeCTR's hierarchical plans place tables on a node's GPUs)
 *   grid         p column slices (d/p >= 32) on p different scale-up domains, each slice
 *                table-row-wise over its domain's k chips: each chip serves L/k lookups of rows d/p
 *                wide, reduce-scatters the slice's partial sums in its domain and sends 1/k of them
 *                (TorchRec's GRID_SHARD, a sharding type of its CUDA sharders: column-wise across
 *                nodes, row-wise within one); a hot table's lookups spread over p domains, not one
 *   host         table- or row-wise with the rows in host memory behind links.host (the option of
 *                last resort, taken only when no device option fits)
 * Tables go in decreasing order of their table-wise cost; each takes the option after which the
 * most loaded chip is least loaded (ties within 1%: the least work over all chips, then the least
 * memory), on the least loaded chips with room.
 * A chip never gets more than dev_budget (host_budget) bytes: an option that would exceed it is not
 * considered, and a table that no option fits makes the plan infeasible with the reason. */
#include "plan/plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const double GIB = 1073741824.0; /* text figures of memory are in GiB */

static double units(double b) {
  return ceil(b / SL_DRAM_ACCESS_BYTES) * SL_DRAM_ACCESS_BYTES;
}

static double state_bytes(const sl_shard_in *in, double dim) {
  return in->train ? in->state_row + dim * in->state_value : 0;
}

double shard_bytes_per_row(const sl_shard_in *in, double dim) {
  return dim * in->wb + state_bytes(in, dim);
}

double shard_lookup_bytes(const sl_shard_in *in, double dim) {
  double row = dim * in->wb, st = state_bytes(in, dim);
  return units(row) + (in->train ? 2.0 * units(row) + (st > 0 ? 2.0 * units(st) : 0) : 0);
}

typedef struct opt {
  sl_shard_kind kind;
  int host, parts;
  int chips[64];         /* table-/column-wise: the chips chosen; table-row-wise and grid: the first
                            chip of each part's domain */
  double cost, dev, hst; /* per chip that holds a part: seconds per pass, device bytes, host bytes */
  double makespan, mem;  /* after placing it */
  double total;          /* seconds it adds over all chips */
} opt;

/* Load of chip c's scale-up domain: what its chips' shards cost per pass, and `part` for each of
 * the got parts already chosen in it. */
static double domain_load(const sl_shard_in *in, const sl_shard_plan *p, int c, const int *chosen, int got,
                          double part) {
  int k = in->node_chips;
  if (k <= 1) return 0;
  double l = 0;
  for (int j = c / k * k; j < in->chips && j < (c / k + 1) * k; j++)
    l += p->load_s[j];
  for (int q = 0; q < got; q++)
    if (chosen[q] / k == c / k) l += part;
  return l;
}

static int pick_chips(const sl_shard_in *in, const sl_shard_plan *p, int k, double dev, double hst,
                      double part, int *out) {
  /* the k least-loaded chips with room for a part (ties: the least loaded scale-up domain, whose
   * NICs carry what its chips send to other domains; then the most free device memory) */
  int got = 0;
  for (int j = 0; j < k; j++) {
    int best = -1;
    double best_dom = 0;
    for (int c = 0; c < in->chips; c++) {
      int used = 0;
      for (int q = 0; q < got; q++)
        used |= out[q] == c;
      if (used || p->dev_bytes[c] + dev > in->dev_budget || p->host_bytes[c] + hst > in->host_budget)
        continue;
      double dom = domain_load(in, p, c, out, got, part);
      if (best < 0 || p->load_s[c] < p->load_s[best] ||
          (p->load_s[c] == p->load_s[best] &&
           (dom < best_dom || (dom == best_dom && p->dev_bytes[c] < p->dev_bytes[best]))))
        best = c, best_dom = dom;
    }
    if (best < 0) return 0;
    out[got++] = best;
  }
  return 1;
}

static double max_of(const double *v, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    m = fmax(m, v[i]);
  return m;
}

/* Evaluates one option for table t; returns 0 when it does not fit. */
static int try_option(const sl_shard_in *in, const sl_shard_plan *p, const sl_emb_table *t,
                      sl_shard_kind kind, int parts, int host, opt *o) {
  int n = in->chips;
  double L = in->pass_samples * t->pooling, out = in->pass_samples * t->dim * in->ab;
  double comm = (in->train ? 2.0 : 1.0) * in->comm_s_per_byte; /* forward and backward */
  double spb = host ? in->host_s_per_byte : in->dev_s_per_byte;
  if (host && (in->host_s_per_byte <= 0 || in->host_budget <= 0)) return 0;
  memset(o, 0, sizeof *o);
  o->kind = kind, o->host = host, o->parts = parts;
  double rows = t->rows, dim = t->dim, share = 1, send = out;
  switch (kind) {
  case SL_SHARD_COLUMN:
    dim = t->dim / parts, send = out / parts;
    break;
  case SL_SHARD_ROW:
    rows = ceil(t->rows / n), share = 1.0 / n;
    break;
  case SL_SHARD_DATA:
    share = 1.0 / n, send = 0;
    break;
  case SL_SHARD_TABLE_ROW:
  case SL_SHARD_GRID: /* one slice of `parts` (table-row-wise: the whole table) on each of `parts` domains */
    if (host || in->node_chips <= 1 || n <= in->node_chips || parts > n / in->node_chips) return 0;
    dim = t->dim / parts, out /= parts;
    rows = ceil(t->rows / in->node_chips), share = 1.0 / in->node_chips, send = out / in->node_chips;
    break;
  default:
    break;
  }
  double bytes = rows * shard_bytes_per_row(in, dim);
  if (kind == SL_SHARD_DATA) {
    if (bytes > in->dp_max_bytes) return 0;
    if (in->train) bytes += rows * dim * 4.0; /* the dense fp32 gradient of the replica */
  }
  int domains = kind == SL_SHARD_TABLE_ROW || kind == SL_SHARD_GRID;
  o->dev = (host ? 0 : bytes) + (domains ? out : send); /* the pooled (partial) rows */
  o->hst = host ? bytes : 0;
  o->cost = L * share * shard_lookup_bytes(in, dim) * spb + send * comm;
  if (kind == SL_SHARD_DATA && in->train) o->cost += t->rows * t->dim * 4.0 * in->ar_s_per_byte;
  if (domains) /* the domain's reduce-scatter (training: and its all-gather) */
    o->cost += out * (in->train ? 2.0 : 1.0) * in->dom_rs_s_per_byte;
  double cur = max_of(p->load_s, n);
  if (domains) { /* each part: the whole domain whose busiest chip is least loaded, with room, one
                    domain a part */
    int k = in->node_chips;
    o->makespan = cur, o->mem = 0;
    for (int q = 0; q < parts; q++) {
      int best = -1;
      double best_load = 0, best_mem = 0;
      for (int j = 0; (j + 1) * k <= n; j++) {
        int taken = 0;
        for (int r = 0; r < q; r++)
          taken |= o->chips[r] == j * k;
        if (taken) continue;
        double load = 0, mem = 0;
        int room = 1;
        for (int c = j * k; c < (j + 1) * k; c++) {
          room &= p->dev_bytes[c] + o->dev <= in->dev_budget;
          load = fmax(load, p->load_s[c]), mem = fmax(mem, p->dev_bytes[c]);
        }
        if (room && (best < 0 || load < best_load || (load == best_load && mem < best_mem)))
          best = j, best_load = load, best_mem = mem;
      }
      if (best < 0) return 0;
      o->chips[q] = best * k;
      o->makespan = fmax(o->makespan, best_load + o->cost);
      o->mem = fmax(o->mem, best_mem + o->dev);
    }
    o->total = o->cost * k * parts;
    return 1;
  }
  if (kind == SL_SHARD_ROW || kind == SL_SHARD_DATA) { /* every chip */
    for (int c = 0; c < n; c++)
      if (p->dev_bytes[c] + o->dev > in->dev_budget || p->host_bytes[c] + o->hst > in->host_budget) return 0;
    o->makespan = cur + o->cost;
    o->mem = max_of(p->dev_bytes, n) + o->dev;
    o->total = o->cost * n;
    return 1;
  }
  if (!pick_chips(in, p, parts, o->dev, o->hst, o->cost, o->chips)) return 0;
  o->makespan = cur;
  o->mem = 0;
  o->total = o->cost * parts;
  for (int q = 0; q < parts; q++) {
    o->makespan = fmax(o->makespan, p->load_s[o->chips[q]] + o->cost);
    o->mem = fmax(o->mem, p->dev_bytes[o->chips[q]] + o->dev);
  }
  return 1;
}

/* The most loaded chip least loaded (within 1%, so that a table is not split over idle chips only
 * to save a sliver); then the least work over all chips; then the least memory on the fullest chip. */
static int better(const opt *a, const opt *b) {
  const double tol = 0.01;
  if (a->makespan < b->makespan * (1 - tol)) return 1;
  if (a->makespan > b->makespan * (1 + tol)) return 0;
  if (a->total < b->total * (1 - 1e-9)) return 1;
  if (a->total > b->total * (1 + 1e-9)) return 0;
  return a->mem < b->mem;
}

static void place(const sl_shard_in *in, sl_shard_plan *p, int ti, const sl_emb_table *t, const opt *o) {
  int n = in->chips;
  if (o->kind == SL_SHARD_ROW || o->kind == SL_SHARD_DATA) {
    for (int c = 0; c < n; c++)
      p->load_s[c] += o->cost, p->dev_bytes[c] += o->dev, p->host_bytes[c] += o->hst;
    p->shards[p->n++] = (sl_emb_shard){
        ti, o->kind, -1, 0, o->host, o->kind == SL_SHARD_ROW ? ceil(t->rows / n) : t->rows, t->dim, 1.0 / n};
    return;
  }
  if (o->kind == SL_SHARD_TABLE_ROW || o->kind == SL_SHARD_GRID) {
    int k = in->node_chips;
    for (int q = 0; q < o->parts; q++) {
      for (int c = o->chips[q]; c < o->chips[q] + k; c++)
        p->load_s[c] += o->cost, p->dev_bytes[c] += o->dev;
      p->shards[p->n++] =
          (sl_emb_shard){ti, o->kind, o->chips[q], k, 0, ceil(t->rows / k), t->dim / o->parts, 1.0 / k};
    }
    return;
  }
  for (int q = 0; q < o->parts; q++) {
    int c = o->chips[q];
    p->load_s[c] += o->cost, p->dev_bytes[c] += o->dev, p->host_bytes[c] += o->hst;
    p->shards[p->n++] = (sl_emb_shard){ti, o->kind, c, 0, o->host, t->rows, t->dim / o->parts, 1};
  }
}

/* A table's name for the planner's reasons: its own, else its index. */
static void table_name(const sl_emb_table *t, int ti, char *buf, size_t size) {
  if (t->name)
    snprintf(buf, size, "%s", t->name);
  else
    snprintf(buf, size, "t%d", ti);
}

sl_status shard_plan(arena *a, const sl_shard_in *in, sl_shard_plan *out) {
  const sl_dlrm *d = in->d;
  int n = in->chips;
  enum { MAX_PARTS = 8 };
  memset(out, 0, sizeof *out);
  out->shards = ar_alloc(a, (d->n_tables * MAX_PARTS + 1) * sizeof *out->shards);
  out->dev_bytes = ar_alloc(a, (size_t)n * sizeof(double));
  out->host_bytes = ar_alloc(a, (size_t)n * sizeof(double));
  out->load_s = ar_alloc(a, (size_t)n * sizeof(double));
  size_t *order = ar_alloc(a, d->n_tables * sizeof *order);
  double *key = ar_alloc(a, d->n_tables * sizeof *key);
  if (!out->shards || !out->dev_bytes || !out->host_bytes || !out->load_s || !order || !key)
    return SL_ERR_INTERNAL;
  out->feasible = 1;
  if (in->dev_budget < 0) {
    out->feasible = 0;
    snprintf(out->reason, sizeof out->reason, "no device memory is left for embedding tables");
    return SL_OK;
  }
  /* decreasing table-wise cost (ties: the bigger table first); insertion sort keeps it stable */
  for (size_t i = 0; i < d->n_tables; i++) {
    const sl_emb_table *t = &d->tables[i];
    key[i] = t->pooling * shard_lookup_bytes(in, t->dim) + 1e-30 * t->rows * t->dim;
    size_t j = i;
    for (; j > 0 && key[order[j - 1]] < key[i]; j--)
      order[j] = order[j - 1];
    order[j] = i;
  }
  for (size_t oi = 0; oi < d->n_tables; oi++) {
    int ti = (int)order[oi];
    const sl_emb_table *t = &d->tables[ti];
    sl_shard_kind only = t->sharding;
    if (n == 1 && only != SL_SHARD_AUTO) only = SL_SHARD_TABLE; /* one chip: every kind is the whole table */
    if ((only == SL_SHARD_TABLE_ROW || only == SL_SHARD_GRID) && (in->node_chips <= 1 || n <= in->node_chips))
      only = SL_SHARD_ROW; /* one domain: its rows over all chips */
    if (only == SL_SHARD_GRID && (fmod(t->dim, 2) != 0 || t->dim / 2 < 32))
      only = SL_SHARD_TABLE_ROW; /* too narrow to slice: one slice, the whole table on one domain */
    char nm[64];                 /* the table's name in a reason, made only for one */
    if (only == SL_SHARD_GRID && !in->grid) {
      table_name(t, ti, nm, sizeof nm);
      out->feasible = 0;
      snprintf(
          out->reason, sizeof out->reason,
          "embedding table %s asks for grid sharding, which the stack does not offer (grid_sharding: false)",
          nm);
      return SL_OK;
    }
    opt best, o;
    memset(&best, 0, sizeof best);
    int have = 0;
    for (int host = 0; host <= 1 && !have; host++) { /* host memory only when no device option fits */
      if ((only == SL_SHARD_AUTO || only == SL_SHARD_TABLE) &&
          try_option(in, out, t, SL_SHARD_TABLE, 1, host, &o))
        if (!have || better(&o, &best)) best = o, have = 1;
      if (n > 1 && (only == SL_SHARD_AUTO || only == SL_SHARD_ROW) &&
          try_option(in, out, t, SL_SHARD_ROW, 1, host, &o))
        if (!have || better(&o, &best)) best = o, have = 1;
      if (host) continue;
      for (int parts = 2; n > 1 && parts <= MAX_PARTS && parts <= n; parts *= 2) {
        if ((only != SL_SHARD_AUTO && only != SL_SHARD_COLUMN) || fmod(t->dim, parts) != 0 ||
            t->dim / parts < 32)
          continue;
        if (try_option(in, out, t, SL_SHARD_COLUMN, parts, 0, &o) && (!have || better(&o, &best)))
          best = o, have = 1;
      }
      if (n > 1 && (only == SL_SHARD_AUTO || only == SL_SHARD_DATA) &&
          try_option(in, out, t, SL_SHARD_DATA, 1, 0, &o))
        if (!have || better(&o, &best)) best = o, have = 1;
      if ((only == SL_SHARD_AUTO || only == SL_SHARD_TABLE_ROW) &&
          try_option(in, out, t, SL_SHARD_TABLE_ROW, 1, 0, &o))
        if (!have || better(&o, &best)) best = o, have = 1;
      for (int parts = 2; in->grid && parts <= MAX_PARTS; parts *= 2) {
        if ((only != SL_SHARD_AUTO && only != SL_SHARD_GRID) || fmod(t->dim, parts) != 0 ||
            t->dim / parts < 32)
          continue;
        if (try_option(in, out, t, SL_SHARD_GRID, parts, 0, &o) && (!have || better(&o, &best)))
          best = o, have = 1;
      }
    }
    if (!have) {
      double bytes = t->rows * shard_bytes_per_row(in, t->dim);
      table_name(t, ti, nm, sizeof nm);
      out->feasible = 0;
      snprintf(out->reason, sizeof out->reason,
               "embedding table %s (%.3g GiB%s) fits nowhere: %.3g GiB of device memory per chip is left for "
               "embeddings (%.3g GiB already placed on the fullest chip) and %.3g GiB of host memory",
               nm, bytes / GIB, only != SL_SHARD_AUTO ? ", sharding constrained" : "", in->dev_budget / GIB,
               max_of(out->dev_bytes, n) / GIB, in->host_budget / GIB);
      return SL_OK;
    }
    place(in, out, ti, t, &best);
  }
  return SL_OK;
}
