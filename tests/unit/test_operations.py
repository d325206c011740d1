"""Operations tested as data: one JSON file per case, arguments and facts in, commands out."""

import json
from pathlib import Path

import pytest

from gpuhost.ops import apt, files, json_file, systemd, users
from gpuhost.errors import StepError

CASES = Path(__file__).parent / "operations"
MODULES = {"apt": apt, "files": files, "json_file": json_file, "systemd": systemd, "users": users}


def build(op, args):
    module, _, name = op.partition(".")
    return getattr(MODULES[module], name)(**args)


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.json")))
def test_operation_yields_exactly_the_recorded_commands(case):
    data = json.loads((CASES / f"{case}.json").read_text())
    assert build(data["op"], data["args"]).commands(data["facts"]) == data["commands"]


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.json")))
def test_after_its_predicted_effect_an_operation_has_nothing_left_to_do(case):
    data = json.loads((CASES / f"{case}.json").read_text())
    step = build(data["op"], data["args"])
    step.predict(data["facts"])
    assert step.commands(data["facts"]) == []


@pytest.mark.parametrize("make", [
    lambda: files.File("/etc/x; reboot", "x"),
    lambda: files.File("/etc/x", "x", owner="root; reboot"),
    lambda: apt.Packages(install={"cuda$(reboot)": None}),
    lambda: apt.Packages(install={"cuda": "1.0;reboot"}),
    lambda: apt.source("x", "https://host/$(reboot)", "/", "/usr/share/keyrings/x.gpg"),
    lambda: systemd.Service("docker.service; reboot"),
    lambda: users.Member("docker", ["alice; reboot"]),
    lambda: apt.RepositoryKey("https://example.com/key", "not-a-fingerprint", "/usr/share/keyrings/x.gpg"),
])
def test_values_that_would_reach_a_shell_unchecked_are_refused(make):
    with pytest.raises(StepError):
        make()


def test_two_roles_wanting_one_package_at_two_versions_is_an_error():
    with pytest.raises(StepError, match="two roles want cuda-toolkit-12-4 at different versions"):
        apt.Transaction([apt.Packages(install={"cuda-toolkit-12-4": "12.4.0-1"}),
                         apt.Packages(install={"cuda-toolkit-12-4": "12.4.1-1"})])
