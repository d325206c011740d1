"""Docker: Docker CE from Docker's repository (or the OS's docker.io), running, with daemon.json merged.

Docker CE and docker.io conflict; when a host has the other source's packages, the one apt
transaction removes them (the plan lists them) and installs the wanted ones. `daemon.json` is
merged key by key, so settings the user put there survive, and Docker restarts once, only when
the file changed.
"""

import re

from gpuhost.apply import for_role
from gpuhost.errors import InventoryError
from gpuhost.facts import Request
from gpuhost.openpgp import normalize
from gpuhost.ops.apt import Packages, RepositoryKey, source
from gpuhost.ops.systemd import Service
from gpuhost.ops.users import GROUPS_PROBE, Member
from gpuhost.roles import _docker_daemon

NAME = "docker"
REQUIRES = ()
KEYRING = "/etc/apt/keyrings/docker.asc"  # where Docker's install guide puts it
CE = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin")
CE_EXTRA = ("docker-ce-rootless-extras",)
# Docker's guide: "uninstall all conflicting packages" before installing Docker CE.
DISTRO = ("docker.io", "docker-doc", "docker-compose", "docker-compose-v2", "podman-docker", "containerd", "runc")
SOURCES = ("docker", "distro")
SHORT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def facts(settings):
    return Request(files={KEYRING, _docker_daemon.DAEMON_JSON, "/etc/apt/sources.list.d/docker.sources"},
                   units={_docker_daemon.UNIT}, probes=dict([GROUPS_PROBE]))


def steps(host, settings):
    mine = settings[NAME]
    if mine["source"] not in SOURCES:
        raise InventoryError(f"docker.source must be one of {', '.join(SOURCES)}, not {mine['source']!r}.")
    yield from _docker_daemon.steps(mine["daemon"], "docker daemon.json settings")
    if mine["source"] == "docker":
        yield from repository(host.facts, settings)
        wanted, replaced = list(CE), DISTRO
        versions = dict.fromkeys(("docker-ce", "docker-ce-cli"), ce_version(mine["version"], host.facts))
    else:
        wanted, replaced = ["docker.io"], CE + CE_EXTRA
        versions = {"docker.io": mine["version"]}
    installed = host.facts.get("packages", {})
    held = sorted(versions) if mine["version"] else []
    yield Packages(install={n: versions.get(n) for n in wanted}, hold=held,
                   absent=[n for n in replaced if n in installed], starts=[_docker_daemon.UNIT], groups=["docker"],
                   name="docker packages " + " ".join(wanted))
    yield Service(_docker_daemon.UNIT)
    if mine["users"]:
        yield Member("docker", mine["users"])


def repository(facts, settings):
    """Docker's key (fingerprint pinned) and its deb822 source for this distribution."""
    os_info, repo = facts.get("os", {}), settings["docker_repo"]
    if os_info.get("id") not in ("debian", "ubuntu") or not os_info.get("codename"):
        raise InventoryError(f"Docker's repository has packages for Debian and Ubuntu, not {os_info.get('id')!r}; "
                             "set docker.source=distro.")
    url = f"{repo['url'].rstrip('/')}/{os_info['id']}"
    yield RepositoryKey(f"{url}/gpg", normalize(repo["key_fingerprint"] or ""), KEYRING, name="Docker repository key")
    yield source("docker", url, os_info["codename"], KEYRING, components=["stable"],
                 architectures=[facts.get("deb_arch", "amd64")])


def ce_version(version, facts):
    """Docker CE's Debian version for a release number: 28.0.4 -> 5:28.0.4-1~debian.12~bookworm."""
    if version is None or not SHORT_VERSION.match(str(version)):
        return version
    os_info = facts.get("os", {})
    return f"5:{version}-1~{os_info.get('id')}.{os_info.get('version')}~{os_info.get('codename')}"


apply = for_role(__name__)
