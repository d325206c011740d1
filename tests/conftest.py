"""Fixtures for tests against the project's test hosts (tests/testbed/).

`testbed` brings the session's hosts up once, or reuses them when they already run with the
same specs, and leaves them running for the next session (`invoke testbed.down` stops them;
GPUHOST_TESTBED_DOWN=1 stops them at the end of the session).
"""
import os
import shutil
import sys
from pathlib import Path

import pytest

# The harness (`tests.*`) comes from this checkout; gpuhost itself from where it is installed, which
# is why the checkout goes to the end of the path, never before the installed package.
sys.path.append(str(Path(__file__).resolve().parents[1]))

from tests.testbed.specs import HostSpec  # noqa: E402
from tests.testbed.testbed import Testbed  # noqa: E402

SESSION_HOSTS = [
    HostSpec("tb1"),                                   # Debian 12, one Tesla T4, sudo without password
    HostSpec("tb2", gpus=("H100x2",), os="ubuntu-22.04", sudo="password",
             options=("nouveau", "secure_boot", "full_disk")),
]


def testbed_unavailable():
    """Why the test hosts cannot run here, or None."""
    if os.geteuid() != 0:
        return "the test hosts need root (network namespaces, overlay mounts, systemd-nspawn)"
    if not shutil.which("systemd-nspawn"):
        return "the test hosts need systemd-nspawn (apt-get install systemd-container)"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where the test hosts can run (root, systemd-nspawn: CI), a test-host test that skips has failed.

    A skip there would turn a missing fixture or a broken harness into a green run.
    """
    outcome = yield
    report = outcome.get_result()
    needs_hosts = item.get_closest_marker("testbed") or "testbed" in getattr(item, "fixturenames", ())
    if report.skipped and needs_hosts and testbed_unavailable() is None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a test-host test skipped where the test hosts can run: {reason}"


@pytest.fixture(scope="session")
def testbed():
    """The running Testbed: .names, .address(name), .connect(name, user), .inventory_path,
    .key_path, .known_hosts_path, .become_password_path, .reboot(name), …"""
    reason = testbed_unavailable()
    if reason:
        pytest.skip(reason)
    bed = Testbed()
    bed.up(SESSION_HOSTS)
    yield bed
    if os.environ.get("GPUHOST_TESTBED_DOWN") == "1":
        bed.down()


@pytest.fixture(scope="module")
def fresh_hosts(testbed):
    """Build new hosts from specs for one test module (rebuilt if they ran before), removed after it."""
    made = []

    def make(*specs):
        for spec in specs:
            if spec.name in testbed.hosts():
                testbed.remove(spec.name)
        testbed.up(list(specs))
        made.extend(spec.name for spec in specs)
        return [spec.name for spec in specs]

    yield make
    for name in made:
        testbed.remove(name)
