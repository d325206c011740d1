"""The conda installer: downloaded on the host, run only when its sha256 is the pinned one.

The download and the digest come first; the installer runs (batch mode, into the shared
prefix, group-owned with setgid directories) only after the digest matched, and a mismatch
removes the download and installs nothing. Root makes the prefix folder and hands it to the
conda account (owner.py); the installer, which runs the payload's own code, and everything
after it run as that account.

An installer that dies half-way (killed, out of memory, a full disk) leaves a prefix that
Miniforge's `-b -p PREFIX` refuses ever after; `-u` (like `-f`) only skips that check and lays
the payload over files the dead run half wrote. Nor does `conda-meta/history` prove a finished
install: constructor's installers unpack an empty one before linking anything. Moving a finished
install from a temporary prefix into place is no way out either: the installer bakes its prefix
into scripts and `etc/profile.d`. So gpuhost creates the prefix itself (`mkdir`, which fails on
anything already there), writes a marker into it, installs with `-f` into that folder and
removes the marker once the installation is complete. A prefix that still holds the marker is
what gpuhost's own unfinished attempt left: the next converge removes it and installs again. A
prefix without a conda installation and without the marker was not made by gpuhost, and is
refused, never removed.
"""

import posixpath
import re
import shlex
import signal

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.ops.apt import checked_url
from gpuhost.ops.users import predict_groups
from gpuhost.settings import has_credentials, redact_text
from gpuhost.steps import Step

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MARKER = ".gpuhost-installing"
STATUS = "gpuhost: the installer exited with status"  # the install command's last word on the installer
STATUS_LINE = re.compile(rf"^{STATUS} (\d+)$")
MARKER_TEXT = ("gpuhost is installing conda into this folder; while this file is here the installation is "
               "unfinished, and the next converge removes the folder and installs again.")


def watched(prefix):
    """The files whose state says whether `prefix` holds an installation, an unfinished one, or neither."""
    return {prefix, f"{prefix}/conda-meta/history", f"{prefix}/{MARKER}"}


class Installer(Step):
    """`<prefix>` holds a finished conda installation (its `conda-meta/history`, no gpuhost marker),
    or the installer puts one there."""

    def __init__(self, url, sha256, prefix, group, owner):
        if has_credentials(url):
            raise StepError(f"the conda installer {redact_text(url)} carries credentials (user:password@ or /t/<token>/), "
                            "which every local user would see in the process list while it downloads; serve it "
                            "without them: its pinned sha256 already proves it is the right file.")
        self.url, self.prefix, self.group, self.owner = checked_url(url), prefix, group, owner
        self.sha256 = str(sha256 or "").lower()
        if not SHA256.match(self.sha256):
            raise StepError(f"the conda installer {url} needs its sha256 pinned (conda_r_python.installer.sha256), "
                            f"got {sha256!r}.")
        self.history, self.marker = f"{prefix}/conda-meta/history", f"{prefix}/{MARKER}"
        self.name = f"conda installed in {prefix}"

    def request(self):
        return Request(present=watched(self.prefix))

    def state(self, facts):
        """installed, absent, unfinished (gpuhost's own attempt), or foreign (refused)."""
        files = facts.get("files", {})
        if self.marker in files:
            return "unfinished"
        if self.history in files:
            return "installed"
        return "foreign" if self.prefix in files else "absent"

    def _download(self):
        return (f"t=$(mktemp /tmp/gpuhost-conda-XXXXXX.sh) && /usr/lib/apt/apt-helper download-file "
                f"{shlex.quote(self.url)} \"$t\" >/dev/null && sha256sum \"$t\" || {{ rm -f \"$t\"; false; }}")

    def _install(self, path, unfinished):
        """As root: the prefix folder, gpuhost's marker in it, both given to the conda account; as
        that account: the installer, the group's rights, and the marker's removal."""
        prefix, group, installer = shlex.quote(self.prefix), shlex.quote(self.group), shlex.quote(path)
        marker, parent = shlex.quote(self.marker), shlex.quote(posixpath.dirname(posixpath.normpath(self.prefix)))
        owner = shlex.quote(self.owner)
        remove = f"if [ -e {marker} ]; then rm -rf {prefix}; fi; " if unfinished else ""
        finish = (f"chgrp -R {group} {prefix} && chmod -R g+w {prefix} && find {prefix} -type d -exec chmod g+s {{}} + "
                  f"&& rm -f {marker}")
        return (f"umask 002; cd /; {remove}mkdir -p {parent} && mkdir {prefix} && printf '%s\\n' "
                f"{shlex.quote(MARKER_TEXT)} > {marker} && chown {owner}:{group} {prefix} {marker} && chmod 2775 {prefix} "
                f"&& chmod 0644 {installer} || {{ rm -f {installer}; exit 1; }}; "
                f"runuser -u {owner} -- bash {installer} -b -f -p {prefix} >/dev/null; rc=$?; "
                f"rm -f {installer}; if [ $rc -ne 0 ]; then echo \"{STATUS} $rc\" >&2; exit 1; fi; "
                f"runuser -u {owner} -- sh -c {shlex.quote(finish)}")

    def commands(self, facts):
        state = self.state(facts)
        if state == "installed":
            return []
        if state == "foreign":
            raise StepError(f"{self.prefix} exists but holds no conda installation (no conda-meta/history) and "
                            "was not created by gpuhost, so gpuhost neither removes it nor installs over it: move "
                            "it away or set conda_r_python.prefix to another folder.")
        return [self._download(), f"check sha256 {self.sha256}", self._install("$t", state == "unfinished")]

    def execute(self, host, commands):
        try:
            digest, _, path = host.run(self._download(), sudo=True, what=self.name).stdout.strip().partition("  ")
        except StepError as error:
            raise StepError(f"the conda installer {self.url} could not be downloaded on {host.name}: "
                            f"{str(error).rpartition(': ')[2]}") from None
        if digest != self.sha256:
            host.run(f"rm -f {shlex.quote(path)}", sudo=True, what=self.name)
            raise StepError(f"the conda installer {self.url} has sha256 {digest}, not the pinned {self.sha256} "
                            "(conda_r_python.installer.sha256); it was not run and nothing was installed.")
        result = host.run(self._install(path, self.state(host.facts) == "unfinished"), sudo=True, what=self.name,
                          warn=True)
        if result.exited:
            raise StepError(self.failure(host.name, result.exited, result.stderr))

    def failure(self, host_name, exited, stderr):
        """One sentence for an install command that failed: the installer's own status when it was that."""
        lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
        status = next((int(m[1]) for m in map(STATUS_LINE.match, reversed(lines)) if m), None)
        if status is None:
            return f"installing conda into {self.prefix} failed on {host_name} (exit {exited}): " \
                   f"{lines[-1] if lines else 'no output'}."
        again = f"the next converge removes what it left in {self.prefix} and installs again."
        if status > 128:
            return f"the conda installer {self.url} was killed by {_signal(status - 128)} on {host_name}; {again}"
        said = next((line for line in lines if line.startswith("ERROR")), None) or \
            next((line for line in reversed(lines) if not STATUS_LINE.match(line)), "no output")
        return f"the conda installer {self.url} exited with status {status} on {host_name} ({said}); {again}"

    def predict(self, facts):
        files = facts.setdefault("files", {})
        files.pop(self.marker, None)
        files[self.prefix] = {"path": self.prefix, "kind": "directory"}
        files[self.history] = {"path": self.history, "kind": "regular file"}
        predict_groups(facts, [self.group])


def _signal(number):
    """SIGKILL (signal 9), as a shell reports a child's status 128 + N."""
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"
