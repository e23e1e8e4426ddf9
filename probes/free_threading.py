"""Import modules and report the GIL state around each import.

Usage: python free_threading.py '{"modules": ["numpy", "numpy._core._simd"]}'

Prints one JSON object on the last line of stdout. Run it with
PYTHONVERBOSE=1 and PYTHON_GIL unset: CPython then writes
"# loading module 'X', which requires the GIL" to stderr for every module that
re-enables the GIL (it warns only for the first), and the caller reads those
lines to name each culprit.
"""

import json
import sys
import time


def gil_enabled():
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def extension_files():
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.endswith((".so", ".pyd", ".dylib")):
            found[name] = path
    return found


def main():
    request = json.loads(sys.argv[1])
    result = {"result": "success", "gil_enabled_before": gil_enabled(), "imports": []}
    for name in request["modules"]:
        started = time.perf_counter()
        entry = {"module": name, "ok": True, "error": None}
        try:
            __import__(name)
        except BaseException as exc:  # a probe reports, it does not stop
            entry["ok"] = False
            entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        entry["seconds"] = time.perf_counter() - started
        entry["gil_enabled_after"] = gil_enabled()
        result["imports"].append(entry)
    result["gil_enabled_after"] = gil_enabled()
    result["extensions"] = extension_files()
    sys.stdout.flush()
    sys.stdout.write("\n" + json.dumps(result) + "\n")


main()
