/* json_in.c — reading a JSON output of silica for a report: values by dotted path, each with the
 * type the report expects or "absent" (NaN, NULL), so that a result from an older or newer silica
 * draws what it has; and splitting the input into its documents (one, or JSON lines). */
#include "report/html.h"

#include <math.h>
#include <string.h>

/* The node at a dotted path of maps ("scenario.system.chips"), or NULL. */
yt_node *jin_get(yt_node *n, const char *path) {
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
double jin_num(yt_node *n, const char *path) {
  yt_node *v = jin_get(n, path);
  if (!v || v->type != YT_SCALAR || v->quoted || !v->str || !*v->str) return NAN;
  char *end = NULL;
  double d = strtod(v->str, &end);
  return *end || !isfinite(d) ? NAN : d;
}

const char *jin_str(yt_node *n, const char *path) {
  yt_node *v = jin_get(n, path);
  return v && v->type == YT_SCALAR && v->str && strcmp(v->str, "null") != 0 ? v->str : NULL;
}

const char *jin_str_or(yt_node *n, const char *path, const char *dflt) {
  const char *s = jin_str(n, path);
  return s ? s : dflt;
}

int jin_true(yt_node *n, const char *path) {
  const char *s = jin_str(n, path);
  return s && strcmp(s, "true") == 0;
}

yt_node *jin_seq(yt_node *n, const char *path) {
  yt_node *v = jin_get(n, path);
  return v && v->type == YT_SEQ ? v : NULL;
}

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

int jin_is_sqlite(const char *text, size_t len) {
  return len >= 16 && memcmp(text, "SQLite format 3", 16) == 0;
}

sl_status jin_read(arena *a, const char *text, size_t len, const char *name, jin_docs *in, sl_error *err) {
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
