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
  const char *cmd;  /* the command whose flags these are (run, trace) */
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
    if (cli_is_help(a)) return cli_print_help(o->cmd);
    if (strcmp(a, "--json") == 0) {
      o->json = 1;
      continue;
    }
    if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--html", &v)) != 0) {
      if (r < 0 || !*v || strcmp(v, "-") == 0) return cli_usage(o->cmd, "--html needs a file name");
      o->html = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--top", &v)) > 0) {
      double n = 0;
      if (!cli_number(v, &n) || n < 0 || n != floor(n) || n > 1e9)
        return cli_usage(o->cmd, "--top expects a whole number >= 0, got \"%s\"", v);
      o->top = (long)n;
      continue;
    }
    if (r < 0) return cli_usage(o->cmd, "%s needs a value", a);
    if ((r = cli_opt(argc, argv, &i, "--set", &v)) > 0) {
      if (!strchr(v, '=')) return cli_usage(o->cmd, "--set expects KEY=VALUE, got \"%s\"", v);
      if (add_set(o, "", v)) return EXIT_INTERNAL;
      continue;
    }
    if (r < 0) return cli_usage(o->cmd, "%s needs a value", a);
    size_t k = 0;
    for (; k < sizeof FLAG_KEYS / sizeof FLAG_KEYS[0]; k++)
      if ((r = cli_opt(argc, argv, &i, FLAG_KEYS[k].flag, &v)) != 0) break;
    if (r < 0) return cli_usage(o->cmd, "%s needs a value", a);
    if (r > 0) {
      if (!*v) return cli_usage(o->cmd, "%s needs a value", FLAG_KEYS[k].flag);
      if (add_set(o, FLAG_KEYS[k].key, v)) return EXIT_INTERNAL;
      continue;
    }
    if (a[0] == '-' && a[1]) return cli_usage(o->cmd, "unknown option %s", a);
    if (o->file) return cli_usage(o->cmd, "more than one scenario file (%s, %s)", o->file, a);
    o->file = a;
  }
  if (o->json + o->csv > 1) return cli_usage(o->cmd, "--json and --csv exclude each other");
  if (!o->file && o->n_sets == 0)
    return cli_usage(o->cmd, "give a scenario FILE or flags such as --chip and --model");
  return -1;
}

int cmd_run(int argc, char **argv) {
  run_opts o;
  memset(&o, 0, sizeof o);
  o.cmd = "run";
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
  rp.serve_latency_interval = 1;
  rp.plan_hint = 1;
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

/* For commands that take run's scenario flags (trace): the scenario of argv (argv[0] the command),
 * or an exit code (help printed, a usage error, or an input error reported) with *out NULL. */
int cli_load_scenario(const char *cmd, int argc, char **argv, sl_scenario **out) {
  *out = NULL;
  run_opts o;
  memset(&o, 0, sizeof o);
  o.cmd = cmd;
  int rc = parse_args(argc, argv, &o);
  if (rc < 0 && (o.json || o.csv || o.html || o.top))
    rc = cli_usage(cmd, "--json, --csv, --html and --top are options of run");
  if (rc >= 0) {
    opts_free(&o);
    return rc;
  }
  sl_error err;
  sl_status s = sl_scenario_load(o.file, NULL, o.sets, o.n_sets, out, &err);
  opts_free(&o);
  return s ? cli_fail(&err, s) : -1;
}
