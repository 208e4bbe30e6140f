/* scaling.c — the report of several run results (a JSON array, or JSON lines): step time,
 * throughput and scaling efficiency against the number of chips, one series per chip, model, task
 * and precision. */
#include "report/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scal {
  yt_node *res;
  char series[320];
  double chips, step_s, thr, mfu, eff;
  const char *thr_unit;
  int ok; /* feasible with a step time */
} scal;

sl_status report_scaling(page *p, arena *a, yt_node **runs, size_t n) {
  scal *s = ar_alloc(a, n * sizeof *s);
  if (!s) return SL_ERR_INTERNAL;
  /* Series: runs that differ only in their system. */
  for (size_t i = 0; i < n; i++) {
    yt_node *r = runs[i];
    char model[200];
    run_model_name(jin_get(r, "scenario"), model, sizeof model);
    s[i].res = r;
    snprintf(s[i].series, sizeof s[i].series, "%s \xc2\xb7 %s \xc2\xb7 %s \xc2\xb7 %s",
             jin_str_or(r, "scenario.chip.name", "chip"), model, jin_str_or(r, "scenario.task", "?"),
             jin_str_or(r, "scenario.precision.activations", "?"));
    s[i].chips = run_chips(r);
    s[i].step_s = jin_num(r, "step_time_s");
    s[i].thr = jin_num(r, "tokens_per_s");
    s[i].thr_unit = "tokens/s";
    if (isnan(s[i].thr)) s[i].thr = jin_num(r, "samples_per_s"), s[i].thr_unit = "samples/s";
    if (isnan(s[i].thr) && s[i].step_s > 0) s[i].thr = 1 / s[i].step_s, s[i].thr_unit = "steps/s";
    s[i].mfu = jin_num(r, "mfu");
    s[i].ok = jin_true(r, "feasible") && s[i].step_s > 0;
  }
  /* Efficiency: throughput per chip relative to the smallest run of the series. */
  double cmin = INFINITY, cmax = 0, tmax = 0;
  size_t ok = 0;
  int have_mfu = 0;
  for (size_t i = 0; i < n; i++) {
    s[i].eff = NAN;
    if (!s[i].ok) continue;
    ok++;
    cmin = fmin(cmin, s[i].chips), cmax = fmax(cmax, s[i].chips), tmax = fmax(tmax, s[i].step_s);
    have_mfu |= !isnan(s[i].mfu);
    const scal *base = NULL;
    for (size_t j = 0; j < n; j++)
      if (s[j].ok && strcmp(s[j].series, s[i].series) == 0 && (!base || s[j].chips < base->chips))
        base = &s[j];
    if (base && s[i].thr > 0 && base->thr > 0) s[i].eff = (s[i].thr / s[i].chips) / (base->thr / base->chips);
  }
  snprintf(p->title, sizeof p->title, "Scaling: %zu runs from %g to %g chips", n, ok ? cmin : 0,
           ok ? cmax : 0);
  snprintf(
      p->sub, sizeof p->sub,
      "several silica run --json results; a series is one chip, model, task and precision \xc2\xb7 silica %s",
      jin_str_or(runs[0], "silica_version", "?"));
  time_unit u = unit_for_time(tmax);
  /* x: log2 when the chips span a factor of 4 or more, with a tick at each number of chips run */
  char xscale[128], xaxis[512];
  snprintf(xscale, sizeof xscale, "%s",
           cmin >= 1 && cmax / cmin >= 4 ? "{'type': 'log', 'base': 2}" : "{'zero': false}");
  {
    int w = snprintf(xaxis, sizeof xaxis, "{'format': ',', 'values': [");
    double prev = 0;
    for (int t = 0; t < 24; t++) { /* the distinct chip counts, ascending */
      double next = INFINITY;
      for (size_t i = 0; i < n; i++)
        if (s[i].ok && s[i].chips > prev) next = fmin(next, s[i].chips);
      if (isinf(next) || w > (int)sizeof xaxis - 40) break;
      w += snprintf(xaxis + w, sizeof xaxis - (size_t)w, "%s%.17g", t ? ", " : "", next);
      prev = next;
    }
    snprintf(xaxis + w, sizeof xaxis - (size_t)w, "]}");
  }
  page_figs_begin(p);
  char v[128];
  snprintf(v, sizeof v, "%zu of %zu", ok, n);
  page_fig(p, "feasible runs", v);
  snprintf(v, sizeof v, "%g to %g", ok ? cmin : 0, ok ? cmax : 0);
  page_fig(p, "chips", v);
  page_figs_end(p);
  if (!ok) {
    page_note(p, "warn", "None of the runs is feasible: there is nothing to draw.");
  } else {
    char tip[1024];
    snprintf(tip, sizeof tip,
             "'tooltip': [{'field': 'series'}, {'field': 'chips', 'format': ','}, {'field': 'step', 'title': "
             "'step time (%s)', 'format': '.4~g'},"
             " {'field': 'throughput', 'format': '.4~s'}, {'field': 'unit'}, {'field': 'mfu', 'title': "
             "'MFU', 'format': '.1%%'},"
             " {'field': 'efficiency', 'format': '.1%%'}, {'field': 'plan'}]",
             u.name);
    static const struct {
      const char *title, *text, *field, *ytitle, *yscale, *yaxis;
    } charts[] = {
        {"Step time against chips",
         "One optimizer step (training) or one batch (inference) as the system grows.", "step", "step time",
         "{'type': 'log'}", ""},
        {"Throughput against chips",
         "Whole-system throughput; the dashed lines are ideal linear scaling from the smallest run of each "
         "series.",
         "throughput", "throughput", "{'type': 'log'}", ""},
        {"Scaling efficiency",
         "Throughput per chip relative to the smallest run of each series (100% = linear scaling).",
         "efficiency", "efficiency", "{'zero': false}", ", 'axis': {'format': '.0%'}"},
    };
    for (size_t c = 0; c < SL_ARRAY_LEN(charts); c++) {
      size_t rows = 0;
      for (size_t i = 0; i < n; i++) {
        double y = c == 0 ? s[i].step_s : c == 1 ? s[i].thr : s[i].eff;
        rows += s[i].ok && y > 0;
      }
      if (!rows) continue;
      char ds[32];
      snprintf(ds, sizeof ds, "runs%zu", c);
      page_chart_begin(p, charts[c].title, charts[c].text, ds, "points");
      jb_arr_begin(&p->charts, ds);
      for (size_t i = 0; i < n; i++) {
        double y = c == 0 ? s[i].step_s : c == 1 ? s[i].thr : s[i].eff;
        if (!(s[i].ok && y > 0)) continue;
        char plan[160];
        snprintf(plan, sizeof plan, "dp %g tp %g pp %g", jin_num(s[i].res, "parallel.dp"),
                 jin_num(s[i].res, "parallel.tp"), jin_num(s[i].res, "parallel.pp"));
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "series", s[i].series);
        page_d_num(p, "chips", s[i].chips);
        page_d_num(p, "step", s[i].step_s * u.per_s);
        page_d_num(p, "throughput", s[i].thr);
        page_d_str(p, "unit", s[i].thr_unit);
        page_d_num(p, "mfu", s[i].mfu);
        page_d_num(p, "efficiency", s[i].eff);
        page_d_str(p, "plan", plan);
        jb_obj_end(&p->charts);
      }
      jb_arr_end(&p->charts);
      jb_arr_begin(&p->charts, "ideal");
      if (c == 1)
        for (size_t i = 0; i < n; i++) {
          if (!(s[i].ok && s[i].thr > 0)) continue;
          const scal *base = NULL;
          for (size_t j = 0; j < n; j++)
            if (s[j].ok && s[j].thr > 0 && strcmp(s[j].series, s[i].series) == 0 &&
                (!base || s[j].chips < base->chips))
              base = &s[j];
          jb_obj_begin(&p->charts, NULL);
          page_d_str(p, "series", s[i].series);
          page_d_num(p, "chips", s[i].chips);
          page_d_num(p, "throughput", base->thr * s[i].chips / base->chips);
          jb_obj_end(&p->charts);
        }
      jb_arr_end(&p->charts);
      char ytitle[64];
      if (c == 2)
        snprintf(ytitle, sizeof ytitle, "%s", charts[c].ytitle);
      else
        snprintf(ytitle, sizeof ytitle, "%s (%s)", charts[c].ytitle, c == 0 ? u.name : s[0].thr_unit);
      page_chart_end(
          p, rows,
          "{'width': 700, 'height': 300, 'data': {'name': '%s'},"
          " 'encoding': {'x': {'field': 'chips', 'type': 'quantitative', 'title': 'chips', 'scale': "
          "%s, 'axis': %s},"
          "  'y': {'field': '%s', 'type': 'quantitative', 'title': '%s', 'scale': %s%s},"
          "  'color': {'field': 'series', 'type': 'nominal', 'title': null, 'legend': {'orient': "
          "'bottom', 'columns': 1, 'labelLimit': 600}}},"
          " 'layer': [%s{'mark': {'type': 'line'}}, {'name': 'points', 'mark': {'type': 'point', "
          "'filled': true, 'size': 70}, %s}]}",
          ds, xscale, xaxis, charts[c].field, ytitle, charts[c].yscale, charts[c].yaxis,
          c == 1 ? "{'data': {'name': 'ideal'}, 'mark': {'type': 'line', 'strokeDash': [4, 4], "
                   "'opacity': 0.6}}, "
                 : "",
          tip);
    }
  }
  static const char *const cols[] = {"series", "#chips", "plan",        "#step time", "#throughput",
                                     "unit",   "#MFU",   "#efficiency", "feasible"};
  page_section(p, "Runs", NULL);
  page_table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    char t[64];
    page_raw(&p->body, "<tr>");
    page_td(p, s[i].series, 0);
    page_td_num(p, s[i].chips);
    snprintf(t, sizeof t, "dp %g tp %g pp %g", jin_num(s[i].res, "parallel.dp"),
             jin_num(s[i].res, "parallel.tp"), jin_num(s[i].res, "parallel.pp"));
    page_td(p, jin_get(s[i].res, "parallel") ? t : "-", 0);
    unit_time(s[i].step_s, t, sizeof t);
    page_td(p, t, 1);
    page_td_num(p, s[i].thr);
    page_td(p, s[i].thr_unit, 0);
    unit_pct(s[i].mfu, t, sizeof t);
    page_td(p, t, 1);
    unit_pct(s[i].eff, t, sizeof t);
    page_td(p, t, 1);
    page_td_wrap(p, jin_true(s[i].res, "feasible") ? "yes" : jin_str_or(s[i].res, "reason", "no"));
    page_raw(&p->body, "</tr>\n");
  }
  page_table_end(p);
  return SL_OK;
}
