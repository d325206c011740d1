"""Canonical's retired branches: a package named for one branch whose candidate installs another.

Canonical does not remove a branch it ends: it turns the branch's packages into transitional
packages of the branch that replaces it, and apt then installs that branch under the old names
without a word. Seen in Ubuntu's archive: `nvidia-dkms-530` at 535.54.03-0ubuntu0.22.04.1,
"Transitional package for nvidia-dkms-535", Depends nvidia-dkms-535 (jammy-security, 2023); the 570
packages at 570.211.01-0ubuntu1.24.04.1 made transitional to 580 (launchpad.net/ubuntu/+source/
nvidia-graphics-drivers-570, canonical/core-base PR 439); the 550-server and 565-server modules on
24.04 pulling the 580-server ones (canonical/snapd PR 15712). Which branches are retired changes
with the archive, so gpuhost keeps no list: it reads apt's candidate record of each package it
would install (`apt-cache show --no-all-versions`), from the host's lists before any change (in a
plan too), and again right after the apt transaction's own `apt-get update`.
"""

import re
import shlex

from gpuhost.facts import Request
from gpuhost.steps import Check

PROBE = "canonical-driver-candidates"
# The branch in a name of Canonical's driver packages: nvidia-utils-580-server, libnvidia-compute-580,
# linux-modules-nvidia-580-server-open-generic, linux-modules-nvidia-535-server-5.15.0-105-generic.
NAMED = re.compile(r"nvidia-[a-z-]*?(\d{3,})(?=-|$)")
# The branch in a version of Canonical's userspace packages (580.95.05-0ubuntu0.24.04.1); the
# modules are versioned like the kernel (6.8.0-49.49+1) and name their branch only in Depends.
VERSIONED = re.compile(r"^(?:\d+:)?(\d{3,})\.\d")
RELATIONS = ("Pre-Depends", "Depends")


def command(names):
    """apt's candidate record of each package: what `apt-get install` would take."""
    return "LC_ALL=C apt-cache show --no-all-versions " + " ".join(shlex.quote(n) for n in names) + " 2>/dev/null"


def records(text):
    """`apt-cache show` output → {package: {field: value}}; continuation lines are left out."""
    found = {}
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^([A-Za-z][A-Za-z0-9-]*): ?(.*)$", stanza, re.M))
        if "Package" in fields:
            found.setdefault(fields["Package"], fields)
    return found


def installs(record, branch):
    """(the other branch this candidate installs, why) or None when it installs `branch` itself."""
    version = VERSIONED.match(record.get("Version", ""))
    if version and int(version.group(1)) != branch:
        return int(version.group(1)), f"its version {record['Version']} is a {version.group(1)} release"
    for field in RELATIONS:
        for clause in record.get(field, "").split(","):
            for alternative in clause.split("|"):
                name = alternative.split("(")[0].split(":")[0].strip()
                named = NAMED.search(name)
                if named and int(named.group(1)) != branch:
                    return int(named.group(1)), f"it depends on {name}"
    return None


def refusal(output, names, branch):
    """The sentence refusing the first of `names` whose candidate installs another branch, or None."""
    found = records(output)
    for name in names:
        other = installs(found[name], branch) if name in found else None
        if other:
            return (f"{name} in Ubuntu's archive is a transitional package of branch {other[0]}, not {branch} "
                    f"({other[1]}), so apt would install R{other[0]} under R{branch}'s name: set "
                    f"stack.driver={other[0]} to install that branch, or choose another branch.")
    return None


class Candidates(Check):
    """Refuses, before any change, Canonical's packages of the branch whose candidates install another.

    The same object is the apt transaction's `vet`: after the transaction's update it reads the
    candidates again (`command`) and judges them (`refusal`), before anything is installed.
    """

    def __init__(self, names, branch):
        super().__init__(f"Canonical's R{branch} packages are not transitional", self._from_facts)
        self.names, self.branch = list(names), int(branch)
        self.command = command(self.names)

    def request(self):
        return Request(probes={PROBE: self.command})

    def _from_facts(self, facts):
        return self.refusal(facts.get("probes", {}).get(PROBE, {}).get("output", ""))

    def refusal(self, output):
        return refusal(output, self.names, self.branch)


def check(facts, stack):
    """The check for Canonical's packages of the stack that the host does not have yet, or None
    (nothing to install: no candidate to read, no extra round trip)."""
    packages = facts.get("packages", {})
    missing = [n for n in stack.packages["driver_ubuntu"]
               if n not in packages or packages[n].get("state", "installed") != "installed"]
    return Candidates(missing, stack.driver.branch) if missing else None
