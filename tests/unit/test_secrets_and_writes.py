"""What keeps root from being tricked and secrets from being shown, as data and in a real shell.

The file writer runs here in dash against planted links and folders of other accounts, as it
runs on a host; the conda role's commands and files are searched for the credentials its
settings carry.
"""

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import types
from pathlib import Path

import pytest

from gpuhost import registry, report, runner, settings
from gpuhost.errors import InventoryError, StepError
from gpuhost.ops import files
from gpuhost.ops.users import Member
from gpuhost.roles import conda_r_python as role
from gpuhost.roles.conda_r_python import credentials, definitions
from gpuhost.roles.conda_r_python.bashrc import CondaInit
from gpuhost.roles.conda_r_python.installer import Installer
from gpuhost.roles.conda_r_python.owner import Owner

TOKEN, PASSWORD = "tk-0123-secret", "pa55w0rd"
PRIVATE = f"http://mirror:8080/conda/t/{TOKEN}/private"
INDEX = f"http://reader:{PASSWORD}@mirror:8080/pypi/simple"
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"),
                             reason="writing as root and as another account needs root and runuser")


@pytest.fixture
def open_tmp():
    """A folder of root's that other accounts may enter (pytest's own tmp_path is root's 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="gpuhost-test-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def shell(command):
    """The command as a host's `sudo sh -c` runs it: dash, exit status and stderr."""
    result = subprocess.run(["dash", "-c", command], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stderr.strip()


def test_credentials_in_urls_are_masked_wherever_they_stand():
    text = f"HTTP 404 for url <{PRIVATE}/linux-64/repodata.json> via {INDEX}"
    masked = settings.redact_text(text)
    assert TOKEN not in masked and PASSWORD not in masked and "reader" not in masked
    assert masked == ("HTTP 404 for url <http://mirror:8080/conda/t/***/private/linux-64/repodata.json> via "
                      "http://***@mirror:8080/pypi/simple")
    assert settings.redact({"a": [text], "api_token": "x"}) == {"a": [masked], "api_token": "***"}


def test_the_report_and_the_recap_hold_no_credentials():
    result = runner.HostResult(name="gpu1", status="failed", error=f"conda failed: <{PRIVATE}>")
    step = {"name": "s", "changed": True, "commands": [f"pip install --index-url {INDEX} x"], "diff": f"+ - {PRIVATE}",
            "failed": f"pip: {INDEX}"}
    result.roles = {"conda-r-python": {"changed": 1, "steps": [step]}}
    shown = json.dumps(report.as_dict([result])) + report.recap([result])
    assert TOKEN not in shown and PASSWORD not in shown and "/t/***/private" in shown


def test_a_setting_marked_secret_is_never_quoted_in_an_error():
    defaults = registry.defaults([role])
    assert settings.secret_paths(defaults) == {"conda_r_python.channels", "conda_r_python.pip_index_url"}
    with pytest.raises(InventoryError) as raised:
        settings.check({"conda_r_python": {"channels": {"url": PRIVATE}}}, defaults)
    assert TOKEN not in str(raised.value) and str(raised.value) == "'conda_r_python.channels' must be a list, not a mapping."
    with pytest.raises(InventoryError, match="not set in an inventory"):
        settings.check({"secret_settings": {"conda_r_python.channels": False}}, defaults)


def test_a_link_at_the_target_is_refused_before_and_while_writing(tmp_path):
    victim, link = tmp_path / "victim", tmp_path / "motd"
    victim.write_text("untouched\n")
    link.symlink_to(victim)
    step = files.File(str(link), "hello\n")
    with pytest.raises(StepError, match=rf"^gpuhost refuses to write {link}: it is a symbolic link \(to {victim}\)"):
        step.commands({"files": {str(link): {"kind": "symbolic link", "link": str(victim)}}})
    code, said = shell(files.write_command(str(link), b"hello\n", "0644", pwd.getpwuid(os.geteuid()).pw_name, "root"))
    assert (code, said) == (1, f"gpuhost refuses to write {link}: it is a symbolic link, and gpuhost never writes "
                               "through one.")
    assert victim.read_text() == "untouched\n" and link.is_symlink()
    assert files.refusal(f"file {link} failed on gpu1 (exit 1): {said}", "gpu1") == (
        f"gpuhost refuses to write {link} on gpu1: it is a symbolic link, and gpuhost never writes through one.")


def test_a_folder_that_is_a_link_is_refused_before_its_owner_or_mode_changes():
    link = {"files": {"/opt/shared": {"kind": "symbolic link", "link": "/etc"}}}
    with pytest.raises(StepError, match=r"^gpuhost refuses to write /opt/shared: it is a symbolic link \(to /etc\)"):
        files.Directory("/opt/shared", mode="2775", group="conda").commands(link)


@AS_ROOT
def test_root_writes_only_in_folders_that_are_roots_alone(open_tmp):
    mine, theirs, shared, sticky = (open_tmp / n for n in ("mine", "theirs", "shared", "sticky"))
    for folder, mode in ((mine, 0o755), (theirs, 0o755), (shared, 0o2775), (sticky, 0o1777)):
        folder.mkdir()
        os.chmod(folder, mode)
    os.chown(theirs, 65534, 65534)
    os.chown(shared, 0, 65534)
    (mine / "link").symlink_to(theirs)  # a folder of theirs, reached through a link of root's, is still theirs
    assert shell(files.write_command(f"{mine}/f", b"x\n", "0640", "root", "nogroup")) == (0, "")
    assert oct((mine / "f").stat().st_mode) == "0o100640" and (mine / "f").stat().st_gid == 65534
    assert shell(files.write_command(f"{sticky}/f", b"x\n", "0644", "root", "root"))[0] == 0
    for folder in (theirs, shared, mine / "link"):
        code, said = shell(files.write_command(f"{folder}/g", b"x\n", "0644", "root", "root"))
        assert code == 1 and said.endswith("is not root's alone, and a name that others can change is no place "
                                           "for a root-owned file."), said
    assert not list(theirs.glob("g*")) and not list(shared.glob("*"))


@AS_ROOT
def test_a_file_of_another_account_in_a_folder_others_change_is_written_as_that_account(open_tmp):
    shared = open_tmp / "shared"
    shared.mkdir()
    os.chown(shared, 65534, 65534)
    os.chmod(shared, 0o2775)
    (shared / "rc").write_text("old\n")  # root's, from before
    assert shell(files.write_command(f"{shared}/rc", b"new\n", "0664", "nobody", "nogroup")) == (0, "")
    written = (shared / "rc").stat()
    assert (shared / "rc").read_text() == "new\n" and (written.st_uid, oct(written.st_mode)) == (65534, "0o100664")
    assert [p.name for p in shared.iterdir()] == ["rc"]


def test_a_secret_file_shows_neither_its_content_nor_a_diff():
    step = files.File("/etc/gpuhost/conda/credentials", f"PIP_INDEX_URL={INDEX}\n", mode="0600", secret=True)
    (command,) = step.commands({"files": {}})
    assert PASSWORD not in command and "printf" not in command and 'cat -- "$gpuhost_upload"' in command
    assert step.diff({"files": {}}) == ""


@AS_ROOT
def test_an_uploaded_secret_is_written_from_its_private_copy(tmp_path):
    os.chmod(tmp_path, 0o755)
    upload = tmp_path / "upload"
    upload.write_text("secret\n")
    command = files.write_command(f"{tmp_path}/etc/credentials", None, "0600", "root", "root")
    assert shell(f"gpuhost_upload={upload}; {command}") == (0, "")
    assert (tmp_path / "etc" / "credentials").read_text() == "secret\n"
    assert oct((tmp_path / "etc" / "credentials").stat().st_mode) == "0o100600"


def conda_settings(**conda):
    values = registry.defaults([role])
    values["conda_r_python"] = {**values["conda_r_python"], **conda}
    return values


def role_steps(values, login="gpuadmin"):
    host = types.SimpleNamespace(name="gpu1", facts={"arch": "x86_64", "user": {"name": login, "root": False}},
                                 roles=(role.NAME,))
    return list(role.steps(host, values))


def test_credentials_reach_conda_and_pip_through_a_root_only_file_never_a_command_line():
    env = {"python": "3.11", "pip": ["humanize==4.9.0"], "kernels": False}
    values = conda_settings(channels=[PRIVATE, "conda-forge"], pip_index_url=INDEX, envs={"ml": env})
    steps = {s.name: s for s in role_steps(values)}
    shown = [c for s in steps.values() for c in s.commands({"files": {}, "probes": {}})]
    shown += [s.diff({"files": {}}) for s in steps.values()]
    assert not [c for c in shown if TOKEN in c or PASSWORD in c or "reader:" in c]
    secret = steps["conda credentials, for conda and pip alone"]
    assert (secret.secret, secret.mode, secret.owner) == (True, "0600", "gpuadmin")
    assert secret.content.decode() == (f"GPUHOST_CONDA_CHANNEL_1=http://mirror:8080/conda/t/{TOKEN}\n"
                                       f"PIP_INDEX_URL={INDEX}\n")
    assert steps["conda channels that carry credentials"].content.decode().endswith(
        "custom_channels:\n  private: ${GPUHOST_CONDA_CHANNEL_1}\n")
    assert "  - http://mirror:8080/conda/private\n  - conda-forge\n" in steps["conda channels and shared folders"].content.decode()
    create, pip = steps["conda environment ml"].commands({"probes": {}})
    exports = (f"while IFS= read -r l; do case $l in GPUHOST_CONDA_CHANNEL_*=*|PIP_INDEX_URL=*) export \"$l\";; "
               f"esac; done < {credentials.CREDENTIALS} && ")
    assert create.startswith(f"umask 002 && cd / && {exports}export CONDARC={credentials.CONDARC} && runuser -u "
                             "gpuhost-conda -- /opt/conda/bin/conda create ")
    assert "--channel http://mirror:8080/conda/private --channel conda-forge" in create
    assert pip.startswith(f"umask 002 && cd / && {exports}runuser -u gpuhost-conda -- ") and "--index-url" not in pip


def test_the_conda_account_is_made_once_without_a_login_shell():
    step = Owner("gpuhost-conda", "conda")
    facts = {"probes": {"passwd-gpuhost-conda": {"rc": 0, "output": ""}}}
    assert step.commands(facts) == [
        "getent group conda >/dev/null || groupadd --system conda; useradd --system --gid conda --home-dir "
        "/var/lib/gpuhost-conda --create-home --shell /usr/sbin/nologin --comment 'owner of the shared conda "
        "(gpuhost)' gpuhost-conda"]
    step.predict(facts)
    assert step.commands(facts) == [] and Member("conda", []).commands(facts) == []
    with pytest.raises(InventoryError, match="conda_r_python.owner: 'root' is not"):
        Owner("root", "conda")


def test_without_credentials_there_is_no_credentials_file():
    steps = role_steps(conda_settings(pip_index_url="http://mirror/pypi/simple"))
    absent = [s for s in steps if isinstance(s, files.Absent)]
    assert {s.path for s in absent} == {credentials.CREDENTIALS, credentials.CONDARC}
    assert not any(isinstance(s, files.File) and s.secret for s in steps)


@pytest.mark.parametrize("make, message", [
    (lambda: Installer(f"https://u:{PASSWORD}@mirror/Miniforge3.sh", "a" * 64, "/opt/conda", "conda", "c"),
     "the conda installer https://***@mirror/Miniforge3.sh carries credentials"),
    (lambda: CondaInit("/opt/conda", "root"), "conda_r_python.init_users: not root"),
    (lambda: credentials.split(f"http://mirror/t/{TOKEN}"), "names no channel after its credentials"),
    (lambda: credentials.split(f"http://mirror/t/{TOKEN}_x/c"), "carries a token conda does not read"),
])
def test_credentials_where_gpuhost_cannot_keep_them_secret_are_refused_unquoted(make, message):
    with pytest.raises((StepError, InventoryError)) as raised:
        make()
    assert message in str(raised.value) and TOKEN not in str(raised.value) and PASSWORD not in str(raised.value)


def test_a_lock_file_with_credentials_is_refused(tmp_path):
    lock = tmp_path / "ml.lock"
    lock.write_text(f"@EXPLICIT\n{PRIVATE}/linux-64/python-3.11.2-h_0.tar.bz2\n")
    with pytest.raises(InventoryError, match="carries credentials, and the lock file is copied") as raised:
        definitions.explicit_urls(lock)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("groups, uid, sourced", [("users conda", 1000, True), ("root conda", 0, False),
                                                 ("users", 1001, False)])
def test_the_profile_gives_conda_to_members_and_never_to_root(tmp_path, groups, uid, sourced):
    (tmp_path / "etc" / "profile.d").mkdir(parents=True)
    (tmp_path / "etc" / "profile.d" / "conda.sh").write_text("echo sourced\n")
    stub = f"id() {{ case $1 in -Gn) echo {groups};; -u) echo {uid};; esac; }}; "
    result = subprocess.run(["dash", "-c", stub + role.profile(str(tmp_path), "conda")], capture_output=True, text=True)
    assert result.returncode == 0 and (result.stdout == "sourced\n") is sourced, result
