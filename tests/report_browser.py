#!/usr/bin/env python3
"""report_browser.py — opens each kind of silica HTML report in headless Chromium and checks it.

For each kind (run, scaling, validation, compare, sweep) the test makes the input with the silica program,
writes the page (`silica report`, and `silica run --html` for the run kind), opens it in Debian's
chromium driven over the DevTools protocol (--remote-debugging-pipe: Python's standard library
only), and checks that:
  * the page's script finished and drew every chart (window.__silica_report, web/report.js);
  * each chart's main mark has one item per row of its dataset, and that number is what the input
    says it should be (breakdown rows, checks, results...), computed here independently;
  * the console got no error or warning, and no exception was thrown (from the page's own record
    and from the DevTools Runtime/Log events);
and saves a screenshot of the whole page per kind (docs/img/report-KIND.png with `make screenshots`).

Usage: report_browser.py PATH/TO/silica OUTDIR   (run from the repository root; ctest does)
Exits 0 when every check passes, 1 when one fails, 77 (ctest: skipped) when Chromium cannot start
in this environment (not installed, or it dies at start); with CI set in the environment a missing
or broken Chromium is a failure instead, since scripts/install-deps installs it there.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Browser:
    """Chromium over --remote-debugging-pipe: commands on fd 3, replies and events on fd 4,
    each message a JSON text ended by a NUL byte."""

    def __init__(self, exe, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # The child wants exactly fds 3 and 4; move ours out of the way first.
        hi_r = os.dup2(to_child_r, 100)
        hi_w = os.dup2(from_child_w, 101)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [exe, "--headless", "--remote-debugging-pipe", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--force-color-profile=srgb", "--font-render-hinting=none",
                "--user-data-dir=" + profile, "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, preexec_fn=child_fds, close_fds=False)
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        import select
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from chromium")
            ready, _, _ = select.select([self.from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, timeout=30):
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            e = self._read_message(deadline)
            if e.get("method") == method:
                return e
            self.events.append(e)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run(cmd, ok=(0,), cwd=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    if p.returncode not in ok:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


# ---- the inputs, and how many marks each chart must have ------------------------------------------

def make_inputs(silica, tmp):
    """Returns [(kind, html_path, {chart title: expected rows})]."""
    cases = []

    # serving: the latency-throughput curve, one point per rate (and per percentile)
    scenario = ["examples/serve-curve-llama3.1-8b.yaml", "--set", "serve.requests=1500"]
    html = os.path.join(tmp, "serve-curve.html")
    run([silica, "run"] + scenario + ["--html", html])
    res = json.loads(run([silica, "run"] + scenario + ["--json"]))
    curve = res["serve"]["curve"]
    cases.append(("run", html, {
        "Time to first token against arrival rate": sum(1 for q in curve for k in ("p50", "p90", "p99")
                                                        if q["ttft_%s_s" % k] > 0),
        "Time per output token against arrival rate": sum(1 for q in curve for k in ("p50", "p90", "p99")
                                                          if q["tpot_%s_s" % k] > 0),
        "Throughput against arrival rate": len(curve)}))

    # a training campaign: its time split into steps, checkpoints, lost work and restarts (first: the
    # run below writes the run kind's screenshot)
    scenario = ["examples/campaign-llama3.1-70b-20mw.yaml"]
    html = os.path.join(tmp, "campaign.html")
    run([silica, "run"] + scenario + ["--html", html])
    res = json.loads(run([silica, "run"] + scenario + ["--json"]))
    parts = [k for k in ("compute_s", "checkpoint_s", "lost_work_s", "restart_s") if res["campaign"][k] >= 0]
    cases.append(("run", html, {"Training campaign": len(parts)}))

    # run: a training step (forward, backward, optimizer and communication phases), straight from
    # `silica run --html`, and its JSON for the expectations.
    scenario = ["examples/train-llama3.2-1b.yaml"]
    html = os.path.join(tmp, "run.html")
    run([silica, "run"] + scenario + ["--html", html])
    res = json.loads(run([silica, "run"] + scenario + ["--json"]))
    ops = res["breakdown"]
    placed = [o for o in ops if o["flops"] > 0 and o["bytes"] > 0 and o["time_s"] > 0]
    phases = {(o["phase"], o["category"]) for o in ops if o["time_s"] > 0}
    mem = [k for k in ("weights_bytes", "grads_bytes", "optimizer_bytes", "activations_bytes", "kv_cache_bytes")
           if res["memory"][k] > 0]
    want = {"Time per op": len(ops), "Time per phase": len(phases), "Roofline": len(placed),
            "Memory per chip": len(mem)}
    if "energy" in res and any(o.get("energy_j", 0) > 0 for o in ops):
        want["Energy per component"] = len({o["category"] for o in ops if o.get("energy_j", 0) > 0})
        want["Power per chip"] = 3
    cases.append(("run", html, want))

    # scaling: Llama-3.1-8B training on 8 to 64 chips of two kinds, fixed plan; a JSON array.
    runs = []
    for chip in ("h100-sxm", "a100-sxm-80gb"):
        for n in (8, 16, 32, 64):
            runs.append(json.loads(run([silica, "run", "--chip", chip, "--model", "llama3.1-8b", "--task", "train",
                                        "--system", "{chips: %d, node_chips: 8}" % n,
                                        "--parallel", "{tp: 8, pp: 1}", "--seq-len", "4096",
                                        "--global-batch", "256", "--json"])))
    path = os.path.join(tmp, "scaling.json")
    with open(path, "w") as f:
        json.dump(runs, f)
    html = os.path.join(tmp, "scaling.html")
    run([silica, "report", "scaling.json", "-o", html], cwd=tmp)  # relative: the page names its input
    feasible = [r for r in runs if r["feasible"]]
    cases.append(("scaling", html, {"Step time against chips": len(feasible),
                                    "Throughput against chips": len(feasible),
                                    "Scaling efficiency": len(feasible)}))

    # validation: the test cases file (some checks fail: exit 1 is expected).
    out = run([silica, "validate", "tests/data/report-cases.yaml", "--json"], ok=(0, 1))
    val = json.loads(out)
    path = os.path.join(tmp, "validation.json")
    with open(path, "w") as f:
        f.write(out)
    html = os.path.join(tmp, "validation.html")
    run([silica, "report", "validation.json", "-o", html], cwd=tmp)
    cases.append(("validation", html, {
        "Predicted against measured": sum(1 for c in val["cases"]
                                          if (c["measured"] or 0) > 0 and (c["predicted"] or 0) > 0),
        "Error per check": sum(1 for c in val["cases"] if c["rel_error"] is not None)}))

    # compare: three chips on two workloads, when this build has `silica compare`.
    p = subprocess.run([silica, "compare", "--chips", "h100-sxm,mtia-2i,a100-sxm-80gb", "--workloads",
                        "examples/llama-8b-decode.yaml,examples/gemm-a100.yaml", "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode == 0:
        cmp = json.loads(p.stdout)
        path = os.path.join(tmp, "compare.json")
        with open(path, "w") as f:
            f.write(p.stdout)
        html = os.path.join(tmp, "compare.html")
        run([silica, "report", "compare.json", "-o", html], cwd=tmp)
        want = {}
        metrics = (("throughput", "Throughput"), ("perf_per_w", "Performance per watt"),
                   ("perf_per_tco", "Performance per dollar"))
        for key, title in metrics:
            n = sum(1 for w in cmp["workloads"] for r in w["results"] if (r["relative"].get(key) or 0) > 0)
            if n:
                want["%s relative to %s" % (title, cmp["baseline"])] = n
        if len(cmp["workloads"]) > 1:
            want["Geometric mean over the workloads"] = sum(
                1 for s in cmp["summary"] for key, _ in metrics if (s.get("geomean_relative_" + key) or 0) > 0)
        cases.append(("compare", html, want))
    else:
        print("note: no compare report: silica compare is not in this build (%s)" % p.stderr.strip())

    # sweep: the example sweep into a database, drawn from the database itself.
    db = os.path.join(tmp, "sweep.sqlite")
    rep = json.loads(run([silica, "sweep", "examples/mtia-tco-sweep.yaml", "--db", db, "--json"]))
    html = os.path.join(tmp, "sweep.html")
    run([silica, "report", db, "-o", html])
    feasible_chips = [c for c in rep["chips"] if c["feasible"]]
    bars = sum(1 for b in rep["best"] for k in ("throughput", "perf_per_w", "perf_per_tco")
               if (b["design"][k] or 0) > 0)
    bars += sum(1 for c in feasible_chips for k in ("throughput", "perf_per_w", "perf_per_tco") if (c[k] or 0) > 0)
    want = {"Best designs against the chips": bars}
    if len(rep["objectives"]) > 1:
        want["Pareto front"] = len(rep["front"])
    cases.append(("sweep", html, want))
    return cases


# ---- checking one page --------------------------------------------------------------------------

def check_page(browser, session, kind, html, want, shot):
    fails = []
    browser.events.clear()
    browser.send("Page.navigate", {"url": "file://" + os.path.abspath(html)}, session)
    browser.wait_event("Page.loadEventFired", timeout=30)
    status = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = browser.send("Runtime.evaluate", {"expression": "JSON.stringify(window.__silica_report || null)",
                                              "returnByValue": True}, session)
        status = json.loads(r.get("result", {}).get("value") or "null")
        if status and status.get("done"):
            break
        time.sleep(0.1)
    if not status or not status.get("done"):
        return ["%s: the page's script did not finish (%s)" % (kind, status)]
    if status.get("kind") != kind:
        fails.append("%s: the page says kind %r" % (kind, status.get("kind")))
    charts = {c["title"]: c for c in status["charts"]}
    for c in status["charts"]:
        if not c["ok"] or c["marks"] != c["rows"] or c["data_rows"] != c["rows"]:
            fails.append("%s: chart %r: %d marks, %d data rows, %d rows expected by the page (%s)" %
                         (kind, c["title"], c["marks"], c["data_rows"], c["rows"], c.get("mark_counts")))
    for title, rows in want.items():
        if title not in charts:
            fails.append("%s: no chart %r (charts: %s)" % (kind, title, sorted(charts)))
        elif charts[title]["rows"] != rows:
            fails.append("%s: chart %r has %d rows, the input has %d" % (kind, title, charts[title]["rows"], rows))
    for e in status.get("errors", []):
        fails.append("%s: page error: %s" % (kind, e))
    for e in browser.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            fails.append("%s: console %s: %s" % (kind, p["type"], text))
        elif m == "Runtime.exceptionThrown":
            fails.append("%s: exception: %s" % (kind, p.get("exceptionDetails", {}).get("text")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            fails.append("%s: log error: %s" % (kind, p["entry"].get("text")))
    # The whole page, at its own height.
    r = browser.send("Runtime.evaluate", {"expression": "document.documentElement.scrollHeight",
                                          "returnByValue": True}, session)
    height = int(r["result"]["value"])
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1120, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
    png = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                  "clip": {"x": 0, "y": 0, "width": 1120, "height": height,
                                                           "scale": 1}}, session, timeout=60)
    import base64
    with open(shot, "wb") as f:
        f.write(base64.b64decode(png["data"]))
    browser.send("Emulation.clearDeviceMetricsOverride", {}, session)
    n = len(status["charts"])
    print("%-10s %d charts, marks = rows in each (%s); screenshot %s (%d px high)" %
          (kind, n, ", ".join("%s %d" % (c["title"], c["rows"]) for c in status["charts"]), shot, height))
    return fails


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[0])
        print("usage: report_browser.py PATH/TO/silica OUTDIR")
        return 2
    silica, outdir = os.path.abspath(sys.argv[1]), sys.argv[2]
    required = bool(os.environ.get("CI"))
    exe = find_chromium()
    if not exe:
        print("%s: chromium is not installed (scripts/install-deps installs it)" % ("FAIL" if required else "SKIP"))
        return 1 if required else SKIP
    os.makedirs(outdir, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="silica-report-") as tmp:
        cases = make_inputs(silica, tmp)
        t1 = time.monotonic()
        browser = Browser(exe, os.path.join(tmp, "profile"))
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"}, timeout=30)
        except (TimeoutError, EOFError, OSError) as e:
            err = browser.proc.stderr.read().decode(errors="replace") if browser.proc.poll() is not None else ""
            browser.close()
            print("%s: chromium cannot start here (%s) %s" % ("FAIL" if required else "SKIP", e, err[-2000:]))
            return 1 if required else SKIP
        fails = []
        try:
            session = browser.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(domain + ".enable", {}, session)
            for kind, html, want in cases:
                fails += check_page(browser, session, kind, html, want, os.path.join(outdir, "report-%s.png" % kind))
        finally:
            browser.close()
    print("inputs %.1f s, browser %.1f s" % (t1 - t0, time.monotonic() - t1))
    for f in fails:
        print("FAIL: " + f)
    if not fails:
        print("report_browser: %d report kinds rendered, every chart with one mark per row, no console errors" %
              len(cases))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
