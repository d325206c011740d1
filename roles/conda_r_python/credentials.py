"""Credentials in channel URLs and the pip index, kept off command lines and out of readable files.

A channel URL may carry an anaconda.org-style token (`https://host/t/<token>/channel`) or
user:password@, the pip index user:password@. Such a value reaches the process that needs it
through that process's environment, never its arguments:

- root reads the values from CREDENTIALS (mode 0600, readable by root and the account gpuhost
  logs in as, which can become root anyway and must read it to see, in the facts round trip,
  whether it is current) and exports them, as data, never as code, to the conda account's conda
  or pip;
- pip reads its index from `PIP_INDEX_URL`;
- conda gets the channel's URL without its credentials on the command line and in the shared
  .condarc, and CONDARC (world-readable: it names only variables) maps that URL, in
  `custom_channels`, to `${GPUHOST_CONDA_CHANNEL_<n>}`. conda expands variables in
  `custom_channels` and matches a channel URL against them before anything else, taking their
  token and user:password (conda/models/channel.py, `_read_channel_configuration`, step 4).

The conda account's environment is readable by that account, which members of the conda group
can make run their code (the prefix is theirs to write): they can learn these credentials. The
README says so.
"""

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gpuhost.errors import InventoryError
from gpuhost.settings import has_credentials, redact_text

CREDENTIALS = "/etc/gpuhost/conda/credentials"
CONDARC = "/etc/gpuhost/conda/condarc"
VARIABLE = "GPUHOST_CONDA_CHANNEL_"
PIP = "PIP_INDEX_URL"
TOKEN = re.compile(r"/t/([A-Za-z0-9-]+)(?=/|$)")  # the token conda recognises (common/url.py)


@dataclass
class Credentials:
    """The credentials of one host's conda settings: channel locations by name, and pip's index."""

    channels: dict = field(default_factory=dict)  # channel name -> location with its credentials
    pip_index_url: str = ""

    def public(self, url):
        """The URL as commands and the shared .condarc show it: without its credentials."""
        return split(url)[2] if secret(url) else url

    def add(self, url, where):
        if not secret(url):
            return
        location, name, _ = split(url, where)
        if self.channels.setdefault(name, location) != location:
            raise InventoryError(f"{where}: two channels named {name!r} carry different credentials; conda keeps "
                                 "one set per channel name.")

    def variables(self):
        """{variable: value}, in the order CREDENTIALS lists them."""
        values = {f"{VARIABLE}{n}": location for n, (_, location) in enumerate(sorted(self.channels.items()), 1)}
        return {**values, **({PIP: self.pip_index_url} if self.pip_index_url else {})}

    def file(self):
        """CREDENTIALS: `NAME=value` lines, read as data."""
        return "".join(f"{name}={value}\n" for name, value in self.variables().items())

    def condarc(self):
        """CONDARC: each secret channel's name mapped to the variable that holds its location."""
        lines = ["# Written by gpuhost: where conda finds the credentials of these channels (in its environment).",
                 "custom_channels:"]
        lines += [f"  {name}: ${{{VARIABLE}{n}}}" for n, name in enumerate(sorted(self.channels), 1)]
        return "\n".join(lines) + "\n"

    def environment(self, conda=True):
        """Shell words that export the credentials (and, for conda, CONDARC) before a command runs."""
        if not (self.channels or self.pip_index_url):
            return ""
        read = (f"while IFS= read -r l; do case $l in {VARIABLE}*=*|{PIP}=*) export \"$l\";; esac; "
                f"done < {shlex.quote(CREDENTIALS)} && ")
        return read + (f"export CONDARC={shlex.quote(CONDARC)} && " if conda and self.channels else "")


def collect(mine, envs):
    """The credentials of the conda settings: every environment's channels and the pip index."""
    found = Credentials()
    for channel in mine["channels"]:
        found.add(str(channel), "conda_r_python.channels")
    for name, wanted in envs.items():
        for channel in wanted.channels:
            found.add(str(channel), f"conda_r_python.envs.{name}.channels")
    index = mine["pip_index_url"] or ""
    found.pip_index_url = index if secret(index) else ""
    return found


def secret(url):
    """True for an http(s) URL with credentials."""
    return url.startswith(("http://", "https://")) and has_credentials(url)


def split(url, where="conda_r_python.channels"):
    """(location with the credentials, channel name, URL without them) of a channel URL.

    The token's place divides location from name, as conda reads anaconda.org's URLs; without a
    token the location is the scheme, user:password and host, and the name the whole path."""
    parts = urlsplit(url)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    userinfo = parts.netloc[:-len(host)] if parts.netloc.endswith(host) else ""
    token = TOKEN.search(parts.path)
    before, after = (parts.path[:token.start()], parts.path[token.end():]) if token else ("", parts.path)
    name = after.strip("/")
    if not name:
        raise InventoryError(f"{where}: {redact_text(url)} names no channel after its credentials.")
    public = f"{parts.scheme}://{host}{before}/{name}"
    if has_credentials(public):
        raise InventoryError(f"{where}: {redact_text(url)} carries a token conda does not read (letters, digits "
                             "and '-' after /t/).")
    return f"{parts.scheme}://{userinfo}{host}{before}{f'/t/{token[1]}' if token else ''}", name, public
