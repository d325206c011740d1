"""The conda-r-python role when things go wrong on a test host: an installer killed half-way,
a prefix gpuhost did not make, and `conda init` for a user whose home the login user cannot read.

The installer and conda are the mirror's stand-ins (tests/testbed/conda/), which lay out a
prefix the way Miniforge does: the payload first (with an empty `conda-meta/history`), then
`_conda install` links the base packages.
"""

import functools
import shlex

import pytest

from gpuhost import inventory, runner
from tests.integration import converging
from tests.integration.converging import root
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
ROLES = ["conda-r-python"]
CONDA = {"users": ["gpuadmin"]}
KILLED, OTHER = "tb50", "tb51"
converge = functools.partial(converging.converge, roles=ROLES)
# Runs in the background on the host: waits for the installer's conda to start linking the base
# packages, freezes it, then kills it and the installer's shell with SIGKILL, as the OOM killer or
# an administrator's `kill -9` would.
KILLER = """\
end=$(( $(date +%s) + 300 ))
until p=$(pgrep -f '^/usr/bin/python3.11 /opt/conda/_conda install'); do
    [ "$(date +%s)" -lt "$end" ] || { echo "no installer ran"; exit 1; }
    sleep 0.01
done
kill -STOP "$p"
shell=$(ps -o ppid= -p "$p" | tr -d ' ')
echo "killing $(ps -o args= -p "$shell")"
kill -9 "$shell" "$p"
"""


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(HostSpec(KILLED, gpus=("none",)), HostSpec(OTHER, gpus=("none",)))


def converge_both(bed, conda):
    targets = inventory.load(bed.inventory_path).select(f"{KILLED},{OTHER}")
    return runner.run(targets, ROLES, runner.Options(overrides={"conda_r_python": conda}, echo=False))


def installer_url(bed):
    return inventory.load(bed.inventory_path).target(KILLED).vars["conda_r_python"]["installer"]["url"]


def test_a_killed_installer_fails_its_host_alone_and_the_next_converge_installs_again(testbed, hosts):
    armed = root(testbed, KILLED, f"printf %s {shlex.quote(KILLER)} > /root/killer.sh && "
                                  "(nohup sh /root/killer.sh > /root/killer.log 2>&1 &)")
    assert armed.ok, armed.stderr
    killed, other = converge_both(testbed, CONDA)
    assert root(testbed, KILLED, "cat /root/killer.log").stdout.startswith("killing bash /tmp/gpuhost-conda-")
    assert killed.status == "failed"
    assert killed.error == (f"the conda installer {installer_url(testbed)} was killed by SIGKILL (signal 9) on "
                            f"{KILLED}; the next converge removes what it left in /opt/conda and installs again.")
    # as Miniforge leaves it: an empty conda-meta/history, unpacked before the base packages were linked
    left = root(testbed, KILLED, "ls -A /opt/conda; stat -c %s /opt/conda/conda-meta/history; "
                                 "ls /tmp/gpuhost-conda-*; pgrep -f /opt/conda/_cond[a]")
    *entries, size = left.stdout.split()
    assert {".gpuhost-installing", "_conda", "conda-meta", "pkgs"} <= set(entries) and size == "0", left.stdout
    assert left.exited == 1  # no installer left in /tmp, no conda still running
    assert other.status == "changed", other.error
    assert root(testbed, OTHER, "test -f /opt/conda/conda-meta/history && ! test -e /opt/conda/.gpuhost-installing").ok

    plan = converge(testbed, KILLED, check=True, conda_r_python=CONDA)
    again = converge(testbed, KILLED, conda_r_python=CONDA)
    assert again.status == "changed", again.error
    assert converging.changed_commands(again) == converging.changed_commands(plan)
    install = converging.changed_commands(again)[2]
    assert "if [ -e /opt/conda/.gpuhost-installing ]; then rm -rf /opt/conda; fi" in install
    assert root(testbed, KILLED, "/opt/conda/bin/conda --version").stdout.split() == ["conda", "24.11.3"]
    assert root(testbed, KILLED, "test -e /opt/conda/.gpuhost-installing").failed
    third = converge(testbed, KILLED, conda_r_python=CONDA)
    assert (third.status, third.changed, third.remote_commands) == ("ok", 0, 1), converging.changed_commands(third)


def test_a_prefix_that_gpuhost_did_not_create_is_refused_and_kept(testbed, hosts):
    assert root(testbed, OTHER, "mkdir -p /srv/theirs && echo data > /srv/theirs/notes").ok
    result = converge(testbed, OTHER, conda_r_python={**CONDA, "prefix": "/srv/theirs"})
    assert (result.status, result.remote_commands) == ("failed", 1)
    assert result.error == ("/srv/theirs exists but holds no conda installation (no conda-meta/history) and was not "
                            "created by gpuhost, so gpuhost neither removes it nor installs over it: move it away or "
                            "set conda_r_python.prefix to another folder.")
    assert root(testbed, OTHER, "ls -A /srv/theirs").stdout.split() == ["notes"]


def test_conda_init_for_a_user_with_a_0750_home_changes_nothing_the_second_time(testbed, hosts):
    # Ubuntu's adduser and useradd make homes 0750 (DIR_MODE / HOME_MODE since 21.04); Debian's are 0755.
    made = root(testbed, OTHER, "useradd --create-home --shell /bin/bash alice && chmod 0750 /home/alice")
    assert made.ok, made.stderr
    assert root(testbed, OTHER, "su gpuadmin -c 'cat /home/alice/.bashrc'").failed  # the login user cannot read it
    assert converge(testbed, OTHER, conda_r_python=CONDA).status != "failed"
    asked = {**CONDA, "init_users": ["alice"]}
    first = converge(testbed, OTHER, conda_r_python=asked)
    assert first.status == "changed", first.error
    assert [s["name"] for s in converging.steps(first) if s["changed"]] == ["conda init for alice"]
    assert root(testbed, OTHER, "grep -c '>>> conda initialize >>>' /home/alice/.bashrc").stdout.strip() == "1"
    second = converge(testbed, OTHER, conda_r_python=asked)
    assert (second.status, second.changed, second.remote_commands) == ("ok", 0, 1), converging.changed_commands(second)
