"""What a prefix holds: conda's records in conda-meta/, and the packages pip installed there
(`*.dist-info` folders that no conda record owns)."""
import json
import os
import re

from .channel import Channel


def is_env(prefix):
    return os.path.isfile(os.path.join(prefix, "conda-meta", "history"))


def records(prefix):
    """{name: record} from conda-meta/*.json."""
    meta = os.path.join(prefix, "conda-meta")
    found = {}
    for name in sorted(os.listdir(meta)) if os.path.isdir(meta) else ():
        if name.endswith(".json"):
            with open(os.path.join(meta, name)) as handle:
                record = json.load(handle)
            found[record["name"]] = record
    return found


def record_path(prefix, record):
    return os.path.join(prefix, "conda-meta", f"{record['name']}-{record['version']}-{record['build']}.json")


def dist_str(record):
    """`<channel>/<subdir>::<name>-<version>-<build>`, as history and package plans name a record."""
    return f"{Channel(record['channel']).canonical}/{record['subdir']}::" \
           f"{record['name']}-{record['version']}-{record['build']}"


def dist_fields(record):
    """A record as `conda list --json` and the JSON actions show it."""
    channel = Channel(record["channel"])
    return {"base_url": channel.base_url, "build_number": record.get("build_number", 0),
            "build_string": record["build"], "channel": channel.name,
            "dist_name": f"{record['name']}-{record['version']}-{record['build']}", "name": record["name"],
            "platform": record["subdir"], "version": record["version"]}


def pip_fields(name, version):
    """A pip-installed package as `conda list --json` shows it."""
    return {"base_url": "https://conda.anaconda.org/pypi", "build_number": 0, "build_string": "pypi_0",
            "channel": "pypi", "dist_name": f"{name}-{version}-pypi_0", "name": name, "platform": "pypi",
            "version": version}


def python_version(held):
    """`3.11` for an environment holding python 3.11.x, else None."""
    python = held.get("python")
    return ".".join(python["version"].split(".")[:2]) if python else None


def pip_packages(prefix, held):
    """[(name, version)] of dist-info folders in site-packages that no conda record lists."""
    version = python_version(held)
    if version is None:
        return []
    site = f"lib/python{version}/site-packages"
    owned = {f.split("/")[3] for r in held.values() for f in r.get("files", ()) if f.startswith(site + "/")
             and f.count("/") >= 4}
    found = []
    folder = os.path.join(prefix, site)
    for entry in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        if entry.endswith(".dist-info") and entry not in owned:
            metadata = _metadata(os.path.join(folder, entry, "METADATA"))
            if metadata.get("Name") and metadata.get("Version"):
                found.append((metadata["Name"], metadata["Version"]))
    return found


def _metadata(path):
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read().split("\n\n", 1)[0]
    except OSError:
        return {}
    return dict(re.findall(r"^([A-Za-z-]+): (.*)$", head, re.M))
