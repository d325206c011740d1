"""One conda environment: created when missing, then only the difference installed.

What an environment holds is read from its `conda-meta/*.json` file names and `*.dist-info`
folders in the facts round trip (one listing for every environment), so a converge with
nothing to do runs no conda command at all. conda and pip run as the conda account (owner.py),
credentials reaching them through their environment (credentials.py).
"""

import re
import shlex
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.progress import CondaProgress
from gpuhost.roles.conda_r_python import specs
from gpuhost.roles.conda_r_python.credentials import Credentials
from gpuhost.roles.conda_r_python.owner import as_owner
from gpuhost.settings import redact_text
from gpuhost.steps import Step

PROBE = "conda-envs"
RECORD = re.compile(r"^([^/]+)/conda-meta/(.+)-([^-]+)-([^-]+)\.json$")
DIST_INFO = re.compile(r"^pip ([^/]+)/lib/python[^/]+/site-packages/([^/]+)-([^-/]+)\.dist-info$")
HISTORY = re.compile(r"^([^/]+)/conda-meta/history$")


def listing_probe(prefix):
    """Every environment's records and dist-info folders, relative to `<prefix>/envs`."""
    envs = shlex.quote(f"{prefix}/envs") + "/"
    return (f"for f in {envs}*/conda-meta/history {envs}*/conda-meta/*.json; do [ -e \"$f\" ] && "
            f"echo \"${{f#{envs}}}\"; done; for d in {envs}*/lib/python3*/site-packages/*.dist-info; do "
            f"[ -e \"$d\" ] && echo \"pip ${{d#{envs}}}\"; done; true")


def installed(facts):
    """{env: {"conda": {name: (version, build)}, "pip": {name: version}}} from the listing probe."""
    envs = {}
    for line in facts.get("probes", {}).get(PROBE, {}).get("output", "").splitlines():
        if match := HISTORY.match(line):
            envs.setdefault(match[1], {"conda": {}, "pip": {}})
        elif match := RECORD.match(line):
            envs.setdefault(match[1], {"conda": {}, "pip": {}})["conda"][match[2]] = (match[3], match[4])
        elif match := DIST_INFO.match(line):
            envs.setdefault(match[1], {"conda": {}, "pip": {}})["pip"][canonicalize_name(match[2])] = match[3]
    return envs


@dataclass
class Wanted:
    """An environment as the settings describe it."""

    name: str
    conda: list = field(default_factory=list)      # CondaSpec
    pip: list = field(default_factory=list)        # packaging Requirement
    channels: list = field(default_factory=list)
    lock: list = field(default_factory=list)       # explicit URLs (a lock file), replacing conda specs


class Environment(Step):
    """Create the environment, or install what it lacks; pip packages last."""

    refresh = ("probes",)

    def __init__(self, root, wanted, owner, strict=True, pip_index_url=None, lock_path=None, credentials=None):
        self.root, self.wanted, self.owner = root, wanted, owner
        self.conda, self.prefix = f"{root}/bin/conda", f"{root}/envs/{wanted.name}"
        self.strict, self.pip_index_url, self.lock_path = strict, pip_index_url, lock_path
        self.credentials = credentials or Credentials()
        self.name = f"conda environment {wanted.name}"

    def request(self):
        return Request(probes={PROBE: listing_probe(self.root)})

    def commands(self, facts):
        if facts.get("conda_planned", {}).get(self.wanted.name):
            return []
        current = installed(facts).get(self.wanted.name)
        commands = []
        if self.wanted.lock:
            if current is None or _locked(self.wanted.lock) != _records(current):
                commands.append(self._conda("create", ["--file", self.lock_path], channels=False))
        elif current is None:
            commands.append(self._conda("create", [s.text for s in self.wanted.conda]))
        else:
            missing = specs.unmet(self.wanted.conda, current["conda"])
            if missing:
                commands.append(self._conda("install", [s.text for s in missing]))
        pip = [r for r in self.wanted.pip if current is None or not specs.pip_satisfied(r, current["pip"])]
        if pip:
            secret = self.credentials.pip_index_url  # then pip reads PIP_INDEX_URL
            index = ["--index-url", self.pip_index_url] if self.pip_index_url and not secret else []
            args = ["-m", "pip", "install", "--no-input", "--disable-pip-version-check", *index, *map(str, pip)]
            commands.append(as_owner(self.owner, [f"{self.prefix}/bin/python", *args],
                                     self.credentials.environment(conda=False)))
        return commands

    def _conda(self, action, arguments, channels=True):
        words = [self.conda, action, "--yes", "--quiet", "--prefix", self.prefix]
        if channels:
            public = [self.credentials.public(c) for c in self.wanted.channels]
            words += ["--override-channels"] + [w for c in public for w in ("--channel", c)]
            words += ["--strict-channel-priority"] if self.strict else []
        return as_owner(self.owner, words + list(arguments), self.credentials.environment())

    def watcher(self, host):
        return CondaProgress(host.progress, self.wanted.name) if host.progress else None

    def execute(self, host, commands):
        try:
            super().execute(host, commands)
        except StepError as error:  # conda's and pip's last words may quote a channel's URL
            raise StepError(redact_text(str(error))) from None

    def predict(self, facts):
        facts.setdefault("conda_planned", {})[self.wanted.name] = True


def _records(current):
    return {(name, version, build) for name, (version, build) in current["conda"].items()}


def _locked(urls):
    """(name, version, build) of every package an explicit lock file names."""
    found = set()
    for url in urls:
        filename = url.split("#")[0].rsplit("/", 1)[-1]
        stem = filename.removesuffix(".conda").removesuffix(".tar.bz2")
        name, version, build = stem.rsplit("-", 2)
        found.add((name, version, build))
    return found
