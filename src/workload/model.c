/* model.c — model specs: transformer (inline, preset, HF config.json), single ops, DLRM (read and
 * checked here; sizes and graphs in dlrm.c). Parameter counts. */
#include "workload/workload.h"

#include <math.h>
#include <string.h>

static const double BIG = 1e12;

static sl_status read_transformer(reader *r, yt_node *t, sl_transformer *tf) {
  static const char *const acts[] = {"gelu", "swiglu", NULL};
  static const char *const norms[] = {"layernorm", "rmsnorm", NULL};
  static const char *const pos[] = {"learned", "rope", NULL};
  int act = 0, norm = 0, position = 0;
  memset(tf, 0, sizeof *tf);
  SL_TRY(rd_map(r, t));
  SL_TRY(rd_int(r, t, "hidden", 1, 1, 10000000, &tf->hidden));
  SL_TRY(rd_int(r, t, "layers", 1, 1, 100000, &tf->layers));
  SL_TRY(rd_int(r, t, "heads", 1, 1, 1000000, &tf->heads));
  tf->kv_heads = tf->heads;
  SL_TRY(rd_int(r, t, "kv_heads", 0, 1, 1000000, &tf->kv_heads));
  SL_TRY(rd_int(r, t, "ffn", 1, 1, 100000000, &tf->ffn));
  SL_TRY(rd_int(r, t, "vocab", 1, 0, 100000000, &tf->vocab));
  SL_TRY(rd_enum(r, t, "activation", 1, acts, &act));
  SL_TRY(rd_enum(r, t, "norm", 1, norms, &norm));
  SL_TRY(rd_enum(r, t, "position", 1, pos, &position));
  SL_TRY(rd_bool(r, t, "tied_embeddings", 0, &tf->tied_embeddings));
  tf->head_dim = tf->hidden / tf->heads;
  SL_TRY(rd_int(r, t, "head_dim", 0, 1, 100000, &tf->head_dim));
  tf->dropout = act == SL_ACT_GELU && position == SL_POS_LEARNED; /* GPT-style Megatron training */
  SL_TRY(rd_bool(r, t, "dropout", 0, &tf->dropout));
  tf->qk_norm = 0;
  SL_TRY(rd_bool(r, t, "qk_norm", 0, &tf->qk_norm));
  tf->max_context = 0;
  SL_TRY(rd_int(r, t, "max_context", 0, 1, 1000000000, &tf->max_context));
  tf->experts = 0, tf->experts_per_token = 0, tf->shared_experts = 0, tf->moe_every = 1;
  SL_TRY(rd_int(r, t, "experts", 0, 0, 100000, &tf->experts));
  SL_TRY(rd_int(r, t, "experts_per_token", 0, 1, 100000, &tf->experts_per_token));
  SL_TRY(rd_int(r, t, "shared_experts", 0, 0, 1000, &tf->shared_experts));
  SL_TRY(rd_int(r, t, "moe_every", 0, 1, 100000, &tf->moe_every));
  tf->activation = (sl_activation)act;
  tf->norm = (sl_norm)norm;
  tf->position = (sl_position)position;
  if (tf->kv_heads > tf->heads || tf->heads % tf->kv_heads != 0) {
    rd_mark mk = rd_push(r, "kv_heads");
    sl_status s = rd_fail(r, yt_find(t, "kv_heads") ? yt_find(t, "kv_heads")->value : t,
                          "kv_heads (%ld) must divide heads (%ld)", tf->kv_heads, tf->heads);
    rd_pop(r, mk);
    return s;
  }
  if (tf->head_dim * tf->heads > 100 * tf->hidden)
    return rd_fail(r, t, "heads x head_dim (%ld) is absurd for hidden %ld", tf->head_dim * tf->heads,
                   tf->hidden);
  if (tf->experts > 0 && tf->experts_per_token == 0) tf->experts_per_token = 1;
  if (tf->experts_per_token > tf->experts && tf->experts > 0)
    return rd_fail(r, t, "experts_per_token (%ld) exceeds experts (%ld)", tf->experts_per_token, tf->experts);
  return rd_done(r, t);
}

/* Hugging Face config.json of the Llama family. */
static sl_status read_hf(reader *r, yt_node *c, sl_model *m) {
  sl_transformer *tf = &m->tf;
  memset(tf, 0, sizeof *tf);
  SL_TRY(rd_int(r, c, "hidden_size", 1, 1, 10000000, &tf->hidden));
  SL_TRY(rd_int(r, c, "intermediate_size", 1, 1, 100000000, &tf->ffn));
  SL_TRY(rd_int(r, c, "num_hidden_layers", 1, 1, 100000, &tf->layers));
  SL_TRY(rd_int(r, c, "num_attention_heads", 1, 1, 1000000, &tf->heads));
  tf->kv_heads = tf->heads;
  SL_TRY(rd_int(r, c, "num_key_value_heads", 0, 1, 1000000, &tf->kv_heads));
  tf->head_dim = tf->hidden / tf->heads;
  yt_node *hd = yt_get(c, "head_dim");
  if (hd && !(hd->type == YT_SCALAR && strcmp(hd->str, "null") == 0))
    SL_TRY(rd_int(r, c, "head_dim", 1, 1, 100000, &tf->head_dim));
  SL_TRY(rd_int(r, c, "vocab_size", 1, 0, 100000000, &tf->vocab));
  SL_TRY(rd_bool(r, c, "tie_word_embeddings", 0, &tf->tied_embeddings));
  SL_TRY(rd_int(r, c, "max_position_embeddings", 0, 1, 1000000000, &tf->max_context));
  SL_TRY(rd_int(r, c, "num_local_experts", 0, 0, 100000, &tf->experts));
  SL_TRY(rd_int(r, c, "num_experts_per_tok", 0, 1, 100000, &tf->experts_per_token));
  tf->activation = SL_ACT_SWIGLU;
  tf->norm = SL_NORM_RMSNORM;
  tf->position = SL_POS_ROPE;
  tf->moe_every = 1;
  if (tf->kv_heads > tf->heads || tf->heads % tf->kv_heads)
    return rd_fail(r, c, "num_key_value_heads (%ld) must divide num_attention_heads (%ld)", tf->kv_heads,
                   tf->heads);
  /* Other HF keys (rope_theta, torch_dtype, ...) do not change cost: mark them read. */
  for (size_t i = 0; i < c->n; i++)
    c->pairs[i].used = 1;
  m->kind = SL_MODEL_TRANSFORMER;
  return SL_OK;
}

static sl_status read_op(reader *r, yt_node *n, sl_model *m) {
  sl_op_spec *op = &m->op;
  int type = 0;
  memset(op, 0, sizeof *op);
  SL_TRY(rd_enum(r, n, "op", 1, sl_op_type_names, &type));
  op->type = (sl_op_type)type;
  m->kind = SL_MODEL_OP;
  switch (op->type) {
  case SL_OPT_GEMM:
    SL_TRY(rd_double(r, n, "m", 1, 1, BIG, &op->m));
    SL_TRY(rd_double(r, n, "n", 1, 1, BIG, &op->n));
    SL_TRY(rd_double(r, n, "k", 1, 1, BIG, &op->k));
    op->batch = 1;
    SL_TRY(rd_double(r, n, "batch", 0, 1, BIG, &op->batch));
    SL_TRY(rd_bool(r, n, "quantized_inputs", 0, &op->quantized_inputs));
    break;
  case SL_OPT_ATTENTION:
    SL_TRY(rd_double(r, n, "batch", 1, 1, BIG, &op->batch));
    SL_TRY(rd_double(r, n, "seq_len", 1, 1, BIG, &op->seq_len));
    SL_TRY(rd_double(r, n, "heads", 1, 1, 1e6, &op->heads));
    op->kv_heads = op->heads;
    SL_TRY(rd_double(r, n, "kv_heads", 0, 1, 1e6, &op->kv_heads));
    SL_TRY(rd_double(r, n, "head_dim", 1, 1, 1e5, &op->head_dim));
    SL_TRY(rd_bool(r, n, "causal", 0, &op->causal));
    if (fmod(op->heads, op->kv_heads) != 0) return rd_fail(r, n, "kv_heads must divide heads");
    op->kv_len = op->seq_len;
    SL_TRY(rd_double(r, n, "kv_len", 0, 1, BIG, &op->kv_len));
    if (op->causal && op->kv_len < op->seq_len) /* causal queries are the last seq_len of the keys */
      return rd_fail(r, yt_find(n, "kv_len") ? yt_find(n, "kv_len")->value : n,
                     "a causal op's kv_len must be at least its seq_len");
    SL_TRY(rd_bool(r, n, "paged", 0, &op->paged));
    op->kernel_given = yt_find(n, "kernel") != NULL;
    int kernel = 0, pass = SL_PASS_FORWARD;
    SL_TRY(rd_enum(r, n, "kernel", 0, sl_attn_kernel_names, &kernel));
    SL_TRY(rd_enum(r, n, "pass", 0, sl_attn_pass_names, &pass));
    op->kernel = (sl_attn_kernel)kernel;
    op->pass = (sl_attn_pass)pass;
    break;
  case SL_OPT_GELU:
  case SL_OPT_SILU:
  case SL_OPT_SOFTMAX:
  case SL_OPT_LAYERNORM:
  case SL_OPT_RMSNORM:
  case SL_OPT_ADD:
    SL_TRY(rd_double(r, n, "rows", 1, 1, BIG, &op->rows));
    SL_TRY(rd_double(r, n, "cols", 1, 1, BIG, &op->cols));
    if (op->rows != floor(op->rows) || op->cols != floor(op->cols))
      return rd_fail(r, n, "rows and cols must be whole numbers");
    break;
  case SL_OPT_EMBEDDING_BAG:
    SL_TRY(rd_double(r, n, "rows", 1, 1, BIG, &op->rows));
    SL_TRY(rd_double(r, n, "dim", 1, 1, 1e6, &op->dim));
    SL_TRY(rd_double(r, n, "pooling", 1, 1, 1e6, &op->pooling));
    SL_TRY(rd_double(r, n, "batch", 1, 1, BIG, &op->batch));
    break;
  default:
    SL_TRY(rd_double(r, n, "bytes", 1, 1, 1e15, &op->bytes));
    break;
  }
  for (int i = 0; i < 3; i++) {
    const double *v = i == 0 ? &op->m : i == 1 ? &op->n : &op->k;
    if (*v != floor(*v)) return rd_fail(r, n, "gemm dimensions must be whole numbers");
  }
  return rd_done(r, n);
}

_Static_assert(SL_SHARD_COUNT == 7, "update sl_shard_names");
const char *const sl_shard_names[] = {"auto", "table", "row", "column", "data", "table_row", "grid", NULL};
_Static_assert(SL_ARRAY_LEN(sl_shard_names) == SL_SHARD_COUNT + 1, "a name for every member");

/* A list of layer widths (whole numbers >= 1); *out is allocated in the reader's arena. */
static sl_status read_widths(reader *r, yt_node *map, const char *key, int required, double **out,
                             size_t *n) {
  yt_node *v = yt_get(map, key);
  *out = NULL, *n = 0;
  rd_mark mk = rd_push(r, key);
  sl_status s = SL_OK;
  if (!v) {
    if (required) s = rd_missing(r, map, key, "missing key");
  } else if (v->type != YT_SEQ || v->n == 0) {
    s = rd_fail(r, v, "expected a non-empty list of layer widths, e.g. [512, 256, 128]");
  } else if (v->n > 1000) {
    s = rd_fail(r, v, "at most 1000 layers");
  } else if (!(*out = ar_alloc(r->a, v->n * sizeof **out))) {
    s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  for (size_t i = 0; !s && v && i < v->n; i++) {
    rd_mark m2 = rd_push_index(r, i);
    s = rd_scalar_double(r, v->items[i], 1, 1e7, &(*out)[i]);
    if (!s && (*out)[i] != floor((*out)[i])) s = rd_fail(r, v->items[i], "a layer width is a whole number");
    rd_pop(r, m2);
  }
  if (!s && v) *n = v->n;
  rd_pop(r, mk);
  return s;
}

static sl_status read_table(reader *r, yt_node *t, double zipf_default, double skewed_default, sl_emb_table *e) {
  int sh = SL_SHARD_AUTO;
  SL_TRY(rd_map(r, t));
  SL_TRY(rd_string(r, t, "name", 0, &e->name));
  SL_TRY(rd_double(r, t, "rows", 1, 1, 1e13, &e->rows));
  SL_TRY(rd_double(r, t, "dim", 1, 1, 65536, &e->dim));
  SL_TRY(rd_double(r, t, "pooling", 1, 1e-6, 1e6, &e->pooling));
  e->zipf = zipf_default;
  SL_TRY(rd_double(r, t, "zipf", 0, 0, 10, &e->zipf));
  /* lookups that follow the skew: the table's own value (at most pooling), else the model's (capped
   * at pooling), else all */
  double sk = -1;
  SL_TRY(rd_double(r, t, "skewed_lookups", 0, 0, 1e6, &sk));
  if (sk > e->pooling) {
    rd_mark mk = rd_push(r, "skewed_lookups");
    sl_status s = rd_fail(r, yt_find(t, "skewed_lookups")->value, "%g is more than the table's pooling (%g)",
                          sk, e->pooling);
    rd_pop(r, mk);
    return s;
  }
  if (sk < 0) sk = skewed_default < 0 ? e->pooling : fmin(skewed_default, e->pooling);
  e->uniform = e->pooling - sk;
  SL_TRY(rd_enum(r, t, "sharding", 0, sl_shard_names, &sh));
  e->sharding = (sl_shard_kind)sh;
  if (e->rows != floor(e->rows) || e->dim != floor(e->dim))
    return rd_fail(r, t, "rows and dim are whole numbers");
  return rd_done(r, t);
}

/* The DLRM keys of docs/chip-spec.md: dense features, tables, bottom and top MLPs, interaction. */
static sl_status read_dlrm(reader *r, yt_node *d, sl_dlrm *m) {
  static const char *const types[] = {"dot", "dcnv2", NULL};
  memset(m, 0, sizeof *m);
  SL_TRY(rd_map(r, d));
  SL_TRY(rd_double(r, d, "dense_features", 1, 0, 1e6, &m->dense_features));
  if (m->dense_features != floor(m->dense_features))
    return rd_fail(r, yt_find(d, "dense_features")->value, "dense_features is a whole number");
  /* A model-wide skew for tables that give none (an extension of the FORMATS.md keys). */
  double zipf = 0, skewed = -1;
  SL_TRY(rd_double(r, d, "zipf", 0, 0, 10, &zipf));
  SL_TRY(rd_double(r, d, "skewed_lookups", 0, 0, 1e6, &skewed));
  yt_node *t = yt_get(d, "tables");
  {
    rd_mark mk = rd_push(r, "tables");
    sl_status s = SL_OK;
    if (!t)
      s = rd_missing(r, d, "tables", "missing key");
    else if (t->type != YT_SEQ || t->n == 0)
      s = rd_fail(r, t, "expected a non-empty list of tables {rows, dim, pooling, zipf}");
    else if (t->n > 100000)
      s = rd_fail(r, t, "at most 100000 tables");
    else if (!(m->tables = ar_alloc(r->a, t->n * sizeof *m->tables)))
      s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; !s && i < t->n; i++) {
      rd_mark m2 = rd_push_index(r, i);
      s = read_table(r, t->items[i], zipf, skewed, &m->tables[i]);
      rd_pop(r, m2);
    }
    rd_pop(r, mk);
    SL_TRY(s);
    m->n_tables = t->n;
  }
  SL_TRY(read_widths(r, d, "bottom_mlp", m->dense_features > 0, &m->bottom, &m->n_bottom));
  if (m->dense_features == 0 && m->n_bottom > 0)
    return rd_fail(r, yt_find(d, "bottom_mlp")->value, "a bottom MLP needs dense_features > 0");
  SL_TRY(read_widths(r, d, "top_mlp", 1, &m->top, &m->n_top));
  yt_node *it = yt_get(d, "interaction");
  rd_mark mk = rd_push(r, "interaction");
  sl_status s = it ? rd_map(r, it) : rd_missing(r, d, "interaction", "missing key");
  int type = 0;
  if (!s) s = rd_enum(r, it, "type", 1, types, &type);
  m->inter = (sl_interaction)type;
  if (!s && m->inter == SL_INTER_DCNV2) {
    s = rd_double(r, it, "layers", 1, 1, 1000, &m->cross_layers);
    if (!s) s = rd_double(r, it, "low_rank", 1, 1, 1e6, &m->low_rank);
    if (!s && (m->cross_layers != floor(m->cross_layers) || m->low_rank != floor(m->low_rank)))
      s = rd_fail(r, it, "layers and low_rank are whole numbers");
  }
  if (!s) s = rd_done(r, it);
  rd_pop(r, mk);
  SL_TRY(s);
  /* the benchmark's evaluation during training: every_samples trained samples, a forward pass over
   * samples held-out ones */
  yt_node *ev = yt_get(d, "eval");
  if (ev) {
    mk = rd_push(r, "eval");
    s = rd_map(r, ev);
    if (!s) s = rd_double(r, ev, "every_samples", 1, 1, 1e15, &m->eval_every);
    if (!s) s = rd_double(r, ev, "samples", 1, 1, 1e15, &m->eval_samples);
    if (!s) s = rd_double(r, ev, "batch_scale", 0, 1e-3, 1e4, &m->eval_batch_scale);
    if (!s) s = rd_done(r, ev);
    rd_pop(r, mk);
    SL_TRY(s);
  }
  if (m->inter == SL_INTER_DOT && m->n_tables + (m->n_bottom ? 1 : 0) < 2) {
    mk = rd_push(r, "interaction");
    s = rd_fail(r, it, "interaction dot needs at least two vectors (tables, and the bottom MLP's output)");
    rd_pop(r, mk);
    return s;
  }
  if (m->inter == SL_INTER_DOT) { /* pairwise dots need vectors of one width */
    double w = m->n_bottom ? m->bottom[m->n_bottom - 1] : m->tables[0].dim;
    for (size_t i = 0; i < m->n_tables; i++)
      if (m->tables[i].dim != w) {
        rd_mark m2 = rd_push(r, "tables");
        rd_mark m3 = rd_push_index(r, i);
        s = rd_fail(r, t->items[i], "interaction dot needs every table's dim to equal %s (%g), got %g",
                    m->n_bottom ? "the bottom MLP's output" : "the first table's dim", w, m->tables[i].dim);
        rd_pop(r, m3);
        rd_pop(r, m2);
        return s;
      }
  }
  return rd_done(r, d);
}

sl_status model_from_node(reader *r, yt_node *n, sl_model *m) {
  memset(m, 0, sizeof *m);
  m->file = n ? n->file : "";
  SL_TRY(rd_map(r, n));
  m->name = "inline";
  if (yt_find(n, "hidden_size")) {
    m->name = "config.json";
    return read_hf(r, n, m);
  }
  if (yt_find(n, "op")) return read_op(r, n, m);
  SL_TRY(rd_string(r, n, "name", 0, &m->name));
  const char *ignore = NULL;
  SL_TRY(rd_string(r, n, "description", 0, &ignore));
  SL_TRY(rd_string(r, n, "source", 0, &ignore));
  SL_TRY(rd_double(r, n, "params_published", 0, 0, 1e16, &m->params_published));
  yt_node *t = yt_get(n, "transformer"), *d = yt_get(n, "dlrm");
  if (t && d) return rd_fail(r, n, "a model is either a transformer or a dlrm, not both");
  if (t) {
    rd_mark mk = rd_push(r, "transformer");
    sl_status s = read_transformer(r, t, &m->tf);
    rd_pop(r, mk);
    SL_TRY(s);
    m->kind = SL_MODEL_TRANSFORMER;
  } else if (d) {
    rd_mark mk = rd_push(r, "dlrm");
    sl_status s = read_dlrm(r, d, &m->dlrm);
    rd_pop(r, mk);
    SL_TRY(s);
    m->kind = SL_MODEL_DLRM;
  } else {
    return rd_fail(r, n, "expected transformer:, dlrm:, op: or a Hugging Face config.json");
  }
  return rd_done(r, n);
}

static double moe_layers(const sl_transformer *t) {
  return t->experts > 0 ? floor((double)t->layers / (double)t->moe_every) : 0;
}

int model_has_moe(const sl_model *m) {
  return m->kind == SL_MODEL_TRANSFORMER && moe_layers(&m->tf) > 0;
}

/* Matrix-product parameters of one FFN of width ffn. */
static double ffn_params(const sl_transformer *t, double ffn) {
  return (t->activation == SL_ACT_SWIGLU ? 3.0 : 2.0) * (double)t->hidden * ffn;
}

static double attn_params(const sl_transformer *t) {
  double h = (double)t->hidden, qd = (double)(t->heads * t->head_dim),
         kvd = (double)(t->kv_heads * t->head_dim);
  return h * (qd + 2 * kvd) + qd * h;
}

double tf_layer_matmul_params(const sl_transformer *t, int moe) {
  if (!moe) return attn_params(t) + ffn_params(t, (double)t->ffn);
  return attn_params(t) + ffn_params(t, (double)t->ffn) * (double)(t->experts + t->shared_experts) +
         (double)t->hidden * (double)t->experts; /* router */
}

double tf_layer_params(const sl_transformer *t, int moe) {
  double h = (double)t->hidden;
  double norms = (t->norm == SL_NORM_LAYERNORM ? 4.0 : 2.0) * h;
  double bias = 0;
  if (t->activation == SL_ACT_GELU) /* GPT-style: biases on every linear */
    bias = (double)(t->heads * t->head_dim + 2 * t->kv_heads * t->head_dim) + h + (double)t->ffn + h;
  return tf_layer_matmul_params(t, moe) + norms + bias;
}

double tf_embed_params(const sl_transformer *t) {
  double h = (double)t->hidden;
  double pos = t->position == SL_POS_LEARNED ? (double)(t->max_context > 0 ? t->max_context : 2048) * h : 0;
  return (double)t->vocab * h + pos;
}

double tf_head_params(const sl_transformer *t) {
  double h = (double)t->hidden;
  return (t->norm == SL_NORM_LAYERNORM ? 2.0 : 1.0) * h + (t->tied_embeddings ? 0 : (double)t->vocab * h);
}

double model_matmul_params(const sl_model *m) {
  if (m->kind == SL_MODEL_DLRM) return dlrm_dense_params(&m->dlrm); /* biases are a rounding error */
  if (m->kind != SL_MODEL_TRANSFORMER) return 0;
  const sl_transformer *t = &m->tf;
  double L = (double)t->layers, nm = moe_layers(t);
  return (L - nm) * tf_layer_matmul_params(t, 0) + nm * tf_layer_matmul_params(t, 1) +
         (double)t->vocab * (double)t->hidden; /* LM head */
}

double model_params(const sl_model *m) {
  if (m->kind == SL_MODEL_DLRM) return dlrm_emb_params(&m->dlrm) + dlrm_dense_params(&m->dlrm);
  if (m->kind != SL_MODEL_TRANSFORMER) return 0;
  const sl_transformer *t = &m->tf;
  double L = (double)t->layers, nm = moe_layers(t);
  return (L - nm) * tf_layer_params(t, 0) + nm * tf_layer_params(t, 1) + tf_embed_params(t) +
         tf_head_params(t);
}

void tf_unquantized_layers(const sl_scenario *sc, double *dense, double *moe) {
  const sl_transformer *t = &sc->model.tf;
  double L = (double)t->layers, first = fmin(sc->unquant_first, L), last = fmin(sc->unquant_last, L - first);
  /* layer i (from 0) is a mixture when i + 1 is a multiple of moe_every: floor(n / m) of the first n */
  double m = (double)t->moe_every;
  double em = t->experts > 0 ? floor(first / m) + floor(L / m) - floor((L - last) / m) : 0;
  *moe = em;
  *dense = first + last - em;
}

double model_weight_bytes(const sl_scenario *sc) {
  const sl_model *m = &sc->model;
  double wb = sl_dtype_bytes[sc->w_dtype], ab = sl_dtype_bytes[sc->a_dtype], all = model_params(m);
  if (m->kind != SL_MODEL_TRANSFORMER || (!sc->quant_ffn && !(sc->unquant_first + sc->unquant_last > 0)))
    return all * wb;
  const sl_transformer *t = &m->tf;
  double ed, em, nm = moe_layers(t);
  tf_unquantized_layers(sc, &ed, &em);
  double md = (double)t->layers - nm - ed, mm = nm - em; /* the quantized layers */
  double q = sc->quant_ffn ? md * ffn_params(t, (double)t->ffn) +
                                 mm * ffn_params(t, (double)t->ffn) * (double)(t->experts + t->shared_experts)
                           : all - ed * tf_layer_params(t, 0) - em * tf_layer_params(t, 1);
  return q * wb + (all - q) * ab;
}

double tf_kv_heads(const sl_transformer *t, double tp) {
  return fmax(1.0, (double)t->kv_heads / tp);
}

double tf_kv_dim(const sl_transformer *t, double tp) {
  return tf_kv_heads(t, tp) * (double)t->head_dim;
}

double tf_kv_bytes_per_token(const sl_transformer *t, double tp, double layers, sl_dtype kv) {
  return 2.0 * layers * tf_kv_dim(t, tp) * sl_dtype_bytes[kv];
}

/* fp32 state a parameter carries beyond its weight: master copy and m, v (AdamW, LAMB); master
 * copy and accumulator (Adagrad); master copy (SGD) */
double optim_state_bytes(sl_optimizer o) {
  return o == SL_OPTIM_ADAMW || o == SL_OPTIM_LAMB ? 12.0 : o == SL_OPTIM_ADAGRAD ? 8.0 : 4.0;
}

/* Arithmetic of the update a parameter: Adam's moments, bias correction and step (LAMB the same
 * and its two norms and the trust-ratio scaling) */
double optim_step_flops(sl_optimizer o) {
  return o == SL_OPTIM_ADAMW ? 12.0 : o == SL_OPTIM_LAMB ? 16.0 : 4.0;
}

double optim_step_bytes(sl_optimizer o, double wb, int loss_scaling) {
  double update;
  switch (o) {
  case SL_OPTIM_SGD:
    update = 8.0 + 4.0;
    break; /* read w, g; write w */
  case SL_OPTIM_ADAGRAD:
    update = 12.0 + 8.0;
    break; /* read w, g, accumulator; write w, accumulator */
  case SL_OPTIM_LAMB: /* You et al. 2020, as apex's FusedLAMB and MLPerf BERT's DistributedFusedLAMB run it:
                        * stage 1 reads w, g, m, v and writes m, v and the update u (with the per-tensor
                        * norms of w and u reduced on the way); stage 2 reads u and w and writes w scaled
                        * by the tensor's trust ratio ||w|| / ||u|| */
    update = 16.0 + 12.0 + 8.0 + 4.0;
    break;
  case SL_OPTIM_ADAMW:
  default:
    update = 16.0 + 12.0;
    break; /* read w, g, m, v; write w, m, v */
  }
  return update + (4.0 + wb) + 4.0 + 4.0 + (loss_scaling ? 8.0 : 0.0);
}
