"""The ssh_config gpuhost verify hands OpenSSH, read back by OpenSSH itself (`ssh -G`, no host needed)."""

import shutil
import subprocess

import pytest

from gpuhost import inventory, pytest_plugin

pytestmark = pytest.mark.skipif(not shutil.which("ssh"), reason="needs OpenSSH's ssh")


def openssh_options(target, host, home):
    config = home / "verify.conf"
    config.write_text(pytest_plugin.ssh_config(target))
    out = subprocess.run(["ssh", "-G", "-F", str(config), host], capture_output=True, text=True, check=True).stdout
    options = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        options.setdefault(key, []).append(value)
    return options


def test_the_users_aliases_apply_but_host_keys_stay_strict(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host gpu-behind\n  HostName 10.1.2.3\n  ProxyJump admin@bastion:2200\n"
                                              "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
                                              "  SendEnv LANG\n")
    target = inventory.Target(name="gpu", address="gpu-behind", known_hosts_file=str(tmp_path / "kh"))
    options = openssh_options(target, "gpu-behind", tmp_path)
    assert options["hostname"] == ["10.1.2.3"] and options["proxyjump"] == ["admin@bastion:2200"]
    assert options["stricthostkeychecking"] == ["true"] and options["batchmode"] == ["yes"]
    assert options["userknownhostsfile"] == [str(tmp_path / "kh")] and options["globalknownhostsfile"] == ["/dev/null"]
    assert "sendenv" not in options


def test_the_key_file_is_the_targets_alone_and_the_default_known_hosts_is_the_users(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    target = inventory.Target(name="gpu", address="10.1.2.3", key_file=str(tmp_path / "id"))
    assert str(tmp_path / "id") in openssh_options(target, "10.1.2.3", tmp_path)["identityfile"]
    jump = openssh_options(target, "bastion", tmp_path)
    assert str(tmp_path / "id") not in jump.get("identityfile", [])
    assert jump["userknownhostsfile"] == [str(tmp_path / ".ssh" / "known_hosts")]
    assert jump["stricthostkeychecking"] == ["true"]
