"""Describe the running interpreter as one JSON object on stdout.

ftprobe runs this with `python -I -B -c <source>` to learn what an
interpreter is before it loads its libpython. Keep it runnable on very old
Pythons (no f-strings, no walrus) so an unsupported interpreter still gets a
clear answer instead of a syntax error.
"""

import json
import os
import platform
import sys
import sysconfig


def config_var(name):
    value = sysconfig.get_config_var(name)
    if value is None:
        return None
    return str(value)


def main():
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    try:
        import site

        site_packages = list(site.getsitepackages())
    except Exception:
        site_packages = []
    paths = sysconfig.get_paths()
    info = {
        "result": "success",
        "implementation": getattr(getattr(sys, "implementation", None), "name", "cpython"),
        "version": list(sys.version_info[:3]),
        "release_level": sys.version_info[3],
        "version_string": platform.python_version(),
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", None),
        "prefix": sys.prefix,
        "base_prefix": base_prefix,
        "exec_prefix": sys.exec_prefix,
        "base_exec_prefix": getattr(sys, "base_exec_prefix", sys.exec_prefix),
        "gil_disabled": config_var("Py_GIL_DISABLED") == "1",
        "abiflags": getattr(sys, "abiflags", ""),
        "soabi": config_var("SOABI"),
        "ext_suffix": config_var("EXT_SUFFIX"),
        "enable_shared": config_var("Py_ENABLE_SHARED") == "1",
        "ldlibrary": config_var("LDLIBRARY"),
        "instsoname": config_var("INSTSONAME"),
        "libdir": config_var("LIBDIR"),
        "multiarch": config_var("MULTIARCH"),
        "framework_prefix": config_var("PYTHONFRAMEWORKPREFIX"),
        "platform": sysconfig.get_platform(),
        "os_name": os.name,
        # Not struct.calcsize: a core-only static build has no _struct.
        "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
        "stdlib": paths.get("stdlib"),
        "purelib": paths.get("purelib"),
        "platlib": paths.get("platlib"),
        "site_packages": site_packages,
    }
    sys.stdout.write(json.dumps(info))
    sys.stdout.write("\n")


main()
