/* test_numerics_floatref.c — fp32 execution of the transformer (src/numerics/model.c) against an
 * independent, straightforward plain-`float` implementation of the same model written here from
 * the math: forward AND backward.  Tied and untied heads; loss, logits and the gradient of every
 * parameter tensor must agree norm-wise to 1e-5 (||a - b|| / ||b||).  Both are also compared with
 * the fp64 execution, which shows which of them a disagreement would come from.
 *
 * The model (weights stored [in][out], y = x . W):
 *   x0[n]      = emb[token]                                   (token taken modulo vocab)
 *   per layer:  xn  = rmsnorm(x) * attn_norm,  rmsnorm(x) = x / sqrt(mean(x^2) + 1e-6)
 *               q = xn.wq, k = xn.wk, v = xn.wv; RoPE on q and k: pairs (2i, 2i+1) of each head
 *               rotated by pos * 10000^(-2i/hd), pos = position in the sequence
 *               query head h reads kv head h / (heads / kv_heads); causal softmax of q.k / sqrt(hd)
 *               xm  = x + att.wo
 *               xn2 = rmsnorm(xm) * ffn_norm;  out = xm + (silu(xn2.w1) * (xn2.w3)).w2
 *   logits     = (rmsnorm(x_L) * final_norm) . head   (tied: . emb^T)
 *   loss       = mean over the B*seq positions of the cross-entropy of the next token. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "numerics/numerics.h"

enum { ATTN_NORM, WQ, WK, WV, WO, FFN_NORM, W1, W3, W2, PER_LAYER };
static const char *const layer_names[PER_LAYER] = {"attn_norm", "wq", "wk", "wv", "wo",
                                                   "ffn_norm",  "w1", "w3", "w2"};

/* One parameter tensor in float: value and gradient. */
typedef struct ften {
  float *w, *g;
  size_t n;
} ften;

typedef struct fmodel {
  int V, D, L, H, KV, hd, F, T, tied;
  ften emb, final_norm, head; /* head.w aliases emb.w when tied (head.g unused then) */
  ften layer[8][PER_LAYER];
} fmodel;

static float *fzeros(size_t n) {
  float *p = calloc(n ? n : 1, sizeof *p);
  assert_non_null(p);
  return p;
}

static const nm_param *find_param(const nm_param *p, size_t np, const char *name) {
  for (size_t i = 0; i < np; i++)
    if (strcmp(p[i].name, name) == 0) return &p[i];
  fail_msg("no parameter %s", name);
  return NULL;
}

static void ften_from(ften *t, const nm_param *q) {
  t->n = q->n;
  t->w = fzeros(q->n);
  t->g = fzeros(q->n);
  for (size_t i = 0; i < q->n; i++)
    t->w[i] = (float)q->w[i];
}

static void fmodel_init(fmodel *f, nm_tf *m, const nm_tf_cfg *c) {
  nm_param *p;
  size_t np = nm_tf_params(m, &p);
  memset(f, 0, sizeof *f);
  f->V = c->vocab, f->D = c->dim, f->L = c->layers, f->H = c->heads, f->KV = c->kv_heads;
  f->hd = c->dim / c->heads, f->F = c->ffn, f->T = c->seq, f->tied = c->tied;
  ften_from(&f->emb, find_param(p, np, "embedding"));
  ften_from(&f->final_norm, find_param(p, np, "final_norm"));
  if (f->tied)
    f->head = f->emb;
  else
    ften_from(&f->head, find_param(p, np, "head"));
  char name[32];
  for (int l = 0; l < f->L; l++)
    for (int k = 0; k < PER_LAYER; k++) {
      snprintf(name, sizeof name, "l%d.%s", l, layer_names[k]);
      ften_from(&f->layer[l][k], find_param(p, np, name));
    }
}

static void fmodel_free(fmodel *f) {
  free(f->emb.w), free(f->emb.g), free(f->final_norm.w), free(f->final_norm.g);
  if (!f->tied) free(f->head.w), free(f->head.g);
  for (int l = 0; l < f->L; l++)
    for (int k = 0; k < PER_LAYER; k++)
      free(f->layer[l][k].w), free(f->layer[l][k].g);
}

/* ---- building blocks, forward and backward ---- */

/* y[n] = x[n] * r[n] * g, r[n] = 1 / sqrt(mean(x[n]^2) + 1e-6) */
static void rmsnorm_f(int N, int D, const float *x, const float *g, float *y, float *r) {
  for (int n = 0; n < N; n++) {
    float ss = 0;
    for (int d = 0; d < D; d++)
      ss += x[n * D + d] * x[n * D + d];
    r[n] = 1.0f / sqrtf(ss / (float)D + 1e-6f);
    for (int d = 0; d < D; d++)
      y[n * D + d] = x[n * D + d] * r[n] * g[d];
  }
}

/* d y_d / d x_e = g_d r (delta_de - x_d x_e r^2 / D), so
 * dx_e += dy_e g_e r - x_e r^3 / D * sum_d dy_d g_d x_d;  dg_d += dy_d x_d r */
static void rmsnorm_b(int N, int D, const float *x, const float *g, const float *r, const float *dy,
                      float *dx, float *dg) {
  for (int n = 0; n < N; n++) {
    float s = 0;
    for (int d = 0; d < D; d++) {
      s += dy[n * D + d] * g[d] * x[n * D + d];
      dg[d] += dy[n * D + d] * x[n * D + d] * r[n];
    }
    float c = r[n] * r[n] * r[n] * s / (float)D;
    for (int d = 0; d < D; d++)
      dx[n * D + d] += dy[n * D + d] * g[d] * r[n] - x[n * D + d] * c;
  }
}

/* y[N][O] = x[N][I] . W[I][O] */
static void matmul(int N, int I, int O, const float *x, const float *W, float *y) {
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) {
      float s = 0;
      for (int i = 0; i < I; i++)
        s += x[n * I + i] * W[i * O + o];
      y[n * O + o] = s;
    }
}

/* Backward of y = x . W:  dW[i][o] += sum_n x[n][i] dy[n][o];  dx[n][i] += sum_o dy[n][o] W[i][o] */
static void matmul_b(int N, int I, int O, const float *x, const float *W, const float *dy, float *dx,
                     float *dW) {
  for (int i = 0; i < I; i++)
    for (int o = 0; o < O; o++) {
      float s = 0;
      for (int n = 0; n < N; n++)
        s += x[n * I + i] * dy[n * O + o];
      dW[i * O + o] += s;
    }
  for (int n = 0; n < N; n++)
    for (int i = 0; i < I; i++) {
      float s = 0;
      for (int o = 0; o < O; o++)
        s += dy[n * O + o] * W[i * O + o];
      dx[n * I + i] += s;
    }
}

/* Rotates pair (2i, 2i+1) of each head of x[n][heads][hd] by angle sign * pos * 10000^(-2i/hd).
 * sign -1 is the inverse (= transposed) rotation, which is the backward of sign +1. */
static void rope_f(int N, int T, int heads, int hd, float *x, float sign) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < heads; h++)
      for (int i = 0; i < hd / 2; i++) {
        float th = sign * (float)(n % T) * powf(10000.0f, -2.0f * (float)i / (float)hd);
        float *v = x + (n * heads + h) * hd + 2 * i, a = v[0], b = v[1];
        v[0] = a * cosf(th) - b * sinf(th);
        v[1] = a * sinf(th) + b * cosf(th);
      }
}

static float sigmoidf(float a) {
  return 1.0f / (1.0f + expf(-a));
}

/* Activations of one layer kept for the backward. */
typedef struct lcache {
  float *x, *xn, *r1, *q, *k, *v, *P, *att, *xm, *xn2, *r2, *a, *u, *h;
} lcache;

/* Forward (and, with grad, backward into the ften gradients).  Returns the mean loss; logits
 * [B*T][V] written when non-NULL. */
static double float_step(fmodel *f, const uint8_t *tok, int B, int grad, float *logits_out) {
  const int T = f->T, N = B * T, D = f->D, H = f->H, KV = f->KV, hd = f->hd, F = f->F, V = f->V, L = f->L;
  const int QD = H * hd, KD = KV * hd, grp = H / KV;
  const float scale = 1.0f / sqrtf((float)hd);
  lcache c[8];
  float *x = fzeros((size_t)N * D);
  for (int n = 0; n < N; n++) {
    int t = tok[(n / T) * (T + 1) + n % T] % V;
    for (int d = 0; d < D; d++)
      x[n * D + d] = f->emb.w[t * D + d];
  }
  for (int l = 0; l < L; l++) {
    ften *w = f->layer[l];
    lcache *k = &c[l];
    k->x = x;
    k->xn = fzeros((size_t)N * D), k->r1 = fzeros(N), k->q = fzeros((size_t)N * QD),
    k->k = fzeros((size_t)N * KD);
    k->v = fzeros((size_t)N * KD), k->P = fzeros((size_t)B * H * T * T), k->att = fzeros((size_t)N * QD);
    k->xm = fzeros((size_t)N * D), k->xn2 = fzeros((size_t)N * D), k->r2 = fzeros(N);
    k->a = fzeros((size_t)N * F), k->u = fzeros((size_t)N * F), k->h = fzeros((size_t)N * F);
    rmsnorm_f(N, D, x, w[ATTN_NORM].w, k->xn, k->r1);
    matmul(N, D, QD, k->xn, w[WQ].w, k->q);
    matmul(N, D, KD, k->xn, w[WK].w, k->k);
    matmul(N, D, KD, k->xn, w[WV].w, k->v);
    rope_f(N, T, H, hd, k->q, 1);
    rope_f(N, T, KV, hd, k->k, 1);
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int kh = h / grp;
        float *P = k->P + (b * H + h) * T * T;
        for (int i = 0; i < T; i++) {
          const float *qi = k->q + ((b * T + i) * H + h) * hd;
          float mx = -INFINITY, sum = 0;
          for (int j = 0; j <= i; j++) {
            const float *kj = k->k + ((b * T + j) * KV + kh) * hd;
            float s = 0;
            for (int e = 0; e < hd; e++)
              s += qi[e] * kj[e];
            P[i * T + j] = s * scale;
            mx = fmaxf(mx, P[i * T + j]);
          }
          for (int j = 0; j <= i; j++)
            sum += P[i * T + j] = expf(P[i * T + j] - mx);
          for (int j = 0; j <= i; j++)
            P[i * T + j] /= sum; /* masked entries stay 0 */
          for (int e = 0; e < hd; e++) {
            float o = 0;
            for (int j = 0; j <= i; j++)
              o += P[i * T + j] * k->v[((b * T + j) * KV + kh) * hd + e];
            k->att[((b * T + i) * H + h) * hd + e] = o;
          }
        }
      }
    float *y = fzeros((size_t)N * D);
    matmul(N, QD, D, k->att, w[WO].w, y);
    for (int i = 0; i < N * D; i++)
      k->xm[i] = x[i] + y[i];
    rmsnorm_f(N, D, k->xm, w[FFN_NORM].w, k->xn2, k->r2);
    matmul(N, D, F, k->xn2, w[W1].w, k->a);
    matmul(N, D, F, k->xn2, w[W3].w, k->u);
    for (int i = 0; i < N * F; i++)
      k->h[i] = k->a[i] * sigmoidf(k->a[i]) * k->u[i];
    matmul(N, F, D, k->h, w[W2].w, y);
    x = fzeros((size_t)N * D); /* the layer's output, the next layer's input */
    for (int i = 0; i < N * D; i++)
      x[i] = k->xm[i] + y[i];
    free(y);
  }
  float *xf = fzeros((size_t)N * D), *rf = fzeros(N), *logits = fzeros((size_t)N * V);
  rmsnorm_f(N, D, x, f->final_norm.w, xf, rf);
  for (int n = 0; n < N; n++)
    for (int v = 0; v < V; v++) {
      float s = 0;
      for (int d = 0; d < D; d++)
        s += xf[n * D + d] * (f->tied ? f->emb.w[v * D + d] : f->head.w[d * V + v]);
      logits[n * V + v] = s;
    }
  if (logits_out) memcpy(logits_out, logits, (size_t)N * V * sizeof *logits);
  /* cross-entropy; logits become dloss/dlogits = (softmax - onehot) / N */
  float loss = 0;
  for (int n = 0; n < N; n++) {
    float *z = logits + n * V, mx = -INFINITY, sum = 0;
    int tgt = tok[(n / T) * (T + 1) + n % T + 1] % V;
    for (int v = 0; v < V; v++)
      mx = fmaxf(mx, z[v]);
    for (int v = 0; v < V; v++)
      sum += expf(z[v] - mx);
    loss += logf(sum) + mx - z[tgt];
    for (int v = 0; v < V; v++)
      z[v] = (expf(z[v] - mx) / sum - (v == tgt ? 1.0f : 0.0f)) / (float)N;
  }
  loss /= (float)N;

  if (grad) {
    float *dlog = logits, *dxf = fzeros((size_t)N * D), *dx = fzeros((size_t)N * D);
    /* head */
    for (int n = 0; n < N; n++)
      for (int v = 0; v < V; v++)
        for (int d = 0; d < D; d++) {
          if (f->tied) {
            f->emb.g[v * D + d] += dlog[n * V + v] * xf[n * D + d];
            dxf[n * D + d] += dlog[n * V + v] * f->emb.w[v * D + d];
          } else {
            f->head.g[d * V + v] += xf[n * D + d] * dlog[n * V + v];
            dxf[n * D + d] += dlog[n * V + v] * f->head.w[d * V + v];
          }
        }
    rmsnorm_b(N, D, x, f->final_norm.w, rf, dxf, dx, f->final_norm.g); /* dx = d loss / d x_L */
    free(dxf);
    for (int l = L - 1; l >= 0; l--) {
      ften *w = f->layer[l];
      lcache *k = &c[l];
      float *dh = fzeros((size_t)N * F), *da = fzeros((size_t)N * F), *du = fzeros((size_t)N * F);
      float *dxn = fzeros((size_t)N * D), *dxm = fzeros((size_t)N * D), *datt = fzeros((size_t)N * QD);
      float *dq = fzeros((size_t)N * QD), *dk = fzeros((size_t)N * KD), *dv = fzeros((size_t)N * KD);
      float *dxin = fzeros((size_t)N * D);
      /* out = xm + h . w2,  h = silu(a) * u */
      matmul_b(N, F, D, k->h, w[W2].w, dx, dh, w[W2].g);
      for (int i = 0; i < N * F; i++) {
        float a = k->a[i], s = sigmoidf(a);
        du[i] = dh[i] * a * s;
        da[i] = dh[i] * k->u[i] * s * (1.0f + a * (1.0f - s)); /* silu'(a) = s (1 + a (1 - s)) */
      }
      matmul_b(N, D, F, k->xn2, w[W1].w, da, dxn, w[W1].g);
      matmul_b(N, D, F, k->xn2, w[W3].w, du, dxn, w[W3].g);
      memcpy(dxm, dx, (size_t)N * D * sizeof *dxm); /* residual */
      rmsnorm_b(N, D, k->xm, w[FFN_NORM].w, k->r2, dxn, dxm, w[FFN_NORM].g);
      /* xm = x + att . wo */
      matmul_b(N, QD, D, k->att, w[WO].w, dxm, datt, w[WO].g);
      for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
          int kh = h / grp;
          const float *P = k->P + (b * H + h) * T * T;
          for (int i = 0; i < T; i++) {
            const float *doi = datt + ((b * T + i) * H + h) * hd;
            float dP[64], dot = 0;
            for (int j = 0; j <= i; j++) { /* dP_ij = dO_i . v_j;  dv_j += P_ij dO_i */
              float *vj = k->v + ((b * T + j) * KV + kh) * hd, *dvj = dv + ((b * T + j) * KV + kh) * hd;
              dP[j] = 0;
              for (int e = 0; e < hd; e++) {
                dP[j] += doi[e] * vj[e];
                dvj[e] += P[i * T + j] * doi[e];
              }
              dot += P[i * T + j] * dP[j];
            }
            for (int j = 0; j <= i; j++) { /* softmax backward, then s_ij = scale * q_i . k_j */
              float dS = P[i * T + j] * (dP[j] - dot) * scale;
              float *qi = k->q + ((b * T + i) * H + h) * hd, *kj = k->k + ((b * T + j) * KV + kh) * hd;
              float *dqi = dq + ((b * T + i) * H + h) * hd, *dkj = dk + ((b * T + j) * KV + kh) * hd;
              for (int e = 0; e < hd; e++) {
                dqi[e] += dS * kj[e];
                dkj[e] += dS * qi[e];
              }
            }
          }
        }
      rope_f(N, T, H, hd, dq, -1);
      rope_f(N, T, KV, hd, dk, -1);
      memset(dxn, 0, (size_t)N * D * sizeof *dxn);
      matmul_b(N, D, QD, k->xn, w[WQ].w, dq, dxn, w[WQ].g);
      matmul_b(N, D, KD, k->xn, w[WK].w, dk, dxn, w[WK].g);
      matmul_b(N, D, KD, k->xn, w[WV].w, dv, dxn, w[WV].g);
      memcpy(dxin, dxm, (size_t)N * D * sizeof *dxin); /* residual */
      rmsnorm_b(N, D, k->x, w[ATTN_NORM].w, k->r1, dxn, dxin, w[ATTN_NORM].g);
      memcpy(dx, dxin, (size_t)N * D * sizeof *dx);
      free(dh), free(da), free(du), free(dxn), free(dxm), free(datt), free(dq), free(dk), free(dv),
          free(dxin);
    }
    for (int n = 0; n < N; n++) { /* embedding lookup */
      int t = tok[(n / T) * (T + 1) + n % T] % V;
      for (int d = 0; d < D; d++)
        f->emb.g[t * D + d] += dx[n * D + d];
    }
    free(dx);
  }
  for (int l = 0; l < L; l++) {
    lcache *k = &c[l];
    free(k->x), free(k->xn), free(k->r1), free(k->q), free(k->k), free(k->v), free(k->P), free(k->att);
    free(k->xm), free(k->xn2), free(k->r2), free(k->a), free(k->u), free(k->h);
  }
  free(x), free(xf), free(rf), free(logits);
  return loss;
}

/* ||a - b|| / ||b|| with a double, b float */
static double relerr(const double *a, const float *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    num += (a[i] - b[i]) * (a[i] - b[i]), den += (double)b[i] * b[i];
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ||a - b|| / ||b||, both double */
static double relerr_d(const double *a, const double *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

static void compare(int tied) {
  nm_tf_cfg c = {48, 16, 2, 4, 2, 32, 8, tied};
  const int B = 2, N = B * c.seq;
  nm_tf *m = nm_tf_new(&c, 7);
  assert_non_null(m);
  nm_param *p;
  size_t np = nm_tf_params(m, &p);
  /* larger weights than at initialisation (std 0.02), fp32-representable: attention far from
   * uniform, SwiGLU and the norms' gradients non-trivial */
  for (size_t i = 0; i < np; i++) {
    int norm = strstr(p[i].name, "norm") != NULL;
    for (size_t j = 0; j < p[i].n; j++)
      p[i].w[j] =
          (double)(float)((norm ? 1 : 0) + (norm ? 0.2 : 0.15) * sin(1.3 * (double)(i * 977 + j) + 0.4));
  }
  uint8_t tok[2 * 9];
  uint64_t s = 11 + (uint64_t)tied;
  for (size_t i = 0; i < sizeof tok; i++)
    tok[i] = (uint8_t)(nm_rand_u64(&s) % (uint64_t)c.vocab);

  fmodel f;
  fmodel_init(&f, m, &c);
  float *lf = fzeros((size_t)N * c.vocab);
  double lossf = float_step(&f, tok, B, 1, lf);

  double *lg = malloc((size_t)N * c.vocab * sizeof *lg);
  assert_non_null(lg);
  nm_prec f32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  assert_int_equal(f32.vec, NM_FP32);
  double loss = nm_tf_step(m, &f32, tok, B, 1, lg);
  assert_true(isfinite(loss) && isfinite(lossf));

  double lrel = fabs(loss - lossf) / fabs(lossf), grel = relerr(lg, lf, (size_t)N * c.vocab);
  print_message("%s: loss %.7f vs float %.7f (rel %.3g); logits rel %.3g\n", tied ? "tied" : "untied", loss,
                lossf, lrel, grel);
  assert_true(lrel <= 1e-5);
  assert_true(grel <= 1e-5);

  /* the same model in fp64: which of the two fp32 computations is further from exact */
  nm_tf *m64 = nm_tf_new(&c, 7);
  assert_non_null(m64);
  nm_param *p64;
  nm_tf_params(m64, &p64);
  for (size_t i = 0; i < np; i++)
    memcpy(p64[i].w, p[i].w, p[i].n * sizeof *p[i].w);
  nm_prec f64 = nm_prec_uniform(NM_FP64, NM_FP64, 32);
  assert_true(isfinite(nm_tf_step(m64, &f64, tok, B, 1, NULL)));
  double worst = 0;
  const char *worst_name = "";
  char name[32];
  for (size_t i = 0; i < np; i++) {
    const ften *t = NULL;
    if (strcmp(p[i].name, "embedding") == 0)
      t = &f.emb;
    else if (strcmp(p[i].name, "final_norm") == 0)
      t = &f.final_norm;
    else if (strcmp(p[i].name, "head") == 0)
      t = &f.head;
    else
      for (int l = 0; l < c.layers && !t; l++)
        for (int k = 0; k < PER_LAYER; k++) {
          snprintf(name, sizeof name, "l%d.%s", l, layer_names[k]);
          if (strcmp(p[i].name, name) == 0) t = &f.layer[l][k];
        }
    assert_non_null(t);
    assert_int_equal(t->n, p[i].n);
    double e = relerr(p[i].g, t->g, p[i].n);
    double e32 = relerr_d(p[i].g, p64[i].g, p[i].n), ef = relerr(p64[i].g, t->g, p[i].n);
    print_message("  %-14s grad rel %.3g  (against fp64: fp32 run %.3g, float reference %.3g)\n", p[i].name,
                  e, e32, ef);
    if (!(e <= 1e-5))
      fail_msg("%s%s: fp32 gradient vs float reference %.3g", tied ? "tied " : "", p[i].name, e);
    assert_true(e32 <= 1e-5 && ef <= 1e-5);
    if (e > worst) worst = e, worst_name = p[i].name;
  }
  print_message("%s: worst gradient rel %.3g (%s)\n", tied ? "tied" : "untied", worst, worst_name);
  free(lg);
  free(lf);
  fmodel_free(&f);
  nm_tf_free(m);
  nm_tf_free(m64);
}

static void test_floatref_tied(void **state) {
  (void)state;
  compare(1);
}
static void test_floatref_untied(void **state) {
  (void)state;
  compare(0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_floatref_tied),
                                     cmocka_unit_test(test_floatref_untied)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
