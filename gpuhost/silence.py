"""Stop a command that has gone silent, not one that is merely long.

A CUDA download can take an hour and still be healthy; a dkms build, conda or apt that hangs
prints nothing. Invoke's `timeout` counts total time, so gpuhost's runners restart that timer
whenever the command prints: `timeout` becomes "seconds without output".
"""

import functools
import threading

LOCK = threading.Lock()  # stdout and stderr are read by two threads; one timer must survive


class Silence:
    """Mixed into an Invoke runner: every chunk of output restarts the timeout."""

    silenced = False

    def respond(self, buffer_):
        super().respond(buffer_)
        with LOCK:
            timer = self._timer
            if timer is not None and timer.is_alive() and not self.silenced:
                timer.cancel()
                self.start_timer(self.opts["timeout"])

    def kill(self):
        """Stop the command, marked as timed out before its channel closes (Invoke asks the timer's
        thread, which may still be inside this call when the run ends)."""
        self.silenced = True
        super().kill()

    @property
    def timed_out(self):
        return self.silenced or super().timed_out


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
