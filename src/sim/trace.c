/* trace.c — serve.trace: a request trace read at scenario load (never during a simulation), and the
 * writer of a scenario's own generated traffic as a trace (`silica trace`).  A trace is CSV with a
 * header line or JSON lines, one request per row: arrival_s, prompt_tokens, output_tokens and
 * optionally prefix_id and prefix_tokens (docs/formats.md "serve.trace").  Lines that start with #
 * and blank lines are skipped. */
#include "sim/sim.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { C_ARRIVAL, C_PROMPT, C_OUTPUT, C_PREFIX_ID, C_PREFIX_TOKENS, C_COUNT };
static const char *const cols[] = {"arrival_s", "prompt_tokens", "output_tokens",
                                   "prefix_id", "prefix_tokens", NULL};

typedef struct tr_ctx {
  const char *path;
  int line;
  sl_error *err;
} tr_ctx;

static sl_status tr_fail(tr_ctx *c, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sl_status tr_fail(tr_ctx *c, const char *col, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "column %s: %s", col, msg);
}

static int column_of(const char *name, size_t len) {
  for (int k = 0; k < C_COUNT; k++)
    if (strlen(cols[k]) == len && strncmp(cols[k], name, len) == 0) return k;
  return -1;
}

static sl_status unknown_column(tr_ctx *c, const char *name, size_t len) {
  char w[64];
  snprintf(w, sizeof w, "%.*s", (int)(len < 63 ? len : 63), name);
  const char *near = io_closest(w, cols, C_COUNT);
  return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace",
                 "unknown column \"%s\"%s%s%s (columns: %s)", w, near ? " (did you mean " : "",
                 near ? near : "", near ? "?)" : "",
                 "arrival_s, prompt_tokens, output_tokens, prefix_id, prefix_tokens");
}

/* A field's text [s, s+len) as a finite number. */
static sl_status field_number(tr_ctx *c, int col, const char *s, size_t len, double *out) {
  while (len && isspace((unsigned char)*s))
    s++, len--;
  while (len && isspace((unsigned char)s[len - 1]))
    len--;
  char buf[64];
  if (len == 0 || len >= sizeof buf) {
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 40 ? len : 40), s);
    return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "column %s: \"%s\" is not a number",
                   cols[col], buf);
  }
  memcpy(buf, s, len), buf[len] = 0;
  char *end = NULL;
  errno = 0;
  double v = strtod(buf, &end);
  if (end == buf || *end || errno || !isfinite(v))
    return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "column %s: \"%s\" is not a number",
                   cols[col], buf);
  *out = v;
  return SL_OK;
}

/* The row's values, checked: lengths whole and at least 1, arrivals not decreasing. */
static sl_status check_row(tr_ctx *c, const double *v, const int *has, double prev, sl_request *q) {
  if (v[C_ARRIVAL] < 0) return tr_fail(c, cols[C_ARRIVAL], "arrival %g is negative", v[C_ARRIVAL]);
  if (v[C_ARRIVAL] < prev)
    return tr_fail(c, cols[C_ARRIVAL],
                   "arrival %.17g is before the previous row's %.17g (arrivals must not decrease)",
                   v[C_ARRIVAL], prev);
  for (int k = C_PROMPT; k <= C_OUTPUT; k++)
    if (!(v[k] >= 1 && v[k] <= 1e8) || v[k] != floor(v[k]))
      return tr_fail(c, cols[k], "%g must be a whole number of tokens from 1 to 1e8", v[k]);
  q->arrival = v[C_ARRIVAL], q->prompt = v[C_PROMPT], q->gen = v[C_OUTPUT];
  q->prefix_id = -1, q->prefix_tokens = 0;
  if (has[C_PREFIX_ID]) {
    if (!(v[C_PREFIX_ID] >= 0 && v[C_PREFIX_ID] <= 1e15) || v[C_PREFIX_ID] != floor(v[C_PREFIX_ID]))
      return tr_fail(c, cols[C_PREFIX_ID], "%g must be a whole number from 0", v[C_PREFIX_ID]);
    q->prefix_id = v[C_PREFIX_ID];
  }
  if (has[C_PREFIX_TOKENS]) {
    double p = v[C_PREFIX_TOKENS];
    if (!(p >= 0 && p <= q->prompt) || p != floor(p))
      return tr_fail(c, cols[C_PREFIX_TOKENS], "%g must be a whole number from 0 to the prompt's tokens", p);
    if (p > 0 && !has[C_PREFIX_ID]) return tr_fail(c, cols[C_PREFIX_TOKENS], "%g tokens need a prefix_id", p);
    q->prefix_tokens = p;
  }
  return SL_OK;
}

/* One JSON object of numbers (or null for an optional key) on one line. */
static sl_status json_row(tr_ctx *c, const char *s, const char *e, double *v, int *has) {
  const char *p = s + 1; /* past '{' */
  for (;;) {
    while (p < e && isspace((unsigned char)*p))
      p++;
    if (p < e && *p == '}') break;
    if (p >= e || *p != '"')
      return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace",
                     "expected a \"key\": number in the row");
    const char *k = ++p;
    while (p < e && *p != '"')
      p++;
    if (p >= e) return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "unterminated key");
    int col = column_of(k, (size_t)(p - k));
    if (col < 0) return unknown_column(c, k, (size_t)(p - k));
    p++;
    while (p < e && isspace((unsigned char)*p))
      p++;
    if (p >= e || *p != ':')
      return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "column %s: expected ':'",
                     cols[col]);
    p++;
    const char *f = p;
    while (p < e && *p != ',' && *p != '}')
      p++;
    size_t len = (size_t)(p - f);
    const char *t = f;
    while (t < p && isspace((unsigned char)*t))
      t++;
    if ((size_t)(p - t) >= 4 && strncmp(t, "null", 4) == 0 && col >= C_PREFIX_ID) {
      has[col] = 0;
    } else {
      SL_TRY(field_number(c, col, f, len, &v[col]));
      has[col] = 1;
    }
    if (p >= e) return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "unterminated object");
    if (*p == '}') break;
    p++;
  }
  for (int k = C_ARRIVAL; k <= C_OUTPUT; k++)
    if (!has[k])
      return err_set(c->err, SL_ERR_INPUT, c->path, c->line, "serve.trace", "column %s: missing", cols[k]);
  return SL_OK;
}

sl_status traffic_read_trace(arena *a, const char *path, sl_request **out, size_t *n_out, sl_error *err) {
  tr_ctx c = {path, 0, err};
  FILE *f = fopen(path, "rb");
  if (!f)
    return err_set(err, SL_ERR_INPUT, path, 0, "serve.trace", "cannot open the trace: %s", strerror(errno));
  size_t cap = 1 << 16, len = 0;
  char *text = malloc(cap);
  size_t got;
  while (text && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
    len += got;
    if (cap - len - 1 == 0) {
      char *t = cap < ((size_t)1 << 31) ? realloc(text, cap * 2) : NULL;
      if (!t) free(text);
      text = t, cap *= 2;
    }
  }
  fclose(f);
  if (!text) return err_set(err, SL_ERR_INTERNAL, path, 0, "serve.trace", "out of memory reading the trace");
  text[len] = 0;
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  sl_request *r = ar_alloc(a, lines * sizeof *r);
  if (!r) {
    free(text);
    return err_set(err, SL_ERR_INTERNAL, path, 0, "serve.trace", "out of memory reading the trace");
  }
  int map[C_COUNT + 8], ncol = 0, has_hdr = 0, json = -1;
  int hdr_has[C_COUNT] = {0};
  size_t n = 0;
  double prev = 0;
  sl_status s = SL_OK;
  const char *p = text, *end = text + len;
  while (!s && p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    const char *next = e < end ? e + 1 : end;
    c.line++;
    if (e > p && e[-1] == '\r') e--;
    const char *q = p;
    while (q < e && isspace((unsigned char)*q))
      q++;
    p = next;
    if (q == e || *q == '#') continue;
    if (json < 0) json = *q == '{';
    double v[C_COUNT] = {0};
    int has[C_COUNT] = {0};
    if (json) {
      if (*q != '{')
        s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace",
                    "a JSON-lines trace has one {...} object a line");
      if (!s) s = json_row(&c, q, e, v, has);
    } else if (!has_hdr) { /* the header: the columns' names */
      has_hdr = 1;
      const char *h = q;
      while (!s) {
        const char *fe = memchr(h, ',', (size_t)(e - h));
        if (!fe) fe = e;
        const char *a0 = h, *a1 = fe;
        while (a0 < a1 && isspace((unsigned char)*a0))
          a0++;
        while (a1 > a0 && isspace((unsigned char)a1[-1]))
          a1--;
        int col = column_of(a0, (size_t)(a1 - a0));
        if (col < 0)
          s = unknown_column(&c, a0, (size_t)(a1 - a0));
        else if (hdr_has[col])
          s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace", "column %s: given twice", cols[col]);
        else if (ncol >= C_COUNT)
          s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace", "too many columns");
        if (s) break;
        hdr_has[col] = 1, map[ncol++] = col;
        if (fe == e) break;
        h = fe + 1;
      }
      for (int k = C_ARRIVAL; !s && k <= C_OUTPUT; k++)
        if (!hdr_has[k])
          s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace",
                      "column %s: missing from the header (a CSV trace starts with a header line naming "
                      "arrival_s, prompt_tokens, output_tokens)",
                      cols[k]);
      continue;
    } else {
      const char *h = q;
      int i = 0;
      for (;;) {
        const char *fe = memchr(h, ',', (size_t)(e - h));
        if (!fe) fe = e;
        if (i >= ncol) {
          s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace",
                      "more fields than the header's %d columns", ncol);
          break;
        }
        const char *t = h;
        while (t < fe && isspace((unsigned char)*t))
          t++;
        if (t == fe && map[i] >= C_PREFIX_ID) { /* an empty optional field: none */
          has[map[i]] = 0;
        } else if ((s = field_number(&c, map[i], h, (size_t)(fe - h), &v[map[i]]))) {
          break;
        } else {
          has[map[i]] = 1;
        }
        i++;
        if (fe == e) break;
        h = fe + 1;
      }
      if (!s && i < ncol)
        s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace",
                    "column %s: missing (%d fields, the header has %d)", cols[map[i]], i, ncol);
    }
    if (!s && n >= 10000000)
      s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace", "more than 10,000,000 requests");
    if (!s) s = check_row(&c, v, has, prev, &r[n]);
    if (!s) prev = r[n++].arrival;
  }
  free(text);
  if (!s && n == 0) s = err_set(err, SL_ERR_INPUT, path, c.line, "serve.trace", "the trace has no requests");
  if (s) return s;
  *out = r, *n_out = n;
  return SL_OK;
}

char *traffic_trace_csv(const sl_scenario *sc) {
  const sl_serve_spec *sv = &sc->serve;
  size_t n = sv->trace ? sv->n_trace : (size_t)sv->requests;
  double rate = sv->n_curve ? sv->curve[sv->n_curve - 1] : sv->rate_per_s;
  sl_request *r = calloc(n ? n : 1, sizeof *r);
  jbuf b;
  jb_init(&b);
  if (!r) return NULL;
  traffic_requests(sv, rate, r, n);
  int prefix = 0;
  for (size_t i = 0; i < n; i++)
    prefix |= r[i].prefix_id >= 0;
  jb_raw(&b, prefix ? "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n"
                    : "arrival_s,prompt_tokens,output_tokens\n");
  char line[160];
  for (size_t i = 0; i < n && !b.oom; i++) {
    if (prefix && r[i].prefix_id >= 0)
      snprintf(line, sizeof line, "%.17g,%.0f,%.0f,%.0f,%.0f\n", r[i].arrival, r[i].prompt, r[i].gen,
               r[i].prefix_id, r[i].prefix_tokens);
    else if (prefix)
      snprintf(line, sizeof line, "%.17g,%.0f,%.0f,,\n", r[i].arrival, r[i].prompt, r[i].gen);
    else
      snprintf(line, sizeof line, "%.17g,%.0f,%.0f\n", r[i].arrival, r[i].prompt, r[i].gen);
    jb_raw(&b, line);
  }
  free(r);
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s;
}

sl_status sl_scenario_trace(const sl_scenario *sc, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!sc || !out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_scenario_trace: no scenario");
  *out = NULL;
  if (sc->task != SL_TASK_SERVE)
    return err_set(err, SL_ERR_INPUT, sc->file, 0, "task",
                   "a trace is written from a serving scenario (task: serve)");
  if (sc->serve.rate_per_s == SL_AUTO)
    return err_set(err, SL_ERR_INPUT, sc->file, 0, "serve.arrival_rate_per_s",
                   "max is found by simulation; give the rate of the trace");
  if (!(*out = traffic_trace_csv(sc))) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  return SL_OK;
}
