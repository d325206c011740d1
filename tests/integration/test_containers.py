"""The docker and nvidia-toolkit roles on test hosts: a real dockerd (Debian's docker.io) runs inside them.

These scenarios use `docker.source=distro`; Docker CE, the default, runs containers in
test_fixture_sources.py, and here its switch from docker.io is planned.
"""

import functools
import json

import pytest

from tests.integration import converging
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
ROLES = ["driver", "docker", "nvidia-toolkit"]
DISTRO = {"source": "distro", "users": ["gpuadmin"], "daemon": {"live-restore": True}}
USER_CONFIG = {"log-driver": "json-file", "log-opts": {"max-size": "10m"}}
BROKEN = '{"log-driver": "json-file",\n "log-opts": {"max-size": "10m"}\n'
converge = functools.partial(converging.converge, roles=ROLES, docker=DISTRO)


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(
        HostSpec("tb17"),                 # the whole container stack over a T4, with a daemon.json of the user's
        HostSpec("tb18", gpus=("none",)),  # a daemon.json that is not JSON
        HostSpec("tb19", gpus=("none",)),  # docker.io first, then Docker CE planned
    )


def root(bed, name, command):
    with bed.connect(name) as c:
        return c.run(command, hide=True, warn=True, in_stream=False)


def test_containers_run_with_the_nvidia_runtime_and_the_users_keys_survive(testbed, hosts):
    root(testbed, "tb17", f"mkdir -p /etc/docker && printf '%s' '{json.dumps(USER_CONFIG)}' > /etc/docker/daemon.json")
    plan = converge(testbed, "tb17", check=True)
    first = converge(testbed, "tb17")
    assert first.status == "changed", first.error
    assert converging.changed_commands(first) == converging.changed_commands(plan)
    restarts = [s for s in converging.steps(first) if s["name"] == "restart docker.service"]
    assert len(restarts) == 1 and restarts[0]["changed"]
    config = json.loads(root(testbed, "tb17", "cat /etc/docker/daemon.json").stdout)
    assert config == {**USER_CONFIG, "live-restore": True,
                      "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}
    image = root(testbed, "tb17", "apt-get install -y -q --no-install-recommends busybox-static >/dev/null && "
                                  "mkdir -p /tmp/img/bin && cp /bin/busybox /tmp/img/bin/ && "
                                  "tar -C /tmp/img -c . | docker import - tiny >/dev/null && "
                                  "docker run --rm --runtime nvidia tiny /bin/busybox echo through-nvidia")
    assert image.stdout.strip() == "through-nvidia", image.stderr
    spec = root(testbed, "tb17", "cat /etc/cdi/nvidia.yaml").stdout
    loaded = first.facts["modules"]["nvidia"]["version"]
    assert f"libnvidia-ml.so.{loaded}" in spec and 'name: "0"' in spec
    second = converge(testbed, "tb17")
    assert (second.status, second.changed, second.remote_commands) == ("ok", 0, 1), converging.changed_commands(second)
    checks = converging.verify(testbed, "tb17", ROLES, "docker.source=distro", "docker.users=[gpuadmin]",
                               "docker.daemon.live-restore=true")
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "passed" in checks.stdout and "failed" not in checks.stdout


def test_the_nvidia_runtime_becomes_the_default_only_when_asked(testbed, hosts):
    result = converge(testbed, "tb17", nvidia_toolkit={"default_runtime": True})
    assert result.status == "changed", result.error
    assert sorted(s["name"] for s in converging.steps(result) if s["changed"]) == [
        "nvidia runtime in daemon.json", "restart docker.service"]
    run = root(testbed, "tb17", "docker run --rm tiny /bin/busybox echo default-nvidia")
    assert run.stdout.strip() == "default-nvidia", run.stderr
    assert json.loads(root(testbed, "tb17", "docker info --format '{{json .DefaultRuntime}}'").stdout) == "nvidia"


def test_containerd_gets_the_runtime_when_asked_and_keeps_running(testbed, hosts):
    both = {"runtimes": ["docker", "containerd"]}
    result = converge(testbed, "tb17", nvidia_toolkit=both)
    assert sorted(s["name"] for s in converging.steps(result) if s["changed"]) == [
        "nvidia runtime in containerd's config.toml", "restart containerd.service"], result.error
    config = root(testbed, "tb17", "cat /etc/containerd/config.toml").stdout
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]' in config
    assert root(testbed, "tb17", "systemctl is-active containerd docker").stdout.split() == ["active", "active"]
    assert converge(testbed, "tb17", nvidia_toolkit=both).changed == 0
    default = converge(testbed, "tb17", nvidia_toolkit={**both, "default_runtime": True})
    assert default.status == "changed", default.error
    assert 'default_runtime_name = "nvidia"' in root(testbed, "tb17", "cat /etc/containerd/config.toml").stdout
    assert root(testbed, "tb17", "systemctl is-active containerd").stdout.strip() == "active"
    assert converge(testbed, "tb17", nvidia_toolkit={**both, "default_runtime": True}).changed == 0


def test_a_daemon_json_that_is_not_json_is_reported_and_left_untouched(testbed, hosts):
    root(testbed, "tb18", f"mkdir -p /etc/docker && printf '%s' '{BROKEN}' > /etc/docker/daemon.json")
    result = converge(testbed, "tb18", roles=["docker", "nvidia-toolkit"])
    assert result.status == "failed" and result.changed == 0
    assert result.error.startswith("/etc/docker/daemon.json is not valid JSON (line 3, column 1:")
    assert "gpuhost left it untouched" in result.error
    assert root(testbed, "tb18", "cat /etc/docker/daemon.json").stdout == BROKEN
    assert root(testbed, "tb18", "dpkg -s docker.io").failed


def test_switching_to_docker_ce_plans_the_removal_of_docker_io_first(testbed, hosts):
    assert converge(testbed, "tb19", roles=["docker"]).status == "changed"
    plan = converge(testbed, "tb19", roles=["docker"], check=True, docker={"source": "docker", "version": "28.0.4"})
    assert plan.status == "changed", plan.error
    (install,) = [c for c in converging.changed_commands(plan) if " install " in c and "apt-get" in c]
    assert "docker.io-" in install and "containerd-" in install and "runc-" in install
    assert "docker-ce=5:28.0.4-1~debian.12~bookworm" in install
    names = [s["name"] for s in converging.steps(plan) if s["changed"]]
    assert names.index("Docker repository key") < names.index("apt transaction")
    assert root(testbed, "tb19", "dpkg -s docker.io").ok  # a plan changes nothing


def test_the_toolkit_without_docker_is_refused_before_any_change(testbed, hosts):
    result = converge(testbed, "tb18", roles=["nvidia-toolkit"])
    assert result.status == "failed" and result.changed == 0
    assert "has no Docker and the docker role is not in this converge" in result.error
