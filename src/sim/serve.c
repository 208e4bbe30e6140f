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

/* The work a request still has: tokens to prefill and tokens to generate. */
static double remaining(const req *q) {
  return (q->target - q->prefilled) + (q->gen - q->generated);
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
  double energy_j, out_tokens; /* dynamic energy of one chip of each replica, summed; tokens generated */
  double mean_ttft, mean_tpot, mean_step;
  int infeasible;
} sim_out;

/* ---- one replica: an engine ---------------------------------------------------------------------
 * One data-parallel replica running continuous batching over the requests routed to it: its own
 * clock, queue, batch and KV blocks.  engine_step runs one engine step at the replica's clock. */

typedef struct engine {
  step_model *m;
  const sl_serve_spec *sv;
  req *r;           /* every request of the run (shared by the replicas) */
  size_t *running;  /* indices into r, in admission order */
  size_t n_run;
  size_t *waiting;  /* a ring deque: preempted requests go back to the front */
  size_t head, tail, qcap;
  double free_blocks;
  double now;       /* the replica's clock: the end of its last step */
  int idle;         /* the device ran nothing just before this step: the host's work is not hidden */
  double outstanding; /* tokens still to prefill or generate over its queue and batch (the router's load) */
  double steps, batch_tokens, preempt, step_sum, energy_j;
  size_t done;
} engine;

static int engine_busy(const engine *e) {
  return e->n_run > 0 || e->head != e->tail;
}

/* Queues request i at the back (front: at the front, for a preempted one); grows the ring. */
static int engine_queue(engine *e, size_t i, int front) {
  if ((e->tail + 1) % e->qcap == e->head) {
    size_t cap = e->qcap * 2, n = 0;
    size_t *w = malloc(cap * sizeof *w);
    if (!w) return -1;
    for (size_t k = e->head; k != e->tail; k = (k + 1) % e->qcap)
      w[n++] = e->waiting[k];
    free(e->waiting);
    e->waiting = w, e->qcap = cap, e->head = 0, e->tail = n;
  }
  if (front) {
    e->head = (e->head + e->qcap - 1) % e->qcap;
    e->waiting[e->head] = i;
  } else {
    e->waiting[e->tail] = i;
    e->tail = (e->tail + 1) % e->qcap;
  }
  return 0;
}

static int engine_init(engine *e, step_model *m, const sl_serve_spec *sv, req *r, double kv_blocks) {
  memset(e, 0, sizeof *e);
  e->m = m, e->sv = sv, e->r = r, e->free_blocks = kv_blocks;
  e->qcap = 1024;
  e->running = calloc((size_t)sv->max_seqs + 1, sizeof *e->running);
  e->waiting = calloc(e->qcap, sizeof *e->waiting);
  e->idle = 1;
  return e->running && e->waiting ? 0 : -1;
}

static void engine_free(engine *e) {
  free(e->running), free(e->waiting);
}

/* A request arrives at the replica. */
static int engine_arrive(engine *e, size_t i) {
  req *q = &e->r[i];
  if (!engine_busy(e)) e->now = fmax(e->now, q->arrival), e->idle = 1;
  e->outstanding += remaining(q);
  return engine_queue(e, i, 0);
}

/* One engine step at e->now.  Returns 1 when it ran, 0 when nothing could run (blocked: every
 * queued request waits for blocks), -1 on failure. */
static int engine_step(engine *e) {
  step_model *m = e->m;
  const sl_serve_spec *sv = e->sv;
  req *r = e->r;
  double block = sv->kv_block_tokens, budget = sv->max_batch_tokens;
  int reserve = m->sc.stack.kv_policy == SL_KV_RESERVE; /* admission reserves the request's whole KV */
  /* 1. one token for every decoding sequence, preempting the newest when blocks run out */
  double tokens = 0, dec = 0, kv_sum = 0, seqs = 0; /* seqs: sequences in the step */
  for (size_t j = 0; j < e->n_run; j++)
    r[e->running[j]].chunk = 0;
  for (size_t j = 0; j < e->n_run && tokens < budget; j++) { /* decodes count against the budget too */
    req *q = &r[e->running[j]];
    if (q->prefilled < q->target) continue; /* still prefilling */
    double ctx = q->prompt + q->generated;
    while (ceil((ctx + 1) / block) > q->blocks && e->free_blocks < 1 && e->n_run > j + 1) {
      size_t vi = e->running[--e->n_run]; /* the most recently admitted */
      req *v = &r[vi];
      e->outstanding -= remaining(v);
      e->free_blocks += v->blocks;
      v->blocks = 0, v->prefilled = 0, v->target = v->prompt + v->generated, v->state = 0;
      e->outstanding += remaining(v);
      if (engine_queue(e, vi, 1)) return -1;
      e->preempt++;
    }
    if (ceil((ctx + 1) / block) > q->blocks) {
      if (e->free_blocks < 1) continue; /* nothing left to preempt: it waits a step */
      q->blocks++, e->free_blocks--;
    }
    q->chunk = 1;
    tokens++, dec++, kv_sum += ctx + 1;
    seqs++;
  }
  /* 2. prefill chunks: running partial prefills first, then admissions in arrival order */
  double emit = dec, attn = decode_attn_time(m, dec, dec > 0 ? kv_sum / dec : 0);
  double step_e = m->attn_e, attn_g = m->attn_g; /* decode attention from a graph */
  for (size_t j = 0; j < e->n_run && tokens < budget; j++) {
    req *q = &r[e->running[j]];
    if (q->prefilled >= q->target || q->chunk > 0) continue;
    double c = fmin(q->target - q->prefilled, budget - tokens);
    double need = fmax(0, ceil((q->prefilled + c) / block) - q->blocks); /* 0 when reserved */
    if (need > e->free_blocks)
      c = fmax(0, (q->blocks + e->free_blocks) * block - q->prefilled), need = e->free_blocks;
    if (c <= 0) continue;
    q->blocks += need, e->free_blocks -= need;
    q->chunk = c;
    tokens += c, seqs++;
    attn += attn_time(m, 1, c, q->prefilled + c, 1);
    step_e += m->attn_e;
    if (q->prefilled + c >= q->target) emit++;
  }
  while (e->head != e->tail && tokens < budget && e->n_run < (size_t)sv->max_seqs) {
    req *q = &r[e->waiting[e->head]];
    double c = fmin(q->target, budget - tokens);
    if (!sv->chunked_prefill && c < q->target) break;
    /* on demand: blocks for this chunk; reserved: for the whole prompt and every output token */
    double need = reserve ? ceil((q->target + q->gen - q->generated) / block) : ceil(c / block);
    if (need > e->free_blocks) break;
    e->head = (e->head + 1) % e->qcap;
    q->state = 1;
    q->blocks = need, e->free_blocks -= need;
    q->prefilled = 0;
    q->chunk = c;
    e->running[e->n_run++] = (size_t)(q - r);
    tokens += c, seqs++;
    attn += attn_time(m, 1, c, c, 1);
    step_e += m->attn_e;
    if (c >= q->target) emit++;
  }
  if (tokens == 0) return 0;
  double dt = lin_time(m, tokens) + attn + head_time(m, emit);
  if (m->failed || !isfinite(dt)) return -1;
  if (seqs == dec) /* decodes only: the step replays a captured CUDA graph */
    dt = m->lin_g[(size_t)tokens] + attn_g + m->head_g[(size_t)emit];
  dt = step_with_host(&m->sc.stack, dt, seqs, e->idle); /* the engine's host work for the step */
  e->idle = 0;
  e->energy_j += step_e + m->lin_e[(size_t)tokens] + m->head_e[(size_t)emit];
  e->now += dt;
  e->steps++, e->batch_tokens += tokens, e->step_sum += dt;
  e->outstanding -= tokens;
  /* 3. advance every sequence that ran */
  size_t keep = 0;
  for (size_t j = 0; j < e->n_run; j++) {
    req *q = &r[e->running[j]];
    if (q->chunk > 0) {
      if (q->prefilled < q->target) {
        q->prefilled += q->chunk;
        if (q->prefilled >= q->target) { /* the prefill emits a token */
          if (q->t_first == 0) q->t_first = e->now;
          q->generated++;
          e->outstanding--;
        }
      } else {
        q->generated++;
      }
    }
    if (q->generated >= q->gen && q->prefilled >= q->target) {
      q->state = 2, q->t_done = e->now;
      e->free_blocks += q->blocks, q->blocks = 0;
      e->done++;
    } else {
      e->running[keep++] = e->running[j];
    }
  }
  e->n_run = keep;
  return 1;
}

/* The replica a request goes to: the next in turn, or the one with the least work outstanding
 * (ties to the lowest index). */
static size_t route(const engine *e, size_t n_eng, const sl_serve_spec *sv, size_t *turn) {
  if (sv->router == SL_ROUTER_ROUND_ROBIN) return (*turn)++ % n_eng;
  size_t best = 0;
  for (size_t k = 1; k < n_eng; k++)
    if (e[k].outstanding < e[best].outstanding) best = k;
  return best;
}

/* One simulation of `replicas` replicas behind a router, the requests arriving at `rate` requests per
 * second over them all: a discrete-event loop that always advances the replica whose clock is
 * earliest, after routing every request that has arrived by then. */
static sl_status simulate(step_model *m, const sl_serve_spec *sv, double rate, double kv_blocks, size_t replicas,
                          sim_out *o) {
  memset(o, 0, sizeof *o);
  size_t n = (size_t)sv->requests;
  if (replicas < 1) replicas = 1;
  req *r = calloc(n, sizeof *r);
  sl_request *in = calloc(n, sizeof *in);
  engine *e = calloc(replicas, sizeof *e);
  double *ttft = calloc(n, sizeof *ttft), *tpot = calloc(n, sizeof *tpot);
  int bad = !r || !in || !e || !ttft || !tpot;
  size_t n_eng = 0;
  while (!bad && n_eng < replicas) /* a replica that failed half-way is freed with the others */
    bad = engine_init(&e[n_eng++], m, sv, r, kv_blocks) != 0;
  if (bad) {
    for (size_t k = 0; k < n_eng; k++)
      engine_free(&e[k]);
    free(r), free(in), free(e), free(ttft), free(tpot);
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve: %zu requests)", n);
  }
  traffic_requests(sv, rate, in, n);
  for (size_t i = 0; i < n; i++) {
    r[i].arrival = in[i].arrival, r[i].prompt = in[i].prompt, r[i].gen = in[i].gen;
    r[i].target = r[i].prompt;
  }
  free(in);
  /* A request that could never fit (prompt + output over the whole KV cache) is infeasible. */
  for (size_t i = 0; i < n; i++)
    if (ceil((r[i].prompt + r[i].gen) / sv->kv_block_tokens) > kv_blocks) o->infeasible = 1;
  size_t next = 0, done = 0, turn = 0, shown = 0;
  int failed = 0;
  while (!o->infeasible && !failed && done < n) {
    size_t k = n_eng; /* the busy replica with the earliest clock */
    for (size_t j = 0; j < n_eng; j++)
      if (engine_busy(&e[j]) && (k == n_eng || e[j].now < e[k].now)) k = j;
    double t_next = k < n_eng ? e[k].now : INFINITY;
    if (next < n && r[next].arrival <= t_next) {
      if (engine_arrive(&e[route(e, n_eng, sv, &turn)], next)) failed = 1;
      next++;
      continue;
    }
    if (k == n_eng) break; /* nothing left to run or to arrive */
    size_t before = e[k].done;
    int ran = engine_step(&e[k]);
    if (ran < 0) {
      failed = 1;
    } else if (ran == 0) { /* blocked: it waits for the next arrival (cannot happen with running decodes) */
      if (next < n)
        e[k].now = fmax(e[k].now, r[next].arrival), e[k].idle = 1;
      else
        o->infeasible = 1;
    }
    done += e[k].done - before;
    if (done - shown >= 8192) shown = done, core_progress("serving simulation: requests", (double)done, (double)n);
  }
  if (failed && !m->failed) {
    m->failed = 1;
    if (m->err && !m->err->code) err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve queue)");
  }
  if (!o->infeasible && !m->failed) {
    size_t nt = 0, good = 0;
    double sum_ttft = 0, sum_tpot = 0, out_tokens = 0, end = 0;
    for (size_t i = 0; i < n; i++) {
      ttft[i] = r[i].t_first - r[i].arrival;
      sum_ttft += ttft[i];
      out_tokens += r[i].gen;
      end = fmax(end, r[i].t_done);
      double tp = r[i].gen > 1 ? (r[i].t_done - r[i].t_first) / (r[i].gen - 1) : 0;
      if (r[i].gen > 1) tpot[nt++] = tp, sum_tpot += tp;
      if (ttft[i] <= sv->slo_ttft_s && tp <= sv->slo_tpot_s) good++;
    }
    qsort(ttft, n, sizeof *ttft, cmp_double);
    qsort(tpot, nt, sizeof *tpot, cmp_double);
    const double ps[3] = {0.50, 0.90, 0.99};
    for (int k = 0; k < 3; k++)
      o->ttft[k] = percentile(ttft, n, ps[k]), o->tpot[k] = percentile(tpot, nt, ps[k]);
    double steps = 0, batch_tokens = 0, step_sum = 0;
    for (size_t j = 0; j < n_eng; j++) {
      steps += e[j].steps, batch_tokens += e[j].batch_tokens, step_sum += e[j].step_sum;
      o->preemptions += e[j].preempt, o->energy_j += e[j].energy_j;
    }
    o->makespan = end - r[0].arrival;
    o->out_tokens = out_tokens;
    o->throughput = out_tokens / o->makespan;
    o->goodput = (double)good / o->makespan;
    o->mean_ttft = sum_ttft / (double)n;
    o->mean_tpot = nt ? sum_tpot / (double)nt : NAN;
    o->steps = steps;
    o->batch_tokens = steps > 0 ? batch_tokens / steps : 0;
    o->mean_step = steps > 0 ? step_sum / steps : 0;
    o->kv_blocks = kv_blocks;
  }
  for (size_t k = 0; k < n_eng; k++)
    engine_free(&e[k]);
  free(r), free(e), free(ttft), free(tpot);
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

static void curve_point(sl_serve_point *c, double rate, const sim_out *o) {
  c->rate_per_s = rate;
  for (int k = 0; k < 3; k++)
    c->ttft[k] = o->ttft[k], c->tpot[k] = o->tpot[k];
  c->throughput_tokens_per_s = o->throughput, c->goodput_requests_per_s = o->goodput;
  c->preemptions = o->preemptions, c->mean_batch_tokens = o->batch_tokens;
}

static double dist_mean(const sl_dist *d) {
  return d->kind == SL_DIST_UNIFORM ? 0.5 * (d->a + d->b) : d->a;
}

/* trtllm-bench's engine settings (TensorRT-LLM tensorrt_llm/bench/build/tuning.py,
 * calc_engine_setting and finetune_setting): the requests of the workload's mean prompt + output
 * length that the KV cache can hold (95% of the memory of the tp x pp GPUs less the weights, at
 * 2 x layers x max(tp, kv_heads) x head_dim x KV bytes a token), capped at 4096 and split over the
 * pipeline stages, give max_batch_size, rounded up (to 32 below 256, at least 64; to 128 below
 * 1024; else to 256); that batch x (1 + prompt / output), capped at 32768, gives max_num_tokens,
 * rounded up (to 256 below 4096, at least 2048; to 512 below 8192; else to 1024). */
static void tuned_limits(const sl_scenario *sc, double *max_tokens, double *max_seqs) {
  const double GIB = 1073741824.0;
  const sl_transformer *t = &sc->model.tf;
  sl_parallel par = scenario_parallel(sc);
  double tp = par.tp > 0 ? par.tp : 1, pp = par.pp > 0 ? par.pp : 1;
  double per_token = 2.0 * (double)t->layers * fmax(tp, (double)t->kv_heads) * (double)t->head_dim *
                     sl_dtype_bytes[sc->kv_dtype] / GIB;
  double engine_gib = model_params(&sc->model) * sl_dtype_bytes[sc->w_dtype] / GIB;
  double avail = chip_dram_bytes(&sc->chip) / GIB * tp * pp - engine_gib;
  double isl = dist_mean(&sc->serve.prompt), osl = dist_mean(&sc->serve.gen);
  double reqs = fmax(0, avail * 0.95 / (per_token * (isl + osl)));
  double bs = fmin(reqs, 4096) / pp;
  double tok = fmin(bs * (1 + isl / osl), 32768);
  *max_seqs = bs < 256 ? fmax(64, 32 * ceil(bs / 32)) : bs < 1024 ? 128 * ceil(bs / 128) : 256 * ceil(bs / 256);
  *max_tokens = tok < 4096   ? fmax(2048, 256 * ceil(tok / 256))
                : tok < 8192 ? 512 * ceil(tok / 512)
                             : 1024 * ceil(tok / 1024);
}

void serve_limits(const sl_scenario *sc, sl_serve_spec *sv) {
  *sv = sc->serve;
  if (!sc->stack.tuned_limits || sc->model.kind != SL_MODEL_TRANSFORMER) return;
  double tok, seqs;
  tuned_limits(sc, &tok, &seqs);
  if (!(sv->limits_given & 1)) sv->max_batch_tokens = tok;
  if (!(sv->limits_given & 2)) sv->max_seqs = seqs;
}

static int meets_slo(const sim_out *o, const sl_serve_spec *sv) {
  return !o->infeasible && o->ttft[2] <= sv->slo_ttft_s && o->tpot[2] <= sv->slo_tpot_s;
}

sl_status serve_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  sl_serve_spec limits;
  serve_limits(sc, &limits);
  const sl_serve_spec *sv = &limits;
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
  size_t n_rep = (size_t)replicas;
  sim_out o;
  memset(&o, 0, sizeof o);
  sl_status s = SL_OK;
  double rate = sv->rate_per_s;
  if (rate == SL_AUTO) { /* the highest rate whose p99 TTFT and TPOT meet the SLO */
    double lo = 0, hi = replicas;
    sim_out probe;
    for (int i = 0; i < 40 && !s; i++) {
      s = simulate(&m, sv, hi, blocks, n_rep, &probe);
      if (s || !meets_slo(&probe, sv)) break;
      lo = hi, hi *= 2;
    }
    for (int i = 0; i < 24 && !s && hi - lo > 1e-3 * hi; i++) {
      double mid = 0.5 * (lo + hi);
      s = simulate(&m, sv, mid, blocks, n_rep, &probe);
      if (!s && meets_slo(&probe, sv))
        lo = mid;
      else
        hi = mid;
    }
    rate = lo > 0 ? lo : hi;
    res->serve.max_rate_per_s = lo;
  } else {
    res->serve.max_rate_per_s = NAN;
  }
  /* the latency-throughput curve: a full simulation per rate; the scalar outputs are the last's */
  if (!s && sv->n_curve > 0) {
    sl_serve_point *c = ar_alloc(&res->a, sv->n_curve * sizeof *c);
    if (!c) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; !s && i + 1 < sv->n_curve; i++) {
      s = simulate(&m, sv, sv->curve[i], blocks, n_rep, &o);
      if (!s && o.infeasible) break;
      if (!s) curve_point(&c[i], sv->curve[i], &o);
    }
    rate = sv->curve[sv->n_curve - 1];
    res->serve.curve = c, res->serve.n_curve = sv->n_curve;
  }
  if (!s && !o.infeasible) s = simulate(&m, sv, rate, blocks, n_rep, &o);
  if (!s && sv->n_curve > 0 && !o.infeasible) curve_point(&res->serve.curve[sv->n_curve - 1], rate, &o);
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
  res->serve.throughput_tokens_per_s = o.throughput;
  res->serve.goodput_requests_per_s = o.goodput;
  res->serve.rate_per_s = rate;
  res->serve.requests = sv->requests;
  res->serve.preemptions = o.preemptions;
  res->serve.steps = o.steps;
  res->serve.mean_batch_tokens = o.batch_tokens;
  res->serve.kv_blocks = blocks;
  res->step_time_s = o.mean_step;
  res->has_tokens = res->has_ttft = 1;
  res->tokens_per_s = o.throughput;
  {
    /* Energy: every replica's dynamic energy (one chip's share each, so x tp x pp) plus every chip's
     * static power over the run; no TDP cap (power is averaged over a run that idles between
     * bursts). */
    double chips = sc->chips, per_replica = m.plan.tp * m.plan.pp;
    double e = o.energy_j * per_replica + chips * sc->chip.energy.static_w * o.makespan;
    sl_power_out *pw = &res->power;
    pw->has_energy = 1;
    pw->clock_ratio = 1;
    pw->uncapped_step_time_s = o.mean_step;
    pw->step_j = o.steps > 0 ? e / o.steps : NAN;
    pw->avg_power_w_per_chip = e / (chips * o.makespan);
    double busy = o.mean_step * o.steps; /* summed over the replicas, as energy_j is */
    pw->uncapped_power_w_per_chip = busy > 0 ? o.energy_j / busy + sc->chip.energy.static_w : NAN;
    pw->j_per_token = e / o.out_tokens;
    pw->j_per_sample = NAN;
    pw->peak_power_w_per_chip = NAN; /* no per-kernel rows */
    pw->usd_per_hour_system = pw->usd_per_million_tokens = pw->usd_per_million_samples = NAN;
  }
  res->ttft_s = o.mean_ttft;
  res->tpot_s = o.mean_tpot;
  return SL_OK;
}
