"""What each environment should hold: from its settings, an environment.yml, or an explicit lock file.

Files are read here, on the machine running gpuhost, relative to the inventory's folder; a lock
file is copied to the host so that conda installs exactly what it names.
"""

import difflib
import re
from pathlib import Path

import yaml
from packaging.version import Version

from gpuhost import resolution
from gpuhost.errors import InventoryError, StepError
from gpuhost.ops.apt import checked_url
from gpuhost.ops.files import File
from gpuhost.resolver import compat
from gpuhost.settings import has_credentials, redact_text
from gpuhost.roles.conda_r_python import specs
from gpuhost.roles.conda_r_python.environment import Wanted

ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
CHANNEL = re.compile(r"^[A-Za-z0-9_.-]+$")
OPTIONS = ("python", "r", "packages", "pip", "file", "lock", "framework", "cuda", "kernels", "channels")
FRAMEWORKS = ("pytorch", "tensorflow")
LOCKS = "/etc/gpuhost/conda"


def wanted(name, options, mine, settings):
    """The Wanted environment `name`, its options checked."""
    where = f"conda_r_python.envs.{name}"
    if not ENV_NAME.match(str(name)) or name == "base":
        raise InventoryError(f"{where}: an environment name is letters, digits and ._- (and not 'base').")
    options = options or {}
    for key in options:
        if key not in OPTIONS:
            hint = difflib.get_close_matches(str(key), OPTIONS, n=1)
            raise InventoryError(f"unknown setting '{where}.{key}'" + (f" (did you mean '{hint[0]}'?)." if hint else "."))
    env = Wanted(name=name, channels=list(options.get("channels") or mine["channels"]))
    conda, pip = [], list(options.get("pip") or [])
    if options.get("file"):
        file_conda, file_pip, file_channels = environment_yml(_path(options["file"], settings))
        conda, pip, env.channels = conda + file_conda, pip + file_pip, file_channels or env.channels
    if options.get("lock"):
        if conda or options.get("python") or options.get("r") or options.get("packages"):
            raise InventoryError(f"{where}.lock names every package; leave python, r, packages and file out.")
        env.lock = explicit_urls(_path(options["lock"], settings))
    kernels = options.get("kernels", mine["kernels"]) and not env.lock
    if options.get("python"):
        conda += [f"python={options['python']}"] + (["ipykernel"] if kernels else [])
    if options.get("r"):
        conda += [f"r-base={options['r']}"] + (["r-irkernel"] if kernels else [])
        conda += ["r-reticulate"] if options.get("framework") else []  # the framework from R
    conda += list(options.get("packages") or [])
    env.conda = [specs.conda_spec(s) for s in conda]
    env.pip = [specs.pip_requirement(p) for p in pip]
    checked_channels(env.channels)
    return env


def checked_channels(channels):
    """Channel names (conda-forge) or URLs (a mirror), safe in a command line and in .condarc."""
    for channel in channels:
        if not CHANNEL.match(str(channel)):
            try:
                checked_url(str(channel))
            except StepError as error:
                raise StepError(redact_text(str(error))) from None


def framework_specs(host, settings, name, options):
    """`<framework>=*=*cuda*` and `cuda-version` pinned to a CUDA the host's driver runs."""
    framework = (options or {}).get("framework")
    if not framework:
        return []
    if framework not in FRAMEWORKS:
        raise InventoryError(f"conda_r_python.envs.{name}.framework is one of {', '.join(FRAMEWORKS)}, not {framework!r}.")
    stack = resolution.for_host(host, settings)
    if stack.driver is None:
        raise InventoryError(f"{host.name} has no NVIDIA GPU, so conda_r_python.envs.{name}.framework={framework} would get "
                             "no GPU build to run; leave framework out and list a CPU build in packages.")
    limit = next(b.max_cuda for b in compat.knowledge().branches if b.branch == stack.driver.branch)
    cuda = str(options.get("cuda") or (stack.cuda.minor if stack.cuda else f"{limit.major}.{limit.minor}"))
    if Version(cuda) > limit:
        raise InventoryError(f"conda_r_python.envs.{name} asks for CUDA {cuda} from conda-forge, but driver branch "
                             f"{stack.driver.branch} on {host.name} runs CUDA up to {limit}; set "
                             f"conda_r_python.envs.{name}.cuda to {limit} or lower, or install a newer driver.")
    return [specs.conda_spec(f"{framework}=*=*cuda*"), specs.conda_spec(f"cuda-version={cuda}")]


def environment_yml(path):
    """(conda specs, pip requirements, channels) of a conda environment.yml."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InventoryError(f"{path}: cannot read the environment file: {error}.") from None
    conda, pip = [], []
    for entry in data.get("dependencies") or []:
        if isinstance(entry, dict) and set(entry) == {"pip"}:
            pip += list(entry["pip"] or [])
        elif isinstance(entry, str):
            conda.append(entry)
        else:
            raise InventoryError(f"{path}: dependency {entry!r} is neither a conda spec nor a pip list.")
    return conda, pip, list(data.get("channels") or [])


def explicit_urls(path):
    """The package URLs of an explicit lock file (`conda list --explicit`, conda-lock's render)."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError as error:
        raise InventoryError(f"{path}: cannot read the lock file: {error}.") from None
    body = [line for line in lines if line and not line.startswith("#")]
    if not body or body[0] != "@EXPLICIT":
        raise InventoryError(f"{path} is not an explicit lock file (its first line after comments must be @EXPLICIT).")
    for url in body[1:]:
        if has_credentials(url):
            raise InventoryError(f"{path}: {redact_text(url)} carries credentials, and the lock file is copied to the "
                                 "host where every local user reads it; write it without them (`conda list "
                                 "--explicit` leaves them out) and give the channel's token in conda_r_python.channels.")
        checked_url(url)
        if not re.search(r"/[^/]+-[^-/]+-[^-/]+\.(conda|tar\.bz2)(#[0-9a-f]+)?$", url):
            raise InventoryError(f"{path}: {url} does not name a conda package file.")
    return body[1:]


def lock_copy(name, options, settings):
    """The lock file written to the host, where conda reads it (None without a lock)."""
    if not (options or {}).get("lock"):
        return None
    path = _path(options["lock"], settings)
    return File(f"{LOCKS}/{name}.txt", path.read_text(encoding="utf-8"), name=f"lock file of environment {name}")


def _path(value, settings):
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else Path(settings.get("inventory_dir") or ".") / path
