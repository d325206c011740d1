"""Roles are found by name and imported only when a run needs them."""

import subprocess
import sys
import textwrap

import pytest

from gpuhost import registry
from gpuhost.errors import InventoryError


def test_a_run_imports_only_the_roles_it_runs_and_knows_every_setting_without_importing(tmp_path):
    probe = textwrap.dedent("""
        import sys
        from gpuhost import registry
        roles = registry.available()
        known = roles.defaults()
        assert {"driver", "cuda", "conda_r_python", "nvidia_toolkit", "stack"} <= set(known), sorted(known)
        assert "driver" in roles and "nvidia-toolkit" in roles and "cudaa" not in roles
        assert not [m for m in sys.modules if m.startswith("gpuhost.roles.")], "a role was imported for its settings"
        registry.select(["cudnn"], roles)
        print(" ".join(sorted(m for m in sys.modules if m.startswith("gpuhost.roles.") and m.count(".") == 2)))
    """)
    # From an empty folder, so the gpuhost imported is the installed one, as a user runs it.
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    imported = set(out.stdout.split())
    assert "gpuhost.roles.cudnn" in imported and not imported & {"gpuhost.roles.driver", "gpuhost.roles.conda_r_python"}


def test_every_role_is_named_as_its_module_is():
    roles = registry.available()
    assert sorted(roles) == sorted(module.NAME for module in roles.values())


def test_a_role_whose_name_is_not_its_modules_is_refused(tmp_path, monkeypatch):
    (tmp_path / "odd_role.py").write_text('NAME = "other"\nREQUIRES = ()\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("GPUHOST_EXTRA_ROLES", "odd_role")
    roles = registry.available()
    with pytest.raises(InventoryError, match="odd_role names itself 'other'; its name must be 'odd-role'"):
        roles["odd-role"]


def test_defaults_handed_out_are_copies():
    roles = registry.available()
    roles.defaults()["driver"]["branch"] = "changed by a caller"
    assert roles.defaults()["driver"].get("branch") != "changed by a caller"
