/* cmd_presets.c — `silica list KIND` and `silica show KIND NAME`: the presets compiled into silica
 * (data/), or spec files, and the figures silica derives from them (sl_preset_list, sl_spec_show). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The command word (singular, as in `show chip`) and the preset kind (plural, as in data/). */
static const struct {
  const char *one, *kind;
} KINDS[] = {{"chip", "chips"}, {"stack", "stacks"}, {"model", "models"}, {"system", "systems"}};

static const char *kind_of(const char *word) {
  for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
    if (strcmp(word, KINDS[i].one) == 0 || strcmp(word, KINDS[i].kind) == 0) return KINDS[i].kind;
  return NULL;
}

int cmd_list(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (cli_is_help(argv[i])) return cli_print_help("list");
  if (argc != 2) return cli_usage("list", "expected one of chips, stacks, models, systems");
  const char *kind = kind_of(argv[1]);
  if (!kind)
    return cli_usage("list", "unknown kind \"%s\" (expected chips, stacks, models or systems)", argv[1]);
  char *text = NULL;
  sl_error err;
  sl_status s = sl_preset_list(kind, &text, &err);
  if (s) return cli_fail(&err, s);
  return cli_print(text, NULL);
}

int cmd_show(int argc, char **argv) {
  int json = 0;
  const char *pos[2] = {NULL, NULL};
  int n_pos = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) return cli_print_help("show");
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1])
      return cli_usage("show", "unknown option %s", argv[i]);
    else if (n_pos < 2)
      pos[n_pos++] = argv[i];
    else
      return cli_usage("show", "unexpected argument \"%s\"", argv[i]);
  }
  if (n_pos < 2) return cli_usage("show", "expected KIND NAME, e.g. silica show chip h100-sxm");
  const char *kind = kind_of(pos[0]);
  if (!kind) return cli_usage("show", "unknown kind \"%s\" (expected chip, stack, model or system)", pos[0]);
  char *text = NULL;
  sl_error err;
  sl_status s = sl_spec_show(kind, pos[1], json ? SL_FORMAT_JSON : SL_FORMAT_TEXT, &text, &err);
  if (s) return cli_fail(&err, s);
  return cli_print(text, NULL);
}
