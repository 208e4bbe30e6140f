/* cmd_validate.c — `silica validate`: runs validation cases (src/sim/validate.c) and prints them as
 * a text table, JSON, CSV, or a Markdown report. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct val_opts {
  const char **files;
  size_t n_files;
  int json, report, csv;
  double max_mape; /* NaN = no limit */
  const char *filter;
} val_opts;

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_args(int argc, char **argv, val_opts *o) {
  o->max_mape = NAN;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r;
    if (cli_is_help(a)) return cli_print_help("validate");
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (strcmp(a, "--report") == 0) {
      o->report = 1;
    } else if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
    } else if ((r = cli_opt(argc, argv, &i, "--max-mape", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--max-mape needs a value");
      if (!cli_number(v, &o->max_mape) || o->max_mape < 0)
        return cli_usage("validate", "--max-mape expects a fraction >= 0 (0.15 for 15%%), got \"%s\"", v);
    } else if ((r = cli_opt(argc, argv, &i, "--filter", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--filter needs a value");
      o->filter = v;
    } else if (a[0] == '-' && a[1]) {
      return cli_usage("validate", "unknown option %s", a);
    } else {
      o->files[o->n_files++] = a;
    }
  }
  if (o->n_files == 0) return cli_usage("validate", "give at least one cases FILE");
  if (o->json + o->report + o->csv > 1)
    return cli_usage("validate", "--json, --csv and --report exclude each other");
  return -1;
}

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
  bprintf(b,
          "%s: mape %s over %zu of %zu entries that ran, max |error| %s; %zu ok, %zu fail, %zu unsupported, "
          "%zu error\n",
          label, m, g->ran, g->n, x, g->counts[SL_VAL_OK], g->counts[SL_VAL_FAIL],
          g->counts[SL_VAL_UNSUPPORTED], g->counts[SL_VAL_ERROR]);
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
    fmt_num(e->measured, m, sizeof m);
    fmt_num(e->predicted, p, sizeof p);
    pct(e->rel_error, r, sizeof r);
    bprintf(b, "%-*s  %-22s  %11s  %11s  %8s  %s\n", w, e->name, e->metric, m, p, r,
            sl_val_status_names[e->status]);
    if (e->message[0]) bprintf(b, "%-*s    %s\n", w, "", e->message);
  }
}

static void text_header(jbuf *b, int w) {
  bprintf(b, "%-*s  %-22s  %11s  %11s  %8s  %s\n", w, "name", "metric", "measured", "predicted", "error",
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
    bprintf(b, "%s%s\n", v->valid.n ? "\n" : "", CALIB_TITLE);
    text_header(b, w);
    text_rows(b, v, 1, w);
  }
  bprintf(b, "\n");
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
  bprintf(b, "| case | metric | measured | predicted | error | tolerance | status | notes |\n");
  bprintf(b, "|---|---|---:|---:|---:|---:|---|---|\n");
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    if (e->calibration != calibration) continue;
    char m[32], p[32], r[32], t[32];
    fmt_num(e->measured, m, sizeof m);
    fmt_num(e->predicted, p, sizeof p);
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

static void write_report(jbuf *b, const sl_validation *v, const val_opts *o) {
  bprintf(b, "# silica validation report\n\nsilica %s; cases from", SILICA_VERSION);
  for (size_t i = 0; i < o->n_files; i++)
    bprintf(b, "%s `%s`", i ? "," : "", o->files[i]);
  if (o->filter) bprintf(b, "; names matching `%s`", o->filter);
  bprintf(b, ".\n\n");
  if (v->valid.n) {
    bprintf(b, "## Validation\n\n");
    md_table(b, v, 0);
    bprintf(b, "\n");
    group_line(b, "**validation**", &v->valid);
    bprintf(b, "\n");
  }
  if (v->calib.n) {
    bprintf(
        b,
        "## Calibration\n\nCases named gemm-best-*: the measurements the chip efficiency figures were fitted "
        "to. Their error shows the fit, not the model's predictive power.\n\n");
    md_table(b, v, 1);
    bprintf(b, "\n");
    group_line(b, "**calibration**", &v->calib);
  }
}

/* ---- CSV: one line per (case, metric), as the JSON's entries ------------------------------------ */

static void csv_str(jbuf *b, const char *s, int last) {
  if (!s) s = "";
  if (strpbrk(s, ",\"\n\r")) {
    char c[2] = {0, 0};
    jb_raw(b, "\"");
    for (const char *p = s; *p; p++) {
      c[0] = *p;
      jb_raw(b, *p == '"' ? "\"\"" : c);
    }
    jb_raw(b, "\"");
  } else {
    jb_raw(b, s);
  }
  jb_raw(b, last ? "\n" : ",");
}

static void csv_num(jbuf *b, double v) {
  char s[32];
  jb_format_number(v, s);
  bprintf(b, "%s,", strcmp(s, "null") == 0 ? "" : s);
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

/* ---- command ---------------------------------------------------------------------------------- */

static int exit_code(const sl_validation *v, double max_mape) {
  if (v->internal_errors) {
    fprintf(stderr, "silica: validate: %zu case(s) hit an internal error (see their messages)\n",
            v->internal_errors);
    return EXIT_INTERNAL;
  }
  int bad = v->all.counts[SL_VAL_OK] != v->all.n;
  if (!isnan(max_mape)) {
    bad |= v->valid.ran && v->valid.mape > max_mape;
    bad |= v->calib.ran && v->calib.mape > max_mape;
  }
  return bad ? EXIT_CHECK : EXIT_OK;
}

int cmd_validate(int argc, char **argv) {
  val_opts o;
  memset(&o, 0, sizeof o);
  o.files = calloc((size_t)argc, sizeof *o.files);
  if (!o.files) return cli_internal("out of memory");
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) {
    free(o.files);
    return rc;
  }
  sl_validation v;
  val_init(&v);
  sl_error err;
  for (size_t i = 0; i < o.n_files; i++) {
    sl_status s = val_run_file(&v, o.files[i], o.filter, &err);
    if (s) {
      val_free(&v);
      free(o.files);
      return cli_fail(&err, s);
    }
  }
  if (v.n == 0) {
    val_free(&v);
    free(o.files);
    return o.filter ? cli_usage("validate", "no case name matches --filter \"%s\"", o.filter)
                    : cli_usage("validate", "no cases in the file(s)");
  }
  val_summarise(&v);
  jbuf b;
  jb_init(&b);
  if (o.json) {
    cli_put_json(&b, val_json(&v));
  } else if (o.report) {
    write_report(&b, &v, &o);
  } else if (o.csv) {
    write_csv(&b, &v);
  } else {
    write_text(&b, &v);
  }
  rc = cli_emit(&b);
  if (rc == EXIT_OK) rc = exit_code(&v, o.max_mape);
  val_free(&v);
  free(o.files);
  return rc;
}
