/* fuzz_sweep.c — the sweep file reader (docs/sweep.md) on arbitrary YAML; a sweep that loads has
 * its first and last design points applied to the base chip (the derived figures re-derived). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  sl_error err;
  sl_sweep *sw = NULL;
  sl_status s = sl_sweep_load(NULL, text, &sw, &err);
  fuzz_check(s);
  if (!s && sl_sweep_check_points(sw, &err) != SL_OK) abort();
  sl_sweep_free(sw);
  free(text);
  return 0;
}
