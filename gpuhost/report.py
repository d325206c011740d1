"""The recap table people read and the JSON report CI reads; secrets never reach either.

Both pass through `settings.redact`: a URL's user:password@ and a `/t/<token>/` segment are masked
in every command, diff, note and error, whichever step or host produced them.
"""

import json
from datetime import datetime, timezone

from gpuhost import fleet
from gpuhost.settings import redact, redact_text

COLUMNS = ("host", "status", "changed", "commands", "rebooted", "seconds")


def as_dict(results, mode="converge"):
    """The `--report` JSON: when and what ran (`plan` or `converge`), per host status, counts, time, what
    runs there (`summary`), and every step with its commands; `gpuhost report` merges many of these."""
    hosts = {}
    for result in results:
        roles = {}
        for name, entry in result.roles.items():
            steps = entry["steps"]
            roles[name] = {"changed": entry["changed"],
                           "duration_s": round(sum(s.get("duration_s", 0) for s in steps), 3),
                           "steps": steps}
        hosts[result.name] = {
            "status": result.status, "changed": result.changed, "remote_commands": result.remote_commands,
            "duration_s": result.duration_s, "rebooted": result.rebooted, "error": result.error,
            "reboot_pending": result.reboot_pending, "summary": fleet.summary(result.facts) if result.facts else {},
            "roles": roles,
        }
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return redact({"finished_at": finished, "mode": mode, "hosts": hosts})


def write(results, path, mode="converge"):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(as_dict(results, mode), handle, indent=2, sort_keys=False)
        handle.write("\n")


def send(results, url, mode="converge", timeout=30):
    """POST the report as JSON to `url`; returns why it could not be sent, or ''."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return f"the report URL {url} is not http(s); the report was not sent."
    body = json.dumps(as_dict(results, mode)).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except (urllib.error.URLError, OSError, ValueError) as error:
        return f"the report could not be sent to {url}: {getattr(error, 'reason', None) or error}."
    return ""


def recap(results):
    """A fixed-width table, one line per host, then one line per failure."""
    rows = [COLUMNS] + [(r.name, r.status, str(r.changed), str(r.remote_commands), "yes" if r.rebooted else "no",
                         f"{r.duration_s:.1f}") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for result in results:
        if result.error:
            lines.append(f"{result.name}: {result.error}")
        if result.reboot_pending:
            lines.append(f"{result.name}: reboot pending ({result.reboot_pending})")
    return redact_text("\n".join(lines))


def exit_code(results, plan=False):
    """0 ok, 1 any failure or unreachable host, 2 changes pending (plan and check mode)."""
    if any(r.status in ("failed", "unreachable") for r in results):
        return 1
    if plan and any(r.changed for r in results):
        return 2
    return 0
