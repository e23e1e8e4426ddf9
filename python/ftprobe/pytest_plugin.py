"""ftprobe's pytest plugin: when did the GIL come back, and which module did it.

It reads sys._is_gil_enabled() when it is loaded, at session start, after
collection and after each test. When the GIL turns on between two of those
points, it names the extension modules imported in between, and the module
CPython's own RuntimeWarning names ("The global interpreter lock (GIL) has
been enabled to load module ..."), so "during collection, because of X" and
"during test T" are told apart.

Pure Python, no native code: it never changes what it measures.

- Installed with the ftprobe wheel (entry point `pytest11`), it does nothing
  unless asked: `pytest -p ftprobe`, `--ftprobe`, or `--ftprobe-fail-on-gil`
  (the session fails when the GIL was re-enabled). It then reports in the
  terminal summary, with the ftprobe scanner's verdict, generator and fix for
  each module (the `ftprobe` executable runs in a subprocess), and as JUnit
  properties (`ftprobe_gil_reenabled`, `ftprobe_gil_reenabled_by`).
- `ftprobe test` injects the same file and sets FTPROBE_PYTEST_RECORD to a
  file that gets one JSON object per line:

  {"event": "load" | "session_start" | "collection" | "test_end" | "session_end",
   "gil": bool | null, "test": nodeid?, "new_extensions": [{"module", "file"}]?}
  {"event": "test_start", "test": nodeid}
  {"event": "gil_warning", "module": name, "when": ..., "test": nodeid}
"""

import importlib.machinery
import json
import os
import re
import subprocess
import sys
import sysconfig

import pytest

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
        self.active = self.out is not None
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

    def culprits(self):
        """The modules to name: those CPython's warning named, else the new ones."""
        if self.turned_on is None:
            return []
        _, new = self.turned_on
        files = {m["module"]: m["file"] for m in new}
        files.update({n: f for n, f in _extension_modules().items() if n in self.warned})
        names = list(dict.fromkeys(self.warned)) or [m["module"] for m in new]
        return [(name, files.get(name)) for name in names]

    def where(self):
        where, _ = self.turned_on
        if where in ("load", "session_start"):
            return "before collection"
        return "during collection" if where == "collection" else "in " + where


# Made on import, before any conftest, so what conftests import is seen.
_recorder = _Recorder(os.environ.get("FTPROBE_PYTEST_RECORD"))


def pytest_addoption(parser):
    group = parser.getgroup("ftprobe", "free-threading: who re-enabled the GIL (ftprobe)")
    group.addoption(
        "--ftprobe",
        action="store_true",
        default=False,
        help="report when the GIL was re-enabled and by which extension module",
    )
    group.addoption(
        "--ftprobe-fail-on-gil",
        action="store_true",
        default=False,
        help="like --ftprobe, and fail the session when the GIL was re-enabled",
    )


def pytest_configure(config):
    asked = "ftprobe" in (getattr(config.option, "plugins", None) or [])
    if asked or config.getoption("ftprobe", False) or config.getoption("ftprobe_fail_on_gil", False):
        _recorder.active = True


def pytest_sessionstart(session):
    if _recorder.active:
        _recorder.checkpoint("session_start")


def pytest_collection_finish(session):
    if _recorder.active:
        _recorder.checkpoint("collection")


def pytest_runtest_logstart(nodeid, location):
    if _recorder.active:
        _recorder.write({"event": "test_start", "test": nodeid})


def pytest_runtest_logfinish(nodeid, location):
    if _recorder.active:
        _recorder.checkpoint("test_end", nodeid)


def pytest_warning_recorded(warning_message, when, nodeid, location):
    found = _WARNING.search(str(warning_message.message))
    if found and _recorder.active:
        _recorder.warned.append(found.group(1))
        _recorder.write({"event": "gil_warning", "module": found.group(1), "when": when, "test": nodeid or None})


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    # Before junitxml writes its file, and before the exit status is read.
    if not _recorder.active:
        return
    _recorder.checkpoint("session_end")
    if _recorder.turned_on is None:
        return
    xml = _junit_xml(session.config)
    if xml is not None:
        xml.add_global_property("ftprobe_gil_reenabled", _recorder.where())
        xml.add_global_property("ftprobe_gil_reenabled_by", " ".join(n for n, _ in _recorder.culprits()))
    if session.config.getoption("ftprobe_fail_on_gil", False) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _junit_xml(config):
    """pytest's JUnit writer, when --junitxml is on (kept in the config's stash)."""
    try:
        from _pytest.junitxml import xml_key

        return config.stash.get(xml_key, None)
    except (ImportError, AttributeError):
        return getattr(config, "_xml", None)


def _scanner_verdicts(files):
    """{file: (gil verdict, generator, fix)} from `ftprobe scan`, when the executable is at hand."""
    if not files:
        return {}
    try:
        from ftprobe import find_ftprobe_bin

        binary = find_ftprobe_bin()
    except (ImportError, FileNotFoundError):
        return {}
    try:
        completed = subprocess.run(
            [binary, "scan", "--format", "json", *files],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=120,
            check=False,
        )
        targets = json.loads(completed.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    verdicts = {}
    for target in targets:
        hints = [f.get("hint") for f in target.get("findings", []) if f.get("hint")]
        for extension in target.get("extensions", []):
            generator = (extension.get("generator") or {}).get("name")
            verdicts[target.get("path")] = (extension.get("gil"), generator, hints[0] if hints else None)
    return verdicts


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _recorder.active or _recorder.turned_on is None:
        return
    culprits = _recorder.culprits()
    verdicts = _scanner_verdicts([f for _, f in culprits if f])
    terminalreporter.write_sep("-", "ftprobe: the GIL was re-enabled")
    names = ", ".join(n for n, _ in culprits) or "an unnamed module"
    terminalreporter.write_line("the GIL was re-enabled %s, when %s loaded" % (_recorder.where(), names))
    for name, path in culprits:
        verdict, generator, fix = verdicts.get(path, (None, None, None))
        details = ["static: GIL %s" % verdict.replace("_", " ")] if verdict else []
        if generator:
            details.append("built with %s" % generator)
        terminalreporter.write_line("  %s%s" % (name, " (%s)" % ", ".join(details) if details else ""))
        if fix:
            terminalreporter.write_line("    fix: %s" % fix)
    if config.getoption("ftprobe_fail_on_gil", False):
        terminalreporter.write_line("failing the session: --ftprobe-fail-on-gil")
