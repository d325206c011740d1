"""The world failing under a converge, on test hosts, through `gpuhost converge` as a user runs it.

Each fault comes from outside the fixtures: a kernel build tree broken with dpkg-divert, a mirror
that corrupts downloads or goes away, an apt hook that hangs, SSH sessions killed, a module
blacklisted in modprobe.d. Every scenario converges the faulty host beside a healthy one (tb61)
and asserts the same contract: the faulty host is `failed` with one sentence that names the
cause, the exit code is 1, the healthy host carries on, the recap and the report are written;
once the fault is gone the next converge completes and the one after changes nothing.
"""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.converging import GPUHOST, root
from tests.testbed import faults
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
REPO = Path(__file__).resolve().parents[2]
HEALTHY = "tb61"
DRIVER_ROLES = ["driver", "motd"]
CUDA_ROLES = ["cuda", "motd"]
CUDA = "stack.cuda=12.4"  # the healthy host has no GPU to resolve a CUDA for


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(
        HostSpec("tb60"),                      # the DKMS build fails
        HostSpec(HEALTHY, gpus=("none",)),     # converges beside every faulty host
        HostSpec("tb62"),                      # the mirror corrupts a .deb, then goes away
        HostSpec("tb63"),                      # apt hangs, then the connection is cut
        HostSpec("tb64"),                      # the module never loads
    )


@dataclass
class Run:
    code: int
    output: str
    report: dict

    def host(self, name):
        return self.report["hosts"][name]


def converge(testbed, name, roles, tmp_path, *settings, wait=True):
    """`gpuhost converge` on the faulty host and the healthy one, with a report."""
    report = tmp_path / f"report-{len(list(tmp_path.glob('report-*')))}.json"
    command = [GPUHOST, "converge", "--host", f"{name},{HEALTHY}",
               "--inventory", str(testbed.inventory_path), "--roles", ",".join(roles), "--report", str(report)]
    command += [f"--set={s}" for s in settings]
    env = {**os.environ, "GPUHOST_EXTRA_ROLES": "tests.roles.motd"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return process, report
    return finish(process, report)


def finish(process, report):
    output, _ = process.communicate(timeout=900)
    return Run(process.returncode, output, json.loads(report.read_text()))


def assert_failed_alone(run, name, cause):
    """The contract of a failure: named in one sentence, alone, recapped and reported."""
    failed = run.host(name)
    assert run.code == 1, run.output
    assert failed["status"] == "failed", run.output
    assert cause in failed["error"] and "\n" not in failed["error"] and failed["error"].endswith("."), failed["error"]
    assert f"{name}: {failed['error']}" in run.output  # the recap's failure line
    assert run.host(HEALTHY)["status"] in ("ok", "changed"), run.host(HEALTHY)["error"]
    return failed["error"]


def assert_recovers(testbed, name, roles, tmp_path, *settings):
    fixed = converge(testbed, name, roles, tmp_path, *settings)
    assert fixed.code == 0 and fixed.host(name)["status"] == "changed", fixed.output
    again = converge(testbed, name, roles, tmp_path, *settings)
    assert (again.code, again.host(name)["changed"], again.host(name)["remote_commands"]) == (0, 0, 1), again.output


def test_a_failed_dkms_build_fails_the_host_with_dpkgs_line_and_nothing_reboots(testbed, hosts, tmp_path):
    kernel = root(testbed, "tb60", "cat /proc/sys/kernel/osrelease").stdout.strip()
    makefile = f"/usr/src/linux-headers-{kernel}/Makefile"
    root(testbed, "tb60", f"dpkg-divert --local --rename --divert {makefile}.broken --add {makefile}")
    boot = testbed.boot_id("tb60")
    run = converge(testbed, "tb60", DRIVER_ROLES, tmp_path)
    error = assert_failed_alone(run, "tb60", "dpkg: error processing package nvidia-kernel")
    assert "returned error exit status 10" in error and "(DKMS: Bad return status for module build" in error
    assert not run.host("tb60")["rebooted"] and testbed.boot_id("tb60") == boot
    assert "[tb60] progress: apt installing" in run.output  # what it was doing before it failed
    failed_steps = [s for r in run.host("tb60")["roles"].values() for s in r["steps"] if s.get("failed")]
    assert {s["name"] for s in failed_steps} == {"apt transaction"}  # recorded under each role it serves
    root(testbed, "tb60", f"dpkg-divert --local --rename --remove {makefile}")
    assert_recovers(testbed, "tb60", DRIVER_ROLES, tmp_path)
    assert root(testbed, "tb60", "test -e /var/lib/gpuhost/reboot").failed  # the reboot's reason is gone: forgotten


def test_a_corrupted_download_is_a_hash_sum_mismatch_and_the_next_converge_recovers(testbed, hosts, tmp_path):
    address = testbed.address("tb62")
    with faults.FaultyMirror("corrupt") as mirror:
        mirror.attach(address)
        run = converge(testbed, "tb62", DRIVER_ROLES, tmp_path)
    assert mirror.debs > 0
    assert_failed_alone(run, "tb62", "Hash Sum mismatch")
    faults.FaultyMirror.detach(address)
    assert_recovers(testbed, "tb62", DRIVER_ROLES, tmp_path)


def test_the_mirror_gone_between_update_and_install_names_the_failed_fetch(testbed, hosts, tmp_path):
    address = testbed.address("tb62")
    with faults.FaultyMirror("vanish") as mirror:
        mirror.attach(address)
        run = converge(testbed, "tb62", CUDA_ROLES, tmp_path, CUDA)
    assert mirror.gone
    error = assert_failed_alone(run, "tb62", "apt on tb62 failed")
    assert "Failed to fetch http://10.77.0.1:8080/" in error
    faults.FaultyMirror.detach(address)
    assert_recovers(testbed, "tb62", CUDA_ROLES, tmp_path, CUDA)


def test_a_command_that_hangs_is_stopped_after_its_silence(testbed, hosts, tmp_path):
    address = testbed.address("tb63")
    faults.hook_apt(address, "sleep 3600")
    run = converge(testbed, "tb63", DRIVER_ROLES, tmp_path, "command_timeout=5")
    assert_failed_alone(run, "tb63", "apt transaction on tb63 printed nothing new for 5 s and was stopped")
    faults.unhook_apt(address, "sleep 3600")
    assert_recovers(testbed, "tb63", DRIVER_ROLES, tmp_path)


def test_a_connection_cut_in_the_middle_of_a_transaction(testbed, hosts, tmp_path):
    address = testbed.address("tb63")
    faults.hook_apt(address, "sleep 600")
    process, report = converge(testbed, "tb63", CUDA_ROLES, tmp_path, CUDA, wait=False)
    faults.wait_for_process(address, "sleep 600")
    faults.cut_ssh(address, "gpuadmin")
    run = finish(process, report)
    assert_failed_alone(run, "tb63", "the connection to tb63 was lost during apt transaction")
    faults.unhook_apt(address, "sleep 600")
    assert_recovers(testbed, "tb63", CUDA_ROLES, tmp_path, CUDA)


def test_a_module_that_never_loads_reboots_once_then_fails_with_the_reason(testbed, hosts, tmp_path):
    root(testbed, "tb64", "echo 'blacklist nvidia' > /etc/modprobe.d/local-fault.conf")
    first = converge(testbed, "tb64", DRIVER_ROLES, tmp_path)
    error = assert_failed_alone(first, "tb64", "tb64 was rebooted because the nvidia module is not loaded, "
                                               "and after the reboot that is still so")
    assert first.host("tb64")["rebooted"] and "dkms status" in error
    boot = testbed.boot_id("tb64")
    second = converge(testbed, "tb64", DRIVER_ROLES, tmp_path)
    assert assert_failed_alone(second, "tb64", "does not reboot again for the same reason") == error
    assert not second.host("tb64")["rebooted"] and testbed.boot_id("tb64") == boot
    root(testbed, "tb64", "rm /etc/modprobe.d/local-fault.conf /var/lib/gpuhost/reboot")  # as the sentence says
    assert_recovers(testbed, "tb64", DRIVER_ROLES, tmp_path)
