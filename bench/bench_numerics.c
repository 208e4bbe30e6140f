/* bench_numerics.c — training steps per second of the numerics executor (src/numerics): the fp32
 * path (OpenBLAS when found) and the emulated bf16 paths (fp32 accumulation; bf16 accumulation in K-chunks of
 * 32 and one MAC at a time), on the model of examples/tiny-numerics.yaml.  One JSON line each. */
#include <stdio.h>
#include <time.h>

#include "numerics/numerics.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  nm_tf_cfg c = {256, 64, 2, 4, 2, 128, 64, 1};
  const int B = 4, steps = 10;
  struct {
    const char *name;
    nm_prec p;
  } paths[] = {{"fp32", nm_prec_uniform(NM_FP32, NM_FP32, 32)},
               {"bf16-fp32acc", nm_prec_uniform(NM_BF16, NM_FP32, 32)},
               {"bf16-bf16acc", nm_prec_uniform(NM_BF16, NM_BF16, 32)},
               {"bf16-bf16acc-k1", nm_prec_uniform(NM_BF16, NM_BF16, 1)}};
  uint8_t tok[4 * 65];
  uint64_t rng = 1;
  for (size_t i = 0; i < sizeof tok; i++)
    tok[i] = (uint8_t)(32 + nm_rand_u64(&rng) % 95);
  nm_adamw o = {1e-3, 0.9, 0.95, 1e-8, 0.01};
  for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
    nm_tf *m = nm_tf_new(&c, 1);
    if (!m) return 3;
    double t0 = now(), loss = 0;
    for (int s = 1; s <= steps; s++) {
      loss = nm_tf_step(m, &paths[k].p, tok, B, 1, NULL);
      nm_tf_adamw(m, &o, s, NM_FP32);
    }
    double dt = now() - t0;
    printf(
        "{\"bench\": \"numerics_train_%s\", \"params\": %zu, \"tokens_per_step\": %d, \"steps_per_s\": %.3f, "
        "\"blas\": %s, \"loss\": %.4f}\n",
        paths[k].name, nm_tf_nparams(m), B * c.seq, steps / dt, nm_blas_available() ? "true" : "false", loss);
    nm_tf_free(m);
  }
  return 0;
}
