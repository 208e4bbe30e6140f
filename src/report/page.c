/* page.c — the HTML page of a report: escaped text, key figures, tables, chart descriptors with their
 * datasets and Vega-Lite specs, and the document that holds them with vega, vega-lite and vega-embed
 * inlined (embedded at build time from web/ by tools/embed/embed_web.c), so that it needs no network.
 *
 * Every chart names its main mark ("bars", "points", ...) and says how many rows its main dataset
 * has; web/report.js counts the mark's items after drawing, and the browser test checks that the
 * two agree (tests/report_browser.py). */
#include "report/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* web_assets.c (generated): the browser files, "" when web/node_modules was not installed. */
extern const char sl_web_vega[], sl_web_vega_lite[], sl_web_vega_embed[], sl_web_report_js[],
    sl_web_report_css[], sl_web_capture_js[];
extern const int sl_web_complete;

void page_raw(jbuf *b, const char *s) {
  jb_raw(b, s);
}

/* Text in HTML: & < > " ' escaped. */
void page_text(jbuf *b, const char *s) {
  char c[2] = {0, 0};
  for (const char *p = s ? s : ""; *p; p++) {
    switch (*p) {
    case '&':
      jb_raw(b, "&amp;");
      break;
    case '<':
      jb_raw(b, "&lt;");
      break;
    case '>':
      jb_raw(b, "&gt;");
      break;
    case '"':
      jb_raw(b, "&quot;");
      break;
    case '\'':
      jb_raw(b, "&#39;");
      break;
    default:
      c[0] = *p;
      jb_raw(b, c);
    }
  }
}

/* printf into b with no escaping: only for numbers and the page's own markup. */
void page_fmt(jbuf *b, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) b->oom = 1;
  jb_raw(b, buf);
}

void page_section(page *p, const char *title, const char *note) {
  page_raw(&p->body, "<h2>");
  page_text(&p->body, title);
  page_raw(&p->body, "</h2>\n");
  if (note && *note) {
    page_raw(&p->body, "<p class=\"note\">");
    page_text(&p->body, note);
    page_raw(&p->body, "</p>\n");
  }
}

void page_note(page *p, const char *cls, const char *text) {
  page_fmt(&p->body, "<p class=\"%s\">", cls);
  page_text(&p->body, text);
  page_raw(&p->body, "</p>\n");
}

void page_figs_begin(page *p) {
  page_raw(&p->body, "<dl class=\"figures\">\n");
}
void page_figs_end(page *p) {
  page_raw(&p->body, "</dl>\n");
}
void page_fig(page *p, const char *label, const char *value) {
  page_raw(&p->body, "<div><dt>");
  page_text(&p->body, label);
  page_raw(&p->body, "</dt><dd>");
  page_text(&p->body, value);
  page_raw(&p->body, "</dd></div>\n");
}

/* Tables: a header of columns ("name" or "#name" for a numeric, right-aligned column). */
void page_table_begin(page *p, const char *const *cols, size_t n) {
  page_raw(&p->body, "<table>\n<thead><tr>");
  for (size_t i = 0; i < n; i++) {
    page_raw(&p->body, cols[i][0] == '#' ? "<th class=\"n\">" : "<th>");
    page_text(&p->body, cols[i][0] == '#' ? cols[i] + 1 : cols[i]);
    page_raw(&p->body, "</th>");
  }
  page_raw(&p->body, "</tr></thead>\n<tbody>\n");
}
void page_table_end(page *p) {
  page_raw(&p->body, "</tbody>\n</table>\n");
}
void page_td(page *p, const char *text, int numeric) {
  page_raw(&p->body, numeric ? "<td class=\"n\">" : "<td>");
  page_text(&p->body, text);
  page_raw(&p->body, "</td>");
}
void page_td_wrap(page *p, const char *text) {
  page_raw(&p->body, "<td class=\"wrap\">");
  page_text(&p->body, text);
  page_raw(&p->body, "</td>");
}
void page_td_num(page *p, double v) {
  char s[48];
  unit_num(v, s, sizeof s);
  page_td(p, s, 1);
}

/* A chart: its heading, note and container, and its descriptor.  The caller then writes the
 * datasets (jb_arr_begin(&p->charts, NAME) ... jb_arr_end) and ends with chart_end.  `dataset` is
 * the dataset whose rows the main mark draws one item each; `main` is that mark's name. */
void page_chart_begin(page *p, const char *title, const char *text, const char *dataset, const char *main) {
  char id[32];
  snprintf(id, sizeof id, "chart%d", p->n_charts++);
  page_raw(&p->body, "<section>\n");
  page_section(p, title, text);
  page_fmt(&p->body, "<div class=\"chart\" id=\"%s\"></div>\n</section>\n", id);
  jb_obj_begin(&p->charts, NULL);
  jb_str(&p->charts, "id", id);
  jb_str(&p->charts, "title", title);
  jb_str(&p->charts, "dataset", dataset);
  jb_str(&p->charts, "main", main);
  jb_obj_begin(&p->charts, "datasets");
}

/* Ends a chart: `rows` of its main dataset, and its Vega-Lite spec written with single quotes for
 * double ones (so that specs read naturally in C) and printf arguments (numbers and fixed words
 * only; anything from the input goes into the datasets). */
void page_chart_end(page *p, size_t rows, const char *fmt, ...) {
  jb_obj_end(&p->charts);
  jb_num(&p->charts, "rows", (double)rows);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *spec = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!spec) {
    p->charts.oom = 1;
  } else {
    va_start(ap, fmt);
    vsnprintf(spec, (size_t)n + 1, fmt, ap);
    va_end(ap);
    for (char *c = spec; *c; c++)
      if (*c == '\'') *c = '"';
    jb_value_raw(&p->charts, "spec", spec);
    free(spec);
  }
  jb_obj_end(&p->charts);
}

/* A data row's fields (inside jb_obj_begin/jb_obj_end of a dataset). */
void page_d_str(page *p, const char *k, const char *v) {
  jb_str(&p->charts, k, v ? v : "");
}
void page_d_num(page *p, const char *k, double v) {
  jb_num(&p->charts, k, v);
}

/* The chart list inside <script type="application/json">: '<' (only ever inside JSON strings) as
 * \u003c, so that no "</script>" or "<!--" in the data can end the element. */
static void raw_json_in_script(jbuf *b, const char *json) {
  size_t n = 0, lt = 0;
  for (const char *c = json; *c; c++, n++)
    lt += *c == '<';
  char *t = malloc(n + 5 * lt + 1), *w = t;
  if (!t) {
    b->oom = 1;
    return;
  }
  for (const char *c = json; *c; c++) {
    if (*c == '<') {
      memcpy(w, "\\u003c", 6);
      w += 6;
    } else {
      *w++ = *c;
    }
  }
  *w = 0;
  jb_raw(b, t);
  free(t);
}

int page_have_assets(void) {
  return sl_web_complete;
}

void page_write(jbuf *out, const page *p, const char *kind, const char *name) {
  page_raw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  page_fmt(out, "<meta name=\"generator\" content=\"silica %s\">\n<title>", SILICA_VERSION);
  page_text(out, p->title);
  page_raw(out, "</title>\n<style>\n");
  page_raw(out, sl_web_report_css);
  page_raw(out, "</style>\n<script>\n");
  page_raw(out, sl_web_capture_js);
  page_raw(out, "</script>\n<script>\n");
  page_raw(out, sl_web_vega);
  page_raw(out, "</script>\n<script>\n");
  page_raw(out, sl_web_vega_lite);
  page_raw(out, "</script>\n<script>\n");
  page_raw(out, sl_web_vega_embed);
  page_raw(out, "</script>\n</head>\n");
  page_fmt(out, "<body data-kind=\"%s\">\n<header>\n<h1>", kind);
  page_text(out, p->title);
  page_raw(out, "</h1>\n<p class=\"sub\">");
  page_text(out, p->sub);
  page_raw(out, "</p>\n</header>\n");
  page_raw(out, p->body.s ? p->body.s : "");
  page_raw(out, "<footer>Made by silica " SILICA_VERSION " from ");
  page_text(out, name && *name ? name : "its JSON output");
  page_raw(out,
           ". Charts drawn with Vega-Lite (vega, vega-lite and vega-embed are inside this page: it needs no "
           "network). Hover over a mark for its figures; the \xe2\x80\xa6 menu of a chart saves it as PNG or "
           "SVG.</footer>\n<script type=\"application/json\" id=\"silica-charts\">");
  raw_json_in_script(out, p->charts.s ? p->charts.s : "[]");
  page_raw(out, "</script>\n<script>\n");
  page_raw(out, sl_web_report_js);
  page_raw(out, "</script>\n</body>\n</html>\n");
}
