"""Layered settings: role defaults < engine defaults < all < groups < host < --set.

Settings are one nested mapping per host. Mappings merge key by key; any other value replaces
the one below it. Types are checked against the defaults, so a typo or a wrong type is caught
before any host is touched, with the file and line it came from.
"""

import difflib
import re
from importlib import resources

from gpuhost import yamlfile
from gpuhost.errors import InventoryError

#: Inventory keys that describe how to connect, not what to converge.
CONNECTION_PREFIX = "ansible_"
SET_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # daemon.json keys have dashes (live-restore)
EXTRA_KEYS = {"roles", "gpuhost_known_hosts_file"}


def engine_defaults():
    """Settings shared by several roles (repositories, the version request, apt)."""
    text = resources.files("gpuhost.data").joinpath("defaults.yaml").read_text(encoding="utf-8")
    return yamlfile.loads(text, source="gpuhost/data/defaults.yaml")


def merge(base, override):
    """Deep-merge two settings mappings into a new one."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_set(items):
    """Turn `--set a.b=value` strings into a nested mapping; values are YAML scalars."""
    result = {}
    for item in items:
        key, sep, raw = item.partition("=")
        parts = key.split(".")
        if not sep or not all(SET_KEY.match(part) for part in parts):
            raise InventoryError(
                f"--set {item!r}: expected KEY.SUB=VALUE with KEY made of letters, digits, '_' and '-'."
            )
        value = yamlfile.loads(raw, source=f"--set {key}") if raw.strip() else ""
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InventoryError(f"--set {item!r}: {part!r} is set twice.")
        node[parts[-1]] = value
    return result


def check(values, defaults, path=""):
    """Reject keys the defaults do not know and values of another type than the default's."""
    for key, value in values.items():
        dotted = f"{path}{key}"
        if not path and (str(key).startswith(CONNECTION_PREFIX) or key in EXTRA_KEYS):
            continue
        if key not in defaults:
            hint = difflib.get_close_matches(str(key), [str(k) for k in defaults], n=1)
            also = f" (did you mean '{path}{hint[0]}'?)" if hint else ""
            raise InventoryError(f"{_where(values, key)}unknown setting '{dotted}'{also}.")
        default = defaults[key]
        if isinstance(default, dict) and default:
            if not isinstance(value, dict):
                raise InventoryError(f"{_where(values, key)}'{dotted}' must be a mapping, not {_kind(value)}.")
            check(value, default, f"{dotted}.")
        elif default is not None and value is not None and not _same_kind(default, value):
            raise InventoryError(
                f"{_where(values, key)}'{dotted}' must be {_kind(default)}, not {_kind(value)} ({value!r})."
            )


def _same_kind(default, value):
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)) and isinstance(value, str):
        return False
    if isinstance(default, str):
        return isinstance(value, (str, int))
    for kind in (dict, list):  # defaults read from YAML are subclasses (with line numbers)
        if isinstance(default, kind):
            return isinstance(value, kind)
    return isinstance(value, type(default)) or (isinstance(default, int) and isinstance(value, int))


def _kind(value):
    names = {bool: "true or false", int: "a number", str: "text", list: "a list", dict: "a mapping"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "empty" if value is None else type(value).__name__


def _where(values, key):
    where = values.where(key) if isinstance(values, yamlfile.Located) else ""
    return f"{where}: " if where else ""


def redact(value):
    """A copy with every secret-looking value replaced, for reports and logs."""
    if isinstance(value, dict):
        return {k: "***" if _secret(k) and v else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _secret(key):
    return any(word in str(key).lower() for word in ("password", "secret", "token", "passphrase"))
