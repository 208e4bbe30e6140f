#!/usr/bin/env bash
# usability.sh — what a new user meets first on the command line: errors that say what was meant,
# outputs in one unit, plans that fit, each chip of a comparison on its own system, and doc paths
# that exist.
# Usage: tests/usability.sh PATH/TO/silica   (run from the repository root; ctest does)
set -u

SILICA=${1:?usage: tests/usability.sh PATH/TO/silica}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_common.sh"

# ---- 7: a scenario given where a cases file is expected --------------------------------------
for cmd in "calibrate --chip h100-sxm" "calibrate --stack trtllm" "validate"; do
  # shellcheck disable=SC2086
  run "$cmd on a scenario" 2 $cmd examples/llama-8b-decode.yaml &&
    contains "$cmd on a scenario says it expected a cases file" "$TMP/err" 'this is a scenario.*expect a cases file'
done

# ---- 11: show prints text for people, --json for programs; a stack shows its fitted figures -------
run "show model" 0 show model llama3.1-8b && {
  lacks "show model is not raw JSON" "$TMP/out" '[{]"'
  contains "show model gives the architecture a line each" "$TMP/out" '^    max_context: 131072$'
}
run "show system" 0 show system dgx-h100 && lacks "show system is not raw JSON" "$TMP/out" '[{]"'
run "show stack" 0 show stack megatron-2024 && {
  contains "show stack gives the fitted efficiency" "$TMP/out" '^efficiency 0\.[0-9]+ .*fitted'
  contains "show stack gives the fitted overhead" "$TMP/out" '^kernel launch overhead .*fitted'
}
run "show stack --json" 0 show stack megatron-2024 --json &&
  contains "show stack --json lists the fitted figures" "$TMP/out" '"fitted":\["efficiency","kernel_overhead_s"\]'

# ---- 4: the software a chip family runs is its default stack --------------------------------------
run "show chip tpu" 0 show chip tpu-v5p && contains "show chip gives the default stack" "$TMP/out" '^default stack: train maxtext, infer maxtext, dlrm maxtext$'
run "run on mtia" 0 run --chip mtia-2i --model llama3.1-8b --task decode &&
  contains "an MTIA run uses PyTorch with Meta's kernel library" "$TMP/out" '^  stack +mtia-pytorch$'

# ---- 9: one memory unit, money without exponents -------------------------------------------------
run "run 70b decode with a fixed tp 1" 0 run --chip h100-sxm --system dgx-h100 --model llama3.1-70b --task decode \
  --batch 64 --parallel '{tp: 1}' && {
  lacks "memory only in GiB" "$TMP/out" '[0-9] GB\b'
  contains "says which plan would fit" "$TMP/out" 'parallel: \{tp: 2\} fits'
}
run "run on a large system" 0 run --chip gb200 --system gb200-nvl72 --model llama3.1-405b --task decode --batch 1152 \
  --set system.chips=1152 && {
  contains "money in dollars with separators" "$TMP/out" '^  cost +\$[0-9]{1,3}(,[0-9]{3})+ per hour'
  lacks "no exponent in money" "$TMP/out" '\$[0-9.]+e[+-]'
}

# ---- 10: long work shows a progress line on a terminal, and is quiet otherwise; a resumed sweep says so
run "serve, stderr not a terminal" 0 run examples/serve-llama3.1-8b.yaml &&
  if [[ -s $TMP/err ]]; then bad "serve is quiet when stderr is not a terminal"; else ok; fi
if command -v python3 >/dev/null 2>&1; then
  # stderr on a pseudo-terminal: the progress line, erased at the end
  if python3 - "$SILICA" >"$TMP/pty" 2>&1 <<'PY'
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.run([sys.argv[1], "run", "examples/serve-llama3.1-8b.yaml"], stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
data = b""
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    data += d
sys.stdout.write(repr(data))
sys.exit(p.returncode)
PY
  then
    contains "serve shows a progress line on a terminal" "$TMP/pty" 'serving simulation: requests [0-9]+ of 10000'
  else
    bad "serve under a pseudo-terminal: $(head -c 300 "$TMP/pty")"
  fi
fi
run "sweep" 0 sweep examples/mtia-tco-sweep.yaml --db "$TMP/m.sqlite" --jobs 2 &&
  if [[ -s $TMP/err ]]; then bad "a new sweep is quiet when stderr is not a terminal"; else ok; fi
run "sweep resumed" 0 sweep examples/mtia-tco-sweep.yaml --db "$TMP/m.sqlite" &&
  contains "a resumed sweep says how many points it found" "$TMP/err" '^sweep: resumed .*m\.sqlite: 432 points found'

# ---- 12: make run's table states its prompt length, and its More: line asks for the same one ------
if scripts/demo "$SILICA" >"$TMP/out" 2>"$TMP/err"; then
  ok
  contains "the demo states its prompt length" "$TMP/out" '^Llama-3.1-8B.*2048-token prompt'
  contains "the demo's More: line keeps the prompt length" "$TMP/out" '^More: .*--prompt-len 2048$'
else
  bad "scripts/demo: exit $?"
fi

if [[ $failed -ne 0 ]]; then
  echo "usability.sh: $failed of $((passed + failed)) checks failed" >&2
  exit 1
fi
echo "usability.sh: $passed checks passed"
