"""Every driver branch gpuhost's table knows, asked for on GPUs of four architectures: the answer
is a stack of that branch or one line that says why not, never a traceback."""
import pytest

from gpuhost import resolution
from gpuhost.resolver import ResolveError
from gpuhost.resolver.compat import knowledge

# Kepler (last branch 470), Pascal (last 580, proprietary only), Turing, Hopper: NVIDIA's legacy list
# and open-module support, as gpuhost/data/gpus.yaml records them from supported-gpus.json.
GPUS = ("Tesla K80", "Tesla P100-PCIE-16GB", "T4", "H100")
BRANCHES = [b.branch for b in knowledge().branches]


@pytest.mark.parametrize("os_name", ["ubuntu-22.04", "ubuntu-24.04"])
@pytest.mark.parametrize("gpu", GPUS)
@pytest.mark.parametrize("branch", BRANCHES)
def test_every_known_branch_answers_with_a_stack_or_one_line(branch, gpu, os_name):
    try:
        stack = resolution.resolve_names([gpu], os_name, "x86_64", {"driver": str(branch)}, "production")
    except ResolveError as error:
        message = str(error)
        assert message.endswith(".") and "\n" not in message
        assert "you asked for CUDA" not in message  # only the driver was asked for
        return
    assert stack.driver.branch == branch
    assert f"driver     {branch} " in stack.explain()


def test_a_branch_without_a_known_release_installs_the_repositorys_newest():
    # R565 reached end of life with no release recorded in gpuhost's table (drivers.yaml).
    assert not next(b for b in knowledge().branches if b.branch == 565).releases
    stack = resolution.resolve_names(["T4"], "ubuntu-22.04", "x86_64", {"driver": "565"}, "production")
    assert (stack.driver.branch, stack.driver.min_version) == (565, None)
    assert stack.to_dict()["driver"]["min_version"] is None
    assert "565 open (the repository's newest)" in stack.explain()
    assert "apt installs the newest the repository has (minimum version unknown)" in stack.explain()
