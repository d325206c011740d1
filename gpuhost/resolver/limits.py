"""What the GPUs of one host allow: kernel-module flavours, driver branches, CUDA versions.

Why separate: a host may mix architectures (P100 + T4); the stack must satisfy the most
demanding GPU on every axis, and an error must name the GPU that imposed the limit. A GPU narrows
its architecture where NVIDIA's driver list says so: a legacy branch ("470.xx") caps the driver,
a compute capability caps or raises CUDA (sm_30 stopped at CUDA 10.2, sm_86 started at 11.1).
"""
from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from gpuhost.resolver.compat import Gpu, ResolveError, knowledge


@dataclass(frozen=True)
class Bound:
    value: object
    gpu: Gpu | None


@dataclass(frozen=True)
class Limits:
    flavors: frozenset
    flavor_gpu: dict
    branch_min: Bound
    branch_max: Bound
    cuda_min: Bound
    cuda_max: Bound

    def branch_ok(self, branch: int) -> bool:
        top = self.branch_max.value
        return self.branch_min.value <= branch and (top is None or branch <= top)

    def cuda_ok(self, minor: Version) -> bool:
        top = self.cuda_max.value
        return self.cuda_min.value <= minor and (top is None or minor <= top)


def gpu_flavors(gpu: Gpu) -> frozenset:
    return frozenset(gpu.flavors or knowledge().arch(gpu).flavors)


def limits_for(gpus: tuple[Gpu, ...]) -> Limits:
    """The tightest bound on each axis over all GPUs (an empty host is unbounded)."""
    kn = knowledge()
    flavors = frozenset(("open", "proprietary"))
    flavor_gpu = {}
    branch_min, branch_max = Bound(0, None), Bound(None, None)
    cuda_min, cuda_max = Bound(Version("0"), None), Bound(None, None)
    for gpu in gpus:
        arch = kn.arch(gpu)
        flavors &= gpu_flavors(gpu)
        flavor_gpu.setdefault(gpu_flavors(gpu), gpu)
        first = max(arch.first_cuda, gpu.min_cuda or arch.first_cuda)
        last = min((v for v in (arch.last_cuda, gpu.last_cuda) if v is not None), default=None)
        newest = min((b for b in (arch.newest_branch, gpu.legacy_number) if b is not None), default=None)
        branch_min = _tighter(branch_min, Bound(arch.oldest_branch, gpu), max)
        branch_max = _tighter(branch_max, Bound(newest, gpu), min)
        cuda_min = _tighter(cuda_min, Bound(first, gpu), max)
        cuda_max = _tighter(cuda_max, Bound(last, gpu), min)
    if not flavors:
        raise ResolveError(_no_flavor_message(flavor_gpu))
    return Limits(flavors, flavor_gpu, branch_min, branch_max, cuda_min, cuda_max)


def _tighter(old: Bound, new: Bound, pick) -> Bound:
    if new.value is None:
        return old
    if old.value is None or pick(old.value, new.value) == new.value and new.value != old.value:
        return new
    return old


def _no_flavor_message(flavor_gpu: dict) -> str:
    parts = [f"{gpu.describe()} takes only {' or '.join(sorted(f))} kernel modules" for f, gpu in flavor_gpu.items() if len(f) == 1]
    return "; ".join(parts) + ": no single driver drives them all. Put these GPUs in different hosts."
