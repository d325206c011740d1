"""The fixture conda channel: one .tar.bz2 per catalog entry with conda's info/ files (index.json,
paths.json, files, has_prefix, link.json), and repodata.json per subdir as conda-forge serves it."""
import hashlib
import io
import json
import tarfile
from pathlib import Path

from . import payloads

SUBDIRS = ("linux-64", "noarch")
REPODATA_FIELDS = ("build", "build_number", "constrains", "depends", "license", "name", "noarch", "timestamp",
                   "version")


def build(root: Path, catalog: dict) -> list:
    """Write the channel under `root` (`<subdir>/<fn>`, `<subdir>/repodata.json`); return its records."""
    records = []
    for entry in catalog["packages"]:
        entry = _resolved(entry)
        data = tarball(entry, catalog["placeholder"])
        fn = f"{entry['name']}-{entry['version']}-{entry['build']}.tar.bz2"
        (root / entry["subdir"]).mkdir(parents=True, exist_ok=True)
        (root / entry["subdir"] / fn).write_bytes(data)
        record = {k: entry[k] for k in REPODATA_FIELDS if entry.get(k) not in (None, [])}
        records.append({**record, "depends": entry.get("depends", []), "fn": fn, "subdir": entry["subdir"],
                        "md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data), "base": bool(entry.get("base"))})
    for subdir in SUBDIRS:
        (root / subdir).mkdir(parents=True, exist_ok=True)
        packages = {r["fn"]: {k: v for k, v in r.items() if k not in ("fn", "base")} for r in records
                    if r["subdir"] == subdir}
        document = json.dumps({"info": {"subdir": subdir}, "packages": packages, "packages.conda": {},
                               "removed": [], "repodata_version": 1}, indent=1, sort_keys=True)
        for name in ("repodata.json", "current_repodata.json"):
            (root / subdir / name).write_text(document)
    return records


def _resolved(entry: dict) -> dict:
    """The entry with the version its wheel gives it (pip is whatever pip the mirror's Python bundles)."""
    if entry.get("wheel"):
        return {**entry, "version": payloads.wheel_version(payloads.pip_wheel())}
    return entry


def index_json(entry: dict) -> dict:
    linux = entry["subdir"] == "linux-64"
    index = {k: entry[k] for k in REPODATA_FIELDS if entry.get(k) not in (None, [])}
    return {**index, "depends": entry.get("depends", []), "subdir": entry["subdir"],
            "arch": "x86_64" if linux else None, "platform": "linux" if linux else None}


def tarball(entry: dict, placeholder: str) -> bytes:
    """The package file: info/ first, then the payload, every member owned by root at the
    package's timestamp, so the same catalog gives the same bytes."""
    files, links = payloads.contents(entry, placeholder)
    paths = []
    for path, (data, _) in sorted(files.items()):
        item = {"_path": path, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(),
                "size_in_bytes": len(data)}
        if placeholder.encode() in data:
            item.update(file_mode="text", prefix_placeholder=placeholder)
        paths.append(item)
    paths += [{"_path": path, "path_type": "softlink"} for path in sorted(links)]
    paths.sort(key=lambda item: item["_path"])
    info = {"info/index.json": json.dumps(index_json(entry), indent=2, sort_keys=True),
            "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2, sort_keys=True),
            "info/files": "".join(p["_path"] + "\n" for p in paths)}
    has_prefix = [f"{placeholder} text {p['_path']}\n" for p in paths if p.get("prefix_placeholder")]
    if has_prefix:
        info["info/has_prefix"] = "".join(has_prefix)
    if entry.get("noarch") == "python":
        noarch = {"type": "python", **({"entry_points": entry["entry_points"]} if entry.get("entry_points") else {})}
        info["info/link.json"] = json.dumps({"noarch": noarch, "package_metadata_version": 1}, indent=2)
    mtime = entry["timestamp"] // 1000
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2") as tar:
        for path, text in info.items():
            _add(tar, path, mtime, data=text.encode(), mode=0o664)
        for path, (data, mode) in sorted(files.items()):
            _add(tar, path, mtime, data=data, mode=mode)
        for path, target in sorted(links.items()):
            _add(tar, path, mtime, target=target)
    return buffer.getvalue()


def _add(tar, path, mtime, data=None, mode=0o777, target=None):
    member = tarfile.TarInfo(path)
    member.mtime, member.mode, member.uname, member.gname = mtime, mode, "root", "root"
    if target is not None:
        member.type, member.linkname = tarfile.SYMTYPE, target
        tar.addfile(member)
    else:
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
