#!/usr/bin/env bash
# cli.sh — command-line contract of silica (FORMATS.md "Commands"): exit codes, one-line errors on
# stderr, nothing on stdout for bad input, and the shape of the outputs.
# Usage: tests/cli.sh PATH/TO/silica   (run from the repository root; ctest does)
set -u

SILICA=${1:?usage: tests/cli.sh PATH/TO/silica}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

have_python=0
command -v python3 >/dev/null 2>&1 && have_python=1

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $1" >&2
  [[ -s $TMP/out ]] && sed 's/^/  stdout: /' "$TMP/out" | head -5 >&2
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

# An input error: exit 2, one line on stderr starting "silica: ", nothing on stdout.
input_error() {
  local name=$1
  shift
  run "$name" 2 "$@" || return 1
  local lines
  lines=$(wc -l <"$TMP/err")
  if [[ $lines -ne 1 ]] || ! grep -q '^silica: ' "$TMP/err"; then
    bad "$name: stderr is not one 'silica: ...' line"
    return 1
  fi
  if [[ -s $TMP/out ]]; then
    bad "$name: wrote to stdout on exit 2"
    return 1
  fi
  ok
}

contains() { # NAME FILE PATTERN (extended regex)
  if grep -Eq -- "$3" "$2"; then ok; else bad "$1: $2 does not match /$3/"; fi
}

valid_json() {
  [[ $have_python -eq 1 ]] || return 0
  if python3 -c 'import json,sys; json.load(sys.stdin)' <"$TMP/out" 2>/dev/null; then
    ok
  else
    bad "$1: stdout is not valid JSON"
  fi
}

json_has() { # NAME PYTHON_EXPR over d (the parsed stdout)
  [[ $have_python -eq 1 ]] || return 0
  local py="import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"
  if python3 -c "$py" <"$TMP/out" 2>/dev/null; then
    ok
  else
    bad "$1: JSON check failed: $2"
  fi
}

# ---- usage and dispatch -----------------------------------------------------------------------
input_error "no command"
input_error "unknown command" frobnicate
input_error "unknown option" run --frobnicate
input_error "option without value" run --chip
input_error "not built yet" sweep x.yaml
input_error "html not built yet" run --chip h100-sxm --model llama3.1-8b --task decode --html out.html
run "--version" 0 --version && contains "--version" "$TMP/out" '^silica [0-9]+\.[0-9]+\.[0-9]+'
run "help" 0 help && contains "help" "$TMP/out" 'validate'
run "help run" 0 help run && contains "help run" "$TMP/out" '--prompt-len'
run "run --help" 0 run --help && contains "run --help" "$TMP/out" '--top'
run "validate --help" 0 validate --help && contains "validate --help" "$TMP/out" '--max-mape'
input_error "help unknown" help frobnicate

# ---- presets ------------------------------------------------------------------------------------
run "list chips" 0 list chips && contains "list chips" "$TMP/out" '^h100-sxm '
run "list stacks" 0 list stacks && contains "list stacks" "$TMP/out" '^megatron-2024 '
run "list models" 0 list models && contains "list models" "$TMP/out" '^llama3.1-8b '
run "list systems" 0 list systems
input_error "list unknown kind" list gadgets
run "show chip" 0 show chip h100-sxm && contains "show chip" "$TMP/out" 'TFLOP/s'
if run "show chip --json" 0 show chip h100-sxm --json; then
  valid_json "show chip --json"
  keys='("peak_tflops", "dram_bw_GBps", "ridge_flops_per_byte", "tdp_w", "area_mm2_published", "area_mm2_estimate")'
  json_has "show chip --json keys" "all(k in d for k in $keys) and d['peak_tflops']['bf16'] > 900"
fi
if run "show model --json" 0 show model llama3.1-8b --json; then
  valid_json "show model --json"
  json_has "show model params" '7.5e9 < d["parameters"]["total"] < 8.5e9'
fi
run "show stack" 0 show stack trtllm
input_error "show unknown chip" show chip no-such-chip

# ---- run ------------------------------------------------------------------------------------------
input_error "run missing file" run "$TMP/no-such-file.yaml"
input_error "run unknown chip" run --chip no-such-chip --model llama3.1-8b --task decode
cat >"$TMP/bad-key.yaml" <<'EOF'
chip: h100-sxm
model: llama3.1-8b
task: decode
infer: {batch: 1, prompt_len: 1024}
frobnication: 3
EOF
if input_error "run unknown key" run "$TMP/bad-key.yaml"; then
  contains "unknown key names file:line" "$TMP/err" 'bad-key\.yaml:5'
  contains "unknown key names the key" "$TMP/err" 'frobnication'
fi
DECODE=(--chip h100-sxm --model llama3.1-8b --task decode --batch 1 --prompt-len 1024)
if run "run decode --json" 0 run "${DECODE[@]}" --json; then
  valid_json "run decode --json"
  json_has "run --json keys" '"step_time_s" in d and d["feasible"] is True and d["scenario"]["task"] == "decode"'
  json_has "run --json breakdown" 'isinstance(d["breakdown"], list) and len(d["breakdown"]) > 0'
fi
run "run decode text" 0 run "${DECODE[@]}" --top 3 && contains "run decode text" "$TMP/out" 'step time'
run "run decode csv" 0 run "${DECODE[@]}" --csv &&
  contains "run decode csv" "$TMP/out" '^name,phase,category,count,time_s'
cat >"$TMP/decode.yaml" <<'EOF'
chip: h100-sxm
model: llama3.1-8b
task: decode
infer: {batch: 1, prompt_len: 1024}
EOF
run "run file + --set" 0 run "$TMP/decode.yaml" --set infer.batch=4 --json &&
  json_has "--set overrides the file" 'd["scenario"]["infer"]["batch"] == 4'

# ---- validate ---------------------------------------------------------------------------------------
cat >"$TMP/cases.yaml" <<'EOF'
cases:
  - name: tiny-gemm
    source: "a made-up number; the tolerance only checks that the case runs"
    scenario: {chip: h100-sxm, model: {op: gemm, m: 4096, n: 4096, k: 4096}, precision: bf16, task: infer}
    measured: {step_time_s: 1.5e-4}
    tolerance: 100
EOF
run "validate ok" 0 validate "$TMP/cases.yaml" && contains "validate ok" "$TMP/out" 'tiny-gemm'
if run "validate --json" 0 validate "$TMP/cases.yaml" --json; then
  valid_json "validate --json"
  json_has "validate --json keys" 'd["cases"][0]["status"] == "ok" and "mape" in d and d["counts"]["ok"] == 1'
fi
run "validate --report" 0 validate "$TMP/cases.yaml" --report &&
  contains "validate --report" "$TMP/out" '^\| case \|'
sed 's/tolerance: 100/tolerance: 1.0e-9/' "$TMP/cases.yaml" >"$TMP/tight.yaml"
run "validate over tolerance" 1 validate "$TMP/tight.yaml"
input_error "validate no match" validate "$TMP/cases.yaml" --filter '^nothing$'
input_error "validate missing file" validate "$TMP/no-such-cases.yaml"
sed 's/^    tolerance: 100/    tolerence: 100/' "$TMP/cases.yaml" >"$TMP/badcase.yaml"
if input_error "validate unknown case key" validate "$TMP/badcase.yaml"; then
  contains "validate unknown key names file:line" "$TMP/err" 'badcase\.yaml:6'
  contains "validate unknown key names the key" "$TMP/err" 'tolerence'
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
