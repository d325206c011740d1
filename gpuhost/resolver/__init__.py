"""Resolve GPUs + OS + a partial request into one consistent driver/CUDA/cuDNN/TensorRT stack.

Why: the layers constrain each other in both directions (the GPU bounds the driver branch, the
branch bounds CUDA, a pinned cuDNN bounds CUDA again). Each choice is made once, in order,
from the candidates every constraint left, and records the sentence that decided it; an
impossible request raises ResolveError naming the facts in conflict and the nearest way out.
Unverified facts are never chosen on their own and always restrict rather than relax.
"""
from __future__ import annotations

from packaging.version import Version

from gpuhost.resolver import debian, libraries, packages
from gpuhost.resolver.compat import Branch, CudaRelease, Gpu, Repo, ResolveError, knowledge
from gpuhost.resolver.gpus import find_gpu
from gpuhost.resolver.limits import Limits, limits_for
from gpuhost.resolver.request import Request, parse_request
from gpuhost.resolver.stack import Driver, Stack

__all__ = ["SOURCES", "ResolveError", "Stack", "find_gpu", "resolve"]

POLICY_TYPES = {"lts": {"lts"}, "production": {"lts", "production"}}
SOURCES = ("nvidia", "ubuntu", "debian")  # where a driver comes from: NVIDIA's repository, Canonical's, Debian's
FABRIC_MANAGER_GPUS = 8


class Notes:
    """Reasons collected while resolving, each tagged with the choice it explains."""

    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, topic: str, text: str) -> None:
        self.items.append((topic, text))


def resolve(gpus, os_id: str, os_version: str, arch: str = "x86_64", request: dict | None = None,
            policy: str = "production", kernel_flavour: str = "generic", nvswitches: int = 0,
            source: str = "nvidia") -> Stack:
    """One stack for a host. gpus: PCI ids, names or Gpu values (empty: a host without NVIDIA GPU);
    nvswitches: the NVSwitch functions the host shows, which call for Fabric Manager; source: where
    the driver comes from (`debian`: Debian's own, one branch, which narrows the whole stack)."""
    if source not in SOURCES:
        raise ResolveError(f"The driver source must be one of {', '.join(SOURCES)}, not {source!r}.")
    found = tuple(g if isinstance(g, Gpu) else find_gpu(g) for g in gpus)
    if source != "debian":
        return _resolve(found, os_id, os_version, arch, request, policy, kernel_flavour, nvswitches)
    narrowed = debian.narrow(found, os_id, str(os_version), request)
    stack = _resolve(found, os_id, os_version, arch, narrowed, policy, kernel_flavour, nvswitches)
    return debian.finish(stack, str(os_version))


def _resolve(found, os_id, os_version, arch, request, policy, kernel_flavour, nvswitches) -> Stack:
    _check_legacy(found)
    repo, repo_arch = find_repo(os_id, str(os_version)), repo_arch_for(arch)
    req, notes = parse_request(request, policy), Notes()
    limits = limits_for(found)
    _check_flavor(found, limits, req)
    framework = libraries.framework_constraints(req, notes)
    _check_libraries(req, found, repo)
    if not found:
        notes.add("driver", "No NVIDIA GPU found: the driver is skipped.")
        if req.empty():
            notes.add("cuda", "Nothing requested for CUDA, cuDNN or TensorRT: no userspace stack either.")
            return _stack(found, repo, repo_arch, None, None, None, None, None, notes, kernel_flavour)
    branches = _candidate_branches(found, limits, req)
    if _beyond_known_cuda(limits):
        _no_cuda(limits, req, notes)
        driver = _choose_driver(found, limits, branches, None, req, notes, nvswitches)
        return _stack(found, repo, repo_arch, driver, None, None, None, None, notes, kernel_flavour)
    cuda = _choose_cuda(found, limits, branches, repo, req, notes)
    driver = _choose_driver(found, limits, branches, cuda, req, notes, nvswitches) if found else None
    cudnn = libraries.pick("cuDNN", knowledge().cudnn, req.cudnn, cuda, found, repo, notes)
    trt = libraries.pick("TensorRT", knowledge().tensorrt_releases, req.tensorrt, cuda, found, repo, notes)
    framework = libraries.finish_framework(framework, cuda)
    return _stack(found, repo, repo_arch, driver, cuda, cudnn, trt, framework, notes, kernel_flavour)


def _check_legacy(gpus) -> None:
    """Refuse GPUs whose last driver is a legacy series older than every branch gpuhost installs."""
    kn = knowledge()
    oldest = min(b.branch for b in kn.branches)
    for gpu in gpus:
        if gpu.legacy_number is not None and gpu.legacy_number < oldest:
            raise ResolveError(f"{_label(gpu)}: NVIDIA's last driver for it is the legacy {gpu.legacy_branch} series, "
                               f"and no driver in NVIDIA's CUDA repositories supports it (gpuhost installs R{oldest} "
                               f"and newer). Install the {gpu.legacy_branch} legacy driver yourself and leave gpuhost's "
                               "NVIDIA roles out of this host, or give it a newer GPU.")
        if gpu.arch not in kn.architectures:
            raise ResolveError(f"{_label(gpu)}: its chip is not in gpuhost's architecture table, so gpuhost cannot "
                               "tell which driver and CUDA fit it.")


def _label(gpu: Gpu) -> str:
    what = " ".join(filter(None, (gpu.arch, gpu.chip)))
    return f"{gpu.model} (10de:{gpu.pci_ids[0]}{', ' + what if what else ''})"


def _beyond_known_cuda(limits: Limits) -> bool:
    """True when a GPU's last CUDA is older than every CUDA release gpuhost knows (sm_30: 10.2)."""
    last = limits.cuda_max.value
    return last is not None and all(r.minor > last for r in knowledge().cuda_releases)


def _no_cuda(limits: Limits, req: Request, notes: Notes) -> None:
    """A driver-only stack for such a GPU, or the refusal when a CUDA layer was asked for."""
    gpu, last = limits.cuda_max.gpu, limits.cuda_max.value
    first = min(r.version for r in knowledge().cuda_releases)
    why = (f"{gpu.describe()}: CUDA {last} was the last CUDA that builds for {gpu.sm}; "
           f"no CUDA {first.major} or newer runs on it")
    asked = [f"{k} {req.raw[k]}" for k in ("cuda", "cudnn", "tensorrt", "framework") if k in req.raw]
    if asked:
        raise ResolveError(f"{why}, and you asked for {', '.join(asked)}. Leave CUDA, cuDNN and TensorRT out "
                           "(the driver alone still installs), or use a newer GPU.")
    notes.add("cuda", f"{why}: CUDA, cuDNN and TensorRT are left out; the driver alone is installed.")


def find_repo(os_id: str, os_version: str) -> Repo:
    for repo in knowledge().repos:
        if (repo.os_id, repo.os_version) == (os_id.lower(), os_version):
            return repo
    known = ", ".join(f"{r.os_id} {r.os_version}" for r in knowledge().repos)
    raise ResolveError(f"{os_id} {os_version} is not supported: gpuhost resolves stacks for {known}.")


def repo_arch_for(arch: str) -> str:
    arches = knowledge().cuda["arches"]
    if arch not in arches:
        raise ResolveError(f"CPU architecture {arch!r} is not supported: use x86_64 or sbsa (arm64 servers).")
    return arches[arch]


def _check_flavor(gpus, limits: Limits, req: Request) -> None:
    if req.flavor is None or req.flavor in limits.flavors:
        return
    gpu = next(g for f, g in limits.flavor_gpu.items() if req.flavor not in f)
    only = next(iter(limits.flavors))
    cap = limits.branch_max.value
    where = f" (driver branch {cap} or older)" if cap else ""
    raise ResolveError(f"{gpu.describe()}: it takes only the {only} kernel modules; you asked for "
                       f"the {req.flavor} ones. Use flavor {only}{where}.")


def _check_libraries(req: Request, gpus, repo: Repo) -> None:
    kn = knowledge()
    libraries.check_requested("cuDNN", kn.cudnn, req.cudnn, req.raw.get("cudnn", ""), gpus, repo)
    libraries.check_requested("TensorRT", kn.tensorrt_releases, req.tensorrt, req.raw.get("tensorrt", ""), gpus, repo)


def _candidate_branches(gpus, limits: Limits, req: Request) -> list[Branch]:
    """Branches that drive every GPU, match the driver request and can take the chosen flavour."""
    if not gpus:
        return []
    branches = [b for b in knowledge().branches if req.driver is None or Version(str(b.branch)) in req.driver]
    if not branches:
        raise ResolveError(f"No known driver branch matches {req.raw['driver']!r}; known branches: "
                           f"{', '.join(str(b.branch) for b in knowledge().branches)}.")
    first_open = knowledge().drivers["open_modules"]["first_branch"]
    fit = [b for b in branches if limits.branch_ok(b.branch) and limits.cuda_min.value <= b.max_cuda
           and ("open" in limits.flavors and b.branch >= first_open or "proprietary" in limits.flavors)
           and (req.flavor != "open" or b.branch >= first_open)]
    if not fit:
        raise ResolveError(_branch_conflict(branches, limits, req))
    return fit


def _branch_conflict(branches, limits: Limits, req: Request) -> str:
    asked = f"you asked for driver {req.raw.get('driver')}"
    top, low = limits.branch_max, limits.branch_min
    if top.value is not None and all(b.branch > top.value for b in branches):
        return f"{top.gpu.describe()}: the last driver branch is {top.value}; {asked}. Use driver {top.value} or a newer GPU."
    if req.flavor == "open":
        return f"Open kernel modules start with branch {knowledge().drivers['open_modules']['first_branch']}; {asked}."
    gpu = limits.cuda_min.gpu or low.gpu
    return f"{gpu.describe()}: it needs driver branch {low.value} or newer (CUDA {limits.cuda_min.value}+); {asked}."


def _cuda_pool(req: Request) -> list[CudaRelease]:
    releases = knowledge().cuda_releases
    if req.cuda is None:
        return [r for r in releases if not r.unverified]
    pool = [r for r in releases if r.version in req.cuda]
    if not pool:
        known = ", ".join(sorted({str(r.minor) for r in releases}, key=Version))
        raise ResolveError(f"No known CUDA release matches {req.raw.get('cuda', str(req.cuda))!r}; known: {known}.")
    return pool


def _admits(branch: Branch, cuda: CudaRelease, req: Request) -> bool:
    exact = req.driver_version
    return branch.max_cuda >= cuda.minor and (exact is None or cuda.driver_branch < branch.branch
                                              or Version(cuda.toolkit_driver) <= Version(exact))


def _choose_cuda(gpus, limits: Limits, branches, repo: Repo, req: Request, notes: Notes) -> CudaRelease:
    """The newest CUDA every constraint allows, preferring one the known cuDNN and TensorRT fit."""
    pool = _cuda_pool(req)
    if req.cuda_minors is not None:
        pool = [r for r in pool if r.minor in req.cuda_minors] or _fail_framework(req)
    pool = _within_gpu_limits(pool, gpus, limits, branches, req)
    pool = _in_repo(pool, repo, notes)
    pool = _fit_pinned_libraries(pool, gpus, repo, req)
    chosen = max(pool, key=lambda r: (_optional_fits(r, gpus, repo, req), r.version))
    _note_cuda(chosen, pool, gpus, repo, req, notes)
    return chosen


def _fail_framework(req: Request):
    raise ResolveError(f"{req.raw['framework']} has no wheel for the CUDA you asked for ({req.raw.get('cuda')}).")


def _within_gpu_limits(pool, gpus, limits: Limits, branches, req: Request) -> list[CudaRelease]:
    if not gpus:
        return pool
    ok = [r for r in pool if limits.cuda_ok(r.minor) and any(_admits(b, r, req) for b in branches)]
    if ok:
        return ok
    raise ResolveError(_cuda_conflict(pool, limits, branches, req))


def _cuda_conflict(pool, limits: Limits, branches, req: Request) -> str:
    oldest = min(r.minor for r in pool)
    asked = f"you asked for CUDA {req.raw['cuda']}" if "cuda" in req.raw else f"gpuhost installs CUDA {oldest} and newer"
    reach = max(b.max_cuda for b in branches)
    last = limits.cuda_max
    if oldest > reach and (last.value is None or reach <= last.value):
        top = max(branches, key=lambda b: b.branch)
        older_cuda = f"cuda {reach} or " if "cuda" in req.raw else ""
        if req.driver is None and limits.branch_max.gpu is not None:
            return (f"{limits.branch_max.gpu.describe()}: the last driver branch is {top.branch}, which supports "
                    f"CUDA up to {reach}; {asked}. Use {older_cuda}a newer GPU.")
        return f"Driver branch {top.branch} supports CUDA up to {reach}; {asked}. Use {older_cuda}a newer driver."
    if last.value is not None and min(r.minor for r in pool) > last.value:
        return (f"{last.gpu.describe()}: CUDA {last.value} is the last CUDA that builds for {last.gpu.arch}; "
                f"{asked}. Use cuda {last.value} or a newer GPU.")
    first = limits.cuda_min
    return f"{first.gpu.describe()}: it needs CUDA {first.value} or newer; {asked}. Use cuda {first.value} or newer."


def _in_repo(pool, repo: Repo, notes: Notes) -> list[CudaRelease]:
    ok = [r for r in pool if repo.carries(r.version)]
    if ok:
        return ok
    span = f"{repo.first_cuda}" + (f" to {repo.last_cuda}" if repo.last_cuda else " and newer")
    caveat = " (range not confirmed by NVIDIA's pages)" if repo.unverified else ""
    wanted = ", ".join(sorted({str(r.minor) for r in pool}, key=Version))
    others = [f"{r.os_id} {r.os_version}" for r in knowledge().repos if any(r.carries(c.version) for c in pool)]
    way = f"Use {' or '.join(others)}, whose repository carries it," if others else "Use another OS release"
    raise ResolveError(f"NVIDIA's CUDA repository for {repo.path} carries CUDA {span}{caveat}; the stack needs "
                       f"CUDA {wanted}. {way} or another CUDA.")


def _fit_pinned_libraries(pool, gpus, repo: Repo, req: Request) -> list[CudaRelease]:
    kn = knowledge()
    for name, releases, spec, key in (("cuDNN", kn.cudnn, req.cudnn, "cudnn"),
                                      ("TensorRT", kn.tensorrt_releases, req.tensorrt, "tensorrt")):
        if spec is None:
            continue
        ok = [r for r in pool if libraries.fitting(releases, spec, gpus, repo, r)]
        if not ok:
            raw = req.raw.get(key) or str(spec)
            raise libraries.no_cuda_for(name, releases, spec, raw, pool, gpus, repo)
        pool = ok
    return pool


def _optional_fits(cuda: CudaRelease, gpus, repo: Repo, req: Request) -> int:
    kn = knowledge()
    return sum(bool(libraries.fitting(rel, None, gpus, repo, cuda))
               for rel, spec in ((kn.cudnn, req.cudnn), (kn.tensorrt_releases, req.tensorrt)) if spec is None)


def _note_cuda(chosen: CudaRelease, pool, gpus, repo: Repo, req: Request, notes: Notes) -> None:
    newest = max(pool, key=lambda r: r.version)
    if req.cuda is not None:
        notes.add("cuda", f"CUDA {chosen.version}: newest release matching your request {req.raw.get('cuda', req.cuda)}.")
    elif newest.minor != chosen.minor:
        notes.add("cuda", f"CUDA {chosen.version}: newest CUDA for which the known cuDNN and TensorRT releases have "
                          f"builds (CUDA {newest.minor} would leave one out).")
    else:
        notes.add("cuda", f"CUDA {chosen.version}: newest release the GPUs, driver and {repo.path} allow.")
    if chosen.unverified:
        notes.add("cuda", f"CUDA {chosen.version}: its {', '.join(chosen.unverified)} is not confirmed; verify before use.")


def _choose_driver(gpus, limits: Limits, branches, cuda: CudaRelease | None, req: Request, notes: Notes,
                   nvswitches: int) -> Driver:
    usable = [b for b in branches if (cuda is None or _admits(b, cuda, req)) and (b.releases or req.driver)]
    branch = _by_policy(usable, req, cuda, notes)
    flavor = _choose_flavor(branch, limits, req, notes)
    for gpu in {g.legacy_branch: g for g in gpus if g.legacy_branch}.values():
        notes.add("driver", f"{gpu.model} is on NVIDIA's legacy {gpu.legacy_branch} list: R{gpu.legacy_number} is "
                            "the last branch that drives it.")
    fabric = _fabric_manager(gpus, nvswitches, notes)
    return Driver(branch.branch, flavor, _min_version(branch, cuda, req, notes), fabric)


def _fabric_manager(gpus, nvswitches: int, notes: Notes) -> bool:
    """NVSwitch functions on PCI decide; 8 boards of an NVSwitch baseboard decide where none show
    (HGX B200/B300, whose NVSwitches are not PCI functions, or a resolve from names)."""
    boards = sum(g.nvswitch for g in gpus)
    if nvswitches:
        notes.add("driver", f"{nvswitches} NVSwitch{'es' if nvswitches > 1 else ''} (PCI class 0x0680): Fabric Manager "
                            "must run, at the driver's version.")
    elif boards >= FABRIC_MANAGER_GPUS:
        notes.add("driver", f"{boards} boards of NVSwitch baseboards: Fabric Manager must run, at the driver's version.")
    return bool(nvswitches) or boards >= FABRIC_MANAGER_GPUS


def _by_policy(usable: list[Branch], req: Request, cuda: CudaRelease | None, notes: Notes) -> Branch:
    as_of = knowledge().tables["drivers"].as_of
    live = [b for b in usable if not b.ended(as_of)]
    asked = f" matching your request {req.raw['driver']}" if req.driver else ""
    runs = f" and runs CUDA {cuda.minor}" if cuda else ""
    if req.driver and not live:
        chosen = max(usable, key=lambda b: b.branch)
        notes.add("driver", f"R{chosen.branch}: you asked for it; its support has ended (end of life).")
        return chosen
    if not live:
        chosen = max(usable, key=lambda b: b.branch)
        notes.add("driver", f"R{chosen.branch}: every branch{asked} that drives these GPUs{runs} "
                            f"has reached end of life; R{chosen.branch} is the newest of them.")
        return chosen
    wanted = POLICY_TYPES.get(req.policy)
    pool = [b for b in live if wanted is None or b.known_type in wanted] or live
    chosen = max(pool, key=lambda b: b.branch)
    kind = chosen.known_type or "unclassified"
    notes.add("driver", f"R{chosen.branch} ({kind} branch): policy {req.policy} picks the newest supported branch"
                        f"{asked} that drives these GPUs{runs}.")
    return chosen


def _choose_flavor(branch: Branch, limits: Limits, req: Request, notes: Notes) -> str:
    open_info = knowledge().drivers["open_modules"]
    allowed = set(limits.flavors) if branch.branch >= open_info["first_branch"] else {"proprietary"} & limits.flavors
    if req.flavor:
        notes.add("driver", f"{req.flavor} kernel modules: you asked for them.")
        return req.flavor
    if len(allowed) == 1:
        only = next(iter(allowed))
        gpu = limits.flavor_gpu.get(frozenset(allowed))
        who = f"{gpu.describe()} and takes" if gpu else f"R{branch.branch} offers"
        notes.add("driver", f"{only} kernel modules: {who} only those.")
        return only
    flavor = "open" if branch.branch >= open_info["default_from"] else "proprietary"
    notes.add("driver", f"{flavor} kernel modules: NVIDIA's default for R{branch.branch} "
                        f"(open is the default from R{open_info['default_from']}).")
    return flavor


def _min_version(branch: Branch, cuda: CudaRelease | None, req: Request, notes: Notes) -> str | None:
    """The oldest driver version the stack accepts, or None when gpuhost knows no release of the branch."""
    floors = list(branch.releases[:1])
    if cuda is not None and cuda.driver_branch == branch.branch:
        floors.append(cuda.toolkit_driver)
    if req.driver_version is not None:
        floors.append(req.driver_version)
    if not floors:
        notes.add("driver", f"gpuhost knows no release of R{branch.branch}: apt installs the newest the repository "
                            "has (minimum version unknown).")
        return None
    floor = max(floors, key=Version)
    if cuda is not None and floor == cuda.toolkit_driver:
        notes.add("driver", f"At least {floor}: the driver CUDA {cuda.version} was released with.")
    return str(floor)


def _stack(gpus, repo, repo_arch, driver, cuda, cudnn, trt, framework, notes: Notes, kernel_flavour) -> Stack:
    pkgs = _packages(repo, driver, cuda, cudnn, trt, kernel_flavour, notes)
    return Stack(gpus, repo.os_id, repo.os_version, repo.path, repo_arch, driver, cuda, cudnn, trt,
                 framework, pkgs, tuple(notes.items))


def _packages(repo: Repo, driver, cuda, cudnn, trt, kernel_flavour, notes: Notes) -> dict:
    out = {"driver": [], "driver_ubuntu": [], "fabric_manager": [], "cuda": [], "cuda_version": None,
           "cudnn": {}, "tensorrt": {}}
    if driver:
        out["driver"] = packages.driver_packages(driver.branch, driver.flavor, repo.os_id)
        if driver.flavor == "open" and packages.open_meta_unverified(driver.branch, repo.os_id):
            notes.add("driver", f"The open-flavour package names for R{driver.branch} on {repo.os_id} are not confirmed.")
        if repo.os_id == "ubuntu":
            out["driver_ubuntu"] = packages.ubuntu_driver_packages(driver.branch, driver.flavor, kernel_flavour)
        if driver.fabric_manager:
            out["fabric_manager"] = packages.fabric_manager_packages(driver.branch)
    if cuda:
        out["cuda"], out["cuda_version"] = [packages.cuda_package(cuda)], packages.cuda_package_version(cuda)
    if cudnn:
        out["cudnn"] = packages.cudnn_packages(cudnn, cudnn.build_for(cuda.version), cuda)
    if trt:
        out["tensorrt"] = packages.tensorrt_packages(trt, trt.build_for(cuda.version))
        if packages.tensorrt_names_unverified(trt):
            notes.add("tensorrt", f"The TensorRT {trt.version.major} dev package names come from public scripts, not NVIDIA's guide.")
    return out
