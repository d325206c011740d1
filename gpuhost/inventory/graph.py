"""Hosts and groups as Ansible links them (ansible-core's InventoryData, Group and Host).

The order things are added is kept, since `ansible-inventory --list` shows it; a group's depth is
its longest path from `all`, and with its `ansible_group_priority` and name it orders the groups
whose variables a host gets. After reading, `reconcile` hangs every top group under `all` and every
host without a group under `ungrouped`.
"""

import os

from gpuhost.errors import InventoryError

LOCALHOST = ("127.0.0.1", "localhost", "::1")


class Group:
    def __init__(self, name):
        self.name = name
        self.depth = 0
        self.priority = 1
        self.hosts = []
        self.vars = {}
        self.children = []
        self.parents = []

    def ancestors(self):
        return _walk(self, "parents")

    def descendants(self):
        """This group and those below it, in Ansible's order (breadth first, first seen first)."""
        ordered, seen, layer = [self], {self}, [self]
        while layer:
            following = []
            for group in layer:
                for child in group.children:
                    if child not in seen:
                        seen.add(child)
                        ordered.append(child)
                        following.append(child)
            layer = following
        return ordered

    def all_hosts(self):
        """Every host of this group and the groups below it, first seen first."""
        found = {}
        for group in self.descendants():
            for host in group.hosts:
                found.setdefault(host.name, host)
        return list(found.values())

    def add_child(self, group):
        if group is self:
            raise InventoryError(f"inventory group '{self.name}' cannot hold itself.")
        if group in self.children:
            return
        ancestors = self.ancestors()
        if group in ancestors:
            chain = " → ".join([*_path(group, self), group.name])
            raise InventoryError(f"inventory groups form a cycle: {chain}.")
        added = (ancestors | {self}) - group.ancestors()
        self.children.append(group)
        group.depth = max(self.depth + 1, group.depth)
        group.deepen()
        if self not in group.parents:
            group.parents.append(self)
            for host in group.all_hosts():
                host.groups.extend(g for g in _ordered(added) if g not in host.groups)

    def deepen(self):
        for child in self.children:
            if child.depth < self.depth + 1:
                child.depth = self.depth + 1
                child.deepen()

    def add_host(self, host):
        if host not in self.hosts:
            self.hosts.append(host)
            host.add_group(self)

    def remove_host(self, host):
        if host in self.hosts:
            self.hosts.remove(host)
            host.remove_group(self)

    def set_variable(self, key, value):
        if key == "ansible_group_priority":
            try:
                self.priority = int(value)
            except (TypeError, ValueError):
                raise InventoryError(f"ansible_group_priority of group '{self.name}' must be a number.") from None
        else:
            self.vars[key] = value


class Host:
    def __init__(self, name, port=None):
        self.name = name
        self.vars = {"ansible_port": int(port)} if port else {}
        self.groups = []
        self.implicit = False

    def add_group(self, group):
        for ancestor in _ordered(group.ancestors()):
            if ancestor not in self.groups:
                self.groups.append(ancestor)
        if group not in self.groups:
            self.groups.append(group)

    def remove_group(self, group):
        if group not in self.groups:
            return
        self.groups.remove(group)
        for ancestor in group.ancestors():
            if ancestor.name != "all" and not any(ancestor in g.ancestors() for g in self.groups):
                self.remove_group(ancestor)

    def set_variable(self, key, value):
        self.vars[key] = value


class Graph:
    """Every group and host read so far; `source` is the file being read (hosts remember the first)."""

    def __init__(self):
        self.groups = {}
        self.hosts = {}
        self.source = None
        self.warnings = []
        self.empty = []  # files that hold nothing
        for name in ("all", "ungrouped"):
            self.add_group(name)
        self.add_child("all", "ungrouped")

    def add_group(self, name):
        if not isinstance(name, str) or not name:
            raise InventoryError(f"'{name}' is no valid group name: a group name is text.")
        self.groups.setdefault(name, Group(name))
        return name

    def add_host(self, name, group=None, port=None):
        if not isinstance(name, str) or not name:
            raise InventoryError(f"'{name}' is no valid host name: a host name is text.")
        if name not in self.hosts:
            self.hosts[name] = Host(name, port)
            self.hosts[name].vars.update(inventory_file=self.source, inventory_dir=_basedir(self.source))
        if group:
            self.groups[group].add_host(self.hosts[name])
        return name

    def set_variable(self, entity, key, value):
        """As Ansible does, a name that is both a group and a host sets the group's variable."""
        target = self.groups.get(entity) or self.hosts[entity]
        target.set_variable(key, value)

    def add_child(self, group, child):
        if child in self.groups:
            self.groups[group].add_child(self.groups[child])
        elif child in self.hosts:
            self.groups[group].add_host(self.hosts[child])
        else:
            raise InventoryError(f"'{child}' is neither a group nor a host of the inventory.")

    def reconcile(self):
        for group in list(self.groups.values()):
            if group.name != "all" and not group.ancestors():
                self.add_child("all", group.name)
        ungrouped, everything = self.groups["ungrouped"], self.groups["all"]
        for host in self.hosts.values():
            if ungrouped in host.groups:
                if set(host.groups) - {everything, ungrouped}:
                    ungrouped.remove_host(host)
            elif not host.groups or host.groups == [everything]:
                self.add_child("ungrouped", host.name)
        for name in sorted(set(self.groups) & set(self.hosts)):
            self.warnings.append(f"'{name}' is both a group and a host.")


def sort_groups(groups):
    """Ansible's order for group variables: shallow before deep, then priority, then name."""
    return sorted(groups, key=lambda g: (g.depth, g.priority, g.name))


def _walk(group, relation):
    seen, todo = set(), set(getattr(group, relation))
    while todo:
        seen |= todo
        todo = {g for item in todo for g in getattr(item, relation)} - seen
    return seen


def _ordered(groups):
    return sorted(groups, key=lambda g: (g.depth, g.name))


def _path(start, goal):
    """Group names from `start` down to `goal` through children (for a cycle's message)."""
    if start is goal:
        return [start.name]
    for child in start.children:
        rest = _path(child, goal)
        if rest:
            return [start.name, *rest]
    return []


def _basedir(source):
    if source is None:
        return None
    return os.path.abspath(source if os.path.isdir(source) else os.path.dirname(source) or ".")
