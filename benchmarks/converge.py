"""What a no-op converge costs beside the floor, for 1, 8 and 32 test hosts at 0 and 20 ms round-trip time.

The floor is what any agentless tool must pay: open an SSH connection to every host and run
`true` (OpenSSH's client, in parallel). Beside it, `gpuhost converge` as a user runs it (this
checkout installed with `pip install .` into .testbed/peers/venv-gpuhost: process start, imports,
inventory, facts, plan), its controller CPU, and the engine's no-op alone (in this process).
Medians of `--runs`; hosts get the NVIDIA stack first (not measured), so what is measured is the
no-op a converged host costs at every run.

Needs root (it builds test hosts). From a checkout: `.venv/bin/python benchmarks/converge.py
[--hosts 1,8,32] [--rtt 0,20] [--runs 5] [--keep]`.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import peer_tools  # noqa: E402
from gpuhost import inventory, runner  # noqa: E402
from tests.testbed import HostSpec, Testbed  # noqa: E402

ROLES = ["driver", "cuda", "cudnn", "tensorrt"]
# 32 names the test suite's own session hosts and the peers benchmark (tb31-tb38) do not use.
NAMES = [f"tb{n}" for n in [*range(21, 31), *range(39, 61)]]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ssh_true(targets):
    """The floor: one OpenSSH connection per host running `true`, all at once."""
    def one(target):
        subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={target.known_hosts_file}",
                        "-i", target.key_file, f"{target.user}@{target.address}", "true"], check=True)
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        list(pool.map(one, targets))


def gpuhost_command(venv, bed, names):
    """`gpuhost converge` as a user installed it (peer_tools.ensure_venv); it must change nothing."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run([str(venv / "bin" / "gpuhost"), "converge", "--host", ",".join(names),
                        "--inventory", str(bed.inventory_path), "--roles", ",".join(ROLES), "--report", report.name,
                        "--parallel", str(len(names))], check=True, capture_output=True)
        hosts = json.loads(Path(report.name).read_text())["hosts"]
    changed = {name: h["changed"] for name, h in hosts.items() if h["changed"]}
    if changed:
        sys.exit(f"the no-op changed something: {changed}")


def engine(targets):
    results = runner.run(targets, ROLES, runner.Options(echo=False, parallel=len(targets)))
    if any(r.status != "ok" for r in results):
        sys.exit(f"the engine's no-op was not ok: {[(r.name, r.status, r.error) for r in results]}")


def median_run(case, runs):
    """Median wall seconds and median CPU seconds of child processes."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu, started = children_cpu(), time.monotonic()
        case()
        walls.append(time.monotonic() - started)
        cpus.append(children_cpu() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def converge_all(bed, names):
    targets = inventory.load(bed.inventory_path).select(",".join(names))
    setup = runner.run(targets, ROLES, runner.Options(echo=False, parallel=len(targets)))
    failed = [r for r in setup if r.status == "failed"]
    if failed:
        sys.exit(f"setup failed: {failed[0].name}: {failed[0].error}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="1,8,32", help="host counts, comma-separated (at most 32)")
    parser.add_argument("--rtt", default="0,20", help="added round-trip times in ms, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="leave the hosts running")
    args = parser.parse_args()
    counts = [int(n) for n in args.hosts.split(",")]
    if max(counts) > len(NAMES):
        sys.exit(f"at most {len(NAMES)} hosts")
    names = NAMES[:max(counts)]
    venv, _ = peer_tools.ensure_venv("gpuhost")
    bed = Testbed()
    bed.up([HostSpec(name) for name in names])
    try:
        converge_all(bed, names)
        print(f"{'hosts':>5} {'rtt':>5}  {'ssh true':>8} {'gpuhost converge':>16} {'× floor':>7} {'× 1 host':>8} "
              f"{'controller CPU':>14} {'engine no-op':>12}", flush=True)
        for rtt in (int(r) for r in args.rtt.split(",")):
            bed.set_rtt(rtt, names=names)
            one_host = None
            for count in counts:
                chosen = names[:count]
                targets = inventory.load(bed.inventory_path).select(",".join(chosen))
                floor, _ = median_run(lambda: ssh_true(targets), args.runs)
                command, cpu = median_run(lambda: gpuhost_command(venv, bed, chosen), args.runs)
                alone, _ = median_run(lambda: engine(targets), args.runs)
                one_host = command if count == 1 else one_host
                versus_one = f"{command / one_host:.1f}×" if one_host and count > 1 else ""
                print(f"{count:>5} {rtt:>3} ms {floor:>7.2f}s {command:>15.2f}s {command / floor:>6.1f}× "
                      f"{versus_one:>8} {cpu:>13.2f}s {alone:>11.2f}s", flush=True)
    finally:
        bed.set_rtt(0, names=names)
        for name in names if not args.keep else ():
            bed.remove(name)


if __name__ == "__main__":
    main()
