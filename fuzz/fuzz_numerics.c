/* fuzz_numerics.c — the numerics file reader (docs/numerics.md) on arbitrary YAML through
 * sl_numerics_check, which also checks that a file that loads has at most 2M parameters, 512 tokens
 * a step and runs in formats the executor handles (an internal error otherwise, which aborts here).
 * (Running the experiment is not fuzzed: it trains for seconds to minutes.) */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  sl_error err;
  fuzz_check(sl_numerics_check(text, NULL, &err));
  free(text);
  return 0;
}
