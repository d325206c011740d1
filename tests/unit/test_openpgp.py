"""Repository keys with real keys: a key file that holds the pinned key and another one.

Two throwaway keys are made with gpg in a temporary GNUPGHOME, each an Ed25519 primary key with
an encryption subkey and a signing subkey. What gpuhost writes is judged by GnuPG itself:
`gpg --show-keys` for what the keyring holds, and `gpgv`, the verifier apt runs, for what it
trusts. apt hands gpgv a binary keyring as it is and an .asc one dearmored
(apt-pkg/contrib/gpgv.cc); here `gpg --dearmor` does that.
"""

import base64
import itertools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from gpuhost import openpgp
from gpuhost.errors import StepError
from gpuhost.ops.apt import RepositoryKey, key_is_pinned

pytestmark = pytest.mark.skipif(not (shutil.which("gpg") and shutil.which("gpgv")), reason="needs gpg and gpgv")

URL = "https://example.org/repo/key"
# RFC 9580 Appendix A.3, the sample v6 certificate: its primary key packet's body and fingerprint.
V6_PRIMARY = base64.b64decode("BmOHf+MbAAAAIPlNp7tI1gph5WdwamWH0DMZmbudiRoIJC6thFQ9+JWj")
V6_FINGERPRINT = "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"


@dataclass
class Key:
    fingerprint: str
    signing_subkey: str
    exported: bytes  # `gpg --export` of this key alone
    armored: bytes


def gpg(home, *args):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                           "--passphrase", "", *args], capture_output=True, check=True).stdout


def make_key(home, name):
    uid = f"{name} <{name.lower()}@example.org>"
    gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")
    primary = colons(gpg(home, "--with-colons", "--list-keys", f"={uid}"))[0][1]
    gpg(home, "--quick-add-key", primary, "cv25519", "encr", "never")
    gpg(home, "--quick-add-key", primary, "ed25519", "sign", "never")
    keys = colons(gpg(home, "--with-colons", "--list-keys", primary))
    signing = next(fpr for kind, fpr, usage in keys if kind == "sub" and usage == "s")
    return Key(primary, signing, gpg(home, "--export", primary), gpg(home, "--armor", "--export", primary))


def colons(listing):
    """(pub|sub, fingerprint, usage) for each key in `gpg --with-colons` output."""
    keys, lines = [], listing.decode().splitlines()
    for line, after in itertools.pairwise(lines):
        fields = line.split(":")
        if fields[0] in ("pub", "sub") and after.startswith("fpr:"):
            keys.append((fields[0], after.split(":")[9], fields[11]))
    return keys


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("gnupg")
    path.chmod(0o700)
    yield path
    subprocess.run(["gpgconf", "--homedir", str(path), "--kill", "all"], check=False)


@pytest.fixture(scope="module")
def pinned(home):
    return make_key(home, "Pinned")


@pytest.fixture(scope="module")
def other(home):
    return make_key(home, "Other")


@pytest.fixture(scope="module")
def two_keys(home, pinned, other):
    """Key files that hold both keys, as publishers (or someone in the middle) might serve them."""
    one_block = gpg(home, "--armor", "--export", pinned.fingerprint, other.fingerprint)
    return {
        "binary, pinned first": pinned.exported + other.exported,
        "binary, pinned last": other.exported + pinned.exported,
        "armored, one block": one_block,
        "armored, pinned in a second block": other.armored + pinned.armored,
    }


def signed(home, tmp_path, signer, name):
    """A detached signature by one key or subkey (`!`: exactly that one) over a data file."""
    data, sig = tmp_path / "Release", tmp_path / f"{name}.sig"
    data.write_text("Origin: example\n")
    gpg(home, "--yes", "--local-user", f"{signer}!", "--output", str(sig), "--detach-sign", str(data))
    return sig, data


def gpgv_accepts(keyring, sig, data):
    verified = subprocess.run(["gpgv", "--keyring", str(keyring), str(sig), str(data)], capture_output=True, check=False)
    return verified.returncode == 0


def apt_keyring(path, tmp_path):
    """The keyring as apt gives it to gpgv: binary as it is, an .asc one dearmored."""
    if path.suffix != ".asc":
        return path
    binary = tmp_path / "dearmored.gpg"
    subprocess.run(["gpg", "--dearmor", "--output", str(binary), str(path)], check=True)
    return binary


def show_keys(path, tmp_path):
    empty = tmp_path / "empty-gnupg"
    empty.mkdir(mode=0o700, exist_ok=True)
    return colons(gpg(empty, "--with-colons", "--show-keys", str(path)))


class FetchingHost:
    """A stand-in for gpuhost.host.Host: the fetch gets `served`; the write command runs here as
    it would on the host, but for the chown to root."""

    name = "stand-in"

    def __init__(self, served):
        self.served = served

    def run(self, command, sudo=False, what="", warn=False):
        if "apt-helper download-file" in command:
            return SimpleNamespace(stdout=base64.b64encode(self.served).decode())
        subprocess.run(["bash", "-c", "chown() { :; }; " + command], check=True)
        return SimpleNamespace(stdout="")


def install(served, keyring, fingerprint):
    step = RepositoryKey(URL, fingerprint, str(keyring))
    step.execute(FetchingHost(served), step.commands({}))
    return Path(keyring)


def facts_with(keyring, content):
    return {"files": {str(keyring): {"path": str(keyring), "b64": base64.b64encode(content).decode()}}}


# ---- the certificate cut out of the file ------------------------------------------------------

@pytest.mark.parametrize("variant", ["binary, pinned first", "binary, pinned last", "armored, one block",
                                     "armored, pinned in a second block"])
def test_the_pinned_certificate_is_cut_out_whole_with_its_subkeys_and_signatures(two_keys, pinned, other, variant):
    served = two_keys[variant]
    assert sorted(openpgp.fingerprints(served)) == sorted([pinned.fingerprint, other.fingerprint])
    cut = openpgp.certificate(served, pinned.fingerprint)
    assert cut == pinned.exported  # byte for byte what gpg exports of the pinned key alone
    assert [tag for tag, _, _ in openpgp.packets(cut)] == [6, 13, 2, 14, 2, 14, 2]  # key, uid, sig, 2 × (subkey, binding)


def test_a_file_without_the_pinned_key_gives_no_certificate(other, pinned):
    assert openpgp.certificate(other.exported, pinned.fingerprint) is None


# ---- what is written on the host, judged by gpg and gpgv -------------------------------------

@pytest.mark.parametrize("suffix", [".asc", ".gpg"])
@pytest.mark.parametrize("variant", ["binary, pinned last", "armored, pinned in a second block"])
def test_the_written_keyring_holds_the_pinned_key_alone(two_keys, pinned, tmp_path, suffix, variant):
    keyring = install(two_keys[variant], tmp_path / "keyrings" / f"repo{suffix}", pinned.fingerprint)
    written = keyring.read_bytes()
    if suffix == ".asc":
        assert written.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n")  # apt reads data after the blank line
    else:
        assert written[0] in (0x98, 0x99, 0xC6)  # the first octets apt reads as a binary keyring
    keys = show_keys(keyring, tmp_path)
    assert [fpr for kind, fpr, _ in keys if kind == "pub"] == [pinned.fingerprint]
    assert len([kind for kind, _, _ in keys if kind == "sub"]) == 2
    imported = tmp_path / "imported-gnupg"
    imported.mkdir(mode=0o700)
    gpg(imported, "--import", str(keyring))
    assert [fpr for kind, fpr, _ in colons(gpg(imported, "--with-colons", "--list-keys")) if kind == "pub"] == [
        pinned.fingerprint]


@pytest.mark.parametrize("suffix", [".asc", ".gpg"])
def test_apts_verifier_trusts_the_pinned_key_and_refuses_the_other(home, two_keys, pinned, other, tmp_path, suffix):
    served = two_keys["armored, one block"]
    keyring = apt_keyring(install(served, tmp_path / f"repo{suffix}", pinned.fingerprint), tmp_path)
    for signer in (pinned.fingerprint, pinned.signing_subkey):
        assert gpgv_accepts(keyring, *signed(home, tmp_path, signer, "pinned")), signer
    for signer in (other.fingerprint, other.signing_subkey):
        assert not gpgv_accepts(keyring, *signed(home, tmp_path, signer, "other")), signer


def test_the_file_as_served_would_have_trusted_the_other_key_too(home, two_keys, other, tmp_path):
    """The premise: written as fetched, a two-key file lets apt accept the other key's signatures."""
    served = tmp_path / "served.gpg"
    served.write_bytes(two_keys["binary, pinned first"])
    assert gpgv_accepts(served, *signed(home, tmp_path, other.fingerprint, "other"))


def test_a_subkey_slipped_under_the_pinned_key_signs_nothing(home, pinned, other, tmp_path):
    """Subkeys are kept with the pinned key; gpgv uses one only under the pinned key's binding signature."""
    theirs = list(openpgp.packets(other.exported))
    at = next(i for i, (tag, body, _) in enumerate(theirs)
              if tag == openpgp.PUBLIC_SUBKEY and openpgp.fingerprint(body) == other.signing_subkey)
    served = pinned.exported + theirs[at][2] + theirs[at + 1][2]  # their subkey and their binding signature
    keyring = install(served, tmp_path / "repo.gpg", pinned.fingerprint)
    assert not gpgv_accepts(keyring, *signed(home, tmp_path, other.signing_subkey, "slipped"))
    assert gpgv_accepts(keyring, *signed(home, tmp_path, pinned.signing_subkey, "pinned"))


def test_a_file_without_the_pinned_key_is_refused_and_nothing_is_written(other, pinned, tmp_path):
    with pytest.raises(StepError, match=f"has fingerprint {other.fingerprint}, not the pinned {pinned.fingerprint}"):
        install(other.exported, tmp_path / "repo.gpg", pinned.fingerprint)
    assert not (tmp_path / "repo.gpg").exists()


def test_a_primary_key_header_apt_would_not_read_is_rewritten(home, pinned, tmp_path):
    (_, body, _), *rest = openpgp.packets(pinned.exported)
    old_four_octet = bytes([0x80 | openpgp.PUBLIC_KEY << 2 | 2]) + len(body).to_bytes(4, "big") + body
    keyring = install(old_four_octet + b"".join(r for _, _, r in rest), tmp_path / "repo.gpg", pinned.fingerprint)
    assert keyring.read_bytes()[0] == 0xC6
    assert gpgv_accepts(keyring, *signed(home, tmp_path, pinned.fingerprint, "pinned"))


# ---- the facts of an existing keyring ----------------------------------------------------------

@pytest.mark.parametrize("suffix", [".asc", ".gpg"])
def test_a_keyring_holding_the_pinned_key_and_another_is_rewritten(two_keys, pinned, tmp_path, suffix):
    keyring = tmp_path / f"repo{suffix}"
    served = two_keys["armored, one block"] if suffix == ".asc" else two_keys["binary, pinned first"]
    step = RepositoryKey(URL, pinned.fingerprint, str(keyring))
    install_alone = f"install the key {pinned.fingerprint} alone as {keyring}"
    assert step.commands(facts_with(keyring, served)) == [step._fetch(), install_alone]
    install(served, keyring, pinned.fingerprint)
    assert step.commands(facts_with(keyring, keyring.read_bytes())) == []


@pytest.mark.parametrize("content", ["armored at .gpg", "damaged", "empty", "another key"])
def test_a_keyring_apt_would_not_read_as_the_pinned_key_is_not_right(pinned, other, content):
    data = {"armored at .gpg": pinned.armored, "damaged": pinned.exported[:-9], "empty": b"",
            "another key": other.exported}[content]
    assert not key_is_pinned(facts_with("/etc/apt/keyrings/repo.gpg", data), "/etc/apt/keyrings/repo.gpg",
                             pinned.fingerprint)


def test_a_keyring_the_plan_writes_counts_as_pinned_in_check_mode(pinned):
    step = RepositoryKey(URL, pinned.fingerprint, "/etc/apt/keyrings/repo.asc")
    facts = facts_with("/etc/apt/keyrings/repo.asc", pinned.exported + pinned.exported)
    assert step.commands(facts)
    step.predict(facts)
    assert step.commands(facts) == []


# ---- armor and packets ------------------------------------------------------------------------

def test_gpuhosts_armor_is_what_gpg_dearmors(pinned, tmp_path):
    armored = tmp_path / "key.asc"
    armored.write_bytes(openpgp.armor(pinned.exported))
    assert subprocess.run(["gpg", "--dearmor"], input=armored.read_bytes(), capture_output=True,
                          check=True).stdout == pinned.exported
    assert openpgp.dearmor(pinned.armored) == pinned.exported  # and gpg's armor is what gpuhost reads


def test_damaged_armor_or_a_cut_file_is_refused_with_the_reason(pinned):
    text = pinned.armored.decode()
    head, _, tail = text.partition("\n\n")
    damaged = f"{head}\n\n{'B' if tail[0] != 'B' else 'C'}{tail[1:]}".encode()
    with pytest.raises(StepError, match="armor checksum does not match"):
        openpgp.certificate(damaged, pinned.fingerprint)
    with pytest.raises(StepError, match="cut short"):
        openpgp.certificate(pinned.exported[:-9], pinned.fingerprint)


def test_a_v6_key_beside_the_pinned_one_is_fingerprinted_and_left_out(pinned):
    served = pinned.exported + bytes([0xC0 | openpgp.PUBLIC_KEY, len(V6_PRIMARY)]) + V6_PRIMARY
    assert openpgp.fingerprints(served) == [pinned.fingerprint, V6_FINGERPRINT]
    assert openpgp.certificate(served, pinned.fingerprint) == pinned.exported
