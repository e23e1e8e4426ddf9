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

# The worker defines _FTPROBE_MARKER (with its per-run token) before this runs.
MARKER = globals().get("_FTPROBE_MARKER", "@@ftprobe-result@@ ")


def main():
    request = json.loads(sys.argv[1])
    watch_start()
    imports = []
    for name in request["modules"]:
        entry = {"module": name, "ok": True, "error": None}
        try:
            __import__(name)
        except BaseException as exc:  # a probe reports, it does not stop
            entry["ok"] = False
            entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        imports.append(entry)
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
    os.write(1, ("\n" + MARKER + json.dumps(result) + "\n").encode())


main()
