"""A small role that exercises each kind of operation: a package, a file, a group, a service, a handler.

It installs `cron` from the distribution, writes a message of the day, puts users in a group
and keeps cron running; a changed message restarts cron once.
"""

from gpuhost.facts import Request
from gpuhost.ops.apt import Packages
from gpuhost.ops.files import File
from gpuhost.ops.systemd import Service, restart
from gpuhost.ops.users import GROUPS_PROBE, Member

NAME = "motd"
REQUIRES = ()
MOTD = "/etc/motd.d/gpuhost"


def facts(settings):
    return Request(files={MOTD}, units={"cron.service"}, probes=dict([GROUPS_PROBE]))


def steps(host, settings):
    mine = settings[NAME]
    yield Packages(install={"cron": None}, hold=["cron"] if mine["hold"] else [], starts=["cron.service"])
    yield File(MOTD, mine["message"] + "\n", notify=["restart cron.service"])
    yield Member(mine["group"], mine["users"])
    yield Service("cron.service")
    yield restart("cron.service")
