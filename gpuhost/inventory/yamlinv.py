"""YAML (and JSON) inventories, read as Ansible's `yaml` inventory plugin reads them.

Every top-level key is a group (`all:` is one of them); a group holds `hosts`, `vars` and
`children`; a host key may be a pattern with ranges and a port. What Ansible skips with a warning,
gpuhost skips with the same warning.
"""

from gpuhost.errors import InventoryError
from gpuhost.inventory import hostpatterns
from gpuhost.inventory.data import INSTALL_ANSIBLE, NeedsAnsible

SECTIONS = ("vars", "children", "hosts")


class NotYamlInventory(InventoryError):
    """Parsed, but not in the shape of a YAML inventory: Ansible then tries the file as INI."""


def read(graph, data, path, check):
    """Add the groups, hosts and variables of one parsed YAML inventory to `graph`."""
    if not data:
        raise NotYamlInventory(f"{path} is empty.")
    if not isinstance(data, dict):
        raise NotYamlInventory(f"{path}: a YAML inventory is a mapping of groups, not {type(data).__name__}.")
    if data.get("plugin"):
        raise NeedsAnsible(f"{path} configures the Ansible inventory plugin '{data['plugin']}': {INSTALL_ANSIBLE}.")
    for name, node in data.items():
        _group(graph, name, node, path, check)


def _group(graph, name, node, path, check):
    if node is not None and not isinstance(node, dict):
        graph.warnings.append(f"{_where(path, None)}skipping '{name}': a group is a mapping of hosts, vars and "
                              "children.")
        return name
    graph.add_group(name)
    if node is None:
        return name
    for section in SECTIONS:
        if isinstance(node.get(section), str):
            node[section] = {node[section]: None}
        if section in node and not isinstance(node[section], (dict, type(None))):
            raise InventoryError(f"{_where(node, section)}'{section}' of group '{name}' must be a mapping, "
                                 f"not {type(node[section]).__name__}.")
    for key, value in node.items():
        if value is None:
            continue
        if not isinstance(value, dict):
            graph.warnings.append(f"{_where(node, key)}skipping '{key}' in group '{name}': it is no mapping.")
        elif key == "vars":
            check(value)
            for variable, setting in value.items():
                graph.set_variable(name, variable, setting)
        elif key == "children":
            for child, child_node in value.items():
                graph.add_child(name, _group(graph, child, child_node, path, check))
        elif key == "hosts":
            _hosts(graph, name, value, check)
        else:
            graph.warnings.append(f"{_where(node, key)}skipping '{key}' in group '{name}': a group holds only "
                                  "hosts, vars and children.")
    return name


def _hosts(graph, group, hosts, check):
    for pattern, variables in hosts.items():
        names, port = hostpatterns.expand(pattern)
        variables = {} if variables is None else variables
        if not isinstance(variables, dict):
            raise InventoryError(f"{_where(hosts, pattern)}the variables of host '{pattern}' must be a mapping.")
        check(variables)
        for host in names:
            graph.add_host(host, group, port)
            for key, value in variables.items():
                graph.set_variable(host, key, value)


def _where(node, key):
    where = node.where(key) if hasattr(node, "where") else (str(node) if node else "")
    return f"{where}: " if where else ""
