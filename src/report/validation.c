/* validation.c — the report of `silica validate --json`: predicted against measured, the error of
 * each check, and every check in a table. */
#include "report/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Colours of the check statuses, the same in both charts. */
#define STATUS_SCALE                                                                                         \
  "{'domain': ['ok', 'fail', 'unsupported', 'error'], 'range': ['#2e8b57', '#c0392b', '#e0a030', "           \
  "'#7f5a9e']}"

sl_status report_validation(page *p, yt_node *v) {
  yt_node *cases = jin_seq(v, "cases");
  size_t n = cases->n, placed = 0, ran = 0;
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < n; i++) {
    yt_node *c = cases->items[i];
    double m = jin_num(c, "measured"), pr = jin_num(c, "predicted");
    if (m > 0 && pr > 0) placed++, lo = fmin(lo, fmin(m, pr)), hi = fmax(hi, fmax(m, pr));
    ran += !isnan(jin_num(c, "rel_error"));
  }
  snprintf(p->title, sizeof p->title, "Validation: %zu checks", n);
  snprintf(p->sub, sizeof p->sub, "silica validate --json \xc2\xb7 silica %s",
           jin_str_or(v, "silica_version", "?"));
  char a[64], b[160];
  page_figs_begin(p);
  unit_pct(jin_num(v, "mape"), a, sizeof a);
  page_fig(p, "mean absolute error (validation)", a);
  unit_pct(jin_num(v, "max_abs_rel_error"), a, sizeof a);
  page_fig(p, "largest absolute error", a);
  if (!isnan(jin_num(v, "calibration_mape"))) {
    unit_pct(jin_num(v, "calibration_mape"), a, sizeof a);
    page_fig(p, "mean absolute error (calibration cases)", a);
  }
  snprintf(b, sizeof b, "%g ok, %g fail, %g unsupported, %g error", jin_num(v, "counts.ok"),
           jin_num(v, "counts.fail"), jin_num(v, "counts.unsupported"), jin_num(v, "counts.error"));
  page_fig(p, "status", b);
  page_figs_end(p);
  if (placed) {
    page_chart_begin(
        p, "Predicted against measured",
        "Each check (a case and a metric, in the metric's unit) on log axes; on the diagonal the "
        "prediction is "
        "exact. Hover for the case, its source and its error.",
        "checks", "points");
    jb_arr_begin(&p->charts, "checks");
    for (size_t i = 0; i < n; i++) {
      yt_node *c = cases->items[i];
      double m = jin_num(c, "measured"), pr = jin_num(c, "predicted");
      if (!(m > 0 && pr > 0)) continue;
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "name", jin_str_or(c, "name", "?"));
      page_d_str(p, "metric", jin_str_or(c, "metric", "?"));
      page_d_str(p, "status", jin_str_or(c, "status", "?"));
      page_d_str(p, "group", jin_str_or(c, "group", "validation"));
      page_d_str(p, "source", jin_str_or(c, "source", ""));
      page_d_num(p, "measured", m);
      page_d_num(p, "predicted", pr);
      page_d_num(p, "error", jin_num(c, "rel_error"));
      page_d_num(p, "tolerance", jin_num(c, "tolerance"));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "diagonal");
    for (int k = 0; k < 2; k++) {
      jb_obj_begin(&p->charts, NULL);
      page_d_num(p, "measured", k ? hi * 1.5 : lo / 1.5);
      page_d_num(p, "predicted", k ? hi * 1.5 : lo / 1.5);
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    page_chart_end(
        p, placed,
        "{'width': 520, 'height': 520, 'data': {'name': 'checks'},"
        " 'encoding': {'x': {'field': 'measured', 'type': 'quantitative', 'title': 'measured', "
        "'scale': {'type': 'log', 'domain': [%.6g, %.6g]}},"
        "  'y': {'field': 'predicted', 'type': 'quantitative', 'title': 'predicted', 'scale': {'type': "
        "'log', 'domain': [%.6g, %.6g]}}},"
        " 'layer': [{'data': {'name': 'diagonal'}, 'mark': {'type': 'line', 'color': '#888', "
        "'strokeDash': [5, 4]}},"
        "  {'name': 'points', 'mark': {'type': 'point', 'filled': true, 'size': 60, 'opacity': 0.85},"
        "   'encoding': {'color': {'field': 'status', 'type': 'nominal', 'scale': " STATUS_SCALE "},"
        "    'shape': {'field': 'metric', 'type': 'nominal'},"
        "    'tooltip': [{'field': 'name', 'title': 'case'}, {'field': 'metric'}, {'field': "
        "'measured', 'format': '.4~g'},"
        "     {'field': 'predicted', 'format': '.4~g'}, {'field': 'error', 'format': '+.1%%'}, "
        "{'field': 'tolerance', 'format': '.0%%'},"
        "     {'field': 'status'}, {'field': 'group'}, {'field': 'source'}]}}]}",
        lo / 1.5, hi * 1.5, lo / 1.5, hi * 1.5);
  }
  if (ran) {
    page_chart_begin(p, "Error per check", "(predicted \xe2\x88\x92 measured) / measured, largest first.",
                     "errors", "bars");
    jb_arr_begin(&p->charts, "errors");
    for (size_t i = 0; i < n; i++) {
      yt_node *c = cases->items[i];
      double e = jin_num(c, "rel_error");
      if (isnan(e)) continue;
      char label[400];
      snprintf(label, sizeof label, "%s \xc2\xb7 %s", jin_str_or(c, "name", "?"),
               jin_str_or(c, "metric", "?"));
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "label", label);
      page_d_str(p, "status", jin_str_or(c, "status", "?"));
      page_d_num(p, "error", e);
      page_d_num(p, "abs_error", fabs(e));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    page_chart_end(
        p, ran,
        "{'width': 600, 'height': {'step': 14}, 'data': {'name': 'errors'},"
        " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
        "  'encoding': {'y': {'field': 'label', 'type': 'nominal', 'title': null, 'sort': {'field': "
        "'abs_error', 'order': 'descending'},"
        "    'axis': {'labelLimit': 360}},"
        "   'x': {'field': 'error', 'type': 'quantitative', 'title': 'relative error', 'axis': "
        "{'format': '+.0%%'}},"
        "   'color': {'field': 'status', 'type': 'nominal', 'scale': " STATUS_SCALE "},"
        "   'tooltip': [{'field': 'label', 'title': 'check'}, {'field': 'error', 'format': '+.2%%'}, "
        "{'field': 'status'}]}}]}");
  }
  static const char *const cols[] = {"case",   "metric",     "#measured", "#predicted",
                                     "#error", "#tolerance", "status",    "notes"};
  page_section(p, "Checks", NULL);
  page_table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    yt_node *c = cases->items[i];
    char e[48];
    const char *st = jin_str_or(c, "status", "?");
    page_raw(&p->body, "<tr>");
    page_td(p, jin_str_or(c, "name", "?"), 0);
    page_td(p, jin_str_or(c, "metric", "?"), 0);
    page_td_num(p, jin_num(c, "measured"));
    page_td_num(p, jin_num(c, "predicted"));
    double re = jin_num(c, "rel_error");
    if (isnan(re))
      snprintf(e, sizeof e, "-");
    else
      snprintf(e, sizeof e, "%+.1f%%", 100 * re);
    page_td(p, e, 1);
    unit_pct(jin_num(c, "tolerance"), e, sizeof e);
    page_td(p, e, 1);
    page_raw(&p->body, "<td class=\"st-");
    page_text(&p->body, st);
    page_raw(&p->body, "\">");
    page_text(&p->body, st);
    page_raw(&p->body, "</td>");
    page_td_wrap(p, jin_str_or(c, "message", jin_str_or(c, "source", "")));
    page_raw(&p->body, "</tr>\n");
  }
  page_table_end(p);
  return SL_OK;
}
