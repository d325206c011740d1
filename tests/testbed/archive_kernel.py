"""The host option `archive_kernel`: the host boots a kernel whose headers Debian's archive has today.

Debian's archive keeps only its newest kernel ABIs (the profile's 6.1.0-40 is long gone), and a
real DKMS build needs that kernel's real headers, so the release cannot be written in code: it is
read from the host's own apt, as the ABI its flavour's headers metapackage (`linux-headers-cloud-amd64`)
depends on now. The host gets that kernel's /boot/vmlinuz-* and /lib/modules/<release>/, which the
launcher boots as the newest kernel (gpu.running_kernel), and reboots into it once.
"""
import shlex

from .access import connect
from .conditions import reboot
from .specs import KERNEL
from .system import TestbedError


def boot(spec) -> None:
    """Move a host still on its profile's kernel to the archive's current one."""
    meta = "linux-headers" + KERNEL.match(spec.profile.kernel).group(3)
    script = (f'[ "$(cat /proc/sys/kernel/osrelease)" = {shlex.quote(spec.profile.kernel)} ] || exit 0; '
              "apt-get -o APT::Update::Error-Mode=any update -q >/dev/null && "
              f"k=$(apt-cache depends {shlex.quote(meta)} | sed -n 's/^ *Depends: linux-headers-//p' | head -n1) && "
              '[ -n "$k" ] && mkdir -p "/lib/modules/$k/kernel" && touch "/boot/vmlinuz-$k" && echo "$k"')
    with connect(spec.address) as conn:
        result = conn.run(script, hide=True, warn=True)
    if not result.ok:
        raise TestbedError(f"{spec.name}: no kernel of Debian's archive for {meta}: {result.stderr.strip()[-800:]}")
    if result.stdout.strip():
        reboot(spec.address)
