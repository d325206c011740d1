"""cuDNN from NVIDIA's CUDA repository: runtime, dev and headers at one exact version, held.

The package naming follows the major: `libcudnn8=8.9.7.29-1+cuda12.2` (the CUDA build in the
version) or `libcudnn9-cuda-12=9.10.2.21-1` (the CUDA major in the name); the resolver picks both.
"""

from gpuhost.apply import for_role
from gpuhost.roles import _nvidia

NAME = "cudnn"
REQUIRES = ("cuda",)


def facts(settings):
    return _nvidia.facts()


def steps(host, settings):
    return _nvidia.steps_for_library(host, settings, "cudnn", "cuDNN")


apply = for_role(__name__)
