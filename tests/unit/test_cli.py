"""The command line as a user types it: help after a command, and a missing --host said in one sentence."""

import subprocess

import pytest

from tests.integration.converging import GPUHOST


@pytest.mark.parametrize("command", ["facts", "plan", "converge", "verify"])
def test_help_after_a_command_shows_its_options(command):
    shown = subprocess.run([GPUHOST, command, "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "--host=STRING" in shown.stdout, shown.stderr


@pytest.mark.parametrize("command", ["facts", "plan", "converge", "verify"])
def test_a_command_without_a_host_says_so(command):
    shown = subprocess.run([GPUHOST, command], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 1
    assert shown.stderr.strip() == ("error: give --host: an inventory host or group, user@addr[:port], an "
                                    "~/.ssh/config alias, or local.")
