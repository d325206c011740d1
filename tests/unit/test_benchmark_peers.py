"""The pure parts of benchmarks/peers.py: each tool's recap read as "changed" and "failed", the
table's ratios, the subset --quick measures, and the stack data the peers are given.

The recaps are copied from real runs on test hosts: Ansible 2.19.14 running benchmarks/peers/site.yml
(cold, no-op, and with a package that does not exist), pyinfra 3.10.0 running benchmarks/peers/deploy.py
and `exec` (one host failing), gpuhost converge with one unreachable address.
"""

import sys

import pytest

from benchmarks import peer_stack, peer_table, peer_tools
from gpuhost.ops.apt import Packages, Transaction
from gpuhost.ops.files import File, Link
from gpuhost.ops.reboot import Reboot
from gpuhost.ops.systemd import Service
from gpuhost.roles.cuda import default_toolkit
from gpuhost.steps import Check, Handler, Phase

ANSIBLE_COLD_AND_NO_OP = """
PLAY RECAP *********************************************************************
tb31                       : ok=9    changed=0    unreachable=0    failed=0    skipped=6    rescued=0    ignored=0
tb32                       : ok=16   changed=12   unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
"""
ANSIBLE_FAILED = """
fatal: [tb31]: FAILED! => {"changed": false, "msg": "No package matching 'no-such-package-xyz' is available"}

PLAY RECAP *********************************************************************
tb31                       : ok=2    changed=0    unreachable=0    failed=1    skipped=4    rescued=0    ignored=0
"""
PYINFRA_COLD = """--> Results:
    Operation                                                   Hosts   Success   Error   No Change
    Repository key                                              1       1         -       -
    Service nvidia-persistenced.service                         1       1         -       -
    Grand total                                                 12      12        -       -

--> Disconnecting from hosts...
"""
PYINFRA_NO_OP = "    Grand total                                                 10      -         -       10          \n"
PYINFRA_ONE_ERROR = """--> Results:
    Operation                                Hosts   Success   Error   No Change
    server.shell (test $(hostname) = tb31)   2       1         1       -
    Grand total                              2       1         1       -
"""
PYINFRA_NO_HOSTS = """--> Starting operation: server.shell (false)
    [tb31] Error: executed 0 commands

--> Disconnecting from hosts...
--> pyinfra error: No hosts remaining!
"""
GPUHOST_RECAP = """[tb32] changed: 12 step(s) changed
host              status       changed  commands  rebooted  seconds
root@10.77.0.250  unreachable  0        0         no        3.1
tb32              changed      12       29        yes       33.9
root@10.77.0.250: root@10.77.0.250 (10.77.0.250:22) is unreachable: No route to host.
"""


def test_ansible_recap_sums_the_changes_of_every_host():
    assert peer_tools.parse_ansible(ANSIBLE_COLD_AND_NO_OP, ["tb31", "tb32"]) == peer_tools.Recap(12, 0)
    assert peer_tools.parse_ansible(ANSIBLE_COLD_AND_NO_OP, ["tb31"]) == peer_tools.Recap(0, 0)


def test_ansible_recap_counts_a_failed_host():
    assert peer_tools.parse_ansible(ANSIBLE_FAILED, ["tb31"]) == peer_tools.Recap(0, 1)


def test_ansible_recap_without_a_host_is_an_error():
    with pytest.raises(peer_tools.RecapError, match="tb33"):
        peer_tools.parse_ansible(ANSIBLE_COLD_AND_NO_OP, ["tb31", "tb33"])


def test_ansible_recap_in_colour_is_read():
    coloured = "\x1b[0;33mtb31\x1b[0m : \x1b[0;32mok=9\x1b[0m changed=2 unreachable=0 failed=0 skipped=6"
    assert peer_tools.parse_ansible(coloured, ["tb31"]) == peer_tools.Recap(2, 0)


def test_pyinfra_grand_total_gives_changed_operations():
    assert peer_tools.parse_pyinfra(PYINFRA_COLD) == peer_tools.Recap(12, 0)
    assert peer_tools.parse_pyinfra(PYINFRA_NO_OP) == peer_tools.Recap(0, 0)


def test_pyinfra_grand_total_gives_errors():
    assert peer_tools.parse_pyinfra(PYINFRA_ONE_ERROR) == peer_tools.Recap(1, 1)


def test_pyinfra_without_results_is_an_error():
    with pytest.raises(peer_tools.RecapError, match="Grand total"):
        peer_tools.parse_pyinfra(PYINFRA_NO_HOSTS)


def test_pyinfra_total_that_is_not_a_count_is_an_error():
    with pytest.raises(peer_tools.RecapError, match="count"):
        peer_tools.parse_pyinfra("    Grand total   2   many   -   -\n")


def test_gpuhost_recap_counts_changes_and_unreachable_hosts():
    assert peer_tools.parse_gpuhost(GPUHOST_RECAP, ["tb32"]) == peer_tools.Recap(12, 0)
    assert peer_tools.parse_gpuhost(GPUHOST_RECAP, ["root@10.77.0.250", "tb32"]) == peer_tools.Recap(12, 1)


def test_gpuhost_recap_without_a_host_is_an_error():
    with pytest.raises(peer_tools.RecapError, match="tb31"):
        peer_tools.parse_gpuhost(GPUHOST_RECAP, ["tb31"])


COLUMNS = {(1, 0): "1 host", (8, 0): "8 hosts"}


def test_table_shows_ratios_to_gpuhost_and_to_the_floor():
    rows = {peer_table.FLOOR: {(1, 0): 0.35, (8, 0): 1.02},
            peer_table.GPUHOST: {(1, 0): 1.3, (8, 0): 2.38},
            "pyinfra": {(1, 0): 2.99, (8, 0): 5.46},
            "Ansible": {(1, 0): 107.0, (8, 0): "timed out"}}
    assert peer_table.markdown(rows, COLUMNS).splitlines() == [
        "| | 1 host | 8 hosts |",
        "|---|---|---|",
        "| `ssh true` (floor) | 0.35 s | 1.02 s |",
        "| gpuhost converge | 1.30 s (3.7× floor) | 2.38 s (2.3× floor) |",
        "| pyinfra | 2.99 s (2.3× gpuhost, 8.5× floor) | 5.46 s (2.3× gpuhost, 5.4× floor) |",
        "| Ansible | 107 s (82× gpuhost, 306× floor) | timed out |",
    ]


def test_table_leaves_out_ratios_to_cells_that_are_no_number():
    rows = {peer_table.FLOOR: {(1, 0): None, (8, 0): 1.0},
            peer_table.GPUHOST: {(1, 0): "failed", (8, 0): 2.0},
            "pyinfra": {(1, 0): 12.5, (8, 0): None}}
    lines = peer_table.markdown(rows, COLUMNS).splitlines()
    assert lines[2:] == ["| `ssh true` (floor) | — | 1.00 s |",
                         "| gpuhost converge | failed | 2.00 s (2.0× floor) |",
                         "| pyinfra | 12.5 s | — |"]


def test_cell_is_the_median_or_the_word():
    assert peer_table.cell([3.0, 1.0, 2.0, 10.0, 2.5]) == 2.5
    assert peer_table.cell([1.0], "changed 2") == "changed 2"


@pytest.fixture(scope="module")
def peers():
    """benchmarks/peers.py, imported as a module; like a script it puts the checkout first on the path,
    which is undone so that the other tests still import gpuhost as it is installed."""
    saved = list(sys.path)
    from benchmarks import peers
    sys.path[:] = saved
    return peers


def test_quick_measures_ansible_at_one_host_and_cold_runs_without_delay(peers):
    quick, full = peers.parse_args(["--quick"]), peers.parse_args([])
    assert (quick.runs, quick.ansible_runs, full.runs, full.ansible_runs) == (3, 1, 5, 3)
    assert not peers.wanted(quick, "no-op", "ansible", 8, 0)
    assert peers.wanted(quick, "no-op", "ansible", 1, 20)
    assert peers.wanted(quick, "no-op", "pyinfra", 8, 20)
    assert not peers.wanted(quick, "cold", "gpuhost", 1, 20)
    assert all(peers.wanted(full, phase, "ansible", 8, 20) for phase in ("no-op", "cold"))


def test_runs_below_one_are_refused(peers, capsys):
    with pytest.raises(SystemExit):
        peers.parse_args(["--runs", "0"])
    assert "at least 1" in capsys.readouterr().err


def _steps():
    pin = File("/etc/apt/preferences.d/pin", "Package: nvidia-*\n")
    pin.phase = Phase.REPOSITORIES
    blacklist = File("/etc/modprobe.d/blacklist.conf", "blacklist nouveau\n", notify=("update initramfs",))
    packages = Transaction([Packages(install={"cuda-toolkit-13-0": "13.0.2-1", "nvidia-open": None},
                                     hold=["cuda-toolkit-13-0", "nvidia-open"])])
    reboot = Reboot("reboot into the driver", lambda facts: None if "nvidia-open" not in facts.get("packages", {})
                    else "the nvidia module is not loaded")
    return [Check("fits", lambda facts: None), pin, packages, blacklist, default_toolkit("13.0"),
            Handler("update initramfs", ["update-initramfs -u"]), reboot, Service("nvidia-persistenced.service")]


def test_stack_data_carries_every_step_the_peers_repeat():
    stack = peer_stack.as_data(_steps(), {"packages": {}, "probes": {}})
    assert stack["repository_files"] == [{"path": "/etc/apt/preferences.d/pin", "content": "Package: nvidia-*\n",
                                          "mode": "0644", "owner": "root", "group": "root", "notify": []}]
    assert stack["install"] == ["cuda-toolkit-13-0=13.0.2-1", "nvidia-open"]
    assert stack["hold"] == ["cuda-toolkit-13-0", "nvidia-open"]
    assert [f["notify"] for f in stack["files"]] == [["update initramfs"]]
    assert stack["guarded_commands"][0]["expect"] == "Status: manual\nValue: /usr/local/cuda-13.0"
    assert stack["handler_commands"] == {"update initramfs": "update-initramfs -u"}
    assert stack["reboot"]["reason"] == "the nvidia module is not loaded"  # known only after the predicted install
    assert stack["services"] == [{"unit": "nvidia-persistenced.service", "enabled": True, "running": True}]


def test_stack_data_leaves_out_steps_that_change_nothing():
    done = {"probes": {"cuda-default": {"rc": 0, "output": "Status: manual\nValue: /usr/local/cuda-13.0"}}}
    stack = peer_stack.as_data([default_toolkit("13.0")], done)
    assert (stack["guarded_commands"], stack["left_out"]) == ([], ["/usr/local/cuda -> /usr/local/cuda-13.0"])


def test_stack_data_refuses_a_step_it_cannot_express():
    with pytest.raises(peer_stack.StackError, match="Link"):
        peer_stack.as_data([Link("/usr/local/cuda", "/usr/local/cuda-13.0")], {})


def test_stack_data_refuses_hosts_a_check_refuses():
    with pytest.raises(peer_stack.StackError, match="Secure Boot"):
        peer_stack.as_data([Check("fits", lambda facts: "Secure Boot is on")], {})
