/* chip.c — chip spec: read and validate a chip YAML (docs/chip-spec.md), derived peaks. */
#include "hw/hw.h"

#include <math.h>
#include <string.h>

sl_status read_fmt_map(reader *r, yt_node *parent, const char *key, int required, double lo, double hi,
                       double out[SL_DTYPE_COUNT], int given[SL_DTYPE_COUNT]) {
  yt_node *m = yt_get(parent, key);
  rd_mark mk = rd_push(r, key);
  sl_status s = SL_OK;
  if (!m) {
    if (required) s = rd_missing(r, parent, key, "missing key");
    goto done;
  }
  if ((s = rd_map(r, m))) goto done;
  for (size_t i = 0; i < m->n; i++) {
    int dt = dtype_from_name(m->pairs[i].key);
    rd_mark m2 = rd_push(r, m->pairs[i].key);
    if (dt < 0) {
      yt_node at = *m;
      at.line = m->pairs[i].key_line;
      s = rd_fail(r, &at, "unknown number format (expected fp32, tf32, bf16, fp16, fp8, int8, int4 or fp4)");
    } else {
      m->pairs[i].used = 1;
      s = rd_scalar_double(r, m->pairs[i].value, lo, hi, &out[dt]);
      if (given) given[dt] = 1;
    }
    rd_pop(r, m2);
    if (s) goto done;
  }
done:
  rd_pop(r, mk);
  return s;
}

/* Collectives reach 75-90% of link bandwidth at large messages (equations.md, "Efficiency is not
 * one number"): 0.80 for scale-up links (NVLink-class), 0.90 for scale-out NICs, unless a spec
 * gives its own measured figure. */
const double SL_LINK_EFF_UP = 0.80, SL_LINK_EFF_OUT = 0.90;

sl_status link_read(reader *r, yt_node *l, int required_bw, sl_link *out) {
  sl_status s = rd_map(r, l);
  if (!s) s = rd_double(r, l, "bw_GBps", required_bw, 1e-6, 1e7, &out->bw_GBps);
  if (!s) s = rd_double(r, l, "latency_s", 0, 0, 1, &out->latency_s);
  if (!s) s = rd_double(r, l, "efficiency", 0, 0.01, 1, &out->efficiency);
  if (!s) s = rd_double(r, l, "oversubscription", 0, 1, 1000, &out->oversubscription);
  if (!s) s = rd_double(r, l, "base_latency_s", 0, 0, 1e-2, &out->base_latency_s);
  if (!s) s = rd_double(r, l, "ll_efficiency", 0, 0, 1, &out->ll_efficiency);
  if (!s) s = rd_double(r, l, "switch_reduce_efficiency", 0, 0, 1, &out->switch_reduce_efficiency);
  if (!s) s = rd_double(r, l, "switch_reduce_latency_s", 0, 0, 1e-3, &out->switch_reduce_latency_s);
  if (!s) s = rd_double(r, l, "p2p_efficiency", 0, 0, 1, &out->p2p_efficiency);
  if (!s) s = rd_double(r, l, "p2p_latency_s", 0, 0, 1e-3, &out->p2p_latency_s);
  if (!s) s = rd_double(r, l, "p2p_peer_latency_s", 0, 0, 1e-4, &out->p2p_peer_latency_s);
  if (!s) s = rd_double(r, l, "p2p_one_shot_efficiency", 0, 0, 1, &out->p2p_one_shot_efficiency);
  if (!s) s = rd_double(r, l, "p2p_one_shot_latency_s", 0, 0, 1e-3, &out->p2p_one_shot_latency_s);
  if (!s) s = rd_double(r, l, "multimem_efficiency", 0, 0, 1, &out->multimem_efficiency);
  if (!s) s = rd_double(r, l, "multimem_latency_s", 0, 0, 1e-3, &out->multimem_latency_s);
  if (!s) s = rd_double(r, l, "symm_two_shot_efficiency", 0, 0, 1, &out->symm_two_shot_efficiency);
  if (!s) s = rd_double(r, l, "symm_two_shot_latency_s", 0, 0, 1e-3, &out->symm_two_shot_latency_s);
  if (!s) s = rd_double(r, l, "local_GBps", 0, 0, 1e6, &out->local_GBps);
  long mesh = 0;
  if (!s) s = rd_int(r, l, "mesh_links", 0, 1, 1024, &mesh);
  if (!s && mesh > 0) {
    out->mesh_links = (double)mesh;
    /* a mesh has no switch to reduce in or to multicast through */
    static const char *const sw[] = {"switch_reduce_efficiency", "multimem_efficiency"};
    for (size_t i = 0; !s && i < SL_ARRAY_LEN(sw); i++) {
      yt_pair *p = yt_find(l, sw[i]);
      if (!p) continue;
      rd_mark m = rd_push(r, sw[i]);
      s = rd_fail(r, p->value, "a mesh of point-to-point links (mesh_links) has no switch to reduce in");
      rd_pop(r, m);
    }
  }
  if (!s) s = rd_done(r, l);
  return s;
}

sl_status link_check_role(reader *r, yt_node *l, const char *key) {
  static const char SWITCH[] = "only the scale-up link reduces in its switch (NVLink SHARP)",
                    P2P[] = "only the scale-up link carries peer-to-peer all-reduce kernels";
  static const struct {
    const char *key, *why;
  } only_up[] = {{"switch_reduce_efficiency", SWITCH},
                 {"switch_reduce_latency_s", SWITCH},
                 {"multimem_efficiency", SWITCH},
                 {"multimem_latency_s", SWITCH},
                 {"p2p_efficiency", P2P},
                 {"p2p_latency_s", P2P},
                 {"p2p_peer_latency_s", P2P},
                 {"p2p_one_shot_efficiency", P2P},
                 {"p2p_one_shot_latency_s", P2P},
                 {"symm_two_shot_efficiency", P2P},
                 {"symm_two_shot_latency_s", P2P},
                 {"mesh_links", "only the scale-up link is a mesh of point-to-point links"},
                 {"local_GBps", "a ring's local step is the chip's own: one figure, on the scale-up link"}};
  if (strcmp(key, "scale_up") == 0) return SL_OK;
  for (size_t i = 0; i < SL_ARRAY_LEN(only_up); i++) {
    yt_pair *p = yt_find(l, only_up[i].key);
    if (!p) continue;
    rd_mark m = rd_push(r, only_up[i].key);
    sl_status s = rd_fail(r, p->value, "%s", only_up[i].why);
    rd_pop(r, m);
    return s;
  }
  return SL_OK;
}

static sl_status read_link(reader *r, yt_node *links, const char *key, sl_link *out) {
  yt_node *l = yt_get(links, key);
  if (!l) return SL_OK;
  rd_mark m = rd_push(r, key);
  sl_status s = link_read(r, l, 1, out);
  if (!s) s = link_check_role(r, l, key);
  rd_pop(r, m);
  return s;
}

static sl_status read_matrix(reader *r, yt_node *chip, sl_chip *c) {
  yt_node *mx = yt_get(chip, "matrix");
  rd_mark m = rd_push(r, "matrix");
  sl_status s = mx ? rd_map(r, mx) : rd_missing(r, chip, "matrix", "missing key");
  if (!s) {
    yt_node *sh = yt_get(mx, "shape");
    if (sh) {
      rd_mark m2 = rd_push(r, "shape");
      long a = 1, b = 1, k = 1;
      s = rd_map(r, sh);
      if (!s) s = rd_int(r, sh, "m", 1, 1, 4096, &a);
      if (!s) s = rd_int(r, sh, "n", 1, 1, 4096, &b);
      if (!s) s = rd_int(r, sh, "k", 1, 1, 4096, &k);
      if (!s) s = rd_done(r, sh);
      c->mat_shape_m = (int)a, c->mat_shape_n = (int)b, c->mat_shape_k = (int)k;
      rd_pop(r, m2);
    }
  }
  if (!s) s = read_fmt_map(r, mx, "macs_per_cycle", 1, 0, 1e7, c->mat_macs_per_cycle, NULL);
  if (!s) {
    int any = 0;
    for (int i = 0; i < SL_DTYPE_COUNT; i++)
      any |= c->mat_macs_per_cycle[i] > 0;
    if (!any) s = rd_fail(r, mx, "macs_per_cycle names no number format");
  }
  if (!s) s = rd_done(r, mx);
  rd_pop(r, m);
  return s;
}

static sl_status read_memory(reader *r, yt_node *chip, sl_chip *c) {
  yt_node *mem = yt_get(chip, "memory");
  rd_mark m = rd_push(r, "memory");
  sl_status s = SL_OK;
  if (!mem)
    s = rd_missing(r, chip, "memory", "missing key");
  else if (mem->type != YT_SEQ || mem->n == 0)
    s = rd_fail(r, mem, "expected a list of memory levels, innermost first, DRAM last");
  else if (mem->n > SL_MAX_MEM)
    s = rd_fail(r, mem, "at most %d memory levels", SL_MAX_MEM);
  for (size_t i = 0; !s && i < mem->n; i++) {
    rd_mark m2 = rd_push_index(r, i);
    yt_node *lv = mem->items[i];
    sl_mem_level *L = &c->mem[i];
    s = rd_map(r, lv);
    if (!s) s = rd_string(r, lv, "name", 1, &L->name);
    if (!s) s = rd_double(r, lv, "capacity_bytes", 1, 1, 1e16, &L->capacity_bytes);
    if (!s) s = rd_double(r, lv, "bw_GBps", 1, 1e-3, 1e8, &L->bw_GBps);
    if (!s) s = rd_double(r, lv, "latency_s", 0, 0, 1e-2, &L->latency_s);
    if (!s) s = rd_bool(r, lv, "per_core", 0, &L->per_core);
    if (!s) s = rd_done(r, lv);
    if (!s && i + 1 == mem->n && L->per_core)
      s = rd_fail(r, lv, "the last (off-chip DRAM) level cannot be per_core");
    if (!s && i > 0 &&
        L->capacity_bytes * (L->per_core ? c->cores : 1) <
            c->mem[i - 1].capacity_bytes * (c->mem[i - 1].per_core ? c->cores : 1))
      s = rd_fail(r, lv, "capacity smaller than the level inside it (levels go innermost first)");
    rd_pop(r, m2);
    c->n_mem = (int)i + 1;
  }
  rd_pop(r, m);
  return s;
}

static sl_status read_kernels(reader *r, yt_node *chip, sl_chip *c) {
  yt_node *k = yt_get(chip, "kernels");
  rd_mark m = rd_push(r, "kernels");
  sl_status s = k ? rd_map(r, k) : rd_missing(r, chip, "kernels", "missing key");
  long msk = 1;
  if (!s) s = rd_double(r, k, "latency_s", 1, 0, 1e-2, &c->kernel_latency_s);
  if (!s) s = rd_int(r, k, "max_split_k", 0, 1, 256, &msk);
  if (!s) s = rd_bool(r, k, "stream_k", 0, &c->stream_k);
  if (!s) s = rd_double(r, k, "attention_tile_s", 0, 0, 1e-3, &c->attn_tile_s);
  if (!s) s = rd_double(r, k, "paged_attention_call_s", 0, 0, 1e-3, &c->attn_paged_call_s);
  if (!s) s = rd_double(r, k, "paged_attention_seq_s", 0, 0, 1e-5, &c->attn_paged_seq_s);
  if (!s) s = read_fmt_map(r, k, "gemm_latency_s", 0, 0, 1e-3, c->gemm_latency_s, NULL);
  if (!s) s = rd_double(r, k, "gemm_stream_stall", 0, 0, 1, &c->gemm_stream_stall);
  if (!s) s = rd_double(r, k, "block_sram_bytes", 0, 1024, 1e9, &c->block_sram_bytes);
  c->max_split_k = (int)msk;
  yt_node *t = s ? NULL : yt_get(k, "tiles");
  if (!s) {
    rd_mark m2 = rd_push(r, "tiles");
    if (!t)
      s = rd_missing(r, k, "tiles", "missing key");
    else if (t->type != YT_SEQ || t->n == 0)
      s = rd_fail(r, t, "expected a non-empty list of {m, n, k} tiles");
    else if (t->n > SL_MAX_TILES)
      s = rd_fail(r, t, "at most %d tiles", SL_MAX_TILES);
    for (size_t i = 0; !s && i < t->n; i++) {
      rd_mark m3 = rd_push_index(r, i);
      long a = 0, b = 0, kk = 0, wm = 0, wn = 0, mr = 0;
      s = rd_map(r, t->items[i]);
      if (!s) s = rd_int(r, t->items[i], "m", 1, 1, 65536, &a);
      if (!s) s = rd_int(r, t->items[i], "n", 1, 1, 65536, &b);
      if (!s) s = rd_int(r, t->items[i], "k", 1, 1, 65536, &kk);
      if (!s) s = rd_int(r, t->items[i], "warp_m", 0, 1, 65536, &wm);
      if (!s) s = rd_int(r, t->items[i], "warp_n", 0, 1, 65536, &wn);
      if (!s) s = rd_int(r, t->items[i], "max_rows", 0, 1, 1 << 30, &mr);
      if (!s && (wm > 0) != (wn > 0))
        s = rd_fail(r, t->items[i], "warp_m and warp_n go together (the warp tile)");
      if (!s && wm > 0 && (a % wm != 0 || b % wn != 0))
        s = rd_fail(r, t->items[i], "warp tile %ldx%ld does not divide the tile %ldx%ld", wm, wn, a, b);
      if (!s) s = rd_done(r, t->items[i]);
      c->tiles[i] = (sl_tile){(int)a, (int)b, (int)kk, (int)wm, (int)wn, (int)mr};
      c->n_tiles = (int)i + 1;
      rd_pop(r, m3);
    }
    int any = 0; /* a tile for products of every size */
    for (int i = 0; !s && i < c->n_tiles; i++)
      any |= c->tiles[i].max_rows == 0;
    if (!s && !any)
      s = rd_fail(r, t, "every tile has max_rows: at least one must serve products of any size");
    rd_pop(r, m2);
  }
  if (!s) s = rd_done(r, k);
  rd_pop(r, m);
  return s;
}

static sl_status read_efficiency(reader *r, yt_node *chip, sl_chip *c) {
  const char *ign_random_source = NULL;
  yt_node *e = yt_get(chip, "efficiency");
  rd_mark m = rd_push(r, "efficiency");
  sl_status s = e ? rd_map(r, e) : rd_missing(r, chip, "efficiency", "missing key");
  if (!s) s = read_fmt_map(r, e, "gemm", 1, 0.01, 1.0, c->eff_gemm, NULL);
  if (!s) s = rd_string(r, e, "gemm_source", 1, &c->eff_gemm_source);
  if (!s) s = rd_double(r, e, "dram", 1, 0.01, 1.0, &c->eff_dram);
  if (!s) s = rd_string(r, e, "dram_source", 1, &c->eff_dram_source);
  c->eff_sram = c->eff_dram;
  c->eff_vector = 0.75;
  c->eff_stream = c->eff_dram;
  c->eff_stream_source = "";
  if (!s) s = rd_double(r, e, "stream", 0, 0.01, 1.0, &c->eff_stream);
  if (!s) s = rd_string(r, e, "stream_source", 0, &c->eff_stream_source);
  if (!s) s = rd_double(r, e, "sram", 0, 0.01, 1.0, &c->eff_sram);
  if (!s) s = rd_double(r, e, "vector", 0, 0.01, 1.0, &c->eff_vector);
  c->eff_random = 0; /* random row gathers: take eff_stream (docs/recommendation.md) */
  if (!s) s = rd_double(r, e, "random", 0, 0.01, 1.0, &c->eff_random);
  if (!s) s = rd_string(r, e, "random_source", 0, &ign_random_source);
  /* Attention families: each sustains this fraction of the GEMM efficiency (1 unless the spec
   * says); 0 marks a family the chip cannot run (FlashAttention-3 needs Hopper's TMA and wgmma). */
  for (int k = 0; k < SL_ATTN_KERNEL_COUNT; k++)
    c->eff_attention[k] = 1.0;
  c->eff_attention_bwd = 1.0;
  yt_node *at = e ? yt_get(e, "attention") : NULL;
  if (!s && at) {
    rd_mark m2 = rd_push(r, "attention");
    s = rd_map(r, at);
    for (int k = SL_ATTN_FUSED; !s && k < SL_ATTN_KERNEL_COUNT; k++)
      s = rd_double(r, at, sl_attn_kernel_names[k], 0, 0, 1.0, &c->eff_attention[k]);
    if (!s) s = rd_double(r, at, "backward", 0, 0.05, 1.0, &c->eff_attention_bwd);
    const char *ign_attention_source = NULL;
    if (!s) s = rd_string(r, at, "source", 0, &ign_attention_source);
    if (!s) s = rd_done(r, at);
    rd_pop(r, m2);
  }
  if (!s) s = rd_done(r, e);
  /* A format with a matrix rate but no measured efficiency takes the bf16 (else best known) one. */
  double fallback = c->eff_gemm[SL_BF16] > 0 ? c->eff_gemm[SL_BF16] : c->eff_gemm[SL_FP16];
  for (int i = 0; !s && i < SL_DTYPE_COUNT; i++)
    if (c->eff_gemm[i] <= 0) c->eff_gemm[i] = fallback > 0 ? fallback : 0.8;
  rd_pop(r, m);
  return s;
}

/* The optional `energy:` map: figures that replace derived ones (cost's energy_derive). */
static sl_status read_energy(reader *r, yt_node *chip, sl_chip *c) {
  sl_energy_over *o = &c->energy_over;
  for (int i = 0; i < SL_DTYPE_COUNT; i++)
    o->mac_pj[i] = o->vec_pj_per_flop[i] = NAN;
  o->operand_pj_per_byte = o->core_sram_pj_per_byte = o->shared_pj_per_byte = NAN;
  o->dram_pj_per_bit = o->link_pj_per_bit = o->static_w = NAN;
  o->busy_w = 0;
  o->source = "";
  c->energy_dynamic_scale = 1;
  c->energy_limit_clock = 1;
  yt_node *e = yt_get(chip, "energy");
  if (!e) return SL_OK;
  rd_mark m = rd_push(r, "energy");
  sl_status s = rd_map(r, e);
  if (!s) s = read_fmt_map(r, e, "mac_pj", 0, 0, 1e6, o->mac_pj, NULL);
  if (!s) s = read_fmt_map(r, e, "vector_pj_per_flop", 0, 0, 1e6, o->vec_pj_per_flop, NULL);
  if (!s) s = rd_double(r, e, "operand_pj_per_byte", 0, 0, 1e6, &o->operand_pj_per_byte);
  if (!s) s = rd_double(r, e, "core_sram_pj_per_byte", 0, 0, 1e6, &o->core_sram_pj_per_byte);
  if (!s) s = rd_double(r, e, "shared_pj_per_byte", 0, 0, 1e6, &o->shared_pj_per_byte);
  if (!s) s = rd_double(r, e, "dram_pj_per_bit", 0, 0, 1e6, &o->dram_pj_per_bit);
  if (!s) s = rd_double(r, e, "link_pj_per_bit", 0, 0, 1e6, &o->link_pj_per_bit);
  if (!s) s = rd_double(r, e, "static_w", 0, 0, 1e7, &o->static_w);
  if (!s) s = rd_double(r, e, "dynamic_scale", 0, 0.05, 20, &c->energy_dynamic_scale);
  if (!s) s = rd_double(r, e, "limit_clock_ratio", 0, 0.3, 1, &c->energy_limit_clock);
  if (!s) s = rd_double(r, e, "busy_w", 0, 0, 1e7, &o->busy_w);
  if (!s) s = rd_string(r, e, "source", 0, &o->source);
  if (!s) s = rd_done(r, e);
  if (!s && o->busy_w >= c->tdp_w)
    s = rd_fail(r, e, "busy_w (%g W) must be below tdp_w (%g W)", o->busy_w, c->tdp_w);
  if (!s && o->static_w >= c->tdp_w)
    s = rd_fail(r, e, "static_w (%g W) must be below tdp_w (%g W)", o->static_w, c->tdp_w);
  rd_pop(r, m);
  return s;
}

const char *const sl_stack_for_names[SL_STACK_FOR_COUNT + 1] = {"train", "infer", "dlrm", NULL};

/* One stack preset name of default_stack, which must exist. */
static sl_status read_stack_name(reader *r, yt_node *map, const char *key, const char **out) {
  const char *name = NULL;
  sl_status s = rd_string(r, map, key, 0, &name);
  if (s || !name) return s;
  if (!sl_preset_text("stacks", name)) {
    rd_mark m = rd_push(r, key);
    s = rd_fail(r, yt_find(map, key)->value, "unknown stack preset \"%s\" (see silica list stacks)", name);
    rd_pop(r, m);
    return s;
  }
  *out = name;
  return SL_OK;
}

/* default_stack: one stack preset for all work, or a map {train, infer, dlrm} of them. */
static sl_status read_default_stack(reader *r, yt_node *chip, sl_chip *c) {
  yt_pair *p = yt_find(chip, "default_stack");
  if (!p) return SL_OK;
  if (p->value && p->value->type == YT_SCALAR) {
    const char *name = NULL;
    SL_TRY(read_stack_name(r, chip, "default_stack", &name));
    for (int i = 0; i < SL_STACK_FOR_COUNT; i++)
      c->default_stack[i] = name;
    return SL_OK;
  }
  yt_node *m = yt_get(chip, "default_stack");
  rd_mark mk = rd_push(r, "default_stack");
  sl_status s = rd_map(r, m);
  for (int i = 0; !s && i < SL_STACK_FOR_COUNT; i++)
    s = read_stack_name(r, m, sl_stack_for_names[i], &c->default_stack[i]);
  if (!s) s = rd_done(r, m);
  rd_pop(r, mk);
  return s;
}

sl_status chip_from_node(reader *r, yt_node *n, sl_chip *c) {
  memset(c, 0, sizeof *c);
  c->file = n ? n->file : "";
  SL_TRY(rd_map(r, n));
  long cores = 0;
  SL_TRY(rd_string(r, n, "name", 1, &c->name));
  c->description = "";
  SL_TRY(rd_string(r, n, "description", 0, &c->description));
  c->arch = "";
  SL_TRY(rd_string(r, n, "arch", 0, &c->arch));
  SL_TRY(rd_double(r, n, "process_nm", 1, 1, 1000, &c->process_nm));
  SL_TRY(rd_double(r, n, "clock_ghz", 1, 0.01, 20, &c->clock_ghz));
  SL_TRY(rd_int(r, n, "cores", 1, 1, 10000000, &cores));
  c->cores = (int)cores;
  SL_TRY(rd_double(r, n, "tdp_w", 1, 0.01, 1e6, &c->tdp_w));
  SL_TRY(rd_double(r, n, "area_mm2", 0, 1, 1e6, &c->area_mm2));
  SL_TRY(read_default_stack(r, n, c));
  SL_TRY(read_matrix(r, n, c));
  yt_node *v = yt_get(n, "vector");
  if (v) {
    rd_mark m = rd_push(r, "vector");
    sl_status s = rd_map(r, v);
    if (!s) s = read_fmt_map(r, v, "flops_per_cycle", 1, 0, 1e7, c->vec_flops_per_cycle, NULL);
    if (!s) s = rd_done(r, v);
    rd_pop(r, m);
    SL_TRY(s);
  }
  if (c->vec_flops_per_cycle[SL_FP32] <= 0) c->vec_flops_per_cycle[SL_FP32] = 64; /* conservative default */
  SL_TRY(read_memory(r, n, c));
  /* Every link starts complete (no bandwidth, the default efficiency, full bisection) and the
   * spec's keys replace what they name: no reader of a loaded chip needs a fallback. */
  c->scale_up = (sl_link){.efficiency = SL_LINK_EFF_UP, .oversubscription = 1};
  c->scale_out = c->host = (sl_link){.efficiency = SL_LINK_EFF_OUT, .oversubscription = 1};
  yt_node *links = yt_get(n, "links");
  if (links) {
    rd_mark m = rd_push(r, "links");
    sl_status s = rd_map(r, links);
    if (!s) s = read_link(r, links, "scale_up", &c->scale_up);
    if (!s) s = read_link(r, links, "scale_out", &c->scale_out);
    if (!s) s = read_link(r, links, "host", &c->host);
    if (!s) s = rd_done(r, links);
    rd_pop(r, m);
    SL_TRY(s);
  }
  SL_TRY(read_kernels(r, n, c));
  SL_TRY(read_efficiency(r, n, c));
  c->validation_note = "";
  yt_node *val = yt_get(n, "validation");
  if (val) {
    static const char *const st[] = {"unvalidated", "calibrated", NULL};
    rd_mark m = rd_push(r, "validation");
    sl_status s = rd_map(r, val);
    if (!s) s = rd_enum(r, val, "status", 1, st, &c->validated);
    if (!s) s = rd_string(r, val, "note", 0, &c->validation_note);
    if (!s) s = rd_done(r, val);
    rd_pop(r, m);
    SL_TRY(s);
  }
  SL_TRY(read_energy(r, n, c));
  SL_TRY(rd_done(r, n));
  /* Every tile must fit the per-core SRAM double-buffered in the narrowest supported format. */
  const sl_mem_level *sram = chip_core_sram(c);
  if (sram) {
    for (int i = 0; i < c->n_tiles; i++) {
      double need = (double)(c->tiles[i].m + c->tiles[i].n) * c->tiles[i].k * 2 * 1.0;
      if (need > sram->capacity_bytes) {
        rd_mark m = rd_push(r, "kernels.tiles");
        sl_status s =
            rd_fail(r, n, "tile %dx%dx%d needs %.0f bytes double-buffered, more than %s (%.0f bytes)",
                    c->tiles[i].m, c->tiles[i].n, c->tiles[i].k, need, sram->name, sram->capacity_bytes);
        rd_pop(r, m);
        return s;
      }
    }
  }
  return SL_OK;
}

sl_status chip_load(arena *a, const char *name_or_path, const char *base_file, sl_chip *out, sl_error *err) {
  reader r = {err, a, ""};
  yt_node *v = yt_scalar_new(a, name_or_path, base_file ? base_file : "<command line>", 0);
  if (!v) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  yt_node *tree = NULL;
  rd_mark m = rd_push(&r, "chip");
  sl_status s = spec_resolve(&r, "chips", v, &tree);
  rd_pop(&r, m);
  if (s) return s;
  return chip_from_node(&r, tree, out);
}

double chip_peak_flops(const sl_chip *c, sl_dtype dt) {
  return 2.0 * c->mat_macs_per_cycle[dt] * c->cores * c->clock_ghz * 1e9;
}

double chip_vec_flops(const sl_chip *c, sl_dtype dt) {
  double f = c->vec_flops_per_cycle[dt];
  if (f <= 0) f = c->vec_flops_per_cycle[SL_FP32];
  return f * c->cores * c->clock_ghz * 1e9;
}

const sl_mem_level *chip_dram(const sl_chip *c) {
  return &c->mem[c->n_mem - 1];
}

const sl_mem_level *chip_l2(const sl_chip *c) {
  for (int i = c->n_mem - 2; i >= 0; i--)
    if (!c->mem[i].per_core) return &c->mem[i];
  return NULL;
}

const sl_mem_level *chip_core_sram(const sl_chip *c) {
  for (int i = 0; i < c->n_mem - 1; i++)
    if (c->mem[i].per_core) return &c->mem[i];
  return NULL;
}

double chip_dram_bytes(const sl_chip *c) {
  return chip_dram(c)->capacity_bytes;
}
