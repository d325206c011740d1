"""Files, links and directories, compared by content hash, mode and owner from the facts.

Writing a file is where root is easiest to trick: a name that someone else can change between
gpuhost's check and its write turns root's write into theirs (a link planted at the temporary
name, pointing at /etc/ld.so.preload). So every write goes through `write_command`, which
decides on the host, at write time:

- the target is a symbolic link: refused (the facts refuse it earlier, the command again);
- the target's folder and every folder above it belong to root and nobody else may write in
  them (or only under the sticky bit): root writes. Nobody else can then change a name in that
  folder, so a temporary file from `mktemp` (created O_EXCL), filled, chmodded, chowned by name
  and renamed over the target is as safe as working on file descriptors, which a POSIX shell
  cannot hold across commands;
- otherwise, a file owned by root is refused, and a file owned by another account is written
  by that account itself (`runuser`), so a name changed under it can only redirect what that
  account could write anyway.

A file that holds a secret (`File(secret=True)`) never travels on a command line: its content
goes by SFTP into a folder only the login account reads, root's write reads it from there, and
the report shows no diff of it.
"""

import base64
import difflib
import hashlib
import io
import os
import posixpath
import re
import shlex
import tempfile

import paramiko

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.settings import redact_text
from gpuhost.steps import Step

PATH = re.compile(r"^/[A-Za-z0-9_./@:+-]+$")
OWNER = re.compile(r"^[a-z_][a-z0-9_-]*$")
MODE = re.compile(r"^0?[0-7]{3,4}$")
REFUSAL = "gpuhost refuses to write "
UPLOAD = "gpuhost_upload"  # the shell variable naming an uploaded secret's file
# A folder is root's alone when root owns it and neither others nor a group other than root may
# write in it, unless the sticky bit keeps them from renaming root's files (/tmp).
ROOTS_ALONE = "$(( $1 == 0 && ((m & 512) != 0 || ((m & 2) == 0 && ((m & 16) == 0 || $2 == 0))) ))"


def checked_path(path):
    """A path safe to hand to a shell and to the facts script."""
    if not PATH.match(path) or "/../" in path or path.endswith("/.."):
        raise StepError(f"path {path!r} must be absolute and made of letters, digits and ._@:+-/ only.")
    return path


class File(Step):
    """A file with exactly this content, mode and owner; written atomically, never through a link.

    `secret`: the content holds credentials: it is uploaded instead of written on a command
    line, and no diff of it is shown.
    """

    def __init__(self, path, content, mode="0644", owner="root", group="root", name=None, notify=(), secret=False):
        self.path = checked_path(path)
        self.content = content.encode() if isinstance(content, str) else bytes(content)
        if not MODE.match(mode) or not OWNER.match(owner) or not OWNER.match(group):
            raise StepError(f"{path}: mode {mode!r}, owner {owner!r} or group {group!r} is not valid.")
        self.mode, self.owner, self.group = mode.zfill(4), owner, group
        self.name = name or f"file {path}"
        self.notify = tuple(notify)
        self.secret = secret

    def request(self):
        return Request(files={self.path})

    def sha256(self):
        return hashlib.sha256(self.content).hexdigest()

    def commands(self, facts):
        current = no_link(self.path, facts)
        if current and current.get("kind") == "regular file" and current.get("sha256") == self.sha256() and \
                (current.get("mode"), current.get("owner"), current.get("group")) == (self.mode, self.owner, self.group):
            return []
        # a wrong mode or owner is mended by writing the file again: chmod and chown by name follow links
        content = None if self.secret else self.content
        return [write_command(self.path, content, self.mode, self.owner, self.group)]

    def execute(self, host, commands):
        if self.secret:
            upload = upload_secret(host, self.content, self.name)
            commands = [f"{UPLOAD}={shlex.quote(upload)}; {commands[0]}; rc=$?; "
                        f"rm -rf {shlex.quote(posixpath.dirname(upload))}; exit $rc"]
        try:
            super().execute(host, commands)
        except StepError as error:
            raise StepError(refusal(str(error), host.name) or redact_text(str(error))) from None

    def predict(self, facts):
        text = self.content.decode("utf-8", "replace")
        facts.setdefault("files", {})[self.path] = {
            "path": self.path, "mode": self.mode, "owner": self.owner, "group": self.group,
            "size": len(self.content), "kind": "regular file", "sha256": self.sha256(), "content": text,
        }

    def diff(self, facts):
        if self.secret:
            return ""
        old = (facts.get("files", {}).get(self.path) or {}).get("content", "")
        new = self.content.decode("utf-8", "replace")
        lines = difflib.unified_diff(old.splitlines(), new.splitlines(), self.path, self.path, lineterm="")
        return "\n".join(lines)


def write_command(path, content, mode, owner, group):
    """Write `content` (None: the file the shell variable `gpuhost_upload` names) through a
    temporary file renamed into place (never half-written), refusing links and folders others
    may change (see the module's docstring)."""
    checked_path(path)
    folder, base = posixpath.split(path)
    fill = f'cat -- "${UPLOAD}"' if content is None else f"printf %s {base64.b64encode(content).decode()} | base64 -d"
    temporary, base = shlex.quote(f".{base}.gpuhost-XXXXXX"), shlex.quote(base)
    refuse = f'echo "{REFUSAL}$p: %s" >&2; exit 1'
    write = (f't=$(mktemp "$1"/{temporary}) || exit 1; {{ cat > "$t" && chmod {mode} "$t" && %s && '
             f'mv -fT "$t" "$1"/{base}; }} || {{ rm -f "$t"; exit 1; }}')
    if owner == "root":
        elsewhere = refuse % ("its folder $r is not root's alone, and a name that others can change is no place "
                              "for a root-owned file.")
    else:
        inner = shlex.quote(write % f'chgrp {group} "$t"')
        elsewhere = f'runuser -u {owner} -- sh -c {inner} sh "$r"'
    as_root = write.replace('"$1"', '"$r"') % f'chown {owner}:{group} "$t"'
    link = refuse % "it is a symbolic link, and gpuhost never writes through one."
    return (f'( p={shlex.quote(path)}; if [ -L "$p" ]; then {link}; fi; '
            f"[ -d {shlex.quote(folder)} ] || mkdir -p {shlex.quote(folder)} || exit 1; "
            f"r=$(readlink -f {shlex.quote(folder)}) && c=$r && alone=1 || exit 1; "
            f"while :; do s=$(stat -c '%u %g %a' \"$c\") || exit 1; set -- $s; m=$((0$3)); "
            f'[ {ROOTS_ALONE} = 1 ] || alone=0; [ "$c" = / ] && break; c=${{c%/*}}; c=${{c:-/}}; done; '
            f"{fill} | if [ $alone = 1 ]; then {as_root}; else {elsewhere}; fi )")


def no_link(path, facts):
    """The facts of `path`, refused in one sentence when it is a symbolic link."""
    current = facts.get("files", {}).get(path)
    if current and current.get("kind") == "symbolic link":
        raise StepError(f"{REFUSAL}{path}: it is a symbolic link (to {current.get('link')}), and gpuhost never "
                        "writes through one; remove the link if the file is gpuhost's to write.")
    return current


def refusal(message, host_name):
    """The one sentence for a write the command refused, from a failed step's message (None if not one)."""
    at = message.find(REFUSAL)
    if at < 0:
        return None
    what, _, why = message[at + len(REFUSAL):].partition(": ")
    return f"{REFUSAL}{what} on {host_name}: {why}"


def upload_secret(host, data, what):
    """A copy of `data` on the host, in a fresh folder only the login account reads; its path.

    The content goes by SFTP (or, on this machine, straight into a file), never on a command
    line, where every local user could read it in the process list."""
    if host.is_local:
        folder = tempfile.mkdtemp(prefix="gpuhost-")
        path = os.path.join(folder, "content")
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(data)
        return path
    path = host.run("mktemp -d", what=f"{what} (a private folder)").stdout.strip() + "/content"
    try:
        host.context.put(io.BytesIO(data), remote=path)
    except (OSError, EOFError, paramiko.SSHException) as error:
        raise StepError(f"{what}: copying it to {host.name} by SFTP failed ({error}).") from None
    return path


class Absent(Step):
    """No file (or link) at this path."""

    def __init__(self, path, name=None, notify=()):
        self.path = checked_path(path)
        self.name = name or f"absent {path}"
        self.notify = tuple(notify)

    def request(self):
        return Request(files={self.path})

    def commands(self, facts):
        return [f"rm -f {shlex.quote(self.path)}"] if self.path in facts.get("files", {}) else []

    def predict(self, facts):
        facts.setdefault("files", {}).pop(self.path, None)


class Link(Step):
    """A symbolic link pointing at `target`."""

    def __init__(self, path, target, name=None, notify=()):
        self.path, self.target = checked_path(path), checked_path(target)
        self.name = name or f"link {path} -> {target}"
        self.notify = tuple(notify)

    def request(self):
        return Request(files={self.path})

    def commands(self, facts):
        if (facts.get("files", {}).get(self.path) or {}).get("link") == self.target:
            return []
        return [f"ln -sfn {shlex.quote(self.target)} {shlex.quote(self.path)}"]

    def predict(self, facts):
        facts.setdefault("files", {})[self.path] = {"path": self.path, "kind": "symbolic link", "link": self.target}


class Directory(Step):
    """A directory with this mode and owner (setgid bits included)."""

    def __init__(self, path, mode="0755", owner="root", group="root", name=None):
        self.path = checked_path(path)
        if not MODE.match(mode) or not OWNER.match(owner) or not OWNER.match(group):
            raise StepError(f"{path}: mode {mode!r}, owner {owner!r} or group {group!r} is not valid.")
        self.mode, self.owner, self.group = mode.zfill(4), owner, group
        self.name = name or f"directory {path}"

    def request(self):
        return Request(files={self.path})

    def commands(self, facts):
        current = no_link(self.path, facts)  # chown and chmod by name would change the link's target
        quoted = shlex.quote(self.path)
        if current is None:
            return [f"mkdir -p {quoted} && chown {self.owner}:{self.group} {quoted} && chmod {self.mode} {quoted}"]
        commands = []
        if (current.get("owner"), current.get("group")) != (self.owner, self.group):
            commands.append(f"chown {self.owner}:{self.group} {quoted}")
        if current.get("mode") != self.mode:
            commands.append(f"chmod {self.mode} {quoted}")
        return commands

    def predict(self, facts):
        facts.setdefault("files", {})[self.path] = {
            "path": self.path, "kind": "directory", "mode": self.mode, "owner": self.owner, "group": self.group,
        }
