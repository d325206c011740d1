"""Reading an inventory through Ansible itself, where it is installed: vault, inventory plugins
(`aws_ec2`, `gcp_compute`, …), `ansible.cfg` and collections then work exactly as in Ansible.

`GPUHOST_INVENTORY_READER` chooses: `auto` (the default) reads with gpuhost's own reader and turns
to `ansible-inventory` for what only Ansible reads; `ansible` always asks Ansible; `gpuhost` never
does. Ansible's commands are looked for in `$GPUHOST_ANSIBLE_BIN`, beside the Python running
gpuhost, then on PATH. Inline vaulted values are decrypted by `ansible-vault` only when gpuhost
uses them, with the vault password Ansible is given (ANSIBLE_VAULT_PASSWORD_FILE, ansible.cfg).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gpuhost.errors import InventoryError
from gpuhost.inventory.data import INSTALL_ANSIBLE, NeedsAnsible, from_ansible_json

READERS = ("auto", "gpuhost", "ansible")


def reader():
    """The reader $GPUHOST_INVENTORY_READER asks for."""
    chosen = os.environ.get("GPUHOST_INVENTORY_READER", "auto").strip() or "auto"
    if chosen not in READERS:
        raise InventoryError(f"GPUHOST_INVENTORY_READER is '{chosen}'; it is one of {', '.join(READERS)}.")
    return chosen


def command(name):
    """The path of one of Ansible's commands, or None where Ansible is not installed."""
    folders = [os.environ.get("GPUHOST_ANSIBLE_BIN"), str(Path(sys.executable).parent)]
    for folder in filter(None, folders):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def installed():
    return command("ansible-inventory") is not None


def listing(path):
    """`ansible-inventory --list` of `path`, parsed, and Ansible's warnings."""
    data, warnings = _run("ansible-inventory", "-i", str(path), "--list")
    return from_ansible_json(data), warnings


def host(path, name):
    """`ansible-inventory --host NAME`: also hosts Ansible makes up (the implicit localhost)."""
    data, _ = _run("ansible-inventory", "-i", str(path), "--host", name)
    return from_ansible_json(data)


def decrypt(vaulted, what):
    """The clear text of an inline vaulted value; `what` names it in errors."""
    program = command("ansible-vault")
    if program is None:
        raise NeedsAnsible(f"{what} is encrypted with Ansible Vault: {INSTALL_ANSIBLE}, with the vault password "
                           "given as Ansible takes it (ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg).")
    done = subprocess.run([program, "decrypt", "--output", "-"], input=vaulted.ciphertext, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise InventoryError(f"ansible-vault cannot decrypt {what}: {_last_error(done.stderr)}")
    return done.stdout


def _run(name, *args):
    program = command(name)
    if program is None:
        raise NeedsAnsible(f"GPUHOST_INVENTORY_READER=ansible needs {name}: {INSTALL_ANSIBLE}.")
    done = subprocess.run([program, *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    if done.returncode != 0:
        raise InventoryError(f"{name} {' '.join(args)} failed: {_last_error(done.stderr)}")
    warnings = [line.partition(":")[2].strip() for line in done.stderr.splitlines() if line.startswith("[WARNING]")]
    try:
        return json.loads(done.stdout), warnings
    except ValueError:
        raise InventoryError(f"{name} {' '.join(args)} printed no JSON.") from None


def _last_error(stderr):
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("[ERROR]", "ERROR"))]
    said = (errors or lines or ["no message"])[0]
    return said.partition(":")[2].strip() if said.startswith(("[ERROR]", "ERROR")) else said
