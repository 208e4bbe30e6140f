#!/usr/bin/env python3
"""test_silica.py — the Python binding (python/silica, ctypes over libsilica.so) against the library
and the command line: the same scenario gives the same JSON either way, errors become SilicaError
with the library's message, chips carry their peaks, memory, TDP and validation status, reports
come out as pages.  Standard library only (unittest).

Run by ctest with SILICA_LIB (the built libsilica.so) and PYTHONPATH=python; SILICA_BIN (optional)
names the silica program to compare with (default: build/silica).  From the repository root."""
import json
import math
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import silica  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("SILICA_BIN") or os.path.join(os.path.dirname(os.environ.get("SILICA_LIB", "")) or
                                                   os.path.join(ROOT, "build"), "silica")
DECODE = {"chip": "h100-sxm", "model": "llama3.1-8b", "task": "decode", "infer": {"batch": 8, "prompt_len": 1024}}


def cli(*args, ok=(0,)):
    p = subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert p.returncode in ok, "%s: exit %d: %s" % (args, p.returncode, p.stderr)
    return p.stdout


class Binding(unittest.TestCase):
    def test_version(self):
        self.assertEqual(silica.version(), cli("--version").split()[1])
        self.assertTrue(os.path.exists(silica.library_path()) or "libsilica" in silica.library_path())

    def test_run_dict(self):
        r = silica.run(DECODE)
        self.assertTrue(r["feasible"])
        self.assertGreater(r["step_time_s"], 0)
        self.assertAlmostEqual(r["tokens_per_s"], 8 / r["step_time_s"], delta=1e-6 * r["tokens_per_s"])
        self.assertEqual(r["scenario"]["chip"]["name"], "h100-sxm")
        self.assertTrue(all(row["time_s"] >= 0 for row in r["breakdown"]))

    def test_run_file_equals_cli(self):
        path = "examples/llama-8b-decode.yaml"
        self.assertEqual(silica.run(os.path.join(ROOT, path)), json.loads(cli("run", path, "--json")))
        # the same figures from a dict as from flags
        a = silica.run(DECODE)
        b = json.loads(cli("run", "--chip", "h100-sxm", "--model", "llama3.1-8b", "--task", "decode", "--batch", "8",
                           "--prompt-len", "1024", "--json"))
        for k in ("step_time_s", "tokens_per_s", "mfu"):
            self.assertEqual(a[k], b[k], k)
        self.assertEqual(a["breakdown"], b["breakdown"])

    def test_run_sets_and_plans(self):
        r = silica.run(DECODE, sets=["infer.batch=1"])
        self.assertEqual(r["scenario"]["infer"]["batch"], 1)
        t = silica.run({"chip": "h100-sxm", "model": "llama3.2-1b", "task": "train", "system": {"chips": 8, "node_chips": 8},
                        "train": {"seq_len": 2048, "global_batch": 64}, "parallel": {"tp": "auto", "pp": 1}},
                       top_plans=3)
        self.assertTrue(t["feasible"])
        self.assertLessEqual(len(t.get("plans", [])), 3)
        self.assertGreater(len(t.get("plans", [])), 0)

    def test_infeasible_is_a_result(self):
        r = silica.run({"chip": "mtia-2i", "model": "llama3.1-405b", "task": "decode",
                        "infer": {"batch": 1, "prompt_len": 1024}})
        self.assertFalse(r["feasible"])
        self.assertTrue(r["reason"])

    def test_errors(self):
        with self.assertRaises(silica.SilicaError) as e:
            silica.run({"chip": "h100-sxm", "model": "llama3.1-8b", "task": "decode", "infer": {"batch": -1}})
        self.assertEqual(e.exception.code, 2)
        self.assertIn("batch", str(e.exception))
        with self.assertRaises(silica.SilicaError) as e:
            silica.run({"chip": "no-such-chip", "model": "llama3.1-8b", "task": "decode"})
        self.assertEqual(e.exception.code, 2)
        self.assertIn("no-such-chip", str(e.exception))
        with self.assertRaises(silica.SilicaError):
            silica.validate(["no/such/cases.yaml"])
        with self.assertRaises(silica.SilicaError):
            silica.chip("no-such-chip")
        with self.assertRaises(silica.SilicaError):
            silica.report({"not": "a silica output"})
        with self.assertRaises(TypeError):
            silica.run(42)

    def test_validate_equals_cli(self):
        v = silica.validate("tests/data/report-cases.yaml")
        c = json.loads(cli("validate", "tests/data/report-cases.yaml", "--json", ok=(0, 1)))
        self.assertEqual(v, c)
        self.assertEqual(v["counts"]["ok"] + v["counts"]["fail"], len(v["cases"]))
        only = silica.validate(["tests/data/report-cases.yaml"], filter="^gemm-a100-m64-")
        self.assertEqual(len(only["cases"]), 1)
        with self.assertRaises(silica.SilicaError):
            silica.validate(["tests/data/report-cases.yaml"], filter="^nothing$")

    def test_chips(self):
        chips = silica.chips()
        names = [c["name"] for c in chips]
        self.assertEqual(len(chips), len(cli("list", "chips").strip().splitlines()))
        self.assertIn("h100-sxm", names)
        h = silica.chip("h100-sxm")
        self.assertAlmostEqual(h["peak_tflops"]["bf16"], 989.4, delta=5)
        self.assertGreater(h["tdp_w"], 0)
        self.assertGreater(h["dram_bw_GBps"], 3000)
        self.assertGreater(h["dram_bytes"], 79e9)
        self.assertIn(h["validation"], ("calibrated", "unvalidated"))
        self.assertEqual(h["validation"] == "calibrated", h["validated"])
        self.assertAlmostEqual(h["ridge_flops_per_byte"]["bf16"], h["peak_tflops"]["bf16"] * 1e12 / (h["dram_bw_GBps"] * 1e9))
        for c in chips:
            self.assertTrue(c["memory"], c["name"])
            self.assertTrue(all(not math.isnan(v) for v in c["peak_tflops"].values()))
        shown = json.loads(cli("show", "chip", "h100-sxm", "--json"))
        self.assertAlmostEqual(shown["peak_tflops"]["bf16"], h["peak_tflops"]["bf16"])
        self.assertIn("llama3.1-8b", silica.presets("models"))

    def test_report(self):
        r = silica.run(DECODE)
        self.assertEqual(silica.report_kind(r), "run")
        self.assertEqual(silica.report_kind([r, r]), "scaling")
        self.assertEqual(silica.report_kind(silica.validate("tests/data/report-cases.yaml")), "validation")
        self.assertIsNone(silica.report_kind({"x": 1}))
        self.assertEqual(silica.report_kind(b"SQLite format 3\0" + bytes(100)), "sweep-db")
        self.assertEqual(silica.report_kind({"front": [], "best": [], "points_feasible": 0}), "sweep")
        html = silica.report(r)
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertIn('data-kind="run"', html)
        self.assertNotIn("http://", html.split("<script")[0])
        with self.assertRaises(silica.SilicaError) as e:
            silica.report(b"SQLite format 3\0" + bytes(100))
        self.assertEqual(e.exception.code, 4)

    def test_many_runs(self):
        # no growth of anything across calls: run the same scenario a few hundred times
        first = silica.run(DECODE)["step_time_s"]
        for _ in range(200):
            self.assertEqual(silica.run(DECODE)["step_time_s"], first)


if __name__ == "__main__":
    unittest.main(verbosity=1)
