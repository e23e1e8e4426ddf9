"""Import modules in the current interpreter, main or sub, and report.

Run by the ftprobe worker first in the main interpreter (stage "main": some
generators refuse only a second interpreter) and then inside a subinterpreter
made with Py_NewInterpreterFromConfig (stage "subinterpreter"). sys.argv is
[name, request_json, stage]. Writes one result line behind the marker with
os.write, which needs no flushing in a subinterpreter that is about to end.
"""

import json
import os
import sys
import time

# The worker defines _FTPROBE_MARKER (with its per-run token) before this runs.
MARKER = globals().get("_FTPROBE_MARKER", "@@ftprobe-result@@ ")


def import_one(name):
    entry = {"module": name, "ok": True, "error": None}
    try:
        __import__(name)
    except BaseException as exc:  # a probe reports, it does not stop
        entry["ok"] = False
        entry["error"] = "%s: %s" % (type(exc).__name__, exc)
    return entry


def emit(result):
    os.write(1, ("\n" + MARKER + json.dumps(result) + "\n").encode())


def one_by_one(request):
    """Each name on its own, one after another in this interpreter: a
    result line per name, with what its import depends on, even where an
    earlier name loaded it."""
    watch_start()
    track_imports()
    for name in request["modules"]:
        started = time.perf_counter()
        begin(name)
        try:
            imports = [import_one(name)]
        finally:
            end()
        emit(
            {
                "stage": sys.argv[2],
                "module": name,
                "seconds": time.perf_counter() - started,
                "imports": imports,
                "extensions": extensions_of(name),
                "failed_extensions": failures_of(name),
                "code_ran": False,
                "code_error": None,
            }
        )


def main():
    request = json.loads(sys.argv[1])
    if request.get("one_by_one"):
        return one_by_one(request)
    watch_start()
    imports = [import_one(name) for name in request["modules"]]
    result = {
        "stage": sys.argv[2],
        "imports": imports,
        "extensions": loaded_extensions(),
        "failed_extensions": failed_extensions(),
        "code_ran": False,
        "code_error": None,
    }
    if request.get("code") and all(e["ok"] for e in imports):
        result["code_ran"] = True
        try:
            exec(compile(request["code"], "<ftprobe --code>", "exec"), {"__name__": "__ftprobe__"})
        except BaseException as exc:
            result["code_error"] = "%s: %s" % (type(exc).__name__, exc)
    emit(result)


main()
