/* test_numerics.c — number formats and emulated matrix products (src/numerics/format.c, gemm.c):
 * every code of the 8-bit and narrower formats round-trips, points between codes round as a brute
 * force nearest-even search says, 16-bit formats round-trip on all codes and agree with bit
 * tricks on fp32, MX blocks hold their invariants, and the blocked GEMM is bit-exact against the
 * scalar reference (the OpenBLAS path within fp32 rounding of it). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "numerics/numerics.h"

static const nm_fmt SMALL[] = {NM_E4M3, NM_E5M2, NM_E2M3, NM_E3M2, NM_E2M1};

/* Brute force: the code nearest to x among all finite codes, ties to the even code; formats with
 * inf round to inf past max + ulp/2 (the virtual next grid value), saturating ones to max. */
static double ref_round8(nm_fmt f, double x) {
  int bits = nm_fmt_bits(f);
  double best = NAN, bd = INFINITY;
  int bcode = -1;
  for (int c = 0; c < (1 << bits); c++) {
    double v = nm_decode8(f, (uint8_t)c);
    if (!isfinite(v) || (v == 0 && signbit(v) != signbit(x))) continue;
    if ((v > 0 && x < 0) || (v < 0 && x > 0)) continue;
    double d = fabs(x - v);
    if (d < bd || (d == bd && (c & 1) == 0 && (bcode & 1) == 1)) bd = d, best = v, bcode = c;
  }
  double mx = nm_fmt_max(f);
  if (fabs(x) > mx) /* e5m2: inf is the grid point after max (2^16) and has the even code */
    return f == NM_E5M2 && fabs(x) >= (mx + 65536.0) / 2 ? copysign(INFINITY, x) : copysign(mx, x);
  return best;
}

static void check_point(nm_fmt f, double x) {
  double got = nm_decode8(f, nm_encode8(f, x)), want = ref_round8(f, x), r = nm_round(f, x);
  if (!(got == want && signbit(got) == signbit(want)) || !(r == want))
    fail_msg("%s: %.17g -> %.17g, reference %.17g (nm_round %.17g)", nm_fmt_names[f], x, got, want, r);
}

static void test_small_formats_exhaustive(void **state) {
  (void)state;
  uint64_t rng = 7;
  for (size_t fi = 0; fi < SL_ARRAY_LEN(SMALL); fi++) {
    nm_fmt f = SMALL[fi];
    int n = 1 << nm_fmt_bits(f);
    double vals[256];
    int nv = 0;
    for (int c = 0; c < n; c++) { /* every code decodes and encodes back */
      double v = nm_decode8(f, (uint8_t)c);
      uint8_t back = nm_encode8(f, v);
      if (isnan(v))
        assert_true(isnan(nm_decode8(f, back)));
      else
        assert_int_equal(back, c);
      if (isfinite(v) && !signbit(v)) vals[nv++] = v;
    }
    for (int i = 0; i < nv; i++) /* sort the non-negative values */
      for (int j = i + 1; j < nv; j++)
        if (vals[j] < vals[i]) {
          double t = vals[i];
          vals[i] = vals[j];
          vals[j] = t;
        }
    for (int i = 0; i + 1 < nv; i++) {
      double a = vals[i], b = vals[i + 1], mid = (a + b) / 2;
      double pts[8] = {mid,
                       nextafter(mid, 0),
                       nextafter(mid, INFINITY),
                       a + (b - a) / 64,
                       b - (b - a) / 64,
                       nextafter(a, INFINITY),
                       nextafter(b, 0),
                       a + (b - a) * 0.3};
      for (int k = 0; k < 8; k++) {
        check_point(f, pts[k]);
        check_point(f, -pts[k]);
      }
      for (int k = 1; k < 64; k++) { /* 63 evenly spaced and 16 random points of the interval */
        check_point(f, a + (b - a) * k / 64);
        check_point(f, -(a + (b - a) * k / 64));
      }
      for (int k = 0; k < 16; k++)
        check_point(f, a + (b - a) * (double)(nm_rand_u64(&rng) >> 11) / 9007199254740992.0);
    }
    double mx = nm_fmt_max(f);
    double beyond[] = {mx * 1.0625, mx * 1.125, mx * 1.2, mx * 2, 1e30, 1e-30, 0.0};
    for (size_t k = 0; k < SL_ARRAY_LEN(beyond); k++) {
      check_point(f, beyond[k]);
      check_point(f, -beyond[k]);
    }
  }
  /* the formats' published extremes (OCP 8-bit FP spec; OCP MX v1.0 table 1) */
  assert_true(nm_fmt_max(NM_E4M3) == 448 && nm_fmt_max(NM_E5M2) == 57344 && nm_fmt_max(NM_E2M3) == 7.5 &&
              nm_fmt_max(NM_E3M2) == 28 && nm_fmt_max(NM_E2M1) == 6);
  assert_true(nm_decode8(NM_E4M3, 0x01) == ldexp(1, -9) && nm_decode8(NM_E5M2, 0x01) == ldexp(1, -16));
  assert_true(nm_round(NM_E4M3, 1e6) == 448 && isinf(nm_round(NM_E5M2, 1e6)) &&
              nm_round(NM_E2M1, -100) == -6);
  assert_true(isnan(nm_decode8(NM_E4M3, 0x7f)) && nm_decode8(NM_E4M3, 0x7e) == 448);
}

/* bf16 and tf32 rounding of fp32 inputs by the usual bit trick (round to nearest even on bits). */
static float bits_round(float x, int drop) {
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return x;
  uint32_t half = (1u << (drop - 1)) - 1 + ((u >> drop) & 1);
  u = (u + half) & ~((1u << drop) - 1);
  memcpy(&x, &u, 4);
  return x;
}

static void test_wide_formats(void **state) {
  (void)state;
  for (int c = 0; c < 65536; c++) { /* bf16 and fp16: every code round-trips */
    nm_fmt fs[2] = {NM_BF16, NM_FP16};
    for (int k = 0; k < 2; k++) {
      double v = nm_decode16(fs[k], (uint16_t)c);
      if (isnan(v)) continue;
      assert_int_equal(nm_encode16(fs[k], v), c);
      assert_true(nm_round(fs[k], v) == v);
    }
  }
  uint64_t rng = 3;
  for (int i = 0; i < 200000; i++) { /* random fp32 bit patterns against the bit trick */
    uint32_t u = (uint32_t)nm_rand_u64(&rng);
    float x;
    memcpy(&x, &u, 4);
    if (isnan(x)) continue;
    assert_true(nm_round(NM_BF16, x) == (double)bits_round(x, 16) || isinf(bits_round(x, 16)));
    assert_true(nm_round(NM_TF32, x) == (double)bits_round(x, 13));
    double h = nm_round(NM_FP16, x); /* fp16 against C's own conversion through float is not */
    assert_true(isinf(h) || nm_round(NM_FP16, h) == h); /* available in C11: idempotence */
  }
  assert_true(nm_round(NM_FP16, 65519.99) == 65504 && isinf(nm_round(NM_FP16, 65520)));
  assert_true(nm_round(NM_FP16, ldexp(1, -24)) == ldexp(1, -24) && nm_round(NM_FP16, ldexp(1, -26)) == 0);
  assert_true(nm_round(NM_FP32, 1 + ldexp(1, -24)) == 1 && nm_round(NM_INT8, 2.5) == 2 &&
              nm_round(NM_INT8, -300) == -127);
  assert_int_equal(nm_fmt_from_name("fp8"), NM_E4M3);
  assert_int_equal(nm_fmt_from_name("nope"), -1);
}

/* nm_round's bit-pattern path against the general method: random doubles over every exponent a
 * format can meet (subnormals, top binade and overflow included) and exact ties and their
 * neighbours, both signs; the results must be the same double (sign of zero included). */
static void test_fast_round_matches_ref(void **state) {
  (void)state;
  static const nm_fmt FS[] = {NM_TF32, NM_BF16, NM_FP16, NM_E4M3, NM_E5M2,
                              NM_E2M3, NM_E3M2, NM_E2M1, NM_FP32};
  uint64_t rng = 11;
  for (size_t fi = 0; fi < SL_ARRAY_LEN(FS); fi++) {
    nm_fmt f = FS[fi];
    for (int i = 0; i < 300000; i++) {
      uint64_t r = nm_rand_u64(&rng);
      int e = (int)(r % 320) - 160; /* 2^-160 .. 2^159 */
      double m = 1 + (double)(nm_rand_u64(&rng) >> 11) * 0x1p-53;
      double x = ldexp(m, e) * ((r >> 40) & 1 ? -1 : 1);
      if ((r >> 41) % 4 == 0) { /* a tie of the format, or one double ulp either side */
        double g = nm_round_ref(f, x);
        if (isfinite(g) && g != 0) {
          int ge;
          frexp(g, &ge);
          double q = ldexp(1, ge - 1 -
                                  (f == NM_TF32   ? 10
                                   : f == NM_BF16 ? 7
                                   : f == NM_FP16 ? 10
                                   : f == NM_E4M3 ? 3
                                   : f == NM_E5M2 ? 2
                                   : f == NM_E2M3 ? 3
                                   : f == NM_E3M2 ? 2
                                   : f == NM_E2M1 ? 1
                                                  : 23));
          x = g + q / 2;
          int k = (int)((r >> 44) % 3);
          if (k == 1) x = nextafter(x, INFINITY);
          if (k == 2) x = nextafter(x, -INFINITY);
        }
      }
      double a = nm_round(f, x), b = nm_round_ref(f, x);
      if (!(a == b && signbit(a) == signbit(b)) && !(isnan(a) && isnan(b)))
        fail_msg("%s: %.17g -> %.17g, general method %.17g", nm_fmt_names[f], x, a, b);
    }
  }
}

static void test_mx_blocks(void **state) {
  (void)state;
  uint64_t rng = 11;
  nm_fmt mx[] = {NM_MXFP8, NM_MXFP8_E5M2, NM_MXFP6, NM_MXFP6_E3M2, NM_MXFP4};
  for (size_t fi = 0; fi < SL_ARRAY_LEN(mx); fi++) {
    double x[70], q[70];
    for (int i = 0; i < 70; i++)
      x[i] = nm_rand_normal(&rng) * (i < 32 ? 1e-3 : 50);
    memcpy(q, x, sizeof q);
    nm_quantize(mx[fi], q, 70);
    nm_fmt el = nm_fmt_element(mx[fi]);
    for (int b = 0; b < 70; b += 32) {
      int len = 70 - b < 32 ? 70 - b : 32;
      int s = nm_mx_scale_exp(mx[fi], x + b, (size_t)len);
      double amax = 0;
      for (int i = b; i < b + len; i++)
        amax = fmax(amax, fabs(x[i]));
      /* the scale puts amax in the element's top binade: amax / 2^s in [2^emax, 2^(emax+1)) */
      assert_true(amax / ldexp(1, s) < 2 * nm_fmt_max(el) && amax / ldexp(1, s) >= nm_fmt_max(el) / 2);
      for (int i = b; i < b + len; i++) {
        double e = ldexp(q[i], -s);
        assert_true(nm_round(el, e) == e); /* an element value times 2^s */
        assert_true(fabs(q[i] - x[i]) <= fabs(x[i]) * 0.5 + ldexp(0.25, s));
      }
    }
    double again[70];
    memcpy(again, q, sizeof q);
    nm_quantize(mx[fi], again, 70);
    assert_memory_equal(again, q, sizeof q); /* idempotent */
  }
  double z[32] = {0};
  assert_int_equal(nm_mx_scale_exp(NM_MXFP4, z, 32), 0);
}

static void fill(double *x, size_t n, uint64_t *rng, double scale) {
  for (size_t i = 0; i < n; i++)
    x[i] = scale * nm_rand_normal(rng);
}

static void test_gemm_bit_exact(void **state) {
  (void)state;
  const nm_gemm_fmt cases[] = {
      {NM_FP32, NM_FP32, NM_FP32, 32},
      {NM_BF16, NM_FP32, NM_FP32, 16},
      {NM_BF16, NM_BF16, NM_FP32, 16},
      {NM_FP16, NM_FP16, NM_FP32, 32},
      {NM_E4M3, NM_FP32, NM_FP32, 32},
      {NM_E5M2, NM_BF16, NM_BF16, 8},
      {NM_INT8, NM_FP32, NM_FP32, 32},
      {NM_MXFP4, NM_FP32, NM_FP32, 32},
      {NM_MXFP6, NM_BF16, NM_FP32, 16},
      {NM_MXFP8, NM_FP32, NM_FP32, 64},
      {NM_TF32, NM_TF32, NM_FP32, 4},
      {NM_FP64, NM_FP64, NM_FP64, 1},
      /* one MAC at a time into a narrow accumulator (the eight-wide path of the loops) */
      {NM_BF16, NM_BF16, NM_FP32, 1},
      {NM_FP16, NM_FP16, NM_FP32, 1},
      {NM_E4M3, NM_TF32, NM_BF16, 1},
      {NM_BF16, NM_FP16, NM_FP16, 1}};
  uint64_t rng = 5;
  const int M = 7, N = 9, K = 70;
  double A[7 * 70], B[70 * 9], C1[7 * 9], C2[7 * 9], C3[7 * 9];
  for (size_t ci = 0; ci < SL_ARRAY_LEN(cases); ci++)
    for (int tr = 0; tr < 4; tr++) {
      fill(A, SL_ARRAY_LEN(A), &rng, 3);
      fill(B, SL_ARRAY_LEN(B), &rng, 0.01);
      int at = tr & 1, bt = tr >> 1;
      assert_int_equal(nm_gemm_ref(&cases[ci], M, N, K, A, at, B, bt, C1), SL_OK);
      assert_int_equal(nm_gemm_loops(&cases[ci], M, N, K, A, at, B, bt, C2), SL_OK);
      if (memcmp(C1, C2, sizeof C1) != 0)
        fail_msg("%s/%s kchunk %d trans %d: blocked loops differ from the reference",
                 nm_fmt_names[cases[ci].in], nm_fmt_names[cases[ci].acc], cases[ci].kchunk, tr);
      assert_int_equal(nm_gemm(&cases[ci], M, N, K, A, at, B, bt, C3), SL_OK);
      if (cases[ci].acc == NM_FP32 || cases[ci].acc == NM_FP64) /* BLAS: another summation order */
        for (int i = 0; i < M * N; i++)
          assert_true(fabs(C3[i] - C1[i]) <= 1e-5 * (fabs(C1[i]) + 1e-3));
      else
        assert_memory_equal(C1, C3, sizeof C1);
    }
  /* bf16 accumulation loses what fp32 keeps: 1 + 64 x 2^-9 stays 1 + 2^-3 in fp32, not in bf16 */
  double ones[64], small[64], c32, c16;
  for (int i = 0; i < 64; i++)
    ones[i] = 1, small[i] = i ? ldexp(1, -9) : 1;
  nm_gemm_fmt g32 = {NM_BF16, NM_FP32, NM_FP32, 1}, g16 = {NM_BF16, NM_BF16, NM_FP32, 1};
  nm_gemm_loops(&g32, 1, 1, 64, ones, 0, small, 0, &c32);
  nm_gemm_loops(&g16, 1, 1, 64, ones, 0, small, 0, &c16);
  assert_true(c32 == 1 + 63 * ldexp(1, -9) && c16 == 1);
  /* fp16 accumulators pushed past their range: overflow to inf, subnormal and zero sums (the
   * fast paths hand these to the general rounding) */
  const nm_gemm_fmt edge[] = {{NM_FP16, NM_FP16, NM_FP32, 1}, {NM_FP16, NM_FP16, NM_FP32, 8}};
  const double scales[][2] = {{300, 300}, {1e-3, 1e-3}, {1e-5, 1e-4}};
  for (size_t ci = 0; ci < SL_ARRAY_LEN(edge); ci++)
    for (size_t si = 0; si < SL_ARRAY_LEN(scales); si++) {
      fill(A, SL_ARRAY_LEN(A), &rng, scales[si][0]);
      fill(B, SL_ARRAY_LEN(B), &rng, scales[si][1]);
      assert_int_equal(nm_gemm_ref(&edge[ci], M, N, K, A, 0, B, 0, C1), SL_OK);
      assert_int_equal(nm_gemm_loops(&edge[ci], M, N, K, A, 0, B, 0, C2), SL_OK);
      for (int i = 0; i < M * N; i++) /* NaN (inf - inf) compares unequal: compare the bits */
        if (memcmp(&C1[i], &C2[i], sizeof C1[i]) != 0 && !(isnan(C1[i]) && isnan(C2[i])))
          fail_msg("fp16 accumulation, kchunk %d, scales %g/%g: element %d %.17g vs %.17g", edge[ci].kchunk,
                   scales[si][0], scales[si][1], i, C1[i], C2[i]);
    }
  print_message("OpenBLAS %s\n", nm_blas_available() ? "loaded" : "not found: blocked loops only");
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_small_formats_exhaustive),
                                     cmocka_unit_test(test_wide_formats),
                                     cmocka_unit_test(test_fast_round_matches_ref),
                                     cmocka_unit_test(test_mx_blocks), cmocka_unit_test(test_gemm_bit_exact)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
