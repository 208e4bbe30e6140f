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
    "on a text corpus (default: Debian's fortunes in /usr/share/games/fortunes) for the file's steps,\n"
    "from one seed, once per run: matrix-product inputs in the run's format (fp32, tf32, bf16, fp16,\n"
    "e4m3, e5m2, int8, mxfp8, mxfp6, mxfp4, ...), accumulation in its format in K-chunks.  File\n"
    "format: docs/numerics.md.\n"
    "\n"
    "  (default)   final losses, gap to the fp32 run, a loss table every tenth of the run, and what\n"
    "              the file's chip would take for the run (performance model)\n"
    "  --json      one JSON object: runs (name, formats, loss curve, final loss, gap), chip estimate\n"
    "  --csv       the loss curves: step, then one column per run (with a header line)\n";

/* The reference run: the first in fp32 with fp32 accumulation, else the first. */
static int reference_run(const nm_experiment *ex) {
  for (int r = 0; r < ex->n_runs; r++)
    if (ex->runs[r].prec.fwd.in == NM_FP32 && ex->runs[r].prec.fwd.acc == NM_FP32) return r;
  return 0;
}

int cmd_numerics(int argc, char **argv) {
  const char *file = NULL;
  int json = 0, csv = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) return cli_print_help("numerics");
    if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (strcmp(argv[i], "--csv") == 0) csv = 1;
    else if (argv[i][0] == '-') return cli_usage("numerics", "unknown option \"%s\"", argv[i]);
    else if (!file) file = argv[i];
    else return cli_usage("numerics", "expected one file");
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
  const int ref = reference_run(&ex), S = ex.steps;
  jbuf b;
  jb_init(&b);
  if (json) {
    jb_obj_begin(&b, NULL);
    jb_str(&b, "file", file);
    jb_num(&b, "params", (double)o.params);
    jb_num(&b, "steps", S);
    jb_num(&b, "tokens_per_step", (double)ex.batch * ex.model.seq);
    jb_num(&b, "seed", (double)ex.seed);
    jb_str(&b, "corpus", o.corpus_used);
    jb_num(&b, "corpus_bytes", (double)o.corpus_bytes);
    jb_str(&b, "reference", ex.runs[ref].name);
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
      jb_num(&b, "host_seconds", o.seconds[r]);
      jb_arr_begin(&b, "loss");
      for (int k = 0; k < S; k++) jb_num(&b, NULL, o.loss[(size_t)r * S + k]);
      jb_arr_end(&b);
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
    for (int r = 0; r < ex.n_runs; r++) bprintf(&b, ",%s", ex.runs[r].name);
    bprintf(&b, "\n");
    for (int k = 0; k < S; k++) {
      bprintf(&b, "%d", k + 1);
      for (int r = 0; r < ex.n_runs; r++) bprintf(&b, ",%.6f", o.loss[(size_t)r * S + k]);
      bprintf(&b, "\n");
    }
  } else {
    bprintf(&b, "numerics: %s — %zu parameters, %d steps of %d tokens, seed %llu\ncorpus: %s (%zu bytes)\n\n", file,
            o.params, S, ex.batch * ex.model.seq, (unsigned long long)ex.seed, o.corpus_used, o.corpus_bytes);
    bprintf(&b, "  %-16s %-10s %-10s %-6s %7s %10s %9s %8s\n", "run", "format", "accumulate", "kchunk", "grad",
            "final loss", "vs ref", "host s");
    for (int r = 0; r < ex.n_runs; r++) {
      const nm_prec *p = &ex.runs[r].prec;
      bprintf(&b, "  %-16s %-10s %-10s %-6d %7s %10.4f %+8.2f%% %8.1f\n", ex.runs[r].name, nm_fmt_names[p->fwd.in],
              nm_fmt_names[p->fwd.acc], p->fwd.kchunk, nm_fmt_names[p->bwd.in], o.final_loss[r],
              100 * (o.final_loss[r] / o.final_loss[ref] - 1), o.seconds[r]);
    }
    bprintf(&b, "\n  final loss: mean of the last tenth of the steps; vs ref: relative to %s\n\n  %6s",
            ex.runs[ref].name, "step");
    for (int r = 0; r < ex.n_runs; r++) bprintf(&b, " %12.12s", ex.runs[r].name);
    bprintf(&b, "\n");
    int every = S >= 10 ? S / 10 : 1;
    for (int k = 0; k < S; k++) {
      if (k != 0 && (k + 1) % every != 0 && k != S - 1) continue;
      bprintf(&b, "  %6d", k + 1);
      for (int r = 0; r < ex.n_runs; r++) bprintf(&b, " %12.4f", o.loss[(size_t)r * S + k]);
      bprintf(&b, "\n");
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
