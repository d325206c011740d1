#!/bin/sh
# The real packages create the daemon's system user; the unit runs it with --user.
set -e
if [ "$1" = configure ] && ! getent passwd nvidia-persistenced >/dev/null; then
    useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin nvidia-persistenced
fi
exit 0
