/* cmd_compare.c — `silica compare`: the same workloads on several chips (docs/formats.md "Commands"):
 * the options; the runs and the report are sl_compare's. */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ITEMS = 64 };

typedef struct cmp {
  const char *chips[MAX_ITEMS], *files[MAX_ITEMS], *systems[MAX_ITEMS];
  size_t n_chips, n_files, n_systems, baseline;
  const char *sets[MAX_ITEMS];
  size_t n_sets;
  int json, csv;
  char *lists[3]; /* the copies of --chips, --workloads and --systems the entries point into */
} cmp;

/* Splits a comma-separated list into out, pointing into *copy (a copy of s, freed by the caller). */
static int split_list(char **copy, const char *s, const char **out, size_t *n, const char *what) {
  *n = 0;
  if (!(*copy = strdup(s))) return cli_internal("out of memory");
  char *p = *copy;
  while (*p) {
    char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == 0) return cli_usage("compare", "%s: empty entry in \"%s\"", what, s);
    if (*n >= MAX_ITEMS) return cli_usage("compare", "%s: at most %d entries", what, MAX_ITEMS);
    out[(*n)++] = p;
    if (q) *q = 0;
    p = q ? q + 1 : p + len;
  }
  if (*n == 0) return cli_usage("compare", "%s: empty list", what);
  return EXIT_OK;
}

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_args(int argc, char **argv, cmp *c) {
  const char *chips = NULL, *files = NULL, *base = NULL, *systems = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    int r;
    if (cli_is_help(a)) return cli_print_help("compare");
    if (strcmp(a, "--json") == 0) {
      c->json = 1;
      continue;
    }
    if (strcmp(a, "--csv") == 0) {
      c->csv = 1;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--chips", &v)) != 0) {
      if (r < 0) return cli_usage("compare", "--chips needs a value");
      chips = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--workloads", &v)) != 0) {
      if (r < 0) return cli_usage("compare", "--workloads needs a value");
      files = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--systems", &v)) != 0) {
      if (r < 0) return cli_usage("compare", "--systems needs a value");
      systems = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--set", &v)) != 0) {
      if (r < 0) return cli_usage("compare", "--set needs a value");
      if (!strchr(v, '=')) return cli_usage("compare", "--set expects KEY=VALUE, got \"%s\"", v);
      if (c->n_sets >= MAX_ITEMS) return cli_usage("compare", "--set: at most %d", MAX_ITEMS);
      c->sets[c->n_sets++] = v;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--baseline", &v)) != 0) {
      if (r < 0) return cli_usage("compare", "--baseline needs a value");
      base = v;
      continue;
    }
    return cli_usage("compare", "unexpected argument \"%s\"", a);
  }
  if (!chips) return cli_usage("compare", "--chips is required (e.g. --chips mtia-2i,h100-sxm)");
  if (!files) return cli_usage("compare", "--workloads is required (scenario files, comma-separated)");
  if (c->json && c->csv) return cli_usage("compare", "--json and --csv exclude each other");
  int rc = split_list(&c->lists[0], chips, c->chips, &c->n_chips, "--chips");
  if (rc == EXIT_OK) rc = split_list(&c->lists[1], files, c->files, &c->n_files, "--workloads");
  if (rc == EXIT_OK && systems)
    rc = split_list(&c->lists[2], systems, c->systems, &c->n_systems, "--systems");
  if (rc != EXIT_OK) return rc;
  if (systems && c->n_systems != c->n_chips)
    return cli_usage("compare", "--systems pairs a system with each chip: %zu systems for %zu chips",
                     c->n_systems, c->n_chips);
  c->baseline = 0;
  if (base) {
    size_t i = 0;
    while (i < c->n_chips && strcmp(c->chips[i], base) != 0)
      i++;
    if (i == c->n_chips) return cli_usage("compare", "--baseline %s is not one of --chips", base);
    c->baseline = i;
  }
  return -1;
}

int cmd_compare(int argc, char **argv) {
  cmp c;
  memset(&c, 0, sizeof c);
  int rc = parse_args(argc, argv, &c);
  if (rc < 0) {
    sl_compare_params p;
    memset(&p, 0, sizeof p);
    p.chips = c.chips, p.n_chips = c.n_chips;
    p.workloads = c.files, p.n_workloads = c.n_files;
    p.sets = c.sets, p.n_sets = c.n_sets;
    p.baseline = c.baseline;
    p.systems = c.n_systems ? c.systems : NULL;
    p.format = c.json ? SL_FORMAT_JSON : c.csv ? SL_FORMAT_CSV : SL_FORMAT_TEXT;
    char *text = NULL;
    sl_error err;
    sl_status s = sl_compare(&p, &text, &err);
    rc = s ? cli_fail(&err, s) : cli_print(text, NULL);
  }
  free(c.lists[0]);
  free(c.lists[1]);
  free(c.lists[2]);
  return rc;
}
