"""Shards: every host in exactly one, decided by its name alone."""

import json
import subprocess

import pytest

from gpuhost import fleet
from gpuhost.errors import InventoryError
from gpuhost.inventory import Target
from tests.integration.converging import GPUHOST

NAMES = [f"gpu{n:03d}" for n in range(200)]


def names(targets):
    return [t.name for t in targets]


def test_the_shards_cover_every_host_once():
    targets = [Target(name=n) for n in NAMES]
    shards = [names(fleet.shard(targets, f"{i}/4")) for i in range(1, 5)]
    assert sorted(sum(shards, [])) == NAMES
    assert all(30 <= len(s) <= 70 for s in shards)  # a hash spreads them; no shard is empty or most


def test_a_new_host_moves_no_other_host():
    before = {n: fleet.shard_of(n, 8) for n in NAMES}
    after = {n: fleet.shard_of(n, 8) for n in NAMES + ["gpu-new"]}
    assert all(after[n] == before[n] for n in NAMES)


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "a/b", "1", "-1/2"])
def test_a_bad_shard_is_one_sentence(spec):
    with pytest.raises(InventoryError, match=r"--shard .*: expected I/N with 1 <= I <= N"):
        fleet.shard([Target(name="a")], spec)


def test_the_command_line_takes_a_shard(tmp_path):
    """Three jobs, shards 1/3..3/3, between them ask every host once (nothing listens: all unreachable)."""
    inventory = tmp_path / "hosts.yaml"
    hosts = "".join(f"    {n}: {{ansible_host: 127.0.0.1, ansible_port: 9}}\n" for n in NAMES[:20])
    inventory.write_text("all:\n  hosts:\n" + hosts)
    seen = []
    for index in (1, 2, 3):
        listed = subprocess.run([GPUHOST, "facts", "--host", "all", "--shard", f"{index}/3", "--inventory",
                                 str(inventory), "--json"], capture_output=True, text=True, timeout=120)
        seen += list(json.loads(listed.stdout)["hosts"])
    assert sorted(seen) == NAMES[:20]
