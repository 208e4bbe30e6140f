/* out_show.c — the presets compiled into silica (data/) or spec files, and the figures silica derives
 * from them, as `silica list` and `silica show` print them (include/silica.h sl_preset_list,
 * sl_spec_show). */
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The command word (singular, as in `show chip`) and the preset kind (plural, as in data/). */
static const struct {
  const char *one, *kind;
} KINDS[] = {{"chip", "chips"}, {"stack", "stacks"}, {"model", "models"}, {"system", "systems"}};

/* The plural kind of `word` (either form), NULL when it is none. */
static const char *kind_of(const char *word) {
  for (size_t i = 0; word && i < SL_ARRAY_LEN(KINDS); i++)
    if (strcmp(word, KINDS[i].one) == 0 || strcmp(word, KINDS[i].kind) == 0) return KINDS[i].kind;
  return NULL;
}

/* A spec of `kind`, parsed into `spec` (one of sl_chip, sl_stack, sl_model; nothing for systems). */
typedef struct loaded {
  yt_node *tree;
  sl_chip chip;
  sl_stack stack;
  sl_model model;
} loaded;

/* `name` is a preset name, a path, or inline YAML, resolved as a scenario value would be. */
static sl_status load_spec(arena *a, const char *kind, const char *name, loaded *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  memset(err, 0, sizeof *err);
  reader r = {err, a, ""};
  yt_node *v = NULL;
  sl_status s = SL_OK;
  if (name[0] == '{') /* inline YAML map */
    s = yt_parse(a, name, strlen(name), "<command line>", &v, err);
  else if (!(v = yt_scalar_new(a, name, "<command line>", 0)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (size_t i = 0; i < SL_ARRAY_LEN(KINDS); i++)
    if (strcmp(KINDS[i].kind, kind) == 0) rd_push(&r, KINDS[i].one);
  if (!s) s = spec_resolve(&r, kind, v, &out->tree);
  if (!s && strcmp(kind, "chips") == 0 && !(s = chip_from_node(&r, out->tree, &out->chip)))
    energy_derive(&out->chip, 1);
  if (!s && strcmp(kind, "stacks") == 0) s = stack_from_node(&r, out->tree, &out->stack);
  if (!s && strcmp(kind, "models") == 0) s = model_from_node(&r, out->tree, &out->model);
  if (!s && strcmp(kind, "systems") == 0) s = rd_map(&r, out->tree);
  return s;
}

/* ---- derived chip figures ---------------------------------------------------------------------- */

/* The format the ridge point is quoted for: bf16, else the first format the matrix engine has. */
static sl_dtype ridge_format(const sl_chip *c) {
  static const sl_dtype order[] = {SL_BF16, SL_FP16, SL_FP8, SL_INT8, SL_TF32, SL_FP32, SL_INT4, SL_FP4};
  for (size_t i = 0; i < SL_ARRAY_LEN(order); i++)
    if (c->mat_macs_per_cycle[order[i]] > 0) return order[i];
  return SL_BF16;
}

static double dram_Bps(const sl_chip *c) {
  return chip_dram(c)->bw_GBps * 1e9;
}

static const char *chip_status(const sl_chip *c) {
  return c->validated ? "calibrated" : "unvalidated";
}

static const char *scalar_of(yt_node *map, const char *key) {
  yt_pair *p = yt_find(map, key);
  return p && p->value && p->value->type == YT_SCALAR ? p->value->str : NULL;
}

/* ---- list -------------------------------------------------------------------------------------- */

static void list_chip(jbuf *b, const loaded *l) {
  const sl_chip *c = &l->chip;
  sl_dtype f = ridge_format(c);
  char cap[32];
  unit_bytes(chip_dram_bytes(c), cap, sizeof cap);
  rep_printf(b, "%s %.1f TFLOPS, %.0f GB/s, %s, %.0f W, %s", sl_dtype_names[f], chip_peak_flops(c, f) / 1e12,
             chip_dram(c)->bw_GBps, cap, c->tdp_w, chip_status(c));
  if (c->description[0]) rep_printf(b, " - %s", c->description);
}

static void list_stack(jbuf *b, const loaded *l) {
  const sl_stack *s = &l->stack;
  char t[32];
  unit_time(s->kernel_overhead_s, t, sizeof t);
  rep_printf(b, "attention %s, elementwise %s, launch %s%s", sl_attn_kernel_names[s->attention_kernel],
             s->fused_elementwise ? "fused" : "unfused", t, s->graphs ? ", graphs" : "");
  if (s->description[0]) rep_printf(b, " - %s", s->description);
}

static void list_model(jbuf *b, const loaded *l) {
  const sl_model *m = &l->model;
  if (m->kind == SL_MODEL_TRANSFORMER) {
    const sl_transformer *t = &m->tf;
    rep_printf(b, "%.2f B parameters; %ld layers, hidden %ld, %ld heads (%ld kv)", model_params(m) / 1e9,
               t->layers, t->hidden, t->heads, t->kv_heads);
    if (t->experts) rep_printf(b, ", %ld experts (%ld per token)", t->experts, t->experts_per_token);
  } else if (m->kind == SL_MODEL_DLRM) {
    const sl_dlrm *d = &m->dlrm;
    rep_printf(b, "DLRM: %zu tables, %.4g M rows, %.4g MFLOP/sample", d->n_tables, dlrm_emb_rows(d) / 1e6,
               dlrm_flops_per_sample(d) / 1e6);
  } else {
    rep_printf(b, "single op");
  }
  const char *d = scalar_of(l->tree, "description");
  if (d && d[0]) rep_printf(b, " - %s", d);
}

static void list_system(jbuf *b, const loaded *l) {
  const char *chips = scalar_of(l->tree, "chips"), *node = scalar_of(l->tree, "node_chips");
  const char *chip = scalar_of(l->tree, "chip"), *d = scalar_of(l->tree, "description");
  rep_printf(b, "%s chips", chips ? chips : "?");
  if (node) rep_printf(b, ", %s per node", node);
  if (chip) rep_printf(b, " of %s", chip);
  if (d && d[0]) rep_printf(b, " - %s", d);
}

/* ---- show: JSON --------------------------------------------------------------------------------- */

/* The collective figures of a link beyond its bandwidth (docs/model.md 5), one line, when it has any. */
static void link_collectives_text(jbuf *b, const sl_link *l) {
  if (!(l->ll_efficiency > 0 || l->switch_reduce_efficiency > 0 || l->p2p_efficiency > 0 ||
        l->multimem_efficiency > 0 || l->base_latency_s > 0 || l->local_GBps > 0))
    return;
  char t[7][32];
  unit_time(l->p2p_peer_latency_s, t[6], sizeof t[6]);
  unit_time(l->p2p_one_shot_latency_s, t[4], sizeof t[4]);
  unit_time(l->symm_two_shot_latency_s, t[5], sizeof t[5]);
  unit_time(l->base_latency_s, t[0], sizeof t[0]);
  unit_time(l->switch_reduce_latency_s, t[1], sizeof t[1]);
  unit_time(l->p2p_latency_s, t[2], sizeof t[2]);
  unit_time(l->multimem_latency_s, t[3], sizeof t[3]);
  rep_printf(b, "  collectives: bus efficiency %.3g, start-up %s", l->efficiency, t[0]);
  if (l->ll_efficiency > 0) rep_printf(b, "; low-latency protocol %.3g", l->ll_efficiency);
  if (l->local_GBps > 0) rep_printf(b, "; a ring's local step %.4g GB/s", l->local_GBps);
  if (l->switch_reduce_efficiency > 0)
    rep_printf(b, "; in-switch reduction %.3g, +%s", l->switch_reduce_efficiency, t[1]);
  if (l->p2p_efficiency > 0 && l->p2p_one_shot_efficiency > 0)
    rep_printf(b, "; peer-to-peer kernels: one-shot %.3g, %s; two-shot %.3g, %s a stage",
               l->p2p_one_shot_efficiency, t[4], l->p2p_efficiency, t[2]);
  else if (l->p2p_efficiency > 0)
    rep_printf(b, "; peer-to-peer kernel %.3g, %s a stage", l->p2p_efficiency, t[2]);
  if (l->p2p_efficiency > 0 && l->p2p_peer_latency_s > 0) rep_printf(b, " and %s a peer", t[6]);
  if (l->multimem_efficiency > 0) rep_printf(b, "; multimem kernel %.3g, %s", l->multimem_efficiency, t[3]);
  if (l->symm_two_shot_efficiency > 0)
    rep_printf(b, "; symmetric-memory two-shot kernel %.3g, %s", l->symm_two_shot_efficiency, t[5]);
  rep_printf(b, "\n");
}

static void json_link(jbuf *b, const char *key, const sl_link *l) {
  if (l->bw_GBps > 0) link_json(b, key, l);
}

static void json_chip_memory(jbuf *b, const sl_chip *c) {
  jb_arr_begin(b, "memory");
  for (int i = 0; i < c->n_mem; i++) {
    const sl_mem_level *m = &c->mem[i];
    jb_obj_begin(b, NULL);
    jb_str(b, "name", m->name);
    jb_num(b, "capacity_bytes", m->capacity_bytes);
    jb_num(b, "bw_GBps", m->bw_GBps);
    jb_num(b, "latency_s", m->latency_s);
    jb_bool(b, "per_core", m->per_core);
    jb_obj_end(b);
  }
  jb_arr_end(b);
}

static void json_chip_efficiency(jbuf *b, const sl_chip *c) {
  jb_obj_begin(b, "efficiency");
  jb_obj_begin(b, "gemm");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0) jb_num(b, sl_dtype_names[f], c->eff_gemm[f]);
  jb_obj_end(b);
  jb_str(b, "gemm_source", c->eff_gemm_source);
  jb_num(b, "dram", c->eff_dram);
  jb_str(b, "dram_source", c->eff_dram_source);
  jb_num(b, "sram", c->eff_sram);
  jb_num(b, "vector", c->eff_vector);
  jb_obj_end(b);
}

/* ---- area, energy and cost of a chip ---------------------------------------------------------------- */

static sl_status default_econ(arena *a, sl_econ *e) {
  sl_error err;
  reader r = {&err, a, ""};
  return econ_load(&r, NULL, e);
}

static void json_chip_area_energy(jbuf *b, const sl_chip *c, const sl_area *ar) {
  jb_obj_begin(b, "area_breakdown_mm2");
  jb_num(b, "matrix", ar->matrix_mm2);
  jb_num(b, "vector", ar->vector_mm2);
  jb_num(b, "control", ar->control_mm2);
  jb_num(b, "core_sram", ar->core_sram_mm2);
  jb_num(b, "shared_sram", ar->shared_sram_mm2);
  jb_num(b, "noc", ar->noc_mm2);
  jb_num(b, "dram_io", ar->dram_io_mm2);
  jb_num(b, "link_io", ar->link_io_mm2);
  jb_num(b, "other", ar->other_mm2);
  jb_obj_end(b);
  const sl_energy_spec *E = &c->energy;
  jb_obj_begin(b, "energy");
  jb_num(b, "idle_power_w", E->static_w);
  jb_num(b, "dynamic_scale", c->energy_dynamic_scale > 0 ? c->energy_dynamic_scale : 1.0);
  jb_num(b, "busy_w", E->busy_w);
  jb_num(b, "limit_clock_ratio", c->energy_limit_clock > 0 ? c->energy_limit_clock : 1.0);
  jb_obj_begin(b, "mac_pj");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0) jb_num(b, sl_dtype_names[f], E->mac_j[f] * 1e12);
  jb_obj_end(b);
  jb_obj_begin(b, "mac_with_operands_pj");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0)
      jb_num(b, sl_dtype_names[f],
             (E->mac_j[f] + E->operand_bytes_per_mac[f] * E->operand_j_per_byte) * 1e12);
  jb_obj_end(b);
  jb_num(b, "operand_pj_per_byte", E->operand_j_per_byte * 1e12);
  jb_num(b, "core_sram_pj_per_byte", E->core_sram_j_per_byte * 1e12);
  jb_num(b, "shared_pj_per_byte", E->shared_j_per_byte * 1e12);
  jb_num(b, "dram_pj_per_bit", E->dram_j_per_byte * 1e12 / 8);
  jb_num(b, "link_pj_per_bit", E->link_j_per_byte * 1e12 / 8);
  jb_str(b, "source", E->source[0] ? E->source : "derived from process_nm (docs/energy-cost.md)");
  jb_obj_end(b);
  arena a;
  ar_init(&a);
  sl_econ e;
  if (!default_econ(&a, &e)) {
    sl_chip_cost cc;
    econ_chip_cost(&e, c, c->scale_up.bw_GBps, c->scale_out.bw_GBps, &cc);
    jb_obj_begin(b, "cost_usd");
    jb_num(b, "die", cc.die_usd);
    jb_num(b, "dies_per_wafer", cc.dies_per_wafer);
    jb_num(b, "yield", cc.yield);
    jb_num(b, "package", cc.package_usd);
    jb_num(b, "memory", cc.memory_usd);
    jb_num(b, "board", cc.board_usd);
    jb_num(b, "chip", cc.chip_usd);
    jb_num(b, "position", cc.position_usd);
    jb_obj_end(b);
  }
  ar_free(&a);
}

static void text_chip_area_energy(jbuf *b, const sl_chip *c) {
  sl_area ar;
  area_estimate(c, &ar);
  if (c->area_mm2 > 0)
    rep_printf(b, "area: published %g mm2; estimate %.0f mm2 (%+.0f%%)\n", c->area_mm2, ar.total_mm2,
               100 * (ar.total_mm2 / c->area_mm2 - 1));
  else
    rep_printf(b, "area: not published; estimate %.0f mm2\n", ar.total_mm2);
  rep_printf(
      b,
      "  matrix %.0f, vector %.0f, control %.0f, core SRAM %.0f, shared SRAM %.0f, NoC %.0f, DRAM I/O %.0f, "
      "links %.0f, other %.0f mm2\n",
      ar.matrix_mm2, ar.vector_mm2, ar.control_mm2, ar.core_sram_mm2, ar.shared_sram_mm2, ar.noc_mm2,
      ar.dram_io_mm2, ar.link_io_mm2, ar.other_mm2);
  const sl_energy_spec *E = &c->energy;
  sl_dtype f = ridge_format(c);
  rep_printf(
      b,
      "energy%s: idle %.0f W (%.0f%% of TDP); %s MAC %.3f pJ (%.3f pJ with operand delivery); SRAM per core "
      "%.2f, shared %.2f pJ/B; DRAM %.2f, links %.1f pJ/bit\n",
      E->source[0] ? " (spec)" : "", E->static_w, 100 * E->static_w / c->tdp_w, sl_dtype_names[f],
      E->mac_j[f] * 1e12, (E->mac_j[f] + E->operand_bytes_per_mac[f] * E->operand_j_per_byte) * 1e12,
      E->core_sram_j_per_byte * 1e12, E->shared_j_per_byte * 1e12, E->dram_j_per_byte * 1e12 / 8,
      E->link_j_per_byte * 1e12 / 8);
  if (c->energy_dynamic_scale > 0 && c->energy_dynamic_scale != 1)
    rep_printf(b,
               "  on-chip figures x %.4g (energy.dynamic_scale, from measured board power: energy.source)\n",
               c->energy_dynamic_scale);
  if (E->top_scale > 1)
    rep_printf(b,
               "  those figures at the clock of a GEMM held at the TDP, %.3g of the top clock "
               "(energy.limit_clock_ratio); under the limit an action costs %.3gx\n",
               c->energy_limit_clock, E->top_scale);
  if (E->busy_w > 0)
    rep_printf(b, "  busy power %.0f W above idle while a kernel occupies every core (energy.busy_w)\n",
               E->busy_w);
  arena a;
  ar_init(&a);
  sl_econ e;
  if (!default_econ(&a, &e)) {
    sl_chip_cost cc;
    econ_chip_cost(&e, c, c->scale_up.bw_GBps, c->scale_out.bw_GBps, &cc);
    rep_printf(
        b,
        "cost (default prices): die $%.0f (%.1f dies per wafer, yield %.0f%%), package $%.0f, memory $%.0f, "
        "board $%.0f; with host and network shares $%.0f per chip\n",
        cc.die_usd, cc.dies_per_wafer, 100 * cc.yield, cc.package_usd, cc.memory_usd, cc.board_usd,
        cc.position_usd);
  }
  ar_free(&a);
}

static void json_chip(jbuf *b, const sl_chip *c) {
  sl_dtype rf = ridge_format(c);
  jb_str(b, "name", c->name);
  jb_str(b, "description", c->description);
  jb_str(b, "file", c->file);
  if (c->arch && c->arch[0]) jb_str(b, "arch", c->arch);
  jb_num(b, "process_nm", c->process_nm);
  jb_num(b, "clock_ghz", c->clock_ghz);
  jb_num(b, "cores", c->cores);
  jb_num(b, "tdp_w", c->tdp_w);
  jb_num(b, "area_mm2_published", c->area_mm2 > 0 ? c->area_mm2 : NAN);
  {
    sl_area ar;
    area_estimate(c, &ar);
    jb_num(b, "area_mm2_estimate", ar.total_mm2);
    json_chip_area_energy(b, c, &ar);
  }
  chip_json_peaks(b, c);
  jb_num(b, "dram_bw_GBps", chip_dram(c)->bw_GBps);
  jb_num(b, "dram_capacity_bytes", chip_dram_bytes(c));
  jb_num(b, "ridge_flops_per_byte", chip_peak_flops(c, rf) / dram_Bps(c));
  jb_str(b, "ridge_format", sl_dtype_names[rf]);
  chip_json_ridges(b, "ridge_flops_per_byte_by_format", c);
  jb_obj_begin(b, "matrix_shape");
  jb_num(b, "m", c->mat_shape_m);
  jb_num(b, "n", c->mat_shape_n);
  jb_num(b, "k", c->mat_shape_k);
  jb_obj_end(b);
  json_chip_memory(b, c);
  jb_obj_begin(b, "links");
  json_link(b, "scale_up", &c->scale_up);
  json_link(b, "scale_out", &c->scale_out);
  json_link(b, "host", &c->host);
  jb_obj_end(b);
  jb_obj_begin(b, "kernels");
  jb_num(b, "latency_s", c->kernel_latency_s);
  jb_num(b, "gemm_stream_stall", c->gemm_stream_stall);
  jb_num(b, "attention_tile_s", c->attn_tile_s);
  jb_num(b, "paged_attention_call_s", c->attn_paged_call_s);
  jb_num(b, "paged_attention_seq_s", c->attn_paged_seq_s);
  jb_num(b, "max_split_k", c->max_split_k);
  jb_arr_begin(b, "tiles");
  for (int i = 0; i < c->n_tiles; i++) {
    jb_obj_begin(b, NULL);
    jb_num(b, "m", c->tiles[i].m);
    jb_num(b, "n", c->tiles[i].n);
    jb_num(b, "k", c->tiles[i].k);
    if (c->tiles[i].warp_m > 0) jb_num(b, "warp_m", c->tiles[i].warp_m), jb_num(b, "warp_n", c->tiles[i].warp_n);
    if (c->tiles[i].max_rows > 0) jb_num(b, "max_rows", c->tiles[i].max_rows);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_end(b);
  json_chip_efficiency(b, c);
  jb_obj_begin(b, "default_stack"); /* null: silica's default for that kind of work */
  for (int i = 0; i < SL_STACK_FOR_COUNT; i++)
    if (c->default_stack[i])
      jb_str(b, sl_stack_for_names[i], c->default_stack[i]);
    else
      jb_null(b, sl_stack_for_names[i]);
  jb_obj_end(b);
  jb_obj_begin(b, "validation");
  jb_str(b, "status", chip_status(c));
  jb_str(b, "note", c->validation_note);
  jb_obj_end(b);
}

static void json_stack(jbuf *b, const sl_stack *s) {
  jb_str(b, "name", s->name);
  jb_str(b, "description", s->description);
  jb_str(b, "attention", sl_attn_kernel_names[s->attention_kernel]);
  jb_bool(b, "fused_elementwise", s->fused_elementwise);
  jb_num(b, "kernel_overhead_s", s->kernel_overhead_s);
  jb_bool(b, "graphs", s->graphs);
  jb_bool(b, "cold_cache", s->cold_cache);
  jb_bool(b, "overlap_tp_comm", s->overlap_tp_comm);
  jb_bool(b, "overlap_dp_comm", s->overlap_dp_comm);
  jb_num(b, "efficiency", s->efficiency);
  jb_num(b, "host_step_s", s->host_step_s);
  jb_num(b, "host_seq_s", s->host_seq_s);
  jb_bool(b, "host_overlap", s->host_overlap);
  jb_bool(b, "host_sync", s->host_sync);
  if (s->fit_cases) jb_str(b, "fit_cases", s->fit_cases);
  jb_arr_begin(b, "fitted");
  for (int k = 0; k < SL_STACK_FIGS; k++)
    if (s->fitted >> k & 1u) jb_str(b, NULL, stack_fig_key(k));
  jb_arr_end(b);
  jb_num(b, "zero", s->zero);
  jb_num(b, "zero_max", s->zero_max);
  jb_bool(b, "overlap_pp_comm", s->overlap_pp_comm);
  jb_bool(b, "recompute_block", s->recompute_block);
  jb_bool(b, "gelu_epilogue", s->gelu_epilogue);
  jb_bool(b, "custom_allreduce", s->custom_allreduce);
  jb_bool(b, "symm_mem_allreduce", s->symm_mem_allreduce);
  jb_str(b, "p2p_allreduce", sl_p2p_kernel_names[s->p2p_allreduce]);
  jb_arr_begin(b, "allreduce_limits");
  for (int i = 0; i < s->n_ar_limits; i++) {
    const sl_ar_limits *l = &s->ar_limits[i];
    jb_obj_begin(b, NULL);
    jb_str(b, "arch", l->arch);
    jb_arr_begin(b, "custom_max_bytes");
    for (int k = 0; k < SL_AR_RANKS; k++)
      jb_num(b, NULL, l->custom_max[k]);
    jb_arr_end(b);
    jb_arr_begin(b, "symm_mem_max_bytes");
    for (int k = 0; k < SL_AR_RANKS; k++)
      jb_num(b, NULL, l->symm_max[k]);
    jb_arr_end(b);
    jb_arr_begin(b, "multimem_ranks");
    for (int k = 0; k < SL_AR_RANKS; k++)
      if (l->multimem[k]) jb_num(b, NULL, 2 * (k + 1));
    jb_arr_end(b);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  if (s->memory_utilization > 0) jb_num(b, "memory_utilization", s->memory_utilization);
  jb_bool(b, "fused_add_norm", s->fused_add_norm);
  jb_str(b, "sampler", sl_sampler_names[s->sampler]);
}

static const char *model_kind(const sl_model *m) {
  return m->kind == SL_MODEL_TRANSFORMER ? "transformer" : m->kind == SL_MODEL_DLRM ? "dlrm" : "op";
}

static void json_model(jbuf *b, const loaded *l) {
  const sl_model *m = &l->model;
  int tf = m->kind == SL_MODEL_TRANSFORMER || m->kind == SL_MODEL_DLRM;
  jb_str(b, "name", m->name);
  jb_str(b, "kind", model_kind(m));
  jb_str(b, "file", m->file);
  jb_obj_begin(b, "parameters");
  jb_num(b, "total", tf ? model_params(m) : NAN);
  jb_num(b, "matmul", tf ? model_matmul_params(m) : NAN);
  jb_num(b, "published", m->params_published > 0 ? m->params_published : NAN);
  jb_obj_end(b);
  if (m->kind == SL_MODEL_DLRM) {
    const sl_dlrm *d = &m->dlrm;
    double look = 0;
    for (size_t i = 0; i < d->n_tables; i++)
      look += d->tables[i].pooling;
    jb_obj_begin(b, "dlrm");
    jb_num(b, "tables", (double)d->n_tables);
    jb_num(b, "rows", dlrm_emb_rows(d));
    jb_num(b, "lookups_per_sample", look);
    jb_num(b, "flops_per_sample", dlrm_flops_per_sample(d));
    jb_num(b, "interaction_width", dlrm_interaction_out(d));
    jb_obj_end(b);
  }
  jb_node(b, "config", l->tree);
}

static void json_system(jbuf *b, const loaded *l) {
  const char *name = scalar_of(l->tree, "name");
  jb_str(b, "name", name ? name : "inline");
  jb_str(b, "file", l->tree->file);
  jb_node(b, "config", l->tree);
}

/* ---- show: text ---------------------------------------------------------------------------------- */

static void text_chip_compute(jbuf *b, const sl_chip *c) {
  rep_printf(b, "matrix peak (dense) and ridge point (peak / DRAM bandwidth):\n");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0)
      rep_printf(b, "  %-5s %9.1f TFLOP/s   ridge %7.1f FLOP/byte   gemm efficiency %.2f\n",
                 sl_dtype_names[f], chip_peak_flops(c, (sl_dtype)f) / 1e12,
                 chip_peak_flops(c, (sl_dtype)f) / dram_Bps(c), c->eff_gemm[f]);
  rep_printf(b, "vector peak:");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->vec_flops_per_cycle[f] > 0)
      rep_printf(b, " %s %.1f TFLOP/s;", sl_dtype_names[f], chip_vec_flops(c, (sl_dtype)f) / 1e12);
  rep_printf(b, " efficiency %.2f\n", c->eff_vector);
}

static void text_chip_memory(jbuf *b, const sl_chip *c) {
  rep_printf(b, "memory (innermost first):\n");
  for (int i = 0; i < c->n_mem; i++) {
    const sl_mem_level *m = &c->mem[i];
    char cap[32], lat[32];
    unit_bytes(m->capacity_bytes, cap, sizeof cap);
    unit_time(m->latency_s, lat, sizeof lat);
    rep_printf(b, "  %-8s %12s  %10.0f GB/s  latency %s%s\n", m->name, cap, m->bw_GBps, lat,
               m->per_core ? "  (per core)" : "");
  }
  static const char *const ln[] = {"scale_up", "scale_out", "host"};
  const sl_link *lk[] = {&c->scale_up, &c->scale_out, &c->host};
  for (int i = 0; i < 3; i++)
    if (lk[i]->bw_GBps > 0) {
      char lat[32];
      unit_time(lk[i]->latency_s, lat, sizeof lat);
      rep_printf(b, "link %-9s %.0f GB/s per direction, latency %s", ln[i], lk[i]->bw_GBps, lat);
      if (lk[i]->mesh_links > 0)
        rep_printf(b, "; a full mesh of %.0f links (%.0f GB/s each)", lk[i]->mesh_links,
                   lk[i]->bw_GBps / lk[i]->mesh_links);
      rep_printf(b, "\n");
      link_collectives_text(b, lk[i]);
    }
}

static void text_chip(jbuf *b, const sl_chip *c) {
  sl_dtype rf = ridge_format(c);
  rep_printf(b, "chip %s%s%s\n", c->name, c->description[0] ? " - " : "", c->description);
  rep_printf(b, "file: %s\n", c->file);
  rep_printf(b, "%g nm, %d cores at %g GHz, TDP %g W%s%s\n", c->process_nm, c->cores, c->clock_ghz, c->tdp_w,
             c->arch && c->arch[0] ? ", architecture " : "", c->arch ? c->arch : "");
  text_chip_area_energy(b, c);
  text_chip_compute(b, c);
  rep_printf(b, "DRAM %.0f GB/s (efficiency %.2f), ridge %.1f FLOP/byte at %s\n", chip_dram(c)->bw_GBps,
             c->eff_dram, chip_peak_flops(c, rf) / dram_Bps(c), sl_dtype_names[rf]);
  {
    char t[32];
    unit_time(c->kernel_latency_s, t, sizeof t);
    rep_printf(b, "kernels: %s fixed time", t);
    for (int i = 0; i < SL_DTYPE_COUNT; i++)
      if (c->gemm_latency_s[i] > 0) {
        unit_time(c->gemm_latency_s[i], t, sizeof t);
        rep_printf(b, ", %s GEMMs %s", sl_dtype_names[i], t);
      }
    if (c->gemm_stream_stall > 0)
      rep_printf(b, "; a GEMM's DRAM stream stalls for %.3g of its MAC time (kernels.gemm_stream_stall)",
                 c->gemm_stream_stall);
    if (c->attn_paged_call_s > 0 || c->attn_paged_seq_s > 0) {
      unit_time(c->attn_paged_call_s, t, sizeof t);
      char u[32];
      unit_time(c->attn_paged_seq_s, u, sizeof u);
      rep_printf(b, "; attention over a paged KV cache: %s a call and %s a sequence more", t, u);
    }
    rep_printf(b, "\n");
  }
  text_chip_memory(b, c);
  rep_printf(b, "gemm efficiency source: %s\n", c->eff_gemm_source);
  rep_printf(b, "DRAM efficiency source: %s\n", c->eff_dram_source);
  rep_printf(b, "validation: %s%s%s\n", chip_status(c), c->validation_note[0] ? " - " : "",
             c->validation_note);
  if (c->default_stack[SL_STACK_FOR_TRAIN] || c->default_stack[SL_STACK_FOR_INFER] ||
      c->default_stack[SL_STACK_FOR_DLRM]) {
    rep_printf(b, "default stack:");
    for (int i = 0; i < SL_STACK_FOR_COUNT; i++)
      rep_printf(b, "%s %s %s", i ? "," : "", sl_stack_for_names[i],
                 c->default_stack[i] ? c->default_stack[i] : "(silica's)");
    rep_printf(b, "\n");
  }
}

static void text_stack(jbuf *b, const sl_stack *s) {
  char t[32];
  unit_time(s->kernel_overhead_s, t, sizeof t);
  const char *fit = " (fitted to end-to-end measurements: silica calibrate --stack)";
  rep_printf(b, "stack %s%s%s\n", s->name, s->description[0] ? " - " : "", s->description);
  rep_printf(b, "attention %s; element-wise ops %s; graphs %s\n", sl_attn_kernel_names[s->attention_kernel],
             s->fused_elementwise ? "fused" : "unfused", s->graphs ? "yes" : "no");
  rep_printf(b, "kernel launch overhead %s%s\n", t, s->fitted & 2u ? fit : "");
  rep_printf(b, "efficiency %.4g of the kernel-level throughput%s\n", s->efficiency,
             s->fitted & 1u ? fit : "");
  if (s->host_step_s > 0 || s->host_seq_s > 0 || s->host_sync || (s->fitted & 12u)) {
    char hs[32], hq[32];
    unit_time(s->host_step_s, hs, sizeof hs);
    unit_time(s->host_seq_s, hq, sizeof hq);
    rep_printf(b, "host work %s a step%s, %s a sequence in it%s%s\n", hs, s->fitted & 4u ? " (fitted)" : "",
               hq, s->fitted & 8u ? " (fitted)" : "",
               s->host_sync
                   ? "; a training step waits on the device once, so the host binds past the device's time"
               : s->host_overlap
                   ? "; overlapped with the device's previous step (a step takes the longer of the two)"
                   : "; after the device's step");
  }
  rep_printf(b,
             "overlaps tensor-parallel communication: %s; data-parallel communication: %s; "
             "interleaved pipeline transfers: %s\n",
             s->overlap_tp_comm ? "yes" : "no", s->overlap_dp_comm ? "yes" : "no",
             s->overlap_pp_comm ? "yes" : "no");
  rep_printf(b, "block recompute (a number of layers per model chunk): %s\n",
             s->recompute_block ? "yes" : "no");
  if (s->cold_cache)
    rep_printf(b, "cold cache: the L2 is flushed before each timed kernel (no working set starts on chip)\n");
  rep_printf(b,
             "GELU in the GEMM epilogue: %s; residual add in the RMSNorm (inference): %s; "
             "all-reduce inside a scale-up domain: %s\n",
             s->gelu_epilogue ? "yes" : "no", s->fused_add_norm ? "yes" : "no",
             s->custom_allreduce && s->symm_mem_allreduce
                 ? "the engine's own peer-to-peer kernel, symmetric memory's kernel above its limit"
             : s->symm_mem_allreduce ? "symmetric memory's kernel"
             : s->custom_allreduce   ? "the engine's own peer-to-peer kernel"
                                     : "the collective library's (NCCL, RCCL)");
  if (s->sampler == SL_SAMPLER_TORCH)
    rep_printf(b,
               "sampler: PyTorch's ops on the whole vocabulary of each sequence (a sort for top-p / top-k; "
               "docs/model.md \"Sampling\")\n");
  if (s->symm_mem_allreduce && s->n_ar_limits == 0)
    rep_printf(b,
               "symmetric memory's all-reduce: no architecture's limits (allreduce_limits), so on no chip\n");
  if (s->symm_mem_allreduce)
    for (int i = 0; i < s->n_ar_limits; i++) {
      const sl_ar_limits *l = &s->ar_limits[i];
      rep_printf(b, "all-reduce limits on %s chips (2 / 4 / 6 / 8 ranks): %s", l->arch,
                 s->custom_allreduce ? "peer-to-peer kernel below " : "");
      for (int k = 0; s->custom_allreduce && k < SL_AR_RANKS; k++)
        rep_printf(b, "%s%g", k ? " / " : "", fmin(8.0, l->custom_max[k] / 1048576.0));
      rep_printf(b, "%ssymmetric memory below ", s->custom_allreduce ? " MiB, " : "");
      for (int k = 0; k < SL_AR_RANKS; k++)
        rep_printf(b, "%s%g", k ? " / " : "", l->symm_max[k] / 1048576.0);
      rep_printf(b, " MiB (multimem on");
      for (int k = 0; k < SL_AR_RANKS; k++)
        if (l->multimem[k]) rep_printf(b, " %d", 2 * (k + 1));
      rep_printf(b, ", two-shot on the others), NCCL above\n");
    }
  if (s->custom_allreduce && s->p2p_allreduce != SL_P2P_AUTO)
    rep_printf(b, "peer-to-peer all-reduce kernel: %s always\n",
               s->p2p_allreduce == SL_P2P_ONE_SHOT ? "one-shot" : "two-shot");
  rep_printf(b, "parallelism: sequence %s, context %s; ZeRO stage %g by default, up to %g\n",
             s->sequence_parallel ? "yes" : "no", s->context_parallel ? "yes" : "no", s->zero, s->zero_max);
  if (s->max_batch_tokens > 0 || s->max_seqs > 0 || s->kv_cache_fraction > 0 || s->memory_utilization > 0) {
    rep_printf(b, "serving:");
    if (s->max_batch_tokens > 0) rep_printf(b, " %g tokens per step,", s->max_batch_tokens);
    if (s->max_seqs > 0) rep_printf(b, " %g sequences at once,", s->max_seqs);
    if (s->kv_cache_fraction > 0)
      rep_printf(b, " KV cache %.0f%% of the free memory,", 100 * s->kv_cache_fraction);
    if (s->memory_utilization > 0)
      rep_printf(b, " %.0f%% of the chip's memory in use,", 100 * s->memory_utilization);
    rep_printf(b, " KV blocks %s%s\n",
               s->kv_policy == SL_KV_RESERVE ? "reserved per request" : "on demand (preempt)",
               s->prefix_caching ? ", prefix caching" : "");
  }
  rep_printf(b, "training: weight-gradient accumulation %s; cross-entropy %s; fit group %s\n",
             s->grad_accum_fusion ? "in the GEMM" : "by an add kernel",
             s->fused_cross_entropy ? "fused" : "unfused", s->fit_group ? s->fit_group : s->name);
}

/* The tree itself as indented "key: value" lines for people, for the parts that have no text form
 * of their own: lists of scalars on one line, long lists of maps cut after a few items. */
static void text_tree(jbuf *b, const yt_node *n, int indent, const char *key) {
  enum { MAX_ITEMS = 4 };
  if (!n) return;
  if (n->type == YT_SCALAR) {
    rep_printf(b, "%*s%s%s%s\n", indent, "", key ? key : "", key ? ": " : "", n->str);
    return;
  }
  if (n->type == YT_SEQ) {
    int scalars = 1;
    for (size_t i = 0; i < n->n; i++)
      if (n->items[i]->type != YT_SCALAR) scalars = 0;
    if (scalars) {
      rep_printf(b, "%*s%s%s[", indent, "", key ? key : "", key ? ": " : "");
      for (size_t i = 0; i < n->n; i++)
        rep_printf(b, "%s%s", i ? ", " : "", n->items[i]->str);
      rep_printf(b, "]\n");
      return;
    }
    if (key) rep_printf(b, "%*s%s: %zu items\n", indent, "", key, n->n);
    for (size_t i = 0; i < n->n && i < MAX_ITEMS; i++) {
      rep_printf(b, "%*s- [%zu]\n", indent + 2, "", i);
      text_tree(b, n->items[i], indent + 4, NULL);
    }
    if (n->n > MAX_ITEMS)
      rep_printf(b, "%*s... %zu more (--json shows all)\n", indent + 2, "", n->n - MAX_ITEMS);
    return;
  }
  if (key) rep_printf(b, "%*s%s:\n", indent, "", key);
  for (size_t i = 0; i < n->n; i++)
    text_tree(b, n->pairs[i].value, key ? indent + 2 : indent, n->pairs[i].key);
}

static void text_model(jbuf *b, const loaded *l) {
  const sl_model *m = &l->model;
  rep_printf(b, "model %s (%s)\nfile: %s\n", m->name, model_kind(m), m->file);
  if (m->kind == SL_MODEL_TRANSFORMER) {
    rep_printf(b, "parameters: %.4g B (matrix products %.4g B)", model_params(m) / 1e9,
               model_matmul_params(m) / 1e9);
    if (m->params_published > 0) rep_printf(b, "; published %.4g B", m->params_published / 1e9);
    rep_printf(b, "\n");
  } else if (m->kind == SL_MODEL_DLRM) {
    const sl_dlrm *d = &m->dlrm;
    double look = 0;
    for (size_t i = 0; i < d->n_tables; i++)
      look += d->tables[i].pooling;
    rep_printf(b, "parameters: %.4g B (embeddings %.4g B, dense %.4g M)", model_params(m) / 1e9,
               dlrm_emb_params(d) / 1e9, dlrm_dense_params(d) / 1e6);
    if (m->params_published > 0) rep_printf(b, "; published %.4g B", m->params_published / 1e9);
    rep_printf(b,
               "\n%zu tables, %.4g M rows, %.4g lookups per sample; %.4g MFLOP per sample (forward matrix "
               "products); "
               "interaction %s -> %.0f wide\n",
               d->n_tables, dlrm_emb_rows(d) / 1e6, look, dlrm_flops_per_sample(d) / 1e6,
               d->inter == SL_INTER_DCNV2 ? "dcnv2" : "dot", dlrm_interaction_out(d));
  }
  rep_printf(b, "spec:\n");
  text_tree(b, l->tree, 2, NULL);
}

sl_status sl_preset_list(const char *kind_word, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_preset_list: out is NULL");
  *out = NULL;
  const char *kind = kind_of(kind_word);
  if (!kind)
    return err_set(err, SL_ERR_INPUT, "", 0, "",
                   "unknown kind \"%s\" (expected chips, stacks, models or systems)",
                   kind_word ? kind_word : "");
  size_t n = sl_preset_count(kind);
  int w = 8;
  for (size_t i = 0; i < n; i++) {
    int l = (int)strlen(sl_preset_name(kind, i));
    if (l > w) w = l;
  }
  jbuf b;
  jb_init(&b);
  if (n == 0) rep_printf(&b, "(none yet)\n");
  for (size_t i = 0; i < n; i++) {
    const char *name = sl_preset_name(kind, i);
    arena a;
    ar_init(&a);
    loaded l;
    sl_error e;
    sl_status s = load_spec(&a, kind, name, &l, &e);
    if (s) { /* a shipped preset that does not load is a bug in silica, not the user's input */
      char msg[1024];
      sl_error_format(&e, msg, sizeof msg);
      ar_free(&a);
      jb_free(&b);
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "internal error: preset %s/%s does not load: %s", kind,
                     name, msg);
    }
    rep_printf(&b, "%-*s  ", w, name);
    if (strcmp(kind, "chips") == 0) list_chip(&b, &l);
    if (strcmp(kind, "stacks") == 0) list_stack(&b, &l);
    if (strcmp(kind, "models") == 0) list_model(&b, &l);
    if (strcmp(kind, "systems") == 0) list_system(&b, &l);
    rep_printf(&b, "\n");
    ar_free(&a);
  }
  return rep_take(&b, out, err);
}

/* ---- what a preset is validated on ----------------------------------------------------------------- */

enum { RECORD_MAX = 64 };

/* The preset's record: the cross-validated residuals (data/validation/residuals.yaml) of the
 * validation cases that ran on it, by source; 0 when silica ships no table. */
static size_t record_of(arena *a, const char *name, int by_stack, sl_resid_group *g) {
  sl_resid_table *t = NULL;
  sl_error e;
  if (resid_load(a, &t, &e) || !t) return 0;
  return resid_record(t, name, by_stack, g, RECORD_MAX);
}

/* A mean over n entries; NAN for none. */
static double mean_of(double sum, size_t n) {
  return n ? sum / (double)n : NAN;
}

/* The record of all the sources together. */
static sl_resid_group record_total(const sl_resid_group *g, size_t ng) {
  sl_resid_group t = {.group = "all"};
  for (size_t i = 0; i < ng; i++) {
    t.n += g[i].n, t.sum_abs_err += g[i].sum_abs_err, t.sum_err += g[i].sum_err;
    t.n_fit += g[i].n_fit, t.sum_abs_err_fit += g[i].sum_abs_err_fit, t.sum_err_fit += g[i].sum_err_fit;
  }
  return t;
}

/* "mean |error| 7.3%, mean error +3.2% (fitted 6.6%, +1.8%)" (aligned: in columns); the fitted part when
 * the table has it */
static void text_errors(jbuf *b, const sl_resid_group *g, int aligned) {
  rep_printf(
      b, aligned ? "mean |error| %5.1f%%, mean error %+5.1f%%" : "mean |error| %.1f%%, mean error %+.1f%%",
      100 * mean_of(g->sum_abs_err, g->n), 100 * mean_of(g->sum_err, g->n));
  if (g->n_fit)
    rep_printf(b, " (fitted %.1f%%, %+.1f%%)", 100 * mean_of(g->sum_abs_err_fit, g->n_fit),
               100 * mean_of(g->sum_err_fit, g->n_fit));
}

static void text_record(jbuf *b, const sl_resid_group *g, size_t ng, const char *what) {
  sl_resid_group t = record_total(g, ng);
  if (!t.n) {
    rep_printf(b,
               "validated on: no case of the cross-validated set (data/validation/residuals.yaml: the "
               "end-to-end cases of the published case files) runs on this %s\n",
               what);
    return;
  }
  rep_printf(b,
             "validated on: %zu measurement%s from %zu source%s, each predicted with its source left out of "
             "the fit: ",
             t.n, t.n == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
  text_errors(b, &t, 0);
  rep_printf(b, "\n");
  for (size_t i = 0; i < ng; i++) {
    char tasks[128] = "";
    size_t off = 0;
    for (int k = 0; k < SL_TASK_COUNT && off < sizeof tasks; k++)
      if (g[i].n_task[k])
        off += (size_t)snprintf(tasks + off, sizeof tasks - off, "%s%s %zu", off ? ", " : "",
                                sl_task_names[k], g[i].n_task[k]);
    rep_printf(b, "  %-30s %-20s ", g[i].group, tasks);
    text_errors(b, &g[i], 1);
    rep_printf(b, "\n");
  }
}

/* The four errors of a record (null where it has no entry). */
static void json_errors(jbuf *b, const sl_resid_group *g) {
  jb_num(b, "mean_abs_error", mean_of(g->sum_abs_err, g->n));
  jb_num(b, "mean_error", mean_of(g->sum_err, g->n));
  jb_num(b, "mean_abs_error_fitted", mean_of(g->sum_abs_err_fit, g->n_fit));
  jb_num(b, "mean_error_fitted", mean_of(g->sum_err_fit, g->n_fit));
}

static void json_record(jbuf *b, const sl_resid_group *g, size_t ng) {
  sl_resid_group t = record_total(g, ng);
  jb_obj_begin(b, "validated_on"); /* cross-validated: each case predicted with its source left out */
  jb_num(b, "measurements", (double)t.n);
  json_errors(b, &t);
  jb_arr_begin(b, "sources");
  for (size_t i = 0; i < ng; i++) {
    jb_obj_begin(b, NULL);
    jb_str(b, "source", g[i].group);
    jb_num(b, "measurements", (double)g[i].n);
    jb_obj_begin(b, "tasks");
    for (int k = 0; k < SL_TASK_COUNT; k++)
      if (g[i].n_task[k]) jb_num(b, sl_task_names[k], (double)g[i].n_task[k]);
    jb_obj_end(b);
    json_errors(b, &g[i]);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_end(b);
}

/* ---- what a chip's energy figures are checked against ---------------------------------------------- */

/* The measured board power of data/validation/power.yaml's cases on the chip against the model's
 * prediction, by source and use, from data/validation/power-record.yaml (written by
 * scripts/power-record with silica validate, so that show runs no simulation): the use: validate
 * cases are predictions (a chip's energy figures are fitted to its use: calibrate cases only,
 * scripts/power-fit), so they are shown apart from the fitted ones. */
typedef struct {
  const char *group;
  int calibrate;
  size_t n;
  double sum_abs, sum;
  const char *stack; /* a stack whose figures (not the chip's) are fitted to these cases, or NULL */
} power_src;
enum { POWER_MAX = 32 };

static const char *row_str(yt_node *row, const char *key) {
  yt_node *v = yt_get(row, key);
  return v && v->type == YT_SCALAR ? v->str : NULL;
}

static size_t power_record(arena *a, const char *chip, power_src *g) {
  const char *text = sl_preset_text("validation", "power-record");
  yt_node *root = NULL;
  sl_error e;
  if (!text || yt_parse(a, text, strlen(text), "power-record.yaml", &root, &e) || root->type != YT_MAP) return 0;
  yt_node *rows = yt_get(root, "rows");
  if (!rows || rows->type != YT_SEQ) return 0;
  size_t ng = 0;
  for (int use = 0; use < 2; use++) /* the predictions first */
    for (size_t i = 0; i < rows->n; i++) {
      yt_node *row = rows->items[i];
      if (row->type != YT_MAP) continue;
      const char *c = row_str(row, "chip"), *grp = row_str(row, "group"), *u = row_str(row, "use");
      const char *ms = row_str(row, "measured"), *ps = row_str(row, "predicted");
      if (!c || !grp || !u || !ms || !ps || strcmp(c, chip) != 0) continue;
      if ((strcmp(u, "calibrate") == 0) != use) continue;
      double m = strtod(ms, NULL), p = strtod(ps, NULL);
      if (!(m > 0) || !isfinite(p)) continue;
      size_t k = 0;
      while (k < ng && !(g[k].calibrate == use && strcmp(g[k].group, grp) == 0))
        k++;
      if (k == ng) {
        if (ng == POWER_MAX) continue;
        g[ng++] = (power_src){grp, use, 0, 0, 0, NULL};
      }
      if (!g[k].stack) g[k].stack = row_str(row, "fitted_stack");
      double err = p / m - 1;
      g[k].n++, g[k].sum_abs += fabs(err), g[k].sum += err;
    }
  return ng;
}

/* The predictions (use: validate) of a power record together: their count, sources, summed errors. */
static power_src power_total(const power_src *g, size_t ng, size_t *sources) {
  power_src t = {"all", 0, 0, 0, 0, NULL};
  *sources = 0;
  for (size_t i = 0; i < ng; i++)
    if (!g[i].calibrate) t.n += g[i].n, t.sum_abs += g[i].sum_abs, t.sum += g[i].sum, ++*sources;
  return t;
}

static void text_power(jbuf *b, const power_src *g, size_t ng) {
  size_t ns;
  power_src t = power_total(g, ng, &ns);
  if (!ng) {
    rep_printf(b, "power checked against: no measured board power on this chip (data/validation/power.yaml)\n");
    return;
  }
  if (t.n)
    rep_printf(b,
               "power checked against: %zu measurement%s of board power from %zu source%s, predicted (the "
               "chip's figures not fitted to them): mean |error| %.1f%%, mean error %+.1f%%\n",
               t.n, t.n == 1 ? "" : "s", ns, ns == 1 ? "" : "s", 100 * mean_of(t.sum_abs, t.n),
               100 * mean_of(t.sum, t.n));
  else
    rep_printf(b, "power checked against: no end-to-end measurement of board power on this chip\n");
  for (size_t i = 0; i < ng; i++)
    rep_printf(b, "  %-30s %-20s mean |error| %5.1f%%, mean error %+5.1f%%\n", g[i].group,
               g[i].calibrate ? "fitted to"
               : g[i].stack   ? "stack fitted to"
                              : "predicted",
               100 * mean_of(g[i].sum_abs, g[i].n), 100 * mean_of(g[i].sum, g[i].n));
  for (size_t i = 0; i < ng; i++)
    if (!g[i].calibrate && g[i].stack)
      rep_printf(b, "  (%s: the stack %s's fitted figures come from these cases, the chip's do not)\n",
                 g[i].group, g[i].stack);
}

static void json_power(jbuf *b, const power_src *g, size_t ng) {
  size_t ns;
  power_src t = power_total(g, ng, &ns);
  jb_obj_begin(b, "power_checked_on"); /* board power: predictions (use: validate) and the fitted cases */
  jb_num(b, "measurements", (double)t.n);
  jb_num(b, "mean_abs_error", mean_of(t.sum_abs, t.n));
  jb_num(b, "mean_error", mean_of(t.sum, t.n));
  jb_arr_begin(b, "sources");
  for (size_t i = 0; i < ng; i++) {
    jb_obj_begin(b, NULL);
    jb_str(b, "source", g[i].group);
    jb_str(b, "use", g[i].calibrate ? "calibrate" : "validate");
    if (g[i].stack)
      jb_str(b, "fitted_stack", g[i].stack);
    else
      jb_null(b, "fitted_stack");
    jb_num(b, "measurements", (double)g[i].n);
    jb_num(b, "mean_abs_error", mean_of(g[i].sum_abs, g[i].n));
    jb_num(b, "mean_error", mean_of(g[i].sum, g[i].n));
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_obj_end(b);
}

sl_status sl_spec_show(const char *kind_word, const char *name, sl_format format, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_spec_show: out is NULL");
  *out = NULL;
  const char *kind = kind_of(kind_word);
  if (!kind)
    return err_set(err, SL_ERR_INPUT, "", 0, "",
                   "unknown kind \"%s\" (expected chip, stack, model or system)", kind_word ? kind_word : "");
  if (!name || !*name) return err_set(err, SL_ERR_INPUT, "", 0, "", "no %s named", kind);
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "sl_spec_show: format must be text or JSON");
  arena a;
  ar_init(&a);
  loaded l;
  sl_error e;
  sl_status s = load_spec(&a, kind, name, &l, &e);
  if (s) {
    if (err) *err = e;
    ar_free(&a);
    return s;
  }
  jbuf b;
  jb_init(&b);
  int chip = strcmp(kind, "chips") == 0, stack = strcmp(kind, "stacks") == 0,
      model = strcmp(kind, "models") == 0;
  sl_resid_group rec[RECORD_MAX];
  size_t nrec = chip ? record_of(&a, l.chip.name, 0, rec) : stack ? record_of(&a, l.stack.name, 1, rec) : 0;
  power_src pw[POWER_MAX];
  size_t npw = chip ? power_record(&a, l.chip.name, pw) : 0;
  if (format == SL_FORMAT_JSON) {
    jb_obj_begin(&b, NULL);
    if (chip || stack) {
      if (chip)
        json_chip(&b, &l.chip);
      else
        json_stack(&b, &l.stack);
      json_record(&b, rec, nrec);
      if (chip) json_power(&b, pw, npw);
    } else if (model)
      json_model(&b, &l);
    else
      json_system(&b, &l);
    jb_obj_end(&b);
    jb_raw(&b, "\n");
  } else if (chip) {
    text_chip(&b, &l.chip);
    text_record(&b, rec, nrec, "chip");
    text_power(&b, pw, npw);
  } else if (stack) {
    text_stack(&b, &l.stack);
    text_record(&b, rec, nrec, "stack");
    if (l.stack.fit_cases && l.stack.fitted)
      rep_printf(
          &b,
          "fitted on: the cases of %s that run on it (silica calibrate --stack %s %s), cross-validated "
          "over them alone (docs/validation.md)\n",
          l.stack.fit_cases, l.stack.name, l.stack.fit_cases);
  } else if (model) {
    text_model(&b, &l);
  } else {
    rep_printf(&b, "system %s\nfile: %s\nspec:\n",
               scalar_of(l.tree, "name") ? scalar_of(l.tree, "name") : name, l.tree->file);
    text_tree(&b, l.tree, 2, NULL);
  }
  ar_free(&a);
  return rep_take(&b, out, err);
}

sl_status sl_spec_check(const char *kind_word, const char *text, size_t len, const char *name,
                        sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  const char *kind = kind_of(kind_word);
  if (!kind || strcmp(kind, "systems") == 0)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "unknown kind \"%s\" (expected chip, stack or model)",
                   kind_word ? kind_word : "");
  if (!text) return err_set(err, SL_ERR_INPUT, name ? name : "", 0, "", "no text given");
  arena a;
  ar_init(&a);
  sl_error e;
  memset(&e, 0, sizeof e);
  yt_node *t = NULL;
  sl_status s = yt_parse(&a, text, len, name ? name : "<text>", &t, &e);
  reader r = {&e, &a, ""};
  if (!s && t && t->type == YT_MAP) s = spec_resolve(&r, kind, t, &t); /* one derived from a preset */
  if (!s) {
    sl_chip c;
    sl_stack st;
    sl_model m;
    if (strcmp(kind, "chips") == 0)
      s = chip_from_node(&r, t, &c);
    else if (strcmp(kind, "stacks") == 0)
      s = stack_from_node(&r, t, &st);
    else if (!(s = model_from_node(&r, t, &m)))
      (void)model_params(&m);
  }
  if (s && err) *err = e;
  ar_free(&a);
  return s;
}
