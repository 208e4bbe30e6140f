/* error.c — filling and formatting sl_error; names of the shared enums. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

_Static_assert(SL_DTYPE_COUNT == 8, "update sl_dtype_names");
const char *const sl_dtype_names[SL_DTYPE_COUNT] = {"fp32", "tf32", "bf16", "fp16",
                                                    "fp8",  "int8", "int4", "fp4"};
const double sl_dtype_bytes[SL_DTYPE_COUNT] = {4, 4, 2, 2, 1, 1, 0.5, 0.5};
const char *const sl_task_names[SL_TASK_COUNT + 1] = {"train", "prefill", "decode", "generate",
                                                      "serve", "infer",   NULL};
_Static_assert(SL_PH_COUNT == 6, "update sl_phase_names");
const char *const sl_phase_names[SL_PH_COUNT] = {"forward",       "backward", "optimizer",
                                                 "communication", "prefill",  "decode"};
_Static_assert(SL_CAT_COUNT == 9, "update sl_category_names");
const char *const sl_category_names[SL_CAT_COUNT] = {"gemm",       "attention", "elementwise",
                                                     "norm",       "embedding", "interaction",
                                                     "collective", "optimizer", "other"};
_Static_assert(SL_BOUND_COUNT == 4, "update sl_bound_names");
const char *const sl_bound_names[SL_BOUND_COUNT] = {"compute", "memory", "network", "latency"};
_Static_assert(SL_OPT_COUNT == 8, "update sl_op_type_names");
const char *const sl_op_type_names[SL_OPT_COUNT + 1] = {"gemm",       "attention",  "embedding_bag",
                                                        "all_reduce", "all_gather", "reduce_scatter",
                                                        "all_to_all", "send_recv",  NULL};

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
