"""INI inventories, read line by line as Ansible's `ini` inventory plugin reads them.

Lines before any section belong to `ungrouped`; `[g]` holds host lines (`name[:port] key=value…`,
split like a shell line, `#` starts a comment), `[g:vars]` holds `key = value` lines and
`[g:children]` group names, which may be declared further down. Values are Python literals where
they parse as one (`2222`, `True`, `[1, 2]`), else text.
"""

import ast
import re
import shlex
import warnings

from gpuhost.errors import InventoryError
from gpuhost.inventory import hostpatterns
from gpuhost.inventory.data import FloatText
from gpuhost.yamlfile import Located

SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")
NUMBER = re.compile(r"^[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?$")


def read(graph, text, path, check):
    """Add the hosts, groups and variables of one INI file to `graph`; `check` sees each variables mapping."""
    group, state, pending = "ungrouped", "hosts", {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        where = f"{path}:{number}"
        if not line or line[0] in "#;":
            continue
        section = SECTION.match(line)
        if section:
            group, state = section.group(1), section.group(2) or "hosts"
            if state not in ("hosts", "children", "vars"):
                raise InventoryError(f"{where}: section [{line[1:-1]}] has the unknown type '{state}'.")
            if group not in graph.groups:
                if state == "vars" and group not in pending:
                    pending[group] = {"line": where, "state": state}
                graph.add_group(group)
            if group in pending and state != "vars":
                _declared(graph, group, pending)
            continue
        if line.startswith("[") and line.endswith("]"):
            raise InventoryError(f"{where}: '{line}' is no section: a section is [group], [group:vars] or "
                                 "[group:children], without spaces.")
        if state == "hosts":
            names, port, variables = _host_line(line, where, path, number)
            check(variables)
            for name in names:
                graph.add_host(name, group, port)
                for key, value in variables.items():
                    graph.set_variable(name, key, value)
        elif state == "vars":
            key, value = _variable_line(line, where)
            check(Located({key: value}, source=path, lines={key: number}))
            graph.set_variable(group, key, value)
        else:
            _child_line(graph, group, line, where, pending)
    for name, declaration in pending.items():
        if declaration["state"] == "vars":
            raise InventoryError(f"{declaration['line']}: section [{name}:vars] is for a group declared nowhere.")
        raise InventoryError(f"{declaration['line']}: [{declaration['parents'][-1]}:children] names '{name}', "
                             "a group declared nowhere.")


def _declared(graph, group, pending):
    declaration = pending.pop(group)
    for parent in declaration.get("parents", []):
        graph.add_child(parent, group)
        if parent in pending and pending[parent]["state"] == "children":
            _declared(graph, parent, pending)


def _child_line(graph, group, line, where, pending):
    match = GROUP_NAME.match(line)
    if not match:
        raise InventoryError(f"{where}: expected a group name, found '{line}'.")
    child = match.group(1)
    if child in graph.groups:
        graph.add_child(group, child)
    elif child in pending:
        pending[child].setdefault("parents", []).append(group)
    else:
        pending[child] = {"line": where, "state": "children", "parents": [group]}


def _host_line(line, where, path, number):
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as error:
        raise InventoryError(f"{where}: cannot split the host line: {error}.") from None
    pattern = tokens[0]
    names, port = hostpatterns.expand(pattern)
    if pattern.strip().endswith(":") and port is None:
        raise InventoryError(f"{where}: host pattern '{pattern}' ends in ':', which only comes before a port.")
    if any(name.strip() == "---" for name in names):
        raise InventoryError(f"{where}: '---' is no host: this looks like a YAML file.")
    variables = Located(source=path, lines={None: number})
    for token in tokens[1:]:
        key, sep, raw = token.partition("=")
        if not sep:
            raise InventoryError(f"{where}: expected key=value after the host name, found '{token}'.")
        variables[key] = value(raw)
        variables.lines[key] = number
    return names, port, variables


def _variable_line(line, where):
    if "=" not in line:
        raise InventoryError(f"{where}: expected key=value, found '{line}'.")
    key, raw = (part.strip() for part in line.split("=", 1))
    return key, value(raw)


def value(raw):
    """A Python literal where the text is one, else the text (as Ansible's INI plugin decides)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw
    return _coerced(parsed, raw)


def _coerced(parsed, raw=None):
    if isinstance(parsed, bool) or parsed is None or isinstance(parsed, int):
        return parsed
    if isinstance(parsed, float):
        return FloatText(raw, parsed) if raw is not None and NUMBER.match(raw) else parsed
    if isinstance(parsed, (list, tuple, set)):
        return [_coerced(item) for item in parsed]
    if isinstance(parsed, dict):
        return {k: _coerced(v) for k, v in parsed.items()}
    if parsed is ...:
        return "..."
    if isinstance(parsed, complex):
        return str(parsed)
    if isinstance(parsed, bytes):
        return parsed.decode("utf-8", "surrogateescape")
    return parsed
