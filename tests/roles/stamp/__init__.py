"""A role that writes one file and nothing else: for tests of the engine's fleet handling (shards,
merged reports), where what a host runs should not depend on a download."""

from gpuhost.facts import Request
from gpuhost.ops.files import File

NAME = "stamp"
REQUIRES = ()
PATH = "/etc/gpuhost-stamp"


def facts(settings):
    return Request(files={PATH})


def steps(host, settings):
    yield File(PATH, settings["stamp"]["text"] + "\n")
