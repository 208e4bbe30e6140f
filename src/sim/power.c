/* power.c — the energy and power of a step (FORMATS.md "energy"): the TDP cap applied to
 * the most loaded chip, the system's energy, per-token/sample figures, and the breakdown rows'
 * energy.  The per-action energies are src/cost/energy.c's; prices are src/econ/cost.c's. */
#include "sim/sim.h"

#include <math.h>
#include <string.h>

void esum_add(sl_esum *s, const sl_cost *c, double count, double time_s) {
  s->e_core += c->e_core_j * count;
  s->e_off += c->e_off_j * count;
  if (c->bound == SL_BOUND_COMPUTE) s->t_clock += time_s;
  if (c->time_s > 0) near_add_part(&s->near, &s->t_clock, clockpart_of(c, time_s / c->time_s));
  s->t_total += time_s;
}

void power_fill_result(const sl_chip *c, const sl_esum *busy, double sys_e_core, double sys_e_off,
                       double tokens, double samples, const double *row_core, const double *row_off,
                       sl_result *res) {
  sl_power_out *p = &res->power;
  double T = res->step_time_s, chips = res->chips > 0 ? res->chips : 1;
  if (!(T > 0)) return;
  double t_clock = fmin(busy->t_clock, T);
  sl_capped cap = power_cap_near(c, busy->e_core, busy->e_off, t_clock, T - t_clock, &busy->near);
  double r = cap.clock_ratio, g = power_energy_scale(r);
  double plain = t_clock / r + (T - t_clock) + near_extra(&busy->near, r);
  double stretch = plain > 0 ? cap.time_s / plain : 1;
  p->has_energy = 1;
  p->clock_ratio = r;
  p->uncapped_step_time_s = T;
  p->uncapped_power_w_per_chip = cap.uncapped_w;
  res->step_time_s = cap.time_s;
  p->step_j = sys_e_core * g + sys_e_off + chips * c->energy.static_w * cap.time_s;
  p->avg_power_w_per_chip = p->step_j / (chips * cap.time_s);
  p->j_per_token = tokens > 0 ? p->step_j / tokens : NAN;
  p->j_per_sample = samples > 0 ? p->step_j / samples : NAN;
  p->usd_per_hour_system = p->usd_per_million_tokens = p->usd_per_million_samples = NAN;
  /* Rows: compute-bound ones run at the capped clock, memory-bound ones as far as their clocked
   * work passes their stream (their share of their bin's, near_share); each row's energy is its dynamic
   * energy plus the static power over its time (one chip's, like the row's time and FLOP). */
  double sum = 0;
  sl_row *bubble = NULL;
  p->peak_power_w_per_chip = NAN;
  for (size_t i = 0; i < res->n_rows; i++) {
    sl_row *w = &res->rows[i];
    if (w->bound == SL_BOUND_COMPUTE) w->time_s /= r;
    if (w->bound == SL_BOUND_MEMORY && r < 1) w->time_s += near_share(&busy->near, w->clk, r);
    w->time_s *= stretch;
    w->energy_j =
        (row_core ? row_core[i] * g : 0) + (row_off ? row_off[i] : 0) + c->energy.static_w * w->time_s;
    sum += w->time_s;
    if (strcmp(w->name, "pipeline_bubble") == 0) bubble = w;
    /* The step's hottest kernels: a GEMM phase at the limit while the step's average is below it.
     * Collectives are left out: their rows carry their exposed time only (the rest overlaps
     * compute), with all of their energy. */
    if (w->time_s > 0 && (row_core || row_off) && w->bound != SL_BOUND_NETWORK &&
        !(w->energy_j / w->time_s <= p->peak_power_w_per_chip))
      p->peak_power_w_per_chip = w->energy_j / w->time_s;
  }
  /* A pipeline bubble is waiting on compute-bound stages: it stretches with them. */
  if (bubble && r < 1) {
    double extra = cap.time_s - sum;
    if (extra > 0) {
      bubble->time_s += extra;
      bubble->energy_j += c->energy.static_w * extra;
    }
  }
}

/* The cost of the step's system at its power, per hour and per unit of work. */
void econ_fill_result(const sl_scenario *sc, sl_result *res) {
  sl_power_out *p = &res->power;
  p->usd_per_hour_system = p->usd_per_million_tokens = p->usd_per_million_samples = NAN;
  if (!p->has_energy || !sc->econ) return;
  if (res->has_serve && res->serve.disaggregated) { /* disaggregated pools: their sum (serve.c) */
    if (!isfinite(res->serve.usd_per_hour)) return;
    p->has_cost = 1;
    p->capex_usd_per_chip = res->serve.capex_usd_per_chip;
    p->usd_per_hour_system = res->serve.usd_per_hour;
    if (res->tokens_per_s > 0) p->usd_per_million_tokens = p->usd_per_hour_system / (res->tokens_per_s * 3600.0) * 1e6;
    return;
  }
  sl_chip_cost cc;
  econ_chip_cost(sc->econ, &sc->chip, sc->scale_up.bw_GBps, sc->scale_out.bw_GBps, &cc);
  if (!isfinite(cc.position_usd)) return;
  p->has_cost = 1;
  p->capex_usd_per_chip = cc.position_usd;
  p->usd_per_hour_system = econ_usd_per_hour(sc->econ, &cc, res->chips, p->avg_power_w_per_chip);
  if (res->has_tokens && res->tokens_per_s > 0)
    p->usd_per_million_tokens = p->usd_per_hour_system / (res->tokens_per_s * 3600.0) * 1e6;
  if (res->has_samples && res->samples_per_s > 0)
    p->usd_per_million_samples = p->usd_per_hour_system / (res->samples_per_s * 3600.0) * 1e6;
}
