"""The worker's work, for an interpreter with no shared libpython to load.

ftprobe runs this as `python -s -P -c <this file> <job>`. <job> is a JSON
document with
  token_var       the variable that carries the result token (never the
                  command line), removed from the environment first;
  marker_around   what goes before and after the token in the result marker;
  free_threaded   whether the interpreter is a free-threaded build;
  program         worker_stage.py, which runs one stage;
  stage           worker_stage.py's document for the first stage, its marker
                  left null (this program fills it in);
  subinterpreter  null, or {"preset": "isolated" or "legacy", "stage": the
                  name of the stage run in a subinterpreter}.
It runs the first stage here; for a subinterpreter probe it then makes a
subinterpreter with the interpreter's own module, _interpreters on 3.13+
(new_config with the preset; a free-threaded legacy one keeps
check_multi_interp_extensions on, as CPython's preset does) or
_xxsubinterpreters on 3.12, and runs that stage there. The result lines come
from the stages' own code; when no subinterpreter can be made, one
"subinterpreter_failed" line says why. It exits without finalising.
"""

import json as _json
import os as _os
import sys as _sys

_FTPROBE_JOB = _json.loads(_sys.argv[1])


def _ftprobe_marker():
    before, after = _FTPROBE_JOB["marker_around"]
    return before + _os.environ.pop(_FTPROBE_JOB["token_var"], "") + after


_FTPROBE_MARKER = _ftprobe_marker()


def _ftprobe_stage(**changes):
    """The first stage's document with the marker and `changes`, as JSON text."""
    return _json.dumps(dict(_FTPROBE_JOB["stage"], marker=_FTPROBE_MARKER, **changes))


def _ftprobe_failed(error):
    line = _json.dumps({"stage": "subinterpreter_failed", "error": error})
    _os.write(1, ("\n" + _FTPROBE_MARKER + line + "\n").encode())


def _ftprobe_subinterpreter(preset, stage):
    # A subinterpreter starts with nothing of this one: its document goes
    # ahead of the program as one string literal.
    code = "_FTPROBE_STAGE = %r\n" % _ftprobe_stage(stage=stage) + _FTPROBE_JOB["program"]
    try:
        import _interpreters  # 3.13+
    except ImportError:
        _interpreters = None
    if _interpreters is not None:
        config = _interpreters.new_config(preset)
        if preset == "legacy" and _FTPROBE_JOB["free_threaded"]:
            # Free-threaded builds refuse legacy extensions in any subinterpreter.
            config.check_multi_interp_extensions = True
        try:
            interpreter = _interpreters.create(config)
        except Exception as exc:
            return _ftprobe_failed("_interpreters.create failed: %s: %s" % (type(exc).__name__, exc))
        try:
            raised = _interpreters.exec(interpreter, code)
            if raised is not None:
                _sys.stderr.write("ftprobe: the subinterpreter stage raised: %s\n" % (raised,))
        finally:
            try:
                _interpreters.destroy(interpreter)
            except Exception:
                pass
        return
    try:
        import _xxsubinterpreters as _legacy_module  # 3.12
    except ImportError:
        return _ftprobe_failed(
            "this interpreter has neither _interpreters nor _xxsubinterpreters (a core-only build?): "
            "no subinterpreter can be made through its executable"
        )
    try:
        interpreter = _legacy_module.create(isolated=(preset == "isolated"))
    except Exception as exc:
        return _ftprobe_failed("_xxsubinterpreters.create failed: %s: %s" % (type(exc).__name__, exc))
    try:
        _legacy_module.run_string(interpreter, code)
    except Exception as exc:
        _sys.stderr.write("ftprobe: the subinterpreter stage raised: %s: %s\n" % (type(exc).__name__, exc))
    finally:
        try:
            _legacy_module.destroy(interpreter)
        except Exception:
            pass


_FTPROBE_STAGE = _ftprobe_stage()
exec(compile(_FTPROBE_JOB["program"], "ftprobe/worker", "exec"))
if _FTPROBE_JOB["subinterpreter"] is not None:
    _ftprobe_subinterpreter(**_FTPROBE_JOB["subinterpreter"])
_sys.stdout.flush()
_sys.stderr.flush()
_os._exit(0)
