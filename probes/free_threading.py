"""Import modules in the main interpreter and report the GIL around each import.

Run by the ftprobe worker with sys.argv = [name, request_json, stage], or
directly: python free_threading.py '{"modules": ["numpy"]}'.

Prints one result line, behind the marker, on stdout. Run it with
PYTHONVERBOSE=1 and PYTHON_GIL unset: CPython then writes
"# loading module 'X', which requires the GIL" to stderr for every module that
re-enables the GIL (it warns only for the first), and the caller reads those
lines to name each culprit. A one-by-one probe of several names in turn
picks those lines out itself, from sys.stderr (CPython writes them through
it), and names each culprit for every name whose import depends on it
(`gil_required_by`).
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


GIL_LINE = "which requires the GIL"


class GilLineTee:
    """sys.stderr while the probe imports: writes go through unchanged, and
    the modules named in CPython's "requires the GIL" lines are kept."""

    def __init__(self, stream):
        self._stream = stream
        self.culprits = []

    def write(self, text):
        if GIL_LINE in text:
            for line in text.splitlines():
                start = line.find("# loading module '")
                if start >= 0 and GIL_LINE in line:
                    name = line[start + len("# loading module '") :].split("'", 1)[0]
                    if name not in self.culprits:
                        self.culprits.append(name)
        return self._stream.write(text)

    def __getattr__(self, attribute):
        return getattr(self._stream, attribute)


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


def one_by_one(request, stage):
    """Each name on its own, one after another: a result line per name, with
    what its import depends on, even where an earlier name loaded it."""
    initial = gil_enabled()
    watch_start()
    track_imports()
    tee = GilLineTee(sys.stderr)
    for name in request["modules"]:
        started, before = time.perf_counter(), gil_enabled()
        begin(name)
        sys.stderr = tee
        try:
            imports = [import_one(name)]
            if imports[0]["ok"]:
                imports.extend(import_one(sub) for sub in submodules_of(name, request.get("submodules", 0)))
        finally:
            if sys.stderr is tee:
                sys.stderr = tee._stream
            end()
        reached = depends_on(name)
        culprits = [m for m in tee.culprits if m in reached]
        # The GIL turned on here with no module named stays a finding of this name.
        turned_on = gil_enabled() and not before and not culprits
        result = {
            "stage": stage,
            "module": name,
            "seconds": time.perf_counter() - started,
            "gil_enabled_before": initial,
            "gil_enabled_after": initial or bool(culprits) or turned_on,
            "imports": imports,
            "code_ran": False,
            "code_error": None,
            "extensions": extensions_of(name),
            "failed_extensions": failures_of(name),
            "gil_required_by": culprits,
        }
        sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
        sys.stdout.flush()


def main():
    request = json.loads(sys.argv[1])
    if request.get("one_by_one"):
        return one_by_one(request, sys.argv[2] if len(sys.argv) > 2 else "main")
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
