"""What one installed distribution is: its version, the names it is imported
as, its extension module files, and the tags of the wheel it came from.

Run by `ftprobe batch` in the fresh environment's interpreter, with the
distribution name as the only argument. Prints one JSON object.

Import names, in order of trust:
  1. `Import-Name` fields of the metadata (PEP 794), when present;
  2. the top-level entries of RECORD that are importable: packages (a folder
     with `__init__.py`, or a namespace folder, implicit or declared with
     pkgutil / pkg_resources, followed down to the first level that holds
     code), `.py` modules and extension modules;
  3. `top_level.txt`, when RECORD gives nothing.
"""

import importlib.machinery
import importlib.metadata
import json
import sys

EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def module_of(parts):
    """The dotted module for a RECORD path split on '/', or None."""
    name = parts[-1]
    if name == "__init__.py":
        return ".".join(parts[:-1]) or None
    for suffix in (".py",) + EXTENSION_SUFFIXES:
        if name.endswith(suffix):
            return ".".join(parts[:-1] + [name[: -len(suffix)]])
    return None


def is_namespace_init(dist, path):
    """An `__init__.py` that only declares a pkgutil or pkg_resources
    namespace (`backports`, older `zope`): the package holds nothing itself."""
    try:
        text = dist.locate_file(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "extend_path" in text or "declare_namespace" in text


def import_names(dist, files):
    declared = [n.split(";")[0].strip() for n in dist.metadata.get_all("Import-Name") or []]
    if declared:
        return sorted(set(n for n in declared if n))
    modules = set()
    for path in files:
        parts = path.split("/")
        if parts[0].endswith((".dist-info", ".data")) or parts[0] in ("..", "__pycache__") or "__pycache__" in parts:
            continue
        if parts[0].endswith(".libs"):
            continue
        module = module_of(parts)
        if parts[-1] == "__init__.py" and is_namespace_init(dist, path):
            continue
        if module and all(p.isidentifier() for p in module.split(".")):
            modules.add(module)
    # The shallowest modules: a package stands for its submodules; under a
    # namespace folder (no __init__.py) the first level with code counts.
    names = set()
    for module in sorted(modules, key=lambda m: m.count(".")):
        if not any(module == n or module.startswith(n + ".") for n in names):
            names.add(module)
    if not names:
        top = dist.read_text("top_level.txt") or ""
        names = {line.strip() for line in top.splitlines() if line.strip().isidentifier()}
    return sorted(names)


def main():
    dist = importlib.metadata.distribution(sys.argv[1])
    files = [str(f).replace("\\", "/") for f in (dist.files or [])]
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    extensions = [str(dist.locate_file(f)) for f in files if f.endswith(EXTENSION_SUFFIXES) or f.endswith(".so")]
    print(
        json.dumps(
            {
                "name": dist.metadata["Name"],
                "version": dist.version,
                "import_names": import_names(dist, files),
                "wheel_tags": tags,
                "extension_files": extensions,
            }
        )
    )


main()
