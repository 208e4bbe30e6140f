/* report.h — writers of results: chip JSON, HTML reports. */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include "sim/sim.h"

/* A chip's matrix and vector peaks in TFLOP/s per format ("peak_tflops", "vector_peak_tflops"),
 * and its matrix ridge points in FLOP per DRAM byte per format under `key` (io/api_extra.c). */
void chip_json_peaks(jbuf *b, const sl_chip *c);
void chip_json_ridges(jbuf *b, const char *key, const sl_chip *c);

#endif /* SL_REPORT_H */
