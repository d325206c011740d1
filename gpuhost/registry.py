"""Roles: found in the `gpuhost.roles` package (and `$GPUHOST_EXTRA_ROLES`), ordered by REQUIRES.

A role is a module with `NAME`, `REQUIRES` (roles it must come after when both run), `steps(host,
settings)`, optionally `facts(settings)` (what it needs to know, read in the first round trip)
and a `defaults.yaml` beside it. The engine never imports a particular role by name.
"""

import copy
import functools
import graphlib
import importlib
import importlib.util
import os
import pkgutil
import sys
from collections.abc import Mapping
from pathlib import Path

from gpuhost import settings as settings_module
from gpuhost import yamlfile
from gpuhost.errors import InventoryError


class Roles(Mapping):
    """{name: role module}, each module imported when first asked for, so a run imports only the
    roles it runs; names and settings come from the folders and defaults files alone."""

    def __init__(self, dotted_names):
        self._dotted = {_name_of(d): d for d in dotted_names}
        self._modules = {}

    def __getitem__(self, name):
        if name not in self._modules:
            self._modules[name] = _import(self._dotted[name], name)
        return self._modules[name]

    def __contains__(self, name):
        return name in self._dotted

    def __iter__(self):
        return iter(self._dotted)

    def __len__(self):
        return len(self._dotted)

    def defaults(self):
        """Every known setting (all roles' defaults under the engine's), without importing a role."""
        return copy.deepcopy(_merged(tuple(self._dotted.values())))


def available():
    """Roles of the `gpuhost.roles` package and of `$GPUHOST_EXTRA_ROLES` (dotted module names)."""
    import gpuhost.roles as package

    names = [f"gpuhost.roles.{m.name}" for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    extra = [n.strip() for n in os.environ.get("GPUHOST_EXTRA_ROLES", "").split(",") if n.strip()]
    if extra and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # extra roles are importable from where gpuhost runs, like `python -m`
    return Roles(names + extra)


def _name_of(dotted):
    """A role's one name, from its module's: folder `nvidia_toolkit` is role `nvidia-toolkit`."""
    return dotted.rpartition(".")[2].replace("_", "-")


def _import(dotted, name):
    try:
        module = importlib.import_module(dotted)
    except ImportError as error:
        raise InventoryError(f"role module {dotted} cannot be imported: {error}.") from None
    if module.NAME != name:
        raise InventoryError(f"role module {dotted} names itself {module.NAME!r}; its name must be {name!r}, "
                             "its module's name with dashes.")
    return module


def known(names, roles):
    """The role names asked for (all when `names` is empty), each one known; nothing is imported."""
    names = list(names) or list(roles)
    unknown = [n for n in names if n not in roles]
    if unknown:
        raise InventoryError(f"unknown role '{unknown[0]}' (roles: {', '.join(sorted(roles))}).")
    return names


def select(names, roles=None):
    """Role modules for the given names (all when `names` is empty), in dependency order."""
    roles = roles if roles is not None else available()
    names = known(names, roles)
    graph = {n: [r for r in roles[n].REQUIRES if r in names] for n in sorted(names)}
    try:
        return [roles[n] for n in graphlib.TopologicalSorter(graph).static_order()]
    except graphlib.CycleError as error:
        raise InventoryError(f"roles require each other in a cycle: {' → '.join(error.args[1])}.") from None


def settings_key(module):
    """The one name of a role in its other spellings: `nvidia-toolkit` → settings key and folder `nvidia_toolkit`."""
    return module.NAME.replace("-", "_")


def role_defaults(module):
    """The role's defaults.yaml (empty when it has none)."""
    return copy.deepcopy(_defaults_file(module.__name__))


@functools.cache
def _defaults_file(dotted):
    """A role module's defaults.yaml, found beside it without importing it (read once per process)."""
    try:
        spec = importlib.util.find_spec(dotted)
    except ImportError as error:
        raise InventoryError(f"role module {dotted} cannot be imported: {error}.") from None
    if spec is None:  # not on disk (made in memory): no defaults file; importing it would say so
        return {}
    folder = Path(spec.submodule_search_locations[0]) if spec.submodule_search_locations else Path(spec.origin).parent
    path = folder / "defaults.yaml"
    if not path.is_file():
        return {}
    return yamlfile.loads(path.read_text(encoding="utf-8"), source=f"{dotted}/defaults.yaml") or {}


@functools.cache
def _merged(dotted_names):
    merged = {}
    for dotted in dotted_names:
        merged = settings_module.merge(merged, _defaults_file(dotted))
    return settings_module.merge(merged, settings_module.engine_defaults())


def defaults(modules):
    """Every setting of these roles: each role's defaults under the engine's shared ones."""
    return copy.deepcopy(_merged(tuple(m.__name__ for m in modules)))


def known_settings(roles):
    """Every setting of a {name: module} mapping, without importing the roles of a `Roles`."""
    return roles.defaults() if isinstance(roles, Roles) else defaults(roles.values())
