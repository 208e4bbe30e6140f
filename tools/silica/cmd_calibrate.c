/* cmd_calibrate.c — `silica calibrate CASES... --chip NAME [-o FILE] [--json]`: fit a chip's
 * efficiency figures to kernel-level measured cases (src/sim/calibrate.c) and write them as a
 * chip-spec fragment. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_calibrate(int argc, char **argv) {
  const char *chip = NULL, *out = NULL;
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
    else if ((r = cli_opt(argc, argv, &i, "-o", &v)) > 0)
      out = v;
    else if (r < 0)
      return cli_usage("calibrate", "-o needs a file name");
    else if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] == '-')
      return cli_usage("calibrate", "unknown option \"%s\"", argv[i]);
    else if (n_files < SL_ARRAY_LEN(files))
      files[n_files++] = argv[i];
    else
      return cli_usage("calibrate", "at most %zu case files", SL_ARRAY_LEN(files));
  }
  if (!chip) return cli_usage("calibrate", "missing --chip NAME");
  if (!n_files) return cli_usage("calibrate", "missing case files");
  arena a;
  ar_init(&a);
  sl_cal_case *all = NULL;
  size_t n_all = 0, cap = 0;
  sl_error err;
  memset(&err, 0, sizeof err);
  sl_status s = SL_OK;
  for (size_t f = 0; f < n_files && !s; f++) {
    sl_cal_case *cs = NULL;
    size_t n = 0;
    s = val_load_cases(files[f], chip, &a, &cs, &n, &err);
    if (s) break;
    if (n_all + n > cap) {
      cap = (n_all + n) * 2;
      sl_cal_case *p = realloc(all, cap * sizeof *p);
      if (!p) {
        s = err_set(&err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
      all = p;
    }
    memcpy(all + n_all, cs, n * sizeof *cs);
    n_all += n;
  }
  sl_calibration cal;
  if (!s) s = calibrate_fit(all, n_all, &cal, &err);
  char *frag = s ? NULL : calibrate_fragment(&cal, chip, files, n_files);
  if (!s && !frag) s = err_set(&err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < n_all; i++)
    sl_scenario_free(all[i].sc);
  free(all);
  ar_free(&a);
  if (s) {
    free(frag);
    return cli_fail(&err, s);
  }
  if (out) {
    FILE *fp = fopen(out, "w");
    if (!fp || fputs(frag, fp) < 0 || fclose(fp) != 0) {
      free(frag);
      fprintf(stderr, "silica: calibrate: cannot write %s\n", out);
      return EXIT_INPUT;
    }
  }
  jbuf b;
  jb_init(&b);
  if (json) {
    jb_obj_begin(&b, NULL);
    jb_str(&b, "chip", chip);
    jb_num(&b, "cases", (double)(cal.n_train + cal.n_test));
    jb_num(&b, "fitted_on", (double)cal.n_train);
    jb_num(&b, "held_out", (double)cal.n_test);
    jb_obj_begin(&b, "mape");
    jb_num(&b, "fit_before", cal.mape_train_before);
    jb_num(&b, "fit_after", cal.mape_train_after);
    jb_num(&b, "held_out_before", cal.mape_test_before);
    jb_num(&b, "held_out_after", cal.mape_test_after);
    jb_num(&b, "all_before", cal.mape_all_before);
    jb_num(&b, "all_after", cal.mape_all_after);
    jb_obj_end(&b);
    jb_arr_begin(&b, "figures");
    for (size_t i = 0; i < cal.n_params; i++) {
      jb_obj_begin(&b, NULL);
      jb_str(&b, "key", cal.params[i].key);
      jb_num(&b, "before", cal.params[i].before);
      jb_num(&b, "after", cal.params[i].after);
      jb_num(&b, "cases", (double)cal.params[i].n_cases);
      jb_obj_end(&b);
    }
    jb_arr_end(&b);
    jb_str(&b, "fragment", frag);
    jb_obj_end(&b);
    jb_raw(&b, "\n");
  } else {
    bprintf(&b, "calibrating %s on %zu cases (fitted on %zu, %zu held out)\n\n", chip,
            cal.n_train + cal.n_test, cal.n_train, cal.n_test);
    bprintf(&b, "  %-30s %12s %12s %6s\n", "figure", "before", "after", "cases");
    for (size_t i = 0; i < cal.n_params; i++)
      bprintf(&b, "  %-30s %12.4g %12.4g %6zu\n", cal.params[i].key, cal.params[i].before,
              cal.params[i].after, cal.params[i].n_cases);
    bprintf(&b, "\n  %-30s %11.2f%% %11.2f%%\n", "MAPE, fitted half", 100 * cal.mape_train_before,
            100 * cal.mape_train_after);
    bprintf(&b, "  %-30s %11.2f%% %11.2f%%\n", "MAPE, held-out half", 100 * cal.mape_test_before,
            100 * cal.mape_test_after);
    bprintf(&b, "  %-30s %11.2f%% %11.2f%%\n", "MAPE, all", 100 * cal.mape_all_before,
            100 * cal.mape_all_after);
    if (out)
      bprintf(&b, "\nchip-spec fragment written to %s\n", out);
    else
      bprintf(&b, "\n%s", frag);
  }
  free(frag);
  return cli_emit(&b);
}
