"""`gpuhost verify`: run the roles' testinfra checks (`gpuhost.roles.<role>.checks`) with pytest.

Each host is checked for its own roles, picked as converge picks them, and reached as converge
reaches it (the user's ~/.ssh/config, ProxyJump, the same known_hosts). A host OpenSSH cannot log
in to is reported in one sentence and left out; the others are still checked.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from gpuhost import pytest_plugin, registry

LOGIN_TIMEOUT = 15  # seconds OpenSSH may take to log in, jump hosts included
NOISE = ("@", "kex_exchange_identification:", "Connection closed by", "Warning: Permanently added")  # not the cause


def run(targets, role_names, roles, overrides, inventory_path="", junit=""):
    """Run each target's checks against it; returns pytest's exit code (5 → 1), 1 too when a host is down."""
    checks = {t.name: pytest_plugin.check_modules(registry.select(role_names or t.vars.get("roles") or [], roles))
              for t in targets}
    urls = {t.name: pytest_plugin.register(t, checks[t.name]) for t in targets}
    down = _unreachable(targets)
    up = [t for t in targets if t.name not in down]
    modules = sorted({m for t in up for m in checks[t.name]})
    if not modules:
        if up:
            print(f"no checks to run: the roles of {', '.join(t.name for t in up)} ship none.", file=sys.stderr)
        return 1
    # gpuhost is imported before pytest starts (gpuhost is what runs it), so on a plain install pytest
    # warns that it cannot rewrite that package, a line that would end every report.
    args = ["-q", "-rs", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            f"--hosts={','.join(urls[t.name] for t in up)}", "--pyargs", *modules]
    args += [f"--gpuhost-set={key}={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"
             for key, value in _flatten(overrides)]
    if inventory_path:
        args.append(f"--gpuhost-inventory={inventory_path}")
    if junit:
        args.append(f"--junitxml={junit}")
    code = int(pytest.main(args))
    return 1 if code == 5 or (down and code == 0) else code


def _unreachable(targets):
    """{name: sentence} of the targets OpenSSH cannot log in to, each tried once, in parallel."""
    remote = [t for t in targets if not t.is_local]
    with ThreadPoolExecutor(max_workers=10) as pool:
        sentences = dict(zip((t.name for t in remote), pool.map(_login_failure, remote)))
    down = {name: sentence for name, sentence in sentences.items() if sentence}
    for name, sentence in down.items():
        print(f"[{name}] unreachable: {sentence}", flush=True)
    return down


def _login_failure(target):
    """None when OpenSSH logs in to the target, else one sentence with OpenSSH's own reason."""
    command = pytest_plugin.ssh_command(target, "true", LOGIN_TIMEOUT)
    try:
        result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
                                timeout=3 * LOGIN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"{target.name} did not let OpenSSH log in within {3 * LOGIN_TIMEOUT} s."
    if result.returncode == 0:
        return None
    lines = [line.strip().rstrip(".") for line in result.stderr.splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith(NOISE)] or lines
    return f"OpenSSH cannot log in to {target.name}: {'; '.join(said[-2:]) or f'ssh exited {result.returncode}'}."


def _flatten(values, prefix=""):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
