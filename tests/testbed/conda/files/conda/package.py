"""Package files in the package cache: downloaded once, checked against their record, extracted
into `<pkgs_dir>/<name>-<version>-<build>/` with an `info/repodata_record.json` beside them."""
import hashlib
import json
import os
import tarfile

from . import files
from .channel import fetch
from .exceptions import ChecksumMismatchError, CondaError


def dist_name(fn):
    return fn[: -len(".tar.bz2")] if fn.endswith(".tar.bz2") else fn.rsplit(".", 1)[0]


def digest(path, kind):
    h = hashlib.new(kind)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(record, pkgs_dir, offline=False):
    """The package's tarball in `pkgs_dir`, fetched unless a copy with the record's md5 is there."""
    path = os.path.join(pkgs_dir, record["fn"])
    if os.path.isfile(path) and (not record.get("md5") or digest(path, "md5") == record["md5"]):
        return path
    if offline:
        raise CondaError(f"{record['fn']} is not in the package cache {pkgs_dir} and --offline forbids downloading it")
    if not record["fn"].endswith(".tar.bz2"):
        raise CondaError(f"{record['url']}: only .tar.bz2 packages are supported by this conda")
    partial = path + ".partial"
    files.write(partial, fetch(record.get("fetch_url") or record["url"]))
    for kind in ("md5", "sha256"):
        if record.get(kind) and digest(partial, kind) != record[kind]:
            raise ChecksumMismatchError(record["url"], partial, kind, record[kind], digest(partial, kind))
    os.replace(partial, path)
    return path


def extract(tarball, record):
    """The extracted package folder (reused when it was extracted from this very tarball)."""
    target = os.path.join(os.path.dirname(tarball), dist_name(record["fn"]))
    stamp = os.path.join(target, "info", "repodata_record.json")
    md5 = digest(tarball, "md5")
    if os.path.isfile(stamp):
        with open(stamp) as handle:
            if json.load(handle).get("md5") == md5:
                return target
    _remove_tree(target)
    with tarfile.open(tarball, "r:bz2") as tar:
        for member in tar:
            _extract_member(tar, member, target)
    kept = {k: v for k, v in record.items() if k != "fetch_url"}  # conda keeps no credentials in the cache
    files.write(stamp, json.dumps({**kept, "md5": md5}, indent=2, sort_keys=True).encode())
    return target


def index_json(extracted):
    with open(os.path.join(extracted, "info", "index.json")) as handle:
        return json.load(handle)


def _extract_member(tar, member, target):
    path = os.path.normpath(os.path.join(target, member.name))
    if not path.startswith(target + os.sep):
        raise CondaError(f"package member {member.name!r} points outside the package")
    if member.isdir():
        os.makedirs(path, exist_ok=True)
    elif member.issym():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        files.remove(path)
        os.symlink(member.linkname, path)
    elif member.isfile():
        files.write(path, tar.extractfile(member).read(), member.mode)
    else:
        raise CondaError(f"package member {member.name!r} is neither a file, a folder nor a link")


def _remove_tree(path):
    for root, dirs, names in os.walk(path, topdown=False):
        for name in names:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            full = os.path.join(root, name)
            os.unlink(full) if os.path.islink(full) else os.rmdir(full)
    if os.path.isdir(path):
        os.rmdir(path)
