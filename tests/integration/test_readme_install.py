"""The README's install command on a stock Debian 12 host, exactly as written, with the distribution's Python.

The host reaches no package index, so pip is pointed at a folder of wheels from PyPI (the same
files an index would serve) through pip's own environment variables; the command itself is the
README's, taken from the README. Its last part (`invoke demo`) builds test hosts, which a test
host cannot, so the test runs what the README says works on any machine instead, and the README's
test command on the resolver's tests.
"""

import io
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.testbed import wheels
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
HOST = "tb67"
REPO = Path(__file__).resolve().parents[2]
CHECKOUT = "/root/gpuhost"
DEMO = " && .venv/bin/invoke demo"


def readme_commands():
    """(install command without its demo, test command): the first two sh blocks of the README."""
    install, test = re.findall(r"```sh\n(.*?)\n```", (REPO / "README.md").read_text(), re.S)[:2]
    assert install.endswith(DEMO), install
    return install[: -len(DEMO)], test


def copy_checkout(connection):
    """The checkout's files as git lists them (tracked, and untracked unless ignored)."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout
    archive = subprocess.run(["tar", "-czf", "-", "--null", "-T", "-"], cwd=REPO, input=names,
                             capture_output=True, check=True).stdout
    connection.run(f"mkdir -p {CHECKOUT}", hide=True)
    connection.put(io.BytesIO(archive), "/tmp/checkout.tgz")
    connection.run(f"tar -xzf /tmp/checkout.tgz -C {CHECKOUT} && rm /tmp/checkout.tgz", hide=True)


def test_the_readme_install_works_on_a_stock_debian_12_with_its_own_python(testbed, fresh_hosts):
    fresh_hosts(HostSpec(HOST, gpus=("none",)))
    install, test = readme_commands()
    with testbed.connect(HOST) as c:
        assert c.run("dpkg -s python3-venv", hide=True, warn=True).failed  # stock: ensurepip is not there
        wheels.copy(c, wheels.wheelhouse())
        copy_checkout(c)
        offline = "PIP_NO_INDEX=1 PIP_FIND_LINKS=/tmp/wheels DEBIAN_FRONTEND=noninteractive"
        done = c.run(f"cd {CHECKOUT} && export {offline} && {install}", hide=True, warn=True)
        assert done.ok, done.stdout[-2000:] + done.stderr[-2000:]
        assert c.run(f"{CHECKOUT}/.venv/bin/python -c 'import sys; print(sys.base_prefix)'",
                     hide=True).stdout.strip() == "/usr"  # the distribution's Python, not another one
        resolved = c.run(f"cd {CHECKOUT} && .venv/bin/gpuhost resolve --gpu T4", hide=True, warn=True)
        assert resolved.ok and "Tesla T4" in resolved.stdout, resolved.stderr
        tests = c.run(f"cd {CHECKOUT} && {test} -q -p no:cacheprovider tests/unit/test_resolver.py "
                      f"tests/unit/test_packaging.py", hide=True, warn=True)
        assert tests.ok and " passed" in tests.stdout, tests.stdout[-3000:]
    assert shlex.split(test) == [".venv/bin/pytest"]
