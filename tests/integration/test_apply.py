"""`from gpuhost.roles import X; X.apply(c, ...)` from a plain Fabric script, for every role.

Each call plans (check mode) with one of the role's own settings passed as a keyword, and the plan
shows that the setting arrived: the role's name, its settings key and its folder are one name.
"""

import pytest
import yaml
from fabric import Connection

from gpuhost.roles import conda_r_python, cuda, cudnn, docker, driver, nvidia_toolkit, tensorrt
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
HOST = "tb66"


@pytest.fixture(scope="module")
def connection(testbed, fresh_hosts):
    fresh_hosts(HostSpec(HOST))
    c = Connection(testbed.address(HOST), user="gpuadmin",
                   connect_kwargs={"key_filename": [str(testbed.key_path)], "look_for_keys": False})
    c.client.load_host_keys(str(testbed.known_hosts_path))
    yield c
    c.close()


@pytest.fixture(scope="module")
def mirror(testbed):
    """The test mirror's repository settings, as the test hosts' inventory gives them."""
    return yaml.safe_load(testbed.inventory_path.read_text())["all"]["vars"]


def planned(result):
    """Every command and step name the plan holds."""
    assert result.status == "changed", result.error
    return "\n".join(f"{s['name']}\n" + "\n".join(s["commands"]) for r in result.roles.values() for s in r["steps"])




def test_driver(connection, mirror):
    plan = planned(driver.apply(connection, check=True, persistence=False, nvidia_repo=mirror["nvidia_repo"]))
    assert "nvidia-driver-pinning" in plan or "cuda-drivers" in plan
    assert "nvidia-persistenced.service" not in plan


def test_cuda(connection, mirror):
    assert "cuda-toolkit-12-4" in planned(cuda.apply(connection, check=True, cuda="12.4",
                                                     nvidia_repo=mirror["nvidia_repo"]))


def test_cudnn(connection, mirror):
    assert "libcudnn9" in planned(cudnn.apply(connection, check=True, cuda="12.4", cudnn="9",
                                              nvidia_repo=mirror["nvidia_repo"]))


def test_tensorrt(connection, mirror):
    assert "libnvinfer" in planned(tensorrt.apply(connection, check=True, cuda="12.4",
                                                nvidia_repo=mirror["nvidia_repo"]))


def test_docker(connection, mirror):
    assert "gpuadmin" in planned(docker.apply(connection, check=True, source="distro", users=["gpuadmin"]))


def test_nvidia_toolkit(connection, mirror):
    plan = planned(nvidia_toolkit.apply(connection, check=True, version="1.18.0", runtimes=[],
                                        container_toolkit_repo=mirror["container_toolkit_repo"]))
    assert "nvidia-container-toolkit=1.18.0-1" in plan


def test_conda_r_python(connection, mirror):
    plan = planned(conda_r_python.apply(connection, check=True, users=["gpuadmin"],
                                        installer=mirror["conda_r_python"]["installer"]))
    assert "gpuadmin" in plan
