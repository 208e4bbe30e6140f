/* text.c — the small pieces every text, CSV and Markdown writer of results shares: printf onto a
 * jbuf, numbers with units, CSV fields, and handing the finished text to the caller. */
#include "report/report.h"

#include <math.h>
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

void rep_fmt_num(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (fabs(v) >= 1e4 && fabs(v) < 1e15) /* no exponent for the throughputs people read */
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%.4g", v);
}

void rep_fmt_time(double s, char *buf, size_t size) {
  static const struct {
    double scale;
    const char *unit;
  } u[] = {{1, "s"}, {1e-3, "ms"}, {1e-6, "\xc2\xb5s"}, {1e-9, "ns"}};
  if (isnan(s)) {
    snprintf(buf, size, "-");
    return;
  }
  size_t i = 0;
  while (i + 1 < SL_ARRAY_LEN(u) && fabs(s) < u[i].scale)
    i++;
  if (s == 0) i = 0;
  snprintf(buf, size, "%.4g %s", s / u[i].scale, u[i].unit);
}

void rep_fmt_gib(double bytes, char *buf, size_t size) {
  if (isnan(bytes))
    snprintf(buf, size, "-");
  else if (bytes >= 1073741824.0 || bytes == 0)
    snprintf(buf, size, "%.2f GiB", bytes / 1073741824.0);
  else if (bytes >= 1048576.0)
    snprintf(buf, size, "%.2f MiB", bytes / 1048576.0);
  else
    snprintf(buf, size, "%.1f KiB", bytes / 1024.0);
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
