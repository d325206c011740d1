"""Every NVIDIA GPU by PCI device id or by name, from three tables of gpuhost/data.

- gpus_driver.yaml, generated (`invoke data.gpus`) from NVIDIA's supported-gpus.json and pci.ids:
  each device id the packaged driver knows, with its name, chip, open-module support and legacy
  branch;
- gpus_newer.yaml, hand-kept rows with their sources, for GPUs newer than that driver;
- gpus.yaml, boards gpuhost knows more about (family and cloud names, NVSwitch baseboards,
  GH200's open-only modules), laid over the row with the same id.

Architecture and compute capability follow from the chip (architectures.yaml). A row becomes a
`Gpu` only when it is looked up: a run asks for a handful of the twelve hundred.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from functools import cache

import yaml

from gpuhost.resolver.compat import LOADER, Gpu, ResolveError, knowledge, read_data

DRIVER_TABLE, NEWER_TABLE = "gpus_driver.yaml", "gpus_newer.yaml"
PCI = re.compile(r"^(?:0x|10de:)?([0-9a-f]{4})$")
NOISE = ("nvidia", "tesla", "geforce")
UNVERIFIED_AS = {"first_cuda": "min_cuda", "last_cuda": "last_cuda"}


@dataclass(frozen=True)
class Row:
    """What NVIDIA's list (or a hand-kept row) says of one device id."""

    name: str
    chip: str | None
    kernelopen: bool | None
    legacy: str | None


@dataclass(frozen=True)
class GpuTable:
    rows: dict
    nvswitches: dict
    driver: str
    newer_as_of: str


@cache
def table() -> GpuTable:
    generated = json.loads(read_data(DRIVER_TABLE))
    newer = yaml.load(read_data(NEWER_TABLE), Loader=LOADER)
    rows = {devid: Row(*values) for devid, values in generated["gpus"].items()}
    for row in newer["gpus"]:
        rows.setdefault(row["id"], Row(row["name"], row.get("chip"), row.get("kernelopen"), None))
    driver = generated["sources"]["supported-gpus.json"]["version"]
    return GpuTable(rows, generated["nvswitches"], driver, str(newer["as_of"]))


@cache
def curated() -> dict:
    return {pci: gpu for gpu in knowledge().gpus for pci in gpu.pci_ids}


@cache
def by_pci(devid: str) -> Gpu | None:
    """The GPU with this device id (four lowercase hex digits), or None."""
    row, board = table().rows.get(devid), curated().get(devid)
    if row is None:
        return board
    cc = knowledge().chip_cc(row.chip)
    flavors = ("proprietary",) if row.kernelopen is False else None
    facts = {"chip": row.chip, "legacy_branch": row.legacy,
             "min_cuda": cc.first_cuda if cc else None, "last_cuda": cc.last_cuda if cc else None}
    unverified = tuple(UNVERIFIED_AS[f] for f in (cc.unverified if cc else ()))
    if board is not None:
        return replace(board, flavors=board.flavors or flavors, unverified=board.unverified + unverified, **facts)
    return Gpu(row.name, row.name, cc.arch if cc else None, cc.cc if cc else None, (devid,), flavors=flavors,
               unverified=unverified, **facts)


def nvswitch(text: str) -> str | None:
    """pci.ids' name when `text` is the PCI id of an NVSwitch ("10de:22a3" → "GH100 [H100 NVSwitch]")."""
    match = PCI.match(str(text).strip().lower())
    return table().nvswitches.get(match.group(1)) if match else None


def _key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", text.lower())
    stripped = True
    while stripped:
        stripped = False
        for word in NOISE:
            if key.startswith(word) and len(key) > len(word):
                key, stripped = key[len(word):], True
    return key


@cache
def names() -> dict:
    """Normalised name → device ids. gpus.yaml's names come first and mean one board each
    ("A100" is the family's first board); NVIDIA's names may mean several device ids."""
    index = {}
    for gpu in knowledge().gpus:
        for name in (gpu.model, gpu.family, *gpu.aliases):
            index.setdefault(_key(name), [gpu.pci_ids[0]])
    taken = set(index)
    for devid, row in table().rows.items():
        for name in row.name.split(" / "):
            if name != "…" and _key(name) not in taken:
                ids = index.setdefault(_key(name), [])
                if devid not in ids:
                    ids.append(devid)
    return index


def find_gpu(text: str) -> Gpu:
    """A GPU from a PCI id ("10de:1eb8", "0x1EB8", "1eb8") or a forgiving name ("T4", "Tesla T4",
    "nvidia-tesla-t4", "Quadro RTX 3000"). A family name gives the family's first board; a name
    NVIDIA gives to boards of different chips is refused with their PCI ids."""
    lowered = str(text).strip().lower()
    pci = PCI.match(lowered)
    if pci and by_pci(pci.group(1)) is not None:
        return by_pci(pci.group(1))
    if pci and nvswitch(lowered):
        raise ResolveError(f"10de:{pci.group(1)} is an NVSwitch ({nvswitch(lowered)}), not a GPU: it counts for "
                           "Fabric Manager, not as a GPU.")
    ids = names().get(_key(lowered)) if not lowered.startswith(("10de:", "0x")) else None
    if ids:
        return _one(str(text), ids)
    raise ResolveError(_unknown(str(text), bool(pci)))


def _one(text: str, ids: list) -> Gpu:
    gpus = [by_pci(devid) for devid in ids]
    answers = {(g.arch, g.compute_capability, g.legacy_branch, g.flavors) for g in gpus}
    if len(answers) == 1:
        return gpus[0]
    boards = "; ".join(f"10de:{d} {g.describe()}" for d, g in zip(ids, gpus))
    raise ResolveError(f"{text!r} names boards with different chips ({boards}): give the PCI id instead "
                       "(lspci -nn -d 10de: shows it).")


def _unknown(text: str, looks_pci: bool) -> str:
    where = (f"NVIDIA's list of the GPUs driver {table().driver} supports (supported-gpus.json) nor in "
             f"gpuhost's rows for newer GPUs (gpus_newer.yaml, {table().newer_as_of})")
    if looks_pci:
        return (f"Unknown NVIDIA PCI device {text!r}: it is neither in {where}. If it is a GPU newer than both, "
                "add it to gpus_newer.yaml with its source; or name the model instead, e.g. 'L4'.")
    families = sorted({g.family for g in knowledge().gpus})
    close = (difflib.get_close_matches(text, families, n=3, cutoff=0.4)
             or difflib.get_close_matches(text, sorted({r.name for r in table().rows.values()}), n=3, cutoff=0.6))
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f"Unknown GPU {text!r}.{hint} gpuhost knows the names in {where}, and these families: "
            f"{', '.join(families)}.")
