"""What the role scenarios share: converge a test host in-process, read its steps, run `gpuhost verify`."""

import subprocess
import sys
from pathlib import Path

from gpuhost import inventory, runner

# The `gpuhost` command installed beside the Python running the tests: the code a user runs, never
# the checkout's source (which `python -m gpuhost.cli` from the checkout would import instead).
GPUHOST = str(Path(sys.executable).with_name("gpuhost"))


def converge(bed, name, roles, check=False, **overrides):
    targets = inventory.load(bed.inventory_path).select(name)
    (result,) = runner.run(targets, roles, runner.Options(check=check, overrides=overrides, echo=False))
    return result


def steps(result):
    unique = {id(s): s for role in result.roles.values() for s in role["steps"]}
    return list(unique.values())


def changed_commands(result):
    return [c for s in steps(result) for c in s["commands"]]


def root(bed, name, command):
    """A command as root on a test host, its result returned whether it failed or not."""
    with bed.connect(name) as c:
        return c.run(command, hide=True, warn=True, in_stream=False)


def verify(bed, name, roles, *settings):
    command = [GPUHOST, "verify", "--host", name, "--inventory",
               str(bed.inventory_path), "--roles", ",".join(roles)]
    command += [f"--set={s}" for s in settings]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    # pytest's warnings would end the report; on a plain install it once warned about gpuhost itself.
    assert "warnings summary" not in result.stdout, result.stdout
    return result
