/* sweep.c — the report of a sweep (`silica sweep --report DB --json`, or the database itself via
 * `silica report`): key figures, the Pareto front, the best designs against the chips, the front as a
 * table. */
#include "report/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "#286: cores 64, macs_per_cycle 2048, ..." */
static void design_label(yt_node *d, char *buf, size_t size) {
  int l = snprintf(buf, size, "#%.0f", jin_num(d, "point"));
  yt_node *ps = jin_get(d, "params");
  for (size_t i = 0; ps && ps->type == YT_MAP && i < ps->n && l > 0 && (size_t)l < size; i++) {
    yt_pair *pr = &ps->pairs[i];
    l += snprintf(buf + l, size - (size_t)l, "%s %s %s", i ? "," : ":", pr->key,
                  pr->value && pr->value->str ? pr->value->str : "?");
  }
}

static const char *const SWEEP_OBJS[] = {"throughput", "perf_per_w", "perf_per_tco", "score"};

/* An objective's name as one of ours (it goes into a chart spec, where nothing from the input may). */
static const char *known_obj(yt_node *objs, size_t i) {
  if (!objs || i >= objs->n || !objs->items[i]->str) return NULL;
  for (size_t k = 0; k < SL_ARRAY_LEN(SWEEP_OBJS); k++)
    if (strcmp(objs->items[i]->str, SWEEP_OBJS[k]) == 0) return SWEEP_OBJS[k];
  return NULL;
}

sl_status report_sweep(page *p, yt_node *d) {
  yt_node *front = jin_seq(d, "front"), *best = jin_seq(d, "best"), *chips = jin_seq(d, "chips"),
          *objs = jin_seq(d, "objectives");
  const char *base = jin_str_or(d, "base_chip", "?");
  snprintf(p->title, sizeof p->title, "Sweep %s: %s tailored", jin_str_or(d, "name", "-"), base);
  snprintf(p->sub, sizeof p->sub, "silica sweep \xc2\xb7 %s \xc2\xb7 strategy %s \xc2\xb7 %s",
           jin_str_or(d, "file", "?"), jin_str_or(d, "strategy", "?"), jin_str_or(d, "database", "?"));
  const char *o0 = known_obj(objs, 0), *o1 = known_obj(objs, 1), *o2 = known_obj(objs, 2);
  if (!o0) o0 = "perf_per_tco";
  if (o1 && (o1 == o0)) o1 = NULL;
  if (!o1 || (o2 && (o2 == o0 || o2 == o1))) o2 = NULL;
  page_figs_begin(p);
  char v[512];
  snprintf(v, sizeof v, "%.0f of %.0f (%.0f feasible)", jin_num(d, "points_evaluated"),
           jin_num(d, "points_total"), jin_num(d, "points_feasible"));
  page_fig(p, "design points", v);
  double ca = jin_num(d, "constraints.max_area_mm2"), ct = jin_num(d, "constraints.max_tdp_w"),
         cc = jin_num(d, "constraints.max_unit_cost_usd");
  int l = 0;
  v[0] = 0;
  if (ca > 0) l += snprintf(v + l, sizeof v - (size_t)l, "area \xe2\x89\xa4 %.0f mm\xc2\xb2", ca);
  if (ct > 0) l += snprintf(v + l, sizeof v - (size_t)l, "%sTDP \xe2\x89\xa4 %.0f W", l ? ", " : "", ct);
  if (cc > 0) snprintf(v + l, sizeof v - (size_t)l, "%sunit cost \xe2\x89\xa4 $%.0f", l ? ", " : "", cc);
  page_fig(p, "constraints", v[0] ? v : "none");
  for (size_t k = 0; best && k < best->n; k++) {
    yt_node *b = best->items[k];
    const char *obj = jin_str_or(b, "objective", "?");
    char label[96], path[64];
    snprintf(label, sizeof label, "best %s", obj);
    snprintf(path, sizeof path, "design.%s", obj);
    snprintf(v, sizeof v, "#%.0f: %.3g\xc3\x97 %s", jin_num(b, "design.point"), jin_num(b, path), base);
    page_fig(p, label, v);
  }
  page_figs_end(p);
  /* the front on the first two objectives, the chips beside it */
  size_t rows = front ? front->n : 0;
  if (o1 && rows) {
    char text[512];
    snprintf(
        text, sizeof text,
        "Every design no other design beats on all of %s, %s%s%s, relative to %s = 1 (higher is better)%s. "
        "Crosses: the base and reference chips on the same mix.",
        o0, o1, o2 ? " and " : "", o2 ? o2 : "", base, o2 ? "; colour: the third objective" : "");
    page_chart_begin(p, "Pareto front", text, "front", "points");
    jb_arr_begin(&p->charts, "front");
    for (size_t i = 0; i < front->n; i++) {
      yt_node *f = front->items[i];
      char label[512];
      design_label(f, label, sizeof label);
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "design", label);
      for (size_t k = 0; k < SL_ARRAY_LEN(SWEEP_OBJS); k++)
        page_d_num(p, SWEEP_OBJS[k], jin_num(f, SWEEP_OBJS[k]));
      page_d_num(p, "area_mm2", jin_num(f, "area_mm2"));
      page_d_num(p, "tdp_w", jin_num(f, "tdp_w"));
      page_d_num(p, "unit_cost_usd", jin_num(f, "unit_cost_usd"));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "chips");
    for (size_t i = 0; chips && i < chips->n; i++) {
      yt_node *c = chips->items[i];
      if (!jin_true(c, "feasible")) continue;
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "chip", jin_str_or(c, "chip", "?"));
      for (size_t k = 0; k < SL_ARRAY_LEN(SWEEP_OBJS); k++)
        page_d_num(p, SWEEP_OBJS[k], jin_num(c, SWEEP_OBJS[k]));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    char color[256] = "";
    if (o2)
      snprintf(color, sizeof color,
               ", 'color': {'field': '%s', 'type': 'quantitative', 'scale': {'scheme': 'viridis'}}", o2);
    page_chart_end(
        p, rows,
        "{'width': 560, 'height': 340,"
        " 'layer': [{'name': 'points', 'data': {'name': 'front'}, 'mark': {'type': 'point', 'filled': true, "
        "'size': 70},"
        "   'encoding': {'x': {'field': '%s', 'type': 'quantitative', 'title': '%s', 'scale': {'zero': "
        "false}},"
        "    'y': {'field': '%s', 'type': 'quantitative', 'title': '%s', 'scale': {'zero': false}}%s,"
        "    'tooltip': [{'field': 'design'}, {'field': 'throughput', 'format': '.3~g'}, {'field': "
        "'perf_per_w', 'format': '.3~g'}, {'field': 'perf_per_tco', 'format': '.3~g'}, {'field': 'area_mm2', "
        "'format': '.0f'}, {'field': 'tdp_w', 'format': '.0f'}, {'field': 'unit_cost_usd', 'format': "
        "'$.0f'}]}},"
        "  {'data': {'name': 'chips'}, 'mark': {'type': 'point', 'shape': 'cross', 'size': 120, 'color': "
        "'#c0392b'},"
        "   'encoding': {'x': {'field': '%s', 'type': 'quantitative'}, 'y': {'field': '%s', 'type': "
        "'quantitative'}, 'tooltip': [{'field': 'chip'}, {'field': '%s', 'format': '.3~g'}, {'field': '%s', "
        "'format': '.3~g'}]}},"
        "  {'data': {'name': 'chips'}, 'mark': {'type': 'text', 'dx': 8, 'align': 'left', 'color': "
        "'#c0392b'},"
        "   'encoding': {'x': {'field': '%s', 'type': 'quantitative'}, 'y': {'field': '%s', 'type': "
        "'quantitative'}, 'text': {'field': 'chip'}}}]}",
        o0, o0, o1, o1, color, o0, o1, o0, o1, o0, o1);
  }
  /* the best designs beside the chips, on the three objectives */
  size_t bars = 0;
  for (size_t k = 0; best && k < best->n; k++)
    for (size_t m = 0; m < 3; m++) {
      char path[64];
      snprintf(path, sizeof path, "design.%s", SWEEP_OBJS[m]);
      bars += jin_num(best->items[k], path) > 0;
    }
  for (size_t i = 0; chips && i < chips->n; i++)
    for (size_t m = 0; m < 3; m++)
      bars += jin_true(chips->items[i], "feasible") && jin_num(chips->items[i], SWEEP_OBJS[m]) > 0;
  if (bars) {
    char text[256];
    snprintf(text, sizeof text,
             "The best design for each objective and the base and reference chips on the mix, "
             "relative to %s.",
             base);
    page_chart_begin(p, "Best designs against the chips", text, "best", "bars");
    jb_arr_begin(&p->charts, "best");
    for (size_t k = 0; best && k < best->n; k++) {
      yt_node *b = best->items[k];
      char who[96];
      snprintf(who, sizeof who, "best %s (#%.0f)", jin_str_or(b, "objective", "?"),
               jin_num(b, "design.point"));
      for (size_t m = 0; m < 3; m++) {
        char path[64];
        snprintf(path, sizeof path, "design.%s", SWEEP_OBJS[m]);
        double x = jin_num(b, path);
        if (!(x > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "who", who);
        page_d_str(p, "metric", SWEEP_OBJS[m]);
        page_d_num(p, "relative", x);
        jb_obj_end(&p->charts);
      }
    }
    for (size_t i = 0; chips && i < chips->n; i++) {
      yt_node *c = chips->items[i];
      if (!jin_true(c, "feasible")) continue;
      for (size_t m = 0; m < 3; m++) {
        double x = jin_num(c, SWEEP_OBJS[m]);
        if (!(x > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "who", jin_str_or(c, "chip", "?"));
        page_d_str(p, "metric", SWEEP_OBJS[m]);
        page_d_num(p, "relative", x);
        jb_obj_end(&p->charts);
      }
    }
    jb_arr_end(&p->charts);
    page_chart_end(
        p, bars,
        "{'width': 620, 'height': 260, 'data': {'name': 'best'},"
        " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
        "  'encoding': {'x': {'field': 'who', 'type': 'nominal', 'title': null, 'sort': null, 'axis': "
        "{'labelAngle': -20, 'labelLimit': 200}},"
        "   'xOffset': {'field': 'metric', 'type': 'nominal', 'sort': null},"
        "   'y': {'field': 'relative', 'type': 'quantitative', 'title': 'relative to the base chip'},"
        "   'color': {'field': 'metric', 'type': 'nominal', 'sort': null, 'scale': {'scheme': 'tableau10'}},"
        "   'tooltip': [{'field': 'who'}, {'field': 'metric'}, {'field': 'relative', 'format': '.3~g'}]}}]}");
  }
  /* the front as a table */
  if (rows) {
    static const char *const cols[] = {"design",    "#throughput", "#perf_per_w", "#perf_per_tco",
                                       "#area mm²", "#TDP W",      "#unit $"};
    page_section(p, "Designs on the front", NULL);
    page_table_begin(p, cols, SL_ARRAY_LEN(cols));
    for (size_t i = 0; i < front->n; i++) {
      yt_node *f = front->items[i];
      char label[512];
      design_label(f, label, sizeof label);
      page_raw(&p->body, "<tr>");
      page_td_wrap(p, label);
      page_td_num(p, jin_num(f, "throughput"));
      page_td_num(p, jin_num(f, "perf_per_w"));
      page_td_num(p, jin_num(f, "perf_per_tco"));
      page_td_num(p, jin_num(f, "area_mm2"));
      page_td_num(p, jin_num(f, "tdp_w"));
      page_td_num(p, jin_num(f, "unit_cost_usd"));
      page_raw(&p->body, "</tr>\n");
    }
    page_table_end(p);
  } else {
    page_note(p, "warn", "No feasible design: every point broke a constraint or could not run a workload.");
  }
  return SL_OK;
}
