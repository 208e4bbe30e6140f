/* cmd_calibrate.c — `silica calibrate CASES... --chip NAME [--hold KEYS] [-o FILE] [--json]`: fit a chip's
 * efficiency figures to kernel-level measured cases (sl_calibrate) and write them as a chip-spec
 * fragment. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_calibrate(int argc, char **argv) {
  const char *chip = NULL, *stack = NULL, *out = NULL, *hold = NULL;
  const char *files[64];
  size_t n_files = 0;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r;
    if (cli_is_help(argv[i])) return cli_print_help("calibrate");
    if ((r = cli_opt(argc, argv, &i, "--chip", &v)) > 0)
      chip = v;
    else if (r < 0)
      return cli_usage("calibrate", "--chip needs a chip name or file");
    else if ((r = cli_opt(argc, argv, &i, "--stack", &v)) > 0)
      stack = v;
    else if (r < 0)
      return cli_usage("calibrate", "--stack needs a stack name");
    else if ((r = cli_opt(argc, argv, &i, "--hold", &v)) > 0)
      hold = v;
    else if (r < 0)
      return cli_usage("calibrate", "--hold needs figure keys, comma-separated");
    else if ((r = cli_opt(argc, argv, &i, "-o", &v)) > 0)
      out = v;
    else if (r < 0)
      return cli_usage("calibrate", "-o needs a file name");
    else if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] == '-')
      return cli_usage("calibrate", "unknown option \"%s\"", argv[i]);
    else if (n_files < sizeof files / sizeof files[0])
      files[n_files++] = argv[i];
    else
      return cli_usage("calibrate", "at most %zu case files", sizeof files / sizeof files[0]);
  }
  if (!chip == !stack)
    return cli_usage("calibrate", "give --chip NAME (chip figures) or --stack NAME (stack figures)");
  if (!n_files) return cli_usage("calibrate", "missing case files");
  if (hold && !chip) return cli_usage("calibrate", "--hold holds chip figures: give it with --chip");
  char *report = NULL, *frag = NULL;
  sl_error err;
  sl_format f = json ? SL_FORMAT_JSON : SL_FORMAT_TEXT;
  sl_status s = chip ? sl_calibrate_held(chip, files, n_files, hold, f, out, &report, &frag, &err)
                     : sl_calibrate_stack(stack, files, n_files, f, &report, &frag, &err);
  if (s) return cli_fail(&err, s);
  if (out) {
    FILE *fp = fopen(out, "w");
    if (!fp || fputs(frag, fp) < 0 || fclose(fp) != 0) {
      sl_free(frag);
      sl_free(report);
      fprintf(stderr, "silica: calibrate: cannot write %s\n", out);
      return EXIT_INPUT;
    }
  }
  sl_free(frag);
  return cli_print(report, NULL);
}
