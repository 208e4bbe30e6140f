# sweep_common.sh — sourced by the sweep tests: counters, a checked run, and a 30,000-point sweep
# file ($TMP/big-sweep.yaml: random strategy over an MTIA-2i-based grid, two Llama-3.2-1B workloads).
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $1" >&2
}
check() { # check NAME CMD...: the command exits 0
  local name=$1
  shift
  if "$@" >"$TMP/out" 2>"$TMP/err"; then ok; else bad "$name: exit $? ($(head -c 300 "$TMP/err"))"; fi
}
cat >"$TMP/big-sweep.yaml" <<'EOF'
chip: mtia-2i
parameters: {cores: {min: 16, max: 128, steps: 8}, clock_ghz: {min: 0.8, max: 2.0, steps: 13},
             macs_per_cycle: [512, 1024, 2048, 4096], dram_GBps: {min: 100, max: 800, steps: 8}, tdp_w: [60, 85, 120]}
constraints: {area_mm2: 500, tdp_w: 100}
workloads:
  - {weight: 1, scenario: {model: llama3.2-1b, task: decode, infer: {batch: 8, prompt_len: 1024}}}
  - {weight: 1, scenario: {model: llama3.2-1b, task: prefill, infer: {batch: 1, prompt_len: 1024}}}
strategy: {kind: random, seed: 5, count: 30000}
EOF
