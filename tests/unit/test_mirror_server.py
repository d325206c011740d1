"""The fixture mirror's web server answers pipelined requests on one connection, as apt sends them."""

import functools
import re
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.testbed.mirror_server import KeepAlive


@pytest.fixture
def serve(tmp_path):
    (tmp_path / "InRelease").write_text("signed\n")
    (tmp_path / "Packages.gz").write_bytes(b"\x1f\x8b packages")

    def start(handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    servers = []
    yield start
    for server in servers:
        server.shutdown()


def pipelined(port, paths):
    """Send every request at once, as apt's http method pipelines them; the status lines that come back."""
    requests = "".join(f"GET /{p} HTTP/1.1\r\nHost: mirror\r\n\r\n" for p in paths)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(requests.encode())
        conn.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return re.findall(r"HTTP/1\.[01] \d{3} [^\r]*", received.decode("latin-1"))


def test_every_pipelined_request_is_answered_on_one_connection(serve):
    port = serve(KeepAlive)
    assert pipelined(port, ["InRelease", "Packages.gz", "missing"]) == [
        "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 File not found"]


def test_pythons_own_file_server_answers_one_and_closes(serve):
    """Why the mirror has a server of its own: the one `python -m http.server` runs drops the rest."""
    port = serve(SimpleHTTPRequestHandler)
    assert pipelined(port, ["InRelease", "Packages.gz"]) == ["HTTP/1.0 200 OK"]
