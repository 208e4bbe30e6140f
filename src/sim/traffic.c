/* traffic.c — the requests a serving simulation sees: when each arrives and how long its prompt and
 * output are (docs/serving.md, "The workload" and "Traffic").  Arrivals are a Poisson process at the
 * given rate (exponential gaps), a gamma renewal process (gamma gaps of the same mean with a given
 * coefficient of variation), Poisson bursts in on periods separated by silent off periods, or all at
 * time 0 when the rate is infinite (the offline, maximum-load benchmark); or they are a trace's,
 * read at scenario load.  Lengths are drawn from the scenario's distributions.  The generator is
 * splitmix64 seeded with serve.seed, and one uniform per request is drawn for its gap at every rate
 * and with every process (gamma gaps come from a second stream), so a seed gives the same lengths
 * whatever the rate and the process. */
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

/* A standard normal variate (Box-Muller, one of the pair). */
static double normal(uint64_t *s) {
  double u = core_rng_unit(s), v = core_rng_unit(s);
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A gamma variate of shape k and scale 1: Marsaglia and Tsang (2000), with Gamma(k) =
 * Gamma(k + 1) U^(1/k) below shape 1. */
double traffic_gamma(double k, uint64_t *s) {
  double boost = 1;
  if (k < 1) boost = pow(core_rng_unit(s), 1 / k), k += 1;
  double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
  for (;;) {
    double x = normal(s), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = core_rng_unit(s);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v * boost;
  }
}

void traffic_requests(const sl_serve_spec *sv, double rate, sl_request *r, size_t n) {
  if (sv->trace) { /* a trace: its requests, its arrivals sped up by trace_speed */
    double speed = sv->trace_speed > 0 ? sv->trace_speed : 1;
    for (size_t i = 0; i < n && i < sv->n_trace; i++)
      r[i] = sv->trace[i], r[i].arrival = sv->trace[i].arrival / speed;
    return;
  }
  uint64_t seed = (uint64_t)sv->seed;
  uint64_t g = seed ^ 0x6A09E667F3BCC908ull; /* the gamma gaps' own stream */
  double t = 0, shape = sv->cv > 0 ? 1 / (sv->cv * sv->cv) : 1;
  /* on/off: Poisson at rate x (on + off) / on on a clock that runs only in on periods */
  double on = sv->on_s, period = sv->on_s + sv->off_s;
  double peak = sv->arrivals == SL_ARRIVALS_ON_OFF ? rate * period / on : rate;
  for (size_t i = 0; i < n; i++) {
    double gap = -log(core_rng_unit(&seed));
    if (sv->arrivals == SL_ARRIVALS_GAMMA && shape != 1) gap = traffic_gamma(shape, &g) / shape;
    t += isinf(rate) ? 0 : gap / peak;
    r[i].arrival = t;
    if (sv->arrivals == SL_ARRIVALS_ON_OFF && !isinf(rate))
      r[i].arrival = floor(t / on) * period + fmod(t, on);
    r[i].prompt = draw(&sv->prompt, &seed);
    r[i].gen = draw(&sv->gen, &seed);
    r[i].prefix_id = -1, r[i].prefix_tokens = 0;
  }
  /* repeats (serve.repeats): the first n / R requests sent R times over in order; a copy has its
   * original's prompt (its output length is its own draw, as a sampled response's is), and every copy
   * shares the whole prompt as a prefix with the others (prefix caching maps its cached blocks) */
  if (sv->repeats > 1) {
    size_t base = (size_t)((double)n / sv->repeats);
    if (base < 1) base = 1;
    for (size_t i = 0; i < n; i++) {
      r[i].prompt = r[i % base].prompt;
      r[i].prefix_id = (double)(i % base), r[i].prefix_tokens = r[i].prompt;
    }
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
