#!/usr/bin/env python3
"""check_layers.py — checks the stage order of libsilica (docs/DESIGN.md "Layers of the code").

Stages, lowest first: core, io, hw, workload, plan, cost, econ, sim, dse, numerics, report.
1. Every header and source under src/<stage>/ includes only headers of its own stage or lower ones
   (and include/silica.h, and system headers).
2. From the compiled objects (nm): no file calls a function or reads data defined in a higher stage,
   and no files call each other in a circle.
3. tools/, python/, bench/ and fuzz/ include no header of src/ (they use include/silica.h), unless
   --no-public is given.
Usage: check_layers.py SOURCE_DIR OBJECT_DIR [--no-public]
Exit 0 when everything holds, 1 with one line per violation otherwise."""
import os
import re
import subprocess
import sys

STAGES = ["core", "io", "hw", "workload", "plan", "cost", "econ", "sim", "dse", "numerics", "report"]
RANK = {s: i for i, s in enumerate(STAGES)}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stage_of(path):
    parts = path.split(os.sep)
    if len(parts) >= 3 and parts[0] == "src" and parts[1] in RANK:
        return parts[1]
    return None


def check_includes(root, bad):
    for dirpath, _, files in os.walk(os.path.join(root, "src")):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            st = stage_of(rel)
            if st is None:
                bad.append(f"{rel}: a file outside the stage folders")
                continue
            text = open(os.path.join(root, rel), encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                if inc == "silica.h":
                    continue
                top = inc.split("/")[0]
                if "/" not in inc:  # a header beside the file
                    if not os.path.exists(os.path.join(dirpath, inc)):
                        bad.append(f"{rel}: includes \"{inc}\", which is not a header of its stage")
                    continue
                if top not in RANK:
                    bad.append(f"{rel}: includes \"{inc}\", which is no stage header")
                elif RANK[top] > RANK[st]:
                    bad.append(f"{rel}: stage {st} includes \"{inc}\" of the higher stage {top}")


def nm(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDRBCG":
            defined.add(parts[2])
    return defined, undefined


def check_calls(root, objdir, bad):
    objs = {}
    for dirpath, _, files in os.walk(objdir):
        for f in files:
            if f.endswith(".c.o"):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, objdir)[: -len(".o")]
                i = rel.find("src" + os.sep)
                if i < 0:
                    continue
                rel = rel[i:]
                if stage_of(rel) and os.path.exists(os.path.join(root, rel)):  # not a stale object
                    objs[rel] = nm(full)
    if not objs:
        bad.append(f"{objdir}: no objects of src/ found (build first)")
        return
    owner = {}
    for f, (d, _) in objs.items():
        for sym in d:
            owner[sym] = f
    edges = {f: set() for f in objs}
    for f, (_, u) in objs.items():
        for sym in u:
            g = owner.get(sym)
            if not g or g == f:
                continue
            edges[f].add(g)
            if RANK[stage_of(g)] > RANK[stage_of(f)]:
                bad.append(f"{f}: calls {sym} of the higher stage {stage_of(g)} ({g})")
    # circles: strongly connected components of more than one file (Tarjan)
    index, low, onstack, stack, comps, n = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    for c in comps:
        bad.append("files calling each other in a circle: " + " <-> ".join(c))


def check_public(root, bad):
    for top in ("tools", "python", "bench", "fuzz"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                text = open(os.path.join(root, rel), encoding="utf-8").read()
                for inc in INCLUDE.findall(text):
                    if inc == "silica.h" or os.path.exists(os.path.join(dirpath, inc)):
                        continue
                    bad.append(f"{rel}: includes \"{inc}\"; programs use include/silica.h only")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    root, objdir = args
    bad = []
    check_includes(root, bad)
    check_calls(root, objdir, bad)
    if "--no-public" not in sys.argv:
        check_public(root, bad)
    for b in bad:
        print(b)
    print(f"layers: {len(bad)} violation(s)" if bad else "layers: every stage uses only lower stages, no circles")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
