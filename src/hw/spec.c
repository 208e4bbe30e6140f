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

sl_status spec_resolve(reader *r, const char *kind, yt_node *node, yt_node **out) {
  *out = NULL;
  if (!node) return rd_fail(r, node, "missing");
  if (node->type == YT_MAP) {
    *out = node;
    return SL_OK;
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
    return SL_OK;
  }
  const char *text = sl_preset_text(kind, v);
  if (!text) {
    char list[400] = "";
    size_t n = sl_preset_count(kind);
    for (size_t i = 0; i < n; i++) {
      size_t l = strlen(list);
      snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", sl_preset_name(kind, i));
    }
    return rd_fail(r, node, "unknown %s preset \"%s\" (known: %s; or give a path)", kind, v, list);
  }
  return yt_parse(r->a, text, strlen(text), preset_path(kind, v), out, r->err);
}
