"""Host patterns as inventories write them: `gpu[01:04]`, `db-[a:f].lan`, `node1:2222`, `[fd00::5]:22`.

Ansible's rules (parse_address and expand_hostname_range in ansible-core): a port is split off only
when what is left is an IPv4 address, an IPv6 address or a host name (ranges allowed); anything
else is a name as written. Ranges expand left to right, zero-padded when the start is.
"""

import re
import string

from gpuhost.errors import InventoryError

_NUMERIC = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_HEX = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"
_ALNUM = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_V6 = rf"(?:[0-9a-f]{{1,4}}|{_HEX})"
_V4 = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUMERIC})"
_LABEL = rf"(?:[\w]|{_ALNUM})(?:[\w_-]|{_ALNUM})*(?<![_-])"

BRACKETED_PORT = re.compile(r"^\[(.+)\]:([0-9]+)$")
HOST_PORT = re.compile(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$")
IPV4 = re.compile(rf"^(?:{_V4}\.){{3}}{_V4}$", re.I)
IPV6 = re.compile(
    rf"""^((?:{_V6}:){{7}}{_V6}|(?:{_V6}:){{1,6}}:|(?:{_V6}:)(?::{_V6}){{1,6}}|(?:{_V6}:){{2}}(?::{_V6}){{1,5}}|
    (?:{_V6}:){{3}}(?::{_V6}){{1,4}}|(?:{_V6}:){{4}}(?::{_V6}){{1,3}}|(?:{_V6}:){{5}}(?::{_V6}){{1,2}}|
    (?:{_V6}:){{6}}(?::{_V6})|:(?::{_V6}){{1,6}}|{_V6}?::|(?:0:){{6}}(?:{_V6}\.){{3}}{_V6}|
    ::(?:ffff:)?(?:{_V6}\.){{3}}{_V6}|(?:0:){{5}}ffff:(?:{_V6}\.){{3}}{_V6})$""".replace("\n", "").replace(" ", ""),
    re.I)
HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$", re.I | re.UNICODE)


def parse_address(address):
    """(host, port) of `address`, port None when absent; None when it is no address or name."""
    port = None
    for pattern in (BRACKETED_PORT, HOST_PORT):
        match = pattern.match(address)
        if match:
            address, port = match.group(1), int(match.group(2))
    if any(p.match(address) for p in (IPV4, IPV6, HOSTNAME)):
        return address, port
    return None


def expand(pattern):
    """The host names and the port one inventory key or line stands for."""
    if not isinstance(pattern, str):
        raise InventoryError(f"host pattern {pattern} must be text: enclose numbers in quotation marks.")
    parsed = parse_address(pattern)
    name, port = parsed if parsed else (pattern, None)
    try:
        return (_ranges(name) if "[" in name else [name]), port
    except ValueError:
        raise InventoryError(f"host range in '{pattern}' mixes letters and numbers.") from None


def _ranges(line):
    head, bounds, tail = line.replace("[", "|", 1).replace("]", "|", 1).split("|")
    parts = bounds.split(":")
    if len(parts) not in (2, 3):
        raise InventoryError(f"host range [{bounds}] must be begin:end or begin:end:step.")
    begin, end, step = parts[0] or "0", parts[1], parts[2] if len(parts) == 3 else 1
    if not end:
        raise InventoryError(f"host range [{bounds}] must give its end.")
    width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
    if width and width != len(end):
        raise InventoryError(f"host range [{bounds}]: begin and end must have the same number of digits.")
    letters = string.ascii_letters
    if begin in letters and end in letters:
        if letters.index(begin) > letters.index(end):
            raise InventoryError(f"host range [{bounds}] must have begin <= end.")
        sequence = list(letters[letters.index(begin):letters.index(end) + 1:int(step)])
    else:
        sequence = [str(n).zfill(width) for n in range(int(begin), int(end) + 1, int(step))]
    names = []
    for item in sequence:
        name = f"{head}{item}{tail}"
        names.extend(_ranges(name) if "[" in name else [name])
    return names
