/* out_fleet.c — `silica fleet FILE`: the mixed-fleet search of a serving scenario (serve.fleet;
 * src/sim/fleet.c) and its report: the cheapest mixes that meet the SLO at the offered rate, with
 * their cost per hour, power and headroom (include/silica.h sl_fleet). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void mix_name(const sl_fleet_mix *m, char *buf, size_t n) {
  if (!m->disaggregated)
    snprintf(buf, n, "%g x %s (tp %g)", m->chips[0], m->chip[0]->name, m->tp[0]);
  else
    snprintf(buf, n, "prefill %g x %s (tp %g) + decode %g x %s (tp %g)", m->chips[0], m->chip[0]->name,
             m->tp[0], m->chips[1], m->chip[1]->name, m->tp[1]);
}

static void pool_json(jbuf *b, const char *key, const sl_fleet_mix *m, int k) {
  jb_obj_begin(b, key);
  jb_str(b, "chip", m->chip[k]->name);
  jb_num(b, "chips", m->chips[k]);
  jb_num(b, "tp", m->tp[k]);
  if (m->disaggregated) jb_num(b, "utilization", m->util[k]);
  jb_obj_end(b);
}

static void write_report(jbuf *b, const sl_scenario *sc, const sl_fleet_out *o, size_t shown, sl_format fmt) {
  const sl_serve_spec *sv = &sc->serve;
  if (fmt == SL_FORMAT_JSON) {
    jb_obj_begin(b, NULL);
    jb_obj_begin(b, "fleet");
    jb_str(b, "model", sc->model.name);
    jb_num(b, "arrival_rate_per_s", sv->rate_per_s);
    jb_num(b, "slo_ttft_s", sv->slo_ttft_s);
    jb_num(b, "slo_tpot_s", sv->slo_tpot_s);
    jb_num(b, "simulations", o->simulations);
    jb_num(b, "mixes_meeting_slo", (double)o->n);
    jb_arr_begin(b, "mixes");
    for (size_t i = 0; i < shown; i++) {
      const sl_fleet_mix *m = &o->mix[i];
      jb_obj_begin(b, NULL);
      jb_str(b, "structure", m->disaggregated ? "disaggregated" : "colocated");
      if (m->disaggregated) {
        pool_json(b, "prefill", m, 0);
        pool_json(b, "decode", m, 1);
      } else {
        pool_json(b, "pool", m, 0);
      }
      jb_num(b, "chips", m->chips[0] + (m->disaggregated ? m->chips[1] : 0));
      jb_num(b, "usd_per_hour", m->usd_per_hour);
      jb_num(b, "power_w", m->power_w);
      jb_num(b, "ttft_p99_s", m->ttft_p99);
      jb_num(b, "tpot_p99_s", m->tpot_p99);
      jb_num(b, "max_rate_per_s", m->max_rate);
      jb_num(b, "headroom", m->max_rate / sv->rate_per_s);
      jb_obj_end(b);
    }
    jb_arr_end(b);
    jb_obj_end(b);
    jb_obj_end(b);
    jb_raw(b, "\n");
    return;
  }
  char t[32], p[32];
  unit_time(sv->slo_ttft_s, t, sizeof t), unit_time(sv->slo_tpot_s, p, sizeof p);
  rep_printf(b, "fleet for %s at %.4g requests/s, SLO p99 TTFT %s and p99 TPOT %s\n", sc->model.name,
             sv->rate_per_s, t, p);
  rep_printf(b, "searched %d colocated pools and %d prefill x decode pairs of %d chip types (at most %g chips "
                "per pool): %.0f simulations, %zu mixes meet the SLO\n",
             o->colocated_pools, o->pairs, sv->fleet.n_types, sv->fleet.max_chips, o->simulations, o->n);
  for (int i = 0; i < sv->fleet.n_types; i++)
    if (!serve_chip_runs(sc, sv->fleet.types[i]))
      rep_printf(b, "skipped %s: no matrix or vector rate for %s\n", sv->fleet.types[i]->name,
                 sl_dtype_names[sc->a_dtype]);
  if (shown == 0) {
    rep_printf(b, "no mix meets the SLO: raise serve.fleet.max_chips, add chip types or relax the SLO\n");
    return;
  }
  rep_printf(b, "\n  %-4s %-62s %5s %9s %8s %9s %9s %9s %8s\n", "#", "mix", "chips", "$/hour", "kW",
             "p99 TTFT", "p99 TPOT", "max rate", "headroom");
  for (size_t i = 0; i < shown; i++) {
    const sl_fleet_mix *m = &o->mix[i];
    char name[160], a[32], c[32];
    mix_name(m, name, sizeof name);
    unit_time(m->ttft_p99, a, sizeof a), unit_time(m->tpot_p99, c, sizeof c);
    rep_printf(b, "  %-4zu %-62s %5g %9.2f %8.2f %9s %9s %9.4g %7.2fx\n", i + 1, name,
               m->chips[0] + (m->disaggregated ? m->chips[1] : 0), m->usd_per_hour, m->power_w / 1e3, a, c,
               m->max_rate, m->max_rate / sv->rate_per_s);
    if (m->disaggregated)
      rep_printf(b, "  %-4s   prefill busy %.0f%%, decode busy %.0f%%\n", "", 100 * m->util[0], 100 * m->util[1]);
  }
  rep_printf(b, "\nmax rate: the highest arrival rate the mix serves within the SLO; headroom: that over the "
                "offered rate\n");
}

sl_status sl_fleet(const sl_fleet_params *p, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out || !p || !p->file) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_fleet: params, file or out is NULL");
  *out = NULL;
  if (p->format != SL_FORMAT_TEXT && p->format != SL_FORMAT_JSON)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "fleet: format must be text or JSON");
  sl_scenario *sc = NULL;
  sl_status s = sl_scenario_load(p->file, NULL, p->sets, p->n_sets, &sc, err);
  if (s) return s;
  const sl_serve_spec *sv = &sc->serve;
  if (sc->task != SL_TASK_SERVE || sv->fleet.n_types == 0) {
    sl_scenario_free(sc);
    return err_set(err, SL_ERR_INPUT, p->file, 0, "serve.fleet",
                   "silica fleet needs task: serve with a serve.fleet section (serve.fleet.chips: the chip types)");
  }
  if (!(sv->rate_per_s > 0) || !isfinite(sv->rate_per_s)) {
    sl_scenario_free(sc);
    return err_set(err, SL_ERR_INPUT, p->file, 0, "serve.arrival_rate_per_s",
                   "silica fleet needs an offered arrival rate (a number, not max or inf)");
  }
  if (sv->disaggregated) {
    sl_scenario_free(sc);
    return err_set(err, SL_ERR_INPUT, p->file, 0, "serve.disaggregated",
                   "silica fleet chooses the pools itself: leave serve.disaggregated out");
  }
  sl_fleet_out o;
  s = serve_fleet_search(sc, p->brute, &o, err);
  size_t shown = 0;
  if (!s) {
    shown = o.n < (size_t)sv->fleet.top ? o.n : (size_t)sv->fleet.top;
    for (size_t i = 0; i < shown && !s; i++)
      s = serve_fleet_headroom(sc, &o.mix[i], err);
  }
  if (!s) {
    jbuf b;
    jb_init(&b);
    write_report(&b, sc, &o, shown, p->format);
    if (b.oom) {
      jb_free(&b);
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    } else {
      *out = b.s;
    }
  }
  serve_fleet_free(&o);
  sl_scenario_free(sc);
  return s;
}
