"""The mirror's signing keys: a test key kept between runs, and a "wrong" one for the bad suite.

Each key lives in its own private GNUPGHOME under ~/.cache/gpuhost/testbed/mirror-key/, so the
fingerprint the inventory pins stays the same across rebuilds and nothing touches the user's
keyring.
"""
import subprocess
from dataclasses import dataclass
from pathlib import Path

KEY_DIR = Path.home() / ".cache/gpuhost/testbed/mirror-key"
UIDS = {"good": "gpuhost testbed mirror <testbed@gpuhost.invalid>",
        "wrong": "gpuhost testbed wrong key <wrong@gpuhost.invalid>"}


@dataclass(frozen=True)
class Key:
    home: Path
    fingerprint: str

    @property
    def keyring(self) -> Path:
        return self.home.parent / f"{self.home.name}-keyring.gpg"

    @property
    def armored(self) -> Path:
        return self.home.parent / f"{self.home.name}-key.asc"


def ensure(role: str, key_dir: Path = KEY_DIR) -> Key:
    """The key for `role` ("good" or "wrong"), generated on first use, with its exports."""
    home = key_dir / role
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    home.chmod(0o700)
    if not _fingerprint(home):
        _gpg(home, "--passphrase", "", "--quick-gen-key", UIDS[role], "rsa3072", "sign", "never")
    key = Key(home, _fingerprint(home))
    if not key.keyring.exists():
        key.keyring.write_bytes(_gpg(home, "--export", key.fingerprint))
        key.armored.write_bytes(_gpg(home, "--armor", "--export", key.fingerprint))
    return key


def sign_release(key: Key, release: Path) -> None:
    """InRelease (clearsigned) and Release.gpg (detached, armored) beside `release`."""
    common = ["--local-user", key.fingerprint, "--digest-algo", "SHA512", "--yes"]
    _gpg(key.home, *common, "--clearsign", "--output", str(release.parent / "InRelease"), str(release))
    _gpg(key.home, *common, "-abs", "--output", str(release.parent / "Release.gpg"), str(release))


def _fingerprint(home: Path) -> str:
    out = _gpg(home, "--list-secret-keys", "--with-colons").decode()
    return next((line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")), "")


def _gpg(home: Path, *args: str) -> bytes:
    command = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback", *args]
    return subprocess.run(command, check=True, capture_output=True).stdout
