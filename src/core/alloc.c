/* alloc.c — the library's allocation functions with a fault-injection hook for tests. */
#define SL_ALLOC_IMPL
#include "core/core.h"

static long fail_at = 0; /* 0: never */
static long count = 0;

static int should_fail(void) {
  count++;
  return fail_at > 0 && count >= fail_at;
}

void *sl_malloc(size_t n) {
  return should_fail() ? NULL : malloc(n);
}
void *sl_calloc(size_t n, size_t size) {
  return should_fail() ? NULL : calloc(n, size);
}
void *sl_realloc(void *p, size_t n) {
  return should_fail() ? NULL : realloc(p, n);
}

void sl_alloc_fail_after(long n) {
  fail_at = n > 0 ? n : 0;
  count = 0;
}

long sl_alloc_count(void) {
  return count;
}
