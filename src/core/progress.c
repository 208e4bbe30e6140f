/* progress.c — the calling thread's hook for progress of long work (core.h). */
#include "core/core.h"

static _Thread_local sl_progress_fn hook;
static _Thread_local void *hook_ud;

void sl_progress_set(sl_progress_fn fn, void *ud) {
  hook = fn, hook_ud = ud;
}

void core_progress(const char *what, double done, double total) {
  if (hook) hook(hook_ud, what, done, total);
}
