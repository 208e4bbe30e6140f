/* core.h — the lowest stage: allocation (with fault injection), arenas, errors, number
 * formats, hashing.  Includes nothing of libsilica but the public header. */
#ifndef SL_CORE_H
#define SL_CORE_H

#include "silica.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Returns the status of x from the calling function when it is not SL_OK. */
#define SL_TRY(x)                                                                                            \
  do {                                                                                                       \
    sl_status sl_try_ = (x);                                                                                 \
    if (sl_try_) return sl_try_;                                                                             \
  } while (0)

/* ---- core: allocation ----------------------------------------------------------------------------
 * Every allocation of the library goes through these (the macros below), so that tests can make
 * the Nth one fail (fault injection, tests/core/test_faults.c) and check that every error path returns
 * an error and frees what it holds.  libyaml's own allocations are not covered. */
void *sl_malloc(size_t n);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t n);
/* Test hooks (tests/core/test_faults.c).  The counter and the armed failure are per thread
 * (_Thread_local): they count and fail only the calling thread's allocations, so threads cannot
 * race them, and a failure armed on one thread never reaches another (sweep --jobs workers).
 *   sl_alloc_fail_after(n): persistent — the n-th allocation from now (1 = the next) and every
 *     later one fail.  Shows that every error path returns an error and frees what it holds.
 *   sl_alloc_fail_once(n): one-shot — only the n-th allocation from now fails, the others
 *     succeed.  Shows that no failure is swallowed: the caller either returns an error or retries
 *     and produces the same output, which a failure followed by more failures would hide.
 * Either call with n <= 0 disarms; both restart the count.  Nothing is counted before the first
 * call of a hook in the process: until then an allocation reads one global flag, no per-thread
 * state. */
void sl_alloc_fail_after(long n);
void sl_alloc_fail_once(long n);
long sl_alloc_count(void); /* this thread's allocations since the last sl_alloc_fail_after/_once */
/* on: every ar_alloc of this thread also counts as an allocation and fails when its turn comes, not
 * only the blocks the arenas take from sl_malloc (a few large ones), so that the NULL check after
 * each ar_alloc is reached.  Off by default. */
void sl_alloc_hook_arenas(int on);
int sl_alloc_arena_fails(void); /* for ar_alloc: counts one allocation when on; 1: fail it */
#ifndef SL_ALLOC_IMPL
#define malloc(n) sl_malloc(n)
#define calloc(n, s) sl_calloc(n, s)
#define realloc(p, n) sl_realloc(p, n)
#endif

/* ---- core: arena ------------------------------------------------------------------------------
 * A bump allocator made of chained blocks.  Everything a loaded object owns lives in its arena
 * and is freed at once; evaluation scratch uses ar_reset(). */
typedef struct ar_block ar_block;
typedef struct arena {
  ar_block *head;
  size_t used_total;
} arena;

void ar_init(arena *a);
void *ar_alloc(arena *a, size_t size); /* zeroed, 16-byte aligned; NULL when out of memory */
char *ar_strdup(arena *a, const char *s);
char *ar_strndup(arena *a, const char *s, size_t n);
void ar_reset(arena *a); /* keeps the first block for reuse */
void ar_free(arena *a);

/* ---- core: errors ----------------------------------------------------------------------------- */
sl_status err_set(sl_error *err, sl_status code, const char *file, int line, const char *key, const char *fmt,
                  ...) __attribute__((format(printf, 6, 7)));

/* ---- number formats --------------------------------------------------------------------------- */
typedef enum sl_dtype {
  SL_FP32,
  SL_TF32,
  SL_BF16,
  SL_FP16,
  SL_FP8,
  SL_INT8,
  SL_INT4,
  SL_FP4,
  SL_DTYPE_COUNT
} sl_dtype;

extern const char *const sl_dtype_names[SL_DTYPE_COUNT];
extern const double sl_dtype_bytes[SL_DTYPE_COUNT]; /* storage bytes per value, block scales included (int4 0.516, fp4 0.5625) */
int dtype_from_name(const char *s);                 /* -1 when unknown */

void sha256_hex(const void *data, size_t len, char out[65]);

/* ---- core: progress of long work ----------------------------------------------------------------
 * A serving simulation or a numerics run reports how far it is (done of total, with what runs)
 * to the calling thread's hook (sl_progress_set, include/silica.h), which may print a line on a terminal;
 * with no hook nothing happens.  Callers report every so often, not every iteration. */
void core_progress(const char *what, double done, double total);

/* ---- core: a small seedable generator ----------------------------------------------------------
 * splitmix64 (Steele, Lea and Flood 2014): fast, seedable, the same numbers on every machine. */
static inline uint64_t core_rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform in (0, 1), never 0 or 1 */
static inline double core_rng_unit(uint64_t *s) {
  return ((double)(core_rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

#endif /* SL_CORE_H */
