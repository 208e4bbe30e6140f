#!/usr/bin/env python3
"""measure.py — kernel-level measurements on a real GPU (written for an NVIDIA H200), as silica
validation cases: bf16 and fp8 GEMM sweeps, SDPA attention, copies and element-wise ops, one
Llama-3.1-8B-shaped decoder layer forward+backward, decode steps.  PyTorch is the only
dependency.  Runs in a few minutes; every timing is the median of repeats bracketed by CUDA
events after warm-up.

Usage: python3 tools/measure/measure.py [--out DIR] [--chip h200-sxm] [--quick]
Writes DIR/kernels.yaml (GEMM and attention cases: calibration data for `silica calibrate`),
DIR/layers.yaml (decoder layer and decode-step cases: validation), DIR/power.yaml (board power of
GEMMs, an element-wise stream and attention run back to back, from NVML's energy counter: data for
scripts/power-fit), DIR/raw.json (every timing, including those silica has no single-op scenario
for: attention backward, copies, element-wise).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402


def gpu_clocks():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def environment(torch):
    env = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda,
           "cudnn": str(torch.backends.cudnn.version()), "python": platform.python_version(),
           "host": platform.node(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,power.limit", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        env["driver_and_power_limit"] = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        env["driver_and_power_limit"] = "unavailable"
    return env


class Nvml:
    """The board's energy counter and SM clock through NVML, loaded with ctypes from the driver's
    libnvidia-ml (no Python package needed).  Energy: nvmlDeviceGetTotalEnergyConsumption, mJ since
    the driver loaded (Volta and later); its difference over a window is the window's mean board
    power exactly, where power.draw readings are averages over a window of the driver's choosing."""

    def __init__(self, index=0):
        import ctypes
        self.ct = ctypes
        self.lib = ctypes.CDLL("libnvidia-ml.so.1")
        if self.lib.nvmlInit_v2() != 0:
            raise OSError("nvmlInit failed")
        self.dev = ctypes.c_void_p()
        if self.lib.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(self.dev)) != 0:
            raise OSError("no NVML device %d" % index)

    def energy_j(self):
        mj = self.ct.c_ulonglong()
        if self.lib.nvmlDeviceGetTotalEnergyConsumption(self.dev, self.ct.byref(mj)) != 0:
            raise OSError("NVML energy counter unavailable")
        return mj.value / 1e3

    def sm_clock_mhz(self):
        mhz = self.ct.c_uint()
        return mhz.value if self.lib.nvmlDeviceGetClockInfo(self.dev, 1, self.ct.byref(mhz)) == 0 else 0  # NVML_CLOCK_SM


def powered(torch, nvml, fn, seconds):
    """fn() back to back for about `seconds` after as long a warm-up (clocks and temperature settle
    under the load): (mean time per call in s, mean board power in W, mean SM clock in MHz, window)."""
    import time as _t
    t1 = statistics.median(timed(torch, fn, 3, 10)) / 1e3
    n = max(10, int(seconds / max(t1, 1e-6)))
    for _ in range(n):  # warm-up at the load
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    clocks = []
    e0, w0 = nvml.energy_j(), _t.time()
    start.record()
    for i in range(n):
        fn()
        if i % max(1, n // 8) == 0:
            clocks.append(nvml.sm_clock_mhz())
    end.record()
    torch.cuda.synchronize()
    e1, w1 = nvml.energy_j(), _t.time()
    gpu_s = start.elapsed_time(end) / 1e3
    return gpu_s / n, (e1 - e0) / (w1 - w0), sum(clocks) / max(1, len(clocks)), w1 - w0


def timed(torch, fn, warmup, repeats):
    """Median of CUDA-event timings of fn(), in ms; kernels run back to back."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(repeats)]
    for s, e in zip(starts, ends):
        s.record()
        fn()
        e.record()
    torch.cuda.synchronize()
    return [s.elapsed_time(e) for s, e in zip(starts, ends)]


def gemm_shapes(quick):
    square = [1024, 2048, 4096, 8192] if not quick else [2048, 8192]
    shapes = [(s, s, s) for s in square]
    shapes += [(m, 8192, 8192) for m in ([1, 16, 64, 256] if not quick else [16, 256])]  # skinny
    # Llama-3.1-8B and 70B layer GEMMs at several token counts: (tokens, out, in)
    for h, f, kv in [(4096, 14336, 1024), (8192, 28672, 1024)]:
        for t in ([1, 128, 2048, 8192] if not quick else [128, 4096]):
            shapes += [(t, h + 2 * kv, h), (t, h, h), (t, 2 * f, h), (t, h, f)]
    # Decode steps of Llama-3.1-405B on 8 GPUs (tensor parallel 8: gate-up 2 x 53248 / 8 wide, down
    # 53248 / 8 deep; the QKV and output projections): a few rows against weights far past the L2
    for t in ([16, 64, 128, 256, 512] if not quick else [16, 256]):
        shapes += [(t, 13312, 16384), (t, 16384, 6656), (t, 2304, 16384), (t, 16384, 2048)]
    return shapes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="data/measurements/h200")
    ap.add_argument("--chip", default="h200-sxm")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    import torch  # noqa: E402  (only on the measuring machine)
    import torch.nn.functional as F  # noqa: E402
    if not torch.cuda.is_available():
        raise SystemExit("measure.py needs a CUDA GPU")
    os.makedirs(a.out, exist_ok=True)
    dev = "cuda"
    env = environment(torch)
    env["clocks_before"] = gpu_clocks()
    warm, rep = (5, 20) if a.quick else (10, 50)
    kernels, layers, raw = [], [], {"environment": env, "timings_ms": {}}

    # GEMM sweeps, bf16 and fp8 (torch._scaled_mm where available)
    for dtype in ["bf16", "fp8"]:
        for (m, n, k) in gemm_shapes(a.quick):
            if dtype == "bf16":
                x = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
                w = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
                fn = lambda: torch.matmul(x, w)  # noqa: E731
            else:
                if not hasattr(torch, "_scaled_mm") or m % 16 or n % 16 or k % 16:
                    continue
                x = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
                w = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()
                one = torch.tensor(1.0, device=dev)
                fn = lambda: torch._scaled_mm(x, w, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)  # noqa: E731
            t = timed(torch, fn, warm, rep)
            raw["timings_ms"][f"gemm-{dtype}-{m}x{n}x{k}"] = t
            kernels.append(cases.gemm_case(a.chip, dtype, m, n, k, cases.median_s(t)))

    # SDPA attention forward (and backward, raw only)
    for causal in [False, True]:
        for seq, hd, heads, kvh in ([(1024, 128, 32, 8), (4096, 128, 32, 8), (8192, 128, 32, 8), (4096, 64, 32, 32)]
                                   if not a.quick else [(4096, 128, 32, 8)]):
            b = max(1, 16384 // seq)
            q = torch.randn(b, heads, seq, hd, device=dev, dtype=torch.bfloat16, requires_grad=True)
            kk = torch.randn(b, kvh, seq, hd, device=dev, dtype=torch.bfloat16, requires_grad=True)
            v = torch.randn(b, kvh, seq, hd, device=dev, dtype=torch.bfloat16, requires_grad=True)
            rep_kv = heads // kvh
            fwd = lambda: F.scaled_dot_product_attention(q, kk.repeat_interleave(rep_kv, 1),  # noqa: E731
                                                         v.repeat_interleave(rep_kv, 1), is_causal=causal)
            t = timed(torch, fwd, warm, rep)
            raw["timings_ms"][f"sdpa-fwd-b{b}-s{seq}-h{heads}-kv{kvh}-d{hd}-c{int(causal)}"] = t
            kernels.append(cases.attention_case(a.chip, "bf16", b, seq, heads, kvh, hd, causal, cases.median_s(t)))
            o = fwd()
            g = torch.randn_like(o)
            tb = timed(torch, lambda: torch.autograd.grad(fwd(), (q, kk, v), g), warm, rep)
            raw["timings_ms"][f"sdpa-fwd+bwd-b{b}-s{seq}-h{heads}-kv{kvh}-d{hd}-c{int(causal)}"] = tb

    # Copies and the element-wise / normalisation ops of a Llama layer (raw: no single-op scenario)
    for n in [1 << 20, 1 << 24, 1 << 28] if not a.quick else [1 << 24]:
        x = torch.randn(n // 4096, 4096, device=dev, dtype=torch.bfloat16)
        y = torch.empty_like(x)
        wgt = torch.ones(4096, device=dev, dtype=torch.bfloat16)
        for name, fn in [("copy", lambda: y.copy_(x)), ("silu", lambda: F.silu(x)),
                         ("mul", lambda: x * x), ("add", lambda: x + x),
                         ("rmsnorm", lambda: F.rms_norm(x, (4096,), wgt) if hasattr(F, "rms_norm") else x)]:
            raw["timings_ms"][f"{name}-{n}"] = timed(torch, fn, warm, rep)

    # vLLM 0.11's PyTorch-native sampler (v1/sample/sampler.py, ops/topk_topp_sampler.py) over a
    # 128,256-entry vocabulary at temperature 0.8 and top-p 0.95: the cast, the sort-based top-p
    # filter and the exponential-race draw, the GPU work of every serving step per sequence
    # (docs/model.md "Sampling", whose bytes are a lower bound on this time; raw timings)
    for batch in ([8, 64, 127, 128, 256, 512, 1024] if not a.quick else [128]):
        logits = torch.randn(batch, 128256, device=dev, dtype=torch.bfloat16)
        top_p = torch.full((batch,), 0.95, device=dev)
        temp = torch.full((batch,), 0.8, device=dev)

        def sample():
            x = logits.to(torch.float32).div_(temp.unsqueeze(1))
            srt, idx = x.sort(dim=-1, descending=False)
            cum = torch.cumsum(srt.softmax(dim=-1), dim=-1)
            mask = cum <= 1 - top_p.unsqueeze(1)
            mask[:, -1] = False
            srt.masked_fill_(mask, -float("inf"))
            probs = x.scatter_(dim=-1, index=idx, src=srt).softmax(dim=-1, dtype=torch.float32)
            return probs.div_(torch.empty_like(probs).exponential_()).argmax(dim=-1)

        raw["timings_ms"][f"sampler-topp-b{batch}-v128256"] = timed(torch, sample, warm, rep)

    # One Llama-3.1-8B-shaped decoder layer, forward + backward (random weights)
    h, f, heads, kvh, hd = 4096, 14336, 32, 8, 128
    lin = lambda i, o: torch.nn.Linear(i, o, bias=False, device=dev, dtype=torch.bfloat16)  # noqa: E731
    qkv, out, gu, down = lin(h, h + 2 * kvh * hd), lin(h, h), lin(h, 2 * f), lin(f, h)

    def layer(x):
        s = x.shape[1]
        a_ = qkv(F.rms_norm(x, (h,)) if hasattr(F, "rms_norm") else x)
        q, k, v = a_.split([h, kvh * hd, kvh * hd], -1)
        q = q.view(x.shape[0], s, heads, hd).transpose(1, 2)
        k = k.view(x.shape[0], s, kvh, hd).transpose(1, 2).repeat_interleave(heads // kvh, 1)
        v = v.view(x.shape[0], s, kvh, hd).transpose(1, 2).repeat_interleave(heads // kvh, 1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(x.shape)
        x = x + out(o)
        g, u = gu(x).chunk(2, -1)
        return x + down(F.silu(g) * u)

    for tokens, seq in ([(4096, 4096), (8192, 4096), (16384, 8192)] if not a.quick else [(8192, 4096)]):
        x = torch.randn(tokens // seq, seq, h, device=dev, dtype=torch.bfloat16, requires_grad=True)

        def step():
            y = layer(x)
            y.backward(torch.ones_like(y))

        t = timed(torch, step, warm // 2 + 1, max(5, rep // 5))
        raw["timings_ms"][f"layer-t{tokens}-s{seq}"] = t
        layers.append(cases.layer_case(a.chip, "bf16", tokens, seq, cases.median_s(t)))

    # Decode steps: Llama-3.1-8B shape (32 layers) against a KV cache, eager
    with torch.no_grad():
        for batch in ([1, 8, 32, 128] if not a.quick else [1, 32]):
            for kv_len in ([512, 2048, 8192] if not a.quick else [2048]):
                kc = torch.randn(batch, kvh, kv_len, hd, device=dev, dtype=torch.bfloat16)
                vc = torch.randn_like(kc)
                xt = torch.randn(batch, 1, h, device=dev, dtype=torch.bfloat16)

                def decode_step():
                    y = xt
                    for _ in range(32):
                        a_ = qkv(y)
                        q = a_[..., :h].view(batch, 1, heads, hd).transpose(1, 2)
                        o = F.scaled_dot_product_attention(q, kc.repeat_interleave(heads // kvh, 1),
                                                           vc.repeat_interleave(heads // kvh, 1))
                        y = y + out(o.transpose(1, 2).reshape(batch, 1, h))
                        g, u = gu(y).chunk(2, -1)
                        y = y + down(F.silu(g) * u)
                    return y

                t = timed(torch, decode_step, 3, max(5, rep // 5))
                raw["timings_ms"][f"decode-b{batch}-kv{kv_len}"] = t
                layers.append(cases.decode_case(a.chip, "bf16", batch, kv_len, cases.median_s(t)))

    # Board power of kernels run back to back (NVML energy counter): a power-limited GEMM, fp8 and
    # bf16 GEMMs of BERT-large and Llama-3.1-8B shapes, an element-wise stream, attention of BERT's
    # and Llama's shapes -- the per-kernel power that a training step's power is the sum of.
    power = []
    try:
        nvml = Nvml()
    except OSError as err:
        nvml = None
        env["power"] = f"not measured: {err}"
    if nvml is not None:
        win = 1.5 if a.quick else 3.0
        for dtype in ["bf16", "fp8"]:
            # ... and the decode steps of a Llama-3.1-405B server on 8 GPUs (the gate-up and down
            # products at 16, 128 and 256 rows, weights streamed from DRAM): what such a step's power
            # is made of, which the model's serving power misses from batch 128 (docs/energy-cost.md 2.7)
            for (m, n, k) in [(8192, 8192, 8192), (24576, 3072, 1024), (24576, 4096, 1024), (24576, 1024, 4096),
                              (8192, 28672, 4096), (16, 13312, 16384), (128, 13312, 16384), (256, 13312, 16384),
                              (128, 16384, 6656)]:
                if dtype == "bf16":
                    x = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
                    w = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
                    fn = lambda: torch.matmul(x, w)  # noqa: E731
                elif hasattr(torch, "_scaled_mm"):
                    x = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
                    w = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()
                    one = torch.tensor(1.0, device=dev)
                    fn = lambda: torch._scaled_mm(x, w, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)  # noqa: E731
                else:
                    continue
                t, p, clk, wl = powered(torch, nvml, fn, win)
                raw["timings_ms"][f"power-gemm-{dtype}-{m}x{n}x{k}"] = {"ms": t * 1e3, "w": p, "sm_mhz": clk}
                power.append(cases.power_case(a.chip, dtype, cases.gemm_model(dtype, m, n, k),
                                              f"gemm-{m}x{n}x{k}", t, p, clk, wl))
                if m == n == k:
                    # The same GEMM on zero inputs (He 2024): little switching, so it runs below the power
                    # limit at the top clock where the random one is held at the limit; the two clocks
                    # and powers give the operating point the chip's energy figures are fitted at
                    # (docs/energy-cost.md 2.4).  raw.json only: silica does not model data-dependent
                    # switching.
                    try:  # an fp8 tensor's fill may be missing from an older PyTorch: skip, not abort
                        x.zero_()
                        w.zero_()
                    except (RuntimeError, NotImplementedError) as err:
                        raw["timings_ms"][f"power-gemm-{dtype}-{m}x{n}x{k}-zeros"] = {"skipped": str(err)}
                        continue
                    tz, pz, clkz, _ = powered(torch, nvml, fn, win)
                    raw["timings_ms"][f"power-gemm-{dtype}-{m}x{n}x{k}-zeros"] = {"ms": tz * 1e3, "w": pz,
                                                                                   "sm_mhz": clkz}
        rows, cols = 65536, 4096  # 2^28 bf16 values: 512 MiB a tensor, far past the L2
        x = torch.randn(rows, cols, device=dev, dtype=torch.bfloat16)
        y = torch.randn_like(x)
        z = torch.empty_like(x)
        t, p, clk, wl = powered(torch, nvml, lambda: torch.add(x, y, out=z), win)
        raw["timings_ms"]["power-add-268435456"] = {"ms": t * 1e3, "w": p, "sm_mhz": clk}
        power.append(cases.power_case(a.chip, "bf16", {"op": "add", "rows": rows, "cols": cols}, "add-268435456",
                                      t, p, clk, wl))
        for b, seq, heads, hd, causal in [(48, 512, 16, 64, False), (4, 4096, 32, 128, True)]:
            q = torch.randn(b, heads, seq, hd, device=dev, dtype=torch.bfloat16)
            kk, v = torch.randn_like(q), torch.randn_like(q)
            fwd = lambda: F.scaled_dot_product_attention(q, kk, v, is_causal=causal)  # noqa: E731
            t, p, clk, wl = powered(torch, nvml, fwd, win)
            label = f"sdpa-fwd-b{b}-s{seq}-h{heads}-d{hd}{'-causal' if causal else ''}"
            raw["timings_ms"][f"power-{label}"] = {"ms": t * 1e3, "w": p, "sm_mhz": clk}
            power.append(cases.power_case(a.chip, "bf16", {"op": "attention", "batch": b, "seq_len": seq,
                                                           "heads": heads, "kv_heads": heads, "head_dim": hd,
                                                           "causal": causal}, label, t, p, clk, wl))

    env["clocks_after"] = gpu_clocks()
    cases.write_cases(os.path.join(a.out, "kernels.yaml"), kernels, env,
                      f"Kernel-level measurements on {env['gpu']}: GEMM sweeps and SDPA attention (calibration data)")
    cases.write_cases(os.path.join(a.out, "layers.yaml"), layers, env,
                      f"Layer and decode-step measurements on {env['gpu']} (validation data)")
    if power:
        cases.write_cases(os.path.join(a.out, "power.yaml"), power, env,
                          f"Kernel board power on {env['gpu']} (NVML energy counter; calibration data for scripts/power-fit)")
    with open(os.path.join(a.out, "raw.json"), "w", encoding="utf-8") as fp:
        json.dump(raw, fp, indent=1)
    print(f"wrote {len(kernels)} kernel cases, {len(layers)} layer/decode cases and {len(power)} power cases to {a.out}")


if __name__ == "__main__":
    main()
