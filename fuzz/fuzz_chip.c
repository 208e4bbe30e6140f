/* fuzz_chip.c — the chip, stack and model spec readers on arbitrary YAML. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  for (int kind = 0; kind < 3; kind++) {
    arena a;
    ar_init(&a);
    sl_error err;
    yt_node *t = NULL;
    sl_status s = yt_parse(&a, text, size, "fuzz.yaml", &t, &err);
    fuzz_check(s);
    if (!s) {
      reader r = {&err, &a, ""};
      sl_chip c;
      sl_stack st;
      sl_model m;
      s = kind == 0   ? chip_from_node(&r, t, &c)
          : kind == 1 ? stack_from_node(&r, t, &st)
                      : model_from_node(&r, t, &m);
      fuzz_check(s);
      if (!s && kind == 2) (void)model_params(&m);
    }
    ar_free(&a);
  }
  free(text);
  return 0;
}
