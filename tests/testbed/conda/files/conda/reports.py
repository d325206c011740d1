"""The read-only commands: `conda list`, `conda env list`, `conda info`, `conda config --show`."""
import json
import os
import sys

from . import __version__, prefix as prefixes
from .channel import SUBDIRS, Channel, expand
from .context import SUBDIR
from .exceptions import ArgumentError, EnvironmentLocationNotFound


def list_packages(args, context):
    target = context.target_prefix(args.name, args.prefix)
    if not prefixes.is_env(target):
        raise EnvironmentLocationNotFound(target)
    held = prefixes.records(target)
    rows = [prefixes.dist_fields(r) for r in held.values()]
    rows += [prefixes.pip_fields(name, version) for name, version in prefixes.pip_packages(target, held)]
    rows.sort(key=lambda row: row["name"].lower())
    if args.json:
        _print_json(rows)
        return 0
    print(f"# packages in environment at {target}:\n#\n"
          f"# {'Name':<23} {'Version':<15} {'Build':>15}  Channel")
    for row in rows:
        channel = "pypi" if row["channel"] == "pypi" else Channel(row["base_url"]).canonical
        print(f"{row['name']:<25} {row['version']:<15} {row['build_string']:>15}  {channel}")
    return 0


def environments(context):
    """The root prefix, then every environment under the envs dirs or in ~/.conda/environments.txt."""
    found = [context.root_prefix]
    for envs_dir in context.envs_dirs:
        for name in sorted(os.listdir(envs_dir)) if os.path.isdir(envs_dir) else ():
            found.append(os.path.join(envs_dir, name))
    registry = os.path.expanduser("~/.conda/environments.txt")
    if os.path.isfile(registry):
        with open(registry) as handle:
            found += handle.read().split()
    unique = []
    for path in found:
        if prefixes.is_env(path) and os.path.normpath(path) not in unique:
            unique.append(os.path.normpath(path))
    return unique


def env_list(args, context):
    envs = environments(context)
    if args.json:
        _print_json({"envs": envs})
        return 0
    active = os.environ.get("CONDA_PREFIX", "")
    print("# conda environments:\n#")
    for path in envs:
        name = context.env_name(path)
        name = "" if name == path else name
        print(f"{name:<22} {'*' if os.path.normpath(active or '-') == path else ' '} {path}")
    print()
    return 0


def info(args, context):
    if args.envs:
        return env_list(args, context)
    channels = [c.url(s) for c in expand(context.channels) for s in SUBDIRS]
    document = {"active_prefix": os.environ.get("CONDA_PREFIX"), "channels": channels,
                "conda_prefix": context.root_prefix, "conda_version": __version__,
                "envs": environments(context), "envs_dirs": context.envs_dirs, "pkgs_dirs": context.pkgs_dirs,
                "platform": SUBDIR, "python_version": ".".join(map(str, sys.version_info[:3])) + ".final.0",
                "root_prefix": context.root_prefix, "sys.version": sys.version,
                "config_files": [path for path, _ in context.sources]}
    if args.json:
        _print_json(document)
        return 0
    width = max(len(k) for k in document)
    for key, value in document.items():
        value = ("\n" + " " * (width + 5)).join(value) if isinstance(value, list) else value
        print(f"{key:>{width + 2}} : {value}")
    return 0


def config_show(args, context):
    values = {"auto_activate_base": context.auto_activate_base, "channel_priority": context.channel_priority,
              "channels": context.channels, "envs_dirs": context.envs_dirs, "pkgs_dirs": context.pkgs_dirs,
              "root_prefix": context.root_prefix}
    keys = args.show or sorted(values)
    unknown = [k for k in keys if k not in values]
    if unknown:
        raise ArgumentError(f"Invalid configuration parameters: {unknown}")
    shown = {k: values[k] for k in keys}
    if args.json:
        _print_json(shown)
        return 0
    for key, value in shown.items():
        if isinstance(value, list):
            print(f"{key}:" + "".join(f"\n  - {item}" for item in value))
        else:
            print(f"{key}: {str(value).lower() if isinstance(value, bool) else value}")
    return 0


def _print_json(document):
    print(json.dumps(document, indent=2, sort_keys=True), flush=True)
