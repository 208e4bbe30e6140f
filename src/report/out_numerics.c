/* out_numerics.c — a numerics experiment (numerics/train.c, docs/numerics.md) run and rendered as
 * `silica numerics` prints it: the losses per number-format run, their gaps to the reference run,
 * the loss curves, and the chip's time and energy for the run (include/silica.h). */
#include "numerics/numerics.h"
#include "report/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

sl_status sl_numerics_run(const char *file, sl_format format, char **out, char **note, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (note) *note = NULL;
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_numerics_run: out is NULL");
  *out = NULL;
  if (!file || !*file) return err_set(err, SL_ERR_INPUT, "", 0, "", "numerics: no file given");
  if (format != SL_FORMAT_TEXT && format != SL_FORMAT_JSON && format != SL_FORMAT_CSV)
    return err_set(err, SL_ERR_INPUT, "", 0, "", "numerics: format must be text, JSON or CSV");
  arena a;
  ar_init(&a);
  nm_experiment ex;
  nm_outcome o;
  sl_status s = nm_experiment_load(&a, file, &ex, err);
  if (!s) s = nm_experiment_run(&a, &ex, &o, err);
  if (s) {
    ar_free(&a);
    return s;
  }
  if (o.corpus_builtin && note) {
    jbuf n;
    jb_init(&n);
    rep_printf(&n, "corpus: %s", o.corpus_used);
    if (rep_take(&n, note, err)) {
      ar_free(&a);
      return SL_ERR_INTERNAL;
    }
  }
  const int ref = o.ref_run, S = ex.steps, E = o.n_eval;
  const char *item = ex.dlrm ? "samples" : "sequences"; /* what a step and the held-out set consist of */
  jbuf b;
  jb_init(&b);
  if (format == SL_FORMAT_JSON) {
    jb_obj_begin(&b, NULL);
    jb_str(&b, "file", file);
    jb_num(&b, "params", (double)o.params);
    jb_num(&b, "steps", S);
    jb_str(&b, "model", ex.dlrm ? "dlrm" : "transformer");
    if (ex.dlrm)
      jb_num(&b, "samples_per_step", ex.batch);
    else
      jb_num(&b, "tokens_per_step", (double)ex.batch * ex.model.seq);
    jb_num(&b, "seed", (double)ex.seed);
    if (ex.dlrm) {
      jb_str(&b, "data", o.corpus_used);
      jb_num(&b, "zipf", ex.zipf);
    } else {
      jb_str(&b, "corpus", o.corpus_used);
      jb_num(&b, "corpus_bytes", (double)o.corpus_bytes);
    }
    jb_str(&b, "reference", ex.runs[ref].name);
    if (E) {
      jb_obj_begin(&b, "eval");
      jb_num(&b, "every", ex.eval_every);
      jb_num(&b, item, ex.eval_sequences);
      if (!ex.dlrm) jb_num(&b, "held_out_bytes", (double)(o.corpus_bytes / 10));
      jb_arr_begin(&b, "steps");
      for (int k = 0; k < E; k++)
        jb_num(&b, NULL, o.eval_step[k]);
      jb_arr_end(&b);
      jb_obj_end(&b);
    }
    if (o.n_noise) {
      jb_obj_begin(&b, "noise");
      jb_str(&b, "run", ex.runs[ref].name);
      jb_num(&b, "seeds", o.n_noise);
      jb_arr_begin(&b, "final_eval_loss");
      for (int k = 0; k < o.n_noise; k++)
        jb_num(&b, NULL, o.noise_eval[k]);
      jb_arr_end(&b);
      jb_num(&b, "mean", o.noise_mean);
      jb_num(&b, "sd", o.noise_sd);
      jb_obj_end(&b);
    }
    jb_arr_begin(&b, "runs");
    for (int r = 0; r < ex.n_runs; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      jb_obj_begin(&b, NULL);
      jb_str(&b, "name", ex.runs[r].name);
      jb_str(&b, "format", nm_fmt_names[p->fwd.in]);
      jb_str(&b, "grad_format", nm_fmt_names[p->bwd.in]);
      jb_str(&b, "accumulate", nm_fmt_names[p->fwd.acc]);
      jb_num(&b, "kchunk", p->fwd.kchunk);
      jb_num(&b, "final_loss", o.final_loss[r]);
      jb_num(&b, "gap_to_reference", o.final_loss[r] / o.final_loss[ref] - 1);
      if (E) {
        jb_num(&b, "final_eval_loss", o.final_eval[r]);
        jb_num(&b, "eval_gap_to_reference", o.final_eval[r] / o.final_eval[ref] - 1);
        if (o.n_noise) jb_num(&b, "eval_gap_in_seed_sd", (o.final_eval[r] - o.final_eval[ref]) / o.noise_sd);
        if (o.fixed_n) {
          jb_obj_begin(&b, "at_final_weights");
          jb_num(&b, item, o.fixed_n);
          jb_num(&b, ex.dlrm ? "samples_per_step" : "sequences_per_step", ex.batch);
          jb_num(&b, "loss_in_format", o.fixed_loss_fmt[r]);
          jb_num(&b, "loss_fp32", o.fixed_loss_fp32[r]);
          jb_num(&b, "loss_gap", o.fixed_loss_fmt[r] / o.fixed_loss_fp32[r] - 1);
          jb_num(&b, "grad_rel_err", o.fixed_grad_err[r]);
          jb_obj_end(&b);
        }
      }
      jb_num(&b, "host_seconds", o.seconds[r]);
      jb_arr_begin(&b, "loss");
      for (int k = 0; k < S; k++)
        jb_num(&b, NULL, o.loss[(size_t)r * S + k]);
      jb_arr_end(&b);
      if (E) {
        jb_arr_begin(&b, "eval_loss");
        for (int k = 0; k < E; k++)
          jb_num(&b, NULL, o.eval_loss[(size_t)r * E + k]);
        jb_arr_end(&b);
      }
      jb_obj_end(&b);
    }
    jb_arr_end(&b);
    if (ex.chip) {
      jb_obj_begin(&b, "chip");
      jb_str(&b, "name", ex.chip);
      jb_str(&b, "note", o.chip_note);
      jb_num(&b, "step_time_s", o.have_chip ? o.chip_step_s : NAN);
      jb_num(&b, "run_time_s", o.have_chip ? o.chip_time_s : NAN);
      jb_num(&b, "run_energy_j", o.have_chip ? o.chip_energy_j : NAN);
      jb_obj_end(&b);
    }
    jb_obj_end(&b);
    jb_raw(&b, "\n");
  } else if (format == SL_FORMAT_CSV) {
    rep_printf(&b, "step");
    for (int r = 0; r < ex.n_runs; r++)
      rep_printf(&b, ",%s", ex.runs[r].name);
    if (E)
      for (int r = 0; r < ex.n_runs; r++)
        rep_printf(&b, ",%s:eval", ex.runs[r].name);
    rep_printf(&b, "\n");
    for (int k = 0, e = 0; k < S; k++) {
      rep_printf(&b, "%d", k + 1);
      for (int r = 0; r < ex.n_runs; r++)
        rep_printf(&b, ",%.6f", o.loss[(size_t)r * S + k]);
      int at = e < E && o.eval_step[e] == k + 1;
      for (int r = 0; E && r < ex.n_runs; r++) {
        if (at)
          rep_printf(&b, ",%.6f", o.eval_loss[(size_t)r * E + e]);
        else
          rep_printf(&b, ",");
      }
      e += at;
      rep_printf(&b, "\n");
    }
  } else {
    if (ex.dlrm)
      rep_printf(
          &b, "numerics: %s — DLRM, %zu parameters, %d steps of %d samples, seed %llu\ndata: %s, zipf %g\n\n",
          file, o.params, S, ex.batch, (unsigned long long)ex.seed, o.corpus_used, ex.zipf);
    else
      rep_printf(
          &b, "numerics: %s — %zu parameters, %d steps of %d tokens, seed %llu\ncorpus: %s (%zu bytes)\n\n",
          file, o.params, S, ex.batch * ex.model.seq, (unsigned long long)ex.seed, o.corpus_used,
          o.corpus_bytes);
    rep_printf(&b, "  %-16s %-10s %-10s %-6s %7s %10s %9s", "run", "format", "accumulate", "kchunk", "grad",
               "train loss", "vs ref");
    if (E) rep_printf(&b, " %9s %9s", "eval loss", "vs ref");
    if (o.n_noise) rep_printf(&b, " %7s", "seed sd");
    if (o.fixed_n) rep_printf(&b, " %9s %9s", "arith", "grad err");
    rep_printf(&b, " %8s\n", "host s");
    for (int r = 0; r < ex.n_runs; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      rep_printf(&b, "  %-16s %-10s %-10s %-6d %7s %10.4f %+8.2f%%", ex.runs[r].name, nm_fmt_names[p->fwd.in],
                 nm_fmt_names[p->fwd.acc], p->fwd.kchunk, nm_fmt_names[p->bwd.in], o.final_loss[r],
                 100 * (o.final_loss[r] / o.final_loss[ref] - 1));
      if (E)
        rep_printf(&b, " %9.4f %+8.2f%%", o.final_eval[r], 100 * (o.final_eval[r] / o.final_eval[ref] - 1));
      if (o.n_noise) rep_printf(&b, " %+7.1f", (o.final_eval[r] - o.final_eval[ref]) / o.noise_sd);
      if (o.fixed_n)
        rep_printf(&b, " %+8.3f%% %9.2e", 100 * (o.fixed_loss_fmt[r] / o.fixed_loss_fp32[r] - 1),
                   o.fixed_grad_err[r]);
      rep_printf(&b, " %8.1f\n", o.seconds[r]);
    }
    rep_printf(&b,
               "\n  train loss: mean training loss of the last tenth of the steps; vs ref: relative to %s\n",
               ex.runs[ref].name);
    if (E)
      rep_printf(&b, "  eval loss: fp32 loss of the final weights on %d held-out %s (%s)\n",
                 ex.eval_sequences, item,
                 ex.dlrm ? "fixed, drawn apart from the training batches"
                         : "the corpus's last tenth, never trained on");
    if (o.fixed_n)
      rep_printf(&b,
                 "  arith, grad err: at the run's final weights, on %d held-out %s in steps of %d, its own "
                 "arithmetic against fp32:\n    loss relative difference and norm-wise relative error of all "
                 "gradients "
                 "(no training noise)\n",
                 o.fixed_n, item, ex.batch);
    if (o.n_noise)
      rep_printf(
          &b,
          "  seed sd: eval-loss gap to %s in standard deviations of %s's own final eval loss over %d seeds "
          "(%.4f +- %.4f)\n",
          ex.runs[ref].name, ex.runs[ref].name, o.n_noise, o.noise_mean, o.noise_sd);
    rep_printf(&b, "\n  %6s", "step");
    for (int r = 0; r < ex.n_runs; r++)
      rep_printf(&b, " %12.12s", ex.runs[r].name);
    rep_printf(&b, "\n");
    int every = S >= 10 ? S / 10 : 1;
    for (int k = 0; k < S; k++) {
      if (k != 0 && (k + 1) % every != 0 && k != S - 1) continue;
      rep_printf(&b, "  %6d", k + 1);
      for (int r = 0; r < ex.n_runs; r++)
        rep_printf(&b, " %12.4f", o.loss[(size_t)r * S + k]);
      rep_printf(&b, "\n");
    }
    if (E) {
      rep_printf(&b, "\n  %6s", "eval@");
      for (int r = 0; r < ex.n_runs; r++)
        rep_printf(&b, " %12.12s", ex.runs[r].name);
      rep_printf(&b, "\n");
      int every_e = E >= 10 ? E / 10 : 1;
      for (int k = 0; k < E; k++) {
        if ((k + 1) % every_e != 0 && k != E - 1) continue;
        rep_printf(&b, "  %6d", o.eval_step[k]);
        for (int r = 0; r < ex.n_runs; r++)
          rep_printf(&b, " %12.4f", o.eval_loss[(size_t)r * E + k]);
        rep_printf(&b, "\n");
      }
    }
    if (ex.chip) {
      if (o.have_chip) {
        char t1[32], t2[32];
        unit_time(o.chip_step_s, t1, sizeof t1);
        unit_time(o.chip_time_s, t2, sizeof t2);
        rep_printf(&b, "\n  on %s: %s per step, %s for the run, %.4g J (%s)\n", ex.chip, t1, t2,
                   o.chip_energy_j, o.chip_note);
      } else {
        rep_printf(&b, "\n  on %s: %s\n", ex.chip, o.chip_note);
      }
    }
  }
  ar_free(&a);
  s = rep_take(&b, out, err);
  if (s && note) {
    free(*note);
    *note = NULL;
  }
  return s;
}

sl_status sl_numerics_check(const char *text, const char *name, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!text) return err_set(err, SL_ERR_INPUT, "", 0, "", "numerics: no text given");
  arena a;
  ar_init(&a);
  nm_experiment ex;
  sl_status s = nm_experiment_load_text(&a, name, text, &ex, err);
  if (!s) { /* what the executor relies on: a file that loads and breaks it is a reader bug */
    size_t np = ex.dlrm ? nm_dlrm_count(&ex.dlrm_cfg) : nm_tf_count(&ex.model);
    int bad = np > 2000000 || ex.n_runs < 1 || ex.n_runs > NM_MAX_RUNS || ex.steps < 1 || ex.batch < 1;
    bad |= !ex.dlrm && (long)ex.batch * ex.model.seq > 512;
    for (int r = 0; r < ex.n_runs && r < NM_MAX_RUNS; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      bad |= p->fwd.in < 0 || p->fwd.in >= NM_FMT_COUNT || p->fwd.kchunk < 1 || nm_fmt_is_mx(p->fwd.acc);
    }
    if (bad)
      s = err_set(err, SL_ERR_INTERNAL, name ? name : "", 0, "",
                  "numerics: the reader accepted a model or run the executor cannot train");
  }
  ar_free(&a);
  return s;
}

int sl_numerics_blas(void) {
  return nm_blas_available() ? 1 : 0;
}
