"""What a test host is: its name, simulated GPUs, OS profile, sudo profile and options.

A spec is plain data, validated on construction, stored as JSON next to the host so a later
`up` can tell whether a running host is the one asked for.
"""
import re
from dataclasses import asdict, dataclass, field

from .gpu import parse_gpus

OPTIONS = {
    "nouveau": "nouveau is loaded at boot unless /etc/modprobe.d/ blacklists it",
    "secure_boot": "the SecureBoot EFI variable reads 1 (0 otherwise)",
    "full_disk": "/var/cache/apt/archives is a full 2 MiB tmpfs: apt has no room for downloads",
    "r": "Debian's r-base-core is installed (the fixture conda's r-base runs it)",
    "venv": "Debian's python3-venv is installed (gpuhost is installed inside the host, for pull mode)",
    "unattended_upgrades": "the distribution's unattended-upgrades is installed (run by hand: its timers are masked)",
    "archive_kernel": "boots the newest kernel of Debian's archive for its flavour, whose real headers apt can install "
                      "(Debian 12 only)",
}
SUDO_PROFILES = ("nopasswd", "password")


@dataclass(frozen=True)
class OsProfile:
    """How a host presents itself: os-release fields and the kernel release it boots."""
    kernel: str
    codename: str
    version: str = ""
    pretty: str = ""


OS_PROFILES = {
    "debian-12": OsProfile(kernel="6.1.0-40-cloud-amd64", codename="bookworm"),
    "ubuntu-22.04": OsProfile(kernel="5.15.0-1051-gcp", codename="jammy", version="22.04",
                              pretty="Ubuntu 22.04.5 LTS"),
    "ubuntu-24.04": OsProfile(kernel="6.8.0-1015-gcp", codename="noble", version="24.04",
                              pretty="Ubuntu 24.04.3 LTS"),
}
NAME = re.compile(r"^tb([1-9][0-9]?)$")
KERNEL = re.compile(r"^(\d+\.\d+\.\d+-)(\d+)(-[a-z0-9-]+)$")


def successor(release: str) -> str:
    """The kernel a distribution update brings next: the ABI number plus one."""
    match = KERNEL.match(release)
    if not match:
        raise ValueError(f"cannot derive a newer kernel from {release!r}")
    return f"{match.group(1)}{int(match.group(2)) + 1}{match.group(3)}"


@dataclass(frozen=True)
class HostSpec:
    name: str
    gpus: tuple = ("T4",)
    os: str = "debian-12"
    sudo: str = "nopasswd"
    options: tuple = field(default=())

    def __post_init__(self):
        match = NAME.match(self.name)
        if not match or int(match.group(1)) > 89:
            raise ValueError(f"host name {self.name!r}: expected tb1 .. tb89")
        object.__setattr__(self, "gpus", parse_gpus(self.gpus))
        object.__setattr__(self, "options", tuple(sorted(set(self.options))))
        if self.os not in OS_PROFILES:
            raise ValueError(f"os {self.os!r}: expected one of {', '.join(OS_PROFILES)}")
        if self.sudo not in SUDO_PROFILES:
            raise ValueError(f"sudo {self.sudo!r}: expected one of {', '.join(SUDO_PROFILES)}")
        unknown = set(self.options) - set(OPTIONS)
        if unknown:
            raise ValueError(f"unknown host options {sorted(unknown)}: expected {sorted(OPTIONS)}")
        if "archive_kernel" in self.options and self.os != "debian-12":
            raise ValueError(f"host option archive_kernel: Debian's archive has no {self.os} kernels")

    @property
    def index(self) -> int:
        return int(self.name[2:])

    @property
    def address(self) -> str:
        return f"10.77.0.{10 + self.index}"

    @property
    def profile(self) -> OsProfile:
        return OS_PROFILES[self.os]

    def to_dict(self) -> dict:
        return {**asdict(self), "gpus": list(self.gpus), "options": list(self.options)}

    @classmethod
    def from_dict(cls, data: dict) -> "HostSpec":
        return cls(**{**data, "gpus": tuple(data["gpus"]), "options": tuple(data["options"])})


def uniform(count: int, gpus=("T4",), os="debian-12", sudo="nopasswd", options=()) -> list:
    """Specs for tb1..tbN that all look alike (what `invoke testbed.up --hosts N` asks for)."""
    return [HostSpec(f"tb{i}", tuple(gpus), os, sudo, tuple(options)) for i in range(1, count + 1)]
