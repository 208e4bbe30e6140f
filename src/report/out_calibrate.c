/* out_calibrate.c — fitting a chip's efficiency figures to kernel-level measured cases
 * (sim/calibrate.c) and the report `silica calibrate` prints: the figures before and after and the
 * errors, as text or JSON, with the fitted figures as a chip-spec fragment (include/silica.h). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

sl_status sl_calibrate(const char *chip, const char *const *files, size_t n_files, sl_format format,
                       const char *fragment_path, char **report, char **fragment, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!report || !fragment)
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_calibrate: report or fragment is NULL");
  *report = *fragment = NULL;
  if (!chip || !*chip) return err_set(err, SL_ERR_INPUT, "", 0, "", "calibrate: no chip given");
  if (!files || !n_files) return err_set(err, SL_ERR_INPUT, "", 0, "", "calibrate: no case files given");
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "calibrate: format must be text or JSON");
  for (size_t i = 0; i < n_files; i++)
    if (!files[i]) return err_set(err, SL_ERR_INPUT, "", 0, "", "calibrate: case file %zu is NULL", i);
  arena a;
  ar_init(&a);
  sl_cal_case *all = NULL;
  size_t n_all = 0, cap = 0;
  sl_status s = SL_OK;
  for (size_t f = 0; f < n_files && !s; f++) {
    sl_cal_case *cs = NULL;
    size_t n = 0;
    s = val_load_cases(files[f], chip, &a, &cs, &n, err);
    if (s) break;
    if (n_all + n > cap) {
      cap = (n_all + n) * 2;
      sl_cal_case *p = realloc(all, cap * sizeof *p);
      if (!p) {
        for (size_t i = 0; i < n; i++) /* not yet in `all`: freed here */
          sl_scenario_free(cs[i].sc);
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
      all = p;
    }
    memcpy(all + n_all, cs, n * sizeof *cs);
    n_all += n;
  }
  sl_calibration cal;
  if (!s) s = calibrate_fit(all, n_all, &cal, err);
  char *frag = s ? NULL : calibrate_fragment(&cal, chip, files, n_files);
  if (!s && !frag) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < n_all; i++)
    sl_scenario_free(all[i].sc);
  free(all);
  ar_free(&a);
  if (s) {
    free(frag);
    return s;
  }
  jbuf b;
  jb_init(&b);
  if (format == SL_FORMAT_JSON) {
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
    rep_printf(&b, "calibrating %s on %zu cases (fitted on %zu, %zu held out)\n\n", chip,
               cal.n_train + cal.n_test, cal.n_train, cal.n_test);
    rep_printf(&b, "  %-30s %12s %12s %6s\n", "figure", "before", "after", "cases");
    for (size_t i = 0; i < cal.n_params; i++)
      rep_printf(&b, "  %-30s %12.4g %12.4g %6zu\n", cal.params[i].key, cal.params[i].before,
                 cal.params[i].after, cal.params[i].n_cases);
    rep_printf(&b, "\n  %-30s %11.2f%% %11.2f%%\n", "MAPE, fitted half", 100 * cal.mape_train_before,
               100 * cal.mape_train_after);
    rep_printf(&b, "  %-30s %11.2f%% %11.2f%%\n", "MAPE, held-out half", 100 * cal.mape_test_before,
               100 * cal.mape_test_after);
    rep_printf(&b, "  %-30s %11.2f%% %11.2f%%\n", "MAPE, all", 100 * cal.mape_all_before,
               100 * cal.mape_all_after);
    if (fragment_path)
      rep_printf(&b, "\nchip-spec fragment written to %s\n", fragment_path);
    else
      rep_printf(&b, "\n%s", frag);
  }
  s = rep_take(&b, report, err);
  if (s)
    free(frag);
  else
    *fragment = frag;
  return s;
}
