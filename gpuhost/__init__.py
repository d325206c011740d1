"""gpuhost: converge an Ubuntu or Debian GPU machine into a verified deep-learning host."""

from gpuhost.errors import GpuhostError

__all__ = ["GpuhostError"]
__version__ = "0.1.0"
