"""One stage of a probe in the interpreter this runs in: sets up sys, then runs the probe's scripts.

Run by the ftprobe worker (PyRun_SimpleString, in the main interpreter and then in
the subinterpreter) and by executable_driver.py (the same two places, when the
interpreter has no shared libpython). Whoever runs it defines _FTPROBE_STAGE
first: a JSON document with
  token_var      the variable that carries the result token, removed here
                 before anything can import a package;
  marker         the marker result lines go behind (it holds the token);
  site_packages  folders added with site.addsitedir;
  executable     set as sys.executable;
  request        the worker request, as JSON text;
  stage          the stage's name ("main", "threads" or "subinterpreter");
  scripts        [file name, source] pairs: extension_watch.py, then the probe
                 script, each compiled as ftprobe/probes/<file name> so
                 tracebacks name it.
The scripts run in this module's globals and see sys.argv as
["ftprobe-probe", request, stage], and _FTPROBE_MARKER.
"""

import json
import os
import site
import sys

_FTPROBE = json.loads(_FTPROBE_STAGE)
os.environ.pop(_FTPROBE["token_var"], None)
_FTPROBE_MARKER = _FTPROBE["marker"]
for _d in _FTPROBE["site_packages"]:
    site.addsitedir(_d)
sys.executable = _FTPROBE["executable"]
sys.argv = ["ftprobe-probe", _FTPROBE["request"], _FTPROBE["stage"]]
for _name, _source in _FTPROBE["scripts"]:
    exec(compile(_source, "ftprobe/probes/" + _name, "exec"))
