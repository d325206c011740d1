"""TensorRT from NVIDIA's CUDA repository: every package at one version string, held.

An unpinned `apt-get install tensorrt` now pulls TensorRT 11 and breaks a TensorRT 10 set, and
apt does not move dependencies down to a pin, so every package is named at the exact version.
"""

from gpuhost.apply import for_role
from gpuhost.errors import ResolveError
from gpuhost.roles import _nvidia

NAME = "tensorrt"
REQUIRES = ("cuda", "cudnn")


def facts(settings):
    return _nvidia.facts()


def steps(host, settings):
    stack = _nvidia.stack(host, settings)
    if stack.tensorrt is None:
        raise ResolveError(f"no TensorRT fits CUDA {stack.cuda.minor if stack.cuda else '(none)'} and the GPUs "
                           f"of {host.name}; set stack.tensorrt or leave the tensorrt role out.")
    yield from _nvidia.repository(stack, settings)
    yield _nvidia.held(stack.packages["tensorrt"])


apply = for_role(__name__)
