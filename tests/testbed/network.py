"""The test network: one bridge on the outer side, one network namespace + veth per host.

The bridge address (10.77.0.1) is where the hosts find the apt proxy and the fixture mirror;
there is no route to anywhere else, as on an air-gapped machine.
"""
from pathlib import Path

from .system import BRIDGE, BRIDGE_IP, ensure_packages, run


def namespace(name: str) -> str:
    return f"gpuhost-{name}"


def ensure_bridge() -> None:
    ensure_packages({"ip": "iproute2"})
    if not Path(f"/sys/class/net/{BRIDGE}").exists():
        # a fixed MAC: by default a bridge takes its lowest port's, which changes as hosts come
        # and go and leaves the hosts' neighbour entries for the bridge address stale
        run(["ip", "link", "add", BRIDGE, "address", "02:77:00:00:00:01", "type", "bridge"])
        run(["ip", "addr", "add", f"{BRIDGE_IP}/24", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])


def add_host(name: str, address: str) -> None:
    """Create the host's namespace with eth0 at `address`, plugged into the bridge.

    eth0's MAC follows from the address, so a rebuilt host answers to the bridge's cached
    neighbour entry at once instead of after it expires (tens of seconds).
    """
    ns, outer = namespace(name), f"gh-{name}"
    mac = "02:77:" + ":".join(f"{int(octet):02x}" for octet in address.split("."))
    run(["ip", "netns", "add", ns])
    run(["ip", "link", "add", outer, "type", "veth",
         "peer", "name", "eth0", "address", mac, "netns", ns])
    run(["ip", "link", "set", outer, "master", BRIDGE, "up"])
    run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    run(["ip", "-n", ns, "route", "add", "default", "via", BRIDGE_IP])
    # Docker inside the host forwards between its bridge and eth0
    run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])


def host_names() -> set:
    """The hosts that have a namespace now, whichever checkout made them."""
    prefix = namespace("")
    return {p.name[len(prefix):] for p in Path("/run/netns").glob(f"{prefix}tb*")}


def has_host(name: str) -> bool:
    return Path("/run/netns", namespace(name)).exists()


def remove_host(name: str) -> None:
    """Delete the namespace; its veth pair goes with it (the outer end may linger an instant)."""
    if has_host(name):
        run(["ip", "netns", "del", namespace(name)])
    run(["ip", "link", "del", f"gh-{name}"], check=False)


def remove_bridge() -> None:
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        run(["ip", "link", "del", BRIDGE])
