#!/usr/bin/env python3
"""doc_refs.py — every path of the repository that the help texts (`silica help`, `silica help CMD`),
the README, the man page, the Makefile, docs/ and examples/ mention exists: a path under one of the
repository's folders (docs/formats.md, examples/x.yaml, data/chips/h100-sxm.yaml), a Markdown
link, and in the help texts, README, man page and examples a bare document name (formats.md).

Usage: tests/doc_refs.py REPO_ROOT PATH/TO/silica
"""
import os
import re
import subprocess
import sys

root = sys.argv[1]
silica = sys.argv[2]
# written by a command the docs show (tools/measure/measure.py --out), not in the repository
OUTPUTS = ('data/measurements/',)
DIRS = ('docs', 'examples', 'data', 'tools', 'src', 'tests', 'man', 'web', 'python', 'bench', 'scripts', 'include', 'fuzz', 'cmake')
path_re = re.compile(r'(?<![\w./-])((?:%s)/[A-Za-z0-9_.*/-]*[A-Za-z0-9_*])' % '|'.join(DIRS))
link_re = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')
bare_re = re.compile(r'(?<![\w./-])([A-Za-z0-9_-]+\.md)\b')
bad = []
def check(src, text, base, bare):
    for m in path_re.finditer(text):
        p = m.group(1).rstrip('.')
        if '*' in p or '<' in p or p.startswith(OUTPUTS):
            continue
        if not os.path.exists(os.path.join(root, p)): bad.append((src, p))
    for m in link_re.finditer(text):
        p = m.group(1)
        if re.match(r'[a-z]+:', p): continue
        if not os.path.exists(os.path.normpath(os.path.join(base, p))) and not os.path.exists(os.path.join(root, p)):
            bad.append((src, p))
    if bare:
        for m in bare_re.finditer(text):
            p = m.group(1)
            if not (os.path.exists(os.path.join(base, p)) or os.path.exists(os.path.join(root, p)) or os.path.exists(os.path.join(root, 'docs', p))):
                bad.append((src, p))
# help texts
cmds = [''] + ['run','validate','calibrate','compare','report','numerics','sweep','show','list']
for c in cmds:
    out = subprocess.run([silica, 'help'] + ([c] if c else []), capture_output=True, text=True).stdout
    check('silica help ' + c, out, root, True)
files = ['README.md', 'man/silica.1', 'Makefile']
for d in ('docs', 'examples'):
    for dp, dn, fn in os.walk(os.path.join(root, d)):
        for f in fn:
            files.append(os.path.relpath(os.path.join(dp, f), root))
for f in files:
    full = os.path.join(root, f)
    try: text = open(full, encoding='utf-8').read()
    except Exception: continue
    check(f, text, os.path.dirname(full), f.startswith(('README', 'man/', 'examples/')))
for where, p in bad:
    print(f"FAIL: {where} mentions {p}, which does not exist", file=sys.stderr)
print(f"doc_refs: {len(bad)} missing", file=sys.stderr)
sys.exit(1 if bad else 0)
