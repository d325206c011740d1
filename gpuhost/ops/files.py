"""Files, links and directories, compared by content hash, mode and owner from the facts."""

import base64
import difflib
import hashlib
import posixpath
import re
import shlex

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.steps import Step

PATH = re.compile(r"^/[A-Za-z0-9_./@:+-]+$")
OWNER = re.compile(r"^[a-z_][a-z0-9_-]*$")
MODE = re.compile(r"^0?[0-7]{3,4}$")


def checked_path(path):
    """A path safe to hand to a shell and to the facts script."""
    if not PATH.match(path) or "/../" in path or path.endswith("/.."):
        raise StepError(f"path {path!r} must be absolute and made of letters, digits and ._@:+-/ only.")
    return path


class File(Step):
    """A file with exactly this content, mode and owner; written atomically."""

    def __init__(self, path, content, mode="0644", owner="root", group="root", name=None, notify=()):
        self.path = checked_path(path)
        self.content = content.encode() if isinstance(content, str) else bytes(content)
        if not MODE.match(mode) or not OWNER.match(owner) or not OWNER.match(group):
            raise StepError(f"{path}: mode {mode!r}, owner {owner!r} or group {group!r} is not valid.")
        self.mode, self.owner, self.group = mode.zfill(4), owner, group
        self.name = name or f"file {path}"
        self.notify = tuple(notify)

    def request(self):
        return Request(files={self.path})

    def sha256(self):
        return hashlib.sha256(self.content).hexdigest()

    def commands(self, facts):
        current = facts.get("files", {}).get(self.path)
        if current is None or current.get("kind") != "regular file" or current.get("sha256") != self.sha256():
            return [write_command(self.path, self.content, self.mode, self.owner, self.group)]
        commands = []
        if current.get("mode") != self.mode:
            commands.append(f"chmod {self.mode} {shlex.quote(self.path)}")
        if (current.get("owner"), current.get("group")) != (self.owner, self.group):
            commands.append(f"chown {self.owner}:{self.group} {shlex.quote(self.path)}")
        return commands

    def predict(self, facts):
        text = self.content.decode("utf-8", "replace")
        facts.setdefault("files", {})[self.path] = {
            "path": self.path, "mode": self.mode, "owner": self.owner, "group": self.group,
            "size": len(self.content), "kind": "regular file", "sha256": self.sha256(), "content": text,
        }

    def diff(self, facts):
        old = (facts.get("files", {}).get(self.path) or {}).get("content", "")
        new = self.content.decode("utf-8", "replace")
        lines = difflib.unified_diff(old.splitlines(), new.splitlines(), self.path, self.path, lineterm="")
        return "\n".join(lines)


def write_command(path, content, mode, owner, group):
    """Write content through a temporary file and rename it into place (never half-written)."""
    quoted, tmp = shlex.quote(path), shlex.quote(path + ".gpuhost-new")
    data = base64.b64encode(content).decode()
    return (
        f"mkdir -p {shlex.quote(posixpath.dirname(path))} && printf %s {data} | base64 -d > {tmp} && "
        f"chmod {mode} {tmp} && chown {owner}:{group} {tmp} && mv -f {tmp} {quoted}"
    )


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
        current = facts.get("files", {}).get(self.path)
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
