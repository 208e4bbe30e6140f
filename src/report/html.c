/* report.c — HTML reports (`silica report`, `silica run --html`; docs/reports.md): reads a JSON
 * output of silica, turns it into chart datasets and Vega-Lite specs, and writes one self-contained
 * page with vega, vega-lite and vega-embed inlined (embedded at build time from web/ by
 * tools/embed/embed_web.c).  It does not run anything: every figure comes from the input.
 *
 * Inputs (sl_report_kind): a run result (`run --json`), several run results (a JSON array of them,
 * or one JSON object per line) drawn as scaling curves against the number of chips, a validation
 * result (`validate --json`), a compare result (`compare --json`) and a sweep report (`sweep --report
 * DB --json`; `silica report DB` makes it from the database first).
 *
 * Every chart names its main mark ("bars", "points", ...) and says how many rows its main dataset
 * has; web/report.js counts the mark's items after drawing, and the browser test checks that the
 * two agree (tests/report_browser.py). */
#include "report/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* web_assets.c (generated): the browser files, "" when web/node_modules was not installed. */
extern const char sl_web_vega[], sl_web_vega_lite[], sl_web_vega_embed[], sl_web_report_js[],
    sl_web_report_css[], sl_web_capture_js[];
extern const int sl_web_complete;

/* ---- reading the input -------------------------------------------------------------------------- */

/* The node at a dotted path of maps ("scenario.system.chips"), or NULL. */
static yt_node *get(yt_node *n, const char *path) {
  char key[64];
  while (n && *path) {
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= sizeof key || n->type != YT_MAP) return NULL;
    memcpy(key, path, len);
    key[len] = 0;
    yt_pair *p = yt_find(n, key);
    n = p ? p->value : NULL;
    path += len + (dot ? 1 : 0);
  }
  return n;
}

/* A finite number at `path`, else NaN (absent, null, not a number). */
static double num(yt_node *n, const char *path) {
  yt_node *v = get(n, path);
  if (!v || v->type != YT_SCALAR || v->quoted || !v->str || !*v->str) return NAN;
  char *end = NULL;
  double d = strtod(v->str, &end);
  return *end || !isfinite(d) ? NAN : d;
}

static const char *str(yt_node *n, const char *path) {
  yt_node *v = get(n, path);
  return v && v->type == YT_SCALAR && v->str && strcmp(v->str, "null") != 0 ? v->str : NULL;
}

static const char *str_or(yt_node *n, const char *path, const char *dflt) {
  const char *s = str(n, path);
  return s ? s : dflt;
}

static int is_true(yt_node *n, const char *path) {
  const char *s = str(n, path);
  return s && strcmp(s, "true") == 0;
}

static yt_node *seq(yt_node *n, const char *path) {
  yt_node *v = get(n, path);
  return v && v->type == YT_SEQ ? v : NULL;
}

/* The input: one JSON document, or several (JSON lines / concatenated objects). */
typedef struct input {
  yt_node **docs;
  size_t n;
} input;

/* The end of the JSON value (object or array) starting at text[i], or 0 when it does not close. */
static size_t value_end(const char *text, size_t len, size_t i) {
  int depth = 0, in_str = 0;
  for (; i < len; i++) {
    char c = text[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_sqlite(const char *text, size_t len) {
  return len >= 16 && memcmp(text, "SQLite format 3", 16) == 0;
}

static sl_status read_input(arena *a, const char *text, size_t len, const char *name, input *in,
                            sl_error *err) {
  memset(in, 0, sizeof *in);
  size_t cap = 0;
  for (size_t i = 0;;) {
    while (i < len && is_space(text[i]))
      i++;
    if (i >= len) break;
    if (text[i] != '{' && text[i] != '[')
      return err_set(err, SL_ERR_INPUT, name, 0, "",
                     "not JSON: expected '{' or '[' (a silica --json output, see docs/reports.md)");
    size_t end = value_end(text, len, i);
    if (!end) return err_set(err, SL_ERR_INPUT, name, 0, "", "not JSON: a value does not close");
    if (in->n == cap) {
      size_t ncap = cap ? 2 * cap : 4;
      yt_node **d = ar_alloc(a, ncap * sizeof *d);
      if (!d) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      if (in->n) memcpy(d, in->docs, in->n * sizeof *d);
      in->docs = d;
      cap = ncap;
    }
    sl_status s = yt_parse(a, text + i, end - i, name, &in->docs[in->n], err);
    if (s) return s;
    in->n++;
    i = end;
  }
  if (!in->n) return err_set(err, SL_ERR_INPUT, name, 0, "", "empty input");
  return SL_OK;
}

typedef enum kind { K_NONE, K_RUN, K_SCALING, K_VALIDATION, K_COMPARE, K_SWEEP } kind;
static const char *const KIND_NAMES[] = {NULL, "run", "scaling", "validation", "compare", "sweep"};

static int is_run(yt_node *n) {
  return n && n->type == YT_MAP && get(n, "scenario") && get(n, "feasible");
}

/* The run results of a scaling input (docs, or the items of one array), or 0 when it is not one. */
static size_t scaling_runs(const input *in, yt_node ***runs) {
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

static kind classify(const input *in) {
  yt_node **runs;
  if (scaling_runs(in, &runs)) return K_SCALING;
  if (in->n != 1) return K_NONE;
  yt_node *d = in->docs[0];
  if (is_run(d)) return K_RUN;
  if (seq(d, "cases") && get(d, "mape")) return K_VALIDATION;
  if (seq(d, "workloads") && seq(d, "chips") && get(d, "baseline")) return K_COMPARE;
  if (seq(d, "front") && seq(d, "best") && get(d, "points_feasible")) return K_SWEEP;
  return K_NONE;
}

const char *sl_report_kind(const char *text, size_t len) {
  if (!text) return NULL;
  if (is_sqlite(text, len)) return "sweep-db";
  arena a;
  ar_init(&a);
  input in;
  sl_error err;
  kind k = read_input(&a, text, len, "", &in, &err) == SL_OK ? classify(&in) : K_NONE;
  ar_free(&a);
  return KIND_NAMES[k];
}

/* ---- formatting ----------------------------------------------------------------------------------- */

static void f_num(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (fabs(v) >= 1e4 && fabs(v) < 1e15)
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%.4g", v);
}

typedef struct unit {
  double per_s; /* values in this unit per second */
  const char *name;
} unit;

static unit time_unit(double max_s) {
  if (!(max_s < 1)) return (unit){1, "s"};
  if (max_s >= 1e-3) return (unit){1e3, "ms"};
  if (max_s >= 1e-6) return (unit){1e6, "\xc2\xb5s"};
  return (unit){1e9, "ns"};
}

static void f_time(double s, char *buf, size_t size) {
  if (isnan(s)) {
    snprintf(buf, size, "-");
    return;
  }
  unit u = time_unit(fabs(s));
  snprintf(buf, size, "%.4g %s", s * u.per_s, s == 0 ? "s" : u.name);
}

static void f_bytes(double b, char *buf, size_t size) {
  if (isnan(b))
    snprintf(buf, size, "-");
  else if (b >= 1073741824.0 || b == 0)
    snprintf(buf, size, "%.2f GiB", b / 1073741824.0);
  else if (b >= 1048576.0)
    snprintf(buf, size, "%.2f MiB", b / 1048576.0);
  else
    snprintf(buf, size, "%.1f KiB", b / 1024.0);
}

static void f_pct(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%.1f%%", 100 * v);
}

/* ---- the page ------------------------------------------------------------------------------------- */

typedef struct page {
  jbuf body;   /* HTML of the sections */
  jbuf charts; /* JSON array of chart descriptors for report.js */
  int n_charts;
  kind k;
  char title[512], sub[1024];
} page;

static void hraw(jbuf *b, const char *s) {
  jb_raw(b, s);
}

/* Text in HTML: & < > " ' escaped. */
static void htext(jbuf *b, const char *s) {
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
static void hfmt(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hfmt(jbuf *b, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf) b->oom = 1;
  jb_raw(b, buf);
}

static void section(page *p, const char *title, const char *note) {
  hraw(&p->body, "<h2>");
  htext(&p->body, title);
  hraw(&p->body, "</h2>\n");
  if (note && *note) {
    hraw(&p->body, "<p class=\"note\">");
    htext(&p->body, note);
    hraw(&p->body, "</p>\n");
  }
}

static void note(page *p, const char *cls, const char *text) {
  hfmt(&p->body, "<p class=\"%s\">", cls);
  htext(&p->body, text);
  hraw(&p->body, "</p>\n");
}

static void figs_begin(page *p) {
  hraw(&p->body, "<dl class=\"figures\">\n");
}
static void figs_end(page *p) {
  hraw(&p->body, "</dl>\n");
}
static void fig(page *p, const char *label, const char *value) {
  hraw(&p->body, "<div><dt>");
  htext(&p->body, label);
  hraw(&p->body, "</dt><dd>");
  htext(&p->body, value);
  hraw(&p->body, "</dd></div>\n");
}

/* Tables: a header of columns ("name" or "#name" for a numeric, right-aligned column). */
static void table_begin(page *p, const char *const *cols, size_t n) {
  hraw(&p->body, "<table>\n<thead><tr>");
  for (size_t i = 0; i < n; i++) {
    hraw(&p->body, cols[i][0] == '#' ? "<th class=\"n\">" : "<th>");
    htext(&p->body, cols[i][0] == '#' ? cols[i] + 1 : cols[i]);
    hraw(&p->body, "</th>");
  }
  hraw(&p->body, "</tr></thead>\n<tbody>\n");
}
static void table_end(page *p) {
  hraw(&p->body, "</tbody>\n</table>\n");
}
static void td(page *p, const char *text, int numeric) {
  hraw(&p->body, numeric ? "<td class=\"n\">" : "<td>");
  htext(&p->body, text);
  hraw(&p->body, "</td>");
}
static void td_wrap(page *p, const char *text) {
  hraw(&p->body, "<td class=\"wrap\">");
  htext(&p->body, text);
  hraw(&p->body, "</td>");
}
static void td_num(page *p, double v) {
  char s[48];
  f_num(v, s, sizeof s);
  td(p, s, 1);
}

/* A chart: its heading, note and container, and its descriptor.  The caller then writes the
 * datasets (jb_arr_begin(&p->charts, NAME) ... jb_arr_end) and ends with chart_end.  `dataset` is
 * the dataset whose rows the main mark draws one item each; `main` is that mark's name. */
static void chart_begin(page *p, const char *title, const char *text, const char *dataset, const char *main) {
  char id[32];
  snprintf(id, sizeof id, "chart%d", p->n_charts++);
  hraw(&p->body, "<section>\n");
  section(p, title, text);
  hfmt(&p->body, "<div class=\"chart\" id=\"%s\"></div>\n</section>\n", id);
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
static void chart_end(page *p, size_t rows, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void chart_end(page *p, size_t rows, const char *fmt, ...) {
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
static void d_str(page *p, const char *k, const char *v) {
  jb_str(&p->charts, k, v ? v : "");
}
static void d_num(page *p, const char *k, double v) {
  jb_num(&p->charts, k, v);
}

/* Colours shared by the charts. */
#define BOUND_SCALE                                                                                          \
  "{'domain': ['compute', 'memory', 'network', 'latency'], 'range': ['#2f6db5', '#e07b39', '#3a9a5b', "      \
  "'#8c8c8c']}"
#define CATEGORY_SCALE                                                                                       \
  "{'domain': ['gemm', 'attention', 'elementwise', 'norm', 'embedding', 'interaction', 'collective', "       \
  "'optimizer', 'other'],"                                                                                   \
  " 'scheme': 'tableau10'}"
#define STATUS_SCALE                                                                                         \
  "{'domain': ['ok', 'fail', 'unsupported', 'error'], 'range': ['#2e8b57', '#c0392b', '#e0a030', "           \
  "'#7f5a9e']}"

/* ---- run result ---------------------------------------------------------------------------------- */

typedef struct oprow {
  const char *name, *phase, *category, *bound;
  double count, time_s, flops, bytes, energy_j, hit;
  char label[160];
} oprow;

static int by_time_desc(const void *pa, const void *pb) {
  const oprow *a = pa, *b = pb;
  if (a->time_s != b->time_s) return a->time_s < b->time_s ? 1 : -1;
  return 0;
}

/* The breakdown rows, most time first, each with a unique label; NULL when there are none. */
static oprow *read_ops(arena *a, yt_node *res, size_t *n_out) {
  *n_out = 0;
  yt_node *bd = seq(res, "breakdown");
  if (!bd || !bd->n) return NULL;
  oprow *r = ar_alloc(a, bd->n * sizeof *r);
  if (!r) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < bd->n; i++) {
    yt_node *o = bd->items[i];
    if (o->type != YT_MAP) continue;
    oprow *w = &r[n++];
    w->name = str_or(o, "name", "?");
    w->phase = str_or(o, "phase", "");
    w->category = str_or(o, "category", "other");
    w->bound = str_or(o, "bound", "");
    w->count = num(o, "count");
    w->time_s = num(o, "time_s");
    w->flops = num(o, "flops");
    w->bytes = num(o, "bytes");
    w->energy_j = num(o, "energy_j");
    w->hit = num(o, "sram_hit_rate");
    if (isnan(w->time_s)) w->time_s = 0;
  }
  qsort(r, n, sizeof *r, by_time_desc);
  for (size_t i = 0; i < n; i++) { /* "name", or "name (phase)" when the name repeats */
    int dup = 0;
    for (size_t j = 0; j < n; j++)
      dup |= j != i && strcmp(r[i].name, r[j].name) == 0;
    if (dup)
      snprintf(r[i].label, sizeof r[i].label, "%s (%s)", r[i].name, r[i].phase);
    else
      snprintf(r[i].label, sizeof r[i].label, "%s", r[i].name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(r[i].label, r[j].label) == 0) {
        size_t l = strlen(r[i].label);
        snprintf(r[i].label + l, sizeof r[i].label - l, " #%zu", i + 1);
        break;
      }
  }
  *n_out = n;
  return r;
}

/* A short name of the run's model: a preset's name, or the op and its shape. */
static void model_name(yt_node *sc, char *buf, size_t size) {
  yt_node *m = get(sc, "model");
  const char *name = str(m, "name");
  if (name) {
    snprintf(buf, size, "%s", name);
  } else if (str(m, "op")) {
    const char *op = str(m, "op");
    if (strcmp(op, "gemm") == 0)
      snprintf(buf, size, "gemm %gx%gx%g", num(m, "m"), num(m, "n"), num(m, "k"));
    else
      snprintf(buf, size, "%s", op);
  } else if (get(m, "dlrm")) {
    snprintf(buf, size, "DLRM (inline)");
  } else if (get(m, "transformer")) {
    snprintf(buf, size, "transformer (inline)");
  } else {
    snprintf(buf, size, "model");
  }
}

static double run_chips(yt_node *res) {
  double c = num(res, "scenario.system.chips");
  return isnan(c) || c < 1 ? 1 : c;
}

static void run_title(yt_node *res, char *buf, size_t size) {
  char model[200];
  model_name(get(res, "scenario"), model, sizeof model);
  double chips = run_chips(res);
  snprintf(buf, size, "%s \xc2\xb7 %s on %g \xc3\x97 %s", model, str_or(res, "scenario.task", "?"), chips,
           str_or(res, "scenario.chip.name", "chip"));
}

/* The chip of a result, reloaded from its resolved spec, for the roofline's peaks: 1 when read, 0
 * when the spec is absent or not one this build reads (the roofline is then drawn without roofs),
 * -1 when out of memory. */
static int result_chip(arena *a, yt_node *res, sl_chip *chip) {
  yt_node *spec = get(res, "scenario.chip");
  if (!spec || spec->type != YT_MAP) return 0;
  sl_error e;
  memset(&e, 0, sizeof e);
  reader r = {&e, a, ""};
  rd_mark m = rd_push(&r, "chip");
  sl_status s = chip_from_node(&r, spec, chip);
  rd_pop(&r, m);
  if (s == SL_ERR_INTERNAL) return -1;
  return s == SL_OK && chip->n_mem > 0;
}

static void run_figures(page *p, yt_node *res) {
  char v[256], a[64], b[64];
  figs_begin(p);
  if (!isnan(num(res, "step_time_s"))) {
    f_time(num(res, "step_time_s"), v, sizeof v);
    fig(p, "step time", v);
  }
  static const struct {
    const char *key, *label;
  } thr[] = {{"tokens_per_s", "tokens/s"}, {"samples_per_s", "samples/s"}};
  for (size_t i = 0; i < SL_ARRAY_LEN(thr); i++) {
    char k2[64];
    snprintf(k2, sizeof k2, "%s_per_chip", thr[i].key);
    if (isnan(num(res, thr[i].key))) continue;
    f_num(num(res, thr[i].key), a, sizeof a);
    f_num(num(res, k2), b, sizeof b);
    snprintf(v, sizeof v, "%s (%s per chip)", a, b);
    fig(p, thr[i].label, v);
  }
  if (!isnan(num(res, "tpot_s"))) {
    f_time(num(res, "ttft_s"), a, sizeof a);
    f_time(num(res, "tpot_s"), b, sizeof b);
    snprintf(v, sizeof v, "%s / %s", a, b);
    fig(p, "TTFT / TPOT", v);
  }
  if (!isnan(num(res, "mfu"))) {
    f_pct(num(res, "mfu"), a, sizeof a);
    f_pct(num(res, "hfu"), b, sizeof b);
    snprintf(v, sizeof v, "%s / %s (%.1f TFLOP/s per chip)", a, b, num(res, "flops_per_chip_per_s") / 1e12);
    fig(p, "MFU / HFU", v);
  }
  if (!isnan(num(res, "memory.per_chip_bytes"))) {
    f_bytes(num(res, "memory.per_chip_bytes"), a, sizeof a);
    f_bytes(num(res, "memory.capacity_bytes"), b, sizeof b);
    snprintf(v, sizeof v, "%s of %s (%s)", a, b, is_true(res, "memory.fits") ? "fits" : "does not fit");
    fig(p, "memory per chip", v);
  }
  if (!isnan(num(res, "energy.step_j"))) {
    f_num(num(res, "energy.step_j"), a, sizeof a);
    double jt = num(res, "energy.j_per_token"), js = num(res, "energy.j_per_sample");
    if (!isnan(jt))
      snprintf(v, sizeof v, "%s J per step, %.4g J per token", a, jt);
    else if (!isnan(js))
      snprintf(v, sizeof v, "%s J per step, %.4g J per sample", a, js);
    else
      snprintf(v, sizeof v, "%s J per step", a);
    fig(p, "energy", v);
    snprintf(v, sizeof v, "%.0f W per chip (uncapped %.0f W)", num(res, "energy.avg_power_w_per_chip"),
             num(res, "energy.uncapped_power_w_per_chip"));
    fig(p, "power", v);
  }
  if (!isnan(num(res, "cost.usd_per_hour_system"))) {
    double mt = num(res, "cost.usd_per_million_tokens"), ms = num(res, "cost.usd_per_million_samples");
    int n = snprintf(v, sizeof v, "$%.4g per hour", num(res, "cost.usd_per_hour_system"));
    if (!isnan(mt))
      snprintf(v + n, sizeof v - (size_t)n, ", $%.4g per million tokens", mt);
    else if (!isnan(ms))
      snprintf(v + n, sizeof v - (size_t)n, ", $%.4g per million samples", ms);
    fig(p, "cost", v);
  }
  if (get(res, "parallel")) {
    int n = snprintf(
        v, sizeof v, "dp %g, tp %g, pp %g, cp %g, ep %g, sp %s, zero %g, vpp %g", num(res, "parallel.dp"),
        num(res, "parallel.tp"), num(res, "parallel.pp"), num(res, "parallel.cp"), num(res, "parallel.ep"),
        is_true(res, "parallel.sp") ? "on" : "off", num(res, "parallel.zero"), num(res, "parallel.vpp"));
    if (strcmp(str_or(res, "scenario.task", ""), "train") == 0 && n > 0 && (size_t)n < sizeof v)
      snprintf(v + n, sizeof v - (size_t)n, ", micro-batch %g", num(res, "parallel.micro_batch"));
    fig(p, "parallel plan", v);
  }
  if (!isnan(num(res, "serve.ttft_p99_s"))) {
    f_time(num(res, "serve.ttft_p99_s"), a, sizeof a);
    f_time(num(res, "serve.tpot_p99_s"), b, sizeof b);
    snprintf(v, sizeof v, "p99 TTFT %s, p99 TPOT %s, %.4g tokens/s", a, b,
             num(res, "serve.throughput_tokens_per_s"));
    fig(p, "serving", v);
  }
  figs_end(p);
}

static void chart_ops(page *p, const oprow *ops, size_t n, double sum_s, unit u) {
  char text[512];
  double step = 0;
  for (size_t i = 0; i < n; i++)
    step += ops[i].time_s;
  snprintf(text, sizeof text,
           "Each op's time in one step (all its repeats: layers, micro-batches) on the most loaded chip, "
           "coloured by what bounds it. Hover for its FLOP, bytes and achieved TFLOP/s.");
  chart_begin(p, "Time per op", text, "ops", "bars");
  jb_arr_begin(&p->charts, "ops");
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "label", o->label);
    d_str(p, "name", o->name);
    d_str(p, "phase", o->phase);
    d_str(p, "category", o->category);
    d_str(p, "bound", o->bound);
    d_num(p, "count", o->count);
    d_num(p, "time", o->time_s * u.per_s);
    d_num(p, "share", sum_s > 0 ? o->time_s / sum_s : NAN);
    d_num(p, "tflops", o->time_s > 0 ? o->flops / o->time_s / 1e12 : NAN);
    d_num(p, "flops", o->flops);
    d_num(p, "bytes", o->bytes);
    d_num(p, "energy_j", o->energy_j);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  chart_end(
      p, n,
      "{'width': 760, 'height': {'step': 15}, 'data': {'name': 'ops'},"
      " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
      "  'encoding': {'y': {'field': 'label', 'type': 'nominal', 'sort': '-x', 'title': null, 'axis': "
      "{'labelLimit': 240}},"
      "   'x': {'field': 'time', 'type': 'quantitative', 'title': 'time per step (%s)'},"
      "   'color': {'field': 'bound', 'type': 'nominal', 'title': 'bound', 'scale': " BOUND_SCALE "},"
      "   'tooltip': [{'field': 'name'}, {'field': 'phase'}, {'field': 'category'}, {'field': 'count', "
      "'format': ','},"
      "    {'field': 'time', 'title': 'time (%s)', 'format': '.4~g'}, {'field': 'share', 'format': '.1%%'},"
      "    {'field': 'tflops', 'title': 'TFLOP/s', 'format': '.1f'}, {'field': 'flops', 'title': 'FLOP', "
      "'format': '.3~s'},"
      "    {'field': 'bytes', 'format': '.3~s'}, {'field': 'energy_j', 'title': 'energy (J)', 'format': "
      "'.3~g'},"
      "    {'field': 'bound'}]}}]}",
      u.name, u.name);
}

static void chart_phases(page *p, const oprow *ops, size_t n, unit u) {
  /* (phase, category) pairs in order of first appearance */
  const char *ph[64], *cat[64];
  double t[64];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(ops[i].time_s > 0)) continue;
    size_t j = 0;
    while (j < m && !(strcmp(ph[j], ops[i].phase) == 0 && strcmp(cat[j], ops[i].category) == 0))
      j++;
    if (j == m) {
      if (m == SL_ARRAY_LEN(ph)) continue;
      ph[m] = ops[i].phase, cat[m] = ops[i].category, t[m] = 0;
      m++;
    }
    t[j] += ops[i].time_s;
  }
  if (!m) return;
  chart_begin(p, "Time per phase",
              "The ops' times summed per phase and category. Communication that overlaps compute is counted "
              "here in full, so the bars can add up to more than the step time.",
              "phases", "segments");
  jb_arr_begin(&p->charts, "phases");
  for (size_t j = 0; j < m; j++) {
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "phase", ph[j]);
    d_str(p, "category", cat[j]);
    d_num(p, "time", t[j] * u.per_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  chart_end(
      p, m,
      "{'width': 760, 'height': {'step': 26}, 'data': {'name': 'phases'},"
      " 'layer': [{'name': 'segments', 'mark': {'type': 'bar'},"
      "  'encoding': {'y': {'field': 'phase', 'type': 'nominal', 'title': null, 'sort': null},"
      "   'x': {'field': 'time', 'type': 'quantitative', 'stack': 'zero', 'title': 'time per step (%s)'},"
      "   'color': {'field': 'category', 'type': 'nominal', 'title': 'category', 'scale': " CATEGORY_SCALE
      "},"
      "   'tooltip': [{'field': 'phase'}, {'field': 'category'}, {'field': 'time', 'title': 'time (%s)', "
      "'format': '.4~g'}]}}]}",
      u.name, u.name);
}

static void chart_roofline(page *p, arena *a, yt_node *res, const oprow *ops, size_t n) {
  size_t m = 0;
  double lo = INFINITY, hi = 0, ylo = INFINITY;
  for (size_t i = 0; i < n; i++)
    if (ops[i].flops > 0 && ops[i].bytes > 0 && ops[i].time_s > 0) {
      double ai = ops[i].flops / ops[i].bytes, y = ops[i].flops / ops[i].time_s / 1e12;
      lo = fmin(lo, ai), hi = fmax(hi, ai), ylo = fmin(ylo, y);
      m++;
    }
  if (!m) return;
  sl_chip chip;
  memset(&chip, 0, sizeof chip);
  int have_chip = result_chip(a, res, &chip);
  if (have_chip < 0) {
    p->charts.oom = 1;
    return;
  }
  int dt = dtype_from_name(str_or(res, "scenario.precision.activations", "bf16"));
  double peak = 0, bw = 0, l2bw = 0;
  const char *dram = "DRAM", *l2name = "";
  if (have_chip) {
    if (dt < 0 || chip_peak_flops(&chip, (sl_dtype)dt) <= 0) dt = SL_BF16;
    if (chip_peak_flops(&chip, (sl_dtype)dt) <= 0)
      for (int f = 0; f < SL_DTYPE_COUNT; f++)
        if (chip_peak_flops(&chip, (sl_dtype)f) > peak) peak = chip_peak_flops(&chip, (sl_dtype)f), dt = f;
    peak = chip_peak_flops(&chip, (sl_dtype)dt) / 1e12; /* TFLOP/s */
    bw = chip_dram(&chip)->bw_GBps * 1e9;
    dram = chip_dram(&chip)->name ? chip_dram(&chip)->name : "DRAM";
    const sl_mem_level *l2 = chip_l2(&chip);
    if (l2 && !l2->per_core && l2->bw_GBps > 0)
      l2bw = l2->bw_GBps * 1e9, l2name = l2->name ? l2->name : "SRAM";
  }
  int roofs = peak > 0 && bw > 0;
  double ridge = roofs ? peak * 1e12 / bw : 0;
  double x0 = (roofs ? fmin(lo, ridge) : lo) / 4, x1 = (roofs ? fmax(hi, ridge) : hi) * 4;
  char text[768];
  if (roofs)
    snprintf(
        text, sizeof text,
        "Each op at its arithmetic intensity (useful FLOP per DRAM byte) and the FLOP/s it reaches, under "
        "the %s matrix peak (%.4g TFLOP/s) and the %s bandwidth roof (%.4g GB/s; ridge at %.1f FLOP/byte). "
        "%zu of %zu ops have FLOP and bytes; the others (collectives, copies) are not placed.",
        sl_dtype_names[dt], peak, dram, bw / 1e9, ridge, m, n);
  else
    snprintf(
        text, sizeof text,
        "Each op at its arithmetic intensity (useful FLOP per DRAM byte) and the FLOP/s it reaches (%zu of "
        "%zu ops; the chip's peaks could not be read from the result, so no roofs are drawn).",
        m, n);
  chart_begin(p, "Roofline", text, "roofline_ops", "points");
  jb_arr_begin(&p->charts, "roofline_ops");
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    if (!(o->flops > 0 && o->bytes > 0 && o->time_s > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "label", o->label);
    d_str(p, "category", o->category);
    d_str(p, "bound", o->bound);
    d_num(p, "intensity", o->flops / o->bytes);
    d_num(p, "tflops", o->flops / o->time_s / 1e12);
    d_num(p, "time_s", o->time_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  jb_arr_begin(&p->charts, "roofs");
  if (roofs) {
    char name[96];
    snprintf(name, sizeof name, "%s %.0f GB/s", dram, bw / 1e9);
    double pts[3][2] = {{x0, fmin(peak, bw * x0 / 1e12)}, {ridge, peak}, {x1, peak}};
    for (int i = 0; i < 3; i++) {
      if (i == 1 && (ridge <= x0 || ridge >= x1)) continue;
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "roof", name);
      d_num(p, "intensity", pts[i][0]);
      d_num(p, "tflops", pts[i][1]);
      jb_obj_end(&p->charts);
    }
    if (l2bw > bw) {
      snprintf(name, sizeof name, "%s %.0f GB/s", l2name, l2bw / 1e9);
      double r2 = peak * 1e12 / l2bw;
      double q[3][2] = {{x0, fmin(peak, l2bw * x0 / 1e12)}, {r2, peak}, {x1, peak}};
      for (int i = 0; i < 3; i++) {
        if (i == 1 && (r2 <= x0 || r2 >= x1)) continue;
        jb_obj_begin(&p->charts, NULL);
        d_str(p, "roof", name);
        d_num(p, "intensity", q[i][0]);
        d_num(p, "tflops", q[i][1]);
        jb_obj_end(&p->charts);
      }
    }
  }
  jb_arr_end(&p->charts);
  double yhi = 0;
  for (size_t i = 0; i < n; i++)
    if (ops[i].flops > 0 && ops[i].bytes > 0 && ops[i].time_s > 0)
      yhi = fmax(yhi, ops[i].flops / ops[i].time_s / 1e12);
  double y0 = roofs ? fmin(ylo, bw * x0 / 1e12) / 2 : ylo / 4, y1 = roofs ? fmax(peak, yhi) * 2 : yhi * 4;
  chart_end(p, m,
            "{'width': 700, 'height': 420, 'data': {'name': 'roofline_ops'},"
            " 'encoding': {'x': {'field': 'intensity', 'type': 'quantitative', 'title': 'arithmetic "
            "intensity (FLOP/byte)',"
            "   'scale': {'type': 'log', 'domain': [%.6g, %.6g]}},"
            "  'y': {'field': 'tflops', 'type': 'quantitative', 'title': 'achieved TFLOP/s', 'scale': "
            "{'type': 'log', 'domain': [%.6g, %.6g]}}},"
            " 'layer': [{'data': {'name': 'roofs'}, 'mark': {'type': 'line', 'color': '#555', 'clip': true},"
            "   'encoding': {'strokeDash': {'field': 'roof', 'type': 'nominal', 'title': 'roof'}, 'tooltip': "
            "[{'field': 'roof'}]}},"
            "  {'name': 'points', 'mark': {'type': 'point', 'filled': true, 'size': 70, 'opacity': 0.85},"
            "   'encoding': {'color': {'field': 'category', 'type': 'nominal', 'title': 'category', "
            "'scale': " CATEGORY_SCALE "},"
            "    'shape': {'field': 'bound', 'type': 'nominal', 'title': 'bound'},"
            "    'tooltip': [{'field': 'label', 'title': 'op'}, {'field': 'category'}, {'field': 'bound'},"
            "     {'field': 'intensity', 'title': 'FLOP/byte', 'format': '.4~g'}, {'field': 'tflops', "
            "'title': 'TFLOP/s', 'format': '.4~g'},"
            "     {'field': 'time_s', 'title': 'time (s)', 'format': '.4~g'}]}}]}",
            x0, x1, y0, y1);
}

static void chart_memory(page *p, yt_node *res) {
  static const struct {
    const char *key, *label;
  } parts[] = {{"weights_bytes", "weights"},
               {"grads_bytes", "gradients"},
               {"optimizer_bytes", "optimizer state"},
               {"activations_bytes", "activations"},
               {"kv_cache_bytes", "KV cache"}};
  yt_node *mem = get(res, "memory");
  double cap = num(mem, "capacity_bytes");
  size_t m = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(parts); i++)
    m += num(mem, parts[i].key) > 0;
  if (!m) return;
  char text[256], a[48], b[48];
  f_bytes(num(mem, "per_chip_bytes"), a, sizeof a);
  f_bytes(cap, b, sizeof b);
  snprintf(text, sizeof text, "What the most loaded chip holds: %s of %s (%s).", a, b,
           is_true(mem, "fits") ? "fits" : "does not fit");
  chart_begin(p, "Memory per chip", text, "memory", "parts");
  jb_arr_begin(&p->charts, "memory");
  for (size_t i = 0; i < SL_ARRAY_LEN(parts); i++) {
    double v = num(mem, parts[i].key);
    if (!(v > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "what", "per chip");
    d_str(p, "part", parts[i].label);
    d_num(p, "order", (double)i);
    d_num(p, "gib", v / 1073741824.0);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  jb_arr_begin(&p->charts, "capacity");
  if (cap > 0) {
    jb_obj_begin(&p->charts, NULL);
    d_num(p, "gib", cap / 1073741824.0);
    d_str(p, "label", "capacity");
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  chart_end(
      p, m,
      "{'width': 760, 'height': 60, 'data': {'name': 'memory'},"
      " 'layer': [{'name': 'parts', 'mark': {'type': 'bar'},"
      "   'encoding': {'y': {'field': 'what', 'type': 'nominal', 'title': null},"
      "    'x': {'field': 'gib', 'type': 'quantitative', 'stack': 'zero', 'title': 'GiB'},"
      "    'order': {'field': 'order'},"
      "    'color': {'field': 'part', 'type': 'nominal', 'title': null, 'sort': {'field': 'order'},"
      "      'scale': {'domain': ['weights', 'gradients', 'optimizer state', 'activations', 'KV cache'],"
      "                'range': ['#2f6db5', '#7aa6da', '#e07b39', '#3a9a5b', '#b07aa1']}},"
      "    'tooltip': [{'field': 'part'}, {'field': 'gib', 'title': 'GiB', 'format': '.2f'}]}},"
      "  {'data': {'name': 'capacity'}, 'mark': {'type': 'rule', 'color': '#c0392b', 'strokeWidth': 2},"
      "   'encoding': {'x': {'field': 'gib', 'type': 'quantitative'}, 'tooltip': [{'field': 'label'}, "
      "{'field': 'gib', 'title': 'GiB', 'format': '.2f'}]}}]}");
}

static void chart_energy(page *p, yt_node *res, const oprow *ops, size_t n) {
  if (!get(res, "energy")) {
    if (is_true(res, "feasible"))
      note(p, "note",
           "This result has no energy figures (this version does not compute them for this kind of "
           "scenario, or an older silica made the result), so there is no energy chart.");
    return;
  }
  const char *cat[32];
  double e[32];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(ops[i].energy_j > 0)) continue;
    size_t j = 0;
    while (j < m && strcmp(cat[j], ops[i].category) != 0)
      j++;
    if (j == m) {
      if (m == SL_ARRAY_LEN(cat)) continue;
      cat[m] = ops[i].category, e[m++] = 0;
    }
    e[j] += ops[i].energy_j;
  }
  double total = 0;
  for (size_t j = 0; j < m; j++)
    total += e[j];
  if (m) {
    char text[512];
    snprintf(
        text, sizeof text,
        "Energy of one chip's ops in one step by category (%.4g J in all: dynamic energy of MACs, SRAM, DRAM "
        "and links, plus static power over each op's time). The whole system uses %.4g J per step.",
        total, num(res, "energy.step_j"));
    chart_begin(p, "Energy per component", text, "energy", "bars");
    jb_arr_begin(&p->charts, "energy");
    for (size_t j = 0; j < m; j++) {
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "category", cat[j]);
      d_num(p, "energy_j", e[j]);
      d_num(p, "share", total > 0 ? e[j] / total : NAN);
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    chart_end(
        p, m,
        "{'width': 760, 'height': {'step': 22}, 'data': {'name': 'energy'},"
        " 'layer': [{'name': 'bars', 'mark': {'type': 'bar', 'color': '#3a9a5b'},"
        "  'encoding': {'y': {'field': 'category', 'type': 'nominal', 'sort': '-x', 'title': null},"
        "   'x': {'field': 'energy_j', 'type': 'quantitative', 'title': 'energy per step, one chip (J)'},"
        "   'tooltip': [{'field': 'category'}, {'field': 'energy_j', 'title': 'J', 'format': '.4~g'},"
        "    {'field': 'share', 'format': '.1%%'}]}}]}");
  }
  double avg = num(res, "energy.avg_power_w_per_chip"), unc = num(res, "energy.uncapped_power_w_per_chip");
  double tdp = num(res, "scenario.chip.tdp_w");
  struct {
    const char *what;
    double w;
  } pw[] = {{"average", avg}, {"uncapped (full clock)", unc}, {"TDP", tdp}};
  size_t k = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(pw); i++)
    k += pw[i].w > 0;
  if (!k) return;
  char text[256];
  double ratio = num(res, "energy.clock_ratio");
  if (ratio < 1)
    snprintf(
        text, sizeof text,
        "Power per chip against its TDP: over it at full clock, so the chip runs at %.0f%% of its clock.",
        100 * ratio);
  else
    snprintf(text, sizeof text, "Power per chip against its TDP.");
  chart_begin(p, "Power per chip", text, "power", "bars");
  jb_arr_begin(&p->charts, "power");
  for (size_t i = 0; i < SL_ARRAY_LEN(pw); i++) {
    if (!(pw[i].w > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "what", pw[i].what);
    d_num(p, "w", pw[i].w);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  chart_end(p, k,
            "{'width': 760, 'height': {'step': 22}, 'data': {'name': 'power'},"
            " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
            "  'encoding': {'y': {'field': 'what', 'type': 'nominal', 'sort': null, 'title': null},"
            "   'x': {'field': 'w', 'type': 'quantitative', 'title': 'W per chip'},"
            "   'color': {'field': 'what', 'type': 'nominal', 'legend': null,"
            "     'scale': {'domain': ['average', 'uncapped (full clock)', 'TDP'], 'range': ['#2f6db5', "
            "'#7aa6da', '#c0392b']}},"
            "   'tooltip': [{'field': 'what'}, {'field': 'w', 'title': 'W', 'format': '.4~g'}]}}]}");
}

/* Serving: the latency percentiles of the simulated requests. */
static void chart_serve(page *p, yt_node *res) {
  static const struct {
    const char *key, *metric, *pct;
  } q[] = {{"serve.ttft_p50_s", "time to first token", "p50"},
           {"serve.ttft_p90_s", "time to first token", "p90"},
           {"serve.ttft_p99_s", "time to first token", "p99"},
           {"serve.tpot_p50_s", "time per output token", "p50"},
           {"serve.tpot_p90_s", "time per output token", "p90"},
           {"serve.tpot_p99_s", "time per output token", "p99"}};
  size_t m = 0;
  double hi = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(q); i++)
    if (num(res, q[i].key) > 0) m++, hi = fmax(hi, num(res, q[i].key));
  if (!m) return;
  unit u = time_unit(hi);
  char text[320];
  snprintf(text, sizeof text,
           "Percentiles over the %g simulated requests arriving at %.4g per second: %.4g tokens/s, %.4g "
           "requests/s "
           "within the latency targets.",
           num(res, "serve.requests"), num(res, "serve.arrival_rate_per_s"),
           num(res, "serve.throughput_tokens_per_s"), num(res, "serve.goodput_requests_per_s"));
  chart_begin(p, "Serving latency", text, "latency", "bars");
  jb_arr_begin(&p->charts, "latency");
  for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
    double v = num(res, q[i].key);
    if (!(v > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    d_str(p, "metric", q[i].metric);
    d_str(p, "percentile", q[i].pct);
    d_num(p, "time", v * u.per_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  chart_end(
      p, m,
      "{'height': 220, 'width': 300, 'data': {'name': 'latency'},"
      " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
      "  'encoding': {'x': {'field': 'metric', 'type': 'nominal', 'title': null, 'axis': {'labelAngle': 0}},"
      "   'xOffset': {'field': 'percentile', 'type': 'nominal', 'sort': ['p50', 'p90', 'p99']},"
      "   'y': {'field': 'time', 'type': 'quantitative', 'title': 'latency (%s)'},"
      "   'color': {'field': 'percentile', 'type': 'nominal', 'sort': ['p50', 'p90', 'p99'], 'scale': "
      "{'scheme': 'blues'}},"
      "   'tooltip': [{'field': 'metric'}, {'field': 'percentile'}, {'field': 'time', 'title': 'latency "
      "(%s)', 'format': '.4~g'}]}}]}",
      u.name, u.name);
}

static void table_ops(page *p, const oprow *ops, size_t n, double sum_s) {
  static const char *const cols[] = {"op",     "phase",    "category", "#count",      "#time",
                                     "#share", "#TFLOP/s", "#bytes",   "#energy (J)", "bound"};
  hraw(&p->body, "<details open><summary>Breakdown table</summary>\n");
  table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    char t[48], s[48];
    hraw(&p->body, "<tr>");
    td(p, o->name, 0);
    td(p, o->phase, 0);
    td(p, o->category, 0);
    td_num(p, o->count);
    f_time(o->time_s, t, sizeof t);
    td(p, t, 1);
    f_pct(sum_s > 0 ? o->time_s / sum_s : NAN, s, sizeof s);
    td(p, s, 1);
    td_num(p, o->time_s > 0 ? o->flops / o->time_s / 1e12 : NAN);
    f_bytes(o->bytes, t, sizeof t);
    td(p, t, 1);
    td_num(p, o->energy_j);
    td(p, o->bound, 0);
    hraw(&p->body, "</tr>\n");
  }
  table_end(p);
  hraw(&p->body, "</details>\n");
}

static void table_plans(page *p, yt_node *res) {
  yt_node *plans = seq(res, "plans");
  if (!plans || !plans->n) return;
  static const char *const cols[] = {"#dp",        "#tp",   "#pp",          "#cp",          "#ep",
                                     "sp",         "#zero", "#vpp",         "#micro-batch", "recompute",
                                     "#step time", "#MFU",  "#GiB per chip"};
  section(p, "Best plans of the search", "The fastest parallel plans found (run --top N keeps N).");
  table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < plans->n; i++) {
    yt_node *t = plans->items[i];
    char s[48];
    hraw(&p->body, "<tr>");
    static const char *const k[] = {"dp", "tp", "pp", "cp", "ep"};
    for (size_t j = 0; j < SL_ARRAY_LEN(k); j++)
      td_num(p, num(t, k[j]));
    td(p, is_true(t, "sp") ? "on" : "off", 0);
    td_num(p, num(t, "zero"));
    td_num(p, num(t, "vpp"));
    td_num(p, num(t, "micro_batch"));
    td(p, str_or(t, "recompute", ""), 0);
    f_time(num(t, "step_time_s"), s, sizeof s);
    td(p, s, 1);
    f_pct(num(t, "mfu"), s, sizeof s);
    td(p, s, 1);
    td_num(p, num(t, "per_chip_bytes") / 1073741824.0);
    hraw(&p->body, "</tr>\n");
  }
  table_end(p);
}

static sl_status report_run(page *p, arena *a, yt_node *res) {
  run_title(res, p->title, sizeof p->title);
  yt_node *sc = get(res, "scenario");
  snprintf(p->sub, sizeof p->sub,
           "precision %s (weights) / %s (activations) / %s (KV) \xc2\xb7 stack %s \xc2\xb7 silica %s",
           str_or(sc, "precision.weights", "?"), str_or(sc, "precision.activations", "?"),
           str_or(sc, "precision.kv", "?"), str_or(sc, "stack.name", "inline"),
           str_or(res, "silica_version", "?"));
  run_figures(p, res);
  size_t n = 0;
  oprow *ops = read_ops(a, res, &n);
  if (!ops && seq(res, "breakdown") && seq(res, "breakdown")->n) return SL_ERR_INTERNAL;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += ops[i].time_s;
  double tmax = 0;
  for (size_t i = 0; i < n; i++)
    tmax = fmax(tmax, ops[i].time_s);
  if (!is_true(res, "feasible")) {
    char text[700];
    snprintf(text, sizeof text, "This scenario cannot run: %s", str_or(res, "reason", "no reason given"));
    note(p, "warn", text);
  }
  if (n) {
    chart_ops(p, ops, n, sum, time_unit(tmax));
    chart_phases(p, ops, n, time_unit(sum)); /* no phase takes longer than all the ops */
    chart_roofline(p, a, res, ops, n);
  }
  chart_serve(p, res);
  chart_memory(p, res);
  chart_energy(p, res, ops, n);
  table_plans(p, res);
  if (n) table_ops(p, ops, n, sum);
  return SL_OK;
}

/* ---- several run results: scaling ------------------------------------------------------------------ */

typedef struct scal {
  yt_node *res;
  char series[320];
  double chips, step_s, thr, mfu, eff;
  const char *thr_unit;
  int ok; /* feasible with a step time */
} scal;

static sl_status report_scaling(page *p, arena *a, yt_node **runs, size_t n) {
  scal *s = ar_alloc(a, n * sizeof *s);
  if (!s) return SL_ERR_INTERNAL;
  /* Series: runs that differ only in their system. */
  for (size_t i = 0; i < n; i++) {
    yt_node *r = runs[i];
    char model[200];
    model_name(get(r, "scenario"), model, sizeof model);
    s[i].res = r;
    snprintf(s[i].series, sizeof s[i].series, "%s \xc2\xb7 %s \xc2\xb7 %s \xc2\xb7 %s",
             str_or(r, "scenario.chip.name", "chip"), model, str_or(r, "scenario.task", "?"),
             str_or(r, "scenario.precision.activations", "?"));
    s[i].chips = run_chips(r);
    s[i].step_s = num(r, "step_time_s");
    s[i].thr = num(r, "tokens_per_s");
    s[i].thr_unit = "tokens/s";
    if (isnan(s[i].thr)) s[i].thr = num(r, "samples_per_s"), s[i].thr_unit = "samples/s";
    if (isnan(s[i].thr) && s[i].step_s > 0) s[i].thr = 1 / s[i].step_s, s[i].thr_unit = "steps/s";
    s[i].mfu = num(r, "mfu");
    s[i].ok = is_true(r, "feasible") && s[i].step_s > 0;
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
      str_or(runs[0], "silica_version", "?"));
  unit u = time_unit(tmax);
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
  figs_begin(p);
  char v[128];
  snprintf(v, sizeof v, "%zu of %zu", ok, n);
  fig(p, "feasible runs", v);
  snprintf(v, sizeof v, "%g to %g", ok ? cmin : 0, ok ? cmax : 0);
  fig(p, "chips", v);
  figs_end(p);
  if (!ok) {
    note(p, "warn", "None of the runs is feasible: there is nothing to draw.");
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
      chart_begin(p, charts[c].title, charts[c].text, ds, "points");
      jb_arr_begin(&p->charts, ds);
      for (size_t i = 0; i < n; i++) {
        double y = c == 0 ? s[i].step_s : c == 1 ? s[i].thr : s[i].eff;
        if (!(s[i].ok && y > 0)) continue;
        char plan[160];
        snprintf(plan, sizeof plan, "dp %g tp %g pp %g", num(s[i].res, "parallel.dp"),
                 num(s[i].res, "parallel.tp"), num(s[i].res, "parallel.pp"));
        jb_obj_begin(&p->charts, NULL);
        d_str(p, "series", s[i].series);
        d_num(p, "chips", s[i].chips);
        d_num(p, "step", s[i].step_s * u.per_s);
        d_num(p, "throughput", s[i].thr);
        d_str(p, "unit", s[i].thr_unit);
        d_num(p, "mfu", s[i].mfu);
        d_num(p, "efficiency", s[i].eff);
        d_str(p, "plan", plan);
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
          d_str(p, "series", s[i].series);
          d_num(p, "chips", s[i].chips);
          d_num(p, "throughput", base->thr * s[i].chips / base->chips);
          jb_obj_end(&p->charts);
        }
      jb_arr_end(&p->charts);
      char ytitle[64];
      if (c == 2)
        snprintf(ytitle, sizeof ytitle, "%s", charts[c].ytitle);
      else
        snprintf(ytitle, sizeof ytitle, "%s (%s)", charts[c].ytitle, c == 0 ? u.name : s[0].thr_unit);
      chart_end(p, rows,
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
  section(p, "Runs", NULL);
  table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    char t[64];
    hraw(&p->body, "<tr>");
    td(p, s[i].series, 0);
    td_num(p, s[i].chips);
    snprintf(t, sizeof t, "dp %g tp %g pp %g", num(s[i].res, "parallel.dp"), num(s[i].res, "parallel.tp"),
             num(s[i].res, "parallel.pp"));
    td(p, get(s[i].res, "parallel") ? t : "-", 0);
    f_time(s[i].step_s, t, sizeof t);
    td(p, t, 1);
    td_num(p, s[i].thr);
    td(p, s[i].thr_unit, 0);
    f_pct(s[i].mfu, t, sizeof t);
    td(p, t, 1);
    f_pct(s[i].eff, t, sizeof t);
    td(p, t, 1);
    td_wrap(p, is_true(s[i].res, "feasible") ? "yes" : str_or(s[i].res, "reason", "no"));
    hraw(&p->body, "</tr>\n");
  }
  table_end(p);
  return SL_OK;
}

/* ---- validation result ------------------------------------------------------------------------------- */

static sl_status report_validation(page *p, yt_node *v) {
  yt_node *cases = seq(v, "cases");
  size_t n = cases->n, placed = 0, ran = 0;
  double lo = INFINITY, hi = 0;
  for (size_t i = 0; i < n; i++) {
    yt_node *c = cases->items[i];
    double m = num(c, "measured"), pr = num(c, "predicted");
    if (m > 0 && pr > 0) placed++, lo = fmin(lo, fmin(m, pr)), hi = fmax(hi, fmax(m, pr));
    ran += !isnan(num(c, "rel_error"));
  }
  snprintf(p->title, sizeof p->title, "Validation: %zu checks", n);
  snprintf(p->sub, sizeof p->sub, "silica validate --json \xc2\xb7 silica %s",
           str_or(v, "silica_version", "?"));
  char a[64], b[160];
  figs_begin(p);
  f_pct(num(v, "mape"), a, sizeof a);
  fig(p, "mean absolute error (validation)", a);
  f_pct(num(v, "max_abs_rel_error"), a, sizeof a);
  fig(p, "largest absolute error", a);
  if (!isnan(num(v, "calibration_mape"))) {
    f_pct(num(v, "calibration_mape"), a, sizeof a);
    fig(p, "mean absolute error (calibration cases)", a);
  }
  snprintf(b, sizeof b, "%g ok, %g fail, %g unsupported, %g error", num(v, "counts.ok"),
           num(v, "counts.fail"), num(v, "counts.unsupported"), num(v, "counts.error"));
  fig(p, "status", b);
  figs_end(p);
  if (placed) {
    chart_begin(p, "Predicted against measured",
                "Each check (a case and a metric, in the metric's unit) on log axes; on the diagonal the "
                "prediction is "
                "exact. Hover for the case, its source and its error.",
                "checks", "points");
    jb_arr_begin(&p->charts, "checks");
    for (size_t i = 0; i < n; i++) {
      yt_node *c = cases->items[i];
      double m = num(c, "measured"), pr = num(c, "predicted");
      if (!(m > 0 && pr > 0)) continue;
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "name", str_or(c, "name", "?"));
      d_str(p, "metric", str_or(c, "metric", "?"));
      d_str(p, "status", str_or(c, "status", "?"));
      d_str(p, "group", str_or(c, "group", "validation"));
      d_str(p, "source", str_or(c, "source", ""));
      d_num(p, "measured", m);
      d_num(p, "predicted", pr);
      d_num(p, "error", num(c, "rel_error"));
      d_num(p, "tolerance", num(c, "tolerance"));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "diagonal");
    for (int k = 0; k < 2; k++) {
      jb_obj_begin(&p->charts, NULL);
      d_num(p, "measured", k ? hi * 1.5 : lo / 1.5);
      d_num(p, "predicted", k ? hi * 1.5 : lo / 1.5);
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    chart_end(p, placed,
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
    chart_begin(p, "Error per check", "(predicted \xe2\x88\x92 measured) / measured, largest first.",
                "errors", "bars");
    jb_arr_begin(&p->charts, "errors");
    for (size_t i = 0; i < n; i++) {
      yt_node *c = cases->items[i];
      double e = num(c, "rel_error");
      if (isnan(e)) continue;
      char label[400];
      snprintf(label, sizeof label, "%s \xc2\xb7 %s", str_or(c, "name", "?"), str_or(c, "metric", "?"));
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "label", label);
      d_str(p, "status", str_or(c, "status", "?"));
      d_num(p, "error", e);
      d_num(p, "abs_error", fabs(e));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    chart_end(p, ran,
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
  section(p, "Checks", NULL);
  table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    yt_node *c = cases->items[i];
    char e[48];
    const char *st = str_or(c, "status", "?");
    hraw(&p->body, "<tr>");
    td(p, str_or(c, "name", "?"), 0);
    td(p, str_or(c, "metric", "?"), 0);
    td_num(p, num(c, "measured"));
    td_num(p, num(c, "predicted"));
    double re = num(c, "rel_error");
    if (isnan(re))
      snprintf(e, sizeof e, "-");
    else
      snprintf(e, sizeof e, "%+.1f%%", 100 * re);
    td(p, e, 1);
    f_pct(num(c, "tolerance"), e, sizeof e);
    td(p, e, 1);
    hraw(&p->body, "<td class=\"st-");
    htext(&p->body, st);
    hraw(&p->body, "\">");
    htext(&p->body, st);
    hraw(&p->body, "</td>");
    td_wrap(p, str_or(c, "message", str_or(c, "source", "")));
    hraw(&p->body, "</tr>\n");
  }
  table_end(p);
  return SL_OK;
}

/* ---- compare result ----------------------------------------------------------------------------------- */

static const struct {
  const char *key, *title, *text, *label;
} CMP_METRICS[] = {
    {"throughput", "Throughput", "throughput of each workload", "throughput"},
    {"perf_per_w", "Performance per watt", "throughput per joule (the system's average power)", "per watt"},
    {"perf_per_tco", "Performance per dollar", "throughput per dollar of cost of ownership", "per dollar"},
};

static sl_status report_compare(page *p, yt_node *c) {
  yt_node *ws = seq(c, "workloads"), *chips = seq(c, "chips");
  const char *base = str_or(c, "baseline", "?");
  snprintf(p->title, sizeof p->title, "Compare: %zu chips on %zu workloads", chips->n, ws->n);
  snprintf(p->sub, sizeof p->sub, "silica compare --json \xc2\xb7 baseline %s \xc2\xb7 silica %s", base,
           str_or(c, "silica_version", "?"));
  figs_begin(p);
  fig(p, "baseline", base);
  for (size_t w = 0; w < ws->n; w++) {
    yt_node *wl = ws->items[w];
    char label[256];
    snprintf(label, sizeof label, "best for %s", str_or(wl, "name", "?"));
    char v[256];
    snprintf(v, sizeof v, "%s (throughput), %s (per watt), %s (per dollar)",
             str_or(wl, "best.throughput", "-"), str_or(wl, "best.perf_per_w", "-"),
             str_or(wl, "best.perf_per_tco", "-"));
    fig(p, label, v);
  }
  figs_end(p);
  for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
    char path[64];
    snprintf(path, sizeof path, "relative.%s", CMP_METRICS[m].key);
    size_t rows = 0;
    for (size_t w = 0; w < ws->n; w++) {
      yt_node *res = seq(ws->items[w], "results");
      for (size_t k = 0; res && k < res->n; k++)
        rows += num(res->items[k], path) > 0;
    }
    if (!rows) continue;
    char title[128], text[256], ds[32];
    snprintf(title, sizeof title, "%s relative to %s", CMP_METRICS[m].title, base);
    snprintf(text, sizeof text,
             "The %s on each chip over the baseline's (1 = as fast as %s). Missing bars: the chip cannot run "
             "the workload.",
             CMP_METRICS[m].text, base);
    snprintf(ds, sizeof ds, "rel_%s", CMP_METRICS[m].key);
    chart_begin(p, title, text, ds, "bars");
    jb_arr_begin(&p->charts, ds);
    for (size_t w = 0; w < ws->n; w++) {
      yt_node *wl = ws->items[w], *res = seq(wl, "results");
      for (size_t k = 0; res && k < res->n; k++) {
        yt_node *r = res->items[k];
        double v = num(r, path);
        if (!(v > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        d_str(p, "workload", str_or(wl, "name", "?"));
        d_str(p, "chip", str_or(r, "chip", "?"));
        d_num(p, "relative", v);
        d_num(p, "throughput", num(r, "throughput"));
        d_str(p, "unit", str_or(wl, "throughput_unit", ""));
        d_num(p, "perf_per_w", num(r, "perf_per_w"));
        d_num(p, "perf_per_usd", num(r, "perf_per_usd"));
        jb_obj_end(&p->charts);
      }
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "one");
    jb_obj_begin(&p->charts, NULL);
    d_num(p, "relative", 1);
    jb_obj_end(&p->charts);
    jb_arr_end(&p->charts);
    int width = (int)fmin(900, fmax(260, (double)ws->n * ((double)chips->n * 22 + 40)));
    chart_end(
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
  yt_node *sum = seq(c, "summary");
  if (sum && ws->n > 1) {
    size_t rows = 0;
    for (size_t k = 0; k < sum->n; k++)
      for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
        char key[64];
        snprintf(key, sizeof key, "geomean_relative_%s", CMP_METRICS[m].key);
        rows += num(sum->items[k], key) > 0;
      }
    if (rows) {
      chart_begin(p, "Geometric mean over the workloads",
                  "Each chip's relative figures, averaged geometrically over the workloads it can run.",
                  "summary", "bars");
      jb_arr_begin(&p->charts, "summary");
      for (size_t k = 0; k < sum->n; k++)
        for (size_t m = 0; m < SL_ARRAY_LEN(CMP_METRICS); m++) {
          char key[64];
          snprintf(key, sizeof key, "geomean_relative_%s", CMP_METRICS[m].key);
          double v = num(sum->items[k], key);
          if (!(v > 0)) continue;
          jb_obj_begin(&p->charts, NULL);
          d_str(p, "chip", str_or(sum->items[k], "chip", "?"));
          d_str(p, "metric", CMP_METRICS[m].label);
          d_num(p, "relative", v);
          d_num(p, "workloads", num(sum->items[k], "workloads"));
          jb_obj_end(&p->charts);
        }
      jb_arr_end(&p->charts);
      int width = (int)fmin(900, fmax(300, 3 * ((double)sum->n * 22 + 40)));
      chart_end(p, rows,
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
  static const char *const cols[] = {"workload",    "chip",        "#throughput", "unit",        "#step time",
                                     "#W per chip", "#$ per hour", "#per joule",  "#per dollar", "notes"};
  section(p, "Results", NULL);
  table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t w = 0; w < ws->n; w++) {
    yt_node *wl = ws->items[w], *res = seq(wl, "results");
    for (size_t k = 0; res && k < res->n; k++) {
      yt_node *r = res->items[k];
      char t[48];
      hraw(&p->body, "<tr>");
      td(p, str_or(wl, "name", "?"), 0);
      td(p, str_or(r, "chip", "?"), 0);
      td_num(p, num(r, "throughput"));
      td(p, str_or(wl, "throughput_unit", ""), 0);
      f_time(num(r, "step_time_s"), t, sizeof t);
      td(p, t, 1);
      td_num(p, num(r, "power_w_per_chip"));
      td_num(p, num(r, "usd_per_hour_system"));
      td_num(p, num(r, "perf_per_w"));
      td_num(p, num(r, "perf_per_usd"));
      td_wrap(p, is_true(r, "feasible") ? "" : str_or(r, "reason", "cannot run"));
      hraw(&p->body, "</tr>\n");
    }
  }
  table_end(p);
  return SL_OK;
}

/* ---- sweep report (silica sweep --report DB --json, or the database itself via silica report) ---- */

/* "#286: cores 64, macs_per_cycle 2048, ..." */
static void design_label(yt_node *d, char *buf, size_t size) {
  int l = snprintf(buf, size, "#%.0f", num(d, "point"));
  yt_node *ps = get(d, "params");
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

static sl_status report_sweep(page *p, yt_node *d) {
  yt_node *front = seq(d, "front"), *best = seq(d, "best"), *chips = seq(d, "chips"),
          *objs = seq(d, "objectives");
  const char *base = str_or(d, "base_chip", "?");
  snprintf(p->title, sizeof p->title, "Sweep %s: %s tailored", str_or(d, "name", "-"), base);
  snprintf(p->sub, sizeof p->sub, "silica sweep \xc2\xb7 %s \xc2\xb7 strategy %s \xc2\xb7 %s",
           str_or(d, "file", "?"), str_or(d, "strategy", "?"), str_or(d, "database", "?"));
  const char *o0 = known_obj(objs, 0), *o1 = known_obj(objs, 1), *o2 = known_obj(objs, 2);
  if (!o0) o0 = "perf_per_tco";
  if (o1 && (o1 == o0)) o1 = NULL;
  if (!o1 || (o2 && (o2 == o0 || o2 == o1))) o2 = NULL;
  figs_begin(p);
  char v[512];
  snprintf(v, sizeof v, "%.0f of %.0f (%.0f feasible)", num(d, "points_evaluated"), num(d, "points_total"),
           num(d, "points_feasible"));
  fig(p, "design points", v);
  double ca = num(d, "constraints.max_area_mm2"), ct = num(d, "constraints.max_tdp_w"),
         cc = num(d, "constraints.max_unit_cost_usd");
  int l = 0;
  v[0] = 0;
  if (ca > 0) l += snprintf(v + l, sizeof v - (size_t)l, "area \xe2\x89\xa4 %.0f mm\xc2\xb2", ca);
  if (ct > 0) l += snprintf(v + l, sizeof v - (size_t)l, "%sTDP \xe2\x89\xa4 %.0f W", l ? ", " : "", ct);
  if (cc > 0) snprintf(v + l, sizeof v - (size_t)l, "%sunit cost \xe2\x89\xa4 $%.0f", l ? ", " : "", cc);
  fig(p, "constraints", v[0] ? v : "none");
  for (size_t k = 0; best && k < best->n; k++) {
    yt_node *b = best->items[k];
    const char *obj = str_or(b, "objective", "?");
    char label[96], path[64];
    snprintf(label, sizeof label, "best %s", obj);
    snprintf(path, sizeof path, "design.%s", obj);
    snprintf(v, sizeof v, "#%.0f: %.3g\xc3\x97 %s", num(b, "design.point"), num(b, path), base);
    fig(p, label, v);
  }
  figs_end(p);
  /* the front on the first two objectives, the chips beside it */
  size_t rows = front ? front->n : 0;
  if (o1 && rows) {
    char text[512];
    snprintf(
        text, sizeof text,
        "Every design no other design beats on all of %s, %s%s%s, relative to %s = 1 (higher is better)%s. "
        "Crosses: the base and reference chips on the same mix.",
        o0, o1, o2 ? " and " : "", o2 ? o2 : "", base, o2 ? "; colour: the third objective" : "");
    chart_begin(p, "Pareto front", text, "front", "points");
    jb_arr_begin(&p->charts, "front");
    for (size_t i = 0; i < front->n; i++) {
      yt_node *f = front->items[i];
      char label[512];
      design_label(f, label, sizeof label);
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "design", label);
      for (size_t k = 0; k < SL_ARRAY_LEN(SWEEP_OBJS); k++)
        d_num(p, SWEEP_OBJS[k], num(f, SWEEP_OBJS[k]));
      d_num(p, "area_mm2", num(f, "area_mm2"));
      d_num(p, "tdp_w", num(f, "tdp_w"));
      d_num(p, "unit_cost_usd", num(f, "unit_cost_usd"));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    jb_arr_begin(&p->charts, "chips");
    for (size_t i = 0; chips && i < chips->n; i++) {
      yt_node *c = chips->items[i];
      if (!is_true(c, "feasible")) continue;
      jb_obj_begin(&p->charts, NULL);
      d_str(p, "chip", str_or(c, "chip", "?"));
      for (size_t k = 0; k < SL_ARRAY_LEN(SWEEP_OBJS); k++)
        d_num(p, SWEEP_OBJS[k], num(c, SWEEP_OBJS[k]));
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    char color[256] = "";
    if (o2)
      snprintf(color, sizeof color,
               ", 'color': {'field': '%s', 'type': 'quantitative', 'scale': {'scheme': 'viridis'}}", o2);
    chart_end(
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
      bars += num(best->items[k], path) > 0;
    }
  for (size_t i = 0; chips && i < chips->n; i++)
    for (size_t m = 0; m < 3; m++)
      bars += is_true(chips->items[i], "feasible") && num(chips->items[i], SWEEP_OBJS[m]) > 0;
  if (bars) {
    char text[256];
    snprintf(text, sizeof text,
             "The best design for each objective and the base and reference chips on the mix, "
             "relative to %s.",
             base);
    chart_begin(p, "Best designs against the chips", text, "best", "bars");
    jb_arr_begin(&p->charts, "best");
    for (size_t k = 0; best && k < best->n; k++) {
      yt_node *b = best->items[k];
      char who[96];
      snprintf(who, sizeof who, "best %s (#%.0f)", str_or(b, "objective", "?"), num(b, "design.point"));
      for (size_t m = 0; m < 3; m++) {
        char path[64];
        snprintf(path, sizeof path, "design.%s", SWEEP_OBJS[m]);
        double x = num(b, path);
        if (!(x > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        d_str(p, "who", who);
        d_str(p, "metric", SWEEP_OBJS[m]);
        d_num(p, "relative", x);
        jb_obj_end(&p->charts);
      }
    }
    for (size_t i = 0; chips && i < chips->n; i++) {
      yt_node *c = chips->items[i];
      if (!is_true(c, "feasible")) continue;
      for (size_t m = 0; m < 3; m++) {
        double x = num(c, SWEEP_OBJS[m]);
        if (!(x > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        d_str(p, "who", str_or(c, "chip", "?"));
        d_str(p, "metric", SWEEP_OBJS[m]);
        d_num(p, "relative", x);
        jb_obj_end(&p->charts);
      }
    }
    jb_arr_end(&p->charts);
    chart_end(
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
    section(p, "Designs on the front", NULL);
    table_begin(p, cols, SL_ARRAY_LEN(cols));
    for (size_t i = 0; i < front->n; i++) {
      yt_node *f = front->items[i];
      char label[512];
      design_label(f, label, sizeof label);
      hraw(&p->body, "<tr>");
      td_wrap(p, label);
      td_num(p, num(f, "throughput"));
      td_num(p, num(f, "perf_per_w"));
      td_num(p, num(f, "perf_per_tco"));
      td_num(p, num(f, "area_mm2"));
      td_num(p, num(f, "tdp_w"));
      td_num(p, num(f, "unit_cost_usd"));
      hraw(&p->body, "</tr>\n");
    }
    table_end(p);
  } else {
    note(p, "warn", "No feasible design: every point broke a constraint or could not run a workload.");
  }
  return SL_OK;
}

/* ---- the HTML page ------------------------------------------------------------------------------------ */

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

static void write_page(jbuf *out, page *p, const char *name) {
  hraw(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  hfmt(out, "<meta name=\"generator\" content=\"silica %s\">\n<title>", SILICA_VERSION);
  htext(out, p->title);
  hraw(out, "</title>\n<style>\n");
  hraw(out, sl_web_report_css);
  hraw(out, "</style>\n<script>\n");
  hraw(out, sl_web_capture_js);
  hraw(out, "</script>\n<script>\n");
  hraw(out, sl_web_vega);
  hraw(out, "</script>\n<script>\n");
  hraw(out, sl_web_vega_lite);
  hraw(out, "</script>\n<script>\n");
  hraw(out, sl_web_vega_embed);
  hraw(out, "</script>\n</head>\n");
  hfmt(out, "<body data-kind=\"%s\">\n<header>\n<h1>", KIND_NAMES[p->k]);
  htext(out, p->title);
  hraw(out, "</h1>\n<p class=\"sub\">");
  htext(out, p->sub);
  hraw(out, "</p>\n</header>\n");
  hraw(out, p->body.s ? p->body.s : "");
  hraw(out, "<footer>Made by silica " SILICA_VERSION " from ");
  htext(out, name && *name ? name : "its JSON output");
  hraw(out,
       ". Charts drawn with Vega-Lite (vega, vega-lite and vega-embed are inside this page: it needs no "
       "network). Hover over a mark for its figures; the \xe2\x80\xa6 menu of a chart saves it as PNG or "
       "SVG.</footer>\n<script type=\"application/json\" id=\"silica-charts\">");
  raw_json_in_script(out, p->charts.s ? p->charts.s : "[]");
  hraw(out, "</script>\n<script>\n");
  hraw(out, sl_web_report_js);
  hraw(out, "</script>\n</body>\n</html>\n");
}

sl_status sl_report_html(const char *text, size_t len, const char *name, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_report_html: out is NULL");
  *out = NULL;
  if (!text) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_report_html: no input");
  if (!name) name = "";
  if (is_sqlite(text, len))
    return err_set(
        err, SL_ERR_UNSUPPORTED, name, 0, "",
        "a sweep database: the library draws the report of a sweep from its JSON (silica sweep --report DB "
        "--json); silica report DB -o OUT.html reads the database itself");
  arena a;
  ar_init(&a);
  input in;
  sl_status s = read_input(&a, text, len, name, &in, err);
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
  if (!sl_web_complete) {
    ar_free(&a);
    return err_set(
        err, SL_ERR_UNSUPPORTED, name, 0, "",
        "this build of silica has no HTML report support: vega, vega-lite and vega-embed were not "
        "installed in web/node_modules when it was built (run scripts/install-deps, then rebuild)");
  }
  page p;
  memset(&p, 0, sizeof p);
  p.k = k;
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
    break;
  }
  jb_arr_end(&p.charts);
  jbuf html;
  jb_init(&html);
  if (!s) write_page(&html, &p, name);
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
