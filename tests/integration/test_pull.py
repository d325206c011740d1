"""Pull mode: gpuhost installed inside a host converges that host (`--host local`), reboots it
when the driver needs it, and the run at the next boot finishes the work; the one after is a no-op.

gpuhost is installed in a venv from a wheel of this checkout, and runs from the systemd unit the
README gives, taken from the README itself, so the recipe people copy is the one tested.
"""

import json
import re
import shlex
import time
from pathlib import Path

import pytest
import yaml

from tests.testbed import wheels
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
HOST = "tb65"
INVENTORY = "/etc/gpuhost/inventory.yaml"
REPORT = "/var/log/gpuhost.json"
UNIT = "gpuhost-converge.service"
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_unit(name):
    """A unit file of the README's pull mode section."""
    block = re.search(rf"```ini\n# /etc/systemd/system/{re.escape(name)}[^\n]*\n(.*?)```", README.read_text(), re.S)
    return block.group(1)


@pytest.fixture(scope="module")
def gpuhost_inside(testbed, fresh_hosts):
    """tb65 with gpuhost installed in /opt/gpuhost and an inventory whose `local` host uses the test mirror."""
    fresh_hosts(HostSpec(HOST, options=("venv",)))
    settings = yaml.safe_load(testbed.inventory_path.read_text())["all"]["vars"]
    inventory = yaml.safe_dump({"all": {"vars": {**settings, "roles": ["driver"]}, "hosts": {"local": {}}}})
    with testbed.connect(HOST) as c:
        wheels.install(c, wheels.wheelhouse())
        c.run(f"mkdir -p /etc/gpuhost && printf %s {shlex.quote(inventory)} > {INVENTORY}", hide=True)


def run_unit(testbed):
    """Start the unit (it is oneshot: this returns when the converge is done) and read the report."""
    with testbed.connect(HOST) as c:
        c.run(f"systemctl start {UNIT}", hide=True)
        return json.loads(c.run(f"cat {REPORT}", hide=True).stdout)["hosts"]["local"]


def wait_for_boot_run(testbed, timeout=120):
    """The unit's run at boot has finished: its exit is stamped in this boot; then the report."""
    deadline = time.monotonic() + timeout
    with testbed.connect(HOST) as c:
        while c.run(f"systemctl show -P ExecMainExitTimestampMonotonic {UNIT}", hide=True).stdout.strip() == "0":
            assert time.monotonic() < deadline, f"{UNIT} did not finish within {timeout} s of the boot"
            time.sleep(0.5)
        assert c.run(f"systemctl show -P Result {UNIT}", hide=True).stdout.strip() == "success"
        return json.loads(c.run(f"cat {REPORT}", hide=True).stdout)["hosts"]["local"]


def test_a_host_converges_itself_through_its_own_reboot_from_the_readmes_unit(testbed, gpuhost_inside):
    timer = UNIT.replace(".service", ".timer")
    with testbed.connect(HOST) as c:
        for name in (UNIT, timer):
            c.run(f"printf %s {shlex.quote(readme_unit(name))} > /etc/systemd/system/{name}", hide=True)
        c.run(f"systemctl daemon-reload && systemctl enable {UNIT} && systemctl enable --now {timer}", hide=True)
        assert c.run(f"systemctl is-active {timer}", hide=True).stdout.strip() == "active"
    boot = testbed.boot_id(HOST)
    first = run_unit(testbed)
    assert first["rebooted"] and first["reboot_pending"].startswith("rebooting now (the nvidia module is not loaded)")
    testbed.wait_for_new_boot(HOST, boot, timeout=90)
    at_boot = wait_for_boot_run(testbed)
    assert at_boot["status"] == "changed" and not at_boot["rebooted"], at_boot["error"]
    again = run_unit(testbed)
    assert (again["status"], again["changed"], again["remote_commands"]) == ("ok", 0, 1)
