"""The mirror's conda stand-ins on a test host, used the way an administrator uses the real ones:
download the installer and check its sha256, install, create and change an environment from
the channel, run Python and R from it, pip-install from the index, activate it as a user."""
import json
import shlex

import pytest
import yaml

from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
HOST = "tb40"
PREFIX = "/opt/conda"
ENV = f"{PREFIX}/envs/t"
CONDA = f"{PREFIX}/bin/conda"
LIST_KEYS = {"base_url", "build_number", "build_string", "channel", "dist_name", "name", "platform", "version"}


@pytest.fixture(scope="module")
def settings(testbed, fresh_hosts):
    """The inventory's conda settings, with a fresh Debian host that has R."""
    fresh_hosts(HostSpec(HOST, gpus=("none",), options=("r",)))
    conda = yaml.safe_load(testbed.inventory_path.read_text())["all"]["vars"].get("conda_r_python")
    return conda


def sh(testbed, command, user="root"):
    with testbed.connect(HOST, user) as conn:
        return conn.run(command, hide=True, warn=True)


def ok(testbed, command, user="root"):
    result = sh(testbed, command, user)
    assert result.ok, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def conda_meta(testbed):
    return set(ok(testbed, f"ls {ENV}/conda-meta").split())


@pytest.fixture(scope="module")
def downloaded(testbed, settings):
    """The installer and its .sha256 in /root/dl, as curl fetched them from the mirror."""
    url = settings["installer"]["url"]
    ok(testbed, f"rm -rf /root/dl && mkdir /root/dl && cd /root/dl && curl -fsSO {shlex.quote(url)} && "
                f"curl -fsSO {shlex.quote(url + '.sha256')}")
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def installed(testbed, downloaded):
    return sh(testbed, f"cd /root/dl && bash {downloaded} -b -p {PREFIX}")


@pytest.fixture(scope="module")
def env(testbed, settings, installed):
    """The environment t, created from the mirror's channel alone."""
    channel = settings["channels"][0]
    return sh(testbed, f"{CONDA} create -y -p {ENV} --override-channels -c {shlex.quote(channel)} "
                       "python=3.11 r-base=4.2 tabulate=0.8 r-jsonlite=1.8.8 pip")


def test_the_installer_matches_its_published_and_inventory_sha256(testbed, settings, downloaded):
    assert ok(testbed, f"cd /root/dl && sha256sum -c {downloaded}.sha256").strip() == f"{downloaded}: OK"
    published = ok(testbed, f"cat /root/dl/{downloaded}.sha256").split()
    assert published == [settings["installer"]["sha256"]["x86_64"], downloaded]
    assert downloaded == "Miniforge3-24.11.3-0-Linux-x86_64.sh"


def test_an_installer_whose_bytes_changed_fails_the_check(testbed, downloaded):
    result = sh(testbed, f"rm -rf /root/bad && mkdir /root/bad && cp /root/dl/{downloaded}* /root/bad/ && "
                         f"cd /root/bad && printf X | dd of={downloaded} bs=1 seek=4000 conv=notrunc 2>/dev/null && "
                         f"sha256sum -c {downloaded}.sha256")
    assert result.exited == 1 and f"{downloaded}: FAILED" in result.stdout


def test_the_installer_lays_out_miniforge(testbed, installed):
    assert installed.ok, installed.stderr
    lines = installed.stdout.splitlines()
    assert lines[:2] == [f"PREFIX={PREFIX}", "Unpacking payload ..."] and lines[-1] == "installation finished."
    assert ok(testbed, f"head -1 {PREFIX}/bin/conda {PREFIX}/condabin/conda | grep '^#!'").split() == \
        [f"#!{PREFIX}/bin/python"] * 2
    assert ok(testbed, f"{CONDA} --version").strip() == "conda 24.11.3"
    pythons = ok(testbed, f"for p in python python3 python3.11; do {PREFIX}/bin/$p -c "
                          "'import sys; print(sys.prefix, sys.version.split()[0])'; done")
    assert pythons.split() == [PREFIX, "3.11.2"] * 3
    assert ok(testbed, f"cat {PREFIX}/.condarc") == "channels:\n  - conda-forge\n"
    records = ok(testbed, f"ls {PREFIX}/conda-meta").split()
    for name in ("python-3.11.2-", "python_abi-3.11-", "pip-", "conda-24.11.3-"):
        assert any(r.startswith(name) and r.endswith(".json") for r in records), records
    assert "history" in records and ok(testbed, f"test -d {PREFIX}/pkgs && test -d {PREFIX}/envs && echo y") == "y\n"
    assert "+conda-forge/linux-64::conda-24.11.3-py311h38be061_0" in ok(testbed, f"cat {PREFIX}/conda-meta/history")
    shell = ok(testbed, f"cat {PREFIX}/etc/profile.d/conda.sh")
    assert f"export CONDA_EXE='{PREFIX}/bin/conda'" in shell
    assert f"export CONDA_PYTHON_EXE='{PREFIX}/bin/python'" in shell


def test_a_second_run_without_u_refuses_the_existing_prefix(testbed, downloaded, installed):
    again = sh(testbed, f"cd /root/dl && bash {downloaded} -b -p {PREFIX}")
    assert again.exited == 1
    assert again.stderr.splitlines() == [f"ERROR: File or directory already exists: '{PREFIX}'",
                                         "If you want to update an existing installation, use the -u option."]


def test_create_builds_the_environment_from_the_channel(testbed, settings, env):
    assert env.ok, env.stdout + env.stderr
    assert "## Package Plan ##" in env.stdout and f"environment location: {ENV}" in env.stdout
    assert "Executing transaction: done" in env.stdout
    listed = json.loads(ok(testbed, f"{CONDA} list -p {ENV} --json"))
    assert all(set(entry) == LIST_KEYS for entry in listed)
    versions = {e["name"]: (e["version"], e["channel"], e["base_url"]) for e in listed}
    channel = settings["channels"][0]
    assert versions["tabulate"] == ("0.8.10", channel.split("/", 3)[3], channel)
    assert {name: v[0] for name, v in versions.items() if name in ("python", "r-base", "r-jsonlite")} == {
        "python": "3.11.2", "r-base": "4.2.2", "r-jsonlite": "1.8.8"}
    assert ENV in json.loads(ok(testbed, f"{CONDA} env list --json"))["envs"]


def test_install_changes_only_the_package_it_names(testbed, settings, env):
    before = conda_meta(testbed)
    channel = shlex.quote(settings["channels"][0])
    ok(testbed, f"{CONDA} install -y -p {ENV} --override-channels -c {channel} tabulate=0.9")
    after = conda_meta(testbed)
    assert before ^ after == {"tabulate-0.8.10-pyhd8ed1ab_0.json", "tabulate-0.9.0-pyhd8ed1ab_1.json"}
    again = ok(testbed, f"{CONDA} install -y -p {ENV} --override-channels -c {channel} tabulate=0.9")
    assert "# All requested packages already installed." in again and conda_meta(testbed) == after


def tabulate_version(testbed):
    listed = json.loads(ok(testbed, f"{CONDA} list -p {ENV} --json"))
    return next(e["version"] for e in listed if e["name"] == "tabulate")


def test_conda_run_uses_the_environments_python(testbed, env):
    command = "python -c 'import sys, tabulate; print(sys.prefix, tabulate.__version__)'"
    assert ok(testbed, f"{CONDA} run -p {ENV} {command}").split() == [ENV, tabulate_version(testbed)]
    assert sh(testbed, f"{CONDA} run -p {ENV} sh -c 'exit 3'").exited == 3


def test_rscript_of_the_environment_reads_its_library(testbed, env):
    script = shlex.quote('cat(as.character(packageVersion("jsonlite")), .libPaths()[1], R.home())')
    assert ok(testbed, f"{ENV}/bin/Rscript -e {script}").split() == ["1.8.8", f"{ENV}/lib/R/library", "/usr/lib/R"]


def test_pip_installs_from_the_index_and_conda_lists_it_as_pypi(testbed, settings, env):
    index = shlex.quote(settings["pip_index_url"])
    ok(testbed, f"{ENV}/bin/python -m pip install --no-input --disable-pip-version-check --index-url {index} "
                "humanize==4.9.0")
    assert ok(testbed, f"{ENV}/bin/python -c 'import humanize; print(humanize.__version__)'").strip() == "4.9.0"
    listed = json.loads(ok(testbed, f"{CONDA} list -p {ENV} --json"))
    assert {"base_url": "https://conda.anaconda.org/pypi", "build_number": 0, "build_string": "pypi_0",
            "channel": "pypi", "dist_name": "humanize-4.9.0-pypi_0", "name": "humanize", "platform": "pypi",
            "version": "4.9.0"} in listed
    assert [e["name"] for e in listed if e["channel"] == "pypi"] == ["humanize"]


def test_a_user_activates_and_deactivates_the_environment(testbed, env):
    script = (f". {PREFIX}/etc/profile.d/conda.sh && conda activate t && "
              'echo "$CONDA_PREFIX $CONDA_DEFAULT_ENV $CONDA_SHLVL $PS1" && '
              "python -c 'import tabulate, sys; print(sys.prefix, tabulate.__version__)' && "
              'conda deactivate && echo "${CONDA_PREFIX:-none} $CONDA_SHLVL" && command -v python3')
    out = [line.rstrip() for line in ok(testbed, f"bash -c {shlex.quote(script)}", user="gpuadmin").splitlines()]
    assert out == [f"{ENV} t 1 (t)", f"{ENV} {tabulate_version(testbed)}", "none 0", "/usr/bin/python3"]
