"""The test-host harness itself: each simulated condition, seen by a raw command on the host
over real SSH (pinned host keys, key authentication)."""
import glob
import os
import shlex
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.testbed import cgroups
from tests.testbed.specs import HostSpec
from tests.testbed.system import cache_dir, run, start_daemon, stop_daemon

pytestmark = pytest.mark.testbed


def sh(testbed, name, command, user="root"):
    with testbed.connect(name, user) as conn:
        return conn.run(command, hide=True, warn=True)


def test_gpu_is_seen_by_lspci_and_sysfs(testbed):
    lspci = sh(testbed, "tb1", "lspci -nn -d 10de:").stdout
    assert "3D controller [0302]: NVIDIA Corporation" in lspci and "[10de:1eb8]" in lspci
    sysfs = sh(testbed, "tb2", "cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/class").stdout
    assert sysfs.split().count("0x10de") == 2 and sysfs.split().count("0x030200") == 2


def test_nouveau_option_loads_nouveau(testbed):
    assert sh(testbed, "tb2", "test -d /sys/module/nouveau").ok
    assert not sh(testbed, "tb1", "test -d /sys/module/nouveau").ok


def test_secure_boot_option_sets_the_efi_variable(testbed):
    command = "od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
    assert sh(testbed, "tb2", command).stdout.split()[-1] == "01"
    assert sh(testbed, "tb1", command).stdout.split()[-1] == "00"


def test_ubuntu_profile_shows_ubuntu_and_its_kernel(testbed):
    out = sh(testbed, "tb2", ". /etc/os-release; echo $ID $VERSION_ID $UBUNTU_CODENAME; "
                             "cat /proc/sys/kernel/osrelease").stdout.split()
    assert out == ["ubuntu", "22.04", "jammy", "5.15.0-1051-gcp"]


def test_full_disk_option_shows_in_df(testbed):
    df = sh(testbed, "tb2", "df --output=pcent,avail /var/cache/apt/archives | tail -1").stdout.split()
    assert df == ["100%", "0"]


def test_sudo_password_profile_needs_the_password(testbed):
    assert not sh(testbed, "tb2", "sudo -n true", user="gpuadmin").ok
    password = testbed.become_password_path.read_text().strip()
    assert oct(testbed.become_password_path.stat().st_mode & 0o777) == "0o600"
    assert password not in testbed.inventory_path.read_text()
    with_password = f"printf '%s\\n' {shlex.quote(password)} | sudo -S -p '' id -u"
    assert sh(testbed, "tb2", with_password, user="gpuadmin").stdout.strip() == "0"
    assert sh(testbed, "tb1", "sudo -n id -u", user="gpuadmin").stdout.strip() == "0"


def test_held_dpkg_lock_fails_apt_at_once_and_timeout_waits(testbed):
    testbed.hold_lock("tb1", seconds=60)
    try:
        started = time.monotonic()
        assert sh(testbed, "tb1", "apt-get install -y sudo").exited == 100
        assert time.monotonic() - started < 5
        threading.Timer(3, testbed.release_lock, ["tb1"]).start()
        started = time.monotonic()
        waited = sh(testbed, "tb1", "apt-get -o DPkg::Lock::Timeout=60 install -y sudo")
        assert waited.ok and time.monotonic() - started >= 2.5
    finally:
        testbed.release_lock("tb1")


def test_apt_installs_a_debian_package_through_the_proxy(testbed):
    result = sh(testbed, "tb1", "apt-get -o APT::Update::Error-Mode=any update -q && "
                                "apt-get install -y -q --no-install-recommends hello && hello")
    assert result.ok, result.stderr
    assert "Hello, world!" in result.stdout
    assert glob.glob(str(cache_dir() / "apt-cacher-ng/cache/**/hello_*.deb"), recursive=True)


def test_reboot_gives_a_new_boot_id_and_the_fixture_module_loads(testbed):
    """The contract: a fixture nvidia.ko under the running kernel's modules loads at boot."""
    kernel = sh(testbed, "tb1", "cat /proc/sys/kernel/osrelease").stdout.strip()
    dkms = shlex.quote(f"/lib/modules/{kernel}/updates/dkms")
    module = shlex.quote("version=580.95.05\nflavor=open\nsigned=no\n")
    sh(testbed, "tb1", f"mkdir -p {dkms} && printf {module} > {dkms}/nvidia.ko")
    before = testbed.boot_id("tb1")
    assert testbed.reboot("tb1") != before
    out = sh(testbed, "tb1", "cat /sys/module/nvidia/version /proc/driver/nvidia/version").stdout
    assert out.startswith("580.95.05\nNVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05")
    assert "Kernel driver in use: nvidia" in sh(testbed, "tb1", "lspci -k -d 10de:").stdout

    newer = testbed.kernel_update("tb1")
    testbed.reboot("tb1")
    assert sh(testbed, "tb1", "cat /proc/sys/kernel/osrelease").stdout.strip() == newer
    assert not sh(testbed, "tb1", "test -e /sys/module/nvidia || test -e /proc/driver/nvidia").ok


def test_removing_a_host_leaves_nothing_behind(testbed):
    testbed.up([HostSpec("tb9", gpus=("none",))])
    assert sh(testbed, "tb9", "lspci -d 10de: | wc -l").stdout.strip() == "0"
    hostdir = Path(testbed.inventory_path).parent / "hosts" / "tb9"
    testbed.remove("tb9")
    assert not Path("/run/netns/gpuhost-tb9").exists()
    assert not any((h / cgroups.GROUP / "tb9").exists() for h in cgroups.hierarchies())
    assert str(hostdir) not in Path("/proc/self/mountinfo").read_text()
    assert not any(str(hostdir) in _cmdline(pid) for pid in os.listdir("/proc") if pid.isdigit())
    assert "tb9" not in testbed.inventory_path.read_text()


def test_up_clears_a_host_another_checkout_left(testbed, tmp_path):
    """Host names are global (namespace, cgroup), their records are in the checkout that made them:
    a tb80 that a checkout elsewhere left running gives way to this checkout's tb80."""
    layer = tmp_path / "elsewhere/.testbed/hosts/tb80/root"
    layer.mkdir(parents=True)
    run(["mount", "-t", "tmpfs", "tmpfs", layer])
    run(["ip", "netns", "add", "gpuhost-tb80"])
    left = subprocess.Popen(["sleep", "600"])
    cgroups.join("tb80", left.pid)
    try:
        testbed.up([HostSpec("tb80", gpus=("none",))])
        assert left.wait(timeout=10) == -9
        assert not os.path.ismount(layer)
        assert sh(testbed, "tb80", "hostname").stdout.strip() == "tb80"
    finally:
        left.kill()
        testbed.remove("tb80")
        if os.path.ismount(layer):
            run(["umount", layer])
    assert not Path("/run/netns/gpuhost-tb80").exists()


def test_a_daemon_replaces_the_one_another_checkout_left(testbed):
    """Its pid file is in the other checkout; its cgroup, named after the daemon, is found."""
    left = subprocess.Popen(["sleep", "600"])
    cgroups.join("daemon-probe", left.pid)
    try:
        start_daemon("probe", ["sleep", "600"])
        assert left.wait(timeout=10) == -9
        assert cgroups.has_processes("daemon-probe")
        stop_daemon("probe")
        assert not cgroups.has_processes("daemon-probe")
    finally:
        left.kill()
        cgroups.kill_and_remove("daemon-probe")


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def test_docker_runs_a_container_inside_a_host(testbed):
    script = ("export DEBIAN_FRONTEND=noninteractive; "
              "apt-get install -y -q --no-install-recommends docker.io busybox-static >/dev/null && "
              "rm -rf /tmp/img && mkdir -p /tmp/img/bin && cp /bin/busybox /tmp/img/bin/ && "
              "tar -C /tmp/img -c . | docker import - tiny >/dev/null && "
              "docker run --rm tiny /bin/busybox echo hello-from-docker")
    result = sh(testbed, "tb1", script)
    assert result.stdout.strip() == "hello-from-docker", result.stderr


def test_rtt_option_delays_the_hosts(testbed):
    def connect_ms():
        started = time.perf_counter()
        socket.create_connection((testbed.address("tb1"), 22), timeout=5).close()
        return (time.perf_counter() - started) * 1000

    testbed.set_rtt(20, names=["tb1"])
    try:
        assert min(connect_ms() for _ in range(3)) >= 19
    finally:
        testbed.set_rtt(0, names=["tb1"])
    assert min(connect_ms() for _ in range(3)) < 10


def test_hosts_use_the_fixture_mirror(testbed):
    settings = yaml.safe_load(testbed.inventory_path.read_text())["all"]["vars"]
    repo = settings["nvidia_repo"]
    assert repo["url"] == "http://10.77.0.1:8080/compute/cuda/repos"
    key = f"{repo['url']}/debian12/x86_64/{repo['key_fingerprint'][-8:].lower()}.pub"
    assert sh(testbed, "tb1", f"curl -fsS {shlex.quote(key)} | gpg --show-keys --with-colons "
                               "| grep -c '^fpr:'").stdout.strip() == "1"
    update = sh(testbed, "tb2", "apt-get -o APT::Update::Error-Mode=any update -q && "
                                "apt-cache policy | grep -c '10.77.0.1:8080/ubuntu jammy/restricted'")
    assert update.ok and int(update.stdout.split()[-1]) >= 1, update.stderr
