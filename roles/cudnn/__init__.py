"""cuDNN from NVIDIA's CUDA repository: runtime, dev and headers at one exact version, held.

The package naming follows the major: `libcudnn8=8.9.7.29-1+cuda12.2` (the CUDA build in the
version) or `libcudnn9-cuda-12=9.10.2.21-1` (the CUDA major in the name); the resolver picks both.
"""

from gpuhost.apply import for_role
from gpuhost.errors import ResolveError
from gpuhost.roles import _nvidia

NAME = "cudnn"
REQUIRES = ("cuda",)


def facts(settings):
    return _nvidia.facts()


def steps(host, settings):
    stack = _nvidia.stack(host, settings)
    if stack.cudnn is None:
        raise ResolveError(f"no cuDNN fits CUDA {stack.cuda.minor if stack.cuda else '(none)'} on {host.name}; "
                           "set stack.cudnn or leave the cudnn role out.")
    yield from _nvidia.repository(stack, settings)
    yield _nvidia.held(stack.packages["cudnn"])


apply = for_role(__name__)
