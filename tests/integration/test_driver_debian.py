"""Debian's own driver (`driver.source: debian`) from Debian's real archive, on test hosts.

tb76 installs Debian 12's packages through the testbed's apt-cacher-ng from deb.debian.org, with
NVIDIA's debian12 repository (the mirror's) configured beside it, as on a host that takes CUDA from
NVIDIA: DKMS builds the real module against the real headers of a kernel Debian's archive has today
(host option `archive_kernel`), the simulated boot loads it (its version read by the host's own
modinfo), verify passes while the real nvidia-smi says it cannot reach the driver (a test host has
no device), and the second converge changes nothing. tb77 shows the refusals: sources without
non-free, then apt's own refusal of Debian's open flavour. Slow: the DKMS build takes minutes.
"""

import functools
import re

import pytest

from tests.conftest import testbed_unavailable as unavailable
from tests.integration import converging
from tests.testbed import inventory
from tests.testbed.specs import HostSpec
from tests.testbed.testbed import Testbed

pytestmark = [pytest.mark.testbed, pytest.mark.slow]
# The real nvidia-persistenced exits without /dev/nvidia*, which no test host has (the `gpu` checks' reason).
DEBIAN = {"source": "debian", "persistence": False}
converge = functools.partial(converging.converge, roles=["driver"], driver=DEBIAN)
root = converging.root
NON_FREE = "sed -i 's/ main$/ main contrib non-free non-free-firmware/' /etc/apt/sources.list && apt-get update -q"
NO_DEVICE = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."


@pytest.fixture(scope="module")
def testbed():
    """Only this module's own hosts (fresh_hosts builds them): it needs none of the session's."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    return Testbed()


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(HostSpec("tb76", options=("archive_kernel",)), HostSpec("tb77", options=("archive_kernel",)))


def candidate(bed, name, package):
    policy = root(bed, name, f"apt-cache policy {package}").stdout
    return re.search(r"Candidate: (\S+)", policy).group(1)


def add_nvidia_repository(bed, name):
    """NVIDIA's debian12 CUDA repository (the mirror's), whose libcuda1, nvidia-kernel-dkms and
    firmware-nvidia-gsp carry Debian's names at higher versions; returns its address."""
    repo = inventory.repo_settings()["nvidia_repo"]
    base = f"{repo['url']}/debian12/x86_64/"
    keyring = "/usr/share/keyrings/cuda-archive-keyring.asc"
    source = f"Types: deb\\nURIs: {base}\\nSuites: /\\nSigned-By: {keyring}\\n"
    added = root(bed, name, f"curl -fsS {base}{repo['key_fingerprint'][-8:].lower()}.pub -o {keyring} && "
                            f"printf '{source}' > /etc/apt/sources.list.d/cuda-debian12-x86_64.sources && apt-get update -q")
    assert added.ok, added.stderr
    return base


def test_a_host_whose_sources_lack_non_free_is_refused_before_any_change(testbed, hosts):
    refused = converge(testbed, "tb77")
    assert (refused.status, refused.changed) == ("failed", 0)
    assert refused.error.startswith("tb77's apt sources do not enable non-free and non-free-firmware for bookworm, "
                                    "where Debian's firmware-nvidia-gsp, libcuda1, nvidia-smi, nvidia-kernel-dkms come from")
    assert not root(testbed, "tb77", "dpkg-query -W libcuda1").ok
    assert not root(testbed, "tb77", "test -e /etc/apt/preferences.d/gpuhost-nvidia-driver").ok


def test_debians_open_flavour_is_refused_by_apt_in_one_sentence(testbed, hosts):
    assert root(testbed, "tb77", NON_FREE).ok
    module, firmware = (candidate(testbed, "tb77", p) for p in ("nvidia-open-kernel-dkms", "firmware-nvidia-gsp"))
    assert module.split("-")[0] != firmware.split("-")[0], (
        f"Debian's archive now has nvidia-open-kernel-dkms {module} beside firmware-nvidia-gsp {firmware}: "
        "converge the open flavour here instead of expecting apt's refusal")
    refused = converge(testbed, "tb77", stack={"flavor": "open"})
    assert refused.status == "failed"
    assert refused.error == (f"apt on tb77 refused the transaction: nvidia-open-kernel-dkms : Depends: firmware-nvidia-gsp "
                             f"(= {module.split('-')[0]}) or firmware-nvidia-gsp-{module.split('-')[0]} "
                             "(Unable to correct problems, you have held broken packages).")
    assert not root(testbed, "tb77", "dpkg-query -W libcuda1").ok


def test_debians_driver_builds_loads_verifies_and_then_changes_nothing(testbed, hosts):
    assert root(testbed, "tb76", NON_FREE).ok
    nvidia = add_nvidia_repository(testbed, "tb76")
    kernel = root(testbed, "tb76", "cat /proc/sys/kernel/osrelease").stdout.strip()
    assert kernel != HostSpec("tb76").profile.kernel, "archive_kernel left the profile's kernel running"
    plan = converge(testbed, "tb76", check=True)
    first = converge(testbed, "tb76")
    assert (first.status, first.rebooted) == ("changed", True), first.error
    assert converging.changed_commands(first) == converging.changed_commands(plan)
    installed = root(testbed, "tb76", "dpkg-query -W -f='${Version}' libcuda1").stdout
    offered = re.findall(r"^ *libcuda1 \| (\S+) \| (\S+)", root(testbed, "tb76", "apt-cache madison libcuda1").stdout, re.M)
    from_nvidia = [version for version, url in offered if url.startswith(nvidia.rstrip("/"))]
    assert max(int(v.split(".")[0]) for v in from_nvidia) > int(installed.split(".")[0]), offered
    assert installed in [version for version, url in offered if "deb.debian.org" in url]
    built = f"/lib/modules/{kernel}/updates/dkms/nvidia-current.ko"
    assert root(testbed, "tb76", f"modinfo -F version {built}").stdout.strip() == installed.split("-")[0]
    assert root(testbed, "tb76", "cat /sys/module/nvidia/version").stdout.strip() == installed.split("-")[0]
    smi = root(testbed, "tb76", "nvidia-smi")
    assert (smi.exited, smi.stdout.startswith(NO_DEVICE)) == (9, True), smi.stdout
    second = converge(testbed, "tb76")
    assert (second.status, second.changed, second.remote_commands) == ("ok", 0, 1), second.error
    checks = converging.verify(testbed, "tb76", ["driver"], "driver.source=debian", "driver.persistence=false")
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert re.search(r"^\d+ passed, \d+ skipped in ", checks.stdout, re.M), checks.stdout[-3000:]
    assert f"(exit 9): {NO_DEVICE}" in checks.stdout
