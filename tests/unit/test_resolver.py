"""Resolver: each case names the fact it rests on."""
import pytest

from gpuhost.resolver import ResolveError, resolve


def _d(gpus, os_=("ubuntu", "22.04"), request=None, policy="production", arch="x86_64"):
    return resolve(gpus, os_[0], os_[1], arch, request or {}, policy).to_dict()


ARCH_CASES = [
    # (id: fact, gpus, os, request, expected branch, flavor, cuda)
    # CUDA 13.0 is the newest CUDA for which cuDNN 9.17 (13.0-13.1) and TensorRT 10.13.2 (13.0) both have a build.
    ("kepler-last-branch-470-cuda-11.4", ["K80"], ("ubuntu", "20.04"), {}, 470, "proprietary", "11.4"),
    ("maxwell-last-branch-580-last-cuda-12.9", ["M60"], ("ubuntu", "22.04"), {}, 580, "proprietary", "12.9"),
    ("pascal-proprietary-only-580", ["P100"], ("ubuntu", "22.04"), {}, 580, "proprietary", "12.9"),
    ("volta-proprietary-only-580", ["V100"], ("ubuntu", "24.04"), {}, 580, "proprietary", "12.9"),
    ("turing-open-default-from-560", ["T4"], ("ubuntu", "22.04"), {}, 595, "open", "13.0"),
    ("ampere-pb-595", ["A100"], ("ubuntu", "22.04"), {}, 595, "open", "13.0"),
    ("ada", ["L4"], ("debian", "12"), {}, 595, "open", "13.0"),
    ("hopper-lts-580", ["H100"], ("ubuntu", "22.04"), {}, 580, "open", "13.0"),
    ("blackwell-open-only", ["RTX 5090"], ("ubuntu", "24.04"), {}, 595, "open", "13.0"),
    # TensorRT 10.13.2 dropped Ubuntu 20.04, whose repository stops at CUDA 12.9: 12.8 keeps TensorRT 10.8.
    ("turing-on-ubuntu-20.04", ["T4"], ("ubuntu", "20.04"), {}, 595, "open", "12.8"),
]


@pytest.mark.parametrize("case,gpus,os_,request_,branch,flavor,cuda", ARCH_CASES, ids=[c[0] for c in ARCH_CASES])
def test_each_architecture_gets_its_stack(case, gpus, os_, request_, branch, flavor, cuda):
    policy = "lts" if "lts" in case else "production"
    d = _d(gpus, os_, request_, policy)
    assert (d["driver"]["branch"], d["driver"]["flavor"], d["cuda"]) == (branch, flavor, cuda)


def test_t4_default_stack_is_complete_and_pinned():
    d = _d(["T4"])
    assert d["cudnn"] == "9.17.0.29" and d["tensorrt"] == "10.13.2.6"   # newest confirmed builds for CUDA 13.0
    assert d["packages"]["cuda"] == ["cuda-toolkit-13-0"] and d["packages"]["cuda_version"] == "13.0.2-1"
    assert d["packages"]["cudnn"]["libcudnn9-cuda-13"] == "9.17.0.29-1"
    assert d["packages"]["tensorrt"]["libnvinfer10"] == "10.13.2.6-1+cuda13.0"
    assert d["repo"]["path"] == "ubuntu2204/x86_64"
    assert d["reasons"]


def test_mixed_pascal_and_turing_host_is_proprietary_and_at_most_580():
    # Pascal takes only proprietary modules and stops at R580; T4 accepts both.
    d = _d(["P100", "T4"])
    assert d["driver"]["flavor"] == "proprietary" and d["driver"]["branch"] <= 580


def test_eight_sxm_h100_need_fabric_manager():
    d = _d(["10de:2330"] * 8, policy="lts")
    assert d["driver"]["fabric_manager"] and d["packages"]["fabric_manager"] == ["nvidia-fabricmanager-580"]


def test_nvswitches_on_pci_call_for_fabric_manager_whatever_the_boards():
    # An HGX H800 or H20 baseboard shows its NVSwitches (10de:22a3) like an HGX H100; gpuhost's
    # own rows mark neither board, NVIDIA's list (2324 H800, 2329 H20) does not say SXM.
    for board in ("10de:2324", "10de:2329"):
        host = resolve([board] * 8, "ubuntu", "22.04", nvswitches=4).to_dict()
        assert host["driver"]["fabric_manager"] and host["packages"]["fabric_manager"]
        assert any("4 NVSwitches (PCI class 0x0680)" in r for r in host["reasons"])
        assert not _d([board] * 8)["driver"]["fabric_manager"]


def test_nvswitch_ids_among_names_count_as_nvswitches():
    from gpuhost.resolution import resolve_names

    stack = resolve_names(["10de:2329"] * 8 + ["10de:22a3"] * 4, "ubuntu-22.04", "x86_64", {}, "production")
    assert len(stack.gpus) == 8 and stack.driver.fabric_manager


def test_h100_cuda_12_4_cudnn_9():
    # cuDNN 9.17.0's CUDA 12 build covers 12.0-12.9 (support matrix); CUDA 12.4.1 needs >= 550.54.15.
    d = _d(["10de:2330"], request={"cuda": "12.4", "cudnn": "9"})
    assert d["cuda_release"] == "12.4.1" and d["cudnn"] == "9.17.0.29"
    assert d["packages"]["cudnn"]["libcudnn9-cuda-12"] == "9.17.0.29-1"
    assert d["driver"]["flavor"] == "open" and d["driver"]["branch"] >= 550


SPEC_CASES = [
    ("bare-minor-takes-newest-update", {"cuda": "12.4"}, "12.4.1"),
    ("exact-release", {"cuda": "12.4.0"}, "12.4.0"),
    ("range-below-13", {"cuda": ">=12.4,<13"}, "12.9.1"),    # cuDNN 9.17 and TensorRT 10.13.2 both build for 12.9
    ("int-major", {"cuda": 13}, "13.0.2"),                    # 13.0 is where cuDNN 9.17 and TensorRT 10.13.2 meet
    ("driver-branch-bounds-cuda", {"driver": 570}, "12.8.1"),  # R570 runs up to CUDA 12.8
    ("driver-535-bounds-cuda", {"driver": "535"}, "12.2.2"),
]


@pytest.mark.parametrize("case,request_,cuda", SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_specifiers(case, request_, cuda):
    assert _d(["T4"], request=request_)["cuda_release"] == cuda


def test_exact_driver_version_is_the_floor():
    d = _d(["T4"], request={"driver": "580.95.05"})
    assert d["driver"] == {"branch": 580, "flavor": "open", "min_version": "580.95.05", "fabric_manager": False}


@pytest.mark.parametrize("policy,branch", [("lts", 580), ("production", 595), ("newest", 610)])
def test_policy_picks_branch_type(policy, branch):
    # as of 2026-08: LTSB 580, PB 595, NFB 610 are the supported branches
    assert _d(["L4"], request={"cuda": "12.8"}, policy=policy)["driver"]["branch"] == branch


def test_no_gpu_skips_driver_but_resolves_userspace():
    d = _d([], ("debian", "12"), {"cuda": "12.4"})
    assert d["driver"] is None and d["cuda"] == "12.4" and d["packages"]["driver"] == []
    assert any("driver is skipped" in r for r in d["reasons"])


def test_no_gpu_and_no_request_resolves_nothing():
    d = _d([])
    assert d["driver"] is None and d["cuda"] is None


def test_tensorflow_pins_its_tested_cuda_and_cudnn():
    # TF 2.15.0 tested with CUDA 12.2 / cuDNN 8.9
    d = _d(["A10G"], request={"framework": "tensorflow==2.15.0"})
    assert d["cuda"] == "12.2" and d["cudnn"] == "8.9.7.29"
    assert d["packages"]["cudnn"]["libcudnn8"] == "8.9.7.29-1+cuda12.2"


def test_torch_picks_a_wheel_variant():
    d = _d(["L4"], request={"framework": "torch==2.7"})
    assert d["cuda"] == "12.8" and d["framework"]["index_url"] == "https://download.pytorch.org/whl/cu128"


def test_tensorrt_11_on_cuda_13_2_uses_its_cuda_13_2_build():
    d = _d(["RTX 5090"], ("ubuntu", "24.04"), {"tensorrt": "11", "cuda": "13.2"})
    assert d["cuda"] == "13.2" and d["packages"]["tensorrt"]["libnvinfer11"] == "11.0.0.114-1+cuda13.2"


def test_tensorrt_11_runs_on_cuda_12_9():
    # 11.0.0.114-1+cuda12.9 is in NVIDIA's repositories (apt-cache madison, public install scripts).
    d = _d(["T4"], request={"tensorrt": "11", "cuda": "12.9"})
    assert d["packages"]["tensorrt"]["libnvinfer11"] == "11.0.0.114-1+cuda12.9"
    assert d["cudnn"] == "9.17.0.29"


def test_a_cuda_13_0_stack_gets_tensorrt_10_13_2():
    # TensorRT 10.13.2 GA "Added support for CUDA 13.0" (NVIDIA/TensorRT release v10.13.2).
    d = _d(["L4"], ("debian", "12"), {"cuda": "13.0"})
    assert d["tensorrt"] == "10.13.2.6"
    assert set(d["packages"]["tensorrt"].values()) == {"10.13.2.6-1+cuda13.0"}


def test_tensorrt_10_13_2_is_not_built_for_ubuntu_20_04():
    with pytest.raises(ResolveError, match="TensorRT 10.13.2 is not built for ubuntu2004"):
        _d(["T4"], ("ubuntu", "20.04"), {"tensorrt": "10.13.2"})


def test_tensorrt_10_13_2_has_no_cuda_11_build():
    with pytest.raises(ResolveError, match="TensorRT 10.13.2 is built as 10.13.2.6 for CUDA >=12.0,<13 or >=13.0,<13.1"):
        _d(["T4"], ("ubuntu", "22.04"), {"tensorrt": "10.13.2", "cuda": "11.8"})


def test_cudnn_9_17_is_turing_and_newer():
    # cuDNN 9.17.0 support matrix: compute capability 7.5 to 12.0 only.
    with pytest.raises(ResolveError, match="cuDNN 9.17 does not support Volta"):
        _d(["V100"], ("ubuntu", "22.04"), {"cudnn": "9.17"})
    assert _d(["A10G"], request={"cudnn": "9.17", "cuda": "13.1"})["packages"]["cudnn"]["libcudnn9-cuda-13"] == "9.17.0.29-1"


def test_new_library_rows_name_their_sources():
    from gpuhost.resolver.compat import knowledge

    sources = knowledge().tables
    assert any("9.17.0" in s for s in sources["cudnn"].sources)
    assert any("v10.13.2" in s for s in sources["tensorrt"].sources)
    assert any("11.0.0.114-1+cuda12.9" in s for s in sources["tensorrt"].sources)


CONFLICTS = [
    ("cuda-too-new-for-kepler-last-branch", ["Tesla K80"], ("ubuntu", "20.04"), {"cuda": "12.4"},
     "Tesla K80 is Kepler (sm_37): the last driver branch is 470, which supports CUDA up to 11.4; "
     "you asked for CUDA 12.4. Use cuda 11.4 or a newer GPU."),
    ("cuda-13-dropped-pascal", ["P100"], ("ubuntu", "22.04"), {"cuda": "13.0"},
     "CUDA 12.9 is the last CUDA that builds for Pascal"),
    ("open-on-pascal", ["P100"], ("ubuntu", "22.04"), {"flavor": "open"},
     "takes only the proprietary kernel modules; you asked for the open ones"),
    ("proprietary-on-blackwell", ["B200"], ("ubuntu", "22.04"), {"flavor": "proprietary"},
     "takes only the open kernel modules"),
    ("branch-590-drops-pascal", ["P100"], ("ubuntu", "22.04"), {"driver": 590},
     "the last driver branch is 580; you asked for driver 590"),
    ("blackwell-needs-cuda-12.8", ["RTX 5090"], ("ubuntu", "24.04"), {"cuda": "12.6"}, "needs CUDA 12.8 or newer"),
    ("cudnn-8-has-no-cuda-13-build", ["T4"], ("ubuntu", "22.04"), {"cuda": "13.0", "cudnn": "8"},
     "cuDNN 9.13.0.50, 9.17.0.29 would fit"),
    ("tensorrt-10.7-dropped-volta", ["V100"], ("ubuntu", "22.04"), {"tensorrt": "10.7"}, "does not support Volta"),
    ("cudnn-9.13-treated-as-turing-plus", ["P100"], ("ubuntu", "22.04"), {"cudnn": "9.13"}, "does not support Pascal"),
    ("specifier-no-match", ["T4"], ("ubuntu", "22.04"), {"cuda": ">=14"}, "No known CUDA release matches '>=14'"),
    ("driver-specifier-no-match", ["T4"], ("ubuntu", "22.04"), {"driver": ">=900"}, "No known driver branch matches"),
    ("unknown-gpu", ["H1000"], ("ubuntu", "22.04"), {}, "Unknown GPU 'H1000'"),
    ("unsupported-os", ["T4"], ("centos", "7"), {}, "centos 7 is not supported"),
    ("cuda-not-in-distro-repo", ["K80"], ("ubuntu", "22.04"), {},
     ("repository for ubuntu2204 carries CUDA 11.7 and newer (range not confirmed by NVIDIA's pages); the stack "
      "needs CUDA 11.0, 11.1, 11.2, 11.3, 11.4. Use ubuntu 20.04, whose repository carries it, or another CUDA.")),
    ("pascal-and-blackwell-cannot-share-a-driver", ["P100", "RTX 5090"], ("ubuntu", "22.04"), {},
     "no single driver drives them all"),
    ("bad-flavor", ["T4"], ("ubuntu", "22.04"), {"flavor": "closed"}, "Unknown driver flavor"),
]


@pytest.mark.parametrize("case,gpus,os_,request_,message", CONFLICTS, ids=[c[0] for c in CONFLICTS])
def test_conflicts_name_the_facts(case, gpus, os_, request_, message):
    with pytest.raises(ResolveError) as err:
        _d(gpus, os_, request_)
    assert message in str(err.value)


def test_unsupported_cpu_architecture():
    with pytest.raises(ResolveError, match="ppc64le"):
        _d(["T4"], arch="ppc64le")


def test_explain_has_one_line_per_choice():
    lines = resolve(["T4"], "ubuntu", "22.04", "x86_64", {}).explain().splitlines()
    assert [line.split()[0] for line in lines] == ["gpus", "driver", "cuda", "cudnn", "tensorrt", "repo"]


# ---- GPUs NVIDIA's driver dropped: supported-gpus.json gives each its "legacybranch" ----------

LEGACY = [
    # (PCI id, legacy series in supported-gpus.json 550.163.01, what pci.ids names its chip)
    ("10de:06c0", "390.xx", "GeForce GTX 480 (10de:06c0, Fermi GF100)"),
    ("10de:0ff2", "367.xx", "GRID K1 (10de:0ff2, Kepler GK107)"),
    ("10de:0191", "340.xx", "GeForce 8800 GTX (10de:0191, G80)"),
    ("10de:0040", "304.xx", "GeForce 6800 Ultra (10de:0040, NV40)"),
]


@pytest.mark.parametrize("pci,legacy,label", LEGACY, ids=[c[1] for c in LEGACY])
def test_a_gpu_older_than_every_branch_in_nvidias_repositories_names_its_legacy_driver(pci, legacy, label):
    with pytest.raises(ResolveError) as err:
        _d([pci], ("ubuntu", "20.04"))
    assert str(err.value).startswith(f"{label}: NVIDIA's last driver for it is the legacy {legacy} series, "
                                     "and no driver in NVIDIA's CUDA repositories supports it")
    assert f"Install the {legacy} legacy driver yourself" in str(err.value)


def test_kepler_on_the_470_list_gets_r470_and_cuda_up_to_11_4():
    # Tesla K40m (1023, GK110B: sm_35) is on the 470.xx list; R470's libcuda runs CUDA up to 11.4.
    d = _d(["10de:1023"], ("ubuntu", "20.04"))
    assert (d["driver"]["branch"], d["driver"]["flavor"], d["cuda"]) == (470, "proprietary", "11.4")
    assert any("legacy 470.xx list: R470 is the last branch" in r for r in d["reasons"])
    with pytest.raises(ResolveError, match="the last driver branch is 470, which supports CUDA up to 11.4"):
        _d(["10de:1023"], ("ubuntu", "20.04"), {"cuda": "12"})


def test_sm_30_kepler_gets_the_driver_and_no_cuda():
    # GeForce GTX 680 (1180, GK104: sm_30): CUDA 11.0 dropped sm_30, 10.2 was its last CUDA.
    d = _d(["10de:1180"], ("ubuntu", "20.04"))
    assert (d["driver"]["branch"], d["driver"]["flavor"]) == (470, "proprietary")
    assert d["cuda"] is None and d["cudnn"] is None and d["tensorrt"] is None and d["packages"]["cuda"] == []
    assert any("CUDA 10.2 was the last CUDA that builds for sm_30; no CUDA 11 or newer runs on it" in r
               for r in d["reasons"])


@pytest.mark.parametrize("request_", [{"cuda": "11.4"}, {"framework": "torch"}])
def test_sm_30_kepler_refuses_any_cuda_layer(request_):
    with pytest.raises(ResolveError, match="sm_30; no CUDA 11 or newer runs on it, and you asked for"):
        _d(["GeForce GTX 680"], ("ubuntu", "20.04"), request_)


def test_a_laptop_pascal_and_a_workstation_turing_resolve():
    # The examples: 1c20 GTX 1060 laptop (no kernelopen in NVIDIA's list), 1f36 Quadro RTX 3000.
    pascal = _d(["10de:1c20"])
    assert (pascal["driver"]["branch"], pascal["driver"]["flavor"], pascal["cuda"]) == (580, "proprietary", "12.9")
    turing = _d(["10de:1f36"])
    assert (turing["driver"]["flavor"], turing["cuda"]) == ("open", "13.0")


def test_a_turing_board_without_open_module_support_is_proprietary():
    # supported-gpus.json lists 1e09 (NVIDIA CMP 50HX, TU102) with no "kernelopen" feature.
    d = _d(["10de:1e09"])
    assert d["driver"]["flavor"] == "proprietary"
    with pytest.raises(ResolveError, match="NVIDIA CMP 50HX is Turing .sm_75.: it takes only the proprietary"):
        _d(["10de:1e09"], request={"flavor": "open"})
