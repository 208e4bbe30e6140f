/* bench_sweep.c — design points per second per core, end to end: single-chip Llama-3.1-8B prefill
 * and decode on design points of an MTIA-2i-based grid, each with its energy (the energy table
 * re-derived), area (the area model) and cost (TCO), written into SQLite in batches.  One thread.
 * Prints one JSON line.  Usage: bench_sweep [DB path, default a temporary file]. */
#include "silica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char SWEEP[] =
    "{name: bench, chip: mtia-2i,\n"
    " parameters: {cores: [32, 48, 64, 80, 96], macs_per_cycle: [512, 1024, 2048], clock_ghz: {min: 1.0, "
    "max: 1.6, steps: 7},\n"
    "              dram_GBps: [204.8, 409.6, 819.2], shared_sram_bytes: [67108864, 134217728, 268435456],\n"
    "              process_nm: [7, 5, 3], tdp_w: [85, 120], dram_type: [lpddr5, lpddr5x]},\n"
    " workloads: [{name: prefill, weight: 0.5, scenario: {model: llama3.1-8b, task: prefill, infer: {batch: "
    "1, prompt_len: 2048}}},\n"
    "             {name: decode, weight: 0.5, scenario: {model: llama3.1-8b, task: decode, infer: {batch: 8, "
    "prompt_len: 2048}}}],\n"
    " objectives: [perf_per_tco, throughput, perf_per_w], strategy: grid}\n";

int main(int argc, char **argv) {
  char tmp[] = "/tmp/bench_sweep_XXXXXX";
  const char *db = argc > 1 ? argv[1] : NULL;
  if (!db) {
    int fd = mkstemp(tmp);
    if (fd < 0) return 1;
    close(fd);
    unlink(tmp);
    db = tmp;
  }
  sl_error err;
  sl_sweep *sw = NULL;
  if (sl_sweep_load(NULL, SWEEP, &sw, &err)) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_sweep: %s\n", buf);
    return 1;
  }
  sl_sweep_params prm = sl_sweep_params_default();
  prm.jobs = 1;
  sl_sweep_stats st;
  sl_status s = sl_sweep_run(sw, db, &prm, &st, NULL, &err);
  sl_sweep_free(sw);
  if (s) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_sweep: %s\n", buf);
    return 1;
  }
  printf("{\"bench\": \"sweep\", \"case\": \"llama3.1-8b-prefill+decode-mtia-2i-grid\", \"points\": %ld, "
         "\"batches\": %ld, \"jobs\": 1, \"seconds\": %.3f, \"points_per_s_per_core\": %.0f, "
         "\"us_per_point\": %.2f}\n",
         st.evaluated, st.batches, st.seconds, (double)st.evaluated / st.seconds,
         st.seconds / (double)st.evaluated * 1e6);
  if (db == tmp) {
    char p[64];
    unlink(tmp);
    snprintf(p, sizeof p, "%s-wal", tmp);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", tmp);
    unlink(p);
  }
  return 0;
}
