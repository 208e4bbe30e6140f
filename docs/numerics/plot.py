#!/usr/bin/env python3
"""plot.py — draws the loss curves of a `silica numerics --csv` file as an SVG (no third-party
module): python3 docs/numerics/plot.py docs/numerics/experiment.csv docs/numerics/experiment.svg"""
import csv, sys

rows = list(csv.reader(open(sys.argv[1])))
head, data = rows[0], [[float(x) for x in r] for r in rows[1:]]
W, H, L, B = 720, 420, 60, 40
steps = [r[0] for r in data]
vals = [v for r in data for v in r[1:] if v == v]
lo, hi = min(vals), min(max(vals), 6.0)
colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
X = lambda s: L + (W - L - 150) * (s - steps[0]) / max(1, steps[-1] - steps[0])
Y = lambda v: 20 + (H - B - 20) * (hi - min(v, hi)) / (hi - lo)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
for k in range(6):
    v = lo + (hi - lo) * k / 5
    out.append(f'<line x1="{L}" x2="{W-150}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>'
               f'<text x="{L-6}" y="{Y(v)+4:.1f}" text-anchor="end">{v:.2f}</text>')
out.append(f'<text x="{(W-150+L)/2}" y="{H-8}" text-anchor="middle">step</text>'
           f'<text x="14" y="{H/2}" transform="rotate(-90 14 {H/2})" text-anchor="middle">training loss (nats/byte)</text>')
for c in range(1, len(head)):
    pts = " ".join(f"{X(r[0]):.1f},{Y(r[c]):.1f}" for r in data if r[c] == r[c])
    col = colors[(c - 1) % len(colors)]
    out.append(f'<polyline fill="none" stroke="{col}" stroke-width="1.2" points="{pts}"/>')
    out.append(f'<text x="{W-140}" y="{30+18*c}" fill="{col}">{head[c]}</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
