/* fuzz_common.h — shared by the fuzz targets: each file defines LLVMFuzzerTestOneInput over one
 * reader of the public API; built with libFuzzer by `make fuzz`, or with replay.c to replay a corpus
 * in `make test`. */
#ifndef SL_FUZZ_COMMON_H
#define SL_FUZZ_COMMON_H

#include "silica.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (NULL when it holds a NUL byte: YAML text cannot). */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
  if (memchr(data, 0, size)) return NULL;
  char *t = malloc(size + 1);
  if (!t) return NULL;
  memcpy(t, data, size);
  t[size] = 0;
  return t;
}

/* Every status a reader may return on any input: anything else is a bug. */
static inline void fuzz_check(sl_status s) {
  if (s != SL_OK && s != SL_ERR_INPUT && s != SL_ERR_UNSUPPORTED) abort();
}

#endif
