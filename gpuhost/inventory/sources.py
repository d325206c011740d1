"""Inventory files and folders, tried as Ansible tries them (its default list of inventory plugins).

A folder is every file in it, in name order and recursively, except hidden ones, `group_vars`,
`host_vars`, `vars_plugins` and Ansible's ignored extensions (`.md`, `.txt`, `.cfg`, `~`, …). A file
is an inventory script when it is executable and starts with `#!`; else YAML or JSON when its name
ends so or has no extension, and INI when it is not YAML. A folder's file that is none of them is
skipped with a warning, as Ansible skips it; a file named on its own that is none of them is an error.
"""

import json
import os
import re
import subprocess
from pathlib import Path

from gpuhost.errors import InventoryError
from gpuhost.inventory import ini, yamldata, yamlinv
from gpuhost.inventory.data import (
    INSTALL_ANSIBLE,
    InvalidSetting,
    NeedsAnsible,
    from_ansible_json,
)
from gpuhost.inventory.graph import Graph

IGNORED_EXTENSIONS = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry")
IGNORED = re.compile(r"^\.|^host_vars$|^group_vars$|^vars_plugins$|(" +
                     "|".join(re.escape(e) for e in IGNORED_EXTENSIONS) + ")$")
YAML_EXTENSIONS = ("", ".yaml", ".yml", ".json")
COMMENT_OR_BLANK = re.compile(r"^\s*([#;].*)?$")


def read(path, check):
    """The Graph of an inventory file or folder; `check` sees every variables mapping where it is written."""
    graph = Graph()
    if path.is_dir():
        _read_folder(graph, path, check)
    else:
        _read_file(graph, path, check)
    graph.source = None
    graph.reconcile()
    return graph


def _read_folder(graph, folder, check):
    for name in sorted(os.listdir(folder)):
        if IGNORED.search(name):
            continue
        entry = folder / name
        if entry.is_dir():
            _read_folder(graph, entry, check)
        else:
            try:
                _read_file(graph, entry, check)
            except (NeedsAnsible, InvalidSetting):
                raise
            except InventoryError as error:
                graph.warnings.append(f"skipping {entry}, which is no inventory Ansible reads: {error}")


def _read_file(graph, path, check):
    graph.source = str(path)
    if os.access(path, os.X_OK) and _starts_with_shebang(path):
        return read_script(graph, path)
    text = yamldata.read_text(path)
    if all(COMMENT_OR_BLANK.match(line) for line in text.splitlines()):
        graph.empty.append(str(path))
        return None
    if path.suffix == ".toml":
        raise NeedsAnsible(f"{path} is a TOML inventory: {INSTALL_ANSIBLE}.")
    failures = []
    if path.suffix in YAML_EXTENSIONS:
        try:
            return yamlinv.read(graph, yamldata.loads(text, path), path, check)
        except (NeedsAnsible, InvalidSetting):
            raise
        except InventoryError as error:
            failures.append(error)
    try:
        return ini.read(graph, text, path, check)
    except InvalidSetting:
        raise
    except InventoryError as error:
        failures.append(error)
    raise InventoryError(_unreadable(path, text, failures))


def _starts_with_shebang(path):
    with open(path, "rb") as handle:
        return handle.read(2) == b"#!"


def _unreadable(path, text, failures):
    """The failure that says most: INI's for a file that looks like INI, else YAML's where it was tried."""
    first = failures[0]
    meant_as_ini = any(ini.SECTION.match(line.strip()) for line in text.splitlines()[:50])
    if len(failures) > 1 and (meant_as_ini or isinstance(first, yamlinv.NotYamlInventory)
                              or path.suffix not in (".yaml", ".yml")):
        return f"{failures[1]} (read as INI; as YAML: {first})".replace(".)", ")")
    return str(first)


def read_script(graph, path):
    """An executable inventory: its `--list` JSON (and `--host NAME` where it gives no `_meta`)."""
    data = _run_script(path, "--list")
    if not isinstance(data, dict):
        raise InventoryError(f"{path} --list printed {type(data).__name__}, not a mapping of groups.")
    return add_listing(graph, data, path, lambda host: _run_script(path, "--host", host))


def add_listing(graph, data, origin, host_vars=None):
    """Add an inventory in the shape of `ansible-inventory --list` (and of inventory scripts) to `graph`."""
    meta = None
    hosts = []
    for group, node in data.items():
        if group == "_meta":
            meta = node.get("hostvars") if isinstance(node, dict) else None
            if not isinstance(meta, dict):
                raise InventoryError(f"{origin}: '_meta.hostvars' must be a mapping.")
            continue
        graph.add_group(group)
        if not isinstance(node, dict):
            node = {"hosts": node}
        elif not any(key in node for key in ("hosts", "vars", "children")):
            node = {"hosts": [group], "vars": node}
        for host in _listed(node, "hosts", list, group, origin):
            hosts.append(host)
            graph.add_host(host, group)
        for key, value in _listed(node, "vars", dict, group, origin).items():
            graph.set_variable(group, key, value)
        for child in node.get("children") or []:
            graph.add_child(group, graph.add_group(child))
    for host in dict.fromkeys(hosts):
        variables = meta.get(host, {}) if meta is not None else (host_vars(host) if host_vars else {})
        if not isinstance(variables, dict):
            raise InventoryError(f"{origin}: the variables of host '{host}' must be a mapping.")
        for key, value in variables.items():
            graph.set_variable(host, key, value)
    return meta


def _listed(node, key, kind, group, origin):
    value = node.get(key, kind())
    if not isinstance(value, kind):
        raise InventoryError(f"{origin}: '{group}.{key}' must be a {kind.__name__}, not {type(value).__name__}.")
    return value


def _run_script(path, *args):
    try:
        done = subprocess.run([str(path), *args], capture_output=True, text=True, timeout=300, check=False)
    except OSError as error:
        raise InventoryError(f"inventory script {path} cannot run: {error.strerror}.") from None
    except subprocess.TimeoutExpired:
        raise InventoryError(f"inventory script {path} {' '.join(args)} ran for 5 minutes without finishing.") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise InventoryError(f"inventory script {path} {' '.join(args)} failed: {said[0]}")
    try:
        return from_ansible_json(json.loads(done.stdout))
    except ValueError as error:
        raise InventoryError(f"inventory script {path} {' '.join(args)} printed no JSON: {error}.") from None


def base_dir(path):
    """Where `group_vars/` and `host_vars/` are looked for: the folder, or the file's folder."""
    path = Path(path)
    return (path if path.is_dir() else path.parent).resolve()
