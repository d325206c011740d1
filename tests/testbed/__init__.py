"""The project's test hosts: Debian 12 systemd-nspawn containers with simulated NVIDIA GPUs,
an apt proxy and the fixture mirror on a bridge (docs/design.md). Entry points: `Testbed`
(Python), `tasks.ns` (`invoke testbed.*`), the `testbed` pytest fixture (tests/conftest.py)."""
from .specs import HostSpec, uniform
from .testbed import Testbed

__all__ = ["HostSpec", "Testbed", "uniform"]
