/* stack.c — software stack spec: fusion, launch cost, overlap abilities (FORMATS.md "Stacks"). */
#include "hw/hw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

const char *const sl_attn_kernel_names[] = {"unfused", "fused", "flash2", "flash3", NULL};
_Static_assert(SL_ARRAY_LEN(sl_attn_kernel_names) == SL_ATTN_KERNEL_COUNT + 1, "a name for every family");

const char *const sl_kv_policy_names[] = {"preempt", "reserve", NULL};
_Static_assert(SL_ARRAY_LEN(sl_kv_policy_names) == SL_KV_POLICY_COUNT + 1, "a name for every policy");
const char *const sl_p2p_kernel_names[] = {"auto", "one_shot", "two_shot", NULL};
_Static_assert(SL_ARRAY_LEN(sl_p2p_kernel_names) == SL_P2P_KERNEL_COUNT + 1, "a name for every kernel");
const char *const sl_sampler_names[] = {"none", "torch", NULL};
_Static_assert(SL_ARRAY_LEN(sl_sampler_names) == SL_SAMPLER_COUNT + 1, "a name for every sampler");

/* One size map of allreduce_limits: bytes for 2, 4, 6 and 8 ranks, every one given. */
static sl_status read_rank_sizes(reader *r, yt_node *m, const char *key, double out[SL_AR_RANKS]) {
  yt_node *v = yt_get(m, key);
  if (!v) return rd_missing(r, m, key, "missing key");
  rd_mark mk = rd_push(r, key);
  sl_status s = rd_map(r, v);
  static const char *const ranks[SL_AR_RANKS] = {"2", "4", "6", "8"};
  for (int i = 0; !s && i < SL_AR_RANKS; i++)
    s = rd_double(r, v, ranks[i], 1, 0, 1e12, &out[i]);
  if (!s) s = rd_done(r, v);
  rd_pop(r, mk);
  return s;
}

/* allreduce_limits: a list of {arch, custom_max_bytes, symm_mem_max_bytes, multimem_ranks}, one per
 * chip architecture, each architecture once. */
static sl_status read_ar_limits(reader *r, yt_node *n, sl_stack *st) {
  yt_node *l = yt_get(n, "allreduce_limits");
  if (!l) return SL_OK;
  rd_mark mk = rd_push(r, "allreduce_limits");
  sl_status s = SL_OK;
  if (l->type != YT_SEQ)
    s = rd_fail(r, l, "expected a list of {arch, custom_max_bytes, symm_mem_max_bytes, multimem_ranks}");
  if (!s && l->n > SL_AR_ARCHS) s = rd_fail(r, l, "at most %d architectures", SL_AR_ARCHS);
  for (size_t i = 0; !s && i < l->n; i++) {
    rd_mark mi = rd_push_index(r, i);
    yt_node *e = l->items[i];
    sl_ar_limits *t = &st->ar_limits[i];
    memset(t, 0, sizeof *t);
    s = rd_map(r, e);
    if (!s) s = rd_string(r, e, "arch", 1, &t->arch);
    for (size_t j = 0; !s && j < i; j++)
      if (strcmp(st->ar_limits[j].arch, t->arch) == 0)
        s = rd_fail(r, yt_find(e, "arch")->value, "architecture %s listed twice", t->arch);
    if (!s) s = read_rank_sizes(r, e, "custom_max_bytes", t->custom_max);
    if (!s) s = read_rank_sizes(r, e, "symm_mem_max_bytes", t->symm_max);
    yt_node *mm = s ? NULL : yt_get(e, "multimem_ranks");
    if (!s && mm) {
      rd_mark mm_k = rd_push(r, "multimem_ranks");
      if (mm->type != YT_SEQ) s = rd_fail(r, mm, "expected a list of rank counts (2, 4, 6 or 8)");
      for (size_t j = 0; !s && j < mm->n; j++) {
        double k = 0;
        s = rd_scalar_double(r, mm->items[j], 2, 8, &k);
        if (!s && (k != floor(k) || (long)k % 2)) s = rd_fail(r, mm->items[j], "expected 2, 4, 6 or 8");
        if (!s) t->multimem[(int)k / 2 - 1] = 1;
      }
      rd_pop(r, mm_k);
    }
    if (!s) s = rd_done(r, e);
    rd_pop(r, mi);
    if (!s) st->n_ar_limits = (int)i + 1;
  }
  rd_pop(r, mk);
  return s;
}

const sl_ar_limits *stack_ar_limits(const sl_stack *st, const char *arch) {
  for (int i = 0; arch && *arch && i < st->n_ar_limits; i++)
    if (strcmp(st->ar_limits[i].arch, arch) == 0) return &st->ar_limits[i];
  return NULL;
}

double step_with_host(const sl_stack *st, double device_s, double seqs, int first) {
  double host = st->host_step_s + st->host_seq_s * seqs;
  return st->host_overlap && !first ? fmax(device_s, host) : device_s + host;
}

int stack_graph_variant(const sl_stack *st, sl_stack *out) {
  if (!st->graphs || st->graph_kernel_overhead_s < 0 || st->graph_kernel_overhead_s == st->kernel_overhead_s)
    return 0;
  *out = *st;
  out->kernel_overhead_s = st->graph_kernel_overhead_s;
  return 1;
}

sl_status stack_from_node(reader *r, yt_node *n, sl_stack *st) {
  memset(st, 0, sizeof *st);
  sl_status s = rd_map(r, n);
  st->name = "inline";
  st->description = "";
  if (!s) s = rd_string(r, n, "name", 0, &st->name);
  if (!s) s = rd_string(r, n, "description", 0, &st->description);
  st->fit_group = NULL;
  if (!s) s = rd_string(r, n, "fit_group", 0, &st->fit_group);
  if (!s && st->fit_group && !*st->fit_group) {
    rd_mark m = rd_push(r, "fit_group");
    s = rd_fail(r, yt_find(n, "fit_group")->value, "expected a non-empty group name");
    rd_pop(r, m);
  }
  if (!s && !st->fit_group) st->fit_group = st->name;
  int kernel = 0;
  if (!s) s = rd_enum(r, n, "attention", 1, sl_attn_kernel_names, &kernel);
  st->attention_kernel = (sl_attn_kernel)kernel;
  st->attention_fused = kernel != SL_ATTN_UNFUSED;
  if (!s) s = rd_bool(r, n, "fused_elementwise", 1, &st->fused_elementwise);
  if (!s) s = rd_double(r, n, "kernel_overhead_s", 1, 0, 1e-2, &st->kernel_overhead_s);
  const char *src = NULL;
  if (!s) s = rd_string(r, n, "kernel_overhead_s_source", 0, &src);
  st->efficiency = stack_prior_efficiency();
  st->efficiency_given = yt_get(n, "efficiency") != NULL;
  const char *ign = NULL;
  if (!s) s = rd_double(r, n, "efficiency", 0, 0.05, 1.0, &st->efficiency);
  if (!s) s = rd_string(r, n, "efficiency_source", 0, &ign);
  if (!s) s = rd_bool(r, n, "launch_ahead", 0, &st->launch_ahead);
  if (!s) s = rd_bool(r, n, "graphs", 0, &st->graphs);
  if (!s) s = rd_bool(r, n, "cold_cache", 0, &st->cold_cache);
  st->graph_kernel_overhead_s = -1;
  if (!s) s = rd_double(r, n, "graph_kernel_overhead_s", 0, 0, 1e-2, &st->graph_kernel_overhead_s);
  if (!s) s = rd_string(r, n, "graph_kernel_overhead_s_source", 0, &ign);
  if (!s) s = rd_bool(r, n, "overlap_tp_comm", 0, &st->overlap_tp_comm);
  if (!s) s = rd_bool(r, n, "overlap_dp_comm", 0, &st->overlap_dp_comm);
  if (!s) s = rd_double(r, n, "comm_cores", 0, 0, 4096, &st->comm_cores);
  if (!s) s = rd_string(r, n, "comm_cores_source", 0, &ign);
  if (!s) s = rd_bool(r, n, "grad_accum_fusion", 0, &st->grad_accum_fusion);
  st->fused_cross_entropy = st->fused_elementwise;
  if (!s) s = rd_bool(r, n, "fused_cross_entropy", 0, &st->fused_cross_entropy);
  if (!s) s = rd_bool(r, n, "overlap_pp_comm", 0, &st->overlap_pp_comm);
  if (!s) s = rd_bool(r, n, "custom_allreduce", 0, &st->custom_allreduce);
  if (!s) s = rd_bool(r, n, "symm_mem_allreduce", 0, &st->symm_mem_allreduce);
  if (!s) s = read_ar_limits(r, n, st);
  int p2p_kernel = SL_P2P_AUTO;
  if (!s) s = rd_enum(r, n, "p2p_allreduce", 0, sl_p2p_kernel_names, &p2p_kernel);
  st->p2p_allreduce = (sl_p2p_kernel)p2p_kernel;
  if (!s) s = rd_bool(r, n, "gelu_epilogue", 0, &st->gelu_epilogue);
  if (!s) s = rd_bool(r, n, "fused_add_norm", 0, &st->fused_add_norm);
  if (!s) s = rd_bool(r, n, "quantized_attention", 0, &st->quantized_attention);
  int sampler = SL_SAMPLER_NONE;
  if (!s) s = rd_enum(r, n, "sampler", 0, sl_sampler_names, &sampler);
  st->sampler = (sl_sampler)sampler;
  if (!s) s = rd_bool(r, n, "recompute_block", 0, &st->recompute_block);
  st->sequence_parallel = st->context_parallel = 1;
  if (!s) s = rd_bool(r, n, "sequence_parallel", 0, &st->sequence_parallel);
  if (!s) s = rd_bool(r, n, "context_parallel", 0, &st->context_parallel);
  yt_node *fit = yt_get(n, "fitted");
  if (!s && fit) { /* the figures fitted to end-to-end measurements: silica calibrate --stack */
    static const char *const names[] = {"efficiency", "kernel_overhead_s", "host_step_s", "host_seq_s"};
    const size_t nn = SL_ARRAY_LEN(names);
    rd_mark m = rd_push(r, "fitted");
    if (fit->type != YT_SEQ)
      s = rd_fail(r, fit, "expected a list of figures (efficiency, kernel_overhead_s, host_step_s, host_seq_s)");
    for (size_t i = 0; !s && fit->type == YT_SEQ && i < fit->n; i++) {
      const yt_node *it = fit->items[i];
      size_t k = 0;
      while (k < nn && !(it->type == YT_SCALAR && strcmp(it->str, names[k]) == 0))
        k++;
      if (k == nn)
        s = rd_fail(r, it, "unknown figure (expected efficiency, kernel_overhead_s, host_step_s or host_seq_s)");
      else
        st->fitted |= 1u << k;
    }
    rd_pop(r, m);
  }
  /* the case files scripts/refit fits them on, when not the cross-validated set's (read there) */
  st->fit_cases = NULL;
  if (!s) s = rd_string(r, n, "fit_cases", 0, &st->fit_cases);
  st->embedding_fused = st->optimizer_foreach = st->grid_sharding = 1;
  if (!s) s = rd_bool(r, n, "host_sync", 0, &st->host_sync);
  if (!s) s = rd_bool(r, n, "grid_sharding", 0, &st->grid_sharding);
  if (!s) s = rd_bool(r, n, "embedding_fused", 0, &st->embedding_fused);
  if (!s) s = rd_bool(r, n, "optimizer_foreach", 0, &st->optimizer_foreach);
  if (!s) s = rd_double(r, n, "host_ops_per_feature", 0, 0, 1000, &st->host_ops_per_feature);
  long zero_max = 3;
  if (!s) s = rd_int(r, n, "zero_max", 0, 0, 3, &zero_max);
  st->zero_max = (double)zero_max;
  /* the serving scheduler's default limits (whole numbers; absent: the stack names none) */
  static const char *const limits[] = {"max_batch_tokens", "max_seqs"};
  double *limit[] = {&st->max_batch_tokens, &st->max_seqs};
  for (int i = 0; i < 2 && !s; i++) {
    s = rd_double(r, n, limits[i], 0, 1, 1e6, limit[i]);
    if (!s && *limit[i] != floor(*limit[i]))
      s = rd_fail(r, yt_find(n, limits[i])->value, "%s must be a whole number", limits[i]);
  }
  if (!s) s = rd_bool(r, n, "tuned_limits", 0, &st->tuned_limits);
  int policy = SL_KV_PREEMPT;
  if (!s) s = rd_enum(r, n, "kv_policy", 0, sl_kv_policy_names, &policy);
  st->kv_policy = (sl_kv_policy)policy;
  if (!s) s = rd_double(r, n, "kv_cache_fraction", 0, 0.01, 1, &st->kv_cache_fraction);
  if (!s) s = rd_double(r, n, "memory_utilization", 0, 0.01, 1, &st->memory_utilization);
  if (!s) s = rd_bool(r, n, "prefix_caching", 0, &st->prefix_caching);
  /* the serving engine's host work per step (absent: none, as when the host is never the bottleneck) */
  if (!s) s = rd_double(r, n, "host_step_s", 0, 0, 0.1, &st->host_step_s);
  if (!s) s = rd_string(r, n, "host_step_s_source", 0, &ign);
  if (!s) s = rd_double(r, n, "host_seq_s", 0, 0, 1e-3, &st->host_seq_s);
  if (!s) s = rd_string(r, n, "host_seq_s_source", 0, &ign);
  if (!s) s = rd_bool(r, n, "host_overlap", 0, &st->host_overlap);
  long zero = 0;
  if (!s) s = rd_int(r, n, "zero", 0, 0, 3, &zero);
  st->zero = (double)zero;
  if (!s && zero > zero_max) s = rd_fail(r, n, "zero (%ld) above zero_max (%ld)", zero, zero_max);
  if (!s) s = rd_string(r, n, "zero_source", 0, &ign);
  if (!s) s = rd_done(r, n);
  return s;
}

/* ---- the stack prior ---------------------------------------------------------------------------- */

static double prior_eff = 1.0;
static once_flag prior_once = ONCE_FLAG_INIT;

static void prior_read(void) {
  const char *text = sl_preset_text("validation", "residuals");
  if (!text) return;
  arena a;
  ar_init(&a);
  sl_error err;
  yt_node *root = NULL;
  if (yt_parse(&a, text, strlen(text), "residuals.yaml", &root, &err) == SL_OK) {
    yt_node *p = yt_get(root, "stack_prior");
    yt_node *e = p ? yt_get(p, "efficiency") : NULL;
    char *end = NULL;
    double v = e && e->type == YT_SCALAR ? strtod(e->str, &end) : NAN;
    if (end && *end == 0 && v >= 0.05 && v <= 1) prior_eff = v;
  }
  ar_free(&a);
}

double stack_prior_efficiency(void) {
  call_once(&prior_once, prior_read);
  return prior_eff;
}
