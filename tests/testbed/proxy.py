"""apt-cacher-ng on the bridge: the hosts' only way to real Debian packages.

Its cache lives under ~/.cache/gpuhost/testbed/apt-cacher-ng/ and survives `testbed.down`,
so packages are downloaded from deb.debian.org once per machine.
"""
import urllib.request

from .system import BRIDGE_IP, cache_dir, daemon_pid, ensure_packages, start_daemon, stop_daemon
from .waiting import wait_for_port

FRESH_FOR = 86400  # seconds a suite's InRelease is served without asking deb.debian.org again
PORT = 3143  # not 3142: a system-wide apt-cacher-ng, if the package started one, keeps that port
NAME = "apt-cacher-ng"


def start(sources) -> None:
    """Start apt-cacher-ng once, then fetch the InRelease of each suite of `sources` (sources.list
    lines) through it, before any host asks.

    apt-cacher-ng 3.7 refreshing its copy of a suite's InRelease while many hosts ran `apt-get
    update` at once failed ("Failure to move file ... out of the way ... File exists") and dropped
    those hosts' connections, on which apt then waited for good. So the refresh happens here, alone,
    and the copy stays fresh for a day (FreshIndexMaxAge): the hosts see the archive as it was when
    the proxy started, and apt fetches the indexes a Release names by hash, so that stays consistent.
    (Passing Release files through uncached instead, DontCache, sends the client's Host header
    beside its own, and an HTTP proxy on the way may answer that with 400.)
    """
    if daemon_pid(NAME):
        return
    ensure_packages({"apt-cacher-ng": "apt-cacher-ng"})
    base = cache_dir() / "apt-cacher-ng"
    for sub in ("conf", "cache", "log"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    # No Remap lines: it proxies the hosts' plain deb.debian.org URLs and caches by URL.
    (base / "conf/acng.conf").write_text(
        f"CacheDir: {base / 'cache'}\nLogDir: {base / 'log'}\n"
        f"SocketPath: {base / 'socket'}\nPort: {PORT}\nBindAddress: {BRIDGE_IP}\n"
        "ForeGround: 1\nExThreshold: 4\nReportPage: acng-report.html\n"
        f"FreshIndexMaxAge: {FRESH_FOR}\n")
    start_daemon(NAME, ["apt-cacher-ng", "-c", base / "conf"])
    wait_for_port(BRIDGE_IP, PORT, timeout=20, what="apt-cacher-ng", alive=lambda: daemon_pid(NAME))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://{BRIDGE_IP}:{PORT}"}))
    for line in sources:
        _, url, suite, *_ = line.split()
        try:
            opener.open(f"{url}/dists/{suite}/InRelease", timeout=120).read()
        except OSError as error:  # the hosts will say what is wrong when they need it
            print(f"testbed: apt-cacher-ng could not fetch {url} {suite}'s InRelease: {error}", flush=True)


def stop() -> None:
    stop_daemon(NAME)
