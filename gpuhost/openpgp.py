"""Just enough OpenPGP to pin a repository key: the fingerprints of the primary keys in a key
file, and the pinned key's certificate cut out of it.

A downloaded key is trusted only when its fingerprint equals the pinned one, and that check
runs on the controlling machine, so the host needs no gpg (minimal images ship only gpgv).
Handles armored and binary key files; fingerprints v4 keys (NVIDIA's and Docker's keys are v4)
and RFC 9580's v6 keys.

A key file may hold more keys than the pinned one, and apt trusts every key in a keyring, so
what is written on the host is the pinned certificate alone: its primary key packet with the
user IDs, signatures and subkeys that follow it, up to the next primary key. Cutting it out,
rather than refusing a file with two keys, keeps a publisher's file that also carries an old or
a rotating key working, while nothing but the pinned key is trusted. Subkeys stay: they belong
to the pinned key, and gpgv uses one only when the pinned primary key's binding signature on it
verifies.
"""

import base64
import binascii
import hashlib
import re

from gpuhost.errors import StepError

SIGNATURE, SECRET_KEY, PUBLIC_KEY, USER_ID, PUBLIC_SUBKEY, USER_ATTRIBUTE = 2, 5, 6, 13, 14, 17
PRIMARY = (PUBLIC_KEY, SECRET_KEY)
CERTIFICATE = (PUBLIC_KEY, SIGNATURE, USER_ID, USER_ATTRIBUTE, PUBLIC_SUBKEY)  # RFC 4880 §11.1
# apt reads a binary keyring only when its first octet is one of these (apt-pkg/contrib/gpgv.cc).
APT_KEYRING_STARTS = (0x98, 0x99, 0xC0 | PUBLIC_KEY)
BEGIN, END = "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----"
BLOCK = re.compile(re.escape(BEGIN) + r"(.*?)" + re.escape(END), re.DOTALL)


def is_armored(data):
    """True for an ASCII-armored file; binary OpenPGP starts with an octet whose high bit is set."""
    return not (data and data[0] & 0x80)


def dearmor(data):
    """Binary key packets from a binary key file, or from every public key block of an armored one."""
    data = data.encode("ascii") if isinstance(data, str) else bytes(data)
    if not is_armored(data):
        return data
    blocks = BLOCK.findall(data.decode("ascii", "replace"))
    if not blocks:
        raise StepError("the repository key is neither a binary OpenPGP key nor an armored public key block.")
    return b"".join(_decode_block(block) for block in blocks)


def _decode_block(text):
    lines = [line.strip() for line in text.splitlines()]
    while lines and (not lines[0] or ":" in lines[0]):  # armor headers such as "Version: ..."
        lines.pop(0)
    lines = [line for line in lines if line]
    checksum = lines.pop()[1:] if lines and lines[-1].startswith("=") else None
    try:
        binary = base64.b64decode("".join(lines), validate=True)
        expected = base64.b64decode(checksum, validate=True) if checksum is not None else None
    except binascii.Error as error:
        raise StepError(f"the repository key is not valid ASCII armor: {error}.") from None
    if expected is not None and expected != crc24(binary).to_bytes(3, "big"):
        raise StepError("the repository key's armor checksum does not match its contents: the file is damaged.")
    return binary


def armor(binary):
    """ASCII armor for binary key packets (RFC 4880 §6), the shape `gpg --armor --export` writes."""
    text = base64.b64encode(binary).decode("ascii")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    checksum = base64.b64encode(crc24(binary).to_bytes(3, "big")).decode("ascii")
    return "\n".join([BEGIN, "", *lines, f"={checksum}", END, ""]).encode("ascii")


def crc24(data):
    """The armor checksum (RFC 4880 §6.1)."""
    crc = 0xB704CE
    for octet in data:
        crc ^= octet << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def packets(binary):
    """Yield (tag, body, raw) for each OpenPGP packet; raw is the packet with its header."""
    pos = 0
    while pos < len(binary):
        start, header = pos, binary[pos]
        if not header & 0x80:
            raise StepError("the repository key is not an OpenPGP key file.")
        if header & 0x40:  # new format
            tag, pos = header & 0x3F, pos + 1
            length, pos = _new_length(binary, pos)
        else:  # old format
            tag, kind, pos = (header >> 2) & 0x0F, header & 0x03, pos + 1
            size = {0: 1, 1: 2, 2: 4}.get(kind)
            if size is None:
                raise StepError("the repository key uses an indeterminate packet length.")
            length, pos = int.from_bytes(binary[pos:pos + size], "big"), pos + size
        if pos + length > len(binary):
            raise StepError("the repository key file is cut short: its last packet is incomplete.")
        yield tag, binary[pos:pos + length], binary[start:pos + length]
        pos += length


def _new_length(binary, pos):
    first = binary[pos] if pos < len(binary) else 0
    if first < 192:
        return first, pos + 1
    if first < 224:
        return ((first - 192) << 8) + int.from_bytes(binary[pos + 1:pos + 2], "big") + 192, pos + 2
    if first == 255:
        return int.from_bytes(binary[pos + 1:pos + 5], "big"), pos + 5
    raise StepError("the repository key uses partial packet lengths, which keys never do.")


def fingerprint(body):
    """A primary key packet's fingerprint in upper-case hex: SHA-1 for v4 (RFC 4880 §12.2),
    SHA-256 for v6 (RFC 9580 §5.5.4.3); None for a version gpuhost cannot fingerprint."""
    version = body[0] if body else None
    if version == 4:
        return hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest().upper()
    if version == 6:
        return hashlib.sha256(b"\x9b" + len(body).to_bytes(4, "big") + body).hexdigest().upper()
    return None


def fingerprints(data):
    """Upper-case hex fingerprints of the primary keys in the file."""
    found = []
    for tag, body, _ in packets(dearmor(data)):
        if tag != PUBLIC_KEY:
            continue
        if fingerprint(body) is None:
            raise StepError(f"the repository key holds an OpenPGP v{body[0] if body else '?'} key; "
                            "gpuhost reads v4 and v6 keys.")
        found.append(fingerprint(body))
    return found


def certificate(data, pinned):
    """The pinned key's certificate alone, as binary packets, or None when the file lacks the key.

    From the pinned primary key packet up to the next primary key, keeping only the packets a
    public certificate is made of; other keys, and anything that is not part of a certificate,
    are left out. A file that repeats the pinned key gives its first copy. The primary key
    packet gets a new-format header when its own is one apt would not read as a keyring.
    """
    wanted, kept = normalize(pinned), []
    for tag, body, raw in packets(dearmor(data)):
        if tag in PRIMARY:
            if kept:
                break
            if tag == PUBLIC_KEY and fingerprint(body) == wanted:
                kept.append(raw if raw[0] in APT_KEYRING_STARTS else _new_header(tag, len(body)) + body)
        elif kept and tag in CERTIFICATE:
            kept.append(raw)
    return b"".join(kept) or None


def _new_header(tag, length):
    if length < 192:
        size = bytes([length])
    elif length < 8384:
        size = bytes([((length - 192) >> 8) + 192, (length - 192) & 0xFF])
    else:
        size = b"\xff" + length.to_bytes(4, "big")
    return bytes([0xC0 | tag]) + size


def holds_only(data, pinned):
    """True when the key file holds the pinned certificate and nothing else."""
    try:
        return dearmor(data) == certificate(data, pinned)
    except StepError:
        return False  # a file gpuhost cannot read holds nothing it can vouch for


def normalize(fingerprint):
    """A pinned fingerprint as written by people ("EB69 3B30 …") → 40 upper-case hex digits."""
    return "".join(str(fingerprint).split()).upper()
