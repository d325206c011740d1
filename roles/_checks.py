"""Helpers the roles' checks share: held packages at exact versions, pinned keys, header versions, root."""

import re

import pytest

from gpuhost import openpgp
from gpuhost.roles import _nvidia


def assert_held_at(host, packages):
    """Every package installed at its version (when one is given) and held."""
    for name, version in packages.items():
        status = host.run("dpkg-query -W -f='${Status}|${Version}' %s", name)
        assert status.rc == 0, f"{name} is not installed"
        state, installed = status.stdout.split("|")
        assert state == "hold ok installed", f"{name} is {state!r}, not held"
        if version:
            assert installed == version, f"{name} is at {installed}, not {version}"


def assert_key_pinned(host, keyring, fingerprint):
    data = host.file(keyring).content
    assert openpgp.holds_only(data, openpgp.normalize(fingerprint)), f"{keyring} holds more or other than the pinned key"


def assert_nvidia_repository(host, settings, stack):
    assert_key_pinned(host, _nvidia.KEYRING, settings["nvidia_repo"]["key_fingerprint"])
    source = host.file(f"/etc/apt/sources.list.d/cuda-{stack.repo}-{stack.repo_arch}.sources")
    assert source.contains(f"Signed-By: {_nvidia.KEYRING}")


def header_defines(host, path, names):
    """Integer #defines of a C header, following one level of aliases (`#define A B`)."""
    text = host.file(path).content_string
    values = dict(re.findall(r"#define\s+(\w+)\s+(\w+)", text))
    resolved = {}
    for name in names:
        value = values.get(name)
        value = values.get(value, value)
        assert value is not None and value.isdigit(), f"{path} does not define {name}"
        resolved[name] = int(value)
    return resolved


def as_root(host, command, *args):
    """A command run as root through passwordless sudo; skipped, saying why, where sudo wants a password."""
    result = host.run("sudo -n " + command, *args)
    if result.rc != 0 and "password is required" in result.stderr:
        pytest.skip("this check needs root and sudo on the host asks for a password")
    return result
