"""The engine end to end: real SSH, sudo, apt, dpkg and systemd on the project's test hosts.

The role under test is `tests.roles.motd` (a package, a file, a group, a service and a handler),
so these tests prove the engine, not the NVIDIA roles.
"""

import subprocess
import time

import pytest
from fabric import Connection

from gpuhost import connect, inventory, runner
from gpuhost.apply import apply
from tests.roles import motd
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
ROLES = {"motd": motd}


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    """tb5 (sudo without password) and tb6 (sudo with a password), both new."""
    return fresh_hosts(HostSpec("tb5", gpus=("none",)), HostSpec("tb6", gpus=("none",), sudo="password"))


def run(bed, names, check=False, **overrides):
    targets = inventory.load(bed.inventory_path).select(names)
    options = runner.Options(check=check, overrides=overrides, echo=False)
    return {r.name: r for r in runner.run(targets, ["motd"], options, ROLES)}


def commands(result):
    return [c for role in result.roles.values() for step in role["steps"] for c in step["commands"]]


def test_facts_of_a_test_host_take_one_remote_command(testbed, hosts):
    targets = inventory.load(testbed.inventory_path).select("tb5")
    (result,) = runner.gather_facts(targets, runner.Options(echo=False))
    assert result.remote_commands == 1
    assert result.facts["os"]["id"] == "debian" and result.facts["user"]["name"] == "gpuadmin"
    assert result.facts["dpkg_lock"] == {"held": False}


def test_plan_lists_exactly_what_converge_runs_then_nothing_is_left(testbed, hosts):
    planned = run(testbed, "tb5", check=True)["tb5"]
    assert planned.status == "changed" and planned.changed == 4  # packages, file, group, restart handler
    converged = run(testbed, "tb5")["tb5"]
    assert converged.status == "changed", converged.error
    assert commands(converged) == commands(planned)
    again = run(testbed, "tb5")["tb5"]
    assert (again.status, again.changed, commands(again)) == ("ok", 0, [])
    assert again.remote_commands == 1  # the facts round tells every step it has nothing to do


def test_a_changed_setting_changes_only_its_file_and_restarts_once(testbed, hosts):
    run(testbed, "tb5")
    result = run(testbed, "tb5", motd={"message": "changed"})["tb5"]
    names = [s["name"] for s in result.roles["motd"]["steps"] if s["changed"]]
    assert names == ["file /etc/motd.d/gpuhost", "restart cron.service"]
    with testbed.connect("tb5") as c:
        assert c.run("cat /etc/motd.d/gpuhost", hide=True, in_stream=False).stdout == "changed\n"


def test_sudo_with_a_password_converges_and_a_wrong_one_is_one_sentence(testbed, hosts, monkeypatch):
    password = testbed.become_password_path.read_text().strip()
    monkeypatch.setenv("GPUHOST_BECOME_PASSWORD", password)
    assert run(testbed, "tb6")["tb6"].status in ("changed", "ok")
    monkeypatch.setenv("GPUHOST_BECOME_PASSWORD", "wrong")
    result = run(testbed, "tb6", motd={"message": "wrong password"})["tb6"]
    assert result.status == "failed" and result.error == "sudo on tb6 rejected the password given for it."
    monkeypatch.delenv("GPUHOST_BECOME_PASSWORD")
    result = run(testbed, "tb6", motd={"message": "no password"})["tb6"]
    assert result.error.startswith("sudo on tb6 needs a password")


def test_the_sudo_password_reaches_sudo_alone(testbed, hosts):
    """A command run as root reads stdin and looks at its process list: the password is in neither."""
    password = testbed.become_password_path.read_text().strip()
    (target,) = inventory.load(testbed.inventory_path).select("tb6")
    host = runner.open_host(target, runner.Options())
    host.become_password = password
    host.gather()
    seen = host.run("id -u; timeout 5 cat; ps -eo args", sudo=True, what="reading stdin").stdout
    assert seen.splitlines()[0] == "0" and password not in seen


def test_an_unreachable_host_fails_alone(testbed, hosts):
    loaded = inventory.load(testbed.inventory_path)
    ghost = inventory.Target(name="ghost", address="10.77.0.99", user="gpuadmin", key_file=str(testbed.key_path),
                             known_hosts_file=str(testbed.known_hosts_path))
    options = runner.Options(echo=False)
    results = {r.name: r for r in runner.run([ghost, *loaded.select("tb5")], ["motd"], options, ROLES)}
    assert results["ghost"].status == "unreachable"
    assert results["ghost"].error.startswith("ghost (10.77.0.99:22) is unreachable")
    assert results["tb5"].status in ("ok", "changed")


def test_host_keys_are_checked(testbed, hosts, tmp_path):
    (target,) = inventory.load(testbed.inventory_path).select("tb5")
    target.known_hosts_file = str(tmp_path / "known_hosts")
    with pytest.raises(connect.ConnectError, match="is not in .*known_hosts; check its key"):
        connect.open_connection(target)
    connect.open_connection(target, accept_new_host_keys=True).close()
    assert "10.77.0.15" in (tmp_path / "known_hosts").read_text()
    connect.open_connection(target).close()  # recorded: trusted from now on
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    key = (tmp_path / "k.pub").read_text().split()[:2]
    (tmp_path / "known_hosts").write_text(f"10.77.0.15 {' '.join(key)}\n")
    with pytest.raises(connect.ConnectError, match="presented a different host key"):
        connect.open_connection(target, accept_new_host_keys=True)


def test_apt_waits_for_the_dpkg_lock_and_names_its_holder_when_it_gives_up(testbed, hosts):
    with testbed.connect("tb5") as c:
        c.run("apt-mark unhold cron >/dev/null; apt-get remove -y -q cron >/dev/null", hide=True)
    testbed.hold_lock("tb5", 60)
    try:
        (seen,) = runner.gather_facts(inventory.load(testbed.inventory_path).select("tb5"), runner.Options(echo=False))
        result = run(testbed, "tb5", motd={"hold": True}, apt={"lock_timeout": 2})["tb5"]
    finally:
        testbed.release_lock("tb5")
    lock = seen.facts["dpkg_lock"]
    assert (lock["held"], lock["file"], lock["process"]) == (True, "/var/lib/dpkg/lock-frontend", "unattended-upgr")
    assert f"is held by process {lock['pid']}" in result.error
    assert result.status == "failed"
    assert "is held by process" in result.error and "was not released within 2 s" in result.error
    testbed.hold_lock("tb5", 4)
    started = time.monotonic()
    result = run(testbed, "tb5", motd={"hold": True}, apt={"lock_timeout": 60})["tb5"]
    assert result.status == "changed", result.error
    assert time.monotonic() - started >= 3


def test_reboot_waits_for_a_new_boot(testbed, hosts):
    (target,) = inventory.load(testbed.inventory_path).select("tb5")
    host = runner.open_host(target, runner.Options())
    before = host.gather()["boot_id"]
    after = host.reboot("true", timeout=120)["boot_id"]
    assert after != before and host.remote_commands >= 3


def test_a_role_applies_from_a_plain_fabric_script(testbed, hosts):
    address = testbed.address("tb5")
    connection = Connection(address, user="gpuadmin", connect_kwargs={"key_filename": [str(testbed.key_path)]})
    connection.client.load_host_keys(str(testbed.known_hosts_path))
    result = apply(connection, motd, message="from a fab script")
    assert result.status == "changed" and result.changed >= 1
    assert apply(connection, motd, message="from a fab script").changed == 0

