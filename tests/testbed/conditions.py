"""Conditions created on a running host, as they arise on real machines: a reboot, the dpkg
lock held by another apt, a kernel update that leaves the driver module behind.

Each works over SSH as root with the testbed's pinned host keys.
"""
import shlex
import time

from .access import connect
from .specs import successor
from .system import TestbedError

LOCK_HOLDER = """
import fcntl, sys, time
open("/proc/self/comm", "w").write("unattended-upgr")
locks = [open(p, "a") for p in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock")]
for lock in locks:
    fcntl.lockf(lock, fcntl.LOCK_EX)
open("/run/testbed-dpkg-lock.held", "w").close()
time.sleep(float(sys.argv[1]))
"""


def boot_id(address: str) -> str:
    with connect(address) as conn:
        return conn.run("cat /proc/sys/kernel/random/boot_id", hide=True).stdout.strip()


def reboot(address: str, timeout: float = 60) -> str:
    """Reboot with `systemctl reboot` and wait until the boot id changes; return the new one."""
    before = boot_id(address)
    with connect(address) as conn:
        try:
            conn.run("systemctl reboot", hide=True, warn=True, timeout=10)
        except Exception:  # the connection drops as the host goes down
            pass
    return wait_for_new_boot(address, before, timeout)


def wait_for_new_boot(address: str, before: str, timeout: float = 60) -> str:
    """Wait until the host answers with a boot id other than `before`; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            after = boot_id(address)
            if after != before:
                return after
        except Exception:  # refused or reset while the host is down
            pass
        time.sleep(0.3)
    raise TestbedError(f"{address} did not come back with a new boot id within {timeout:.0f} s")


def hold_lock(address: str, seconds: float) -> None:
    """Hold /var/lib/dpkg/lock-frontend and lock with fcntl, as unattended-upgrades would.

    Returns once both locks are held; they are released after `seconds` or by release_lock.
    """
    seconds = float(seconds)
    if not 0 < seconds <= 86400:
        raise TestbedError(f"lock seconds must be in (0, 86400], not {seconds}")
    release_lock(address)
    command = ["systemd-run", "--quiet", "--unit=testbed-dpkg-lock", "--collect",
               "python3", "-c", LOCK_HOLDER, str(seconds)]
    with connect(address) as conn:
        conn.run(" ".join(map(shlex.quote, command)), hide=True)
        conn.run("for i in $(seq 100); do [ -e /run/testbed-dpkg-lock.held ] && exit 0; "
                 "sleep 0.1; done; exit 1", hide=True)


def release_lock(address: str) -> None:
    with connect(address) as conn:
        conn.run("systemctl stop testbed-dpkg-lock 2>/dev/null; rm -f /run/testbed-dpkg-lock.held",
                 hide=True, warn=True)


def kernel_update(address: str) -> str:
    """Install a newer (empty) kernel: the next boot runs it, with no nvidia module for it.

    Returns the new release; /proc/sys/kernel/osrelease shows it after a reboot.
    """
    with connect(address) as conn:
        running = conn.run("cat /proc/sys/kernel/osrelease", hide=True).stdout.strip()
        try:
            newer = successor(running)
        except ValueError as error:
            raise TestbedError(f"{address}: {error}") from None
        conn.run(f"mkdir -p /lib/modules/{shlex.quote(newer)}/kernel && "
                 f"touch /boot/vmlinuz-{shlex.quote(newer)}", hide=True)
    return newer
