"""Reboot only when the host needs it, then carry on with the steps that need the new boot."""

from gpuhost.steps import Phase, Step


class Reboot(Step):
    """Reboot when `reason(facts)` names a reason; the runner reconnects and re-reads the facts.

    `after_boot(facts)` predicts what the boot changes (for plans and check mode), e.g. that the
    installed driver module is now loaded.
    """

    phase = Phase.REBOOT
    reboots = True
    refresh = ()

    def __init__(self, name, reason, after_boot=None):
        self.name = name
        self.reason = reason
        self.after_boot = after_boot

    def commands(self, facts):
        why = self.reason(facts)
        return [f"systemctl reboot  # {why}"] if why else []

    def predict(self, facts):
        if self.after_boot:
            self.after_boot(facts)
        facts["boot_id"] = "(after reboot)"
