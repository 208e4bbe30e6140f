"""silica — Python binding of libsilica, a performance, energy and cost model of AI accelerators.

A thin layer over the C library (include/silica.h) through ctypes, with no third-party module: every
function takes and returns plain Python values (dicts, lists, strings), the same JSON documents the
command line prints.

    import silica
    res = silica.run({"chip": "h100-sxm", "model": "llama3.1-8b", "task": "decode",
                      "infer": {"batch": 1, "prompt_len": 1024}})
    print(res["step_time_s"], res["tokens_per_s"])
    for chip in silica.chips():
        print(chip["name"], chip["peak_tflops"].get("bf16"), chip["validation"])
    html = silica.report(res)                       # a self-contained HTML page
    val = silica.validate(["cases.yaml"])           # the JSON of `silica validate --json`

Units are SI (seconds, bytes, FLOP, joules, watts), as in the JSON outputs (docs/formats.md).

The library is found, in this order: the SILICA_LIB environment variable (a path to libsilica.so),
the build folder of the source tree this package sits in (build/libsilica.so), the library of the
prefix this package was installed into by `make install` (PREFIX/share/silica/python/silica ->
PREFIX/lib/libsilica.so), then the system's libraries.
"""
import ctypes
import ctypes.util
import glob
import json
import os

__all__ = ["SilicaError", "run", "validate", "chips", "chip", "presets", "report", "report_kind", "version",
           "library_path"]


class SilicaError(Exception):
    """An error of the library: `code` 2 for bad input (the message names the file, line and key),
    3 for an internal error, 4 for valid input this build cannot evaluate."""

    def __init__(self, code, message, file="", line=0, key=""):
        super().__init__(message)
        self.code, self.file, self.line, self.key = code, file, line, key


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("line", ctypes.c_int), ("file", ctypes.c_char * 256),
                ("key", ctypes.c_char * 128), ("message", ctypes.c_char * 512)]


class _RunParams(ctypes.Structure):
    _fields_ = [("top_plans", ctypes.c_size_t)]


_lib = None
_lib_path = None


def _candidates():
    env = os.environ.get("SILICA_LIB")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for build in ("build", "build-asan"):
        yield os.path.join(root, build, "libsilica.so")
    # installed: here = PREFIX/share/silica/python/silica, root = PREFIX/share/silica
    if os.path.basename(root) == "silica" and os.path.basename(os.path.dirname(root)) == "share":
        prefix = os.path.dirname(os.path.dirname(root))
        for libdir in [os.path.join(prefix, "lib")] + sorted(glob.glob(os.path.join(prefix, "lib", "*-linux-gnu"))):
            yield os.path.join(libdir, "libsilica.so")
    found = ctypes.util.find_library("silica")
    if found:
        yield found
    yield "libsilica.so.0"


def _load():
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        _declare(lib)
        _lib, _lib_path = lib, path
        return lib
    raise SilicaError(3, "cannot load libsilica: tried " + "; ".join(tried) +
                      " (build it with `make build`, or set SILICA_LIB)")


def _declare(lib):
    c_char_p, c_void_p, c_size_t, c_int = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
    err = ctypes.POINTER(_Error)
    sigs = {
        "sl_version": (c_char_p, []),
        "sl_free": (None, [c_void_p]),
        "sl_error_format": (None, [err, ctypes.c_char_p, c_size_t]),
        "sl_scenario_load": (c_int, [c_char_p, c_char_p, ctypes.POINTER(c_char_p), c_size_t,
                                     ctypes.POINTER(c_void_p), err]),
        "sl_scenario_free": (None, [c_void_p]),
        "sl_scenario_run_ex": (c_int, [c_void_p, ctypes.POINTER(_RunParams), ctypes.POINTER(c_void_p), err]),
        "sl_result_free": (None, [c_void_p]),
        "sl_result_json": (c_void_p, [c_void_p]),
        "sl_preset_count": (c_size_t, [c_char_p]),
        "sl_preset_name": (c_char_p, [c_char_p, c_size_t]),
        "sl_report_kind": (c_char_p, [c_char_p, c_size_t]),
        "sl_report_html": (c_int, [c_char_p, c_size_t, c_char_p, ctypes.POINTER(c_void_p), err]),
        "sl_validate_json": (c_int, [ctypes.POINTER(c_char_p), c_size_t, c_char_p, ctypes.POINTER(c_void_p), err]),
        "sl_chip_json": (c_int, [c_char_p, ctypes.POINTER(c_void_p), err]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args


def _raise(lib, status, err):
    buf = ctypes.create_string_buffer(1024)
    lib.sl_error_format(ctypes.byref(err), buf, len(buf))
    raise SilicaError(status, buf.value.decode(errors="replace"), err.file.decode(errors="replace"),
                      err.line, err.key.decode(errors="replace"))


def _take_string(lib, ptr):
    """A malloc'd string from the library, as str, freed."""
    try:
        return ctypes.string_at(ptr).decode()
    finally:
        lib.sl_free(ptr)


def _b(s):
    return None if s is None else os.fsencode(s) if not isinstance(s, bytes) else s


def library_path():
    """The path of the libsilica that was loaded."""
    _load()
    return _lib_path


def version():
    """The library's version, e.g. "0.1.0"."""
    return _load().sl_version().decode()


def run(scenario, sets=(), top_plans=0):
    """Evaluates one scenario and returns the result as a dict (the JSON of `silica run --json`).

    scenario: a dict (the scenario's keys, docs/formats.md "Scenario"), a path to a YAML/JSON file, or
    YAML text.  sets: overrides "dotted.key=value" (like --set).  top_plans: when a parallel plan is
    searched, keep the N best plans ("plans" in the result).  An infeasible scenario is a result with
    "feasible": False and a "reason"; bad input raises SilicaError (code 2)."""
    lib = _load()
    path = text = None
    if isinstance(scenario, dict):
        text = json.dumps(scenario)
    elif isinstance(scenario, (str, bytes, os.PathLike)) and os.path.isfile(scenario):
        path = os.fspath(scenario)
    elif isinstance(scenario, str):
        text = scenario
    else:
        raise TypeError("scenario: a dict, a file path or YAML text, not %r" % type(scenario).__name__)
    sets = [_b(s) for s in sets]
    arr = (ctypes.c_char_p * max(1, len(sets)))(*sets)
    err = _Error()
    sc = ctypes.c_void_p()
    st = lib.sl_scenario_load(_b(path), _b(text), arr, len(sets), ctypes.byref(sc), ctypes.byref(err))
    if st:
        _raise(lib, st, err)
    try:
        res = ctypes.c_void_p()
        params = _RunParams(top_plans)
        st = lib.sl_scenario_run_ex(sc, ctypes.byref(params), ctypes.byref(res), ctypes.byref(err))
        if st:
            _raise(lib, st, err)
        try:
            ptr = lib.sl_result_json(res)
            if not ptr:
                raise SilicaError(3, "out of memory")
            return json.loads(_take_string(lib, ptr))
        finally:
            lib.sl_result_free(res)
    finally:
        lib.sl_scenario_free(sc)


def validate(paths, filter=None):
    """Runs validation cases files and returns the JSON of `silica validate --json` as a dict:
    {"cases": [{"name", "metric", "measured", "predicted", "rel_error", "status", ...}], "mape",
    "max_abs_rel_error", "counts", ...}.  A failing case is a status, not an exception; a malformed
    file raises SilicaError.  paths: one path or a list; filter: a POSIX extended regex on names."""
    lib = _load()
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    enc = [_b(os.fspath(p)) for p in paths]
    arr = (ctypes.c_char_p * max(1, len(enc)))(*enc)
    err = _Error()
    out = ctypes.c_void_p()
    st = lib.sl_validate_json(arr, len(enc), _b(filter), ctypes.byref(out), ctypes.byref(err))
    if st:
        _raise(lib, st, err)
    return json.loads(_take_string(lib, out))


def presets(kind):
    """Names of the presets of a kind: "chips", "stacks", "models" or "systems"."""
    lib = _load()
    k = _b(kind)
    return [lib.sl_preset_name(k, i).decode() for i in range(lib.sl_preset_count(k))]


def chip(name):
    """One chip (a preset name or a chip spec file) as a dict: name, description, clock_ghz, cores,
    process_nm, tdp_w, area_mm2, peak_tflops {format: TFLOP/s}, vector_peak_tflops, memory [levels],
    dram_bytes, dram_bw_GBps, ridge_flops_per_byte {format}, validated, validation, validation_note."""
    lib = _load()
    err = _Error()
    out = ctypes.c_void_p()
    st = lib.sl_chip_json(_b(name), ctypes.byref(out), ctypes.byref(err))
    if st:
        _raise(lib, st, err)
    return json.loads(_take_string(lib, out))


def chips():
    """Every chip preset as a dict (see chip())."""
    return [chip(n) for n in presets("chips")]


def _text(data):
    if isinstance(data, (dict, list)):
        return json.dumps(data).encode()
    if isinstance(data, str):
        return data.encode()
    return bytes(data)


def report_kind(data):
    """What kind of report `data` makes: "run", "scaling", "validation", "compare", "sweep" (the
    JSON of `silica sweep --report DB --json`), "sweep-db", or None.  data: a dict or list (a
    result), or its JSON text."""
    t = _text(data)
    k = _load().sl_report_kind(t, len(t))
    return k.decode() if k else None


def report(data, path=None, name=None):
    """A self-contained HTML page of charts (docs/reports.md) from a result: a run result, a list of
    run results (scaling curves), a validation result or a compare result (a dict/list, or JSON
    text).  Returns the page as str, and writes it to `path` when given."""
    lib = _load()
    t = _text(data)
    err = _Error()
    out = ctypes.c_void_p()
    st = lib.sl_report_html(t, len(t), _b(name or "python"), ctypes.byref(out), ctypes.byref(err))
    if st:
        _raise(lib, st, err)
    html = _take_string(lib, out)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
    return html
