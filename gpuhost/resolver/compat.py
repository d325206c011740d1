"""The knowledge tables of gpuhost/data as small frozen dataclasses.

Why: the resolver should reason about typed facts (versions, specifiers), not YAML dicts, and
every table must keep its sources and date so a decision can say what it rests on. Rows may
name `unverified` fields: facts no NVIDIA page confirmed, which the resolver treats
conservatively.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from gpuhost.errors import ResolveError

TABLES = ("gpus", "architectures", "drivers", "cuda", "cudnn", "tensorrt", "frameworks")


def minor(version: Version) -> Version:
    """MAJOR.MINOR of a version: CUDA support is stated per minor release."""
    return Version(f"{version.major}.{version.minor}")


def _v(text) -> Version | None:
    return None if text is None else Version(str(text))


@dataclass(frozen=True)
class Table:
    name: str
    as_of: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Architecture:
    name: str
    oldest_branch: int
    newest_branch: int | None
    first_cuda: Version
    last_cuda: Version | None
    flavors: tuple[str, ...]


@dataclass(frozen=True)
class Gpu:
    model: str
    family: str
    arch: str
    compute_capability: str
    pci_ids: tuple[str, ...]
    nvswitch: bool = False
    flavors: tuple[str, ...] | None = None
    min_cuda: Version | None = None
    aliases: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The model name (what lspci-like output and reports call it)."""
        return self.model

    @property
    def sm(self) -> str:
        return "sm_" + self.compute_capability.replace(".", "")

    def describe(self) -> str:
        return f"{self.model} is {self.arch} ({self.sm})"


@dataclass(frozen=True)
class Branch:
    branch: int
    max_cuda: Version
    type: str | None
    eol: str
    releases: tuple[str, ...]
    unverified: tuple[str, ...] = ()

    def ended(self, as_of: str) -> bool:
        """True when support ended before the table's date (months compare as text)."""
        return self.eol == "ended" or self.eol < as_of[:7]

    @property
    def known_type(self) -> str | None:
        return None if "type" in self.unverified else self.type


@dataclass(frozen=True)
class CudaRelease:
    version: Version
    toolkit_driver: str
    unverified: tuple[str, ...] = ()

    @property
    def minor(self) -> Version:
        return minor(self.version)

    @property
    def driver_branch(self) -> int:
        return Version(self.toolkit_driver).major


@dataclass(frozen=True)
class Repo:
    os_id: str
    os_version: str
    path: str
    first_cuda: Version
    last_cuda: Version | None
    unverified: tuple[str, ...] = ()

    def carries(self, cuda: Version) -> bool:
        return self.first_cuda <= minor(cuda) and (self.last_cuda is None or minor(cuda) <= self.last_cuda)


@dataclass(frozen=True)
class Build:
    cuda: SpecifierSet
    text: str
    tag: str | None = None


@dataclass(frozen=True)
class LibRelease:
    """One cuDNN or TensorRT release: its builds per CUDA range and the architectures it runs on."""

    version: Version
    builds: tuple[Build, ...]
    archs: tuple[str, ...]
    repos_dropped: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()

    def build_for(self, cuda: Version) -> Build | None:
        return next((b for b in self.builds if cuda in b.cuda), None)

    def cuda_ranges(self) -> str:
        return " or ".join(b.text for b in self.builds)


@dataclass(frozen=True)
class Knowledge:
    tables: dict
    gpus: tuple[Gpu, ...]
    architectures: dict
    drivers: dict
    branches: tuple[Branch, ...]
    cuda: dict
    cuda_releases: tuple[CudaRelease, ...]
    repos: tuple[Repo, ...]
    cudnn: tuple[LibRelease, ...]
    tensorrt: dict
    tensorrt_releases: tuple[LibRelease, ...]
    frameworks: dict

    def arch(self, gpu: Gpu) -> Architecture:
        return self.architectures[gpu.arch]


def _read(name: str) -> dict:
    text = resources.files("gpuhost.data").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _gpu(row: dict) -> Gpu:
    return Gpu(row["model"], row["family"], row["arch"], row["cc"], tuple(row["pci_ids"]),
               row.get("nvswitch", False), tuple(row["flavors"]) if "flavors" in row else None,
               _v(row.get("min_cuda")), tuple(row.get("aliases", ())), tuple(row.get("unverified", ())))


def _arch(row: dict) -> Architecture:
    return Architecture(row["name"], row["oldest_branch"], row["newest_branch"], _v(row["first_cuda"]),
                        _v(row["last_cuda"]), tuple(row["flavors"]))


def _branch(row: dict) -> Branch:
    return Branch(row["branch"], _v(row["max_cuda"]), row["type"], str(row["eol"]),
                  tuple(str(r) for r in row.get("releases", ())), tuple(row.get("unverified", ())))


def _lib(row: dict) -> LibRelease:
    builds = tuple(Build(SpecifierSet(b["cuda"]), b["cuda"], b.get("tag")) for b in row["builds"])
    return LibRelease(Version(row["version"]), builds, tuple(row["archs"]),
                      tuple(row.get("repos_dropped", ())), tuple(row.get("unverified", ())))


def _repo(row: dict) -> Repo:
    return Repo(row["os_id"], str(row["os_version"]), row["path"], _v(row["first_cuda"]),
                _v(row["last_cuda"]), tuple(row.get("unverified", ())))


@cache
def knowledge() -> Knowledge:
    """Load every table once; the data ships inside the package."""
    raw = {name: _read(name) for name in TABLES}
    tables = {n: Table(n, str(r["as_of"]), tuple(r["sources"])) for n, r in raw.items()}
    cuda = raw["cuda"]
    return Knowledge(
        tables=tables,
        gpus=tuple(_gpu(r) for r in raw["gpus"]["gpus"]),
        architectures={a.name: a for a in map(_arch, raw["architectures"]["architectures"])},
        drivers=raw["drivers"],
        branches=tuple(_branch(r) for r in raw["drivers"]["branches"]),
        cuda=cuda,
        cuda_releases=tuple(CudaRelease(Version(r["version"]), str(r["toolkit_driver"]),
                                        tuple(r.get("unverified", ()))) for r in cuda["releases"]),
        repos=tuple(_repo(r) for r in cuda["repos"]),
        cudnn=tuple(_lib(r) for r in raw["cudnn"]["releases"]),
        tensorrt=raw["tensorrt"],
        tensorrt_releases=tuple(_lib(r) for r in raw["tensorrt"]["releases"]),
        frameworks=raw["frameworks"],
    )


_PCI = re.compile(r"^(?:0x)?(?:10de:)?([0-9a-f]{4})$")
_NOISE = ("nvidia", "tesla", "geforce")


def _key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", text.lower())
    stripped = True
    while stripped:
        stripped = False
        for word in _NOISE:
            if key.startswith(word) and len(key) > len(word):
                key, stripped = key[len(word):], True
    return key


@cache
def _index() -> tuple[dict, dict]:
    by_pci, by_name = {}, {}
    for gpu in knowledge().gpus:
        for pci in gpu.pci_ids:
            by_pci[pci] = gpu
        for name in (gpu.model, gpu.family, *gpu.aliases):
            by_name.setdefault(_key(name), gpu)
    return by_pci, by_name


def find_gpu(text: str) -> Gpu:
    """A GPU from a forgiving name or PCI id: "T4", "Tesla T4", "nvidia-tesla-t4", "10de:1eb8", "1eb8".

    A family name ("A100") gives the family's first board; every board of a family shares
    architecture and compute capability.
    """
    by_pci, by_name = _index()
    lowered = str(text).strip().lower()
    pci = _PCI.match(lowered)
    if pci and pci.group(1) in by_pci:
        return by_pci[pci.group(1)]
    if _key(lowered) in by_name:
        return by_name[_key(lowered)]
    raise ResolveError(_unknown_gpu_message(str(text), lowered.startswith("10de:")))


def _unknown_gpu_message(text: str, looks_pci: bool) -> str:
    if looks_pci:
        return (f"Unknown NVIDIA PCI device {text!r}: it is not in gpuhost's GPU table "
                f"(pci.ids snapshot {knowledge().tables['gpus'].as_of}). Name the model instead, e.g. 'L4'.")
    names = sorted({g.family for g in knowledge().gpus} | {g.model for g in knowledge().gpus})
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"Unknown GPU {text!r}.{hint} Known models: {', '.join(sorted({g.family for g in knowledge().gpus}))}."
