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

/* One chip's dynamic energy of some ops, on the clock domain and off it (DRAM, links), their
 * compute-bound time and their memory-bound kernels near the ridge: what the TDP cap of a step
 * needs (power_cap_near). */
typedef struct step_e {
  double core, off, t_clock;
  sl_near near;
} step_e;

static void se_add(step_e *a, const step_e *b) {
  a->core += b->core, a->off += b->off, a->t_clock += b->t_clock;
  near_axpy(&a->near, 1, &b->near);
}

/* An empty step_e: the near bins are not cleared, only marked unused (a step makes several). */
static void se_zero(step_e *e) {
  e->core = e->off = e->t_clock = 0;
  e->near.used = 0;
}

/* A memo's compact step_e: its near-ridge kernels as one pair (decode attention: the fused kernel,
 * with the small streams beside it). */
typedef struct step_e1 {
  double core, off, t_clock, c, d;
} step_e1;

static step_e1 se_pack(const step_e *e) {
  step_e1 p = {e->core, e->off, e->t_clock, 0, 0};
  for (int k = 0; e->near.used >> k; k++)
    if (e->near.used >> k & 1) p.c += e->near.b[k].c, p.d += e->near.b[k].d;
  return p;
}

static void se_unpack(step_e *e, const step_e1 *p) {
  se_zero(e);
  e->core = p->core, e->off = p->off, e->t_clock = p->t_clock;
  near_add(&e->near, p->c, p->d);
}

typedef struct step_model {
  sl_scenario sc; /* a private copy: batch and lengths are changed to build graphs */
  sl_plan plan;
  sl_costctx ctx;
  arena scratch;
  double *lin, *head;     /* memo by token / sequence count; < 0 unknown */
  step_e *lin_e, *head_e; /* their dynamic energy (one chip's share) and clocked time */
  double *lin_g, *head_g; /* their time replayed from a captured CUDA graph */
  step_e attn_e;          /* energy and clocked time of the last attn_time call */
  double attn_g;          /* its graph-replayed time */
  sl_stack gstack;        /* the stack as it replays a graph (stack_graph_variant) */
  sl_costctx gctx;
  const sl_costctx *gctxp; /* &gctx, or NULL when the stack runs no graphs */
  size_t cap;
  /* memo of decode attention by (sequences, mean context in units of 16 tokens): its time is
   * linear in the KV bytes read, so a 16-token step changes it by well under 0.1% */
  uint64_t *akey;
  double *aval, *aval_g;
  step_e1 *aval_e;
  size_t amask;
  sl_error *err;
  int failed;
  /* every step's time (host work included) times this: 1, or the engine a cross-validated interval's
   * end implies (serve_latency_interval) */
  double time_scale;
} step_model;

/* The time of g's ops of one kind (attention, head, or the rest), launched kernel by kernel and, in
 * *graph_t, replayed from a captured graph (gctx; NULL: the same). */
static double graph_time(const sl_costctx *ctx, const sl_costctx *gctx, const sl_graph *g, int attention,
                         int head, step_e *energy, double *graph_t) {
  double t = 0, tg = 0;
  step_e e;
  se_zero(&e);
  for (size_t i = 0; i < g->n; i++) {
    const sl_op *op = &g->ops[i];
    int is_attn = op->cat == SL_CAT_ATTENTION;
    int is_head = op->head;
    if ((is_attn && attention) || (is_head && head) || (!is_attn && !is_head && !attention && !head)) {
      sl_cost c = cost_op(ctx, op);
      t += c.time_s * op->count;
      e.core += c.e_core_j * op->count, e.off += c.e_off_j * op->count;
      if (c.bound == SL_BOUND_COMPUTE) e.t_clock += c.time_s * op->count;
      near_add_part(&e.near, &e.t_clock, clockpart_of(&c, op->count));
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
  se_zero(&m->attn_e), m->attn_g = 0;
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

/* Attention of B decoding sequences of q new tokens each (1; k + 1 when speculative decoding verifies
 * k drafted tokens, causal among them) over a mean context of kv tokens. */
static inline double decode_attn_q(step_model *m, double B, double q, double kv) {
  se_zero(&m->attn_e), m->attn_g = 0;
  if (B <= 0) return 0;
  double q16 = round(kv / 16);
  uint64_t key = ((uint64_t)B << 32) ^ (uint64_t)q16 ^ 0x8000000000000000ull ^ ((uint64_t)(q - 1) << 52);
  size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & m->amask;
  for (size_t probe = 0; probe <= m->amask; probe++, i = (i + 1) & m->amask) {
    if (m->akey[i] == key) {
      se_unpack(&m->attn_e, &m->aval_e[i]), m->attn_g = m->aval_g[i];
      return m->aval[i];
    }
    if (m->akey[i] == 0) {
      double t = attn_time(m, B, q, fmax(q, q16 * 16), q > 1);
      m->akey[i] = key, m->aval[i] = t, m->aval_e[i] = se_pack(&m->attn_e), m->aval_g[i] = m->attn_g;
      return t;
    }
  }
  return attn_time(m, B, q, fmax(q, q16 * 16), q > 1); /* table full: no memo */
}

static double decode_attn_time(step_model *m, double B, double kv) {
  return decode_attn_q(m, B, 1, kv);
}

/* ---- requests ---------------------------------------------------------------------------------- */

typedef struct req {
  double arrival, t_first, t_done;
  double prompt, gen; /* lengths */
  double target;      /* tokens to prefill (prompt, or prompt + generated after preemption) */
  double prefilled, generated, blocks;
  int state;    /* 0 waiting, 1 running, 2 done */
  double chunk; /* tokens prefilled in the current step */
  /* prefix caching: the request's shared prefix (an index into its replica's prefix table, -1: none),
   * the whole blocks of it, and how many of its blocks it maps from the cache */
  long pfx;
  double pfx_blocks, shared;
  /* prefix caching: a preempted request's own computed blocks, kept cached (the whole blocks past
   * own_from, the shared prefix it mapped) until evicted, tail first; its links on the LRU list */
  double own_blocks, own_from;
  long own_prev, own_next;
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
  double hit_tokens, prompt_tokens, evictions; /* prefix caching: prompt tokens found cached / admitted */
  double spec_steps, spec_tokens;              /* speculative decoding: sequence-steps, tokens they emitted */
  int has_prefix;                              /* some request has a shared prefix */
  double mean_ttft, mean_tpot, mean_step;
  double itl[3];     /* inter-token latency p50, p90, p99 over the window (NaN: no step decoded) */
  double win0, win1; /* the measurement window (the whole run: -inf, inf) */
  int infeasible;
  /* disaggregated pools: per pool (prefill, decode) busy engine-seconds, dynamic energy, steps */
  double pool_busy[2], pool_energy[2], pool_steps[2];
  double xfer_sum, xfer_max, xfer_n; /* KV transfers: from the end of the prefill to the decode pool */
  /* the measurement window (serve.window): its length, the tokens emitted and the engine steps and
   * busy engine-seconds in it; energy_j, pool_energy and pool_busy are over it too (run: the whole
   * run, makespan and out_tokens) */
  double span, span_tokens, span_steps, busy;
  double raw_j, raw_s, clock_s; /* the TDP cap: uncapped dynamic energy and engine time, clock x time */
  double raw_s_run;             /* the uncapped engine time over the whole run (steps and mean_step's) */
  double running;               /* sequences running, time-averaged over the window, summed over engines */
  double pool_raw_j[2], pool_raw_s[2]; /* raw_j and raw_s per pool (disaggregated), over the window */
} sim_out;

/* What an engine runs: prefill and decode together (one colocated fleet), or one of them in a pool
 * of a disaggregated fleet. */
enum { ROLE_COLOCATED, ROLE_PREFILL, ROLE_DECODE };

/* The KV cache's move from a prefill engine to a decode engine: every chip of the sending engine
 * sends its shard (its tp share of the heads, its pp share of the layers) and every chip of the
 * receiving engine takes its own, each over its own link; the slower side sets the time. */
typedef struct xfer_spec {
  double send_bytes, recv_bytes; /* per prompt token, per chip */
  double send_Bps, recv_Bps;     /* per chip */
  double latency_s;
} xfer_spec;

static double xfer_time(const xfer_spec *x, double prompt) {
  return fmax(prompt * x->send_bytes / x->send_Bps, prompt * x->recv_bytes / x->recv_Bps) + x->latency_s;
}


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
  double run_s; /* sequences running in a step x its length, summed (the time-averaged batch) */
  size_t done;
  /* prefix caching: per shared prefix, the blocks cached on this replica (0: none) and the running
   * requests that map them; cached prefixes no request uses form an LRU list (oldest at lru_head) */
  size_t n_pfx;
  double *pc_blocks, *pc_ref;
  long *pc_prev, *pc_next;
  long lru_head, lru_tail;
  double evictable; /* blocks of the cached prefixes on the LRU list */
  double hit_tokens, prompt_tokens, evictions;
  /* speculative decoding: the draft's step model (NULL: none), the acceptance draws, the counts */
  step_model *draft;
  uint64_t rng;
  double spec_steps, spec_tokens;
  /* disaggregated pools */
  int role;          /* ROLE_* */
  size_t *handoff;   /* prefill engine: requests whose prefill ended in the last step */
  size_t n_handoff;
  double link_free;  /* prefill engine: when its links finish the transfers already started */
  /* the TDP cap: the steps' dynamic energy and time at the top clock, and the clock ratio times
   * the time of each step (summed) */
  double raw_j, raw_s, clock_s;
  /* serve.window steady: every step's end, length, dynamic energy, tokens emitted, uncapped energy
   * and length, clock ratio x length, sequences decoding and sequences running (STEP_LOG doubles
   * each), to average over the window and find the inter-token latencies once the run has found it;
   * NULL otherwise */
  double *log;
  size_t n_log, cap_log;
  /* serve.window run: the decodes of every step by its length, in ITL_BINS bins of ITL_RATIO from
   * ITL_MIN (the whole run's inter-token latencies, with no log to keep); NULL with a steady window */
  double *itl_hist;
} engine;
enum { STEP_LOG = 9, ITL_BINS = 4096 };
static const double ITL_MIN = 1e-7, ITL_RATIO = 1.005; /* 0.1 us to 0.1 us x 1.005^4096 (8.3e1 s) */

static size_t itl_bin(double dt) {
  double b = dt > ITL_MIN ? floor(log(dt / ITL_MIN) / log(ITL_RATIO)) : 0;
  return b < ITL_BINS - 1 ? (size_t)b : ITL_BINS - 1;
}

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

static int engine_init(engine *e, step_model *m, const sl_serve_spec *sv, req *r, double kv_blocks, size_t n_pfx,
                       int role) {
  memset(e, 0, sizeof *e);
  e->m = m, e->sv = sv, e->r = r, e->free_blocks = kv_blocks;
  e->qcap = 1024;
  e->running = calloc((size_t)sv->max_seqs + 1, sizeof *e->running);
  e->waiting = calloc(e->qcap, sizeof *e->waiting);
  e->idle = 1;
  e->lru_head = e->lru_tail = -1;
  e->role = role;
  if (sv->window != SL_WINDOW_STEADY && !(e->itl_hist = calloc(ITL_BINS, sizeof *e->itl_hist))) return -1;
  if (role == ROLE_PREFILL && !(e->handoff = calloc((size_t)sv->max_seqs + 1, sizeof *e->handoff))) return -1;
  if (n_pfx > 0) {
    e->n_pfx = n_pfx;
    e->pc_blocks = calloc(n_pfx, sizeof *e->pc_blocks);
    e->pc_ref = calloc(n_pfx, sizeof *e->pc_ref);
    e->pc_prev = calloc(n_pfx, sizeof *e->pc_prev);
    e->pc_next = calloc(n_pfx, sizeof *e->pc_next);
    if (!e->pc_blocks || !e->pc_ref || !e->pc_prev || !e->pc_next) return -1;
  }
  return e->running && e->waiting ? 0 : -1;
}

static void engine_free(engine *e) {
  free(e->log), free(e->itl_hist);
  free(e->running), free(e->waiting), free(e->handoff);
  free(e->pc_blocks), free(e->pc_ref), free(e->pc_prev), free(e->pc_next);
}

/* ---- prefix caching: the replica's cached prefixes ------------------------------------------------
 * The LRU list holds two kinds of entries: a shared prefix p (0 <= p < n_pfx) that no running request
 * maps, and the own blocks of a preempted request i (entry n_pfx + i), kept until it is admitted again
 * or memory runs short.  These give an entry's blocks and links. */

static double *lru_blocks(engine *e, long p) {
  return p < (long)e->n_pfx ? &e->pc_blocks[p] : &e->r[p - (long)e->n_pfx].own_blocks;
}
static long *lru_prev(engine *e, long p) {
  return p < (long)e->n_pfx ? &e->pc_prev[p] : &e->r[p - (long)e->n_pfx].own_prev;
}
static long *lru_next(engine *e, long p) {
  return p < (long)e->n_pfx ? &e->pc_next[p] : &e->r[p - (long)e->n_pfx].own_next;
}

static void lru_unlink(engine *e, long p) {
  long a = *lru_prev(e, p), b = *lru_next(e, p);
  if (a >= 0)
    *lru_next(e, a) = b;
  else
    e->lru_head = b;
  if (b >= 0)
    *lru_prev(e, b) = a;
  else
    e->lru_tail = a;
  e->evictable -= *lru_blocks(e, p);
}

static void lru_push(engine *e, long p) { /* the most recently used, at the tail */
  *lru_prev(e, p) = e->lru_tail, *lru_next(e, p) = -1;
  if (e->lru_tail >= 0)
    *lru_next(e, e->lru_tail) = p;
  else
    e->lru_head = p;
  e->lru_tail = p;
  e->evictable += *lru_blocks(e, p);
}

/* Makes `need` blocks free, evicting cached entries no request uses, least recently used first: a
 * shared prefix whole, a preempted request's own blocks only as many as are needed, from its tail
 * (vLLM frees a request's blocks tail first, so its head stays cached longest); evicts nothing when
 * even all of them would not be enough. */
static void engine_reclaim(engine *e, double need) {
  if (need <= e->free_blocks || need > e->free_blocks + e->evictable) return;
  while (need > e->free_blocks && e->lru_head >= 0) {
    long p = e->lru_head;
    double *b = lru_blocks(e, p);
    if (p >= (long)e->n_pfx && *b > need - e->free_blocks) {
      double k = need - e->free_blocks;
      *b -= k, e->evictable -= k, e->free_blocks += k;
      break;
    }
    lru_unlink(e, p);
    e->free_blocks += *b, *b = 0;
    if (p < (long)e->n_pfx) e->evictions++;
  }
}

/* A request gives back its blocks: its own to the free pool, the cached prefix's to the cache. */
static void engine_release(engine *e, req *q) {
  e->free_blocks += q->blocks - q->shared;
  if (q->shared > 0 && --e->pc_ref[q->pfx] == 0) lru_push(e, q->pfx);
  q->blocks = 0, q->shared = 0;
}

/* Tokens a speculative step emits for one sequence: 1 + a, a drafted tokens accepted with the
 * truncated geometric law P(a = j) = alpha^j (1 - alpha) for j < k, P(a = k) = alpha^k, drawn from
 * one uniform u as a = min(k, floor(log u / log alpha)) (P(a >= j) = P(u <= alpha^j) = alpha^j). */
static double spec_draw(uint64_t *rng, double k, double alpha) {
  double u = core_rng_unit(rng);
  if (alpha <= 0) return 1;
  if (alpha >= 1) return 1 + k;
  return 1 + fmin(k, floor(log(u) / log(alpha)));
}

/* Request i arrives at the replica at time t (its arrival, or the end of its KV transfer). */
static int engine_arrive(engine *e, size_t i, double t) {
  req *q = &e->r[i];
  if (!engine_busy(e)) e->now = fmax(e->now, t), e->idle = 1;
  e->outstanding += e->role == ROLE_PREFILL ? q->target - q->prefilled : remaining(q); /* a prefill pool's load: prompts */
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
  e->n_handoff = 0;
  /* 0. a decode pool's engine admits arrived requests (prefilled elsewhere) while the blocks of their
   * whole prompt and output are free: it never preempts */
  if (e->role == ROLE_DECODE)
    while (e->head != e->tail && e->n_run < (size_t)sv->max_seqs) {
      req *q = &r[e->waiting[e->head]];
      double need = ceil((q->prompt + q->gen) / block);
      if (need > e->free_blocks) break;
      e->head = (e->head + 1) % e->qcap;
      q->state = 1, q->blocks = need, e->free_blocks -= need, q->chunk = 0;
      e->running[e->n_run++] = (size_t)(q - r);
    }
  step_model *d = e->draft; /* speculative decoding: the draft's step model, or NULL */
  double sk = d ? sv->spec_tokens : 0, sq = 1 + sk; /* tokens a decode verifies (1 without a draft) */
  /* 1. one token (with a draft: k + 1 verified) for every decoding sequence, preempting the newest
   * when blocks run out (after evicting cached prefixes no request uses) */
  double tokens = 0, dec = 0, kv_sum = 0, seqs = 0; /* seqs: sequences in the step */
  int preempted = 0; /* sequences preempted in this step: then it admits none (vLLM's V1 scheduler) */
  /* (every running sequence's chunk is 0 here: step 3 clears it, admission sets it) */
  for (size_t j = 0; j < e->n_run && tokens < budget; j++) { /* decodes count against the budget too */
    req *q = &r[e->running[j]];
    if (q->prefilled < q->target) continue; /* still prefilling */
    double ctx = q->prompt + q->generated;
    double need = ceil((ctx + sq) / block) - q->blocks;
    if (need > e->free_blocks) engine_reclaim(e, need);
    while (need > 0 && e->free_blocks < need && e->n_run > j + 1) {
      size_t vi = e->running[--e->n_run]; /* the most recently admitted */
      req *v = &r[vi];
      e->outstanding -= remaining(v);
      /* with prefix caching its computed whole blocks stay cached (past the shared prefix it maps,
       * which its release hands back to the prefix's entry) */
      double kv = v->prefilled < v->target ? v->prefilled : v->prompt + v->generated - 1;
      double from = v->shared, own = sv->prefix_caching ? floor(kv / block) - from : 0;
      engine_release(e, v);
      if (own > 0) {
        e->free_blocks -= own;
        v->own_blocks = own, v->own_from = from;
        lru_push(e, (long)e->n_pfx + (long)vi);
      }
      preempted++;
      v->prefilled = 0, v->target = v->prompt + v->generated, v->state = 0;
      e->outstanding += remaining(v);
      if (engine_queue(e, vi, 1)) return -1;
      e->preempt++;
      if (need > e->free_blocks) engine_reclaim(e, need);
    }
    if (need > 0) {
      if (e->free_blocks < need) continue; /* nothing left to preempt: it waits a step */
      q->blocks += need, e->free_blocks -= need;
    }
    q->chunk = sq;
    tokens += sq, dec++, kv_sum += ctx + sq;
    seqs++;
  }
  /* 2. prefill chunks: running partial prefills first, then admissions in arrival order */
  double kv_mean = dec > 0 ? kv_sum / dec : 0;
  double emit = dec * sq, attn = d ? decode_attn_q(m, dec, sq, kv_mean) : decode_attn_time(m, dec, kv_mean);
  step_e se; /* the step's energy: decode attention, then the rest */
  se_zero(&se), se_add(&se, &m->attn_e);
  double attn_g = m->attn_g;       /* decode attention from a graph */
  double d_attn = 0, d_emit = dec; /* the draft's pass over the step's prefill chunks */
  step_e d_e;
  se_zero(&d_e);
  for (size_t j = 0; j < e->n_run && tokens < budget; j++) {
    req *q = &r[e->running[j]];
    if (q->prefilled >= q->target || q->chunk > 0) continue;
    double c = fmin(q->target - q->prefilled, budget - tokens);
    double need = fmax(0, ceil((q->prefilled + c) / block) - q->blocks); /* 0 when reserved */
    if (need > e->free_blocks) engine_reclaim(e, need);
    if (need > e->free_blocks)
      c = fmax(0, (q->blocks + e->free_blocks) * block - q->prefilled), need = e->free_blocks;
    if (c <= 0) continue;
    q->blocks += need, e->free_blocks -= need;
    q->chunk = c;
    tokens += c, seqs++;
    attn += attn_time(m, 1, c, q->prefilled + c, 1);
    se_add(&se, &m->attn_e);
    if (d) d_attn += attn_time(d, 1, c, q->prefilled + c, 1), se_add(&d_e, &d->attn_e);
    if (q->prefilled + c >= q->target) emit++, d_emit++;
  }
  while (!preempted && e->role != ROLE_DECODE && e->head != e->tail && tokens < budget &&
         e->n_run < (size_t)sv->max_seqs) {
    req *q = &r[e->waiting[e->head]];
    long own_node = (long)e->n_pfx + (long)(q - r);
    /* a cached prefix: its whole blocks are mapped, not prefilled (at least one prompt token is
     * computed, for the logits of the first output token) */
    double hit = 0, own = 0;
    if (q->pfx >= 0 && sv->prefix_caching && e->pc_blocks[q->pfx] > 0)
      hit = fmin(fmin(e->pc_blocks[q->pfx], q->pfx_blocks), floor((q->target - 1) / block));
    /* a preempted request's own blocks still cached: mapped after the shared prefix they continue
     * (or alone, when they start at its first block and reach further); dropped when their chain
     * is broken (the shared prefix they follow was evicted) */
    if (q->own_blocks > 0) {
      if (q->own_from == hit)
        own = q->own_blocks;
      else if (q->own_from == 0 && q->own_blocks >= hit)
        own = q->own_blocks, hit = 0;
      else {
        lru_unlink(e, own_node);
        e->free_blocks += q->own_blocks, q->own_blocks = 0;
      }
    }
    double mapped = hit + own;
    double c = fmin(q->target - mapped * block, budget - tokens);
    if (!sv->chunked_prefill && c < q->target - mapped * block) break;
    /* on demand: blocks for this chunk; reserved: for the whole prompt and every output token */
    /* a prefill pool's engine: the whole prompt (its KV leaves with the request) */
    double need = e->role == ROLE_PREFILL ? ceil(q->target / block) - mapped
                  : reserve               ? ceil((q->target + q->gen - q->generated + sk) / block) - mapped
                                          : ceil(c / block);
    /* the blocks that evicting could free, less this request's own cached prefix and blocks */
    double spare = e->evictable - (hit > 0 && e->pc_ref[q->pfx] == 0 ? e->pc_blocks[q->pfx] : 0) - own;
    if (need > e->free_blocks + spare) break;
    if (hit > 0) { /* map the prefix: it is in use, no longer evictable */
      if (e->pc_ref[q->pfx]++ == 0) lru_unlink(e, q->pfx);
    }
    if (own > 0) { /* its own blocks are its own again */
      lru_unlink(e, own_node);
      q->own_blocks = 0;
    }
    engine_reclaim(e, need);
    e->head = (e->head + 1) % e->qcap;
    q->state = 1;
    q->blocks = need + mapped, e->free_blocks -= need;
    q->shared = hit;
    q->prefilled = mapped * block;
    q->chunk = c;
    e->running[e->n_run++] = (size_t)(q - r);
    tokens += c, seqs++;
    attn += attn_time(m, 1, c, q->prefilled + c, 1);
    se_add(&se, &m->attn_e);
    if (d) d_attn += attn_time(d, 1, c, q->prefilled + c, 1), se_add(&d_e, &d->attn_e);
    if (q->prefilled + c >= q->target) emit++, d_emit++;
    if (sv->prefix_caching) {
      e->prompt_tokens += q->target, e->hit_tokens += mapped * block;
      e->outstanding -= mapped * block;
    }
  }
  if (tokens == 0) return 0;
  double dt = lin_time(m, tokens) + attn + head_time(m, emit);
  if (m->failed || !isfinite(dt)) return -1;
  int graph = seqs == dec; /* decodes only: the step replays a captured CUDA graph */
  if (graph) dt = m->lin_g[(size_t)tokens] + attn_g + m->head_g[(size_t)emit];
  se_add(&se, &m->lin_e[(size_t)tokens]), se_add(&se, &m->head_e[(size_t)emit]);
  if (d) {
    /* the draft: one pass over the step's new tokens (the prefill chunks and each decoding
     * sequence's last token) proposes the first drafted token, k - 1 decode steps the rest */
    double dn = tokens - dec * sq + dec;
    double da = decode_attn_time(d, dec, kv_mean - sk), dag = d->attn_g;
    double t1 = lin_time(d, dn) + da + d_attn + head_time(d, d_emit);
    se_add(&d_e, &d->attn_e), se_add(&d_e, &d->lin_e[(size_t)dn]);
    if (d_emit > 0) se_add(&d_e, &d->head_e[(size_t)d_emit]);
    if (graph) t1 = d->lin_g[(size_t)dn] + dag + d->head_g[(size_t)d_emit];
    for (double i = 1; i < sk && dec > 0; i++) {
      double a = decode_attn_time(d, dec, kv_mean - sk + i), ag = d->attn_g;
      t1 += graph ? d->lin_g[(size_t)dec] + ag + d->head_g[(size_t)dec]
                  : lin_time(d, dec) + a + head_time(d, dec);
      se_add(&d_e, &d->attn_e), se_add(&d_e, &d->lin_e[(size_t)dec]), se_add(&d_e, &d->head_e[(size_t)dec]);
    }
    if (d->failed || !isfinite(t1)) {
      m->failed = 1;
      return -1;
    }
    dt += t1;
    se_add(&se, &d_e);
  }
  /* The TDP cap of the step (power_cap): a step whose power at the top clock would pass the TDP runs
   * at the clock that holds it there, its compute-bound time stretched and its on-chip energy per
   * action lowered (docs/energy-cost.md §2); raw_*: the same step uncapped. */
  double tc = fmin(se.t_clock, dt);
  sl_capped cp = power_cap_near(&m->sc.chip, se.core, se.off, tc, dt - tc, &se.near);
  double step_j = cp.dyn_j, raw_j = se.core + se.off;
  /* both with the engine's host work */
  double raw_dt = step_with_host(&m->sc.stack, dt, seqs, e->idle) * m->time_scale;
  dt = step_with_host(&m->sc.stack, cp.time_s, seqs, e->idle) * m->time_scale;
  e->idle = 0;
  e->energy_j += step_j;
  e->raw_j += raw_j, e->raw_s += raw_dt, e->clock_s += cp.clock_ratio * dt;
  e->now += dt;
  e->steps++, e->batch_tokens += tokens, e->step_sum += dt;
  double ran = (double)e->n_run; /* vLLM's num_requests_running: every scheduled sequence, prefills too */
  e->run_s += ran * dt;
  e->outstanding -= d ? tokens - dec * sq : tokens; /* a draft's decodes: what they emit, below */
  /* 3. advance every sequence that ran */
  size_t keep = 0;
  double emitted_all = 0; /* tokens the step emitted (first tokens included) */
  for (size_t j = 0; j < e->n_run; j++) {
    req *q = &r[e->running[j]];
    double chunk = q->chunk;
    q->chunk = 0; /* consumed: the next step starts from none */
    if (chunk > 0) {
      if (q->prefilled < q->target) {
        q->prefilled += chunk;
        if (q->prefilled >= q->target) { /* the prefill emits a token */
          if (q->t_first == 0) q->t_first = e->now;
          q->generated++, emitted_all++;
          if (e->role != ROLE_PREFILL) e->outstanding--;
        }
        /* the first prefill past the prefix's whole blocks caches them, unless cached already */
        if (q->pfx >= 0 && sv->prefix_caching && q->shared == 0 && q->pfx_blocks > 0 &&
            e->pc_blocks[q->pfx] == 0 && q->prefilled >= q->pfx_blocks * block) {
          e->pc_blocks[q->pfx] = q->pfx_blocks, e->pc_ref[q->pfx] = 1;
          q->shared = q->pfx_blocks;
        }
      } else if (d) {
        double a = spec_draw(&e->rng, sk, sv->spec_acceptance);
        double emitted = fmin(a, q->gen - q->generated);
        q->generated += emitted, emitted_all += emitted;
        e->outstanding -= emitted;
        e->spec_steps++, e->spec_tokens += a;
      } else {
        q->generated++, emitted_all++;
      }
    }
    if (e->role == ROLE_PREFILL && q->prefilled >= q->target && q->generated < q->gen) {
      q->state = 3; /* its KV cache leaves for the decode pool */
      engine_release(e, q);
      e->handoff[e->n_handoff++] = e->running[j];
    } else if (q->generated >= q->gen && q->prefilled >= q->target) {
      q->state = 2, q->t_done = e->now;
      engine_release(e, q);
      e->done++;
    } else {
      e->running[keep++] = e->running[j];
    }
  }
  e->n_run = keep;
  if (e->itl_hist) {
    if (dec > 0) e->itl_hist[itl_bin(dt)] += dec;
  } else { /* serve.window steady: the step, for the window's averages and inter-token latencies */
    if (e->n_log == e->cap_log) {
      size_t cap = e->cap_log ? 2 * e->cap_log : 1024;
      double *g = realloc(e->log, cap * STEP_LOG * sizeof *g);
      if (!g) return -1;
      e->log = g, e->cap_log = cap;
    }
    double *g = e->log + e->n_log++ * STEP_LOG;
    g[0] = e->now, g[1] = dt, g[2] = step_j, g[3] = emitted_all;
    g[4] = raw_j, g[5] = raw_dt, g[6] = cp.clock_ratio * dt, g[7] = dec, g[8] = ran;
  }
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

/* The per-request figures of a finished run: TTFT and TPOT percentiles and means, tokens, makespan,
 * throughput and goodput (ttft, tpot: scratch of n each). */
static void request_stats(const req *r, size_t n, const sl_serve_spec *sv, double *ttft, double *tpot, sim_out *o) {
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
  o->makespan = end - r[0].arrival;
  o->out_tokens = out_tokens;
  o->throughput = out_tokens / o->makespan;
  o->goodput = (double)good / o->makespan;
  o->mean_ttft = sum_ttft / (double)n;
  o->mean_tpot = nt ? sum_tpot / (double)nt : NAN;
}

/* The measurement window of a finished run (o: request_stats' figures and the engines' sums over
 * the run).  run: all of it.  steady: from the moment B = max_seqs x (engines holding decodes)
 * requests have their first token to the moment n - B - 1 have finished, the ML.ENERGY harness's
 * steady state; the engines' logged steps are cut at its ends (a step's energy and busy time in
 * proportion, its tokens when it ends inside).  Returns -1 when the window is empty (scratch: n). */
static int measure_window(const req *r, size_t n, const engine *e, size_t n_eng, size_t n_front, double B,
                          double *scratch, sim_out *o) {
  o->span = o->makespan, o->span_tokens = o->out_tokens, o->span_steps = o->steps, o->busy = 0;
  o->raw_j = o->raw_s = o->clock_s = o->running = 0;
  for (int k = 0; k < 2; k++)
    o->pool_raw_j[k] = o->pool_raw_s[k] = 0;
  for (size_t j = 0; j < n_eng; j++) {
    o->busy += e[j].step_sum, o->raw_j += e[j].raw_j, o->raw_s += e[j].raw_s, o->clock_s += e[j].clock_s;
    o->running += o->makespan > 0 ? e[j].run_s / o->makespan : 0;
    o->pool_raw_j[j >= n_front] += e[j].raw_j, o->pool_raw_s[j >= n_front] += e[j].raw_s;
  }
  o->raw_s_run = o->raw_s;
  o->win0 = -INFINITY, o->win1 = INFINITY;
  if (e[0].sv->window != SL_WINDOW_STEADY) return 0;
  size_t b = (size_t)B;
  if (b < 1 || n < b + 2) return -1;
  for (size_t i = 0; i < n; i++)
    scratch[i] = r[i].t_first;
  qsort(scratch, n, sizeof *scratch, cmp_double);
  double t0 = scratch[b - 1];
  for (size_t i = 0; i < n; i++)
    scratch[i] = r[i].t_done;
  qsort(scratch, n, sizeof *scratch, cmp_double);
  double t1 = scratch[n - b - 2];
  if (!(t1 > t0)) return -1;
  double tok = 0, dyn = 0, busy = 0, steps = 0, pe[2] = {0, 0}, pb[2] = {0, 0}, rj = 0, rs = 0, ck = 0,
         run = 0;
  double prj[2] = {0, 0}, prs[2] = {0, 0};
  for (size_t j = 0; j < n_eng; j++) {
    int back = j >= n_front;
    for (size_t k = 0; k < e[j].n_log; k++) {
      const double *g = e[j].log + k * STEP_LOG;
      double end = g[0], dt = g[1], in = fmin(end, t1) - fmax(end - dt, t0);
      if (in > 0 && dt > 0) {
        double f = in / dt;
        dyn += g[2] * f, busy += in, steps += f, run += g[8] * in;
        rj += g[4] * f, rs += g[5] * f, ck += g[6] * f;
        pe[back] += g[2] * f, pb[back] += in, prj[back] += g[4] * f, prs[back] += g[5] * f;
      }
      if (end > t0 && end <= t1) tok += g[3];
    }
  }
  o->span = t1 - t0, o->span_tokens = tok, o->span_steps = steps, o->busy = busy;
  o->running = run / o->span;
  o->win0 = t0, o->win1 = t1;
  o->raw_j = rj, o->raw_s = rs, o->clock_s = ck;
  o->energy_j = dyn;
  for (int k = 0; k < 2; k++)
    o->pool_energy[k] = pe[k], o->pool_busy[k] = pb[k], o->pool_raw_j[k] = prj[k], o->pool_raw_s[k] = prs[k];
  o->throughput = tok / o->span;
  return 0;
}

/* The inter-token latencies over the window (its steps: those that end in it).  Every sequence a
 * step decodes waits the step's length for its next token (a step of decodes alone, or one with a
 * prefill chunk beside them), so their distribution is the steps' lengths weighted by their
 * decoding sequences: vLLM's benchmark's ITL, the time between one streamed token and the next.
 * Over a steady window from the step log, exactly; over the whole run from the histogram (within
 * half a bin, 0.25%).  Returns -1 when out of memory. */
static int itl_stats(const engine *e, size_t n_eng, sim_out *o) {
  const double ps[3] = {0.50, 0.90, 0.99};
  if (e[0].itl_hist) { /* the whole run: the engines' histograms, each bin at its geometric centre */
    double w = 0, c[3] = {0, 0, 0};
    for (size_t j = 0; j < n_eng; j++)
      for (size_t k = 0; k < ITL_BINS; k++)
        w += e[j].itl_hist[k];
    for (int q = 0; q < 3; q++)
      o->itl[q] = NAN;
    for (size_t k = 0; k < ITL_BINS && w > 0; k++) {
      double in = 0;
      for (size_t j = 0; j < n_eng; j++)
        in += e[j].itl_hist[k];
      for (int q = 0; q < 3; q++)
        if (c[q] < ps[q] * w && (c[q] += in) >= ps[q] * w)
          o->itl[q] = ITL_MIN * pow(ITL_RATIO, (double)k + 0.5);
    }
    return 0;
  }
  size_t n = 0;
  for (size_t j = 0; j < n_eng; j++)
    n += e[j].n_log;
  double *v = malloc((n ? n : 1) * 2 * sizeof *v), w = 0;
  if (!v) return -1;
  size_t m = 0;
  for (size_t j = 0; j < n_eng; j++)
    for (size_t k = 0; k < e[j].n_log; k++) {
      const double *g = e[j].log + k * STEP_LOG;
      if (g[0] > o->win0 && g[0] <= o->win1 && g[7] > 0) v[2 * m] = g[1], v[2 * m + 1] = g[7], w += g[7], m++;
    }
  qsort(v, m, 2 * sizeof *v, cmp_double); /* by length (the first of each pair) */
  for (int q = 0; q < 3; q++) {
    double c = 0;
    o->itl[q] = NAN;
    for (size_t i = 0; i < m; i++)
      if ((c += v[2 * i + 1]) >= ps[q] * w) {
        o->itl[q] = v[2 * i];
        break;
      }
  }
  free(v);
  return 0;
}

/* serve.window steady over a run with no steady state: an input error naming the key. */
static void window_error(step_model *m, const sl_serve_spec *sv, size_t n, double engines) {
  m->failed = 1;
  if (m->err && !m->err->code)
    err_set(m->err, SL_ERR_INPUT, m->sc.file ? m->sc.file : "", sv->window_line, "serve.window",
            "steady: %zu requests have no steady state with %g in flight (max_seqs %g x %g replicas): the "
            "(requests - %g - 1)-th completion does not come after the %g-th first token",
            n, sv->max_seqs * engines, sv->max_seqs, engines, sv->max_seqs * engines, sv->max_seqs * engines);
}

/* The shared prefixes of the requests as dense indices 0..P-1 (req.pfx; -1: none) and their whole
 * blocks; returns P, or (size_t)-1 when out of memory. */
static size_t prefix_index(const sl_serve_spec *sv, const sl_request *in, req *r, size_t n) {
  size_t cap = 16, P = 0;
  while (cap < 2 * n) cap *= 2;
  double *key = NULL;
  long *val = NULL;
  for (size_t i = 0; i < n; i++) {
    r[i].pfx = -1;
    if (!(in[i].prefix_id >= 0)) continue;
    if (!key) {
      key = malloc(cap * sizeof *key), val = malloc(cap * sizeof *val);
      if (!key || !val) {
        free(key), free(val);
        return (size_t)-1;
      }
      for (size_t k = 0; k < cap; k++) key[k] = -1;
    }
    uint64_t h = (uint64_t)in[i].prefix_id * 0x9E3779B97F4A7C15ull;
    size_t k = (size_t)(h >> 20) & (cap - 1);
    while (key[k] >= 0 && key[k] != in[i].prefix_id) k = (k + 1) & (cap - 1);
    if (key[k] < 0) key[k] = in[i].prefix_id, val[k] = (long)P++;
    r[i].pfx = val[k];
    r[i].pfx_blocks = floor(fmin(in[i].prefix_tokens, in[i].prompt) / sv->kv_block_tokens);
  }
  free(key), free(val);
  return P;
}

/* One simulation of `replicas` replicas behind a router, the requests arriving at `rate` requests per
 * second over them all: a discrete-event loop that always advances the replica whose clock is
 * earliest, after routing every request that has arrived by then. */
static sl_status simulate(step_model *m, step_model *draft, const sl_serve_spec *sv, const sl_request *given,
                          size_t n_given, double rate, double kv_blocks, size_t replicas, sim_out *o) {
  memset(o, 0, sizeof *o);
  size_t n = given ? n_given : (size_t)sv->requests; /* given: these requests, not the scenario's traffic */
  if (replicas < 1) replicas = 1;
  req *r = calloc(n, sizeof *r);
  sl_request *in = calloc(n, sizeof *in);
  engine *e = calloc(replicas, sizeof *e);
  double *ttft = calloc(n, sizeof *ttft), *tpot = calloc(n, sizeof *tpot);
  int bad = !r || !in || !e || !ttft || !tpot;
  size_t n_eng = 0, n_pfx = 0;
  if (!bad) {
    if (given)
      memcpy(in, given, n * sizeof *in);
    else
      traffic_requests(sv, rate, in, n);
    for (size_t i = 0; i < n; i++) {
      r[i].arrival = in[i].arrival, r[i].prompt = in[i].prompt, r[i].gen = in[i].gen;
      r[i].target = r[i].prompt;
      if (in[i].prefix_id >= 0) o->has_prefix = 1;
    }
    /* prefix caching: the requests' shared prefixes, indexed for the replicas' tables */
    if (sv->prefix_caching && o->has_prefix) bad = (n_pfx = prefix_index(sv, in, r, n)) == (size_t)-1;
    else
      for (size_t i = 0; i < n; i++)
        r[i].pfx = -1;
  }
  while (!bad && n_eng < replicas) { /* a replica that failed half-way is freed with the others */
    bad = engine_init(&e[n_eng], m, sv, r, kv_blocks, n_pfx, ROLE_COLOCATED) != 0;
    e[n_eng].draft = draft; /* speculative decoding: its acceptance draws, a stream per replica */
    e[n_eng].rng = (uint64_t)sv->seed ^ 0x5350454344454331ull ^ ((uint64_t)n_eng * 0x9E3779B97F4A7C15ull);
    n_eng++;
  }
  free(in);
  if (bad) {
    for (size_t k = 0; k < n_eng; k++)
      engine_free(&e[k]);
    free(r), free(e), free(ttft), free(tpot);
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve: %zu requests)", n);
  }
  /* A request that could never fit (prompt + output, and the drafted tokens a step verifies, over
   * the whole KV cache) is infeasible. */
  double sk = draft ? sv->spec_tokens : 0;
  for (size_t i = 0; i < n; i++)
    if (ceil((r[i].prompt + r[i].gen + sk) / sv->kv_block_tokens) > kv_blocks) o->infeasible = 1;
  size_t next = 0, done = 0, turn = 0, shown = 0;
  int failed = 0;
  while (!o->infeasible && !failed && done < n) {
    size_t k = n_eng; /* the busy replica with the earliest clock */
    for (size_t j = 0; j < n_eng; j++)
      if (engine_busy(&e[j]) && (k == n_eng || e[j].now < e[k].now)) k = j;
    double t_next = k < n_eng ? e[k].now : INFINITY;
    if (next < n && r[next].arrival <= t_next) {
      if (engine_arrive(&e[route(e, n_eng, sv, &turn)], next, r[next].arrival)) failed = 1;
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
    request_stats(r, n, sv, ttft, tpot, o);
    double steps = 0, batch_tokens = 0, step_sum = 0;
    for (size_t j = 0; j < n_eng; j++) {
      steps += e[j].steps, batch_tokens += e[j].batch_tokens, step_sum += e[j].step_sum;
      o->preemptions += e[j].preempt, o->energy_j += e[j].energy_j;
      o->hit_tokens += e[j].hit_tokens, o->prompt_tokens += e[j].prompt_tokens, o->evictions += e[j].evictions;
      o->spec_steps += e[j].spec_steps, o->spec_tokens += e[j].spec_tokens;
    }
    o->steps = steps;
    o->batch_tokens = steps > 0 ? batch_tokens / steps : 0;
    o->mean_step = steps > 0 ? step_sum / steps : 0;
    o->kv_blocks = kv_blocks;
    if (measure_window(r, n, e, n_eng, n_eng, sv->max_seqs * (double)n_eng, ttft, o))
      window_error(m, sv, n, (double)n_eng);
    else if (itl_stats(e, n_eng, o)) {
      m->failed = 1;
      if (m->err && !m->err->code)
        err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve latencies)");
    }
  }
  for (size_t k = 0; k < n_eng; k++)
    engine_free(&e[k]);
  free(r), free(e), free(ttft), free(tpot);
  return m->failed ? (m->err && m->err->code ? m->err->code : SL_ERR_INTERNAL) : SL_OK;
}

/* A pool of engines of one step model: the whole fleet when colocated, or the prefill or the decode
 * pool of a disaggregated one. */
typedef struct pool_rt {
  sl_scenario sc; /* the pool's chip, chips and plan (serve_pool_scenario) */
  step_model m;
  double blocks;  /* KV blocks per chip */
  size_t engines; /* replicas: chips / (tp pp) */
  sl_memory mem;
} pool_rt;

/* The time-ordered KV transfers on their way to the decode pool: a binary min-heap on time. */
typedef struct xfer_ev {
  double t;
  size_t i;
} xfer_ev;

static void heap_push(xfer_ev *h, size_t *n, double t, size_t i) {
  size_t k = (*n)++;
  while (k > 0) {
    size_t up = (k - 1) / 2;
    if (h[up].t < t || (h[up].t == t && h[up].i < i)) break;
    h[k] = h[up], k = up;
  }
  h[k] = (xfer_ev){t, i};
}

static xfer_ev heap_pop(xfer_ev *h, size_t *n) {
  xfer_ev top = h[0], last = h[--*n];
  size_t k = 0;
  for (;;) {
    size_t c = 2 * k + 1;
    if (c >= *n) break;
    if (c + 1 < *n && (h[c + 1].t < h[c].t || (h[c + 1].t == h[c].t && h[c + 1].i < h[c].i))) c++;
    if (last.t < h[c].t || (last.t == h[c].t && last.i <= h[c].i)) break;
    h[k] = h[c], k = c;
  }
  if (*n > 0) h[k] = last;
  return top;
}

/* One simulation of a fleet behind a router, the requests arriving at `rate` requests per second over
 * it all: a discrete-event loop that always advances the replica whose clock is earliest, after
 * routing every request that has arrived by then.  One pool: colocated replicas.  Two pools: arrivals
 * go to the prefill pool's engines; a request whose prefill ends (its first token) moves its KV cache
 * over the link (xf), queued behind the sending engine's earlier transfers, and arrives at a decode
 * engine when the transfer ends (the transfers in flight are a heap on that time). */
static sl_status simulate_pools(pool_rt *pl, int n_pools, const sl_serve_spec *sv, const xfer_spec *xf, double rate,
                          sim_out *o) {
  memset(o, 0, sizeof *o);
  size_t n = (size_t)sv->requests;
  size_t n_front = pl[0].engines < 1 ? 1 : pl[0].engines;
  size_t n_back = n_pools > 1 ? (pl[1].engines < 1 ? 1 : pl[1].engines) : 0, replicas = n_front + n_back;
  step_model *m = &pl[0].m;
  req *r = calloc(n, sizeof *r);
  sl_request *in = calloc(n, sizeof *in);
  engine *e = calloc(replicas, sizeof *e);
  double *ttft = calloc(n, sizeof *ttft), *tpot = calloc(n, sizeof *tpot);
  xfer_ev *heap = n_back ? calloc(n, sizeof *heap) : NULL;
  int bad = !r || !in || !e || !ttft || !tpot || (n_back && !heap);
  size_t n_eng = 0;
  while (!bad && n_eng < replicas) { /* a replica that failed half-way is freed with the others */
    int back = n_eng >= n_front;
    pool_rt *p = &pl[back];
    bad = engine_init(&e[n_eng++], &p->m, sv, r, p->blocks, 0,
                      n_back == 0 ? ROLE_COLOCATED : back ? ROLE_DECODE : ROLE_PREFILL) != 0;
  }
  if (bad) {
    for (size_t k = 0; k < n_eng; k++)
      engine_free(&e[k]);
    free(r), free(in), free(e), free(ttft), free(tpot), free(heap);
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve: %zu requests)", n);
  }
  traffic_requests(sv, rate, in, n);
  for (size_t i = 0; i < n; i++) {
    r[i].arrival = in[i].arrival, r[i].prompt = in[i].prompt, r[i].gen = in[i].gen;
    r[i].target = r[i].prompt;
    r[i].pfx = -1; /* no prefix caching across pools */
  }
  free(in);
  /* A request that could never fit (prompt + output over the whole KV cache; disaggregated: its
   * prompt over a prefill engine's, prompt + output over a decode engine's) is infeasible. */
  for (size_t i = 0; i < n; i++)
    if (n_back ? ceil(r[i].prompt / sv->kv_block_tokens) > pl[0].blocks ||
                     ceil((r[i].prompt + r[i].gen) / sv->kv_block_tokens) > pl[1].blocks
               : ceil((r[i].prompt + r[i].gen) / sv->kv_block_tokens) > pl[0].blocks)
      o->infeasible = 1;
  size_t next = 0, done = 0, turn = 0, turn_back = 0, shown = 0, n_heap = 0;
  int failed = 0;
  while (!o->infeasible && !failed && done < n) {
    size_t k = n_eng; /* the busy replica with the earliest clock */
    for (size_t j = 0; j < n_eng; j++)
      if (engine_busy(&e[j]) && (k == n_eng || e[j].now < e[k].now)) k = j;
    double t_next = k < n_eng ? e[k].now : INFINITY;
    double t_xfer = n_heap ? heap[0].t : INFINITY; /* the next KV transfer to end */
    if (next < n && r[next].arrival <= t_next && r[next].arrival <= t_xfer) {
      if (engine_arrive(&e[route(e, n_front, sv, &turn)], next, r[next].arrival)) failed = 1;
      next++;
      continue;
    }
    if (n_heap && t_xfer <= t_next) {
      xfer_ev x = heap_pop(heap, &n_heap);
      if (engine_arrive(&e[n_front + route(e + n_front, n_back, sv, &turn_back)], x.i, x.t)) failed = 1;
      continue;
    }
    if (k == n_eng) break; /* nothing left to run or to arrive */
    size_t before = e[k].done;
    int ran = engine_step(&e[k]);
    if (ran < 0) {
      failed = 1;
    } else if (ran == 0) { /* blocked: it waits for the next arrival (cannot happen with running decodes) */
      double t_wait = fmin(next < n ? r[next].arrival : INFINITY, t_xfer);
      if (t_wait < INFINITY)
        e[k].now = fmax(e[k].now, t_wait), e[k].idle = 1;
      else
        o->infeasible = 1;
    }
    for (size_t h = 0; h < e[k].n_handoff; h++) { /* prefills that ended: their KV caches leave */
      req *q = &r[e[k].handoff[h]];
      double start = fmax(e[k].now, e[k].link_free), dt = xfer_time(xf, q->prompt);
      e[k].link_free = start + dt - xf->latency_s; /* the links carry one transfer after another */
      heap_push(heap, &n_heap, start + dt, e[k].handoff[h]);
      o->xfer_sum += start + dt - e[k].now, o->xfer_n++;
      o->xfer_max = fmax(o->xfer_max, start + dt - e[k].now);
    }
    e[k].n_handoff = 0;
    done += e[k].done - before;
    if (done - shown >= 8192) shown = done, core_progress("serving simulation: requests", (double)done, (double)n);
  }
  if (failed && !m->failed) {
    m->failed = 1;
    if (m->err && !m->err->code) err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve queue)");
  }
  int model_failed = pl[0].m.failed || (n_back && pl[1].m.failed);
  if (!o->infeasible && !model_failed) {
    request_stats(r, n, sv, ttft, tpot, o);
    double steps = 0, batch_tokens = 0, step_sum = 0;
    for (size_t j = 0; j < n_eng; j++) {
      steps += e[j].steps, batch_tokens += e[j].batch_tokens, step_sum += e[j].step_sum;
      o->preemptions += e[j].preempt, o->energy_j += e[j].energy_j;
      int back = j >= n_front;
      o->pool_busy[back] += e[j].step_sum, o->pool_energy[back] += e[j].energy_j, o->pool_steps[back] += e[j].steps;
    }
    o->steps = steps;
    o->batch_tokens = steps > 0 ? batch_tokens / steps : 0;
    o->mean_step = steps > 0 ? step_sum / steps : 0;
    o->kv_blocks = pl[n_back ? 1 : 0].blocks;
    double holders = (double)(n_back ? n_back : n_front); /* the engines that hold decoding requests */
    if (measure_window(r, n, e, n_eng, n_front, sv->max_seqs * holders, ttft, o))
      window_error(m, sv, n, holders);
    else if (itl_stats(e, n_eng, o)) {
      m->failed = 1;
      if (m->err && !m->err->code)
        err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory (serve latencies)");
    }
  }
  for (size_t k = 0; k < n_eng; k++)
    engine_free(&e[k]);
  free(r), free(e), free(ttft), free(tpot), free(heap);
  if (model_failed && !m->failed) { /* the decode pool's step model failed: report its error */
    m->failed = 1;
    if (m->err && !m->err->code) err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "serve: the decode pool's step model failed");
  }
  return m->failed ? (m->err && m->err->code ? m->err->code : SL_ERR_INTERNAL) : SL_OK;
}

/* A step model for scenario sc whose memo tables hold up to `tokens` tokens per step. */
static void model_init(step_model *m, const sl_scenario *sc, sl_error *err) {
  memset(m, 0, sizeof *m);
  m->sc = *sc;
  m->sc.a = (arena){0};
  m->sc.par = scenario_parallel(sc); /* the declared degrees, `auto` filled */
  m->err = err;
  m->time_scale = 1;
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
  m->lin_e = calloc(m->cap, sizeof *m->lin_e);
  m->head_e = calloc(m->cap, sizeof *m->head_e);
  m->lin_g = calloc(m->cap, sizeof *m->lin_g);
  m->head_g = calloc(m->cap, sizeof *m->head_g);
  if (!m->lin || !m->head || !m->lin_e || !m->head_e || !m->lin_g || !m->head_g)
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < m->cap; i++)
    m->lin[i] = m->head[i] = -1;
  return SL_OK;
}

/* The memo of decode attention (decode_attn_q). */
static sl_status model_memo(step_model *m) {
  m->amask = (1u << 18) - 1;
  m->akey = calloc(m->amask + 1, sizeof *m->akey);
  m->aval = calloc(m->amask + 1, sizeof *m->aval);
  m->aval_e = calloc(m->amask + 1, sizeof *m->aval_e);
  m->aval_g = calloc(m->amask + 1, sizeof *m->aval_g);
  if (!m->akey || !m->aval || !m->aval_e || !m->aval_g)
    return err_set(m->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
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
  double emit = decode_seqs + (prefill_tokens > 0 ? 1 : 0), n = prefill_tokens + decode_seqs;
  step_e se;
  se_zero(&se);
  double t = attn_time(&m, decode_seqs, 1, kv_mean, 0);
  se_add(&se, &m.attn_e);
  t += attn_time(&m, 1, prefill_tokens, prefill_tokens, 1);
  se_add(&se, &m.attn_e);
  t += lin_time(&m, n) + head_time(&m, emit);
  if (!m.failed && isfinite(t)) {
    if (n >= 1) se_add(&se, &m.lin_e[(size_t)n]);
    if (emit >= 1) se_add(&se, &m.head_e[(size_t)emit]);
  }
  if (prefill_tokens == 0) { /* decodes only: replayed from a captured CUDA graph, as in simulate */
    attn_time(&m, decode_seqs, 1, kv_mean, 0);
    t = m.lin_g[(size_t)decode_seqs] + m.head_g[(size_t)emit] + m.attn_g;
  }
  /* the step's cap, as simulate applies it */
  double tc = fmin(se.t_clock, t);
  if (!m.failed && t > 0) t = power_cap_near(&m.sc.chip, se.core, se.off, tc, t - tc, &se.near).time_s;
  t = step_with_host(&sc->stack, t, emit, decode_seqs == 0); /* a prefill alone: the first step */
  model_free(&m);
  if (m.failed) return err && err->code ? err->code : SL_ERR_INTERNAL;
  *time_s = t;
  return SL_OK;
}

static void curve_point(sl_serve_point *c, double rate, const sim_out *o) {
  c->rate_per_s = rate;
  for (int k = 0; k < 3; k++)
    c->ttft[k] = o->ttft[k], c->tpot[k] = o->tpot[k], c->itl[k] = o->itl[k];
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
  double engine_gib = model_weight_bytes(sc) / GIB;
  double avail = chip_dram_bytes(&sc->chip) / GIB * tp * pp - engine_gib;
  double isl = dist_mean(&sc->serve.prompt), osl = dist_mean(&sc->serve.gen);
  if (sc->serve.trace && sc->serve.n_trace > 0) { /* a trace: its own mean lengths */
    isl = osl = 0;
    for (size_t i = 0; i < sc->serve.n_trace; i++)
      isl += sc->serve.trace[i].prompt, osl += sc->serve.trace[i].gen;
    isl /= (double)sc->serve.n_trace, osl /= (double)sc->serve.n_trace;
  }
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

/* ---- the rates a run simulates ------------------------------------------------------------------ */

/* One simulation of the fleet at an arrival rate: the colocated replicas (simulate) or the
 * disaggregated pools (simulate_pools) behind one signature. */
typedef sl_status (*sim_at_fn)(void *run, double rate, sim_out *o);

typedef struct colocated_run {
  step_model *m, *draft;
  const sl_serve_spec *sv;
  const sl_request *given;
  size_t n_given;
  double blocks;
  size_t replicas;
} colocated_run;

static sl_status sim_colocated(void *run, double rate, sim_out *o) {
  colocated_run *c = run;
  return simulate(c->m, c->draft, c->sv, c->given, c->n_given, rate, c->blocks, c->replicas, o);
}

typedef struct pools_run {
  pool_rt *pl;
  int n_pools;
  const sl_serve_spec *sv;
  const xfer_spec *xf;
} pools_run;

static sl_status sim_pools(void *run, double rate, sim_out *o) {
  pools_run *p = run;
  return simulate_pools(p->pl, p->n_pools, p->sv, p->xf, rate, o);
}

/* The KV cache's bytes per chip: the stack's memory_utilization share of the chip's memory (all of
 * it when the stack names none) less the weights and one full step's activations, times its
 * kv_cache_fraction (engines keep the rest as headroom); negative when they do not fit.  Fills mem. */
static double kv_memory(const sl_scenario *sc, double weights, double act, sl_memory *mem) {
  double cap = chip_dram_bytes(&sc->chip);
  double kv_share = sc->stack.kv_cache_fraction > 0 ? sc->stack.kv_cache_fraction : 1;
  double usable = cap * (sc->stack.memory_utilization > 0 ? sc->stack.memory_utilization : 1);
  double kv_free = (usable - weights - act) * kv_share;
  mem->capacity_bytes = cap;
  mem->weights_bytes = weights;
  mem->activations_bytes = act;
  mem->kv_cache_bytes = fmax(0, kv_free);
  mem->per_chip_bytes = weights + act + fmax(0, kv_free);
  mem->fits = kv_free > 0;
  return kv_free;
}

/* With arrival_rate_per_s max, the highest rate whose p99 TTFT and TPOT meet the SLO (doubling from
 * `start`, then bisection to 0.1%: res->serve.max_rate_per_s); with a list or range of rates, a full
 * simulation per rate (res->serve.curve); then the run whose figures are the scalar outputs, at
 * *rate_out (the rate found, the curve's last, or `rate`), into *o. */
static sl_status serve_rates(sim_at_fn sim, void *run, const sl_serve_spec *sv, double rate, double start,
                             sl_result *res, sim_out *o, double *rate_out, sl_error *err) {
  sl_status s = SL_OK;
  memset(o, 0, sizeof *o);
  if (rate == SL_AUTO) {
    /* From a rate known to meet the SLO, the search never ends below it: a p99 near its target
     * need not fall monotonically with the rate (a run's own arrivals), and bisecting from below
     * could end under a rate the same simulation meets. */
    if (sv->rate_met > 0) start = sv->rate_met;
    double lo = 0, hi = start;
    sim_out probe;
    for (int i = 0; i < 40 && !s; i++) {
      s = sim(run, hi, &probe);
      if (s || !meets_slo(&probe, sv)) break;
      lo = hi, hi *= 2;
    }
    for (int i = 0; i < 24 && !s && hi - lo > 1e-3 * hi; i++) {
      double mid = 0.5 * (lo + hi);
      s = sim(run, mid, &probe);
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
  if (!s && sv->n_curve > 0) {
    sl_serve_point *c = ar_alloc(&res->a, sv->n_curve * sizeof *c);
    if (!c) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; !s && i + 1 < sv->n_curve; i++) {
      s = sim(run, sv->curve[i], o);
      if (!s && o->infeasible) break;
      if (!s) curve_point(&c[i], sv->curve[i], o);
    }
    rate = sv->curve[sv->n_curve - 1];
    res->serve.curve = c, res->serve.n_curve = sv->n_curve;
  }
  if (!s && !o->infeasible) s = sim(run, rate, o);
  if (!s && sv->n_curve > 0 && !o->infeasible) curve_point(&res->serve.curve[sv->n_curve - 1], rate, o);
  *rate_out = rate;
  return s;
}

static sl_status serve_core(const sl_scenario *sc, const sl_request *given, size_t n_given, double time_scale,
                            sl_result *res, sl_error *err) {
  sl_serve_spec limits;
  serve_limits(sc, &limits);
  const sl_serve_spec *sv = &limits;
  step_model m;
  model_init(&m, sc, err);
  m.time_scale = time_scale;
  res->par = m.sc.par;

  /* KV blocks: kv_memory's bytes in blocks of kv_block_tokens tokens of every layer of this
   * pipeline stage. */
  const sl_transformer *t = &sc->model.tf;
  double tp = m.plan.tp, pp = m.plan.pp, ab = sl_dtype_bytes[sc->a_dtype];
  double kvd = tf_kv_dim(t, tp);
  double per_token = tf_kv_bytes_per_token(t, tp, ceil((double)t->layers / pp), sc->kv_dtype);
  double weights = model_weight_bytes(sc) / (tp * pp);
  double widest = fmax((double)(t->heads * t->head_dim) / tp + 2 * kvd, 2.0 * (double)t->ffn / tp);
  double act = sv->max_batch_tokens * (2.0 * (double)t->hidden + widest) * ab +
               sv->max_seqs * (double)t->vocab / tp * 4;
  /* speculative decoding: the draft's weights and its KV (every token the target keeps, the draft
   * keeps too) share the memory, on the target's chips and plan */
  const sl_model *dm = sv->spec_draft;
  step_model dmod, *draft = NULL;
  if (dm) {
    const sl_transformer *dt = &dm->tf;
    if (fmod((double)dt->heads, tp) != 0 || (double)dt->layers < pp) {
      model_free(&m);
      return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", sv->spec_line, "serve.speculative.draft",
                     "the draft model %s (%ld heads, %ld layers) cannot run on the target's plan (tp %g, pp %g)",
                     dm->name ? dm->name : "(inline)", (long)dt->heads, (long)dt->layers, tp, pp);
    }
    per_token += tf_kv_bytes_per_token(dt, tp, ceil((double)dt->layers / pp), sc->kv_dtype);
    weights += model_params(dm) * sl_dtype_bytes[sc->w_dtype] / (tp * pp);
  }
  double cap = chip_dram_bytes(&sc->chip), kv_free = kv_memory(sc, weights, act, &res->mem);
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
  /* a step holds up to the token budget, and a draft's verifications may pass it by k tokens */
  double step_cap = sv->max_batch_tokens + (dm ? sv->spec_tokens : 0);
  if (model_tables(&m, step_cap) || model_memo(&m)) {
    model_free(&m);
    return SL_ERR_INTERNAL;
  }
  sl_scenario dsc; /* the draft's scenario: its step model's cost context points into it */
  if (dm) { /* the draft's step model: the scenario with the draft model, the target's plan */
    dsc = *sc;
    dsc.model = *dm;
    dsc.par = m.sc.par, dsc.parallel_default = 0;
    model_init(&dmod, &dsc, err);
    draft = &dmod;
    if (model_tables(draft, step_cap) || model_memo(draft)) {
      model_free(draft), model_free(&m);
      return SL_ERR_INTERNAL;
    }
  }

  double replicas = m.plan.dp;
  size_t n_rep = (size_t)replicas;
  sim_out o;
  double rate = sv->rate_per_s;
  if (given) /* the requests' own arrivals: their mean rate */
    rate = n_given > 1 && given[n_given - 1].arrival > given[0].arrival
               ? (double)(n_given - 1) / (given[n_given - 1].arrival - given[0].arrival)
               : INFINITY;
  colocated_run cr = {&m, draft, sv, given, n_given, blocks, n_rep};
  sl_status s = serve_rates(sim_colocated, &cr, sv, rate, replicas, res, &o, &rate, err);
  if (draft) {
    if (!s && draft->failed) s = err->code ? err->code : SL_ERR_INTERNAL;
    model_free(draft);
  }
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
    res->serve.ttft[k] = o.ttft[k], res->serve.tpot[k] = o.tpot[k], res->serve.itl[k] = o.itl[k];
  res->serve.throughput_tokens_per_s = o.throughput;
  res->serve.goodput_requests_per_s = o.goodput;
  res->serve.window_s = sv->window == SL_WINDOW_STEADY ? o.span : NAN;
  res->serve.rate_per_s = rate;
  res->serve.requests = given ? (double)n_given : sv->requests;
  res->serve.preemptions = o.preemptions;
  res->serve.steps = o.steps;
  res->serve.mean_batch_tokens = o.batch_tokens;
  res->serve.mean_running = o.running;
  res->serve.kv_blocks = blocks;
  /* prefix caching and speculative decoding: NaN (no output key) when the run has none */
  res->serve.prefix_hit_rate = o.has_prefix ? (o.prompt_tokens > 0 ? o.hit_tokens / o.prompt_tokens : 0) : NAN;
  res->serve.prefix_evictions = o.has_prefix && sv->prefix_caching ? o.evictions : NAN;
  res->serve.spec_tokens_per_step = dm && o.spec_steps > 0 ? o.spec_tokens / o.spec_steps : NAN;
  res->step_time_s = o.mean_step;
  res->has_tokens = res->has_ttft = 1;
  res->tokens_per_s = o.throughput;
  {
    /* Energy: every replica's dynamic energy (one chip's share each, so x tp x pp) plus every chip's
     * static power, over the measurement window; the TDP cap was applied step by step (engine_step),
     * not to this average, which holds the idle time between bursts. */
    double chips = sc->chips, per_replica = m.plan.tp * m.plan.pp;
    double e = o.energy_j * per_replica + chips * sc->chip.energy.static_w * o.span; /* over the window */
    sl_power_out *pw = &res->power;
    pw->has_energy = 1;
    /* the TDP cap, step by step: the busy-time mean clock ratio, the steps at the top clock */
    pw->clock_ratio = o.busy > 0 ? o.clock_s / o.busy : 1;
    pw->uncapped_step_time_s = o.steps > 0 ? o.raw_s_run / o.steps : o.mean_step; /* as step_time_s */
    pw->step_j = o.span_steps > 0 ? e / o.span_steps : NAN;
    pw->avg_power_w_per_chip = e / (chips * o.span);
    pw->uncapped_power_w_per_chip = o.raw_s > 0 ? o.raw_j / o.raw_s + sc->chip.energy.static_w : NAN;
    pw->j_per_token = e / o.span_tokens;
    pw->j_per_sample = NAN;
    pw->peak_power_w_per_chip = NAN; /* no per-kernel rows */
    pw->usd_per_hour_system = pw->usd_per_million_tokens = pw->usd_per_million_samples = NAN;
  }
  res->ttft_s = o.mean_ttft;
  res->tpot_s = o.mean_tpot;
  return SL_OK;
}

static sl_status serve_disaggregated(const sl_scenario *sc, sl_result *res, sl_error *err);

sl_status serve_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  if (sc->serve.disaggregated) return serve_disaggregated(sc, res, err);
  return serve_core(sc, NULL, 0, 1, res, err);
}

sl_status serve_run_requests(const sl_scenario *sc, const sl_request *in, size_t n, sl_result *res, sl_error *err) {
  if (n == 0) return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", 0, "serve", "no requests to serve");
  return serve_core(sc, in, n, 1, res, err);
}

/* The throughput interval of a serving run is the cross-validated error of the engines' speed at
 * saturation (interval.c: the residuals of maximum-load cases), so each end of it is an engine
 * faster or slower by that factor.  Below saturation the throughput is the offered load, and what
 * the speed moves is the queue: near capacity a few percent of speed are a factor in the latencies
 * (T = a / (1 - rho)).  The same requests served again by each of the two engines give the
 * latencies at the two ends.  (The throughput's own interval stays the residuals': below saturation
 * the offered load bounds it, but the requests' lengths, approximated from a dataset's mean, move it
 * as much as the speed does.) */
sl_status serve_latency_interval(const sl_scenario *sc, sl_result *res, sl_error *err) {
  const sl_interval *in = &res->interval;
  double thr = res->serve.throughput_tokens_per_s;
  if (!res->has_serve || !res->feasible || res->serve.disaggregated || res->serve.n_curve > 0 ||
      res->serve.max_rate_per_s == res->serve.max_rate_per_s || !in->metric ||
      strcmp(in->metric, "serve.throughput_tokens_per_s") != 0 || !(thr > 0) || !(in->lo > 0) ||
      !(in->hi > 0))
    return SL_OK;
  double speed[2] = {in->hi / thr, in->lo / thr};
  for (int k = 0; k < 2; k++) {
    sl_result t;
    memset(&t, 0, sizeof t);
    ar_init(&t.a);
    sl_status s = serve_core(sc, NULL, 0, 1.0 / speed[k], &t, err);
    if (!s && t.feasible && t.has_serve) {
      res->serve.ttft_iv[k][0] = t.serve.ttft[0], res->serve.ttft_iv[k][1] = t.serve.ttft[2];
      res->serve.tpot_iv[k][0] = t.serve.tpot[0], res->serve.tpot_iv[k][1] = t.serve.tpot[2];
    }
    ar_free(&t.a);
    if (s) return s;
  }
  return SL_OK;
}

/* ---- pools ------------------------------------------------------------------------------------ */

/* The node a pool's chips sit in: the system's (8 chips when the scenario's system is one chip). */
static double pool_node(const sl_scenario *sc) {
  return sc->node_chips > 1 ? sc->node_chips : 8;
}

void serve_pool_scenario(const sl_scenario *sc, const sl_serve_pool *p, sl_scenario *out) {
  *out = *sc;
  out->a = (arena){0};
  if (p->chip && p->chip != &sc->chip && strcmp(p->chip->name, sc->chip.name) != 0) {
    out->chip = *p->chip; /* another chip type: its own links */
    out->scale_up = p->chip->scale_up, out->scale_out = p->chip->scale_out;
  }
  out->chips = p->chips;
  out->node_chips = fmin(p->chips, pool_node(sc));
  out->par = (sl_parallel){.dp = p->chips / (p->tp * p->pp), .tp = p->tp, .pp = p->pp, .cp = 1, .ep = 1,
                           .vpp = 1, .zero = 0};
  out->parallel_auto = out->parallel_default = 0;
  out->serve.disaggregated = 0;
}

/* The KV move of sc's disaggregated pools: per chip, the sending engine's shard of a token's KV (its
 * tp share of the KV heads, its pp share of the layers) over its link, and the receiving engine's
 * over its own.  The link: serve.disaggregated.link, or (auto) the scale-up domain when both pools
 * are of one chip type and fit in one node together, else the scale-out network.  *up: which. */
static xfer_spec xfer_of(const sl_scenario *sc, int *up_out) {
  const sl_serve_spec *sv = &sc->serve;
  const sl_serve_pool *pp = &sv->pool[SL_POOL_PREFILL], *pd = &sv->pool[SL_POOL_DECODE];
  sl_scenario a, b;
  serve_pool_scenario(sc, pp, &a);
  serve_pool_scenario(sc, pd, &b);
  const sl_transformer *t = &sc->model.tf;
  int same = strcmp(a.chip.name, b.chip.name) == 0;
  int up = sv->kv_link == SL_KV_LINK_SCALE_UP ||
           (sv->kv_link == SL_KV_LINK_AUTO && same && pp->chips + pd->chips <= pool_node(sc));
  const sl_link *la = up ? &a.scale_up : &a.scale_out, *lb = up ? &b.scale_up : &b.scale_out;
  xfer_spec x;
  x.send_bytes = tf_kv_bytes_per_token(t, pp->tp, ceil((double)t->layers / pp->pp), sc->kv_dtype);
  x.recv_bytes = tf_kv_bytes_per_token(t, pd->tp, ceil((double)t->layers / pd->pp), sc->kv_dtype);
  /* a transfer is one large message: the link's sustained fraction of its bandwidth; on a mesh of
   * point-to-point links a chip's shard goes to its peer over the one link between them */
  double ea = la->efficiency > 0 ? la->efficiency : 1, eb = lb->efficiency > 0 ? lb->efficiency : 1;
  if (up) ea *= mesh_share(la->mesh_links, 2), eb *= mesh_share(lb->mesh_links, 2);
  x.send_Bps = sv->kv_link_GBps > 0 ? sv->kv_link_GBps * 1e9 : la->bw_GBps * ea * 1e9;
  x.recv_Bps = sv->kv_link_GBps > 0 ? sv->kv_link_GBps * 1e9 : lb->bw_GBps * eb * 1e9;
  x.latency_s = sv->kv_link_latency_s >= 0 ? sv->kv_link_latency_s : fmax(la->latency_s, lb->latency_s);
  if (up_out) *up_out = up;
  return x;
}

int serve_chip_runs(const sl_scenario *sc, const sl_chip *c) {
  if (c->mat_macs_per_cycle[sc->a_dtype] <= 0 && c->mat_macs_per_cycle[sc->w_dtype] <= 0 &&
      c->vec_flops_per_cycle[sc->a_dtype] <= 0)
    return 0;
  return sc->g_dtype == sc->a_dtype || c->mat_macs_per_cycle[sc->g_dtype] > 0;
}

double serve_kv_transfer_s(const sl_scenario *sc, double prompt_tokens) {
  int up;
  xfer_spec x = xfer_of(sc, &up);
  return prompt_tokens < 0 ? up : xfer_time(&x, prompt_tokens);
}

/* KV blocks per chip of a pool: kv_memory's bytes in blocks of kv_block_tokens tokens of every
 * layer of this pipeline stage.  Fills mem; *kv_free: the bytes left. */
static double kv_capacity(const sl_scenario *sc, const sl_plan *plan, sl_memory *mem, double *kv_free_out) {
  const sl_serve_spec *sv = &sc->serve;
  const sl_transformer *t = &sc->model.tf;
  double tp = plan->tp, pp = plan->pp, ab = sl_dtype_bytes[sc->a_dtype];
  double kvd = tf_kv_dim(t, tp);
  double per_token = tf_kv_bytes_per_token(t, tp, ceil((double)t->layers / pp), sc->kv_dtype);
  double weights = model_weight_bytes(sc) / (tp * pp);
  double widest = fmax((double)(t->heads * t->head_dim) / tp + 2 * kvd, 2.0 * (double)t->ffn / tp);
  double act = sv->max_batch_tokens * (2.0 * (double)t->hidden + widest) * ab +
               sv->max_seqs * (double)t->vocab / tp * 4;
  double kv_free = kv_memory(sc, weights, act, mem);
  *kv_free_out = kv_free;
  return floor(kv_free / (per_token * sv->kv_block_tokens));
}

static sl_status pool_tables(pool_rt *p, const sl_serve_spec *sv, sl_error *err) {
  step_model *m = &p->m;
  if (model_tables(m, sv->max_batch_tokens)) return SL_ERR_INTERNAL;
  m->amask = (1u << 18) - 1;
  m->akey = calloc(m->amask + 1, sizeof *m->akey);
  m->aval = calloc(m->amask + 1, sizeof *m->aval);
  m->aval_e = calloc(m->amask + 1, sizeof *m->aval_e);
  m->aval_g = calloc(m->amask + 1, sizeof *m->aval_g);
  if (!m->akey || !m->aval || !m->aval_e || !m->aval_g) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  return SL_OK;
}

static const char *const pool_names[2] = {"prefill", "decode"};

static sl_status serve_disaggregated(const sl_scenario *sc, sl_result *res, sl_error *err) {
  const sl_serve_spec *sv = &sc->serve;
  if (sv->spec_draft) /* prefix caching is not applied across pools (docs/serving.md) */
    return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", sv->spec_line, "serve.speculative",
                   "speculative decoding is not modelled with disaggregated pools (serve.disaggregated)");
  res->serve.prefix_hit_rate = res->serve.prefix_evictions = res->serve.spec_tokens_per_step = NAN;
  const int n_pools = 2; /* prefill, decode */
  pool_rt *pl = calloc((size_t)n_pools, sizeof *pl);
  if (!pl) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (int k = 0; k < n_pools; k++) {
    serve_pool_scenario(sc, &sv->pool[k], &pl[k].sc);
    model_init(&pl[k].m, &pl[k].sc, err);
  }
  res->par = pl[n_pools - 1].m.sc.par; /* disaggregated: the decode pool's, as memory */
  sl_status s = SL_OK;
  for (int k = 0; k < n_pools && !s; k++) {
    pool_rt *p = &pl[k];
    double kv_free;
    p->blocks = kv_capacity(&p->sc, &p->m.plan, &p->mem, &kv_free);
    p->engines = (size_t)p->m.plan.dp;
    if (k == n_pools - 1) res->mem = p->mem; /* the chips that hold the decoding sequences' KV */
    if (kv_free <= 0 || p->blocks < 1) {
      res->feasible = 0;
      const sl_memory *mm = &p->mem;
      snprintf(res->reason, sizeof res->reason,
               "%s pool: no room for a KV cache: weights %.2f GiB and activations %.2f GiB per chip %s %.2f GiB %s "
               "%.2f GiB",
               pool_names[k], mm->weights_bytes / 1073741824.0,
               mm->activations_bytes / 1073741824.0, kv_free > 0 ? "leave" : "exceed by",
               fabs(kv_free) / 1073741824.0, kv_free > 0 ? "of" : "the memory of",
               mm->capacity_bytes / 1073741824.0);
      for (int j = 0; j < n_pools; j++)
        model_free(&pl[j].m);
      free(pl);
      return SL_OK;
    }
  }
  for (int k = 0; k < n_pools && !s; k++)
    s = pool_tables(&pl[k], sv, err);
  if (s) {
    for (int j = 0; j < n_pools; j++)
      model_free(&pl[j].m);
    free(pl);
    return s;
  }
  xfer_spec xf = xfer_of(sc, NULL);

  double replicas = (double)pl[0].engines;
  sim_out o;
  double rate = sv->rate_per_s;
  pools_run pr = {pl, n_pools, sv, &xf};
  s = serve_rates(sim_pools, &pr, sv, rate, replicas, res, &o, &rate, err);
  for (int j = 0; j < n_pools; j++)
    model_free(&pl[j].m);
  if (s) {
    free(pl);
    return s;
  }
  if (o.infeasible) {
    res->feasible = 0;
    snprintf(res->reason, sizeof res->reason,
             "a request cannot fit: a prefill engine's KV cache holds %.0f blocks and a decode engine's %.0f "
             "blocks of %g tokens per chip",
             pl[0].blocks, pl[1].blocks, sv->kv_block_tokens);
    free(pl);
    return SL_OK;
  }
  res->feasible = 1;
  res->has_serve = 1;
  for (int k = 0; k < 3; k++)
    res->serve.ttft[k] = o.ttft[k], res->serve.tpot[k] = o.tpot[k], res->serve.itl[k] = o.itl[k];
  res->serve.throughput_tokens_per_s = o.throughput;
  res->serve.goodput_requests_per_s = o.goodput;
  res->serve.window_s = sv->window == SL_WINDOW_STEADY ? o.span : NAN;
  res->serve.rate_per_s = rate;
  res->serve.requests = sv->requests;
  res->serve.preemptions = o.preemptions;
  res->serve.steps = o.steps;
  res->serve.mean_batch_tokens = o.batch_tokens;
  res->serve.mean_running = o.running;
  res->serve.kv_blocks = o.kv_blocks;
  res->step_time_s = o.mean_step;
  res->has_tokens = res->has_ttft = 1;
  res->tokens_per_s = o.throughput;
  {
    /* Per pool: its engines' busy time over the run (utilisation), its dynamic energy plus its chips'
     * static power, and its cost per hour at that power (econ); the system is their sum. */
    double e_all = 0, chips_all = 0, dyn_all = 0, raw_all = 0, raw_busy = 0, usd = 0, capex = 0;
    int priced = sc->econ != NULL;
    res->serve.disaggregated = 1;
    for (int k = 0; k < 2; k++) {
      const pool_rt *p = &pl[k];
      const sl_scenario *ps = &p->sc;
      double per_engine = p->m.plan.tp * p->m.plan.pp, chips = ps->chips;
      double dyn = o.pool_energy[k] * per_engine;
      double e = dyn + chips * ps->chip.energy.static_w * o.span; /* over the window */
      double w = e / (chips * o.span);
      res->serve.pool_chips[k] = chips;
      res->serve.pool_engines[k] = (double)p->engines;
      res->serve.pool_tp[k] = p->m.plan.tp;
      res->serve.pool_util[k] = o.pool_busy[k] / ((double)p->engines * o.span);
      res->serve.pool_power_w[k] = w;
      res->serve.pool_kv_blocks[k] = p->blocks;
      snprintf(res->serve.pool_chip[k], sizeof res->serve.pool_chip[k], "%s", ps->chip.name);
      res->serve.pool_usd_per_hour[k] = NAN;
      if (priced) {
        sl_chip_cost cc;
        econ_chip_cost(sc->econ, &ps->chip, ps->scale_up.bw_GBps, ps->scale_out.bw_GBps, &cc);
        res->serve.pool_usd_per_hour[k] = econ_usd_per_hour(sc->econ, &cc, chips, w);
        usd += res->serve.pool_usd_per_hour[k];
        capex += cc.position_usd * chips;
      }
      e_all += e, chips_all += chips, dyn_all += dyn;
      raw_all += o.pool_raw_j[k] * per_engine, raw_busy += o.pool_raw_s[k] * per_engine;
    }
    res->serve.kv_link_scale_up = (int)serve_kv_transfer_s(sc, -1);
    res->serve.kv_transfer_mean_s = o.xfer_n > 0 ? o.xfer_sum / o.xfer_n : 0;
    res->serve.kv_transfer_max_s = o.xfer_max;
    res->serve.usd_per_hour = priced ? usd : NAN;
    res->serve.capex_usd_per_chip = priced ? capex / chips_all : NAN;
    res->chips = chips_all;
    sl_power_out *pw = &res->power;
    pw->has_energy = 1;
    pw->clock_ratio = o.busy > 0 ? o.clock_s / o.busy : 1; /* the steps' TDP cap, as colocated */
    pw->uncapped_step_time_s = o.steps > 0 ? o.raw_s_run / o.steps : o.mean_step; /* as step_time_s */
    pw->step_j = o.span_steps > 0 ? e_all / o.span_steps : NAN;
    pw->avg_power_w_per_chip = e_all / (chips_all * o.span);
    /* at full clock while busy: the uncapped dynamic energy over the uncapped busy chip-seconds, plus
     * the static power (as colocated: o.raw_j / o.raw_s + static_w) */
    pw->uncapped_power_w_per_chip =
        raw_busy > 0 ? raw_all / raw_busy + (e_all - dyn_all) / (chips_all * o.span) : NAN;
    pw->j_per_token = e_all / o.span_tokens;
    pw->j_per_sample = NAN;
    pw->peak_power_w_per_chip = NAN;
    pw->usd_per_hour_system = pw->usd_per_million_tokens = pw->usd_per_million_samples = NAN;
  }
  free(pl);
  res->ttft_s = o.mean_ttft;
  res->tpot_s = o.mean_tpot;
  return SL_OK;
}

double serve_kv_blocks(const sl_scenario *sc) {
  step_model m;
  model_init(&m, sc, NULL);
  sl_memory mem;
  double kv_free, b = kv_capacity(&m.sc, &m.plan, &mem, &kv_free);
  model_free(&m);
  return kv_free > 0 ? b : 0;
}
