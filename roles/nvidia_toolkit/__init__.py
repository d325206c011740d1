"""The NVIDIA container toolkit: containers that see the GPU, through Docker's runtime entry and CDI.

The runtime is registered in daemon.json the way `nvidia-ctk runtime configure` does it, but
merged by gpuhost so that Docker restarts once per converge and the user's keys stay. The CDI
spec is generated after the driver is loaded and again whenever the loaded driver or the GPU
count no longer matches it; the udev rule keeps `/dev/char` links for the GPU nodes, without
which containers lose the GPU at the next `systemctl daemon-reload`.
"""

import re

from gpuhost.apply import for_role
from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.openpgp import normalize
from gpuhost.ops.apt import Packages, RepositoryKey, source
from gpuhost.ops.command import Command
from gpuhost.ops.files import File
from gpuhost.ops.systemd import restart
from gpuhost.roles import _docker_daemon
from gpuhost.steps import Phase

NAME = "nvidia-toolkit"
REQUIRES = ("driver", "docker")
KEYRING = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"  # NVIDIA's install guide's path
PACKAGES = ("nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools",
            "libnvidia-container1")
RUNTIME = {"args": [], "path": "nvidia-container-runtime"}  # what `nvidia-ctk runtime configure` writes
RUNTIMES = ("docker", "containerd")
DOCKER_PACKAGES = ("docker-ce", "docker.io")
CDI_SPEC = "/etc/cdi/nvidia.yaml"
CDI_PROBE = f"grep -E 'libnvidia-ml\\.so\\.|^  name: ' {CDI_SPEC}"
UDEV_RULE = "/etc/udev/rules.d/71-nvidia-dev-char.rules"
UDEV_TEXT = ('# Written by gpuhost: /dev/char links for the NVIDIA device nodes (NVIDIA container toolkit docs).\n'
             'ACTION=="add", DEVPATH=="/bus/pci/drivers/nvidia", '
             'RUN+="/usr/bin/nvidia-ctk system create-dev-char-symlinks --create-all"\n')
# Each NVIDIA character device without its /dev/char/MAJOR:MINOR link.
SYMLINKS_PROBE = ("for n in /dev/nvidia*; do [ -c \"$n\" ] || continue; "
                  "l=/dev/char/$(printf '%d:%d' 0x$(stat -c %t \"$n\") 0x$(stat -c %T \"$n\")); "
                  "[ -e \"$l\" ] || echo \"$n\"; done")
CONTAINERD_PROBE = "grep -E 'nvidia-container-runtime|default_runtime_name' /etc/containerd/config.toml"
CONTAINERD_DEFAULT = 'default_runtime_name = "nvidia"'
VERSION = re.compile(r"^\d+\.\d+\.\d+(-\d+)?$")


def facts(settings):
    probes = {"dev-char-symlinks": SYMLINKS_PROBE, "cdi-spec": CDI_PROBE}
    if "containerd" in settings["nvidia_toolkit"]["runtimes"]:
        probes["containerd-nvidia-runtime"] = CONTAINERD_PROBE
    return Request(files={KEYRING, UDEV_RULE, _docker_daemon.DAEMON_JSON, "/etc/apt/sources.list.d/nvidia-*"},
                   probes=probes)


def steps(host, settings):
    mine = settings["nvidia_toolkit"]
    unknown = sorted(set(mine["runtimes"]) - set(RUNTIMES))
    if unknown:
        raise InventoryError(f"nvidia_toolkit.runtimes may list {', '.join(RUNTIMES)}, not {unknown[0]!r}.")
    yield from repository(host.facts, settings)
    names = PACKAGES if mine["version"] else PACKAGES[:1]  # the other three follow as dependencies
    yield Packages(install=dict.fromkeys(names, package_version(mine["version"])),
                   hold=PACKAGES, name="nvidia container toolkit")
    if "docker" in mine["runtimes"]:
        _require_docker(host)
        keys = {"runtimes": {"nvidia": RUNTIME}, **({"default-runtime": "nvidia"} if mine["default_runtime"] else {})}
        yield from _docker_daemon.steps(keys, "nvidia runtime in daemon.json")
    if "containerd" in mine["runtimes"]:
        yield from containerd(mine["default_runtime"])
    gpus = len(host.facts.get("pci", []))
    if mine["dev_char_symlinks"]:
        yield File(UDEV_RULE, UDEV_TEXT, name="udev rule for /dev/char links to the GPU nodes")
        if gpus:
            yield dev_char_symlinks()
    if mine["cdi"] and gpus:
        yield cdi_spec(gpus)


def repository(facts, settings):
    repo = settings["container_toolkit_repo"]
    fingerprint = normalize(repo["key_fingerprint"] or "")
    if len(fingerprint) != 40:
        raise InventoryError("container_toolkit_repo.key_fingerprint must be the 40-digit fingerprint of the "
                             "NVIDIA container toolkit repository key.")
    url = repo["url"].rstrip("/")
    yield RepositoryKey(f"{url}/gpgkey", fingerprint, KEYRING, name="NVIDIA container toolkit repository key")
    yield source("nvidia-container-toolkit", f"{url}/stable/deb/{facts.get('deb_arch', 'amd64')}/", "/", KEYRING)


def package_version(version):
    if version is None:
        return None
    if not VERSION.match(str(version)):
        raise InventoryError(f"nvidia_toolkit.version is a release like '1.18.0', not {version!r}.")
    return str(version) if "-" in str(version) else f"{version}-1"


def _require_docker(host):
    """Refuse before any change when Docker is neither installed nor part of this converge."""
    installed = host.facts.get("packages", {})
    if "docker" not in host.roles and not any(p in installed for p in DOCKER_PACKAGES):
        raise InventoryError(f"nvidia_toolkit.runtimes lists docker but {host.name} has no Docker and the docker "
                             "role is not in this converge: add the docker role, or set nvidia_toolkit.runtimes.")


def containerd(as_default):
    handler = restart("containerd.service")
    flags = " --set-as-default" if as_default else ""
    yield Command("nvidia runtime in containerd's config.toml",
                  [f"nvidia-ctk runtime configure --runtime=containerd{flags}"],
                  probe=CONTAINERD_PROBE, done=lambda result, facts: _containerd_done(result["output"], as_default),
                  after={"rc": 0, "output": f"nvidia-container-runtime\n{CONTAINERD_DEFAULT}"},
                  notify=(handler.name,), probe_name="containerd-nvidia-runtime")
    yield handler


def _containerd_done(config_lines, as_default):
    """The runtime is there, and so is the default when asked (a default set earlier is left alone)."""
    return "nvidia-container-runtime" in config_lines and (not as_default or CONTAINERD_DEFAULT in config_lines)


def dev_char_symlinks():
    return Command("/dev/char links to the GPU nodes", ["nvidia-ctk system create-dev-char-symlinks --create-all"],
                   probe=SYMLINKS_PROBE, done=lambda result, facts: not result["output"].strip(),
                   phase=Phase.AFTER_BOOT, after={"rc": 0, "output": ""}, probe_name="dev-char-symlinks")


def cdi_spec(gpus):
    """The spec, regenerated when it names another driver's libraries or another number of GPUs."""
    return Command(f"CDI spec {CDI_SPEC}", [f"nvidia-ctk cdi generate --output={CDI_SPEC}"],
                   probe=CDI_PROBE, done=lambda result, facts: _cdi_current(result["output"], facts, gpus),
                   phase=Phase.AFTER_BOOT, probe_name="cdi-spec", after=lambda facts: _cdi_written(facts, gpus))


def _cdi_written(facts, gpus):
    """What the probe reads from a spec generated for the loaded driver: its NVML library and one name per GPU."""
    loaded = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    lines = [f"  - path: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{loaded}"] + [f'  name: "{i}"' for i in range(gpus)]
    return {"rc": 0, "output": "\n".join(lines)}


def _cdi_current(spec_lines, facts, gpus):
    loaded = (facts.get("modules", {}).get("nvidia") or {}).get("version")
    devices = re.findall(r'^  name: "\d+"$', spec_lines, re.M)
    return bool(loaded) and f"libnvidia-ml.so.{loaded}" in spec_lines and len(devices) == gpus


apply = for_role(__name__)
