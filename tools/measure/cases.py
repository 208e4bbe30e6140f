"""cases.py — turns kernel timings into silica validation cases (docs/formats.md "Validation
cases"), with the environment they were measured in.  Pure Python (no third-party module), so the
writer is tested without a GPU: see test_cases.py."""

import json
import statistics

# Kernels timed back to back with CUDA events: device time only, no host dispatch (data/stacks/cuda-events.yaml).
STACK = "cuda-events"


def median_s(times_ms):
    """Median of CUDA-event timings in milliseconds, in seconds."""
    if not times_ms:
        raise ValueError("no timings")
    return statistics.median(times_ms) / 1e3


def gemm_model(dtype, m, n, k):
    """A GEMM op; an fp8 one is timed on fp8 operands (torch._scaled_mm), so no cast kernel comes
    before it: quantized_inputs."""
    model = {"op": "gemm", "m": m, "n": n, "k": k}
    if dtype in ("fp8", "fp4"):
        model["quantized_inputs"] = True
    return model


def gemm_case(chip, dtype, m, n, k, seconds):
    return {
        "name": f"gemm-{chip}-{dtype}-m{m}-n{n}-k{k}",
        "source": "tools/measure/measure.py: torch.matmul, CUDA events, median of repeats",
        "scenario": {"chip": chip, "stack": STACK, "precision": dtype, "task": "infer",
                     "model": gemm_model(dtype, m, n, k)},
        "measured": {"step_time_s": seconds},
        "use": "calibrate",  # a kernel-level measurement: what chip figures are fitted to
    }


def attention_case(chip, dtype, batch, seq, heads, kv_heads, head_dim, causal, seconds):
    return {
        "name": f"sdpa-fwd-{chip}-{dtype}-b{batch}-s{seq}-h{heads}-kv{kv_heads}-d{head_dim}{'-causal' if causal else ''}",
        "source": "tools/measure/measure.py: torch.nn.functional.scaled_dot_product_attention forward, CUDA events",
        "scenario": {"chip": chip, "stack": STACK, "precision": dtype, "task": "infer",
                     "model": {"op": "attention", "batch": batch, "seq_len": seq, "heads": heads,
                               "kv_heads": kv_heads, "head_dim": head_dim, "causal": bool(causal)}},
        "measured": {"step_time_s": seconds},
        "use": "calibrate",
    }


def power_case(chip, dtype, model, label, seconds, watts, clock_mhz, window_s):
    """A kernel run back to back for `window_s` seconds with the board's energy counter read before
    and after (NVML): its mean board power and its time, for `scripts/power-fit` (the chip's
    energy figures) -- a power error that is a time error reads as one."""
    if not (watts > 0 and seconds > 0):
        raise ValueError("power case needs a positive power and time")
    return {
        "name": f"power-{chip}-{dtype}-{label}",
        "source": (f"tools/measure/measure.py: {label} back to back for {window_s:.1f} s, board energy "
                   f"from NVML's counter (nvmlDeviceGetTotalEnergyConsumption) over the window, "
                   f"SM clock {clock_mhz:.0f} MHz"),
        "scenario": {"chip": chip, "stack": STACK, "precision": dtype, "task": "infer", "model": model},
        "measured": {"energy.avg_power_w_per_chip": round(watts, 1), "step_time_s": seconds},
        "use": "calibrate",
        "group": "tools-measure-power",
    }


LLAMA31_8B_LAYER = {"hidden": 4096, "layers": 1, "heads": 32, "kv_heads": 8, "ffn": 14336, "vocab": 0,
                    "activation": "swiglu", "norm": "rmsnorm", "position": "rope", "tied_embeddings": False}


def layer_case(chip, dtype, tokens, seq, seconds):
    """One Llama-3.1-8B-shaped decoder layer, forward and backward (a training step of a 1-layer,
    vocabulary-free model; the optimizer of one layer is negligible)."""
    return {
        "name": f"llama3.1-8b-layer-{chip}-{dtype}-t{tokens}-s{seq}",
        "source": "tools/measure/measure.py: one decoder layer (random weights) forward + backward, CUDA events",
        "scenario": {"chip": chip, "stack": "pytorch-fsdp", "precision": dtype, "task": "train",
                     "model": {"transformer": LLAMA31_8B_LAYER},
                     "train": {"seq_len": seq, "global_batch": tokens // seq, "micro_batch": tokens // seq,
                               "optimizer": "sgd"}},
        "measured": {"step_time_s": seconds},
    }


def decode_case(chip, dtype, batch, kv_len, seconds):
    return {
        "name": f"llama3.1-8b-decode-{chip}-{dtype}-b{batch}-kv{kv_len}",
        "source": "tools/measure/measure.py: Llama-3.1-8B-shaped decode step (random weights), CUDA events",
        "scenario": {"chip": chip, "stack": "pytorch-eager", "precision": dtype, "task": "decode",
                     "model": "llama3.1-8b", "infer": {"batch": batch, "prompt_len": kv_len}},
        "measured": {"step_time_s": seconds},
    }


def write_cases(path, cases, environment, description):
    """Writes a cases file: YAML whose values are JSON (JSON is YAML), one case a line."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {description}\n")
        for key in sorted(environment):
            f.write(f"# {key}: {environment[key]}\n")
        f.write(f"description: {json.dumps(description)}\n")
        f.write("cases:\n")
        for c in cases:
            f.write("  - " + json.dumps(c, sort_keys=False) + "\n")
