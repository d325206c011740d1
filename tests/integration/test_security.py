"""Who can become whom, and where secrets go, tried on test hosts.

On tb70 a member of the conda group who is not root (mallory) plants code in conda's own
modules, in an environment's site-packages and in conda.sh, and links where gpuhost writes; then
converges that change the environment run, and root's login shell starts. Root must not run
their code and must not write through their links. On tb71 a converge carries a channel token
and an index password; they must appear nowhere but in the credentials file: not in the report,
not in gpuhost's output, not on the host's command lines (every command gpuhost sends, as the
login shell receives it, and the process list sampled while it runs), not in any file every
local user reads.
"""

import functools
import json
import shlex
import subprocess

import pytest

from tests.integration import converging
from tests.integration.converging import GPUHOST, root
from tests.testbed import conda as conda_fixture
from tests.testbed import mirror_http
from tests.testbed.specs import HostSpec

pytestmark = pytest.mark.testbed
ROLES = ["conda-r-python"]
MEMBERS, SECRETS = "tb70", "tb71"
ENV = {"python": "3.11", "packages": ["tabulate=0.8"], "pip": ["humanize==4.9.0"], "kernels": False}
LOG = "/home/mallory/log/planted.log"
# What mallory adds to every program of the prefix: it records who ran it and tries what only root can.
PAYLOAD = ("import os\ntry:\n    open('/etc/gpuhost-pwned', 'w').write('root ran my code')\nexcept OSError:\n    pass\n"
           f"with open('{LOG}', 'a') as log:\n    log.write('%s %d\\n' % (os.path.basename(__file__), os.getuid()))\n")
PTH = f"import os; exec(open({'/home/mallory/payload.py'!r}).read(), {{'__file__': 'site-packages/planted.pth'}})\n"
SHELL_PAYLOAD = f"echo \"conda.sh $(id -u)\" >> {LOG}; touch /etc/gpuhost-pwned 2>/dev/null\n"
# mallory, in the background: whatever temporary file appears in /opt/conda becomes a link to
# /etc/ld.so.preload, for as long as /home/mallory/racing exists.
RACER = """\
while [ -e /home/mallory/racing ]; do
    for f in /opt/conda/.*.gpuhost-*; do [ -f "$f" ] && rm -f "$f" && ln -s /etc/ld.so.preload "$f"; done
done
"""
# gpuadmin's login shell while secrets are tried: sshd runs every command gpuhost sends as `shell -c COMMAND`.
ARGV_LOGGING_SHELL = '#!/bin/sh\nprintf "%s\\n" "$*" >> /var/log/gpuhost-argv.log\nexec /bin/bash "$@"\n'
converge = functools.partial(converging.converge, roles=ROLES)


@pytest.fixture(scope="module")
def hosts(fresh_hosts):
    return fresh_hosts(HostSpec(MEMBERS, gpus=("none",)), HostSpec(SECRETS, gpus=("none",)))


def as_mallory(bed, command):
    return root(bed, MEMBERS, f"su mallory -s /bin/sh -c {shlex.quote(command)}")


def test_a_member_cannot_make_root_run_their_code_or_write_through_their_links(testbed, hosts):
    made = root(testbed, MEMBERS, "useradd --create-home --shell /bin/bash mallory && test ! -e /etc/ld.so.preload")
    assert made.ok, made.stderr
    conda = {"users": ["mallory"], "envs": {"ml": ENV}}
    first = converge(testbed, MEMBERS, conda_r_python=conda)
    assert first.status == "changed", first.error
    owner = root(testbed, MEMBERS, "id -u gpuhost-conda").stdout.strip()

    site = "/opt/conda/envs/ml/lib/python3.11/site-packages"
    planted = as_mallory(testbed, f"mkdir -m 777 /home/mallory/log && touch {LOG} && chmod 666 {LOG} && "
                                  f"printf %s {shlex.quote(PAYLOAD)} > /home/mallory/payload.py && "
                                  f"chmod 644 /home/mallory/payload.py && "
                                  f"cat /home/mallory/payload.py >> /opt/conda/lib/python3.11/site-packages/conda/__init__.py && "
                                  f"printf %s {shlex.quote(PTH)} > {site}/planted.pth && "
                                  f"printf %s {shlex.quote(SHELL_PAYLOAD)} >> /opt/conda/etc/profile.d/conda.sh && "
                                  "ln -s /etc/ld.so.preload /opt/conda/.condarc.gpuhost-new && "
                                  "mv /opt/conda/.condarc /home/mallory/ && ln -s /etc/ld.so.preload /opt/conda/.condarc")
    assert planted.ok, planted.stderr

    refused = converge(testbed, MEMBERS, conda_r_python=conda)
    assert refused.status == "failed" and refused.error == (
        "gpuhost refuses to write /opt/conda/.condarc: it is a symbolic link (to /etc/ld.so.preload), and gpuhost "
        "never writes through one; remove the link if the file is gpuhost's to write.")

    assert as_mallory(testbed, "rm /opt/conda/.condarc && touch /home/mallory/racing && "
                               f"(nohup sh -c {shlex.quote(RACER)} >/dev/null 2>&1 &)").ok
    raced = converge(testbed, MEMBERS, conda_r_python={**conda, "channel_priority": "flexible"})  # .condarc written again
    as_mallory(testbed, "rm -f /home/mallory/racing; sleep 0.2; [ ! -L /opt/conda/.condarc ] || rm /opt/conda/.condarc")
    assert raced.status in ("changed", "failed"), raced.error  # won, the race costs the group its .condarc, no more

    changed = {**conda, "envs": {"ml": {**ENV, "packages": ["tabulate=0.9"], "pip": ["humanize==4.10.0"]}}}
    again = converge(testbed, MEMBERS, conda_r_python=changed)
    assert again.status == "changed", again.error
    as_conda = "umask 002 && cd / && runuser -u gpuhost-conda -- "
    programs = [c.split(" -- ")[1].split()[0] for c in converging.changed_commands(again) if c.startswith(as_conda)]
    assert programs == ["/opt/conda/bin/conda", "/opt/conda/envs/ml/bin/python"], converging.changed_commands(again)
    checks = converging.verify(testbed, MEMBERS, ROLES, f"conda_r_python.users={json.dumps(changed['users'])}",
                               f"conda_r_python.envs={json.dumps(changed['envs'])}")
    assert checks.returncode == 0, checks.stdout[-3000:]
    logins = root(testbed, MEMBERS, "su - root -c true && su - gpuadmin -c true && su - mallory -c true")
    assert logins.ok, logins.stderr

    runs = {tuple(line.split()) for line in root(testbed, MEMBERS, f"cat {LOG}").stdout.splitlines() if line}
    mallory = root(testbed, MEMBERS, "id -u mallory").stdout.strip()
    assert ("__init__.py", owner) in runs and ("planted.pth", owner) in runs  # conda and pip ran the code...
    assert ("conda.sh", mallory) in runs  # ...and mallory's own login shell sourced conda.sh...
    assert {uid for _, uid in runs} == {owner, mallory}, runs  # ...but never root's, gpuadmin's or verify's account
    left = root(testbed, MEMBERS, "ls /etc/gpuhost-pwned /etc/ld.so.preload; readlink /opt/conda/.condarc.gpuhost-new")
    assert left.stdout.strip() == "/etc/ld.so.preload" and left.stderr.count("No such file") == 2, left


def cli(bed, command, *settings, report=None):
    words = [GPUHOST, command, "--host", SECRETS, "--inventory", str(bed.inventory_path),
             "--roles", ",".join(ROLES), *(f"--set={s}" for s in settings)]
    words += ["--report", str(report)] if report else []
    result = subprocess.run(words, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def test_channel_tokens_and_index_passwords_appear_nowhere_but_in_the_credentials_file(testbed, hosts, tmp_path):
    token, password = conda_fixture.load_catalog()["token"]["value"], "s3cret-pa55"
    channel, wrong = mirror_http.conda_token_channel(), mirror_http.conda_token_channel(private=False)
    wrong = wrong.replace(token, "tk-wrong-9")
    index = mirror_http.URL.replace("http://", f"http://reader:{password}@") + "/pypi/simple"
    logged = root(testbed, SECRETS, f"printf %s {shlex.quote(ARGV_LOGGING_SHELL)} > /usr/local/sbin/argv-logging-shell && "
                                    "chmod 755 /usr/local/sbin/argv-logging-shell && "
                                    "install -m 0600 -o gpuadmin /dev/null /var/log/gpuhost-argv.log && "
                                    "usermod -s /usr/local/sbin/argv-logging-shell gpuadmin && touch /root/sampling && "
                                    "(nohup sh -c 'while [ -e /root/sampling ]; do ps -eww -o args; sleep 0.02; done "
                                    "> /root/processes.log' >/dev/null 2>&1 &)")
    assert logged.ok, logged.stderr
    settings = [f"conda_r_python.channels={json.dumps([channel])}", f"conda_r_python.pip_index_url={index}",
                f"conda_r_python.envs={json.dumps({'ml': ENV})}", "conda_r_python.users=[gpuadmin]"]
    other = {"ml": ENV, "other": {**ENV, "channels": [wrong]}}
    outputs = []
    for step, command, extra in (("plan", "plan", []), ("first", "converge", []), ("second", "converge", []),
                                 ("wrong token", "converge", [f"conda_r_python.envs={json.dumps(other)}"])):
        report = tmp_path / f"{step}.json" if command == "converge" else None
        code, output = cli(testbed, command, *settings, *extra, report=report)
        outputs.append((step, code, output, report.read_text() if report else ""))
    root(testbed, SECRETS, "rm -f /root/sampling; sleep 0.2; usermod -s /bin/bash gpuadmin")
    codes = {step: code for step, code, *_ in outputs}
    assert codes == {"plan": 2, "first": 0, "second": 0, "wrong token": 1}, outputs
    assert f"[{SECRETS}] progress: conda ml: solving environment" in outputs[1][2]  # conda's phases, per host
    second = json.loads(outputs[2][3])["hosts"][SECRETS]
    assert (second["changed"], second["remote_commands"]) == (0, 1)
    assert "tk-wrong-9" not in outputs[3][2] + outputs[3][3] and "conda environment other failed" in outputs[3][3]

    found = [f"{step}: {where}" for step, _, output, report in outputs for where, text in (("output", output), (
        "report", report)) if token in text or password in text]
    argv = root(testbed, SECRETS, "cat /var/log/gpuhost-argv.log").stdout
    processes = root(testbed, SECRETS, "cat /root/processes.log").stdout
    assert "runuser -u gpuhost-conda" in argv and "runuser -u gpuhost-conda" in processes  # both saw the converge
    found += [f"{name} on the host" for name, text in (("command lines", argv), ("process list", processes))
              if token in text or password in text or "tk-wrong-9" in text]
    readable = root(testbed, SECRETS, f"runuser -u nobody -- grep -rlsF -e {token} -e {password} -e tk-wrong-9 "
                                      "/etc /opt /home /root /tmp /var/tmp /var/lib /var/log /usr/local /run /srv")
    found += [f"{path}, which every local user reads" for path in readable.stdout.split()]
    assert not found, found
    kept = root(testbed, SECRETS, "stat -c '%a %U' /etc/gpuhost/conda/credentials && "
                                  "grep -c -e '/t/tk-' -e ':s3cret' /etc/gpuhost/conda/credentials")
    assert kept.stdout.split() == ["600", "gpuadmin", "3"], kept  # two channels' tokens, pip's password
