/* gemm.c — matrix products as a matrix engine computes them: inputs rounded to the input format
 * (per-tensor scale for fp8/int8, per 32-block along K for MX), exact products summed over a
 * K-chunk, each chunk's sum rounded to the accumulation format and added to the accumulator with
 * one more rounding.  Three implementations: the scalar reference (nm_gemm_ref), the blocked loops
 * (nm_gemm_loops, bit-exact with the reference) and OpenBLAS where the product is exact in fp32 or
 * fp64 (loaded with dlopen, so that the library neither links nor requires it). */
#include "numerics/numerics.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* ---- OpenBLAS, found at run time ---- */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                         double *, int);
static sgemm_fn blas_sgemm;
static dgemm_fn blas_dgemm;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_load(void) {
  static const char *const libs[] = {"libopenblas.so.0", "libopenblas.so"};
  for (size_t i = 0; i < SL_ARRAY_LEN(libs); i++) {
    void *h = dlopen(libs[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    void (*threads)(int) = NULL;
    *(void **)&threads = dlsym(h, "openblas_set_num_threads");
    *(void **)&blas_sgemm = dlsym(h, "cblas_sgemm");
    *(void **)&blas_dgemm = dlsym(h, "cblas_dgemm");
    if (threads) threads(1); /* one thread: same sums in the same order on every run */
    if (blas_sgemm && blas_dgemm) return;
    blas_sgemm = NULL;
    blas_dgemm = NULL;
  }
}

int nm_blas_available(void) {
  pthread_once(&blas_once, blas_load);
  return blas_sgemm != NULL;
}

/* ---- inputs ---- */
/* Element (r, k) of an operand stored row-major as X[rows][K] (trans 0) or X[K][rows] (trans 1). */
static double at(const double *X, int trans, int rows, int K, int r, int k) {
  return trans ? X[(size_t)k * rows + r] : X[(size_t)r * K + k];
}

/* Copies an operand into Q[rows][K] (contiguous along K) and rounds it: returns the tensor scale
 * the values are divided by (1 when the format has none). */
static double quantize_operand(nm_fmt f, const double *X, int trans, int rows, int K, double *Q) {
  for (int r = 0; r < rows; r++)
    for (int k = 0; k < K; k++) Q[(size_t)r * K + k] = at(X, trans, rows, K, r, k);
  size_t n = (size_t)rows * K;
  double s = 1;
  if (nm_fmt_scaled(f)) {
    s = nm_tensor_scale(f, Q, n);
    for (size_t i = 0; i < n; i++) Q[i] /= s;
  }
  if (nm_fmt_is_mx(f))
    for (int r = 0; r < rows; r++) nm_quantize(f, Q + (size_t)r * K, (size_t)K);
  else
    nm_quantize(f, Q, n);
  return s;
}

static double acc_round(nm_fmt acc, double x) { return acc == NM_FP64 ? x : nm_round(acc, x); }

/* The core on quantized operands: C[i][j] = out(acc(sum over chunks) * scale). */
static void core_loops(const nm_gemm_fmt *g, int M, int N, int K, const double *Aq, const double *Bq, double scale,
                       double *C) {
  const int kc = g->kchunk > 0 ? g->kchunk : K;
  const nm_fmt acc = g->acc;
  for (int i = 0; i < M; i++) {
    const double *a = Aq + (size_t)i * K;
    int j = 0;
    for (; j + 4 <= N; j += 4) { /* four outputs at once, each summed in the reference's order */
      const double *b0 = Bq + (size_t)j * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
      double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (int k0 = 0; k0 < K; k0 += kc) {
        int k1 = k0 + kc < K ? k0 + kc : K;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int k = k0; k < k1; k++) {
          s0 += a[k] * b0[k];
          s1 += a[k] * b1[k];
          s2 += a[k] * b2[k];
          s3 += a[k] * b3[k];
        }
        c0 = acc_round(acc, c0 + acc_round(acc, s0));
        c1 = acc_round(acc, c1 + acc_round(acc, s1));
        c2 = acc_round(acc, c2 + acc_round(acc, s2));
        c3 = acc_round(acc, c3 + acc_round(acc, s3));
      }
      double *c = C + (size_t)i * N + j;
      c[0] = nm_round(g->out, c0 * scale);
      c[1] = nm_round(g->out, c1 * scale);
      c[2] = nm_round(g->out, c2 * scale);
      c[3] = nm_round(g->out, c3 * scale);
    }
    for (; j < N; j++) {
      const double *b = Bq + (size_t)j * K;
      double c = 0;
      for (int k0 = 0; k0 < K; k0 += kc) {
        int k1 = k0 + kc < K ? k0 + kc : K;
        double s = 0;
        for (int k = k0; k < k1; k++) s += a[k] * b[k];
        c = acc_round(acc, c + acc_round(acc, s));
      }
      C[(size_t)i * N + j] = nm_round(g->out, c * scale);
    }
  }
}

static sl_status gemm_impl(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans,
                           const double *B, int b_trans, double *C, int allow_blas) {
  if (M <= 0 || N <= 0) return SL_OK;
  if (K <= 0) {
    memset(C, 0, (size_t)M * N * sizeof *C);
    return SL_OK;
  }
  double *Aq = malloc((size_t)M * K * sizeof *Aq), *Bq = malloc((size_t)N * K * sizeof *Bq);
  if (!Aq || !Bq) {
    free(Aq);
    free(Bq);
    return SL_ERR_INTERNAL;
  }
  /* B[K][N] is Bt[N][K] transposed: read it as rows of N with the opposite flag. */
  double scale = quantize_operand(g->in, A, a_trans, M, K, Aq) * quantize_operand(g->in, B, !b_trans, N, K, Bq);
  sl_status s = SL_OK;
  int blas = allow_blas && nm_blas_available() &&
             ((g->acc == NM_FP32 && g->in != NM_FP64) || (g->acc == NM_FP64));
  if (blas && g->acc == NM_FP64) {
    blas_dgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, M, N, K, 1.0, Aq, K, Bq, K, 0.0, C, N);
    for (size_t i = 0; i < (size_t)M * N; i++) C[i] = nm_round(g->out, C[i] * scale);
  } else if (blas) {
    float *Af = malloc((size_t)M * K * sizeof *Af), *Bf = malloc((size_t)N * K * sizeof *Bf),
          *Cf = malloc((size_t)M * N * sizeof *Cf);
    if (Af && Bf && Cf) {
      for (size_t i = 0; i < (size_t)M * K; i++) Af[i] = (float)Aq[i];
      for (size_t i = 0; i < (size_t)N * K; i++) Bf[i] = (float)Bq[i];
      blas_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, M, N, K, 1.0f, Af, K, Bf, K, 0.0f, Cf, N);
      for (size_t i = 0; i < (size_t)M * N; i++) C[i] = nm_round(g->out, (double)Cf[i] * scale);
    } else {
      s = SL_ERR_INTERNAL;
    }
    free(Af);
    free(Bf);
    free(Cf);
  } else {
    core_loops(g, M, N, K, Aq, Bq, scale, C);
  }
  free(Aq);
  free(Bq);
  return s;
}

sl_status nm_gemm(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans, const double *B,
                  int b_trans, double *C) {
  return gemm_impl(g, M, N, K, A, a_trans, B, b_trans, C, 1);
}

sl_status nm_gemm_loops(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans, const double *B,
                        int b_trans, double *C) {
  return gemm_impl(g, M, N, K, A, a_trans, B, b_trans, C, 0);
}

/* Reference: no copies, no blocking.  Only the tensor or block scales are found first (they depend
 * on whole tensors or blocks); each input is rounded where it is read. */
sl_status nm_gemm_ref(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans, const double *B,
                      int b_trans, double *C) {
  const nm_fmt in = g->in, el = nm_fmt_element(in);
  double sa = 1, sb = 1;
  if (nm_fmt_scaled(in)) {
    double amax_a = 0, amax_b = 0;
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) amax_a = fmax(amax_a, fabs(at(A, a_trans, M, K, i, k)));
    for (int j = 0; j < N; j++)
      for (int k = 0; k < K; k++) amax_b = fmax(amax_b, fabs(at(B, !b_trans, N, K, j, k)));
    sa = nm_tensor_scale(in, &amax_a, 1);
    sb = nm_tensor_scale(in, &amax_b, 1);
  }
  const int kc = g->kchunk > 0 ? g->kchunk : K;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double c = 0;
      for (int k0 = 0; k0 < K; k0 += kc) {
        int k1 = k0 + kc < K ? k0 + kc : K;
        double s = 0;
        for (int k = k0; k < k1; k++) {
          double a = at(A, a_trans, M, K, i, k) / sa, b = at(B, !b_trans, N, K, j, k) / sb;
          if (nm_fmt_is_mx(in)) { /* the block of 32 along K that holds k */
            int kb = k / NM_MX_BLOCK * NM_MX_BLOCK, len = K - kb < NM_MX_BLOCK ? K - kb : NM_MX_BLOCK;
            double ba[NM_MX_BLOCK], bb[NM_MX_BLOCK];
            for (int t = 0; t < len; t++) {
              ba[t] = at(A, a_trans, M, K, i, kb + t);
              bb[t] = at(B, !b_trans, N, K, j, kb + t);
            }
            int ea = nm_mx_scale_exp(in, ba, (size_t)len), eb = nm_mx_scale_exp(in, bb, (size_t)len);
            a = ldexp(nm_round(el, ldexp(a, -ea)), ea);
            b = ldexp(nm_round(el, ldexp(b, -eb)), eb);
          } else {
            a = nm_round(in, a);
            b = nm_round(in, b);
          }
          s += a * b;
        }
        c = acc_round(g->acc, c + acc_round(g->acc, s));
      }
      C[(size_t)i * N + j] = nm_round(g->out, c * (sa * sb));
    }
  return SL_OK;
}

/* ---- scratch and products of the executors (model.c, dlrm.c) ---- */
double *nm_work_tmp(nm_work *w, size_t n) {
  double *p = ar_alloc(&w->scratch, (n ? n : 1) * sizeof(double));
  if (!p) w->oom = 1;
  return p;
}

void nm_work_mm(nm_work *w, const nm_prec *p, const nm_gemm_fmt *g, int M, int N, int K, const double *A, int at,
                const double *B, int bt, double *C, int add) {
  if (w->oom) return;
  double *out = add ? nm_work_tmp(w, (size_t)M * N) : C;
  if (!out || nm_gemm(g, M, N, K, A, at, B, bt, out) != SL_OK) {
    w->oom = 1;
    return;
  }
  if (add)
    for (size_t i = 0; i < (size_t)M * N; i++) C[i] = nm_rv(p, C[i] + out[i]);
}
