"""The conda-r-python role on a test host, against the mirror's stand-in installer, channel and pip index.

The stand-ins keep conda's contracts (installer flags, conda-meta records, JSON outputs); the
role's commands are the ones it runs against real conda. The host has Debian's R, which the
channel's r-base runs.
"""

import functools
import json

import pytest

from tests.integration import converging
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
ROLES = ["conda-r-python"]
ENV = {"python": "3.11", "r": "4.2", "packages": ["tabulate=0.8", "r-jsonlite=1.8.8"], "pip": ["humanize==4.9.0"]}
CONDA = {"users": ["gpuadmin"], "envs": {"ml": ENV}}
converge = functools.partial(converging.converge, roles=ROLES)


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(HostSpec("tb30", gpus=("none",), options=("r",)))


def root(bed, command):
    with bed.connect("tb30") as c:
        return c.run(command, hide=True, warn=True, in_stream=False)


def records(bed):
    return set(root(bed, "ls /opt/conda/envs/ml/conda-meta/").stdout.split())


def test_an_installer_whose_sha256_differs_is_not_run(testbed, hosts):
    result = converge(testbed, "tb30", conda_r_python={**CONDA, "installer": {"sha256": {"x86_64": "0" * 64}}})
    assert result.status == "failed"
    assert f"not the pinned {'0' * 64} (conda_r_python.installer.sha256); it was not run and nothing was installed" in result.error
    assert root(testbed, "test -e /opt/conda || ls /tmp/gpuhost-conda-* 2>/dev/null").failed


def test_install_and_environment_from_settings_then_nothing_to_do(testbed, hosts):
    plan = converge(testbed, "tb30", check=True, conda_r_python=CONDA)
    first = converge(testbed, "tb30", conda_r_python=CONDA)
    assert first.status == "changed", first.error
    assert converging.changed_commands(first) == converging.changed_commands(plan)
    second = converge(testbed, "tb30", conda_r_python=CONDA)
    assert (second.status, second.changed, second.remote_commands) == ("ok", 0, 1), converging.changed_commands(second)
    checks = converging.verify(testbed, "tb30", ROLES, f"conda_r_python.users={json.dumps(CONDA['users'])}",
                               f"conda_r_python.envs={json.dumps(CONDA['envs'])}")
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "passed" in checks.stdout and "failed" not in checks.stdout


def test_a_changed_version_changes_only_that_package(testbed, hosts):
    before = records(testbed)
    changed = {**CONDA, "envs": {"ml": {**ENV, "packages": ["tabulate=0.9", "r-jsonlite=1.8.8"]}}}
    plan = converge(testbed, "tb30", check=True, conda_r_python=changed)
    (command,) = converging.changed_commands(plan)
    assert command.endswith("--strict-channel-priority tabulate=0.9") and " install " in command
    assert converge(testbed, "tb30", conda_r_python=changed).status == "changed"
    after = records(testbed)
    assert {r for r in before ^ after if r != "history"} == {
        next(r for r in before if r.startswith("tabulate-0.8")), next(r for r in after if r.startswith("tabulate-0.9"))}
    assert converge(testbed, "tb30", conda_r_python=changed).changed == 0


def test_a_group_member_activates_the_environment_and_runs_python_and_r(testbed, hosts):
    with testbed.connect("tb30", "gpuadmin") as c:
        run = functools.partial(c.run, hide=True, warn=True, in_stream=False)
        both = run("bash -lc 'conda activate ml && python -c \"import tabulate, humanize; print(tabulate.__version__)\" "
                   "&& Rscript -e \"cat(as.character(packageVersion(\\\"jsonlite\\\")))\"'")
        assert both.ok and both.stdout.split() == ["0.9.0", "1.8.8"], both.stderr
        own = run("bash -lc 'conda create --yes --quiet --name mine tabulate=0.8 >/dev/null && "
                  "stat -c %G /opt/conda/envs/mine/conda-meta/history'")
        assert own.ok and own.stdout.strip() == "conda", own.stderr


def test_conda_init_touches_only_the_dotfiles_of_users_who_asked(testbed, hosts):
    asked = {**CONDA, "init_users": ["gpuadmin"]}
    assert root(testbed, "grep -c 'conda initialize' /home/gpuadmin/.bashrc").stdout.strip() == "0"
    assert converge(testbed, "tb30", conda_r_python=asked).status == "changed"
    assert root(testbed, "grep -c '>>> conda initialize >>>' /home/gpuadmin/.bashrc").stdout.strip() == "1"
    assert converge(testbed, "tb30", conda_r_python=asked).changed == 0
    assert root(testbed, "grep -l 'conda initialize' /root/.bashrc").failed
