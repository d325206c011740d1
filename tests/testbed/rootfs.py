"""The hosts' read-only base: a Debian 12 root filesystem built once with mmdebstrap.

The build takes about half a minute, so the result is cached under ~/.cache/gpuhost/testbed/
rootfs/<hash>/, keyed by a hash of the recipe below: changing the recipe builds a new base,
an unchanged recipe reuses the old one. Per-host files (keys, users' sudo rule, the boot unit)
and the sysfs mount points (hidden by the live /sys that mmdebstrap mounts during its hooks)
are not part of the base; hosts.py writes them into each host's own overlay layer.
"""
import fcntl
import hashlib
import json
import shlex
import shutil
from pathlib import Path

from .proxy import PORT as PROXY_PORT
from .system import BRIDGE_IP, cache_dir, ensure_packages, run

SUITE = "bookworm"
PACKAGES = [
    "openssh-server", "python3", "sudo", "ca-certificates", "gnupg", "curl", "iproute2",
    "procps", "kmod", "pciutils", "systemd", "systemd-sysv", "dbus", "libpam-systemd",
]
SOURCES = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
APT_PROXY = (
    f'Acquire::http::Proxy "http://{BRIDGE_IP}:{PROXY_PORT}";\n'
    # the fixture mirror on the bridge is served directly, never cached by the proxy
    f'Acquire::http::Proxy::{BRIDGE_IP} "DIRECT";\n'
)
HOOKS = [
    # pitfall: mmdebstrap copies the build machine's resolver, unreachable from the hosts
    'echo "nameserver 127.0.0.1" > "$1/etc/resolv.conf"',
    f'printf "%s\\n" {" ".join(map(shlex.quote, SOURCES))} > "$1/etc/apt/sources.list"',
    f'printf "%s" {shlex.quote(APT_PROXY)} > "$1/etc/apt/apt.conf.d/01proxy"',
    'rm -f "$1"/etc/ssh/ssh_host_*',
    "printf 'HostKey /etc/ssh/ssh_host_ed25519_key\\n' > \"$1/etc/ssh/sshd_config.d/testbed.conf\"",
    'chroot "$1" useradd --create-home --shell /bin/bash --groups sudo gpuadmin',
    'systemctl --root="$1" mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer',
    'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_*',
]


def recipe() -> dict:
    return {"suite": SUITE, "packages": PACKAGES, "sources": SOURCES, "hooks": HOOKS}


def recipe_hash() -> str:
    return hashlib.sha256(json.dumps(recipe(), sort_keys=True).encode()).hexdigest()[:16]


def ensure() -> Path:
    """Return the cached base for the current recipe, building it first when missing."""
    root = cache_dir() / "rootfs"
    final = root / recipe_hash()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (final / "etc" / "os-release").exists():
            _build(final)
    return final


def _build(final: Path) -> None:
    ensure_packages({"mmdebstrap": "mmdebstrap"})
    print(f"testbed: building the Debian 12 rootfs {final.name} (about 30 s, cached)", flush=True)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    hooks = [f"--customize-hook={hook}" for hook in HOOKS]
    run(["mmdebstrap", "--variant=minbase", "--components=main",
         f"--include={','.join(PACKAGES)}", *hooks, SUITE, tmp, *SOURCES])
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
