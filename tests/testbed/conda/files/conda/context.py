"""Where conda's settings come from: the .condarc files in conda's search order, the environment
variables conda reads, and the defaults of a root prefix (the installation this conda belongs to).

Files later in the search order win for single values; for lists (channels, envs_dirs, pkgs_dirs)
their entries come first, as conda merges sequences.
"""
import os
import sys
from pathlib import Path

from . import condarc
from .exceptions import EnvironmentNameNotFound

SUBDIR = "linux-64"
LISTS = ("channels", "envs_dirs", "pkgs_dirs")


class Context:
    def __init__(self, root_prefix=None):
        self.root_prefix = str(root_prefix or sys.prefix)
        self.sources = [(path, condarc.loads(Path(path).read_text(), path)) for path in self.search_path()
                        if os.path.isfile(path)]

    def search_path(self):
        paths = ["/etc/conda/.condarc", f"{self.root_prefix}/.condarc", os.path.expanduser("~/.condarc")]
        return paths + ([os.environ["CONDARC"]] if os.environ.get("CONDARC") else [])

    def _setting(self, key, default=None):
        value = default
        for _, data in self.sources:
            if data.get(key) is not None:
                value = data[key]
        return value

    def _list(self, key):
        merged = []
        for _, data in reversed(self.sources):
            for item in data.get(key) or []:
                if item not in merged:
                    merged.append(item)
        return merged

    @property
    def channels(self):
        return self._list("channels") or ["defaults"]

    @property
    def custom_channels(self):
        """{name: location}, later files winning per name, variables expanded as conda expands them."""
        merged = {}
        for _, data in self.sources:
            merged.update(data.get("custom_channels") or {})
        return {str(name): os.path.expandvars(str(location)) for name, location in merged.items()}

    @property
    def channel_priority(self):
        return self._setting("channel_priority", "flexible")

    @property
    def auto_activate_base(self):
        return self._setting("auto_activate_base", True)

    @property
    def envs_dirs(self):
        configured = [_expand(p) for p in self._list("envs_dirs")]
        return configured or [f"{self.root_prefix}/envs", _expand("~/.conda/envs")]

    @property
    def pkgs_dirs(self):
        from_env = [p for p in os.environ.get("CONDA_PKGS_DIRS", "").split(",") if p]
        configured = from_env or [_expand(p) for p in self._list("pkgs_dirs")]
        return configured or [f"{self.root_prefix}/pkgs", _expand("~/.conda/pkgs")]

    def writable_pkgs_dir(self):
        return _first_writable(self.pkgs_dirs)

    def target_prefix(self, name=None, prefix=None):
        """The environment a command acts on: -n NAME, else -p PATH, else the active one, else base."""
        if name:
            return self.prefix_of(name)
        if prefix:
            return os.path.abspath(os.path.expanduser(prefix))
        return os.environ.get("CONDA_PREFIX") or self.root_prefix

    def prefix_of(self, name):
        """The prefix of an existing environment called `name` (`base` is the root prefix)."""
        if name in ("base", "root"):
            return self.root_prefix
        for envs_dir in self.envs_dirs:
            if os.path.isdir(os.path.join(envs_dir, name)):
                return os.path.join(envs_dir, name)
        raise EnvironmentNameNotFound(name)

    def new_prefix(self, name):
        """Where `create -n name` puts an environment: an existing one of that name, else the first
        envs dir this user can write to."""
        try:
            return self.prefix_of(name)
        except EnvironmentNameNotFound:
            return os.path.join(_first_writable(self.envs_dirs), name)

    def env_name(self, prefix):
        """How activation names an environment: `base`, its name under an envs dir, or its path."""
        if os.path.normpath(prefix) == os.path.normpath(self.root_prefix):
            return "base"
        parent, name = os.path.split(os.path.normpath(prefix))
        return name if any(os.path.normpath(d) == parent for d in self.envs_dirs) else prefix


def _expand(path):
    return os.path.normpath(os.path.expandvars(os.path.expanduser(str(path))))


def _first_writable(dirs):
    for directory in dirs:
        existing = directory
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if os.access(existing, os.W_OK):
            return directory
    return dirs[0]
