/* cmd_trace.c — `silica trace [FILE] [flags] [--set KEY=VALUE]... [-o OUT]`: the requests a serving
 * scenario simulates, as a trace (CSV) to replay with serve.trace (docs/serving.md "Traffic"). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_trace(int argc, char **argv) {
  const char *outp = NULL;
  char **av = calloc((size_t)argc + 1, sizeof *av);
  if (!av) return cli_internal("out of memory");
  int ac = 0;
  for (int i = 0; i < argc; i++) {
    const char *v = NULL;
    int r = i > 0 ? cli_opt(argc, argv, &i, "-o", &v) : 0;
    if (r < 0 || (r > 0 && !*v)) {
      free(av);
      return cli_usage("trace", "-o needs a file name");
    }
    if (r > 0) {
      outp = v;
      continue;
    }
    av[ac++] = argv[i];
  }
  sl_scenario *sc = NULL;
  int rc = cli_load_scenario("trace", ac, av, &sc);
  free(av);
  if (rc >= 0) return rc;
  sl_error err;
  char *text = NULL;
  sl_status s = sl_scenario_trace(sc, &text, &err);
  sl_scenario_free(sc);
  if (s) return cli_fail(&err, s);
  if (!outp || strcmp(outp, "-") == 0) return cli_print(text, NULL);
  FILE *f = fopen(outp, "wb");
  if (!f) {
    sl_free(text);
    return cli_usage("trace", "cannot write %s", outp);
  }
  size_t len = strlen(text);
  int bad = fwrite(text, 1, len, f) != len;
  bad |= fclose(f) != 0;
  sl_free(text);
  return bad ? cli_internal("write error") : EXIT_OK;
}
