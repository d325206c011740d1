"""Inventories in Ansible's YAML shape, so people can bring the ones they have.

`all` → `children` → `hosts`/`vars`, plus `group_vars/` and `host_vars/` folders next to the
file (or inside the inventory folder). Variables merge in Ansible's order: `all`, then groups
from the shallowest to the deepest (ties by name), then the host.
"""

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from gpuhost import yamlfile
from gpuhost.errors import InventoryError
from gpuhost.settings import check, merge

GROUP_KEYS = {"hosts", "vars", "children"}
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
ADHOC = re.compile(r"^(?:(?P<user>[a-z_][a-z0-9_-]*)@)?(?P<addr>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?$")
ENV_LOOKUP = re.compile(r"""^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"](\w+)['"]\s*\)\s*\}\}$""")


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

    @property
    def is_local(self):
        return self.name == "local"

    @property
    def become_password(self):
        """The sudo password from the environment or the inventory; never logged."""
        value = self.vars.get("ansible_become_password") or os.environ.get("GPUHOST_BECOME_PASSWORD")
        match = ENV_LOOKUP.match(str(value)) if value else None
        return os.environ.get(match.group(1)) if match else value


@dataclass
class Inventory:
    """Hosts and groups read from one inventory file or folder."""

    hosts: dict = field(default_factory=dict)  # name -> Located vars
    groups: dict = field(default_factory=dict)  # name -> {"hosts": set, "children": set, "vars": Located}
    sources: list = field(default_factory=list)
    defaults: dict | None = None  # what settings exist, for checking each variables mapping
    role_names: frozenset = frozenset()

    def select(self, spec):
        """Targets for `--host`: host, group, `user@addr[:port]`, ssh alias, `local`; comma-separated."""
        targets = {}
        for part in [p.strip() for p in str(spec).split(",") if p.strip()]:
            for target in self._select_one(part):
                targets.setdefault(target.name, target)
        if not targets:
            raise InventoryError("--host names no host.")
        return list(targets.values())

    def _select_one(self, part):
        if part == "local":
            return [Target(name="local", vars=self._host_vars("local") if "local" in self.hosts else {})]
        if part in self.hosts:
            return [self.target(part)]
        if part in self.groups:
            return [self.target(name) for name in sorted(self._members(part))]
        return [self._adhoc(part)]

    def target(self, name):
        """The Target for an inventory host, its variables merged in Ansible's order."""
        variables = self._host_vars(name)
        port = variables.get("ansible_port")
        if port is not None and not str(port).isdigit():
            raise InventoryError(f"{_where(self.hosts[name], 'ansible_port')}ansible_port must be a number.")
        return Target(
            name=name,
            address=str(variables.get("ansible_host") or name),
            user=variables.get("ansible_user"),
            port=int(port) if port is not None else None,
            key_file=_expand(variables.get("ansible_ssh_private_key_file"), self.sources),
            known_hosts_file=_expand(variables.get("gpuhost_known_hosts_file"), self.sources),
            groups=self._groups_of(name),
            vars=variables,
        )

    def _host_vars(self, name):
        merged = {"inventory_dir": str(self.sources[0].parent.resolve())} if self.sources else {}
        for group in self._groups_of(name):
            merged = merge(merged, self.groups[group]["vars"])
        return merge(merged, self.hosts.get(name, {}))

    def _groups_of(self, name):
        """Groups holding the host, ordered shallowest first (so deeper groups win)."""
        found = [g for g in self.groups if name in self._members(g)]
        return sorted(found, key=lambda g: (self._depth(g), g))

    def _members(self, group, seen=()):
        if group in seen:
            chain = " → ".join((*seen, group))
            raise InventoryError(f"inventory groups form a cycle: {chain}.")
        node = self.groups[group]
        members = set(node["hosts"])
        for child in node["children"]:
            members |= self._members(child, (*seen, group))
        if group == "all":
            members |= set(self.hosts)
        return members

    def _depth(self, group):
        parents = [g for g, node in self.groups.items() if group in node["children"]]
        return 0 if not parents else 1 + max(self._depth(p) for p in parents)

    def _adhoc(self, part):
        match = ADHOC.match(part)
        if match and (match.group("user") or match.group("port") or _is_address(match.group("addr"))
                      or _in_ssh_config(match.group("addr"))):
            return Target(
                name=part,
                address=match.group("addr").strip("[]"),
                user=match.group("user"),
                port=int(match.group("port")) if match.group("port") else None,
                vars=self.groups.get("all", {}).get("vars", {}),
            )
        known = ", ".join(sorted(self.hosts) + sorted(g for g in self.groups if g != "all")) or "none"
        raise InventoryError(f"'{part}' is no host or group of the inventory (known: {known}) and no address.")


def load(path=None, defaults=None, role_names=()):
    """Read an inventory file or folder (default: $GPUHOST_INVENTORY, else ./inventory/).

    With `defaults` (every known setting) and `role_names`, each variables mapping is checked
    where it is written, so an error names its own file and line.
    """
    path = Path(path or os.environ.get("GPUHOST_INVENTORY") or "inventory")
    inventory = Inventory(defaults=defaults, role_names=frozenset(role_names))
    if not path.exists():
        if path == Path("inventory"):
            return inventory
        raise InventoryError(f"inventory {path} does not exist.")
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
    for file in files:
        _read_tree(inventory, yamlfile.load(file), file)
        inventory.sources.append(file)
    base = path if path.is_dir() else path.parent
    _read_var_folders(inventory, base)
    for name in inventory.groups:
        inventory._members(name)  # raises on cycles
    return inventory


def _read_tree(inventory, data, file):
    if data is None:
        return
    if not isinstance(data, dict) or set(data) - {"all"}:
        extra = sorted(set(data) - {"all"}) if isinstance(data, dict) else []
        where = data.where(extra[0]) if extra and isinstance(data, yamlfile.Located) else str(file)
        raise InventoryError(f"{where}: the top level of an inventory must be 'all:' (found {extra or type(data).__name__}).")
    _read_group(inventory, "all", data["all"] or {}, file)


def _read_group(inventory, name, node, file):
    if not isinstance(node, dict):
        raise InventoryError(f"{file}: group '{name}' must be a mapping of hosts/vars/children.")
    unknown = set(node) - GROUP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise InventoryError(f"{_where(node, key)}group '{name}' has '{key}'; a group holds only hosts, vars and children.")
    group = inventory.groups.setdefault(name, {"hosts": set(), "children": set(), "vars": {}})
    group["vars"] = merge(group["vars"], _checked(inventory, _mapping(node, "vars", f"vars of group '{name}'")))
    for host, host_vars in _mapping(node, "hosts", f"hosts of group '{name}'").items():
        _check_name(host, node["hosts"], "host")
        group["hosts"].add(host)
        if not isinstance(host_vars or {}, dict):
            raise InventoryError(f"{_where(node['hosts'], host)}variables of host '{host}' must be a mapping.")
        inventory.hosts[host] = merge(inventory.hosts.get(host, {}), _checked(inventory, host_vars or {}))
    for child, child_node in _mapping(node, "children", f"children of group '{name}'").items():
        _check_name(child, node["children"], "group")
        group["children"].add(child)
        _read_group(inventory, child, child_node or {}, file)


def _read_var_folders(inventory, base):
    for kind, table in (("group_vars", inventory.groups), ("host_vars", inventory.hosts)):
        folder = base / kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            name = entry.stem if entry.is_file() else entry.name
            files = sorted(entry.glob("*.y*ml")) if entry.is_dir() else [entry]
            for file in (f for f in files if f.suffix in (".yaml", ".yml")):
                if name not in table:
                    raise InventoryError(f"{file}: no {kind[:-5]} named '{name}' in the inventory.")
                data = yamlfile.load(file) or {}
                if not isinstance(data, dict):
                    raise InventoryError(f"{file}: variables must be a mapping.")
                _checked(inventory, data)
                if kind == "group_vars":
                    table[name]["vars"] = merge(table[name]["vars"], data)
                else:
                    table[name] = merge(table[name], data)


def _checked(inventory, variables):
    """Check one variables mapping against the known settings and role names."""
    if inventory.defaults is not None:
        check(variables, inventory.defaults)
    roles = variables.get("roles")
    if roles is not None and inventory.role_names:
        check_roles(roles, inventory.role_names, _where(variables, "roles"))
    return variables


def check_roles(roles, known, where=""):
    """Reject a role list that is not a list of known role names."""
    if not isinstance(roles, list):
        raise InventoryError(f"{where}'roles' must be a list of role names.")
    for role in roles:
        if role not in known:
            raise InventoryError(f"{where}unknown role '{role}' (roles: {', '.join(sorted(known))}).")


def _mapping(node, key, what):
    value = node.get(key) or {}
    if not isinstance(value, dict):
        raise InventoryError(f"{_where(node, key)}{what} must be a mapping, not {type(value).__name__}.")
    return value


def _check_name(name, node, kind):
    if not isinstance(name, str) or not NAME.match(name):
        raise InventoryError(f"{_where(node, name)}'{name}' is not a valid {kind} name.")


def _where(node, key):
    return f"{node.where(key)}: " if isinstance(node, yamlfile.Located) else ""


def _expand(value, sources):
    """Relative paths in an inventory are relative to the inventory file, as in Ansible."""
    if not value:
        return None
    path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute() and sources:
        path = sources[0].parent / path
    return str(path)


def _is_address(text):
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return "." in text


def _in_ssh_config(alias):
    config_path = Path("~/.ssh/config").expanduser()
    if not config_path.exists():
        return False
    config = paramiko.SSHConfig.from_path(str(config_path))
    return alias in config.get_hostnames()
