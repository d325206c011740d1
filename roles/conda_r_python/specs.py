"""What an environment should hold, and whether what it holds already satisfies it.

Conda package specs follow conda's MatchSpec forms (`numpy`, `numpy=1.26`, `numpy==1.26.4`,
`numpy>=1.26,<2`, `pytorch=*=*cuda*`); pip specs are PEP 508 requirements. Installed versions
come from the environment's `conda-meta/<name>-<version>-<build>.json` records and its
`*.dist-info` folders, so deciding what to change needs no conda run at all.
"""

import fnmatch
import re
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gpuhost.errors import InventoryError

CONDA_SPEC = re.compile(r"^(?P<name>[a-z0-9_][a-z0-9_.-]*)(?:(?P<eq>==?)(?P<version>[A-Za-z0-9_.*+!-]+)"
                        r"(?:=(?P<build>[A-Za-z0-9_.*+-]+))?|(?P<ranges>(?:[<>!]=?|==)[A-Za-z0-9_.*+!-]+"
                        r"(?:,(?:[<>!]=?|==)[A-Za-z0-9_.*+!-]+)*))?$")
RANGE = re.compile(r"^([<>!]=?|==)(.+)$")


@dataclass(frozen=True)
class CondaSpec:
    text: str
    name: str
    version: str = ""   # after `=` (prefix match) or `==` (exact)
    exact: bool = False
    build: str = ""     # glob over the build string
    ranges: tuple = ()  # (operator, version) pairs

    def satisfied_by(self, version, build):
        if self.build and not fnmatch.fnmatchcase(build, self.build):
            return False
        if self.version and self.version != "*":
            wanted = self.version.removesuffix(".*")
            if self.exact and "*" not in self.version:
                return version == wanted
            return version == wanted or version.startswith(wanted + ".")
        return all(_compare(version, op, bound) for op, bound in self.ranges)


def conda_spec(text):
    """A validated conda spec; anything else is an inventory error naming it."""
    text = re.sub(r"\s+", "=", re.sub(r"\s+(?=[<>!=])|(?<=[<>!=,])\s+", "", str(text).strip()))
    match = CONDA_SPEC.match(text)
    if not match:
        raise InventoryError(f"{text!r} is not a conda package spec gpuhost understands (name, name=1.2, "
                             "name==1.2.3, name>=1.2,<2 or name=version=build).")
    ranges = tuple(RANGE.match(part).groups() for part in (match["ranges"] or "").split(",") if part)
    return CondaSpec(text, match["name"], match["version"] or "", match["eq"] == "==",
                     match["build"] or "", ranges)


def pip_requirement(text):
    try:
        requirement = Requirement(str(text))
    except InvalidRequirement as error:
        raise InventoryError(f"{text!r} is not a pip requirement: {error}.") from None
    if requirement.url or requirement.marker:
        raise InventoryError(f"pip requirement {text!r}: URLs and markers are not supported; name a version.")
    return requirement


def pip_satisfied(requirement, installed):
    """True when `installed` ({canonical name: version}) meets the requirement."""
    version = installed.get(canonicalize_name(requirement.name))
    return version is not None and requirement.specifier.contains(version, prereleases=True)


def unmet(specs, installed):
    """The conda specs that `installed` ({name: (version, build)}) does not satisfy, in order."""
    return [s for s in specs if s.name not in installed or not s.satisfied_by(*installed[s.name])]


def _compare(version, op, bound):
    try:
        left, right = Version(version), Version(bound.removesuffix(".*"))
    except InvalidVersion:
        left, right = version, bound.removesuffix(".*")
    return {"==": left == right, "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right, "!=": left != right}[op]
