/* out_calibrate.c — fitting a chip's efficiency figures to kernel-level measured cases
 * (sim/calibrate.c) and the report `silica calibrate` prints: the figures before and after and the
 * errors, as text or JSON, with the fitted figures as a chip-spec fragment (include/silica.h). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

sl_status sl_calibrate(const char *chip, const char *const *files, size_t n_files, sl_format format,
                       const char *fragment_path, char **report, char **fragment, sl_error *err) {
  return sl_calibrate_held(chip, files, n_files, NULL, format, fragment_path, report, fragment, err);
}

sl_status sl_calibrate_held(const char *chip, const char *const *files, size_t n_files, const char *hold,
                            sl_format format, const char *fragment_path, char **report, char **fragment,
                            sl_error *err) {
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
  if (!s && n_all < 2)
    s = err_set(err, SL_ERR_INPUT, "<command line>", 0, "--chip",
                "calibration needs at least 2 use: calibrate cases with step_time_s measured on chip \"%s\" "
                "(found %zu)",
                chip, n_all);
  if (!s) s = calibrate_fit(all, n_all, hold, &cal, err);
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
    jb_str(&b, "held", cal.held);
    jb_str(&b, "fragment", frag);
    jb_obj_end(&b);
    jb_raw(&b, "\n");
  } else {
    rep_printf(&b, "calibrating %s on %zu cases (fitted on %zu, %zu held out)\n\n", chip,
               cal.n_train + cal.n_test, cal.n_train, cal.n_test);
    int w = 30; /* the figure column: as wide as its longest key */
    for (size_t i = 0; i < cal.n_params; i++)
      if ((int)strlen(cal.params[i].key) > w) w = (int)strlen(cal.params[i].key);
    rep_printf(&b, "  %-*s %12s %12s %6s\n", w, "figure", "before", "after", "cases");
    for (size_t i = 0; i < cal.n_params; i++)
      rep_printf(&b, "  %-*s %12.4g %12.4g %6zu\n", w, cal.params[i].key, cal.params[i].before,
                 cal.params[i].after, cal.params[i].n_cases);
    rep_printf(&b, "\n  %-*s %11.2f%% %11.2f%%\n", w, "MAPE, fitted half", 100 * cal.mape_train_before,
               100 * cal.mape_train_after);
    rep_printf(&b, "  %-*s %11.2f%% %11.2f%%\n", w, "MAPE, held-out half", 100 * cal.mape_test_before,
               100 * cal.mape_test_after);
    rep_printf(&b, "  %-*s %11.2f%% %11.2f%%\n", w, "MAPE, all", 100 * cal.mape_all_before,
               100 * cal.mape_all_after);
    if (cal.held[0]) rep_printf(&b, "\n  held as the chip gives them (--hold): %s\n", cal.held);
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

/* ---- stacks: `silica calibrate --stack NAME` ----------------------------------------------------- */

sl_status sl_calibrate_stack(const char *stack, const char *const *paths, size_t n_paths, sl_format format,
                             char **report, char **fragment, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!report || !fragment) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_calibrate_stack: NULL out");
  *report = *fragment = NULL;
  if (!stack || !*stack) return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--stack", "no stack named");
  if (!paths || !n_paths) return err_set(err, SL_ERR_INPUT, "", 0, "", "no cases file given");
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "sl_calibrate_stack: unknown format %d", (int)format);
  sl_fit_set set;
  memset(&set, 0, sizeof set);
  sl_status s = val_load_fit_files(&set, paths, n_paths, NULL, err);
  sl_stack_fit f;
  memset(&f, 0, sizeof f);
  if (!s) s = stack_fit(&set, stack, NULL, &f, err);
  if (!s && f.n_cases == 0)
    s = err_set(err, SL_ERR_INPUT, "<command line>", 0, "--stack",
                "no use: validate case of the files runs (feasibly) on stack \"%s\"", stack);
  if (s) {
    val_fit_free(&set);
    return s;
  }
  char data[600] = "";
  for (size_t i = 0; i < n_paths; i++) {
    size_t l = strlen(data);
    snprintf(data + l, sizeof data - l, "%s%s", i ? ", " : "", paths[i]);
  }
  char stats[900];
  snprintf(
      stats, sizeof stats,
      "silica calibrate --stack %s on %zu use: validate cases of %s: mean |error| %.1f%% -> %.1f%%, mean "
      "error %+.1f%% -> %+.1f%%",
      stack, f.n_cases, data, 100 * f.mae_before, 100 * f.mae_after, 100 * f.bias_before, 100 * f.bias_after);
  jbuf fr;
  jb_init(&fr);
  rep_printf(&fr, "# Stack-spec fragment for %s written by silica calibrate --stack.\n# %s\n", stack, stats);
  for (int k = 0; k < SL_STACK_FIGS; k++) {
    if (!f.fitted[k]) {
      rep_printf(&fr, "# %s: moves no case, not fitted\n", stack_fig_key(k));
      continue;
    }
    rep_printf(&fr, "%s: %.4g\n%s_source: \"%s\"\n", stack_fig_key(k), f.after[k], stack_fig_key(k), stats);
  }
  jbuf b;
  jb_init(&b);
  if (format == SL_FORMAT_JSON) {
    jb_obj_begin(&b, NULL);
    jb_str(&b, "stack", stack);
    jb_num(&b, "cases", (double)f.n_cases);
    jb_num(&b, "points", (double)f.n_points);
    for (int k = 0; k < SL_STACK_FIGS; k++) {
      jb_obj_begin(&b, stack_fig_key(k));
      jb_num(&b, "before", f.before[k]);
      jb_num(&b, "after", f.after[k]);
      jb_bool(&b, "fitted", f.fitted[k]);
      jb_obj_end(&b);
    }
    jb_num(&b, "mape_before", f.mae_before);
    jb_num(&b, "mape_after", f.mae_after);
    jb_num(&b, "mean_rel_error_before", f.bias_before);
    jb_num(&b, "mean_rel_error_after", f.bias_after);
    jb_str(&b, "fragment", fr.s ? fr.s : "");
    jb_obj_end(&b);
    jb_raw(&b, "\n");
  } else {
    rep_printf(&b, "stack %s: %zu use: validate cases (%zu checks)\n", stack, f.n_cases, f.n_points);
    for (int k = 0; k < SL_STACK_FIGS; k++)
      rep_printf(&b, "  %-18s %.4g -> %.4g%s\n", stack_fig_key(k), f.before[k], f.after[k],
                 f.fitted[k] ? "" : " (moves no case: not fitted)");
    rep_printf(&b, "  mean |error| %.2f%% -> %.2f%%, mean error %+.2f%% -> %+.2f%%\n\n%s", 100 * f.mae_before,
               100 * f.mae_after, 100 * f.bias_before, 100 * f.bias_after, fr.s ? fr.s : "");
  }
  val_fit_free(&set);
  s = rep_take(&fr, fragment, err);
  if (s) {
    jb_free(&b);
    return s;
  }
  s = rep_take(&b, report, err);
  if (s) {
    sl_free(*fragment);
    *fragment = NULL;
  }
  return s;
}
