"""The pytest plugin: inventory names as testinfra hosts, the `gpu` marker, and fixtures for checks.

`pytest --hosts=tb1 --gpuhost-inventory=inv.yaml --pyargs gpuhost.roles` runs the role checks
against inventory hosts over OpenSSH with strict host key checking, each host only the checks of
the roles its inventory lists (all when it lists none), through the user's ~/.ssh/config as
converge goes. A check marked `gpu` runs only where the driver really exposes a GPU
(`/dev/nvidiactl` and a working `nvidia-smi`); elsewhere it is skipped with the reason, never passed.
"""

import atexit
import functools
import importlib.util
import os
import shutil
import tempfile
import types
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from gpuhost import connect, inventory, registry, resolution, runner, settings
from gpuhost import facts as facts_module

TARGETS = {}  # target name -> inventory Target (two targets may share an address)
CHECKS = {}  # target name -> files of the check modules that apply to it; absent: every module
_BY_CONFIG = {}  # the ssh_config file of a target's testinfra URL -> target name
SSH_CONFIGS = ("~/.ssh/config", "/etc/ssh/ssh_config")  # what Fabric reads for converge, in OpenSSH's order


def pytest_addoption(parser):
    group = parser.getgroup("gpuhost")
    group.addoption("--gpuhost-inventory", default=None, help="inventory whose host names --hosts may use")
    group.addoption("--gpuhost-set", action="append", default=[], help="KEY.SUB=VALUE setting for the checks")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a real NVIDIA GPU with a loaded driver on the target; skipped elsewhere")
    hosts = getattr(config.option, "hosts", None)
    if not hosts or not any("://" not in h for h in _split(hosts)):
        return
    loaded = inventory.load(config.option.gpuhost_inventory)
    urls = []
    for name in _split(hosts):
        if "://" in name:
            urls.append(name)
            continue
        for target in loaded.select(name):
            roles = target.vars.get("roles")
            urls.append(register(target, check_modules(registry.select(roles)) if roles else None))
    config.option.hosts = ",".join(urls)


def pytest_collection_modifyitems(config, items):
    """Each host gets the checks of its own roles, not those of every role verified in this run."""
    dropped = [item for item in items if not _applies(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if _applies(item)]


def _applies(item):
    host = getattr(item, "callspec", None) and item.callspec.params.get("_testinfra_host")
    target = target_of(host) if host is not None else None
    files = CHECKS.get(target.name) if target else None
    return files is None or str(item.path) in files


def register(target, modules=None):
    """Make a Target known to the checks and return its testinfra URL; `modules`: the check modules
    that apply to it (None: every one collected)."""
    TARGETS[target.name] = target
    if modules is not None:
        CHECKS[target.name] = {importlib.util.find_spec(m).origin for m in modules}
    url = testinfra_url(target)
    if not target.is_local:
        _BY_CONFIG[str(_config_path(target))] = target.name
    return url


def target_of(host):
    """The registered Target a testinfra host stands for, found by its own ssh_config file, or None."""
    if host.backend.get_connection_type() == "local":
        return TARGETS.get("local")
    return TARGETS.get(_BY_CONFIG.get(getattr(host.backend, "ssh_config", None)))


def check_modules(roles):
    """The `checks` modules of these role modules (a role may ship none)."""
    return [f"{m.__name__}.checks" for m in roles if importlib.util.find_spec(f"{m.__name__}.checks")]


def _split(hosts):
    values = hosts if isinstance(hosts, list) else [hosts]
    return [h.strip() for value in values for h in str(value).split(",") if h.strip()]


@functools.cache
def _config_dir():
    path = Path(tempfile.mkdtemp(prefix="gpuhost-ssh-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def _config_path(target):
    return _config_dir() / f"{target.name.replace('/', '_')}.conf"


def testinfra_url(target):
    """A testinfra URL for a Target: OpenSSH with its own ssh_config file (see ssh_config)."""
    if target.is_local:
        return "local://"
    config = _config_path(target)
    config.write_text(ssh_config(target))
    user = f"{quote(target.user)}@" if target.user else ""
    port = f":{target.port}" if target.port else ""
    address = f"[{target.address}]" if ":" in target.address else target.address
    return f"ssh://{user}{address}{port}?{urlencode({'ssh_config': str(config)}, quote_via=quote)}"


def ssh_config(target):
    """OpenSSH options that make verify connect as converge does.

    testinfra takes one ssh_config file from the URL (not extra arguments), and `-F` makes OpenSSH
    skip the user's and the system's files (both of which Fabric reads), so they are included
    after gpuhost's own options (first value wins): every host on the way, jump hosts too, is
    checked strictly against the one known_hosts converge uses, and the user's aliases and
    ProxyJump still apply.
    """
    known_hosts = os.path.abspath(connect.known_hosts_path(target))
    lines = ["Host *", "  StrictHostKeyChecking yes", "  BatchMode yes", f"  UserKnownHostsFile {_quoted(known_hosts)}",
             "  GlobalKnownHostsFile /dev/null"]
    if target.key_file:
        lines += [f"Host {target.address}", f"  IdentityFile {_quoted(os.path.abspath(target.key_file))}"]
    lines += ["Host *", *(f"  Include {_quoted(os.path.expanduser(path))}" for path in SSH_CONFIGS)]
    lines += ["Host *", "  SendEnv -*"]  # converge sends no environment (LANG): checks see the host's own locale
    return "\n".join(lines) + "\n"


def ssh_command(target, command, timeout=15):
    """The ssh command line testinfra runs for this target (after testinfra_url wrote its config)."""
    user = ["-o", f"User={target.user}"] if target.user else []
    port = ["-o", f"Port={target.port}"] if target.port else []
    return ["ssh", "-F", str(_config_path(target)), *user, *port, "-o", f"ConnectTimeout={timeout}",
            target.address, command]


def _quoted(path):
    return '"' + str(path).replace('"', '') + '"'


@pytest.fixture
def gpuhost_settings(request, host):
    """Settings for the host under check: defaults < inventory < --gpuhost-set."""
    target = target_of(host) or inventory.Target(name=str(host))
    overrides = settings.parse_set(request.config.getoption("gpuhost_set"))
    return runner.settings_for(target, registry.available().defaults(), overrides)


@pytest.fixture
def gpuhost_facts(host):
    """The host's facts, read with the same script and parsers a converge uses."""
    script = facts_module.script(facts_module.Request())
    return facts_module.parse(host.check_output("sh -c %s", script))


@pytest.fixture
def gpuhost_stack(host, gpuhost_settings, gpuhost_facts):
    """The stack the resolver chooses for this host: what the checks expect to find."""
    return resolution.for_host(types.SimpleNamespace(name=str(host), facts=gpuhost_facts), gpuhost_settings)


@pytest.fixture(autouse=True)
def _gpu_gate(request):
    if request.node.get_closest_marker("gpu") is None:
        return
    host = request.getfixturevalue("host")
    smi = host.run("nvidia-smi -L")  # first, so that a host without the device skips with nvidia-smi's own words
    if smi.rc != 0:
        pytest.skip(f"nvidia-smi fails on {host} (exit {smi.rc}): {(smi.stderr or smi.stdout).strip()[:200]}")
    if host.run("test -c /dev/nvidiactl").rc != 0:
        pytest.skip(f"no NVIDIA driver device on {host}: /dev/nvidiactl is not a character device")
