"""Progress of long apt and conda work, one short line at a time, readable with many hosts in parallel and in a log.

apt reports on its status channel (`-o APT::Status-Fd=1`): `dlstatus:<n>:<percent>:<what>` while
downloading, `pmstatus:<package>:<percent>:<what>` while dpkg installs. A line is shown when the
phase changes, every `STEP` percent, or after `QUIET` seconds without one, never more often.
conda, even with `--quiet`, names each phase as it starts ("Solving environment: ...working... done",
conda/conda#9108): each is shown once, when it starts.
"""

import time

from invoke.watchers import StreamWatcher

STEP = 10.0
QUIET = 30.0
PHASES = {"dlstatus": "downloading", "pmstatus": "installing"}


class AptProgress(StreamWatcher):
    """Reads apt's status lines from a running command's output and reports them through `say`."""

    def __init__(self, say):
        super().__init__()
        self.say = say
        self.seen = 0
        self.shown = (None, -STEP, 0.0)  # phase, percent, time of the last line shown

    def submit(self, stream):
        complete = stream.rfind("\n") + 1
        for line in stream[self.seen:complete].splitlines():
            self._line(line)
        self.seen = max(self.seen, complete)
        return []

    def _line(self, line):
        kind, _, rest = line.partition(":")
        if kind not in PHASES:
            return
        fields = rest.split(":", 2)
        if len(fields) < 3:
            return
        try:
            percent = float(fields[1])
        except ValueError:
            return
        phase, last, when = self.shown
        now = time.monotonic()
        if PHASES[kind] != phase or percent >= last + STEP or now - when >= QUIET:
            self.shown = (PHASES[kind], percent, now)
            self.say(f"apt {PHASES[kind]} {percent:.0f}%: {fields[2].strip()}")


CONDA_PHASES = ("Collecting package metadata", "Solving environment", "Downloading and Extracting Packages",
                "Preparing transaction", "Verifying transaction", "Executing transaction")


class CondaProgress(StreamWatcher):
    """Reports each of conda's phases through `say` as soon as conda names it."""

    def __init__(self, say, what):
        super().__init__()
        self.say, self.what = say, what
        self.shown = set()

    def submit(self, stream):
        started = sorted((stream.find(phase), phase) for phase in CONDA_PHASES if phase not in self.shown)
        for at, phase in started:
            if at >= 0:
                self.shown.add(phase)
                self.say(f"conda {self.what}: {phase.lower()}")
        return []
