"""Watch the extension modules an import loads, and those that raise.

The worker runs this before a probe script, in every interpreter it probes
(the main one and each subinterpreter have their own importlib). A package
that catches the ImportError of its compiled accelerator and falls back to
pure Python still shows here: the loader's failure is recorded before the
package sees it. Defines watch_start(), loaded_extensions() and
failed_extensions() for the probe script.

A probe of several import names one after another in this interpreter
(`one_by_one`) also needs to know which of the modules already loaded each
name depends on: a module that an earlier name loaded is not loaded again,
yet it belongs to this name's import as much as to the earlier one's.
track_imports() records the import graph: which modules each module's
execution loaded or asked for, through importlib's loader and
builtins.__import__. depends_on(name) is everything the name's import
reached, directly or through modules loaded before it.
"""

import _thread
import builtins
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
            _FAILED.append({"module": self.name, "file": self.path, "error": "%s: %s" % (type(exc).__name__, exc)})
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


# The import graph, kept once track_imports() ran: module -> the modules its
# execution loaded or imported; the modules each probed name asked for or
# loaded itself; every extension failure with the module being loaded.
_EDGES = {}
_REACHED = {}
_LOADING = {}  # thread -> stack of modules being loaded
_CURRENT = []  # the probed name whose import runs
_PHASE = {}  # what was loaded and what had failed when it began


def _reach(module):
    stack = _LOADING.get(_thread.get_ident())
    if stack:
        _EDGES.setdefault(stack[-1], set()).add(module)
    if _CURRENT:
        _REACHED.setdefault(_CURRENT[0], set()).add(module)


def track_imports():
    """Starts recording the import graph (for a one-by-one probe)."""
    bootstrap = sys.modules["_frozen_importlib"]
    load = bootstrap._load_unlocked
    original_import = builtins.__import__

    def load_unlocked(spec):
        _reach(spec.name)
        stack = _LOADING.setdefault(_thread.get_ident(), [])
        stack.append(spec.name)
        try:
            return load(spec)
        finally:
            stack.pop()

    def tracked_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = original_import(name, globals, locals, fromlist, level)
        try:
            if level:
                package = (globals or {}).get("__package__")
                if package is None:
                    package = (globals or {}).get("__name__", "").rpartition(".")[0]
                name = bootstrap._resolve_name(name, package, level) if name else package
            _reach(name)
            for item in fromlist or ():
                if item != "*" and "%s.%s" % (name, item) in sys.modules:
                    _reach("%s.%s" % (name, item))
        except Exception:  # an unusual caller; the import itself succeeded
            pass
        return module

    bootstrap._load_unlocked = load_unlocked
    builtins.__import__ = tracked_import


def begin(name):
    """The imports from now on are `name`'s."""
    del _CURRENT[:]
    _CURRENT.append(name)
    _REACHED.setdefault(name, set()).add(name)
    _PHASE.update(modules=set(sys.modules), failed=len(_FAILED))


def end():
    """`name`'s imports are over: whatever they loaded or saw fail, by any
    route, is its own."""
    if _CURRENT:
        reached = _REACHED[_CURRENT[0]]
        reached.update(set(sys.modules) - _PHASE["modules"])
        reached.update(f["module"] for f in _FAILED[_PHASE["failed"] :])
    del _CURRENT[:]


def depends_on(name):
    """Every module `name`'s import reached, with their parent packages."""
    seen, todo = set(), list(_REACHED.get(name, ()))
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_EDGES.get(module, ()))
        parent = module.rpartition(".")[0]
        if parent:
            todo.append(parent)
    return seen


def extensions_of(name):
    """{module: file} of the extension modules `name`'s import depends on
    (loaded since watch_start(), by it or by an earlier name)."""
    reached = depends_on(name)
    return {m: f for m, f in loaded_extensions().items() if m in reached}


def failures_of(name):
    """The extension modules that raised while loading for `name`'s import
    (or for an earlier name's, in a module this one depends on)."""
    reached = depends_on(name)
    return [f for f in failed_extensions() if f["module"] in reached]
