"""The NVIDIA roles on test hosts: fixture packages with NVIDIA's names, versions and layout.

Each scenario gets a host of its own, built fresh: Debian 12 with a simulated Tesla T4 unless the
scenario needs another GPU, OS or condition.
"""

import functools
import os

import pytest
from fabric import Connection

from gpuhost import inventory
from tests.integration import converging
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
STACK = ["driver", "cuda", "cudnn", "tensorrt"]
converge = functools.partial(converging.converge, roles=STACK)
steps, changed_commands = converging.steps, converging.changed_commands
verify = functools.partial(converging.verify, roles=STACK)


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(
        HostSpec("tb10"),                                        # from nothing
        HostSpec("tb11"),                                        # a driver of another branch
        HostSpec("tb12", options=("nouveau",)),                  # nouveau holds the GPU
        HostSpec("tb13", options=("secure_boot",)),              # DKMS module would be unsigned
        HostSpec("tb14", os="ubuntu-22.04", options=("secure_boot",), gpus=("A100",)),  # Canonical's signed modules
        HostSpec("tb15"),                                        # kernel updated under the module
        HostSpec("tb16", gpus=("none",)),                        # apply() from a Fabric script
    )


def test_the_stack_converges_from_nothing_in_one_transaction_then_changes_nothing(testbed, hosts):
    plan = converge(testbed, "tb10", check=True)
    first = converge(testbed, "tb10")
    assert first.status == "changed", first.error
    assert changed_commands(first) == changed_commands(plan)
    assert [s["name"] for s in steps(first)].count("apt transaction") == 1
    assert first.rebooted
    second = converge(testbed, "tb10")
    assert (second.status, second.changed, second.remote_commands) == ("ok", 0, 1)
    checks = verify(testbed, "tb10")
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "passed" in checks.stdout and "failed" not in checks.stdout


def test_a_driver_of_another_branch_is_reported_and_replaced_only_when_asked(testbed, hosts):
    old = converge(testbed, "tb11", roles=["driver"], stack={"driver": 570})
    assert old.status == "changed", old.error
    plan = converge(testbed, "tb11", check=True)
    assert plan.status == "failed"
    assert "has NVIDIA driver 570.172.08 (open) from NVIDIA's CUDA repository" in plan.error
    assert "does not replace a driver silently" in plan.error
    switched = converge(testbed, "tb11", roles=["driver"], driver={"replace": True})
    assert switched.status == "changed" and switched.rebooted, switched.error
    again = converge(testbed, "tb11", roles=["driver"], driver={"replace": True})
    assert again.changed == 0, again.error
    with testbed.connect("tb11") as c:
        assert not c.run("cat /sys/module/nvidia/version", hide=True).stdout.startswith("570.")


def test_nouveau_is_blacklisted_and_the_reboot_names_it(testbed, hosts):
    plan = converge(testbed, "tb12", roles=["driver"], check=True)
    reboot = [s for s in steps(plan) if s["name"] == "reboot into the driver"]
    assert reboot and "nouveau holds the GPU" in reboot[0]["commands"][-1]
    result = converge(testbed, "tb12", roles=["driver"])
    assert result.status == "changed" and result.rebooted, result.error
    assert "nouveau" not in result.facts["modules"] and result.facts["modules"]["nvidia"]["version"]


def test_secure_boot_with_an_unsigned_module_is_refused_before_any_change(testbed, hosts):
    result = converge(testbed, "tb13")
    assert result.status == "failed" and result.error.startswith("Secure Boot is on at tb13")
    assert "driver.source=ubuntu" in result.error and "mokutil" in result.error
    assert result.remote_commands == 1 and result.changed == 0


def test_canonical_signed_modules_load_with_secure_boot_on_ubuntu(testbed, hosts):
    result = converge(testbed, "tb14", roles=["driver"], driver={"source": "ubuntu"}, stack={"driver": 570})
    assert result.status == "changed" and result.rebooted, result.error
    assert result.facts["modules"]["nvidia"]["version"] == "570.172.08"
    assert converge(testbed, "tb14", roles=["driver"], driver={"source": "ubuntu"}, stack={"driver": 570}).changed == 0
    checks = converging.verify(testbed, "tb14", ["driver"], "driver.source=ubuntu", "stack.driver=570")
    assert checks.returncode == 0, checks.stdout[-3000:]  # held, except the modules that follow the kernel


def test_a_kernel_updated_under_the_module_gets_a_module_and_a_reboot(testbed, hosts):
    assert converge(testbed, "tb15", roles=["driver"]).status == "changed"
    testbed.kernel_update("tb15")
    testbed.reboot("tb15")
    plan = converge(testbed, "tb15", roles=["driver"], check=True)
    names = [s["name"] for s in steps(plan) if s["changed"]]
    assert "build the nvidia module for the running kernel" in names and "reboot into the driver" in names
    fixed = converge(testbed, "tb15", roles=["driver"])
    assert fixed.status == "changed" and fixed.rebooted, fixed.error
    assert fixed.facts["modules"]["nvidia"]["version"]
    assert converge(testbed, "tb15", roles=["driver"]).changed == 0


def test_the_stack_waits_for_a_dpkg_lock_held_by_unattended_upgrades(testbed, hosts):
    testbed.hold_lock("tb16", 5)
    result = converge(testbed, "tb16", roles=["cuda"], stack={"cuda": "12.4"})
    assert result.status == "changed", result.error


def test_cuda_applies_from_a_plain_fabric_script(testbed, hosts):
    from gpuhost.roles import cuda

    (target,) = inventory.load(testbed.inventory_path).select("tb16")
    connection = Connection(target.address, user=target.user, connect_kwargs={"key_filename": [target.key_file]})
    connection.client.load_host_keys(target.known_hosts_file)
    mirrors = {k: v for k, v in target.vars.items() if k.endswith("_repo")}
    result = cuda.apply(connection, cuda="12.8", also=["12.4"], **mirrors)
    assert result.status == "changed", result.error
    assert connection.run("readlink -f /usr/local/cuda", hide=True, in_stream=False).stdout.strip() == "/usr/local/cuda-12.8"
    assert os.path.basename(connection.run("ls -d /usr/local/cuda-12.4", hide=True, in_stream=False).stdout.strip()) == "cuda-12.4"
    assert cuda.apply(connection, cuda="12.8", also=["12.4"], **mirrors).changed == 0


def test_a_repository_key_that_is_not_the_pinned_one_is_never_trusted(testbed, hosts):
    served = inventory.load(testbed.inventory_path).select("tb13")[0].vars["nvidia_repo"]["key_fingerprint"]
    pinned = "0" * 32 + served[-8:]  # the served key's file name, another key's fingerprint
    result = converge(testbed, "tb13", roles=["cuda"], stack={"cuda": "12.4"}, nvidia_repo={"key_fingerprint": pinned})
    assert result.status == "failed"
    assert f"has fingerprint {served}, not the pinned {pinned}; refusing to trust it" in result.error
    missing = converge(testbed, "tb13", roles=["cuda"], stack={"cuda": "12.4"},
                       nvidia_repo={"key_fingerprint": "EB693B3035CD5710E231E123A4B469963BF863CC"})
    assert missing.error.startswith("the repository key http://10.77.0.1:8080/compute/cuda/repos/debian12/x86_64/"
                                    "3bf863cc.pub could not be downloaded on tb13")
    with testbed.connect("tb13") as c:
        assert c.run("ls /usr/share/keyrings/cuda-archive-keyring.gpg", hide=True, warn=True).failed
