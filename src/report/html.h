/* html.h — what the files of the HTML report share (report-private: included by src/report/ only).
 * html.c tells the kind of an input and calls one writer per kind (run.c, scaling.c,
 * validation.c, compare.c, sweep.c); they read the input with json_in.c and write through page.c. */
#ifndef SL_REPORT_HTML_H
#define SL_REPORT_HTML_H

#include "report/report.h"

/* ---- json_in.c: reading a silica JSON output ------------------------------------------------------ */

/* The node at a dotted path of maps ("scenario.system.chips"), or NULL. */
yt_node *jin_get(yt_node *n, const char *path);
/* A finite number at `path`, else NaN (absent, null, quoted, not a number). */
double jin_num(yt_node *n, const char *path);
/* A scalar at `path` (not null), else NULL; jin_str_or gives `dflt` instead of NULL. */
const char *jin_str(yt_node *n, const char *path);
const char *jin_str_or(yt_node *n, const char *path, const char *dflt);
/* 1 when `path` is the scalar true. */
int jin_true(yt_node *n, const char *path);
/* The sequence at `path`, or NULL. */
yt_node *jin_seq(yt_node *n, const char *path);

/* The input: one JSON document, or several (JSON lines / concatenated objects). */
typedef struct jin_docs {
  yt_node **docs;
  size_t n;
} jin_docs;

/* 1 when `text` starts with the header of an SQLite database. */
int jin_is_sqlite(const char *text, size_t len);
/* Parses every JSON value of `text` (objects or arrays, one after the other) into `in`, allocating in
 * `a`.  SL_ERR_INPUT (naming `name`) when a value is not JSON or does not close, or there is none. */
sl_status jin_read(arena *a, const char *text, size_t len, const char *name, jin_docs *in, sl_error *err);

/* ---- page.c: the page being written ------------------------------------------------------------------ */

typedef struct page {
  jbuf body;   /* HTML of the sections */
  jbuf charts; /* JSON array of chart descriptors for report.js */
  int n_charts;
  char title[512], sub[1024];
} page;

void page_raw(jbuf *b, const char *s);  /* markup of the page's own, as is */
void page_text(jbuf *b, const char *s); /* text in HTML: & < > " ' escaped */
/* printf into b with no escaping: only for numbers and the page's own markup. */
void page_fmt(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void page_section(page *p, const char *title,
                  const char *note);                        /* a heading and its note ("" or NULL: none) */
void page_note(page *p, const char *cls, const char *text); /* a paragraph of class cls ("note", "warn") */
/* The key figures: a list of label and value pairs. */
void page_figs_begin(page *p);
void page_fig(page *p, const char *label, const char *value);
void page_figs_end(page *p);
/* Tables: a header of columns ("name" or "#name" for a numeric, right-aligned column), then rows of
 * cells the caller opens and closes with page_raw(&p->body, "<tr>") ... "</tr>\n". */
void page_table_begin(page *p, const char *const *cols, size_t n);
void page_table_end(page *p);
void page_td(page *p, const char *text, int numeric);
void page_td_wrap(page *p, const char *text); /* a cell of long text that may wrap */
void page_td_num(page *p, double v);          /* a number as unit_num writes it */

/* A chart: its heading, note and container, and its descriptor.  The caller then writes the
 * datasets (jb_arr_begin(&p->charts, NAME) ... jb_arr_end) and ends with page_chart_end.  `dataset`
 * is the dataset whose rows the main mark draws one item each; `main` is that mark's name. */
void page_chart_begin(page *p, const char *title, const char *text, const char *dataset, const char *main);
/* Ends a chart: `rows` of its main dataset, and its Vega-Lite spec written with single quotes for
 * double ones (so that specs read naturally in C) and printf arguments (numbers and fixed words
 * only; anything from the input goes into the datasets). */
void page_chart_end(page *p, size_t rows, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A data row's fields (inside jb_obj_begin/jb_obj_end of a dataset). */
void page_d_str(page *p, const char *k, const char *v);
void page_d_num(page *p, const char *k, double v);

/* 1 when this build has the browser files (web/node_modules was installed when it was built). */
int page_have_assets(void);
/* The whole HTML document of `p` into `out`: head with the inlined browser files, the sections, and
 * the chart list.  kind: the body's data-kind; name: the input's name for the footer. */
void page_write(jbuf *out, const page *p, const char *kind, const char *name);

/* ---- the report kinds: each fills p's title, sub and body from its input --------------------------- */

/* run.c: one run result (`silica run --json`); allocates in a. */
sl_status report_run(page *p, arena *a, yt_node *res);
/* A short name of a run's model (its "scenario"): a preset's name, or the op and its shape. */
void run_model_name(yt_node *sc, char *buf, size_t size);
/* A run's number of chips (scenario.system.chips; 1 when absent). */
double run_chips(yt_node *res);
/* scaling.c: several run results drawn against their number of chips. */
sl_status report_scaling(page *p, arena *a, yt_node **runs, size_t n);
/* validation.c, compare.c, sweep.c: `silica validate --json`, `compare --json`, `sweep --report DB --json`.
 */
sl_status report_validation(page *p, yt_node *v);
sl_status report_compare(page *p, yt_node *c);
sl_status report_sweep(page *p, yt_node *d);

#endif /* SL_REPORT_HTML_H */
