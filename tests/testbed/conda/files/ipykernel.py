"""A stand-in for ipykernel @@version@@: its version, for environments that register a kernel."""

__version__ = "@@version@@"
version_info = tuple(int(part) for part in __version__.split("."))
