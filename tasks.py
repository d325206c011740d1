"""Tasks for a gpuhost checkout: gpuhost's own commands, the test hosts, and the demo.

`invoke converge --host gpu-vm` runs the same task as `gpuhost converge --host gpu-vm`.
"""

import shlex
import sys
from pathlib import Path

from invoke import Collection, task

from gpuhost import cli
from tests.testbed.tasks import ns as testbed

GPUHOST = shlex.quote(str(Path(sys.executable).with_name("gpuhost")))  # the one installed beside invoke
DEMO_HOST = "tb9"
DEMO_REPORT = ".testbed/demo-report.json"
# The test mirror's Docker CE has no engine: the demo runs Debian's docker.io, which starts containers.
DEMO_SETTINGS = ["docker.source=distro", "docker.users=[gpuadmin]", "conda.users=[gpuadmin]",
                 "conda.envs={ml: {python: '3.11', r: '4.2', packages: [tabulate], pip: [humanize]}}"]


@task
def demo(c):
    """Bring up one test host with a simulated Tesla T4, converge every role, verify, tear it down."""
    from tests.testbed import HostSpec, Testbed

    bed = Testbed()
    bed.up([HostSpec(DEMO_HOST, options=("r",))])
    try:
        target = f"--host {DEMO_HOST} --inventory {bed.inventory_path} " + " ".join(
            f"--set {shlex.quote(s)}" for s in DEMO_SETTINGS)
        c.run(f"{GPUHOST} plan {target}", warn=True, pty=False)
        c.run(f"{GPUHOST} converge {target} --report {DEMO_REPORT}", pty=False)
        c.run(f"{GPUHOST} converge {target}", pty=False)
        c.run(f"{GPUHOST} verify {target}", pty=False)
        print(f"report: {DEMO_REPORT}")
    finally:
        bed.remove(DEMO_HOST)


ns = Collection(cli.facts, cli.plan, cli.converge, cli.verify, cli.resolve, demo, testbed)
