"""Polling helpers: the harness waits on sockets, never on fixed sleeps."""
import socket
import time

from .system import TestbedError


def wait_for_port(host: str, port: int, timeout: float, what: str, alive=lambda: True,
                  banner: bytes = b"") -> None:
    """Wait until host:port accepts (and, with `banner`, sends a greeting starting with it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise TestbedError(f"{what} exited before listening on {host}:{port}; see .testbed/run/")
        try:
            with socket.create_connection((host, port), timeout=2) as sock:
                if not banner or sock.recv(len(banner)) == banner:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TestbedError(f"{what} is not answering on {host}:{port} after {timeout:.0f} s")
