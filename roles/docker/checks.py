"""Checks of the docker role: the engine runs, daemon.json keeps the settings, users, the source as chosen."""

import json

import pytest

from gpuhost.ops import json_file
from gpuhost.roles import _checks, _docker_daemon, docker


def test_docker_is_enabled_and_running(host):
    service = host.service("docker")
    assert service.is_enabled and service.is_running


def test_the_engine_answers(host):
    result = _checks.as_root(host, "docker info --format '{{.ServerVersion}}'")
    assert result.rc == 0 and result.stdout.strip(), result.stderr


def test_daemon_json_is_valid_and_holds_every_setting(host, gpuhost_settings):
    wanted = gpuhost_settings["docker"]["daemon"]
    config = host.file(_docker_daemon.DAEMON_JSON)
    if not wanted and not config.exists:
        pytest.skip("docker.daemon is empty and there is no daemon.json")
    current = json.loads(config.content_string)
    assert isinstance(current, dict)
    assert json_file.merge(current, wanted) == current, f"daemon.json lacks some of {wanted}"


def test_users_are_in_the_docker_group(host, gpuhost_settings):
    users = gpuhost_settings["docker"]["users"]
    if not users:
        pytest.skip("docker.users is empty")
    for user in users:
        assert "docker" in host.user(user).groups, f"{user} is not in the docker group"


def test_packages_come_from_the_chosen_source_only(host, gpuhost_settings, gpuhost_facts):
    mine = gpuhost_settings["docker"]
    wanted, other = (("docker-ce", "docker.io") if mine["source"] == "docker" else ("docker.io", "docker-ce"))
    assert host.package(wanted).is_installed and not host.package(other).is_installed
    if mine["version"]:
        version = docker.ce_version(mine["version"], gpuhost_facts) if mine["source"] == "docker" else mine["version"]
        _checks.assert_held_at(host, {wanted: version})


def test_dockers_repository_is_signed_by_the_pinned_key(host, gpuhost_settings):
    if gpuhost_settings["docker"]["source"] != "docker":
        pytest.skip("docker.source is distro")
    _checks.assert_key_pinned(host, docker.KEYRING, gpuhost_settings["docker_repo"]["key_fingerprint"])
    assert host.file("/etc/apt/sources.list.d/docker.sources").contains(f"Signed-By: {docker.KEYRING}")
