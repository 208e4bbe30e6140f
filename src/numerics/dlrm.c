/* dlrm.c — a small DLRM executed for real: a bottom MLP on the dense features, sum-pooled
 * embedding bags, the dot interaction of all pairs among the bottom output and the bags, a top MLP
 * and sigmoid + binary cross-entropy; forward, backward, AdamW on the MLPs and row-wise Adagrad on
 * the embedding rows.  Every matrix product (the MLP layers and each sample's interaction Z.Z^T)
 * goes through nm_gemm in the run's formats; the rest is computed in double and rounded to the
 * run's vector format.  Weights are stored [in][out], so a layer is y = x . W + b.
 *
 * Embedding storage: when fwd.in is a plain scalar format (fp32, bf16, fp16, fp6/fp4 elements) a
 * looked-up row is rounded to it, which is what a table stored in that format returns (the master
 * copy stays in the vector format, as mixed-precision training keeps it).  MX formats need blocks
 * and fp8/int8 need a scale, which a single row cannot carry sensibly; for those the pooled bag
 * vectors are quantized instead (nm_quantize; MX blocks of 32 along dim, fp8/int8 with one
 * per-tensor scale over the batch's bags).  Rounding is passed straight through in the backward. */
#include "numerics/numerics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_BW1, P_BB1, P_BW2, P_BB2, P_TW1, P_TB1, P_TW2, P_TB2, P_MLP };

struct nm_dlrm {
  nm_dlrm_cfg c;
  int F, I; /* interaction vectors (tables + 1), top MLP input (dim + F choose 2) */
  nm_param p[NM_MAX_PARAMS];
  size_t np, total, mlp;
  double *block;          /* values, gradients (total each), MLP moments (2 x mlp), row accumulators */
  unsigned char *touched; /* [tables][rows]: looked up in the last step with gradients */
  nm_param *emb[NM_MAX_PARAMS], *w[P_MLP];
  nm_work work; /* scratch arena and out-of-memory flag */
};

static nm_param *add_param(nm_dlrm *m, const char *name, size_t n) {
  nm_param *q = &m->p[m->np++];
  snprintf(q->name, sizeof q->name, "%s", name);
  q->n = n;
  m->total += n;
  return q;
}

size_t nm_dlrm_count(const nm_dlrm_cfg *c) {
  size_t F = (size_t)c->tables + 1, I = (size_t)c->dim + F * (F - 1) / 2, Hb = (size_t)c->bottom,
         Ht = (size_t)c->top;
  return (size_t)c->tables * (size_t)c->rows * (size_t)c->dim + (size_t)c->dense * Hb + Hb +
         Hb * (size_t)c->dim + (size_t)c->dim + I * Ht + Ht + Ht + 1;
}

nm_dlrm *nm_dlrm_new(const nm_dlrm_cfg *cfg, uint64_t seed) {
  const nm_dlrm_cfg *c = cfg;
  if (c->dense < 1 || c->tables < 1 || c->tables > NM_MAX_PARAMS - P_MLP || c->rows < 1 || c->dim < 1 ||
      c->pooling < 1 || c->bottom < 1 || c->top < 1)
    return NULL;
  nm_dlrm *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->c = *c;
  m->F = c->tables + 1;
  m->I = c->dim + m->F * (m->F - 1) / 2;
  size_t R = (size_t)c->rows, E = (size_t)c->dim, Hb = (size_t)c->bottom, Ht = (size_t)c->top;
  for (int t = 0; t < c->tables; t++) {
    char name[16];
    snprintf(name, sizeof name, "emb%d", t);
    m->emb[t] = add_param(m, name, R * E);
  }
  static const char *const names[P_MLP] = {"bot.w1", "bot.b1", "bot.w2", "bot.b2",
                                           "top.w1", "top.b1", "top.w2", "top.b2"};
  size_t sizes[P_MLP] = {(size_t)c->dense * Hb, Hb, Hb * E, E, (size_t)m->I * Ht, Ht, Ht, 1};
  for (int k = 0; k < P_MLP; k++)
    m->w[k] = add_param(m, names[k], sizes[k]);
  m->mlp = m->total - R * E * (size_t)c->tables;
  m->block = calloc(2 * m->total + 2 * m->mlp + R * (size_t)c->tables, sizeof *m->block);
  m->touched = calloc(R * (size_t)c->tables, 1);
  if (!m->block || !m->touched) {
    nm_dlrm_free(m);
    return NULL;
  }
  double *w = m->block, *mv = m->block + 2 * m->total, *acc = mv + 2 * m->mlp;
  uint64_t rng = seed;
  for (size_t i = 0; i < m->np; i++) {
    nm_param *q = &m->p[i];
    q->w = w;
    q->g = w + m->total;
    w += q->n;
    if (i < (size_t)c->tables) { /* embedding: no moments; v holds the row accumulators */
      q->m = NULL;
      q->v = acc;
      acc += R;
      double a = sqrt(1.0 / (double)R);
      for (size_t j = 0; j < q->n; j++)
        q->w[j] = (double)(float)(a * (2.0 * (double)(nm_rand_u64(&rng) >> 11) / 9007199254740992.0 - 1));
      continue;
    }
    q->m = mv;
    q->v = mv + m->mlp;
    mv += q->n;
    int k = (int)i - c->tables;
    if (k % 2) continue; /* biases start at 0 */
    size_t in = k == P_BW1 ? (size_t)c->dense : k == P_BW2 ? Hb : k == P_TW1 ? (size_t)m->I : Ht;
    double sd = sqrt(2.0 / (double)(in + q->n / in));
    for (size_t j = 0; j < q->n; j++)
      q->w[j] = (double)(float)(sd * nm_rand_normal(&rng));
  }
  ar_init(&m->work.scratch);
  return m;
}

void nm_dlrm_free(nm_dlrm *m) {
  if (!m) return;
  ar_free(&m->work.scratch);
  free(m->block);
  free(m->touched);
  free(m);
}

size_t nm_dlrm_params(nm_dlrm *m, nm_param **out) {
  *out = m->p;
  return m->np;
}

/* ---- helpers ---- */

/* y[B][O] = x . W + b, then ReLU when relu. */
static void linear(nm_dlrm *m, const nm_prec *p, int B, int O, int I, const double *x, const nm_param *W,
                   const nm_param *b, double *y, int relu) {
  nm_work_mm(&m->work, p, &p->fwd, B, O, I, x, 0, W->w, 0, y, 0);
  if (m->work.oom) return;
  for (int n = 0; n < B; n++)
    for (int o = 0; o < O; o++) {
      double v = nm_rv(p, y[(size_t)n * O + o] + b->w[o]);
      y[(size_t)n * O + o] = relu && v < 0 ? 0 : v;
    }
}

/* Backward of linear: dy (through the ReLU, whose output y is given when relu) gives dW, db and,
 * when dx is not NULL, dx = dy . W^T.  dy is overwritten. */
static void linear_bwd(nm_dlrm *m, const nm_prec *p, int B, int O, int I, const double *x, const nm_param *W,
                       const nm_param *b, const double *y, double *dy, double *dx, int relu) {
  for (int n = 0; n < B; n++)
    for (int o = 0; o < O; o++) {
      double *d = dy + (size_t)n * O + o;
      if (relu && y[(size_t)n * O + o] <= 0) *d = 0;
      b->g[o] = nm_rv(p, b->g[o] + *d);
    }
  nm_work_mm(&m->work, p, &p->bwd, I, O, B, x, 1, dy, 0, W->g, 1);
  if (dx) nm_work_mm(&m->work, p, &p->bwd, B, I, O, dy, 0, W->w, 1, dx, 0);
}

static int row_of(const nm_dlrm_cfg *c, int i) {
  int r = i % c->rows;
  return r < 0 ? r + c->rows : r;
}

int nm_dlrm_oom(const nm_dlrm *m) {
  return m->work.oom;
}

double nm_dlrm_step(nm_dlrm *m, const nm_prec *p, const double *dense, const int *idx, const double *label,
                    int B, int grad) {
  const nm_dlrm_cfg *c = &m->c;
  const int D0 = c->dense, T = c->tables, E = c->dim, P = c->pooling, Hb = c->bottom, Ht = c->top, F = m->F,
            I = m->I;
  if (B < 1) return NAN;
  ar_reset(&m->work.scratch);
  m->work.oom = 0;
  double *h1 = nm_work_tmp(&m->work, (size_t)B * Hb), *Z = nm_work_tmp(&m->work, (size_t)B * F * E),
         *z = nm_work_tmp(&m->work, (size_t)B * E), *S = nm_work_tmp(&m->work, (size_t)F * F),
         *xt = nm_work_tmp(&m->work, (size_t)B * I), *h2 = nm_work_tmp(&m->work, (size_t)B * Ht),
         *lg = nm_work_tmp(&m->work, B);
  if (m->work.oom) return NAN;
  /* bottom MLP */
  linear(m, p, B, Hb, D0, dense, m->w[P_BW1], m->w[P_BB1], h1, 1);
  linear(m, p, B, E, Hb, h1, m->w[P_BW2], m->w[P_BB2], z, 1);
  if (m->work.oom) return NAN;
  /* Z[b] = [z; bag_1; ...; bag_T], F x E per sample */
  const nm_fmt in = p->fwd.in;
  const int row_round = !nm_fmt_is_mx(in) && !nm_fmt_scaled(in) && in != NM_FP64;
  for (int b = 0; b < B; b++) {
    double *zb = Z + (size_t)b * F * E;
    memcpy(zb, z + (size_t)b * E, E * sizeof *zb);
    for (int t = 0; t < T; t++) {
      double *bag = zb + (size_t)(1 + t) * E;
      for (int k = 0; k < P; k++) {
        const double *row = m->emb[t]->w + (size_t)row_of(c, idx[((size_t)b * T + t) * P + k]) * E;
        for (int d = 0; d < E; d++)
          bag[d] = nm_rv(p, bag[d] + (row_round ? nm_round(in, row[d]) : row[d]));
      }
      if (nm_fmt_is_mx(in)) nm_quantize(in, bag, (size_t)E);
    }
  }
  if (nm_fmt_scaled(in)) { /* one scale over all bags of the batch */
    double amax = 0;
    for (int b = 0; b < B; b++)
      for (int i = E; i < F * E; i++)
        amax = fmax(amax, fabs(Z[(size_t)b * F * E + i]));
    double s = nm_tensor_scale(in, &amax, 1);
    for (int b = 0; b < B; b++)
      for (int i = E; i < F * E; i++) {
        double *v = Z + (size_t)b * F * E + i;
        *v = nm_rv(p, nm_round(in, *v / s) * s);
      }
  }
  /* interaction: S = Z[b] . Z[b]^T; top input = [z, S[i][j] for i < j] */
  for (int b = 0; b < B && !m->work.oom; b++) {
    const double *zb = Z + (size_t)b * F * E;
    nm_work_mm(&m->work, p, &p->fwd, F, F, E, zb, 0, zb, 1, S, 0);
    double *x = xt + (size_t)b * I;
    memcpy(x, zb, E * sizeof *x);
    int o = E;
    for (int i = 0; i < F; i++)
      for (int j = i + 1; j < F; j++)
        x[o++] = S[i * F + j];
  }
  /* top MLP */
  linear(m, p, B, Ht, I, xt, m->w[P_TW1], m->w[P_TB1], h2, 1);
  linear(m, p, B, 1, Ht, h2, m->w[P_TW2], m->w[P_TB2], lg, 0);
  if (m->work.oom) return NAN;
  double loss = 0;
  for (int b = 0; b < B; b++) { /* lg becomes dlogit = (sigmoid - label) / B */
    double l = lg[b], y = label[b];
    loss += fmax(l, 0) - y * l + log1p(exp(-fabs(l)));
    if (grad) lg[b] = nm_rv(p, (1 / (1 + exp(-l)) - y) / B);
  }
  loss /= B;
  if (!grad) return loss;

  /* ---- backward ---- */
  memset(m->block + m->total, 0, m->total * sizeof *m->block);
  memset(m->touched, 0, (size_t)T * c->rows);
  double *dh2 = nm_work_tmp(&m->work, (size_t)B * Ht), *dxt = nm_work_tmp(&m->work, (size_t)B * I),
         *G = nm_work_tmp(&m->work, (size_t)F * F), *dZ = nm_work_tmp(&m->work, (size_t)F * E),
         *dz = nm_work_tmp(&m->work, (size_t)B * E), *dh1 = nm_work_tmp(&m->work, (size_t)B * Hb);
  if (m->work.oom) return NAN;
  linear_bwd(m, p, B, 1, Ht, h2, m->w[P_TW2], m->w[P_TB2], NULL, lg, dh2, 0);
  linear_bwd(m, p, B, Ht, I, xt, m->w[P_TW1], m->w[P_TB1], h2, dh2, dxt, 1);
  for (int b = 0; b < B && !m->work.oom; b++) {
    /* S = Z Z^T with only i < j used: dZ = (dS + dS^T) . Z, G the symmetric gradient */
    const double *dx = dxt + (size_t)b * I, *zb = Z + (size_t)b * F * E;
    int o = E;
    for (int i = 0; i < F; i++) {
      G[i * F + i] = 0;
      for (int j = i + 1; j < F; j++)
        G[i * F + j] = G[j * F + i] = dx[o++];
    }
    nm_work_mm(&m->work, p, &p->bwd, F, E, F, G, 0, zb, 0, dZ, 0);
    if (m->work.oom) break;
    for (int d = 0; d < E; d++)
      dz[(size_t)b * E + d] = nm_rv(p, dx[d] + dZ[d]);
    for (int t = 0; t < T; t++) /* each looked-up row gets its bag's gradient */
      for (int k = 0; k < P; k++) {
        int r = row_of(c, idx[((size_t)b * T + t) * P + k]);
        double *g = m->emb[t]->g + (size_t)r * E;
        m->touched[(size_t)t * c->rows + r] = 1;
        for (int d = 0; d < E; d++)
          g[d] = nm_rv(p, g[d] + dZ[(size_t)(1 + t) * E + d]);
      }
  }
  linear_bwd(m, p, B, E, Hb, h1, m->w[P_BW2], m->w[P_BB2], z, dz, dh1, 1);
  linear_bwd(m, p, B, Hb, D0, dense, m->w[P_BW1], m->w[P_BB1], h1, dh1, NULL, 1);
  return m->work.oom ? NAN : loss;
}

void nm_dlrm_update(nm_dlrm *m, const nm_adamw *o, double adagrad_lr, int step, nm_fmt vec) {
  const nm_dlrm_cfg *c = &m->c;
  double bc1 = 1 - pow(o->beta1, step), bc2 = 1 - pow(o->beta2, step);
  for (int k = 0; k < P_MLP; k++) {
    nm_param *q = m->w[k];
    double wd = k % 2 ? 0 : o->weight_decay; /* no decay on biases */
    for (size_t j = 0; j < q->n; j++) {
      double g = q->g[j];
      q->m[j] = nm_round(vec, o->beta1 * q->m[j] + (1 - o->beta1) * g);
      q->v[j] = nm_round(vec, o->beta2 * q->v[j] + (1 - o->beta2) * g * g);
      double upd = (q->m[j] / bc1) / (sqrt(q->v[j] / bc2) + o->eps) + wd * q->w[j];
      q->w[j] = nm_round(vec, q->w[j] - o->lr * upd);
    }
  }
  const size_t E = (size_t)c->dim;
  for (int t = 0; t < c->tables; t++) {
    nm_param *q = m->emb[t];
    for (size_t r = 0; r < (size_t)c->rows; r++) {
      if (!m->touched[(size_t)t * c->rows + r]) continue;
      double *w = q->w + r * E, *g = q->g + r * E, ss = 0;
      for (size_t d = 0; d < E; d++)
        ss += g[d] * g[d];
      q->v[r] = nm_round(vec, q->v[r] + ss / (double)E);
      double a = adagrad_lr / (sqrt(q->v[r]) + o->eps);
      for (size_t d = 0; d < E; d++)
        w[d] = nm_round(vec, w[d] - a * g[d]);
    }
  }
}
