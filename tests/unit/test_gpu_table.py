"""The GPU table against NVIDIA's own list: supported-gpus.json entries, drawn at random, read
through the table and answered by the resolver.

gpu_samples/supported-gpus-sample.json holds entries of NVIDIA's file and lines of pci.ids
verbatim, so these tests run offline. Where `invoke data.gpus` left the Debian packages in its
cache, the whole file is compared too, and a fresh random sample goes through the resolver.
Expected answers come from the entries and from NVIDIA's documented limits, never from gpuhost:
- R470 is the last branch for its "470.xx" GPUs (Kepler), and its libcuda runs CUDA up to 11.4
  (CUDA release notes, table 3);
- R580 is the last branch for Maxwell, Pascal and Volta, whose last CUDA is 12.9 (NVIDIA's Unix
  driver deprecation notice; CUDA 13.0 release notes);
- a GPU without "kernelopen" takes only the proprietary modules; with it, the open ones are
  NVIDIA's default from R560 (driver installation guide);
- older legacy series (390.xx, 367.xx, 340.xx ...) are in none of NVIDIA's CUDA repositories.
"""
import gzip
import hashlib
import json
import os
import random
import re
from pathlib import Path

import pytest
from packaging.version import Version

from gpuhost.resolver import ResolveError, gpu_sources, resolve
from gpuhost.resolver.compat import read_data
from gpuhost.resolver.gpus import curated, find_gpu, table
from gpuhost.resolver.limits import gpu_flavors

SAMPLE = json.loads((Path(__file__).parent / "gpu_samples" / "supported-gpus-sample.json").read_text())
HEADER = json.loads(read_data(gpu_sources.DATA_FILE))
# NVIDIA's chip codenames begin with their architecture's letters, as pci.ids writes them.
PREFIX_ARCH = {"GF": "Fermi", "GK": "Kepler", "GM": "Maxwell", "GP": "Pascal", "GV": "Volta", "TU": "Turing",
               "GA": "Ampere", "AD": "Ada", "GH": "Hopper", "GB": "Blackwell"}
PRE_TURING = ("Maxwell", "Pascal", "Volta")


def by_devid(chips):
    out = {}
    for entry in chips:
        out.setdefault(entry["devid"].lower().removeprefix("0x"), []).append(entry)
    return out


SAMPLED = by_devid(SAMPLE["chips"])
PCI_NAMES = {line.strip().split()[0]: line.strip().partition("  ")[2] for line in SAMPLE["pci_ids"]}


def expect_answer(devid, entries, chip_name):
    """Resolve one GPU on Ubuntu 20.04 (its repository carries CUDA 11.0 to 12.9) and check the
    answer against what NVIDIA's entry and documented limits say."""
    legacy, features = entries[0].get("legacybranch"), entries[0]["features"]
    arch = PREFIX_ARCH.get(chip_name[:2])
    if legacy not in (None, "470.xx"):
        with pytest.raises(ResolveError, match=re.escape(f"the legacy {legacy} series")):
            resolve([f"10de:{devid}"], "ubuntu", "20.04")
        return
    d = resolve([f"10de:{devid}"], "ubuntu", "20.04").to_dict()
    if legacy == "470.xx":
        assert (d["driver"]["branch"], d["driver"]["flavor"]) == (470, "proprietary"), devid
        assert d["cuda"] is None or Version(d["cuda"]) <= Version("11.4"), devid
    elif "kernelopen" not in features:
        assert d["driver"]["flavor"] == "proprietary", devid
        if arch in PRE_TURING:
            assert d["driver"]["branch"] <= 580 and Version(d["cuda"]) <= Version("12.9"), devid
    else:
        assert d["driver"]["flavor"] == "open" and d["driver"]["branch"] >= 560, devid


@pytest.mark.parametrize("devid", sorted(SAMPLED))
def test_each_sampled_gpu_reads_as_nvidia_lists_it(devid):
    entries, chip_name = SAMPLED[devid], PCI_NAMES[devid]
    gpu = find_gpu(f"10de:{devid}")
    assert gpu.legacy_branch == entries[0].get("legacybranch")
    assert gpu.arch == PREFIX_ARCH.get(chip_name[:2])
    if gpu.arch is not None and gpu.legacy_branch is None:
        assert ("open" in gpu_flavors(gpu)) == ("kernelopen" in entries[0]["features"])
    if devid not in curated():
        generic = [e["name"] for e in entries if "subdevid" not in e]
        assert gpu.name == generic[0] if generic else gpu.name.split(" / ")[0] == entries[0]["name"]


@pytest.mark.parametrize("devid", sorted(SAMPLED))
def test_the_resolver_answers_each_sampled_gpu_as_nvidia_documents(devid):
    expect_answer(devid, SAMPLED[devid], PCI_NAMES[devid])


def test_the_generator_turns_the_sampled_entries_into_the_committed_rows():
    pci_text = "10de  NVIDIA Corporation\n" + "\n".join(SAMPLE["pci_ids"]) + "\n10df  Emulex Corporation\n"
    rows = gpu_sources.rows(SAMPLE["chips"], gpu_sources.pci_names(pci_text))
    assert rows == {devid: HEADER["gpus"][devid] for devid in SAMPLED}


@pytest.mark.parametrize("name,chip", [("GK210GL [Tesla K80]", "GK210"), ("GK110BGL [Tesla K40m]", "GK110"),
                                       ("GB20B [GB10]", "GB20B"), ("GT200b [GeForce GTX 275]", "GT200"),
                                       ("NV44A [GeForce 6200]", "NV44"), ("GP104BM [GeForce GTX 1070 Mobile]", "GP104"),
                                       ("MCP79 [GeForce 9400M]", "MCP79"), ("nForce 220/420 NV1A", None)])
def test_chip_codenames_are_read_as_pci_ids_writes_them(name, chip):
    assert gpu_sources.chip(name) == chip


def test_the_generated_table_names_both_debian_packages_and_nvswitches():
    sources = HEADER["sources"]
    assert (sources["supported-gpus.json"]["package"], sources["pci.ids"]["package"]) == ("nvidia-driver", "pci.ids")
    assert sources["supported-gpus.json"]["version"] and sources["pci.ids"]["pci_ids_version"]
    assert HEADER["entries"] >= len(HEADER["gpus"]) > 1000
    assert HEADER["nvswitches"] == {"1af1": "GA100 [A100 NVSwitch]", "22a3": "GH100 [H100 NVSwitch]"}


# ---- against the whole of NVIDIA's file, where `invoke data.gpus` fetched it ----------------------

def extracted(key, path):
    version = HEADER["sources"][key]["version"]
    package = HEADER["sources"][key]["package"]
    found = gpu_sources.cache_dir() / f"{package}_{version}" / path
    if not found.is_file():
        pytest.skip(f"{found} is not here: `invoke data.gpus` fetches Debian's {package} {version} (needs the network)")
    raw = found.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == HEADER["sources"][key]["sha256"], f"{found} is not the file the table was built from"
    return raw


@pytest.fixture(scope="module")
def nvidia_list():
    return json.loads(gzip.decompress(extracted("supported-gpus.json", gpu_sources.SUPPORTED_GPUS)))["chips"]


def test_the_table_holds_every_entry_of_nvidias_list(nvidia_list):
    listed = by_devid(nvidia_list)
    assert len(nvidia_list) == HEADER["entries"] and set(listed) == set(HEADER["gpus"])
    for devid, entries in listed.items():
        row = table().rows[devid]
        assert row.legacy == entries[0].get("legacybranch"), devid
        assert row.kernelopen == ("kernelopen" in entries[0]["features"]), devid
        named = {e["name"] for e in entries}        # NVIDIA's own names may hold " / " too
        assert row.name in named or set(row.name.split(" / ")) - {"…"} <= named, devid


def test_a_fresh_random_sample_of_nvidias_list_resolves_as_documented(nvidia_list):
    names = gpu_sources.pci_names(extracted("pci.ids", gpu_sources.PCI_IDS).decode("utf-8", "replace"))
    seed = int(os.environ.get("GPU_SAMPLE_SEED") or random.SystemRandom().randrange(10**6))
    listed = by_devid(nvidia_list)
    for devid in random.Random(seed).sample(sorted(listed), 40):
        try:
            expect_answer(devid, listed[devid], names.get(devid, ""))
        except AssertionError as error:
            raise AssertionError(f"device {devid}, GPU_SAMPLE_SEED={seed}: {error}") from error


def test_regenerating_from_the_same_packages_gives_the_committed_file(nvidia_list):
    pci_text = extracted("pci.ids", gpu_sources.PCI_IDS).decode("utf-8", "replace")
    assert gpu_sources.render(nvidia_list, pci_text, HEADER["sources"]) == read_data(gpu_sources.DATA_FILE)
