"""Fleets larger than one controller: deterministic shards, and one view of many reports.

`--shard i/n` lets a CI matrix of n jobs converge one inventory together: each host belongs to
exactly one shard, decided by its name alone, so adding or removing hosts moves no other host.
`gpuhost report` merges the reports of push runs, shards and pull-mode hosts into one view:
which hosts failed, drifted or wait for a reboot, and which versions run where.
"""

import hashlib
import re
from html import escape

from gpuhost.errors import InventoryError

SHARD = re.compile(r"^(\d+)/(\d+)$")


def shard_of(name, count):
    """The shard (1..count) a host name belongs to: a hash of the name, not its place in a list."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % count + 1


def shard(targets, spec):
    """The targets of shard `i/n` (all of them for an empty spec)."""
    if not spec:
        return targets
    match = SHARD.match(str(spec))
    index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not 1 <= index <= count:
        raise InventoryError(f"--shard {spec!r}: expected I/N with 1 <= I <= N, such as 2/4.")
    return [t for t in targets if shard_of(t.name, count) == index]


def summary(facts):
    """What runs on a host, from its facts: for the fleet view and the report."""
    from gpuhost.facts_view import relevant

    shown = relevant(facts)
    packages = shown["packages"]

    def versions(pattern):
        return sorted({p["version"].split("-")[0] for n, p in packages.items() if re.match(pattern, n)})

    nvidia = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    return {
        "os": facts.get("os", {}).get("pretty") or facts.get("os", {}).get("id", ""),
        "kernel": facts.get("kernel", ""),
        "gpus": [g["model"] for g in shown["gpus"]],
        "driver": nvidia or "",
        "cuda": [n[len("cuda-toolkit-"):].replace("-", ".") for n in packages if re.match(r"^cuda-toolkit-\d+-\d+$", n)],
        "cudnn": versions(r"^libcudnn\d+(-cuda-\d+)?$"),
        "tensorrt": versions(r"^libnvinfer\d+$"),
        "docker": versions(r"^(docker-ce|docker\.io)$"),
    }


def merge(reports):
    """One view of many reports ({path: report}): for each host its newest entry, and where it came from."""
    hosts = {}
    for path, data in reports.items():
        for name, entry in data.get("hosts", {}).items():
            seen = {**entry, "report": str(path), "finished_at": data.get("finished_at", ""),
                    "mode": data.get("mode", "converge")}
            if name not in hosts or seen["finished_at"] >= hosts[name]["finished_at"]:
                hosts[name] = seen
    return {"hosts": dict(sorted(hosts.items())), "attention": _attention(hosts)}


def _attention(hosts):
    """The hosts someone should look at: failed, drifted (a plan with changes), waiting for a reboot."""
    return {
        "failed": sorted(n for n, h in hosts.items() if h["status"] in ("failed", "unreachable")),
        "drifted": sorted(n for n, h in hosts.items() if h["mode"] == "plan" and h.get("changed")),
        "reboot_pending": sorted(n for n, h in hosts.items() if h.get("reboot_pending")),
    }


COLUMNS = ("host", "status", "when", "gpus", "driver", "cuda", "cudnn", "tensorrt")


def rows(view):
    """The fleet as table rows, one per host."""
    out = []
    for name, host in view["hosts"].items():
        stack = host.get("summary") or {}
        gpus = stack.get("gpus") or []
        out.append((name, host["status"] + (" (plan)" if host["mode"] == "plan" else ""), host["finished_at"][:16],
                    f"{len(gpus)}x {gpus[0]}" if gpus else "-", stack.get("driver") or "-",
                    ",".join(stack.get("cuda") or []) or "-", ",".join(stack.get("cudnn") or []) or "-",
                    ",".join(stack.get("tensorrt") or []) or "-"))
    return out


def table(view):
    body = [COLUMNS, *rows(view)]
    widths = [max(len(r[i]) for r in body) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    for what, names in view["attention"].items():
        if names:
            lines.append(f"{what.replace('_', ' ')}: {', '.join(names)}")
    for name, host in view["hosts"].items():
        if host.get("error"):
            lines.append(f"{name}: {host['error']}")
    return "\n".join(lines)


def matrix(view):
    """{(gpu, driver, cuda): host count}: which versions run where."""
    counts = {}
    for host in view["hosts"].values():
        stack = host.get("summary") or {}
        key = ((stack.get("gpus") or ["no GPU"])[0], stack.get("driver") or "-", ",".join(stack.get("cuda") or []) or "-")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def html(view):
    """A self-contained page: the hosts, what needs attention, and the GPU/driver/CUDA matrix."""
    def cells(row, tag="td"):
        return "".join(f"<{tag}>{escape(str(c))}</{tag}>" for c in row)

    hosts = "".join(f'<tr class="{escape(r[1].split()[0])}">{cells(r)}</tr>' for r in rows(view))
    attention = "".join(f"<li>{escape(w.replace('_', ' '))}: {escape(', '.join(n))}</li>"
                        for w, n in view["attention"].items() if n) or "<li>nothing</li>"
    counts = "".join(f"<tr>{cells((*k, n))}</tr>" for k, n in matrix(view).items())
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>gpuhost fleet</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}.failed,.unreachable{background:#fdd}"
        ".changed{background:#ffd}</style></head><body><h1>gpuhost fleet</h1>"
        f"<h2>Needs attention</h2><ul>{attention}</ul>"
        f"<h2>Hosts</h2><table><tr>{cells(COLUMNS, 'th')}</tr>{hosts}</table>"
        f"<h2>GPU, driver and CUDA</h2><table><tr>{cells(('GPU', 'driver', 'CUDA', 'hosts'), 'th')}</tr>{counts}"
        "</table></body></html>\n")
