"""`group_vars/` and `host_vars/`, found and layered as Ansible's `host_group_vars` plugin does.

For a group or host NAME the first of `NAME` (a file, or a folder read recursively in name order,
hidden files and `~` backups skipped, files with no extension or `.yml`/`.yaml`/`.json`),
`NAME.yml`, `NAME.yaml`, `NAME.json` is read; files of groups and hosts not in the inventory are
never read. A host's variables, lowest first: `all`'s, its groups' in the inventory (shallow to
deep, then `ansible_group_priority`, then name), `group_vars/all`, its groups' `group_vars`, its
own in the inventory, its `host_vars`. A variable set higher replaces the whole value below it.
"""

import os

from gpuhost.errors import InventoryError
from gpuhost.inventory import yamldata
from gpuhost.inventory.graph import sort_groups

EXTENSIONS = (".yml", ".yaml", ".json")


class VarFiles:
    """The variable files next to one inventory, each read and checked once."""

    def __init__(self, base, check, warnings):
        self.base = base
        self.check = check
        self.warnings = warnings
        self.cache = {}

    def variables(self, kind, name):
        """The merged variables of `group_vars/NAME` or `host_vars/NAME` (kind: the folder)."""
        if self.base is None or name.startswith(os.sep):
            return {}
        folder = self.base / kind
        if not folder.is_dir():
            if folder.exists():
                self.warnings.append(f"skipping {folder}: it is no folder.")
            return {}
        merged = {}
        for path in find(folder, name):
            merged.update(self._load(path))
        return merged

    def _load(self, path):
        if path not in self.cache:
            data = yamldata.load(path)
            if data and not isinstance(data, dict):
                raise InventoryError(f"{path}: variables must be a mapping, not {type(data).__name__}.")
            self.check(data or {})
            self.cache[path] = data or {}
        return self.cache[path]


def find(folder, name):
    """The files holding NAME's variables in `folder`, in the order they are layered."""
    for extension in ("", *EXTENSIONS):
        path = folder / f"{name}{extension}"
        if path.is_dir():
            return _folder_files(path)
        if path.exists():
            return [path]
    return []


def _folder_files(folder):
    found = []
    for name in sorted(os.listdir(folder)):
        if name.startswith(".") or name.endswith("~"):
            continue
        path = folder / name
        extension = os.path.splitext(name)[1]
        if path.is_dir() and not extension:
            found.extend(_folder_files(path))
        elif path.is_file() and (not extension or extension in EXTENSIONS):
            found.append(path)
    return found


def layered(graph, host, files):
    """A host's variables as Ansible layers them (see the module's docstring)."""
    groups = sort_groups([g for g in host.groups if g.name != "all"])
    merged = dict(graph.groups["all"].vars)
    for group in groups:
        merged.update(group.vars)
    merged.update(files.variables("group_vars", "all"))
    for group in groups:
        merged.update(files.variables("group_vars", group.name))
    merged.update(host.vars)
    merged.update(files.variables("host_vars", host.name))
    return merged
