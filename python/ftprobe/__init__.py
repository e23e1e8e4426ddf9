"""ftprobe: does a compiled Python package really work on free-threaded
CPython and in subinterpreters?

The wheel ships the `ftprobe` executable; this package finds it
(`find_ftprobe_bin`), runs it for `python -m ftprobe`, holds the pytest
plugin (`pytest -p ftprobe`), and offers a thin API over the executable's
JSON output, so Python tools can use ftprobe without parsing text:

    >>> import ftprobe
    >>> ftprobe.scan("dist/")            # one dict per wheel, folder or file
    >>> ftprobe.import_probe(["numpy"])  # one dict per probe

Nothing here loads native code.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

__all__ = ["find_ftprobe_bin", "scan", "import_probe", "FtprobeError"]


class FtprobeError(RuntimeError):
    """ftprobe could not run what was asked (exit status 2 or 3)."""


def find_ftprobe_bin():
    """The path of the `ftprobe` executable installed with this package.

    Looked for where installers put scripts: this environment's scripts
    folder, the user scheme's, beside a `--target` install, then PATH.
    """
    name = "ftprobe" + (sysconfig.get_config_var("EXE") or "")
    folders = [sysconfig.get_path("scripts")]
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if sys.platform == "darwin" and getattr(sys, "_framework", None):
        user_scheme = "osx_framework_user"
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        folders.append(sysconfig.get_path("scripts", scheme=user_scheme))
    # pip install --target DIR: DIR/ftprobe/__init__.py and DIR/bin/ftprobe.
    folders.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"))
    for folder in folders:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        "the ftprobe executable was not found in %s or on PATH: reinstall with `pip install ftprobe`"
        % ", ".join(folders)
    )


def _json(arguments):
    completed = subprocess.run(
        [find_ftprobe_bin(), *arguments, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    # 0: nothing found, 1: something found; both print the JSON.
    if completed.returncode not in (0, 1):
        raise FtprobeError(completed.stderr.strip() or "ftprobe exited with status %d" % completed.returncode)
    return json.loads(completed.stdout)


def scan(*paths):
    """`ftprobe scan --format json PATHS`: what each extension module declares."""
    return _json(["scan", *[os.fspath(p) for p in paths]])


def import_probe(modules, python=None, probes=None):
    """`ftprobe import --format json`: the runtime probes of `modules`.

    `python` is an interpreter, a venv or a version (`"3.14t"`), or a list of
    them; `probes` a list of probe names (`"free-threading"`, ...).
    """
    if isinstance(modules, str):
        modules = [modules]
    arguments = ["import", *modules]
    for interpreter in [python] if isinstance(python, (str, os.PathLike)) else (python or []):
        arguments += ["--python", os.fspath(interpreter)]
    for probe in probes or []:
        arguments += ["--probe", probe]
    return _json(arguments)
