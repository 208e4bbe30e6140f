/* campaign.c — a whole training run: its stages' steps (each planned and costed by train.c), the
 * failures of the fleet and the checkpoints that bound their cost (Young 1974; Daly 2006), a
 * seeded Monte Carlo of the same failures, the facility's energy and the cost (docs/model.md
 * "Training campaigns"; docs/formats.md "Campaigns"; the keys and the site's power: campaign_spec.c). */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures and checkpoints ------------------------------------------------------------------ */

double campaign_failure_rate(const sl_reliability *r, double chips, double node_chips) {
  double nodes = ceil(chips / (node_chips > 0 ? node_chips : 1));
  double links = nodes > 1 ? chips : 0; /* scale-out links join nodes */
  return (chips * r->chip_per_h + nodes * r->node_per_h + links * r->link_per_h) / 3600.0;
}

double campaign_young(double ckpt_s, double mtbf_s) {
  return sqrt(2 * ckpt_s * mtbf_s);
}

double campaign_daly(double ckpt_s, double mtbf_s) {
  if (ckpt_s >= 2 * mtbf_s) return mtbf_s;
  double x = ckpt_s / (2 * mtbf_s);
  return sqrt(2 * ckpt_s * mtbf_s) * (1 + sqrt(x) / 3 + x / 9) - ckpt_s;
}

double campaign_expected_s(double n, double w, double ckpt_s, double restart_s, double mtbf_s) {
  if (n <= 0) return 0;
  if (!(mtbf_s < INFINITY)) return n * (w + ckpt_s);
  return n * mtbf_s * exp(restart_s / mtbf_s) * expm1((w + ckpt_s) / mtbf_s);
}

static double rng_exp(uint64_t *s, double mean) {
  return -log(core_rng_unit(s)) * mean;
}

/* Failures are a Poisson process, so the segments finished before the next failure are
 * floor(time to it / segment): one draw per failure, not per segment. */
double campaign_draw_s(double n, double w, double ckpt_s, double restart_s, double mtbf_s, uint64_t *seed) {
  double seg = w + ckpt_s, t = 0;
  if (n <= 0) return 0;
  if (!(mtbf_s < INFINITY) || seg <= 0) return n * seg;
  while (n > 0) {
    double f = rng_exp(seed, mtbf_s), k = floor(f / seg);
    if (k >= n) {
      t += n * seg;
      break;
    }
    t += f; /* k segments done, the one under way lost */
    n -= k;
    for (;;) { /* the restart, itself cut short by a failure */
      double g = rng_exp(seed, mtbf_s);
      if (g >= restart_s) {
        t += restart_s;
        break;
      }
      t += g;
    }
  }
  return t;
}

/* ---- the campaign ------------------------------------------------------------------------------ */

/* A stage's schedule of checkpoints: full segments of k steps and a last one of `rem` steps. */
typedef struct sched {
  double mtbf, ckpt, restore, k, full, rem, step;
} sched;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sl_status campaign_run(const sl_scenario *sc, sl_result *res, sl_error *err) {
  sl_campaign *C = &res->campaign;
  memset(C, 0, sizeof *C);
  C->p10_s = C->p50_s = C->p90_s = C->mc_mean_s = NAN;
  if (sc->train_tokens <= 0 || sc->task != SL_TASK_TRAIN || sc->model.kind != SL_MODEL_TRANSFORMER)
    return SL_OK;
  size_t n = sc->n_stages ? sc->n_stages : 1;
  C->stage = ar_alloc(&res->a, n * sizeof *C->stage);
  sched *S = ar_alloc(&res->a, n * sizeof *S);
  if (!C->stage || !S) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  C->n_stage = n;
  const sl_reliability *rel = &sc->rel;
  double wb = sl_dtype_bytes[sc->w_dtype];
  C->checkpoint_bytes = model_params(&sc->model) * (wb + optim_state_bytes(sc->optimizer));
  double pue = sc->econ && sc->econ->pue > 0 ? sc->econ->pue : 1;
  double host_w = 0;
  sl_chip_cost cc;
  int have_cc = 0;
  if (sc->econ) {
    econ_chip_cost(sc->econ, &sc->chip, sc->scale_up.bw_GBps, sc->scale_out.bw_GBps, &cc);
    have_cc = isfinite(cc.position_usd);
    host_w = isfinite(cc.host_w) ? cc.host_w : 0;
  }
  int has_cost = have_cc, longest = 0;
  double energy_j = 0, cost = 0;
  for (size_t i = 0; i < n; i++) {
    sl_campaign_stage *g = &C->stage[i];
    sl_scenario st = *sc;
    st.a = (arena){0};
    const sl_result *r = res;
    sl_result tmp;
    int own = 0;
    if (sc->n_stages) {
      const sl_train_stage *d = &sc->stages[i];
      st.seq_len = d->seq_len, st.global_batch = d->global_batch, st.micro_batch = d->micro_batch;
      if (d->chips > 0) st.chips = d->chips, st.node_chips = d->node_chips;
      if (d->has_par) st.par = d->par;
      g->tokens = d->tokens;
      memset(&tmp, 0, sizeof tmp);
      ar_init(&tmp.a);
      own = 1;
      sl_status s = sim_run_top(&st, &tmp, 0, err);
      if (s) {
        ar_free(&tmp.a);
        return s;
      }
      r = &tmp;
    } else {
      g->tokens = sc->train_tokens;
    }
    if (!r->feasible) {
      snprintf(C->reason, sizeof C->reason, "stage %zu (seq_len %g, global batch %g on %g chips): %.150s",
               i + 1, st.seq_len, st.global_batch, st.chips, r->reason);
      if (own) ar_free(&tmp.a);
      C->has = 0;
      return SL_OK;
    }
    double gb = r->global_batch > 0 ? r->global_batch : st.global_batch;
    g->seq_len = st.seq_len, g->global_batch = gb, g->chips = r->chips > 0 ? r->chips : st.chips;
    g->tp = r->par.tp, g->pp = r->par.pp, g->cp = r->par.cp, g->dp = r->par.dp;
    g->step_time_s = r->step_time_s;
    g->steps = ceil(g->tokens / (gb * st.seq_len));
    g->compute_s = g->steps * g->step_time_s;
    /* failures and checkpoints */
    sched *q = &S[i];
    double lambda = campaign_failure_rate(rel, g->chips, st.node_chips);
    q->mtbf = lambda > 0 ? 1 / lambda : INFINITY;
    double nodes = ceil(g->chips / st.node_chips);
    /* Distinct shards: every chip's with a sharded optimizer (ZeRO >= 1), else one replica's. */
    double shard_chips = r->par.zero >= 1 ? g->chips : fmin(g->chips, g->tp * g->pp * fmax(1, r->par.ep));
    double writers = fmin(nodes, ceil(shard_chips / st.node_chips));
    q->ckpt = C->checkpoint_bytes / (fmin(rel->write_GBps, writers * rel->node_write_GBps) * 1e9);
    q->restore =
        rel->restart_s + C->checkpoint_bytes / (fmin(rel->read_GBps, nodes * rel->node_read_GBps) * 1e9);
    q->step = g->step_time_s;
    double tau;
    if (rel->interval_s > 0)
      tau = rel->interval_s;
    else
      tau = q->mtbf < INFINITY ? campaign_daly(q->ckpt, q->mtbf) : INFINITY;
    /* checkpoints are taken between steps */
    q->k = tau < INFINITY ? fmax(1, round(tau / q->step)) : g->steps;
    if (q->k > g->steps) q->k = g->steps;
    q->full = floor(g->steps / q->k);
    q->rem = g->steps - q->full * q->k;
    if (!(q->mtbf < INFINITY) && !(rel->interval_s > 0)) q->ckpt = 0; /* no failures: no checkpoints */
    g->interval_s = q->k * q->step;
    g->mtbf_s = q->mtbf;
    g->checkpoint_write_s = q->ckpt;
    g->restore_s = q->restore;
    g->time_s = campaign_expected_s(q->full, q->k * q->step, q->ckpt, q->restore, q->mtbf) +
                campaign_expected_s(q->rem > 0, q->rem * q->step, q->ckpt, q->restore, q->mtbf);
    if (!isfinite(g->time_s)) { /* restarts longer than the failures leave: it never finishes */
      snprintf(
          C->reason, sizeof C->reason,
          "stage %zu: failures every %.4g s (mean) leave no time for a restart of %.4g s and segments of "
          "%.4g s: the run never finishes",
          i + 1, q->mtbf, q->restore, q->k * q->step + q->ckpt);
      if (own) ar_free(&tmp.a);
      return SL_OK;
    }
    g->goodput = g->time_s > 0 ? g->compute_s / g->time_s : 1;
    double segs = q->full + (q->rem > 0);
    double fails = q->mtbf < INFINITY ? g->time_s / q->mtbf : 0;
    double ckpt_s = segs * q->ckpt, restart_s = fmin(fails * q->restore, g->time_s - g->compute_s - ckpt_s);
    double lost_s = fmax(0, g->time_s - g->compute_s - ckpt_s - restart_s);
    C->tokens += g->tokens;
    C->steps += g->steps;
    C->chips = fmax(C->chips, g->chips);
    C->compute_s += g->compute_s;
    C->time_to_train_s += g->time_s;
    C->chip_hours += g->chips * g->time_s / 3600;
    C->interruptions += fails;
    C->checkpoint_s += ckpt_s;
    C->restart_s += restart_s;
    C->lost_work_s += lost_s;
    if (g->tokens > C->stage[longest].tokens) longest = (int)i;
    /* energy: steps (and the steps redone) at the step's energy; checkpoints and restarts at the
     * chips' static power; hosts and network throughout; all through the facility's PUE */
    double busy_j = r->power.has_energy && g->step_time_s > 0
                        ? (g->compute_s + lost_s) / g->step_time_s * r->power.step_j
                        : 0;
    double idle_j = g->chips * sc->chip.energy.static_w * (ckpt_s + restart_s);
    double infra_j = g->chips * (host_w + sc->network_w_per_chip) * g->time_s;
    energy_j += pue * (busy_j + idle_j + infra_j);
    double avg_w = r->power.has_energy ? r->power.avg_power_w_per_chip : sc->chip.tdp_w;
    C->facility_power_w =
        fmax(C->facility_power_w, pue * g->chips * (avg_w + host_w + sc->network_w_per_chip));
    if (have_cc && r->power.has_energy)
      cost += econ_usd_per_hour(sc->econ, &cc, g->chips, avg_w) * g->time_s / 3600;
    else
      has_cost = 0;
    if (own) ar_free(&tmp.a);
  }
  C->goodput = C->time_to_train_s > 0 ? C->compute_s / C->time_to_train_s : 1;
  C->energy_mwh = energy_j / 3.6e9;
  C->cost_usd = has_cost ? cost : NAN;
  C->mtbf_s = isfinite(C->stage[longest].mtbf_s) ? C->stage[longest].mtbf_s : NAN;
  C->interval_s = C->stage[longest].interval_s;
  C->checkpoint_write_s = C->stage[longest].checkpoint_write_s;
  /* Monte Carlo: the same process, drawn (about two draws per failure: a run with more failures than
   * MC_DRAWS allows gets fewer trials, or none) */
  enum { MC_DRAWS = 20000000 };
  double trials = fmin(rel->trials, floor(MC_DRAWS / (2 * C->interruptions + (double)n)));
  C->trials = trials;
  if (trials >= 1) {
    size_t T = (size_t)trials;
    double *t = ar_alloc(&res->a, T * sizeof *t);
    if (!t) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    uint64_t seed = (uint64_t)rel->seed;
    double sum = 0;
    for (size_t j = 0; j < T; j++) {
      double x = 0;
      for (size_t i = 0; i < n; i++) {
        const sched *q = &S[i];
        x += campaign_draw_s(q->full, q->k * q->step, q->ckpt, q->restore, q->mtbf, &seed);
        if (q->rem > 0) x += campaign_draw_s(1, q->rem * q->step, q->ckpt, q->restore, q->mtbf, &seed);
      }
      t[j] = x;
      sum += x;
    }
    qsort(t, T, sizeof *t, cmp_double);
    /* percentiles by linear interpolation between order statistics */
    double pct[3] = {0.1, 0.5, 0.9}, *out[3] = {&C->p10_s, &C->p50_s, &C->p90_s};
    for (int k = 0; k < 3; k++) {
      double h = pct[k] * (double)(T - 1);
      size_t lo = (size_t)floor(h), hi = lo + 1 < T ? lo + 1 : lo;
      *out[k] = t[lo] + (h - (double)lo) * (t[hi] - t[lo]);
    }
    C->mc_mean_s = sum / (double)T;
  }
  C->has = 1;
  return SL_OK;
}
