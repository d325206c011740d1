"""How tests and tools reach the hosts: the client key, the known hosts, the sudo password.

All three live in the repo's .testbed/. Host keys are generated fresh for every host and
pinned in .testbed/known_hosts; connections reject any other key.
"""
import secrets
import threading
from pathlib import Path

from .system import STATE, run

KEY = STATE / "id_ed25519"
KNOWN_HOSTS = STATE / "known_hosts"
BECOME_PASSWORD = STATE / "become_password"
_KEY_LOCK = threading.Lock()


def client_key() -> Path:
    """The key tests log in with (as root or gpuadmin), created once (hosts start in parallel)."""
    with _KEY_LOCK:
        if not KEY.exists():
            STATE.mkdir(parents=True, exist_ok=True)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gpuhost-testbed", "-f", KEY])
    return KEY


def become_password() -> str:
    """gpuadmin's password on hosts whose sudo asks for one; kept out of the inventory (mode 600)."""
    with _KEY_LOCK:
        if not BECOME_PASSWORD.exists():
            STATE.mkdir(parents=True, exist_ok=True)
            BECOME_PASSWORD.touch(mode=0o600)
            BECOME_PASSWORD.write_text(secrets.token_urlsafe(12) + "\n")
        return BECOME_PASSWORD.read_text().strip()


def write_known_hosts(entries: dict) -> None:
    """entries: {(name, address): 'ssh-ed25519 AAAA…'} → one pinned line per host."""
    lines = [f"{name},{address} {key}" for (name, address), key in sorted(entries.items())]
    KNOWN_HOSTS.write_text("".join(line + "\n" for line in lines))


def connect(address: str, user: str = "root", connect_timeout: float = 10):
    """A Fabric Connection that checks the host key against .testbed/known_hosts only."""
    import paramiko
    from fabric import Config, Connection

    config = Config(overrides={"run": {"in_stream": False}, "load_ssh_configs": False})
    conn = Connection(address, user=user, config=config, connect_timeout=connect_timeout,
                      connect_kwargs={"key_filename": str(KEY), "look_for_keys": False,
                                      "allow_agent": False})
    conn.client.load_system_host_keys(str(KNOWN_HOSTS))
    conn.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return conn
