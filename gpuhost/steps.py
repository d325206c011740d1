"""Steps: the unit of change.

A step reads facts and returns the commands that bring the host where it should be, or none
when it already is (pyinfra's model: "changed" means "ran a command"). Steps are evaluated at
run time, one after another, against facts that earlier steps have updated — by predicting
their effect in check mode, and by re-reading the host after they ran otherwise — so a plan
never works from facts that an earlier step will have changed.
"""

from enum import IntEnum

from gpuhost.facts import Request


class Phase(IntEnum):
    """Where a step runs in a converge, whatever role it belongs to.

    Repositories of every role come first, then one apt transaction for every role's packages,
    then configuration, services and handlers, then a reboot when one is needed, then the
    steps that need the freshly loaded driver.
    """

    REPOSITORIES = 10
    PACKAGES = 20
    CONFIG = 30
    SERVICES = 40
    HANDLERS = 45
    REBOOT = 50
    AFTER_BOOT = 60


class Step:
    """Base class. Subclasses set `name` and override `commands` (and usually `predict`)."""

    phase = Phase.CONFIG
    name = "step"
    role = ""
    notify = ()
    refresh = ("files", "units", "probes")  # fact sections re-read after the step ran
    reboots = False

    def request(self):
        """Facts the step needs beyond the system facts."""
        return Request()

    def commands(self, facts):
        """Commands to run now; an empty list means the host is already right."""
        raise NotImplementedError

    def predict(self, facts):
        """Update `facts` as if the commands had run (used by plan and check mode)."""

    def diff(self, facts):
        """A short human diff of what would change, when that says more than the commands."""
        return ""

    def execute(self, host, commands):
        """Run the commands on the host, all in one remote command."""
        host.run(" && ".join(f"{{ {c}; }}" for c in commands), sudo=True, what=self.name, watch=self.watcher(host))

    def watcher(self, host):
        """What reads the output while the commands run (progress), or None."""
        return None

    def __repr__(self):
        return f"<{type(self).__name__} {self.role}:{self.name}>"


class Handler(Step):
    """Commands that run once, after the services phase, when any step notified them."""

    phase = Phase.HANDLERS

    def __init__(self, name, commands):
        self.name = name
        self._commands = list(commands)

    def commands(self, facts):
        return list(self._commands)


class Check(Step):
    """A step that changes nothing and fails with a clear sentence when the host is wrong.

    Used for refusals that must happen before anything changes (secure boot with an unsigned
    module, a driver from another source): they run in the first phase.
    """

    phase = Phase.REPOSITORIES - 1

    def __init__(self, name, problem):
        self.name = name
        self._problem = problem  # facts -> error sentence or None

    def problem(self, facts):
        return self._problem(facts)

    def commands(self, facts):
        return []
