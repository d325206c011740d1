"""Debian's own NVIDIA driver (`driver.source: debian`): one branch per Debian release.

Why a module of its own: Debian 12 ships branch 535 alone, so choosing Debian's driver narrows the
whole stack (the GPUs it drives, CUDA up to 12.2), and each way a host or a request cannot fit
must be refused before anything changes, saying what would work instead. What Debian ships is data
(gpuhost/data/debian_driver.yaml, read from Debian's archive).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

from packaging.version import Version

import yaml

from gpuhost.resolver.compat import LOADER, ResolveError, knowledge, read_data
from gpuhost.resolver.limits import limits_for
from gpuhost.resolver.request import parse_request


@dataclass(frozen=True)
class Release:
    """What one Debian release ships: its branch and version, and each package's archive component."""

    os_version: str
    codename: str
    branch: int
    version: str
    max_cuda: Version
    maintainer: str
    packages: dict      # name -> component, installed with every flavour
    persistence: dict   # name -> component, installed with the persistence daemon
    flavors: dict       # flavour -> {module package name: component}
    versions: dict      # name -> the version the archive had on the table's date

    @property
    def label(self) -> str:
        return f"Debian {self.os_version}"

    def names(self, flavor: str) -> list[str]:
        """The packages of a flavour, the module package last."""
        return [*self.packages, *self.flavors[flavor]]

    def component(self, name: str) -> str:
        every = {**self.packages, **self.persistence, **{n: c for f in self.flavors.values() for n, c in f.items()}}
        return every[name]


@cache
def table() -> dict:
    return yaml.load(read_data("debian_driver.yaml"), Loader=LOADER)


@cache
def releases() -> dict[str, Release]:
    return {version: _release(version, row) for version, row in table()["releases"].items()}


def _release(version: str, row: dict) -> Release:
    parts = (row["packages"], row["persistence"], *row["flavors"].values())
    return Release(version, row["codename"], int(row["branch"]), str(row["version"]), Version(str(row["max_cuda"])),
                   row["maintainer"], {n: p["component"] for n, p in row["packages"].items()},
                   {n: p["component"] for n, p in row["persistence"].items()},
                   {f: {n: p["component"] for n, p in names.items()} for f, names in row["flavors"].items()},
                   {n: str(p["version"]) for part in parts for n, p in part.items()})


def release(os_id: str, os_version: str) -> Release:
    """Debian's release of this OS, or the refusal: only Debian ships Debian's driver."""
    if os_id != "debian":
        raise ResolveError(f"driver.source=debian installs Debian's own driver packages, and this host runs "
                           f"{os_id.title() or 'an unknown OS'} {os_version}: use driver.source=nvidia (NVIDIA's CUDA "
                           "repository) or, on Ubuntu, driver.source=ubuntu.")
    known = releases()
    if os_version not in known:
        raise ResolveError(f"gpuhost knows Debian's own NVIDIA driver for Debian {', '.join(sorted(known))}, not "
                           f"Debian {os_version}: use driver.source=nvidia.")
    return known[os_version]


def narrow(gpus, os_id: str, os_version: str, request: dict | None) -> dict:
    """The request with the driver set to Debian's branch, once the OS, the GPUs and the request
    are known to fit it."""
    rel = release(os_id, os_version)
    request = dict(request or {})
    if not gpus:
        return request  # no driver to install: nothing narrows
    req = parse_request(request, "production")
    if req.driver is not None and Version(str(rel.branch)) not in req.driver:
        raise ResolveError(f"{rel.label} ships NVIDIA driver branch {rel.branch} alone, and stack.driver asks for "
                           f"{req.raw['driver']}: leave stack.driver unset, or use driver.source=nvidia.")
    if req.cuda is not None and not any(r.version in req.cuda and r.minor <= rel.max_cuda
                                        for r in knowledge().cuda_releases):
        raise ResolveError(f"{rel.label}'s own driver (branch {rel.branch}) runs CUDA up to {rel.max_cuda}, and "
                           f"stack.cuda asks for {req.raw['cuda']}: ask for CUDA {rel.max_cuda} or older, or use "
                           "driver.source=nvidia for a newer branch.")
    _check_gpus(gpus, rel)
    return {**request, "driver": request.get("driver") or str(rel.branch)}


def _check_gpus(gpus, rel: Release) -> None:
    limits = limits_for(tuple(gpus))
    if limits.branch_ok(rel.branch):
        return
    top, low = limits.branch_max, limits.branch_min
    if top.value is not None and top.value < rel.branch:
        gpu, why = top.gpu, f"whose last driver branch is {top.value}"
    else:
        gpu, why = low.gpu, f"which needs branch {low.value} or newer"
    raise ResolveError(f"{rel.label}'s own driver is branch {rel.branch}, which does not drive the {gpu.model} "
                       f"({gpu.arch}, {gpu.sm}), {why}: use driver.source=nvidia, or leave the driver role out.")


def finish(stack, os_version: str):
    """The resolved stack with Debian's packages and the reasons for them; an HGX machine is refused,
    since Debian packages no Fabric Manager for its NVSwitches."""
    rel = releases()[os_version]
    if stack.driver is None:
        return dataclasses.replace(stack, packages={**stack.packages, "driver_debian": []})
    if stack.driver.fabric_manager:
        raise ResolveError(f"This host's NVSwitches need NVIDIA Fabric Manager, which {rel.label} does not package: "
                           "use driver.source=nvidia.")
    flavor = stack.driver.flavor
    as_of = table()["as_of"]
    # The branch came from Debian, not from the user, and NVIDIA's package names are not installed.
    kept = tuple(r for r in stack.reasons if not r[1].startswith((f"R{rel.branch}: you asked for it",
                                                                   "The open-flavour package names")))
    reasons = [("driver", f"{rel.label}'s own driver: branch {rel.branch} ({rel.version} in Debian's archive on "
                          f"{as_of}), which runs CUDA up to {rel.max_cuda}{_ended(rel.branch)}.")]
    (module,) = rel.flavors[flavor]
    if rel.versions[module].split("-")[0] != rel.version:
        reasons.append(("driver", f"{module} was {rel.versions[module]} in Debian's archive on {as_of}, beside driver "
                                  f"{rel.version}, whose packages its exact-version Depends do not accept."))
    return dataclasses.replace(stack, packages={**stack.packages, "driver_debian": rel.names(flavor)},
                               reasons=kept + tuple(reasons))


def _ended(branch: int) -> str:
    row = next(b for b in knowledge().branches if b.branch == branch)
    as_of = knowledge().tables["drivers"].as_of
    return f"; NVIDIA's own support for R{branch} ended ({row.eol})" if row.ended(as_of) else ""
