"""Facts parsers, tested as data: raw outputs from real machine types in, parsed facts out."""

import json
import subprocess
from pathlib import Path

import pytest

from gpuhost import facts

SAMPLES = Path(__file__).parent / "facts_samples"


@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.txt")))
def test_sample_parses_to_the_recorded_facts(sample):
    raw = (SAMPLES / f"{sample}.txt").read_text()
    expected = json.loads((SAMPLES / f"{sample}.json").read_text())
    assert facts.parse(raw) == expected


def test_open_and_proprietary_module_versions_are_read_from_proc():
    proprietary = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024\n"
    open_module = ("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  "
                   "(dvs-builder@U16-I3-B03-4-3)  Tue Mar  4 01:38:19 UTC 2025\n")
    assert facts.parse_driver_proc(proprietary) == {"version": "535.183.01", "open": False}
    assert facts.parse_driver_proc(open_module) == {"version": "570.124.06", "open": True}


def test_removed_packages_with_config_files_are_not_installed():
    lines = "a\t1\tinstall ok installed\nb\t2\tdeinstall ok config-files\nc\t3\thold ok installed\n"
    assert facts.parse_packages(lines) == {
        "a": {"version": "1", "held": False, "state": "installed"},
        "c": {"version": "3", "held": True, "state": "installed"},
    }


def test_the_script_runs_in_one_shell_and_every_section_parses():
    request = facts.Request(files={"/etc/hostname", "/etc/no-such-file"}, units={"no-such.service"},
                            probes={"echo": "echo hello"})
    output = subprocess.run(["sh", "-c", facts.script(request)], capture_output=True, text=True, check=True).stdout
    parsed = facts.parse(output)
    assert parsed["arch"] and parsed["kernel"] and parsed["os"]["id"]
    assert "/etc/hostname" in parsed["files"] and "/etc/no-such-file" not in parsed["files"]
    assert parsed["units"]["no-such.service"]["enabled"] == "not-found"
    assert parsed["probes"]["echo"] == {"rc": 0, "output": "hello"}


@pytest.mark.parametrize("pattern", ["/etc/$(reboot)", "relative/path", "/etc/a b", "/etc/`x`"])
def test_file_patterns_that_a_shell_would_interpret_are_refused(pattern):
    with pytest.raises(facts.StepError):
        facts.script(facts.Request(files={pattern}))
