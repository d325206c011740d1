"""The runner: plan or converge roles on many hosts in parallel, one failure never stopping the rest.

Per host: read the facts (one round trip), let every role yield its steps (a version conflict
fails the host here, before anything changed), read any facts the steps need beyond what the
roles declared, run the refusal checks, then execute the steps phase by phase: all
repositories, one apt transaction, configuration, services, handlers, a reboot if needed, and
the steps that need the new boot.
"""

import fnmatch
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gpuhost import connect, registry
from gpuhost import settings as settings_module
from gpuhost.errors import ConnectError, GpuhostError, StepError
from gpuhost.facts import Request
from gpuhost.host import Host
from gpuhost.ops import reboot
from gpuhost.ops.apt import Packages, Transaction
from gpuhost.steps import Check, Handler, Phase

PRINT_LOCK = threading.Lock()


@dataclass
class Options:
    """How to run: check mode, reboots, host keys, parallelism, output."""

    check: bool = False
    no_reboot: bool = False
    allow_local_reboot: bool = False
    accept_new_host_keys: bool = False
    parallel: int = 10
    overrides: dict = field(default_factory=dict)
    echo: bool = True


@dataclass
class HostResult:
    """What happened on one host; `report.py` turns these into the recap and the JSON report."""

    name: str
    status: str = "ok"  # ok | changed | failed | unreachable
    error: str = ""
    remote_commands: int = 0
    duration_s: float = 0.0
    rebooted: bool = False
    reboot_pending: str = ""
    roles: dict = field(default_factory=dict)  # role -> {"changed": int, "duration_s": float, "steps": [...]}
    facts: dict = field(default_factory=dict)

    @property
    def changed(self):
        seen = {id(s) for r in self.roles.values() for s in r["steps"] if s["changed"]}
        return len(seen)


def run(targets, role_names, options, roles=None):
    """Plan (options.check) or converge roles on every target; returns HostResults in order.

    With no `role_names`, each host gets the roles its inventory lists (`roles:`), else all.
    Everything that can be wrong with the request is checked before any host is contacted.
    """
    roles = roles if roles is not None else registry.available()
    settings_module.check(options.overrides, registry.known_settings(roles), "")
    wanted = [tuple(registry.known(role_names or target.vars.get("roles") or [], roles)) for target in targets]
    plans = {names: _plan(names, roles) for names in dict.fromkeys(wanted)}  # once per distinct set of roles
    with ThreadPoolExecutor(max_workers=max(1, int(options.parallel))) as pool:
        futures = [pool.submit(_run_host, target, plans[names], options) for target, names in zip(targets, wanted)]
        return [f.result() for f in futures]


def _plan(names, roles):
    """The role modules for `names` with their defaults, or the error importing them raised.

    Imported before any connection opens: imported beside paramiko's key exchange, both waited
    for the interpreter lock and one host took longer.
    """
    try:
        modules = registry.select(names, roles)
        return modules, registry.defaults(modules)
    except Exception as error:  # a broken role: each host that runs it fails with it, the others go on
        return error


def _run_host(target, plan, options):
    """One host: connect, then converge the roles of `plan` (modules and their defaults, or an error)."""
    result = HostResult(name=target.name)
    started = time.monotonic()
    try:
        if isinstance(plan, Exception):
            raise plan
        modules, defaults = plan
        host = open_host(target, options)
        host_settings = settings_for(target, defaults, options.overrides)
        converge_host(host, modules, host_settings, options, result)
    except ConnectError as error:
        result.status, result.error = "unreachable", settings_module.redact_text(str(error))
    except GpuhostError as error:
        result.status, result.error = "failed", settings_module.redact_text(str(error))
    except Exception as error:  # a bug or a library's surprise: this host fails, the others carry on
        result.status, result.error = "failed", settings_module.redact_text(unexpected(target.name, error))
    finally:
        result.duration_s = round(time.monotonic() - started, 3)
    _echo(options, target.name, result.error or f"{result.changed} step(s) {'would change' if options.check else 'changed'}", result.status)
    return result


def unexpected(name, error):
    """One sentence for an exception gpuhost did not foresee."""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else "no message"
    return f"gpuhost stopped on {name} with an unexpected {type(error).__name__}: {detail}."


def open_host(target, options):
    """A Host for a Target: this machine for `local`, else an SSH connection with checked keys."""
    if target.is_local:
        return Host("local", connect.local(), become_password=target.become_password)

    def reconnect():
        return connect.open_connection(target, options.accept_new_host_keys)

    return Host(target.name, reconnect(), become_password=target.become_password, reconnect=reconnect)


def settings_for(target, defaults, overrides):
    """Role defaults < engine defaults < inventory (all < groups < host) < --set."""
    inventory = {k: v for k, v in target.vars.items()
                 if not str(k).startswith(settings_module.CONNECTION_PREFIX) and k not in settings_module.EXTRA_KEYS}
    return settings_module.merge(settings_module.merge(defaults, inventory), overrides)


def converge_host(host, modules, settings, options, result):
    """Everything for one host, recording into `result`."""
    host.roles = tuple(m.NAME for m in modules)
    host.silence_timeout = settings.get("command_timeout")
    if options.echo and not options.check:
        host.progress = lambda line: _echo(options, host.name, line, "progress")
    host.request.add(Request(files={reboot.MEMORY}))
    for module in modules:
        result.roles.setdefault(module.NAME, {"changed": 0, "steps": []})
        if hasattr(module, "facts"):
            host.request.add(module.facts(settings))
    try:
        host.gather()
        steps = collect_steps(host, modules, settings)
        _refuse_early(host, steps)
        _execute(host, steps, options, result)
    finally:
        result.remote_commands = host.remote_commands
        result.facts = host.facts
    if result.changed and result.status == "ok":
        result.status = "changed"


def collect_steps(host, modules, settings):
    """Every role's steps in execution order; gathers the facts they need beyond the first round."""
    steps, seen = [], {}
    for index, module in enumerate(modules):
        for seq, step in enumerate(module.steps(host, settings)):
            step.role = module.NAME
            key = (type(step).__name__, step.name)
            if key in seen:
                continue  # the same step from another role (a shared repository, a handler)
            seen[key] = step
            steps.append((step.phase, index, seq, step))
    steps = [s for *_, s in sorted(steps, key=lambda item: item[:3])]
    steps += [reboot.Forget(step) for step in steps if isinstance(step, reboot.Reboot)]
    extra = _missing_request(host, steps)
    if extra:
        host.request.add(extra)
        host.gather(system=False, packages=False, only=("files", "units", "probes"))
    return _batch_packages(steps, settings)


def _missing_request(host, steps):
    wanted = Request()
    for step in steps:
        wanted.add(step.request())
    read, seen = host.request.files, host.request.files | host.request.present
    missing = Request(files={f for f in wanted.files if not _covered(f, read)},
                      present={f for f in wanted.present if not _covered(f, seen)},
                      units=wanted.units - host.request.units,
                      probes={k: v for k, v in wanted.probes.items() if k not in host.request.probes})
    return missing if (missing.files or missing.present or missing.units or missing.probes) else None


def _covered(path, patterns):
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def _batch_packages(steps, settings):
    """Replace every role's Packages step by one Transaction where the first of them stood."""
    parts = [s for s in steps if isinstance(s, Packages)]
    if not parts:
        return steps
    transaction = Transaction(parts, lock_timeout=settings.get("apt", {}).get("lock_timeout", 300))
    first = steps.index(parts[0])
    rest = [s for s in steps if not isinstance(s, Packages)]
    return rest[:first] + [transaction] + rest[first:]


def _refuse_early(host, steps):
    for step in steps:
        if isinstance(step, Check):
            problem = step.problem(host.facts)
            if problem:
                raise StepError(problem)


def _execute(host, steps, options, result):
    notified, after_boot_blocked = set(), ""
    for step in steps:
        if isinstance(step, Handler) and step.name not in notified:
            continue
        if after_boot_blocked and step.phase >= Phase.AFTER_BOOT:
            _record(result, step, [], note=f"skipped: {after_boot_blocked}")
            continue
        commands = step.commands(host.facts)
        if commands and step.reboots:
            after_boot_blocked = _reboot(host, step, commands, options, result)
            continue
        record = _record(result, step, commands, diff=step.diff(host.facts) if commands else "")
        if commands:
            _echo(options, host.name, f"{step.role}: {step.name}", "would change" if options.check else "changed")
            started = time.monotonic()
            try:
                if options.check:
                    step.predict(host.facts)
                else:
                    step.execute(host, commands)
                    _refresh(host, step)
            except GpuhostError as error:
                record["failed"] = str(error)
                raise
            finally:
                record["duration_s"] = round(time.monotonic() - started, 3)
            notified |= set(step.notify)


def _reboot(host, step, commands, options, result):
    """Reboot now (or say why not); returns why the after-boot steps must wait, or ''."""
    why = step.why(commands)
    if options.check:
        _record(result, step, commands)
        _echo(options, host.name, f"{step.role}: reboot ({why})", "would change")
        step.predict(host.facts)
        return ""
    if options.no_reboot:
        result.reboot_pending = why
        _record(result, step, [], note=f"reboot needed ({why}); not rebooting (--no-reboot)")
        return f"reboot pending: {why}"
    if host.is_local and not options.allow_local_reboot:
        raise StepError(f"this machine needs a reboot ({why}); reboot it yourself or pass --allow-local-reboot.")
    _refuse_reboot(host, step)
    _record(result, step, commands)
    _echo(options, host.name, f"{step.role}: rebooting ({why})", "changed")
    result.rebooted = True
    if host.is_local:  # this process goes down with the machine: the next run (at boot) carries on
        host.reboot_self(commands[0])
        result.reboot_pending = f"rebooting now ({why}); converge again after the boot"
        return "this machine is rebooting"
    host.reboot(commands[0])
    _refuse_reboot(host, step)
    return ""


def _refuse_reboot(host, step):
    problem = step.did_not_help(host.name, host.facts)
    if problem:
        raise StepError(problem)


def _refresh(host, step):
    sections = tuple(step.refresh)
    if sections:
        host.gather(system=False, packages="packages" in sections, only=sections)


def _record(result, step, commands, diff="", note=""):
    """Add a step record under every role that contributed to it (batched steps count once)."""
    record = {"name": step.name, "changed": bool(commands), "commands": list(commands)}
    if diff:
        record["diff"] = diff
    if note:
        record["note"] = note
    roles = [p.role for p in step.parts] if isinstance(step, Transaction) else [step.role]
    for role in dict.fromkeys(roles):
        entry = result.roles.setdefault(role, {"changed": 0, "steps": []})
        entry["steps"].append(record)
        entry["changed"] += int(bool(commands))
    return record


def _echo(options, host, message, status):
    if options.echo:
        with PRINT_LOCK:
            print(f"[{host}] {status}: {settings_module.redact_text(str(message))}", flush=True)


def gather_facts(targets, options):
    """Read the facts of every target in parallel: one remote command each."""

    silence = settings_module.engine_defaults()["command_timeout"]

    def one(target):
        result = HostResult(name=target.name)
        started = time.monotonic()
        try:
            host = open_host(target, options)
            host.silence_timeout = silence
            result.facts = host.gather()
            result.remote_commands = host.remote_commands
        except ConnectError as error:
            result.status, result.error = "unreachable", settings_module.redact_text(str(error))
        except GpuhostError as error:
            result.status, result.error = "failed", settings_module.redact_text(str(error))
        except Exception as error:  # as in a converge: this host fails, the others carry on
            result.status, result.error = "failed", settings_module.redact_text(unexpected(target.name, error))
        result.duration_s = round(time.monotonic() - started, 3)
        return result

    with ThreadPoolExecutor(max_workers=max(1, int(options.parallel))) as pool:
        return list(pool.map(one, targets))
