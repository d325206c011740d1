"""Lay out, index and sign one repository, path for path like the real one.

Two layouts exist among the mirrored repositories: NVIDIA's flat ones ("deb URL /": Packages and
InRelease beside the debs) and the dists/ trees of Docker and Ubuntu ("deb URL suite component").
"""
import gzip
import shutil
import subprocess
from pathlib import Path

from . import debs, sign
from .catalog import Package


def publish(root: Path, spec: dict, packages: list[Package], built: dict[int, Path]) -> Path:
    """Place the debs and write Packages(.gz) and Release; return the Release file."""
    base = root / spec["path"]
    pool = base / spec["pool"] if spec["layout"] == "dists" else base
    pool.mkdir(parents=True, exist_ok=True)  # a suite may be empty (no kernel update built)
    for package in packages:
        debs.link(built[id(package)], pool / debs.filename(package))
    if spec["layout"] == "flat":
        _packages(base, ".", base / "Packages")
        return _release(base, spec)
    dist = base / "dists" / spec["suite"]
    _packages(base, spec["pool"], dist / spec["component"] / "binary-amd64" / "Packages")
    return _release(dist, {**spec, "codename": spec.get("codename", spec["suite"])})


def copy_flat(source: Path, dest: Path) -> Path:
    """The same flat repository somewhere else (hard links), minus its signatures."""
    shutil.copytree(source, dest, copy_function=debs.link)
    for name in ("InRelease", "Release.gpg"):
        (dest / name).unlink(missing_ok=True)
    return dest / "Release"


def sign_or_strip(release: Path, key) -> None:
    """Sign with `key`, or leave an unsigned repository (no InRelease, no Release.gpg)."""
    if key is not None:
        sign.sign_release(key, release)


def _packages(cwd: Path, path: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = subprocess.run(["apt-ftparchive", "packages", path], cwd=cwd, check=True,
                          capture_output=True).stdout
    out.write_bytes(text)
    with gzip.open(out.with_suffix(".gz"), "wb", compresslevel=6) as handle:
        handle.write(text)


def _release(directory: Path, spec: dict) -> Path:
    options = {"Origin": spec["origin"], "Label": spec["label"], "Architectures": "amd64"}
    if "codename" in spec:
        options.update(Suite=spec["suite"], Codename=spec["codename"], Components=spec["component"])
    args = [f"-oAPT::FTPArchive::Release::{key}={value}" for key, value in options.items()]
    text = subprocess.run(["apt-ftparchive", *args, "release", "."], cwd=directory, check=True,
                          capture_output=True).stdout
    release = directory / "Release"
    release.write_bytes(text)
    return release
