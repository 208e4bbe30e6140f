/* report.h — writers of results: chip JSON, HTML reports, figures as text (units.c), the outputs of the
 * silica program as text, CSV and Markdown (out_*.c). */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include "sim/sim.h"

/* A chip's matrix and vector peaks in TFLOP/s per format ("peak_tflops", "vector_peak_tflops"),
 * and its matrix ridge points in FLOP per DRAM byte per format under `key` (api.c). */
void chip_json_peaks(jbuf *b, const sl_chip *c);
void chip_json_ridges(jbuf *b, const char *key, const sl_chip *c);
/* A link as {bw_GBps, latency_s} under `key` (api.c). */
void link_json(jbuf *b, const char *key, const sl_link *l);

/* ---- units.c: figures as text ------------------------------------------------------------------- */

/* A time unit chosen for a range of times: a value in seconds times per_s is in `name`. */
typedef struct time_unit {
  double per_s; /* values in this unit per second */
  const char *name;
} time_unit;

/* The unit that writes times up to max_s with at most three digits before the point: s, ms, µs or ns. */
time_unit unit_for_time(double max_s);
/* Each writes "-" for NaN, at most `size` bytes with the terminating 0. */
void unit_num(double v, char *buf, size_t size);   /* %.4g; whole numbers from 1e4 to 1e15 without exponent */
void unit_time(double s, char *buf, size_t size);  /* "12.5 ms": %.4g in the unit of its own size */
void unit_bytes(double b, char *buf, size_t size); /* "1.20 GiB", "3.50 MiB", "12.0 KiB" (0 is "0.00 GiB") */
void unit_usd(double v, char *buf, size_t size);   /* "$14,510", "$7.089", "$0.01234": no exponent */
void unit_pct(double v, char *buf, size_t size);   /* a fraction as "42.0%" */

/* ---- out_text.c: pieces of the text, CSV and Markdown outputs (out_*.c) --------------------------- */

/* printf onto a jbuf (sets b->oom when out of memory). */
void rep_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A CSV field: s quoted when it holds a separator, a quote or a line break; then `sep`. */
void rep_csv_str(jbuf *b, const char *s, const char *sep);
/* A CSV number as jb_num writes it, empty for NaN; then `sep`. */
void rep_csv_num(jbuf *b, double v, const char *sep);
/* Hands b's text to *out (the caller frees it with sl_free) and returns SL_OK, or frees b and returns
 * SL_ERR_INTERNAL ("out of memory") when b ran out of memory. */
sl_status rep_take(jbuf *b, char **out, sl_error *err);

#endif /* SL_REPORT_H */
