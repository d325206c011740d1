"""Choosing cuDNN, TensorRT and a framework build that fit a CUDA release and the GPUs.

Why: these are optional layers; when the user pins one it constrains CUDA, when not the
resolver takes the newest known release that fits what was chosen below it.
"""
from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from gpuhost.resolver.compat import CudaRelease, LibRelease, Repo, ResolveError, knowledge, minor


def fitting(releases, spec: SpecifierSet | None, gpus, repo: Repo, cuda: CudaRelease | None = None) -> list[LibRelease]:
    """Releases matching the request, every GPU's architecture, the repo and (if given) the CUDA."""
    return [r for r in releases
            if (spec is None or r.version in spec)
            and all(g.arch in r.archs for g in gpus)
            and repo.path not in r.repos_dropped
            and (cuda is None or r.build_for(cuda.version) is not None)]


def check_requested(name: str, releases, spec: SpecifierSet | None, raw: str, gpus, repo: Repo) -> None:
    """Fail early, naming the fact, when a pinned library cannot run here at all."""
    if spec is None:
        return
    raw = raw or str(spec)          # a framework's constraint has no words of the user's
    matching = [r for r in releases if r.version in spec]
    if not matching:
        known = ", ".join(str(r.version) for r in releases)
        raise ResolveError(f"No known {name} release matches {raw!r}; known releases: {known}.")
    for gpu in gpus:
        if not any(gpu.arch in r.archs for r in matching):
            ok = [str(r.version) for r in releases if gpu.arch in r.archs]
            alt = f"Use {name} {' or '.join(ok)}" if ok else f"No known {name} release supports {gpu.arch}; use a newer GPU"
            raise ResolveError(f"{gpu.describe()}: {name} {raw} does not support {gpu.arch}. {alt}.")
    if not fitting(matching, None, gpus, repo):
        raise ResolveError(f"{name} {raw} is not built for {repo.path}.")


def no_cuda_for(name: str, releases, spec, raw: str, cudas: list[CudaRelease], gpus, repo) -> ResolveError:
    """The error when a pinned library has no build for any CUDA left; offers what would fit."""
    matching = [r for r in releases if r.version in spec]
    ranges = "; ".join(f"{r.version} for CUDA {r.cuda_ranges()}" for r in matching)
    left = ", ".join(sorted({str(c.minor) for c in cudas}, key=Version)) or "none"
    fits = {str(r.version) for c in cudas for r in fitting(releases, None, gpus, repo, c)}
    alt = f" {name} {', '.join(sorted(fits, key=Version))} would fit." if fits else ""
    return ResolveError(f"{name} {raw} is built as {ranges}; the CUDA versions possible here are {left}.{alt}")


def pick(name: str, releases, spec, cuda: CudaRelease, gpus, repo, notes) -> LibRelease | None:
    """The newest release that fits; None (and a reason) when nothing was pinned and none fits."""
    found = fitting(releases, spec, gpus, repo, cuda)
    if not found:
        notes.add(name.lower(), f"No known {name} release fits CUDA {cuda.minor} on these GPUs: {name} is left out.")
        return None
    chosen = max(found, key=lambda r: (not r.unverified, r.version))
    why = "newest confirmed release matching your request" if spec is not None else f"newest confirmed {name} for CUDA {cuda.minor}"
    notes.add(name.lower(), f"{name} {chosen.version}: {why}; its build for CUDA {chosen.build_for(cuda.version).text} is used.")
    if chosen.unverified:
        notes.add(name.lower(), f"{name} {chosen.version}: its {', '.join(chosen.unverified)} are not confirmed by NVIDIA's "
                                f"support matrix; gpuhost uses the narrower reading.")
    return chosen


def framework_constraints(request, notes) -> dict | None:
    """Turn a framework request into CUDA (and cuDNN) constraints on the request."""
    if request.framework is None:
        return None
    name, spec = request.framework
    table = knowledge().frameworks[name]
    rows = [r for r in table if spec is None or Version(r["version"]) in spec]
    if not rows:
        known = ", ".join(r["version"] for r in table)
        raise ResolveError(f"No known {name} build matches {request.raw['framework']!r}; known: {known}.")
    row = max(rows, key=lambda r: Version(r["version"]))
    return _tensorflow(row, request, notes) if name == "tensorflow" else _torch(row, request, notes)


def _tensorflow(row: dict, request, notes) -> dict:
    cuda, cudnn = Version(row["cuda"]), Version(row["cudnn"])
    request.cuda = (request.cuda or SpecifierSet()) & SpecifierSet(f"=={cuda}.*")
    request.cudnn = (request.cudnn or SpecifierSet()) & SpecifierSet(f">={cudnn},<{cudnn.major + 1}")
    notes.add("framework", f"TensorFlow {row['version']} was tested with CUDA {cuda} and cuDNN {cudnn} "
                           f"(cuDNN stays ABI-compatible within its major).")
    return {"name": "tensorflow", "version": row["version"], "cuda": str(cuda), "cudnn": str(cudnn)}


def _torch(row: dict, request, notes) -> dict:
    request.cuda_minors = frozenset(Version(c) for c in row["cuda"])
    notes.add("framework", f"PyTorch {row['version']} wheels exist for CUDA {', '.join(row['cuda'])}; "
                           f"the host toolkit follows the chosen variant (wheels bundle their own runtime).")
    return {"name": "torch", "version": row["version"], "cuda": None, "index_url": None}


def finish_framework(framework: dict | None, cuda: CudaRelease) -> dict | None:
    """Fill in what depends on the chosen CUDA (the PyTorch wheel index)."""
    if framework is None or framework["name"] != "torch":
        return framework
    nodot = f"{cuda.version.major}{cuda.version.minor}"
    url = knowledge().frameworks["torch_index_url"].format(cuda_nodot=nodot)
    return {**framework, "cuda": str(minor(cuda.version)), "index_url": url}
