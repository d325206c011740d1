"""Simulated NVIDIA GPUs, shown where real machines show them (docs/design.md, "Simulated GPU
contract"), with the NVIDIA functions that come along: the HDMI/DP audio function of a GeForce
card, and the NVSwitches of an 8-GPU HGX baseboard. Neither is a GPU; both are NVIDIA PCI
functions that a tool reading vendor 0x10de alone would take for one.

The launcher calls `prepare_boot` before every boot of a host. It reads the host's own files
(its merged root filesystem) to decide what the kernel would have loaded, and writes the trees
nspawn overlays on /sys/bus/pci, /sys/module and /sys/firmware, plus the files a unit inside
the host binds over /proc/driver and /proc/sys/kernel/osrelease.

The model table is the harness's own, deliberately small: the product's GPU data lives elsewhere.
"""
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import kernel_module

ARCHITECTURES = ["kepler", "maxwell", "pascal", "volta", "turing", "ampere", "ada", "hopper",
                 "blackwell"]
DATACENTER, VGA, AUDIO, BRIDGE = 0x030200, 0x030000, 0x040300, 0x068000
HGX_GPUS = 8


@dataclass(frozen=True)
class Model:
    device: int
    subsystem: int
    pci_class: int
    architecture: str
    audio: int | None = None            # device id of the card's HDMI/DP audio function (function 1)
    nvswitch: tuple | None = None       # (device id, count) of the NVSwitches on its 8-GPU baseboard


# Device ids from pci.ids. NVSwitch counts per 8-GPU baseboard from NVIDIA's Fabric Manager user
# guide: six second-generation NVSwitches on HGX A100, four third-generation ones on HGX H100.
MODELS = {
    "T4": Model(0x1EB8, 0x12A2, DATACENTER, "turing"),
    "A100": Model(0x20B0, 0x134F, DATACENTER, "ampere", nvswitch=(0x1AF1, 6)),   # A100-SXM4-40GB; GA100 [A100 NVSwitch]
    "H100": Model(0x2330, 0x16C1, DATACENTER, "hopper", nvswitch=(0x22A3, 4)),   # H100-SXM5-80GB; GH100 [H100 NVSwitch]
    "P100": Model(0x15F8, 0x118F, DATACENTER, "pascal"),      # P100-PCIE-16GB
    "K80": Model(0x102D, 0x106C, DATACENTER, "kepler"),
    "RTX5090": Model(0x2B85, 0x2057, VGA, "blackwell", audio=0x22E8),            # GB202 High Definition Audio Controller
}
EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
BUILD_DATE = "Tue Sep 23 09:55:41 UTC 2025"


def parse_gpus(items) -> tuple:
    """Normalise GPU names: 'H100x2' → ('H100', 'H100'); 'none' → (); 'RTX 5090' → 'RTX5090'."""
    gpus = []
    for item in items:
        name = str(item).replace(" ", "").upper()
        match = re.match(r"^(.+)X(\d+)$", name)
        if match and name not in MODELS:
            model, count = match.group(1), int(match.group(2))
        else:
            model, count = name, 1
        if model == "NONE":
            continue
        if model not in MODELS or not 1 <= count <= 16:
            raise ValueError(f"GPU {item!r}: expected none or one of {', '.join(MODELS)}, "
                             "optionally xN (N ≤ 16)")
        gpus += [model] * count
    return tuple(gpus)


def bdf(index: int, function: int = 0) -> str:
    return f"0000:{0x17 + index:02x}:00.{function}"


def nvswitch_bdf(index: int) -> str:
    return f"0000:{0x70 + index:02x}:00.0"


@dataclass(frozen=True)
class Function:
    """One PCI function of vendor 0x10de as sysfs shows it."""
    address: str
    device: int
    subsystem: int
    pci_class: int
    gpu: bool


def functions(gpus) -> list:
    """Every NVIDIA function of a host with these GPU models: GPUs, their audio, HGX NVSwitches."""
    found = []
    for i, name in enumerate(gpus):
        model = MODELS[name]
        found.append(Function(bdf(i), model.device, model.subsystem, model.pci_class, True))
        if model.audio:
            found.append(Function(bdf(i, 1), model.audio, model.subsystem, AUDIO, False))
    switches = [MODELS[name].nvswitch[0] for name in dict.fromkeys(gpus) if MODELS[name].nvswitch
                for _ in range(MODELS[name].nvswitch[1] * (gpus.count(name) // HGX_GPUS))]
    # pci.ids lists no subsystem for NVSwitches: the device id stands in for it.
    return found + [Function(nvswitch_bdf(k), device, device, BRIDGE, False) for k, device in enumerate(switches)]


@dataclass(frozen=True)
class BootState:
    """What the simulated kernel shows during one boot."""
    kernel: str
    nouveau: bool
    secure_boot: bool
    module: dict        # the built nvidia module's fields (fixture or real) when it loaded, else {}


def decide(root: Path, spec) -> BootState:
    """Apply the contract's loading rules to the host's files, as a kernel would at boot."""
    kernel = running_kernel(root, spec.profile.kernel)
    nouveau = bool(spec.gpus) and "nouveau" in spec.options and not _blacklisted(root, "nouveau")
    secure_boot = "secure_boot" in spec.options
    module = _built_module(root, kernel)
    loads = (bool(module) and bool(spec.gpus) and not nouveau and not _blacklisted(root, "nvidia")
             and (not secure_boot or module.get("signed") == "yes")
             and all(_flavor_suits(module.get("flavor"), g) for g in spec.gpus))
    return BootState(kernel, nouveau, secure_boot, module if loads else {})


def running_kernel(root: Path, default: str) -> str:
    """The newest /boot/vmlinuz-* of the host: what its boot loader would start."""
    releases = [p.name[len("vmlinuz-"):] for p in (root / "boot").glob("vmlinuz-*")]
    key = lambda r: [int(n) for n in re.findall(r"\d+", r)]
    return max(releases, key=key) if releases else default


def _blacklisted(root: Path, module: str) -> bool:
    """A `blacklist` line stops udev loading the module for the device at boot, as modprobe.d(5) says."""
    line = re.compile(rf"^\s*blacklist\s+{module}\s*$", re.M)
    return any(line.search(_read(root, p)) for p in (root / "etc/modprobe.d").glob("*.conf"))


def _built_module(root: Path, kernel: str) -> dict:
    base = root / "lib/modules" / kernel
    # Debian's DKMS packages install the module as nvidia-current(-open).ko (their dkms.conf)
    debian = [base / "updates/dkms/nvidia-current.ko", base / "updates/dkms/nvidia-current-open.ko"]
    for path in [base / "updates/dkms/nvidia.ko", *sorted(base.glob("kernel/nvidia-*/nvidia.ko")), *debian]:
        if kernel_module.is_real(path):
            return kernel_module.fields(root, path)
        text = _read(root, path)
        fields = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
        if "version" in fields:
            return {k.strip(): v.strip() for k, v in fields.items()}
    return {}


def _flavor_suits(flavor, model: str) -> bool:
    arch = ARCHITECTURES.index(MODELS[model].architecture)
    if flavor == "open":
        return arch >= ARCHITECTURES.index("turing")
    return flavor == "proprietary" and arch < ARCHITECTURES.index("blackwell")


def _read(root: Path, path: Path) -> str:
    """Read a file of the host, resolving its absolute symlinks inside the host's root."""
    for _ in range(8):
        if not path.is_symlink():
            break
        target = Path(path.readlink())
        path = root / target.relative_to("/") if target.is_absolute() else path.parent / target
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def prepare_boot(root: Path, spec, boot: Path) -> BootState:
    """Decide this boot's state and write its trees under `boot` (emptied first)."""
    state = decide(root, spec)
    shutil.rmtree(boot, ignore_errors=True)
    driver = "nvidia" if state.module else "nouveau" if state.nouveau else None
    for function in functions(spec.gpus):
        _pci_device(boot / "pci", function, driver if function.gpu else None)
    (boot / "pci").mkdir(parents=True, exist_ok=True)
    _modules(boot / "module", state)
    efivars = boot / "firmware/efi/efivars"
    efivars.mkdir(parents=True)
    (efivars / f"SecureBoot-{EFI_GLOBAL}").write_bytes(b"\x06\x00\x00\x00" + bytes([state.secure_boot]))
    run = boot / "run"
    (run / "proc-driver").mkdir(parents=True)
    (run / "osrelease").write_text(state.kernel + "\n")
    if state.module:
        (run / "proc-driver/nvidia").mkdir()
        (run / "proc-driver/nvidia/version").write_text(proc_version(state.module, spec))
    return state


def _pci_device(pci: Path, function: Function, driver) -> None:
    address = function.address
    dev = pci / "devices" / address
    dev.mkdir(parents=True)
    files = {"vendor": 0x10DE, "device": function.device, "class": function.pci_class,
             "subsystem_vendor": 0x10DE, "subsystem_device": function.subsystem}
    for name, value in files.items():
        width = 6 if name == "class" else 4
        (dev / name).write_text(f"0x{value:0{width}x}\n")
    (dev / "config").write_bytes(_config_space(function))
    (dev / "modalias").write_text(
        f"pci:v000010DEd0000{function.device:04X}sv000010DEsd0000{function.subsystem:04X}"
        f"bc{function.pci_class >> 16:02X}sc{(function.pci_class >> 8) & 0xFF:02X}i00\n")
    (dev / "numa_node").write_text("-1\n")
    (dev / "enable").write_text("1\n")
    if driver:
        (pci / "drivers" / driver).mkdir(parents=True, exist_ok=True)
        (dev / "driver").symlink_to(f"../../drivers/{driver}")
        (pci / "drivers" / driver / address).symlink_to(f"../../devices/{address}")


def _config_space(function: Function) -> bytes:
    config = bytearray(256)
    config[0:4] = (0x10DE | function.device << 16).to_bytes(4, "little")
    config[4:6] = (0x0006).to_bytes(2, "little")                 # memory space, bus master
    config[8] = 0xA1                                              # revision
    config[9:12] = function.pci_class.to_bytes(3, "little")      # prog-if, subclass, class
    config[0x2C:0x30] = (0x10DE | function.subsystem << 16).to_bytes(4, "little")
    return bytes(config)


def _modules(module: Path, state: BootState) -> None:
    module.mkdir(parents=True)
    if state.module:
        (module / "nvidia").mkdir()
        (module / "nvidia/version").write_text(state.module["version"] + "\n")
        (module / "nvidia/initstate").write_text("live\n")
    if state.nouveau:
        (module / "nouveau").mkdir()
        (module / "nouveau/initstate").write_text("live\n")


def proc_version(module: dict, spec) -> str:
    """/proc/driver/nvidia/version as the real open and proprietary modules print it."""
    version = module["version"]
    if module.get("flavor") == "open":
        head = (f"NVIDIA UNIX Open Kernel Module for x86_64  {version}  Release Build  "
                f"(dvs-builder@U22-I3-AF03-09-1)  {BUILD_DATE}")
    else:
        head = f"NVIDIA UNIX x86_64 Kernel Module  {version}  {BUILD_DATE}"
    gcc = {"ubuntu-22.04": "11.4.0 (Ubuntu 11.4.0-1ubuntu1~22.04)",
           "ubuntu-24.04": "13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)",
           "debian-12": "12.2.0 (Debian 12.2.0-14+deb12u1)"}[spec.os]
    return f"NVRM version: {head}\nGCC version:  gcc version {gcc} \n"
