"""Canonical's retired branches read from `apt-cache show` records: a package named for one branch
whose candidate installs another is refused, in a plan (the facts' probe) and after the apt
transaction's update (its vet), before anything is installed."""

import json
import os
from pathlib import Path

import pytest
from invoke import Context

from gpuhost import registry, runner
from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.host import Host
from gpuhost.ops import apt
from gpuhost.roles import driver
from gpuhost.roles.driver import transitional
from gpuhost.settings import merge


def a10g(**facts):
    """An A10G on Ubuntu 22.04 (kernel 6.5.0-1017-aws) with no driver yet, as its facts read (unit samples)."""
    return {**json.loads((Path(__file__).parent / "facts_samples/ubuntu-22.04-aws-a10g.json").read_text()), **facts}

# Ubuntu 22.04, jammy-security: the record `apt show nvidia-dkms-530` printed (quoted on Ubuntu Forums,
# "Difficulty installing recommended Nvidia Driver Upgrade - Messy Update - Next Steps?", 2023-07-11),
# in apt-cache's layout: apt show's own Origin, Bugs, Download-Size and APT-Sources lines left out.
DKMS_530 = """\
Package: nvidia-dkms-530
Version: 535.54.03-0ubuntu0.22.04.1
Priority: optional
Section: restricted/libs
Source: nvidia-graphics-drivers-535
Maintainer: Ubuntu Core Developers <ubuntu-devel-discuss@lists.ubuntu.com>
Installed-Size: 33
Depends: nvidia-dkms-535
Homepage: http://www.nvidia.com
Description: Transitional package for nvidia-dkms-535
 This is a transitional package for nvidia-dkms-535, and can be
 safely removed after the installation is complete.
"""
# Ubuntu 24.04: the 570 packages turned transitional to 580 keep 570's version
# (launchpad.net/ubuntu/+source/nvidia-graphics-drivers-570/570.211.01-0ubuntu1.24.04.1, quoted in
# canonical/core-base PR 439: "570 is now a transitional package to 580"); the Depends line is the
# one such packages carry (as nvidia-dkms-530's above), not quoted there.
KERNEL_COMMON_570 = """\
Package: nvidia-kernel-common-570
Architecture: amd64
Version: 570.211.01-0ubuntu1.24.04.1
Source: nvidia-graphics-drivers-570
Depends: nvidia-kernel-common-580
Description: Transitional package for nvidia-kernel-common-580
"""
# Ubuntu 20.04: a modules metapackage and its Depends as apt quoted them (linuxmint/mintdrivers
# issue 71); the version line is the kernel-like one of such metapackages (assumed).
MODULES_470_OEM = """\
Package: linux-modules-nvidia-470-oem-20.04b
Architecture: amd64
Version: 5.10.0-1057.61
Depends: linux-modules-nvidia-470-5.10.0-1057-oem, nvidia-kernel-common-470 (<= 470.86-1)
Description: Extra drivers for nvidia-470 for the oem-20.04b flavour
"""
# Ubuntu 24.04 HWE: the 550-server modules now pull the 580-server ones (gpuhost issue 12, from
# ubuntu-drivers on such a host); the record's shape is the one above.
MODULES_550_SERVER_HWE = """\
Package: linux-modules-nvidia-550-server-generic-hwe-24.04
Architecture: amd64
Version: 6.14.0-29.29~24.04.1+1
Depends: linux-modules-nvidia-580-server-generic-hwe-24.04
Description: Transitional package for linux-modules-nvidia-580-server-generic-hwe-24.04
"""


def output(*stanzas):
    return "\n".join(stanzas)


@pytest.mark.parametrize("name, branch", [
    ("nvidia-utils-580-server", 580), ("libnvidia-compute-580", 580),
    ("linux-modules-nvidia-580-server-open-generic-hwe-24.04", 580),
    ("linux-modules-nvidia-535-server-5.15.0-105-generic", 535),  # a three-digit kernel ABI after the branch
    ("xserver-xorg-video-nvidia-470-server", 470),
])
def test_the_branch_is_read_from_the_package_name(name, branch):
    assert transitional.installs({"Depends": name}, 999) == (branch, f"it depends on {name}")


def test_a_candidate_versioned_as_another_branch_is_refused():
    sentence = transitional.refusal(DKMS_530, ["nvidia-dkms-530"], 530)
    assert sentence == (
        "nvidia-dkms-530 in Ubuntu's archive is a transitional package of branch 535, not 530 (its version "
        "535.54.03-0ubuntu0.22.04.1 is a 535 release), so apt would install R535 under R530's name: set "
        "stack.driver=535 to install that branch, or choose another branch.")


def test_a_candidate_that_keeps_its_version_but_depends_on_another_branch_is_refused():
    sentence = transitional.refusal(KERNEL_COMMON_570, ["nvidia-kernel-common-570"], 570)
    assert "transitional package of branch 580, not 570 (it depends on nvidia-kernel-common-580)" in sentence
    assert "stack.driver=580" in sentence


def test_a_modules_metapackage_is_judged_by_its_depends():
    sentence = transitional.refusal(MODULES_550_SERVER_HWE, ["linux-modules-nvidia-550-server-generic-hwe-24.04"], 550)
    assert "branch 580, not 550 (it depends on linux-modules-nvidia-580-server-generic-hwe-24.04)" in sentence
    assert transitional.refusal(MODULES_470_OEM, ["linux-modules-nvidia-470-oem-20.04b"], 470) is None


def test_the_first_wanted_package_that_is_transitional_is_named():
    text = output(MODULES_470_OEM, KERNEL_COMMON_570, DKMS_530)
    names = ["linux-modules-nvidia-470-oem-20.04b", "nvidia-dkms-530", "nvidia-kernel-common-570"]
    assert transitional.refusal(text, names, 470).startswith("nvidia-dkms-530 in Ubuntu's archive")


def test_packages_apt_has_no_record_of_are_not_judged():
    # a host whose lists do not know the packages yet: the transaction's update will tell
    assert transitional.refusal("", ["nvidia-dkms-530"], 530) is None
    assert transitional.refusal(DKMS_530, ["nvidia-utils-530"], 530) is None


def test_the_check_reads_the_probe_and_asks_for_it_only_for_packages_to_install():
    check = transitional.Candidates(["nvidia-dkms-530"], 530)
    assert check.request().probes == {transitional.PROBE: check.command}
    assert check.command == "LC_ALL=C apt-cache show --no-all-versions nvidia-dkms-530 2>/dev/null"
    assert "transitional package of branch 535" in check.problem({"probes": {transitional.PROBE: {"output": DKMS_530}}})
    assert check.problem({}) is None


def test_package_names_are_quoted_for_the_shell():
    assert transitional.command(["a;b"]) == "LC_ALL=C apt-cache show --no-all-versions 'a;b' 2>/dev/null"


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A local host whose apt-cache prints `records` and whose apt-get logs its calls and succeeds."""
    log, records = tmp_path / "calls", tmp_path / "records"
    stubs = {"apt-get": f'echo "apt-get $*" >> "{log}"\ncase "$*" in *--assume-no*) echo Abort.; exit 1;; esac\n',
             "apt-cache": f'echo "apt-cache $*" >> "{log}"\ncat "{records}"\n', "apt-mark": f'echo "apt-mark $*" >> "{log}"\n'}
    for tool, body in stubs.items():
        (tmp_path / tool).write_text("#!/bin/sh\n" + body)
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    host = Host("box", Context())
    host.facts = {"user": {"root": True}, "packages": {}, "disk": {}}
    host.records, host.calls = records, lambda: log.read_text().splitlines()
    return host


def install(host, records, name, branch):
    host.records.write_text(records)
    vet = transitional.Candidates([name], branch)
    step = apt.Transaction([apt.Packages(install={name: None}, vet=vet)])
    step.execute(host, step.commands(host.facts))


def test_after_the_update_a_transitional_candidate_stops_the_transaction_before_the_install(archive):
    with pytest.raises(StepError, match=r"^nvidia-dkms-530 in Ubuntu's archive is a transitional package of branch 535"):
        install(archive, DKMS_530, "nvidia-dkms-530", 530)
    calls = archive.calls()
    assert calls[0].endswith(" update") and "--assume-no" in calls[1]
    assert calls[2] == "apt-cache show --no-all-versions nvidia-dkms-530" and len(calls) == 3


def test_a_candidate_of_the_branch_itself_lets_the_transaction_run(archive):
    install(archive, MODULES_470_OEM, "linux-modules-nvidia-470-oem-20.04b", 470)
    assert [c.split()[0] for c in archive.calls()] == ["apt-get", "apt-get", "apt-cache", "apt-get"]


class Recorded:
    """A host that is its recorded facts: reading them again costs a round trip and changes nothing."""

    def __init__(self, facts):
        self.name, self.facts, self.request = "a10g", facts, Request()
        self.roles, self.silence_timeout, self.progress, self.remote_commands = (), None, None, 0

    def gather(self, **_):
        self.remote_commands += 1
        return self.facts


def plan(facts, branch):
    host = Recorded(facts)
    settings = merge(registry.defaults([driver]), {"driver": {"source": "ubuntu"}, "stack": {"driver": str(branch)}})
    result = runner.HostResult(name=host.name)
    runner.converge_host(host, [driver], settings, runner.Options(check=True, echo=False), result)
    return host, result


def test_a_plan_refuses_a_transitional_branch_from_the_hosts_lists_before_any_step():
    # R550 on an Ampere GPU: the proprietary modules (open is NVIDIA's default from R560)
    records = MODULES_550_SERVER_HWE.replace("generic-hwe-24.04", "aws")  # the A10G's kernel flavour
    facts = a10g(probes={transitional.PROBE: {"rc": 0, "output": records}})
    with pytest.raises(StepError, match=r"^linux-modules-nvidia-550-server-aws in Ubuntu's archive is a transitional "
                                        r"package of branch 580, not 550 \(it depends on linux-modules-nvidia-580-server-aws\)"):
        plan(facts, 550)


def test_a_host_with_the_packages_installed_costs_no_probe():
    host, result = plan(a10g(), 550)
    assert transitional.PROBE in host.request.probes and result.status == "changed"
    facts = a10g()
    facts["packages"].update({n: {"version": "550.163.01-0ubuntu0.22.04.1", "held": True, "state": "installed"} for n in (
        "nvidia-headless-no-dkms-550-server", "nvidia-utils-550-server", "libnvidia-compute-550-server",
        "linux-modules-nvidia-550-server-aws")})
    host, _ = plan(facts, 550)
    assert transitional.PROBE not in host.request.probes and host.remote_commands == 1
