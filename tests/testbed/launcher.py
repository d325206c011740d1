"""The process that keeps one host alive: `python3 -m tests.testbed.launcher <name>`.

It moves itself into the host's cgroup, then boots the host with systemd-nspawn in a loop:
before each boot it decides the simulated kernel state from the host's files (gpu.py); when
systemd inside asks for a reboot nspawn exits 133 and the loop boots again. SIGTERM powers the
host off and ends the loop.
"""
import signal
import subprocess
import sys
from pathlib import Path

from . import cgroups, gpu, hosts, network

REBOOT = 133


def nspawn_argv(spec, hostdir: Path) -> list:
    boot = hostdir / "boot"
    argv = [
        "systemd-nspawn", "--quiet", "-D", hostdir / "root", "-M", spec.name, "--boot",
        "--register=no", "--keep-unit",
        f"--network-namespace-path=/run/netns/{network.namespace(spec.name)}",
        "--console=read-only", "--resolv-conf=off", "--timezone=off", "--link-journal=no",
        # Docker inside the host (testbed.md): its bridge, keyring syscalls, a non-overlay dir
        "--capability=CAP_NET_ADMIN", "--system-call-filter=@keyring",
        f"--bind={hostdir / 'docker'}:/var/lib/docker",
        f"--overlay-ro=/sys/bus/pci:{boot / 'pci'}:/sys/bus/pci",
        f"--overlay-ro=/sys/module:{boot / 'module'}:/sys/module",
        f"--overlay-ro=/sys/firmware:{boot / 'firmware'}:/sys/firmware",
        f"--bind-ro={boot / 'run'}:/run/testbed",
    ]
    if "full_disk" in spec.options:
        argv.append("--tmpfs=/var/cache/apt/archives:mode=0755,size=2M")
    return [str(a) for a in argv]


def main(name: str) -> int:
    spec, hostdir = hosts.spec_of(name), hosts.directory(name)
    cgroups.join(name)  # before nspawn starts; start_daemon moves it there too, maybe later
    stopping, child = False, None

    def on_term(signum, frame):
        nonlocal stopping
        stopping = True
        if child:
            child.terminate()

    signal.signal(signal.SIGTERM, on_term)
    while True:
        state = gpu.prepare_boot(hostdir / "root", spec, hostdir / "boot")
        if "full_disk" in spec.options:
            (hostdir / "boot/run/full_disk").touch()
        print(f"launcher: booting {name}: {state}", flush=True)
        child = subprocess.Popen(nspawn_argv(spec, hostdir), stdin=subprocess.DEVNULL)
        if stopping:
            child.terminate()
        status = child.wait()
        if status != REBOOT or stopping:
            return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
