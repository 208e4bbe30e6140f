#!/usr/bin/env python3
# %% [markdown]
# # Exploring chips with silica from Python
#
# A notebook-style walk through the Python binding (`python/silica`, ctypes over `libsilica.so`,
# no third-party module).  Each `# %%` starts a cell: open the file in Jupyter (jupytext), VS Code
# or Spyder to run it cell by cell, or run it whole:
#
#     PYTHONPATH=python python3 examples/python/explore.py [OUT_DIR]
#
# It runs under `make test` (ctest `python_example`), so every figure below is checked to be there.
# It writes two HTML reports into OUT_DIR (default: a temporary folder).

# %%
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import silica  # noqa: E402

print("silica", silica.version(), "from", silica.library_path())

# %% [markdown]
# ## 1. The chips
#
# Every preset chip with its dense bf16 peak, DRAM bandwidth, ridge point (the arithmetic intensity
# above which a kernel can be compute-bound), TDP, and whether its efficiency figures are backed by
# kernel-level measurements.

# %%
chips = silica.chips()
print("%-16s %10s %10s %8s %6s  %s" % ("chip", "bf16 TF/s", "DRAM GB/s", "ridge", "TDP W", "validation"))
for c in chips:
    bf16 = c["peak_tflops"].get("bf16", float("nan"))
    ridge = c["ridge_flops_per_byte"].get("bf16", float("nan"))
    print("%-16s %10.1f %10.0f %8.1f %6.0f  %s" % (c["name"], bf16, c["dram_bw_GBps"], ridge, c["tdp_w"],
                                                 c["validation"]))
assert len(chips) >= 9

# %% [markdown]
# ## 2. One question on every chip
#
# Llama-3.1-8B decode, 1 and 32 sequences with 1024 tokens in the KV cache.  `silica.run` takes the
# scenario as a dict (the same keys as a scenario file) and returns the `run --json` result.

# %%
rows = []
for c in chips:
    out = {"chip": c["name"]}
    for batch in (1, 32):
        r = silica.run({"chip": c["name"], "model": "llama3.1-8b", "task": "decode",
                        "infer": {"batch": batch, "prompt_len": 1024}})
        out[batch] = r
    rows.append(out)

print("%-16s %12s %12s %12s" % ("chip", "b1 ms/token", "b32 tok/s", "J per token"))
for row in rows:
    r1, r32 = row[1], row[32]
    if not r32["feasible"]:
        print("%-16s %12s %12s %12s  (%s)" % (row["chip"], "-", "-", "-", r32["reason"][:50]))
        continue
    jpt = r32.get("energy", {}).get("j_per_token", float("nan"))
    print("%-16s %12.2f %12.0f %12.3g" % (row["chip"], 1e3 * r1["step_time_s"], r32["tokens_per_s"], jpt))
assert any(row[32]["feasible"] for row in rows)

# %% [markdown]
# ## 3. Where does decode stop being memory-bound?
#
# Decode streams every weight once per step, whatever the batch: at small batches the weight
# GEMMs are memory-bound and the step time hardly grows with the batch.  Their arithmetic intensity
# grows with the batch; past the chip's ridge point (about 295 FLOP/byte for an H100 in bf16) they
# become compute-bound.  Short prompts keep the KV cache small, so the GEMMs dominate.

# %%
print("%6s %10s %12s %10s %12s %6s" % ("batch", "step ms", "tokens/s", "FLOP/byte", "GEMM bound", "MFU"))
bounds = []
for batch in (1, 16, 64, 256, 512, 1024):
    r = silica.run({"chip": "h100-sxm", "model": "llama3.1-8b", "task": "decode",
                    "infer": {"batch": batch, "prompt_len": 128}})
    if not r["feasible"]:
        print("%6d  does not fit: %s" % (batch, r["reason"][:60]))
        continue
    gemms = [o for o in r["breakdown"] if o["category"] == "gemm"]
    intensity = sum(o["flops"] for o in gemms) / sum(o["bytes"] for o in gemms)
    slowest = max(gemms, key=lambda o: o["time_s"])
    bounds.append(slowest["bound"])
    print("%6d %10.2f %12.0f %10.1f %12s %5.1f%%" % (batch, 1e3 * r["step_time_s"], r["tokens_per_s"], intensity,
                                                     slowest["bound"], 100 * r["mfu"]))
assert bounds[0] == "memory" and bounds[-1] == "compute", bounds

# %% [markdown]
# ## 4. Scaling, as a report
#
# Llama-3.1-8B training steps on 8 to 64 H100s with tensor parallelism 8: a list of run results
# makes a scaling report (step time, throughput and efficiency against chips), one HTML page that
# opens offline.  A single result makes a run report (time per op, roofline, memory, energy).

# %%
out_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="silica-example-")
os.makedirs(out_dir, exist_ok=True)
runs = [silica.run({"chip": "h100-sxm", "model": "llama3.1-8b", "task": "train",
                    "system": {"chips": n, "node_chips": 8}, "parallel": {"tp": 8, "pp": 1},
                    "train": {"seq_len": 4096, "global_batch": 256}}) for n in (8, 16, 32, 64)]
for r in runs:
    print("%3d chips: %.3f s per step, MFU %.1f%%" % (r["scenario"]["system"]["chips"], r["step_time_s"],
                                                       100 * r["mfu"]))
assert silica.report_kind(runs) == "scaling"
scaling = silica.report(runs, path=os.path.join(out_dir, "scaling.html"))
single = silica.report(runs[0], path=os.path.join(out_dir, "train-8.html"))
print("reports:", os.path.join(out_dir, "scaling.html"), "(%d kB)," % (len(scaling) // 1024),
      os.path.join(out_dir, "train-8.html"), "(%d kB)" % (len(single) // 1024))

# %% [markdown]
# ## 5. How good is the model?
#
# `silica.validate` runs validation cases (measured results with their sources) and returns the
# same JSON as `silica validate --json`.

# %%
v = silica.validate(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data",
                                 "report-cases.yaml"))
for c in v["cases"]:
    print("%-40s %+6.1f%%  %s" % (c["name"], 100 * c["rel_error"], c["status"]))
print("mean absolute error %.1f%%" % (100 * v["mape"]))
assert v["mape"] < 0.1
