/* out_validate.c — the results of validation runs as `silica validate` prints them: a text table, a
 * Markdown report or CSV (the JSON is val_json's), and a summary for the exit code
 * (include/silica.h sl_validate). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
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
    "calibration (gemm-best-*: best-shape GEMMs timed back to back, the source of the chips' GEMM "
    "efficiencies; the pytorch-eager per-call cost is in the prediction, not in the measurement)";

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
        "## Calibration\n\nCases named gemm-best-*: the measurements the chip efficiency figures were fitted "
        "to. Their error shows the fit, not the model's predictive power.\n\n");
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
    csv_str(b, e->calibration ? "calibration" : "validation", 0);
    csv_str(b, e->source, 0);
    csv_str(b, e->message, 1);
  }
}

sl_status sl_validate(const char *const *paths, size_t n_paths, const char *filter, sl_format format,
                      char **out, sl_validate_summary *summary, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (summary) {
    memset(summary, 0, sizeof *summary);
    summary->mape = summary->calibration_mape = NAN;
  }
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_validate: out is NULL");
  *out = NULL;
  if (!paths || !n_paths) return err_set(err, SL_ERR_INPUT, "", 0, "", "no cases file given");
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON && format != SL_FORMAT_CSV &&
      format != SL_FORMAT_MARKDOWN)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "sl_validate: unknown format %d", (int)format);
  sl_validation v;
  val_init(&v);
  sl_status s = SL_OK;
  for (size_t i = 0; i < n_paths && !s; i++) {
    if (!paths[i])
      s = err_set(err, SL_ERR_INPUT, "", 0, "", "cases file %zu is NULL", i);
    else
      s = val_run_file(&v, paths[i], filter, err);
  }
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
  val_free(&v);
  return rep_take(&b, out, err);
}
