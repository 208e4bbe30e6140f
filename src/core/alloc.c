/* alloc.c — the library's allocation functions with a fault-injection hook for tests.
 *
 * The hook's state is per thread: a test that injects a failure on its own thread never sees the
 * allocations of other threads (silica sweep --jobs workers), and they never see its failure.
 * Until a test first arms the hook, an allocation reads one global flag and no thread-local
 * state (which costs a call in a shared library). */
#define SL_ALLOC_IMPL
#include "core/core.h"

#include <stdatomic.h>

static atomic_int hooked = 0;           /* some thread has called a hook: count from now on */
static _Thread_local long fail_at = 0;  /* 0: never */
static _Thread_local int fail_once = 0; /* only allocation fail_at fails, not the later ones */
static _Thread_local long count = 0;
static _Thread_local int arenas = 0; /* every ar_alloc counts (and may fail) too */

static int should_fail(void) {
  if (!atomic_load_explicit(&hooked, memory_order_relaxed)) return 0;
  count++;
  if (fail_at <= 0) return 0;
  return fail_once ? count == fail_at : count >= fail_at;
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

static void arm(long n, int once) {
  atomic_store_explicit(&hooked, 1, memory_order_relaxed);
  fail_at = n > 0 ? n : 0;
  fail_once = once;
  count = 0;
}

void sl_alloc_fail_after(long n) {
  arm(n, 0);
}

void sl_alloc_fail_once(long n) {
  arm(n, 1);
}

void sl_alloc_hook_arenas(int on) {
  atomic_store_explicit(&hooked, 1, memory_order_relaxed);
  arenas = on;
}

int sl_alloc_arena_fails(void) {
  return atomic_load_explicit(&hooked, memory_order_relaxed) && arenas && should_fail();
}

long sl_alloc_count(void) {
  return count;
}
