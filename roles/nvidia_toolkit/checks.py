"""Checks of the nvidia-toolkit role: toolkit held, runtime registered, CDI spec current, and a GPU container."""

import json
import re

import pytest

from gpuhost.roles import _checks, _docker_daemon, nvidia_toolkit as toolkit


@pytest.fixture
def mine(gpuhost_settings):
    return gpuhost_settings["nvidia_toolkit"]


def test_the_toolkit_is_installed_and_held(host, mine):
    version = toolkit.package_version(mine["version"])
    _checks.assert_held_at(host, dict.fromkeys(toolkit.PACKAGES, version))
    assert host.run("nvidia-ctk --version").rc == 0


def test_the_repository_is_signed_by_the_pinned_key(host, gpuhost_settings):
    _checks.assert_key_pinned(host, toolkit.KEYRING, gpuhost_settings["container_toolkit_repo"]["key_fingerprint"])
    source = host.file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources")
    assert source.contains(f"Signed-By: {toolkit.KEYRING}")


def test_daemon_json_registers_the_nvidia_runtime(host, mine):
    if "docker" not in mine["runtimes"]:
        pytest.skip("docker is not in nvidia_toolkit.runtimes")
    config = json.loads(host.file(_docker_daemon.DAEMON_JSON).content_string)
    assert config["runtimes"]["nvidia"] == toolkit.RUNTIME
    if mine["default_runtime"]:
        assert config["default-runtime"] == "nvidia"


def test_docker_lists_the_nvidia_runtime(host, mine):
    if "docker" not in mine["runtimes"]:
        pytest.skip("docker is not in nvidia_toolkit.runtimes")
    result = _checks.as_root(host, "docker info --format '{{json .Runtimes}}'")
    assert result.rc == 0 and "nvidia" in json.loads(result.stdout), result.stdout + result.stderr


def test_containerd_registers_the_nvidia_runtime(host, mine):
    if "containerd" not in mine["runtimes"]:
        pytest.skip("containerd is not in nvidia_toolkit.runtimes")
    assert host.file("/etc/containerd/config.toml").contains("nvidia-container-runtime")


def test_the_dev_char_rule_is_installed(host, mine):
    if not mine["dev_char_symlinks"]:
        pytest.skip("nvidia_toolkit.dev_char_symlinks is off")
    assert host.file(toolkit.UDEV_RULE).content_string == toolkit.UDEV_TEXT


def test_the_cdi_spec_names_every_gpu_and_the_loaded_driver(host, mine, gpuhost_facts):
    gpus = len(gpuhost_facts.get("pci", []))
    if not mine["cdi"] or not gpus:
        pytest.skip("no GPU on this host" if mine["cdi"] else "nvidia_toolkit.cdi is off")
    spec = host.file(toolkit.CDI_SPEC).content_string
    loaded = host.file("/sys/module/nvidia/version").content_string.strip()
    assert f"libnvidia-ml.so.{loaded}" in spec, f"the CDI spec is not for the loaded driver {loaded}"
    assert len(re.findall(r'^  name: "\d+"$', spec, re.M)) == gpus


@pytest.mark.gpu
def test_a_container_sees_every_gpu(host, mine, gpuhost_facts):
    result = _checks.as_root(host, "docker run --rm --gpus all %s nvidia-smi -L", mine["check_image"])
    assert result.rc == 0, result.stderr
    assert result.stdout.count("GPU ") == len(gpuhost_facts["pci"]), result.stdout
