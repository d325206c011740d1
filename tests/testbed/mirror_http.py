"""Serving the fixture mirror on the bridge, port 8080: the apt repositories (built by
tests.testbed.mirror) and beside them conda's installer, channel and PyPI index (tests.testbed.conda).
The conda channel is served also under `conda/t/<token>/`, with a private channel served only
there, as anaconda.org serves a token's holder (`conda_token_channel`); the index ignores
user:password, which pip sends as HTTP basic authentication.

The mirror module is another part of the harness; while it is absent, hosts come up without
it and the inventory keeps the engine's default repository settings.
"""
import importlib.util
import sys
from pathlib import Path

from . import conda
from .specs import OS_PROFILES, successor
from .system import BRIDGE_IP, cache_dir, daemon_pid, start_daemon, stop_daemon
from .waiting import wait_for_port

PORT = 8080
NAME = "mirror-http"
URL = f"http://{BRIDGE_IP}:{PORT}"


def _module():
    """tests.testbed.mirror when it provides build(), else None."""
    if importlib.util.find_spec(f"{__package__}.mirror") is None:
        return None
    module = importlib.import_module(f"{__package__}.mirror")
    return module if hasattr(module, "build") else None


def directory() -> Path:
    return cache_dir() / "mirror"


def publish():
    """Build (cached) and serve the mirror; return its manifest, or None without the module.

    Its fixture kernel packages are built for the kernels the OS profiles boot. The conda trees
    are built after the apt ones, which replace the whole directory when they change."""
    mirror = _module()
    if mirror is None:
        print("testbed: tests.testbed.mirror.build is absent: no fixture mirror", flush=True)
        return None
    ubuntu = [p.kernel for name, p in OS_PROFILES.items() if name.startswith("ubuntu-")]
    updates = tuple(successor(p.kernel) for p in OS_PROFILES.values())
    manifest = mirror.build(directory(), OS_PROFILES["debian-12"].kernel, ubuntu_kernels=tuple(ubuntu),
                            extra_kernels=updates)
    manifest["conda"] = conda.build(directory())
    if not daemon_pid(NAME):
        start_daemon(NAME, [sys.executable, "-m", "tests.testbed.mirror_server", BRIDGE_IP, str(PORT), directory()])
        wait_for_port(BRIDGE_IP, PORT, timeout=10, what="the mirror's web server",
                      alive=lambda: daemon_pid(NAME))
    return manifest


def repo_settings(manifest: dict) -> dict:
    """The inventory's repository settings pointing the roles at the mirror (design.md)."""
    fingerprint = manifest["key_fingerprint"]
    return {
        "nvidia_repo": {"url": f"{URL}/compute/cuda/repos", "key_fingerprint": fingerprint},
        "container_toolkit_repo": {"url": f"{URL}/libnvidia-container", "key_fingerprint": fingerprint},
        "docker_repo": {"url": f"{URL}/linux", "key_fingerprint": fingerprint},
        "conda_r_python": _conda_settings(manifest["conda"]),
    }


def _conda_settings(built: dict) -> dict:
    """The conda role's installer (its sha256 by machine, as Miniforge publishes one installer
    per architecture), channel and pip index on the mirror."""
    installer = built["installer"]
    return {"installer": {"url": f"{URL}/{installer['path']}", "sha256": {installer["arch"]: installer["sha256"]}},
            "channels": [f"{URL}/{built['channel']}"], "pip_index_url": f"{URL}/{built['pip_index']}"}


def conda_token_channel(private: bool = True) -> str:
    """The URL of the mirror's private conda channel (or of conda-forge) with the token in it."""
    return conda.token_channel(f"{URL}/conda/{conda.load_catalog()['channel']}", private)


def archive_key(manifest: dict) -> Path:
    """The test keyring (binary), which signs the mirror's ubuntu/ archive too."""
    return Path(manifest["keyring"])


def stop() -> None:
    stop_daemon(NAME)
