"""The roles' defaults against the fixture packages as the real sources shape them.

Debian 12's driver is Debian's own package tree, its parts tied at exact versions, some named outside
nvidia-* (xserver-xorg-video-nvidia, libglx-nvidia0 …): an older branch than the newest installs
only when the driver's pin holds every part. Docker CE is Debian's dockerd, containerd and runc
under Docker's names, units and paths, so the docker role's default runs containers.
"""

import pytest

from tests.integration import converging
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
CONTAINERS = ["driver", "docker", "nvidia-toolkit"]
R580 = "580.95.05-1"
# Parts of Debian's tree that a pin of nvidia-* and libnvidia-* alone leaves on the newest branch.
OUTSIDE_NVIDIA_PREFIX = ("xserver-xorg-video-nvidia", "libgl1-nvidia-glvnd-glx", "libglx-nvidia0", "libegl-nvidia0")
IMAGE = ("apt-get install -y -q --no-install-recommends busybox-static >/dev/null && mkdir -p /tmp/img/bin && "
         "cp /bin/busybox /tmp/img/bin/ && tar -C /tmp/img -c . | docker import - tiny >/dev/null")
converge = converging.converge


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(
        HostSpec("tb85", gpus=("P100",)),                 # Pascal: R580 is its newest branch, 590 and 595 are published
        HostSpec("tb86"),                                 # a T4 with the default container stack (Docker CE)
        HostSpec("tb87", gpus=("none",), os="ubuntu-24.04"),  # Docker CE from Docker's noble repository
        HostSpec("tb88"),                                 # a T4 held at R580 with the open modules
    )


def root(bed, name, command):
    with bed.connect(name) as c:
        return c.run(command, hide=True, warn=True, in_stream=False)


def installed(bed, name):
    """{package: version} of the host's installed packages."""
    listing = root(bed, name, "dpkg-query -W -f '${db:Status-Status} ${Package} ${Version}\\n'").stdout
    return {p: v for status, p, v in (line.split() for line in listing.splitlines()) if status == "installed"}


def test_an_older_branch_than_the_newest_installs_with_debians_whole_tree(testbed, hosts):
    result = converge(testbed, "tb85", roles=["driver"])
    assert result.status == "changed" and result.rebooted, result.error
    assert result.facts["modules"]["nvidia"]["version"] == "580.95.05"
    packages = installed(testbed, "tb85")
    assert packages["cuda-drivers-580"] == packages["nvidia-driver"] == packages["nvidia-kernel-dkms"] == R580
    assert all(packages[name] == R580 for name in OUTSIDE_NVIDIA_PREFIX)
    assert packages["nvidia-driver-pinning-580"].startswith("580-")
    upgrades = root(testbed, "tb85", "apt-get -s -q dist-upgrade | grep '^Inst' | grep -e nvidia -e libcuda || true")
    assert upgrades.stdout == ""  # the pins keep every part on R580
    again = converge(testbed, "tb85", roles=["driver"])
    assert (again.status, again.changed) == ("ok", 0), converging.changed_commands(again)


def test_an_older_branch_with_the_open_modules_installs_the_same_way(testbed, hosts):
    result = converge(testbed, "tb88", roles=["driver"], stack={"driver": 580})
    assert result.status == "changed" and result.rebooted, result.error
    packages = installed(testbed, "tb88")
    assert packages["nvidia-open-580"] == packages["nvidia-kernel-open-dkms"] == packages["libglx-nvidia0"] == R580
    assert "nvidia-kernel-dkms" not in packages


def test_docker_ce_by_default_runs_containers_with_the_nvidia_runtime(testbed, hosts):
    first = converge(testbed, "tb86", roles=CONTAINERS)
    assert first.status == "changed", first.error
    packages = installed(testbed, "tb86")
    assert packages["docker-ce"].startswith("5:28.0.4-1~debian.12~bookworm") and "docker.io" not in packages
    assert root(testbed, "tb86", "systemctl is-active docker.service containerd.service").stdout.split() == [
        "active", "active"]
    image = root(testbed, "tb86", f"{IMAGE} && docker run --rm --runtime nvidia tiny /bin/busybox echo through-nvidia")
    assert image.stdout.strip() == "through-nvidia", image.stderr
    second = converge(testbed, "tb86", roles=CONTAINERS)
    assert (second.status, second.changed) == ("ok", 0), converging.changed_commands(second)
    checks = converging.verify(testbed, "tb86", CONTAINERS)
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "passed" in checks.stdout and "failed" not in checks.stdout


def test_docker_ce_from_dockers_ubuntu_repository_runs_a_container(testbed, hosts):
    result = converge(testbed, "tb87", roles=["docker"], docker={"version": "27.5.1"})
    assert result.status == "changed", result.error
    assert installed(testbed, "tb87")["docker-ce"] == "5:27.5.1-1~ubuntu.24.04~noble"
    run = root(testbed, "tb87", f"{IMAGE} && docker run --rm tiny /bin/busybox echo from-docker-ce")
    assert run.stdout.strip() == "from-docker-ce", run.stderr
    assert converge(testbed, "tb87", roles=["docker"], docker={"version": "27.5.1"}).changed == 0
