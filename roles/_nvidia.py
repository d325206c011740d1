"""What the NVIDIA roles share: NVIDIA's CUDA repository, added once with its key pinned.

driver, cuda, cudnn and tensorrt all yield these steps; the runner keeps the first of each, so
the repository is added once however many of the roles run.
"""

from gpuhost import resolution
from gpuhost.errors import ResolveError, StepError
from gpuhost.facts import Request
from gpuhost.openpgp import normalize
from gpuhost.ops.apt import Packages, RepositoryKey, source

KEYRING = "/usr/share/keyrings/cuda-archive-keyring.gpg"  # where NVIDIA's cuda-keyring package puts it


def facts():
    """What every NVIDIA role needs to know in the first round trip."""
    return Request(files={KEYRING, "/etc/apt/sources.list.d/cuda-*"})


def stack(host, settings):
    """The resolved stack for this host (the same object for every role)."""
    return resolution.for_host(host, settings)


def repository(stack_, settings):
    """The key (fingerprint pinned) and the deb822 source of the CUDA repository for this OS."""
    repo = settings["nvidia_repo"]
    fingerprint = normalize(repo["key_fingerprint"] or "")
    if len(fingerprint) != 40:
        raise StepError("nvidia_repo.key_fingerprint must be the 40-digit fingerprint of the repository key.")
    base = f"{repo['url'].rstrip('/')}/{stack_.repo}/{stack_.repo_arch}/"
    yield RepositoryKey(f"{base}{fingerprint[-8:].lower()}.pub", fingerprint, KEYRING, name="NVIDIA CUDA repository key")
    yield source(f"cuda-{stack_.repo}-{stack_.repo_arch}", base, "/", KEYRING)


def held(packages):
    """Package versions from the resolver, installed exactly and held."""
    return Packages(install=dict(packages), hold=sorted(packages))


def steps_for_library(host, settings, part, label):
    """The steps of a role that installs one resolved library set (cuDNN, TensorRT): repository, packages."""
    stack_ = stack(host, settings)
    if getattr(stack_, part) is None:
        cuda = stack_.cuda.minor if stack_.cuda else "(none)"
        raise ResolveError(f"no {label} fits CUDA {cuda} and the GPUs of {host.name}; set stack.{part} or "
                           f"leave the {part} role out.")
    yield from repository(stack_, settings)
    yield held(stack_.packages[part])
