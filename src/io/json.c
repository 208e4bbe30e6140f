/* json.c — a small streaming JSON writer into a growing buffer (jbuf), and YAML tree -> JSON.
 * Errors are sticky: after an allocation failure `oom` is set and later writes do nothing, so
 * callers check once at the end. */
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { JB_MAX_DEPTH = (int)SL_ARRAY_LEN(((jbuf *)0)->need_comma) };

void jb_init(jbuf *b) {
  memset(b, 0, sizeof *b);
}

void jb_free(jbuf *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}

static void put(jbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
      if (cap > SIZE_MAX / 2) {
        b->oom = 1;
        return;
      }
      cap *= 2;
    }
    char *p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

void jb_raw(jbuf *b, const char *s) {
  put(b, s, strlen(s));
}

static void put_escaped(jbuf *b, const char *s) {
  put(b, "\"", 1);
  const char *run = s;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    const char *esc = NULL;
    char u[8];
    switch (*p) {
    case '"':
      esc = "\\\"";
      break;
    case '\\':
      esc = "\\\\";
      break;
    case '\n':
      esc = "\\n";
      break;
    case '\r':
      esc = "\\r";
      break;
    case '\t':
      esc = "\\t";
      break;
    case '\b':
      esc = "\\b";
      break;
    case '\f':
      esc = "\\f";
      break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        snprintf(u, sizeof u, "\\u%04x", (unsigned)*p);
        esc = u;
      }
    }
    if (!esc) continue;
    put(b, run, (size_t)((const char *)p - run));
    put(b, esc, strlen(esc));
    run = (const char *)p + 1;
  }
  put(b, run, strlen(run));
  put(b, "\"", 1);
}

/* Separator before a value, then `"key":` when inside an object. */
static void begin_value(jbuf *b, const char *key) {
  if (b->depth > 0) {
    if (b->need_comma[b->depth - 1]) put(b, ",", 1);
    b->need_comma[b->depth - 1] = 1;
  }
  if (key) {
    put_escaped(b, key);
    put(b, ":", 1);
  }
}

static void nest_open(jbuf *b, const char *key, const char *bracket) {
  begin_value(b, key);
  put(b, bracket, 1);
  if (b->depth >= JB_MAX_DEPTH) { /* a caller bug; the output would be malformed */
    b->oom = 1;
    return;
  }
  b->need_comma[b->depth++] = 0;
}

static void nest_close(jbuf *b, const char *bracket) {
  if (b->depth > 0) b->depth--;
  put(b, bracket, 1);
}

void jb_obj_begin(jbuf *b, const char *key) {
  nest_open(b, key, "{");
}
void jb_obj_end(jbuf *b) {
  nest_close(b, "}");
}
void jb_arr_begin(jbuf *b, const char *key) {
  nest_open(b, key, "[");
}
void jb_arr_end(jbuf *b) {
  nest_close(b, "]");
}

void jb_str(jbuf *b, const char *key, const char *v) {
  begin_value(b, key);
  if (v)
    put_escaped(b, v);
  else
    put(b, "null", 4);
}

void jb_value_raw(jbuf *b, const char *key, const char *json) {
  begin_value(b, key);
  jb_raw(b, json && *json ? json : "null");
}

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double; whole numbers as integers. */
void jb_format_number(double v, char out[32]) {
  if (!isfinite(v)) {
    snprintf(out, 32, "null");
    return;
  }
  if (v == 0) v = 0; /* no "-0" */
  if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    snprintf(out, 32, "%.0f", v);
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(out, 32, "%.*g", prec, v);
    if (strtod(out, NULL) == v) return;
  }
}

void jb_num(jbuf *b, const char *key, double v) {
  char s[32];
  jb_format_number(v, s);
  begin_value(b, key);
  jb_raw(b, s);
}

void jb_bool(jbuf *b, const char *key, int v) {
  begin_value(b, key);
  jb_raw(b, v ? "true" : "false");
}

void jb_null(jbuf *b, const char *key) {
  begin_value(b, key);
  jb_raw(b, "null");
}

/* A plain YAML scalar as a number, with the reader's rules (digits, sign, '.', exponent, '_'). */
static int scalar_number(const char *s, double *out) {
  char buf[64];
  size_t j = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] == '_') continue;
    if (j + 1 >= sizeof buf || !strchr("0123456789+-.eE", s[i])) return 0;
    buf[j++] = s[i];
  }
  buf[j] = 0;
  char *end = NULL;
  double v = strtod(buf, &end);
  if (j == 0 || end == buf || *end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

/* YAML 1.1 booleans, as rd_bool reads them, so that a tree survives a trip through JSON. */
static int scalar_bool(const char *s, int *out) {
  static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (strcasecmp(s, t[i]) == 0) return *out = 1, 1;
    if (strcasecmp(s, f[i]) == 0) return *out = 0, 1;
  }
  return 0;
}

int jb_scalar_is_special(const char *s) {
  double d;
  int t;
  return !*s || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0 || scalar_bool(s, &t) ||
         scalar_number(s, &d);
}

static void scalar(jbuf *b, const char *key, const yt_node *n) {
  double d;
  int t;
  const char *s = n->str ? n->str : "";
  if (n->quoted)
    jb_str(b, key, s);
  else if (!*s || strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0)
    jb_null(b, key);
  else if (scalar_bool(s, &t))
    jb_bool(b, key, t);
  else if (scalar_number(s, &d))
    jb_num(b, key, d);
  else
    jb_str(b, key, s);
}

void jb_node(jbuf *b, const char *key, const yt_node *n) {
  if (!n) {
    jb_null(b, key);
    return;
  }
  if (n->type == YT_SCALAR) {
    scalar(b, key, n);
  } else if (b->depth >= JB_MAX_DEPTH - 1) { /* deeper than the writer can nest: cut, visibly */
    jb_null(b, key);
  } else if (n->type == YT_MAP) {
    jb_obj_begin(b, key);
    for (size_t i = 0; i < n->n; i++)
      jb_node(b, n->pairs[i].key, n->pairs[i].value);
    jb_obj_end(b);
  } else {
    jb_arr_begin(b, key);
    for (size_t i = 0; i < n->n; i++)
      jb_node(b, NULL, n->items[i]);
    jb_arr_end(b);
  }
}
