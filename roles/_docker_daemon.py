"""Docker's /etc/docker/daemon.json, shared by the docker and nvidia-toolkit roles.

Both merge their keys into the same file and notify the same restart, so Docker restarts once
per converge, and only when the file really changed.
"""

from gpuhost.ops import json_file
from gpuhost.ops.systemd import restart

DAEMON_JSON = "/etc/docker/daemon.json"
UNIT = "docker.service"
# dockerd from 23.0 on checks a configuration file without starting; older ones are skipped.
VALIDATE = "if dockerd --help 2>&1 | grep -q -- --validate; then dockerd --validate --config-file={file}; fi"


def steps(keys, name):
    """The validity refusal, the merge of `keys` (when any) and the restart handler."""
    yield json_file.valid(DAEMON_JSON, "dockerd")
    if keys:
        handler = restart(UNIT)
        yield json_file.JsonMerge(DAEMON_JSON, keys, name=name, notify=(handler.name,), validate=VALIDATE)
        yield handler
