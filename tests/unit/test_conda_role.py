"""The conda-r-python role as data: specs, what an environment lacks, files next to the inventory, refusals."""

import json
import re
import types
from pathlib import Path

import pytest

from gpuhost import registry
from gpuhost.errors import InventoryError, StepError
from gpuhost.roles import conda_r_python as role
from gpuhost.roles.conda_r_python import definitions, environment, specs
from gpuhost.roles.conda_r_python.bashrc import CondaInit
from gpuhost.roles.conda_r_python.installer import Installer

SAMPLES = Path(__file__).parent / "facts_samples"
OWNER = "gpuhost-conda"
AS_OWNER = f"umask 002 && cd / && runuser -u {OWNER} -- "
LISTING = "\n".join([
    "ml/conda-meta/history",
    "ml/conda-meta/python-3.11.2-h9e318b2_1_cpython.json",
    "ml/conda-meta/r-base-4.2.2-h1a8d2f0_0.json",
    "ml/conda-meta/tabulate-0.8.10-pyhd8ed1ab_0.json",
    "ml/conda-meta/r-jsonlite-1.8.8-r42hc72bb7e_0.json",
    "pip ml/lib/python3.11/site-packages/Humanize-4.9.0.dist-info",
    "empty/conda-meta/history",
])


def settings(**envs):
    values = registry.defaults([role])
    values["conda_r_python"]["envs"] = envs
    values["conda_r_python"]["channels"] = ["http://mirror/conda-forge"]
    return values


def env_step(name="ml", **options):
    values = settings(**{name: options})
    wanted = definitions.wanted(name, options, values["conda_r_python"], values)
    return environment.Environment("/opt/conda", wanted, OWNER, pip_index_url="http://mirror/pypi/simple")


def facts():
    return {"probes": {environment.PROBE: {"rc": 0, "output": LISTING}}}


@pytest.mark.parametrize("spec, version, build, expected", [
    ("numpy", "1.2", "x", True),
    ("numpy=1.26", "1.26.4", "py", True),
    ("numpy=1.26", "1.260", "py", False),
    ("numpy==1.26.4", "1.26.4", "py", True),
    ("numpy >=1.2,<2", "1.5", "py", True),
    ("numpy>=1.2, <2", "2.0", "py", False),
    ("pytorch=*=*cuda*", "2.5.1", "cuda126_py312h", True),
    ("pytorch=*=*cuda*", "2.5.1", "cpu_py312h", False),
    ("python 3.11.*", "3.11.2", "h", True),
])
def test_conda_specs_match_as_conda_reads_them(spec, version, build, expected):
    assert specs.conda_spec(spec).satisfied_by(version, build) is expected


@pytest.mark.parametrize("bad", ["numpy; reboot", "numpy=$(reboot)", "Numpy Version", ""])
def test_a_spec_that_is_not_one_is_refused(bad):
    with pytest.raises(InventoryError):
        specs.conda_spec(bad)


def test_the_listing_gives_each_environments_records_and_pip_packages():
    envs = environment.installed(facts())
    assert envs["ml"]["conda"]["r-jsonlite"] == ("1.8.8", "r42hc72bb7e_0")
    assert envs["ml"]["pip"] == {"humanize": "4.9.0"}
    assert envs["empty"] == {"conda": {}, "pip": {}}


def test_a_missing_environment_is_created_with_the_channels_strictly():
    step = env_step("new", python="3.11", r="4.2", kernels=False)
    assert step.commands(facts()) == [
        AS_OWNER + "/opt/conda/bin/conda create --yes --quiet --prefix /opt/conda/envs/new --override-channels "
        "--channel http://mirror/conda-forge --strict-channel-priority python=3.11 r-base=4.2"]


def test_an_environment_that_has_everything_needs_nothing():
    step = env_step(python="3.11", r="4.2", packages=["tabulate=0.8", "r-jsonlite"], pip=["humanize==4.9.0"],
                    kernels=False)
    assert step.commands(facts()) == []


def test_one_changed_version_installs_only_that_package():
    step = env_step(python="3.11", r="4.2", packages=["tabulate=0.9", "r-jsonlite"], pip=["humanize>=4.9"],
                    kernels=False)
    assert step.commands(facts()) == [
        AS_OWNER + "/opt/conda/bin/conda install --yes --quiet --prefix /opt/conda/envs/ml --override-channels "
        "--channel http://mirror/conda-forge --strict-channel-priority tabulate=0.9"]


def test_pip_packages_go_through_the_environments_pip_and_the_index():
    (command,) = env_step(python="3.11", r="4.2", kernels=False, pip=["humanize==4.10.0"]).commands(facts())
    assert command == (AS_OWNER + "/opt/conda/envs/ml/bin/python -m pip install --no-input "
                       "--disable-pip-version-check --index-url http://mirror/pypi/simple humanize==4.10.0")


def test_kernels_add_ipykernel_and_irkernel_and_register_both(tmp_path):
    step = env_step(python="3.11", r="4.2")
    assert [s.text for s in step.wanted.conda] == ["python=3.11", "ipykernel", "r-base=4.2", "r-irkernel"]
    python, r = role.kernels("/opt/conda", "ml", step.wanted)
    spec = json.loads(python.content)
    assert python.path == "/usr/local/share/jupyter/kernels/conda-ml-python/kernel.json"
    assert spec["argv"][:4] == ["/opt/conda/envs/ml/bin/python", "-Xfrozen_modules=off", "-m", "ipykernel_launcher"]
    assert json.loads(r.content)["argv"][:3] == ["/opt/conda/envs/ml/bin/R", "--slave", "-e"]


def test_an_environment_yml_next_to_the_inventory_is_read(tmp_path):
    (tmp_path / "ml.yml").write_text("name: ml\nchannels: [http://mirror/other]\ndependencies:\n"
                                     "  - python=3.11\n  - tabulate >=0.9\n  - pip:\n      - humanize==4.9.0\n")
    values = settings(ml={"file": "ml.yml", "kernels": False})
    values["inventory_dir"] = str(tmp_path)
    wanted = definitions.wanted("ml", values["conda_r_python"]["envs"]["ml"], values["conda_r_python"], values)
    assert [s.text for s in wanted.conda] == ["python=3.11", "tabulate>=0.9"]
    assert [str(r) for r in wanted.pip] == ["humanize==4.9.0"] and wanted.channels == ["http://mirror/other"]


def test_a_lock_file_recreates_the_environment_only_when_it_differs(tmp_path):
    lock = tmp_path / "ml.lock"
    base = "http://mirror/conda-forge/"
    lock.write_text("# platform: linux-64\n@EXPLICIT\n" + "".join(f"{base}{p}#0123\n" for p in [
        "linux-64/python-3.11.2-h9e318b2_1_cpython.tar.bz2", "linux-64/r-base-4.2.2-h1a8d2f0_0.tar.bz2",
        "noarch/tabulate-0.8.10-pyhd8ed1ab_0.tar.bz2", "linux-64/r-jsonlite-1.8.8-r42hc72bb7e_0.tar.bz2"]))
    values = settings(ml={"lock": str(lock)})
    wanted = definitions.wanted("ml", values["conda_r_python"]["envs"]["ml"], values["conda_r_python"], values)
    step = environment.Environment("/opt/conda", wanted, OWNER, lock_path="/etc/gpuhost/conda/ml.txt")
    assert step.commands(facts()) == []
    lock.write_text(lock.read_text().replace("tabulate-0.8.10", "tabulate-0.9.0"))
    step.wanted = definitions.wanted("ml", values["conda_r_python"]["envs"]["ml"], values["conda_r_python"], values)
    assert step.commands(facts()) == [AS_OWNER + "/opt/conda/bin/conda create --yes --quiet --prefix "
                                      "/opt/conda/envs/ml --file /etc/gpuhost/conda/ml.txt"]


@pytest.mark.parametrize("options, message", [
    ({"pyhton": "3.11"}, "unknown setting 'conda_r_python.envs.ml.pyhton' (did you mean 'python'?)"),
    ({"lock": "x.lock", "python": "3.11"}, "lock names every package"),
    ({"packages": ["numpy; reboot"]}, "is not a conda package spec"),
    ({"channels": ["https://x/$(reboot)"]}, "is not an http(s) or file URL"),
])
def test_bad_environment_settings_are_refused_with_the_reason(options, message):
    values = settings(ml=options)
    with pytest.raises((InventoryError, StepError), match=re.escape(message)):
        definitions.wanted("ml", options, values["conda_r_python"], values)


def test_a_framework_needing_more_cuda_than_the_driver_runs_is_refused():
    host = types.SimpleNamespace(name="gpu1", facts=json.loads((SAMPLES / "ubuntu-22.04-aws-a10g.json").read_text()))
    values = settings(ml={"python": "3.11", "framework": "pytorch", "cuda": "99.0"})
    with pytest.raises(InventoryError, match=r"asks for CUDA 99.0 from conda-forge, but driver branch \d+ on gpu1 "
                                             r"runs CUDA up to"):
        definitions.framework_specs(host, values, "ml", values["conda_r_python"]["envs"]["ml"])
    fitting = definitions.framework_specs(host, settings(), "ml", {"framework": "pytorch"})
    assert fitting[0].text == "pytorch=*=*cuda*" and fitting[1].name == "cuda-version"


def test_an_installer_without_a_pinned_sha256_is_refused():
    with pytest.raises(StepError, match="needs its sha256 pinned"):
        Installer("https://example.com/Miniforge3.sh", None, "/opt/conda", "conda", OWNER)
    installed = {"files": {"/opt/conda/conda-meta/history": {"kind": "regular file"}}}
    assert Installer("https://example.com/Miniforge3.sh", "a" * 64, "/opt/conda", "conda", OWNER).commands(installed) == []


URL = "https://example.com/Miniforge3.sh"


def installer_facts(*paths):
    return {"files": {p: {"path": p, "kind": "directory" if p == "/opt/conda" else "regular file"} for p in paths}}


def test_a_prefix_holding_gpuhosts_marker_is_removed_before_installing_again():
    step = Installer(URL, "a" * 64, "/opt/conda", "conda", OWNER)
    fresh = step.commands(installer_facts())
    assert "rm -rf" not in fresh[2] and "mkdir /opt/conda && " in fresh[2]
    assert f"runuser -u {OWNER} -- bash '$t' -b -f -p /opt/conda" in fresh[2]
    for left in (installer_facts("/opt/conda", "/opt/conda/.gpuhost-installing"),
                 installer_facts("/opt/conda", "/opt/conda/.gpuhost-installing", "/opt/conda/conda-meta/history")):
        _, check, install = step.commands(left)
        assert install.startswith("umask 002; cd /; if [ -e /opt/conda/.gpuhost-installing ]; then rm -rf /opt/conda; "
                                  "fi; mkdir -p /opt && ")
        assert install.endswith("rm -f /opt/conda/.gpuhost-installing'") and check == f"check sha256 {'a' * 64}"
    step.predict(left)
    assert step.commands(left) == []


def test_a_prefix_gpuhost_did_not_create_is_refused_and_left_alone():
    step = Installer(URL, "a" * 64, "/opt/conda", "conda", OWNER)
    with pytest.raises(StepError, match=r"^/opt/conda exists but holds no conda installation \(no conda-meta/history\) "
                                        r"and was not created by gpuhost, so gpuhost neither removes it"):
        step.commands(installer_facts("/opt/conda"))


@pytest.mark.parametrize("exited, stderr, sentence", [
    (1, "gpuhost: the installer exited with status 137\n",
     (f"the conda installer {URL} was killed by SIGKILL (signal 9) on gpu1; the next converge removes what it left "
      "in /opt/conda and installs again.")),
    (1, "ERROR: Could not create directory: '/opt/conda'\ngpuhost: the installer exited with status 1\n",
     (f"the conda installer {URL} exited with status 1 on gpu1 (ERROR: Could not create directory: '/opt/conda'); "
      "the next converge removes what it left in /opt/conda and installs again.")),
    (1, "chgrp: invalid group: 'conda'\n",
     "installing conda into /opt/conda failed on gpu1 (exit 1): chgrp: invalid group: 'conda'."),
])
def test_a_failed_install_is_one_sentence_naming_the_cause(exited, stderr, sentence):
    assert Installer(URL, "a" * 64, "/opt/conda", "conda", OWNER).failure("gpu1", exited, stderr) == sentence


@pytest.mark.parametrize("output, record, runs", [
    ("1", None, False),                # the dotfile holds the block
    ("0", "/opt/conda\n", True),       # readable and without the block: put back, whatever the record says
    ("unreadable", "/opt/conda\n", False),  # a 0750 home: the record root wrote stands in for the dotfile
    ("unreadable", None, True),
    ("unreadable", "/srv/conda\n", True),   # initialised for another prefix
])
def test_conda_init_runs_unless_the_dotfile_or_roots_record_says_it_ran(output, record, runs):
    step = CondaInit("/opt/conda", "alice")
    facts = {"probes": {"conda-init-alice": {"rc": 0, "output": output}}, "files": {}}
    if record:
        facts["files"][step.record] = {"path": step.record, "kind": "regular file", "content": record}
    commands = step.commands(facts)
    assert bool(commands) is runs
    if runs:
        assert commands[0] == "su -l alice -s /bin/sh -c '/opt/conda/bin/conda init bash'"
        assert commands[1].startswith("install -d -m 0755 /var/lib/gpuhost /var/lib/gpuhost/conda-init && ")
        step.predict(facts)
        facts["probes"]["conda-init-alice"]["output"] = "unreadable"
        assert step.commands(facts) == []


def test_the_facts_round_trip_asks_for_everything_the_installer_and_conda_init_read():
    values = settings()
    values["conda_r_python"]["init_users"] = ["alice"]
    request = role.facts(values)
    step = CondaInit("/opt/conda", "alice")
    assert Installer(URL, "a" * 64, "/opt/conda", "conda", OWNER).request().present <= request.present
    assert step.request().files <= request.files and step.request().probes.items() <= request.probes.items()
