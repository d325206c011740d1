"""One host's failure stays that host's, in one sentence, whatever raised it."""

import types

import pytest

from gpuhost import registry, report, runner
from gpuhost.errors import InventoryError
from gpuhost.inventory import Target


def role(name, steps):
    return types.SimpleNamespace(NAME=name, REQUIRES=(), steps=steps, __name__=f"tests.{name}")


def broken_steps(host, settings):
    raise KeyError("cuda")  # what a bug in a role looks like


def no_steps(host, settings):
    return iter(())


def test_an_unexpected_exception_fails_its_host_in_one_sentence_and_the_run_goes_on():
    targets = [Target(name="local"), Target(name="ghost", address="127.0.0.1", port=9)]  # nothing listens on 9
    options = runner.Options(echo=False)
    local, ghost = runner.run(targets, ["boom"], options, {"boom": role("boom", broken_steps)})
    assert (local.status, local.error) == ("failed", "gpuhost stopped on local with an unexpected KeyError: 'cuda'.")
    assert ghost.status == "unreachable"  # tried all the same
    assert report.exit_code([local, ghost]) == 1
    assert "local: gpuhost stopped on local with an unexpected KeyError" in report.recap([local, ghost])
    assert local.facts["os"]["id"]  # what was read before the failure is kept for the report


def test_facts_of_one_host_failing_unexpectedly_leave_the_others(monkeypatch):
    def explode(self, *args, **kwargs):
        raise RuntimeError("parser surprised")

    monkeypatch.setattr(runner.Host, "gather", explode)
    (result,) = runner.gather_facts([Target(name="local")], runner.Options(echo=False))
    assert (result.status, result.error) == ("failed", "gpuhost stopped on local with an unexpected RuntimeError: "
                                                       "parser surprised.")


def test_a_credential_in_an_error_is_masked_in_the_result_and_the_output(capsys):
    def leaky_steps(host, settings):
        raise RuntimeError("could not fetch https://alice:s3cret@mirror.example/t/tk-123/conda-forge")

    (result,) = runner.run([Target(name="local")], ["leaky"], runner.Options(), {"leaky": role("leaky", leaky_steps)})
    shown = result.error + capsys.readouterr().out + report.recap([result])
    assert "s3cret" not in shown and "tk-123" not in shown and "mirror.example" in shown


def test_a_role_that_cannot_be_imported_fails_each_host_that_runs_it_in_one_sentence_before_contact():
    roles = registry.Roles(["gpuhost_no_such_role_module"])
    ghost = Target(name="ghost", address="127.0.0.1", port=9)  # contacted, it would be unreachable
    (result,) = runner.run([ghost], ["gpuhost-no-such-role-module"], runner.Options(echo=False), roles)
    assert result.status == "failed"
    assert result.error.startswith("role module gpuhost_no_such_role_module cannot be imported: No module named")


def test_an_unknown_role_is_refused_before_any_host_is_contacted():
    with pytest.raises(InventoryError, match="unknown role 'cudaa'"):
        runner.run([Target(name="ghost", address="127.0.0.1", port=9)], ["cudaa"], runner.Options(echo=False))


def test_roles_are_planned_once_per_set_of_roles_not_once_per_host(monkeypatch):
    calls = []
    select = registry.select
    monkeypatch.setattr(registry, "select", lambda names, roles: calls.append(names) or select(names, roles))
    ghosts = [Target(name=f"ghost{n}", address="127.0.0.1", port=9) for n in range(3)]
    results = runner.run(ghosts, ["quiet"], runner.Options(echo=False), {"quiet": role("quiet", no_steps)})
    assert [r.status for r in results] == ["unreachable"] * 3
    assert calls == [("quiet",)]
