"""ftprobe's pytest plugin: when did the GIL come back, and which module did it.

It reads sys._is_gil_enabled() when it is loaded, at session start, after
collection and after each test. When the GIL turns on between two of those
points, it names the extension modules imported in between, and the module
CPython's own RuntimeWarning names ("The global interpreter lock (GIL) has
been enabled to load module ..."), so "during collection, because of X" and
"during test T" are told apart.

Pure Python, no native code: it never changes what it measures. Nothing
happens unless pytest is asked to load it (`-p`). `ftprobe test` injects it
and sets FTPROBE_PYTEST_RECORD to a file that gets one JSON object per line:

  {"event": "load" | "session_start" | "collection" | "test_end" | "session_end",
   "gil": bool | null, "test": nodeid?, "new_extensions": [{"module", "file"}]?}
  {"event": "test_start", "test": nodeid}
  {"event": "gil_warning", "module": name, "when": ..., "test": nodeid}
"""

import importlib.machinery
import json
import os
import re
import sys
import sysconfig

_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
_WARNING = re.compile(r"has been enabled to load module '([^']+)'")


# Only a free-threaded build can run without the GIL; on a default build
# sys._is_gil_enabled() is always true, and says nothing.
_FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return None if probe is None or not _FREE_THREADED else bool(probe())


def _extension_modules():
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(_SUFFIXES):
            found[name] = path
    return found


class _Recorder:
    def __init__(self, path):
        self.out = open(path, "a", encoding="utf-8", buffering=1) if path else None
        self.known = _extension_modules()
        self.gil = _gil_enabled()
        # (where, new extension modules) the first time the GIL turned on.
        self.turned_on = None
        self.warned = []
        self.write({"event": "load", "gil": self.gil})

    def write(self, record):
        if self.out is not None:
            self.out.write(json.dumps(record) + "\n")
            self.out.flush()

    def checkpoint(self, event, test=None):
        now = _extension_modules()
        new = [{"module": n, "file": f} for n, f in sorted(now.items()) if n not in self.known]
        self.known = now
        gil = _gil_enabled()
        record = {"event": event, "gil": gil}
        if test is not None:
            record["test"] = test
        if gil and self.gil is False:
            record["new_extensions"] = new
            if self.turned_on is None:
                self.turned_on = (test or event, new)
        self.gil = gil
        self.write(record)


# Made on import, before any conftest, so what conftests import is seen.
_recorder = _Recorder(os.environ.get("FTPROBE_PYTEST_RECORD"))


def pytest_sessionstart(session):
    _recorder.checkpoint("session_start")


def pytest_collection_finish(session):
    _recorder.checkpoint("collection")


def pytest_runtest_logstart(nodeid, location):
    _recorder.write({"event": "test_start", "test": nodeid})


def pytest_runtest_logfinish(nodeid, location):
    _recorder.checkpoint("test_end", nodeid)


def pytest_warning_recorded(warning_message, when, nodeid, location):
    found = _WARNING.search(str(warning_message.message))
    if found:
        _recorder.warned.append(found.group(1))
        _recorder.write({"event": "gil_warning", "module": found.group(1), "when": when, "test": nodeid or None})


def pytest_sessionfinish(session, exitstatus):
    _recorder.checkpoint("session_end")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _recorder.turned_on is None:
        return
    where, new = _recorder.turned_on
    names = list(dict.fromkeys(_recorder.warned)) or [m["module"] for m in new]
    place = "during collection" if where in ("session_start", "collection") else "in " + where
    terminalreporter.write_sep("-", "ftprobe")
    terminalreporter.write_line(
        "the GIL was re-enabled %s, when %s loaded" % (place, ", ".join(names) or "an unknown module"))
