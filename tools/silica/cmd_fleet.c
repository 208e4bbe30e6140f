/* cmd_fleet.c — `silica fleet FILE`: the mixed-fleet search of a serving scenario (docs/serving.md
 * "Mixed fleets"); the search and the report are sl_fleet's. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_fleet(int argc, char **argv) {
  const char *file = NULL;
  const char **sets = calloc((size_t)argc + 1, sizeof *sets);
  if (!sets) return cli_internal("out of memory");
  size_t n_sets = 0;
  int json = 0, brute = 0, rc = -1;
  for (int i = 1; i < argc && rc < 0; i++) {
    const char *a = argv[i], *v = NULL;
    int r;
    if (cli_is_help(a)) {
      rc = cli_print_help("fleet");
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--brute-force") == 0) {
      brute = 1;
    } else if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
      if (r < 0) rc = cli_usage("fleet", "--set needs a value");
      else if (!strchr(v, '=')) rc = cli_usage("fleet", "--set expects KEY=VALUE, got \"%s\"", v);
      else sets[n_sets++] = v;
    } else if (a[0] == '-' && a[1]) {
      rc = cli_usage("fleet", "unknown option \"%s\"", a);
    } else if (file) {
      rc = cli_usage("fleet", "expected one scenario file, got \"%s\" too", a);
    } else {
      file = a;
    }
  }
  if (rc < 0 && !file) rc = cli_usage("fleet", "missing FILE (a serving scenario with a serve.fleet section)");
  if (rc < 0) {
    sl_fleet_params p;
    memset(&p, 0, sizeof p);
    p.file = file, p.sets = sets, p.n_sets = n_sets, p.brute = brute;
    p.format = json ? SL_FORMAT_JSON : SL_FORMAT_TEXT;
    char *text = NULL;
    sl_error err;
    sl_status s = sl_fleet(&p, &text, &err);
    rc = s ? cli_fail(&err, s) : cli_print(text, NULL);
  }
  free(sets);
  return rc;
}
