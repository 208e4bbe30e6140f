/* util.c — error lines, option parsing and the output buffer of the CLI. */
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

void bprintf(cli_buf *b, const char *fmt, ...) {
  if (b->oom) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  size_t need = b->len + (size_t)n + 1;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p, b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
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

int cli_emit(cli_buf *b) {
  int oom = b->oom;
  int bad = !oom && b->len && fwrite(b->s, 1, b->len, stdout) != b->len;
  if (!oom) bad |= fflush(stdout) != 0;
  free(b->s);
  memset(b, 0, sizeof *b);
  if (oom) return cli_internal("out of memory");
  if (bad) {
    fprintf(stderr, "silica: cannot write the output\n");
    return EXIT_INTERNAL;
  }
  return EXIT_OK;
}
