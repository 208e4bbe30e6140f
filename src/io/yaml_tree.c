/* yaml_tree.c — YAML/JSON text -> yt_node tree (libyaml events), with line numbers, duplicate-key
 * detection, bounded nesting and bounded alias expansion. */
#include "io/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

enum { YT_MAX_DEPTH = 64, YT_MAX_ANCHORS = 1024, YT_MAX_NODES = 1000000, YT_MAX_FILE = 16 << 20 };

typedef struct {
  const char *name;
  yt_node *node;
  int open; /* a sequence or map still being read: an alias to it would make the tree a cycle */
} anchor;

typedef struct {
  arena *a;
  yaml_parser_t p;
  const char *file;
  sl_error *err;
  anchor anchors[YT_MAX_ANCHORS];
  int n_anchors;
  long nodes;
} yparse;

static sl_status perr(yparse *y, int line, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static sl_status perr(yparse *y, int line, const char *fmt, const char *arg) {
  char msg[400];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  snprintf(msg, sizeof msg, fmt, arg ? arg : "");
#pragma GCC diagnostic pop
  return err_set(y->err, SL_ERR_INPUT, y->file, line, "", "%s", msg);
}

static sl_status next_event(yparse *y, yaml_event_t *ev) {
  if (!yaml_parser_parse(&y->p, ev)) {
    int line = (int)y->p.problem_mark.line + 1;
    char msg[400];
    snprintf(msg, sizeof msg, "malformed YAML: %s%s%s", y->p.problem ? y->p.problem : "syntax error",
             y->p.context ? " " : "", y->p.context ? y->p.context : "");
    return err_set(y->err, SL_ERR_INPUT, y->file, line, "", "%s", msg);
  }
  return SL_OK;
}

/* A new node into *out; too many nodes is bad input, a failed allocation an internal error. */
static sl_status new_node(yparse *y, yt_type t, int line, yt_node **out) {
  if (++y->nodes > YT_MAX_NODES) return perr(y, line, "document too large (over %s nodes)", "1000000");
  yt_node *n = ar_alloc(y->a, sizeof *n);
  if (!n) return err_set(y->err, SL_ERR_INTERNAL, y->file, line, "", "out of memory");
  n->type = t;
  n->line = line;
  n->file = y->file;
  *out = n;
  return SL_OK;
}

static sl_status count_nodes(yparse *y, const yt_node *n, int line) {
  if (!n) return SL_OK;
  if (++y->nodes > YT_MAX_NODES)
    return perr(y, line, "document too large (alias expansion over %s nodes)", "1000000");
  for (size_t i = 0; i < n->n; i++) {
    sl_status s = count_nodes(y,
                              n->type == YT_MAP   ? n->pairs[i].value
                              : n->type == YT_SEQ ? n->items[i]
                                                  : NULL,
                              line);
    if (s) return s;
  }
  return SL_OK;
}

static sl_status parse_node(yparse *y, yaml_event_t *ev, int depth, yt_node **out);

static sl_status register_anchor(yparse *y, const yaml_char_t *name, yt_node *n) {
  if (!name) return SL_OK;
  if (y->n_anchors >= YT_MAX_ANCHORS) return perr(y, n->line, "too many YAML anchors", NULL);
  if (!(y->anchors[y->n_anchors].name = ar_strdup(y->a, (const char *)name)))
    return err_set(y->err, SL_ERR_INTERNAL, y->file, n->line, "", "out of memory");
  y->anchors[y->n_anchors].node = n;
  y->anchors[y->n_anchors].open = n->type != YT_SCALAR;
  y->n_anchors++;
  return SL_OK;
}

/* A sequence or map has been read to its end: aliases may refer to it from now on. */
static void close_anchor(yparse *y, const yt_node *n) {
  for (int i = y->n_anchors - 1; i >= 0; i--)
    if (y->anchors[i].node == n) y->anchors[i].open = 0;
}

/* Grows an array in the arena by doubling (old storage is abandoned to the arena). */
static void *grow(arena *a, void *old, size_t elem, size_t n, size_t *cap) {
  if (n < *cap) return old;
  size_t nc = *cap ? *cap * 2 : 8;
  void *p = ar_alloc(a, nc * elem);
  if (!p) return NULL;
  if (old) memcpy(p, old, n * elem);
  *cap = nc;
  return p;
}

static sl_status parse_node(yparse *y, yaml_event_t *ev, int depth, yt_node **out) {
  int line = (int)ev->start_mark.line + 1;
  if (depth > YT_MAX_DEPTH) return perr(y, line, "nesting deeper than %s levels", "64");
  sl_status s;
  switch (ev->type) {
  case YAML_ALIAS_EVENT: {
    const char *name = (const char *)ev->data.alias.anchor;
    for (int i = y->n_anchors - 1; i >= 0; i--)
      if (strcmp(y->anchors[i].name, name) == 0) {
        if (y->anchors[i].open)
          return perr(y, line, "YAML alias *%s inside the node it names (a cycle)", name);
        if ((s = count_nodes(y, y->anchors[i].node, line))) return s;
        *out = y->anchors[i].node;
        return SL_OK;
      }
    return perr(y, line, "unknown YAML alias *%s", name);
  }
  case YAML_SCALAR_EVENT: {
    yt_node *n = NULL;
    if ((s = new_node(y, YT_SCALAR, line, &n))) return s;
    n->str = ar_strndup(y->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!n->str) return err_set(y->err, SL_ERR_INTERNAL, y->file, line, "", "out of memory");
    if (strlen(n->str) != ev->data.scalar.length) return perr(y, line, "NUL byte in a scalar%s", NULL);
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if ((s = register_anchor(y, ev->data.scalar.anchor, n))) return s;
    *out = n;
    return SL_OK;
  }
  case YAML_SEQUENCE_START_EVENT: {
    yt_node *n = NULL;
    if ((s = new_node(y, YT_SEQ, line, &n))) return s;
    if ((s = register_anchor(y, ev->data.sequence_start.anchor, n))) return s;
    size_t cap = 0;
    for (;;) {
      yaml_event_t e;
      if ((s = next_event(y, &e))) return s;
      if (e.type == YAML_SEQUENCE_END_EVENT) {
        yaml_event_delete(&e);
        break;
      }
      yt_node *item = NULL;
      s = parse_node(y, &e, depth + 1, &item);
      yaml_event_delete(&e);
      if (s) return s;
      n->items = grow(y->a, n->items, sizeof *n->items, n->n, &cap);
      if (!n->items) return err_set(y->err, SL_ERR_INTERNAL, y->file, line, "", "out of memory");
      n->items[n->n++] = item;
    }
    close_anchor(y, n);
    *out = n;
    return SL_OK;
  }
  case YAML_MAPPING_START_EVENT: {
    yt_node *n = NULL;
    if ((s = new_node(y, YT_MAP, line, &n))) return s;
    if ((s = register_anchor(y, ev->data.mapping_start.anchor, n))) return s;
    size_t cap = 0;
    for (;;) {
      yaml_event_t e;
      if ((s = next_event(y, &e))) return s;
      if (e.type == YAML_MAPPING_END_EVENT) {
        yaml_event_delete(&e);
        break;
      }
      int kline = (int)e.start_mark.line + 1;
      if (e.type != YAML_SCALAR_EVENT) {
        yaml_event_delete(&e);
        return perr(y, kline, "a map key must be a plain scalar%s", NULL);
      }
      char *key = ar_strndup(y->a, (const char *)e.data.scalar.value, e.data.scalar.length);
      yaml_event_delete(&e);
      if (!key) return err_set(y->err, SL_ERR_INTERNAL, y->file, kline, "", "out of memory");
      for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->pairs[i].key, key) == 0)
          return err_set(y->err, SL_ERR_INPUT, y->file, kline, key, "duplicate key (first at line %d)",
                         n->pairs[i].key_line);
      if ((s = next_event(y, &e))) return s;
      yt_node *val = NULL;
      s = parse_node(y, &e, depth + 1, &val);
      yaml_event_delete(&e);
      if (s) return s;
      n->pairs = grow(y->a, n->pairs, sizeof *n->pairs, n->n, &cap);
      if (!n->pairs) return err_set(y->err, SL_ERR_INTERNAL, y->file, line, "", "out of memory");
      n->pairs[n->n].key = key;
      n->pairs[n->n].key_line = kline;
      n->pairs[n->n].value = val;
      n->n++;
    }
    close_anchor(y, n);
    *out = n;
    return SL_OK;
  }
  default:
    return perr(y, line, "unexpected YAML event%s", NULL);
  }
}

sl_status yt_parse(arena *a, const char *text, size_t len, const char *file, yt_node **out, sl_error *err) {
  yparse *y = calloc(1, sizeof *y);
  if (!y) return err_set(err, SL_ERR_INTERNAL, file, 0, "", "out of memory");
  y->a = a;
  y->file = ar_strdup(a, file ? file : "<input>");
  y->err = err;
  *out = NULL;
  sl_status s = SL_OK;
  if (!y->file || !yaml_parser_initialize(&y->p)) {
    free(y);
    return err_set(err, SL_ERR_INTERNAL, file, 0, "", "out of memory");
  }
  if (memchr(text, 0, len)) {
    s = err_set(err, SL_ERR_INPUT, y->file, 0, "", "input contains a NUL byte (binary file?)");
    goto done;
  }
  yaml_parser_set_input_string(&y->p, (const unsigned char *)text, len);
  yaml_event_t ev;
  int docs = 0;
  for (;;) {
    if ((s = next_event(y, &ev))) goto done;
    yaml_event_type_t t = ev.type;
    if (t == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (t == YAML_DOCUMENT_START_EVENT) {
      int line = (int)ev.start_mark.line + 1;
      yaml_event_delete(&ev);
      if (++docs > 1) {
        s = perr(y, line, "more than one YAML document in the file%s", NULL);
        goto done;
      }
      yaml_event_t e;
      if ((s = next_event(y, &e))) goto done;
      s = parse_node(y, &e, 0, out);
      yaml_event_delete(&e);
      if (s) goto done;
      continue;
    }
    yaml_event_delete(&ev);
  }
  if (!*out) s = perr(y, 1, "empty document%s", NULL);
done:
  yaml_parser_delete(&y->p);
  free(y);
  return s;
}

sl_status yt_parse_file(arena *a, const char *path, yt_node **out, sl_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return err_set(err, SL_ERR_INPUT, path, 0, "", "cannot open: %s", strerror(errno));
  char *buf = malloc((size_t)YT_MAX_FILE + 1);
  if (!buf) {
    fclose(f);
    return err_set(err, SL_ERR_INTERNAL, path, 0, "", "out of memory");
  }
  size_t n = fread(buf, 1, (size_t)YT_MAX_FILE + 1, f);
  int rerr = ferror(f);
  fclose(f);
  sl_status s;
  if (rerr)
    s = err_set(err, SL_ERR_INPUT, path, 0, "", "cannot read (is it a directory?)");
  else if (n > (size_t)YT_MAX_FILE)
    s = err_set(err, SL_ERR_INPUT, path, 0, "", "file larger than 16 MiB");
  else
    s = yt_parse(a, buf, n, path, out, err);
  free(buf);
  return s;
}

yt_pair *yt_find(yt_node *map, const char *key) {
  if (!map || map->type != YT_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->pairs[i].key, key) == 0) return &map->pairs[i];
  return NULL;
}

yt_node *yt_get(yt_node *map, const char *key) {
  yt_asked_note(map, key);
  yt_pair *p = yt_find(map, key);
  if (!p) return NULL;
  p->used = 1;
  return p->value;
}

yt_node *yt_scalar_new(arena *a, const char *str, const char *file, int line) {
  yt_node *n = ar_alloc(a, sizeof *n);
  if (!n) return NULL;
  n->type = YT_SCALAR;
  n->str = ar_strdup(a, str);
  n->file = file;
  n->line = line;
  return n->str ? n : NULL;
}

yt_node *yt_map_new(arena *a, const char *file, int line) {
  yt_node *n = ar_alloc(a, sizeof *n);
  if (!n) return NULL;
  n->type = YT_MAP;
  n->file = file;
  n->line = line;
  return n;
}

int yt_map_set(arena *a, yt_node *map, const char *key, yt_node *value) {
  yt_pair *p = yt_find(map, key);
  if (p) {
    p->value = value;
    return 0;
  }
  yt_pair *np = ar_alloc(a, (map->n + 1) * sizeof *np);
  char *k = ar_strdup(a, key);
  if (!np || !k) return -1;
  if (map->n) memcpy(np, map->pairs, map->n * sizeof *np);
  np[map->n].key = k;
  np[map->n].key_line = value ? value->line : map->line;
  np[map->n].value = value;
  map->pairs = np;
  map->n++;
  return 0;
}

yt_node *yt_clone(arena *a, const yt_node *n) {
  if (!n) return NULL;
  yt_node *c = ar_alloc(a, sizeof *c);
  if (!c) return NULL;
  *c = *n;
  if (n->type == YT_MAP && n->n) {
    c->pairs = ar_alloc(a, n->n * sizeof *c->pairs);
    if (!c->pairs) return NULL;
    for (size_t i = 0; i < n->n; i++) {
      c->pairs[i] = n->pairs[i];
      c->pairs[i].used = 0;
      if (!(c->pairs[i].value = yt_clone(a, n->pairs[i].value))) return NULL;
    }
  } else if (n->type == YT_SEQ && n->n) {
    c->items = ar_alloc(a, n->n * sizeof *c->items);
    if (!c->items) return NULL;
    for (size_t i = 0; i < n->n; i++)
      if (!(c->items[i] = yt_clone(a, n->items[i]))) return NULL;
  }
  return c;
}
