"""GPU lookup: forgiving names and PCI ids map to the right board, architecture and CC."""
import json
import re

import pytest
import yaml

from gpuhost.resolver.compat import ResolveError, knowledge, read_data
from gpuhost.resolver import gpus
from gpuhost.resolver.gpus import by_pci, find_gpu

# (text, model, arch, compute capability) -- pci ids from pci.ids (10de), CC from cuda-gpus;
# the last rows are boards only NVIDIA's supported-gpus.json (550.163.01) names.
CASES = [
    ("T4", "Tesla T4", "Turing", "7.5"),
    ("Tesla T4", "Tesla T4", "Turing", "7.5"),
    ("nvidia-tesla-t4", "Tesla T4", "Turing", "7.5"),
    ("10de:1eb8", "Tesla T4", "Turing", "7.5"),
    ("1eb8", "Tesla T4", "Turing", "7.5"),
    ("0x1EB8", "Tesla T4", "Turing", "7.5"),
    ("102d", "Tesla K80", "Kepler", "3.7"),          # GK210GL
    ("15f8", "Tesla P100 PCIe 16GB", "Pascal", "6.0"),
    ("V100", "Tesla V100 SXM2 16GB", "Volta", "7.0"),
    ("20b0", "A100 SXM4 40GB", "Ampere", "8.0"),
    ("20b2", "A100 SXM4 80GB", "Ampere", "8.0"),
    ("20f1", "A100 PCIe 40GB", "Ampere", "8.0"),
    ("A10G", "A10G", "Ampere", "8.6"),
    ("L4", "L4", "Ada", "8.9"),
    ("L40S", "L40S", "Ada", "8.9"),
    ("10de:2330", "H100 SXM5 80GB", "Hopper", "9.0"),
    ("2331", "H100 PCIe 80GB", "Hopper", "9.0"),
    ("H200", "H200 SXM 141GB", "Hopper", "9.0"),
    ("GH200", "GH200 480GB", "Hopper", "9.0"),
    ("B200", "B200", "Blackwell", "10.0"),
    ("GB200", "GB200", "Blackwell", "10.0"),
    ("GeForce RTX 5090", "GeForce RTX 5090", "Blackwell", "12.0"),
    ("2b85", "GeForce RTX 5090", "Blackwell", "12.0"),
    ("RTX 4090", "GeForce RTX 4090", "Ada", "8.9"),
    ("rtx-3090", "GeForce RTX 3090", "Ampere", "8.6"),
    ("Quadro RTX 3000", "Quadro RTX 3000", "Turing", "7.5"),           # 1f36 TU106GLM
    ("10de:1c20", "NVIDIA GeForce GTX 1060", "Pascal", "6.1"),         # the laptop GP106M
    ("Tesla K40m", "Tesla K40m", "Kepler", "3.5"),                     # 1023 GK110BGL
    ("GeForce GTX 680", "GeForce GTX 680", "Kepler", "3.0"),           # 1180 GK104
    ("10de:2689", "NVIDIA GeForce RTX 4070 Ti SUPER", "Ada", "8.9"),   # gpus_newer.yaml, open-module table
]


@pytest.mark.parametrize("text,model,arch,cc", CASES, ids=[c[0] for c in CASES])
def test_lookup_finds_board(text, model, arch, cc):
    gpu = find_gpu(text)
    assert (gpu.model, gpu.arch, gpu.compute_capability) == (model, arch, cc)


# NVSwitch baseboards (8-GPU HGX) need Fabric Manager; PCIe boards never do.
@pytest.mark.parametrize("pci,nvswitch", [("20b0", True), ("20b2", True), ("2330", True), ("2335", True),
                                          ("2901", True), ("20f1", False), ("2331", False), ("1eb8", False)])
def test_nvswitch_flag_marks_sxm_boards(pci, nvswitch):
    assert find_gpu(pci).nvswitch is nvswitch


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ResolveError, match="Did you mean 'H100'"):
        find_gpu("H1000")


def test_unknown_pci_id_says_so():
    with pytest.raises(ResolveError, match="Unknown NVIDIA PCI device '10de:ffff'.*gpus_newer.yaml"):
        find_gpu("10de:ffff")


@pytest.mark.parametrize("pci,name", [("10de:22a3", "GH100 [H100 NVSwitch]"), ("1af1", "GA100 [A100 NVSwitch]")])
def test_an_nvswitch_id_is_not_a_gpu(pci, name):
    with pytest.raises(ResolveError, match=re.escape(f"is an NVSwitch ({name}), not a GPU")):
        find_gpu(pci)


def test_a_name_nvidia_gives_to_different_chips_asks_for_the_pci_id():
    # supported-gpus.json: GeForce GT 730 is 0f02 (GF108), 0fc9 (GK208) and 1287 (GK208B).
    with pytest.raises(ResolveError, match="10de:0f02 GeForce GT 730 is Fermi.*10de:1287.*give the PCI id"):
        find_gpu("GeForce GT 730")


def test_every_gpu_has_a_known_architecture_and_unique_pci_ids():
    kn = knowledge()
    ids = [pci for gpu in kn.gpus for pci in gpu.pci_ids]
    assert len(ids) == len(set(ids))
    assert all(gpu.arch in kn.architectures for gpu in kn.gpus)


def test_every_curated_board_agrees_with_its_chip():
    """gpus.yaml's architecture and compute capability (cuda-gpus pages) against the chip that
    NVIDIA's list or gpus_newer.yaml gives the same PCI id (pci.ids) and architectures.yaml."""
    kn = knowledge()
    for gpu in kn.gpus:
        for pci in gpu.pci_ids:
            row = gpus.table().rows[pci]
            cc = kn.chip_cc(row.chip)
            assert (cc.arch, cc.cc) == (gpu.arch, gpu.compute_capability), (pci, gpu.model, row.chip)


def test_hand_kept_rows_are_newer_than_the_generated_table_and_name_their_source():
    newer = yaml.safe_load(read_data("gpus_newer.yaml"))
    generated = json.loads(read_data("gpus_driver.yaml"))["gpus"]
    assert not {r["id"] for r in newer["gpus"]} & set(generated)
    assert all(r["source"] in newer["sources"] and knowledge().chip_cc(r["chip"]) for r in newer["gpus"])


def test_every_gpu_the_driver_still_supports_has_an_architecture_gpuhost_resolves():
    kn = knowledge()
    current = [d for d, row in gpus.table().rows.items() if row.legacy is None]
    assert current and all(by_pci(d).arch in kn.architectures for d in current)


def test_the_470_legacy_list_is_kepler_and_kepler_is_legacy():
    # NVIDIA: R470 is the last branch for Kepler; the current driver lists no Kepler board.
    kepler = {d for d in gpus.table().rows if by_pci(d).arch == "Kepler"}
    legacy_470 = {d for d, row in gpus.table().rows.items() if row.legacy == "470.xx"}
    assert legacy_470 <= kepler and all(gpus.table().rows[d].legacy in ("470.xx", "367.xx") for d in kepler)


def test_no_pci_id_reads_as_a_gpu_name():
    """A bare four-digit id is tried as a PCI id first: no name may spell one ("a100" is a name)."""
    assert not set(gpus.table().rows) & set(gpus.names())


def test_every_table_names_sources_and_date():
    for table in knowledge().tables.values():
        assert table.sources and table.as_of[:2] == "20", table.name
