"""Tasks for a gpuhost checkout: gpuhost's own commands, the test hosts, the demo, and the data.

`invoke converge --host gpu-vm` runs the same task as `gpuhost converge --host gpu-vm`;
`invoke data.gpus` regenerates the GPU table from Debian's packages.
"""

import gzip
import json
import shlex
import sys
from pathlib import Path

from invoke import Collection, Exit, task

from gpuhost import cli
from gpuhost.resolver import gpu_sources
from tests.testbed.tasks import ns as testbed

GPUHOST = shlex.quote(str(Path(sys.executable).with_name("gpuhost")))  # the one installed beside invoke
DEMO_HOST = "tb9"
DEMO_REPORT = ".testbed/demo-report.json"
DEMO_SETTINGS = ["docker.users=[gpuadmin]", "conda_r_python.users=[gpuadmin]",
                 "conda_r_python.envs={ml: {python: '3.11', r: '4.2', packages: [tabulate], pip: [humanize]}}"]


@task
def demo(c):
    """Bring up one test host with a simulated Tesla T4, converge every role, verify, tear it down."""
    from tests.testbed import HostSpec, Testbed

    bed = Testbed()
    bed.up([HostSpec(DEMO_HOST, options=("r",))])
    try:
        target = f"--host {DEMO_HOST} --inventory {bed.inventory_path} " + " ".join(
            f"--set {shlex.quote(s)}" for s in DEMO_SETTINGS)
        c.run(f"{GPUHOST} plan {target}", warn=True, pty=False)
        c.run(f"{GPUHOST} converge {target} --report {DEMO_REPORT}", pty=False)
        c.run(f"{GPUHOST} converge {target}", pty=False)
        c.run(f"{GPUHOST} verify {target}", pty=False)
        print(f"report: {DEMO_REPORT}")
    finally:
        bed.remove(DEMO_HOST)


# The packages the GPU table is built from: NVIDIA's list of the GPUs its driver supports, as Debian
# ships it, and the PCI id database that names each GPU's chip. Bump these, run `invoke data.gpus`.
NVIDIA_DRIVER = "550.163.01-2"       # Debian trixie
PCI_IDS = "0.0~2026.10.24-1"         # Debian sid (the newest chip names)
APT_SOURCES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d")
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


@task(help={"driver": "version of Debian's nvidia-driver package (it carries supported-gpus.json)",
            "pci_ids": "version of Debian's pci.ids package",
            "suites": "comma-separated Debian suites that carry those versions",
            "mirror": "Debian archive URL (default: the one this machine's apt reads)"})
def gpus(c, driver=NVIDIA_DRIVER, pci_ids=PCI_IDS, suites="trixie,sid", mirror=""):
    """Regenerate gpuhost/data/gpus_driver.yaml from Debian's nvidia-driver and pci.ids packages."""
    cache = gpu_sources.cache_dir()
    wanted = {"nvidia-driver": driver, "pci.ids": pci_ids}
    missing = {p: v for p, v in wanted.items() if not _extracted(cache, p, v).is_dir()}
    if missing:
        _download(c, cache, missing, suites.split(","), mirror or _debian_mirror())
    chips_raw = (_extracted(cache, "nvidia-driver", driver) / gpu_sources.SUPPORTED_GPUS).read_bytes()
    pci_raw = (_extracted(cache, "pci.ids", pci_ids) / gpu_sources.PCI_IDS).read_bytes()
    pci_text = pci_raw.decode("utf-8", errors="replace")
    sources = {"supported-gpus.json": gpu_sources.source("nvidia-driver", driver, gpu_sources.SUPPORTED_GPUS, chips_raw),
               "pci.ids": gpu_sources.source("pci.ids", pci_ids, gpu_sources.PCI_IDS, pci_raw,
                                             pci_ids_version=gpu_sources.pci_ids_version(pci_text))}
    chips = json.loads(gzip.decompress(chips_raw))["chips"]
    target = Path(__file__).parent / "gpuhost" / "data" / gpu_sources.DATA_FILE
    target.write_text(gpu_sources.render(chips, pci_text, sources), encoding="utf-8")
    print(f"{target}: {len(chips)} entries of supported-gpus.json, "
          f"{len({e['devid'].lower() for e in chips})} device ids")


def _extracted(cache, package, version):
    return cache / f"{package}_{version}"


def _download(c, cache, packages, suites, mirror):
    """apt-get download with a sources list of its own: the machine's apt configuration is left alone."""
    cache.mkdir(parents=True, exist_ok=True)
    for sub in ("lists/partial", "apt-cache/archives/partial"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
    signed = f"[signed-by={DEBIAN_KEYRING}] " if Path(DEBIAN_KEYRING).exists() else ""
    (cache / "sources.list").write_text("".join(f"deb {signed}{mirror} {s.strip()} main contrib non-free\n"
                                                for s in suites if s.strip()))
    apt = " ".join(f"-o {shlex.quote(o)}" for o in (
        f"Dir::Etc::SourceList={cache / 'sources.list'}", "Dir::Etc::SourceParts=/dev/null",
        f"Dir::State::Lists={cache / 'lists'}", f"Dir::Cache={cache / 'apt-cache'}"))
    c.run(f"apt-get {apt} -q update", pty=False)
    pins = " ".join(shlex.quote(f"{p}={v}") for p, v in packages.items())
    with c.cd(str(cache)):
        c.run(f"apt-get {apt} download {pins}", pty=False)
    for package, version in packages.items():
        (deb,) = cache.glob(f"{package}_{version.split(':')[-1]}_*.deb")
        c.run(f"dpkg-deb -x {shlex.quote(str(deb))} {shlex.quote(str(_extracted(cache, package, version)))}")


def _debian_mirror():
    """The Debian archive this machine's apt reads (one-line or deb822 sources), security suites aside."""
    for path in _apt_source_files():
        for uri in _uris(path.read_text(errors="replace")):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise Exit("no Debian archive in this machine's apt sources: pass --mirror URL")


def _apt_source_files():
    main, parts = (Path(p) for p in APT_SOURCES)
    return ([main] if main.is_file() else []) + sorted(parts.glob("*.list")) + sorted(parts.glob("*.sources"))


def _uris(text):
    for line in text.splitlines():
        words = line.split("#")[0].split()
        if words[:1] == ["URIs:"]:
            yield from words[1:]
        elif words[:1] == ["deb"]:
            yield from [w for w in words[1:] if "://" in w][:1]     # after any [option=value ...]


data = Collection("data", gpus)
ns = Collection(cli.facts, cli.plan, cli.converge, cli.verify, cli.resolve, demo, testbed, data)
