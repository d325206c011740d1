"""Each host's launcher, and each daemon of the harness, in its own cgroup, in every hierarchy.

Without it all hosts would share nspawn's `payload` cgroup, and runc (Docker inside a host)
would write at the machine's root cgroup. Teardown kills what is left in the group and
removes it, so nothing of a host outlives `down`. The groups' names are global, like the
hosts' network namespaces, so any checkout of the project can clear what another one left.
"""
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
GROUP = "gpuhost-testbed"


def hierarchies() -> list:
    seen, found = set(), []
    for path in sorted(ROOT.iterdir()):
        real = path.resolve()
        if (real / "cgroup.procs").exists() and real not in seen:
            seen.add(real)
            found.append(real)
    return found


def join(name: str, pid: int = 0) -> None:
    """Move a process (by default the calling one) into gpuhost-testbed/<name> in every hierarchy."""
    for hierarchy in hierarchies():
        group = hierarchy / GROUP / name
        group.mkdir(parents=True, exist_ok=True)
        if (hierarchy / "cpuset.cpus").exists():
            for level in (hierarchy / GROUP, group):
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    if not (level / knob).read_text().strip():
                        (level / knob).write_text((level.parent / knob).read_text())
        (group / "cgroup.procs").write_text(f"{pid or os.getpid()}\n")


def _pids(name: str) -> set:
    pids = set()
    for hierarchy in hierarchies():
        for dirpath, _, _ in os.walk(hierarchy / GROUP / name):
            try:
                pids |= {int(p) for p in Path(dirpath, "cgroup.procs").read_text().split()}
            except OSError:
                pass
    return pids


def has_processes(name: str) -> bool:
    return bool(_pids(name))


def names() -> set:
    """The groups under gpuhost-testbed, whoever made them."""
    return {p.name for h in hierarchies() for p in (h / GROUP).glob("*") if p.is_dir()}


def kill_and_remove(name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (pids := _pids(name)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    for hierarchy in hierarchies():
        top = hierarchy / GROUP / name
        for dirpath, _, _ in os.walk(top, topdown=False):
            os.rmdir(dirpath)


def remove_group() -> None:
    """Remove the empty gpuhost-testbed groups once no host is left."""
    for hierarchy in hierarchies():
        try:
            (hierarchy / GROUP).rmdir()
        except (FileNotFoundError, OSError):
            pass
