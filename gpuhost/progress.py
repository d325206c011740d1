"""Progress of long apt work, one short line at a time, readable with many hosts in parallel and in a log.

apt reports on its status channel (`-o APT::Status-Fd=1`): `dlstatus:<n>:<percent>:<what>` while
downloading, `pmstatus:<package>:<percent>:<what>` while dpkg installs. A line is shown when the
phase changes, every `STEP` percent, or after `QUIET` seconds without one, never more often.
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
