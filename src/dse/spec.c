/* spec.c — reading a sweep file (docs/sweep.md): base chip, parameters, constraints, workload
 * mix, objectives, strategy, reference chips.  Every workload scenario is loaded here, once, with
 * the base chip; the sweep then only changes chip fields of those loaded scenarios. */
#include "dse/dse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dse_param_names[] = {"cores",
                                       "macs_per_cycle",
                                       "core_sram_bytes",
                                       "shared_sram_bytes",
                                       "shared_sram_GBps",
                                       "dram_type",
                                       "dram_GBps",
                                       "dram_bytes",
                                       "clock_ghz",
                                       "process_nm",
                                       "scale_up_GBps",
                                       "scale_out_GBps",
                                       "tdp_w"};
_Static_assert(SL_ARRAY_LEN(dse_param_names) == DSE_P_COUNT, "a name for every member");
const char *const dse_obj_names[] = {"throughput", "perf_per_w", "perf_per_tco", "score"};
_Static_assert(SL_ARRAY_LEN(dse_obj_names) == DSE_O_COUNT, "a name for every member");
const char *const dse_strategy_names[] = {"grid", "random", "evolutionary", NULL};
_Static_assert(SL_ARRAY_LEN(dse_strategy_names) == DSE_STRATEGY_COUNT + 1, "a name for every member");

/* Valid ranges of each parameter's values. */
static const double P_LO[DSE_P_COUNT] = {1, 1, 1024, 0, 1, 0, 1, 1e6, 0.05, 1, 0, 0, 1};
static const double P_HI[DSE_P_COUNT] = {1e5, 1e7, 1e9, 1e12, 1e7, 0, 1e6, 1e14, 10, 100, 1e5, 1e5, 1e5};
static const int P_INT[DSE_P_COUNT] = {1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0};

static void dir_of(const char *path, char *dir, size_t n) {
  dir[0] = 0;
  if (!path) return;
  const char *slash = path ? strrchr(path, '/') : NULL;
  size_t len = slash ? (size_t)(slash - path + 1) : 0;
  if (len >= n) len = 0;
  memcpy(dir, path, len);
  dir[len] = 0;
}

static sl_status read_param(reader *r, yt_pair *p, dse_param *out) {
  int kind = -1;
  for (int k = 0; k < DSE_P_COUNT; k++)
    if (strcmp(p->key, dse_param_names[k]) == 0) kind = k;
  yt_node *v = p->value;
  yt_node at = *v;
  at.line = p->key_line;
  const char *meant = kind < 0 ? io_closest(p->key, dse_param_names, DSE_P_COUNT) : NULL;
  if (meant) return rd_fail(r, &at, "unknown parameter (did you mean \"%s\"?)", meant);
  if (kind < 0)
    return rd_fail(
        r, &at,
        "unknown parameter (expected cores, macs_per_cycle, core_sram_bytes, shared_sram_bytes, "
        "shared_sram_GBps, dram_type, dram_GBps, dram_bytes, clock_ghz, process_nm, scale_up_GBps, "
        "scale_out_GBps or tdp_w)");
  out->kind = (dse_param_kind)kind;
  out->n = 0;
  if (kind == DSE_P_DRAM_TYPE) {
    if (v->type != YT_SEQ || v->n == 0)
      return rd_fail(r, v, "expected a list of DRAM types ([lpddr5, hbm3])");
    if (v->n > DSE_MAX_VALUES) return rd_fail(r, v, "at most %d values", DSE_MAX_VALUES);
    for (size_t i = 0; i < v->n; i++) {
      yt_node *x = v->items[i];
      rd_mark m = rd_push_index(r, i);
      static const char *const types[] = {"hbm", "lpddr", "gddr", "ddr"};
      int ok = x->type == YT_SCALAR;
      int known = 0;
      for (size_t t = 0; ok && t < SL_ARRAY_LEN(types); t++)
        known |= strncmp(x->str, types[t], strlen(types[t])) == 0;
      if (!ok || !known) {
        sl_status s =
            rd_fail(r, x, "expected a DRAM type starting with hbm, lpddr, gddr or ddr (e.g. hbm3e, lpddr5x)");
        rd_pop(r, m);
        return s;
      }
      rd_pop(r, m);
      out->s[out->n++] = x->str;
    }
    return SL_OK;
  }
  double lo = P_LO[kind], hi = P_HI[kind];
  if (v->type == YT_SEQ) {
    if (v->n == 0) return rd_fail(r, v, "an empty list of values");
    if (v->n > DSE_MAX_VALUES) return rd_fail(r, v, "at most %d values", DSE_MAX_VALUES);
    for (size_t i = 0; i < v->n; i++) {
      rd_mark m = rd_push_index(r, i);
      sl_status s = rd_scalar_double(r, v->items[i], lo, hi, &out->v[out->n]);
      rd_pop(r, m);
      SL_TRY(s);
      out->n++;
    }
  } else if (v->type == YT_MAP) {
    double mn = 0, mx = 0;
    long steps = 0;
    int scale = 0;
    static const char *const scales[] = {"linear", "log", NULL};
    SL_TRY(rd_double(r, v, "min", 1, lo, hi, &mn));
    SL_TRY(rd_double(r, v, "max", 1, lo, hi, &mx));
    SL_TRY(rd_int(r, v, "steps", 1, 1, DSE_MAX_VALUES, &steps));
    SL_TRY(rd_enum(r, v, "scale", 0, scales, &scale));
    SL_TRY(rd_done(r, v));
    if (mx < mn) return rd_fail(r, v, "max (%g) is below min (%g)", mx, mn);
    if (scale == 1 && !(mn > 0)) return rd_fail(r, v, "scale: log needs min > 0");
    for (long i = 0; i < steps; i++) {
      double t = steps > 1 ? (double)i / (double)(steps - 1) : 0;
      out->v[out->n++] = scale ? mn * pow(mx / mn, t) : mn + (mx - mn) * t;
    }
  } else {
    double x = 0;
    SL_TRY(rd_scalar_double(r, v, lo, hi, &x));
    out->v[out->n++] = x;
  }
  if (P_INT[kind])
    for (int i = 0; i < out->n; i++)
      out->v[i] = round(out->v[i]);
  return SL_OK;
}

/* A spec value (chip, model, ...) as the text of a --set: paths made relative to the sweep's folder. */
static char *spec_text(const yt_node *v, const char *dir) {
  jbuf b;
  jb_init(&b);
  if (v->type == YT_SCALAR && spec_is_path(v->str) && v->str[0] != '/') {
    jb_raw(&b, dir);
    jb_raw(&b, v->str);
  } else if (v->type == YT_SCALAR) {
    jb_raw(&b, v->str);
  } else {
    jb_node(&b, NULL, v);
  }
  if (b.oom) {
    jb_free(&b);
    return NULL;
  }
  return b.s;
}

/* Loads workload w's scenario (a path or an inline map) with `chip_set` ("chip=...") applied. */
static sl_status load_scenario(reader *r, const yt_node *scn, const char *dir, const char *file,
                               const char *chip_set, sl_scenario **out) {
  const char *sets[] = {chip_set};
  sl_status s;
  if (scn->type == YT_SCALAR) {
    char path[1280];
    snprintf(path, sizeof path, "%s%s", scn->str[0] == '/' ? "" : dir, scn->str);
    s = sl_scenario_load(path, NULL, sets, 1, out, r->err);
  } else if (scn->type == YT_MAP) {
    char *text = scenario_text(scn, dir);
    if (!text) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    s = sl_scenario_load(NULL, text, sets, 1, out, r->err);
    free(text);
    if (s && r->err && strcmp(r->err->file, "<inline>") == 0) { /* the inline scenario is in the sweep file */
      char key[sizeof r->err->key];
      snprintf(key, sizeof key, "%.60s%s%.60s", r->path, r->err->key[0] ? "." : "", r->err->key);
      snprintf(r->err->file, sizeof r->err->file, "%s", file);
      memcpy(r->err->key, key, sizeof key);
      r->err->line = scn->line;
    }
  } else {
    return rd_fail(r, scn, "expected a scenario file or an inline scenario map");
  }
  return s;
}

static sl_status build(dse_sweep *sw, yt_node *root, const char *dir, sl_error *err) {
  reader r = {err, &sw->a, ""};
  SL_TRY(rd_map(&r, root));
  SL_TRY(rd_string(&r, root, "name", 0, &sw->name));
  const char *ign = NULL;
  SL_TRY(rd_string(&r, root, "description", 0, &ign));
  yt_node *chip = yt_get(root, "chip");
  if (!chip)
    return rd_missing(&r, root, "chip",
                      "missing key \"chip\" (the base chip: a preset, a path or an inline chip spec)");
  char *chip_txt = spec_text(chip, dir);
  if (!chip_txt) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  sw->chip = ar_strdup(&sw->a, chip_txt);
  free(chip_txt);
  if (!sw->chip) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");

  /* parameters */
  yt_node *ps = yt_get(root, "parameters");
  {
    rd_mark m = rd_push(&r, "parameters");
    if (!ps) return rd_missing(&r, root, "parameters", "missing key \"parameters\"");
    SL_TRY(rd_map(&r, ps));
    if (ps->n == 0 || ps->n > DSE_MAX_PARAMS)
      return rd_fail(&r, ps, "expected 1 to %d parameters", DSE_MAX_PARAMS);
    for (size_t i = 0; i < ps->n; i++) {
      rd_mark m2 = rd_push(&r, ps->pairs[i].key);
      ps->pairs[i].used = 1;
      SL_TRY(read_param(&r, &ps->pairs[i], &sw->params[sw->n_params]));
      for (int j = 0; j < sw->n_params; j++)
        if (sw->params[j].kind == sw->params[sw->n_params].kind)
          return rd_fail(&r, ps->pairs[i].value, "given twice");
      sw->n_params++;
      rd_pop(&r, m2);
    }
    rd_pop(&r, m);
  }
  /* constraints */
  yt_node *cs = yt_get(root, "constraints");
  if (cs) {
    rd_mark m = rd_push(&r, "constraints");
    SL_TRY(rd_map(&r, cs));
    SL_TRY(rd_double(&r, cs, "area_mm2", 0, 1, 1e6, &sw->max_area_mm2));
    SL_TRY(rd_double(&r, cs, "tdp_w", 0, 1, 1e6, &sw->max_tdp_w));
    SL_TRY(rd_double(&r, cs, "unit_cost_usd", 0, 1, 1e9, &sw->max_unit_cost_usd));
    SL_TRY(rd_done(&r, cs));
    rd_pop(&r, m);
  }
  /* objectives and score weights */
  yt_node *os = yt_get(root, "objectives");
  if (!os) {
    sw->obj[sw->n_obj++] = DSE_O_PERF_TCO;
  } else {
    rd_mark m = rd_push(&r, "objectives");
    if (os->type != YT_SEQ || os->n == 0 || os->n > DSE_O_COUNT)
      return rd_fail(&r, os, "expected a list of 1 to 4 of throughput, perf_per_w, perf_per_tco, score");
    for (size_t i = 0; i < os->n; i++) {
      yt_node *x = os->items[i];
      int k = -1;
      for (int j = 0; x->type == YT_SCALAR && j < DSE_O_COUNT; j++)
        if (strcmp(x->str, dse_obj_names[j]) == 0) k = j;
      rd_mark m2 = rd_push_index(&r, i);
      if (k < 0)
        return rd_fail(&r, x, "unknown objective (expected throughput, perf_per_w, perf_per_tco or score)");
      for (int j = 0; j < sw->n_obj; j++)
        if (sw->obj[j] == k) return rd_fail(&r, x, "listed twice");
      rd_pop(&r, m2);
      sw->obj[sw->n_obj++] = k;
    }
    rd_pop(&r, m);
  }
  sw->score_w[0] = sw->score_w[1] = sw->score_w[2] = 1.0 / 3;
  yt_node *sc = yt_get(root, "score");
  if (sc) {
    rd_mark m = rd_push(&r, "score");
    SL_TRY(rd_map(&r, sc));
    double w[3] = {0, 0, 0};
    for (int j = 0; j < 3; j++)
      SL_TRY(rd_double(&r, sc, dse_obj_names[j], 0, 0, 1e6, &w[j]));
    SL_TRY(rd_done(&r, sc));
    double sum = w[0] + w[1] + w[2];
    if (!(sum > 0)) return rd_fail(&r, sc, "the weights must not all be 0");
    for (int j = 0; j < 3; j++)
      sw->score_w[j] = w[j] / sum;
    rd_pop(&r, m);
  }
  /* strategy */
  yt_node *st = yt_get(root, "strategy");
  sw->strategy = DSE_GRID;
  sw->seed = 1;
  if (st) {
    rd_mark m = rd_push(&r, "strategy");
    int kind = 0;
    if (st->type == YT_SCALAR) {
      kind = -1;
      for (int j = 0; j < DSE_STRATEGY_COUNT; j++)
        if (strcmp(st->str, dse_strategy_names[j]) == 0) kind = j;
      if (kind < 0) return rd_fail(&r, st, "unknown strategy (expected grid, random or evolutionary)");
      if (kind != DSE_GRID)
        return rd_fail(&r, st, "%s needs a map: {kind: %s, seed: 1, ...}", st->str, st->str);
    } else {
      SL_TRY(rd_map(&r, st));
      SL_TRY(rd_enum(&r, st, "kind", 1, dse_strategy_names, &kind));
      long seed = 1;
      SL_TRY(rd_int(&r, st, "seed", 0, 0, 0x7fffffffffffffffL, &seed));
      sw->seed = (unsigned long long)seed;
      if (kind == DSE_RANDOM) SL_TRY(rd_int(&r, st, "count", 1, 1, 1000000000L, &sw->count));
      if (kind == DSE_EVOLUTIONARY) {
        sw->population = 32, sw->generations = 16;
        SL_TRY(rd_int(&r, st, "population", 0, 4, 1000000L, &sw->population));
        SL_TRY(rd_int(&r, st, "generations", 0, 1, 1000000L, &sw->generations));
      }
      SL_TRY(rd_done(&r, st));
    }
    sw->strategy = (dse_strategy_kind)kind;
    rd_pop(&r, m);
  }
  double grid = 1;
  for (int i = 0; i < sw->n_params; i++)
    grid *= sw->params[i].n;
  sw->total = sw->strategy == DSE_GRID     ? grid
              : sw->strategy == DSE_RANDOM ? (double)sw->count
                                           : (double)sw->population * (double)sw->generations;
  if (sw->strategy == DSE_GRID && grid > 1e9)
    return rd_fail(&r, ps, "the grid has %.3g points (at most 1e9): use strategy random or evolutionary",
                   grid);

  /* workloads: loaded once, with the base chip */
  yt_node *ws = yt_get(root, "workloads");
  {
    rd_mark m = rd_push(&r, "workloads");
    if (!ws)
      return rd_missing(&r, root, "workloads", "missing key \"workloads\" (a list of {scenario, weight})");
    if (ws->type != YT_SEQ || ws->n == 0 || ws->n > DSE_MAX_WORKLOADS)
      return rd_fail(&r, ws, "expected a list of 1 to %d workloads {scenario, weight, name}",
                     DSE_MAX_WORKLOADS);
    size_t set_len = strlen(sw->chip) + 8;
    char *set = ar_alloc(&sw->a, set_len);
    if (!set) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    snprintf(set, set_len, "chip=%s", sw->chip);
    double wsum = 0;
    for (size_t i = 0; i < ws->n; i++) {
      yt_node *w = ws->items[i];
      rd_mark m2 = rd_push_index(&r, i);
      SL_TRY(rd_map(&r, w));
      dse_workload *wl = &sw->w[sw->n_w];
      wl->weight = 1;
      SL_TRY(rd_string(&r, w, "name", 0, &wl->name));
      SL_TRY(rd_double(&r, w, "weight", 0, 0, 1e9, &wl->weight));
      yt_node *scn = yt_get(w, "scenario");
      if (!scn) return rd_missing(&r, w, "scenario", "missing key \"scenario\"");
      SL_TRY(rd_done(&r, w));
      rd_mark m3 = rd_push(&r, "scenario");
      SL_TRY(load_scenario(&r, scn, dir, root->file, set, &wl->sc));
      sw->n_w++;
      rd_pop(&r, m3);
      if (!wl->name) {
        char nm[64];
        snprintf(nm, sizeof nm, "w%zu", i);
        wl->name = scn->type == YT_SCALAR ? scn->str : ar_strdup(&sw->a, nm);
      }
      if (!(wl->weight > 0)) return rd_fail(&r, w, "weight must be > 0");
      wsum += wl->weight;
      rd_pop(&r, m2);
    }
    for (int i = 0; i < sw->n_w; i++)
      sw->w[i].weight /= wsum;
    rd_pop(&r, m);
  }
  /* reference chips: evaluated on the same mix, for the report */
  yt_node *refs = yt_get(root, "references");
  if (refs) {
    rd_mark m = rd_push(&r, "references");
    if (refs->type != YT_SEQ || refs->n > DSE_MAX_REFS)
      return rd_fail(&r, refs, "expected a list of at most %d chips", DSE_MAX_REFS);
    for (size_t i = 0; i < refs->n; i++) {
      rd_mark m2 = rd_push_index(&r, i);
      if (refs->items[i]->type != YT_SCALAR)
        return rd_fail(&r, refs->items[i], "expected a chip preset or path");
      rd_pop(&r, m2);
    }
    rd_pop(&r, m);
  }
  SL_TRY(rd_done(&r, root));

  /* The base chip, with its figures re-derived as every design point's are. */
  sw->base_chip = sw->w[0].sc->chip;
  sl_area ar;
  sl_chip tmp = sw->base_chip;
  tmp.area_mm2 = 0;
  area_estimate(&tmp, &ar);
  sw->base_area_est = ar.total_mm2;
  sw->base_area_published = sw->base_chip.area_mm2;
  sl_scenario *scs[DSE_MAX_WORKLOADS];
  for (int i = 0; i < sw->n_w; i++)
    scs[i] = sw->w[i].sc;
  double raw[DSE_MAX_WORKLOADS][3];
  dse_ref base;
  SL_TRY(dse_eval_chip(sw, scs, 1, &base, raw, err));
  if (!base.feasible)
    return err_set(err, SL_ERR_INPUT, root->file, chip->line, "chip",
                   "the base chip %s cannot run the mix: %s", sw->base_chip.name, base.reason);
  for (int i = 0; i < sw->n_w; i++)
    memcpy(sw->w[i].base, raw[i], sizeof raw[i]);
  sw->base = base;
  sw->base.chip = sw->base_chip.name;
  for (size_t k = 0; refs && k < refs->n; k++) {
    dse_ref *rf = &sw->refs[sw->n_refs];
    rd_mark m = rd_push(&r, "references");
    rd_mark m2 = rd_push_index(&r, k);
    char *txt = spec_text(refs->items[k], dir);
    size_t set_len = txt ? strlen(txt) + 8 : 0;
    char *set = txt ? ar_alloc(&sw->a, set_len) : NULL;
    if (!set) {
      free(txt);
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    }
    snprintf(set, set_len, "chip=%s", txt);
    free(txt);
    sl_status s = SL_OK;
    sl_scenario *rs[DSE_MAX_WORKLOADS] = {0};
    for (int n = 0; n < sw->n_w && !s; n++) {
      rd_mark m3 = rd_push_index(&r, (size_t)n);
      s = load_scenario(&r, yt_find(ws->items[n], "scenario")->value, dir, root->file, set, &rs[n]);
      rd_pop(&r, m3);
    }
    if (!s) s = dse_eval_chip(sw, rs, 0, rf, raw, err);
    rf->chip = refs->items[k]->str;
    for (int j = 0; j < sw->n_w; j++)
      sl_scenario_free(rs[j]);
    if (s) return s;
    sw->n_refs++;
    rd_pop(&r, m2);
    rd_pop(&r, m);
  }
  return SL_OK;
}

sl_status dse_sweep_load(const char *path, const char *text, dse_sweep **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  *out = NULL;
  dse_sweep *sw = calloc(1, sizeof *sw);
  if (!sw) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&sw->a);
  yt_node *root = NULL;
  sl_status s = path ? yt_parse_file(&sw->a, path, &root, err)
                     : yt_parse(&sw->a, text, strlen(text), "<inline>", &root, err);
  char dir[1024];
  dir_of(path, dir, sizeof dir);
  if (!s) {
    sw->file = root->file;
    jbuf jb;
    jb_init(&jb);
    jb_node(&jb, NULL, root);
    if (jb.oom || !jb.s) /* a hash of partial text would let a resume take another sweep's database */
      s = err_set(err, SL_ERR_INTERNAL, sw->file, 0, "", "out of memory (sweep hash)");
    else
      sha256_hex(jb.s, jb.len, sw->sha256);
    jb_free(&jb);
    if (!s) s = build(sw, root, dir, err);
  }
  if (s) {
    dse_sweep_free(sw);
    return s;
  }
  *out = sw;
  return SL_OK;
}

void dse_sweep_free(dse_sweep *sw) {
  if (!sw) return;
  for (int i = 0; i < sw->n_w; i++)
    sl_scenario_free(sw->w[i].sc);
  ar_free(&sw->a);
  free(sw);
}
