/* fuzz_numerics.c — the numerics file reader (src/numerics/train.c, docs/numerics.md) on arbitrary
 * YAML; a file that loads has its model's parameter count checked against the 2M limit and every
 * run's formats checked to be ones the executor handles.  (Running the experiment is not fuzzed:
 * it trains for seconds to minutes.) */
#include "fuzz_common.h"

#include "numerics/numerics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_text(data, size);
  if (!text) return 0;
  arena a;
  ar_init(&a);
  sl_error err;
  nm_experiment ex;
  sl_status s = nm_experiment_load_text(&a, NULL, text, &ex, &err);
  fuzz_check(s);
  if (!s) {
    size_t np = ex.dlrm ? nm_dlrm_count(&ex.dlrm_cfg) : nm_tf_count(&ex.model);
    if (np > 2000000 || ex.n_runs < 1 || ex.n_runs > NM_MAX_RUNS || ex.steps < 1 || ex.batch < 1) abort();
    if (!ex.dlrm && (long)ex.batch * ex.model.seq > 512) abort();
    for (int r = 0; r < ex.n_runs; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      if (p->fwd.in < 0 || p->fwd.in >= NM_FMT_COUNT || p->fwd.kchunk < 1 || nm_fmt_is_mx(p->fwd.acc))
        abort();
    }
  }
  ar_free(&a);
  free(text);
  return 0;
}
