"""Small helpers shared by the harness: where things live, running commands, daemons.

Everything here runs on the outer machine as root. Commands are argument lists, never
shell strings, so no value of the harness is ever parsed by a shell on this side.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import cgroups

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".testbed"
BRIDGE = "gpuhtb0"
BRIDGE_IP = "10.77.0.1"


class TestbedError(RuntimeError):
    """A harness step failed; the message says what to do about it."""


def cache_dir() -> Path:
    """The cache kept between runs (rootfs, apt-cacher-ng, mirror), outside the repo."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gpuhost" / "testbed"


def run(argv: list, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command on the outer machine, raising with its stderr on failure."""
    proc = subprocess.run([str(a) for a in argv], text=True, capture_output=True, **kwargs)
    if check and proc.returncode != 0:
        raise TestbedError(f"{' '.join(map(str, argv))} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def ensure_packages(commands: dict) -> None:
    """Install the Debian packages providing missing commands ({command: package}).

    The harness needs a few tools on the outer machine; apt-get installs the missing ones so a
    fresh machine works with one command.
    """
    missing = sorted({pkg for cmd, pkg in commands.items() if not shutil.which(cmd)})
    if not missing:
        return
    print(f"testbed: installing {' '.join(missing)} with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env)


def is_root() -> bool:
    return os.geteuid() == 0


def allow_inotify_for(hosts: int) -> None:
    """Let `hosts` test hosts boot: each one's systemd, journald and logind take inotify instances
    from root's single limit (128 by default), and a few dozen hosts use it up: their boot stops at
    "Failed to create inotify object: Too many open files" and sshd never starts."""
    limit = Path("/proc/sys/fs/inotify/max_user_instances")
    wanted = 128 + 16 * hosts
    if int(limit.read_text()) < wanted:
        limit.write_text(f"{wanted}\n")


def start_daemon(name: str, argv: list, cwd: Path = REPO, group: str = "") -> int:
    """Start a detached process that outlives the caller; its pid goes to .testbed/run/<name>.pid.

    It runs in the cgroup `group` (daemon-<name> by default), and what is left there is killed
    first: a daemon of this name that another checkout started (its pid file is in that checkout)
    and that would hold the port."""
    group = group or f"daemon-{name}"
    cgroups.kill_and_remove(group)
    rundir = STATE / "run"
    rundir.mkdir(parents=True, exist_ok=True)
    with open(rundir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen([str(a) for a in argv], cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)
    cgroups.join(group, proc.pid)
    (rundir / f"{name}.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def daemon_pid(name: str):
    """The pid of a daemon started by start_daemon, or None when it is not running."""
    pidfile = STATE / "run" / f"{name}.pid"
    try:
        pid = int(pidfile.read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError):
        return None
    return None if state == "Z" else pid


def stop_daemon(name: str, timeout: float = 15.0) -> None:
    """SIGTERM a daemon's process group, SIGKILL it after timeout, kill what is left in its cgroup
    (whichever checkout started it), forget its pid file."""
    pid = daemon_pid(name)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while daemon_pid(name) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if daemon_pid(name) is not None:
            _signal_group(pid, signal.SIGKILL)
    cgroups.kill_and_remove(f"daemon-{name}")
    (STATE / "run" / f"{name}.pid").unlink(missing_ok=True)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
