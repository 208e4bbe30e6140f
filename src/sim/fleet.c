/* fleet.c — the mixed-fleet search (serve.fleet, `silica fleet`): given the scenario's traffic (its
 * offered rate and lengths), its SLO (p99 TTFT and p99 TPOT) and a set of chip types, the cheapest
 * fleets that serve it: a colocated pool of one chip type, or a prefill pool of one type and a decode
 * pool of another (or the same).  Every candidate is a full serving simulation (serve.c) at the offered
 * rate; its cost per hour comes from econ at the power that simulation gives.
 *
 * More engines never make the SLO harder to meet, so the search bisects on counts: the fewest engines
 * of a colocated pool, and, for every count of prefill engines in turn, the fewest decode engines
 * (never more than the previous count needed: more prefill never needs more decode), stopping when
 * the cheapest fleet a count could make (its chips at their static power) already costs more than
 * the `top` cheapest found.  With brute set every count of every pool is simulated instead (the
 * reference the tests compare with). */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The longest request the traffic draws: a fixed or uniform length's bound, an exponential's mean
 * times the log of the requests (the expected maximum of that many draws). */
static double longest(const sl_dist *d, double n) {
  return d->kind == SL_DIST_UNIFORM ? d->b : d->kind == SL_DIST_EXP ? d->a * fmax(1, log(n)) : d->a;
}

/* An engine's tensor-parallel degree for chip c: the smallest power of two within a node that divides
 * the heads and leaves KV room for the longest request; 0 when none does. */
static double fit_tp(const sl_scenario *sc, const sl_chip *c) {
  const sl_serve_spec *sv = &sc->serve;
  if (!serve_chip_runs(sc, c)) return 0;
  double need = ceil((longest(&sv->prompt, sv->requests) + longest(&sv->gen, sv->requests)) / sv->kv_block_tokens);
  for (double tp = 1; tp <= 8; tp *= 2) {
    if (fmod((double)sc->model.tf.heads, tp) != 0) break;
    sl_serve_pool p = {c, tp, tp, 1};
    sl_scenario s2;
    serve_pool_scenario(sc, &p, &s2);
    if (serve_kv_blocks(&s2) >= need) return tp;
  }
  return 0;
}

/* The scenario of mix x at `rate`. */
static void mix_scenario(const sl_scenario *sc, const sl_fleet_mix *x, double rate, sl_scenario *s2) {
  if (!x->disaggregated) {
    sl_serve_pool p = {x->chip[0], x->chips[0], x->tp[0], 1};
    serve_pool_scenario(sc, &p, s2);
  } else {
    *s2 = *sc;
    s2->a = (arena){0};
    s2->serve.disaggregated = 1;
    for (int k = 0; k < 2; k++)
      s2->serve.pool[k] = (sl_serve_pool){x->chip[k], x->chips[k], x->tp[k], 1};
    s2->chips = x->chips[0] + x->chips[1];
  }
  s2->serve.rate_per_s = rate;
  s2->serve.fleet.n_types = 0;
}

typedef struct search {
  const sl_scenario *sc;
  sl_fleet_out *out;
  sl_error *err;
  sl_result res;
  double bound; /* the top-th cheapest cost found so far (INFINITY until there are that many) */
  int brute;
} search;

/* Simulates mix x at the offered rate: 1 when it meets the SLO (x's figures filled), 0 when not, < 0
 * on failure. */
static int meets(search *s, sl_fleet_mix *x) {
  sl_scenario s2;
  mix_scenario(s->sc, x, s->sc->serve.rate_per_s, &s2);
  arena a = s->res.a;
  ar_reset(&a);
  memset(&s->res, 0, sizeof s->res);
  s->res.a = a;
  s->out->simulations++;
  if (sim_run(&s2, &s->res, s->err)) return -1;
  const sl_result *r = &s->res;
  const sl_serve_spec *sv = &s->sc->serve;
  if (!r->feasible || !r->has_serve) return 0;
  x->ttft_p99 = r->serve.ttft[2], x->tpot_p99 = r->serve.tpot[2];
  x->usd_per_hour = r->power.usd_per_hour_system;
  x->power_w = r->power.avg_power_w_per_chip * r->chips;
  x->util[0] = x->disaggregated ? r->serve.pool_util[0] : NAN;
  x->util[1] = x->disaggregated ? r->serve.pool_util[1] : NAN;
  x->max_rate = NAN;
  return x->ttft_p99 <= sv->slo_ttft_s && x->tpot_p99 <= sv->slo_tpot_s;
}

static int by_cost(const void *a, const void *b) {
  const sl_fleet_mix *x = a, *y = b;
  double u = x->usd_per_hour, v = y->usd_per_hour;
  return (u > v) - (u < v);
}

/* Keeps mix x (it meets the SLO) and tightens the bound. */
static int keep(search *s, const sl_fleet_mix *x) {
  sl_fleet_out *o = s->out;
  if (o->n == o->cap) {
    size_t cap = o->cap ? 2 * o->cap : 16;
    sl_fleet_mix *m = realloc(o->mix, cap * sizeof *m);
    if (!m) return -1;
    o->mix = m, o->cap = cap;
  }
  o->mix[o->n++] = *x;
  size_t top = (size_t)s->sc->serve.fleet.top;
  if (o->n >= top) {
    double *c = malloc(o->n * sizeof *c);
    if (!c) return -1;
    for (size_t i = 0; i < o->n; i++)
      c[i] = o->mix[i].usd_per_hour;
    /* the top-th smallest cost (n is small: a partial selection sort) */
    for (size_t i = 0; i < top; i++)
      for (size_t j = i + 1; j < o->n; j++)
        if (c[j] < c[i]) {
          double t = c[i];
          c[i] = c[j], c[j] = t;
        }
    s->bound = c[top - 1];
    free(c);
  }
  return 0;
}

/* The least a fleet of these chips can cost per hour: its chips at their static power. */
static double floor_cost(const sl_scenario *sc, const sl_chip *const *chip, const double *chips, int pools) {
  double usd = 0;
  for (int k = 0; k < pools; k++) {
    sl_serve_pool p = {chip[k], chips[k], 1, 1};
    sl_scenario s2;
    serve_pool_scenario(sc, &p, &s2);
    sl_chip_cost cc;
    econ_chip_cost(sc->econ, &s2.chip, s2.scale_up.bw_GBps, s2.scale_out.bw_GBps, &cc);
    usd += econ_usd_per_hour(sc->econ, &cc, chips[k], s2.chip.energy.static_w);
  }
  return usd;
}

/* The fewest engines of a colocated pool of chip c (bisection), or every count (brute). */
static int search_colocated(search *s, const sl_chip *c, double tp) {
  double n_max = floor(s->sc->serve.fleet.max_chips / tp);
  sl_fleet_mix x = {0};
  x.chip[0] = c, x.tp[0] = tp;
  if (s->brute) {
    for (double n = 1; n <= n_max; n++) {
      x.chips[0] = n * tp;
      int r = meets(s, &x);
      if (r < 0 || (r && keep(s, &x))) return -1;
    }
    return 0;
  }
  const sl_chip *cs[1] = {c};
  double count = n_max * tp;
  while (n_max > 1 && floor_cost(s->sc, cs, &count, 1) >= s->bound) /* too dear to be among the cheapest */
    n_max--, count = n_max * tp;
  x.chips[0] = n_max * tp;
  int r = meets(s, &x);
  if (r <= 0) return r;
  sl_fleet_mix best = x;
  double lo = 0, hi = n_max; /* lo fails (or is none), hi meets */
  while (hi - lo > 1) {
    double mid = floor((lo + hi) / 2);
    x.chips[0] = mid * tp;
    r = meets(s, &x);
    if (r < 0) return -1;
    if (r)
      hi = mid, best = x;
    else
      lo = mid;
  }
  return keep(s, &best);
}

/* Prefill engines of chip a and decode engines of chip b: for each prefill count, the fewest decode
 * engines (bisection below the previous count's), or every pair of counts (brute). */
static int search_pair(search *s, const sl_chip *a, double tpa, const sl_chip *b, double tpb) {
  double np_max = floor(s->sc->serve.fleet.max_chips / tpa), nd_max = floor(s->sc->serve.fleet.max_chips / tpb);
  sl_fleet_mix x = {0};
  x.disaggregated = 1;
  x.chip[0] = a, x.chip[1] = b, x.tp[0] = tpa, x.tp[1] = tpb;
  double hi_d = nd_max;
  for (double np = 1; np <= np_max; np++) {
    x.chips[0] = np * tpa;
    if (s->brute) {
      for (double nd = 1; nd <= nd_max; nd++) {
        x.chips[1] = nd * tpb;
        int r = meets(s, &x);
        if (r < 0 || (r && keep(s, &x))) return -1;
      }
      continue;
    }
    const sl_chip *cs[2] = {a, b};
    double counts[2] = {np * tpa, tpb};
    if (floor_cost(s->sc, cs, counts, 2) >= s->bound) break; /* every larger count costs more */
    double cap = hi_d; /* the most decode engines that could still be among the cheapest */
    for (counts[1] = cap * tpb; cap > 1 && floor_cost(s->sc, cs, counts, 2) >= s->bound; counts[1] = cap * tpb)
      cap--;
    x.chips[1] = cap * tpb;
    int r = meets(s, &x);
    if (r < 0) return -1;
    if (!r) continue; /* too few prefill engines even with that many decode engines */
    sl_fleet_mix best = x;
    double lo = 0, hi = cap;
    while (hi - lo > 1) {
      double mid = floor((lo + hi) / 2);
      x.chips[1] = mid * tpb;
      r = meets(s, &x);
      if (r < 0) return -1;
      if (r)
        hi = mid, best = x;
      else
        lo = mid;
    }
    if (keep(s, &best)) return -1;
    hi_d = hi;
    if (hi_d == 1) break; /* more prefill engines only add cost */
  }
  return 0;
}

sl_status serve_fleet_search(const sl_scenario *sc, int brute, sl_fleet_out *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  const sl_serve_fleet *f = &sc->serve.fleet;
  search s;
  memset(&s, 0, sizeof s);
  s.sc = sc, s.out = out, s.err = err, s.bound = INFINITY, s.brute = brute;
  /* engine variants: each chip type at every tensor-parallel degree from the smallest that fits to a
   * node's 8 (a wider engine has shorter steps: a tight TPOT may need it) */
  enum { MAX_VAR = SL_FLEET_MAX_TYPES * 4 };
  const sl_chip *vc[MAX_VAR];
  double vtp[MAX_VAR];
  int nv = 0;
  for (int i = 0; i < f->n_types; i++) {
    double tp0 = fit_tp(sc, f->types[i]);
    for (double tp = tp0; tp0 > 0 && tp <= 8 && nv < MAX_VAR; tp *= 2)
      if (fmod((double)sc->model.tf.heads, tp) == 0 && tp <= f->max_chips) vc[nv] = f->types[i], vtp[nv++] = tp;
  }
  int rc = 0;
  if (f->colocated)
    for (int i = 0; i < nv && !rc; i++)
      out->colocated_pools++, rc = search_colocated(&s, vc[i], vtp[i]);
  if (f->disaggregated)
    for (int i = 0; i < nv && !rc; i++)
      for (int j = 0; j < nv && !rc; j++)
        out->pairs++, rc = search_pair(&s, vc[i], vtp[i], vc[j], vtp[j]);
  ar_free(&s.res.a);
  if (rc) {
    serve_fleet_free(out);
    return err && err->code ? err->code : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (fleet)");
  }
  if (out->n > 1) qsort(out->mix, out->n, sizeof *out->mix, by_cost);
  return SL_OK;
}

sl_status serve_fleet_headroom(const sl_scenario *sc, sl_fleet_mix *m, sl_error *err) {
  sl_scenario s2;
  mix_scenario(sc, m, SL_AUTO, &s2);
  s2.serve.rate_met = sc->serve.rate_per_s; /* the mix met the SLO at the offered rate */
  sl_result res;
  memset(&res, 0, sizeof res);
  sl_status st = sim_run(&s2, &res, err);
  if (!st) m->max_rate = res.feasible ? res.serve.max_rate_per_s : 0;
  ar_free(&res.a);
  return st;
}

void serve_fleet_free(sl_fleet_out *out) {
  free(out->mix);
  memset(out, 0, sizeof *out);
}
