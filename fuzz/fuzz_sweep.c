/* fuzz_sweep.c — the sweep file reader (src/dse/spec.c) on arbitrary YAML; a sweep that loads has
 * its first and last design points applied to the base chip (the derived figures re-derived). */
#include "fuzz_common.h"

#include "dse/dse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  sl_error err;
  dse_sweep *sw = NULL;
  sl_status s = dse_sweep_load(NULL, text, &sw, &err);
  fuzz_check(s);
  if (!s) {
    int first[DSE_MAX_PARAMS] = {0}, last[DSE_MAX_PARAMS] = {0};
    for (int j = 0; j < sw->n_params; j++)
      last[j] = sw->params[j].n - 1;
    sl_chip c;
    double up = 0, out = 0;
    dse_apply(sw, first, &c, &up, &out);
    dse_apply(sw, last, &c, &up, &out);
    dse_sweep_free(sw);
  }
  free(text);
  return 0;
}
