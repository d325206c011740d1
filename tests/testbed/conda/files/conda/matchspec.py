"""Package specs as conda reads them (conda.models.match_spec), in their string forms.

`name`, `name=1.2` (1.2.*), `name==1.2.3`, `name>=1.2,<2`, `name=1.2=build*`, `name 1.2.* build*`,
`channel::name…`. The version and build split follows conda's own expression, so the corner
cases agree: `python=3.11` is `3.11*`, `python=3.11=h*` pins version 3.11 exactly.
"""
import fnmatch
import re

from .channel import Channel
from .exceptions import InvalidMatchSpec
from .version import VersionSpec

_NAME = re.compile(r"^([^ =<>!~]+)?([><!=~ ].+)?$")
_VERSION_BUILD = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")


def _version_plus_build(text):
    match = _VERSION_BUILD.search(text)
    if not match:
        return text.replace(" ", ""), None
    version, build = match.groups()
    return version.replace(" ", ""), build and build.strip()


class MatchSpec:
    def __init__(self, text):
        self.text = str(text).strip()
        channel, _, rest = self.text.rpartition("::")
        self.channel = Channel(channel).canonical if channel else None
        if "[" in rest:
            raise InvalidMatchSpec(self.text, "bracket options are not supported by this conda")
        match = _NAME.match(rest.strip())
        if not match or not match.group(1):
            raise InvalidMatchSpec(self.text, "no package name found")
        self.name = match.group(1).lower()
        version, build = None, None
        tail = (match.group(2) or "").strip()
        if tail:
            version, build = _version_plus_build(tail)
            if version in ("=", "==", ""):
                raise InvalidMatchSpec(self.text, "no version after the relation")
            if version.startswith("="):
                rest_of = version[1:]
                if version.startswith("==") and build is None:
                    version = version[2:]
                elif not any(c in rest_of for c in "=,|"):
                    version = rest_of + "*" if build is None and not rest_of.endswith("*") else rest_of
        try:
            self.version = VersionSpec(version) if version not in (None, "*") else None
        except ValueError as error:
            raise InvalidMatchSpec(self.text, str(error)) from None
        self.build = build if build not in (None, "*") else None

    def match(self, record, canonical_channel=None):
        """True when the record (a repodata or conda-meta mapping) is one this spec asks for.

        `canonical_channel` is the record's channel as conda names it, checked when the spec names one."""
        if record["name"] != self.name:
            return False
        if self.version is not None and not self.version.match(record["version"]):
            return False
        if self.build is not None and not fnmatch.fnmatchcase(record["build"], self.build):
            return False
        return self.channel is None or canonical_channel in (None, self.channel)

    def __str__(self):
        return self.text
