"""The fixture mirror's web server: Python's file server, speaking HTTP/1.1 with keep-alive as
deb.debian.org and NVIDIA's download servers do.

`python -m http.server` speaks HTTP/1.0 and closes the connection after each file. apt pipelines
several requests on one connection, and against that server Debian 12's apt was seen to hang in
`apt-get update` for good: its http method left the closed connection in CLOSE-WAIT while apt-get
waited for the file it had asked for. Run as `python -m tests.testbed.mirror_server ADDRESS PORT FOLDER`.
"""
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class KeepAlive(SimpleHTTPRequestHandler):
    """Answers each request of a connection in turn, as pipelining expects (every reply of the
    file server carries its Content-Length, so the connection can stay open)."""

    protocol_version = "HTTP/1.1"


def main(address: str, port: str, folder: str) -> None:
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((address, int(port)), functools.partial(KeepAlive, directory=folder))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:])
