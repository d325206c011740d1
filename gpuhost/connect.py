"""Connections: a Fabric Connection with checked host keys and no Nagle delay, or this machine.

Fabric accepts any host key by default; gpuhost does not. A host must be in known_hosts, or the
user says `--accept-new-host-keys` and the key is recorded; a changed key is always refused.
"""

import os
import socket
from pathlib import Path

import paramiko
from fabric import Config, Connection
from invoke import Context

from gpuhost.errors import ConnectError


class RecordNewKey(paramiko.MissingHostKeyPolicy):
    """Trust on first use, but only when asked: add the key and save known_hosts."""

    def __init__(self, path):
        self.path = path

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        Path(self.path).touch(mode=0o600, exist_ok=True)
        client.save_host_keys(self.path)


def config():
    """Invoke/Fabric config for gpuhost: never read stdin, never echo, keep going on --dry."""
    return Config(overrides={"run": {"in_stream": False, "hide": True, "dry": False}, "load_ssh_configs": True})


def local():
    """This machine, without SSH."""
    return Context(config=config())


def open_connection(target, accept_new_host_keys=False, connect_timeout=15):
    """An opened Fabric Connection to a Target, host key checked."""
    known_hosts = target.known_hosts_file or os.path.expanduser("~/.ssh/known_hosts")
    kwargs = {"key_filename": [target.key_file]} if target.key_file else {}
    connection = Connection(target.address, user=target.user, port=target.port, config=config(),
                            connect_timeout=connect_timeout, connect_kwargs=kwargs)
    client = connection.client
    if Path(known_hosts).exists():
        client.load_host_keys(known_hosts)
    client.set_missing_host_key_policy(RecordNewKey(known_hosts) if accept_new_host_keys else paramiko.RejectPolicy())
    where = f"{target.name} ({target.address}:{target.port or 22})"
    try:
        connection.open()
    except paramiko.BadHostKeyException as error:
        raise ConnectError(f"{where} presented a different host key ({error.key.get_fingerprint().hex()}) than "
                           f"{known_hosts} records; refusing to connect. If the host was rebuilt, remove its "
                           "old key with ssh-keygen -R.") from None
    except paramiko.SSHException as error:
        if "not found in known_hosts" in str(error):
            raise ConnectError(f"{where} is not in {known_hosts}; check its key and add it, or pass "
                               "--accept-new-host-keys to record it on first use.") from None
        raise ConnectError(f"{where}: SSH failed: {error}.") from None
    except (OSError, socket.timeout) as error:
        raise ConnectError(f"{where} is unreachable: {getattr(error, 'strerror', None) or error}.") from None
    connection.transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection
