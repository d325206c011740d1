"""The apt transaction's commands run in a real shell, with apt-get and apt-mark made to fail.

The golden files in operations/ pin the command text; these tests pin what the text does: a
failed step stops the chain, the exit status says so, and the error names apt's or dpkg's line.
The stand-ins print the messages real apt and dpkg print for these failures.
"""

import os
import stat

import pytest
from invoke import Context

from gpuhost.errors import StepError
from gpuhost.host import Host
from gpuhost.ops import apt

# What apt 2.6 and dpkg 1.21 print when a maintainer script fails (Debian 12).
DPKG_FAILURE = """\
Setting up cuda-toolkit-12-4 (12.4.1-1) ...
dpkg: error processing package cuda-toolkit-12-4 (--configure):
 installed cuda-toolkit-12-4 package post-installation script subprocess returned error exit status 1
Errors were encountered while processing:
 cuda-toolkit-12-4
E: Sub-process /usr/bin/dpkg returned an error code (1)
"""
UPDATE_FAILURE = """\
Err:1 http://mirror.example/repo  InRelease
  Could not connect to mirror.example:80 (192.0.2.1). - connect (111: Connection refused)
E: Failed to fetch http://mirror.example/repo/InRelease  Could not connect to mirror.example:80 (192.0.2.1). - connect (111: Connection refused)
E: Some index files failed to download. They have been ignored, or old ones used instead.
"""
STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$(basename "$0") $*" in
  *"$FAIL_ON"*) printf '%s' "$FAILURE_TEXT"; exit "$FAILURE_CODE";;
esac
case "$*" in *--assume-no*) echo "Need to get 1000 kB of archives."; echo "Abort."; exit 1;; esac
exit 0
"""


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A local host whose apt-get and apt-mark fail on the command matching `fail`."""
    log = tmp_path / "calls"

    def make(fail="no such call", code=100, text=""):
        for tool in ("apt-get", "apt-mark"):
            path = tmp_path / tool
            path.write_text(STUB.format(log=log))
            path.chmod(path.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAIL_ON", fail)
        monkeypatch.setenv("FAILURE_CODE", str(code))
        monkeypatch.setenv("FAILURE_TEXT", text)
        host = Host("box", Context())
        host.facts = {"user": {"root": True}, "packages": {}, "disk": {}}
        return host

    make.calls = lambda: log.read_text().splitlines() if log.exists() else []
    return make


def transaction():
    return apt.Transaction([apt.Packages(install={"cuda-toolkit-12-4": "12.4.1-1"}, hold=["cuda-toolkit-12-4"])])


def run(host):
    step = transaction()
    step.execute(host, step.commands(host.facts))


def test_a_failed_install_fails_the_step_quotes_dpkg_and_holds_nothing(shell):
    install = "-y -q -o DPkg::Lock::Timeout=300 -o APT::Status-Fd=1 -o Dpkg::Options"
    host = shell(fail=install, code=100, text=DPKG_FAILURE)
    with pytest.raises(StepError) as error:
        run(host)
    assert str(error.value) == (
        "apt on box failed (exit 100): dpkg: error processing package cuda-toolkit-12-4 (--configure): installed "
        "cuda-toolkit-12-4 package post-installation script subprocess returned error exit status 1.")
    assert not any(call.startswith("apt-mark") for call in shell.calls())


def test_a_failed_update_stops_before_anything_is_installed(shell):
    host = shell(fail=" update", code=100, text=UPDATE_FAILURE)
    with pytest.raises(StepError, match=r"could not prepare the transaction \(exit 100\): Failed to fetch "
                                        r"http://mirror.example/repo/InRelease"):
        run(host)
    assert [c.split()[-1] for c in shell.calls()] == ["update"]


def test_a_failed_hold_fails_the_step(shell):
    host = shell(fail="apt-mark hold", code=1, text="E: Can't select installed nor candidate version\n")
    with pytest.raises(StepError, match=r"apt on box failed \(exit 1\)"):
        run(host)


def test_a_transaction_that_works_runs_update_simulation_install_and_hold_in_order(shell):
    host = shell()
    run(host)
    calls = shell.calls()
    assert [c.split()[0] for c in calls] == ["apt-get", "apt-get", "apt-get", "apt-mark"]
    assert calls[0].endswith(" update") and "--assume-no" in calls[1] and " -y " in calls[2]
    assert calls[3] == "apt-mark hold cuda-toolkit-12-4"


@pytest.mark.parametrize("output, expected", [
    (DPKG_FAILURE, "dpkg: error processing package cuda-toolkit-12-4 (--configure)"),
    # apt 2.6 on a truncated download
    ("E: Failed to fetch http://m/pool/x.deb  Hash Sum mismatch\n   Hashes of expected file:\n"
     "E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n",
     "Failed to fetch http://m/pool/x.deb  Hash Sum mismatch."),
    # dkms 3.0 when the module does not build, then dpkg's lines, which end in CR LF under apt
    ("Error! Bad return status for module build on kernel: 6.1.0-40-cloud-amd64 (x86_64)\r\n"
     "dpkg: error processing package nvidia-kernel-dkms (--configure):\r\n"
     " installed nvidia-kernel-dkms package post-installation script subprocess returned error exit status 10\r\n"
     "E: Sub-process /usr/bin/dpkg returned an error code (1)\n",
     "(DKMS: Bad return status for module build on kernel: 6.1.0-40-cloud-amd64 (x86_64))."),
    ("", "no output."),
])
def test_the_error_sentence_quotes_the_line_that_names_the_cause(output, expected):
    assert expected in apt.first_error(output)
