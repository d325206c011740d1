"""The three tools of `peers.py`: where the peers are installed, how each is run, and how each
tool's own recap says what it changed.

The peers (Ansible, pyinfra) live in virtual environments of their own under .testbed/peers/,
installed from PyPI by the benchmark; they are never gpuhost's dependencies.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DATA = HERE / "peers"
REPO = HERE.parent
WORK = REPO / ".testbed" / "peers"
# PyPI distribution and version of each peer, as issue 15 compares them
PEERS = {"ansible": "ansible-core==2.19.*", "pyinfra": "pyinfra==3.10.*"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Ansible's PLAY RECAP line, e.g. `tb31 : ok=17 changed=0 unreachable=0 failed=0 skipped=4 rescued=0 ignored=0`
ANSIBLE_RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
# pyinfra's results table ends with `Grand total  <hosts>  <success>  <error>  <no change>` ("-" for none);
# "Success" counts operations that changed something (pyinfra_cli/prints.py, print_results)
PYINFRA_TOTAL = re.compile(r"^\s*Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", re.M)
# gpuhost's recap (gpuhost/report.py): `host  status  changed  commands  rebooted  seconds`, one row a host
GPUHOST_ROW = re.compile(r"^(\S+)\s+(ok|changed|failed|unreachable)\s+(\d+)\s+\d+\s+(?:yes|no)\s+[\d.]+\s*$", re.M)


class RecapError(ValueError):
    """A tool's output holds no recap to read (it crashed, or printed something else)."""


@dataclass(frozen=True)
class Recap:
    """What a tool says it did: operations changed and hosts failed, summed over the hosts."""

    changed: int
    failed: int


@dataclass(frozen=True)
class Outcome:
    """One run of a tool: its wall time, exit code and output, or that it ran out of time."""

    seconds: float
    code: int
    output: str
    timed_out: bool = False


def parse_ansible(output, hosts):
    """Ansible's PLAY RECAP → Recap; every host must have its line."""
    rows = {m.group(1): m for m in ANSIBLE_RECAP.finditer(ANSI.sub("", output))}
    missing = [h for h in hosts if h not in rows]
    if missing:
        raise RecapError(f"Ansible's recap has no line for {', '.join(missing)}.")
    lines = [rows[h] for h in hosts]
    return Recap(changed=sum(int(m.group(2)) for m in lines),
                 failed=sum(int(m.group(3)) + int(m.group(4)) > 0 for m in lines))


def parse_pyinfra(output):
    """pyinfra's `Grand total` row → Recap (changed operations, errors)."""
    totals = PYINFRA_TOTAL.findall(ANSI.sub("", output))
    if not totals:
        raise RecapError("pyinfra's output has no results table (no `Grand total` row).")
    _hosts, success, error, _no_change = (0 if cell == "-" else _count(cell) for cell in totals[-1])
    return Recap(changed=success, failed=error)


def parse_gpuhost(output, hosts):
    """gpuhost's recap table → Recap; every host must have its row."""
    rows = {m.group(1): m for m in GPUHOST_ROW.finditer(output)}
    missing = [h for h in hosts if h not in rows]
    if missing:
        raise RecapError(f"gpuhost's recap has no row for {', '.join(missing)}.")
    return Recap(changed=sum(int(rows[h].group(3)) for h in hosts),
                 failed=sum(rows[h].group(2) in ("failed", "unreachable") for h in hosts))


def _count(cell):
    if not cell.isdigit():
        raise RecapError(f"pyinfra's `Grand total` row has {cell!r} where a count belongs.")
    return int(cell)


def ensure_venv(tool):
    """The tool's virtual environment (created when missing) and the tool's version.

    A peer comes from PyPI. gpuhost is installed from this checkout as a user installs it, `pip
    install .`: no editable finder, bytecode compiled at install; pip reinstalls a folder every time.
    """
    venv = WORK / f"venv-{tool}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    source = str(REPO) if tool == "gpuhost" else PEERS[tool]
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", source],
                         capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install {source} into {venv}: {pip.stderr.strip()[-600:]}")
    distribution = "gpuhost" if tool == "gpuhost" else PEERS[tool].partition("==")[0]
    version = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    return venv, version


def write_inventories(addresses, key, known_hosts, stack_file):
    """Ansible's (YAML) and pyinfra's (Python) inventories of these hosts ({name: address}), the
    hosts' keys pinned from the testbed's known_hosts as gpuhost pins them; returns both paths."""
    WORK.mkdir(parents=True, exist_ok=True)
    ssh_args = f"-o UserKnownHostsFile={shlex.quote(str(known_hosts))} -o StrictHostKeyChecking=yes"
    ansible = WORK / "hosts.yml"
    login = {"ansible_user": "gpuadmin", "ansible_ssh_private_key_file": str(key), "ansible_ssh_common_args": ssh_args}
    hosts = {name: {"ansible_host": address} for name, address in addresses.items()}
    ansible.write_text(yaml.safe_dump({"all": {"vars": login, "hosts": hosts}}, sort_keys=False))
    pyinfra = WORK / "inventory.py"
    common = {"ssh_user": "gpuadmin", "ssh_key": str(key), "ssh_known_hosts_file": str(known_hosts),
              "ssh_strict_host_key_checking": "yes", "stack_file": str(stack_file)}
    entries = [(name, {"ssh_hostname": address, **common}) for name, address in addresses.items()]
    pyinfra.write_text(f"hosts = {entries!r}\n")
    return ansible, pyinfra


def gpuhost_argv(venv, command, names, inventory, roles):
    return [str(venv / "bin" / "gpuhost"), command, "--host", ",".join(names), "--inventory",
            str(inventory), "--roles", ",".join(roles), "--parallel", str(len(names))]


def ansible_argv(venv, inventory, stack_file):
    return [str(venv / "bin" / "ansible-playbook"), "-i", str(inventory), "-e", f"stack_file={stack_file}",
            str(DATA / "site.yml")]


def ansible_env(control_dir):
    """ansible.cfg beside the playbook; SSH control sockets in a folder the caller chooses (a fresh
    one for fresh hosts, whose old masters would point at hosts that are gone)."""
    return {"ANSIBLE_CONFIG": str(DATA / "ansible.cfg"), "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
            "ANSIBLE_NOCOLOR": "1"}


def pyinfra_argv(venv, inventory):
    return [str(venv / "bin" / "pyinfra"), "-y", "--sudo", str(inventory), str(DATA / "deploy.py")]


def run(argv, limit, env=None):
    """Run a tool in its own process group, killed with its children after `limit` seconds."""
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return Outcome(time.monotonic() - started, process.returncode, output, timed_out=True)
    return Outcome(time.monotonic() - started, process.returncode, output)
