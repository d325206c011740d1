"""Inventories as Ansible reads them, so people bring the ones they have.

YAML, JSON and INI files, folders of them and inventory scripts; host ranges; `group_vars/` and
`host_vars/` in every form Ansible reads; Ansible's variable precedence; the legacy connection
names; Jinja between variables; the implicit `localhost`. What only Ansible reads (vault-encrypted
files, inventory plugins) is read through `ansible-inventory` where Ansible is installed (see
`through_ansible`). Variables that are not gpuhost's are kept and ignored; gpuhost's own settings
are checked strictly where they are written.
"""

import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from gpuhost import settings
from gpuhost.errors import InventoryError
from gpuhost.inventory import sources, templar, through_ansible, varfiles
from gpuhost.inventory.data import (
    InvalidSetting,
    NeedsAnsible,
    Vaulted,
    as_ansible_json,
)
from gpuhost.inventory.graph import LOCALHOST, Graph, Host
from gpuhost.inventory.target import (
    BECOME_PASSWORD,
    NAMES,
    PARAMIKO,
    Target,
    connection,
    make,
)
from gpuhost.yamlfile import Located

__all__ = ["Inventory", "Target", "check_roles", "load"]

ADHOC = re.compile(r"^(?:(?P<user>[a-z_][a-z0-9_-]*)@)?(?P<addr>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?$")
#: What ansible-inventory leaves out of a host's variables (ansible-core's INTERNAL_STATIC_VARS, those an inventory has).
INTERNAL = {"inventory_dir", "inventory_file", "inventory_hostname", "inventory_hostname_short", "group_names",
            "groups", "hostvars", "playbook_dir", "ansible_facts", "ansible_version", "ansible_play_hosts",
            "ansible_play_batch", "ansible_play_hosts_all", "ansible_playbook_python", "ansible_config_file",
            "ansible_inventory_sources", "ansible_limit", "ansible_forks", "ansible_verbosity", "ansible_run_tags",
            "ansible_skip_tags", "ansible_diff_mode", "role_name", "role_names", "role_path",
            "play_hosts", "ansible_role_names", "ansible_play_role_names", "ansible_dependent_role_names",
            "ansible_role_name", "ansible_collection_name", "ansible_async_path", "role_uuid"}
GPUHOST_VARIABLES = {key for key in settings.EXTRA_KEYS if key.startswith("gpuhost_")}
#: The Ansible variables gpuhost connects with: a template in one of them that gpuhost cannot render is an error.
CONNECTION_VARIABLES = {"ansible_connection", *BECOME_PASSWORD, *PARAMIKO.values(), *(n for ns in NAMES.values() for n in ns)}


@dataclass
class Inventory:
    """Hosts, groups and each host's variables as Ansible has them."""

    groups: dict = field(default_factory=dict)  # name -> {"hosts": [names], "children": [names]}, Ansible's order
    hostvars: dict = field(default_factory=dict)  # name -> variables, with inventory_dir and inventory_file
    sources: list = field(default_factory=list)
    defaults: dict | None = None  # every known setting: gpuhost's own variables are checked against it
    role_names: frozenset = frozenset()
    warnings: list = field(default_factory=list)
    empty: list = field(default_factory=list)  # files that hold nothing
    reader: str = "gpuhost"
    implicit: object = None  # name -> variables of a host the inventory does not list
    _membership: dict | None = field(default=None, repr=False)
    _names: dict | None = field(default=None, repr=False)

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
        if part in self.hostvars:
            return [self.target(part)]
        if part in self.groups:
            return [self.target(name) for name in self.members(part)]
        if part == "local" or part in LOCALHOST:
            variables = self.implicit_vars("localhost", local=True)
            return [make(part, self._rendered(part, variables), [], self._base())]
        return [self._adhoc(part)]

    def target(self, name):
        """The Target for an inventory host, its variables layered and rendered as Ansible does."""
        return make(name, self._rendered(name, self.hostvars[name]), self.groups_of(name),
                    self.hostvars[name].get("inventory_dir") or self._base())

    def members(self, group):
        """The hosts of a group and of the groups below it, in inventory order."""
        if self._membership is None:
            self._membership = {name: self._members(name) for name in self.groups}
        return self._membership[group]

    def _members(self, group):
        found, layer, seen = {}, [group], {group}
        while layer:
            following = []
            for name in layer:
                found.update(dict.fromkeys(self.groups[name]["hosts"]))
                for child in self.groups[name]["children"]:
                    if child not in seen:
                        seen.add(child)
                        following.append(child)
            layer = following
        if group == "all":
            found.update(dict.fromkeys(self.hostvars))
        return list(found)

    def groups_of(self, name):
        """The groups a host is in, by name (Ansible's `group_names`)."""
        return list(self._group_names().get(name, []))

    def _group_names(self):
        if self._names is None:
            names = {}
            for group in sorted(self.groups):
                if group != "all":
                    for host in self.members(group):
                        names.setdefault(host, []).append(group)
            self._names = names
        return self._names

    def implicit_vars(self, name, local=False):
        """Variables of a host the inventory does not list (Ansible's implicit localhost when `local`)."""
        variables = dict(self.implicit(name) if self.implicit else {})
        if local:
            variables.setdefault("ansible_connection", "local")
        return variables

    def listing(self):
        """What `ansible-inventory --list` prints, with `gpuhost_connection` in each host's variables."""
        result, seen = {}, set()

        def add(name):
            node = self.groups[name]
            entry = {"hosts": list(node["hosts"])} if name != "all" else {}
            entry["children"] = list(node["children"])
            for child in node["children"]:
                if child not in seen:
                    seen.add(child)
                    add(child)
            entry = {k: v for k, v in entry.items() if v}
            if entry:
                result[name] = entry

        if "all" in self.groups:
            add("all")
        result["_meta"] = {"hostvars": {name: self.host_listing(name) for name in self.members("all")}
                           if self.groups else {}}
        return result

    def host_listing(self, name, unsafe_marked=True):
        """One host's variables as `ansible-inventory` shows them, and `gpuhost_connection`."""
        if name in self.hostvars:
            variables = self.hostvars[name]
        elif name in LOCALHOST:
            variables = self.implicit_vars(name, local=True)
            variables.setdefault("ansible_python_interpreter", sys.executable)
        else:
            raise InventoryError(f"'{name}' is no host of the inventory{self._known()}.")
        shown = {k: v for k, v in variables.items() if k not in INTERNAL}
        shown = as_ansible_json(shown, unsafe_marked)
        try:
            shown["gpuhost_connection"] = connection(name, self._rendered(name, variables, strict=False))
        except InventoryError as error:
            shown["gpuhost_connection"] = {"error": str(error)}
        return shown

    def _rendered(self, name, variables, strict=True):
        """The host's variables with the templates gpuhost uses rendered; gpuhost's own settings checked."""
        renderer = self._renderer(name, variables)
        rendered = {}
        for key in variables:
            own = self._is_own(key)
            try:
                rendered[key] = renderer.value(key)
            except NeedsAnsible:
                raise
            except InventoryError as error:
                if own and strict:
                    raise InventoryError(f"host {name}: variable '{key}': {error}") from None
                rendered[key] = variables[key]
        rendered["inventory_dir"] = variables.get("inventory_dir") or self._base()
        if strict:
            self._check_rendered(name, rendered)
        return rendered

    def _renderer(self, name, variables):
        members = {group: self.members(group) for group in self.groups}
        names = self._group_names().get(name, [])
        magic = {
            "inventory_hostname": name,
            "inventory_hostname_short": name if _is_ip(name) else name.split(".")[0],
            "group_names": names,
            "groups": members,
            "hostvars": templar.hostvars(self._host_renderer),
            "inventory_dir": variables.get("inventory_dir") or self._base(),
            "inventory_file": variables.get("inventory_file"),
        }
        return templar.Renderer(variables, magic, _reveal)

    def _host_renderer(self, name):
        return self._renderer(name, self.hostvars[name]) if name in self.hostvars else None

    def _is_own(self, key):
        key = str(key)
        if key in CONNECTION_VARIABLES or key.startswith("gpuhost_") or key == "roles":
            return True
        return self.defaults is not None and key in self.defaults

    def _check_rendered(self, name, rendered):
        if self.defaults is None:
            return
        own = {k: _revealed(v, f"'{k}' of host {name}") for k, v in rendered.items()
               if k in self.defaults and k != "inventory_dir"}
        try:
            settings.check(own, self.defaults)
            if rendered.get("roles") is not None and self.role_names:
                check_roles(rendered["roles"], self.role_names)
        except InventoryError as error:
            raise InventoryError(f"host {name}: {error}") from None
        rendered.update(own)

    def _adhoc(self, part):
        match = ADHOC.match(part)
        if match and (match.group("user") or match.group("port") or _is_address(match.group("addr"))
                      or _in_ssh_config(match.group("addr"))):
            variables = self._rendered(part, self.implicit_vars(part))
            target = make(part, variables, [], self._base())
            target.address = match.group("addr").strip("[]")
            target.user = match.group("user") or target.user
            target.port = int(match.group("port")) if match.group("port") else target.port
            return target
        if self.empty and not self.hostvars:
            raise InventoryError(f"inventory {', '.join(self.empty)} is empty: '{part}' is no host or group in it.")
        raise InventoryError(f"'{part}' is no host or group of the inventory{self._known()} and no address.")

    def _known(self):
        known = list(self.hostvars) + [g for g in self.groups if g not in ("all", "ungrouped")]
        return f" (known: {', '.join(known) or 'none'})"

    def _base(self):
        return str(sources.base_dir(self.sources[0])) if self.sources else None


def load(path=None, defaults=None, role_names=()):
    """Read an inventory file or folder (default: $GPUHOST_INVENTORY, else ./inventory/).

    With `defaults` (every known setting) and `role_names`, gpuhost's own variables are checked
    where they are written, so an error names its own file and line.
    """
    path = Path(path or os.environ.get("GPUHOST_INVENTORY") or "inventory")
    inventory = Inventory(defaults=defaults, role_names=frozenset(role_names))
    if not path.exists():
        if path == Path("inventory"):
            return inventory
        raise InventoryError(f"inventory {path} does not exist.")
    inventory.sources = [path]
    chosen = through_ansible.reader()
    if chosen == "ansible":
        return _through_ansible(inventory, path)
    try:
        return _own(inventory, path)
    except NeedsAnsible:
        if chosen == "auto" and through_ansible.installed():
            return _through_ansible(inventory, path)
        raise


def _own(inventory, path):
    check = _checker(inventory)
    graph = sources.read(path, check)
    files = varfiles.VarFiles(sources.base_dir(path), check, graph.warnings)
    inventory.hostvars = {name: varfiles.layered(graph, host, files) for name, host in graph.hosts.items()}
    inventory.groups = _group_table(graph)
    inventory.warnings, inventory.empty = graph.warnings, graph.empty

    def implicit(name):
        return varfiles.layered(graph, Host(name), files)

    inventory.implicit = implicit
    return inventory


def _through_ansible(inventory, path):
    data, inventory.warnings = through_ansible.listing(path)
    graph = Graph()
    graph.source = str(path)
    meta = sources.add_listing(graph, data, path) or {}
    graph.reconcile()
    base = str(sources.base_dir(path))
    inventory.hostvars = {name: {"inventory_dir": base, **meta.get(name, {})} for name in graph.hosts}
    inventory.groups = _group_table(graph)
    inventory.reader = "ansible"

    def implicit(name):
        if name in LOCALHOST:
            return through_ansible.host(path, name)
        return {}

    inventory.implicit = implicit
    for variables in inventory.hostvars.values():
        _checker(inventory)(variables)
    return inventory


def _group_table(graph):
    return {name: {"hosts": [h.name for h in group.hosts], "children": [c.name for c in group.children]}
            for name, group in graph.groups.items()}


def _checker(inventory):
    """Checks gpuhost's own variables in one mapping, as written (templates are checked once rendered)."""

    def check(variables):
        if inventory.defaults is None or not isinstance(variables, dict):
            return
        own = _untemplated({k: v for k, v in variables.items() if k in inventory.defaults}, variables)
        try:
            settings.check(own, inventory.defaults)
            roles = variables.get("roles")
            if roles is not None and not templar.is_template(roles) and inventory.role_names:
                check_roles(roles, inventory.role_names, _where(variables, "roles"))
            for key in variables:
                if str(key).startswith("gpuhost_") and key not in GPUHOST_VARIABLES:
                    raise InventoryError(f"{_where(variables, key)}unknown gpuhost variable '{key}' "
                                         f"(gpuhost's: {', '.join(sorted(GPUHOST_VARIABLES))}).")
        except InvalidSetting:
            raise
        except InventoryError as error:
            raise InvalidSetting(str(error)) from None

    return check


def _untemplated(values, like):
    """A copy without template leaves (they are checked once rendered), keeping where each key was written."""
    kept = Located(source=getattr(like, "source", ""), lines=getattr(like, "lines", {}))
    for key, value in values.items():
        if templar.is_template(value) or isinstance(value, Vaulted):
            continue
        kept[key] = _untemplated(value, value) if isinstance(value, dict) else value
    return kept


def check_roles(roles, known, where=""):
    """Reject a role list that is not a list of known role names."""
    if not isinstance(roles, list):
        raise InventoryError(f"{where}'roles' must be a list of role names.")
    for role in roles:
        if role not in known:
            raise InventoryError(f"{where}unknown role '{role}' (roles: {', '.join(sorted(known))}).")


def _where(node, key):
    return f"{node.where(key)}: " if isinstance(node, Located) else ""


def _revealed(value, what):
    if isinstance(value, Vaulted):
        return through_ansible.decrypt(value, what)
    if isinstance(value, dict):
        return {k: _revealed(v, what) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v, what) for v in value]
    return value


def _reveal(value):
    return through_ansible.decrypt(value, "a vaulted variable")


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _is_address(text):
    return _is_ip(text.strip("[]")) or "." in text


def _in_ssh_config(alias):
    config_path = Path("~/.ssh/config").expanduser()
    if not config_path.exists():
        return False
    config = paramiko.SSHConfig.from_path(str(config_path))
    return alias in config.get_hostnames()
