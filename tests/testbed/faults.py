"""Faults from outside the fixtures: a mirror that breaks downloads, hooks that hang apt, a cut connection.

`FaultyMirror` is an HTTP proxy on the bridge that a host's apt is pointed at for the fixture
mirror (`Acquire::http::Proxy::<bridge>`): it passes the mirror through, except that it corrupts
.deb files (apt then reports a Hash Sum mismatch) or, at the first .deb, goes away for good (the
mirror gone between `apt-get update` and the install). It serves only the test hosts, on the bridge.
"""
import shlex
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .access import connect
from .system import BRIDGE_IP, TestbedError

PROXY_CONF = "/etc/apt/apt.conf.d/99testbed-faulty-mirror"
HOOK_CONF = "/etc/apt/apt.conf.d/99testbed-hook"
MODES = ("corrupt", "vanish")


class FaultyMirror:
    """A proxy in front of the mirror that corrupts .deb files or vanishes at the first one."""

    def __init__(self, mode):
        if mode not in MODES:
            raise TestbedError(f"mode {mode!r}: expected one of {MODES}")
        self.mode = mode
        self.debs = 0
        self.gone = False
        self.server = ThreadingHTTPServer((BRIDGE_IP, 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        if not self.gone:
            self.server.shutdown()
            self.server.server_close()

    def attach(self, address):
        """Point the host's apt at this proxy for the mirror's address."""
        line = f'Acquire::http::Proxy::{BRIDGE_IP} "http://{BRIDGE_IP}:{self.port}";\n'
        with connect(address) as conn:
            conn.run(f"printf %s {shlex.quote(line)} > {PROXY_CONF}", hide=True, in_stream=False)

    @staticmethod
    def detach(address):
        with connect(address) as conn:
            conn.run(f"rm -f {PROXY_CONF}", hide=True, in_stream=False)

    def _vanish(self):
        """Stop listening: from now on the mirror refuses connections."""
        self.gone = True
        self.server.socket.close()
        threading.Thread(target=self.server.shutdown, daemon=True).start()

    def _handler(self):
        mirror = self
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                deb = self.path.endswith(".deb")
                if deb:
                    mirror.debs += 1
                if deb and mirror.mode == "vanish":
                    mirror._vanish()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                try:
                    with opener.open(self.path, timeout=30) as upstream:
                        status, body, kind = upstream.status, upstream.read(), upstream.headers.get("Content-Type")
                except urllib.error.HTTPError as error:
                    status, body, kind = error.code, error.read(), "text/plain"
                if deb and mirror.mode == "corrupt" and body:
                    middle = len(body) // 2
                    body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", kind or "application/octet-stream")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


def hook_apt(address, command):
    """Run `command` before apt invokes dpkg (DPkg::Pre-Invoke), as a site's own apt hook would."""
    line = f"DPkg::Pre-Invoke {{ {json_string(command)}; }};\n"
    with connect(address) as conn:
        conn.run(f"printf %s {shlex.quote(line)} > {HOOK_CONF}", hide=True, in_stream=False)


def unhook_apt(address, leftover):
    """Remove the hook, end what it left running, and wait until apt and dpkg have finished."""
    with connect(address) as conn:
        conn.run(f"rm -f {HOOK_CONF}; pkill -f {unself(leftover)}; true", hide=True, in_stream=False)
        deadline = time.monotonic() + 120
        while conn.run("pgrep -x apt-get || pgrep -x dpkg", hide=True, warn=True, in_stream=False).ok:
            if time.monotonic() > deadline:
                raise TestbedError(f"apt is still running on {address} two minutes after the hook was removed")
            time.sleep(0.5)


def wait_for_process(address, pattern, timeout=120):
    """Wait until a process matching `pattern` runs on the host."""
    deadline = time.monotonic() + timeout
    with connect(address) as conn:
        while not conn.run(f"pgrep -f {unself(pattern)}", hide=True, warn=True, in_stream=False).ok:
            if time.monotonic() > deadline:
                raise TestbedError(f"no process {pattern!r} on {address} within {timeout} s")
            time.sleep(0.3)


def cut_ssh(address, user):
    """Kill the SSH sessions of `user` on the host: their connections drop as in a network cut."""
    with connect(address) as conn:
        conn.run(f"pkill -KILL -f {shlex.quote(f'sshd: {user}')}", hide=True, in_stream=False)


def unself(pattern):
    """A pgrep/pkill pattern that does not match the shell running it: `[s]leep 60`."""
    return shlex.quote(f"[{pattern[0]}]{pattern[1:]}")


def json_string(text):
    """apt.conf quotes strings like JSON (no escapes inside): refuse what it cannot hold."""
    if '"' in text or "\n" in text:
        raise TestbedError(f"apt.conf cannot hold {text!r}")
    return f'"{text}"'
