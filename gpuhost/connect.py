"""Connections: a Fabric Connection with checked host keys and no Nagle delay, or this machine.

Fabric accepts any host key by default, its jump hosts too; gpuhost does not. Every host on the
way (each ProxyJump hop, then the target) must be in known_hosts, or the user says
`--accept-new-host-keys` and the key is appended; a changed or `@revoked` key is always refused.
known_hosts is read as OpenSSH reads it and only ever appended to, so the user's file is never
rewritten and lines gpuhost does not understand (`@cert-authority`, new key types) stay as they are.
"""

import logging
import os
import re
import socket

import paramiko
from fabric import Config, Connection
from invoke import Context

from gpuhost.errors import ConnectError
from gpuhost.known_hosts import CheckedHostKey, HostKeyRefused, KnownHosts, changed, host_key_name, revoked

# paramiko logs what gpuhost reports anyway ("Secsh channel 0 open FAILED"); without a handler of its
# own, Python prints that on stderr beside gpuhost's one sentence. An application's logging still gets it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def config():
    """Invoke/Fabric config for gpuhost: never read stdin, never echo, keep going on --dry."""
    return Config(overrides={"run": {"in_stream": False, "hide": True, "dry": False}, "load_ssh_configs": True})


def local():
    """This machine, without SSH."""
    return Context(config=config())


class JumpFailed(paramiko.SSHException):
    """A jump host reached, but it could not open the way on to the next host."""


class SshConnection(Connection):
    """A Fabric Connection whose jump host is already open and checked, and closes with it.

    Fabric would open a jump host with its own accept-any-key client and no timeout, and leave
    it open on close.
    """

    def open_gateway(self):
        if not isinstance(self.gateway, Connection):
            return super().open_gateway()
        try:
            return self.gateway.transport.open_channel("direct-tcpip", (self.host, int(self.port)), ("", 0),
                                                       timeout=self.connect_timeout)
        except paramiko.ChannelException as error:
            raise JumpFailed(error.text) from None
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise JumpFailed(str(error) or type(error).__name__) from None

    def close(self):
        super().close()
        self.client.close()  # also when the host key was refused: Fabric closes only a live connection
        if isinstance(self.gateway, Connection):
            self.gateway.close()


def known_hosts_path(target):
    """The one known_hosts a target and its jump hosts are checked against: the inventory's, else the user's."""
    return target.known_hosts_file or os.path.expanduser("~/.ssh/known_hosts")


def open_connection(target, accept_new_host_keys=False, connect_timeout=15):
    """An opened Fabric Connection to a Target; its host key and every jump host's key checked."""
    known_hosts = known_hosts_path(target)
    kwargs = {"key_filename": [target.key_file]} if target.key_file else {}
    base = config()
    hops = _hops(base, target.address, connect_timeout)
    connection = SshConnection(target.address, user=target.user, port=target.port, config=base, connect_kwargs=kwargs,
                               connect_timeout=connect_timeout, gateway=_gateway(base, target, hops))
    try:
        for hop in hops:
            _open(hop, f"{target.name}'s jump host {hop.original_host} ({hop.host}:{hop.port})", known_hosts,
                  accept_new_host_keys)
        _open(connection, f"{target.name} ({connection.host}:{connection.port})", known_hosts, accept_new_host_keys)
    except ConnectError:
        connection.close()
        raise
    return connection


def _gateway(base, target, hops):
    """The last hop; False when ProxyJump is `none`; None lets Fabric use a ProxyCommand."""
    if hops:
        return hops[-1]
    return False if "proxyjump" in base.base_ssh_config.lookup(target.address) else None


def _hops(base, address, connect_timeout):
    """Connections to the ProxyJump hops on the way to `address`, first hop first, each through the one before.

    Fabric builds a multi-hop chain in reverse (last hop first); OpenSSH goes through the first hop
    first, and so does gpuhost, so verify (OpenSSH) and converge take the same way.
    """
    hops = []
    for spec in _jumps(base, address):
        hops.append(SshConnection(spec, config=base.clone(), gateway=hops[-1] if hops else False,
                                  connect_timeout=connect_timeout))
    return hops


def _jumps(base, name, seen=()):
    """The ProxyJump specs for `name`, the first hop's own ProxyJump first; a hop that leads back is dropped."""
    spec = base.base_ssh_config.lookup(name).get("proxyjump", "none")
    hops = [] if spec.lower() == "none" else [h.strip() for h in spec.split(",") if h.strip()]
    if not hops:
        return []
    first = re.sub(r"^.*@|:\d+$", "", hops[0])
    if first == name or first in seen:
        return []  # e.g. `Host *` with a ProxyJump: the jump host itself is reached directly, as Fabric does
    return _jumps(base, first, (*seen, name)) + hops


def _open(connection, where, known_hosts, accept_new):
    """Open one connection with its key checked; every failure becomes one sentence naming `where`."""
    _check_keys(connection, known_hosts, accept_new)
    try:
        connection.open()
    except HostKeyRefused as error:
        raise ConnectError(f"{where} {error}") from None
    except paramiko.BadHostKeyException as error:
        raise ConnectError(f"{where} {_bad_key(error.key, known_hosts, connection)}") from None
    except JumpFailed as error:
        hop = connection.gateway.original_host
        raise ConnectError(f"{where} is unreachable from its jump host {hop}: {str(error).rstrip('.')}.") from None
    except paramiko.SSHException as error:
        raise ConnectError(f"{where}: SSH failed: {str(error).rstrip('.')}.") from None
    except OSError as error:  # socket timeouts too
        raise ConnectError(f"{where} is unreachable: {_os_reason(error)}.") from None
    sock = connection.transport.sock
    if isinstance(sock, socket.socket):  # through a jump host it is a paramiko Channel
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _os_reason(error):
    """The system's words ("No route to host"), also from paramiko's one-error-per-address wrapper."""
    tried = getattr(error, "errors", None)
    if tried:
        error = next(iter(tried.values()))
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _check_keys(connection, known_hosts, accept_new):
    """Give paramiko the host's trusted keys (it asks the server for their type and compares) and our policy.

    paramiko compares one key per type; a host listed with two keys of a type (a rotation) is left
    to the policy, which accepts any listed key.
    """
    name = host_key_name(connection.host, connection.port)
    trusted = KnownHosts(known_hosts).trusted(name)
    types = [key.get_name() for key in trusted]
    if len(set(types)) == len(types):
        for key in trusted:
            connection.client.get_host_keys().add(name, key.get_name(), key)
    connection.client.set_missing_host_key_policy(CheckedHostKey(known_hosts, accept_new))


def _bad_key(key, known_hosts, connection):
    known = KnownHosts(known_hosts)
    name = host_key_name(connection.host, connection.port)
    return revoked(key, known.path) if known.is_revoked(name, key) else changed(key, known.path, name)
