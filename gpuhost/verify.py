"""`gpuhost verify`: run the roles' testinfra checks (`gpuhost.roles.<role>.checks`) with pytest."""

import importlib.util

import pytest
import yaml

from gpuhost import pytest_plugin, registry


def run(targets, role_names, roles, overrides, inventory_path="", junit=""):
    """Run the checks of the roles against the targets; returns pytest's exit code (5 → 1)."""
    names = set(role_names)
    for target in targets:
        names |= set(role_names or target.vars.get("roles") or roles)
    modules = [f"{m.__name__}.checks" for m in registry.select(sorted(names), roles)
               if importlib.util.find_spec(f"{m.__name__}.checks")]
    urls = []
    for target in targets:
        pytest_plugin.TARGETS[target.address if not target.is_local else "local"] = target
        urls.append(pytest_plugin.testinfra_url(target))
    args = ["-q", "-rs", "-p", "no:cacheprovider", f"--hosts={','.join(urls)}", "--pyargs", *modules]
    args += [f"--gpuhost-set={key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
             for key, value in _flatten(overrides)]
    if inventory_path:
        args.append(f"--gpuhost-inventory={inventory_path}")
    if junit:
        args.append(f"--junitxml={junit}")
    code = int(pytest.main(args))
    return 1 if code == 5 else code


def _flatten(values, prefix=""):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
