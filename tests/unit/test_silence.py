"""The command timeout counts silence, not total time: real commands on this machine, through a Host."""

import threading
import time

import pytest
from invoke import Context

from gpuhost.errors import StepError
from gpuhost.host import Host


def host(seconds):
    machine = Host("box", Context())
    machine.facts = {"user": {"root": True}}
    machine.silence_timeout = seconds
    return machine


def test_a_silent_command_is_stopped_with_the_reason():
    with pytest.raises(StepError, match=r"^waiting on box printed nothing new for 1 s and was stopped \(command_timeout\)"):
        host(1).run("sleep 30", what="waiting")


def test_a_command_that_keeps_talking_runs_longer_than_the_timeout():
    result = host(1).run("for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done", what="talking")
    assert result.stdout.split() == ["1", "2", "3", "4", "5", "6"]


def test_one_timer_serves_a_command_however_much_it_prints(monkeypatch):
    started = []
    start = threading.Timer.start
    monkeypatch.setattr(threading.Timer, "start", lambda timer: (started.append(timer), start(timer))[1])
    result = host(30).run("i=0; while [ $i -lt 300 ]; do echo $i; sleep 0.001; i=$((i+1)); done", what="chatty")
    assert len(result.stdout.split()) == 300
    assert len(started) == 1  # not a timer (a thread) per chunk of output


def test_a_line_that_only_repeats_is_silence():
    """apt's status line, repeated unchanged while its download hangs, does not keep the command alive."""
    started = time.monotonic()
    with pytest.raises(StepError, match=r"^stalled on box printed nothing new for 1 s and was stopped"):
        host(1).run("i=0; while [ $i -lt 50 ]; do echo 'dlstatus:1:0.0000:Retrieving file 1 of 3'; sleep 0.2; "
                    "i=$((i+1)); done", what="stalled")
    assert time.monotonic() - started < 10
