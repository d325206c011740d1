"""Repository keys on a test host: a key file that carries the pinned key and another one.

The fixture mirror's own keys (tests/testbed/mirror/sign.py): "good" signs the Debian 12 CUDA
repository, "wrong" signs its bad-signed copy. A file holding both keys is served from a
temporary HTTP server on the bridge; apt on the host, reading each keyring gpuhost wrote, must
then accept the good repository and refuse the bad-signed one.
"""

import base64
import functools
import http.server
import threading
from types import SimpleNamespace

import pytest

from gpuhost import inventory, openpgp, registry, runner
from tests.roles import pinned_key
from tests.testbed import mirror_http
from tests.testbed.mirror import sign
from tests.testbed.specs import HostSpec
from tests.testbed.system import BRIDGE_IP

pytestmark = pytest.mark.testbed
ROLES = registry.Roles([pinned_key.__name__])
GOOD_REPO = f"{mirror_http.URL}/compute/cuda/repos/debian12/x86_64/"
BAD_SIGNED_REPO = f"{mirror_http.URL}/bad-signed/compute/cuda/repos/debian12/x86_64/"
KEYRINGS = ["/etc/apt/keyrings/pinned-test.asc", "/usr/share/keyrings/pinned-test.gpg"]


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    """tb75, new."""
    return fresh_hosts(HostSpec("tb75", gpus=("none",)))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The wrong key, then the good one, in one armored file served on the bridge at a free port."""
    good, wrong = sign.ensure("good"), sign.ensure("wrong")
    root = tmp_path_factory.mktemp("served-keys")
    (root / "both.asc").write_bytes(wrong.armored.read_bytes() + good.armored.read_bytes())
    server = http.server.ThreadingHTTPServer((BRIDGE_IP, 0), functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://{BRIDGE_IP}:{server.server_port}/both.asc", good=good, wrong=wrong,
                          both=(root / "both.asc").read_bytes())
    server.shutdown()
    server.server_close()


def converge(bed, served, check=False):
    targets = inventory.load(bed.inventory_path).select("tb75")
    settings = {"pinned_key": {"url": served.url, "fingerprint": served.good.fingerprint, "keyrings": KEYRINGS}}
    (result,) = runner.run(targets, ["pinned-key"], runner.Options(check=check, overrides=settings, echo=False), ROLES)
    return result


def read(c, path):
    return base64.b64decode(c.run(f"base64 -w0 {path}", hide=True, in_stream=False).stdout)


def write(c, path, data):
    c.run(f"printf %s {base64.b64encode(data).decode()} | base64 -d > {path}", hide=True, in_stream=False)


def apt_update(c, repo, keyring):
    """apt-get update of one flat repository Signed-By `keyring`, and of nothing else on the host."""
    c.run("rm -rf /tmp/pinned-test && mkdir -p /tmp/pinned-test/parts /tmp/pinned-test/lists/partial", in_stream=False)
    write(c, "/tmp/pinned-test/one.sources", f"Types: deb\nURIs: {repo}\nSuites: /\nSigned-By: {keyring}\n".encode())
    return c.run("apt-get update -o Dir::Etc::SourceList=/tmp/pinned-test/one.sources "
                 "-o Dir::Etc::SourceParts=/tmp/pinned-test/parts -o Dir::State::Lists=/tmp/pinned-test/lists",
                 hide=True, warn=True, in_stream=False)


def test_a_two_key_file_leaves_keyrings_apt_trusts_for_the_pinned_key_alone(testbed, hosts, served):
    result = converge(testbed, served)
    assert result.status == "changed", result.error
    with testbed.connect("tb75") as c:
        for keyring in KEYRINGS:
            assert openpgp.fingerprints(read(c, keyring)) == [served.good.fingerprint]
            assert apt_update(c, GOOD_REPO, keyring).ok
            refused = apt_update(c, BAD_SIGNED_REPO, keyring)
            assert refused.failed and f"NO_PUBKEY {served.wrong.fingerprint[-16:]}" in refused.stdout + refused.stderr
        write(c, "/tmp/both.asc", served.both)  # the file as served: apt would trust the wrong key too
        assert apt_update(c, BAD_SIGNED_REPO, "/tmp/both.asc").ok
    assert converge(testbed, served, check=True).changed == 0
    again = converge(testbed, served)
    assert (again.status, again.changed) == ("ok", 0)


def test_a_keyring_that_also_holds_another_key_is_rewritten_with_the_pinned_one_alone(testbed, hosts, served):
    assert converge(testbed, served).status in ("ok", "changed")
    with testbed.connect("tb75") as c:
        write(c, KEYRINGS[1], served.wrong.keyring.read_bytes() + served.good.keyring.read_bytes())
        result = converge(testbed, served)
        assert (result.status, result.changed) == ("changed", 1), result.error
        assert openpgp.fingerprints(read(c, KEYRINGS[1])) == [served.good.fingerprint]
    assert converge(testbed, served).changed == 0
