/* presets.c — lookup in the table of presets compiled in from data/ (see tools/embed). */
#include "hw/hw.h"

#include <string.h>

typedef struct {
  const char *kind, *name, *path, *text;
} sl_preset_file;
extern const sl_preset_file sl_preset_files[];

static const sl_preset_file *find(const char *kind, const char *name) {
  for (const sl_preset_file *p = sl_preset_files; p->kind; p++)
    if (strcmp(p->kind, kind) == 0 && strcmp(p->name, name) == 0) return p;
  return NULL;
}

size_t sl_preset_count(const char *kind) {
  size_t n = 0;
  for (const sl_preset_file *p = sl_preset_files; p->kind; p++)
    n += strcmp(p->kind, kind) == 0;
  return n;
}

const char *sl_preset_name(const char *kind, size_t i) {
  for (const sl_preset_file *p = sl_preset_files; p->kind; p++)
    if (strcmp(p->kind, kind) == 0 && i-- == 0) return p->name;
  return NULL;
}

const char *sl_preset_text(const char *kind, const char *name) {
  const sl_preset_file *p = find(kind, name);
  return p ? p->text : NULL;
}

const char *preset_path(const char *kind, const char *name) {
  const sl_preset_file *p = find(kind, name);
  return p ? p->path : NULL;
}
