"""The conda installer: downloaded on the host, run only when its sha256 is the pinned one.

The download and the digest come first; the installer runs (batch mode, into the shared
prefix, group-owned with setgid directories) only after the digest matched, and a mismatch
removes the download and installs nothing.
"""

import re
import shlex

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.ops.apt import checked_url
from gpuhost.ops.users import predict_groups
from gpuhost.steps import Step

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Installer(Step):
    """`<prefix>` holds a conda installation (its `conda-meta/history`), or the installer puts one there."""

    def __init__(self, url, sha256, prefix, group):
        self.url, self.prefix, self.group = checked_url(url), prefix, group
        self.sha256 = str(sha256 or "").lower()
        if not SHA256.match(self.sha256):
            raise StepError(f"the conda installer {url} needs its sha256 pinned (conda.installer.sha256), "
                            f"got {sha256!r}.")
        self.marker = f"{prefix}/conda-meta/history"
        self.name = f"conda installed in {prefix}"

    def request(self):
        return Request(files={self.marker})

    def _download(self):
        return (f"t=$(mktemp /tmp/gpuhost-conda-XXXXXX.sh) && /usr/lib/apt/apt-helper download-file "
                f"{shlex.quote(self.url)} \"$t\" >/dev/null && sha256sum \"$t\" || {{ rm -f \"$t\"; false; }}")

    def _install(self, path):
        prefix, group, installer = shlex.quote(self.prefix), shlex.quote(self.group), shlex.quote(path)
        return (f"getent group {group} >/dev/null || groupadd --system {group}; umask 002 && "
                f"bash {installer} -b -p {prefix} >/dev/null; rc=$?; rm -f {installer}; [ $rc -eq 0 ] && "
                f"chgrp -R {group} {prefix} && chmod -R g+w {prefix} && find {prefix} -type d -exec chmod g+s {{}} +")

    def commands(self, facts):
        if self.marker in facts.get("files", {}):
            return []
        return [self._download(), f"check sha256 {self.sha256}", self._install("$t")]

    def execute(self, host, commands):
        try:
            digest, _, path = host.run(self._download(), sudo=True, what=self.name).stdout.strip().partition("  ")
        except StepError as error:
            raise StepError(f"the conda installer {self.url} could not be downloaded on {host.name}: "
                            f"{str(error).rpartition(': ')[2]}") from None
        if digest != self.sha256:
            host.run(f"rm -f {shlex.quote(path)}", sudo=True, what=self.name)
            raise StepError(f"the conda installer {self.url} has sha256 {digest}, not the pinned {self.sha256} "
                            "(conda.installer.sha256); it was not run and nothing was installed.")
        host.run(self._install(path), sudo=True, what=self.name)

    def predict(self, facts):
        facts.setdefault("files", {})[self.marker] = {"path": self.marker, "kind": "regular file"}
        predict_groups(facts, [self.group])
