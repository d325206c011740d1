#!/bin/sh
# What dh_installsystemd --name=docker adds to docker-ce's postrm (as in Debian's docker.io).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "purge" ] && [ -x "/usr/bin/deb-systemd-helper" ]; then
	deb-systemd-helper purge 'docker.service' 'docker.socket' >/dev/null || true
fi
