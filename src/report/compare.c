/* compare.c — the report of `silica compare --json`: each workload's throughput, performance per
 * watt and per dollar on each chip relative to the baseline, their geometric means, and a table. */
#include "report/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *key, *title, *text, *label;
} CMP_METRICS[] = {
    {"throughput", "Throughput", "throughput of each workload", "throughput"},
    {"perf_per_w", "Performance per watt", "throughput per joule (the system's average power)", "per watt"},
    {"perf_per_tco", "Performance per dollar", "throughput per dollar of cost of ownership", "per dollar"},
};

sl_status report_compare(page *p, yt_node *c) {
  yt_node *ws = jin_seq(c, "workloads"), *chips = jin_seq(c, "chips");
  const char *base = jin_str_or(c, "baseline", "?");
  snprintf(p->title, sizeof p->title, "Compare: %zu chips on %zu workloads", chips->n, ws->n);
  snprintf(p->sub, sizeof p->sub, "silica compare --json \xc2\xb7 baseline %s \xc2\xb7 silica %s", base,
           jin_str_or(c, "silica_version", "?"));
  page_figs_begin(p);
  page_fig(p, "baseline", base);
  for (size_t w = 0; w < ws->n; w++) {
    yt_node *wl = ws->items[w];
    char label[256];
    snprintf(label, sizeof label, "best for %s", jin_str_or(wl, "name", "?"));
    char v[256];
    snprintf(v, sizeof v, "%s (throughput), %s (per watt), %s (per dollar)",
             jin_str_or(wl, "best.throughput", "-"), jin_str_or(wl, "best.perf_per_w", "-"),
             jin_str_or(wl, "best.perf_per_tco", "-"));
    page_fig(p, label, v);
  }
  page_figs_end(p);
  for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
    char path[64];
    snprintf(path, sizeof path, "relative.%s", CMP_METRICS[m].key);
    size_t rows = 0;
    for (size_t w = 0; w < ws->n; w++) {
      yt_node *res = jin_seq(ws->items[w], "results");
      for (size_t k = 0; res && k < res->n; k++)
        rows += jin_num(res->items[k], path) > 0;
    }
    if (!rows) continue;
    char title[128], text[256], ds[32];
    snprintf(title, sizeof title, "%s relative to %s", CMP_METRICS[m].title, base);
    snprintf(text, sizeof text,
             "The %s on each chip over the baseline's (1 = as fast as %s). Missing bars: the chip cannot run "
             "the workload.",
             CMP_METRICS[m].text, base);
    snprintf(ds, sizeof ds, "rel_%s", CMP_METRICS[m].key);
    page_chart_begin(p, title, text, ds, "bars");
    jb_arr_begin(&p->charts, ds);
    for (size_t w = 0; w < ws->n; w++) {
      yt_node *wl = ws->items[w], *res = jin_seq(wl, "results");
      for (size_t k = 0; res && k < res->n; k++) {
        yt_node *r = res->items[k];
        double v = jin_num(r, path);
        if (!(v > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "workload", jin_str_or(wl, "name", "?"));
        page_d_str(p, "chip", jin_str_or(r, "chip", "?"));
        page_d_num(p, "relative", v);
        page_d_num(p, "throughput", jin_num(r, "throughput"));
        page_d_str(p, "unit", jin_str_or(wl, "throughput_unit", ""));
        page_d_num(p, "perf_per_w", jin_num(r, "perf_per_w"));
        page_d_num(p, "perf_per_usd", jin_num(r, "perf_per_usd"));
        jb_obj_end(&p->charts);
      }
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "one");
    jb_obj_begin(&p->charts, NULL);
    page_d_num(p, "relative", 1);
    jb_obj_end(&p->charts);
    jb_arr_end(&p->charts);
    int width = (int)fmin(900, fmax(260, (double)ws->n * ((double)chips->n * 22 + 40)));
    page_chart_end(
        p, rows,
        "{'width': %d, 'height': 260, 'data': {'name': '%s'},"
        " 'encoding': {'x': {'field': 'workload', 'type': 'nominal', 'title': null, 'axis': {'labelAngle': "
        "0, 'labelLimit': 400}}},"
        " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
        "   'encoding': {'xOffset': {'field': 'chip', 'type': 'nominal'},"
        "    'y': {'field': 'relative', 'type': 'quantitative', 'title': 'relative to %s'},"
        "    'color': {'field': 'chip', 'type': 'nominal', 'title': 'chip', 'scale': {'scheme': "
        "'tableau10'}},"
        "    'tooltip': [{'field': 'workload'}, {'field': 'chip'}, {'field': 'relative', 'format': '.3~g'},"
        "     {'field': 'throughput', 'format': '.4~s'}, {'field': 'unit'}, {'field': 'perf_per_w', 'title': "
        "'per joule', 'format': '.4~g'},"
        "     {'field': 'perf_per_usd', 'title': 'per dollar', 'format': '.4~g'}]}},"
        "  {'data': {'name': 'one'}, 'mark': {'type': 'rule', 'color': '#555', 'strokeDash': [4, 3]},"
        "   'encoding': {'x': null, 'y': {'field': 'relative', 'type': 'quantitative'}}}]}",
        width, ds, "the baseline");
  }
  yt_node *sum = jin_seq(c, "summary");
  if (sum && ws->n > 1) {
    size_t rows = 0;
    for (size_t k = 0; k < sum->n; k++)
      for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
        char key[64];
        snprintf(key, sizeof key, "geomean_relative_%s", CMP_METRICS[m].key);
        rows += jin_num(sum->items[k], key) > 0;
      }
    if (rows) {
      page_chart_begin(p, "Geometric mean over the workloads",
                       "Each chip's relative figures, averaged geometrically over the workloads it can run.",
                       "summary", "bars");
      jb_arr_begin(&p->charts, "summary");
      for (size_t k = 0; k < sum->n; k++)
        for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
          char key[64];
          snprintf(key, sizeof key, "geomean_relative_%s", CMP_METRICS[m].key);
          double v = jin_num(sum->items[k], key);
          if (!(v > 0)) continue;
          jb_obj_begin(&p->charts, NULL);
          page_d_str(p, "chip", jin_str_or(sum->items[k], "chip", "?"));
          page_d_str(p, "metric", CMP_METRICS[m].label);
          page_d_num(p, "relative", v);
          page_d_num(p, "workloads", jin_num(sum->items[k], "workloads"));
          jb_obj_end(&p->charts);
        }
      jb_arr_end(&p->charts);
      int width = (int)fmin(900, fmax(300, 3 * ((double)sum->n * 22 + 40)));
      page_chart_end(
          p, rows,
          "{'width': %d, 'height': 240, 'data': {'name': 'summary'},"
          " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
          "  'encoding': {'x': {'field': 'metric', 'type': 'nominal', 'title': null, 'sort': null, "
          "'axis': {'labelAngle': 0, 'labelLimit': 400}},"
          "   'xOffset': {'field': 'chip', 'type': 'nominal'},"
          "   'y': {'field': 'relative', 'type': 'quantitative', 'title': 'geometric mean, relative to "
          "the baseline'},"
          "   'color': {'field': 'chip', 'type': 'nominal', 'scale': {'scheme': 'tableau10'}},"
          "   'tooltip': [{'field': 'chip'}, {'field': 'metric'}, {'field': 'relative', 'format': "
          "'.3~g'}, {'field': 'workloads'}]}}]}",
          width);
    }
  }
  static const char *const cols[] = {"workload",   "chip",        "system",      "#throughput",
                                     "unit",       "#step time",  "#W per chip", "#$ per hour",
                                     "#per joule", "#per dollar", "notes"};
  page_section(p, "Results", NULL);
  page_table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t w = 0; w < ws->n; w++) {
    yt_node *wl = ws->items[w], *res = jin_seq(wl, "results");
    for (size_t k = 0; res && k < res->n; k++) {
      yt_node *r = res->items[k];
      char t[48];
      page_raw(&p->body, "<tr>");
      page_td(p, jin_str_or(wl, "name", "?"), 0);
      page_td(p, jin_str_or(r, "chip", "?"), 0);
      {
        yt_node *sys = jin_get(r, "system");
        char sv[160] = "";
        if (sys)
          snprintf(sv, sizeof sv, "%s: %g chips, %g GB/s scale-up",
                   jin_str_or(sys, "name", "the chip's links"), jin_num(sys, "chips"),
                   jin_num(sys, "scale_up.bw_GBps"));
        page_td(p, sv, 0);
      }
      page_td_num(p, jin_num(r, "throughput"));
      page_td(p, jin_str_or(wl, "throughput_unit", ""), 0);
      unit_time(jin_num(r, "step_time_s"), t, sizeof t);
      page_td(p, t, 1);
      page_td_num(p, jin_num(r, "power_w_per_chip"));
      page_td_num(p, jin_num(r, "usd_per_hour_system"));
      page_td_num(p, jin_num(r, "perf_per_w"));
      page_td_num(p, jin_num(r, "perf_per_usd"));
      page_td_wrap(p, jin_true(r, "feasible") ? "" : jin_str_or(r, "reason", "cannot run"));
      page_raw(&p->body, "</tr>\n");
    }
  }
  page_table_end(p);
  return SL_OK;
}
