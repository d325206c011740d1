"""Packaging: every role folder ships as `gpuhost.roles.<name>`, with its defaults and checks."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_role_folder_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {p.parent.name for p in (ROOT / "roles").glob("*/__init__.py")}
    packaged = {name.rpartition(".")[2] for name in config["packages"] if name.startswith("gpuhost.roles.")}
    assert folders and folders == packaged
    assert config["package-dir"]["gpuhost.roles"] == "roles"


def test_every_role_has_defaults_and_checks():
    for folder in (p.parent for p in (ROOT / "roles").glob("*/__init__.py")):
        assert (folder / "defaults.yaml").is_file(), folder.name
        assert (folder / "checks.py").is_file(), folder.name


def test_the_tests_run_gpuhost_as_it_is_installed():
    """A plain `pip install .` is tested as installed; an editable install is the checkout by design."""
    import importlib.metadata
    import json

    import gpuhost
    import gpuhost.roles.cuda  # what a plain install of the source tree alone would lack

    direct = json.loads(importlib.metadata.distribution("gpuhost").read_text("direct_url.json") or "{}")
    location = Path(gpuhost.__file__).resolve()
    if direct.get("dir_info", {}).get("editable"):
        assert location.parent == ROOT / "gpuhost"
    else:
        assert location.parent != ROOT / "gpuhost", f"the tests import the checkout's {location}, not the installed gpuhost"
    assert Path(gpuhost.roles.cuda.__file__).resolve().parent.name == "cuda"


def test_each_role_has_one_name_for_its_folder_settings_and_apply():
    from gpuhost import registry

    for module in registry.available().values():
        key = registry.settings_key(module)
        assert Path(module.__file__).parent.name == key, module.NAME
        assert key in registry.role_defaults(module), f"{module.NAME}: its settings are not under {key!r}"
