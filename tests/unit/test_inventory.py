"""Inventories: Ansible's shape, precedence, and one clear sentence for every mistake."""

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from gpuhost import cli, inventory, registry, runner, settings, yamlfile
from gpuhost.errors import InventoryError
from gpuhost.inventory import through_ansible
from gpuhost.inventory.data import Vaulted

ROOT = Path(__file__).resolve().parents[2]

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
    ("all:\n  vars:\n    cuda: {verison: '12.4'}\n", "hosts.yaml:3: unknown setting 'cuda.verison' (did you mean 'cuda.version'?)"),
    ("all:\n  vars:\n    apt: {lock_timeout: soon}\n", "hosts.yaml:3: 'apt.lock_timeout' must be a number, not text"),
    ("all:\n  vars:\n    roles: [cuda, cudnn]\n", "hosts.yaml:3: unknown role 'cudnn'"),
    ("all:\n  hosts:\n    a: {gpuhost_known_host_file: kh}\n", "hosts.yaml:3: unknown gpuhost variable 'gpuhost_known_host_file'"),
    ("all:\n  children:\n    a: {children: {b: {children: {a: {}}}}}\n", "groups form a cycle: b → a → b"),
    ("[gpu]\ng1\n[cluster:children]\ngpus\n", "hosts.yaml:4: [cluster:children] names 'gpus', a group declared nowhere"),
])
def test_a_malformed_inventory_is_one_sentence_naming_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as error:
        load(path)
    assert message in str(error.value)


def test_a_typo_in_group_vars_names_its_file_and_line(tmp_path):
    write(tmp_path, "all:\n  hosts: {n1: }\n")
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "gpu.yml").write_text("other: 1\napt:\n  lock_timeot: 5\n")
    with pytest.raises(InventoryError, match=r"group_vars/all/gpu.yml:3: unknown setting 'apt.lock_timeot'"):
        load(tmp_path)


def test_a_rendered_setting_of_the_wrong_type_names_the_host(tmp_path):
    inv = load(write(tmp_path, "all:\n  vars: {wait: later, apt: {lock_timeout: '{{ wait }}'}}\n  hosts: {n1: }\n"))
    with pytest.raises(InventoryError, match="host n1: 'apt.lock_timeout' must be a number, not text"):
        inv.select("n1")


def test_variables_that_are_not_gpuhosts_are_kept_and_ignored(tmp_path):
    (node,) = load(write(tmp_path, "all:\n  vars: {cdua: x, kube_version: v1.29}\n  hosts: {n1: }\n")).select("n1")
    assert node.vars["cdua"] == "x" and node.vars["kube_version"] == "v1.29"


def test_top_groups_need_no_all_and_unknown_group_keys_are_warnings(tmp_path):
    inv = load(write(tmp_path, "gpus:\n  hosts: {a: }\n  childs: {b: {hosts: {lost: }}}\n"))
    assert [t.name for t in inv.select("gpus")] == ["a"]
    assert any("skipping 'childs' in group 'gpus'" in w for w in inv.warnings)


def test_an_empty_inventory_file_says_it_is_empty(tmp_path):
    inv = load(write(tmp_path, "# nothing here yet\n"))
    with pytest.raises(InventoryError, match="hosts.yaml is empty: 'gpu1' is no host or group in it"):
        inv.select("gpu1")


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


def test_legacy_connection_names_win_as_in_ansible(monkeypatch):
    monkeypatch.setenv("SUDO_PW", "from-env")
    variables = {"ansible_host": "10.0.0.1", "ansible_ssh_host": "10.0.0.2", "ansible_user": "new",
                 "ansible_ssh_user": "old", "ansible_port": 22, "ansible_ssh_port": "2222",
                 "ansible_become_password": "a", "ansible_sudo_pass": "{{ lookup('ansible.builtin.env', 'SUDO_PW') }}"}
    inv = inventory.Inventory(groups={"all": {"hosts": ["n"], "children": []}}, hostvars={"n": variables})
    (node,) = inv.select("n")
    assert (node.address, node.user, node.port) == ("10.0.0.2", "old", 2222)
    assert node.become_password == "from-env"


def test_ungrouped_and_the_implicit_localhost_can_be_selected(tmp_path):
    inv = load(write(tmp_path, "all:\n  vars: {apt: {lock_timeout: 7}}\n  hosts: {loose: }\n"))
    assert [t.name for t in inv.select("ungrouped")] == ["loose"]
    (local,) = inv.select("localhost")
    assert local.is_local and local.vars["apt"] == {"lock_timeout": 7}


def test_a_vaulted_password_without_ansible_says_what_to_install(monkeypatch):
    monkeypatch.setattr(through_ansible, "command", lambda name: None)
    target = inventory.Target(name="n", vars={"ansible_become_password": Vaulted("$ANSIBLE_VAULT;1.1;AES256\n61\n")})
    with pytest.raises(InventoryError, match=r"the sudo password of n is encrypted with Ansible Vault: install "
                                             r"Ansible beside gpuhost \(pip install 'gpuhost\[ansible\]'"):
        _ = target.become_password


def test_an_encrypted_file_without_ansible_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(through_ansible, "command", lambda name: None)
    write(tmp_path, "all:\n  hosts: {n1: }\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6162\n")
    with pytest.raises(InventoryError, match=r"all.yml is encrypted with Ansible Vault: install Ansible .*"
                                             r"ANSIBLE_VAULT_PASSWORD_FILE"):
        load(tmp_path)


def test_an_inventory_plugin_without_ansible_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(through_ansible, "command", lambda name: None)
    path = write(tmp_path, "plugin: amazon.aws.aws_ec2\nregions: [us-east-1]\n", name="aws_ec2.yml")
    with pytest.raises(InventoryError, match="configures the Ansible inventory plugin 'amazon.aws.aws_ec2': install"):
        load(path)


def test_gpuhost_help_shows_gpuhosts_options_only(capsys):
    cli.program.run(["gpuhost", "--help"], exit=False)
    shown = capsys.readouterr().out
    assert "--help" in shown and "--version" in shown and "inventory" in shown
    for invoke_option in ("--dry", "--prompt-for-sudo-password", "--write-pyc", "--warn-only", "--echo", "--pty"):
        assert invoke_option not in shown


def test_the_example_inventory_lists_every_setting_with_its_default():
    """inventory/group_vars/all.yaml, its settings uncommented, is the defaults."""
    lines = (ROOT / "inventory" / "group_vars" / "all.yaml").read_text().splitlines()
    settings_text = "\n".join(line[2:] for line in lines if re.match(r"^# *[A-Za-z0-9_-]+:", line))
    listed = yaml.safe_load(settings_text)
    roles = registry.available()
    defaults = json.loads(json.dumps(registry.defaults(roles.values())))
    for internal in ("secret_settings", "inventory_dir"):
        defaults.pop(internal)
    assert set(listed.pop("roles")) == set(roles)
    assert listed.pop("gpuhost_known_hosts_file") == "~/.ssh/known_hosts"
    assert listed == defaults
    assert inventory.load(ROOT / "inventory").empty  # hosts.yaml: examples only, commented
