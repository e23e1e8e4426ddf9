"""Watch the extension modules an import loads, and those that raise.

The worker runs this before a probe script, in every interpreter it probes
(the main one and each subinterpreter have their own importlib). A package
that catches the ImportError of its compiled accelerator and falls back to
pure Python still shows here: the loader's failure is recorded before the
package sees it. Defines watch_start(), loaded_extensions() and
failed_extensions() for the probe script.
"""

import importlib.machinery
import sys

_FAILED = []
_BEFORE = set()


def _record_failures(method):
    original = getattr(importlib.machinery.ExtensionFileLoader, method)

    def wrapper(self, *args):
        try:
            return original(self, *args)
        except BaseException as exc:
            _FAILED.append(
                {"module": self.name, "file": self.path, "error": "%s: %s" % (type(exc).__name__, exc)}
            )
            raise

    setattr(importlib.machinery.ExtensionFileLoader, method, wrapper)


_record_failures("create_module")
_record_failures("exec_module")


def watch_start():
    """Forget what is already loaded (ftprobe's own imports, such as json)."""
    _BEFORE.clear()
    _BEFORE.update(sys.modules)
    del _FAILED[:]


def loaded_extensions():
    """{module: file} of the extension modules loaded since watch_start()."""
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name not in _BEFORE and path.endswith((".so", ".pyd", ".dylib")):
            found[name] = path
    return found


def failed_extensions():
    """The extension modules whose loading raised, first error each."""
    seen, out = set(), []
    for failure in _FAILED:
        if failure["module"] not in seen:
            seen.add(failure["module"])
            out.append(failure)
    return out
