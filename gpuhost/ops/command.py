"""Commands guarded by a read-only probe: run only when the probe says the work is not done."""

from gpuhost.facts import Request
from gpuhost.steps import Phase, Step


class Command(Step):
    """Run `commands` unless `done(probe_result, facts)` is true.

    The probe is read-only and runs inside the facts round trip, so a host that needs nothing
    costs no extra command. `done` receives `{"rc": int, "output": str}` and the facts; without a
    probe it decides from the facts alone.
    """

    def __init__(self, name, commands, probe, done, phase=Phase.CONFIG, notify=(), after=None, probe_name=None):
        self.name = name
        self._commands = list(commands)
        self.probe_name = probe_name or "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower())[:60]
        self.probe = probe
        self.done = done
        self.phase = phase
        self.notify = tuple(notify)
        self.after = after  # what the probe would say once the commands ran (for plans); or facts -> that

    def request(self):
        return Request(probes={self.probe_name: self.probe} if self.probe else {})

    def commands(self, facts):
        result = facts.get("probes", {}).get(self.probe_name, {"rc": None, "output": ""})
        return [] if self.done(result, facts) else list(self._commands)

    def predict(self, facts):
        if self.after is not None:
            after = self.after(facts) if callable(self.after) else self.after
            facts.setdefault("probes", {})[self.probe_name] = dict(after)
