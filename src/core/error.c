/* error.c — filling and formatting sl_error; names of the number formats. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

const char *const sl_dtype_names[] = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"};
const double sl_dtype_bytes[] = {4, 4, 2, 2, 1, 1, 0.5, 0.5};
_Static_assert(SL_ARRAY_LEN(sl_dtype_names) == SL_DTYPE_COUNT, "a name for every sl_dtype");
_Static_assert(SL_ARRAY_LEN(sl_dtype_bytes) == SL_DTYPE_COUNT, "a size for every sl_dtype");

int dtype_from_name(const char *s) {
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    if (strcmp(s, sl_dtype_names[i]) == 0) return i;
  return -1;
}

sl_status err_set(sl_error *err, sl_status code, const char *file, int line, const char *key, const char *fmt,
                  ...) {
  if (!err) return code;
  err->code = code;
  err->line = line;
  snprintf(err->file, sizeof err->file, "%s", file ? file : "");
  snprintf(err->key, sizeof err->key, "%s", key ? key : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

void sl_error_format(const sl_error *err, char *buf, size_t size) {
  if (!buf || size == 0) return;
  if (!err) {
    snprintf(buf, size, "unknown error");
    return;
  }
  char loc[300] = "";
  if (err->file[0] && err->line > 0)
    snprintf(loc, sizeof loc, "%s:%d: ", err->file, err->line);
  else if (err->file[0])
    snprintf(loc, sizeof loc, "%s: ", err->file);
  snprintf(buf, size, "%s%s%s%s", loc, err->key, err->key[0] ? ": " : "", err->message);
}
