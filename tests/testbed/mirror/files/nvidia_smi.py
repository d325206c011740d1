#!/usr/bin/python3
"""Fixture nvidia-smi @@v@@ (CUDA @@cuda@@).

It fails the way the real one does when the kernel module is missing or of another version, and
otherwise reports the simulated GPUs found in sysfs (vendor 0x10de, display class).
NVIDIA_FIXTURE_ROOT moves its view of / for unit tests.
"""
import os
import re
import sys
import time
import uuid
from pathlib import Path

VERSION = "@@v@@"
CUDA = "@@cuda@@"
ROOT = Path(os.environ.get("NVIDIA_FIXTURE_ROOT", "/"))
PERSISTENCE_MARKERS = ("var/run/nvidia-persistenced/nvidia-persistenced.pid", "run/nvidia-fixture/persistence-mode")
NAMES = {
    "102d": "Tesla K80", "13f2": "Tesla M60", "1bb3": "Tesla P4", "15f7": "Tesla P100-PCIE-12GB",
    "15f8": "Tesla P100-PCIE-16GB", "15f9": "Tesla P100-SXM2-16GB", "1db1": "Tesla V100-SXM2-16GB",
    "1db4": "Tesla V100-PCIE-16GB", "1db5": "Tesla V100-SXM2-32GB", "1db6": "Tesla V100-PCIE-32GB",
    "1df6": "Tesla V100S-PCIE-32GB", "1eb8": "Tesla T4", "2236": "NVIDIA A10", "2237": "NVIDIA A10G",
    "20b0": "NVIDIA A100-SXM4-40GB", "20b1": "NVIDIA A100-PCIE-40GB", "20f1": "NVIDIA A100-PCIE-40GB",
    "20b2": "NVIDIA A100-SXM4-80GB", "20b5": "NVIDIA A100 80GB PCIe", "20b7": "NVIDIA A30", "2235": "NVIDIA A40",
    "27b8": "NVIDIA L4", "26b5": "NVIDIA L40", "26b9": "NVIDIA L40S", "2330": "NVIDIA H100 80GB HBM3",
    "2331": "NVIDIA H100 PCIe", "2321": "NVIDIA H100 NVL", "2335": "NVIDIA H200", "233b": "NVIDIA H200 NVL",
    "2342": "NVIDIA GH200 480GB", "2901": "NVIDIA B200", "2bb5": "NVIDIA RTX PRO 6000 Blackwell Server Edition",
    "1b06": "NVIDIA GeForce GTX 1080 Ti", "1e04": "NVIDIA GeForce RTX 2080 Ti", "2204": "NVIDIA GeForce RTX 3090",
    "2684": "NVIDIA GeForce RTX 4090", "2b85": "NVIDIA GeForce RTX 5090", "2230": "NVIDIA RTX A6000",
}
NO_DRIVER = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
             "Make sure that the latest NVIDIA driver is installed and running.")


def main(argv: list[str]) -> int:
    loaded = loaded_version()
    if loaded is None:
        print(NO_DRIVER)
        return 9
    if loaded != VERSION:
        print("Failed to initialize NVML: Driver/library version mismatch")
        print("NVML library version: " + ".".join(VERSION.split(".")[:2]))
        return 18
    gpus = find_gpus()
    if not gpus:
        print("No devices were found")
        return 6
    return run(argv, gpus)


def run(argv: list[str], gpus: list[dict]) -> int:
    query = option(argv, "--query-gpu")
    if query is not None:
        return print_query(query.split(","), option(argv, "--format") or "csv", gpus)
    if argv[:1] in (["-L"], ["--list-gpus"]):
        for gpu in gpus:
            print(f"GPU {gpu['index']}: {gpu['name']} (UUID: {gpu['uuid']})")
        return 0
    if argv[:1] in (["-pm"], ["--persistence-mode"]) and argv[1:2] == ["1"]:
        return enable_persistence(gpus)
    if argv[:1] == ["--version"]:
        print(f"NVIDIA-SMI version  : {VERSION}\nNVML version        : {'.'.join(VERSION.split('.')[:2])}\n"
              f"DRIVER version      : {VERSION}\nCUDA Version        : {CUDA}")
        return 0
    if not argv:
        print_table(gpus)
        return 0
    print("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.")
    return 2


def option(argv: list[str], name: str):
    for i, arg in enumerate(argv):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
    return None


def loaded_version():
    try:
        text = (ROOT / "proc/driver/nvidia/version").read_text()
    except OSError:
        return None
    match = re.search(r"\b(\d{3}\.\d+(?:\.\d+)?)\b", text)
    return match.group(1) if match else None


def find_gpus() -> list[dict]:
    found = []
    for dev in sorted((ROOT / "sys/bus/pci/devices").glob("*")):
        if read(dev / "vendor") == "0x10de" and read(dev / "class").startswith("0x03"):
            found.append(dev)
    return [describe(i, dev) for i, dev in enumerate(found)]


def describe(index: int, dev: Path) -> dict:
    device = read(dev / "device").removeprefix("0x")
    bus = dev.name.upper()
    return {"index": str(index), "name": NAMES.get(device, "NVIDIA Graphics Device"),
            "uuid": "GPU-" + str(uuid.uuid5(uuid.NAMESPACE_URL, "gpuhost-fixture-gpu:" + dev.name)),
            "driver_version": VERSION, "pci.bus_id": "0000" + bus if len(bus) == 12 else bus,
            "persistence_mode": "Enabled" if persistent() else "Disabled"}


def persistent() -> bool:
    return any((ROOT / marker).exists() for marker in PERSISTENCE_MARKERS)


def print_query(fields: list[str], fmt: str, gpus: list[dict]) -> int:
    fields = [f.strip() for f in fields]
    for name in fields:
        if name not in gpus[0]:
            print(f'Field "{name}" is not a valid field to query.')
            return 2
    if "noheader" not in fmt:
        print(", ".join(fields))
    for gpu in gpus:
        print(", ".join(gpu[name] for name in fields))
    return 0


def enable_persistence(gpus: list[dict]) -> int:
    marker = ROOT / PERSISTENCE_MARKERS[1]
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for gpu in gpus:
        print(f"Enabled persistence mode for GPU {gpu['pci.bus_id']}.")
    print("All done.")
    return 0


def print_table(gpus: list[dict]) -> None:
    rule = "+-----------------------------------------+------------------------+----------------------+"
    print(time.strftime("%a %b %e %H:%M:%S %Y"))
    print("+-----------------------------------------------------------------------------------------+")
    print(f"| NVIDIA-SMI {VERSION:<22} Driver Version: {VERSION:<14} CUDA Version: {CUDA:<9}|")
    print("|-----------------------------------------+------------------------+----------------------+")
    print("| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |")
    print("| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |")
    print("|=========================================+========================+======================|")
    for gpu in gpus:
        mode = "On" if gpu["persistence_mode"] == "Enabled" else "Off"
        print(f"| {gpu['index']:>3}  {gpu['name'][:26]:<26} {mode:>7} | {gpu['pci.bus_id']:>16} Off |"
              f"                    0 |")
        print("| N/A   30C    P8             10W /   70W |       1MiB /  15360MiB |      0%      Default |")
        print(rule)


def read(path: Path) -> str:
    try:
        return path.read_text().strip().lower()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
