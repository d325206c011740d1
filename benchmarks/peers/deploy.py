"""The NVIDIA stack as gpuhost converges it (roles driver, cuda, cudnn, tensorrt), with pyinfra's
own operations. Every name, version, path and text comes from the stack file that
benchmarks/peers.py derives from gpuhost's plan (host data `stack_file`), so the tools cannot drift.

No reboot here: pyinfra's server.reboot confirms a reboot by a smaller /proc/uptime, and a
container shares the machine's, so on the test hosts it would wait until its timeout. The
benchmark reboots the hosts after this deploy and counts that time as pyinfra's.
"""

import json
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.facts.files import Directory
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

with open(host.data.stack_file, encoding="utf-8") as handle:
    stack = json.load(handle)


def put(entry):
    return files.put(name=f"File {entry['path']}", src=StringIO(entry["content"]), dest=entry["path"],
                     mode=entry["mode"], user=entry["owner"], group=entry["group"])


key = stack["key"]
# apt.key dearmors an armored key into a binary keyring; its keyid makes it idempotent
keyring = apt.key(name="Repository key", src=key["url"], dest=key["keyring"], keyid=key["fingerprint"])
repository = [put(entry) for entry in stack["repository_files"]]
apt.update(name="Update the package lists after a repository change", _if=any_changed(keyring, *repository))
apt.packages(name="Stack packages at their exact versions", packages=stack["install"], no_recommends=True)

held = set((host.get_fact(Command, "apt-mark showhold") or "").split())
unheld = [name for name in stack["hold"] if name not in held]
if unheld:
    server.shell(name="Hold the stack packages", commands=["apt-mark hold " + " ".join(map(shlex.quote, unheld))])

written = {entry["path"]: put(entry) for entry in stack["files"]}
for handler, command in stack["handler_commands"].items():
    notifying = [written[entry["path"]] for entry in stack["files"] if handler in entry["notify"]]
    if notifying:
        server.shell(name=handler, commands=[command], _if=any_changed(*notifying))

for guarded in stack["guarded_commands"]:
    if (host.get_fact(Command, f"{guarded['probe']} || true") or "").strip() != guarded["expect"]:
        server.shell(name=guarded["name"], commands=[guarded["run"]])

# the daemons need the driver module, which a fresh host loads only at its next boot
loaded = bool(host.get_fact(Directory, stack["reboot"]["unless_exists"]))
for service in stack["services"]:
    systemd.service(name=f"Service {service['unit']}", service=service["unit"], enabled=service["enabled"],
                    running=service["running"] if loaded else None)
