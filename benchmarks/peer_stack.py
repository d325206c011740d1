"""The end state the three tools of `peers.py` enforce, taken from what gpuhost plans for fresh hosts.

gpuhost resolves the NVIDIA stack for each host and yields its steps; this module turns those
steps into plain data (`stack.json`): the repository key and files, the apt specifiers and holds,
the guarded commands, the handlers, the reboot and the services. The Ansible playbook and the
pyinfra deploy read only that file, so the three tools cannot drift apart.
"""

import copy
import hashlib
import json
import urllib.request

from gpuhost import inventory, openpgp, registry, runner
from gpuhost.ops.apt import RepositoryKey, Transaction
from gpuhost.ops.command import Command
from gpuhost.ops.files import File
from gpuhost.ops.reboot import Forget, Reboot
from gpuhost.ops.systemd import Service
from gpuhost.steps import Check, Handler, Phase

# gpuhost reads a loaded module from /sys/module/<name> (gpuhost/facts.py, the "modules" fact).
LOADED_MODULE = "/sys/module/nvidia"


class StackError(RuntimeError):
    """The hosts cannot share one end state, or a step has no plain-data form."""


def generate(inventory_path, names, roles):
    """stack.json's content for these hosts: the same for all of them, else StackError."""
    targets = inventory.load(inventory_path).select(",".join(names))
    stacks = {target.name: _for_target(target, roles) for target in targets}
    first = next(iter(stacks.values()))
    differing = [name for name, stack in stacks.items() if stack != first]
    if differing:
        raise StackError(f"{', '.join(differing)} resolve another stack than {targets[0].name}; "
                         "the peers need one end state for every host.")
    return {"source": f"gpuhost's plan of roles {','.join(roles)} for fresh hosts {','.join(names)}", **first}


def _for_target(target, roles):
    modules = registry.select(roles, registry.available())
    host = runner.open_host(target, runner.Options(check=True, echo=False))
    settings = runner.settings_for(target, registry.defaults(modules), {})
    for module in modules:
        if hasattr(module, "facts"):
            host.request.add(module.facts(settings))
    host.gather()
    try:
        return as_data(runner.collect_steps(host, modules, settings), host.facts)
    finally:
        host.context.close()


def as_data(steps, facts):
    """Steps → stack data, walking them as a plan does (each step's effect predicted), so a step
    that would change nothing on these hosts (a module rebuild after a kernel update) is left out."""
    facts = copy.deepcopy(facts)
    stack = {"key": None, "repository_files": [], "install": [], "hold": [], "files": [], "guarded_commands": [],
             "handler_commands": {}, "reboot": None, "services": [], "left_out": []}
    for step in steps:
        if isinstance(step, Check):
            problem = step.problem(facts)
            if problem:
                raise StackError(problem)
            continue
        if isinstance(step, (Handler, Forget)):
            if isinstance(step, Handler):
                stack["handler_commands"][step.name] = " && ".join(step.commands(facts))
            continue
        if not step.commands(facts):
            stack["left_out"].append(step.name)
            continue
        _add(stack, step, facts)
        step.predict(facts)
    return stack


def _add(stack, step, facts):
    if isinstance(step, RepositoryKey):
        stack["key"] = _key(step)
    elif isinstance(step, File):
        entry = {"path": step.path, "content": step.content.decode(), "mode": step.mode, "owner": step.owner,
                 "group": step.group, "notify": list(step.notify)}
        stack["repository_files" if step.phase == Phase.REPOSITORIES else "files"].append(entry)
    elif isinstance(step, Transaction):
        stack["install"] = [f"{name}={version}" if version else name for name, version in sorted(step.install.items())]
        stack["hold"] = sorted(step.hold)
    elif isinstance(step, Command):
        if not step.probe or not isinstance(step.after, dict):
            raise StackError(f"the step {step.name!r} has no probe and expected output to hand to a peer.")
        stack["guarded_commands"].append({"name": step.name, "probe": step.probe, "expect": step.after["output"],
                                  "run": " && ".join(step.commands(facts))})
    elif isinstance(step, Reboot):
        stack["reboot"] = {"name": step.name, "reason": step.reason(facts), "unless_exists": LOADED_MODULE}
    elif isinstance(step, Service):
        stack["services"].append({"unit": step.unit, "enabled": step.enabled, "running": step.running})
    else:
        raise StackError(f"the step {step.name!r} ({type(step).__name__}) has no plain-data form for the peers.")


def _key(step):
    """The key's URL, fingerprint and keyring, and the sha256 of the file served (the peers pin that)."""
    with urllib.request.urlopen(step.url, timeout=30) as answer:
        data = answer.read()
    if openpgp.certificate(data, step.fingerprint) is None:
        raise StackError(f"the key at {step.url} is not the pinned {step.fingerprint}.")
    return {"url": step.url, "fingerprint": step.fingerprint, "keyring": step.keyring,
            "sha256": hashlib.sha256(data).hexdigest()}


def write(stack, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack, indent=1) + "\n")
