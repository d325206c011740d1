"""gpuhost reads inventories as Ansible does: `gpuhost inventory --list` against `ansible-inventory --list`.

The reference is Ansible itself: ansible-core installed from PyPI into a virtual environment of its
own under `.testbed/ansible-core/` (never a gpuhost dependency), made once and reused. Where it
cannot be installed the comparisons skip, except in CI (CI=true), where that is a failure.

The corpus, `tests/unit/inventories/<case>/`, holds small inventories for every feature gpuhost
reads (YAML, JSON and INI, ranges, `group_vars`/`host_vars` as files and folders, precedence,
Jinja, legacy names, localhost, ungrouped, scripts) and layouts in the spirit of public ones
(DeepOps' `config/inventory`, kubespray's `hosts.yaml`, geerlingguy's INI, Ansible's docs, k3s-ansible,
the Slurm appliance). gpuhost reads them with its own reader; the comparison leaves out only
`gpuhost_connection` (gpuhost's addition) and `_meta.profile` (the JSON profile name Ansible 2.19 adds).
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gpuhost import cli, inventory

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "inventories"
ANSIBLE_CORE = "ansible-core>=2.19,<2.20"
VENV = ROOT / ".testbed" / "ansible-core"
#: Cases whose inventory is a file or folder below the case's folder, not the case's only file.
ENTRY = {"deepops_like": "config/inventory", "kubespray_like": "inventory/mycluster/hosts.yaml",
         "slurm_appliance_like": "inventory", "geerlingguy_like": "inventory"}
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
#: Cases whose hosts Ansible connects to over SSH, compared with gpuhost_connection.
CONNECTED = ["legacy_names", "jinja_between_variables", "yaml_ranges", "ini_ranges_ports", "deepops_like",
             "geerlingguy_like", "k3s_ansible_like", "kubespray_like", "same_host_two_ports", "ini_basic"]
FAKE_SSH = """#!{python}
import json, os, sys
with open(os.path.join(os.environ["FAKE_SSH_LOG"], str(os.getpid())), "w") as log:
    json.dump(sys.argv[1:], log)
sys.exit(255)
"""


def entry(case):
    """The inventory path of a case: its one file, a named path, or the folder itself."""
    folder = CORPUS / case
    if case in ENTRY:
        return folder / ENTRY[case]
    files = [p for p in folder.iterdir() if p.is_file()]
    folders = [p for p in folder.iterdir() if p.is_dir() and p.name not in ("group_vars", "host_vars")]
    return files[0] if len(files) == 1 and not folders else folder


@pytest.fixture(scope="session")
def ansible_bin():
    """The bin folder of a virtual environment with ansible-core, made on first use."""
    marker = VENV / "installed"
    if marker.exists() and marker.read_text() == ANSIBLE_CORE:
        return VENV / "bin"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(VENV)], check=True,
                       capture_output=True, text=True)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(VENV / "bin" / "python"), "install", "-q",
                        "--disable-pip-version-check", ANSIBLE_CORE], check=True, capture_output=True, text=True,
                       timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        said = getattr(error, "stderr", "") or str(error)
        message = f"cannot install {ANSIBLE_CORE} into {VENV}: {said.strip()[-400:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    marker.write_text(ANSIBLE_CORE)
    return VENV / "bin"


def _ansible_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GPUHOST_"))}
    return {**env, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0", **(extra or {})}


def ansible_inventory(ansible_bin, path, *args, env=None):
    done = subprocess.run([str(ansible_bin / "ansible-inventory"), "-i", str(path), *args], capture_output=True,
                          text=True, env=_ansible_env(env), check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def ansible_listings(ansible_bin):
    """Every case's `ansible-inventory --list`, run side by side."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        listings = pool.map(lambda case: ansible_inventory(ansible_bin, entry(case), "--list"), CASES)
    return dict(zip(CASES, listings))


def gpuhost_inventory(capsys, *args):
    """`gpuhost inventory ARGS` run in this process, its JSON output parsed."""
    capsys.readouterr()
    try:
        cli.program.run(["gpuhost", "inventory", *args])
    except SystemExit as ended:
        assert ended.code in (0, None), capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def comparable(listing):
    """A listing less what only one side adds: gpuhost_connection (gpuhost's), _meta.profile (Ansible's)."""
    listing = json.loads(json.dumps(listing))
    listing["_meta"].pop("profile", None)
    hostvars = listing["_meta"]["hostvars"]
    for host, variables in list(hostvars.items()):
        variables.pop("gpuhost_connection", None)
        if not variables:
            del hostvars[host]
    return listing


@pytest.mark.parametrize("case", CASES)
def test_gpuhost_lists_each_inventory_as_ansible_does(case, ansible_listings, capsys, monkeypatch):
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "gpuhost")
    listed = gpuhost_inventory(capsys, "--list", "--inventory", str(entry(case)))
    assert comparable(listed) == comparable(ansible_listings[case])


@pytest.mark.parametrize("case, host", [("localhost_explicit", "localhost"), ("k3s_ansible_like", "localhost"),
                                        ("precedence_every_layer", "h"), ("yaml_unsafe", "h1")])
def test_gpuhost_shows_one_host_as_ansible_does(case, host, ansible_bin, capsys, monkeypatch):
    """`--host`; the implicit localhost's ansible_python_interpreter is each program's own Python."""
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "gpuhost")
    shown = gpuhost_inventory(capsys, "--host", host, "--inventory", str(entry(case)))
    expected = ansible_inventory(ansible_bin, entry(case), "--host", host)
    assert shown.pop("gpuhost_connection")["connection"] == ("local" if host == "localhost" else "ssh")
    for variables in (shown, expected):
        if host == "localhost" and case != "localhost_explicit":
            variables.pop("ansible_python_interpreter")
    assert shown == expected


@pytest.fixture(scope="session")
def ansible_connections(ansible_bin, tmp_path_factory):
    """For each case in CONNECTED, the SSH command lines Ansible runs (ssh replaced by a recorder)."""
    folder = tmp_path_factory.mktemp("fake-ssh")
    fake = folder / "ssh"
    fake.write_text(FAKE_SSH.format(python=sys.executable))
    fake.chmod(0o755)

    def connect(case):
        log = folder / case
        log.mkdir()
        env = {"ANSIBLE_SSH_EXECUTABLE": str(fake), "FAKE_SSH_LOG": str(log), "ANSIBLE_HOST_KEY_CHECKING": "False",
               "SUDO_PASSWORD": "unused", "ANSIBLE_FORKS": "20"}
        subprocess.run([str(ansible_bin / "ansible"), "all", "-i", str(entry(case)), "-m", "ping", "-o"],
                       capture_output=True, text=True, env=_ansible_env(env), check=False, cwd=os.getcwd())
        return sorted(_ssh_target(json.loads(p.read_text())) for p in log.iterdir())

    with ThreadPoolExecutor(max_workers=len(CONNECTED)) as pool:
        return dict(zip(CONNECTED, pool.map(connect, CONNECTED)))


def _ssh_target(argv):
    """(address, user, port, key file) from an ssh command line as Ansible's ssh plugin writes it."""
    options = dict(argv[i + 1].split("=", 1) for i, arg in enumerate(argv[:-2]) if arg == "-o")
    key = options.get("IdentityFile")
    return (argv[-2], options.get("User", "").strip('"') or None,
            int(options["Port"]) if "Port" in options else None,
            os.path.abspath(key.strip('"')) if key else None)


@pytest.mark.parametrize("case", CONNECTED)
def test_gpuhost_connects_where_ansible_connects(case, ansible_connections, capsys, monkeypatch):
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "gpuhost")
    monkeypatch.setenv("SUDO_PASSWORD", "unused")
    listed = gpuhost_inventory(capsys, "--list", "--inventory", str(entry(case)))
    ours = sorted((c["address"], c["user"], c["port"], c["key_file"])
                  for c in (v["gpuhost_connection"] for v in listed["_meta"]["hostvars"].values()))
    assert ansible_connections[case] and ours == ansible_connections[case]


@pytest.fixture
def vaulted_inventory(ansible_bin, tmp_path, monkeypatch):
    """An inventory with a vault-encrypted group_vars file and an inline vaulted sudo password."""
    password = tmp_path / "vault-password"
    password.write_text("correct horse\n")
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    monkeypatch.setenv("GPUHOST_ANSIBLE_BIN", str(ansible_bin))
    vault = [str(ansible_bin / "ansible-vault")]
    inline = subprocess.run([*vault, "encrypt_string", "s3cret", "--name", "ansible_become_password"],
                            capture_output=True, text=True, check=True, env=_ansible_env(
                                {"ANSIBLE_VAULT_PASSWORD_FILE": str(password)})).stdout
    folder = tmp_path / "inventory"
    (folder / "group_vars" / "all").mkdir(parents=True)
    body = "\n".join("      " + line for line in inline.strip().splitlines())
    (folder / "hosts.yaml").write_text(f"all:\n  hosts:\n    gpu-vm:\n{body}\n")
    secret = folder / "group_vars" / "all" / "vault.yml"
    secret.write_text("ansible_user: from-the-vault\nstack: {cuda: '12.4'}\n")
    subprocess.run([*vault, "encrypt", str(secret)], check=True, capture_output=True,
                   env=_ansible_env({"ANSIBLE_VAULT_PASSWORD_FILE": str(password)}))
    return folder


def test_a_vaulted_inventory_is_read_through_ansible(vaulted_inventory, ansible_bin, capsys, monkeypatch):
    """auto: gpuhost's reader meets the encrypted file and turns to ansible-inventory, which decrypts it."""
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "auto")
    listed = gpuhost_inventory(capsys, "--list", "--inventory", str(vaulted_inventory))
    expected = ansible_inventory(ansible_bin, vaulted_inventory, "--list",
                                 env={"ANSIBLE_VAULT_PASSWORD_FILE": os.environ["ANSIBLE_VAULT_PASSWORD_FILE"]})
    assert comparable(listed) == comparable(expected)
    assert listed["_meta"]["hostvars"]["gpu-vm"]["gpuhost_connection"]["user"] == "from-the-vault"
    (target,) = inventory.load(vaulted_inventory).select("gpu-vm")
    assert target.become_password == "s3cret" and target.vars["stack"] == {"cuda": "12.4"}


def test_the_ansible_reader_reads_what_gpuhosts_reader_reads(ansible_bin, capsys, monkeypatch):
    monkeypatch.setenv("GPUHOST_ANSIBLE_BIN", str(ansible_bin))
    path = str(entry("precedence_every_layer"))
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "ansible")
    through_ansible = gpuhost_inventory(capsys, "--list", "--inventory", path)
    monkeypatch.setenv("GPUHOST_INVENTORY_READER", "gpuhost")
    own = gpuhost_inventory(capsys, "--list", "--inventory", path)
    assert through_ansible == own
