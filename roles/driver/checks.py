"""Checks of the driver role: what converge promised, read back from the host."""

import re

import pytest

from gpuhost.roles import _checks
from gpuhost.roles.driver import FOLLOWS_THE_KERNEL, archive, installed, maintainers


def _wanted(stack, settings):
    source = settings["driver"]["source"]
    if source == "debian":
        return archive.packages(stack, settings["driver"])
    return stack.packages["driver"] if source == "nvidia" else stack.packages["driver_ubuntu"]


def test_driver_packages_are_installed_and_held(host, gpuhost_stack, gpuhost_settings):
    if gpuhost_stack.driver is None:
        pytest.skip(f"{host} has no NVIDIA GPU: the driver role installs nothing")
    wanted = _wanted(gpuhost_stack, gpuhost_settings)
    _checks.assert_held_at(host, {name: None for name in wanted if not name.startswith(FOLLOWS_THE_KERNEL)})
    for name in wanted:
        if name.startswith(FOLLOWS_THE_KERNEL):  # follows the kernel: installed, never held
            assert host.package(name).is_installed and "hold" not in host.check_output(
                "dpkg-query -W -f='${Status}' %s", name), f"{name} is held: a kernel update would leave it behind"


def test_repository_and_key_are_pinned(host, gpuhost_stack, gpuhost_settings):
    if gpuhost_stack.driver is None or gpuhost_settings["driver"]["source"] != "nvidia":
        pytest.skip("the driver does not come from NVIDIA's repository here")
    _checks.assert_nvidia_repository(host, gpuhost_settings, gpuhost_stack)


def test_debians_driver_is_debians_own_and_pinned_to_its_archive(host, gpuhost_stack, gpuhost_settings):
    if gpuhost_stack.driver is None or gpuhost_settings["driver"]["source"] != "debian":
        pytest.skip("the driver does not come from Debian's archive here")
    wanted = archive.packages(gpuhost_stack, gpuhost_settings["driver"])
    probe = maintainers.request().probes[maintainers.PROBE]
    found = {maintainers.PROBE: {"output": host.check_output(probe)}}
    assert maintainers.source({"probes": found}, wanted) == "debian", f"{wanted} are not all Debian's: {found}"
    policy = host.check_output("apt-cache policy libcuda1")
    assert re.search(r"^ \*\*\* \S+ 1001$", policy, re.M), f"the installed libcuda1 is not the pinned one:\n{policy}"


def test_nouveau_is_not_loaded(host):
    assert not host.file("/sys/module/nouveau").exists


def test_loaded_module_matches_the_installed_driver(host, gpuhost_stack, gpuhost_facts):
    if gpuhost_stack.driver is None:
        pytest.skip(f"{host} has no NVIDIA GPU")
    loaded = (gpuhost_facts.get("modules", {}).get("nvidia") or {}).get("version")
    userspace = installed.userspace_version(gpuhost_facts)
    assert loaded, "the nvidia module is not loaded"
    assert loaded == userspace, f"module {loaded} differs from userspace {userspace}"
    assert loaded.startswith(f"{gpuhost_stack.driver.branch}."), f"module {loaded} is not branch {gpuhost_stack.driver.branch}"


@pytest.mark.gpu
def test_nvidia_smi_lists_every_gpu_in_pci(host, gpuhost_facts, gpuhost_stack):
    listed = host.check_output("nvidia-smi --query-gpu=pci.bus_id,driver_version --format=csv,noheader")
    rows = [line.split(", ") for line in listed.splitlines() if line.strip()]
    buses = {bus.lower()[-12:] for bus, _ in rows}
    assert buses == {gpu["bus_id"].lower()[-12:] for gpu in gpuhost_facts["pci"]}
    assert all(version.startswith(f"{gpuhost_stack.driver.branch}.") for _, version in rows)


@pytest.mark.gpu
def test_persistence_mode_is_on(host):
    modes = host.check_output("nvidia-smi --query-gpu=persistence_mode --format=csv,noheader").split()
    assert modes and all(mode == "Enabled" for mode in modes)
