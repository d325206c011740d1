"""One test host: an overlay over the cached base, its own files, and a launcher process.

Layout under .testbed/hosts/<name>/: spec.json, upper/ + work/ (the host's own layer),
root/ (the merged overlay nspawn boots), docker/ (bind-mounted on /var/lib/docker: Docker's
overlay2 cannot sit on an overlay root), boot/ (the simulated kernel state of the current boot,
rewritten by the launcher at every boot).
"""
import json
import os
import shutil
import sys
import time
from pathlib import Path

from . import cgroups, delay, network
from .access import become_password, client_key
from .specs import HostSpec
from .system import BRIDGE_IP, STATE, TestbedError, daemon_pid, run, start_daemon, stop_daemon
from .waiting import wait_for_port

HOSTS = STATE / "hosts"
PIP_CONF = f"[global]\ntrusted-host = {BRIDGE_IP}\n"
BOOT_SCRIPT = """#!/bin/sh
# Presents the simulated kernel state the launcher wrote to /run/testbed for this boot.
set -u
s=/run/testbed
mount --bind -o ro "$s/osrelease" /proc/sys/kernel/osrelease
mount --bind -o ro "$s/proc-driver" /proc/driver
# Docker's runc writes to the v1 controllers, which nspawn mounts read-only
for c in /sys/fs/cgroup/*/; do
    [ "$c" = /sys/fs/cgroup/unified/ ] || mount -o remount,bind,rw "$c" 2>/dev/null
done
if [ -e "$s/full_disk" ]; then
    mkdir -p /var/cache/apt/archives/partial
    dd if=/dev/zero of=/var/cache/apt/archives/filler bs=64k 2>/dev/null
fi
exit 0
"""
BOOT_UNIT = """[Unit]
Description=Simulated kernel state of this test host
DefaultDependencies=no
Before=sysinit.target ssh.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/testbed-boot

[Install]
WantedBy=sysinit.target
"""


def directory(name: str) -> Path:
    return HOSTS / name


def spec_of(name: str):
    """The spec a host was created with, or None."""
    path = directory(name) / "spec.json"
    return HostSpec.from_dict(json.loads(path.read_text())) if path.exists() else None


def existing() -> list:
    return sorted(p.name for p in HOSTS.glob("tb*") if (p / "spec.json").exists())


def is_running(name: str) -> bool:
    """A host counts as running while its launcher, cgroup processes or namespace exist."""
    return bool(daemon_pid(f"host-{name}") or cgroups.has_processes(name) or network.has_host(name))


def is_alive(name: str) -> bool:
    """Its launcher runs and sshd answers: the host can be reused as it is."""
    spec = spec_of(name)
    if spec is None or not daemon_pid(f"host-{name}"):
        return False
    try:
        wait_for_port(spec.address, 22, 2, name, banner=b"SSH-2.0")
    except TestbedError:
        return False
    return True


def create(spec: HostSpec, base: Path) -> None:
    """Build a host's layer (identity, users, OS profile, boot unit) and its network."""
    if is_running(spec.name):
        raise TestbedError(f"{spec.name} is still running: run `invoke testbed.down` first")
    hostdir = directory(spec.name)
    shutil.rmtree(hostdir, ignore_errors=True)
    for sub in ("upper", "work", "root", "docker"):
        (hostdir / sub).mkdir(parents=True)
    for path in (base, hostdir):
        if any(c in str(path) for c in ",:"):
            raise TestbedError(f"overlay paths cannot contain ',' or ':': {path}")
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={base},upperdir={hostdir / 'upper'},workdir={hostdir / 'work'}", hostdir / "root"])
    root = hostdir / "root"
    _identity(root, spec)
    _users(root, spec)
    _pip_trust(root)
    _os_profile(root, spec)
    _boot_unit(root)
    network.add_host(spec.name, spec.address)
    (hostdir / "spec.json").write_text(json.dumps(spec.to_dict(), indent=1) + "\n")


def host_key(name: str) -> str:
    """The host's public key ("ssh-ed25519 AAAA…"), read from its own layer."""
    return " ".join((directory(name) / "upper/etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])


def _identity(root: Path, spec: HostSpec) -> None:
    (root / "etc/hostname").write_text(spec.name + "\n")
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n{spec.address} {spec.name}\n")
    key = root / "etc/ssh/ssh_host_ed25519_key"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{spec.name}", "-f", key])
    for mountpoint in ("sys/bus/pci", "sys/module", "sys/firmware"):
        (root / mountpoint).mkdir(parents=True, exist_ok=True)


def _users(root: Path, spec: HostSpec) -> None:
    pub = Path(str(client_key()) + ".pub").read_text()
    for home, uid in ((root / "root", 0), (root / "home/gpuadmin", 1000)):
        ssh = home / ".ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        (ssh / "authorized_keys").write_text(pub)
        for path in (ssh, ssh / "authorized_keys"):
            os.chown(path, uid, uid)
    rule = "NOPASSWD:ALL" if spec.sudo == "nopasswd" else "ALL"
    sudoers = root / "etc/sudoers.d/gpuadmin"
    sudoers.write_text(f"gpuadmin ALL=(ALL) {rule}\n")
    sudoers.chmod(0o440)
    if spec.sudo == "password":
        run(["chroot", root, "chpasswd"], input=f"gpuadmin:{become_password()}\n")


def _pip_trust(root: Path) -> None:
    """pip ignores an index served over plain http, as the mirror's PyPI is, unless its host is
    trusted: /etc/pip.conf trusts the bridge, as a site with an internal http index would."""
    (root / "etc/pip.conf").write_text(PIP_CONF)


def _os_profile(root: Path, spec: HostSpec) -> None:
    profile = spec.profile
    (root / "boot").mkdir(exist_ok=True)
    (root / "boot" / f"vmlinuz-{profile.kernel}").touch()
    (root / "lib/modules" / profile.kernel / "kernel").mkdir(parents=True, exist_ok=True)
    if not spec.os.startswith("ubuntu-"):
        return
    os_release = (f'PRETTY_NAME="{profile.pretty}"\nNAME="Ubuntu"\nVERSION_ID="{profile.version}"\n'
                  f'VERSION="{profile.pretty[7:]} ({profile.codename.title()})"\n'
                  f"VERSION_CODENAME={profile.codename}\nID=ubuntu\nID_LIKE=debian\n"
                  'HOME_URL="https://www.ubuntu.com/"\n'
                  f"UBUNTU_CODENAME={profile.codename}\n")
    for path in ("etc/os-release", "usr/lib/os-release"):
        (root / path).unlink(missing_ok=True)
        (root / path).write_text(os_release)
    (root / "etc/lsb-release").write_text(
        f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={profile.version}\n"
        f'DISTRIB_CODENAME={profile.codename}\nDISTRIB_DESCRIPTION="{profile.pretty}"\n')


def _boot_unit(root: Path) -> None:
    script = root / "usr/local/sbin/testbed-boot"
    script.write_text(BOOT_SCRIPT)
    script.chmod(0o755)
    (root / "etc/systemd/system/testbed-boot.service").write_text(BOOT_UNIT)
    wants = root / "etc/systemd/system/sysinit.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "testbed-boot.service").symlink_to("/etc/systemd/system/testbed-boot.service")


def add_archive_source(name: str, key: Path, codename: str) -> None:
    """The mirror's ubuntu/ archive as Canonical's would be configured on a real Ubuntu host."""
    root = directory(name) / "root"
    suffix = ".asc" if key.read_bytes().startswith(b"-----BEGIN") else ".gpg"
    keyring = f"/usr/share/keyrings/ubuntu-archive-keyring{suffix}"
    shutil.copyfile(key, root / keyring.lstrip("/"))
    (root / "etc/apt/sources.list.d/ubuntu.sources").write_text(
        f"Types: deb\nURIs: http://10.77.0.1:8080/ubuntu\nSuites: {codename}\n"
        f"Components: restricted\nSigned-By: {keyring}\n")


def start(name: str) -> None:
    start_daemon(f"host-{name}", [sys.executable, "-m", f"{__package__}.launcher", name], group=name)


def wait_ready(spec: HostSpec, timeout: float = 60) -> None:
    wait_for_port(spec.address, 22, timeout, f"{spec.name}'s sshd",
                  alive=lambda: daemon_pid(f"host-{spec.name}"), banner=b"SSH-2.0")


def set_rtt(name: str, rtt_ms: int) -> None:
    """Route the host's traffic with the bridge address through a delay line (0: directly)."""
    stop_daemon(f"delay-{name}")
    ready = delay.ready_file(name)
    ready.unlink(missing_ok=True)
    if rtt_ms:
        start_daemon(f"delay-{name}", [sys.executable, "-m", f"{__package__}.delay", name, str(rtt_ms)])
        deadline = time.monotonic() + 10
        while not ready.exists():
            if time.monotonic() > deadline or not daemon_pid(f"delay-{name}"):
                raise TestbedError(f"the delay line of {name} did not start; see .testbed/run/")
            time.sleep(0.05)


def _layers_of(name: str) -> list:
    """The host's overlay mounts: this checkout's, or one another checkout left (names are global)."""
    tail = f"/.testbed/hosts/{name}/root"
    points = (line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    return [p.replace("\\040", " ") for p in points if p.endswith(tail)]


def destroy(name: str) -> None:
    """Stop the host and remove every trace of it: processes, cgroups, mounts, namespace, files.
    It also removes a host of this name that another checkout of the project left running."""
    set_rtt(name, 0)
    stop_daemon(f"host-{name}", timeout=20)
    cgroups.kill_and_remove(name)
    hostdir = directory(name)
    for mountpoint in _layers_of(name):
        run(["umount", mountpoint])
    network.remove_host(name)
    shutil.rmtree(Path("/run/systemd/nspawn/propagate", name), ignore_errors=True)
    shutil.rmtree(hostdir, ignore_errors=True)
