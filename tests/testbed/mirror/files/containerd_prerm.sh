#!/bin/sh
# What dh_installsystemd adds to containerd's prerm (Debian bookworm containerd 1.6.20~ds1-1+deb12u3).
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ "$1" = remove ] && [ -d /run/systemd/system ] ; then
	deb-systemd-invoke stop 'containerd.service' >/dev/null || true
fi
