"""Linking an extracted package into a prefix and unlinking it, with the records conda keeps.

Files are hard-linked from the package cache (copied across file systems); files that hold the
build prefix placeholder are rewritten with the target prefix; `noarch: python` packages put
`site-packages/` into the environment's Python and get the entry points of `info/link.json`.
"""
import json
import os
import time

from . import __version__, files
from .package import index_json
from .prefix import dist_str, record_path

RECORD_FIELDS = ("name", "version", "build", "build_number", "channel", "subdir", "fn", "url", "md5", "sha256",
                 "size", "depends", "constrains", "license", "timestamp", "noarch")
ENTRY_POINT = """#!{prefix}/bin/python
# -*- coding: utf-8 -*-
import re
import sys

from {module} import {function}

if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])
    sys.exit({function}())
"""


def link(prefix, record, tarball, extracted, python_version, requested_spec):
    """Put the package's files into `prefix` and write its conda-meta record."""
    info = os.path.join(extracted, "info")
    with open(os.path.join(info, "paths.json")) as handle:
        entries = json.load(handle)["paths"]
    noarch = index_json(extracted).get("noarch")
    paths = [_link_one(prefix, extracted, entry, _target(entry["_path"], noarch, python_version))
             for entry in entries]
    if noarch == "python" and os.path.isfile(os.path.join(info, "link.json")):
        with open(os.path.join(info, "link.json")) as handle:
            points = json.load(handle).get("noarch", {}).get("entry_points", ())
        paths += [_entry_point(prefix, point) for point in points]
    meta = {key: record[key] for key in RECORD_FIELDS if key in record}
    meta.update(files=[p["_path"] for p in paths], paths_data={"paths": paths, "paths_version": 1},
                requested_spec=requested_spec, link={"source": extracted, "type": 1},
                extracted_package_dir=extracted, package_tarball_full_path=tarball)
    files.write(record_path(prefix, meta), json.dumps(meta, indent=2, sort_keys=True).encode())


def unlink(prefix, meta):
    """Remove the package's files (and the bytecode Python left beside them), its empty folders
    and its record."""
    for relative in meta.get("files", ()):
        path = os.path.join(prefix, relative)
        files.remove(path)
        if relative.endswith(".py"):
            cache = os.path.join(os.path.dirname(path), "__pycache__")
            stem = os.path.basename(relative)[:-3] + "."
            for name in os.listdir(cache) if os.path.isdir(cache) else ():
                if name.startswith(stem) and name.endswith(".pyc"):
                    os.unlink(os.path.join(cache, name))
            files.prune(cache, prefix)
        files.prune(os.path.dirname(path), prefix)
    files.remove(record_path(prefix, meta))


def write_history(prefix, argv, unlinked, linked, specs):
    lines = [f"==> {time.strftime('%Y-%m-%d %H:%M:%S')} <==", f"# cmd: {' '.join(argv)}",
             f"# conda version: {__version__}"]
    lines += [f"-{dist_str(r)}" for r in unlinked] + [f"+{dist_str(r)}" for r in linked]
    if specs:
        lines.append(f"# update specs: {[str(s) for s in specs]}")
    with open(os.path.join(prefix, "conda-meta", "history"), "a") as handle:
        handle.write("".join(line + "\n" for line in lines))


def _target(path, noarch, python_version):
    if noarch != "python":
        return path
    if path.startswith("site-packages/"):
        return f"lib/python{python_version}/{path}"
    if path.startswith("python-scripts/"):
        return "bin/" + path[len("python-scripts/"):]
    return path


def _link_one(prefix, extracted, entry, target):
    source, destination = os.path.join(extracted, entry["_path"]), os.path.join(prefix, target)
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    files.remove(destination)
    if entry["path_type"] == "softlink":
        os.symlink(os.readlink(source), destination)
    elif entry.get("prefix_placeholder"):
        with open(source, "rb") as handle:
            data = handle.read().replace(entry["prefix_placeholder"].encode(), prefix.encode())
        files.write(destination, data, os.stat(source).st_mode)
    else:
        try:
            os.link(source, destination)
        except OSError:
            with open(source, "rb") as handle:
                files.write(destination, handle.read(), os.stat(source).st_mode)
    return {**entry, "_path": target}


def _entry_point(prefix, point):
    name, _, target = (part.strip() for part in point.partition("="))
    module, _, function = target.partition(":")
    relative = f"bin/{name}"
    script = ENTRY_POINT.format(prefix=prefix, module=module, function=function)
    files.write(os.path.join(prefix, relative), script.encode(), 0o777)
    return {"_path": relative, "path_type": "unix_python_entry_point"}
