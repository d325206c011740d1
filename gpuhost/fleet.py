"""Fleets larger than one controller: deterministic shards, and one view of many reports.

`--shard i/n` lets a CI matrix of n jobs converge one inventory together: each host belongs to
exactly one shard, decided by its name alone, so adding or removing hosts moves no other host.
"""

import hashlib
import re

from gpuhost.errors import InventoryError

SHARD = re.compile(r"^(\d+)/(\d+)$")


def shard_of(name, count):
    """The shard (1..count) a host name belongs to: a hash of the name, not its place in a list."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % count + 1


def shard(targets, spec):
    """The targets of shard `i/n` (all of them for an empty spec)."""
    if not spec:
        return targets
    match = SHARD.match(str(spec))
    index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not 1 <= index <= count:
        raise InventoryError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, such as 2/4.")
    return [t for t in targets if shard_of(t.name, count) == index]
