/* cmd_sweep.c — `silica sweep FILE [--db DB] [--jobs N]` and `silica sweep --report DB`: design-space
 * exploration (sl_sweep_run, docs/sweep.md).  A progress line on stderr when it is a terminal; the
 * report of the database on stdout at the end. */
#include "cli.h"
#ifdef SILICA_MPI
#include "sweep_mpi.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char CLI_HELP_SWEEP[] =
    "usage: silica sweep FILE [--db DB] [--jobs N] [--json]\n"
    "       silica sweep --report DB [--json]\n"
    "\n"
    "Design-space exploration (docs/sweep.md): varies the base chip's parameters of the sweep FILE,\n"
    "evaluates every design point on the weighted workload mix, and writes one row per point into the\n"
    "SQLite database DB.  An interrupted sweep (Ctrl-C, kill -9) run again with the same FILE and DB\n"
    "resumes where it stopped.  At the end it prints the report below.\n"
    "\n"
    "  --db DB       the results database (default: FILE with .sqlite for its extension)\n"
    "  --jobs N      evaluate on N threads (default 1); the results do not depend on N\n"
    "  --report DB   print the Pareto front, the best design per objective and the reference chips\n"
    "  --json        the report as one JSON object (the whole front, every infeasible reason)\n"
    "\n"
    "A progress line (points done, rate, best so far, ETA) goes to stderr when it is a terminal; a\n"
    "database that already holds points of the sweep is resumed, and a line on stderr says how many.\n"
    "example: silica sweep examples/mtia-tco-sweep.yaml --db /tmp/mtia.sqlite --jobs 4\n";

static void progress(void *ud, const sl_sweep_progress *p) {
  (void)ud;
  char eta[32];
  if (isfinite(p->eta_s))
    snprintf(eta, sizeof eta, "%.0f s", p->eta_s);
  else
    snprintf(eta, sizeof eta, "-");
  fprintf(stderr, "\r%ld/%ld points (%.0f%%), %ld feasible, %.0f points/s, best %.4g, ETA %s   ", p->done,
          p->total, p->total ? 100.0 * (double)p->done / (double)p->total : 100.0, p->feasible, p->rate_per_s,
          p->best, eta);
  fflush(stderr);
}

/* The number of ranks when started by an MPI launcher (Open MPI, or a PMI/PMIx one), else 1. */
static long mpi_ranks(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return strtol(v, NULL, 10);
  }
  return 1;
}

int cmd_sweep(int argc, char **argv) {
  const char *file = NULL, *db = NULL, *report = NULL;
  double jobs = 1;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r;
    if (cli_is_help(argv[i])) return cli_print_help("sweep");
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
      continue;
    }
    if ((r = cli_opt(argc, argv, &i, "--db", &v)) > 0)
      db = v;
    else if (r < 0)
      return cli_usage("sweep", "--db needs a file name");
    else if ((r = cli_opt(argc, argv, &i, "--report", &v)) > 0)
      report = v;
    else if (r < 0)
      return cli_usage("sweep", "--report needs a database file");
    else if ((r = cli_opt(argc, argv, &i, "--jobs", &v)) > 0) {
      if (!cli_number(v, &jobs) || jobs < 1 || jobs > 256 || jobs != floor(jobs))
        return cli_usage("sweep", "--jobs needs a whole number from 1 to 256");
    } else if (r < 0)
      return cli_usage("sweep", "--jobs needs a number");
    else if (argv[i][0] == '-' && argv[i][1])
      return cli_usage("sweep", "unknown option \"%s\"", argv[i]);
    else if (!file)
      file = argv[i];
    else
      return cli_usage("sweep", "expected one sweep file");
  }
  if (report) {
    if (file || db) return cli_usage("sweep", "--report takes only the database");
    char *text = NULL;
    sl_error err;
    sl_status s = sl_sweep_report(report, json, &text, &err);
    if (s) return cli_fail(&err, s);
    return cli_print(text, NULL);
  }
  if (!file) return cli_usage("sweep", "missing the sweep FILE");
  char db_default[1024];
  if (!db) {
    const char *dot = strrchr(file, '.'), *slash = strrchr(file, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - file) : strlen(file);
    snprintf(db_default, sizeof db_default, "%.*s.sqlite", (int)(stem < 1000 ? stem : 1000), file);
    db = db_default;
  }
  sl_error err;
  sl_sweep *sw = NULL;
  sl_status s = sl_sweep_load(file, NULL, &sw, &err);
  if (s) return cli_fail(&err, s);
  sl_sweep_params p = sl_sweep_params_default();
  p.jobs = (int)jobs;
  p.report_json = json;
  if (isatty(STDERR_FILENO)) p.progress = progress;
  char *text = NULL;
  if (mpi_ranks() > 1) {
#ifdef SILICA_MPI
    if (sweep_mpi_main(sw, db, &p, &text, &err, &s)) { /* a worker rank */
      sl_sweep_free(sw);
      return EXIT_OK;
    }
#else
    sl_sweep_free(sw);
    fprintf(stderr, "silica: sweep: started by mpirun, but this silica was built without MPI "
                    "(install libopenmpi-dev and rebuild); refusing to run the sweep once per rank\n");
    return EXIT_INPUT;
#endif
  } else {
    sl_sweep_stats st;
    memset(&st, 0, sizeof st);
    s = sl_sweep_run(sw, db, &p, &st, &text, &err);
    if (p.progress) fprintf(stderr, "\n");
    p.progress = NULL;
    /* a database with points in it was resumed: say so, and how many it held */
    if (!s && st.resumed > 0)
      fprintf(stderr, "sweep: resumed %s: %ld points found there, %ld evaluated now, %ld in all\n", db,
              st.resumed, st.evaluated, st.total);
  }
  if (p.progress) fprintf(stderr, "\n");
  sl_sweep_free(sw);
  if (s) return cli_fail(&err, s);
  return cli_print(text, NULL);
}
