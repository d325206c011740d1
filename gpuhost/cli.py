"""The `gpuhost` command and the tasks of `tasks.py`: facts, plan, converge, verify, resolve, inventory.

Both are the same Invoke tasks: `gpuhost converge --host gpu-vm` and, from a checkout,
`invoke converge --host gpu-vm`. Every failure is one sentence on stderr and an exit code:
0 ok, 1 failure, 2 changes pending (plan and --check).
"""

import json as json_module
import sys

from invoke import Collection, Exit, Program, task
from invoke.util import Lexicon

from gpuhost import __version__, fleet, inventory, registry, report, runner, settings
from gpuhost.errors import GpuhostError, InventoryError

HOST_HELP = "inventory host or group, user@addr[:port], ~/.ssh/config alias, or 'local' (comma-separated)"
HELP = {
    "host": HOST_HELP,
    "inventory": "inventory file or folder (default: $GPUHOST_INVENTORY, else ./inventory/)",
    "roles": "comma-separated roles (default: the host's 'roles' variable, else every role)",
    "set": "KEY.SUB=VALUE setting, highest precedence (repeatable)",
    "parallel": "hosts worked on at once (default 10)",
    "accept-new-host-keys": "record the key of a host not yet in known_hosts (a changed key is always refused)",
    "json": "print JSON",
    "check": "only show what would change (like plan)",
    "report": "write the JSON report to FILE",
    "report-url": "also POST the JSON report to this http(s) URL (a collector the fleet already has)",
    "no-reboot": "never reboot; say that a reboot is pending instead",
    "allow-local-reboot": "allow rebooting this machine when --host local needs it",
    "junit": "write a JUnit XML report to FILE",
    "list": "print every group and host with its variables, as ansible-inventory --list does",
    "inventory-host": "print one host's variables, as ansible-inventory --host does",
    "shard": "I/N: only the hosts of shard I of N (by host name; a CI matrix of N jobs covers every host once)",
}
#: Invoke's own options that mean something for gpuhost; the others (--dry, --warn-only, ...) do not.
CORE_OPTIONS = ("help", "version")


def _help(*names):
    return {name: HELP[name] for name in names}


def _fail(error):
    print(f"error: {settings.redact_text(str(error))}", file=sys.stderr)
    raise Exit(code=1)


def _load(inventory_path, roles=None):
    """The inventory, gpuhost's own variables checked; what Ansible would warn about is said on stderr."""
    roles = roles or registry.available()
    loaded = inventory.load(inventory_path or None, defaults=registry.known_settings(roles), role_names=roles)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in loaded.empty:
        print(f"warning: inventory {path} is empty.", file=sys.stderr)
    return loaded


def _targets(host, inventory_path, shard=""):
    if not host:
        raise InventoryError("give --host: an inventory host or group, user@addr[:port], an ~/.ssh/config alias, "
                             "or local.")
    roles = registry.available()
    return fleet.shard(_load(inventory_path, roles).select(host), shard), roles


def _role_list(roles):
    return [r.strip() for r in roles.split(",") if r.strip()]


def _options(set_, parallel=10, accept_new_host_keys=False, **flags):
    return runner.Options(overrides=settings.parse_set(set_ or []), parallel=parallel,
                          accept_new_host_keys=accept_new_host_keys, **flags)


@task(auto_shortflags=False, positional=[], help=_help("host", "inventory", "json", "accept-new-host-keys", "shard"))
def facts(c, host, inventory="", json=False, accept_new_host_keys=False, shard=""):
    """Show what gpuhost knows about hosts (one remote command each)."""
    from gpuhost import facts_view

    try:
        targets, _ = _targets(host, inventory, shard)
        results = runner.gather_facts(targets, _options([], accept_new_host_keys=accept_new_host_keys, echo=False))
    except GpuhostError as error:
        _fail(error)
    print(json_module.dumps(facts_view.as_dict(results), indent=2) if json else facts_view.text(results))
    raise Exit(code=report.exit_code(results))


@task(auto_shortflags=False, positional=[], iterable=["set_"],
      help=_help("host", "roles", "inventory", "json", "set", "parallel", "accept-new-host-keys", "shard"))
def plan(c, host, roles="", inventory="", json=False, set_=None, parallel=10, accept_new_host_keys=False, shard=""):
    """Show what converge would change, changing nothing (exit 2 when something would)."""
    _run(host, roles, inventory, _options(set_, parallel, accept_new_host_keys, check=True, echo=not json),
         json_out=json, plan=True, shard=shard)


@task(auto_shortflags=False, positional=[], iterable=["set_"],
      help=_help("host", "roles", "check", "parallel", "report", "report-url", "set", "inventory", "no-reboot",
                 "allow-local-reboot", "accept-new-host-keys", "shard"))
def converge(c, host, roles="", check=False, parallel=10, report_="", report_url="", set_=None, inventory="",
             no_reboot=False, allow_local_reboot=False, accept_new_host_keys=False, shard=""):
    """Converge hosts: install and configure what the roles describe, reboot only when needed."""
    options = _options(set_, parallel, accept_new_host_keys, check=check, no_reboot=no_reboot,
                       allow_local_reboot=allow_local_reboot)
    _run(host, roles, inventory, options, report_path=report_, plan=check, shard=shard, report_url=report_url)


def _run(host, roles, inventory_path, options, report_path="", json_out=False, plan=False, shard="", report_url=""):
    try:
        targets, available = _targets(host, inventory_path, shard)
        results = runner.run(targets, _role_list(roles), options, available)
    except GpuhostError as error:
        _fail(error)
    mode = "plan" if plan else "converge"
    if report_path:
        report.write(results, report_path, mode)
    if report_url:
        problem = report.send(results, report_url, mode)
        if problem:
            print(f"warning: {settings.redact_text(problem)}", file=sys.stderr)
    if json_out:
        print(json_module.dumps(report.as_dict(results, mode), indent=2))
    else:
        print(report.recap(results))
        if report_path:
            print(f"report: {report_path}")
    raise Exit(code=report.exit_code(results, plan=plan))


@task(auto_shortflags=False, positional=[], iterable=["set_"], help=_help("host", "roles", "inventory", "junit", "set", "shard"))
def verify(c, host, roles="", inventory="", junit="", set_=None, shard=""):
    """Run the roles' testinfra checks against hosts and print a summary."""
    from gpuhost import verify as verify_module

    try:
        targets, available = _targets(host, inventory, shard)
        code = verify_module.run(targets, _role_list(roles), available, settings.parse_set(set_ or []),
                                 inventory_path=inventory, junit=junit)
    except GpuhostError as error:
        _fail(error)
    raise Exit(code=code)


@task(auto_shortflags=False, iterable=["gpu"], help={
    "gpu": "GPU model or PCI id (repeatable): T4, 'Tesla K80', 10de:2330", "os": "ubuntu-22.04, debian-12, ...",
    "arch": "x86_64 or sbsa", "driver": "driver branch or specifier", "flavor": "open or proprietary",
    "cuda": "CUDA version or specifier", "cudnn": "cuDNN version or specifier",
    "tensorrt": "TensorRT version or specifier", "framework": "e.g. torch==2.5 or tensorflow==2.17",
    "policy": "lts, production or newest", "source": "where the driver comes from: nvidia, ubuntu or debian",
    "json": "print JSON"})
def resolve(c, gpu=None, os="ubuntu-22.04", arch="x86_64", driver="", flavor="", cuda="", cudnn="", tensorrt="",
            framework="", policy="production", source="nvidia", json=False):
    """Resolve a driver, CUDA, cuDNN and TensorRT that fit these GPUs and each other."""
    from gpuhost import resolution

    request = {"driver": driver, "flavor": flavor, "cuda": cuda, "cudnn": cudnn, "tensorrt": tensorrt,
               "framework": framework}
    try:
        result = resolution.resolve_names(gpu or [], os, arch, {k: v for k, v in request.items() if v}, policy, source)
    except GpuhostError as error:
        _fail(error)
    print(json_module.dumps(result.to_dict(), indent=2) if json else result.explain())


@task(name="inventory", auto_shortflags=False, help={
    "list": HELP["list"], "host": HELP["inventory-host"], "inventory": HELP["inventory"]})
def inventory_(c, list_=False, host="", inventory=""):
    """Show the inventory as Ansible reads it, and how gpuhost connects to each host (gpuhost_connection)."""
    if bool(list_) == bool(host):
        _fail("give --list, or --host NAME.")
    try:
        loaded = _load(inventory)
        shown = loaded.host_listing(host, unsafe_marked=False) if host else loaded.listing()
    except GpuhostError as error:
        _fail(error)
    print(json_module.dumps(shown, sort_keys=True, indent=4, ensure_ascii=False))


@task(name="report", auto_shortflags=False, iterable=["reports"], help={
    "reports": "a report file or a glob of them (repeatable): push runs, shards, pull-mode hosts",
    "json": "print the merged view as JSON", "html": "also write a self-contained HTML page to FILE"})
def report_(c, reports=None, json=False, html=""):
    """Merge reports into one fleet view: failed, drifted and reboot-pending hosts, and what runs where."""
    import glob

    paths = sorted({p for pattern in reports or [] for p in (glob.glob(pattern) or [pattern])})
    if not paths:
        _fail("give --reports FILE (repeatable, globs allowed).")
    try:
        loaded = {p: json_module.loads(open(p, encoding="utf-8").read()) for p in paths}
    except (OSError, ValueError) as error:
        _fail(f"a report could not be read: {error}.")
    view = fleet.merge(loaded)
    if html:
        with open(html, "w", encoding="utf-8") as handle:
            handle.write(fleet.html(view))
    print(json_module.dumps(view, indent=2) if json else fleet.table(view))
    raise Exit(code=1 if view["attention"]["failed"] else 0)


class GpuhostProgram(Program):
    """Invoke's Program with gpuhost's options only: Invoke's others would be accepted and do nothing."""

    def core_args(self):
        return [arg for arg in super().core_args() if arg.name in CORE_OPTIONS]

    @property
    def args(self):
        every = Lexicon({arg.name: arg for arg in super().core_args()})  # their defaults, for Invoke's own reads
        every.update(self.core[0].args)
        return every


namespace = Collection(facts, plan, converge, verify, resolve, inventory_, report_)
program = GpuhostProgram(namespace=namespace, version=__version__, name="gpuhost", binary="gpuhost")


def main():
    program.run()


if __name__ == "__main__":
    main()
