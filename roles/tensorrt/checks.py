"""Checks of the tensorrt role: the whole set at one version string, held; the header agrees."""

import pytest

from gpuhost.roles import _checks

HEADER = "/usr/include/x86_64-linux-gnu/NvInferVersion.h"


def _stack(stack):
    if stack.tensorrt is None:
        pytest.skip("no TensorRT is resolved for this host")
    return stack


def test_every_tensorrt_package_is_at_one_version_and_held(host, gpuhost_stack):
    packages = _stack(gpuhost_stack).packages["tensorrt"]
    assert len(set(packages.values())) == 1
    _checks.assert_held_at(host, packages)


def test_header_version_equals_the_package(host, gpuhost_stack):
    version = str(_stack(gpuhost_stack).tensorrt.version)
    found = _checks.header_defines(host, HEADER, ["NV_TENSORRT_MAJOR", "NV_TENSORRT_MINOR", "NV_TENSORRT_PATCH",
                                                  "NV_TENSORRT_BUILD"])
    assert "{NV_TENSORRT_MAJOR}.{NV_TENSORRT_MINOR}.{NV_TENSORRT_PATCH}.{NV_TENSORRT_BUILD}".format(**found) == version
