"""GPU lookup: forgiving names and PCI ids map to the right board, architecture and CC."""
import pytest

from gpuhost.resolver.compat import ResolveError, find_gpu, knowledge

# (text, model, arch, compute capability) -- pci ids from pci.ids (10de), CC from cuda-gpus.
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
    with pytest.raises(ResolveError, match="Unknown NVIDIA PCI device '10de:ffff'"):
        find_gpu("10de:ffff")


def test_every_gpu_has_a_known_architecture_and_unique_pci_ids():
    kn = knowledge()
    ids = [pci for gpu in kn.gpus for pci in gpu.pci_ids]
    assert len(ids) == len(set(ids))
    assert all(gpu.arch in kn.architectures for gpu in kn.gpus)


def test_every_table_names_sources_and_date():
    for table in knowledge().tables.values():
        assert table.sources and table.as_of[:2] == "20", table.name
