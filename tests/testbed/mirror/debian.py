"""Debian's own packages whose files some fixtures carry: fetched once with apt, checked, unpacked.

The fixture Docker CE runs Debian bookworm's dockerd, containerd and runc under Docker's package
names and paths, so the docker role's default converges to a real engine on the test hosts.
apt-get downloads the exact versions the catalog pins (`debian_debs`) from Debian's archive
through a sources list of its own (the machine's sources and pins do not matter; its proxy
settings do), into the testbed cache where they stay; each file is checked against the sha256
the catalog pins before it is used. Only the mirror build on the outer machine needs them: the
test hosts install the fixture packages built from them.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..system import TestbedError, cache_dir

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
SOURCES = ("deb [signed-by={keyring}] http://deb.debian.org/debian bookworm main",
           "deb [signed-by={keyring}] http://deb.debian.org/debian bookworm-updates main",
           "deb [signed-by={keyring}] http://deb.debian.org/debian-security bookworm-security main")


def debs(specs: dict, cache: Path | None = None) -> dict[str, Path]:
    """{package: its checked .deb in the cache}, downloading the missing ones in one apt run."""
    cache = Path(cache or cache_dir() / "debian-debs")
    cache.mkdir(parents=True, exist_ok=True)
    wanted = {name: cache / filename(name, spec["version"]) for name, spec in specs.items()}
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another build may be fetching the same files
        missing = [name for name, path in wanted.items() if not _checked(path, specs[name]["sha256"])]
        if missing:
            _download(cache, {name: specs[name]["version"] for name in missing})
    for name, path in wanted.items():
        if not _checked(path, specs[name]["sha256"]):
            raise TestbedError(f"{path.name} from Debian's archive does not have the sha256 catalog.yaml pins "
                               f"({specs[name]['sha256']}); fix the pin or remove the file")
    return wanted


def unpack(debs_: dict[str, Path], into: Path) -> dict[str, Path]:
    """{package: the directory its files are unpacked in, under `into`}."""
    roots = {}
    for name, deb in debs_.items():
        root = into / deb.stem
        if not root.exists():
            partial = Path(tempfile.mkdtemp(dir=into, prefix=".unpack-"))
            subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True, capture_output=True)
            try:
                partial.rename(root)
            except OSError:  # another build unpacked it first
                shutil.rmtree(partial)
        roots[name] = root
    return roots


def filename(name: str, version: str) -> str:
    """Debian's pool name: name_version-without-epoch_amd64.deb."""
    return f"{name}_{version.split(':', 1)[-1]}_amd64.deb"


def _checked(path: Path, sha256: str) -> bool:
    if not path.exists():
        return False
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == sha256


def _download(cache: Path, versions: dict[str, str]) -> None:
    if not KEYRING.exists():
        raise TestbedError(f"the mirror build downloads Debian packages and checks them with {KEYRING}: "
                           "apt-get install debian-archive-keyring")
    state = cache / ".apt"
    for sub in ("lists/partial", "archives/partial", "etc"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    (state / "etc/sources.list").write_text("".join(s.format(keyring=KEYRING) + "\n" for s in SOURCES))
    options = {"Dir::Etc::SourceList": state / "etc/sources.list", "Dir::Etc::SourceParts": "/dev/null",
               "Dir::Etc::Preferences": "/dev/null", "Dir::Etc::PreferencesParts": "/dev/null",
               "Dir::State": state, "Dir::State::Lists": state / "lists", "Dir::State::status": state / "status",
               "Dir::Cache": state, "APT::Architecture": "amd64", "Debug::NoLocking": "1",
               "APT::Update::Error-Mode": "any", "APT::Sandbox::User": "root" if os.geteuid() == 0 else ""}
    apt = ["apt-get", "-q", *(f"-o{k}={v}" for k, v in options.items() if v != "")]
    print(f"testbed: downloading Debian's {', '.join(sorted(versions))} for the fixture Docker CE (once, cached)",
          flush=True)
    for args in (["update"], ["download", *(f"{n}={v}" for n, v in sorted(versions.items()))]):
        result = subprocess.run([*apt, *args], cwd=cache, capture_output=True, text=True)
        if result.returncode != 0:
            raise TestbedError(f"apt-get {args[0]} for the fixture mirror's Debian packages failed "
                               f"({result.returncode}): {(result.stderr or result.stdout).strip()[-800:]}")
