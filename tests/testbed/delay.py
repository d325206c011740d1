"""A user-space delay line: real round-trip time between the outer side and one host.

This kernel has no netem, so `python3 -m tests.testbed.delay <name> <rtt_ms>` relays the
traffic between the bridge address and the host through two tun devices, holding each packet
rtt/2 in each direction. Host routes steer only 10.77.0.1 <-> host through it (more specific
than the bridge's /24); stopping the process deletes both tuns, and their routes with them.
"""
import fcntl
import heapq
import os
import select
import struct
import sys
import time

from .network import namespace
from .specs import HostSpec
from .system import BRIDGE_IP, STATE, run

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


def ready_file(name: str):
    return STATE / "run" / f"delay-{name}.ready"


def _tun(ifname: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", ifname.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def _plumb(spec: HostSpec, outer: str, inner: str) -> None:
    ns = namespace(spec.name)
    run(["ip", "link", "set", inner, "netns", ns])
    run(["ip", "link", "set", outer, "up"])
    run(["ip", "route", "add", f"{spec.address}/32", "dev", outer, "src", BRIDGE_IP])
    run(["ip", "-n", ns, "link", "set", inner, "up"])
    run(["ip", "-n", ns, "route", "add", f"{BRIDGE_IP}/32", "dev", inner, "src", spec.address])


def relay(fds: dict, hold: float) -> None:
    """Forward packets between the two fds ({fd: other fd}), each `hold` seconds late."""
    queue, seq = [], 0
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select(list(fds), [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            heapq.heappush(queue, (now + hold, seq, fds[fd], os.read(fd, 65536)))
            seq += 1
        while queue and queue[0][0] <= time.monotonic():
            _, _, fd, packet = heapq.heappop(queue)
            os.write(fd, packet)


def main(name: str, rtt_ms: str) -> None:
    from . import hosts
    spec = hosts.spec_of(name)
    outer, inner = f"ghda-{name}", f"ghdb-{name}"
    a, b = _tun(outer), _tun(inner)
    _plumb(spec, outer, inner)
    ready_file(name).touch()
    relay({a: b, b: a}, int(rtt_ms) / 2000)


if __name__ == "__main__":
    main(*sys.argv[1:])
