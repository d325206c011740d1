"""Debian packages that host options install once the host is up, with the host's own apt through
the proxy: apt-cacher-ng keeps the download for every later host, each host installs once; and the
kernel of Debian's archive that `archive_kernel` boots."""
import shlex

from . import archive_kernel
from .access import connect
from .system import TestbedError

PACKAGES = {"r": ("r-base-core",), "venv": ("python3-venv",), "unattended_upgrades": ("unattended-upgrades",)}


def apply(spec) -> None:
    """Install what the spec's options ask for, unless it is there; no connection without such options."""
    if "archive_kernel" in spec.options:
        archive_kernel.boot(spec)
    wanted = [package for option in spec.options for package in PACKAGES.get(option, ())]
    if not wanted:
        return
    names = " ".join(map(shlex.quote, wanted))
    installed = " && ".join(f"dpkg-query -W -f='${{db:Status-Abbrev}}' {shlex.quote(p)} 2>/dev/null | grep -q '^ii'"
                            for p in wanted)
    command = (f"{installed} || {{ export DEBIAN_FRONTEND=noninteractive; "
               f"apt-get -o APT::Update::Error-Mode=any update -q && "
               f"apt-get install -y -q --no-install-recommends {names}; }}")
    with connect(spec.address) as conn:
        result = conn.run(command, hide=True, warn=True)
    if not result.ok:
        raise TestbedError(f"{spec.name}: installing {', '.join(wanted)} failed: {result.stderr.strip()[-800:]}")
