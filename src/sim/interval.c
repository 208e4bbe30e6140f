/* interval.c — the error bar on a prediction (FORMATS.md output key `interval`): where the measured
 * value of the headline metric is expected to fall, from the cross-validated residuals of the
 * validation cases most like the scenario.
 *
 * A residual is r = log(predicted / measured) turned time-like: for a rate (tokens/s, samples/s,
 * MFU, throughput) its sign is flipped, so r > 0 always means the prediction runs slow.  The
 * residuals of a scenario's peers are taken from the most specific tier that has enough of them:
 * same task, stack and chip; same task and stack; same task and chip; same task; every case.  The
 * 80% interval of a time-like prediction t is [t e^-q90, t e^-q10] with q10 and q90 the 10th and 90th
 * percentiles (linear interpolation) of the peers' r, each moved away from their median by the
 * table's factor `widen`; a rate's is [v e^q10, v e^q90].  Residuals cluster by source (a source's
 * cases share its harness and software), so the percentiles of the other sources' residuals make too
 * narrow an interval for a new source: `widen` (>= 1) is the smallest factor at which the
 * intervals cover 80% of the cross-validated residuals, each judged by its peers in the other
 * sources.
 *
 * The table (data/validation/residuals.yaml) is written by `silica validate --cross-validate
 * --residuals FILE` over the published cases, so every residual is the error on a case whose source
 * was left out of the fit. */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int metric_is_rate(const char *metric) {
  return strstr(metric, "per_s") || strstr(metric, "mfu") || strstr(metric, "throughput") ||
         strstr(metric, "goodput");
}

int metric_is_time(const char *metric) {
  size_t n = strlen(metric);
  return !metric_is_rate(metric) && n > 2 && strcmp(metric + n - 2, "_s") == 0;
}

double residual_time_like(const char *metric, double predicted, double measured) {
  if (!(predicted > 0) || !(measured > 0)) return NAN;
  double r = log(predicted / measured);
  return metric_is_rate(metric) ? -r : metric_is_time(metric) ? r : NAN;
}

sl_status resid_table_parse(arena *a, const char *text, const char *file, sl_resid_table *t, sl_error *err) {
  memset(t, 0, sizeof *t);
  yt_node *root = NULL;
  reader r = {err, a, ""};
  SL_TRY(yt_parse(a, text, strlen(text), file, &root, err));
  SL_TRY(rd_map(&r, root));
  const char *ign = NULL;
  SL_TRY(rd_string(&r, root, "description", 0, &ign));
  t->widen = 1;
  SL_TRY(rd_double(&r, root, "widen", 0, 1, 100, &t->widen));
  yt_node *tw = yt_get(root, "widen_by_task");
  if (tw) {
    rd_mark m = rd_push(&r, "widen_by_task");
    sl_status s = rd_map(&r, tw);
    for (int i = 0; !s && i < SL_TASK_COUNT; i++)
      s = rd_double(&r, tw, sl_task_names[i], 0, 1, 100, &t->task_widen[i]);
    if (!s) s = rd_done(&r, tw);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  SL_TRY(rd_string(&r, root, "coverage", 0, &ign));
  yt_node *prior = yt_get(root, "stack_prior"); /* read by hw (stack_prior_efficiency) */
  if (prior) {
    rd_mark m = rd_push(&r, "stack_prior");
    double v = 1, ns = 0;
    sl_status s = rd_map(&r, prior);
    if (!s) s = rd_double(&r, prior, "efficiency", 1, 0.05, 1, &v);
    if (!s) s = rd_double(&r, prior, "stacks", 0, 0, 1e6, &ns);
    if (!s) s = rd_string(&r, prior, "source", 0, &ign);
    if (!s) s = rd_done(&r, prior);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  yt_node *list = yt_get(root, "residuals");
  SL_TRY(rd_done(&r, root));
  if (!list || list->type != YT_SEQ) return rd_fail(&r, root, "expected a list `residuals`");
  t->rows = ar_alloc(a, (list->n ? list->n : 1) * sizeof *t->rows);
  if (!t->rows) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < list->n; i++) {
    rd_mark m = rd_push(&r, "residuals");
    rd_push_index(&r, i);
    yt_node *n = list->items[i];
    sl_resid *row = &t->rows[i];
    sl_status s = rd_map(&r, n);
    if (!s) s = rd_string(&r, n, "case", 1, &row->case_name);
    if (!s) s = rd_string(&r, n, "group", 1, &row->group);
    if (!s) s = rd_string(&r, n, "task", 1, &row->task);
    if (!s) s = rd_string(&r, n, "stack", 1, &row->stack);
    if (!s) s = rd_string(&r, n, "chip", 1, &row->chip);
    if (!s) s = rd_string(&r, n, "metric", 1, &row->metric);
    if (!s) s = rd_double(&r, n, "r", 1, -20, 20, &row->r);
    row->r_fit = NAN;
    if (!s) s = rd_double(&r, n, "r_fit", 0, -20, 20, &row->r_fit);
    row->moe = 0;
    if (!s) s = rd_bool(&r, n, "moe", 0, &row->moe);
    if (!s) s = rd_done(&r, n);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  t->n = list->n;
  return SL_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t i = (size_t)floor(pos);
  if (i + 1 >= n) return sorted[n - 1];
  return sorted[i] + (pos - (double)i) * (sorted[i + 1] - sorted[i]);
}

/* Tier k's match of row t against the scenario (task, stack, chip); tier -1: the task's cases with
 * mixture-of-experts layers. */
static int tier_match(int k, const sl_resid *t, const char *task, const char *stack, const char *chip) {
  int ta = strcmp(t->task, task) == 0, st = strcmp(t->stack, stack) == 0, ch = strcmp(t->chip, chip) == 0;
  switch (k) {
  case -1:
    return ta && t->moe;
  case 0:
    return ta && st && ch;
  case 1:
    return ta && st;
  case 2:
    return ta && ch;
  case 3:
    return ta;
  default:
    return 1;
  }
}

size_t resid_record(const sl_resid_table *t, const char *name, int by_stack, sl_resid_group *out,
                    size_t cap) {
  size_t ng = 0;
  if (!t || !name) return 0;
  for (size_t i = 0; i < t->n; i++) {
    const sl_resid *row = &t->rows[i];
    if (strcmp(by_stack ? row->stack : row->chip, name) != 0) continue;
    size_t g = 0;
    while (g < ng && strcmp(out[g].group, row->group) != 0)
      g++;
    if (g == ng) {
      if (ng == cap) continue; /* no room: the sources past cap are left out */
      out[ng++] = (sl_resid_group){.group = row->group};
    }
    /* the error as validate prints it: predicted / measured - 1 of the metric (a rate's residual has
     * its sign flipped) */
    double sign = row->metric && metric_is_rate(row->metric) ? -1 : 1;
    double e = exp(sign * row->r) - 1;
    sl_resid_group *o = &out[g];
    o->n++, o->sum_abs_err += fabs(e), o->sum_err += e;
    if (!isnan(row->r_fit)) {
      double f = exp(sign * row->r_fit) - 1;
      o->n_fit++, o->sum_abs_err_fit += fabs(f), o->sum_err_fit += f;
    }
    for (int k = 0; k < SL_TASK_COUNT; k++)
      if (strcmp(sl_task_names[k], row->task) == 0) o->n_task[k]++;
  }
  return ng;
}

double resid_widen(const sl_resid_table *t, const char *task) {
  for (int i = 0; i < SL_TASK_COUNT; i++)
    if (strcmp(sl_task_names[i], task) == 0 && t->task_widen[i] >= 1) return t->task_widen[i];
  return t->widen;
}

int resid_interval(const sl_resid_table *t, const char *task, const char *stack, const char *chip, int moe,
                   const char *exclude_group, size_t min_peers, double widen, double *q10, double *q90,
                   size_t *peers, size_t *moe_peers) {
  *q10 = *q90 = NAN;
  *peers = 0;
  if (moe_peers) *moe_peers = 0;
  if (!t || !t->n) return 0;
  double *v = malloc(t->n * sizeof *v);
  if (!v) return -1;
  int found = 0;
  for (int k = moe ? -1 : 0; k < 5 && !found; k++) {
    size_t n = 0, nm = 0;
    for (size_t i = 0; i < t->n; i++) {
      const sl_resid *row = &t->rows[i];
      if (exclude_group && strcmp(row->group, exclude_group) == 0) continue;
      if (tier_match(k, row, task, stack, chip)) v[n++] = row->r, nm += row->moe != 0;
    }
    if (n >= min_peers && n >= 2) {
      if (moe_peers) *moe_peers = nm;
      qsort(v, n, sizeof *v, cmp_double);
      double med = quantile(v, n, 0.5);
      *q10 = med - widen * (med - quantile(v, n, 0.1));
      *q90 = med + widen * (quantile(v, n, 0.9) - med);
      *peers = n;
      found = 1;
    }
  }
  free(v);
  return found;
}

void interval_bounds(const char *metric, double predicted, double q10, double q90, double *lo, double *hi) {
  if (metric_is_rate(metric)) {
    *lo = predicted * exp(q10), *hi = predicted * exp(q90);
  } else {
    *lo = predicted * exp(-q90), *hi = predicted * exp(-q10);
  }
}

int resid_coverage(const sl_resid_table *t, const char *task, double widen, size_t *n, size_t *in) {
  *n = *in = 0;
  for (size_t i = 0; i < t->n; i++) {
    const sl_resid *row = &t->rows[i];
    if (task && strcmp(row->task, task) != 0) continue;
    double q10, q90;
    size_t peers;
    int ok = resid_interval(t, row->task, row->stack, row->chip, row->moe, row->group, SL_INTERVAL_MIN_PEERS,
                            widen > 0 ? widen : resid_widen(t, row->task), &q10, &q90, &peers, NULL);
    if (ok < 0) return -1;
    if (ok != 1) continue;
    (*n)++;
    *in += row->r >= q10 && row->r <= q90;
  }
  return 0;
}

int resid_fit_widen(sl_resid_table *t, size_t *n_all, size_t *in_plain) {
  t->widen = 1;
  *n_all = *in_plain = 0;
  for (int k = 0; k < SL_TASK_COUNT; k++)
    t->task_widen[k] = 0;
  for (int task = -1; task < SL_TASK_COUNT; task++) {
    const char *name = task < 0 ? NULL : sl_task_names[task];
    for (int step = 0; step <= 80; step++) {
      double k = 1 + 0.05 * step;
      size_t n = 0, in = 0;
      if (resid_coverage(t, name, k, &n, &in) < 0) return -1;
      if (!name && step == 0) *n_all = n, *in_plain = in;
      if (name && n < SL_INTERVAL_MIN_PEERS) break; /* too few of this task: the overall factor */
      if (name)
        t->task_widen[task] = k;
      else
        t->widen = k;
      if (n == 0 || (double)in >= 0.8 * (double)n) break;
    }
  }
  return 0;
}

static sl_status load_named(arena *a, const char *name, sl_resid_table **out, sl_error *err) {
  *out = NULL;
  const char *text = sl_preset_text("validation", name);
  if (!text) return SL_OK;
  sl_resid_table *t = ar_alloc(a, sizeof *t);
  if (!t) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  SL_TRY(resid_table_parse(a, text, preset_path("validation", name), t, err));
  *out = t;
  return SL_OK;
}

sl_status resid_load(arena *a, sl_resid_table **out, sl_error *err) {
  return load_named(a, "residuals", out, err);
}

sl_status power_resid_load(arena *a, sl_resid_table **out, sl_error *err) {
  return load_named(a, "power-residuals", out, err);
}

sl_status energy_resid_load(arena *a, sl_resid_table **out, sl_error *err) {
  return load_named(a, "energy-residuals", out, err);
}

const char *interval_metric(sl_task task, int has_samples) {
  switch (task) {
  case SL_TASK_SERVE:
    return "serve.throughput_tokens_per_s";
  case SL_TASK_INFER:
    return has_samples ? "samples_per_s" : "step_time_s";
  default:
    return "step_time_s";
  }
}

/* The percentiles of sc's peers in table t at its task's widening into *m (m->found 0: too few). */
static sl_status peers_of(const sl_scenario *sc, const sl_resid_table *t, struct sl_iv_peers *m, sl_error *err) {
  memset(m, 0, sizeof *m);
  m->task = sc->task, m->stack = sc->stack.name, m->chip = sc->chip.name;
  m->q10 = m->q90 = m->moe_peers = NAN;
  if (!t) return SL_OK;
  size_t peers = 0, moe_peers = 0;
  m->widen = resid_widen(t, sl_task_names[sc->task]);
  int found = resid_interval(t, sl_task_names[sc->task], sc->stack.name, sc->chip.name, model_has_moe(&sc->model),
                             NULL, SL_INTERVAL_MIN_PEERS, m->widen, &m->q10, &m->q90, &peers, &moe_peers);
  if (found < 0) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory (interval)");
  m->found = found, m->peers = (double)peers, m->moe_peers = (double)moe_peers;
  for (size_t i = 0; sc->chip.name && i < t->n; i++)
    m->chip_rows += strcmp(t->rows[i].chip, sc->chip.name) == 0;
  return SL_OK;
}

static int same_name(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

sl_status interval_prepare(sl_scenario *sc, sl_error *err) {
  SL_TRY(peers_of(sc, sc->resid, &sc->iv_time, err));
  SL_TRY(peers_of(sc, sc->power_resid, &sc->iv_power, err));
  SL_TRY(peers_of(sc, sc->energy_resid, &sc->iv_energy, err));
  sc->iv_time.valid = sc->iv_power.valid = sc->iv_energy.valid = 1;
  return SL_OK;
}

/* The interval of `value` of `metric` from table t's peers of sc: the ones prepared at load (*m) while
 * the scenario's task, stack and chip are still theirs, else computed now. */
static sl_status interval_from(const sl_scenario *sc, const sl_resid_table *t, const struct sl_iv_peers *m,
                               const char *metric, double value, sl_interval *out, sl_error *err) {
  *out = (sl_interval){NULL, NAN, NAN, NAN, 0, NAN, NAN};
  if (!t || !(value > 0)) return SL_OK;
  struct sl_iv_peers now;
  if (!(m->valid && m->task == sc->task && same_name(m->stack, sc->stack.name) && same_name(m->chip, sc->chip.name))) {
    SL_TRY(peers_of(sc, t, &now, err));
    m = &now;
  }
  if (!m->found) return SL_OK;
  out->metric = metric;
  interval_bounds(metric, value, m->q10, m->q90, &out->lo, &out->hi);
  out->level = 0.8;
  out->cases = m->peers;
  if (model_has_moe(&sc->model)) out->moe_cases = m->moe_peers;
  out->chip_cases = m->chip_rows;
  return SL_OK;
}

sl_status interval_of(const sl_scenario *sc, const char *metric, double value, sl_interval *out,
                      sl_error *err) {
  return interval_from(sc, sc->resid, &sc->iv_time, metric, value, out, err);
}

/* A board's average power lies between its idle power and its limit (the limiter holds it there over
 * its window), so the interval is clipped to them. */
sl_status power_interval_of(const sl_scenario *sc, double value, sl_interval *out, sl_error *err) {
  const sl_resid_table *t = sc->power_resid;
  SL_TRY(interval_from(sc, t, &sc->iv_power, "energy.avg_power_w_per_chip", value, out, err));
  if (!out->metric) return SL_OK;
  double idle = sc->chip.energy.static_w, tdp = sc->chip.tdp_w;
  if (idle > 0 && idle < value) out->lo = fmax(out->lo, idle);
  if (tdp > 0 && tdp >= value) out->hi = fmin(out->hi, tdp);
  return SL_OK;
}

sl_status energy_interval_of(const sl_scenario *sc, const char *metric, double value, sl_interval *out,
                             sl_error *err) {
  return interval_from(sc, sc->energy_resid, &sc->iv_energy, metric, value, out, err);
}
