"""Kernel modules: keep one from loading at boot, and rebuild the initramfs that would load it."""

import re

from gpuhost.errors import StepError
from gpuhost.ops.files import File
from gpuhost.steps import Handler

MODULE = re.compile(r"^[a-z0-9_]+$")
UPDATE_INITRAMFS = Handler("update initramfs", ["if command -v update-initramfs >/dev/null; "
                                                "then update-initramfs -u; fi"])


def blacklist(module, options=()):
    """A modprobe.d file that blacklists the module; notifies the initramfs handler."""
    if not MODULE.match(module):
        raise StepError(f"{module!r} is not a kernel module name.")
    lines = [f"blacklist {module}"] + [f"options {module} {o}" for o in options]
    return File(f"/etc/modprobe.d/gpuhost-blacklist-{module}.conf", "\n".join(lines) + "\n",
                name=f"blacklist {module}", notify=(UPDATE_INITRAMFS.name,))
