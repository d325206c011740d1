"""The CUDA toolkit: `cuda-toolkit-X-Y` at the resolved version, held, and `/usr/local/cuda` pointing at it.

Only `cuda-toolkit-X-Y` is installed, never the `cuda` or `cuda-X-Y` meta packages, which pull
`cuda-drivers` and replace whatever driver the host has. Several toolkits can live side by side
(`cuda.also`); update-alternatives keeps `/usr/local/cuda` on the resolved one.
"""

import re

from gpuhost.apply import for_role
from gpuhost.errors import InventoryError, ResolveError
from gpuhost.ops.command import Command
from gpuhost.ops.files import File
from gpuhost.ops.apt import Packages
from gpuhost.roles import _nvidia

NAME = "cuda"
REQUIRES = ("driver",)
PROFILE = "/etc/profile.d/gpuhost-cuda.sh"
PROFILE_TEXT = """\
# Written by gpuhost: the default CUDA toolkit for login shells.
case ":$PATH:" in *:/usr/local/cuda/bin:*) ;; *) PATH="/usr/local/cuda/bin:$PATH" ;; esac
case ":${LD_LIBRARY_PATH:-}:" in *:/usr/local/cuda/lib64:*) ;; *) LD_LIBRARY_PATH="/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
export PATH LD_LIBRARY_PATH
"""
VERSION = re.compile(r"^\d+\.\d+$")


def facts(settings):
    request = _nvidia.facts()
    request.files.add(PROFILE)
    request.probes["cuda-default"] = ALTERNATIVE_PROBE
    return request


ALTERNATIVE_PROBE = "update-alternatives --query cuda 2>/dev/null | grep -E '^(Status|Value):'"


def steps(host, settings):
    stack = _nvidia.stack(host, settings)
    if stack.cuda is None:
        raise ResolveError(f"no CUDA toolkit was resolved for {host.name}; set stack.cuda.")
    yield from _nvidia.repository(stack, settings)
    main = stack.packages["cuda"][0]
    install = {main: stack.packages["cuda_version"]}
    install.update({toolkit_package(v): None for v in settings[NAME]["also"]})
    yield Packages(install=install, hold=sorted(install))
    yield default_toolkit(str(stack.cuda.minor))
    if settings[NAME]["profile"]:
        yield File(PROFILE, PROFILE_TEXT, name="CUDA on PATH for login shells")


def toolkit_package(version):
    if not VERSION.match(str(version)):
        raise InventoryError(f"cuda.also entries are toolkit versions like '12.4', not {version!r}.")
    return "cuda-toolkit-" + str(version).replace(".", "-")


def default_toolkit(minor):
    """/usr/local/cuda → /usr/local/cuda-X.Y, set by hand so a newer toolkit installed later does not move it."""
    path = f"/usr/local/cuda-{minor}"
    priority = int(minor.replace(".", ""))
    wanted = f"Status: manual\nValue: {path}"
    return Command(
        f"/usr/local/cuda -> {path}",
        [f"update-alternatives --install /usr/local/cuda cuda {path} {priority} && update-alternatives --set cuda {path}"],
        probe=ALTERNATIVE_PROBE,
        done=lambda result, facts: result["output"].strip() == wanted,
        after={"rc": 0, "output": wanted},
        probe_name="cuda-default",
    )


apply = for_role(__name__)
