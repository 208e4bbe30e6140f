/* cmd_report.c — `silica report INPUT -o OUT.html`: an HTML report from a JSON output of silica
 * (sl_report_html; docs/reports.md), and the writer behind `silica run --html OUT`. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char CLI_HELP_REPORT[] =
    "usage: silica report INPUT -o OUT.html\n"
    "\n"
    "Writes one self-contained HTML page with interactive charts (Vega-Lite, inlined: it opens offline)\n"
    "from a JSON output of silica; the kind of INPUT is told from its keys (docs/reports.md):\n"
    "  run         silica run --json: time per op and per phase, roofline, memory, energy and power\n"
    "  scaling     several run results (a JSON array of them, or one per line): step time, throughput\n"
    "              and scaling efficiency against the number of chips\n"
    "  validation  silica validate --json: predicted against measured, error per check\n"
    "  compare     silica compare --json: each figure relative to the baseline chip, geometric means\n"
    "  sweep       a silica sweep database (or silica sweep --report DB --json): the Pareto front\n"
    "              beside the base and reference chips, the best design per objective, the front\n"
    "\n"
    "  INPUT           a file, or - for standard input\n"
    "  -o, --output F  the page to write (- for standard output); required\n"
    "\n"
    "example: silica run examples/llama-8b-decode.yaml --json > run.json && silica report run.json -o "
    "run.html\n";

static const size_t MAX_INPUT = 256u << 20;

/* Reads a whole file ("-": stdin) into a malloc'd NUL-terminated buffer. */
static char *read_all(const char *path, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *s = malloc(cap + 1);
  while (s) {
    n += fread(s + n, 1, cap - n, f);
    if (n < cap || n >= MAX_INPUT) break;
    char *t = realloc(s, 2 * cap + 1);
    if (!t) {
      free(s);
      s = NULL;
      break;
    }
    s = t;
    cap *= 2;
  }
  int bad = ferror(f);
  if (f != stdin) fclose(f);
  if (!s || bad) {
    free(s);
    return NULL;
  }
  s[n] = 0;
  *len = n;
  return s;
}

/* Writes data to path ("-": stdout).  Returns an exit code. */
static int write_all(const char *cmd, const char *path, const char *data) {
  size_t n = strlen(data);
  if (strcmp(path, "-") == 0) {
    int bad = n && fwrite(data, 1, n, stdout) != n;
    bad |= fflush(stdout) != 0;
    if (bad) {
      fprintf(stderr, "silica: cannot write the output\n");
      return EXIT_INTERNAL;
    }
    return EXIT_OK;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "silica: %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return EXIT_INPUT;
  }
  int bad = fwrite(data, 1, n, f) != n;
  bad |= fclose(f) != 0;
  if (bad) {
    fprintf(stderr, "silica: %s: cannot write %s\n", cmd, path);
    remove(path);
    return EXIT_INTERNAL;
  }
  return EXIT_OK;
}

int cli_write_report(const char *cmd, const char *json, const char *name, const char *out_path) {
  sl_error err;
  char *html = NULL;
  sl_status s = sl_report_html(json, strlen(json), name, &html, &err);
  if (s) return cli_fail(&err, s);
  int rc = write_all(cmd, out_path, html);
  sl_free(html);
  return rc;
}

int cmd_report(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r;
    if (cli_is_help(a)) return cli_print_help("report");
    if ((r = cli_opt(argc, argv, &i, "-o", &v)) != 0 || (r = cli_opt(argc, argv, &i, "--output", &v)) != 0) {
      if (r < 0 || !*v) return cli_usage("report", "%s needs a file name", a);
      if (out) return cli_usage("report", "more than one output (-o %s, -o %s)", out, v);
      out = v;
    } else if (a[0] == '-' && a[1]) {
      return cli_usage("report", "unknown option %s", a);
    } else {
      if (in) return cli_usage("report", "more than one INPUT (%s, %s)", in, a);
      in = a;
    }
  }
  if (!in)
    return cli_usage(
        "report",
        "give an INPUT (a JSON output of silica run, validate, compare or sweep, or a sweep database)");
  if (!out) return cli_usage("report", "give the page to write with -o OUT.html");
  size_t len = 0;
  char *text = read_all(in, &len);
  if (!text) {
    fprintf(stderr, "silica: report: cannot read %s: %s\n", in, strerror(errno ? errno : EIO));
    return EXIT_INPUT;
  }
  sl_error err;
  char *html = NULL;
  const char *kind = sl_report_kind(text, len);
  if (kind && strcmp(kind, "sweep-db") == 0) { /* a sweep database: its report as JSON first */
    free(text);
    text = NULL;
    if (strcmp(in, "-") == 0) {
      fprintf(stderr, "silica: report: a sweep database on standard input: give its file name\n");
      return EXIT_INPUT;
    }
    sl_status sr = sl_sweep_report(in, 1, &text, &err);
    if (sr) return cli_fail(&err, sr);
    len = strlen(text);
  }
  sl_status s = sl_report_html(text, len, strcmp(in, "-") == 0 ? "<stdin>" : in, &html, &err);
  free(text);
  if (s) return cli_fail(&err, s);
  int rc = write_all("report", out, html);
  sl_free(html);
  return rc;
}
