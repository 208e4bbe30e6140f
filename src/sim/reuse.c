/* reuse.c — public calls for loops over many evaluations of one loaded scenario (benchmarks,
 * searches, fuzzers): read a few of its resolved numbers and change its inference shape in place
 * (include/silica.h); sl_scenario_run_into, which reuses a result, is beside sl_scenario_run in
 * result.c. */
#include "sim/sim.h"

#include <math.h>
#include <string.h>

static int is_infer(const sl_scenario *sc) {
  return sc->task != SL_TASK_TRAIN && sc->task != SL_TASK_SERVE;
}

static double or_nan(double v) {
  return v == SL_AUTO ? NAN : v;
}

double sl_scenario_number(const sl_scenario *sc, const char *key) {
  if (!sc || !key) return NAN;
  if (strcmp(key, "chips") == 0) return sc->chips;
  if (is_infer(sc)) {
    if (strcmp(key, "infer.batch") == 0) return sc->batch_max ? NAN : sc->batch;
    if (strcmp(key, "infer.prompt_len") == 0) return sc->prompt_len;
    if (strcmp(key, "infer.gen_len") == 0) return sc->gen_len;
  }
  if (sc->task == SL_TASK_SERVE) {
    if (strcmp(key, "serve.requests") == 0) return sc->serve.requests;
    if (strcmp(key, "serve.arrival_rate_per_s") == 0) return or_nan(sc->serve.rate_per_s);
  }
  if (sc->task == SL_TASK_TRAIN) {
    if (strcmp(key, "train.global_batch") == 0) return sc->global_batch;
    if (strcmp(key, "train.micro_batch") == 0) return or_nan(sc->micro_batch);
    if (strcmp(key, "plan.searched_keys") == 0) {
      const sl_parallel *p = &sc->par;
      return (p->tp == SL_AUTO) + (p->pp == SL_AUTO) + (p->cp == SL_AUTO) + (p->vpp == SL_AUTO) +
             (p->zero == SL_AUTO) + (sc->micro_batch == SL_AUTO) + sc->recompute_auto + sc->parallel_auto;
    }
  }
  return NAN;
}

sl_status sl_scenario_set_number(sl_scenario *sc, const char *key, double value, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!sc || !key)
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_scenario_set_number: no scenario or key");
  double *field = NULL;
  if (strcmp(key, "infer.batch") == 0)
    field = &sc->batch;
  else if (strcmp(key, "infer.prompt_len") == 0)
    field = &sc->prompt_len;
  else if (strcmp(key, "infer.gen_len") == 0)
    field = &sc->gen_len;
  if (!field)
    return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", 0, key,
                   "only infer.batch, infer.prompt_len and infer.gen_len can be changed after loading");
  if (!is_infer(sc))
    return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", 0, key,
                   "the scenario's task is %s, not inference", sl_task_names[sc->task]);
  if (!(value >= 1 && value <= 1e12) || value != floor(value))
    return err_set(err, SL_ERR_INPUT, sc->file ? sc->file : "", 0, key,
                   "expected a whole number from 1 to 1e12, got %g", value);
  *field = value;
  if (field == &sc->batch) sc->batch_max = 0; /* an explicit batch replaces {max: N} */
  return SL_OK;
}
