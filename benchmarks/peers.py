"""gpuhost beside Ansible and pyinfra, in one run on the same test hosts: the same end state (the
NVIDIA stack of benchmarks/converge.py's roles) enforced by each tool's idiomatic modules, no-op
(converged hosts) and cold (fresh hosts), 1 and 8 hosts, at 0 and 20 ms round-trip time. Prints
the medians with ratios to gpuhost and to the floor (`ssh true`).

Needs root (it builds test hosts). Run from a checkout: `python3 benchmarks/peers.py [--quick]`.
Ansible and pyinfra are installed from PyPI into .testbed/peers/, gpuhost from this checkout as a
user installs it (benchmarks/peer_tools.py). The
end state comes from gpuhost's plan for the fresh hosts (benchmarks/peer_stack.py). Honest by
construction: every no-op must report no change in the tool's own recap, and after every cold run
`gpuhost plan` must find nothing left to change; what the tools still do differently is printed.
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import peer_stack, peer_table, peer_tools  # noqa: E402
from benchmarks.converge import ROLES, converge_all, median_run, ssh_true  # noqa: E402
from gpuhost import inventory  # noqa: E402
from tests.testbed import HostSpec, Testbed  # noqa: E402
from tests.testbed.system import TestbedError  # noqa: E402

NAMES = [f"tb{n}" for n in range(31, 39)]
TOOLS = ("gpuhost", "pyinfra", "ansible")
COLUMNS = {(1, 0): "1 host", (8, 0): "8 hosts", (1, 20): "1 host, +20 ms RTT", (8, 20): "8 hosts, +20 ms RTT"}
NOT_EQUAL = [
    "Repository key: gpuhost fetches it on the host, checks its fingerprint and writes the pinned certificate "
    "alone; Ansible pins the download by sha256 (get_url checksum) and dearmors it with gpg; pyinfra's apt.key "
    "dearmors whatever the URL serves and later finds it by key id, the fingerprint never checked.",
    "Ansible's apt module needs python3-apt on the host and installs it: one package the others do without "
    "(its first run on a host converged by another tool changes that).",
    "Reboot: pyinfra's server.reboot confirms a reboot by a smaller /proc/uptime, which a container shares with "
    "the machine, so it would wait out its timeout here; the deploy leaves the reboot out and the benchmark "
    "reboots pyinfra's hosts, counting that time as pyinfra's.",
    "Repository files: Ansible's deb822_repository and pyinfra's apt.repo write their own names and formats; to "
    "reach the same files both copy gpuhost's text (copy, files.put).",
    "Package lists: gpuhost runs apt-get update before any install; the peers only after a repository file "
    "changed. gpuhost installs in one transaction, simulated first (lock, disk space); Ansible holds each "
    "package with its own dpkg_selections call.",
    "Only gpuhost refuses before any change (a driver of another branch, flavour or source; Secure Boot with "
    "an unsigned module) and remembers a reboot so that it never loops.",
]


@dataclass
class Run:
    """One run of a tool: its seconds and recap, or the word for its cell and the sentence why."""

    seconds: float = 0.0
    recap: peer_tools.Recap = None
    word: str = ""
    problem: str = ""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per no-op cell, median shown (default 5)")
    parser.add_argument("--ansible-runs", type=int, default=3, help="runs per Ansible no-op cell (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="3 runs, 1 of Ansible, Ansible at 1 host only, cold runs at 0 ms only")
    parser.add_argument("--keep", action="store_true", help="leave the test hosts running at the end")
    parser.add_argument("--limit", type=int, default=1200, help="seconds before a run is killed (default 1200)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.ansible_runs = min(args.runs, 3), 1
    if min(args.runs, args.ansible_runs, args.limit) < 1:
        parser.error("--runs, --ansible-runs and --limit must be at least 1.")
    return args


def wanted(args, phase, tool, count, rtt):
    """Whether this cell is measured in this run (--quick measures a subset)."""
    if not args.quick:
        return True
    return not (tool == "ansible" and count > 1) and not (phase == "cold" and rtt)


class Bench:
    """One run of the benchmark: the test hosts, the tools, and what was measured."""

    def __init__(self, args):
        self.args, self.bed = args, Testbed()
        self.cells = {"no-op": {}, "cold": {}}  # phase -> {(tool, count, rtt): cell}
        self.problems, self.notes, self.versions = [], [], {}
        self.venvs = {}
        self.stack_file = peer_tools.WORK / "stack.json"
        self.control = 0  # numbers Ansible's SSH control folders

    def prepare(self):
        for tool in TOOLS:
            self.venvs[tool], self.versions[tool] = peer_tools.ensure_venv(tool)
        self.fresh(NAMES)
        stack = peer_stack.generate(self.bed.inventory_path, NAMES, ROLES)
        peer_stack.write(stack, self.stack_file)
        if stack["left_out"]:
            self.notes.append("Steps gpuhost takes only in situations the peers do not model (left out of "
                              f"the stack file): {'; '.join(stack['left_out'])}.")

    def fresh(self, names):
        """These hosts, new: removed and created again (each other test host is left alone)."""
        for name in names:
            self.bed.remove(name)
        self.bed.up([HostSpec(name) for name in names])

    def run_tool(self, tool, names, fresh_connections=False):
        """One run of a tool on these hosts, judged by its exit code and its own recap."""
        outcome = self._invoke(tool, names, fresh_connections)
        label = f"{tool} on {','.join(names)}"
        if outcome.timed_out:
            return Run(word="timed out", problem=f"{label} ran past {self.args.limit} s and was killed.")
        try:
            recap = self._recap(tool, outcome.output, names)
        except peer_tools.RecapError as error:
            return Run(word="failed", problem=f"{label}: {error} Its output ends: {_tail(outcome.output)}")
        if outcome.code or recap.failed:
            return Run(recap=recap, word="failed",
                       problem=f"{label} failed (exit {outcome.code}); its output ends: {_tail(outcome.output)}")
        return Run(outcome.seconds, recap)

    def _invoke(self, tool, names, fresh_connections):
        limit = self.args.limit
        if tool == "gpuhost":
            argv = peer_tools.gpuhost_argv(self.venvs["gpuhost"], "converge", names, self.bed.inventory_path, ROLES)
            return peer_tools.run(argv, limit)
        ansible, pyinfra = peer_tools.write_inventories({n: self.bed.address(n) for n in names}, self.bed.key_path,
                                                        self.bed.known_hosts_path, self.stack_file)
        if tool == "pyinfra":
            return peer_tools.run(peer_tools.pyinfra_argv(self.venvs["pyinfra"], pyinfra), limit)
        if fresh_connections:
            self.control += 1
        control = peer_tools.WORK / f"cp{self.control}"
        control.mkdir(parents=True, exist_ok=True)
        return peer_tools.run(peer_tools.ansible_argv(self.venvs["ansible"], ansible, self.stack_file), limit,
                              env=peer_tools.ansible_env(control))

    def _recap(self, tool, output, names):
        if tool == "ansible":
            return peer_tools.parse_ansible(output, names)
        if tool == "pyinfra":
            return peer_tools.parse_pyinfra(output)
        return peer_tools.parse_gpuhost(output, names)

    def cold(self, tool, count, rtt):
        """Fresh hosts, one run of the tool, then gpuhost's plan must find nothing left to change."""
        names = NAMES[:count]
        try:
            self.fresh(names)
            self.bed.set_rtt(rtt, names=names)
        except TestbedError as error:
            self.record("cold", tool, count, rtt, [], Run(word="no hosts", problem=f"fresh hosts for {tool}: {error}"))
            return
        run = self.run_tool(tool, names, fresh_connections=True)
        if not run.problem and tool == "pyinfra":
            started = time.monotonic()
            try:
                self.reboot(names)
                run.seconds += time.monotonic() - started
            except TestbedError as error:
                run.word, run.problem = "failed", f"rebooting pyinfra's hosts failed: {error}"
        if not run.problem:
            run.problem = self.plan_is_empty(tool, names)
            run.word = "not equal" if run.problem else ""
        self.record("cold", tool, count, rtt, [run.seconds], run)

    def reboot(self, names):
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(self.bed.reboot, names))

    def plan_is_empty(self, tool, names):
        """'' when `gpuhost plan` finds nothing to change on these hosts, else what it would change."""
        argv = peer_tools.gpuhost_argv(self.venvs["gpuhost"], "plan", names, self.bed.inventory_path, ROLES)
        outcome = peer_tools.run(argv, self.args.limit)
        if outcome.code == 0:
            return ""
        pending = [line for line in outcome.output.splitlines() if "would change:" in line or "error" in line]
        return (f"after {tool}'s cold run gpuhost plan (exit {outcome.code}) still finds: "
                + ("; ".join(pending[:8]) or _tail(outcome.output)))

    def no_op(self):
        """Converge every host with gpuhost (not measured), warm each tool up once, then the medians."""
        self.bed.set_rtt(0, names=NAMES)
        converge_all(self.bed, NAMES)
        for tool in TOOLS:
            self.warm_up(tool)
        for rtt in (0, 20):
            self.bed.set_rtt(rtt, names=NAMES)
            for count in (1, 8):
                self.measure_no_op(count, rtt)

    def warm_up(self, tool):
        """One run not measured, on every host the tool's cells use: what it changes is said, not hidden."""
        names = NAMES[:max(count for count, rtt in COLUMNS if wanted(self.args, "no-op", tool, count, rtt))]
        run = self.run_tool(tool, names, fresh_connections=True)
        if run.problem:
            self.problems.append(f"warm-up: {run.problem}")
        elif run.recap.changed:
            self.notes.append(f"{tool}'s first run on hosts another tool converged changed {run.recap.changed} "
                              f"operation(s) on {len(names)} host(s) (not measured).")

    def measure_no_op(self, count, rtt):
        names = NAMES[:count]
        targets = inventory.load(self.bed.inventory_path).select(",".join(names))
        floors = [median_run(lambda: ssh_true(targets), 1)[0] for _ in range(self.args.runs)]
        self.record("no-op", "floor", count, rtt, floors, Run())
        for tool in TOOLS:
            if not wanted(self.args, "no-op", tool, count, rtt):
                continue
            seconds, run = [], Run()
            for _ in range(self.args.ansible_runs if tool == "ansible" else self.args.runs):
                run = self.run_tool(tool, names)
                if not run.problem and run.recap.changed:
                    run.word = f"changed {run.recap.changed}"
                    run.problem = f"{tool}'s no-op on {','.join(names)} changed {run.recap.changed} operation(s)."
                if run.problem:
                    break
                seconds.append(run.seconds)
            self.record("no-op", tool, count, rtt, seconds, run)

    def record(self, phase, tool, count, rtt, seconds, run):
        """Keep a cell (the median of `seconds`, or the word of a spoiled run) and say it at once."""
        self.cells[phase][(tool, count, rtt)] = peer_table.cell(seconds, run.word)
        if run.problem:
            self.problems.append(f"{phase}: {run.problem}")
        shown = run.problem or f"{peer_table.seconds_text(peer_table.cell(seconds))} (median of {len(seconds)})"
        changed = f", {run.recap.changed} changed" if run.recap and not run.problem else ""
        print(f"{phase:5} {tool:7} {count} host(s) {rtt:2} ms: {shown}{changed}", flush=True)

    def tables(self):
        labels = {"floor": peer_table.FLOOR, "gpuhost": peer_table.GPUHOST,
                  "pyinfra": f"pyinfra {self.versions['pyinfra']} (same end state)",
                  "ansible": f"Ansible {self.versions['ansible']}, pipelining + ControlPersist"}
        floors = {(count, rtt): value for (tool, count, rtt), value in self.cells["no-op"].items() if tool == "floor"}
        out = []
        titles = {"no-op": f"No-op on converged hosts, median of {self.args.runs} (Ansible: {self.args.ansible_runs})",
                  "cold": "Cold, fresh hosts, one run (pyinfra's includes the reboot the benchmark makes for it)"}
        for phase, title in titles.items():
            rows = {labels["floor"]: {column: floors.get(column) for column in COLUMNS}}
            for tool in TOOLS:
                rows[labels[tool]] = {(count, rtt): self.cells[phase].get((tool, count, rtt)) for count, rtt in COLUMNS}
            out.append(f"{title}:\n\n{peer_table.markdown(rows, COLUMNS)}")
        return "\n\n".join(out)


def _tail(output, size=400):
    return " ".join(output.strip().split())[-size:] or "(no output)"


def main(argv=None):
    args = parse_args(argv)
    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.prepare()
        for tool in TOOLS:
            for count, rtt in COLUMNS:
                if wanted(args, "cold", tool, count, rtt):
                    bench.cold(tool, count, rtt)
        bench.no_op()
    finally:
        bench.bed.set_rtt(0, names=[n for n in NAMES if n in bench.bed.hosts()])
        if not args.keep:
            for name in NAMES:
                bench.bed.remove(name)
    print(f"\n{bench.tables()}\n\nWhat is not equal between the tools:")
    for line in NOT_EQUAL + bench.notes:
        print(f"- {line}")
    for problem in bench.problems:
        print(f"PROBLEM: {problem}")
    print(f"({time.monotonic() - started:.0f} s in all)")
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
