/* out_validate.c — the results of validation runs as `silica validate` prints them: a text table, a
 * Markdown report or CSV (the JSON is val_json's), and a summary for the exit code
 * (include/silica.h sl_validate). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pct(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%+.1f%%", 100 * v);
}

static void group_line(jbuf *b, const char *label, const sl_val_group *g) {
  char m[32], x[32];
  if (g->ran) {
    snprintf(m, sizeof m, "%.2f%%", 100 * g->mape);
    snprintf(x, sizeof x, "%.2f%%", 100 * g->max_abs_rel_error);
  } else {
    snprintf(m, sizeof m, "-");
    snprintf(x, sizeof x, "-");
  }
  rep_printf(
      b,
      "%s: mape %s over %zu of %zu entries that ran, max |error| %s; %zu ok, %zu fail, %zu unsupported, "
      "%zu error\n",
      label, m, g->ran, g->n, x, g->counts[SL_VAL_OK], g->counts[SL_VAL_FAIL], g->counts[SL_VAL_UNSUPPORTED],
      g->counts[SL_VAL_ERROR]);
}

static const char CALIB_TITLE[] =
    "calibration (use: calibrate: kernel-level measurements the chips' figures are fitted to; their error "
    "shows the fit, not the model's predictive power)";

/* ---- text ------------------------------------------------------------------------------------- */

static void text_rows(jbuf *b, const sl_validation *v, int calibration, int w) {
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    if (e->calibration != calibration) continue;
    char m[32], p[32], r[32];
    unit_num(e->measured, m, sizeof m);
    unit_num(e->predicted, p, sizeof p);
    pct(e->rel_error, r, sizeof r);
    rep_printf(b, "%-*s  %-22s  %11s  %11s  %8s  %s\n", w, e->name, e->metric, m, p, r,
               sl_val_status_names[e->status]);
    if (e->message[0]) rep_printf(b, "%-*s    %s\n", w, "", e->message);
  }
}

static void text_header(jbuf *b, int w) {
  rep_printf(b, "%-*s  %-22s  %11s  %11s  %8s  %s\n", w, "name", "metric", "measured", "predicted", "error",
             "status");
}

static void write_text(jbuf *b, const sl_validation *v) {
  int w = 4;
  for (size_t i = 0; i < v->n; i++) {
    int l = (int)strlen(v->entries[i].name);
    if (l > w) w = l;
  }
  if (v->valid.n) {
    text_header(b, w);
    text_rows(b, v, 0, w);
  }
  if (v->calib.n) {
    rep_printf(b, "%s%s\n", v->valid.n ? "\n" : "", CALIB_TITLE);
    text_header(b, w);
    text_rows(b, v, 1, w);
  }
  rep_printf(b, "\n");
  if (v->valid.n) group_line(b, "validation", &v->valid);
  if (v->calib.n) group_line(b, "calibration", &v->calib);
}

/* ---- Markdown --------------------------------------------------------------------------------- */

/* A table cell: '|' would end the cell and a line break the row. */
static void md_cell(jbuf *b, const char *s) {
  char c[2] = {0, 0};
  jb_raw(b, " ");
  for (const char *p = s; *p; p++) {
    c[0] = *p == '\n' || *p == '\r' ? ' ' : *p;
    jb_raw(b, *p == '|' ? "\\|" : c);
  }
  jb_raw(b, " |");
}

static void md_table(jbuf *b, const sl_validation *v, int calibration) {
  rep_printf(b, "| case | metric | measured | predicted | error | tolerance | status | notes |\n");
  rep_printf(b, "|---|---|---:|---:|---:|---:|---|---|\n");
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    if (e->calibration != calibration) continue;
    char m[32], p[32], r[32], t[32];
    unit_num(e->measured, m, sizeof m);
    unit_num(e->predicted, p, sizeof p);
    pct(e->rel_error, r, sizeof r);
    snprintf(t, sizeof t, "%.0f%%", 100 * e->tolerance);
    jb_raw(b, "|");
    md_cell(b, e->name);
    md_cell(b, e->metric);
    md_cell(b, m);
    md_cell(b, p);
    md_cell(b, r);
    md_cell(b, t);
    md_cell(b, e->status == SL_VAL_OK     ? "ok"
               : e->status == SL_VAL_FAIL ? "**fail**"
                                          : sl_val_status_names[e->status]);
    char note[1024];
    snprintf(note, sizeof note, "%s%s%s", e->message, e->message[0] && e->source[0] ? "; " : "", e->source);
    md_cell(b, note);
    jb_raw(b, "\n");
  }
}

static void write_report(jbuf *b, const sl_validation *v, const char *const *files, size_t n_files,
                         const char *filter) {
  rep_printf(b, "# silica validation report\n\nsilica %s; cases from", SILICA_VERSION);
  for (size_t i = 0; i < n_files; i++)
    rep_printf(b, "%s `%s`", i ? "," : "", files[i]);
  if (filter) rep_printf(b, "; names matching `%s`", filter);
  rep_printf(b, ".\n\n");
  if (v->valid.n) {
    rep_printf(b, "## Validation\n\n");
    md_table(b, v, 0);
    rep_printf(b, "\n");
    group_line(b, "**validation**", &v->valid);
    rep_printf(b, "\n");
  }
  if (v->calib.n) {
    rep_printf(
        b,
        "## Calibration\n\nCases with `use: calibrate`: the kernel-level measurements the chip figures are "
        "fitted to. Their error shows the fit, not the model's predictive power.\n\n");
    md_table(b, v, 1);
    rep_printf(b, "\n");
    group_line(b, "**calibration**", &v->calib);
  }
}

/* ---- CSV: one line per (case, metric), as the JSON's entries ------------------------------------ */

static void csv_str(jbuf *b, const char *s, int last) {
  rep_csv_str(b, s, last ? "\n" : ",");
}

static void csv_num(jbuf *b, double v) {
  rep_csv_num(b, v, ",");
}

static void write_csv(jbuf *b, const sl_validation *v) {
  jb_raw(b, "name,metric,measured,predicted,rel_error,tolerance,status,group,source,message\n");
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    csv_str(b, e->name, 0);
    csv_str(b, e->metric, 0);
    csv_num(b, e->measured);
    csv_num(b, e->predicted);
    csv_num(b, e->rel_error);
    csv_num(b, e->tolerance);
    csv_str(b, sl_val_status_names[e->status], 0);
    csv_str(b, e->group, 0);
    csv_str(b, e->source, 0);
    csv_str(b, e->message, 1);
  }
}

/* ---- errors per source or file ---------------------------------------------------------------- */

static void by_section(jbuf *b, const sl_validation *v, int by, int md) {
  sl_val_group *g = NULL;
  size_t n = val_by(v, by, &g);
  if (n == (size_t)-1) {
    b->oom = 1;
    return;
  }
  const char *what = by == SL_BY_FILE ? "file" : by == SL_BY_METRIC ? "metric" : "source";
  if (md)
    rep_printf(b,
               "\n| %s | use | ran | mean abs. error | mean error | max abs. error "
               "|\n|---|---|---:|---:|---:|---:|\n",
               what);
  else
    rep_printf(b, "\nby %s:\n", what);
  for (size_t i = 0; i < n; i++) {
    char m[32], e[32], x[32];
    pct(g[i].mape, m, sizeof m);
    pct(g[i].mean_rel_error, e, sizeof e);
    pct(g[i].max_abs_rel_error, x, sizeof x);
    const char *use = g[i].calibration ? "calibrate" : "validate";
    if (md)
      rep_printf(b, "| %s | %s | %zu of %zu | %s | %s | %s |\n", g[i].name, use, g[i].ran, g[i].n,
                 m + (m[0] == '+'), e, x + (x[0] == '+'));
    else
      rep_printf(b, "  %-30s %-9s %3zu of %3zu ran  mean |error| %7s  mean error %7s  max %7s\n", g[i].name,
                 use, g[i].ran, g[i].n, m + (m[0] == '+'), e, x + (x[0] == '+'));
  }
  free(g);
}

/* ---- cross-validation ------------------------------------------------------------------------- */

typedef struct cvrun {
  sl_fit_set set;
  sl_validation fitted, cv;
  sl_stack_fit *fits;
  size_t n_fits;
  sl_cv_extra x;
} cvrun;

static void cvrun_free(cvrun *c) {
  free(c->fits);
  free(c->x.resid.rows);
  val_free(&c->fitted);
  val_free(&c->cv);
  val_fit_free(&c->set);
}

/* The fitted (in-sample) summary of group g of the cross-validated summary. */
static const sl_val_group *fitted_of(const sl_val_group *fg, size_t nf, const sl_val_group *g) {
  for (size_t i = 0; i < nf; i++)
    if (fg[i].calibration == g->calibration && strcmp(fg[i].name, g->name) == 0) return &fg[i];
  return NULL;
}

static void fig_text(char *buf, size_t n, int k, double v) {
  if (k == 0) /* efficiency; the others are times */
    snprintf(buf, n, "%.3f", v);
  else
    snprintf(buf, n, "%.2f us", v * 1e6);
}

static void cv_sections(jbuf *b, const cvrun *c, int md) {
  /* stacks */
  if (md)
    rep_printf(
        b,
        "\n### Stack figures fitted on all their cases\n\n| stack | cases | efficiency | kernel_overhead_s | "
        "host_step_s | host_seq_s | mean abs. error | mean error |\n|---|---:|---|---|---|---|---|---|\n");
  else
    rep_printf(b, "\nstack figures fitted on all their use: validate cases (silica calibrate --stack):\n");
  for (size_t i = 0; i < c->n_fits; i++) {
    const sl_stack_fit *f = &c->fits[i];
    char fig[SL_STACK_FIGS][64];
    for (int k = 0; k < SL_STACK_FIGS; k++) {
      char a[24], z[24];
      fig_text(a, sizeof a, k, f->before[k]);
      fig_text(z, sizeof z, k, f->after[k]);
      if (f->fitted[k])
        snprintf(fig[k], sizeof fig[k], "%s -> %s", a, z);
      else
        snprintf(fig[k], sizeof fig[k], "%s (not fitted)", a);
    }
    char m0[32], m1[32], b0[32], b1[32];
    pct(f->mae_before, m0, sizeof m0);
    pct(f->mae_after, m1, sizeof m1);
    pct(f->bias_before, b0, sizeof b0);
    pct(f->bias_after, b1, sizeof b1);
    if (md) {
      rep_printf(b, "| %s | %zu |", f->stack, f->n_cases);
      for (int k = 0; k < SL_STACK_FIGS; k++)
        rep_printf(b, " %s |", fig[k]);
      rep_printf(b, " %s -> %s | %s -> %s |\n", m0 + (m0[0] == '+'), m1 + (m1[0] == '+'), b0, b1);
    } else {
      rep_printf(b, "  %-24s %3zu cases ", f->stack, f->n_cases);
      for (int k = 0; k < SL_STACK_FIGS; k++) /* the host figures only where some case moves with them */
        if (k < 2 || f->fitted[k] || f->before[k] != 0)
          rep_printf(b, "%s %s %s", k ? "," : "", stack_fig_key(k), fig[k]);
      rep_printf(b, "; mean |error| %s -> %s, mean error %s -> %s\n", m0 + (m0[0] == '+'), m1 + (m1[0] == '+'),
                 b0, b1);
    }
  }
  if (c->x.prior_stacks)
    rep_printf(
        b,
        "%sstack prior (the efficiency of a stack that gives none, and under cross-validation of a fitted "
        "stack left without cases): %.4f, the geometric mean of %zu fitted %s\n",
        md ? "\n" : "  ", c->x.prior_eff, c->x.prior_stacks,
        c->x.prior_stacks == 1 ? "stack's efficiency" : "stacks' efficiencies");
  else
    rep_printf(b,
               "%sstack prior (the efficiency of a stack that gives none): %.4f, built in (no stack of these "
               "cases fits its efficiency)\n",
               md ? "\n" : "  ", c->x.prior_eff);
  /* per source */
  sl_val_group *g = NULL, *fg = NULL;
  size_t n = val_by(&c->cv, SL_BY_SOURCE, &g), nf = val_by(&c->fitted, SL_BY_SOURCE, &fg);
  if (n == (size_t)-1 || nf == (size_t)-1) {
    free(g), free(fg);
    b->oom = 1;
    return;
  }
  if (md)
    rep_printf(b, "\n### Error per source\n\n| source | use | ran | fitted | cross-validated | "
                  "cross-validated mean error |\n"
                  "|---|---|---:|---:|---:|---:|\n");
  else
    rep_printf(
        b, "\nper source (mean |error|)      use        ran      fitted  cross-validated  (mean error)\n");
  for (size_t i = 0; i < n; i++) {
    const sl_val_group *f = fitted_of(fg, nf, &g[i]);
    char fm[32], cm[32], ce[32];
    pct(f ? f->mape : NAN, fm, sizeof fm);
    pct(g[i].mape, cm, sizeof cm);
    pct(g[i].mean_rel_error, ce, sizeof ce);
    const char *use = g[i].calibration ? "calibrate" : "validate";
    if (md)
      rep_printf(b, "| %s | %s | %zu of %zu | %s | %s | %s |\n", g[i].name, use, g[i].ran, g[i].n,
                 fm + (fm[0] == '+'), cm + (cm[0] == '+'), ce);
    else
      rep_printf(b, "  %-28s %-9s %3zu of %3zu  %7s  %15s  (%s)\n", g[i].name, use, g[i].ran, g[i].n,
                 fm + (fm[0] == '+'), cm + (cm[0] == '+'), ce);
  }
  free(g);
  free(fg);
  char fm[32], fe[32], cm[32], ce[32];
  pct(c->fitted.valid.mape, fm, sizeof fm);
  pct(c->fitted.valid.mean_rel_error, fe, sizeof fe);
  pct(c->cv.valid.mape, cm, sizeof cm);
  pct(c->cv.valid.mean_rel_error, ce, sizeof ce);
  rep_printf(b,
             "\n%svalidation: fitted mean |error| %s (mean error %s), cross-validated %s (mean error %s) "
             "over %zu of %zu "
             "entries%s\n",
             md ? "**" : "", fm + (fm[0] == '+'), fe, cm + (cm[0] == '+'), ce, c->cv.valid.ran, c->cv.valid.n,
             md ? "**" : "");
  const sl_cv_extra *x = &c->x;
  if (x->covered_n)
    rep_printf(
        b,
        "%s80%% intervals: from the other sources' residuals %zu of %zu measurements fall inside (%.0f%%); "
        "widened around their median (x%.2f, or each task's own factor), %zu of %zu (%.0f%%)\n",
        md ? "\n" : "", x->covered_plain, x->covered_n,
        100.0 * (double)x->covered_plain / (double)x->covered_n, x->resid.widen, x->covered_widened,
        x->covered_n, 100.0 * (double)x->covered_widened / (double)x->covered_n);
}

static void cv_json(jbuf *b, const cvrun *c) {
  jb_obj_begin(b, NULL);
  jb_str(b, "silica_version", SILICA_VERSION);
  jb_arr_begin(b, "cases");
  for (size_t i = 0; i < c->cv.n; i++)
    val_write_entry(b, &c->cv.entries[i]);
  jb_arr_end(b);
  jb_num(b, "mape", c->cv.valid.mape);
  jb_num(b, "max_abs_rel_error", c->cv.valid.max_abs_rel_error);
  jb_num(b, "mean_rel_error", c->cv.valid.mean_rel_error);
  jb_num(b, "calibration_mape", c->cv.calib.mape);
  jb_obj_begin(b, "fitted");
  jb_num(b, "mape", c->fitted.valid.mape);
  jb_num(b, "max_abs_rel_error", c->fitted.valid.max_abs_rel_error);
  jb_num(b, "mean_rel_error", c->fitted.valid.mean_rel_error);
  jb_arr_begin(b, "cases");
  for (size_t i = 0; i < c->fitted.n; i++)
    val_write_entry(b, &c->fitted.entries[i]);
  jb_arr_end(b);
  jb_obj_end(b);
  sl_val_group *g = NULL, *fg = NULL;
  size_t n = val_by(&c->cv, SL_BY_SOURCE, &g), nf = val_by(&c->fitted, SL_BY_SOURCE, &fg);
  if (n == (size_t)-1 || nf == (size_t)-1) n = nf = 0, b->oom = 1;
  jb_arr_begin(b, "groups");
  for (size_t i = 0; i < n; i++) {
    const sl_val_group *f = fitted_of(fg, nf, &g[i]);
    jb_obj_begin(b, NULL);
    jb_str(b, "group", g[i].name);
    jb_str(b, "use", g[i].calibration ? "calibrate" : "validate");
    jb_num(b, "entries", (double)g[i].n);
    jb_num(b, "ran", (double)g[i].ran);
    jb_num(b, "mape", g[i].mape);
    jb_num(b, "mean_rel_error", g[i].mean_rel_error);
    jb_num(b, "max_abs_rel_error", g[i].max_abs_rel_error);
    jb_num(b, "fitted_mape", f ? f->mape : NAN);
    jb_num(b, "fitted_mean_rel_error", f ? f->mean_rel_error : NAN);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  free(g);
  free(fg);
  jb_arr_begin(b, "stacks");
  for (size_t i = 0; i < c->n_fits; i++) {
    const sl_stack_fit *f = &c->fits[i];
    jb_obj_begin(b, NULL);
    jb_str(b, "stack", f->stack);
    jb_num(b, "cases", (double)f->n_cases);
    for (int k = 0; k < SL_STACK_FIGS; k++) {
      jb_obj_begin(b, stack_fig_key(k));
      jb_num(b, "before", f->before[k]);
      jb_num(b, "after", f->after[k]);
      jb_bool(b, "fitted", f->fitted[k]);
      jb_obj_end(b);
    }
    jb_num(b, "mape_before", f->mae_before);
    jb_num(b, "mape_after", f->mae_after);
    jb_num(b, "mean_rel_error_before", f->bias_before);
    jb_num(b, "mean_rel_error_after", f->bias_after);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_begin(b, "stack_prior");
  jb_num(b, "efficiency", c->x.prior_eff);
  jb_num(b, "stacks", (double)c->x.prior_stacks);
  jb_obj_end(b);
  jb_obj_begin(b, "interval_coverage");
  jb_num(b, "entries", (double)c->x.covered_n);
  jb_num(b, "inside", (double)c->x.covered_plain);
  jb_num(b, "widen", c->x.resid.widen);
  jb_num(b, "inside_widened", (double)c->x.covered_widened);
  jb_obj_end(b);
  jb_obj_begin(b, "counts");
  for (int i = 0; i < SL_VAL_COUNT; i++)
    jb_num(b, sl_val_status_names[i], (double)c->cv.all.counts[i]);
  jb_obj_end(b);
  jb_obj_end(b);
  jb_raw(b, "\n");
}

/* A YAML string in double quotes. */
static void yq(jbuf *b, const char *s) {
  jb_raw(b, "\"");
  char c[2] = {0, 0};
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') jb_raw(b, "\\");
    c[0] = *p < 32 ? ' ' : *p;
    jb_raw(b, c);
  }
  jb_raw(b, "\"");
}

static void residuals_yaml(jbuf *b, const cvrun *c, const char *const *paths, size_t n_paths) {
  const sl_cv_extra *x = &c->x;
  rep_printf(b, "# Cross-validated residuals of silica's validation cases, written by `silica validate "
                "--cross-validate --residuals`\n# from");
  for (size_t i = 0; i < n_paths; i++)
    rep_printf(b, " %s", paths[i]);
  rep_printf(
      b,
      ".\n# r = log(predicted / measured), time-like (> 0: the prediction is slower than the measurement),\n"
      "# each predicted with the stack figures refitted without the case's source (src/sim/interval.c);\n"
      "# r_fit the same with the figures fitted on every case (silica show stack|chip prints both).\n");
  rep_printf(b, "description: \"cross-validated residuals of %zu (case, metric) entries\"\n", x->resid.n);
  rep_printf(b, "widen: %.2f\n", x->resid.widen);
  int any = 0;
  for (int t = 0; t < SL_TASK_COUNT; t++)
    if (x->resid.task_widen[t] >= 1)
      rep_printf(b, "%s%s: %.2f", any++ ? ", " : "widen_by_task: {", sl_task_names[t],
                 x->resid.task_widen[t]);
  if (any) rep_printf(b, "}\n");
  rep_printf(b,
             "coverage: \"80%% intervals from the other sources' residuals: %zu of %zu inside; at x%.2f, %zu "
             "of %zu\"\n",
             x->covered_plain, x->covered_n, x->resid.widen, x->covered_widened, x->covered_n);
  rep_printf(b,
             "stack_prior: {efficiency: %.4f, stacks: %zu, source: \"geometric mean of the efficiencies fitted "
             "to the %zu stacks with end-to-end cases: the efficiency of a stack that gives none\"}\n",
             x->prior_eff, x->prior_stacks, x->prior_stacks);
  rep_printf(b, "residuals:\n");
  for (size_t i = 0; i < x->resid.n; i++) {
    const sl_resid *r = &x->resid.rows[i];
    rep_printf(b, "  - {case: ");
    yq(b, r->case_name);
    rep_printf(b, ", group: ");
    yq(b, r->group);
    rep_printf(b, ", task: %s, stack: ", r->task);
    yq(b, r->stack);
    rep_printf(b, ", chip: ");
    yq(b, r->chip);
    rep_printf(b, ", metric: %s, r: %.5f", r->metric, r->r);
    if (!isnan(r->r_fit)) rep_printf(b, ", r_fit: %.5f", r->r_fit);
    if (r->moe) rep_printf(b, ", moe: true");
    rep_printf(b, "}\n");
  }
}

static void cv_markdown(jbuf *b, const cvrun *c, const char *const *files, size_t n_files,
                        const char *filter) {
  rep_printf(b, "# silica validation report\n\nsilica %s; cases from", SILICA_VERSION);
  for (size_t i = 0; i < n_files; i++)
    rep_printf(b, "%s `%s`", i ? "," : "", files[i]);
  if (filter) rep_printf(b, "; names matching `%s`", filter);
  rep_printf(
      b,
      ".\n\nEach case is predicted twice: *fitted*, with every stack's figures (efficiency, kernel overhead, "
      "host time) fitted on all the `use: validate` cases that run on it, and *cross-validated*, with the figures of "
      "the stacks its source uses refitted on every other source (leave-one-source-out). The "
      "cross-validated error is the estimate of the error on a workload nobody measured. Chip figures "
      "come from kernel-level data only (`use: calibrate`, reported apart).\n");
  cv_sections(b, c, 1);
  for (int cal = 0; cal < 2; cal++) {
    int any = 0;
    for (size_t i = 0; i < c->cv.n; i++)
      any |= c->cv.entries[i].calibration == cal;
    if (!any) continue;
    rep_printf(b, cal ? "\n## Calibration cases\n\n" : "\n## Validation cases\n\n");
    rep_printf(b,
               "| case | source | metric | measured | fitted | error | cross-validated | error | status |\n"
               "|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < c->cv.n; i++) {
      const sl_val_entry *e = &c->cv.entries[i];
      if (e->calibration != cal) continue;
      const sl_val_entry *f = NULL;
      for (size_t j = 0; j < c->fitted.n && !f; j++)
        if (strcmp(c->fitted.entries[j].name, e->name) == 0 &&
            strcmp(c->fitted.entries[j].metric, e->metric) == 0)
          f = &c->fitted.entries[j];
      char m[32], fp[32], fe[32], cp[32], ce[32];
      unit_num(e->measured, m, sizeof m);
      unit_num(f ? f->predicted : NAN, fp, sizeof fp);
      pct(f ? f->rel_error : NAN, fe, sizeof fe);
      unit_num(e->predicted, cp, sizeof cp);
      pct(e->rel_error, ce, sizeof ce);
      jb_raw(b, "|");
      md_cell(b, e->name);
      md_cell(b, e->group);
      md_cell(b, e->metric);
      md_cell(b, m);
      md_cell(b, fp);
      md_cell(b, fe);
      md_cell(b, cp);
      md_cell(b, ce);
      char st[700];
      snprintf(st, sizeof st, "%s%s%s",
               e->status == SL_VAL_FAIL ? "**fail**" : sl_val_status_names[e->status],
               e->message[0] ? ": " : "", e->message);
      md_cell(b, st);
      jb_raw(b, "\n");
    }
  }
}

sl_validate_params sl_validate_params_default(void) {
  sl_validate_params p;
  memset(&p, 0, sizeof p);
  p.format = SL_FORMAT_TEXT;
  return p;
}

sl_status sl_validate(const char *const *paths, size_t n_paths, const char *filter, sl_format format,
                      char **out, sl_validate_summary *summary, sl_error *err) {
  sl_validate_params p = sl_validate_params_default();
  p.filter = filter;
  p.format = format;
  return sl_validate_ex(paths, n_paths, &p, out, NULL, summary, err);
}

static sl_status validate_cv(const char *const *paths, size_t n_paths, const sl_validate_params *p,
                             char **out, char **residuals, sl_validate_summary *summary, sl_error *err) {
  cvrun c;
  memset(&c, 0, sizeof c);
  val_init(&c.fitted);
  val_init(&c.cv);
  sl_status s = val_load_fit_files(&c.set, paths, n_paths, p->filter, err);
  if (!s && c.set.n) s = val_cross_validate(&c.set, &c.fitted, &c.cv, &c.fits, &c.n_fits, &c.x, err);
  if (s || c.set.n == 0) {
    cvrun_free(&c);
    return s;
  }
  if (summary) {
    summary->entries = c.cv.all.n;
    summary->ok = c.cv.all.counts[SL_VAL_OK];
    summary->internal_errors = c.fitted.internal_errors;
    summary->mape = c.cv.valid.ran ? c.cv.valid.mape : NAN;
    summary->calibration_mape = c.cv.calib.ran ? c.cv.calib.mape : NAN;
  }
  jbuf b;
  jb_init(&b);
  if (p->format == SL_FORMAT_JSON) {
    cv_json(&b, &c);
  } else if (p->format == SL_FORMAT_MARKDOWN) {
    cv_markdown(&b, &c, paths, n_paths, p->filter);
  } else if (p->format == SL_FORMAT_CSV) {
    write_csv(&b, &c.cv);
  } else {
    write_text(&b, &c.cv);
    cv_sections(&b, &c, 0);
  }
  if ((p->by == SL_BY_FILE || p->by == SL_BY_METRIC) && p->format != SL_FORMAT_JSON &&
      p->format != SL_FORMAT_CSV)
    by_section(&b, &c.cv, p->by, p->format == SL_FORMAT_MARKDOWN);
  if (!s && residuals) {
    jbuf r;
    jb_init(&r);
    residuals_yaml(&r, &c, paths, n_paths);
    s = rep_take(&r, residuals, err);
  }
  cvrun_free(&c);
  if (s) {
    jb_free(&b);
    return s;
  }
  return rep_take(&b, out, err);
}

sl_status sl_validate_ex(const char *const *paths, size_t n_paths, const sl_validate_params *params,
                         char **out, char **residuals, sl_validate_summary *summary, sl_error *err) {
  sl_validate_params dflt = sl_validate_params_default();
  const sl_validate_params *p = params ? params : &dflt;
  const char *filter = p->filter;
  sl_format format = p->format;
  if (err) memset(err, 0, sizeof *err);
  if (summary) {
    memset(summary, 0, sizeof *summary);
    summary->mape = summary->calibration_mape = NAN;
  }
  if (residuals) *residuals = NULL;
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_validate: out is NULL");
  *out = NULL;
  if (!paths || !n_paths) return err_set(err, SL_ERR_INPUT, "", 0, "", "no cases file given");
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON && format != SL_FORMAT_CSV &&
      format != SL_FORMAT_MARKDOWN)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "sl_validate: unknown format %d", (int)format);
  if (p->by < SL_BY_NONE || p->by > SL_BY_METRIC)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "sl_validate: unknown grouping %d", p->by);
  if (p->cross_validate) return validate_cv(paths, n_paths, p, out, residuals, summary, err);
  sl_validation v;
  val_init(&v);
  sl_status s = val_run_files(&v, paths, n_paths, filter, err);
  if (s || v.n == 0) { /* no case matched: a success with nothing to show, the caller words it */
    val_free(&v);
    return s;
  }
  val_summarise(&v);
  if (summary) {
    summary->entries = v.all.n;
    summary->ok = v.all.counts[SL_VAL_OK];
    summary->internal_errors = v.internal_errors;
    summary->mape = v.valid.ran ? v.valid.mape : NAN;
    summary->calibration_mape = v.calib.ran ? v.calib.mape : NAN;
  }
  jbuf b;
  jb_init(&b);
  if (format == SL_FORMAT_JSON) {
    char *j = val_json(&v);
    if (j) {
      jb_raw(&b, j);
      jb_raw(&b, "\n");
      free(j);
    } else {
      b.oom = 1;
    }
  } else if (format == SL_FORMAT_MARKDOWN) {
    write_report(&b, &v, paths, n_paths, filter);
  } else if (format == SL_FORMAT_CSV) {
    write_csv(&b, &v);
  } else {
    write_text(&b, &v);
  }
  if (p->by != SL_BY_NONE && format != SL_FORMAT_JSON && format != SL_FORMAT_CSV)
    by_section(&b, &v, p->by, format == SL_FORMAT_MARKDOWN);
  val_free(&v);
  return rep_take(&b, out, err);
}
