"""One shared conda with Python and R environments, for every member of the `conda` group.

Miniforge (or any installer whose sha256 is pinned) goes into one prefix owned by the conda
account and the group, with setgid directories; `/etc/profile.d` gives the members' login shells
`conda` without touching anyone's dotfiles. Environments come from settings (or an
environment.yml or an explicit lock file next to the inventory) and are compared with what they
hold, so conda runs only for the difference. A GPU framework takes its CUDA from conda-forge,
pinned with `cuda-version` to the CUDA the resolver chose, and is refused when the host's driver
cannot run it.

Members can change every file of the prefix, so nothing of it runs as root (owner.py), and the
credentials of channels and of the pip index stay off command lines and out of files others
read (credentials.py).
"""

import json
import shlex

from gpuhost.apply import for_role
from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.ops.files import Absent, File, checked_path
from gpuhost.ops.users import GROUPS_PROBE, Member
from gpuhost.roles.conda_r_python import credentials, definitions, environment, installer
from gpuhost.roles.conda_r_python.bashrc import CondaInit
from gpuhost.roles.conda_r_python.installer import Installer
from gpuhost.roles.conda_r_python.owner import Owner

NAME = "conda-r-python"
REQUIRES = ("driver",)
PROFILE = "/etc/profile.d/gpuhost-conda.sh"
KERNELS = "/usr/local/share/jupyter/kernels"
PRIORITIES = ("strict", "flexible", "disabled")


def facts(settings):
    mine = settings["conda_r_python"]
    prefix = checked_path(mine["prefix"])
    probes = {environment.PROBE: environment.listing_probe(prefix), **dict([GROUPS_PROBE])}
    request = Request(files={f"{prefix}/.condarc", PROFILE, f"{KERNELS}/*/kernel.json", f"{definitions.LOCKS}/*.txt",
                             credentials.CREDENTIALS, credentials.CONDARC},
                      present=installer.watched(prefix), probes=probes)
    request.add(Owner(mine["owner"], mine["group"]).request())
    for user in mine["init_users"]:
        request.add(CondaInit(prefix, user).request())
    return request


def steps(host, settings):
    mine = settings["conda_r_python"]
    prefix = checked_path(mine["prefix"])
    if mine["channel_priority"] not in PRIORITIES:
        raise InventoryError(f"conda_r_python.channel_priority is one of {', '.join(PRIORITIES)}, not {mine['channel_priority']!r}.")
    definitions.checked_channels(mine["channels"])
    envs = {}
    for name, options in mine["envs"].items():
        env = definitions.wanted(name, options, mine, settings)
        env.conda += definitions.framework_specs(host, settings, name, options)
        envs[name] = (options or {}, env)
    secrets = credentials.collect(mine, {name: env for name, (_, env) in envs.items()})
    sha256 = (mine["installer"]["sha256"] or {}).get(host.facts.get("arch", ""))
    url = mine["installer"]["url"].replace("{arch}", host.facts.get("arch", ""))
    yield Owner(mine["owner"], mine["group"])
    yield Installer(url, sha256, prefix, mine["group"], mine["owner"])
    yield Member(mine["group"], mine["users"])
    yield File(f"{prefix}/.condarc", condarc(mine, secrets), mode="0664", owner=mine["owner"], group=mine["group"],
               name="conda channels and shared folders")
    yield from credential_files(host, secrets)
    if mine["profile"]:
        yield File(PROFILE, profile(prefix, mine["group"]), name="conda for login shells")
    for user in mine["init_users"]:
        yield CondaInit(prefix, user)
    for name, (options, env) in envs.items():
        lock = definitions.lock_copy(name, options, settings)
        if lock:
            yield lock
        yield environment.Environment(prefix, env, mine["owner"], strict=mine["channel_priority"] == "strict",
                                      pip_index_url=mine["pip_index_url"], lock_path=lock.path if lock else None,
                                      credentials=secrets)
        if options.get("kernels", mine["kernels"]):
            yield from kernels(prefix, name, env)


def credential_files(host, secrets):
    """The credentials file (mode 0600: root's and the login account's, which reads it in the facts)
    and the CONDARC naming their variables; neither when no setting carries credentials."""
    if not secrets.variables():
        yield Absent(credentials.CREDENTIALS, name="no conda credentials")
        yield Absent(credentials.CONDARC, name="no conda channels with credentials")
        return
    user = host.facts.get("user", {})
    reader = "root" if user.get("root") or not user.get("name") else user["name"]
    yield File(credentials.CREDENTIALS, secrets.file(), mode="0600", owner=reader, secret=True,
               name="conda credentials, for conda and pip alone")
    if secrets.channels:
        yield File(credentials.CONDARC, secrets.condarc(), name="conda channels that carry credentials")
    else:
        yield Absent(credentials.CONDARC, name="no conda channels with credentials")


def condarc(mine, secrets):
    """The installation's own .condarc: channels as set (no silent `defaults`; credentials left
    out), shared envs and package cache."""
    prefix = mine["prefix"]
    lines = ["# Written by gpuhost: the shared installation's channels and folders.", "channels:"]
    lines += [f"  - {secrets.public(str(c))}" for c in mine["channels"]]
    lines += [f"channel_priority: {mine['channel_priority']}", "envs_dirs:", f"  - {prefix}/envs",
              "pkgs_dirs:", f"  - {prefix}/pkgs"]
    return "\n".join(lines) + "\n"


def profile(prefix, group):
    """`conda` in the login shells of the group's members, and only theirs: the prefix is theirs to
    change, so anyone else (root above all) who sourced its conda.sh would run their code."""
    quoted = shlex.quote(f"{prefix}/etc/profile.d/conda.sh")
    return (f"# Written by gpuhost: `conda` in the login shells of the {group} group's members (never root's: they can\n"
            f"# change every file of {prefix}), without touching anyone's dotfiles. What they create stays\n"
            f"# group-writable.\n"
            f"case \" $(id -Gn 2>/dev/null) \" in *\" {group} \"*)\n"
            f"    if [ \"$(id -u)\" != 0 ] && [ -f {quoted} ]; then . {quoted}; fi\n"
            f"    umask 002 ;;\n"
            f"esac\n")


def kernels(prefix, name, env):
    """Kernel specs as `ipykernel install` and `IRkernel::installspec()` write them, system-wide."""
    path = f"{prefix}/envs/{name}"
    names = {s.name for s in env.conda}
    if "python" in names:
        spec = {"argv": [f"{path}/bin/python", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                         "{connection_file}"], "display_name": f"Python ({name})", "language": "python",
                "metadata": {"debugger": True}}
        yield File(f"{KERNELS}/conda-{name}-python/kernel.json", json.dumps(spec, indent=1) + "\n",
                   name=f"Jupyter kernel Python ({name})")
    if "r-base" in names:
        spec = {"argv": [f"{path}/bin/R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"],
                "display_name": f"R ({name})", "language": "R"}
        yield File(f"{KERNELS}/conda-{name}-r/kernel.json", json.dumps(spec, indent=1) + "\n",
                   name=f"Jupyter kernel R ({name})")


apply = for_role(__name__)
