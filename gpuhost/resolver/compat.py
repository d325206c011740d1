"""The knowledge tables of gpuhost/data as small frozen dataclasses.

Why: the resolver should reason about typed facts (versions, specifiers), not YAML dicts, and
every table must keep its sources and date so a decision can say what it rests on. Rows may
name `unverified` fields: facts no NVIDIA page confirmed, which the resolver treats
conservatively.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from gpuhost.errors import ResolveError  # noqa: F401 (the resolver's modules import it from here)

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
class ComputeCapability:
    """One SM version: its architecture, the chips that have it, and its own CUDA range if narrower."""

    cc: str
    arch: str
    chips: tuple[str, ...]
    first_cuda: Version | None = None
    last_cuda: Version | None = None
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gpu:
    """A GPU model. arch and compute_capability are None only for chips older than Fermi;
    legacy_branch names NVIDIA's legacy driver series ("470.xx") when the current driver dropped it."""

    model: str
    family: str
    arch: str | None
    compute_capability: str | None
    pci_ids: tuple[str, ...]
    nvswitch: bool = False
    flavors: tuple[str, ...] | None = None
    min_cuda: Version | None = None
    aliases: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    chip: str | None = None
    legacy_branch: str | None = None
    last_cuda: Version | None = None

    @property
    def name(self) -> str:
        """The model name (what lspci-like output and reports call it)."""
        return self.model

    @property
    def sm(self) -> str:
        return "sm_" + (self.compute_capability or "?").replace(".", "")

    @property
    def legacy_number(self) -> int | None:
        """The legacy series as a branch number: "470.xx" → 470, "96.43.xx" → 96."""
        return int(self.legacy_branch.split(".")[0]) if self.legacy_branch else None

    def describe(self) -> str:
        if self.arch is None:
            return f"{self.model} ({self.chip or 'chip unknown'})"
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
    compute: dict

    def arch(self, gpu: Gpu) -> Architecture:
        return self.architectures[gpu.arch]

    def chip_cc(self, chip: str | None) -> ComputeCapability | None:
        return next((c for c in self.compute.values() if chip in c.chips), None)


# libyaml's loader reads the tables in a seventh of the time of the pure-Python one.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_data(name: str) -> str:
    return resources.files("gpuhost.data").joinpath(name).read_text(encoding="utf-8")


def _read(name: str) -> dict:
    return yaml.load(read_data(f"{name}.yaml"), Loader=LOADER)


def _gpu(row: dict) -> Gpu:
    return Gpu(row["model"], row["family"], row["arch"], row["cc"], tuple(row["pci_ids"]),
               row.get("nvswitch", False), tuple(row["flavors"]) if "flavors" in row else None,
               aliases=tuple(row.get("aliases", ())), unverified=tuple(row.get("unverified", ())))


def _cc(row: dict) -> ComputeCapability:
    return ComputeCapability(row["cc"], row["arch"], tuple(row["chips"]), _v(row.get("first_cuda")),
                             _v(row.get("last_cuda")), tuple(row.get("unverified", ())))


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
        compute={c.cc: c for c in map(_cc, raw["architectures"]["compute_capabilities"])},
    )

