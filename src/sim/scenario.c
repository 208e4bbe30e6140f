/* scenario.c — reading a scenario (FORMATS.md "Scenario"): overrides, presets, defaults, checks. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const double BIG = 1e12;

/* "a.b.c=value": value parsed as YAML; intermediate maps are created. */
static sl_status apply_set(arena *a, yt_node *root, const char *set, sl_error *err) {
  const char *eq = strchr(set, '=');
  if (!eq || eq == set)
    return err_set(err, SL_ERR_INPUT, "<command line>", 0, "", "--set expects key=value, got \"%s\"", set);
  char key[256];
  size_t kl = (size_t)(eq - set);
  if (kl >= sizeof key) return err_set(err, SL_ERR_INPUT, "<command line>", 0, "", "--set key too long");
  memcpy(key, set, kl);
  key[kl] = 0;
  const char *val = eq + 1;
  if (!*val) return err_set(err, SL_ERR_INPUT, "<command line>", 0, key, "empty value");
  yt_node *v = NULL;
  SL_TRY(yt_parse(a, val, strlen(val), "<command line>", &v, err));
  v->line = 0; /* a flag has no line; nested values keep their line within the flag's text */
  yt_node *map = root;
  char *part = key;
  for (;;) {
    char *dot = strchr(part, '.');
    if (dot) *dot = 0;
    if (!*part)
      return err_set(err, SL_ERR_INPUT, "<command line>", 0, "", "--set key \"%.*s\" has an empty part",
                     (int)kl, set);
    if (!dot) {
      yt_pair *had = map == root ? yt_find(map, part) : NULL;
      if (had && had->value && had->value->type == YT_MAP && v->type == YT_SCALAR && had->value->file &&
          strcmp(had->value->file, "<command line>") == 0) {
        /* --set chip.tdp_w=500 --chip h100-sxm: the preset under the keys set before it */
        if (yt_map_set(a, had->value, "preset", v))
          return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        return SL_OK;
      }
      if (yt_map_set(a, map, part, v)) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      return SL_OK;
    }
    yt_pair *p = yt_find(map, part);
    yt_node *child = p ? p->value : NULL;
    if (map == root && child && child->type == YT_SCALAR) {
      /* a key of a spec named by its preset (chip: h100-sxm): the preset with the key over it */
      yt_node *over = yt_map_new(a, "<command line>", 0);
      if (!over || yt_map_set(a, over, "preset", child) || yt_map_set(a, map, part, over))
        return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      child = over;
    }
    if (!child || child->type != YT_MAP) {
      child = yt_map_new(a, "<command line>", 0);
      if (!child || yt_map_set(a, map, part, child))
        return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    }
    map = child;
    part = dot + 1;
  }
}

static sl_status read_spec(reader *r, yt_node *root, const char *key, const char *kind, yt_node *dflt,
                           yt_node **tree) {
  yt_node *v = yt_get(root, key);
  if (!v) v = dflt;
  /* keys set on the command line over a spec the scenario leaves to its default (--set
   * stack.kernel_launch_s=...): the default preset under them */
  if (v && dflt && v->type == YT_MAP && !yt_find(v, "preset") && v->file &&
      strcmp(v->file, "<command line>") == 0)
    if (yt_map_set(r->a, v, "preset", dflt))
      return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  rd_mark m = rd_push(r, key);
  sl_status s = v ? spec_resolve(r, kind, v, tree) : rd_missing(r, root, key, "missing key");
  rd_pop(r, m);
  return s;
}

/* Inference activations of this format are only the matrix products' inputs, bf16 between kernels:
 * any 4-bit format, and a byte for a transformer (an op's 8-bit format is its operands' own). */
static int narrow_activations(const sl_scenario *sc, int dt) {
  double b = sl_dtype_bytes[dt];
  return b < 1 || (b <= 1 && sc->model.kind == SL_MODEL_TRANSFORMER);
}

static sl_status read_precision(reader *r, yt_node *root, sl_scenario *sc) {
  static const char *const *names = sl_dtype_names;
  const char *const list[SL_DTYPE_COUNT + 1] = {names[0], names[1], names[2], names[3], names[4],
                                                names[5], names[6], names[7], NULL};
  int dt = SL_BF16;
  sc->w_dtype = sc->a_dtype = sc->kv_dtype = sc->g_dtype = SL_BF16;
  yt_node *p = yt_get(root, "precision");
  if (!p) return SL_OK;
  if (p->type == YT_SCALAR) {
    SL_TRY(rd_enum(r, root, "precision", 1, list, &dt));
    sc->w_dtype = sc->a_dtype = sc->kv_dtype = sc->g_dtype = (sl_dtype)dt;
    /* Training in a format of a byte or less runs as Transformer Engine does: the matrix products
     * take it, everything else (weights kept and sent, activations, norms, attention) stays bf16. */
    if (sc->task == SL_TASK_TRAIN && sl_dtype_bytes[dt] <= 1)
      sc->w_dtype = sc->a_dtype = sc->kv_dtype = SL_BF16;
    /* Inference in a 4-bit format: the products take it (below), the activations stay bf16; so do
     * a transformer's in an 8-bit one (FP8 / INT8 engines quantize each product's input in the kernel
     * before it and write bf16 from it: the residual stream, norms and all-reduces stay 2 bytes). */
    if (sc->task != SL_TASK_TRAIN && narrow_activations(sc, dt)) sc->a_dtype = SL_BF16;
    return SL_OK;
  }
  rd_mark m = rd_push(r, "precision");
  sl_status s = rd_map(r, p);
  int w = -1, a = -1, kv = -1, g = -1, scope = 0;
  static const char *const scopes[] = {"all", "ffn", NULL};
  if (!s) s = rd_enum(r, p, "weights", 0, list, &w);
  if (!s) s = rd_enum(r, p, "activations", 0, list, &a);
  if (!s) s = rd_enum(r, p, "kv", 0, list, &kv);
  if (!s) s = rd_enum(r, p, "gemm", 0, list, &g);
  if (!s) s = rd_enum(r, p, "quantized", 0, scopes, &scope);
  yt_node *uq = yt_get(p, "unquantized_layers");
  if (!s && uq) {
    rd_mark mu = rd_push(r, "unquantized_layers");
    long first = 0, last = 0;
    s = rd_map(r, uq);
    if (!s) s = rd_int(r, uq, "first", 0, 0, 1000000, &first);
    if (!s) s = rd_int(r, uq, "last", 0, 0, 1000000, &last);
    if (!s) s = rd_done(r, uq);
    rd_pop(r, mu);
    sc->unquant_first = (double)first, sc->unquant_last = (double)last;
  }
  /* Which layers take the narrow formats is an inference checkpoint's choice; training in a narrow
   * format runs every linear layer in it, as Transformer Engine does. */
  if (!s && (scope || sc->unquant_first + sc->unquant_last > 0) && sc->task == SL_TASK_TRAIN) {
    const char *k = scope ? "quantized" : "unquantized_layers";
    rd_mark mk = rd_push(r, k);
    s = rd_fail(r, yt_find(p, k)->value,
                "applies to inference only: training in a narrow format runs every linear layer in it");
    rd_pop(r, mk);
  }
  if (!s) s = rd_done(r, p);
  rd_pop(r, m);
  SL_TRY(s);
  sc->quant_ffn = scope == 1;
  if (a < 0) a = w >= 0 ? (w == SL_INT4 || w == SL_FP4 ? SL_BF16 : w) : SL_BF16;
  if (w < 0) w = a;
  if (kv < 0) kv = a;
  if (g < 0) g = a;
  /* 4-bit activations are the products' inputs only (NVFP4 / MXFP4 inference: the kernel before a
   * product writes its block-scaled 4-bit copy); between kernels the activations stay bf16, and so
   * do a transformer's 8-bit ones (narrow_activations). */
  if (sc->task != SL_TASK_TRAIN && narrow_activations(sc, a)) a = SL_BF16;
  sc->w_dtype = (sl_dtype)w, sc->a_dtype = (sl_dtype)a, sc->kv_dtype = (sl_dtype)kv,
  sc->g_dtype = (sl_dtype)g;
  sc->precision_is_map = 1;
  return SL_OK;
}

/* A number or "auto"; *out = SL_AUTO for auto. */
static sl_status rd_num_or_auto(reader *r, yt_node *map, const char *key, double lo, double hi, double *out) {
  yt_node *v = yt_find(map, key) ? yt_find(map, key)->value : NULL;
  if (yt_is_auto(v)) {
    yt_get(map, key);
    *out = SL_AUTO;
    return SL_OK;
  }
  return rd_double(r, map, key, 0, lo, hi, out);
}

static sl_status read_system_link(reader *r, yt_node *t, const char *key, sl_link *L) {
  yt_node *l = yt_get(t, key);
  if (!l) return SL_OK;
  rd_mark m = rd_push(r, key);
  sl_status s = link_read(r, l, 0, L);
  if (!s) s = link_check_role(r, l, key);
  rd_pop(r, m);
  return s;
}

/* Keys of a system map, applied over what is already in sc (defaults, or a preset). */
static sl_status read_system_keys(reader *r, yt_node *t, sl_scenario *sc, int *have_node) {
  static const char *const topo[] = {"switched", "torus", NULL};
  const char *ign = NULL;
  sl_status s = rd_map(r, t);
  if (!s) s = rd_double(r, t, "chips", 0, 1, 1e7, &sc->chips);
  if (!s && yt_find(t, "node_chips")) *have_node = 1;
  if (!s) s = rd_double(r, t, "node_chips", 0, 1, 1e7, &sc->node_chips);
  if (!s) s = rd_double(r, t, "host_memory_bytes", 0, 0, 1e16, &sc->host_memory_bytes);
  if (!s) s = rd_string(r, t, "name", 0, &sc->system_name);
  if (!s) s = rd_string(r, t, "description", 0, &ign);
  if (!s) s = rd_string(r, t, "chip", 0, &ign); /* the chip a preset is built from: informative */
  if (!s) s = rd_enum(r, t, "topology", 0, topo, &sc->torus);
  if (!s && sc->torus) {
    /* refused rather than costed as a switch: a torus's collectives run as rings per dimension over
     * neighbour links, which the collective model does not have */
    rd_mark mt = rd_push(r, "topology");
    s = rd_fail(r, yt_find(t, "topology")->value,
                "a torus is not modelled (its collectives run as rings per dimension, not through a "
                "switch); use topology: switched with the per-chip bandwidth a collective reaches");
    rd_pop(r, mt);
  }
  if (!s) s = read_system_link(r, t, "scale_up", &sc->scale_up);
  if (!s) s = read_system_link(r, t, "scale_out", &sc->scale_out);
  if (!s) s = rd_double(r, t, "power_budget_w", 0, 1, 1e11, &sc->power_budget_w);
  if (!s) s = rd_double(r, t, "network_w_per_chip", 0, 0, 1e4, &sc->network_w_per_chip);
  yt_node *rel = s ? NULL : yt_get(t, "reliability");
  if (rel) {
    rd_mark m = rd_push(r, "reliability");
    s = campaign_read_reliability(r, rel, &sc->rel);
    rd_pop(r, m);
  }
  return s;
}

/* system: a preset name, a path, an inline map, or an inline map with `preset:` whose other keys
 * override the preset's (e.g. {preset: dgx-h100, chips: 1024}).  Links start from the chip's. */
static sl_status read_system(reader *r, yt_node *root, sl_scenario *sc) {
  sc->chips = 1, sc->node_chips = 1;
  sc->scale_up = sc->chip.scale_up, sc->scale_out = sc->chip.scale_out;
  campaign_default_reliability(&sc->rel, &sc->network_w_per_chip);
  yt_node *sys = yt_get(root, "system");
  if (!sys) return SL_OK;
  rd_mark m = rd_push(r, "system");
  int have_node = 0;
  sl_status s = SL_OK;
  yt_node *t = sys;
  if (sys->type == YT_MAP && yt_find(sys, "preset")) {
    rd_mark m2 = rd_push(r, "preset");
    yt_node *base = NULL;
    s = spec_resolve(r, "systems", yt_get(sys, "preset"), &base);
    if (!s) s = read_system_keys(r, base, sc, &have_node);
    if (!s) s = rd_done(r, base);
    rd_pop(r, m2);
  } else {
    s = spec_resolve(r, "systems", sys, &t);
  }
  if (!s) s = read_system_keys(r, t, sc, &have_node);
  if (!s) s = rd_done(r, t);
  if (!s && !have_node) sc->node_chips = sc->chips < 8 ? sc->chips : 8;
  if (!s && (sc->chips != floor(sc->chips) || sc->node_chips != floor(sc->node_chips)))
    s = rd_fail(r, t, "chips and node_chips must be whole numbers");
  if (!s && sc->node_chips > sc->chips) sc->node_chips = sc->chips;
  /* chips need not fill the last scale-up domain (256 GPUs over NVL72 racks): collectives count the
   * ranks each domain holds, and a group never spans more of one than node_chips */
  if (!s && sc->chips > 1 && sc->scale_up.bw_GBps <= 0)
    s = rd_fail(r, t, "no scale_up bandwidth: the chip %s has none and the system gives none", sc->chip.name);
  if (!s && sc->chips > sc->node_chips && sc->scale_out.bw_GBps <= 0)
    s = rd_fail(r, t, "no scale_out bandwidth: the chip %s has none and the system gives none",
                sc->chip.name);
  rd_pop(r, m);
  return s;
}

static sl_status read_parallel(reader *r, yt_node *root, sl_scenario *sc) {
  sl_parallel *p = &sc->par;
  *p = (sl_parallel){.dp = 0, .tp = 1, .pp = 1, .cp = 1, .ep = 1, .vpp = 1, .zero = sc->stack.zero};
  yt_node *v = yt_get(root, "parallel");
  if (!v) {
    p->dp = SL_AUTO; /* fills the rest */
    sc->parallel_default = 1;
    return SL_OK;
  }
  if (yt_is_auto(v)) {
    sc->parallel_auto = 1;
    *p = (sl_parallel){SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, SL_AUTO, 0, 0};
    return SL_OK;
  }
  rd_mark m = rd_push(r, "parallel");
  sl_status s = rd_map(r, v);
  p->dp = SL_AUTO;
  if (!s) s = rd_num_or_auto(r, v, "dp", 1, 1e7, &p->dp);
  if (!s) s = rd_num_or_auto(r, v, "tp", 1, 1e5, &p->tp);
  if (!s) s = rd_num_or_auto(r, v, "pp", 1, 1e5, &p->pp);
  if (!s) s = rd_num_or_auto(r, v, "cp", 1, 1e5, &p->cp);
  if (!s) s = rd_num_or_auto(r, v, "ep", 1, 1e5, &p->ep);
  if (!s) s = rd_num_or_auto(r, v, "vpp", 1, 1e3, &p->vpp);
  if (!s) s = rd_num_or_auto(r, v, "zero", 0, 3, &p->zero);
  if (!s) s = rd_bool(r, v, "sp", 0, &p->sp);
  static const char *const sched[] = {"1f1b", "gpipe", NULL};
  if (!s) s = rd_enum(r, v, "schedule", 0, sched, &p->schedule_gpipe);
  if (!s) s = rd_done(r, v);
  rd_pop(r, m);
  return s;
}

/* The keys of one stage (train.stages[i]). */
static sl_status read_stage_keys(reader *r, yt_node *g, double *tokens, double *seq, double *gbt, double *gb,
                                 double *chips, yt_node **par) {
  sl_status s = rd_map(r, g);
  if (!s) s = rd_double(r, g, "tokens", 1, 1, 1e18, tokens);
  if (!s) s = rd_double(r, g, "seq_len", 0, 1, 1e8, seq);
  if (!s) s = rd_double(r, g, "global_batch_tokens", 0, 1, 1e15, gbt);
  if (!s) s = rd_double(r, g, "global_batch", 0, 1, 1e12, gb);
  if (!s) s = rd_double(r, g, "chips", 0, 1, 1e7, chips);
  if (!s && yt_find(g, "parallel")) *par = yt_get(g, "parallel");
  if (!s) s = rd_done(r, g);
  if (!s && *gb > 0 && *gbt > 0) s = rd_fail(r, g, "give global_batch or global_batch_tokens, not both");
  return s;
}

/* With train.stages, the scenario's own step (the one `silica run` reports) defaults to the stage of
 * the most tokens: its seq_len and batch fill those train leaves out. */
static sl_status stage_defaults(reader *r, yt_node *t) {
  yt_pair *sp = yt_find(t, "stages");
  yt_node *st = sp ? sp->value : NULL;
  if (!st) return SL_OK;
  if (st->type != YT_SEQ || st->n == 0) {
    rd_mark m = rd_push(r, "stages");
    sl_status s = rd_fail(r, st, "expected a list of {tokens, seq_len, global_batch_tokens}");
    rd_pop(r, m);
    return s;
  }
  yt_node *best = NULL;
  double most = -1;
  for (size_t i = 0; i < st->n; i++) {
    yt_node *g = st->items[i], *par = NULL;
    double tok = 0, seq = 0, gbt = 0, gb = 0, chips = 0;
    rd_mark m = rd_push(r, "stages");
    rd_push_index(r, i);
    sl_status s = read_stage_keys(r, g, &tok, &seq, &gbt, &gb, &chips, &par);
    rd_pop(r, m);
    SL_TRY(s);
    if (tok > most) most = tok, best = g;
  }
  static const char *const seq_keys[] = {"seq_len"}, *const batch_keys[] = {"global_batch", "global_batch_tokens"};
  if (!yt_find(t, "seq_len") && yt_find(best, seq_keys[0]) &&
      yt_map_set(r->a, t, seq_keys[0], yt_find(best, seq_keys[0])->value))
    return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (!yt_find(t, "global_batch") && !yt_find(t, "global_batch_tokens"))
    for (int k = 0; k < 2; k++)
      if (yt_find(best, batch_keys[k]) && yt_map_set(r->a, t, batch_keys[k], yt_find(best, batch_keys[k])->value))
        return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  return SL_OK;
}

static sl_status read_train(reader *r, yt_node *root, sl_scenario *sc) {
  static const char *const rec[] = {"none", "selective", "full", "block", NULL};
  static const char *const opt[] = {"adamw", "sgd", "adagrad", "lamb", NULL};
  sc->micro_batch = sc->model.kind == SL_MODEL_DLRM ? 0 : 1; /* DLRM: 0 = global_batch / chips */
  sc->optimizer = SL_OPTIM_ADAMW;
  sc->loss_positions = 1;
  yt_node *t = yt_get(root, "train");
  rd_mark m = rd_push(r, "train");
  sl_status s = t ? rd_map(r, t)
                  : rd_missing(r, root, "train", "missing key (task: train needs seq_len and global_batch)");
  if (!s) s = stage_defaults(r, t);
  if (!s && sc->model.kind == SL_MODEL_TRANSFORMER) s = rd_double(r, t, "seq_len", 1, 1, 1e8, &sc->seq_len);
  if (!s) {
    yt_node *gb = yt_find(t, "global_batch") ? yt_find(t, "global_batch")->value : NULL;
    if (gb && gb->type == YT_MAP) {
      yt_get(t, "global_batch");
      rd_mark m2 = rd_push(r, "global_batch");
      s = rd_double(r, gb, "max", 1, 1, BIG, &sc->global_batch);
      if (!s) s = rd_done(r, gb);
      sc->global_batch_max = 1;
      rd_pop(r, m2);
    } else if (gb) {
      s = rd_double(r, t, "global_batch", 1, 1, BIG, &sc->global_batch);
    } else if (yt_find(t, "global_batch_tokens")) {
      double tok = 0;
      s = rd_double(r, t, "global_batch_tokens", 1, 1, 1e15, &tok);
      if (!s) sc->global_batch = fmax(1, floor(tok / (sc->seq_len > 0 ? sc->seq_len : 1)));
    } else {
      s = rd_missing(r, t, "global_batch", "missing key global_batch (or global_batch_tokens)");
    }
  }
  if (!s) {
    yt_node *mb = yt_find(t, "micro_batch") ? yt_find(t, "micro_batch")->value : NULL;
    if (yt_is_auto(mb)) {
      yt_get(t, "micro_batch");
      sc->micro_batch = SL_AUTO;
    } else {
      s = rd_double(r, t, "micro_batch", 0, 1, BIG, &sc->micro_batch);
    }
  }
  int rc = 0, op = sc->model.kind == SL_MODEL_DLRM ? SL_OPTIM_ADAGRAD : SL_OPTIM_ADAMW;
  if (!s) {
    yt_node *rv = yt_find(t, "recompute") ? yt_find(t, "recompute")->value : NULL;
    if (yt_is_auto(rv)) {
      yt_get(t, "recompute");
      sc->recompute_auto = 1;
    } else {
      s = rd_enum(r, t, "recompute", 0, rec, &rc);
    }
  }
  if (!s) s = rd_enum(r, t, "optimizer", 0, opt, &op);
  if (!s) s = rd_double(r, t, "tokens", 0, 1, 1e18, &sc->train_tokens);
  if (!s) s = rd_double(r, t, "loss_positions", 0, 1e-6, 1, &sc->loss_positions);
  if (!s && sc->loss_positions < 1 && sc->model.kind != SL_MODEL_TRANSFORMER)
    s = rd_fail(r, t, "train.loss_positions is for transformer training (the positions the head predicts)");
  if (!s && (sc->train_tokens > 0 || yt_find(t, "stages")) && sc->model.kind != SL_MODEL_TRANSFORMER)
    s = rd_fail(r, t, "train.tokens and train.stages are for transformer training (a campaign counts tokens)");
  if (!s && yt_find(t, "stages")) yt_get(t, "stages"); /* read after the scenario (campaign_stages) */
  if (!s) s = rd_done(r, t);
  sc->recompute = (sl_recompute)rc;
  sc->optimizer = (sl_optimizer)op;
  if (!s && sc->global_batch != floor(sc->global_batch))
    s = rd_fail(r, t, "global_batch must be a whole number");
  if (!s && sc->micro_batch > 0 && sc->micro_batch > sc->global_batch)
    s = rd_fail(r, t, "micro_batch (%g) exceeds global_batch (%g)", sc->micro_batch, sc->global_batch);
  if (!s && sc->micro_batch > 0 && sc->micro_batch != floor(sc->micro_batch))
    s = rd_fail(r, t, "batch sizes must be whole numbers");
  rd_pop(r, m);
  return s;
}

static sl_status read_infer(reader *r, yt_node *root, sl_scenario *sc) {
  sc->batch = 1, sc->prompt_len = 2048, sc->gen_len = 256;
  yt_node *t = yt_get(root, "infer");
  if (!t) return SL_OK;
  rd_mark m = rd_push(r, "infer");
  sl_status s = rd_map(r, t);
  yt_node *b = s ? NULL : (yt_find(t, "batch") ? yt_find(t, "batch")->value : NULL);
  if (b && b->type == YT_SCALAR && strcmp(b->str, "max") == 0) {
    yt_get(t, "batch");
    sc->batch_max = 1;
  } else if (!s) {
    s = rd_double(r, t, "batch", 0, 1, 1e9, &sc->batch);
  }
  if (!s) s = rd_double(r, t, "prompt_len", 0, 1, 1e8, &sc->prompt_len);
  if (!s) s = rd_double(r, t, "gen_len", 0, 1, 1e8, &sc->gen_len);
  if (!s) s = rd_done(r, t);
  if (!s && (sc->batch != floor(sc->batch) || sc->prompt_len != floor(sc->prompt_len) ||
             sc->gen_len != floor(sc->gen_len)))
    s = rd_fail(r, t, "batch, prompt_len and gen_len must be whole numbers");
  rd_pop(r, m);
  return s;
}

/* sampling: what the requests ask of the sampler, as an OpenAI-style request names it (default greedy:
 * temperature 0). */
static sl_status read_sampling(reader *r, yt_node *root, sl_scenario *sc) {
  sc->temperature = 0, sc->top_p = 1, sc->top_k = 0;
  yt_node *t = yt_get(root, "sampling");
  if (!t) return SL_OK;
  rd_mark m = rd_push(r, "sampling");
  sl_status s = rd_map(r, t);
  if (!s) s = rd_double(r, t, "temperature", 0, 0, 100, &sc->temperature);
  if (!s) s = rd_double(r, t, "top_p", 0, 1e-6, 1, &sc->top_p);
  if (!s) s = rd_double(r, t, "top_k", 0, 0, 1e7, &sc->top_k);
  if (!s && sc->top_k != floor(sc->top_k))
    s = rd_fail(r, yt_find(t, "top_k")->value, "top_k must be a whole number");
  if (!s) s = rd_done(r, t);
  rd_pop(r, m);
  return s;
}

static sl_status unsupported(sl_error *err, const char *file, const char *key, const char *what) {
  return err_set(err, SL_ERR_UNSUPPORTED, file, 0, key, "%s is not built yet in this version of silica",
                 what);
}

/* A length: a number, {mean: x} (exponential), or {min: a, max: b} (uniform). */
static sl_status read_dist(reader *r, yt_node *map, const char *key, sl_dist *d) {
  yt_node *v = yt_get(map, key);
  if (!v) return SL_OK;
  rd_mark m = rd_push(r, key);
  sl_status s = SL_OK;
  if (v->type == YT_SCALAR) {
    d->kind = SL_DIST_FIXED;
    s = rd_scalar_double(r, v, 1, 1e8, &d->a);
  } else if (yt_find(v, "mean")) {
    d->kind = SL_DIST_EXP;
    s = rd_double(r, v, "mean", 1, 1, 1e8, &d->a);
    if (!s) s = rd_done(r, v);
  } else {
    d->kind = SL_DIST_UNIFORM;
    s = rd_map(r, v);
    if (!s) s = rd_double(r, v, "min", 1, 1, 1e8, &d->a);
    if (!s) s = rd_double(r, v, "max", 1, 1, 1e8, &d->b);
    if (!s) s = rd_done(r, v);
    if (!s && d->b < d->a) s = rd_fail(r, v, "max (%g) is below min (%g)", d->b, d->a);
  }
  rd_pop(r, m);
  return s;
}

/* ---- serve: traffic and the latency-throughput curve (docs/serving.md "Traffic") ---- */

/* serve.arrivals: poisson (the default), {process: gamma, cv: x} or {process: on_off, on_s, off_s}. */
static sl_status read_arrivals(reader *r, yt_node *t, sl_serve_spec *v) {
  static const char *const procs[] = {"poisson", "gamma", "on_off", NULL};
  yt_node *a = yt_find(t, "arrivals") ? yt_find(t, "arrivals")->value : NULL;
  if (!a) return SL_OK;
  if (a->type == YT_SCALAR) return rd_enum(r, t, "arrivals", 0, procs, &v->arrivals);
  yt_get(t, "arrivals");
  rd_mark m = rd_push(r, "arrivals");
  sl_status s = rd_map(r, a);
  if (!s) s = rd_enum(r, a, "process", 1, procs, &v->arrivals);
  if (!s && v->arrivals == SL_ARRIVALS_GAMMA) s = rd_double(r, a, "cv", 1, 0.05, 100, &v->cv);
  if (!s && v->arrivals == SL_ARRIVALS_ON_OFF) s = rd_double(r, a, "on_s", 1, 1e-6, 1e9, &v->on_s);
  if (!s && v->arrivals == SL_ARRIVALS_ON_OFF) s = rd_double(r, a, "off_s", 1, 0, 1e9, &v->off_s);
  if (!s) s = rd_done(r, a);
  rd_pop(r, m);
  return s;
}

/* serve.arrival_rate_per_s as a list of rates, or {from, to, steps, scale: geometric | linear}. */
static sl_status read_curve(reader *r, yt_node *ar, sl_serve_spec *v) {
  double *rates = NULL;
  size_t n = 0;
  if (ar->type == YT_SEQ) {
    if (ar->n < 1 || ar->n > 256) return rd_fail(r, ar, "a list of 1 to 256 rates (requests/s), not %zu", ar->n);
    n = ar->n;
    if (!(rates = ar_alloc(r->a, n * sizeof *rates))) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; i < n; i++) {
      rd_mark m = rd_push_index(r, i);
      sl_status s = rd_scalar_double(r, ar->items[i], 1e-9, 1e9, &rates[i]);
      rd_pop(r, m);
      if (s) return s;
    }
  } else {
    static const char *const scales[] = {"geometric", "linear", NULL};
    double from = 0, to = 0, steps = 0;
    int scale = 0;
    sl_status s = rd_map(r, ar);
    if (!s) s = rd_double(r, ar, "from", 1, 1e-9, 1e9, &from);
    if (!s) s = rd_double(r, ar, "to", 1, 1e-9, 1e9, &to);
    if (!s) s = rd_double(r, ar, "steps", 1, 2, 256, &steps);
    if (!s) s = rd_enum(r, ar, "scale", 0, scales, &scale);
    if (!s) s = rd_done(r, ar);
    if (!s && steps != floor(steps)) s = rd_fail(r, ar, "steps must be a whole number");
    if (!s && !(to > from)) s = rd_fail(r, ar, "to (%g) must exceed from (%g)", to, from);
    if (s) return s;
    n = (size_t)steps;
    if (!(rates = ar_alloc(r->a, n * sizeof *rates))) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; i < n; i++) {
      double f = (double)i / (double)(n - 1);
      rates[i] = scale == 1 ? from + (to - from) * f : from * pow(to / from, f);
    }
    rates[n - 1] = to;
  }
  v->curve = rates, v->n_curve = n;
  v->rate_per_s = rates[n - 1]; /* the scalar outputs are the last point's */
  return SL_OK;
}

/* serve.trace: a file of requests (relative to the file the key is written in), read here, never
 * during a run; it replaces requests, prompt_len, gen_len and the arrival process. */
static sl_status read_trace(reader *r, yt_node *t, sl_serve_spec *v) {
  static const char *const excl[] = {"requests", "prompt_len", "gen_len", "arrival_rate_per_s", "arrivals"};
  for (size_t i = 0; i < SL_ARRAY_LEN(excl); i++)
    if (yt_find(t, excl[i]))
      return rd_fail(r, yt_find(t, excl[i])->value, "%s and trace exclude each other (the trace gives %s)",
                     excl[i], i < 3 ? "the requests and their lengths" : "the arrivals; trace_speed scales them");
  const char *name = NULL;
  sl_status s = rd_string(r, t, "trace", 1, &name);
  if (!s) s = rd_double(r, t, "trace_speed", 0, 1e-6, 1e6, &v->trace_speed);
  if (s) return s;
  yt_node *tn = yt_find(t, "trace")->value;
  char path[1280];
  const char *f = tn->file ? tn->file : "";
  const char *slash = strrchr(f, '/');
  int rel = name[0] != '/' && slash && f[0] != '<';
  snprintf(path, sizeof path, "%.*s%s", rel ? (int)(slash - f + 1) : 0, f, name);
  char *kept = ar_alloc(r->a, strlen(path) + 1);
  if (!kept) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  memcpy(kept, path, strlen(path) + 1);
  sl_request *q = NULL;
  size_t n = 0;
  SL_TRY(traffic_read_trace(r->a, kept, &q, &n, r->err));
  v->trace = q, v->n_trace = n, v->requests = (double)n;
  /* lengths for the checks of the scenario (context, chunked prefill): the longest prompt, and the
   * longest request's total less it */
  double maxp = 0, maxt = 0;
  for (size_t i = 0; i < n; i++)
    maxp = fmax(maxp, q[i].prompt), maxt = fmax(maxt, q[i].prompt + q[i].gen);
  v->prompt = (sl_dist){SL_DIST_FIXED, maxp, 0};
  v->gen = (sl_dist){SL_DIST_FIXED, maxt - maxp, 0};
  double span = q[n - 1].arrival - q[0].arrival;
  v->rate_per_s = span > 0 ? (double)(n - 1) / span * v->trace_speed : INFINITY;
  return SL_OK;
}

/* ---- disaggregated pools and the mixed-fleet search (serve.disaggregated, serve.fleet) ---------- */

/* A chip spec (preset name, path or inline map) v at `key`, loaded into the scenario's arena. */
static sl_status read_pool_chip(reader *r, yt_node *v, const char *key, const sl_chip **out) {
  yt_node *tree = NULL;
  rd_mark m = rd_push(r, key);
  sl_status s = spec_resolve(r, "chips", v, &tree);
  sl_chip *c = s ? NULL : ar_alloc(r->a, sizeof *c);
  if (!s && !c) s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  if (!s) s = chip_from_node(r, tree, c);
  if (!s) energy_derive(c, 1), *out = c;
  rd_pop(r, m);
  return s;
}

/* serve.disaggregated.prefill / .decode: {chip, chips, parallel: {tp, pp}}. */
static sl_status read_pool(reader *r, yt_node *t, const char *key, const sl_scenario *sc, sl_serve_pool *p) {
  yt_node *v = yt_get(t, key);
  rd_mark m = rd_push(r, key);
  sl_status s = v ? rd_map(r, v) : rd_missing(r, t, key, "missing key (a disaggregated fleet needs both pools)");
  p->chip = NULL, p->tp = 1, p->pp = 1;
  if (!s && yt_find(v, "chip")) {
    s = read_pool_chip(r, yt_get(v, "chip"), "chip", &p->chip);
    if (!s && !serve_chip_runs(sc, p->chip))
      s = rd_fail(r, yt_get(v, "chip"), "chip %s has no matrix or vector rate for %s (see silica show chip %s)",
                  p->chip->name, sl_dtype_names[sc->a_dtype], p->chip->name);
  }
  if (!s) s = rd_double(r, v, "chips", 1, 1, 1e6, &p->chips);
  yt_node *par = s ? NULL : yt_get(v, "parallel");
  if (par) {
    rd_mark m2 = rd_push(r, "parallel");
    s = rd_map(r, par);
    if (!s) s = rd_double(r, par, "tp", 0, 1, 1024, &p->tp);
    if (!s) s = rd_double(r, par, "pp", 0, 1, 1024, &p->pp);
    if (!s) s = rd_done(r, par);
    rd_pop(r, m2);
  }
  if (!s) s = rd_done(r, v);
  if (!s && (p->chips != floor(p->chips) || p->tp != floor(p->tp) || p->pp != floor(p->pp)))
    s = rd_fail(r, v, "chips, tp and pp must be whole numbers");
  if (!s && fmod(p->chips, p->tp * p->pp) != 0)
    s = rd_fail(r, v, "chips %g is not a multiple of tp*pp = %g", p->chips, p->tp * p->pp);
  if (!s && sc->model.kind == SL_MODEL_TRANSFORMER && fmod((double)sc->model.tf.heads, p->tp) != 0)
    s = rd_fail(r, v, "tp %g does not divide the %ld heads of model %s", p->tp, sc->model.tf.heads,
                sc->model.name);
  if (!s && sc->model.kind == SL_MODEL_TRANSFORMER && p->pp > (double)sc->model.tf.layers)
    s = rd_fail(r, v, "pp %g exceeds the %ld layers of model %s", p->pp, sc->model.tf.layers, sc->model.name);
  rd_pop(r, m);
  return s;
}

static sl_status read_disaggregated(reader *r, yt_node *t, sl_scenario *sc) {
  sl_serve_spec *v = &sc->serve;
  yt_node *d = yt_get(t, "disaggregated");
  if (!d) return SL_OK;
  rd_mark m = rd_push(r, "disaggregated");
  sl_status s = rd_map(r, d);
  v->disaggregated = 1;
  if (!s) s = read_pool(r, d, "prefill", sc, &v->pool[SL_POOL_PREFILL]);
  if (!s) s = read_pool(r, d, "decode", sc, &v->pool[SL_POOL_DECODE]);
  static const char *const links[] = {"auto", "scale_up", "scale_out", NULL};
  if (!s) s = rd_enum(r, d, "link", 0, links, &v->kv_link);
  if (!s) s = rd_double(r, d, "link_GBps", 0, 1e-6, INFINITY, &v->kv_link_GBps);
  if (!s) s = rd_double(r, d, "link_latency_s", 0, 0, 10, &v->kv_link_latency_s);
  if (!s) s = rd_done(r, d);
  rd_pop(r, m);
  return s;
}

static sl_status read_fleet(reader *r, yt_node *t, sl_scenario *sc) {
  sl_serve_fleet *f = &sc->serve.fleet;
  f->max_chips = 16, f->top = 5, f->colocated = f->disaggregated = 1;
  yt_node *v = yt_get(t, "fleet");
  if (!v) return SL_OK;
  rd_mark m = rd_push(r, "fleet");
  sl_status s = rd_map(r, v);
  yt_node *types = s ? NULL : yt_get(v, "chips");
  if (!s && !types) s = rd_missing(r, v, "chips", "missing key (the chip types to mix, e.g. [h100-sxm, b200])");
  if (!s && (types->type != YT_SEQ || types->n == 0 || types->n > SL_FLEET_MAX_TYPES)) {
    rd_mark m2 = rd_push(r, "chips");
    s = rd_fail(r, types, "a list of 1 to %d chip presets or paths", SL_FLEET_MAX_TYPES);
    rd_pop(r, m2);
  }
  for (size_t i = 0; !s && i < types->n; i++) {
    s = read_pool_chip(r, types->items[i], "chips", &f->types[i]);
    f->n_types = (int)i + 1;
  }
  if (!s) s = rd_double(r, v, "max_chips", 0, 1, 4096, &f->max_chips);
  if (!s) s = rd_double(r, v, "top", 0, 1, 100, &f->top);
  if (!s) s = rd_bool(r, v, "colocated", 0, &f->colocated);
  if (!s) s = rd_bool(r, v, "disaggregated", 0, &f->disaggregated);
  if (!s) s = rd_done(r, v);
  if (!s && (f->max_chips != floor(f->max_chips) || f->top != floor(f->top)))
    s = rd_fail(r, v, "max_chips and top must be whole numbers");
  if (!s && !f->colocated && !f->disaggregated) s = rd_fail(r, v, "colocated and disaggregated are both false");
  rd_pop(r, m);
  return s;
}

static sl_status read_serve(reader *r, yt_node *root, sl_scenario *sc) {
  sl_serve_spec *v = &sc->serve;
  memset(v, 0, sizeof *v);
  v->requests = 10000, v->prompt = (sl_dist){SL_DIST_EXP, 1024, 0}, v->gen = (sl_dist){SL_DIST_EXP, 256, 0};
  v->slo_ttft_s = 2.0, v->slo_tpot_s = 0.1;
  v->max_batch_tokens = 8192, v->kv_block_tokens = 16, v->max_seqs = 256, v->chunked_prefill = 1, v->seed = 1;
  v->router = SL_ROUTER_LEAST_TOKENS;
  v->arrivals = SL_ARRIVALS_POISSON, v->cv = 1, v->trace_speed = 1;
  /* the scheduler's limits: the stack's (its engine's defaults) unless serve.scheduler sets them */
  if (sc->stack.max_batch_tokens > 0) v->max_batch_tokens = sc->stack.max_batch_tokens;
  if (sc->stack.max_seqs > 0) v->max_seqs = sc->stack.max_seqs;
  v->trace_speed = 1;
  yt_node *t = yt_get(root, "serve");
  rd_mark m = rd_push(r, "serve");
  sl_status s = t ? rd_map(r, t)
                  : rd_missing(r, root, "serve", "missing key (task: serve needs serve.arrival_rate_per_s)");
  /* traffic: a trace replayed, or the arrival process; a curve of rates */
  if (!s && yt_find(t, "trace")) s = read_trace(r, t, v);
  if (!s && !v->trace) s = read_arrivals(r, t, v);
  if (!s && !v->trace) {
    yt_node *ar = yt_find(t, "arrival_rate_per_s") ? yt_find(t, "arrival_rate_per_s")->value : NULL;
    if (ar && ar->type != YT_SCALAR) {
      yt_get(t, "arrival_rate_per_s");
      rd_mark m2 = rd_push(r, "arrival_rate_per_s");
      s = read_curve(r, ar, v);
      rd_pop(r, m2);
    } else if (ar && ar->type == YT_SCALAR && strcmp(ar->str, "max") == 0) {
      yt_get(t, "arrival_rate_per_s");
      v->rate_per_s = SL_AUTO;
    } else if (ar && ar->type == YT_SCALAR &&
               (strcmp(ar->str, "inf") == 0 || strcasecmp(ar->str, ".inf") == 0)) {
      /* YAML writes infinity .inf (.Inf, .INF) */
      yt_get(t, "arrival_rate_per_s"); /* every request queued at time 0 (maximum load) */
      v->rate_per_s = INFINITY;
    } else {
      s = rd_double(r, t, "arrival_rate_per_s", 1, 1e-9, 1e9, &v->rate_per_s);
    }
  }
  if (!s && !v->trace) s = rd_double(r, t, "requests", 0, 1, 1e7, &v->requests);
  if (!s && v->requests != floor(v->requests)) s = rd_fail(r, t, "requests must be a whole number");
  if (!s && !v->trace) s = read_dist(r, t, "prompt_len", &v->prompt);
  if (!s && !v->trace) s = read_dist(r, t, "gen_len", &v->gen);
  if (!s && !v->trace && yt_find(t, "trace_speed"))
    s = rd_fail(r, yt_find(t, "trace_speed")->value, "trace_speed needs a serve.trace");
  if (!s) s = rd_double(r, t, "seed", 0, 0, 1e18, &v->seed);
  static const char *const routers[] = {"least_tokens", "round_robin", NULL};
  if (!s) s = rd_enum(r, t, "router", 0, routers, &v->router);
  yt_node *slo = s ? NULL : yt_get(t, "slo");
  if (slo) {
    rd_mark m2 = rd_push(r, "slo");
    s = rd_map(r, slo);
    if (!s) s = rd_double(r, slo, "ttft_s", 0, 1e-9, 1e6, &v->slo_ttft_s);
    if (!s) s = rd_double(r, slo, "tpot_s", 0, 1e-9, 1e6, &v->slo_tpot_s);
    if (!s) s = rd_done(r, slo);
    rd_pop(r, m2);
  }
  yt_node *sch = s ? NULL : yt_get(t, "scheduler");
  if (sch) {
    rd_mark m2 = rd_push(r, "scheduler");
    s = rd_map(r, sch);
    if (!s) s = rd_double(r, sch, "max_batch_tokens", 0, 1, 1e6, &v->max_batch_tokens);
    if (!s) s = rd_bool(r, sch, "chunked_prefill", 0, &v->chunked_prefill);
    if (!s) s = rd_double(r, sch, "kv_block_tokens", 0, 1, 1e5, &v->kv_block_tokens);
    if (!s) s = rd_double(r, sch, "max_seqs", 0, 1, 1e6, &v->max_seqs);
    if (!s) s = rd_done(r, sch);
    v->limits_given = (yt_find(sch, "max_batch_tokens") ? 1 : 0) | (yt_find(sch, "max_seqs") ? 2 : 0);
    if (!s && (v->max_batch_tokens != floor(v->max_batch_tokens) ||
               v->kv_block_tokens != floor(v->kv_block_tokens) || v->max_seqs != floor(v->max_seqs)))
      s = rd_fail(r, sch, "scheduler sizes must be whole numbers");
    rd_pop(r, m2);
  }
  /* prefix caching and speculative decoding (docs/serving.md) */
  v->prefix_caching = sc->stack.prefix_caching;
  if (!s) s = rd_bool(r, t, "prefix_caching", 0, &v->prefix_caching);
  yt_node *pfx = s ? NULL : yt_get(t, "prefix");
  if (pfx) { /* synthetic shared prefixes: each request draws one of `groups`, prompt = prefix + its own part */
    rd_mark m2 = rd_push(r, "prefix");
    s = rd_map(r, pfx);
    if (!s) s = rd_double(r, pfx, "groups", 1, 1, 1e7, &v->prefix_groups);
    if (!s) s = rd_double(r, pfx, "tokens", 1, 1, 1e7, &v->prefix_tokens);
    if (!s) s = rd_done(r, pfx);
    if (!s && (v->prefix_groups != floor(v->prefix_groups) || v->prefix_tokens != floor(v->prefix_tokens)))
      s = rd_fail(r, pfx, "groups and tokens must be whole numbers");
    rd_pop(r, m2);
  }
  yt_node *spec = s ? NULL : yt_get(t, "speculative");
  if (spec) { /* a draft model proposes `tokens` tokens a step, the target verifies them */
    rd_mark m2 = rd_push(r, "speculative");
    v->spec_line = yt_find(t, "speculative")->key_line;
    v->spec_acceptance = -1;
    s = rd_map(r, spec);
    yt_node *dn = s ? NULL : yt_get(spec, "draft");
    if (!s && !dn) s = rd_missing(r, spec, "draft", "missing key (the draft model: a preset or an inline model)");
    if (!s) {
      rd_mark m3 = rd_push(r, "draft");
      yt_node *tree = NULL;
      sl_model *dm = ar_alloc(r->a, sizeof *dm);
      if (!dm) s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      if (!s) s = spec_resolve(r, "models", dn, &tree);
      if (!s) s = model_from_node(r, tree, dm);
      if (!s && dm->kind != SL_MODEL_TRANSFORMER) s = rd_fail(r, dn, "the draft must be a transformer model");
      if (!s && dm->tf.vocab == 0) s = rd_fail(r, dn, "the draft model needs a vocabulary (it proposes tokens)");
      v->spec_draft = dm;
      rd_pop(r, m3);
    }
    if (!s) s = rd_double(r, spec, "tokens", 1, 1, 32, &v->spec_tokens);
    if (!s && v->spec_tokens != floor(v->spec_tokens))
      s = rd_fail(r, yt_find(spec, "tokens")->value, "tokens must be a whole number");
    if (!s) s = rd_double(r, spec, "acceptance", 1, 0, 1, &v->spec_acceptance);
    if (!s) s = rd_done(r, spec);
    rd_pop(r, m2);
  }
  /* the same requests sent again (a benchmark's num_request_repeats): requests becomes their total */
  v->repeats = 1;
  if (!s) s = rd_double(r, t, "repeats", 0, 1, 1e4, &v->repeats);
  yt_pair *rp = s ? NULL : yt_find(t, "repeats");
  if (rp) {
    yt_node *rn = rp->value;
    rd_mark m2 = rd_push(r, "repeats");
    if (v->repeats != floor(v->repeats))
      s = rd_fail(r, rn, "must be a whole number");
    else if (v->trace)
      s = rd_fail(r, rn, "a trace gives its own requests: repeat them in the file");
    else if (v->prefix_groups > 0)
      s = rd_fail(
          r, rn,
          "not with serve.prefix: a request has one shared prefix, and a copy shares its whole prompt");
    else if (v->requests * v->repeats > 1e7)
      s = rd_fail(r, rn, "%.0f requests x %.0f repeats is more than 10^7 requests", v->requests, v->repeats);
    rd_pop(r, m2);
    v->requests *= v->repeats;
  }
  /* the measurement window: the whole run, or the server's steady state (B requests in flight) */
  static const char *const windows[] = {"run", "steady", NULL};
  if (!s) s = rd_enum(r, t, "window", 0, windows, &v->window);
  yt_pair *wp = s ? NULL : yt_find(t, "window");
  if (wp) v->window_line = wp->key_line;
  if (wp && v->window == SL_WINDOW_STEADY) {
    double n = v->trace ? (double)v->n_trace : v->requests;
    rd_mark m2 = rd_push(r, "window");
    if (n < v->max_seqs + 2)
      s = rd_fail(r, wp->value,
                  "steady needs at least max_seqs + 2 requests (%.0f with max_seqs %.0f): it measures from "
                  "the max_seqs-th first token to the (requests - max_seqs - 1)-th completion",
                  n, v->max_seqs);
    rd_pop(r, m2);
  }
  /* disaggregated pools and the mixed-fleet search */
  v->kv_link_latency_s = -1;
  if (!s) s = read_disaggregated(r, t, sc);
  if (!s) s = read_fleet(r, t, sc);
  if (!s) s = rd_done(r, t);
  if (!s && !v->chunked_prefill) {
    double longest = (v->prompt.kind == SL_DIST_UNIFORM ? v->prompt.b : v->prompt.a) + v->prefix_tokens;
    if (v->prompt.kind != SL_DIST_EXP && longest > v->max_batch_tokens)
      s = rd_fail(r, t, "without chunked prefill a prompt of %g tokens exceeds max_batch_tokens %g", longest,
                  v->max_batch_tokens);
  }
  rd_pop(r, m);
  return s;
}

static int divides(double a, double b) {
  return b > 0 && fmod(a, b) == 0;
}

/* Checks the parallel degrees against the system and the model, as a run will fill them
 * (scenario_parallel); the scenario keeps them as declared, except training's dp when tp, pp and
 * cp are fixed (its plan search takes the other `auto` keys). */
static sl_status check_parallel(sl_scenario *sc, yt_node *root, sl_error *err) {
  if (sc->model.kind == SL_MODEL_DLRM) return dlrm_check_scenario(sc, root, err); /* sim/dlrm.c */
  sl_parallel q = scenario_parallel(sc), *p = &q;
  const char *f = root->file;
  yt_pair *pk = yt_find(root, "parallel");
  int line = pk ? pk->key_line : 0;
  int is_llm = sc->model.kind == SL_MODEL_TRANSFORMER;
  double heads = is_llm ? (double)sc->model.tf.heads : 1;
  if (sc->model.kind == SL_MODEL_OP) {
    int coll = sc->model.op.type >= SL_OPT_ALL_REDUCE;
    if (!coll && sc->chips > 1)
      return err_set(err, SL_ERR_INPUT, f, 0, "system.chips",
                     "a single %s runs on one chip; use a system of 1 chip (collective ops span the system)",
                     sl_op_type_names[sc->model.op.type]);
    if (coll && sc->chips < 2)
      return err_set(err, SL_ERR_INPUT, f, 0, "system.chips",
                     "a collective needs a system of at least 2 chips");
    return SL_OK;
  }
  if (sc->task != SL_TASK_TRAIN && p->cp > 1)
    return unsupported(err, f, "parallel.cp", "context parallelism for inference");
  double fixed = 1;
  if (p->tp != SL_AUTO) fixed *= p->tp;
  if (p->pp != SL_AUTO) fixed *= p->pp;
  if (p->cp != SL_AUTO) fixed *= p->cp;
  if (p->dp == SL_AUTO && p->tp != SL_AUTO && p->pp != SL_AUTO && p->cp != SL_AUTO)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel",
                   "tp*pp*cp = %g does not divide the %g chips of the system", fixed, sc->chips);
  if (p->dp != SL_AUTO) fixed *= p->dp;
  int all_fixed = p->tp != SL_AUTO && p->pp != SL_AUTO && p->cp != SL_AUTO && p->dp != SL_AUTO;
  if (all_fixed && fixed != sc->chips)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel", "tp*pp*cp*dp = %g but the system has %g chips",
                   fixed, sc->chips);
  if (!all_fixed && !divides(sc->chips, fixed))
    return err_set(err, SL_ERR_INPUT, f, line, "parallel",
                   "the fixed degrees (product %g) do not divide %g chips", fixed, sc->chips);
  if (is_llm && p->tp != SL_AUTO && !divides(heads, p->tp))
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.tp",
                   "tp = %g does not divide the %g attention heads", p->tp, heads);
  if (is_llm && p->pp != SL_AUTO && p->pp > (double)sc->model.tf.layers)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.pp", "pp = %g exceeds the %ld layers", p->pp,
                   sc->model.tf.layers);
  if (p->ep != SL_AUTO && p->ep > 1 && (!is_llm || sc->model.tf.experts == 0))
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.ep",
                   "expert parallelism needs a mixture-of-experts model");
  if (p->ep != SL_AUTO && p->ep > 1 && p->dp != SL_AUTO && p->tp != SL_AUTO && !divides(p->dp * p->tp, p->ep))
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.ep", "ep = %g must divide dp*tp = %g", p->ep,
                   p->dp * p->tp);
  if (p->sp && !sc->stack.sequence_parallel)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.sp", "stack %s has no sequence parallelism",
                   sc->stack.name);
  if (sc->task == SL_TASK_TRAIN && !sc->recompute_auto && sc->recompute == SL_RECOMPUTE_BLOCK &&
      !sc->stack.recompute_block)
    return err_set(err, SL_ERR_INPUT, f, line, "train.recompute", "stack %s has no block recompute",
                   sc->stack.name);
  if (p->zero != SL_AUTO && p->zero > sc->stack.zero_max)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.zero",
                   "stack %s implements ZeRO up to stage %g, not %g", sc->stack.name, sc->stack.zero_max,
                   p->zero);
  if (p->cp != SL_AUTO && p->cp > 1 && sc->stack.context_parallel && !sc->stack.attention_fused)
    return err_set(
        err, SL_ERR_INPUT, f, line, "parallel.cp",
        "context parallelism (ring attention) needs a fused attention kernel; stack %s runs it unfused",
        sc->stack.name);
  if (p->cp != SL_AUTO && p->cp > 1 && !sc->stack.context_parallel)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.cp", "stack %s has no context parallelism",
                   sc->stack.name);
  if (sc->task != SL_TASK_TRAIN && sc->task != SL_TASK_SERVE && !sc->batch_max && p->dp != SL_AUTO &&
      sc->batch < p->dp)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.dp", "dp = %g replicas but a batch of %g", p->dp,
                   sc->batch);
  if (p->vpp != SL_AUTO && p->vpp > 1 && p->pp == 1)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.vpp", "vpp = %g needs pipeline parallelism (pp > 1)",
                   p->vpp);
  if (sc->task == SL_TASK_TRAIN && p->vpp != SL_AUTO && p->vpp > 1 && p->pp != SL_AUTO &&
      p->pp * p->vpp > (double)sc->model.tf.layers)
    return err_set(err, SL_ERR_INPUT, f, line, "parallel.vpp",
                   "vpp = %g: pp*vpp = %g chunks but only %ld layers", p->vpp, p->pp * p->vpp,
                   sc->model.tf.layers);
  if (sc->task == SL_TASK_TRAIN && !sc->global_batch_max && p->dp != SL_AUTO && sc->micro_batch != SL_AUTO &&
      !divides(sc->global_batch, p->dp * sc->micro_batch))
    return err_set(err, SL_ERR_INPUT, f, 0, "train.global_batch",
                   "global_batch %g is not a multiple of dp*micro_batch = %g", sc->global_batch,
                   p->dp * sc->micro_batch);
  if (sc->task == SL_TASK_TRAIN) sc->par = q;
  return SL_OK;
}

/* The line of root.section.key (or of root.section, or 0) for errors. */
static int key_line(yt_node *root, const char *section, const char *key) {
  yt_pair *p = yt_find(root, section);
  if (!p) return 0;
  yt_pair *k = p->value && p->value->type == YT_MAP ? yt_find(p->value, key) : NULL;
  return k ? k->key_line : p->key_line;
}

/* precision.quantized and unquantized_layers name a transformer's linear layers. */
static sl_status check_quantized(const sl_scenario *sc, yt_node *root, sl_error *err) {
  double edges = sc->unquant_first + sc->unquant_last;
  if (!sc->quant_ffn && !(edges > 0)) return SL_OK;
  const char *key = sc->quant_ffn ? "quantized" : "unquantized_layers";
  char path[48];
  snprintf(path, sizeof path, "precision.%s", key);
  if (sc->model.kind != SL_MODEL_TRANSFORMER)
    return err_set(err, SL_ERR_INPUT, root->file, key_line(root, "precision", key), path,
                   "names a transformer's linear layers; model %s is not a transformer",
                   sc->model.name ? sc->model.name : "(inline)");
  double L = (double)sc->model.tf.layers;
  if (edges > L)
    return err_set(err, SL_ERR_INPUT, root->file, key_line(root, "precision", "unquantized_layers"),
                   "precision.unquantized_layers",
                   "first %.0f + last %.0f layers exceed the %.0f layers of model %s", sc->unquant_first,
                   sc->unquant_last, L, sc->model.name ? sc->model.name : "(inline)");
  return SL_OK;
}

/* The longest length a distribution draws (an exponential one has no bound: its mean). */
static double dist_max(const sl_dist *d) {
  return d->kind == SL_DIST_UNIFORM ? d->b : d->a;
}

/* A transformer attends over at most its max_context positions (Hugging Face
 * max_position_embeddings): a sequence past it is an error, not a figure. */
static sl_status check_context(const sl_scenario *sc, yt_node *root, sl_error *err) {
  if (sc->model.kind != SL_MODEL_TRANSFORMER || sc->model.tf.max_context <= 0) return SL_OK;
  double ctx = (double)sc->model.tf.max_context;
  const char *f = root->file, *name = sc->model.name;
  if (sc->task == SL_TASK_TRAIN && sc->seq_len > ctx)
    return err_set(err, SL_ERR_INPUT, f, key_line(root, "train", "seq_len"), "train.seq_len",
                   "seq_len %.0f exceeds the %.0f-token context of model %s (max_context)", sc->seq_len, ctx,
                   name);
  if (sc->task == SL_TASK_PREFILL && sc->prompt_len > ctx)
    return err_set(err, SL_ERR_INPUT, f, key_line(root, "infer", "prompt_len"), "infer.prompt_len",
                   "prompt_len %.0f exceeds the %.0f-token context of model %s (max_context)", sc->prompt_len,
                   ctx, name);
  if ((sc->task == SL_TASK_DECODE || sc->task == SL_TASK_GENERATE) && sc->prompt_len + sc->gen_len > ctx)
    return err_set(err, SL_ERR_INPUT, f, key_line(root, "infer", "prompt_len"), "infer.prompt_len",
                   "prompt_len %.0f + gen_len %.0f = %.0f tokens exceed the %.0f-token context of model %s "
                   "(max_context)",
                   sc->prompt_len, sc->gen_len, sc->prompt_len + sc->gen_len, ctx, name);
  if (sc->task == SL_TASK_SERVE) {
    double p = dist_max(&sc->serve.prompt) + sc->serve.prefix_tokens, g = dist_max(&sc->serve.gen);
    if (p + g > ctx)
      return err_set(err, SL_ERR_INPUT, f, key_line(root, "serve", "prompt_len"), "serve.prompt_len",
                     "requests of up to %.0f + %.0f = %.0f tokens exceed the %.0f-token context of model %s "
                     "(max_context)",
                     p, g, p + g, ctx, name);
  }
  return SL_OK;
}

static sl_status build(sl_scenario *sc, yt_node *root, sl_error *err) {
  reader r = {err, &sc->a, ""};
  SL_TRY(rd_map(&r, root));
  int task = 0;
  SL_TRY(rd_enum(&r, root, "task", 1, sl_task_names, &task));
  sc->task = (sl_task)task;
  SL_TRY(read_spec(&r, root, "chip", "chips", NULL, &sc->chip_tree));
  {
    rd_mark m = rd_push(&r, "chip");
    sl_status s = chip_from_node(&r, sc->chip_tree, &sc->chip);
    rd_pop(&r, m);
    SL_TRY(s);
    energy_derive(&sc->chip, 1);
  }
  SL_TRY(read_spec(&r, root, "model", "models", NULL, &sc->model_tree));
  {
    rd_mark m = rd_push(&r, "model");
    sl_status s = model_from_node(&r, sc->model_tree, &sc->model);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  /* the chip's default_stack for this kind of work, else silica's */
  int kind = sc->model.kind == SL_MODEL_DLRM ? SL_STACK_FOR_DLRM
             : task == SL_TASK_TRAIN         ? SL_STACK_FOR_TRAIN
                                             : SL_STACK_FOR_INFER;
  const char *dflt = sc->chip.default_stack[kind] ? sc->chip.default_stack[kind]
                     : kind == SL_STACK_FOR_DLRM  ? "torchrec-2024"
                     : kind == SL_STACK_FOR_TRAIN ? "megatron-2024"
                                                  : "trtllm";
  yt_node *dstack = yt_scalar_new(&sc->a, dflt, "<default>", 0);
  if (!dstack) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  SL_TRY(read_spec(&r, root, "stack", "stacks", dstack, &sc->stack_tree));
  {
    rd_mark m = rd_push(&r, "stack");
    sl_status s = stack_from_node(&r, sc->stack_tree, &sc->stack);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  SL_TRY(read_precision(&r, root, sc));
  SL_TRY(read_system(&r, root, sc));
  SL_TRY(read_parallel(&r, root, sc));
  int is_llm = sc->model.kind == SL_MODEL_TRANSFORMER;
  if (task == SL_TASK_TRAIN) {
    SL_TRY(read_train(&r, root, sc));
  } else if (yt_find(root, "train")) {
    yt_get(root, "train"); /* allowed but unused: a file may carry both */
  }
  if (task != SL_TASK_TRAIN && task != SL_TASK_SERVE)
    SL_TRY(read_infer(&r, root, sc));
  else if (yt_find(root, "infer"))
    yt_get(root, "infer");
  SL_TRY(read_sampling(&r, root, sc));
  if (task == SL_TASK_SERVE) {
    SL_TRY(read_serve(&r, root, sc));
    sc->batch = 1, sc->prompt_len = 1, sc->gen_len = 1;
  } else if (yt_find(root, "serve")) {
    yt_get(root, "serve");
  }
  /* econ: prices for the cost model : the defaults (data/econ/default.yaml) with a preset,
   * a path or an inline map of any of their keys over them. */
  if (!(sc->econ = ar_alloc(&sc->a, sizeof *sc->econ)))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  {
    rd_mark m = rd_push(&r, "econ");
    sl_status s = econ_load(&r, yt_get(root, "econ"), sc->econ);
    rd_pop(&r, m);
    SL_TRY(s);
  }
  const char *ign = NULL;
  SL_TRY(rd_string(&r, root, "name", 0, &ign));
  SL_TRY(rd_string(&r, root, "description", 0, &ign));
  SL_TRY(rd_done(&r, root));

  /* Consistency of task and model. */
  const char *f = root->file;
  if ((task == SL_TASK_PREFILL || task == SL_TASK_DECODE || task == SL_TASK_GENERATE) && !is_llm)
    return err_set(err, SL_ERR_INPUT, f, yt_find(root, "task")->key_line, "task",
                   "task %s needs a transformer model; use task: infer for ops and DLRM",
                   sl_task_names[task]);
  if (task == SL_TASK_INFER && is_llm)
    return err_set(err, SL_ERR_INPUT, f, yt_find(root, "task")->key_line, "task",
                   "task infer is for ops and DLRM models; a transformer uses prefill, decode or generate");
  if (is_llm && sc->model.tf.vocab == 0 && task == SL_TASK_TRAIN) { /* a stack of layers: fine */
  }
  if (sc->chip.mat_macs_per_cycle[sc->a_dtype] <= 0 && sc->chip.mat_macs_per_cycle[sc->w_dtype] <= 0 &&
      sc->chip.vec_flops_per_cycle[sc->a_dtype] <= 0 &&
      !(sc->model.kind == SL_MODEL_OP && sc->model.op.type >= SL_OPT_EMBEDDING_BAG)) {
    yt_pair *pp = yt_find(root, "precision");
    return err_set(err, SL_ERR_INPUT, f, pp ? pp->key_line : 0, "precision",
                   "chip %s has no matrix or vector rate for %s (see silica show chip %s)", sc->chip.name,
                   sl_dtype_names[sc->a_dtype], sc->chip.name);
  }
  if (sc->g_dtype != sc->a_dtype && sc->chip.mat_macs_per_cycle[sc->g_dtype] <= 0) {
    yt_pair *pp = yt_find(root, "precision");
    return err_set(
        err, SL_ERR_INPUT, f, pp ? pp->key_line : 0, "precision",
        "chip %s has no matrix engine rate for %s, the format of the matrix products (see silica show "
        "chip %s)",
        sc->chip.name, sl_dtype_names[sc->g_dtype], sc->chip.name);
  }
  if (task == SL_TASK_SERVE && !is_llm)
    return err_set(err, SL_ERR_INPUT, f, yt_find(root, "task")->key_line, "task",
                   "task serve needs a transformer model");
  if (sc->batch_max && sc->model.kind == SL_MODEL_OP)
    return err_set(err, SL_ERR_INPUT, f, yt_find(root, "infer")->key_line, "infer.batch",
                   "batch: max is for LLM inference; an op's batch is part of its model");
  /* infer.batch: max stays declared: the run finds the largest batch for the chip it is given. */
  SL_TRY(check_context(sc, root, err));
  SL_TRY(check_quantized(sc, root, err));
  if (sc->power_budget_w > 0) SL_TRY(campaign_size_to_power(sc, root, err));
  SL_TRY(check_parallel(sc, root, err));
  return SL_OK;
}

/* Removes key from a map (a clone's), keeping the order of the others. */
static void map_remove(yt_node *map, const char *key) {
  if (!map || map->type != YT_MAP) return;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->pairs[i].key, key) == 0) {
      memmove(&map->pairs[i], &map->pairs[i + 1], (map->n - i - 1) * sizeof *map->pairs);
      map->n--;
      return;
    }
}

/* train.stages: each stage is checked as the scenario would be with the stage's train and system
 * keys (a clone of the tree with them in place, built in a scratch scenario), and keeps what it
 * changes.  train.tokens is the sum of the stages' tokens when it is not given. */
static sl_status read_stages(sl_scenario *sc, yt_node *root, sl_error *err) {
  yt_node *train = yt_find(root, "train") ? yt_find(root, "train")->value : NULL;
  yt_node *st = train ? (yt_find(train, "stages") ? yt_find(train, "stages")->value : NULL) : NULL;
  reader r = {err, &sc->a, "train.stages"};
  if (!st) return SL_OK;
  if (st->type != YT_SEQ || st->n == 0) return rd_fail(&r, st, "expected a list of {tokens, seq_len, global_batch_tokens}");
  if (sc->model.kind != SL_MODEL_TRANSFORMER) return rd_fail(&r, st, "stages are for transformer training");
  sc->stages = ar_alloc(&sc->a, st->n * sizeof *sc->stages);
  if (!sc->stages) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  double total = 0;
  for (size_t i = 0; i < st->n; i++) {
    yt_node *g = st->items[i];
    rd_mark m = rd_push_index(&r, i);
    sl_train_stage *o = &sc->stages[i];
    memset(o, 0, sizeof *o);
    o->line = g->line;
    double seq = 0, gbt = 0, gb = 0, chips = 0;
    yt_node *par = NULL;
    sl_status s = read_stage_keys(&r, g, &o->tokens, &seq, &gbt, &gb, &chips, &par);
    rd_pop(&r, m);
    SL_TRY(s);
    /* the stage as a scenario: a clone with the stage's keys in place of the scenario's */
    arena a;
    ar_init(&a);
    yt_node *c = yt_clone(&a, root);
    yt_pair *tp = c ? yt_find(c, "train") : NULL;
    yt_node *ct = tp ? tp->value : NULL;
    int oom = !ct;
    if (!oom) {
      map_remove(ct, "stages");
      map_remove(ct, "tokens");
      if (seq > 0) oom |= yt_map_set(&a, ct, "seq_len", g->type == YT_MAP ? yt_find(g, "seq_len")->value : NULL);
      if (gbt > 0 || gb > 0) {
        map_remove(ct, "global_batch");
        map_remove(ct, "global_batch_tokens");
        const char *k = gb > 0 ? "global_batch" : "global_batch_tokens";
        oom |= yt_map_set(&a, ct, k, yt_find(g, k)->value);
      }
      if (par) oom |= yt_map_set(&a, c, "parallel", par);
      if (chips > 0) {
        yt_pair *sp = yt_find(c, "system");
        yt_node *sys = sp ? sp->value : NULL;
        if (!sys || sys->type != YT_MAP) { /* a preset name or path: {preset: it, chips: N} */
          yt_node *w = yt_map_new(&a, g->file, g->line);
          oom |= !w || (sys && yt_map_set(&a, w, "preset", sys)) || yt_map_set(&a, c, "system", w);
          sys = w;
        }
        if (!oom) oom |= yt_map_set(&a, sys, "chips", yt_find(g, "chips")->value);
        if (!oom && par == NULL && yt_find(c, "parallel")) { /* a fixed plan of other chips: dp follows */
          yt_node *p0 = yt_find(c, "parallel")->value;
          if (p0->type == YT_MAP) map_remove(p0, "dp");
        }
      }
    }
    sl_scenario *x = oom ? NULL : calloc(1, sizeof *x);
    sl_status s2 = SL_OK;
    if (!x) {
      s2 = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    } else {
      ar_init(&x->a);
      x->file = sc->file;
      s2 = build(x, c, err);
      if (!s2) {
        o->seq_len = x->seq_len, o->global_batch = x->global_batch, o->micro_batch = x->micro_batch;
        o->chips = chips > 0 ? x->chips : 0, o->node_chips = x->node_chips;
        o->has_par = par != NULL || chips > 0;
        o->par = x->par;
      } else if (err && err->key[0] && strncmp(err->key, "train.stages", 12) != 0) {
        /* the stage's own keys were the ones it read: name the stage */
        char k[sizeof err->key + 64];
        snprintf(k, sizeof k, "train.stages[%zu].%s", i, err->key);
        memcpy(err->key, k, sizeof err->key - 1);
        err->key[sizeof err->key - 1] = 0;
      }
      sl_scenario_free(x);
    }
    ar_free(&a);
    SL_TRY(s2);
    total += o->tokens;
  }
  sc->n_stages = st->n;
  if (sc->train_tokens <= 0) sc->train_tokens = total;
  else if (fabs(sc->train_tokens - total) > 1e-6 * total)
    return err_set(err, SL_ERR_INPUT, train->file, yt_find(train, "tokens")->key_line, "train.tokens",
                   "train.tokens (%g) is not the sum of the stages' tokens (%g)", sc->train_tokens, total);
  return SL_OK;
}

sl_status sl_scenario_load(const char *path, const char *text, const char *const *sets, size_t n_sets,
                           sl_scenario **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  *out = NULL;
  sl_scenario *sc = calloc(1, sizeof *sc);
  if (!sc) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  ar_init(&sc->a);
  yt_node *root = NULL;
  sl_status s;
  if (path)
    s = yt_parse_file(&sc->a, path, &root, err);
  else if (text)
    s = yt_parse(&sc->a, text, strlen(text), "<inline>", &root, err);
  else {
    root = yt_map_new(&sc->a, "<command line>", 0);
    s = root ? SL_OK : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  if (!s && root->type != YT_MAP) {
    reader r = {err, &sc->a, ""};
    s = rd_fail(&r, root, "a scenario is a map of keys (chip, model, task, ...)");
  }
  for (size_t i = 0; !s && i < n_sets; i++)
    s = apply_set(&sc->a, root, sets[i], err);
  if (!s) {
    sc->file = root->file;
    /* Provenance: hash of the scenario text and the overrides. */
    jbuf jb;
    jb_init(&jb);
    jb_node(&jb, NULL, root);
    if (jb.oom || !jb.s) /* a hash of partial text would name other inputs */
      s = err_set(err, SL_ERR_INTERNAL, sc->file, 0, "", "out of memory (input hash)");
    else
      sha256_hex(jb.s, jb.len, sc->input_sha256);
    jb_free(&jb);
    if (!s) s = build(sc, root, err);
    if (!s && sc->task == SL_TASK_TRAIN) s = read_stages(sc, root, err);
    if (!s && sc->serve.trace) { /* a replayed trace is input too: the hash of both hashes */
      char both[130];
      memcpy(both, sc->input_sha256, 64);
      sha256_hex(sc->serve.trace, sc->serve.n_trace * sizeof *sc->serve.trace, both + 64);
      sha256_hex(both, 128, sc->input_sha256);
    }
  }
  if (!s) s = resid_load(&sc->a, &sc->resid, err);
  if (!s) s = power_resid_load(&sc->a, &sc->power_resid, err);
  if (!s) s = energy_resid_load(&sc->a, &sc->energy_resid, err);
  if (!s) s = interval_prepare(sc, err);
  if (s) {
    sl_scenario_free(sc);
    return s;
  }
  *out = sc;
  return SL_OK;
}

void sl_scenario_free(sl_scenario *sc) {
  if (!sc) return;
  ar_free(&sc->a);
  free(sc);
}
