"""Layered settings: role defaults < engine defaults < all < groups < host < --set.

Settings are one nested mapping per host. Mappings merge key by key; any other value replaces
the one below it. Types are checked against the defaults, so a typo or a wrong type is caught
before any host is touched, with the file and line it came from.

Some settings may hold credentials (a conda channel's token, a package index's password). A
role's defaults name them under `secret_settings` (`conda_r_python.pip_index_url: true`): their values
are never quoted in an error. Whatever gpuhost prints or records passes through `redact`, which
masks a URL's user:password@ and an anaconda.org-style `/t/<token>/` path segment wherever
they appear, and the values of keys that name a password, secret, token or passphrase.
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
SECRETS = "secret_settings"  # {dotted setting: true} in a role's defaults
MASK = "***"
USERINFO = re.compile(r"(?<=://)[^/\s@'\"<>]+@")
TOKEN = re.compile(r"(?<=/t/)[^/\s'\"<>*]+(?=/|$|[\s'\"<>])")


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


def check(values, defaults, path="", secrets=None):
    """Reject keys the defaults do not know and values of another type than the default's."""
    secrets = secret_paths(defaults) if secrets is None else secrets
    for key, value in values.items():
        dotted = f"{path}{key}"
        if not path and (str(key).startswith(CONNECTION_PREFIX) or key in EXTRA_KEYS):
            continue
        if not path and key == SECRETS:
            raise InventoryError(f"{_where(values, key)}'{SECRETS}' is the roles' own list of settings that hold "
                                 "credentials; it is not set in an inventory.")
        if key not in defaults:
            hint = difflib.get_close_matches(str(key), [str(k) for k in defaults], n=1)
            also = f" (did you mean '{path}{hint[0]}'?)" if hint else ""
            raise InventoryError(f"{_where(values, key)}unknown setting '{dotted}'{also}.")
        default = defaults[key]
        if isinstance(default, dict) and default:
            if not isinstance(value, dict):
                raise InventoryError(f"{_where(values, key)}'{dotted}' must be a mapping, not {_kind(value)}.")
            check(value, default, f"{dotted}.", secrets)
        elif default is not None and value is not None and not _same_kind(default, value):
            shown = "" if dotted in secrets else f" ({redact_text(repr(value))})"
            raise InventoryError(f"{_where(values, key)}'{dotted}' must be {_kind(default)}, not {_kind(value)}{shown}.")


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


def secret_paths(defaults):
    """The dotted names of the settings whose values may hold credentials, as the defaults mark them."""
    return {str(name) for name, secret in (defaults.get(SECRETS) or {}).items() if secret}


def redact(value):
    """A copy with every secret-looking value replaced, for reports and logs."""
    if isinstance(value, dict):
        return {k: MASK if _secret(k) and v else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return redact_text(value) if isinstance(value, str) else value


def redact_text(text):
    """`text` with every URL's user:password@ and every `/t/<token>/` path segment masked."""
    return TOKEN.sub(MASK, USERINFO.sub(MASK + "@", text))


def has_credentials(url):
    """True when a URL carries user:password@ or a `/t/<token>/` path segment."""
    return redact_text(url) != url


def _secret(key):
    return any(word in str(key).lower() for word in ("password", "secret", "token", "passphrase"))
