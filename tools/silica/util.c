/* util.c — error lines, option parsing, the output buffer and number formatting of the CLI. */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const sl_error *err, sl_status s) {
  char line[1024];
  sl_error_format(err, line, sizeof line);
  fprintf(stderr, "silica: %s\n", line);
  return s == SL_ERR_INTERNAL ? EXIT_INTERNAL : EXIT_INPUT;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (cmd)
    fprintf(stderr, "silica: %s: %s (see silica help %s)\n", cmd, msg, cmd);
  else
    fprintf(stderr, "silica: %s (see silica help)\n", msg);
  return EXIT_INPUT;
}

int cli_internal(const char *what) {
  fprintf(stderr, "silica: internal error: %s\n", what);
  return EXIT_INTERNAL;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0) return 0;
  if (a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if (a[n] != 0) return 0;
  if (*i + 1 >= argc) return -1;
  *val = argv[++*i];
  return 1;
}

int cli_number(const char *s, double *out) {
  char *end = NULL;
  if (!s || !*s) return 0;
  double v = strtod(s, &end);
  if (*end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

void bprintf(jbuf *b, const char *fmt, ...) {
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

void cli_put_json(jbuf *b, char *json) {
  if (json) {
    jb_raw(b, json);
    jb_raw(b, "\n");
  } else {
    b->oom = 1;
  }
  free(json);
}

int cli_print(char *s, const char *end) {
  if (!s) return cli_internal("out of memory");
  size_t n = strlen(s);
  int bad = n && fwrite(s, 1, n, stdout) != n;
  if (end) bad |= fputs(end, stdout) < 0;
  bad |= fflush(stdout) != 0;
  sl_free(s);
  if (bad) {
    fprintf(stderr, "silica: cannot write the output\n");
    return EXIT_INTERNAL;
  }
  return EXIT_OK;
}

int cli_emit(jbuf *b) {
  if (b->oom) {
    jb_free(b);
    return cli_internal("out of memory");
  }
  int bad = b->len && fwrite(b->s, 1, b->len, stdout) != b->len;
  bad |= fflush(stdout) != 0;
  jb_free(b);
  if (bad) {
    fprintf(stderr, "silica: cannot write the output\n");
    return EXIT_INTERNAL;
  }
  return EXIT_OK;
}

void fmt_num(double v, char *buf, size_t size) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (fabs(v) >= 1e4 && fabs(v) < 1e15) /* no exponent for the throughputs people read */
    snprintf(buf, size, "%.0f", v);
  else
    snprintf(buf, size, "%.4g", v);
}

void fmt_time(double s, char *buf, size_t size) {
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

void fmt_gib(double bytes, char *buf, size_t size) {
  if (isnan(bytes))
    snprintf(buf, size, "-");
  else if (bytes >= 1073741824.0 || bytes == 0)
    snprintf(buf, size, "%.2f GiB", bytes / 1073741824.0);
  else if (bytes >= 1048576.0)
    snprintf(buf, size, "%.2f MiB", bytes / 1048576.0);
  else
    snprintf(buf, size, "%.1f KiB", bytes / 1024.0);
}
