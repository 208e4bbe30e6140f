#!/usr/bin/env python3
"""plot.py — draws a `silica numerics --json` file as an SVG (no third-party module):
python3 docs/numerics/plot.py docs/numerics/experiment.json docs/numerics/experiment.svg

Left: training loss (moving mean over 10 steps).  Middle: held-out loss (fp32 evaluation of the
weights).  Right: held-out loss relative to the reference run, in %, with the band of +-2 standard
deviations of the reference's own final held-out loss over seeds (when the file has `noise`)."""
import json, sys

d = json.load(open(sys.argv[1]))
runs = d["runs"]
ref = next(r for r in runs if r["name"] == d["reference"])
ev_steps = d.get("eval", {}).get("steps", [])
colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
PW, PH, L, T, B, GAP = 330, 300, 55, 30, 40, 30
W = 3 * (PW + GAP) + 170
H = PH + T + B
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>']


def nice(v):
    return v == v and v is not None


def panel(k, title, ylabel, series, lo=None, hi=None, band=None):
    x0 = k * (PW + GAP) + L
    xs = [x for s in series for x, _ in s[1]]
    ys = [y for s in series for _, y in s[1] if nice(y)]
    lo = min(ys) if lo is None else lo
    hi = max(ys) if hi is None else hi
    if hi <= lo:
        hi = lo + 1
    xa, xb = min(xs), max(xs)
    X = lambda x: x0 + (PW - L) * (x - xa) / max(1, xb - xa)
    Y = lambda y: T + PH * (hi - min(max(y, lo), hi)) / (hi - lo)
    out.append(f'<text x="{x0 + (PW - L) / 2}" y="{T - 12}" text-anchor="middle" font-weight="bold">{title}</text>')
    if band:
        out.append(f'<rect x="{x0}" width="{PW - L}" y="{Y(band[1]):.1f}" height="{Y(band[0]) - Y(band[1]):.1f}" '
                   f'fill="#eee"/>')
    for i in range(6):
        v = lo + (hi - lo) * i / 5
        out.append(f'<line x1="{x0}" x2="{x0 + PW - L}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>'
                   f'<text x="{x0 - 5}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    for i in range(5):
        xv = xa + (xb - xa) * i / 4
        out.append(f'<text x="{X(xv):.1f}" y="{T + PH + 14}" text-anchor="middle">{xv:.0f}</text>')
    out.append(f'<text x="{x0 + (PW - L) / 2}" y="{H - 6}" text-anchor="middle">step</text>'
               f'<text x="{x0 - 42}" y="{T + PH / 2}" transform="rotate(-90 {x0 - 42} {T + PH / 2})" '
               f'text-anchor="middle">{ylabel}</text>')
    for c, (name, pts) in enumerate(series):
        p = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts if nice(y))
        out.append(f'<polyline fill="none" stroke="{colors[c % len(colors)]}" stroke-width="1.3" points="{p}"/>')


train = []
for r in runs:
    l, w = r["loss"], 10
    sm = [sum(l[max(0, i - w + 1):i + 1]) / len(l[max(0, i - w + 1):i + 1]) for i in range(len(l))]
    train.append((r["name"], list(zip(range(1, len(l) + 1), sm))))
panel(0, "training loss (mean of 10 steps)", "nats/byte", train, hi=min(6.0, max(y for _, s in train for _, y in s)))
if ev_steps:
    panel(1, "held-out loss (fp32 evaluation)", "nats/byte",
          [(r["name"], list(zip(ev_steps, r["eval_loss"]))) for r in runs])
    gaps = [(r["name"], [(s, 100 * (e / f - 1)) for s, e, f in zip(ev_steps, r["eval_loss"], ref["eval_loss"])])
            for r in runs]
    band = None
    if "noise" in d:
        sd = 100 * d["noise"]["sd"] / ref["final_eval_loss"]
        band = (-2 * sd, 2 * sd)
    finite = [abs(y) for _, s in gaps for _, y in s[len(s) // 2:] if nice(y)]
    lim = max(finite + [band[1] if band else 1]) * 1.15
    panel(2, "held-out loss vs " + d["reference"] + " (%)", "%", gaps, lo=-lim, hi=lim, band=band)
lx = 3 * (PW + GAP) + 10
for c, r in enumerate(runs):
    out.append(f'<text x="{lx}" y="{T + 20 + 18 * c}" fill="{colors[c % len(colors)]}">{r["name"]}</text>')
if "noise" in d:
    out.append(f'<rect x="{lx}" y="{T + 30 + 18 * len(runs)}" width="14" height="10" fill="#eee"/>'
               f'<text x="{lx + 18}" y="{T + 39 + 18 * len(runs)}">+-2 sd, {d["noise"]["seeds"]} seeds</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
