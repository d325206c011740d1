"""Channels as conda names them, and their repodata.

`conda-forge` is `https://conda.anaconda.org/conda-forge` (the channel alias); a URL is used as
it is, and its canonical name is the URL itself unless it lies under the alias.
"""
import json
import urllib.error
import urllib.request

from .exceptions import CondaHTTPError, UnavailableInvalidChannel

CHANNEL_ALIAS = "https://conda.anaconda.org"
SUBDIRS = ("linux-64", "noarch")
DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")


class Channel:
    def __init__(self, value):
        value = str(value).rstrip("/")
        head, _, last = value.rpartition("/")
        if head and last in SUBDIRS:
            value = head
        if "://" not in value:
            value = f"{CHANNEL_ALIAS}/{value}"
        self.base_url = value
        under_alias = value.startswith(CHANNEL_ALIAS + "/")
        self.name = value[len(CHANNEL_ALIAS) + 1:] if under_alias else value.split("://", 1)[1].partition("/")[2]
        self.canonical = self.name if under_alias else value

    def url(self, subdir):
        return f"{self.base_url}/{subdir}"


def expand(values):
    """Channels from names and URLs, `defaults` standing for Anaconda's main and r channels."""
    channels = []
    for value in values:
        for one in (DEFAULTS if value == "defaults" else (value,)):
            channel = Channel(one)
            if channel.base_url not in [c.base_url for c in channels]:
                channels.append(channel)
    return channels


def fetch(url, timeout=60):
    """The bytes at an http(s) or file URL; a failure is conda's CondaHTTPError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise CondaHTTPError(url, f"{error.code} {error.reason.upper()}") from None
    except (urllib.error.URLError, OSError):
        raise CondaHTTPError(url) from None


def repodata(channel, subdir):
    """The channel's records for one subdir, each with its fn, url and channel filled in."""
    url = f"{channel.url(subdir)}/repodata.json"
    try:
        data = json.loads(fetch(url))
    except CondaHTTPError as error:
        if "HTTP 404" in str(error):
            raise UnavailableInvalidChannel(channel.canonical, channel.url(subdir), "404 NOT FOUND") from None
        raise
    records = []
    for fn, record in sorted(data.get("packages", {}).items()):
        records.append({**record, "fn": fn, "url": f"{channel.url(subdir)}/{fn}",
                        "channel": channel.url(subdir), "subdir": record.get("subdir", subdir)})
    return records
