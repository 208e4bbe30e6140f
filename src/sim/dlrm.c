/* dlrm.c — one step of a DLRM ranking model on one chip or many: tasks `train` (one optimizer step
 * over global_batch samples) and `infer` (one forward pass over batch samples).
 *
 * The dense part (bottom MLP, interaction, top MLP) is data-parallel: every chip runs it on its own
 * micro_batch samples.  The embedding tables are sharded by plan/shard.c; each chip then runs one
 * table-batched embedding kernel (FBGEMM TBE) over the shards it holds, for the samples of the
 * whole pass (table- and column-wise), a 1/n share of their lookups (row-wise) or its own samples
 * (data-parallel), with the share of lookups its SRAM serves from the hottest rows
 * (cost/embedding.c).  A pass (TorchRec's training step without pipelining) is
 *   sparse-input all-to-all, embedding forward, pooled all-to-all (reduce-scatter for row-wise),
 *   dense forward and backward, gradient all-to-all (all-gather), embedding backward with the
 *   optimizer fused into it;
 * all-to-alls synchronise the chips, so the slowest chip's embedding kernels set the pace.  After
 * the step's last pass the dense gradients (and those of replicated tables) are all-reduced,
 * overlapping the backward where the stack overlaps data-parallel communication, and the dense
 * optimizer runs.  Inference is the forward half of one pass. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Share of the dense-gradient all-reduce that cannot hide behind the backward: at least its last
 * bucket (one layer's worth). */
static double exposed_comm(double t_comm, double t_overlap, double layers, int overlap) {
  if (!overlap) return t_comm;
  return fmax(t_comm / fmax(1, layers), t_comm - t_overlap);
}

typedef struct dl {
  const sl_scenario *sc;
  const sl_dlrm *d;
  int n, train;
  double G, mb, m, pass; /* global batch, samples per chip per pass, passes per step, samples per pass */
  double wb, ab;
  sl_costctx dctx, ectx; /* the dense part (SRAM-resident when it fits), the embeddings (DRAM) */
  double cache_bytes;    /* shared SRAM left to hold hot embedding rows */
  sl_shard_in in;
  sl_shard_plan plan;
} dl;

static double launched(const sl_costctx *ctx, double t) {
  return cost_launched(ctx->stack, t);
}

static int on_chip(const sl_emb_shard *s, int c) {
  return s->chip < 0 || (c >= s->chip && c < s->chip + (s->span > 1 ? s->span : 1));
}

/* The rows a shard's kernel reads per pass on its chip, and the pooled bytes it writes. */
static double shard_lookups(const dl *z, const sl_emb_shard *s) {
  return z->pass * z->d->tables[s->table].pooling * s->lookup_share;
}
static double shard_out_bytes(const dl *z, const sl_emb_shard *s) {
  double samples = s->kind == SL_SHARD_DATA ? z->mb : z->pass;
  return samples * s->dim * z->ab;
}

/* Per-shard detail of one chip's embedding kernels, for the breakdown. */
typedef struct tbe_row {
  int shard;
  double hit, fwd_body, bwd_body, fwd_flops, bwd_flops, fwd_bytes, bwd_bytes;
  sl_bound fwd_bound, bwd_bound;
} tbe_row;

/* Forward and backward time of chip c's table-batched embedding kernels for one pass (0 when it
 * holds no shard); rows (may be NULL) gets one entry per shard on the chip. */
static sl_status tbe_chip(dl *z, arena *a, int c, tbe_row **rows, size_t *n_rows, double *fwd, double *bwd,
                          double *flops) {
  const sl_shard_plan *p = &z->plan;
  size_t k = 0;
  for (size_t i = 0; i < p->n; i++)
    k += on_chip(&p->shards[i], c);
  *fwd = *bwd = *flops = 0;
  if (n_rows) *n_rows = k;
  if (!k) return SL_OK;
  double *R = ar_alloc(a, 8 * k * sizeof *R);
  tbe_row *tr = ar_alloc(a, k * sizeof *tr);
  if (!R || !tr) return SL_ERR_INTERNAL;
  double *cb = R + k, *rate = R + 2 * k, *zf = R + 3 * k, *hit = R + 4 * k, *ur = R + 5 * k,
         *fill = R + 6 * k;
  size_t j = 0;
  for (size_t i = 0; i < p->n; i++) {
    const sl_emb_shard *s = &p->shards[i];
    if (!on_chip(s, c)) continue;
    const sl_emb_table *t = &z->d->tables[s->table];
    R[j] = s->rows;
    cb[j] = shard_bytes_per_row(&z->in, s->dim); /* a cached row keeps its optimizer state with it */
    double L = shard_lookups(z, s), sk = t->pooling > 0 ? 1 - t->uniform / t->pooling : 1;
    rate[j] = L * sk; /* the lookups that follow the skew; the rest are uniform over the rows */
    ur[j] = L * (1 - sk);
    zf[j] = t->zipf;
    tr[j].shard = (int)i;
    j++;
  }
  emb_cache_fill(k, R, cb, rate, ur, zf, z->cache_bytes, hit, fill);
  sl_emb_time tf = {0}, tb = {0};
  for (j = 0; j < k; j++) {
    const sl_emb_shard *s = &p->shards[tr[j].shard];
    double row = s->dim * z->wb, st = shard_bytes_per_row(&z->in, s->dim) - row;
    sl_emb_access e = {rate[j] + ur[j], row, s->dim, hit[j], s->host, shard_out_bytes(z, s), 0, 0};
    sl_emb_time one = {0};
    emb_time_add(&z->ectx, &e, &one);
    emb_time_add(&z->ectx, &e, &tf);
    tr[j].hit = hit[j];
    tr[j].fwd_body = emb_time_body(&one);
    tr[j].fwd_bound = emb_time_bound(&one);
    tr[j].fwd_flops = one.flops;
    tr[j].fwd_bytes = one.dram_bytes + one.host_bytes;
    if (z->train) {
      e.backward = 1, e.state_bytes = st;
      sl_emb_time ob = {0};
      emb_time_add(&z->ectx, &e, &ob);
      emb_time_add(&z->ectx, &e, &tb);
      tr[j].bwd_body = emb_time_body(&ob);
      tr[j].bwd_bound = emb_time_bound(&ob);
      tr[j].bwd_flops = ob.flops;
      tr[j].bwd_bytes = ob.dram_bytes + ob.host_bytes;
    }
  }
  double lat = z->sc->chip.kernel_latency_s;
  *fwd = launched(&z->ectx, emb_time_body(&tf) + lat);
  if (z->train) *bwd = launched(&z->ectx, emb_time_body(&tb) + lat);
  *flops = tf.flops + tb.flops;
  if (rows) *rows = tr;
  return SL_OK;
}

/* The outcome of one micro-batch size. */
typedef struct dres {
  int feasible;
  char reason[400];
  double step;
  sl_memory mem;
} dres;

/* r.name NULL: its label could not be allocated. */
static sl_status add_row(sl_result *res, size_t cap, sl_error *err, sl_row r) {
  if (!res) return SL_OK;
  if (!r.name) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (row names)");
  if (res->n_rows >= cap)
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "%zu rows planned, more added", cap);
  res->rows[res->n_rows++] = r;
  return SL_OK;
}

/* Per-row dynamic energy, parallel to res->rows: on the clock domain (MACs, on-chip
 * traffic) and off it (DRAM, links). */
typedef struct row_energy {
  double *core, *off;
} row_energy;

static void set_energy(row_energy *E, const sl_result *res, double core, double off) {
  if (!res || !E->core || res->n_rows == 0) return;
  E->core[res->n_rows - 1] = core;
  E->off[res->n_rows - 1] = off;
}

static double coll_time(const dl *z, sl_coll type, double S) {
  if (z->n <= 1 || S <= 0) return 0;
  sl_op op;
  memset(&op, 0, sizeof op);
  op.kernel = SL_K_COLL;
  op.u.c.type = type;
  op.u.c.bytes = S;
  op.u.c.n = z->n;
  op.u.c.k = fmin(z->sc->node_chips, z->n);
  return cost_op(&z->dctx, &op).time_s;
}

/* ---- the embedding exchange ------------------------------------------------------------------
 * The all-to-alls and reduce-scatters of the sparse part move different amounts from different
 * chips (a chip that owns a whole table sends its pooled rows for every sample of the pass), and
 * the runtimes that train DLRMs at scale route them hierarchically: HugeCTR's embedding collection
 * (comm_strategy Hierarchical, NVIDIA's MLPerf DLRM-DCNv2 on several nodes) and TorchRec's
 * table-row-wise sharding first exchange inside the scale-up domain, so that what leaves a domain
 * goes out through all k of its NICs, not through the owner's alone.  Every chip posts its sends
 * to all peers at once (NCCL grouped send/recv), so a phase costs one link latency, not one per
 * peer.  Chips c = j*k .. j*k+k-1 form domain j (the planner's order). */

/* All-to-all in which chip c sends send[c] bytes in all, evenly to every chip (its own share
 * stays): the faster of a flat exchange (every chip's cross-domain share through its own NIC) and
 * the two-phase hierarchical one (within the domain to the chip of the right local rank, then
 * between domains on all k NICs). */
double dlrm_a2a_time(const sl_net *net, const double *send, int n, int k) {
  if (n <= 1) return 0;
  if (k < 1) k = 1;
  if (k > n) k = n;
  int m = (n + k - 1) / k;
  double total = 0, mx = 0;
  for (int c = 0; c < n; c++)
    total += send[c], mx = fmax(mx, send[c]);
  if (total <= 0) return 0;
  double recv = total / n; /* every chip receives its share of every sender's data */
  double up = net->up_bw * net_up_share(net, k);
  if (m == 1) return fmax(mx, recv) * (n - 1.0) / n / up + net->up_lat;
  double flat = 0, p1 = 0, p2 = 0;
  for (int c = 0; c < n; c++) {
    double in_dom = fmax(send[c], recv) * (k - 1.0) / n, out_dom = fmax(send[c], recv) * (n - (double)k) / n;
    flat = fmax(flat, fmax(in_dom / up, out_dom / net->out_bw));
    p1 = fmax(p1, fmax(send[c], recv) * (k - 1.0) / k / up);
  }
  for (int j = 0; j < m; j++) {
    double node = 0;
    for (int c = j * k; c < n && c < (j + 1) * k; c++)
      node += send[c];
    double out = node * (m - 1.0) / m, in = (total - node) / m; /* what leaves and enters the domain */
    p2 = fmax(p2, fmax(out, in) / k / net->out_bw);
  }
  flat += net->out_lat;
  double hier = p1 + net->up_lat + p2 + net->out_lat;
  return fmin(flat, hier);
}

/* Reduce-scatter (or its mirror, all-gather) of S bytes per chip over n chips, k per domain: the
 * faster of one ring over all chips (bandwidth min(scale-up, k x scale-out), one step latency per
 * hop, m of its n hops crossing domains) and the hierarchical form (a ring inside the domain, then
 * one across the m domains on S/k per chip). */
double dlrm_rs_time(const sl_net *net, double S, int n, int k) {
  if (n <= 1 || S <= 0) return 0;
  if (k < 1) k = 1;
  if (k > n) k = n;
  int m = (n + k - 1) / k;
  double up = net->up_bw * net_up_share(net, k);
  if (m == 1) return (n - 1.0) / n * S / up + (n - 1.0) * net->up_lat;
  double B = fmin(up, k * net->out_bw);
  double ring = (n - 1.0) / n * S / B + (n - m) * net->up_lat + m * net->out_lat;
  double hier = (k - 1.0) / k * S / up + (k - 1.0) * net->up_lat + (m - 1.0) / m * S / k / net->out_bw +
                (m - 1.0) * net->out_lat;
  return fmin(ring, hier);
}

/* Seconds per byte of a collective's bandwidth term over all chips (latency amortised). */
static double coll_s_per_byte(const dl *z, sl_coll type) {
  if (z->n <= 1) return 0;
  const double S = 1e10;
  return cost_collective(&z->dctx.net, type, S, z->n, fmin(z->sc->node_chips, z->n)).time_s / S;
}

/* ---- the host's issue time ------------------------------------------------------------------------
 * A framework driven op by op from the host (eager PyTorch under TorchRec) spends kernel_overhead_s
 * of host time on every op it issues.  Where the host waits on the device once a training step
 * (TorchRec's train pipeline of 2022 reads the splits of the next batch's sparse all-to-all back to
 * the host before it can send the values), it cannot run ahead and the step is the longer of the
 * device's time and the host's issue time.  The ops of one pass: the dense graph's kernels, the embedding
 * kernels (one table-batched kernel per sharding kind on the chip, forward and backward, or one per
 * table shard), one per collective of the exchange, and host_ops_per_feature for every sparse
 * feature (the framework's own per-feature work on the sparse input and the pooled output); after
 * the step's last pass the optimizer (one multi-tensor launch, or one per parameter tensor, and the
 * same again to zero the gradients) and the dense gradients' all-reduce. */
double dlrm_host_ops(const sl_stack *st, const sl_dlrm *d, int train, double passes, double dense_ops,
                     double emb_shards, double emb_kinds, double collectives) {
  /* train 0: one forward pass (no optimizer) */
  double emb = (st->embedding_fused ? emb_kinds : emb_shards) * (train ? 2 : 1);
  double pass = dense_ops + emb + collectives + st->host_ops_per_feature * (double)d->n_tables;
  if (!train) return pass;
  double tensors = 2.0 * (double)(d->n_bottom + d->n_top);
  if (d->inter == SL_INTER_DCNV2) tensors += (d->low_rank > 0 ? 3.0 : 2.0) * d->cross_layers;
  double optim = 2.0 * (st->optimizer_foreach ? 1.0 : tensors);
  return passes * pass + optim + 1.0; /* + the dense gradients' all-reduce */
}

/* Memory of the fullest chip: dense part, activations, and the shards on it. */
static void chip_memory(const dl *z, const sl_memory *base, sl_memory *out) {
  const sl_shard_plan *p = &z->plan;
  *out = *base;
  int worst = 0;
  for (int c = 1; c < z->n; c++)
    if (p->dev_bytes[c] > p->dev_bytes[worst]) worst = c;
  for (size_t i = 0; i < p->n; i++) {
    const sl_emb_shard *s = &p->shards[i];
    if (!on_chip(s, worst)) continue;
    double row = s->dim * z->wb, st = shard_bytes_per_row(&z->in, s->dim) - row;
    if (!s->host) out->weights_bytes += s->rows * row, out->optimizer_bytes += s->rows * st;
    if (s->kind == SL_SHARD_DATA && z->train) out->grads_bytes += s->rows * s->dim * 4.0;
    if (s->kind != SL_SHARD_DATA) out->activations_bytes += z->pass * s->dim * z->ab; /* send buffer */
  }
  out->per_chip_bytes = out->weights_bytes + out->grads_bytes + out->optimizer_bytes + out->activations_bytes;
  out->fits = out->per_chip_bytes <= out->capacity_bytes * (1 + 1e-12);
}

static const char *shard_label(arena *a, const dl *z, const sl_emb_shard *s, int bwd) {
  static const char *const kind[] = {"", "", ".row", ".col", ".data", ".trow", ".grid"};
  _Static_assert(SL_ARRAY_LEN(kind) == SL_SHARD_COUNT, "a label for every sharding kind");
  const sl_emb_table *t = &z->d->tables[s->table];
  char buf[96], nm[48];
  if (t->name)
    snprintf(nm, sizeof nm, "%s", t->name);
  else
    snprintf(nm, sizeof nm, "t%d", s->table);
  snprintf(buf, sizeof buf, "embedding.%s%s%s%s", nm, kind[s->kind], s->host ? ".host" : "",
           bwd ? ".bwd" : "");
  return ar_strdup(a, buf); /* NULL when out of memory: add_row reports it */
}

/* The samples of a step: train.global_batch, or with {max: N} the largest multiple of the chips up
 * to N (every chip takes the same share); infer.batch. */
static double dlrm_batch(const sl_scenario *sc) {
  if (sc->task != SL_TASK_TRAIN) return sc->batch;
  return sc->global_batch_max ? floor(sc->global_batch / sc->chips) * sc->chips : sc->global_batch;
}

/* The global batch of a training run's evaluation passes: eval.batch_scale times the training one,
 * a multiple of the chips. */
static double eval_global_batch(const sl_scenario *sc) {
  const sl_dlrm *d = &sc->model.dlrm;
  double n = sc->chips;
  return fmax(1, round(dlrm_batch(sc) * (d->eval_batch_scale > 0 ? d->eval_batch_scale : 1) / n)) * n;
}

/* Evaluates the scenario with mb samples per chip per pass.  With res, fills its rows and figures
 * (names and rows in res->a); scratch holds the rest. */
static sl_status evaluate(const sl_scenario *sc, double mb, double eval_s, const sl_shard_plan *fixed,
                          sl_shard_plan *plan_out, arena *scratch, sl_result *res, dres *out, sl_error *err) {
  dl z;
  memset(&z, 0, sizeof z);
  memset(out, 0, sizeof *out);
  const sl_dlrm *d = &sc->model.dlrm;
  z.sc = sc, z.d = d, z.n = (int)sc->chips, z.train = sc->task == SL_TASK_TRAIN;
  z.mb = mb, z.pass = z.n * mb;
  z.G = dlrm_batch(sc);
  z.m = z.train ? z.G / z.pass : 1;
  z.wb = sl_dtype_bytes[sc->w_dtype], z.ab = sl_dtype_bytes[sc->a_dtype];
  arena *keep = res ? &res->a : scratch;

  /* dense part: weights, gradients and optimizer state on every chip; a micro-batch's activations */
  double Pd = dlrm_dense_params(d);
  sl_memory base;
  memset(&base, 0, sizeof base);
  base.capacity_bytes = chip_dram_bytes(&sc->chip);
  base.weights_bytes = Pd * z.wb;
  if (z.train) base.grads_bytes = Pd * 4.0, base.optimizer_bytes = Pd * optim_state_bytes(sc->optimizer);
  base.activations_bytes = mb * dlrm_act_bytes_per_sample(d, z.ab, z.train);
  double dense_bytes = base.weights_bytes + base.grads_bytes + base.optimizer_bytes + base.activations_bytes;

  /* The dense part streams from the shared SRAM when its weights and activations fit in half of it
   * (as sim.c's residency rule); the rest of the SRAM caches hot embedding rows. */
  const sl_mem_level *l2 = chip_l2(&sc->chip);
  double l2cap = l2 ? l2->capacity_bytes : 0, ws = base.weights_bytes + base.activations_bytes;
  int resident = l2 && !sc->stack.cold_cache && ws <= 0.5 * l2cap;
  cost_ctx_init(&z.dctx, &sc->chip, &sc->stack, resident);
  net_init(&z.dctx.net, &sc->scale_up, &sc->scale_out, sc->node_chips);
  cost_ctx_init(&z.ectx, &sc->chip, &sc->stack, 0);
  z.ectx.net = z.dctx.net;
  z.cache_bytes = l2 ? l2cap - (resident ? ws : 0) : 0;

  /* the tables' placement */
  const sl_link *h = &sc->chip.host;
  sl_shard_in *in = &z.in;
  in->d = d, in->chips = z.n, in->pass_samples = z.pass, in->train = z.train, in->wb = z.wb, in->ab = z.ab;
  in->dev_budget = base.capacity_bytes - dense_bytes;
  in->host_budget = h->bw_GBps > 0 ? sc->host_memory_bytes : 0;
  in->dev_s_per_byte = 1.0 / dram_random_bw(&z.ectx);
  in->host_s_per_byte = h->bw_GBps > 0 ? 1.0 / link_bw(h) : 0;
  in->comm_s_per_byte = coll_s_per_byte(&z, SL_COLL_ALL_TO_ALL);
  in->ar_s_per_byte = coll_s_per_byte(&z, SL_COLL_ALL_REDUCE);
  in->dp_max_bytes = 0.01 * in->dev_budget;
  in->state_row = sc->optimizer == SL_OPTIM_ADAGRAD ? 4.0 : 0;
  in->state_value = sc->optimizer == SL_OPTIM_ADAMW || sc->optimizer == SL_OPTIM_LAMB ? 8.0 : 0;
  in->node_chips = (int)fmin(sc->node_chips, z.n);
  in->grid = sc->stack.grid_sharding;
  if (in->node_chips > 1 && z.n > in->node_chips)
    in->dom_rs_s_per_byte = dlrm_rs_time(&z.dctx.net, 1e10, in->node_chips, in->node_chips) / 1e10;
  if (fixed) /* the tables stay where training put them */
    z.plan = *fixed;
  else if (shard_plan(scratch, in, &z.plan))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (plan_out) *plan_out = z.plan;
  if (res)
    res->mem = base, res->mem.per_chip_bytes = dense_bytes,
    res->mem.fits = dense_bytes <= base.capacity_bytes;
  if (in->dev_budget < 0) {
    snprintf(
        out->reason, sizeof out->reason,
        "does not fit in memory: the dense part and the activations of %g samples need %.2f GiB per chip "
        "but %s has %.2f GiB",
        mb, dense_bytes / 1073741824.0, sc->chip.name, base.capacity_bytes / 1073741824.0);
    if (res) res->mem.fits = 0;
    return SL_OK;
  }
  if (!z.plan.feasible) {
    snprintf(out->reason, sizeof out->reason, "does not fit in memory: %s", z.plan.reason);
    if (res) { /* what the tables would take spread evenly over the chips */
      double emb = 0;
      for (size_t i = 0; i < d->n_tables; i++)
        emb += d->tables[i].rows * shard_bytes_per_row(in, d->tables[i].dim);
      res->mem.weights_bytes += emb / z.n;
      res->mem.per_chip_bytes += emb / z.n;
      res->mem.fits = 0;
    }
    return SL_OK;
  }
  chip_memory(&z, &base, &out->mem);

  /* the slowest chip's embedding kernels */
  int crit = 0;
  double f_crit = 0, b_crit = 0, fl_crit = 0;
  for (int c = 0; c < z.n; c++) {
    double f, b, fl;
    if (tbe_chip(&z, scratch, c, NULL, NULL, &f, &b, &fl))
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    if (c == 0 || f + b > f_crit + b_crit) crit = c, f_crit = f, b_crit = b, fl_crit = fl;
  }

  /* communication of one pass */
  double S_idx = 0, S_rw = 0, S_dp_grad = 0, n_sparse = 0;
  double *send = ar_alloc(scratch, (size_t)z.n * sizeof *send),
         *S_tr = ar_alloc(scratch, (size_t)z.n * sizeof *S_tr);
  if (!send || !S_tr) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  memset(S_tr, 0, (size_t)z.n * sizeof *S_tr);
  for (size_t i = 0; i < z.plan.n; i++) {
    const sl_emb_shard *s = &z.plan.shards[i];
    const sl_emb_table *t = &d->tables[s->table];
    if (s->kind == SL_SHARD_DATA) {
      S_dp_grad += t->rows * t->dim * 4.0;
      continue;
    }
    if (s->kind == SL_SHARD_ROW)
      S_rw += z.pass * s->dim * z.ab;
    else if (s->kind == SL_SHARD_TABLE_ROW || s->kind == SL_SHARD_GRID) /* partial sums reduce-scattered
                                                                           in the domain, then sent */
      for (int c = s->chip; c < s->chip + s->span; c++)
        S_tr[c] += z.pass * s->dim * z.ab, send[c] += z.pass * s->dim * z.ab / s->span;
    else
      send[s->chip] += z.pass * s->dim * z.ab;
  }
  for (size_t t = 0; t < d->n_tables; t++) {
    int dp = 0;
    for (size_t i = 0; i < z.plan.n; i++)
      dp |= z.plan.shards[i].table == (int)t && z.plan.shards[i].kind == SL_SHARD_DATA;
    if (!dp) S_idx += mb * (d->tables[t].pooling * 8.0 + 4.0), n_sparse++;
  }
  double S_a2a = 0;
  for (int c = 0; c < z.n; c++)
    S_a2a = fmax(S_a2a, send[c]);
  int kd = (int)fmin(sc->node_chips, z.n);
  double t_a2a = dlrm_a2a_time(&z.dctx.net, send, z.n, kd);
  for (int c = 0; c < z.n; c++)
    send[c] = S_idx; /* every chip sends the indices of its own samples */
  double t_idx = dlrm_a2a_time(&z.dctx.net, send, z.n, kd);
  double t_rs = dlrm_rs_time(&z.dctx.net, S_rw, z.n, kd), t_ag = t_rs;
  double S_trd = 0; /* table-row-wise: the busiest domain's reduce-scatter, a ring over its chips */
  for (int c = 0; c < z.n; c++)
    S_trd = fmax(S_trd, S_tr[c]);
  double t_trs = dlrm_rs_time(&z.dctx.net, S_trd, kd, kd), t_tag = t_trs;

  /* the dense part of one pass */
  sl_graph g = {0};
  sl_lowering lw = cost_lowering(sc);
  if (dlrm_graph_dense(keep, sc, &lw, mb, z.train, &g))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  double t_dense_f = 0, t_dense_b = 0, hw = fl_crit * z.m;
  row_energy E = {NULL, NULL};
  const sl_energy_spec *en = &sc->chip.energy;
  size_t cap = 0;
  tbe_row *tr = NULL;
  size_t n_tr = 0;
  if (res) {
    if (tbe_chip(&z, scratch, crit, &tr, &n_tr, &f_crit, &b_crit, &fl_crit))
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    cap = g.n + 2 * n_tr + 16;
    res->rows = ar_alloc(&res->a, cap * sizeof *res->rows);
    res->n_rows = 0;
    E.core = ar_alloc(&res->a, cap * sizeof *E.core);
    E.off = ar_alloc(&res->a, cap * sizeof *E.off);
    if (!res->rows || !E.core || !E.off) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  for (size_t i = 0; i < g.n; i++) {
    const sl_op *op = &g.ops[i];
    sl_cost c = cost_op(&z.dctx, op);
    double t = c.time_s * op->count;
    if (op->phase == SL_PH_BACKWARD)
      t_dense_b += t;
    else
      t_dense_f += t;
    hw += c.flops * op->count * z.m;
    double useful =
        op->kernel == SL_K_GEMM ? 2.0 * op->u.g.m * op->u.g.n * op->u.g.k * op->u.g.batch : c.flops;
    sl_bound bound = cost_launch_bound(&sc->stack, c.time_s) ? SL_BOUND_LATENCY : c.bound;
    c.bound = bound;
    SL_TRY(add_row(res, cap, err,
                   sl_row_near(sl_row_make(op->name, op->phase, op->cat, bound, op->count * z.m, t * z.m,
                                           useful * op->count * z.m, c.dram_bytes * op->count * z.m),
                               clockpart_of(&c, op->count * z.m))));
    set_energy(&E, res, c.e_core_j * op->count * z.m, c.e_off_j * op->count * z.m);
  }
  /* the slowest chip's embedding rows: each shard's share of the batched kernel */
  double sum_f = 0, sum_b = 0;
  for (size_t j = 0; j < n_tr; j++)
    sum_f += tr[j].fwd_body, sum_b += tr[j].bwd_body;
  for (size_t j = 0; j < n_tr; j++) {
    const sl_emb_shard *s = &z.plan.shards[tr[j].shard];
    double tf = sum_f > 0 ? f_crit * tr[j].fwd_body / sum_f : f_crit / (double)n_tr;
    SL_TRY(add_row(
        res, cap, err,
        sl_row_hit(sl_row_make(shard_label(keep, &z, s, 0), SL_PH_FORWARD, SL_CAT_EMBEDDING, tr[j].fwd_bound,
                               z.m, tf * z.m, tr[j].fwd_flops * z.m, tr[j].fwd_bytes * z.m),
                   tr[j].hit)));
    /* rows gathered: DRAM for the misses, the shared SRAM for the hits */
    set_energy(&E, res,
               cost_stack_core_j(z.ectx.stack, tr[j].fwd_bytes * z.m * tr[j].hit * en->shared_j_per_byte),
               tr[j].fwd_bytes * z.m * (1 - tr[j].hit) * en->dram_j_per_byte);
    if (z.train) {
      double tb = sum_b > 0 ? b_crit * tr[j].bwd_body / sum_b : b_crit / (double)n_tr;
      SL_TRY(add_row(res, cap, err,
                     sl_row_hit(sl_row_make(shard_label(keep, &z, s, 1), SL_PH_BACKWARD, SL_CAT_EMBEDDING,
                                            tr[j].bwd_bound, z.m, tb * z.m, tr[j].bwd_flops * z.m,
                                            tr[j].bwd_bytes * z.m),
                                tr[j].hit)));
      set_energy(&E, res,
                 cost_stack_core_j(z.ectx.stack, tr[j].bwd_bytes * z.m * tr[j].hit * en->shared_j_per_byte),
                 tr[j].bwd_bytes * z.m * (1 - tr[j].hit) * en->dram_j_per_byte);
    }
  }
  /* the host's issue time of a step (dlrm_host_ops) */
  double host_s = 0;
  if (sc->stack.host_sync && z.train) {
    double dense_ops = 0, shards = 0, colls = 0;
    int kinds[8] = {0};
    for (size_t i = 0; i < g.n; i++)
      dense_ops += g.ops[i].count;
    for (size_t i = 0; i < z.plan.n; i++)
      if (on_chip(&z.plan.shards[i], crit)) shards++, kinds[z.plan.shards[i].kind & 7] = 1;
    double nk = 0;
    for (int k = 0; k < 8; k++)
      nk += kinds[k];
    colls = (t_idx > 0) + (t_a2a > 0) + (t_rs > 0) + (t_trs > 0);
    if (z.train) colls += (t_a2a > 0) + (t_ag > 0) + (t_tag > 0);
    host_s = dlrm_host_ops(&sc->stack, d, z.train, z.m, dense_ops, shards, nk, colls) *
                 sc->stack.kernel_overhead_s +
             sc->stack.host_step_s;
  }
  double pass_t = t_idx + f_crit + t_trs + t_a2a + t_rs + t_dense_f, fwd_t = pass_t;
  const sl_bound NET = SL_BOUND_NETWORK;
  SL_TRY(add_row(res, cap, err,
                 sl_row_make("sparse_input_all_to_all", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m, t_idx * z.m,
                             0, S_idx * z.m)));
  SL_TRY(add_row(res, cap, err,
                 sl_row_make("pooled_reduce_scatter_domain", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m,
                             t_trs * z.m, 0, S_trd * z.m)));
  SL_TRY(add_row(res, cap, err,
                 sl_row_make("pooled_all_to_all", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m, t_a2a * z.m, 0,
                             S_a2a * z.m)));
  SL_TRY(add_row(res, cap, err,
                 sl_row_make("pooled_reduce_scatter", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m, t_rs * z.m, 0,
                             S_rw * z.m)));
  double step;
  if (z.train) {
    pass_t += t_dense_b + t_a2a + t_tag + t_ag + b_crit;
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("pooled_all_to_all.bwd", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m, t_a2a * z.m,
                               0, S_a2a * z.m)));
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("pooled_all_gather.bwd", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m, t_ag * z.m,
                               0, S_rw * z.m)));
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("pooled_all_gather_domain.bwd", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, z.m,
                               t_tag * z.m, 0, S_trd * z.m)));
    /* after the last pass: gradient all-reduce (dense part and replicated tables), the optimizer */
    double t_ar_d = coll_time(&z, SL_COLL_ALL_REDUCE, Pd * 4.0),
           t_ar_t = coll_time(&z, SL_COLL_ALL_REDUCE, S_dp_grad);
    double layers = (double)(d->n_bottom + d->n_top) + (d->inter == SL_INTER_DCNV2 ? d->cross_layers : 1);
    double exposed = exposed_comm(t_ar_d + t_ar_t, t_dense_b + b_crit, layers, sc->stack.overlap_dp_comm);
    double share_d = t_ar_d + t_ar_t > 0 ? t_ar_d / (t_ar_d + t_ar_t) : 0;
    double replicated = S_dp_grad / 4.0;
    sl_op op;
    memset(&op, 0, sizeof op);
    op.kernel = SL_K_STREAM;
    op.u.s.bytes = (Pd + replicated) * optim_step_bytes(sc->optimizer, z.wb, 0); /* no loss scaling */
    op.u.s.flops = 10.0 * (Pd + replicated);
    op.u.s.dt = SL_FP32;
    sl_cost oc = cost_op(&z.dctx, &op);
    hw += oc.flops;
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("dense_grad_all_reduce", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, 1,
                               exposed * share_d, 0, Pd * 4.0)));
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("replicated_table_grad_all_reduce", SL_PH_COMM, SL_CAT_COLLECTIVE, NET, 1,
                               exposed * (1 - share_d), 0, S_dp_grad)));
    SL_TRY(add_row(res, cap, err,
                   sl_row_make("optimizer", SL_PH_OPTIMIZER, SL_CAT_OPTIMIZER, oc.bound, 1, oc.time_s,
                               oc.flops, oc.dram_bytes)));
    set_energy(&E, res, oc.e_core_j, oc.e_off_j);
    step = z.m * pass_t + exposed + oc.time_s;
    if (host_s > step) { /* the device waits for the host's launches */
      SL_TRY(add_row(res, cap, err,
                     sl_row_make("host_issue_wait", SL_PH_FORWARD, SL_CAT_OTHER, SL_BOUND_LATENCY, 1,
                                 host_s - step, 0, 0)));
      set_energy(&E, res, 0, 0);
      step = host_s;
    }
    /* the benchmark's evaluation, amortised over the step (time to train counts it): eval_s per
     * trained sample (dlrm_run), or when that could not be had eval_samples / eval_every forward
     * samples per trained one at this pass's forward time per sample; the row counts its passes */
    if (d->eval_every > 0 && d->eval_samples > 0) {
      double t_eval = eval_s >= 0 ? z.G * eval_s : z.G * d->eval_samples / d->eval_every * (fwd_t / z.pass);
      double eval_batch = eval_s >= 0 ? eval_global_batch(sc) : z.pass; /* count: its passes per step */
      SL_TRY(add_row(res, cap, err,
                     sl_row_make("evaluation", SL_PH_FORWARD, SL_CAT_OTHER, SL_BOUND_MEMORY,
                                 z.G * d->eval_samples / d->eval_every / eval_batch, t_eval, 0, 0)));
      step += t_eval;
    }
  } else {
    step = pass_t;
  }
  out->feasible = 1;
  out->step = step;
  if (!res) return SL_OK;
  /* drop the rows that cost nothing (collectives a single chip does not need) */
  size_t w = 0;
  for (size_t i = 0; i < res->n_rows; i++)
    if (res->rows[i].time_s > 0 || res->rows[i].cat != SL_CAT_COLLECTIVE) {
      E.core[w] = E.core[i], E.off[w] = E.off[i];
      res->rows[w++] = res->rows[i];
    }
  res->n_rows = w;
  res->feasible = 1;
  res->mem = out->mem;
  res->step_time_s = step;
  {
    /* Energy and power : collectives cost link energy on the bytes they move; the rows are
     * the slowest chip's, every chip does about as much; then the TDP cap. */
    sl_esum busy;
    memset(&busy, 0, sizeof busy);
    double fwd_core = 0, fwd_off = 0;
    for (size_t i = 0; i < res->n_rows; i++) {
      const sl_row *rw = &res->rows[i];
      if (rw->cat == SL_CAT_COLLECTIVE) E.core[i] = 0, E.off[i] = rw->bytes * en->link_j_per_byte;
      if (rw->cat == SL_CAT_OTHER && !strcmp(rw->name, "evaluation")) { /* the forward's energy per sample */
        double per = d->eval_samples / d->eval_every;
        E.core[i] = per * fwd_core, E.off[i] = per * fwd_off;
      } else if (rw->phase == SL_PH_FORWARD ||
                 (rw->phase == SL_PH_COMM && !strstr(rw->name, ".bwd") && !strstr(rw->name, "grad")))
        fwd_core += E.core[i], fwd_off += E.off[i];
      busy.e_core += E.core[i];
      busy.e_off += E.off[i];
      if (rw->bound == SL_BOUND_COMPUTE) busy.t_clock += rw->time_s;
      near_add_part(&busy.near, &busy.t_clock, rw->clk);
    }
    busy.t_total = step;
    res->chips = z.n;
    power_fill_result(&sc->chip, &busy, busy.e_core * z.n, busy.e_off * z.n, 0, z.G, E.core, E.off, res);
    step = res->step_time_s; /* at the clock the TDP allows */
  }
  res->has_samples = 1;
  res->samples_per_s = z.G / step;
  res->model_flops = z.G * dlrm_flops_per_sample(d) * (z.train ? 3.0 : 1.0);
  res->hw_flops = hw * z.n;
  sl_dtype cdt = lw.compute_dt; /* the format the matrix products run in */
  double peak = chip_peak_flops(&sc->chip, cdt) * z.n;
  if (peak > 0) {
    res->has_mfu = 1;
    res->mfu = res->model_flops / (step * peak);
    res->hfu = res->hw_flops / (step * peak);
    res->flops_per_chip_per_s = res->model_flops / step / z.n;
  }
  (void)n_sparse;
  return SL_OK;
}

sl_status dlrm_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  double n = sc->chips, G = dlrm_batch(sc), per = G / n;
  res->par = (sl_parallel){n, 1, 1, 1, 1, 1, 0, 0, 0};
  res->chips = n;
  double mb = per;
  arena scratch, eval_scratch;
  ar_init(&scratch);
  ar_init(&eval_scratch);
  dres r;
  sl_status s = SL_OK;
  if (sc->task == SL_TASK_TRAIN && sc->micro_batch > 0) {
    mb = sc->micro_batch;
  } else if (sc->task == SL_TASK_TRAIN && sc->micro_batch == SL_AUTO) {
    /* the fastest micro-batch among per, per/2, per/4, ... that fits (the smallest when none does) */
    double best = 0, best_t = INFINITY;
    for (double c = per; c >= 1 && c == floor(c); c /= 2) {
      ar_reset(&scratch);
      if ((s = evaluate(sc, c, -1, NULL, NULL, &scratch, NULL, &r, err))) break;
      if (r.feasible && r.step < best_t) best = c, best_t = r.step;
      mb = c;
    }
    if (best > 0) mb = best;
  }
  /* The evaluation of a training run: forward passes (inference) over the tables as training placed
   * them, at its own global batch, eval.batch_scale times the training one (it keeps nothing for a
   * backward pass). */
  const sl_dlrm *d = &sc->model.dlrm;
  double eval_s = -1;
  if (!s && sc->task == SL_TASK_TRAIN && d->eval_every > 0 && d->eval_samples > 0) {
    sl_shard_plan plan;
    ar_reset(&scratch);
    s = evaluate(sc, mb, -1, NULL, &plan, &scratch, NULL, &r, err);
    if (!s && r.feasible) {
      sl_scenario ev = *sc;
      ev.task = SL_TASK_INFER;
      ev.batch = eval_global_batch(sc);
      dres re;
      s = evaluate(&ev, ev.batch / n, -1, &plan, NULL, &eval_scratch, NULL, &re, err);
      if (!s && re.feasible) eval_s = d->eval_samples / d->eval_every * re.step / ev.batch;
    }
  }
  if (!s) {
    ar_reset(&scratch);
    s = evaluate(sc, mb, eval_s, NULL, NULL, &scratch, res, &r, err);
  }
  ar_free(&scratch);
  ar_free(&eval_scratch);
  if (s) return s;
  if (sc->task == SL_TASK_TRAIN) res->micro_batch = mb, res->global_batch = G;
  if (!r.feasible) {
    res->feasible = 0;
    snprintf(res->reason, sizeof res->reason, "%s", r.reason);
  }
  return SL_OK;
}

sl_status dlrm_check_scenario(const sl_scenario *sc, const yt_node *root, sl_error *err) {
  const char *f = root->file;
  yt_pair *pk = yt_find((yt_node *)root, "parallel");
  int line = pk ? pk->key_line : 0;
  const sl_parallel *p = &sc->par;
  const char *names[] = {"tp", "pp", "cp", "ep", "vpp"};
  const double *deg[] = {&p->tp, &p->pp, &p->cp, &p->ep, &p->vpp};
  for (int i = 0; i < 5; i++)
    if (*deg[i] != SL_AUTO && *deg[i] > 1)
      return err_set(
          err, SL_ERR_INPUT, f, line, "parallel",
          "%s = %g: a DLRM's dense part is data-parallel over all chips and its embedding tables are "
          "sharded by silica's planner, so tp, pp, cp, ep and vpp stay 1",
          names[i], *deg[i]);
  if (p->sp)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.sp", "sequence parallelism is for transformers");
  if (p->dp != SL_AUTO && p->dp != sc->chips)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.dp",
                   "dp = %g, but a DLRM's dense part is data-parallel over all %g chips", p->dp, sc->chips);
  double n = sc->chips;
  if (sc->task == SL_TASK_TRAIN) {
    yt_pair *tk = yt_find((yt_node *)root, "train");
    int tl = tk ? tk->key_line : 0;
    if (sc->recompute != SL_RECOMPUTE_NONE)
      return err_set(err, SL_ERR_INPUT, f, tl, "train.recompute",
                     "activation recomputation is modelled for transformers only");
    /* global_batch {max: N} stays declared; the run takes dlrm_batch, checked here. */
    double G = dlrm_batch(sc);
    if (sc->global_batch_max && G < n)
      return err_set(err, SL_ERR_INPUT, f, tl, "train.global_batch",
                     "max is below one sample per chip (%g chips)", n);
    if (fmod(G, n) != 0)
      return err_set(
          err, SL_ERR_INPUT, f, tl, "train.global_batch",
          "global_batch %g is not a multiple of the %g chips (each chip takes global_batch/chips samples)", G,
          n);
    double per = G / n;
    if (sc->micro_batch > 0 && fmod(per, sc->micro_batch) != 0)
      return err_set(err, SL_ERR_INPUT, f, tl, "train.micro_batch",
                     "micro_batch %g does not divide the %g samples each chip takes per step",
                     sc->micro_batch, per);
  } else if (sc->task == SL_TASK_INFER) {
    yt_pair *ik = yt_find((yt_node *)root, "infer");
    int il = ik ? ik->key_line : 0;
    if (sc->batch_max)
      return err_set(err, SL_ERR_INPUT, f, il, "infer.batch",
                     "batch: max is for LLM inference; give a DLRM a batch of samples");
    if (fmod(sc->batch, n) != 0)
      return err_set(err, SL_ERR_INPUT, f, il, "infer.batch", "batch %g is not a multiple of the %g chips",
                     sc->batch, n);
  }
  return SL_OK;
}
