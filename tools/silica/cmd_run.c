/* cmd_run.c — `silica run`: one scenario from a file and/or flags, printed as text, JSON or CSV. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Flags that are shorthands for --set KEY=VALUE (docs/formats.md "Scenario"). */
static const struct {
  const char *flag, *key;
} FLAG_KEYS[] = {
    {"--chip", "chip"},
    {"--system", "system"},
    {"--stack", "stack"},
    {"--model", "model"},
    {"--precision", "precision"},
    {"--task", "task"},
    {"--parallel", "parallel"},
    {"--batch", "infer.batch"},
    {"--prompt-len", "infer.prompt_len"},
    {"--gen-len", "infer.gen_len"},
    {"--seq-len", "train.seq_len"},
    {"--global-batch", "train.global_batch"},
    {"--micro-batch", "train.micro_batch"},
    {"--recompute", "train.recompute"},
    {"--optimizer", "train.optimizer"},
};

typedef struct run_opts {
  const char *file;
  const char **sets; /* "key=value", each malloc'd (opts_free) */
  size_t n_sets;
  int json, csv;
  long top;         /* 0 = every row */
  const char *html; /* --html OUT: also write the HTML report there (cmd_report.c) */
} run_opts;

static int add_set(run_opts *o, const char *key, const char *val) {
  size_t n = strlen(key) + strlen(val) + 2;
  char *s = malloc(n);
  if (!s) return cli_internal("out of memory");
  snprintf(s, n, "%s%s%s", key, key[0] ? "=" : "", val);
  o->sets[o->n_sets++] = s;
  return EXIT_OK;
}

static void opts_free(run_opts *o) {
  for (size_t i = 0; i < o->n_sets; i++)
    free((char *)o->sets[i]);
  free(o->sets);
}

/* Returns -1 when parsing succeeded, else the exit code (help printed, or a usage error). */
static int parse_args(int argc, char **argv, run_opts *o) {
  o->sets = calloc((size_t)argc, sizeof *o->sets);
  if (!o->sets) return cli_internal("out of memory");
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r = 0;
    if (cli_is_help(a)) return cli_print_help("run");
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
      continue;
    }
    if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--html", &v)) != 0) {
      if (r < 0 || !*v || strcmp(v, "-") == 0) return cli_usage("run", "--html needs a file name");
      o->html = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--top", &v)) > 0) {
      double n = 0;
      if (!cli_number(v, &n) || n < 0 || n != floor(n) || n > 1e9)
        return cli_usage("run", "--top expects a whole number >= 0, got \"%s\"", v);
      o->top = (long)n;
      continue;
    }
    if (r < 0) return cli_usage("run", "%s needs a value", a);
    if ((r = cli_opt(argc, argv, &i, "--set", &v)) > 0) {
      if (!strchr(v, '=')) return cli_usage("run", "--set expects KEY=VALUE, got \"%s\"", v);
      if (add_set(o, "", v)) return EXIT_INTERNAL;
      continue;
    }
    if (r < 0) return cli_usage("run", "%s needs a value", a);
    size_t k = 0;
    for (; k < sizeof FLAG_KEYS / sizeof FLAG_KEYS[0]; k++)
      if ((r = cli_opt(argc, argv, &i, FLAG_KEYS[k].flag, &v)) != 0) break;
    if (r < 0) return cli_usage("run", "%s needs a value", a);
    if (r > 0) {
      if (!*v) return cli_usage("run", "%s needs a value", FLAG_KEYS[k].flag);
      if (add_set(o, FLAG_KEYS[k].key, v)) return EXIT_INTERNAL;
      continue;
    }
    if (a[0] == '-' && a[1]) return cli_usage("run", "unknown option %s", a);
    if (o->file) return cli_usage("run", "more than one scenario file (%s, %s)", o->file, a);
    o->file = a;
  }
  if (o->json + o->csv > 1) return cli_usage("run", "--json and --csv exclude each other");
  if (!o->file && o->n_sets == 0)
    return cli_usage("run", "give a scenario FILE or flags such as --chip and --model");
  return -1;
}

int cmd_run(int argc, char **argv) {
  run_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(argc, argv, &o);
  if (rc >= 0) {
    opts_free(&o);
    return rc;
  }
  sl_error err;
  sl_scenario *sc = NULL;
  sl_result *res = NULL;
  sl_status s = sl_scenario_load(o.file, NULL, o.sets, o.n_sets, &sc, &err);
  sl_run_params rp = sl_run_params_default();
  rp.top_plans = o.top > 0 ? (size_t)o.top : 0;
  if (!s) s = sl_scenario_run_ex(sc, &rp, &res, &err);
  opts_free(&o);
  if (s) {
    sl_scenario_free(sc);
    return cli_fail(&err, s);
  }
  if (o.html) { /* written before stdout, so that a failed report leaves stdout empty (exit 2) */
    char *j = sl_result_json(res);
    rc = j ? cli_write_report("run", j, o.file ? o.file : "silica run", o.html)
           : cli_internal("out of memory");
    sl_free(j);
    if (rc) {
      sl_result_free(res);
      sl_scenario_free(sc);
      return rc;
    }
  }
  size_t top = o.top > 0 ? (size_t)o.top : 0;
  char *out = o.json ? sl_result_json(res) : o.csv ? sl_result_csv(res, top) : sl_result_text(sc, res, top);
  sl_result_free(res);
  sl_scenario_free(sc);
  return cli_print(out, o.json ? "\n" : NULL);
}

/* `silica trace [FILE] [flags] [--set KEY=VALUE]... [-o OUT]`: the serving scenario's requests as a
 * trace (CSV), to replay with serve.trace. */
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
    if (i > 0 && cli_is_help(argv[i])) {
      free(av);
      return cli_print_help("trace");
    }
    av[ac++] = argv[i];
  }
  run_opts o;
  memset(&o, 0, sizeof o);
  int rc = parse_args(ac, av, &o);
  free(av);
  if (rc >= 0) {
    opts_free(&o);
    return rc;
  }
  if (o.json || o.csv || o.html || o.top) {
    opts_free(&o);
    return cli_usage("trace", "a trace is CSV; --json, --csv, --html and --top are for run");
  }
  sl_error err;
  sl_scenario *sc = NULL;
  char *text = NULL;
  sl_status s = sl_scenario_load(o.file, NULL, o.sets, o.n_sets, &sc, &err);
  opts_free(&o);
  if (!s) s = sl_scenario_trace(sc, &text, &err);
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
  if (bad) return cli_internal("write error");
  return EXIT_OK;
}
