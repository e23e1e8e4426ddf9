"""Import modules from many threads at once, then run --code in many threads.

sys.argv is [name, request_json, stage]. Threads start together at a barrier
so the imports really race. Crashes and hangs are seen by the parent (signal,
timeout); this script reports exceptions and the GIL state.
"""

import json
import sys
import threading

# The worker defines _FTPROBE_MARKER (with its per-run token) before this runs.
MARKER = globals().get("_FTPROBE_MARKER", "@@ftprobe-result@@ ")


def main():
    request = json.loads(sys.argv[1])
    count = max(2, int(request.get("threads") or 8))
    barrier = threading.Barrier(count)
    errors = []
    lock = threading.Lock()

    def work():
        try:
            barrier.wait()
            for name in request["modules"]:
                __import__(name)
            if request.get("code"):
                exec(compile(request["code"], "<ftprobe --code>", "exec"), {"__name__": "__ftprobe__"})
        except BaseException as exc:  # a probe reports, it does not stop
            with lock:
                errors.append("%s: %s" % (type(exc).__name__, exc))

    threads = [threading.Thread(target=work) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = getattr(sys, "_is_gil_enabled", None)
    result = {
        "stage": "threads",
        "threads": count,
        "errors": errors,
        "code_ran": bool(request.get("code")),
        "gil_enabled_after": True if check is None else check(),
    }
    sys.stdout.flush()
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


main()
