"""Canonical's driver (`driver.source: ubuntu`) on Ubuntu 24.04 test hosts, against the fixture
archive: a branch Canonical retired into another is refused before apt installs the other branch
under its name, and a kernel update that Ubuntu's own unattended-upgrade installs brings the
signed module for the new kernel, past everything gpuhost holds.
"""

import functools

import pytest

from tests.integration import converging
from tests.integration.converging import root, steps
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
converge = functools.partial(converging.converge, roles=["driver"], driver={"source": "ubuntu"})
RETIRED = "tb78"   # asks for 575, which the fixture archive retired into 580 (illustrative pair)
UPDATED = "tb79"   # gets a kernel update from the security pocket, with Secure Boot on
KERNEL, NEWER = "6.8.0-1015-gcp", "6.8.0-1016-gcp"  # the ubuntu-24.04 profile's kernel and its successor
# Installed packages (the status letter, held or not), as dpkg-query abbreviates them.
DRIVER_PACKAGES = "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' | awk 'substr($1, 2, 1) == \"i\" && $2 ~ /nvidia/ {print $2}'"
INSTALLED = ("dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Version}\\n' 'linux-image-*' 'linux-modules-nvidia-*' "
             "| awk 'substr($1, 2, 1) == \"i\" {print $2, $3}'")
# Ubuntu's stock /etc/apt/apt.conf.d/50unattended-upgrades (unattended-upgrades'
# data/50unattended-upgrades.Ubuntu): the release and security pockets, and ESM where it exists.
UBUNTU_UNATTENDED = """Unattended-Upgrade::Allowed-Origins {
        "${distro_id}:${distro_codename}";
        "${distro_id}:${distro_codename}-security";
        "${distro_id}ESM:${distro_codename}";
};
Unattended-Upgrade::Package-Blacklist {
};
"""
# The security pocket as a stock 24.04 lists it beside the release pocket (ubuntu.sources), here on
# the fixture archive with the same key: the host's own stanza with another suite.
SECURITY_POCKET = ("sed 's/^Suites: noble$/Suites: noble-security/' /etc/apt/sources.list.d/ubuntu.sources "
                   "> /etc/apt/sources.list.d/ubuntu-security.sources")


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(
        HostSpec(RETIRED, os="ubuntu-24.04"),
        HostSpec(UPDATED, os="ubuntu-24.04", options=("secure_boot", "unattended_upgrades")),
    )


def run(testbed, name, command):
    result = root(testbed, name, command)
    assert result.ok, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_a_branch_canonical_retired_is_refused_before_apt_installs_another_under_its_name(testbed, hosts):
    sentence = ("nvidia-headless-no-dkms-575-server-open in Ubuntu's archive is a transitional package of branch 580, "
                "not 575 (its version 580.95.05-0ubuntu0.24.04.1 is a 580 release), so apt would install R580 under "
                "R575's name: set stack.driver=580 to install that branch, or choose another branch.")
    # The host has never read the archive's lists: only the transaction's own update shows the candidates.
    first = converge(testbed, RETIRED, stack={"driver": 575})
    assert (first.status, first.error) == ("failed", sentence)
    assert [s["name"] for s in steps(first) if s.get("failed")] == ["apt transaction"]
    assert run(testbed, RETIRED, DRIVER_PACKAGES) == ""
    # With the lists read, a plan and a converge refuse from them before any step, in one extra read.
    for check in (True, False):
        again = converge(testbed, RETIRED, check=check, stack={"driver": 575})
        assert (again.status, again.error, again.changed, again.remote_commands) == ("failed", sentence, 0, 2)
    assert run(testbed, RETIRED, DRIVER_PACKAGES) == ""
    # What the sentence says to do works: R580 under its own name.
    fixed = converge(testbed, RETIRED, stack={"driver": 580})
    assert fixed.status == "changed" and fixed.rebooted, fixed.error
    assert fixed.facts["modules"]["nvidia"]["version"] == "580.95.05"
    assert all("-580-" in name for name in run(testbed, RETIRED, DRIVER_PACKAGES).split())


def test_an_automatic_kernel_update_brings_the_signed_module_for_the_new_kernel(testbed, hosts):
    # A stock image has its kernel's metapackage, which is what a kernel update moves.
    run(testbed, UPDATED, "apt-get update -q && apt-get install -y -q linux-image-gcp")
    first = converge(testbed, UPDATED, stack={"driver": 570})
    assert first.status == "changed" and first.rebooted, first.error
    assert (first.facts["kernel"], first.facts["modules"]["nvidia"]["version"]) == (KERNEL, "570.172.08")
    kept = "apt-mark showhold; sha256sum /etc/modprobe.d/gpuhost-blacklist-nouveau.conf"
    before = run(testbed, UPDATED, kept)
    assert "nvidia-utils-570-server" in before

    # The security pocket publishes the next kernel; Ubuntu's unattended-upgrade, as apt's daily
    # upgrade job runs it, installs it.
    run(testbed, UPDATED, f"{SECURITY_POCKET} && printf '%s' '{UBUNTU_UNATTENDED}' > "
                          "/etc/apt/apt.conf.d/50unattended-upgrades && apt-get update -q && unattended-upgrade -v")
    installed = dict(line.split() for line in run(testbed, UPDATED, INSTALLED).splitlines())
    assert installed == {"linux-image-gcp": "6.8.0.1016.1", f"linux-image-{KERNEL}": "6.8.0-1015.1",
                         f"linux-image-{NEWER}": "6.8.0-1016.1",
                         "linux-modules-nvidia-570-server-open-gcp": "6.8.0.1016.1+570.172.08",
                         f"linux-modules-nvidia-570-server-open-{KERNEL}": "6.8.0-1015.1+570.172.08",
                         f"linux-modules-nvidia-570-server-open-{NEWER}": "6.8.0-1016.1+570.172.08"}
    log = run(testbed, UPDATED, "cat /var/log/unattended-upgrades/unattended-upgrades.log")
    assert "Packages that will be upgraded: linux-image-gcp linux-modules-nvidia-570-server-open-gcp" in log
    assert run(testbed, UPDATED, kept) == before  # gpuhost's holds and nouveau blacklist stay

    testbed.reboot(UPDATED)
    loaded = run(testbed, UPDATED, "cat /proc/sys/kernel/osrelease /sys/module/nvidia/version").split()
    assert loaded == [NEWER, "570.172.08"]
    checks = converging.verify(testbed, UPDATED, ["driver"], "driver.source=ubuntu", "stack.driver=570")
    assert checks.returncode == 0, checks.stdout[-3000:]
    again = converge(testbed, UPDATED, stack={"driver": 570})
    assert again.changed == 0, again.error
