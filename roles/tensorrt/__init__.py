"""TensorRT from NVIDIA's CUDA repository: every package at one version string, held.

An unpinned `apt-get install tensorrt` now pulls TensorRT 11 and breaks a TensorRT 10 set, and
apt does not move dependencies down to a pin, so every package is named at the exact version.
"""

from gpuhost.apply import for_role
from gpuhost.roles import _nvidia

NAME = "tensorrt"
REQUIRES = ("cuda", "cudnn")


def facts(settings):
    return _nvidia.facts()


def steps(host, settings):
    return _nvidia.steps_for_library(host, settings, "tensorrt", "TensorRT")


apply = for_role(__name__)
