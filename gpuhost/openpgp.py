"""Just enough OpenPGP to pin a repository key: fingerprints of the primary keys in a key file.

A downloaded key is trusted only when its fingerprint equals the pinned one, and that check
runs on the controlling machine, so the host needs no gpg (minimal images ship only gpgv).
Handles armored and binary key files and v4 keys (NVIDIA's and Docker's keys are v4).
"""

import base64
import hashlib

from gpuhost.errors import StepError

PUBLIC_KEY = 6


def dearmor(data):
    """Binary key packets from an armored or binary key file."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    if "-----BEGIN PGP PUBLIC KEY BLOCK-----" not in text:
        return bytes(data)
    body = text.split("-----BEGIN PGP PUBLIC KEY BLOCK-----", 1)[1].split("-----END PGP", 1)[0]
    lines = body.strip().splitlines()
    while lines and ":" in lines[0]:  # armor headers such as "Version: ..."
        lines.pop(0)
    payload = "".join(line.strip() for line in lines if line.strip() and not line.startswith("="))
    try:
        return base64.b64decode(payload)
    except ValueError as error:
        raise StepError(f"the repository key is not valid ASCII armor: {error}.") from None


def packets(binary):
    """Yield (tag, body) for each OpenPGP packet."""
    pos = 0
    while pos < len(binary):
        header = binary[pos]
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
        yield tag, binary[pos:pos + length]
        pos += length


def _new_length(binary, pos):
    first = binary[pos]
    if first < 192:
        return first, pos + 1
    if first < 224:
        return ((first - 192) << 8) + binary[pos + 1] + 192, pos + 2
    if first == 255:
        return int.from_bytes(binary[pos + 1:pos + 5], "big"), pos + 5
    raise StepError("the repository key uses partial packet lengths, which keys never do.")


def fingerprints(data):
    """Upper-case hex fingerprints of the primary keys in the file."""
    found = []
    for tag, body in packets(dearmor(data)):
        if tag != PUBLIC_KEY:
            continue
        if not body or body[0] != 4:
            raise StepError(f"the repository key is an OpenPGP v{body[0] if body else '?'} key; gpuhost pins v4 keys.")
        digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()  # noqa: S324 (the v4 fingerprint is SHA-1 by definition)
        found.append(digest.upper())
    return found


def normalize(fingerprint):
    """A pinned fingerprint as written by people ("EB69 3B30 …") → 40 upper-case hex digits."""
    return "".join(str(fingerprint).split()).upper()
