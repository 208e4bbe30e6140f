/* html.c — HTML reports (`silica report`, `silica run --html`; docs/reports.md): tells the kind of a
 * JSON output of silica from its keys and hands it to the writer of that kind (run.c, scaling.c,
 * validation.c, compare.c, sweep.c), which turns it into chart datasets and Vega-Lite specs on one
 * self-contained page (page.c).  It does not run anything: every figure comes from the input.
 *
 * Inputs (sl_report_kind): a run result (`run --json`), several run results (a JSON array of them,
 * or one JSON object per line) drawn as scaling curves against the number of chips, a validation
 * result (`validate --json`), a compare result (`compare --json`) and a sweep report (`sweep --report
 * DB --json`; `silica report DB` makes it from the database first). */
#include "report/html.h"

#include <string.h>

typedef enum kind { K_NONE, K_RUN, K_SCALING, K_VALIDATION, K_COMPARE, K_SWEEP, K_COUNT } kind;
static const char *const KIND_NAMES[] = {NULL, "run", "scaling", "validation", "compare", "sweep"};
_Static_assert(SL_ARRAY_LEN(KIND_NAMES) == K_COUNT, "a name for each report kind");

static int is_run(yt_node *n) {
  return n && n->type == YT_MAP && jin_get(n, "scenario") && jin_get(n, "feasible");
}

/* The run results of a scaling input (docs, or the items of one array), or 0 when it is not one. */
static size_t scaling_runs(const jin_docs *in, yt_node ***runs) {
  yt_node **v = in->docs;
  size_t n = in->n;
  if (n == 1 && in->docs[0]->type == YT_SEQ) {
    v = in->docs[0]->items;
    n = in->docs[0]->n;
  } else if (n == 1) {
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (!is_run(v[i])) return 0;
  *runs = v;
  return n;
}

static kind classify(const jin_docs *in) {
  yt_node **runs;
  if (scaling_runs(in, &runs)) return K_SCALING;
  if (in->n != 1) return K_NONE;
  yt_node *d = in->docs[0];
  if (is_run(d)) return K_RUN;
  if (jin_seq(d, "cases") && jin_get(d, "mape")) return K_VALIDATION;
  if (jin_seq(d, "workloads") && jin_seq(d, "chips") && jin_get(d, "baseline")) return K_COMPARE;
  if (jin_seq(d, "front") && jin_seq(d, "best") && jin_get(d, "points_feasible")) return K_SWEEP;
  return K_NONE;
}

const char *sl_report_kind(const char *text, size_t len) {
  if (!text) return NULL;
  if (jin_is_sqlite(text, len)) return "sweep-db";
  arena a;
  ar_init(&a);
  jin_docs in;
  sl_error err;
  kind k = jin_read(&a, text, len, "", &in, &err) == SL_OK ? classify(&in) : K_NONE;
  ar_free(&a);
  return KIND_NAMES[k];
}

sl_status sl_report_html(const char *text, size_t len, const char *name, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_report_html: out is NULL");
  *out = NULL;
  if (!text) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_report_html: no input");
  if (!name) name = "";
  if (jin_is_sqlite(text, len))
    return err_set(
        err, SL_ERR_UNSUPPORTED, name, 0, "",
        "a sweep database: the library draws the report of a sweep from its JSON (silica sweep --report DB "
        "--json); silica report DB -o OUT.html reads the database itself");
  arena a;
  ar_init(&a);
  jin_docs in;
  sl_status s = jin_read(&a, text, len, name, &in, err);
  if (s) {
    ar_free(&a);
    return s;
  }
  kind k = classify(&in);
  if (k == K_NONE) {
    ar_free(&a);
    return err_set(
        err, SL_ERR_INPUT, name, 0, "",
        "not a silica output this command can draw: expected a run result (silica run --json: keys "
        "scenario, feasible), several run results (a JSON array of them, or one per line), a "
        "validation result (silica validate --json: cases, mape), a compare result (silica compare "
        "--json: workloads, chips, baseline) or a sweep report (silica sweep --report DB --json: front, "
        "best, points_feasible)");
  }
  if (!page_have_assets()) {
    ar_free(&a);
    return err_set(
        err, SL_ERR_UNSUPPORTED, name, 0, "",
        "this build of silica has no HTML report support: vega, vega-lite and vega-embed were not "
        "installed in web/node_modules when it was built (run scripts/install-deps, then rebuild)");
  }
  page p;
  memset(&p, 0, sizeof p);
  jb_init(&p.body);
  jb_init(&p.charts);
  jb_arr_begin(&p.charts, NULL);
  yt_node **runs = NULL;
  size_t n_runs = k == K_SCALING ? scaling_runs(&in, &runs) : 0;
  switch (k) {
  case K_RUN:
    s = report_run(&p, &a, in.docs[0]);
    break;
  case K_SCALING:
    s = report_scaling(&p, &a, runs, n_runs);
    break;
  case K_VALIDATION:
    s = report_validation(&p, in.docs[0]);
    break;
  case K_COMPARE:
    s = report_compare(&p, in.docs[0]);
    break;
  case K_SWEEP:
    s = report_sweep(&p, in.docs[0]);
    break;
  case K_NONE:
  case K_COUNT:
    break;
  }
  jb_arr_end(&p.charts);
  jbuf html;
  jb_init(&html);
  if (!s) page_write(&html, &p, KIND_NAMES[k], name);
  int oom = p.body.oom || p.charts.oom || html.oom;
  jb_free(&p.body);
  jb_free(&p.charts);
  ar_free(&a);
  if (s || oom) {
    jb_free(&html);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  *out = html.s;
  return SL_OK;
}
