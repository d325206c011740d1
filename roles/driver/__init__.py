"""The NVIDIA driver: the branch and flavour the resolver chose for this host's GPUs, pinned and held.

From NVIDIA's CUDA repository (DKMS modules, kernel headers for the running kernel), with
`driver.source: ubuntu` Canonical's packages with signed prebuilt modules, or with
`driver.source: debian` Debian's own (DKMS too; archive.py). Refuses before any
change when a driver of another branch, flavour or source is installed (unless
`driver.replace`), or when Secure Boot would reject an unsigned module. Reboots only for a reason
it can name: the module is not loaded, it differs from the installed userspace, or nouveau
holds the GPU.
"""

from gpuhost.apply import for_role
from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.ops import kernel
from gpuhost.ops.apt import Packages, preferences
from gpuhost.ops.command import Command
from gpuhost.ops.files import File
from gpuhost.ops.reboot import Reboot
from gpuhost.ops.systemd import Service
from gpuhost.roles import _nvidia
from gpuhost.resolver import SOURCES
from gpuhost.roles.driver import apt_sources, archive, installed, maintainers, transitional
from gpuhost.steps import Check, Phase

NAME = "driver"
REQUIRES = ()
# Name prefixes of every package of a driver branch. Debian's tree (which NVIDIA's debian12
# repository builds) ties its parts together at exact versions and names some outside nvidia-*:
# xserver-xorg-video-nvidia, libgl1-nvidia-glvnd-glx, libglx-nvidia0, libegl-nvidia0 … A part the
# pin misses keeps the newest branch as its candidate, and an older branch cannot be installed.
FAMILIES = ("cuda-drivers", "nvidia-", "libnvidia-", "libcuda", "libnvcuvid", "libnvoptix", "libxnvctrl",
            "firmware-nvidia-", "linux-modules-nvidia-", "xserver-xorg-video-nvidia", "libgl1-nvidia-",
            "libglx-nvidia", "libegl-nvidia", "libgles-nvidia")
PIN_PACKAGES = tuple(f"{family}*" for family in FAMILIES)
# NVIDIA's CUDA repositories publish nvidia-driver-pinning-<branch> from R570 (debian12: 570, 580, …).
PINNING_FROM = 570
UNATTENDED = "/etc/apt/apt.conf.d/51gpuhost-nvidia-driver"
# Canonical's signed modules come as linux-modules-nvidia-<b>-server-<flavour>, a metapackage versioned
# like the kernel that pulls the modules built for the newest kernel: holding it, or keeping it from
# unattended-upgrades, would leave an automatically updated kernel without its module.
FOLLOWS_THE_KERNEL = "linux-modules-nvidia-"
UNATTENDED_TEXT = (
    "// Written by gpuhost: a driver upgrade needs a matching module and a reboot, so it is done on purpose.\n"
    "Unattended-Upgrade::Package-Blacklist {\n"
    + "".join(f'    "{family}";\n' for family in FAMILIES if family != FOLLOWS_THE_KERNEL) + "};\n")
MODULE_FILES = ("/lib/modules/*/updates/dkms/nvidia*.ko*", "/lib/modules/*/kernel/nvidia-*/nvidia.ko*")
DKMS_SOURCES = ("nvidia", "debian")  # sources whose module DKMS builds on the host, against its headers
REBOOT_HINT = ("Why the module does not load is in `dkms status`, `journalctl -k -b | grep -i -e nvidia -e nouveau` "
               "and `mokutil --sb-state`.")


def facts(settings):
    request = _nvidia.facts()
    request.add(Request(files={UNATTENDED, "/etc/apt/preferences.d/gpuhost-nvidia-driver",
                               "/etc/modprobe.d/gpuhost-blacklist-nouveau.conf"}, present=set(MODULE_FILES),
                        units={"nvidia-persistenced.service", "nvidia-fabricmanager.service"}))
    request.add(maintainers.request())
    if settings[NAME]["source"] == "debian":
        request.add(apt_sources.request())
    return request


def steps(host, settings):
    mine = settings[NAME]
    if mine["source"] not in SOURCES:
        raise InventoryError(f"driver.source must be one of {', '.join(SOURCES)}, not {mine['source']!r}.")
    stack = _nvidia.stack(host, settings)
    if stack.driver is None:
        return  # no NVIDIA GPU: nothing to drive
    debian = mine["source"] == "debian"
    wanted = archive.packages(stack, mine) if debian else _packages(stack, mine["source"], host.facts)
    yield Check("driver fits the host", lambda facts: _refusal(facts, stack, mine, host.name))
    if debian:
        yield Check("Debian's archive serves the driver", lambda facts: archive.refusal(facts, stack, wanted, host.name))
    vet = transitional.check(host.facts, stack) if mine["source"] == "ubuntu" else None
    if vet:
        yield vet
    if mine["source"] == "nvidia":
        yield from _nvidia.repository(stack, settings)
    if debian:
        yield preferences("gpuhost-nvidia-driver", (*PIN_PACKAGES, *archive.GLX), archive.PIN, 1001)
    else:
        yield preferences("gpuhost-nvidia-driver", PIN_PACKAGES, f"version {stack.driver.branch}.*", 1001)
    yield _install(host.facts, wanted, mine, _pinning_package(stack, mine["source"], wanted), vet)
    if mine["source"] in DKMS_SOURCES:
        yield _rebuild_module(host.facts)
    if mine["blacklist_nouveau"]:
        yield kernel.blacklist("nouveau", options=["modeset=0"])
        yield kernel.UPDATE_INITRAMFS
    if mine["keep_from_unattended_upgrades"]:
        yield File(UNATTENDED, UNATTENDED_TEXT, name="keep the driver from unattended-upgrades")
    yield Reboot("reboot into the driver", _reboot_reason, _loaded_after_boot, hint=REBOOT_HINT)
    if mine["persistence"]:
        yield _after_boot(Service("nvidia-persistenced.service"))
    if stack.driver.fabric_manager:
        yield _after_boot(Service("nvidia-fabricmanager.service"))


def _packages(stack, source, facts):
    names = list(stack.packages["driver"] if source == "nvidia" else stack.packages["driver_ubuntu"])
    if stack.driver.fabric_manager:
        names += stack.packages.get("fabric_manager", [])
    return names


def _pinning_package(stack, source, wanted):
    """NVIDIA's own pin of the branch, which keeps later upgrades on it (gpuhost's pin does that
    for this transaction: the package's file only counts from the next apt run)."""
    name = f"nvidia-driver-pinning-{stack.driver.branch}"
    return name if source == "nvidia" and stack.driver.branch >= PINNING_FROM and name not in wanted else None


def _install(facts, wanted, mine, pinning=None, vet=None):
    extra = {f"linux-headers-{facts.get('kernel')}": None} if mine["source"] in DKMS_SOURCES else {}
    if pinning:
        extra[pinning] = None
    replaced = installed.superseded(facts, wanted, mine["source"]) if mine["replace"] else []
    held = [n for n in wanted if not n.startswith(FOLLOWS_THE_KERNEL)]
    return Packages(install={**{n: None for n in wanted}, **extra}, hold=held, absent=replaced,
                    name="driver packages " + " ".join(wanted), vet=vet)


def _refusal(facts, stack, mine, host):
    """Why gpuhost must not touch this host's driver, or None."""
    current = installed.describe(facts)
    wanted = (stack.driver.branch, stack.driver.flavor, mine["source"])
    if current and current["source"] == "runfile":
        return (f"{host} has an NVIDIA driver {current['version'] or ''} installed outside apt (a .run installer?); "
                "gpuhost leaves it alone: remove it with nvidia-uninstall, or leave the driver role out.")
    if current and (current["branch"], current["flavor"], current["source"]) != wanted and not mine["replace"]:
        return (f"{host} has NVIDIA driver {current['version']} ({current['flavor']}) from "
                f"{installed.SOURCES[current['source']]}; the resolved driver is branch {wanted[0]} ({wanted[1]}) from "
                f"{installed.SOURCES[wanted[2]]}. gpuhost does not replace a driver silently: set driver.replace=true "
                f"to switch, or stack.driver={current['branch']} to keep it.")
    loaded = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    if facts.get("secure_boot", {}).get("enabled") and mine["source"] in DKMS_SOURCES and not loaded:
        return (f"Secure Boot is on at {host} and the DKMS-built NVIDIA module would be unsigned, so the kernel "
                "would reject it. Choose one: driver.source=ubuntu (Canonical's signed prebuilt modules, on Ubuntu), "
                "enroll a Machine Owner Key so DKMS signs the module (mokutil --import /var/lib/dkms/mok.pub, then "
                "reboot and confirm), or turn Secure Boot off in the firmware.")
    return None


def _rebuild_module(facts):
    """A driver already installed whose module is missing for the running kernel (the kernel was updated)."""
    package = installed.module_package(facts)
    already = bool(installed.packages(facts))
    return Command(
        "build the nvidia module for the running kernel",
        [f"dpkg-reconfigure -fnoninteractive {package}"],
        probe=None,
        done=lambda result, facts: not already or package is None or installed.module_built(facts),
    )


def _reboot_reason(facts):
    version = installed.userspace_version(facts)
    if version is None and not installed.packages(facts):
        return None
    loaded = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    if "nouveau" in facts.get("modules", {}):
        return "nouveau holds the GPU"
    if not loaded:
        return "the nvidia module is not loaded"
    if version and loaded != version:
        return f"the loaded module {loaded} differs from the installed driver {version} (NVML version mismatch)"
    return None


def _loaded_after_boot(facts):
    """The module of the installed driver is loaded (its version unknown to a plan when libcuda comes as a dependency)."""
    facts.setdefault("modules", {}).pop("nouveau", None)
    facts["modules"]["nvidia"] = {"version": installed.userspace_version(facts) or "(after reboot)"}


def _after_boot(step):
    step.phase = Phase.AFTER_BOOT
    return step


apply = for_role(__name__)
