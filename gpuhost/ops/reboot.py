"""Reboot only when the host needs it, at most once for a reason, then carry on with the steps that need the new boot.

A reboot that does not cure its reason (a module that never loads: a failed DKMS build, an
unsigned module, the wrong flavour) would otherwise repeat at every converge, and at every boot
in pull mode. So the host remembers, in `MEMORY`, the boot it was rebooted from and why; when the
same reason is still there after that boot, the host fails with the reason instead of rebooting.
Once the reason is gone, the memory is cleared.
"""

from gpuhost.facts import Request
from gpuhost.ops.files import write_command
from gpuhost.steps import Phase, Step

MEMORY = "/var/lib/gpuhost/reboot"


class Reboot(Step):
    """Reboot when `reason(facts)` names a reason; the runner reconnects and re-reads the facts.

    `after_boot(facts)` predicts what the boot changes (for plans and check mode), e.g. that the
    installed driver module is now loaded. `hint` tells where to look when a reboot did not help.
    """

    phase = Phase.REBOOT
    reboots = True
    refresh = ()

    def __init__(self, name, reason, after_boot=None, hint=""):
        self.name = name
        self.reason = reason
        self.after_boot = after_boot
        self.hint = hint

    def request(self):
        return Request(files={MEMORY})

    def commands(self, facts):
        why = self.reason(facts)
        if not why:
            return []
        remember = f"{facts.get('boot_id', '')}\t{why}\n".encode()
        return [write_command(MEMORY, remember, "0644", "root", "root"), f"systemctl reboot  # {why}"]

    def why(self, commands):
        return commands[-1].partition("  # ")[2]

    def predict(self, facts):
        remember = f"{facts.get('boot_id', '')}\t{self.reason(facts)}\n"
        facts.setdefault("files", {})[MEMORY] = {"path": MEMORY, "kind": "regular file", "content": remember}
        if self.after_boot:
            self.after_boot(facts)
        facts["boot_id"] = "(after reboot)"

    def did_not_help(self, host_name, facts):
        """The sentence to fail with when this reason survived the reboot made for it, else None."""
        why = self.reason(facts)
        boot, _, remembered = remembered_reboot(facts)
        if not why or why != remembered or boot == facts.get("boot_id"):
            return None
        hint = f" {self.hint}" if self.hint else ""
        return (f"{host_name} was rebooted because {why}, and after the reboot that is still so; gpuhost does not "
                f"reboot again for the same reason (remembered in {MEMORY}; remove it to allow one more).{hint}")


class Forget(Step):
    """Clear the reboot memory once its reason is gone, so a later, new need may reboot again."""

    phase = Phase.AFTER_BOOT
    refresh = ("files",)

    def __init__(self, reboot):
        self.reboot = reboot
        self.role = reboot.role
        self.name = f"forget the reason of {reboot.name}"

    def request(self):
        return Request(files={MEMORY})

    def commands(self, facts):
        if MEMORY in facts.get("files", {}) and not self.reboot.reason(facts):
            return [f"rm -f {MEMORY}"]
        return []

    def predict(self, facts):
        facts.get("files", {}).pop(MEMORY, None)


def remembered_reboot(facts):
    """(boot id, tab, reason) of the last reboot gpuhost made on the host; empty when none."""
    content = (facts.get("files", {}).get(MEMORY) or {}).get("content") or ""
    return content.strip().partition("\t")
