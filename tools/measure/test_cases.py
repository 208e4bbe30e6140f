"""test_cases.py — the measurement kit's case writer on synthetic timings: the files it writes
are valid silica validation cases.  Usage: python3 test_cases.py path/to/silica"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402


def main():
    silica = sys.argv[1]
    env = {"gpu": "synthetic", "driver": "none", "torch": "none", "clock_mhz_before": 0, "clock_mhz_after": 0}
    cs = [cases.gemm_case("h200-sxm", "bf16", 4096, 4096, 4096, cases.median_s([0.18, 0.17, 0.19])),
          cases.gemm_case("h200-sxm", "fp8", 8192, 8192, 8192, cases.median_s([0.81, 0.8])),
          cases.attention_case("h200-sxm", "bf16", 4, 4096, 32, 8, 128, True, cases.median_s([0.5])),
          cases.layer_case("h200-sxm", "bf16", 8192, 4096, cases.median_s([9.0])),
          cases.decode_case("h200-sxm", "bf16", 8, 2048, cases.median_s([4.0])),
          cases.power_case("h200-sxm", "fp8", cases.gemm_model("fp8", 24576, 4096, 1024), "gemm-24576x4096x1024",
                           1.9e-4, 655.0, 1755, 3.0),
          cases.power_case("h200-sxm", "bf16", {"op": "add", "rows": 65536, "cols": 4096}, "add-268435456",
                           4.6e-4, 540.0, 1980, 3.0)]
    # fp8 products are timed on fp8 operands: no cast kernel before them
    if not cs[1]["scenario"]["model"].get("quantized_inputs") or cs[0]["scenario"]["model"].get("quantized_inputs"):
        raise SystemExit("fp8 GEMM cases must say quantized_inputs, bf16 ones must not")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "synthetic.yaml")
        cases.write_cases(path, cs, env, "synthetic timings (test)")
        out = subprocess.run([silica, "validate", path, "--json"], capture_output=True, text=True)
        if out.returncode not in (0, 1):
            print(out.stderr)
            raise SystemExit("silica validate rejected the kit's file")
        result = json.loads(out.stdout)
        statuses = [c["status"] for c in result["cases"]]
        # one entry per measured metric: the power cases measure power and time
        entries = sum(len(c["measured"]) for c in cs)
        if len(statuses) != entries or any(s == "error" for s in statuses):
            raise SystemExit(f"unexpected statuses {statuses}: {result}")
        powered = [c for c in result["cases"] if c["metric"] == "energy.avg_power_w_per_chip"]
        if len(powered) != 2 or any(not (c["predicted"] > 0) for c in powered):
            raise SystemExit(f"power cases not predicted: {powered}")
        cal = subprocess.run([silica, "calibrate", path, "--chip", "h200-sxm", "--json"], capture_output=True, text=True)
        if cal.returncode != 0:
            raise SystemExit("silica calibrate failed on the kit's file: " + cal.stderr)
    print("measure kit: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
