/* validate.c — validation cases (FORMATS.md "Validation cases"): check a cases file, run each
 * case's scenario, compare the predicted output keys with the measured ones.  A malformed cases
 * file is an input error; a case whose scenario is bad or unsupported is a result (an entry with
 * that status), so one bad case does not hide the others. */
#include "sim/sim.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SL_VAL_COUNT == 4, "update sl_val_status_names");
const char *const sl_val_status_names[] = {"ok", "fail", "unsupported", "error"};
_Static_assert(SL_ARRAY_LEN(sl_val_status_names) == SL_VAL_COUNT, "a name for every member");

static const double DEFAULT_TOLERANCE = 0.10;
/* A case's `use`: validate (end-to-end data, never fitted to) or calibrate (kernel-level data the
 * chip figures may be fitted to: it measures the fit, not the model's predictive power). */
static const char *const USE_NAMES[] = {"validate", "calibrate", NULL};

/* A case as read from the file, before it runs. */
typedef struct vcase {
  const char *name, *source;
  const char *group; /* the source group (leave-one-source-out unit) */
  int calibrate;     /* use: calibrate */
  yt_node *scenario, *measured;
  const char *chip; /* the scenario's chip when it names one (a preset or a spec path), else NULL */
  double *values; /* measured[i] as read */
  double tolerance;
  size_t index;
} vcase;

void val_init(sl_validation *v) {
  memset(v, 0, sizeof *v);
  ar_init(&v->a);
}

void val_free(sl_validation *v) {
  if (!v) return;
  ar_free(&v->a);
  free(v->entries);
  memset(v, 0, sizeof *v);
}

/* ---- reading the file ------------------------------------------------------------------------- */

static sl_status read_measured(reader *r, yt_node *m, vcase *c) {
  sl_status s = rd_map(r, m);
  if (!s && m->n == 0) s = rd_fail(r, m, "no measured output keys (e.g. step_time_s: 1.5)");
  if (!s && !(c->values = ar_alloc(r->a, m->n * sizeof *c->values)))
    s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; !s && i < m->n; i++) {
    rd_mark mk = rd_push(r, m->pairs[i].key);
    double val = 0;
    m->pairs[i].used = 1;
    if (!result_key_known(m->pairs[i].key)) {
      yt_node at = *m;
      at.line = m->pairs[i].key_line;
      s = rd_fail(r, &at,
                  "not a numeric output key (e.g. step_time_s, tokens_per_s, mfu, memory.per_chip_bytes)");
    } else {
      s = rd_scalar_double(r, m->pairs[i].value, -1e300, 1e300, &val);
      if (!s && val == 0)
        s = rd_fail(r, m->pairs[i].value, "measured value 0 leaves the relative error undefined");
      c->values[i] = val;
    }
    rd_pop(r, mk);
  }
  return s;
}

static sl_status read_case(reader *r, yt_node *n, vcase *c) {
  sl_status s = rd_map(r, n);
  c->source = "";
  c->tolerance = DEFAULT_TOLERANCE;
  if (!s) s = rd_string(r, n, "name", 1, &c->name);
  if (!s && !c->name[0]) s = rd_fail(r, n, "empty case name");
  if (!s) s = rd_string(r, n, "source", 0, &c->source);
  if (!s) s = rd_double(r, n, "tolerance", 0, 1e-9, 100, &c->tolerance);
  if (!s) s = rd_enum(r, n, "use", 0, USE_NAMES, &c->calibrate);
  c->group = NULL;
  if (!s) s = rd_string(r, n, "group", 0, &c->group);
  if (!s && c->group && !c->group[0]) s = rd_fail(r, n, "empty group");
  if (!s && !c->group) { /* the source up to its first comma or semicolon */
    size_t len = strcspn(c->source, ",;");
    while (len > 0 && c->source[len - 1] == ' ')
      len--;
    c->group = len ? ar_strndup(r->a, c->source, len) : "";
    if (!c->group) s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  if (!s && !(c->scenario = yt_get(n, "scenario"))) {
    rd_mark mk = rd_push(r, "scenario");
    s = rd_missing(r, n, "scenario", "missing key");
    rd_pop(r, mk);
  }
  if (!s && c->scenario->type == YT_SEQ) {
    rd_mark mk = rd_push(r, "scenario");
    s = rd_fail(r, c->scenario, "expected a scenario map or the path of a scenario file");
    rd_pop(r, mk);
  }
  if (!s && c->scenario->type == YT_MAP) {
    yt_node *chip = yt_get(c->scenario, "chip");
    c->chip = chip && chip->type == YT_SCALAR ? chip->str : NULL;
  }
  if (!s && !(c->measured = yt_get(n, "measured"))) {
    rd_mark mk = rd_push(r, "measured");
    s = rd_missing(r, n, "measured", "missing key");
    rd_pop(r, mk);
  }
  if (!s) {
    rd_mark mk = rd_push(r, "measured");
    s = read_measured(r, c->measured, c);
    rd_pop(r, mk);
  }
  if (!s) s = rd_done(r, n);
  return s;
}

/* Every case is checked before any runs, so that a typo at the end fails fast. */
static sl_status read_cases(reader *r, yt_node *root, vcase **out, size_t *n_out) {
  *out = NULL, *n_out = 0;
  sl_status s = rd_map(r, root);
  const char *ign = NULL;
  yt_node *list = s ? NULL : yt_get(root, "cases");
  if (!s) s = rd_string(r, root, "description", 0, &ign);
  if (!s && !list && (yt_find(root, "task") || yt_find(root, "chip") || yt_find(root, "model")))
    s = rd_fail(r, root,
                "this is a scenario (it has task, chip or model keys); validate and calibrate expect a cases "
                "file, a list under \"cases:\" of {name, scenario, measured} (docs/formats.md, "
                "\"Validation cases\"); run a scenario with silica run");
  if (!s) s = rd_done(r, root);
  if (!s && !list) s = rd_missing(r, root, "cases", "missing key \"cases\" (a list of validation cases)");
  if (!s && list->type != YT_SEQ) {
    rd_mark mk = rd_push(r, "cases");
    s = rd_fail(r, list, "expected a list of cases");
    rd_pop(r, mk);
  }
  if (s) return s;
  vcase *cs = ar_alloc(r->a, (list->n ? list->n : 1) * sizeof *cs);
  if (!cs) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < list->n; i++) {
    rd_mark mk = rd_push(r, "cases");
    rd_push_index(r, i);
    cs[i].index = i;
    s = read_case(r, list->items[i], &cs[i]);
    rd_pop(r, mk);
    if (s) return s;
  }
  *out = cs, *n_out = list->n;
  return SL_OK;
}

/* ---- running one case ------------------------------------------------------------------------- */

/* The directory part of `path` with its trailing '/', or "" for a bare file name. */
static void dir_of(const char *path, char *dir, size_t size) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    dir[0] = 0;
  else
    snprintf(dir, size, "%.*s/", (int)(slash - path), path);
}

/* A plain word such as auto or max: JSON would quote it, and the scenario reader tells a plain
 * `auto` from a quoted "auto" (a string), so it is written unquoted, which YAML flow style allows. */
static int plain_word(const yt_node *n) {
  if (n->type != YT_SCALAR || n->quoted || !n->str) return 0;
  const char *s = n->str;
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *s)) return 0;
  return 1;
}

/* jb_node, but keeping plain words plain: the output is YAML flow style (JSON where it can be). */
static void write_flow(jbuf *b, const char *key, const yt_node *n) {
  if (n && plain_word(n) && !jb_scalar_is_special(n->str)) {
    jb_value_raw(b, key, n->str);
  } else if (n && n->type == YT_MAP) {
    jb_obj_begin(b, key);
    for (size_t i = 0; i < n->n; i++)
      write_flow(b, n->pairs[i].key, n->pairs[i].value);
    jb_obj_end(b);
  } else if (n && n->type == YT_SEQ) {
    jb_arr_begin(b, key);
    for (size_t i = 0; i < n->n; i++)
      write_flow(b, NULL, n->items[i]);
    jb_arr_end(b);
  } else {
    jb_node(b, key, n);
  }
}

/* The inline scenario as text for sl_scenario_load.  Spec paths (chip: ../chips/x.yaml) are made
 * relative to the file it is written in (dir), as they would be in a scenario file next to it; the
 * loader would otherwise take them from the working directory.  Also the sweep's (dse/spec.c). */
char *scenario_text(const yt_node *sc, const char *dir) {
  static const char *const spec_keys[] = {"chip", "stack", "model", "system", "econ"};
  jbuf b;
  jb_init(&b);
  jb_obj_begin(&b, NULL);
  for (size_t i = 0; i < sc->n; i++) {
    const yt_pair *p = &sc->pairs[i];
    int is_spec = 0;
    for (size_t k = 0; k < SL_ARRAY_LEN(spec_keys); k++)
      is_spec |= strcmp(p->key, spec_keys[k]) == 0;
    const yt_node *v = p->value;
    if (is_spec && dir[0] && v && v->type == YT_SCALAR && spec_is_path(v->str) && v->str[0] != '/') {
      char path[1024];
      snprintf(path, sizeof path, "%s%s", dir, v->str);
      jb_str(&b, p->key, path);
    } else {
      write_flow(&b, p->key, v);
    }
  }
  jb_obj_end(&b);
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s;
}

typedef struct outcome {
  sl_val_status status; /* SL_VAL_OK here means: it ran and is feasible */
  char message[640];
  int internal;
  const char *task; /* the scenario's task (a static name), NULL when it did not load */
  char stack[128];  /* its stack's name, "" when none */
} outcome;

static void fail_outcome(outcome *o, sl_status s, const sl_error *e, const char *cases_file, int line) {
  sl_error e2 = *e;
  if (strcmp(e2.file, "<inline>") == 0) { /* the inline scenario came from the cases file */
    snprintf(e2.file, sizeof e2.file, "%s", cases_file);
    e2.line = line;
    char key[sizeof e2.key];
    snprintf(key, sizeof key, "scenario%s%.*s", e2.key[0] ? "." : "", (int)(sizeof key - 10), e2.key);
    memcpy(e2.key, key, sizeof key);
  }
  o->status = s == SL_ERR_UNSUPPORTED ? SL_VAL_UNSUPPORTED : SL_VAL_ERROR;
  o->internal = s == SL_ERR_INTERNAL;
  const char *prefix = o->internal ? "internal error: " : "";
  size_t pl = strlen(prefix);
  memcpy(o->message, prefix, pl);
  sl_error_format(&e2, o->message + pl, sizeof o->message - pl);
}

/* Loads the case's scenario (inline, or a path relative to the cases file). */
static sl_status load_scenario(const vcase *c, const char *cases_file, sl_scenario **sc, sl_error *e) {
  char dir[1024];
  dir_of(cases_file, dir, sizeof dir);
  *sc = NULL;
  if (c->scenario->type == YT_SCALAR) {
    char path[1280];
    snprintf(path, sizeof path, "%s%s", c->scenario->str[0] == '/' ? "" : dir, c->scenario->str);
    return sl_scenario_load(path, NULL, NULL, 0, sc, e);
  }
  char *text = scenario_text(c->scenario, dir);
  sl_status s = text ? sl_scenario_load(NULL, text, NULL, 0, sc, e)
                     : err_set(e, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  free(text);
  return s;
}

static sl_result *run_case(const vcase *c, const char *cases_file, outcome *o) {
  sl_error e;
  memset(&e, 0, sizeof e);
  memset(o, 0, sizeof *o);
  sl_scenario *sc = NULL;
  sl_status s = load_scenario(c, cases_file, &sc, &e);
  sl_result *res = NULL;
  if (!s) s = sl_scenario_run(sc, &res, &e);
  if (sc) { /* what the entries name besides the case: the result's scenario is freed here */
    o->task = sl_task_names[sc->task];
    snprintf(o->stack, sizeof o->stack, "%s", sc->stack.name ? sc->stack.name : "");
  }
  sl_scenario_free(sc);
  if (s) {
    fail_outcome(o, s, &e, cases_file, c->scenario->line);
    return NULL;
  }
  if (!sl_result_feasible(res)) {
    o->status = SL_VAL_ERROR;
    snprintf(o->message, sizeof o->message, "infeasible: %s", sl_result_reason(res));
  }
  return res;
}

static sl_val_entry *add_entry(sl_validation *v) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    sl_val_entry *p = realloc(v->entries, cap * sizeof *p);
    if (!p) return NULL;
    v->entries = p, v->cap = cap;
  }
  sl_val_entry *e = &v->entries[v->n++];
  memset(e, 0, sizeof *e);
  return e;
}

static sl_status record(sl_validation *v, const vcase *c, const char *file, const sl_result *res,
                        const outcome *o) {
  const char *msg = ar_strdup(&v->a, o->message);
  if (!msg) return SL_ERR_INTERNAL;
  for (size_t i = 0; i < c->measured->n; i++) {
    sl_val_entry *e = add_entry(v);
    if (!e) return SL_ERR_INTERNAL;
    const yt_pair *p = &c->measured->pairs[i];
    e->name = c->name, e->source = c->source, e->group = c->group, e->metric = p->key, e->file = file;
    e->chip = c->chip;
    e->line = p->key_line;
    e->measured = c->values[i];
    e->tolerance = c->tolerance;
    e->calibration = c->calibrate;
    e->predicted = e->rel_error = NAN;
    e->status = o->status;
    e->message = msg;
    e->internal = o->internal;
    if (res && o->task) {
      e->task = o->task;
      if (o->stack[0] && !(e->stack = ar_strdup(&v->a, o->stack))) return SL_ERR_INTERNAL;
    }
    if (o->status != SL_VAL_OK) continue;
    e->predicted = sl_result_number(res, p->key);
    if (isnan(e->predicted)) {
      e->status = SL_VAL_UNSUPPORTED;
      e->message = "this build does not compute this output key";
      continue;
    }
    e->rel_error = (e->predicted - e->measured) / e->measured;
    e->status = fabs(e->rel_error) <= c->tolerance ? SL_VAL_OK : SL_VAL_FAIL;
  }
  return SL_OK;
}

sl_status val_run_file(sl_validation *v, const char *path, const char *filter, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  regex_t re;
  if (filter) {
    int rc = regcomp(&re, filter, REG_EXTENDED | REG_NOSUB);
    if (rc) {
      char msg[256];
      regerror(rc, &re, msg, sizeof msg);
      return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--filter", "bad regular expression \"%s\": %s",
                     filter, msg);
    }
  }
  yt_node *root = NULL;
  vcase *cs = NULL;
  size_t n = 0;
  reader r = {err, &v->a, ""};
  const char *file = ar_strdup(&v->a, path);
  sl_status s = file ? yt_parse_file(&v->a, path, &root, err)
                     : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (!s) s = read_cases(&r, root, &cs, &n);
  for (size_t i = 0; !s && i < n; i++) {
    if (filter && regexec(&re, cs[i].name, 0, NULL, 0) != 0) continue;
    outcome o;
    sl_result *res = run_case(&cs[i], path, &o);
    v->internal_errors += (size_t)o.internal;
    s = record(v, &cs[i], file, res, &o);
    sl_result_free(res);
    if (s) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  if (filter) regfree(&re);
  return s;
}

/* ---- cases for fitting stack figures and cross-validation ------------------------------------ */

sl_status val_load_fit(sl_fit_set *set, const char *path, const char *filter, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!set->a_init) ar_init(&set->a), set->a_init = 1;
  regex_t re;
  if (filter && regcomp(&re, filter, REG_EXTENDED | REG_NOSUB))
    return err_set(err, SL_ERR_INPUT, "<command line>", 0, "--filter", "bad regular expression \"%s\"",
                   filter);
  yt_node *root = NULL;
  vcase *cs = NULL;
  size_t n = 0;
  reader r = {err, &set->a, ""};
  const char *file = ar_strdup(&set->a, path);
  sl_status s = file ? yt_parse_file(&set->a, path, &root, err)
                     : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (!s) s = read_cases(&r, root, &cs, &n);
  for (size_t i = 0; !s && i < n; i++) {
    if (filter && regexec(&re, cs[i].name, 0, NULL, 0) != 0) continue;
    if (set->n == set->cap) {
      size_t cap = set->cap ? 2 * set->cap : 64;
      sl_fit_case *p = realloc(set->cases, cap * sizeof *p);
      if (!p) {
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
      set->cases = p, set->cap = cap;
    }
    sl_fit_case *fc = &set->cases[set->n];
    memset(fc, 0, sizeof *fc);
    fc->name = cs[i].name, fc->group = cs[i].group, fc->source = cs[i].source, fc->file = file;
    fc->calibration = cs[i].calibrate;
    fc->tolerance = cs[i].tolerance;
    fc->n = cs[i].measured->n;
    fc->metric = ar_alloc(&set->a, fc->n * sizeof *fc->metric);
    fc->line = ar_alloc(&set->a, fc->n * sizeof *fc->line);
    if (!fc->metric || !fc->line) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      break;
    }
    for (size_t k = 0; k < fc->n; k++)
      fc->metric[k] = cs[i].measured->pairs[k].key, fc->line[k] = cs[i].measured->pairs[k].key_line;
    fc->measured = cs[i].values;
    sl_error e;
    memset(&e, 0, sizeof e);
    sl_status ls = load_scenario(&cs[i], path, &fc->sc, &e);
    if (ls == SL_ERR_INTERNAL) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "%s", e.message);
      break;
    }
    if (ls) {
      outcome o;
      fail_outcome(&o, ls, &e, path, cs[i].scenario->line);
      if (!(fc->message = ar_strdup(&set->a, o.message))) {
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
    } else {
      fc->message = "";
    }
    set->n++;
  }
  if (filter) regfree(&re);
  return s;
}

sl_status val_run_files(sl_validation *v, const char *const *paths, size_t n, const char *filter,
                        sl_error *err) {
  sl_status s = SL_OK;
  for (size_t i = 0; i < n && !s; i++)
    s = paths[i] ? val_run_file(v, paths[i], filter, err)
                 : err_set(err, SL_ERR_INPUT, "", 0, "", "cases file %zu is NULL", i);
  return s;
}

sl_status val_load_fit_files(sl_fit_set *set, const char *const *paths, size_t n, const char *filter,
                             sl_error *err) {
  sl_status s = SL_OK;
  for (size_t i = 0; i < n && !s; i++)
    s = paths[i] ? val_load_fit(set, paths[i], filter, err)
                 : err_set(err, SL_ERR_INPUT, "", 0, "", "cases file %zu is NULL", i);
  return s;
}

void val_fit_free(sl_fit_set *set) {
  if (!set) return;
  for (size_t i = 0; i < set->n; i++)
    sl_scenario_free(set->cases[i].sc);
  free(set->cases);
  if (set->a_init) ar_free(&set->a);
  memset(set, 0, sizeof *set);
}

sl_status val_record(sl_validation *v, const sl_fit_case *c, size_t k, double predicted,
                     const char *message) {
  sl_val_entry *e = add_entry(v);
  if (!e) return SL_ERR_INTERNAL;
  e->name = c->name, e->source = c->source, e->group = c->group, e->metric = c->metric[k], e->file = c->file;
  e->line = c->line[k];
  e->measured = c->measured[k];
  e->tolerance = c->tolerance;
  e->calibration = c->calibration;
  e->predicted = e->rel_error = NAN;
  e->message = "";
  if (message) {
    e->status = SL_VAL_ERROR;
    if (!(e->message = ar_strdup(&v->a, message))) return SL_ERR_INTERNAL;
    return SL_OK;
  }
  e->predicted = predicted;
  if (isnan(predicted)) {
    e->status = SL_VAL_UNSUPPORTED;
    e->message = "this build does not compute this output key";
    return SL_OK;
  }
  e->rel_error = (e->predicted - e->measured) / e->measured;
  e->status = fabs(e->rel_error) <= c->tolerance ? SL_VAL_OK : SL_VAL_FAIL;
  return SL_OK;
}

/* ---- cases as loaded scenarios (for calibration) --------------------------------------------- */

sl_status val_load_cases(const char *path, const char *chip, arena *a, sl_cal_case **out, size_t *n_out,
                         sl_error *err) {
  yt_node *root = NULL;
  vcase *cs = NULL;
  size_t n = 0;
  reader r = {err, a, ""};
  sl_status s = yt_parse_file(a, path, &root, err);
  if (!s) s = read_cases(&r, root, &cs, &n);
  if (s) return s;
  sl_cal_case *cc = ar_alloc(a, (n ? 2 * n : 1) * sizeof *cc);
  if (!cc) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  char dir[1024];
  dir_of(path, dir, sizeof dir);
  size_t k = 0;
  static const char *const metric_keys[] = {"step_time_s", "energy.avg_power_w_per_chip"};
  for (size_t j = 0; j < 2 * n; j++) {
    size_t i = j / 2;
    sl_cal_metric metric = (sl_cal_metric)(j % 2);
    yt_pair *m = yt_find(cs[i].measured, metric_keys[metric]);
    if (!m) continue; /* calibration fits step times and power */
    if (!cs[i].calibrate) continue; /* and only kernel-level measurements (use: calibrate) */
    double meas = 0;
    reader r2 = {err, a, ""};
    if ((s = rd_scalar_double(&r2, m->value, 1e-12, 1e12, &meas))) break;
    sl_scenario *sc = NULL, *own = NULL;
    char p2[1280] = "", *text = NULL;
    if (cs[i].scenario->type == YT_SCALAR)
      snprintf(p2, sizeof p2, "%s%s", cs[i].scenario->str[0] == '/' ? "" : dir, cs[i].scenario->str);
    else if (!(text = scenario_text(cs[i].scenario, dir))) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      break;
    }
    /* the chip named on the command line replaces the case's */
    char set[300];
    snprintf(set, sizeof set, "chip=%s", chip ? chip : "");
    const char *sets[] = {set};
    s = sl_scenario_load(text ? NULL : p2, text, chip ? sets : NULL, chip ? 1 : 0, &sc, err);
    /* A chip's figures are fitted only to its own measurements: a case measured on another chip
     * is left out (its figures would otherwise be fitted to a different device). */
    int same = 1;
    if (!s && chip) {
      s = sl_scenario_load(text ? NULL : p2, text, NULL, 0, &own, err);
      same = !s && own->chip.name && sc->chip.name && strcmp(own->chip.name, sc->chip.name) == 0;
      if (own) sl_scenario_free(own);
    }
    free(text);
    if (!s && !same) {
      sl_scenario_free(sc);
      continue;
    }
    if (s) {
      if (sc) sl_scenario_free(sc);
      if (err && strcmp(err->file, "<inline>") == 0)
        snprintf(err->file, sizeof err->file, "%s", path), err->line = cs[i].scenario->line;
      break;
    }
    double meas_t = 0; /* a power case that also gives its time is compared at that time */
    yt_pair *mt = metric == SL_CAL_POWER ? yt_find(cs[i].measured, metric_keys[SL_CAL_TIME]) : NULL;
    if (mt && (s = rd_scalar_double(&r2, mt->value, 1e-12, 1e12, &meas_t))) {
      sl_scenario_free(sc);
      break;
    }
    cc[k++] = (sl_cal_case){cs[i].name, sc, meas, metric, meas_t};
  }
  if (s) { /* the scenarios loaded before the failure */
    for (size_t j = 0; j < k; j++)
      sl_scenario_free(cc[j].sc);
    return s;
  }
  *out = cc, *n_out = k;
  return SL_OK;
}

/* ---- summary and JSON ------------------------------------------------------------------------- */

/* What an entry is summarised under: its group (SL_BY_SOURCE), cases file (SL_BY_FILE) or measured key
 * (SL_BY_METRIC). */
static const char *entry_name(const sl_val_entry *e, int by) {
  return by == SL_BY_FILE ? e->file : by == SL_BY_METRIC ? e->metric : e->group;
}

/* Summarises the entries of use `which` (-1: any) whose entry_name by `by` is `name` (SL_BY_NONE: all). */
static void summarise_group(const sl_validation *v, int which, int by, const char *name, sl_val_group *g) {
  memset(g, 0, sizeof *g);
  double sum = 0, signed_sum = 0, mx = 0;
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    if (which >= 0 && e->calibration != which) continue;
    if (by != SL_BY_NONE && strcmp(entry_name(e, by), name) != 0) continue;
    g->n++;
    g->counts[e->status]++;
    if (e->status != SL_VAL_OK && e->status != SL_VAL_FAIL) continue;
    g->ran++;
    sum += fabs(e->rel_error);
    signed_sum += e->rel_error;
    mx = fmax(mx, fabs(e->rel_error));
  }
  g->mape = g->ran ? sum / (double)g->ran : NAN;
  g->mean_rel_error = g->ran ? signed_sum / (double)g->ran : NAN;
  g->max_abs_rel_error = g->ran ? mx : NAN;
}

size_t val_by(const sl_validation *v, int by, sl_val_group **out) {
  *out = NULL;
  sl_val_group *g = malloc((v->n ? v->n : 1) * sizeof *g);
  if (!g) return (size_t)-1;
  size_t n = 0;
  for (size_t i = 0; i < v->n; i++) {
    const sl_val_entry *e = &v->entries[i];
    const char *name = entry_name(e, by);
    size_t j = 0;
    while (j < n && !(g[j].calibration == e->calibration && strcmp(g[j].name, name) == 0))
      j++;
    if (j < n) continue;
    summarise_group(v, e->calibration, by, name, &g[n]);
    g[n].name = name;
    g[n].calibration = e->calibration;
    n++;
  }
  *out = g;
  return n;
}

void val_summarise(sl_validation *v) {
  summarise_group(v, 0, SL_BY_NONE, NULL, &v->valid);
  summarise_group(v, 1, SL_BY_NONE, NULL, &v->calib);
  summarise_group(v, -1, SL_BY_NONE, NULL, &v->all);
}

void val_write_entry(jbuf *b, const sl_val_entry *e) {
  jb_obj_begin(b, NULL);
  jb_str(b, "name", e->name);
  jb_str(b, "metric", e->metric);
  jb_num(b, "measured", e->measured);
  jb_num(b, "predicted", e->predicted);
  jb_num(b, "rel_error", e->rel_error);
  jb_num(b, "tolerance", e->tolerance);
  jb_str(b, "status", sl_val_status_names[e->status]);
  jb_str(b, "group", e->group);
  jb_str(b, "use", USE_NAMES[e->calibration]);
  if (e->chip) jb_str(b, "chip", e->chip);
  if (e->task) jb_str(b, "task", e->task);
  if (e->stack) jb_str(b, "stack", e->stack);
  if (e->source && e->source[0]) jb_str(b, "source", e->source);
  if (e->message && e->message[0]) jb_str(b, "message", e->message);
  jb_obj_end(b);
}

char *val_json(const sl_validation *v) {
  jbuf b;
  jb_init(&b);
  jb_obj_begin(&b, NULL);
  jb_str(&b, "silica_version", SILICA_VERSION);
  jb_arr_begin(&b, "cases");
  for (size_t i = 0; i < v->n; i++)
    val_write_entry(&b, &v->entries[i]);
  jb_arr_end(&b);
  jb_num(&b, "mape", v->valid.mape);
  jb_num(&b, "max_abs_rel_error", v->valid.max_abs_rel_error);
  jb_num(&b, "calibration_mape", v->calib.mape);
  jb_num(&b, "calibration_max_abs_rel_error", v->calib.max_abs_rel_error);
  jb_num(&b, "mean_rel_error", v->valid.mean_rel_error);
  /* the error per source ("groups", each entry's "group") and per measured key ("metrics") */
  for (int k = 0; k < 2; k++) {
    sl_val_group *g = NULL;
    size_t ng = val_by(v, k ? SL_BY_METRIC : SL_BY_SOURCE, &g);
    if (ng == (size_t)-1) b.oom = 1, ng = 0;
    jb_arr_begin(&b, k ? "metrics" : "groups");
    for (size_t i = 0; i < ng; i++) {
      jb_obj_begin(&b, NULL);
      jb_str(&b, k ? "metric" : "group", g[i].name);
      jb_str(&b, "use", USE_NAMES[g[i].calibration]);
      jb_num(&b, "entries", (double)g[i].n);
      jb_num(&b, "ran", (double)g[i].ran);
      jb_num(&b, "mape", g[i].mape);
      jb_num(&b, "mean_rel_error", g[i].mean_rel_error);
      jb_num(&b, "max_abs_rel_error", g[i].max_abs_rel_error);
      jb_obj_end(&b);
    }
    jb_arr_end(&b);
    free(g);
  }
  jb_obj_begin(&b, "counts");
  for (int i = 0; i < SL_VAL_COUNT; i++)
    jb_num(&b, sl_val_status_names[i], (double)v->all.counts[i]);
  jb_obj_end(&b);
  jb_obj_end(&b);
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s;
}
