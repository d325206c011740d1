"""SSH as users have it: many new hosts at once, a bastion (ProxyJump), a known_hosts with every
kind of line, for `gpuhost converge` and `gpuhost verify` alike, run as a user runs them.

tb40..tb47 are plain hosts; tb48 is the bastion; tb49 lets gpuadmin in only from the bastion
(sshd `AllowUsers`), so a login there proves the way went through it. The CLI gets a HOME of
its own whose ~/.ssh/config names the aliases and jumps. Two roles written here, `probe-a` and
`probe-b`, change nothing; their checks record, in $PROBE_OUT, which target they ran for and
the client address the host saw ($SSH_CONNECTION).
"""

import json
import os
import re
import socket
import subprocess
import textwrap
from pathlib import Path

import paramiko
import pytest
import yaml

from gpuhost import connect, inventory
from tests.integration.converging import GPUHOST
from tests.testbed import hosts as testbed_hosts
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
PLAIN = [f"tb{i}" for i in range(40, 48)]
BASTION, BEHIND = "10.77.0.58", "10.77.0.59"
CONTROLLER = "10.77.0.1"
NOWHERE, GONE = "10.77.0.200", "10.77.0.201"  # on the bridge, outside the hosts' range: nothing answers
REPO = Path(__file__).resolve().parents[2]

PROBE_ROLE = '''"""A role that changes nothing; its check records how its host was reached."""
NAME = "{name}"
REQUIRES = ()


def steps(host, settings):
    return iter(())
'''
PROBE_CHECK = '''import os
from pathlib import Path

from gpuhost.pytest_plugin import target_of


def test_record_the_login(host):
    seen = host.check_output("echo $SSH_CONNECTION")
    Path(os.environ["PROBE_OUT"], "{name}-" + target_of(host).name).write_text(seen)
'''


@pytest.fixture(scope="module")
def hosts(fresh_hosts, testbed):
    """tb40..tb49, new; tb49 accepts gpuadmin only from the bastion tb48."""
    names = fresh_hosts(*(HostSpec(f"tb{i}", gpus=("none",)) for i in range(40, 50)))
    with testbed.connect("tb49") as c:
        c.run(f"printf 'AllowUsers gpuadmin@{BASTION} root\\n' > /etc/ssh/sshd_config.d/only-bastion.conf"
              " && systemctl reload ssh", hide=True)
    return names


@pytest.fixture(scope="module")
def keys(hosts):
    """{address: "ssh-ed25519 AAAA…"}: each host's own public key, read from its filesystem."""
    return {HostSpec(name).address: testbed_hosts.host_key(name) for name in hosts}


@pytest.fixture(scope="module")
def user(tmp_path_factory, testbed, hosts):
    """A user's world: HOME with ~/.ssh/config, and the probe roles on PYTHONPATH."""
    root = tmp_path_factory.mktemp("user")
    home, roles = root / "home", root / "roles"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    (home / ".ssh" / "config").write_text(textwrap.dedent(f"""\
        # aliases and jumps, as a user writes them
        Host bastion
          HostName {BASTION}
        Host tb49-behind
          HostName {BEHIND}
          ProxyJump bastion
        Host hop47
          HostName 10.77.0.57
        Host tb46-two-hops
          HostName 10.77.0.56
          ProxyJump bastion,hop47
        Host deadjump
          HostName {NOWHERE}
        Host tb49-dead-jump
          HostName {BEHIND}
          ProxyJump deadjump
        Host gone-behind
          HostName {GONE}
          ProxyJump bastion
        Host *
          User gpuadmin
          IdentityFile {testbed.key_path}
          IdentitiesOnly yes
        """))
    for name in ("probe_a", "probe_b"):
        (roles / name).mkdir(parents=True)
        (roles / name / "__init__.py").write_text(PROBE_ROLE.format(name=name.replace("_", "-")))
        (roles / name / "checks.py").write_text(PROBE_CHECK.format(name=name))
    env = {**os.environ, "HOME": str(home), "GPUHOST_EXTRA_ROLES": "tests.roles.motd,probe_a,probe_b",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(roles), os.environ.get("PYTHONPATH")]))}
    return {"root": root, "home": home, "env": env}


def known_hosts(path, lines, hashed):
    """A known_hosts as people have them: comments, a CA line, a revoked key, a [host]:port entry,
    and `hashed` lines hashed by OpenSSH itself (ssh-keygen -H)."""
    stray = _fresh_key(path.parent)
    text = (f"# my hosts\n\n@cert-authority *.corp.example {stray}\n@revoked * {_fresh_key(path.parent)}\n"
            f"[{BEHIND}]:2222 {stray} an old port-forward\n" + "".join(f"{line}\n" for line in lines))
    scratch = path.with_suffix(".to-hash")
    scratch.write_text("".join(f"{line}\n" for line in hashed))
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(scratch)], check=True, capture_output=True)
    text += scratch.read_text()
    path.write_text(text)
    return path


def _fresh_key(folder):
    path = folder / f"stray{len(list(folder.glob('stray*.pub')))}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


def write_inventory(path, hosts):
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}, sort_keys=False))
    return path


def direct(testbed, address, known):
    return {"ansible_host": address, "ansible_user": "gpuadmin", "ansible_ssh_private_key_file": str(testbed.key_path),
            "gpuhost_known_hosts_file": str(known)}


def gpuhost(user, *args, timeout=300, **env):
    """The CLI as a user runs it, in the user's HOME."""
    return subprocess.run([GPUHOST, *args], capture_output=True, text=True,
                          env={**user["env"], **env}, cwd=REPO, timeout=timeout, check=False)


def report_of(user, name):
    return json.loads((user["root"] / name).read_text())["hosts"]


def assert_one_sentence(text):
    assert "\n" not in text and text.endswith(".") and not re.search(r"\.\s+[A-Z]", text), text


def test_tb49_refuses_gpuadmin_from_anywhere_but_the_bastion(testbed, hosts):
    refused = subprocess.run(["ssh", "-F", "/dev/null", "-i", str(testbed.key_path), "-o", "BatchMode=yes",
                              "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                              f"gpuadmin@{BEHIND}", "true"], capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr


def test_new_hosts_at_once_all_get_recorded_and_the_comment_stays(testbed, keys, user):
    known = user["home"] / ".ssh" / "known_hosts"  # the user's own, also for the bare alias below
    known.write_bytes(b"# my own notes, kept\n")
    inv = write_inventory(user["root"] / "new.yaml", {name: direct(testbed, HostSpec(name).address, known) for name in PLAIN})
    hosts = ",".join([*PLAIN, "tb49-behind"])  # an ssh_config alias behind the bastion, not in the inventory
    run = gpuhost(user, "converge", "--host", hosts, "--inventory", str(inv), "--roles", "probe-a",
                  "--accept-new-host-keys")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = known.read_text().splitlines()
    assert lines[0] == "# my own notes, kept"
    assert sorted(lines[1:]) == sorted(f"{address} {key}" for address, key in keys.items())  # tb40..tb47, tb48, tb49
    again = gpuhost(user, "converge", "--host", hosts, "--inventory", str(inv), "--roles", "probe-a")
    assert again.returncode == 0, again.stdout + again.stderr
    assert known.read_text().splitlines() == lines


@pytest.fixture(scope="module")
def kinds(user, keys):
    """known_hosts files that differ only in what they say about the bastion."""
    root = user["root"]
    others = [f"{a} {keys[a]}" for a in ("10.77.0.50", "10.77.0.56", "10.77.0.57")]
    target = [f"{BEHIND} {keys[BEHIND]}"]
    bastion = f"{BASTION} {keys[BASTION]}"
    return {
        "good": known_hosts(root / "kh_good", [bastion, *others], hashed=target),
        "no_bastion": known_hosts(root / "kh_no_bastion", others, hashed=target),
        "changed": known_hosts(root / "kh_changed", [f"{BASTION} {_fresh_key(root)}", *others], hashed=target),
        "revoked": known_hosts(root / "kh_revoked", [bastion, f"@revoked {BASTION} {keys[BASTION]}", *others],
                               hashed=target),
    }


def test_converge_goes_through_the_bastion_and_each_failure_is_one_sentence(testbed, user, kinds):
    hosts = {"via-bastion": ("tb49-behind", "good"), "bastion-unknown": ("tb49-behind", "no_bastion"),
             "bastion-changed": ("tb49-behind", "changed"), "bastion-revoked": ("tb49-behind", "revoked"),
             "bastion-down": ("tb49-dead-jump", "good"), "target-gone": ("gone-behind", "good")}
    inv = write_inventory(user["root"] / "bastion.yaml", {
        name: {"ansible_host": alias, "gpuhost_known_hosts_file": str(kinds[kind])} for name, (alias, kind) in hosts.items()})
    before = {kind: path.read_bytes() for kind, path in kinds.items()}
    run = gpuhost(user, "converge", "--host", ",".join(hosts), "--inventory", str(inv), "--roles", "motd",
                  "--set", "motd.message=through the bastion", "--report", str(user["root"] / "bastion.json"))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    results = report_of(user, "bastion.json")
    assert results["via-bastion"]["status"] == "changed", results["via-bastion"]["error"]
    with testbed.connect("tb49") as c:
        assert c.run("cat /etc/motd.d/gpuhost", hide=True).stdout == "through the bastion\n"
    errors = {name: results[name]["error"] for name in hosts if name != "via-bastion"}
    assert {results[name]["status"] for name in errors} == {"unreachable"}
    for error in errors.values():
        assert_one_sentence(error)
    assert errors["bastion-unknown"] == (
        f"bastion-unknown's jump host bastion ({BASTION}:22) is not in {kinds['no_bastion']}; check its key and add it, "
        "or pass --accept-new-host-keys to record it on first use.")
    assert errors["bastion-changed"].startswith(
        f"bastion-changed's jump host bastion ({BASTION}:22) presented a different host key (SHA256:")
    assert errors["bastion-revoked"].startswith(f"bastion-revoked's jump host bastion ({BASTION}:22) presented a host key")
    assert errors["bastion-revoked"].endswith(f"that {kinds['revoked']} lists as @revoked, so gpuhost refuses to connect.")
    assert errors["bastion-down"] == f"bastion-down's jump host deadjump ({NOWHERE}:22) is unreachable: No route to host."
    assert errors["target-gone"] == f"target-gone ({GONE}:22) is unreachable from its jump host bastion: Connect failed."
    assert "Secsh channel" not in run.stderr  # paramiko's own log line does not join the sentence
    assert {kind: path.read_bytes() for kind, path in kinds.items()} == before  # nothing recorded without asking


def test_verify_goes_the_same_way_and_checks_each_host_for_its_own_roles(testbed, user, kinds):
    def behind(kind, roles):
        return {"ansible_host": "tb49-behind", "gpuhost_known_hosts_file": str(kinds[kind]), "roles": roles}

    inv = write_inventory(user["root"] / "verify.yaml", {
        "via-bastion": behind("good", ["probe-a"]),
        "via-bastion-too": behind("good", ["probe-b"]),  # the same address, other roles: told apart by name
        "two-hops": {"ansible_host": "tb46-two-hops", "gpuhost_known_hosts_file": str(kinds["good"]), "roles": ["probe-a"]},
        "tb40": {**direct(testbed, "10.77.0.50", kinds["good"]), "roles": ["probe-a", "probe-b"]},
        "bastion-down": {"ansible_host": "tb49-dead-jump", "gpuhost_known_hosts_file": str(kinds["good"]),
                         "roles": ["probe-a"]},
        "bastion-unknown": behind("no_bastion", ["probe-a"]),
        "bastion-revoked": behind("revoked", ["probe-a"]),
    })
    out = user["root"] / "checked"
    out.mkdir()
    run = gpuhost(user, "verify", "--host", "via-bastion,via-bastion-too,two-hops,tb40,bastion-down,bastion-unknown,"
                  "bastion-revoked", "--inventory", str(inv), PROBE_OUT=str(out))
    assert run.returncode == 1, run.stdout + run.stderr
    down = {line.split("]")[0][1:]: line for line in run.stdout.splitlines() if line.startswith("[")}
    assert set(down) == {"bastion-down", "bastion-unknown", "bastion-revoked"}, run.stdout
    for name, line in down.items():
        assert line.startswith(f"[{name}] unreachable: OpenSSH cannot log in to {name}: ")
        assert_one_sentence(line)
    assert "No route to host" in down["bastion-down"]
    assert f"No ED25519 host key is known for {BASTION} and you have requested strict checking" in down["bastion-unknown"]
    assert "Host key verification failed" in down["bastion-revoked"]
    assert "5 passed" in run.stdout, run.stdout
    seen = {p.name: p.read_text().split()[0] for p in out.iterdir()}
    assert seen == {"probe_a-via-bastion": BASTION, "probe_b-via-bastion-too": BASTION, "probe_a-two-hops": "10.77.0.57",
                    "probe_a-tb40": CONTROLLER, "probe_b-tb40": CONTROLLER}


def test_a_connection_through_two_jumps_takes_openssh_order_and_sets_no_delay_on_the_socket(user, kinds, monkeypatch):
    monkeypatch.setenv("HOME", str(user["home"]))
    target = inventory.Target(name="two-hops", address="tb46-two-hops", known_hosts_file=str(kinds["good"]))
    connection = connect.open_connection(target)
    try:
        first_hop, second_hop = connection.gateway.gateway, connection.gateway
        assert connection.run("echo $SSH_CONNECTION").stdout.split()[0] == "10.77.0.57"
        assert second_hop.run("echo $SSH_CONNECTION").stdout.split()[0] == BASTION
        assert isinstance(connection.transport.sock, paramiko.Channel)
        assert first_hop.transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        connection.close()
    assert not (connection.is_connected or second_hop.is_connected or first_hop.is_connected)


def test_a_host_listed_with_an_old_and_a_new_key_of_one_type_is_trusted(testbed, keys, user):
    known = user["root"] / "rotated_known_hosts"
    known.write_text(f"10.77.0.51 {keys['10.77.0.51']}\n10.77.0.51 {_fresh_key(user['root'])} the old key, not yet removed\n")
    target = inventory.Target(name="tb41", address="10.77.0.51", user="gpuadmin", key_file=str(testbed.key_path),
                              known_hosts_file=str(known))
    connect.open_connection(target).close()
