"""Pull mode: gpuhost installed inside a host converges that host (`--host local`), reboots it
when the driver needs it, and the run after the boot finishes the work; the one after that is a no-op.

gpuhost is installed the way the README's cloud-init recipe does, from a wheel of this checkout.
"""

import json
import shlex

import pytest
import yaml

from tests.testbed import wheels
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
HOST = "tb65"
INVENTORY = "/etc/gpuhost/inventory.yaml"
REPORT = "/var/log/gpuhost.json"


@pytest.fixture(scope="module")
def gpuhost_inside(testbed, fresh_hosts):
    """tb65 with gpuhost installed in /opt/gpuhost and an inventory whose `local` host uses the test mirror."""
    fresh_hosts(HostSpec(HOST, options=("venv",)))
    settings = yaml.safe_load(testbed.inventory_path.read_text())["all"]["vars"]
    inventory = yaml.safe_dump({"all": {"vars": {**settings, "roles": ["driver"]}, "hosts": {"local": {}}}})
    with testbed.connect(HOST) as c:
        command = wheels.install(c, wheels.wheelhouse())
        c.run(f"mkdir -p /etc/gpuhost && printf %s {shlex.quote(inventory)} > {INVENTORY}", hide=True)
    return command


def converge_inside(testbed, command):
    line = f"{command} converge --host local --allow-local-reboot --inventory {INVENTORY} --report {REPORT}"
    with testbed.connect(HOST) as c:
        result = c.run(line, hide=True, warn=True)
        report = json.loads(c.run(f"cat {REPORT}", hide=True).stdout)["hosts"]["local"]
    return result, report


def test_a_host_converges_itself_through_its_own_reboot(testbed, gpuhost_inside):
    boot = testbed.boot_id(HOST)
    first, report = converge_inside(testbed, gpuhost_inside)
    assert first.exited == 0, first.stdout + first.stderr
    assert report["rebooted"] and report["reboot_pending"].startswith("rebooting now (the nvidia module is not loaded)")
    assert "rebooting (the nvidia module is not loaded)" in first.stdout
    testbed.wait_for_new_boot(HOST, boot, timeout=90)
    after_boot, report = converge_inside(testbed, gpuhost_inside)
    assert after_boot.exited == 0 and not report["rebooted"], after_boot.stdout + after_boot.stderr
    assert report["status"] == "changed"  # the services that need the loaded driver, and the reboot's reason forgotten
    again, report = converge_inside(testbed, gpuhost_inside)
    assert (again.exited, report["status"], report["changed"], report["remote_commands"]) == (0, "ok", 0, 1)
