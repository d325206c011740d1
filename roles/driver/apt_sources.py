"""The archive components a host's apt sources enable, suite by suite, read from the files apt reads.

Why: Debian's own NVIDIA driver lives in non-free, non-free-firmware and contrib, which a default
Debian 12 installation leaves out; without them apt fails deep in a transaction, so the driver role
refuses first and names what is missing. Both formats of sources.list(5) are read: one-line
(`/etc/apt/sources.list`, `sources.list.d/*.list`) and deb822 (`sources.list.d/*.sources`, with
`Enabled: no` honoured). Only `deb` entries count: `deb-src` serves no binary package.
"""

import fnmatch
import re

from gpuhost.facts import Request

ONE_LINE = ("/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list")
DEB822 = ("/etc/apt/sources.list.d/*.sources",)
LINE = re.compile(r"^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?\S+\s+(\S+)\s*(.*)$")


def request():
    return Request(files={*ONE_LINE, *DEB822})


def enabled(facts):
    """{suite: {component, …}} over every enabled `deb` entry of the host's sources."""
    suites = {}
    for path, info in sorted(facts.get("files", {}).items()):
        text = info.get("content") or ""
        if any(fnmatch.fnmatch(path, p) for p in ONE_LINE):
            entries = _one_line(text)
        elif any(fnmatch.fnmatch(path, p) for p in DEB822):
            entries = _deb822(text)
        else:
            continue
        for suite, components in entries:
            suites.setdefault(suite, set()).update(components)
    return suites


def _one_line(text):
    for line in text.splitlines():
        match = LINE.match(line.split("#", 1)[0].strip())
        if match and match.group(1) == "deb":
            yield match.group(2), match.group(3).split()


def _deb822(text):
    for stanza in _stanzas(text):
        if "deb" in stanza.get("types", "").split() and stanza.get("enabled", "yes").lower() != "no":
            for suite in stanza.get("suites", "").split():
                yield suite, stanza.get("components", "").split()


def _stanzas(text):
    """deb822 paragraphs as {lower-case field: value}, continuation lines joined, comments dropped."""
    stanza, field = {}, None
    for line in text.splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if stanza:
                yield stanza
            stanza, field = {}, None
        elif line[0] in " \t" and field:
            stanza[field] += " " + line.strip()
        elif ":" in line:
            field, _, value = line.partition(":")
            field = field.strip().lower()
            stanza[field] = value.strip()
