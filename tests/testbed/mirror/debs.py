"""Build fixture .deb files with dpkg-deb, once per distinct package, in parallel.

The same package (e.g. a CUDA toolkit component) is in several repositories; it is built once,
named by a hash of its content, and hard-linked where it is published. Files taken from Debian's
own packages (Docker CE's engine) are hard-linked into the staging tree rather than read, and a
package carrying such large binaries is compressed with zstd, which dpkg 1.21 reads and which
builds several times faster than gzip.
"""
import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .catalog import Package

FIELDS = {"pre_depends": "Pre-Depends"}
ZSTD_ABOVE = 4 << 20  # payload bytes from which zstd beats gzip's build time by seconds
# A hard link changes its file's ctime, which tar reports as "file changed as we read it": packages
# linking the same Debian file are staged and built one at a time (one lock per file).
_LINKING: dict[Path, threading.Lock] = {}
_GUARD = threading.Lock()


def build_all(packages: list[tuple[Package, str]], store: Path) -> dict[int, Path]:
    """Build each (package, maintainer) into `store`; return {id(package): deb path}."""
    store.mkdir(parents=True, exist_ok=True)
    unique = {}
    for package, maintainer in packages:
        unique.setdefault(_digest(package, maintainer), (package, maintainer))
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 2)) as pool:
        built = dict(zip(unique, pool.map(lambda item: _build(*item, store), unique.values())))
    return {id(package): built[_digest(package, maintainer)] for package, maintainer in packages}


def filename(package: Package) -> str:
    """NVIDIA/Docker/Ubuntu pool names: name_version-without-epoch_arch.deb."""
    return f"{package.name}_{package.version.split(':', 1)[-1]}_{package.arch}.deb"


def control(package: Package, maintainer: str) -> str:
    fields = {"Package": package.name, "Version": package.version, "Architecture": package.arch,
              "Maintainer": maintainer, "Section": "devel",
              "Priority": "optional"}
    for relation, values in package.relations.items():
        if values:
            fields[FIELDS.get(relation, relation.capitalize())] = ", ".join(values)
    fields["Description"] = f"{package.description}\n Fixture package of the gpuhost test mirror."
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def _digest(package: Package, maintainer: str) -> str:
    h = hashlib.sha256(control(package, maintainer).encode())
    for path in sorted(package.files):
        h.update(f"{path}\0{package.modes.get(path, 0o644)}\0".encode() + _identity(package.files[path]))
    for path in sorted(package.links):
        h.update(f"{path}\0->{package.links[path]}".encode())
    for name in sorted(package.scripts):
        h.update(f"{name}\0{package.scripts[name]}".encode())
    h.update(package.triggers.encode())
    return h.hexdigest()[:16]


def _identity(content) -> bytes:
    """What tells a file apart: its bytes, or for a file from an unpacked Debian package its path
    (the package's version and sha256 are pinned in the catalog, so the path names the content)."""
    return content if isinstance(content, bytes) else f"{content}\0{content.stat().st_size}".encode()


def _compression(package: Package) -> list[str]:
    size = sum(c.stat().st_size if isinstance(c, Path) else len(c) for c in package.files.values())
    return ["-Zzstd", "-z1"] if size > ZSTD_ABOVE else ["-Zgzip", "-z1"]


def _build(package: Package, maintainer: str, store: Path) -> Path:
    with contextlib.ExitStack() as stack:
        for lock in _linking(package):
            stack.enter_context(lock)
        return _build_one(package, maintainer, store)


def _linking(package: Package) -> list[threading.Lock]:
    """The locks of the Debian files the package links, always taken in one order."""
    origins = sorted({content for content in package.files.values() if isinstance(content, Path)})
    with _GUARD:
        return [_LINKING.setdefault(origin, threading.Lock()) for origin in origins]


def _build_one(package: Package, maintainer: str, store: Path) -> Path:
    target = store / _digest(package, maintainer) / filename(package)
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=store) as tmp:
        root = Path(tmp) / "root"
        _stage(package, maintainer, root)
        partial = Path(tmp) / target.name
        result = subprocess.run(["dpkg-deb", "--root-owner-group", *_compression(package), "--build", str(root),
                                 str(partial)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"dpkg-deb could not build {target.name}: {result.stderr.strip()}")
        target.parent.mkdir(exist_ok=True)
        os.replace(partial, target)
    return target


def _stage(package: Package, maintainer: str, root: Path) -> None:
    debian = root / "DEBIAN"
    debian.mkdir(parents=True)
    (debian / "control").write_text(control(package, maintainer))
    for path, content in package.files.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            dest.write_bytes(content)
            dest.chmod(package.modes.get(path, 0o644))
        else:
            link(content, dest)  # its mode is the Debian package's own
    for path, target in package.links.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)
    conffiles = sorted(p for p in package.files if p.startswith("/etc/"))
    if conffiles:
        (debian / "conffiles").write_text("".join(p + "\n" for p in conffiles))
    if package.triggers:
        (debian / "triggers").write_text(package.triggers)
    for name, text in package.scripts.items():
        (debian / name).write_text(text)
        (debian / name).chmod(0o755)
    for directory in [root, *root.rglob("*")]:
        if directory.is_dir() and not directory.is_symlink():
            directory.chmod(0o755)


def link(source, dest) -> None:
    """Publish a built deb at `dest` without copying it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
