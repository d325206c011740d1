"""Remote commands and wall time of facts, plan and a no-op converge, for 1 and 8 test hosts at
0 and 20 ms round-trip time, beside the floor (open an SSH connection and run `true`). The
converge is measured twice: in this process (the engine), and as the `gpuhost` command a user
runs (process start, imports and inventory included).

Needs root (it builds test hosts). Run from a checkout: `python3 benchmarks/converge.py`.
Hosts get the whole NVIDIA stack first (not measured), so the converge measured is the no-op a
converged host costs at every run.
"""

import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpuhost import inventory, runner  # noqa: E402
from tests.testbed import HostSpec, Testbed  # noqa: E402

ROLES = ["driver", "cuda", "cudnn", "tensorrt"]
NAMES = [f"tb{n}" for n in range(21, 29)]


def timed(function):
    started = time.monotonic()
    results = function()
    return results, time.monotonic() - started


def floor(bed, targets):
    def one(target):
        subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={target.known_hosts_file}",
                        "-i", target.key_file, f"{target.user}@{target.address}", "true"], check=True)
        return 1
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return [type("R", (), {"remote_commands": n})() for n in pool.map(one, targets)]


def command(bed, names):
    """`gpuhost converge` as installed beside this Python; its report gives the remote commands."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([str(Path(sys.executable).with_name("gpuhost")), "converge", "--host", ",".join(names),
                        "--inventory", str(bed.inventory_path), "--roles", ",".join(ROLES), "--report", report.name,
                        "--parallel", str(len(names))], check=True, capture_output=True)
        hosts = json.loads(Path(report.name).read_text())["hosts"].values()
    return [type("R", (), {"remote_commands": h["remote_commands"]})() for h in hosts]


def measure(bed, names):
    targets = inventory.load(bed.inventory_path).select(",".join(names))
    quiet = runner.Options(echo=False, parallel=len(targets))
    cases = {
        "ssh true (floor)": lambda: floor(bed, targets),
        "facts": lambda: runner.gather_facts(targets, quiet),
        "plan": lambda: runner.run(targets, ROLES, runner.Options(check=True, echo=False, parallel=len(targets))),
        "converge (no-op)": lambda: runner.run(targets, ROLES, quiet),
        "gpuhost converge": lambda: command(bed, names),
    }
    rows = []
    for label, case in cases.items():
        results, seconds = timed(case)
        per_host = max(r.remote_commands for r in results)
        rows.append((label, per_host, seconds))
    return rows


def main():
    bed = Testbed()
    bed.up([HostSpec(name) for name in NAMES])
    try:
        targets = inventory.load(bed.inventory_path).select(",".join(NAMES))
        setup = runner.run(targets, ROLES, runner.Options(echo=False, parallel=len(targets)))
        failed = [r for r in setup if r.status == "failed"]
        if failed:
            sys.exit(f"setup failed: {failed[0].name}: {failed[0].error}")
        print(f"{'hosts':>5} {'rtt ms':>6}  {'operation':<18} {'commands/host':>13} {'wall s':>7}")
        for rtt in (0, 20):
            bed.set_rtt(rtt)
            for count in (1, 8):
                for label, commands, seconds in measure(bed, NAMES[:count]):
                    print(f"{count:>5} {rtt:>6}  {label:<18} {commands:>13} {seconds:>7.2f}", flush=True)
    finally:
        bed.set_rtt(0)
        for name in NAMES:
            bed.remove(name)


if __name__ == "__main__":
    main()
