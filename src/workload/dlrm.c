/* dlrm.c — DLRM-style ranking models: sizes, FLOP and bytes per sample, and the op graph of the
 * dense part (bottom MLP, interaction, top MLP, loss, and their backward).  The embedding bags are
 * not here: where their rows live depends on the sharding plan, so sim/dlrm.c costs them.
 *
 * Shapes per chip for B samples (notation: w_i layer widths, F interacting vectors of width d,
 * D = bottom output + sum of table dims, r the DCNv2 low rank):
 *   bottom MLP  (B x w_{i-1}) @ (w_{i-1} x w_i), ReLU after every layer
 *   dot         concat to (B, F, d); Z = X X^T batched (F x F x d per sample); keep the F(F-1)/2
 *               pairs below the diagonal and the bottom output -> width d_b + F(F-1)/2
 *               (Naumov et al. 2019, arXiv 1906.00091)
 *   dcnv2       x0 = concat (B x D); per layer x_{l+1} = x0 * (U (V^T x_l) + b) + x_l with
 *               V: D x r, U: r x D -> width D (Wang et al. 2021, arXiv 2008.13535; low-rank form)
 *   top MLP     ReLU between layers, a sigmoid and binary cross-entropy after the last. */
#include "workload/workload.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

double dlrm_bottom_out(const sl_dlrm *d) {
  return d->n_bottom ? d->bottom[d->n_bottom - 1] : 0;
}

double dlrm_emb_width(const sl_dlrm *d) {
  double w = 0;
  for (size_t i = 0; i < d->n_tables; i++)
    w += d->tables[i].dim;
  return w;
}

/* Vectors that interact (dot): the tables' pooled rows and the bottom MLP's output. */
static double dot_vectors(const sl_dlrm *d) {
  return (double)d->n_tables + (d->n_bottom ? 1 : 0);
}
static double dot_width(const sl_dlrm *d) {
  return d->n_bottom ? dlrm_bottom_out(d) : d->tables[0].dim;
}

double dlrm_interaction_out(const sl_dlrm *d) {
  if (d->inter == SL_INTER_DCNV2) return dlrm_bottom_out(d) + dlrm_emb_width(d);
  double F = dot_vectors(d);
  return dlrm_bottom_out(d) + F * (F - 1) / 2;
}

double dlrm_emb_rows(const sl_dlrm *d) {
  double r = 0;
  for (size_t i = 0; i < d->n_tables; i++)
    r += d->tables[i].rows;
  return r;
}

double dlrm_emb_params(const sl_dlrm *d) {
  double p = 0;
  for (size_t i = 0; i < d->n_tables; i++)
    p += d->tables[i].rows * d->tables[i].dim;
  return p;
}

static double mlp_params(const double *w, size_t n, double in) {
  double p = 0;
  for (size_t i = 0; i < n; i++)
    p += in * w[i] + w[i], in = w[i];
  return p;
}

double dlrm_dense_params(const sl_dlrm *d) {
  double p = mlp_params(d->bottom, d->n_bottom, d->dense_features);
  if (d->inter == SL_INTER_DCNV2) {
    double D = dlrm_interaction_out(d);
    p += d->cross_layers * (2.0 * D * d->low_rank + D);
  }
  return p + mlp_params(d->top, d->n_top, dlrm_interaction_out(d));
}

static double mlp_flops(const double *w, size_t n, double in) {
  double f = 0;
  for (size_t i = 0; i < n; i++)
    f += 2.0 * in * w[i], in = w[i];
  return f;
}

double dlrm_flops_per_sample(const sl_dlrm *d) {
  double f = mlp_flops(d->bottom, d->n_bottom, d->dense_features);
  if (d->inter == SL_INTER_DCNV2) {
    f += d->cross_layers * 4.0 * dlrm_interaction_out(d) * d->low_rank;
  } else {
    double F = dot_vectors(d);
    f += 2.0 * F * F * dot_width(d); /* the batched product computes the whole F x F */
  }
  return f + mlp_flops(d->top, d->n_top, dlrm_interaction_out(d));
}

double dlrm_emb_bytes_per_sample(const sl_dlrm *d, double wb, int train) {
  double b = 0;
  for (size_t i = 0; i < d->n_tables; i++) {
    const sl_emb_table *t = &d->tables[i];
    double row = t->dim * wb;
    b += t->pooling * row;
    if (train) b += t->pooling * (2.0 * row + 2.0 * 4.0);
  }
  return b;
}

/* Widths of the interaction's intermediates per sample. */
static double interaction_act(const sl_dlrm *d) {
  if (d->inter == SL_INTER_DCNV2) {
    double D = dlrm_interaction_out(d);
    return D + d->cross_layers * (d->low_rank + 2.0 * D);
  }
  double F = dot_vectors(d);
  return F * dot_width(d) + F * F + dlrm_interaction_out(d);
}

double dlrm_act_bytes_per_sample(const sl_dlrm *d, double ab, int train) {
  double w = d->dense_features + dlrm_emb_width(d) + interaction_act(d);
  for (size_t i = 0; i < d->n_bottom; i++)
    w += d->bottom[i];
  for (size_t i = 0; i < d->n_top; i++)
    w += d->top[i];
  return w * ab * (train ? 2.0 : 1.0); /* training: the saved activations and their gradients */
}

/* ---- the dense part's op graph ---------------------------------------------------------------- */

typedef struct db {
  arena *a;
  sl_graph *g;
  int oom;
  sl_dtype cdt, adt;
  double ab, wb;
  int fused_ew;
} db;

static const char *name_of(db *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *name_of(db *b, const char *fmt, ...) {
  char buf[96];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  const char *s = ar_strdup(b->a, buf);
  if (!s) b->oom = 1;
  return s ? s : "?";
}

static sl_op *add(db *b, const char *name, sl_phase ph, sl_category cat, sl_kernel k, double count) {
  return graph_op(b->a, b->g, &b->oom, name, ph, cat, k, count);
}

/* out (m x n) = A (m x k) @ B (k x n); `weight`: B is a weight (else an activation). */
static void gemm(db *b, const char *name, sl_phase ph, sl_category cat, double m, double n, double k,
                 double batch, int weight, double count) {
  sl_op *op = add(b, name, ph, cat, SL_K_GEMM, count);
  op->u.g = (sl_gemm_shape){m, n, k, batch, b->cdt, b->ab, weight ? b->wb : b->ab, b->ab};
  op->model_flops = 2.0 * m * n * k * batch;
}

/* Backward of out = A @ W: dA = dOut @ W^T (skipped when A is the input data), dW = A^T @ dOut in
 * fp32. */
static void gemm_bwd(db *b, const char *dname, const char *wname, sl_category cat, double m, double n,
                     double k, double count) {
  if (dname) {
    sl_op *d = add(b, dname, SL_PH_BACKWARD, cat, SL_K_GEMM, count);
    d->u.g = (sl_gemm_shape){m, k, n, 1, b->cdt, b->ab, b->wb, b->ab};
    d->model_flops = 2.0 * m * n * k;
  }
  sl_op *w = add(b, wname, SL_PH_BACKWARD, cat, SL_K_GEMM, count);
  w->u.g = (sl_gemm_shape){k, n, m, 1, b->cdt, b->ab, b->ab, 4.0};
  w->model_flops = 2.0 * m * n * k;
}

static void stream(db *b, const char *name, sl_phase ph, sl_category cat, double bytes, double flops,
                   double count) {
  sl_op *op = add(b, name, ph, cat, SL_K_STREAM, count);
  op->u.s.bytes = bytes;
  op->u.s.flops = flops;
  op->u.s.dt = b->adt;
}

/* ReLU after a layer of width w: its own kernel unless the stack fuses it into the GEMM. */
static void relu(db *b, const char *name, sl_phase ph, double B, double w) {
  if (b->fused_ew) return;
  int bwd = ph == SL_PH_BACKWARD;
  stream(b, name, ph, SL_CAT_ELEMENTWISE, (bwd ? 3.0 : 2.0) * B * w * b->ab, B * w, 1);
}

static void db_init(db *b, arena *a, const sl_scenario *sc, const sl_lowering *lw, sl_graph *g) {
  memset(b, 0, sizeof *b);
  b->a = a;
  b->g = g;
  b->adt = sc->a_dtype;
  b->cdt = lw->compute_dt;
  b->ab = sl_dtype_bytes[sc->a_dtype];
  b->wb = sl_dtype_bytes[sc->w_dtype];
  b->fused_ew = lw->fused_ew;
}

sl_status dlrm_graph_dense(arena *a, const sl_scenario *sc, const sl_lowering *lw, double B, int train,
                           sl_graph *g) {
  const sl_dlrm *d = &sc->model.dlrm;
  db b;
  db_init(&b, a, sc, lw, g);
  const sl_phase F_ = SL_PH_FORWARD, BW = SL_PH_BACKWARD;
  const sl_category IC = SL_CAT_INTERACTION;
  double ab = b.ab, in = d->dense_features;
  for (size_t i = 0; i < d->n_bottom; i++) {
    gemm(&b, name_of(&b, "bottom_mlp.%zu", i), F_, SL_CAT_GEMM, B, d->bottom[i], in, 1, 1, 1);
    relu(&b, name_of(&b, "bottom_relu.%zu", i), F_, B, d->bottom[i]);
    in = d->bottom[i];
  }
  double D = dlrm_interaction_out(d), db_ = dlrm_bottom_out(d);
  double Fv = dot_vectors(d), w = dot_width(d), pairs = Fv * (Fv - 1) / 2, r = d->low_rank,
         L = d->cross_layers;
  if (d->inter == SL_INTER_DCNV2) {
    stream(&b, "interaction_concat", F_, IC, 2.0 * B * D * ab, 0, 1);
    gemm(&b, "cross_v", F_, IC, B, r, D, 1, 1, L);
    gemm(&b, "cross_u", F_, IC, B, D, r, 1, 1, L);
    if (b.fused_ew) { /* x0 * (u + b) + x_l in one kernel (the bias rides in the GEMM) */
      stream(&b, "cross_combine", F_, IC, 4.0 * B * D * ab, 2.0 * B * D, L);
    } else { /* eager: a multiply and an add, each reading two tensors and writing one */
      stream(&b, "cross_mul", F_, IC, 3.0 * B * D * ab, B * D, L);
      stream(&b, "cross_add", F_, IC, 3.0 * B * D * ab, B * D, L);
    }
  } else {
    stream(&b, "interaction_concat", F_, IC, 2.0 * B * Fv * w * ab, 0, 1);
    gemm(&b, "interaction_bmm", F_, IC, Fv, Fv, w, B, 0, 1);
    stream(&b, "interaction_tril", F_, IC, B * ab * (Fv * Fv + pairs + 2.0 * db_), 0, 1);
  }
  in = D;
  for (size_t i = 0; i < d->n_top; i++) {
    gemm(&b, name_of(&b, "top_mlp.%zu", i), F_, SL_CAT_GEMM, B, d->top[i], in, 1, 1, 1);
    if (i + 1 < d->n_top) relu(&b, name_of(&b, "top_relu.%zu", i), F_, B, d->top[i]);
    in = d->top[i];
  }
  double out = in;
  /* sigmoid (+ binary cross-entropy against the labels in training), fp32 */
  stream(&b, train ? "loss" : "sigmoid", F_, SL_CAT_ELEMENTWISE, B * out * (ab + 4.0 + (train ? 4.0 : 0)),
         (train ? 8.0 : 4.0) * B * out, 1);
  if (train) {
    stream(&b, "loss.bwd", BW, SL_CAT_ELEMENTWISE, B * out * (4.0 + 2.0 * ab), 4.0 * B * out, 1);
    for (size_t j = d->n_top; j-- > 0;) {
      double kin = j ? d->top[j - 1] : D;
      if (j + 1 < d->n_top) relu(&b, name_of(&b, "top_relu.%zu.bwd", j), BW, B, d->top[j]);
      gemm_bwd(&b, name_of(&b, "top_mlp.%zu.dgrad", j), name_of(&b, "top_mlp.%zu.wgrad", j), SL_CAT_GEMM, B,
               d->top[j], kin, 1);
    }
    if (d->inter == SL_INTER_DCNV2) {
      if (b.fused_ew) { /* from dx_{l+1}: du = g * x0, dx0 += g * u, dx_l = g */
        stream(&b, "cross_combine.bwd", BW, IC, 6.0 * B * D * ab, 3.0 * B * D, L);
      } else {
        stream(&b, "cross_mul.bwd", BW, IC, 7.0 * B * D * ab, 3.0 * B * D, L);
        stream(&b, "cross_add.bwd", BW, IC, 3.0 * B * D * ab, B * D,
               L); /* x_l's gradient: this one plus V's */
      }
      gemm_bwd(&b, "cross_u.dgrad", "cross_u.wgrad", IC, B, D, r, L);
      gemm_bwd(&b, "cross_v.dgrad", "cross_v.wgrad", IC, B, r, D, L);
      stream(&b, "interaction_concat.bwd", BW, IC, 2.0 * B * D * ab, 0, 1);
    } else {
      stream(&b, "interaction_tril.bwd", BW, IC, B * ab * (Fv * Fv + pairs + 2.0 * db_), 0, 1);
      /* Z = X X^T: dX = (dZ + dZ^T) X, two batched products of F x d x F */
      sl_op *op = add(&b, "interaction_bmm.bwd", BW, IC, SL_K_GEMM, 2);
      op->u.g = (sl_gemm_shape){Fv, w, Fv, B, b.cdt, ab, ab, ab};
      op->model_flops = 2.0 * Fv * w * Fv * B;
      stream(&b, "interaction_concat.bwd", BW, IC, 2.0 * B * Fv * w * ab, 0, 1);
    }
    for (size_t j = d->n_bottom; j-- > 0;) {
      double kin = j ? d->bottom[j - 1] : d->dense_features;
      relu(&b, name_of(&b, "bottom_relu.%zu.bwd", j), BW, B, d->bottom[j]);
      gemm_bwd(&b, j ? name_of(&b, "bottom_mlp.%zu.dgrad", j) : NULL, name_of(&b, "bottom_mlp.%zu.wgrad", j),
               SL_CAT_GEMM, B, d->bottom[j], kin, 1);
    }
  }
  return b.oom ? SL_ERR_INTERNAL : SL_OK;
}

sl_status dlrm_graph_build(arena *a, const sl_scenario *sc, const sl_lowering *lw, double B, int train,
                           sl_graph *g, sl_error *err) {
  const sl_dlrm *d = &sc->model.dlrm;
  db b;
  db_init(&b, a, sc, lw, g);
  for (size_t i = 0; i < d->n_tables; i++) {
    const sl_emb_table *t = &d->tables[i];
    sl_op *op = add(&b, name_of(&b, "embedding.%s", t->name ? t->name : name_of(&b, "t%zu", i)),
                    SL_PH_FORWARD, SL_CAT_EMBEDDING, SL_K_GATHER, 1);
    op->u.e.lookups = B * t->pooling;
    op->u.e.row_bytes = t->dim * b.wb;
    op->u.e.table_bytes = t->rows * t->dim * b.wb;
    if (train) { /* scatter-add and row-wise Adagrad on the touched rows */
      stream(&b, name_of(&b, "embedding.%s.bwd", t->name ? t->name : name_of(&b, "t%zu", i)), SL_PH_BACKWARD,
             SL_CAT_EMBEDDING, B * t->pooling * (2.0 * t->dim * b.wb + 8.0), 5.0 * B * t->pooling * t->dim,
             1);
    }
  }
  sl_status s = b.oom ? SL_ERR_INTERNAL : dlrm_graph_dense(a, sc, lw, B, train, g);
  if (s) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory building the DLRM graph");
  return SL_OK;
}
