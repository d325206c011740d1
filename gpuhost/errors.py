"""Errors a user can act on.

Every failure gpuhost reports is one of these: the message is one sentence that says what is
wrong and what to do. The CLI turns them into the recap line and the exit code; nothing else
prints tracebacks for them.
"""


class GpuhostError(Exception):
    """Base class: the message is shown to the user as it is."""


class InventoryError(GpuhostError):
    """A malformed inventory, an unknown host or group, a bad setting."""


class ResolveError(GpuhostError):
    """A version request that no consistent driver/CUDA/cuDNN/TensorRT stack satisfies."""


class ConnectError(GpuhostError):
    """A host that cannot be reached, or whose host key cannot be trusted."""


class StepError(GpuhostError):
    """A step whose command failed on the host, or that refuses to act."""
