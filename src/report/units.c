/* units.c — numbers, times, bytes and fractions as people read them ("12.5 ms", "1.20 GiB", "42.0%"),
 * for the text of reports.  NaN is written "-" everywhere, so that a missing figure reads as one. */
#include "report/report.h"

#include <math.h>
#include <stdio.h>

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

void unit_pct(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, "%.1f%%", 100 * v);
}
