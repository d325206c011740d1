"""A role that installs one pinned repository key as each keyring listed: the RepositoryKey step alone,
so a test can serve it a key file of its own making."""

from gpuhost.ops.apt import RepositoryKey

NAME = "pinned-key"
REQUIRES = ()


def steps(host, settings):
    mine = settings["pinned_key"]
    for keyring in mine["keyrings"]:
        yield RepositoryKey(mine["url"], mine["fingerprint"], keyring)
