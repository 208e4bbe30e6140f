/* cli.h — pieces shared by the commands of the silica program (docs/formats.md "Commands").
 * Every command builds its whole output in memory and prints it only once it has succeeded, so
 * that a failing command (exit 2) writes nothing on stdout. */
#ifndef SILICA_CLI_H
#define SILICA_CLI_H

#include "silica.h"

#include <stddef.h>

enum { EXIT_OK = 0, EXIT_CHECK = 1, EXIT_INPUT = 2, EXIT_INTERNAL = 3 };

/* Commands: argv[0] is the command name. Return the exit code. */
int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv); /* cmd_trace.c */
/* run's scenario flags for another command (cmd_run.c): the scenario, or an exit code with *out NULL
 * (help printed, usage or input error reported); -1 when loaded. */
int cli_load_scenario(const char *cmd, int argc, char **argv, sl_scenario **out);
int cmd_validate(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_report(int argc, char **argv); /* cmd_report.c */
int cmd_numerics(int argc, char **argv);
extern const char CLI_HELP_NUMERICS[];
extern const char CLI_HELP_REPORT[];
int cmd_sweep(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
extern const char CLI_HELP_SWEEP[];
/* Writes the HTML report of `json` (a silica JSON output; `name` names it on the page) to out_path
 * ("-": stdout).  Returns an exit code; errors are printed. */
int cli_write_report(const char *cmd, const char *json, const char *name, const char *out_path);

/* Usage text of a command (NULL when unknown); cli_help_all for `silica help`. */
const char *cli_help(const char *cmd);
const char *cli_help_all(void);
/* 1 when argv[i] is -h or --help. */
int cli_is_help(const char *arg);
int cli_print_help(const char *cmd);

/* Error reporting: one line on stderr, prefixed "silica: "; return the exit code to use. */
int cli_fail(const sl_error *err, sl_status s);
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_internal(const char *what);

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE".  Returns 1 and sets *val (advancing
 * *i past a separate value), 0 when it is another argument, -1 when the value is missing. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
/* Parses a finite number (the whole string). */
int cli_number(const char *s, double *out);

/* Writes s (a string from the library, or NULL when it ran out of memory), then `end` (NULL: nothing)
 * on stdout and frees s with sl_free.  EXIT_OK, or EXIT_INTERNAL (out of memory, write error). */
int cli_print(char *s, const char *end);

/* The CLI's own output buffer: text gathered with bprintf and written at the end (cli_emit), so that a
 * command that fails prints nothing on stdout.  Zero-initialise it: cli_buf b = {0}; */
typedef struct cli_buf {
  char *s;
  size_t len, cap;
  int oom; /* an allocation failed: cli_emit reports it */
} cli_buf;
void bprintf(cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_emit(cli_buf *b); /* writes and frees; EXIT_OK or EXIT_INTERNAL (out of memory, write error) */

#endif /* SILICA_CLI_H */
