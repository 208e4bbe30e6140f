/* bench_numerics.c — training steps per second of the numerics executor (sl_numerics_run): the fp32
 * path (OpenBLAS when found) and the emulated bf16 paths (fp32 accumulation; bf16 accumulation in
 * K-chunks of 32 and one MAC at a time), on the model of examples/tiny-numerics.yaml, 10 steps of 4
 * sequences of 64 tokens, no held-out evaluation.  Steps per second are over each run's host time,
 * which is its training alone.  One JSON line each. */
#include "silica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const NAMES[] = {"fp32", "bf16-fp32acc", "bf16-bf16acc", "bf16-bf16acc-k1"};

static const char EXPERIMENT[] =
    "model: {dim: 64, layers: 2, heads: 4, kv_heads: 2, ffn: 128, seq: 64, tied: true}\n"
    "train: {steps: 10, batch: 4, seed: 1, lr: 1.0e-3, eval_sequences: 0}\n"
    "runs:\n"
    "  - {name: fp32, format: fp32, accumulate: fp32, kchunk: 32}\n"
    "  - {name: bf16-fp32acc, format: bf16, accumulate: fp32, kchunk: 32}\n"
    "  - {name: bf16-bf16acc, format: bf16, accumulate: bf16, kchunk: 32}\n"
    "  - {name: bf16-bf16acc-k1, format: bf16, accumulate: bf16, kchunk: 1}\n";

/* The number after the next "key": at or after *at (advanced past it); NaN when there is none. */
static double next_number(const char **at, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(*at, pat);
  if (!p) return 0.0 / 0.0;
  p += strlen(pat);
  char *end = NULL;
  double v = strtod(p, &end);
  *at = end;
  return v;
}

int main(void) {
  char path[] = "/tmp/bench_numerics_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  size_t n = strlen(EXPERIMENT);
  int bad = write(fd, EXPERIMENT, n) != (ssize_t)n;
  bad |= close(fd) != 0;
  char *json = NULL, *note = NULL;
  sl_error err;
  sl_status s = bad ? SL_ERR_INTERNAL : sl_numerics_run(path, SL_FORMAT_JSON, &json, &note, &err);
  unlink(path);
  sl_free(note);
  if (s) {
    char buf[600];
    sl_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "bench_numerics: %s\n", bad ? "cannot write the experiment file" : buf);
    return 1;
  }
  const char *at = json;
  double params = next_number(&at, "params");
  at = strstr(at, "\"runs\":");
  for (size_t k = 0; at && k < sizeof NAMES / sizeof NAMES[0]; k++) {
    double loss = next_number(&at, "final_loss"), seconds = next_number(&at, "host_seconds");
    printf("{\"bench\": \"numerics_train_%s\", \"params\": %.0f, \"tokens_per_step\": %d, \"steps_per_s\": "
           "%.3f, \"blas\": %s, \"loss\": %.4f}\n",
           NAMES[k], params, 4 * 64, 10 / seconds, sl_numerics_blas() ? "true" : "false", loss);
  }
  sl_free(json);
  return 0;
}
