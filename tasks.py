"""Tasks for a gpuhost checkout: gpuhost's own commands, the test hosts, and the demo.

`invoke converge --host gpu-vm` runs the same task as `gpuhost converge --host gpu-vm`.
"""

from invoke import Collection, task

from gpuhost import cli
from tests.testbed.tasks import ns as testbed

DEMO_HOST = "tb9"
DEMO_REPORT = ".testbed/demo-report.json"


@task
def demo(c):
    """Bring up one test host with a simulated Tesla T4, converge every role, verify, tear it down."""
    from tests.testbed import HostSpec, Testbed

    bed = Testbed()
    bed.up([HostSpec(DEMO_HOST)])
    try:
        inventory = bed.inventory_path
        c.run(f"gpuhost plan --host {DEMO_HOST} --inventory {inventory}", warn=True, pty=False)
        c.run(f"gpuhost converge --host {DEMO_HOST} --inventory {inventory} --report {DEMO_REPORT}", pty=False)
        c.run(f"gpuhost converge --host {DEMO_HOST} --inventory {inventory}", pty=False)
        c.run(f"gpuhost verify --host {DEMO_HOST} --inventory {inventory}", pty=False)
        print(f"report: {DEMO_REPORT}")
    finally:
        bed.remove(DEMO_HOST)


ns = Collection(cli.facts, cli.plan, cli.converge, cli.verify, cli.resolve, demo, testbed)
