/* cmd_validate.c — `silica validate`: runs validation cases (sl_validate) and prints them as a text
 * table, JSON, CSV, or a Markdown report; the exit code says whether every case passed. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct val_opts {
  const char **files;
  size_t n_files;
  int json, report, csv;
  double max_mape; /* NaN = no limit */
  const char *filter;
  int by, cross_validate;
  const char *residuals; /* file the cross-validated residuals go to */
} val_opts;

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_args(int argc, char **argv, val_opts *o) {
  o->max_mape = NAN;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r;
    if (cli_is_help(a)) return cli_print_help("validate");
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (strcmp(a, "--report") == 0) {
      o->report = 1;
    } else if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
    } else if ((r = cli_opt(argc, argv, &i, "--max-mape", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--max-mape needs a value");
      if (!cli_number(v, &o->max_mape) || o->max_mape < 0)
        return cli_usage("validate", "--max-mape expects a fraction >= 0 (0.15 for 15%%), got \"%s\"", v);
    } else if ((r = cli_opt(argc, argv, &i, "--filter", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--filter needs a value");
      o->filter = v;
    } else if ((r = cli_opt(argc, argv, &i, "--by", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--by needs a value (source, file or metric)");
      if (strcmp(v, "source") == 0)
        o->by = SL_BY_SOURCE;
      else if (strcmp(v, "file") == 0)
        o->by = SL_BY_FILE;
      else if (strcmp(v, "metric") == 0)
        o->by = SL_BY_METRIC;
      else
        return cli_usage("validate", "--by expects source, file or metric, got \"%s\"", v);
    } else if (strcmp(a, "--cross-validate") == 0) {
      o->cross_validate = 1;
    } else if ((r = cli_opt(argc, argv, &i, "--residuals", &v)) != 0) {
      if (r < 0) return cli_usage("validate", "--residuals needs a file");
      o->residuals = v;
    } else if (a[0] == '-' && a[1]) {
      return cli_usage("validate", "unknown option %s", a);
    } else {
      o->files[o->n_files++] = a;
    }
  }
  if (o->n_files == 0) return cli_usage("validate", "give at least one cases FILE");
  if (o->json + o->report + o->csv > 1)
    return cli_usage("validate", "--json, --csv and --report exclude each other");
  if (o->residuals && !o->cross_validate)
    return cli_usage("validate",
                     "--residuals writes the cross-validated residuals: give --cross-validate too");
  return -1;
}

/* ---- command ---------------------------------------------------------------------------------- */

static int exit_code(const sl_validate_summary *v, double max_mape) {
  if (v->internal_errors) {
    fprintf(stderr, "silica: validate: %zu case(s) hit an internal error (see their messages)\n",
            v->internal_errors);
    return EXIT_INTERNAL;
  }
  int bad = v->ok != v->entries;
  if (!isnan(max_mape)) {
    bad |= !isnan(v->mape) && v->mape > max_mape;
    bad |= !isnan(v->calibration_mape) && v->calibration_mape > max_mape;
  }
  return bad ? EXIT_CHECK : EXIT_OK;
}

int cmd_validate(int argc, char **argv) {
  val_opts o;
  memset(&o, 0, sizeof o);
  o.files = calloc((size_t)argc, sizeof *o.files);
  if (!o.files) return cli_internal("out of memory");
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) {
    free(o.files);
    return rc;
  }
  sl_validate_summary sum;
  sl_error err;
  char *text = NULL;
  sl_format f = o.json     ? SL_FORMAT_JSON
                : o.report ? SL_FORMAT_MARKDOWN
                : o.csv    ? SL_FORMAT_CSV
                           : SL_FORMAT_TEXT;
  sl_validate_params p = sl_validate_params_default();
  p.filter = o.filter;
  p.format = f;
  p.by = o.by;
  p.cross_validate = o.cross_validate;
  char *resid = NULL;
  sl_status s = sl_validate_ex(o.files, o.n_files, &p, &text, o.residuals ? &resid : NULL, &sum, &err);
  if (s) {
    free(o.files);
    return cli_fail(&err, s);
  }
  if (sum.entries == 0) {
    free(o.files);
    return o.filter ? cli_usage("validate", "no case name matches --filter \"%s\"", o.filter)
                    : cli_usage("validate", "no cases in the file(s)");
  }
  if (resid) {
    FILE *fp = fopen(o.residuals, "w");
    int bad = !fp || fputs(resid, fp) < 0;
    if (fp && fclose(fp) != 0) bad = 1;
    sl_free(resid);
    if (bad) {
      sl_free(text);
      free(o.files);
      fprintf(stderr, "silica: validate: cannot write %s\n", o.residuals);
      return EXIT_INPUT;
    }
  }
  rc = cli_print(text, NULL);
  if (rc == EXIT_OK) rc = exit_code(&sum, o.max_mape);
  free(o.files);
  return rc;
}
