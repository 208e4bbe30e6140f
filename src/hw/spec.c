/* spec.c — resolving a spec value (preset name, file path, or inline map) to a tree. */
#include "hw/hw.h"

#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && strcmp(s + a - b, suf) == 0;
}

int spec_is_path(const char *s) {
  return strchr(s, '/') || ends_with(s, ".yaml") || ends_with(s, ".yml") || ends_with(s, ".json");
}

/* Applies the keys of `over` onto `base` (a tree of its own): maps merge key by key, anything else
 * replaces what base has.  skip: a key of `over` not to apply (NULL: none). */
static sl_status merge(reader *r, yt_node *base, yt_node *over, const char *skip) {
  for (size_t i = 0; i < over->n; i++) {
    yt_pair *p = &over->pairs[i];
    p->used = 1;
    if (skip && strcmp(p->key, skip) == 0) continue;
    yt_pair *b = yt_find(base, p->key);
    if (b && b->value && p->value && b->value->type == YT_MAP && p->value->type == YT_MAP) {
      sl_status s = merge(r, b->value, p->value, NULL);
      if (s) return s;
    } else if (yt_map_set(r->a, base, p->key, p->value)) {
      return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    }
  }
  return SL_OK;
}

/* How deep presets may derive from one another ({preset: NAME} inside a preset or spec file). */
enum { SPEC_DEPTH_MAX = 8 };

static sl_status resolve(reader *r, const char *kind, yt_node *node, yt_node **out, int depth);

/* A spec file or preset that derives from another (a `preset` key of its own): that one under it. */
static sl_status derive(reader *r, const char *kind, yt_node *node, yt_node **out, int depth) {
  if (!*out || (*out)->type != YT_MAP || !yt_find(*out, "preset")) return SL_OK;
  if (depth >= SPEC_DEPTH_MAX)
    return rd_fail(r, node, "%s presets derive from one another more than %d deep (a cycle?)", kind,
                   SPEC_DEPTH_MAX);
  return resolve(r, kind, *out, out, depth + 1);
}

sl_status spec_resolve(reader *r, const char *kind, yt_node *node, yt_node **out) {
  return resolve(r, kind, node, out, 0);
}

static sl_status resolve(reader *r, const char *kind, yt_node *node, yt_node **out, int depth) {
  *out = NULL;
  if (!node) return rd_fail(r, node, "missing");
  if (node->type == YT_MAP) {
    yt_pair *pre = yt_find(node, "preset");
    if (!pre) {
      *out = node;
      return SL_OK;
    }
    /* {preset: NAME-or-PATH, keys...}: the preset with these keys over it */
    rd_mark m = rd_push(r, "preset");
    sl_status s = pre->value && pre->value->type == YT_SCALAR
                      ? resolve(r, kind, pre->value, out, depth + 1)
                      : rd_fail(r, pre->value ? pre->value : node, "expected a preset name or a file path");
    rd_pop(r, m);
    if (!s) s = rd_map(r, *out);
    if (!s) s = merge(r, *out, node, "preset");
    if (s) *out = NULL;
    return s;
  }
  if (node->type != YT_SCALAR || !node->str[0])
    return rd_fail(r, node, "expected a preset name, a file path or an inline map");
  const char *v = node->str;
  sl_status s;
  if (spec_is_path(v)) {
    char path[1024];
    const char *base = node->file;
    if (v[0] != '/' && base && strchr(base, '/') && strncmp(base, "data/", 5) != 0) {
      const char *slash = strrchr(base, '/');
      snprintf(path, sizeof path, "%.*s/%s", (int)(slash - base), base, v);
    } else {
      snprintf(path, sizeof path, "%s", v);
    }
    sl_error e2;
    s = yt_parse_file(r->a, path, out, &e2);
    if (s) {
      if (e2.line == 0 && strstr(e2.message, "cannot open"))
        return rd_fail(r, node, "%s file %s: %s", kind, path, e2.message);
      if (r->err) *r->err = e2;
      return s;
    }
    return derive(r, kind, node, out, depth);
  }
  const char *text = sl_preset_text(kind, v);
  if (!text) {
    char list[400] = "";
    size_t n = sl_preset_count(kind);
    for (size_t i = 0; i < n; i++) {
      size_t l = strlen(list);
      snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", sl_preset_name(kind, i));
    }
    const char *names[256];
    size_t k = 0;
    for (; k < n && k < 256; k++)
      names[k] = sl_preset_name(kind, k);
    const char *meant = io_closest(v, names, k);
    if (meant) return rd_fail(r, node, "unknown %s preset \"%s\" (did you mean \"%s\"?)", kind, v, meant);
    return rd_fail(r, node, "unknown %s preset \"%s\" (known: %s; or give a path)", kind, v, list);
  }
  s = yt_parse(r->a, text, strlen(text), preset_path(kind, v), out, r->err);
  return s ? s : derive(r, kind, node, out, depth);
}
