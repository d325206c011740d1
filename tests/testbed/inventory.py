"""`.testbed/inventory.yaml`: the running hosts as gpuhost's inventory describes hosts.

Connection details are Ansible's host vars; `all.vars` point every repository setting at the
fixture mirror (design.md, "Test hosts and the fixture mirror"). The sudo password of a
`sudo: password` host is never written here: gpuhost reads it from GPUHOST_BECOME_PASSWORD
(the tests export it from `.testbed/become_password`).
"""
import yaml

from .system import STATE

PATH = STATE / "inventory.yaml"


def repo_settings() -> dict:
    """The repository settings of the inventory written last."""
    return yaml.safe_load(PATH.read_text())["all"]["vars"]


def write(specs: list, repo_settings: dict) -> None:
    hosts = {}
    for spec in sorted(specs, key=lambda s: s.index):
        hosts[spec.name] = {"ansible_host": spec.address, "ansible_user": "gpuadmin",
                            "ansible_ssh_private_key_file": "{{ inventory_dir }}/id_ed25519",
                            "gpuhost_known_hosts_file": "known_hosts"}
    data = {"all": {"vars": repo_settings, "hosts": hosts}}
    header = ("# Written by `invoke testbed.up`. The key file is found next to this file as Ansible finds it;\n"
              "# gpuhost_known_hosts_file is relative to this file.\n")
    PATH.write_text(header + yaml.safe_dump(data, sort_keys=False))
