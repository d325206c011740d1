"""A host to converge, and how gpuhost connects to it, decided from its variables as Ansible decides.

Where two names say the same thing, the one Ansible's connection plugin lists last wins:
`ansible_ssh_host` over `ansible_host`, `ansible_ssh_user` over `ansible_user`, `ansible_ssh_port`
over `ansible_port`, `ansible_ssh_private_key_file` over `ansible_private_key_file`, and for sudo
`ansible_sudo_pass` over `ansible_become_pass` over `ansible_become_password`. A relative key
file is relative to where gpuhost runs, as it is for Ansible (OpenSSH opens it from there).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from gpuhost.errors import InventoryError
from gpuhost.inventory import templar, through_ansible
from gpuhost.inventory.data import Vaulted

SSH = {"ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh",
       "ansible.legacy.ssh"}
LOCAL = {"local", "ansible.builtin.local", "ansible.legacy.local"}
NAMES = {
    "address": ("ansible_host", "ansible_ssh_host"),
    "user": ("ansible_user", "ansible_ssh_user"),
    "port": ("ansible_port", "ansible_ssh_port"),
    "key_file": ("ansible_private_key_file", "ansible_ssh_private_key_file"),
}
PARAMIKO = {"address": "ansible_paramiko_host", "user": "ansible_paramiko_user", "port": "ansible_paramiko_port",
            "key_file": "ansible_paramiko_private_key_file"}
BECOME_PASSWORD = ("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass")


@dataclass
class Target:
    """One host to converge: where it is, how to log in, and its inventory variables."""

    name: str
    address: str = ""
    user: str | None = None
    port: int | None = None
    key_file: str | None = None
    known_hosts_file: str | None = None
    groups: list = field(default_factory=list)
    vars: dict = field(default_factory=dict)
    connection: str = "ssh"

    @property
    def is_local(self):
        return self.name == "local" or self.connection in LOCAL

    @property
    def become_password(self):
        """The sudo password from the inventory (vault decrypted here), else $GPUHOST_BECOME_PASSWORD; never logged."""
        value = last_set(self.vars, BECOME_PASSWORD)
        if templar.is_template(value):
            value = templar.Renderer(self.vars, {"inventory_hostname": self.name}, _reveal).render(value)
        if isinstance(value, Vaulted):
            value = through_ansible.decrypt(value, f"the sudo password of {self.name}")
        return str(value) if value not in (None, "") else os.environ.get("GPUHOST_BECOME_PASSWORD")


def last_set(variables, names):
    """The value of the last of `names` that is set (not null), as Ansible's plugin options read them."""
    value = None
    for name in names:
        if variables.get(name) is not None:
            value = variables[name]
    return value


def connection(name, variables):
    """How gpuhost connects to a host with these (rendered) variables: the `gpuhost_connection` map."""
    kind = str(variables.get("ansible_connection") or "ssh")
    if kind in LOCAL:
        return {"connection": "local", "address": None, "user": None, "port": None, "key_file": None}
    chosen = {}
    for key, names in NAMES.items():
        if kind in ("paramiko", "paramiko_ssh", "ansible.builtin.paramiko_ssh"):
            names = (*names, PARAMIKO[key])
        chosen[key] = last_set(variables, names)
    key_file = chosen["key_file"]
    return {
        "connection": "ssh" if kind in SSH else kind,
        "address": str(chosen["address"] or name),
        "user": None if chosen["user"] is None else str(chosen["user"]),
        "port": _port(name, chosen["port"]),
        "key_file": os.path.abspath(os.path.expanduser(str(key_file))) if key_file else None,
    }


def make(name, variables, groups, inventory_dir):
    """The Target for a host; refuses a connection gpuhost does not make."""
    details = connection(name, variables)
    if details["connection"] not in ("ssh", "local"):
        raise InventoryError(f"host {name} has ansible_connection '{details['connection']}'; gpuhost connects over "
                             "ssh or local only.")
    known_hosts = variables.get("gpuhost_known_hosts_file")
    if known_hosts:
        known_hosts = str(Path(inventory_dir or ".", os.path.expanduser(str(known_hosts))))
    return Target(name=name, address=details["address"] or "", user=details["user"], port=details["port"],
                  key_file=details["key_file"], known_hosts_file=known_hosts, groups=groups, vars=variables,
                  connection=details["connection"])


def _port(name, port):
    if port is None:
        return None
    if isinstance(port, bool) or not str(port).strip().isdigit():
        raise InventoryError(f"host {name}: its SSH port must be a number, not {port!r}.")
    return int(str(port).strip())


def _reveal(value):
    return through_ansible.decrypt(value, "a vaulted variable")
