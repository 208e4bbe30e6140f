/* error.c — filling and formatting sl_error; names of the number formats. */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

const char *const sl_dtype_names[] = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"};
/* Storage bytes per value.  The 4-bit formats carry their block scales: int4 as W4A16 kernels hold
 * it (AWQ, GPTQ: one fp16 scale per group of 128 values, 0.5 + 2/128), fp4 as NVFP4 (Blackwell's
 * native 4-bit format: one E4M3 scale per block of 16 values, 0.5 + 1/16; MXFP4's E8M0 scale per
 * 32 would be 0.5 + 1/32).  The 8-bit formats' per-tensor or per-channel scales are negligible. */
const double sl_dtype_bytes[] = {4, 4, 2, 2, 1, 1, 0.5 + 2.0 / 128, 0.5 + 1.0 / 16};
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
