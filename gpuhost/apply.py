"""Using one role from your own Fabric script: `from gpuhost.roles import cuda; cuda.apply(c, ...)`."""

import sys

from gpuhost import registry, runner, settings
from gpuhost.host import Host


def apply(context, module, check=False, **values):
    """Converge one role on a Fabric Connection or Invoke Context; returns the HostResult.

    Keyword arguments set the role's own settings, except the names of the `stack` request
    (`cuda="12.4"`, `cudnn="9"`, ...) which set the request shared by the NVIDIA roles, and
    whole sections passed as mappings (`nvidia_repo={"url": ...}`).
    """
    defaults = registry.defaults([module])
    overrides = {}
    for key, value in values.items():
        if key in defaults.get("stack", {}):
            overrides.setdefault("stack", {})[key] = value
        elif isinstance(value, dict) and key in defaults:
            overrides[key] = value
        else:
            overrides.setdefault(registry.settings_key(module), {})[key] = value
    settings.check(overrides, defaults)
    name = getattr(context, "host", None) or "local"
    host = Host(name, context, become_password=getattr(getattr(context, "config", None), "sudo", {}).get("password"))
    result = runner.HostResult(name=name)
    options = runner.Options(check=check, echo=False)
    runner.converge_host(host, [module], settings.merge(defaults, overrides), options, result)
    return result



def for_role(module_name):
    """The `apply(c, **settings)` a role module exposes: `apply = for_role(__name__)`."""

    def apply_role(context, check=False, **values):
        return apply(context, sys.modules[module_name], check=check, **values)

    apply_role.__doc__ = f"Converge the {module_name.rpartition('.')[2]} role on a Fabric Connection or Invoke Context."
    return apply_role
