/* search.c — the parallel plans of a transformer training step, enumerated one at a time (ask)
 * and ranked by what costing them told (tell).  It knows the rules a plan must satisfy before it
 * is worth costing and nothing of chips, graphs or timelines: the step time comes from the caller
 * (sim/train.c).
 *
 * The enumeration is a nest of loops kept as an odometer, so that it can stop after any plan and
 * resume: one level per degree, outermost first,
 *   tp, cp, ep, sp, micro-batch, recompute, TP overlap   (a group: the layers cost the same)
 *   pp (then dp = chips / (tp cp pp)), vpp (then the global batch), ZeRO stage, DP overlap.
 * A level's candidates may depend on the levels above it (pp divides the chips left by tp and cp;
 * vpp divides the layers of a stage), so they are listed when the level is entered. */
#include "plan/plan.h"

#include <math.h>
#include <string.h>

enum { L_TP, L_CP, L_EP, L_SP, L_MB, L_RC, L_OTP, L_PP, L_VPP, L_ZERO, L_ODP };
_Static_assert(L_ODP + 1 == PLAN_LEVELS, "one level per searched degree");

/* A search larger than this is a mistake in the scenario, not a question: it would run for
 * minutes. */
static const double PLAN_LIMIT = 5e7;

static int divides(double a, double b) {
  return b > 0 && fmod(a, b) == 0;
}

/* The first `max` divisors of a whole n >= 1, ascending: those up to sqrt(n), then their
 * cofactors (sqrt(n) steps, not n: vpp's are listed for every pp of every group). */
static int divisors(long n, double *out, int max) {
  int k = 0;
  for (long d = 1; d * d <= n && k < max; d++)
    if (n % d == 0) out[k++] = (double)d;
  for (int i = k - 1; i >= 0 && k < max; i--) {
    long big = n / (long)out[i];
    if (big != (long)out[i]) out[k++] = (double)big;
  }
  return k;
}

/* The candidates of one degree: the fixed value, or every divisor of `limit` (powers of two for
 * tp/cp/ep, as the kernels and the scale-up domain want), ascending, at most max. */
static int candidates(double fixed, double limit, int pow2, double *out, int max) {
  int n = 0;
  if (fixed != SL_AUTO) {
    out[n++] = fixed;
    return n;
  }
  if (!pow2 && limit >= 1 && limit <= 1e12 && limit == floor(limit)) return divisors((long)limit, out, max);
  for (double d = 1; d <= limit && n < max; d = pow2 ? d * 2 : d + 1)
    if (divides(limit, d)) out[n++] = d;
  return n;
}

plan_space plan_space_of(const sl_scenario *sc) {
  const sl_transformer *t = &sc->model.tf;
  plan_space s;
  memset(&s, 0, sizeof s);
  s.file = sc->file;
  s.chips = sc->chips;
  s.layers = (double)t->layers, s.heads = (double)t->heads, s.experts = (double)t->experts;
  s.seq_len = sc->seq_len;
  s.global_batch = sc->global_batch, s.global_batch_max = sc->global_batch_max;
  s.micro_batch = sc->micro_batch;
  s.par = sc->par;
  s.recompute = sc->recompute, s.recompute_auto = sc->recompute_auto;
  s.parallel_auto = sc->parallel_auto;
  /* ring attention is an online-softmax (flash-style) kernel: no context parallelism without one */
  s.context_parallel = sc->stack.context_parallel && sc->stack.attention_fused;
  s.sequence_parallel = sc->stack.sequence_parallel;
  s.overlap_tp = sc->stack.overlap_tp_comm, s.overlap_dp = sc->stack.overlap_dp_comm;
  s.zero_max = sc->stack.zero_max;
  s.recompute_block = sc->stack.recompute_block;
  s.max_plans = PLAN_LIMIT;
  return s;
}

/* Lists the candidates of the levels that depend on the scenario alone (all but pp and vpp), once.
 * The switches (sp, recompute, the overlaps) and the ZeRO stage are ranges lo..lo+n-1. */
static void list_fixed(plan_search *S) {
  const plan_space *sp = &S->sp;
  S->nfix[L_TP] = candidates(sp->par.tp, fmin(sp->chips, sp->heads), 1, S->tps, 32);
  S->nfix[L_CP] = candidates(sp->par.cp, sp->chips, 1, S->cps, 16);
  if (sp->par.cp == SL_AUTO && !sp->context_parallel) S->cps[0] = 1, S->nfix[L_CP] = 1;
  S->nfix[L_EP] = sp->experts > 0 ? candidates(sp->par.ep, fmin(sp->chips, sp->experts), 1, S->eps, 16) : 1;
  if (sp->experts == 0) S->eps[0] = 1;
  /* The fixed micro-batch, or powers of two (the global batch's divisors when it is fixed). */
  if (sp->micro_batch != SL_AUTO) {
    S->mbs[0] = sp->micro_batch, S->nfix[L_MB] = 1;
  } else if (sp->global_batch_max) {
    S->nfix[L_MB] = 0;
    for (double d = 1; d <= sp->global_batch && S->nfix[L_MB] < 64; d *= 2)
      S->mbs[S->nfix[L_MB]++] = d;
  } else {
    S->nfix[L_MB] = candidates(SL_AUTO, sp->global_batch, 0, S->mbs, 64);
  }
  S->sp_lo = sp->parallel_auto ? 0 : sp->par.sp;
  S->nfix[L_SP] = (sp->parallel_auto ? sp->sequence_parallel : sp->par.sp) - S->sp_lo + 1;
  S->rc_lo = sp->recompute_auto ? 0 : (int)sp->recompute;
  S->nfix[L_RC] = (sp->recompute_auto ? (int)(sp->recompute_block ? SL_RECOMPUTE_BLOCK : SL_RECOMPUTE_FULL)
                                      : (int)sp->recompute) -
                  S->rc_lo + 1;
  /* Overlap is an ability of the stack; a search also tries without it. */
  S->otp_lo = sp->parallel_auto ? 0 : sp->overlap_tp;
  S->nfix[L_OTP] = sp->overlap_tp - S->otp_lo + 1;
  S->zero_lo = sp->par.zero == SL_AUTO ? 0 : sp->par.zero;
  S->nfix[L_ZERO] = (int)((sp->par.zero == SL_AUTO ? sp->zero_max : sp->par.zero) - S->zero_lo) + 1;
  S->odp_lo = sp->parallel_auto ? 0 : sp->overlap_dp;
  S->nfix[L_ODP] = sp->overlap_dp - S->odp_lo + 1;
  for (int l = 0; l < PLAN_LEVELS; l++)
    if (S->nfix[l] < 0) S->nfix[l] = 0;
}

/* Opens level l: the number of its candidates, given the values of the levels above it. */
static void open_level(plan_search *S, int l) {
  S->idx[l] = -1;
  if (l == L_PP) /* listed when cp was taken: they depend only on tp and cp */
    S->n[l] = S->npp;
  else if (l == L_VPP)
    S->n[l] = candidates(S->sp.par.vpp, S->cur.pp > 1 ? ceil(S->sp.layers / S->cur.pp) : 1, 0, S->vps, 64);
  else
    S->n[l] = S->nfix[l];
}

/* Takes candidate idx[l] of level l into cur; 0 when the plans below it break a rule. */
static int accept(plan_search *S, int l) {
  const plan_space *sp = &S->sp;
  sl_plan *p = &S->cur;
  int i = S->idx[l];
  switch (l) {
  case L_TP:
    p->tp = S->tps[i];
    return divides(sp->chips, p->tp) && fmod(sp->heads, p->tp) == 0;
  case L_CP:
    p->cp = S->cps[i];
    if (!divides(sp->chips, p->tp * p->cp) || (p->cp > 1 && fmod(sp->seq_len, 2 * p->cp) != 0)) return 0;
    S->rest = sp->chips / (p->tp * p->cp);
    S->npp = candidates(sp->par.pp, S->rest, 0, S->pps, 512);
    return 1;
  case L_EP:
    p->ep = S->eps[i];
    return 1;
  case L_SP:
    p->sp = S->sp_lo + i;
    return !(p->sp && p->tp == 1);
  case L_MB:
    p->mb = S->mbs[i];
    return 1;
  case L_RC:
    p->rc = (sl_recompute)(S->rc_lo + i);
    return 1;
  case L_OTP:
    p->overlap_tp = S->otp_lo + i;
    if (p->overlap_tp && p->tp == 1 && S->otp_lo == 0) return 0;
    S->group++;
    return 1;
  case L_PP:
    p->pp = S->pps[i];
    /* Stages need not hold equal layer counts (Megatron runs 126 layers over pp 8): the first ones
     * take one more, and the slowest stage paces the pipeline. */
    if (!divides(S->rest, p->pp) || p->pp > sp->layers) return 0;
    p->dp = S->rest / p->pp;
    if (sp->par.dp != SL_AUTO && sp->par.dp != p->dp) return 0;
    return divides(p->dp * p->tp, p->ep);
  case L_VPP: {
    p->vpp = S->vps[i];
    /* vpp divides a stage's (larger) layer count; the chunks may then be uneven (as Megatron runs 126
     * layers over pp 8 x vpp 8), and the stages' layer counts differ by one. */
    if (p->vpp > 1 && p->pp * p->vpp > sp->layers) return 0;
    /* The global batch: fixed, or the largest multiple of dp*mb (and of pp when interleaving) up
     * to the maximum. */
    double unit = p->dp * p->mb * (p->vpp > 1 ? p->pp : 1);
    p->gb = sp->global_batch_max ? floor(sp->global_batch / unit) * unit : sp->global_batch;
    return p->gb >= unit && divides(p->gb, unit);
  }
  case L_ZERO:
    p->zero = S->zero_lo + i;
    return !(p->dp * p->cp == 1 && p->zero > S->zero_lo);
  case L_ODP:
  default:
    p->overlap_dp = S->odp_lo + i;
    return !(p->overlap_dp && p->dp * p->cp == 1 && S->odp_lo == 0);
  }
}

/* Moves cur to the next plan that breaks no rule; 0 when there is none. */
static int advance(plan_search *S) {
  int l = S->level;
  for (;;) {
    if (++S->idx[l] >= S->n[l]) {
      if (l == 0) {
        S->level = 0;
        return 0;
      }
      l--;
      continue;
    }
    if (!accept(S, l)) continue;
    if (l == PLAN_LEVELS - 1) {
      S->level = l;
      return 1;
    }
    open_level(S, ++l);
  }
}

sl_status plan_search_init(plan_search *S, arena *a, const plan_space *space, size_t top_n,
                           size_t payload_size, sl_error *err) {
  memset(S, 0, sizeof *S);
  S->sp = *space;
  S->cur = (sl_plan){1, 1, 1, 1, 1, 1, 0, 1, 0, SL_RECOMPUTE_NONE, 0, 0, 0};
  S->payload_size = payload_size;
  S->best_payload = payload_size ? ar_alloc(a, payload_size) : NULL;
  if (top_n > 0) {
    S->cap_top = top_n;
    S->top = ar_alloc(a, top_n * sizeof *S->top);
    S->top_score = ar_alloc(a, top_n * sizeof *S->top_score);
    S->top_payload = payload_size ? ar_alloc(a, top_n * payload_size) : NULL;
  }
  if ((payload_size && !S->best_payload) ||
      (top_n > 0 && (!S->top || !S->top_score || (payload_size && !S->top_payload))))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (payload_size) memset(S->best_payload, 0, payload_size);
  list_fixed(S);
  open_level(S, 0);
  return SL_OK;
}

sl_status plan_search_ask(plan_search *S, sl_plan *out, size_t max, size_t *n, int *new_group,
                          sl_error *err) {
  *n = 0;
  *new_group = 0;
  while (*n < max) {
    if (!S->held && !advance(S)) break;
    S->held = 0;
    if (*n > 0 && S->group != S->asked_group) { /* the next group starts: the next ask's */
      S->held = 1;
      break;
    }
    if (S->enumerated >= S->sp.max_plans) {
      if (*n > 0) { /* hand out the plans before the limit; the next ask fails */
        S->held = 1;
        break;
      }
      return err_set(err, SL_ERR_INPUT, S->sp.file, 0, "parallel",
                     "the plan search passed %.0f plans: fix some parallel keys", S->sp.max_plans);
    }
    S->enumerated++;
    if (*n == 0) {
      *new_group = S->group != S->asked_group;
      S->asked_group = S->group;
    }
    out[(*n)++] = S->cur;
  }
  return SL_OK;
}

double plan_rate(const sl_plan *p, const plan_score *score) {
  return p->gb / score->step_s;
}

static void *top_payload(plan_search *S, size_t i) {
  return S->top_payload + i * S->payload_size;
}

const void *plan_search_top_payload(const plan_search *S, size_t i) {
  return S->top_payload + i * S->payload_size;
}

static void copy_payload(plan_search *S, void *to, const void *from) {
  if (S->payload_size) memcpy(to, from, S->payload_size);
}

void plan_search_tell(plan_search *S, const sl_plan *p, const plan_score *score, const void *payload) {
  S->evaluated++;
  if (!score->feasible) {
    /* No plan fits yet: keep the one that comes closest, for the reason. */
    if (!S->have &&
        (S->best_score.per_chip_bytes == 0 || score->per_chip_bytes < S->best_score.per_chip_bytes)) {
      S->best = *p;
      S->best_score = *score;
      copy_payload(S, S->best_payload, payload);
    }
    return;
  }
  double r = plan_rate(p, score);
  if (!S->have || r > plan_rate(&S->best, &S->best_score)) {
    S->have = 1;
    S->best = *p;
    S->best_score = *score;
    copy_payload(S, S->best_payload, payload);
  }
  if (!S->cap_top) return;
  size_t i = S->n_top < S->cap_top ? S->n_top : S->cap_top;
  if (i == S->cap_top && r <= plan_rate(&S->top[i - 1], &S->top_score[i - 1])) return;
  if (i == S->cap_top)
    i--;
  else
    S->n_top++;
  while (i > 0 && plan_rate(&S->top[i - 1], &S->top_score[i - 1]) < r) {
    S->top[i] = S->top[i - 1];
    S->top_score[i] = S->top_score[i - 1];
    copy_payload(S, top_payload(S, i), top_payload(S, i - 1));
    i--;
  }
  S->top[i] = *p;
  S->top_score[i] = *score;
  copy_payload(S, top_payload(S, i), payload);
}
