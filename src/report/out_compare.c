/* out_compare.c — the same workloads on several chips, as `silica compare` prints them
 * (include/silica.h sl_compare).  Each workload is a scenario file whose `chip` is replaced by each
 * chip in turn; the report gives throughput, performance per watt and per dollar of cost of
 * ownership, each relative to a baseline chip, and marks the best chip of each workload. */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MAX_ITEMS = 64 };
enum { M_THROUGHPUT, M_PERF_W, M_PERF_TCO, M_COUNT };
static const char *const METRIC_KEYS[M_COUNT] = {"throughput", "perf_per_w", "perf_per_tco"};

typedef struct cell {
  int feasible;
  /* the system it ran on, as resolved */
  const char *system; /* its name; NULL: an unnamed one (the chip's links) */
  double sys_chips, sys_node_chips;
  sl_link scale_up, scale_out;
  const char *reason; /* infeasible: why (owned by the arena) */
  double throughput;  /* units per second, whole system */
  double step_time_s, chips, power_w_per_chip, usd_per_hour;
  double metric[M_COUNT]; /* throughput; units per joule (system); units per dollar */
  int campaign;           /* the workload is a training campaign (train.tokens) */
  double ttt_s, chip_hours, goodput, mwh, campaign_usd;
  double rel[M_COUNT];    /* / the baseline's; NaN when either is missing */
} cell;

typedef struct workload {
  const char *file, *name, *unit;
  int best[M_COUNT]; /* chip index, -1 none */
} workload;

typedef struct cmp {
  arena a;
  const char *const *chips, *const *files, *const *systems;
  size_t n_chips, n_files, baseline;
  const char *sets[MAX_ITEMS + 2]; /* key=value for every workload; the chip's and the system's go last */
  size_t n_sets;
  workload w[MAX_ITEMS];
  cell cells[MAX_ITEMS][MAX_ITEMS]; /* [workload][chip] */
} cmp;

/* The file name without directory and extension. */
static const char *base_name(arena *a, const char *path) {
  const char *s = strrchr(path, '/');
  s = s ? s + 1 : path;
  const char *dot = strrchr(s, '.');
  return ar_strndup(a, s, dot && dot != s ? (size_t)(dot - s) : strlen(s));
}

/* The first system preset built from chip `name` (its `chip:` key), or NULL. */
static const char *preset_system_of(const char *name) {
  for (size_t i = 0, n = sl_preset_count("systems"); i < n; i++) {
    const char *sys = sl_preset_name("systems", i), *text = sl_preset_text("systems", sys);
    arena a;
    ar_init(&a);
    yt_node *root = NULL;
    sl_error e;
    int match = 0;
    if (text && yt_parse(&a, text, strlen(text), sys, &root, &e) == SL_OK) {
      yt_node *ch = yt_get(root, "chip");
      match = ch && ch->type == YT_SCALAR && strcmp(ch->str, name) == 0;
    }
    ar_free(&a);
    if (match) return sys;
  }
  return NULL;
}

/* The system chip k runs workload w on: the workload's own for the workload's chip (or a single
 * chip), else --systems' entry or the chip's preset system with the workload's chip count, else
 * the chip's links over the workload's chips and scale-up domain.  Writes the --set into set
 * ("" to keep the workload's). */
static sl_status system_set(cmp *c, size_t w, size_t k, const char *chip_set, char *set, size_t size,
                            sl_error *err) {
  set[0] = 0;
  sl_scenario *own = NULL, *on = NULL;
  sl_status s = sl_scenario_load(c->files[w], NULL, c->sets, c->n_sets, &own, err);
  c->sets[c->n_sets] = chip_set;
  if (!s) s = sl_scenario_load(c->files[w], NULL, c->sets, c->n_sets + 1, &on, err);
  if (!s) {
    const char *given = c->systems ? c->systems[k] : NULL;
    const char *preset = given ? given : preset_system_of(on->chip.name);
    if (!given && (strcmp(own->chip.name, on->chip.name) == 0 || own->chips <= 1))
      ; /* the workload's system */
    else if (preset)
      snprintf(set, size, "system={preset: \"%s\", chips: %.0f}", preset, own->chips);
    else
      snprintf(set, size, "system={chips: %.0f, node_chips: %.0f}", own->chips, own->node_chips);
  }
  sl_scenario_free(own);
  sl_scenario_free(on);
  return s;
}

/* Runs one workload on one chip into its cell.  Returns the error of a workload that does not load or run. */
static sl_status run_cell(cmp *c, size_t w, size_t k, sl_error *err) {
  char set[1024], sys[1200];
  snprintf(set, sizeof set, "chip=%s", c->chips[k]);
  sl_status s = system_set(c, w, k, set, sys, sizeof sys, err);
  if (s) return s;
  c->sets[c->n_sets] = set;
  c->sets[c->n_sets + 1] = sys;
  sl_scenario *sc = NULL;
  sl_result *res = NULL;
  s = sl_scenario_load(c->files[w], NULL, c->sets, c->n_sets + 1 + (sys[0] != 0), &sc, err);
  if (!s) s = sl_scenario_run(sc, &res, err);
  if (s) {
    sl_scenario_free(sc);
    return s;
  }
  cell *x = &c->cells[w][k];
  x->system = sc->system_name ? ar_strdup(&c->a, sc->system_name) : NULL;
  x->sys_chips = sc->chips, x->sys_node_chips = sc->node_chips;
  x->scale_up = sc->scale_up, x->scale_out = sc->scale_out;
  for (int m = 0; m < M_COUNT; m++)
    x->metric[m] = x->rel[m] = NAN;
  x->feasible = sl_result_feasible(res);
  x->reason = ar_strdup(&c->a, sl_result_reason(res));
  const char *unit = "runs/s";
  x->throughput = NAN;
  if (x->feasible) {
    x->step_time_s = sl_result_number(res, "step_time_s");
    x->chips = res->chips;
    if (!isnan(sl_result_number(res, "tokens_per_s")))
      x->throughput = sl_result_number(res, "tokens_per_s"), unit = "tokens/s";
    else if (!isnan(sl_result_number(res, "samples_per_s")))
      x->throughput = sl_result_number(res, "samples_per_s"), unit = "samples/s";
    else if (x->step_time_s > 0)
      x->throughput = 1.0 / x->step_time_s;
    x->power_w_per_chip = sl_result_number(res, "energy.avg_power_w_per_chip");
    x->usd_per_hour = sl_result_number(res, "cost.usd_per_hour_system");
    x->metric[M_THROUGHPUT] = x->throughput;
    x->metric[M_PERF_W] = x->throughput / (x->power_w_per_chip * x->chips);
    x->metric[M_PERF_TCO] = x->throughput * 3600.0 / x->usd_per_hour;
    x->ttt_s = sl_result_number(res, "campaign.time_to_train_s");
    x->campaign = !isnan(x->ttt_s);
    x->chip_hours = sl_result_number(res, "campaign.chip_hours");
    x->goodput = sl_result_number(res, "campaign.goodput");
    x->mwh = sl_result_number(res, "campaign.energy_mwh");
    x->campaign_usd = sl_result_number(res, "campaign.cost_usd");
  }
  if (!c->w[w].unit || strcmp(c->w[w].unit, "runs/s") == 0) c->w[w].unit = unit;
  sl_result_free(res);
  sl_scenario_free(sc);
  return SL_OK;
}

static void rank(cmp *c) {
  for (size_t w = 0; w < c->n_files; w++)
    for (int m = 0; m < M_COUNT; m++) {
      c->w[w].best[m] = -1;
      double base = c->cells[w][c->baseline].metric[m], top = -INFINITY;
      for (size_t k = 0; k < c->n_chips; k++) {
        cell *x = &c->cells[w][k];
        x->rel[m] = x->metric[m] / base;
        if (!isfinite(x->rel[m])) x->rel[m] = NAN;
        if (isfinite(x->metric[m]) && x->metric[m] > top) top = x->metric[m], c->w[w].best[m] = (int)k;
      }
    }
}

/* Geometric mean of a chip's relative figure over the workloads where it exists. */
static double geomean(const cmp *c, size_t k, int m, int *n) {
  double s = 0;
  *n = 0;
  for (size_t w = 0; w < c->n_files; w++)
    if (isfinite(c->cells[w][k].rel[m]) && c->cells[w][k].rel[m] > 0) s += log(c->cells[w][k].rel[m]), (*n)++;
  return *n ? exp(s / *n) : NAN;
}

/* ---- output -------------------------------------------------------------------------------------- */

static void write_system_json(jbuf *b, const cell *x) {
  jb_obj_begin(b, "system");
  if (x->system)
    jb_str(b, "name", x->system);
  else
    jb_null(b, "name");
  jb_num(b, "chips", x->sys_chips);
  jb_num(b, "node_chips", x->sys_node_chips);
  link_json(b, "scale_up", &x->scale_up);
  link_json(b, "scale_out", &x->scale_out);
  jb_obj_end(b);
}

static void write_json(jbuf *b, const cmp *c) {
  jb_obj_begin(b, NULL);
  jb_str(b, "silica_version", SILICA_VERSION);
  jb_str(b, "baseline", c->chips[c->baseline]);
  jb_arr_begin(b, "chips");
  for (size_t k = 0; k < c->n_chips; k++)
    jb_str(b, NULL, c->chips[k]);
  jb_arr_end(b);
  jb_arr_begin(b, "workloads");
  for (size_t w = 0; w < c->n_files; w++) {
    jb_obj_begin(b, NULL);
    jb_str(b, "name", c->w[w].name);
    jb_str(b, "file", c->files[w]);
    jb_str(b, "throughput_unit", c->w[w].unit);
    jb_obj_begin(b, "best");
    for (int m = 0; m < M_COUNT; m++) {
      if (c->w[w].best[m] >= 0)
        jb_str(b, METRIC_KEYS[m], c->chips[c->w[w].best[m]]);
      else
        jb_null(b, METRIC_KEYS[m]);
    }
    jb_obj_end(b);
    jb_arr_begin(b, "results");
    for (size_t k = 0; k < c->n_chips; k++) {
      const cell *x = &c->cells[w][k];
      jb_obj_begin(b, NULL);
      jb_str(b, "chip", c->chips[k]);
      write_system_json(b, x);
      jb_bool(b, "feasible", x->feasible);
      if (!x->feasible) jb_str(b, "reason", x->reason ? x->reason : "");
      jb_num(b, "throughput", x->throughput);
      jb_num(b, "step_time_s", x->feasible ? x->step_time_s : NAN);
      jb_num(b, "chips_in_system", x->feasible ? x->chips : NAN);
      jb_num(b, "power_w_per_chip", x->feasible ? x->power_w_per_chip : NAN);
      jb_num(b, "usd_per_hour_system", x->feasible ? x->usd_per_hour : NAN);
      jb_num(b, "perf_per_w", x->metric[M_PERF_W]);     /* units per joule */
      jb_num(b, "perf_per_usd", x->metric[M_PERF_TCO]); /* units per dollar of cost of ownership */
      if (x->feasible && x->campaign) {
        jb_obj_begin(b, "campaign");
        jb_num(b, "time_to_train_s", x->ttt_s);
        jb_num(b, "chip_hours", x->chip_hours);
        jb_num(b, "goodput", x->goodput);
        jb_num(b, "energy_mwh", x->mwh);
        jb_num(b, "cost_usd", x->campaign_usd);
        jb_obj_end(b);
      }
      jb_obj_begin(b, "relative");
      for (int m = 0; m < M_COUNT; m++)
        jb_num(b, METRIC_KEYS[m], x->rel[m]);
      jb_obj_end(b);
      jb_arr_begin(b, "best_in");
      for (int m = 0; m < M_COUNT; m++)
        if (c->w[w].best[m] == (int)k) jb_str(b, NULL, METRIC_KEYS[m]);
      jb_arr_end(b);
      jb_obj_end(b);
    }
    jb_arr_end(b);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_arr_begin(b, "summary"); /* geometric means of the relative figures over the workloads */
  for (size_t k = 0; k < c->n_chips; k++) {
    jb_obj_begin(b, NULL);
    jb_str(b, "chip", c->chips[k]);
    int n = 0;
    for (int m = 0; m < M_COUNT; m++) {
      char key[64];
      snprintf(key, sizeof key, "geomean_relative_%s", METRIC_KEYS[m]);
      jb_num(b, key, geomean(c, k, m, &n));
    }
    jb_num(b, "workloads", n);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_end(b);
  jb_raw(b, "\n");
}

static void csv_num(jbuf *b, double v, const char *sep) {
  rep_csv_num(b, v, sep);
}

static void write_csv(jbuf *b, const cmp *c) {
  jb_raw(b,
         "workload,chip,feasible,throughput,throughput_unit,power_w_per_chip,usd_per_hour_system,perf_per_w,"
         "perf_per_usd,relative_throughput,relative_perf_per_w,relative_perf_per_tco,best_in\n");
  for (size_t w = 0; w < c->n_files; w++)
    for (size_t k = 0; k < c->n_chips; k++) {
      const cell *x = &c->cells[w][k];
      rep_printf(b, "%s,%s,%s,", c->w[w].name, c->chips[k], x->feasible ? "true" : "false");
      csv_num(b, x->throughput, ",");
      rep_printf(b, "%s,", c->w[w].unit);
      csv_num(b, x->feasible ? x->power_w_per_chip : NAN, ",");
      csv_num(b, x->feasible ? x->usd_per_hour : NAN, ",");
      csv_num(b, x->metric[M_PERF_W], ",");
      csv_num(b, x->metric[M_PERF_TCO], ",");
      for (int m = 0; m < M_COUNT; m++)
        csv_num(b, x->rel[m], ",");
      int first = 1;
      for (int m = 0; m < M_COUNT; m++)
        if (c->w[w].best[m] == (int)k) rep_printf(b, "%s%s", first ? "" : " ", METRIC_KEYS[m]), first = 0;
      rep_printf(b, "\n");
    }
}

static void write_text(jbuf *b, const cmp *c) {
  int cw = 8;
  for (size_t k = 0; k < c->n_chips; k++)
    if ((int)strlen(c->chips[k]) > cw) cw = (int)strlen(c->chips[k]);
  rep_printf(b,
             "silica compare: %zu workload%s on %zu chips; ratios are chip / %s; * marks the best chip of a "
             "workload\n",
             c->n_files, c->n_files == 1 ? "" : "s", c->n_chips, c->chips[c->baseline]);
  for (size_t w = 0; w < c->n_files; w++) {
    const char *unit = c->w[w].unit;
    rep_printf(b, "\n%s (%s; throughput in %s, perf/W in %.*s per J, perf/TCO in %.*s per $)\n", c->w[w].name,
               c->files[w], unit, (int)(strlen(unit) - 2), unit, (int)(strlen(unit) - 2), unit);
    rep_printf(b, "  %-*s  %12s %9s %9s %11s %11s   %8s %8s %10s\n", cw, "chip", "throughput", "W/chip",
               "$/hour", "perf/W", "perf/TCO", "x thru", "x perf/W", "x perf/TCO");
    for (size_t k = 0; k < c->n_chips; k++) {
      const cell *x = &c->cells[w][k];
      if (!x->feasible) {
        rep_printf(b, "  %-*s  infeasible: %s\n", cw, c->chips[k], x->reason ? x->reason : "");
        continue;
      }
      char t[32], pw[32], pt[32], wt[32], u[32];
      unit_num(x->throughput, t, sizeof t);
      unit_num(x->metric[M_PERF_W], pw, sizeof pw);
      unit_num(x->metric[M_PERF_TCO], pt, sizeof pt);
      if (isnan(x->power_w_per_chip))
        snprintf(wt, sizeof wt, "-");
      else
        snprintf(wt, sizeof wt, "%.0f", x->power_w_per_chip);
      if (isnan(x->usd_per_hour))
        snprintf(u, sizeof u, "-");
      else
        unit_usd(x->usd_per_hour, u, sizeof u);
      rep_printf(b, "  %-*s  %12s %9s %9s %11s %11s  ", cw, c->chips[k], t, wt, u, pw, pt);
      for (int m = 0; m < M_COUNT; m++) {
        char r[32];
        if (isnan(x->rel[m]))
          snprintf(r, sizeof r, "-");
        else
          snprintf(r, sizeof r, "%.2fx%s", x->rel[m], c->w[w].best[m] == (int)k ? "*" : " ");
        rep_printf(b, " %*s", m == M_PERF_TCO ? 10 : 8, r);
      }
      rep_printf(b, "\n");
    }
    int many = 0; /* a single chip runs on no system worth naming */
    for (size_t k = 0; k < c->n_chips; k++)
      if (c->cells[w][k].sys_chips > 1) many = 1;
    if (many) rep_printf(b, "  systems:\n");
    for (size_t k = 0; many && k < c->n_chips; k++) {
      const cell *x = &c->cells[w][k];
      rep_printf(b, "  %-*s  %s: %.0f chips, scale-up domains of %.0f at %.4g GB/s per chip", cw, c->chips[k],
                 x->system ? x->system : "the chip's links", x->sys_chips, x->sys_node_chips,
                 x->scale_up.bw_GBps);
      if (x->sys_chips > x->sys_node_chips)
        rep_printf(b, ", scale-out %.4g GB/s per chip", x->scale_out.bw_GBps);
      rep_printf(b, "\n");
    }
    int any = 0;
    for (size_t k = 0; k < c->n_chips; k++)
      any |= c->cells[w][k].feasible && c->cells[w][k].campaign;
    if (!any) continue;
    rep_printf(b, "  campaign:\n  %-*s  %8s %13s %13s %8s %10s %12s\n", cw, "chip", "chips", "time to train",
               "chip-hours", "goodput", "MWh", "cost $");
    for (size_t k = 0; k < c->n_chips; k++) {
      const cell *x = &c->cells[w][k];
      if (!x->feasible || !x->campaign) continue;
      rep_printf(b, "  %-*s  %8.0f %8.1f days %13.4g %7.1f%% %10.4g %12.4g\n", cw, c->chips[k], x->chips,
                 x->ttt_s / 86400, x->chip_hours, 100 * x->goodput, x->mwh, x->campaign_usd);
    }
  }
  if (c->n_files > 1) {
    rep_printf(b, "\ngeometric mean over the workloads, relative to %s\n", c->chips[c->baseline]);
    rep_printf(b, "  %-*s  %8s %8s %10s\n", cw, "chip", "x thru", "x perf/W", "x perf/TCO");
    for (size_t k = 0; k < c->n_chips; k++) {
      int n = 0;
      double g[M_COUNT];
      for (int m = 0; m < M_COUNT; m++)
        g[m] = geomean(c, k, m, &n);
      rep_printf(b, "  %-*s", cw, c->chips[k]);
      for (int m = 0; m < M_COUNT; m++) {
        char r[32];
        if (isnan(g[m]))
          snprintf(r, sizeof r, "-");
        else
          snprintf(r, sizeof r, "%.2fx", g[m]);
        rep_printf(b, " %*s", m == M_PERF_TCO ? 10 : 8, r);
      }
      rep_printf(b, "\n");
    }
  }
}

sl_status sl_compare(const sl_compare_params *p, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out || !p) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_compare: params or out is NULL");
  *out = NULL;
  if (!p->chips || !p->n_chips || p->n_chips > MAX_ITEMS || !p->workloads || !p->n_workloads ||
      p->n_workloads > MAX_ITEMS)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: 1 to %d chips and 1 to %d workloads", MAX_ITEMS,
                   MAX_ITEMS);
  if (p->n_sets > MAX_ITEMS || (p->n_sets && !p->sets))
    return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: at most %d settings", MAX_ITEMS);
  if (p->baseline >= p->n_chips)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: the baseline is not one of the chips");
  if (p->format != SL_FORMAT_TEXT && p->format != SL_FORMAT_JSON && p->format != SL_FORMAT_CSV)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: format must be text, JSON or CSV");
  for (size_t i = 0; i < p->n_chips; i++)
    if (!p->chips[i]) return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: chip %zu is NULL", i);
  for (size_t i = 0; i < p->n_workloads; i++)
    if (!p->workloads[i]) return err_set(err, SL_ERR_INPUT, "", 0, "", "compare: workload %zu is NULL", i);
  cmp *c = calloc(1, sizeof *c);
  if (!c) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&c->a);
  c->chips = p->chips, c->n_chips = p->n_chips;
  c->files = p->workloads, c->n_files = p->n_workloads;
  c->baseline = p->baseline;
  c->systems = p->systems;
  for (size_t i = 0; i < p->n_sets; i++)
    c->sets[c->n_sets++] = p->sets[i];
  sl_status s = SL_OK;
  for (size_t w = 0; !s && w < c->n_files; w++) {
    c->w[w].file = c->files[w];
    c->w[w].name = base_name(&c->a, c->files[w]);
    if (!c->w[w].name) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t k = 0; !s && k < c->n_chips; k++)
      s = run_cell(c, w, k, err);
  }
  if (!s) {
    rank(c);
    jbuf b;
    jb_init(&b);
    if (p->format == SL_FORMAT_JSON)
      write_json(&b, c);
    else if (p->format == SL_FORMAT_CSV)
      write_csv(&b, c);
    else
      write_text(&b, c);
    s = rep_take(&b, out, err);
  }
  ar_free(&c->a);
  free(c);
  return s;
}
