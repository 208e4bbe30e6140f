/* cmd_numerics.c — `silica numerics FILE [--json] [--csv]`: trains the file's byte-level
 * transformer once per number-format run (src/numerics/train.c, docs/numerics.md) and prints the
 * loss curves, the final losses and their gap to fp32, and the chip's time and energy for the run. */
#include "cli.h"
#include "numerics/numerics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char CLI_HELP_NUMERICS[] =
    "usage: silica numerics FILE [--json | --csv]\n"
    "\n"
    "Trains a small byte-level Llama-style transformer (at most 2M parameters, 512 tokens per step)\n"
    "on a text corpus (default: Debian's fortunes in /usr/share/games/fortunes), or a small DLRM on\n"
    "synthetic clicks (model: {dlrm: ...}), for the file's steps, from one seed, once per run:\n"
    "matrix-product inputs in the run's format (fp32, tf32, bf16, fp16, e4m3, e5m2, int8, mxfp8,\n"
    "mxfp6, mxfp4, ...), accumulation in its format in K-chunks.  File format: docs/numerics.md.\n"
    "\n"
    "  (default)   final training and held-out losses, gaps to the fp32 run (and in seed standard\n"
    "              deviations with train.noise_seeds), loss tables every tenth of the run, and what\n"
    "              the file's chip would take for the run (performance model)\n"
    "  --json      one JSON object: runs (name, formats, loss curve, final loss, gap), chip estimate\n"
    "  --csv       the loss curves: step, then one column per run (with a header line)\n";

int cmd_numerics(int argc, char **argv) {
  const char *file = NULL;
  int json = 0, csv = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) return cli_print_help("numerics");
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (strcmp(argv[i], "--csv") == 0)
      csv = 1;
    else if (argv[i][0] == '-')
      return cli_usage("numerics", "unknown option \"%s\"", argv[i]);
    else if (!file)
      file = argv[i];
    else
      return cli_usage("numerics", "expected one file");
  }
  if (!file) return cli_usage("numerics", "missing FILE");
  if (json && csv) return cli_usage("numerics", "--json and --csv exclude each other");
  arena a;
  ar_init(&a);
  sl_error err;
  memset(&err, 0, sizeof err);
  nm_experiment ex;
  nm_outcome o;
  sl_status s = nm_experiment_load(&a, file, &ex, &err);
  if (!s) s = nm_experiment_run(&a, &ex, &o, &err);
  if (s) {
    ar_free(&a);
    return cli_fail(&err, s);
  }
  if (o.corpus_builtin) fprintf(stderr, "silica: numerics: corpus: %s\n", o.corpus_used);
  const int ref = o.ref_run, S = ex.steps, E = o.n_eval;
  const char *item = ex.dlrm ? "samples" : "sequences"; /* what a step and the held-out set consist of */
  jbuf b;
  jb_init(&b);
  if (json) {
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
  } else if (csv) {
    bprintf(&b, "step");
    for (int r = 0; r < ex.n_runs; r++)
      bprintf(&b, ",%s", ex.runs[r].name);
    if (E)
      for (int r = 0; r < ex.n_runs; r++)
        bprintf(&b, ",%s:eval", ex.runs[r].name);
    bprintf(&b, "\n");
    for (int k = 0, e = 0; k < S; k++) {
      bprintf(&b, "%d", k + 1);
      for (int r = 0; r < ex.n_runs; r++)
        bprintf(&b, ",%.6f", o.loss[(size_t)r * S + k]);
      int at = e < E && o.eval_step[e] == k + 1;
      for (int r = 0; E && r < ex.n_runs; r++) {
        if (at)
          bprintf(&b, ",%.6f", o.eval_loss[(size_t)r * E + e]);
        else
          bprintf(&b, ",");
      }
      e += at;
      bprintf(&b, "\n");
    }
  } else {
    if (ex.dlrm)
      bprintf(&b,
              "numerics: %s — DLRM, %zu parameters, %d steps of %d samples, seed %llu\ndata: %s, zipf %g\n\n",
              file, o.params, S, ex.batch, (unsigned long long)ex.seed, o.corpus_used, ex.zipf);
    else
      bprintf(&b,
              "numerics: %s — %zu parameters, %d steps of %d tokens, seed %llu\ncorpus: %s (%zu bytes)\n\n",
              file, o.params, S, ex.batch * ex.model.seq, (unsigned long long)ex.seed, o.corpus_used,
              o.corpus_bytes);
    bprintf(&b, "  %-16s %-10s %-10s %-6s %7s %10s %9s", "run", "format", "accumulate", "kchunk", "grad",
            "train loss", "vs ref");
    if (E) bprintf(&b, " %9s %9s", "eval loss", "vs ref");
    if (o.n_noise) bprintf(&b, " %7s", "seed sd");
    if (o.fixed_n) bprintf(&b, " %9s %9s", "arith", "grad err");
    bprintf(&b, " %8s\n", "host s");
    for (int r = 0; r < ex.n_runs; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      bprintf(&b, "  %-16s %-10s %-10s %-6d %7s %10.4f %+8.2f%%", ex.runs[r].name, nm_fmt_names[p->fwd.in],
              nm_fmt_names[p->fwd.acc], p->fwd.kchunk, nm_fmt_names[p->bwd.in], o.final_loss[r],
              100 * (o.final_loss[r] / o.final_loss[ref] - 1));
      if (E) bprintf(&b, " %9.4f %+8.2f%%", o.final_eval[r], 100 * (o.final_eval[r] / o.final_eval[ref] - 1));
      if (o.n_noise) bprintf(&b, " %+7.1f", (o.final_eval[r] - o.final_eval[ref]) / o.noise_sd);
      if (o.fixed_n)
        bprintf(&b, " %+8.3f%% %9.2e", 100 * (o.fixed_loss_fmt[r] / o.fixed_loss_fp32[r] - 1),
                o.fixed_grad_err[r]);
      bprintf(&b, " %8.1f\n", o.seconds[r]);
    }
    bprintf(&b, "\n  train loss: mean training loss of the last tenth of the steps; vs ref: relative to %s\n",
            ex.runs[ref].name);
    if (E)
      bprintf(&b, "  eval loss: fp32 loss of the final weights on %d held-out %s (%s)\n", ex.eval_sequences,
              item,
              ex.dlrm ? "fixed, drawn apart from the training batches"
                      : "the corpus's last tenth, never trained on");
    if (o.fixed_n)
      bprintf(&b,
              "  arith, grad err: at the run's final weights, on %d held-out %s in steps of %d, its own "
              "arithmetic against fp32:\n    loss relative difference and norm-wise relative error of all "
              "gradients "
              "(no training noise)\n",
              o.fixed_n, item, ex.batch);
    if (o.n_noise)
      bprintf(
          &b,
          "  seed sd: eval-loss gap to %s in standard deviations of %s's own final eval loss over %d seeds "
          "(%.4f +- %.4f)\n",
          ex.runs[ref].name, ex.runs[ref].name, o.n_noise, o.noise_mean, o.noise_sd);
    bprintf(&b, "\n  %6s", "step");
    for (int r = 0; r < ex.n_runs; r++)
      bprintf(&b, " %12.12s", ex.runs[r].name);
    bprintf(&b, "\n");
    int every = S >= 10 ? S / 10 : 1;
    for (int k = 0; k < S; k++) {
      if (k != 0 && (k + 1) % every != 0 && k != S - 1) continue;
      bprintf(&b, "  %6d", k + 1);
      for (int r = 0; r < ex.n_runs; r++)
        bprintf(&b, " %12.4f", o.loss[(size_t)r * S + k]);
      bprintf(&b, "\n");
    }
    if (E) {
      bprintf(&b, "\n  %6s", "eval@");
      for (int r = 0; r < ex.n_runs; r++)
        bprintf(&b, " %12.12s", ex.runs[r].name);
      bprintf(&b, "\n");
      int every_e = E >= 10 ? E / 10 : 1;
      for (int k = 0; k < E; k++) {
        if ((k + 1) % every_e != 0 && k != E - 1) continue;
        bprintf(&b, "  %6d", o.eval_step[k]);
        for (int r = 0; r < ex.n_runs; r++)
          bprintf(&b, " %12.4f", o.eval_loss[(size_t)r * E + k]);
        bprintf(&b, "\n");
      }
    }
    if (ex.chip) {
      if (o.have_chip) {
        char t1[32], t2[32];
        fmt_time(o.chip_step_s, t1, sizeof t1);
        fmt_time(o.chip_time_s, t2, sizeof t2);
        bprintf(&b, "\n  on %s: %s per step, %s for the run, %.4g J (%s)\n", ex.chip, t1, t2, o.chip_energy_j,
                o.chip_note);
      } else {
        bprintf(&b, "\n  on %s: %s\n", ex.chip, o.chip_note);
      }
    }
  }
  ar_free(&a);
  return cli_emit(&b);
}
