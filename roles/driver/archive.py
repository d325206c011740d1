"""Debian's own driver (`driver.source: debian`): its packages, the components they come from, the pin.

NVIDIA's debian12 CUDA repository ships the same package names at higher versions (libcuda1 580.x
beside Debian's 535.x), so a version pin cannot keep Debian's apart: they are pinned by origin
(`o=Debian`, the Origin of every Release file of deb.debian.org's bookworm, bookworm-updates and
bookworm-security) above 1000, which also brings a host back to Debian's versions, and held.
"""

from gpuhost.resolver import debian
from gpuhost.roles.driver import apt_sources

PIN = "release o=Debian"
# The rest of Debian's driver tree, outside the driver's own name families (an `apt-get -s install` of
# these packages on bookworm: libcuda1 → nvidia-alternative → glx-alternative-nvidia → update-glx, …).
GLX = ("glx-alternative-*", "glx-diversions", "update-glx")


def packages(stack, mine):
    """Debian's packages for the resolved flavour, with the persistence daemon when it is to run."""
    rel = debian.release("debian", stack.os_version)
    return [*stack.packages["driver_debian"], *(rel.persistence if mine["persistence"] else ())]


def refusal(facts, stack, wanted, host):
    """Why apt could not find Debian's driver packages on this host, or None: the components they
    come from must be enabled for the release's own suite."""
    rel = debian.release("debian", stack.os_version)
    missing = sorted({rel.component(name) for name in wanted} - apt_sources.enabled(facts).get(rel.codename, set()))
    if not missing:
        return None
    served = ", ".join(name for name in wanted if rel.component(name) in missing)
    listed = " and ".join(filter(None, (", ".join(missing[:-1]), missing[-1])))
    return (f"{host}'s apt sources do not enable {listed} for {rel.codename}, where Debian's {served} come from: add "
            f"{' '.join(missing)} to the {rel.codename} entries of /etc/apt/sources.list (or to Components: in "
            "/etc/apt/sources.list.d/debian.sources), or use driver.source=nvidia.")
