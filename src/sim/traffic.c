/* traffic.c — the requests a serving simulation sees: when each arrives and how long its prompt and
 * output are.  Arrivals are a Poisson process at the given rate (exponential gaps), or all at time 0
 * when the rate is infinite (the offline, maximum-load benchmark); lengths are drawn from the
 * scenario's distributions (docs/serving.md, "The workload").  The generator is splitmix64 seeded
 * with serve.seed, and the gaps are drawn at every rate, so a seed gives the same lengths whatever
 * the rate. */
#include "sim/sim.h"

#include <math.h>

static double draw(const sl_dist *d, uint64_t *s) {
  double v;
  switch (d->kind) {
  case SL_DIST_EXP:
    v = -log(core_rng_unit(s)) * d->a;
    break;
  case SL_DIST_UNIFORM:
    v = d->a + floor(core_rng_unit(s) * (d->b - d->a + 1));
    break;
  case SL_DIST_FIXED:
  default:
    v = d->a;
    break;
  }
  return fmax(1, round(v));
}

void traffic_requests(const sl_serve_spec *sv, double rate, sl_request *r, size_t n) {
  uint64_t seed = (uint64_t)sv->seed;
  double t = 0;
  for (size_t i = 0; i < n; i++) {
    double gap = -log(core_rng_unit(&seed));
    t += isinf(rate) ? 0 : gap / rate;
    r[i].arrival = t;
    r[i].prompt = draw(&sv->prompt, &seed);
    r[i].gen = draw(&sv->gen, &seed);
    r[i].prefix_id = -1, r[i].prefix_tokens = 0;
  }
  /* shared prefixes (serve.prefix): each request draws one of `groups` prefixes of `tokens` tokens,
   * uniformly, from a stream of its own (the lengths and arrivals stay those drawn without it), and
   * its prompt is the prefix followed by its own part */
  if (sv->prefix_groups > 0) {
    uint64_t ps = (uint64_t)sv->seed ^ 0x5052454649584553ull;
    for (size_t i = 0; i < n; i++) {
      r[i].prefix_id = fmin(sv->prefix_groups - 1, floor(core_rng_unit(&ps) * sv->prefix_groups));
      r[i].prefix_tokens = sv->prefix_tokens;
      r[i].prompt += sv->prefix_tokens;
    }
  }
}
