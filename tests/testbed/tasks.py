"""`invoke testbed.*`: the harness from the command line (the lead's tasks.py adds `ns`)."""
from invoke import Collection, task

from .specs import OPTIONS, uniform
from .testbed import Testbed


@task(iterable=["gpu", "option"], help={
    "hosts": "how many hosts (tb1..tbN at 10.77.0.11..)",
    "gpu": "GPU model per host, repeatable: T4 (default), A100, H100, P100, K80, RTX5090, "
           "H100x8, none",
    "os": "debian-12 (default), ubuntu-22.04 or ubuntu-24.04",
    "sudo": "nopasswd (default) or password (written to .testbed/become_password)",
    "option": "repeatable: " + ", ".join(f"{k} ({v})" for k, v in OPTIONS.items()),
    "rtt_ms": "add this round-trip time between the outer side and each of these hosts",
})
def up(c, hosts=1, gpu=None, os="debian-12", sudo="nopasswd", option=None, rtt_ms=0):
    """Bring up test hosts alike (reusing running ones) and write .testbed/inventory.yaml."""
    bed = Testbed()
    specs = uniform(int(hosts), gpu or ["T4"], os, sudo, option or [])
    bed.up(specs)
    if int(rtt_ms):
        bed.set_rtt(int(rtt_ms), names=[spec.name for spec in specs])
    status(c)


@task
def down(c):
    """Stop every host, the apt proxy and the mirror server; keep the caches."""
    Testbed().down()


@task
def status(c):
    """One line per host."""
    for host in Testbed().status():
        state = "running" if host["running"] else "stopped"
        print(f"{host['name']:5} {host['address']:12} {state:8} {host['os']:13} "
              f"gpus={','.join(host['gpus']) or 'none'} sudo={host['sudo']} "
              f"options={','.join(host['options']) or '-'}")


@task(help={"host": "tbN", "seconds": "how long the lock is held"})
def hold_lock(c, host, seconds=60):
    """Hold the dpkg lock on a host like unattended-upgrades (fcntl locks on lock-frontend, lock)."""
    Testbed().hold_lock(host, float(seconds))


@task(help={"host": "tbN"})
def kernel_update(c, host):
    """Install a newer kernel on a host: after its next reboot no nvidia module matches it."""
    print(Testbed().kernel_update(host))


@task(help={"host": "tbN"})
def reboot(c, host):
    """Reboot a host and wait until it is back with a new boot id."""
    print(Testbed().reboot(host))


ns = Collection("testbed", up, down, status, hold_lock, kernel_update, reboot)
