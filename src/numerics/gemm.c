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
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int,
                         double, double *, int);
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
    for (int k = 0; k < K; k++)
      Q[(size_t)r * K + k] = at(X, trans, rows, K, r, k);
  size_t n = (size_t)rows * K;
  double s = 1;
  if (nm_fmt_scaled(f)) {
    s = nm_tensor_scale(f, Q, n);
    for (size_t i = 0; i < n; i++)
      Q[i] /= s;
  }
  if (nm_fmt_is_mx(f))
    for (int r = 0; r < rows; r++)
      nm_quantize(f, Q + (size_t)r * K, (size_t)K);
  else
    nm_quantize(f, Q, n);
  return s;
}

/* Rounding to the accumulation format, inlined: fp64 is kept, fp32 is a cast, the narrower float
 * formats (tf32, bf16, fp16) round on the double's bit pattern inside their normal range below the
 * top binade (as nm_round's fast path) and call nm_round for everything else (zero, subnormals,
 * the top binade, inf, NaN).  One value per accumulator step: this is the inner loop of a
 * narrow-accumulator product. */
typedef struct acc_rnd {
  nm_fmt f;
  int kind;           /* 0 keep, 1 fp32 cast, 2 bit pattern, 3 nm_round */
  int sh;             /* dropped mantissa bits of the double */
  unsigned elo, span; /* biased double exponents [elo, elo + span) take the bit path */
  uint64_t half, mask;
} acc_rnd;

static acc_rnd acc_rnd_make(nm_fmt f) {
  int kind = f == NM_FP64 ? 0 : f == NM_FP32 ? 1 : (f == NM_TF32 || f == NM_BF16 || f == NM_FP16) ? 2 : 3;
  acc_rnd r = {f, kind, 0, 0, 0, 0, 0};
  if (r.kind == 2) { /* nm_round's fast-path range: exponents [emin, emax), emax that of the largest value */
    int emax, emin;
    frexp(nm_fmt_max(f), &emax); /* max in [2^(emax-1), 2^emax) */
    emax -= 1;
    emin = f == NM_FP16 ? -14 : -126;
    int mbits = f == NM_BF16 ? 7 : 10; /* tf32 and fp16 keep 10 bits, bf16 7 */
    r.sh = 52 - mbits;
    r.elo = (unsigned)(emin + 1023);
    r.span = (unsigned)(emax - emin);
    r.half = ((uint64_t)1 << (r.sh - 1)) - 1;
    r.mask = ~(((uint64_t)1 << r.sh) - 1);
  }
  return r;
}

static inline double acc_rnd_do(const acc_rnd *r, double x) {
  if (r->kind == 0) return x;
  if (r->kind == 1) return (double)(float)x;
  if (r->kind == 3) return nm_round(r->f, x);
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  unsigned e = (unsigned)(u >> 52) & 0x7ffu;
  if (e - r->elo < r->span) {
    u = (u + r->half + ((u >> r->sh) & 1)) & r->mask;
    memcpy(&x, &u, sizeof x);
    return x;
  }
  return nm_round(r->f, x);
}

/* A product accumulated one MAC at a time (K-chunk 1) in a narrow format: C = R(C + R(a*b)) per
 * term, eight outputs side by side to hide the latency of each accumulator's chain. */
static void core_k1(const acc_rnd *r, nm_fmt out, int M, int N, int K, const double *Aq, const double *Bq,
                    double scale, double *C) {
  for (int i = 0; i < M; i++) {
    const double *a = Aq + (size_t)i * K;
    int j = 0;
    for (; j + 8 <= N; j += 8) {
      const double *b = Bq + (size_t)j * K;
      double c[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int k = 0; k < K; k++)
        for (int t = 0; t < 8; t++)
          c[t] = acc_rnd_do(r, c[t] + acc_rnd_do(r, a[k] * b[(size_t)t * K + k]));
      for (int t = 0; t < 8; t++)
        C[(size_t)i * N + j + t] = nm_round(out, c[t] * scale);
    }
    for (; j < N; j++) {
      const double *b = Bq + (size_t)j * K;
      double c = 0;
      for (int k = 0; k < K; k++)
        c = acc_rnd_do(r, c + acc_rnd_do(r, a[k] * b[k]));
      C[(size_t)i * N + j] = nm_round(out, c * scale);
    }
  }
}

/* The same, fast, when every input has at most 12 significant bits (bf16, fp16, tf32, the fp8, fp6
 * and fp4 formats, int8, MX elements) and the accumulator is bf16, tf32 or fp16: a product is then
 * exact in fp32, and a sum of two accumulator values rounded to fp32 first and to the accumulator
 * next is rounded once (fp32's 24 bits >= 2 x 11 + 2: double rounding is innocuous, Figueroa 1995).
 * So the loop runs in fp32 on 4-wide vectors (GCC/Clang vector extensions: SSE2, NEON) with the
 * rounding on the float's bit pattern.  Any lane that leaves the accumulator's normal range below
 * its top binade (subnormal, overflow, inf, NaN) marks its block, which the scalar path recomputes;
 * so the result is the scalar path's, bit for bit.  Returns 0 (nothing done) when the operands do
 * not fit fp32 exactly or memory is short. */
typedef float v4f __attribute__((vector_size(16)));
typedef uint32_t v4u __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#define K1_W 16 /* outputs per block: four vectors, independent chains */

static inline v4f k1_round(v4f x, int sh, uint32_t elo, uint32_t span, v4i *bad) {
  v4u u;
  memcpy(&u, &x, sizeof u);
  v4u e = (u >> 23) & 0xffu;
  *bad |= (v4i)((e - elo) >= span) & (v4i)((u << 1) != 0); /* zero rounds right on the bit path */
  u = (u + ((1u << (sh - 1)) - 1) + ((u >> sh) & 1u)) & ~((1u << sh) - 1);
  memcpy(&x, &u, sizeof x);
  return x;
}

static int core_k1_f32(const acc_rnd *r, nm_fmt in, nm_fmt out, int M, int N, int K, const double *Aq,
                       const double *Bq, double scale, double *C) {
  nm_fmt el = nm_fmt_element(in);
  if (el == NM_FP32 || el == NM_FP64) return 0;
  for (size_t i = 0; i < (size_t)M * K; i++)
    if ((double)(float)Aq[i] != Aq[i]) return 0;
  for (size_t i = 0; i < (size_t)N * K; i++)
    if ((double)(float)Bq[i] != Bq[i]) return 0;
  const int Np = (N + K1_W - 1) / K1_W * K1_W;
  float *Bt = calloc((size_t)K * Np, sizeof *Bt); /* Bt[k][j], zero past N */
  if (!Bt) return 0;
  for (int j = 0; j < N; j++)
    for (int k = 0; k < K; k++)
      Bt[(size_t)k * Np + j] = (float)Bq[(size_t)j * K + k];
  /* the accumulator in fp32 terms: dropped bits, normal exponents [elo, elo + span) below the top */
  const int sh = r->f == NM_BF16 ? 16 : 13;
  const uint32_t elo = r->f == NM_FP16 ? 127 - 14 : 1, span = r->f == NM_FP16 ? 29 : 253;
  for (int i = 0; i < M; i++) {
    const double *a = Aq + (size_t)i * K;
    for (int j0 = 0; j0 < N; j0 += K1_W) {
      v4f c[4] = {{0}, {0}, {0}, {0}};
      v4i bad = {0};
      for (int k = 0; k < K; k++) {
        const float ak = (float)a[k];
        const float *b = Bt + (size_t)k * Np + j0;
        for (int t = 0; t < 4; t++) {
          v4f bv;
          memcpy(&bv, b + 4 * t, sizeof bv);
          v4f p = k1_round(ak * bv, sh, elo, span, &bad);
          c[t] = k1_round(c[t] + p, sh, elo, span, &bad);
        }
      }
      int n = N - j0 < K1_W ? N - j0 : K1_W;
      if (bad[0] | bad[1] | bad[2] | bad[3]) { /* leave this block to the scalar path */
        for (int t = 0; t < n; t++) {
          const double *bq = Bq + (size_t)(j0 + t) * K;
          double cs = 0;
          for (int k = 0; k < K; k++)
            cs = acc_rnd_do(r, cs + acc_rnd_do(r, a[k] * bq[k]));
          C[(size_t)i * N + j0 + t] = nm_round(out, cs * scale);
        }
        continue;
      }
      for (int t = 0; t < n; t++)
        C[(size_t)i * N + j0 + t] = nm_round(out, (double)c[t / 4][t % 4] * scale);
    }
  }
  free(Bt);
  return 1;
}

/* The core on quantized operands: C[i][j] = out(acc(sum over chunks) * scale). */
static void core_loops(const nm_gemm_fmt *g, int M, int N, int K, const double *Aq, const double *Bq,
                       double scale, double *C) {
  const int kc = g->kchunk > 0 ? g->kchunk : K;
  const acc_rnd rr = acc_rnd_make(g->acc), *r = &rr;
  if (kc == 1 && r->kind == 2) {
    if (!core_k1_f32(r, g->in, g->out, M, N, K, Aq, Bq, scale, C))
      core_k1(r, g->out, M, N, K, Aq, Bq, scale, C);
    return;
  }
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
        c0 = acc_rnd_do(r, c0 + acc_rnd_do(r, s0));
        c1 = acc_rnd_do(r, c1 + acc_rnd_do(r, s1));
        c2 = acc_rnd_do(r, c2 + acc_rnd_do(r, s2));
        c3 = acc_rnd_do(r, c3 + acc_rnd_do(r, s3));
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
        for (int k = k0; k < k1; k++)
          s += a[k] * b[k];
        c = acc_rnd_do(r, c + acc_rnd_do(r, s));
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
  double scale =
      quantize_operand(g->in, A, a_trans, M, K, Aq) * quantize_operand(g->in, B, !b_trans, N, K, Bq);
  sl_status s = SL_OK;
  int blas =
      allow_blas && nm_blas_available() && ((g->acc == NM_FP32 && g->in != NM_FP64) || (g->acc == NM_FP64));
  if (blas && g->acc == NM_FP64) {
    blas_dgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, M, N, K, 1.0, Aq, K, Bq, K, 0.0, C, N);
    for (size_t i = 0; i < (size_t)M * N; i++)
      C[i] = nm_round(g->out, C[i] * scale);
  } else if (blas) {
    float *Af = malloc((size_t)M * K * sizeof *Af), *Bf = malloc((size_t)N * K * sizeof *Bf),
          *Cf = malloc((size_t)M * N * sizeof *Cf);
    if (Af && Bf && Cf) {
      for (size_t i = 0; i < (size_t)M * K; i++)
        Af[i] = (float)Aq[i];
      for (size_t i = 0; i < (size_t)N * K; i++)
        Bf[i] = (float)Bq[i];
      blas_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, M, N, K, 1.0f, Af, K, Bf, K, 0.0f, Cf, N);
      for (size_t i = 0; i < (size_t)M * N; i++)
        C[i] = nm_round(g->out, (double)Cf[i] * scale);
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

sl_status nm_gemm_loops(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans,
                        const double *B, int b_trans, double *C) {
  return gemm_impl(g, M, N, K, A, a_trans, B, b_trans, C, 0);
}

static double ref_round(nm_fmt f, double x) {
  return f == NM_FP64 ? x : nm_round_ref(f, x);
}

/* Reference: no copies, no blocking, every rounding by the general method (nm_round_ref).  Only
 * the tensor or block scales are found first (they depend on whole tensors or blocks); each input
 * is rounded where it is read. */
sl_status nm_gemm_ref(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans,
                      const double *B, int b_trans, double *C) {
  const nm_fmt in = g->in, el = nm_fmt_element(in);
  double sa = 1, sb = 1;
  if (nm_fmt_scaled(in)) {
    double amax_a = 0, amax_b = 0;
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++)
        amax_a = fmax(amax_a, fabs(at(A, a_trans, M, K, i, k)));
    for (int j = 0; j < N; j++)
      for (int k = 0; k < K; k++)
        amax_b = fmax(amax_b, fabs(at(B, !b_trans, N, K, j, k)));
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
            a = ldexp(ref_round(el, ldexp(a, -ea)), ea);
            b = ldexp(ref_round(el, ldexp(b, -eb)), eb);
          } else {
            a = ref_round(in, a);
            b = ref_round(in, b);
          }
          s += a * b;
        }
        c = ref_round(g->acc, c + ref_round(g->acc, s));
      }
      C[(size_t)i * N + j] = ref_round(g->out, c * (sa * sb));
    }
  return SL_OK;
}

/* ---- scratch and products of the executors (model.c, dlrm.c) ---- */
double *nm_work_tmp(nm_work *w, size_t n) {
  double *p = ar_alloc(&w->scratch, (n ? n : 1) * sizeof(double));
  if (!p) w->oom = 1;
  return p;
}

void nm_work_mm(nm_work *w, const nm_prec *p, const nm_gemm_fmt *g, int M, int N, int K, const double *A,
                int at, const double *B, int bt, double *C, int add) {
  if (w->oom) return;
  double *out = add ? nm_work_tmp(w, (size_t)M * N) : C;
  if (!out || nm_gemm(g, M, N, K, A, at, B, bt, out) != SL_OK) {
    w->oom = 1;
    return;
  }
  if (add)
    for (size_t i = 0; i < (size_t)M * N; i++)
      C[i] = nm_rv(p, C[i] + out[i]);
}
