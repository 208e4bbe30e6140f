/* serve.c — serving under load: a discrete-event simulation of continuous (in-flight) batching
 * as vLLM and TensorRT-LLM do it.  Requests arrive as a Poisson process with prompt and output
 * lengths drawn from the scenario's distributions (or all at time 0: arrival rate inf, the
 * offline / maximum-load benchmark); every engine step the scheduler runs one
 * token of every decoding sequence and fills the rest of a token budget with prefill chunks
 * (chunked prefill), admitting requests only while paged KV blocks remain; when a decoding
 * sequence needs a block and none is free, the most recently admitted sequence is preempted and
 * recomputed later (vLLM's recompute policy), unless the stack reserves a request's whole KV
 * (prompt and output) when it is admitted, so that nothing is preempted (TensorRT-LLM's
 * GUARANTEED_NO_EVICT).  Seeded and deterministic.
 *
 * Step cost: an engine step over N tokens (E of which emit a token) costs
 *   lin(N) + attention of each decode batch and prefill chunk + head(E)
 * on the device (less the launch time a step of decodes only saves by replaying a captured CUDA
 * graph, when the stack has graphs), and the stack's host work for the step (a fixed part and a part per sequence in
 * it) beside it: added, or hidden up to the device's time by an overlap scheduler (step_with_host)
 * where lin (every non-attention op of every layer, with its tensor-parallel communication) and
 * head (final norm + LM head) come from the same op graphs and cost model as `decode` and are
 * memoised per N, and attention is costed per step from its shapes.  tests/sim/test_serve.c checks
 * this surface against whole prefill and decode scenarios. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the step model --------------------------------------------------------------------------- */

typedef struct step_model {
  sl_scenario sc; /* a private copy: batch and lengths are changed to build graphs */
  sl_plan plan;
  sl_costctx ctx;
  arena scratch;
  double *lin, *head;     /* memo by token / sequence count; < 0 unknown */
  double *lin_e, *head_e; /* their dynamic energy (one chip's share), joules */
  double *lin_g, *head_g; /* their time replayed from a captured CUDA graph */
  double attn_e, attn_g;  /* energy and graph-replayed time of the last attn_time call */
  sl_stack gstack;        /* the stack as it replays a graph (stack_graph_variant) */
  sl_costctx gctx;
  const sl_costctx *gctxp; /* &gctx, or NULL when the stack runs no graphs */
  size_t cap;
  /* memo of decode attention by (sequences, mean context in units of 16 tokens): its time is
   * linear in the KV bytes read, so a 16-token step changes it by well under 0.1% */
  uint64_t *akey;
  double *aval, *aval_e, *aval_g;
  size_t amask;
  sl_error *err;
  int failed;
} step_model;

/* The time of g's ops of one kind (attention, head, or the rest), launched kernel by kernel and, in
 * *graph_t, replayed from a captured graph (gctx; NULL: the same). */
static double graph_time(const sl_costctx *ctx, const sl_costctx *gctx, const sl_graph *g, int attention,
                         int head, double *energy, double *graph_t) {
  double t = 0, e = 0, tg = 0;
  for (size_t i = 0; i < g->n; i++) {
    const sl_op *op = &g->ops[i];
    int is_attn = op->cat == SL_CAT_ATTENTION;
    int is_head = strcmp(op->name, "lm_head") == 0 || strcmp(op->name, "norm_final") == 0 ||
                  strcmp(op->name, "tp_allgather_head") == 0;
    if ((is_attn && attention) || (is_head && head) || (!is_attn && !is_head && !attention && !head)) {
      sl_cost c = cost_op(ctx, op);
      t += c.time_s * op->count;
      e += (c.e_core_j + c.e_off_j) * op->count;
      tg += (gctx ? cost_op(gctx, op).time_s : c.time_s) * op->count;
    }
  }
  if (energy) *energy = e;
  if (graph_t) *graph_t = tg;
  return t;
}

/* lin(n) and head(n) from a decode graph of batch n: the non-attention ops see n tokens. */
static void fill(step_model *m, size_t n) {
  m->sc.task = SL_TASK_DECODE;
  m->sc.batch = (double)n;
  m->sc.prompt_len = 1;
  sl_plan p = m->plan;
  p.mb = (double)n;
  sl_graph g = {0};
  ar_reset(&m->scratch);
  sl_lowering lw = cost_lowering(&m->sc);
  if (graph_build_part(&m->scratch, &m->sc, &lw, &p, SL_PART_ALL, &g, m->err)) {
    m->failed = 1;
    return;
  }
  m->lin[n] = graph_time(&m->ctx, m->gctxp, &g, 0, 0, &m->lin_e[n], &m->lin_g[n]);
  m->head[n] = graph_time(&m->ctx, m->gctxp, &g, 0, 1, &m->head_e[n], &m->head_g[n]);
}

static double lin_time(step_model *m, double n) {
  size_t i = (size_t)n;
  if (i == 0) return 0;
  if (i >= m->cap) return NAN;
  if (m->lin[i] < 0) fill(m, i);
  return m->lin[i];
}

static double head_time(step_model *m, double n) {
  size_t i = (size_t)n;
  if (i == 0) return 0;
  if (i >= m->cap) return NAN;
  if (m->head[i] < 0) fill(m, i);
  return m->head[i];
}

/* Attention of B sequences of q new tokens seeing kv keys (every layer). */
static double attn_time(step_model *m, double B, double q, double kv, int causal) {
  m->attn_e = m->attn_g = 0;
  if (B <= 0 || q <= 0) return 0;
  sl_graph g = {0};
  ar_reset(&m->scratch);
  sl_lowering lw = cost_lowering(&m->sc);
  if (graph_build_attention(&m->scratch, &m->sc, &lw, &m->plan, B, q, kv, causal, &g)) {
    err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (attention graph)");
    m->failed = 1;
    return 0;
  }
  return graph_time(&m->ctx, m->gctxp, &g, 1, 0, &m->attn_e, &m->attn_g);
}

static double decode_attn_time(step_model *m, double B, double kv) {
  m->attn_e = m->attn_g = 0;
  if (B <= 0) return 0;
  double q16 = round(kv / 16);
  uint64_t key = ((uint64_t)B << 32) ^ (uint64_t)q16 ^ 0x8000000000000000ull;
  size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & m->amask;
  for (size_t probe = 0; probe <= m->amask; probe++, i = (i + 1) & m->amask) {
    if (m->akey[i] == key) {
      m->attn_e = m->aval_e[i], m->attn_g = m->aval_g[i];
      return m->aval[i];
    }
    if (m->akey[i] == 0) {
      double t = attn_time(m, B, 1, fmax(1, q16 * 16), 0);
      m->akey[i] = key, m->aval[i] = t, m->aval_e[i] = m->attn_e, m->aval_g[i] = m->attn_g;
      return t;
    }
  }
  return attn_time(m, B, 1, fmax(1, q16 * 16), 0); /* table full: no memo */
}

/* ---- requests ---------------------------------------------------------------------------------- */

typedef struct req {
  double arrival, t_first, t_done;
  double prompt, gen; /* lengths */
  double target;      /* tokens to prefill (prompt, or prompt + generated after preemption) */
  double prefilled, generated, blocks;
  int state;    /* 0 waiting, 1 running, 2 done */
  double chunk; /* tokens prefilled in the current step */
} req;

/* splitmix64: a small, fast, seedable generator (Steele et al. 2014). */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s) {
  return ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double draw(const sl_dist *d, uint64_t *s) {
  double v;
  switch (d->kind) {
  case SL_DIST_EXP:
    v = -log(rng_unit(s)) * d->a;
    break;
  case SL_DIST_UNIFORM:
    v = d->a + floor(rng_unit(s) * (d->b - d->a + 1));
    break;
  case SL_DIST_FIXED:
  default:
    v = d->a;
    break;
  }
  return fmax(1, round(v));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p) {
  if (n == 0) return NAN;
  size_t i = (size_t)ceil(p * (double)n);
  if (i > 0) i--;
  if (i >= n) i = n - 1;
  return v[i];
}

typedef struct sim_out {
  double ttft[3], tpot[3];
  double throughput, goodput, makespan, steps, preemptions, batch_tokens, kv_blocks;
  double energy_j, out_tokens; /* dynamic energy of one chip over the run; tokens generated */
  double mean_ttft, mean_tpot, mean_step;
  int infeasible;
} sim_out;

/* One simulation at `rate` requests per second (per replica). */
static sl_status simulate(step_model *m, const sl_serve_spec *sv, double rate, double kv_blocks, sim_out *o) {
  memset(o, 0, sizeof *o);
  size_t n = (size_t)sv->requests;
  req *r = calloc(n, sizeof *r);
  size_t *running = calloc((size_t)sv->max_seqs + 1, sizeof *running);
  size_t qcap = n + 1;
  size_t *waiting = calloc(qcap, sizeof *waiting); /* a ring deque: preempted requests go back to the front */
  double *ttft = calloc(n, sizeof *ttft), *tpot = calloc(n, sizeof *tpot);
  if (!r || !running || !waiting || !ttft || !tpot) {
    free(r), free(running), free(waiting), free(ttft), free(tpot);
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve: %zu requests)", n);
  }
  uint64_t seed = (uint64_t)sv->seed;
  double t = 0;
  for (size_t i = 0; i < n; i++) {
    double gap = -log(rng_unit(&seed)); /* drawn at every rate: a seed gives the same lengths */
    t += isinf(rate) ? 0 : gap / rate;
    r[i].arrival = t;
    r[i].prompt = draw(&sv->prompt, &seed);
    r[i].gen = draw(&sv->gen, &seed);
    r[i].target = r[i].prompt;
  }
  double block = sv->kv_block_tokens, budget = sv->max_batch_tokens, free_blocks = kv_blocks;
  int reserve = m->sc.stack.kv_policy == SL_KV_RESERVE;     /* admission reserves the request's whole KV */
  size_t next = 0, head = 0, tail = 0, n_run = 0, done = 0; /* waiting = [head, tail) modulo qcap */
  double now = 0, steps = 0, batch_tokens = 0, preempt = 0, step_sum = 0;
  int idle = 1; /* the device ran nothing just before this step: the host's work for it is not hidden */
  /* A request that could never fit (prompt + output over the whole KV cache) is infeasible. */
  for (size_t i = 0; i < n; i++)
    if (ceil((r[i].prompt + r[i].gen) / block) > kv_blocks) o->infeasible = 1;
  while (!o->infeasible && done < n) {
    while (next < n && r[next].arrival <= now)
      waiting[tail] = next++, tail = (tail + 1) % qcap;
    if (n_run == 0 && head == tail) {
      if (next >= n) break;
      now = r[next].arrival, idle = 1;
      continue;
    }
    /* 1. one token for every decoding sequence, preempting the newest when blocks run out */
    double tokens = 0, dec = 0, kv_sum = 0, seqs = 0; /* seqs: sequences in the step */
    for (size_t j = 0; j < n_run; j++)
      r[running[j]].chunk = 0;
    for (size_t j = 0; j < n_run && tokens < budget; j++) { /* decodes count against the budget too */
      req *q = &r[running[j]];
      if (q->prefilled < q->target) continue; /* still prefilling */
      double ctx = q->prompt + q->generated;
      while (ceil((ctx + 1) / block) > q->blocks && free_blocks < 1 && n_run > j + 1) {
        req *v = &r[running[--n_run]]; /* the most recently admitted */
        free_blocks += v->blocks;
        v->blocks = 0, v->prefilled = 0, v->target = v->prompt + v->generated, v->state = 0;
        head = (head + qcap - 1) % qcap;
        waiting[head] = running[n_run];
        preempt++;
      }
      if (ceil((ctx + 1) / block) > q->blocks) {
        if (free_blocks < 1) continue; /* nothing left to preempt: it waits a step */
        q->blocks++, free_blocks--;
      }
      q->chunk = 1;
      tokens++, dec++, kv_sum += ctx + 1;
      seqs++;
    }
    /* 2. prefill chunks: running partial prefills first, then admissions in arrival order */
    double emit = dec, attn = decode_attn_time(m, dec, dec > 0 ? kv_sum / dec : 0);
    double step_e = m->attn_e, attn_g = m->attn_g; /* decode attention from a graph */
    for (size_t j = 0; j < n_run && tokens < budget; j++) {
      req *q = &r[running[j]];
      if (q->prefilled >= q->target || q->chunk > 0) continue;
      double c = fmin(q->target - q->prefilled, budget - tokens);
      double need = fmax(0, ceil((q->prefilled + c) / block) - q->blocks); /* 0 when reserved */
      if (need > free_blocks)
        c = fmax(0, (q->blocks + free_blocks) * block - q->prefilled), need = free_blocks;
      if (c <= 0) continue;
      q->blocks += need, free_blocks -= need;
      q->chunk = c;
      tokens += c, seqs++;
      attn += attn_time(m, 1, c, q->prefilled + c, 1);
      step_e += m->attn_e;
      if (q->prefilled + c >= q->target) emit++;
    }
    while (head != tail && tokens < budget && n_run < (size_t)sv->max_seqs) {
      req *q = &r[waiting[head]];
      double c = fmin(q->target, budget - tokens);
      if (!sv->chunked_prefill && c < q->target) break;
      /* on demand: blocks for this chunk; reserved: for the whole prompt and every output token */
      double need = reserve ? ceil((q->target + q->gen - q->generated) / block) : ceil(c / block);
      if (need > free_blocks) break;
      head = (head + 1) % qcap;
      q->state = 1;
      q->blocks = need, free_blocks -= need;
      q->prefilled = 0;
      q->chunk = c;
      running[n_run++] = (size_t)(q - r);
      tokens += c, seqs++;
      attn += attn_time(m, 1, c, c, 1);
      step_e += m->attn_e;
      if (c >= q->target) emit++;
    }
    if (tokens == 0) { /* blocked: wait for the next arrival (cannot happen with running decodes) */
      if (next < n)
        now = fmax(now, r[next].arrival), idle = 1;
      else {
        o->infeasible = 1;
        break;
      }
      continue;
    }
    double dt = lin_time(m, tokens) + attn + head_time(m, emit);
    if (m->failed || !isfinite(dt)) break;
    if (seqs == dec) /* decodes only: the step replays a captured CUDA graph */
      dt = m->lin_g[(size_t)tokens] + attn_g + m->head_g[(size_t)emit];
    dt = step_with_host(&m->sc.stack, dt, seqs, idle); /* the engine's host work for the step */
    idle = 0;
    o->energy_j += step_e + m->lin_e[(size_t)tokens] + m->head_e[(size_t)emit];
    now += dt;
    steps++, batch_tokens += tokens, step_sum += dt;
    /* 3. advance every sequence that ran */
    size_t keep = 0;
    for (size_t j = 0; j < n_run; j++) {
      req *q = &r[running[j]];
      if (q->chunk > 0) {
        if (q->prefilled < q->target) {
          q->prefilled += q->chunk;
          if (q->prefilled >= q->target) { /* the prefill emits a token */
            if (q->t_first == 0) q->t_first = now;
            q->generated++;
          }
        } else {
          q->generated++;
        }
      }
      if (q->generated >= q->gen && q->prefilled >= q->target) {
        q->state = 2, q->t_done = now;
        free_blocks += q->blocks, q->blocks = 0;
        done++;
        if ((done & 8191) == 0) core_progress("serving simulation: requests", (double)done, (double)n);
      } else {
        running[keep++] = running[j];
      }
    }
    n_run = keep;
  }
  if (!o->infeasible && !m->failed) {
    size_t nt = 0, good = 0;
    double sum_ttft = 0, sum_tpot = 0, out_tokens = 0;
    for (size_t i = 0; i < n; i++) {
      ttft[i] = r[i].t_first - r[i].arrival;
      sum_ttft += ttft[i];
      out_tokens += r[i].gen;
      double tp = r[i].gen > 1 ? (r[i].t_done - r[i].t_first) / (r[i].gen - 1) : 0;
      if (r[i].gen > 1) tpot[nt++] = tp, sum_tpot += tp;
      if (ttft[i] <= sv->slo_ttft_s && tp <= sv->slo_tpot_s) good++;
    }
    qsort(ttft, n, sizeof *ttft, cmp_double);
    qsort(tpot, nt, sizeof *tpot, cmp_double);
    const double ps[3] = {0.50, 0.90, 0.99};
    for (int k = 0; k < 3; k++)
      o->ttft[k] = percentile(ttft, n, ps[k]), o->tpot[k] = percentile(tpot, nt, ps[k]);
    o->makespan = now - r[0].arrival;
    o->out_tokens = out_tokens;
    o->throughput = out_tokens / o->makespan;
    o->goodput = (double)good / o->makespan;
    o->mean_ttft = sum_ttft / (double)n;
    o->mean_tpot = nt ? sum_tpot / (double)nt : NAN;
    o->steps = steps;
    o->preemptions = preempt;
    o->batch_tokens = steps > 0 ? batch_tokens / steps : 0;
    o->mean_step = steps > 0 ? step_sum / steps : 0;
    o->kv_blocks = kv_blocks;
  }
  free(r), free(running), free(waiting), free(ttft), free(tpot);
  return m->failed ? (m->err && m->err->code ? m->err->code : SL_ERR_INTERNAL) : SL_OK;
}

/* A step model for scenario sc whose memo tables hold up to `tokens` tokens per step. */
static void model_init(step_model *m, const sl_scenario *sc, sl_error *err) {
  memset(m, 0, sizeof *m);
  m->sc = *sc;
  m->sc.a = (arena){0};
  m->sc.par = scenario_parallel(sc); /* the declared degrees, `auto` filled */
  m->err = err;
  m->plan = plan_of_scenario(&m->sc);
  ar_init(&m->scratch);
  cost_ctx_init(&m->ctx, &sc->chip, &sc->stack, 0);
  net_init(&m->ctx.net, &sc->scale_up, &sc->scale_out, sc->node_chips);
  if (stack_graph_variant(&sc->stack, &m->gstack)) {
    cost_ctx_init(&m->gctx, &sc->chip, &m->gstack, 0);
    m->gctx.net = m->ctx.net;
    m->gctxp = &m->gctx;
  }
}

static sl_status model_tables(step_model *m, double tokens) {
  m->cap = (size_t)tokens + 2;
  m->lin = malloc(m->cap * sizeof *m->lin);
  m->head = malloc(m->cap * sizeof *m->head);
  m->lin_e = malloc(m->cap * sizeof *m->lin_e);
  m->head_e = malloc(m->cap * sizeof *m->head_e);
  m->lin_g = calloc(m->cap, sizeof *m->lin_g);
  m->head_g = calloc(m->cap, sizeof *m->head_g);
  if (!m->lin || !m->head || !m->lin_e || !m->head_e || !m->lin_g || !m->head_g)
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < m->cap; i++)
    m->lin[i] = m->head[i] = -1;
  return SL_OK;
}

static void model_free(step_model *m) {
  free(m->lin), free(m->head), free(m->lin_e), free(m->head_e), free(m->lin_g), free(m->head_g);
  free(m->akey), free(m->aval), free(m->aval_e), free(m->aval_g);
  ar_free(&m->scratch);
}

sl_status serve_step_estimate(const sl_scenario *sc, double prefill_tokens, double decode_seqs,
                              double kv_mean, double *time_s, sl_error *err) {
  step_model m;
  model_init(&m, sc, err);
  if (model_tables(&m, prefill_tokens + decode_seqs)) {
    model_free(&m);
    return SL_ERR_INTERNAL;
  }
  double emit = decode_seqs + (prefill_tokens > 0 ? 1 : 0);
  double t = lin_time(&m, prefill_tokens + decode_seqs) + head_time(&m, emit) +
             attn_time(&m, decode_seqs, 1, kv_mean, 0) + attn_time(&m, 1, prefill_tokens, prefill_tokens, 1);
  if (prefill_tokens == 0) { /* decodes only: replayed from a captured CUDA graph, as in simulate */
    attn_time(&m, decode_seqs, 1, kv_mean, 0);
    t = m.lin_g[(size_t)decode_seqs] + m.head_g[(size_t)emit] + m.attn_g;
  }
  t = step_with_host(&sc->stack, t, emit, decode_seqs == 0); /* a prefill alone: the first step */
  model_free(&m);
  if (m.failed) return err && err->code ? err->code : SL_ERR_INTERNAL;
  *time_s = t;
  return SL_OK;
}

static int meets_slo(const sim_out *o, const sl_serve_spec *sv) {
  return !o->infeasible && o->ttft[2] <= sv->slo_ttft_s && o->tpot[2] <= sv->slo_tpot_s;
}

sl_status serve_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  const sl_serve_spec *sv = &sc->serve;
  step_model m;
  model_init(&m, sc, err);
  res->par = m.sc.par;

  /* KV blocks: the memory left per chip once the weights and one full step's activations are
   * placed (the stack's kv_cache_fraction of it: engines keep the rest as headroom), in blocks of
   * kv_block_tokens tokens of every layer of this pipeline stage. */
  const sl_transformer *t = &sc->model.tf;
  double tp = m.plan.tp, pp = m.plan.pp, ab = sl_dtype_bytes[sc->a_dtype];
  double kvd = tf_kv_dim(t, tp);
  double per_token = tf_kv_bytes_per_token(t, tp, ceil((double)t->layers / pp), sc->kv_dtype);
  double weights = model_params(&sc->model) * sl_dtype_bytes[sc->w_dtype] / (tp * pp);
  double widest = fmax((double)(t->heads * t->head_dim) / tp + 2 * kvd, 2.0 * (double)t->ffn / tp);
  double act = sv->max_batch_tokens * (2.0 * (double)t->hidden + widest) * ab +
               sv->max_seqs * (double)t->vocab / tp * 4;
  double cap = chip_dram_bytes(&sc->chip);
  double kv_share = sc->stack.kv_cache_fraction > 0 ? sc->stack.kv_cache_fraction : 1;
  double kv_free = (cap - weights - act) * kv_share;
  res->mem.capacity_bytes = cap;
  res->mem.weights_bytes = weights;
  res->mem.activations_bytes = act;
  res->mem.kv_cache_bytes = fmax(0, kv_free);
  res->mem.per_chip_bytes = weights + act + fmax(0, kv_free);
  res->mem.fits = kv_free > 0;
  double blocks = floor(kv_free / (per_token * sv->kv_block_tokens));
  if (kv_free <= 0 || blocks < 1) {
    res->feasible = 0;
    snprintf(
        res->reason, sizeof res->reason,
        "no room for a KV cache: weights %.2f GiB and activations %.2f GiB per chip %s %.2f GiB %s %.2f GiB",
        weights / 1073741824.0, act / 1073741824.0, kv_free > 0 ? "leave" : "exceed by",
        fabs(kv_free) / 1073741824.0, kv_free > 0 ? "of" : "the memory of", cap / 1073741824.0);
    model_free(&m);
    return SL_OK;
  }
  if (model_tables(&m, sv->max_batch_tokens)) {
    model_free(&m);
    return SL_ERR_INTERNAL;
  }
  m.amask = (1u << 18) - 1;
  m.akey = calloc(m.amask + 1, sizeof *m.akey);
  m.aval = calloc(m.amask + 1, sizeof *m.aval);
  m.aval_e = calloc(m.amask + 1, sizeof *m.aval_e);
  m.aval_g = calloc(m.amask + 1, sizeof *m.aval_g);
  if (!m.akey || !m.aval || !m.aval_e || !m.aval_g) {
    model_free(&m);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }

  double replicas = m.plan.dp;
  sim_out o;
  sl_status s = SL_OK;
  double rate = sv->rate_per_s;
  if (rate == SL_AUTO) { /* the highest rate whose p99 TTFT and TPOT meet the SLO */
    double lo = 0, hi = 1;
    sim_out probe;
    for (int i = 0; i < 40 && !s; i++) {
      s = simulate(&m, sv, hi, blocks, &probe);
      if (s || !meets_slo(&probe, sv)) break;
      lo = hi, hi *= 2;
    }
    for (int i = 0; i < 24 && !s && hi - lo > 1e-3 * hi; i++) {
      double mid = 0.5 * (lo + hi);
      s = simulate(&m, sv, mid, blocks, &probe);
      if (!s && meets_slo(&probe, sv))
        lo = mid;
      else
        hi = mid;
    }
    rate = lo > 0 ? lo : hi;
    res->serve.max_rate_per_s = lo * replicas;
  } else {
    rate = rate / replicas; /* each data-parallel replica gets its share */
    res->serve.max_rate_per_s = NAN;
  }
  if (!s) s = simulate(&m, sv, rate, blocks, &o);
  model_free(&m);
  if (s) return s;
  if (o.infeasible) {
    res->feasible = 0;
    snprintf(res->reason, sizeof res->reason,
             "a request cannot fit: the KV cache holds %.0f blocks of %g tokens per chip", blocks,
             sv->kv_block_tokens);
    return SL_OK;
  }
  res->feasible = 1;
  res->has_serve = 1;
  for (int k = 0; k < 3; k++)
    res->serve.ttft[k] = o.ttft[k], res->serve.tpot[k] = o.tpot[k];
  res->serve.throughput_tokens_per_s = o.throughput * replicas;
  res->serve.goodput_requests_per_s = o.goodput * replicas;
  res->serve.rate_per_s = rate * replicas;
  res->serve.requests = sv->requests;
  res->serve.preemptions = o.preemptions;
  res->serve.steps = o.steps;
  res->serve.mean_batch_tokens = o.batch_tokens;
  res->serve.kv_blocks = blocks;
  res->step_time_s = o.mean_step;
  res->has_tokens = res->has_ttft = 1;
  res->tokens_per_s = o.throughput * replicas;
  {
    /* Energy : the simulated replica's dynamic energy (one chip's share, so x tp x pp)
     * plus static power over the run, for every replica; no TDP cap (power is averaged over a
     * run that idles between bursts). */
    double chips = sc->chips, per_replica = m.plan.tp * m.plan.pp;
    double e = o.energy_j * per_replica * replicas + chips * sc->chip.energy.static_w * o.makespan;
    sl_power_out *pw = &res->power;
    pw->has_energy = 1;
    pw->clock_ratio = 1;
    pw->uncapped_step_time_s = o.mean_step;
    pw->step_j = o.steps > 0 ? e / o.steps : NAN;
    pw->avg_power_w_per_chip = e / (chips * o.makespan);
    double busy = o.mean_step * o.steps;
    pw->uncapped_power_w_per_chip =
        busy > 0 ? o.energy_j * per_replica / (per_replica * busy) + sc->chip.energy.static_w : NAN;
    pw->j_per_token = e / (o.out_tokens * replicas);
    pw->j_per_sample = NAN;
    pw->peak_power_w_per_chip = NAN; /* no per-kernel rows */
    pw->usd_per_hour_system = pw->usd_per_million_tokens = pw->usd_per_million_samples = NAN;
  }
  res->ttft_s = o.mean_ttft;
  res->tpot_s = o.mean_tpot;
  return SL_OK;
}
