/* format.c — number formats with exact rounding: IEEE-style minifloats (round to nearest, ties to
 * even, subnormals, inf or saturation on overflow), int8 with a scale, and the OCP MX block
 * formats (32 elements sharing an E8M0 power-of-two scale; OCP MX specification v1.0). */
#include "numerics/numerics.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

const char *const nm_fmt_names[] = {"fp64",       "fp32",  "tf32",       "bf16",  "fp16", "e4m3",
                                    "e5m2",       "e2m3",  "e3m2",       "e2m1",  "int8", "mxfp8",
                                    "mxfp8-e5m2", "mxfp6", "mxfp6-e3m2", "mxfp4", NULL};
_Static_assert(SL_ARRAY_LEN(nm_fmt_names) == NM_FMT_COUNT + 1, "a name for every member");
_Static_assert(sizeof nm_fmt_names / sizeof nm_fmt_names[0] == NM_FMT_COUNT + 1, "names match nm_fmt");

/* A scalar binary format: ebits exponent bits, mbits stored mantissa bits, bias.  `special`:
 * IEEE  - the top exponent is inf/NaN;  FN - only all-ones exponent and mantissa is NaN (E4M3FN);
 * NONE  - every code is a finite number.  `sat`: overflow gives the largest value, not inf. */
enum { SP_IEEE, SP_FN, SP_NONE };
typedef struct mini {
  int ebits, mbits, bias, special, sat;
} mini;

static const mini MINI[NM_FMT_COUNT] = {
    [NM_FP32] = {8, 23, 127, SP_IEEE, 0}, [NM_TF32] = {8, 10, 127, SP_IEEE, 0},
    [NM_BF16] = {8, 7, 127, SP_IEEE, 0},  [NM_FP16] = {5, 10, 15, SP_IEEE, 0},
    [NM_E4M3] = {4, 3, 7, SP_FN, 1},      [NM_E5M2] = {5, 2, 15, SP_IEEE, 0},
    [NM_E2M3] = {2, 3, 1, SP_NONE, 1},    [NM_E3M2] = {3, 2, 3, SP_NONE, 1},
    [NM_E2M1] = {2, 1, 1, SP_NONE, 1},
};

int nm_fmt_from_name(const char *s) {
  if (!s) return -1;
  if (strcmp(s, "fp8") == 0 || strcmp(s, "fp8-e4m3") == 0) return NM_E4M3;
  if (strcmp(s, "fp8-e5m2") == 0) return NM_E5M2;
  if (strcmp(s, "mxfp8-e4m3") == 0) return NM_MXFP8;
  if (strcmp(s, "mxfp6-e2m3") == 0) return NM_MXFP6;
  for (int i = 0; i < NM_FMT_COUNT; i++)
    if (strcmp(s, nm_fmt_names[i]) == 0) return i;
  return -1;
}

nm_fmt nm_fmt_element(nm_fmt f) {
  switch (f) {
  case NM_MXFP8:
    return NM_E4M3;
  case NM_MXFP8_E5M2:
    return NM_E5M2;
  case NM_MXFP6:
    return NM_E2M3;
  case NM_MXFP6_E3M2:
    return NM_E3M2;
  case NM_MXFP4:
    return NM_E2M1;
  default:
    return f;
  }
}

int nm_fmt_is_mx(nm_fmt f) {
  return f >= NM_MXFP8 && f <= NM_MXFP4;
}
int nm_fmt_scaled(nm_fmt f) {
  return f == NM_E4M3 || f == NM_E5M2 || f == NM_INT8;
}

int nm_fmt_bits(nm_fmt f) {
  f = nm_fmt_element(f);
  if (f == NM_FP64) return 64;
  if (f == NM_INT8) return 8;
  return 1 + MINI[f].ebits + MINI[f].mbits;
}

/* Largest exponent field that holds finite numbers, and the largest finite value. */
static int max_efield(const mini *m) {
  return (1 << m->ebits) - 1 - (m->special == SP_IEEE);
}

double nm_fmt_max(nm_fmt f) {
  f = nm_fmt_element(f);
  if (f == NM_FP64) return DBL_MAX;
  if (f == NM_INT8) return 127;
  const mini *m = &MINI[f];
  int mmax = (1 << m->mbits) - 1 - (m->special == SP_FN); /* E4M3FN: S.1111.111 is NaN */
  return ldexp(1.0 + ldexp(mmax, -m->mbits), max_efield(m) - m->bias);
}

/* Rounds |a| (finite, > 0) to the format's grid with an unbounded exponent above: returns the
 * value, or inf/max when it exceeds the largest finite value. */
static double round_mag(const mini *m, double a, double maxv) {
  int e;
  frexp(a, &e);
  e -= 1; /* a in [2^e, 2^(e+1)) */
  int emin = 1 - m->bias;
  if (e < emin) e = emin; /* subnormal: fixed quantum */
  double q = ldexp(a, m->mbits - e);
  double r = nearbyint(q); /* default rounding mode: to nearest, ties to even */
  double v = ldexp(r, e - m->mbits);
  if (v > maxv) return m->sat ? maxv : INFINITY;
  return v;
}

double nm_round(nm_fmt f, double x) {
  assert(!nm_fmt_is_mx(f));
  if (f == NM_FP64) return x;
  if (f == NM_FP32) return (double)(float)x; /* the vector format: keep it one cast */
  if (f == NM_INT8) return nm_round_ref(f, x);
  const mini *m = &MINI[f];
  /* Fast path: x normal in the format with 2^e below its top binade.  Round to nearest even on
   * the bit pattern of the double: add half a quantum less one (plus the kept last bit), clear
   * the dropped bits; a carry into the exponent is the right answer and stays <= 2^emax <= max.
   * The same result as round_mag (tests/numerics/test_numerics.c compares both on every format).  NaN and
   * inf have the top exponent, so they take the general method. */
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  int e = (int)((u >> 52) & 0x7ff) - 1023;
  if (e >= 1 - m->bias && e < max_efield(m) - m->bias) {
    int sh = 52 - m->mbits;
    u = (u + (((uint64_t)1 << (sh - 1)) - 1 + ((u >> sh) & 1))) & ~(((uint64_t)1 << sh) - 1);
    memcpy(&x, &u, sizeof x);
    return x;
  }
  return nm_round_ref(f, x);
}

double nm_round_ref(nm_fmt f, double x) {
  assert(!nm_fmt_is_mx(f));
  if (f == NM_FP64) return x;
  if (f == NM_FP32) return (double)(float)x;
  if (isnan(x)) return x;
  if (f == NM_INT8) {
    double r = nearbyint(x);
    return r > 127 ? 127 : r < -127 ? -127 : r;
  }
  const mini *m = &MINI[f];
  double maxv = nm_fmt_max(f);
  if (isinf(x)) return m->sat ? copysign(maxv, x) : x;
  if (x == 0) return x;
  return copysign(round_mag(m, fabs(x), maxv), x);
}

static unsigned encode_bits(nm_fmt f, double x) {
  const mini *m = &MINI[f];
  unsigned sign = signbit(x) ? 1u << (m->ebits + m->mbits) : 0;
  unsigned efull = (1u << m->ebits) - 1, mfull = (1u << m->mbits) - 1;
  if (isnan(x)) {
    if (m->special == SP_FN) return sign | (efull << m->mbits) | mfull;
    if (m->special == SP_IEEE) return sign | (efull << m->mbits) | (1u << (m->mbits - 1));
    x = copysign(INFINITY, x); /* no NaN: saturate */
  }
  double v = fabs(nm_round(f, x));
  if (isinf(v)) return sign | (efull << m->mbits);
  if (v == 0) return sign;
  int e;
  frexp(v, &e);
  e -= 1;
  int emin = 1 - m->bias;
  if (e < emin) return sign | (unsigned)ldexp(v, m->mbits - emin); /* subnormal */
  unsigned mant = (unsigned)ldexp(v, m->mbits - e) - (1u << m->mbits);
  return sign | ((unsigned)(e + m->bias) << m->mbits) | mant;
}

static double decode_bits(nm_fmt f, unsigned c) {
  const mini *m = &MINI[f];
  unsigned efull = (1u << m->ebits) - 1, mfull = (1u << m->mbits) - 1;
  double s = (c >> (m->ebits + m->mbits)) & 1 ? -1.0 : 1.0;
  unsigned ef = (c >> m->mbits) & efull, mf = c & mfull;
  if (m->special == SP_IEEE && ef == efull) return mf ? NAN : s * INFINITY;
  if (m->special == SP_FN && ef == efull && mf == mfull) return NAN;
  if (ef == 0) return s * ldexp(mf, 1 - m->bias - m->mbits);
  return s * ldexp(mf + (double)(1u << m->mbits), (int)ef - m->bias - m->mbits);
}

uint8_t nm_encode8(nm_fmt f, double x) {
  assert(nm_fmt_bits(f) <= 8 && f != NM_INT8 && !nm_fmt_is_mx(f));
  return (uint8_t)encode_bits(f, x);
}
double nm_decode8(nm_fmt f, uint8_t c) {
  return decode_bits(f, c);
}
uint16_t nm_encode16(nm_fmt f, double x) {
  assert(f == NM_BF16 || f == NM_FP16);
  return (uint16_t)encode_bits(f, x);
}
double nm_decode16(nm_fmt f, uint16_t c) {
  return decode_bits(f, c);
}

/* emax of an MX element format: the exponent of its largest normal number. */
static int mx_emax(nm_fmt el) {
  return max_efield(&MINI[el]) - MINI[el].bias;
}

int nm_mx_scale_exp(nm_fmt mx, const double *x, size_t n) {
  double amax = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(x[i]) > amax) amax = fabs(x[i]);
  if (amax == 0 || !isfinite(amax)) return 0;
  int e;
  frexp(amax, &e);
  int s = (e - 1) - mx_emax(nm_fmt_element(mx));
  return s < -127 ? -127 : s > 127 ? 127 : s;
}

void nm_quantize(nm_fmt f, double *x, size_t n) {
  if (f == NM_FP64) return;
  if (!nm_fmt_is_mx(f)) {
    for (size_t i = 0; i < n; i++)
      x[i] = nm_round(f, x[i]);
    return;
  }
  nm_fmt el = nm_fmt_element(f);
  for (size_t b = 0; b < n; b += NM_MX_BLOCK) {
    size_t len = n - b < NM_MX_BLOCK ? n - b : NM_MX_BLOCK;
    int s = nm_mx_scale_exp(f, x + b, len);
    for (size_t i = b; i < b + len; i++)
      x[i] = ldexp(nm_round(el, ldexp(x[i], -s)), s);
  }
}

double nm_tensor_scale(nm_fmt f, const double *x, size_t n) {
  double amax = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(x[i]) > amax) amax = fabs(x[i]);
  if (amax == 0 || !isfinite(amax)) return 1;
  double s = (double)(float)(amax / nm_fmt_max(f));
  return s > 0 ? s : 1;
}
