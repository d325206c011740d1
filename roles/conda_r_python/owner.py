"""The account that owns the shared prefix and runs conda and pip for gpuhost.

Members of the conda group can write every file of the prefix: conda's own modules, each
environment's site-packages, `etc/profile.d/conda.sh`. Whatever runs code from the prefix runs
their code. So root never does: it creates a system account (`gpuhost-conda` by default: a name
no person and no distribution package uses, with no password and no login shell, whose primary
group is the conda group so that what it creates stays the group's), gives it the prefix, and
runs the installer, conda and pip only as that account, with `runuser -u`. runuser is util-linux's,
present on every Debian and Ubuntu, meant for root (no PAM authentication, no password), and,
unlike `su -c`, takes the command as words rather than a string for a shell. setpriv would do as
well but leaves HOME and USER to be set by hand; sudo -u depends on the sudoers policy.

That account can do no more than a member could: members can make it run their code, so it is
given nothing a member should not have (the README says which credentials this means).
"""

import shlex

from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.ops.users import NAME, predict_groups
from gpuhost.steps import Step

HOME = "/var/lib/{owner}"


def probe_name(owner):
    return f"passwd-{owner}"


class Owner(Step):
    """The system account `owner` exists, its primary group `group`, without a login shell."""

    refresh = ("probes",)

    def __init__(self, owner, group):
        if not NAME.match(owner) or owner == "root":
            raise InventoryError(f"conda_r_python.owner: {owner!r} is not the name of an account gpuhost may create.")
        self.owner, self.group = owner, group
        self.name = f"account {owner} owns the shared conda"

    def request(self):
        return Request(probes={probe_name(self.owner): f"getent passwd {self.owner} || true"})

    def commands(self, facts):
        if facts.get("probes", {}).get(probe_name(self.owner), {}).get("output", "").strip():
            return []
        group, owner = shlex.quote(self.group), shlex.quote(self.owner)
        return [f"getent group {group} >/dev/null || groupadd --system {group}; useradd --system --gid {group} "
                f"--home-dir {HOME.format(owner=self.owner)} --create-home --shell /usr/sbin/nologin "
                f"--comment 'owner of the shared conda (gpuhost)' {owner}"]

    def predict(self, facts):
        line = f"{self.owner}:x:999:999::{HOME.format(owner=self.owner)}:/usr/sbin/nologin"
        facts.setdefault("probes", {})[probe_name(self.owner)] = {"rc": 0, "output": line}
        predict_groups(facts, [self.group])


def as_owner(owner, words, environment=""):
    """A command that runs `words` as the owner account, in `/`, with a group-writable umask;
    `environment` (credentials.environment()) exports what the command must not see in argv."""
    return f"umask 002 && cd / && {environment}runuser -u {owner} -- {shlex.join(words)}"
