/* model.c — a Llama-style transformer executed for real: token embedding, RMSNorm, RoPE, causal
 * grouped-query attention, SwiGLU, a tied or untied head and cross-entropy; forward, backward and
 * AdamW.  Every matrix product goes through nm_gemm in the run's formats; the rest is computed in
 * double and rounded to the run's vector format (fp32, or nothing for fp64 gradient checks).
 * Weights are stored [in][out], so a layer is y = x . W. */
#include "numerics/numerics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

uint64_t nm_rand_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double nm_rand_normal(uint64_t *s) { /* Box-Muller */
  double u1 = ((double)(nm_rand_u64(s) >> 11) + 0.5) / 9007199254740992.0;
  double u2 = (double)(nm_rand_u64(s) >> 11) / 9007199254740992.0;
  return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

nm_prec nm_prec_uniform(nm_fmt in, nm_fmt acc, int kchunk) {
  nm_prec p;
  nm_fmt vec = (in == NM_FP64 && acc == NM_FP64) ? NM_FP64 : NM_FP32;
  p.fwd = (nm_gemm_fmt){in, acc, vec, kchunk};
  p.bwd = p.fwd;
  p.vec = vec;
  return p;
}

enum { P_ATTN_NORM, P_WQ, P_WK, P_WV, P_WO, P_FFN_NORM, P_W1, P_W3, P_W2, P_PER_LAYER };

struct nm_tf {
  nm_tf_cfg c;
  int hd; /* head dimension */
  nm_param p[NM_MAX_PARAMS];
  size_t np, total;
  double *block; /* values, gradients, moments: 4 x total */
  nm_param *emb, *final_norm, *head;
  nm_param *layer[8][P_PER_LAYER];
  nm_work work; /* scratch arena and out-of-memory flag */
};

static nm_param *add_param(nm_tf *m, const char *name, int layer, size_t n) {
  nm_param *q = &m->p[m->np++];
  if (layer >= 0)
    snprintf(q->name, sizeof q->name, "l%d.%s", layer, name);
  else
    snprintf(q->name, sizeof q->name, "%s", name);
  q->n = n;
  m->total += n;
  return q;
}

size_t nm_tf_count(const nm_tf_cfg *c) {
  size_t D = (size_t)c->dim, hd = (size_t)(c->dim / (c->heads > 0 ? c->heads : 1));
  size_t Q = (size_t)c->heads * hd, KV = (size_t)c->kv_heads * hd, F = (size_t)c->ffn, V = (size_t)c->vocab;
  size_t layer = D + D * Q + 2 * D * KV + Q * D + D + 3 * D * F;
  return V * D + (size_t)c->layers * layer + D + (c->tied ? 0 : D * V);
}

nm_tf *nm_tf_new(const nm_tf_cfg *cfg, uint64_t seed) {
  const nm_tf_cfg *c = cfg;
  if (c->vocab < 2 || c->dim < 2 || c->layers < 1 || c->layers > 8 || c->heads < 1 || c->kv_heads < 1 ||
      c->heads % c->kv_heads || c->dim % c->heads || (c->dim / c->heads) % 2 || c->ffn < 1 || c->seq < 1)
    return NULL;
  nm_tf *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->c = *c;
  m->hd = c->dim / c->heads;
  size_t D = (size_t)c->dim, Q = (size_t)c->heads * m->hd, KV = (size_t)c->kv_heads * m->hd,
         F = (size_t)c->ffn;
  m->emb = add_param(m, "embedding", -1, (size_t)c->vocab * D);
  static const char *const names[P_PER_LAYER] = {"attn_norm", "wq", "wk", "wv", "wo",
                                                 "ffn_norm",  "w1", "w3", "w2"};
  size_t sizes[P_PER_LAYER] = {D, D * Q, D * KV, D * KV, Q * D, D, D * F, D * F, F * D};
  for (int l = 0; l < c->layers; l++)
    for (int k = 0; k < P_PER_LAYER; k++)
      m->layer[l][k] = add_param(m, names[k], l, sizes[k]);
  m->final_norm = add_param(m, "final_norm", -1, D);
  m->head = c->tied ? m->emb : add_param(m, "head", -1, D * (size_t)c->vocab);
  m->block = calloc(4 * m->total, sizeof *m->block);
  if (!m->block) {
    free(m);
    return NULL;
  }
  double *w = m->block;
  uint64_t rng = seed;
  for (size_t i = 0; i < m->np; i++) {
    nm_param *q = &m->p[i];
    q->w = w;
    q->g = w + m->total;
    q->m = w + 2 * m->total;
    q->v = w + 3 * m->total;
    w += q->n;
    int norm = strstr(q->name, "norm") != NULL;
    for (size_t j = 0; j < q->n; j++)
      q->w[j] = norm ? 1.0 : (double)(float)(0.02 * nm_rand_normal(&rng));
  }
  ar_init(&m->work.scratch);
  return m;
}

void nm_tf_free(nm_tf *m) {
  if (!m) return;
  ar_free(&m->work.scratch);
  free(m->block);
  free(m);
}

size_t nm_tf_nparams(const nm_tf *m) {
  return m->total;
}
size_t nm_tf_params(nm_tf *m, nm_param **out) {
  *out = m->p;
  return m->np;
}

/* ---- helpers ---- */

/* y[n][D] = x * r * g, r = 1 / sqrt(mean(x^2) + eps); r kept for the backward. */
#define NM_EPS 1e-6
static void rmsnorm(const nm_prec *p, int N, int D, const double *x, const double *g, double *y, double *r) {
  for (int n = 0; n < N; n++) {
    const double *xi = x + (size_t)n * D;
    double ss = 0;
    for (int d = 0; d < D; d++)
      ss += xi[d] * xi[d];
    r[n] = nm_rv(p, 1 / sqrt(ss / D + NM_EPS));
    for (int d = 0; d < D; d++)
      y[(size_t)n * D + d] = nm_rv(p, xi[d] * r[n] * g[d]);
  }
}

/* dx += rmsnorm'(dy), dg += sum dy * x * r. */
static void rmsnorm_bwd(const nm_prec *p, int N, int D, const double *x, const double *g, const double *r,
                        const double *dy, double *dx, double *dg) {
  for (int n = 0; n < N; n++) {
    const double *xi = x + (size_t)n * D, *dyi = dy + (size_t)n * D;
    double dot = 0;
    for (int d = 0; d < D; d++) {
      dot += dyi[d] * g[d] * xi[d];
      dg[d] = nm_rv(p, dg[d] + dyi[d] * xi[d] * r[n]);
    }
    double c = r[n] * r[n] * r[n] * dot / D;
    for (int d = 0; d < D; d++) {
      double *o = dx + (size_t)n * D + d;
      *o = nm_rv(p, *o + dyi[d] * g[d] * r[n] - xi[d] * c);
    }
  }
}

/* Rotates pairs (2i, 2i+1) of every head of x[n][heads*hd] by pos * 10000^(-2i/hd); dir -1 undoes
 * it (the backward multiplies by the transposed rotation). */
static void rope(const nm_prec *p, int N, int T, int heads, int hd, double *x, int dir) {
  for (int n = 0; n < N; n++) {
    int pos = n % T;
    for (int h = 0; h < heads; h++)
      for (int i = 0; i < hd / 2; i++) {
        double th = pos * pow(10000.0, -2.0 * i / hd), c = cos(th), s = dir * sin(th);
        double *v = x + (size_t)n * heads * hd + (size_t)h * hd + 2 * i;
        double a = v[0], b = v[1];
        v[0] = nm_rv(p, a * c - b * s);
        v[1] = nm_rv(p, a * s + b * c);
      }
  }
}

static double silu(double a) {
  return a / (1 + exp(-a));
}

/* Per-layer activations kept for the backward. */
typedef struct cache {
  double *x, *xn, *r1, *q, *k, *v, *P, *att, *xm, *xn2, *r2, *a, *u, *h;
} cache;

/* Copies head h's [T][hd] slice of sequence b out of X[N][heads*hd] (dir 0) or adds it back (1). */
static void head_slice(const nm_prec *p, double *X, int heads, int hd, int T, int b, int h, double *s,
                       int dir) {
  for (int t = 0; t < T; t++)
    for (int d = 0; d < hd; d++) {
      double *x = X + ((size_t)(b * T + t) * heads + h) * hd + d;
      if (dir == 0)
        s[t * hd + d] = *x;
      else
        *x = nm_rv(p, *x + s[t * hd + d]);
    }
}

int nm_tf_oom(const nm_tf *m) {
  return m->work.oom;
}

double nm_tf_step(nm_tf *m, const nm_prec *p, const uint8_t *tokens, int B, int grad, double *logits_out) {
  const nm_tf_cfg *c = &m->c;
  const int T = c->seq, N = B * T, D = c->dim, V = c->vocab, H = c->heads, KV = c->kv_heads, hd = m->hd;
  const int F = c->ffn, Q = H * hd, KD = KV * hd, L = c->layers, grp = H / KV;
  const double isq = 1 / sqrt((double)hd);
  ar_reset(&m->work.scratch);
  m->work.oom = 0;
  cache cs[8];
  double *x = nm_work_tmp(&m->work, (size_t)N * D);
  if (!x) return NAN;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      int tok = tokens[b * (T + 1) + t] % V;
      memcpy(x + (size_t)(b * T + t) * D, m->emb->w + (size_t)tok * D, D * sizeof *x);
    }
  double *S = nm_work_tmp(&m->work, (size_t)T * T), *qs = nm_work_tmp(&m->work, (size_t)T * hd),
         *ks = nm_work_tmp(&m->work, (size_t)T * hd), *vs = nm_work_tmp(&m->work, (size_t)T * hd),
         *os = nm_work_tmp(&m->work, (size_t)T * hd);
  for (int l = 0; l < L && !m->work.oom; l++) {
    cache *k = &cs[l];
    nm_param **w = m->layer[l];
    k->x = x;
    k->xn = nm_work_tmp(&m->work, (size_t)N * D);
    k->r1 = nm_work_tmp(&m->work, N);
    k->q = nm_work_tmp(&m->work, (size_t)N * Q);
    k->k = nm_work_tmp(&m->work, (size_t)N * KD);
    k->v = nm_work_tmp(&m->work, (size_t)N * KD);
    k->P = nm_work_tmp(&m->work, (size_t)B * H * T * T);
    k->att = nm_work_tmp(&m->work, (size_t)N * Q);
    k->xm = nm_work_tmp(&m->work, (size_t)N * D);
    k->xn2 = nm_work_tmp(&m->work, (size_t)N * D);
    k->r2 = nm_work_tmp(&m->work, N);
    k->a = nm_work_tmp(&m->work, (size_t)N * F);
    k->u = nm_work_tmp(&m->work, (size_t)N * F);
    k->h = nm_work_tmp(&m->work, (size_t)N * F);
    double *y = nm_work_tmp(&m->work, (size_t)N * D), *xo = nm_work_tmp(&m->work, (size_t)N * D);
    if (m->work.oom) break;
    rmsnorm(p, N, D, x, w[P_ATTN_NORM]->w, k->xn, k->r1);
    nm_work_mm(&m->work, p, &p->fwd, N, Q, D, k->xn, 0, w[P_WQ]->w, 0, k->q, 0);
    nm_work_mm(&m->work, p, &p->fwd, N, KD, D, k->xn, 0, w[P_WK]->w, 0, k->k, 0);
    nm_work_mm(&m->work, p, &p->fwd, N, KD, D, k->xn, 0, w[P_WV]->w, 0, k->v, 0);
    rope(p, N, T, H, hd, k->q, 1);
    rope(p, N, T, KV, hd, k->k, 1);
    for (int b = 0; b < B && !m->work.oom; b++)
      for (int h = 0; h < H; h++) {
        double *P = k->P + ((size_t)b * H + h) * T * T;
        head_slice(p, k->q, H, hd, T, b, h, qs, 0);
        head_slice(p, k->k, KV, hd, T, b, h / grp, ks, 0);
        head_slice(p, k->v, KV, hd, T, b, h / grp, vs, 0);
        nm_work_mm(&m->work, p, &p->fwd, T, T, hd, qs, 0, ks, 1, S, 0); /* S = q . k^T */
        for (int i = 0; i < T; i++) {                                   /* causal softmax of S * isq */
          double mx = -INFINITY, sum = 0;
          for (int j = 0; j <= i; j++)
            mx = fmax(mx, S[i * T + j] * isq);
          for (int j = 0; j < T; j++) {
            double e = j <= i ? exp(S[i * T + j] * isq - mx) : 0;
            P[i * T + j] = e;
            sum += e;
          }
          for (int j = 0; j < T; j++)
            P[i * T + j] = nm_rv(p, P[i * T + j] / sum);
        }
        nm_work_mm(&m->work, p, &p->fwd, T, hd, T, P, 0, vs, 0, os, 0); /* o = P . v */
        for (int t = 0; t < T; t++)
          memcpy(k->att + ((size_t)(b * T + t) * H + h) * hd, os + (size_t)t * hd, hd * sizeof *os);
      }
    nm_work_mm(&m->work, p, &p->fwd, N, D, Q, k->att, 0, w[P_WO]->w, 0, y, 0);
    for (size_t i = 0; i < (size_t)N * D; i++)
      k->xm[i] = nm_rv(p, x[i] + y[i]);
    rmsnorm(p, N, D, k->xm, w[P_FFN_NORM]->w, k->xn2, k->r2);
    nm_work_mm(&m->work, p, &p->fwd, N, F, D, k->xn2, 0, w[P_W1]->w, 0, k->a, 0);
    nm_work_mm(&m->work, p, &p->fwd, N, F, D, k->xn2, 0, w[P_W3]->w, 0, k->u, 0);
    for (size_t i = 0; i < (size_t)N * F; i++)
      k->h[i] = nm_rv(p, silu(k->a[i]) * k->u[i]);
    nm_work_mm(&m->work, p, &p->fwd, N, D, F, k->h, 0, w[P_W2]->w, 0, y, 0);
    for (size_t i = 0; i < (size_t)N * D; i++)
      xo[i] = nm_rv(p, k->xm[i] + y[i]);
    x = xo;
  }
  double *xf = nm_work_tmp(&m->work, (size_t)N * D), *rf = nm_work_tmp(&m->work, N),
         *logits = nm_work_tmp(&m->work, (size_t)N * V);
  if (m->work.oom) return NAN;
  rmsnorm(p, N, D, x, m->final_norm->w, xf, rf);
  nm_work_mm(&m->work, p, &p->fwd, N, V, D, xf, 0, m->head->w, c->tied, logits, 0);
  if (m->work.oom) return NAN;
  if (logits_out) memcpy(logits_out, logits, (size_t)N * V * sizeof *logits);
  double loss = 0;
  for (int n = 0; n < N; n++) { /* logits become dlogits = (softmax - onehot) / N */
    double *z = logits + (size_t)n * V, mx = -INFINITY, sum = 0;
    int tgt = tokens[(n / T) * (T + 1) + n % T + 1] % V;
    for (int v = 0; v < V; v++)
      mx = fmax(mx, z[v]);
    for (int v = 0; v < V; v++)
      sum += exp(z[v] - mx);
    loss += log(sum) + mx - z[tgt];
    if (grad)
      for (int v = 0; v < V; v++)
        z[v] = nm_rv(p, (exp(z[v] - mx) / sum - (v == tgt)) / N);
  }
  loss /= N;
  if (!grad) return loss;

  /* ---- backward ---- */
  memset(m->block + m->total, 0, m->total * sizeof *m->block);
  double *dx = nm_work_tmp(&m->work, (size_t)N * D), *dxf = nm_work_tmp(&m->work, (size_t)N * D);
  if (m->work.oom) return NAN;
  if (c->tied) /* head = emb^T: d(emb)[V][D] += dlogits^T . xf */
    nm_work_mm(&m->work, p, &p->bwd, V, D, N, logits, 1, xf, 0, m->head->g, 1);
  else /* head[D][V]: d(head) = xf^T . dlogits */
    nm_work_mm(&m->work, p, &p->bwd, D, V, N, xf, 1, logits, 0, m->head->g, 1);
  nm_work_mm(&m->work, p, &p->bwd, N, D, V, logits, 0, m->head->w, !c->tied, dxf, 0);
  rmsnorm_bwd(p, N, D, x, m->final_norm->w, rf, dxf, dx, m->final_norm->g);
  double *dS = nm_work_tmp(&m->work, (size_t)T * T), *dP = nm_work_tmp(&m->work, (size_t)T * T),
         *dos = nm_work_tmp(&m->work, (size_t)T * hd), *dqs = nm_work_tmp(&m->work, (size_t)T * hd),
         *dks = nm_work_tmp(&m->work, (size_t)T * hd), *dvs = nm_work_tmp(&m->work, (size_t)T * hd);
  for (int l = L - 1; l >= 0 && !m->work.oom; l--) {
    cache *k = &cs[l];
    nm_param **w = m->layer[l];
    double *dh = nm_work_tmp(&m->work, (size_t)N * F), *da = nm_work_tmp(&m->work, (size_t)N * F),
           *du = nm_work_tmp(&m->work, (size_t)N * F), *dxn = nm_work_tmp(&m->work, (size_t)N * D),
           *datt = nm_work_tmp(&m->work, (size_t)N * Q), *dq = nm_work_tmp(&m->work, (size_t)N * Q),
           *dk = nm_work_tmp(&m->work, (size_t)N * KD), *dv = nm_work_tmp(&m->work, (size_t)N * KD);
    if (m->work.oom) break;
    /* SwiGLU: out = h . w2, h = silu(a) * u; dx is the gradient of the layer's output */
    nm_work_mm(&m->work, p, &p->bwd, F, D, N, k->h, 1, dx, 0, w[P_W2]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, N, F, D, dx, 0, w[P_W2]->w, 1, dh, 0);
    for (size_t i = 0; i < (size_t)N * F; i++) {
      double a = k->a[i], sg = 1 / (1 + exp(-a));
      du[i] = nm_rv(p, dh[i] * a * sg);
      da[i] = nm_rv(p, dh[i] * k->u[i] * sg * (1 + a * (1 - sg)));
    }
    nm_work_mm(&m->work, p, &p->bwd, D, F, N, k->xn2, 1, da, 0, w[P_W1]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, D, F, N, k->xn2, 1, du, 0, w[P_W3]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, N, D, F, da, 0, w[P_W1]->w, 1, dxn, 0);
    nm_work_mm(&m->work, p, &p->bwd, N, D, F, du, 0, w[P_W3]->w, 1, dxn, 1);
    rmsnorm_bwd(p, N, D, k->xm, w[P_FFN_NORM]->w, k->r2, dxn, dx, w[P_FFN_NORM]->g); /* dx: d(xm) now */
    /* attention: xm = x + att . wo */
    nm_work_mm(&m->work, p, &p->bwd, Q, D, N, k->att, 1, dx, 0, w[P_WO]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, N, Q, D, dx, 0, w[P_WO]->w, 1, datt, 0);
    for (int b = 0; b < B && !m->work.oom; b++)
      for (int h = 0; h < H; h++) {
        const double *P = k->P + ((size_t)b * H + h) * T * T;
        head_slice(p, k->q, H, hd, T, b, h, qs, 0);
        head_slice(p, k->k, KV, hd, T, b, h / grp, ks, 0);
        head_slice(p, k->v, KV, hd, T, b, h / grp, vs, 0);
        head_slice(p, datt, H, hd, T, b, h, dos, 0);
        nm_work_mm(&m->work, p, &p->bwd, T, T, hd, dos, 0, vs, 1, dP, 0); /* dP = dO . v^T */
        nm_work_mm(&m->work, p, &p->bwd, T, hd, T, P, 1, dos, 0, dvs, 0); /* dv = P^T . dO */
        for (int i = 0; i < T; i++) {
          double dot = 0;
          for (int j = 0; j <= i; j++)
            dot += P[i * T + j] * dP[i * T + j];
          for (int j = 0; j < T; j++)
            dS[i * T + j] = j <= i ? nm_rv(p, P[i * T + j] * (dP[i * T + j] - dot) * isq) : 0;
        }
        nm_work_mm(&m->work, p, &p->bwd, T, hd, T, dS, 0, ks, 0, dqs, 0); /* dq = dS . k */
        nm_work_mm(&m->work, p, &p->bwd, T, hd, T, dS, 1, qs, 0, dks, 0); /* dk = dS^T . q */
        head_slice(p, dq, H, hd, T, b, h, dqs, 1);
        head_slice(p, dk, KV, hd, T, b, h / grp, dks, 1);
        head_slice(p, dv, KV, hd, T, b, h / grp, dvs, 1);
      }
    rope(p, N, T, H, hd, dq, -1);
    rope(p, N, T, KV, hd, dk, -1);
    nm_work_mm(&m->work, p, &p->bwd, D, Q, N, k->xn, 1, dq, 0, w[P_WQ]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, D, KD, N, k->xn, 1, dk, 0, w[P_WK]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, D, KD, N, k->xn, 1, dv, 0, w[P_WV]->g, 1);
    nm_work_mm(&m->work, p, &p->bwd, N, D, Q, dq, 0, w[P_WQ]->w, 1, dxn, 0);
    nm_work_mm(&m->work, p, &p->bwd, N, D, KD, dk, 0, w[P_WK]->w, 1, dxn, 1);
    nm_work_mm(&m->work, p, &p->bwd, N, D, KD, dv, 0, w[P_WV]->w, 1, dxn, 1);
    rmsnorm_bwd(p, N, D, k->x, w[P_ATTN_NORM]->w, k->r1, dxn, dx, w[P_ATTN_NORM]->g); /* d(x) of the layer */
  }
  if (m->work.oom) return NAN;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      int tok = tokens[b * (T + 1) + t] % V;
      double *g = m->emb->g + (size_t)tok * D, *d = dx + (size_t)(b * T + t) * D;
      for (int i = 0; i < D; i++)
        g[i] = nm_rv(p, g[i] + d[i]);
    }
  return loss;
}

void nm_tf_adamw(nm_tf *m, const nm_adamw *o, int step, nm_fmt vec) {
  double bc1 = 1 - pow(o->beta1, step), bc2 = 1 - pow(o->beta2, step);
  for (size_t i = 0; i < m->np; i++) {
    nm_param *q = &m->p[i];
    double wd = strstr(q->name, "norm") ? 0 : o->weight_decay;
    for (size_t j = 0; j < q->n; j++) {
      double g = q->g[j];
      q->m[j] = nm_round(vec, o->beta1 * q->m[j] + (1 - o->beta1) * g);
      q->v[j] = nm_round(vec, o->beta2 * q->v[j] + (1 - o->beta2) * g * g);
      double upd = (q->m[j] / bc1) / (sqrt(q->v[j] / bc2) + o->eps) + wd * q->w[j];
      q->w[j] = nm_round(vec, q->w[j] - o->lr * upd);
    }
  }
}
