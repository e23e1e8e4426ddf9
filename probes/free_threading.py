"""Import modules in the main interpreter and report the GIL around each import.

Run by the ftprobe worker with sys.argv = [name, request_json, stage], or
directly: python free_threading.py '{"modules": ["numpy"]}'.

Prints one result line, behind the marker, on stdout. Run it with
PYTHONVERBOSE=1 and PYTHON_GIL unset: CPython then writes
"# loading module 'X', which requires the GIL" to stderr for every module that
re-enables the GIL (it warns only for the first), and the caller reads those
lines to name each culprit.
"""

import json
import pkgutil
import sys
import time

# The worker defines _FTPROBE_MARKER (with its per-run token) before this runs.
MARKER = globals().get("_FTPROBE_MARKER", "@@ftprobe-result@@ ")


def gil_enabled():
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def describe(exc):
    return "%s: %s" % (type(exc).__name__, exc)


if "watch_start" not in globals():  # run directly, not by the worker
    import os

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "extension_watch.py")) as _f:
        exec(compile(_f.read(), _f.name, "exec"))


def import_one(name):
    started = time.perf_counter()
    entry = {"module": name, "ok": True, "error": None}
    try:
        __import__(name)
    except BaseException as exc:  # a probe reports, it does not stop
        entry["ok"] = False
        entry["error"] = describe(exc)
    entry["seconds"] = time.perf_counter() - started
    entry["gil_enabled_after"] = gil_enabled()
    return entry


def submodules_of(name, limit):
    module = sys.modules.get(name)
    path = getattr(module, "__path__", None)
    if not path or limit <= 0:
        return []
    names = []
    for info in pkgutil.walk_packages(path, prefix=name + ".", onerror=lambda _: None):
        names.append(info.name)
        if len(names) >= limit:
            break
    return names


def main():
    request = json.loads(sys.argv[1])
    result = {"stage": sys.argv[2] if len(sys.argv) > 2 else "main", "gil_enabled_before": gil_enabled()}
    watch_start()
    imports = [import_one(name) for name in request["modules"]]
    for name in [m for m, e in zip(request["modules"], imports) if e["ok"]]:
        imports.extend(import_one(sub) for sub in submodules_of(name, request.get("submodules", 0)))
    result["code_ran"], result["code_error"] = False, None
    if request.get("code") and all(e["ok"] for e in imports[: len(request["modules"])]):
        result["code_ran"] = True
        try:
            exec(compile(request["code"], "<ftprobe --code>", "exec"), {"__name__": "__ftprobe__"})
        except BaseException as exc:
            result["code_error"] = describe(exc)
    result["imports"] = imports
    result["gil_enabled_after"] = gil_enabled()
    result["extensions"] = loaded_extensions()
    result["failed_extensions"] = failed_extensions()
    sys.stdout.flush()
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


main()
