/* out_text.c — the small pieces the text, CSV and Markdown writers of results (out_*.c) share: printf
 * onto a jbuf, CSV fields, and handing the finished text to the caller.  Numbers with units are
 * units.c's. */
#include "report/report.h"

#include <stdio.h>
#include <string.h>

void rep_printf(jbuf *b, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    jb_raw(b, small);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  jb_raw(b, big);
  free(big);
}

void rep_csv_str(jbuf *b, const char *s, const char *sep) {
  if (!s) s = "";
  if (strpbrk(s, ",\"\n\r")) {
    char c[2] = {0, 0};
    jb_raw(b, "\"");
    for (const char *p = s; *p; p++) {
      c[0] = *p;
      jb_raw(b, *p == '"' ? "\"\"" : c);
    }
    jb_raw(b, "\"");
  } else {
    jb_raw(b, s);
  }
  jb_raw(b, sep);
}

void rep_csv_num(jbuf *b, double v, const char *sep) {
  char s[32];
  jb_format_number(v, s);
  jb_raw(b, strcmp(s, "null") == 0 ? "" : s);
  jb_raw(b, sep);
}

sl_status rep_take(jbuf *b, char **out, sl_error *err) {
  if (b->oom) {
    jb_free(b);
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  if (!b->s) { /* nothing written: an empty string, not NULL */
    jb_raw(b, "");
    if (b->oom || !b->s) {
      jb_free(b);
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    }
  }
  *out = b->s;
  return SL_OK;
}
