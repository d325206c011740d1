"""apt-cacher-ng on the bridge: the hosts' only way to real Debian packages.

Its cache lives under ~/.cache/gpuhost/testbed/apt-cacher-ng/ and survives `testbed.down`,
so packages are downloaded from deb.debian.org once per machine.
"""
from .system import BRIDGE_IP, cache_dir, daemon_pid, ensure_packages, start_daemon, stop_daemon
from .waiting import wait_for_port

PORT = 3143  # not 3142: a system-wide apt-cacher-ng, if the package started one, keeps that port
NAME = "apt-cacher-ng"


def start() -> None:
    if daemon_pid(NAME):
        return
    ensure_packages({"apt-cacher-ng": "apt-cacher-ng"})
    base = cache_dir() / "apt-cacher-ng"
    for sub in ("conf", "cache", "log"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    # No Remap lines: it proxies the hosts' plain deb.debian.org URLs and caches by URL. A suite's
    # Release files stay fresh for an hour, longer than a test run: when many hosts ran `apt-get
    # update` at once, apt-cacher-ng 3.7 refreshing its copy of one failed ("Failure to move file
    # ... out of the way ... File exists") and dropped those hosts' connections, on which apt then
    # waited for good. apt fetches the indexes a Release names by hash, so a held Release stays
    # consistent. (Passing Release files through uncached instead, DontCache, sends the client's
    # Host header beside its own, and an HTTP proxy on the way may answer that with 400.)
    (base / "conf/acng.conf").write_text(
        f"CacheDir: {base / 'cache'}\nLogDir: {base / 'log'}\n"
        f"SocketPath: {base / 'socket'}\nPort: {PORT}\nBindAddress: {BRIDGE_IP}\n"
        "ForeGround: 1\nExThreshold: 4\nReportPage: acng-report.html\n"
        "FreshIndexMaxAge: 3600\n")
    start_daemon(NAME, ["apt-cacher-ng", "-c", base / "conf"])
    wait_for_port(BRIDGE_IP, PORT, timeout=20, what="apt-cacher-ng", alive=lambda: daemon_pid(NAME))


def stop() -> None:
    stop_daemon(NAME)
