"""Debian's own driver (`driver.source: debian`) as data: the resolver's narrowing and refusals, the
Maintainer that tells Debian's packages from NVIDIA's, the host's apt sources, and the role's steps.

What Debian ships is read from Debian's archive (gpuhost/data/debian_driver.yaml says when and how);
the values expected here are Debian's own, quoted where they come from, never gpuhost's output. The
Debian 12 host is the recorded arm64 sample presented as an amd64 machine with a Tesla T4.
"""

import json
import subprocess

import pytest

from gpuhost import resolver
from gpuhost.errors import ResolveError
from gpuhost.ops.apt import Packages, RepositoryKey, first_error
from gpuhost.roles import driver
from gpuhost.roles.driver import apt_sources, installed, maintainers
from gpuhost.steps import Check
from tests.integration.converging import GPUHOST
from tests.unit.test_role_steps import ARM, SampleHost, named, role_steps

# Debian's bookworm packages (apt-cache show, deb.debian.org, 2026-11-30)
DEBIAN_12 = ["firmware-nvidia-gsp", "libcuda1", "nvidia-smi", "nvidia-kernel-dkms"]
# `dpkg-query -W -f='${Package}\t${Maintainer}\n' …` on a Debian 12 test host with Debian's driver installed
DEBIAN_MAINTAINERS = ("firmware-nvidia-gsp\tDebian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>\n"
                      "libcuda1\tDebian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>\n"
                      "nvidia-kernel-dkms\tDebian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>\n"
                      "nvidia-smi\tDebian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>\n"
                      "nvidia-tesla-418-kernel-dkms\t\n")
# The Maintainer NVIDIA's CUDA repository packages carry (their control data, e.g. cuda-toolkit 13.1.1-1)
NVIDIA_MAINTAINERS = "libcuda1\tcudatools <cudatools@nvidia.com>\nnvidia-kernel-dkms\tcudatools <cudatools@nvidia.com>\n"
T4 = {"bus_id": "0000:00:04.0", "vendor": "10de", "device": "1eb8", "class": "0302", "subsystem": "10de:12a2"}
# apt 2.6 on bookworm with contrib non-free non-free-firmware: `apt-get install nvidia-open-kernel-dkms
# firmware-nvidia-gsp libcuda1 nvidia-smi …` while bookworm-security carries firmware-nvidia-gsp 535.309.01
OPEN_REFUSED = """\
Some packages could not be installed. This may mean that you have
requested an impossible situation or if you are using the unstable
distribution that some required packages have not yet been created
or been moved out of Incoming.
The following information may help to resolve the situation:

The following packages have unmet dependencies:
 nvidia-open-kernel-dkms : Depends: firmware-nvidia-gsp (= 535.261.03) or
                                    firmware-nvidia-gsp-535.261.03
                           Depends: nvidia-open-kernel-support--v1
E: Unable to correct problems, you have held broken packages.
"""


def sources(one_line="", deb822=""):
    files = {"/etc/apt/sources.list": one_line, "/etc/apt/sources.list.d/debian.sources": deb822}
    return {path: {"path": path, "content": text} for path, text in files.items() if text}


NON_FREE = sources("deb http://deb.debian.org/debian bookworm main contrib non-free non-free-firmware\n")


def debian_host(**facts):
    """Debian 12 on amd64 with a Tesla T4, its sources enabling the components Debian's driver needs."""
    base = {"arch": "x86_64", "deb_arch": "amd64", "kernel": "6.1.0-57-cloud-amd64", "pci": [T4], "files": NON_FREE}
    return SampleHost(ARM, **{**base, **facts})


def debian_steps(host, **driver_settings):
    return role_steps(driver, host, driver={"source": "debian", **driver_settings})


def installed_packages(versions):
    return {n: {"version": v, "held": True, "state": "installed"} for n, v in versions.items()}


# ---- the resolver -----------------------------------------------------------------------------

def test_debian_12_narrows_the_whole_stack_to_its_branch_535_and_cuda_12_2():
    stack = resolver.resolve(["T4"], "debian", "12", source="debian")
    assert (stack.driver.branch, stack.driver.flavor, str(stack.cuda.minor)) == (535, "proprietary", "12.2")
    assert stack.packages["driver_debian"] == DEBIAN_12
    said = " ".join(text for topic, text in stack.reasons if topic == "driver")
    assert "Debian 12's own driver: branch 535" in said and "you asked for it" not in said


def test_the_open_flavour_takes_debians_open_module_and_says_its_version_lags():
    stack = resolver.resolve(["T4"], "debian", "12", request={"flavor": "open"}, source="debian")
    assert stack.packages["driver_debian"][-1] == "nvidia-open-kernel-dkms"
    assert any("nvidia-open-kernel-dkms was 535.261.03-1" in text for _, text in stack.reasons)


@pytest.mark.parametrize("gpus, os_id, version, request_, message", [
    (["T4"], "ubuntu", "22.04", {}, "driver.source=debian installs Debian's own driver packages, and this host runs "
                                    "Ubuntu 22.04"),
    (["T4"], "debian", "11", {}, "gpuhost knows Debian's own NVIDIA driver for Debian 12, not Debian 11"),
    (["RTX 5090"], "debian", "12", {}, "does not drive the GeForce RTX 5090 (Blackwell, sm_120), which needs branch 570"),
    (["Tesla K80"], "debian", "12", {}, "does not drive the Tesla K80 (Kepler, sm_37), whose last driver branch is 470"),
    (["T4"], "debian", "12", {"cuda": "12.4"}, "runs CUDA up to 12.2, and stack.cuda asks for 12.4"),
    (["T4"], "debian", "12", {"driver": "580"}, "ships NVIDIA driver branch 535 alone, and stack.driver asks for 580"),
])
def test_what_debians_driver_cannot_serve_is_refused_in_one_sentence(gpus, os_id, version, request_, message):
    with pytest.raises(ResolveError, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        resolver.resolve(gpus, os_id, version, request=request_, source="debian")
    assert ". " not in str(refused.value) and str(refused.value).endswith(".")  # one sentence


def test_nvswitches_are_refused_since_debian_packages_no_fabric_manager():
    with pytest.raises(ResolveError, match="NVIDIA Fabric Manager, which Debian 12 does not package"):
        resolver.resolve(["H100"] * 8, "debian", "12", source="debian", nvswitches=4)


def test_a_cuda_range_is_narrowed_to_the_branch_and_a_host_without_gpu_is_not_narrowed():
    assert str(resolver.resolve(["T4"], "debian", "12", request={"cuda": ">=12"}, source="debian").cuda.minor) == "12.2"
    assert resolver.resolve([], "debian", "12", source="debian").driver is None


def test_an_unknown_source_is_refused():
    with pytest.raises(ResolveError, match="must be one of nvidia, ubuntu, debian, not 'runfile'"):
        resolver.resolve(["T4"], "debian", "12", source="runfile")


def test_gpuhost_resolve_takes_the_source():
    shown = subprocess.run([GPUHOST, "resolve", "--gpu", "T4", "--os", "debian-12", "--source", "debian", "--json"],
                           capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["packages"]["driver_debian"] == DEBIAN_12
    refused = subprocess.run([GPUHOST, "resolve", "--gpu", "T4", "--os", "debian-12", "--source", "debian", "--cuda", "13.0"],
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "runs CUDA up to 12.2, and stack.cuda asks for 13.0" in refused.stderr


# ---- telling Debian's packages from NVIDIA's --------------------------------------------------

@pytest.mark.parametrize("output, expected", [
    (DEBIAN_MAINTAINERS, "debian"),
    (NVIDIA_MAINTAINERS, "nvidia"),
    (DEBIAN_MAINTAINERS.replace("nvidia-smi\tDebian NVIDIA Maintainers <pkg-nvidia-devel@lists.alioth.debian.org>",
                                "nvidia-smi\tcudatools <cudatools@nvidia.com>"), "nvidia"),  # mixed: NVIDIA's repository is in
    ("", None),
])
def test_the_maintainer_dpkg_keeps_names_the_source(output, expected):
    facts = {"probes": {maintainers.PROBE: {"rc": 0, "output": output}}}
    assert maintainers.source(facts, DEBIAN_12) == expected


def test_the_maintainer_is_read_as_its_address():
    assert maintainers.parse(DEBIAN_MAINTAINERS) == {n: "pkg-nvidia-devel@lists.alioth.debian.org" for n in DEBIAN_12}


def test_debians_open_driver_is_recognised_with_its_source():
    # Debian bookworm's open flavour: nvidia-open-kernel-dkms 535.261.03-1 with the 535.261.03-1 driver
    versions = {"libcuda1": "535.261.03-1", "nvidia-open-kernel-dkms": "535.261.03-1", "nvidia-smi": "535.261.03-1",
                "firmware-nvidia-gsp": "535.261.03-1"}
    output = DEBIAN_MAINTAINERS.replace("nvidia-kernel-dkms", "nvidia-open-kernel-dkms")
    facts = {"packages": installed_packages(versions), "probes": {maintainers.PROBE: {"output": output}}}
    current = installed.describe(facts)
    assert (current["version"], current["branch"], current["flavor"], current["source"]) == ("535.261.03", 535, "open", "debian")
    assert installed.module_package(facts) == "nvidia-open-kernel-dkms"
    assert installed.module_built({"kernel": "6.1.0-57-cloud-amd64", "files": {
        "/lib/modules/6.1.0-57-cloud-amd64/updates/dkms/nvidia-current-open.ko": {}}})


def test_a_debian_driver_met_by_another_source_is_named_as_debians():
    versions = {n: "535.309.01-0+deb12u1" for n in DEBIAN_12}
    host = debian_host(packages=installed_packages(versions), probes={maintainers.PROBE: {"output": DEBIAN_MAINTAINERS}})
    problem = named(role_steps(driver, host), "driver fits the host").problem(host.facts)
    assert "has NVIDIA driver 535.309.01 (proprietary) from Debian's archive" in problem
    assert named(debian_steps(host), "driver fits the host").problem(host.facts) is None


# ---- the host's apt sources -------------------------------------------------------------------

@pytest.mark.parametrize("files, expected", [
    # Debian 12's installer writes one-line entries with main only
    (sources("deb http://deb.debian.org/debian bookworm main\n"
             "deb http://security.debian.org/debian-security bookworm-security main\n"),
     {"bookworm": {"main"}, "bookworm-security": {"main"}}),
    (sources("# deb http://deb.debian.org/debian bookworm main non-free\n"
             "deb-src http://deb.debian.org/debian bookworm main non-free\n"
             "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian "
             "bookworm main contrib # the rest\n"), {"bookworm": {"main", "contrib"}}),
    (sources(deb822="Types: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
                    "Components: main non-free-firmware\n# a comment\n  non-free\n"
                    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                    "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: contrib\nEnabled: no\n"),
     {"bookworm": {"main", "non-free-firmware", "non-free"}, "bookworm-updates": {"main", "non-free-firmware", "non-free"}}),
])
def test_the_components_each_suite_enables_are_read_from_both_formats(files, expected):
    assert apt_sources.enabled({"files": files}) == expected


def test_sources_without_non_free_are_refused_before_any_change():
    host = debian_host(files=sources("deb http://deb.debian.org/debian bookworm main\n"))
    check = named(debian_steps(host, persistence=False), "Debian's archive serves the driver")
    assert isinstance(check, Check)
    assert check.problem(host.facts) == (
        "debian-12-interrupted's apt sources do not enable non-free and non-free-firmware for bookworm, where Debian's "
        "firmware-nvidia-gsp, libcuda1, nvidia-smi, nvidia-kernel-dkms come from: add non-free non-free-firmware to the "
        "bookworm entries of /etc/apt/sources.list (or to Components: in /etc/apt/sources.list.d/debian.sources), "
        "or use driver.source=nvidia.")


def test_the_persistence_daemon_needs_contrib_and_non_free_for_another_suite_does_not_count():
    host = debian_host(files=sources("deb http://deb.debian.org/debian bookworm main non-free non-free-firmware\n"
                                     "deb http://deb.debian.org/debian trixie main contrib\n"))
    problem = named(debian_steps(host), "Debian's archive serves the driver").problem(host.facts)
    assert problem.startswith("debian-12-interrupted's apt sources do not enable contrib for bookworm, where "
                              "Debian's nvidia-persistenced come from")
    assert named(debian_steps(host, persistence=False), "Debian's archive serves the driver").problem(host.facts) is None


# ---- the role's steps -------------------------------------------------------------------------

def test_debians_packages_are_installed_with_the_running_kernels_headers_pinned_by_origin_and_held():
    host = debian_host()
    steps = debian_steps(host)
    assert not any(isinstance(s, RepositoryKey) for s in steps)  # no NVIDIA repository for Debian's driver
    packages = named(steps, "driver packages " + " ".join(DEBIAN_12 + ["nvidia-persistenced"]))
    assert set(packages.install) == {*DEBIAN_12, "nvidia-persistenced", "linux-headers-6.1.0-57-cloud-amd64"}
    assert set(packages.hold) == {*DEBIAN_12, "nvidia-persistenced"}
    pin = named(steps, "apt pin gpuhost-nvidia-driver").content.decode()
    assert pin.endswith("\nPin: release o=Debian\nPin-Priority: 1001\n")
    assert {"libcuda*", "firmware-nvidia-*", "nvidia-*", "glx-alternative-*", "update-glx"} <= set(pin.split())
    assert "build the nvidia module for the running kernel" in [s.name for s in steps]


def test_without_persistence_the_daemon_is_not_installed():
    packages = [s for s in debian_steps(debian_host(), persistence=False) if isinstance(s, Packages)]
    assert [set(p.install) for p in packages] == [{*DEBIAN_12, "linux-headers-6.1.0-57-cloud-amd64"}]


def test_secure_boot_refuses_debians_unsigned_dkms_module():
    host = debian_host(secure_boot={"efi": True, "enabled": True})
    assert "Secure Boot is on" in named(debian_steps(host), "driver fits the host").problem(host.facts)


def test_the_facts_round_trip_asks_for_the_maintainers_always_and_the_sources_for_debian_only():
    settings = {"driver": {"source": "nvidia"}}
    assert maintainers.PROBE in driver.facts(settings).probes
    assert "/etc/apt/sources.list" not in driver.facts(settings).files
    assert set(apt_sources.request().files) <= driver.facts({"driver": {"source": "debian"}}).files


def test_an_ubuntu_host_asking_for_debians_driver_is_refused_before_any_step():
    host = SampleHost("ubuntu-22.04-aws-a10g")
    with pytest.raises(ResolveError, match="this host runs Ubuntu 22.04"):
        debian_steps(host)


def test_apts_refusal_of_the_open_flavour_is_one_sentence_with_the_unmet_dependency():
    assert first_error(OPEN_REFUSED) == (
        "nvidia-open-kernel-dkms : Depends: firmware-nvidia-gsp (= 535.261.03) or firmware-nvidia-gsp-535.261.03 "
        "(Unable to correct problems, you have held broken packages).")
