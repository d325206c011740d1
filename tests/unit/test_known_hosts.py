"""known_hosts read as OpenSSH reads it and only ever appended to (gpuhost.known_hosts).

Keys are real (ssh-keygen); what OpenSSH itself makes of a file is asked of `ssh-keygen -F`,
so the reader is held to OpenSSH's matching, not to what this test believes it to be.
"""

import base64
import multiprocessing
import os
import shutil
import stat
import subprocess
import threading

import paramiko
import pytest

from gpuhost import known_hosts
from gpuhost.known_hosts import HostKeyRefused, KnownHosts, record

pytestmark = pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs OpenSSH's ssh-keygen")
ROUNDS = 20  # rounds of eight processes racing; without the lock about one in four writes a key twice


def keygen(folder, name, kind="ed25519"):
    """A real key pair: returns the public line ("type base64") and the paramiko public key."""
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@test", "-f", str(path)], check=True)
    kind, blob = path.with_suffix(".pub").read_text().split()[:2]
    return f"{kind} {blob}", paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return [keygen(folder, f"k{i}", "rsa" if i == 3 else "ed25519") for i in range(10)]


def openssh_finds(path, name):
    """(marker, base64) of every line `ssh-keygen -F` finds for `name`: OpenSSH's own matching."""
    out = subprocess.run(["ssh-keygen", "-F", name, "-f", str(path)], capture_output=True, text=True, check=False).stdout
    found = set()
    for line in out.splitlines():
        if line and not line.startswith("#"):
            fields = line.split()
            marker = fields.pop(0) if fields[0].startswith("@") else ""
            found.add((marker, fields[2]))
    return found


def gpuhost_finds(path, name):
    return {(e.marker, base64.b64encode(e.blob).decode())
            for e in KnownHosts(path).entries if e.matches(name)}


def test_every_kind_of_line_is_read_as_openssh_reads_it(tmp_path, keys):
    (a, _), (b, _), (c, _), (d, _) = keys[:4]
    keyed = (f"# the user's comment\n\n*.example.com,!bad.example.com {a} a key comment\n[10.0.0.5]:2222 {b}\n"
             f"@revoked * {c}\n@cert-authority *.corp {d}\nhashme,10.0.0.6 {a}\nHOST.Example.COM {b}\n")
    unusable = ("this line means nothing\n@unknown-marker host ssh-ed25519 AAAA\n"
                "host sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==\n"
                "broken ssh-ed25519 not*base64\n")
    plain, hashed = tmp_path / "plain", tmp_path / "hashed"
    hashed.write_text(keyed)
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert hashed.read_text().count("|1|") == 4  # ssh-keygen -H leaves patterns and markers as they are
    plain.write_text(keyed + unusable)
    hashed.write_text(hashed.read_text() + unusable)
    names = ["a.example.com", "bad.example.com", "x.corp", "[10.0.0.5]:2222", "10.0.0.5", "hashme", "10.0.0.6",
             "host.example.com", "host", "nothing"]
    for path in (plain, hashed):
        for name in names:
            assert gpuhost_finds(path, name) == openssh_finds(path, name), (path.name, name)
        assert KnownHosts(path).trusted("broken") == [] and KnownHosts(path).trusted("host") == []


def test_only_plain_lines_are_trusted_and_unusable_lines_are_skipped(tmp_path, keys):
    (a, ka), (b, kb), _, (d, _) = keys[:4]
    path = tmp_path / "known_hosts"
    path.write_text(f"@cert-authority * {d}\n[h]:2222 {b}\nh {a}\nh sk-ecdsa-sha2-nistp256@openssh.com AAAA\n"
                    f"h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\n")
    known = KnownHosts(path)
    assert [k.asbytes() for k in known.trusted("h")] == [ka.asbytes()]
    assert [k.asbytes() for k in known.trusted("[h]:2222")] == [kb.asbytes()]
    assert known.trusted("elsewhere") == []


def test_a_revoked_key_is_refused_even_when_also_listed_plainly(tmp_path, keys):
    (a, ka), (b, kb) = keys[:2]
    path = tmp_path / "known_hosts"
    path.write_text(f"h {a}\nh {b}\n@revoked * {a}\n")
    known = KnownHosts(path)
    assert known.is_revoked("h", ka) and not known.is_revoked("h", kb)
    assert [k.asbytes() for k in known.trusted("h")] == [kb.asbytes()]
    policy = known_hosts.CheckedHostKey(path, accept_new=True)
    with pytest.raises(HostKeyRefused, match=r"lists as @revoked, so gpuhost refuses to connect\.$"):
        policy.missing_host_key(None, "h", ka)
    with pytest.raises(HostKeyRefused, match="@revoked"):
        record(path, "other", ka)
    assert path.read_text() == f"h {a}\nh {b}\n@revoked * {a}\n"


def test_an_unknown_host_is_refused_unless_new_keys_are_accepted(tmp_path, keys):
    (_, ka), (_, kb) = keys[:2]
    path = tmp_path / "known_hosts"
    with pytest.raises(HostKeyRefused, match=r"is not in .*known_hosts; check its key and add it, or pass "
                                             r"--accept-new-host-keys"):
        known_hosts.CheckedHostKey(path, accept_new=False).missing_host_key(None, "h", ka)
    assert not path.exists()
    known_hosts.CheckedHostKey(path, accept_new=True).missing_host_key(None, "h", ka)
    with pytest.raises(HostKeyRefused, match=r"presented a different host key \(SHA256:.*ssh-keygen -R 'h'"):
        known_hosts.CheckedHostKey(path, accept_new=True).missing_host_key(None, "h", kb)


def test_recording_appends_one_openssh_line_and_keeps_the_rest_byte_for_byte(tmp_path, keys):
    (a, _), (b, kb), (c, kc) = keys[:3]
    path = tmp_path / "known_hosts"
    original = f"# kept\r\n\n  # indented comment \nold,10.0.0.1 {a} key comment with  two spaces\n|1|junk|junk {a}".encode()
    path.write_bytes(original)
    record(path, "10.0.0.2", kb)
    record(path, "[10.0.0.3]:2222", kc)
    record(path, "10.0.0.2", kb)  # already there: nothing written
    expected = original + f"\n10.0.0.2 {b}\n[10.0.0.3]:2222 {c}\n".encode()
    assert path.read_bytes() == expected
    assert openssh_finds(path, "10.0.0.2") == {("", b.split()[1])}
    assert openssh_finds(path, "[10.0.0.3]:2222") == {("", c.split()[1])}


def test_an_rsa_key_is_recorded_as_ssh_rsa(tmp_path, keys):
    line, key = keys[3]
    path = tmp_path / "known_hosts"
    record(path, "rsa-host", key)
    assert path.read_text() == f"rsa-host {line}\n" and line.startswith("ssh-rsa ")


def test_a_missing_file_is_created_private(tmp_path, keys):
    path = tmp_path / "new" / ".ssh" / "known_hosts"
    record(path, "h", keys[0][1])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_eight_threads_recording_the_same_hosts_at_once_write_each_key_once(tmp_path, keys):
    path = tmp_path / "known_hosts"
    path.write_text("# the user's own comment\n")
    hosts = [(f"10.77.0.{50 + i}", keys[i]) for i in range(10)]
    start = threading.Barrier(8)
    failures = []

    def one():
        start.wait()
        try:
            for name, (_, key) in hosts:
                record(path, name, key)
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    lines = path.read_text().splitlines()
    assert lines[0] == "# the user's own comment"
    assert sorted(lines[1:]) == sorted(f"{name} {line}" for name, (line, _) in hosts)


def _record_rounds(folder, hosts, rounds, start):
    keys = [(name, paramiko.PKey.from_type_string(line.split()[0], base64.b64decode(line.split()[1])))
            for name, line in hosts]
    for round_ in range(rounds):
        start.wait()
        for name, key in keys:
            record(folder / f"known_hosts{round_}", name, key)


def test_eight_processes_recording_the_same_hosts_at_once_write_each_key_once(tmp_path, keys):
    """Processes run truly at once (threads of CPython rarely meet inside record()): without the
    lock, some round here writes a key twice."""
    hosts = [(f"host{i}", keys[i][0]) for i in range(10)]
    context = multiprocessing.get_context("fork")
    start = context.Barrier(8)
    workers = [context.Process(target=_record_rounds, args=(tmp_path, hosts, ROUNDS, start)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(worker.exitcode == 0 for worker in workers)
    for round_ in range(ROUNDS):
        lines = (tmp_path / f"known_hosts{round_}").read_text().splitlines()
        assert sorted(lines) == sorted(f"{name} {line}" for name, line in hosts), round_


def test_paramiko_alone_stops_at_a_marker_line(tmp_path, keys):
    """Why gpuhost reads the file itself: paramiko's loader raises on what OpenSSH accepts."""
    path = tmp_path / "known_hosts"
    path.write_text(f"@cert-authority *.corp {keys[0][0]}\nh {keys[1][0]}\n")
    with pytest.raises(Exception):  # noqa: B017 (any exception: it stops the run)
        paramiko.HostKeys(str(path))
    assert len(KnownHosts(path).trusted("h")) == 1
    assert os.path.getsize(path) > 0
