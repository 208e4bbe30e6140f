/* test_numerics_model.c — the transformer executor (src/numerics/model.c): every parameter
 * tensor's gradient against central finite differences in fp64 (norm-wise relative error <= 1e-6),
 * tied and untied heads; fp32 execution against a straightforward float forward written here
 * (logits within 1e-5 norm-wise) and against fp64 on gradients; training lowers the loss. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "numerics/numerics.h"
#include "test_gradcheck.h"

static void tokens_fill(uint8_t *t, size_t n, int V, uint64_t seed) {
  for (size_t i = 0; i < n; i++)
    t[i] = (uint8_t)(nm_rand_u64(&seed) % (uint64_t)V);
}

typedef struct tf_case {
  nm_tf *m;
  nm_prec p;
  const uint8_t *tok;
} tf_case;

static double tf_loss(void *ud, int grad) {
  tf_case *k = ud;
  return nm_tf_step(k->m, &k->p, k->tok, 2, grad, NULL);
}

static void gradcheck(int tied) {
  nm_tf_cfg c = {11, 8, 2, 2, 1, 12, 5, tied};
  nm_tf *m = nm_tf_new(&c, 42);
  assert_non_null(m);
  nm_param *p;
  size_t np = nm_tf_params(m, &p);
  for (size_t i = 0; i < np; i++) /* larger weights than at initialisation: non-trivial gradients */
    for (size_t j = 0; j < p[i].n; j++)
      p[i].w[j] = (strstr(p[i].name, "norm") ? 1 : 0) + 0.3 * sin(1.7 * (double)(i * 131 + j));
  uint8_t tok[2 * 6];
  tokens_fill(tok, sizeof tok, c.vocab, 9);
  tf_case k = {m, nm_prec_uniform(NM_FP64, NM_FP64, 4), tok};
  gradcheck_params(p, np, tf_loss, &k, 1e-6, tied ? "tied " : "", 0);
  nm_tf_free(m);
}

static void test_gradcheck_tied(void **state) {
  (void)state;
  gradcheck(1);
}
static void test_gradcheck_untied(void **state) {
  (void)state;
  gradcheck(0);
}

/* ---- a straightforward float forward pass of the same model (weights [in][out]) ---- */
static void f_norm(int N, int D, const float *x, const double *g, float *y) {
  for (int n = 0; n < N; n++) {
    float ss = 0;
    for (int d = 0; d < D; d++)
      ss += x[n * D + d] * x[n * D + d];
    float r = 1.0f / sqrtf(ss / (float)D + 1e-6f);
    for (int d = 0; d < D; d++)
      y[n * D + d] = x[n * D + d] * r * (float)g[d];
  }
}
static void f_mm(int N, int I, int O, const float *x, const double *w, float *y) {
  for (int n = 0; n < N; n++)
    for (int o = 0; o < O; o++) {
      float s = 0;
      for (int i = 0; i < I; i++)
        s += x[n * I + i] * (float)w[(size_t)i * O + o];
      y[n * O + o] = s;
    }
}
static void f_rope(int T, int N, int heads, int hd, float *x) {
  for (int n = 0; n < N; n++)
    for (int h = 0; h < heads; h++)
      for (int i = 0; i < hd / 2; i++) {
        float th = (float)(n % T) * powf(10000.0f, -2.0f * (float)i / (float)hd);
        float *v = x + (n * heads + h) * hd + 2 * i, a = v[0], b = v[1];
        v[0] = a * cosf(th) - b * sinf(th);
        v[1] = a * sinf(th) + b * cosf(th);
      }
}

static void float_forward(nm_tf *m, const nm_tf_cfg *c, const uint8_t *tok, int B, float *logits) {
  nm_param *p;
  nm_tf_params(m, &p);
  const int T = c->seq, N = B * T, D = c->dim, H = c->heads, KV = c->kv_heads, hd = D / H, F = c->ffn,
            V = c->vocab;
  float *x = calloc((size_t)N * D, 4), *xn = calloc((size_t)N * D, 4), *q = calloc((size_t)N * D, 4),
        *k = calloc((size_t)N * KV * hd, 4), *v = calloc((size_t)N * KV * hd, 4),
        *att = calloc((size_t)N * D, 4), *y = calloc((size_t)N * D, 4), *a = calloc((size_t)N * F, 4),
        *u = calloc((size_t)N * F, 4);
  for (int n = 0; n < N; n++)
    for (int d = 0; d < D; d++)
      x[n * D + d] = (float)p[0].w[tok[(n / T) * (T + 1) + n % T] * D + d];
  for (int l = 0; l < c->layers; l++) {
    nm_param *w = p + 1 + 9 * l; /* attn_norm wq wk wv wo ffn_norm w1 w3 w2 */
    f_norm(N, D, x, w[0].w, xn);
    f_mm(N, D, D, xn, w[1].w, q);
    f_mm(N, D, KV * hd, xn, w[2].w, k);
    f_mm(N, D, KV * hd, xn, w[3].w, v);
    f_rope(T, N, H, hd, q);
    f_rope(T, N, KV, hd, k);
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++)
        for (int i = 0; i < T; i++) {
          float s[64], mx = -INFINITY, sum = 0;
          int kh = h / (H / KV);
          for (int j = 0; j <= i; j++) {
            float d = 0;
            for (int e = 0; e < hd; e++)
              d += q[((b * T + i) * H + h) * hd + e] * k[((b * T + j) * KV + kh) * hd + e];
            s[j] = d / sqrtf((float)hd);
            mx = fmaxf(mx, s[j]);
          }
          for (int j = 0; j <= i; j++)
            sum += s[j] = expf(s[j] - mx);
          for (int e = 0; e < hd; e++) {
            float o = 0;
            for (int j = 0; j <= i; j++)
              o += s[j] / sum * v[((b * T + j) * KV + kh) * hd + e];
            att[((b * T + i) * H + h) * hd + e] = o;
          }
        }
    f_mm(N, D, D, att, w[4].w, y);
    for (int i = 0; i < N * D; i++)
      x[i] += y[i];
    f_norm(N, D, x, w[5].w, xn);
    f_mm(N, D, F, xn, w[6].w, a);
    f_mm(N, D, F, xn, w[7].w, u);
    for (int i = 0; i < N * F; i++)
      a[i] = a[i] / (1 + expf(-a[i])) * u[i];
    f_mm(N, F, D, a, w[8].w, y);
    for (int i = 0; i < N * D; i++)
      x[i] += y[i];
  }
  f_norm(N, D, x, p[1 + 9 * c->layers].w, xn);
  for (int n = 0; n < N; n++) /* tied head: logits = xn . emb^T */
    for (int t = 0; t < V; t++) {
      float s = 0;
      for (int d = 0; d < D; d++)
        s += xn[n * D + d] * (float)p[0].w[t * D + d];
      logits[n * V + t] = s;
    }
  free(x), free(xn), free(q), free(k), free(v), free(att), free(y), free(a), free(u);
}

static void test_fp32_matches_reference(void **state) {
  (void)state;
  nm_tf_cfg c = {64, 32, 2, 4, 2, 48, 16, 1};
  nm_tf *m = nm_tf_new(&c, 3), *m64 = nm_tf_new(&c, 3);
  assert_non_null(m);
  assert_non_null(m64);
  const int B = 2, N = B * c.seq;
  uint8_t tok[2 * 17];
  tokens_fill(tok, sizeof tok, c.vocab, 4);
  double *lg = malloc((size_t)N * c.vocab * sizeof *lg), num = 0, den = 0;
  float *lf = malloc((size_t)N * c.vocab * sizeof *lf);
  nm_prec f32 = nm_prec_uniform(NM_FP32, NM_FP32, 32), f64 = nm_prec_uniform(NM_FP64, NM_FP64, 32);
  assert_true(isfinite(nm_tf_step(m, &f32, tok, B, 1, lg)));
  float_forward(m, &c, tok, B, lf);
  for (int i = 0; i < N * c.vocab; i++)
    num += (lg[i] - lf[i]) * (lg[i] - lf[i]), den += (double)lf[i] * lf[i];
  print_message("fp32 logits vs float reference: %.3g\n", sqrt(num / den));
  assert_true(sqrt(num / den) <= 1e-5);
  /* gradients: fp32 execution against the same model in fp64 */
  nm_tf_step(m64, &f64, tok, B, 1, NULL);
  nm_param *p, *p64;
  size_t np = nm_tf_params(m, &p);
  nm_tf_params(m64, &p64);
  num = den = 0;
  for (size_t i = 0; i < np; i++)
    for (size_t j = 0; j < p[i].n; j++)
      num += pow(p[i].g[j] - p64[i].g[j], 2), den += pow(p64[i].g[j], 2);
  print_message("fp32 gradients vs fp64: %.3g\n", sqrt(num / den));
  assert_true(sqrt(num / den) <= 1e-5);
  free(lg);
  free(lf);
  nm_tf_free(m);
  nm_tf_free(m64);
}

static void test_training_lowers_loss(void **state) {
  (void)state;
  nm_tf_cfg c = {32, 16, 1, 2, 1, 32, 8, 0};
  nm_tf *m = nm_tf_new(&c, 1);
  assert_non_null(m);
  assert_int_equal(nm_tf_count(&c), nm_tf_nparams(m)); /* the count without a model */
  const nm_tf_cfg other[] = {{256, 96, 2, 4, 2, 256, 64, 1}, {256, 64, 3, 8, 2, 100, 16, 0}};
  for (size_t i = 0; i < SL_ARRAY_LEN(other); i++) {
    nm_tf *o = nm_tf_new(&other[i], 1);
    assert_non_null(o);
    assert_int_equal(nm_tf_count(&other[i]), nm_tf_nparams(o));
    nm_tf_free(o);
  }
  uint8_t tok[4 * 9];
  for (size_t i = 0; i < sizeof tok; i++)
    tok[i] = (uint8_t)(i % 9 % 5); /* a repeating pattern */
  nm_prec p = nm_prec_uniform(NM_BF16, NM_FP32, 16);
  nm_adamw o = {1e-2, 0.9, 0.95, 1e-8, 0.0};
  double first = 0, last = 0;
  for (int s = 1; s <= 30; s++) {
    last = nm_tf_step(m, &p, tok, 4, 1, NULL);
    if (s == 1) first = last;
    nm_tf_adamw(m, &o, s, NM_FP32);
  }
  assert_true(last < 0.5 * first);
  nm_tf_free(m);
  nm_tf_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gradcheck_tied), cmocka_unit_test(test_gradcheck_untied),
      cmocka_unit_test(test_fp32_matches_reference), cmocka_unit_test(test_training_lowers_loss)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
