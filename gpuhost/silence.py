"""Stop a command that has gone silent, not one that is merely long.

A CUDA download can take an hour and still be healthy; a dkms build, conda or apt that hangs
prints nothing new. Invoke's `timeout` counts total time, so gpuhost's runners count from the
last new output instead: `timeout` becomes "seconds without progress".
"""

import functools
import threading
import time

LOCK = threading.Lock()  # the timer's thread, the output readers and the end of the run meet here


class Silence:
    """Mixed into an Invoke runner: the timer is armed once per command; when it fires, it stops the
    command only if nothing new was printed for `timeout` seconds, and else waits out the rest. (A
    timer per chunk of output would start thousands of threads during a long apt download.)

    Only a line unlike the last one counts: apt's status line repeats unchanged while its download
    hangs (`dlstatus:1:0.0000:Retrieving file 1 of 3`, every half second, for good)."""

    silenced = False
    stopped = False
    heard = 0.0
    last_line = None

    def start_timer(self, timeout):
        self.heard = time.monotonic()
        self.judged = {}  # stream buffer -> how many of its chunks were looked at
        super().start_timer(timeout)

    def respond(self, buffer_):
        super().respond(buffer_)
        start = self.judged.get(id(buffer_), 0)
        self.judged[id(buffer_)] = len(buffer_)
        lines = "".join(buffer_[start:]).splitlines()
        if any(line != self.last_line for line in lines):
            self.heard = time.monotonic()
        if lines:
            self.last_line = lines[-1]

    def kill(self):
        """Stop the command if it has been silent for the whole timeout, marked as timed out before
        its channel closes (the end of the run may be reading `timed_out` at the same moment)."""
        with LOCK:
            if self.stopped:
                return
            remaining = self.opts["timeout"] - (time.monotonic() - self.heard)
            if remaining > 0:
                self._timer = threading.Timer(remaining, self.kill)
                self._timer.start()
                return
            self.silenced = True
        super().kill()

    def stop(self):
        with LOCK:
            self.stopped = True
        super().stop()

    @property
    def timed_out(self):
        return self.silenced


@functools.cache
def runner(base):
    """`base` with the silence timeout (the same class for the same base)."""
    if issubclass(base, Silence):
        return base
    return type(f"Silent{base.__name__}", (Silence, base), {})


def install(context):
    """Make `context` (a Fabric Connection or an Invoke Context) time out on silence."""
    runners = context.config.runners
    for kind in ("local", "remote"):
        base = runners.get(kind)
        if isinstance(base, type):
            runners[kind] = runner(base)
