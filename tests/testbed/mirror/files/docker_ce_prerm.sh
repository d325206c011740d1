#!/bin/sh
# What dh_installsystemd --name=docker adds to docker-ce's prerm (as in Debian's docker.io).
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	deb-systemd-invoke stop 'docker.service' 'docker.socket' >/dev/null || true
fi
