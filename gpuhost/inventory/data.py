"""The values inventories hold besides plain YAML: numbers as written, `!unsafe` text, vaulted text.

Each keeps what gpuhost needs (the text `12.10`, a CUDA version) and converts to what Ansible
shows (`12.1`) where gpuhost prints an inventory the way `ansible-inventory` does.
"""

import datetime

from gpuhost.errors import InventoryError

INSTALL_ANSIBLE = ("install Ansible beside gpuhost (pip install 'gpuhost[ansible]', or ansible-core), and gpuhost "
                   "reads the inventory through ansible-inventory")


class NeedsAnsible(InventoryError):
    """Something only Ansible itself can read: vault, an inventory plugin, a TOML inventory."""


class FloatText(str):
    """A number with a fraction, kept as written (`12.10` is a CUDA version); `value` is Ansible's float."""

    def __new__(cls, text, value):
        made = super().__new__(cls, text)
        made.value = value
        return made


class Unsafe(str):
    """Text Ansible never renders as a template (`!unsafe`)."""


class Vaulted:
    """An inline Ansible Vault value; decrypted by ansible-vault only when gpuhost uses it."""

    def __init__(self, ciphertext):
        self.ciphertext = str(ciphertext)

    def __eq__(self, other):
        return isinstance(other, Vaulted) and other.ciphertext == self.ciphertext

    def __hash__(self):
        return hash(self.ciphertext)

    def __repr__(self):
        return "Vaulted(...)"


def as_ansible_json(value, unsafe_marked=True):
    """A value as ansible-inventory's JSON shows it (`unsafe_marked`: as `--list` wraps `!unsafe` text)."""
    if isinstance(value, dict):
        return {_key(k): as_ansible_json(v, unsafe_marked) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [as_ansible_json(v, unsafe_marked) for v in value]
    if isinstance(value, FloatText):
        return value.value
    if isinstance(value, Unsafe):
        return {"__ansible_unsafe": str(value)} if unsafe_marked else str(value)
    if isinstance(value, Vaulted):
        return {"__ansible_vault": value.ciphertext}
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)
    return value


def from_ansible_json(value):
    """The inverse of `as_ansible_json` for what ansible-inventory and inventory scripts print."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_vault"}:
            return Vaulted(value["__ansible_vault"])
        if set(value) == {"__ansible_unsafe"}:
            return Unsafe(value["__ansible_unsafe"])
        return {k: from_ansible_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_ansible_json(v) for v in value]
    return value


def _key(key):
    return key.value if isinstance(key, FloatText) else key


class InvalidSetting(InventoryError):
    """A gpuhost setting written wrong: an error whichever file it is in, never a file skipped."""
