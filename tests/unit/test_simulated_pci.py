"""The test hosts' simulated PCI devices: a GeForce card brings its HDMI audio function, an 8-GPU
HGX baseboard its NVSwitches, as real machines show them; gpuhost's facts read GPUs and NVSwitches
apart from that sysfs tree."""
import subprocess
from types import SimpleNamespace

import pytest

from gpuhost import facts
from tests.testbed import gpu


def boot(tmp_path, gpus):
    spec = SimpleNamespace(gpus=gpu.parse_gpus(gpus), options=(), os="debian-12",
                           profile=SimpleNamespace(kernel="6.1.0-40-cloud-amd64"))
    (tmp_path / "root").mkdir()
    gpu.prepare_boot(tmp_path / "root", spec, tmp_path / "boot")
    return tmp_path / "boot" / "pci" / "devices"


def sysfs(devices):
    return {d.name: {f: (d / f).read_text().strip() for f in ("vendor", "device", "class")}
            for d in sorted(devices.iterdir())}


def test_a_geforce_card_shows_its_hdmi_audio_function(tmp_path):
    seen = sysfs(boot(tmp_path, ["RTX5090"]))
    assert seen == {"0000:17:00.0": {"vendor": "0x10de", "device": "0x2b85", "class": "0x030000"},
                    "0000:17:00.1": {"vendor": "0x10de", "device": "0x22e8", "class": "0x040300"}}


@pytest.mark.parametrize("model,switch,count", [("H100", "0x22a3", 4), ("A100", "0x1af1", 6)])
def test_an_hgx_baseboard_shows_its_nvswitches(tmp_path, model, switch, count):
    seen = sysfs(boot(tmp_path, [f"{model}x8"])).values()
    bridges = [d for d in seen if d["class"] == "0x068000"]
    assert [d["device"] for d in bridges] == [switch] * count
    assert sum(d["class"] == "0x030200" for d in seen) == 8


def test_fewer_than_eight_sxm_boards_show_no_nvswitch(tmp_path):
    assert all(d["class"] == "0x030200" for d in sysfs(boot(tmp_path, ["H100x2"])).values())


def test_gpuhosts_facts_read_gpus_and_nvswitches_apart_on_the_simulated_tree(tmp_path):
    devices = boot(tmp_path, ["H100x8"])
    command = facts.SYSTEM["pci"].replace("/sys/bus/pci/devices", str(devices))
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
    parsed = facts.parse(f"{facts.MARK}pci\n{output}")
    assert [g["device"] for g in parsed["pci"]] == ["2330"] * 8
    assert [s["device"] for s in parsed["nvswitches"]] == ["22a3"] * 4
