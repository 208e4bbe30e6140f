/* fuzz_report.c — the HTML report writer (src/io/report.c) on arbitrary input: kind detection, the
 * splitting of JSON lines, every report kind's reading of fields that may be missing, of the wrong
 * type or absurd.  Any status but OK, INPUT and UNSUPPORTED (and any crash) is a bug. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  (void)sl_report_kind((const char *)data, size);
  char *html = NULL;
  sl_error err;
  sl_status s = sl_report_html((const char *)data, size, "fuzz.json", &html, &err);
  fuzz_check(s);
  if (s == SL_OK && (!html || strncmp(html, "<!DOCTYPE html>", 15) != 0)) abort();
  sl_free(html);
  return 0;
}
