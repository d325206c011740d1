"""The driver a host already has, read from its packages, modules and files."""

import re

from gpuhost.roles.driver import maintainers

DRIVER_PACKAGE = re.compile(
    r"^(cuda-drivers(-\d+)?|nvidia-open(-\d+)?|nvidia-driver(-\d+)?(-server)?(-open)?|"
    r"nvidia-headless(-no-dkms)?-\d+(-server)?(-open)?|nvidia-utils-\d+(-server)?|libnvidia-compute(-\d+)?(-server)?|"
    r"libcuda1|nvidia-kernel(-open)?-dkms|nvidia-open-kernel-dkms|nvidia-dkms(-\d+)?(-server)?(-open)?|"
    r"linux-modules-nvidia-.+|nvidia-driver-pinning-\d+|nvidia-fabricmanager(-\d+)?)$")
LIBCUDA = re.compile(r"^(libcuda1|libnvidia-compute-\d+(-server)?|libnvidia-compute)$")
# From R590 NVIDIA's packages drop the branch: nvidia-dkms-580-open becomes nvidia-dkms-open. Debian
# names its open flavour nvidia-open-kernel-dkms (NVIDIA's: nvidia-kernel-open-dkms).
MODULE_PACKAGE = re.compile(
    r"^(nvidia-kernel(-open)?-dkms|nvidia-open-kernel-dkms|nvidia-dkms(-\d+)?(-server)?(-open)?)$")
MODULE_FILE = re.compile(r"/nvidia(-current(-open)?)?\.ko")  # Debian's DKMS names it nvidia-current(-open).ko
SOURCES = {"nvidia": "NVIDIA's CUDA repository", "ubuntu": "Ubuntu's archive", "debian": "Debian's archive",
           "runfile": "outside apt (a .run installer?)"}


def packages(facts):
    """Installed driver packages: {name: version}."""
    return {n: p["version"] for n, p in facts.get("packages", {}).items() if DRIVER_PACKAGE.match(n)}


def upstream(version):
    """`580.95.05-0ubuntu1` → `580.95.05`."""
    return version.split(":")[-1].split("-")[0] if version else None


def userspace_version(facts):
    """The driver version of the installed libcuda (what nvidia-smi and NVML will be)."""
    for name, package in sorted(facts.get("packages", {}).items()):
        if LIBCUDA.match(name):
            return upstream(package["version"])
    return None


def describe(facts):
    """The installed driver as {"version", "branch", "source", "flavor", "packages"}, or None."""
    found = packages(facts)
    loaded = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    if not found:
        if loaded or "nvidia-smi" in facts.get("tools", []):
            return {"version": loaded, "branch": _branch(loaded), "source": "runfile", "flavor": None, "packages": {}}
        return None
    version = userspace_version(facts) or upstream(next(iter(found.values())))
    canonical = any("-server" in n or re.search(r"-0ubuntu0\.", v) for n, v in found.items())
    flavor = "open" if any("open" in n for n in found) else "proprietary"
    if (facts.get("driver_proc") or {}).get("open") is not None and loaded:
        flavor = "open" if facts["driver_proc"]["open"] else "proprietary"
    source = "ubuntu" if canonical else maintainers.source(facts, found) or "nvidia"
    return {"version": version, "branch": _branch(version), "source": source, "flavor": flavor, "packages": found}


def _branch(version):
    return int(version.split(".")[0]) if version and version.split(".")[0].isdigit() else None


def module_built(facts, kernel=None):
    """Whether an nvidia module file exists for the (running) kernel, DKMS-built or prebuilt."""
    kernel = kernel or facts.get("kernel", "")
    prefix = f"/lib/modules/{kernel}/"
    return any(path.startswith(prefix) and MODULE_FILE.search(path) for path in facts.get("files", {}))


def module_package(facts):
    return next((n for n in sorted(facts.get("packages", {})) if MODULE_PACKAGE.match(n)), None)


def superseded(facts, wanted, source):
    """Installed driver packages a switch must remove: those named for the old branch, and
    Canonical's when switching source. Components named alike in every branch (Debian's
    `nvidia-driver`, `libcuda1`) stay, to be upgraded by the new packages."""
    current = describe(facts)
    if not current:
        return []
    branch = re.compile(rf"(^|-){current['branch']}(-|$|\.)") if current["branch"] else None
    leaving_canonical = current["source"] == "ubuntu" and source != "ubuntu"
    return sorted(n for n in current["packages"] if n not in wanted and (
        (branch and branch.search(n)) or (leaving_canonical and ("-server" in n or n.startswith("linux-modules-nvidia")))))
