"""A real kernel module's fields, read as the host reads them: with its own modinfo, inside its root.

The simulated boot loads what the host has built. A fixture module is a text stand-in (gpu.py); a
real one, an ELF object DKMS built against a kernel's real headers, states its version and licence
in its .modinfo section. The licence tells the flavours apart, as the sources declare it
(nvidia/nv-frontend.c: MODULE_LICENSE("NVIDIA") in Debian's nvidia-kernel-dkms 535.309.01,
"Dual MIT/GPL" in nvidia-open-kernel-dkms 535.261.03). A simulated host enrolls no key, so a real
module's signature (DKMS signs with its own) never satisfies Secure Boot.
"""
import subprocess
from pathlib import Path

ELF = b"\x7fELF"
FLAVORS = {"NVIDIA": "proprietary", "Dual MIT/GPL": "open"}


def is_real(path: Path) -> bool:
    try:
        with path.open("rb") as module:
            return module.read(4) == ELF
    except OSError:
        return False


def fields(root: Path, path: Path) -> dict:
    """{version, flavor, signed} of a real module, or {} when modinfo finds no version."""
    inside = "/" + str(path.relative_to(root))
    result = subprocess.run(["chroot", str(root), "modinfo", inside], capture_output=True, text=True)
    info = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            info.setdefault(key.strip(), value.strip())
    if "version" not in info:
        return {}
    return {"version": info["version"], "flavor": FLAVORS.get(info.get("license", ""), "unknown"), "signed": "no"}
