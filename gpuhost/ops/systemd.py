"""systemd units: enabled and running, and restart handlers that run once."""

import re

from gpuhost.errors import StepError
from gpuhost.facts import Request
from gpuhost.steps import Handler, Phase, Step

UNIT = re.compile(r"^[A-Za-z0-9_.@:-]+$")


def checked_unit(name):
    if not UNIT.match(name):
        raise StepError(f"{name!r} is not a systemd unit name.")
    return name


class Service(Step):
    """A unit enabled at boot and running now (or disabled and stopped)."""

    phase = Phase.SERVICES
    refresh = ("units",)

    def __init__(self, unit, enabled=True, running=True, name=None):
        self.unit = checked_unit(unit)
        self.enabled, self.running = enabled, running
        self.name = name or f"service {unit}"

    def request(self):
        return Request(units={self.unit})

    def commands(self, facts):
        state = facts.get("units", {}).get(self.unit, {"enabled": "not-found", "active": "unknown"})
        commands = []
        if self.enabled and state["enabled"] not in ("enabled", "static", "alias"):
            commands.append(f"systemctl enable {self.unit}")
        if not self.enabled and state["enabled"] == "enabled":
            commands.append(f"systemctl disable {self.unit}")
        if self.running and state["active"] != "active":
            commands.append(f"systemctl reset-failed {self.unit} 2>/dev/null; systemctl start {self.unit}")
        if not self.running and state["active"] == "active":
            commands.append(f"systemctl stop {self.unit}")
        return commands

    def predict(self, facts):
        facts.setdefault("units", {})[self.unit] = {
            "enabled": "enabled" if self.enabled else "disabled",
            "active": "active" if self.running else "inactive",
        }


def restart(unit):
    """A handler that restarts a unit once, clearing its start limit first (docker.service allows 3 a minute)."""
    unit = checked_unit(unit)
    return Handler(f"restart {unit}", [f"systemctl daemon-reload && systemctl reset-failed {unit} 2>/dev/null; "
                                       f"systemctl restart {unit}"])
