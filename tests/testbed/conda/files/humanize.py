"""A stand-in for humanize @@version@@: its version and `intcomma`."""

__version__ = "@@version@@"


def intcomma(value):
    """1234567 -> '1,234,567'."""
    return f"{int(value):,}"
