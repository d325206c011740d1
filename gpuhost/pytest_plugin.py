"""The pytest plugin: inventory names as testinfra hosts, the `gpu` marker, and fixtures for checks.

`pytest --hosts=tb1 --gpuhost-inventory=inv.yaml --pyargs gpuhost.roles` runs every role's
checks against inventory hosts over OpenSSH with strict host key checking. A check marked `gpu`
runs only where the driver really exposes a GPU (`/dev/nvidiactl` and a working `nvidia-smi`);
elsewhere it is skipped with the reason, never passed.
"""

import atexit
import functools
import os
import shutil
import tempfile
import types
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from gpuhost import facts as facts_module
from gpuhost import inventory, registry, resolution, runner, settings

TARGETS = {}  # address testinfra connects to -> inventory Target


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
            TARGETS[target.address if not target.is_local else "local"] = target
            urls.append(testinfra_url(target))
    config.option.hosts = ",".join(urls)


def _split(hosts):
    values = hosts if isinstance(hosts, list) else [hosts]
    return [h.strip() for value in values for h in str(value).split(",") if h.strip()]


@functools.cache
def _config_dir():
    path = Path(tempfile.mkdtemp(prefix="gpuhost-ssh-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def testinfra_url(target):
    """A testinfra URL for a Target: OpenSSH with its key and known_hosts, host keys checked.

    testinfra takes an ssh_config file from the URL (not extra arguments), so the target's
    options go into a small config file of its own.
    """
    if target.is_local:
        return "local://"
    lines = [f"Host {target.address}", "  StrictHostKeyChecking yes", "  BatchMode yes"]
    if target.known_hosts_file:
        lines.append(f"  UserKnownHostsFile {os.path.abspath(target.known_hosts_file)}")
    if target.key_file:
        lines.append(f"  IdentityFile {os.path.abspath(target.key_file)}")
    config = _config_dir() / f"{target.name}.conf"
    config.write_text("\n".join(lines) + "\n")
    user = f"{quote(target.user)}@" if target.user else ""
    port = f":{target.port}" if target.port else ""
    address = f"[{target.address}]" if ":" in target.address else target.address
    return f"ssh://{user}{address}{port}?{urlencode({'ssh_config': str(config)}, quote_via=quote)}"


@pytest.fixture
def gpuhost_settings(request, host):
    """Settings for the host under check: defaults < inventory < --gpuhost-set."""
    roles = registry.available()
    target = TARGETS.get(host.backend.get_hostname()) or inventory.Target(name=str(host))
    overrides = settings.parse_set(request.config.getoption("gpuhost_set"))
    return runner.settings_for(target, registry.defaults(roles.values()), overrides)


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
    if not host.file("/dev/nvidiactl").exists or not host.file("/dev/nvidiactl").is_character_device:
        pytest.skip(f"no NVIDIA driver device on {host}: /dev/nvidiactl is missing")
    smi = host.run("nvidia-smi -L")
    if smi.rc != 0:
        pytest.skip(f"nvidia-smi fails on {host}: {(smi.stderr or smi.stdout).strip()[:200]}")
