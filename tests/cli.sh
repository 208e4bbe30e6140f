#!/usr/bin/env bash
# cli.sh — command-line contract of silica (docs/formats.md "Commands"): exit codes, one-line errors on
# stderr, nothing on stdout for bad input, and the shape of the outputs.
# Usage: tests/cli.sh PATH/TO/silica   (run from the repository root; ctest does)
set -u

SILICA=${1:?usage: tests/cli.sh PATH/TO/silica}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

have_python=0
command -v python3 >/dev/null 2>&1 && have_python=1

. "$(dirname "$0")/cli_common.sh"

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
input_error "sweep without file" sweep
input_error "sweep missing file" sweep "$TMP/no-such-sweep.yaml"
# calibrate --hold: figure keys as the report lists them, with --chip only
input_error "calibrate --hold unknown figure" calibrate data/validation/gemm-a100-trtllm.yaml --chip a100-sxm-80gb --hold efficiency.dram,no.such
input_error "calibrate --hold without keys" calibrate data/validation/gemm-a100-trtllm.yaml --chip a100-sxm-80gb --hold
input_error "calibrate --hold with --stack" calibrate data/validation/power.yaml --stack vllm-async --hold efficiency.dram
if run "calibrate --hold json" 0 calibrate data/validation/gemm-a100-trtllm.yaml --chip a100-sxm-80gb --hold efficiency.dram,kernels.latency_s --json; then
  json_has "calibrate --hold: named in the report, not fitted" "d['held'] == 'efficiency.dram,kernels.latency_s' and all(f['key'] not in ('efficiency.dram', 'kernels.latency_s') for f in d['figures']) and '(--hold efficiency.dram,kernels.latency_s: kept as given)' in d['fragment']"
fi
# HTML reports (docs/reports.md; the pages themselves are checked in a browser by report_browser.py)
input_error "report without -o" report x.json
input_error "report without input" report -o "$TMP/r.html"
input_error "report unreadable input" report "$TMP/no-such.json" -o "$TMP/r.html"
printf 'SQLite format 3\0 a sweep database' >"$TMP/sweep.db"
input_error "report broken sweep db" report "$TMP/sweep.db" -o "$TMP/r.html" && contains "report broken sweep db says why" "$TMP/err" 'not a sweep database'
echo '{"hello": 1}' >"$TMP/other.json"
input_error "report unknown kind" report "$TMP/other.json" -o "$TMP/r.html"
input_error "run --html without file" run --chip h100-sxm --model llama3.1-8b --task decode --html
if run "run --html" 0 run --chip h100-sxm --model llama3.1-8b --task decode --html "$TMP/run.html"; then
  contains "run --html keeps the text output" "$TMP/out" 'step time'
  contains "run --html writes a run page" "$TMP/run.html" '<body data-kind="run">'
fi
"$SILICA" run --chip h100-sxm --model llama3.1-8b --task decode --json >"$TMP/run.json" 2>/dev/null
run "report to stdout" 0 report "$TMP/run.json" -o - && contains "report to stdout" "$TMP/out" '^<!DOCTYPE html>'
run "report to a file" 0 report "$TMP/run.json" -o "$TMP/run2.html" && contains "report file" "$TMP/run2.html" '</html>'
run "report --help" 0 report --help && contains "report --help" "$TMP/out" 'scaling'
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
  json_has "show chip area estimate" "0.8 * 814 < d['area_mm2_estimate'] < 1.2 * 814 and d['energy']['idle_power_w'] < 0.2 * 700"
  json_has "show chip energy scale" "1 < d['energy']['dynamic_scale'] < 2"
fi
run "show chip energy scale text" 0 show chip h100-sxm && contains "show chip energy scale text" "$TMP/out" 'energy.dynamic_scale'
# every collective kernel the link has figures for, symmetric memory's two-shot kernel included
run "show chip collectives text" 0 show chip h100-sxm &&
  contains "show chip collectives text" "$TMP/out" 'multimem kernel 0\.[0-9]+, [0-9.]+ µs; symmetric-memory two-shot kernel 0\.[0-9]+, [0-9.]+ µs$'
# a ring's local step (links.scale_up.local_GBps): shown, in JSON, and only on the scale-up link
run "show chip ring local step" 0 show chip h100-sxm &&
  contains "show chip ring local step" "$TMP/out" "a ring's local step [0-9.]+ GB/s"
if run "show chip ring local step --json" 0 show chip h100-sxm --json; then
  json_has "show chip ring local step --json" "d['links']['scale_up']['local_GBps'] > 100"
fi
input_error "local_GBps on scale_out" run --chip h100-sxm --model '{op: all_gather, bytes: 1048576}' --task infer \
  --system '{chips: 16, node_chips: 8, scale_out: {bw_GBps: 50, local_GBps: 500}}' &&
  contains "local_GBps on scale_out names the key" "$TMP/err" 'local_GBps'
# the step shows in an all-gather's time: 8 H100, 512 MiB, with and without it
if [[ $have_python -eq 1 ]] && run "ring local step all-gather" 0 run --chip h100-sxm --system '{chips: 8}' \
  --stack cuda-events --model '{op: all_gather, bytes: 536870912}' --task infer --json; then
  cp "$TMP/out" "$TMP/ag_local.json"
  if run "ring local step all-gather (none)" 0 run --chip h100-sxm --system '{chips: 8, scale_up: {local_GBps: 0}}' \
    --stack cuda-events --model '{op: all_gather, bytes: 536870912}' --task infer --json; then
    if python3 -c "
import json,sys
a=json.load(open('$TMP/ag_local.json'))['step_time_s']; b=json.load(open('$TMP/out'))['step_time_s']
sys.exit(0 if abs((a-b)-536870912/8/745e9)<2e-6 else 1)"; then ok; else bad "ring local step all-gather: the step is not S/n / local_GBps"; fi
  fi
fi
if run "show chip collectives text (none)" 0 show chip a100-sxm-80gb; then
  if grep -q 'two-shot kernel' "$TMP/out"; then bad "show chip collectives text (none): a kernel without figures is printed"; else ok; fi
fi

if run "show model --json" 0 show model llama3.1-8b --json; then
  valid_json "show model --json"
  json_has "show model params" '7.5e9 < d["parameters"]["total"] < 8.5e9'
fi
run "show stack" 0 show stack trtllm && contains "show stack validated on" "$TMP/out" '^validated on: [0-9]+ measurements from [0-9]+ sources'
# What a preset is validated on, against a naive count of the shipped residual table: its rows whose
# stack (chip) is the preset, each error predicted / measured - 1 (a rate's residual is sign-flipped).
record_ref() { # FIELD NAME -> "measurements mean_abs_error mean_abs_error_fitted" from data/validation/residuals.yaml
  python3 - "$1" "$2" <<'PY'
import math, re, sys
field, name = sys.argv[1], sys.argv[2]
errs, fits = [], []
for line in open("data/validation/residuals.yaml"):
    m = re.search(field + r': "([^"]*)".*metric: ([^,]*), r: (-?[0-9.eE+-]+)(?:, r_fit: (-?[0-9.eE+-]+))?', line)
    if m and m.group(1) == name:
        sign = -1 if any(w in m.group(2) for w in ("per_s", "mfu", "throughput", "goodput")) else 1
        errs.append(math.exp(sign * float(m.group(3))) - 1)
        if m.group(4): fits.append(math.exp(sign * float(m.group(4))) - 1)
mean = lambda v: sum(abs(e) for e in v) / len(v) if v else -1
print(len(errs), mean(errs), mean(fits))
PY
}
if [[ $have_python -eq 1 ]] && run "show stack --json" 0 show stack trtllm --json; then
  read -r n mae fit <<<"$(record_ref stack trtllm)"
  json_has "show stack validated_on (trtllm: $n rows)" "$n > 10 and d['validated_on']['measurements'] == $n and abs(d['validated_on']['mean_abs_error'] - $mae) < 1e-9 and sum(s['measurements'] for s in d['validated_on']['sources']) == $n"
  json_has "show stack validated_on fitted" "$fit > 0 and abs(d['validated_on']['mean_abs_error_fitted'] - $fit) < 1e-9"
  run "show chip --json (validated on)" 0 show chip h100-sxm --json
  read -r n mae fit <<<"$(record_ref chip h100-sxm)"
  json_has "show chip validated_on (h100-sxm: $n rows)" "$n > 10 and d['validated_on']['measurements'] == $n and abs(d['validated_on']['mean_abs_error'] - $mae) < 1e-9"
  run "show chip --json (no record)" 0 show chip mtia-2i --json
  json_has "show chip validated_on empty" "d['validated_on']['measurements'] == 0 and d['validated_on']['sources'] == []"
fi
# The held-out serving runs (data/validation/power-heldout.yaml): every one of the 68 cases runs, power,
# throughput and the mean running batch predicted for each, the three Qwen3 presets and Llama 3.3 70B among them
if [[ $have_python -eq 1 ]] && run "validate power-heldout.yaml --json" 1 validate data/validation/power-heldout.yaml --json; then
  json_has "power-heldout: 204 predictions" "len(d['cases']) == 204 and all(c['predicted'] is not None and c['predicted'] > 0 for c in d['cases'])"
  json_has "power-heldout: four models" "len(set(c['name'].split('-')[2] + c['name'].split('-')[3] for c in d['cases'])) == 4"
fi
# The power record of `show chip` (data/validation/power-record.yaml, written by scripts/power-record):
# the board-power entries of a fresh validate over data/validation/power.yaml whose scenario names the
# chip (validate's JSON `chip`), predictions apart.  A record older than the model fails here.
if [[ $have_python -eq 1 ]] && run "validate power.yaml --json" 1 validate data/validation/power.yaml --json; then
  cp "$TMP/out" "$TMP/power.json"
  json_has "validate --json chip key" "all(c.get('chip') for c in d['cases'])"
  read -r pn pmae pfit <<<"$(python3 - "$TMP/power.json" <<'PY'
import json, sys
cs = [c for c in json.load(open(sys.argv[1]))["cases"]
      if c["metric"] == "energy.avg_power_w_per_chip" and c.get("chip") == "h100-sxm"]
e = [c["rel_error"] for c in cs if c["use"] == "validate"]
f = [c["rel_error"] for c in cs if c["use"] == "calibrate"]
print(len(e), sum(abs(x) for x in e) / len(e) if e else -1, len(f))
PY
)"
  run "show chip --json (power record)" 0 show chip h100-sxm --json
  json_has "show chip power_checked_on matches a fresh validate (h100-sxm: $pn cases; rerun scripts/power-record when not)" "$pn >= 4 and d['power_checked_on']['measurements'] == $pn and abs(d['power_checked_on']['mean_abs_error'] - $pmae) < 1e-4 and sum(s['measurements'] for s in d['power_checked_on']['sources'] if s['use'] == 'calibrate') == $pfit"
  json_has "show chip power sources name the stack fitted on them (vllm-async's fit_cases), none for the rest" "[s['fitted_stack'] for s in d['power_checked_on']['sources'] if s['source'] == 'mlenergy-v3-serving-power'] == ['vllm-async'] and all(s['fitted_stack'] is None for s in d['power_checked_on']['sources'] if s['source'] != 'mlenergy-v3-serving-power')"
  run "show chip --json (no power record)" 0 show chip mtia-2i --json
  json_has "show chip power_checked_on empty" "d['power_checked_on']['measurements'] == 0 and d['power_checked_on']['sources'] == [] and d['power_checked_on']['mean_abs_error'] is None"
fi
# The power intervals' table (data/validation/power-residuals.yaml, written by scripts/power-record):
# log(predicted / measured) of the board power of every use: validate case of power.yaml and
# power-heldout.yaml, as a fresh validate gives it.  A table older than the model fails here.
if [[ $have_python -eq 1 ]] && run "validate power files --json (power residuals)" 1 validate \
  data/validation/power.yaml data/validation/power-heldout.yaml --json; then
  json_has "power-residuals.yaml matches a fresh validate (rerun scripts/power-record when not)" "(lambda t, v: len(t) == len(v) >= 100 and all(abs(t[k] - v[k]) < 2e-5 for k in v))({r['case']: r['r'] for r in __import__('yaml').safe_load(open('data/validation/power-residuals.yaml'))['residuals']}, {c['name']: __import__('math').log(c['predicted'] / c['measured']) for c in d['cases'] if c['metric'] == 'energy.avg_power_w_per_chip' and c['use'] == 'validate'})"
fi
if [[ $have_python -eq 1 ]]; then # the energy of a token or sample: the power's residual plus the time-like one beside it
  json_has "energy-residuals.yaml matches a fresh validate (rerun scripts/power-record when not)" "(lambda t, p, q: len(t) == len(p) >= 100 and all(abs(t[k] - p[k] - q[k]) < 4e-5 for k in t))({r['case']: r['r'] for r in __import__('yaml').safe_load(open('data/validation/energy-residuals.yaml'))['residuals']}, {c['name']: __import__('math').log(c['predicted'] / c['measured']) for c in d['cases'] if c['metric'] == 'energy.avg_power_w_per_chip' and c['use'] == 'validate'}, {c['name']: (-1 if c['metric'] != 'step_time_s' else 1) * __import__('math').log(c['predicted'] / c['measured']) for c in d['cases'] if c['metric'] in ('serve.throughput_tokens_per_s', 'samples_per_s', 'step_time_s') and c['use'] == 'validate'})"
fi
run "run power interval" 0 run --chip h100-sxm --model llama3.1-8b --stack vllm-async --task decode --batch 64 \
  --prompt-len 1024 && contains "run power interval text" "$TMP/out" '^  power .*80% interval [0-9]+ to [0-9]+ W \(from [0-9]+ measured board powers\)' &&
  contains "run energy interval text" "$TMP/out" '^  energy .* J per token \(80% interval [0-9.e-]+ to [0-9.e-]+\)'
run "show chip power text" 0 show chip h100-sxm && contains "show chip power text" "$TMP/out" '^power checked against: [0-9]+ measurements of board power'
run "show stack no record" 0 show stack vllm && contains "show stack no record" "$TMP/out" '^validated on: no case of the cross-validated set'
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
# precision.quantized / unquantized_layers (formats.md): file:line:key on bad values, the label and JSON when good
cat >"$TMP/bad-quant.yaml" <<'EOF'
chip: h100-sxm
model: llama3.1-8b
task: decode
precision: {weights: fp8, gemm: fp8, activations: bf16,
  unquantized_layers: {first: 20, last: 20}}
EOF
if input_error "run too many unquantized layers" run "$TMP/bad-quant.yaml"; then
  contains "unquantized_layers names file:line" "$TMP/err" 'bad-quant\.yaml:5'
  contains "unquantized_layers names the key" "$TMP/err" 'precision\.unquantized_layers'
fi
# A decode attention op: one query per sequence against kv_len cached keys (docs/formats.md "Inline
# models"); kv_len defaults to seq_len, and a causal op's keys are at least its queries.
ATT='{op: attention, batch: 64, seq_len: 1, kv_len: 1024, heads: 32, kv_heads: 8, head_dim: 128, causal: true}'
if run "attention kv_len" 0 run --chip h100-sxm --model "$ATT" --task infer --json; then
  json_has "attention kv_len reads the cache" 'abs(d["breakdown"][0]["bytes"] - (2*64*1024*8*128*2 + 2*64*32*128*2)) < 1'
fi
if run "attention kv_len default" 0 run --chip h100-sxm --task infer \
  --model '{op: attention, batch: 4, seq_len: 512, kv_len: 512, heads: 16, head_dim: 128}'; then
  cp "$TMP/out" "$TMP/kv-given"
  run "attention without kv_len" 0 run --chip h100-sxm --task infer \
    --model '{op: attention, batch: 4, seq_len: 512, heads: 16, head_dim: 128}' &&
    if cmp -s "$TMP/out" "$TMP/kv-given"; then ok; else bad "kv_len: seq_len is not its default"; fi
fi
if input_error "attention kv_len below seq_len" run --chip h100-sxm --task infer \
  --model '{op: attention, batch: 4, seq_len: 512, kv_len: 100, heads: 16, head_dim: 128, causal: true}'; then
  contains "attention kv_len names the key" "$TMP/err" 'kv_len'
fi
# paged: true adds the chip's paged-attention figures (a serving engine's KV cache); not a boolean: exit 2
if run "attention paged" 0 run --chip h100-sxm --model "${ATT%\}}, paged: true}" --task infer --json; then
  cp "$TMP/out" "$TMP/paged.json"
  run "attention not paged" 0 run --chip h100-sxm --model "$ATT" --task infer --json &&
    if python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if abs(a["step_time_s"]-b["step_time_s"]-(6.96e-6+64*2.89e-8))<1e-9 else 1)' "$TMP/paged.json" "$TMP/out"; then
      ok
    else
      bad "paged: the call's and 64 sequences' figures not added"
    fi
fi
# a tile's max_rows (the library runs it for products of up to that many rows): one tile at least
# must serve products of any size, else exit 2 naming the file, line and key
sed -e '/^  tiles:/,/^[a-z]/{/^    - /d}' -e 's/^  tiles:.*/  tiles:\n    - {m: 16, n: 64, k: 64, max_rows: 16}/' \
  data/chips/h100-sxm.yaml >"$TMP/few-rows-chip.yaml"
if input_error "tiles all with max_rows" run --chip "$TMP/few-rows-chip.yaml" --model llama3.1-8b --task decode --batch 1; then
  contains "tiles all with max_rows names the key" "$TMP/err" 'few-rows-chip.yaml:42: chip.kernels.tiles: every tile has max_rows'
fi
input_error "attention paged not a bool" run --chip h100-sxm --task infer \
  --model '{op: attention, batch: 4, seq_len: 1, kv_len: 64, heads: 16, head_dim: 128, paged: 3}'
if run "show chip paged figures" 0 show chip h100-sxm; then
  contains "show chip prints the paged figures" "$TMP/out" 'attention over a paged KV cache: 6.96 µs a call and 28.9 ns a sequence'
fi
input_error "attention kv_len zero" run --chip h100-sxm --task infer \
  --model '{op: attention, batch: 4, seq_len: 1, kv_len: 0, heads: 16, head_dim: 128}'
input_error "run quantized bad value" run --chip h100-sxm --model llama3.1-8b --task decode \
  --set 'precision={weights: fp8, quantized: attention}'
QPREC='{weights: fp8, gemm: fp8, activations: bf16, quantized: ffn, unquantized_layers: {first: 1, last: 1}}'
if run "run quantized ffn" 0 run "${DECODE[@]}" --set "precision=$QPREC"; then
  contains "quantized ffn label" "$TMP/out" 'feed-forward products of layers 2-31; the rest bf16'
fi
if run "run quantized ffn --json" 0 run "${DECODE[@]}" --json --set "precision=$QPREC"; then
  json_has "quantized in the scenario" 'd["scenario"]["precision"]["quantized"] == "ffn" and d["scenario"]["precision"]["unquantized_layers"]["first"] == 1'
fi
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

# ---- compare (energy, power and cost of ownership) -----------------------------------------------------
WL=examples/compare-llm-decode.yaml,examples/compare-small-llm.yaml
if run "compare text" 0 compare --chips mtia-2i,h100-sxm --workloads "$WL" --baseline h100-sxm; then
  contains "compare text names the baseline" "$TMP/out" 'ratios are chip / h100-sxm'
  contains "compare text marks the best" "$TMP/out" '1\.00x\*'
  contains "compare text geometric mean" "$TMP/out" '^geometric mean'
fi
if run "compare --json" 0 compare --chips mtia-2i,h100-sxm --workloads "$WL" --baseline h100-sxm --json; then
  valid_json "compare --json"
  json_has "compare --json shape" 'd["baseline"] == "h100-sxm" and len(d["workloads"]) == 2 and len(d["workloads"][0]["results"]) == 2'
  json_has "compare --json baseline ratios" 'all(abs(r["relative"][m] - 1) < 1e-12 for w in d["workloads"] for r in w["results"] if r["chip"] == "h100-sxm" for m in ("throughput", "perf_per_w", "perf_per_tco"))'
  json_has "compare --json best" 'all(w["best"]["throughput"] in ("mtia-2i", "h100-sxm") for w in d["workloads"]) and all(r["perf_per_w"] > 0 and r["perf_per_usd"] > 0 for w in d["workloads"] for r in w["results"])'
fi
if run "compare --set econ" 0 compare --chips mtia-2i,h100-sxm --workloads examples/compare-llm-prefill.yaml --set econ=gpu-prices --json; then
  json_has "compare --set econ: a bought H100 costs more per hour" 'd["workloads"][0]["results"][1]["usd_per_hour_system"] > 0.6'
fi
run "compare --csv" 0 compare --chips h100-sxm,mtia-2i --workloads examples/compare-llm-prefill.yaml --csv &&
  contains "compare --csv header" "$TMP/out" '^workload,chip,feasible,throughput,throughput_unit,power_w_per_chip'
run "compare --help" 0 compare --help && contains "compare --help" "$TMP/out" '--baseline'
# ---- serving: disaggregated pools and the mixed-fleet search ---------------------------------------
if run "run disaggregated" 0 run examples/serve-disaggregated.yaml --set serve.arrival_rate_per_s=4 --set serve.requests=200 --json; then
  valid_json "run disaggregated --json"
  contains "disaggregated: per-pool utilisation" "$TMP/out" '"prefill_utilization"'
  contains "disaggregated: KV transfer" "$TMP/out" '"kv_transfer_mean_s"'
fi
input_error "disaggregated bad pool key" run examples/serve-disaggregated.yaml --set serve.disaggregated.decode.chipz=2
contains "disaggregated bad key named" "$TMP/err" 'serve.disaggregated.decode.chipz'
if run "fleet --json" 0 fleet examples/serve-fleet.yaml --set serve.requests=100 --set serve.fleet.max_chips=2 --set serve.fleet.top=2 --json; then
  valid_json "fleet --json"
  contains "fleet lists mixes" "$TMP/out" '"usd_per_hour"'
fi
# the steady-state window (serving.md "Measurement window"): its line in the text, its key in the JSON
# (none over the whole run), and an input error when the run has no steady state
STEADY=(--set serve.requests=300 --set serve.arrival_rate_per_s=inf --set serve.scheduler.max_seqs=32)
if run "serve steady window" 0 run examples/serve-llama3.1-8b.yaml "${STEADY[@]}" --set serve.window=steady; then
  contains "steady window line" "$TMP/out" '^  window         the steady state, [0-9.]* [m]*s: throughput and power over it$'
fi
if run "serve steady window --json" 0 run examples/serve-llama3.1-8b.yaml "${STEADY[@]}" --set serve.window=steady --json; then
  json_has "steady window_s" "d['serve']['window_s'] > 0"
fi
if run "serve run window --json" 0 run examples/serve-llama3.1-8b.yaml "${STEADY[@]}" --json; then
  json_has "no window_s over the run" "'window_s' not in d['serve']"
fi
input_error "steady window too few requests" run examples/serve-llama3.1-8b.yaml "${STEADY[@]}" --set serve.window=steady --set serve.requests=33
contains "steady window error named" "$TMP/err" 'serve.window: steady needs at least max_seqs'
# YAML's own spelling of infinity is maximum load too
if run "serve .inf rate" 0 run examples/serve-llama3.1-8b.yaml --set serve.requests=300 --set 'serve.arrival_rate_per_s=.inf' --set serve.scheduler.max_seqs=32 --json; then
  json_has ".inf rate runs at maximum load" "d['serve']['throughput_tokens_per_s'] > 0"
fi
# sampling (formats.md): a top-p draw with vLLM's native sampler adds its ops; bad values are input errors
if run "decode top-p sampling" 0 run --chip h100-sxm --model llama3.1-8b --task decode --stack vllm --set 'sampling={temperature: 0.8, top_p: 0.95}' --json; then
  json_has "sampler ops in the breakdown" "any(o['name'] == 'sample_filter' for o in d['breakdown'])"
fi
input_error "bad top_p" run --chip h100-sxm --model llama3.1-8b --task decode --stack vllm --set 'sampling={top_p: 1.5}'
contains "bad top_p named" "$TMP/err" 'sampling.top_p'
input_error "bad sampler" run --chip h100-sxm --model llama3.1-8b --task decode --stack "{preset: vllm, sampler: flashinfer}"
contains "bad sampler named" "$TMP/err" 'stack.sampler: unknown value'
if run "show stack sampler --json" 0 show stack vllm --json; then
  json_has "vllm samples with torch" "d['sampler'] == 'torch'"
fi
if run "show stack sampler" 0 show stack vllm; then
  contains "sampler line" "$TMP/out" '^sampler: PyTorch'
fi
input_error "bad window" run examples/serve-llama3.1-8b.yaml --set serve.window=steadyish
contains "bad window named" "$TMP/err" 'serve.window'
input_error "bad p2p_allreduce" run --chip h100-sxm --model llama3.1-8b --task decode --stack "{preset: vllm, p2p_allreduce: three_shot}"
contains "bad p2p_allreduce named" "$TMP/err" 'stack.p2p_allreduce: unknown value'
run "p2p_allreduce one_shot runs" 0 run --chip h100-sxm --model llama3.1-70b --task decode --system "{chips: 4}" --parallel "{tp: 4}" --stack "{preset: vllm, p2p_allreduce: one_shot}"
AR=(--chip b200 --model llama3.1-70b --task decode --system "{chips: 4}" --parallel "{tp: 4}")
input_error "allreduce_limits not a list" run "${AR[@]}" --stack "{preset: vllm, allreduce_limits: {arch: sm100}}"
contains "allreduce_limits not a list named" "$TMP/err" 'stack.allreduce_limits: expected a list'
input_error "allreduce_limits rank missing" run "${AR[@]}" --stack "{preset: vllm, allreduce_limits: [{arch: sm100, custom_max_bytes: {2: 1, 4: 1, 6: 1}, symm_mem_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}}]}"
contains "allreduce_limits rank missing named" "$TMP/err" 'stack.allreduce_limits\[0\].custom_max_bytes'
input_error "allreduce_limits odd rank" run "${AR[@]}" --stack "{preset: vllm, allreduce_limits: [{arch: sm100, custom_max_bytes: {2: 1, 3: 1, 4: 1, 6: 1, 8: 1}, symm_mem_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}}]}"
contains "allreduce_limits odd rank named" "$TMP/err" 'custom_max_bytes.3'
input_error "allreduce_limits multimem rank" run "${AR[@]}" --stack "{preset: vllm, allreduce_limits: [{arch: sm100, custom_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}, symm_mem_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}, multimem_ranks: [3]}]}"
contains "allreduce_limits multimem rank named" "$TMP/err" 'multimem_ranks'
input_error "allreduce_limits arch twice" run "${AR[@]}" --stack "{preset: vllm, allreduce_limits: [{arch: sm100, custom_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}, symm_mem_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}}, {arch: sm100, custom_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}, symm_mem_max_bytes: {2: 1, 4: 1, 6: 1, 8: 1}}]}"
contains "allreduce_limits arch twice named" "$TMP/err" 'listed twice'
input_error "chip arch not a string" run --chip "{preset: b200, arch: [sm100]}" --model llama3.1-8b --task decode
contains "chip arch named" "$TMP/err" 'arch'
if run "show stack allreduce limits" 0 show stack vllm; then
  contains "allreduce limits line" "$TMP/out" '^all-reduce limits on sm100 chips'
fi
if run "show stack symm_mem without limits" 0 show stack "{name: x, attention: fused, fused_elementwise: true, kernel_overhead_s: 0, symm_mem_allreduce: true}"; then
  contains "symm_mem without limits said" "$TMP/out" 'no architecture.s limits'
fi
input_error "fleet without serve.fleet" fleet examples/serve-llama3.1-8b.yaml
input_error "fleet bad key" fleet examples/serve-fleet.yaml --set serve.fleet.max_chip=4
contains "fleet bad key named" "$TMP/err" 'serve.fleet.max_chip'

input_error "compare without chips" compare --workloads examples/compare-llm-decode.yaml
input_error "compare bad baseline" compare --chips h100-sxm,mtia-2i --workloads examples/compare-llm-decode.yaml --baseline b200
input_error "compare unknown chip" compare --chips h100-sxm,no-such-chip --workloads examples/compare-llm-decode.yaml
input_error "compare missing workload" compare --chips h100-sxm --workloads "$TMP/no-such-workload.yaml"
if run "run energy and cost" 0 run examples/compare-llm-decode.yaml --json; then
  json_has "run --json energy" 'd["energy"]["step_j"] > 0 and d["energy"]["avg_power_w_per_chip"] <= 700 and "uncapped_power_w_per_chip" in d["energy"] and d["energy"]["j_per_token"] > 0'
  json_has "run --json cost" 'd["cost"]["usd_per_hour_system"] > 0 and d["cost"]["usd_per_million_tokens"] > 0 and "econ" in d["scenario"]'
fi
input_error "run bad econ key" run examples/compare-llm-decode.yaml --set econ.pue=0.5

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
# --by metric: the error per measured key, in text and in the JSON's metrics
run "validate --by metric" 0 validate "$TMP/cases.yaml" --by metric &&
  contains "validate --by metric" "$TMP/out" '^  step_time_s +validate +1 of +1 ran'
if run "validate --json metrics" 0 validate "$TMP/cases.yaml" --json; then
  json_has "validate --json metrics" 'd["metrics"][0]["metric"] == "step_time_s" and d["metrics"][0]["ran"] == 1'
fi
run "validate --by nothing" 2 validate "$TMP/cases.yaml" --by nothing
sed 's/tolerance: 100/tolerance: 1.0e-9/' "$TMP/cases.yaml" >"$TMP/tight.yaml"
run "validate over tolerance" 1 validate "$TMP/tight.yaml"
input_error "validate no match" validate "$TMP/cases.yaml" --filter '^nothing$'
input_error "validate missing file" validate "$TMP/no-such-cases.yaml"
sed 's/^    tolerance: 100/    tolerence: 100/' "$TMP/cases.yaml" >"$TMP/badcase.yaml"
if input_error "validate unknown case key" validate "$TMP/badcase.yaml"; then
  contains "validate unknown key names file:line" "$TMP/err" 'badcase\.yaml:6'
  contains "validate unknown key names the key" "$TMP/err" 'tolerence'
fi

# ---- ranking models (DLRM) -------------------------------------------------------------------------
if run "run dlrm train --json" 0 run examples/dlrm-dgx-h100-train.yaml --json; then
  valid_json "run dlrm train --json"
  json_has "dlrm samples/s and hit rates" 'd["samples_per_s"] > 0 and any("sram_hit_rate" in r for r in d["breakdown"])'
  json_has "dlrm categories" '{"embedding", "gemm", "interaction", "collective"} <= {r["category"] for r in d["breakdown"]}'
fi
run "run dlrm infer text" 0 run --chip mtia-2i --model rank-lc-15 --task infer --batch 512 &&
  contains "run dlrm infer text" "$TMP/out" 'samples/s'
if input_error "dlrm bad table key" run --chip h100-sxm --task infer \
  --model '{dlrm: {dense_features: 4, tables: [{rows: 10, dim: 8, pools: 1}], bottom_mlp: [8], top_mlp: [1], interaction: {type: dot}}}'; then
  contains "dlrm bad table key names the key" "$TMP/err" 'model\.dlrm\.tables\[0\]\.'
fi
cat >"$TMP/dlrm-cases.yaml" <<'EOF'
cases:
  - name: dlrm-runs
    source: "a made-up number; the tolerance only checks that a DLRM case runs"
    scenario: {chip: mtia-2i, model: rank-lc-15, task: infer, infer: {batch: 256}, precision: fp16}
    measured: {samples_per_s: 1.0e+6}
    tolerance: 100
EOF
run "validate a dlrm case" 0 validate "$TMP/dlrm-cases.yaml" && contains "validate a dlrm case" "$TMP/out" 'dlrm-runs'

# the published online-serving cases (docs/serving.md, "Validation"): the cases run (the quick ones:
# the maximum-rate searches over MLPerf's 2,400 s of arrivals take minutes), from two sources
# (exit 0, or 1 while some are outside their tolerance)
"$SILICA" validate data/validation/serving.yaml --json \
  --filter 'vllm-blog|mlperf-v41-llama2-70b-server-8xh200-sxm-at-rate' >"$TMP/out" 2>"$TMP/err"
rc=$?
if [[ $rc -gt 1 ]]; then
  bad "validate serving.yaml: exit $rc"
else
  ok
  json_has "serving.yaml cases run" \
    'd["counts"].get("error", 0) == 0 and d["counts"].get("unsupported", 0) == 0 and len({c["name"] for c in d["cases"]}) == 13 and len({c["group"] for c in d["cases"]}) == 2'
fi

# ---- numerics (docs/numerics.md): a tiny run with held-out evaluation and seed noise; bad files
cat >"$TMP/num.yaml" <<'EOF'
model: {dim: 16, layers: 1, heads: 2, kv_heads: 1, ffn: 32, seq: 16, tied: true}
train: {steps: 12, batch: 2, seed: 3, lr: 1.0e-2, warmup_steps: 2, eval_every: 4, eval_sequences: 8, noise_seeds: 3}
runs:
  - {name: fp32, format: fp32, accumulate: fp32}
  - {name: bf16-acc-k1, format: bf16, accumulate: bf16, kchunk: 1}
EOF
if run "numerics --json" 0 numerics "$TMP/num.yaml" --json; then
  valid_json "numerics --json"
  json_has "numerics eval steps" 'd["eval"]["steps"] == [4, 8, 12] and d["eval"]["sequences"] == 8'
  json_has "numerics eval curves fall" 'all(len(r["eval_loss"]) == 3 and r["eval_loss"][2] < r["eval_loss"][0] for r in d["runs"])'
  json_has "numerics final eval = last point" 'all(r["final_eval_loss"] == r["eval_loss"][-1] for r in d["runs"])'
  json_has "numerics seed noise" 'd["noise"]["seeds"] == 3 and d["noise"]["sd"] > 0 and d["noise"]["final_eval_loss"][0] == d["runs"][0]["final_eval_loss"]'
  json_has "numerics gap in sd" 'd["runs"][0]["eval_gap_in_seed_sd"] == 0 and d["runs"][1]["kchunk"] == 1 and d["runs"][1]["accumulate"] == "bf16"'
  # at the final weights: fp32 against itself is exact; a bf16 accumulator changes the gradients
  json_has "numerics fixed-weights fp32" 'd["runs"][0]["at_final_weights"]["grad_rel_err"] == 0 and d["runs"][0]["at_final_weights"]["loss_gap"] == 0'
  json_has "numerics fixed-weights bf16 acc" 'd["runs"][1]["at_final_weights"]["grad_rel_err"] > 1e-3 and d["runs"][1]["at_final_weights"]["sequences"] == 8'
fi
if run "numerics --csv" 0 numerics "$TMP/num.yaml" --csv; then
  contains "numerics csv header" "$TMP/out" '^step,fp32,bf16-acc-k1,fp32:eval,bf16-acc-k1:eval$'
  contains "numerics csv eval row" "$TMP/out" '^4,[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+$'
  contains "numerics csv no-eval row" "$TMP/out" '^3,[0-9.]+,[0-9.]+,,$'
fi
run "numerics text" 0 numerics "$TMP/num.yaml" && contains "numerics text seed sd" "$TMP/out" 'seed sd: .* 3 seeds'
printf 'train: {steps: 5, eval_every: -1}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics bad eval_every" numerics "$TMP/num-bad.yaml" &&
  contains "numerics bad eval_every names it" "$TMP/err" 'num-bad\.yaml:1: train\.eval_every'
printf 'train: {steps: 5, noise_seeds: 99}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics bad noise_seeds" numerics "$TMP/num-bad.yaml" &&
  contains "numerics bad noise_seeds names it" "$TMP/err" 'train\.noise_seeds'
cat >"$TMP/num-dlrm.yaml" <<'EOF'
chip: mtia-2i
model: {dlrm: {dense: 4, tables: 3, rows: 50, dim: 8, pooling: 2, bottom: 16, top: 16, zipf: 1.0}}
train: {steps: 30, batch: 32, seed: 2, lr: 1.0e-2, adagrad_lr: 0.05, eval_every: 10, eval_samples: 128, noise_seeds: 2}
runs:
  - {name: fp32, format: fp32, accumulate: fp32}
  - {name: bf16-acc, format: bf16, accumulate: bf16, kchunk: 1}
EOF
if run "numerics dlrm --json" 0 numerics "$TMP/num-dlrm.yaml" --json; then
  valid_json "numerics dlrm --json"
  json_has "numerics dlrm shape" 'd["model"] == "dlrm" and d["samples_per_step"] == 32 and d["eval"]["samples"] == 128 and d["params"] == 3*50*8 + 4*16+16 + 16*8+8 + (8+6)*16+16 + 16+1'
  json_has "numerics dlrm learns" 'all(r["eval_loss"][-1] < r["eval_loss"][0] < 0.75 for r in d["runs"])'
  json_has "numerics dlrm fixed weights" 'd["runs"][0]["at_final_weights"]["grad_rel_err"] == 0 and d["runs"][1]["at_final_weights"]["grad_rel_err"] > 1e-4 and d["runs"][1]["at_final_weights"]["samples"] == 128'
  json_has "numerics dlrm chip estimate" 'd["chip"]["step_time_s"] > 0 and d["chip"]["run_energy_j"] > 0'
fi
printf 'model: {dlrm: {dense: 4}}\ntrain: {steps: 5, eval_sequences: 8}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics dlrm eval_sequences" numerics "$TMP/num-bad.yaml" && contains "numerics dlrm eval_sequences" "$TMP/err" 'eval_samples'
printf 'model: {dlrm: {dense: 4, rows: 0}}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics dlrm rows 0" numerics "$TMP/num-bad.yaml" && contains "numerics dlrm rows 0" "$TMP/err" 'model\.dlrm\.rows'
printf 'model: {dlrm: {dense: 4, tables: 2, rows: 1000000, dim: 8}}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics dlrm too big" numerics "$TMP/num-bad.yaml" && contains "numerics dlrm too big" "$TMP/err" 'at most 2M'
printf 'train: {steps: 5, print_every: 2}\nruns: [{format: fp32}]\n' >"$TMP/num-bad.yaml"
input_error "numerics unknown key" numerics "$TMP/num-bad.yaml" && contains "numerics unknown key" "$TMP/err" 'print_every'

# ---- sweep (docs/sweep.md): bad files name file:line:key (exit 2), a run, --report, resume after kill -9
cat >"$TMP/bad-sweep.yaml" <<'EOF'
chip: mtia-2i
parameters:
  cores: [32, 64]
  wheels: [4]
EOF
if input_error "sweep unknown parameter" sweep "$TMP/bad-sweep.yaml" --db "$TMP/bad.sqlite"; then
  contains "sweep error names file:line:key" "$TMP/err" 'bad-sweep\.yaml:4: parameters\.wheels: unknown parameter'
fi
cat >"$TMP/bad-sweep2.yaml" <<'EOF'
chip: mtia-2i
parameters: {cores: [32, 64]}
workloads:
  - {weight: 1, scenario: {model: llama3.2-1b, task: decode, infer: {batch: 1, prompt_len: 64}, colour: red}}
EOF
if input_error "sweep bad inline scenario" sweep "$TMP/bad-sweep2.yaml" --db "$TMP/bad.sqlite"; then
  contains "sweep scenario error names the key" "$TMP/err" 'bad-sweep2\.yaml:4: workloads\[0\]\.scenario\.colour'
fi
input_error "sweep --jobs 0" sweep examples/mtia-tco-sweep.yaml --jobs 0
input_error "sweep --report of no database" sweep --report "$TMP/none.sqlite"
if run "sweep example" 0 sweep examples/mtia-tco-sweep.yaml --db "$TMP/mtia.sqlite" --jobs 2; then
  contains "sweep prints the front" "$TMP/out" '^Pareto front'
  contains "sweep prints the best per objective" "$TMP/out" 'best perf_per_tco'
  contains "sweep prints the reference chip" "$TMP/out" '^  h100-sxm'
  if [[ -s $TMP/err ]]; then bad "sweep is quiet when stderr is not a terminal"; else ok; fi
  cp "$TMP/out" "$TMP/sweep-run.txt"
  run "sweep --report" 0 sweep --report "$TMP/mtia.sqlite" && contains "sweep --report" "$TMP/out" '^Pareto front'
  # the sweep reports from its results in memory, --report from the database: the same text
  if cmp -s "$TMP/out" "$TMP/sweep-run.txt"; then ok; else bad "sweep and sweep --report print the same report"; fi
  contains "sweep example has infeasible points" "$TMP/out" '^infeasible points'
  if run "sweep --report --json" 0 sweep --report "$TMP/mtia.sqlite" --json; then
    valid_json "sweep --report --json"
    json_has "sweep json counts" 'd["points_evaluated"] == d["points_total"] == 432 and d["points_evaluated"] - d["points_feasible"] == sum(r["points"] for r in d["infeasible"])'
    json_has "sweep json best and front" '[b["objective"] for b in d["best"]] == d["objectives"] and len(d["front"]) >= 1 and d["best"][0]["design"]["perf_per_tco"] == max(f["perf_per_tco"] for f in d["front"])'
    json_has "sweep json constraints met" 'all(f["area_mm2"] <= d["constraints"]["max_area_mm2"] and f["tdp_w"] <= d["constraints"]["max_tdp_w"] for f in d["front"]) and d["constraints"]["max_unit_cost_usd"] is None'
    json_has "sweep json chips" 'd["chips"][0]["base"] and d["chips"][0]["chip"] == "mtia-2i" and any(c["chip"] == "h100-sxm" for c in d["chips"])'
    cp "$TMP/out" "$TMP/sweep-report.json"
    # the same JSON from the sweep's own results in memory (a rerun that resumes: nothing to do)
    run "sweep --json" 0 sweep examples/mtia-tco-sweep.yaml --db "$TMP/mtia.sqlite" --json
    if cmp -s "$TMP/out" "$TMP/sweep-report.json"; then ok; else bad "sweep --json and sweep --report --json differ"; fi
    # HTML: from the database, and from the JSON (the charts are checked in a browser by report_browser.py)
    if run "report of a sweep database" 0 report "$TMP/mtia.sqlite" -o "$TMP/sweep.html"; then
      contains "sweep page kind" "$TMP/sweep.html" 'data-kind="sweep"'
      contains "sweep page front chart" "$TMP/sweep.html" '"title":"Pareto front"'
    fi
    run "report of a sweep JSON" 0 report "$TMP/sweep-report.json" -o "$TMP/sweep2.html" &&
      contains "sweep JSON page kind" "$TMP/sweep2.html" 'data-kind="sweep"'
    input_error "report of a sweep database on stdin" report - -o "$TMP/sweep3.html" <"$TMP/mtia.sqlite"
  fi
  run "sweep rerun resumes (nothing to do)" 0 sweep examples/mtia-tco-sweep.yaml --db "$TMP/mtia.sqlite"
  if cmp -s "$TMP/out" "$TMP/sweep-run.txt"; then ok; else bad "sweep rerun prints the same report"; fi
fi
# ---- training campaigns (formats.md "Campaigns"): the campaign object, one-line errors on bad keys
cat >"$TMP/campaign.yaml" <<'EOF'
chip: h100-sxm
model: llama3.2-1b
task: train
system: {preset: dgx-h100, chips: 64}
parallel: {tp: 1, pp: 1}
train:
  stages:
    - {tokens: 1.0e9, seq_len: 2048, global_batch_tokens: 1048576}
    - {tokens: 4.0e9, seq_len: 4096, global_batch_tokens: 2097152}
EOF
if run "campaign run" 0 run "$TMP/campaign.yaml" --json; then
  json_has "campaign keys" "d['campaign']['tokens'] == 5e9 and len(d['campaign']['stages']) == 2 and 0 < d['campaign']['goodput'] <= 1 and d['campaign']['time_p10_s'] <= d['campaign']['time_p90_s']"
fi
run "campaign text" 0 run "$TMP/campaign.yaml" && contains "campaign text" "$TMP/out" "^campaign \\(5e\\+09 tokens"
input_error "campaign: bad stage key" run "$TMP/campaign.yaml" --set 'train.stages=[{tokens: 1e9, colour: red}]'
contains "campaign: bad stage key names it" "$TMP/err" "train.stages\\[0\\].colour"
input_error "campaign: bad reliability" run "$TMP/campaign.yaml" --set system.reliability.restart_s=-1
input_error "campaign: power budget below a node" run "$TMP/campaign.yaml" --set system.power_budget_w=1000
input_error "campaign: bad tokens" run "$TMP/campaign.yaml" --set train.tokens=many
input_error "campaign: tokens of a ranking model" run examples/dlrm-dgx-h100-train.yaml --set train.tokens=1e9

# ---- serving traffic (serving.md "Traffic"): trace replay, bad traces, the latency-throughput curve
SERVE_SETS=(--set serve.requests=400 --set serve.arrival_rate_per_s=8)
if run "trace written" 0 trace examples/serve-llama3.1-8b.yaml "${SERVE_SETS[@]}" -o "$TMP/t.csv"; then
  contains "trace header" "$TMP/t.csv" "^arrival_s,prompt_tokens,output_tokens$"
  cat >"$TMP/replay.yaml" <<'EOF'
chip: h100-sxm
stack: vllm
model: llama3.1-8b
task: serve
serve: {trace: t.csv, slo: {ttft_s: 2.0, tpot_s: 0.1}}
EOF
  run "poisson run" 0 run examples/serve-llama3.1-8b.yaml "${SERVE_SETS[@]}" --json && cp "$TMP/out" "$TMP/poisson.json"
  # The headline's 80% interval (FORMATS.md "interval"): a serving run's is on its token throughput, shown
  # on that line of the text output with the bounds of the JSON.
  if run "serve text interval" 0 run examples/serve-llama3.1-8b.yaml "${SERVE_SETS[@]}" &&
    contains "serve text interval on the tokens/s line" "$TMP/out" '^  tokens/s .*, 80% interval [0-9.e+]* to [0-9.e+]* \(from [0-9]* cross-validated cases\)$' &&
    [[ $have_python -eq 1 ]]; then
    lo=$(python3 -c "import json; print('%.0f' % json.load(open('$TMP/poisson.json'))['interval']['lo'])")
    contains "serve text interval is the JSON's" "$TMP/out" "80% interval $lo to "
  fi
  if run "trace replay" 0 run "$TMP/replay.yaml" --json; then
    json_has "trace replay equals the generator's run" "(lambda p: all(d['serve'][k] == p['serve'][k] for k in ('ttft_p99_s', 'tpot_p50_s', 'throughput_tokens_per_s', 'steps', 'requests')))(json.load(open('$TMP/poisson.json')))"
  fi
fi
# A training run with no `parallel` key whose default plan (every chip data-parallel) does not fit names
# the plan `parallel: auto` finds, at the step time that run gives; where none fits, it says so.
TRAIN_70B=(run --chip h100-sxm --model llama3.1-70b --task train --seq-len 8192 --global-batch 128 --precision bf16)
if run "default plan does not fit" 0 "${TRAIN_70B[@]}" --set system.chips=64 --json && [[ $have_python -eq 1 ]]; then
  json_has "reason names the searched plan" "not d['feasible'] and '\`parallel: auto\` finds a plan that fits: tp ' in d['reason']"
  hint_s=$(python3 -c "import json,re; print(re.search(r'\((\S+) s a step\)', json.load(open('$TMP/out'))['reason']).group(1))")
  if run "the named plan" 0 "${TRAIN_70B[@]}" --set system.chips=64 --parallel auto --json; then
    json_has "the named plan's step time" "d['feasible'] and abs(d['step_time_s'] / $hint_s - 1) < 0.01"
  fi
fi
if run "no plan fits" 0 "${TRAIN_70B[@]}" --set system.chips=8 --json; then
  json_has "reason says no plan fits" "not d['feasible'] and 'no plan of \`parallel: auto\` fits these 8 chips either' in d['reason']"
fi
printf 'arrival_s,prompt_tokens,output_tokens\n0,10,5\n1,-4,5\n' >"$TMP/bad.csv"
input_error "trace: negative length" run "$TMP/replay.yaml" --set "serve.trace=$TMP/bad.csv"
contains "trace: negative length names file:line:column" "$TMP/err" "bad.csv:3: serve.trace: column prompt_tokens"
printf 'arrival_s,prompt_tokens,output_tokens\n2,10,5\n1,4,5\n' >"$TMP/bad.csv"
input_error "trace: decreasing arrivals" run "$TMP/replay.yaml" --set "serve.trace=$TMP/bad.csv"
contains "trace: decreasing arrivals names file:line" "$TMP/err" "bad.csv:3: serve.trace: column arrival_s"
input_error "trace and requests" run "$TMP/replay.yaml" --set serve.requests=10
input_error "trace: no file" run "$TMP/replay.yaml" --set serve.trace=none.csv
input_error "arrivals: bad cv" run examples/serve-llama3.1-8b.yaml --set 'serve.arrivals={process: gamma, cv: -1}'
input_error "arrivals: on_off without off_s" run examples/serve-llama3.1-8b.yaml --set 'serve.arrivals={process: on_off, on_s: 1}'
input_error "curve: to below from" run examples/serve-llama3.1-8b.yaml --set 'serve.arrival_rate_per_s={from: 8, to: 2, steps: 3}'
if run "curve csv" 0 run examples/serve-curve-llama3.1-8b.yaml --set serve.requests=300 --csv; then
  contains "curve csv header" "$TMP/out" "^arrival_rate_per_s,ttft_p50_s"
  [[ $(wc -l <"$TMP/out") -eq 9 ]] && ok || bad "curve csv: $(wc -l <"$TMP/out") lines, want 9 (header and 8 rates)"
fi
if run "curve json" 0 run examples/serve-curve-llama3.1-8b.yaml --set serve.requests=300 --json; then
  json_has "curve points" "len(d['serve']['curve']) == 8 and d['serve']['curve'][-1]['ttft_p99_s'] == d['serve']['ttft_p99_s'] and d['serve']['arrival_rate_per_s'] == 32"
fi

# A measurement harness that flushes the L2 (stack cold_cache), and the interval of a scenario with
# mixture-of-experts layers, which says how many of its peers have them (FORMATS.md "interval").
if run "show stack cuda-events-cold" 0 show stack cuda-events-cold; then
  contains "cold-cache stack says so" "$TMP/out" '^cold cache: the L2 is flushed before each timed kernel'
fi
MOE_SETS=(--chip h100-sxm --model qwen3-30b-a3b --task train --system '{chips: 8, node_chips: 8}'
  --set 'train={seq_len: 4096, global_batch: 64, micro_batch: 1}' --parallel '{dp: 8, ep: 8}')
if run "moe train text" 0 run "${MOE_SETS[@]}"; then
  contains "moe interval names what it rests on" "$TMP/out" '^  step time .*80% interval .* cross-validated cases, none with mixture-of-experts layers\)$'
fi
if [[ $have_python -eq 1 ]] && run "moe train json" 0 run "${MOE_SETS[@]}" --json; then
  json_has "moe interval counts its moe peers" "d['interval']['moe_cases'] == 0 and d['interval']['cases'] >= 5"
fi
if [[ $have_python -eq 1 ]] && run "dense decode json" 0 run --chip h100-sxm --model llama3.1-8b --task decode --json; then
  json_has "dense interval has no moe count" "'moe_cases' not in d['interval']"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
