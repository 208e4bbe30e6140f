#!/usr/bin/env python3
"""numerics_example.py — runs the shipped numerics example (examples/tiny-numerics.yaml) and checks
what its physics must show: every format's training and held-out losses fall from the uniform
byte-level loss ln 256; at the final weights fp32 has no gradient error and the error grows as the
format narrows (bf16 < fp8 e4m3 < MXFP4); the chip estimate is positive.  Full tier (a few seconds).
Usage: numerics_example.py PATH/TO/silica"""
import json
import math
import subprocess
import sys


def main():
    silica = sys.argv[1]
    out = subprocess.run([silica, "numerics", "examples/tiny-numerics.yaml", "--json"], capture_output=True,
                         text=True, check=True).stdout
    d = json.loads(out)
    bad = []
    runs = {r["name"]: r for r in d["runs"]}
    for name in ("fp32", "bf16", "fp8-e4m3", "mxfp4"):
        if name not in runs:
            bad.append(f"no run {name}")
    for r in d["runs"]:
        if not r["loss"][-1] < r["loss"][0] < math.log(256) + 0.05:
            bad.append(f"{r['name']}: training loss does not fall: {r['loss'][0]} -> {r['loss'][-1]}")
        if not r["eval_loss"][-1] < r["eval_loss"][0]:
            bad.append(f"{r['name']}: held-out loss does not fall: {r['eval_loss'][0]} -> {r['eval_loss'][-1]}")
    if not bad:
        err = [runs[n]["at_final_weights"]["grad_rel_err"] for n in ("fp32", "bf16", "fp8-e4m3", "mxfp4")]
        if not (err[0] == 0 and 0 < err[1] < err[2] < err[3]):
            bad.append(f"gradient error at fixed weights should grow fp32 < bf16 < fp8 < mxfp4: {err}")
    chip = d.get("chip", {})
    if not chip.get("step_time_s", 0) > 0 or not chip.get("run_energy_j", 0) > 0:
        bad.append(f"chip estimate missing: {chip}")
    for b in bad:
        print("FAIL:", b)
    print(f"{1 if not bad else 0} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
