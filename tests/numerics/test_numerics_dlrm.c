/* test_numerics_dlrm.c — the DLRM executor (src/numerics/dlrm.c): every parameter tensor's
 * gradient (each embedding table, each MLP weight and bias) against central finite differences in
 * fp64 (norm-wise relative error <= 1e-6); a short training run on a synthetic task in fp32 lowers
 * the loss, bf16 ends within a few percent of fp32 and MXFP4 stays finite; bad shapes are
 * rejected; row-wise Adagrad changes only the rows that were looked up. */
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

static double unif(uint64_t *s) {
  return (double)(nm_rand_u64(s) >> 11) / 9007199254740992.0;
}

typedef struct dl_case {
  nm_dlrm *m;
  nm_prec p;
  const double *dense;
  const int *idx;
  const double *label;
  int B;
} dl_case;

static double dl_loss(void *ud, int grad) {
  dl_case *k = ud;
  return nm_dlrm_step(k->m, &k->p, k->dense, k->idx, k->label, k->B, grad);
}

static void test_gradcheck(void **state) {
  (void)state;
  nm_dlrm_cfg c = {4, 3, 10, 4, 2, 8, 8};
  enum { B = 5 };
  nm_dlrm *m = nm_dlrm_new(&c, 7);
  assert_non_null(m);
  nm_param *p;
  size_t np = nm_dlrm_params(m, &p);
  assert_int_equal(np, 3 + 8);
  for (size_t i = 0; i < np; i++) /* larger weights than at initialisation, non-zero biases */
    for (size_t j = 0; j < p[i].n; j++)
      p[i].w[j] = 0.1 + 0.5 * sin(1.7 * (double)(i * 131 + j));
  double dense[B * 4], label[B];
  int idx[B * 3 * 2];
  uint64_t s = 5;
  for (int i = 0; i < B * 4; i++)
    dense[i] = 2 * unif(&s) - 1;
  for (int i = 0; i < B * 3 * 2; i++)
    idx[i] = (int)(nm_rand_u64(&s) % 10);
  for (int i = 0; i < B; i++)
    label[i] = i % 2;
  dl_case k = {m, nm_prec_uniform(NM_FP64, NM_FP64, 1), dense, idx, label, B};
  gradcheck_params(p, np, dl_loss, &k, 1e-6, "", 1);
  nm_dlrm_free(m);
}

/* Synthetic click data: the label is 1 when a fixed linear function of the dense features plus a
 * fixed value per (table, row) of the looked-up rows is positive. */
enum { TB = 64, TD = 8, TT = 4, TR = 50, TP = 2 };
typedef struct task {
  double wd[TD], wr[TT][TR];
} task;

static void batch(const task *k, uint64_t *s, double *dense, int *idx, double *label) {
  for (int b = 0; b < TB; b++) {
    double score = 0;
    for (int d = 0; d < TD; d++)
      score += k->wd[d] * (dense[b * TD + d] = 2 * unif(s) - 1);
    for (int t = 0; t < TT; t++)
      for (int j = 0; j < TP; j++) {
        int r = idx[(b * TT + t) * TP + j] = (int)(nm_rand_u64(s) % TR);
        score += k->wr[t][r];
      }
    label[b] = score > 0;
  }
}

/* Trains 200 steps in precision p; returns the first step's loss and the mean of the last 50. */
static double train(const nm_prec *p, double *first) {
  task k;
  uint64_t s = 11;
  for (int d = 0; d < TD; d++)
    k.wd[d] = 2 * unif(&s) - 1;
  for (int t = 0; t < TT; t++)
    for (int r = 0; r < TR; r++)
      k.wr[t][r] = 2 * unif(&s) - 1;
  nm_dlrm_cfg c = {TD, TT, TR, 8, TP, 16, 16};
  nm_dlrm *m = nm_dlrm_new(&c, 3);
  assert_non_null(m);
  nm_adamw o = {1e-2, 0.9, 0.99, 1e-8, 0.0};
  double dense[TB * TD], label[TB], tail = 0;
  int idx[TB * TT * TP];
  for (int step = 1; step <= 200; step++) {
    batch(&k, &s, dense, idx, label);
    double l = nm_dlrm_step(m, p, dense, idx, label, TB, 1);
    assert_true(isfinite(l));
    if (step == 1) *first = l;
    if (step > 150) tail += l / 50;
    nm_dlrm_update(m, &o, 0.05, step, p->vec);
  }
  nm_dlrm_free(m);
  return tail;
}

static void test_training(void **state) {
  (void)state;
  nm_prec f32 = nm_prec_uniform(NM_FP32, NM_FP32, 32), bf16 = nm_prec_uniform(NM_BF16, NM_FP32, 32),
          mx4 = nm_prec_uniform(NM_MXFP4, NM_FP32, 32);
  double first, l32 = train(&f32, &first), f2, lbf = train(&bf16, &f2), f3, lmx = train(&mx4, &f3);
  print_message("fp32 %.4f -> %.4f; bf16 %.4f (%+.2f%%); mxfp4 %.4f (%+.2f%%)\n", first, l32, lbf,
                100 * (lbf / l32 - 1), lmx, 100 * (lmx / l32 - 1));
  assert_true(l32 < 0.6 * first);
  assert_true(fabs(lbf / l32 - 1) <= 0.05);
  assert_true(isfinite(lmx));
}

static void test_bad_shapes(void **state) {
  (void)state;
  const nm_dlrm_cfg ok = {4, 3, 10, 4, 2, 8, 8};
  nm_dlrm *m = nm_dlrm_new(&ok, 1);
  assert_non_null(m);
  nm_param *pt;
  size_t np = nm_dlrm_params(m, &pt), total = 0;
  for (size_t i = 0; i < np; i++)
    total += pt[i].n;
  assert_int_equal(nm_dlrm_count(&ok), total); /* the count without a model */
  nm_dlrm_free(m);
  nm_dlrm_free(NULL);
  for (int f = 0; f < 7; f++)
    for (int v = -1; v <= 0; v++) {
      nm_dlrm_cfg c = ok;
      int *x = f == 0   ? &c.dense
               : f == 1 ? &c.tables
               : f == 2 ? &c.rows
               : f == 3 ? &c.dim
               : f == 4 ? &c.pooling
               : f == 5 ? &c.bottom
                        : &c.top;
      *x = v;
      assert_null(nm_dlrm_new(&c, 1));
    }
  nm_dlrm_cfg big = ok;
  big.tables = NM_MAX_PARAMS;
  assert_null(nm_dlrm_new(&big, 1));
}

static void test_adagrad_rows(void **state) {
  (void)state;
  nm_dlrm_cfg c = {4, 2, 12, 4, 2, 8, 8};
  nm_dlrm *m = nm_dlrm_new(&c, 9);
  assert_non_null(m);
  nm_param *p;
  nm_dlrm_params(m, &p);
  enum { B = 3 };
  double dense[B * 4], label[B] = {1, 0, 1};
  int idx[B * 2 * 2] = {0, 3, 5, 5, 3, 7, 1, 1, 0, 0, 11, 5}; /* table 0: 0 3 7 0; table 1: 5 1 11 */
  for (int i = 0; i < B * 4; i++)
    dense[i] = 0.1 * (i % 5) - 0.2;
  double *before = malloc(2 * 12 * 4 * sizeof *before);
  assert_non_null(before);
  memcpy(before, p[0].w, 48 * sizeof *before);
  memcpy(before + 48, p[1].w, 48 * sizeof *before);
  nm_prec f32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  nm_adamw o = {1e-3, 0.9, 0.99, 1e-8, 0.0};
  for (int step = 1; step <= 2; step++) {
    assert_true(isfinite(nm_dlrm_step(m, &f32, dense, idx, label, B, 1)));
    nm_dlrm_update(m, &o, 0.1, step, NM_FP32);
  }
  static const int used[2][12] = {{1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}};
  for (int t = 0; t < 2; t++)
    for (int r = 0; r < 12; r++) {
      int changed = memcmp(p[t].w + r * 4, before + t * 48 + r * 4, 4 * sizeof(double)) != 0;
      if (changed != used[t][r])
        fail_msg("table %d row %d: changed %d, looked up %d", t, r, changed, used[t][r]);
      assert_true((p[t].v[r] > 0) == used[t][r]);
    }
  free(before);
  nm_dlrm_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_gradcheck), cmocka_unit_test(test_training),
                                     cmocka_unit_test(test_bad_shapes), cmocka_unit_test(test_adagrad_rows)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
