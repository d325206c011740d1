"""Checks of the conda-r-python role: shared install, environments usable from Python and R, kernels, GPUs.

The checks connect as the login account, which can become root: they never run code from the
prefix as that account (members of the group can change it), only as the conda account, through
`sudo -n runuser` (skipped, saying why, where sudo asks for a password).
"""

import json

import pytest
from packaging.utils import canonicalize_name

from gpuhost.roles import _checks
from gpuhost.roles import conda_r_python as role
from gpuhost.roles.conda_r_python import credentials, definitions, specs


@pytest.fixture
def mine(gpuhost_settings):
    return gpuhost_settings["conda_r_python"]


@pytest.fixture
def envs(mine, gpuhost_settings):
    if not mine["envs"]:
        pytest.skip("conda_r_python.envs is empty")
    return {name: (options or {}, definitions.wanted(name, options, mine, gpuhost_settings))
            for name, options in mine["envs"].items()}


def as_owner(host, mine, command, *args):
    """stdout of a command run as the conda account; the check fails with its stderr when it fails."""
    result = _checks.as_root(host, "runuser -u %s -- env -C / " + command, mine["owner"], *args)
    assert result.rc == 0, result.stderr.strip()
    return result.stdout.strip()


def test_the_prefix_belongs_to_the_group_with_setgid_folders(host, mine):
    prefix = host.file(mine["prefix"])
    assert prefix.is_directory and prefix.group == mine["group"]
    assert prefix.mode & 0o2070 == 0o2070, f"{mine['prefix']} is {oct(prefix.mode)}: not setgid and group-writable"


def test_the_channels_are_the_configured_ones(host, mine):
    expected = role.condarc(mine, credentials.Credentials())
    assert host.file(f"{mine['prefix']}/.condarc").content_string == expected


def test_the_credentials_are_readable_by_root_and_the_login_account_alone(host):
    found = host.file(credentials.CREDENTIALS)
    if not found.exists:
        pytest.skip("no setting carries credentials")
    assert not found.is_symlink and found.mode == 0o600 and found.user in ("root", host.user().name)


def test_every_group_member_runs_conda_from_a_login_shell(host, mine):
    if not mine["users"] or not mine["profile"]:
        pytest.skip("conda_r_python.users is empty or conda_r_python.profile is off")
    for user in mine["users"]:
        result = _checks.as_root(host, "su -l %s -c 'conda --version'", user)
        assert result.rc == 0 and result.stdout.startswith("conda "), f"{user}: {result.stderr}"


def test_each_environment_has_the_wanted_python_and_r(host, mine, envs):
    for name, (options, _) in envs.items():
        path = f"{mine['prefix']}/envs/{name}"
        if options.get("python"):
            version = as_owner(host, mine, "%s/bin/python -c 'import platform; print(platform.python_version())'", path)
            assert specs.conda_spec(f"python={options['python']}").satisfied_by(version, ""), f"{name}: Python {version}"
        if options.get("r"):
            version = as_owner(host, mine, "%s/bin/Rscript -e 'cat(as.character(getRversion()))'", path)
            assert specs.conda_spec(f"r-base={options['r']}").satisfied_by(version, ""), f"{name}: R {version}"


def test_each_environment_holds_the_wanted_packages(host, mine, envs):
    for name, (_, wanted) in envs.items():
        listed = json.loads(as_owner(host, mine, "%s/bin/conda list --prefix %s/envs/%s --json", mine["prefix"],
                                     mine["prefix"], name))
        conda = {p["name"]: (p["version"], p["build_string"]) for p in listed if p["channel"] != "pypi"}
        pip = {canonicalize_name(p["name"]): p["version"] for p in listed if p["channel"] == "pypi"}
        assert not specs.unmet(wanted.conda, conda), f"{name} lacks {specs.unmet(wanted.conda, conda)}"
        assert all(specs.pip_satisfied(r, {**pip, **_python_dists(conda)}) for r in wanted.pip), f"{name}: pip {pip}"


def test_the_kernels_are_registered_system_wide(host, mine, envs):
    found = 0
    for name, (options, wanted) in envs.items():
        if not options.get("kernels", mine["kernels"]):
            continue
        for kernel in role.kernels(mine["prefix"], name, wanted):
            spec = json.loads(host.file(kernel.path).content_string)
            assert host.file(spec["argv"][0]).exists, f"{kernel.path} starts {spec['argv'][0]}, which is missing"
            found += 1
    if not found:
        pytest.skip("no environment registers a kernel")


@pytest.mark.gpu
def test_the_framework_sees_every_gpu_from_python_and_r(host, mine, envs, gpuhost_facts):
    gpus = len(gpuhost_facts["pci"])
    for name, (options, _) in envs.items():
        path, framework = f"{mine['prefix']}/envs/{name}", options.get("framework")
        if not framework:
            continue
        count = {"pytorch": "import torch; print(torch.cuda.device_count())",
                 "tensorflow": "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"}
        assert as_owner(host, mine, "%s/bin/python -c %s", path, count[framework]) == str(gpus)
        if options.get("r"):
            module = {"pytorch": "torch", "tensorflow": "tensorflow"}[framework]
            call = {"pytorch": "m$cuda$device_count()", "tensorflow": "length(m$config$list_physical_devices('GPU'))"}
            script = (f"library(reticulate); use_python('{path}/bin/python', required=TRUE); "
                      f"m <- import('{module}'); cat({call[framework]})")
            assert as_owner(host, mine, "%s/bin/Rscript -e %s", path, script) == str(gpus)


def _python_dists(conda):
    """conda packages count for pip requirements too (conda-forge ships their dist-info)."""
    return {canonicalize_name(name): version for name, (version, _) in conda.items()}
