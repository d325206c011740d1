"""Apt package names and version strings for a resolved stack, per distribution.

Why: NVIDIA renamed its driver packages more than once (branch-suffixed metas up to R580,
pinning packages from R590) and cuDNN/TensorRT encode the CUDA build differently; deriving the
names in one place keeps the roles free of that history. Every name here is for NVIDIA's CUDA
repository, except `ubuntu_driver_packages` (Canonical's signed server builds).
"""
from __future__ import annotations

from gpuhost.resolver.compat import Build, CudaRelease, LibRelease, knowledge


def driver_packages(branch: int, flavor: str, os_id: str) -> list[str]:
    """Meta packages that install and hold one driver branch from NVIDIA's repository."""
    packaging = knowledge().drivers["packaging"]
    if branch >= packaging["pinning_from"]:
        return [f"nvidia-driver-pinning-{branch}", "nvidia-open" if flavor == "open" else "cuda-drivers"]
    if flavor == "proprietary":
        return [f"cuda-drivers-{branch}"]
    rule = max((r for r in packaging["open_meta"] if r["from"] <= branch), key=lambda r: r["from"])
    return [name.format(b=branch) for name in rule[os_id]]


def open_meta_unverified(branch: int, os_id: str) -> bool:
    """True when the open-flavour names for this branch and distribution were not confirmed."""
    packaging = knowledge().drivers["packaging"]
    if branch >= packaging["pinning_from"]:
        return False
    rule = max((r for r in packaging["open_meta"] if r["from"] <= branch), key=lambda r: r["from"])
    return os_id in rule.get("unverified", ())


def ubuntu_driver_packages(branch: int, flavor: str, kernel_flavour: str = "generic") -> list[str]:
    """Canonical's headless server driver with its signed prebuilt modules (what `ubuntu-drivers
    install --gpgpu` picks), which load under Secure Boot without a DKMS build."""
    suffix = "-server-open" if flavor == "open" else "-server"
    return [f"nvidia-headless-no-dkms-{branch}{suffix}", f"nvidia-utils-{branch}-server",
            f"linux-modules-nvidia-{branch}{suffix}-{kernel_flavour}"]


def fabric_manager_packages(branch: int) -> list[str]:
    """Fabric Manager for NVSwitch systems; its version must match the driver's."""
    if branch >= knowledge().drivers["packaging"]["pinning_from"]:
        return ["nvidia-fabricmanager"]
    return [f"nvidia-fabricmanager-{branch}"]


def cuda_package(release: CudaRelease) -> str:
    """The toolkit-only meta package: never `cuda` or `cuda-X-Y`, which pull a driver too."""
    return f"cuda-toolkit-{release.version.major}-{release.version.minor}"


def cuda_package_version(release: CudaRelease) -> str:
    return knowledge().cuda["package_version_format"].format(version=release.version)


def cudnn_packages(release: LibRelease, build: Build, cuda: CudaRelease) -> dict[str, str]:
    """cuDNN 8 encodes the CUDA build in the version, cuDNN 9 in the package name."""
    version = release.version
    if version.major == 8:
        pin = f"{version}-1+{build.tag}"
        return {"libcudnn8": pin, "libcudnn8-dev": pin}
    suffix = f"cuda-{cuda.version.major}"
    pin = f"{version}-1"
    return {f"libcudnn{version.major}-{suffix}": pin, f"libcudnn{version.major}-dev-{suffix}": pin,
            f"libcudnn{version.major}-headers-{suffix}": pin}


def tensorrt_packages(release: LibRelease, build: Build) -> dict[str, str]:
    """Every runtime and dev package of the release's major, all at one version string."""
    sets = knowledge().tensorrt["package_sets"][str(release.version.major)]
    pin = f"{release.version}-1+{build.tag}"
    return {name: pin for name in (*sets["runtime"], *sets["dev"])}


def tensorrt_names_unverified(release: LibRelease) -> bool:
    return "dev" in knowledge().tensorrt["package_sets"][str(release.version.major)].get("unverified", ())
