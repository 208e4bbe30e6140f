/* units.c — numbers, times, bytes and fractions as people read them ("12.5 ms", "1.20 GiB", "42.0%"),
 * for the text of reports.  NaN is written "-" everywhere, so that a missing figure reads as one. */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void unit_num(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (fabs(v) >= 1e4 && fabs(v) < 1e15)
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%.4g", v);
}

time_unit unit_for_time(double max_s) {
  if (!(max_s < 1)) return (time_unit){1, "s"};
  if (max_s >= 1e-3) return (time_unit){1e3, "ms"};
  if (max_s >= 1e-6) return (time_unit){1e6, "\xc2\xb5s"};
  return (time_unit){1e9, "ns"};
}

void unit_time(double s, char *buf, size_t size) {
  if (isnan(s)) {
    snprintf(buf, size, "-");
    return;
  }
  time_unit u = unit_for_time(fabs(s));
  snprintf(buf, size, "%.4g %s", s * u.per_s, s == 0 ? "s" : u.name);
}

void unit_bytes(double b, char *buf, size_t size) {
  if (isnan(b))
    snprintf(buf, size, "-");
  else if (b >= 1073741824.0 || b == 0)
    snprintf(buf, size, "%.2f GiB", b / 1073741824.0);
  else if (b >= 1048576.0)
    snprintf(buf, size, "%.2f MiB", b / 1048576.0);
  else
    snprintf(buf, size, "%.1f KiB", b / 1024.0);
}

void unit_usd(double v, char *buf, size_t size) {
  if (isnan(v) || size < 2) {
    snprintf(buf, size, "-");
    return;
  }
  double a = fabs(v);
  const char *sign = v < 0 ? "-" : "";
  if (a >= 999.5 && a < 1e18) { /* whole dollars, thousands separated: $14,510 */
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", a);
    size_t n = strlen(digits), o = 0;
    char out[48];
    for (size_t i = 0; i < n; i++) {
      if (i && (n - i) % 3 == 0) out[o++] = ',';
      out[o++] = digits[i];
    }
    out[o] = 0;
    snprintf(buf, size, "%s$%s", sign, out);
  } else if (a >= 1 || a == 0) {
    snprintf(buf, size, "%s$%.4g", sign, a);
  } else { /* four significant digits without an exponent */
    int dec = 3 - (int)floor(log10(a));
    snprintf(buf, size, "%s$%.*f", sign, dec > 12 ? 12 : dec, a);
  }
}

void unit_pct(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%.1f%%", 100 * v);
}
