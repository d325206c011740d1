"""Checks of the cudnn role: packages at the resolved version and held; the header says the same."""

import pytest

from gpuhost.roles import _checks


def _stack(stack):
    if stack.cudnn is None:
        pytest.skip("no cuDNN is resolved for this host")
    return stack


def test_cudnn_packages_are_at_the_resolved_version_and_held(host, gpuhost_stack):
    _checks.assert_held_at(host, _stack(gpuhost_stack).packages["cudnn"])


def test_repository_and_key_are_pinned(host, gpuhost_stack, gpuhost_settings):
    _checks.assert_nvidia_repository(host, gpuhost_settings, _stack(gpuhost_stack))


def test_header_version_equals_the_package(host, gpuhost_stack):
    version = str(_stack(gpuhost_stack).cudnn.version)
    major = version.split(".")[0]
    header = (f"/usr/include/x86_64-linux-gnu/cudnn_version_v{major}.h" if major != "8"
              else "/usr/include/cudnn_version.h")
    found = _checks.header_defines(host, header, ["CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"])
    assert version.startswith("{CUDNN_MAJOR}.{CUDNN_MINOR}.{CUDNN_PATCHLEVEL}".format(**found))
