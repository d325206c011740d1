"""Inventories: Ansible's shape, precedence, and one clear sentence for every mistake."""

import textwrap

import pytest

from gpuhost import inventory, runner, settings, yamlfile
from gpuhost.errors import InventoryError

DEFAULTS = {"cuda": {"version": None, "default": True}, "stack": {"cuda": None, "policy": "production"},
            "apt": {"lock_timeout": 300}}
ROLES = {"cuda", "driver"}


def write(tmp_path, text, name="hosts.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load(path):
    return inventory.load(path, defaults=DEFAULTS, role_names=ROLES)


def test_variables_merge_all_then_parent_then_child_group_then_host(tmp_path):
    path = write(tmp_path, """
        all:
          vars: {apt: {lock_timeout: 1}, stack: {policy: lts}}
          children:
            gpu:
              vars: {apt: {lock_timeout: 2}}
              children:
                a100:
                  vars: {apt: {lock_timeout: 3}}
                  hosts:
                    node1: {ansible_host: 10.0.0.5}
                    node2: {apt: {lock_timeout: 4}}
    """)
    inv = load(path)
    node1, node2 = inv.select("gpu")
    assert node1.vars["apt"]["lock_timeout"] == 3 and node1.vars["stack"]["policy"] == "lts"
    assert node2.vars["apt"]["lock_timeout"] == 4
    assert node1.address == "10.0.0.5" and node2.address == "node2"
    merged = runner.settings_for(node1, DEFAULTS, settings.parse_set(["apt.lock_timeout=9"]))
    assert merged["apt"]["lock_timeout"] == 9 and merged["cuda"]["default"] is True


def test_group_vars_and_host_vars_folders_are_read(tmp_path):
    write(tmp_path, "all:\n  hosts:\n    node1:\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "group_vars" / "all.yaml").write_text("stack: {cuda: '12.4'}\n")
    (tmp_path / "host_vars" / "node1.yml").write_text("ansible_user: ubuntu\nansible_port: 2222\n")
    (node,) = load(tmp_path).select("node1")
    assert node.vars["stack"]["cuda"] == "12.4" and node.user == "ubuntu" and node.port == 2222
    assert node.vars["inventory_dir"] == str(tmp_path.resolve())  # where settings' relative paths are read from


def test_versions_written_as_numbers_stay_as_written(tmp_path):
    path = write(tmp_path, "all:\n  vars:\n    stack: {cuda: 12.10}\n  hosts: {n: }\n")
    assert load(path).select("n")[0].vars["stack"]["cuda"] == "12.10"


@pytest.mark.parametrize("text, message", [
    ("all:\n  hosts:\n    a: {\n", "hosts.yaml:4: malformed YAML"),
    ("gpus:\n  hosts: {a: }\n", "top level of an inventory must be 'all:'"),
    ("all:\n  vars:\n    cdua: {version: '12.4'}\n", "hosts.yaml:3: unknown setting 'cdua' (did you mean 'cuda'?)"),
    ("all:\n  vars:\n    apt: {lock_timeout: soon}\n", "hosts.yaml:3: 'apt.lock_timeout' must be a number, not text"),
    ("all:\n  vars:\n    roles: [cuda, cudnn]\n", "hosts.yaml:3: unknown role 'cudnn'"),
    ("all:\n  childs: {}\n", "hosts.yaml:2: group 'all' has 'childs'"),
    ("all:\n  hosts:\n    'bad host': {}\n", "hosts.yaml:3: 'bad host' is not a valid host name"),
    ("all:\n  children:\n    a: {children: {b: {children: {a: {}}}}}\n", "groups form a cycle: all → a → b → a"),
])
def test_a_malformed_inventory_is_one_sentence_naming_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as error:
        load(path)
    assert message in str(error.value)


def test_an_unknown_name_is_refused_with_the_known_ones(tmp_path):
    inv = load(write(tmp_path, "all:\n  hosts: {node1: }\n  children: {gpu: {hosts: {node1: }}}\n"))
    with pytest.raises(InventoryError, match="'nod1' is no host or group of the inventory .known: node1, gpu."):
        inv.select("nod1")


@pytest.mark.parametrize("spec, expected", [
    ("ubuntu@10.1.2.3", ("10.1.2.3", "ubuntu", None)),
    ("ubuntu@10.1.2.3:2222", ("10.1.2.3", "ubuntu", 2222)),
    ("gpu.example.com", ("gpu.example.com", None, None)),
    ("admin@[fd00::5]:22", ("fd00::5", "admin", 22)),
])
def test_addresses_not_in_the_inventory_are_ad_hoc_hosts(spec, expected):
    (target,) = inventory.Inventory().select(spec)
    assert (target.address, target.user, target.port) == expected


def test_local_is_this_machine():
    (target,) = inventory.Inventory().select("local")
    assert target.is_local


def test_become_password_comes_from_the_environment(monkeypatch):
    target = inventory.Target(name="n", vars={"ansible_become_password": "{{ lookup('env', 'MY_PW') }}"})
    monkeypatch.setenv("MY_PW", "s3cret")
    assert target.become_password == "s3cret"


@pytest.mark.parametrize("item, message", [
    ("cuda", "expected KEY.SUB=VALUE"),
    ("cu da.x=1", "expected KEY.SUB=VALUE"),
    ("apt.lock_timeout=[", "malformed YAML"),
])
def test_bad_set_values_are_refused(item, message):
    with pytest.raises(InventoryError, match=message):
        settings.parse_set([item])


def test_set_keys_may_have_dashes_and_mappings_are_checked_as_mappings():
    values = settings.parse_set(["docker.daemon.live-restore=true"])
    assert values == {"docker": {"daemon": {"live-restore": True}}}
    settings.check(values, yamlfile.loads("docker: {daemon: {}}", source="defaults.yaml"))  # free-form mapping


def test_set_values_are_checked_against_the_defaults():
    with pytest.raises(InventoryError, match="'apt.lock_timeout' must be a number"):
        settings.check(settings.parse_set(["apt.lock_timeout=later"]), DEFAULTS)
    settings.check(settings.parse_set(["stack.cuda=12.4", "apt.lock_timeout=60"]), DEFAULTS)


def test_secrets_are_redacted():
    assert settings.redact({"a": {"ansible_become_password": "pw", "x": 1}}) == {
        "a": {"ansible_become_password": "***", "x": 1}}
