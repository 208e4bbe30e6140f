/* main.c — the silica command-line program: dispatch, help texts and exit codes
 * (docs/formats.md "Commands").  The commands live in cmd_run.c, cmd_validate.c and cmd_presets.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: silica COMMAND [ARGS]\n"
    "\n"
    "silica models the performance of AI accelerators: how fast a workload (a Llama-family\n"
    "transformer, a DLRM model or a single op) runs on a chip, analytically.\n"
    "\n"
    "commands:\n"
    "  run FILE | flags     evaluate one scenario (step time, throughput, MFU, memory, breakdown)\n"
    "  validate FILE...     compare predictions with published measurements\n"
    "  list KIND            presets: chips, stacks, models, systems\n"
    "  show KIND NAME       a preset (or spec file) and what silica derives from it\n"
    "  calibrate CASES...   fit a chip's efficiency figures to kernel-level measurements\n"
    "  compare --chips A,B --workloads W1,W2\n"
    "                       the same workloads on several chips: throughput, perf/W, perf/TCO\n"
    "  report INPUT -o OUT.html\n"
    "                       an HTML report (charts) from a JSON output of run, validate or compare\n"
    "  numerics FILE        train a small model in several number formats: loss curves, gap to fp32\n"
    "  sweep FILE [--db DB] [--jobs N]\n"
    "                       design-space exploration into SQLite; sweep --report DB: front, best designs\n"
    "  trace FILE [-o OUT]  a serving scenario's requests as a trace (CSV) to replay with serve.trace\n"
    "  fleet FILE           the cheapest mix of chip types, pool sizes and roles serving a traffic\n"
    "                       within its latency targets (task: serve with serve.fleet)\n"
    "  help [COMMAND]       this text, or a command's options\n"
    "\n"
    "options: --version, --help\n"
    "exit codes: 0 success, 1 a check failed (validate), 2 bad input or usage, 3 internal error.\n"
    "Formats of scenarios, specs and outputs: docs/formats.md.\n";

static const char HELP_RUN[] =
    "usage: silica run [FILE] [flags] [--set KEY=VALUE]... [--json | --csv] [--top N] [--html OUT]\n"
    "\n"
    "Evaluates one scenario (a YAML or JSON file, see docs/formats.md \"Scenario\"), or one given by flags\n"
    "alone.  Flags and --set override the file.  A value may be a preset name, a path or inline YAML.\n"
    "\n"
    "scenario flags (each is --set KEY=VALUE for the key shown):\n"
    "  --chip NAME           chip                 --system SPEC      system ({chips: 8, node_chips: 8})\n"
    "  --stack NAME          stack                --model NAME       model (preset, path or inline)\n"
    "  --precision FMT       precision            --task TASK        "
    "train|prefill|decode|generate|serve|infer\n"
    "  --parallel SPEC       parallel (auto or {tp: 8, ...})\n"
    "  --batch N             infer.batch          --prompt-len N     infer.prompt_len\n"
    "  --gen-len N           infer.gen_len\n"
    "  --seq-len N           train.seq_len        --global-batch N   train.global_batch\n"
    "  --micro-batch N       train.micro_batch    --recompute MODE   train.recompute (none|selective|full)\n"
    "  --optimizer NAME      train.optimizer (adamw|sgd|adagrad)\n"
    "  --set KEY=VALUE       any scenario key, dotted for nested ones (repeatable)\n"
    "\n"
    "output:\n"
    "  (default)             a summary and the per-op breakdown, most expensive first\n"
    "  --json                one JSON object (docs/formats.md \"Output of silica run --json\")\n"
    "  --csv                 the breakdown as CSV with a header line\n"
    "  --top N               show only the N most expensive breakdown rows (text and CSV; 0 = all);\n"
    "                        when a parallel plan is searched, also list the N best plans\n"
    "  --html OUT            also write an HTML report of the result to OUT (docs/reports.md)\n"
    "\n"
    "example: silica run --chip h100-sxm --model llama3.1-8b --task decode --batch 1 --prompt-len 1024\n";

static const char HELP_TRACE[] =
    "usage: silica trace [FILE] [flags] [--set KEY=VALUE]... [-o OUT]\n"
    "\n"
    "Writes the requests a serving scenario (task: serve) simulates as a trace: CSV with the header\n"
    "arrival_s,prompt_tokens,output_tokens, one request a line, times to 17 digits, from the scenario's\n"
    "own generator (serve.seed, serve.arrivals, the rate; a curve's last rate).  Replaying it with\n"
    "serve.trace gives the same simulation (docs/serving.md \"Traffic\").  Flags as for run.\n"
    "\n"
    "  -o OUT   write the trace to OUT (default: stdout)\n"
    "\n"
    "example: silica trace examples/serve-llama3.1-8b.yaml --set serve.requests=100 -o trace.csv\n";

static const char HELP_VALIDATE[] =
    "usage: silica validate FILE... [--json | --csv | --report] [--max-mape X] [--filter REGEX]\n"
    "                       [--by source|file|metric] [--cross-validate [--residuals FILE]]\n"
    "\n"
    "Runs validation cases (docs/formats.md \"Validation cases\") and compares each measured output key\n"
    "with the prediction.  Cases with use: calibrate are the kernel-level measurements the chips'\n"
    "figures are fitted to: they are reported apart, as calibration.\n"
    "\n"
    "  --json          one JSON object: cases, mape, max_abs_rel_error, calibration_mape, counts\n"
    "  --csv           one line per (case, metric): name, metric, measured, predicted, rel_error,\n"
    "                  tolerance, status, group, source, message (with a header line)\n"
    "  --report        a Markdown table of cases, predictions, errors and status\n"
    "  --max-mape X    fail (exit 1) when the mean absolute relative error exceeds X (a fraction: 0.15)\n"
    "  --filter REGEX  only the cases whose name matches (POSIX extended regular expression)\n"
    "  --by source|file|metric  add the error per source (each case's group), per cases file or\n"
    "                  per measured key (energy.avg_power_w_per_chip, step_time_s, ...)\n"
    "  --cross-validate  leave-one-source-out: each stack's fitted figures (efficiency,\n"
    "                  kernel_overhead_s) refitted on every other source, the left-out source\n"
    "                  predicted with them; prints those predictions beside the fitted ones, the\n"
    "                  error per source, the stacks' fits and the coverage of the 80% intervals\n"
    "  --residuals FILE  with --cross-validate: write the cross-validated residuals (the table\n"
    "                  results take their interval from, data/validation/residuals.yaml)\n"
    "\n"
    "exit: 0 all ok; 1 a case over its tolerance, unsupported or in error, or --max-mape exceeded;\n"
    "2 a malformed cases file; 3 an internal error.\n";

static const char HELP_LIST[] =
    "usage: silica list chips|stacks|models|systems\n"
    "\n"
    "Lists the presets compiled into silica, one a line with a short description.\n";

static const char HELP_SHOW[] =
    "usage: silica show chip|stack|model|system NAME [--json]\n"
    "\n"
    "Shows a preset, or a spec file (NAME containing '/' or ending in .yaml, .yml or .json), and what\n"
    "silica derives from it: for a chip the peak FLOP/s per number format, DRAM bandwidth, ridge point,\n"
    "TDP, area and the efficiency figures with their sources; for a model its parameter counts.\n"
    "\n"
    "  --json          one JSON object\n";

static const char HELP_CALIBRATE[] =
    "usage: silica calibrate CASES... --chip NAME [--hold KEYS] | --stack NAME [-o FILE] [--json]\n"
    "\n"
    "Fits the chip's efficiency figures (GEMM efficiency per number format, DRAM and element-wise\n"
    "efficiency, kernel latency, collective link efficiency) to kernel-level measured cases (the\n"
    "validation-case format, measuring step_time_s), and its energy.dynamic_scale to cases measuring\n"
    "energy.avg_power_w_per_chip (at most the scale at which no timed case is over the TDP cap),\n"
    "with NAME's chip replacing each case's. Every other case of each metric is held out to show\n"
    "whether the fit generalises. Prints the figures before and after and the errors; writes the\n"
    "fitted figures as a chip-spec fragment naming its data.\n"
    "\n"
    "  --chip NAME     the chip to calibrate (a preset or a chip spec file)\n"
    "  --hold KEYS     with --chip: figures kept as the chip gives them, not fitted (chip-spec keys\n"
    "                  as the report lists them, comma-separated: efficiency.gemm.bf16,kernels.latency_s)\n"
    "  --stack NAME    instead: fit the stack's figures (efficiency, kernel_overhead_s, within\n"
    "                  their physical bounds) to the end-to-end cases (use: validate) that run on the\n"
    "                  stack named NAME; writes a stack-spec fragment\n"
    "  -o FILE         write the chip-spec fragment to FILE (default: print it after the report)\n"
    "  --json          the report as one JSON object (with the fragment as a string)\n";

static const char HELP_COMPARE[] =
    "usage: silica compare --chips A,B,... --workloads W1,W2,... [--systems S1,S2,...] [--baseline CHIP]\n"
    "                      [--set KEY=VALUE]... [--json | --csv]\n"
    "\n"
    "Runs each workload (a scenario file) with its chip replaced by each of the chips (presets or chip\n"
    "spec files) and reports throughput (tokens/s, samples/s, or runs/s for a single op), performance\n"
    "per watt (per joule: throughput over the system's average power) and per dollar of cost of\n"
    "ownership (throughput over cost.usd_per_hour_system), each relative to the baseline chip, and marks\n"
    "the best chip of each workload (*).  With several workloads it also prints the geometric means.\n"
    "A workload's econ: key sets the prices (docs/energy-cost.md).  Each chip runs on its own system\n"
    "of the workload's chip count: the workload's for its own chip, else the first system preset built\n"
    "from the chip (silica list systems), else the links of its chip spec; each result names it.\n"
    "\n"
    "  --chips LIST        chips, comma-separated (at most 64)\n"
    "  --workloads LIST    scenario files, comma-separated (at most 64)\n"
    "  --systems LIST      a system (preset or file) for each chip, paired in order, given the\n"
    "                      workload's chip count\n"
    "  --baseline CHIP     the chip ratios are relative to (default: the first of --chips)\n"
    "  --set KEY=VALUE     a scenario key for every workload, e.g. --set econ=gpu-prices (repeatable)\n"
    "  --json              one JSON object: workloads with per-chip results, relative figures, best chips\n"
    "  --csv               one line per (workload, chip)\n"
    "\n"
    "example: silica compare --chips h100-sxm,mtia-2i --workloads examples/compare-llm-decode.yaml\n";

static const char HELP_FLEET[] =
    "usage: silica fleet FILE [--set KEY=VALUE]... [--json] [--brute-force]\n"
    "\n"
    "The cheapest fleets that serve a serving scenario's traffic (task: serve, its arrival rate and\n"
    "lengths) within its SLO (p99 TTFT and p99 TPOT): colocated pools of one chip type and\n"
    "disaggregated prefill x decode pools of any two of the chip types in serve.fleet.chips, each pool\n"
    "at most serve.fleet.max_chips chips.  Bisects on pool sizes (more chips never miss the SLO more);\n"
    "prints the serve.fleet.top cheapest mixes with cost per hour, power, p99 latencies and headroom\n"
    "(the highest rate the mix sustains within the SLO over the offered rate).  docs/serving.md.\n"
    "\n"
    "  --set KEY=VALUE  a scenario key (repeatable)\n"
    "  --json           one JSON object\n"
    "  --brute-force    simulate every pool size instead of bisecting (slow; a check of the search)\n"
    "\n"
    "example: silica fleet examples/serve-fleet.yaml\n";

const char *cli_help_all(void) {
  return USAGE;
}

const char *cli_help(const char *cmd) {
  if (strcmp(cmd, "run") == 0) return HELP_RUN;
  if (strcmp(cmd, "report") == 0) return CLI_HELP_REPORT;
  if (strcmp(cmd, "validate") == 0) return HELP_VALIDATE;
  if (strcmp(cmd, "list") == 0) return HELP_LIST;
  if (strcmp(cmd, "show") == 0) return HELP_SHOW;
  if (strcmp(cmd, "compare") == 0) return HELP_COMPARE;
  if (strcmp(cmd, "fleet") == 0) return HELP_FLEET;
  if (strcmp(cmd, "calibrate") == 0) return HELP_CALIBRATE;
  if (strcmp(cmd, "sweep") == 0) return CLI_HELP_SWEEP;
  if (strcmp(cmd, "numerics") == 0) return CLI_HELP_NUMERICS;
  if (strcmp(cmd, "trace") == 0) return HELP_TRACE;
  if (strcmp(cmd, "help") == 0) return USAGE;
  return NULL;
}

int cli_is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_print_help(const char *cmd) {
  const char *h = cmd ? cli_help(cmd) : USAGE;
  if (!h) return cli_usage(NULL, "unknown command \"%s\"", cmd);
  cli_buf b = {0};
  bprintf(&b, "%s", h);
  return cli_emit(&b);
}

static int cmd_help(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) return cli_print_help("help");
  if (argc > 2) return cli_usage("help", "expected at most one command name");
  return cli_print_help(argc == 2 ? argv[1] : NULL);
}

/* A progress line on stderr for long work, when stderr is a terminal: at most five updates a
 * second, erased when the command ends. */
static int progress_shown;

static void progress_line(void *ud, const char *what, double done, double total) {
  (void)ud;
  static double last;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
  if (progress_shown && now - last < 0.2 && done < total) return;
  last = now;
  fprintf(stderr, "\r\033[K%s %.0f of %.0f (%.0f%%)", what, done, total, total > 0 ? 100 * done / total : 0);
  fflush(stderr);
  progress_shown = 1;
}

static int finish(int rc) {
  if (progress_shown) fprintf(stderr, "\r\033[K");
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) return cli_usage(NULL, "missing command");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
    cli_buf b = {0};
    bprintf(&b, "silica %s (schema %d)\n", SILICA_VERSION, SILICA_SCHEMA_VERSION);
    return cli_emit(&b);
  }
  if (cli_is_help(cmd)) return cli_print_help(NULL);
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } cmds[] = {{"run", cmd_run},       {"validate", cmd_validate}, {"list", cmd_list},
              {"show", cmd_show},     {"compare", cmd_compare},   {"calibrate", cmd_calibrate},
              {"report", cmd_report}, {"sweep", cmd_sweep},       {"numerics", cmd_numerics},
              {"trace", cmd_trace},   {"fleet", cmd_fleet},       {"help", cmd_help}};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (strcmp(cmd, cmds[i].name) == 0) {
      if (isatty(STDERR_FILENO) && strcmp(cmd, "sweep") != 0) sl_progress_set(progress_line, NULL);
      return finish(cmds[i].fn(argc - 1, argv + 1)); /* each handles --help */
    }
  return cli_usage(NULL, "unknown command \"%s\"", cmd);
}
