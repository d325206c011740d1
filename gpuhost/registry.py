"""Roles: found in the `gpuhost.roles` package (and `$GPUHOST_EXTRA_ROLES`), ordered by REQUIRES.

A role is a module with `NAME`, `REQUIRES` (roles it must come after when both run), `steps(host,
settings)`, optionally `facts(settings)` (what it needs to know, read in the first round trip)
and a `defaults.yaml` beside it. The engine never imports a particular role by name.
"""

import graphlib
import importlib
import os
import pkgutil
import sys
from importlib import resources

from gpuhost import settings as settings_module
from gpuhost import yamlfile
from gpuhost.errors import InventoryError


def available():
    """{name: module} of every installed role and every extra role module."""
    import gpuhost.roles as package

    names = [f"gpuhost.roles.{m.name}" for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    extra = [n.strip() for n in os.environ.get("GPUHOST_EXTRA_ROLES", "").split(",") if n.strip()]
    if extra and os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # extra roles are importable from where gpuhost runs, like `python -m`
    roles = {}
    for dotted in names + extra:
        try:
            module = importlib.import_module(dotted)
        except ImportError as error:
            raise InventoryError(f"role module {dotted} cannot be imported: {error}.") from None
        roles[module.NAME] = module
    return roles


def select(names, roles=None):
    """Role modules for the given names (all when `names` is empty), in dependency order."""
    roles = roles if roles is not None else available()
    names = list(names) or list(roles)
    unknown = [n for n in names if n not in roles]
    if unknown:
        raise InventoryError(f"unknown role '{unknown[0]}' (roles: {', '.join(sorted(roles))}).")
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
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    path = resources.files(package).joinpath("defaults.yaml")
    if not path.is_file():
        return {}
    return yamlfile.loads(path.read_text(encoding="utf-8"), source=f"{module.__name__}/defaults.yaml") or {}


def defaults(modules):
    """Every known setting: each role's defaults under the engine's shared ones."""
    merged = {}
    for module in modules:
        merged = settings_module.merge(merged, role_defaults(module))
    return settings_module.merge(merged, settings_module.engine_defaults())
