"""Who built the installed driver packages, told by the Maintainer field dpkg keeps for them.

Debian's archive and NVIDIA's debian12 CUDA repository ship the same names (libcuda1,
nvidia-kernel-dkms, nvidia-smi, firmware-nvidia-gsp) in the same version form (`535.309.01-0+deb12u1`
beside `580.95.05-1`), so neither name nor version says where a package came from; the maintainer
does. Debian's is in gpuhost/data/debian_driver.yaml; NVIDIA's CUDA repository packages name
"cudatools <cudatools@nvidia.com>" (their control data: cuda-toolkit 13.1.1-1, cuda-runtime-11-8
11.8.0-1, nvidia-gds, nvidia-driver-local-repo-ubuntu2204-550.54.15 1.0-1).
"""

import re
import shlex

from gpuhost.facts import Request
from gpuhost.resolver.debian import releases

PROBE = "driver-maintainers"
SHARED_NAMES = ("libcuda1", "nvidia-smi", "firmware-nvidia-gsp", "nvidia-*kernel*-dkms")  # dpkg-query patterns
NVIDIA = "cudatools@nvidia.com"
ADDRESS = re.compile(r"<([^<>\s]+@[^<>\s]+)>\s*$")


def request():
    """The probe that lists the Maintainer of every installed package of a shared name."""
    names = " ".join(shlex.quote(n) for n in SHARED_NAMES)
    return Request(probes={PROBE: f"dpkg-query -W -f='${{Package}}\\t${{Maintainer}}\\n' {names} 2>/dev/null"})


def parse(output):
    """`name<TAB>Maintainer` lines → {name: the maintainer's address}."""
    found = {}
    for line in output.splitlines():
        name, _, maintainer = line.partition("\t")
        match = ADDRESS.search(maintainer)
        if name and match:
            found[name] = match.group(1).lower()
    return found


def debian_addresses():
    return {ADDRESS.search(r.maintainer).group(1).lower() for r in releases().values()}


def source(facts, names):
    """"debian" or "nvidia" for installed driver packages `names`, by their maintainers; None when
    the probe did not run or names neither."""
    probe = (facts.get("probes") or {}).get(PROBE) or {}
    addresses = {a for n, a in parse(probe.get("output", "")).items() if n in names}
    if NVIDIA in addresses:
        return "nvidia"
    return "debian" if addresses & debian_addresses() else None
