"""The fixture mirror, checked with this machine's real apt-get in a private apt state.

No host is needed: each check points apt at the built mirror through file:// sources with
Signed-By, and simulates installs (-s) against an empty dpkg status. Packages the fixtures
depend on from the distribution itself (dkms, python3, iptables) come from a small trusted
stub repository, as the Debian archive would provide them.
"""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gpuhost.ops.apt import preferences
from gpuhost.roles import driver
from tests.testbed import mirror
from tests.testbed.mirror import catalog, debian

pytestmark = pytest.mark.skipif(not (shutil.which("apt-get") and shutil.which("apt-ftparchive")
                                     and shutil.which("dpkg-deb") and shutil.which("gpg")),
                                reason="needs apt-get, apt-ftparchive (apt-utils), dpkg-deb and gpg")

KERNEL = "6.1.0-40-cloud-amd64"
TRT10 = "10.8.0.43-1+cuda12.8"
DOCKER_POOL = "linux/debian/dists/bookworm/pool/stable/amd64"


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror") / "mirror"
    return root, mirror.build(root, KERNEL)


class Apt:
    """apt-get with its own sources, lists, cache, preferences and an empty dpkg status."""

    def __init__(self, base: Path, sources: list[str], preferences: Path | None = None):
        self.base = base
        for sub in ("lists/partial", "archives/partial", "prefs"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "status").touch()
        (base / "sources.list").write_text("".join(line + "\n" for line in sources))
        if preferences:
            shutil.copy(preferences, base / "prefs")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        b = self.base
        options = {"Dir::Etc::SourceList": b / "sources.list", "Dir::Etc::SourceParts": "/dev/null",
                   "Dir::State": b, "Dir::State::Lists": b / "lists", "Dir::State::status": b / "status",
                   "Dir::Cache": b, "Dir::Cache::Archives": b / "archives",
                   "Dir::Etc::Preferences": "/dev/null", "Dir::Etc::PreferencesParts": b / "prefs",
                   "Dir::Etc::Trusted": "/dev/null", "Dir::Etc::TrustedParts": "/dev/null",
                   "APT::Architecture": "amd64", "Debug::NoLocking": "1", "APT::Update::Error-Mode": "any"}
        command = ["apt-get", "-q", *(f"-o{k}={v}" for k, v in options.items()), *args]
        return subprocess.run(command, capture_output=True, text=True)

    def install(self, *packages: str) -> dict[str, str]:
        """Simulate an install; return {package: version} of what apt would install."""
        result = self.run("install", "-s", "-y", "--no-install-recommends", *packages)
        assert result.returncode == 0, result.stdout + result.stderr
        return dict(re.findall(r"^Inst (\S+) \((\S+)", result.stdout, re.M))


def flat_source(root: Path, path: str, keyring: str) -> str:
    return f"deb [signed-by={keyring}] file:{root / path}/ /"


def stub_source(tmp: Path, repo_dirs: list[Path]) -> str:
    """A trusted repository with the distribution packages the fixtures depend on."""
    provided, wanted = set(), set()
    for directory in repo_dirs:
        for stanza in (directory / "Packages").read_text().split("\n\n"):
            fields = dict(re.findall(r"^(\S+): (.*)$", stanza, re.M))
            if "Package" in fields:
                provided |= {fields["Package"], *_names(fields.get("Provides", ""))}
                wanted |= _names(fields.get("Depends", "")) | _names(fields.get("Pre-Depends", ""))
    stubs = tmp / "stubs"
    for name in sorted(wanted - provided):
        root = tmp / "stub-root" / name / "DEBIAN"
        root.mkdir(parents=True)
        (root / "control").write_text(f"Package: {name}\nVersion: 99:99\nArchitecture: all\n"
                                      f"Maintainer: stub <stub@invalid>\nDescription: stub\n")
        stubs.mkdir(exist_ok=True)
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root.parent, stubs], check=True,
                       capture_output=True)
    stubs.mkdir(exist_ok=True)
    (stubs / "Packages").write_bytes(subprocess.run(["apt-ftparchive", "packages", "."], cwd=stubs,
                                                    check=True, capture_output=True).stdout)
    return f"deb [trusted=yes] file:{stubs}/ /"


def _names(relation: str) -> set[str]:
    return {alt.split()[0] for part in relation.split(",") for alt in part.split("|") if alt.strip()}


def cuda_apt(built, tmp_path, distro="debian12", preferences=None) -> Apt:
    root, manifest = built
    path = f"compute/cuda/repos/{distro}/x86_64"
    sources = [flat_source(root, path, manifest["keyring"]), stub_source(tmp_path, [root / path])]
    apt = Apt(tmp_path / "apt", sources, preferences)
    assert apt.run("update").returncode == 0
    return apt


def test_manifest_names_the_key_the_cuda_repo_publishes(built):
    root, manifest = built
    fingerprint = manifest["key_fingerprint"]
    assert re.fullmatch(r"[0-9A-F]{40}", fingerprint)
    assert fingerprint != manifest["wrong_key_fingerprint"]
    pub = root / "compute/cuda/repos/debian12/x86_64" / (fingerprint[-8:].lower() + ".pub")
    assert pub.read_bytes() == Path(manifest["armored_key"]).read_bytes()
    for key_file in ("libnvidia-container/gpgkey", "linux/debian/gpg", "linux/ubuntu/gpg"):
        assert (root / key_file).exists()


def test_second_build_reuses_the_first(built):
    root, manifest = built
    before = (root / ".manifest.json").stat().st_mtime_ns
    assert mirror.build(root, KERNEL) == json.loads((root / ".manifest.json").read_text())
    assert (root / ".manifest.json").stat().st_mtime_ns == before


@pytest.mark.parametrize("repo", ["cuda-debian12", "cuda-ubuntu2204", "cuda-ubuntu2404", "container-toolkit"])
def test_flat_suites_update(built, tmp_path, repo):
    root, manifest = built
    apt = Apt(tmp_path, [flat_source(root, manifest["repos"][repo]["path"], manifest["keyring"])])
    result = apt.run("update")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("suite", ["linux/debian bookworm stable", "linux/ubuntu jammy stable",
                                   "linux/ubuntu noble stable", "ubuntu jammy restricted", "ubuntu noble restricted"])
def test_dists_suites_update(built, tmp_path, suite):
    root, manifest = built
    path, rest = suite.split(" ", 1)
    apt = Apt(tmp_path, [f"deb [signed-by={manifest['keyring']}] file:{root / path} {rest}"])
    result = apt.run("update")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variant", ["bad-signed", "unsigned"])
def test_badly_signed_and_unsigned_suites_are_refused(built, tmp_path, variant):
    root, manifest = built
    apt = Apt(tmp_path, [flat_source(root, manifest["repos"][variant]["path"], manifest["keyring"])])
    result = apt.run("update")
    assert result.returncode == 100
    assert ("NO_PUBKEY" in result.stdout + result.stderr) == (variant == "bad-signed")


def test_every_catalog_package_is_indexed_with_its_versions(built):
    root, manifest = built
    for name, repo in manifest["repos"].items():
        if repo["layout"] == "flat":
            index = root / repo["path"] / "Packages"
        else:
            index = root / repo["path"] / "dists" / repo["suite"] / repo["component"] / "binary-amd64/Packages"
        stanzas = [dict(re.findall(r"^(\S+): (.*)$", s, re.M)) for s in index.read_text().split("\n\n") if s]
        found = {(fields["Package"], fields["Version"]) for fields in stanzas}
        expected = {(p, v) for p, versions in repo["packages"].items() for v in versions}
        assert found == expected, name


def test_cuda_toolkit_resolves_to_its_components_and_no_driver(built, tmp_path):
    plan = cuda_apt(built, tmp_path).install("cuda-toolkit-12-4")
    assert plan["cuda-toolkit-12-4"] == "12.4.1-1"
    assert plan["cuda-nvcc-12-4"] == "12.4.131-1"
    assert plan["cuda-cudart-12-4"] == "12.4.127-1"
    assert {"cuda-toolkit-config-common", "cuda-toolkit-12-config-common", "cuda-toolkit-12-4-config-common"} <= set(plan)
    assert not any(name.startswith(("cuda-drivers", "nvidia-")) for name in plan)


def test_cuda_meta_pulls_cuda_drivers(built, tmp_path):
    plan = cuda_apt(built, tmp_path).install("cuda")
    assert plan["cuda"] == "13.0.2-1"
    assert "cuda-drivers" in plan


def test_unpinned_tensorrt_pulls_tensorrt_11(built, tmp_path):
    plan = cuda_apt(built, tmp_path).install("tensorrt")
    assert plan["tensorrt"] == "11.0.0.114-1+cuda13.2"
    assert "libnvinfer11" in plan and "libnvinfer10" not in plan


def test_pinning_only_the_tensorrt_meta_fails_like_the_real_repo(built, tmp_path):
    result = cuda_apt(built, tmp_path).run("install", "-s", "-y", f"tensorrt={TRT10}")
    assert result.returncode == 100
    assert f"libnvinfer-dev (= {TRT10})" in result.stdout


def test_pinned_tensorrt_10_set_resolves(built, tmp_path):
    root, manifest = built
    names = [n for n, versions in manifest["repos"]["cuda-debian12"]["packages"].items() if TRT10 in versions]
    plan = cuda_apt(built, tmp_path).install(*(f"{n}={TRT10}" for n in names))
    assert plan["tensorrt"] == TRT10 and plan["libnvinfer10"] == TRT10
    assert set(plan.values()) == {TRT10} | {"99:99"}


def test_cudnn_pin_resolves_its_exact_family(built, tmp_path):
    plan = cuda_apt(built, tmp_path).install("cudnn9-cuda-12=9.5.1.17-1", "libcudnn9-cuda-12=9.5.1.17-1",
                                             "libcudnn9-dev-cuda-12=9.5.1.17-1", "libcudnn9-headers-cuda-12=9.5.1.17-1")
    assert plan["libcudnn9-headers-cuda-12"] == "9.5.1.17-1"


def test_branch_meta_follows_newer_branch_components_without_pinning(built, tmp_path):
    plan = cuda_apt(built, tmp_path).install("cuda-drivers-570")
    assert plan["nvidia-driver"] == "595.45.04-1"  # the newest branch in the repository, not 570


def test_pinning_package_holds_the_branch(built, tmp_path):
    root, manifest = built
    deb = next((root / "compute/cuda/repos/debian12/x86_64").glob("nvidia-driver-pinning-570_*.deb"))
    subprocess.run(["dpkg-deb", "-x", deb, tmp_path / "pin"], check=True)
    prefs = tmp_path / "pin/etc/apt/preferences.d/nvidia-driver-pinning-570"
    plan = cuda_apt(built, tmp_path, preferences=prefs).install("cuda-drivers-570")
    assert plan["nvidia-driver"] == plan["nvidia-kernel-dkms"] == "570.172.08-1"


@pytest.mark.parametrize("distro,meta,module", [("ubuntu2204", "nvidia-open-570", "nvidia-dkms-570-open"),
                                                ("ubuntu2404", "cuda-drivers-580", "nvidia-dkms-580"),
                                                ("debian12", "nvidia-open-580", "nvidia-kernel-open-dkms")])
def test_driver_metas_pull_their_flavour(built, tmp_path, distro, meta, module):
    plan = cuda_apt(built, tmp_path, distro).install(meta)
    assert module in plan


def smi(built, tmp_path, driver_version: str | None, version="570.172.08-1") -> subprocess.CompletedProcess:
    root, _ = built
    deb = root / f"compute/cuda/repos/debian12/x86_64/nvidia-smi_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "-x", deb, tmp_path / "pkg"], check=True)
    fake = tmp_path / "root"
    dev = fake / "sys/bus/pci/devices/0000:17:00.0"
    dev.mkdir(parents=True)
    for name, value in {"vendor": "0x10de", "device": "0x1eb8", "class": "0x030200"}.items():
        (dev / name).write_text(value + "\n")
    if driver_version:
        (fake / "proc/driver/nvidia").mkdir(parents=True)
        (fake / "proc/driver/nvidia/version").write_text(
            f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {driver_version}  Release Build\n")
    return subprocess.run([tmp_path / "pkg/usr/bin/nvidia-smi", "-L"], capture_output=True, text=True,
                          env={"NVIDIA_FIXTURE_ROOT": str(fake), "PATH": "/usr/bin:/bin"})


def test_nvidia_smi_without_driver_fails_like_the_real_one(built, tmp_path):
    result = smi(built, tmp_path, None)
    assert result.returncode == 9 and "couldn't communicate with the NVIDIA driver" in result.stdout


def test_nvidia_smi_reports_a_version_mismatch(built, tmp_path):
    result = smi(built, tmp_path, "580.95.05")
    assert result.returncode == 18
    assert result.stdout.splitlines() == ["Failed to initialize NVML: Driver/library version mismatch",
                                          "NVML library version: 570.172"]


def test_nvidia_smi_lists_the_sysfs_gpus(built, tmp_path):
    result = smi(built, tmp_path, "570.172.08")
    assert result.returncode == 0
    assert re.fullmatch(r"GPU 0: Tesla T4 \(UUID: GPU-[0-9a-f-]{36}\)\n", result.stdout)


def test_nvidia_ctk_merges_the_runtime_into_daemon_json(built, tmp_path):
    root, _ = built
    deb = root / "libnvidia-container/stable/deb/amd64/nvidia-container-toolkit-base_1.17.8-1_amd64.deb"
    subprocess.run(["dpkg-deb", "-x", deb, tmp_path / "pkg"], check=True)
    config = tmp_path / "daemon.json"
    config.write_text('{"log-driver": "journald"}')
    command = [tmp_path / "pkg/usr/bin/nvidia-ctk", "runtime", "configure", "--runtime=docker",
               f"--config={config}", "--set-as-default"]
    subprocess.run(command, check=True, capture_output=True)
    assert json.loads(config.read_text()) == {
        "default-runtime": "nvidia", "log-driver": "journald",
        "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}


def test_every_catalog_entry_names_the_real_source_it_comes_from():
    assert catalog.unsourced(catalog.load()) == []


def test_a_catalog_entry_without_a_source_is_refused(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("groups:\n"
                    "  - {id: sourced, source: 'Debian bookworm dkms 3.0.10-8+deb12u1 control', packages: [{name: a}]}\n"
                    "  - {id: bare, packages: [{name: b, source: 'NVIDIA forum thread'}, {name: c}]}\n"
                    "debian_debs: {tini: {version: '0.19.0-1+b3', source: ''}}\n")
    with pytest.raises(ValueError, match=r"no `source:` for bare/c, debian_debs/tini;"):
        catalog.load(path)


def role_pin(tmp_path, packages, branch) -> Path:
    """The driver role's apt preferences file for a branch, as it writes it on a host."""
    path = tmp_path / "gpuhost-nvidia-driver"
    path.write_bytes(preferences("gpuhost-nvidia-driver", packages, f"version {branch}.*", 1001).content)
    return path


def test_the_driver_roles_pin_installs_an_older_branch_of_debians_tree(built, tmp_path):
    apt = cuda_apt(built, tmp_path, preferences=role_pin(tmp_path, driver.PIN_PACKAGES, 580))
    plan = apt.install("cuda-drivers-580", "nvidia-driver-pinning-580")
    parts = {name: version for name, version in plan.items() if version.startswith(("580.", "590.", "595."))}
    assert {"xserver-xorg-video-nvidia", "libgl1-nvidia-glvnd-glx", "libglx-nvidia0", "libegl-nvidia0", "nvidia-egl-icd",
            "nvidia-vdpau-driver", "nvidia-alternative", "nvidia-settings", "nvidia-xconfig", "libcuda1"} <= set(parts)
    assert set(parts.values()) == {"580.95.05-1"}


def test_a_pin_of_the_nvidia_prefixes_alone_cannot_install_an_older_branch(built, tmp_path):
    narrow = ("cuda-drivers*", "nvidia-*", "libnvidia-*", "libcuda1", "firmware-nvidia-*")
    apt = cuda_apt(built, tmp_path, preferences=role_pin(tmp_path, narrow, 580))
    result = apt.run("install", "-s", "-y", "--no-install-recommends", "cuda-drivers-580")
    assert result.returncode == 100
    assert "Depends: xserver-xorg-video-nvidia (= 580.95.05-1) but it is not going to be installed" in result.stdout


def test_cuda_drivers_of_a_branch_asks_for_its_first_release_and_the_x_tools(built, tmp_path):
    root, _ = built
    fields = stanza(root / "compute/cuda/repos/debian12/x86_64/Packages", "cuda-drivers-580", "580.95.05-1")
    assert fields["Depends"] == ("nvidia-driver (>= 580.65.06), nvidia-driver-cuda (>= 580.65.06), "
                                 "nvidia-kernel-dkms (>= 580.65.06), nvidia-settings (>= 580.65.06), "
                                 "nvidia-xconfig (>= 580.65.06)")


def test_container_toolkit_1_18_takes_only_the_tools_of_its_own_release(built, tmp_path):
    root, manifest = built
    apt = Apt(tmp_path, [flat_source(root, manifest["repos"]["container-toolkit"]["path"], manifest["keyring"])])
    assert apt.run("update").returncode == 0
    assert apt.install("nvidia-container-toolkit=1.17.8-1", "nvidia-container-toolkit-base=1.17.8-1",
                       "libnvidia-container-tools=1.18.0-1")["nvidia-container-toolkit"] == "1.17.8-1"
    refused = apt.run("install", "-s", "-y", "nvidia-container-toolkit=1.18.0-1", "libnvidia-container-tools=1.17.8-1")
    assert refused.returncode == 100
    assert "libnvidia-container-tools (= 1.18.0-1) but 1.17.8-1 is to be installed" in refused.stdout


def test_docker_ce_carries_debians_engine_under_dockers_names_and_paths(built, tmp_path):
    root, _ = built
    unpacked = {}
    for deb in ("docker-ce_28.0.4-1~debian.12~bookworm_amd64.deb", "docker-ce-cli_28.0.4-1~debian.12~bookworm_amd64.deb",
                "containerd.io_1.7.27-1_amd64.deb"):
        unpacked[deb.split("_")[0]] = target = tmp_path / deb.split("_")[0]
        subprocess.run(["dpkg-deb", "-x", root / DOCKER_POOL / deb, target], check=True)
    debs = debian.debs(catalog.load()["debian_debs"])
    (tmp_path / "debian").mkdir()
    originals = debian.unpack(debs, tmp_path / "debian")
    for package, path, origin, origin_path in [
            ("docker-ce", "usr/bin/dockerd", "docker.io", "usr/sbin/dockerd"),
            ("docker-ce", "usr/libexec/docker/docker-init", "tini", "usr/bin/tini-static"),
            ("docker-ce-cli", "usr/bin/docker", "docker.io", "usr/bin/docker"),
            ("containerd.io", "usr/bin/containerd", "containerd", "usr/bin/containerd"),
            ("containerd.io", "usr/bin/runc", "runc", "usr/sbin/runc")]:
        copied = unpacked[package] / path
        assert copied.stat().st_mode & 0o111 and copied.read_bytes() == (originals[origin] / origin_path).read_bytes()
    unit = (unpacked["docker-ce"] / "lib/systemd/system/docker.service").read_text()
    assert "ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n" in unit
    assert (unpacked["docker-ce"] / "lib/systemd/system/docker.socket").exists()
    assert (unpacked["containerd.io"] / "lib/systemd/system/containerd.service").exists()


def test_docker_ce_replaces_the_distributions_engine_in_one_transaction(built, tmp_path):
    root, manifest = built
    path = manifest["repos"]["docker-bookworm"]["path"]
    sources = [f"deb [signed-by={manifest['keyring']}] file:{root / path} bookworm stable"]
    index = root / path / "dists/bookworm/stable/binary-amd64"
    sources.append(stub_source(tmp_path, [index]))
    apt = Apt(tmp_path / "apt", sources)
    assert apt.run("update").returncode == 0
    plan = apt.install("docker-ce=5:28.0.4-1~debian.12~bookworm", "docker-ce-cli=5:28.0.4-1~debian.12~bookworm",
                       "containerd.io")
    assert plan["containerd.io"] == "1.7.27-1"
    fields = stanza(index / "Packages", "containerd.io", "1.7.27-1")
    assert (fields["Provides"], fields["Conflicts"]) == ("containerd, runc", "containerd, runc")


def stanza(index: Path, name: str, version: str) -> dict:
    """One package's control fields from a Packages index."""
    for text in index.read_text().split("\n\n"):
        fields = dict(re.findall(r"^(\S+): (.*)$", text, re.M))
        if (fields.get("Package"), fields.get("Version")) == (name, version):
            return fields
    raise AssertionError(f"{name} {version} is not in {index}")
