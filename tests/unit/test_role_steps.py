"""The driver, cuda, cudnn, tensorrt, docker and nvidia-toolkit roles as data: their steps over
recorded facts samples (facts_samples/*.json, read on real machines), with no host.

Package names, versions, paths and fingerprints are the vendors' own (each says where it comes
from), never copied from gpuhost's output.
"""

import fnmatch
import json
import re
from pathlib import Path

import pytest

from gpuhost import registry, runner
from gpuhost.errors import GpuhostError, InventoryError, ResolveError
from gpuhost.facts import Request
from gpuhost.ops.apt import Packages, RepositoryKey, Transaction
from gpuhost.ops.json_file import JsonMerge
from gpuhost.ops.reboot import Reboot
from gpuhost.roles import cuda, cudnn, docker, driver, nvidia_toolkit, tensorrt
from gpuhost.settings import merge
from gpuhost.steps import Check, Handler

SAMPLES = Path(__file__).parent / "facts_samples"
T4 = "ubuntu-20.04-gce-t4"      # Tesla T4; NVIDIA's cuda-drivers-535 installed and held, 535.183.01 loaded
A10G = "ubuntu-22.04-aws-a10g"  # A10G; no driver yet, nouveau loaded, kernel 6.5.0-1017-aws
H100 = "ubuntu-24.04-hgx-h100"  # 2 x H100 SXM5; nvidia-open-570 held and loaded, Secure Boot on, Docker CE 28.0.4
ARM = "debian-12-interrupted"   # arm64 Debian 12, no GPU, daemon.json with data-root, dpkg interrupted
# NVIDIA/cuda-repo-management SIGNATURES.md: the key 3bf863cc.pub, written as people write it.
NVIDIA_KEY = "EB69 3B30 35CD 5710 E231 E123 A4B4 6996 3BF8 63CC"
# What `nvidia-ctk runtime configure --runtime=docker` writes (NVIDIA container toolkit install guide).
NVIDIA_RUNTIME = {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}


class SampleHost:
    """A stand-in for gpuhost.host.Host: a recorded sample's facts, nothing to connect to."""

    def __init__(self, sample, **facts):
        self.name = sample
        self.facts = {**json.loads((SAMPLES / f"{sample}.json").read_text()), **facts}
        self.roles = ()
        self.request = Request()

    def gather(self, **_):
        return self.facts  # the sample is all there is to read


def settings(*modules, **overrides):
    return merge(registry.defaults(modules), overrides)


def role_steps(module, host, also=(), **overrides):
    """One role's steps; `also`: other roles in the same converge."""
    host.roles = (module.NAME, *also)
    return list(module.steps(host, settings(module, **overrides)))


def plan(host, *names, **overrides):
    """The steps a converge of these roles runs, in order, packages batched (runner.collect_steps)."""
    modules = registry.select(names)
    host.roles = tuple(m.NAME for m in modules)
    return runner.collect_steps(host, modules, settings(*modules, **overrides))


def only(steps, kind):
    (found,) = [s for s in steps if isinstance(s, kind)]
    return found


def named(steps, name):
    return next(s for s in steps if s.name == name)


def apt_install(transaction, facts):
    """The one `apt-get install` command of a transaction."""
    (command,) = [c for c in transaction.commands(facts) if " install " in c]
    return command


def predict_plan(host, steps):
    """Apply every step's predicted effect in order, handlers only when notified: what check mode does."""
    notified = set()
    for step in steps:
        if isinstance(step, Handler) and step.name not in notified:
            continue
        if step.commands(host.facts):
            step.predict(host.facts)
            notified |= set(step.notify)


# ---- the driver -------------------------------------------------------------------------------

@pytest.mark.parametrize("sample, branch, packages", [
    (T4, "535", ["cuda-drivers-535"]),          # proprietary before R590 (installed on the T4 sample)
    (H100, "570", ["nvidia-open-570"]),          # open before R590 (installed on the H100 sample)
    (A10G, "595", ["nvidia-driver-pinning-595", "nvidia-open"]),  # R590 on: NVIDIA's pinning package + nvidia-open
])
def test_the_resolved_branch_names_the_driver_packages_and_the_apt_pin(sample, branch, packages):
    steps = role_steps(driver, SampleHost(sample), stack={"driver": branch})
    install = named(steps, "driver packages " + " ".join(packages))
    assert set(packages) <= set(install.install) and set(install.hold) == set(packages)
    pin = named(steps, "apt pin gpuhost-nvidia-driver").content.decode()
    assert f"\nPin: version {branch}.*\n" in pin
    globs = pin.splitlines()[0].removeprefix("Package: ").split()
    assert all(any(fnmatch.fnmatchcase(p, g) for g in globs) for p in packages)


def test_a_host_without_an_nvidia_gpu_gets_no_driver_steps():
    assert role_steps(driver, SampleHost(ARM)) == []


def test_a_driver_of_another_branch_is_refused_before_any_change():
    host = SampleHost(T4)
    first = plan(host, "driver")[0]
    assert isinstance(first, Check)
    problem = first.problem(host.facts)
    assert "535.183.01" in problem and "driver.replace=true" in problem


def test_replace_switches_branches_in_one_transaction():
    host = SampleHost(H100)
    steps = plan(host, "driver", driver={"replace": True}, stack={"driver": "595"})
    assert only(steps, Check).problem(host.facts) is None
    command = apt_install(only(steps, Transaction), host.facts)
    assert "nvidia-open-570-" in command and "nvidia-driver-pinning-595" in command


def test_secure_boot_refuses_an_unsigned_dkms_module_but_not_canonicals_signed_one():
    host = SampleHost(A10G, secure_boot={"efi": True, "enabled": True})
    assert "Secure Boot" in only(role_steps(driver, host), Check).problem(host.facts)
    assert named(role_steps(driver, host, driver={"source": "ubuntu"}), "driver fits the host").problem(host.facts) is None


def test_a_module_already_loaded_under_secure_boot_is_kept():
    host = SampleHost(H100)  # Secure Boot on: the loaded 570 module is signed with an enrolled key
    assert only(role_steps(driver, host, stack={"driver": "570"}), Check).problem(host.facts) is None


def test_canonicals_source_installs_its_signed_modules_for_the_running_kernel_flavour():
    # Canonical's headless server driver, as `ubuntu-drivers install --gpgpu` installs it
    # (ubuntu-drivers-common; Ubuntu server docs); kernel 6.5.0-1017-aws: the aws flavour.
    steps = role_steps(driver, SampleHost(A10G), driver={"source": "ubuntu"}, stack={"driver": "580"})
    packages = only(steps, Packages)
    assert set(packages.install) == {"nvidia-headless-no-dkms-580-server-open", "nvidia-utils-580-server",
                                     "linux-modules-nvidia-580-server-open-aws"}
    assert not any(isinstance(s, RepositoryKey) for s in steps)
    # the modules metapackage follows the kernel: an automatic kernel update must be able to move it
    assert packages.hold == ["nvidia-headless-no-dkms-580-server-open", "nvidia-utils-580-server"]
    unattended = named(steps, "keep the driver from unattended-upgrades").content.decode()
    assert '"nvidia-"' in unattended and "linux-modules-nvidia" not in unattended


def test_canonicals_signed_modules_follow_the_hwe_kernel():
    # 6.8 on Ubuntu 22.04 is the HWE kernel (meta linux-generic-hwe-22.04); Canonical's modules for
    # it are linux-modules-nvidia-<b>-server[-open]-generic-hwe-22.04 (`ubuntu-drivers list` output).
    versions = {"linux-image-6.8.0-49-generic": "6.8.0-49.49~22.04.1", "linux-image-generic-hwe-22.04":
                "6.8.0.49.49~22.04.1", "linux-generic-hwe-22.04": "6.8.0.49.49~22.04.1"}
    packages = {n: {"version": v, "held": False, "state": "installed"} for n, v in versions.items()}
    host = SampleHost(A10G, kernel="6.8.0-49-generic", packages=packages)
    steps = role_steps(driver, host, driver={"source": "ubuntu"}, stack={"driver": "580"})
    assert "linux-modules-nvidia-580-server-open-generic-hwe-22.04" in only(steps, Packages).install


def test_nouveau_is_blacklisted_and_the_reboot_names_it():
    # The lines NVIDIA's driver installation guide writes to disable nouveau.
    host = SampleHost(A10G)
    steps = plan(host, "driver")
    assert named(steps, "blacklist nouveau").content == b"blacklist nouveau\noptions nouveau modeset=0\n"
    only(steps, Transaction).predict(host.facts)
    assert "nouveau" in only(steps, Reboot).commands(host.facts)[-1]


def test_an_eight_gpu_hgx_gets_fabric_manager_at_the_drivers_branch():
    sxm5 = json.loads((SAMPLES / f"{H100}.json").read_text())["pci"][0]  # an HGX H100 board carries 8 SXM5 GPUs
    host = SampleHost(H100, pci=[dict(sxm5, bus_id=f"0000:{n:02x}:00.0") for n in range(8)])
    steps = role_steps(driver, host, stack={"driver": "570"})
    assert "nvidia-fabricmanager-570" in only(steps, Packages).install  # installed on the H100 sample
    assert "service nvidia-fabricmanager.service" in [s.name for s in steps]


def test_a_missing_module_of_an_r590_driver_is_rebuilt_for_the_running_kernel():
    # From R590 NVIDIA's packages drop the branch: nvidia-dkms-open, libnvidia-compute (driver guide).
    versions = {"nvidia-driver-pinning-595": "595.58.03-1", "nvidia-open": "595.58.03-1",
                "nvidia-dkms-open": "595.58.03-0ubuntu1", "libnvidia-compute": "595.58.03-0ubuntu1"}
    host = SampleHost(A10G, modules={}, packages={n: {"version": v, "held": True, "state": "installed"}
                                                  for n, v in versions.items()})
    rebuild = named(role_steps(driver, host, stack={"driver": "595"}), "build the nvidia module for the running kernel")
    assert any("nvidia-dkms-open" in c for c in rebuild.commands(host.facts))


def test_the_module_files_are_only_seen_never_read():
    """Whether a module is built is read from its file's existence; a real nvidia.ko is tens of MB."""
    request = driver.facts(settings(driver))
    assert set(driver.MODULE_FILES) <= request.present and not set(driver.MODULE_FILES) & request.files


# ---- NVIDIA's CUDA repository, CUDA, cuDNN, TensorRT ------------------------------------------

@pytest.mark.parametrize("module", [driver, cuda, cudnn, tensorrt])
def test_nvidia_roles_add_the_cuda_repository_as_deb822_signed_by_the_pinned_key(module):
    # cuda-keyring's keyring path and flat repository; the key file is named by its last 8 digits.
    steps = role_steps(module, SampleHost(A10G), nvidia_repo={"key_fingerprint": NVIDIA_KEY})
    key, source = only(steps, RepositoryKey), named(steps, "apt source cuda-ubuntu2204-x86_64")
    assert key.fingerprint == NVIDIA_KEY.replace(" ", "")
    assert key.url == "https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/3bf863cc.pub"
    assert source.content.decode() == (
        "Types: deb\nURIs: https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/\n"
        "Suites: /\nSigned-By: /usr/share/keyrings/cuda-archive-keyring.gpg\n")


def test_cuda_installs_the_toolkit_alone_and_points_usr_local_cuda_at_it():
    # NVIDIA: cuda-toolkit-X-Y is the toolkit without a driver; `cuda`, `cuda-X-Y` pull cuda-drivers.
    steps = role_steps(cuda, SampleHost(A10G), stack={"cuda": "12.4"}, cuda={"also": ["11.8"]})
    packages = only(steps, Packages)
    assert packages.install == {"cuda-toolkit-12-4": "12.4.1-1", "cuda-toolkit-11-8": None}
    drivers = ("cuda", "cuda-[0-9]*", "cuda-drivers*")
    assert not any(fnmatch.fnmatchcase(n, p) for n in packages.install for p in drivers)
    assert set(packages.hold) == set(packages.install)
    # NVIDIA's packages make /usr/local/cuda the alternative named `cuda` (see the ARM sample's link).
    (command,) = named(steps, "/usr/local/cuda -> /usr/local/cuda-12.4").commands({})
    assert "--set cuda /usr/local/cuda-12.4" in command


def test_cuda_on_a_host_with_nothing_to_resolve_asks_for_stack_cuda():
    with pytest.raises(ResolveError, match="set stack.cuda"):
        role_steps(cuda, SampleHost(ARM))


@pytest.mark.parametrize("module, request_, expected", [
    # NVIDIA's CUDA container Dockerfiles: libcudnn8=8.9.7.29-1+cuda12.2 (the CUDA build in the version)
    (cudnn, {"cudnn": "8.9.7", "cuda": "12.2"}, dict.fromkeys(["libcudnn8", "libcudnn8-dev"], "8.9.7.29-1+cuda12.2")),
    # cuDNN 9 install guide: the CUDA major in the name; 9.10.2.21 as on PyPI (nvidia-cudnn-cu12)
    (cudnn, {"cudnn": "9.10.2", "cuda": "12.4"},
     dict.fromkeys(["libcudnn9-cuda-12", "libcudnn9-dev-cuda-12", "libcudnn9-headers-cuda-12"], "9.10.2.21-1")),
    # TensorRT install guide: runtime and dev packages, every one at 10.8.0.43-1+cuda12.8
    (tensorrt, {"tensorrt": "10.8"},
     dict.fromkeys(["libnvinfer10", "libnvinfer-plugin10", "libnvonnxparsers10", "libnvinfer-dev"],
                   "10.8.0.43-1+cuda12.8")),
])
def test_libraries_pin_every_package_of_their_set_to_one_version_and_hold_them(module, request_, expected):
    packages = only(role_steps(module, SampleHost(A10G), stack=request_), Packages)
    assert expected.items() <= packages.install.items()
    assert set(packages.install.values()) == set(expected.values())
    assert sorted(packages.hold) == sorted(packages.install)


@pytest.mark.parametrize("module", [cudnn, tensorrt])
def test_a_library_with_no_cuda_to_fit_says_how_to_get_one(module):
    with pytest.raises(ResolveError, match=f"set stack.{module.NAME} or leave the {module.NAME} role out"):
        role_steps(module, SampleHost(ARM))


# ---- Docker -----------------------------------------------------------------------------------

def test_dockers_source_is_deb822_for_the_distribution_and_architecture():
    # docs.docker.com/engine/install/debian: key {url}/debian/gpg as /etc/apt/keyrings/docker.asc
    steps = role_steps(docker, SampleHost(ARM), docker_repo={"key_fingerprint": "9DC8 5822 9FC7 DD38 854A "
                                                                               "E2D8 8D81 803C 0EBF CD88"})
    key = only(steps, RepositoryKey)
    assert (key.url, key.fingerprint) == ("https://download.docker.com/linux/debian/gpg",
                                          "9DC858229FC7DD38854AE2D88D81803C0EBFCD88")
    assert named(steps, "apt source docker").content.decode() == (
        "Types: deb\nURIs: https://download.docker.com/linux/debian\nSuites: bookworm\nComponents: stable\n"
        "Architectures: arm64\nSigned-By: /etc/apt/keyrings/docker.asc\n")


def test_docker_ce_removes_the_distributions_conflicting_packages_in_the_same_transaction():
    # Docker's Ubuntu guide: uninstall docker.io docker-doc docker-compose docker-compose-v2
    # podman-docker containerd runc before installing docker-ce.
    conflicting = ["docker.io", "docker-compose-v2", "containerd", "runc"]
    host = SampleHost(A10G)
    host.facts["packages"].update({n: {"version": "1", "held": False, "state": "installed"} for n in conflicting})
    command = apt_install(only(plan(host, "docker"), Transaction), host.facts)
    assert all(f" {n}- " in f"{command} " for n in conflicting)
    assert " docker-ce " in command and " containerd.io " in command


def test_the_distributions_docker_io_replaces_docker_ce():
    host = SampleHost(H100)
    command = apt_install(only(plan(host, "docker", docker={"source": "distro"}), Transaction), host.facts)
    assert " docker.io " in f"{command} " and " docker-ce- " in f"{command} "


def test_a_docker_release_is_pinned_as_dockers_debian_version_and_held():
    # The H100 sample runs Docker's 28.0.4 for noble, recorded as 5:28.0.4-1~ubuntu.24.04~noble.
    host = SampleHost(H100)
    transaction = only(plan(host, "docker", docker={"version": "28.0.4"}), Transaction)
    command = apt_install(transaction, host.facts)
    assert "docker-ce-cli=5:28.0.4-1~ubuntu.24.04~noble" in command and "docker-ce=" not in command
    assert {"docker-ce", "docker-ce-cli"} <= transaction.hold


def test_daemon_settings_are_merged_into_the_users_daemon_json():
    host = SampleHost(ARM)
    merge_step = only(role_steps(docker, host, docker={"daemon": {"log-driver": "journald"}}), JsonMerge)
    merge_step.predict(host.facts)
    written = json.loads(host.facts["files"]["/etc/docker/daemon.json"]["content"])
    assert written == {"data-root": "/data/docker", "log-driver": "journald"}
    assert merge_step.notify == ("restart docker.service",)


# ---- the NVIDIA container toolkit -------------------------------------------------------------

def test_the_toolkit_source_is_nvidias_generic_deb_repository_for_the_architecture():
    # NVIDIA container toolkit install guide: {url}/gpgkey; deb {url}/stable/deb/$(ARCH) /
    steps = role_steps(nvidia_toolkit, SampleHost(ARM), also=["docker"],
                       container_toolkit_repo={"key_fingerprint": "ab" * 20})
    key = only(steps, RepositoryKey)
    assert (key.url, key.fingerprint) == ("https://nvidia.github.io/libnvidia-container/gpgkey", "AB" * 20)
    assert named(steps, "apt source nvidia-container-toolkit").content.decode() == (
        "Types: deb\nURIs: https://nvidia.github.io/libnvidia-container/stable/deb/arm64/\nSuites: /\n"
        "Signed-By: /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg\n")


def test_a_toolkit_release_pins_its_four_packages_as_nvidias_guide_does():
    # The guide: NVIDIA_CONTAINER_TOOLKIT_VERSION=1.17.8-1 for all four packages.
    host = SampleHost(H100)
    packages = only(role_steps(nvidia_toolkit, host, nvidia_toolkit={"version": "1.17.8"}), Packages)
    assert packages.install == dict.fromkeys(["nvidia-container-toolkit", "nvidia-container-toolkit-base",
                                              "libnvidia-container-tools", "libnvidia-container1"], "1.17.8-1")
    assert sorted(packages.hold) == sorted(packages.install)


@pytest.mark.parametrize("as_default, expected", [
    (False, {"runtimes": NVIDIA_RUNTIME}),
    (True, {"runtimes": NVIDIA_RUNTIME, "default-runtime": "nvidia"}),  # what --set-as-default adds
])
def test_the_nvidia_runtime_is_merged_into_daemon_json_and_made_default_only_when_asked(as_default, expected):
    host = SampleHost(ARM)
    steps = plan(host, "docker", "nvidia-toolkit", nvidia_toolkit={"default_runtime": as_default})
    named(steps, "nvidia runtime in daemon.json").predict(host.facts)
    assert json.loads(host.facts["files"]["/etc/docker/daemon.json"]["content"]) == {"data-root": "/data/docker",
                                                                                      **expected}
    assert [s.name for s in steps if isinstance(s, Handler)] == ["restart docker.service"]  # Docker restarts once


def test_containerd_gets_the_runtime_through_nvidia_ctk():
    steps = role_steps(nvidia_toolkit, SampleHost(H100), nvidia_toolkit={"runtimes": ["containerd"],
                                                                         "default_runtime": True})
    assert named(steps, "nvidia runtime in containerd's config.toml").commands({}) == [
        "nvidia-ctk runtime configure --runtime=containerd --set-as-default"]
    assert "restart containerd.service" in [s.name for s in steps]


def test_a_cdi_spec_is_generated_only_where_there_is_a_gpu():
    generate = "nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml"  # NVIDIA's CDI support docs
    gpu, no_gpu = SampleHost(H100), SampleHost(ARM, packages={"docker.io": {"version": "20.10.24+dfsg1-1+b3"}})
    assert named(role_steps(nvidia_toolkit, gpu), "CDI spec /etc/cdi/nvidia.yaml").commands(gpu.facts) == [generate]
    assert not [s for s in role_steps(nvidia_toolkit, no_gpu) if s.name.startswith("CDI spec")]


def test_the_docker_runtime_without_docker_is_refused_before_any_command():
    with pytest.raises(InventoryError, match="has no Docker and the docker role is not in this converge"):
        plan(SampleHost(A10G), "nvidia-toolkit")
    assert plan(SampleHost(H100), "nvidia-toolkit")  # Docker CE is installed there


def test_after_its_predicted_run_the_cdi_spec_is_current():
    host = SampleHost(H100)
    spec = named(role_steps(nvidia_toolkit, host), "CDI spec /etc/cdi/nvidia.yaml")
    spec.predict(host.facts)
    assert spec.commands(host.facts) == []


# ---- a second plan changes nothing ------------------------------------------------------------

@pytest.mark.parametrize("sample, roles, overrides", [
    (H100, ["driver"], {"stack": {"driver": "570"}}),
    (A10G, ["driver"], {}),
    (A10G, ["cuda"], {}),
    (A10G, ["cudnn"], {}),
    (A10G, ["tensorrt"], {}),
    (A10G, ["docker"], {"docker": {"users": ["ubuntu"], "daemon": {"log-driver": "journald"}}}),
    (ARM, ["docker"], {"docker": {"version": "28.0.4"}}),
    (ARM, ["docker", "nvidia-toolkit"], {}),
])
def test_after_the_plans_predicted_effects_no_step_has_anything_left_to_do(sample, roles, overrides):
    host = SampleHost(sample)
    steps = plan(host, *roles, **overrides)
    predict_plan(host, steps)
    assert [s.name for s in steps if not isinstance(s, Handler) and s.commands(host.facts)] == []  # handlers run when notified


def test_a_key_the_plan_installs_counts_as_installed_later_in_the_plan():
    host = SampleHost(A10G)
    key = only(role_steps(cuda, host), RepositoryKey)
    key.predict(host.facts)
    assert key.commands(host.facts) == []


# ---- bad settings -----------------------------------------------------------------------------

@pytest.mark.parametrize("module, overrides, message", [
    (driver, {"driver": {"source": "runfile"}}, "driver.source must be one of nvidia, ubuntu"),
    (driver, {"nvidia_repo": {"key_fingerprint": "3BF863CC"}}, "must be the 40-digit fingerprint"),
    (cuda, {"cuda": {"also": ["12.4 && reboot"]}}, "cuda.also entries are toolkit versions like '12.4'"),
    (cuda, {"nvidia_repo": {"url": "https://mirror/$(reboot)"}}, "is not an http(s) or file URL"),
    (cudnn, {"stack": {"cudnn": "9; reboot"}}, "is neither a version nor a specifier"),
    (docker, {"docker": {"source": "snap"}}, "docker.source must be one of docker, distro"),
    (docker, {"docker": {"version": "28.0.4; reboot"}}, "is not a valid Debian package name/version"),
    (docker, {"docker": {"users": ["bob; reboot"]}}, "is not a valid user or group name"),
    (nvidia_toolkit, {"nvidia_toolkit": {"version": "1.17"}}, "is a release like '1.18.0'"),
    (nvidia_toolkit, {"nvidia_toolkit": {"runtimes": ["podman"]}}, "may list docker, containerd, not 'podman'"),
])
def test_a_bad_setting_is_refused_with_the_reason_before_any_command(module, overrides, message):
    with pytest.raises(GpuhostError, match=re.escape(message)):
        role_steps(module, SampleHost(A10G), also=["docker"], **overrides)


@pytest.mark.parametrize("kernel, installed, flavour", [
    # Ubuntu 22.04 with both the GA and the HWE metapackages: the one whose version names the running kernel
    ("5.15.0-125-generic", {"linux-image-generic": "5.15.0.125.123", "linux-image-generic-hwe-22.04": "6.8.0.49.49~22.04.1"},
     "generic"),
    ("6.8.0-49-generic", {"linux-image-generic": "5.15.0.125.123", "linux-image-generic-hwe-22.04": "6.8.0.49.49~22.04.1"},
     "generic-hwe-22.04"),
    ("6.8.0-1015-gcp", {"linux-image-gcp": "6.8.0.1015.15"}, "gcp"),
    ("6.8.0-49-generic-64k", {"linux-image-generic-64k-hwe-24.04": "6.8.0.49.49"}, "generic-64k-hwe-24.04"),
    ("6.1.0-40-cloud-amd64", {}, "cloud-amd64"),  # no Ubuntu metapackage: the release's suffix
])
def test_the_kernel_flavour_comes_from_the_metapackage_of_the_running_kernel(kernel, installed, flavour):
    from gpuhost.resolution import kernel_flavour

    packages = {n: {"version": v, "held": False, "state": "installed"} for n, v in installed.items()}
    assert kernel_flavour({"kernel": kernel, "packages": packages}) == flavour
