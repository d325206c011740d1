#!/bin/sh
# What dh_installsystemd adds to containerd's postrm (Debian bookworm containerd 1.6.20~ds1-1+deb12u3).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "purge" ] && [ -x "/usr/bin/deb-systemd-helper" ]; then
	deb-systemd-helper purge 'containerd.service' >/dev/null || true
fi
