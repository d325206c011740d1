"""daemon.json-style files: merged key by key, and refused before any change when they are not JSON objects."""

import json
import os
import subprocess

import pytest

from gpuhost.errors import StepError
from gpuhost.ops import json_file

PATH = "/etc/docker/daemon.json"


def facts(content):
    return {"files": {PATH: {"kind": "regular file", "content": content}}}


def test_nested_objects_are_merged_and_other_values_replaced():
    current = {"runtimes": {"crun": {"path": "crun"}}, "log-opts": {"max-size": "10m"}, "dns": ["1.1.1.1"]}
    merged = json_file.merge(current, {"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}, "dns": ["9.9.9.9"]})
    assert merged == {"runtimes": {"crun": {"path": "crun"}, "nvidia": {"path": "nvidia-container-runtime"}},
                      "log-opts": {"max-size": "10m"}, "dns": ["9.9.9.9"]}


@pytest.mark.parametrize("content, reason", [
    ('{"log-driver": "journald",\n}', "is not valid JSON (line 2, column 1: Expecting property name"),
    ('["not", "an", "object"]', "holds a JSON list, not an object"),
])
def test_a_file_that_is_not_a_json_object_is_refused_with_the_reason(content, reason):
    problem = json_file.valid(PATH, "dockerd").problem(facts(content))
    assert problem.startswith(f"{PATH} {reason}") and problem.endswith("gpuhost left it untouched: fix it or move it away.")
    with pytest.raises(StepError, match="gpuhost left it untouched"):
        json_file.JsonMerge(PATH, {"live-restore": True}).commands(facts(content))


def test_an_absent_or_valid_file_raises_no_refusal():
    check = json_file.valid(PATH, "dockerd")
    assert check.problem({"files": {}}) is None and check.problem(facts("{}")) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="the write makes a root-owned file, as on a host")
@pytest.mark.parametrize("validator, merged", [("true", True), ("false", False)])
def test_the_new_file_replaces_the_old_only_when_the_validator_accepts_it(tmp_path, validator, merged):
    """The command as a host runs it, in a real shell: validated first, the old file kept as a backup."""
    path = tmp_path / "daemon.json"
    path.write_text('{"debug": true}\n')
    current = {"files": {str(path): {"kind": "regular file", "content": path.read_text()}}}
    (command,) = json_file.JsonMerge(str(path), {"a": 1}, validate=f"{validator} {{file}}").commands(current)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    assert (done.returncode == 0) == merged, done.stderr
    assert json.loads(path.read_text()) == ({"debug": True, "a": 1} if merged else {"debug": True})
    assert (tmp_path / "daemon.json.gpuhost-backup").exists() == merged
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["daemon.json"] + ["daemon.json.gpuhost-backup"] * merged)


