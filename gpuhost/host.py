"""Host: one machine being converged, over a Fabric Connection or an Invoke Context.

Because a Connection *is* a Context, the same role code runs over SSH and on this machine.
The Host adds what roles should not have to think about: sudo done right (the whole command
under `sh -c`, the password through stdin, never in a command line or a log), a count of remote
commands, the facts, and reconnecting after a reboot.
"""

import io
import shlex
import time

import paramiko
from invoke import Context
from invoke.exceptions import CommandTimedOut, Failure, UnexpectedExit

from gpuhost import facts as facts_module
from gpuhost import silence
from gpuhost.errors import ConnectError, StepError



class Host:
    """A target machine with its facts, its command count and its check mode."""

    def __init__(self, name, context, *, become_password=None, reconnect=None):
        self.name = name
        self.context = context
        silence.install(context)
        self.silence_timeout = None  # seconds a command may print nothing (settings: command_timeout)
        self.progress = None  # says a line of progress for this host (the runner's echo), or None
        self.become_password = become_password
        self.reconnect_with = reconnect  # callable returning a fresh context, for reboots
        self.facts = {}
        self.remote_commands = 0
        self.request = facts_module.Request()
        self.roles = ()  # the roles of this converge, for a role whose steps depend on another's presence

    @property
    def is_local(self):
        return type(self.context) is Context

    def run(self, command, *, sudo=False, what="", warn=False, watch=None):
        """Run one command (one round trip); with `sudo`, as root unless already root.

        A command that prints nothing for `silence_timeout` seconds is stopped; a connection lost
        under a command fails the step with that sentence, never a traceback. `watch` (an Invoke
        StreamWatcher) reads the output while the command runs.
        """
        stdin = False
        if sudo and not self.facts.get("user", {}).get("root"):
            command = self._sudo(command)
            if self.become_password:
                stdin = io.StringIO(f"{self.become_password}\n")  # read by sudo, then the stream ends
        self.remote_commands += 1
        what = what or "a command"
        try:
            result = self.context.run(command, hide=True, warn=warn, pty=False, in_stream=stdin,
                                      watchers=[watch] if watch else [], timeout=self.silence_timeout, dry=False)
        except CommandTimedOut as error:
            raise StepError(f"{what} on {self.name} printed nothing new for {error.timeout} s and was stopped "
                            "(command_timeout): look on the host for a process that hangs.") from None
        except UnexpectedExit as error:
            raise StepError(self._failure(what, error.result)) from None
        except Failure as error:
            raise StepError(self._failure(what, error.result)) from None
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise StepError(self._lost(what, str(error))) from None
        if result.exited == -1 and not self.is_local:
            raise StepError(self._lost(what))
        return result

    def _lost(self, what, why=""):
        return (f"the connection to {self.name} was lost during {what}{f' ({why})' if why else ''}; what it was "
                "doing may be half done on the host, and the next converge repairs and finishes it.")

    def _sudo(self, command):
        """The command as root. A password goes to sudo alone: it is the only line on stdin, sudo
        reads it, and the command runs with stdin from /dev/null, so nothing it starts can read it."""
        if self.become_password:
            return f"sudo -S -p '' sh -c {shlex.quote('exec </dev/null; ' + command)}"
        return f"sudo -n sh -c {shlex.quote(command)}"

    def _failure(self, what, result):
        output = (result.stderr or result.stdout or "").strip()
        if "a password is required" in output or "a terminal is required" in output:
            return (f"sudo on {self.name} needs a password: set GPUHOST_BECOME_PASSWORD or the inventory's "
                    "ansible_become_password.")
        if "incorrect password" in output or "Sorry, try again" in output:
            return f"sudo on {self.name} rejected the password given for it."
        if result.exited == -1 and not self.is_local:
            return self._lost(what)
        last = output.splitlines()[-1] if output else "no output"
        return f"{what} failed on {self.name} (exit {result.exited}): {last}"

    def gather(self, system=True, packages=True, only=None):
        """Read facts in one remote command; merge them into `self.facts` and return them."""
        request = self.request if only is None else _only(self.request, only)
        script = facts_module.script(request, system=system, packages=packages)
        result = self.run(script, what="gathering facts")
        fresh = facts_module.parse(result.stdout)
        for section in only or ():
            self.facts.pop(section, None)
        self.facts.update(fresh)
        return self.facts

    def reboot(self, prepare, timeout=600):
        """Run `prepare`, reboot, wait until the host answers with a new boot id, then re-read every fact."""
        old_boot = self.facts.get("boot_id")
        self.run(prepare, sudo=True, what="recording the reboot")
        try:
            self.run("nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &", sudo=True, what="reboot")
        except StepError:
            pass  # the connection may drop as the host goes down
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(2)
            try:
                self.context = self.reconnect_with()
                silence.install(self.context)
                boot_id = self.run("cat /proc/sys/kernel/random/boot_id", what="reading the boot id").stdout.strip()
            except (ConnectError, StepError):
                continue
            if boot_id != old_boot:
                return self.gather()
        raise ConnectError(f"{self.name} did not come back with a new boot within {timeout} s after the reboot.")

    def reboot_self(self, prepare):
        """Run `prepare` and reboot this machine a few seconds later, from a timer of systemd's own.

        The delay lets this run write its report and exit; the timer lives outside this process's
        service, so systemd does not cancel it when the service that ran gpuhost ends.
        """
        self.run(f"{prepare} && systemd-run --quiet --on-active=5 systemctl reboot", sudo=True,
                 what="reboot")

def _only(request, sections):
    return facts_module.Request(
        files=request.files if "files" in sections else set(),
        present=request.present if "files" in sections else set(),
        units=request.units if "units" in sections else set(),
        probes=request.probes if "probes" in sections else {},
    )
