"""Facts parsers, tested as data: raw outputs from real machine types in, parsed facts out."""

import hashlib
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


def test_files_are_read_as_they_are_small_big_linked_or_missing(tmp_path):
    small, big = tmp_path / "small.conf", tmp_path / "big.bin"
    small.write_text("key = value\n")
    big.write_bytes(bytes(range(256)) * 400)  # over MAX_CONTENT: its sha256 comes from the host
    (tmp_path / "link").symlink_to(small)
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    request = facts.Request(files={f"{tmp_path}/*", f"{tmp_path}/none-*"})
    script = facts.script(request, system=False, packages=False)
    files = facts.parse(subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout)["files"]
    assert set(files) == {str(small), str(big), f"{tmp_path}/link", f"{tmp_path}/dangling"}
    assert files[str(small)]["content"] == "key = value\n" and files[str(small)]["kind"] == "regular file"
    assert files[str(small)]["sha256"] == hashlib.sha256(small.read_bytes()).hexdigest()
    assert files[str(big)]["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest() and "content" not in files[str(big)]
    assert files[f"{tmp_path}/link"]["link"] == str(small) and files[f"{tmp_path}/link"]["content"] == "key = value\n"
    assert files[f"{tmp_path}/dangling"]["kind"] == "symbolic link" and "sha256" not in files[f"{tmp_path}/dangling"]


def test_files_asked_for_as_present_are_only_stat_ed_never_read(tmp_path):
    module = tmp_path / "nvidia.ko"
    module.write_bytes(b"\0" * 100_000)  # a real one is tens of MB
    config = tmp_path / "a.conf"
    config.write_text("x\n")
    request = facts.Request(files={str(config)}, present={f"{tmp_path}/*.ko*", f"{tmp_path}/none-*"})
    script = facts.script(request, system=False, packages=False)
    files = facts.parse(subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout)["files"]
    assert set(files[str(module)]) == {"path", "mode", "owner", "group", "size", "kind"}  # no sha256, no content
    assert (files[str(module)]["size"], files[str(module)]["kind"]) == (100_000, "regular file")
    assert files[str(config)]["content"] == "x\n"
    assert script.count("base64") == script.count("sha256sum") == 1  # for `files` alone


def test_units_are_found_by_any_of_their_names_and_unknown_without_systemd():
    shown = ("units sshd.service gone.service\nNames=ssh.service sshd.service\nUnitFileState=enabled\n"
             "ActiveState=active\n\nNames=gone.service\nUnitFileState=\nActiveState=inactive\n")
    assert facts.parse_units(shown) == {"sshd.service": {"enabled": "enabled", "active": "active"},
                                        "gone.service": {"enabled": "not-found", "active": "inactive"}}
    assert facts.parse_units("units a.service\n") == {"a.service": {"enabled": "not-found", "active": "unknown"}}


@pytest.mark.parametrize("unit", ["getty@.service", "a b.service", "x;reboot"])
def test_unit_names_systemctl_cannot_show_are_refused(unit):
    with pytest.raises(facts.StepError):
        facts.script(facts.Request(units={unit}))


@pytest.mark.parametrize("pattern", ["/etc/$(reboot)", "relative/path", "/etc/a b", "/etc/`x`"])
def test_file_patterns_that_a_shell_would_interpret_are_refused(pattern):
    with pytest.raises(facts.StepError):
        facts.script(facts.Request(files={pattern}))


# The `pci` section's lines: bus id, device, class, subsystem vendor and device, as sysfs gives them.
# Device ids from pci.ids: 2684 GeForce RTX 4090 and 22ba its HDMI audio (AD102 High Definition Audio
# Controller), 2330 H100 SXM5 and 22a3 the H100 NVSwitch. Classes: 0x0300 VGA, 0x0302 3D controller,
# 0x0403 audio, 0x0680 other bridge. The NVSwitch's subsystem is not from a real capture.
DESKTOP = "0000:01:00.0 0x2684 0x030000 0x10de 0x167c\n0000:01:00.1 0x22ba 0x040300 0x10de 0x167c\n"
HGX = "".join(f"0000:{bus:02x}:00.0 0x2330 0x030200 0x10de 0x16c1\n" for bus in (0x18, 0x2a, 0x3a, 0x5d)) + \
      "".join(f"0000:{bus:02x}:00.0 0x22a3 0x068000 0x10de 0x0000\n" for bus in (0x05, 0x06, 0x07, 0x08))


def _pci(text):
    return facts.parse(f"{facts.MARK}pci\n{text}")


def test_the_hdmi_audio_function_of_a_geforce_card_is_not_a_gpu():
    parsed = _pci(DESKTOP)
    assert [gpu["device"] for gpu in parsed["pci"]] == ["2684"] and parsed["pci"][0]["class"] == "0300"
    assert "nvswitches" not in parsed


def test_nvswitches_are_not_gpus_and_are_counted_apart():
    parsed = _pci(HGX)
    assert [gpu["device"] for gpu in parsed["pci"]] == ["2330"] * 4
    assert [switch["device"] for switch in parsed["nvswitches"]] == ["22a3"] * 4
    assert {switch["class"] for switch in parsed["nvswitches"]} == {"0680"}


def test_a_host_resolves_its_gpus_alone_and_its_nvswitches_call_for_fabric_manager():
    from types import SimpleNamespace

    from gpuhost import resolution

    base = {"os": {"id": "ubuntu", "version": "22.04"}, "arch": "x86_64", "kernel": "5.15.0-1051-gcp"}
    desktop = SimpleNamespace(name="desk", facts={**base, **_pci(DESKTOP)})
    stack = resolution.for_host(desktop, {"stack": {}})
    assert [g.model for g in stack.gpus] == ["GeForce RTX 4090"] and not stack.driver.fabric_manager
    hgx = SimpleNamespace(name="hgx", facts={**base, **_pci(HGX)})
    stack = resolution.for_host(hgx, {"stack": {}})
    assert len(stack.gpus) == 4 and stack.driver.fabric_manager       # four boards, but NVSwitches show
    assert "nvidia-fabricmanager" in " ".join(stack.packages["fabric_manager"])
