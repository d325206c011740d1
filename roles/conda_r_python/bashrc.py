"""`conda init bash` in the ~/.bashrc of a user who asked for it, run once and not again.

Whether it ran is read in the facts round trip, which runs as the login user: that user reads
another user's ~/.bashrc on Debian (homes 0755) but not on Ubuntu, whose homes are 0750. So
gpuhost keeps, besides the dotfile, a record of its own: after `conda init` (run as the user),
root writes `/var/lib/gpuhost/conda-init/<user>`, world-readable, naming the prefix the user was
initialised for. Where the dotfile can be read it decides (a block removed by hand is put back);
where it cannot, the record does. Nothing the login user may not read is read, and a converged
host costs no command beyond the facts round trip.
"""

import posixpath
import re
import shlex

from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.ops.files import write_command
from gpuhost.steps import Step

USER = re.compile(r"^[a-z_][a-z0-9_-]*$")
RECORDS = "/var/lib/gpuhost/conda-init"
BLOCK = ">>> conda initialize >>>"
UNREADABLE = "unreadable"


def probe(user):
    """How many conda blocks the user's ~/.bashrc holds (0 when there is none), or `unreadable`."""
    return (f"h=$(getent passwd {user} | cut -d: -f6); f=\"$h/.bashrc\"; if [ -r \"$f\" ]; then "
            f"grep -c {shlex.quote(BLOCK)} \"$f\"; "
            f"elif [ -z \"$h\" ] || [ ! -e \"$h\" ] || [ -x \"$h\" ] && [ ! -e \"$f\" ]; then echo 0; "
            f"else echo {UNREADABLE}; fi")


class CondaInit(Step):
    """Run `conda init bash` as the user, then record it, unless the dotfile or the record says it ran."""

    refresh = ("files", "probes")

    def __init__(self, prefix, user):
        if not USER.match(user):
            raise InventoryError(f"conda_r_python.init_users: {user!r} is not a user name.")
        if user == "root":
            raise InventoryError("conda_r_python.init_users: not root: its ~/.bashrc would run code from a prefix that every "
                                 "member of the conda group can change.")
        self.prefix, self.user = prefix, user
        self.record = f"{RECORDS}/{user}"
        self.probe_name = f"conda-init-{user}"
        self.name = f"conda init for {user}"

    def request(self):
        return Request(files={self.record}, probes={self.probe_name: probe(self.user)})

    def done(self, facts):
        output = facts.get("probes", {}).get(self.probe_name, {}).get("output", "").strip()
        if output == UNREADABLE:
            return (facts.get("files", {}).get(self.record) or {}).get("content") == self.prefix + "\n"
        return output.isdigit() and int(output) > 0

    def commands(self, facts):
        if self.done(facts):
            return []
        init = shlex.quote(f"{self.prefix}/bin/conda init bash")
        folders = f"install -d -m 0755 {posixpath.dirname(RECORDS)} {RECORDS}"  # the login user reads the record
        record = write_command(self.record, f"{self.prefix}\n".encode(), "0644", "root", "root")
        return [f"su -l {self.user} -s /bin/sh -c {init}", f"{folders} && {record}"]

    def predict(self, facts):
        facts.setdefault("probes", {})[self.probe_name] = {"rc": 0, "output": "1"}
        facts.setdefault("files", {})[self.record] = {"path": self.record, "kind": "regular file",
                                                      "content": self.prefix + "\n"}
