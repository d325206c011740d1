"""Users and groups: system groups and membership, read from the facts' group probe."""

import re
import shlex

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.steps import Step

NAME = re.compile(r"^[a-z_][a-z0-9_-]*$")
GROUPS_PROBE = ("groups", "getent group")


def groups(facts):
    """{group: set(members)} from `getent group`."""
    table = {}
    for line in facts.get("probes", {}).get(GROUPS_PROBE[0], {}).get("output", "").splitlines():
        parts = line.split(":")
        if len(parts) == 4:
            table[parts[0]] = set(filter(None, parts[3].split(",")))
    return table


class Member(Step):
    """A system group exists and these users belong to it (users that do not exist are an error)."""

    refresh = ("probes",)

    def __init__(self, group, users=(), name=None):
        for value in (group, *users):
            if not NAME.match(value):
                raise StepError(f"{value!r} is not a valid user or group name.")
        self.group, self.users = group, list(users)
        self.name = name or f"group {group}: {', '.join(users) or 'exists'}"

    def request(self):
        return Request(probes=dict([GROUPS_PROBE]))

    def commands(self, facts):
        table = groups(facts)
        commands = [] if self.group in table else [f"groupadd --system {shlex.quote(self.group)}"]
        members = table.get(self.group, set())
        commands += [f"usermod -aG {shlex.quote(self.group)} {shlex.quote(u)}" for u in self.users if u not in members]
        return commands

    def predict(self, facts):
        predict_groups(facts, [self.group], self.users)


def predict_groups(facts, names, members=()):
    """Groups (and members) as a plan expects them, in the facts' group table."""
    probe = facts.setdefault("probes", {}).setdefault(GROUPS_PROBE[0], {"rc": 0, "output": ""})
    table = groups(facts)
    for name in names:
        table.setdefault(name, set()).update(members)
    probe["output"] = "\n".join(f"{g}:x:0:{','.join(sorted(m))}" for g, m in table.items())
