/* fuzz_cases.c — validation-case files: read, run (cheap scenarios only run fast anyway: the
 * runner is the same as silica validate's), summarise, JSON (sl_validate). */
#include "fuzz_common.h"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0; /* a file of many expensive cases is slow, not interesting */
  char path[64];
  snprintf(path, sizeof path, "/tmp/silica-fuzz-cases-%d.yaml", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  const char *paths[] = {path};
  char *json = NULL;
  sl_error err;
  sl_status s = sl_validate(paths, 1, "^(gemm|attn|small)", SL_FORMAT_JSON, &json, NULL, &err);
  fuzz_check(s);
  sl_free(json);
  remove(path);
  return 0;
}
