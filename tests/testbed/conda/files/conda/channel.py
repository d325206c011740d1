"""Channels as conda names them, and their repodata.

`conda-forge` is `https://conda.anaconda.org/conda-forge` (the channel alias); a URL is used as
it is, and its canonical name is the URL itself unless it lies under the alias.

Credentials as conda keeps them (models/channel.py, common/url.py): a URL's `/t/<token>` segment
and user:password@ are taken out of it, and go back in only to fetch; records, output and errors
show the URL without them (conda masks a token as <TOKEN>). `custom_channels` (name: location,
variables expanded) lend their token and user:password to a channel named by that name, or by a
URL under that location and name (conda's step 4: before the channel alias).
"""
import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from .exceptions import CondaHTTPError, UnavailableInvalidChannel

CHANNEL_ALIAS = "https://conda.anaconda.org"
SUBDIRS = ("linux-64", "noarch")
DEFAULTS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")


TOKEN = re.compile(r"/t/([A-Za-z0-9-]*)")  # conda's split_anaconda_token
USERINFO = re.compile(r"^([a-z0-9+.-]+://)([^/@]*)@")


class Channel:
    def __init__(self, value, custom_channels=None):
        value = str(value).rstrip("/")
        head, _, last = value.rpartition("/")
        if head and last in SUBDIRS:
            value = head
        value, self.token, self.auth, self.token_at = split_credentials(value)
        if "://" not in value:
            value = f"{CHANNEL_ALIAS}/{value}"
        self._borrow(value, custom_channels or {})
        self.base_url = value
        under_alias = value.startswith(CHANNEL_ALIAS + "/")
        self.name = value[len(CHANNEL_ALIAS) + 1:] if under_alias else value.split("://", 1)[1].partition("/")[2]
        self.canonical = self.name if under_alias else value

    def _borrow(self, value, custom_channels):
        """The credentials of the custom channel this URL lies under (longest name first)."""
        for name, location in sorted(custom_channels.items(), key=lambda item: -len(item[0])):
            location, token, auth, _ = split_credentials(str(location).rstrip("/"))
            under = f"{location}/{name.strip('/')}"
            if value == under or value.startswith(under + "/") or value == f"{CHANNEL_ALIAS}/{name.strip('/')}":
                self.token, self.auth = self.token or token, self.auth or auth
                self.token_at = len(location) if self.token_at is None else self.token_at
                return

    def url(self, subdir, credentials=False):
        """The subdir's URL; with its credentials only to fetch it."""
        base = self.base_url
        if credentials and self.token is not None:
            at = self.token_at if self.token_at is not None else len(base)
            base = f"{base[:at]}/t/{self.token}{base[at:]}"
        if credentials and self.auth:
            scheme, _, rest = base.partition("://")
            base = f"{scheme}://{self.auth}@{rest}"
        return f"{base}/{subdir}"


def split_credentials(url):
    """(url without them, token or None, user:password or None, where the token stood)."""
    match = TOKEN.search(url)
    token, at = (match[1], match.start()) if match else (None, None)
    if match:
        url = url[:match.start()] + url[match.end():]
    auth = USERINFO.match(url)
    if auth:
        url = auth[1] + url[auth.end():]
        at = None if at is None else at - len(auth[2]) - 1
    return url, token, auth[2] if auth else None, at


def masked(url):
    """A URL as conda shows it in messages: the token as <TOKEN>, no user:password."""
    url = USERINFO.sub(r"\1", url)
    return TOKEN.sub("/t/<TOKEN>", url, count=1)


def expand(values, custom_channels=None):
    """Channels from names and URLs, `defaults` standing for Anaconda's main and r channels."""
    channels = []
    for value in values:
        for one in (DEFAULTS if value == "defaults" else (value,)):
            channel = Channel(one, custom_channels)
            if channel.base_url not in [c.base_url for c in channels]:
                channels.append(channel)
    return channels


def fetch(url, timeout=60):
    """The bytes at an http(s) or file URL (user:password@ sent as HTTP basic authentication); a
    failure is conda's CondaHTTPError, which shows the URL masked."""
    plain, token, auth, at = split_credentials(url)
    if token is not None:
        plain = f"{plain[:at]}/t/{token}{plain[at:]}"
    request = urllib.request.Request(plain)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(urllib.parse.unquote(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise CondaHTTPError(masked(url), f"{error.code} {error.reason.upper()}") from None
    except (urllib.error.URLError, OSError):
        raise CondaHTTPError(masked(url)) from None


def repodata(channel, subdir):
    """The channel's records for one subdir, each with its fn, url and channel filled in (without
    credentials) and the URL it is fetched from (with them)."""
    url = f"{channel.url(subdir, credentials=True)}/repodata.json"
    try:
        data = json.loads(fetch(url))
    except CondaHTTPError as error:
        if "HTTP 404" in str(error):
            raise UnavailableInvalidChannel(channel.canonical, channel.url(subdir), "404 NOT FOUND") from None
        raise
    records = []
    for fn, record in sorted(data.get("packages", {}).items()):
        records.append({**record, "fn": fn, "url": f"{channel.url(subdir)}/{fn}",
                        "fetch_url": f"{channel.url(subdir, credentials=True)}/{fn}",
                        "channel": channel.url(subdir), "subdir": record.get("subdir", subdir)})
    return records
