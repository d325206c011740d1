"""known_hosts as OpenSSH reads it, and only ever appended to.

Comments, hashed entries, `[host]:port` entries and patterns are understood; `@revoked` keys are
refused even where also listed; lines gpuhost does not understand (`@cert-authority`, new key
types) are kept and ignored, so the user's file is never rewritten.
"""

import base64
import binascii
import fcntl
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

import paramiko

MARKERS = ("", "@revoked", "@cert-authority")


class HostKeyRefused(paramiko.SSHException):
    """A host key gpuhost will not trust; the message completes a sentence that starts with the host."""


@dataclass(frozen=True)
class KnownKey:
    """One key line of known_hosts: its marker, its host field as written, the key type and blob."""

    marker: str
    hosts: str
    keytype: str
    blob: bytes

    def matches(self, name):
        return _hashed_match(self.hosts, name) if self.hosts.startswith("|1|") else _pattern_match(self.hosts, name)

    def key(self):
        """The paramiko key, or None for a type paramiko does not know (kept in the file, never trusted)."""
        try:
            key = paramiko.PKey.from_type_string(self.keytype, self.blob)
        except (ValueError, TypeError, IndexError, paramiko.SSHException, paramiko.UnknownKeyType):
            return None
        return key if key.asbytes() == self.blob else None  # paramiko pads a truncated key with zeros


class KnownHosts:
    """known_hosts as OpenSSH reads it: a line that is no key line we can use is skipped, never an error."""

    def __init__(self, path, text=None):
        self.path = Path(path)
        if text is None:
            text = self.path.read_text(errors="replace") if self.path.is_file() else ""
        self.entries = [entry for entry in map(_entry, text.splitlines()) if entry]

    def trusted(self, name):
        """The keys listed for `name` on plain lines, less any key listed `@revoked` for it."""
        entries = [e for e in self.entries if not e.marker and e.matches(name)]
        keys = [e.key() for e in entries if not self.revoked(name, e.blob)]
        return [key for key in keys if key is not None]

    def is_revoked(self, name, key):
        return self.revoked(name, key.asbytes())

    def lists(self, name, key):
        return any(key.asbytes() == k.asbytes() for k in self.trusted(name))

    def revoked(self, name, blob):
        return any(e.marker == "@revoked" and e.blob == blob and e.matches(name) for e in self.entries)


def host_key_name(host, port):
    """The name OpenSSH and paramiko look a host up by: `host`, or `[host]:port` off port 22."""
    return host if int(port or 22) == 22 else f"[{host}]:{port}"


def _entry(line):
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    marker = fields.pop(0) if fields[0].startswith("@") else ""
    if marker not in MARKERS or len(fields) < 3:
        return None
    try:
        return KnownKey(marker, fields[0], fields[1], base64.b64decode(fields[2], validate=True))
    except (binascii.Error, ValueError):
        return None


def _pattern_match(field, name):
    """OpenSSH's host patterns: comma-separated, `*` and `?` wildcards, `!` negates, case-insensitive."""
    matched = False
    for pattern in field.split(","):
        negated = pattern.startswith("!")
        glob = re.escape(pattern.lstrip("!").lower()).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(glob, name.lower()):
            if negated:
                return False
            matched = True
    return matched


def _hashed_match(field, name):
    """A `|1|salt|hash` entry: HMAC-SHA1 of the name keyed with the salt (ssh-keygen -H)."""
    try:
        _, _, salt, digest = field.split("|")
        mac = hmac.new(base64.b64decode(salt), name.lower().encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, base64.b64decode(digest))
    except (ValueError, binascii.Error):
        return False


def record(path, name, key):
    """Append a first-seen key as one OpenSSH line, under an exclusive lock; never rewrite the file.

    The file is read again under the lock, so hosts converged at once (or sharing one jump host)
    each add their own line exactly once; a key someone else recorded meanwhile is honoured.
    """
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600), "r+b") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # flock, not lockf: threads of one process exclude each other too
        text = file.read()
        known = KnownHosts(path, text.decode(errors="replace"))
        refuse_unless_new(known, name, key)
        if known.lists(name, key):
            return
        separator = b"\n" if text and not text.endswith(b"\n") else b""
        file.write(separator + f"{name} {key.get_name()} {key.get_base64()}\n".encode())


def refuse_unless_new(known, name, key):
    """Raise HostKeyRefused for a revoked key, or for a host already known by another key."""
    if known.is_revoked(name, key):
        raise HostKeyRefused(revoked(key, known.path))
    if known.trusted(name) and not known.lists(name, key):
        raise HostKeyRefused(changed(key, known.path, name))


def revoked(key, path):
    return f"presented a host key ({key.fingerprint}) that {path} lists as @revoked, so gpuhost refuses to connect."


def changed(key, path, name):
    return (f"presented a different host key ({key.fingerprint}) than {path} records; if the host was rebuilt, "
            f"remove its old key with `ssh-keygen -R '{name}'`.")


class CheckedHostKey(paramiko.MissingHostKeyPolicy):
    """What paramiko asks when known_hosts lists no trusted key for a host: refuse, or record it when asked."""

    def __init__(self, path, accept_new):
        self.path, self.accept_new = Path(path), accept_new

    def missing_host_key(self, client, hostname, key):
        known = KnownHosts(self.path)
        refuse_unless_new(known, hostname, key)
        if known.lists(hostname, key):
            return  # recorded by another connection since this one read the file
        if not self.accept_new:
            raise HostKeyRefused(f"is not in {self.path}; check its key and add it, or pass "
                                 "--accept-new-host-keys to record it on first use.")
        record(self.path, hostname, key)
