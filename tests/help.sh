#!/usr/bin/env bash
# help.sh — every command's options are documented: each option the CLI's source accepts (a string
# literal "--name" or "-o" in tools/silica/cmd_*.c) appears in `silica help CMD`, which is the same
# text as `silica CMD --help` and `silica CMD -h`, and in the man page man/silica.1; every command
# of `silica help` has a section in the man page, and the man page formats without warnings.
# Usage: tests/help.sh PATH/TO/silica   (run from the repository root; ctest does)
set -u
SILICA=${1:?usage: tests/help.sh PATH/TO/silica}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
MAN=man/silica.1
failed=0
checks=0
bad() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

# The commands and the source file whose options they take (list and show share cmd_presets.c;
# show is the one with options; trace takes run's scenario flags, checked below, and its own -o).
declare -A SRC=([run]=cmd_run.c [validate]=cmd_validate.c [calibrate]=cmd_calibrate.c
                [compare]=cmd_compare.c [fleet]=cmd_fleet.c [report]=cmd_report.c [numerics]=cmd_numerics.c [sweep]=cmd_sweep.c [show]=cmd_presets.c [list]=
                [trace]=cmd_trace.c)

"$SILICA" help >"$TMP/all" || bad "silica help: exit $?"
for cmd in $(sed -n 's/^  \([a-z]*\) .*/\1/p' "$TMP/all"); do
  [[ $cmd == help ]] && continue
  [[ -v SRC[$cmd] ]] || { bad "silica help lists '$cmd', which this test does not know"; continue; }
done

# man-page text with roff escapes removed: "\-\-json" -> "--json", "\fB" dropped
sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN" >"$TMP/man"

for cmd in "${!SRC[@]}"; do
  "$SILICA" help "$cmd" >"$TMP/help" 2>"$TMP/err" || { bad "silica help $cmd: exit $?"; continue; }
  [[ -s $TMP/help ]] || bad "silica help $cmd: empty"
  "$SILICA" "$cmd" --help >"$TMP/h2" 2>&1 || bad "silica $cmd --help: exit $?"
  cmp -s "$TMP/help" "$TMP/h2" || bad "silica $cmd --help differs from silica help $cmd"
  "$SILICA" "$cmd" -h >"$TMP/h3" 2>&1 || bad "silica $cmd -h: exit $?"
  cmp -s "$TMP/help" "$TMP/h3" || bad "silica $cmd -h differs from silica help $cmd"
  grep -q "^\.SS .*\b$cmd\b" "$MAN" || bad "man page: no section for $cmd"
  checks=$((checks + 5))
  src=${SRC[$cmd]}
  [[ -n $src && $cmd != list ]] || continue
  for opt in $(grep -o '"-[-a-z]\+' "tools/silica/$src" | tr -d '"' | sort -u); do
    [[ $opt == -h || $opt == --help ]] && continue
    grep -q -- "$opt\b" "$TMP/help" || bad "silica help $cmd does not mention $opt (accepted by $src)"
    grep -q -- "$opt\b" "$TMP/man" || bad "man page does not mention $opt of $cmd"
    checks=$((checks + 2))
  done
done

# run's scenario flags come from a table; each must be in the help and the man page too.
for opt in $(sed -n 's/^ *{"\(--[a-z-]*\)", "[a-z_.]*"},$/\1/p' tools/silica/cmd_run.c); do
  grep -q -- "$opt\b" <("$SILICA" help run) || bad "silica help run does not mention $opt"
  grep -q -- "$opt\b" "$TMP/man" || bad "man page does not mention $opt"
  checks=$((checks + 2))
done

# The top-level options.
for opt in --version --help; do
  grep -q -- "$opt" "$TMP/all" || bad "silica help does not mention $opt"
  grep -q -- "$opt" "$TMP/man" || bad "man page does not mention $opt"
done

if command -v groff >/dev/null 2>&1; then
  warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
  [[ -z $warn ]] || bad "man page: groff warnings: $warn"
  checks=$((checks + 1))
fi

if [[ $failed -ne 0 ]]; then
  echo "help.sh: $failed of $checks checks failed" >&2
  exit 1
fi
echo "help.sh: $checks checks passed"
