"""Choosing the packages of an environment from the channels' records.

For each package the spec names, the record every rule allows with the best channel, then the
newest version, then the highest build number; its dependencies are added the same way. There is
no backtracking (the fixture channel never needs it): a rule that the chosen record breaks is an
UnsatisfiableError. Installed records stay unless a rule rejects them, so `install` only changes
what the specs require.
"""
from collections import defaultdict

from .channel import Channel
from .exceptions import PackagesNotFoundError, UnsatisfiableError
from .matchspec import MatchSpec
from .version import VersionOrder


def index(channels, records_by_channel, strict):
    """{name: [(rank, record)]}: rank 0 is the first channel; strict priority keeps, for each name,
    only the records of the first channel that has it."""
    found = defaultdict(list)
    for rank, channel in enumerate(channels):
        for record in records_by_channel[channel.base_url]:
            found[record["name"]].append((rank, _with_pip(record)))
    if strict:
        for name, ranked in found.items():
            best = min(rank for rank, _ in ranked)
            found[name] = [(rank, record) for rank, record in ranked if rank == best]
    return found


def _with_pip(record):
    """conda makes pip a dependency of python (add_pip_as_python_dependency)."""
    if record["name"] == "python" and not any(d.split()[0] == "pip" for d in record.get("depends", ())):
        return {**record, "depends": [*record.get("depends", ()), "pip"]}
    return record


def solve(found, specs, installed, channel_urls):
    """{name: record} the prefix should hold after asking for `specs` on top of `installed`."""
    missing = [s for s in specs if not any(_matches(s, r) for _, r in found.get(s.name, ()))]
    if missing:
        raise PackagesNotFoundError(missing, channel_urls)
    chosen, fresh = dict(installed), set()
    todo = [s.name for s in specs]
    while todo:
        name = todo.pop(0)
        rules = _rules(name, specs, chosen)
        current = chosen.get(name)
        if current is not None and all(_matches(spec, current) for spec, _, _ in rules):
            continue
        allowed = [(rank, r) for rank, r in found.get(name, ()) if all(_matches(spec, r) for spec, _, _ in rules)]
        if not found.get(name):
            raise PackagesNotFoundError([f"{who} -> {spec}" for spec, who, kind in rules if kind == "depends"],
                                        channel_urls)
        if name in fresh or not allowed:
            raise UnsatisfiableError([f"{who} -> {spec}" if who else str(spec) for spec, who, _ in rules])
        chosen[name] = max(allowed, key=_preference)[1]
        fresh.add(name)
        todo += [MatchSpec(d).name for d in chosen[name].get("depends", ())]
        todo += [n for n in (MatchSpec(c).name for c in chosen[name].get("constrains", ())) if n in chosen]
    return chosen


def _rules(name, specs, chosen):
    """(spec, who asks, kind) for `name`: the requested specs, the depends of every chosen record,
    and their constrains (which only apply while the package is there)."""
    rules = [(s, "", "requested") for s in specs if s.name == name]
    for record in chosen.values():
        who = f"{record['name']}={record['version']}"
        for kind in ("depends", "constrains"):
            rules += [(spec, who, kind) for spec in map(MatchSpec, record.get(kind, ())) if spec.name == name]
    return rules


def _matches(spec, record):
    return spec.match(record, Channel(record["channel"]).canonical)


def _preference(ranked):
    rank, record = ranked
    return -rank, VersionOrder(record["version"]), record.get("build_number", 0), record.get("timestamp", 0)
