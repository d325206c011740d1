"""Sharded push on test hosts: two `gpuhost converge --shard i/2` processes at once, as two jobs of a
CI matrix run them, over one inventory that also names a host that is down.

Every live host is converged by exactly one shard, the dead host fails alone in its shard,
`gpuhost report` merges both reports into one fleet view, and the next round changes nothing.
The role writes one file (tests/roles/stamp), so what is tested is the split, not a download.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.converging import GPUHOST
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
LIVE = ["tb56", "tb57", "tb58", "tb59"]
DEAD = "ghost"  # on the bridge, where no host answers
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fleet_inventory(testbed, fresh_hosts, tmp_path_factory):
    fresh_hosts(*(HostSpec(name) for name in LIVE))
    access = {"ansible_user": "gpuadmin", "ansible_ssh_private_key_file": str(testbed.key_path),
              "gpuhost_known_hosts_file": str(testbed.known_hosts_path)}
    hosts = {name: {"ansible_host": testbed.address(name), **access} for name in LIVE}
    hosts[DEAD] = {"ansible_host": "10.77.0.99", **access}
    path = tmp_path_factory.mktemp("fleet") / "hosts.yaml"
    path.write_text(yaml.safe_dump({"all": {"vars": {"roles": ["stamp"]}, "hosts": hosts}}))
    return path


def start_shard(inventory_path, report, index):
    command = [GPUHOST, "converge", "--host", "all", "--inventory", str(inventory_path), "--shard", f"{index}/2",
               "--report", str(report)]
    env = {**os.environ, "GPUHOST_EXTRA_ROLES": "tests.roles.stamp"}
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def both_shards(inventory_path, folder, round_):
    """Both shards started together; their exit codes, outputs and reports."""
    reports = [folder / f"round{round_}-shard{i}.json" for i in (1, 2)]
    jobs = [start_shard(inventory_path, report, i) for i, report in enumerate(reports, 1)]
    outputs = [job.communicate(timeout=300)[0] for job in jobs]
    return [(job.returncode, output, json.loads(report.read_text())["hosts"])
            for job, output, report in zip(jobs, outputs, reports)], reports


def test_two_shards_at_once_converge_every_host_once_and_the_dead_one_fails_alone(fleet_inventory, tmp_path, testbed):
    shards, reports = both_shards(fleet_inventory, tmp_path, 1)
    seen = [set(hosts) for _, _, hosts in shards]
    assert not seen[0] & seen[1], f"hosts in both shards: {seen[0] & seen[1]}"
    assert seen[0] | seen[1] == {*LIVE, DEAD}
    for code, output, hosts in shards:
        assert code == (1 if DEAD in hosts else 0), output
        for name, entry in hosts.items():
            if name == DEAD:
                assert entry["status"] == "unreachable" and "\n" not in entry["error"], entry
            else:
                assert entry["status"] == "changed" and entry["changed"] == 1, (name, entry)
    for name in LIVE:
        with testbed.connect(name) as c:
            assert c.run("cat /etc/gpuhost-stamp", hide=True).stdout == "converged by gpuhost\n"

    merged = subprocess.run([GPUHOST, "report", "--json", *(f"--reports={r}" for r in reports)],
                            capture_output=True, text=True)
    view = json.loads(merged.stdout)
    assert merged.returncode == 1  # a host failed: CI can gate on the merged view
    assert set(view["hosts"]) == {*LIVE, DEAD} and view["attention"]["failed"] == [DEAD]

    again, _ = both_shards(fleet_inventory, tmp_path, 2)
    for _, output, hosts in again:
        assert all(entry["changed"] == 0 for name, entry in hosts.items() if name != DEAD), output

