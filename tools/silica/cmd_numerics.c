/* cmd_numerics.c — `silica numerics FILE [--json] [--csv]`: trains the file's small model once per
 * number-format run (sl_numerics_run, docs/numerics.md) and prints the loss curves, the final
 * losses and their gap to fp32, and the chip's time and energy for the run. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char CLI_HELP_NUMERICS[] =
    "usage: silica numerics FILE [--json | --csv]\n"
    "\n"
    "Trains a small byte-level Llama-style transformer (at most 2M parameters, 512 tokens per step)\n"
    "on a text corpus (default: Debian's fortunes in /usr/share/games/fortunes), or a small DLRM on\n"
    "synthetic clicks (model: {dlrm: ...}), for the file's steps, from one seed, once per run:\n"
    "matrix-product inputs in the run's format (fp32, tf32, bf16, fp16, e4m3, e5m2, int8, mxfp8,\n"
    "mxfp6, mxfp4, ...), accumulation in its format in K-chunks.  File format: docs/numerics.md.\n"
    "\n"
    "  (default)   final training and held-out losses, gaps to the fp32 run (and in seed standard\n"
    "              deviations with train.noise_seeds), loss tables every tenth of the run, and what\n"
    "              the file's chip would take for the run (performance model)\n"
    "  --json      one JSON object: runs (name, formats, loss curve, final loss, gap), chip estimate\n"
    "  --csv       the loss curves: step, then one column per run (with a header line)\n";

int cmd_numerics(int argc, char **argv) {
  const char *file = NULL;
  int json = 0, csv = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) return cli_print_help("numerics");
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (strcmp(argv[i], "--csv") == 0)
      csv = 1;
    else if (argv[i][0] == '-')
      return cli_usage("numerics", "unknown option \"%s\"", argv[i]);
    else if (!file)
      file = argv[i];
    else
      return cli_usage("numerics", "expected one file");
  }
  if (!file) return cli_usage("numerics", "missing FILE");
  if (json && csv) return cli_usage("numerics", "--json and --csv exclude each other");
  char *text = NULL, *note = NULL;
  sl_error err;
  sl_status s = sl_numerics_run(file,
                                json  ? SL_FORMAT_JSON
                                : csv ? SL_FORMAT_CSV
                                      : SL_FORMAT_TEXT,
                                &text, &note, &err);
  if (s) return cli_fail(&err, s);
  if (note) fprintf(stderr, "silica: numerics: %s\n", note);
  sl_free(note);
  return cli_print(text, NULL);
}
