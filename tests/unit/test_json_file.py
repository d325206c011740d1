"""daemon.json-style files: merged key by key, and refused before any change when they are not JSON objects."""

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


def test_a_validation_failure_removes_the_new_file_and_keeps_the_old():
    (command,) = json_file.JsonMerge(PATH, {"a": 1}, validate="dockerd --validate --config-file={file}").commands({})
    assert ("dockerd --validate --config-file=/etc/docker/daemon.json.gpuhost-new || "
            "{ rm -f /etc/docker/daemon.json.gpuhost-new; false; }") in command
    assert command.index("--validate") < command.index("cp -p") < command.index("mv -f")
