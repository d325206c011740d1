"""The signed fixture mirror: NVIDIA's, Docker's and Canonical's apt repositories in miniature.

The packages carry the real names, versions and dependency shapes (catalog.yaml, each entry with
its source) so the roles run their real apt commands against it; the NVIDIA contents are stand-ins
(scripts and text files) that follow the simulated-GPU contract of docs/design.md, while Docker
CE's engine is Debian's own dockerd, containerd and runc (debian.py) under Docker's names and
paths. build() is cached: it does nothing when the catalog, the sources, the kernels and the keys
are those of the last build.
"""
import fcntl
import hashlib
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..system import cache_dir, ensure_packages
from . import catalog, debian, debs, repos, sign

HERE = Path(__file__).parent
MANIFEST = ".manifest.json"
UBUNTU_KERNELS = ("5.15.0-1051-gcp", "6.8.0-1015-gcp")
KEY_FILES = {"container-toolkit": "libnvidia-container/gpgkey",
             "docker-bookworm": "linux/debian/gpg", "docker-jammy": "linux/ubuntu/gpg",
             "docker-noble": "linux/ubuntu/gpg", "ubuntu-jammy": "ubuntu/project.asc",
             "ubuntu-noble": "ubuntu/project.asc", "ubuntu-noble-security": "ubuntu/project.asc"}


def build(dest: Path, kernel_release: str, ubuntu_kernels=UBUNTU_KERNELS, key_dir: Path = sign.KEY_DIR,
          extra_kernels=()) -> dict:
    """Build (or reuse) the mirror under `dest` and return its manifest.

    `kernel_release` gets a fixture linux-headers package in every CUDA repository;
    `ubuntu_kernels` (Ubuntu releases such as 5.15.0-1051-gcp) also get Canonical's prebuilt
    module packages in the archive of their suite.
    """
    ensure_packages({"apt-ftparchive": "apt-utils", "dpkg-deb": "dpkg-dev", "gpg": "gnupg"})
    dest = Path(dest)
    good, wrong = sign.ensure("good", key_dir), sign.ensure("wrong", key_dir)
    digest = _inputs_digest(kernel_release, list(ubuntu_kernels) + list(extra_kernels), good, wrong)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.with_name(dest.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test sessions sharing the cache build one at a time, then reuse
        cached = _cached(dest, digest)
        if cached:
            return cached
        started = time.monotonic()
        staging = dest.with_name(dest.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        manifest = _build_into(staging, kernel_release, list(ubuntu_kernels), good, wrong, list(extra_kernels))
        manifest.update(digest=digest, build_seconds=round(time.monotonic() - started, 1))
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        swap_in(staging, dest)
        return manifest


def _build_into(root: Path, kernel_release: str, ubuntu_kernels: list[str], good, wrong, extra_kernels=()) -> dict:
    data = catalog.load()
    store = root.parent / (root.name + ".store")
    roots = debian.unpack(debian.debs(data["debian_debs"]), _unpack_dir(store))
    contents = catalog.expand(data, kernel_release, ubuntu_kernels, extra_kernels, debian_roots=roots)
    pairs = [(p, data["repos"][name]["maintainer"]) for name, packages in contents.items() for p in packages]
    built = debs.build_all(pairs, store)
    with ThreadPoolExecutor() as pool:
        releases = dict(zip(contents, pool.map(
            lambda name: repos.publish(root, data["repos"][name], contents[name], built), contents)))
        list(pool.map(lambda release: repos.sign_or_strip(release, good), releases.values()))
    shutil.rmtree(store)
    _variants(root, data, good, wrong)
    _key_files(root, data, good)
    return _manifest(data, contents, good, wrong)


def _unpack_dir(store: Path) -> Path:
    """Where Debian's packages are unpacked: kept in the cache when the mirror is on the cache's
    file system (its files are then hard-linked, never copied), else in this build's store."""
    kept = cache_dir() / "debian-debs" / "unpacked"
    kept.mkdir(parents=True, exist_ok=True)
    here = store / "debian"
    here.mkdir(parents=True, exist_ok=True)
    return kept if kept.stat().st_dev == here.stat().st_dev else here


def _variants(root: Path, data: dict, good, wrong) -> None:
    keys = {"wrong": wrong, "none": None}
    for variant in data["variants"].values():
        release = repos.copy_flat(root / data["repos"][variant["of"]]["path"], root / variant["path"])
        repos.sign_or_strip(release, keys[variant["signing"]])


def _key_files(root: Path, data: dict, good) -> None:
    """The public key where each real repository publishes its own (NVIDIA: <keyid8>.pub)."""
    armored = good.armored.read_bytes()
    cuda_paths = [r["path"] for r in data["repos"].values() if r["path"].startswith("compute/")]
    cuda_paths += [v["path"] for v in data["variants"].values()]
    for path in cuda_paths:
        (root / path / _pub_name(good)).write_bytes(armored)
    for path in set(KEY_FILES.values()):
        (root / path).write_bytes(armored)


def _manifest(data: dict, contents: dict, good, wrong) -> dict:
    listing = {}
    for name, spec in data["repos"].items():
        versions = {}
        for package in contents[name]:
            versions.setdefault(package.name, []).append(package.version)
        listing[name] = {**{k: spec[k] for k in ("layout", "path", "suite", "component") if k in spec},
                         "key": f"{spec['path']}/{_pub_name(good)}" if name.startswith("cuda-") else KEY_FILES[name],
                         "signed_by": "good", "packages": versions}
    for name, variant in data["variants"].items():
        base = listing[variant["of"]]
        listing[name] = {**base, "path": variant["path"], "key": f"{variant['path']}/{_pub_name(good)}",
                         "signed_by": {"wrong": "wrong", "none": None}[variant["signing"]]}
    return {"key_fingerprint": good.fingerprint, "wrong_key_fingerprint": wrong.fingerprint,
            "keyring": str(good.keyring), "armored_key": str(good.armored),
            "wrong_keyring": str(wrong.keyring), "repos": listing}


def _pub_name(key) -> str:
    return key.fingerprint[-8:].lower() + ".pub"


def _inputs_digest(kernel_release: str, ubuntu_kernels: list[str], good, wrong) -> str:
    h = hashlib.sha256(json.dumps([kernel_release, ubuntu_kernels, good.fingerprint, wrong.fingerprint]).encode())
    for path in sorted(p for p in HERE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _cached(dest: Path, digest: str):
    try:
        manifest = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("digest") == digest else None


def swap_in(staging: Path, dest: Path) -> None:
    """Replace the served tree in two renames, so a failed build never leaves half a mirror."""
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
