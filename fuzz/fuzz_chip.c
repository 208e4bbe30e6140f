/* fuzz_chip.c — the chip, stack and model spec readers on arbitrary YAML (sl_spec_check). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  static const char *const kinds[] = {"chip", "stack", "model"};
  for (int kind = 0; kind < 3; kind++) {
    sl_error err;
    fuzz_check(sl_spec_check(kinds[kind], text, size, "fuzz.yaml", &err));
  }
  free(text);
  return 0;
}
