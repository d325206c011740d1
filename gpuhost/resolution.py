"""The resolver applied to a host: GPUs and OS from its facts, the request from its settings.

Every role asks here, so the driver, cuda, cudnn and tensorrt roles of one host always work
from one and the same stack. Only display functions are GPUs (facts' `pci`); the host's NVSwitches
(facts' `nvswitches`) count for Fabric Manager.
"""

import re

from gpuhost import resolver
from gpuhost.errors import ResolveError
from gpuhost.facts import is_gpu
from gpuhost.resolver import gpus as gpu_table

ARCH = {"x86_64": "x86_64", "aarch64": "sbsa"}


def request_of(settings):
    """The non-empty entries of the `stack` settings, without the policy."""
    wanted = settings.get("stack", {})
    return {k: v for k, v in wanted.items() if k != "policy" and v not in (None, "")}


def for_host(host, settings):
    """The stack for this host (resolved once per host and request)."""
    facts = host.facts
    request = request_of(settings)
    policy = settings.get("stack", {}).get("policy", "production")
    source = settings.get("driver", {}).get("source", "nvidia")  # Debian's own driver narrows the stack
    key = repr((sorted(request.items()), policy, source))
    cache = host.__dict__.setdefault("_stacks", {})
    if key not in cache:
        gpus = [gpu_table.find_gpu(f"10de:{gpu['device']}") for gpu in facts.get("pci", []) if is_gpu(gpu)]
        os_info = facts.get("os", {})
        arch = ARCH.get(facts.get("arch", ""))
        if arch is None:
            raise ResolveError(f"{host.name} is {facts.get('arch')}; NVIDIA's repositories serve x86_64 and sbsa (arm64 servers).")
        cache[key] = resolver.resolve(gpus, os_info.get("id", ""), os_info.get("version", ""), arch, request, policy,
                                      kernel_flavour=kernel_flavour(facts),
                                      nvswitches=len(facts.get("nvswitches", [])), source=source)
    return cache[key]


def kernel_flavour(facts):
    """The flavour in Canonical's module package names, found as ubuntu-drivers finds it
    (UbuntuDrivers/detect.py, get_linux_modules_metapackage): the linux-image metapackage that brought
    the running kernel, less `linux-image-` (`linux-image-generic-hwe-22.04` → `generic-hwe-22.04`,
    whose version `6.8.0.49.49~22.04.1` names the kernel 6.8.0-49). Without such a package, the
    release's own suffix (`5.15.0-1051-gcp` → `gcp`)."""
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)-(\d+)-([a-z0-9-]+)$", facts.get("kernel", ""))
    if not match:
        return "generic"
    kernel, suffix = ".".join(match.groups()[:4]) + ".", match.group(5)
    metas = [name[len("linux-image-"):] for name, package in facts.get("packages", {}).items()
             if name.startswith(f"linux-image-{suffix}") and package["version"].startswith(kernel)]
    return max(metas, key=len, default=suffix)


def resolve_names(names, os_name, arch, request, policy, source="nvidia"):
    """Resolve for GPUs given by name or PCI id and an OS written like `ubuntu-22.04`; an NVSwitch's
    PCI id among them (10de:22a3) counts as an NVSwitch of the host, as in its facts."""
    os_id, _, version = os_name.partition("-")
    switches = [name for name in names if gpu_table.nvswitch(name)]
    gpus = [gpu_table.find_gpu(name) for name in names if name not in switches]
    return resolver.resolve(gpus, os_id, version, arch, request, policy, nvswitches=len(switches), source=source)


def model_name(device):
    """The model name for a PCI device id, or a plain description when the table lacks it."""
    try:
        return gpu_table.find_gpu(f"10de:{device}").name
    except ResolveError:
        return f"NVIDIA device {device} (not in gpuhost's GPU table)"
