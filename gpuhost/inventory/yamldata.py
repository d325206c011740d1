"""Variable and inventory files read as Ansible reads them: JSON first, then YAML 1.1 with its tags.

Mappings remember the line of each key (errors name file and line), numbers with a fraction keep
their text, `!unsafe` marks text that is never rendered, `!vault` keeps its ciphertext, and a
vault-encrypted file is something only Ansible can open.
"""

import copy
import json
from pathlib import Path

import yaml

from gpuhost.errors import InventoryError
from gpuhost.inventory.data import (
    INSTALL_ANSIBLE,
    FloatText,
    NeedsAnsible,
    Unsafe,
    Vaulted,
    from_ansible_json,
)
from gpuhost import yamlfile

VAULT_HEADER = "$ANSIBLE_VAULT;"


class _Loader(yamlfile._Loader):
    """gpuhost's loader, with Ansible's tags, its numbers kept as written, and any hashable key."""

    def key_allowed(self, key):
        try:
            hash(key)
        except TypeError:
            return False
        return True

    def construct_float_text(self, node):
        return FloatText(self.construct_scalar(node), self.construct_yaml_float(node))

    def construct_unsafe(self, node):
        resolved = copy.copy(node)
        resolved.tag = self.resolve(type(node), node.value, (True, False))
        return _unsafe(self.construct_object(resolved, deep=True))

    def construct_vault(self, node):
        return Vaulted(self.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_located)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_float_text)
_Loader.add_constructor("!unsafe", _Loader.construct_unsafe)
_Loader.add_constructor("!vault", _Loader.construct_vault)
_Loader.add_constructor("!vault-encrypted", _Loader.construct_vault)


def _unsafe(value):
    if isinstance(value, dict):
        return {k: _unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsafe(v) for v in value]
    return Unsafe(value) if isinstance(value, str) else value


def loads(text, source):
    """Parse JSON or YAML text as Ansible does; errors name the file and line."""
    if text.lstrip().startswith(VAULT_HEADER):
        raise NeedsAnsible(f"{source} is encrypted with Ansible Vault: {INSTALL_ANSIBLE}, with the vault password "
                           "given as Ansible takes it (ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg).")
    try:
        return from_ansible_json(json.loads(text, parse_float=lambda s: FloatText(s, float(s))))
    except ValueError:
        pass
    return yamlfile.loads(text, source, loader=_Loader)


def read_text(path):
    """A file's text; an unreadable file is one sentence."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "it is not UTF-8 text"
        raise InventoryError(f"{path}: cannot be read: {reason}.") from None


def load(path):
    """Parse a JSON or YAML file (see `loads`)."""
    return loads(read_text(path), path)
