/* reader.c — typed access to a yt_node tree with errors that name file, line and key path. */
#include "io/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

rd_mark rd_push(reader *r, const char *key) {
  rd_mark m = {strlen(r->path)};
  size_t room = sizeof r->path - m.len;
  snprintf(r->path + m.len, room, "%s%s", m.len ? "." : "", key);
  return m;
}

rd_mark rd_push_index(reader *r, size_t i) {
  rd_mark m = {strlen(r->path)};
  snprintf(r->path + m.len, sizeof r->path - m.len, "[%zu]", i);
  return m;
}

void rd_pop(reader *r, rd_mark m) {
  if (m.len < sizeof r->path) r->path[m.len] = 0;
}

sl_status rd_fail(reader *r, const yt_node *at, const char *fmt, ...) {
  char msg[480];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return err_set(r->err, SL_ERR_INPUT, at ? at->file : "", at ? at->line : 0, r->path, "%s", msg);
}

static const char *type_name(const yt_node *n) {
  return n->type == YT_MAP ? "a map" : n->type == YT_SEQ ? "a list" : "a scalar";
}

sl_status rd_map(reader *r, const yt_node *n) {
  if (n && n->type == YT_MAP) return SL_OK;
  return rd_fail(r, n, "expected a map, got %s", n ? type_name(n) : "nothing");
}

static int parse_number(const char *s, double *out) {
  if (!s || !*s) return -1;
  char buf[64];
  size_t j = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] == '_') continue; /* YAML 1.1 digit separators */
    if (j + 1 >= sizeof buf) return -1;
    buf[j++] = s[i];
  }
  buf[j] = 0;
  for (size_t i = 0; buf[i]; i++)
    if (!strchr("0123456789+-.eE", buf[i])) return -1;
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end == buf || *end) return -1;
  *out = v;
  return 0;
}

sl_status rd_scalar_double(reader *r, const yt_node *n, double lo, double hi, double *out) {
  if (!n || n->type != YT_SCALAR)
    return rd_fail(r, n, "expected a number, got %s", n ? type_name(n) : "nothing");
  double v;
  if (n->quoted || parse_number(n->str, &v) != 0)
    return rd_fail(r, n, "expected a number, got \"%s\"", n->str);
  if (!isfinite(v)) return rd_fail(r, n, "value %s is not finite", n->str);
  if (v < lo || v > hi) return rd_fail(r, n, "value %s out of range [%g, %g]", n->str, lo, hi);
  *out = v;
  return SL_OK;
}

/* "unknown key" on entry i of map, with the known key it is closest to. */
static sl_status unknown_key(reader *r, const yt_node *map, size_t i, const char *meant) {
  rd_mark m = rd_push(r, map->pairs[i].key);
  yt_node at = *map;
  at.line = map->pairs[i].key_line;
  /* a key merged in from another file (a preset's overrides) is named where it was written */
  if (map->pairs[i].value && map->pairs[i].value->file) at.file = map->pairs[i].value->file;
  sl_status s =
      meant ? rd_fail(r, &at, "unknown key (did you mean \"%s\"?)", meant) : rd_fail(r, &at, "unknown key");
  rd_pop(r, m);
  return s;
}

sl_status rd_missing(reader *r, const yt_node *map, const char *key, const char *msg) {
  if (map && map->type == YT_MAP)
    for (size_t i = 0; i < map->n; i++)
      if (!map->pairs[i].used && io_closest(map->pairs[i].key, &key, 1)) {
        /* the path may already end in the missing key: name the mistyped one in its place */
        size_t pl = strlen(r->path), kl = strlen(key), cut = pl;
        if (pl >= kl && strcmp(r->path + pl - kl, key) == 0 && (pl == kl || r->path[pl - kl - 1] == '.'))
          cut = pl == kl ? 0 : pl - kl - 1;
        char saved = r->path[cut];
        r->path[cut] = 0;
        sl_status s = unknown_key(r, map, i, key);
        r->path[cut] = saved;
        return s;
      }
  return rd_fail(r, map, "%s", msg);
}

static sl_status get(reader *r, yt_node *map, const char *key, int required, yt_node **out) {
  *out = NULL;
  sl_status s = rd_map(r, map);
  if (s) return s;
  yt_node *v = yt_get(map, key);
  if (!v) {
    if (!required) return SL_OK;
    /* a mistyped key is the error, not the key it was meant to be */
    rd_mark m = rd_push(r, key);
    s = rd_missing(r, map, key, "missing key");
    rd_pop(r, m);
    return s;
  }
  *out = v;
  return SL_OK;
}

sl_status rd_double(reader *r, yt_node *map, const char *key, int required, double lo, double hi,
                    double *out) {
  yt_node *v;
  sl_status s = get(r, map, key, required, &v);
  if (s || !v) return s;
  rd_mark m = rd_push(r, key);
  s = rd_scalar_double(r, v, lo, hi, out);
  rd_pop(r, m);
  return s;
}

sl_status rd_int(reader *r, yt_node *map, const char *key, int required, long lo, long hi, long *out) {
  yt_node *v;
  sl_status s = get(r, map, key, required, &v);
  if (s || !v) return s;
  rd_mark m = rd_push(r, key);
  double d = 0;
  s = rd_scalar_double(r, v, (double)lo, (double)hi, &d);
  if (!s && d != floor(d)) s = rd_fail(r, v, "expected a whole number, got %s", v->str);
  if (!s) *out = (long)d;
  rd_pop(r, m);
  return s;
}

static int parse_bool(const yt_node *v, int *out) {
  if (!v || v->type != YT_SCALAR || v->quoted) return -1;
  static const char *t[] = {"true", "yes", "on"}, *f[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (strcasecmp(v->str, t[i]) == 0) return *out = 1, 0;
    if (strcasecmp(v->str, f[i]) == 0) return *out = 0, 0;
  }
  return -1;
}

sl_status rd_bool(reader *r, yt_node *map, const char *key, int required, int *out) {
  yt_node *v;
  sl_status s = get(r, map, key, required, &v);
  if (s || !v) return s;
  rd_mark m = rd_push(r, key);
  if (parse_bool(v, out) != 0)
    s = rd_fail(r, v, "expected true or false, got %s", v->type == YT_SCALAR ? v->str : type_name(v));
  rd_pop(r, m);
  return s;
}

sl_status rd_string(reader *r, yt_node *map, const char *key, int required, const char **out) {
  yt_node *v;
  sl_status s = get(r, map, key, required, &v);
  if (s || !v) return s;
  if (v->type != YT_SCALAR) {
    rd_mark m = rd_push(r, key);
    s = rd_fail(r, v, "expected a string, got %s", type_name(v));
    rd_pop(r, m);
    return s;
  }
  *out = v->str;
  return SL_OK;
}

sl_status rd_enum(reader *r, yt_node *map, const char *key, int required, const char *const *names,
                  int *out) {
  const char *str = NULL;
  sl_status s = rd_string(r, map, key, required, &str);
  if (s || !str) return s;
  for (int i = 0; names[i]; i++)
    if (strcmp(str, names[i]) == 0) return *out = i, SL_OK;
  char list[256] = "";
  for (int i = 0; names[i]; i++) {
    size_t l = strlen(list);
    snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
  }
  size_t n = 0;
  while (names[n])
    n++;
  const char *meant = io_closest(str, names, n);
  rd_mark m = rd_push(r, key);
  if (meant)
    s = rd_fail(r, yt_find(map, key)->value,
                "unknown value \"%s\" (did you mean \"%s\"? expected one of: %s)", str, meant, list);
  else
    s = rd_fail(r, yt_find(map, key)->value, "unknown value \"%s\" (expected one of: %s)", str, list);
  rd_pop(r, m);
  return s;
}

sl_status rd_done(reader *r, const yt_node *map) {
  if (!map || map->type != YT_MAP) return SL_OK;
  for (size_t i = 0; i < map->n; i++)
    if (!map->pairs[i].used) return unknown_key(r, map, i, yt_asked_closest(map, map->pairs[i].key));
  return SL_OK;
}

/* Quoted too: JSON, which validation files use, cannot write an unquoted word. */
int yt_is_auto(const yt_node *n) {
  return n && n->type == YT_SCALAR && strcmp(n->str, "auto") == 0;
}
