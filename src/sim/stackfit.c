/* stackfit.c — a stack's few fitted figures and leave-one-source-out cross-validation
 * (docs/validation.md "Fitted and cross-validated error").
 *
 * A stack (the software that runs a model) has figures no kernel measurement can give: the share of
 * the device's kernel-level throughput the framework sustains (`efficiency`), the host time each
 * kernel launch adds (`kernel_overhead_s`) and a serving engine's host work per step and per sequence
 * in it (`host_step_s`, `host_seq_s`).  They are fitted here to end-to-end measurements
 * (`use: validate` cases) of that stack, by coordinate descent with golden-section search on the mean
 * |log(predicted / measured)| over the cases (each case weighs the same, whatever its number of
 * metrics; a small squared term settles flat valleys, FLAT_TIE); a figure is fitted only when it
 * moves some case's prediction.  Every prediction is the full model (sim_run).
 *
 * Cross-validation leaves one source group out at a time: the stacks its cases use are refitted on
 * every other group's cases and the left-out group is predicted with them.  That error is the honest
 * estimate of the error on a workload nobody measured; the in-sample (fitted) error is reported
 * beside it. */
#include "sim/sim.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *key;
  size_t off; /* in sl_stack */
  double lo, hi, probe;
  double prior; /* what a stack gets with no data to fit on: the kernel-level model as it is, and the
                   launch gap of eager kernels the CPU runs ahead of (3-5 us) */
} FIGS[SL_STACK_FIGS] = {
    {"efficiency", offsetof(sl_stack, efficiency), 0.5, 1.0, 0.9, 1.0},                  /* probe: x 0.9 */
    {"kernel_overhead_s", offsetof(sl_stack, kernel_overhead_s), 0.0, 2e-5, 2e-6, 4e-6}, /* probe: + 2 us */
    /* a framework's host work per step beside its launches: up to 20 ms (a Python scheduler's slowest
     * passes; a Python training pipeline's input distribution and bookkeeping, TorchRec's of 2022 about
     * 7 ms), prior 50 us (a C++ scheduler's pass and the step's launch); and per sequence in the step:
     * up to 200 us (a Python request object's bookkeeping, and an OpenAI server's work on each
     * sequence's token: detokenising, one streamed event, its client's parse, on the same host), prior
     * 1 us (a C++ loop over the batch) */
    {"host_step_s", offsetof(sl_stack, host_step_s), 0.0, 2e-2, 2e-4, 5e-5}, /* probe: + 200 us */
    {"host_seq_s", offsetof(sl_stack, host_seq_s), 0.0, 2e-4, 5e-6, 1e-6},   /* probe: + 5 us */
};

const char *stack_fig_key(int i) {
  return i >= 0 && i < SL_STACK_FIGS ? FIGS[i].key : NULL;
}

/* The fit group of a case's stack: stacks of one group share their fitted figures. */
static const char *grp(const sl_scenario *sc) {
  return sc->stack.fit_group ? sc->stack.fit_group : sc->stack.name;
}

static double *fig(sl_scenario *sc, int i) {
  return (double *)((char *)&sc->stack + FIGS[i].off);
}

/* The figures' values for every case (those the cases were loaded with). */
typedef struct presets {
  double (*v)[SL_STACK_FIGS];
} presets;

static sl_status presets_save(const sl_fit_set *set, presets *p, sl_error *err) {
  p->v = malloc((set->n ? set->n : 1) * sizeof *p->v);
  if (!p->v) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < set->n; i++)
    for (int k = 0; k < SL_STACK_FIGS; k++)
      p->v[i][k] = set->cases[i].sc ? *fig(set->cases[i].sc, k) : 0;
  return SL_OK;
}

static void presets_restore(sl_fit_set *set, const presets *p, const char *stack) {
  for (size_t i = 0; i < set->n; i++) {
    sl_scenario *sc = set->cases[i].sc;
    if (!sc || (stack && strcmp(grp(sc), stack) != 0)) continue;
    for (int k = 0; k < SL_STACK_FIGS; k++)
      *fig(sc, k) = p->v[i][k];
  }
}

/* ---- predictions ------------------------------------------------------------------------------ */

typedef struct fctx {
  sl_fit_set *set;
  size_t *idx; /* the cases fitted on */
  size_t n;
  const char *stack;
  sl_result res; /* reused: its arena is reset for every prediction */
  sl_error *err;
  int failed;
} fctx;

/* Runs case c; pred[k] gets metric k (NaN where the build does not compute it).  Returns 0 when the
 * case ran and is feasible. */
static int run_case(sl_result *res, sl_error *err, const sl_fit_case *c, double *pred, int *internal) {
  ar_reset(&res->a);
  arena keep = res->a;
  memset(res, 0, sizeof *res);
  res->a = keep;
  sl_status s = sim_run(c->sc, res, err);
  if (s == SL_ERR_INTERNAL) *internal = 1;
  if (s || !res->feasible) return -1;
  for (size_t k = 0; k < c->n; k++)
    pred[k] = sl_result_number(res, c->metric[k]);
  return 0;
}

/* The weight of the squared log error beside the absolute one.  A mean |log| is flat wherever as
 * many cases are over- as under-predicted and a figure moves them alike (torchrec's host time over
 * its five cases: the same error from 7.5 to 9.0 ms), and a golden-section search then stops
 * anywhere in that valley, at a point that a change in the fifth decimal of another figure moves.
 * The small squared term picks the point of the valley whose residuals balance (their mean log 0
 * where they move alike), and elsewhere moves a figure by well under its own fitting noise. */
static const double FLAT_TIE = 1e-3;

/* Mean over the fitted cases of the mean |log(pred/meas)| of their metrics; a case that stops
 * running counts as a factor e^2 off.  mae, bias (may be NULL): over the (case, metric) points.  The
 * serving engine's state (result_key_is_state: the sequences it holds, its preemptions) is set by the
 * workload, the memory and the scheduler, not by how fast the stack runs a kernel: checked, never
 * fitted to, so that an error of the workload's description (docs/energy-cost.md 2.14) cannot bend a
 * figure of the software. */
static double objective(fctx *f, double *mae, double *bias) {
  double sum = 0, ae = 0, se = 0;
  size_t pts = 0;
  double pred[64];
  for (size_t j = 0; j < f->n; j++) {
    const sl_fit_case *c = &f->set->cases[f->idx[j]];
    size_t m = c->n < 64 ? c->n : 64;
    if (run_case(&f->res, f->err, c, pred, &f->failed)) {
      sum += 2.0;
      continue;
    }
    double cs = 0;
    size_t ck = 0;
    for (size_t k = 0; k < m; k++) {
      if (!(pred[k] > 0) || !(c->measured[k] > 0) || result_key_is_state(c->metric[k])) continue;
      double l = log(pred[k] / c->measured[k]);
      cs += fabs(l) + FLAT_TIE * l * l;
      double r = pred[k] / c->measured[k] - 1;
      ae += fabs(r), se += r, pts++, ck++;
    }
    sum += ck ? cs / (double)ck : 2.0;
  }
  if (mae) *mae = pts ? ae / (double)pts : NAN;
  if (bias) *bias = pts ? se / (double)pts : NAN;
  return f->n ? sum / (double)f->n : 0;
}

static void set_fig(fctx *f, int k, double v) {
  for (size_t i = 0; i < f->set->n; i++) {
    sl_scenario *sc = f->set->cases[i].sc;
    if (sc && strcmp(grp(sc), f->stack) == 0) *fig(sc, k) = v;
  }
}

static double golden(fctx *f, int k) {
  const double g = 0.6180339887498949;
  double lo = FIGS[k].lo, hi = FIGS[k].hi;
  double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
  set_fig(f, k, c);
  double fc = objective(f, NULL, NULL);
  set_fig(f, k, d);
  double fd = objective(f, NULL, NULL);
  for (int it = 0; it < 32 && b - a > 1e-4 * (hi - lo); it++) {
    if (fc <= fd) {
      b = d, d = c, fd = fc, c = b - g * (b - a);
      set_fig(f, k, c);
      fc = objective(f, NULL, NULL);
    } else {
      a = c, c = d, fc = fd, d = a + g * (b - a);
      set_fig(f, k, d);
      fd = objective(f, NULL, NULL);
    }
  }
  double best = fc <= fd ? c : d;
  set_fig(f, k, best);
  return best;
}

/* 1 when case i may be fitted on: loaded, use: validate, of the stack, not of group `exclude`. */
static int fit_case(const sl_fit_case *c, const char *stack, const char *exclude) {
  return c->sc && !c->calibration && strcmp(grp(c->sc), stack) == 0 &&
         !(exclude && strcmp(c->group, exclude) == 0);
}

/* The figures the stack's spec says are fitted (its `fitted` list), from the first case that runs on
 * it; all of them when it names none and `all` is set. */
static unsigned fit_mask(const sl_fit_set *set, const char *stack, int all) {
  for (size_t i = 0; i < set->n; i++) {
    const sl_scenario *sc = set->cases[i].sc;
    if (sc && strcmp(grp(sc), stack) == 0) return sc->stack.fitted || !all ? sc->stack.fitted : ~0u;
  }
  return all ? ~0u : 0;
}

/* A stack named by the user stands for its fit group. */
static const char *group_of(const sl_fit_set *set, const char *stack) {
  for (size_t i = 0; i < set->n; i++) {
    const sl_scenario *sc = set->cases[i].sc;
    if (sc && strcmp(sc->stack.name, stack) == 0) return grp(sc);
  }
  return stack;
}

sl_status stack_fit(sl_fit_set *set, const char *stack, const char *exclude, sl_stack_fit *out,
                    sl_error *err) {
  stack = group_of(set, stack);
  return stack_fit_mask(set, stack, exclude, fit_mask(set, stack, 1), out, err);
}

sl_status stack_fit_mask(sl_fit_set *set, const char *stack, const char *exclude, unsigned mask,
                         sl_stack_fit *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  out->stack = stack;
  out->mae_before = out->mae_after = out->bias_before = out->bias_after = NAN;
  fctx f;
  memset(&f, 0, sizeof f);
  f.set = set, f.stack = stack, f.err = err;
  f.idx = malloc((set->n ? set->n : 1) * sizeof *f.idx);
  if (!f.idx) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&f.res.a);
  /* The cases that run with the stack's present figures are the ones fitted on. */
  double pred[64];
  for (size_t i = 0; i < set->n; i++) {
    const sl_fit_case *c = &set->cases[i];
    if (!fit_case(c, stack, exclude)) continue;
    if (run_case(&f.res, err, c, pred, &f.failed) == 0) f.idx[f.n++] = i;
  }
  for (size_t j = 0; j < f.n; j++)
    out->n_points += set->cases[f.idx[j]].n;
  out->n_cases = f.n;
  for (int k = 0; k < SL_STACK_FIGS; k++) {
    const sl_fit_case *c0 = f.n ? &set->cases[f.idx[0]] : NULL;
    out->before[k] = out->after[k] = c0 ? *fig(c0->sc, k) : NAN;
  }
  if (!f.n && exclude) { /* nothing left to fit on: the fitted figures fall back to their priors, never
                          to values fitted on the left-out cases themselves */
    for (int k = 0; k < SL_STACK_FIGS; k++)
      if (mask >> k & 1u) set_fig(&f, k, FIGS[k].prior), out->after[k] = FIGS[k].prior;
  }
  if (f.n && !f.failed) {
    double base = objective(&f, &out->mae_before, &out->bias_before);
    /* which figures move some case: a step from the present value, else either bound (a host time
     * moves a step only once it passes the device's time) */
    for (int k = 0; k < SL_STACK_FIGS; k++) {
      double v = out->before[k];
      const double at[3] = {k == 0 ? v * FIGS[k].probe : v + FIGS[k].probe, FIGS[k].lo, FIGS[k].hi};
      out->fitted[k] = 0;
      for (int j = 0; j < 3 && (mask >> k & 1u) && !out->fitted[k]; j++) {
        set_fig(&f, k, at[j]);
        out->fitted[k] = fabs(objective(&f, NULL, NULL) - base) > 1e-12;
      }
      set_fig(&f, k, v);
    }
    for (int round = 0; round < 3 && !f.failed; round++)
      for (int k = 0; k < SL_STACK_FIGS; k++)
        if (out->fitted[k]) out->after[k] = golden(&f, k);
    objective(&f, &out->mae_after, &out->bias_after);
  }
  ar_free(&f.res.a);
  free(f.idx);
  if (f.failed) return err && err->code ? err->code : err_set(err, SL_ERR_INTERNAL, "", 0, "", "model error");
  return SL_OK;
}

/* ---- cross-validation ------------------------------------------------------------------------- */

/* Appends the time-like residual of an entry that ran to t (strings copied into a). */
static sl_status add_resid(arena *a, sl_resid_table *t, size_t *cap, const sl_fit_case *c,
                           const sl_val_entry *e) {
  if (!t || !(e->status == SL_VAL_OK || e->status == SL_VAL_FAIL)) return SL_OK;
  double r = residual_time_like(e->metric, e->predicted, e->measured);
  if (isnan(r)) return SL_OK;
  if (t->n == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    sl_resid *p = realloc(t->rows, nc * sizeof *p);
    if (!p) return SL_ERR_INTERNAL;
    t->rows = p, *cap = nc;
  }
  sl_resid *row = &t->rows[t->n];
  row->group = ar_strdup(a, c->group);
  row->task = ar_strdup(a, sl_task_names[c->sc->task]);
  row->stack = ar_strdup(a, c->sc->stack.name);
  row->chip = ar_strdup(a, c->sc->chip.name);
  row->case_name = ar_strdup(a, c->name);
  row->metric = ar_strdup(a, e->metric);
  row->r = r;
  row->r_fit = NAN;
  row->moe = model_has_moe(&c->sc->model);
  if (!row->group || !row->task || !row->stack || !row->chip || !row->case_name || !row->metric)
    return SL_ERR_INTERNAL;
  t->n++;
  return SL_OK;
}

/* Predicts case c with the figures now set and records its entries. */
static sl_status predict_into(sl_validation *v, sl_result *res, const sl_fit_case *c, int *internal) {
  if (!c->sc) {
    for (size_t k = 0; k < c->n; k++)
      if (val_record(v, c, k, NAN, c->message)) return SL_ERR_INTERNAL;
    return SL_OK;
  }
  double pred[64];
  sl_error e;
  memset(&e, 0, sizeof e);
  int bad = run_case(res, &e, c, pred, internal);
  char msg[600];
  if (bad)
    snprintf(msg, sizeof msg, "%s%s",
             res->feasible || e.code ? "" : "infeasible: ", e.code ? e.message : res->reason);
  for (size_t k = 0; k < c->n; k++)
    if (val_record(v, c, k, bad || k >= 64 ? NAN : pred[k], bad ? msg : NULL)) return SL_ERR_INTERNAL;
  return SL_OK;
}

/* The distinct stack names of the loaded use: validate cases (of group `group`, or all). */
static size_t stacks_of(const sl_fit_set *set, const char *group, const char **out) {
  size_t n = 0;
  for (size_t i = 0; i < set->n; i++) {
    const sl_fit_case *c = &set->cases[i];
    if (!c->sc || c->calibration || (group && strcmp(c->group, group) != 0)) continue;
    size_t j = 0;
    while (j < n && strcmp(out[j], grp(c->sc)) != 0)
      j++;
    if (j == n) out[n++] = grp(c->sc);
  }
  return n;
}

/* The stack prior: the geometric mean of the efficiencies fitted to the fit groups that have
 * `efficiency` among their fitted figures and cases to fit it on (each software stack one draw from
 * the population of stacks; a stack with more cases does not weigh more).  `fits[j]` may be
 * replaced by `alt[j]` when alt is given and alt[j].stack is set. */
static double prior_of(const sl_stack_fit *fits, const sl_stack_fit *alt, size_t n, size_t *count) {
  double sum = 0;
  size_t k = 0;
  for (size_t j = 0; j < n; j++) {
    const sl_stack_fit *f = alt && alt[j].stack ? &alt[j] : &fits[j];
    if (f->n_cases > 0 && f->fitted[0] && f->after[0] > 0) sum += log(f->after[0]), k++;
  }
  if (count) *count = k;
  /* with no stack among these cases to draw it from, the built-in prior (the one of the full
   * cross-validated set, data/validation/residuals.yaml) stands.  Rounded to the 4 decimals that
   * residuals.yaml prints: the stacks that take it are fitted at it here and by `silica calibrate
   * --stack` at the printed figure, and one prior for both keeps the two fits one (a difference in
   * its fifth decimal moved torchrec's host figure from 8.15 to 8.74 ms before FLAT_TIE). */
  return k ? round(exp(sum / (double)k) * 1e4) / 1e4 : stack_prior_efficiency();
}

/* Sets the prior efficiency on the cases (of group `group`, or all) whose stack takes it: a stack
 * that gives no efficiency and fits none, or one that fits it but had no case to fit it on (its
 * group in `empty`, names of n_empty fits with no cases). */
static void prior_set(sl_fit_set *set, const char *group, double v, const char *const *empty, size_t n_empty) {
  for (size_t i = 0; i < set->n; i++) {
    sl_scenario *sc = set->cases[i].sc;
    if (!sc || (group && strcmp(set->cases[i].group, group) != 0)) continue;
    int takes = !sc->stack.efficiency_given && !(sc->stack.fitted & 1u);
    for (size_t j = 0; !takes && j < n_empty; j++)
      takes = (sc->stack.fitted & 1u) && strcmp(grp(sc), empty[j]) == 0;
    if (takes) sc->stack.efficiency = v;
  }
}

sl_status val_cross_validate(sl_fit_set *set, sl_validation *fitted, sl_validation *cv, sl_stack_fit **fits,
                             size_t *n_fits, sl_cv_extra *x, sl_error *err) {
  *fits = NULL, *n_fits = 0;
  memset(x, 0, sizeof *x);
  size_t rcap = 0;
  presets p = {NULL};
  const char **names = malloc((set->n ? set->n : 1) * sizeof *names);
  const char **groups = malloc((set->n ? set->n : 1) * sizeof *groups);
  sl_stack_fit *fs = malloc((set->n ? set->n : 1) * sizeof *fs);
  sl_result res;
  memset(&res, 0, sizeof res);
  ar_init(&res.a);
  int internal = 0;
  sl_status s = names && groups && fs ? presets_save(set, &p, err)
                                      : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  /* In sample: every stack fitted on all its cases, every case predicted.  The stacks that fit
   * their efficiency first: the prior is drawn from them, and the stacks that take it (a host
   * figure fitted over the prior's kernels) are fitted at it, so that the figures and the prior
   * are one fixed point rather than the prior of the previous refit. */
  size_t ns = s ? 0 : stacks_of(set, NULL, names);
  if (fs) memset(fs, 0, (set->n ? set->n : 1) * sizeof *fs);
  for (int pass = 0; !s && pass < 2; pass++) {
    for (size_t j = 0; !s && j < ns; j++) {
      unsigned mask = fit_mask(set, names[j], 0);
      if ((int)(mask & 1u) == pass) continue; /* pass 0: the efficiency fitters; 1: the rest */
      s = stack_fit_mask(set, names[j], NULL, mask, &fs[j], err);
    }
    if (!s && pass == 0) {
      x->prior_eff = prior_of(fs, NULL, ns, &x->prior_stacks);
      prior_set(set, NULL, x->prior_eff, NULL, 0);
    }
  }
  for (size_t i = 0; !s && i < set->n; i++)
    if (predict_into(fitted, &res, &set->cases[i], &internal)) s = SL_ERR_INTERNAL;
  /* Out of sample: each group predicted with its stacks refitted on the other groups. */
  size_t ng = 0;
  for (size_t i = 0; !s && i < set->n; i++) {
    size_t j = 0;
    while (j < ng && strcmp(groups[j], set->cases[i].group) != 0)
      j++;
    if (j == ng) groups[ng++] = set->cases[i].group;
  }
  const char **gs = malloc((set->n ? set->n : 1) * sizeof *gs);
  const char **empty = malloc((set->n ? set->n : 1) * sizeof *empty);
  sl_stack_fit *alt = malloc((ns ? ns : 1) * sizeof *alt);
  if (!s && (!gs || !empty || !alt)) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t g = 0; !s && g < ng; g++) {
    presets_restore(set, &p, NULL);
    size_t k = stacks_of(set, groups[g], gs);
    /* the group's stacks refitted without it; the prior from those and the other stacks' fits,
     * set on every case before the stacks that take it are refitted (as in sample) */
    memset(alt, 0, (ns ? ns : 1) * sizeof *alt);
    size_t n_empty = 0;
    for (int pass = 0; !s && pass < 2; pass++) {
      for (size_t j = 0; !s && j < k; j++) {
        unsigned mask = fit_mask(set, gs[j], 0);
        if ((int)(mask & 1u) == pass) continue;
        sl_stack_fit tmp;
        s = stack_fit_mask(set, gs[j], groups[g], mask, &tmp, err);
        if (!s && tmp.n_cases == 0) empty[n_empty++] = gs[j];
        for (size_t q = 0; !s && q < ns; q++)
          if (strcmp(names[q], gs[j]) == 0) alt[q] = tmp;
      }
      if (!s && pass == 0) prior_set(set, NULL, prior_of(fs, alt, ns, NULL), empty, n_empty);
    }
    for (size_t i = 0; !s && i < set->n; i++) {
      const sl_fit_case *c = &set->cases[i];
      if (strcmp(c->group, groups[g]) != 0) continue;
      if (c->calibration) { /* kernel-level data: reported with the stack figures fitted on everything */
        continue;
      }
      size_t first = cv->n;
      if (predict_into(cv, &res, c, &internal)) s = SL_ERR_INTERNAL;
      for (size_t e = first; !s && e < cv->n; e++)
        if (add_resid(&cv->a, &x->resid, &rcap, c, &cv->entries[e])) s = SL_ERR_INTERNAL;
    }
  }
  /* Each residual's in-sample twin: the same (case, metric) predicted with every case in the fit. */
  for (size_t i = 0; !s && i < x->resid.n; i++) {
    sl_resid *row = &x->resid.rows[i];
    for (size_t e = 0; e < fitted->n; e++) {
      const sl_val_entry *f = &fitted->entries[e];
      if (strcmp(f->name, row->case_name) != 0 || strcmp(f->metric, row->metric) != 0) continue;
      if (f->status == SL_VAL_OK || f->status == SL_VAL_FAIL)
        row->r_fit = residual_time_like(f->metric, f->predicted, f->measured);
      break;
    }
  }
  /* Coverage of the 80% intervals: each residual against the interval its peers in the other
   * groups give (so no case widens its own interval); then, for every task and for all together, the
   * smallest widening that covers 80% of its residuals. */
  if (!s && resid_fit_widen(&x->resid, &x->covered_n, &x->covered_plain) < 0) s = SL_ERR_INTERNAL;
  /* what the intervals cover with each task's own factor */
  x->covered_widened = 0;
  size_t covered_n = 0;
  if (!s && resid_coverage(&x->resid, NULL, 0, &covered_n, &x->covered_widened) < 0) s = SL_ERR_INTERNAL;
  /* calibrate cases in the cross-validated set as fitted (they measure the chip fit, reported apart) */
  if (!s) {
    presets_restore(set, &p, NULL);
    prior_set(set, NULL, x->prior_eff, NULL, 0);
    for (size_t j = 0; !s && j < ns; j++) {
      for (size_t i = 0; i < set->n; i++) {
        sl_scenario *sc = set->cases[i].sc;
        if (sc && strcmp(grp(sc), fs[j].stack) == 0)
          for (int q = 0; q < SL_STACK_FIGS; q++)
            *fig(sc, q) = fs[j].after[q];
      }
    }
    for (size_t i = 0; !s && i < set->n; i++)
      if (set->cases[i].calibration && predict_into(cv, &res, &set->cases[i], &internal)) s = SL_ERR_INTERNAL;
  }
  free(gs);
  free(empty);
  free(alt);
  if (p.v) presets_restore(set, &p, NULL);
  free(p.v);
  free(names);
  free(groups);
  ar_free(&res.a);
  if (s) {
    free(fs);
    free(x->resid.rows);
    memset(x, 0, sizeof *x);
    if (s == SL_ERR_INTERNAL && !(err && err->code))
      err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    return s;
  }
  fitted->internal_errors += (size_t)internal;
  val_summarise(fitted);
  val_summarise(cv);
  *fits = fs, *n_fits = ns;
  return SL_OK;
}
