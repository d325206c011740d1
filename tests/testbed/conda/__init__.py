"""conda's side of the fixture mirror: a Miniforge installer, a conda-forge channel and a PyPI
simple index, served beside the apt repositories (docs/design.md).

The real ones cannot be reached from the test hosts. These keep their contracts — file names and
URLs, installer options and messages, repodata and package layout, conda's command line and its
records — so the conda role runs the commands it would run against Miniforge and conda-forge.
build() is cached: it does nothing when its inputs are those of the last build. The channel is
served also under `conda/t/<token>/`, as anaconda.org serves a private channel (catalog.yaml).
"""
import fcntl
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import yaml

from . import channel, installer, payloads, pypi
from ..mirror import swap_in

HERE = Path(__file__).parent
MANIFEST = ".manifest.json"
TREES = ("conda", "pypi")


def build(root: Path) -> dict:
    """Build (or reuse) `conda/` and `pypi/` under the served `root`; return their manifest.

    Each tree is built aside and moved into place, so a failed build never leaves half of one."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    digest = _inputs_digest()
    with open(root.parent / f".{root.name}.conda.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = _cached(root, digest)
        if cached:
            return cached
        staging = Path(tempfile.mkdtemp(prefix=".conda-build-", dir=root))
        try:
            manifest = {**_build_into(staging), "digest": digest}
            (staging / "conda" / MANIFEST).write_text(json.dumps(manifest, indent=2))
            for tree in TREES:
                swap_in(staging / tree, root / tree)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


def load_catalog() -> dict:
    return yaml.safe_load((HERE / "catalog.yaml").read_text())


def token_channel(channel_url: str, private: bool = True) -> str:
    """The URL, with the token, of the private channel (or of the channel) beside `channel_url`."""
    token = load_catalog()["token"]
    base, _, name = channel_url.rstrip("/").rpartition("/")
    return f"{base}/t/{token['value']}/{token['private'] if private else name}"


def _build_into(staging: Path) -> dict:
    catalog = load_catalog()
    channel_dir = staging / "conda" / catalog["channel"]
    records = channel.build(channel_dir, catalog)
    tokens = staging / "conda" / "t" / catalog["token"]["value"]
    tokens.mkdir(parents=True)
    for name in (catalog["channel"], catalog["token"]["private"]):
        (tokens / name).symlink_to(Path("..", "..", catalog["channel"]))
    made = installer.build(staging / "conda" / "installers", channel_dir, records, catalog)
    wheels = pypi.build(staging / "pypi", catalog)
    packages = {}
    for record in records:
        packages.setdefault(record["name"], []).append(record["version"])
    return {"installer": {"path": f"conda/installers/{made['name']}", "sha256": made["sha256"],
                          "arch": made["arch"]},
            "channel": f"conda/{catalog['channel']}", "pip_index": "pypi/simple",
            "packages": packages, "wheels": wheels}


def _inputs_digest() -> str:
    h = hashlib.sha256(payloads.pip_wheel().name.encode())
    for path in sorted(p for p in HERE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _cached(root: Path, digest: str):
    try:
        manifest = json.loads((root / "conda" / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    complete = all((root / tree).is_dir() for tree in TREES)
    return manifest if complete and manifest.get("digest") == digest else None
