# cli_common.sh — the harness of the command-line tests (cli.sh, usability.sh), sourced after they
# set SILICA and TMP: counters, a failure report, running silica, and matching its output.

passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $1" >&2
  [[ -s $TMP/out ]] && sed 's/^/  stdout: /' "$TMP/out" | head -8 >&2
  [[ -s $TMP/err ]] && sed 's/^/  stderr: /' "$TMP/err" | head -5 >&2
}

# run NAME EXPECTED_RC ARGS...: runs silica, keeps stdout/stderr in $TMP/out and $TMP/err.
run() {
  local name=$1 want=$2
  shift 2
  "$SILICA" "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [[ $rc -ne $want ]]; then
    bad "$name: exit $rc, expected $want"
    return 1
  fi
  ok
  return 0
}

contains() { # NAME FILE PATTERN (extended regex)
  if grep -Eq -- "$3" "$2"; then ok; else bad "$1: $2 does not match /$3/"; fi
}
lacks() { # NAME FILE PATTERN (extended regex)
  if grep -Eq -- "$3" "$2"; then bad "$1: $2 matches /$3/"; else ok; fi
}
