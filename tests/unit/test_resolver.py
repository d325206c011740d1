"""Resolver: each case names the fact it rests on."""
import pytest

from gpuhost.resolver import ResolveError, resolve


def _d(gpus, os_=("ubuntu", "22.04"), request=None, policy="production", arch="x86_64"):
    return resolve(gpus, os_[0], os_[1], arch, request or {}, policy).to_dict()


ARCH_CASES = [
    # (id: fact, gpus, os, request, expected branch, flavor, cuda)
    ("kepler-last-branch-470-cuda-11.4", ["K80"], ("ubuntu", "20.04"), {}, 470, "proprietary", "11.4"),
    ("maxwell-last-branch-580-last-cuda-12.9", ["M60"], ("ubuntu", "22.04"), {}, 580, "proprietary", "12.9"),
    ("pascal-proprietary-only-580", ["P100"], ("ubuntu", "22.04"), {}, 580, "proprietary", "12.9"),
    ("volta-proprietary-only-580", ["V100"], ("ubuntu", "24.04"), {}, 580, "proprietary", "12.9"),
    ("turing-open-default-from-560", ["T4"], ("ubuntu", "22.04"), {}, 595, "open", "12.8"),
    ("ampere-pb-595", ["A100"], ("ubuntu", "22.04"), {}, 595, "open", "12.8"),
    ("ada", ["L4"], ("debian", "12"), {}, 595, "open", "12.8"),
    ("hopper-lts-580", ["H100"], ("ubuntu", "22.04"), {}, 580, "open", "12.8"),
    ("blackwell-open-only", ["RTX 5090"], ("ubuntu", "24.04"), {}, 595, "open", "12.8"),
]


@pytest.mark.parametrize("case,gpus,os_,request_,branch,flavor,cuda", ARCH_CASES, ids=[c[0] for c in ARCH_CASES])
def test_each_architecture_gets_its_stack(case, gpus, os_, request_, branch, flavor, cuda):
    policy = "lts" if "lts" in case else "production"
    d = _d(gpus, os_, request_, policy)
    assert (d["driver"]["branch"], d["driver"]["flavor"], d["cuda"]) == (branch, flavor, cuda)


def test_t4_default_stack_is_complete_and_pinned():
    d = _d(["T4"])
    assert d["cudnn"] == "9.10.2.21" and d["tensorrt"] == "10.8.0.43"   # newest confirmed builds for CUDA 12.8
    assert d["packages"]["cuda"] == ["cuda-toolkit-12-8"] and d["packages"]["cuda_version"] == "12.8.1-1"
    assert d["repo"]["path"] == "ubuntu2204/x86_64"
    assert d["reasons"]


def test_mixed_pascal_and_turing_host_is_proprietary_and_at_most_580():
    # Pascal takes only proprietary modules and stops at R580; T4 accepts both.
    d = _d(["P100", "T4"])
    assert d["driver"]["flavor"] == "proprietary" and d["driver"]["branch"] <= 580


def test_eight_sxm_h100_need_fabric_manager():
    d = _d(["10de:2330"] * 8, policy="lts")
    assert d["driver"]["fabric_manager"] and d["packages"]["fabric_manager"] == ["nvidia-fabricmanager-580"]


def test_h100_cuda_12_4_cudnn_9():
    # cuDNN 9.10.2.21 is the newest confirmed 9.x with a CUDA 12 build; CUDA 12.4.1 needs >= 550.54.15.
    d = _d(["10de:2330"], request={"cuda": "12.4", "cudnn": "9"})
    assert d["cuda_release"] == "12.4.1" and d["cudnn"] == "9.10.2.21"
    assert d["packages"]["cudnn"]["libcudnn9-cuda-12"] == "9.10.2.21-1"
    assert d["driver"]["flavor"] == "open" and d["driver"]["branch"] >= 550


SPEC_CASES = [
    ("bare-minor-takes-newest-update", {"cuda": "12.4"}, "12.4.1"),
    ("exact-release", {"cuda": "12.4.0"}, "12.4.0"),
    ("range-below-13", {"cuda": ">=12.4,<13"}, "12.8.1"),    # 12.8 is where cuDNN and TensorRT both fit
    ("int-major", {"cuda": 13}, "13.2.2"),
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


def test_tensorrt_11_pulls_cuda_13_2():
    d = _d(["RTX 5090"], ("ubuntu", "24.04"), {"tensorrt": "11"})
    assert d["cuda"] == "13.2" and d["packages"]["tensorrt"]["libnvinfer11"] == "11.0.0.114-1+cuda13.2"


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
     "cuDNN 9.13.0.50 would fit"),
    ("tensorrt-10.7-dropped-volta", ["V100"], ("ubuntu", "22.04"), {"tensorrt": "10.7"}, "does not support Volta"),
    ("cudnn-9.13-treated-as-turing-plus", ["P100"], ("ubuntu", "22.04"), {"cudnn": "9.13"}, "does not support Pascal"),
    ("specifier-no-match", ["T4"], ("ubuntu", "22.04"), {"cuda": ">=14"}, "No known CUDA release matches '>=14'"),
    ("driver-specifier-no-match", ["T4"], ("ubuntu", "22.04"), {"driver": ">=900"}, "No known driver branch matches"),
    ("unknown-gpu", ["H1000"], ("ubuntu", "22.04"), {}, "Unknown GPU 'H1000'"),
    ("unsupported-os", ["T4"], ("centos", "7"), {}, "centos 7 is not supported"),
    ("cuda-not-in-distro-repo", ["K80"], ("ubuntu", "22.04"), {}, "repository for ubuntu2204 carries CUDA 11.7"),
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
