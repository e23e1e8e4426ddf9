# The subinterpreter step of a probe run in an interpreter's own executable
# (no shared libpython to load): appended by ftprobe to the driver program,
# which defines _FTPROBE_SUB (the subinterpreter stage's code),
# _FTPROBE_PRESET ("isolated" or "legacy"), _FTPROBE_MARKER and
# _FTPROBE_FREE_THREADED. The result lines come from the stage's own code;
# when no subinterpreter can be made, one "subinterpreter_failed" line says why.
import json as _json


def _ftprobe_failed(error):
    line = _json.dumps({"stage": "subinterpreter_failed", "error": error})
    _os.write(1, ("\n" + _FTPROBE_MARKER + line + "\n").encode())


def _ftprobe_subinterpreter():
    code = "_FTPROBE_MARKER = %r\n" % _FTPROBE_MARKER + _FTPROBE_SUB
    try:
        import _interpreters  # 3.13+
    except ImportError:
        _interpreters = None
    if _interpreters is not None:
        config = _interpreters.new_config(_FTPROBE_PRESET)
        if _FTPROBE_PRESET == "legacy" and _FTPROBE_FREE_THREADED:
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
        interpreter = _legacy_module.create(isolated=(_FTPROBE_PRESET == "isolated"))
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


_ftprobe_subinterpreter()
