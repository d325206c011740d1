"""Package names and version strings, one case per naming era and format."""
import pytest

from gpuhost.resolver import packages
from gpuhost.resolver.compat import knowledge


def _cuda(version):
    return next(r for r in knowledge().cuda_releases if str(r.version) == version)


def _lib(releases, version):
    return next(r for r in releases if str(r.version) == version)


DRIVER_CASES = [
    # up to R580 a branch is held by its suffixed meta (driver-installation-guide)
    ("proprietary-580 cuda-drivers-<b>", 580, "proprietary", "ubuntu", ["cuda-drivers-580"]),
    ("proprietary-470", 470, "proprietary", "ubuntu", ["cuda-drivers-470"]),
    # CUDA 12.0-12.3 install guide: nvidia-kernel-open-<b> + cuda-drivers-<b>
    ("open-535 ubuntu", 535, "open", "ubuntu", ["nvidia-kernel-open-535", "cuda-drivers-535"]),
    # CUDA 12.4/12.5 guide: nvidia-driver-<b>-open + cuda-drivers-<b>
    ("open-550 ubuntu", 550, "open", "ubuntu", ["nvidia-driver-550-open", "cuda-drivers-550"]),
    ("open-550 debian (unconfirmed)", 550, "open", "debian", ["nvidia-kernel-open-dkms", "cuda-drivers-550"]),
    # from R560 the open meta is nvidia-open-<b>
    ("open-570 ubuntu", 570, "open", "ubuntu", ["nvidia-open-570"]),
    ("open-580 debian", 580, "open", "debian", ["nvidia-open-580"]),
    # from R590: nvidia-driver-pinning-<b>, then the unsuffixed meta
    ("open-590 pinning", 590, "open", "ubuntu", ["nvidia-driver-pinning-590", "nvidia-open"]),
    ("proprietary-590 pinning", 590, "proprietary", "debian", ["nvidia-driver-pinning-590", "cuda-drivers"]),
]


@pytest.mark.parametrize("case,branch,flavor,os_id,expected", DRIVER_CASES, ids=[c[0] for c in DRIVER_CASES])
def test_nvidia_repo_driver_packages(case, branch, flavor, os_id, expected):
    assert packages.driver_packages(branch, flavor, os_id) == expected


def test_open_names_for_debian_before_560_are_flagged_unconfirmed():
    assert packages.open_meta_unverified(550, "debian") and not packages.open_meta_unverified(570, "ubuntu")


# ubuntu-drivers --gpgpu: headless no-dkms server driver + Canonical's signed prebuilt modules
@pytest.mark.parametrize("flavor,suffix", [("open", "-server-open"), ("proprietary", "-server")])
def test_canonical_server_driver_names(flavor, suffix):
    assert packages.ubuntu_driver_packages(580, flavor, "aws") == [
        f"nvidia-headless-no-dkms-580{suffix}", "nvidia-utils-580-server", f"linux-modules-nvidia-580{suffix}-aws"]


def test_fabric_manager_follows_branch_naming():
    assert packages.fabric_manager_packages(535) == ["nvidia-fabricmanager-535"]


# cuda-toolkit-X-Y is the toolkit without a driver; version "<release>-1" (cuda-toolkit-12-4=12.4.0-1)
@pytest.mark.parametrize("release,name,version", [("12.4.0", "cuda-toolkit-12-4", "12.4.0-1"),
                                                  ("12.4.1", "cuda-toolkit-12-4", "12.4.1-1"),
                                                  ("12.8.1", "cuda-toolkit-12-8", "12.8.1-1"),
                                                  ("13.0.2", "cuda-toolkit-13-0", "13.0.2-1")])
def test_cuda_toolkit_package(release, name, version):
    cuda = _cuda(release)
    assert (packages.cuda_package(cuda), packages.cuda_package_version(cuda)) == (name, version)


CUDNN_CASES = [
    # cuDNN 8: CUDA build in the version (libcudnn8=8.9.7.29-1+cuda12.2)
    ("8.9.7.29", "12.2.2", {"libcudnn8": "8.9.7.29-1+cuda12.2", "libcudnn8-dev": "8.9.7.29-1+cuda12.2"}),
    ("8.9.7.29", "11.8.0", {"libcudnn8": "8.9.7.29-1+cuda11.8", "libcudnn8-dev": "8.9.7.29-1+cuda11.8"}),
    # cuDNN 9: CUDA major in the name, version "<v>-1"
    ("9.10.2.21", "12.4.1", {"libcudnn9-cuda-12": "9.10.2.21-1", "libcudnn9-dev-cuda-12": "9.10.2.21-1",
                             "libcudnn9-headers-cuda-12": "9.10.2.21-1"}),
    ("9.5.1.17", "11.8.0", {"libcudnn9-cuda-11": "9.5.1.17-1", "libcudnn9-dev-cuda-11": "9.5.1.17-1",
                            "libcudnn9-headers-cuda-11": "9.5.1.17-1"}),
    ("9.13.0.50", "13.0.2", {"libcudnn9-cuda-13": "9.13.0.50-1", "libcudnn9-dev-cuda-13": "9.13.0.50-1",
                             "libcudnn9-headers-cuda-13": "9.13.0.50-1"}),
]


@pytest.mark.parametrize("version,cuda,expected", CUDNN_CASES, ids=[f"{c[0]}+{c[1]}" for c in CUDNN_CASES])
def test_cudnn_packages(version, cuda, expected):
    release, cuda = _lib(knowledge().cudnn, version), _cuda(cuda)
    assert packages.cudnn_packages(release, release.build_for(cuda.version), cuda) == expected


# TensorRT: every package of the set at one "<v>-1+cudaX.Y"
@pytest.mark.parametrize("version,cuda,pin,runtime", [("10.7.0.23", "12.6.3", "10.7.0.23-1+cuda12.6", "libnvinfer10"),
                                                      ("10.8.0.43", "12.8.1", "10.8.0.43-1+cuda12.8", "libnvinfer10"),
                                                      ("11.0.0.114", "13.2.2", "11.0.0.114-1+cuda13.2", "libnvinfer11")])
def test_tensorrt_packages_share_one_version(version, cuda, pin, runtime):
    release = _lib(knowledge().tensorrt_releases, version)
    pkgs = packages.tensorrt_packages(release, release.build_for(_cuda(cuda).version))
    assert runtime in pkgs and "libnvinfer-dev" in pkgs and set(pkgs.values()) == {pin}
